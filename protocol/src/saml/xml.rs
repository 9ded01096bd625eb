//! XML as hostile input, and XML Leerpoort writes.
//!
//! Every SAML message and every metadata document passes [`check_untrusted`] before any
//! parser that could act on it sees it: no DTD (so no entity declarations, no external
//! entities, no billion laughs), no processing instructions other than the XML declaration,
//! well-formed, not nested deeper than [`MAX_DEPTH`]. quick-xml itself expands no entities
//! other than the five predefined ones; libxml2 (under xmlsec) only sees documents that
//! passed this check.
//!
//! What Leerpoort writes is built from escaped text ([`esc`]) and signed through the key
//! store with a template of its own ([`signature_template`]): RSA-SHA256, SHA-256 digest,
//! exclusive canonicalisation.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::Refusal;

/// The deepest element nesting accepted (SAML messages need about 8).
pub const MAX_DEPTH: usize = 32;

/// Refuse DTDs, entity declarations, unknown entity references and malformed XML.
pub fn check_untrusted(xml: &str) -> Result<(), Refusal> {
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") || xml.contains("<!doctype") {
        return Err(Refusal::Dtd);
    }
    let mut reader = Reader::from_str(xml);
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::DocType(_)) => return Err(Refusal::Dtd),
            Ok(Event::PI(_)) => {
                return Err(Refusal::Malformed(
                    "processing instructions are not allowed".into(),
                ))
            }
            Ok(Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Refusal::Malformed("nested too deeply".into()));
                }
            }
            Ok(Event::Empty(_)) => {
                if depth == 0 {
                    roots += 1;
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Text(t)) => {
                if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) {
                    return Err(Refusal::Malformed("text outside the root element".into()));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = String::from_utf8_lossy(&r);
                let known = matches!(name.as_ref(), "lt" | "gt" | "amp" | "apos" | "quot")
                    || name.starts_with('#');
                if !known {
                    return Err(Refusal::Dtd);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(Refusal::Malformed(e.to_string())),
        }
    }
    if depth != 0 || roots != 1 {
        return Err(Refusal::Malformed("not exactly one root element".into()));
    }
    Ok(())
}

/// Escape text for an element or a double-quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// A SAML protocol message `element` (`samlp:`, both namespaces declared) with its `ID`,
/// version, issue instant and `Destination`, then `attributes` (each with its leading space),
/// the `Issuer` and `body`.
pub fn message(
    element: &str,
    id: &str,
    now: i64,
    destination: &str,
    attributes: &str,
    issuer: &str,
    body: &str,
) -> String {
    format!(
        concat!(
            r#"<samlp:{element} xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion""#,
            r#" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{dest}"{attributes}>"#,
            "<saml:Issuer>{issuer}</saml:Issuer>",
            "{body}",
            "</samlp:{element}>"
        ),
        element = element,
        id = id,
        now = instant(now),
        dest = esc(destination),
        attributes = attributes,
        issuer = esc(issuer),
        body = body,
    )
}

/// An `xs:dateTime` in UTC, to the second: `2026-11-29T23:05:00Z`.
pub fn instant(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// The `ds:Signature` template for the element with `ID="{id}"`: xmlsec fills in the digest
/// and the signature value. Placed where the schema wants it (after `Issuer`).
pub fn signature_template(id: &str, cert_b64: &str) -> String {
    format!(
        concat!(
            r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">"#,
            r#"<ds:SignedInfo>"#,
            r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
            r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>"#,
            r##"<ds:Reference URI="#{id}">"##,
            r#"<ds:Transforms>"#,
            r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
            r#"</ds:Transforms>"#,
            r#"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>"#,
            r#"<ds:DigestValue></ds:DigestValue>"#,
            r#"</ds:Reference>"#,
            r#"</ds:SignedInfo>"#,
            r#"<ds:SignatureValue></ds:SignatureValue>"#,
            r#"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"#,
            r#"</ds:Signature>"#
        ),
        id = id,
        cert = cert_b64
    )
}

/// A document without its XML declaration, to embed it in another.
pub fn without_declaration(xml: &str) -> &str {
    let t = xml.trim_start();
    if t.starts_with("<?xml") {
        match t.find("?>") {
            Some(end) => t[end + 2..].trim_start(),
            None => t,
        }
    } else {
        t
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dtds_and_entities_are_refused() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert_eq!(check_untrusted(laughs), Err(Refusal::Dtd));
        let xxe = r#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        assert_eq!(check_untrusted(xxe), Err(Refusal::Dtd));
        assert_eq!(check_untrusted("<a>&x;</a>"), Err(Refusal::Dtd));
        assert!(check_untrusted("<a>&amp;&#65;</a>").is_ok());
    }

    #[test]
    fn malformed_xml_is_refused() {
        for bad in [
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text",
            "<a/>tail",
            "<?pi x?><a/>",
        ] {
            assert!(check_untrusted(bad).is_err(), "{bad}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(check_untrusted(&deep).is_err());
        assert!(check_untrusted(r#"<?xml version="1.0"?><a><b c="1"/></a>"#).is_ok());
    }

    #[test]
    fn escaping_and_times() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(instant(1_785_542_400), "2026-08-01T00:00:00Z");
        assert_eq!(without_declaration("<?xml version=\"1.0\"?>\n<a/>"), "<a/>");
    }
}
