//! HTTP handlers of Leerpoort's SP side towards SAML network environments: parse, call
//! `crate::saml::upstream_sp` and `crate::upstream::finish`, render.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::pages::{self, Chrome};
use super::upstreams::{started_here, to_upstream};
use crate::app::AppState;
use crate::saml::upstream_sp;
use crate::session;
use crate::upstream;
use broker::federation::saml::{self as decide, UpstreamSamlError};
use broker::federation::FinishError;
use protocol::saml::upstream_answer::UpstreamRefusal;

async fn refused(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    e: &UpstreamSamlError,
) -> HttpResponse {
    tracing::info!(refusal = %e, "SAML answer of a network environment refused");
    let c = Chrome::of(req, state, None).await;
    let (title, text) = upstream_sp::page(e, c.t);
    let status = match e {
        UpstreamSamlError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    pages::message(&c, status, title, text, Some(c.t.ask_coordinator), None)
}

/// GET `/broker/saml/metadata`: Leerpoort's signed SP metadata for upstreams.
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    let now = state.clock.now_secs();
    match web::block(move || upstream_sp::sp_metadata(&st, now)).await {
        Ok(Ok(xml)) => HttpResponse::Ok()
            .content_type("application/samlmetadata+xml")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(xml),
        _ => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    upstream: Option<String>,
    #[serde(rename = "INSTELLING_REF")]
    instelling_ref: Option<String>,
    #[serde(rename = "TARGET")]
    target: Option<String>,
}

/// GET `/broker/saml/start?upstream=NAME[&INSTELLING_REF=..][&TARGET=..]`: sign in at a SAML
/// network environment.
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<StartQuery>,
) -> HttpResponse {
    let q = q.into_inner();
    let now = state.clock.now_secs();
    let st = state.clone();
    let result = web::block(move || -> Result<_, UpstreamSamlError> {
        let name = q.upstream.unwrap_or_default();
        let u = st
            .dir
            .upstream_by_name(&name)
            .map_err(|_| UpstreamSamlError::Unavailable)?
            .ok_or(UpstreamSamlError::UnknownUpstream)?;
        let school = match q.instelling_ref.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.parse::<claims::InstellingRef>()
                    .ok()
                    .filter(|r| u.schools.contains(r))
                    .ok_or(UpstreamSamlError::UnknownUpstream)?,
            ),
            None => None,
        };
        let pending = started_here(u.id, school, q.target);
        upstream_sp::start(&st, &u, pending, now)
    })
    .await;
    match result {
        Ok(Ok((url, binding))) => to_upstream(&url, &binding, state.config.is_https()),
        Ok(Err(e)) => refused(&req, &state, &e).await,
        Err(_) => refused(&req, &state, &UpstreamSamlError::Unavailable).await,
    }
}

/// Sign in the user of a verified answer: the session and where to go, or why not.
fn finish_answer(
    st: &AppState,
    c: &decide::Consumed,
    ip: Option<&str>,
    previous: Option<&str>,
    now: i64,
) -> Result<(session::SsoSession, String), FinishError> {
    let finished = upstream::finish(st, &c.upstream, &c.asserted, &c.pending, ip, previous, now);
    if let (Ok((sess, _)), Some(name_id)) = (&finished, c.asserted.get("NameID")) {
        // For the network environment's Single Logout.
        let ttl = sess.expires_at - now;
        if let Err(e) = broker::federation::links::remember_name_id(
            st.store.as_ref(),
            c.upstream.id,
            name_id,
            &sess.sid,
            ttl,
        ) {
            tracing::warn!(error = %e, "SAML upstream: session not remembered for logout");
        }
    }
    finished
}

/// What the ACS (or its same-site step) ends with.
// Made once per request and matched at once; boxing would only obscure it.
#[allow(clippy::large_enum_variant)]
enum Answer {
    /// On to the same-site step that checks the binding cookie.
    Hold(String),
    Finished(Result<(session::SsoSession, String), FinishError>),
}

async fn answer_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    result: Result<Result<Answer, UpstreamSamlError>, actix_web::error::BlockingError>,
) -> HttpResponse {
    let https = state.config.is_https();
    match result {
        Ok(Ok(Answer::Hold(to))) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, to))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Ok(Ok(Answer::Finished(Ok((sess, dest))))) => {
            let mut res = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, dest))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish();
            let _ = res.add_cookie(&session::session_cookie(&sess, https));
            res
        }
        Ok(Ok(Answer::Finished(Err(FinishError::Unavailable)))) | Err(_) => {
            refused(req, state, &UpstreamSamlError::Unavailable).await
        }
        Ok(Ok(Answer::Finished(Err(FinishError::RoleNotAllowed)))) => {
            let c = Chrome::of(req, state, None).await;
            pages::message(
                &c,
                StatusCode::FORBIDDEN,
                c.t.network_role_refused_title,
                c.t.network_role_refused,
                None,
                None,
            )
        }
        Ok(Ok(Answer::Finished(Err(e)))) => {
            tracing::info!(reason = %e, "network environment's user not signed in");
            let c = Chrome::of(req, state, None).await;
            pages::message(
                &c,
                StatusCode::FORBIDDEN,
                c.t.network_unmatched_title,
                c.t.network_unmatched,
                None,
                None,
            )
        }
        Ok(Err(UpstreamSamlError::Passive(resume))) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, resume))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Ok(Err(e)) => refused(req, state, &e).await,
    }
}

/// POST `/broker/saml/acs`: the upstream's Response (HTTP-POST binding).
pub async fn acs(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    if body.len() > super::saml::POST_BODY_LIMIT {
        return refused(&req, &state, &UpstreamRefusal::Encoding.into()).await;
    }
    let mut saml_response = None;
    let mut relay_state = None;
    for (k, v) in url::form_urlencoded::parse(&body) {
        if k == "RelayState" {
            relay_state = Some(v.into_owned());
            continue;
        }
        if k == "SAMLResponse" {
            if saml_response.is_some() {
                return refused(
                    &req,
                    &state,
                    &UpstreamRefusal::Malformed("SAMLResponse is repeated".into()).into(),
                )
                .await;
            }
            saml_response = Some(v.into_owned());
        }
    }
    let https = state.config.is_https();
    let previous = session::sid_of(&req, https);
    let ip = session::client_ip(&req, &state);
    let now = state.clock.now_secs();
    let st = state.clone();
    let result = web::block(move || {
        let c = upstream_sp::consume(&st, saml_response.as_deref(), relay_state.as_deref(), now)?;
        // An answer to one of Leerpoort's requests: only the browser that sent the request may
        // use it. Its binding cookie (SameSite=Lax) is not sent with this cross-site POST, so
        // the browser shows it at the same-site step. Unsolicited answers cannot be bound.
        if decide::request_id(&c).is_some() {
            return decide::hold(st.store.as_ref(), &c).map(Answer::Hold);
        }
        Ok(Answer::Finished(finish_answer(
            &st,
            &c,
            ip.as_deref(),
            previous.as_deref(),
            now,
        )))
    })
    .await;
    answer_page(&req, &state, result).await
}

#[derive(Debug, Deserialize)]
pub struct ContinueQuery {
    k: String,
}

/// GET `/broker/saml/acs/continue?k=…`: the same-site step after the ACS. The verified
/// answer signs the user in only in the browser that shows the binding cookie of the request
/// it answers; the cookie is removed either way.
pub async fn acs_continue(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ContinueQuery>,
) -> HttpResponse {
    let https = state.config.is_https();
    let previous = session::sid_of(&req, https);
    let ip = session::client_ip(&req, &state);
    let now = state.clock.now_secs();
    let st = state.clone();
    let cookies: Vec<(String, String)> = req
        .cookies()
        .map(|all| {
            all.iter()
                .filter(|c| c.name().starts_with("lp_netwerk_"))
                .map(|c| (c.name().to_string(), c.value().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let key = q.into_inner().k;
    let mut used = None;
    let result = web::block(move || {
        let c = decide::take_held(st.world(), &key, |name| {
            cookies
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        })?;
        let name = decide::request_id(&c)
            .map(|id| broker::federation::pending::binding_cookie_name(decide::PENDING_KIND, &id));
        let finished = finish_answer(&st, &c, ip.as_deref(), previous.as_deref(), now);
        Ok::<_, UpstreamSamlError>((name, Answer::Finished(finished)))
    })
    .await
    .map(|r| {
        r.map(|(name, answer)| {
            used = name;
            answer
        })
    });
    let mut res = answer_page(&req, &state, result).await;
    if let Some(name) = used {
        let _ = res.add_cookie(&upstream::clear_binding_cookie(&name, https));
    }
    res
}

/// GET `/broker/saml/slo`: a network environment's LogoutRequest (HTTP-Redirect).
pub async fn slo(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let https = state.config.is_https();
    let query = req.query_string().to_string();
    if query.len() > 2 * crate::saml::ENCODED_MAX {
        return refused(&req, &state, &UpstreamRefusal::Encoding.into()).await;
    }
    let now = state.clock.now_secs();
    let st = state.clone();
    // The answer to Leerpoort's own LogoutRequest: the sign-out is complete.
    if url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "SAMLResponse") {
        let answered = web::block(move || upstream_sp::logout_answered(&st, &query)).await;
        return match answered {
            Ok(Ok(())) => {
                let c = Chrome::of(&req, &state, None).await;
                let mut res = pages::signed_out(&c);
                let _ = res.add_cookie(&session::clear_session_cookie(https));
                res
            }
            Ok(Err(e)) => refused(&req, &state, &e).await,
            Err(_) => refused(&req, &state, &UpstreamSamlError::Unavailable).await,
        };
    }
    let out = match web::block(move || upstream_sp::logout(&st, &query, now)).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return refused(&req, &state, &e).await,
        Err(_) => return refused(&req, &state, &UpstreamSamlError::Unavailable).await,
    };
    crate::oidc::logout::deliver(out.deliveries);
    let mut res = match out.redirect {
        Some(to) => pages::redirect(&to),
        None => {
            let c = Chrome::of(&req, &state, None).await;
            pages::signed_out(&c)
        }
    };
    let _ = res.add_cookie(&session::clear_session_cookie(https));
    res
}
