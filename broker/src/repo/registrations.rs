//! Schools' registrations of relying parties: [`Registrations`].

use claims::{InstellingRef, Release};
use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, Registration};

/// A school's registration of a relying party, as it should be after the call.
#[derive(Debug, Clone)]
pub struct RegistrationChange {
    pub school: InstellingRef,
    pub rp_id: Uuid,
    pub allowed: bool,
    pub release: Release,
    pub home_allowed: bool,
}

/// Schools' registrations of relying parties.
pub trait Registrations {
    /// Creates or updates the registration; `since` moves only when `allowed` changes.
    fn put_registration(
        &self,
        change: RegistrationChange,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<Registration>;
    fn registration(&self, school: &InstellingRef, rp: Uuid) -> RepoResult<Option<Registration>>;
    fn registrations_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Registration>>;
    /// Every school's registration of a relying party.
    fn registrations_of_relying_party(&self, rp: Uuid) -> RepoResult<Vec<Registration>>;
}
