//! [`broker::repo::Settings`] on diesel: the `settings` table.

use broker::model::AuditEvent;
use broker::repo::{RepoResult, Settings};
use diesel::prelude::*;

use super::directory::DieselDirectory;
use super::schema::settings;

impl Settings for DieselDirectory {
    fn setting(&self, key: &str) -> RepoResult<Option<String>> {
        self.read(|c| {
            Ok(settings::table
                .find(key)
                .select(settings::value)
                .first(c)
                .optional()?)
        })
    }

    fn put_setting(&self, key: &str, value: Option<&str>, audit: AuditEvent) -> RepoResult<()> {
        let now = audit.at;
        self.audited(audit, |c| {
            diesel::delete(settings::table.find(key)).execute(c)?;
            if let Some(v) = value {
                diesel::insert_into(settings::table)
                    .values((
                        settings::key.eq(key),
                        settings::value.eq(v),
                        settings::updated_at.eq(now),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
    }

    fn try_lease(&self, name: &str, holder: &str, now: i64, until: i64) -> RepoResult<bool> {
        super::staging::try_lease(self, name, holder, now, until)
    }
}
