//! GET `/api/openapi.json`: the OpenAPI 3.1 description of every API (`docs/api/openapi.json`,
//! the one source, embedded as written), with `servers` naming this installation's issuer.
//! Public; cached for 5 minutes, with a strong `ETag`.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::app::AppState;

/// Where it is served.
pub const PATH: &str = "/api/openapi.json";

/// The document as checked in.
pub const SOURCE: &str = include_str!("../../../../docs/api/openapi.json");

static DOCUMENT: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(SOURCE).unwrap_or_else(|_| json!({})));

/// The document with `servers` set to `issuer`.
pub fn document(issuer: &str) -> Value {
    let mut doc = DOCUMENT.clone();
    doc["servers"] = json!([{ "url": issuer.trim_end_matches('/') }]);
    doc
}

pub async fn serve(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let body = document(&state.config.issuer).to_string();
    let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
    let etag: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let etag = format!("\"{etag}\"");
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ETAG, etag));
    if fresh {
        res.finish()
    } else {
        res.content_type("application/json").body(body)
    }
}
