//! The merger and split planners, on plain values.
#![allow(clippy::unwrap_used)]

use claims::{Brin6, EckId, Role};
use ipnet::IpNet;

use super::*;
use crate::admin::splits::plan_split;
use crate::model::{Group, School, SchoolStatus, User, UserStatus};
use crate::repo::MergerPerson;

fn school(brin6: &str, name: &str, networks: &[&str]) -> School {
    School {
        instelling_ref: InstellingRef::new_random(),
        board_id: None,
        brin6: brin6.parse::<Brin6>().unwrap(),
        name: name.into(),
        status: SchoolStatus::Active,
        networks: networks
            .iter()
            .map(|n| n.parse::<IpNet>().unwrap())
            .collect(),
        dynamic_network: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn eck(n: u8) -> EckId {
    EckId::parse_import(&format!(
        "https://ketenid.nl/201703/{}",
        format!("{n:02x}").repeat(64)
    ))
    .unwrap()
}

fn person(
    s: &School,
    role: Role,
    las: Option<&str>,
    eck_id: Option<EckId>,
    at: i64,
) -> MergerPerson {
    MergerPerson {
        user: User {
            id: Uuid::new_v4(),
            school: s.instelling_ref,
            roles: vec![role],
            las_key: las.map(str::to_string),
            eck_id,
            given_name: "Voornaam".into(),
            family_name: "Achternaam".into(),
            email: None,
            status: UserStatus::Active,
            picture: None,
            pupil_auth: None,
            pin_hash: None,
            picture_password_hash: None,
            password_hash: None,
            source: "edexml".into(),
            group_ids: Vec::new(),
        },
        created_at: at,
    }
}

fn group(s: &School, key: &str) -> Group {
    Group {
        id: Uuid::new_v4(),
        school: s.instelling_ref,
        key: key.into(),
        name: format!("Groep {key}"),
        jaargroep: None,
        composite: false,
        school_year: "2026-2027".into(),
    }
}

fn input<'a>(
    (from, into): (&'a School, &'a School),
    (fp, ip): (&'a [MergerPerson], &'a [MergerPerson]),
    (fg, ig): (&'a [Group], &'a [Group]),
) -> MergerInput<'a> {
    MergerInput {
        from,
        into,
        from_people: fp,
        into_people: ip,
        from_groups: fg,
        into_groups: ig,
        from_has_consents: true,
        dynamic_ip: (false, false),
    }
}

#[test]
fn the_same_eck_id_joins_and_the_older_record_keeps_its_id() {
    let (a, b) = (school("12AB00", "A", &[]), school("34CD00", "B", &[]));
    let from = vec![person(&a, Role::Leerling, Some("L1"), Some(eck(1)), 200)];
    let into = vec![person(&b, Role::Leerling, Some("X9"), Some(eck(1)), 100)];
    let (plan, report) = plan_merger(&input((&a, &b), (&from, &into), (&[], &[]))).unwrap();
    assert_eq!(
        report.joined,
        People {
            pupils: 1,
            teachers: 0
        }
    );
    let pair = &report.joins[0];
    assert_eq!(
        (pair.keeper, pair.joined),
        (into[0].user.id, from[0].user.id)
    );
    assert_eq!(pair.by, JoinedBy::EckId);
    assert_eq!(
        report.moved.pupils, 0,
        "the joined-away record is not moved"
    );
    assert_eq!(plan.joins[0].las_key, None, "the keeper keeps its own key");

    // Made at the same second: the smaller id keeps.
    let mut from = from;
    let mut into = into;
    from[0].created_at = 100;
    let smaller = from[0].user.id.min(into[0].user.id);
    let (_, report) = plan_merger(&input((&a, &b), (&from, &into), (&[], &[]))).unwrap();
    assert_eq!(report.joins[0].keeper, smaller);
    into[0].user.roles = vec![Role::Leerkracht];
    let (_, report) = plan_merger(&input((&a, &b), (&from, &into), (&[], &[]))).unwrap();
    assert!(
        report.joins.is_empty(),
        "a pupil is never joined with staff"
    );
}

#[test]
fn the_same_las_key_and_role_join_only_without_two_different_eck_ids() {
    let (a, b) = (school("12AB00", "A", &[]), school("34CD00", "B", &[]));
    let from = vec![
        person(&a, Role::Leerling, Some("L1"), Some(eck(1)), 1),
        person(&a, Role::Leerling, Some("L2"), Some(eck(2)), 1),
        person(&a, Role::Leerkracht, Some("L3"), None, 1),
    ];
    let into = vec![
        person(&b, Role::Leerling, Some("L1"), None, 2),
        person(&b, Role::Leerling, Some("L2"), Some(eck(3)), 2),
        person(&b, Role::Leerling, Some("L3"), None, 2),
    ];
    let (plan, report) = plan_merger(&input((&a, &b), (&from, &into), (&[], &[]))).unwrap();
    assert_eq!(report.joins.len(), 1, "{report:?}");
    let pair = &report.joins[0];
    assert_eq!(
        (pair.keeper, pair.joined, pair.by),
        (from[0].user.id, into[0].user.id, JoinedBy::LasKey)
    );
    // L2 (two ECK-iDs) and L3 (a teacher and a pupil) are different people: new keys.
    let brin6 = a.brin6.to_string();
    let mut rekeyed: Vec<(String, Uuid)> = plan
        .rekeyed
        .iter()
        .map(|r| (r.las_key.clone(), r.user))
        .collect();
    rekeyed.sort();
    assert_eq!(
        rekeyed,
        vec![
            (format!("L2@{brin6}"), from[1].user.id),
            (format!("L3@{brin6}"), from[2].user.id),
        ]
    );
    assert_eq!(
        report.moved,
        Moved {
            groups: 0,
            pupils: 2,
            teachers: 1
        }
    );
    assert_eq!(
        report
            .warnings
            .iter()
            .filter(|w| matches!(w, MergerWarning::LasKeyTaken { .. }))
            .count(),
        2
    );
}

#[test]
fn a_keeper_takes_what_it_lacks_from_the_joined_record() {
    let (a, b) = (school("12AB00", "A", &[]), school("34CD00", "B", &[]));
    let mut older = person(&a, Role::Leerkracht, None, Some(eck(5)), 1);
    older.user.status = UserStatus::Inactive;
    let mut newer = person(&b, Role::Leerkracht, Some("T7"), Some(eck(5)), 2);
    newer.user.email = Some("juf@school.example".into());
    newer.user.password_hash = Some("$argon2id$...".into());
    newer.user.roles = vec![Role::Leerkracht, Role::IctCoordinator];
    let (from, into) = (vec![older], vec![newer]);
    let (plan, _) = plan_merger(&input((&a, &b), (&from, &into), (&[], &[]))).unwrap();
    let j = &plan.joins[0];
    assert_eq!(j.keeper, from[0].user.id);
    assert_eq!(j.email.as_deref(), Some("juf@school.example"));
    assert!(j.password_hash.is_some() && j.activate && !j.returns);
    assert_eq!(j.las_key.as_deref(), Some("T7"));
    assert_eq!(j.eck_id, None, "the keeper has it already");
    assert_eq!(j.add_roles, vec![Role::IctCoordinator]);

    let mut left = from.clone();
    left[0].user.status = UserStatus::Left;
    let (plan, _) = plan_merger(&input((&a, &b), (&left, &into), (&[], &[]))).unwrap();
    assert!(plan.joins[0].returns, "the person who left is back");
}

#[test]
fn group_keys_in_use_get_the_old_school_in_them() {
    let (a, b) = (
        school("12AB00", "De Linde", &[]),
        school("34CD00", "B", &[]),
    );
    let fg = vec![group(&a, "G3"), group(&a, "G4")];
    let ig = vec![group(&b, "G3"), group(&b, "G3@12AB00")];
    let (plan, report) = plan_merger(&input((&a, &b), (&[], &[]), (&fg, &ig))).unwrap();
    assert_eq!(plan.renamed_groups.len(), 1);
    let r = &plan.renamed_groups[0];
    assert_eq!((r.id, r.key.as_str()), (fg[0].id, "G3@12AB00-2"));
    assert_eq!(r.name, "Groep G3 (De Linde)");
    assert_eq!(report.moved.groups, 2);
    assert!(report.warnings.contains(&MergerWarning::GroupRenamed {
        key: "G3".into(),
        new_key: "G3@12AB00-2".into()
    }));
}

#[test]
fn networks_are_united_up_to_what_a_school_keeps() {
    let a = school("12AB00", "A", &["192.0.2.0/24", "198.51.100.0/24"]);
    let b = school("34CD00", "B", &["192.0.2.0/24"]);
    let (plan, _) = plan_merger(&input((&a, &b), (&[], &[]), (&[], &[]))).unwrap();
    assert_eq!(plan.networks.len(), 2);
    assert!(plan.offer_consents && !plan.move_dynamic_ip);
    let many: Vec<String> = (0..=MERGED_NETWORKS_MAX)
        .map(|i| format!("10.{i}.0.0/24"))
        .collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let a = school("12AB00", "A", &refs);
    assert!(plan_merger(&input((&a, &b), (&[], &[]), (&[], &[]))).is_err());
}

#[test]
fn a_split_moves_whom_all_groups_move_with() {
    let a = school("12AB00", "A", &[]);
    let groups = vec![group(&a, "G3"), group(&a, "G4"), group(&a, "G5")];
    let mut pupil = person(&a, Role::Leerling, Some("L1"), None, 1).user;
    pupil.group_ids = vec![groups[0].id];
    let mut both = person(&a, Role::Leerkracht, Some("T1"), None, 1).user;
    both.group_ids = vec![groups[0].id, groups[2].id];
    let mut teacher = person(&a, Role::Leerkracht, Some("T2"), None, 1).user;
    teacher.group_ids = vec![groups[0].id, groups[1].id];
    let people = vec![pupil.clone(), both.clone(), teacher.clone()];
    let keys = vec!["G3".to_string(), " G4".to_string()];
    let who = plan_split(&groups, &people, &keys).unwrap();
    assert_eq!(who.groups, vec![groups[0].id, groups[1].id]);
    assert_eq!(who.people, vec![pupil.id, teacher.id]);
    assert_eq!(who.stay, vec![both.id]);
    assert_eq!(
        who.moved,
        Moved {
            groups: 2,
            pupils: 1,
            teachers: 1
        }
    );
    assert!(who.warnings.contains(&MergerWarning::NoCoordinator));

    let e = plan_split(&groups, &people, &["G3".into(), "G9".into()]).unwrap_err();
    assert!(e.to_string().contains("'G9'"), "{e}");
    assert!(plan_split(&groups, &people, &[]).is_err());
}
