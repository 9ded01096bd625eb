//! Pages for "Wachtwoord vergeten" and for setting a password with a link.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::pages::{self, Chrome};
use crate::app::AppState;
use crate::i18n::Texts;
use crate::password::{self, PasswordError};

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    csrf_token: String,
    sent: bool,
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
}

/// GET `/wachtwoord-vergeten`.
pub async fn forgot_form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    let (token, cookie) = state.csrf.issue(&req, state.config.is_https());
    let page = ForgotPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        csrf_token: token,
        sent: false,
    };
    let mut res = pages::html(StatusCode::OK, page.render());
    if let Some(c) = cookie {
        let _ = res.add_cookie(&c);
    }
    res
}

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    csrf_token: String,
    email: String,
}

/// POST `/wachtwoord-vergeten`: the same answer whether or not the address is known.
pub async fn forgot_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ForgotForm>,
) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    if !state
        .csrf
        .verify(&req, state.config.is_https(), &form.csrf_token)
    {
        return pages::page_expired(&c);
    }
    let st = state.clone();
    let email = form.into_inner().email;
    let now = state.clock.now_secs();
    let _ = web::block(move || password::request_link(&st, &email, now)).await;
    let page = ForgotPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        csrf_token: String::new(),
        sent: true,
    };
    pages::html(StatusCode::OK, page.render())
}

async fn set_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    token: &str,
    error: Option<&str>,
) -> HttpResponse {
    let c = Chrome::of(req, state, None).await;
    let (csrf, cookie) = state.csrf.issue(req, state.config.is_https());
    let page = SetPasswordPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        csrf_token: csrf,
        action: format!("/wachtwoord/{token}"),
        error,
    };
    let mut res = pages::html(StatusCode::OK, page.render());
    if let Some(c) = cookie {
        let _ = res.add_cookie(&c);
    }
    res
}

/// GET `/wachtwoord/{token}`.
pub async fn set_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let token = path.into_inner();
    let st = state.clone();
    let t = token.clone();
    let valid = web::block(move || password::link_valid(&st, &t))
        .await
        .unwrap_or(false);
    if !valid {
        let c = Chrome::of(&req, &state, None).await;
        return pages::message(
            &c,
            StatusCode::NOT_FOUND,
            c.t.new_password_title,
            c.t.link_expired,
            None,
            Some(("/wachtwoord-vergeten", c.t.forgot_link)),
        );
    }
    set_page(&req, &state, &token, None).await
}

#[derive(Deserialize)]
pub struct SetForm {
    csrf_token: String,
    password: String,
    repeat: String,
}

impl std::fmt::Debug for SetForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetForm { .. }")
    }
}

/// POST `/wachtwoord/{token}`.
pub async fn set_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<SetForm>,
) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    if !state
        .csrf
        .verify(&req, state.config.is_https(), &form.csrf_token)
    {
        return pages::page_expired(&c);
    }
    let token = path.into_inner();
    let form = form.into_inner();
    let st = state.clone();
    let t = token.clone();
    let now = state.clock.now_secs();
    match web::block(move || password::set_with_link(&st, &t, &form.password, &form.repeat, now))
        .await
    {
        Ok(Ok(_)) => pages::message(
            &c,
            StatusCode::OK,
            c.t.new_password_title,
            c.t.password_saved,
            None,
            Some(("/login", c.t.sign_in)),
        ),
        Ok(Err(PasswordError::Mismatch)) => {
            set_page(&req, &state, &token, Some(c.t.passwords_differ)).await
        }
        Ok(Err(PasswordError::Rules(_))) => {
            set_page(&req, &state, &token, Some(c.t.password_weak)).await
        }
        Ok(Err(PasswordError::InvalidLink)) => pages::message(
            &c,
            StatusCode::NOT_FOUND,
            c.t.new_password_title,
            c.t.link_expired,
            None,
            Some(("/wachtwoord-vergeten", c.t.forgot_link)),
        ),
        Ok(Err(PasswordError::Unavailable)) | Err(_) => pages::message(
            &c,
            StatusCode::SERVICE_UNAVAILABLE,
            c.t.new_password_title,
            c.t.unavailable,
            None,
            None,
        ),
    }
}
