//! A second factor for ICT coordinators (they can show every pupil's PIN): time-based
//! one-time passwords after RFC 6238, as every authenticator app reads them — 6 digits, a
//! 30-second step, HMAC-SHA-1, a 160-bit secret. A code is accepted one step early or late
//! (clock drift), and each step works once: the last step accepted is kept in the database
//! and only a later one is accepted after it (atomically, so also across nodes).
//!
//! The secret is sealed at rest like pupils' PINs ([`crate::secrets::Sealer`], the user's id
//! as associated data). A school may require the second factor of its coordinators
//! (`leerpoort school set --require-totp`); the operator may require it of all of them
//! (`LEERPOORT_REQUIRE_TOTP_FOR_COORDINATORS`).

use crate::audit::AuditAction;
use crate::model::{AuditEvent, User};
use crate::ports::World;
use crate::repo::{NewStaffTotp, RepoError};
use claims::{InstellingRef, Role};
use ring::hmac;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::secrets::{self, Sealer, SecretError};

/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Seconds per time step.
pub const STEP_SECS: i64 = 30;
/// Length of a new secret (RFC 4226 recommends 160 bits).
pub const SECRET_BYTES: usize = 20;

/// What is sealed: a version tag and the secret in base32, so a sealed second factor can
/// never pass for a sealed PIN.
const SEALED_TAG: &str = "totp:v1:";

/// HOTP (RFC 4226): the code for `counter` with `key`, `digits` long, zero-padded.
pub fn hotp(alg: hmac::Algorithm, key: &[u8], counter: u64, digits: u32) -> String {
    let tag = hmac::sign(&hmac::Key::new(alg, key), &counter.to_be_bytes());
    let mac = tag.as_ref();
    // Dynamic truncation: the low nibble of the last byte picks four bytes.
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let Some(&[a, b, c, d]) = mac
        .get(offset..offset + 4)
        .and_then(|s| s.first_chunk::<4>())
    else {
        return String::new();
    };
    let value = u32::from_be_bytes([a & 0x7f, b, c, d]);
    let modulus = 10u32.saturating_pow(digits);
    format!("{:0width$}", value % modulus, width = digits as usize)
}

/// The time step `now` falls in.
pub fn step_of(now: i64) -> i64 {
    now.div_euclid(STEP_SECS)
}

/// The code of time step `step` (SHA-1, 6 digits).
pub fn code_of_step(key: &[u8], step: i64) -> String {
    hotp(
        hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        key,
        u64::try_from(step).unwrap_or(0),
        DIGITS,
    )
}

/// The code an authenticator app shows at `now`.
pub fn code_at(key: &[u8], now: i64) -> String {
    code_of_step(key, step_of(now))
}

/// The time step (now, one before or one after) whose code `code` is, compared in constant
/// time; `None` if none.
pub fn matching_step(key: &[u8], code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(now);
    let mut found = None;
    for step in [now - 1, now, now + 1] {
        if step >= 0 && bool::from(code_of_step(key, step).as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 (RFC 4648) without padding, as authenticator apps expect the secret.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Read base32 (any case, spaces and padding ignored); `None` on another character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let c = c.to_ascii_uppercase();
        let v = BASE32.iter().position(|&b| char::from(b) == c)?;
        buffer = (buffer << 5) | v as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The secret in groups of four, easier to type over.
pub fn grouped(secret_b32: &str) -> String {
    secret_b32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `otpauth://` URI an authenticator app scans (Key Uri Format).
pub fn otpauth_uri(secret_b32: &str, account: &str, issuer: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let label = format!("{}:{}", enc(issuer), enc(account)).replace('+', "%20");
    format!(
        "otpauth://totp/{label}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer).replace('+', "%20")
    )
}

/// A new random secret, base32.
pub fn new_secret() -> Result<String, SecretError> {
    Ok(base32_encode(&secrets::random_bytes::<SECRET_BYTES>()?))
}

/// Seal a base32 secret for `user`.
pub fn seal(sealer: &Sealer, user: Uuid, secret_b32: &str) -> Result<String, SecretError> {
    sealer.seal(user, &format!("{SEALED_TAG}{secret_b32}"))
}

/// Open what [`seal`] sealed for `user`: the secret's bytes.
pub fn open(sealer: &Sealer, user: Uuid, sealed: &str) -> Option<Vec<u8>> {
    let plain = sealer.open(user, sealed)?;
    base32_decode(plain.strip_prefix(SEALED_TAG)?)
}

/// Is the user an ICT coordinator?
pub fn is_coordinator(user: &User) -> bool {
    user.roles.contains(&Role::IctCoordinator)
}

/// The setting that says a school requires the second factor of its coordinators.
pub fn school_setting_key(school: &InstellingRef) -> String {
    format!("school:{school}:require-totp")
}

/// Does the school require the second factor of its coordinators?
pub fn school_requires(w: &World, school: &InstellingRef) -> Result<bool, RepoError> {
    Ok(w.dir.setting(&school_setting_key(school))?.as_deref() == Some("true"))
}

/// Must this user sign in with a second factor (enrolling first when they have none)?
/// `all_coordinators`: the operator requires it of every coordinator.
pub fn required_for(w: &World, all_coordinators: bool, user: &User) -> Result<bool, RepoError> {
    if !is_coordinator(user) {
        return Ok(false);
    }
    Ok(all_coordinators || school_requires(w, &user.school)?)
}

/// Require (or stop requiring) the second factor of a school's coordinators.
pub fn set_school_requirement(
    w: &World,
    school: &InstellingRef,
    required: bool,
    actor: &str,
    now: i64,
) -> Result<(), RepoError> {
    let audit = AuditEvent::record(
        AuditAction::SchoolRequireTotp,
        actor,
        now,
        Some(*school),
        Some(school.to_string()),
        serde_json::json!({ "required": required }),
    );
    w.dir.put_setting(
        &school_setting_key(school),
        required.then_some("true"),
        audit,
    )
}

/// Has the user enrolled a second factor?
pub fn enrolled(w: &World, user: Uuid) -> Result<bool, RepoError> {
    Ok(w.dir.staff_totp(user)?.is_some())
}

/// The result of checking a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    /// Wrong, out of time, or used already.
    Refused,
    Unavailable,
}

/// Check an enrolled user's code; an accepted step can never be used again.
pub fn verify(w: &World, sealer: &Sealer, user: Uuid, code: &str, now: i64) -> CodeCheck {
    let (sealed, _) = match w.dir.staff_totp(user) {
        Ok(Some(t)) => t,
        Ok(None) => return CodeCheck::Refused,
        Err(_) => return CodeCheck::Unavailable,
    };
    let Some(key) = open(sealer, user, &sealed) else {
        tracing::error!("second factor: a sealed secret does not open");
        return CodeCheck::Unavailable;
    };
    let Some(step) = matching_step(&key, code, now) else {
        return CodeCheck::Refused;
    };
    match w.dir.use_totp_step(user, step) {
        Ok(true) => CodeCheck::Accepted,
        Ok(false) => CodeCheck::Refused,
        Err(_) => CodeCheck::Unavailable,
    }
}

/// Enrol `user` with `secret_b32` once they typed a code from it; the step of that code
/// counts as used.
pub fn confirm_enrolment(
    w: &World,
    sealer: &Sealer,
    user: &User,
    secret_b32: &str,
    code: &str,
    now: i64,
) -> CodeCheck {
    let Some(key) = base32_decode(secret_b32) else {
        return CodeCheck::Unavailable;
    };
    let Some(step) = matching_step(&key, code, now) else {
        return CodeCheck::Refused;
    };
    let Ok(sealed) = seal(sealer, user.id, secret_b32) else {
        return CodeCheck::Unavailable;
    };
    let audit = AuditEvent::record(
        AuditAction::UserTotpEnrolled,
        format!("user:{}", user.id),
        now,
        Some(user.school),
        Some(user.id.to_string()),
        serde_json::json!({}),
    );
    let totp = NewStaffTotp {
        user: user.id,
        sealed: &sealed,
        step,
    };
    match w.dir.put_staff_totp(totp, now, audit) {
        Ok(()) => CodeCheck::Accepted,
        Err(_) => CodeCheck::Unavailable,
    }
}

/// Remove a user's second factor (the operator's reset, for a lost phone); `false` if they had
/// none. With a requirement in force they enrol again at their next sign-in.
pub fn reset(w: &World, user: &User, actor: &str, now: i64) -> Result<bool, RepoError> {
    let audit = AuditEvent::record(
        AuditAction::UserTotpReset,
        actor,
        now,
        Some(user.school),
        Some(user.id.to_string()),
        serde_json::json!({}),
    );
    w.dir.remove_staff_totp(user.id, audit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// RFC 6238, appendix B: the seeds for SHA-1, SHA-256 and SHA-512, 8 digits.
    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    #[test]
    fn rfc6238_test_vectors() {
        let vectors: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in vectors {
            let t = u64::try_from(step_of(time)).unwrap();
            assert_eq!(
                hotp(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, SEED_SHA1, t, 8),
                sha1,
                "SHA-1 at {time}"
            );
            assert_eq!(hotp(hmac::HMAC_SHA256, SEED_SHA256, t, 8), sha256);
            assert_eq!(hotp(hmac::HMAC_SHA512, SEED_SHA512, t, 8), sha512);
        }
        // Six digits are the last six of the eight.
        assert_eq!(code_at(SEED_SHA1, 59), "287082");
        assert_eq!(code_at(SEED_SHA1, 1111111109), "081804");
    }

    #[test]
    fn rfc4226_hotp_values() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (i, e) in expected.iter().enumerate() {
            assert_eq!(
                hotp(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, SEED_SHA1, i as u64, 6),
                *e
            );
        }
    }

    #[test]
    fn one_step_of_drift_either_way() {
        let now = 1_800_000_015;
        let step = step_of(now);
        assert_eq!(
            matching_step(SEED_SHA1, &code_at(SEED_SHA1, now), now),
            Some(step)
        );
        let before = code_of_step(SEED_SHA1, step - 1);
        let after = code_of_step(SEED_SHA1, step + 1);
        assert_eq!(matching_step(SEED_SHA1, &before, now), Some(step - 1));
        assert_eq!(matching_step(SEED_SHA1, &after, now), Some(step + 1));
        let old = code_of_step(SEED_SHA1, step - 2);
        assert_eq!(matching_step(SEED_SHA1, &old, now), None);
        // Spaces are forgiven, other characters are not.
        let c = code_at(SEED_SHA1, now);
        let spaced = format!("{} {}", &c[..3], &c[3..]);
        assert_eq!(matching_step(SEED_SHA1, &spaced, now), Some(step));
        assert_eq!(matching_step(SEED_SHA1, "12345a", now), None);
        assert_eq!(matching_step(SEED_SHA1, "", now), None);
    }

    #[test]
    fn base32_round_trips() {
        // RFC 4648's test vectors.
        for (plain, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap(), plain.as_bytes());
        }
        let s = new_secret().unwrap();
        assert_eq!(s.len(), 32);
        assert_eq!(
            base32_decode(&grouped(&s).to_lowercase()).unwrap().len(),
            20
        );
        assert_eq!(base32_decode("MZ1W"), None);
    }

    #[test]
    fn the_uri_names_issuer_and_account() {
        let u = otpauth_uri("MZXW6YTB", "anna@school.example", "Leerpoort");
        assert_eq!(
            u,
            "otpauth://totp/Leerpoort:anna%40school.example?secret=MZXW6YTB&issuer=Leerpoort&algorithm=SHA1&digits=6&period=30"
        );
    }
}
