//! Mergers (fusie): a school merges into another. Every group and user of the merging school
//! moves with its id, so every pseudonym a publisher knows stays the same; the old
//! INSTELLING_REF leads to the school it merged into from then on. People found in both
//! schools' data are joined, not duplicated: by ECK-iD first, else — where one of the two has
//! no ECK-iD — by the same LAS key and role. The record made first keeps its id (the smaller id
//! when both were made at the same second); each join is written to the audit trail with both
//! ids.
//!
//! The merging school's consents (which publishers and network environments may receive its
//! data) are not copied at once: they wait for the ICT coordinator of the school it merged into
//! (`beheer::merger_consent`). Splits are in [`super::splits`].

use std::collections::{HashMap, HashSet};

use claims::InstellingRef;
use serde::Serialize;
use uuid::Uuid;

use super::{invalid, Ctx, Result};
use crate::audit::AuditAction;
use crate::model::{Group, School, SchoolStatus, User, UserStatus};
use crate::repo::{Join, MergerPerson, MergerPlan, Rekeyed, RenamedGroup};

/// At most this many networks a school keeps (Beheer's `beheer::school::MOST_NETWORKS`): a
/// merger whose schools have more together is refused.
pub const MERGED_NETWORKS_MAX: usize = 64;

/// How many groups, pupils and teachers moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Moved {
    pub groups: usize,
    pub pupils: usize,
    pub teachers: usize,
}

/// How many pupils and teachers (staff).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct People {
    pub pupils: usize,
    pub teachers: usize,
}

/// What two records of one person were found to share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JoinedBy {
    EckId,
    LasKey,
}

/// One join: the record that keeps its id, and the one that became a tombstone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JoinedPair {
    pub keeper: Uuid,
    pub joined: Uuid,
    pub by: JoinedBy,
    pub pupil: bool,
}

/// What a merger or split noticed and worked around. It names ids and group keys, never a
/// name, an e-mail address or an ECK-iD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "kebab-case")]
pub enum MergerWarning {
    /// The school merged into already has a group with this key: the moved group keeps its
    /// id and members under `new_key`.
    GroupRenamed { key: String, new_key: String },
    /// The school merged into already has someone else with this person's LAS key: the
    /// person keeps their id, their key gets `suffix` (`@BRIN6` of the old school).
    LasKeyTaken { user: Uuid, suffix: String },
    /// Both schools have Dynamic IP: the merged school's agent no longer counts.
    DynamicIpKept,
    /// A split: this person has groups on both sides; they stay at the old school and leave
    /// the groups that moved.
    GroupsOnBothSides { user: Uuid },
    /// A split: the new school has no active ICT coordinator yet.
    NoCoordinator,
}

impl std::fmt::Display for MergerWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::GroupRenamed { key, new_key } => write!(
                f,
                "group '{key}' exists at both schools: the moved group is now '{new_key}'"
            ),
            Self::LasKeyTaken { user, suffix } => write!(
                f,
                "user {user}: the LAS key is used by someone else at the new school; it now ends in '{suffix}'"
            ),
            Self::DynamicIpKept => f.write_str(
                "both schools have Dynamic IP: the merged school's agent no longer counts; add its network with `school networks`",
            ),
            Self::GroupsOnBothSides { user } => write!(
                f,
                "user {user} has groups on both sides: stays at the old school and leaves the groups that moved"
            ),
            Self::NoCoordinator => f.write_str(
                "the new school has no active ICT coordinator: invite one with `school invite-coordinator`",
            ),
        }
    }
}

/// What a merger did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergerReport {
    pub from: InstellingRef,
    pub into: InstellingRef,
    /// Moved with their ids (people joined away not counted).
    pub moved: Moved,
    /// People found in both schools' data, now one.
    pub joined: People,
    pub joins: Vec<JoinedPair>,
    /// The merged school's consents wait for the ICT coordinator's confirmation.
    pub consents_offered: bool,
    pub warnings: Vec<MergerWarning>,
}

/// Both schools as they are, and what the planner cannot see in them.
#[derive(Debug, Clone, Copy)]
pub struct MergerInput<'a> {
    pub from: &'a School,
    pub into: &'a School,
    pub from_people: &'a [MergerPerson],
    pub into_people: &'a [MergerPerson],
    pub from_groups: &'a [Group],
    pub into_groups: &'a [Group],
    /// `from` allows relying parties or is served by network environments.
    pub from_has_consents: bool,
    /// Whether `from` and `into` have Dynamic IP on.
    pub dynamic_ip: (bool, bool),
}

/// Merge `from` into `into` (`school merge`): refused for a school into itself, and when
/// either is closed or merged already; nothing is written then.
pub fn merge(ctx: Ctx<'_>, from: &InstellingRef, into: &InstellingRef) -> Result<MergerReport> {
    let (plan, report) = prepare_merge(ctx, from, into)?;
    let mut audit = vec![ctx.audit(
        AuditAction::SchoolMerge,
        Some(*into),
        Some(from.to_string()),
        serde_json::to_value(&report).unwrap_or_default(),
    )];
    audit.extend(report.joins.iter().map(|j| {
        ctx.audit(
            AuditAction::UserJoined,
            Some(*into),
            Some(j.keeper.to_string()),
            serde_json::json!({"keeper": j.keeper, "joined": j.joined, "by": j.by}),
        )
    }));
    ctx.dir.merge_schools(&plan, audit)?;
    Ok(report)
}

/// What [`merge`] would do, writing nothing: the same checks and the same plan, as the
/// report `merge` would return now (the operator's page shows it before the merger is
/// confirmed; the confirmed merger plans again).
pub fn preview_merge(
    ctx: Ctx<'_>,
    from: &InstellingRef,
    into: &InstellingRef,
) -> Result<MergerReport> {
    Ok(prepare_merge(ctx, from, into)?.1)
}

/// The checks of a merger and its plan, from the schools as they are now: reads only.
fn prepare_merge(
    ctx: Ctx<'_>,
    from: &InstellingRef,
    into: &InstellingRef,
) -> Result<(MergerPlan, MergerReport)> {
    if from == into {
        return Err(invalid("a school cannot merge into itself"));
    }
    let from_school = school_that_may_merge(ctx, from, "")?;
    let into_school = school_that_may_merge(ctx, into, "; merge into that school instead")?;
    let from_people = ctx.dir.merger_people(from)?;
    let into_people = ctx.dir.merger_people(into)?;
    let from_groups = ctx.dir.groups_of_school(from)?;
    let into_groups = ctx.dir.groups_of_school(into)?;
    let from_has_consents = ctx
        .dir
        .registrations_of_school(from)?
        .iter()
        .any(|r| r.allowed)
        || ctx
            .dir
            .upstreams()?
            .iter()
            .any(|u| u.schools.contains(from));
    let dynamic_ip = (
        ctx.dir.dynamic_ip(from)?.is_some(),
        ctx.dir.dynamic_ip(into)?.is_some(),
    );
    plan_merger(&MergerInput {
        from: &from_school,
        into: &into_school,
        from_people: &from_people,
        into_people: &into_people,
        from_groups: &from_groups,
        into_groups: &into_groups,
        from_has_consents,
        dynamic_ip,
    })
}

/// The school `r`, which must exist and be active; `hint` ends the refusal of a merged one.
fn school_that_may_merge(ctx: Ctx<'_>, r: &InstellingRef, hint: &str) -> Result<School> {
    let school = ctx
        .dir
        .school(r)?
        .ok_or_else(|| invalid(format!("no school with INSTELLING_REF {r}")))?;
    match &school.status {
        SchoolStatus::Active => Ok(school),
        SchoolStatus::Merged(other) => Err(invalid(format!(
            "school {r} has already merged into {other}{hint}"
        ))),
        SchoolStatus::Closed => Err(invalid(format!("school {r} is closed"))),
    }
}

/// The merger of `i.from` into `i.into`, decided without any I/O: who is joined with whom
/// (and who keeps the id), which group keys and LAS keys must change, the networks.
pub fn plan_merger(i: &MergerInput<'_>) -> Result<(MergerPlan, MergerReport)> {
    let mut networks = i.into.networks.clone();
    for n in &i.from.networks {
        if !networks.contains(n) {
            networks.push(*n);
        }
    }
    if networks.len() > MERGED_NETWORKS_MAX {
        return Err(invalid(format!(
            "together the schools have {} networks, more than the {MERGED_NETWORKS_MAX} a school keeps: remove some first with `school networks`",
            networks.len()
        )));
    }
    let mut from_people: Vec<&MergerPerson> = live(i.from_people);
    from_people.sort_by_key(|p| (p.created_at, p.user.id));
    let into_people = live(i.into_people);
    let (mut joins, pairs) = find_joins(&from_people, &into_people);
    let mut warnings = Vec::new();
    let rekeyed = resolve_las_keys(i, &from_people, &into_people, &mut joins, &mut warnings);
    let renamed_groups = rename_groups(i, &mut warnings);
    if i.dynamic_ip == (true, true) {
        warnings.push(MergerWarning::DynamicIpKept);
    }
    let gone: HashSet<Uuid> = joins.iter().map(|j| j.joined).collect();
    let mut moved = Moved {
        groups: i.from_groups.len(),
        ..Moved::default()
    };
    for p in from_people.iter().filter(|p| !gone.contains(&p.user.id)) {
        if p.user.is_pupil() {
            moved.pupils += 1;
        } else {
            moved.teachers += 1;
        }
    }
    let mut joined = People::default();
    for pair in &pairs {
        if pair.pupil {
            joined.pupils += 1;
        } else {
            joined.teachers += 1;
        }
    }
    let plan = MergerPlan {
        from: i.from.instelling_ref,
        into: i.into.instelling_ref,
        renamed_groups,
        rekeyed,
        joins,
        networks,
        offer_consents: i.from_has_consents,
        move_dynamic_ip: i.dynamic_ip == (true, false),
    };
    let report = MergerReport {
        from: i.from.instelling_ref,
        into: i.into.instelling_ref,
        moved,
        joined,
        joins: pairs,
        consents_offered: i.from_has_consents,
        warnings,
    };
    Ok((plan, report))
}

/// The people who are not tombstones.
fn live(people: &[MergerPerson]) -> Vec<&MergerPerson> {
    people
        .iter()
        .filter(|p| p.user.status != UserStatus::Removed)
        .collect()
}

/// Pairs of records of one person: the same ECK-iD (pupil with pupil, staff with staff), else
/// — when they do not have two different ECK-iDs — the same LAS key and the same role.
fn find_joins(from: &[&MergerPerson], into: &[&MergerPerson]) -> (Vec<Join>, Vec<JoinedPair>) {
    let mut used: HashSet<Uuid> = HashSet::new();
    let mut joins = Vec::new();
    let mut pairs = Vec::new();
    for p in from {
        let u = &p.user;
        let by_eck = u.eck_id.as_ref().and_then(|e| {
            into.iter().find(|q| {
                !used.contains(&q.user.id)
                    && q.user.eck_id.as_ref() == Some(e)
                    && q.user.is_pupil() == u.is_pupil()
            })
        });
        let found = by_eck.map(|q| (*q, JoinedBy::EckId)).or_else(|| {
            let key = u.las_key.as_ref()?;
            into.iter()
                .find(|q| {
                    !used.contains(&q.user.id)
                        && q.user.las_key.as_ref() == Some(key)
                        && q.user.primary_role() == u.primary_role()
                        && (u.eck_id.is_none() || q.user.eck_id.is_none())
                })
                .map(|q| (*q, JoinedBy::LasKey))
        });
        let Some((q, by)) = found else { continue };
        used.insert(q.user.id);
        let (keeper, other) = if (p.created_at, p.user.id) <= (q.created_at, q.user.id) {
            (&p.user, &q.user)
        } else {
            (&q.user, &p.user)
        };
        pairs.push(JoinedPair {
            keeper: keeper.id,
            joined: other.id,
            by,
            pupil: keeper.is_pupil(),
        });
        joins.push(join_of(keeper, other));
    }
    (joins, pairs)
}

/// The join of `other` into `keeper`: what the keeper lacks passes to it.
fn join_of(keeper: &User, other: &User) -> Join {
    fn lacking<T: Clone>(keeper: &Option<T>, other: &Option<T>) -> Option<T> {
        if keeper.is_none() {
            other.clone()
        } else {
            None
        }
    }
    Join {
        keeper: keeper.id,
        joined: other.id,
        las_key: None,
        eck_id: lacking(&keeper.eck_id, &other.eck_id),
        email: lacking(&keeper.email, &other.email),
        password_hash: lacking(&keeper.password_hash, &other.password_hash),
        activate: other.status == UserStatus::Active && keeper.status != UserStatus::Active,
        returns: keeper.status == UserStatus::Left && other.status.may_sign_in(),
        add_roles: other
            .roles
            .iter()
            .filter(|r| !keeper.roles.contains(r))
            .copied()
            .collect(),
    }
}

/// The LAS keys at the school merged into: a moving person whose key someone else there has
/// gets `KEY@BRIN6`; a keeper without a key takes the joined record's when it is free.
fn resolve_las_keys(
    i: &MergerInput<'_>,
    from: &[&MergerPerson],
    into: &[&MergerPerson],
    joins: &mut [Join],
    warnings: &mut Vec<MergerWarning>,
) -> Vec<Rekeyed> {
    let gone: HashSet<Uuid> = joins.iter().map(|j| j.joined).collect();
    let key_of: HashMap<Uuid, &String> = from
        .iter()
        .chain(into)
        .filter_map(|p| Some((p.user.id, p.user.las_key.as_ref()?)))
        .collect();
    let mut taken: HashMap<String, Uuid> = into
        .iter()
        .filter(|p| !gone.contains(&p.user.id))
        .filter_map(|p| Some((p.user.las_key.clone()?, p.user.id)))
        .collect();
    let mut rekeyed = Vec::new();
    for p in from.iter().filter(|p| !gone.contains(&p.user.id)) {
        let id = p.user.id;
        if let Some(key) = &p.user.las_key {
            if taken.get(key).is_some_and(|o| *o != id) {
                let new_key = free_key(&format!("{key}@{}", i.from.brin6), |k| {
                    taken.contains_key(k)
                });
                warnings.push(MergerWarning::LasKeyTaken {
                    user: id,
                    suffix: format!("@{}", i.from.brin6),
                });
                rekeyed.push(Rekeyed {
                    user: id,
                    las_key: new_key.clone(),
                });
                taken.insert(new_key, id);
            } else {
                taken.insert(key.clone(), id);
            }
        }
    }
    // Keepers without a key of their own take the joined record's, when it is free.
    for j in joins.iter_mut() {
        if key_of.contains_key(&j.keeper) {
            continue;
        }
        if let Some(key) = key_of.get(&j.joined) {
            if !taken.contains_key(*key) {
                taken.insert((*key).clone(), j.keeper);
                j.las_key = Some((*key).clone());
            }
        }
    }
    rekeyed
}

/// Groups of `from` whose key `into` already uses: `KEY@BRIN6`, named after the old school.
fn rename_groups(i: &MergerInput<'_>, warnings: &mut Vec<MergerWarning>) -> Vec<RenamedGroup> {
    let mut keys: HashSet<String> = i
        .into_groups
        .iter()
        .chain(i.from_groups)
        .map(|g| g.key.clone())
        .collect();
    let into_keys: HashSet<&str> = i.into_groups.iter().map(|g| g.key.as_str()).collect();
    let mut from_groups: Vec<&Group> = i.from_groups.iter().collect();
    from_groups.sort_by(|a, b| a.key.cmp(&b.key));
    let mut renamed = Vec::new();
    for g in from_groups {
        if !into_keys.contains(g.key.as_str()) {
            continue;
        }
        let key = free_key(&format!("{}@{}", g.key, i.from.brin6), |k| keys.contains(k));
        keys.insert(key.clone());
        let name: String = format!("{} ({})", g.name, i.from.name)
            .chars()
            .take(200)
            .collect();
        warnings.push(MergerWarning::GroupRenamed {
            key: g.key.clone(),
            new_key: key.clone(),
        });
        renamed.push(RenamedGroup {
            id: g.id,
            key,
            name,
        });
    }
    renamed
}

/// `base`, or `base-2`, `base-3`, ... : the first that is not `taken`.
fn free_key(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|k| !taken(k))
        .unwrap_or_else(|| base.to_string())
}

#[cfg(test)]
#[path = "mergers_tests.rs"]
mod tests;
