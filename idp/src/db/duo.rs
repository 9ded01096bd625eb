//! [`broker::repo::DuoRegistry`] on diesel: the `duo_locations` table, and the school names a
//! load changes.
//!
//! A load writes in batches, so that DUO's whole file (about 6,500 locations) is a few dozen
//! statements, not one per row: new and changed locations are inserted [`CHUNK`] rows a
//! statement (a changed one is deleted first, in the same batches), gone ones marked
//! [`CHUNK`] a statement, and every location still listed is marked seen in one statement.

use std::str::FromStr;

use broker::model::{AuditEvent, DuoLocation};
use broker::repo::{DuoLoad, DuoRegistry, RepoResult};
use claims::Brin6;
use diesel::prelude::*;

use super::audit::write_audit;
use super::directory::{corrupt, DieselDirectory, TxError};
use super::schema::{duo_locations, schools};
use super::DbConnection;

/// Rows per statement: 12 columns × 500 = 6,000 bound values, under SQLite's limit (32,766)
/// and PostgreSQL's (65,535).
const CHUNK: usize = 500;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = duo_locations)]
struct DuoRow {
    brin6: String,
    name: String,
    street: String,
    house_number: String,
    postcode: String,
    place: String,
    municipality: String,
    province: String,
    board_number: String,
    first_seen_at: i64,
    seen_at: i64,
    gone_at: Option<i64>,
}

impl DuoRow {
    fn from_domain(l: &DuoLocation) -> Self {
        DuoRow {
            brin6: l.brin6.to_string(),
            name: l.name.clone(),
            street: l.street.clone(),
            house_number: l.house_number.clone(),
            postcode: l.postcode.clone(),
            place: l.place.clone(),
            municipality: l.municipality.clone(),
            province: l.province.clone(),
            board_number: l.board_number.clone(),
            first_seen_at: l.first_seen_at,
            seen_at: l.seen_at,
            gone_at: l.gone_at,
        }
    }

    fn into_domain(self) -> RepoResult<DuoLocation> {
        Ok(DuoLocation {
            brin6: Brin6::from_str(&self.brin6).map_err(|e| corrupt("BRIN6", e))?,
            name: self.name,
            street: self.street,
            house_number: self.house_number,
            postcode: self.postcode,
            place: self.place,
            municipality: self.municipality,
            province: self.province,
            board_number: self.board_number,
            first_seen_at: self.first_seen_at,
            seen_at: self.seen_at,
            gone_at: self.gone_at,
        })
    }
}

/// Insert `rows` in one statement, on whichever backend `c` is.
fn insert_rows(c: &mut DbConnection, rows: &[DuoRow]) -> Result<(), TxError> {
    insert_many!(c, duo_locations::table, rows)?;
    Ok(())
}

/// Write `load` (without its audit lines).
fn apply(c: &mut DbConnection, load: &DuoLoad) -> Result<(), TxError> {
    let at = load.at;
    for chunk in load.changed.chunks(CHUNK) {
        let keys: Vec<String> = chunk.iter().map(|l| l.brin6.to_string()).collect();
        diesel::delete(duo_locations::table.filter(duo_locations::brin6.eq_any(&keys)))
            .execute(c)?;
    }
    let written: Vec<DuoRow> = load
        .added
        .iter()
        .chain(&load.changed)
        .map(DuoRow::from_domain)
        .collect();
    for chunk in written.chunks(CHUNK) {
        insert_rows(c, chunk)?;
    }
    for chunk in load.gone.chunks(CHUNK) {
        let keys: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        diesel::update(
            duo_locations::table
                .filter(duo_locations::brin6.eq_any(&keys))
                .filter(duo_locations::gone_at.is_null()),
        )
        .set(duo_locations::gone_at.eq(Some(at)))
        .execute(c)?;
    }
    diesel::update(
        duo_locations::table
            .filter(duo_locations::gone_at.is_null())
            .filter(duo_locations::seen_at.ne(at)),
    )
    .set(duo_locations::seen_at.eq(at))
    .execute(c)?;
    for r in &load.renamed {
        diesel::update(
            schools::table
                .find(r.school.to_string())
                .filter(schools::status.eq("active")),
        )
        .set((schools::name.eq(&r.name), schools::updated_at.eq(at)))
        .execute(c)?;
    }
    Ok(())
}

impl DuoRegistry for DieselDirectory {
    fn duo_locations(&self) -> RepoResult<Vec<DuoLocation>> {
        self.load_all(
            |c| {
                duo_locations::table
                    .select(DuoRow::as_select())
                    .order(duo_locations::brin6)
                    .load(c)
            },
            DuoRow::into_domain,
        )
    }

    fn duo_location(&self, brin6: &Brin6) -> RepoResult<Option<DuoLocation>> {
        self.find(
            |c| {
                duo_locations::table
                    .find(brin6.to_string())
                    .select(DuoRow::as_select())
                    .first(c)
            },
            DuoRow::into_domain,
        )
    }

    fn apply_duo_load(&self, load: &DuoLoad, audit: Vec<AuditEvent>) -> RepoResult<()> {
        let done = self.tx(|c| {
            apply(c, load)?;
            for event in audit {
                write_audit(c, event)?;
            }
            Ok(())
        });
        for r in &load.renamed {
            self.school_cache.remove(&r.school.to_string());
        }
        done
    }
}
