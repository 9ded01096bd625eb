//! Devices linked to a school: who may link one, who may see and revoke them, and what a
//! device may be called. The cookie that a linked device carries is the `idp` crate's; it
//! names an [`EnrolledDevice`] by id, and [`EnrolledDevices::device_in_use`] decides on every
//! use whether that id still counts.

use claims::{InstellingRef, Role};
use uuid::Uuid;

use crate::audit::AuditAction;
use crate::model::{AuditEvent, EnrolledDevice, User, MAX_DEVICES_PER_SCHOOL};
use crate::repo::{Directory, RepoResult};

/// The longest name a device may have, in characters.
pub const MAX_NAME_CHARS: usize = 60;

/// May `staff` link a device to `school`? Active teachers and ICT coordinators of that school
/// only: support staff, substitutes and student teachers may not.
pub fn may_enrol(staff: &User, school: &InstellingRef) -> bool {
    &staff.school == school
        && staff.is_active_staff()
        && staff
            .roles
            .iter()
            .any(|r| matches!(r, Role::Leerkracht | Role::IctCoordinator))
}

/// May `staff` see and revoke `school`'s devices? Its active ICT coordinators only.
pub fn may_manage(staff: &User, school: &InstellingRef) -> bool {
    &staff.school == school
        && staff.is_active_staff()
        && staff.roles.contains(&Role::IctCoordinator)
}

/// Why a device name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a device needs a name")]
    Empty,
    #[error("a device name has at most {MAX_NAME_CHARS} characters")]
    TooLong,
}

/// The name as stored: trimmed, inner runs of white space (and control characters) made one
/// space.
pub fn device_name(raw: &str) -> Result<String, NameError> {
    let name = raw
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(NameError::TooLong);
    }
    Ok(name)
}

/// Link a new device to `staff`'s school, named `name` (already checked by [`device_name`]).
/// The caller has checked [`may_enrol`].
pub fn enrol(
    dir: &dyn Directory,
    staff: &User,
    name: String,
    now: i64,
) -> RepoResult<EnrolledDevice> {
    let device = EnrolledDevice {
        id: Uuid::new_v4(),
        school: staff.school,
        name,
        enrolled_by: staff.id,
        enrolled_at: now,
        last_used_at: None,
    };
    let audit = AuditEvent::record(
        AuditAction::DeviceEnrol,
        format!("user:{}", staff.id),
        now,
        Some(staff.school),
        Some(device.id.to_string()),
        serde_json::json!({"name": device.name}),
    );
    dir.insert_device(device, MAX_DEVICES_PER_SCHOOL, audit)
}

/// Unlink device `id` of `school`; `Ok(None)` when the school has no such device (another
/// school's id included). `actor` is `cli` or `user:<uuid>`.
pub fn revoke(
    dir: &dyn Directory,
    school: &InstellingRef,
    id: Uuid,
    actor: &str,
    now: i64,
) -> RepoResult<Option<EnrolledDevice>> {
    let audit = AuditEvent::record(
        AuditAction::DeviceRevoke,
        actor,
        now,
        Some(*school),
        Some(id.to_string()),
        serde_json::json!({}),
    );
    dir.revoke_device(school, id, audit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            device_name("  iPad 3\n groep\t4 "),
            Ok("iPad 3 groep 4".to_string())
        );
        assert_eq!(device_name(" \u{0007} "), Err(NameError::Empty));
        assert_eq!(device_name(&"é".repeat(60)), Ok("é".repeat(60)));
        assert_eq!(device_name(&"é".repeat(61)), Err(NameError::TooLong));
    }
}
