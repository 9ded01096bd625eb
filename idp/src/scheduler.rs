//! Jobs the running server does by the clock, on one node at a time: every node runs this
//! loop, and a job runs where its lease (a row in the database, [`broker::repo::Settings::try_lease`]) is
//! held. A node that stops holding a lease (it stopped, or its database hop failed) loses it
//! when the lease runs out, and another node takes over.
//!
//! - **The school year** (every minute): files staged for the next school year take effect
//!   at 00:00 Europe/Amsterdam on 1 August ([`broker::import::staging::switch_due`]), and
//!   parties with a webhook are told the year began
//!   ([`broker::webhooks::announce_school_year`]).
//! - **The nightly pull** (from 02:00 Europe/Amsterdam): every active UWLR coupling not
//!   fetched since then is fetched and imported ([`broker::import::las::pull_due`]), one school
//!   after another; a node that stops halfway leaves the rest to the next holder of the
//!   lease, and a school fetched by hand after 02:00 is not fetched again that night.
//! - **The cleanup** (at most once an hour, whichever node holds its lease): expired rows are
//!   removed in batches ([`broker::repo::Cleanup`]); audit lines only when
//!   `LEERPOORT_AUDIT_RETENTION_DAYS` is set. `leerpoort cleanup` runs the same by hand.

use std::time::Duration;

use actix_web::web;
use broker::import::{self, staging};
use broker::repo::{CleanupCounts, CleanupPolicy};

use crate::app::AppState;

/// How often the loop looks for work.
pub const TICK_SECS: u64 = 60;
/// How long a lease lasts: longer than a tick, so the holder renews it before it runs out.
const LEASE_SECS: i64 = 5 * 60;
/// Who applies a staged school year, in the audit trail.
const ACTOR: &str = "scheduler";

/// Run the jobs every [`TICK_SECS`], forever, as `node`.
pub async fn run(state: AppState, node: String) {
    let mut tick = tokio::time::interval(Duration::from_secs(TICK_SECS));
    loop {
        tick.tick().await;
        let (st, n) = (state.clone(), node.clone());
        match web::block(move || school_year(&st, &n)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(schools = n, "staged school years applied"),
            Ok(Err(e)) => tracing::warn!(error = %e, "applying staged school years failed"),
            Err(e) => tracing::warn!(error = %e, "applying staged school years failed"),
        }
        let (st, n) = (state.clone(), node.clone());
        match web::block(move || nightly_pull(&st, &n)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(schools = n, "nightly LAS pull"),
            Ok(Err(e)) => tracing::warn!(error = %e, "nightly LAS pull failed"),
            Err(e) => tracing::warn!(error = %e, "nightly LAS pull failed"),
        }
        let (st, n) = (state.clone(), node.clone());
        match web::block(move || cleanup(&st, &n)).await {
            Ok(Ok(None)) => {}
            Ok(Ok(Some(c))) => tracing::info!(
                thuis_tokens = c.thuis_tokens,
                operator_links = c.operator_links,
                leases = c.leases,
                audit_events = c.audit_events,
                dynamic_ip_history = c.dynamic_ip_history,
                statements = c.statements,
                longest_statement_ms = c.longest_statement_ms,
                "cleanup: expired rows removed"
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "cleanup failed"),
            Err(e) => tracing::warn!(error = %e, "cleanup failed"),
        }
    }
}

/// How often the cleanup runs, at most (seconds).
pub const CLEANUP_EVERY_SECS: i64 = 3600;

/// What the cleanup removes at `now`, by the configuration (audit retention).
pub fn cleanup_policy(state: &AppState, now: i64, dry_run: bool) -> CleanupPolicy {
    CleanupPolicy::at(now, state.config.audit_retention_days, dry_run)
}

/// One round of the cleanup, when `node` holds its lease and the last round (of any node)
/// began an hour ago or more: what was removed; `None` when it was not this node's turn.
pub fn cleanup(state: &AppState, node: &str) -> Result<Option<CleanupCounts>, String> {
    let now = state.clock.now_secs();
    let held = state
        .dir
        .try_lease("cleanup", node, now, now + LEASE_SECS)
        .map_err(|e| e.to_string())?;
    if !held
        || !state
            .dir
            .claim_cleanup_round(now, CLEANUP_EVERY_SECS)
            .map_err(|e| e.to_string())?
    {
        return Ok(None);
    }
    // Renew the lease between batches; a node that lost it stops (the next round goes on).
    let still_mine = || {
        let t = state.clock.now_secs();
        state
            .dir
            .try_lease("cleanup", node, t, t + LEASE_SECS)
            .unwrap_or(false)
    };
    state
        .dir
        .clean_up(&cleanup_policy(state, now, false), &still_mine)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// One round of the school-year job, when `node` holds its lease: how many schools' staged
/// files were applied (or dropped because they could no longer be).
pub fn school_year(state: &AppState, node: &str) -> Result<usize, String> {
    let now = state.clock.now_secs();
    let held = state
        .dir
        .try_lease("school-year", node, now, now + LEASE_SECS)
        .map_err(|e| e.to_string())?;
    if !held {
        return Ok(0);
    }
    let secrets = state.credentials();
    let done = staging::switch_due(&state.world(), &secrets, ACTOR, &import::read_file)
        .map_err(|e| e.to_string())?;
    if broker::webhooks::announce_school_year(&state.world(), ACTOR).map_err(|e| e.to_string())? {
        tracing::info!("a new school year began: parties with a webhook are told");
    }
    Ok(done.len())
}

/// The hour (Europe/Amsterdam) the nightly pull starts.
pub const NIGHTLY_PULL_HOUR: i8 = 2;

/// The last start of the nightly pull at or before `now`: 02:00 Europe/Amsterdam today, or
/// yesterday when it is not yet 02:00.
pub fn night_start(now: i64) -> i64 {
    let Ok(tz) = jiff::tz::TimeZone::get("Europe/Amsterdam") else {
        return now;
    };
    let Ok(ts) = jiff::Timestamp::from_second(now) else {
        return now;
    };
    let local = ts.to_zoned(tz.clone());
    let at = |d: jiff::civil::Date| {
        d.at(NIGHTLY_PULL_HOUR, 0, 0, 0)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp().as_second())
            .unwrap_or(now)
    };
    let today = at(local.date());
    if today <= now {
        today
    } else {
        local.date().yesterday().map(at).unwrap_or(now)
    }
}

/// One round of the nightly pull, when `node` holds its lease: how many schools were fetched
/// (successfully or not; failures are on each coupling and in the school's trail).
pub fn nightly_pull(state: &AppState, node: &str) -> Result<usize, String> {
    let now = state.clock.now_secs();
    let held = state
        .dir
        .try_lease("las-pull", node, now, now + LEASE_SECS)
        .map_err(|e| e.to_string())?;
    if !held {
        return Ok(0);
    }
    let secrets = state.credentials();
    let transport = crate::uwlr::HttpsUwlr::new(&state.config.uwlr);
    let afnemer = crate::uwlr::afnemer(&state.config.uwlr);
    // Renew the lease before each school: a round may outlast one lease.
    let still_mine = || {
        let t = state.clock.now_secs();
        state
            .dir
            .try_lease("las-pull", node, t, t + LEASE_SECS)
            .unwrap_or(false)
    };
    let done = broker::import::las::pull_due(
        &state.world(),
        &secrets,
        &transport,
        &afnemer,
        night_start(now),
        &still_mine,
    )
    .map_err(|e| e.to_string())?;
    Ok(done.len())
}
