//! What a visitor sees when a request cannot even be read: a form without a field it needs, a
//! query that does not parse, a path with a malformed id. Not the framework's own text
//! (`missing field csrf_token`, `UUID parsing failed`), but the catalogue's page in the
//! visitor's language: 400 for a form or query, 404 for a path. The protocol endpoints (OpenID
//! Connect's token, userinfo, introspection and revocation, back-channel logout) answer with
//! OAuth's JSON error instead, as their clients expect.

use actix_web::error::{InternalError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use catalogue::Locale;

use super::pages::{self, Chrome};

/// The extractor configurations with these answers, set once for every route.
pub fn configure(cfg: &mut web::ServiceConfig, body_limit: usize) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(body_limit)
            .error_handler(form_error),
    )
    .app_data(web::QueryConfig::default().error_handler(query_error))
    .app_data(web::PathConfig::default().error_handler(path_error));
}

/// Endpoints whose clients are programs speaking OAuth, not browsers.
fn is_protocol_endpoint(path: &str) -> bool {
    path.starts_with("/api/las/")
        || matches!(
            path,
            "/oidc/token"
                | "/oidc/userinfo"
                | "/oidc/introspect"
                | "/oidc/revoke"
                | "/broker/oidc/backchannel-logout"
        )
}

fn protocol_error(status: StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "error": "invalid_request",
            "error_description": "the request could not be read",
        }))
}

/// The catalogue's page for a request that cannot be read.
pub fn unreadable(req: &HttpRequest, status: StatusCode) -> HttpResponse {
    if is_protocol_endpoint(req.path()) {
        return protocol_error(status);
    }
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let locale = Locale::negotiate(None, accept);
    let c = Chrome {
        t: locale.texts(),
        lang: locale.tag(),
        notice: None,
    };
    let (title, message) = if status == StatusCode::NOT_FOUND {
        (c.t.not_found_title, c.t.not_found)
    } else {
        (c.t.bad_request_title, c.t.bad_request)
    };
    pages::message(&c, status, title, message, None, None)
}

fn form_error(err: UrlencodedError, req: &HttpRequest) -> actix_web::Error {
    let status = match err {
        UrlencodedError::Overflow { .. } | UrlencodedError::UnknownLength => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        UrlencodedError::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    };
    tracing::debug!(error = %err, "unreadable form");
    InternalError::from_response(err, unreadable(req, status)).into()
}

fn query_error(err: QueryPayloadError, req: &HttpRequest) -> actix_web::Error {
    tracing::debug!(error = %err, "unreadable query");
    InternalError::from_response(err, unreadable(req, StatusCode::BAD_REQUEST)).into()
}

fn path_error(err: PathError, req: &HttpRequest) -> actix_web::Error {
    tracing::debug!(error = %err, "unreadable path");
    InternalError::from_response(err, unreadable(req, StatusCode::NOT_FOUND)).into()
}
