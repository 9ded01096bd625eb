//! Pairwise subject identifiers: every relying party (sector) sees a different, stable
//! pseudonym for the same user, so relying parties cannot link their users to each other.

use std::fmt;
use std::str::FromStr;

use ring::hmac;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::eckid::update_length_prefixed;
use crate::error::{shown, ClaimsError};

/// Version and domain-separation tag of the pairwise-subject derivation.
const SUBJECT_CONTEXT: &[u8] = b"leerpoort-sub-v1";
/// Number of hexadecimal characters in a [`PairwiseSubject`].
const SUBJECT_HEX_LEN: usize = 64;

/// The secret from which pairwise subjects are derived, held as an HMAC-SHA-256 key.
///
/// Changing it changes every subject of every user at every relying party, so it must be
/// kept (and backed up) for the lifetime of the installation. Its [`Debug`](fmt::Debug)
/// output never shows the secret.
#[derive(Clone)]
pub struct PseudonymKey(hmac::Key);

impl PseudonymKey {
    /// Minimum length of the secret in bytes (256 bits).
    pub const MIN_LEN: usize = 32;

    /// Builds the key from a secret of at least [`PseudonymKey::MIN_LEN`] bytes, which
    /// should come from a cryptographically secure random generator.
    ///
    /// # Errors
    /// [`ClaimsError::PseudonymKeyTooShort`] if `secret` is shorter than 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, ClaimsError> {
        if secret.len() < Self::MIN_LEN {
            return Err(ClaimsError::PseudonymKeyTooShort {
                len: secret.len(),
                min: Self::MIN_LEN,
            });
        }
        Ok(Self(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }
}

impl fmt::Debug for PseudonymKey {
    /// Prints `PseudonymKey(<hidden>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(<hidden>)")
    }
}

/// The sector identifier of a relying party: the unit within which a user gets the same
/// pairwise subject.
///
/// For OpenID Connect this is the host of the relying party's redirect URIs or its explicit
/// sector identifier; for SAML its entity id. Callers decide which, and must normalise it
/// (e.g. lowercase a host) before building the `Sector`: it is compared byte for byte, and a
/// different sector means different subjects for every user.
///
/// It must not be empty, nor start or end with whitespace, nor contain control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sector(String);

impl Sector {
    /// Validates and wraps a sector identifier.
    ///
    /// # Errors
    /// [`ClaimsError::EmptySector`] if it is empty or whitespace only;
    /// [`ClaimsError::SectorNotTrimmed`] if it has leading or trailing whitespace or
    /// contains control characters.
    pub fn new(sector: impl Into<String>) -> Result<Self, ClaimsError> {
        let sector = sector.into();
        if sector.trim().is_empty() {
            return Err(ClaimsError::EmptySector);
        }
        if sector.trim() != sector || sector.chars().any(char::is_control) {
            return Err(ClaimsError::SectorNotTrimmed {
                input: shown(&sector),
            });
        }
        Ok(Self(sector))
    }

    /// The sector identifier as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Sector {
    type Err = ClaimsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for Sector {
    type Error = ClaimsError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<Sector> for String {
    fn from(s: Sector) -> Self {
        s.0
    }
}

impl fmt::Display for Sector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pairwise subject identifier (`sub`): 64 lowercase hexadecimal characters, as made by
/// [`pairwise_subject`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PairwiseSubject(String);

impl PairwiseSubject {
    /// The subject as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_subject(s: &str) -> bool {
    s.len() == SUBJECT_HEX_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FromStr for PairwiseSubject {
    type Err = ClaimsError;

    /// Accepts a previously issued subject: exactly 64 characters `0-9`, `a-f`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_subject(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ClaimsError::InvalidPairwiseSubject { input: shown(s) })
        }
    }
}

impl TryFrom<String> for PairwiseSubject {
    type Error = ClaimsError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        if is_subject(&s) {
            Ok(Self(s))
        } else {
            Err(ClaimsError::InvalidPairwiseSubject { input: shown(&s) })
        }
    }
}

impl From<PairwiseSubject> for String {
    fn from(s: PairwiseSubject) -> Self {
        s.0
    }
}

impl fmt::Display for PairwiseSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The pairwise subject identifier of a user at a relying party.
///
/// It is HMAC-SHA-256 under `key` over an unambiguous encoding of the version tag
/// `leerpoort-sub-v1`, the sector and the user's 16 UUID bytes (each field preceded by its
/// length as a big-endian `u64`), written as 64 lowercase hexadecimal characters.
///
/// It is computed **only** from the sector and the user's permanent internal UUID — never
/// from the BRIN, the INSTELLING_REF, names or any other attribute — so that it survives
/// school mergers, BRIN changes, moving to another school and name changes. The same user
/// always gets the same subject at the same sector, and different subjects at different
/// sectors.
#[must_use]
pub fn pairwise_subject(key: &PseudonymKey, sector: &Sector, user_id: &Uuid) -> PairwiseSubject {
    let mut ctx = hmac::Context::with_key(&key.0);
    update_length_prefixed(&mut ctx, SUBJECT_CONTEXT);
    update_length_prefixed(&mut ctx, sector.as_str().as_bytes());
    update_length_prefixed(&mut ctx, user_id.as_bytes());
    PairwiseSubject(hex::encode(ctx.sign().as_ref()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(byte: u8) -> PseudonymKey {
        PseudonymKey::new(&[byte; 32]).unwrap()
    }

    fn sector(s: &str) -> Sector {
        Sector::new(s).unwrap()
    }

    #[test]
    fn key_length_is_enforced() {
        assert_eq!(
            PseudonymKey::new(&[7; 31]).unwrap_err(),
            ClaimsError::PseudonymKeyTooShort { len: 31, min: 32 }
        );
        assert_eq!(
            PseudonymKey::new(&[]).unwrap_err(),
            ClaimsError::PseudonymKeyTooShort { len: 0, min: 32 }
        );
        assert!(PseudonymKey::new(&[7; 32]).is_ok());
        assert!(PseudonymKey::new(&[7; 64]).is_ok());
    }

    #[test]
    fn key_debug_is_hidden() {
        let k = PseudonymKey::new(b"super-secret-key-material-0123456789").unwrap();
        let dbg = format!("{k:?}");
        assert_eq!(dbg, "PseudonymKey(<hidden>)");
        assert!(!dbg.contains("secret"));
    }

    #[test]
    fn sector_validation() {
        assert_eq!(Sector::new(""), Err(ClaimsError::EmptySector));
        assert_eq!(Sector::new("   "), Err(ClaimsError::EmptySector));
        for bad in [
            " app.example.nl",
            "app.example.nl ",
            "app.example.nl\n",
            "app\u{7}.nl",
        ] {
            assert_eq!(
                Sector::new(bad),
                Err(ClaimsError::SectorNotTrimmed { input: shown(bad) }),
                "{bad:?}"
            );
        }
        let s = sector("https://sp.example.nl/saml/metadata");
        assert_eq!(s.as_str(), "https://sp.example.nl/saml/metadata");
        assert_eq!(s.to_string(), s.as_str());
        assert_eq!(
            "app.example.nl".parse::<Sector>().unwrap(),
            sector("app.example.nl")
        );
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            "\"https://sp.example.nl/saml/metadata\""
        );
        assert!(serde_json::from_str::<Sector>("\"\"").is_err());
    }

    #[test]
    fn known_answer() {
        // Recomputed independently with one-shot HMAC over the documented encoding.
        let secret = [0x42u8; 32];
        let k = PseudonymKey::new(&secret).unwrap();
        let user = Uuid::from_u128(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff);
        let s = sector("app.example.nl");
        let mut msg = Vec::new();
        for field in [
            SUBJECT_CONTEXT,
            b"app.example.nl".as_slice(),
            user.as_bytes(),
        ] {
            msg.extend_from_slice(&(field.len() as u64).to_be_bytes());
            msg.extend_from_slice(field);
        }
        let expected = hex::encode(hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &secret),
            &msg,
        ));
        let sub = pairwise_subject(&k, &s, &user);
        assert_eq!(sub.as_str(), expected);
        assert_eq!(sub.as_str().len(), 64);
        assert_eq!(sub.to_string(), expected);
    }

    #[test]
    fn subject_parse_and_serde() {
        let sub = pairwise_subject(&key(1), &sector("a.nl"), &Uuid::nil());
        assert_eq!(sub.as_str().parse::<PairwiseSubject>().unwrap(), sub);
        let json = serde_json::to_string(&sub).unwrap();
        assert_eq!(json, format!("\"{sub}\""));
        assert_eq!(serde_json::from_str::<PairwiseSubject>(&json).unwrap(), sub);
        let upper = sub.as_str().to_uppercase();
        for bad in ["", "abc", &upper, &sub.as_str()[..63], &format!("{sub}0")] {
            assert_eq!(
                bad.parse::<PairwiseSubject>(),
                Err(ClaimsError::InvalidPairwiseSubject { input: shown(bad) })
            );
        }
    }

    #[test]
    fn encoding_is_unambiguous() {
        // Moving bytes between the sector and the rest must not collide.
        let k = key(3);
        let u = Uuid::from_u128(1);
        assert_ne!(
            pairwise_subject(&k, &sector("ab"), &u),
            pairwise_subject(&k, &sector("a"), &u)
        );
    }

    proptest! {
        #[test]
        fn prop_stable(
            secret in proptest::collection::vec(any::<u8>(), 32..64),
            s in "[a-z0-9.:/-]{1,40}",
            user in any::<u128>(),
        ) {
            let k1 = PseudonymKey::new(&secret).unwrap();
            let k2 = PseudonymKey::new(&secret).unwrap();
            let user = Uuid::from_u128(user);
            let a = pairwise_subject(&k1, &sector(&s), &user);
            let b = pairwise_subject(&k2, &Sector::new(s.clone()).unwrap(), &user);
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(a.as_str().len(), 64);
            prop_assert_eq!(a.as_str().parse::<PairwiseSubject>().unwrap(), a.clone());
            let json = serde_json::to_string(&a).unwrap();
            prop_assert_eq!(serde_json::from_str::<PairwiseSubject>(&json).unwrap(), a);
        }

        #[test]
        fn prop_distinct_sectors(
            s1 in "[a-z0-9.:/-]{1,40}",
            s2 in "[a-z0-9.:/-]{1,40}",
            user in any::<u128>(),
        ) {
            prop_assume!(s1 != s2);
            let k = key(9);
            let user = Uuid::from_u128(user);
            prop_assert_ne!(
                pairwise_subject(&k, &sector(&s1), &user),
                pairwise_subject(&k, &sector(&s2), &user)
            );
        }

        #[test]
        fn prop_distinct_users(s in "[a-z0-9.:/-]{1,40}", u1 in any::<u128>(), u2 in any::<u128>()) {
            prop_assume!(u1 != u2);
            let k = key(9);
            let sec = sector(&s);
            prop_assert_ne!(
                pairwise_subject(&k, &sec, &Uuid::from_u128(u1)),
                pairwise_subject(&k, &sec, &Uuid::from_u128(u2))
            );
        }

        #[test]
        fn prop_distinct_keys(k1 in any::<[u8; 32]>(), k2 in any::<[u8; 32]>(), user in any::<u128>()) {
            prop_assume!(k1 != k2);
            let sec = sector("app.example.nl");
            let user = Uuid::from_u128(user);
            prop_assert_ne!(
                pairwise_subject(&PseudonymKey::new(&k1).unwrap(), &sec, &user),
                pairwise_subject(&PseudonymKey::new(&k2).unwrap(), &sec, &user)
            );
        }

        /// The subject depends on nothing but key, sector and user: no hidden state (other
        /// subjects computed in between, a cloned key, a separately built sector) changes it.
        /// Attributes such as BRIN or INSTELLING_REF cannot influence it: they are not inputs.
        #[test]
        fn prop_depends_only_on_key_sector_user(
            secret in any::<[u8; 32]>(),
            s in "[a-z0-9.:/-]{1,40}",
            user in any::<u128>(),
            noise in proptest::collection::vec(("[a-z0-9.]{1,20}", any::<u128>()), 0..8),
        ) {
            let k = PseudonymKey::new(&secret).unwrap();
            let user = Uuid::from_u128(user);
            let first = pairwise_subject(&k, &sector(&s), &user);
            for (other_sector, other_user) in &noise {
                let _ = pairwise_subject(&k, &sector(other_sector), &Uuid::from_u128(*other_user));
            }
            let cloned = k.clone();
            let rebuilt_sector = Sector::new(String::from(s.as_str())).unwrap();
            prop_assert_eq!(&pairwise_subject(&cloned, &rebuilt_sector, &user), &first);
            prop_assert_eq!(&pairwise_subject(&k, &sector(&s), &user), &first);
        }
    }
}
