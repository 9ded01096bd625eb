//! [`broker::repo::Webhooks`] on diesel: the `webhook_endpoints` and `webhook_outbox` tables,
//! and [`enqueue`], which [`super::audit::write_audit`] calls in every change's transaction.

use broker::model::AuditEvent;
use broker::repo::{OutboxEvent, RepoResult, Settle, Webhooks};
use broker::webhooks::{Notice, Recipients};
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{corrupt, parse_ref, parse_uuid, DieselDirectory, TxError};
use super::schema::{registrations, relying_parties, webhook_endpoints, webhook_outbox};
use super::DbConnection;

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_outbox)]
struct OutboxRow {
    id: String,
    rp_id: String,
    event: String,
    school_ref: Option<String>,
    details: String,
    created_at: i64,
    attempts: i32,
    next_attempt_at: i64,
    delivered_at: Option<i64>,
    failed_at: Option<i64>,
    last_error: Option<String>,
}

/// An outbox row with its party's public id and webhook, as loaded.
type Loaded = (OutboxRow, Option<String>, Option<String>, Option<String>);

fn into_domain((r, client_id, entity_id, url): Loaded) -> RepoResult<OutboxEvent> {
    Ok(OutboxEvent {
        id: parse_uuid(&r.id)?,
        rp_id: parse_uuid(&r.rp_id)?,
        party: client_id.or(entity_id).unwrap_or_default(),
        url,
        event: r.event,
        school: r.school_ref.as_deref().map(parse_ref).transpose()?,
        details: serde_json::from_str(&r.details).map_err(|e| corrupt("event details", e))?,
        created_at: r.created_at,
        attempts: r.attempts,
        next_attempt_at: r.next_attempt_at,
        delivered_at: r.delivered_at,
        failed_at: r.failed_at,
        last_error: r.last_error,
    })
}

/// The events of `ids`, with their parties and webhooks.
fn load(
    c: &mut DbConnection,
    ids: Option<&[String]>,
    rp: Option<&str>,
    limit: i64,
) -> Result<Vec<Loaded>, TxError> {
    let mut q = webhook_outbox::table
        .inner_join(relying_parties::table)
        .left_join(webhook_endpoints::table.on(webhook_endpoints::rp_id.eq(webhook_outbox::rp_id)))
        .select((
            OutboxRow::as_select(),
            relying_parties::client_id,
            relying_parties::entity_id,
            webhook_endpoints::url.nullable(),
        ))
        .order((webhook_outbox::created_at.desc(), webhook_outbox::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(ids) = ids {
        q = q.filter(webhook_outbox::id.eq_any(ids.to_vec()));
    }
    if let Some(rp) = rp {
        q = q.filter(webhook_outbox::rp_id.eq(rp.to_string()));
    }
    Ok(q.load(c)?)
}

/// Write the events `notices` announce (at `at`) to the outbox, one per party that hears
/// each. An event that coalesces is not written twice while its twin waits untouched.
pub(super) fn enqueue(c: &mut DbConnection, notices: &[Notice], at: i64) -> Result<(), TxError> {
    for n in notices {
        let hooked = webhook_endpoints::table.select(webhook_endpoints::rp_id);
        let rps: Vec<String> = match &n.to {
            Recipients::RegisteredAt(school) => hooked
                .filter(
                    webhook_endpoints::rp_id.eq_any(
                        registrations::table
                            .filter(registrations::school_ref.eq(school.to_string()))
                            .filter(registrations::allowed.eq(true))
                            .select(registrations::rp_id),
                    ),
                )
                .load(c)?,
            Recipients::Party(public_id) => hooked
                .filter(
                    webhook_endpoints::rp_id.eq_any(
                        relying_parties::table
                            .filter(
                                relying_parties::client_id
                                    .eq(public_id)
                                    .or(relying_parties::entity_id.eq(public_id)),
                            )
                            .select(relying_parties::id),
                    ),
                )
                .load(c)?,
            Recipients::EveryRegistered => hooked
                .filter(
                    webhook_endpoints::rp_id.eq_any(
                        registrations::table
                            .filter(registrations::allowed.eq(true))
                            .select(registrations::rp_id),
                    ),
                )
                .load(c)?,
        };
        let school = n.school.map(|s| s.to_string());
        for rp in rps {
            if n.kind.coalesces() {
                let waiting: i64 = webhook_outbox::table
                    .filter(webhook_outbox::rp_id.eq(&rp))
                    .filter(webhook_outbox::event.eq(n.kind.uri()))
                    .filter(webhook_outbox::school_ref.eq(school.as_deref()))
                    .filter(webhook_outbox::attempts.eq(0))
                    .filter(webhook_outbox::claimed_by.is_null())
                    .filter(webhook_outbox::delivered_at.is_null())
                    .filter(webhook_outbox::failed_at.is_null())
                    .count()
                    .get_result(c)?;
                if waiting > 0 {
                    continue;
                }
            }
            diesel::insert_into(webhook_outbox::table)
                .values((
                    webhook_outbox::id.eq(Uuid::now_v7().to_string()),
                    webhook_outbox::rp_id.eq(&rp),
                    webhook_outbox::event.eq(n.kind.uri()),
                    webhook_outbox::school_ref.eq(school.as_deref()),
                    webhook_outbox::details.eq(n.details.to_string()),
                    webhook_outbox::created_at.eq(at),
                    webhook_outbox::attempts.eq(0),
                    webhook_outbox::next_attempt_at.eq(at),
                ))
                .execute(c)?;
        }
    }
    Ok(())
}

/// An event that is waiting: neither delivered nor given up.
macro_rules! waiting {
    () => {
        webhook_outbox::delivered_at
            .is_null()
            .and(webhook_outbox::failed_at.is_null())
    };
}

impl Webhooks for DieselDirectory {
    fn webhook_endpoint(&self, rp: Uuid) -> RepoResult<Option<String>> {
        self.find(
            |c| {
                webhook_endpoints::table
                    .find(rp.to_string())
                    .select(webhook_endpoints::url)
                    .first::<String>(c)
            },
            Ok,
        )
    }

    fn set_webhook_endpoint(
        &self,
        rp: Uuid,
        url: Option<&str>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        let id = rp.to_string();
        // The endpoint first, then the audit line: its event (a first "webhook set") goes to
        // the new endpoint.
        self.tx(|c| {
            diesel::delete(webhook_endpoints::table.find(&id)).execute(c)?;
            if let Some(u) = url {
                diesel::insert_into(webhook_endpoints::table)
                    .values((
                        webhook_endpoints::rp_id.eq(&id),
                        webhook_endpoints::url.eq(u),
                        webhook_endpoints::updated_at.eq(now),
                    ))
                    .execute(c)?;
            }
            super::audit::write_audit(c, audit)
        })
    }

    fn claim_webhooks(
        &self,
        node: &str,
        now: i64,
        until: i64,
        limit: i64,
    ) -> RepoResult<Vec<OutboxEvent>> {
        let free = || {
            webhook_outbox::claimed_until
                .is_null()
                .or(webhook_outbox::claimed_until.lt(now))
        };
        self.read(|c| {
            let due: Vec<String> = webhook_outbox::table
                .filter(waiting!())
                .filter(webhook_outbox::next_attempt_at.le(now))
                .filter(free())
                .order((webhook_outbox::next_attempt_at, webhook_outbox::id))
                .limit(limit)
                .select(webhook_outbox::id)
                .load(c)?;
            // Each claim is one conditional update: of two nodes, the second finds the row
            // claimed (PostgreSQL re-reads the row after the first commits) and changes nothing.
            let mut mine = Vec::new();
            for id in due {
                let n = diesel::update(
                    webhook_outbox::table
                        .filter(webhook_outbox::id.eq(&id))
                        .filter(waiting!())
                        .filter(free()),
                )
                .set((
                    webhook_outbox::claimed_by.eq(node),
                    webhook_outbox::claimed_until.eq(until),
                ))
                .execute(c)?;
                if n == 1 {
                    mine.push(id);
                }
            }
            if mine.is_empty() {
                return Ok(Vec::new());
            }
            let mut events = load(c, Some(&mine), None, limit)?
                .into_iter()
                .map(into_domain)
                .collect::<RepoResult<Vec<_>>>()?;
            // In the order they were written (the ids are time-ordered, UUIDv7).
            events.sort_by_key(|e| e.id);
            Ok(events)
        })
    }

    fn settle_webhook(&self, id: Uuid, node: &str, now: i64, how: Settle) -> RepoResult<bool> {
        let row = webhook_outbox::table
            .filter(webhook_outbox::id.eq(id.to_string()))
            .filter(webhook_outbox::claimed_by.eq(node));
        let released = (
            webhook_outbox::claimed_by.eq(None::<String>),
            webhook_outbox::claimed_until.eq(None::<i64>),
            webhook_outbox::attempts.eq(webhook_outbox::attempts + 1),
        );
        // In a transaction, not `read`: run twice, it would count an attempt twice.
        self.tx(|c| {
            let n = match how {
                Settle::Delivered => diesel::update(row)
                    .set((
                        released,
                        webhook_outbox::delivered_at.eq(now),
                        webhook_outbox::last_error.eq(None::<String>),
                    ))
                    .execute(c)?,
                Settle::Retry { at, error } => diesel::update(row)
                    .set((
                        released,
                        webhook_outbox::next_attempt_at.eq(at),
                        webhook_outbox::last_error.eq(error),
                    ))
                    .execute(c)?,
                Settle::Failed { error } => diesel::update(row)
                    .set((
                        released,
                        webhook_outbox::failed_at.eq(now),
                        webhook_outbox::last_error.eq(error),
                    ))
                    .execute(c)?,
            };
            Ok(n == 1)
        })
    }

    fn webhook_events(&self, rp: Uuid, limit: i64) -> RepoResult<Vec<OutboxEvent>> {
        let rp = rp.to_string();
        self.read(|c| {
            Ok(load(c, None, Some(&rp), limit)?
                .into_iter()
                .map(into_domain)
                .collect::<RepoResult<Vec<_>>>()?)
        })
    }

    fn retry_failed_webhooks(&self, rp: Uuid, now: i64, audit: AuditEvent) -> RepoResult<usize> {
        self.audited(audit, |c| {
            Ok(diesel::update(
                webhook_outbox::table
                    .filter(webhook_outbox::rp_id.eq(rp.to_string()))
                    .filter(webhook_outbox::failed_at.is_not_null()),
            )
            .set((
                webhook_outbox::failed_at.eq(None::<i64>),
                webhook_outbox::next_attempt_at.eq(now),
                webhook_outbox::attempts.eq(0),
            ))
            .execute(c)?)
        })
    }

    fn purge_webhooks(&self, before: i64) -> RepoResult<usize> {
        self.read(|c| {
            Ok(diesel::delete(
                webhook_outbox::table
                    .filter(webhook_outbox::created_at.lt(before))
                    .filter(
                        webhook_outbox::delivered_at
                            .is_not_null()
                            .or(webhook_outbox::failed_at.is_not_null()),
                    ),
            )
            .execute(c)?)
        })
    }
}
