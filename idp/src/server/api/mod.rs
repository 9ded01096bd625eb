//! The APIs other systems call with their own client's access token (`client_credentials` at
//! `/oidc/token`): the LAS API ([`las`]), and what publishers and network environments use.
//! What they share lives here: the one `Authorization: Bearer` header, the token's checks
//! (Leerpoort's, unexpired, not revoked, of a client without a user, switched on, with the
//! API's scope), RFC 9457 problem documents, and bounded JSON bodies.

pub mod las;
pub mod licenties;
pub mod oneroster;
pub mod openapi;
pub mod schooldata;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use broker::model::RelyingParty;
use serde_json::{json, Value};

use crate::app::AppState;

/// A refusal: an RFC 9457 problem document (made on the blocking hop, answered after it).
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub detail: String,
    /// Members besides the standard ones (`missing`, `line`, `unknown`).
    extra: Option<(&'static str, Value)>,
    /// The request carried no token (its 401 challenge names no error, RFC 6750 §3.1).
    no_token: bool,
    /// Seconds for `Retry-After` (429).
    retry_after: Option<u64>,
}

/// A problem with `status` and a `detail` for the integration engineer.
pub fn problem(status: StatusCode, detail: impl Into<String>) -> Problem {
    Problem {
        status,
        detail: detail.into(),
        extra: None,
        no_token: false,
        retry_after: None,
    }
}

/// 401 for a request without exactly one `Authorization: Bearer` header.
pub fn no_token() -> Problem {
    Problem {
        no_token: true,
        ..problem(
            StatusCode::UNAUTHORIZED,
            "one Authorization: Bearer header is required",
        )
    }
}

/// 503: the directory or the store did not answer.
pub fn unavailable() -> Problem {
    problem(StatusCode::SERVICE_UNAVAILABLE, "try again later")
}

/// 429 with `Retry-After: secs`.
pub fn too_many(detail: impl Into<String>, secs: u64) -> Problem {
    Problem {
        retry_after: Some(secs),
        ..problem(StatusCode::TOO_MANY_REQUESTS, detail)
    }
}

impl Problem {
    /// Add a member besides the standard ones.
    pub fn with(mut self, name: &'static str, value: Value) -> Self {
        self.extra = Some((name, value));
        self
    }

    pub fn response(&self) -> HttpResponse {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let mut body = json!({"type": "about:blank", "title": title,
            "status": self.status.as_u16(), "detail": self.detail});
        if let (Some((name, value)), Some(o)) = (&self.extra, body.as_object_mut()) {
            o.insert((*name).to_string(), value.clone());
        }
        let mut res = HttpResponse::build(self.status)
            .insert_header((header::CONTENT_TYPE, "application/problem+json"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body.to_string());
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3.1: no error code when the request carried no token.
            let challenge = if self.no_token {
                "Bearer realm=\"leerpoort\""
            } else {
                "Bearer realm=\"leerpoort\", error=\"invalid_token\""
            };
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static(challenge),
            );
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// 200 with a JSON body that no cache keeps.
pub fn ok(body: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// The one bearer token of the request, if it has exactly one `Authorization: Bearer` header.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let mut headers = req.headers().get_all(header::AUTHORIZATION);
    match (headers.next(), headers.next()) {
        (Some(v), None) => v
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        _ => None,
    }
}

/// Why a caller is refused before anything else.
#[derive(Debug)]
pub enum Denied {
    /// Not a valid token of Leerpoort's (401).
    Token(String),
    /// The token lacks the API's scope (403).
    Scope(&'static str),
    /// A user's token, or a client of a kind this API is not for (403).
    Kind(&'static str),
    Unavailable,
}

impl Denied {
    pub fn problem(self) -> Problem {
        match self {
            Denied::Token(why) => problem(StatusCode::UNAUTHORIZED, why),
            Denied::Scope(s) => problem(
                StatusCode::FORBIDDEN,
                format!("the token does not carry the scope {s}"),
            ),
            Denied::Kind(why) => problem(StatusCode::FORBIDDEN, why),
            Denied::Unavailable => unavailable(),
        }
    }
}

/// The client whose access token `token` is, when the token carries `scope` (any of them, for
/// an API that several scopes open) and belongs to the client itself (no user): Leerpoort's
/// signature, unexpired, its grant still stored (not revoked), the client switched on.
/// Blocking: call it on the blocking pool.
pub fn caller(state: &AppState, token: &str, scopes: &[&'static str]) -> Result<Caller, Denied> {
    let now = state.clock.now_secs();
    let at = protocol::oidc::jws::verify_access_token(
        &state.keys.jwks(now),
        &state.config.issuer,
        token,
        now,
    )
    .map_err(|e| Denied::Token(e.to_string()))?;
    let gid = at["gid"]
        .as_str()
        .ok_or_else(|| Denied::Token("not an access token of Leerpoort's".into()))?;
    let grant = crate::oidc::load_grant(state.store.as_ref(), gid)
        .map_err(|_| Denied::Unavailable)?
        .ok_or_else(|| Denied::Token("the token was revoked".into()))?;
    if grant.user_id.is_some() {
        return Err(Denied::Kind(
            "this API is for a client's own token (client_credentials), not a user's",
        ));
    }
    let granted: Vec<String> = grant
        .scope
        .split_ascii_whitespace()
        .map(str::to_string)
        .collect();
    if !scopes.iter().any(|s| granted.iter().any(|g| g == s)) {
        return Err(Denied::Scope(scopes.first().copied().unwrap_or("")));
    }
    let rp = state
        .dir
        .relying_party_by_public_id(&grant.client_id)
        .map_err(|_| Denied::Unavailable)?
        .filter(|rp| rp.enabled)
        .ok_or_else(|| Denied::Token("the client is gone or switched off".into()))?;
    Ok(Caller {
        rp,
        scopes: granted,
    })
}

/// Who calls an API: the relying party, and the scopes its token carries.
#[derive(Debug, Clone)]
pub struct Caller {
    pub rp: RelyingParty,
    pub scopes: Vec<String>,
}

impl Caller {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// The body, at most `limit` bytes (413 beyond, without reading further); 400 when empty.
pub async fn read_body(mut body: web::Payload, limit: usize) -> Result<Vec<u8>, Problem> {
    use futures_util::StreamExt as _;
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|_| problem(StatusCode::BAD_REQUEST, "the body could not be read"))?;
        if bytes.len() + chunk.len() > limit {
            return Err(problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a request body is at most {}", human_size(limit)),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err(problem(StatusCode::BAD_REQUEST, "the body is empty"));
    }
    Ok(bytes)
}

fn human_size(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{} MB", n / (1024 * 1024))
    } else {
        format!("{} kB", n / 1024)
    }
}

/// A JSON body of at most `limit` bytes, as `T` (400 with serde's words when it is not one).
pub async fn read_json<T: serde::de::DeserializeOwned>(
    body: web::Payload,
    limit: usize,
) -> Result<T, Problem> {
    let bytes = read_body(body, limit).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        problem(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid: {e}"),
        )
    })
}

/// Run `f` on the blocking pool and answer its value as JSON, or its problem.
pub async fn answer<F>(f: F) -> HttpResponse
where
    F: FnOnce() -> Result<Value, Problem> + Send + 'static,
{
    match web::block(f).await {
        Ok(Ok(v)) => ok(&v),
        Ok(Err(p)) => p.response(),
        Err(_) => unavailable().response(),
    }
}
