//! [`broker::repo::Substitutes`] on diesel: the `substitutions` table, and the substitute
//! account's name and status in `users`.

use broker::model::{AuditEvent, Substitution, User, UserStatus};
use broker::repo::{RepoError, RepoResult, Substitutes, SubstitutionStart};
use claims::InstellingRef;
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{DieselDirectory, TxError};
use super::schema::{substitutions, users};
use super::users::load_user;

#[derive(Queryable, Selectable)]
#[diesel(table_name = substitutions)]
struct SubstitutionRow {
    user_id: String,
    school_ref: String,
    group_id: String,
    email: String,
    days: i32,
    starts_at: i64,
    until_at: i64,
    activated_by: String,
}

impl SubstitutionRow {
    fn into_domain(self) -> RepoResult<Substitution> {
        let bad =
            |what: &str| RepoError::Backend(format!("substitution {}: bad {what}", self.user_id));
        Ok(Substitution {
            user: Uuid::parse_str(&self.user_id).map_err(|_| bad("user"))?,
            school: self.school_ref.parse().map_err(|_| bad("school"))?,
            group: Uuid::parse_str(&self.group_id).map_err(|_| bad("group"))?,
            email: self.email,
            days: u8::try_from(self.days).map_err(|_| bad("days"))?,
            starts_at: self.starts_at,
            until: self.until_at,
            activated_by: match self.activated_by.as_str() {
                "" => None,
                id => Some(Uuid::parse_str(id).map_err(|_| bad("activated_by"))?),
            },
        })
    }
}

impl Substitutes for DieselDirectory {
    fn substitutions_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Substitution>> {
        let school = school.to_string();
        self.load_all(
            |c| {
                substitutions::table
                    .filter(substitutions::school_ref.eq(&school))
                    .select(SubstitutionRow::as_select())
                    .load(c)
            },
            SubstitutionRow::into_domain,
        )
    }

    fn substitution(&self, user: Uuid) -> RepoResult<Option<Substitution>> {
        self.find(
            |c| {
                substitutions::table
                    .find(user.to_string())
                    .select(SubstitutionRow::as_select())
                    .first(c)
            },
            SubstitutionRow::into_domain,
        )
    }

    fn substitution_by_token(&self, token_hash: &str) -> RepoResult<Option<Substitution>> {
        self.find(
            |c| {
                substitutions::table
                    .filter(substitutions::token_hash.eq(token_hash))
                    .select(SubstitutionRow::as_select())
                    .first(c)
            },
            SubstitutionRow::into_domain,
        )
    }

    fn due_substitutions(&self, now: i64) -> RepoResult<Vec<Substitution>> {
        self.load_all(
            |c| {
                substitutions::table
                    .filter(substitutions::until_at.le(now))
                    .select(SubstitutionRow::as_select())
                    .load(c)
            },
            SubstitutionRow::into_domain,
        )
    }

    fn start_substitution(&self, start: SubstitutionStart, audit: AuditEvent) -> RepoResult<User> {
        let s = &start.substitution;
        let id = s.user.to_string();
        let now = audit.at;
        self.user_cache.remove(&s.user);
        let found = self.audited(audit, |c| {
            // A previous person's sessions and tokens end: the account is someone else's now.
            let n = diesel::update(users::table.find(&id))
                .set((
                    users::given_name.eq(&start.given_name),
                    users::family_name.eq(&start.family_name),
                    users::status.eq(UserStatus::Active.as_str()),
                    users::revoked_at.eq(Some(now - 1)),
                    users::updated_at.eq(now),
                ))
                .execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("no user {id}")).into());
            }
            diesel::delete(substitutions::table.find(&id)).execute(c)?;
            diesel::insert_into(substitutions::table)
                .values((
                    substitutions::user_id.eq(&id),
                    substitutions::school_ref.eq(s.school.to_string()),
                    substitutions::group_id.eq(s.group.to_string()),
                    substitutions::email.eq(&s.email),
                    substitutions::token_hash.eq(&start.token_hash),
                    substitutions::days.eq(i32::from(s.days)),
                    substitutions::starts_at.eq(s.starts_at),
                    substitutions::until_at.eq(s.until),
                    substitutions::activated_by
                        .eq(s.activated_by.map(|u| u.to_string()).unwrap_or_default()),
                ))
                .execute(c)?;
            load_user(c, &id)
        });
        self.user_cache.remove(&s.user);
        found?.ok_or_else(|| RepoError::NotFound(format!("no user {id}")))
    }

    fn end_substitution(
        &self,
        user: Uuid,
        anonymous: (&str, &str),
        audit: AuditEvent,
    ) -> RepoResult<User> {
        let id = user.to_string();
        let now = audit.at;
        self.user_cache.remove(&user);
        let found = self.audited(audit, |c| -> Result<Option<User>, TxError> {
            diesel::delete(substitutions::table.find(&id)).execute(c)?;
            diesel::update(users::table.find(&id))
                .set((
                    users::given_name.eq(anonymous.0),
                    users::family_name.eq(anonymous.1),
                    users::email.eq(None::<String>),
                    users::password_hash.eq(None::<String>),
                    users::status.eq(UserStatus::Inactive.as_str()),
                    users::revoked_at.eq(Some(now)),
                    users::updated_at.eq(now),
                ))
                .execute(c)?;
            load_user(c, &id)
        });
        self.user_cache.remove(&user);
        found?.ok_or_else(|| RepoError::NotFound(format!("no user {id}")))
    }
}
