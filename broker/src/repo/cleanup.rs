//! Removing rows that expired and mean nothing any more: [`Cleanup`].
//!
//! Everything short-lived in the ephemeral store (sessions, codes, refresh-token families,
//! rate limits) expires there by itself. These are the database's rows that expire and would
//! otherwise stay: activation and reset links of home accounts, the operator's one-time
//! sign-in link, the scheduler's leases nobody took for a long time, and — only when the
//! operator set a retention — old audit lines and the Dynamic IP history.

use serde::Serialize;

use super::RepoResult;

/// How long a lease (`lease:NAME` in the settings) may lie expired before it is removed. A
/// lease that a job renews every minute is never this old; one of a job that no longer exists
/// is.
pub const LEASE_GRACE_SECS: i64 = 24 * 3600;
/// How long the operator's sign-in link stays after its expiry, so that whoever opens it
/// just too late reads that it expired rather than that it is unknown.
pub const OPERATOR_LINK_GRACE_SECS: i64 = 3600;
/// Rows per statement: no statement holds a table for long.
pub const CLEANUP_BATCH: i64 = 10_000;

/// What one round of [`Cleanup::clean_up`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// The moment: what expired before it goes.
    pub now: i64,
    /// Audit lines, and Dynamic IP history, written before this moment go. `None` (the
    /// default): kept for ever.
    pub audit_before: Option<i64>,
    /// Rows per statement (at least 1).
    pub batch: i64,
    /// Count what would go; remove nothing.
    pub dry_run: bool,
}

impl CleanupPolicy {
    /// Removing at `now`, keeping audit lines `retention_days` (0: for ever), in batches of
    /// [`CLEANUP_BATCH`].
    pub fn at(now: i64, retention_days: u32, dry_run: bool) -> Self {
        CleanupPolicy {
            now,
            audit_before: (retention_days > 0).then(|| now - i64::from(retention_days) * 86_400),
            batch: CLEANUP_BATCH,
            dry_run,
        }
    }
}

/// How many rows of each kind went (or, in a dry run, would go). Never ids or personal data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CleanupCounts {
    /// Activation and reset links of home accounts past their expiry.
    pub thuis_tokens: u64,
    /// The operator's one-time sign-in link, an hour past its expiry (0 or 1).
    pub operator_links: u64,
    /// Scheduler leases expired for more than a day.
    pub leases: u64,
    /// Audit lines older than the retention.
    pub audit_events: u64,
    /// Dynamic IP history older than the audit retention.
    pub dynamic_ip_history: u64,
    /// Statements run (deletes, or counts in a dry run).
    pub statements: u64,
    /// The longest any one statement took, in milliseconds.
    pub longest_statement_ms: u64,
}

impl CleanupCounts {
    /// Rows of every kind together.
    pub fn total(&self) -> u64 {
        self.thuis_tokens
            + self.operator_links
            + self.leases
            + self.audit_events
            + self.dynamic_ip_history
    }
}

/// Removing expired rows.
pub trait Cleanup {
    /// Remove (or count, `dry_run`) what `policy` says is dead, kind after kind, at most
    /// `policy.batch` rows per statement and each statement on its own, so that no big table
    /// is held by one long transaction. Between statements `keep_going` is asked; `false`
    /// stops the round there (the rest is left to the next).
    fn clean_up(
        &self,
        policy: &CleanupPolicy,
        keep_going: &dyn Fn() -> bool,
    ) -> RepoResult<CleanupCounts>;

    /// Claim the cleanup round due at `now`: `true` when the last round claimed (by any node)
    /// began `every` seconds or more before `now`, or there was none. Of two nodes asking at
    /// once, one wins (a compare-and-swap on a `settings` row).
    fn claim_cleanup_round(&self, now: i64, every: i64) -> RepoResult<bool>;
}
