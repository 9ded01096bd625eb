//! Splits (splitsen): groups of a school become a school of their own. The groups move with
//! their ids, and so do their pupils and teachers whose groups all move — so a publisher sees
//! the same `sub` for them after the split (unlike Basispoort, where a split lost the results
//! registered at publishers). A person with groups on both sides stays at the old school and
//! leaves the groups that moved (a warning names them by id). The people who move sign in
//! again at the new school: their sessions and tokens of the old school end.
//!
//! The new school starts with the old school's consents (the relying parties it allowed, with
//! what it released, and the network environments that served it): the software the moved
//! pupils use keeps working the next morning, and because the pseudonyms do not change, the
//! publishers receive nothing they did not receive before. The new school's coordinator can
//! withdraw any of them in Beheer.

use std::collections::HashSet;
use std::str::FromStr;

use claims::{Brin4, Brin6, InstellingRef, Role};
use serde::Serialize;
use uuid::Uuid;

use super::mergers::{MergerWarning, Moved};
use super::{invalid, non_empty, parse_network, parse_school_ref, Ctx, Result};
use crate::audit::AuditAction;
use crate::model::{AuditEvent, DuoLocation, Group, SchoolStatus, User, UserStatus};
use crate::repo::{NewSchool, RegistrationChange, SplitPlan};

/// Input of [`split`] (`school split`).
#[derive(Debug, Clone, Default)]
pub struct SplitInput {
    pub from: String,
    pub brin: String,
    pub vestiging: String,
    /// The new school's name when DUO's registry does not list the location; the old
    /// school's when not given.
    pub name: Option<String>,
    pub networks: Vec<String>,
    /// The keys of the groups that move.
    pub groups: Vec<String>,
}

/// What a split did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SplitReport {
    /// The new school.
    pub instelling_ref: InstellingRef,
    pub brin6: String,
    pub name: String,
    pub from: InstellingRef,
    pub moved: Moved,
    /// People with groups on both sides, who stayed.
    pub stayed: usize,
    /// Relying parties the new school allows, as the old school did.
    pub consents_copied: usize,
    /// Network environments that serve the new school too.
    pub networks_copied: usize,
    pub warnings: Vec<MergerWarning>,
}

/// Who and what moves in a split.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitPeople {
    pub groups: Vec<Uuid>,
    pub people: Vec<Uuid>,
    pub stay: Vec<Uuid>,
    pub moved: Moved,
    pub warnings: Vec<MergerWarning>,
}

/// Split the groups `input.groups` off `input.from` into a new school. An unknown group key,
/// a BRIN6 an active school has, or a school that is not active: refused, nothing written.
pub fn split(ctx: Ctx<'_>, input: SplitInput) -> Result<SplitReport> {
    let (plan, report, audit) = prepare_split(ctx, &input)?;
    ctx.dir.split_school(&plan, audit)?;
    Ok(report)
}

/// What [`split`] would do, writing nothing: the same checks and the same plan, as the
/// report `split` would return now — except `instelling_ref`, which stands in for the one
/// the split will make (the operator's page shows the rest before the split is confirmed;
/// the confirmed split plans again).
pub fn preview_split(ctx: Ctx<'_>, input: &SplitInput) -> Result<SplitReport> {
    Ok(prepare_split(ctx, input)?.1)
}

/// The checks of a split, its plan, its report and its audit lines, from the school as it is
/// now: reads only.
fn prepare_split(
    ctx: Ctx<'_>,
    input: &SplitInput,
) -> Result<(SplitPlan, SplitReport, Vec<AuditEvent>)> {
    let from = parse_school_ref(&input.from)?;
    let old = ctx.active_school(&from)?;
    let brin4 = Brin4::from_str(input.brin.trim()).map_err(|e| invalid(e.to_string()))?;
    let brin6 = Brin6::new(brin4, input.vestiging.trim()).map_err(|e| invalid(e.to_string()))?;
    // The database refuses it too (one active school per BRIN6); asked first, so that a
    // preview refuses what the split would.
    if ctx
        .dir
        .schools()?
        .iter()
        .any(|s| s.status == SchoolStatus::Active && s.brin6 == brin6)
    {
        return Err(invalid(format!(
            "an active school already has BRIN6 {brin6}; nothing was changed"
        )));
    }
    // As `school add`: a location DUO's registry lists carries DUO's name.
    let official = ctx.dir.duo_location(&brin6)?.filter(DuoLocation::listed);
    let name = match (official, &input.name) {
        (Some(duo), _) => duo.name,
        (None, Some(n)) => non_empty("school name", n)?,
        (None, None) => old.name.clone(),
    };
    let networks = input
        .networks
        .iter()
        .map(|n| parse_network(n))
        .collect::<Result<Vec<_>>>()?;
    let groups = ctx.dir.groups_of_school(&from)?;
    let people = ctx.dir.users_of_school(&from)?;
    let who = plan_split(&groups, &people, &input.groups)?;
    let mut registrations = Vec::new();
    let r = InstellingRef::new_random();
    let mut audit = Vec::new();
    for reg in ctx.dir.registrations_of_school(&from)? {
        let Some(rp) = ctx.dir.relying_party(reg.rp_id)?.filter(|_| reg.allowed) else {
            continue;
        };
        audit.push(ctx.audit(
            AuditAction::RegistrationRegister,
            Some(r),
            Some(rp.public_id().to_string()),
            serde_json::json!({"release": reg.release, "home_allowed": reg.home_allowed,
                "split_from": from}),
        ));
        registrations.push(RegistrationChange {
            school: r,
            rp_id: rp.id,
            allowed: true,
            release: reg.release,
            home_allowed: reg.home_allowed,
        });
    }
    let upstreams: Vec<Uuid> = ctx
        .dir
        .upstreams()?
        .into_iter()
        .filter(|u| u.schools.contains(&from))
        .map(|u| u.id)
        .collect();
    let report = SplitReport {
        instelling_ref: r,
        brin6: brin6.to_string(),
        name: name.clone(),
        from,
        moved: who.moved,
        stayed: who.stay.len(),
        consents_copied: registrations.len(),
        networks_copied: upstreams.len(),
        warnings: who.warnings.clone(),
    };
    audit.insert(
        0,
        ctx.audit(
            AuditAction::SchoolAdd,
            Some(r),
            None,
            serde_json::json!({"brin6": report.brin6, "name": name, "split_from": from}),
        ),
    );
    audit.insert(
        1,
        ctx.audit(
            AuditAction::SchoolSplit,
            Some(from),
            Some(r.to_string()),
            serde_json::to_value(&report).unwrap_or_default(),
        ),
    );
    let plan = SplitPlan {
        from,
        school: NewSchool {
            instelling_ref: r,
            board_id: old.board_id,
            brin6,
            name,
            networks,
        },
        groups: who.groups,
        people: who.people,
        stay: who.stay,
        registrations,
        upstreams,
    };
    Ok((plan, report, audit))
}

/// Which groups and people move when the groups with `keys` split off, decided without I/O:
/// a person moves when all their groups move; with groups on both sides they stay (a
/// warning). Refused when no key is given or a key is not one of the school's groups.
pub fn plan_split(groups: &[Group], people: &[User], keys: &[String]) -> Result<SplitPeople> {
    if keys.is_empty() {
        return Err(invalid("give the groups that move with --group KEY"));
    }
    let mut moving: HashSet<Uuid> = HashSet::new();
    let mut unknown = Vec::new();
    for key in keys {
        match groups.iter().find(|g| g.key == key.trim()) {
            Some(g) => {
                moving.insert(g.id);
            }
            None => unknown.push(key.trim().to_string()),
        }
    }
    if !unknown.is_empty() {
        return Err(invalid(format!(
            "the school has no group with key {}; nothing was changed",
            unknown
                .iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut out = SplitPeople {
        groups: groups
            .iter()
            .filter(|g| moving.contains(&g.id))
            .map(|g| g.id)
            .collect(),
        ..SplitPeople::default()
    };
    out.moved.groups = out.groups.len();
    for u in people.iter().filter(|u| u.status != UserStatus::Removed) {
        let inside = u.group_ids.iter().filter(|g| moving.contains(g)).count();
        if inside == 0 {
            continue;
        }
        if inside < u.group_ids.len() {
            out.stay.push(u.id);
            out.warnings
                .push(MergerWarning::GroupsOnBothSides { user: u.id });
            continue;
        }
        out.people.push(u.id);
        if u.is_pupil() {
            out.moved.pupils += 1;
        } else {
            out.moved.teachers += 1;
        }
    }
    let coordinator = people.iter().any(|u| {
        out.people.contains(&u.id)
            && u.status == UserStatus::Active
            && u.roles.contains(&Role::IctCoordinator)
    });
    if !coordinator {
        out.warnings.push(MergerWarning::NoCoordinator);
    }
    Ok(out)
}
