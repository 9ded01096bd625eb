//! Staff sign-in with e-mail and password, the same at school and at home.
//!
//! Unknown e-mail and wrong password take the same time (a dummy argon2id verification) and
//! give the same message. Attempts are counted per address and per source address in the
//! ephemeral store, so limits hold across nodes.

use std::time::Duration;

use broker::model::UserStatus;
use claims::LoginContext;

use crate::app::AppState;
use crate::metrics::LoginLabels;
use crate::secrets;
use crate::session::{self, Authenticated, SsoSession};

/// `acr` of a password sign-in.
pub const ACR_PASSWORD: &str = "urn:leerpoort:acr:wachtwoord";
/// `acr` of a pupil sign-in (name tile + PIN or picture password).
pub const ACR_PUPIL: &str = "urn:leerpoort:acr:leerling";

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
    /// The ephemeral store or database failed.
    Unavailable,
}

/// Does a sign-in from `ip` need the proof-of-work challenge?
pub fn challenge_needed(state: &AppState, ip: Option<&str>) -> bool {
    let key = format!("rl:staff-fail:ip:{}", crate::forwarded::limit_bucket(ip));
    state
        .store
        .count(&key, ATTEMPT_WINDOW)
        .map(|n| n >= crate::challenge::AFTER_FAILURES)
        .unwrap_or(false)
}

/// Check an e-mail and password (and, after failures from the address, the solved
/// challenge) and start a session.
pub fn staff_login(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<&str>,
    challenge: Option<&str>,
    previous_sid: Option<&str>,
    now: i64,
) -> StaffLogin {
    let email = email.trim().to_lowercase();
    let account_key = format!("rl:staff-fail:acct:{email}");
    let address_key = format!("rl:staff-fail:ip:{}", crate::forwarded::limit_bucket(ip));
    let ip = ip.unwrap_or("unknown");
    let count = |k: &str| state.store.count(k, ATTEMPT_WINDOW);
    let (Ok(acct), Ok(addr)) = (count(&account_key), count(&address_key)) else {
        return StaffLogin::Unavailable;
    };
    let record = |result: &str| {
        state
            .metrics
            .logins
            .get_or_create(&LoginLabels {
                kind: "staff".into(),
                result: result.into(),
            })
            .inc();
    };
    if acct >= MAX_FAILURES_PER_ACCOUNT || addr >= MAX_FAILURES_PER_ADDRESS {
        // Same work as a real attempt, so timing reveals nothing.
        let _ = secrets::verify_password(None, password);
        record("throttled");
        return StaffLogin::Throttled;
    }
    if addr >= crate::challenge::AFTER_FAILURES {
        let solved =
            challenge.is_some_and(|c| state.challenges.verify(state.store.as_ref(), c, now));
        if !solved {
            record("challenge");
            return StaffLogin::ChallengeRequired;
        }
    }
    let user = match state.dir.user_by_email(&email) {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "staff login: directory");
            return StaffLogin::Unavailable;
        }
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let password_ok = secrets::verify_password(stored, password);
    let user = match user {
        Some(u) if password_ok && !u.is_pupil() && u.status == UserStatus::Active => u,
        _ => {
            let _ = state.store.incr(&account_key, ATTEMPT_WINDOW);
            let _ = state.store.incr(&address_key, ATTEMPT_WINDOW);
            record("refused");
            return StaffLogin::Refused;
        }
    };
    let who = Authenticated {
        user_id: user.id,
        school: user.school,
        amr: vec!["pwd".into()],
        acr: ACR_PASSWORD.into(),
        context: LoginContext::School,
        ip: Some(ip.to_string()),
    };
    match session::start_with_idle(
        state.store.as_ref(),
        who,
        now,
        previous_sid,
        state.config.session_idle_staff_secs,
    ) {
        Ok(s) => {
            let _ = state.store.reset_count(&account_key, ATTEMPT_WINDOW);
            record("ok");
            StaffLogin::Ok(Box::new(s))
        }
        Err(e) => {
            tracing::error!(error = %e, "staff login: starting the session");
            StaffLogin::Unavailable
        }
    }
}
