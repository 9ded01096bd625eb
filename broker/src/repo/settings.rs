//! Operator settings: [`Settings`].

use super::RepoResult;
use crate::model::AuditEvent;

/// Operator settings.
pub trait Settings {
    /// An operator setting (e.g. `notice`).
    fn setting(&self, key: &str) -> RepoResult<Option<String>>;
    /// Set (`Some`) or clear (`None`) an operator setting.
    fn put_setting(
        &self,
        key: &str,
        value: Option<&str>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()>;
}
