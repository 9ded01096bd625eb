//! Substitute teachers (invalkrachten): [`Substitutes`].

use claims::InstellingRef;
use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, Substitution, User};

/// A substitution to start: the account gets the person's name and becomes active; the
/// e-mail address and the sign-in link's hash are kept with the substitution.
#[derive(Clone)]
pub struct SubstitutionStart {
    pub substitution: Substitution,
    pub given_name: String,
    pub family_name: String,
    /// SHA-256 (hex) of the sign-in link's secret.
    pub token_hash: String,
}

impl std::fmt::Debug for SubstitutionStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubstitutionStart")
            .field("substitution", &self.substitution)
            .finish_non_exhaustive()
    }
}

/// Substitutions in progress.
pub trait Substitutes {
    fn substitutions_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Substitution>>;
    fn substitution(&self, user: Uuid) -> RepoResult<Option<Substitution>>;
    /// The substitution whose sign-in link hashes to `token_hash`.
    fn substitution_by_token(&self, token_hash: &str) -> RepoResult<Option<Substitution>>;
    /// Substitutions (of every school) whose end has come by `now`.
    fn due_substitutions(&self, now: i64) -> RepoResult<Vec<Substitution>>;
    /// Start (or hand to another person) a substitution, at the audit event's moment: the
    /// account gets the person's name and becomes active; a previous person's sessions and
    /// tokens end.
    fn start_substitution(&self, start: SubstitutionStart, audit: AuditEvent) -> RepoResult<User>;
    /// End a substitution, at the audit event's moment: the row goes, the account's name
    /// becomes `anonymous` again, it is inactive, and every session and token ends.
    fn end_substitution(
        &self,
        user: Uuid,
        anonymous: (&str, &str),
        audit: AuditEvent,
    ) -> RepoResult<User>;
}
