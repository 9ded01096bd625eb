//! [`broker::repo::StaffTotp`] on diesel: the `staff_totp` table.

use broker::model::AuditEvent;
use broker::repo::{NewStaffTotp, RepoResult, StaffTotp};
use diesel::prelude::*;
use uuid::Uuid;

use super::audit::write_audit;
use super::directory::DieselDirectory;
use super::schema::staff_totp;

impl StaffTotp for DieselDirectory {
    fn staff_totp(&self, user: Uuid) -> RepoResult<Option<(String, i64)>> {
        self.read(|c| {
            Ok(staff_totp::table
                .find(user.to_string())
                .select((staff_totp::sealed, staff_totp::last_step))
                .first(c)
                .optional()?)
        })
    }

    fn put_staff_totp(
        &self,
        totp: NewStaffTotp<'_>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        self.audited(audit, |c| {
            diesel::delete(staff_totp::table.find(totp.user.to_string())).execute(c)?;
            diesel::insert_into(staff_totp::table)
                .values((
                    staff_totp::user_id.eq(totp.user.to_string()),
                    staff_totp::sealed.eq(totp.sealed),
                    staff_totp::last_step.eq(totp.step),
                    staff_totp::enrolled_at.eq(now),
                ))
                .execute(c)?;
            Ok(())
        })
    }

    fn use_totp_step(&self, user: Uuid, step: i64) -> RepoResult<bool> {
        // In a transaction, not `read`: run twice, the second would find the step used.
        self.tx(|c| {
            let n = diesel::update(
                staff_totp::table
                    .filter(staff_totp::user_id.eq(user.to_string()))
                    .filter(staff_totp::last_step.lt(step)),
            )
            .set(staff_totp::last_step.eq(step))
            .execute(c)?;
            Ok(n == 1)
        })
    }

    fn remove_staff_totp(&self, user: Uuid, audit: AuditEvent) -> RepoResult<bool> {
        self.tx(|c| {
            let n = diesel::delete(staff_totp::table.find(user.to_string())).execute(c)?;
            if n > 0 {
                write_audit(c, audit)?;
            }
            Ok(n > 0)
        })
    }
}
