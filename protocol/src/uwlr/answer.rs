//! Reading the answer: one pass over the SOAP envelope with quick-xml's namespace-aware
//! reader, under EDEXML's hostile-input rules; a SOAP fault becomes [`UwlrError::Fault`], and
//! the `<leerlinggegevens>` subtree is written out as an EDEXML document (on the same lines)
//! for [`edexml::parse`] to validate.

use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::{UwlrError, LEERLINGGEGEVENS_NS, SOAP_ENVELOPE_NS, UWLR_VERSIONS};
use crate::edexml::decode::{self, is_blank, short, xml_trim, Lines};
use crate::edexml::reader::{attribute, configure, index, other, Chars};
use crate::edexml::{self, Edexml, EdexmlError, Version, MAX_BYTES, MAX_DEPTH, MAX_TEXT};

/// The longest faultstring kept, in characters (a longer one is cut, with `…`).
const MAX_FAULT: usize = 300;

/// The longest faultcode kept, in characters.
const MAX_FAULT_CODE: usize = 100;

fn invalid(line: u32, message: impl Into<String>) -> UwlrError {
    UwlrError::Invalid(EdexmlError::new(line, message))
}

fn not_soap(line: u32, message: impl Into<String>) -> UwlrError {
    UwlrError::NotSoap {
        line,
        message: message.into(),
    }
}

/// Read the answer to [`super::haal_leerlinggegevens`], the Leerlinggegevensantwoordbericht:
/// the school's leerlinggegevens as an [`Edexml`] (version 2.1), validated by every EDEXML
/// rule. A SOAP fault is [`UwlrError::Fault`]; an envelope of another shape is
/// [`UwlrError::NotSoap`]; XML that is refused, and leerlinggegevens that are not valid EDEXML
/// 2.1, are [`UwlrError::Invalid`] with the answer's line. See the module documentation.
pub fn leerlinggegevens_antwoord(bytes: &[u8]) -> Result<Edexml, UwlrError> {
    if bytes.len() > MAX_BYTES {
        return Err(invalid(
            1,
            format!(
                "the answer is {} bytes, more than the {MAX_BYTES} bytes accepted",
                bytes.len()
            ),
        ));
    }
    let (text, encoding) = decode::decode(bytes).map_err(UwlrError::Invalid)?;
    let edex = read(&text, encoding)?;
    let mut file = edexml::parse(edex.as_bytes()).map_err(UwlrError::Invalid)?;
    // UWLR 2.2 and 2.3 carry EDEXML 2.1; without an `<xsdversie>` the validator names the
    // lowest version that accepts the content, which 2.1 accepts as well.
    file.version = Version::V2_1;
    Ok(file)
}

/// The namespace of an element, as far as the answer's shape is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ns {
    /// SOAP 1.1's envelope namespace.
    Soap,
    /// UWLR's leerlinggegevens namespace.
    Leerlinggegevens,
    /// No namespace.
    None,
    /// Another namespace.
    Other(String),
}

impl Ns {
    /// The namespace a name resolved to; `Err` with the prefix when it is not declared.
    fn of(r: &ResolveResult<'_>) -> Result<Ns, String> {
        match r {
            ResolveResult::Unbound => Ok(Ns::None),
            ResolveResult::Bound(ns) if ns.0 == SOAP_ENVELOPE_NS.as_bytes() => Ok(Ns::Soap),
            ResolveResult::Bound(ns) if ns.0 == LEERLINGGEGEVENS_NS.as_bytes() => {
                Ok(Ns::Leerlinggegevens)
            }
            ResolveResult::Bound(ns) if ns.0.is_empty() => Ok(Ns::None),
            ResolveResult::Bound(ns) => Ok(Ns::Other(String::from_utf8_lossy(ns.0).into_owned())),
            ResolveResult::Unknown(prefix) => Err(String::from_utf8_lossy(prefix).into_owned()),
        }
    }

    /// For a message: ` (namespace "…")`, or ` (no namespace)`.
    fn describe(&self) -> String {
        match self {
            Ns::Soap => format!(" (namespace {SOAP_ENVELOPE_NS:?})"),
            Ns::Leerlinggegevens => format!(" (namespace {LEERLINGGEGEVENS_NS:?})"),
            Ns::None => " (no namespace)".into(),
            Ns::Other(ns) => format!(" (namespace {:?})", short(ns)),
        }
    }
}

/// What an open element is in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Envelope,
    Header,
    Body,
    Fault,
    FaultCode,
    FaultString,
    Antwoord,
    /// `<leerlinggegevens>`, written as `<EDEX>`.
    Gegevens,
    /// `<school>` in `<leerlinggegevens>`, written out.
    School,
    /// `<school><xsdversie>`: its text is held back and written as `2.1`.
    Xsdversie,
    /// Another element in `<leerlinggegevens>`, written out; `free` in `<toevoegingen>`,
    /// where the vendor's elements may be in any namespace.
    Data {
        free: bool,
    },
    /// Set aside: the SOAP header's content, a fault's `detail` and `faultactor`.
    Skip,
}

impl Role {
    /// Whether the element is written to the EDEXML document.
    fn written(self) -> bool {
        matches!(
            self,
            Role::Gegevens | Role::School | Role::Xsdversie | Role::Data { .. }
        )
    }
}

/// An open element.
#[derive(Debug)]
struct Frame {
    /// Its name as written (for messages).
    qname: String,
    /// Its local name (written to the EDEXML document).
    local: String,
    line: u32,
    role: Role,
}

/// The EDEXML document written from `<leerlinggegevens>`, each tag on the answer's line.
#[derive(Debug)]
struct Edex {
    out: String,
    /// The line the end of `out` is on (its line breaks are `\n` only).
    line: u32,
    /// The text of `<school><xsdversie>`, held back.
    xsdversie: String,
}

impl Default for Edex {
    fn default() -> Self {
        Edex {
            out: String::new(),
            line: 1,
            xsdversie: String::new(),
        }
    }
}

impl Edex {
    /// Newlines up to `line`. The output is never ahead of the answer: each of its line
    /// breaks is one of the answer's.
    fn pad(&mut self, line: u32) {
        while self.line < line {
            self.out.push('\n');
            self.line = self.line.saturating_add(1);
        }
    }

    fn start(&mut self, name: &str, attrs: &[(String, String)], line: u32) {
        self.pad(line);
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            self.out
                .push_str(&quick_xml::escape::escape(value.as_str()));
            self.out.push('"');
        }
        self.out.push('>');
    }

    fn end(&mut self, name: &str, line: u32) {
        self.pad(line);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Text of the answer, its line breaks (normalized to `\n`) kept as they are.
    fn text(&mut self, s: &str) {
        let breaks = s.bytes().filter(|&b| b == b'\n').count();
        self.line = self
            .line
            .saturating_add(u32::try_from(breaks).unwrap_or(u32::MAX));
        self.out.push_str(&partial_escape(s));
    }

    /// A character from a reference: a line break stays a reference, so that the lines of
    /// the output stay those of the answer.
    fn reference(&mut self, c: char) {
        match c {
            '\n' => self.out.push_str("&#10;"),
            '\r' => self.out.push_str("&#13;"),
            '<' => self.out.push_str("&lt;"),
            '>' => self.out.push_str("&gt;"),
            '&' => self.out.push_str("&amp;"),
            c => self.out.push(c),
        }
    }
}

/// The pass over the answer.
#[derive(Debug, Default)]
struct Answer {
    frames: Vec<Frame>,
    /// The line of the `<Envelope>` start tag, once read.
    envelope: Option<u32>,
    root_done: bool,
    header: bool,
    /// The line of the `<Body>` start tag, once read.
    body: Option<u32>,
    /// The body's element (`Fault` or `Antwoord`) and its line.
    content: Option<(Role, u32)>,
    gegevens: bool,
    fault_code: String,
    fault_string: String,
    edex: Edex,
}

/// Read the envelope in `text`, decoded from `encoding`: the EDEXML document written from its
/// `<leerlinggegevens>`, or why there is none.
fn read(text: &str, encoding: decode::Encoding) -> Result<String, UwlrError> {
    let mut reader = NsReader::from_str(text);
    configure(reader.config_mut());
    let mut lines = Lines::new(text.as_bytes());
    let mut a = Answer::default();
    loop {
        let pos = index(reader.buffer_position());
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ns, event)) => (Ns::of(&ns), event),
            Err(e) => {
                let line = lines.at(index(reader.error_position()));
                let e = e.to_string();
                return Err(invalid(line, format!("malformed XML: {}", short(&e))));
            }
        };
        let line = lines.at(pos);
        match &event {
            Event::Start(e) => a.start(e, ns, line)?,
            Event::Empty(e) => {
                a.start(e, ns, line)?;
                a.end(line)?;
            }
            Event::End(_) => a.end(line)?,
            Event::Eof => break,
            other_event => {
                match other(other_event, pos, encoding, line).map_err(UwlrError::Invalid)? {
                    Some(Chars::Text(s)) => a.text(&s, line, false)?,
                    Some(Chars::Reference(c)) => a.text(c.encode_utf8(&mut [0; 4]), line, true)?,
                    None => {}
                }
            }
        }
    }
    a.finish(lines.at(text.len()))
}

/// Whether `name` can be written out as an element or attribute name as it is: letters,
/// digits, `-`, `_`, `.` (every EDEXML name is; anything else is refused rather than written).
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The attributes of a start tag, checked as EDEXML checks them (bounded, only the
/// predefined entities, characters XML allows): the unprefixed ones other than `xmlns`, with
/// their normalized values. Namespace declarations and prefixed attributes are set aside.
fn attributes(
    e: &BytesStart<'_>,
    shown: &str,
    line: u32,
) -> Result<Vec<(String, String)>, UwlrError> {
    let mut attrs = Vec::new();
    for attr in e.attributes() {
        let (key, value) = attribute(attr, shown, line).map_err(UwlrError::Invalid)?;
        if key == "xmlns" || key.contains(':') {
            continue;
        }
        if !plain_name(&key) {
            let what = format!("attribute {} of <{shown}>", short(&key));
            return Err(invalid(line, format!("{what}: not a name that EDEXML has")));
        }
        attrs.push((key, value));
    }
    Ok(attrs)
}

impl Answer {
    /// A start tag on `line` in namespace `ns`.
    fn start(
        &mut self,
        e: &BytesStart<'_>,
        ns: Result<Ns, String>,
        line: u32,
    ) -> Result<(), UwlrError> {
        if self.root_done {
            return Err(invalid(
                line,
                "an element after the end of the SOAP Envelope",
            ));
        }
        if self.frames.len() >= MAX_DEPTH {
            return Err(invalid(
                line,
                format!("elements are nested more than {MAX_DEPTH} deep"),
            ));
        }
        let qname = std::str::from_utf8(e.name().as_ref())
            .map_err(|_| invalid(line, "an element name is not valid UTF-8"))?
            .to_owned();
        let local = std::str::from_utf8(e.local_name().as_ref())
            .map_err(|_| invalid(line, "an element name is not valid UTF-8"))?
            .to_owned();
        let shown = short(&qname).into_owned();
        let ns = ns.map_err(|prefix| {
            invalid(
                line,
                format!(
                    "the namespace prefix {} of <{shown}> is not declared",
                    short(&prefix)
                ),
            )
        })?;
        let attrs = attributes(e, &shown, line)?;
        let role = self.role(&local, &shown, &ns, line)?;
        if role.written() && !plain_name(&local) {
            return Err(invalid(
                line,
                format!("<{shown}>: not an element name that EDEXML has"),
            ));
        }
        match role {
            Role::Gegevens => self.edex.start("EDEX", &attrs, line),
            Role::School | Role::Xsdversie | Role::Data { .. } => {
                self.edex.start(&local, &attrs, line)
            }
            _ => {}
        }
        if role == Role::Xsdversie {
            self.edex.xsdversie.clear();
        }
        self.frames.push(Frame {
            qname,
            local,
            line,
            role,
        });
        Ok(())
    }

    /// The role of an element named `local` in `ns`, from its parent's; or why it is not
    /// where it may be.
    fn role(&mut self, local: &str, shown: &str, ns: &Ns, line: u32) -> Result<Role, UwlrError> {
        let found = || format!("<{shown}>{}", ns.describe());
        let Some(parent) = self.frames.last() else {
            if local == "Envelope" && *ns == Ns::Soap {
                self.envelope = Some(line);
                return Ok(Role::Envelope);
            }
            let soap12 = local == "Envelope"
                && *ns == Ns::Other("http://www.w3.org/2003/05/soap-envelope".into());
            return Err(not_soap(
                line,
                format!(
                    "the root element is {}, not SOAP 1.1's <Envelope> (namespace {SOAP_ENVELOPE_NS:?}){}",
                    found(),
                    if soap12 { ": this is SOAP 1.2, UWLR is SOAP 1.1" } else { "" }
                ),
            ));
        };
        let role = match parent.role {
            Role::Envelope => match (local, ns) {
                ("Header", Ns::Soap) if !self.header && self.body.is_none() => {
                    self.header = true;
                    Role::Header
                }
                ("Body", Ns::Soap) if self.body.is_none() => {
                    self.body = Some(line);
                    Role::Body
                }
                _ if self.body.is_some() => {
                    return Err(not_soap(line, format!("{} after the SOAP Body", found())))
                }
                _ => {
                    return Err(not_soap(
                        line,
                        format!(
                        "{} in the SOAP Envelope, which holds an optional <Header> and a <Body>",
                        found()
                    ),
                    ))
                }
            },
            Role::Body => {
                if let Some((_, first)) = self.content {
                    return Err(not_soap(
                        line,
                        format!(
                            "the SOAP Body holds {} after its element on line {first}: it holds one element",
                            found()
                        ),
                    ));
                }
                let role = match (local, ns) {
                    ("Fault", Ns::Soap) => Role::Fault,
                    ("leerlinggegevens_antwoord", Ns::Leerlinggegevens) => Role::Antwoord,
                    _ => {
                        return Err(not_soap(
                            line,
                            format!(
                                "the SOAP Body holds {}, not <leerlinggegevens_antwoord> (namespace {LEERLINGGEGEVENS_NS:?}) or a SOAP <Fault>",
                                found()
                            ),
                        ))
                    }
                };
                self.content = Some((role, line));
                role
            }
            Role::Fault => match local {
                "faultcode" => Role::FaultCode,
                "faultstring" => Role::FaultString,
                _ => Role::Skip,
            },
            Role::Antwoord => match (local, ns) {
                ("leerlinggegevens", Ns::Leerlinggegevens | Ns::None) if !self.gegevens => {
                    self.gegevens = true;
                    Role::Gegevens
                }
                _ => {
                    return Err(not_soap(
                        line,
                        format!(
                            "{} in <leerlinggegevens_antwoord>, which holds one <leerlinggegevens>",
                            found()
                        ),
                    ))
                }
            },
            Role::Gegevens | Role::School | Role::Xsdversie | Role::Data { free: false } => {
                if !matches!(ns, Ns::Leerlinggegevens | Ns::None) {
                    return Err(invalid(
                        line,
                        format!(
                            "element {} is not in UWLR's leerlinggegevens namespace {LEERLINGGEGEVENS_NS:?}",
                            found()
                        ),
                    ));
                }
                match (parent.role, local) {
                    (Role::Gegevens, "school") => Role::School,
                    (Role::School, "xsdversie") => Role::Xsdversie,
                    (_, "toevoegingen") => Role::Data { free: true },
                    _ => Role::Data { free: false },
                }
            }
            Role::Data { free: true } => Role::Data { free: true },
            Role::Header | Role::FaultCode | Role::FaultString | Role::Skip => Role::Skip,
        };
        Ok(role)
    }

    /// An end tag (or the end of an empty element) on `line`.
    fn end(&mut self, line: u32) -> Result<(), UwlrError> {
        let Some(frame) = self.frames.pop() else {
            return Err(invalid(line, "an end tag without a start tag"));
        };
        match frame.role {
            Role::Envelope => self.root_done = true,
            Role::Gegevens => self.edex.end("EDEX", line),
            Role::Xsdversie => {
                let value = xml_trim(&self.edex.xsdversie);
                if !UWLR_VERSIONS.contains(&value) {
                    return Err(invalid(
                        frame.line,
                        format!(
                            "<xsdversie> {:?} is not a UWLR version read here ({})",
                            short(value),
                            UWLR_VERSIONS.join(", ")
                        ),
                    ));
                }
                self.edex.out.push_str(Version::V2_1.as_str());
                self.edex.end(&frame.local, line);
            }
            Role::School | Role::Data { .. } => self.edex.end(&frame.local, line),
            _ => {}
        }
        Ok(())
    }

    /// Text (from a text node or a CDATA section, or the character of a reference when
    /// `reference`) on `line`.
    fn text(&mut self, s: &str, line: u32, reference: bool) -> Result<(), UwlrError> {
        let Some(frame) = self.frames.last() else {
            if is_blank(s) {
                return Ok(());
            }
            return Err(invalid(line, "text outside the SOAP Envelope"));
        };
        match frame.role {
            Role::Envelope | Role::Body | Role::Antwoord => {
                if !is_blank(s) {
                    return Err(not_soap(
                        line,
                        format!(
                            "unexpected text {:?} in <{}>, which holds elements only",
                            short(xml_trim(s)),
                            short(&frame.qname)
                        ),
                    ));
                }
            }
            Role::FaultCode => keep(&mut self.fault_code, s),
            Role::FaultString => keep(&mut self.fault_string, s),
            Role::Xsdversie => {
                if self.edex.xsdversie.len() + s.len() > MAX_TEXT {
                    return Err(invalid(
                        frame.line,
                        format!("the text of <xsdversie> is longer than {MAX_TEXT} bytes"),
                    ));
                }
                self.edex.xsdversie.push_str(s);
            }
            Role::Gegevens | Role::School | Role::Data { .. } => {
                let mut chars = s.chars();
                match (reference, chars.next(), chars.next()) {
                    (true, Some(c), None) => self.edex.reference(c),
                    _ => self.edex.text(s),
                }
            }
            Role::Header | Role::Fault | Role::Skip => {}
        }
        Ok(())
    }

    /// At the end of the answer (`last` is its last line): the EDEXML document, the fault, or
    /// what is missing.
    fn finish(self, last: u32) -> Result<String, UwlrError> {
        if let Some(f) = self.frames.last() {
            return Err(invalid(
                last,
                format!(
                    "the answer ends before <{}> (opened on line {}) is closed: it is truncated or not well-formed",
                    short(&f.qname),
                    f.line
                ),
            ));
        }
        let Some(envelope) = self.envelope else {
            return Err(not_soap(last, "the answer holds no SOAP Envelope"));
        };
        let Some(body) = self.body else {
            return Err(not_soap(envelope, "the SOAP Envelope has no Body"));
        };
        match self.content {
            None => Err(not_soap(body, "the SOAP Body is empty")),
            Some((Role::Fault, _)) => Err(UwlrError::Fault {
                code: cut(&self.fault_code, MAX_FAULT_CODE, "(no faultcode)"),
                message: cut(&self.fault_string, MAX_FAULT, "(no faultstring)"),
            }),
            Some((_, line)) if !self.gegevens => Err(not_soap(
                line,
                "<leerlinggegevens_antwoord> holds no <leerlinggegevens>",
            )),
            Some(_) => Ok(self.edex.out),
        }
    }
}

/// Add `s` to a fault's text, up to [`MAX_TEXT`] bytes in all.
fn keep(buf: &mut String, s: &str) {
    if buf.len() + s.len() <= MAX_TEXT {
        buf.push_str(s);
    }
}

/// `s` for the operator: trimmed, each run of whitespace one space, at most `max`
/// characters (then ending in `…`); `none` when it is empty.
fn cut(s: &str, max: usize, none: &str) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    let s = words.join(" ");
    if s.is_empty() {
        return none.to_owned();
    }
    match s.char_indices().nth(max) {
        None => s,
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
    const LLG: &str = "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens";

    fn answer(gegevens: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<s:Envelope xmlns:s=\"{ENV}\">\n<s:Body>\n<leerlinggegevens_antwoord xmlns=\"{LLG}\">\n{gegevens}\n</leerlinggegevens_antwoord>\n</s:Body>\n</s:Envelope>\n"
        )
    }

    #[test]
    fn the_edexml_document_keeps_the_lines() {
        let xml = answer(
            "<leerlinggegevens x:y=\"1\" xmlns:x=\"urn:x\">\n<school\n>\n<xsdversie>\n2.3\n</xsdversie><naam a=\"&quot;&lt;\">A&amp;B&#10;C<![CDATA[<]]></naam></school></leerlinggegevens>",
        );
        let out = read(&xml, decode::Encoding::Utf8).unwrap();
        assert_eq!(
            out,
            "\n\n\n\n<EDEX>\n<school>\n\n<xsdversie>2.1\n\n</xsdversie><naam a=\"&quot;&lt;\">A&amp;B&#10;C&lt;</naam></school></EDEX>"
        );
        let lines_in = |s: &str, needle: &str| s[..s.find(needle).unwrap()].matches('\n').count();
        for tag in ["<school", "</xsdversie>", "<naam", "</school>"] {
            assert_eq!(lines_in(&xml, tag), lines_in(&out, tag), "{tag}");
        }
    }

    #[test]
    fn faults_are_cut() {
        assert_eq!(cut("  a \n\t b  ", 10, "-"), "a b");
        assert_eq!(cut(" \n ", 10, "-"), "-");
        assert_eq!(cut("abcdef", 3, "-"), "abc…");
    }

    #[test]
    fn names() {
        assert!(plain_name("voorletters-1"));
        assert!(plain_name("bsn_ondwnr-4"));
        assert!(!plain_name("a\"b"));
        assert!(!plain_name(""));
    }
}
