//! From records (a row number and its cells) to [`Row`]s: the header and its columns, then
//! the checks on every row, the unique keys and ECK-iDs.

use std::collections::HashMap;

use super::{column_letters, Row, Soort, SpreadsheetError, MAX_CELL, MAX_ROWS};

/// The columns Leerpoort reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Soort,
    Sleutel,
    Voornaam,
    Tussenvoegsel,
    Achternaam,
    Groep,
    Jaargroep,
    Emailadres,
    EckId,
    Rol,
}

impl Column {
    /// In the order of [`super::COLUMNS`].
    const ALL: [Column; 10] = [
        Column::Soort,
        Column::Sleutel,
        Column::Voornaam,
        Column::Tussenvoegsel,
        Column::Achternaam,
        Column::Groep,
        Column::Jaargroep,
        Column::Emailadres,
        Column::EckId,
        Column::Rol,
    ];

    fn index(self) -> usize {
        Column::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    /// The name as the template writes it.
    fn name(self) -> &'static str {
        super::COLUMNS
            .get(self.index())
            .copied()
            .unwrap_or_default()
    }

    fn required(self) -> bool {
        matches!(
            self,
            Column::Soort | Column::Sleutel | Column::Voornaam | Column::Achternaam | Column::Groep
        )
    }

    /// The column a header cell names: case, spaces, `-`, `_` and `.` aside.
    fn named(header: &str) -> Option<Column> {
        let wanted = squeeze(header);
        Column::ALL
            .into_iter()
            .find(|c| squeeze(c.name()) == wanted)
    }
}

/// `s` in lower case without spaces, `-`, `_` and `.`.
fn squeeze(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// EDEXML's jaargroep values besides `1` to `8` (`EDEXJaargroepType`, 1.0.3 and 2.0).
const OTHER_JAARGROEPEN: [&str; 14] = [
    "0", "11", "12", "13", "14", "15", "16", "S", "H", "B", "D", "V", "C", "N",
];

/// EDEXML's role codes (`EDEXLeerkrachtRolType`, 2.0 and 2.1).
const ROLES: [&str; 17] = [
    "ADJ", "ADM", "CON", "DIR", "ICT", "IB", "KLA", "LRK", "LOS", "LOC", "OWA", "OUD", "RT", "SMW",
    "STA", "VAK", "TAL",
];

/// The rows as they come: first the header, then the people.
#[derive(Debug, Default)]
pub(super) struct Builder {
    /// For each column read, its index in a record; `None` until the header is read.
    columns: Option<[Option<usize>; 10]>,
    header_line: u32,
    rows: Vec<Row>,
    keys: HashMap<(Soort, String), u32>,
    eckids: HashMap<String, u32>,
}

impl Builder {
    /// One record: row `line` (1-based, increasing) and its cells. Empty records are passed
    /// over; the first other one is the header.
    pub(super) fn record(&mut self, line: u32, cells: &[String]) -> Result<(), SpreadsheetError> {
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(());
        }
        if line > MAX_ROWS.saturating_add(1) {
            return Err(too_many_rows(line));
        }
        match self.columns {
            None => self.header(line, cells),
            Some(at) => {
                let row = read_row(line, &at, cells)?;
                self.add(row)
            }
        }
    }

    /// The people, once every record was given: at least one.
    pub(super) fn finish(self) -> Result<Vec<Row>, SpreadsheetError> {
        if self.columns.is_none() {
            return Err(SpreadsheetError::new(
                1,
                "the file is empty: the first row must name the columns (see the template)",
            ));
        }
        if self.rows.is_empty() {
            return Err(SpreadsheetError::new(
                self.header_line,
                "there is no leerling or leerkracht under the header (importing it would make everyone leave)",
            ));
        }
        Ok(self.rows)
    }

    fn header(&mut self, line: u32, cells: &[String]) -> Result<(), SpreadsheetError> {
        let mut at: [Option<usize>; 10] = [None; 10];
        let mut unknown = None;
        for (i, cell) in cells.iter().enumerate() {
            let name = cell.trim();
            if name.is_empty() {
                continue;
            }
            match Column::named(name) {
                Some(c) => {
                    let slot = at.get_mut(c.index());
                    if let Some(slot) = slot {
                        if slot.is_some() {
                            return Err(SpreadsheetError::new(
                                line,
                                format!("the column {} appears twice in the header", c.name()),
                            ));
                        }
                        *slot = Some(i);
                    }
                }
                None => {
                    unknown.get_or_insert(i);
                }
            }
        }
        let missing: Vec<&str> = Column::ALL
            .into_iter()
            .filter(|c| c.required() && at.get(c.index()).copied().flatten().is_none())
            .map(Column::name)
            .collect();
        if !missing.is_empty() {
            return Err(SpreadsheetError::new(
                line,
                format!(
                    "the header (the first row) lacks the column(s) {}: it must name the columns {} (see the template)",
                    missing.join(", "),
                    super::COLUMNS.join(", ")
                ),
            ));
        }
        if let Some(i) = unknown {
            let name = cells.get(i).map(|c| c.trim()).unwrap_or_default();
            return Err(SpreadsheetError::new(
                line,
                format!(
                    "column {} ('{}') is not one Leerpoort reads: remove it (the columns are {})",
                    column_letters(i),
                    short(name),
                    super::COLUMNS.join(", ")
                ),
            ));
        }
        self.columns = Some(at);
        self.header_line = line;
        Ok(())
    }

    fn add(&mut self, row: Row) -> Result<(), SpreadsheetError> {
        let key = (row.soort, row.sleutel.clone());
        if let Some(first) = self.keys.insert(key, row.line) {
            return Err(SpreadsheetError::new(
                row.line,
                format!(
                    "the same Sleutel as row {first}: every {} needs a Sleutel of their own",
                    row.soort.as_str()
                ),
            ));
        }
        if let Some(e) = &row.eckid {
            if let Some(first) = self.eckids.insert(e.clone(), row.line) {
                return Err(SpreadsheetError::new(
                    row.line,
                    format!("the same ECK-iD as row {first}"),
                ));
            }
        }
        self.rows.push(row);
        Ok(())
    }
}

/// `s` for a message: at most 40 characters.
fn short(s: &str) -> String {
    match s.char_indices().nth(40) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
    }
}

/// The value of `column` in `cells`: trimmed, white space runs as one space; empty when the
/// column is absent. A control character is refused.
fn value(
    line: u32,
    at: &[Option<usize>; 10],
    cells: &[String],
    column: Column,
) -> Result<String, SpreadsheetError> {
    let raw = at
        .get(column.index())
        .copied()
        .flatten()
        .and_then(|i| cells.get(i))
        .map(String::as_str)
        .unwrap_or_default();
    let v = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.chars().any(char::is_control) {
        return Err(SpreadsheetError::new(
            line,
            format!("the {} holds a control character", column.name()),
        ));
    }
    if v.chars().count() > MAX_CELL {
        return Err(SpreadsheetError::new(
            line,
            format!("the {} is longer than {MAX_CELL} characters", column.name()),
        ));
    }
    Ok(v)
}

/// The comma-separated parts of `v`, trimmed, without empty ones and without repeats (case
/// aside).
fn parts(v: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if !out.iter().any(|o| o.to_lowercase() == p.to_lowercase()) {
            out.push(p.to_string());
        }
    }
    out
}

fn some(v: String) -> Option<String> {
    (!v.is_empty()).then_some(v)
}

/// Row `line` with the header's columns `at`.
fn read_row(
    line: u32,
    at: &[Option<usize>; 10],
    cells: &[String],
) -> Result<Row, SpreadsheetError> {
    let get = |c: Column| value(line, at, cells, c);
    let refuse = |m: &str| Err(SpreadsheetError::new(line, m));
    let soort = match get(Column::Soort)?.to_lowercase().as_str() {
        "leerling" => Soort::Leerling,
        "leerkracht" => Soort::Leerkracht,
        "" => return refuse("the Soort is empty: leerling or leerkracht"),
        _ => return refuse("the Soort must be leerling or leerkracht"),
    };
    let sleutel = get(Column::Sleutel)?;
    if sleutel.is_empty() {
        return refuse("the Sleutel is empty: every person needs the school's own number for them");
    }
    let voornaam = get(Column::Voornaam)?;
    let achternaam = get(Column::Achternaam)?;
    if voornaam.is_empty() && achternaam.is_empty() {
        return refuse("a Voornaam or an Achternaam is needed");
    }
    let groepen = parts(&get(Column::Groep)?);
    if soort == Soort::Leerling && groepen.is_empty() {
        return refuse("the Groep is empty: a leerling needs a group");
    }
    let pupil = soort == Soort::Leerling;
    let jaargroep = if pupil {
        jaargroep(&get(Column::Jaargroep)?).map_err(|m| SpreadsheetError::new(line, m))?
    } else {
        None
    };
    let rollen = if pupil {
        Vec::new()
    } else {
        roles(&get(Column::Rol)?).map_err(|m| SpreadsheetError::new(line, m))?
    };
    Ok(Row {
        line,
        soort,
        sleutel,
        voornaam,
        tussenvoegsel: some(get(Column::Tussenvoegsel)?),
        achternaam,
        groepen,
        jaargroep,
        emailadres: if pupil {
            None
        } else {
            some(get(Column::Emailadres)?)
        },
        eckid: some(get(Column::EckId)?),
        rollen,
    })
}

/// A Jaargroep: `1` to `8` (also `groep 3`) or one of EDEXML's other values, in capitals.
fn jaargroep(v: &str) -> Result<Option<String>, String> {
    if v.is_empty() {
        return Ok(None);
    }
    let upper = v.to_uppercase();
    let bare = upper
        .strip_prefix("GROEP")
        .map(str::trim_start)
        .unwrap_or(&upper);
    let one_to_eight = matches!(bare.as_bytes(), [b'1'..=b'8']);
    if one_to_eight || OTHER_JAARGROEPEN.contains(&bare) {
        Ok(Some(bare.to_string()))
    } else {
        Err("the Jaargroep must be 1 to 8 (or one of EDEXML's values such as S, H or C)".into())
    }
}

/// The Rol codes: EDEXML's, with `stagiaire` as `STA` and `leerkracht` as `LRK`.
fn roles(v: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for p in parts(v) {
        let code = match p.to_uppercase().as_str() {
            "STAGIAIRE" => "STA".to_string(),
            "LEERKRACHT" => "LRK".to_string(),
            other => other.to_string(),
        };
        if !ROLES.contains(&code.as_str()) {
            return Err(
                "a Rol is not one Leerpoort reads: IB, RT or stagiaire (or another EDEXML role code), separated by commas"
                    .into(),
            );
        }
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(out)
}

/// A value on `line`, below the last row a file may hold.
pub(super) fn too_many_rows(line: u32) -> SpreadsheetError {
    SpreadsheetError::new(
        line,
        format!(
            "values beyond row {}: a file holds at most {MAX_ROWS} people under its header",
            MAX_ROWS + 1
        ),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_matched_loosely() {
        assert_eq!(Column::named("E-mailadres"), Some(Column::Emailadres));
        assert_eq!(Column::named(" e_mail adres "), Some(Column::Emailadres));
        assert_eq!(Column::named("ECK-iD"), Some(Column::EckId));
        assert_eq!(Column::named("eckid"), Some(Column::EckId));
        assert_eq!(Column::named("SLEUTEL"), Some(Column::Sleutel));
        assert_eq!(Column::named("Geboortedatum"), None);
    }

    #[test]
    fn jaargroepen_and_roles() {
        assert_eq!(jaargroep("groep 3").unwrap(), Some("3".into()));
        assert_eq!(jaargroep("s").unwrap(), Some("S".into()));
        assert_eq!(jaargroep("").unwrap(), None);
        assert!(jaargroep("9").is_err());
        assert!(jaargroep("3/4").is_err());
        assert_eq!(
            roles("ib, Stagiaire, IB").unwrap(),
            vec!["IB".to_string(), "STA".to_string()]
        );
        assert!(roles("directeur").is_err());
    }

    #[test]
    fn parts_keep_the_first_spelling() {
        assert_eq!(parts(" 3A , leesclub,, 3a"), vec!["3A", "leesclub"]);
    }
}
