//! CSV: bytes to text (UTF-8 with or without a byte order mark, else Windows-1252), the
//! separator (`;` or `,`, from the header row), and text to records as RFC 4180 quotes them.

use std::borrow::Cow;

use super::rows::Builder;
use super::{SpreadsheetError, MAX_CELL, MAX_COLUMNS};

/// Read `bytes` as CSV into `rows`, record by record.
pub(super) fn read(bytes: &[u8], rows: &mut Builder) -> Result<(), SpreadsheetError> {
    let text = decode(bytes)?;
    let mut records = Records {
        text: &text,
        pos: 0,
        row: 0,
        separator: separator(&text),
    };
    while let Some((line, cells)) = records.next_record()? {
        rows.record(line, &cells)?;
    }
    Ok(())
}

/// The text of the file: UTF-8 after a byte order mark (which must then be valid), UTF-8 when
/// it is valid UTF-8, else Windows-1252. UTF-16 is refused.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, SpreadsheetError> {
    if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(SpreadsheetError::new(
            1,
            "the file is UTF-16 (Excel's \"Unicode text\"): save it as \"CSV UTF-8\" or as an Excel workbook (.xlsx)",
        ));
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(SpreadsheetError::new(
            1,
            "the file is an old Excel workbook (.xls): save it as .xlsx or as \"CSV UTF-8\"",
        ));
    }
    if let Some(body) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return match std::str::from_utf8(body) {
            Ok(s) => Ok(Cow::Borrowed(s)),
            Err(e) => Err(SpreadsheetError::new(
                line_of(body, e.valid_up_to()),
                "invalid UTF-8 in a file that starts with a UTF-8 byte order mark",
            )),
        };
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok(text)
        }
    }
}

/// The line (1-based) byte `pos` of `bytes` is on, counting `\n` (for a refusal before the
/// records are read).
fn line_of(bytes: &[u8], pos: usize) -> u32 {
    let before = bytes.get(..pos).unwrap_or(bytes);
    let breaks = before.iter().filter(|&&b| b == b'\n').count();
    u32::try_from(breaks).unwrap_or(u32::MAX).saturating_add(1)
}

/// `;` or `,`: whichever the first line that is not blank has more of, outside quotes (`;`
/// when it has neither, or as many of each).
fn separator(text: &str) -> u8 {
    let first = text
        .split(['\n', '\r'])
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let (mut semicolons, mut commas, mut quoted) = (0usize, 0usize, false);
    for b in first.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b';' if !quoted => semicolons += 1,
            b',' if !quoted => commas += 1,
            _ => {}
        }
    }
    if commas > semicolons {
        b','
    } else {
        b';'
    }
}

/// How a cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Separator,
    Line,
    File,
}

/// The records of the text, one at a time, with their row numbers (a record is a row, also
/// when a quoted cell holds line breaks; a blank line is an empty row).
struct Records<'a> {
    text: &'a str,
    pos: usize,
    row: u32,
    separator: u8,
}

impl Records<'_> {
    fn next_record(&mut self) -> Result<Option<(u32, Vec<String>)>, SpreadsheetError> {
        if self.pos >= self.text.len() {
            return Ok(None);
        }
        self.row = self.row.saturating_add(1);
        let mut cells = Vec::new();
        loop {
            let (cell, end) = self.cell()?;
            cells.push(cell);
            if cells.len() > MAX_COLUMNS {
                return Err(SpreadsheetError::new(
                    self.row,
                    format!("more than {MAX_COLUMNS} columns"),
                ));
            }
            if end != End::Separator {
                return Ok(Some((self.row, cells)));
            }
        }
    }

    /// The next cell and how it ended.
    fn cell(&mut self) -> Result<(String, End), SpreadsheetError> {
        let bytes = self.text.as_bytes();
        if bytes.get(self.pos) == Some(&b'"') {
            return self.quoted();
        }
        let start = self.pos;
        let stop = bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .position(|&b| b == self.separator || b == b'\n' || b == b'\r')
            .map_or(bytes.len(), |i| start + i);
        let cell = self.text.get(start..stop).unwrap_or_default();
        self.check_length(cell)?;
        self.pos = stop;
        Ok((cell.to_string(), self.end()))
    }

    /// A cell in double quotes: `""` is a quote; the closing quote must end the cell.
    fn quoted(&mut self) -> Result<(String, End), SpreadsheetError> {
        let bytes = self.text.as_bytes();
        let mut out = String::new();
        self.pos += 1;
        loop {
            let rest = bytes.get(self.pos..).unwrap_or_default();
            let Some(q) = rest.iter().position(|&b| b == b'"') else {
                return Err(SpreadsheetError::new(
                    self.row,
                    "a cell's opening quote is never closed (is the file cut short?)",
                ));
            };
            out.push_str(self.text.get(self.pos..self.pos + q).unwrap_or_default());
            self.pos += q + 1;
            if bytes.get(self.pos) == Some(&b'"') {
                out.push('"');
                self.pos += 1;
            } else {
                break;
            }
            self.check_length(&out)?;
        }
        self.check_length(&out)?;
        match bytes.get(self.pos) {
            None | Some(b'\n' | b'\r') => {}
            Some(&b) if b == self.separator => {}
            Some(_) => {
                return Err(SpreadsheetError::new(
                    self.row,
                    "text after a cell's closing quote (a quote inside a quoted cell is written twice: \"\")",
                ))
            }
        }
        Ok((out, self.end()))
    }

    /// Past the separator or the line break at the position, and which it was.
    fn end(&mut self) -> End {
        let bytes = self.text.as_bytes();
        match bytes.get(self.pos) {
            None => End::File,
            Some(b'\r') => {
                self.pos += 1;
                if bytes.get(self.pos) == Some(&b'\n') {
                    self.pos += 1;
                }
                End::Line
            }
            Some(b'\n') => {
                self.pos += 1;
                End::Line
            }
            Some(_) => {
                self.pos += 1;
                End::Separator
            }
        }
    }

    fn check_length(&self, cell: &str) -> Result<(), SpreadsheetError> {
        // Bytes first: a cell cannot hold more characters than bytes.
        if cell.len() > MAX_CELL && cell.chars().count() > MAX_CELL {
            return Err(SpreadsheetError::new(
                self.row,
                format!("a cell is longer than {MAX_CELL} characters"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn records(text: &str) -> Result<Vec<(u32, Vec<String>)>, SpreadsheetError> {
        let mut r = Records {
            text,
            pos: 0,
            row: 0,
            separator: separator(text),
        };
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push(rec);
        }
        Ok(out)
    }

    #[test]
    fn rfc_4180_quoting_and_rows() {
        let got = records("a;\"b;\"\"c\"\"\";d\r\n\n\"x\ny\";O\"Brien\rlast").unwrap();
        assert_eq!(
            got,
            vec![
                (1, vec!["a".into(), "b;\"c\"".into(), "d".into()]),
                (2, vec![String::new()]),
                (3, vec!["x\ny".into(), "O\"Brien".into()]),
                (4, vec!["last".into()]),
            ]
        );
        assert_eq!(records("a,b;c,d\n").unwrap()[0].1.len(), 3, "commas win");
        assert_eq!(records("").unwrap(), vec![]);
        assert_eq!(records("a;\"b\n\nc").unwrap_err().line, 1);
        assert_eq!(records("a\n\"b\"c").unwrap_err().line, 2);
        assert_eq!(records(&"x".repeat(MAX_CELL + 1)).unwrap_err().line, 1);
        assert!(records(&";".repeat(MAX_COLUMNS)).is_err());
        assert!(records(&";".repeat(MAX_COLUMNS - 1)).is_ok());
    }

    #[test]
    fn encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBFa\xC3\xABb").unwrap(), "aëb");
        assert_eq!(decode(b"Isma\xEBl \x80").unwrap(), "Ismaël €");
        assert!(decode(b"\xFF\xFEa\0").is_err());
        assert_eq!(decode(b"\xEF\xBB\xBFa\n\xEB").unwrap_err().line, 2);
    }
}
