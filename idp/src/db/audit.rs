//! [`broker::repo::Audit`] on diesel: the `audit_events` table, and [`write_audit`], which
//! every change calls in its transaction (and which puts the events the change announces in
//! the webhook outbox).

use broker::model::AuditEvent;
use broker::repo::{Audit, AuditQuery, RepoResult};
use diesel::prelude::*;

use super::directory::{corrupt, parse_ref, parse_uuid, DieselDirectory, TxError};
use super::schema::audit_events;
use super::DbConnection;

/// A line as it is written; the database numbers it (`seq`).
#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct NewAuditRow {
    id: String,
    at: i64,
    actor: String,
    action: String,
    school_ref: Option<String>,
    subject: Option<String>,
    details: String,
}

/// A line as it is read: as written, and its number.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    seq: i64,
    #[diesel(embed)]
    line: NewAuditRow,
}

impl NewAuditRow {
    fn from_domain(e: AuditEvent) -> Self {
        NewAuditRow {
            id: e.id.to_string(),
            at: e.at,
            actor: e.actor,
            action: e.action,
            school_ref: e.school.map(|s| s.to_string()),
            subject: e.subject,
            details: e.details.to_string(),
        }
    }
}

impl AuditRow {
    fn into_domain(self) -> RepoResult<AuditEvent> {
        let l = self.line;
        Ok(AuditEvent {
            seq: self.seq,
            id: parse_uuid(&l.id)?,
            at: l.at,
            actor: l.actor,
            action: l.action,
            school: l.school_ref.as_deref().map(parse_ref).transpose()?,
            subject: l.subject,
            details: serde_json::from_str(&l.details).map_err(|e| corrupt("audit details", e))?,
        })
    }
}

pub(super) fn write_audit(conn: &mut DbConnection, event: AuditEvent) -> Result<(), TxError> {
    // The events this change announces leave with it, or not at all.
    let notices = broker::webhooks::notices(&event);
    let at = event.at;
    diesel::insert_into(audit_events::table)
        .values(NewAuditRow::from_domain(event))
        .execute(conn)?;
    if !notices.is_empty() {
        super::webhooks::enqueue(conn, &notices, at)?;
    }
    Ok(())
}

impl Audit for DieselDirectory {
    fn append_audit(&self, event: AuditEvent) -> RepoResult<()> {
        self.tx(|c| write_audit(c, event))
    }

    fn audit_trail(&self, query: &AuditQuery<'_>) -> RepoResult<Vec<AuditEvent>> {
        let rows: Vec<AuditRow> = self.read(|c| {
            let mut q = audit_events::table
                .select(AuditRow::as_select())
                .order(audit_events::seq.desc())
                .limit(query.limit)
                .into_boxed();
            if let Some(s) = query.school {
                q = q.filter(audit_events::school_ref.eq(s.to_string()));
            }
            if !query.actions.is_empty() {
                q = q.filter(audit_events::action.eq_any(query.actions.to_vec()));
            }
            if let Some(before) = query.before {
                q = q.filter(audit_events::seq.lt(before));
            }
            Ok(q.load(c)?)
        })?;
        rows.into_iter().map(AuditRow::into_domain).collect()
    }
}
