//! Users, their standing and offboarding: [`Users`].

use claims::{EckId, InstellingRef, Role};
use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, PupilAuth, User, UserStanding};

/// ECK-iDs and e-mail addresses that belong to someone already ([`Users::identifiers_in_use`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct InUse {
    pub eck_ids: std::collections::HashSet<String>,
    pub emails: std::collections::HashSet<String>,
}

impl std::fmt::Debug for InUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InUse")
            .field("eck_ids", &self.eck_ids.len())
            .field("emails", &self.emails.len())
            .finish()
    }
}

/// A pupil's new sign-in secret.
#[derive(Clone)]
pub struct PupilSecretChange {
    pub user: Uuid,
    /// How they sign in from now on.
    pub auth: PupilAuth,
    /// The peppered hash of the PIN or the encoded picture sequence.
    pub hash: String,
    /// The secret sealed for teachers to see.
    pub sealed: String,
}

impl std::fmt::Debug for PupilSecretChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PupilSecretChange")
            .field("user", &self.user)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// A new user, with roles and group memberships (as `user` holds them).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user: User,
    /// A pupil's PIN or picture password, sealed so that their teacher can show it.
    pub secret_sealed: Option<String>,
}

/// A user's new password hash; `activate` also makes an inactive user active.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    pub user: Uuid,
    pub hash: &'a str,
    pub activate: bool,
}

/// Users: pupils and staff, their standing, offboarding, look-ups and secrets.
pub trait Users {
    /// Inserts the user with roles and memberships in one transaction. `Conflict` names the
    /// field (e-mail, ECK-iD, LAS key) that is already taken.
    fn insert_user(&self, user: NewUser, now: i64, audit: AuditEvent) -> RepoResult<User>;
    fn user(&self, id: Uuid) -> RepoResult<Option<User>>;
    /// By staff e-mail (compared lower-cased).
    fn user_by_email(&self, email: &str) -> RepoResult<Option<User>>;
    fn users_of_group(&self, group: Uuid) -> RepoResult<Vec<User>>;
    fn users_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<User>>;
    /// A user's status and revocation moment, read from the database itself (never a cache):
    /// checked at every use of a session, code or refresh token.
    fn user_standing(&self, id: Uuid) -> RepoResult<Option<UserStanding>>;
    /// Disable a user (`user disable`: everything issued to them up to `now` becomes void) or
    /// enable them again (`user enable`: the status before, active or inactive, returns).
    /// `NotFound` for an unknown or removed user.
    /// At the audit event's moment.
    fn set_disabled(&self, user: Uuid, disabled: bool, audit: AuditEvent) -> RepoResult<User>;
    /// Remove a user: names, e-mail, ECK-iD, LAS key, PIN, password, picture, group
    /// memberships, home accounts (that serve nobody else), the home login code and the sealed
    /// PIN are deleted; the id stays as a tombstone with status `removed`, so its pseudonyms
    /// are never given to anyone else.
    fn remove_user(&self, user: Uuid, now: i64, audit: AuditEvent) -> RepoResult<User>;
    /// A user of `school` by their key in the pupil administration.
    fn user_by_las_key(&self, school: &InstellingRef, key: &str) -> RepoResult<Option<User>>;
    /// A user by ECK-iD.
    fn user_by_eck_id(&self, eck_id: &EckId) -> RepoResult<Option<User>>;
    /// Which of `eck_ids` and `emails` (lower-case) a user has already, in as few queries as
    /// the database allows: an import's new people, checked at once.
    fn identifiers_in_use(&self, eck_ids: &[&str], emails: &[&str]) -> RepoResult<InUse>;

    /// A pupil's sealed PIN or picture password, if one was kept.
    fn pupil_secret(&self, user: Uuid) -> RepoResult<Option<String>>;

    fn set_password_hash(
        &self,
        change: PasswordChange<'_>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()>;

    /// New sign-in secrets for pupils (a PIN or a picture password each, with the way they
    /// sign in and the sealed copy teachers may see), in one transaction with one audit line.
    fn set_pupil_secrets(&self, changes: &[PupilSecretChange], audit: AuditEvent)
        -> RepoResult<()>;

    /// A pupil's own picture on their name tile (`None`: their initial on a colour).
    fn set_picture(&self, user: Uuid, picture: Option<&str>, audit: AuditEvent)
        -> RepoResult<User>;

    /// Replace a user's roles (the first is the one a token names), at the audit event's
    /// moment. `NotFound` for an unknown or removed user.
    fn set_roles(&self, user: Uuid, roles: &[Role], audit: AuditEvent) -> RepoResult<User>;
}
