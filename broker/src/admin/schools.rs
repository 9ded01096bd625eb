//! School boards, school locations (BRIN6, networks) and groups.

use std::str::FromStr;

use crate::audit::AuditAction;
use crate::model::{Group, School, SchoolBoard, SchoolStatus};
use crate::repo::{NewBoard, NewSchool, SchoolChange};
use claims::{Brin4, Brin6, InstellingRef, Jaargroep};
use ipnet::IpNet;
use uuid::Uuid;

use super::{invalid, non_empty, school_year_at, Ctx, Result};

/// A school board.
pub fn add_board(ctx: Ctx<'_>, name: &str, bestuursnummer: Option<&str>) -> Result<SchoolBoard> {
    let name = non_empty("board name", name)?;
    let board = NewBoard {
        id: Uuid::new_v4(),
        name: name.clone(),
        bestuursnummer: bestuursnummer.map(str::to_string),
    };
    let audit = ctx.audit(
        AuditAction::BoardAdd,
        None,
        Some(board.id.to_string()),
        serde_json::json!({"name": name}),
    );
    Ok(ctx.dir.insert_board(board, ctx.now(), audit)?)
}

/// Input of [`add_school`].
#[derive(Debug, Clone)]
pub struct SchoolInput {
    pub brin: String,
    pub vestiging: String,
    /// The name of a location outside DUO's registry; empty to take DUO's. A location the
    /// registry lists always carries DUO's name, whatever is given here.
    pub name: String,
    pub networks: Vec<String>,
    pub board: Option<Uuid>,
    /// A fixed INSTELLING_REF (the demo); normally a new random one.
    pub instelling_ref: Option<InstellingRef>,
}

/// A school location with a new, permanent INSTELLING_REF. Its name is DUO's when DUO's
/// registry lists the location, else the one given (which is then required).
pub fn add_school(ctx: Ctx<'_>, input: SchoolInput) -> Result<School> {
    let brin4 = Brin4::from_str(input.brin.trim()).map_err(|e| invalid(e.to_string()))?;
    let brin6 = Brin6::new(brin4, input.vestiging.trim()).map_err(|e| invalid(e.to_string()))?;
    let name = match crate::import::duo::official(ctx.dir, &brin6)? {
        Some(official) => official.name,
        None if input.name.trim().is_empty() => {
            return Err(invalid(format!(
                "no school name given, and DUO's registry does not list {brin6} to take it from \
                 (load the registry with `leerpoort import duo`, or name a location outside it)"
            )))
        }
        None => non_empty("school name", &input.name)?,
    };
    let networks = input
        .networks
        .iter()
        .map(|n| parse_network(n))
        .collect::<Result<Vec<_>>>()?;
    if let Some(b) = input.board {
        ctx.dir
            .board(b)?
            .ok_or_else(|| invalid(format!("no school board {b}")))?;
    }
    let r = input
        .instelling_ref
        .unwrap_or_else(InstellingRef::new_random);
    let audit = ctx.audit(
        AuditAction::SchoolAdd,
        Some(r),
        None,
        serde_json::json!({"brin6": brin6.to_string(), "name": name}),
    );
    Ok(ctx.dir.insert_school(
        NewSchool {
            instelling_ref: r,
            board_id: input.board,
            brin6,
            name,
            networks,
        },
        ctx.now(),
        audit,
    )?)
}

/// DUO gave a school a new BRIN or location code. The INSTELLING_REF and every pseudonym
/// relying parties know stay the same.
pub fn change_brin(
    ctx: Ctx<'_>,
    school: &InstellingRef,
    brin: &str,
    vestiging: &str,
) -> Result<School> {
    let before = ctx.active_school(school)?;
    let brin4 = Brin4::from_str(brin.trim()).map_err(|e| invalid(e.to_string()))?;
    let brin6 = Brin6::new(brin4, vestiging.trim()).map_err(|e| invalid(e.to_string()))?;
    // DUO's name for the new location, when its registry lists it and it differs.
    let duo_name = ctx
        .dir
        .duo_location(&brin6)?
        .filter(|l| l.listed() && l.name != before.name)
        .map(|l| l.name);
    let mut details =
        serde_json::json!({"from": before.brin6.to_string(), "to": brin6.to_string()});
    if let Some(name) = &duo_name {
        details["name"] = serde_json::json!({"from": before.name, "to": name, "source": "duo"});
    }
    let audit = ctx.audit(AuditAction::SchoolChangeBrin, Some(*school), None, details);
    Ok(ctx
        .dir
        .change_brin6(school, brin6, duo_name.as_deref(), audit)?)
}

/// Withdraw every relying party the school allows, each with its audit line; the names of
/// those withdrawn.
pub fn withdraw_all(ctx: Ctx<'_>, school: &InstellingRef) -> Result<Vec<String>> {
    let mut withdrawn = Vec::new();
    for reg in ctx.dir.registrations_of_school(school)? {
        if !reg.allowed {
            continue;
        }
        if let Some(rp) = ctx.dir.relying_party(reg.rp_id)? {
            super::deregister(ctx, school, rp.public_id())?;
            withdrawn.push(rp.name);
        }
    }
    Ok(withdrawn)
}

/// A closed school, and the relying parties it still allowed until then.
#[derive(Debug, Clone)]
pub struct ClosedSchool {
    pub school: School,
    pub withdrawn: Vec<String>,
}

/// Close a school account (`school close`): the import becomes manual (an automatic coupling
/// is switched off on the school's side), every relying party is withdrawn, then the school
/// is closed. Its shortcuts show a friendly page from then on, nobody of it signs in to any
/// software, and its data stay (the ids, so pseudonyms are never given to anyone else).
pub fn close_school(ctx: Ctx<'_>, school: &InstellingRef) -> Result<ClosedSchool> {
    ctx.active_school(school)?;
    crate::import::las::manual(ctx, school)?;
    let withdrawn = withdraw_all(ctx, school)?;
    let audit = ctx.audit(
        AuditAction::SchoolClose,
        Some(*school),
        None,
        serde_json::json!({"withdrawn": withdrawn.len()}),
    );
    let school = ctx.dir.update_school(
        school,
        SchoolChange {
            status: Some(SchoolStatus::Closed),
            ..SchoolChange::default()
        },
        audit,
    )?;
    Ok(ClosedSchool { school, withdrawn })
}

/// A school network in CIDR form; a bare address means that one host.
pub fn parse_network(s: &str) -> Result<IpNet> {
    let s = s.trim();
    IpNet::from_str(s)
        .or_else(|_| std::net::IpAddr::from_str(s).map(IpNet::from))
        .map_err(|_| {
            invalid(format!(
                "network '{s}' is not valid: expected CIDR like 192.0.2.0/24"
            ))
        })
}

/// A group at a school.
/// `composite` marks a combination group (combinatiegroep, e.g. 3/4).
pub fn add_group(
    ctx: Ctx<'_>,
    school: &InstellingRef,
    key: &str,
    name: &str,
    jaargroep: Option<&str>,
    composite: bool,
) -> Result<Group> {
    ctx.active_school(school)?;
    let key = non_empty("group key", key)?;
    let name = non_empty("group name", name)?;
    let jaargroep = jaargroep
        .map(|j| Jaargroep::from_str(j).map_err(|e| invalid(e.to_string())))
        .transpose()?;
    let audit = ctx.audit(
        AuditAction::GroupAdd,
        Some(*school),
        Some(key.clone()),
        serde_json::json!({"name": name}),
    );
    Ok(ctx.dir.insert_group(
        Group {
            id: Uuid::new_v4(),
            school: *school,
            key,
            name,
            jaargroep,
            composite,
            school_year: school_year_at(ctx.now()),
        },
        ctx.now(),
        audit,
    )?)
}
