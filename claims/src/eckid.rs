//! The ECK-iD: the pseudonymous chain identifier of a pupil or teacher in the Dutch
//! education chain (Edu-K), e.g. `https://ketenid.nl/201703/<128 hex digits>`.
//!
//! An ECK-iD is personal data. This module makes it hard to leak one by accident: its
//! [`Debug`](std::fmt::Debug) output is redacted, parse errors never contain the value, and
//! [`EckId::log_tag`] gives a keyed short tag to correlate traces without the value itself.

use std::fmt;
use std::str::FromStr;

use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::error::{ClaimsError, EckIdProblem};

/// Prefix of the canonical form.
const CANONICAL_PREFIX: &str = "https://ketenid.nl/";
/// Prefix of the older form, accepted by [`EckId::parse_import`] only.
const LEGACY_PREFIX: &str = "https://id.school/";
/// Length of the scheme, `https://`.
const SCHEME_LEN: usize = "https://".len();
/// Number of hexadecimal digits in the code.
const CODE_LEN: usize = 128;
/// Domain-separation tag for [`EckId::log_tag`].
const LOG_TAG_CONTEXT: &[u8] = b"leerpoort-eckid-log-v1";
/// Number of HMAC bytes kept in a log tag.
const LOG_TAG_BYTES: usize = 8;

/// An ECK-iD, validated and with its code in lowercase.
///
/// The canonical form is `https://ketenid.nl/<segment>/<code>`, where `<segment>` is a
/// non-empty run of ASCII letters and digits (real ones look like `201703`) and `<code>` is
/// 128 lowercase hexadecimal digits.
///
/// [`Display`](fmt::Display) and serde give the full value, for putting it on the wire to a
/// relying party. [`Debug`](fmt::Debug) does not: use it (or [`EckId::log_tag`]) in logs.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EckId {
    /// The full value, normalised (lowercase code).
    value: String,
    /// Byte length of `https://<host>/`.
    prefix_len: usize,
    /// Byte length of the segment.
    segment_len: usize,
}

impl EckId {
    /// Parses an ECK-iD in exactly the canonical form
    /// `https://ketenid.nl/<segment>/<128 lowercase hex digits>`.
    ///
    /// # Errors
    /// [`ClaimsError::InvalidEckId`], saying what is wrong but never echoing the value.
    pub fn parse(input: &str) -> Result<Self, ClaimsError> {
        Self::parse_with(input, false)
    }

    /// Parses an ECK-iD from an import (e.g. a school administration export), which may use
    /// the older host `https://id.school/` and may have the code in capitals.
    ///
    /// The host is kept as it was (it is not rewritten to `ketenid.nl`); the code is
    /// normalised to lowercase.
    ///
    /// # Errors
    /// [`ClaimsError::InvalidEckId`], saying what is wrong but never echoing the value.
    pub fn parse_import(input: &str) -> Result<Self, ClaimsError> {
        Self::parse_with(input, true)
    }

    fn parse_with(input: &str, import: bool) -> Result<Self, ClaimsError> {
        let err = |problem| ClaimsError::InvalidEckId { problem };
        let (prefix, rest) = match input.strip_prefix(CANONICAL_PREFIX) {
            Some(rest) => (CANONICAL_PREFIX, rest),
            None => match input.strip_prefix(LEGACY_PREFIX) {
                Some(rest) if import => (LEGACY_PREFIX, rest),
                _ => return Err(err(EckIdProblem::UnknownPrefix)),
            },
        };
        let (segment, code) = rest.split_once('/').ok_or(err(EckIdProblem::BadSegment))?;
        if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(err(EckIdProblem::BadSegment));
        }
        let found = code.chars().count();
        if found != CODE_LEN {
            return Err(err(EckIdProblem::WrongCodeLength { found }));
        }
        if !code.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err(EckIdProblem::NotHex));
        }
        if !import && code.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(err(EckIdProblem::UppercaseHex));
        }
        let mut value = String::with_capacity(prefix.len() + segment.len() + 1 + CODE_LEN);
        value.push_str(prefix);
        value.push_str(segment);
        value.push('/');
        value.push_str(&code.to_ascii_lowercase());
        Ok(Self {
            value,
            prefix_len: prefix.len(),
            segment_len: segment.len(),
        })
    }

    /// The full value, e.g. `https://ketenid.nl/201703/…`. Do not log it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The host it was issued under: `ketenid.nl`, or `id.school` for an imported older one.
    #[must_use]
    pub fn host(&self) -> &str {
        self.value
            .get(SCHEME_LEN..self.prefix_len.saturating_sub(1))
            .unwrap_or_default()
    }

    /// The segment between host and code, e.g. `201703`.
    #[must_use]
    pub fn segment(&self) -> &str {
        self.value
            .get(self.prefix_len..self.prefix_len + self.segment_len)
            .unwrap_or_default()
    }

    /// The last four hexadecimal digits of the code, used in the redacted debug output.
    fn code_tail(&self) -> &str {
        self.value
            .get(self.value.len().saturating_sub(4)..)
            .unwrap_or_default()
    }

    /// A short keyed tag for traces and logs, so that events about the same ECK-iD can be
    /// correlated without the ECK-iD itself being written down.
    ///
    /// It is HMAC-SHA-256 with `key` over a versioned encoding of the full value, truncated
    /// to the first 8 bytes and written as 16 lowercase hexadecimal digits. Without `key` the
    /// tag cannot be linked back to an ECK-iD; use a secret key that differs from the
    /// pseudonym key.
    #[must_use]
    pub fn log_tag(&self, key: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, key);
        let mut ctx = hmac::Context::with_key(&key);
        update_length_prefixed(&mut ctx, LOG_TAG_CONTEXT);
        update_length_prefixed(&mut ctx, self.value.as_bytes());
        let tag = ctx.sign();
        hex::encode(tag.as_ref().get(..LOG_TAG_BYTES).unwrap_or_default())
    }
}

/// Feeds `bytes` into `ctx` preceded by its length as a big-endian `u64`.
pub(crate) fn update_length_prefixed(ctx: &mut hmac::Context, bytes: &[u8]) {
    // usize always fits in u64 on supported platforms; saturate rather than panic.
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    ctx.update(&len.to_be_bytes());
    ctx.update(bytes);
}

impl fmt::Debug for EckId {
    /// Redacted: prints `EckId(<redacted>…abcd)` with only the last four code digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EckId(<redacted>…{})", self.code_tail())
    }
}

impl fmt::Display for EckId {
    /// The full value, for the wire. Never use this in logs; see [`EckId::log_tag`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl FromStr for EckId {
    type Err = ClaimsError;

    /// Same as [`EckId::parse`]: the canonical form only.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for EckId {
    type Error = ClaimsError;

    /// Same as [`EckId::parse`]: the canonical form only.
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<EckId> for String {
    fn from(e: EckId) -> Self {
        e.value
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(c: char) -> String {
        std::iter::repeat_n(c, CODE_LEN).collect()
    }

    fn sample_code() -> String {
        (0..CODE_LEN)
            .map(|i| char::from(b"0123456789abcdef"[i % 16]))
            .collect()
    }

    fn canonical() -> String {
        format!("https://ketenid.nl/201703/{}", sample_code())
    }

    fn bad(problem: EckIdProblem) -> Result<EckId, ClaimsError> {
        Err(ClaimsError::InvalidEckId { problem })
    }

    #[test]
    fn parses_canonical_form() {
        let s = canonical();
        let e = EckId::parse(&s).unwrap();
        assert_eq!(e.as_str(), s);
        assert_eq!(e.to_string(), s);
        assert_eq!(e.segment(), "201703");
        assert_eq!(e.host(), "ketenid.nl");
        assert_eq!(s.parse::<EckId>().unwrap(), e);
        let alnum = format!("https://ketenid.nl/aB9/{}", code('f'));
        assert_eq!(EckId::parse(&alnum).unwrap().segment(), "aB9");
    }

    #[test]
    fn strict_parse_rejects_legacy_and_uppercase() {
        let legacy = format!("https://id.school/201703/{}", sample_code());
        assert_eq!(EckId::parse(&legacy), bad(EckIdProblem::UnknownPrefix));
        let upper = format!("https://ketenid.nl/201703/{}", sample_code().to_uppercase());
        assert_eq!(EckId::parse(&upper), bad(EckIdProblem::UppercaseHex));
    }

    #[test]
    fn import_accepts_legacy_host_and_uppercase_keeping_host() {
        let legacy = format!("https://id.school/201703/{}", sample_code().to_uppercase());
        let e = EckId::parse_import(&legacy).unwrap();
        assert_eq!(e.host(), "id.school");
        assert_eq!(e.segment(), "201703");
        assert_eq!(
            e.as_str(),
            format!("https://id.school/201703/{}", sample_code())
        );
        let upper = format!("https://ketenid.nl/201703/{}", sample_code().to_uppercase());
        let e = EckId::parse_import(&upper).unwrap();
        assert_eq!(e, EckId::parse(&canonical()).unwrap());
        assert_eq!(e.host(), "ketenid.nl");
    }

    #[test]
    fn rejects_with_exact_problem() {
        let c = sample_code();
        let cases: Vec<(String, EckIdProblem)> = vec![
            (String::new(), EckIdProblem::UnknownPrefix),
            (
                format!("http://ketenid.nl/201703/{c}"),
                EckIdProblem::UnknownPrefix,
            ),
            (
                format!("https://KETENID.nl/201703/{c}"),
                EckIdProblem::UnknownPrefix,
            ),
            (
                format!("https://ketenid.com/201703/{c}"),
                EckIdProblem::UnknownPrefix,
            ),
            (
                format!(" https://ketenid.nl/201703/{c}"),
                EckIdProblem::UnknownPrefix,
            ),
            (format!("https://ketenid.nl//{c}"), EckIdProblem::BadSegment),
            (
                format!("https://ketenid.nl/2017-03/{c}"),
                EckIdProblem::BadSegment,
            ),
            (
                format!("https://ketenid.nl/2017é/{c}"),
                EckIdProblem::BadSegment,
            ),
            (format!("https://ketenid.nl/{c}"), EckIdProblem::BadSegment),
            (
                "https://ketenid.nl/201703".to_owned(),
                EckIdProblem::BadSegment,
            ),
            (
                "https://ketenid.nl/201703/".to_owned(),
                EckIdProblem::WrongCodeLength { found: 0 },
            ),
            (
                format!("https://ketenid.nl/201703/{}", &c[..127]),
                EckIdProblem::WrongCodeLength { found: 127 },
            ),
            (
                format!("https://ketenid.nl/201703/{c}0"),
                EckIdProblem::WrongCodeLength { found: 129 },
            ),
            (
                format!("https://ketenid.nl/201703/{c} "),
                EckIdProblem::WrongCodeLength { found: 129 },
            ),
            (
                format!("https://ketenid.nl/201703/{c}/"),
                EckIdProblem::WrongCodeLength { found: 129 },
            ),
            (
                format!("https://ketenid.nl/201703/{}g", &c[..127]),
                EckIdProblem::NotHex,
            ),
            (
                format!("https://ketenid.nl/201703/{}é", &c[..127]),
                EckIdProblem::NotHex,
            ),
            (
                format!("https://ketenid.nl/2017/03/{}", &c[..125]),
                EckIdProblem::NotHex,
            ),
        ];
        for (input, problem) in cases {
            assert_eq!(EckId::parse(&input), bad(problem), "strict: {input:?}");
            assert_eq!(
                EckId::parse_import(&input),
                bad(problem),
                "import: {input:?}"
            );
        }
    }

    #[test]
    fn errors_and_debug_never_contain_the_value() {
        let c = sample_code();
        let e = EckId::parse(&canonical()).unwrap();
        let dbg = format!("{e:?}");
        assert_eq!(dbg, "EckId(<redacted>…cdef)");
        assert!(!dbg.contains(&c[..8]));
        assert!(!dbg.contains("201703"));
        // nested in other Debug output as well
        assert!(!format!("{:?}", Some(vec![e.clone()])).contains(&c[..8]));

        let almost = format!("https://ketenid.nl/201703/{}", c.to_uppercase());
        let err = EckId::parse(&almost).unwrap_err();
        assert!(!err.to_string().contains(&c.to_uppercase()[..8]));
        assert!(!format!("{err:?}").contains(&c.to_uppercase()[..8]));
    }

    #[test]
    fn log_tag_is_keyed_short_and_stable() {
        let e = EckId::parse(&canonical()).unwrap();
        let t1 = e.log_tag(b"log key one");
        assert_eq!(t1.len(), 16);
        assert!(t1.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert_eq!(t1, e.log_tag(b"log key one"));
        assert_ne!(t1, e.log_tag(b"log key two"));
        let other = EckId::parse(&format!("https://ketenid.nl/201703/{}", code('a'))).unwrap();
        assert_ne!(t1, other.log_tag(b"log key one"));
        assert!(!e.as_str().contains(&t1));
    }

    #[test]
    fn log_tag_matches_manual_hmac() {
        let e = EckId::parse(&canonical()).unwrap();
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"k");
        let mut msg = Vec::new();
        msg.extend_from_slice(&(LOG_TAG_CONTEXT.len() as u64).to_be_bytes());
        msg.extend_from_slice(LOG_TAG_CONTEXT);
        msg.extend_from_slice(&(e.as_str().len() as u64).to_be_bytes());
        msg.extend_from_slice(e.as_str().as_bytes());
        let full = hmac::sign(&key, &msg);
        assert_eq!(e.log_tag(b"k"), hex::encode(&full.as_ref()[..8]));
    }

    #[test]
    fn serde_is_a_string_and_strict() {
        let e = EckId::parse(&canonical()).unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, format!("\"{}\"", canonical()));
        assert_eq!(serde_json::from_str::<EckId>(&json).unwrap(), e);
        let legacy = format!("\"https://id.school/201703/{}\"", sample_code());
        let err = serde_json::from_str::<EckId>(&legacy).unwrap_err();
        assert!(!err.to_string().contains(&sample_code()[..8]));
    }

    #[test]
    fn imported_legacy_value_serialises_with_its_own_host() {
        let legacy = format!("https://id.school/201703/{}", sample_code());
        let e = EckId::parse_import(&legacy).unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{legacy}\""));
    }

    // ---- properties ----

    fn hex_code() -> impl Strategy<Value = String> {
        "[0-9a-f]{128}"
    }

    /// Independent oracle for the canonical form.
    fn oracle(s: &str) -> bool {
        let Some(rest) = s.strip_prefix("https://ketenid.nl/") else {
            return false;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        parts.len() == 2
            && !parts[0].is_empty()
            && parts[0].chars().all(|c| c.is_ascii_alphanumeric())
            && parts[1].chars().count() == 128
            && parts[1].chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    }

    proptest! {
        #[test]
        fn prop_canonical_roundtrips(segment in "[A-Za-z0-9]{1,12}", code in hex_code()) {
            let s = format!("https://ketenid.nl/{segment}/{code}");
            let e = EckId::parse(&s).unwrap();
            prop_assert_eq!(e.as_str(), s.as_str());
            prop_assert_eq!(e.segment(), segment.as_str());
            prop_assert_eq!(e.host(), "ketenid.nl");
            prop_assert_eq!(e.to_string().parse::<EckId>().unwrap(), e.clone());
            let json = serde_json::to_string(&e).unwrap();
            prop_assert_eq!(serde_json::from_str::<EckId>(&json).unwrap(), e.clone());
            let dbg = format!("{e:?}");
            prop_assert!(!dbg.contains(&code[..16]));
            prop_assert_eq!(EckId::parse_import(&s).unwrap(), e);
        }

        #[test]
        fn prop_import_normalises_case(
            legacy in any::<bool>(),
            segment in "[A-Za-z0-9]{1,12}",
            code in "[0-9a-fA-F]{128}",
        ) {
            let host = if legacy { "id.school" } else { "ketenid.nl" };
            let s = format!("https://{host}/{segment}/{code}");
            let e = EckId::parse_import(&s).unwrap();
            prop_assert_eq!(e.host(), host);
            prop_assert_eq!(e.segment(), segment.as_str());
            let expected = format!("https://{host}/{segment}/{}", code.to_ascii_lowercase());
            prop_assert_eq!(e.as_str(), expected.as_str());
            // the normalised canonical-host value is accepted by the strict parser
            prop_assert_eq!(EckId::parse(e.as_str()).is_ok(), !legacy);
        }

        #[test]
        fn prop_near_misses_rejected(
            segment in "[A-Za-z0-9]{1,12}",
            code in hex_code(),
            which in 0usize..8,
            pos in 0usize..128,
        ) {
            let mut c: Vec<char> = code.chars().collect();
            let s = match which {
                // uppercase hex digit (strict parser only)
                0 => { c[pos] = 'A'; format!("https://ketenid.nl/{segment}/{}", c.iter().collect::<String>()) }
                // non-hex character
                1 => { c[pos] = 'g'; format!("https://ketenid.nl/{segment}/{}", c.iter().collect::<String>()) }
                // too short
                2 => format!("https://ketenid.nl/{segment}/{}", &code[..pos]),
                // too long
                3 => format!("https://ketenid.nl/{segment}/{code}{}", &code[..=pos % 8]),
                // legacy host (strict parser only)
                4 => format!("https://id.school/{segment}/{code}"),
                // bad segment
                5 => format!("https://ketenid.nl/{segment}-x/{code}"),
                // missing segment
                6 => format!("https://ketenid.nl/{code}"),
                // wrong scheme
                _ => format!("http://ketenid.nl/{segment}/{code}"),
            };
            prop_assert!(!oracle(&s));
            let strict = EckId::parse(&s);
            let is_invalid_eckid = matches!(strict, Err(ClaimsError::InvalidEckId { .. }));
            prop_assert!(is_invalid_eckid);
        }

        #[test]
        fn prop_strict_agrees_with_oracle(s in prop_oneof![
            ".{0,40}",
            "https://ketenid\\.nl/[A-Za-z0-9/]{0,4}/[0-9a-fA-F]{126,130}",
            "https://(ketenid\\.nl|id\\.school)/[0-9]{6}/[0-9a-f]{128}",
        ]) {
            prop_assert_eq!(EckId::parse(&s).is_ok(), oracle(&s));
        }
    }
}
