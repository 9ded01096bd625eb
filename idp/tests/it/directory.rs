//! The directory (repository) tests, run on SQLite and PostgreSQL alike.

use std::str::FromStr;

use broker::model::{
    AuditEvent, Group, JwsAlg, OidcClient, PupilAuth, RelyingParty, RpKind, RpProtocol,
    SchoolStatus, Upstream, User, UserStatus,
};
use broker::repo::{
    Audit, AuditQuery, Directory, DynamicIps, Groups, NewSchool, NewStaffTotp, NewThuisToken,
    NewUser, PasswordChange, RegistrationChange, Registrations, RelyingParties, RepoError,
    SamlSpChange, Schools, StaffTotp, Thuis, Upstreams, Users,
};
use claims::{Audience, Brin6, EckId, InstellingRef, Jaargroep, Release, Role};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::TestDb;

const T0: i64 = 1_795_422_600;

fn audit(action: &str, school: Option<&InstellingRef>) -> AuditEvent {
    audit_at(action, school, T0)
}

/// [`audit`] at the moment `at`.
fn audit_at(action: &str, school: Option<&InstellingRef>, at: i64) -> AuditEvent {
    AuditEvent {
        seq: 0,
        id: Uuid::new_v4(),
        at,
        actor: "test".into(),
        action: action.into(),
        school: school.cloned(),
        subject: None,
        details: serde_json::json!({}),
    }
}

fn new_school(dir: &dyn Directory, brin6: &str) -> InstellingRef {
    let r = InstellingRef::new_random();
    dir.insert_school(
        NewSchool {
            instelling_ref: r,
            board_id: None,
            brin6: Brin6::from_str(brin6).unwrap(),
            name: format!("School {brin6}"),
            networks: vec!["192.0.2.0/24".parse().unwrap()],
        },
        T0,
        audit("school.add", Some(&r)),
    )
    .unwrap();
    r
}

fn new_group(dir: &dyn Directory, school: &InstellingRef, key: &str) -> Uuid {
    dir.insert_group(
        Group {
            id: Uuid::new_v4(),
            school: *school,
            key: key.into(),
            name: format!("Groep {key}"),
            jaargroep: Some(Jaargroep::from_str("3").unwrap()),
            composite: false,
            school_year: "2026-2027".into(),
        },
        T0,
        audit("group.add", Some(school)),
    )
    .unwrap()
    .id
}

fn eck(n: u8) -> EckId {
    EckId::parse(&format!(
        "https://ketenid.nl/201703/{}",
        format!("{n:02x}").repeat(64)
    ))
    .unwrap()
}

fn pupil(school: &InstellingRef, groups: Vec<Uuid>, las: &str, eck_id: Option<EckId>) -> NewUser {
    NewUser {
        user: User {
            id: Uuid::new_v4(),
            school: *school,
            roles: vec![Role::Leerling],
            las_key: Some(las.into()),
            eck_id,
            given_name: "Emma".into(),
            family_name: "de Jong".into(),
            email: None,
            status: UserStatus::Active,
            picture: Some("vos".into()),
            pupil_auth: Some(PupilAuth::Pin),
            pin_hash: Some("pin-hash".into()),
            picture_password_hash: None,
            password_hash: None,
            source: "manual".into(),
            group_ids: groups,
        },
        secret_sealed: None,
    }
}

fn teacher(school: &InstellingRef, email: &str) -> NewUser {
    let pupil = pupil(school, vec![], "-", None);
    NewUser {
        user: User {
            roles: vec![Role::IctCoordinator, Role::Leerkracht],
            email: Some(email.into()),
            pupil_auth: None,
            pin_hash: None,
            password_hash: Some("$argon2id$...".into()),
            las_key: None,
            ..pupil.user
        },
        ..pupil
    }
}

fn oidc_rp(client_id: &str) -> RelyingParty {
    RelyingParty {
        id: Uuid::new_v4(),
        name: format!("Uitgeverij {client_id}"),
        kind: RpKind::Publisher,
        protocol: RpProtocol::Oidc(OidcClient {
            client_id: client_id.into(),
            client_secret_hash: Some("ab".repeat(32)),
            redirect_uris: vec!["https://uitgever.example/cb".into()],
            post_logout_redirect_uris: vec![],
            initiate_login_uri: Some("https://uitgever.example/login".into()),
            backchannel_logout_uri: None,
            jwks_uri: None,
            jwks: None,
            token_endpoint_auth_method: "client_secret_basic".into(),
            id_token_alg: JwsAlg::ES256,
            access_token_format: Default::default(),
        }),
        sector: "uitgever.example".into(),
        home_allowed: true,
        offline_access: false,
        audience: Audience::Leerling,
        enabled: true,
        created_at: T0,
    }
}

on_both_backends!(
    schools_round_trip_and_brin6_is_unique_among_active_schools,
    |db: &TestDb| {
        let dir = db.directory();
        dir.ping().unwrap();
        let r = new_school(&dir, "12AB00");
        let s = dir.school(&r).unwrap().unwrap();
        assert_eq!(s.brin6.to_string(), "12AB00");
        assert_eq!(s.status, SchoolStatus::Active);
        assert_eq!(s.networks[0].to_string(), "192.0.2.0/24");

        let dup = dir.insert_school(
            NewSchool {
                instelling_ref: InstellingRef::new_random(),
                board_id: None,
                brin6: Brin6::from_str("12AB00").unwrap(),
                name: "Andere school".into(),
                networks: vec![],
            },
            T0,
            audit("school.add", None),
        );
        assert!(
            matches!(dup, Err(RepoError::Conflict(ref m)) if m.contains("BRIN6")),
            "{dup:?}"
        );
        assert_eq!(
            dir.schools().unwrap().len(),
            1,
            "the refused school left nothing"
        );

        let moved = dir
            .change_brin6(
                &r,
                Brin6::from_str("34CD01").unwrap(),
                None,
                audit_at("school.brin6", Some(&r), T0 + 5),
            )
            .unwrap();
        assert_eq!(moved.brin6.to_string(), "34CD01");
        assert_eq!(moved.instelling_ref, r, "INSTELLING_REF is permanent");
        // The old BRIN6 is free again.
        new_school(&dir, "12AB00");
        assert!(dir.school(&InstellingRef::new_random()).unwrap().is_none());
    }
);

on_both_backends!(
    groups_are_unique_per_school_and_need_a_school,
    |db: &TestDb| {
        let dir = db.directory();
        let a = new_school(&dir, "12AB00");
        let b = new_school(&dir, "12AB01");
        let g = new_group(&dir, &a, "3A");
        new_group(&dir, &b, "3A"); // same key at another school is fine
        let found = dir.group_by_key(&a, "3A").unwrap().unwrap();
        assert_eq!(found.id, g);
        assert_eq!(found.jaargroep.map(|j| j.get()), Some(3));
        let dup = dir.insert_group(
            Group {
                id: Uuid::new_v4(),
                school: a,
                key: "3A".into(),
                name: "x".into(),
                jaargroep: None,
                composite: true,
                school_year: "2026-2027".into(),
            },
            T0,
            audit("group.add", Some(&a)),
        );
        assert!(matches!(dup, Err(RepoError::Conflict(_))), "{dup:?}");
        let orphan = dir.insert_group(
            Group {
                id: Uuid::new_v4(),
                school: InstellingRef::new_random(),
                key: "1".into(),
                name: "x".into(),
                jaargroep: None,
                composite: false,
                school_year: "2026-2027".into(),
            },
            T0,
            audit("group.add", None),
        );
        assert!(matches!(orphan, Err(RepoError::NotFound(_))), "{orphan:?}");
        assert_eq!(dir.groups_of_school(&a).unwrap().len(), 1);
    }
);

on_both_backends!(
    users_with_roles_groups_and_unique_identifiers,
    |db: &TestDb| {
        let dir = db.directory();
        let s = new_school(&dir, "12AB00");
        let g = new_group(&dir, &s, "3A");
        let p = dir
            .insert_user(
                pupil(&s, vec![g], "LL1", Some(eck(1))),
                T0,
                audit("user.add", Some(&s)),
            )
            .unwrap();
        assert_eq!(p.roles, vec![Role::Leerling]);
        assert_eq!(p.group_ids, vec![g]);
        assert_eq!(
            p.eck_id.as_ref().map(|e| e.as_str().to_string()),
            Some(eck(1).as_str().to_string())
        );
        assert_eq!(p.pupil_auth, Some(PupilAuth::Pin));

        let t = dir
            .insert_user(
                teacher(&s, "juf.anna@school.example"),
                T0,
                audit("user.add", Some(&s)),
            )
            .unwrap();
        assert_eq!(
            t.roles,
            vec![Role::Leerkracht, Role::IctCoordinator],
            "teaching role first"
        );
        assert_eq!(
            dir.user_by_email("Juf.Anna@School.example")
                .unwrap()
                .map(|u| u.id),
            Some(t.id)
        );

        // Duplicates name the field and write nothing.
        let e = dir
            .insert_user(
                teacher(&s, "juf.anna@school.example"),
                T0,
                audit("user.add", Some(&s)),
            )
            .unwrap_err();
        assert!(
            matches!(e, RepoError::Conflict(ref m) if m.contains("e-mail")),
            "{e:?}"
        );
        let e = dir
            .insert_user(
                pupil(&s, vec![], "LL2", Some(eck(1))),
                T0,
                audit("user.add", Some(&s)),
            )
            .unwrap_err();
        assert!(
            matches!(e, RepoError::Conflict(ref m) if m.contains("ECK-iD")),
            "{e:?}"
        );
        let e = dir
            .insert_user(
                pupil(&s, vec![], "LL1", None),
                T0,
                audit("user.add", Some(&s)),
            )
            .unwrap_err();
        assert!(
            matches!(e, RepoError::Conflict(ref m) if m.contains("LAS key")),
            "{e:?}"
        );

        // A group of another school rolls the whole insert back, roles included.
        let other = new_school(&dir, "12AB01");
        let foreign = new_group(&dir, &other, "8B");
        let np = pupil(&s, vec![foreign], "LL9", None);
        let id = np.user.id;
        let e = dir
            .insert_user(np, T0, audit("user.add", Some(&s)))
            .unwrap_err();
        assert!(matches!(e, RepoError::NotFound(_)), "{e:?}");
        assert!(dir.user(id).unwrap().is_none());
        assert_eq!(dir.users_of_school(&s).unwrap().len(), 2);
        assert_eq!(
            dir.users_of_group(g)
                .unwrap()
                .iter()
                .map(|u| u.id)
                .collect::<Vec<_>>(),
            vec![p.id]
        );

        dir.set_password_hash(
            PasswordChange {
                user: t.id,
                hash: "$argon2id$new",
                activate: true,
            },
            T0 + 1,
            audit("user.password", Some(&s)),
        )
        .unwrap();
        assert_eq!(
            dir.user(t.id).unwrap().unwrap().password_hash.as_deref(),
            Some("$argon2id$new")
        );
        assert!(matches!(
            dir.set_password_hash(
                PasswordChange {
                    user: Uuid::new_v4(),
                    hash: "x",
                    activate: false,
                },
                T0,
                audit("user.password", None)
            ),
            Err(RepoError::NotFound(_))
        ));
    }
);

on_both_backends!(
    inactive_staff_become_active_when_they_set_a_password,
    |db: &TestDb| {
        let dir = db.directory();
        let s = new_school(&dir, "12AB00");
        let mut nt = teacher(&s, "meester@school.example");
        nt.user.status = UserStatus::Inactive;
        nt.user.password_hash = None;
        let t = dir
            .insert_user(nt, T0, audit("user.add", Some(&s)))
            .unwrap();
        assert_eq!(t.status, UserStatus::Inactive);
        dir.set_password_hash(
            PasswordChange {
                user: t.id,
                hash: "$argon2id$x",
                activate: true,
            },
            T0,
            audit("user.activate", Some(&s)),
        )
        .unwrap();
        assert_eq!(dir.user(t.id).unwrap().unwrap().status, UserStatus::Active);
    }
);

on_both_backends!(relying_parties_and_registrations, |db: &TestDb| {
    let dir = db.directory();
    let s = new_school(&dir, "12AB00");
    let rp = dir
        .insert_relying_party(oidc_rp("rekenen"), audit("client.add", None))
        .unwrap();
    assert_eq!(
        dir.relying_party_by_public_id("rekenen").unwrap().as_ref(),
        Some(&rp)
    );
    assert_eq!(dir.relying_party(rp.id).unwrap().as_ref(), Some(&rp));
    assert_eq!(rp.oidc().map(|c| c.id_token_alg), Some(JwsAlg::ES256));
    assert!(dir
        .relying_party_by_public_id("onbekend")
        .unwrap()
        .is_none());
    let dup = dir.insert_relying_party(oidc_rp("rekenen"), audit("client.add", None));
    assert!(
        matches!(dup, Err(RepoError::Conflict(ref m)) if m.contains("client id")),
        "{dup:?}"
    );

    let change = |allowed: bool| RegistrationChange {
        school: s,
        rp_id: rp.id,
        allowed,
        release: Release {
            eckid: true,
            names: false,
            groups: true,
        },
        home_allowed: true,
    };
    let r1 = dir
        .put_registration(change(true), T0, audit("registration.register", Some(&s)))
        .unwrap();
    assert!(r1.allowed);
    assert_eq!(r1.since, T0);
    let r2 = dir
        .put_registration(
            change(true),
            T0 + 60,
            audit("registration.register", Some(&s)),
        )
        .unwrap();
    assert_eq!(r2.since, T0, "re-registering keeps the original date");
    let r3 = dir
        .put_registration(
            change(false),
            T0 + 120,
            audit("registration.deregister", Some(&s)),
        )
        .unwrap();
    assert!(!r3.allowed);
    assert_eq!(r3.since, T0 + 120);
    assert_eq!(dir.registration(&s, rp.id).unwrap(), Some(r3));
    assert_eq!(dir.registrations_of_school(&s).unwrap().len(), 1);

    let unknown_school = RegistrationChange {
        school: InstellingRef::new_random(),
        ..change(true)
    };
    assert!(matches!(
        dir.put_registration(unknown_school, T0, audit("registration.register", None)),
        Err(RepoError::NotFound(_))
    ));
});

on_both_backends!(every_change_leaves_an_audit_event, |db: &TestDb| {
    let dir = db.directory();
    let s = new_school(&dir, "12AB00");
    new_group(&dir, &s, "3A");
    let other = new_school(&dir, "12AB01");
    let events = dir.audit_events(Some(&s), 10).unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.len(), 2);
    assert!(actions.contains(&"school.add") && actions.contains(&"group.add"));
    assert_eq!(dir.audit_events(Some(&other), 10).unwrap().len(), 1);
    assert_eq!(dir.audit_events(None, 10).unwrap().len(), 3);
    assert_eq!(dir.audit_events(None, 1).unwrap().len(), 1);
});

on_both_backends!(
    the_trail_keeps_the_order_of_writing_within_a_second_and_pages_meet,
    |db: &TestDb| {
        let dir = db.directory();
        let s = new_school(&dir, "12AB00");
        // Forty lines in the same second (T0), as a busy minute in Beheer writes them.
        let written: Vec<String> = (0..40).map(|i| format!("test.line{i:02}")).collect();
        for a in &written {
            dir.append_audit(audit(a, Some(&s))).unwrap();
        }
        let mut read = Vec::new();
        let mut before = None;
        loop {
            let page = dir
                .audit_trail(&AuditQuery {
                    school: Some(&s),
                    actions: &[],
                    before,
                    limit: 15,
                })
                .unwrap();
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            read.extend(page.into_iter().map(|e| e.action));
        }
        read.retain(|a| a.starts_with("test."));
        let newest_first: Vec<String> = written.into_iter().rev().collect();
        assert_eq!(read, newest_first, "every line once, newest first");
    }
);

on_both_backends!(
    home_accounts_serve_families_and_links_are_single_use,
    |db: &TestDb| {
        let dir = db.directory();
        let school = new_school(&dir, "12AB00");
        let g = new_group(&dir, &school, "3a");
        let emma = dir
            .insert_user(
                pupil(&school, vec![g], "L1", None),
                T0,
                audit("user.add", Some(&school)),
            )
            .unwrap();
        let daan = dir
            .insert_user(
                pupil(&school, vec![g], "L2", None),
                T0,
                audit("user.add", Some(&school)),
            )
            .unwrap();
        assert!(dir.thuis_accounts_of_user(emma.id).unwrap().is_empty());

        // One family address for two children; a second address for one of them.
        let a = dir
            .link_thuis_account(emma.id, "ouder@voorbeeld.nl", audit("thuis", Some(&school)))
            .unwrap();
        let b = dir
            .link_thuis_account(daan.id, "ouder@voorbeeld.nl", audit("thuis", Some(&school)))
            .unwrap();
        assert_eq!(a.id, b.id, "one account per address");
        let mut both = vec![emma.id, daan.id];
        both.sort();
        assert_eq!(b.pupils, both, "ordered by link time, then id");
        dir.link_thuis_account(
            emma.id,
            "tweede@voorbeeld.nl",
            audit("thuis", Some(&school)),
        )
        .unwrap();
        // Linking again changes nothing; a third address is refused.
        dir.link_thuis_account(emma.id, "ouder@voorbeeld.nl", audit("thuis", Some(&school)))
            .unwrap();
        assert_eq!(dir.thuis_accounts_of_user(emma.id).unwrap().len(), 2);
        assert!(matches!(
            dir.link_thuis_account(emma.id, "derde@voorbeeld.nl", audit("thuis", Some(&school))),
            Err(RepoError::Conflict(_))
        ));
        assert!(
            dir.thuis_account_by_email("derde@voorbeeld.nl")
                .unwrap()
                .is_none(),
            "the refused link left nothing behind"
        );

        // A link: single use, expires, tied to its account.
        dir.put_thuis_token(
            NewThuisToken {
                token_hash: "h1",
                account: a.id,
                email: "ouder@voorbeeld.nl",
                expires_at: T0 + 60,
            },
            T0,
        )
        .unwrap();
        dir.put_thuis_token(
            NewThuisToken {
                token_hash: "h2",
                account: a.id,
                email: "ouder@voorbeeld.nl",
                expires_at: T0 + 60,
            },
            T0,
        )
        .unwrap();
        assert_eq!(
            dir.take_thuis_token("h1", T0 + 1).unwrap(),
            Some((a.id, "ouder@voorbeeld.nl".to_string()))
        );
        assert_eq!(dir.take_thuis_token("h1", T0 + 2).unwrap(), None, "used up");
        assert_eq!(
            dir.take_thuis_token("h2", T0 + 61).unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            dir.take_thuis_token("h2", T0 + 1).unwrap(),
            None,
            "gone once taken"
        );

        // Setting the password activates the account, once.
        let activated = dir
            .set_thuis_password(a.id, "hash-1", audit_at("thuis", None, T0 + 5))
            .unwrap();
        assert_eq!(activated.activated_at, Some(T0 + 5));
        let again = dir
            .set_thuis_password(a.id, "hash-2", audit_at("thuis", None, T0 + 9))
            .unwrap();
        assert_eq!(again.activated_at, Some(T0 + 5));
        assert_eq!(again.password_hash.as_deref(), Some("hash-2"));

        // Unlinking the last child removes the account (and its links).
        dir.put_thuis_token(
            NewThuisToken {
                token_hash: "h3",
                account: a.id,
                email: "ouder@voorbeeld.nl",
                expires_at: T0 + 60,
            },
            T0,
        )
        .unwrap();
        dir.unlink_thuis_account(emma.id, a.id, audit("thuis", Some(&school)))
            .unwrap();
        assert!(
            dir.thuis_account(a.id).unwrap().is_some(),
            "Daan still has it"
        );
        dir.unlink_thuis_account(daan.id, a.id, audit("thuis", Some(&school)))
            .unwrap();
        assert!(dir.thuis_account(a.id).unwrap().is_none());
        assert_eq!(dir.take_thuis_token("h3", T0 + 1).unwrap(), None);
        assert!(matches!(
            dir.unlink_thuis_account(daan.id, a.id, audit("thuis", Some(&school))),
            Err(RepoError::NotFound(_))
        ));
    }
);

on_both_backends!(
    upstreams_match_users_only_in_the_schools_they_serve,
    |db: &TestDb| {
        use broker::federation::{match_user, Asserted, MatchError};
        use broker::model::{MatchRule, UpstreamProtocol};
        let dir = db.directory();
        let a = new_school(&dir, "12AB00");
        let b = new_school(&dir, "34CD00");
        let ga = new_group(&dir, &a, "3a");
        let gb = new_group(&dir, &b, "3a");
        let emma = dir
            .insert_user(
                pupil(&a, vec![ga], "L1", Some(eck(1))),
                T0,
                audit("user.add", Some(&a)),
            )
            .unwrap();
        let other = dir
            .insert_user(
                pupil(&b, vec![gb], "L1", Some(eck(2))),
                T0,
                audit("user.add", Some(&b)),
            )
            .unwrap();
        let juf = dir
            .insert_user(
                teacher(&a, "juf@a.example"),
                T0,
                audit("user.add", Some(&a)),
            )
            .unwrap();
        let add = |name: &str, rule: MatchRule, claim: &str, schools: Vec<InstellingRef>| {
            dir.insert_upstream(
                Upstream {
                    id: Uuid::new_v4(),
                    name: name.into(),
                    protocol: UpstreamProtocol::Oidc {
                        issuer: "https://moo.example".into(),
                        client_id: "leerpoort".into(),
                        client_secret_sealed: Some("sealed".into()),
                        client_auth: "client_secret_basic".into(),
                        scopes: vec!["profile".into()],
                    },
                    match_rule: rule,
                    match_claim: claim.into(),
                    provision: false,
                    provision_roles: Vec::new(),
                    enabled: true,
                    schools,
                },
                audit("upstream.add", None),
            )
            .unwrap()
        };
        let moo = add("moo", MatchRule::LasKey, "las", vec![a]);
        assert_eq!(dir.upstream_by_name("moo").unwrap().unwrap(), moo);
        assert_eq!(moo.schools, vec![a]);
        let asserted = |k: &str, v: &str| -> Asserted { [(k.to_string(), v.to_string())].into() };

        // LAS key: only within the schools it serves.
        assert_eq!(
            match_user(&dir, &moo, &asserted("las", "L1"), None)
                .unwrap()
                .id,
            emma.id
        );
        assert_eq!(
            match_user(&dir, &moo, &asserted("las", "L1"), Some(&b))
                .unwrap()
                .id,
            emma.id,
            "a hint for a school it does not serve changes nothing"
        );
        assert_eq!(
            match_user(&dir, &moo, &asserted("las", "L9"), None),
            Err(MatchError::Unknown)
        );
        assert_eq!(
            match_user(&dir, &moo, &asserted("naam", "L1"), None),
            Err(MatchError::MissingClaim("las".into()))
        );
        // Serving both schools, the same LAS key is ambiguous without the school.
        let both = add("zulu", MatchRule::LasKey, "las", vec![a, b]);
        assert_eq!(
            match_user(&dir, &both, &asserted("las", "L1"), None),
            Err(MatchError::Ambiguous)
        );
        assert_eq!(
            match_user(&dir, &both, &asserted("las", "L1"), Some(&b))
                .unwrap()
                .id,
            other.id
        );
        // ECK-iD: the other school's pupil is never signed in by MOO.
        let by_eck = add("eck", MatchRule::EckId, "eckid", vec![a]);
        assert_eq!(
            match_user(&dir, &by_eck, &asserted("eckid", eck(1).as_str()), None)
                .unwrap()
                .id,
            emma.id
        );
        assert_eq!(
            match_user(&dir, &by_eck, &asserted("eckid", eck(2).as_str()), None),
            Err(MatchError::NotServed)
        );
        assert_eq!(
            match_user(&dir, &by_eck, &asserted("eckid", "geen-eckid"), None),
            Err(MatchError::InvalidClaim("eckid".into()))
        );
        // E-mail: staff only.
        let by_mail = add("mail", MatchRule::Email, "email", vec![a]);
        assert_eq!(
            match_user(&dir, &by_mail, &asserted("email", "JUF@a.example"), None)
                .unwrap()
                .id,
            juf.id
        );
        assert_eq!(dir.upstreams().unwrap().len(), 4);
        dir.remove_upstream(moo.id, audit("upstream.remove", None))
            .unwrap();
        assert!(dir.upstream_by_name("moo").unwrap().is_none());
        assert_eq!(dir.upstreams().unwrap().len(), 3);
    }
);

on_both_backends!(
    offboarding_revokes_and_removal_wipes_personal_data,
    |db: &TestDb| {
        let dir = db.directory();
        let s = new_school(&dir, "12AB00");
        let g = new_group(&dir, &s, "3A");
        let p = dir
            .insert_user(
                pupil(&s, vec![g], "LL1", Some(eck(1))),
                T0,
                audit("user.add", Some(&s)),
            )
            .unwrap();
        // Warm the cache: a disabled status must be seen at once anyway.
        assert_eq!(dir.user(p.id).unwrap().unwrap().status, UserStatus::Active);
        let standing = dir.user_standing(p.id).unwrap().unwrap();
        assert_eq!(standing.revoked_at, None);
        assert!(standing.admits(T0));

        let d = dir
            .set_disabled(p.id, true, audit_at("user.disable", Some(&s), T0 + 10))
            .unwrap();
        assert_eq!(d.status, UserStatus::Disabled);
        let standing = dir.user_standing(p.id).unwrap().unwrap();
        assert_eq!(standing.status, UserStatus::Disabled);
        assert_eq!(standing.revoked_at, Some(T0 + 10));
        assert!(!standing.admits(T0 + 20));

        let e = dir
            .set_disabled(p.id, false, audit_at("user.enable", Some(&s), T0 + 30))
            .unwrap();
        assert_eq!(e.status, UserStatus::Active, "the status before returns");
        let standing = dir.user_standing(p.id).unwrap().unwrap();
        assert_eq!(
            standing.revoked_at,
            Some(T0 + 10),
            "enable keeps the revocation"
        );
        assert!(!standing.admits(T0 + 5), "sessions from before stay void");
        assert!(standing.admits(T0 + 31));

        let removed = dir
            .remove_user(p.id, T0 + 40, audit("user.remove", Some(&s)))
            .unwrap();
        assert_eq!(removed.status, UserStatus::Removed);
        let tomb = dir.user(p.id).unwrap().unwrap();
        assert!(tomb.given_name.is_empty() && tomb.family_name.is_empty());
        assert!(tomb.eck_id.is_none() && tomb.las_key.is_none() && tomb.pin_hash.is_none());
        assert!(tomb.group_ids.is_empty());
        assert!(dir.users_of_group(g).unwrap().is_empty());
        assert!(dir.users_of_school(&s).unwrap().is_empty());
        assert!(dir.pupil_secret(p.id).unwrap().is_none());
        assert!(dir.user_by_eck_id(&eck(1)).unwrap().is_none());
        // The ECK-iD and LAS key are free for a new record, which gets a new id.
        let again = dir
            .insert_user(
                pupil(&s, vec![g], "LL1", Some(eck(1))),
                T0 + 50,
                audit("user.add", Some(&s)),
            )
            .unwrap();
        assert_ne!(again.id, p.id);
        let actions: Vec<String> = dir
            .audit_events(Some(&s), 20)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for a in ["user.disable", "user.enable", "user.remove"] {
            assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
        }
        assert!(dir
            .set_disabled(Uuid::new_v4(), true, audit("user.disable", Some(&s)))
            .is_err());
        assert!(
            dir.set_disabled(p.id, false, audit_at("user.enable", Some(&s), T0 + 60))
                .is_err(),
            "a removed user is not enabled"
        );
    }
);

on_both_backends!(
    saml_sp_options_and_metadata_updates_keep_registrations,
    |db: &TestDb| {
        use broker::model::{SamlSp, SamlSpOptions};
        let dir = db.directory();
        let s = new_school(&dir, "12AB00");
        let rp = dir
            .insert_relying_party(
                RelyingParty {
                    id: Uuid::new_v4(),
                    name: "SP".into(),
                    kind: RpKind::Publisher,
                    protocol: RpProtocol::Saml(SamlSp {
                        entity_id: "https://sp.example/saml".into(),
                        metadata: "<v1/>".into(),
                    }),
                    sector: "sp.example".into(),
                    home_allowed: true,
                    audience: Audience::Beide,
                    enabled: true,
                    offline_access: false,
                    created_at: T0,
                },
                audit("saml_sp.add", None),
            )
            .unwrap();
        assert_eq!(
            dir.saml_sp_options(rp.id).unwrap(),
            SamlSpOptions::default()
        );
        dir.put_registration(
            RegistrationChange {
                school: s,
                rp_id: rp.id,
                allowed: true,
                release: Release::default(),
                home_allowed: true,
            },
            T0,
            audit("registration.register", Some(&s)),
        )
        .unwrap();
        let options = SamlSpOptions {
            relay_states: vec!["https://sp.example/les".into()],
            metadata_url: Some("https://sp.example/md".into()),
            refresh_hours: Some(6),
            metadata_signing_cert: Some("PEM".into()),
            refreshed_at: Some(T0),
            refresh_error: Some("HTTP 500".into()),
        };
        dir.update_saml_sp(
            SamlSpChange {
                rp: rp.id,
                metadata: Some("<v2/>".into()),
                options: options.clone(),
            },
            T0,
            Some(audit("saml_sp.update", None)),
        )
        .unwrap();
        assert_eq!(dir.saml_sp_options(rp.id).unwrap(), options);
        let RpProtocol::Saml(saml) = dir.relying_party(rp.id).unwrap().unwrap().protocol else {
            panic!("not SAML")
        };
        assert_eq!(saml.metadata, "<v2/>");
        // Options only; None clears.
        dir.update_saml_sp(
            SamlSpChange {
                rp: rp.id,
                metadata: None,
                options: SamlSpOptions::default(),
            },
            T0 + 1,
            None,
        )
        .unwrap();
        assert_eq!(
            dir.saml_sp_options(rp.id).unwrap(),
            SamlSpOptions::default()
        );
        assert_eq!(dir.registrations_of_relying_party(rp.id).unwrap().len(), 1);
        // Not for an unknown SP; removing the SP removes its options and registrations.
        assert!(matches!(
            dir.update_saml_sp(
                SamlSpChange {
                    rp: Uuid::new_v4(),
                    metadata: None,
                    options: SamlSpOptions::default(),
                },
                T0,
                None
            ),
            Err(RepoError::NotFound(_))
        ));
        dir.remove_relying_party(rp.id, audit("saml_sp.remove", None))
            .unwrap();
        assert!(dir
            .registrations_of_relying_party(rp.id)
            .unwrap()
            .is_empty());
        assert_eq!(
            dir.saml_sp_options(rp.id).unwrap(),
            SamlSpOptions::default()
        );
    }
);

on_both_backends!(
    a_second_factor_accepts_each_time_step_once,
    |db: &TestDb| {
        let dir = db.directory();
        let s = new_school(&dir, "12AB00");
        let u = dir
            .insert_user(
                teacher(&s, "ict@school.example"),
                T0,
                audit("user.add", Some(&s)),
            )
            .unwrap();
        assert_eq!(dir.staff_totp(u.id).unwrap(), None);
        assert!(!dir.use_totp_step(u.id, 5).unwrap(), "not enrolled");
        dir.put_staff_totp(
            NewStaffTotp {
                user: u.id,
                sealed: "sealed",
                step: 100,
            },
            T0,
            audit("user.totp-enrolled", Some(&s)),
        )
        .unwrap();
        assert_eq!(
            dir.staff_totp(u.id).unwrap(),
            Some(("sealed".to_string(), 100))
        );
        assert!(
            !dir.use_totp_step(u.id, 100).unwrap(),
            "the enrolment code's step"
        );
        assert!(!dir.use_totp_step(u.id, 99).unwrap(), "an earlier step");
        assert!(dir.use_totp_step(u.id, 101).unwrap());
        assert!(
            !dir.use_totp_step(u.id, 101).unwrap(),
            "the same step twice"
        );
        assert!(dir
            .remove_staff_totp(u.id, audit("user.totp-reset", Some(&s)))
            .unwrap());
        assert!(!dir
            .remove_staff_totp(u.id, audit("user.totp-reset", Some(&s)))
            .unwrap());
        assert_eq!(dir.staff_totp(u.id).unwrap(), None);
    }
);

on_both_backends!(
    linked_devices_belong_to_one_school_and_count_their_use,
    |db: &TestDb| {
        use broker::model::EnrolledDevice;
        use broker::repo::EnrolledDevices as _;
        let dir = db.directory();
        let a = new_school(&dir, "00AA01");
        let b = new_school(&dir, "00BB01");
        let by = Uuid::new_v4();
        let device = |school: InstellingRef, name: &str, at: i64| EnrolledDevice {
            id: Uuid::new_v4(),
            school,
            name: name.into(),
            enrolled_by: by,
            enrolled_at: at,
            last_used_at: None,
        };
        let d1 = dir
            .insert_device(device(a, "iPad 1", T0), 2, audit("device.enrol", Some(&a)))
            .unwrap();
        let d2 = dir
            .insert_device(
                device(a, "iPad 2", T0 + 1),
                2,
                audit("device.enrol", Some(&a)),
            )
            .unwrap();
        // The school's cap holds, and refuses without writing the audit line.
        let audits = dir.audit_events(Some(&a), 100).unwrap().len();
        assert!(matches!(
            dir.insert_device(
                device(a, "iPad 3", T0 + 2),
                2,
                audit("device.enrol", Some(&a))
            ),
            Err(RepoError::Conflict(_))
        ));
        assert_eq!(dir.audit_events(Some(&a), 100).unwrap().len(), audits);
        // Another school's cap is its own.
        let d3 = dir
            .insert_device(
                device(b, "Chromebook", T0),
                2,
                audit("device.enrol", Some(&b)),
            )
            .unwrap();
        let listed: Vec<_> = dir
            .devices_of_school(&a)
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(
            listed,
            ["iPad 2", "iPad 1"],
            "newest first, only school A's"
        );

        // Use is recorded at most once per resolution; a device of school B is not A's.
        assert!(dir.device_in_use(d1.id, &a, T0 + 100, 600).unwrap());
        assert_eq!(
            dir.device(d1.id).unwrap().unwrap().last_used_at,
            Some(T0 + 100)
        );
        assert!(dir.device_in_use(d1.id, &a, T0 + 200, 600).unwrap());
        assert_eq!(
            dir.device(d1.id).unwrap().unwrap().last_used_at,
            Some(T0 + 100)
        );
        assert!(dir.device_in_use(d1.id, &a, T0 + 700, 600).unwrap());
        assert_eq!(
            dir.device(d1.id).unwrap().unwrap().last_used_at,
            Some(T0 + 700)
        );
        assert!(!dir.device_in_use(d3.id, &a, T0, 600).unwrap());
        assert!(!dir.device_in_use(Uuid::new_v4(), &a, T0, 600).unwrap());

        // School A cannot revoke school B's device; revoking its own ends it.
        assert_eq!(
            dir.revoke_device(&a, d3.id, audit("device.revoke", Some(&a)))
                .unwrap(),
            None
        );
        assert!(dir.device(d3.id).unwrap().is_some());
        let gone = dir
            .revoke_device(&a, d2.id, audit("device.revoke", Some(&a)))
            .unwrap()
            .unwrap();
        assert_eq!(gone.name, "iPad 2");
        assert!(!dir.device_in_use(d2.id, &a, T0 + 800, 600).unwrap());
        assert!(dir
            .audit_events(Some(&a), 100)
            .unwrap()
            .iter()
            .any(|e| e.action == "device.revoke"));
    }
);

on_both_backends!(
    dynamic_ip_keeps_one_address_per_school_and_its_history,
    |db: &TestDb| {
        let dir = db.directory();
        let s = new_school(&dir, "12AB00");
        assert!(dir.dynamic_ip(&s).unwrap().is_none());
        let net = |n: &str| n.parse::<ipnet::IpNet>().unwrap();
        // Reports without Dynamic IP on are refused.
        assert!(dir
            .record_dynamic_ip(&s, net("203.0.113.9/32"), audit("x", Some(&s)))
            .is_err());
        dir.set_dynamic_ip_token(&s, "hash-1", audit("school.dynamic-ip-token", Some(&s)))
            .unwrap();
        assert_eq!(dir.dynamic_ip_by_token("hash-1").unwrap(), Some(s));
        assert!(dir
            .record_dynamic_ip(&s, net("203.0.113.9/32"), audit("a1", Some(&s)))
            .unwrap());
        assert!(!dir
            .record_dynamic_ip(&s, net("203.0.113.9/32"), audit("a2", Some(&s)))
            .unwrap());
        assert!(dir
            .record_dynamic_ip(&s, net("2001:db8:1:2::/64"), audit("a3", Some(&s)))
            .unwrap());
        let school = dir.school(&s).unwrap().unwrap();
        assert_eq!(school.dynamic_network, Some(net("2001:db8:1:2::/64")));
        assert!(school.in_network(&"2001:db8:1:2::77".parse().unwrap()));
        let history: Vec<String> = dir
            .dynamic_ip_history(&s, 10)
            .unwrap()
            .into_iter()
            .map(|h| h.network.to_string())
            .collect();
        assert_eq!(history, ["2001:db8:1:2::/64", "203.0.113.9/32"]);
        let actions: Vec<String> = dir
            .audit_events(Some(&s), 10)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(
            actions.contains(&"a1".into()) && !actions.contains(&"a2".into()),
            "only changes are audited: {actions:?}"
        );

        // A new token replaces the old; off removes the token and the address.
        dir.set_dynamic_ip_token(&s, "hash-2", audit("school.dynamic-ip-token", Some(&s)))
            .unwrap();
        assert_eq!(dir.dynamic_ip_by_token("hash-1").unwrap(), None);
        assert!(dir.dynamic_ip(&s).unwrap().unwrap().seen_at.is_some());
        dir.remove_dynamic_ip(&s, audit("school.dynamic-ip-off", Some(&s)))
            .unwrap();
        assert_eq!(dir.dynamic_ip_by_token("hash-2").unwrap(), None);
        assert_eq!(dir.school(&s).unwrap().unwrap().dynamic_network, None);
        assert!(matches!(
            dir.remove_dynamic_ip(&s, audit("school.dynamic-ip-off", Some(&s))),
            Err(RepoError::NotFound(_))
        ));
        assert_eq!(dir.dynamic_ip_history(&s, 10).unwrap().len(), 2);
        assert!(matches!(
            dir.set_dynamic_ip_token(
                &InstellingRef::new_random(),
                "hash-3",
                audit("school.dynamic-ip-token", None)
            ),
            Err(RepoError::NotFound(_))
        ));
    }
);

// Two processes on one database (a server and the command line beside it), each writing
// changes that read before they write, at the same time: every change is made. On SQLite a
// deferred transaction lost such a race at once with "database is locked".
on_both_backends!(
    changes_from_two_processes_at_once_all_land,
    |db: &TestDb| {
        let school = new_school(&db.directory(), "01AB00");
        let other = idp::db::connect(&db.url, 4).expect("a second pool");
        let dirs = [
            db.directory(),
            idp::db::DieselDirectory::new(other, std::sync::Arc::new(broker::clock::SystemClock)),
        ];
        let failures: Vec<String> = std::thread::scope(|s| {
            let writers: Vec<_> = (0..4)
                .map(|w| {
                    let dir = &dirs[w % 2];
                    s.spawn(move || {
                        (0..30)
                            .filter_map(|n| {
                                dir.insert_group(
                                    Group {
                                        id: Uuid::new_v4(),
                                        school,
                                        key: format!("w{w}-{n}"),
                                        name: format!("Groep {w}-{n}"),
                                        jaargroep: None,
                                        composite: false,
                                        school_year: "2026-2027".into(),
                                    },
                                    T0,
                                    audit("group.add", Some(&school)),
                                )
                                .err()
                                .map(|e| e.to_string())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            writers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        assert_eq!(failures, Vec::<String>::new());
        assert_eq!(dirs[1].groups_of_school(&school).unwrap().len(), 120);
    }
);

/// PostgreSQL drops every connection of the pool (a restart, a failover, an idle timeout on
/// the way): the next reads and changes are made all the same, each on a connection the pool
/// opens afresh, and nothing is made twice.
#[test]
fn connections_the_database_dropped_are_replaced_unnoticed() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let Some(db) = TestDb::postgres() else {
        eprintln!("LEERPOORT_TEST_DATABASE_URL not set: PostgreSQL variant not run");
        return;
    };
    let name = format!("lp_dropped_{}", Uuid::new_v4().simple());
    let pool = idp::db::connect(&format!("{}&application_name={name}", db.url), 4).unwrap();
    let dir = idp::db::DieselDirectory::new(
        pool.clone(),
        std::sync::Arc::new(broker::clock::SystemClock),
    );
    let school = new_school(&dir, "02AB00");
    new_group(&dir, &school, "voor");
    let drop_all = || {
        let mut admin =
            diesel::PgConnection::establish(&crate::support::postgres_url().unwrap()).unwrap();
        admin
            .batch_execute(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = '{name}'"
            ))
            .unwrap();
        // Until the server has ended them all.
        for _ in 0..100 {
            let left: i64 = diesel::RunQueryDsl::get_result(
                diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
                    "(SELECT count(*) FROM pg_stat_activity WHERE application_name = '{name}')"
                ))),
                &mut admin,
            )
            .unwrap();
            if left == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the pool's connections did not end");
    };
    assert!(pool.state().connections > 0);

    drop_all();
    assert_eq!(
        dir.groups_of_school(&school).unwrap().len(),
        1,
        "a read after the drop"
    );
    drop_all();
    new_group(&dir, &school, "na");
    let groups = dir.groups_of_school(&school).unwrap();
    let mut keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["na", "voor"], "the change after the drop, made once");
}

/// Nodes that start at the same moment on one fresh PostgreSQL schema (a cluster, a rolling
/// upgrade) all start: each migration runs once, the others wait and find it done.
#[test]
fn nodes_starting_together_migrate_once() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let Some(base) = crate::support::postgres_url() else {
        eprintln!("LEERPOORT_TEST_DATABASE_URL not set: PostgreSQL variant not run");
        return;
    };
    let schema = format!("lp_migrate_{}", Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(&base).unwrap();
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let runs: Vec<Result<Vec<String>, String>> = std::thread::scope(|s| {
        let nodes: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                s.spawn(move || {
                    let pool = idp::db::connect(&url, 2).map_err(|e| e.to_string())?;
                    idp::db::migrate(&pool).map_err(|e| e.to_string())
                })
            })
            .collect();
        nodes.into_iter().map(|n| n.join().unwrap()).collect()
    });
    let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    let mut ran = Vec::new();
    for r in runs {
        ran.extend(r.expect("every node starts"));
    }
    let mut unique = ran.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ran.len(), unique.len(), "a migration ran twice: {ran:?}");
    assert!(ran.len() > 10, "{ran:?}");
}
