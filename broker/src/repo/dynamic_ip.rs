//! Verbindingstype "Dynamic IP": [`DynamicIps`].

use claims::InstellingRef;
use ipnet::IpNet;

use super::RepoResult;
use crate::model::{AuditEvent, DynamicIp, DynamicIpChange};

/// Schools whose address is reported by an agent with an update token.
pub trait DynamicIps {
    /// The school's setting; `None`: Dynamic IP is off.
    fn dynamic_ip(&self, school: &InstellingRef) -> RepoResult<Option<DynamicIp>>;
    /// The school whose update token hashes to `token_hash`.
    fn dynamic_ip_by_token(&self, token_hash: &str) -> RepoResult<Option<InstellingRef>>;
    /// Turn Dynamic IP on with a new token, or replace the token (the old one stops working
    /// at once), at the audit event's moment. `NotFound` for an unknown school.
    fn set_dynamic_ip_token(
        &self,
        school: &InstellingRef,
        token_hash: &str,
        audit: AuditEvent,
    ) -> RepoResult<DynamicIp>;
    /// Turn Dynamic IP off: the token and the reported network go (the history stays).
    fn remove_dynamic_ip(&self, school: &InstellingRef, audit: AuditEvent) -> RepoResult<()>;
    /// The agent reported `network` at the audit event's moment. When it differs from the
    /// school's dynamic network, it replaces it, joins the history, and `audit` is written —
    /// all in one transaction; otherwise only the moment is kept. Returns whether it changed.
    fn record_dynamic_ip(
        &self,
        school: &InstellingRef,
        network: IpNet,
        audit: AuditEvent,
    ) -> RepoResult<bool>;
    /// The school's reported addresses, newest first.
    fn dynamic_ip_history(
        &self,
        school: &InstellingRef,
        limit: i64,
    ) -> RepoResult<Vec<DynamicIpChange>>;
}
