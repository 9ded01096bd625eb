//! The token endpoint (RFC 6749 §3.2): client authentication, then the grant type.

use std::collections::HashMap;

use serde::Serialize;

use protocol::oidc::client_auth::Presented;
use protocol::oidc::OidcError;

use super::client_auth;
use super::grant_types;
use crate::app::AppState;

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Handle a token request: the form and the `Authorization` header.
pub fn token(
    state: &AppState,
    form: &HashMap<String, String>,
    authorization: Option<&str>,
    now: i64,
) -> Result<TokenResponse, (OidcError, bool)> {
    let presented = Presented::from_request(authorization, form).map_err(|e| (e, true))?;
    let basic = presented.used_basic();
    let rp = client_auth::authenticate(state, &presented, now).map_err(|e| (e, basic))?;
    let result = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            grant_types::authorization_code::exchange(state, &rp, form, now)
        }
        Some("refresh_token") => grant_types::refresh_token::refresh(state, &rp, form, now),
        Some("client_credentials") => grant_types::client_credentials::issue(state, &rp, form, now),
        Some(_) => Err(OidcError::UnsupportedGrantType),
        None => Err(OidcError::InvalidRequest("grant_type is missing".into())),
    };
    result.map_err(|e| (e, basic))
}
