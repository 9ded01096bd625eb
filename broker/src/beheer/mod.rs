//! Beheer: what a school's ICT coordinator does to their own school's account — which
//! publishers and network environments receive the school's data ([`consent`]) and who works
//! there ([`staff`]).
//!
//! Every operation takes the school from the signed-in coordinator ([`Coordinator`]), never
//! from the request. An id that is not the school's own — another school's teacher, a relying
//! party that does not exist — is [`BeheerError::NotFound`], which looks the same from outside
//! as an id that does not exist at all. Every change is written with its audit line in one
//! transaction (the directory's `audited`), with the coordinator as the actor.

use claims::{InstellingRef, Role};
use uuid::Uuid;

use crate::admin::{AdminError, Ctx};
use crate::clock::Clock;
use crate::model::{User, UserStatus};
use crate::repo::{Directory, RepoError};

pub mod closing;
pub mod consent;
pub mod dynamic_ip;
pub mod logboek;
pub mod merger_consent;
pub mod niveaus;
pub mod pupils;
pub mod school;
pub mod staff;
pub mod substitutes;

/// Who runs a school in Beheer: a signed-in, active ICT coordinator of it — or the operator,
/// on the command line, acting on one school the same way.
#[derive(Debug, Clone)]
pub struct Coordinator {
    /// The coordinator (`None`: the operator).
    pub user: Option<User>,
    school: InstellingRef,
    actor: String,
}

impl Coordinator {
    /// `user` as a coordinator: an active staff member with the `ict-coordinator` role.
    pub fn of(user: User) -> Option<Self> {
        is_active_coordinator(&user).then(|| Self {
            actor: format!("user:{}", user.id),
            school: user.school,
            user: Some(user),
        })
    }

    /// The operator acting on `school` (the command line: actor `cli`).
    pub fn operator(school: InstellingRef) -> Self {
        Self {
            user: None,
            school,
            actor: "cli".into(),
        }
    }

    /// The coordinator's name, or "the operator" for the command line.
    pub fn name(&self) -> String {
        self.user
            .as_ref()
            .map_or_else(|| "Leerpoort operator".into(), User::display_name)
    }

    /// `user:<uuid>`: who the audit trail names.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The school this coordinator runs, and the only one they reach.
    pub fn school(&self) -> &InstellingRef {
        &self.school
    }

    /// The context the operator's operations take, with this coordinator as the actor.
    pub fn ctx<'a>(&'a self, dir: &'a dyn Directory, clock: &'a dyn Clock) -> Ctx<'a> {
        Ctx {
            dir,
            clock,
            actor: &self.actor,
        }
    }

    /// The user `id` when they belong to this school (and are not removed); otherwise
    /// [`BeheerError::NotFound`].
    pub fn own_user(&self, dir: &dyn Directory, id: Uuid) -> Result<User> {
        dir.user(id)?
            .filter(|u| &u.school == self.school() && u.status != UserStatus::Removed)
            .ok_or(BeheerError::NotFound)
    }
}

/// Is `user` an active ICT coordinator?
pub fn is_active_coordinator(user: &User) -> bool {
    user.status == UserStatus::Active && user.roles.contains(&Role::IctCoordinator)
}

/// What a coordinator's request may be refused for; the pages word each in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The change would leave the school without an active ICT coordinator.
    LastCoordinator,
    /// A name is missing.
    NameMissing,
    /// The e-mail address is not one.
    EmailInvalid,
    /// Another account has this e-mail address already.
    EmailTaken,
    /// Not a role a coordinator gives in Beheer (`ict-coordinator`, `ib`, `rt`, `stagiaire`).
    RoleNotAllowed,
    /// The person has no e-mail address, or the account is disabled: no link can be sent.
    NoLink,
    /// A substitution lasts 1, 2 or 5 school days.
    DaysNotAllowed,
    /// Not a network (CIDR) or an address.
    NetworkInvalid,
    /// Wider than a school's network may be.
    NetworkTooWide,
    /// The school has as many networks as it may keep.
    TooManyNetworks,
    /// A level (niveau) is not a year group 1 to 8.
    NiveauInvalid,
}

impl Refusal {
    /// The refusal in English, for the command line and the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastCoordinator => "the school must keep at least one active ICT coordinator",
            Self::NameMissing => "a given name and a family name are needed",
            Self::EmailInvalid => "that is not an e-mail address",
            Self::EmailTaken => "another account has this e-mail address",
            Self::RoleNotAllowed => "that role is not given in Beheer",
            Self::NoLink => "no link can be sent: no e-mail address, or the account is disabled",
            Self::DaysNotAllowed => "a substitution lasts 1, 2 or 5 school days",
            Self::NetworkInvalid => "not a network (CIDR, like 192.0.2.0/24) or an address",
            Self::NetworkTooWide => "a school network may be at most a /16 (IPv4) or a /32 (IPv6)",
            Self::TooManyNetworks => "the school has as many networks as it may keep",
            Self::NiveauInvalid => "a level is a year group, 1 to 8",
        }
    }
}

/// Why a Beheer operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BeheerError {
    /// Not there, or not this school's (the same answer for both).
    #[error("not found")]
    NotFound,
    /// A rule refuses it; nothing was written.
    #[error("{}", .0.as_str())]
    Refused(Refusal),
    /// The directory did not answer (or refused the write).
    #[error(transparent)]
    Repo(RepoError),
    #[error(transparent)]
    Admin(AdminError),
}

impl From<RepoError> for BeheerError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(_) => BeheerError::NotFound,
            other => BeheerError::Repo(other),
        }
    }
}

impl From<AdminError> for BeheerError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Repo(r) => r.into(),
            other => BeheerError::Admin(other),
        }
    }
}

pub type Result<T> = std::result::Result<T, BeheerError>;
