//! "Personeel": the school's teachers (active or not), its ICT coordinators and its support
//! staff (IB'er, RT'er, stagiaire). Teachers come from the school's administration; ICT
//! coordinators and support staff are added here by hand ("Ondersteunend Personeel"), and a
//! teacher may be given an extra role. A school always keeps at least one active ICT
//! coordinator.

use claims::{InstellingRef, Role};
use uuid::Uuid;

use super::{is_active_coordinator, BeheerError, Coordinator, Refusal, Result};
use crate::admin::{self, Credentials, Ctx, UserInput};
use crate::audit::AuditAction;
use crate::clock::Clock;
use crate::login::password;
use crate::model::{AuditEvent, User, UserStatus};
use crate::ports::World;
use crate::repo::{Directory, RepoError};

/// The roles a coordinator gives in Beheer.
pub const GIVEN_ROLES: [Role; 4] = [Role::IctCoordinator, Role::Ib, Role::Rt, Role::Stagiaire];

/// The school's staff, in the page's three lists, each by family name.
#[derive(Debug, Clone, Default)]
pub struct StaffList {
    /// Everyone with the `ict-coordinator` role.
    pub coordinators: Vec<User>,
    /// Teachers (active, inactive or disabled), with any extra role they hold.
    pub teachers: Vec<User>,
    /// IB'ers, RT'ers and stagiaires who are not teachers.
    pub support: Vec<User>,
}

/// The school's staff (pupils, substitutes' accounts and removed users aside).
pub fn list(dir: &dyn Directory, c: &Coordinator) -> Result<StaffList> {
    let mut out = StaffList::default();
    for u in dir.users_of_school(c.school())? {
        if u.is_pupil() || u.status == UserStatus::Removed || u.roles.contains(&Role::Invalkracht) {
            continue;
        }
        if u.roles.contains(&Role::IctCoordinator) {
            out.coordinators.push(u);
        } else if u.roles.contains(&Role::Leerkracht) {
            out.teachers.push(u);
        } else {
            out.support.push(u);
        }
    }
    for l in [&mut out.coordinators, &mut out.teachers, &mut out.support] {
        l.sort_by_key(|u| (u.family_name.to_lowercase(), u.given_name.to_lowercase()));
    }
    Ok(out)
}

/// A person a coordinator adds.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub role: Role,
}

/// Add an ICT coordinator or a support-staff member. The account starts inactive and the
/// person receives an activation link by mail; until they set a password, nobody signs in
/// with it.
pub fn add(w: &World, creds: Credentials<'_>, c: &Coordinator, new: NewStaff) -> Result<Invited> {
    invite(w, creds, c.ctx(w.dir, w.clock), c.school(), new)
}

/// [`add`] for whoever `ctx` names: the operator invites a school's first ICT coordinator
/// this way (`leerpoort school invite-coordinator`).
pub fn invite(
    w: &World,
    creds: Credentials<'_>,
    ctx: Ctx<'_>,
    school: &InstellingRef,
    new: NewStaff,
) -> Result<Invited> {
    if !GIVEN_ROLES.contains(&new.role) {
        return Err(BeheerError::Refused(Refusal::RoleNotAllowed));
    }
    if new.given_name.trim().is_empty() || new.family_name.trim().is_empty() {
        return Err(BeheerError::Refused(Refusal::NameMissing));
    }
    let email = admin::normalise_email(&new.email)
        .map_err(|_| BeheerError::Refused(Refusal::EmailInvalid))?;
    if w.dir.user_by_email(&email)?.is_some() {
        return Err(BeheerError::Refused(Refusal::EmailTaken));
    }
    let input = UserInput {
        school: school.to_string(),
        role: new.role.to_string(),
        given_name: new.given_name.trim().to_string(),
        family_name: new.family_name.trim().to_string(),
        email: Some(email),
        ..UserInput::default()
    };
    let added = match admin::add_user(ctx, creds, input) {
        Err(admin::AdminError::Repo(RepoError::Conflict(_))) => {
            return Err(BeheerError::Refused(Refusal::EmailTaken))
        }
        other => other?,
    };
    // The account exists either way; a mail that could not go is sent again from the list.
    let link_sent = match password::send_link(w, &added.user, ctx.actor, w.now()) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "beheer: activation link not sent");
            false
        }
    };
    Ok(Invited {
        user: added.user,
        link_sent,
    })
}

/// A person added, and whether their activation mail went out.
#[derive(Debug, Clone)]
pub struct Invited {
    pub user: User,
    pub link_sent: bool,
}

/// Give a staff member of the school an extra role (or take one away), keeping at least one
/// active ICT coordinator.
pub fn set_role(
    dir: &dyn Directory,
    clock: &dyn Clock,
    c: &Coordinator,
    user: Uuid,
    role: Role,
    on: bool,
) -> Result<User> {
    if !GIVEN_ROLES.contains(&role) {
        return Err(BeheerError::Refused(Refusal::RoleNotAllowed));
    }
    let u = c.own_user(dir, user)?;
    if u.is_pupil() || u.roles.contains(&Role::Invalkracht) {
        return Err(BeheerError::NotFound);
    }
    let mut roles = u.roles.clone();
    if on == roles.contains(&role) {
        return Ok(u);
    }
    if on {
        roles.push(role);
    } else {
        if role == Role::IctCoordinator && u.status == UserStatus::Active {
            keeps_a_coordinator(dir, c, user)?;
        }
        roles.retain(|r| *r != role);
        // Everyone keeps a role; their only one is not taken away (block or remove them).
        if roles.is_empty() {
            return Err(BeheerError::Refused(Refusal::RoleNotAllowed));
        }
    }
    let audit = AuditEvent::record(
        AuditAction::UserRolesSet,
        c.actor(),
        clock.now_secs(),
        Some(*c.school()),
        Some(user.to_string()),
        serde_json::json!({"roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>()}),
    );
    Ok(dir.set_roles(user, &roles, audit)?)
}

/// Mail a staff member of the school their activation link again (a reset link once active).
pub fn resend_link(w: &World, c: &Coordinator, user: Uuid) -> Result<User> {
    let u = c.own_user(w.dir, user)?;
    if u.is_pupil() {
        return Err(BeheerError::NotFound);
    }
    password::send_link(w, &u, c.actor(), w.now())
        .map_err(|_| BeheerError::Refused(Refusal::NoLink))?;
    Ok(u)
}

/// Disable a staff member of the school (offboarding: their sessions, codes and tokens end
/// at once), or remove them (personal data deleted, the id kept). Never the school's last
/// active ICT coordinator.
pub fn offboard(
    dir: &dyn Directory,
    clock: &dyn Clock,
    c: &Coordinator,
    user: Uuid,
    remove: bool,
) -> Result<User> {
    let u = c.own_user(dir, user)?;
    if u.is_pupil() {
        return Err(BeheerError::NotFound);
    }
    if is_active_coordinator(&u) {
        keeps_a_coordinator(dir, c, user)?;
    }
    let ctx = c.ctx(dir, clock);
    Ok(if remove {
        admin::remove_user(ctx, user)?
    } else {
        admin::disable_user(ctx, user)?
    })
}

/// Enable a disabled staff member of the school again.
pub fn enable(dir: &dyn Directory, clock: &dyn Clock, c: &Coordinator, user: Uuid) -> Result<User> {
    let u = c.own_user(dir, user)?;
    if u.is_pupil() {
        return Err(BeheerError::NotFound);
    }
    Ok(admin::enable_user(c.ctx(dir, clock), user)?)
}

/// Refuse when `leaving` is the school's only active ICT coordinator.
fn keeps_a_coordinator(dir: &dyn Directory, c: &Coordinator, leaving: Uuid) -> Result<()> {
    let others = dir
        .users_of_school(c.school())?
        .iter()
        .filter(|u| u.id != leaving && is_active_coordinator(u))
        .count();
    if others == 0 {
        return Err(BeheerError::Refused(Refusal::LastCoordinator));
    }
    Ok(())
}
