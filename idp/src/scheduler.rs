//! Jobs the running server does by the clock, on one node at a time: every node runs this
//! loop, and a job runs where its lease (a row in the database, [`broker::repo::Settings::try_lease`]) is
//! held. A node that stops holding a lease (it stopped, or its database hop failed) loses it
//! when the lease runs out, and another node takes over.
//!
//! - **The school year** (every minute): files staged for the next school year take effect
//!   at 00:00 Europe/Amsterdam on 1 August ([`broker::import::staging::switch_due`]).

use std::time::Duration;

use actix_web::web;
use broker::import::{self, staging};

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
        let (st, node) = (state.clone(), node.clone());
        match web::block(move || school_year(&st, &node)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(schools = n, "staged school years applied"),
            Ok(Err(e)) => tracing::warn!(error = %e, "applying staged school years failed"),
            Err(e) => tracing::warn!(error = %e, "applying staged school years failed"),
        }
    }
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
    Ok(done.len())
}
