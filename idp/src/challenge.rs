//! A self-hosted proof-of-work challenge (after the ALTCHA scheme) instead of a third-party
//! CAPTCHA: nothing of a child's or teacher's traffic goes to anyone else.
//!
//! After a few failed sign-ins from one address, the form carries a challenge: the server picks
//! a random number `n` below `max` and publishes `salt` and `SHA-256(salt ‖ n)`, signed with an
//! HMAC. The browser (a small script, `/static/challenge.js`) tries numbers until the hash
//! matches — a fraction of a second for a person, real cost for a password-guessing script —
//! and sends the number back. The server checks the signature, the hash and the expiry (part of
//! the salt), and accepts each solution once.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use broker::store::EphemeralStore;
use ring::hmac;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// Failed sign-ins from one address (in the sign-in window) before the challenge is required.
pub const AFTER_FAILURES: u64 = 3;
/// The search space: about 50,000 SHA-256 hashes on average in a browser.
pub const MAX_NUMBER: u64 = 100_000;
/// How long a challenge may be solved.
pub const CHALLENGE_SECS: i64 = 600;

/// A challenge as the form carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Challenge {
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

impl Challenges {
    pub fn new(secret: &[u8]) -> Self {
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, secret),
            b"leerpoort-challenge-v1",
        );
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    fn sign(&self, challenge: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, challenge.as_bytes()).as_ref())
    }

    /// A new challenge, valid for [`CHALLENGE_SECS`].
    pub fn issue(&self, now: i64, max: u64) -> Option<Challenge> {
        let random = crate::secrets::random_bytes::<12>().ok()?;
        let salt = format!("{}.{}", hex::encode(random), now + CHALLENGE_SECS);
        let n = u64::from_be_bytes(crate::secrets::random_bytes::<8>().ok()?) % (max + 1);
        let challenge = sha256_hex(&format!("{salt}{n}"));
        let signature = self.sign(&challenge);
        Some(Challenge {
            salt,
            challenge,
            max,
            signature,
        })
    }

    /// The form value a solver sends: `salt:challenge:signature:number`.
    pub fn verify(&self, store: &dyn EphemeralStore, solution: &str, now: i64) -> bool {
        let mut parts = solution.splitn(4, ':');
        let (Some(salt), Some(challenge), Some(signature), Some(number)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(number) = number.parse::<u64>() else {
            return false;
        };
        if !bool::from(self.sign(challenge).as_bytes().ct_eq(signature.as_bytes())) {
            return false;
        }
        let expires = salt
            .rsplit('.')
            .next()
            .and_then(|e| e.parse::<i64>().ok())
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
            store.put_if_absent(&format!("challenge:{challenge}"), b"1", ttl),
            Ok(true)
        )
    }
}

/// Solve a challenge by brute force (what the browser script does; used in tests).
pub fn solve(c: &Challenge) -> Option<String> {
    (0..=c.max)
        .find(|n| sha256_hex(&format!("{}{n}", c.salt)) == c.challenge)
        .map(|n| format!("{}:{}:{}:{n}", c.salt, c.challenge, c.signature))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;

    #[test]
    fn solutions_verify_once_and_forgeries_do_not() {
        let clock = Arc::new(broker::clock::FixedClock::at_secs(1_000));
        let store = crate::store::MemoryStore::new(clock);
        let c = Challenges::new(b"secret-secret-secret-secret-secret");
        let ch = c.issue(1_000, 2_000).unwrap();
        let sol = solve(&ch).unwrap();
        assert!(c.verify(&store, &sol, 1_000));
        assert!(!c.verify(&store, &sol, 1_000), "only once");
        let ch2 = c.issue(1_000, 2_000).unwrap();
        let sol2 = solve(&ch2).unwrap();
        assert!(!c.verify(&store, &sol2, 1_000 + CHALLENGE_SECS), "expired");
        let other = Challenges::new(b"another-another-another-another-xx");
        let ch3 = other.issue(1_000, 2_000).unwrap();
        assert!(
            !c.verify(&store, &solve(&ch3).unwrap(), 1_000),
            "signed by another key"
        );
        let wrong = format!("{}:{}:{}:{}", ch2.salt, ch2.challenge, ch2.signature, 2_001);
        assert!(!c.verify(&store, &wrong, 1_000));
        assert!(!c.verify(&store, "garbage", 1_000));
    }
}
