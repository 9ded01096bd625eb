//! Staff members' second factor: [`StaffTotp`].

use uuid::Uuid;

use super::RepoResult;
use crate::model::AuditEvent;

/// A staff member's second factor as enrolled: the sealed secret, and the time step of the
/// code that confirmed it, which counts as used.
#[derive(Debug, Clone, Copy)]
pub struct NewStaffTotp<'a> {
    pub user: Uuid,
    pub sealed: &'a str,
    pub step: i64,
}

/// Staff members' second factor (TOTP).
pub trait StaffTotp {
    /// A staff member's sealed TOTP secret and the last time step accepted, if enrolled.
    fn staff_totp(&self, user: Uuid) -> RepoResult<Option<(String, i64)>>;
    /// Enrol (or re-enrol) a staff member's second factor.
    fn put_staff_totp(&self, totp: NewStaffTotp<'_>, now: i64, audit: AuditEvent)
        -> RepoResult<()>;
    /// Accept time step `step` of `user`'s second factor once: `true` only if it is later than
    /// every step accepted before (atomic, so a code works once even across nodes).
    fn use_totp_step(&self, user: Uuid, step: i64) -> RepoResult<bool>;
    /// Remove `user`'s second factor; `false` if there was none.
    fn remove_staff_totp(&self, user: Uuid, audit: AuditEvent) -> RepoResult<bool>;
}
