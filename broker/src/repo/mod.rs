//! The storage the broker needs, as a trait. The `idp` crate implements it with diesel over
//! SQLite and PostgreSQL; both pass the same repository test suite.
//!
//! Every mutating call takes the [`AuditEvent`](crate::model::AuditEvent) that describes it
//! and writes it in the same transaction: a change without its audit line cannot happen.

mod audit;
mod cleanup;
mod devices;
mod duo;
mod dynamic_ip;
mod groups;
mod imports;
mod las;
mod licences;
mod mergers;
mod registrations;
mod relying_parties;
mod roster_times;
mod schools;
mod settings;
mod substitutes;
mod thuis;
mod totp;
mod upstreams;
mod users;
mod webhooks;

pub use audit::{Audit, AuditQuery};
pub use cleanup::{
    Cleanup, CleanupCounts, CleanupPolicy, CLEANUP_BATCH, LEASE_GRACE_SECS,
    OPERATOR_LINK_GRACE_SECS,
};
pub use devices::EnrolledDevices;
pub use duo::{DuoLoad, DuoRegistry, SchoolRename};
pub use dynamic_ip::DynamicIps;
pub use groups::Groups;
pub use imports::{ImportPlan, Imports, PersonUpdate, StagedImport};
pub use las::{CouplingChange, LasCoupling, LasCouplings, LasSupplier};
pub use licences::{holder_kind, Licences, StoredIcon};
pub use mergers::{Join, MergerPerson, MergerPlan, Mergers, Rekeyed, RenamedGroup, SplitPlan};
pub use registrations::{RegistrationChange, Registrations};
pub use relying_parties::{RelyingParties, SamlSpChange};
pub use roster_times::{RosterTimes, SchoolTimes};
pub use schools::{NewBoard, NewSchool, SchoolChange, Schools};
pub use settings::Settings;
pub use substitutes::{Substitutes, SubstitutionStart};
pub use thuis::{NewThuisCode, NewThuisToken, Thuis};
pub use totp::{NewStaffTotp, StaffTotp};
pub use upstreams::Upstreams;
pub use users::{InUse, NewUser, PasswordChange, PupilSecretChange, Users};
pub use webhooks::{OutboxEvent, Settle, Webhooks};

/// Errors of the directory. Messages name the field at fault, in words an operator reads.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RepoError {
    /// The thing referred to does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A uniqueness rule would be broken (duplicate e-mail, BRIN6 in use, ...).
    #[error("{0}")]
    Conflict(String),
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Backend(String),
}

pub type RepoResult<T> = Result<T, RepoError>;

/// What the broker reads and writes: one sub-trait per aggregate.
pub trait Directory:
    Schools
    + Groups
    + Users
    + StaffTotp
    + Thuis
    + RelyingParties
    + Registrations
    + Upstreams
    + Settings
    + Audit
    + EnrolledDevices
    + Substitutes
    + DynamicIps
    + Imports
    + DuoRegistry
    + Mergers
    + LasCouplings
    + Licences
    + RosterTimes
    + Webhooks
    + Cleanup
    + Send
    + Sync
    + std::fmt::Debug
{
    /// Is the database reachable? (`/readyz`.)
    fn ping(&self) -> RepoResult<()>;
}
