//! A school's groups: [`Groups`].

use claims::InstellingRef;
use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, Group};

/// A school's groups.
pub trait Groups {
    /// Store a new group (its id chosen by the caller, as for every other insert).
    fn insert_group(&self, group: Group, now: i64, audit: AuditEvent) -> RepoResult<Group>;
    fn group(&self, id: Uuid) -> RepoResult<Option<Group>>;
    fn group_by_key(&self, school: &InstellingRef, key: &str) -> RepoResult<Option<Group>>;
    fn groups_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Group>>;
}
