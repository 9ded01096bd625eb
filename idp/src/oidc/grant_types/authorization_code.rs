//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636). Codes are single-use and
//! bound to client, redirect URI and PKCE challenge; a code presented twice revokes everything
//! issued from it (RFC 6749 §4.1.2).

use broker::keyspace::Key;
use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use broker::model::RelyingParty;
use subtle::ConstantTimeEq;

use super::TokenRequest;
use crate::app::AppState;
use crate::oidc::token::TokenResponse;
use crate::oidc::tokens;
use crate::oidc::{revoke_grant, save_grant, store_failed, CodeGrant, Grant};
use crate::session;
use protocol::oidc::claims::IdTokenContext;
use protocol::oidc::{OidcError, OFFLINE_REFRESH_SECS, REFRESH_SECS};

/// How long a redeemed code is remembered, to recognise its reuse.
const USED_CODE_SECS: u64 = 600;

/// Exchange a code for tokens.
pub fn exchange(req: &TokenRequest<'_>) -> Result<TokenResponse, OidcError> {
    let TokenRequest {
        state,
        rp,
        client,
        form,
        now,
    } = *req;
    let code = req.required("code")?;
    let grant = take_code(state, &client.client_id, code)?;
    check_redirect_and_pkce(form, &grant)?;

    let claims = tokens::claims_for(
        state,
        rp,
        grant.user_id,
        &grant.school,
        grant.context,
        &grant.scope,
        &grant.requested_claims,
    )
    .map_err(|e| match e.into_oidc() {
        OidcError::AccessDenied(why) => OidcError::invalid_grant(&why),
        other => other,
    })?;
    let gid = broker::secrets::random_token().map_err(|_| OidcError::ServerError)?;
    let scope = allowed_scope(rp, &grant.scope);
    let offline = protocol::oidc::is_offline(&scope);
    let (refresh, refresh_hash) = tokens::refresh_token(&gid)?;
    let (access, id_token) = req.user_tokens(
        &claims,
        &scope,
        &gid,
        IdTokenContext {
            nonce: grant.nonce.as_deref(),
            auth_time: grant.auth_time,
            acr: &grant.acr,
            amr: &grant.amr,
            sid: Some(&session::public_sid(&grant.sid)),
            access_token: None,
        },
    )?;
    let record = Grant {
        id: gid.clone(),
        client_id: client.client_id.clone(),
        user_id: Some(grant.user_id),
        school: Some(grant.school),
        sid: Some(grant.sid.clone()),
        scope: scope.clone(),
        auth_time: grant.auth_time,
        amr: grant.amr.clone(),
        acr: grant.acr.clone(),
        context: grant.context,
        requested_claims: grant.requested_claims.clone(),
        refresh_hash: Some(refresh_hash),
        expires_at: now
            + if offline {
                OFFLINE_REFRESH_SECS
            } else {
                REFRESH_SECS
            },
        offline,
        claims: Some(claims.clone()),
    };
    save_grant(state.store.as_ref(), &record, now)?;
    state
        .store
        .put(
            &Key::CodeUsed(code),
            gid.as_bytes(),
            Duration::from_secs(USED_CODE_SECS),
        )
        .map_err(store_failed)?;
    // Without `offline_access` the grant ends with the session (`load_grant` asks whether
    // it was ended), so the session itself is neither read nor written here.
    Ok(TokenResponse::bearer(
        access,
        scope,
        Some(id_token),
        Some(refresh),
    ))
}

/// Take the single-use code for `client_id`. A code used before revokes everything issued
/// from it (RFC 6749 §4.1.2); a code of another client, or of a user offboarded since, is void.
fn take_code(state: &AppState, client_id: &str, code: &str) -> Result<CodeGrant, OidcError> {
    let Some(bytes) = state.store.take(&Key::Code(code)).map_err(store_failed)? else {
        if let Some(gid) = state
            .store
            .get(&Key::CodeUsed(code))
            .map_err(store_failed)?
        {
            let gid = String::from_utf8_lossy(&gid).to_string();
            revoke_grant(state.store.as_ref(), &gid)?;
            tracing::warn!(client = %client_id, "authorization code reused; its grant is revoked");
            return Err(OidcError::invalid_grant(
                "the code was already used; everything issued from it is revoked",
            ));
        }
        return Err(OidcError::invalid_grant(
            "the code is unknown or has expired",
        ));
    };
    let grant: CodeGrant = serde_json::from_slice(&bytes).map_err(|_| OidcError::ServerError)?;
    if grant.client_id != client_id {
        return Err(OidcError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    // An offboarded user's codes are void, on every node (read from the database).
    if !session::user_stands(state, grant.user_id, grant.auth_time) {
        return Err(OidcError::invalid_grant(
            "the user's account is disabled or the sign-in was revoked",
        ));
    }
    Ok(grant)
}

/// The token request names the authorization request's `redirect_uri`, and its
/// `code_verifier` matches the `code_challenge` (PKCE S256) when there was one.
fn check_redirect_and_pkce(
    form: &HashMap<String, String>,
    grant: &CodeGrant,
) -> Result<(), OidcError> {
    match form.get("redirect_uri") {
        Some(r) if *r == grant.redirect_uri => {}
        Some(_) => {
            return Err(OidcError::invalid_grant(
                "redirect_uri differs from the authorization request",
            ))
        }
        None => return Err(OidcError::InvalidRequest("redirect_uri is missing".into())),
    }
    match (&grant.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            if !(43..=128).contains(&verifier.len())
                || !verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            {
                return Err(OidcError::invalid_grant("code_verifier is malformed"));
            }
            let computed = URL_SAFE_NO_PAD
                .encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref());
            if !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                return Err(OidcError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => return Err(OidcError::invalid_grant("code_verifier is missing")),
        (None, Some(_)) => {
            return Err(OidcError::invalid_grant(
                "no code_challenge was sent for this code",
            ))
        }
        (None, None) => {}
    }
    Ok(())
}

/// The granted scope: `offline_access` only for a relying party the operator allowed it;
/// otherwise the scope is ignored (OIDC Core §11) and the refresh token ends with the session.
fn allowed_scope(rp: &RelyingParty, scope: &str) -> String {
    if rp.offline_access {
        scope.to_string()
    } else {
        scope
            .split_ascii_whitespace()
            .filter(|s| *s != "offline_access")
            .collect::<Vec<_>>()
            .join(" ")
    }
}
