//! School boards and schools: [`Schools`].

use claims::{Brin6, InstellingRef};
use ipnet::IpNet;
use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, School, SchoolBoard, SchoolStatus};

/// A new school board.
#[derive(Debug, Clone)]
pub struct NewBoard {
    pub id: Uuid,
    pub name: String,
    pub bestuursnummer: Option<String>,
}

/// A new school location.
#[derive(Debug, Clone)]
pub struct NewSchool {
    pub instelling_ref: InstellingRef,
    pub board_id: Option<Uuid>,
    pub brin6: Brin6,
    pub name: String,
    pub networks: Vec<IpNet>,
}

/// A school's changed settings; `None` keeps one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchoolChange {
    pub status: Option<SchoolStatus>,
    pub networks: Option<Vec<IpNet>>,
}

/// School boards and school locations.
pub trait Schools {
    fn insert_board(&self, board: NewBoard, now: i64, audit: AuditEvent)
        -> RepoResult<SchoolBoard>;
    fn board(&self, id: Uuid) -> RepoResult<Option<SchoolBoard>>;

    /// Fails with `Conflict` when an active school already has this BRIN6.
    fn insert_school(&self, school: NewSchool, now: i64, audit: AuditEvent) -> RepoResult<School>;
    fn school(&self, r: &InstellingRef) -> RepoResult<Option<School>>;
    fn schools(&self) -> RepoResult<Vec<School>>;
    /// DUO gave the school a new BRIN6 (and, when DUO's registry lists it, `name` with it).
    /// Identifiers given to relying parties do not change. At the audit event's moment.
    fn change_brin6(
        &self,
        r: &InstellingRef,
        brin6: Brin6,
        name: Option<&str>,
        audit: AuditEvent,
    ) -> RepoResult<School>;
    /// Change a school's status or networks, at the audit event's moment. `NotFound` for an
    /// unknown school.
    fn update_school(
        &self,
        r: &InstellingRef,
        change: SchoolChange,
        audit: AuditEvent,
    ) -> RepoResult<School>;
}
