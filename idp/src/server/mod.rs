//! The HTTP server: one route table ([`routes::config`]), middleware for security headers,
//! request-size limits, logging and metrics, and graceful shutdown.

pub mod api;
pub mod beheer;
pub mod broker_saml;
pub mod devices;
pub mod discovery;
pub mod dynamic_ip;
pub mod errors;
pub mod extract;
pub mod failure;
pub mod groepen;
pub mod health;
pub mod invalkracht;
pub mod leerlingen;
pub mod lesmateriaal;
pub mod oidc;
pub mod operator;
pub mod pages;
pub mod password;
pub mod reference;
pub mod routes;
pub mod saml;
pub mod school;
pub mod thuis;
pub mod totp;
pub mod upstreams;

use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{web, App, HttpServer};

use crate::app::AppState;
pub use operator::operator_app;

/// The most a request body may be, outside routes that set their own limit.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Build the application around `state`: what `serve` runs and what tests call.
pub fn app(
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
    let https = state.config.is_https();
    let mut headers = DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        ))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
        .add(("Cross-Origin-Opener-Policy", "same-origin"));
    if https {
        headers = headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"));
    }
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::PayloadConfig::new(BODY_LIMIT))
        .configure(|cfg| errors::configure(cfg, BODY_LIMIT))
        .app_data(web::JsonConfig::default().limit(BODY_LIMIT))
        .configure(routes::config)
        .wrap(actix_web::middleware::from_fn(failure::render))
        .wrap(headers)
        .wrap(actix_web::middleware::from_fn(observe))
}

/// The metrics listener's routes (`LEERPOORT_METRICS_LISTEN`): `/metrics` and nothing else,
/// on an application holding the state. The public listener ([`app`]) never serves it: the
/// counters tell, for one, whether pupils are being locked.
pub fn metrics_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(health::metrics));
}

/// Log every request (method, route pattern, status, time, its id) and feed the metrics. The
/// log names the route's pattern (`/wachtwoord/{token}`), never the path or the query string:
/// paths carry password-link tokens and queries carry codes and hints. Every request gets an id
/// ([`reference::RequestId`]): the log lines written while it is handled carry it (its span),
/// the response names it (`X-Request-Id`), and a refusal page shows it as the kenmerk.
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage as _;
    use tracing::Instrument as _;
    let start = Instant::now();
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let request_id = reference::new_id();
    req.extensions_mut()
        .insert(reference::RequestId(request_id.clone()));
    let span = tracing::info_span!("request", request_id = %request_id);
    let mut res = next.call(req).instrument(span).await?;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(header::HeaderName::from_static(reference::HEADER), v);
    }
    let elapsed = start.elapsed();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".into());
    let status = res.status().as_u16();
    if let Some(state) = state {
        state
            .metrics
            .observe(&route, &method, status, elapsed.as_secs_f64());
    }
    if route != "/healthz" && route != "/metrics" {
        tracing::info!(
            target: "leerpoort::http",
            method, route = %route, status, ms = elapsed.as_secs_f64() * 1000.0,
            request_id = %request_id,
            "request"
        );
    }
    Ok(res)
}

/// Run the server until SIGINT/SIGTERM; in-flight requests get 30 s to finish.
pub async fn run(state: AppState) -> anyhow::Result<()> {
    let listen = state.config.listen;
    let reload_state = state.clone();
    // Every minute: pick up `keys rotate` run by another process (or on another node), and
    // end the substitutions whose time has come.
    let reloader = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let st = reload_state.clone();
            let now = st.clock.now_secs();
            if let Err(e) = web::block(move || st.keys.reload(now))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
            {
                tracing::warn!(error = %e, "reloading keys failed; keeping the keys in memory");
            }
            // Substitutions whose time has come: wipe the substitute's data (access already
            // ended with the session and the link; this ends whatever is left).
            let st = reload_state.clone();
            match web::block(move || {
                broker::beheer::substitutes::expire_due(st.dir.as_ref(), st.clock.as_ref())
            })
            .await
            {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(ended = n, "substitutions ended"),
                Ok(Err(e)) => tracing::warn!(error = %e, "ending substitutions failed"),
                Err(e) => tracing::warn!(error = %e, "ending substitutions failed"),
            }
        }
    });
    let metrics = match state.config.metrics_listen {
        Some(at) => {
            let metrics_state = state.clone();
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(metrics_state.clone()))
                    .configure(metrics_routes)
            })
            .workers(1)
            .bind(at)
            .map_err(|e| anyhow::anyhow!("LEERPOORT_METRICS_LISTEN: cannot listen on {at}: {e}"))?;
            for bound in server.addrs() {
                tracing::info!(listen = %bound, "metrics are served here");
            }
            Some(server.shutdown_timeout(5).run())
        }
        None => None,
    };
    // The operator console, on its own listener when turned on.
    let operator = operator::listener(&state)?.map(|s| (s.handle(), tokio::spawn(s)));
    // Refresh SAML SPs' metadata from their URLs (`saml-sp add/update --refresh-hours`).
    let refresher = tokio::spawn(crate::saml::sp_refresh::run(state.clone()));
    // The jobs that run by the clock on one node at a time (the school year).
    let node = uuid::Uuid::new_v4().to_string();
    let scheduler = tokio::spawn(crate::scheduler::run(state.clone(), node.clone()));
    // Change notifications: every node delivers what is due, each event from one node.
    let webhooks = tokio::spawn(crate::webhooks::run(state.clone(), node));
    let server = HttpServer::new(move || app(state.clone()))
        .bind(listen)
        .map_err(|e| anyhow::anyhow!("LEERPOORT_LISTEN: cannot listen on {listen}: {e}"))?
        .shutdown_timeout(30)
        .run();
    tracing::info!(%listen, "Leerpoort is listening");
    let result = match metrics {
        Some(metrics) => {
            let handle = metrics.handle();
            let metrics = tokio::spawn(metrics);
            let result = server.await;
            handle.stop(true).await;
            let _ = metrics.await;
            result
        }
        None => server.await,
    };
    if let Some((handle, console)) = operator {
        handle.stop(true).await;
        let _ = console.await;
    }
    reloader.abort();
    refresher.abort();
    scheduler.abort();
    webhooks.abort();
    result.map_err(anyhow::Error::from)
}

/// A header value from a static string.
pub(crate) fn hv(s: &'static str) -> HeaderValue {
    HeaderValue::from_static(s)
}
