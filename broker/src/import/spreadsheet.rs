//! The spreadsheet door: a file a school without an LAS fills in itself
//! ([`protocol::spreadsheet::Spreadsheet`]), mapped onto the school.
//!
//! - **Which school:** the file names none; it is the school the import is for.
//! - **School year:** the one `today` is in (a Dutch school year starts on 1 August).
//! - **Groups:** made from the names in the `Groep` column. A group's key is its name in lower
//!   case with its spacing made single, so `Groep 3A` and `groep 3a` are one group, in this
//!   file and the next; it is shown as first written. A group gets the jaargroep its pupils'
//!   rows agree on; when they differ (a combination group, 3/4) it has none and is marked
//!   composite. Teachers' rows do not count.
//! - **Pupils and teachers:** identified by their ECK-iD when the row has a valid one, else by
//!   their `Sleutel` — never by name. An `ECK-iD` that is not a valid ECK-iD is dropped with a
//!   warning on its row, never echoed. A teacher's `E-mailadres` is kept when valid (else a
//!   warning); a teacher without one is kept and matched by key.
//! - **Roles:** as the EDEXML door: `IB`, `RT` and `STA` (`stagiaire`) become `ib`, `rt` and
//!   `stagiaire`; `ICT` is never given from a file (a warning); other codes give no extra role.

use std::collections::HashMap;

use claims::{EckId, Jaargroep, Role};
use protocol::spreadsheet::{Row, Soort, Spreadsheet};

use super::{Incoming, IncomingGroup, IncomingPerson, Warning};

/// `sheet`, as of `today` (`YYYY-MM-DD`).
pub fn incoming(sheet: &Spreadsheet, today: &str) -> Incoming {
    let mut warnings = Vec::new();
    let mut pupils = Vec::new();
    let mut teachers = Vec::new();
    let mut ict_skipped = false;
    for row in &sheet.rows {
        let pupil = row.soort == Soort::Leerling;
        let mut roles = vec![if pupil {
            Role::Leerling
        } else {
            Role::Leerkracht
        }];
        for r in &row.rollen {
            match r.as_str() {
                "IB" => roles.push(Role::Ib),
                "RT" => roles.push(Role::Rt),
                "STA" => roles.push(Role::Stagiaire),
                "ICT" => ict_skipped = true,
                _ => {}
            }
        }
        let email = row.emailadres.as_deref().and_then(|e| {
            let ok = crate::model::normalise_email(e);
            if ok.is_none() {
                warnings.push(Warning::EmailInvalid { line: row.line });
            }
            ok
        });
        let person = IncomingPerson {
            las_key: row.sleutel.clone(),
            eck_id: eck_id(row, &mut warnings),
            given_name: row.voornaam.clone(),
            family_name: family_name(row),
            email: if pupil { None } else { email },
            groups: row.groepen.iter().map(|g| group_key(g)).collect(),
            roles,
            line: row.line,
        };
        if pupil {
            pupils.push(person);
        } else {
            teachers.push(person);
        }
    }
    if ict_skipped {
        warnings.push(Warning::IctRoleNotGiven);
    }
    Incoming {
        source: "spreadsheet",
        format_version: None,
        school_year: school_year(today),
        groups: groups(&sheet.rows),
        pupils,
        teachers,
        warnings,
    }
}

/// A group's key: its name in lower case, runs of white space as one space.
pub fn group_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The school year `today` (`YYYY-MM-DD`) is in, `YYYY-YYYY+1`: from 1 August.
pub fn school_year(today: &str) -> String {
    let year: i32 = today.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2000);
    let month: u32 = today.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let start = if month >= 8 { year } else { year - 1 };
    format!("{start}-{}", start + 1)
}

/// The groups the rows name, in order of first mention, each with the jaargroep its pupils
/// agree on (else none, and composite when they disagree).
fn groups(rows: &[Row]) -> Vec<IncomingGroup> {
    let mut order: Vec<IncomingGroup> = Vec::new();
    // Per key: the jaargroepen its pupils' rows give (`None`: a row without one).
    let mut years: HashMap<String, Vec<Option<Jaargroep>>> = HashMap::new();
    for row in rows {
        let jaargroep = row
            .jaargroep
            .as_deref()
            .and_then(|j| j.parse::<Jaargroep>().ok());
        for name in &row.groepen {
            let key = group_key(name);
            if !order.iter().any(|g| g.key == key) {
                order.push(IncomingGroup {
                    key: key.clone(),
                    name: name.clone(),
                    jaargroep: None,
                    composite: false,
                });
            }
            if row.soort == Soort::Leerling {
                years.entry(key).or_default().push(jaargroep);
            }
        }
    }
    for g in &mut order {
        let Some(given) = years.get(&g.key) else {
            continue;
        };
        let mut known = given.iter().flatten();
        let first = known.next().copied();
        if known.all(|j| Some(*j) == first) {
            g.jaargroep = first;
        } else {
            g.composite = true;
        }
    }
    order
}

fn eck_id(row: &Row, warnings: &mut Vec<Warning>) -> Option<EckId> {
    let v = row.eckid.as_deref()?;
    match EckId::parse_import(v) {
        Ok(e) => Some(e),
        Err(_) => {
            warnings.push(Warning::EckIdInvalid { line: row.line });
            None
        }
    }
}

fn family_name(row: &Row) -> String {
    match row.tussenvoegsel.as_deref() {
        Some(t) => format!("{t} {}", row.achternaam).trim().to_string(),
        None => row.achternaam.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sheet(csv: &str) -> Spreadsheet {
        protocol::spreadsheet::parse(csv.as_bytes()).unwrap()
    }

    #[test]
    fn school_years_start_in_august() {
        assert_eq!(school_year("2026-07-31"), "2025-2026");
        assert_eq!(school_year("2026-08-01"), "2026-2027");
        assert_eq!(school_year("2026-11-23"), "2026-2027");
    }

    #[test]
    fn rows_become_people_and_groups() {
        let eck = format!("https://ketenid.nl/201703/{}", "c".repeat(128));
        let s = sheet(&format!(
            "Soort;Sleutel;Voornaam;Tussenvoegsel;Achternaam;Groep;Jaargroep;E-mailadres;ECK-iD;Rol\n\
             leerling;L1;Saar;de;Jong;Groep 3/4, Leesclub;3;;{eck};\n\
             leerling;L2;Deniz;;Yilmaz;groep  3/4;4;;https://id.school/x!;\n\
             leerling;L3;Eva;;Smit;Groep 5;5;;;\n\
             leerkracht;T1;Marloes;;Visser;Groep 5;;niet-een-adres;;IB, ICT, LRK\n\
             leerkracht;T2;Bram;;Dijk;;;;;\n"
        ));
        let i = incoming(&s, "2026-11-23");
        assert_eq!(i.source, "spreadsheet");
        assert_eq!(i.school_year, "2026-2027");
        let g: Vec<_> = i
            .groups
            .iter()
            .map(|g| {
                (
                    g.key.as_str(),
                    g.name.as_str(),
                    g.jaargroep.map(|j| j.get()),
                    g.composite,
                )
            })
            .collect();
        assert_eq!(
            g,
            vec![
                ("groep 3/4", "Groep 3/4", None, true),
                ("leesclub", "Leesclub", Some(3), false),
                ("groep 5", "Groep 5", Some(5), false),
            ]
        );
        assert_eq!(i.pupils.len(), 3);
        assert_eq!(i.pupils[0].family_name, "de Jong");
        assert_eq!(i.pupils[0].groups, vec!["groep 3/4", "leesclub"]);
        assert!(i.pupils[0].eck_id.is_some());
        assert!(i.pupils[1].eck_id.is_none(), "an invalid ECK-iD is dropped");
        let marloes = &i.teachers[0];
        assert_eq!(marloes.roles, vec![Role::Leerkracht, Role::Ib]);
        assert_eq!(marloes.email, None);
        assert!(i.teachers[1].email.is_none() && i.teachers[1].groups.is_empty());
        assert_eq!(
            i.warnings,
            vec![
                Warning::EckIdInvalid { line: 3 },
                Warning::EmailInvalid { line: 5 },
                Warning::IctRoleNotGiven
            ]
        );
    }
}
