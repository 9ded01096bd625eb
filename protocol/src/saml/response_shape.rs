//! The shape a `Response` Leerpoort receives as service provider (from a network environment)
//! must have before anything in it is used: checked on the message as it arrived
//! ([`structure`]) and again on the part its signature covers ([`shape`]).

use quick_xml::events::Event;
use quick_xml::Reader;

/// Why a `Response` does not have the shape Leerpoort accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("the answer is not a well-formed SAML Response: {0}")]
    Malformed(String),
    #[error("the signed content holds XML comments")]
    Comments,
    #[error("encrypted assertions are not supported")]
    Encrypted,
    /// A second Response or Assertion, a repeated ID, or a signature away from what it signs:
    /// what signature wrapping needs.
    #[error("the answer is shaped as a signature-wrapping attack")]
    Wrapped,
}

fn local_name(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The root element's local name, and how many `Assertion` / `EncryptedAssertion` elements
/// the document holds, and whether it holds comments.
pub fn shape(xml: &str) -> Result<(String, usize, usize, bool), ShapeError> {
    let mut reader = Reader::from_str(xml);
    let mut root = None;
    let (mut assertions, mut encrypted, mut comments) = (0, 0, false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = e.name();
                let local = local_name(name.as_ref());
                if root.is_none() {
                    root = Some(String::from_utf8_lossy(local).into_owned());
                }
                match local {
                    b"Assertion" => assertions += 1,
                    b"EncryptedAssertion" => encrypted += 1,
                    _ => {}
                }
            }
            Ok(Event::Comment(_)) => comments = true,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(ShapeError::Malformed(e.to_string())),
        }
    }
    Ok((root.unwrap_or_default(), assertions, encrypted, comments))
}

/// The shape every accepted Response has, checked on the message as it arrived: one
/// `Response` at the root; at most one `Assertion`, its direct child; no comments; every ID
/// unique; at most one `Signature` directly in the Response and one directly in the
/// Assertion, each with one `Reference` to the ID of the element it sits in. Signature
/// wrapping needs a second Response or Assertion, or a signature away from what it signs:
/// each is refused here, before the signed node is used.
pub fn structure(xml: &str) -> Result<(), ShapeError> {
    use ShapeError as E;
    let wrapped = || E::Wrapped;
    let mut reader = Reader::from_str(xml);
    // (local name, ID) of the open elements.
    let mut stack: Vec<(Vec<u8>, Option<String>)> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let (mut responses, mut assertions) = (0usize, 0usize);
    let mut signatures: Vec<(usize, String)> = Vec::new();
    // Inside a Signature: its depth, its parent's ID, the Reference URIs seen.
    let mut in_sig: Option<(usize, String, Vec<String>)> = None;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| E::Malformed(e.to_string()))?;
        let (e, empty) = match ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                let depth = stack.len();
                if let Some((d, parent_id, refs)) = &in_sig {
                    if *d == depth {
                        let [r] = refs.as_slice() else {
                            return Err(wrapped());
                        };
                        if *r != format!("#{parent_id}") {
                            return Err(wrapped());
                        }
                        in_sig = None;
                    }
                }
                stack.pop();
                continue;
            }
            Event::Comment(_) => return Err(E::Comments),
            Event::Eof => break,
            _ => continue,
        };
        let name = e.name();
        let local = local_name(name.as_ref()).to_vec();
        let mut id = None;
        let mut uri = None;
        for a in e.attributes() {
            let a = a.map_err(|e| E::Malformed(e.to_string()))?;
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| E::Malformed(e.to_string()))?
                .into_owned();
            match a.key.as_ref() {
                b"ID" => id = Some(v),
                b"URI" => uri = Some(v),
                _ => {}
            }
        }
        if let Some(i) = &id {
            if ids.contains(i) {
                return Err(wrapped());
            }
            ids.push(i.clone());
        }
        let depth = stack.len() + 1;
        let parent = stack.last().map(|(n, _)| n.as_slice());
        match local.as_slice() {
            b"Response" => {
                responses += 1;
                if depth != 1 {
                    return Err(wrapped());
                }
            }
            b"Assertion" => {
                assertions += 1;
                if depth != 2 || parent != Some(b"Response".as_slice()) {
                    return Err(wrapped());
                }
            }
            b"EncryptedAssertion" => return Err(E::Encrypted),
            b"Signature" => {
                if in_sig.is_some() || empty {
                    return Err(wrapped());
                }
                let parent_id = stack.last().and_then(|(_, i)| i.clone());
                let ok = matches!(
                    (depth, parent),
                    (2, Some(b"Response")) | (3, Some(b"Assertion"))
                );
                let Some(parent_id) = parent_id.filter(|_| ok) else {
                    return Err(wrapped());
                };
                signatures.push((depth, parent_id.clone()));
                in_sig = Some((depth, parent_id, Vec::new()));
            }
            b"Reference" => {
                if let Some((_, _, refs)) = &mut in_sig {
                    refs.push(uri.clone().unwrap_or_default());
                }
            }
            _ => {}
        }
        if !empty {
            stack.push((local, id));
        }
    }
    // No assertion at all is a failure status, or refused after it is verified.
    if responses != 1 || assertions > 1 {
        return Err(wrapped());
    }
    let at = |d: usize| signatures.iter().filter(|(x, _)| *x == d).count();
    if at(2) > 1 || at(3) > 1 {
        return Err(wrapped());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shape_counts_assertions_and_comments() {
        let (root, a, e, c) = shape(
            r#"<p:Response xmlns:p="x" xmlns:s="y"><s:Assertion><s:NameID>a<!---->b</s:NameID></s:Assertion></p:Response>"#,
        )
        .unwrap();
        assert_eq!((root.as_str(), a, e, c), ("Response", 1, 0, true));
    }
}
