//! The one pass over the text with quick-xml's reader: what XML may hold here (no DTD, no
//! processing instruction, only the predefined entities, bounded nesting and text), the line
//! of every event, and the validator fed element by element.

use quick_xml::events::{BytesDecl, BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::decode::{is_blank, short, xml_char, Encoding, Lines};
use super::model::{Edexml, EdexmlError};
use super::validate::Validator;
use super::{MAX_DEPTH, MAX_TEXT};

fn err(line: u32, message: impl Into<String>) -> EdexmlError {
    EdexmlError::new(line, message)
}

/// A reader position as an index into the text.
pub(crate) fn index(pos: u64) -> usize {
    usize::try_from(pos).unwrap_or(usize::MAX)
}

/// The reader settings of every pass under these rules: text as it is, end names checked,
/// comments checked, no dangling `&`, no unmatched end tag.
pub(crate) fn configure(config: &mut quick_xml::reader::Config) {
    config.trim_text(false);
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;
    config.allow_dangling_amp = false;
    config.allow_unmatched_ends = false;
}

/// The character data an event carries: text or CDATA (bounded, with XML's line ends), or
/// one character of a reference.
pub(crate) enum Chars<'a> {
    Text(std::borrow::Cow<'a, str>),
    Reference(char),
}

/// What an event other than a start tag, an end tag or the end of the text holds: its
/// character data, or nothing (a comment, the checked XML declaration at `pos`). A DOCTYPE
/// and a processing instruction are refused.
pub(crate) fn other<'a>(
    event: &'a Event<'_>,
    pos: usize,
    encoding: Encoding,
    line: u32,
) -> Result<Option<Chars<'a>>, EdexmlError> {
    Ok(match event {
        Event::Decl(decl) => {
            declaration(decl, pos, encoding, line)?;
            None
        }
        Event::DocType(_) => {
            return Err(err(
                line,
                "a DOCTYPE is not allowed: DTDs and entity declarations are refused",
            ))
        }
        Event::PI(_) => {
            return Err(err(
                line,
                "processing instructions are not allowed (only the XML declaration)",
            ))
        }
        Event::Text(t) => {
            too_long(t.len(), line)?;
            let s = t
                .xml10_content()
                .map_err(|e| err(line, format!("malformed text: {e}")))?;
            Some(Chars::Text(s))
        }
        Event::CData(t) => {
            too_long(t.len(), line)?;
            let s = t
                .xml10_content()
                .map_err(|e| err(line, format!("malformed CDATA section: {e}")))?;
            Some(Chars::Text(s))
        }
        Event::GeneralRef(r) => Some(Chars::Reference(reference(r).map_err(|m| err(line, m))?)),
        Event::Comment(_) | Event::Start(_) | Event::Empty(_) | Event::End(_) | Event::Eof => None,
    })
}

/// Read and validate `text`, decoded from `encoding`.
pub(super) fn read(text: &str, encoding: Encoding) -> Result<Edexml, EdexmlError> {
    let mut reader = Reader::from_str(text);
    configure(reader.config_mut());
    let mut lines = Lines::new(text.as_bytes());
    let mut v = Validator::new();
    let mut root_done = false;
    loop {
        let pos = index(reader.buffer_position());
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let line = lines.at(index(reader.error_position()));
                return Err(err(
                    line,
                    format!("malformed XML: {}", short(&e.to_string())),
                ));
            }
        };
        let line = lines.at(pos);
        match &event {
            Event::Start(e) => start(&mut v, e, line, root_done)?,
            Event::Empty(e) => {
                start(&mut v, e, line, root_done)?;
                v.end(line)?;
                root_done |= v.depth() == 0;
            }
            Event::End(_) => {
                v.end(line)?;
                root_done |= v.depth() == 0;
            }
            Event::Eof => break,
            other_event => match other(other_event, pos, encoding, line)? {
                Some(Chars::Text(s)) => text_at(&mut v, &s, line, root_done)?,
                Some(Chars::Reference(c)) => {
                    text_at(&mut v, c.encode_utf8(&mut [0; 4]), line, root_done)?
                }
                None => {}
            },
        }
    }
    let last = lines.at(text.len());
    if let Some((name, opened)) = v.innermost() {
        return Err(err(
            last,
            format!(
                "the file ends before <{name}> (opened on line {opened}) is closed: it is truncated or not well-formed"
            ),
        ));
    }
    if !root_done {
        return Err(err(last, "the file holds no <EDEX> element"));
    }
    v.finish(last)
}

/// Refuse a text node longer than [`MAX_TEXT`] bytes.
pub(crate) fn too_long(len: usize, line: u32) -> Result<(), EdexmlError> {
    if len > MAX_TEXT {
        return Err(err(
            line,
            format!("a text node is longer than {MAX_TEXT} bytes"),
        ));
    }
    Ok(())
}

/// One attribute of `<shown>`, read and checked: a name in UTF-8, a value of at most
/// [`MAX_TEXT`] bytes, normalised, with only the references [`reference`] takes and only
/// characters XML allows. Namespace declarations and prefixed names are returned too: the
/// caller decides about them.
pub(crate) fn attribute(
    attr: Result<
        quick_xml::events::attributes::Attribute<'_>,
        quick_xml::events::attributes::AttrError,
    >,
    shown: &str,
    line: u32,
) -> Result<(String, String), EdexmlError> {
    let attr = attr.map_err(|e| {
        let e = e.to_string();
        err(
            line,
            format!("malformed attribute in <{shown}>: {}", short(&e)),
        )
    })?;
    let key = std::str::from_utf8(attr.key.as_ref()).map_err(|_| {
        err(
            line,
            format!("an attribute name in <{shown}> is not valid UTF-8"),
        )
    })?;
    let what = format!("attribute {} of <{shown}>", short(key));
    if attr.value.len() > MAX_TEXT {
        return Err(err(line, format!("{what} is longer than {MAX_TEXT} bytes")));
    }
    let value = attr
        .normalized_value(XmlVersion::Implicit1_0)
        .map_err(|e| {
            let e = e.to_string();
            err(
                line,
                format!(
                    "{what}: an unknown entity or a malformed reference ({})",
                    short(&e)
                ),
            )
        })?;
    if let Some(c) = value.chars().find(|&c| !xml_char(c)) {
        return Err(err(
            line,
            format!(
                "{what} holds U+{:04X}, which XML does not allow",
                u32::from(c)
            ),
        ));
    }
    Ok((key.to_owned(), value.into_owned()))
}

/// Text, outside the root (only whitespace) or in it.
fn text_at(v: &mut Validator, s: &str, line: u32, root_done: bool) -> Result<(), EdexmlError> {
    if root_done && !is_blank(s) {
        return Err(err(line, "text after the end of <EDEX>"));
    }
    v.text(s, line)
}

/// The XML declaration: at the very start, version 1.0, and the encoding the text was decoded
/// from.
pub(crate) fn declaration(
    decl: &BytesDecl<'_>,
    pos: usize,
    encoding: Encoding,
    line: u32,
) -> Result<(), EdexmlError> {
    if pos != 0 {
        return Err(err(
            line,
            "the XML declaration must be at the very start of the file",
        ));
    }
    let version = decl
        .version()
        .map_err(|e| err(line, format!("malformed XML declaration: {e}")))?;
    if version.as_ref() != b"1.0" {
        return Err(err(
            line,
            format!(
                "XML version {:?} is not supported (only 1.0)",
                String::from_utf8_lossy(&version)
            ),
        ));
    }
    let declared = match decl.encoding() {
        None => Some(Encoding::Utf8),
        Some(Ok(label)) => Encoding::from_label(&String::from_utf8_lossy(&label)),
        Some(Err(e)) => return Err(err(line, format!("malformed XML declaration: {e}"))),
    };
    if declared != Some(encoding) {
        return Err(err(
            line,
            "the encoding in the XML declaration cannot be read",
        ));
    }
    Ok(())
}

/// An entity or character reference in text: the five predefined entities and character
/// references to characters XML allows. Anything else is refused, never expanded.
pub(crate) fn reference(r: &BytesRef<'_>) -> Result<char, String> {
    let name = String::from_utf8_lossy(r);
    match r.resolve_char_ref() {
        Ok(Some(c)) if xml_char(c) => Ok(c),
        Ok(Some(c)) => Err(format!(
            "character reference &{name}; is U+{:04X}, which XML does not allow",
            u32::from(c)
        )),
        Ok(None) => match name.as_ref() {
            "lt" => Ok('<'),
            "gt" => Ok('>'),
            "amp" => Ok('&'),
            "apos" => Ok('\''),
            "quot" => Ok('"'),
            _ => Err(format!(
                "unknown entity reference &{name}; (entities are refused: only &lt; &gt; &amp; &apos; &quot; and character references)"
            )),
        },
        Err(e) => Err(format!("malformed character reference &{name};: {e}")),
    }
}

/// A start tag: nesting depth, name, attributes (namespace declarations and prefixed
/// attributes such as `xsi:type` are set aside; a default namespace is refused, EDEXML has
/// none), then the validator.
fn start(
    v: &mut Validator,
    e: &BytesStart<'_>,
    line: u32,
    root_done: bool,
) -> Result<(), EdexmlError> {
    if root_done {
        return Err(err(line, "an element after the end of <EDEX>"));
    }
    if v.depth() >= MAX_DEPTH {
        return Err(err(
            line,
            format!("elements are nested more than {MAX_DEPTH} deep"),
        ));
    }
    let qname = e.name();
    let name = std::str::from_utf8(qname.as_ref())
        .map_err(|_| err(line, "an element name is not valid UTF-8"))?;
    let shown = short(name);
    let mut attrs = Vec::new();
    for attr in e.attributes() {
        let (key, value) = attribute(attr, &shown, line)?;
        if key == "xmlns" {
            if !value.is_empty() {
                return Err(err(
                    line,
                    format!(
                        "EDEXML has no namespace: xmlns=\"{}\" on <{shown}> is not allowed",
                        short(&value)
                    ),
                ));
            }
            continue;
        }
        if key.contains(':') {
            continue;
        }
        attrs.push((key, value));
    }
    v.start(name, &attrs, line)
}
