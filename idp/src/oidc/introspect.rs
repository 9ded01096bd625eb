//! Token introspection (RFC 7662) for publishers' resource servers. A client may introspect
//! only tokens issued to itself, so one publisher cannot learn another's pseudonyms.

use serde_json::{json, Value};

use protocol::oidc::OidcError;

use super::{load_grant, tokens};
use crate::app::AppState;
use broker::model::RelyingParty;

/// Introspect an access or refresh token on behalf of `caller`.
pub fn introspect(
    state: &AppState,
    caller: &RelyingParty,
    token: &str,
    now: i64,
) -> Result<Value, OidcError> {
    let inactive = json!({"active": false});
    if let Ok(at) = tokens::access_token_claims(state, token, now) {
        let Some(gid) = at["gid"].as_str() else {
            return Ok(inactive);
        };
        let Some(grant) = load_grant(state.store.as_ref(), gid)? else {
            return Ok(inactive);
        };
        if grant.client_id != caller.public_id() || !stands(state, &grant) {
            return Ok(inactive);
        }
        let mut out = json!({
            "active": true,
            "token_type": "Bearer",
            "client_id": grant.client_id,
            "scope": at["scope"],
            "sub": at["sub"],
            "aud": at["aud"],
            "iss": at["iss"],
            "iat": at["iat"],
            "exp": at["exp"],
            "jti": at["jti"],
        });
        for k in [
            "instelling_ref",
            "brin6",
            "role",
            "login_context",
            "auth_time",
            "acr",
        ] {
            if !at[k].is_null() {
                out[k] = at[k].clone();
            }
        }
        return Ok(out);
    }
    if let Some((gid, secret)) = token.split_once('.') {
        if let Some(grant) = load_grant(state.store.as_ref(), gid)? {
            let hash = tokens::refresh_hash(secret);
            if grant.client_id == caller.public_id()
                && grant.refresh_hash.as_deref() == Some(hash.as_str())
                && stands(state, &grant)
            {
                return Ok(json!({
                    "active": true,
                    "token_type": "refresh_token",
                    "client_id": grant.client_id,
                    "scope": grant.scope,
                    "exp": grant.expires_at,
                    "iss": state.config.issuer,
                }));
            }
        }
    }
    Ok(inactive)
}

/// An offboarded user's tokens are inactive.
fn stands(state: &AppState, grant: &super::Grant) -> bool {
    grant
        .user_id
        .is_none_or(|u| crate::session::user_stands(state, u, grant.auth_time))
}
