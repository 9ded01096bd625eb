//! Liveness, readiness and metrics.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::app::AppState;

/// `/healthz`: the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, super::hv("no-store")))
        .json(json!({"status": "ok"}))
}

/// `/readyz`: the database and the ephemeral store answer.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    let checks = web::block(move || (st.dir.ping(), st.store.ping())).await;
    let (db, store) = match checks {
        Ok((db, store)) => (
            db.map_err(|e| e.to_string()),
            store.map_err(|e| e.to_string()),
        ),
        Err(e) => (Err(e.to_string()), Err(e.to_string())),
    };
    let ready = db.is_ok() && store.is_ok();
    let show = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_string(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            "unavailable".to_string()
        }
    };
    let body = json!({
        "status": if ready { "ready" } else { "not-ready" },
        "database": show(&db),
        "store": show(&store),
    });
    let mut res = if ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    res.insert_header((header::CACHE_CONTROL, super::hv("no-store")))
        .json(body)
}

/// `/metrics`: Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
