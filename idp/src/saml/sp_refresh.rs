//! Reading an SP's metadata from its URL: for `saml-sp add` / `update`, and the periodic
//! refresh the running server does for every SP with `--refresh-hours`. A refresh goes
//! through [`broker::admin::update_saml_sp`], so it checks and verifies the document like
//! `saml-sp update` does and keeps every school's registration; when it fails, the old
//! metadata stays and the reason is logged and kept (`saml-sp list` shows it).

use std::io::Read as _;
use std::time::Duration;

use broker::model::RpProtocol;
use broker::repo::SamlSpChange;

use super::METADATA_MAX;
use crate::app::AppState;
use broker::admin::{self, Ctx, SamlSpUpdate};

/// How often the running server looks for SPs whose refresh is due.
pub const CHECK_SECS: u64 = 10 * 60;

/// Fetch a metadata document from an https URL (http only on localhost), at most
/// [`METADATA_MAX`] bytes, within 15 seconds. Blocking: call it off the async runtime.
pub fn fetch(src: &str) -> Result<String, String> {
    let url = url::Url::parse(src).map_err(|e| format!("{src}: {e}"))?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && local) {
        return Err(format!("{src}: use an https URL"));
    }
    let res = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| e.to_string())?
        .get(url)
        .send()
        .map_err(|e| format!("fetching {src}: {e}"))?;
    if !res.status().is_success() {
        return Err(format!("fetching {src}: HTTP {}", res.status()));
    }
    let mut body = Vec::new();
    res.take(METADATA_MAX as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| format!("fetching {src}: {e}"))?;
    if body.len() > METADATA_MAX {
        return Err(format!(
            "{src}: the metadata is larger than {METADATA_MAX} bytes"
        ));
    }
    String::from_utf8(body).map_err(|_| format!("{src}: the metadata is not UTF-8"))
}

/// How one SP's refresh went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refreshed {
    pub entity_id: String,
    /// `Ok(true)`: new metadata; `Ok(false)`: unchanged; `Err`: kept the old, and why.
    pub result: Result<bool, String>,
}

/// Refresh every SP whose refresh is due at `now` (never refreshed, or `refresh_hours`
/// since the last successful one; a failed one is tried again at the next check).
/// Blocking.
pub fn refresh_due(state: &AppState, now: i64) -> Vec<Refreshed> {
    let rps = match state.dir.relying_parties() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "SAML metadata refresh: cannot list the service providers");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for rp in rps {
        let RpProtocol::Saml(saml) = &rp.protocol else {
            continue;
        };
        let Ok(options) = state.dir.saml_sp_options(rp.id) else {
            continue;
        };
        let (Some(url), Some(hours)) = (options.metadata_url.clone(), options.refresh_hours) else {
            continue;
        };
        let due = options
            .refreshed_at
            .is_none_or(|at| now >= at + i64::from(hours) * 3600);
        if !due {
            continue;
        }
        let ctx = Ctx {
            dir: state.dir.as_ref(),
            clock: state.clock.as_ref(),
            actor: "refresh",
        };
        let result = fetch(&url).and_then(|document| {
            admin::update_saml_sp(
                ctx,
                SamlSpUpdate {
                    entity_id: saml.entity_id.clone(),
                    metadata: Some(document),
                    metadata_url: Some(url.clone()),
                    ..Default::default()
                },
            )
            .map(|u| u.metadata_changed)
            .map_err(|e| e.to_string())
        });
        match &result {
            Ok(changed) => {
                tracing::info!(sp = %saml.entity_id, %url, changed, "SAML metadata refreshed");
            }
            Err(e) => {
                tracing::warn!(sp = %saml.entity_id, %url, error = %e,
                    "SAML metadata refresh failed; keeping the old metadata");
                let mut kept = options.clone();
                kept.refresh_error = Some(e.clone());
                let change = SamlSpChange {
                    rp: rp.id,
                    metadata: None,
                    options: kept,
                };
                if let Err(e) = state.dir.update_saml_sp(change, now, None) {
                    tracing::warn!(sp = %saml.entity_id, error = %e, "SAML metadata refresh: cannot record the failure");
                }
            }
        }
        out.push(Refreshed {
            entity_id: saml.entity_id.clone(),
            result,
        });
    }
    out
}

/// The background task of `serve`: every [`CHECK_SECS`], [`refresh_due`].
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(CHECK_SECS));
    loop {
        tick.tick().await;
        let st = state.clone();
        let now = st.clock.now_secs();
        if actix_web::web::block(move || refresh_due(&st, now))
            .await
            .is_err()
        {
            tracing::warn!("SAML metadata refresh could not run");
        }
    }
}
