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
use ring::hmac;
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
    #[error("too many passwords are being checked at once; try again")]
    Busy,
}

/// argon2id's memory (KiB), passes and lanes for passwords: OWASP's first choice
/// (m = 19 MiB, t = 2, p = 1).
const ARGON2_M_KIB: u32 = 19 * 1024;
const ARGON2_T: u32 = 2;
const ARGON2_P: u32 = 1;

/// The parameters as a PHC string writes them (`m=19456,t=2,p=1`).
pub fn argon2_parameters() -> String {
    format!("m={ARGON2_M_KIB},t={ARGON2_T},p={ARGON2_P}")
}

fn argon2() -> Result<Argon2<'static>, SecretError> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .map_err(|e| SecretError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Limits how many argon2id computations run at once. Each takes 19 MiB and a core for a
/// while; without a limit, a flood of sign-in attempts takes the server's memory (60 parallel
/// attempts took it to 630 MB). A computation waits at most `wait` for its turn, then gives up
/// with [`SecretError::Busy`] instead of queueing without end.
#[derive(Debug)]
pub struct HashGate {
    permits: usize,
    wait: std::time::Duration,
    state: std::sync::Mutex<GateState>,
    freed: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    in_use: usize,
    peak: usize,
}

impl HashGate {
    /// A gate letting `permits` (at least one) computations through at once.
    pub fn new(permits: usize, wait: std::time::Duration) -> Self {
        Self {
            permits: permits.max(1),
            wait,
            state: std::sync::Mutex::new(GateState::default()),
            freed: std::sync::Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Run `work` when a permit is free; [`SecretError::Busy`] when none came free within the
    /// wait (`patient`: wait as long as it takes).
    fn run<T>(&self, patient: bool, work: impl FnOnce() -> T) -> Result<T, SecretError> {
        let deadline = std::time::Instant::now() + self.wait;
        let mut state = self.lock();
        while state.in_use >= self.permits {
            if patient {
                state = self
                    .freed
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(SecretError::Busy);
            }
            state = self
                .freed
                .wait_timeout(state, left)
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        state.in_use += 1;
        state.peak = state.peak.max(state.in_use);
        drop(state);
        // Released also when `work` panics.
        struct Permit<'a>(&'a HashGate);
        impl Drop for Permit<'_> {
            fn drop(&mut self) {
                self.0.lock().in_use -= 1;
                self.0.freed.notify_one();
            }
        }
        let _permit = Permit(self);
        ARGON2_RUNS.with(|c| c.set(c.get() + 1));
        Ok(work())
    }

    /// The number of computations allowed at once.
    pub fn permits(&self) -> usize {
        self.permits
    }

    /// The most computations that ever ran at once.
    pub fn peak(&self) -> usize {
        self.lock().peak
    }
}

/// How long a password check waits for its turn before the answer is "busy, try again".
pub const ARGON2_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

thread_local! {
    static ARGON2_RUNS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The server's gate for every argon2id computation: as many at once as the machine has
/// cores.
pub fn argon2_gate() -> &'static HashGate {
    static GATE: std::sync::OnceLock<HashGate> = std::sync::OnceLock::new();
    GATE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        HashGate::new(cores, ARGON2_WAIT)
    })
}

/// How many argon2id computations this thread has run (tests use it to see that a refusal
/// came before any hashing).
pub fn argon2_runs_on_this_thread() -> u64 {
    ARGON2_RUNS.with(std::cell::Cell::get)
}

/// Hash a password with argon2id (PHC string). It waits for its turn at [`argon2_gate`] as
/// long as it takes: passwords are set only with a single-use link or by the operator.
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    let salt = SaltString::generate(&mut OsRng);
    let a = argon2()?;
    argon2_gate().run(true, || {
        a.hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| SecretError::Hash(e.to_string()))
    })?
}

/// Verify a password against its stored hash, at most [`argon2_gate`]'s permits at once:
/// [`SecretError::Busy`] when no turn came within [`ARGON2_WAIT`]. `None` (no such account,
/// or no password set) still costs one full verification so timing does not reveal which
/// accounts exist.
pub fn check_password(stored: Option<&str>, password: &str) -> Result<bool, SecretError> {
    let a = argon2()?;
    argon2_gate().run(false, || {
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
    })
}

/// [`check_password`], with "busy" as a refusal.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    check_password(stored, password).unwrap_or(false)
}

/// A fixed argon2id hash with the same parameters, for the dummy verification.
fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$bGVlcnBvb3J0ZHVtbXk$2c2lR4F0m3V8c5Kk8hS3kHq9xQ1dKpJ0bV6vT1cY1sE"
}

/// What is stored of a bearer secret (a link token, an update token): its SHA-256, hex.
/// The secrets are 256-bit random, so a plain hash is enough to make a stolen table useless.
pub fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
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

    /// A keyed tag of `value` for `context`: how values that must not lie in the ephemeral
    /// store in the clear (home addresses) name their counters there.
    pub fn tag(&self, context: &str, value: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&(context.len() as u32).to_be_bytes());
        ctx.update(context.as_bytes());
        ctx.update(value.as_bytes());
        URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
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
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        secret.as_bytes(),
    ))
}

/// Constant-time check of a presented client secret against the stored SHA-256.
pub fn verify_client_secret(stored_hex: &str, presented: &str) -> bool {
    let presented = hash_client_secret(presented);
    bool::from(presented.as_bytes().ct_eq(stored_hex.as_bytes()))
}

/// `N` bytes from the system's secure random generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    crate::random::random_bytes::<N>().map_err(|_| SecretError::Random)
}

/// A random 256-bit value, base64url without padding (43 characters): client secrets,
/// session ids, codes.
pub fn random_token() -> Result<String, SecretError> {
    crate::random::random_token().map_err(|_| SecretError::Random)
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
    fn password_hashes_name_the_parameters_they_were_made_with() {
        let stored = hash_password("paarse-giraf-fietst").unwrap();
        assert!(
            stored.contains(&format!("${}$", argon2_parameters())),
            "{stored}"
        );
        assert!(dummy_hash().contains(&format!("${}$", argon2_parameters())));
        assert!(check_password(Some(&stored), "paarse-giraf-fietst").unwrap());
        assert!(!check_password(Some(&stored), "paarse-giraf-fietst!").unwrap());
    }

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
    fn the_gate_lets_no_more_than_its_permits_through_and_then_says_busy() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let gate = HashGate::new(2, std::time::Duration::from_secs(10));
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    gate.run(false, || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(30));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .unwrap();
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(gate.peak(), 2);

        // Both permits held: a third waits its short while, then hears "busy".
        let gate = HashGate::new(2, std::time::Duration::from_millis(50));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = std::sync::Mutex::new(rx);
        std::thread::scope(|s| {
            let (held_tx, held_rx) = std::sync::mpsc::channel();
            for _ in 0..2 {
                let held_tx = held_tx.clone();
                let (gate, rx) = (&gate, &rx);
                s.spawn(move || {
                    gate.run(false, || {
                        held_tx.send(()).unwrap();
                        let _ = rx.lock().unwrap().recv();
                    })
                    .unwrap();
                });
            }
            held_rx.recv().unwrap();
            held_rx.recv().unwrap();
            assert_eq!(gate.run(false, || ()), Err(SecretError::Busy));
            tx.send(()).unwrap();
            tx.send(()).unwrap();
        });
        assert_eq!(gate.run(false, || 7), Ok(7), "free again");
    }

    #[test]
    fn concurrent_password_checks_never_exceed_the_cap() {
        let stored = hash_password("Zonnebloem42").unwrap();
        let gate = argon2_gate();
        std::thread::scope(|s| {
            for i in 0..(3 * gate.permits() + 2) {
                let stored = stored.clone();
                s.spawn(move || {
                    let pw = if i % 2 == 0 { "Zonnebloem42" } else { "fout" };
                    // Busy or an answer; never more at once than the cap.
                    let _ = check_password(Some(&stored), pw);
                });
            }
        });
        assert!(
            gate.peak() <= gate.permits(),
            "{} > {}",
            gate.peak(),
            gate.permits()
        );
        assert!(gate.peak() >= 1);
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
