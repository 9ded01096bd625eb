//! Signing in through a network environment: starting at the upstream (from a school's page,
//! a `NETWERK=` shortcut or an `idp_hint`) and the OIDC upstreams' callback.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use broker::federation::oidc::login::Callback;
use broker::federation::oidc::UpstreamOidcError;
use broker::federation::pending::{binding_cookie_name, Binding, Pending};
use broker::federation::{FinishError, MatchError};
use broker::model::{Upstream, UpstreamProtocol};
use claims::InstellingRef;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::opaque_debug;
use super::pages::{self, Chrome};
use crate::app::AppState;
use crate::session;
use crate::upstream;
use crate::upstream_oidc;

/// Where a sign-in at `upstream` starts: the OIDC start here, or the SAML one.
pub fn start_url(
    upstream: &Upstream,
    school: Option<&InstellingRef>,
    target: Option<&str>,
) -> String {
    let base = match upstream.protocol {
        UpstreamProtocol::Oidc { .. } => "/broker/oidc/start",
        UpstreamProtocol::Saml { .. } => "/broker/saml/start",
    };
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("upstream", &upstream.name);
    if let Some(s) = school {
        q.append_pair("INSTELLING_REF", &s.to_string());
    }
    if let Some(t) = target.filter(|t| !t.is_empty()) {
        q.append_pair("TARGET", t);
    }
    format!("{base}?{}", q.finish())
}

/// The upstreams that serve `school` and are switched on.
pub fn of_school(state: &AppState, school: &InstellingRef) -> Vec<Upstream> {
    state
        .dir
        .upstreams()
        .unwrap_or_default()
        .into_iter()
        .filter(|u| u.enabled && u.schools.contains(school))
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    upstream: String,
    #[serde(rename = "INSTELLING_REF")]
    school: Option<String>,
    #[serde(rename = "TARGET")]
    target: Option<String>,
}

/// A sign-in at a network environment started here (the start page, a shortcut), not for a
/// waiting request of a relying party.
pub(super) fn started_here(
    upstream: Uuid,
    school: Option<InstellingRef>,
    target: Option<String>,
) -> Pending {
    Pending {
        upstream,
        school,
        target: target.filter(|t| !t.is_empty()),
        resume: None,
        passive: false,
        protocol: serde_json::Value::Null,
        browser: None,
    }
}

/// To the network environment at `url`, with the cookie that binds the sign-in to this
/// browser.
pub(super) fn to_upstream(url: &str, binding: &Binding, https: bool) -> HttpResponse {
    let mut res = pages::redirect(url);
    let _ = res.add_cookie(&upstream::binding_cookie(binding, https));
    res
}

async fn refused(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    name: &str,
    why: &str,
) -> HttpResponse {
    let c = Chrome::of(req, state, None).await;
    pages::message(
        &c,
        StatusCode::BAD_REQUEST,
        &c.t.network_failed_title(name),
        why,
        Some(c.t.ask_coordinator),
        None,
    )
}

/// GET `/broker/oidc/start?upstream=NAME[&INSTELLING_REF=…][&TARGET=…]`: to the OIDC upstream.
pub async fn oidc_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<StartQuery>,
) -> HttpResponse {
    let q = q.into_inner();
    let st = state.clone();
    let name = q.upstream.clone();
    let result = web::block(move || -> Result<_, Option<UpstreamOidcError>> {
        let u = st
            .dir
            .upstream_by_name(&q.upstream)
            .map_err(|_| Some(UpstreamOidcError::Unavailable))?
            .filter(|u| u.enabled)
            .ok_or(None)?;
        let school = q
            .school
            .as_deref()
            .and_then(|s| s.parse::<InstellingRef>().ok())
            .filter(|s| u.schools.contains(s));
        let pending = started_here(u.id, school, q.target);
        upstream_oidc::login_start(&st, &u, pending).map_err(Some)
    })
    .await;
    let c = Chrome::of(&req, &state, None).await;
    match result {
        Ok(Ok((url, binding))) => to_upstream(&url, &binding, state.config.is_https()),
        Ok(Err(None)) => refused(&req, &state, &name, c.t.network_unknown).await,
        Ok(Err(Some(e))) => {
            tracing::warn!(upstream = %name, error = %e, "starting a sign-in at a network environment");
            refused(&req, &state, &name, c.t.network_unreachable).await
        }
        Err(_) => refused(&req, &state, &name, c.t.unavailable).await,
    }
}

/// GET `/broker/oidc/callback`: the OIDC upstream sends the browser back.
pub async fn oidc_callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<Callback>,
) -> HttpResponse {
    let https = state.config.is_https();
    let ip = session::client_ip(&req, &state);
    let previous = session::sid_of(&req, https);
    let now = state.clock.now_secs();
    let st = state.clone();
    let cb = q.into_inner();
    // The cookie that binds this sign-in to the browser that started it; removed whatever
    // the outcome.
    let binding_name = cb
        .state
        .as_deref()
        .map(|s| binding_cookie_name(broker::federation::oidc::PENDING_KIND, s));
    let binding = binding_name
        .as_deref()
        .and_then(|n| req.cookie(n))
        .map(|c| c.value().to_string());
    let finished = web::block(move || {
        upstream_oidc::login_finish(
            &st,
            &cb,
            binding.as_deref(),
            ip.as_deref(),
            previous.as_deref(),
            now,
        )
    })
    .await;
    let c = Chrome::of(&req, &state, None).await;
    let mut res = oidc_callback_page(&req, &state, &c, finished).await;
    if let Some(name) = binding_name {
        let _ = res.add_cookie(&upstream::clear_binding_cookie(&name, https));
    }
    res
}

async fn oidc_callback_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    c: &Chrome,
    finished: Result<
        Result<upstream_oidc::Finished, UpstreamOidcError>,
        actix_web::error::BlockingError,
    >,
) -> HttpResponse {
    let https = state.config.is_https();
    let f = match finished {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            tracing::info!(error = %e, "network environment callback refused");
            return refused(req, state, "", c.t.network_expired).await;
        }
        Err(_) => return refused(req, state, "", c.t.unavailable).await,
    };
    match f.result {
        Ok((s, dest)) => {
            let mut res = pages::redirect(&dest);
            let _ = res.add_cookie(&session::session_cookie(&s, https));
            res
        }
        // A passive sign-in the upstream cannot do: back to the waiting relying party, which
        // then answers login_required itself (never a second trip to the upstream).
        Err(UpstreamOidcError::LoginRequired) if f.pending.resume.is_some() => {
            pages::redirect(f.pending.resume.as_deref().unwrap_or("/"))
        }
        Err(UpstreamOidcError::Finish(FinishError::Match(
            MatchError::Unknown | MatchError::NotServed | MatchError::Ambiguous,
        ))) => refused(req, state, &f.upstream.name, c.t.network_unmatched).await,
        Err(UpstreamOidcError::Finish(FinishError::RoleNotAllowed)) => pages::message(
            c,
            StatusCode::FORBIDDEN,
            c.t.network_role_refused_title,
            c.t.network_role_refused,
            None,
            None,
        ),
        Err(_) => refused(req, state, &f.upstream.name, c.t.network_refused).await,
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    logout_token: String,
}

opaque_debug!(LogoutForm);

/// POST `/broker/oidc/backchannel-logout`: an OIDC network environment logs a user out
/// (OpenID Connect Back-Channel Logout 1.0): the Leerpoort sessions that came from it end,
/// and Leerpoort's relying parties are told in turn.
pub async fn oidc_backchannel_logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LogoutForm>,
) -> HttpResponse {
    let st = state.clone();
    let now = state.clock.now_secs();
    let ip = session::client_ip(&req, &state);
    let token = form.into_inner().logout_token;
    match web::block(move || upstream_oidc::backchannel_logout(&st, &token, ip.as_deref(), now))
        .await
    {
        Ok(Ok(deliveries)) => {
            crate::oidc::logout::deliver(deliveries);
            HttpResponse::Ok()
                .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        Ok(Err(UpstreamOidcError::RateLimited)) => HttpResponse::TooManyRequests()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .insert_header((actix_web::http::header::RETRY_AFTER, "60"))
            .json(serde_json::json!({"error": "temporarily_unavailable"})),
        Ok(Err(e)) => {
            tracing::info!(error = %e, "back-channel logout from a network environment refused");
            HttpResponse::BadRequest()
                .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
                .json(serde_json::json!({"error": "invalid_request"}))
        }
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// GET `/broker/oidc/uitgelogd`: back from the network environment's logout.
pub async fn signed_out(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    let mut res = pages::signed_out(&c);
    let _ = res.add_cookie(&session::clear_session_cookie(state.config.is_https()));
    res
}
