//! The operator console (`/operator`): the operator's pages for school mergers and splits,
//! beside `leerpoort school merge` and `school split`. It is served on a listener of its own
//! (`LEERPOORT_OPERATOR_LISTEN`, off by default), never on the public one, and only to a
//! browser signed in with a one-time link the command makes (`leerpoort operator link`; the
//! `access` module). Every form carries the session's CSRF token; a merger or split is shown
//! first as a preview that writes nothing, and carried out when confirmed, as the actor
//! `operator`. What the broker refuses is shown on the page; nothing is written then.

mod access;
mod console;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpResponse, HttpServer, ResponseError};
use askama::Template;
use broker::repo::RepoError;
use broker::store::StoreError;
use serde::Deserialize;

pub use access::{make_link, Link, LinkError, LINK_MINUTES, LINK_MINUTES_MAX, LINK_SETTING};
use access::{Checked, Redeemed};

use super::extract::ClientAddr;
use super::pages;
use super::BODY_LIMIT;
use crate::app::AppState;

/// Who the audit trail names for what is done in the console.
pub const ACTOR: &str = "operator";

/// The console's application around `state`: what its listener runs and what tests call.
pub fn operator_app(
    state: AppState,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let headers = DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::CACHE_CONTROL, "no-store"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; \
             frame-ancestors 'none'",
        ))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"));
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::PayloadConfig::new(BODY_LIMIT))
        .app_data(web::FormConfig::default().limit(BODY_LIMIT))
        .configure(routes)
        .default_service(web::to(not_found))
        .wrap(headers)
        .wrap(actix_web::middleware::from_fn(super::observe))
}

/// The console's routes.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/operator", web::get().to(console::schools))
        .route(access::SIGN_IN_PATH, web::get().to(sign_in))
        .route("/operator/uitloggen", web::post().to(sign_out))
        .route("/operator/fusie", web::get().to(console::merge_form))
        .route(
            "/operator/fusie/voorbeeld",
            web::post().to(console::merge_preview),
        )
        .route("/operator/fusie", web::post().to(console::merge_confirm))
        .route("/operator/splitsen", web::get().to(console::split_form))
        .route(
            "/operator/splitsen/voorbeeld",
            web::post().to(console::split_preview),
        )
        .route("/operator/splitsen", web::post().to(console::split_confirm))
        .route("/operator/leerpoort.css", web::get().to(pages::stylesheet));
}

/// The console's listener, when `LEERPOORT_OPERATOR_LISTEN` is set: bound, not yet running.
pub(super) fn listener(state: &AppState) -> anyhow::Result<Option<actix_web::dev::Server>> {
    let Some(at) = state.config.operator_listen else {
        return Ok(None);
    };
    let st = state.clone();
    let server = HttpServer::new(move || operator_app(st.clone()))
        .workers(1)
        .bind(at)
        .map_err(|e| anyhow::anyhow!("LEERPOORT_OPERATOR_LISTEN: cannot listen on {at}: {e}"))?;
    for bound in server.addrs() {
        tracing::info!(listen = %bound, "the operator console is served here");
        if !bound.ip().is_loopback() {
            tracing::warn!(
                listen = %bound,
                "the operator console listens beyond loopback: reach it through an SSH tunnel \
                 or a proxy you trust instead"
            );
        }
    }
    Ok(Some(server.shutdown_timeout(5).run()))
}

/// Why a console page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// No console session: 401, and how to get one.
    #[error("not signed in")]
    SignIn,
    /// A form without this session's CSRF token: 403, nothing done.
    #[error("the form's token is missing or wrong")]
    Forbidden,
    /// The database or the ephemeral store did not answer: 503.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl From<RepoError> for OperatorError {
    fn from(e: RepoError) -> Self {
        OperatorError::Unavailable(e.to_string())
    }
}

impl From<StoreError> for OperatorError {
    fn from(e: StoreError) -> Self {
        OperatorError::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for OperatorError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        OperatorError::Unavailable(e.to_string())
    }
}

impl ResponseError for OperatorError {
    fn status_code(&self) -> StatusCode {
        match self {
            OperatorError::SignIn => StatusCode::UNAUTHORIZED,
            OperatorError::Forbidden => StatusCode::FORBIDDEN,
            OperatorError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            OperatorError::SignIn => message(
                status,
                "Not signed in",
                "The operator console is for whoever runs the leerpoort command on the server.",
                Some("Make a sign-in link there with `leerpoort operator link` and open it in this browser."),
            ),
            OperatorError::Forbidden => message(
                status,
                "The form has expired",
                "The form did not carry this session's token, so nothing was done.",
                Some("Go back to the operator console, reload the page and try again."),
            ),
            OperatorError::Unavailable(why) => {
                tracing::error!(error = %why, "operator console: storage unavailable; answered 503");
                message(
                    status,
                    "Temporarily unavailable",
                    "The database or the session store did not answer; nothing was done.",
                    Some("Try again in a moment."),
                )
            }
        }
    }
}

#[derive(Template)]
#[template(path = "operator_message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
}

/// A plain page that says one thing.
fn message(status: StatusCode, title: &str, message: &str, hint: Option<&str>) -> HttpResponse {
    pages::html(
        status,
        MessagePage {
            title,
            message,
            hint,
        }
        .render(),
    )
}

async fn not_found() -> HttpResponse {
    message(
        StatusCode::NOT_FOUND,
        "Not found",
        "The operator console has no page here.",
        Some("The console starts at /operator."),
    )
}

/// The query of the sign-in link.
#[derive(Deserialize)]
struct CodeQuery {
    #[serde(default)]
    code: String,
}

impl std::fmt::Debug for CodeQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeQuery { .. }")
    }
}

/// GET `/operator/inloggen?code=…`: the link `leerpoort operator link` made. Once, before it
/// expires: the browser is signed in (a session cookie) and goes on to `/operator`. Otherwise a
/// page that says why, and wrong codes are counted per client address (429 after too many).
async fn sign_in(
    state: web::Data<AppState>,
    ClientAddr(ip): ClientAddr,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, OperatorError> {
    let bucket = broker::login::limit_bucket(ip.as_deref());
    let code = query.into_inner().code;
    let st = state.clone();
    let done = web::block(move || access::redeem(&st, code.trim(), &bucket)).await??;
    let again = Some("Make a new link on the server with `leerpoort operator link`.");
    Ok(match done {
        Redeemed::SignedIn(sid) => {
            tracing::info!("operator console: signed in with a link");
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/operator"))
                .cookie(access::session_cookie(sid, state.config.is_https()))
                .finish()
        }
        Redeemed::Unknown => message(
            StatusCode::FORBIDDEN,
            "This sign-in link is not valid",
            "The link was used already, replaced by a newer one, or is incomplete.",
            again,
        ),
        Redeemed::Expired => message(
            StatusCode::FORBIDDEN,
            "This sign-in link has expired",
            "A sign-in link works for the minutes it was made for, once.",
            again,
        ),
        Redeemed::TooMany => {
            let mut res = message(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many wrong sign-in links",
                "Too many links that were not valid came from this address lately.",
                Some("Try again later, with a new link."),
            );
            let wait = access::FAILURE_WINDOW.as_secs().to_string();
            if let Ok(v) = header::HeaderValue::from_str(&wait) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
    })
}

/// POST `/operator/uitloggen`: end the session.
async fn sign_out(
    state: web::Data<AppState>,
    form: Checked,
) -> Result<HttpResponse, OperatorError> {
    let st = state.clone();
    web::block(move || form.operator.sign_out(&st)).await??;
    let mut res = message(
        StatusCode::OK,
        "Signed out",
        "This browser is no longer signed in to the operator console.",
        None,
    );
    let _ = res.add_cookie(&access::session_cookie(
        String::new(),
        state.config.is_https(),
    ));
    Ok(res)
}
