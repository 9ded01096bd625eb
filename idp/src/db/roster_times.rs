//! [`broker::repo::RosterTimes`] on diesel: the `updated_at`, `left_at` and `revoked_at`
//! columns of `users` and `school_groups`, and the removed users' tombstones.

use broker::model::UserStatus;
use broker::repo::{RepoResult, RosterTimes, SchoolTimes};
use claims::InstellingRef;
use diesel::prelude::*;

use super::directory::{parse_uuid, DieselDirectory};
use super::schema::{school_groups, users};
use super::users::{hydrate_users, UserRow};

impl RosterTimes for DieselDirectory {
    fn school_times(&self, school: &InstellingRef) -> RepoResult<SchoolTimes> {
        let r = school.to_string();
        self.snapshot(|c| {
            let user_rows: Vec<(String, i64, Option<i64>, Option<i64>)> = users::table
                .filter(users::school_ref.eq(&r))
                .select((
                    users::id,
                    users::updated_at,
                    users::left_at,
                    users::revoked_at,
                ))
                .load(c)?;
            let group_rows: Vec<(String, i64)> = school_groups::table
                .filter(school_groups::school_ref.eq(&r))
                .select((school_groups::id, school_groups::updated_at))
                .load(c)?;
            let removed_rows = users::table
                .filter(users::school_ref.eq(&r))
                .filter(users::offboarded.eq(UserStatus::Removed.as_str()))
                .select(UserRow::as_select())
                .load(c)?;
            let mut times = SchoolTimes {
                removed: hydrate_users(c, removed_rows)?,
                ..SchoolTimes::default()
            };
            for (id, updated, left, revoked) in user_rows {
                let at = updated.max(left.unwrap_or(0)).max(revoked.unwrap_or(0));
                times.users.insert(parse_uuid(&id)?, at);
            }
            for (id, updated) in group_rows {
                times.groups.insert(parse_uuid(&id)?, updated);
            }
            Ok(times)
        })
    }
}
