//! A school's groups: [`Groups`].

use claims::{InstellingRef, Jaargroep};
use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, Group};

/// A new group.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub school: InstellingRef,
    pub key: String,
    pub name: String,
    pub jaargroep: Option<Jaargroep>,
    pub composite: bool,
    pub school_year: String,
}

/// A school's groups.
pub trait Groups {
    fn insert_group(&self, group: NewGroup, now: i64, audit: AuditEvent) -> RepoResult<Group>;
    fn group(&self, id: Uuid) -> RepoResult<Option<Group>>;
    fn group_by_key(&self, school: &InstellingRef, key: &str) -> RepoResult<Option<Group>>;
    fn groups_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Group>>;
}
