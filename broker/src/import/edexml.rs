//! The EDEXML door: a parsed file ([`protocol::edexml::Edexml`]) mapped onto a school.
//!
//! - **Which school:** the file's `brincode` must be the school's BRIN, and its
//!   `dependancecode`, when the file has one (1.0.3 files may not), the school's location
//!   number. Anything else is another school's file and is refused. A Flemish file names an
//!   `instellingsnummer` instead; a Leerpoort school is known by its BRIN, so such a file is
//!   refused too, saying so.
//! - **Groups:** groepen and samengestelde groepen by their keys (the schema makes them
//!   unique together). A jaargroep of 1 to 8 is kept, other values (0, `S`, `H`, `C`, ...)
//!   leave the group without one.
//! - **Pupils:** named by `roepnaam` (else `voorletters`) and `voorvoegsel` + `achternaam`;
//!   those whose `uitstroomdatum` has passed are not at the school any more and are left out.
//!   An `eckid` that is not a valid ECK-iD (old exports hold values like
//!   `https://id.school/...` with stray characters) is not kept: the pupil is matched by their
//!   key, and the report warns by line, never with the value.
//! - **Teachers:** their `emailadres` when it is a valid address; the roles `IB`, `RT` and
//!   `STA` become Leerpoort's `ib`, `rt` and `stagiaire`; the others (`LRK`, `DIR`, `TAL`, ...)
//!   give no extra role. `ICT` is not given from a file: an ICT coordinator
//!   reaches Beheer, and is added there.

use claims::{EckId, Jaargroep, Role};
use protocol::edexml::{Edexml, Persoon, SchoolId};

use super::{ImportError, Incoming, IncomingGroup, IncomingPerson, Warning};
use crate::model::School;

/// A leerling or leerkracht as the pipeline takes them: the key, a valid ECK-iD (an invalid
/// one is dropped with a warning), the names.
fn person(
    p: &Persoon,
    email: Option<String>,
    groups: Vec<String>,
    roles: Vec<Role>,
    warnings: &mut Vec<Warning>,
) -> IncomingPerson {
    IncomingPerson {
        las_key: p.key.clone(),
        eck_id: eck_id(p.eckid.as_deref(), p.line, warnings),
        given_name: given_name(p.roepnaam.as_deref(), p.voorletters.as_deref()),
        family_name: family_name(p.voorvoegsel.as_deref(), &p.achternaam),
        email,
        groups,
        roles,
        line: p.line,
    }
}

/// `file`, for `school`, as of `today` (`YYYY-MM-DD`).
pub fn incoming(file: &Edexml, school: &School, today: &str) -> Result<Incoming, ImportError> {
    check_school(file, school)?;
    let mut warnings = Vec::new();
    let mut groups = Vec::new();
    for g in &file.groepen {
        groups.push(IncomingGroup {
            key: g.key.clone(),
            name: g.naam.clone(),
            jaargroep: g
                .jaargroep
                .as_deref()
                .and_then(|j| j.parse::<Jaargroep>().ok()),
            composite: false,
        });
    }
    for g in &file.samengestelde_groepen {
        groups.push(IncomingGroup {
            key: g.key.clone(),
            name: g.naam.clone(),
            jaargroep: None,
            composite: true,
        });
    }
    let mut pupils = Vec::new();
    let mut gone = 0usize;
    for l in &file.leerlingen {
        if l.uitstroomdatum.as_deref().is_some_and(|d| d <= today) {
            gone += 1;
            continue;
        }
        let mut in_groups: Vec<String> = l.groep.iter().cloned().collect();
        in_groups.extend(l.samengestelde_groepen.iter().cloned());
        let roles = vec![Role::Leerling];
        pupils.push(person(&l.persoon, None, in_groups, roles, &mut warnings));
    }
    if gone > 0 {
        warnings.push(Warning::PupilsLeftSchool { count: gone });
    }
    let mut teachers = Vec::new();
    let mut ict_skipped = false;
    for t in &file.leerkrachten {
        let mut roles = vec![Role::Leerkracht];
        let per_group = t.groep_rollen.iter().map(|(_, r)| r);
        for r in t.rollen.iter().chain(per_group) {
            match r.trim().to_ascii_uppercase().as_str() {
                "IB" => roles.push(Role::Ib),
                "RT" => roles.push(Role::Rt),
                "STA" => roles.push(Role::Stagiaire),
                "ICT" => ict_skipped = true,
                _ => {}
            }
        }
        roles.dedup();
        let email = t.persoon.emailadres.as_deref().and_then(|e| {
            let ok = crate::model::normalise_email(e);
            if ok.is_none() {
                warnings.push(Warning::EmailInvalid {
                    line: t.persoon.line,
                });
            }
            ok
        });
        let mut in_groups = t.groepen.clone();
        in_groups.extend(t.samengestelde_groepen.iter().cloned());
        teachers.push(person(&t.persoon, email, in_groups, roles, &mut warnings));
    }
    if ict_skipped {
        warnings.push(Warning::IctRoleNotGiven);
    }
    Ok(Incoming {
        source: "edexml",
        format_version: Some(file.version.as_str()),
        school_year: file.schooljaar.clone(),
        groups,
        pupils,
        teachers,
        warnings,
    })
}

fn check_school(file: &Edexml, school: &School) -> Result<(), ImportError> {
    let ours = &school.brin6;
    match &file.school {
        SchoolId::Brin { brin, dependance } => {
            let same_brin = brin.trim().eq_ignore_ascii_case(ours.brin4().as_str());
            let same_location = dependance
                .as_deref()
                .is_none_or(|d| d.trim() == ours.vestiging());
            if same_brin && same_location {
                return Ok(());
            }
            Err(ImportError::OtherSchool(format!(
                "the file is for BRIN {}{}, not for this school ({ours})",
                brin.trim(),
                dependance.as_deref().map(str::trim).unwrap_or_default()
            )))
        }
        SchoolId::Instellingsnummer(n) => Err(ImportError::OtherSchool(format!(
            "the file names the Flemish instellingsnummer {}; this school is known by its BRIN ({ours})",
            n.trim()
        ))),
    }
}

fn eck_id(value: Option<&str>, line: u32, warnings: &mut Vec<Warning>) -> Option<EckId> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    match EckId::parse_import(v) {
        Ok(e) => Some(e),
        Err(_) => {
            warnings.push(Warning::EckIdInvalid { line });
            None
        }
    }
}

fn given_name(roepnaam: Option<&str>, voorletters: Option<&str>) -> String {
    roepnaam
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .or(voorletters.map(str::trim))
        .unwrap_or_default()
        .to_string()
}

fn family_name(voorvoegsel: Option<&str>, achternaam: &str) -> String {
    match voorvoegsel.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => format!("{v} {}", achternaam.trim()),
        None => achternaam.trim().to_string(),
    }
}
