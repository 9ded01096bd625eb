//! Administrative operations: what the `leerpoort` command (and later the school
//! administration pages) do to the directory. Each validates its input completely before it
//! writes, writes in one transaction with its audit event, and returns what it made.

use std::str::FromStr;

use broker::audit::AuditAction;
use broker::clock::Clock;
use broker::model::{AuditEvent, School};
use broker::repo::{Directory, RepoError};
use claims::InstellingRef;

use broker::secrets::SecretError;

mod clients;
mod registrations;
mod saml_sps;
mod schools;
mod settings;
mod upstreams;
mod users;

pub use clients::*;
pub use registrations::*;
pub use saml_sps::*;
pub use schools::*;
pub use settings::*;
pub use upstreams::*;
pub use users::*;

/// Errors of administrative operations: one line each, naming what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    WeakPassword(#[from] broker::login::password_policy::WeakPassword),
}

type Result<T> = std::result::Result<T, AdminError>;

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
    fn now(&self) -> i64 {
        self.clock.now_secs()
    }

    fn audit(
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
            broker::model::SchoolStatus::Active => Ok(school),
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
