//! The substitute teacher's sign-in link (`/invalkracht/{token}`), mailed when the ICT
//! coordinator activates a group's substitute account. Opening the link only asks (a mail
//! scanner that fetches it signs nobody in); the button signs in, for a session that ends when
//! the substitution does. The link works until then, on any device; an unknown, malformed or
//! ended link gets one and the same page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::extract::{ClientAddr, CsrfChecked};
use super::failure::{self, PageError};
use super::groepen::ConfirmPage;
use super::pages::{self, Chrome, CsrfForm};
use crate::app::AppState;
use crate::session;

fn expired(c: &Chrome) -> HttpResponse {
    let b = c.t.beheer;
    pages::message(
        c,
        StatusCode::NOT_FOUND,
        b.link_expired_title,
        b.link_expired,
        None,
        None,
    )
}

/// GET `/invalkracht/{token}`: what the link does, and its button.
pub async fn link_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = path.into_inner();
    let st = state.clone();
    let now = state.clock.now_secs();
    let valid = failure::blocking(move || {
        Ok(broker::beheer::substitutes::by_link(st.dir.as_ref(), &token, now)?.is_some())
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    if !valid {
        return Ok(expired(&c));
    }
    let (csrf, cookie) = state.csrf.issue(&req, state.config.is_https());
    let b = c.t.beheer;
    let words = [b.link_title, b.link_intro, b.link_button];
    let page = ConfirmPage::new(c, req.path().to_string(), csrf, words, ("/", "Leerpoort"));
    Ok(pages::with_cookie(
        pages::html(StatusCode::OK, page.render()),
        cookie,
    ))
}

/// POST `/invalkracht/{token}`: sign in as the group's substitute, on to the group overview.
pub async fn link_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    ClientAddr(ip): ClientAddr,
    CsrfChecked(_): CsrfChecked<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let https = state.config.is_https();
    let token = path.into_inner();
    let previous = session::sid_of(&req, https);
    let st = state.clone();
    let started = failure::blocking(move || {
        Ok(broker::beheer::substitutes::sign_in(
            &st.world(),
            &token,
            ip.as_deref(),
            previous.as_deref(),
        )?)
    })
    .await?;
    let Some(s) = started else {
        let c = Chrome::of(&req, &state, None).await;
        return Ok(expired(&c));
    };
    let mut res = pages::redirect("/groepen");
    let _ = res.add_cookie(&session::session_cookie(&s, https));
    Ok(res)
}
