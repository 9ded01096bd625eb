//! `leerpoort cleanup`: remove expired rows now, as the server's hourly job does.

use std::sync::Arc;

use broker::clock::Clock;
use broker::repo::CleanupCounts;
use serde_json::json;

use super::{open_state, out, Output};
use crate::config::Config;

pub(super) fn run(config: Config, clock: Arc<dyn Clock>, dry_run: bool) -> anyhow::Result<Output> {
    let state = open_state(config, clock)?;
    let now = state.clock.now_secs();
    let policy = crate::scheduler::cleanup_policy(&state, now, dry_run);
    let counts = state.dir.clean_up(&policy, &|| true)?;
    let retention = state.config.audit_retention_days;
    Ok(out(
        json!({
            "dry_run": dry_run,
            "audit_retention_days": retention,
            "removed": counts,
            "total": counts.total(),
        }),
        describe(&counts, dry_run, retention),
    ))
}

fn describe(c: &CleanupCounts, dry_run: bool, retention: u32) -> String {
    let verb = if dry_run { "Would remove" } else { "Removed" };
    let audit = if retention == 0 {
        "audit lines: kept for ever (LEERPOORT_AUDIT_RETENTION_DAYS is not set)".to_string()
    } else {
        format!(
            "audit lines older than {retention} days: {}\nDynamic IP history older than \
             {retention} days: {}",
            c.audit_events, c.dynamic_ip_history
        )
    };
    format!(
        "{verb} {} expired row(s).\nhome account links (activation/reset): {}\noperator \
         sign-in links: {}\nleases: {}\n{audit}",
        c.total(),
        c.thuis_tokens,
        c.operator_links,
        c.leases,
    )
}
