//! School discovery, "Kies je school" (`/scholen`): for a pupil or teacher who did not come
//! through the school's shortcut — a publisher's own "Inloggen" button, `prompt=login`,
//! `max_age=0`, `ForceAuthn` — a search by the school's name or place that works without
//! JavaScript, leading to that school's pupil entrance (its group tiles) with the waiting
//! request (`auth`) kept, or to the staff form.
//!
//! The choice is remembered on the device in a long-lived cookie that holds only the school's
//! INSTELLING_REF ([`REMEMBER_SECS`]); the sign-in form then offers "Verder bij <school>" at
//! once, next to "Andere school kiezen", and the school can be forgotten again. Remembering a
//! school signs nobody in: the pupil still picks their name and types their PIN, so a request
//! that demands a fresh sign-in gets one.
//!
//! `login_hint=INSTELLING_REF:<uuid>` at the authorization endpoint leads straight to that
//! school's entrance ([`hinted_entrance`]); a hint that names no active school is ignored.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use broker::discovery::{self, Found, Query, QUERY_MAX};
use broker::model::School;
use catalogue::Texts;
use claims::InstellingRef;
use serde::Deserialize;

use super::extract::{csrf_protected, CsrfChecked};
use super::failure::{self, PageError};
use super::pages::{self, Chrome};
use crate::app::AppState;
use crate::cookie::cookie;
use crate::session;
use crate::shortcut;

/// How long a device remembers its school: a school year and a summer.
pub const REMEMBER_SECS: i64 = 400 * 24 * 3600;

/// The prefix of a `login_hint` that names a school.
pub const HINT_PREFIX: &str = "INSTELLING_REF:";

/// The longest `auth` (a waiting request's id) that is carried from page to page.
const AUTH_MAX: usize = 128;

fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-lp_school"
    } else {
        "lp_school"
    }
}

/// The cookie that remembers `school` on this device.
pub fn remember_cookie(school: &InstellingRef, https: bool) -> Cookie<'static> {
    cookie(
        cookie_name(https),
        school.to_string(),
        https,
        Some(REMEMBER_SECS),
    )
}

/// The cookie that makes the device forget its school.
pub fn forget_cookie(https: bool) -> Cookie<'static> {
    cookie(cookie_name(https), String::new(), https, Some(0))
}

/// A waiting request's id as pages carry it (`?auth=`): only the characters such an id has
/// (an OIDC request's is base64url, a SAML sign-in's starts with `saml-`), at most 128.
pub fn pending_auth(raw: Option<&str>) -> Option<String> {
    raw.filter(|a| {
        !a.is_empty()
            && a.len() <= AUTH_MAX
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
    .map(str::to_string)
}

/// `&auth=…` (or `?auth=…` when `first`) for a waiting request, or nothing.
pub fn auth_param(auth: Option<&str>, first: bool) -> String {
    match pending_auth(auth) {
        Some(a) => format!("{}auth={a}", if first { '?' } else { '&' }),
        None => String::new(),
    }
}

/// The pupil entrance of `school` (its group tiles), keeping the waiting request.
pub fn entrance_url(school: &InstellingRef, auth: Option<&str>) -> String {
    format!(
        "{}{}",
        shortcut::url(school, None, None),
        auth_param(auth, false)
    )
}

/// The discovery page, keeping the waiting request.
pub fn discovery_url(auth: Option<&str>) -> String {
    format!("/scholen{}", auth_param(auth, true))
}

/// The staff form, keeping the waiting request.
fn staff_url(auth: Option<&str>) -> String {
    format!("/login{}", auth_param(auth, true))
}

/// The school this device remembers, if it is (or merged into) an active school.
pub async fn remembered(req: &HttpRequest, state: &web::Data<AppState>) -> Option<School> {
    let raw = req
        .cookie(cookie_name(state.config.is_https()))?
        .value()
        .to_string();
    if raw.is_empty() {
        return None;
    }
    let st = state.clone();
    web::block(move || shortcut::resolve_school(&st, &raw).ok())
        .await
        .ok()
        .flatten()
}

/// What the sign-in form offers pupils who did not come through a shortcut.
#[derive(Debug)]
pub struct Offer {
    /// The remembered school: (its name, its entrance).
    pub remembered: Option<(String, String)>,
    /// "Kies je school" (or "Andere school kiezen" with a remembered school).
    pub discovery_url: String,
}

/// The offer on the sign-in form for a waiting request `auth` (or none).
pub async fn offer(req: &HttpRequest, state: &web::Data<AppState>, auth: Option<&str>) -> Offer {
    let school = remembered(req, state).await;
    Offer {
        remembered: school.map(|s| (s.name, entrance_url(&s.instelling_ref, auth))),
        discovery_url: discovery_url(auth),
    }
}

/// The entrance `login_hint` names (`INSTELLING_REF:<uuid>` of a known, active school, or of
/// one that merged into such a school), with the waiting request `auth_id`; `None` for any
/// other hint — it is then ignored.
pub fn hinted_entrance(state: &AppState, hint: Option<&str>, auth_id: &str) -> Option<String> {
    let raw = hint?.trim();
    let head = raw.get(..HINT_PREFIX.len())?;
    if !head.eq_ignore_ascii_case(HINT_PREFIX) {
        return None;
    }
    let school = shortcut::resolve_school(state, &raw[HINT_PREFIX.len()..]).ok()?;
    Some(entrance_url(&school.instelling_ref, Some(auth_id)))
}

/// Is `hint` a school hint (not an e-mail address to fill in)?
pub fn is_school_hint(hint: &str) -> bool {
    hint.trim()
        .get(..HINT_PREFIX.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(HINT_PREFIX))
}

/// A school in the results.
#[derive(Debug)]
struct Row {
    school: String,
    name: String,
    place: Option<String>,
    formerly: Option<String>,
}

#[derive(Template)]
#[template(path = "scholen.html")]
struct DiscoveryPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    csrf_token: String,
    auth: String,
    query: String,
    query_max: usize,
    /// A message instead of results (too short, nothing found, throttled).
    message: Option<String>,
    rows: Vec<Row>,
    more: bool,
    /// The remembered school's name and entrance.
    remembered: Option<(String, String)>,
    remembered_text: String,
    staff_url: String,
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    auth: Option<String>,
}

/// What a search came to.
enum Outcome {
    NotAsked,
    TooShort,
    Throttled,
    Found(Found),
}

/// GET `/scholen?q=…&auth=…`: "Kies je school".
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, PageError> {
    let SearchQuery { q, auth } = q.into_inner();
    let auth = pending_auth(auth.as_deref());
    let query: String = q.chars().take(QUERY_MAX).collect();
    let outcome = match Query::read(&query) {
        Query::Empty => Outcome::NotAsked,
        Query::TooShort => Outcome::TooShort,
        Query::Words(words) => {
            let st = state.clone();
            let ip = session::client_ip(&req, &state);
            failure::blocking(move || {
                if !discovery::throttle(st.store.as_ref(), ip.as_deref())? {
                    return Ok(Outcome::Throttled);
                }
                Ok(Outcome::Found(discovery::search(st.dir.as_ref(), &words)?))
            })
            .await?
        }
    };
    let school = remembered(&req, &state).await;
    let c = Chrome::of(&req, &state, None).await;
    let d = c.t.discovery;
    let (message, found, status) = match outcome {
        Outcome::NotAsked => (None, Found::default(), StatusCode::OK),
        Outcome::TooShort => (
            Some(d.too_short.to_string()),
            Found::default(),
            StatusCode::OK,
        ),
        Outcome::Throttled => (
            Some(d.throttled.to_string()),
            Found::default(),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Outcome::Found(f) if f.listings.is_empty() => {
            (Some(d.none_found(query.trim())), f, StatusCode::OK)
        }
        Outcome::Found(f) => (None, f, StatusCode::OK),
    };
    let (token, cookie) = state.csrf.issue(&req, state.config.is_https());
    let page = DiscoveryPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        csrf_token: token,
        auth: auth.clone().unwrap_or_default(),
        query: query.trim().to_string(),
        query_max: QUERY_MAX,
        message,
        rows: found
            .listings
            .into_iter()
            .map(|l| Row {
                school: l.school.to_string(),
                formerly: l.formerly.map(|f| d.formerly(&f)),
                name: l.name,
                place: l.place,
            })
            .collect(),
        more: found.more,
        remembered_text: school
            .as_ref()
            .map(|s| d.remembered(&s.name))
            .unwrap_or_default(),
        remembered: school.map(|s| {
            let to = entrance_url(&s.instelling_ref, auth.as_deref());
            (d.continue_at(&s.name), to)
        }),
        staff_url: staff_url(auth.as_deref()),
    };
    Ok(pages::with_cookie(
        pages::html(status, page.render()),
        cookie,
    ))
}

/// The choice of a school from the results.
#[derive(Debug, Deserialize)]
pub struct ChooseForm {
    csrf_token: String,
    school: String,
    #[serde(default)]
    auth: String,
}

csrf_protected!(ChooseForm);

/// POST `/scholen/kies`: remember the school on this device and go to its pupil entrance. A
/// school that merged leads to the one it merged into; an unknown or closed one gets the
/// wrong-shortcut page.
pub async fn choose(
    state: web::Data<AppState>,
    CsrfChecked(form): CsrfChecked<ChooseForm>,
) -> Result<HttpResponse, PageError> {
    let st = state.clone();
    let raw = form.school.clone();
    let school = failure::blocking(move || Ok(shortcut::resolve_school(&st, &raw)?)).await?;
    let auth = pending_auth(Some(&form.auth));
    let mut res = pages::redirect(&entrance_url(&school.instelling_ref, auth.as_deref()));
    let _ = res.add_cookie(&remember_cookie(
        &school.instelling_ref,
        state.config.is_https(),
    ));
    Ok(res)
}

/// Forgetting the remembered school.
#[derive(Debug, Deserialize)]
pub struct ForgetForm {
    csrf_token: String,
    #[serde(default)]
    auth: String,
}

csrf_protected!(ForgetForm);

/// POST `/scholen/vergeten`: the device forgets its school; back to "Kies je school".
pub async fn forget(
    state: web::Data<AppState>,
    CsrfChecked(form): CsrfChecked<ForgetForm>,
) -> HttpResponse {
    let auth = pending_auth(Some(&form.auth));
    let mut res = pages::redirect(&discovery_url(auth.as_deref()));
    let _ = res.add_cookie(&forget_cookie(state.config.is_https()));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_request_ids_are_carried() {
        assert_eq!(
            pending_auth(Some("saml-Ab_9-x")).as_deref(),
            Some("saml-Ab_9-x")
        );
        for bad in ["", "a b", "a&b=c", "\"><script>", &"a".repeat(129)] {
            assert_eq!(pending_auth(Some(bad)), None, "{bad}");
        }
        assert_eq!(auth_param(Some("x&y"), true), "");
        assert_eq!(discovery_url(Some("abc")), "/scholen?auth=abc");
    }

    #[test]
    fn school_hints_are_told_from_addresses() {
        assert!(is_school_hint(
            "INSTELLING_REF:8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a01"
        ));
        assert!(is_school_hint("instelling_ref:x"));
        assert!(!is_school_hint("anna@regenboog.example"));
        assert!(!is_school_hint("INSTELLING"));
    }
}
