//! Verbindingstype "Dynamic IP": the update URL a school's agent calls
//! (`POST /api/dynamic-ip` with `Authorization: Bearer <token>`), and what Beheer shows of
//! it. The decisions are `broker::beheer::dynamic_ip`'s.

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use broker::beheer::dynamic_ip::{self, ReportError};
use broker::model::School;
use serde_json::json;

use super::extract::ClientAddr;
use super::failure::{self, PageError};
use crate::app::AppState;

/// The path the agent calls.
pub const UPDATE_PATH: &str = "/api/dynamic-ip";

/// Put in the commands where the school's key goes, when it is not shown.
const KEY_PLACEHOLDER: &str = "SLEUTEL";

/// POST `/api/dynamic-ip`: the school's agent reports the address it calls from. No cookies,
/// no form: the bearer token alone says which school. Answers JSON: the network now on
/// record and whether it changed; 401 for a missing, malformed or unknown token (one
/// `Authorization` header, `Bearer` scheme); 429 after too many wrong tokens from one address;
/// 403 for a closed school.
pub async fn report(
    req: HttpRequest,
    state: web::Data<AppState>,
    ClientAddr(ip): ClientAddr,
) -> HttpResponse {
    let mut headers = req.headers().get_all(header::AUTHORIZATION);
    let token = match (headers.next(), headers.next()) {
        (Some(v), None) => v
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string()),
        _ => None,
    };
    let addr = ip.as_deref().and_then(|i| i.parse::<IpAddr>().ok());
    let bucket = broker::login::limit_bucket(ip.as_deref());
    let st = state.clone();
    let done =
        web::block(move || dynamic_ip::report(&st.world(), token.as_deref(), addr, &bucket)).await;
    let refused = |status: actix_web::http::StatusCode, error: &str, e: &ReportError| {
        HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({"error": error, "error_description": e.to_string()}))
    };
    use actix_web::http::StatusCode as S;
    match done {
        Ok(Ok(r)) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({"network": r.network.to_string(), "changed": r.changed})),
        Ok(Err(e @ ReportError::BadToken)) => {
            let mut res = refused(S::UNAUTHORIZED, "invalid_token", &e);
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            res
        }
        Ok(Err(e @ ReportError::TooMany)) => {
            let mut res = refused(S::TOO_MANY_REQUESTS, "too_many_requests", &e);
            let wait = dynamic_ip::FAILURE_WINDOW.as_secs().to_string();
            if let Ok(v) = header::HeaderValue::from_str(&wait) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Ok(Err(e @ ReportError::Closed)) => refused(S::FORBIDDEN, "school_closed", &e),
        Ok(Err(e @ ReportError::NoAddress)) => refused(S::BAD_REQUEST, "no_address", &e),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a Dynamic IP report could not be stored");
            refused(S::SERVICE_UNAVAILABLE, "temporarily_unavailable", &e)
        }
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// What Beheer shows of Dynamic IP.
pub struct DynamicView {
    pub on: bool,
    pub network: Option<String>,
    pub seen: Option<String>,
    /// (network, since), newest first.
    pub history: Vec<(String, String)>,
    /// A key just made: shown this once.
    pub token: Option<String>,
    pub update_url: String,
    /// The agent as a shell and a PowerShell command.
    pub shell: String,
    pub powershell: String,
}

impl std::fmt::Debug for DynamicView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicView")
            .field("on", &self.on)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

/// Dynamic IP of `school` for Beheer, with `token` when one was just made.
pub async fn view(
    state: &web::Data<AppState>,
    school: &School,
    token: Option<String>,
) -> Result<DynamicView, PageError> {
    let st = state.clone();
    let sch = school.clone();
    let o = failure::blocking(move || Ok(dynamic_ip::overview(st.dir.as_ref(), &sch)?)).await?;
    let when = |at: i64| catalogue::local_time(at, "%-d-%-m-%Y %H:%M");
    let url = format!("{}{UPDATE_PATH}", state.config.issuer);
    let key = token.as_deref().unwrap_or(KEY_PLACEHOLDER);
    Ok(DynamicView {
        on: o.setting.is_some(),
        network: o.network.map(|n| n.to_string()),
        seen: o.setting.and_then(|s| s.seen_at).map(when),
        history: o
            .history
            .iter()
            .map(|h| (h.network.to_string(), when(h.at)))
            .collect(),
        shell: format!("curl -fsS -X POST -H \"Authorization: Bearer {key}\" {url}"),
        powershell: format!(
            "Invoke-RestMethod -Method Post -Uri {url} -Headers @{{ Authorization = \"Bearer {key}\" }}"
        ),
        update_url: url,
        token,
    })
}
