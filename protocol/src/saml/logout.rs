//! Single Logout messages (SAML Core §3.7): parsing a `LogoutRequest` or `LogoutResponse`,
//! and building both. The HTTP-Redirect binding (`binding.rs`) carries them, signed.

use std::collections::HashMap;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::names::LOGOUT_USER;
use super::xml::{check_untrusted, esc, message};
use super::Refusal;

/// The parts of a `LogoutRequest` or `LogoutResponse` Leerpoort reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogoutMessage {
    /// `LogoutRequest` or `LogoutResponse`.
    pub root: String,
    pub id: Option<String>,
    pub version: Option<String>,
    pub issue_instant: Option<String>,
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub issuer: Option<String>,
    pub name_id: Option<String>,
    pub session_indexes: Vec<String>,
    /// The top-level `StatusCode`.
    pub status: Option<String>,
}

impl LogoutMessage {
    /// `IssueInstant` in seconds, if it is there and an `xs:dateTime`.
    pub fn issued_at(&self) -> Option<i64> {
        self.issue_instant
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp())
    }
}

/// Parse a logout message that passed [`check_untrusted`].
pub fn parse_logout(xml: &str) -> Result<LogoutMessage, Refusal> {
    check_untrusted(xml)?;
    let mut reader = Reader::from_str(xml);
    let mut m = LogoutMessage::default();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let bad = |e: &dyn std::fmt::Display| Refusal::Malformed(e.to_string());
    loop {
        let ev = reader.read_event().map_err(|e| bad(&e))?;
        let empty = matches!(ev, Event::Empty(_));
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let mut attrs = HashMap::new();
                for a in e.attributes() {
                    let a = a.map_err(|e| bad(&e))?;
                    let v = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| bad(&e))?
                        .into_owned();
                    attrs.insert(
                        String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(),
                        v,
                    );
                }
                if path.is_empty() {
                    m.root = name.clone();
                    m.id = attrs.get("ID").cloned();
                    m.version = attrs.get("Version").cloned();
                    m.issue_instant = attrs.get("IssueInstant").cloned();
                    m.destination = attrs.get("Destination").cloned();
                    m.in_response_to = attrs.get("InResponseTo").cloned();
                } else if name == "StatusCode" && path.len() == 2 && m.status.is_none() {
                    m.status = attrs.get("Value").cloned();
                }
                if path.len() == 1 {
                    text.clear();
                }
                if !empty {
                    path.push(name);
                }
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| bad(&e))?),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| bad(&e))? {
                    Some(c) => c,
                    None => match r.decode().map_err(|e| bad(&e))?.as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        _ => return Err(Refusal::Dtd),
                    },
                };
                text.push(resolved);
            }
            Event::End(_) => {
                if path.len() == 2 {
                    let value = text.trim().to_string();
                    match path[1].as_str() {
                        "Issuer" => m.issuer = Some(value),
                        "NameID" => m.name_id = Some(value),
                        "SessionIndex" => m.session_indexes.push(value),
                        _ => {}
                    }
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if m.root != "LogoutRequest" && m.root != "LogoutResponse" {
        return Err(Refusal::Malformed("not a logout message".into()));
    }
    Ok(m)
}

/// What an identity provider adds when it asks an SP to end a session there: the NameID's
/// format and the SP it was issued for, and the session (`SessionIndex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpSession<'a> {
    pub format: &'a str,
    pub sp_entity_id: &'a str,
    pub session_index: &'a str,
}

/// A `LogoutRequest` from `issuer` to `destination` for `name_id` (unsigned XML: the
/// Redirect binding signs the query). With `session` (the IdP to an SP) the NameID carries
/// its format and qualifiers, the session is named and the `Reason` is that the user signed
/// out; without it (Leerpoort's SP to a network environment) the NameID is bare.
pub fn logout_request_xml(
    id: &str,
    issuer: &str,
    destination: &str,
    name_id: &str,
    session: Option<&SpSession<'_>>,
    now: i64,
) -> String {
    let (reason, qualifiers, session_index) = match session {
        Some(s) => (
            format!(r#" Reason="{LOGOUT_USER}""#),
            format!(
                r#" Format="{}" NameQualifier="{}" SPNameQualifier="{}""#,
                esc(s.format),
                esc(issuer),
                esc(s.sp_entity_id)
            ),
            format!(
                "<samlp:SessionIndex>{}</samlp:SessionIndex>",
                esc(s.session_index)
            ),
        ),
        None => (String::new(), String::new(), String::new()),
    };
    let body = format!(
        "<saml:NameID{qualifiers}>{name_id}</saml:NameID>{session_index}",
        name_id = esc(name_id),
    );
    message(
        "LogoutRequest",
        id,
        now,
        destination,
        &reason,
        issuer,
        &body,
    )
}

/// A `LogoutResponse` from `issuer` to `destination`, answering the request
/// `in_response_to` with `status` (the top-level status code and the second-level one, if
/// any). Unsigned XML: the Redirect binding signs the query.
pub fn logout_response_xml(
    id: &str,
    issuer: &str,
    destination: &str,
    in_response_to: &str,
    status: (&str, Option<&str>),
    now: i64,
) -> String {
    let (top, second) = status;
    let second = second
        .map(|s| format!(r#"<samlp:StatusCode Value="{}"/>"#, esc(s)))
        .unwrap_or_default();
    let irt = format!(r#" InResponseTo="{}""#, esc(in_response_to));
    let body = format!(
        r#"<samlp:Status><samlp:StatusCode Value="{top}">{second}</samlp:StatusCode></samlp:Status>"#,
        top = esc(top),
    );
    message("LogoutResponse", id, now, destination, &irt, issuer, &body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::saml::names::{PERSISTENT, SUCCESS};

    #[test]
    fn logout_requests_of_both_sides() {
        let idp = logout_request_xml(
            "_r1",
            "https://lp.example/saml/metadata",
            "https://sp.example/slo?a=1&b=2",
            "n<1>",
            Some(&SpSession {
                format: PERSISTENT,
                sp_entity_id: "https://sp.example/md",
                session_index: "s1",
            }),
            1_785_542_400,
        );
        assert_eq!(
            idp,
            concat!(
                r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-08-01T00:00:00Z" Destination="https://sp.example/slo?a=1&amp;b=2" Reason="urn:oasis:names:tc:SAML:2.0:logout:user">"#,
                "<saml:Issuer>https://lp.example/saml/metadata</saml:Issuer>",
                r#"<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" NameQualifier="https://lp.example/saml/metadata" SPNameQualifier="https://sp.example/md">n&lt;1&gt;</saml:NameID>"#,
                "<samlp:SessionIndex>s1</samlp:SessionIndex>",
                "</samlp:LogoutRequest>"
            )
        );
        let sp = logout_request_xml(
            "_r2",
            "https://lp.example/broker/saml/metadata",
            "https://idp.example/slo",
            "u1",
            None,
            1_785_542_400,
        );
        assert_eq!(
            sp,
            concat!(
                r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion""#,
                r#" ID="_r2" Version="2.0" IssueInstant="2026-08-01T00:00:00Z" Destination="https://idp.example/slo">"#,
                "<saml:Issuer>https://lp.example/broker/saml/metadata</saml:Issuer><saml:NameID>u1</saml:NameID>",
                "</samlp:LogoutRequest>"
            )
        );
        for xml in [idp, sp] {
            let m = parse_logout(&xml).unwrap();
            assert_eq!(m.root, "LogoutRequest");
            assert_eq!(m.issued_at(), Some(1_785_542_400));
        }
    }

    #[test]
    fn a_logout_response_names_its_status() {
        let ok = logout_response_xml(
            "_a1",
            "https://lp.example/saml/metadata",
            "https://sp.example/slo",
            "_r1",
            (SUCCESS, None),
            1_785_542_400,
        );
        assert_eq!(
            ok,
            concat!(
                r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="2026-08-01T00:00:00Z" Destination="https://sp.example/slo" InResponseTo="_r1">"#,
                "<saml:Issuer>https://lp.example/saml/metadata</saml:Issuer>",
                r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"></samlp:StatusCode></samlp:Status>"#,
                "</samlp:LogoutResponse>"
            )
        );
        let m = parse_logout(&ok).unwrap();
        assert_eq!(
            (
                m.root.as_str(),
                m.status.as_deref(),
                m.in_response_to.as_deref()
            ),
            ("LogoutResponse", Some(SUCCESS), Some("_r1"))
        );
        let refused = logout_response_xml(
            "_a2",
            "i",
            "d",
            "_r1",
            (
                "urn:oasis:names:tc:SAML:2.0:status:Requester",
                Some("urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"),
            ),
            0,
        );
        assert!(refused.contains(r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"/></samlp:StatusCode>"#));
    }
}
