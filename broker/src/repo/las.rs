//! The automatic coupling with a school's pupil administration: [`LasCouplings`].

use claims::InstellingRef;
use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, RelyingParty};

/// An LAS the operator registered: a relying party of kind `las` (its client authenticates
/// at `/oidc/token` for the push API) and, for pull, its UWLR endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LasSupplier {
    pub rp: RelyingParty,
    /// The UWLR 2.3 endpoint Leerpoort fetches from (`HaalLeerlinggegevens`), if it pulls.
    pub uwlr_url: Option<String>,
}

impl LasSupplier {
    /// Its id (the relying party's).
    pub fn id(&self) -> Uuid {
        self.rp.id
    }

    pub fn name(&self) -> &str {
        &self.rp.name
    }
}

/// One school and one LAS, with the two sides of consent apart.
#[derive(Clone, PartialEq, Eq)]
pub struct LasCoupling {
    pub school: InstellingRef,
    pub las: Uuid,
    /// The school's side: when its coordinator chose this LAS (none: not chosen, or
    /// "Handmatig importeren" since).
    pub school_chose_at: Option<i64>,
    /// The LAS's side: when it turned Leerpoort on for the school (push), or the school's
    /// autorisatiesleutel was put on file (pull). None: not, or withdrawn.
    pub las_granted_at: Option<i64>,
    /// Pull: the autorisatiesleutel the LAS issued for the school, sealed with the school's
    /// INSTELLING_REF as associated data.
    pub sealed_key: Option<String>,
    /// The last pull or push, and what came of it (a report, or why it failed).
    pub last_run_at: Option<i64>,
    pub last_outcome: Option<serde_json::Value>,
}

impl std::fmt::Debug for LasCoupling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LasCoupling")
            .field("school", &self.school)
            .field("las", &self.las)
            .field("school_chose_at", &self.school_chose_at)
            .field("las_granted_at", &self.las_granted_at)
            .field("sealed_key", &self.sealed_key.as_ref().map(|_| "<sealed>"))
            .field("last_run_at", &self.last_run_at)
            .finish_non_exhaustive()
    }
}

/// What changes on one side of a coupling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CouplingChange {
    /// The school chooses `las` (and no other), or with `None` "Handmatig importeren".
    SchoolChoice { las: Option<Uuid>, at: i64 },
    /// The LAS's side: granted at `at` with (pull) the sealed key, or withdrawn (`None`).
    LasSide {
        las: Uuid,
        granted: Option<(i64, Option<String>)>,
    },
}

/// The LASes and every school's couplings.
pub trait LasCouplings {
    /// Register an LAS: its relying party and endpoint, with `audit`, in one transaction.
    fn insert_las(&self, las: LasSupplier, audit: AuditEvent) -> RepoResult<LasSupplier>;
    /// Every registered LAS, by name.
    fn las_suppliers(&self) -> RepoResult<Vec<LasSupplier>>;
    /// The school's couplings (one per LAS that either side ever named).
    fn couplings_of(&self, school: &InstellingRef) -> RepoResult<Vec<LasCoupling>>;
    /// Apply `change` to the school's couplings and write `audit`, in one transaction.
    fn change_coupling(
        &self,
        school: &InstellingRef,
        change: CouplingChange,
        audit: AuditEvent,
    ) -> RepoResult<()>;
    /// Every coupling the school chose whose LAS has granted too, with a UWLR endpoint: what
    /// the nightly pull fetches.
    fn active_pulls(&self) -> RepoResult<Vec<LasCoupling>>;
    /// Note the last run on a coupling (with `audit` when it is worth a line of its own).
    fn note_las_run(
        &self,
        school: &InstellingRef,
        las: Uuid,
        at: i64,
        outcome: &serde_json::Value,
        audit: Option<AuditEvent>,
    ) -> RepoResult<()>;
}
