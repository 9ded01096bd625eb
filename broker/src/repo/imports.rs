//! School data from the pupil administration, applied as one change: [`Imports`].

use claims::{EckId, InstellingRef, Role};
use uuid::Uuid;

use super::{NewUser, RepoResult};
use crate::model::{AuditEvent, Group};

/// A person the import knows already, as the file has them now.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonUpdate {
    pub id: Uuid,
    pub las_key: Option<String>,
    pub eck_id: Option<EckId>,
    pub given_name: String,
    pub family_name: String,
    /// Staff only; pupils keep none.
    pub email: Option<String>,
    /// Every group of the school they are in from now on.
    pub group_ids: Vec<Uuid>,
    /// Roles to add (an import never takes a role away).
    pub add_roles: Vec<Role>,
    /// They had left (a previous import no longer listed them) and are back: they may sign in
    /// again, as the same person.
    pub returns: bool,
    /// Where the record comes from from now on (`edexml`, ...).
    pub source: String,
}

impl std::fmt::Debug for PersonUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonUpdate")
            .field("id", &self.id)
            .field("groups", &self.group_ids.len())
            .field("returns", &self.returns)
            .finish_non_exhaustive()
    }
}

/// Everything one import changes at one school. Applied in one transaction, or not at all.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    pub new_groups: Vec<Group>,
    /// Groups whose name, year group, kind or school year the file changes.
    pub changed_groups: Vec<Group>,
    /// Groups no longer in the file: they go, with their memberships.
    pub removed_groups: Vec<Uuid>,
    pub new_people: Vec<NewUser>,
    pub changed_people: Vec<PersonUpdate>,
    /// People an import brought who are no longer in the file: they can no longer sign in,
    /// and come back as the same person when a later file lists them again.
    pub left_people: Vec<Uuid>,
}

impl ImportPlan {
    pub fn is_empty(&self) -> bool {
        self.new_groups.is_empty()
            && self.changed_groups.is_empty()
            && self.removed_groups.is_empty()
            && self.new_people.is_empty()
            && self.changed_people.is_empty()
            && self.left_people.is_empty()
    }
}

/// A file for the next school year, imported ahead: it waits until `takes_effect`.
#[derive(Clone, PartialEq, Eq)]
pub struct StagedImport {
    pub school: InstellingRef,
    pub school_year: String,
    /// The door that reads `payload` (`edexml`, `spreadsheet`).
    pub source: String,
    /// The file as it came.
    pub payload: Vec<u8>,
    /// The report of the check made when it was staged.
    pub report: serde_json::Value,
    /// 1 August of its school year, 00:00 Europe/Amsterdam.
    pub takes_effect: i64,
    pub staged_at: i64,
}

impl std::fmt::Debug for StagedImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedImport")
            .field("school", &self.school)
            .field("school_year", &self.school_year)
            .field("source", &self.source)
            .field("takes_effect", &self.takes_effect)
            .finish_non_exhaustive()
    }
}

/// Applying an import.
pub trait Imports {
    /// Apply `plan` to `school` and write `audit`, in one transaction, at the audit event's
    /// moment. `Conflict` (a unique e-mail, ECK-iD or key) leaves everything as it was.
    fn apply_import(
        &self,
        school: &InstellingRef,
        plan: &ImportPlan,
        audit: AuditEvent,
    ) -> RepoResult<()>;

    /// Keep `staged` as its school's file for the next year (replacing an earlier one), and
    /// write `audit`, in one transaction.
    fn stage_import(&self, staged: &StagedImport, audit: AuditEvent) -> RepoResult<()>;

    /// The school's staged file, if any.
    fn staged_import(&self, school: &InstellingRef) -> RepoResult<Option<StagedImport>>;

    /// The schools whose staged file takes effect at or before `now`.
    fn staged_due(&self, now: i64) -> RepoResult<Vec<InstellingRef>>;

    /// Forget the school's staged file (it was applied, or withdrawn), with `audit` when
    /// given. Whether there was one.
    fn drop_staged(&self, school: &InstellingRef, audit: Option<AuditEvent>) -> RepoResult<bool>;
}
