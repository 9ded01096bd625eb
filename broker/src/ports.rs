//! What the broker's decisions reach the world through. A decision takes a [`World`] — the
//! directory, the ephemeral store, the clock and the outbox — and returns what happened; the
//! `idp` crate builds the `World` from its state and turns the outcome into HTTP, CLI output
//! or metrics. Nothing behind these traits is chosen here: SQLite or PostgreSQL, in-process
//! or Redis, SMTP or the outbox folder are the server's business.

use crate::clock::Clock;
use crate::repo::Directory;
use crate::store::EphemeralStore;

/// Everything a decision may read or change.
#[derive(Clone, Copy)]
pub struct World<'a> {
    pub dir: &'a dyn Directory,
    pub store: &'a dyn EphemeralStore,
    pub clock: &'a dyn Clock,
    pub outbox: &'a dyn Outbox,
    /// The public base URL (the OIDC issuer); links in letters start with it.
    pub issuer: &'a str,
}

impl std::fmt::Debug for World<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl World<'_> {
    /// Now, in seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.clock.now_secs()
    }
}

/// A letter the broker decided to send. The server words it (in Dutch, from its catalogue)
/// and delivers it; the broker only says to whom, which kind, and the link in it.
#[derive(Clone, PartialEq, Eq)]
pub enum Letter {
    /// A staff member's first password (the account is inactive until it is set).
    StaffActivation {
        to: String,
        given_name: String,
        link: String,
    },
    /// A staff member's new password.
    StaffReset {
        to: String,
        given_name: String,
        link: String,
    },
    /// A parent's first password for home sign-in.
    HomeActivation { to: String, link: String },
    /// A parent's new password for home sign-in.
    HomeReset { to: String, link: String },
    /// A substitute's sign-in link, valid until `until`.
    SubstituteSignIn {
        to: String,
        name: String,
        group: String,
        school: String,
        until: i64,
        link: String,
    },
    /// To the operator: a school's ICT coordinator asks for the school account to be closed.
    ClosingRequested {
        to: String,
        school: String,
        instelling_ref: String,
        brin6: String,
        by: String,
    },
}

impl Letter {
    /// The address the letter goes to.
    pub fn to(&self) -> &str {
        match self {
            Letter::StaffActivation { to, .. }
            | Letter::StaffReset { to, .. }
            | Letter::HomeActivation { to, .. }
            | Letter::HomeReset { to, .. }
            | Letter::ClosingRequested { to, .. }
            | Letter::SubstituteSignIn { to, .. } => to,
        }
    }
}

/// Letters carry one-time links: their `Debug` names the kind only.
impl std::fmt::Debug for Letter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Letter::StaffActivation { .. } => "Letter::StaffActivation",
            Letter::StaffReset { .. } => "Letter::StaffReset",
            Letter::HomeActivation { .. } => "Letter::HomeActivation",
            Letter::HomeReset { .. } => "Letter::HomeReset",
            Letter::ClosingRequested { .. } => "Letter::ClosingRequested",
            Letter::SubstituteSignIn { .. } => "Letter::SubstituteSignIn",
        })
    }
}

/// The letter could not be delivered (the message says why, without the link).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OutboxError(pub String);

/// Where letters go.
pub trait Outbox: Send + Sync {
    fn send(&self, letter: &Letter) -> Result<(), OutboxError>;
}
