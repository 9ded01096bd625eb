//! When a school's records last changed, and the tombstones of removed users:
//! [`RosterTimes`], for rostering feeds that tell changes (OneRoster's `dateLastModified` and
//! `tobedeleted`).

use std::collections::HashMap;

use claims::InstellingRef;
use uuid::Uuid;

use super::RepoResult;
use crate::model::User;

/// A school's change moments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchoolTimes {
    /// Every user of the school, removed ones too: the last change to their record (unix
    /// seconds), their leaving and their offboarding included.
    pub users: HashMap<Uuid, i64>,
    /// Every group of the school: the last change to it.
    pub groups: HashMap<Uuid, i64>,
    /// The school's removed users as their tombstones keep them: id, roles, status `removed`,
    /// no names, identifiers or groups.
    pub removed: Vec<User>,
}

/// Change moments, read for a roster.
pub trait RosterTimes {
    fn school_times(&self, school: &InstellingRef) -> RepoResult<SchoolTimes>;
}
