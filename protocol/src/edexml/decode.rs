//! From bytes to text: the size limit, the byte order mark, the encoding the XML declaration
//! names (UTF-8; ISO-8859-1 and Windows-1252 decoded as Windows-1252), characters XML does not
//! allow, line numbers, and the small text helpers the other parts share.

use std::borrow::Cow;

use super::model::EdexmlError;
use super::MAX_BYTES;

/// How the bytes are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// UTF-8 (also for a declared `US-ASCII`, a subset).
    Utf8,
    /// Windows-1252, also for a declared `ISO-8859-1` / `Latin-1` (as browsers do: files
    /// labelled ISO-8859-1 are Windows-1252 in practice, and both agree on every printable
    /// character ISO-8859-1 has).
    Windows1252,
}

impl Encoding {
    /// The encoding an `encoding="…"` label names, if it is one that is read.
    pub(super) fn from_label(label: &str) -> Option<Encoding> {
        match label.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" | "us-ascii" | "ascii" => Some(Encoding::Utf8),
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1"
            | "windows-1252" | "cp1252" | "x-cp1252" => Some(Encoding::Windows1252),
            _ => None,
        }
    }
}

/// The characters of Windows-1252's bytes 0x80 to 0x9F (`None`: not a character).
const CP1252_HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

/// The file as text, and the encoding it was read in: refused when larger than
/// [`MAX_BYTES`], in UTF-16/32, in an encoding not read, not valid in its encoding, or holding
/// a character XML 1.0 does not allow.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Encoding), EdexmlError> {
    if bytes.len() > MAX_BYTES {
        return Err(EdexmlError::new(
            1,
            format!(
                "the file is {} bytes, more than the {MAX_BYTES} bytes accepted",
                bytes.len()
            ),
        ));
    }
    if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(EdexmlError::new(
            1,
            "the file is UTF-16 (or UTF-32) encoded: only UTF-8, ISO-8859-1 and Windows-1252 are read",
        ));
    }
    let (bom, body) = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let encoding = match declared_label(body) {
        None => Encoding::Utf8,
        Some(label) => match Encoding::from_label(&label) {
            Some(e) => e,
            None => {
                return Err(EdexmlError::new(
                    1,
                    format!(
                        "unsupported encoding {label:?} in the XML declaration: only UTF-8, ISO-8859-1 and Windows-1252 are read"
                    ),
                ))
            }
        },
    };
    if bom && encoding != Encoding::Utf8 {
        return Err(EdexmlError::new(
            1,
            "the file starts with a UTF-8 byte order mark but its XML declaration names another encoding",
        ));
    }
    let text = match encoding {
        Encoding::Utf8 => match std::str::from_utf8(body) {
            Ok(s) => Cow::Borrowed(s),
            Err(e) => {
                let at = e.valid_up_to();
                return Err(EdexmlError::new(
                    line_at(body, at),
                    format!(
                        "invalid UTF-8 at byte {} (the file must be UTF-8, or declare ISO-8859-1 or Windows-1252 in its XML declaration)",
                        at + usize::from(bom) * 3
                    ),
                ));
            }
        },
        Encoding::Windows1252 => Cow::Owned(decode_cp1252(body)?),
    };
    check_chars(&text)?;
    Ok((text, encoding))
}

/// The `encoding` pseudo-attribute of the XML declaration at the start of `body`, if there is
/// one that can be read (the XML reader checks the declaration itself afterwards).
fn declared_label(body: &[u8]) -> Option<String> {
    let rest = body.strip_prefix(b"<?xml")?;
    let end = rest.windows(2).take(512).position(|w| w == b"?>")?;
    let decl = rest.get(..end)?;
    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let mut it = decl.get(at + 8..)?.iter().copied().peekable();
    while it.peek().is_some_and(|b| b.is_ascii_whitespace()) {
        it.next();
    }
    if it.next()? != b'=' {
        return None;
    }
    while it.peek().is_some_and(|b| b.is_ascii_whitespace()) {
        it.next();
    }
    let quote = it.next()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let label: Vec<u8> = it.take_while(|&b| b != quote).collect();
    Some(String::from_utf8_lossy(&label).into_owned())
}

/// Windows-1252 to UTF-8; the five bytes it leaves undefined are refused.
fn decode_cp1252(body: &[u8]) -> Result<String, EdexmlError> {
    let mut out = String::with_capacity(body.len() + body.len() / 8);
    for (i, &b) in body.iter().enumerate() {
        let c = if (0x80..0xA0).contains(&b) {
            match CP1252_HIGH.get(usize::from(b - 0x80)).copied().flatten() {
                Some(c) => c,
                None => {
                    return Err(EdexmlError::new(
                        line_at(body, i),
                        format!("byte 0x{b:02X} is not a character in Windows-1252 / ISO-8859-1"),
                    ))
                }
            }
        } else {
            char::from(b)
        };
        out.push(c);
    }
    Ok(out)
}

/// `s` for a message: at most 60 characters.
pub(crate) fn short(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(60) {
        None => Cow::Borrowed(s),
        Some((i, _)) => Cow::Owned(format!("{}…", s.get(..i).unwrap_or_default())),
    }
}

/// XML whitespace only.
pub(crate) fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// `s` without leading and trailing XML whitespace.
pub(crate) fn xml_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// Whether XML 1.0 allows `c` in a document.
pub(crate) fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Refuse characters XML 1.0 does not allow (control characters, U+FFFE, U+FFFF).
fn check_chars(text: &str) -> Result<(), EdexmlError> {
    match text.char_indices().find(|&(_, c)| !xml_char(c)) {
        None => Ok(()),
        Some((i, c)) => Err(EdexmlError::new(
            line_at(text.as_bytes(), i),
            format!(
                "character U+{:04X} is not allowed in an XML document",
                u32::from(c)
            ),
        )),
    }
}

/// The line (1-based) byte `pos` of `bytes` is on. A line ends at `\n`, at `\r\n` and at a
/// `\r` alone, as XML counts them.
pub(super) fn line_at(bytes: &[u8], pos: usize) -> u32 {
    let mut lines = Lines::new(bytes);
    lines.at(pos)
}

/// Line numbers for increasing positions in one pass.
#[derive(Debug)]
pub(crate) struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u32,
}

impl<'a> Lines<'a> {
    /// At the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Lines {
            bytes,
            pos: 0,
            line: 1,
        }
    }

    /// The line byte `pos` is on. Cheap when the positions asked for increase; a position
    /// before the last one asked for is counted from the start.
    pub(crate) fn at(&mut self, pos: usize) -> u32 {
        let pos = pos.min(self.bytes.len());
        if pos < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        let chunk = self.bytes.get(self.pos..pos).unwrap_or_default();
        let mut breaks = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            let ends_line = b == b'\n'
                || (b == b'\r' && self.bytes.get(self.pos + i + 1).copied() != Some(b'\n'));
            if ends_line {
                breaks = breaks.saturating_add(1);
            }
        }
        self.line = self.line.saturating_add(breaks);
        self.pos = pos;
        self.line
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_as_xml_counts_them() {
        let s = b"a\nb\r\nc\rd\n";
        assert_eq!(line_at(s, 0), 1);
        assert_eq!(line_at(s, 2), 2);
        assert_eq!(line_at(s, 5), 3);
        assert_eq!(line_at(s, 7), 4);
        assert_eq!(line_at(s, 100), 5);
        let mut l = Lines::new(s);
        assert_eq!(l.at(5), 3);
        assert_eq!(l.at(2), 2);
        assert_eq!(l.at(7), 4);
    }

    #[test]
    fn encodings() {
        let latin = b"<?xml version='1.0' encoding='ISO-8859-1'?>\n<a>Isma\xEBl \x80</a>";
        let (text, enc) = decode(latin).unwrap();
        assert_eq!(enc, Encoding::Windows1252);
        assert!(text.contains("Ismaël €"));
        assert!(decode(b"<?xml version='1.0' encoding='windows-1252'?><a>\x81</a>").is_err());
        assert!(decode(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>").is_err());
        assert!(decode(b"<?xml version=\"1.0\" encoding=\"EBCDIC\"?><a/>").is_err());
        assert!(decode(b"\xFF\xFE<\0a\0/\0>\0").is_err());
        assert!(decode(b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"latin1\"?><a/>").is_err());
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").unwrap().0, "<a/>");
        let err = decode(b"<a>\n\n\xC3</a>").unwrap_err();
        assert_eq!(err.line, 3);
        let err = decode(b"<a>\n\x01</a>").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(
            declared_label(b"<?xml version='1.0' encoding = \"utf-8\" ?>"),
            Some("utf-8".into())
        );
    }
}
