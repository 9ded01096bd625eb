//! The DUO door: DUO's registry of school locations ("alle vestigingen basisonderwijs",
//! [`protocol::duo`]). Unlike the other doors it feeds no school's people: it keeps the
//! official names and addresses of every school location in the country, and Leerpoort's
//! schools take their names from it.
//!
//! - **A load** compares the file with the registry by BRIN6: locations new to it are
//!   *added*; listed ones whose data differ (name, address, province, board number), or that
//!   are listed again after being gone, are *changed*; the others are only seen again.
//!   Loading the same file twice adds and changes nothing.
//! - **Locations the file no longer lists** (closed, merged or renumbered at DUO) are marked
//!   gone, not deleted: their last data stay, and a later file that lists them brings them back
//!   as changed. A school on such a location keeps its name and counts as outside the
//!   registry from then on.
//! - **Names are DUO's:** every active school whose BRIN6 the file lists takes the file's
//!   name, with a line in its audit trail (`school.renamed`). Wrong data are put right at DUO
//!   and arrive with the next file; a name changed in Leerpoort would be overwritten by it.
//! - **Outside the registry:** schools whose BRIN6 the registry does not list (schools abroad,
//!   RT practices, test locations) keep working and keep the name they were given by hand.
//! - **All or nothing:** the whole load, the renames and their audit lines are one
//!   transaction; a refused file writes nothing.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use claims::Brin6;
use serde::Serialize;

use super::ImportError;
use crate::admin::Ctx;
use crate::audit::AuditAction;
use crate::model::{AuditEvent, DuoLocation, School, SchoolStatus};
use crate::repo::{Directory, DuoLoad, RepoResult, SchoolRename};

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuoReport {
    /// Locations in the file.
    pub locations: usize,
    pub added: usize,
    pub changed: usize,
    /// Locations the registry listed that the file no longer does.
    pub gone: usize,
    /// Schools that took DUO's name.
    pub schools_renamed: usize,
    /// How the file was read: `UTF-8` or `Windows-1252`.
    pub encoding: &'static str,
}

/// Where a school location stands towards DUO's registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Registry {
    /// DUO's latest file lists it: its name is DUO's.
    Duo,
    /// The registry does not list it (never, or no longer): its name is kept by hand.
    Outside,
}

impl Registry {
    /// `duo` or `outside`.
    pub fn as_str(self) -> &'static str {
        match self {
            Registry::Duo => "duo",
            Registry::Outside => "outside",
        }
    }

    /// Where the location `brin6` stands, given the BRIN6s the registry lists.
    pub fn of(brin6: &Brin6, listed: &HashSet<Brin6>) -> Registry {
        if listed.contains(brin6) {
            Registry::Duo
        } else {
            Registry::Outside
        }
    }
}

/// The registry's entry for `brin6` when DUO's latest file lists it.
pub fn official(dir: &dyn Directory, brin6: &Brin6) -> RepoResult<Option<DuoLocation>> {
    Ok(dir.duo_location(brin6)?.filter(DuoLocation::listed))
}

/// The BRIN6 of every location DUO's latest file lists.
pub fn listed(dir: &dyn Directory) -> RepoResult<HashSet<Brin6>> {
    Ok(dir
        .duo_locations()?
        .into_iter()
        .filter(DuoLocation::listed)
        .map(|l| l.brin6)
        .collect())
}

/// Load DUO's file (`bytes`, refused above [`protocol::duo::MAX_BYTES`]) into the registry,
/// and give the schools on its locations DUO's names: one transaction, audited.
pub fn load(ctx: Ctx<'_>, bytes: &[u8]) -> Result<DuoReport, ImportError> {
    let file = protocol::duo::parse(bytes).map_err(|e| ImportError::Invalid {
        line: e.line,
        message: e.message,
    })?;
    let at = ctx.clock.now_secs();
    let incoming = file
        .vestigingen
        .iter()
        .map(|v| location(v, at))
        .collect::<Result<Vec<_>, _>>()?;
    let schools = ctx.dir.schools()?;
    let load = plan(ctx.dir, incoming, &schools, at)?;
    let report = DuoReport {
        locations: file.vestigingen.len(),
        added: load.added.len(),
        changed: load.changed.len(),
        gone: load.gone.len(),
        schools_renamed: load.renamed.len(),
        encoding: file.encoding.as_str(),
    };
    let mut audit = vec![AuditEvent::record(
        AuditAction::DuoLoaded,
        ctx.actor,
        at,
        None,
        None,
        serde_json::to_value(&report).unwrap_or_default(),
    )];
    let before: HashMap<_, _> = schools
        .iter()
        .map(|s| (s.instelling_ref, s.name.as_str()))
        .collect();
    for r in &load.renamed {
        audit.push(AuditEvent::record(
            AuditAction::SchoolRenamed,
            ctx.actor,
            at,
            Some(r.school),
            None,
            serde_json::json!({
                "from": before.get(&r.school),
                "to": r.name,
                "source": "duo",
            }),
        ));
    }
    ctx.dir.apply_duo_load(&load, audit)?;
    Ok(report)
}

/// A row of the file as a registry entry seen at `at`.
fn location(v: &protocol::duo::Vestiging, at: i64) -> Result<DuoLocation, ImportError> {
    let brin6 = Brin6::from_str(&v.brin6()).map_err(|e| ImportError::Invalid {
        line: v.line,
        message: e.to_string(),
    })?;
    Ok(DuoLocation {
        brin6,
        name: v.naam.clone(),
        street: v.straatnaam.clone(),
        house_number: v.huisnummer.clone(),
        postcode: v.postcode.clone(),
        place: v.plaatsnaam.clone(),
        municipality: v.gemeentenaam.clone(),
        province: v.provincie.clone(),
        board_number: v.bevoegd_gezag_nummer.clone(),
        first_seen_at: at,
        seen_at: at,
        gone_at: None,
    })
}

/// The difference between the file's locations and the registry, and the schools to rename.
fn plan(
    dir: &dyn Directory,
    incoming: Vec<DuoLocation>,
    schools: &[School],
    at: i64,
) -> RepoResult<DuoLoad> {
    let stored: HashMap<Brin6, DuoLocation> = dir
        .duo_locations()?
        .into_iter()
        .map(|l| (l.brin6.clone(), l))
        .collect();
    let names: HashMap<Brin6, String> = incoming
        .iter()
        .map(|l| (l.brin6.clone(), l.name.clone()))
        .collect();
    let mut load = DuoLoad {
        at,
        ..DuoLoad::default()
    };
    for mut l in incoming {
        match stored.get(&l.brin6) {
            None => load.added.push(l),
            Some(old) => {
                l.first_seen_at = old.first_seen_at;
                if !old.listed() || !old.same_data(&l) {
                    load.changed.push(l);
                }
            }
        }
    }
    load.gone = stored
        .values()
        .filter(|l| l.listed() && !names.contains_key(&l.brin6))
        .map(|l| l.brin6.clone())
        .collect();
    load.gone.sort();
    for s in schools {
        if s.status != SchoolStatus::Active {
            continue;
        }
        match names.get(&s.brin6) {
            Some(name) if *name != s.name => load.renamed.push(SchoolRename {
                school: s.instelling_ref,
                name: name.clone(),
            }),
            _ => {}
        }
    }
    Ok(load)
}
