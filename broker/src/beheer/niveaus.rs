//! "Niveaus": a group or a pupil works with the software of a higher or lower year group. The
//! school's ICT coordinator gives levels to any group or pupil of the school, a teacher to
//! their own groups and the pupils in them; anyone else, and any id that is not the school's
//! own, gets [`BeheerError::NotFound`]. A holder's levels are replaced as a whole, with the
//! audit line in the same transaction.
//!
//! What a publisher receives is [`claim_value`]: the year groups of the user's groups and the
//! levels given to those groups and to the user, as the `niveau` claim (SAML: the attribute
//! `niveau`); the publisher opens its software of those year groups.

use std::collections::BTreeSet;

use claims::{InstellingRef, Jaargroep, Role};
use uuid::Uuid;

use super::{is_active_coordinator, BeheerError, Refusal, Result};
use crate::audit::AuditAction;
use crate::licences::NiveauHolder;
use crate::model::{AuditEvent, Group, User, UserStatus};
use crate::ports::World;
use crate::repo::Directory;

/// What levels are given to, as the directory has it.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Group(&'a Group),
    Pupil(&'a User),
}

impl Target<'_> {
    /// The holder as storage keys it.
    pub fn holder(&self) -> NiveauHolder {
        match self {
            Target::Group(g) => NiveauHolder::Group(g.id),
            Target::Pupil(p) => NiveauHolder::User(p.id),
        }
    }
}

/// May `staff` give levels to `target`? An active ICT coordinator: every group and every
/// pupil of their school. An active teacher (`leerkracht`): their own groups and the pupils
/// in them. Nobody else — not a substitute, an intern or support staff without the teacher's
/// role — and never across schools.
pub fn may_give(staff: &User, target: Target<'_>) -> bool {
    if !staff.is_active_staff() {
        return false;
    }
    let coordinator = is_active_coordinator(staff);
    let teacher = staff.roles.contains(&Role::Leerkracht);
    match target {
        Target::Group(g) => {
            g.school == staff.school
                && (coordinator || (teacher && staff.group_ids.contains(&g.id)))
        }
        Target::Pupil(p) => {
            p.is_pupil()
                && p.school == staff.school
                && p.status != UserStatus::Removed
                && (coordinator
                    || (teacher && staff.group_ids.iter().any(|g| p.group_ids.contains(g))))
        }
    }
}

/// The levels a form asks for as year groups: each 1 to 8, ascending, a repeat folded into
/// one (so never more than eight). Anything else is [`Refusal::NiveauInvalid`].
pub fn levels(asked: &[u8]) -> Result<Vec<Jaargroep>> {
    let levels = asked
        .iter()
        .map(|n| Jaargroep::new(*n).map_err(|_| BeheerError::Refused(Refusal::NiveauInvalid)))
        .collect::<Result<BTreeSet<_>>>()?;
    Ok(levels.into_iter().collect())
}

/// The audit line of `staff` giving `holder` at `school` the levels `levels`: the holder's id
/// as the subject, its kind and the levels as the details; no names.
pub fn audit_line(
    staff: &User,
    school: &InstellingRef,
    holder: &NiveauHolder,
    levels: &[Jaargroep],
    at: i64,
) -> AuditEvent {
    let (kind, id) = match holder {
        NiveauHolder::Group(id) => ("group", id),
        NiveauHolder::User(id) => ("user", id),
    };
    AuditEvent::record(
        AuditAction::NiveausSet,
        format!("user:{}", staff.id),
        at,
        Some(*school),
        Some(id.to_string()),
        serde_json::json!({
            "holder": kind,
            "levels": levels.iter().map(|j| j.get()).collect::<Vec<_>>(),
        }),
    )
}

/// Give `target` the levels `asked` (replacing what it had; none takes them away). The
/// levels as stored.
pub fn give(w: &World, staff: &User, target: Target<'_>, asked: &[u8]) -> Result<Vec<Jaargroep>> {
    if !may_give(staff, target) {
        return Err(BeheerError::NotFound);
    }
    let levels = levels(asked)?;
    let holder = target.holder();
    let audit = audit_line(staff, &staff.school, &holder, &levels, w.now());
    w.dir.set_niveaus(&staff.school, &holder, &levels, audit)?;
    Ok(levels)
}

/// [`give`] to the group with id `group` (from a request: another school's group is not
/// found): the group and its levels.
pub fn give_group(
    w: &World,
    staff: &User,
    group: Uuid,
    asked: &[u8],
) -> Result<(Group, Vec<Jaargroep>)> {
    let g = w.dir.group(group)?.ok_or(BeheerError::NotFound)?;
    let levels = give(w, staff, Target::Group(&g), asked)?;
    Ok((g, levels))
}

/// [`give`] to the pupil with id `pupil` (from a request: another school's pupil, or a staff
/// member, is not found): the pupil and their levels.
pub fn give_pupil(
    w: &World,
    staff: &User,
    pupil: Uuid,
    asked: &[u8],
) -> Result<(User, Vec<Jaargroep>)> {
    let p = w.dir.user(pupil)?.ok_or(BeheerError::NotFound)?;
    let levels = give(w, staff, Target::Pupil(&p), asked)?;
    Ok((p, levels))
}

/// A group and the levels given to it.
#[derive(Debug, Clone)]
pub struct GroupLevels {
    pub group: Group,
    pub levels: Vec<Jaargroep>,
}

/// A pupil and the levels given to them (not their group's).
#[derive(Debug, Clone)]
pub struct PupilLevels {
    pub pupil: User,
    pub levels: Vec<Jaargroep>,
}

/// The levels `holder` has among a school's (`all`, as `niveaus_of_school` gives them).
fn of(all: &[(NiveauHolder, Jaargroep)], holder: NiveauHolder) -> Vec<Jaargroep> {
    let mut levels: Vec<Jaargroep> = all
        .iter()
        .filter(|(h, _)| *h == holder)
        .map(|(_, j)| *j)
        .collect();
    levels.sort();
    levels.dedup();
    levels
}

/// The groups `staff` may give levels to, in the school's order, each with its levels.
pub fn groups(dir: &dyn Directory, staff: &User) -> Result<Vec<GroupLevels>> {
    let all = dir.niveaus_of_school(&staff.school)?;
    Ok(dir
        .groups_of_school(&staff.school)?
        .into_iter()
        .filter(|g| may_give(staff, Target::Group(g)))
        .map(|g| GroupLevels {
            levels: of(&all, NiveauHolder::Group(g.id)),
            group: g,
        })
        .collect())
}

/// One group with its levels, and its pupils with theirs (by name); not found unless `staff`
/// may give the group levels.
pub fn group_with_pupils(
    dir: &dyn Directory,
    staff: &User,
    group: Uuid,
) -> Result<(GroupLevels, Vec<PupilLevels>)> {
    let g = dir
        .group(group)?
        .filter(|g| may_give(staff, Target::Group(g)))
        .ok_or(BeheerError::NotFound)?;
    let all = dir.niveaus_of_school(&staff.school)?;
    let mut pupils: Vec<PupilLevels> = dir
        .users_of_group(g.id)?
        .into_iter()
        .filter(|p| may_give(staff, Target::Pupil(p)))
        .map(|p| PupilLevels {
            levels: of(&all, NiveauHolder::User(p.id)),
            pupil: p,
        })
        .collect();
    pupils.sort_by_key(|p| (p.pupil.given_name.clone(), p.pupil.family_name.clone()));
    let group = GroupLevels {
        levels: of(&all, NiveauHolder::Group(g.id)),
        group: g,
    };
    Ok((group, pupils))
}

/// Every pupil `staff` may give levels to who has levels of their own, by name: what is set.
pub fn pupils_with_levels(dir: &dyn Directory, staff: &User) -> Result<Vec<PupilLevels>> {
    let all = dir.niveaus_of_school(&staff.school)?;
    let ids: BTreeSet<Uuid> = all
        .iter()
        .filter_map(|(h, _)| match h {
            NiveauHolder::User(id) => Some(*id),
            NiveauHolder::Group(_) => None,
        })
        .collect();
    let mut out = Vec::new();
    for id in ids {
        if let Some(p) = dir.user(id)?.filter(|p| may_give(staff, Target::Pupil(p))) {
            out.push(PupilLevels {
                levels: of(&all, NiveauHolder::User(id)),
                pupil: p,
            });
        }
    }
    out.sort_by_key(|p| (p.pupil.given_name.clone(), p.pupil.family_name.clone()));
    Ok(out)
}

/// The value of the `niveau` claim: the year groups whose software `user` may use — the year
/// group of each of their groups at `school` (among `groups`) and the levels `given` to those
/// groups and to the user — ascending, each once.
pub fn claim_value(
    school: &InstellingRef,
    user: &User,
    groups: &[Group],
    given: &[Jaargroep],
) -> Vec<Jaargroep> {
    let own = own_groups(school, user, groups).filter_map(|g| g.jaargroep);
    own.chain(given.iter().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The groups among `groups` that `user` belongs to at `school`.
pub fn own_groups<'a>(
    school: &'a InstellingRef,
    user: &'a User,
    groups: &'a [Group],
) -> impl Iterator<Item = &'a Group> + 'a {
    groups
        .iter()
        .filter(move |g| &g.school == school && user.group_ids.contains(&g.id))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::PupilAuth;

    fn school() -> InstellingRef {
        "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f".parse().unwrap()
    }

    fn other_school() -> InstellingRef {
        "0a1b2c3d-4e5f-4b6c-9e8f-3f2b8c4e1d2a".parse().unwrap()
    }

    fn group(school: InstellingRef, jaargroep: Option<u8>) -> Group {
        Group {
            id: Uuid::new_v4(),
            school,
            key: "g".into(),
            name: "Groep".into(),
            jaargroep: jaargroep.map(|j| Jaargroep::new(j).unwrap()),
            composite: false,
            school_year: "2026-2027".into(),
        }
    }

    fn person(school: InstellingRef, roles: &[Role], groups: &[&Group]) -> User {
        let pupil = roles.contains(&Role::Leerling);
        User {
            id: Uuid::new_v4(),
            school,
            roles: roles.to_vec(),
            las_key: None,
            eck_id: None,
            given_name: "Emma".into(),
            family_name: "de Jong".into(),
            email: None,
            status: UserStatus::Active,
            picture: None,
            pupil_auth: pupil.then_some(PupilAuth::Pin),
            pin_hash: None,
            picture_password_hash: None,
            password_hash: None,
            source: "manual".into(),
            group_ids: groups.iter().map(|g| g.id).collect(),
        }
    }

    fn j(ns: &[u8]) -> Vec<Jaargroep> {
        ns.iter().map(|n| Jaargroep::new(*n).unwrap()).collect()
    }

    #[test]
    fn a_coordinator_gives_levels_to_every_group_and_pupil_of_the_school_only() {
        let (g3, g7) = (group(school(), Some(3)), group(school(), Some(7)));
        let coordinator = person(school(), &[Role::IctCoordinator], &[]);
        let pupil = person(school(), &[Role::Leerling], &[&g7]);
        assert!(may_give(&coordinator, Target::Group(&g3)));
        assert!(may_give(&coordinator, Target::Group(&g7)));
        assert!(may_give(&coordinator, Target::Pupil(&pupil)));

        let elsewhere = group(other_school(), Some(3));
        let their_pupil = person(other_school(), &[Role::Leerling], &[&elsewhere]);
        assert!(!may_give(&coordinator, Target::Group(&elsewhere)));
        assert!(!may_give(&coordinator, Target::Pupil(&their_pupil)));
        let colleague = person(school(), &[Role::Leerkracht], &[&g3]);
        assert!(
            !may_give(&coordinator, Target::Pupil(&colleague)),
            "levels are for pupils, not staff"
        );
        let removed = User {
            status: UserStatus::Removed,
            ..pupil.clone()
        };
        assert!(!may_give(&coordinator, Target::Pupil(&removed)));
    }

    #[test]
    fn a_teacher_gives_levels_to_their_own_groups_and_their_pupils_only() {
        let (g3, g7) = (group(school(), Some(3)), group(school(), Some(7)));
        let teacher = person(school(), &[Role::Leerkracht], &[&g3]);
        let mine = person(school(), &[Role::Leerling], &[&g3]);
        let theirs = person(school(), &[Role::Leerling], &[&g7]);
        assert!(may_give(&teacher, Target::Group(&g3)));
        assert!(may_give(&teacher, Target::Pupil(&mine)));
        assert!(!may_give(&teacher, Target::Group(&g7)));
        assert!(!may_give(&teacher, Target::Pupil(&theirs)));
    }

    #[test]
    fn inactive_staff_pupils_and_staff_without_the_teachers_role_give_nothing() {
        let g3 = group(school(), Some(3));
        let pupil = person(school(), &[Role::Leerling], &[&g3]);
        for roles in [
            &[Role::Invalkracht][..],
            &[Role::Stagiaire],
            &[Role::Ib],
            &[Role::Leerling],
        ] {
            let someone = person(school(), roles, &[&g3]);
            assert!(!may_give(&someone, Target::Group(&g3)), "{roles:?}");
            assert!(!may_give(&someone, Target::Pupil(&pupil)), "{roles:?}");
        }
        for status in [UserStatus::Inactive, UserStatus::Disabled] {
            let coordinator = User {
                status,
                ..person(school(), &[Role::IctCoordinator], &[])
            };
            assert!(!may_give(&coordinator, Target::Group(&g3)), "{status:?}");
            let teacher = User {
                status,
                ..person(school(), &[Role::Leerkracht], &[&g3])
            };
            assert!(!may_give(&teacher, Target::Group(&g3)), "{status:?}");
        }
    }

    #[test]
    fn levels_are_year_groups_one_to_eight_each_once_ascending() {
        assert_eq!(levels(&[5, 3, 5, 4]).unwrap(), j(&[3, 4, 5]));
        assert_eq!(levels(&[]).unwrap(), Vec::<Jaargroep>::new());
        let many: Vec<u8> = (0..40).map(|i| i % 8 + 1).collect();
        assert_eq!(levels(&many).unwrap(), j(&[1, 2, 3, 4, 5, 6, 7, 8]));
        for bad in [&[0][..], &[9], &[3, 9], &[255]] {
            assert!(
                matches!(
                    levels(bad),
                    Err(BeheerError::Refused(Refusal::NiveauInvalid))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_audit_line_names_the_actor_the_school_the_holder_and_the_levels() {
        let g3 = group(school(), Some(3));
        let coordinator = person(school(), &[Role::IctCoordinator], &[]);
        let line = audit_line(
            &coordinator,
            &school(),
            &NiveauHolder::Group(g3.id),
            &j(&[4, 5]),
            1_800_000_000,
        );
        assert_eq!(line.action, "niveau.set");
        assert_eq!(line.actor, format!("user:{}", coordinator.id));
        assert_eq!(line.school, Some(school()));
        assert_eq!(line.subject, Some(g3.id.to_string()));
        assert_eq!(line.at, 1_800_000_000);
        assert_eq!(
            line.details,
            serde_json::json!({"holder": "group", "levels": [4, 5]})
        );
        let pupil = person(school(), &[Role::Leerling], &[&g3]);
        let line = audit_line(
            &coordinator,
            &school(),
            &NiveauHolder::User(pupil.id),
            &[],
            0,
        );
        assert_eq!(line.subject, Some(pupil.id.to_string()));
        assert_eq!(
            line.details,
            serde_json::json!({"holder": "user", "levels": []})
        );
        assert!(!line.details.to_string().contains("Emma"));
    }

    #[test]
    fn the_claim_holds_the_own_year_groups_and_the_given_levels() {
        let (g3, g7, club) = (
            group(school(), Some(3)),
            group(school(), Some(7)),
            group(school(), None),
        );
        let elsewhere = group(other_school(), Some(5));
        let groups = [g3.clone(), g7.clone(), club.clone(), elsewhere.clone()];
        let emma = person(school(), &[Role::Leerling], &[&g3, &club, &elsewhere]);
        assert_eq!(claim_value(&school(), &emma, &groups, &[]), j(&[3]));
        assert_eq!(
            claim_value(&school(), &emma, &groups, &j(&[4, 2, 4, 3])),
            j(&[2, 3, 4])
        );
        let nobody = person(school(), &[Role::Leerling], &[]);
        assert!(claim_value(&school(), &nobody, &groups, &[]).is_empty());
        assert_eq!(
            own_groups(&school(), &emma, &groups)
                .map(|g| g.id)
                .collect::<Vec<_>>(),
            vec![g3.id, club.id]
        );
    }

    #[test]
    fn a_holders_levels_are_picked_from_the_schools() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let all = vec![
            (NiveauHolder::Group(a), Jaargroep::new(5).unwrap()),
            (NiveauHolder::User(a), Jaargroep::new(8).unwrap()),
            (NiveauHolder::Group(a), Jaargroep::new(4).unwrap()),
            (NiveauHolder::Group(b), Jaargroep::new(1).unwrap()),
        ];
        assert_eq!(of(&all, NiveauHolder::Group(a)), j(&[4, 5]));
        assert_eq!(of(&all, NiveauHolder::User(a)), j(&[8]));
        assert!(of(&all, NiveauHolder::User(b)).is_empty());
    }
}
