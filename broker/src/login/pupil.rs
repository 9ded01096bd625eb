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

use claims::LoginContext;
use uuid::Uuid;

use super::{limit_bucket, Counted, Policy};
use crate::audit::AuditAction;
use crate::keyspace::{Key, Limit};
use crate::model::{AuditEvent, PupilAuth, School, User, UserStatus};
use crate::ports::World;
use crate::repo::RepoResult;
use crate::secrets::{PinHasher, Sealer};
use crate::session::{self, Authenticated, SsoSession, ACR_PUPIL};
use crate::store::{Lockout, Tally};

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
#[derive(Clone, Copy)]
pub enum PupilSecret<'a> {
    Pin(&'a str),
    /// A picture password in its canonical encoding (`pic:vos,appel,zon`, as the server's
    /// picture sequence encodes it).
    Pictures(&'a str),
}

/// A secret: only which kind it is.
impl std::fmt::Debug for PupilSecret<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pin(_) => "PupilSecret::Pin(<hidden>)",
            Self::Pictures(_) => "PupilSecret::Pictures(<hidden>)",
        })
    }
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
                .is_some_and(|h| pins.verify(h, seq)),
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
    school.in_network(&ip)
}

/// May pupils sign in here: on the school's network, or on a device enrolled for it?
pub fn pupil_place_ok(
    school: &School,
    ip: Option<&str>,
    enrolled_for: Option<&claims::InstellingRef>,
) -> bool {
    in_school_network(school, ip) || enrolled_for == Some(&school.instelling_ref)
}

/// The pupil `user_id` of `school`, if that is what it is; an error only when the directory
/// does not answer.
pub fn pupil_of(w: &World, school: &School, user_id: Uuid) -> RepoResult<Option<User>> {
    Ok(w.dir.user(user_id)?.filter(|u| {
        u.school == school.instelling_ref && u.is_pupil() && u.status == UserStatus::Active
    }))
}

/// Check a PIN or picture password and start a session. `device` identifies the browser (a hash of its CSRF
/// cookie) only to tell it about a lock it caused; `signed_device` is the server-signed id of
/// an enrolled or home device, the only device id a limit counts on; `place_ok` is the
/// network/enrolment rule's verdict. Counted under `ok`, `refused`, `locked`, `throttled` or
/// `outside-network`.
#[allow(clippy::too_many_arguments)]
pub fn pupil_login(
    w: &World,
    pins: &PinHasher,
    policy: Policy,
    school: &School,
    user_id: Uuid,
    secret: PupilSecret<'_>,
    ip: Option<&str>,
    device: &str,
    signed_device: Option<&str>,
    place_ok: bool,
    previous_sid: Option<&str>,
    now: i64,
) -> Counted<PupilOutcome> {
    if !place_ok {
        return Counted::new(PupilOutcome::OutsideNetwork, "outside-network");
    }
    let store = w.store;
    let dev_key = signed_device.map(|d| Key::Limit(Limit::PinFailuresOnDevice(d)));
    let bucket = limit_bucket(ip);
    let ip_key = Key::Limit(Limit::PinFailuresFromAddress(&bucket));
    let dev = match &dev_key {
        Some(k) => store.count(k, WINDOW),
        None => Ok(0),
    };
    let (Ok(dev), Ok(addr)) = (dev, store.count(&ip_key, WINDOW)) else {
        return Counted::uncounted(PupilOutcome::Unavailable);
    };
    if dev >= MAX_DEVICE_FAILURES || addr >= MAX_ADDRESS_FAILURES {
        return Counted::new(PupilOutcome::Throttled, "throttled");
    }
    let user = match pupil_of(w, school, user_id) {
        Ok(Some(user)) => user,
        Ok(None) => return Counted::new(PupilOutcome::Wrong, "refused"),
        Err(_) => return Counted::uncounted(PupilOutcome::Unavailable),
    };
    let marker = Key::PinLockDevice {
        pupil: user_id,
        device,
    };
    match store.get(&Key::PinLock(user_id)) {
        Ok(Some(until)) => {
            let until = String::from_utf8_lossy(&until).parse().unwrap_or(now);
            let outcome = if matches!(store.get(&marker), Ok(Some(_))) {
                PupilOutcome::Locked { until }
            } else {
                PupilOutcome::Wrong
            };
            return Counted::new(outcome, "locked");
        }
        Ok(None) => {}
        Err(_) => return Counted::uncounted(PupilOutcome::Unavailable),
    }
    if !secret.matches(&user, pins) {
        let fail_key = Key::Limit(Limit::PinFailuresOfPupil(user_id));
        if let Some(k) = &dev_key {
            let _ = store.incr(k, WINDOW);
        }
        let _ = store.incr(&ip_key, WINDOW);
        let _ = store.put(&marker, b"1", LOCK);
        let until = now + LOCK.as_secs() as i64;
        // Counting this failure and locking at the tenth is one atomic step in the store, so
        // two nodes counting the last failures at once cannot miss or duplicate the lock.
        let until_text = until.to_string();
        let outcome = match store.incr_and_lock(&Lockout {
            counter: fail_key,
            window: LOCK,
            limit: MAX_PIN_FAILURES,
            lock: Key::PinLock(user_id),
            lock_value: until_text.as_bytes(),
            lock_ttl: LOCK,
        }) {
            Ok(Tally::LockedNow(_)) => {
                tracing::info!(pupil = %user_id, "pupil locked after {MAX_PIN_FAILURES} wrong PINs");
                PupilOutcome::Locked { until }
            }
            Ok(Tally::AlreadyLocked) => {
                // Another node locked the pupil a moment ago.
                let until = store
                    .get(&Key::PinLock(user_id))
                    .ok()
                    .flatten()
                    .and_then(|v| String::from_utf8_lossy(&v).parse().ok())
                    .unwrap_or(until);
                PupilOutcome::Locked { until }
            }
            Ok(Tally::Counted(_)) | Err(_) => PupilOutcome::Wrong,
        };
        return Counted::new(outcome, "refused");
    }
    let _ = store.reset_count(&Key::Limit(Limit::PinFailuresOfPupil(user_id)), LOCK);
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
        policy.session_idle_pupil_secs,
    ) {
        Ok(s) => Counted::new(PupilOutcome::Ok(Box::new(s)), "ok"),
        Err(_) => Counted::uncounted(PupilOutcome::Unavailable),
    }
}

/// A teacher (or the operator) lifts a pupil's lock.
pub fn unlock(w: &World, user_id: Uuid) -> Result<(), crate::store::StoreError> {
    w.store.delete(&Key::PinLock(user_id))?;
    w.store
        .reset_count(&Key::Limit(Limit::PinFailuresOfPupil(user_id)), LOCK)
}

/// A pupil's PIN or picture password, as their teacher sees it (`P`: a picture, as the
/// server knows them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revealed<P> {
    Pin(String),
    Pictures(Vec<P>),
}

/// Show pupil `pupil`'s PIN or picture password to staff member `staff` (their teacher, or an
/// ICT coordinator of the school). Every showing is an audit event. `None` when `staff` may not
/// see it, or when no sealed copy was kept (pupils created before Leerpoort kept them).
/// `pictures` reads a stored picture password (`vos,appel,zon`) as its pictures; `None` when
/// it is not a valid one.
pub fn reveal<P>(
    w: &World,
    sealer: &Sealer,
    staff: &User,
    pupil: &User,
    why: &str,
    now: i64,
    pictures: impl FnOnce(&str) -> Option<Vec<P>>,
) -> Option<Revealed<P>> {
    if !super::thuis::may_manage(staff, pupil) {
        return None;
    }
    let sealed = w.dir.pupil_secret(pupil.id).ok()??;
    let plain = sealer.open(pupil.id, &sealed)?;
    // No audit line, no PIN: what a teacher saw is always on the trail.
    w.dir
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
        Some(names) => pictures(names).map(Revealed::Pictures),
        None => Some(Revealed::Pin(plain)),
    }
}
