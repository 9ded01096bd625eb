//! [`broker::repo::LasCouplings`] on diesel: the `las_suppliers` and `las_couplings` tables.

use broker::model::AuditEvent;
use broker::repo::{CouplingChange, LasCoupling, LasCouplings, LasSupplier, RepoResult};
use claims::InstellingRef;
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{corrupt, parse_ref, parse_uuid, DieselDirectory};
use super::relying_parties::RpRow;
use super::schema::{las_couplings, las_suppliers, relying_parties, schools};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = las_couplings, treat_none_as_null = true)]
struct CouplingRow {
    school_ref: String,
    las_id: String,
    school_chose_at: Option<i64>,
    las_granted_at: Option<i64>,
    autorisatiesleutel: Option<String>,
    last_run_at: Option<i64>,
    last_outcome: Option<String>,
}

impl CouplingRow {
    fn empty(school: &InstellingRef, las: Uuid) -> Self {
        CouplingRow {
            school_ref: school.to_string(),
            las_id: las.to_string(),
            school_chose_at: None,
            las_granted_at: None,
            autorisatiesleutel: None,
            last_run_at: None,
            last_outcome: None,
        }
    }

    fn into_domain(self) -> RepoResult<LasCoupling> {
        Ok(LasCoupling {
            school: parse_ref(&self.school_ref)?,
            las: parse_uuid(&self.las_id)?,
            school_chose_at: self.school_chose_at,
            las_granted_at: self.las_granted_at,
            sealed_key: self.autorisatiesleutel,
            last_run_at: self.last_run_at,
            last_outcome: self
                .last_outcome
                .map(|o| serde_json::from_str(&o))
                .transpose()
                .map_err(|e| corrupt("coupling outcome", e))?,
        })
    }
}

/// The coupling row of `school` and `las`, or a new empty one.
fn row_of(
    c: &mut super::DbConnection,
    school: &InstellingRef,
    las: Uuid,
) -> QueryResult<(CouplingRow, bool)> {
    let found = las_couplings::table
        .find((school.to_string(), las.to_string()))
        .select(CouplingRow::as_select())
        .first(c)
        .optional()?;
    Ok(match found {
        Some(row) => (row, true),
        None => (CouplingRow::empty(school, las), false),
    })
}

/// Write `row` back (insert when it is new).
fn save(c: &mut super::DbConnection, row: &CouplingRow, exists: bool) -> QueryResult<usize> {
    if exists {
        diesel::update(las_couplings::table.find((&row.school_ref, &row.las_id)))
            .set(row)
            .execute(c)
    } else {
        diesel::insert_into(las_couplings::table)
            .values(row)
            .execute(c)
    }
}

impl LasCouplings for DieselDirectory {
    fn insert_las(&self, las: LasSupplier, audit: AuditEvent) -> RepoResult<LasSupplier> {
        let rp_id = las.rp.id.to_string();
        let rp = RpRow::from_domain(las.rp);
        let url = las.uwlr_url;
        self.audited(audit, |c| {
            diesel::insert_into(relying_parties::table)
                .values(&rp)
                .execute(c)?;
            diesel::insert_into(las_suppliers::table)
                .values((
                    las_suppliers::rp_id.eq(&rp_id),
                    las_suppliers::uwlr_url.eq(&url),
                ))
                .execute(c)?;
            Ok(())
        })?;
        Ok(LasSupplier {
            rp: rp.into_domain()?,
            uwlr_url: url,
        })
    }

    fn las_suppliers(&self) -> RepoResult<Vec<LasSupplier>> {
        self.load_all(
            |c| {
                las_suppliers::table
                    .inner_join(relying_parties::table)
                    .order(relying_parties::name)
                    .select((RpRow::as_select(), las_suppliers::uwlr_url))
                    .load::<(RpRow, Option<String>)>(c)
            },
            |(rp, uwlr_url)| {
                Ok(LasSupplier {
                    rp: rp.into_domain()?,
                    uwlr_url,
                })
            },
        )
    }

    fn couplings_of(&self, school: &InstellingRef) -> RepoResult<Vec<LasCoupling>> {
        self.load_all(
            |c| {
                las_couplings::table
                    .filter(las_couplings::school_ref.eq(school.to_string()))
                    .order(las_couplings::las_id)
                    .select(CouplingRow::as_select())
                    .load(c)
            },
            CouplingRow::into_domain,
        )
    }

    fn change_coupling(
        &self,
        school: &InstellingRef,
        change: CouplingChange,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        self.audited(audit, |c| {
            match change {
                CouplingChange::SchoolChoice { las, at } => {
                    // Another LAS chosen before loses the school's side first: the partial
                    // unique index allows one choice per school.
                    diesel::update(
                        las_couplings::table
                            .filter(las_couplings::school_ref.eq(school.to_string()))
                            .filter(las_couplings::school_chose_at.is_not_null()),
                    )
                    .set(las_couplings::school_chose_at.eq(None::<i64>))
                    .execute(c)?;
                    if let Some(las) = las {
                        let (mut row, exists) = row_of(c, school, las)?;
                        row.school_chose_at = Some(at);
                        save(c, &row, exists)?;
                    }
                }
                CouplingChange::LasSide { las, granted } => {
                    let (mut row, exists) = row_of(c, school, las)?;
                    match granted {
                        Some((at, key)) => {
                            row.las_granted_at = Some(at);
                            row.autorisatiesleutel = key;
                        }
                        None => {
                            row.las_granted_at = None;
                            row.autorisatiesleutel = None;
                        }
                    }
                    save(c, &row, exists)?;
                }
            }
            Ok(())
        })
    }

    fn active_pulls(&self) -> RepoResult<Vec<LasCoupling>> {
        self.load_all(
            |c| {
                las_couplings::table
                    .inner_join(las_suppliers::table.inner_join(relying_parties::table))
                    .inner_join(
                        schools::table.on(schools::instelling_ref.eq(las_couplings::school_ref)),
                    )
                    .filter(las_couplings::school_chose_at.is_not_null())
                    .filter(las_couplings::las_granted_at.is_not_null())
                    .filter(las_couplings::autorisatiesleutel.is_not_null())
                    .filter(las_suppliers::uwlr_url.is_not_null())
                    .filter(relying_parties::enabled.eq(true))
                    .filter(schools::status.eq("active"))
                    .order(las_couplings::school_ref)
                    .select(CouplingRow::as_select())
                    .load(c)
            },
            CouplingRow::into_domain,
        )
    }

    fn note_las_run(
        &self,
        school: &InstellingRef,
        las: Uuid,
        at: i64,
        outcome: &serde_json::Value,
        audit: Option<AuditEvent>,
    ) -> RepoResult<()> {
        let note = |c: &mut super::DbConnection| {
            diesel::update(las_couplings::table.find((school.to_string(), las.to_string())))
                .set((
                    las_couplings::last_run_at.eq(Some(at)),
                    las_couplings::last_outcome.eq(Some(outcome.to_string())),
                ))
                .execute(c)
        };
        match audit {
            Some(a) => self.audited(a, |c| Ok(note(c)?)).map(|_| ()),
            None => self.tx(|c| Ok(note(c)?)).map(|_| ()),
        }
    }
}
