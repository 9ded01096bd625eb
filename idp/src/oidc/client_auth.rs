//! Client authentication at the token, revocation and introspection endpoints:
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523, the client's
//! JWKS inline or fetched from its `jwks_uri` and cached), and `none` for public clients.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use broker::model::RelyingParty;
use broker::secrets::verify_client_secret;
use parking_lot::Mutex;
use serde_json::Value;

use super::{paths, OidcError};
use crate::app::AppState;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What the request presented.
#[derive(Debug, Default, Clone)]
pub struct Presented {
    /// From `Authorization: Basic`.
    pub basic: Option<(String, String)>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
}

impl Presented {
    /// Read the credentials from the `Authorization` header value and the form.
    pub fn from_request(
        authorization: Option<&str>,
        form: &HashMap<String, String>,
    ) -> Result<Self, OidcError> {
        let basic = match authorization {
            Some(h) if h.len() > 6 && h[..6].eq_ignore_ascii_case("basic ") => {
                let raw = STANDARD
                    .decode(h[6..].trim())
                    .map_err(|_| OidcError::InvalidClient("malformed Basic credentials".into()))?;
                let raw = String::from_utf8(raw)
                    .map_err(|_| OidcError::InvalidClient("malformed Basic credentials".into()))?;
                let (id, secret) = raw.split_once(':').ok_or_else(|| {
                    OidcError::InvalidClient("malformed Basic credentials".into())
                })?;
                // RFC 6749 §2.3.1: both parts are form-urlencoded.
                let dec = |s: &str| {
                    url::form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                Some((dec(id), dec(secret)))
            }
            _ => None,
        };
        let get = |k: &str| form.get(k).filter(|v| !v.is_empty()).cloned();
        Ok(Self {
            basic,
            client_id: get("client_id"),
            client_secret: get("client_secret"),
            assertion_type: get("client_assertion_type"),
            assertion: get("client_assertion"),
        })
    }

    /// Was `Authorization: Basic` used (then a 401 carries `WWW-Authenticate`)?
    pub fn used_basic(&self) -> bool {
        self.basic.is_some()
    }
}

fn invalid(why: &str) -> OidcError {
    OidcError::InvalidClient(why.to_string())
}

/// Authenticate the client. Exactly one method may be used.
pub fn authenticate(state: &AppState, p: &Presented, now: i64) -> Result<RelyingParty, OidcError> {
    let methods = usize::from(p.basic.is_some())
        + usize::from(p.client_secret.is_some())
        + usize::from(p.assertion.is_some());
    if methods > 1 {
        return Err(OidcError::InvalidRequest(
            "use exactly one client authentication method".into(),
        ));
    }
    if let Some((id, secret)) = &p.basic {
        if p.client_id.as_ref().is_some_and(|c| c != id) {
            return Err(OidcError::InvalidRequest(
                "client_id does not match the credentials".into(),
            ));
        }
        let rp = find(state, id)?;
        return check_secret(&rp, secret).map(|()| rp);
    }
    if let Some(secret) = &p.client_secret {
        let id = p
            .client_id
            .as_deref()
            .ok_or_else(|| invalid("client_id is missing"))?;
        let rp = find(state, id)?;
        return check_secret(&rp, secret).map(|()| rp);
    }
    if let Some(assertion) = &p.assertion {
        if p.assertion_type.as_deref() != Some(ASSERTION_TYPE) {
            return Err(OidcError::InvalidRequest(
                "client_assertion_type must be jwt-bearer".into(),
            ));
        }
        return private_key_jwt(state, p.client_id.as_deref(), assertion, now);
    }
    // `none`: public clients only.
    let id = p
        .client_id
        .as_deref()
        .ok_or_else(|| invalid("no client authentication"))?;
    let rp = find(state, id)?;
    match rp.oidc() {
        Some(c) if c.is_public() => Ok(rp),
        _ => Err(invalid("this client must authenticate")),
    }
}

fn find(state: &AppState, id: &str) -> Result<RelyingParty, OidcError> {
    match state.dir.relying_party_by_public_id(id)? {
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
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| invalid("malformed client assertion"))?;
    let unverified: Value = {
        let payload = assertion
            .split('.')
            .nth(1)
            .ok_or_else(|| invalid("malformed client assertion"))?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| invalid("malformed client assertion"))?;
        serde_json::from_slice(&bytes).map_err(|_| invalid("malformed client assertion"))?
    };
    let iss = unverified["iss"]
        .as_str()
        .ok_or_else(|| invalid("assertion has no iss"))?;
    if client_id.is_some_and(|c| c != iss) {
        return Err(invalid("client_id does not match the assertion"));
    }
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
    let mut v = jsonwebtoken::Validation::new(header.alg);
    let token_endpoint = format!("{}{}", state.config.issuer, paths::TOKEN);
    v.set_audience(&[token_endpoint.as_str(), state.config.issuer.as_str()]);
    v.set_issuer(&[iss]);
    v.sub = Some(iss.to_string());
    v.validate_exp = false;
    v.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    let data = jsonwebtoken::decode::<Value>(assertion, &key, &v)
        .map_err(|_| invalid("the client assertion does not verify"))?;
    let exp = data.claims["exp"]
        .as_i64()
        .ok_or_else(|| invalid("assertion has no exp"))?;
    if exp <= now - 5 {
        return Err(invalid("the client assertion has expired"));
    }
    if exp > now + 3600 {
        return Err(invalid("the client assertion lives too long"));
    }
    let jti = data.claims["jti"]
        .as_str()
        .ok_or_else(|| invalid("assertion has no jti"))?;
    let fresh = state.store.put_if_absent(
        &format!("jti:{iss}:{jti}"),
        b"1",
        Duration::from_secs((exp - now + 60).max(60) as u64),
    )?;
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
    let pick = |set: &jsonwebtoken::jwk::JwkSet| -> Option<jsonwebtoken::DecodingKey> {
        let jwk = match kid {
            Some(k) => set.find(k),
            None => set
                .keys
                .iter()
                .find(|j| j.is_supported() && alg_fits(j, alg)),
        }?;
        jsonwebtoken::DecodingKey::from_jwk(jwk).ok()
    };
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

fn alg_fits(j: &jsonwebtoken::jwk::Jwk, alg: jsonwebtoken::Algorithm) -> bool {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    use jsonwebtoken::Algorithm as A;
    matches!(
        (&j.algorithm, alg),
        (
            P::RSA(_),
            A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512
        ) | (P::EllipticCurve(_), A::ES256 | A::ES384)
            | (P::OctetKeyPair(_), A::EdDSA)
    )
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
