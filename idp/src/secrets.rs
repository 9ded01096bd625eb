//! Hashing and comparing secrets.
//!
//! | secret | how it is stored | why |
//! |---|---|---|
//! | staff and parent passwords | argon2id, m = 19 MiB, t = 2, p = 1 (OWASP) | people reuse passwords; a stolen database must not give them away |
//! | pupil PINs and picture passwords | HMAC-SHA-256 with a server-side pepper and a per-user salt | a 4-digit PIN has 10,000 values: no slow hash protects that offline (10,000 × 50 ms is ten minutes). What protects it is the pepper, which lives in `keys/` and not in the database, plus rate limits and the school-network rule. A fast hash keeps a class of 30 signing in at the same moment instant. |
//! | client secrets | SHA-256 | they are random 256-bit values: nothing to brute-force, and a slow hash would cap the token endpoint |
//!
//! Every comparison is constant-time.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac};
use subtle::ConstantTimeEq;

/// Errors of this module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("a PIN is exactly 4 digits")]
    PinFormat,
    #[error("could not hash the secret: {0}")]
    Hash(String),
    #[error("the system random generator failed")]
    Random,
}

fn argon2() -> Result<Argon2<'static>, SecretError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| SecretError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hash a password with argon2id (PHC string).
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| SecretError::Hash(e.to_string()))
}

/// Verify a password against its stored hash. `None` (no such account, or no password set)
/// still costs one full verification so timing does not reveal which accounts exist.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    let Ok(a) = argon2() else { return false };
    match stored.and_then(|s| PasswordHash::new(s).ok()) {
        Some(hash) => a.verify_password(password.as_bytes(), &hash).is_ok(),
        None => {
            let dummy = dummy_hash();
            if let Ok(hash) = PasswordHash::new(dummy) {
                let _ = a.verify_password(password.as_bytes(), &hash);
            }
            false
        }
    }
}

/// A fixed argon2id hash with the same parameters, for the dummy verification.
fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$bGVlcnBvb3J0ZHVtbXk$2c2lR4F0m3V8c5Kk8hS3kHq9xQ1dKpJ0bV6vT1cY1sE"
}

/// Is this a valid PIN (exactly four ASCII digits)?
pub fn check_pin(pin: &str) -> Result<(), SecretError> {
    if pin.len() == 4 && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(SecretError::PinFormat)
    }
}

/// Hashes pupil PINs and picture passwords with a server-side pepper (see module docs).
pub struct PinHasher {
    key: hmac::Key,
}

impl std::fmt::Debug for PinHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinHasher(<hidden>)")
    }
}

const PIN_SCHEME: &str = "pin-hmac-sha256$v1";

impl PinHasher {
    pub fn new(pepper: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, pepper),
        }
    }

    fn mac(&self, salt: &[u8], secret: &str) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&(salt.len() as u32).to_be_bytes());
        ctx.update(salt);
        ctx.update(secret.as_bytes());
        ctx.sign()
    }

    /// Hash a PIN or an encoded picture sequence.
    pub fn hash(&self, secret: &str) -> Result<String, SecretError> {
        let salt = random_bytes::<16>()?;
        let tag = self.mac(&salt, secret);
        Ok(format!(
            "{PIN_SCHEME}${}${}",
            URL_SAFE_NO_PAD.encode(salt),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        ))
    }

    /// Constant-time check of a PIN against its stored hash.
    pub fn verify(&self, stored: &str, secret: &str) -> bool {
        let Some(rest) = stored
            .strip_prefix(PIN_SCHEME)
            .and_then(|r| r.strip_prefix('$'))
        else {
            return false;
        };
        let mut parts = rest.split('$');
        let (Some(salt), Some(mac), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let (Ok(salt), Ok(mac)) = (URL_SAFE_NO_PAD.decode(salt), URL_SAFE_NO_PAD.decode(mac))
        else {
            return false;
        };
        let tag = self.mac(&salt, secret);
        bool::from(tag.as_ref().ct_eq(&mac))
    }
}

/// Seals secrets that must be read again: pupils' PINs, picture passwords and home login codes
/// (so that their teachers can show them; sign-in never uses this copy, it checks the peppered
/// hash), and the client secrets Leerpoort uses at upstream identity providers. AES-256-GCM
/// with a key from `keys/pupil-secrets.key`, a random 96-bit nonce, and the owning record's id
/// (pupil or upstream) as associated data: a sealed value copied to another row does not
/// open.
pub struct Sealer {
    key: ring::aead::LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<hidden>)")
    }
}

const SEALED_PREFIX: &str = "aes256gcm$v1$";

impl Sealer {
    /// From a 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self, SecretError> {
        let unbound = ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, key)
            .map_err(|_| SecretError::Hash("the pupil-secrets key must be 32 bytes".into()))?;
        Ok(Self {
            key: ring::aead::LessSafeKey::new(unbound),
        })
    }

    /// Seal `secret` for pupil `user`.
    pub fn seal(&self, user: uuid::Uuid, secret: &str) -> Result<String, SecretError> {
        let nonce_bytes = random_bytes::<12>()?;
        let nonce = ring::aead::Nonce::assume_unique_for_key(nonce_bytes);
        let mut buf = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(nonce, ring::aead::Aad::from(user.as_bytes()), &mut buf)
            .map_err(|_| SecretError::Hash("sealing failed".into()))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Open what [`Sealer::seal`] sealed for `user`; `None` if it was not, or was altered.
    pub fn open(&self, user: uuid::Uuid, sealed: &str) -> Option<String> {
        let raw = URL_SAFE_NO_PAD
            .decode(sealed.strip_prefix(SEALED_PREFIX)?)
            .ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, rest) = raw.split_at(12);
        let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, ring::aead::Aad::from(user.as_bytes()), &mut buf)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

/// What pupil secrets are hashed and sealed with.
#[derive(Debug, Clone, Copy)]
pub struct PupilSecrets<'a> {
    pub pins: &'a PinHasher,
    pub sealer: &'a Sealer,
}

/// SHA-256 of a client secret, as stored.
pub fn hash_client_secret(secret: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, secret.as_bytes()))
}

/// Constant-time check of a presented client secret against the stored SHA-256.
pub fn verify_client_secret(stored_hex: &str, presented: &str) -> bool {
    let presented = hash_client_secret(presented);
    bool::from(presented.as_bytes().ct_eq(stored_hex.as_bytes()))
}

/// `N` bytes from the system's secure random generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| SecretError::Random)?;
    Ok(buf)
}

/// A random 256-bit value, base64url without padding (43 characters): client secrets,
/// session ids, codes.
pub fn random_token() -> Result<String, SecretError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// A random 4-digit PIN, uniformly distributed.
pub fn random_pin() -> Result<String, SecretError> {
    loop {
        let b = random_bytes::<2>()?;
        let v = u16::from_be_bytes(b);
        // Reject the top of the range so every PIN is equally likely.
        if v < 60_000 {
            return Ok(format!("{:04}", v % 10_000));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealed_secrets_open_only_for_their_pupil() {
        let sealer = Sealer::new(&[7u8; 32]).unwrap();
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let sealed = sealer.seal(a, "1234").unwrap();
        assert!(!sealed.contains("1234"));
        assert_ne!(
            sealed,
            sealer.seal(a, "1234").unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(sealer.open(a, &sealed).as_deref(), Some("1234"));
        assert_eq!(sealer.open(b, &sealed), None, "bound to the pupil");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(sealer.open(a, &tampered), None);
        assert_eq!(sealer.open(a, "garbage"), None);
        assert!(Sealer::new(&[0u8; 16]).is_err());
        let other = Sealer::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open(a, &sealed), None, "another key");
    }

    #[test]
    fn passwords_verify_and_refuse() {
        let h = hash_password("regenboog2026").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(Some(&h), "regenboog2026"));
        assert!(!verify_password(Some(&h), "regenboog2027"));
        assert!(!verify_password(None, "regenboog2026"));
        assert!(!verify_password(Some("garbage"), "regenboog2026"));
    }

    #[test]
    fn the_dummy_hash_is_a_valid_argon2id_hash() {
        assert!(PasswordHash::new(dummy_hash()).is_ok());
    }

    #[test]
    fn pins_are_peppered_and_salted() {
        let a = PinHasher::new(b"pepper-one-pepper-one-pepper-one");
        let b = PinHasher::new(b"pepper-two-pepper-two-pepper-two");
        let h1 = a.hash("1234").unwrap();
        let h2 = a.hash("1234").unwrap();
        assert_ne!(h1, h2, "salted");
        assert!(a.verify(&h1, "1234"));
        assert!(a.verify(&h2, "1234"));
        assert!(!a.verify(&h1, "1235"));
        assert!(!b.verify(&h1, "1234"), "another pepper must not verify");
        assert!(!a.verify("pin-hmac-sha256$v1$x", "1234"));
    }

    #[test]
    fn pin_format() {
        assert!(check_pin("0042").is_ok());
        for bad in ["123", "12345", "12a4", "", "١٢٣٤"] {
            assert_eq!(check_pin(bad), Err(SecretError::PinFormat), "{bad}");
        }
        for _ in 0..50 {
            assert!(check_pin(&random_pin().unwrap()).is_ok());
        }
    }

    #[test]
    fn client_secrets_compare_by_hash() {
        let s = random_token().unwrap();
        assert_eq!(s.len(), 43);
        let stored = hash_client_secret(&s);
        assert!(verify_client_secret(&stored, &s));
        assert!(!verify_client_secret(&stored, "wrong"));
    }
}
