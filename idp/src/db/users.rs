//! [`broker::repo::Users`] on diesel: the `users` table with `user_roles`, `group_members` and
//! `pupil_secrets`.

use std::str::FromStr;

use broker::model::{AuditEvent, PupilAuth, User, UserStanding, UserStatus};
use broker::repo::{
    InUse, NewUser, PasswordChange, PupilSecretChange, RepoError, RepoResult, Users,
};
use claims::{EckId, InstellingRef, Role};
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{corrupt, parse_ref, parse_uuid, DieselDirectory, TxError};
use super::schema::{
    group_members, pupil_secrets, school_groups, thuis_accounts, thuis_codes, thuis_links,
    thuis_tokens, user_roles, users,
};
use super::schools::load_school;
use super::DbConnection;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub(super) struct UserRow {
    id: String,
    school_ref: String,
    las_key: Option<String>,
    eck_id: Option<String>,
    given_name: String,
    family_name: String,
    email: Option<String>,
    status: String,
    picture: Option<String>,
    pupil_auth: Option<String>,
    pin_hash: Option<String>,
    picture_password_hash: Option<String>,
    password_hash: Option<String>,
    source: String,
    created_at: i64,
    updated_at: i64,
    offboarded: Option<String>,
    revoked_at: Option<i64>,
    left_at: Option<i64>,
}

/// The status from the `status` column (active or inactive) and the `offboarded` one (disabled
/// or removed, which take precedence); disabled by an import (`left_at`) is `Left`.
fn parse_user_status(
    status: &str,
    offboarded: Option<&str>,
    left_at: Option<i64>,
) -> RepoResult<UserStatus> {
    match (offboarded, status) {
        (Some("disabled"), _) if left_at.is_some() => Ok(UserStatus::Left),
        (Some("disabled"), _) => Ok(UserStatus::Disabled),
        (Some("removed"), _) => Ok(UserStatus::Removed),
        (Some(other), _) => Err(corrupt("user offboarding", other)),
        (None, "active") => Ok(UserStatus::Active),
        (None, "inactive") => Ok(UserStatus::Inactive),
        (None, other) => Err(corrupt("user status", other)),
    }
}

impl UserRow {
    fn into_domain(self, roles: Vec<Role>, group_ids: Vec<Uuid>) -> RepoResult<User> {
        let status = parse_user_status(&self.status, self.offboarded.as_deref(), self.left_at)?;
        let pupil_auth = match self.pupil_auth.as_deref() {
            None => None,
            Some("pin") => Some(PupilAuth::Pin),
            Some("picture") => Some(PupilAuth::Picture),
            Some(other) => return Err(corrupt("pupil_auth", other)),
        };
        Ok(User {
            id: parse_uuid(&self.id)?,
            school: parse_ref(&self.school_ref)?,
            roles,
            las_key: self.las_key,
            eck_id: self
                .eck_id
                .as_deref()
                .map(|e| EckId::parse_import(e).map_err(|_| corrupt("ECK-iD", "unparseable")))
                .transpose()?,
            given_name: self.given_name,
            family_name: self.family_name,
            email: self.email,
            status,
            picture: self.picture,
            pupil_auth,
            pin_hash: self.pin_hash,
            picture_password_hash: self.picture_password_hash,
            password_hash: self.password_hash,
            source: self.source,
            group_ids,
        })
    }
}

/// The user with this id, with roles and groups.
pub(super) fn load_user(conn: &mut DbConnection, id: &str) -> Result<Option<User>, TxError> {
    let rows = users::table
        .find(id)
        .select(UserRow::as_select())
        .load(conn)?;
    Ok(hydrate_users(conn, rows)?.pop())
}

/// Load users with their roles and groups, in two extra queries for the whole batch.
pub(super) fn hydrate_users(
    conn: &mut DbConnection,
    rows: Vec<UserRow>,
) -> Result<Vec<User>, TxError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let roles: Vec<(String, String)> = user_roles::table
        .filter(user_roles::user_id.eq_any(&ids))
        .select((user_roles::user_id, user_roles::role))
        .order((user_roles::user_id, user_roles::role))
        .load(conn)?;
    let groups: Vec<(String, String)> = group_members::table
        .filter(group_members::user_id.eq_any(&ids))
        .select((group_members::user_id, group_members::group_id))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut user_roles: Vec<Role> = roles
            .iter()
            .filter(|(u, _)| *u == row.id)
            .map(|(_, r)| Role::from_str(r).map_err(|e| corrupt("role", e)))
            .collect::<RepoResult<_>>()?;
        user_roles.sort_by_key(|r| role_rank(*r));
        let group_ids = groups
            .iter()
            .filter(|(u, _)| *u == row.id)
            .map(|(_, g)| parse_uuid(g))
            .collect::<RepoResult<_>>()?;
        out.push(row.into_domain(user_roles, group_ids)?);
    }
    Ok(out)
}

/// The order roles are listed in: the first is the one a token names.
fn role_rank(r: Role) -> u8 {
    match r {
        Role::Leerling => 0,
        Role::Leerkracht => 1,
        Role::Invalkracht => 2,
        Role::IctCoordinator => 3,
        Role::Ib => 4,
        Role::Rt => 5,
        Role::Stagiaire => 6,
    }
}

/// The row of a user added at `now`.
fn new_row(user: &User, now: i64) -> UserRow {
    UserRow {
        id: user.id.to_string(),
        school_ref: user.school.to_string(),
        las_key: user.las_key.clone(),
        eck_id: user.eck_id.as_ref().map(|e| e.as_str().to_string()),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        email: user.email.as_ref().map(|e| e.to_lowercase()),
        status: user.status.as_str().into(),
        picture: user.picture.clone(),
        pupil_auth: user.pupil_auth.map(|p| p.as_str().to_string()),
        pin_hash: user.pin_hash.clone(),
        picture_password_hash: user.picture_password_hash.clone(),
        password_hash: user.password_hash.clone(),
        source: user.source.clone(),
        created_at: now,
        updated_at: now,
        offboarded: None,
        revoked_at: None,
        left_at: None,
    }
}

/// Insert `new` — the row, its sealed secret, roles and memberships (each group must be of the
/// user's school) — in the caller's transaction.
pub(super) fn write_new_user(
    c: &mut DbConnection,
    new: &NewUser,
    now: i64,
) -> Result<UserRow, TxError> {
    let user = &new.user;
    let id = user.id.to_string();
    let row = new_row(user, now);
    diesel::insert_into(users::table).values(&row).execute(c)?;
    if let Some(sealed) = &new.secret_sealed {
        diesel::insert_into(pupil_secrets::table)
            .values((
                pupil_secrets::user_id.eq(&id),
                pupil_secrets::sealed.eq(sealed),
                pupil_secrets::updated_at.eq(now),
            ))
            .execute(c)?;
    }
    for role in &user.roles {
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(&id),
                user_roles::role.eq(role.to_string()),
            ))
            .execute(c)?;
    }
    set_memberships(c, &row.school_ref, &id, &user.group_ids)?;
    Ok(row)
}

/// Insert the people an import adds to `school`, in the caller's transaction: as
/// [`write_new_user`] for each, with many rows to a statement (an import adds a thousand
/// pupils in a few dozen statements, not six thousand).
pub(super) fn write_new_users(
    c: &mut DbConnection,
    school: &str,
    new: &[NewUser],
    now: i64,
) -> Result<(), TxError> {
    /// Rows per statement: users have 19 columns, far below either backend's parameter limit.
    const CHUNK: usize = 200;
    if new.iter().any(|n| n.user.school.to_string() != school) {
        return Err(RepoError::NotFound("a person of another school".into()).into());
    }
    let groups: std::collections::HashSet<String> = school_groups::table
        .filter(school_groups::school_ref.eq(school))
        .select(school_groups::id)
        .load::<String>(c)?
        .into_iter()
        .collect();
    let rows: Vec<UserRow> = new.iter().map(|n| new_row(&n.user, now)).collect();
    let (mut secrets, mut roles, mut members) = (Vec::new(), Vec::new(), Vec::new());
    for n in new {
        let id = n.user.id.to_string();
        if let Some(sealed) = &n.secret_sealed {
            secrets.push((
                pupil_secrets::user_id.eq(id.clone()),
                pupil_secrets::sealed.eq(sealed.clone()),
                pupil_secrets::updated_at.eq(now),
            ));
        }
        for role in &n.user.roles {
            roles.push((
                user_roles::user_id.eq(id.clone()),
                user_roles::role.eq(role.to_string()),
            ));
        }
        for g in &n.user.group_ids {
            let g = g.to_string();
            if !groups.contains(&g) {
                return Err(RepoError::NotFound(format!("no group {g} at this school")).into());
            }
            members.push((
                group_members::group_id.eq(g),
                group_members::user_id.eq(id.clone()),
            ));
        }
    }
    for chunk in rows.chunks(CHUNK) {
        insert_many!(c, users::table, chunk)?;
    }
    for chunk in secrets.chunks(CHUNK) {
        insert_many!(c, pupil_secrets::table, chunk)?;
    }
    for chunk in roles.chunks(CHUNK) {
        insert_many!(c, user_roles::table, chunk)?;
    }
    for chunk in members.chunks(CHUNK) {
        insert_many!(c, group_members::table, chunk)?;
    }
    Ok(())
}

/// User `id` as `user remove` leaves them: removed, no names, keys, secrets or sign-in (the
/// id stays, so its pseudonyms are never given to anyone else); its sealed PIN and home login
/// code go too. How many users matched (0 or 1), in the caller's transaction.
pub(super) fn erase_personal_data(
    c: &mut DbConnection,
    id: &str,
    now: i64,
) -> Result<usize, TxError> {
    let n = diesel::update(users::table.find(id))
        .set((
            users::offboarded.eq(Some(UserStatus::Removed.as_str())),
            users::left_at.eq(None::<i64>),
            users::revoked_at.eq(Some(now)),
            users::updated_at.eq(now),
            users::given_name.eq(""),
            users::family_name.eq(""),
            users::email.eq(None::<String>),
            users::eck_id.eq(None::<String>),
            users::las_key.eq(None::<String>),
            users::picture.eq(None::<String>),
            users::pin_hash.eq(None::<String>),
            users::picture_password_hash.eq(None::<String>),
            users::password_hash.eq(None::<String>),
        ))
        .execute(c)?;
    diesel::delete(pupil_secrets::table.filter(pupil_secrets::user_id.eq(id))).execute(c)?;
    diesel::delete(thuis_codes::table.filter(thuis_codes::user_id.eq(id))).execute(c)?;
    Ok(n)
}

/// Make `user`'s groups exactly `groups` (each of `school`), in the caller's transaction.
pub(super) fn set_memberships(
    c: &mut DbConnection,
    school: &str,
    user: &str,
    groups: &[Uuid],
) -> Result<(), TxError> {
    diesel::delete(group_members::table.filter(group_members::user_id.eq(user))).execute(c)?;
    for g in groups {
        let group_school: Option<String> = school_groups::table
            .find(g.to_string())
            .select(school_groups::school_ref)
            .first(c)
            .optional()?;
        if group_school.as_deref() != Some(school) {
            return Err(RepoError::NotFound(format!("no group {g} at this school")).into());
        }
        diesel::insert_into(group_members::table)
            .values((
                group_members::group_id.eq(g.to_string()),
                group_members::user_id.eq(user),
            ))
            .execute(c)?;
    }
    Ok(())
}

impl Users for DieselDirectory {
    fn insert_user(&self, new: NewUser, now: i64, audit: AuditEvent) -> RepoResult<User> {
        let school_ref = new.user.school.to_string();
        self.audited(audit, move |c| {
            if load_school(c, &school_ref)?.is_none() {
                return Err(RepoError::NotFound(format!(
                    "no school with INSTELLING_REF {school_ref}"
                ))
                .into());
            }
            let row = write_new_user(c, &new, now)?;
            let mut users = hydrate_users(c, vec![row])?;
            users
                .pop()
                .ok_or_else(|| RepoError::NotFound("user vanished".into()).into())
        })
    }

    fn user(&self, id: Uuid) -> RepoResult<Option<User>> {
        let cached = self.user_cache.get(&id);
        if let Some(u) = cached {
            // The status is read again on every hit (one indexed column): a user disabled on
            // another node or by the command is refused here at once.
            if self
                .user_standing(id)?
                .is_some_and(|s| s.status == u.status)
            {
                return Ok(Some(u));
            }
        }
        let found = self.read(|c| load_user(c, &id.to_string()))?;
        if let Some(u) = &found {
            self.user_cache.put(id, u.clone());
        }
        Ok(found)
    }

    fn user_by_email(&self, email: &str) -> RepoResult<Option<User>> {
        let email = email.trim().to_lowercase();
        self.snapshot(|c| {
            let rows = users::table
                .filter(users::email.eq(&email))
                .select(UserRow::as_select())
                .load(c)?;
            Ok(hydrate_users(c, rows)?.pop())
        })
    }

    fn users_of_group(&self, group: Uuid) -> RepoResult<Vec<User>> {
        self.snapshot(|c| {
            let rows = users::table
                .inner_join(group_members::table)
                .filter(group_members::group_id.eq(group.to_string()))
                .select(UserRow::as_select())
                .order((users::given_name, users::family_name))
                .load(c)?;
            hydrate_users(c, rows)
        })
    }

    fn users_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<User>> {
        self.snapshot(|c| {
            let rows = users::table
                .filter(users::school_ref.eq(school.to_string()))
                .filter(
                    users::offboarded
                        .is_null()
                        .or(users::offboarded.ne(UserStatus::Removed.as_str())),
                )
                .select(UserRow::as_select())
                .order((users::given_name, users::family_name))
                .load(c)?;
            hydrate_users(c, rows)
        })
    }

    fn user_standing(&self, id: Uuid) -> RepoResult<Option<UserStanding>> {
        if let Some(read) = super::standing::remembered(id) {
            return Ok(read);
        }
        type Row = (String, Option<String>, Option<i64>, Option<i64>);
        let row: Option<Row> = self.read(|c| {
            Ok(users::table
                .find(id.to_string())
                .select((
                    users::status,
                    users::offboarded,
                    users::revoked_at,
                    users::left_at,
                ))
                .first(c)
                .optional()?)
        })?;
        let standing = row
            .map(|(status, offboarded, revoked_at, left_at)| {
                Ok::<_, RepoError>(UserStanding {
                    status: parse_user_status(&status, offboarded.as_deref(), left_at)?,
                    revoked_at,
                })
            })
            .transpose()?;
        super::standing::remember(id, standing);
        Ok(standing)
    }

    fn set_disabled(&self, user: Uuid, disabled: bool, audit: AuditEvent) -> RepoResult<User> {
        let now = audit.at;
        self.user_cache.remove(&user);
        let found = self.audited(audit, |c| {
            let target = users::table.find(user.to_string()).filter(
                users::offboarded
                    .is_null()
                    .or(users::offboarded.ne(UserStatus::Removed.as_str())),
            );
            let n = if disabled {
                diesel::update(target)
                    .set((
                        users::offboarded.eq(Some(UserStatus::Disabled.as_str())),
                        users::left_at.eq(None::<i64>),
                        users::revoked_at.eq(Some(now)),
                        users::updated_at.eq(now),
                    ))
                    .execute(c)?
            } else {
                diesel::update(target)
                    .set((
                        users::offboarded.eq(None::<String>),
                        users::left_at.eq(None::<i64>),
                        users::updated_at.eq(now),
                    ))
                    .execute(c)?
            };
            if n == 0 {
                return Err(RepoError::NotFound(format!("no user {user} (or removed)")).into());
            }
            load_user(c, &user.to_string())
        })?;
        self.user_cache.remove(&user);
        found.ok_or_else(|| RepoError::NotFound(format!("no user {user}")))
    }

    fn remove_user(&self, user: Uuid, now: i64, audit: AuditEvent) -> RepoResult<User> {
        self.user_cache.remove(&user);
        let id = user.to_string();
        let found = self.audited(audit, |c| {
            if erase_personal_data(c, &id, now)? == 0 {
                return Err(RepoError::NotFound(format!("no user {user}")).into());
            }
            diesel::delete(group_members::table.filter(group_members::user_id.eq(&id)))
                .execute(c)?;
            let accounts: Vec<String> = thuis_links::table
                .filter(thuis_links::user_id.eq(&id))
                .select(thuis_links::account_id)
                .load(c)?;
            diesel::delete(thuis_links::table.filter(thuis_links::user_id.eq(&id))).execute(c)?;
            for account in accounts {
                let left: i64 = thuis_links::table
                    .filter(thuis_links::account_id.eq(&account))
                    .count()
                    .get_result(c)?;
                if left == 0 {
                    diesel::delete(
                        thuis_tokens::table.filter(thuis_tokens::account_id.eq(&account)),
                    )
                    .execute(c)?;
                    diesel::delete(thuis_accounts::table.find(&account)).execute(c)?;
                }
            }
            load_user(c, &id)
        })?;
        self.user_cache.remove(&user);
        found.ok_or_else(|| RepoError::NotFound(format!("no user {user}")))
    }

    fn user_by_las_key(&self, school: &InstellingRef, key: &str) -> RepoResult<Option<User>> {
        self.read(|c| {
            let rows = users::table
                .filter(users::school_ref.eq(school.to_string()))
                .filter(users::las_key.eq(key))
                .select(UserRow::as_select())
                .load(c)?;
            Ok(hydrate_users(c, rows)?.pop())
        })
    }

    fn user_by_eck_id(&self, eck_id: &EckId) -> RepoResult<Option<User>> {
        self.read(|c| {
            let rows = users::table
                .filter(users::eck_id.eq(eck_id.as_str()))
                .select(UserRow::as_select())
                .load(c)?;
            Ok(hydrate_users(c, rows)?.pop())
        })
    }

    fn identifiers_in_use(&self, eck_ids: &[&str], emails: &[&str]) -> RepoResult<InUse> {
        /// Values per query: far below SQLite's and PostgreSQL's limits on parameters.
        const CHUNK: usize = 1000;
        self.read(|c| {
            let mut found = InUse::default();
            for chunk in eck_ids.chunks(CHUNK) {
                let hits: Vec<Option<String>> = users::table
                    .filter(users::eck_id.eq_any(chunk))
                    .select(users::eck_id)
                    .load(c)?;
                found.eck_ids.extend(hits.into_iter().flatten());
            }
            for chunk in emails.chunks(CHUNK) {
                let hits: Vec<Option<String>> = users::table
                    .filter(users::email.eq_any(chunk))
                    .select(users::email)
                    .load(c)?;
                found.emails.extend(hits.into_iter().flatten());
            }
            Ok(found)
        })
    }

    fn pupil_secret(&self, user: Uuid) -> RepoResult<Option<String>> {
        self.read(|c| {
            Ok(pupil_secrets::table
                .find(user.to_string())
                .select(pupil_secrets::sealed)
                .first(c)
                .optional()?)
        })
    }

    fn set_pupil_secrets(
        &self,
        changes: &[PupilSecretChange],
        audit: AuditEvent,
    ) -> RepoResult<()> {
        for ch in changes {
            self.user_cache.remove(&ch.user);
        }
        let now = audit.at;
        let done = self.audited(audit, |c| {
            for ch in changes {
                let id = ch.user.to_string();
                let target = users::table.find(&id).filter(users::offboarded.is_null());
                let n = match ch.auth {
                    PupilAuth::Pin => diesel::update(target)
                        .set((
                            users::pupil_auth.eq(Some(ch.auth.as_str())),
                            users::pin_hash.eq(Some(&ch.hash)),
                            users::updated_at.eq(now),
                        ))
                        .execute(c)?,
                    PupilAuth::Picture => diesel::update(target)
                        .set((
                            users::pupil_auth.eq(Some(ch.auth.as_str())),
                            users::picture_password_hash.eq(Some(&ch.hash)),
                            users::updated_at.eq(now),
                        ))
                        .execute(c)?,
                };
                if n == 0 {
                    return Err(RepoError::NotFound(format!("no pupil {id}")).into());
                }
                diesel::delete(pupil_secrets::table.filter(pupil_secrets::user_id.eq(&id)))
                    .execute(c)?;
                diesel::insert_into(pupil_secrets::table)
                    .values((
                        pupil_secrets::user_id.eq(&id),
                        pupil_secrets::sealed.eq(&ch.sealed),
                        pupil_secrets::updated_at.eq(now),
                    ))
                    .execute(c)?;
            }
            Ok(())
        });
        for ch in changes {
            self.user_cache.remove(&ch.user);
        }
        done
    }

    fn set_picture(
        &self,
        user: Uuid,
        picture: Option<&str>,
        audit: AuditEvent,
    ) -> RepoResult<User> {
        self.user_cache.remove(&user);
        let id = user.to_string();
        let now = audit.at;
        let found = self.audited(audit, |c| {
            let n = diesel::update(users::table.find(&id).filter(users::offboarded.is_null()))
                .set((users::picture.eq(picture), users::updated_at.eq(now)))
                .execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("no user {id}")).into());
            }
            load_user(c, &id)
        });
        self.user_cache.remove(&user);
        found?.ok_or_else(|| RepoError::NotFound(format!("no user {user}")))
    }

    fn set_roles(&self, user: Uuid, roles: &[Role], audit: AuditEvent) -> RepoResult<User> {
        self.user_cache.remove(&user);
        let now = audit.at;
        let id = user.to_string();
        let found = self.audited(audit, |c| {
            let n = diesel::update(
                users::table.find(&id).filter(
                    users::offboarded
                        .is_null()
                        .or(users::offboarded.ne(UserStatus::Removed.as_str())),
                ),
            )
            .set(users::updated_at.eq(now))
            .execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("no user {user} (or removed)")).into());
            }
            diesel::delete(user_roles::table.filter(user_roles::user_id.eq(&id))).execute(c)?;
            for role in roles {
                diesel::insert_into(user_roles::table)
                    .values((
                        user_roles::user_id.eq(&id),
                        user_roles::role.eq(role.to_string()),
                    ))
                    .execute(c)?;
            }
            load_user(c, &id)
        })?;
        self.user_cache.remove(&user);
        found.ok_or_else(|| RepoError::NotFound(format!("no user {user}")))
    }

    fn set_password_hash(
        &self,
        change: PasswordChange<'_>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        let PasswordChange {
            user,
            hash,
            activate,
        } = change;
        self.user_cache.remove(&user);
        self.audited(audit, |c| {
            let target = users::table.find(user.to_string());
            let n = if activate {
                diesel::update(target)
                    .set((
                        users::password_hash.eq(hash),
                        users::status.eq(UserStatus::Active.as_str()),
                        users::updated_at.eq(now),
                    ))
                    .execute(c)?
            } else {
                diesel::update(target)
                    .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
                    .execute(c)?
            };
            if n == 0 {
                return Err(RepoError::NotFound(format!("no user {user}")).into());
            }
            Ok(())
        })
    }
}
