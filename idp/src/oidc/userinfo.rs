//! The UserInfo endpoint (OIDC Core §5.3), GET and POST, with the access token in the
//! `Authorization` header or (POST) the form body (RFC 6750 §2.1–2.2).
//!
//! The claims are those released when the tokens were issued; the school's consent is checked
//! again at every call, so a school that withdraws its permission stops the flow of data at
//! once.

use serde_json::Value;

use protocol::oidc::OidcError;

use super::{directory_failed, load_grant, tokens};
use crate::app::AppState;

/// The claims for the holder of `token`.
pub fn userinfo(state: &AppState, token: &str, now: i64) -> Result<Value, OidcError> {
    let at = tokens::access_token_claims(state, token, now)?;
    let gid = at["gid"]
        .as_str()
        .ok_or_else(|| OidcError::InvalidToken("not a user token".into()))?;
    let grant = load_grant(state.store.as_ref(), gid)?
        .ok_or_else(|| OidcError::InvalidToken("the token was revoked".into()))?;
    if !grant
        .user_id
        .is_none_or(|u| crate::session::user_stands(state, u, grant.auth_time))
    {
        return Err(OidcError::InvalidToken(
            "the user's account is disabled".into(),
        ));
    }
    let (Some(school), Some(claims)) = (grant.school, grant.claims) else {
        return Err(OidcError::InvalidToken("a client token has no user".into()));
    };
    let rp = state
        .dir
        .relying_party_by_public_id(&grant.client_id)
        .map_err(directory_failed)?
        .filter(|rp| rp.enabled)
        .ok_or_else(|| OidcError::InvalidToken("the client is gone".into()))?;
    let registration = state
        .dir
        .registration(&school, rp.id)
        .map_err(directory_failed)?;
    broker::release::consent_holds(&rp, registration.as_ref(), grant.context)
        .map_err(|d| OidcError::InvalidToken(d.to_string()))?;
    if at["sub"].as_str() != Some(claims.sub.as_str()) {
        return Err(OidcError::InvalidToken(
            "the token does not belong to this user".into(),
        ));
    }
    Ok(Value::Object(claims.to_json_map()))
}
