//! Administrative operations: what the `leerpoort` command (and later the school
//! administration pages) do to the directory. Each validates its input completely before it
//! writes, writes in one transaction with its audit event, and returns what it made.
//!
//! One file per aggregate. What needs the server's keys or word lists — hashing and sealing a
//! credential, the password policy, the pupils' pictures — is reached through [`Credentials`]
//! (the pictures through the [`Pictures`] port); reading a file or fetching metadata over HTTP is the caller's, which hands
//! the document in.

use std::str::FromStr;

use crate::audit::AuditAction;
use crate::clock::Clock;
use crate::model::{AuditEvent, School};
use crate::repo::{Directory, RepoError};
use claims::InstellingRef;

use crate::login::password_policy::WeakPassword;
use crate::secrets::{PupilSecrets, SecretError};

mod clients;
pub(crate) use clients::check_https_or_local;
mod mergers;
mod registrations;
mod saml_sps;
mod schools;
mod settings;
mod splits;
mod upstreams;
mod users;

pub use clients::*;
pub use mergers::*;
pub use registrations::*;
pub use saml_sps::*;
pub use schools::*;
pub use settings::*;
pub use splits::*;
pub use upstreams::*;
pub use users::*;

/// Errors of administrative operations: one line each, naming what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Hashing, sealing or randomness failed, or a PIN has the wrong form.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A staff password the password policy refuses.
    #[error(transparent)]
    WeakPassword(#[from] WeakPassword),
}

impl From<crate::random::RandomError> for AdminError {
    fn from(_: crate::random::RandomError) -> Self {
        AdminError::Secret(SecretError::Random)
    }
}

/// The settings key of the operator's outage notice.
pub const NOTICE_KEY: &str = "notice";

/// The pupils' pictures, which the server holds (its picture set is embedded in it).
pub trait Pictures {
    /// A picture password's canonical encoding (`pic:…`), or why it is not one.
    fn picture_password(&self, pictures: &str) -> Result<String>;
    /// The picture named `name`, or an error listing the pictures there are.
    fn picture(&self, name: &str) -> Result<String>;
    /// A new random picture password (three pictures of the grid), encoded.
    fn random_password(&self) -> Result<String>;
}

/// What making a user's credentials needs: the PIN pepper and the sealing key, the password
/// policy, and the server's pictures.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub secrets: PupilSecrets<'a>,
    pub pictures: &'a dyn Pictures,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(<hidden>)")
    }
}

impl Credentials<'_> {
    pub(crate) fn hash_pin(&self, secret: &str) -> Result<String> {
        Ok(self.secrets.pins.hash(secret)?)
    }

    pub(crate) fn seal(&self, owner: uuid::Uuid, secret: &str) -> Result<String> {
        Ok(self.secrets.sealer.seal(owner, secret)?)
    }
}

pub type Result<T> = std::result::Result<T, AdminError>;

fn invalid(msg: impl Into<String>) -> AdminError {
    AdminError::Invalid(msg.into())
}

/// Who acts, and when.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub dir: &'a dyn Directory,
    pub clock: &'a dyn Clock,
    /// `cli`, `demo`, `user:<uuid>`.
    pub actor: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn now(&self) -> i64 {
        self.clock.now_secs()
    }

    pub(crate) fn audit(
        &self,
        action: AuditAction,
        school: Option<InstellingRef>,
        subject: Option<String>,
        details: serde_json::Value,
    ) -> AuditEvent {
        AuditEvent::record(action, self.actor, self.now(), school, subject, details)
    }

    /// The school, which must exist and be active.
    pub fn active_school(&self, r: &InstellingRef) -> Result<School> {
        let school = self
            .dir
            .school(r)?
            .ok_or_else(|| invalid(format!("no school with INSTELLING_REF {r}")))?;
        match school.status {
            crate::model::SchoolStatus::Active => Ok(school),
            _ => Err(invalid(format!(
                "school {r} is {} and cannot be changed",
                school.status.as_str()
            ))),
        }
    }
}

/// Parse an INSTELLING_REF given on the command line.
pub fn parse_school_ref(s: &str) -> Result<InstellingRef> {
    InstellingRef::from_str(s).map_err(|e| invalid(e.to_string()))
}

/// The school year a date falls in: a new year starts on 1 August.
pub fn school_year_at(unix_secs: i64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let days = unix_secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let start = if month >= 8 { year } else { year - 1 };
    format!("{start}-{}", start + 1)
}

fn non_empty_long(what: &str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        Err(invalid(format!("{what} may not be empty")))
    } else if t.chars().count() > 500 {
        Err(invalid(format!("{what} is longer than 500 characters")))
    } else {
        Ok(t.to_string())
    }
}

fn non_empty(what: &str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        Err(invalid(format!("{what} may not be empty")))
    } else if t.chars().count() > 200 {
        Err(invalid(format!("{what} is longer than 200 characters")))
    } else if t.chars().any(char::is_control) {
        Err(invalid(format!("{what} contains control characters")))
    } else {
        Ok(t.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_year_turns_on_the_first_of_august() {
        // 2026-07-31 23:59:59 UTC and 2026-08-01 00:00:00 UTC
        assert_eq!(school_year_at(1_785_542_399), "2025-2026");
        assert_eq!(school_year_at(1_785_542_400), "2026-2027");
        assert_eq!(school_year_at(1_767_225_600), "2025-2026"); // 2026-01-01
    }

    #[test]
    fn redirect_uris_follow_the_security_bcp() {
        for ok in [
            "https://uitgever.example/cb",
            "http://127.0.0.1:8081/cb",
            "http://localhost/cb",
            "nl.uitgever.app:/cb",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://uitgever.example/cb",
            "https://uitgever.example/cb#x",
            "/cb",
            "javascript:alert(1)",
            "https:///cb",
            // WHATWG reads a backslash as a slash: the host is evil.example, not localhost.
            "http://evil.example\\@localhost/cb",
            "https://evil.example\\@uitgever.example/cb",
            "https://user:pw@uitgever.example/cb",
            "https://uitgever.example",
            "https://UITGEVER.example/cb",
            "http://localhost.evil.example/cb",
            "http://127.0.0.1.evil.example/cb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn e_mail_addresses() {
        assert_eq!(
            normalise_email(" Juf.Anna@School.NL ").ok().as_deref(),
            Some("juf.anna@school.nl")
        );
        for bad in [
            "anna",
            "anna@",
            "@school.nl",
            "a@b",
            "a b@school.nl",
            "a@@school.nl",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(host_of("https://a.example:8443/x?y"), "a.example");
        assert_eq!(host_of("http://[::1]:80/x"), "::1");
        assert_eq!(
            host_of("http://evil.example\\@localhost/cb"),
            "evil.example"
        );
    }
}
