//! Upstream identity providers: [`Upstreams`].

use claims::{InstellingRef, Role};
use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, MatchRule, Upstream, UpstreamProtocol};

/// A new upstream identity provider (a network environment).
#[derive(Debug, Clone)]
pub struct NewUpstream {
    pub id: Uuid,
    pub name: String,
    pub protocol: UpstreamProtocol,
    pub match_rule: MatchRule,
    pub match_claim: String,
    pub provision: bool,
    /// The roles it may create users with (`leerling`, `leerkracht`).
    pub provision_roles: Vec<Role>,
    pub schools: Vec<InstellingRef>,
}

/// Upstream identity providers (network environments).
pub trait Upstreams {
    /// Add an upstream identity provider serving `schools`.
    fn insert_upstream(&self, u: NewUpstream, now: i64, audit: AuditEvent) -> RepoResult<Upstream>;
    fn upstream(&self, id: Uuid) -> RepoResult<Option<Upstream>>;
    fn upstream_by_name(&self, name: &str) -> RepoResult<Option<Upstream>>;
    fn upstreams(&self) -> RepoResult<Vec<Upstream>>;
    fn remove_upstream(&self, id: Uuid, audit: AuditEvent) -> RepoResult<()>;
}
