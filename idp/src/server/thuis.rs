//! The home entrance (`/thuis`), separate from the school entrance: the parent signs in with
//! the home address and their own password, picks a child, and the child types its school PIN
//! or clicks its picture password. See [`broker::login::thuis`] for the rules.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use broker::login::challenge::{self, Purpose};
use broker::login::thuis::{self, HomeOutcome, HomeVisit};
use broker::model::{PupilAuth, School, User};
use catalogue::Texts;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{csrf_protected, opaque_debug, CsrfChecked};
use super::pages::{self, Chrome};
use super::school::{
    colour_of, initial_of, picture_of, sign_in_page, NameTile, PupilForm, PupilPageLinks,
    PupilStep, TargetQuery,
};
use crate::app::AppState;
use crate::session;
use crate::shortcut;

#[derive(Template)]
#[template(path = "thuis_login.html")]
struct HomeLoginPage<'a> {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    action: String,
    csrf_token: String,
    email: &'a str,
    error: Option<String>,
    challenge: Option<challenge::Challenge>,
}

#[derive(Template)]
#[template(path = "thuis_kinderen.html")]
struct ChildrenPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    children: Vec<NameTile>,
    /// On a device remembered by home login codes: the ways in for a parent, and for a code.
    on_device: bool,
}

#[derive(Template)]
#[template(path = "thuis_code.html")]
struct CodePage<'a> {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    csrf_token: String,
    code: &'a str,
    error: Option<String>,
}

fn visit_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-lp_thuis"
    } else {
        "lp_thuis"
    }
}

fn visit_cookie(id: String, https: bool) -> Cookie<'static> {
    crate::cookie::cookie(
        visit_cookie_name(https),
        id,
        https,
        Some(thuis::VISIT_TTL.as_secs() as i64),
    )
}

fn clear_visit_cookie(https: bool) -> Cookie<'static> {
    let mut c = crate::cookie::cookie(visit_cookie_name(https), String::new(), https, None);
    c.make_removal();
    c
}

/// `?TARGET=` as it travels between the home pages.
fn tq(target: Option<&str>) -> String {
    match target.filter(|t| !t.is_empty()) {
        Some(t) => format!(
            "?TARGET={}",
            url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
        ),
        None => String::new(),
    }
}

/// The children this device remembers by home login codes (still current), and until when.
async fn device_children(
    req: &HttpRequest,
    state: &web::Data<AppState>,
) -> Option<(Vec<Uuid>, i64)> {
    let device = state
        .devices
        .home_device(req, state.config.is_https(), state.clock.now_secs())?;
    let st = state.clone();
    let expires = device.expires_at;
    let kids = web::block(move || {
        thuis::current_children(
            &st.world(),
            &st.sealer,
            device.children.iter().map(|c| (c.id, c.code_tag.as_str())),
        )
    })
    .await
    .ok()?;
    (!kids.is_empty()).then_some((kids, expires))
}

/// The visit this browser is on, with its id.
fn visit_of(req: &HttpRequest, state: &AppState) -> Option<(String, HomeVisit)> {
    let id = req
        .cookie(visit_cookie_name(state.config.is_https()))?
        .value()
        .to_string();
    let v = thuis::load_visit(&state.world(), &id, state.clock.now_secs())?;
    Some((id, v))
}

/// "Geblokkeerd tot 14:35 (nog 52 minuten)", in Dutch local time.
fn blocked_text(t: &Texts, until: i64, now: i64) -> String {
    let clock = catalogue::local_time(until, "%H:%M");
    let minutes = ((until - now).max(0) + 59) / 60;
    t.home_blocked(&clock, minutes)
}

async fn login_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    target: Option<&str>,
    email: &str,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let c = Chrome::of(req, state, None).await;
    let (token, cookie) = state.csrf.issue(req, state.config.is_https());
    // After failures from this client, the form carries the proof-of-work challenge.
    let ip = session::client_ip(req, state);
    let now = state.clock.now_secs();
    let st = state.clone();
    let challenge = web::block(move || {
        thuis::challenge_needed(&st.world(), ip.as_deref())
            .then(|| {
                st.challenges.issue(
                    now,
                    challenge::MAX_NUMBER,
                    Purpose::HomeLogin,
                    ip.as_deref().unwrap_or("unknown"),
                )
            })
            .flatten()
    })
    .await
    .ok()
    .flatten();
    let page = HomeLoginPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        action: format!("/thuis{}", tq(target)),
        csrf_token: token,
        email,
        error,
        challenge,
    };
    pages::with_cookie(pages::html(status, page.render()), cookie)
}

/// The home entrance's query.
#[derive(Debug, Deserialize)]
pub struct EntranceQuery {
    #[serde(rename = "TARGET")]
    target: Option<String>,
    /// `ouder=1`: the parent's form, also on a device that remembers children.
    ouder: Option<String>,
}

/// GET `/thuis`: the home entrance. A browser in the middle of a visit goes on to the children;
/// a device that remembers children by their home login codes shows their names.
pub async fn entrance(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<EntranceQuery>,
) -> HttpResponse {
    if visit_of(&req, &state).is_some() {
        return pages::redirect(&format!("/thuis/kinderen{}", tq(q.target.as_deref())));
    }
    if q.ouder.is_none() {
        if let Some((kids, _)) = device_children(&req, &state).await {
            return children_page(&req, &state, kids, q.target.as_deref(), true).await;
        }
    }
    login_page(&req, &state, q.target.as_deref(), "", None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct HomeLoginForm {
    csrf_token: String,
    email: String,
    password: String,
    /// The solved proof-of-work challenge, when the form carried one.
    #[serde(default)]
    challenge: String,
}

opaque_debug!(HomeLoginForm);

csrf_protected!(HomeLoginForm);

/// POST `/thuis`: the parent signs in.
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<TargetQuery>,
    CsrfChecked(form): CsrfChecked<HomeLoginForm>,
) -> HttpResponse {
    let https = state.config.is_https();
    let c = Chrome::of(&req, &state, None).await;
    let target = q.target.as_deref();
    let now = state.clock.now_secs();
    let st = state.clone();
    let (email, password) = (form.email.clone(), form.password);
    let ip = session::client_ip(&req, &state);
    let challenge = Some(form.challenge).filter(|c| !c.is_empty());
    let outcome = web::block(move || {
        let outcome = thuis::sign_in(
            &st.world(),
            st.login_keys(),
            &email,
            &password,
            ip.as_deref(),
            challenge.as_deref(),
            now,
        );
        match outcome {
            HomeOutcome::Ok(account) => match thuis::start_visit(&st.world(), &account, now) {
                Ok(id) => HomeOutcome::Ok((id, account.pupils)),
                Err(_) => HomeOutcome::Unavailable,
            },
            HomeOutcome::Wrong => HomeOutcome::Wrong,
            HomeOutcome::Blocked { until } => HomeOutcome::Blocked { until },
            HomeOutcome::Throttled => HomeOutcome::Throttled,
            HomeOutcome::ChallengeRequired => HomeOutcome::ChallengeRequired,
            HomeOutcome::Busy => HomeOutcome::Busy,
            HomeOutcome::Unavailable => HomeOutcome::Unavailable,
        }
    })
    .await
    .unwrap_or(HomeOutcome::Unavailable);
    let error = match outcome {
        HomeOutcome::Ok((id, pupils)) => {
            // One child: straight to its code. Several: their name tiles.
            let next = match pupils.as_slice() {
                [one] => format!("/thuis/kind/{one}{}", tq(target)),
                _ => format!("/thuis/kinderen{}", tq(target)),
            };
            let mut res = pages::redirect(&next);
            let _ = res.add_cookie(&visit_cookie(id, https));
            return res;
        }
        HomeOutcome::Wrong => c.t.wrong_credentials.to_string(),
        HomeOutcome::Blocked { until } => blocked_text(c.t, until, now),
        HomeOutcome::Throttled => c.t.throttled.to_string(),
        HomeOutcome::ChallengeRequired => c.t.challenge_needed.to_string(),
        HomeOutcome::Busy => c.t.busy.to_string(),
        HomeOutcome::Unavailable => c.t.unavailable.to_string(),
    };
    login_page(
        &req,
        &state,
        target,
        form.email.trim(),
        Some(error),
        StatusCode::OK,
    )
    .await
}

/// The children of a visit, as name tiles.
async fn load_children(state: &web::Data<AppState>, ids: Vec<Uuid>) -> Vec<User> {
    let st = state.clone();
    web::block(move || {
        ids.iter()
            .filter_map(|id| st.dir.user(*id).ok().flatten())
            .filter(|u| u.is_pupil() && u.status == broker::model::UserStatus::Active)
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default()
}

/// GET `/thuis/kinderen`: "Wie gaat er inloggen?"
pub async fn children(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<TargetQuery>,
) -> HttpResponse {
    let target = q.target.as_deref();
    let Some((_, visit)) = visit_of(&req, &state) else {
        return pages::redirect(&format!("/thuis{}", tq(target)));
    };
    children_page(&req, &state, visit.pupils, target, false).await
}

async fn children_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    ids: Vec<Uuid>,
    target: Option<&str>,
    on_device: bool,
) -> HttpResponse {
    let kids = load_children(state, ids).await;
    let c = Chrome::of(req, state, None).await;
    let page = ChildrenPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        on_device,
        children: kids
            .iter()
            .map(|u| NameTile {
                url: format!("/thuis/kind/{}{}", u.id, tq(target)),
                name: u.given_name.clone(),
                initial: initial_of(u),
                colour: colour_of(&u.id),
                picture: picture_of(u),
            })
            .collect(),
    };
    pages::html(StatusCode::OK, page.render())
}

/// The visit and the child (and its school) this request is about, if the visit includes it.
async fn visit_child(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    child: Uuid,
) -> Option<(String, HomeVisit, User, School)> {
    let (id, visit) = match visit_of(req, state) {
        Some((id, v)) if v.pupils.contains(&child) => (id, v),
        _ => {
            let (kids, expires) = device_children(req, state).await?;
            if !kids.contains(&child) {
                return None;
            }
            (String::new(), HomeVisit::on_device(kids, child, expires))
        }
    };
    let st = state.clone();
    let (user, school) = web::block(move || -> Option<(User, School)> {
        let user = st.dir.user(child).ok().flatten()?;
        let school = st.dir.school(&user.school).ok().flatten()?;
        Some((user, school))
    })
    .await
    .ok()
    .flatten()?;
    Some((id, visit, user, school))
}

fn home_links(child: &User, t: &'static Texts, target: Option<&str>) -> PupilPageLinks {
    PupilPageLinks {
        action: format!("/thuis/kind/{}{}", child.id, tq(target)),
        back_link: format!("/thuis/kinderen{}", tq(target)),
        explain: Some(t.home_child_explain),
        home: true,
    }
}

/// GET `/thuis/kind/{user}`: the child's own PIN or picture password.
pub async fn child_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    q: web::Query<TargetQuery>,
) -> HttpResponse {
    let target = q.target.as_deref();
    let Some((_, _, child, school)) = visit_child(&req, &state, path.into_inner()).await else {
        return pages::redirect(&format!("/thuis{}", tq(target)));
    };
    let c = Chrome::of(&req, &state, None).await;
    let links = home_links(&child, c.t, target);
    sign_in_page(&req, &state, &school, &child, links, None, &[]).await
}

/// POST `/thuis/kind/{user}`: check the child's code; on success into the software.
pub async fn child_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    q: web::Query<TargetQuery>,
    form: web::Form<PupilForm>,
) -> HttpResponse {
    let https = state.config.is_https();
    let target = q.target.clone().filter(|t| !t.is_empty());
    let c = Chrome::of(&req, &state, None).await;
    let Some((visit_id, visit, child, school)) = visit_child(&req, &state, path.into_inner()).await
    else {
        return pages::message(
            &c,
            StatusCode::OK,
            c.t.home_title,
            c.t.home_visit_over,
            None,
            Some(("/thuis", c.t.sign_in)),
        );
    };
    if !state.csrf.verify(&req, https, &form.csrf_token) {
        return pages::page_expired(&c);
    }
    let entry = match form.into_inner().step(&child, c.t) {
        PupilStep::Check(entry) => entry,
        PupilStep::Pictures(picks, message) => {
            let links = home_links(&child, c.t, target.as_deref());
            return sign_in_page(&req, &state, &school, &child, links, message, &picks).await;
        }
    };
    let ip = session::client_ip(&req, &state);
    let previous = session::sid_of(&req, https);
    let now = state.clock.now_secs();
    let st = state.clone();
    let kid = child.clone();
    let sch = school.clone();
    let t2 = target.clone();
    let result = web::block(move || {
        let outcome = thuis::child_sign_in(
            &st.world(),
            &st.pins,
            &visit_id,
            &visit,
            &kid,
            entry.secret(),
            ip.as_deref(),
            previous.as_deref(),
            now,
        );
        let dest = match &outcome {
            HomeOutcome::Ok(s) => shortcut::destination_of_target(&st, &sch, s, t2.as_deref()),
            _ => None,
        };
        (outcome, dest)
    })
    .await;
    let error = match result {
        Ok((HomeOutcome::Ok(s), dest)) => {
            let mut res = pages::redirect(&dest.unwrap_or_else(|| "/".into()));
            let _ = res.add_cookie(&session::session_cookie(&s, https));
            let _ = res.add_cookie(&clear_visit_cookie(https));
            return res;
        }
        Ok((HomeOutcome::Wrong, _)) if child.pupil_auth == Some(PupilAuth::Picture) => {
            c.t.wrong_pictures.to_string()
        }
        Ok((HomeOutcome::Wrong, _)) => c.t.wrong_pin.to_string(),
        Ok((HomeOutcome::Blocked { until }, _)) => {
            let mut res = pages::message(
                &c,
                StatusCode::OK,
                c.t.home_title,
                &blocked_text(c.t, until, now),
                None,
                Some(("/thuis", c.t.home_title)),
            );
            let _ = res.add_cookie(&clear_visit_cookie(https));
            return res;
        }
        Ok((HomeOutcome::Busy, _)) => c.t.busy.to_string(),
        Ok((_, _)) | Err(_) => c.t.unavailable.to_string(),
    };
    let links = home_links(&child, c.t, target.as_deref());
    sign_in_page(&req, &state, &school, &child, links, Some(&error), &[]).await
}

#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    #[serde(default)]
    code: String,
}

async fn code_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    code: &str,
    error: Option<String>,
) -> HttpResponse {
    let c = Chrome::of(req, state, None).await;
    let (token, cookie) = state.csrf.issue(req, state.config.is_https());
    let page = CodePage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        csrf_token: token,
        code,
        error,
    };
    pages::with_cookie(pages::html(StatusCode::OK, page.render()), cookie)
}

/// GET `/thuis/code[?code=…]`: enter a home login code (the letter's QR code fills it in).
pub async fn code_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<CodeQuery>,
) -> HttpResponse {
    code_page(&req, &state, &q.code, None).await
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf_token: String,
    code: String,
}

opaque_debug!(CodeForm);

csrf_protected!(CodeForm);

/// POST `/thuis/code`: remember this device for the child whose code it is.
pub async fn code_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    CsrfChecked(form): CsrfChecked<CodeForm>,
) -> HttpResponse {
    let https = state.config.is_https();
    let c = Chrome::of(&req, &state, None).await;
    let now = state.clock.now_secs();
    let device = super::school::device_id(&req, https);
    let st = state.clone();
    let code = form.code;
    let typed = code.clone();
    let outcome = web::block(move || thuis::redeem_code(&st.world(), &code, &device, now))
        .await
        .unwrap_or(HomeOutcome::Unavailable);
    let error = match outcome {
        HomeOutcome::Ok(child) => {
            let current = state.devices.home_device(&req, https, now);
            let remembered = crate::device::RememberedChild {
                id: child.id,
                code_tag: thuis::code_tag(&typed),
            };
            let mut res = pages::redirect(&format!("/thuis/kind/{}", child.id));
            let _ = res.add_cookie(
                &state
                    .devices
                    .remember_child(current, remembered, now, https),
            );
            return res;
        }
        HomeOutcome::Wrong => c.t.code_wrong.to_string(),
        HomeOutcome::Blocked { until } => blocked_text(c.t, until, now),
        HomeOutcome::Busy => c.t.busy.to_string(),
        _ => c.t.unavailable.to_string(),
    };
    code_page(&req, &state, "", Some(error)).await
}
