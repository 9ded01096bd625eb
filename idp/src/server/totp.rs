//! The second factor's pages: the code after the password (`/login/tweede-stap`, also the
//! enrolment a coordinator must finish there when the second factor is required), and the
//! enrolment a signed-in coordinator chooses (`/tweede-stap`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use broker::login::staff::{self, SecondStepOutcome};
use broker::login::totp::{self, CodeCheck};
use catalogue::Texts;
use serde::Deserialize;

use super::extract::{csrf_protected, opaque_debug, CsrfChecked, Staff};
use super::pages::{self, Chrome};
use crate::app::AppState;
use crate::oidc::authorize;
use crate::session;
use crate::shortcut;

/// The cookie naming a pending second step.
const COOKIE: &str = "lp_tweede_stap";
/// The label prefix in authenticator apps.
const ISSUER: &str = "Leerpoort";
/// What a sealed enrolment secret starts with (see `broker::login::staff::enrolment_secret`).
const ENROL_TAG: &str = "totp-enrol:";

/// What the enrolment page shows.
#[derive(Debug)]
struct EnrolView {
    qr_svg: String,
    grouped: String,
    /// Only for the signed-in enrolment: the new secret, sealed for this user.
    sealed: String,
}

/// What differs between the second step of a sign-in and the enrolment a signed-in
/// coordinator chooses.
#[derive(Debug)]
struct Step<'a> {
    action: &'static str,
    auth: &'a str,
    target: &'a str,
    enrol: Option<EnrolView>,
    required: bool,
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage<'a> {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    csrf_token: String,
    step: Step<'a>,
    error: Option<&'a str>,
}

/// The code form (with the enrolment, if any), with a fresh CSRF token.
fn show(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    c: &Chrome,
    step: Step,
    error: Option<&str>,
) -> HttpResponse {
    let (csrf, cookie) = state.csrf.issue(req, state.config.is_https());
    let page = TotpPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice.clone(),
        csrf_token: csrf,
        step,
        error,
    };
    pages::with_cookie(pages::html(StatusCode::OK, page.render()), cookie)
}

fn enrol_view(secret_b32: &str, email: &str, sealed: String) -> Option<EnrolView> {
    let uri = totp::otpauth_uri(secret_b32, email, ISSUER);
    let qr_svg = crate::shortcut_files::qr_svg_inline(&uri, 220).ok()?;
    Some(EnrolView {
        qr_svg,
        grouped: totp::grouped(secret_b32),
        sealed,
    })
}

/// After a right password: to the second step, remembering where the sign-in leads.
pub fn to_second_step(id: &str, auth: &str, target: &str, https: bool) -> HttpResponse {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("auth", auth)
        .append_pair("target", target)
        .finish();
    let mut res = pages::redirect(&format!("/login/tweede-stap?{query}"));
    let cookie = crate::cookie::cookie(
        COOKIE,
        id.to_string(),
        https,
        i64::try_from(staff::SECOND_STEP_TTL.as_secs()).ok(),
    );
    let _ = res.add_cookie(&cookie);
    res
}

fn pending_id(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

#[derive(Debug, Deserialize)]
pub struct StepQuery {
    #[serde(default)]
    auth: String,
    #[serde(default)]
    target: String,
}

fn expired(c: &Chrome) -> HttpResponse {
    pages::message(
        c,
        StatusCode::BAD_REQUEST,
        c.t.totp_title,
        c.t.totp_expired,
        None,
        Some(("/login", c.t.sign_in)),
    )
}

#[allow(clippy::too_many_arguments)]
async fn render_step(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    c: &Chrome,
    id: String,
    auth: &str,
    target: &str,
    error: Option<&str>,
) -> HttpResponse {
    let st = state.clone();
    let view = web::block(move || {
        let pending = staff::second_step(&st.world(), &id)?;
        let enrol = match staff::enrolment_secret(&st.sealer, &pending) {
            Some(secret) => Some(enrol_view(&secret, &pending.email, String::new())?),
            None => None,
        };
        Some(enrol)
    })
    .await
    .ok()
    .flatten();
    let Some(enrol) = view else {
        return expired(c);
    };
    let step = Step {
        action: "/login/tweede-stap",
        auth,
        target,
        required: enrol.is_some(),
        enrol,
    };
    show(req, state, c, step, error)
}

/// GET `/login/tweede-stap`: the code form, or the enrolment a requirement demands.
pub async fn step_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<StepQuery>,
) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    let Some(id) = pending_id(&req) else {
        return expired(&c);
    };
    render_step(&req, &state, &c, id, &q.auth, &q.target, None).await
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf_token: String,
    code: String,
    #[serde(default)]
    auth: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    sealed: String,
}

opaque_debug!(CodeForm);

csrf_protected!(CodeForm);

/// POST `/login/tweede-stap`: check the code and finish the sign-in.
pub async fn step_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    CsrfChecked(form): CsrfChecked<CodeForm>,
) -> HttpResponse {
    let https = state.config.is_https();
    let c = Chrome::of(&req, &state, None).await;
    let Some(id) = pending_id(&req) else {
        return expired(&c);
    };
    let st = state.clone();
    let (pid, code, target) = (id.clone(), form.code.clone(), form.target.clone());
    let now = state.clock.now_secs();
    let result = web::block(move || {
        let outcome = staff::finish_second_step(&st.world(), &st.sealer, &pid, &code, now);
        let dest = match (&outcome, target.split_once('|')) {
            (SecondStepOutcome::Ok(s), Some((school, t))) if !t.is_empty() => {
                shortcut::resolve_school(&st, school)
                    .ok()
                    .filter(|sc| sc.instelling_ref == s.school)
                    .and_then(|sc| shortcut::resolve_target(&st, &sc, t).ok())
                    .map(|t| shortcut::destination(&st, Some(&t)))
            }
            _ => None,
        };
        (outcome, dest)
    })
    .await;
    let mut clear = crate::cookie::cookie(COOKIE, String::new(), https, None);
    clear.make_removal();
    match result {
        Ok((SecondStepOutcome::Ok(s), dest)) => {
            let to = if !form.auth.is_empty() {
                authorize::resume_url(&form.auth)
            } else {
                dest.unwrap_or_else(|| "/".into())
            };
            let mut res = pages::redirect(&to);
            let _ = res.add_cookie(&session::session_cookie(&s, https));
            let _ = res.add_cookie(&clear);
            res
        }
        Ok((SecondStepOutcome::Refused, _)) => {
            render_step(
                &req,
                &state,
                &c,
                id,
                &form.auth,
                &form.target,
                Some(c.t.totp_wrong),
            )
            .await
        }
        Ok((SecondStepOutcome::Throttled, _)) => {
            let mut res = pages::message(
                &c,
                StatusCode::TOO_MANY_REQUESTS,
                c.t.totp_title,
                c.t.throttled,
                None,
                Some(("/login", c.t.sign_in)),
            );
            let _ = res.add_cookie(&clear);
            res
        }
        Ok((SecondStepOutcome::Expired, _)) => expired(&c),
        Ok((SecondStepOutcome::Unavailable, _)) | Err(_) => pages::unavailable(&c, c.t.totp_title),
    }
}

/// The signed-in coordinator, or the page to show instead.
fn coordinator(staff: Staff, c: &Chrome) -> Result<broker::model::User, Box<HttpResponse>> {
    if totp::is_coordinator(&staff.user) {
        return Ok(staff.user);
    }
    Err(Box::new(pages::message(
        c,
        StatusCode::FORBIDDEN,
        c.t.totp_enrol_title,
        c.t.totp_coordinators_only,
        None,
        Some(("/", c.t.go)),
    )))
}

/// A page of the signed-in enrolment that says how it went, with the way to the start page.
fn enrolment_message(c: &Chrome, text: &str) -> HttpResponse {
    pages::message(
        c,
        StatusCode::OK,
        c.t.totp_enrol_title,
        text,
        None,
        Some(("/", c.t.go)),
    )
}

fn render_enrolment(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    c: &Chrome,
    user: &broker::model::User,
    sealed: String,
    secret: &str,
    error: Option<&str>,
) -> HttpResponse {
    let Some(view) = enrol_view(secret, user.email.as_deref().unwrap_or(""), sealed) else {
        return pages::unavailable(c, c.t.totp_enrol_title);
    };
    let step = Step {
        action: "/tweede-stap",
        auth: "",
        target: "",
        enrol: Some(view),
        required: false,
    };
    show(req, state, c, step, error)
}

/// GET `/tweede-stap`: a signed-in coordinator sets up the second factor.
pub async fn enrol_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    let user = match coordinator(staff, &c) {
        Ok(u) => u,
        Err(res) => return *res,
    };
    let st = state.clone();
    let uid = user.id;
    let made = web::block(move || -> Option<Result<(String, String), ()>> {
        match totp::enrolled(&st.world(), uid) {
            Ok(true) => return None,
            Ok(false) => {}
            Err(_) => return Some(Err(())),
        }
        let secret = totp::new_secret().map_err(|_| ());
        Some(secret.and_then(|s| {
            st.sealer
                .seal(uid, &format!("{ENROL_TAG}{s}"))
                .map(|sealed| (s, sealed))
                .map_err(|_| ())
        }))
    })
    .await;
    match made {
        Ok(None) => enrolment_message(&c, c.t.totp_already),
        Ok(Some(Ok((secret, sealed)))) => {
            render_enrolment(&req, &state, &c, &user, sealed, &secret, None)
        }
        Ok(Some(Err(()))) | Err(_) => pages::unavailable(&c, c.t.totp_enrol_title),
    }
}

/// POST `/tweede-stap`: the first code confirms the new secret.
pub async fn enrol_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfChecked(form): CsrfChecked<CodeForm>,
) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    let user = match coordinator(staff, &c) {
        Ok(u) => u,
        Err(res) => return *res,
    };
    // Sealed for this user with a fresh nonce: it cannot be forged, nor used by someone else.
    let Some(secret) = state
        .sealer
        .open(user.id, &form.sealed)
        .and_then(|p| p.strip_prefix(ENROL_TAG).map(str::to_string))
    else {
        return pages::page_expired(&c);
    };
    let st = state.clone();
    let (u, s, code) = (user.clone(), secret.clone(), form.code.clone());
    let now = state.clock.now_secs();
    let check = web::block(move || {
        if totp::enrolled(&st.world(), u.id).unwrap_or(true) {
            return None;
        }
        Some(totp::confirm_enrolment(
            &st.world(),
            &st.sealer,
            &u,
            &s,
            &code,
            now,
        ))
    })
    .await;
    match check {
        Ok(Some(CodeCheck::Accepted)) => enrolment_message(&c, c.t.totp_enrolled),
        Ok(None) => enrolment_message(&c, c.t.totp_already),
        Ok(Some(CodeCheck::Refused)) => render_enrolment(
            &req,
            &state,
            &c,
            &user,
            form.sealed,
            &secret,
            Some(c.t.totp_wrong),
        ),
        Ok(Some(CodeCheck::Unavailable)) | Err(_) => pages::unavailable(&c, c.t.totp_enrol_title),
    }
}
