//! From bytes to records: the encoding (UTF-8, with or without a byte order mark, else
//! Windows-1252), and RFC 4180 records separated by `;` — fields in double quotes may hold `;`,
//! line breaks and doubled quotes (`""`). Every record carries the line it starts on.

use std::borrow::Cow;

use super::{DuoError, Encoding, MAX_COLUMNS, MAX_FIELD};

/// The file as text, and the encoding it was read in. UTF-16 and UTF-32 are refused; a UTF-8
/// byte order mark means UTF-8 (and the rest must be valid UTF-8); without one, text that is
/// valid UTF-8 is UTF-8 and anything else is Windows-1252 (DUO's own downloads are in it).
pub(super) fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Encoding), DuoError> {
    if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(DuoError::new(
            1,
            "the file is UTF-16 (or UTF-32) encoded: only UTF-8 and Windows-1252 are read",
        ));
    }
    if let Some(body) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return match std::str::from_utf8(body) {
            Ok(s) => Ok((Cow::Borrowed(s), Encoding::Utf8)),
            Err(e) => Err(DuoError::new(
                line_of(body, e.valid_up_to()),
                "invalid UTF-8 in a file that starts with a UTF-8 byte order mark",
            )),
        };
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((Cow::Borrowed(s), Encoding::Utf8)),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok((text, Encoding::Windows1252))
        }
    }
}

/// The line (1-based) byte `pos` of `bytes` is on; a line ends at `\n`, `\r\n` or a lone `\r`.
fn line_of(bytes: &[u8], pos: usize) -> u32 {
    line_breaks(bytes.get(..pos).unwrap_or(bytes)).saturating_add(1)
}

/// How many line breaks `bytes` holds (`\r\n` is one).
fn line_breaks(bytes: &[u8]) -> u32 {
    let mut n = 0u32;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1).copied() != Some(b'\n')) {
            n = n.saturating_add(1);
        }
    }
    n
}

/// One record: its fields, as written (quotes removed), and the line it starts on.
#[derive(Debug)]
pub(super) struct Record {
    pub(super) line: u32,
    pub(super) fields: Vec<String>,
}

/// The records of a text, one at a time. Blank lines are passed over.
#[derive(Debug)]
pub(super) struct Records<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
}

impl<'a> Records<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Records {
            text,
            pos: 0,
            line: 1,
        }
    }

    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The next record, `None` at the end, or the first error.
    pub(super) fn next_record(&mut self) -> Option<Result<Record, DuoError>> {
        loop {
            self.byte()?;
            let line = self.line;
            let mut fields = Vec::new();
            let mut quoted_any = false;
            loop {
                let (field, quoted) = match self.field() {
                    Ok(f) => f,
                    Err(e) => return Some(Err(e)),
                };
                quoted_any |= quoted;
                fields.push(field);
                if fields.len() > MAX_COLUMNS {
                    return Some(Err(DuoError::new(
                        line,
                        format!("more than {MAX_COLUMNS} fields in one row"),
                    )));
                }
                match self.byte() {
                    Some(b';') => self.pos += 1,
                    Some(b'\r') => {
                        self.pos += 1;
                        if self.byte() == Some(b'\n') {
                            self.pos += 1;
                        }
                        self.line = self.line.saturating_add(1);
                        break;
                    }
                    Some(b'\n') => {
                        self.pos += 1;
                        self.line = self.line.saturating_add(1);
                        break;
                    }
                    _ => break,
                }
            }
            let blank = !quoted_any && fields.len() == 1 && fields.iter().all(|f| f.is_empty());
            if !blank {
                return Some(Ok(Record { line, fields }));
            }
        }
    }

    /// One field and whether it was quoted; the position is left on what ends it (`;`, a line
    /// break, or the end).
    fn field(&mut self) -> Result<(String, bool), DuoError> {
        let bytes = self.text.as_bytes();
        if self.byte() != Some(b'"') {
            let start = self.pos;
            let len = bytes
                .get(start..)
                .unwrap_or_default()
                .iter()
                .position(|&b| matches!(b, b';' | b'\r' | b'\n'))
                .unwrap_or(bytes.len() - start);
            self.pos = start + len;
            let field = self.text.get(start..self.pos).unwrap_or_default();
            self.check_length(field.len())?;
            return Ok((field.to_string(), false));
        }
        let opened = self.line;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = bytes.get(self.pos..).unwrap_or_default();
            let Some(q) = rest.iter().position(|&b| b == b'"') else {
                return Err(DuoError::new(
                    opened,
                    "a quoted field that starts on this line is never closed",
                ));
            };
            let chunk = self.text.get(self.pos..self.pos + q).unwrap_or_default();
            self.line = self.line.saturating_add(line_breaks(chunk.as_bytes()));
            out.push_str(chunk);
            self.pos += q + 1;
            self.check_length(out.len())?;
            if self.byte() == Some(b'"') {
                out.push('"');
                self.pos += 1;
                continue;
            }
            break;
        }
        match self.byte() {
            None | Some(b';' | b'\r' | b'\n') => Ok((out, true)),
            Some(_) => Err(DuoError::new(
                self.line,
                "text after the closing quote of a quoted field (a quote inside a quoted field is written twice: \"\")",
            )),
        }
    }

    fn check_length(&self, len: usize) -> Result<(), DuoError> {
        if len > MAX_FIELD {
            return Err(DuoError::new(
                self.line,
                format!("a field longer than {MAX_FIELD} bytes"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(u32, Vec<String>)> {
        let mut r = Records::new(text);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record() {
            let rec = rec.unwrap();
            out.push((rec.line, rec.fields));
        }
        out
    }

    #[test]
    fn records_and_their_lines() {
        let got = all("a;b\r\n\r\n\"x;\"\"y\"\"\r\nz\";c\n\"\";\nlast");
        assert_eq!(
            got,
            vec![
                (1, vec!["a".into(), "b".into()]),
                (3, vec!["x;\"y\"\r\nz".into(), "c".into()]),
                (5, vec![String::new(), String::new()]),
                (6, vec!["last".into()]),
            ]
        );
        let mut r = Records::new("a\r\"b\"c");
        assert!(r.next_record().unwrap().is_ok());
        assert_eq!(r.next_record().unwrap().unwrap_err().line, 2);
        let mut r = Records::new("a\n\"open;\nmore");
        assert!(r.next_record().unwrap().is_ok());
        assert_eq!(r.next_record().unwrap().unwrap_err().line, 2);
    }

    #[test]
    fn encodings() {
        let (t, e) = decode(b"caf\xE9").unwrap();
        assert_eq!((t.as_ref(), e), ("café", Encoding::Windows1252));
        let (t, e) = decode("café".as_bytes()).unwrap();
        assert_eq!((t.as_ref(), e), ("café", Encoding::Utf8));
        let (t, e) = decode(b"\xEF\xBB\xBFcaf\xC3\xA9").unwrap();
        assert_eq!((t.as_ref(), e), ("café", Encoding::Utf8));
        assert_eq!(decode(b"\xEF\xBB\xBFa\nb\xE9").unwrap_err().line, 2);
        assert!(decode(b"\xFF\xFEa\0").is_err());
        assert_eq!(line_of(b"a\r\nb\rc\nd", 7), 4);
    }
}
