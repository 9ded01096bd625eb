//! The token endpoint (RFC 6749 §3.2): client authentication, then the grant type.

use std::collections::HashMap;

use serde::Serialize;

use protocol::oidc::client_auth::Presented;
use protocol::oidc::{OidcError, ACCESS_TOKEN_SECS};

use super::client_auth;
use super::grant_types::{authorization_code, client_credentials, refresh_token, TokenRequest};
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

impl TokenResponse {
    /// A bearer access token valid for [`ACCESS_TOKEN_SECS`], with what else the grant gives.
    pub fn bearer(
        access_token: String,
        scope: String,
        id_token: Option<String>,
        refresh_token: Option<String>,
    ) -> Self {
        Self {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECS,
            scope,
            id_token,
            refresh_token,
        }
    }
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
    let grant: fn(&TokenRequest<'_>) -> Result<TokenResponse, OidcError> =
        match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => authorization_code::exchange,
            Some("refresh_token") => refresh_token::refresh,
            Some("client_credentials") => client_credentials::issue,
            Some(_) => return Err((OidcError::UnsupportedGrantType, basic)),
            None => {
                return Err((
                    OidcError::InvalidRequest("grant_type is missing".into()),
                    basic,
                ))
            }
        };
    let client = rp.oidc().ok_or((OidcError::ServerError, basic))?;
    let req = TokenRequest {
        state,
        rp: &rp,
        client,
        form,
        now,
    };
    grant(&req).map_err(|e| (e, basic))
}
