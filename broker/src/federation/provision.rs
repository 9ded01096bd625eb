//! The user a network environment signed in: matched ([`super::match_user`]), or created when
//! the upstream provisions — pupils and teachers only, and only the roles the operator allowed
//! for that upstream (`--provision-roles`). Unmatched users and refused roles are audit events
//! (without the asserted values: they may be personal).

use std::str::FromStr as _;

use claims::{InstellingRef, Role};
use uuid::Uuid;

use super::{match_user, Asserted, MatchError};
use crate::audit::AuditAction;
use crate::model::{AuditEvent, MatchRule, Upstream, User, UserStatus};
use crate::repo::{Directory, NewUser};

/// Why a sign-in through an upstream ends without a session.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error(transparent)]
    Match(#[from] MatchError),
    /// Provisioning was configured but the upstream did not send enough to create the user.
    #[error("cannot create the user: {0}")]
    Provision(String),
    /// The upstream asserted a role it may not create users with: anything but the pupils
    /// and teachers the operator allowed (`--provision-roles`).
    #[error("the network environment may not create a user with the role it asserted")]
    RoleNotAllowed,
    #[error("try again in a few minutes")]
    Unavailable,
}

fn audit(
    upstream: &Upstream,
    action: AuditAction,
    school: Option<InstellingRef>,
    details: serde_json::Value,
    now: i64,
) -> AuditEvent {
    AuditEvent::record(
        action,
        format!("upstream:{}", upstream.name),
        now,
        school,
        None,
        details,
    )
}

/// The user the upstream signed in: matched, or created when the upstream provisions.
/// Unmatched users are an audit event (without the asserted values: they may be personal).
pub fn user_for(
    dir: &dyn Directory,
    upstream: &Upstream,
    asserted: &Asserted,
    school: Option<&InstellingRef>,
    now: i64,
) -> Result<User, FinishError> {
    match match_user(dir, upstream, asserted, school) {
        Ok(u) => Ok(u),
        Err(MatchError::Unknown) if upstream.provision => {
            let school = school_to_provision(upstream, school)?;
            provision(dir, upstream, asserted, school, now)
        }
        Err(e) => {
            let _ = dir.append_audit(audit(
                upstream,
                AuditAction::UpstreamUnmatched,
                school
                    .copied()
                    .or_else(|| upstream.schools.first().copied()),
                serde_json::json!({"reason": e.to_string()}),
                now,
            ));
            Err(e.into())
        }
    }
}

/// The role an upstream asserts.
enum AssertedRole {
    /// It asserts none.
    Missing,
    Known(Role),
    /// It asserts one Leerpoort does not know.
    Other,
}

/// The role an upstream asserts, from `role` (Leerpoort's names) or else
/// `eduPersonAffiliation` (`student`; `employee`, `faculty` or `staff` as a teacher).
fn asserted_role(asserted: &Asserted) -> AssertedRole {
    if let Some(r) = asserted.get("role").map(|r| r.trim()) {
        return match Role::from_str(r) {
            Ok(role) => AssertedRole::Known(role),
            Err(_) => AssertedRole::Other,
        };
    }
    match asserted.get("eduPersonAffiliation").map(|a| a.trim()) {
        None => AssertedRole::Missing,
        Some("student") => AssertedRole::Known(Role::Leerling),
        Some("employee" | "faculty" | "staff") => AssertedRole::Known(Role::Leerkracht),
        Some(_) => AssertedRole::Other,
    }
}

/// The school a provisioned user belongs to: the one the user came through, or the only one
/// the upstream serves.
fn school_to_provision(
    upstream: &Upstream,
    school: Option<&InstellingRef>,
) -> Result<InstellingRef, FinishError> {
    match (
        school.filter(|s| upstream.schools.contains(s)),
        upstream.schools.as_slice(),
    ) {
        (Some(s), _) => Ok(*s),
        (None, [only]) => Ok(*only),
        _ => Err(FinishError::Provision(
            "the school is not known (it serves several)".into(),
        )),
    }
}

/// Create the user the upstream asserted, at `school` (which the upstream serves).
fn provision(
    dir: &dyn Directory,
    upstream: &Upstream,
    asserted: &Asserted,
    school: InstellingRef,
    now: i64,
) -> Result<User, FinishError> {
    // Pupils and teachers only, and only the roles allowed for this upstream: never a
    // coordinator, an IB'er or anyone else with more rights.
    let role = match asserted_role(asserted) {
        AssertedRole::Missing => {
            return Err(FinishError::Provision(
                "no role ('role' or 'eduPersonAffiliation')".into(),
            ))
        }
        AssertedRole::Known(r @ (Role::Leerling | Role::Leerkracht))
            if upstream.provision_roles.contains(&r) =>
        {
            r
        }
        AssertedRole::Known(_) | AssertedRole::Other => {
            let _ = dir.append_audit(audit(
                upstream,
                AuditAction::UpstreamRoleRefused,
                Some(school),
                serde_json::json!({
                    "reason": "the asserted role may not be provisioned by this network environment",
                    "allowed": upstream.provision_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                }),
                now,
            ));
            return Err(FinishError::RoleNotAllowed);
        }
    };
    let first = |keys: &[&str]| keys.iter().find_map(|k| asserted.get(*k)).cloned();
    let given = first(&["given_name", "givenName"]).unwrap_or_default();
    let family = first(&["family_name", "sn", "surname"]).unwrap_or_default();
    if given.trim().is_empty() || family.trim().is_empty() {
        return Err(FinishError::Provision("no given and family name".into()));
    }
    let value = asserted.get(&upstream.match_claim).cloned();
    let (las_key, eck_id, email) = match upstream.match_rule {
        MatchRule::LasKey => (value, None, None),
        MatchRule::EckId => (None, value, None),
        MatchRule::Email => (None, None, value),
    };
    let id = Uuid::new_v4();
    let roles = vec![role];
    let eck_id = eck_id
        .map(|e| claims::EckId::parse_import(&e))
        .transpose()
        .map_err(|e| FinishError::Provision(e.to_string()))?;
    if role.is_pupil() && email.is_some() {
        return Err(FinishError::Provision(
            "pupils are not matched by e-mail".into(),
        ));
    }
    dir.insert_user(
        NewUser {
            user: User {
                id,
                school,
                roles,
                las_key,
                eck_id,
                given_name: given.trim().to_string(),
                family_name: family.trim().to_string(),
                email: email.map(|e| e.trim().to_lowercase()),
                // Known only through the network environment: inactive in Leerpoort, as the
                // seeds describe, and still given their software.
                status: if role.is_pupil() {
                    UserStatus::Active
                } else {
                    UserStatus::Inactive
                },
                picture: None,
                pupil_auth: None,
                pin_hash: None,
                picture_password_hash: None,
                password_hash: None,
                source: format!("upstream:{}", upstream.id),
                group_ids: Vec::new(),
            },
            secret_sealed: None,
        },
        now,
        audit(
            upstream,
            AuditAction::UserProvisioned,
            Some(school),
            serde_json::json!({"user": id.to_string()}),
            now,
        ),
    )
    .map_err(|e| FinishError::Provision(e.to_string()))
}
