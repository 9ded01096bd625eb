//! The pupil journey, as a pupil at school makes it, each time in a fresh browser: the school's
//! shortcut → the group tiles → the name tiles → the PIN form → Leerpoort's redirect to the
//! publisher's `initiate_login_uri` (third-party-initiated login, OIDC Core §4) → and, playing the
//! publisher, an authorization request (it passes silently: the session exists) → the token
//! request, checking the ID token's `nonce` and `role`.
//!
//! The home journey is the same from the PIN on; it starts at the home entrance (`/thuis`, for
//! the publisher), where a parent signs in with e-mail address and password, and goes to the
//! child's PIN form (through the children's tiles when the account serves several). Every
//! journey comes from a household of its own: its requests carry an `X-Forwarded-For` address
//! of the benchmarking network 198.18.0.0/15 (RFC 2544), which the server believes from the
//! load tool only when the tool's address is a trusted proxy (loopback is, by default).

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderValue;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::Value;
use url::Url;

use crate::flow::{callback_code, fetch, is_redirect_uri, jws_alg, jws_payload, Outcome, Resp};
use crate::flow::{Fresh, Target, BODY_EXCERPT};
use crate::form;
use crate::stats::Failure;

/// Where a journey starts.
#[derive(Debug)]
pub enum Start {
    /// At school: the school's shortcut, the group's tile, the pupil's tile.
    School {
        /// The school's INSTELLING_REF, as in its shortcut.
        instelling_ref: String,
        /// The group tile to follow: its name or key.
        group: String,
    },
    /// At home: the home entrance, the parent's e-mail address and password, and the child's
    /// tile when the account serves several children.
    Home { email: String, password: String },
}

/// What every pupil journey shares besides the [`Target`].
#[derive(Debug)]
pub struct PupilPlan {
    pub start: Start,
    /// Name (as on the tile) and PIN of each pupil the journeys take in turn.
    pub pupils: Vec<(String, String)>,
    /// The publisher's `initiate_login_uri`: Leerpoort sends the pupil there after the PIN.
    pub initiate_login_uri: Url,
    /// The next pupil's index (all virtual users take the pupils in turn).
    pub next: AtomicUsize,
    /// The next household's number (home journeys; see [`household_address`]).
    pub households: AtomicU32,
}

/// Household `n`'s address in the benchmarking network 198.18.0.0/15 (RFC 2544), 131,072 of
/// them before they repeat.
pub fn household_address(n: u32) -> Ipv4Addr {
    let n = n % (1 << 17);
    Ipv4Addr::new(198, 18 + (n >> 16) as u8, (n >> 8) as u8, n as u8)
}

impl PupilPlan {
    fn next_pupil(&self) -> (&str, &str) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.pupils.len().max(1);
        self.pupils
            .get(i)
            .map(|(n, p)| (n.as_str(), p.as_str()))
            .unwrap_or(("", ""))
    }
}

/// `Emma:1234,Daan:2345`: pupils as NAME:PIN, comma separated.
pub fn parse_pupils(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((name, pin)) = item.rsplit_once(':') else {
            return Err(format!("'{item}': expected NAME:PIN"));
        };
        let (name, pin) = (name.trim(), pin.trim());
        if name.is_empty() || pin.is_empty() {
            return Err(format!("'{item}': expected NAME:PIN"));
        }
        out.push((name.to_string(), pin.to_string()));
    }
    if out.is_empty() {
        return Err("no pupils given (NAME:PIN,NAME:PIN,…)".into());
    }
    Ok(out)
}

/// A cookie jar that can be emptied: a fresh browser for every journey, while the HTTP client
/// (and its kept-alive connections) stays.
#[derive(Debug, Default)]
struct FreshJar(Mutex<Arc<Jar>>);

impl FreshJar {
    fn current(&self) -> Arc<Jar> {
        Arc::clone(&self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn clear(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(Jar::default());
    }
}

impl CookieStore for FreshJar {
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        self.current().set_cookies(cookie_headers, url);
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        self.current().cookies(url)
    }
}

/// One virtual pupil browser.
#[derive(Debug)]
pub struct PupilUser {
    client: Client,
    jar: Arc<FreshJar>,
    target: Arc<Target>,
    plan: Arc<PupilPlan>,
    fresh: Fresh,
    /// This journey's household address (home journeys), sent as `X-Forwarded-For`.
    household: Option<Ipv4Addr>,
}

/// The failure for an answer that is not what the step expects; a 429 says so.
fn unexpected(step: &str, expected: &str, resp: &Resp, what: &str) -> Failure {
    let code = resp.status.as_u16();
    let kind = if resp.status == StatusCode::TOO_MANY_REQUESTS {
        format!("{step}: HTTP 429 (rate limited)")
    } else {
        format!("{step}: HTTP {code} ({expected} expected)")
    };
    Failure::new(kind, resp.describe(what))
}

/// A URL without its query (for error kinds, which must not grow with every request).
fn without_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

impl PupilUser {
    pub fn new(
        id: usize,
        target: Arc<Target>,
        plan: Arc<PupilPlan>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let jar = Arc::new(FreshJar::default());
        let client = Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("leerpoort-load/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            jar,
            target,
            plan,
            fresh: Fresh::new(id),
            household: None,
        })
    }

    /// A request of the browser: from its household, at home.
    fn browser(&self, req: RequestBuilder) -> RequestBuilder {
        match self.household {
            Some(a) => req.header("X-Forwarded-For", a.to_string()),
            None => req,
        }
    }

    /// A fresh value for `state` and `nonce`.
    fn fresh(&mut self) -> String {
        self.fresh.next_value()
    }

    /// GET a page of the journey: it must answer 200 with HTML.
    async fn page(&self, step: &str, url: &Url) -> Result<Resp, Failure> {
        self.target.check_origin(url, step)?;
        let what = format!("GET {url}");
        let resp = fetch(self.browser(self.client.get(url.clone())), step, &what).await?;
        if resp.status == StatusCode::OK && resp.is_html() {
            Ok(resp)
        } else {
            Err(unexpected(step, "an HTML page", &resp, &what))
        }
    }

    /// The tile on `page` (at `base`) for `want`, resolved.
    fn tile(step: &str, what: &str, want: &str, base: &Url, page: &Resp) -> Result<Url, Failure> {
        let links = form::tile_links(&page.body)
            .map_err(|e| Failure::new(format!("{step}: HTML"), format!("{base}: {e}")))?;
        let Some(link) = links.iter().find(|l| l.is_tile_of(want)) else {
            let seen: Vec<String> = links.iter().map(form::Link::label).collect();
            return Err(Failure::new(
                format!("{step}: no tile for {what}"),
                format!(
                    "GET {base}: no tile {want:?} among [{}]: {}",
                    seen.join(", "),
                    page.describe(&format!("GET {base}"))
                ),
            ));
        };
        base.join(&link.href).map_err(|e| {
            Failure::new(
                format!("{step}: bad tile link"),
                format!("{base}: {}: {e}", link.href),
            )
        })
    }

    /// One journey, in a fresh browser.
    pub async fn journey(&mut self) -> Result<Outcome, Failure> {
        self.jar.clear();
        let plan = Arc::clone(&self.plan);
        let (pupil, pin) = plan.next_pupil();
        let mut steps = Vec::with_capacity(7);
        let t0 = Instant::now();
        let (url, page) = match &plan.start {
            Start::School {
                instelling_ref,
                group,
            } => {
                self.household = None;
                self.at_school(instelling_ref, group, pupil, &mut steps)
                    .await?
            }
            Start::Home { email, password } => {
                let n = plan.households.fetch_add(1, Ordering::Relaxed);
                self.household = Some(household_address(n));
                self.at_home(email, password, pupil, &mut steps).await?
            }
        };
        self.publisher(url, page, pupil, pin, steps, t0).await
    }

    /// Where a journey enters: `path` on the issuer, with `query` and the client as `TARGET`.
    fn entry_url(&self, step: &str, path: &str, query: &[(&str, &str)]) -> Result<Url, Failure> {
        let base = self.target.issuer.as_str().trim_end_matches('/');
        let mut url = Url::parse(&format!("{base}{path}"))
            .map_err(|e| Failure::new(format!("{step}: bad URL"), e.to_string()))?;
        url.query_pairs_mut()
            .extend_pairs(query)
            .append_pair("TARGET", &self.target.client_id);
        Ok(url)
    }

    /// At school: the shortcut, the group's tile and the pupil's; the PIN form's page.
    async fn at_school(
        &self,
        instelling_ref: &str,
        group: &str,
        pupil: &str,
        steps: &mut Vec<(&'static str, Duration)>,
    ) -> Result<(Url, Resp), Failure> {
        // The school's shortcut, for the publisher's software: the group tiles.
        let url = self.entry_url(
            "shortcut",
            "/snelkoppeling",
            &[("INSTELLING_REF", instelling_ref)],
        )?;
        let t = Instant::now();
        let page = self.page("shortcut", &url).await?;
        steps.push(("shortcut", t.elapsed()));

        // The group's tile: the name tiles.
        let url = Self::tile("group", "the group", group, &url, &page)?;
        let t = Instant::now();
        let page = self.page("group", &url).await?;
        steps.push(("group", t.elapsed()));

        // The pupil's tile: the PIN form.
        let url = Self::tile("name", "the pupil", pupil, &url, &page)?;
        let t = Instant::now();
        let page = self.page("name", &url).await?;
        steps.push(("name", t.elapsed()));
        Ok((url, page))
    }

    /// At home: the entrance, the parent's sign-in, and the child's tile when the account
    /// serves several; the child's PIN form's page.
    async fn at_home(
        &self,
        email: &str,
        password: &str,
        pupil: &str,
        steps: &mut Vec<(&'static str, Duration)>,
    ) -> Result<(Url, Resp), Failure> {
        // The home entrance, for the publisher's software: the parent's sign-in form.
        let url = self.entry_url("entrance", "/thuis", &[])?;
        let t = Instant::now();
        let page = self.page("entrance", &url).await?;
        steps.push(("entrance", t.elapsed()));

        // E-mail address and password: to the child's PIN form, or to the children's tiles.
        let (post_url, f) = Self::password_form("signin", None, &url, &page)?;
        let what = format!("POST {post_url}");
        let t = Instant::now();
        let resp = fetch(
            self.browser(self.client.post(post_url.clone()))
                .form(&f.fill(email, password)),
            "signin",
            &what,
        )
        .await?;
        steps.push(("signin", t.elapsed()));
        let next = Self::redirected("signin", "the child's page", &post_url, &resp, &what)?;
        self.target.check_origin(&next, "signin")?;

        let t = Instant::now();
        let mut page = self.page("child", &next).await?;
        let mut url = next;
        if !url.path().starts_with("/thuis/kind/") {
            // Several children: the tile of this one.
            let child = Self::tile("child", "the child", pupil, &url, &page)?;
            page = self.page("child", &child).await?;
            url = child;
        }
        steps.push(("child", t.elapsed()));
        Ok((url, page))
    }

    /// The form on `page` (at `url`) with a password field, or with a field named `field`
    /// when given, and where it posts to.
    fn password_form(
        step: &str,
        field: Option<&str>,
        url: &Url,
        page: &Resp,
    ) -> Result<(Url, form::Form), Failure> {
        let forms = form::post_forms(&page.body)
            .map_err(|e| Failure::new(format!("{step}: HTML"), format!("GET {url}: {e}")))?;
        let found = match field {
            Some(name) => forms.into_iter().find(|f| f.has_field(name)),
            None => form::choose(forms).filter(form::Form::has_password),
        };
        let Some(f) = found else {
            let wanted = field.map_or("a password field".to_string(), |n| format!("a field {n}"));
            return Err(Failure::new(
                format!("{step}: no form with {wanted}"),
                page.describe(&format!("GET {url}")),
            ));
        };
        let action = f.action.as_deref().unwrap_or("");
        let post_url = if action.is_empty() {
            url.clone()
        } else {
            url.join(action).map_err(|e| {
                Failure::new(
                    format!("{step}: bad form action"),
                    format!("{url}: {action}: {e}"),
                )
            })?
        };
        Ok((post_url, f))
    }

    /// Where a form's answer redirects to; the page's message when it answered with a page.
    fn redirected(
        step: &str,
        expected: &str,
        post_url: &Url,
        resp: &Resp,
        what: &str,
    ) -> Result<Url, Failure> {
        if resp.status == StatusCode::OK && resp.is_html() {
            // The form again, with the reason (wrong password, blocked, too many attempts, …).
            let why = form::alert(&resp.body).unwrap_or_else(|| "no message".into());
            return Err(Failure::new(
                format!("{step}: refused: {}", form::excerpt(&why, 120)),
                resp.describe(what),
            ));
        }
        if !resp.status.is_redirection() {
            return Err(unexpected(
                step,
                &format!("a redirect to {expected}"),
                resp,
                what,
            ));
        }
        resp.location
            .as_deref()
            .and_then(|l| post_url.join(l).ok())
            .ok_or_else(|| {
                Failure::new(
                    format!("{step}: redirect without a valid Location"),
                    resp.describe(what),
                )
            })
    }

    /// From the PIN form's page on: the PIN, the publisher's authorization request, its token
    /// request.
    async fn publisher(
        &mut self,
        url: Url,
        page: Resp,
        pupil: &str,
        pin: &str,
        mut steps: Vec<(&'static str, Duration)>,
        t0: Instant,
    ) -> Result<Outcome, Failure> {
        let target = Arc::clone(&self.target);
        let plan = Arc::clone(&self.plan);
        // The PIN, with the form's hidden fields (CSRF): a redirect to the initiate_login_uri.
        // The field `pin`: a password field at school, a masked text field at home.
        let (post_url, f) = Self::password_form("pin", Some("pin"), &url, &page)?;
        target.check_origin(&post_url, "pin")?;
        let what = format!("POST {post_url}");
        let t = Instant::now();
        let resp = fetch(
            self.browser(self.client.post(post_url.clone()))
                .form(&f.fill_named("pin", pin)),
            "pin",
            &what,
        )
        .await?;
        steps.push(("pin", t.elapsed()));
        let next = Self::redirected("pin", "the initiate_login_uri", &post_url, &resp, &what)
            .map_err(|e| Failure::new(e.kind, format!("pupil {pupil:?}: {}", e.detail)))?;
        if !is_redirect_uri(&next, &plan.initiate_login_uri) {
            return Err(Failure::new(
                format!(
                    "pin: redirect to {}, not the initiate_login_uri",
                    without_query(&next)
                ),
                resp.describe(&what),
            ));
        }
        // Third-party-initiated login: `iss` must name the issuer (the publisher checks it).
        let iss = next
            .query_pairs()
            .find(|(k, _)| k == "iss")
            .map(|(_, v)| v.into_owned());
        let issuer = target.issuer.as_str().trim_end_matches('/');
        if iss.as_deref().map(|i| i.trim_end_matches('/')) != Some(issuer) {
            return Err(Failure::new(
                "pin: initiate_login_uri without the issuer as iss",
                format!("redirected to {next}, expected iss={issuer}"),
            ));
        }

        // The publisher's authorization request: silent, the session exists.
        let state = self.fresh();
        let nonce = self.fresh();
        let mut url = target.authorization_endpoint.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &target.client_id)
            .append_pair("redirect_uri", target.redirect_uri.as_str())
            .append_pair("scope", &target.scope)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce);
        let what = format!("GET {}", target.authorization_endpoint);
        let t = Instant::now();
        let resp = fetch(
            self.browser(self.client.get(url.clone())),
            "authorize",
            &what,
        )
        .await?;
        steps.push(("authorize", t.elapsed()));
        if !resp.status.is_redirection() {
            return Err(unexpected(
                "authorize",
                "a redirect to the redirect URI",
                &resp,
                &format!("GET {url}"),
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
            return Err(Failure::new(
                format!(
                    "authorize: not silent (redirect to {})",
                    without_query(&next)
                ),
                resp.describe(&format!("GET {url}")),
            ));
        }
        let code = callback_code(&next, &state, "authorize")?;

        // The token request, and the ID token's nonce and role.
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
        let t = Instant::now();
        let resp = fetch(req, "token", &what).await?;
        steps.push(("token", t.elapsed()));
        let total = t0.elapsed();
        if resp.status != StatusCode::OK {
            return Err(unexpected("token", "200", &resp, &what));
        }
        let body: Value = serde_json::from_str(&resp.body).map_err(|e| {
            Failure::new(
                "token: body is not JSON",
                format!("{}: {e}", resp.describe(&what)),
            )
        })?;
        let id_token = body
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::new("token: no id_token", resp.describe(&what)))?;
        let id_token_alg =
            jws_alg(id_token).map_err(|e| Failure::new("token: unreadable id_token", e))?;
        if let Some(want) = &target.expect_alg {
            if &id_token_alg != want {
                return Err(Failure::new(
                    format!("token: id_token alg {id_token_alg}, expected {want}"),
                    resp.describe(&what),
                ));
            }
        }
        let claims =
            jws_payload(id_token).map_err(|e| Failure::new("token: unreadable id_token", e))?;
        check_claims(&claims, &nonce)?;
        Ok(Outcome {
            steps,
            total,
            id_token_alg,
        })
    }
}

/// The ID token of a pupil's journey: our `nonce`, and the role `leerling`.
fn check_claims(claims: &Value, nonce: &str) -> Result<(), Failure> {
    let excerpt = || form::excerpt(&claims.to_string(), BODY_EXCERPT);
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err(Failure::new(
            "token: id_token nonce mismatch",
            format!("expected nonce {nonce}: {}", excerpt()),
        ));
    }
    let role = claims.get("role");
    let is_pupil = match role {
        Some(Value::String(r)) => r == "leerling",
        Some(Value::Array(rs)) => rs.iter().any(|r| r.as_str() == Some("leerling")),
        _ => false,
    };
    if !is_pupil {
        let got = role.map_or_else(|| "none".to_string(), Value::to_string);
        return Err(Failure::new(
            format!("token: id_token role {got}, not leerling"),
            excerpt(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_pupils() {
        assert_eq!(
            parse_pupils(" Emma:1234, Daan:2345 ,").unwrap(),
            vec![
                ("Emma".to_string(), "1234".to_string()),
                ("Daan".into(), "2345".into())
            ]
        );
        assert!(parse_pupils("Emma").is_err());
        assert!(parse_pupils("Emma:").is_err());
        assert!(parse_pupils(",").is_err());
    }

    #[test]
    fn pupils_are_taken_in_turn() {
        let plan = PupilPlan {
            start: Start::School {
                instelling_ref: "r".into(),
                group: "g".into(),
            },
            pupils: parse_pupils("A:1,B:2").unwrap(),
            initiate_login_uri: Url::parse("http://127.0.0.1:8081/login").unwrap(),
            next: AtomicUsize::new(0),
            households: AtomicU32::new(0),
        };
        let names: Vec<&str> = (0..3).map(|_| plan.next_pupil().0).collect();
        assert_eq!(names, ["A", "B", "A"]);
    }

    #[test]
    fn households_have_addresses_of_their_own() {
        assert_eq!(household_address(0), Ipv4Addr::new(198, 18, 0, 0));
        assert_eq!(household_address(257), Ipv4Addr::new(198, 18, 1, 1));
        assert_eq!(household_address(65_536), Ipv4Addr::new(198, 19, 0, 0));
        assert_eq!(household_address(131_071), Ipv4Addr::new(198, 19, 255, 255));
        assert_eq!(household_address(131_072), household_address(0));
    }

    #[test]
    fn checks_nonce_and_role() {
        assert!(check_claims(&json!({"nonce": "n", "role": "leerling"}), "n").is_ok());
        assert!(check_claims(&json!({"nonce": "n", "role": ["leerling"]}), "n").is_ok());
        let e = check_claims(&json!({"nonce": "x", "role": "leerling"}), "n").unwrap_err();
        assert_eq!(e.kind, "token: id_token nonce mismatch");
        let e = check_claims(&json!({"nonce": "n", "role": "leerkracht"}), "n").unwrap_err();
        assert_eq!(e.kind, "token: id_token role \"leerkracht\", not leerling");
        let e = check_claims(&json!({"nonce": "n"}), "n").unwrap_err();
        assert_eq!(e.kind, "token: id_token role none, not leerling");
    }

    #[test]
    fn a_fresh_jar_forgets() {
        let jar = FreshJar::default();
        let url = Url::parse("http://127.0.0.1:1/").unwrap();
        let header = HeaderValue::from_static("lp_session=abc; Path=/");
        jar.set_cookies(&mut std::iter::once(&header), &url);
        assert!(jar.cookies(&url).is_some());
        jar.clear();
        assert!(jar.cookies(&url).is_none());
    }
}
