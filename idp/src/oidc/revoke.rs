//! Token revocation (RFC 7009). Revoking an access or refresh token revokes the grant it
//! belongs to, and with it every token issued from the same authorization. The answer is 200
//! whether or not the token was valid (§2.2).

use protocol::oidc::OidcError;

use super::{load_grant, revoke_grant, tokens};
use crate::app::AppState;
use broker::model::RelyingParty;

/// Revoke `token` if `caller` owns it.
pub fn revoke(
    state: &AppState,
    caller: &RelyingParty,
    token: &str,
    now: i64,
) -> Result<(), OidcError> {
    let gid = match tokens::access_token_claims(state, token, now) {
        Ok(at) => at["gid"].as_str().map(str::to_string),
        Err(_) => token.split_once('.').map(|(g, _)| g.to_string()),
    };
    if let Some(gid) = gid {
        if let Some(grant) = load_grant(state.store.as_ref(), &gid)? {
            if grant.client_id == caller.public_id() {
                tokens::forget_access_token(state, token)?;
                revoke_grant(state.store.as_ref(), &gid)?;
            }
        }
    }
    Ok(())
}
