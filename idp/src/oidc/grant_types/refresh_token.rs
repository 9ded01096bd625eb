//! `grant_type=refresh_token` (RFC 6749 §6) with rotation and reuse detection (RFC 9700
//! §4.14.2): every refresh token is single-use; presenting a used one revokes the grant.
//! Tokens are bound to the client they were issued to. A refresh re-asks the school: a
//! de-registered relying party gets nothing more, and an offboarded user (`user disable`,
//! `user remove`) neither.

use broker::keyspace::Key;
use std::time::Duration;

use super::TokenRequest;
use crate::oidc::token::TokenResponse;
use crate::oidc::tokens;
use crate::oidc::{load_grant, revoke_grant, save_grant, store_failed};
use crate::session;
use protocol::oidc::claims::IdTokenContext;
use protocol::oidc::{has_scope, OidcError};

/// Rotate a refresh token.
pub fn refresh(req: &TokenRequest<'_>) -> Result<TokenResponse, OidcError> {
    let (state, client, now) = (req.state, req.client, req.now);
    let token = req.required("refresh_token")?;
    let (gid, secret) = token
        .split_once('.')
        .ok_or_else(|| OidcError::invalid_grant("the refresh token is malformed"))?;
    let hash = tokens::refresh_hash(secret);
    let mut grant = load_grant(state.store.as_ref(), gid)?.ok_or_else(|| {
        OidcError::invalid_grant("the refresh token is unknown, expired or revoked")
    })?;
    if grant.client_id != client.client_id {
        return Err(OidcError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    let first_use = state
        .store
        .put_if_absent(
            &Key::RefreshUsed(&hash),
            b"1",
            Duration::from_secs((grant.expires_at - now).max(1) as u64),
        )
        .map_err(store_failed)?;
    if !first_use || grant.refresh_hash.as_deref() != Some(hash.as_str()) {
        revoke_grant(state.store.as_ref(), gid)?;
        tracing::warn!(client = %client.client_id, "refresh token reused; its grant is revoked");
        return Err(OidcError::invalid_grant(
            "the refresh token was already used; the grant is revoked",
        ));
    }
    // An offboarded user's refresh tokens, offline ones too, are void on every node.
    if !grant
        .user_id
        .is_none_or(|u| session::user_stands(state, u, grant.auth_time))
    {
        revoke_grant(state.store.as_ref(), gid)?;
        return Err(OidcError::invalid_grant(
            "the user's account is disabled or the sign-in was revoked",
        ));
    }
    if !grant.offline {
        let alive = match &grant.sid {
            Some(sid) => session::load(state.store.as_ref(), sid, now)
                .map_err(store_failed)?
                .is_some(),
            None => false,
        };
        if !alive {
            revoke_grant(state.store.as_ref(), gid)?;
            return Err(OidcError::invalid_grant("the session ended"));
        }
    }
    let scope = match req.form.get("scope").filter(|s| !s.is_empty()) {
        Some(asked) => {
            if !asked
                .split_ascii_whitespace()
                .all(|s| has_scope(&grant.scope, s))
            {
                return Err(OidcError::InvalidScope(
                    "a refresh cannot widen the scope".into(),
                ));
            }
            asked.clone()
        }
        None => grant.scope.clone(),
    };
    let (user, school) = match (grant.user_id, grant.school) {
        (Some(u), Some(s)) => (u, s),
        _ => return Err(OidcError::invalid_grant("this grant has no user")),
    };
    let claims = match tokens::claims_for(
        state,
        req.rp,
        user,
        &school,
        grant.context,
        &scope,
        &grant.requested_claims,
    )
    .map_err(tokens::NotReleased::into_oidc)
    {
        Ok(c) => c,
        Err(e @ OidcError::AccessDenied(_)) => {
            revoke_grant(state.store.as_ref(), gid)?;
            return Err(OidcError::invalid_grant(
                &e.description().unwrap_or_default(),
            ));
        }
        Err(e) => return Err(e),
    };
    let (new_refresh, new_hash) = tokens::refresh_token(gid)?;
    grant.refresh_hash = Some(new_hash);
    grant.claims = Some(claims.clone());
    save_grant(state.store.as_ref(), &grant, now)?;
    let (access, id_token) = req.user_tokens(
        &claims,
        &scope,
        gid,
        IdTokenContext {
            nonce: None,
            auth_time: grant.auth_time,
            acr: &grant.acr,
            amr: &grant.amr,
            sid: grant.sid.as_deref().map(session::public_sid).as_deref(),
            access_token: None,
        },
    )?;
    Ok(TokenResponse::bearer(
        access,
        scope,
        Some(id_token),
        Some(new_refresh),
    ))
}
