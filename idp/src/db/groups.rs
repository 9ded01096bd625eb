//! [`broker::repo::Groups`] on diesel: the `school_groups` table.

use std::str::FromStr;

use broker::model::{AuditEvent, Group};
use broker::repo::{Groups, RepoError, RepoResult};
use claims::{InstellingRef, Jaargroep};
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{corrupt, parse_ref, parse_uuid, DieselDirectory};
use super::schema::school_groups;
use super::schools::load_school;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = school_groups)]
struct GroupRow {
    id: String,
    school_ref: String,
    las_key: String,
    name: String,
    jaargroep: Option<i32>,
    composite: bool,
    school_year: String,
    created_at: i64,
    updated_at: i64,
}

impl GroupRow {
    fn into_domain(self) -> RepoResult<Group> {
        let jaargroep = self
            .jaargroep
            .map(|j| Jaargroep::from_str(&j.to_string()).map_err(|e| corrupt("jaargroep", e)))
            .transpose()?;
        Ok(Group {
            id: parse_uuid(&self.id)?,
            school: parse_ref(&self.school_ref)?,
            key: self.las_key,
            name: self.name,
            jaargroep,
            composite: self.composite,
            school_year: self.school_year,
        })
    }
}

impl Groups for DieselDirectory {
    fn insert_group(&self, group: Group, now: i64, audit: AuditEvent) -> RepoResult<Group> {
        let row = GroupRow {
            id: group.id.to_string(),
            school_ref: group.school.to_string(),
            las_key: group.key,
            name: group.name,
            jaargroep: group.jaargroep.map(|j| i32::from(j.get())),
            composite: group.composite,
            school_year: group.school_year,
            created_at: now,
            updated_at: now,
        };
        self.audited(audit, |c| {
            if load_school(c, &row.school_ref)?.is_none() {
                return Err(RepoError::NotFound(format!(
                    "no school with INSTELLING_REF {}",
                    row.school_ref
                ))
                .into());
            }
            diesel::insert_into(school_groups::table)
                .values(&row)
                .execute(c)?;
            Ok(())
        })?;
        row.into_domain()
    }

    fn group(&self, id: Uuid) -> RepoResult<Option<Group>> {
        self.find(
            |c| {
                school_groups::table
                    .find(id.to_string())
                    .select(GroupRow::as_select())
                    .first(c)
            },
            GroupRow::into_domain,
        )
    }

    fn group_by_key(&self, school: &InstellingRef, key: &str) -> RepoResult<Option<Group>> {
        self.find(
            |c| {
                school_groups::table
                    .filter(school_groups::school_ref.eq(school.to_string()))
                    .filter(school_groups::las_key.eq(key))
                    .select(GroupRow::as_select())
                    .first(c)
            },
            GroupRow::into_domain,
        )
    }

    fn groups_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Group>> {
        self.load_all(
            |c| {
                school_groups::table
                    .filter(school_groups::school_ref.eq(school.to_string()))
                    .select(GroupRow::as_select())
                    .order((school_groups::jaargroep, school_groups::name))
                    .load(c)
            },
            GroupRow::into_domain,
        )
    }
}
