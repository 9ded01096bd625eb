//! DUO's registry of school locations: the file "alle vestigingen basisonderwijs" that DUO
//! (Dienst Uitvoering Onderwijs) publishes as open data, one row per school location
//! (vestiging) with its official name and address. [`parse`] reads it whole or refuses it
//! with the first problem and its line.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the columns, the rows and their checks; [`DuoFile`], [`Vestiging`], [`DuoError`] |
//! | `csv.rs` | bytes to text (the encoding) and text to records (RFC 4180 with `;`) |
//!
//! ## The file
//! - **Encoding:** a UTF-8 byte order mark, or text that is valid UTF-8, is read as UTF-8;
//!   anything else as Windows-1252 (what DUO's downloads are in). UTF-16 and UTF-32 are
//!   refused.
//! - **Records:** separated by `;`, one per line (`\r\n`, `\n` or `\r`); a field in double
//!   quotes may hold `;`, line breaks and doubled quotes (`""`). A quote inside a field that
//!   does not start with one is an ordinary character. Blank lines are passed over. Every row
//!   has as many fields as the header.
//! - **Columns** are found by their name in the header (the first line), whatever their order,
//!   case and spacing; others (DUO's file has some thirty: `GEMEENTENUMMER`, `DENOMINATIE`,
//!   the correspondence address, the regions, ...) are read past. Required: `BRIN NUMMER`,
//!   `VESTIGINGSNUMMER` and `VESTIGINGSNAAM`. Read when present: `PROVINCIE`,
//!   `BEVOEGD GEZAG NUMMER`, `STRAATNAAM`, `HUISNUMMER-TOEVOEGING`, `POSTCODE`, `PLAATSNAAM`,
//!   `GEMEENTENAAM`. The newer names `INSTELLINGSCODE` and `VESTIGINGSCODE` are read as
//!   `BRIN NUMMER` and `VESTIGINGSNUMMER`. A column named twice is refused.
//! - **Values** are trimmed, and runs of white space (line breaks in quoted fields too) become
//!   one space. `BRIN NUMMER` is two digits and two capital letters; `VESTIGINGSNUMMER` is
//!   either the two-digit location number or the six-character code, which must begin with the
//!   row's BRIN. A location appears once; a name is required. Control characters are refused
//!   (also the five bytes Windows-1252 leaves undefined).
//!
//! ## Bounds
//! At most [`MAX_BYTES`] (checked first), [`MAX_ROWS`] rows, [`MAX_COLUMNS`] fields in a row
//! and [`MAX_FIELD`] bytes in a field. A file with no location is refused (loading it would
//! take every location out of the registry). Nothing panics, whatever the input.

mod csv;

use std::collections::HashMap;

/// The largest file read, in bytes (DUO's file is about 2 MB).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// The most rows read (DUO's file has about 6,500).
pub const MAX_ROWS: usize = 50_000;

/// The most fields in one row (DUO's file has about 30).
pub const MAX_COLUMNS: usize = 256;

/// The longest field, in bytes.
pub const MAX_FIELD: usize = 1024;

/// How the file was decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1252,
}

impl Encoding {
    /// `UTF-8` or `Windows-1252`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// One school location as DUO registers it. Absent columns are empty texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vestiging {
    /// The line the row starts on.
    pub line: u32,
    /// `BRIN NUMMER`, e.g. `12AB`.
    pub brin: String,
    /// The two-digit location number, e.g. `00` (from `VESTIGINGSNUMMER` in either form).
    pub vestigingsnummer: String,
    /// `VESTIGINGSNAAM`: the school's official name.
    pub naam: String,
    pub provincie: String,
    pub bevoegd_gezag_nummer: String,
    pub straatnaam: String,
    /// `HUISNUMMER-TOEVOEGING`: the house number with its addition, e.g. `12 a`.
    pub huisnummer: String,
    pub postcode: String,
    pub plaatsnaam: String,
    pub gemeentenaam: String,
}

impl Vestiging {
    /// The six-character code, e.g. `12AB00`.
    pub fn brin6(&self) -> String {
        format!("{}{}", self.brin, self.vestigingsnummer)
    }
}

/// A read file: every location, in the file's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuoFile {
    pub encoding: Encoding,
    pub vestigingen: Vec<Vestiging>,
}

/// Why a file is refused: the first problem and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}: {message}")]
pub struct DuoError {
    pub line: u32,
    pub message: String,
}

impl DuoError {
    fn new(line: u32, message: impl Into<String>) -> Self {
        DuoError {
            line,
            message: message.into(),
        }
    }
}

/// The columns read, by what they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Brin,
    Vestigingsnummer,
    Naam,
    Provincie,
    BevoegdGezag,
    Straatnaam,
    Huisnummer,
    Postcode,
    Plaatsnaam,
    Gemeentenaam,
}

impl Column {
    /// The column a (normalised) header names, if it is one that is read.
    fn named(header: &str) -> Option<Column> {
        Some(match header {
            "BRIN NUMMER" | "BRINNUMMER" | "INSTELLINGSCODE" => Column::Brin,
            "VESTIGINGSNUMMER" | "VESTIGINGSCODE" => Column::Vestigingsnummer,
            "VESTIGINGSNAAM" => Column::Naam,
            "PROVINCIE" => Column::Provincie,
            "BEVOEGD GEZAG NUMMER" | "BEVOEGDGEZAGNUMMER" => Column::BevoegdGezag,
            "STRAATNAAM" => Column::Straatnaam,
            "HUISNUMMER-TOEVOEGING" | "HUISNUMMER" => Column::Huisnummer,
            "POSTCODE" => Column::Postcode,
            "PLAATSNAAM" => Column::Plaatsnaam,
            "GEMEENTENAAM" => Column::Gemeentenaam,
            _ => return None,
        })
    }

    /// The column's name in DUO's file, for messages.
    fn name(self) -> &'static str {
        match self {
            Column::Brin => "BRIN NUMMER",
            Column::Vestigingsnummer => "VESTIGINGSNUMMER",
            Column::Naam => "VESTIGINGSNAAM",
            Column::Provincie => "PROVINCIE",
            Column::BevoegdGezag => "BEVOEGD GEZAG NUMMER",
            Column::Straatnaam => "STRAATNAAM",
            Column::Huisnummer => "HUISNUMMER-TOEVOEGING",
            Column::Postcode => "POSTCODE",
            Column::Plaatsnaam => "PLAATSNAAM",
            Column::Gemeentenaam => "GEMEENTENAAM",
        }
    }
}

const REQUIRED: [Column; 3] = [Column::Brin, Column::Vestigingsnummer, Column::Naam];

/// Where each read column is in a row.
#[derive(Debug)]
struct Header {
    width: usize,
    at: HashMap<Column, usize>,
}

impl Header {
    fn read(line: u32, fields: &[String]) -> Result<Header, DuoError> {
        let mut at = HashMap::new();
        for (i, f) in fields.iter().enumerate() {
            let normal = clean(f).to_ascii_uppercase().replace('_', " ");
            if let Some(c) = Column::named(&normal) {
                if at.insert(c, i).is_some() {
                    return Err(DuoError::new(
                        line,
                        format!("the column {} appears twice in the header", c.name()),
                    ));
                }
            }
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .filter(|c| !at.contains_key(c))
            .map(|c| c.name())
            .collect();
        if !missing.is_empty() {
            return Err(DuoError::new(
                line,
                format!(
                    "the header has no column {} (is this DUO's file of school locations, separated by ';'?)",
                    missing.join(", ")
                ),
            ));
        }
        Ok(Header {
            width: fields.len(),
            at,
        })
    }

    /// The value of `c` in `fields`, cleaned; empty when the file has no such column.
    fn get(&self, fields: &[String], c: Column) -> String {
        self.at
            .get(&c)
            .and_then(|&i| fields.get(i))
            .map(|f| clean(f))
            .unwrap_or_default()
    }
}

/// `s` trimmed, with every run of white space one space.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether `s` is two ASCII digits and two ASCII capitals (DUO's BRIN).
fn is_brin(s: &str) -> bool {
    matches!(s.as_bytes(), [a, b, c, d] if a.is_ascii_digit() && b.is_ascii_digit()
        && c.is_ascii_uppercase() && d.is_ascii_uppercase())
}

/// Whether `s` is two ASCII digits.
fn is_number(s: &str) -> bool {
    matches!(s.as_bytes(), [a, b] if a.is_ascii_digit() && b.is_ascii_digit())
}

/// `s` for a message: at most 12 characters (codes, never names).
fn shown(s: &str) -> String {
    match s.char_indices().nth(12) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
    }
}

/// One row as a location, or why it is not one.
fn row(header: &Header, line: u32, fields: &[String]) -> Result<Vestiging, DuoError> {
    if fields.len() != header.width {
        return Err(DuoError::new(
            line,
            format!(
                "{} fields, but the header has {} (a ';' inside a value must be in double quotes)",
                fields.len(),
                header.width
            ),
        ));
    }
    if let Some(c) = fields
        .iter()
        .flat_map(|f| f.chars())
        .find(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
    {
        return Err(DuoError::new(
            line,
            format!(
                "control character U+{:04X} in the row (the file is not text in UTF-8 or Windows-1252)",
                u32::from(c)
            ),
        ));
    }
    let brin = header.get(fields, Column::Brin);
    if !is_brin(&brin) {
        return Err(DuoError::new(
            line,
            format!(
                "BRIN NUMMER '{}' is not a BRIN (two digits and two capital letters, e.g. 12AB)",
                shown(&brin)
            ),
        ));
    }
    let raw = header.get(fields, Column::Vestigingsnummer);
    let vestigingsnummer = match raw.len() {
        2 if is_number(&raw) => raw,
        6 if raw.get(..4) == Some(brin.as_str()) && raw.get(4..).is_some_and(is_number) => {
            raw.get(4..).unwrap_or_default().to_string()
        }
        6 if raw.get(4..).is_some_and(is_number) && raw.get(..4).is_some_and(is_brin) => {
            return Err(DuoError::new(
                line,
                format!(
                    "VESTIGINGSNUMMER {} does not belong to BRIN NUMMER {brin}",
                    shown(&raw)
                ),
            ))
        }
        _ => {
            return Err(DuoError::new(
                line,
                format!(
                    "VESTIGINGSNUMMER '{}' is neither a location number (two digits, e.g. 00) nor a code such as {brin}00",
                    shown(&raw)
                ),
            ))
        }
    };
    let naam = header.get(fields, Column::Naam);
    if naam.is_empty() {
        return Err(DuoError::new(line, "VESTIGINGSNAAM is empty"));
    }
    Ok(Vestiging {
        line,
        brin,
        vestigingsnummer,
        naam,
        provincie: header.get(fields, Column::Provincie),
        bevoegd_gezag_nummer: header.get(fields, Column::BevoegdGezag),
        straatnaam: header.get(fields, Column::Straatnaam),
        huisnummer: header.get(fields, Column::Huisnummer),
        postcode: header.get(fields, Column::Postcode),
        plaatsnaam: header.get(fields, Column::Plaatsnaam),
        gemeentenaam: header.get(fields, Column::Gemeentenaam),
    })
}

/// Read DUO's file of school locations: every location, or the first problem with its line.
/// See the module documentation for the encoding, the columns, the checks and the bounds.
pub fn parse(bytes: &[u8]) -> Result<DuoFile, DuoError> {
    if bytes.len() > MAX_BYTES {
        return Err(DuoError::new(
            1,
            format!(
                "the file is {} bytes, more than the {MAX_BYTES} bytes accepted",
                bytes.len()
            ),
        ));
    }
    let (text, encoding) = csv::decode(bytes)?;
    let mut records = csv::Records::new(&text);
    let header = match records.next_record() {
        None => return Err(DuoError::new(1, "the file is empty")),
        Some(first) => {
            let first = first?;
            Header::read(first.line, &first.fields)?
        }
    };
    let mut vestigingen: Vec<Vestiging> = Vec::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    while let Some(record) = records.next_record() {
        let record = record?;
        if vestigingen.len() == MAX_ROWS {
            return Err(DuoError::new(
                record.line,
                format!("more than {MAX_ROWS} rows"),
            ));
        }
        let v = row(&header, record.line, &record.fields)?;
        if let Some(first) = seen.insert(v.brin6(), v.line) {
            return Err(DuoError::new(
                v.line,
                format!(
                    "location {} appears twice (also on line {first})",
                    v.brin6()
                ),
            ));
        }
        vestigingen.push(v);
    }
    if vestigingen.is_empty() {
        return Err(DuoError::new(1, "the file has a header but no locations"));
    }
    Ok(DuoFile {
        encoding,
        vestigingen,
    })
}
