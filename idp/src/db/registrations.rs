//! [`broker::repo::Registrations`] on diesel: the `registrations` table.

use broker::model::{AuditEvent, Registration};
use broker::repo::{RegistrationChange, Registrations, RepoError, RepoResult};
use claims::{InstellingRef, Release};
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{parse_ref, parse_uuid, DieselDirectory};
use super::schema::registrations;
use super::schools::load_school;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = registrations)]
struct RegistrationRow {
    school_ref: String,
    rp_id: String,
    allowed: bool,
    release_eckid: bool,
    release_names: bool,
    release_groups: bool,
    home_allowed: bool,
    since: i64,
    updated_at: i64,
}

impl RegistrationRow {
    fn into_domain(self) -> RepoResult<Registration> {
        Ok(Registration {
            school: parse_ref(&self.school_ref)?,
            rp_id: parse_uuid(&self.rp_id)?,
            allowed: self.allowed,
            release: Release {
                eckid: self.release_eckid,
                names: self.release_names,
                groups: self.release_groups,
            },
            home_allowed: self.home_allowed,
            since: self.since,
            updated_at: self.updated_at,
        })
    }
}

impl Registrations for DieselDirectory {
    fn put_registration(
        &self,
        change: RegistrationChange,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<Registration> {
        let school_ref = change.school.to_string();
        let rp_id = change.rp_id.to_string();
        self.audited(audit, |c| {
            if load_school(c, &school_ref)?.is_none() {
                return Err(RepoError::NotFound(format!(
                    "no school with INSTELLING_REF {school_ref}"
                ))
                .into());
            }
            let existing: Option<RegistrationRow> = registrations::table
                .find((&school_ref, &rp_id))
                .select(RegistrationRow::as_select())
                .first(c)
                .optional()?;
            let since = match &existing {
                Some(e) if e.allowed == change.allowed => e.since,
                _ => now,
            };
            let row = RegistrationRow {
                school_ref: school_ref.clone(),
                rp_id: rp_id.clone(),
                allowed: change.allowed,
                release_eckid: change.release.eckid,
                release_names: change.release.names,
                release_groups: change.release.groups,
                home_allowed: change.home_allowed,
                since,
                updated_at: now,
            };
            if existing.is_some() {
                diesel::update(registrations::table.find((&school_ref, &rp_id)))
                    .set(&row)
                    .execute(c)?;
            } else {
                diesel::insert_into(registrations::table)
                    .values(&row)
                    .execute(c)?;
            }
            Ok(row.into_domain()?)
        })
    }

    fn registration(&self, school: &InstellingRef, rp: Uuid) -> RepoResult<Option<Registration>> {
        self.find(
            |c| {
                registrations::table
                    .find((school.to_string(), rp.to_string()))
                    .select(RegistrationRow::as_select())
                    .first(c)
            },
            RegistrationRow::into_domain,
        )
    }

    fn registrations_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Registration>> {
        self.load_all(
            |c| {
                registrations::table
                    .filter(registrations::school_ref.eq(school.to_string()))
                    .select(RegistrationRow::as_select())
                    .load(c)
            },
            RegistrationRow::into_domain,
        )
    }

    fn registrations_of_relying_party(&self, rp: Uuid) -> RepoResult<Vec<Registration>> {
        self.load_all(
            |c| {
                registrations::table
                    .filter(registrations::rp_id.eq(rp.to_string()))
                    .order(registrations::school_ref)
                    .select(RegistrationRow::as_select())
                    .load(c)
            },
            RegistrationRow::into_domain,
        )
    }
}
