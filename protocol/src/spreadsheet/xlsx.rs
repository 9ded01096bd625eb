//! XLSX: the zip container is checked first (its parts, unpacked and counted, and the shared
//! strings' declared count), then calamine reads the sheet cell by cell.

use std::io::{Cursor, Read};

use calamine::{DataRef, Reader, Xlsx, XlsxError};
use zip::result::ZipError;
use zip::ZipArchive;

use super::rows::{too_many_rows, Builder};
use super::{
    column_letters, SpreadsheetError, MAX_CELL, MAX_COLUMNS, MAX_PARTS, MAX_ROWS, MAX_UNPACKED,
    SHEET,
};

/// The most shared strings a workbook may declare: one per cell that is read.
const MAX_SHARED_STRINGS: u64 = (MAX_ROWS as u64 + 1) * MAX_COLUMNS as u64;

/// How much of the shared strings part is searched for its `<sst>` start tag.
const SST_PREFIX: u64 = 64 * 1024;

fn refused(message: impl Into<String>) -> SpreadsheetError {
    SpreadsheetError::new(1, message)
}

/// Read `bytes` as an XLSX workbook into `rows`: the sheet named [`SHEET`], else the first.
pub(super) fn read(bytes: &[u8], rows: &mut Builder) -> Result<(), SpreadsheetError> {
    check_container(bytes)?;
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| refused(workbook_error(&e)))?;
    let names = book.sheet_names();
    let sheet = names
        .iter()
        .find(|n| n.trim().eq_ignore_ascii_case(SHEET))
        .or(names.first())
        .cloned()
        .ok_or_else(|| refused("the workbook has no sheet"))?;
    let mut cells = book
        .worksheet_cells_reader(&sheet)
        .map_err(|e| refused(workbook_error(&e)))?;
    let mut current: Option<u32> = None;
    let mut record: Vec<String> = Vec::new();
    loop {
        let last = current.map_or(1, |r| r.saturating_add(1));
        let Some(cell) = cells
            .next_cell()
            .map_err(|e| SpreadsheetError::new(last, workbook_error(&e)))?
        else {
            break;
        };
        let (r, c) = cell.get_position();
        let line = r.saturating_add(1);
        if current != Some(r) {
            if let Some(prev) = current {
                if r < prev {
                    return Err(SpreadsheetError::new(
                        line,
                        "the sheet's rows are out of order",
                    ));
                }
                rows.record(prev.saturating_add(1), &record)?;
                record.clear();
            }
            current = Some(r);
        }
        let value = cell.get_value();
        if matches!(value, DataRef::Empty) {
            continue;
        }
        let c = usize::try_from(c).unwrap_or(usize::MAX);
        if c >= MAX_COLUMNS {
            return Err(SpreadsheetError::new(
                line,
                format!(
                    "a value in column {}: at most {MAX_COLUMNS} columns are read",
                    column_letters(c.min(1 << 20))
                ),
            ));
        }
        if line > MAX_ROWS.saturating_add(1) {
            return Err(too_many_rows(line));
        }
        let text = text_of(value).map_err(|m| SpreadsheetError::new(line, m))?;
        if record.len() <= c {
            record.resize(c + 1, String::new());
        }
        if let Some(slot) = record.get_mut(c) {
            *slot = text;
        }
    }
    if let Some(prev) = current {
        rows.record(prev.saturating_add(1), &record)?;
    }
    Ok(())
}

/// A cell's value as text: text as it is, numbers as written (`1234`, not `1234.0`).
fn text_of(value: &DataRef<'_>) -> Result<String, String> {
    let long = || format!("a cell is longer than {MAX_CELL} characters");
    let text = |s: &str| {
        if s.len() > MAX_CELL && s.chars().count() > MAX_CELL {
            Err(long())
        } else {
            Ok(s.to_string())
        }
    };
    match value {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => text(s),
        DataRef::SharedString(s) => text(s),
        DataRef::Int(n) => Ok(n.to_string()),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(format!("{f:.0}")),
        DataRef::Float(f) => text(&f.to_string()),
        DataRef::Empty => Ok(String::new()),
        DataRef::Bool(_) => {
            Err("a cell holds a truth value (TRUE or FALSE) where text is expected".into())
        }
        DataRef::DateTime(_) => Err(
            "a cell holds a date or a time where text is expected: format the cell as text".into(),
        ),
        DataRef::Error(_) => {
            Err("a cell holds an error value (such as #N/A) instead of text".into())
        }
    }
}

/// Why calamine could not read the workbook, without anything from a cell.
fn workbook_error(e: &XlsxError) -> String {
    let why = match e {
        XlsxError::Password => "it is protected with a password",
        XlsxError::Zip(_) | XlsxError::Io(_) => "its zip container is damaged or cut short",
        XlsxError::Xml(_)
        | XlsxError::XmlAttr(_)
        | XlsxError::XmlEof(_)
        | XlsxError::Encoding(_) => "its XML is damaged or cut short",
        XlsxError::NotAWorksheet(_) => "its sheet is not a worksheet (a chart?)",
        XlsxError::WorksheetNotFound(_) | XlsxError::FileNotFound(_) => {
            "a part it names is missing"
        }
        _ => "it is not a workbook Leerpoort can read",
    };
    format!("the Excel file cannot be read: {why}")
}

/// The zip container, before calamine reads anything: at most [`MAX_PARTS`] parts that unpack
/// to at most [`MAX_UNPACKED`] bytes together (counted while unpacking), and a shared strings
/// part that declares at most [`MAX_SHARED_STRINGS`] strings.
fn check_container(bytes: &[u8]) -> Result<(), SpreadsheetError> {
    let broken =
        || refused("the Excel file cannot be read: its zip container is damaged or cut short");
    let damaged = |e: ZipError| match e {
        ZipError::UnsupportedArchive(_) => refused(
            "the Excel file cannot be read: it uses encryption or a compression other than deflate",
        ),
        _ => broken(),
    };
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    if zip.len() > MAX_PARTS {
        return Err(refused(format!(
            "the Excel file holds more than {MAX_PARTS} parts"
        )));
    }
    let too_large = || {
        refused(format!(
            "the Excel file unpacks to more than {} MB: it is refused as a possible zip bomb",
            MAX_UNPACKED / (1024 * 1024)
        ))
    };
    let mut left = MAX_UNPACKED;
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).map_err(damaged)?;
        let shared = part
            .name()
            .map_err(damaged)?
            .to_ascii_lowercase()
            .ends_with("sharedstrings.xml");
        let mut limited = (&mut part).take(left.saturating_add(1));
        let mut unpacked = 0u64;
        if shared {
            let mut head = Vec::new();
            (&mut limited)
                .take(SST_PREFIX)
                .read_to_end(&mut head)
                .map_err(|_| broken())?;
            check_shared_strings(&head)?;
            unpacked = u64::try_from(head.len()).unwrap_or(u64::MAX);
        }
        unpacked = unpacked.saturating_add(
            std::io::copy(&mut limited, &mut std::io::sink()).map_err(|_| broken())?,
        );
        if unpacked > left {
            return Err(too_large());
        }
        left -= unpacked;
    }
    Ok(())
}

/// The start of the shared strings part: its `<sst>` tag declares at most
/// [`MAX_SHARED_STRINGS`] strings (calamine reserves room for as many as it declares).
fn check_shared_strings(head: &[u8]) -> Result<(), SpreadsheetError> {
    let unreadable = || refused("the Excel file cannot be read: its shared strings are damaged");
    let mut reader = quick_xml::Reader::from_reader(head);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = reader.read_event_into(&mut buf).map_err(|_| unreadable())?;
        let tag = match event {
            quick_xml::events::Event::Start(t) | quick_xml::events::Event::Empty(t) => t,
            quick_xml::events::Event::Eof => return Err(unreadable()),
            _ => continue,
        };
        if tag.local_name().as_ref() != b"sst" {
            return Err(unreadable());
        }
        for attr in tag.attributes().with_checks(false) {
            let attr = attr.map_err(|_| unreadable())?;
            let name = attr.key.local_name();
            if !name.as_ref().eq_ignore_ascii_case(b"uniqueCount") {
                continue;
            }
            let value = attr.value.as_ref().trim_ascii();
            let digits = value.strip_prefix(b"+").unwrap_or(value);
            let significant = digits
                .iter()
                .position(|&b| b != b'0')
                .map_or(&[][..], |i| digits.get(i..).unwrap_or_default());
            let count = (!digits.is_empty()
                && digits.iter().all(u8::is_ascii_digit)
                && significant.len() <= 12)
                .then(|| {
                    std::str::from_utf8(significant)
                        .ok()
                        .and_then(|d| d.parse::<u64>().ok())
                        .unwrap_or(0)
                });
            match count {
                Some(n) if n <= MAX_SHARED_STRINGS => {}
                _ => {
                    return Err(refused(format!(
                        "the Excel file declares more shared strings than a sheet of {MAX_ROWS} rows can hold"
                    )))
                }
            }
        }
        return Ok(());
    }
}
