//! Change notifications: parties' webhooks and the outbox their events leave from:
//! [`Webhooks`]. The outbox is filled by the storage itself, in the transaction of each change
//! ([`crate::webhooks::notices`]).

use claims::InstellingRef;
use serde_json::Value;
use uuid::Uuid;

use super::RepoResult;
use crate::model::AuditEvent;

/// One event for one party, as the outbox holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// The event's id: the token's `jti`.
    pub id: Uuid,
    pub rp_id: Uuid,
    /// The party's client id or entity id (the token's `aud`).
    pub party: String,
    /// The webhook it goes to now; `None` when the party no longer has one.
    pub url: Option<String>,
    /// The event's type URI.
    pub event: String,
    pub school: Option<InstellingRef>,
    pub details: Value,
    pub created_at: i64,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
}

/// How an attempt to deliver an event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    Delivered,
    /// Try again at this time.
    Retry {
        at: i64,
        error: String,
    },
    /// Given up.
    Failed {
        error: String,
    },
}

/// Parties' webhooks and the outbox.
pub trait Webhooks {
    /// A party's webhook, if it has one.
    fn webhook_endpoint(&self, rp: Uuid) -> RepoResult<Option<String>>;
    /// Set (or with `None` remove) a party's webhook, with `audit`.
    fn set_webhook_endpoint(
        &self,
        rp: Uuid,
        url: Option<&str>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()>;
    /// Claim at most `limit` events that are due at `now` and not claimed by a node that is
    /// still within its claim, for `node` until `until`, oldest due first. Two nodes asking at
    /// once never claim the same event.
    fn claim_webhooks(
        &self,
        node: &str,
        now: i64,
        until: i64,
        limit: i64,
    ) -> RepoResult<Vec<OutboxEvent>>;
    /// Record how `node`'s attempt at event `id` ended (at `now`), and release its claim.
    /// `false` when `node` no longer held the claim (nothing is recorded then).
    fn settle_webhook(&self, id: Uuid, node: &str, now: i64, how: Settle) -> RepoResult<bool>;
    /// A party's events, newest first.
    fn webhook_events(&self, rp: Uuid, limit: i64) -> RepoResult<Vec<OutboxEvent>>;
    /// Try a party's given-up events again from `now`: how many.
    fn retry_failed_webhooks(&self, rp: Uuid, now: i64, audit: AuditEvent) -> RepoResult<usize>;
    /// Forget delivered and given-up events made before `before`: how many.
    fn purge_webhooks(&self, before: i64) -> RepoResult<usize>;
}
