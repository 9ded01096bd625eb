//! `grant_type=client_credentials` (RFC 6749 §4.4): a publisher's back end calls Leerpoort's
//! APIs as itself. Confidential clients only; no user, no ID token, no refresh token.

use claims::LoginContext;

use super::TokenRequest;
use crate::oidc::token::TokenResponse;
use crate::oidc::{save_grant, tokens, Grant};
use protocol::oidc::{OidcError, ACCESS_TOKEN_SECS};

/// The licence API (`/api/licenties/v1/...`): a publisher's titles and who holds them.
pub const LICENCE_SCOPE: &str = "licenties";

/// The school-data API (`/api/schooldata/v1/...`): the schools that registered the caller and
/// what they release to it.
pub const SCHOOLDATA_SCOPE: &str = "schooldata";

/// OneRoster 1.2 rostering, read (`/ims/oneroster/rostering/v1p2/...`): the core scope and the
/// full one (demographics are not served).
pub const ONEROSTER_CORE_SCOPE: &str =
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly";
pub const ONEROSTER_SCOPE: &str = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly";

/// Scopes a publisher's or network environment's client may ask for itself.
pub const CLIENT_SCOPES: &[&str] = &[
    LICENCE_SCOPE,
    SCHOOLDATA_SCOPE,
    ONEROSTER_CORE_SCOPE,
    ONEROSTER_SCOPE,
];

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
    // RFC 6749 §3.3: grant what is served of what was asked, and name it in the answer; a
    // request none of whose scopes is served is refused.
    let asked: Vec<&str> = scope.split_ascii_whitespace().collect();
    let mut granted: Vec<&str> = Vec::new();
    for s in &asked {
        if allowed.contains(s) && !granted.contains(s) {
            granted.push(s);
        }
    }
    if !asked.is_empty() && granted.is_empty() {
        return Err(OidcError::InvalidScope(format!(
            "none of the scopes {scope} is available to this client"
        )));
    }
    let scope = granted.join(" ");
    let scope = scope.as_str();
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
        client,
        &client.client_id,
        scope,
        &gid,
        None,
        None,
        now,
    )?;
    Ok(TokenResponse::bearer(access, scope.to_string(), None, None))
}
