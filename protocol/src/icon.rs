//! A title's icon as a publisher sends it (Hosted Lika's `"image/svg+xml,<base64>"` or
//! `"image/png,<base64>"`, or a `data:` URL of either), checked and made safe to serve from
//! Leerpoort's own origin.
//!
//! - PNG: the signature and the `IHDR` chunk are checked (at most [`MAX_SIDE`] pixels a side);
//!   the bytes are served as they are, as `image/png` with `nosniff`.
//! - SVG: re-written element by element from an allow-list of drawing elements and
//!   attributes. Scripts, event handlers, `foreignObject`, external references (any `href`
//!   but a fragment, any `url(…)` but a fragment), styles that could fetch, DTDs and entities
//!   are dropped or refused; what remains can draw and nothing else.

use base64::Engine as _;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};

/// The largest icon, decoded.
pub const MAX_BYTES: usize = 100 * 1024;

/// The largest width or height of a PNG icon, in pixels.
pub const MAX_SIDE: u32 = 1024;

/// How deep an SVG may nest.
const MAX_DEPTH: usize = 32;

/// A checked icon, ready to store and serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icon {
    /// `image/svg+xml` or `image/png`.
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Icon {
    /// The SHA-256 of the bytes, hex: the icon's name in URLs (so they can be cached for ever).
    pub fn hash(&self) -> String {
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &self.bytes))
    }
}

/// Why an icon is refused, in words for the publisher's integration engineer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IconError {
    #[error("an icon is \"image/svg+xml,<base64>\" or \"image/png,<base64>\" (or a data: URL of either)")]
    Format,
    #[error("the icon is not valid base64")]
    Base64,
    #[error("an icon is at most {} kB", MAX_BYTES / 1024)]
    TooLarge,
    #[error("the PNG is not valid: {0}")]
    Png(&'static str),
    #[error("the SVG is not valid: {0}")]
    Svg(String),
}

/// Check `given` (as the API received it) and return the icon to store.
pub fn sanitise(given: &str) -> Result<Icon, IconError> {
    let (content_type, data) = split(given.trim()).ok_or(IconError::Format)?;
    if data.len() > MAX_BYTES * 4 / 3 + 8 {
        return Err(IconError::TooLarge);
    }
    let cleaned: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|_| IconError::Base64)?;
    if bytes.len() > MAX_BYTES {
        return Err(IconError::TooLarge);
    }
    match content_type {
        "image/png" => {
            check_png(&bytes)?;
            Ok(Icon {
                content_type: "image/png",
                bytes,
            })
        }
        _ => Ok(Icon {
            content_type: "image/svg+xml",
            bytes: clean_svg(&bytes)?,
        }),
    }
}

/// The content type and the base64 part.
fn split(given: &str) -> Option<(&'static str, &str)> {
    let rest = given.strip_prefix("data:").unwrap_or(given);
    let (head, data) = rest.split_once(',')?;
    let head = head.strip_suffix(";base64").unwrap_or(head);
    match head.to_ascii_lowercase().as_str() {
        "image/svg+xml" => Some(("image/svg+xml", data)),
        "image/png" => Some(("image/png", data)),
        _ => None,
    }
}

fn check_png(b: &[u8]) -> Result<(), IconError> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !b.starts_with(SIGNATURE) {
        return Err(IconError::Png("no PNG signature"));
    }
    // The first chunk is IHDR: length 13, then width and height (big-endian).
    let ihdr = b.get(8..8 + 8 + 13).ok_or(IconError::Png("too short"))?;
    if &ihdr[4..8] != b"IHDR" || ihdr[0..4] != [0, 0, 0, 13] {
        return Err(IconError::Png("the first chunk is not IHDR"));
    }
    let side = |i: usize| u32::from_be_bytes([ihdr[i], ihdr[i + 1], ihdr[i + 2], ihdr[i + 3]]);
    let (w, h) = (side(8), side(12));
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(IconError::Png("at most 1024 pixels a side"));
    }
    if !b.windows(4).any(|w| w == b"IEND") {
        return Err(IconError::Png("no IEND chunk"));
    }
    Ok(())
}

/// Drawing elements an icon may use.
const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "path",
    "circle",
    "ellipse",
    "rect",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "defs",
    "lineargradient",
    "radialgradient",
    "stop",
    "clippath",
    "mask",
    "symbol",
    "use",
    "title",
    "desc",
];

/// Presentation and geometry attributes an icon may use (compared in lower case).
const ATTRIBUTES: &[&str] = &[
    "id",
    "class",
    "viewbox",
    "width",
    "height",
    "x",
    "y",
    "x1",
    "x2",
    "y1",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "d",
    "points",
    "transform",
    "fill",
    "fill-opacity",
    "fill-rule",
    "clip-rule",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-opacity",
    "opacity",
    "clip-path",
    "mask",
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientunits",
    "gradienttransform",
    "spreadmethod",
    "fx",
    "fy",
    "font-family",
    "font-size",
    "font-weight",
    "text-anchor",
    "dominant-baseline",
    "preserveaspectratio",
    "style",
    "href",
    "xlink:href",
    "xmlns",
    "xmlns:xlink",
    "version",
    "maskunits",
    "clippathunits",
    "visibility",
    "display",
];

/// Is an attribute value safe: no reference outside the document, nothing a style could load.
fn safe_value(name: &str, value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    if name == "href" || name == "xlink:href" {
        return value.starts_with('#');
    }
    if name == "xmlns" {
        return value == "http://www.w3.org/2000/svg";
    }
    if name == "xmlns:xlink" {
        return value == "http://www.w3.org/1999/xlink";
    }
    // `url(` only to a fragment of the icon itself.
    let mut rest = v.as_str();
    while let Some(i) = rest.find("url(") {
        let after = rest[i + 4..].trim_start_matches([' ', '\'', '"']);
        if !after.starts_with('#') {
            return false;
        }
        rest = &rest[i + 4..];
    }
    !(v.contains("javascript:")
        || v.contains("expression(")
        || v.contains("@import")
        || v.contains('\\')
        || v.contains("</"))
}

fn clean_start(e: &BytesStart<'_>) -> Result<Option<BytesStart<'static>>, IconError> {
    let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
    if !ELEMENTS.contains(&name.to_ascii_lowercase().as_str()) {
        return Ok(None);
    }
    let mut out = BytesStart::new(name);
    for a in e.attributes() {
        let a = a.map_err(|e| IconError::Svg(e.to_string()))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).to_string();
        let lower = key.to_ascii_lowercase();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| IconError::Svg(e.to_string()))?
            .to_string();
        if ATTRIBUTES.contains(&lower.as_str()) && safe_value(&lower, &value) {
            out.push_attribute((key.as_str(), value.as_str()));
        }
    }
    Ok(Some(out))
}

/// Re-write an SVG from the allow-lists. Refuses a file that is not one well-formed `<svg>`
/// element, or that has a DTD.
fn clean_svg(bytes: &[u8]) -> Result<Vec<u8>, IconError> {
    let text = std::str::from_utf8(bytes).map_err(|_| IconError::Svg("not UTF-8".into()))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut writer = Writer::new(Vec::new());
    // Depth of the element being skipped (a dropped element drops all it holds).
    let mut skipping: Option<usize> = None;
    let mut depth = 0usize;
    let mut roots = 0usize;
    let write = |w: &mut Writer<Vec<u8>>, e: Event<'_>| {
        w.write_event(e).map_err(|e| IconError::Svg(e.to_string()))
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| IconError::Svg(e.to_string()))?;
        match event {
            Event::DocType(_) => return Err(IconError::Svg("a DOCTYPE is not allowed".into())),
            Event::Start(e) => {
                if depth == 0 {
                    roots += 1;
                    if !e.name().as_ref().eq_ignore_ascii_case(b"svg") || roots > 1 {
                        return Err(IconError::Svg("the root element must be <svg>".into()));
                    }
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(IconError::Svg("nested too deep".into()));
                }
                if skipping.is_none() {
                    match clean_start(&e)? {
                        Some(s) => write(&mut writer, Event::Start(s))?,
                        None => skipping = Some(depth),
                    }
                }
            }
            Event::Empty(e) => {
                if depth == 0 {
                    return Err(IconError::Svg("the root element must be <svg>".into()));
                }
                if skipping.is_none() {
                    if let Some(s) = clean_start(&e)? {
                        write(&mut writer, Event::Empty(s))?;
                    }
                }
            }
            Event::End(e) => {
                if skipping == Some(depth) {
                    skipping = None;
                } else if skipping.is_none() {
                    write(&mut writer, Event::End(e.into_owned()))?;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) if skipping.is_none() && depth > 0 => {
                write(&mut writer, Event::Text(t.into_owned()))?;
            }
            Event::Eof => break,
            // Comments, processing instructions, CDATA (styles and scripts live there) and
            // text outside the root are dropped.
            _ => {}
        }
    }
    if roots != 1 || depth != 0 {
        return Err(IconError::Svg("not one complete <svg> element".into()));
    }
    Ok(writer.into_inner())
}

/// Does `svg` (an icon as [`sanitise`] wrote it) hold only allowed elements and attributes, and
/// no reference outside itself? The fuzz target checks every icon the sanitiser lets through.
pub fn is_safe(svg: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(svg) else {
        return false;
    };
    let mut reader = Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).to_ascii_lowercase();
                if !ELEMENTS.contains(&name.as_str()) {
                    return false;
                }
                for a in e.attributes() {
                    let Ok(a) = a else { return false };
                    let key = String::from_utf8_lossy(a.key.as_ref()).to_ascii_lowercase();
                    let Ok(value) = a.normalized_value(quick_xml::XmlVersion::Implicit1_0) else {
                        return false;
                    };
                    if !ATTRIBUTES.contains(&key.as_str()) || !safe_value(&key, &value) {
                        return false;
                    }
                }
            }
            Ok(Event::DocType(_) | Event::PI(_) | Event::CData(_)) | Err(_) => return false,
            Ok(Event::Eof) => return true,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn svg(s: &str) -> Result<String, IconError> {
        sanitise(&format!("image/svg+xml,{}", b64(s.as_bytes())))
            .map(|i| String::from_utf8(i.bytes).unwrap())
    }

    #[test]
    fn a_plain_drawing_stays() {
        let out = svg(r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="#e33"/></svg>"##).unwrap();
        assert_eq!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="#e33"/></svg>"##
        );
    }

    #[test]
    fn scripts_handlers_and_outside_references_go() {
        let out = svg(r##"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><a href="https://evil.example"><rect width="1" height="1"/></a><image href="https://evil.example/x.png"/><foreignObject><div>x</div></foreignObject><rect width="2" height="2" fill="url(https://evil.example/#x)" style="background:url(javascript:alert(3))"/><use href="#a"/><use href="https://evil.example/s.svg#a"/></svg>"##).unwrap();
        for bad in [
            "onload",
            "script",
            "alert",
            "evil",
            "foreignObject",
            "<a",
            "<image",
            "<div",
        ] {
            assert!(!out.contains(bad), "{bad} left in {out}");
        }
        assert!(out.contains(r##"<use href="#a"/>"##), "{out}");
        assert!(is_safe(out.as_bytes()));
        assert!(!is_safe(br#"<svg><script>alert(1)</script></svg>"#));
        assert!(!is_safe(br#"<svg><a href="https://x.example/"/></svg>"#));
        assert!(out.contains(r#"<rect width="2" height="2"/>"#), "{out}");
    }

    #[test]
    fn entities_and_doctypes_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>"#;
        assert!(matches!(svg(bomb), Err(IconError::Svg(_))));
        assert!(matches!(
            svg("<html><body/></html>"),
            Err(IconError::Svg(_))
        ));
        assert!(matches!(svg("<svg>"), Err(IconError::Svg(_))));
        assert!(matches!(svg("<svg/><svg/>"), Err(IconError::Svg(_))));
        let deep = format!("<svg>{}{}</svg>", "<g>".repeat(40), "</g>".repeat(40));
        assert!(matches!(svg(&deep), Err(IconError::Svg(_))));
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(&[0, 0, 0, 13]);
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(b"IEND");
        b
    }

    #[test]
    fn pngs_are_checked_and_kept() {
        let p = png(64, 64);
        let icon = sanitise(&format!("data:image/png;base64,{}", b64(&p))).unwrap();
        assert_eq!(icon.content_type, "image/png");
        assert_eq!(icon.bytes, p);
        assert_eq!(icon.hash().len(), 64);
        assert_eq!(
            sanitise(&format!("image/png,{}", b64(&png(4096, 10)))),
            Err(IconError::Png("at most 1024 pixels a side"))
        );
        assert!(matches!(
            sanitise(&format!("image/png,{}", b64(b"GIF89a...."))),
            Err(IconError::Png(_))
        ));
    }

    #[test]
    fn other_forms_are_refused_with_their_reason() {
        assert_eq!(sanitise("image/gif,R0lGOD"), Err(IconError::Format));
        assert_eq!(sanitise("no comma"), Err(IconError::Format));
        assert_eq!(sanitise("image/png,@@@"), Err(IconError::Base64));
        let big = b64(&vec![b' '; MAX_BYTES + 1]);
        assert_eq!(
            sanitise(&format!("image/svg+xml,{big}")),
            Err(IconError::TooLarge)
        );
    }
}
