//! The one error type of this crate, [`ClaimsError`].
//!
//! Every message fits on one line and is written for a school's ICT coordinator: it names the
//! field, shows what was received (except for ECK-iDs, which are never echoed) and gives an
//! example of what is expected.

use std::fmt;

/// Longest part of a rejected input that is repeated in an error message.
const SHOWN_MAX_CHARS: usize = 40;

/// Everything that can go wrong when parsing or building a claim value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    /// An INSTELLING_REF that is not a hyphenated UUID.
    #[error(
        "INSTELLING_REF '{input}' is not valid: expected a UUID with hyphens, \
         like 3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f"
    )]
    InvalidInstellingRef {
        /// The rejected input (shortened, control characters replaced).
        input: String,
    },

    /// A BRIN (four characters) that is not two digits followed by two capital letters.
    #[error("BRIN '{input}' is not valid: expected two digits and two capital letters, like 12AB")]
    InvalidBrin4 {
        /// The rejected input (shortened, control characters replaced).
        input: String,
    },

    /// A location number (vestigingsnummer) that is not two digits.
    #[error("location number (vestiging) '{input}' is not valid: expected two digits, like 00")]
    InvalidVestiging {
        /// The rejected input (shortened, control characters replaced).
        input: String,
    },

    /// A six-character BRIN with location number that is not of the form `12AB00`.
    #[error(
        "BRIN with location '{input}' is not valid: expected two digits, two capital letters \
         and two digits, like 12AB00"
    )]
    InvalidBrin6 {
        /// The rejected input (shortened, control characters replaced).
        input: String,
    },

    /// An ECK-iD that is not of the expected form. The value itself is deliberately not part
    /// of the error, so that it can never reach a log.
    #[error("ECK-iD is not valid: {problem} (the value is not shown, for privacy)")]
    InvalidEckId {
        /// What is wrong with it.
        problem: EckIdProblem,
    },

    /// A role name that Leerpoort does not know.
    #[error(
        "role '{input}' is not known: use one of leerling, leerkracht, ict-coordinator, ib, rt, \
         stagiaire, invalkracht"
    )]
    UnknownRole {
        /// The rejected input (shortened, control characters replaced).
        input: String,
    },

    /// An audience name that Leerpoort does not know.
    #[error("audience '{input}' is not known: use one of leerling, leerkracht, beide")]
    UnknownAudience {
        /// The rejected input (shortened, control characters replaced).
        input: String,
    },

    /// A login context name that Leerpoort does not know.
    #[error("login context '{input}' is not known: use one of school, thuis, netwerk")]
    UnknownLoginContext {
        /// The rejected input (shortened, control characters replaced).
        input: String,
    },

    /// A year group (groep) outside 1 to 8, or not a number.
    #[error(
        "year group (groep) '{input}' is not valid: primary school groups run from 1 to 8, \
         write it like 3 or groep 3"
    )]
    InvalidJaargroep {
        /// The rejected input (shortened, control characters replaced).
        input: String,
    },

    /// The secret for pairwise pseudonyms is too short to be safe.
    #[error(
        "the pseudonym key is too short: it has {len} bytes, at least {min} are needed \
         (generate it with a secure random generator)"
    )]
    PseudonymKeyTooShort {
        /// Length of the rejected key in bytes.
        len: usize,
        /// Minimum length in bytes.
        min: usize,
    },

    /// A sector identifier that is empty or consists of whitespace only.
    #[error(
        "the sector identifier of the connected application is empty: set its redirect host, \
         sector id or SAML entity id"
    )]
    EmptySector,

    /// A sector identifier with leading or trailing whitespace or control characters, which
    /// would silently give every user different pseudonyms.
    #[error(
        "the sector identifier '{input}' contains spaces at the start or end, or invisible \
         characters: remove them"
    )]
    SectorNotTrimmed {
        /// The rejected input (shortened, control characters replaced).
        input: String,
    },

    /// A pairwise subject identifier that is not 64 lowercase hexadecimal characters.
    #[error(
        "subject identifier '{input}' is not valid: expected 64 characters 0-9 and a-f, \
         as issued by Leerpoort"
    )]
    InvalidPairwiseSubject {
        /// The rejected input (shortened, control characters replaced).
        input: String,
    },
}

/// What is wrong with a rejected ECK-iD; part of [`ClaimsError::InvalidEckId`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EckIdProblem {
    /// It does not start with an accepted `https://<host>/` prefix.
    UnknownPrefix,
    /// The part between the host and the code is empty or contains characters other than
    /// ASCII letters and digits (or the code is missing altogether).
    BadSegment,
    /// The code after the last `/` does not have 128 characters.
    WrongCodeLength {
        /// Number of characters found.
        found: usize,
    },
    /// The code after the last `/` contains characters other than `0-9`, `a-f` (or `A-F`).
    NotHex,
    /// The code contains capital letters, which is only accepted when importing.
    UppercaseHex,
}

impl fmt::Display for EckIdProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownPrefix => f.write_str(
                "it must start with https://ketenid.nl/ (or https://id.school/ when importing)",
            ),
            Self::BadSegment => f.write_str(
                "after the host it must have a part of letters and digits (like 201703), \
                 a '/' and the code",
            ),
            Self::WrongCodeLength { found } => write!(
                f,
                "the code after the last '/' must have 128 characters, it has {found}"
            ),
            Self::NotHex => f.write_str(
                "the code after the last '/' may only contain the characters 0-9 and a-f",
            ),
            Self::UppercaseHex => f.write_str(
                "the code after the last '/' contains capital letters, \
                 which are only accepted when importing",
            ),
        }
    }
}

/// Makes a rejected input safe to put in a one-line error message: at most
/// [`SHOWN_MAX_CHARS`] characters, control characters replaced by `?`, and `…` appended
/// when it was shortened.
pub(crate) fn shown(input: &str) -> String {
    let mut out: String = input
        .chars()
        .take(SHOWN_MAX_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if input.chars().nth(SHOWN_MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_passes_short_input_through() {
        assert_eq!(shown("12ab"), "12ab");
        assert_eq!(shown(""), "");
    }

    #[test]
    fn shown_replaces_control_characters() {
        assert_eq!(shown("12\nAB\t"), "12?AB?");
    }

    #[test]
    fn shown_truncates_long_input() {
        let long = "x".repeat(100);
        let s = shown(&long);
        assert_eq!(s.chars().count(), SHOWN_MAX_CHARS + 1);
        assert!(s.ends_with('…'));
        let exact = "y".repeat(SHOWN_MAX_CHARS);
        assert_eq!(shown(&exact), exact);
    }

    #[test]
    fn messages_are_one_line_and_match_the_example() {
        let e = ClaimsError::InvalidBrin4 {
            input: shown("12ab"),
        };
        assert_eq!(
            e.to_string(),
            "BRIN '12ab' is not valid: expected two digits and two capital letters, like 12AB"
        );
        let all = [
            ClaimsError::InvalidInstellingRef { input: "x".into() },
            ClaimsError::InvalidBrin4 { input: "x".into() },
            ClaimsError::InvalidVestiging { input: "x".into() },
            ClaimsError::InvalidBrin6 { input: "x".into() },
            ClaimsError::InvalidEckId {
                problem: EckIdProblem::WrongCodeLength { found: 3 },
            },
            ClaimsError::UnknownRole { input: "x".into() },
            ClaimsError::UnknownAudience { input: "x".into() },
            ClaimsError::UnknownLoginContext { input: "x".into() },
            ClaimsError::InvalidJaargroep { input: "x".into() },
            ClaimsError::PseudonymKeyTooShort { len: 3, min: 32 },
            ClaimsError::EmptySector,
            ClaimsError::SectorNotTrimmed { input: "x".into() },
            ClaimsError::InvalidPairwiseSubject { input: "x".into() },
        ];
        for e in all {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "{msg}");
            assert!(!msg.contains("  "), "double space in: {msg}");
        }
    }
}
