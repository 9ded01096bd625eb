//! What a publisher or network environment may see of schools: the schools that registered it,
//! and of each such school its groups and people — only what the school releases to it.
//!
//! The rules, once for every door that shows school data to a relying party (today the
//! school-data API):
//!
//! - A relying party sees a school only while the school's registration of it is **allowed**
//!   and the school is **active**. A school that never registered it, withdrew, closed, or is
//!   not known looks the same: nothing. A merged school's INSTELLING_REF leads to the school it
//!   merged into, and there that school's own registration decides ([`school`]).
//! - Every person is named by the party's **pairwise `sub`** ([`release::subject_for`]), the same
//!   one its tokens and assertions carry; the ECK-iD only when the registration releases
//!   ECK-iDs, names only when it releases names, group memberships (and the school's groups)
//!   only when it releases groups.
//! - Only people who may sign in (active or inactive; not disabled, removed or left) and whose
//!   role the party's audience admits are seen: pupil software sees no staff, teacher software
//!   no pupils.
//! - Only publishers and network environments, switched on, see anything ([`may_see`]).
//!
//! The views here are plain values, not documents: the HTTP layer shapes them.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use claims::{EckId, InstellingRef, PairwiseSubject, PseudonymKey, Role};

use crate::model::{Group, Registration, RelyingParty, RpKind, School, SchoolStatus, User};
use crate::release;
use crate::repo::{Directory, RepoError};

/// How many mergers [`school`] follows from an INSTELLING_REF to the school in use.
const MERGER_HOPS: usize = 8;

/// Why a view could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SchoolDataError {
    /// The directory did not answer.
    #[error("the directory did not answer: {0}")]
    Storage(#[from] RepoError),
    /// The relying party's sector is unusable for a pseudonym.
    #[error("the relying party's sector is unusable: {0}")]
    Subject(claims::ClaimsError),
}

pub type Result<T> = std::result::Result<T, SchoolDataError>;

/// May `rp` see school data at all? A publisher or a network environment that is switched on;
/// never an LAS (it sends school data, it receives none).
pub fn may_see(rp: &RelyingParty) -> bool {
    rp.enabled && matches!(rp.kind, RpKind::Publisher | RpKind::Network)
}

/// A school that `rp` may see, with its registration of `rp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentedSchool {
    pub school: School,
    pub registration: Registration,
    /// Users of this school may use the party's software at home: the school allows it and
    /// the publisher does.
    pub home_allowed: bool,
}

/// `school` as `rp` sees it under `registration`, or `None` when it sees nothing of it: the
/// school is not active, the registration is another school's or party's or is withdrawn, or
/// the party may not see school data ([`may_see`]).
pub fn consented(
    school: &School,
    rp: &RelyingParty,
    registration: Option<&Registration>,
) -> Option<ConsentedSchool> {
    let reg = registration?;
    let ok = may_see(rp)
        && school.status == SchoolStatus::Active
        && reg.school == school.instelling_ref
        && reg.rp_id == rp.id
        && reg.allowed;
    ok.then(|| ConsentedSchool {
        school: school.clone(),
        registration: reg.clone(),
        home_allowed: reg.home_allowed && rp.home_allowed,
    })
}

/// Every school `rp` may see, by INSTELLING_REF.
pub fn schools(dir: &dyn Directory, rp: &RelyingParty) -> Result<Vec<ConsentedSchool>> {
    if !may_see(rp) {
        return Ok(Vec::new());
    }
    let regs = dir.registrations_of_relying_party(rp.id)?;
    if !regs.iter().any(|r| r.allowed) {
        return Ok(Vec::new());
    }
    let by_ref: HashMap<InstellingRef, School> = dir
        .schools()?
        .into_iter()
        .map(|s| (s.instelling_ref, s))
        .collect();
    let mut seen: Vec<ConsentedSchool> = regs
        .iter()
        .filter_map(|r| consented(by_ref.get(&r.school)?, rp, Some(r)))
        .collect();
    seen.sort_by_key(|c| c.school.instelling_ref.to_string());
    Ok(seen)
}

/// The school `r` names, as `rp` sees it: a merged school's INSTELLING_REF leads to the school
/// it merged into, whose own registration decides. `None` for a school it may not see, and for
/// one that does not exist (the same answer).
pub fn school(
    dir: &dyn Directory,
    rp: &RelyingParty,
    r: &InstellingRef,
) -> Result<Option<ConsentedSchool>> {
    if !may_see(rp) {
        return Ok(None);
    }
    let Some(mut school) = dir.school(r)? else {
        return Ok(None);
    };
    for _ in 0..MERGER_HOPS {
        let SchoolStatus::Merged(into) = school.status else {
            break;
        };
        match dir.school(&into)? {
            Some(s) => school = s,
            None => return Ok(None),
        }
    }
    let reg = dir.registration(&school.instelling_ref, rp.id)?;
    Ok(consented(&school, rp, reg.as_ref()))
}

/// The place of a school's location in DUO's registry, when its latest file lists the BRIN6.
pub fn place(dir: &dyn Directory, school: &School) -> Result<Option<String>> {
    Ok(crate::import::duo::official(dir, &school.brin6)?
        .map(|l| l.place)
        .filter(|p| !p.is_empty()))
}

/// A person's names, when the registration releases names.
#[derive(Clone, PartialEq, Eq)]
pub struct Names {
    pub given_name: String,
    pub family_name: String,
}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Names(<hidden>)")
    }
}

/// A pupil or member of staff as the party sees them.
#[derive(Clone, PartialEq, Eq)]
pub struct Person {
    /// The party's pairwise pseudonym of the person: what its tokens call them.
    pub sub: PairwiseSubject,
    /// The role a token names (a pupil is `leerling`; staff their first role).
    pub role: Role,
    /// When the registration releases ECK-iDs and the person has one.
    pub eck_id: Option<EckId>,
    /// When the registration releases names.
    pub names: Option<Names>,
    /// The person's groups at the school, when the registration releases groups.
    pub groups: Option<Vec<Group>>,
}

impl Person {
    pub fn is_pupil(&self) -> bool {
        self.role.is_pupil()
    }
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person")
            .field("sub", &self.sub)
            .field("role", &self.role)
            .field("has_eck_id", &self.eck_id.is_some())
            .field("names", &self.names)
            .field("groups", &self.groups.as_ref().map(Vec::len))
            .finish()
    }
}

/// `user` as `rp` sees them at `at` (a school it may see, whose groups are `groups`), or
/// `None` when it sees nothing of them: another school's user, one who may not sign in
/// (disabled, removed, left), one without a role, or one whose role the party's audience does
/// not admit.
pub fn person(
    key: &PseudonymKey,
    rp: &RelyingParty,
    at: &ConsentedSchool,
    groups: &[Group],
    user: &User,
) -> Result<Option<Person>> {
    if user.school != at.school.instelling_ref || !user.status.may_sign_in() {
        return Ok(None);
    }
    let Some(role) = user.primary_role() else {
        return Ok(None);
    };
    if !rp.audience.admits(role) {
        return Ok(None);
    }
    let release = at.registration.release;
    let sub = release::subject_for(key, rp, user).map_err(SchoolDataError::Subject)?;
    Ok(Some(Person {
        sub,
        role,
        eck_id: if release.eckid {
            user.eck_id.clone()
        } else {
            None
        },
        names: release.names.then(|| Names {
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
        }),
        groups: release.groups.then(|| {
            groups
                .iter()
                .filter(|g| g.school == at.school.instelling_ref && user.group_ids.contains(&g.id))
                .cloned()
                .collect()
        }),
    }))
}

/// Someone who could have been seen and no longer may sign in: only what a feed needs to tell
/// the party to forget them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departed {
    /// The party's pairwise pseudonym of the person.
    pub sub: PairwiseSubject,
    /// The role a token named.
    pub role: Role,
}

/// `user`, who left, was disabled or was removed, as `rp` may be told of their going at `at`:
/// by `sub` and role, nothing else; `None` for someone it would not have seen (another
/// school's user, one without a role or whose role its audience does not admit) and for
/// someone who may still sign in ([`person`] shows them).
pub fn departed(
    key: &PseudonymKey,
    rp: &RelyingParty,
    at: &ConsentedSchool,
    user: &User,
) -> Result<Option<Departed>> {
    if user.school != at.school.instelling_ref || user.status.may_sign_in() {
        return Ok(None);
    }
    let Some(role) = user.primary_role() else {
        return Ok(None);
    };
    if !rp.audience.admits(role) {
        return Ok(None);
    }
    let sub = release::subject_for(key, rp, user).map_err(SchoolDataError::Subject)?;
    Ok(Some(Departed { sub, role }))
}

/// A school's groups and people as the party sees them.
#[derive(Debug, Clone)]
pub struct Roster {
    pub school: ConsentedSchool,
    /// The school's groups when the registration releases groups (else none), in the
    /// directory's order (year group, name).
    pub groups: Vec<Group>,
    /// Everyone the party sees, by `sub`.
    pub people: Vec<Person>,
}

impl Roster {
    pub fn pupils(&self) -> impl Iterator<Item = &Person> {
        self.people.iter().filter(|p| p.is_pupil())
    }

    pub fn staff(&self) -> impl Iterator<Item = &Person> {
        self.people.iter().filter(|p| !p.is_pupil())
    }
}

/// The groups and people of `school` (one [`school`] or [`schools`] gave) that `rp` sees.
pub fn roster(
    dir: &dyn Directory,
    key: &PseudonymKey,
    rp: &RelyingParty,
    school: ConsentedSchool,
) -> Result<Roster> {
    let r = school.school.instelling_ref;
    let all_groups = dir.groups_of_school(&r)?;
    let mut people = Vec::new();
    for user in dir.users_of_school(&r)? {
        if let Some(p) = person(key, rp, &school, &all_groups, &user)? {
            people.push(p);
        }
    }
    people.sort_by(|a, b| a.sub.as_str().cmp(b.sub.as_str()));
    let groups = if school.registration.release.groups {
        all_groups
    } else {
        Vec::new()
    };
    Ok(Roster {
        school,
        groups,
        people,
    })
}

/// A person found by their ECK-iD.
#[derive(Debug, Clone)]
pub struct Found {
    /// The ECK-iD as asked for (normalised).
    pub eck_id: EckId,
    /// Their school.
    pub school: InstellingRef,
    pub person: Person,
}

/// The people with these ECK-iDs that `rp` sees, at schools that release ECK-iDs to it; the
/// others are left out without saying why (unknown, another school's, not released, not for
/// the party's audience — one answer). Each ECK-iD once, in the order asked.
pub fn by_eck_ids(
    dir: &dyn Directory,
    key: &PseudonymKey,
    rp: &RelyingParty,
    eck_ids: &[EckId],
) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    if !may_see(rp) {
        return Ok(found);
    }
    let mut schools_seen: HashMap<InstellingRef, Option<(ConsentedSchool, Vec<Group>)>> =
        HashMap::new();
    let mut asked: Vec<&EckId> = Vec::new();
    for e in eck_ids {
        if !asked.contains(&e) {
            asked.push(e);
        }
    }
    for eck_id in asked {
        let Some(user) = dir.user_by_eck_id(eck_id)? else {
            continue;
        };
        let seen = match schools_seen.entry(user.school) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let seen = match school(dir, rp, &user.school)? {
                    Some(c) if c.registration.release.eckid => {
                        let groups = dir.groups_of_school(&c.school.instelling_ref)?;
                        Some((c, groups))
                    }
                    _ => None,
                };
                v.insert(seen)
            }
        };
        let Some((at, groups)) = seen.as_ref() else {
            continue;
        };
        if let Some(p) = person(key, rp, at, groups, &user)? {
            found.push(Found {
                eck_id: eck_id.clone(),
                school: at.school.instelling_ref,
                person: p,
            });
        }
    }
    Ok(found)
}

/// A school's consent to a party, as a change feed tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentChange {
    /// The school allows the party (from `registration.since`); `at` is the last change to
    /// the registration (consent, or what it releases).
    Granted {
        school: Box<ConsentedSchool>,
        at: i64,
    },
    /// The school withdrew, closed or merged into another school at `at`: the party sees
    /// nothing of it any more, and is told nothing more than this.
    Withdrawn { school: InstellingRef, at: i64 },
}

impl ConsentChange {
    /// When the change happened.
    pub fn at(&self) -> i64 {
        match self {
            Self::Granted { at, .. } | Self::Withdrawn { at, .. } => *at,
        }
    }

    pub fn school(&self) -> InstellingRef {
        match self {
            Self::Granted { school, .. } => school.school.instelling_ref,
            Self::Withdrawn { school, .. } => *school,
        }
    }
}

/// The state of `registration` (of `school`, for `rp`) as the feed tells it: granted while the
/// party may see the school; else withdrawn, at the moment the registration was withdrawn or,
/// for a school that closed or merged with its registration standing, the school's last change.
pub fn consent_change(
    school: &School,
    rp: &RelyingParty,
    registration: &Registration,
) -> ConsentChange {
    match consented(school, rp, Some(registration)) {
        Some(c) => ConsentChange::Granted {
            at: registration.updated_at.max(registration.since),
            school: Box::new(c),
        },
        None => ConsentChange::Withdrawn {
            school: registration.school,
            at: if registration.allowed {
                school.updated_at.max(registration.since)
            } else {
                registration.since
            },
        },
    }
}

/// Every school whose consent to `rp` changed at or after `since` (unix seconds), as it stands
/// now, ordered by the moment of the change and then by INSTELLING_REF. A school that granted
/// and withdrew since is told once, withdrawn.
pub fn changes_since(
    dir: &dyn Directory,
    rp: &RelyingParty,
    since: i64,
) -> Result<Vec<ConsentChange>> {
    if !may_see(rp) {
        return Ok(Vec::new());
    }
    let regs = dir.registrations_of_relying_party(rp.id)?;
    if regs.is_empty() {
        return Ok(Vec::new());
    }
    let by_ref: HashMap<InstellingRef, School> = dir
        .schools()?
        .into_iter()
        .map(|s| (s.instelling_ref, s))
        .collect();
    let mut changes: Vec<ConsentChange> = regs
        .iter()
        .filter_map(|r| Some(consent_change(by_ref.get(&r.school)?, rp, r)))
        .filter(|c| c.at() >= since)
        .collect();
    changes.sort_by_key(|c| (c.at(), c.school().to_string()));
    Ok(changes)
}

/// A school's registration of a party, whatever its state, with the school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyRegistration {
    pub school: School,
    pub registration: Registration,
}

/// Every school's registration of `rp`, allowed or withdrawn, at schools in any state, by
/// school name: the operator's view (`leerpoort client registrations`).
pub fn registrations(dir: &dyn Directory, rp: &RelyingParty) -> Result<Vec<PartyRegistration>> {
    let mut out = Vec::new();
    for registration in dir.registrations_of_relying_party(rp.id)? {
        if let Some(school) = dir.school(&registration.school)? {
            out.push(PartyRegistration {
                school,
                registration,
            });
        }
    }
    out.sort_by(|a, b| {
        (a.school.name.as_str(), a.school.instelling_ref.to_string())
            .cmp(&(b.school.name.as_str(), b.school.instelling_ref.to_string()))
    });
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::str::FromStr;

    use claims::{Audience, Brin6, Release};
    use uuid::Uuid;

    use super::*;
    use crate::model::{JwsAlg, OidcClient, RpProtocol, UserStatus};

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
            updated_at: 100,
        }
    }

    fn rp(audience: Audience, sector: &str) -> RelyingParty {
        RelyingParty {
            id: Uuid::new_v4(),
            name: "Rekenwereld".into(),
            kind: RpKind::Publisher,
            protocol: RpProtocol::Oidc(OidcClient {
                client_id: sector.into(),
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
            home_allowed: true,
            audience,
            enabled: true,
            offline_access: false,
            created_at: 0,
        }
    }

    fn reg(s: &School, rp: &RelyingParty, allowed: bool, release: Release) -> Registration {
        Registration {
            school: s.instelling_ref,
            rp_id: rp.id,
            allowed,
            release,
            home_allowed: true,
            since: 200,
            updated_at: 300,
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

    fn user(s: &School, role: Role, groups: &[&Group]) -> User {
        User {
            id: Uuid::new_v4(),
            school: s.instelling_ref,
            roles: vec![role],
            las_key: None,
            eck_id: Some(
                EckId::parse(&format!("https://ketenid.nl/201703/{}", "ab".repeat(64))).unwrap(),
            ),
            given_name: "Emma".into(),
            family_name: "de Jong".into(),
            email: None,
            status: UserStatus::Active,
            picture: None,
            pupil_auth: None,
            pin_hash: None,
            picture_password_hash: None,
            password_hash: None,
            source: "manual".into(),
            group_ids: groups.iter().map(|g| g.id).collect(),
        }
    }

    fn key() -> PseudonymKey {
        PseudonymKey::new(&[7u8; 32]).unwrap()
    }

    const ALL: Release = Release {
        eckid: true,
        names: true,
        groups: true,
    };
    const NOTHING: Release = Release {
        eckid: false,
        names: false,
        groups: false,
    };

    #[test]
    fn only_an_allowed_registration_of_an_active_school_is_seen() {
        let s = school();
        let p = rp(Audience::Beide, "rekenwereld.example");
        let r = reg(&s, &p, true, ALL);
        let c = consented(&s, &p, Some(&r)).expect("allowed and active");
        assert_eq!(c.registration, r);
        assert!(c.home_allowed);

        assert_eq!(consented(&s, &p, None), None, "never registered");
        let withdrawn = reg(&s, &p, false, ALL);
        assert_eq!(consented(&s, &p, Some(&withdrawn)), None, "withdrawn");
        let other_party = rp(Audience::Beide, "taalwereld.example");
        assert_eq!(
            consented(&s, &other_party, Some(&r)),
            None,
            "another party's"
        );
        let other_school = school();
        assert_eq!(
            consented(&other_school, &p, Some(&r)),
            None,
            "another school's"
        );
        for status in [
            SchoolStatus::Closed,
            SchoolStatus::Merged(InstellingRef::new_random()),
        ] {
            let gone = School {
                status,
                ..s.clone()
            };
            assert_eq!(consented(&gone, &p, Some(&r)), None);
        }
        let off = RelyingParty {
            enabled: false,
            ..p.clone()
        };
        assert_eq!(consented(&s, &off, Some(&r)), None, "switched off");
        let las = RelyingParty {
            kind: RpKind::Las,
            ..p.clone()
        };
        assert_eq!(consented(&s, &las, Some(&r)), None, "an LAS sees nothing");
        let network = RelyingParty {
            kind: RpKind::Network,
            ..p.clone()
        };
        assert!(consented(&s, &network, Some(&r)).is_some());
    }

    #[test]
    fn home_use_needs_the_school_and_the_publisher() {
        let s = school();
        let p = rp(Audience::Beide, "rekenwereld.example");
        let school_says_no = Registration {
            home_allowed: false,
            ..reg(&s, &p, true, ALL)
        };
        assert!(
            !consented(&s, &p, Some(&school_says_no))
                .unwrap()
                .home_allowed
        );
        let publisher_says_no = RelyingParty {
            home_allowed: false,
            ..p.clone()
        };
        let r = reg(&s, &publisher_says_no, true, ALL);
        assert!(
            !consented(&s, &publisher_says_no, Some(&r))
                .unwrap()
                .home_allowed
        );
    }

    #[test]
    fn a_person_carries_what_the_school_releases_and_the_partys_own_sub() {
        let s = school();
        let g3 = group(&s, "3a");
        let g4 = group(&s, "4a");
        let elsewhere = group(&school(), "3a");
        let groups = vec![g3.clone(), g4.clone(), elsewhere.clone()];
        let emma = user(&s, Role::Leerling, &[&g3, &elsewhere]);
        let p = rp(Audience::Beide, "rekenwereld.example");

        let at = consented(&s, &p, Some(&reg(&s, &p, true, ALL))).unwrap();
        let seen = person(&key(), &p, &at, &groups, &emma).unwrap().unwrap();
        assert_eq!(seen.sub, release::subject_for(&key(), &p, &emma).unwrap());
        assert_eq!(seen.role, Role::Leerling);
        assert_eq!(seen.eck_id, emma.eck_id);
        assert_eq!(
            seen.names,
            Some(Names {
                given_name: "Emma".into(),
                family_name: "de Jong".into()
            })
        );
        assert_eq!(
            seen.groups,
            Some(vec![g3.clone()]),
            "only this school's groups"
        );

        let at = consented(&s, &p, Some(&reg(&s, &p, true, NOTHING))).unwrap();
        let bare = person(&key(), &p, &at, &groups, &emma).unwrap().unwrap();
        assert_eq!(bare.sub, seen.sub);
        assert_eq!((bare.eck_id, bare.names, bare.groups), (None, None, None));

        // Another party: another sub for the same pupil.
        let q = rp(Audience::Beide, "taalwereld.example");
        let at_q = consented(&s, &q, Some(&reg(&s, &q, true, ALL))).unwrap();
        let other = person(&key(), &q, &at_q, &groups, &emma).unwrap().unwrap();
        assert_ne!(other.sub, seen.sub);
        // Debug output names no one.
        let shown = format!("{seen:?}");
        assert!(
            !shown.contains("Emma") && !shown.contains("ketenid"),
            "{shown}"
        );
    }

    #[test]
    fn nobody_the_party_may_not_sign_in_is_seen() {
        let s = school();
        let g = group(&s, "3a");
        let groups = vec![g.clone()];
        let pupils_only = rp(Audience::Leerling, "rekenwereld.example");
        let at = consented(&s, &pupils_only, Some(&reg(&s, &pupils_only, true, ALL))).unwrap();
        let pupil = user(&s, Role::Leerling, &[&g]);
        let teacher = user(&s, Role::Leerkracht, &[&g]);
        assert!(person(&key(), &pupils_only, &at, &groups, &pupil)
            .unwrap()
            .is_some());
        assert!(
            person(&key(), &pupils_only, &at, &groups, &teacher)
                .unwrap()
                .is_none(),
            "pupil software sees no staff"
        );
        let staff_only = rp(Audience::Leerkracht, "methode.example");
        let at_staff = consented(&s, &staff_only, Some(&reg(&s, &staff_only, true, ALL))).unwrap();
        assert!(person(&key(), &staff_only, &at_staff, &groups, &pupil)
            .unwrap()
            .is_none());
        assert!(person(&key(), &staff_only, &at_staff, &groups, &teacher)
            .unwrap()
            .is_some());

        for status in [UserStatus::Disabled, UserStatus::Removed, UserStatus::Left] {
            let gone = User {
                status,
                ..pupil.clone()
            };
            assert!(
                person(&key(), &pupils_only, &at, &groups, &gone)
                    .unwrap()
                    .is_none(),
                "{status:?}"
            );
        }
        let inactive = User {
            status: UserStatus::Inactive,
            ..pupil.clone()
        };
        assert!(person(&key(), &pupils_only, &at, &groups, &inactive)
            .unwrap()
            .is_some());
        let roleless = User {
            roles: vec![],
            ..pupil.clone()
        };
        assert!(person(&key(), &pupils_only, &at, &groups, &roleless)
            .unwrap()
            .is_none());
        let elsewhere = user(&school(), Role::Leerling, &[]);
        assert!(person(&key(), &pupils_only, &at, &groups, &elsewhere)
            .unwrap()
            .is_none());
    }

    #[test]
    fn someone_who_left_is_told_by_sub_and_role_only_to_whom_could_see_them() {
        let s = school();
        let g = group(&s, "3a");
        let p = rp(Audience::Leerling, "rekenwereld.example");
        let at = consented(&s, &p, Some(&reg(&s, &p, true, ALL))).unwrap();
        let pupil = user(&s, Role::Leerling, &[&g]);
        assert_eq!(
            departed(&key(), &p, &at, &pupil).unwrap(),
            None,
            "still here"
        );
        for status in [UserStatus::Disabled, UserStatus::Removed, UserStatus::Left] {
            let gone = User {
                status,
                ..pupil.clone()
            };
            let d = departed(&key(), &p, &at, &gone).unwrap().unwrap();
            assert_eq!(d.sub, release::subject_for(&key(), &p, &pupil).unwrap());
            assert_eq!(d.role, Role::Leerling);
            let teacher = User {
                roles: vec![Role::Leerkracht],
                ..gone.clone()
            };
            assert_eq!(departed(&key(), &p, &at, &teacher).unwrap(), None);
            let elsewhere = User {
                school: InstellingRef::new_random(),
                ..gone.clone()
            };
            assert_eq!(departed(&key(), &p, &at, &elsewhere).unwrap(), None);
        }
    }

    #[test]
    fn the_feed_tells_a_withdrawal_and_when() {
        let s = school();
        let p = rp(Audience::Beide, "rekenwereld.example");
        let allowed = reg(&s, &p, true, ALL);
        match consent_change(&s, &p, &allowed) {
            ConsentChange::Granted { school, at } => {
                assert_eq!(at, 300, "the registration's last change");
                assert_eq!(school.school.instelling_ref, s.instelling_ref);
            }
            other => panic!("{other:?}"),
        }
        let withdrawn = reg(&s, &p, false, ALL);
        assert_eq!(
            consent_change(&s, &p, &withdrawn),
            ConsentChange::Withdrawn {
                school: s.instelling_ref,
                at: 200
            }
        );
        // A school that merged into another with its registration standing: withdrawn when it
        // merged.
        let merged = School {
            status: SchoolStatus::Merged(InstellingRef::new_random()),
            updated_at: 900,
            ..s.clone()
        };
        assert_eq!(
            consent_change(&merged, &p, &allowed),
            ConsentChange::Withdrawn {
                school: s.instelling_ref,
                at: 900
            }
        );
    }
}
