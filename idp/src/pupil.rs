//! Pupils sign in at school: their school's page, their group, their name tile, then a 4-digit
//! PIN or — for young pupils — a picture password (2–4 pictures clicked in order; which one is
//! set per pupil). Only from the school's own networks or an enrolled device; rate-limited per pupil,
//! per source address (IPv6 per /64) and — for a device that carries a server-signed id (an
//! enrolled or home device) — per device, in the ephemeral store (so limits hold across nodes).
//! A browser's other cookies are its own choice, so they are never what a limit counts.
//!
//! Ten wrong PINs (or picture passwords) lock the pupil for an hour (a teacher can unlock). Whether a pupil is
//! locked is shown only on the device that made the failed attempts; another device sees the
//! ordinary "wrong code" answer, so the lock cannot be used to probe accounts. Remaining
//! attempts are never shown.

use std::net::IpAddr;
use std::time::Duration;

use broker::audit::AuditAction;
use broker::model::{AuditEvent, PupilAuth, School, User, UserStatus};
use broker::store::Tally;
use claims::LoginContext;
use uuid::Uuid;

use crate::app::AppState;
use crate::login::ACR_PUPIL;
use crate::metrics::LoginLabels;
use crate::pictures::PictureSequence;
use crate::secrets::PinHasher;
use crate::session::{self, Authenticated, SsoSession};

/// Wrong PINs before a pupil is locked.
pub const MAX_PIN_FAILURES: u64 = 10;
/// The lock, and the window the failures are counted in.
pub const LOCK: Duration = Duration::from_secs(3600);
/// Failed PINs from one device per quarter hour.
pub const MAX_DEVICE_FAILURES: u64 = 30;
/// Failed PINs from one source address per quarter hour (a school's NAT serves hundreds).
pub const MAX_ADDRESS_FAILURES: u64 = 300;
const WINDOW: Duration = Duration::from_secs(15 * 60);

/// What a pupil typed or clicked.
#[derive(Debug, Clone, Copy)]
pub enum PupilSecret<'a> {
    Pin(&'a str),
    Pictures(&'a PictureSequence),
}

impl PupilSecret<'_> {
    /// Does it match `user`'s own way of signing in? A PIN never opens a picture-password
    /// account, nor the other way round.
    pub fn matches(&self, user: &User, pins: &PinHasher) -> bool {
        match (self, user.pupil_auth) {
            (Self::Pin(pin), Some(PupilAuth::Pin)) => user
                .pin_hash
                .as_deref()
                .is_some_and(|h| pins.verify(h, pin)),
            (Self::Pictures(seq), Some(PupilAuth::Picture)) => user
                .picture_password_hash
                .as_deref()
                .is_some_and(|h| pins.verify(h, &seq.encode())),
            _ => false,
        }
    }

    /// The `amr` value of a sign-in with it.
    pub fn amr(&self) -> &'static str {
        match self {
            Self::Pin(_) => "pin",
            Self::Pictures(_) => "pic",
        }
    }
}

/// The answer to a PIN attempt.
#[derive(Debug)]
pub enum PupilOutcome {
    Ok(Box<SsoSession>),
    Wrong,
    /// Locked; shown only to the device that caused it.
    Locked {
        until: i64,
    },
    Throttled,
    OutsideNetwork,
    Unavailable,
}

/// Is `ip` inside one of the school's networks?
pub fn in_school_network(school: &School, ip: Option<&str>) -> bool {
    let Some(ip) = ip.and_then(|i| i.parse::<IpAddr>().ok()) else {
        return false;
    };
    school.networks.iter().any(|n| n.contains(&ip))
}

/// May pupils sign in here: on the school's network, or on a device enrolled for it?
pub fn pupil_place_ok(
    school: &School,
    ip: Option<&str>,
    enrolled_for: Option<&claims::InstellingRef>,
) -> bool {
    in_school_network(school, ip) || enrolled_for == Some(&school.instelling_ref)
}

/// The pupil `user_id` of `school`, if that is what it is.
pub fn pupil_of(state: &AppState, school: &School, user_id: Uuid) -> Option<User> {
    state.dir.user(user_id).ok().flatten().filter(|u| {
        u.school == school.instelling_ref && u.is_pupil() && u.status == UserStatus::Active
    })
}

fn lock_key(user: Uuid) -> String {
    format!("pinlock:{user}")
}

/// Check a PIN or picture password and start a session. `device` identifies the browser (a hash of its CSRF
/// cookie) only to tell it about a lock it caused; `signed_device` is the server-signed id of
/// an enrolled or home device, the only device id a limit counts on; `place_ok` is the
/// network/enrolment rule's verdict.
#[allow(clippy::too_many_arguments)]
pub fn pupil_login(
    state: &AppState,
    school: &School,
    user_id: Uuid,
    secret: PupilSecret<'_>,
    ip: Option<&str>,
    device: &str,
    signed_device: Option<&str>,
    place_ok: bool,
    previous_sid: Option<&str>,
    now: i64,
) -> PupilOutcome {
    let record = |result: &str| {
        state
            .metrics
            .logins
            .get_or_create(&LoginLabels {
                kind: "pupil".into(),
                result: result.into(),
            })
            .inc();
    };
    if !place_ok {
        record("outside-network");
        return PupilOutcome::OutsideNetwork;
    }
    let store = state.store.as_ref();
    let dev_key = signed_device.map(|d| format!("rl:pin-fail:dev:{d}"));
    let ip_key = format!("rl:pin-fail:ip:{}", crate::forwarded::limit_bucket(ip));
    let dev = match &dev_key {
        Some(k) => store.count(k, WINDOW),
        None => Ok(0),
    };
    let (Ok(dev), Ok(addr)) = (dev, store.count(&ip_key, WINDOW)) else {
        return PupilOutcome::Unavailable;
    };
    if dev >= MAX_DEVICE_FAILURES || addr >= MAX_ADDRESS_FAILURES {
        record("throttled");
        return PupilOutcome::Throttled;
    }
    let Some(user) = pupil_of(state, school, user_id) else {
        record("refused");
        return PupilOutcome::Wrong;
    };
    let marker = format!("pinlockdev:{user_id}:{device}");
    match store.get(&lock_key(user_id)) {
        Ok(Some(until)) => {
            record("locked");
            let until = String::from_utf8_lossy(&until).parse().unwrap_or(now);
            return if matches!(store.get(&marker), Ok(Some(_))) {
                PupilOutcome::Locked { until }
            } else {
                PupilOutcome::Wrong
            };
        }
        Ok(None) => {}
        Err(_) => return PupilOutcome::Unavailable,
    }
    if !secret.matches(&user, &state.pins) {
        let fail_key = format!("rl:pin-fail:user:{user_id}");
        if let Some(k) = &dev_key {
            let _ = store.incr(k, WINDOW);
        }
        let _ = store.incr(&ip_key, WINDOW);
        let _ = store.put(&marker, b"1", LOCK);
        record("refused");
        let until = now + LOCK.as_secs() as i64;
        // Counting this failure and locking at the tenth is one atomic step in the store, so
        // two nodes counting the last failures at once cannot miss or duplicate the lock.
        return match store.incr_and_lock(
            &fail_key,
            LOCK,
            MAX_PIN_FAILURES,
            &lock_key(user_id),
            until.to_string().as_bytes(),
            LOCK,
        ) {
            Ok(Tally::LockedNow(_)) => {
                tracing::info!(pupil = %user_id, "pupil locked after {MAX_PIN_FAILURES} wrong PINs");
                PupilOutcome::Locked { until }
            }
            Ok(Tally::AlreadyLocked) => {
                // Another node locked the pupil a moment ago.
                let until = store
                    .get(&lock_key(user_id))
                    .ok()
                    .flatten()
                    .and_then(|v| String::from_utf8_lossy(&v).parse().ok())
                    .unwrap_or(until);
                PupilOutcome::Locked { until }
            }
            Ok(Tally::Counted(_)) | Err(_) => PupilOutcome::Wrong,
        };
    }
    let _ = store.reset_count(&format!("rl:pin-fail:user:{user_id}"), LOCK);
    let who = Authenticated {
        user_id,
        school: school.instelling_ref,
        amr: vec![secret.amr().into()],
        acr: ACR_PUPIL.into(),
        context: LoginContext::School,
        ip: ip.map(str::to_string),
    };
    match session::start_with_idle(
        store,
        who,
        now,
        previous_sid,
        state.config.session_idle_pupil_secs,
    ) {
        Ok(s) => {
            record("ok");
            PupilOutcome::Ok(Box::new(s))
        }
        Err(_) => PupilOutcome::Unavailable,
    }
}

/// A teacher (or the operator) lifts a pupil's lock.
pub fn unlock(state: &AppState, user_id: Uuid) -> Result<(), broker::store::StoreError> {
    state.store.delete(&lock_key(user_id))?;
    state
        .store
        .reset_count(&format!("rl:pin-fail:user:{user_id}"), LOCK)
}

/// A pupil's PIN or picture password, as their teacher sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revealed {
    Pin(String),
    Pictures(Vec<&'static crate::pictures::Picture>),
}

/// Show pupil `pupil`'s PIN or picture password to staff member `staff` (their teacher, or an
/// ICT coordinator of the school). Every showing is an audit event. `None` when `staff` may not
/// see it, or when no sealed copy was kept (pupils created before Leerpoort kept them).
pub fn reveal(
    state: &AppState,
    staff: &User,
    pupil: &User,
    why: &str,
    now: i64,
) -> Option<Revealed> {
    if !crate::thuis::may_manage(staff, pupil) {
        return None;
    }
    let sealed = state.dir.pupil_secret(pupil.id).ok()??;
    let plain = state.sealer.open(pupil.id, &sealed)?;
    // No audit line, no PIN: what a teacher saw is always on the trail.
    state
        .dir
        .append_audit(AuditEvent::record(
            AuditAction::PupilSecretShown,
            format!("user:{}", staff.id),
            now,
            Some(pupil.school),
            Some(pupil.id.to_string()),
            serde_json::json!({"for": why}),
        ))
        .ok()?;
    match plain.strip_prefix("pic:") {
        Some(names) => crate::pictures::PictureSequence::parse(names)
            .ok()
            .map(|s| {
                Revealed::Pictures(
                    s.names()
                        .iter()
                        .filter_map(|n| crate::pictures::by_name(n))
                        .collect(),
                )
            }),
        None => Some(Revealed::Pin(plain)),
    }
}
