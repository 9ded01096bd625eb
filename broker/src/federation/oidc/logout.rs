//! Logging out with an OIDC upstream: its back-channel logout tokens (OpenID Connect
//! Back-Channel Logout 1.0) — the limits, the checks, the sessions they end — and the URL of
//! the upstream's own logout (RP-Initiated Logout 1.0).

use std::time::Duration;

use serde_json::Value;

use super::{
    login::link_of, payload, Client, Discovery, UpstreamOidcError, BACKCHANNEL_PER_UPSTREAM,
    BACKCHANNEL_REFUSED_PER_ADDRESS, BACKCHANNEL_WINDOW, SIGNED_OUT_PATH, SKEW_SECS,
};
use crate::federation::links::{linked_sessions, UpstreamLink};
use crate::keyspace::{Key, Limit};
use crate::model::{Upstream, UpstreamProtocol};
use crate::repo::Directory;
use crate::session::SessionUpstream;
use crate::store::EphemeralStore;

/// The event a logout token carries (OpenID Connect Back-Channel Logout 1.0 §2.4).
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

fn bad(m: &str) -> UpstreamOidcError {
    UpstreamOidcError::IdToken(format!("logout token: {m}"))
}

/// May the address `ip` send a logout token now? Not after more than
/// [`BACKCHANNEL_REFUSED_PER_ADDRESS`] refused ones in the window.
pub fn admit(store: &dyn EphemeralStore, ip: Option<&str>) -> Result<(), UpstreamOidcError> {
    if let Some(ip) = ip {
        let refused = store
            .count(
                &Key::Limit(Limit::UpstreamBackchannelRefused(ip)),
                BACKCHANNEL_WINDOW,
            )
            .map_err(|_| UpstreamOidcError::Unavailable)?;
        if refused >= BACKCHANNEL_REFUSED_PER_ADDRESS {
            return Err(UpstreamOidcError::RateLimited);
        }
    }
    Ok(())
}

/// Count a refused logout token against the address that sent it (not when the refusal was
/// the limit's or the service's own).
pub fn count_refusal(store: &dyn EphemeralStore, ip: Option<&str>, e: &UpstreamOidcError) {
    if let Some(ip) = ip {
        if !matches!(
            e,
            UpstreamOidcError::RateLimited | UpstreamOidcError::Unavailable
        ) {
            let _ = store.incr(
                &Key::Limit(Limit::UpstreamBackchannelRefused(ip)),
                BACKCHANNEL_WINDOW,
            );
        }
    }
}

/// The enabled OIDC upstream the (still unverified) `logout_token` names as its issuer, if
/// it has not sent more than [`BACKCHANNEL_PER_UPSTREAM`] tokens in the window; and the
/// token's header, of an algorithm Leerpoort accepts.
pub fn sender(
    dir: &dyn Directory,
    store: &dyn EphemeralStore,
    logout_token: &str,
) -> Result<(Upstream, jsonwebtoken::Header), UpstreamOidcError> {
    let unverified = payload(logout_token);
    let iss = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no iss"))?;
    let u = dir
        .upstreams()
        .map_err(|_| UpstreamOidcError::Unavailable)?
        .into_iter()
        .find(|u| {
            u.enabled
                && matches!(&u.protocol, UpstreamProtocol::Oidc { issuer, .. }
                    if issuer.trim_end_matches('/') == iss.trim_end_matches('/'))
        })
        .ok_or_else(|| bad("not from a known network environment"))?;
    let looked_at = store
        .incr(
            &Key::Limit(Limit::UpstreamBackchannel(u.id)),
            BACKCHANNEL_WINDOW,
        )
        .map_err(|_| UpstreamOidcError::Unavailable)?;
    if looked_at > BACKCHANNEL_PER_UPSTREAM {
        return Err(UpstreamOidcError::RateLimited);
    }
    Ok((u, header_of(logout_token)?))
}

fn header_of(logout_token: &str) -> Result<jsonwebtoken::Header, UpstreamOidcError> {
    let header = jsonwebtoken::decode_header(logout_token).map_err(|_| bad("no JOSE header"))?;
    if !matches!(
        header.alg,
        jsonwebtoken::Algorithm::RS256
            | jsonwebtoken::Algorithm::ES256
            | jsonwebtoken::Algorithm::PS256
            | jsonwebtoken::Algorithm::EdDSA
    ) {
        return Err(bad("an algorithm Leerpoort does not accept"));
    }
    Ok(header)
}

/// The key in `d`'s key set that a token with `header` names: by `kid` (or the first key
/// when the token names none). `None`: the upstream may have rotated its keys.
pub fn key_for(d: &Discovery, header: &jsonwebtoken::Header) -> Option<jsonwebtoken::DecodingKey> {
    d.keys
        .iter()
        .filter_map(|k| serde_json::from_value::<jsonwebtoken::jwk::Jwk>(k.clone()).ok())
        .find(|k| header.kid.is_none() || k.common.key_id == header.kid)
        .and_then(|k| jsonwebtoken::DecodingKey::from_jwk(&k).ok())
}

/// A verified logout token: whom it logs out, and its `jti`.
#[derive(Debug)]
pub struct LogoutToken {
    pub link: UpstreamLink,
    pub jti: String,
}

/// Verify `logout_token` with `key`: signature, `iss`, `aud` (Leerpoort), `iat` recent, the
/// logout event, no `nonce`, a `sid` or `sub`, a `jti`.
pub fn verify(
    c: &Client,
    logout_token: &str,
    header: &jsonwebtoken::Header,
    key: &jsonwebtoken::DecodingKey,
    now: i64,
) -> Result<LogoutToken, UpstreamOidcError> {
    let unverified = payload(logout_token);
    let iss = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no iss"))?;
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_issuer(&[iss]);
    v.set_audience(&[c.client_id.as_str()]);
    v.validate_exp = false;
    v.required_spec_claims = ["iss", "aud", "iat"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let claims: Value = jsonwebtoken::decode(logout_token, key, &v)
        .map_err(|e| bad(&e.to_string()))?
        .claims;
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
    if iat > now + SKEW_SECS || iat < now - 5 * 60 {
        return Err(bad("iat out of range"));
    }
    if claims
        .get("events")
        .and_then(|e| e.get(LOGOUT_EVENT))
        .is_none()
    {
        return Err(bad("not a logout event"));
    }
    if claims.get("nonce").is_some() {
        return Err(bad("a nonce is forbidden"));
    }
    let link = link_of(&claims, None);
    if link.sid.is_none() && link.sub.is_none() {
        return Err(bad("neither sid nor sub"));
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no jti"))?
        .to_string();
    Ok(LogoutToken { link, jti })
}

/// The Leerpoort sessions `token` of `u` ends (the links are used up); a token seen before
/// is a replay.
pub fn sessions_ended(
    store: &dyn EphemeralStore,
    u: &Upstream,
    token: &LogoutToken,
) -> Result<Vec<String>, UpstreamOidcError> {
    let fresh = store
        .put_if_absent(
            &Key::UpstreamJti {
                upstream: u.id,
                jti: &token.jti,
            },
            b"1",
            Duration::from_secs(10 * 60),
        )
        .map_err(|_| UpstreamOidcError::Unavailable)?;
    if !fresh {
        return Err(bad("replayed"));
    }
    Ok(linked_sessions(store, u.id, &token.link))
}

/// Where to send the browser to sign out at the OIDC upstream `u` a session came from
/// (`link`), if it offers RP-initiated logout (`d`); it sends the browser back to
/// [`SIGNED_OUT_PATH`] on the server at `base`.
pub fn logout_url(
    u: &Upstream,
    d: &Discovery,
    link: &SessionUpstream,
    base: &str,
) -> Option<String> {
    let UpstreamProtocol::Oidc { client_id, .. } = &u.protocol else {
        return None;
    };
    let mut url = url::Url::parse(d.end_session_endpoint.as_deref()?).ok()?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(t) = &link.id_token {
            q.append_pair("id_token_hint", t);
        }
        q.append_pair("client_id", client_id);
        q.append_pair(
            "post_logout_redirect_uri",
            &format!("{base}{SIGNED_OUT_PATH}"),
        );
    }
    Some(url.to_string())
}
