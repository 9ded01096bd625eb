//! The people, groups and schools a publisher names in the licence API, found — or reported
//! back as unknown, never dropped in silence.
//!
//! A publisher reaches only the schools that registered it (allowed, the school active; an
//! old INSTELLING_REF of a merged school leads to the school it merged into). Within them it
//! names a person by its pairwise `sub`, or by (INSTELLING_REF, ECK-iD) where the school
//! releases ECK-iDs to it; a group by (INSTELLING_REF, the group's key); a school by its
//! INSTELLING_REF. Anything else is [`Unknown`], with the reason.

use std::collections::HashMap;

use claims::{EckId, InstellingRef, PseudonymKey};
use serde::Serialize;

use super::Holder;
use crate::model::{Registration, RelyingParty, School, SchoolStatus, User};
use crate::release;
use crate::repo::{Directory, RepoResult};

/// A holder as the publisher names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolderRef {
    Sub(String),
    EckId { school: String, eck_id: String },
    Group { school: String, key: String },
    School(String),
}

/// A holder that was not found, and why (in the publisher's words back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unknown {
    /// The holder as it was sent.
    pub holder: serde_json::Value,
    pub reason: &'static str,
}

/// What [`resolve`] found: each holder with its school, in the order given, and the unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub found: Vec<(InstellingRef, Holder)>,
    pub unknown: Vec<Unknown>,
}

/// The schools `rp` reaches, with their registrations of it.
#[derive(Debug, Default)]
pub struct Reach {
    schools: HashMap<InstellingRef, (School, Registration)>,
}

impl Reach {
    /// Every school whose registration of `rp` is allowed and that is active: the school-data
    /// rule ([`crate::schooldata::schools`]), one for every door a publisher reaches schools by.
    pub fn of(dir: &dyn Directory, rp: &RelyingParty) -> RepoResult<Self> {
        let schools = crate::schooldata::schools(dir, rp).map_err(|e| match e {
            crate::schooldata::SchoolDataError::Storage(r) => r,
            other => crate::repo::RepoError::Backend(other.to_string()),
        })?;
        Ok(Self {
            schools: schools
                .into_iter()
                .map(|c| (c.school.instelling_ref, (c.school, c.registration)))
                .collect(),
        })
    }

    /// The school a publisher's INSTELLING_REF names, within reach (following mergers).
    pub fn school(&self, dir: &dyn Directory, raw: &str) -> RepoResult<Option<&School>> {
        let Ok(mut r) = raw.trim().parse::<InstellingRef>() else {
            return Ok(None);
        };
        for _ in 0..8 {
            if let Some((s, _)) = self.schools.get(&r) {
                return Ok(Some(s));
            }
            match dir.school(&r)?.map(|s| s.status) {
                Some(SchoolStatus::Merged(into)) => r = into,
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Does the school's registration release ECK-iDs to the publisher?
    pub fn releases_eckid(&self, school: &InstellingRef) -> bool {
        self.schools
            .get(school)
            .is_some_and(|(_, reg)| reg.release.eckid)
    }

    pub fn contains(&self, school: &InstellingRef) -> bool {
        self.schools.contains_key(school)
    }

    pub fn schools(&self) -> impl Iterator<Item = &InstellingRef> {
        self.schools.keys()
    }
}

/// A user a licence may name: one who may sign in.
fn eligible(u: &User) -> bool {
    u.status.may_sign_in()
}

/// Every eligible user of the schools in reach, by their `sub` at `rp`.
pub fn subjects(
    dir: &dyn Directory,
    key: &PseudonymKey,
    rp: &RelyingParty,
    reach: &Reach,
) -> RepoResult<HashMap<String, User>> {
    let mut by_sub = HashMap::new();
    for school in reach.schools() {
        for u in dir.users_of_school(school)? {
            if !eligible(&u) {
                continue;
            }
            if let Ok(sub) = release::subject_for(key, rp, &u) {
                by_sub.insert(sub.as_str().to_string(), u);
            }
        }
    }
    Ok(by_sub)
}

/// Find the holders `refs` names for `rp`.
pub fn resolve(
    dir: &dyn Directory,
    key: &PseudonymKey,
    rp: &RelyingParty,
    reach: &Reach,
    refs: &[HolderRef],
) -> RepoResult<Resolved> {
    // The subjects are worked out only when a `sub` is named, once per request.
    let by_sub = if refs.iter().any(|r| matches!(r, HolderRef::Sub(_))) {
        subjects(dir, key, rp, reach)?
    } else {
        HashMap::new()
    };
    let mut out = Resolved::default();
    for r in refs {
        match find(dir, reach, &by_sub, r)? {
            Ok(found) => out.found.push(found),
            Err(reason) => out.unknown.push(Unknown {
                holder: as_sent(r),
                reason,
            }),
        }
    }
    Ok(out)
}

fn find(
    dir: &dyn Directory,
    reach: &Reach,
    by_sub: &HashMap<String, User>,
    r: &HolderRef,
) -> RepoResult<Result<(InstellingRef, Holder), &'static str>> {
    const NO_SCHOOL: &str = "no school with this INSTELLING_REF has registered you";
    Ok(match r {
        HolderRef::Sub(sub) => match by_sub.get(sub) {
            Some(u) => Ok((u.school, Holder::User(u.id))),
            None => Err("no user with this sub at a school that registered you"),
        },
        HolderRef::School(raw) => match reach.school(dir, raw)? {
            Some(s) => Ok((s.instelling_ref, Holder::School)),
            None => Err(NO_SCHOOL),
        },
        HolderRef::Group { school, key } => match reach.school(dir, school)? {
            None => Err(NO_SCHOOL),
            Some(s) => match dir.group_by_key(&s.instelling_ref, key)? {
                Some(g) => Ok((s.instelling_ref, Holder::Group(g.id))),
                None => Err("the school has no group with this key"),
            },
        },
        HolderRef::EckId { school, eck_id } => match reach.school(dir, school)? {
            None => Err(NO_SCHOOL),
            Some(s) if !reach.releases_eckid(&s.instelling_ref) => {
                Err("the school does not release ECK-iDs to you: name the user by sub")
            }
            Some(s) => match eck_id.parse::<EckId>() {
                Err(_) => Err("not an ECK-iD"),
                Ok(e) => match dir.user_by_eck_id(&e)? {
                    Some(u) if u.school == s.instelling_ref && eligible(&u) => {
                        Ok((s.instelling_ref, Holder::User(u.id)))
                    }
                    _ => Err("no user with this ECK-iD at the school"),
                },
            },
        },
    })
}

/// The holder as the publisher sent it, for the report.
fn as_sent(r: &HolderRef) -> serde_json::Value {
    match r {
        HolderRef::Sub(s) => serde_json::json!(s),
        HolderRef::School(s) => serde_json::json!(s),
        HolderRef::Group { school, key } => {
            serde_json::json!({"instellingRef": school, "groep": key})
        }
        HolderRef::EckId { school, eck_id } => {
            serde_json::json!({"instellingRef": school, "eckId": eck_id})
        }
    }
}
