//! Client authentication at the token, revocation and introspection endpoints:
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523, the client's
//! JWKS inline or fetched from its `jwks_uri` and cached), and `none` for public clients.
//! What was presented and the assertion's checks are `protocol::oidc::client_auth`'s; here
//! the client is found, its secret checked, its keys fetched and an assertion's `jti`
//! remembered.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use broker::keyspace::Key;
use broker::model::RelyingParty;
use broker::secrets::verify_client_secret;
use parking_lot::Mutex;
use protocol::oidc::client_auth::{
    assertion_issuer, pick_key, verify_assertion, Method, Presented,
};
use protocol::oidc::{paths, OidcError};

use super::{directory_failed, store_failed};
use crate::app::AppState;

fn invalid(why: &str) -> OidcError {
    OidcError::invalid_client(why)
}

/// Authenticate the client. Exactly one method may be used.
pub fn authenticate(state: &AppState, p: &Presented, now: i64) -> Result<RelyingParty, OidcError> {
    match p.method()? {
        Method::Secret { client_id, secret } => {
            let rp = find(state, client_id)?;
            check_secret(&rp, secret).map(|()| rp)
        }
        Method::Assertion {
            client_id,
            assertion,
        } => private_key_jwt(state, client_id, assertion, now),
        // `none`: public clients only.
        Method::None { client_id } => {
            let rp = find(state, client_id)?;
            match rp.oidc() {
                Some(c) if c.is_public() => Ok(rp),
                _ => Err(invalid("this client must authenticate")),
            }
        }
    }
}

fn find(state: &AppState, id: &str) -> Result<RelyingParty, OidcError> {
    match state
        .dir
        .relying_party_by_public_id(id)
        .map_err(directory_failed)?
    {
        Some(rp) if rp.enabled && rp.oidc().is_some() => Ok(rp),
        _ => Err(invalid("unknown client")),
    }
}

fn check_secret(rp: &RelyingParty, secret: &str) -> Result<(), OidcError> {
    let stored = rp.oidc().and_then(|c| c.client_secret_hash.as_deref());
    match stored {
        Some(h) if verify_client_secret(h, secret) => Ok(()),
        _ => Err(invalid("wrong client credentials")),
    }
}

/// RFC 7523 §3: `iss` = `sub` = client id, `aud` = the token endpoint or the issuer, not expired,
/// `jti` used once.
fn private_key_jwt(
    state: &AppState,
    client_id: Option<&str>,
    assertion: &str,
    now: i64,
) -> Result<RelyingParty, OidcError> {
    let (header, iss) = assertion_issuer(assertion, client_id)?;
    let iss = iss.as_str();
    let rp = find(state, iss)?;
    let client = rp.oidc().ok_or_else(|| invalid("unknown client"))?;
    if client.jwks.is_none() && client.jwks_uri.is_none() {
        return Err(invalid("this client has no registered keys"));
    }
    let key = client_key(
        client.jwks.as_deref(),
        client.jwks_uri.as_deref(),
        header.kid.as_deref(),
        header.alg,
        now,
    )?;
    let token_endpoint = format!("{}{}", state.config.issuer, paths::TOKEN);
    let audiences = [token_endpoint.as_str(), state.config.issuer.as_str()];
    let verified = verify_assertion(assertion, &key, header.alg, iss, &audiences, now)?;
    let (exp, jti) = (verified.exp, verified.jti);
    let fresh = state
        .store
        .put_if_absent(
            &Key::ClientAssertionJti {
                client: iss,
                jti: &jti,
            },
            b"1",
            Duration::from_secs((exp - now + 60).max(60) as u64),
        )
        .map_err(store_failed)?;
    if !fresh {
        return Err(invalid("the client assertion was used before"));
    }
    Ok(rp)
}

/// A client's verification key by `kid` (or the only key of a fitting type).
fn client_key(
    jwks_inline: Option<&str>,
    jwks_uri: Option<&str>,
    kid: Option<&str>,
    alg: jsonwebtoken::Algorithm,
    now: i64,
) -> Result<jsonwebtoken::DecodingKey, OidcError> {
    let pick = |set: &jsonwebtoken::jwk::JwkSet| pick_key(set, kid, alg);
    if let Some(inline) = jwks_inline {
        let set: jsonwebtoken::jwk::JwkSet =
            serde_json::from_str(inline).map_err(|_| invalid("the client's JWKS is malformed"))?;
        return pick(&set).ok_or_else(|| invalid("no matching client key"));
    }
    let uri = jwks_uri.ok_or_else(|| invalid("no client keys"))?;
    if let Some(set) = cached(uri, false, now) {
        if let Some(k) = pick(&set) {
            return Ok(k);
        }
    }
    // Unknown kid: fetch again (rate-limited), then give up.
    let set = cached(uri, true, now)
        .ok_or_else(|| invalid("the client's jwks_uri could not be fetched"))?;
    pick(&set).ok_or_else(|| invalid("no matching client key"))
}

struct CacheEntry {
    set: jsonwebtoken::jwk::JwkSet,
    /// When it was fetched (seconds, from the injected clock).
    fetched: i64,
}

fn cache() -> &'static Mutex<HashMap<String, CacheEntry>> {
    static CACHE: OnceLock<Mutex<HashMap<String, CacheEntry>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The JWKS at `uri`, cached for five minutes; `refresh` fetches again unless the last fetch
/// was less than ten seconds ago.
fn cached(uri: &str, refresh: bool, now: i64) -> Option<jsonwebtoken::jwk::JwkSet> {
    {
        let c = cache().lock();
        if let Some(e) = c.get(uri) {
            let age = now - e.fetched;
            // A clock that went back (another test's, a node's correction) counts as stale.
            if (!refresh && (0..300).contains(&age)) || (0..10).contains(&age) {
                return Some(e.set.clone());
            }
        }
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ok()?;
    let resp = client.get(uri).send().ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let bytes = resp.bytes().ok()?;
    if bytes.len() > 256 * 1024 {
        return None;
    }
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&bytes).ok()?;
    cache().lock().insert(
        uri.to_string(),
        CacheEntry {
            set: set.clone(),
            fetched: now,
        },
    );
    Some(set)
}
