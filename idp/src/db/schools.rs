//! [`broker::repo::Schools`] on diesel: the `school_boards` and `schools` tables.

use std::str::FromStr;

use broker::model::{AuditEvent, School, SchoolBoard, SchoolStatus};
use broker::repo::{NewBoard, NewSchool, RepoError, RepoResult, SchoolChange, Schools};
use claims::{Brin6, InstellingRef};
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{
    corrupt, json_list, parse_ref, parse_uuid, to_json_list, DieselDirectory, TxError,
};
use super::schema::{school_boards, schools};
use super::DbConnection;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = school_boards)]
struct BoardRow {
    id: String,
    name: String,
    bestuursnummer: Option<String>,
    created_at: i64,
}

impl BoardRow {
    fn into_domain(self) -> RepoResult<SchoolBoard> {
        Ok(SchoolBoard {
            id: parse_uuid(&self.id)?,
            name: self.name,
            bestuursnummer: self.bestuursnummer,
            created_at: self.created_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schools)]
struct SchoolRow {
    instelling_ref: String,
    board_id: Option<String>,
    brin6: String,
    name: String,
    status: String,
    merged_into: Option<String>,
    networks: String,
    created_at: i64,
    updated_at: i64,
    dynamic_network: Option<String>,
}

impl SchoolRow {
    fn into_domain(self) -> RepoResult<School> {
        let status = match (self.status.as_str(), &self.merged_into) {
            ("active", _) => SchoolStatus::Active,
            ("closed", _) => SchoolStatus::Closed,
            ("merged", Some(into)) => SchoolStatus::Merged(parse_ref(into)?),
            (other, _) => return Err(corrupt("school status", other)),
        };
        let networks = json_list(&self.networks)?
            .iter()
            .map(|n| n.parse().map_err(|e| corrupt("network", e)))
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(School {
            instelling_ref: parse_ref(&self.instelling_ref)?,
            board_id: self.board_id.as_deref().map(parse_uuid).transpose()?,
            brin6: Brin6::from_str(&self.brin6).map_err(|e| corrupt("BRIN6", e))?,
            name: self.name,
            status,
            networks,
            dynamic_network: self
                .dynamic_network
                .as_deref()
                .map(|n| n.parse().map_err(|e| corrupt("network", e)))
                .transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// School `key` after an update that matched `n` rows; `NotFound` when it matched none.
fn updated(c: &mut DbConnection, key: &str, n: usize) -> Result<School, TxError> {
    let missing = || RepoError::NotFound(format!("no school with INSTELLING_REF {key}"));
    if n == 0 {
        return Err(missing().into());
    }
    load_school(c, key)?.ok_or_else(|| missing().into())
}

pub(super) fn load_school(conn: &mut DbConnection, r: &str) -> Result<Option<School>, TxError> {
    let row = schools::table
        .find(r)
        .select(SchoolRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(SchoolRow::into_domain).transpose()?)
}

impl Schools for DieselDirectory {
    fn insert_board(
        &self,
        board: NewBoard,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<SchoolBoard> {
        let row = BoardRow {
            id: board.id.to_string(),
            name: board.name,
            bestuursnummer: board.bestuursnummer,
            created_at: now,
        };
        insert_audited!(self, school_boards::table, row, audit)
    }

    fn board(&self, id: Uuid) -> RepoResult<Option<SchoolBoard>> {
        self.find(
            |c| {
                school_boards::table
                    .find(id.to_string())
                    .select(BoardRow::as_select())
                    .first(c)
            },
            BoardRow::into_domain,
        )
    }

    fn insert_school(&self, school: NewSchool, now: i64, audit: AuditEvent) -> RepoResult<School> {
        let networks: Vec<String> = school.networks.iter().map(|n| n.to_string()).collect();
        let row = SchoolRow {
            instelling_ref: school.instelling_ref.to_string(),
            board_id: school.board_id.map(|b| b.to_string()),
            brin6: school.brin6.to_string(),
            name: school.name,
            status: "active".into(),
            merged_into: None,
            networks: to_json_list(&networks),
            created_at: now,
            updated_at: now,
            dynamic_network: None,
        };
        insert_audited!(self, schools::table, row, audit)
    }

    fn school(&self, r: &InstellingRef) -> RepoResult<Option<School>> {
        let key = r.to_string();
        if let Some(s) = self.school_cache.get(&key) {
            return Ok(Some(s));
        }
        let found = self.read(|c| load_school(c, &key))?;
        if let Some(s) = &found {
            self.school_cache.put(key, s.clone());
        }
        Ok(found)
    }

    fn schools(&self) -> RepoResult<Vec<School>> {
        self.load_all(
            |c| {
                schools::table
                    .select(SchoolRow::as_select())
                    .order(schools::name)
                    .load(c)
            },
            SchoolRow::into_domain,
        )
    }

    fn change_brin6(
        &self,
        r: &InstellingRef,
        brin6: Brin6,
        name: Option<&str>,
        audit: AuditEvent,
    ) -> RepoResult<School> {
        let now = audit.at;
        self.school_cache.remove(&r.to_string());
        let key = r.to_string();
        self.audited(audit, |c| {
            let n = diesel::update(schools::table.find(&key))
                .set((
                    schools::brin6.eq(brin6.to_string()),
                    schools::updated_at.eq(now),
                ))
                .execute(c)?;
            if let Some(name) = name {
                diesel::update(schools::table.find(&key))
                    .set(schools::name.eq(name))
                    .execute(c)?;
            }
            updated(c, &key, n)
        })
    }

    fn update_school(
        &self,
        r: &InstellingRef,
        change: SchoolChange,
        audit: AuditEvent,
    ) -> RepoResult<School> {
        self.school_cache.remove(&r.to_string());
        let key = r.to_string();
        let now = audit.at;
        let (status, merged_into) = match &change.status {
            None => (None, None),
            Some(SchoolStatus::Merged(into)) => (Some("merged"), Some(Some(into.to_string()))),
            Some(other) => (Some(other.as_str()), Some(None)),
        };
        let networks = change
            .networks
            .as_ref()
            .map(|n| to_json_list(&n.iter().map(|n| n.to_string()).collect::<Vec<_>>()));
        let found = self.audited(audit, |c| {
            let n = diesel::update(schools::table.find(&key))
                .set(SchoolChangeset {
                    status,
                    merged_into,
                    networks,
                    updated_at: now,
                })
                .execute(c)?;
            updated(c, &key, n)
        });
        self.school_cache.remove(&r.to_string());
        found
    }
}

/// The columns [`Schools::update_school`] may change (`None`: unchanged).
#[derive(AsChangeset)]
#[diesel(table_name = schools)]
struct SchoolChangeset<'a> {
    status: Option<&'a str>,
    merged_into: Option<Option<String>>,
    networks: Option<String>,
    updated_at: i64,
}
