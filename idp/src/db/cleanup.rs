//! [`broker::repo::Cleanup`] on diesel: expired rows removed in batches.
//!
//! Every delete is one statement of at most `batch` rows, `DELETE ... WHERE key IN (SELECT
//! key ... LIMIT n)` (the same text on SQLite and PostgreSQL), run on its own outside any
//! transaction of ours: a table is held only as long as one batch takes, and the loop goes on
//! until a batch removes fewer than `batch` rows.
//!
//! What is not removed here, and why:
//! - `substitutions`: a substitution ends through `expire_due` (every minute), which also
//!   wipes the account's name; removing the row alone would leave the account as it was.
//! - `merger_offers`, `thuis_codes`, `thuis_links`: they have no expiry; they go when
//!   accepted, replaced or unlinked (or with the pupil).
//! - `staged_imports`: applied or dropped by the school-year job on 1 August.
//! - `webhook_outbox`: `purge_webhooks`, run by the webhook loop.

use std::time::Instant;

use broker::repo::{Cleanup, CleanupCounts, CleanupPolicy, RepoResult};
use diesel::prelude::*;

use super::directory::{map_diesel, DieselDirectory, TxError};
use super::schema::{audit_events, dynamic_ip_history, settings, thuis_tokens};
use super::DbConnection;
use broker::repo::{LEASE_GRACE_SECS, OPERATOR_LINK_GRACE_SECS};

/// The `settings` row that holds when the last cleanup round began (Unix seconds).
const LAST_ROUND: &str = "cleanup:last-round";
/// The operator's one-time sign-in link (see `server::operator`).
const OPERATOR_LINK: &str = crate::server::operator::LINK_SETTING;

/// `settings` rows by key, with the value they were read with.
type Rows = Vec<(String, String)>;

/// Counts statements and the longest one.
struct Timing<'a> {
    counts: &'a mut CleanupCounts,
}

impl Timing<'_> {
    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        let took = start.elapsed();
        self.counts.statements += 1;
        let ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        self.counts.longest_statement_ms = self.counts.longest_statement_ms.max(ms);
        out
    }
}

/// Run `one` (a delete of at most `batch` rows) until it removes fewer, or `keep_going` says
/// stop; how many rows went.
fn batched(
    timing: &mut Timing<'_>,
    batch: i64,
    keep_going: &dyn Fn() -> bool,
    mut one: impl FnMut() -> QueryResult<usize>,
) -> Result<u64, TxError> {
    let mut total = 0u64;
    loop {
        let n = timing.time(&mut one)?;
        total += n as u64;
        if i64::try_from(n).unwrap_or(i64::MAX) < batch || !keep_going() {
            return Ok(total);
        }
    }
}

/// Delete at most `batch` rows of `table` that match `condition`, found by their `key` (the
/// primary key, or `seq`, the rowid on SQLite): the same SQL on both backends. Only names and
/// numbers of ours go into the text.
fn delete_batch(
    c: &mut DbConnection,
    table: &str,
    key: &str,
    condition: &str,
    batch: i64,
) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "DELETE FROM {table} WHERE {key} IN \
         (SELECT {key} FROM {table} WHERE {condition} LIMIT {batch})"
    ))
    .execute(c)
}

/// A count, as one statement.
fn counted(
    timing: &mut Timing<'_>,
    one: impl FnOnce() -> QueryResult<i64>,
) -> Result<u64, TxError> {
    Ok(u64::try_from(timing.time(one)?).unwrap_or(0))
}

/// The `settings` rows that are dead at `now`: leases expired more than a day ago, and the
/// operator's link an hour after its expiry. Each with the value it was read with.
fn dead_settings(c: &mut DbConnection, now: i64) -> Result<(Rows, Rows), TxError> {
    let rows: Vec<(String, String)> = settings::table
        .filter(
            settings::key
                .like("lease:%")
                .or(settings::key.eq(OPERATOR_LINK)),
        )
        .select((settings::key, settings::value))
        .load(c)?;
    let (mut leases, mut links) = (Vec::new(), Vec::new());
    for (key, value) in rows {
        if key == OPERATOR_LINK {
            // `{"code_hash": ..., "expires_at": ...}`; a value that does not parse is left.
            let expires = serde_json::from_str::<serde_json::Value>(&value)
                .ok()
                .and_then(|v| v.get("expires_at").and_then(serde_json::Value::as_i64));
            if expires.is_some_and(|e| e + OPERATOR_LINK_GRACE_SECS <= now) {
                links.push((key, value));
            }
        } else {
            // `HOLDER UNTIL`, as `try_lease` writes it.
            let until = value
                .rsplit_once(' ')
                .and_then(|(_, u)| u.parse::<i64>().ok());
            if until.is_some_and(|u| u + LEASE_GRACE_SECS <= now) {
                leases.push((key, value));
            }
        }
    }
    Ok((leases, links))
}

/// Remove `rows` of `settings`, each only while it still holds the value it was read with (a
/// lease taken again meanwhile stays).
fn remove_settings(c: &mut DbConnection, rows: &[(String, String)]) -> Result<u64, TxError> {
    let mut n = 0u64;
    for (key, value) in rows {
        n += diesel::delete(
            settings::table
                .filter(settings::key.eq(key))
                .filter(settings::value.eq(value)),
        )
        .execute(c)? as u64;
    }
    Ok(n)
}

fn clean_up(
    c: &mut DbConnection,
    policy: &CleanupPolicy,
    keep_going: &dyn Fn() -> bool,
) -> Result<CleanupCounts, TxError> {
    let mut counts = CleanupCounts::default();
    let mut found = CleanupCounts::default();
    let mut timing = Timing {
        counts: &mut counts,
    };
    let now = policy.now;
    let batch = policy.batch.max(1);

    // Activation and reset links of home accounts: dead once `expires_at` has come (every
    // look-up and use requires `expires_at > now`). A new link for any account already
    // removes the expired ones; this catches those no new link followed.
    let expired_links = || thuis_tokens::table.filter(thuis_tokens::expires_at.le(now));
    found.thuis_tokens = if policy.dry_run {
        counted(&mut timing, || expired_links().count().get_result(c))?
    } else {
        batched(&mut timing, batch, keep_going, || {
            delete_batch(
                c,
                "thuis_tokens",
                "token_hash",
                &format!("expires_at <= {now}"),
                batch,
            )
        })?
    };

    // Leases and the operator's link: a handful of rows, read and removed one by one.
    let (leases, links) = timing.time(|| dead_settings(c, now))?;
    if policy.dry_run {
        found.leases = leases.len() as u64;
        found.operator_links = links.len() as u64;
    } else {
        found.leases = timing.time(|| remove_settings(c, &leases))?;
        found.operator_links = timing.time(|| remove_settings(c, &links))?;
    }

    // The audit trail and the Dynamic IP history (whose every change is also an audit line),
    // only when the operator set a retention: the school's auditors decide how long it is
    // kept, and by default it is kept for ever.
    if let Some(before) = policy.audit_before {
        if keep_going() {
            let old_lines = || audit_events::table.filter(audit_events::at.lt(before));
            found.audit_events = if policy.dry_run {
                counted(&mut timing, || old_lines().count().get_result(c))?
            } else {
                batched(&mut timing, batch, keep_going, || {
                    delete_batch(c, "audit_events", "seq", &format!("at < {before}"), batch)
                })?
            };
        }
        if keep_going() {
            let old_history =
                || dynamic_ip_history::table.filter(dynamic_ip_history::at.lt(before));
            found.dynamic_ip_history = if policy.dry_run {
                counted(&mut timing, || old_history().count().get_result(c))?
            } else {
                batched(&mut timing, batch, keep_going, || {
                    delete_batch(
                        c,
                        "dynamic_ip_history",
                        "seq",
                        &format!("at < {before}"),
                        batch,
                    )
                })?
            };
        }
    }

    found.statements = counts.statements;
    found.longest_statement_ms = counts.longest_statement_ms;
    Ok(found)
}

impl Cleanup for DieselDirectory {
    fn clean_up(
        &self,
        policy: &CleanupPolicy,
        keep_going: &dyn Fn() -> bool,
    ) -> RepoResult<CleanupCounts> {
        // One connection, no transaction around it: each statement commits on its own.
        self.read(|c| clean_up(c, policy, keep_going))
    }

    fn claim_cleanup_round(&self, now: i64, every: i64) -> RepoResult<bool> {
        let mut conn = self.conn()?;
        let c: &mut DbConnection = &mut conn;
        let value = now.to_string();
        let last: Option<String> = settings::table
            .find(LAST_ROUND)
            .select(settings::value)
            .first(c)
            .optional()
            .map_err(map_diesel)?;
        let Some(last) = last else {
            return super::staging::insert_setting_first(c, LAST_ROUND, &value, now);
        };
        // A value that does not parse is taken as long ago.
        if last.parse::<i64>().is_ok_and(|l| now - l < every) {
            return Ok(false);
        }
        let swapped = diesel::update(
            settings::table
                .filter(settings::key.eq(LAST_ROUND))
                .filter(settings::value.eq(&last)),
        )
        .set((settings::value.eq(&value), settings::updated_at.eq(now)))
        .execute(c)
        .map_err(map_diesel)?;
        Ok(swapped == 1)
    }
}
