//! A school allows a relying party (what it releases), or withdraws it.

use crate::audit::AuditAction;
use crate::model::{Registration, RelyingParty, School};
use crate::repo::RegistrationChange;
use claims::{InstellingRef, Release};

use super::{invalid, Ctx, Result};

/// Options of a registration.
#[derive(Debug, Clone, Copy)]
pub struct RegisterOptions {
    pub release: Release,
    pub home_allowed: bool,
}

impl Default for RegisterOptions {
    fn default() -> Self {
        Self {
            release: Release::default(),
            home_allowed: true,
        }
    }
}

/// The school allows a relying party (`register`).
pub fn register(
    ctx: Ctx<'_>,
    school: &InstellingRef,
    rp_public_id: &str,
    opts: RegisterOptions,
) -> Result<(School, RelyingParty, Registration)> {
    let s = ctx.active_school(school)?;
    let rp = find_rp(ctx, rp_public_id)?;
    if rp.kind == crate::model::RpKind::Las {
        return Err(invalid(format!(
            "'{rp_public_id}' is an LAS: a school chooses it with `leerpoort las choose`, it is not registered"
        )));
    }
    let audit = ctx.audit(
        AuditAction::RegistrationRegister,
        Some(*school),
        Some(rp.public_id().to_string()),
        serde_json::json!({"release": opts.release, "home_allowed": opts.home_allowed}),
    );
    let reg = ctx.dir.put_registration(
        RegistrationChange {
            school: *school,
            rp_id: rp.id,
            allowed: true,
            release: opts.release,
            home_allowed: opts.home_allowed,
        },
        ctx.now(),
        audit,
    )?;
    Ok((s, rp, reg))
}

/// The school withdraws a relying party (`deregister`): no SSO and no data from now on.
pub fn deregister(
    ctx: Ctx<'_>,
    school: &InstellingRef,
    rp_public_id: &str,
) -> Result<Registration> {
    let _ = ctx
        .dir
        .school(school)?
        .ok_or_else(|| invalid(format!("no school with INSTELLING_REF {school}")))?;
    let rp = find_rp(ctx, rp_public_id)?;
    let existing = ctx.dir.registration(school, rp.id)?.ok_or_else(|| {
        invalid(format!(
            "school {school} has not registered '{rp_public_id}'"
        ))
    })?;
    let audit = ctx.audit(
        AuditAction::RegistrationDeregister,
        Some(*school),
        Some(rp.public_id().to_string()),
        serde_json::json!({}),
    );
    Ok(ctx.dir.put_registration(
        RegistrationChange {
            school: *school,
            rp_id: rp.id,
            allowed: false,
            release: existing.release,
            home_allowed: existing.home_allowed,
        },
        ctx.now(),
        audit,
    )?)
}

pub(super) fn find_rp(ctx: Ctx<'_>, public_id: &str) -> Result<RelyingParty> {
    ctx.dir
        .relying_party_by_public_id(public_id)?
        .ok_or_else(|| {
            invalid(format!(
                "no relying party with client id or entity id '{public_id}'"
            ))
        })
}
