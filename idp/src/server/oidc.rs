//! HTTP handlers of the OpenID Connect endpoints: parse, call `crate::oidc`, render.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::extract::Params;
use super::pages;
use crate::app::AppState;
use crate::oidc::authorize::{self, Outcome, RequestProblem};
use crate::oidc::client_auth;
use crate::oidc::logout::{self, LogoutOutcome};
use crate::oidc::{introspect, revoke, token, userinfo};
use crate::session;
use broker::logout::rp_initiated::LogoutProblem;
use protocol::oidc::client_auth::Presented;
use protocol::oidc::{discovery, OidcError};

fn no_store_json(status: StatusCode, body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

fn oauth_error(e: &OidcError, basic: bool) -> HttpResponse {
    let mut res = HttpResponse::build(
        StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if basic && matches!(e, OidcError::InvalidClient(_)) {
        res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"leerpoort\""));
    }
    res.json(e.body())
}

/// Where an endpoint's work runs. Storage is synchronous, so it normally goes to the blocking
/// pool. With the embedded backends ([`AppState::embedded_storage`]) an ordinary authorize,
/// token or userinfo request only reads — memory, or SQLite, whose write-ahead log never makes
/// a reader wait — and reaches no other server, so it runs on the worker itself: the hop to
/// the pool and back was a quarter of a flow's time (docs/performance.md). A request that may
/// reach another server (`network`: a client's `jwks_uri`, a network environment) always goes
/// to the pool.
async fn run<T: Send + 'static>(
    state: &AppState,
    network: bool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, actix_web::error::BlockingError> {
    // Each user's standing is read once in the request (`db::standing`).
    let work = move || crate::db::standing::once_per_request(work);
    if !network && state.embedded_storage() {
        Ok(work())
    } else {
        web::block(work).await
    }
}

fn unavailable() -> HttpResponse {
    oauth_error(&OidcError::TemporarilyUnavailable, false)
}

/// GET `/.well-known/openid-configuration`.
pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(discovery::metadata(
            &state.config.issuer,
            claims::CLAIMS_SUPPORTED,
            &[
                broker::session::ACR_PASSWORD,
                broker::session::ACR_PUPIL,
                broker::beheer::substitutes::ACR_SUBSTITUTE_LINK,
            ],
        ))
}

/// GET `/oidc/jwks`: current and previous keys.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/jwk-set+json")
        .json(state.keys.jwks(state.clock.now_secs()))
}

async fn render_outcome(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    o: Outcome,
) -> HttpResponse {
    match o {
        Outcome::Redirect(to) => pages::redirect(&to),
        Outcome::Login {
            auth_id,
            login_hint,
        } => {
            // `login_hint=INSTELLING_REF:<uuid>`: straight to that school's pupil entrance;
            // any other hint is left to the sign-in form.
            let st = state.clone();
            let id = auth_id.clone();
            let school = web::block(move || {
                super::discovery::hinted_entrance(&st, login_hint.as_deref(), &id)
            })
            .await
            .ok()
            .flatten();
            pages::redirect(&school.unwrap_or_else(|| format!("/login?auth={auth_id}")))
        }
        Outcome::ErrorPage(problem) => {
            let c = pages::Chrome::of(req, state, None).await;
            let (title, message) = match problem {
                RequestProblem::MissingClient => {
                    (c.t.unknown_software_title, c.t.request_missing_client)
                }
                RequestProblem::UnknownClient => {
                    (c.t.unknown_software_title, c.t.request_unknown_client)
                }
                RequestProblem::Unavailable => (c.t.saml_unavailable_title, c.t.saml_unavailable),
                RequestProblem::MissingRedirectUri => {
                    (c.t.invalid_request_title, c.t.request_missing_redirect)
                }
                RequestProblem::UnregisteredRedirectUri => {
                    (c.t.invalid_request_title, c.t.request_unregistered_redirect)
                }
                RequestProblem::Expired => (c.t.request_expired_title, c.t.request_expired),
            };
            pages::message_with_reference(
                &c,
                StatusCode::BAD_REQUEST,
                (title, message, Some(c.t.ask_coordinator)),
                None,
                Some(super::reference::for_request(
                    req,
                    super::reference::problem_code(problem),
                )),
            )
        }
        Outcome::Denied {
            client_name,
            audience,
            denial,
            continue_url,
        } => {
            let c = pages::Chrome::of(req, state, None).await;
            super::reference::denied(
                req,
                &c,
                &denial,
                &client_name,
                audience,
                (&continue_url, c.t.back_to_software),
            )
        }
        Outcome::Upstream { url, binding } => {
            super::upstreams::to_upstream(&url, &binding, state.config.is_https())
        }
        Outcome::Takeover { auth_id } => {
            let c = pages::Chrome::of(req, state, None).await;
            pages::takeover(
                &c,
                &format!("/login?auth={auth_id}"),
                state.config.is_https(),
            )
        }
    }
}

/// GET and POST `/oidc/authorize`.
pub async fn authorize(
    req: HttpRequest,
    state: web::Data<AppState>,
    Params(params): Params<Vec<(String, String)>>,
) -> HttpResponse {
    let browser = session::Browser::of(&req, &state);
    let now = state.clock.now_secs();
    let st = state.clone();
    // `idp_hint` sends the user to a network environment (its discovery may be fetched).
    let network = params.iter().any(|(k, _)| k == "idp_hint");
    match run(&state, network, move || {
        authorize::authorize(&st, params, &browser, now)
    })
    .await
    {
        Ok(o) => render_outcome(&req, &state, o).await,
        Err(_) => unavailable(),
    }
}

/// GET `/oidc/authorize/continue?auth=…`: after sign-in.
pub async fn authorize_continue(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let browser = session::Browser::of(&req, &state);
    let auth = q.get("auth").cloned().unwrap_or_default();
    let now = state.clock.now_secs();
    let st = state.clone();
    match web::block(move || authorize::resume(&st, &auth, &browser, now)).await {
        Ok(o) => render_outcome(&req, &state, o).await,
        Err(_) => unavailable(),
    }
}

fn authorization_header(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// POST `/oidc/token`.
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let auth = authorization_header(&req);
    let now = state.clock.now_secs();
    let st = state.clone();
    let form = form.into_inner();
    // `private_key_jwt` may fetch the client's `jwks_uri`.
    let network = form.contains_key("client_assertion");
    match run(&state, network, move || {
        token::token(&st, &form, auth.as_deref(), now)
    })
    .await
    {
        Ok(Ok(t)) => no_store_json(StatusCode::OK, &t),
        Ok(Err((e, basic))) => oauth_error(&e, basic),
        Err(_) => unavailable(),
    }
}

fn bearer_error(e: &OidcError) -> HttpResponse {
    let desc = e.description().unwrap_or_default().replace('"', "'");
    HttpResponse::build(
        StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    )
    .insert_header((header::CACHE_CONTROL, "no-store"))
    .insert_header((
        header::WWW_AUTHENTICATE,
        format!(
            "Bearer error=\"{}\", error_description=\"{desc}\"",
            e.code()
        ),
    ))
    .json(e.body())
}

async fn userinfo_with(state: web::Data<AppState>, token: Option<String>) -> HttpResponse {
    let Some(token) = token else {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"leerpoort\""))
            .finish();
    };
    let now = state.clock.now_secs();
    let st = state.clone();
    match run(&state, false, move || userinfo::userinfo(&st, &token, now)).await {
        Ok(Ok(claims)) => no_store_json(StatusCode::OK, &claims),
        Ok(Err(e)) => bearer_error(&e),
        Err(_) => unavailable(),
    }
}

fn bearer_of(req: &HttpRequest) -> Option<String> {
    let h = authorization_header(req)?;
    (h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer ")).then(|| h[7..].trim().to_string())
}

/// GET `/oidc/userinfo`.
pub async fn userinfo_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    userinfo_with(state, bearer_of(&req)).await
}

/// POST `/oidc/userinfo`: bearer in the header or `access_token` in the form, not both.
pub async fn userinfo_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let in_form = form.get("access_token").filter(|t| !t.is_empty()).cloned();
    match (bearer_of(&req), in_form) {
        (Some(_), Some(_)) => oauth_error(
            &OidcError::InvalidRequest("send the token once".into()),
            false,
        ),
        (Some(t), None) | (None, Some(t)) => userinfo_with(state, Some(t)).await,
        (None, None) => userinfo_with(state, None).await,
    }
}

/// Introspection and revocation: the client authenticates, then `f` gets its `token`
/// parameter. The error says whether the client used HTTP Basic (for `WWW-Authenticate`).
async fn token_request<T: Send + 'static>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    form: HashMap<String, String>,
    f: fn(&AppState, &broker::model::RelyingParty, &str, i64) -> Result<T, OidcError>,
) -> Result<T, (OidcError, bool)> {
    let auth = authorization_header(req);
    let now = state.clock.now_secs();
    let st = state.clone();
    web::block(move || {
        let presented = Presented::from_request(auth.as_deref(), &form).map_err(|e| (e, true))?;
        let basic = presented.used_basic();
        let rp = client_auth::authenticate(&st, &presented, now).map_err(|e| (e, basic))?;
        required_token(&form)
            .and_then(|t| f(&st, &rp, t, now))
            .map_err(|e| (e, basic))
    })
    .await
    .map_err(|_| (OidcError::TemporarilyUnavailable, false))?
}

/// The `token` parameter of introspection and revocation.
fn required_token(form: &HashMap<String, String>) -> Result<&str, OidcError> {
    form.get("token")
        .map(String::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OidcError::InvalidRequest("token is missing".into()))
}

/// POST `/oidc/introspect` (RFC 7662).
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    match token_request(&req, &state, form.into_inner(), introspect::introspect).await {
        Ok(v) => no_store_json(StatusCode::OK, &v),
        Err((e, basic)) => oauth_error(&e, basic),
    }
}

/// POST `/oidc/revoke` (RFC 7009).
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    match token_request(&req, &state, form.into_inner(), revoke::revoke).await {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err((e, basic)) => oauth_error(&e, basic),
    }
}

/// The parameters of an end-session request that a confirmation carries over.
const LOGOUT_PARAMS: [&str; 5] = [
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "ui_locales",
];

#[derive(askama::Template)]
#[template(path = "logout_confirm.html")]
struct LogoutConfirmPage<'a> {
    t: &'static catalogue::Texts,
    lang: &'static str,
    notice: Option<String>,
    csrf_token: String,
    from: Option<String>,
    fields: Vec<(&'a str, &'a str)>,
}

/// GET and POST `/oidc/logout` (RP-Initiated Logout 1.0).
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    Params(params): Params<HashMap<String, String>>,
) -> HttpResponse {
    let https = state.config.is_https();
    let sid = session::sid_of(&req, https);
    let now = state.clock.now_secs();
    // Confirmed only on our own page: its form carries `confirm` and this browser's CSRF token.
    let confirmed = params.get("confirm").is_some_and(|v| v == "ja")
        && params
            .get("csrf_token")
            .is_some_and(|t| state.csrf.verify(&req, https, t));
    let st = state.clone();
    let asked = params.clone();
    let Ok((outcome, deliveries)) =
        web::block(move || logout::end_session(&st, &asked, sid.as_deref(), confirmed, now)).await
    else {
        return unavailable();
    };
    logout::deliver(deliveries);
    let c = pages::Chrome::of(&req, &state, params.get("ui_locales").map(String::as_str)).await;
    let mut res = match outcome {
        LogoutOutcome::Redirect(to) => pages::redirect(&to),
        LogoutOutcome::SignedOut => pages::signed_out(&c),
        LogoutOutcome::Confirm { client_name } => {
            use askama::Template as _;
            let (csrf_token, cookie) = state.csrf.issue(&req, https);
            let page = LogoutConfirmPage {
                t: c.t,
                lang: c.lang,
                notice: c.notice.clone(),
                csrf_token,
                from: client_name.map(|n| c.t.logout_confirm_from(&n)),
                fields: LOGOUT_PARAMS
                    .iter()
                    .filter_map(|k| {
                        params
                            .get(*k)
                            .filter(|v| !v.is_empty())
                            .map(|v| (*k, v.as_str()))
                    })
                    .collect(),
            };
            let mut res = pages::html(StatusCode::OK, page.render());
            if let Some(cookie) = cookie {
                let _ = res.add_cookie(&cookie);
            }
            return res;
        }
        LogoutOutcome::ErrorPage(problem) => {
            let message = match problem {
                LogoutProblem::BadHint => c.t.logout_bad_hint,
                LogoutProblem::HintMismatch => c.t.logout_hint_mismatch,
                LogoutProblem::UnregisteredRedirect => c.t.logout_unregistered_redirect,
                LogoutProblem::InvalidRedirect => c.t.logout_invalid_redirect,
            };
            return pages::message(
                &c,
                StatusCode::BAD_REQUEST,
                c.t.invalid_request_title,
                message,
                None,
                None,
            );
        }
    };

    let _ = res.add_cookie(&session::clear_session_cookie(https));
    res
}
