//! Devices linked to a school: [`EnrolledDevices`].

use claims::InstellingRef;
use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, EnrolledDevice};

/// Devices linked to a school (see [`EnrolledDevice`]).
pub trait EnrolledDevices {
    /// Store a newly linked device, unless the school already has `max` of them
    /// ([`RepoError::Conflict`](super::RepoError::Conflict)).
    fn insert_device(
        &self,
        device: EnrolledDevice,
        max: usize,
        audit: AuditEvent,
    ) -> RepoResult<EnrolledDevice>;
    /// The school's devices, most recently linked first.
    fn devices_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<EnrolledDevice>>;
    fn device(&self, id: Uuid) -> RepoResult<Option<EnrolledDevice>>;
    /// Is device `id` still linked to `school`? Records its use at `now` when the stored last
    /// use is older than `resolution` seconds (so at most one write per device per that time).
    fn device_in_use(
        &self,
        id: Uuid,
        school: &InstellingRef,
        now: i64,
        resolution: i64,
    ) -> RepoResult<bool>;
    /// Unlink a device of `school`; `Ok(None)` when `school` has no such device.
    fn revoke_device(
        &self,
        school: &InstellingRef,
        id: Uuid,
        audit: AuditEvent,
    ) -> RepoResult<Option<EnrolledDevice>>;
}
