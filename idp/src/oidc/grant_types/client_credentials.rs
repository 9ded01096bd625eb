//! `grant_type=client_credentials` (RFC 6749 §4.4): a publisher's back end calls Leerpoort's
//! APIs as itself. Confidential clients only; no user, no ID token, no refresh token.

use claims::LoginContext;

use super::TokenRequest;
use crate::oidc::token::TokenResponse;
use crate::oidc::{save_grant, tokens, Grant};
use protocol::oidc::{OidcError, ACCESS_TOKEN_SECS};

/// Scopes a publisher's or network environment's client may ask for itself (the
/// provisioning and licence APIs use these).
pub const CLIENT_SCOPES: &[&str] = &["licenties", "provisioning"];

/// The scope of an LAS's client: the LAS API (`/api/las/v1/...`), and nothing else.
pub const LAS_SCOPE: &str = "las";

/// Issue an access token to the client itself.
pub fn issue(req: &TokenRequest<'_>) -> Result<TokenResponse, OidcError> {
    let TokenRequest {
        state,
        rp,
        client,
        form,
        now,
    } = *req;
    if client.is_public() {
        return Err(OidcError::UnauthorizedClient(
            "public clients cannot use client_credentials".into(),
        ));
    }
    let scope = form.get("scope").map(String::as_str).unwrap_or("");
    let allowed: &[&str] = if rp.kind == broker::model::RpKind::Las {
        &[LAS_SCOPE]
    } else {
        CLIENT_SCOPES
    };
    for s in scope.split_ascii_whitespace() {
        if !allowed.contains(&s) {
            return Err(OidcError::InvalidScope(format!(
                "scope {s} is not available to clients"
            )));
        }
    }
    let gid = broker::secrets::random_token().map_err(|_| OidcError::ServerError)?;
    let grant = Grant {
        id: gid.clone(),
        client_id: client.client_id.clone(),
        user_id: None,
        school: None,
        sid: None,
        scope: scope.to_string(),
        auth_time: now,
        amr: Vec::new(),
        acr: String::new(),
        context: LoginContext::School,
        requested_claims: Vec::new(),
        refresh_hash: None,
        expires_at: now + ACCESS_TOKEN_SECS,
        offline: false,
        claims: None,
    };
    save_grant(state.store.as_ref(), &grant, now)?;
    let access = tokens::access_token(
        state,
        &client.client_id,
        &client.client_id,
        scope,
        &gid,
        None,
        None,
        now,
    )?;
    Ok(TokenResponse::bearer(access, scope.to_string(), None, None))
}
