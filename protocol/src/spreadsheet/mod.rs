//! The spreadsheet a school without an LAS fills in itself (schools abroad, RT practices,
//! pabo's): one row per pupil or teacher, as CSV or as an Excel workbook (XLSX). [`parse`]
//! reads either — the format is told by the content (a zip container is XLSX), never by the
//! file name — and checks every row; the first problem is returned with its row.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the format: [`Spreadsheet`], [`Row`], [`Soort`], [`Format`], [`SpreadsheetError`], the limits |
//! | `csv.rs` | bytes to text (the encoding), the separator, text to records (RFC 4180) |
//! | `xlsx.rs` | the zip container checked first, then the sheet read cell by cell with calamine |
//! | `rows.rs` | the header, the columns, and the checks on every row |
//!
//! ## The columns
//! The first row that is not empty names the columns, in any order; a name is matched without
//! regard to case, spaces, `-`, `_` and `.` (`E-mailadres`, `emailadres` and `E-MAILADRES` are
//! one). Required: `Soort`, `Sleutel`, `Voornaam`, `Achternaam`, `Groep`. Optional:
//! `Tussenvoegsel`, `Jaargroep`, `E-mailadres`, `ECK-iD`, `Rol`. A column named twice, or a
//! named column Leerpoort does not read (a date of birth, an address), is refused: only what
//! sign-in needs is uploaded. A column without a name is passed over.
//!
//! - `Soort`: `leerling` or `leerkracht`.
//! - `Sleutel`: the school's own number for the person, unique per Soort; it is the person's
//!   identity across imports when there is no ECK-iD.
//! - `Voornaam`, `Tussenvoegsel`, `Achternaam`: a Voornaam or an Achternaam is required.
//! - `Groep`: the names of the person's groups, separated by `,`; a leerling needs one. Names
//!   that differ only in case or spacing are the same group.
//! - `Jaargroep` (leerlingen): `1` to `8` (also `groep 3`), or one of EDEXML's other values
//!   (`0`, `S`, `H`, `C`, `11` to `16`, `B`, `D`, `V`, `N`), which give no jaargroep.
//! - `E-mailadres` (leerkrachten), `ECK-iD`: as written; the importer checks them. The same
//!   ECK-iD on two rows is refused.
//! - `Rol` (leerkrachten): codes separated by `,`: `IB`, `RT`, `stagiaire` (or `STA`), and
//!   EDEXML's other role codes (`ICT`, `LRK`, `DIR`, ...); anything else is refused.
//!
//! Values are trimmed and runs of white space become one space. On a leerling's row `Rol` and
//! `E-mailadres` are not read, on a leerkracht's row `Jaargroep`. Rows with no value at all are passed over. A file without a single person is refused:
//! importing it would make everyone leave.
//!
//! ## CSV
//! UTF-8 (with or without a byte order mark), else Windows-1252 (what Excel writes as "CSV"
//! on a Dutch Windows); UTF-16 is refused. The separator is `;` or `,`, whichever the header
//! row has more of. Quoting as RFC 4180: a cell in double quotes may hold the separator, line
//! breaks and doubled quotes; a quote inside a cell that does not start with one is an
//! ordinary character; text after a closing quote, and a quote that is never closed (a
//! truncated file), are refused. A row is a record, so the row numbers are the ones Excel
//! shows for the file.
//!
//! ## XLSX
//! The sheet named `Gebruikers` (any case), else the first sheet. Text and whole numbers are
//! read; a date, a truth value or an error value (`#N/A`) in a cell is refused, with its row.
//!
//! ## Bounds
//! At most [`MAX_BYTES`] (checked first); values in rows 1 to [`MAX_ROWS`] + 1 (the header and
//! [`MAX_ROWS`] people) and columns 1 to [`MAX_COLUMNS`]; a cell at most [`MAX_CELL`]
//! characters. An XLSX file is a zip container, and the parts inside are checked before
//! calamine reads any of them: at most [`MAX_PARTS`] parts, which unpack to at most
//! [`MAX_UNPACKED`] bytes together — counted while unpacking, not taken from the sizes the
//! container claims — so a zip bomb is refused after reading at most that much; only
//! deflate-compressed and stored parts, no encryption. calamine reserves memory for as many
//! shared strings as the workbook declares (`uniqueCount`): a declared count larger than the
//! cells a sheet may have is refused before calamine sees it. The sheet is then read cell by
//! cell (calamine's cell reader, never a whole range, whose size a single far-away cell
//! decides). Control characters in a value are refused. Nothing panics, whatever the input.

mod csv;
mod rows;
mod xlsx;

use std::fmt;

/// The largest file read, CSV or XLSX, in bytes: larger ones are refused before parsing.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The most people (rows under the header).
pub const MAX_ROWS: u32 = 20_000;

/// The most columns read.
pub const MAX_COLUMNS: usize = 64;

/// The longest value in a cell, in characters.
pub const MAX_CELL: usize = 256;

/// The most parts (files) inside an XLSX container.
pub const MAX_PARTS: usize = 1_000;

/// The most bytes the parts of an XLSX container may unpack to, together.
pub const MAX_UNPACKED: u64 = 64 * 1024 * 1024;

/// The sheet read when a workbook has one of this name (else the first).
pub const SHEET: &str = "Gebruikers";

/// The columns, as the template names them and in its order.
pub const COLUMNS: [&str; 10] = [
    "Soort",
    "Sleutel",
    "Voornaam",
    "Tussenvoegsel",
    "Achternaam",
    "Groep",
    "Jaargroep",
    "E-mailadres",
    "ECK-iD",
    "Rol",
];

/// How the file was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma- or semicolon-separated text.
    Csv,
    /// An Excel workbook (Office Open XML).
    Xlsx,
}

impl Format {
    /// `csv` or `xlsx`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// The format of `bytes`, by their content: a zip container (`PK\x03\x04`) is XLSX,
    /// anything else is read as CSV.
    pub fn of(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Soort {
    /// A pupil (`leerling`).
    Leerling,
    /// A teacher or other staff (`leerkracht`).
    Leerkracht,
}

impl Soort {
    /// `leerling` or `leerkracht`.
    pub fn as_str(self) -> &'static str {
        match self {
            Soort::Leerling => "leerling",
            Soort::Leerkracht => "leerkracht",
        }
    }
}

/// One person, as a row gives them (values trimmed, white space runs as one space).
#[derive(Clone, PartialEq, Eq)]
pub struct Row {
    /// The row (1-based), as a spreadsheet program numbers it.
    pub line: u32,
    pub soort: Soort,
    /// `Sleutel`: unique among the rows of the same [`Soort`].
    pub sleutel: String,
    /// `Voornaam`; empty when the row gives only an Achternaam.
    pub voornaam: String,
    /// `Tussenvoegsel` (`van`, `de`, `van 't`).
    pub tussenvoegsel: Option<String>,
    /// `Achternaam`; empty when the row gives only a Voornaam.
    pub achternaam: String,
    /// `Groep`: the group names, in the row's order, without repeats (case and spacing
    /// aside); at least one for a leerling.
    pub groepen: Vec<String>,
    /// `Jaargroep` (leerlingen): `1`…`8` or another EDEXML value, in capitals.
    pub jaargroep: Option<String>,
    /// `E-mailadres` (leerkrachten), as written.
    pub emailadres: Option<String>,
    /// `ECK-iD`, as written (not checked against the ECK-iD format: the importer decides);
    /// unique in the file.
    pub eckid: Option<String>,
    /// `Rol` (leerkrachten): EDEXML role codes in capitals (`stagiaire` as `STA`), without
    /// repeats.
    pub rollen: Vec<String>,
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("line", &self.line)
            .field("soort", &self.soort)
            .field("groepen", &self.groepen.len())
            .field("jaargroep", &self.jaargroep)
            .field("rollen", &self.rollen)
            .finish_non_exhaustive()
    }
}

/// A spreadsheet, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spreadsheet {
    pub format: Format,
    /// The people, in the file's order; at least one.
    pub rows: Vec<Row>,
}

/// Why a file is refused: the first problem found, with its row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}: {message}")]
pub struct SpreadsheetError {
    /// The 1-based row the problem is on; a refusal of the whole file is on row 1.
    pub line: u32,
    /// What is wrong, in English; it never holds a value from a cell other than a column name.
    pub message: String,
}

impl SpreadsheetError {
    /// A problem on row `line`.
    pub fn new(line: u32, message: impl Into<String>) -> Self {
        SpreadsheetError {
            line,
            message: message.into(),
        }
    }
}

/// Read and check a spreadsheet, CSV or XLSX (told by its content): the people, or the first
/// problem with its row. See the module documentation for the columns, the rules and the
/// limits.
pub fn parse(bytes: &[u8]) -> Result<Spreadsheet, SpreadsheetError> {
    if bytes.len() > MAX_BYTES {
        return Err(SpreadsheetError::new(
            1,
            format!(
                "the file is {} bytes, more than the {MAX_BYTES} bytes accepted",
                bytes.len()
            ),
        ));
    }
    let format = Format::of(bytes);
    let mut rows = rows::Builder::default();
    match format {
        Format::Csv => csv::read(bytes, &mut rows)?,
        Format::Xlsx => xlsx::read(bytes, &mut rows)?,
    }
    Ok(Spreadsheet {
        format,
        rows: rows.finish()?,
    })
}

/// The template: the header row as CSV, UTF-8 with a byte order mark and `;` between the
/// columns, so that Excel opens it as it is.
pub fn template_csv() -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    out.extend_from_slice(COLUMNS.join(";").as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

/// The name of spreadsheet column `index` (0-based): `A`, ..., `Z`, `AA`, ...
pub fn column_letters(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}
