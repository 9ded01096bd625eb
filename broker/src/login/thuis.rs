//! Home login (thuislogin): what teachers do for it and what families do with it.
//!
//! A teacher enters up to two home e-mail addresses for a pupil ([`set_addresses`]); each
//! address is a [`ThuisAccount`] that may serve several children of one family. Saving mails
//! an activation link at once (a 36-character GUID, stored as its SHA-256, tied to the address,
//! single use, valid [`ACTIVATION_TTL`]); the parent sets a password with it
//! ([`set_password_with_link`]) and the pupil's status goes from `Ja/Nee` to `Ja/Ja`.
//!
//! At the home entrance the parent signs in with the address and password ([`sign_in`]), picks
//! a child, and the child types its own school PIN or clicks its picture password. Ten wrong
//! passwords or children's codes block the home account for an hour ([`BLOCK`]); the page says
//! until when, and the teacher can lift it ([`unblock`]). An address Leerpoort does not know is
//! counted and blocked the same way, so the answers do not tell which addresses exist. Links
//! can be asked for again at most once per 15 minutes per address ([`THROTTLE`]), with the
//! same answer whether or not the address is known.

use std::time::Duration;

use uuid::Uuid;

use super::challenge::{self, Purpose};
use super::password::{well_formed, PasswordError};
use super::pupil::PupilSecret;
use super::Keys;
use crate::audit::AuditAction;
use crate::keyspace::{Key, Limit};
use crate::model::{AuditEvent, ThuisAccount, User};
use crate::ports::{Letter, World};
use crate::repo::{NewThuisCode, NewThuisToken};
use crate::secrets::{self, PinHasher, Sealer};
use crate::session::{self, Authenticated, SsoSession, ACR_PUPIL};
use crate::store::StoreError;

/// How long an activation link works: families read their mail when they can.
pub const ACTIVATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a forgotten-password link works.
pub const RESET_TTL: Duration = Duration::from_secs(24 * 3600);
/// At most one link per address in this time.
pub const THROTTLE: Duration = Duration::from_secs(15 * 60);
/// Wrong passwords or codes before a home account is blocked.
pub const MAX_FAILURES: u64 = 10;
/// The block, and the window failures are counted in.
pub const BLOCK: Duration = Duration::from_secs(3600);

/// Why a teacher's change was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ThuisError {
    #[error("'{0}' is not a valid e-mail address")]
    InvalidAddress(String),
    #[error("the two addresses are the same")]
    SameAddress,
    #[error("you may change only pupils of your own groups")]
    NotYourPupil,
    #[error("a link was sent to this address less than 15 minutes ago")]
    Throttled,
    #[error("try again in a few minutes")]
    Unavailable,
}

/// May staff member `staff` see and change pupil `pupil` in the group overview? Teachers: the
/// pupils of their own groups; ICT coordinators: every pupil of their school.
pub fn may_manage(staff: &User, pupil: &User) -> bool {
    if staff.is_pupil() || !pupil.is_pupil() || staff.school != pupil.school {
        return false;
    }
    if staff.roles.contains(&claims::Role::IctCoordinator) {
        return true;
    }
    staff.group_ids.iter().any(|g| pupil.group_ids.contains(g))
}

fn audit(
    actor: &str,
    action: AuditAction,
    pupil: &User,
    now: i64,
    details: serde_json::Value,
) -> AuditEvent {
    AuditEvent::record(
        action,
        actor,
        now,
        Some(pupil.school),
        Some(pupil.id.to_string()),
        details,
    )
}

/// A home address as a teacher types it: trimmed, lower-case, and plausible.
pub fn normalise_address(raw: &str) -> Result<Option<String>, ThuisError> {
    let a = raw.trim();
    if a.is_empty() {
        return Ok(None);
    }
    crate::model::normalise_email(a)
        .map(Some)
        .ok_or_else(|| ThuisError::InvalidAddress(a.to_string()))
}

/// The teacher's "Wijzigen": the pupil's home addresses become `addresses` (at most two;
/// empty strings are no address). New addresses are linked and mailed an activation link at
/// once; addresses no longer listed are unlinked. Every change is an audit event.
pub fn set_addresses(
    w: &World,
    staff: &User,
    pupil: &User,
    addresses: &[&str],
    now: i64,
) -> Result<Vec<ThuisAccount>, ThuisError> {
    if !may_manage(staff, pupil) {
        return Err(ThuisError::NotYourPupil);
    }
    let mut wanted = Vec::new();
    for a in addresses.iter().take(crate::model::MAX_HOME_ADDRESSES) {
        if let Some(a) = normalise_address(a)? {
            if wanted.contains(&a) {
                return Err(ThuisError::SameAddress);
            }
            wanted.push(a);
        }
    }
    let actor = format!("user:{}", staff.id);
    let current = w
        .dir
        .thuis_accounts_of_user(pupil.id)
        .map_err(|_| ThuisError::Unavailable)?;
    for old in current.iter().filter(|a| !wanted.contains(&a.email)) {
        w.dir
            .unlink_thuis_account(
                pupil.id,
                old.id,
                audit(
                    &actor,
                    AuditAction::ThuisAddressRemoved,
                    pupil,
                    now,
                    serde_json::json!({}),
                ),
            )
            .map_err(|_| ThuisError::Unavailable)?;
    }
    for email in wanted
        .iter()
        .filter(|e| !current.iter().any(|a| &a.email == *e))
    {
        let account = w
            .dir
            .link_thuis_account(
                pupil.id,
                email,
                audit(
                    &actor,
                    AuditAction::ThuisAddressAdded,
                    pupil,
                    now,
                    serde_json::json!({}),
                ),
            )
            .map_err(|_| ThuisError::Unavailable)?;
        if account.activated_at.is_none() {
            // A new address: its activation mail goes at once.
            match send_link(w, &account, LinkKind::Activation, now) {
                Ok(()) | Err(ThuisError::Throttled) => {}
                Err(e) => return Err(e),
            }
        }
    }
    w.dir
        .thuis_accounts_of_user(pupil.id)
        .map_err(|_| ThuisError::Unavailable)
}

/// Which mail a link comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Activation,
    Reset,
}

pub use crate::secrets::token_hash;

/// Mail `account` a link to set its password — at most once per 15 minutes per address.
pub fn send_link(
    w: &World,
    account: &ThuisAccount,
    kind: LinkKind,
    now: i64,
) -> Result<(), ThuisError> {
    match w.store.put_if_absent(
        &Key::Limit(Limit::HomeLinkMail(&account.email)),
        b"1",
        THROTTLE,
    ) {
        Ok(true) => {}
        Ok(false) => return Err(ThuisError::Throttled),
        Err(_) => return Err(ThuisError::Unavailable),
    }
    let token = Uuid::new_v4().to_string();
    let ttl = match kind {
        LinkKind::Activation => ACTIVATION_TTL,
        LinkKind::Reset => RESET_TTL,
    };
    w.dir
        .put_thuis_token(
            NewThuisToken {
                token_hash: &token_hash(&token),
                account: account.id,
                email: &account.email,
                expires_at: now + ttl.as_secs() as i64,
            },
            now,
        )
        .map_err(|_| ThuisError::Unavailable)?;
    let link = format!("{}/thuis/wachtwoord/{token}", w.issuer);
    let letter = match kind {
        LinkKind::Activation => Letter::HomeActivation {
            to: account.email.clone(),
            link,
        },
        LinkKind::Reset => Letter::HomeReset {
            to: account.email.clone(),
            link,
        },
    };
    w.outbox.send(&letter).map_err(|e| {
        tracing::warn!(error = %e, "home link: sending");
        ThuisError::Unavailable
    })?;
    let _ = w.dir.append_audit(AuditEvent::record(
        match kind {
            LinkKind::Activation => AuditAction::ThuisActivationSent,
            LinkKind::Reset => AuditAction::ThuisResetSent,
        },
        "system",
        now,
        None,
        Some(format!("thuis:{}", account.id)),
        serde_json::json!({}),
    ));
    Ok(())
}

/// "Wachtwoord vergeten" at home: a new link for `email` if it is a home account, at most once
/// per 15 minutes. Says nothing about whether it did: the page answers the same either way.
pub fn request_link(w: &World, email: &str, now: i64) {
    let Ok(Some(email)) = normalise_address(email) else {
        return;
    };
    let Ok(Some(account)) = w.dir.thuis_account_by_email(&email) else {
        return;
    };
    let kind = if account.activated_at.is_some() {
        LinkKind::Reset
    } else {
        LinkKind::Activation
    };
    match send_link(w, &account, kind, now) {
        Ok(()) | Err(ThuisError::Throttled) => {}
        Err(e) => tracing::warn!(error = %e, "home link"),
    }
}

/// Set a home account's password with a link; the link is used up, and the account (and so
/// every child it serves) is activated.
pub fn set_password_with_link(
    w: &World,
    token: &str,
    password: &str,
    repeat: &str,
    now: i64,
) -> Result<ThuisAccount, PasswordError> {
    if password != repeat {
        return Err(PasswordError::Mismatch);
    }
    super::password::check_home_password(w, &token_hash(token), password, now)?;
    if !well_formed(token) {
        return Err(PasswordError::InvalidLink);
    }
    let (account, email) = w
        .dir
        .take_thuis_token(&token_hash(token), now)
        .map_err(|_| PasswordError::Unavailable)?
        .ok_or(PasswordError::InvalidLink)?;
    let current = w
        .dir
        .thuis_account(account)
        .map_err(|_| PasswordError::Unavailable)?
        .ok_or(PasswordError::InvalidLink)?;
    // Tied to the address: a link sent to an address that is no longer this account's works
    // no more.
    if current.email != email {
        return Err(PasswordError::InvalidLink);
    }
    let hash = secrets::hash_password(password)?;
    let audit = AuditEvent::record(
        if current.activated_at.is_none() {
            AuditAction::ThuisActivated
        } else {
            AuditAction::ThuisPasswordSet
        },
        format!("thuis:{account}"),
        now,
        None,
        Some(format!("thuis:{account}")),
        serde_json::json!({}),
    );
    let updated = w
        .dir
        .set_thuis_password(account, &hash, audit)
        .map_err(|_| PasswordError::Unavailable)?;
    // A fresh password lifts a block.
    let _ = unblock_account(w, account);
    Ok(updated)
}

/// The answer to a home sign-in or a child's code at home.
#[derive(Debug)]
pub enum HomeOutcome<T> {
    Ok(T),
    Wrong,
    /// Blocked until this time (Unix seconds); the page says so.
    Blocked {
        until: i64,
    },
    /// Too many attempts from this client: refused before any password is checked.
    Throttled,
    /// Failures from this client: the form's proof-of-work challenge must be solved first.
    ChallengeRequired,
    /// Too many passwords are being checked at once: try again in a moment.
    Busy,
    Unavailable,
}

/// Is `subject` (a home account's id, or the tag of an unknown address) blocked now, and
/// until when?
pub fn blocked_until(w: &World, subject: &str) -> Result<Option<i64>, StoreError> {
    Ok(w.store
        .get(&Key::HomeBlock(subject))?
        .and_then(|v| String::from_utf8_lossy(&v).parse().ok()))
}

/// Count a wrong password or code for `subject`; the tenth blocks it for an hour.
pub fn record_failure(w: &World, subject: &str, now: i64) -> HomeOutcome<()> {
    let failures = w
        .store
        .incr(&Key::Limit(Limit::HomeFailures(subject)), BLOCK)
        .unwrap_or(0);
    if failures >= MAX_FAILURES {
        let until = now + BLOCK.as_secs() as i64;
        let _ = w.store.put(
            &Key::HomeBlock(subject),
            until.to_string().as_bytes(),
            BLOCK,
        );
        let _ = w
            .store
            .reset_count(&Key::Limit(Limit::HomeFailures(subject)), BLOCK);
        tracing::info!("home sign-in blocked after {MAX_FAILURES} failures");
        return HomeOutcome::Blocked { until };
    }
    HomeOutcome::Wrong
}

fn unblock_account(w: &World, account: Uuid) -> Result<(), StoreError> {
    let subject = account.to_string();
    w.store.delete(&Key::HomeBlock(&subject))?;
    w.store
        .reset_count(&Key::Limit(Limit::HomeFailures(&subject)), BLOCK)
}

/// The teacher lifts the block of a pupil's home accounts.
pub fn unblock(w: &World, staff: &User, pupil: &User, now: i64) -> Result<(), ThuisError> {
    if !may_manage(staff, pupil) {
        return Err(ThuisError::NotYourPupil);
    }
    let accounts = w
        .dir
        .thuis_accounts_of_user(pupil.id)
        .map_err(|_| ThuisError::Unavailable)?;
    for a in &accounts {
        unblock_account(w, a.id).map_err(|_| ThuisError::Unavailable)?;
    }
    // On devices remembered by a home login code, the child's own failures count.
    unblock_account(w, pupil.id).map_err(|_| ThuisError::Unavailable)?;
    let _ = w.dir.append_audit(audit(
        &format!("user:{}", staff.id),
        AuditAction::ThuisUnblocked,
        pupil,
        now,
        serde_json::json!({}),
    ));
    Ok(())
}

/// The window in which a client's attempts and failures at the home entrance are counted.
pub const CLIENT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Sign-in attempts from one client per [`CLIENT_WINDOW`]; more are refused before any
/// password is checked.
pub const MAX_ATTEMPTS_PER_CLIENT: u64 = 30;

/// Does a home sign-in from `client` need the proof-of-work challenge?
pub fn challenge_needed(w: &World, client: Option<&str>) -> bool {
    w.store
        .count(
            &Key::Limit(Limit::HomeFailuresFromClient(client.unwrap_or("unknown"))),
            CLIENT_WINDOW,
        )
        .is_ok_and(|n| n >= challenge::AFTER_FAILURES)
}

/// What the block of an address is counted on: the home account's id, or for an address
/// Leerpoort does not know a keyed tag of it (so the store never holds the address itself).
fn subject_of(
    w: &World,
    pins: &PinHasher,
    email: &str,
) -> Result<(String, Option<ThuisAccount>), ()> {
    let normalised = normalise_address(email)
        .ok()
        .flatten()
        .unwrap_or_else(|| email.trim().to_lowercase());
    let account = w.dir.thuis_account_by_email(&normalised).map_err(|_| ())?;
    Ok(match account {
        Some(a) => (a.id.to_string(), Some(a)),
        None => (
            format!("addr:{}", pins.tag("thuis-address", &normalised)),
            None,
        ),
    })
}

/// A parent signs in at the home entrance from `client` (the client address as
/// the server resolved it), with `challenge` the solved proof-of-work
/// challenge when the form carried one.
///
/// An unknown address and a known one with a wrong password get the same answers at the same
/// points (both are counted, and the tenth failure blocks either for an hour), and take the
/// same time. Before any password is checked: the client's attempts are counted and limited
/// ([`MAX_ATTEMPTS_PER_CLIENT`]), after [`challenge::AFTER_FAILURES`] failures from the
/// client the challenge is required, and a blocked address is refused. The check itself waits
/// for its turn at [`secrets::argon2_gate`].
pub fn sign_in(
    w: &World,
    keys: Keys<'_>,
    email: &str,
    password: &str,
    client: Option<&str>,
    challenge: Option<&str>,
    now: i64,
) -> HomeOutcome<ThuisAccount> {
    let client = client.unwrap_or("unknown");
    let failures_from_client = match w.store.count(
        &Key::Limit(Limit::HomeFailuresFromClient(client)),
        CLIENT_WINDOW,
    ) {
        Ok(n) => n,
        Err(_) => return HomeOutcome::Unavailable,
    };
    if failures_from_client >= challenge::AFTER_FAILURES {
        let solved = challenge.is_some_and(|c| {
            keys.challenges
                .verify(w.store, c, Purpose::HomeLogin, client, now)
        });
        if !solved {
            return HomeOutcome::ChallengeRequired;
        }
    }
    match w.store.incr(
        &Key::Limit(Limit::HomeAttemptsFromClient(client)),
        CLIENT_WINDOW,
    ) {
        Ok(n) if n > MAX_ATTEMPTS_PER_CLIENT => return HomeOutcome::Throttled,
        Ok(_) => {}
        Err(_) => return HomeOutcome::Unavailable,
    }
    let Ok((subject, account)) = subject_of(w, keys.pins, email) else {
        return HomeOutcome::Unavailable;
    };
    match blocked_until(w, &subject) {
        Ok(Some(until)) => return HomeOutcome::Blocked { until },
        Ok(None) => {}
        Err(_) => return HomeOutcome::Unavailable,
    }
    // An unknown address, or one without a password yet, costs the same dummy check.
    let stored = account.as_ref().and_then(|a| a.password_hash.as_deref());
    let ok = match secrets::check_password(stored, password) {
        Ok(ok) => ok,
        Err(secrets::SecretError::Busy) => return HomeOutcome::Busy,
        Err(_) => return HomeOutcome::Unavailable,
    };
    match account {
        Some(account) if ok => {
            let _ = w
                .store
                .reset_count(&Key::Limit(Limit::HomeFailures(&subject)), BLOCK);
            HomeOutcome::Ok(account)
        }
        _ => {
            let _ = w.store.incr(
                &Key::Limit(Limit::HomeFailuresFromClient(client)),
                CLIENT_WINDOW,
            );
            match record_failure(w, &subject, now) {
                HomeOutcome::Blocked { until } => HomeOutcome::Blocked { until },
                _ => HomeOutcome::Wrong,
            }
        }
    }
}

/// Does a link still work (without using it)?
pub fn link_valid(w: &World, token: &str, now: i64) -> bool {
    well_formed(token) && matches!(w.dir.thuis_token(&token_hash(token), now), Ok(Some(_)))
}

/// A parent's visit to the home entrance: signed in with the home account, choosing a child.
/// It lives in the ephemeral store behind its own cookie for [`VISIT_TTL`], and ends when the
/// child has signed in. On a device remembered by home login codes there is no parent
/// sign-in: [`HomeVisit::on_device`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct HomeVisit {
    /// Whose failures count towards a block: the home account, or on a code device the child.
    pub account: Uuid,
    /// The children the account serves.
    pub pupils: Vec<Uuid>,
    pub expires_at: i64,
}

impl HomeVisit {
    /// Child `child` on a device that remembers `children` (see [`current_children`]).
    pub fn on_device(children: Vec<Uuid>, child: Uuid, expires_at: i64) -> Self {
        Self {
            account: child,
            pupils: children,
            expires_at,
        }
    }
}

/// How long a parent has to pick a child and let it type its code.
pub const VISIT_TTL: Duration = Duration::from_secs(30 * 60);

/// Start a visit for `account`; its id (the cookie's value).
pub fn start_visit(w: &World, account: &ThuisAccount, now: i64) -> Result<String, StoreError> {
    let id = secrets::random_token().map_err(|_| StoreError::Corrupt)?;
    let visit = HomeVisit {
        account: account.id,
        pupils: account.pupils.clone(),
        expires_at: now + VISIT_TTL.as_secs() as i64,
    };
    let bytes = serde_json::to_vec(&visit).map_err(|_| StoreError::Corrupt)?;
    w.store.put(&Key::HomeVisit(&id), &bytes, VISIT_TTL)?;
    Ok(id)
}

/// The live visit `id`.
pub fn load_visit(w: &World, id: &str, now: i64) -> Option<HomeVisit> {
    let bytes = w.store.get(&Key::HomeVisit(id)).ok()??;
    let v: HomeVisit = serde_json::from_slice(&bytes).ok()?;
    (v.expires_at > now).then_some(v)
}

/// End visit `id`.
pub fn end_visit(w: &World, id: &str) {
    let _ = w.store.delete(&Key::HomeVisit(id));
}

/// A child of the visit signs in with its own school PIN or picture password. A wrong one
/// counts towards the home account's block (not towards the child's lock at school, so a
/// sibling at home cannot lock a child out of school). On success the visit ends and an SSO
/// session starts with `login_context` `thuis`.
#[allow(clippy::too_many_arguments)]
pub fn child_sign_in(
    w: &World,
    pins: &PinHasher,
    visit_id: &str,
    visit: &HomeVisit,
    child: &User,
    secret: PupilSecret<'_>,
    ip: Option<&str>,
    previous_sid: Option<&str>,
    now: i64,
) -> HomeOutcome<SsoSession> {
    if !visit.pupils.contains(&child.id) || !child.is_pupil() {
        return HomeOutcome::Wrong;
    }
    let subject = visit.account.to_string();
    match blocked_until(w, &subject) {
        Ok(Some(until)) => return HomeOutcome::Blocked { until },
        Ok(None) => {}
        Err(_) => return HomeOutcome::Unavailable,
    }
    if !secret.matches(child, pins) {
        return match record_failure(w, &subject, now) {
            HomeOutcome::Blocked { until } => HomeOutcome::Blocked { until },
            _ => HomeOutcome::Wrong,
        };
    }
    let _ = w
        .store
        .reset_count(&Key::Limit(Limit::HomeFailures(&subject)), BLOCK);
    let who = Authenticated {
        user_id: child.id,
        school: child.school,
        amr: vec!["pwd".into(), secret.amr().into()],
        acr: ACR_PUPIL.into(),
        context: claims::LoginContext::Thuis,
        ip: ip.map(str::to_string),
    };
    match session::start(w.store, who, now, previous_sid) {
        Ok(s) => {
            end_visit(w, visit_id);
            HomeOutcome::Ok(s)
        }
        Err(_) => HomeOutcome::Unavailable,
    }
}

/// The letters of home login codes: no 0/O, 1/I/L.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Letters in a home login code: 31¹² ≈ 8 · 10¹⁷ codes.
pub const CODE_LEN: usize = 12;

/// A code as typed: letters and digits only, upper-case (dashes and spaces ignored).
pub fn normalise_code(raw: &str) -> String {
    raw.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A code as printed: `ABCD-EFGH-JKMN`.
pub fn format_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

fn code_hash(code: &str) -> String {
    token_hash(&format!("leerpoort-thuiscode-v1:{code}"))
}

/// A new random home login code (unformatted).
pub fn new_code() -> Result<String, secrets::SecretError> {
    let mut out = String::with_capacity(CODE_LEN);
    while out.len() < CODE_LEN {
        for b in secrets::random_bytes::<16>()? {
            // Rejection sampling: no letter more likely than another.
            if (b as usize) < 256 - 256 % CODE_ALPHABET.len() && out.len() < CODE_LEN {
                out.push(CODE_ALPHABET[b as usize % CODE_ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// Pupil `pupil`'s home login code for the letter `staff` prints: the one it has, or a new one
/// when it has none or `renew` asks for it (which makes the old one useless).
pub fn code_for(
    w: &World,
    sealer: &Sealer,
    staff: &User,
    pupil: &User,
    renew: bool,
    now: i64,
) -> Result<String, ThuisError> {
    if !may_manage(staff, pupil) {
        return Err(ThuisError::NotYourPupil);
    }
    if !renew {
        let sealed = w
            .dir
            .thuis_code_sealed(pupil.id)
            .map_err(|_| ThuisError::Unavailable)?;
        if let Some(code) = sealed.and_then(|s| sealer.open(pupil.id, &s)) {
            return Ok(format_code(&code));
        }
    }
    let code = new_code().map_err(|_| ThuisError::Unavailable)?;
    let sealed = sealer
        .seal(pupil.id, &code)
        .map_err(|_| ThuisError::Unavailable)?;
    w.dir
        .put_thuis_code(
            NewThuisCode {
                user: pupil.id,
                code_hash: &code_hash(&code),
                sealed: &sealed,
            },
            now,
            audit(
                &format!("user:{}", staff.id),
                AuditAction::ThuisCodeMade,
                pupil,
                now,
                serde_json::json!({"renewed": renew}),
            ),
        )
        .map_err(|_| ThuisError::Unavailable)?;
    Ok(format_code(&code))
}

/// The tag of a code that a device remembers with the child.
pub fn code_tag(code: &str) -> String {
    code_hash(&normalise_code(code))[..16].to_string()
}

/// The children a home device remembers (each with the [`code_tag`] of the code entered for
/// it) whose code is still the current one.
pub fn current_children<'a>(
    w: &World,
    sealer: &Sealer,
    remembered: impl IntoIterator<Item = (Uuid, &'a str)>,
) -> Vec<Uuid> {
    remembered
        .into_iter()
        .filter(|(id, tag)| {
            w.dir
                .thuis_code_sealed(*id)
                .ok()
                .flatten()
                .and_then(|s| sealer.open(*id, &s))
                .is_some_and(|code| {
                    bool::from(subtle::ConstantTimeEq::ct_eq(
                        code_tag(&code).as_bytes(),
                        tag.as_bytes(),
                    ))
                })
        })
        .map(|(id, _)| id)
        .collect()
}

/// A family enters a home login code on a device (`device`: a hash identifying the browser).
/// Ten wrong codes from one device block it for an hour.
pub fn redeem_code(w: &World, raw: &str, device: &str, now: i64) -> HomeOutcome<User> {
    match w.store.get(&Key::HomeCodeBlock(device)) {
        Ok(Some(v)) => {
            return HomeOutcome::Blocked {
                until: String::from_utf8_lossy(&v).parse().unwrap_or(now),
            }
        }
        Ok(None) => {}
        Err(_) => return HomeOutcome::Unavailable,
    }
    let code = normalise_code(raw);
    let found = if code.len() == CODE_LEN {
        w.dir.thuis_code_user(&code_hash(&code)).ok().flatten()
    } else {
        None
    };
    let child = found
        .and_then(|id| w.dir.user(id).ok().flatten())
        .filter(|u| u.is_pupil() && u.status == crate::model::UserStatus::Active);
    match child {
        Some(c) => HomeOutcome::Ok(c),
        None => {
            let key = Key::Limit(Limit::HomeCodeFailures(device));
            let failures = w.store.incr(&key, BLOCK).unwrap_or(0);
            if failures >= MAX_FAILURES {
                let until = now + BLOCK.as_secs() as i64;
                let _ = w.store.put(
                    &Key::HomeCodeBlock(device),
                    until.to_string().as_bytes(),
                    BLOCK,
                );
                let _ = w.store.reset_count(&key, BLOCK);
                return HomeOutcome::Blocked { until };
            }
            HomeOutcome::Wrong
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        assert_eq!(
            normalise_address("  Ouder@Voorbeeld.NL "),
            Ok(Some("ouder@voorbeeld.nl".into()))
        );
        assert_eq!(normalise_address(""), Ok(None));
        assert!(matches!(
            normalise_address("geen-adres"),
            Err(ThuisError::InvalidAddress(_))
        ));
    }
}
