//! One virtual user: its own HTTP client and cookie jar, a sign-in through whatever pages the
//! provider shows, then authorize → token → userinfo flows on the established session.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::Value;
use url::Url;

use crate::form;
use crate::stats::Failure;

/// Sign-in gives up after this many requests.
const MAX_SIGNIN_STEPS: usize = 20;
/// Error bodies are cut to this many characters.
pub(crate) const BODY_EXCERPT: usize = 400;

/// What every virtual user shares: where to go and who to be.
#[derive(Debug)]
pub struct Target {
    pub issuer: Url,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub userinfo_endpoint: Url,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: Url,
    pub scope: String,
    pub email: String,
    pub password: String,
    /// Count an ID token signed with another algorithm as an error.
    pub expect_alg: Option<String>,
}

impl Target {
    /// Only the issuer's own origin is ever requested.
    pub(crate) fn check_origin(&self, url: &Url, step: &str) -> Result<(), Failure> {
        if same_origin(url, &self.issuer) {
            Ok(())
        } else {
            Err(Failure::new(
                format!("{step}: off-origin URL refused"),
                format!(
                    "refusing to request {url}: not on {}",
                    self.issuer.origin().ascii_serialization()
                ),
            ))
        }
    }
}

pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A response, read to the end.
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: StatusCode,
    pub location: Option<String>,
    pub content_type: String,
    pub body: String,
}

impl Resp {
    pub fn is_html(&self) -> bool {
        self.content_type.starts_with("text/html")
    }

    /// The body in an error report: a summary for pages, an excerpt otherwise.
    fn body_summary(&self) -> String {
        if self.body.is_empty() {
            "(empty body)".into()
        } else if self.is_html() {
            form::summary(&self.body)
        } else {
            form::excerpt(&self.body, BODY_EXCERPT)
        }
    }

    pub fn describe(&self, request: &str) -> String {
        let loc = self
            .location
            .as_deref()
            .map(|l| format!(" Location: {l};"))
            .unwrap_or_default();
        format!(
            "{request} → HTTP {};{loc} {}: {}",
            self.status.as_u16(),
            if self.content_type.is_empty() {
                "no content type"
            } else {
                &self.content_type
            },
            self.body_summary()
        )
    }
}

/// One successful iteration of a scenario: its steps' durations (in order), the whole, and the
/// ID token's `alg`.
#[derive(Debug)]
pub struct Outcome {
    pub steps: Vec<(&'static str, Duration)>,
    pub total: Duration,
    pub id_token_alg: String,
}

/// Durations of the steps of one successful flow, and the ID token's `alg`.
#[derive(Debug)]
pub struct FlowTimes {
    pub authorize: Duration,
    pub token: Duration,
    pub userinfo: Duration,
    pub total: Duration,
    pub id_token_alg: String,
}

/// Unique values for `state` and `nonce`, one sequence per virtual user.
#[derive(Debug)]
pub(crate) struct Fresh {
    id: usize,
    counter: u64,
    random: RandomState,
}

impl Fresh {
    pub(crate) fn new(id: usize) -> Self {
        Self {
            id,
            counter: 0,
            random: RandomState::new(),
        }
    }

    /// The next value: unpredictable, and never the same twice in one run.
    pub(crate) fn next_value(&mut self) -> String {
        self.counter += 1;
        let mut h = self.random.build_hasher();
        h.write_u64(self.counter);
        h.write_usize(self.id);
        format!("{:016x}{:x}{}", h.finish(), self.id, self.counter)
    }
}

/// One virtual user.
#[derive(Debug)]
pub struct VirtualUser {
    client: Client,
    target: Arc<Target>,
    fresh: Fresh,
}

impl VirtualUser {
    pub fn new(id: usize, target: Arc<Target>, timeout: Duration) -> anyhow::Result<Self> {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("leerpoort-load/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            target,
            fresh: Fresh::new(id),
        })
    }

    /// A fresh value for `state` and `nonce`.
    fn fresh(&mut self) -> String {
        self.fresh.next_value()
    }

    fn authorize_url(&mut self) -> (Url, String) {
        let state = self.fresh();
        let nonce = self.fresh();
        let t = &self.target;
        let mut url = t.authorization_endpoint.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &t.client_id)
            .append_pair("redirect_uri", t.redirect_uri.as_str())
            .append_pair("scope", &t.scope)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce);
        (url, state)
    }

    async fn send(&self, req: RequestBuilder, step: &str, what: &str) -> Result<Resp, Failure> {
        fetch(req, step, what).await
    }

    /// Sign in once: from an authorization request through login (and consent) pages until the
    /// provider redirects to the redirect URI with a code. That code is not used.
    pub async fn sign_in(&mut self) -> Result<(), Failure> {
        let (start, state) = self.authorize_url();
        let target = Arc::clone(&self.target);
        let mut url = start;
        let mut post: Option<Vec<(String, String)>> = None;
        let mut logins = 0;
        let mut consents = 0;
        let mut trail: Vec<String> = Vec::new();
        for _ in 0..MAX_SIGNIN_STEPS {
            target.check_origin(&url, "signin")?;
            let (req, what) = match post.take() {
                Some(fields) => (
                    self.client.post(url.clone()).form(&fields),
                    format!("POST {url}"),
                ),
                None => (self.client.get(url.clone()), format!("GET {url}")),
            };
            let resp = self.send(req, "signin", &what).await?;
            trail.push(format!("{what} → {}", resp.status.as_u16()));
            if resp.status.is_redirection() {
                let Some(loc) = resp.location.as_deref() else {
                    return Err(Failure::new(
                        "signin: redirect without Location",
                        resp.describe(&what),
                    ));
                };
                let next = url.join(loc).map_err(|e| {
                    Failure::new(
                        "signin: bad Location",
                        format!("{}: {e}", resp.describe(&what)),
                    )
                })?;
                if is_redirect_uri(&next, &target.redirect_uri) {
                    return callback_code(&next, &state, "signin")
                        .map(|_| ())
                        .map_err(|mut f| {
                            f.detail = format!("{} (after {})", f.detail, trail.join(", "));
                            f
                        });
                }
                url = next;
                continue;
            }
            if resp.status == StatusCode::OK && resp.is_html() {
                let forms = form::post_forms(&resp.body)
                    .map_err(|e| Failure::new("signin: HTML", format!("{what}: {e}")))?;
                let Some(f) = form::choose(forms) else {
                    return Err(Failure::new(
                        "signin: page without a POST form",
                        resp.describe(&what),
                    ));
                };
                if f.has_password() {
                    logins += 1;
                    if logins > 1 {
                        return Err(Failure::new(
                            "signin: credentials refused (login form shown again)",
                            resp.describe(&what),
                        ));
                    }
                } else {
                    consents += 1;
                    if consents > 3 {
                        return Err(Failure::new(
                            "signin: consent form keeps coming back",
                            resp.describe(&what),
                        ));
                    }
                }
                let action = f.action.as_deref().unwrap_or("");
                let next = if action.is_empty() {
                    url.clone()
                } else {
                    url.join(action).map_err(|e| {
                        Failure::new("signin: bad form action", format!("{what}: {action}: {e}"))
                    })?
                };
                post = Some(f.fill(&target.email, &target.password));
                url = next;
                continue;
            }
            return Err(Failure::new(
                format!("signin: unexpected HTTP {}", resp.status.as_u16()),
                format!("{} (after {})", resp.describe(&what), trail.join(", ")),
            ));
        }
        Err(Failure::new("signin: too many steps", trail.join(", ")))
    }

    /// One flow on the established session: authorize (must pass straight to the redirect URI
    /// with a code), token (authorization_code, client_secret_basic), userinfo (Bearer).
    pub async fn flow(&mut self) -> Result<FlowTimes, Failure> {
        let target = Arc::clone(&self.target);
        let t0 = Instant::now();

        // Authorize.
        let (url, state) = self.authorize_url();
        let what = format!("GET {}", target.authorization_endpoint);
        let resp = self
            .send(self.client.get(url.clone()), "authorize", &what)
            .await?;
        let authorize = t0.elapsed();
        if !resp.status.is_redirection() {
            return Err(Failure::new(
                format!("authorize: HTTP {} (no redirect)", resp.status.as_u16()),
                resp.describe(&format!("GET {url}")),
            ));
        }
        let next = resp
            .location
            .as_deref()
            .and_then(|l| url.join(l).ok())
            .ok_or_else(|| {
                Failure::new(
                    "authorize: redirect without a valid Location",
                    resp.describe(&what),
                )
            })?;
        if !is_redirect_uri(&next, &target.redirect_uri) {
            let mut elsewhere = next.clone();
            elsewhere.set_query(None);
            return Err(Failure::new(
                format!("authorize: not silent (redirect to {elsewhere})"),
                resp.describe(&format!("GET {url}")),
            ));
        }
        let code = callback_code(&next, &state, "authorize")?;

        // Token.
        let t1 = Instant::now();
        let what = format!("POST {}", target.token_endpoint);
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let req = self
            .client
            .post(target.token_endpoint.clone())
            .basic_auth(enc(&target.client_id), Some(enc(&target.client_secret)))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", target.redirect_uri.as_str()),
            ]);
        let resp = self.send(req, "token", &what).await?;
        let token = t1.elapsed();
        if resp.status != StatusCode::OK {
            return Err(Failure::new(
                format!("token: HTTP {}", resp.status.as_u16()),
                resp.describe(&what),
            ));
        }
        let body: Value = serde_json::from_str(&resp.body).map_err(|e| {
            Failure::new(
                "token: body is not JSON",
                format!("{}: {e}", resp.describe(&what)),
            )
        })?;
        let access_token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::new("token: no access_token", resp.describe(&what)))?
            .to_string();
        let id_token_alg = body
            .get("id_token")
            .and_then(Value::as_str)
            .map(jws_alg)
            .ok_or_else(|| Failure::new("token: no id_token", resp.describe(&what)))?
            .map_err(|e| Failure::new("token: unreadable id_token", e))?;
        if let Some(want) = &target.expect_alg {
            if &id_token_alg != want {
                return Err(Failure::new(
                    format!("token: id_token alg {id_token_alg}, expected {want}"),
                    resp.describe(&what),
                ));
            }
        }

        // Userinfo.
        let t2 = Instant::now();
        let what = format!("GET {}", target.userinfo_endpoint);
        let req = self
            .client
            .get(target.userinfo_endpoint.clone())
            .bearer_auth(&access_token);
        let resp = self.send(req, "userinfo", &what).await?;
        let userinfo = t2.elapsed();
        if resp.status != StatusCode::OK {
            return Err(Failure::new(
                format!("userinfo: HTTP {}", resp.status.as_u16()),
                resp.describe(&what),
            ));
        }
        if resp.content_type.starts_with("application/json") {
            let claims: Value = serde_json::from_str(&resp.body).map_err(|e| {
                Failure::new(
                    "userinfo: body is not JSON",
                    format!("{}: {e}", resp.describe(&what)),
                )
            })?;
            if claims.get("sub").and_then(Value::as_str).is_none() {
                return Err(Failure::new("userinfo: no sub", resp.describe(&what)));
            }
        }
        Ok(FlowTimes {
            authorize,
            token,
            userinfo,
            total: t0.elapsed(),
            id_token_alg,
        })
    }
}

/// Send a request and read the answer to the end; transport failures become `STEP: kind`.
pub(crate) async fn fetch(req: RequestBuilder, step: &str, what: &str) -> Result<Resp, Failure> {
    let resp = req.send().await.map_err(|e| transport(step, what, &e))?;

    let status = resp.status();
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let location = header(LOCATION);
    let content_type = header(CONTENT_TYPE)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = resp.bytes().await.map_err(|e| transport(step, what, &e))?;
    Ok(Resp {
        status,
        location,
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

fn transport(step: &str, what: &str, e: &reqwest::Error) -> Failure {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused or failed"
    } else if e.is_body() || e.is_decode() {
        "reading the body failed"
    } else {
        "transport error"
    };
    // The full chain of causes: reqwest's own message is often just "error sending request".
    let mut detail = format!("{what}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(&format!(": {s}"));
        source = s.source();
    }
    Failure::new(format!("{step}: {kind}"), detail)
}

/// Is `url` the redirect URI (same origin and path; the query carries the response)?
pub fn is_redirect_uri(url: &Url, redirect_uri: &Url) -> bool {
    same_origin(url, redirect_uri) && url.path() == redirect_uri.path()
}

/// The code from an authorization response, checking `state`; an error response is a failure.
pub fn callback_code(url: &Url, state: &str, step: &str) -> Result<String, Failure> {
    let mut code = None;
    let mut got_state = None;
    let mut error = None;
    let mut description = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "state" => got_state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    if let Some(e) = error {
        return Err(Failure::new(
            format!("{step}: error={e}"),
            format!("redirected to {url}: {}", description.unwrap_or_default()),
        ));
    }
    if got_state.as_deref() != Some(state) {
        return Err(Failure::new(
            format!("{step}: state mismatch"),
            format!("redirected to {url}, expected state={state}"),
        ));
    }
    code.filter(|c| !c.is_empty()).ok_or_else(|| {
        Failure::new(
            format!("{step}: redirect without code"),
            format!("redirected to {url}"),
        )
    })
}

/// The payload of a compact JWS, as JSON (its signature is not checked).
pub fn jws_payload(jws: &str) -> Result<Value, String> {
    let payload = jws.split('.').nth(1).unwrap_or("");
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("payload is not base64url: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("payload is not JSON: {e}"))
}

/// The `alg` of a compact JWS's protected header.
pub fn jws_alg(jws: &str) -> Result<String, String> {
    let head = jws.split('.').next().unwrap_or("");
    let bytes = URL_SAFE_NO_PAD
        .decode(head.trim_end_matches('='))
        .map_err(|e| format!("header is not base64url: {e}"))?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("header is not JSON: {e}"))?;
    v.get("alg")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| "header has no alg".to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn redirect_uri_matching_ignores_the_query_only() {
        let r = Url::parse("http://127.0.0.1:8081/callback").unwrap();
        let ok = Url::parse("http://127.0.0.1:8081/callback?code=x&state=s").unwrap();
        assert!(is_redirect_uri(&ok, &r));
        for bad in [
            "http://127.0.0.1:8082/callback?code=x",
            "http://localhost:8081/callback?code=x",
            "http://127.0.0.1:8081/callback2?code=x",
            "https://127.0.0.1:8081/callback?code=x",
        ] {
            assert!(!is_redirect_uri(&Url::parse(bad).unwrap(), &r), "{bad}");
        }
    }

    #[test]
    fn callback_checks_state_and_errors() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            callback_code(&u("http://a/cb?code=abc&state=s1&iss=x"), "s1", "authorize").unwrap(),
            "abc"
        );
        let e = callback_code(&u("http://a/cb?code=abc&state=s2"), "s1", "authorize").unwrap_err();
        assert_eq!(e.kind, "authorize: state mismatch");
        let e = callback_code(
            &u("http://a/cb?error=login_required&error_description=no+session&state=s1"),
            "s1",
            "authorize",
        )
        .unwrap_err();
        assert_eq!(e.kind, "authorize: error=login_required");
        assert!(e.detail.contains("no session"));
        let e = callback_code(&u("http://a/cb?state=s1"), "s1", "signin").unwrap_err();
        assert_eq!(e.kind, "signin: redirect without code");
    }

    #[test]
    fn reads_the_jws_alg() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","kid":"k1"}"#);
        assert_eq!(jws_alg(&format!("{h}.e30.sig")).unwrap(), "ES256");
        assert!(jws_alg("!!!.x.y").is_err());
        let p = URL_SAFE_NO_PAD.encode(br#"{"nonce":"n1","role":"leerling"}"#);
        let claims = jws_payload(&format!("{h}.{p}.sig")).unwrap();
        assert_eq!(claims["role"], "leerling");
        assert!(jws_payload(&format!("{h}.!!!.sig")).is_err());
    }

    #[test]
    fn origins() {
        let a = Url::parse("http://127.0.0.1:18080/x").unwrap();
        assert!(same_origin(
            &Url::parse("http://127.0.0.1:18080/token").unwrap(),
            &a
        ));
        assert!(!same_origin(
            &Url::parse("http://127.0.0.1:18081/").unwrap(),
            &a
        ));
    }
}
