//! "Logboek": the school's audit trail as its coordinator reads it, newest first, filterable
//! by kind. A line says when, what, who did it and to whom — by name where the person or the
//! software is the school's own, otherwise not at all. It never shows an ECK-iD, a secret or
//! the raw details of a line.

use claims::InstellingRef;
use uuid::Uuid;

use super::{Coordinator, Result};
use crate::audit::AuditAction;
use crate::repo::{AuditQuery, Directory};

/// How many lines one page shows.
pub const PAGE: i64 = 100;

/// The kinds the trail is filtered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Consent per publisher and network provider, and closing the account.
    Consent,
    /// Staff accounts: added, roles, links, blocked, removed, second factor.
    Staff,
    /// Pupils' PINs and picture passwords shown, home accounts and codes.
    Pupils,
    /// Substitutes activated, ended, expired.
    Substitutes,
    /// Linked devices and school networks: where pupils sign in.
    Devices,
    /// Imports of the school's data (EDEXML, ...), with their report.
    Imports,
    /// Sign-ins refused by the school's rules: the release policy (software not ticked,
    /// withdrawn, for the other audience, school-only at home, ...), and a network
    /// environment's users not found or not allowed.
    Refused,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Consent,
        Kind::Staff,
        Kind::Pupils,
        Kind::Substitutes,
        Kind::Devices,
        Kind::Imports,
        Kind::Refused,
    ];

    /// The kind's name in the page's address (`?soort=`).
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Consent => "toestemming",
            Kind::Staff => "personeel",
            Kind::Pupils => "leerlingen",
            Kind::Substitutes => "invalkrachten",
            Kind::Devices => "apparaten",
            Kind::Imports => "import",
            Kind::Refused => "geweigerd",
        }
    }

    pub fn from_slug(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == s)
    }

    /// The actions of this kind.
    pub fn actions(self) -> &'static [AuditAction] {
        use AuditAction as A;
        match self {
            Kind::Consent => &[
                A::RegistrationRegister,
                A::RegistrationDeregister,
                A::SchoolCloseRequested,
                A::SchoolClose,
                A::SchoolMergerConsents,
            ],
            Kind::Staff => &[
                A::UserAdd,
                A::UserDisable,
                A::UserEnable,
                A::UserRemove,
                A::UserRolesSet,
                A::UserActivationSent,
                A::UserResetSent,
                A::UserPasswordSet,
                A::UserTotpEnrolled,
                A::UserTotpReset,
            ],
            Kind::Pupils => &[
                A::PupilSecretShown,
                A::PupilSecretSet,
                A::PupilPictureSet,
                A::GroupSignInMethod,
                A::NiveausSet,
                A::UserUnlock,
                A::ThuisAddressAdded,
                A::ThuisAddressRemoved,
                A::ThuisCodeMade,
                A::ThuisUnblocked,
            ],
            Kind::Substitutes => &[
                A::SubstituteActivate,
                A::SubstituteEnd,
                A::SubstituteExpired,
            ],
            Kind::Devices => &[
                A::DeviceEnrol,
                A::DeviceRevoke,
                A::SchoolNetworks,
                A::DynamicIpToken,
                A::DynamicIpOff,
                A::DynamicIpAddress,
            ],
            Kind::Imports => &[
                A::ImportApplied,
                A::ImportStaged,
                A::ImportUnstaged,
                A::LasChosen,
                A::LasGranted,
                A::LasWithdrawn,
                A::LasSyncFailed,
                A::SchoolMerge,
                A::SchoolSplit,
                A::UserJoined,
            ],
            Kind::Refused => &[
                A::RefusedNotRegistered,
                A::RefusedDeregistered,
                A::RefusedDisabled,
                A::RefusedWrongAudience,
                A::RefusedNotAtHome,
                A::RefusedSchoolClosed,
                A::RefusedUserDisabled,
                A::UpstreamUnmatched,
                A::UpstreamRoleRefused,
            ],
        }
    }

    /// The kind of a stored action name, if it is one the Logboek sorts.
    pub fn of(action: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.actions().iter().any(|a| a.as_str() == action))
    }
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person of the school, by name.
    Person(String),
    /// The operator (the command line).
    Operator,
    /// Leerpoort itself, someone of another school, or someone since removed.
    Leerpoort,
}

/// One line as the coordinator reads it.
#[derive(Debug, Clone)]
pub struct Line {
    /// Its place in the trail (a page starts below the `older` of the one before).
    pub seq: i64,
    pub at: i64,
    /// The stored action name (`registration.deregister`); the page words it.
    pub action: String,
    pub kind: Option<Kind>,
    pub actor: Actor,
    /// To whom or what: a person of the school or a relying party, by name.
    pub subject: Option<String>,
}

/// One page of the trail, and where the next (older) one starts: the `seq` of its last line.
#[derive(Debug, Clone)]
pub struct Page {
    pub lines: Vec<Line>,
    pub older: Option<i64>,
}

/// The school's trail, newest first: of one `kind` or all, older than the line numbered
/// `before` (a page's `older`).
pub fn page(
    dir: &dyn Directory,
    c: &Coordinator,
    kind: Option<Kind>,
    before: Option<i64>,
) -> Result<Page> {
    let names: Vec<&str> = kind
        .map(|k| k.actions().iter().map(|a| a.as_str()).collect())
        .unwrap_or_default();
    let events = dir.audit_trail(&AuditQuery {
        school: Some(c.school()),
        actions: &names,
        before,
        limit: PAGE,
    })?;
    let older = (events.len() as i64 == PAGE)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    let mut lines = Vec::with_capacity(events.len());
    for e in events {
        lines.push(Line {
            seq: e.seq,
            at: e.at,
            kind: Kind::of(&e.action),
            actor: actor(dir, c.school(), &e.actor)?,
            subject: subject(dir, c.school(), e.subject.as_deref())?,
            action: e.action,
        });
    }
    Ok(Page { lines, older })
}

fn person(dir: &dyn Directory, school: &InstellingRef, id: &str) -> Result<Option<String>> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    Ok(dir
        .user(id)?
        .filter(|u| &u.school == school && !u.given_name.is_empty())
        .map(|u| u.display_name()))
}

fn actor(dir: &dyn Directory, school: &InstellingRef, actor: &str) -> Result<Actor> {
    if actor == "cli" || actor == "operator" {
        return Ok(Actor::Operator);
    }
    Ok(match actor.strip_prefix("user:") {
        Some(id) => person(dir, school, id)?.map_or(Actor::Leerpoort, Actor::Person),
        None => Actor::Leerpoort,
    })
}

fn subject(
    dir: &dyn Directory,
    school: &InstellingRef,
    subject: Option<&str>,
) -> Result<Option<String>> {
    let Some(s) = subject else {
        return Ok(None);
    };
    if let Some(name) = person(dir, school, s)? {
        return Ok(Some(name));
    }
    Ok(dir.relying_party_by_public_id(s)?.map(|rp| rp.name))
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn every_action_the_logbook_sorts_has_words_in_both_languages() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_slug(k.slug()), Some(k));
            for a in k.actions() {
                assert_eq!(Kind::of(a.as_str()), Some(k), "{a:?} in one kind only");
                for t in [&catalogue::BEHEER_NL, &catalogue::BEHEER_EN] {
                    assert_ne!(t.action(a.as_str()), a.as_str(), "{a:?} has no words");
                }
            }
        }
    }
}
