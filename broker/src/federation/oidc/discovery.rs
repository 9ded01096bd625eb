//! An upstream's discovery document and keys: the requests that read them, what their
//! answers must hold, and [`Discoveries`], the cache that keeps them for [`METADATA_TTL`]
//! by the injected [`Clock`].

use std::collections::HashMap;

use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::Value;

use super::{HttpRequest, HttpResponse, UpstreamOidcError, KEYS_REFETCH_INTERVAL, METADATA_TTL};
use crate::clock::Clock;

/// What Leerpoort reads of an upstream's discovery document, with its keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    /// OpenID Connect RP-Initiated Logout 1.0.
    pub end_session_endpoint: Option<String>,
    /// RFC 9207: the upstream sends `iss` with its authorization responses.
    pub iss_parameter_supported: bool,
    /// The upstream's JSON Web Keys (`keys` of its JWKS).
    pub keys: Vec<Value>,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    authorization_endpoint: String,
    #[serde(default)]
    token_endpoint: Option<String>,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    jwks_uri: String,
    #[serde(default)]
    end_session_endpoint: Option<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// The request for `issuer`'s discovery document.
pub fn document_request(issuer: &str) -> Result<HttpRequest, UpstreamOidcError> {
    let base = url::Url::parse(issuer).map_err(|e| UpstreamOidcError::Discovery(e.to_string()))?;
    let with_slash = if issuer.ends_with('/') {
        base
    } else {
        url::Url::parse(&format!("{issuer}/"))
            .map_err(|e| UpstreamOidcError::Discovery(e.to_string()))?
    };
    let url = with_slash
        .join(".well-known/openid-configuration")
        .map_err(|e| UpstreamOidcError::Discovery(e.to_string()))?;
    Ok(HttpRequest::get(url.as_str()))
}

fn json_of(what: &str, res: &HttpResponse) -> Result<Value, UpstreamOidcError> {
    if res.status != 200 {
        return Err(UpstreamOidcError::Discovery(format!(
            "{what} answered {}",
            res.status
        )));
    }
    serde_json::from_slice(&res.body)
        .map_err(|e| UpstreamOidcError::Discovery(format!("{what} is not valid: {e}")))
}

/// The discovery document `res` answered for `issuer`: its `issuer` must be exactly the
/// upstream's. Its keys are still to be read ([`keys_request`]).
pub fn document(issuer: &str, res: &HttpResponse) -> Result<Discovery, UpstreamOidcError> {
    let d: Document = serde_json::from_value(json_of("the discovery document", res)?)
        .map_err(|e| UpstreamOidcError::Discovery(format!("the discovery document: {e}")))?;
    if d.issuer != issuer {
        return Err(UpstreamOidcError::Discovery(format!(
            "the discovery document names issuer '{}'",
            d.issuer.chars().take(200).collect::<String>()
        )));
    }
    Ok(Discovery {
        issuer: d.issuer,
        authorization_endpoint: d.authorization_endpoint,
        token_endpoint: d.token_endpoint,
        userinfo_endpoint: d.userinfo_endpoint,
        jwks_uri: d.jwks_uri,
        end_session_endpoint: d.end_session_endpoint,
        iss_parameter_supported: d.authorization_response_iss_parameter_supported,
        keys: Vec::new(),
    })
}

/// The request for the keys of `d`.
pub fn keys_request(d: &Discovery) -> HttpRequest {
    HttpRequest::get(&d.jwks_uri)
}

/// `d` with the keys `res` answered.
pub fn with_keys(mut d: Discovery, res: &HttpResponse) -> Result<Discovery, UpstreamOidcError> {
    let set = json_of("the key set", res)?;
    d.keys = set
        .get("keys")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| UpstreamOidcError::Discovery("the key set has no keys".into()))?;
    Ok(d)
}

/// Each upstream's discovery document with its keys, as last read, and when its keys were
/// last read; by issuer. Timed by the clock passed in.
#[derive(Debug, Default)]
pub struct Discoveries {
    documents: Mutex<HashMap<String, (i64, Discovery)>>,
    keys_read: Mutex<HashMap<String, i64>>,
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Discoveries {
    pub fn new() -> Self {
        Self::default()
    }

    /// The document of `issuer`, if it was read less than [`METADATA_TTL`] ago.
    pub fn fresh(&self, issuer: &str, clock: &dyn Clock) -> Option<Discovery> {
        let now = clock.now_millis();
        self.documents
            .lock()
            .get(issuer)
            .filter(|(at, _)| now - at < millis(METADATA_TTL))
            .map(|(_, d)| d.clone())
    }

    /// Keep `d` (just read, with its keys) for `issuer`.
    pub fn keep(&self, issuer: &str, d: &Discovery, clock: &dyn Clock) {
        let now = clock.now_millis();
        self.keys_read.lock().insert(issuer.to_string(), now);
        self.documents
            .lock()
            .insert(issuer.to_string(), (now, d.clone()));
    }

    /// May the keys of `issuer` be read again now? At most once per
    /// [`KEYS_REFETCH_INTERVAL`]; a yes counts as the reading.
    pub fn may_read_keys_again(&self, issuer: &str, clock: &dyn Clock) -> bool {
        let now = clock.now_millis();
        let mut read = self.keys_read.lock();
        match read.get(issuer) {
            Some(at) if now - at < millis(KEYS_REFETCH_INTERVAL) => false,
            _ => {
                read.insert(issuer.to_string(), now);
                true
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;

    fn doc(issuer: &str) -> Discovery {
        Discovery {
            issuer: issuer.into(),
            authorization_endpoint: format!("{issuer}/authorize"),
            token_endpoint: None,
            userinfo_endpoint: None,
            jwks_uri: format!("{issuer}/jwks"),
            end_session_endpoint: None,
            iss_parameter_supported: false,
            keys: Vec::new(),
        }
    }

    #[test]
    fn documents_are_reused_for_the_ttl_and_keys_reread_at_most_once_an_interval() {
        let clock = FixedClock::at_secs(1_000);
        let cache = Discoveries::new();
        assert!(cache.fresh("https://moo", &clock).is_none());
        cache.keep("https://moo", &doc("https://moo"), &clock);
        assert!(!cache.may_read_keys_again("https://moo", &clock));
        clock.advance(KEYS_REFETCH_INTERVAL);
        assert!(cache.may_read_keys_again("https://moo", &clock));
        assert!(!cache.may_read_keys_again("https://moo", &clock));
        assert!(cache.fresh("https://moo", &clock).is_some());
        clock.advance(METADATA_TTL);
        assert!(cache.fresh("https://moo", &clock).is_none());
    }

    #[test]
    fn the_document_must_name_the_upstream_as_issuer() {
        let body = serde_json::json!({
            "issuer": "https://evil", "authorization_endpoint": "https://evil/a",
            "jwks_uri": "https://evil/k",
        });
        let res = HttpResponse {
            status: 200,
            body: serde_json::to_vec(&body).unwrap(),
        };
        assert!(document("https://moo", &res).is_err());
        assert_eq!(
            document("https://evil", &res).unwrap().jwks_uri,
            "https://evil/k"
        );
        assert_eq!(
            document_request("https://moo/realm").unwrap().url,
            "https://moo/realm/.well-known/openid-configuration"
        );
    }
}
