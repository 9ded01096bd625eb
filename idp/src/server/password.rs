//! Pages for "Wachtwoord vergeten" and for setting a password with a link, at both entrances:
//! staff (`/wachtwoord-vergeten`, `/wachtwoord/{token}`) and home accounts
//! (`/thuis/wachtwoord-vergeten`, `/thuis/wachtwoord/{token}`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use broker::keyspace::{Key, Limit};
use broker::login::password::{self, PasswordError};
use broker::login::password_policy::{self, Advice, WeakPassword};
use broker::login::thuis;
use catalogue::Texts;
use serde::Deserialize;

use super::extract::{csrf_protected, opaque_debug, CsrfChecked};
use super::pages::{self, Chrome};
use crate::app::AppState;
use crate::session;

/// Which entrance a password page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entrance {
    Staff,
    Home,
}

impl Entrance {
    fn forgot(self) -> &'static str {
        match self {
            Self::Staff => "/wachtwoord-vergeten",
            Self::Home => "/thuis/wachtwoord-vergeten",
        }
    }

    fn set(self, token: &str) -> String {
        match self {
            Self::Staff => format!("/wachtwoord/{token}"),
            Self::Home => format!("/thuis/wachtwoord/{token}"),
        }
    }

    fn sign_in(self) -> &'static str {
        match self {
            Self::Staff => "/login",
            Self::Home => "/thuis",
        }
    }

    fn intro(self, t: &'static Texts) -> &'static str {
        match self {
            Self::Staff => t.forgot_intro,
            Self::Home => t.home_forgot_intro,
        }
    }

    fn sent(self, t: &'static Texts) -> &'static str {
        match self {
            Self::Staff => t.forgot_sent,
            Self::Home => t.home_forgot_sent,
        }
    }

    fn saved(self, t: &'static Texts) -> &'static str {
        match self {
            Self::Staff => t.password_saved,
            Self::Home => t.home_password_saved,
        }
    }

    fn request_link(self, state: &AppState, email: &str, now: i64) {
        match self {
            Self::Staff => password::request_link(&state.world(), email, now),
            Self::Home => thuis::request_link(&state.world(), email, now),
        }
    }

    fn link_valid(self, state: &AppState, token: &str, now: i64) -> bool {
        match self {
            Self::Staff => password::link_valid(&state.world(), token),
            Self::Home => thuis::link_valid(&state.world(), token, now),
        }
    }

    /// The words that make a password guessable for the owner of this link.
    fn hints(self, state: &AppState, token: &str, now: i64) -> Vec<String> {
        match self {
            Self::Staff => password::link_user(&state.world(), token)
                .map(|u| password::staff_hints(&state.world(), &u))
                .unwrap_or_default(),
            Self::Home if password::well_formed(token) => {
                password::home_hints(&state.world(), &thuis::token_hash(token), now)
            }
            Self::Home => Vec::new(),
        }
    }

    fn set_with_link(
        self,
        state: &AppState,
        token: &str,
        password: &str,
        repeat: &str,
        now: i64,
    ) -> Result<(), PasswordError> {
        match self {
            Self::Staff => {
                password::set_with_link(&state.world(), token, password, repeat, now).map(|_| ())
            }
            Self::Home => {
                thuis::set_password_with_link(&state.world(), token, password, repeat, now)
                    .map(|_| ())
            }
        }
    }
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    csrf_token: String,
    sent: bool,
    action: &'static str,
    intro: &'static str,
    sent_text: &'static str,
    sign_in: &'static str,
}

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage<'a> {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    csrf_token: String,
    action: String,
    error: Option<&'a str>,
    advice: Vec<&'static str>,
    entrance: &'static str,
    token: &'a str,
}

/// A password page's entrance, as the type parameter of its handlers (the routes name it).
pub trait Side {
    const AT: Entrance;
}

/// The staff entrance: `/wachtwoord-vergeten`, `/wachtwoord/{token}`.
#[derive(Debug)]
pub struct AtSchool;

impl Side for AtSchool {
    const AT: Entrance = Entrance::Staff;
}

/// The home entrance: `/thuis/wachtwoord-vergeten`, `/thuis/wachtwoord/{token}`.
#[derive(Debug)]
pub struct AtHome;

impl Side for AtHome {
    const AT: Entrance = Entrance::Home;
}

fn forgot_page(c: Chrome, at: Entrance, csrf_token: String, sent: bool) -> ForgotPage {
    ForgotPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        csrf_token,
        sent,
        action: at.forgot(),
        intro: at.intro(c.t),
        sent_text: at.sent(c.t),
        sign_in: at.sign_in(),
    }
}

/// GET `/wachtwoord-vergeten`, `/thuis/wachtwoord-vergeten`.
pub async fn forgot_form<S: Side>(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    let (token, cookie) = state.csrf.issue(&req, state.config.is_https());
    let page = forgot_page(c, S::AT, token, false);
    pages::with_cookie(pages::html(StatusCode::OK, page.render()), cookie)
}

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    csrf_token: String,
    email: String,
}

csrf_protected!(ForgotForm);

/// POST `/wachtwoord-vergeten`, `/thuis/wachtwoord-vergeten`: the same answer whether or not
/// the address is known.
pub async fn forgot_submit<S: Side>(
    req: HttpRequest,
    state: web::Data<AppState>,
    CsrfChecked(form): CsrfChecked<ForgotForm>,
) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    let st = state.clone();
    let email = form.email;
    let now = state.clock.now_secs();
    let _ = web::block(move || S::AT.request_link(&st, &email, now)).await;
    let page = forgot_page(c, S::AT, String::new(), true);
    pages::html(StatusCode::OK, page.render())
}

async fn set_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    at: Entrance,
    token: &str,
    error: Option<&str>,
    advice: &[Advice],
) -> HttpResponse {
    let c = Chrome::of(req, state, None).await;
    let (csrf, cookie) = state.csrf.issue(req, state.config.is_https());
    let page = SetPasswordPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        csrf_token: csrf,
        action: at.set(token),
        error,
        advice: advice.iter().map(|a| a.text(c.t)).collect(),
        entrance: match at {
            Entrance::Staff => "school",
            Entrance::Home => "thuis",
        },
        token,
    };
    pages::with_cookie(pages::html(StatusCode::OK, page.render()), cookie)
}

/// The link is unknown, used or expired: the way to ask for a new one.
fn link_expired(c: &Chrome, at: Entrance) -> HttpResponse {
    pages::message(
        c,
        StatusCode::NOT_FOUND,
        c.t.new_password_title,
        c.t.link_expired,
        None,
        Some((at.forgot(), c.t.forgot_link)),
    )
}

/// GET `/wachtwoord/{token}`, `/thuis/wachtwoord/{token}` (a parent's activation or reset
/// link).
pub async fn set_form<S: Side>(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let at = S::AT;
    let token = path.into_inner();
    let st = state.clone();
    let t = token.clone();
    let now = state.clock.now_secs();
    let valid = web::block(move || at.link_valid(&st, &t, now))
        .await
        .unwrap_or(false);
    if !valid {
        let c = Chrome::of(&req, &state, None).await;
        return link_expired(&c, at);
    }
    set_page(&req, &state, at, &token, None, &[]).await
}

#[derive(Deserialize)]
pub struct SetForm {
    csrf_token: String,
    password: String,
    repeat: String,
}

opaque_debug!(SetForm);

csrf_protected!(SetForm);

/// POST `/wachtwoord/{token}`, `/thuis/wachtwoord/{token}` (the parent's password activates
/// the home account).
pub async fn set_submit<S: Side>(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfChecked(form): CsrfChecked<SetForm>,
) -> HttpResponse {
    let at = S::AT;
    let c = Chrome::of(&req, &state, None).await;
    let token = path.into_inner();
    let st = state.clone();
    let t = token.clone();
    let now = state.clock.now_secs();
    match web::block(move || at.set_with_link(&st, &t, &form.password, &form.repeat, now)).await {
        Ok(Ok(())) => pages::message(
            &c,
            StatusCode::OK,
            c.t.new_password_title,
            at.saved(c.t),
            None,
            Some((at.sign_in(), c.t.sign_in)),
        ),
        Ok(Err(PasswordError::Mismatch)) => {
            set_page(&req, &state, at, &token, Some(c.t.passwords_differ), &[]).await
        }
        Ok(Err(PasswordError::Weak(weak))) => {
            set_page(
                &req,
                &state,
                at,
                &token,
                Some(weakness_text(&weak, c.t)),
                weak.advice(),
            )
            .await
        }
        Ok(Err(PasswordError::InvalidLink)) => link_expired(&c, at),
        Ok(Err(PasswordError::Unavailable | PasswordError::Hash(_))) | Err(_) => {
            pages::unavailable(&c, c.t.new_password_title)
        }
    }
}

fn weakness_text(weak: &WeakPassword, t: &'static Texts) -> &'static str {
    match weak {
        WeakPassword::TooShort => t.password_too_short,
        WeakPassword::TooLong => t.password_too_long,
        WeakPassword::Guessable(_) => t.password_weak,
    }
}

/// Strength checks per client address in [`STRENGTH_WINDOW`] (a meter asks once per pause in
/// typing).
pub const STRENGTH_LIMIT: u64 = 200;
/// The window of [`STRENGTH_LIMIT`].
pub const STRENGTH_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[derive(Deserialize)]
pub struct StrengthForm {
    csrf_token: String,
    password: String,
    /// `school` (staff) or `thuis` (home account).
    #[serde(default)]
    entrance: String,
    /// The link's token, for the owner's names (optional).
    #[serde(default)]
    token: String,
}

opaque_debug!(StrengthForm);

/// POST `/wachtwoord/sterkte`: the strength meter's question. The same rule as saving
/// ([`password_policy::estimate`], with the link owner's names), so the meter never says
/// "strong" for a password the server refuses. CSRF-protected, limited per client address;
/// the password is neither stored nor logged.
pub async fn strength(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StrengthForm>,
) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    if !state
        .csrf
        .verify(&req, state.config.is_https(), &form.csrf_token)
    {
        return HttpResponse::Forbidden().json(serde_json::json!({"error": "csrf"}));
    }
    let ip = session::client_ip(&req, &state).unwrap_or_else(|| "unknown".into());
    let key = Key::Limit(Limit::PasswordStrength(&ip));
    match state.store.incr(&key, STRENGTH_WINDOW) {
        Ok(n) if n <= STRENGTH_LIMIT => {}
        Ok(_) => {
            return HttpResponse::TooManyRequests().json(serde_json::json!({"error": "throttled"}))
        }
        Err(_) => {
            return HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"error": "unavailable"}))
        }
    }
    let form = form.into_inner();
    let at = if form.entrance == "thuis" {
        Entrance::Home
    } else {
        Entrance::Staff
    };
    let st = state.clone();
    let now = state.clock.now_secs();
    let Ok(estimate) = web::block(move || {
        let hints = at.hints(&st, &form.token, now);
        password_policy::estimate(&form.password, &hints)
    })
    .await
    else {
        return HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"error": "unavailable"}));
    };
    let mut messages: Vec<&str> = Vec::new();
    match &estimate.problem {
        None => messages.push(c.t.strength_ok),
        Some(weak) => {
            messages.push(weakness_text(weak, c.t));
            messages.extend(weak.advice().iter().map(|a| a.text(c.t)));
        }
    }
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "score": estimate.score,
            "acceptable": estimate.acceptable,
            "level": c.t.strength_levels.get(usize::from(estimate.score)).copied().unwrap_or(""),
            "messages": messages,
        }))
}
