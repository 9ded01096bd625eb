//! A self-hosted proof-of-work challenge (after the ALTCHA scheme) instead of a third-party
//! CAPTCHA: nothing of a child's or teacher's traffic goes to anyone else.
//!
//! After a few failed sign-ins from one address, the form carries a challenge: the server picks
//! a random number `n` below `max` and publishes `salt` and `SHA-256(salt ‖ n)`, signed with an
//! HMAC. The browser (a small script, `/static/challenge.js`) tries numbers until the hash
//! matches — about a second for a person, the same per attempt for a password-guessing script —
//! and sends the number back. The server checks the signature, the hash and the expiry, and
//! accepts each solution once.
//!
//! The signature covers a length-prefixed, versioned encoding of every field: the salt (random
//! part and expiry), the hash, the [`Purpose`] (which form) and the client address as Leerpoort
//! sees it. Digits cannot move between fields, and a solution is refused for another form or
//! from another address.

use crate::keyspace::Key;
use std::time::Duration;

use crate::store::EphemeralStore;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// Failed sign-ins from one address (in the sign-in window) before the challenge is required.
pub const AFTER_FAILURES: u64 = 3;
/// The search space: the solver tries on average half of it, a million SHA-256 hashes. Chosen
/// from a measurement (`docs/security.md`, "Proof-of-work challenge"): `/static/challenge.js`
/// does about 2 million hashes per CPU-second in V8 (Chromium's engine), so on average about
/// 0.5 s on a fast core and 1.5 s on a school laptop three times slower; Python's `hashlib`
/// pays about the same, a native SHA-256 loop about a tenth, for every single attempt.
pub const MAX_NUMBER: u64 = 2_000_000;
/// How long a challenge may be solved.
pub const CHALLENGE_SECS: i64 = 600;

/// Which form a challenge is for: a solution for one form is refused on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The staff sign-in (`/login`).
    StaffLogin,
    /// The parent's sign-in at the home entrance (`/thuis`).
    HomeLogin,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::StaffLogin => "staff-login",
            Purpose::HomeLogin => "home-login",
        }
    }
}

/// A challenge as the form carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Challenge {
    /// `<random hex>.<expiry, Unix seconds>`: what the solver hashes the number after.
    pub salt: String,
    pub challenge: String,
    pub max: u64,
    pub signature: String,
}

/// Issues and checks challenges.
pub struct Challenges {
    key: hmac::Key,
}

impl std::fmt::Debug for Challenges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Challenges(<hidden>)")
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, s.as_bytes()))
}

/// The version of the signed encoding.
const SIGNED_VERSION: &[u8] = b"leerpoort-challenge-v2";

impl Challenges {
    /// With the key `crate::keys::KeyStore::derive` gives for this purpose.
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// The signature over every field, each prefixed by its length.
    fn sign(&self, salt: &str, challenge: &str, purpose: Purpose, client: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        for field in [
            SIGNED_VERSION,
            salt.as_bytes(),
            challenge.as_bytes(),
            purpose.as_str().as_bytes(),
            client.as_bytes(),
        ] {
            ctx.update(&(field.len() as u64).to_be_bytes());
            ctx.update(field);
        }
        URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
    }

    /// A new challenge for `purpose`, to be solved by `client` (the client address as
    /// the server resolved it, `unknown` without one), valid for
    /// [`CHALLENGE_SECS`].
    pub fn issue(&self, now: i64, max: u64, purpose: Purpose, client: &str) -> Option<Challenge> {
        let random = crate::secrets::random_bytes::<12>().ok()?;
        let salt = format!("{}.{}", hex::encode(random), now + CHALLENGE_SECS);
        let n = u64::from_be_bytes(crate::secrets::random_bytes::<8>().ok()?) % (max + 1);
        let challenge = sha256_hex(&format!("{salt}{n}"));
        let signature = self.sign(&salt, &challenge, purpose, client);
        Some(Challenge {
            salt,
            challenge,
            max,
            signature,
        })
    }

    /// Check the form value a solver sends (`salt:challenge:signature:number`) for `purpose`
    /// from `client`.
    pub fn verify(
        &self,
        store: &dyn EphemeralStore,
        solution: &str,
        purpose: Purpose,
        client: &str,
        now: i64,
    ) -> bool {
        let mut parts = solution.splitn(4, ':');
        let (Some(salt), Some(challenge), Some(signature), Some(number)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let expected = self.sign(salt, challenge, purpose, client);
        if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            return false;
        }
        let expires = salt
            .rsplit_once('.')
            .and_then(|(_, e)| e.parse::<i64>().ok())
            .unwrap_or(0);
        if expires <= now {
            return false;
        }
        if sha256_hex(&format!("{salt}{number}")) != challenge {
            return false;
        }
        // Each solution once.
        let ttl = Duration::from_secs((expires - now).max(1) as u64);
        matches!(
            store.put_if_absent(&Key::Challenge(challenge), b"1", ttl),
            Ok(true)
        )
    }
}

/// Solve a challenge by brute force, as the browser script does (used in tests, and to
/// measure a native solver: `leerpoort` has no other use for it).
pub fn solve(c: &Challenge) -> Option<String> {
    let target = hex::decode(&c.challenge).ok()?;
    let mut prefix = ring::digest::Context::new(&ring::digest::SHA256);
    prefix.update(c.salt.as_bytes());
    let mut digits = [0u8; 20];
    (0..=c.max)
        .find(|n| {
            let mut ctx = prefix.clone();
            ctx.update(decimal(&mut digits, *n));
            ctx.finish().as_ref() == target.as_slice()
        })
        .map(|n| format!("{}:{}:{}:{n}", c.salt, c.challenge, c.signature))
}

/// `n` in decimal, written into the end of `buf`.
fn decimal(buf: &mut [u8; 20], mut n: u64) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::FixedClock;
    use crate::store::MemoryStore;

    /// An empty store whose clock stands still.
    fn store() -> MemoryStore {
        MemoryStore::new(std::sync::Arc::new(FixedClock::at_secs(1_000)))
    }

    #[test]
    fn solutions_verify_once_and_forgeries_do_not() {
        let store = store();
        let c = Challenges::new(b"secret-secret-secret-secret-secret");
        let (p, ip) = (Purpose::StaffLogin, "192.0.2.7");
        let ch = c.issue(1_000, 2_000, p, ip).unwrap();
        let sol = solve(&ch).unwrap();
        assert!(c.verify(&store, &sol, p, ip, 1_000));
        assert!(!c.verify(&store, &sol, p, ip, 1_000), "only once");
        let ch2 = c.issue(1_000, 2_000, p, ip).unwrap();
        let sol2 = solve(&ch2).unwrap();
        assert!(
            !c.verify(&store, &sol2, p, ip, 1_000 + CHALLENGE_SECS),
            "expired"
        );
        let other = Challenges::new(b"another-another-another-another-xx");
        let ch3 = other.issue(1_000, 2_000, p, ip).unwrap();
        assert!(
            !c.verify(&store, &solve(&ch3).unwrap(), p, ip, 1_000),
            "signed by another key"
        );
        let wrong = format!("{}:{}:{}:{}", ch2.salt, ch2.challenge, ch2.signature, 2_001);
        assert!(!c.verify(&store, &wrong, p, ip, 1_000));
        assert!(!c.verify(&store, "garbage", p, ip, 1_000));
    }

    #[test]
    fn digits_cannot_move_between_the_salt_and_the_number() {
        let store = store();
        let c = Challenges::new(b"secret-secret-secret-secret-secret");
        let (p, ip) = (Purpose::HomeLogin, "192.0.2.7");
        // A number of at least two digits, so one can move into the expiry.
        let (ch, sol) = loop {
            let ch = c.issue(1_000, 2_000, p, ip).unwrap();
            let sol = solve(&ch).unwrap();
            if sol.rsplit(':').next().unwrap().len() >= 2 {
                break (ch, sol);
            }
        };
        let number = sol.rsplit(':').next().unwrap();
        // `salt ‖ number` stays the same string, so the hash still matches; only the
        // signature over the separate fields can tell. The expiry becomes ten times later.
        let moved = format!(
            "{}{}:{}:{}:{}",
            ch.salt,
            &number[..1],
            ch.challenge,
            ch.signature,
            &number[1..]
        );
        assert_eq!(
            sha256_hex(&format!("{}{}", ch.salt, number)),
            sha256_hex(&format!("{}{}{}", ch.salt, &number[..1], &number[1..]))
        );
        assert!(!c.verify(&store, &moved, p, ip, 1_000), "expiry forged");
        assert!(c.verify(&store, &sol, p, ip, 1_000));
    }

    #[test]
    fn a_solution_is_bound_to_its_client_and_its_form() {
        let store = store();
        let c = Challenges::new(b"secret-secret-secret-secret-secret");
        let ch = c
            .issue(1_000, 2_000, Purpose::HomeLogin, "192.0.2.7")
            .unwrap();
        let sol = solve(&ch).unwrap();
        assert!(!c.verify(&store, &sol, Purpose::HomeLogin, "198.51.100.9", 1_000));
        assert!(!c.verify(&store, &sol, Purpose::StaffLogin, "192.0.2.7", 1_000));
        assert!(c.verify(&store, &sol, Purpose::HomeLogin, "192.0.2.7", 1_000));
    }
}
