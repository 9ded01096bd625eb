//! Home login codes, home accounts and their links: [`Thuis`].

use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, ThuisAccount};

/// A pupil's home login code: `code_hash` for look-up, `sealed` for printing again.
#[derive(Debug, Clone, Copy)]
pub struct NewThuisCode<'a> {
    pub user: Uuid,
    pub code_hash: &'a str,
    pub sealed: &'a str,
}

/// An activation or reset link of a home account: `token_hash`, tied to `email`, valid until
/// `expires_at`.
#[derive(Debug, Clone, Copy)]
pub struct NewThuisToken<'a> {
    pub token_hash: &'a str,
    pub account: Uuid,
    pub email: &'a str,
    pub expires_at: i64,
}

/// Home login: home login codes, home accounts and their activation and reset links.
pub trait Thuis {
    /// A pupil's home login code: stored as `code_hash` for look-up and `sealed` for printing
    /// again; a new one replaces the old.
    fn put_thuis_code(&self, code: NewThuisCode<'_>, now: i64, audit: AuditEvent)
        -> RepoResult<()>;
    /// The pupil whose home login code has this hash.
    fn thuis_code_user(&self, code_hash: &str) -> RepoResult<Option<Uuid>>;
    /// A pupil's sealed home login code.
    fn thuis_code_sealed(&self, user: Uuid) -> RepoResult<Option<String>>;

    /// The home accounts of a pupil (at most two).
    fn thuis_accounts_of_user(&self, user: Uuid) -> RepoResult<Vec<ThuisAccount>>;
    /// A home account by its (lower-case) e-mail address.
    fn thuis_account_by_email(&self, email: &str) -> RepoResult<Option<ThuisAccount>>;
    fn thuis_account(&self, id: Uuid) -> RepoResult<Option<ThuisAccount>>;
    /// Link `email` (lower-case) to pupil `user`, creating the account when the address is
    /// new. Refused when the pupil has [`crate::model::MAX_HOME_ADDRESSES`] already.
    /// At the audit event's moment.
    fn link_thuis_account(
        &self,
        user: Uuid,
        email: &str,
        audit: AuditEvent,
    ) -> RepoResult<ThuisAccount>;
    /// Unlink a home account from a pupil; an account that serves nobody any more is removed.
    fn unlink_thuis_account(&self, user: Uuid, account: Uuid, audit: AuditEvent) -> RepoResult<()>;
    /// Store an activation or reset link (`token_hash`, tied to `email`) for an account.
    fn put_thuis_token(&self, token: NewThuisToken<'_>, now: i64) -> RepoResult<()>;
    /// A link's account and address, if it exists and has not expired (without using it).
    fn thuis_token(&self, token_hash: &str, now: i64) -> RepoResult<Option<(Uuid, String)>>;
    /// Take a link: the account and address it was sent to, if it exists and has not expired.
    /// Single use: it is gone afterwards, whatever the answer.
    fn take_thuis_token(&self, token_hash: &str, now: i64) -> RepoResult<Option<(Uuid, String)>>;
    /// Set a home account's password; the first time also activates it.
    /// At the audit event's moment.
    fn set_thuis_password(
        &self,
        account: Uuid,
        hash: &str,
        audit: AuditEvent,
    ) -> RepoResult<ThuisAccount>;
}
