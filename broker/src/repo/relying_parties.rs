//! Relying parties and SAML SP options: [`RelyingParties`].

use uuid::Uuid;

use super::RepoResult;
use crate::model::{AccessTokenFormat, AuditEvent, RelyingParty, SamlSpOptions};

/// A SAML SP's new options, and its new metadata when that changes too (`None` keeps it).
#[derive(Debug, Clone)]
pub struct SamlSpChange {
    pub rp: Uuid,
    pub metadata: Option<String>,
    pub options: SamlSpOptions,
}

/// Relying parties (OIDC clients and SAML SPs) and SAML SP options.
pub trait RelyingParties {
    /// Add a relying party as given (its `enabled` and `created_at` too).
    fn insert_relying_party(&self, rp: RelyingParty, audit: AuditEvent)
        -> RepoResult<RelyingParty>;
    fn relying_party(&self, id: Uuid) -> RepoResult<Option<RelyingParty>>;
    /// By OIDC client id or SAML entity id.
    fn relying_party_by_public_id(&self, public_id: &str) -> RepoResult<Option<RelyingParty>>;
    fn relying_parties(&self) -> RepoResult<Vec<RelyingParty>>;
    /// Removes a relying party and every school's registration of it, in one transaction.
    fn remove_relying_party(&self, id: Uuid, audit: AuditEvent) -> RepoResult<()>;
    /// Set the kind of access token an OIDC client receives, in one transaction with `audit`.
    fn set_access_token_format(
        &self,
        rp: Uuid,
        format: AccessTokenFormat,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()>;
    /// A SAML SP's options (the defaults when none were set).
    fn saml_sp_options(&self, rp: Uuid) -> RepoResult<SamlSpOptions>;
    /// Replace a SAML SP's metadata (when the change has one) and its options, in one
    /// transaction with `audit`; every school's registration stays.
    fn update_saml_sp(
        &self,
        change: SamlSpChange,
        now: i64,
        audit: Option<AuditEvent>,
    ) -> RepoResult<()>;
}
