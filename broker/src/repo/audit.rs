//! The audit trail: [`Audit`].

use claims::InstellingRef;

use super::RepoResult;
use crate::model::AuditEvent;

/// The audit trail.
pub trait Audit {
    fn append_audit(&self, event: AuditEvent) -> RepoResult<()>;
    /// Newest first.
    fn audit_events(
        &self,
        school: Option<&InstellingRef>,
        limit: i64,
    ) -> RepoResult<Vec<AuditEvent>>;
}
