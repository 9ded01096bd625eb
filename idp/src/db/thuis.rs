//! [`broker::repo::Thuis`] on diesel: the `thuis_codes`, `thuis_accounts`, `thuis_links` and
//! `thuis_tokens` tables.

use broker::model::{AuditEvent, ThuisAccount, MAX_HOME_ADDRESSES};
use broker::repo::{NewThuisCode, NewThuisToken, RepoError, RepoResult, Thuis};
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{DieselDirectory, TxError};
use super::schema::{thuis_accounts, thuis_codes, thuis_links, thuis_tokens};
use super::DbConnection;

/// A home account with the pupils it serves.
fn load_thuis_account(c: &mut DbConnection, id: &str) -> Result<Option<ThuisAccount>, TxError> {
    let row: Option<(String, String, Option<String>, Option<i64>)> = thuis_accounts::table
        .find(id)
        .select((
            thuis_accounts::id,
            thuis_accounts::email,
            thuis_accounts::password_hash,
            thuis_accounts::activated_at,
        ))
        .first(c)
        .optional()?;
    let Some((id, email, password_hash, activated_at)) = row else {
        return Ok(None);
    };
    let pupils: Vec<String> = thuis_links::table
        .filter(thuis_links::account_id.eq(&id))
        .select(thuis_links::user_id)
        .order((thuis_links::created_at.asc(), thuis_links::user_id.asc()))
        .load(c)?;
    let parse = |s: &str| {
        Uuid::parse_str(s).map_err(|_| {
            TxError::Repo(RepoError::Backend(format!(
                "a stored id is not a UUID: {s}"
            )))
        })
    };
    Ok(Some(ThuisAccount {
        id: parse(&id)?,
        email,
        password_hash,
        activated_at,
        pupils: pupils.iter().map(|p| parse(p)).collect::<Result<_, _>>()?,
    }))
}

impl Thuis for DieselDirectory {
    fn put_thuis_code(
        &self,
        code: NewThuisCode<'_>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        self.audited(audit, |c| {
            diesel::delete(thuis_codes::table.find(code.user.to_string())).execute(c)?;
            diesel::insert_into(thuis_codes::table)
                .values((
                    thuis_codes::user_id.eq(code.user.to_string()),
                    thuis_codes::code_hash.eq(code.code_hash),
                    thuis_codes::sealed.eq(code.sealed),
                    thuis_codes::created_at.eq(now),
                ))
                .execute(c)?;
            Ok(())
        })
    }

    fn thuis_code_user(&self, code_hash: &str) -> RepoResult<Option<Uuid>> {
        self.read(|c| {
            let id: Option<String> = thuis_codes::table
                .filter(thuis_codes::code_hash.eq(code_hash))
                .select(thuis_codes::user_id)
                .first(c)
                .optional()?;
            Ok(id.and_then(|i| Uuid::parse_str(&i).ok()))
        })
    }

    fn thuis_code_sealed(&self, user: Uuid) -> RepoResult<Option<String>> {
        self.read(|c| {
            Ok(thuis_codes::table
                .find(user.to_string())
                .select(thuis_codes::sealed)
                .first(c)
                .optional()?)
        })
    }

    fn thuis_accounts_of_user(&self, user: Uuid) -> RepoResult<Vec<ThuisAccount>> {
        self.read(|c| {
            let ids: Vec<String> = thuis_links::table
                .filter(thuis_links::user_id.eq(user.to_string()))
                .select(thuis_links::account_id)
                .order((thuis_links::created_at.asc(), thuis_links::account_id.asc()))
                .load(c)?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(a) = load_thuis_account(c, &id)? {
                    out.push(a);
                }
            }
            Ok(out)
        })
    }

    fn thuis_account_by_email(&self, email: &str) -> RepoResult<Option<ThuisAccount>> {
        self.read(|c| {
            let id: Option<String> = thuis_accounts::table
                .filter(thuis_accounts::email.eq(email))
                .select(thuis_accounts::id)
                .first(c)
                .optional()?;
            match id {
                Some(id) => load_thuis_account(c, &id),
                None => Ok(None),
            }
        })
    }

    fn thuis_account(&self, id: Uuid) -> RepoResult<Option<ThuisAccount>> {
        self.read(|c| load_thuis_account(c, &id.to_string()))
    }

    fn link_thuis_account(
        &self,
        user: Uuid,
        email: &str,
        audit: AuditEvent,
    ) -> RepoResult<ThuisAccount> {
        let now = audit.at;
        self.audited(audit, |c| {
            let existing: Option<String> = thuis_accounts::table
                .filter(thuis_accounts::email.eq(email))
                .select(thuis_accounts::id)
                .first(c)
                .optional()?;
            let id = match existing {
                Some(id) => id,
                None => {
                    let id = Uuid::new_v4().to_string();
                    diesel::insert_into(thuis_accounts::table)
                        .values((
                            thuis_accounts::id.eq(&id),
                            thuis_accounts::email.eq(email),
                            thuis_accounts::created_at.eq(now),
                            thuis_accounts::updated_at.eq(now),
                        ))
                        .execute(c)?;
                    id
                }
            };
            let linked: Vec<String> = thuis_links::table
                .filter(thuis_links::user_id.eq(user.to_string()))
                .select(thuis_links::account_id)
                .load(c)?;
            if !linked.contains(&id) {
                if linked.len() >= MAX_HOME_ADDRESSES {
                    return Err(RepoError::Conflict(format!(
                        "a pupil has at most {MAX_HOME_ADDRESSES} home addresses"
                    ))
                    .into());
                }
                diesel::insert_into(thuis_links::table)
                    .values((
                        thuis_links::account_id.eq(&id),
                        thuis_links::user_id.eq(user.to_string()),
                        thuis_links::created_at.eq(now),
                    ))
                    .execute(c)?;
            }
            load_thuis_account(c, &id)?
                .ok_or_else(|| RepoError::NotFound("home account".into()).into())
        })
    }

    fn unlink_thuis_account(&self, user: Uuid, account: Uuid, audit: AuditEvent) -> RepoResult<()> {
        self.audited(audit, |c| {
            let n = diesel::delete(
                thuis_links::table
                    .filter(thuis_links::user_id.eq(user.to_string()))
                    .filter(thuis_links::account_id.eq(account.to_string())),
            )
            .execute(c)?;
            if n == 0 {
                return Err(
                    RepoError::NotFound("this pupil has no such home address".into()).into(),
                );
            }
            let left: i64 = thuis_links::table
                .filter(thuis_links::account_id.eq(account.to_string()))
                .count()
                .get_result(c)?;
            if left == 0 {
                diesel::delete(
                    thuis_tokens::table.filter(thuis_tokens::account_id.eq(account.to_string())),
                )
                .execute(c)?;
                diesel::delete(thuis_accounts::table.find(account.to_string())).execute(c)?;
            }
            Ok(())
        })
    }

    fn put_thuis_token(&self, token: NewThuisToken<'_>, now: i64) -> RepoResult<()> {
        self.tx(|c| {
            // Expired links of anyone go as new ones are made.
            diesel::delete(thuis_tokens::table.filter(thuis_tokens::expires_at.le(now)))
                .execute(c)?;
            diesel::insert_into(thuis_tokens::table)
                .values((
                    thuis_tokens::token_hash.eq(token.token_hash),
                    thuis_tokens::account_id.eq(token.account.to_string()),
                    thuis_tokens::email.eq(token.email),
                    thuis_tokens::expires_at.eq(token.expires_at),
                    thuis_tokens::created_at.eq(now),
                ))
                .execute(c)?;
            Ok(())
        })
    }

    fn thuis_token(&self, token_hash: &str, now: i64) -> RepoResult<Option<(Uuid, String)>> {
        self.read(|c| {
            let row: Option<(String, String)> = thuis_tokens::table
                .find(token_hash)
                .filter(thuis_tokens::expires_at.gt(now))
                .select((thuis_tokens::account_id, thuis_tokens::email))
                .first(c)
                .optional()?;
            Ok(row.and_then(|(a, e)| Uuid::parse_str(&a).ok().map(|a| (a, e))))
        })
    }

    fn take_thuis_token(&self, token_hash: &str, now: i64) -> RepoResult<Option<(Uuid, String)>> {
        self.tx(|c| {
            let row: Option<(String, String, i64)> = thuis_tokens::table
                .find(token_hash)
                .select((
                    thuis_tokens::account_id,
                    thuis_tokens::email,
                    thuis_tokens::expires_at,
                ))
                .first(c)
                .optional()?;
            // Whoever deletes the row owns the link: a second use finds nothing.
            let n = diesel::delete(thuis_tokens::table.find(token_hash)).execute(c)?;
            Ok(row
                .filter(|(_, _, exp)| n == 1 && *exp > now)
                .and_then(|(account, email, _)| Uuid::parse_str(&account).ok().map(|a| (a, email))))
        })
    }

    fn set_thuis_password(
        &self,
        account: Uuid,
        hash: &str,
        audit: AuditEvent,
    ) -> RepoResult<ThuisAccount> {
        let now = audit.at;
        self.audited(audit, |c| {
            let id = account.to_string();
            let n = diesel::update(thuis_accounts::table.find(&id))
                .set((
                    thuis_accounts::password_hash.eq(hash),
                    thuis_accounts::updated_at.eq(now),
                ))
                .execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound("no such home account".into()).into());
            }
            diesel::update(
                thuis_accounts::table
                    .find(&id)
                    .filter(thuis_accounts::activated_at.is_null()),
            )
            .set(thuis_accounts::activated_at.eq(now))
            .execute(c)?;
            load_thuis_account(c, &id)?
                .ok_or_else(|| RepoError::NotFound("home account".into()).into())
        })
    }
}
