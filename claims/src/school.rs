//! Identifiers of schools: [`InstellingRef`] (Leerpoort's own permanent reference),
//! [`Brin4`] (the DUO institution code) and [`Brin6`] (BRIN plus location number).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{shown, ClaimsError};

/// Leerpoort's permanent reference for a school (institution), a UUID.
///
/// Unlike a BRIN it never changes, also not when schools merge or DUO assigns a new code, so
/// registrations and releases are keyed by it. On the wire and in text it is always the
/// lowercase hyphenated form, e.g. `3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstellingRef(Uuid);

impl InstellingRef {
    /// A fresh random (version 4) reference, for a newly registered school.
    #[must_use]
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    /// Wraps a UUID that is already known to be an INSTELLING_REF (e.g. read from storage).
    #[must_use]
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The underlying UUID.
    #[must_use]
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl From<Uuid> for InstellingRef {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

/// Whether `s` has the shape `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` with hex digits (any case).
fn is_hyphenated_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

impl FromStr for InstellingRef {
    type Err = ClaimsError;

    /// Accepts only the hyphenated UUID form (upper, lower or mixed case); the simple,
    /// braced and `urn:uuid:` forms are refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ClaimsError::InvalidInstellingRef { input: shown(s) };
        if !is_hyphenated_uuid(s) {
            return Err(invalid());
        }
        Uuid::parse_str(s).map(Self).map_err(|_| invalid())
    }
}

impl TryFrom<String> for InstellingRef {
    type Error = ClaimsError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<InstellingRef> for String {
    fn from(r: InstellingRef) -> Self {
        r.to_string()
    }
}

impl fmt::Display for InstellingRef {
    /// Lowercase hyphenated form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// Whether `s` is two ASCII digits followed by two ASCII capital letters.
fn is_brin4(s: &str) -> bool {
    matches!(
        s.as_bytes(),
        [a, b, c, d] if a.is_ascii_digit() && b.is_ascii_digit()
            && c.is_ascii_uppercase() && d.is_ascii_uppercase()
    )
}

/// Whether `s` is exactly two ASCII digits.
fn is_vestiging(s: &str) -> bool {
    matches!(s.as_bytes(), [a, b] if a.is_ascii_digit() && b.is_ascii_digit())
}

/// A BRIN code of a school as assigned by DUO: two digits and two capital letters, e.g. `12AB`.
///
/// Lowercase input is refused (DUO codes are uppercase, and accepting both would let one
/// school appear under two keys), as are unofficial codes of other shapes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Brin4(String);

impl Brin4 {
    /// The code as text, e.g. `12AB`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Brin4 {
    type Err = ClaimsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_brin4(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ClaimsError::InvalidBrin4 { input: shown(s) })
        }
    }
}

impl TryFrom<String> for Brin4 {
    type Error = ClaimsError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        if is_brin4(&s) {
            Ok(Self(s))
        } else {
            Err(ClaimsError::InvalidBrin4 { input: shown(&s) })
        }
    }
}

impl From<Brin4> for String {
    fn from(b: Brin4) -> Self {
        b.0
    }
}

impl fmt::Display for Brin4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A school location: a [`Brin4`] plus a two-digit location number (vestigingsnummer,
/// `00` to `99`), written together as six characters, e.g. `12AB00`.
///
/// Ordering is that of the six-character text; `Debug` prints `Brin6("12AB00")`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Brin6 {
    brin4: Brin4,
    vestiging: String,
}

impl Brin6 {
    /// Combines a BRIN with a location number, which must be exactly two digits (`00`..`99`).
    ///
    /// # Errors
    /// [`ClaimsError::InvalidVestiging`] if `vestiging` is not two digits.
    pub fn new(brin4: Brin4, vestiging: &str) -> Result<Self, ClaimsError> {
        if is_vestiging(vestiging) {
            Ok(Self {
                brin4,
                vestiging: vestiging.to_owned(),
            })
        } else {
            Err(ClaimsError::InvalidVestiging {
                input: shown(vestiging),
            })
        }
    }

    /// The BRIN part, e.g. `12AB` of `12AB00`.
    #[must_use]
    pub fn brin4(&self) -> &Brin4 {
        &self.brin4
    }

    /// The location number, e.g. `00` of `12AB00`.
    #[must_use]
    pub fn vestiging(&self) -> &str {
        &self.vestiging
    }
}

impl FromStr for Brin6 {
    type Err = ClaimsError;

    /// Parses the six-character form, e.g. `12AB00`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ClaimsError::InvalidBrin6 { input: shown(s) };
        // `get` returns None for a non-char-boundary, so multi-byte input cannot panic here.
        match (s.get(..4), s.get(4..)) {
            (Some(b4), Some(v)) if s.len() == 6 && is_brin4(b4) && is_vestiging(v) => Ok(Self {
                brin4: Brin4(b4.to_owned()),
                vestiging: v.to_owned(),
            }),
            _ => Err(invalid()),
        }
    }
}

impl TryFrom<String> for Brin6 {
    type Error = ClaimsError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Brin6> for String {
    fn from(b: Brin6) -> Self {
        b.to_string()
    }
}

impl fmt::Debug for Brin6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Brin6").field(&self.to_string()).finish()
    }
}

impl fmt::Display for Brin6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.brin4.as_str())?;
        f.write_str(&self.vestiging)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REF: &str = "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f";

    fn brin4(s: &str) -> Brin4 {
        s.parse().unwrap()
    }

    // ---- InstellingRef ----

    #[test]
    fn instelling_ref_accepts_hyphenated_any_case() {
        let lower: InstellingRef = REF.parse().unwrap();
        let upper: InstellingRef = REF.to_uppercase().parse().unwrap();
        let mixed: InstellingRef = "3F2b8c4e-1D2a-4b6c-9e8f-0A1b2c3d4e5F".parse().unwrap();
        assert_eq!(lower, upper);
        assert_eq!(lower, mixed);
        assert_eq!(upper.to_string(), REF);
    }

    #[test]
    fn instelling_ref_rejects_other_forms() {
        for bad in [
            "",
            "3f2b8c4e1d2a4b6c9e8f0a1b2c3d4e5f",
            "{3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f}",
            "urn:uuid:3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f",
            " 3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f",
            "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f ",
            "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5g",
            "3f2b8c4e-1d2a-4b6c-9e8f0-a1b2c3d4e5f",
            "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5",
            "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f0",
            "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5é",
        ] {
            assert_eq!(
                bad.parse::<InstellingRef>(),
                Err(ClaimsError::InvalidInstellingRef { input: shown(bad) }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn instelling_ref_serde_is_a_string() {
        let r: InstellingRef = REF.parse().unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{REF}\""));
        let back: InstellingRef = serde_json::from_str(&format!("\"{REF}\"")).unwrap();
        assert_eq!(back, r);
        assert!(
            serde_json::from_str::<InstellingRef>("\"3f2b8c4e1d2a4b6c9e8f0a1b2c3d4e5f\"").is_err()
        );
        assert!(serde_json::from_str::<InstellingRef>("42").is_err());
    }

    #[test]
    fn instelling_ref_new_random_and_as_uuid() {
        let a = InstellingRef::new_random();
        let b = InstellingRef::new_random();
        assert_ne!(a, b);
        assert_eq!(InstellingRef::from_uuid(*a.as_uuid()), a);
        assert_eq!(InstellingRef::from(*b.as_uuid()), b);
        assert_eq!(a.as_uuid().get_version_num(), 4);
    }

    // ---- Brin4 ----

    #[test]
    fn brin4_accepts_two_digits_two_capitals() {
        for ok in ["12AB", "00AA", "99ZZ", "07XY"] {
            let b: Brin4 = ok.parse().unwrap();
            assert_eq!(b.as_str(), ok);
            assert_eq!(b.to_string(), ok);
        }
    }

    #[test]
    fn brin4_rejects_lowercase_and_other_shapes() {
        for bad in [
            "", "12ab", "12Ab", "12aB", "AB12", "1AB", "123AB", "12ABC", "12A", " 12AB", "12AB ",
            "12ÄB", "１２AB", "12-AB", "12AB00",
        ] {
            assert_eq!(
                bad.parse::<Brin4>(),
                Err(ClaimsError::InvalidBrin4 { input: shown(bad) }),
                "{bad:?}"
            );
            assert_eq!(
                Brin4::try_from(bad.to_owned()),
                Err(ClaimsError::InvalidBrin4 { input: shown(bad) })
            );
        }
    }

    #[test]
    fn brin4_error_message() {
        let e = "12ab".parse::<Brin4>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "BRIN '12ab' is not valid: expected two digits and two capital letters, like 12AB"
        );
    }

    #[test]
    fn brin4_serde() {
        let b = brin4("12AB");
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"12AB\"");
        assert_eq!(serde_json::from_str::<Brin4>("\"12AB\"").unwrap(), b);
        assert!(serde_json::from_str::<Brin4>("\"12ab\"").is_err());
    }

    // ---- Brin6 ----

    #[test]
    fn brin6_new_and_accessors() {
        let b = Brin6::new(brin4("12AB"), "07").unwrap();
        assert_eq!(b.brin4().as_str(), "12AB");
        assert_eq!(b.vestiging(), "07");
        assert_eq!(b.to_string(), "12AB07");
        assert_eq!(format!("{b:?}"), "Brin6(\"12AB07\")");
        assert_eq!("12AB07".parse::<Brin6>().unwrap(), b);
    }

    #[test]
    fn brin6_new_rejects_bad_vestiging() {
        for bad in ["", "0", "000", "0a", "a0", " 0", "-1", "０1"] {
            assert_eq!(
                Brin6::new(brin4("12AB"), bad),
                Err(ClaimsError::InvalidVestiging { input: shown(bad) }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn brin6_from_str_rejects() {
        for bad in [
            "", "12AB", "12ab00", "12AB0", "12AB000", "12ABCD", "AB1200", "12AB 0", " 12AB00",
            "12AB00 ", "12AB0é", "12ÄB00", "1éAB00",
        ] {
            assert_eq!(
                bad.parse::<Brin6>(),
                Err(ClaimsError::InvalidBrin6 { input: shown(bad) }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn brin6_ordering_follows_text() {
        let mut v: Vec<Brin6> = ["12AB01", "12AA99", "12AB00", "01ZZ00"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        v.sort();
        let texts: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["01ZZ00", "12AA99", "12AB00", "12AB01"]);
    }

    #[test]
    fn brin6_serde() {
        let b: Brin6 = "12AB00".parse().unwrap();
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"12AB00\"");
        assert_eq!(serde_json::from_str::<Brin6>("\"12AB00\"").unwrap(), b);
        assert!(serde_json::from_str::<Brin6>("\"12ab00\"").is_err());
        assert!(
            serde_json::from_str::<Brin6>("{\"brin4\":\"12AB\",\"vestiging\":\"00\"}").is_err()
        );
    }

    // ---- properties ----

    const DIGITS: &str = "0123456789";
    const CAPITALS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// Independent oracle for the BRIN4 shape, by explicit character lists.
    fn oracle_brin4(s: &str) -> bool {
        let c: Vec<char> = s.chars().collect();
        c.len() == 4
            && DIGITS.contains(c[0])
            && DIGITS.contains(c[1])
            && CAPITALS.contains(c[2])
            && CAPITALS.contains(c[3])
    }

    fn oracle_brin6(s: &str) -> bool {
        let c: Vec<char> = s.chars().collect();
        c.len() == 6
            && oracle_brin4(&c[..4].iter().collect::<String>())
            && DIGITS.contains(c[4])
            && DIGITS.contains(c[5])
    }

    fn near_miss_brin6() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{2}[a-z][A-Za-z][0-9]{2}",
            "[0-9]{2}[A-Za-z][a-z][0-9]{2}",
            "[0-9]{2}[A-Z]{2}[0-9]",
            "[0-9]{2}[A-Z]{2}[0-9]{3}",
            "[0-9][A-Z]{2}[0-9]{2}",
            "[0-9]{3}[A-Z]{2}[0-9]{2}",
            "[A-Z]{2}[0-9]{4}",
            "[0-9]{2}[A-Z]{2}[0-9][A-Za-z]",
            "[0-9]{2}[A-Z]{2}[0-9]{2}[ \t\n]",
            "[ \t][0-9]{2}[A-Z]{2}[0-9]{2}",
            "[0-9]{2}[A-Z]{2}[^0-9][0-9]",
            ".{0,8}",
        ]
    }

    proptest! {
        #[test]
        fn prop_brin6_roundtrips(s in "[0-9]{2}[A-Z]{2}[0-9]{2}") {
            let b: Brin6 = s.parse().unwrap();
            prop_assert_eq!(b.to_string(), s.clone());
            prop_assert_eq!(b.brin4().to_string(), s[..4].to_owned());
            prop_assert_eq!(b.vestiging(), &s[4..]);
            let rebuilt = Brin6::new(b.brin4().clone(), b.vestiging()).unwrap();
            prop_assert_eq!(&rebuilt, &b);
            let json = serde_json::to_string(&b).unwrap();
            prop_assert_eq!(&json, &format!("\"{s}\""));
            prop_assert_eq!(serde_json::from_str::<Brin6>(&json).unwrap(), b);
        }

        #[test]
        fn prop_brin4_roundtrips(s in "[0-9]{2}[A-Z]{2}") {
            let b: Brin4 = s.parse().unwrap();
            prop_assert_eq!(b.to_string(), s.clone());
            let json = serde_json::to_string(&b).unwrap();
            prop_assert_eq!(serde_json::from_str::<Brin4>(&json).unwrap(), b);
        }

        #[test]
        fn prop_brin6_near_misses_rejected(s in near_miss_brin6()) {
            prop_assume!(!oracle_brin6(&s));
            prop_assert_eq!(
                s.parse::<Brin6>(),
                Err(ClaimsError::InvalidBrin6 { input: shown(&s) })
            );
        }

        #[test]
        fn prop_brin4_agrees_with_oracle(s in prop_oneof![
            "[0-9]{2}[A-Za-z]{2}",
            "[0-9A-Za-z]{3,5}",
            ".{0,6}",
        ]) {
            prop_assert_eq!(s.parse::<Brin4>().is_ok(), oracle_brin4(&s));
        }

        #[test]
        fn prop_brin6_agrees_with_oracle(s in ".{0,8}") {
            prop_assert_eq!(s.parse::<Brin6>().is_ok(), oracle_brin6(&s));
        }

        #[test]
        fn prop_instelling_ref_roundtrips(bytes in any::<[u8; 16]>(), upper in any::<bool>()) {
            let r = InstellingRef::from_uuid(Uuid::from_bytes(bytes));
            let text = r.to_string();
            prop_assert_eq!(text.len(), 36);
            prop_assert_eq!(text.to_lowercase(), text.clone());
            let input = if upper { text.to_uppercase() } else { text.clone() };
            prop_assert_eq!(input.parse::<InstellingRef>().unwrap(), r);
            let json = serde_json::to_string(&r).unwrap();
            prop_assert_eq!(&json, &format!("\"{text}\""));
            prop_assert_eq!(serde_json::from_str::<InstellingRef>(&json).unwrap(), r);
        }

        #[test]
        fn prop_instelling_ref_near_misses_rejected(
            bytes in any::<[u8; 16]>(),
            which in 0usize..5,
            pos in 0usize..36,
        ) {
            let text = Uuid::from_bytes(bytes).hyphenated().to_string();
            let bad = match which {
                // simple (unhyphenated) form
                0 => Uuid::from_bytes(bytes).simple().to_string(),
                // braced form
                1 => format!("{{{text}}}"),
                // a non-hex character somewhere
                2 => {
                    let mut c: Vec<char> = text.chars().collect();
                    c[pos] = 'g';
                    c.into_iter().collect()
                }
                // one character short
                3 => text[..35].to_owned(),
                // one character too many
                _ => format!("{text}0"),
            };
            prop_assert_eq!(
                bad.parse::<InstellingRef>(),
                Err(ClaimsError::InvalidInstellingRef { input: shown(&bad) })
            );
        }
    }
}
