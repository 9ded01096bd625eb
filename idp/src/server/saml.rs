//! HTTP handlers of the SAML endpoints: parse, call `crate::saml`, render.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use broker::release::Denial;
use catalogue::Texts;
use serde::Deserialize;

use super::pages::{self, Chrome, MessageText};
use crate::app::AppState;
use crate::oidc::logout;
use crate::saml::error::{refusal_page, Refusal};
use crate::saml::slo::{self, SloOutcome};
use crate::saml::sso::{self, Inbound, Outcome};
use crate::saml::{metadata, ENCODED_MAX};
use crate::session;

/// The most an HTTP-POST binding body may be (the encoded message and RelayState).
pub const POST_BODY_LIMIT: usize = ENCODED_MAX + 1024;

#[derive(Template)]
#[template(path = "saml_post.html")]
struct PostPage<'a> {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    text: MessageText<'a>,
    acs: &'a str,
    saml_response: &'a str,
    relay_state: Option<&'a str>,
    auto: bool,
    /// On a refusal: the error code and the request's kenmerk.
    reference: Option<super::reference::Reference>,
}

/// GET `/saml/metadata`.
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    let now = state.clock.now_secs();
    match web::block(move || metadata::signed(&st, now)).await {
        Ok(Ok(xml)) => HttpResponse::Ok()
            .content_type("application/samlmetadata+xml")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(xml),
        _ => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn refused(req: &HttpRequest, state: &web::Data<AppState>, r: Refusal) -> HttpResponse {
    let c = Chrome::of(req, state, None).await;
    let (title, text) = refusal_page(&r, c.t);
    let status = match r {
        Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let reference = super::reference::for_request(req, super::reference::refusal_code(&r));
    pages::message_with_reference(
        &c,
        status,
        (title, text, Some(c.t.ask_coordinator)),
        None,
        Some(reference),
    )
}

async fn render(req: &HttpRequest, state: &web::Data<AppState>, o: Outcome) -> HttpResponse {
    match o {
        Outcome::Post {
            acs,
            saml_response,
            relay_state,
        } => {
            let c = Chrome::of(req, state, None).await;
            let page = PostPage {
                t: c.t,
                lang: c.lang,
                notice: c.notice.clone(),
                text: MessageText {
                    title: "Leerpoort",
                    message: c.t.saml_redirecting,
                    hint: None,
                },
                acs: &acs,
                saml_response: &saml_response,
                relay_state: relay_state.as_deref(),
                auto: true,
                reference: None,
            };
            pages::html(StatusCode::OK, page.render())
        }
        Outcome::Login { auth_id } => pages::redirect(&format!("/login?auth={auth_id}")),
        Outcome::Refused(r) => refused(req, state, r).await,
        Outcome::Denied {
            sp_name,
            audience,
            denial,
            acs,
            saml_response,
            relay_state,
        } => {
            let c = Chrome::of(req, state, None).await;
            let denial = denial.unwrap_or(Denial::NotRegistered);
            let (title, text, hint) = pages::denial_texts(&c, &denial, &sp_name, audience);
            let page = PostPage {
                t: c.t,
                lang: c.lang,
                notice: c.notice.clone(),
                text: MessageText {
                    title,
                    message: &text,
                    hint,
                },
                acs: &acs,
                saml_response: &saml_response,
                relay_state: relay_state.as_deref(),
                auto: false,
                reference: Some(super::reference::for_request(
                    req,
                    super::reference::denial_code(&denial),
                )),
            };
            pages::html(StatusCode::FORBIDDEN, page.render())
        }
    }
}

async fn sso_with(req: HttpRequest, state: web::Data<AppState>, inbound: Inbound) -> HttpResponse {
    let browser = session::Browser::of(&req, &state);
    let now = state.clock.now_secs();
    let st = state.clone();
    match web::block(move || sso::sso(&st, inbound, &browser, now)).await {
        Ok(o) => render(&req, &state, o).await,
        Err(_) => refused(&req, &state, Refusal::Unavailable).await,
    }
}

/// GET `/saml/sso`: the HTTP-Redirect binding.
pub async fn sso_redirect(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query = req.query_string().to_string();
    if query.len() > 2 * ENCODED_MAX {
        return refused(&req, &state, Refusal::TooLarge).await;
    }
    sso_with(req, state, Inbound::Redirect { query }).await
}

#[derive(Debug, Deserialize)]
pub struct PostForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// POST `/saml/sso`: the HTTP-POST binding.
pub async fn sso_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    if body.len() > POST_BODY_LIMIT {
        return refused(&req, &state, Refusal::TooLarge).await;
    }
    let Ok(form) = serde_urlencoded_form(&body) else {
        return refused(&req, &state, Refusal::Malformed("not a form".into())).await;
    };
    sso_with(
        req,
        state,
        Inbound::Post {
            saml_request: form.saml_request,
            relay_state: form.relay_state,
        },
    )
    .await
}

fn serde_urlencoded_form(body: &[u8]) -> Result<PostForm, ()> {
    let mut form = PostForm {
        saml_request: None,
        relay_state: None,
    };
    for (k, v) in url::form_urlencoded::parse(body) {
        let slot = match k.as_ref() {
            "SAMLRequest" => &mut form.saml_request,
            "RelayState" => &mut form.relay_state,
            _ => continue,
        };
        if slot.is_some() {
            return Err(());
        }
        *slot = Some(v.into_owned());
    }
    Ok(form)
}

#[derive(Debug, Deserialize)]
pub struct ContinueQuery {
    auth: Option<String>,
}

/// GET `/saml/sso/continue?auth=…`: after sign-in.
pub async fn sso_continue(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ContinueQuery>,
) -> HttpResponse {
    let browser = session::Browser::of(&req, &state);
    let auth = q.into_inner().auth.unwrap_or_default();
    let now = state.clock.now_secs();
    let st = state.clone();
    match web::block(move || sso::resume(&st, &auth, &browser, now)).await {
        Ok(o) => render(&req, &state, o).await,
        Err(_) => refused(&req, &state, Refusal::Unavailable).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct UnsolicitedQuery {
    sp: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// GET `/saml/unsolicited?sp=<entity id>`: an IdP-initiated response (school shortcuts).
pub async fn unsolicited(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<UnsolicitedQuery>,
) -> HttpResponse {
    let q = q.into_inner();
    let Some(sp) = q.sp.filter(|s| !s.is_empty()) else {
        return refused(&req, &state, Refusal::Missing).await;
    };
    let browser = session::Browser::of(&req, &state);
    let now = state.clock.now_secs();
    let st = state.clone();
    let rs = q.relay_state;
    match web::block(move || sso::unsolicited(&st, &sp, rs, &browser, now)).await {
        Ok(o) => render(&req, &state, o).await,
        Err(_) => refused(&req, &state, Refusal::Unavailable).await,
    }
}

/// GET `/saml/slo`: Single Logout over HTTP-Redirect (requests and responses).
pub async fn slo(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let https = state.config.is_https();
    let query = req.query_string().to_string();
    if query.len() > 2 * ENCODED_MAX {
        return refused(&req, &state, Refusal::TooLarge).await;
    }
    let sid = session::sid_of(&req, https);
    let now = state.clock.now_secs();
    let st = state.clone();
    let Ok((outcome, deliveries)) =
        web::block(move || slo::slo(&st, &query, sid.as_deref(), now)).await
    else {
        return refused(&req, &state, Refusal::Unavailable).await;
    };
    logout::deliver(deliveries);
    let mut res = match outcome {
        SloOutcome::Redirect(to) => pages::redirect(&to),
        SloOutcome::SignedOut => {
            let c = Chrome::of(&req, &state, None).await;
            pages::signed_out(&c)
        }
        SloOutcome::Refused(r) => return refused(&req, &state, r).await,
    };
    let _ = res.add_cookie(&session::clear_session_cookie(https));
    res
}

/// GET `/static/saml-post.js`: submits the HTTP-POST binding's form.
pub async fn post_script() -> HttpResponse {
    pages::built_in(
        "text/javascript; charset=utf-8",
        include_str!("../../static/saml-post.js"),
    )
}
