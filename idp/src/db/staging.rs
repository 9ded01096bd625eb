//! Files for the next school year, waiting for 1 August (the `staged_imports` table), and the
//! scheduler's leases (rows of `settings`).

use base64::Engine as _;
use broker::model::AuditEvent;
use broker::repo::{RepoResult, StagedImport};
use claims::InstellingRef;
use diesel::prelude::*;

use super::directory::{corrupt, map_diesel, parse_ref, DieselDirectory};
use super::schema::{settings, staged_imports};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = staged_imports)]
struct StagedRow {
    school_ref: String,
    school_year: String,
    source: String,
    payload: String,
    report: String,
    takes_effect: i64,
    staged_at: i64,
}

impl StagedRow {
    fn from_domain(s: &StagedImport) -> Self {
        StagedRow {
            school_ref: s.school.to_string(),
            school_year: s.school_year.clone(),
            source: s.source.clone(),
            payload: B64.encode(&s.payload),
            report: s.report.to_string(),
            takes_effect: s.takes_effect,
            staged_at: s.staged_at,
        }
    }

    fn into_domain(self) -> RepoResult<StagedImport> {
        Ok(StagedImport {
            school: parse_ref(&self.school_ref)?,
            school_year: self.school_year,
            source: self.source,
            payload: B64
                .decode(&self.payload)
                .map_err(|e| corrupt("staged file", e))?,
            report: serde_json::from_str(&self.report).map_err(|e| corrupt("staged report", e))?,
            takes_effect: self.takes_effect,
            staged_at: self.staged_at,
        })
    }
}

pub(super) fn stage(
    dir: &DieselDirectory,
    staged: &StagedImport,
    audit: AuditEvent,
) -> RepoResult<()> {
    let row = StagedRow::from_domain(staged);
    dir.audited(audit, |c| {
        diesel::delete(staged_imports::table.find(&row.school_ref)).execute(c)?;
        diesel::insert_into(staged_imports::table)
            .values(&row)
            .execute(c)?;
        Ok(())
    })
}

pub(super) fn staged(
    dir: &DieselDirectory,
    school: &InstellingRef,
) -> RepoResult<Option<StagedImport>> {
    dir.find(
        |c| {
            staged_imports::table
                .find(school.to_string())
                .select(StagedRow::as_select())
                .first(c)
        },
        StagedRow::into_domain,
    )
}

pub(super) fn due(dir: &DieselDirectory, now: i64) -> RepoResult<Vec<InstellingRef>> {
    dir.load_all(
        |c| {
            staged_imports::table
                .filter(staged_imports::takes_effect.le(now))
                .order(staged_imports::takes_effect.asc())
                .select(staged_imports::school_ref)
                .load::<String>(c)
        },
        |r| parse_ref(&r),
    )
}

pub(super) fn drop(
    dir: &DieselDirectory,
    school: &InstellingRef,
    audit: Option<AuditEvent>,
) -> RepoResult<bool> {
    let key = school.to_string();
    let gone =
        |c: &mut super::DbConnection| diesel::delete(staged_imports::table.find(&key)).execute(c);
    match audit {
        Some(a) => dir.audited(a, |c| Ok(gone(c)? > 0)),
        None => dir.tx(|c| Ok(gone(c)? > 0)),
    }
}

/// Insert the `settings` row `key` unless there is one: `false` when another node's insert won
/// (the primary key lets one win). The first step of every compare-and-swap on a setting.
pub(super) fn insert_setting_first(
    c: &mut super::DbConnection,
    key: &str,
    value: &str,
    now: i64,
) -> RepoResult<bool> {
    let inserted = diesel::insert_into(settings::table)
        .values((
            settings::key.eq(key),
            settings::value.eq(value),
            settings::updated_at.eq(now),
        ))
        .execute(c);
    match inserted {
        Ok(n) => Ok(n == 1),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(map_diesel(e)),
    }
}

/// The lease `name` as a `settings` row: key `lease:NAME`, value `HOLDER UNTIL`. Taken by
/// inserting the row (the primary key lets one node win) or by swapping the value it was
/// read with (an update that matches no row lost the race).
pub(super) fn try_lease(
    dir: &DieselDirectory,
    name: &str,
    holder: &str,
    now: i64,
    until: i64,
) -> RepoResult<bool> {
    let key = format!("lease:{name}");
    let value = format!("{holder} {until}");
    let mut conn = dir.conn()?;
    let c: &mut super::DbConnection = &mut conn;
    let current: Option<String> = settings::table
        .find(&key)
        .select(settings::value)
        .first(c)
        .optional()
        .map_err(map_diesel)?;
    let Some(current) = current else {
        return insert_setting_first(c, &key, &value, now);
    };
    let (held_by, held_until) = current.rsplit_once(' ').unwrap_or(("", "0"));
    let free = held_by == holder || held_until.parse::<i64>().map_or(true, |u| u <= now);
    if !free {
        return Ok(false);
    }
    let swapped = diesel::update(
        settings::table
            .filter(settings::key.eq(&key))
            .filter(settings::value.eq(&current)),
    )
    .set((settings::value.eq(&value), settings::updated_at.eq(now)))
    .execute(c)
    .map_err(map_diesel)?;
    Ok(swapped == 1)
}
