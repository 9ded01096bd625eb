//! DUO's registry of school locations: [`DuoRegistry`].

use claims::{Brin6, InstellingRef};

use super::RepoResult;
use crate::model::{AuditEvent, DuoLocation};

/// A school that takes DUO's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolRename {
    pub school: InstellingRef,
    pub name: String,
}

/// What loading one of DUO's files changes. Applied in one transaction, or not at all.
#[derive(Debug, Clone, Default)]
pub struct DuoLoad {
    /// The moment of the load: every location the file lists was seen then.
    pub at: i64,
    /// Locations the registry did not hold.
    pub added: Vec<DuoLocation>,
    /// Locations whose data the file changes, or that are listed again after being gone; they
    /// replace the stored ones whole.
    pub changed: Vec<DuoLocation>,
    /// Locations the registry lists that the file no longer does: marked gone at `at`, kept.
    pub gone: Vec<Brin6>,
    /// Active schools whose name becomes DUO's.
    pub renamed: Vec<SchoolRename>,
}

/// The registry, as the last loaded file left it.
pub trait DuoRegistry {
    /// Every location the registry holds, those gone too, in BRIN6 order.
    fn duo_locations(&self) -> RepoResult<Vec<DuoLocation>>;
    /// One location, gone or not.
    fn duo_location(&self, brin6: &Brin6) -> RepoResult<Option<DuoLocation>>;
    /// Apply `load` and write `audit` (the load's line and one per renamed school) in one
    /// transaction. Every location still listed afterwards (added, changed or unchanged) has
    /// `seen_at` = `load.at`.
    fn apply_duo_load(&self, load: &DuoLoad, audit: Vec<AuditEvent>) -> RepoResult<()>;
}
