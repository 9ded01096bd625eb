//! Operator settings: [`Settings`].

use super::RepoResult;
use crate::model::AuditEvent;

/// Operator settings.
pub trait Settings {
    /// An operator setting (e.g. `notice`).
    fn setting(&self, key: &str) -> RepoResult<Option<String>>;
    /// Set (`Some`) or clear (`None`) an operator setting.
    /// At the audit event's moment.
    fn put_setting(&self, key: &str, value: Option<&str>, audit: AuditEvent) -> RepoResult<()>;

    /// Hold the lease `name` for `holder` until `until` when it is free, expired (at `now`)
    /// or already `holder`'s; whether `holder` holds it now. Two nodes asking at once: one
    /// wins (a compare-and-swap on the stored value). Jobs that must run on one node at a
    /// time (the scheduler's) take a lease first.
    fn try_lease(&self, name: &str, holder: &str, now: i64, until: i64) -> RepoResult<bool>;
}
