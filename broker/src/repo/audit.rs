//! The audit trail: [`Audit`].

use claims::InstellingRef;

use super::RepoResult;
use crate::model::AuditEvent;

/// Which lines of the trail to read.
#[derive(Debug, Clone, Copy)]
pub struct AuditQuery<'a> {
    /// One school's lines; `None`: all.
    pub school: Option<&'a InstellingRef>,
    /// Only these actions (their stored names); empty: every action.
    pub actions: &'a [&'a str],
    /// Only lines written before the line with this `seq` (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

/// The audit trail.
pub trait Audit {
    fn append_audit(&self, event: AuditEvent) -> RepoResult<()>;
    /// The lines `q` asks for, newest first.
    fn audit_trail(&self, q: &AuditQuery<'_>) -> RepoResult<Vec<AuditEvent>>;
    /// The newest `limit` lines (of one school).
    fn audit_events(
        &self,
        school: Option<&InstellingRef>,
        limit: i64,
    ) -> RepoResult<Vec<AuditEvent>> {
        self.audit_trail(&AuditQuery {
            school,
            actions: &[],
            before: None,
            limit,
        })
    }
}
