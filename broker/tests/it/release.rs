//! The release policy over the whole matrix: role × audience × registration state ×
//! home/school context × claim release × scopes.

use std::str::FromStr;

use broker::model::{
    Group, JwsAlg, OidcClient, PupilAuth, Registration, RelyingParty, RpKind, RpProtocol, School,
    SchoolStatus, User, UserStatus,
};
use broker::release::{claim_set, decide, subject_for, Denial, Scopes};
use claims::{
    Audience, Brin6, EckId, InstellingRef, Jaargroep, LoginContext, PseudonymKey, Release, Role,
};
use uuid::Uuid;

fn school() -> School {
    School {
        instelling_ref: InstellingRef::new_random(),
        board_id: None,
        brin6: Brin6::from_str("12AB00").unwrap(),
        name: "OBS De Linde".into(),
        status: SchoolStatus::Active,
        networks: vec![],
        dynamic_network: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn user(school: &School, role: Role, group: Uuid) -> User {
    User {
        id: Uuid::new_v4(),
        school: school.instelling_ref,
        roles: vec![role],
        las_key: None,
        eck_id: Some(
            EckId::parse(&format!("https://ketenid.nl/201703/{}", "ab".repeat(64))).unwrap(),
        ),
        given_name: "Emma".into(),
        family_name: "de Jong".into(),
        email: (!role.is_pupil()).then(|| "juf@linde.example".to_string()),
        status: UserStatus::Active,
        picture: None,
        pupil_auth: role.is_pupil().then_some(PupilAuth::Pin),
        pin_hash: None,
        picture_password_hash: None,
        password_hash: None,
        source: "manual".into(),
        group_ids: vec![group],
    }
}

fn rp(audience: Audience, home_allowed: bool, sector: &str) -> RelyingParty {
    RelyingParty {
        id: Uuid::new_v4(),
        name: "Rekenwereld".into(),
        kind: RpKind::Publisher,
        protocol: RpProtocol::Oidc(OidcClient {
            client_id: "rekenwereld".into(),
            client_secret_hash: None,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            initiate_login_uri: None,
            backchannel_logout_uri: None,
            jwks_uri: None,
            jwks: None,
            token_endpoint_auth_method: "client_secret_basic".into(),
            id_token_alg: JwsAlg::RS256,
            access_token_format: Default::default(),
        }),
        sector: sector.into(),
        home_allowed,
        audience,
        enabled: true,
        offline_access: false,
        created_at: 0,
    }
}

fn reg(
    school: &School,
    rp: &RelyingParty,
    allowed: bool,
    home: bool,
    release: Release,
) -> Registration {
    Registration {
        school: school.instelling_ref,
        rp_id: rp.id,
        allowed,
        release,
        home_allowed: home,
        since: 0,
        updated_at: 0,
    }
}

#[derive(Debug, Clone, Copy)]
enum RegState {
    Missing,
    Allowed,
    Withdrawn,
}

#[test]
fn the_whole_matrix() {
    let s = school();
    let group = Uuid::new_v4();
    let mut checked = 0;
    for role in Role::ALL {
        for audience in Audience::ALL {
            for publisher_home in [false, true] {
                for school_home in [false, true] {
                    for state in [RegState::Missing, RegState::Allowed, RegState::Withdrawn] {
                        for (context, saml) in LoginContext::ALL
                            .into_iter()
                            .flat_map(|c| [(c, false), (c, true)])
                        {
                            let u = user(&s, role, group);
                            let mut r = rp(audience, publisher_home, "rekenwereld.example");
                            if saml {
                                // The same decision for a SAML service provider.
                                r.protocol = RpProtocol::Saml(broker::model::SamlSp {
                                    entity_id: "https://rekenwereld.example/saml".into(),
                                    metadata: String::new(),
                                });
                            }
                            let registration = match state {
                                RegState::Missing => None,
                                RegState::Allowed => {
                                    Some(reg(&s, &r, true, school_home, Release::default()))
                                }
                                RegState::Withdrawn => {
                                    Some(reg(&s, &r, false, school_home, Release::default()))
                                }
                            };
                            let got = decide(&s, &r, registration.as_ref(), &u, context);
                            let expected = match state {
                                RegState::Missing => Err(Denial::NotRegistered),
                                RegState::Withdrawn => Err(Denial::Deregistered),
                                RegState::Allowed => {
                                    let audience_ok = match audience {
                                        Audience::Leerling => role == Role::Leerling,
                                        Audience::Leerkracht => role != Role::Leerling,
                                        Audience::Beide => true,
                                    };
                                    if !audience_ok {
                                        Err(Denial::WrongAudience)
                                    } else if context == LoginContext::Thuis && !publisher_home {
                                        Err(Denial::NotAtHomePublisher)
                                    } else if context == LoginContext::Thuis && !school_home {
                                        Err(Denial::NotAtHomeSchool)
                                    } else {
                                        Ok(role)
                                    }
                                }
                            };
                            assert_eq!(got.map(|a| a.role), expected, "{role:?} {audience:?} home {publisher_home}/{school_home} {state:?} {context:?} saml {saml}");
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 7 * 3 * 2 * 2 * 3 * 3 * 2);
}

#[test]
fn a_teacher_never_passes_as_a_pupil() {
    let s = school();
    let r = rp(Audience::Leerling, true, "x");
    let registration = reg(&s, &r, true, true, Release::default());
    for role in Role::ALL.into_iter().filter(|r| !r.is_pupil()) {
        let u = user(&s, role, Uuid::new_v4());
        assert_eq!(
            decide(&s, &r, Some(&registration), &u, LoginContext::School),
            Err(Denial::WrongAudience)
        );
    }
}

#[test]
fn closed_schools_foreign_users_disabled_rps_and_foreign_registrations_are_refused() {
    let s = school();
    let r = rp(Audience::Beide, true, "x");
    let registration = reg(&s, &r, true, true, Release::default());
    let u = user(&s, Role::Leerling, Uuid::new_v4());
    let closed = School {
        status: SchoolStatus::Closed,
        ..s.clone()
    };
    assert_eq!(
        decide(&closed, &r, Some(&registration), &u, LoginContext::School),
        Err(Denial::SchoolClosed)
    );
    let other = school();
    let stranger = user(&other, Role::Leerling, Uuid::new_v4());
    assert_eq!(
        decide(&s, &r, Some(&registration), &stranger, LoginContext::School),
        Err(Denial::WrongSchool)
    );
    let disabled = RelyingParty {
        enabled: false,
        ..r.clone()
    };
    assert_eq!(
        decide(&s, &disabled, Some(&registration), &u, LoginContext::School),
        Err(Denial::Disabled)
    );
    let foreign_reg = reg(&other, &r, true, true, Release::default());
    assert_eq!(
        decide(&s, &r, Some(&foreign_reg), &u, LoginContext::School),
        Err(Denial::NotRegistered)
    );
}

#[test]
fn claims_follow_release_and_scopes() {
    let s = school();
    let g = Group {
        id: Uuid::new_v4(),
        school: s.instelling_ref,
        key: "3A".into(),
        name: "Groep 3A".into(),
        jaargroep: Some(Jaargroep::new(3).unwrap()),
        composite: false,
        school_year: "2026-2027".into(),
    };
    let other_group = Group {
        id: Uuid::new_v4(),
        key: "8B".into(),
        ..g.clone()
    };
    let key = PseudonymKey::new(&[7u8; 32]).unwrap();
    for role in [Role::Leerling, Role::Leerkracht] {
        let u = user(&s, role, g.id);
        let r = rp(Audience::Beide, true, "rekenwereld.example");
        for eckid in [false, true] {
            for names in [false, true] {
                for groups in [false, true] {
                    for scopes in [
                        Scopes::default(),
                        Scopes::all(),
                        Scopes {
                            profile: true,
                            ..Default::default()
                        },
                        Scopes {
                            groups: true,
                            ..Default::default()
                        },
                    ] {
                        let release = Release {
                            eckid,
                            names,
                            groups,
                        };
                        let registration = reg(&s, &r, true, true, release);
                        let allowed =
                            decide(&s, &r, Some(&registration), &u, LoginContext::School).unwrap();
                        let sub = subject_for(&key, &r, &u).unwrap();
                        let c = claim_set(
                            sub.clone(),
                            &s,
                            &u,
                            &[g.clone(), other_group.clone()],
                            allowed,
                            scopes,
                            LoginContext::School,
                        );
                        assert_eq!(c.sub, sub);
                        assert_eq!(c.eckid.is_some(), eckid);
                        assert_eq!(c.given_name.is_some(), names && scopes.profile);
                        assert_eq!(c.name.is_some(), names && scopes.profile);
                        assert_eq!(c.email.is_some(), scopes.email && role != Role::Leerling);
                        match &c.groups {
                            Some(list) => {
                                assert!(groups && scopes.groups);
                                assert_eq!(
                                    list.iter().map(|g| g.key.as_str()).collect::<Vec<_>>(),
                                    vec!["3A"],
                                    "only the user's own groups"
                                );
                            }
                            None => assert!(!(groups && scopes.groups)),
                        }
                        assert_eq!(c.instelling_ref, s.instelling_ref);
                        assert_eq!(c.brin6.to_string(), "12AB00");
                        assert_eq!(c.role, role);
                    }
                }
            }
        }
    }
}

#[test]
fn one_pseudonym_per_sector_whatever_the_protocol() {
    let s = school();
    let u = user(&s, Role::Leerling, Uuid::new_v4());
    let key = PseudonymKey::new(&[9u8; 32]).unwrap();
    let oidc = rp(Audience::Beide, false, "uitgever.example");
    let mut saml = rp(Audience::Beide, false, "uitgever.example");
    saml.protocol = RpProtocol::Saml(broker::model::SamlSp {
        entity_id: "https://uitgever.example/sp".into(),
        metadata: String::new(),
    });
    let other = rp(Audience::Beide, false, "ander.example");
    assert_eq!(
        subject_for(&key, &oidc, &u).unwrap(),
        subject_for(&key, &saml, &u).unwrap()
    );
    assert_ne!(
        subject_for(&key, &oidc, &u).unwrap(),
        subject_for(&key, &other, &u).unwrap()
    );
    // A BRIN change of the school does not move the pseudonym.
    let mut moved = s.clone();
    moved.brin6 = Brin6::from_str("34CD01").unwrap();
    let _ = moved;
    assert_eq!(
        subject_for(&key, &oidc, &u).unwrap(),
        subject_for(&key, &oidc, &u).unwrap()
    );
}

/// Offboarding: a disabled or removed user is refused by the release decision, whatever the
/// school allows; an inactive one (known only through a network environment) is not.
#[test]
fn a_disabled_or_removed_user_is_refused() {
    let s = school();
    let r = rp(Audience::Beide, true, "rekenwereld.example");
    let registration = reg(&s, &r, true, true, Release::default());
    let mut u = user(&s, Role::Leerkracht, Uuid::new_v4());
    u.status = UserStatus::Inactive;
    assert!(decide(&s, &r, Some(&registration), &u, LoginContext::Netwerk).is_ok());
    for status in [UserStatus::Disabled, UserStatus::Removed] {
        u.status = status;
        assert_eq!(
            decide(&s, &r, Some(&registration), &u, LoginContext::School),
            Err(Denial::UserDisabled),
            "{status:?}"
        );
    }
}

/// What was issued at or before the revocation second is void; later sign-ins hold once the
/// user is enabled again.
#[test]
fn a_revocation_voids_what_was_issued_before_it() {
    use broker::model::UserStanding;
    let standing = UserStanding {
        status: UserStatus::Active,
        revoked_at: Some(1_000),
    };
    assert!(!standing.admits(999));
    assert!(!standing.admits(1_000));
    assert!(standing.admits(1_001));
    let never = UserStanding {
        status: UserStatus::Active,
        revoked_at: None,
    };
    assert!(never.admits(0));
    let disabled = UserStanding {
        status: UserStatus::Disabled,
        revoked_at: None,
    };
    assert!(!disabled.admits(2_000));
}
