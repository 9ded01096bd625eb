//! Upstream identity providers: [`Upstreams`].

use uuid::Uuid;

use super::RepoResult;
use crate::model::{AuditEvent, Upstream};

/// Upstream identity providers (network environments).
pub trait Upstreams {
    /// Add an upstream identity provider serving `schools`.
    /// Added at the audit event's moment.
    fn insert_upstream(&self, u: Upstream, audit: AuditEvent) -> RepoResult<Upstream>;
    fn upstream(&self, id: Uuid) -> RepoResult<Option<Upstream>>;
    fn upstream_by_name(&self, name: &str) -> RepoResult<Option<Upstream>>;
    fn upstreams(&self) -> RepoResult<Vec<Upstream>>;
    fn remove_upstream(&self, id: Uuid, audit: AuditEvent) -> RepoResult<()>;
}
