//! Server-rendered pages: the staff sign-in form, messages, the start page. Every page takes
//! its strings from the catalogue (the `catalogue` crate) and shows the operator's notice.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use broker::login::challenge::{self, Purpose};
use broker::login::staff::{self, StaffAttempt, StaffLogin};
use catalogue::{Locale, Texts};
use serde::Deserialize;

use super::extract::{csrf_protected, CsrfChecked, SignedIn};
use super::failure::{self, PageError};
use crate::app::AppState;
use crate::lesmateriaal::AppTile;
use crate::oidc::authorize;
use crate::oidc::logout;
use crate::session;
use crate::shortcut;

/// What every page needs: the strings, the language, the notice.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub t: &'static Texts,
    pub lang: &'static str,
    pub notice: Option<String>,
}

impl Chrome {
    /// From the request's `Accept-Language` (and `ui_locales` when an OIDC request gave one).
    pub async fn of(
        req: &HttpRequest,
        state: &web::Data<AppState>,
        ui_locales: Option<&str>,
    ) -> Chrome {
        let accept = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let locale = Locale::negotiate(ui_locales, accept);
        let st = state.clone();
        let notice = web::block(move || st.notice()).await.ok().flatten();
        Chrome {
            t: locale.texts(),
            lang: locale.tag(),
            notice,
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    csrf_token: String,
    auth: String,
    target: String,
    email: String,
    error: Option<&'a str>,
    school_name: Option<String>,
    pupil_link: Option<String>,
    challenge: Option<challenge::Challenge>,
    /// Without a shortcut: the pupils' way in ("Kies je school", or the remembered school).
    offer: Option<super::discovery::Offer>,
}

/// What a message page says (`message.html`, and the pages that extend it).
#[derive(Debug)]
pub struct MessageText<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub hint: Option<&'a str>,
}

#[derive(Template, Debug)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    text: MessageText<'a>,
    link: Option<&'a str>,
    link_text: &'a str,
    /// On a refusal page: the error code and the request's kenmerk.
    reference: Option<super::reference::Reference>,
}

/// A tile on the start page.
#[derive(Debug, Template)]
#[template(path = "start.html")]
struct StartPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    name: String,
    school: String,
    apps: Vec<AppTile>,
    /// Picture tiles for pupils who cannot read yet (groups 1–2).
    picture_tiles: bool,
    /// A publisher asked live has not answered yet: the page fetches the tiles again.
    waiting: bool,
    csrf_token: String,
    enrol_action: Option<String>,
    devices_link: Option<String>,
    shortcuts_link: Option<String>,
    /// ICT coordinators run the school from Beheer.
    beheer: bool,
}

/// Render a template as an uncached HTML response.
pub fn html(status: StatusCode, body: Result<String, askama::Error>) -> HttpResponse {
    match body {
        Ok(b) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(b),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// A message page.
pub fn message(
    c: &Chrome,
    status: StatusCode,
    title: &str,
    message: &str,
    hint: Option<&str>,
    link: Option<(&str, &str)>,
) -> HttpResponse {
    message_with_reference(c, status, (title, message, hint), link, None)
}

/// A message page (title, text, hint) that may show a refusal's `reference`.
pub fn message_with_reference(
    c: &Chrome,
    status: StatusCode,
    (title, message, hint): (&str, &str, Option<&str>),
    link: Option<(&str, &str)>,
    reference: Option<super::reference::Reference>,
) -> HttpResponse {
    let page = MessagePage {
        t: c.t,
        lang: c.lang,
        notice: c.notice.clone(),
        text: MessageText {
            title,
            message,
            hint,
        },
        link: link.map(|l| l.0),
        link_text: link.map(|l| l.1).unwrap_or(""),
        reference,
    };
    html(status, page.render())
}

/// What the page says when the release policy refuses `name` (meant for `audience`): a
/// title, a text and a hint whom to ask. Every protocol and the shortcut show the same.
pub fn denial_texts(
    c: &Chrome,
    denial: &broker::release::Denial,
    name: &str,
    audience: claims::Audience,
) -> (&'static str, String, Option<&'static str>) {
    use broker::release::Denial;
    match denial {
        Denial::NotAtHomePublisher | Denial::NotAtHomeSchool => {
            (c.t.home_only_title, c.t.home_only.to_string(), None)
        }
        Denial::WrongAudience => {
            let text = match audience {
                claims::Audience::Leerkracht => c.t.for_teachers_only(name),
                _ => c.t.for_pupils_only(name),
            };
            (c.t.wrong_audience_title, text, None)
        }
        _ => (
            c.t.software_off_title,
            c.t.software_off_for_you(name),
            Some(c.t.software_off_hint),
        ),
    }
}

/// The page (403) when the release policy refuses `name` (meant for `audience`), with the
/// way `back` (address, link text).
pub fn denied(
    c: &Chrome,
    denial: &broker::release::Denial,
    name: &str,
    audience: claims::Audience,
    back: (&str, &str),
) -> HttpResponse {
    let (title, text, hint) = denial_texts(c, denial, name, audience);
    message(c, StatusCode::FORBIDDEN, title, &text, hint, Some(back))
}

/// The page for storage that does not answer (503): the request can be tried again.
pub fn unavailable(c: &Chrome, title: &str) -> HttpResponse {
    message(
        c,
        StatusCode::SERVICE_UNAVAILABLE,
        title,
        c.t.unavailable,
        None,
        None,
    )
}

/// The answer to a form whose CSRF token does not match: the page has expired.
pub fn page_expired(c: &Chrome) -> HttpResponse {
    message(
        c,
        StatusCode::BAD_REQUEST,
        c.t.page_expired_title,
        c.t.page_expired,
        None,
        None,
    )
}

/// A redirect that is never cached.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// `res` with the CSRF cookie a form page has just issued (if it issued one).
pub fn with_cookie(
    mut res: HttpResponse,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    if let Some(c) = cookie {
        let _ = res.add_cookie(&c);
    }
    res
}

/// Where the staff form came from: an OIDC request, or a school shortcut with a target.
#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    auth: Option<String>,
    #[serde(rename = "INSTELLING_REF")]
    school: Option<String>,
    #[serde(rename = "TARGET")]
    target: Option<String>,
}

impl LoginQuery {
    /// The staff form of a school shortcut.
    pub fn for_school(school: String, target: Option<String>) -> Self {
        Self {
            auth: None,
            school: Some(school),
            target,
        }
    }

    /// With the waiting request `auth` (kept from the school's pages).
    pub fn with_auth(mut self, auth: Option<String>) -> Self {
        self.auth = auth;
        self
    }
}

/// The staff form, for a pending OIDC request or a school shortcut.
pub async fn render_login(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    q: LoginQuery,
    email: String,
    error: Option<&str>,
) -> HttpResponse {
    let https = state.config.is_https();
    let auth = q.auth.clone().unwrap_or_default();
    let st = state.clone();
    let a = auth.clone();
    let school_ref = q.school.clone();
    let ip = session::client_ip(req, state);
    let now = state.clock.now_secs();
    let (pending, school, challenge) = web::block(move || {
        let pending = (!a.is_empty())
            .then(|| authorize::pending(&st, &a))
            .flatten();
        let school = school_ref.and_then(|r| shortcut::resolve_school(&st, &r).ok());
        let challenge = staff::challenge_needed(&st.world(), ip.as_deref())
            .then(|| {
                st.challenges.issue(
                    now,
                    challenge::MAX_NUMBER,
                    Purpose::StaffLogin,
                    ip.as_deref().unwrap_or("unknown"),
                )
            })
            .flatten();
        (pending, school, challenge)
    })
    .await
    .unwrap_or((None, None, None));
    let c = Chrome::of(
        req,
        state,
        pending.as_ref().and_then(|p| p.ui_locales.as_deref()),
    )
    .await;
    let email = if email.is_empty() {
        pending
            .and_then(|p| p.login_hint)
            .filter(|h| !super::discovery::is_school_hint(h))
            .unwrap_or_default()
    } else {
        email
    };
    let (token, cookie) = state.csrf.issue(req, https);
    let target = q.target.clone().unwrap_or_default();
    let pupil_link = school.as_ref().map(|s| {
        shortcut::url(&s.instelling_ref, Some(&target), None)
            + &super::discovery::auth_param(Some(&auth), false)
    });
    let offer = match &school {
        None => Some(super::discovery::offer(req, state, Some(&auth)).await),
        Some(_) => None,
    };
    let page = LoginPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice.clone(),
        csrf_token: token,
        auth,
        target: match &school {
            Some(s) => format!("{}|{}", s.instelling_ref, target),
            None => String::new(),
        },
        email,
        error,
        school_name: school.map(|s| s.name),
        pupil_link,
        challenge,
        offer,
    };
    with_cookie(html(StatusCode::OK, page.render()), cookie)
}

/// GET `/login`.
pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<LoginQuery>,
) -> HttpResponse {
    render_login(&req, &state, q.into_inner(), String::new(), None).await
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf_token: String,
    #[serde(default)]
    auth: String,
    /// `<INSTELLING_REF>|<TARGET>` when the form came from a school shortcut.
    #[serde(default)]
    target: String,
    email: String,
    password: String,
    /// The solved proof-of-work challenge, when the form carried one.
    #[serde(default)]
    challenge: String,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

csrf_protected!(LoginForm);

/// POST `/login`.
pub async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    CsrfChecked(form): CsrfChecked<LoginForm>,
) -> HttpResponse {
    let https = state.config.is_https();
    let ip = session::client_ip(&req, &state);
    let previous = session::sid_of(&req, https);
    let st = state.clone();
    let (email, password, target) = (form.email.clone(), form.password, form.target.clone());
    let challenge = Some(form.challenge).filter(|c| !c.is_empty());
    let now = state.clock.now_secs();
    let result = web::block(move || {
        let attempt = StaffAttempt {
            email: &email,
            password: &password,
            ip: ip.as_deref(),
            challenge: challenge.as_deref(),
            previous_sid: previous.as_deref(),
        };
        let counted = staff::staff_login(
            &st.world(),
            st.login_keys(),
            st.login_policy(),
            attempt,
            now,
        );
        st.metrics.login("staff", counted.result);
        let outcome = counted.outcome;
        // A shortcut's target: only if the user's school has it enabled.
        let dest = match (&outcome, target.split_once('|')) {
            (StaffLogin::Ok(s), Some((school, t))) if !t.is_empty() => {
                shortcut::resolve_school(&st, school)
                    .ok()
                    .filter(|sc| sc.instelling_ref == s.school)
                    .and_then(|sc| shortcut::resolve_target(&st, &sc, t).ok())
                    .map(|t| shortcut::destination_for(&st, s, Some(&t)))
            }
            _ => None,
        };
        (outcome, dest)
    })
    .await;
    let c = Chrome::of(&req, &state, None).await;
    let error = match result {
        Ok((StaffLogin::Ok(s), dest)) => {
            let to = if !form.auth.is_empty() {
                authorize::resume_url(&form.auth)
            } else {
                dest.unwrap_or_else(|| "/".into())
            };
            let mut res = redirect(&to);
            let _ = res.add_cookie(&session::session_cookie(&s, https));
            return res;
        }
        Ok((StaffLogin::SecondStep(id), _)) => {
            return super::totp::to_second_step(&id, &form.auth, &form.target, https);
        }
        Ok((StaffLogin::Refused, _)) => c.t.wrong_credentials,
        Ok((StaffLogin::ChallengeRequired, _)) => c.t.challenge_needed,
        Ok((StaffLogin::Throttled, _)) => c.t.throttled,
        Ok((StaffLogin::Unavailable, _)) | Err(_) => c.t.unavailable,
    };
    let (school, target) = match form.target.split_once('|') {
        Some((s, t)) => (
            Some(s.to_string()),
            Some(t.to_string()).filter(|t| !t.is_empty()),
        ),
        None => (None, None),
    };
    let q = LoginQuery {
        auth: Some(form.auth).filter(|a| !a.is_empty()),
        school,
        target,
    };
    render_login(&req, &state, q, form.email, Some(error)).await
}

/// What a staff member's start page links to, besides the software.
struct StaffLinks {
    school: claims::InstellingRef,
    /// Teachers and ICT coordinators link devices to the school.
    enrol: bool,
    /// ICT coordinators see and revoke them.
    manage: bool,
}

/// GET `/`: the start page of a signed-in user: the school's registered software that fits
/// their role. Without a session: to the sign-in form.
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, PageError> {
    let https = state.config.is_https();
    let st = state.clone();
    let SignedIn {
        session: s,
        user,
        school,
    } = signed_in;
    let name = user.given_name.clone();
    let beheer = broker::beheer::is_active_coordinator(&user);
    let school_name = school.name.clone();
    // Staff reach the school's shortcuts and devices from here.
    let staff = user.is_active_staff().then(|| StaffLinks {
        school: school.instelling_ref,
        enrol: broker::devices::may_enrol(&user, &school.instelling_ref),
        manage: broker::devices::may_manage(&user, &school.instelling_ref),
    });
    let prepared = failure::blocking(move || {
        crate::lesmateriaal::prepare(&st, &school, &user, &s).map_err(PageError::from)
    })
    .await?;
    let deadline = std::time::Duration::from_millis(state.config.licence_lookup.deadline_ms);
    let (apps, picture_tiles, waiting) =
        crate::lesmateriaal::tiles(&state, prepared, deadline).await;
    let c = Chrome::of(&req, &state, None).await;
    let (token, cookie) = state.csrf.issue(&req, https);
    let page = StartPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        name,
        school: school_name,
        apps,
        picture_tiles,
        waiting,
        csrf_token: token,
        enrol_action: staff
            .as_ref()
            .filter(|s| s.enrol)
            .map(|s| format!("/school/{}/apparaat", s.school)),
        devices_link: staff
            .as_ref()
            .filter(|s| s.manage)
            .map(|s| format!("/school/{}/apparaten", s.school)),
        shortcuts_link: staff.map(|s| format!("/school/{}/snelkoppelingen", s.school)),
        beheer,
    };
    Ok(with_cookie(html(StatusCode::OK, page.render()), cookie))
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub csrf_token: String,
}

csrf_protected!(CsrfForm);

/// POST `/uitloggen`: end the session from our own page.
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    CsrfChecked(_): CsrfChecked<CsrfForm>,
) -> HttpResponse {
    let https = state.config.is_https();
    let c = Chrome::of(&req, &state, None).await;
    if let Some(sid) = session::sid_of(&req, https) {
        let st = state.clone();
        let now = state.clock.now_secs();
        let (deliveries, saml_logout) =
            web::block(move || match session::load(st.store.as_ref(), &sid, now) {
                // SAML service providers of the session are told over the front channel;
                // then (or else) the network environment the user came in through.
                Ok(Some(s)) => {
                    let upstream = crate::upstream_oidc::logout_url(&st, &s)
                        .or_else(|| crate::saml::upstream_sp::logout_request_url(&st, &s, now));
                    (
                        logout::terminate(&st, &s, now),
                        crate::saml::slo::start_chain(&st, &s, upstream.clone(), now).or(upstream),
                    )
                }
                _ => (Vec::new(), None),
            })
            .await
            .unwrap_or_default();
        logout::deliver(deliveries);
        if let Some(to) = saml_logout {
            let mut res = redirect(&to);
            let _ = res.add_cookie(&session::clear_session_cookie(https));
            return res;
        }
    }
    let mut res = signed_out(&c);
    let _ = res.add_cookie(&session::clear_session_cookie(https));
    res
}

/// The page after signing out, with the way back to signing in.
pub fn signed_out(c: &Chrome) -> HttpResponse {
    message(
        c,
        StatusCode::OK,
        c.t.signed_out_title,
        c.t.signed_out,
        None,
        Some(("/login", c.t.sign_in_again)),
    )
}

/// The warning after a session was ended because it was used from elsewhere
/// (potentiële sessie-overname), with the way back to signing in at `sign_in`.
pub fn takeover(c: &Chrome, sign_in: &str, https: bool) -> HttpResponse {
    let mut res = message(
        c,
        StatusCode::OK,
        c.t.takeover_title,
        c.t.takeover,
        None,
        Some((sign_in, c.t.sign_in_again)),
    );
    let _ = res.add_cookie(&session::clear_session_cookie(https));
    res
}

/// A file built into the binary (a script or the stylesheet), cached for an hour.
pub fn built_in(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// The challenge solver, built into the binary.
pub async fn challenge_script() -> HttpResponse {
    built_in(
        "text/javascript; charset=utf-8",
        include_str!("../../static/challenge.js"),
    )
}

/// The password strength meter's script, built into the binary.
pub async fn password_script() -> HttpResponse {
    built_in(
        "text/javascript; charset=utf-8",
        include_str!("../../static/wachtwoord.js"),
    )
}

/// The picture-password script, built into the binary.
pub async fn pictures_script() -> HttpResponse {
    built_in(
        "text/javascript; charset=utf-8",
        include_str!("../../static/plaatjes.js"),
    )
}

/// GET `/static/plaatjes/{name}.svg`: a pupil picture or picture-password picture.
pub async fn picture(path: web::Path<String>) -> HttpResponse {
    match path.strip_suffix(".svg").and_then(crate::pictures::by_name) {
        Some(p) => HttpResponse::Ok()
            .content_type("image/svg+xml")
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(p.svg),
        None => HttpResponse::NotFound().finish(),
    }
}

/// The stylesheet, built into the binary.
pub async fn stylesheet() -> HttpResponse {
    built_in(
        "text/css; charset=utf-8",
        include_str!("../../static/leerpoort.css"),
    )
}
