//! Change notifications: what a party with a webhook (`client add --webhook-uri`) is told, and
//! when. The events are Security Event Tokens (RFC 8417), delivered by push (RFC 8935).
//!
//! - **Where they come from.** Every change Leerpoort makes writes an audit line in its own
//!   transaction ([`crate::repo`]); [`notices`] reads that line and says which events it
//!   announces, and the storage writes them to the outbox in the same transaction. A change
//!   without its event cannot happen, and an event without its change cannot either.
//! - **What they say.** Only what to fetch: the event's type, the school's INSTELLING_REF and
//!   where its data is read ([`set_claims`]). Never a name, an ECK-iD or a user's id — the
//!   party reads what its school releases to it through the school-data API, as always.
//! - **Who hears them.** A school's data changes: every party with a webhook that school
//!   registered (and has not withdrawn). A school registers or withdraws a party: that party.
//!   A new school year: every party some school registered.
//! - **Delivery** ([`next_attempt`], [`outcome`]): a node claims an event before it posts it,
//!   so no two nodes send one event at once; a failed post is tried again later, for about a day.

use claims::InstellingRef;
use serde_json::{json, Value};

use crate::audit::AuditAction;
use crate::model::AuditEvent;
use crate::ports::World;
use crate::repo::RepoResult;

/// The kinds of events, by their type URI (the key under `events` in the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A school's data changed: its details, groups, pupils or staff (an import, Beheer, a
    /// merger, DUO's registry). Fetch the school again.
    SchoolDataChanged,
    /// A school registered the party, or changed what it releases to it.
    ConsentGiven,
    /// A school withdrew the party: no sign-ins and no data from now on.
    ConsentWithdrawn,
    /// A new school year began (1 August, 00:00 Europe/Amsterdam): groups moved on.
    SchoolYearBegan,
    /// The party's webhook was set: a first event to check the receiving end.
    WebhookSet,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        Self::SchoolDataChanged,
        Self::ConsentGiven,
        Self::ConsentWithdrawn,
        Self::SchoolYearBegan,
        Self::WebhookSet,
    ];

    /// The event's type URI.
    pub const fn uri(self) -> &'static str {
        match self {
            Self::SchoolDataChanged => "urn:leerpoort:events:schoolgegevens-gewijzigd",
            Self::ConsentGiven => "urn:leerpoort:events:toestemming-gegeven",
            Self::ConsentWithdrawn => "urn:leerpoort:events:toestemming-ingetrokken",
            Self::SchoolYearBegan => "urn:leerpoort:events:schooljaar-begonnen",
            Self::WebhookSet => "urn:leerpoort:events:webhook-ingesteld",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.uri() == uri)
    }

    /// Whether a second event of this kind for the same party and school adds nothing while
    /// the first waits to be sent ("fetch the school again" once is enough).
    pub const fn coalesces(self) -> bool {
        matches!(self, Self::SchoolDataChanged)
    }
}

/// Who hears an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// Every party with a webhook that this school registered and has not withdrawn.
    RegisteredAt(InstellingRef),
    /// One party, by its client id or entity id.
    Party(String),
    /// Every party with a webhook that some school registered.
    EveryRegistered,
}

/// One event an audit line announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: EventKind,
    pub school: Option<InstellingRef>,
    pub to: Recipients,
    /// What the event says besides its school (the school year): never personal data.
    pub details: Value,
}

/// The changes to what a school releases (its details, groups, pupils, staff).
const DATA_CHANGES: &[AuditAction] = &[
    AuditAction::SchoolChangeBrin,
    AuditAction::SchoolClose,
    AuditAction::SchoolRenamed,
    AuditAction::SchoolMerge,
    AuditAction::SchoolSplit,
    AuditAction::SchoolMergerConsents,
    AuditAction::GroupAdd,
    AuditAction::UserAdd,
    AuditAction::UserDisable,
    AuditAction::UserEnable,
    AuditAction::UserRemove,
    AuditAction::UserProvisioned,
    AuditAction::UserRolesSet,
    AuditAction::UserJoined,
    AuditAction::ImportApplied,
];

/// The events an audit line announces (none for most lines).
pub fn notices(line: &AuditEvent) -> Vec<Notice> {
    let is = |a: AuditAction| line.action == a.as_str();
    let party = || line.subject.clone().map(Recipients::Party);
    let one = |kind, to: Option<Recipients>| {
        to.map(|to| Notice {
            kind,
            school: line.school,
            to,
            details: json!({}),
        })
    };
    let found = if is(AuditAction::RegistrationRegister) {
        one(EventKind::ConsentGiven, party())
    } else if is(AuditAction::RegistrationDeregister) {
        one(EventKind::ConsentWithdrawn, party())
    } else if is(AuditAction::WebhookSet) && line.details["url"].is_string() {
        one(EventKind::WebhookSet, party())
    } else if is(AuditAction::SchoolYearBegan) && line.details["vorig"].is_string() {
        Some(Notice {
            kind: EventKind::SchoolYearBegan,
            school: None,
            to: Recipients::EveryRegistered,
            details: json!({"schooljaar": line.details["schooljaar"]}),
        })
    } else if DATA_CHANGES.iter().any(|a| is(*a)) {
        one(
            EventKind::SchoolDataChanged,
            line.school.map(Recipients::RegisteredAt),
        )
    } else {
        None
    };
    found.into_iter().collect()
}

/// The setting that holds the school year last announced.
const SCHOOL_YEAR_SETTING: &str = "webhooks.schooljaar";

/// Announce a new school year once it has begun: `true` when this call did. The first call
/// ever only notes the year (there is nothing to compare it with). Runs on one node at a time
/// (the scheduler's lease); a second call in the same year does nothing.
pub fn announce_school_year(w: &World<'_>, actor: &str) -> RepoResult<bool> {
    let now = w.now();
    let year = crate::import::staging::current_school_year(now);
    let last = w.dir.setting(SCHOOL_YEAR_SETTING)?;
    if last.as_deref() == Some(year.as_str()) {
        return Ok(false);
    }
    let line = AuditEvent::record(
        AuditAction::SchoolYearBegan,
        actor,
        now,
        None,
        None,
        json!({"schooljaar": year, "vorig": last}),
    );
    w.dir.put_setting(SCHOOL_YEAR_SETTING, Some(&year), line)?;
    Ok(last.is_some())
}

/// The Security Event Token's claims for one event to `client_id` (RFC 8417): `jti` is the
/// event's id (the same on every attempt: a receiver that saw it already ignores it), `toe`
/// when it happened, `iat` when this attempt was signed.
#[allow(clippy::too_many_arguments)]
pub fn set_claims(
    issuer: &str,
    client_id: &str,
    jti: &str,
    kind: EventKind,
    school: Option<&InstellingRef>,
    details: &Value,
    toe: i64,
    now: i64,
) -> Value {
    let mut body = match details {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    if let Some(s) = school {
        body.insert("instellingRef".into(), json!(s.to_string()));
    }
    let fetch = match (kind, school) {
        (EventKind::ConsentWithdrawn, _) => format!("{issuer}/api/schooldata/v1/toestemmingen"),
        (_, Some(s)) => format!("{issuer}/api/schooldata/v1/scholen/{s}"),
        (_, None) => format!("{issuer}/api/schooldata/v1/scholen"),
    };
    body.insert("ophalen".into(), json!(fetch));
    json!({
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "jti": jti,
        "toe": toe,
        "events": { kind.uri(): body },
    })
}

/// After how many failed attempts in a row Leerpoort gives up: with [`next_attempt`]'s waits,
/// about a day.
pub const MAX_ATTEMPTS: i32 = 30;

/// When to try again after `attempts` failed attempts in a row (1 or more), at `now`: 30 s,
/// then doubling up to an hour, stretched by `jitter` (0..=1 adds up to a fifth) so that many
/// events failing together do not return together. `None`: give up (after [`MAX_ATTEMPTS`]).
pub fn next_attempt(attempts: i32, now: i64, jitter: f64) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let doublings = attempts.clamp(1, 8) - 1;
    let base = (30_i64 << doublings).min(3600);
    let wait = base + (base as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64;
    Some(now + wait)
}

/// The time all attempts of an event take when every one fails (without jitter): the waits
/// of [`next_attempt`] added up.
pub fn patience() -> i64 {
    (1..MAX_ATTEMPTS)
        .filter_map(|a| next_attempt(a, 0, 0.0))
        .sum()
}

/// What an answer to a push means (RFC 8935 §2.2, §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `2xx` (RFC 8935 asks `202 Accepted`): delivered.
    Delivered,
    /// A server error, `408`, `425` or `429`, or no answer: try again later.
    Retry,
    /// Any other `4xx`, or a redirect: the receiver refuses this event as it is; trying it
    /// again would give the same answer.
    Refused,
}

/// The outcome of an answer with HTTP status `status`.
pub fn outcome(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        408 | 425 | 429 | 500..=599 => Outcome::Retry,
        _ => Outcome::Refused,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::str::FromStr;

    fn school() -> InstellingRef {
        InstellingRef::from_str("8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a01").unwrap()
    }

    fn line(action: AuditAction, subject: Option<&str>, details: Value) -> AuditEvent {
        AuditEvent::record(
            action,
            "cli",
            100,
            Some(school()),
            subject.map(str::to_string),
            details,
        )
    }

    #[test]
    fn a_change_to_released_data_is_told_to_the_schools_parties() {
        for a in DATA_CHANGES {
            let n = notices(&line(*a, Some("x"), json!({})));
            assert_eq!(n.len(), 1, "{a}");
            assert_eq!(n[0].kind, EventKind::SchoolDataChanged);
            assert_eq!(n[0].to, Recipients::RegisteredAt(school()));
        }
    }

    #[test]
    fn what_no_party_reads_announces_nothing() {
        for a in [
            AuditAction::PupilSecretSet,
            AuditAction::UserPasswordSet,
            AuditAction::LicencesChange,
            AuditAction::RefusedNotRegistered,
            AuditAction::NiveausSet,
        ] {
            assert!(notices(&line(a, Some("x"), json!({}))).is_empty(), "{a}");
        }
        // Removing a webhook tells nobody; the first year noted is no new year.
        assert!(notices(&line(
            AuditAction::WebhookSet,
            Some("c"),
            json!({"url": null})
        ))
        .is_empty());
        let first = line(
            AuditAction::SchoolYearBegan,
            None,
            json!({"schooljaar": "2026-2027", "vorig": null}),
        );
        assert!(notices(&first).is_empty());
    }

    #[test]
    fn consent_is_told_to_the_party_it_concerns() {
        let n = notices(&line(
            AuditAction::RegistrationRegister,
            Some("uitgever-a"),
            json!({}),
        ));
        assert_eq!(n[0].kind, EventKind::ConsentGiven);
        assert_eq!(n[0].to, Recipients::Party("uitgever-a".into()));
        let n = notices(&line(
            AuditAction::RegistrationDeregister,
            Some("uitgever-a"),
            json!({}),
        ));
        assert_eq!(n[0].kind, EventKind::ConsentWithdrawn);
    }

    #[test]
    fn a_new_school_year_is_told_to_everyone_registered() {
        let n = notices(&line(
            AuditAction::SchoolYearBegan,
            None,
            json!({"schooljaar": "2027-2028", "vorig": "2026-2027"}),
        ));
        assert_eq!(n[0].to, Recipients::EveryRegistered);
        assert_eq!(n[0].details, json!({"schooljaar": "2027-2028"}));
    }

    #[test]
    fn the_token_says_what_to_fetch_and_nothing_personal() {
        let c = set_claims(
            "https://lp.example",
            "uitgever-a",
            "j1",
            EventKind::SchoolDataChanged,
            Some(&school()),
            &json!({}),
            90,
            100,
        );
        let ev = &c["events"]["urn:leerpoort:events:schoolgegevens-gewijzigd"];
        assert_eq!(ev["instellingRef"], school().to_string());
        assert_eq!(
            ev["ophalen"],
            format!("https://lp.example/api/schooldata/v1/scholen/{}", school())
        );
        assert_eq!(
            (c["aud"].as_str(), c["toe"].as_i64()),
            (Some("uitgever-a"), Some(90))
        );
        assert_eq!(ev.as_object().unwrap().len(), 2);
    }

    #[test]
    fn retries_back_off_and_stop_after_a_day() {
        assert_eq!(next_attempt(1, 0, 0.0), Some(30));
        assert_eq!(next_attempt(2, 100, 0.0), Some(160));
        assert_eq!(next_attempt(8, 0, 0.0), Some(3600));
        assert_eq!(next_attempt(29, 0, 0.0), Some(3600));
        assert_eq!(next_attempt(1, 0, 1.0), Some(36));
        assert_eq!(next_attempt(MAX_ATTEMPTS, 0, 0.0), None);
        // About a day in all.
        let day = patience();
        assert!((22 * 3600..=26 * 3600).contains(&day), "{day}");
    }

    #[test]
    fn answers_are_read_as_rfc_8935_says() {
        assert_eq!(outcome(202), Outcome::Delivered);
        assert_eq!(outcome(200), Outcome::Delivered);
        assert_eq!(outcome(503), Outcome::Retry);
        assert_eq!(outcome(429), Outcome::Retry);
        assert_eq!(outcome(400), Outcome::Refused);
        assert_eq!(outcome(302), Outcome::Refused);
    }

    #[test]
    fn type_uris_read_back() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_uri(k.uri()), Some(k));
        }
    }
}
