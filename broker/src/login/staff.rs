//! Staff sign-in with e-mail and password, the same at school and at home.
//!
//! Unknown e-mail and wrong password take the same time (a dummy argon2id verification) and
//! give the same message. Attempts are counted per address and per source address in the
//! ephemeral store, so limits hold across nodes.
//!
//! An ICT coordinator with a second factor (or one who must have one, see [`super::totp`])
//! gets no session after the password: a pending sign-in ([`SecondStep`], 5 minutes, in the
//! ephemeral store behind its own cookie) waits for the code — or, when the second factor is
//! required but not yet set up, for enrolment. Wrong codes count toward the same failure
//! limits as wrong passwords.

use std::time::Duration;

use claims::LoginContext;

use super::challenge::{self, Purpose};
use super::totp::{self, CodeCheck};
use super::{limit_bucket, Counted, Keys, Policy};
use crate::keyspace::{Key, Limit};
use crate::model::{User, UserStatus};
use crate::ports::World;
use crate::secrets::{self, Sealer};
use crate::session::{self, Authenticated, SsoSession, ACR_PASSWORD};

/// The window in which failed attempts are counted.
pub const ATTEMPT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed attempts for one e-mail address per window before it is refused for the rest of it.
pub const MAX_FAILURES_PER_ACCOUNT: u64 = 10;
/// Failed attempts from one source address per window.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 50;

/// The result of a sign-in attempt.
#[derive(Debug)]
pub enum StaffLogin {
    Ok(Box<SsoSession>),
    /// Wrong e-mail or password: one message for both.
    Refused,
    /// Too many failures; try again later.
    Throttled,
    /// Failures from this address: the form's proof-of-work challenge must be solved first.
    ChallengeRequired,
    /// The password was right; the second factor comes next (the pending sign-in's id).
    SecondStep(String),
    /// The ephemeral store or database failed.
    Unavailable,
}

/// How long a pending second step waits.
pub const SECOND_STEP_TTL: Duration = Duration::from_secs(5 * 60);

/// A sign-in whose password was right, waiting for the second factor.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct SecondStep {
    pub user_id: uuid::Uuid,
    pub email: String,
    pub ip: String,
    pub previous_sid: Option<String>,
    /// When the second factor is required but not set up: the new secret (base32), sealed,
    /// shown on the enrolment page until a first code confirms it.
    pub enrol: Option<String>,
}

impl std::fmt::Debug for SecondStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondStep")
            .field("user_id", &self.user_id)
            .field("enrol", &self.enrol.is_some())
            .finish_non_exhaustive()
    }
}

/// A pending second step by its id.
pub fn second_step(w: &World, id: &str) -> Option<SecondStep> {
    let raw = w.store.get(&Key::StaffSecondStep(id)).ok().flatten()?;
    serde_json::from_slice(&raw).ok()
}

/// The secret to show on the enrolment page of a pending second step.
pub fn enrolment_secret(sealer: &Sealer, pending: &SecondStep) -> Option<String> {
    let sealed = pending.enrol.as_deref()?;
    let plain = sealer.open(pending.user_id, sealed)?;
    plain.strip_prefix("totp-enrol:").map(str::to_string)
}

/// The result of the second step.
#[derive(Debug)]
pub enum SecondStepOutcome {
    Ok(Box<SsoSession>),
    /// Wrong, late or used code: try again.
    Refused,
    /// Too many failures; the pending sign-in is gone.
    Throttled,
    /// No such pending sign-in (expired): sign in again.
    Expired,
    Unavailable,
}

/// Check the code of a pending sign-in (or, when enrolling, the first code of the new
/// secret) and start the session.
pub fn finish_second_step(
    w: &World,
    sealer: &Sealer,
    id: &str,
    code: &str,
    now: i64,
) -> SecondStepOutcome {
    let Some(pending) = second_step(w, id) else {
        return SecondStepOutcome::Expired;
    };
    let account_key = Key::Limit(Limit::StaffFailuresOfAccount(&pending.email));
    let address_key = Key::Limit(Limit::StaffFailuresFromAddress(&pending.ip));
    let count = |k: &Key| w.store.count(k, ATTEMPT_WINDOW);
    let (Ok(acct), Ok(addr)) = (count(&account_key), count(&address_key)) else {
        return SecondStepOutcome::Unavailable;
    };
    if acct >= MAX_FAILURES_PER_ACCOUNT || addr >= MAX_FAILURES_PER_ADDRESS {
        let _ = w.store.delete(&Key::StaffSecondStep(id));
        return SecondStepOutcome::Throttled;
    }
    let user = match w.dir.user(pending.user_id) {
        Ok(Some(u)) if u.status == UserStatus::Active && !u.is_pupil() => u,
        Ok(_) => return SecondStepOutcome::Expired,
        Err(_) => return SecondStepOutcome::Unavailable,
    };
    let check = match enrolment_secret(sealer, &pending) {
        Some(secret) => totp::confirm_enrolment(w, sealer, &user, &secret, code, now),
        None if pending.enrol.is_some() => CodeCheck::Unavailable,
        None => totp::verify(w, sealer, user.id, code, now),
    };
    match check {
        CodeCheck::Accepted => {}
        CodeCheck::Refused => {
            let _ = w.store.incr(&account_key, ATTEMPT_WINDOW);
            let _ = w.store.incr(&address_key, ATTEMPT_WINDOW);
            return SecondStepOutcome::Refused;
        }
        CodeCheck::Unavailable => return SecondStepOutcome::Unavailable,
    }
    let _ = w.store.delete(&Key::StaffSecondStep(id));
    let who = Authenticated {
        user_id: user.id,
        school: user.school,
        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
        acr: ACR_PASSWORD.into(),
        context: LoginContext::School,
        ip: Some(pending.ip.clone()),
    };
    match session::start(w.store, who, now, pending.previous_sid.as_deref()) {
        Ok(s) => {
            let _ = w.store.reset_count(&account_key, ATTEMPT_WINDOW);
            SecondStepOutcome::Ok(Box::new(s))
        }
        Err(e) => {
            tracing::error!(error = %e, "staff login: starting the session");
            SecondStepOutcome::Unavailable
        }
    }
}

/// After a right password: a pending second step when the user has a second factor or must
/// have one, `None` when the password suffices.
fn begin_second_step(
    w: &World,
    sealer: &Sealer,
    policy: Policy,
    user: &User,
    attempt: &StaffAttempt<'_>,
    email: &str,
    ip: &str,
) -> Option<StaffLogin> {
    if !totp::is_coordinator(user) {
        return None;
    }
    let (enrolled, required) = match (
        totp::enrolled(w, user.id),
        totp::required_for(w, policy.require_totp_for_coordinators, user),
    ) {
        (Ok(e), Ok(r)) => (e, r),
        _ => return Some(StaffLogin::Unavailable),
    };
    if !enrolled && !required {
        return None;
    }
    let enrol = if enrolled {
        None
    } else {
        let sealed = totp::new_secret()
            .and_then(|secret| sealer.seal(user.id, &format!("totp-enrol:{secret}")));
        match sealed {
            Ok(s) => Some(s),
            Err(_) => return Some(StaffLogin::Unavailable),
        }
    };
    let pending = SecondStep {
        user_id: user.id,
        email: email.to_string(),
        ip: ip.to_string(),
        previous_sid: attempt.previous_sid.map(str::to_string),
        enrol,
    };
    let (Ok(id), Ok(json)) = (secrets::random_token(), serde_json::to_vec(&pending)) else {
        return Some(StaffLogin::Unavailable);
    };
    match w
        .store
        .put(&Key::StaffSecondStep(&id), &json, SECOND_STEP_TTL)
    {
        Ok(()) => Some(StaffLogin::SecondStep(id)),
        Err(_) => Some(StaffLogin::Unavailable),
    }
}

/// Does a sign-in from `ip` need the proof-of-work challenge?
pub fn challenge_needed(w: &World, ip: Option<&str>) -> bool {
    let key = Key::Limit(Limit::StaffFailuresFromAddress(&limit_bucket(ip)));
    w.store
        .count(&key, ATTEMPT_WINDOW)
        .map(|n| n >= challenge::AFTER_FAILURES)
        .unwrap_or(false)
}

/// What a staff member sent to sign in.
#[derive(Clone, Copy)]
pub struct StaffAttempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// The client address, resolved.
    pub ip: Option<&'a str>,
    /// The solved proof-of-work challenge, when the form carried one.
    pub challenge: Option<&'a str>,
    /// The session the browser brought, ended when a new one starts.
    pub previous_sid: Option<&'a str>,
}

impl std::fmt::Debug for StaffAttempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffAttempt")
            .field("ip", &self.ip)
            .finish_non_exhaustive()
    }
}

/// Check an e-mail and password (and, after failures from the address, the solved
/// challenge) and start a session. Counted under `ok`, `refused`, `throttled`, `challenge`,
/// `busy` or `second-step`.
pub fn staff_login(
    w: &World,
    keys: Keys<'_>,
    policy: Policy,
    attempt: StaffAttempt<'_>,
    now: i64,
) -> Counted<StaffLogin> {
    let email = attempt.email.trim().to_lowercase();
    let password = attempt.password;
    let account_key = Key::Limit(Limit::StaffFailuresOfAccount(&email));
    let address_key = Key::Limit(Limit::StaffFailuresFromAddress(&limit_bucket(attempt.ip)));
    let ip = attempt.ip.unwrap_or("unknown");
    let count = |k: &Key| w.store.count(k, ATTEMPT_WINDOW);
    let (Ok(acct), Ok(addr)) = (count(&account_key), count(&address_key)) else {
        return Counted::uncounted(StaffLogin::Unavailable);
    };
    if acct >= MAX_FAILURES_PER_ACCOUNT || addr >= MAX_FAILURES_PER_ADDRESS {
        // Same work as a real attempt, so timing reveals nothing.
        let _ = secrets::verify_password(None, password);
        return Counted::new(StaffLogin::Throttled, "throttled");
    }
    if addr >= challenge::AFTER_FAILURES {
        let solved = attempt.challenge.is_some_and(|c| {
            keys.challenges
                .verify(w.store, c, Purpose::StaffLogin, ip, now)
        });
        if !solved {
            return Counted::new(StaffLogin::ChallengeRequired, "challenge");
        }
    }
    let user = match w.dir.user_by_email(&email) {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "staff login: directory");
            return Counted::uncounted(StaffLogin::Unavailable);
        }
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let Ok(password_ok) = secrets::check_password(stored, password) else {
        // Too many checks at once: "try again", not counted as a failure.
        return Counted::new(StaffLogin::Unavailable, "busy");
    };
    let user = match user {
        Some(u) if password_ok && !u.is_pupil() && u.status == UserStatus::Active => u,
        _ => {
            let _ = w.store.incr(&account_key, ATTEMPT_WINDOW);
            let _ = w.store.incr(&address_key, ATTEMPT_WINDOW);
            return Counted::new(StaffLogin::Refused, "refused");
        }
    };
    if let Some(next) = begin_second_step(w, keys.sealer, policy, &user, &attempt, &email, ip) {
        return Counted::new(next, "second-step");
    }
    let who = Authenticated::at_school(user.id, user.school, &["pwd"], ACR_PASSWORD, Some(ip));
    match session::start_with_idle(
        w.store,
        who,
        now,
        attempt.previous_sid,
        policy.session_idle_staff_secs,
    ) {
        Ok(s) => {
            let _ = w.store.reset_count(&account_key, ATTEMPT_WINDOW);
            Counted::new(StaffLogin::Ok(Box::new(s)), "ok")
        }
        Err(e) => {
            tracing::error!(error = %e, "staff login: starting the session");
            Counted::uncounted(StaffLogin::Unavailable)
        }
    }
}
