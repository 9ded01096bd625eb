//! [`broker::repo::Imports`] on diesel: one import's plan in one transaction.

use broker::model::{AuditEvent, Group};
use broker::repo::{ImportPlan, Imports, RepoError, RepoResult, StagedImport};
use claims::InstellingRef;
use diesel::prelude::*;

use super::directory::DieselDirectory;
use super::directory::TxError;
use super::schema::{school_groups, user_roles, users};
use super::users::{set_memberships, write_new_users};
use super::DbConnection;

fn write_group(c: &mut DbConnection, g: &Group, now: i64, new: bool) -> Result<(), TxError> {
    let jaargroep = g.jaargroep.map(|j| i32::from(j.get()));
    if new {
        diesel::insert_into(school_groups::table)
            .values((
                school_groups::id.eq(g.id.to_string()),
                school_groups::school_ref.eq(g.school.to_string()),
                school_groups::las_key.eq(&g.key),
                school_groups::name.eq(&g.name),
                school_groups::jaargroep.eq(jaargroep),
                school_groups::composite.eq(g.composite),
                school_groups::school_year.eq(&g.school_year),
                school_groups::created_at.eq(now),
                school_groups::updated_at.eq(now),
            ))
            .execute(c)?;
    } else {
        diesel::update(
            school_groups::table
                .find(g.id.to_string())
                .filter(school_groups::school_ref.eq(g.school.to_string())),
        )
        .set((
            school_groups::name.eq(&g.name),
            school_groups::jaargroep.eq(jaargroep),
            school_groups::composite.eq(g.composite),
            school_groups::school_year.eq(&g.school_year),
            school_groups::updated_at.eq(now),
        ))
        .execute(c)?;
    }
    Ok(())
}

impl Imports for DieselDirectory {
    fn stage_import(&self, staged: &StagedImport, audit: AuditEvent) -> RepoResult<()> {
        super::staging::stage(self, staged, audit)
    }

    fn staged_import(&self, school: &InstellingRef) -> RepoResult<Option<StagedImport>> {
        super::staging::staged(self, school)
    }

    fn staged_due(&self, now: i64) -> RepoResult<Vec<InstellingRef>> {
        super::staging::due(self, now)
    }

    fn drop_staged(&self, school: &InstellingRef, audit: Option<AuditEvent>) -> RepoResult<bool> {
        super::staging::drop(self, school, audit)
    }

    fn apply_import(
        &self,
        school: &InstellingRef,
        plan: &ImportPlan,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        let key = school.to_string();
        let now = audit.at;
        let done = self.audited(audit, |c| {
            for g in &plan.new_groups {
                write_group(c, g, now, true)?;
            }
            for g in &plan.changed_groups {
                write_group(c, g, now, false)?;
            }
            for id in &plan.removed_groups {
                diesel::delete(
                    school_groups::table
                        .find(id.to_string())
                        .filter(school_groups::school_ref.eq(&key)),
                )
                .execute(c)?;
            }
            write_new_users(c, &key, &plan.new_people, now)?;
            for p in &plan.changed_people {
                let id = p.id.to_string();
                let target = users::table.find(&id).filter(users::school_ref.eq(&key));
                let n = diesel::update(target)
                    .set((
                        users::las_key.eq(&p.las_key),
                        users::eck_id.eq(p.eck_id.as_ref().map(|e| e.as_str().to_string())),
                        users::given_name.eq(&p.given_name),
                        users::family_name.eq(&p.family_name),
                        users::email.eq(p.email.as_ref().map(|e| e.to_lowercase())),
                        users::source.eq(&p.source),
                        users::updated_at.eq(now),
                    ))
                    .execute(c)?;
                if n == 0 {
                    return Err(RepoError::NotFound(format!("no user {id} at this school")).into());
                }
                if p.returns {
                    diesel::update(users::table.find(&id).filter(users::left_at.is_not_null()))
                        .set((
                            users::offboarded.eq(None::<String>),
                            users::left_at.eq(None::<i64>),
                        ))
                        .execute(c)?;
                }
                for role in &p.add_roles {
                    diesel::insert_into(user_roles::table)
                        .values((
                            user_roles::user_id.eq(&id),
                            user_roles::role.eq(role.to_string()),
                        ))
                        .execute(c)?;
                }
                set_memberships(c, &key, &id, &p.group_ids)?;
            }
            for id in &plan.left_people {
                diesel::update(
                    users::table
                        .find(id.to_string())
                        .filter(users::school_ref.eq(&key))
                        .filter(users::offboarded.is_null()),
                )
                .set((
                    users::offboarded.eq(Some("disabled")),
                    users::left_at.eq(Some(now)),
                    users::revoked_at.eq(Some(now)),
                    users::updated_at.eq(now),
                ))
                .execute(c)?;
            }
            Ok(())
        });
        // Names, statuses and memberships changed for many: start the user cache afresh.
        self.user_cache.clear();
        done
    }
}
