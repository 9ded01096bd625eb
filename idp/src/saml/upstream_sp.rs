//! Leerpoort as a SAML service provider towards network environments (upstream IdPs):
//! its SP metadata (`/broker/saml/metadata`), the signed AuthnRequest over HTTP-Redirect
//! ([`start`]), the AssertionConsumerService (`/broker/saml/acs`, [`consume`]), and the
//! SingleLogoutService for the upstream's LogoutRequests (`/broker/saml/slo`, [`logout`]).
//!
//! What the ACS accepts, in order:
//! size caps and base64 → no DTD, well-formed → the `Issuer` names an enabled SAML upstream →
//! xmlsec verifies every signature in the message with the certificates of that upstream's
//! stored metadata, and returns the one signed node (the pre-digest content: exactly the
//! octets the signature covers). Everything after that is read **only** from that node: the
//! Response (when the Response is signed) or the Assertion (when only the Assertion is
//! signed); nothing is ever looked up again by ID, so signature wrapping (XSW1–XSW8) has
//! nothing to hide behind. Then: exactly one assertion, no comments in the signed content
//! (the canonical text is what was signed), the status, issuer, `Destination`, bearer
//! `SubjectConfirmationData` (`Recipient`, `InResponseTo`, `NotOnOrAfter`), `Conditions`
//! (time with [`SKEW_SECS`], `Audience`), a replay check on the Response and Assertion IDs,
//! and finally the pending request named by `InResponseTo` (single use). Unsolicited
//! responses (no `InResponseTo`) are refused unless the upstream was added with
//! `--allow-unsolicited`; then the `RelayState` may name the relying party to go on to.
//! Encrypted assertions are refused.

use std::collections::HashMap;
use std::str::FromStr as _;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use broker::model::{Upstream, UpstreamProtocol};
use quick_xml::events::Event;
use quick_xml::Reader;
use samael::metadata::EntityDescriptor;
use samael::schema::{Assertion, Response};

use super::names::{BEARER, HTTP_POST, HTTP_REDIRECT, PROTOCOL, SUCCESS};
use super::xml::{check_untrusted, esc, instant, signature_template, without_declaration};
use super::{binding, new_id, sso, METADATA_MAX, METADATA_VALID_SECS, REPLAY_SECS, SKEW_SECS};
use crate::app::AppState;
use crate::keys::KeyStore as _;
use crate::upstream::{self, Pending};

/// The paths of the SP side, relative to the issuer.
pub mod paths {
    pub const METADATA: &str = "/broker/saml/metadata";
    pub const ACS: &str = "/broker/saml/acs";
    pub const START: &str = "/broker/saml/start";
    pub const SLO: &str = "/broker/saml/slo";
    /// The same-site step after the ACS, where the binding cookie is checked.
    pub const CONTINUE: &str = "/broker/saml/acs/continue";
}

/// The pending-store kind of a SAML upstream sign-in.
pub const PENDING_KIND: &str = "saml";

/// Leerpoort's entity ID as a service provider: its SP metadata URL.
pub fn sp_entity_id(issuer: &str) -> String {
    format!("{issuer}{}", paths::METADATA)
}

/// The ACS URL.
pub fn acs_url(issuer: &str) -> String {
    format!("{issuer}{}", paths::ACS)
}

/// Why a sign-in at a SAML upstream cannot start, or why its answer is refused. Nothing is
/// changed when one of these is returned (except that a refused answer's pending request may
/// be used up, so it cannot be tried again).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamSamlError {
    #[error("the network environment is unknown or disabled")]
    UnknownUpstream,
    #[error("the network environment's metadata cannot be used: {0}")]
    Metadata(String),
    #[error("the answer is missing")]
    Missing,
    #[error("the answer is too large or not valid base64")]
    Encoding,
    #[error("the answer is not a well-formed SAML Response: {0}")]
    Malformed(String),
    #[error("the answer is not signed")]
    SignatureMissing,
    #[error("the signature does not verify with the network environment's certificate")]
    BadSignature,
    #[error("the signed part of the answer holds no single assertion")]
    NoSignedAssertion,
    #[error("encrypted assertions are not supported")]
    Encrypted,
    #[error("the signed content holds XML comments")]
    Comments,
    #[error("the answer comes from another issuer")]
    WrongIssuer,
    #[error("the answer was sent to another destination")]
    WrongDestination,
    #[error("the assertion is for another recipient")]
    WrongRecipient,
    #[error("the assertion is for another audience")]
    WrongAudience,
    #[error("the assertion has expired or is not valid yet")]
    Expired,
    #[error("the answer was used before")]
    Replay,
    #[error("the answer is unsolicited, and unsolicited answers are not accepted")]
    Unsolicited,
    #[error("the answer does not answer a request of this browser")]
    InResponseToMismatch,
    #[error("the answer is to a request another browser sent (no or another binding cookie)")]
    OtherBrowser,
    #[error("the network environment did not sign the user in: {0}")]
    Status(String),
    /// A passive request the upstream could not answer silently: back to the waiting relying
    /// party (at this URL), which answers `login_required` itself.
    #[error("the network environment cannot sign the user in silently")]
    Passive(String),
    #[error("the service is unavailable")]
    Unavailable,
}

impl UpstreamSamlError {
    /// Title and text of the page the user sees, from the catalogue.
    pub fn page(&self, t: &'static crate::i18n::Texts) -> (&'static str, &'static str) {
        match self {
            Self::UnknownUpstream | Self::Metadata(_) => {
                (t.upstream_unknown_title, t.upstream_unknown)
            }
            Self::Expired | Self::InResponseToMismatch | Self::Replay => {
                (t.saml_expired_title, t.upstream_expired)
            }
            Self::Status(_) => (t.upstream_not_signed_in_title, t.upstream_not_signed_in),
            Self::OtherBrowser => (t.saml_expired_title, t.network_expired),
            Self::Unavailable => (t.saml_unavailable_title, t.saml_unavailable),
            _ => (t.upstream_untrusted_title, t.upstream_untrusted),
        }
    }
}

/// What Leerpoort uses of an upstream IdP's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// The SingleSignOnService with the HTTP-Redirect binding.
    pub sso_redirect: String,
    /// Certificates (DER) that verify the IdP's signatures.
    pub signing_certs: Vec<Vec<u8>>,
    /// The SingleLogoutService with the HTTP-Redirect binding, if any: (Location,
    /// ResponseLocation or Location).
    pub slo_redirect: Option<(String, String)>,
}

fn cert_der(b64: &str) -> Result<Vec<u8>, UpstreamSamlError> {
    let clean: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD
        .decode(clean)
        .map_err(|e| UpstreamSamlError::Metadata(e.to_string()))?;
    openssl::x509::X509::from_der(&der).map_err(|e| UpstreamSamlError::Metadata(e.to_string()))?;
    Ok(der)
}

/// Read an upstream IdP's metadata: entity ID, SSO endpoint (HTTP-Redirect), signing
/// certificates.
pub fn idp_metadata(xml: &str) -> Result<IdpMetadata, UpstreamSamlError> {
    let bad = |m: &str| UpstreamSamlError::Metadata(m.to_string());
    if xml.len() > METADATA_MAX {
        return Err(bad("too large"));
    }
    check_untrusted(xml).map_err(|e| bad(&e.to_string()))?;
    let ed =
        EntityDescriptor::from_str(without_declaration(xml)).map_err(|e| bad(&e.to_string()))?;
    let entity_id = ed
        .entity_id
        .clone()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| bad("no entityID"))?;
    let idps: Vec<_> = ed
        .idp_sso_descriptors
        .unwrap_or_default()
        .into_iter()
        .filter(|d| {
            d.protocol_support_enumeration
                .as_deref()
                .is_some_and(|p| p.split_ascii_whitespace().any(|x| x == PROTOCOL))
        })
        .collect();
    let [idp] = idps.as_slice() else {
        return Err(bad("needs exactly one IDPSSODescriptor for SAML 2.0"));
    };
    let sso_redirect = idp
        .single_sign_on_services
        .iter()
        .find(|e| e.binding == HTTP_REDIRECT)
        .map(|e| e.location.clone())
        .filter(|l| url::Url::parse(l).is_ok_and(|u| matches!(u.scheme(), "https" | "http")))
        .ok_or_else(|| bad("no SingleSignOnService with the HTTP-Redirect binding"))?;
    let mut signing_certs = Vec::new();
    for kd in &idp.key_descriptors {
        if matches!(kd.key_use.as_deref(), None | Some("signing")) {
            for c in kd
                .key_info
                .x509_data
                .as_ref()
                .map(|d| d.certificates.clone())
                .unwrap_or_default()
            {
                signing_certs.push(cert_der(&c)?);
            }
        }
    }
    if signing_certs.is_empty() {
        return Err(bad("no signing certificate"));
    }
    let slo_redirect = idp
        .single_logout_services
        .iter()
        .find(|e| e.binding == HTTP_REDIRECT)
        .map(|e| {
            let response = e.response_location.clone().unwrap_or(e.location.clone());
            (e.location.clone(), response)
        })
        .filter(|(l, r)| [l, r].iter().all(|u| url::Url::parse(u).is_ok()));
    Ok(IdpMetadata {
        entity_id,
        sso_redirect,
        signing_certs,
        slo_redirect,
    })
}

fn saml_upstream(upstream: &Upstream) -> Result<IdpMetadata, UpstreamSamlError> {
    match &upstream.protocol {
        UpstreamProtocol::Saml { metadata_xml, .. } if upstream.enabled => {
            idp_metadata(metadata_xml)
        }
        _ => Err(UpstreamSamlError::UnknownUpstream),
    }
}

/// Leerpoort's SP metadata, unsigned, with a signature template; `certs` DER, active first.
pub fn sp_metadata_unsigned(issuer: &str, id: &str, certs: &[Vec<u8>], now: i64) -> String {
    let (active, keys) = super::metadata::signing_keys(certs);
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="{id}" entityID="{entity}" validUntil="{until}">"#,
            "{sig}",
            r#"<md:SPSSODescriptor protocolSupportEnumeration="{proto}" AuthnRequestsSigned="true" WantAssertionsSigned="true">"#,
            "{keys}",
            r#"<md:SingleLogoutService Binding="{redirect}" Location="{slo}"/>"#,
            r#"<md:AssertionConsumerService Binding="{post}" Location="{acs}" index="0" isDefault="true"/>"#,
            r#"</md:SPSSODescriptor>"#,
            r#"</md:EntityDescriptor>"#
        ),
        id = id,
        entity = esc(&sp_entity_id(issuer)),
        until = instant(now + METADATA_VALID_SECS),
        sig = signature_template(id, &active),
        proto = PROTOCOL,
        keys = keys,
        post = HTTP_POST,
        acs = esc(&acs_url(issuer)),
        redirect = HTTP_REDIRECT,
        slo = esc(&format!("{issuer}{}", paths::SLO)),
    )
}

/// Leerpoort's SP metadata, signed with its SAML key.
pub fn sp_metadata(state: &AppState, now: i64) -> Result<String, UpstreamSamlError> {
    let certs: Vec<Vec<u8>> = state
        .keys
        .saml_certificates(now)
        .into_iter()
        .map(|(_, der)| der)
        .collect();
    if certs.is_empty() {
        return Err(UpstreamSamlError::Unavailable);
    }
    let id = new_id().map_err(|_| UpstreamSamlError::Unavailable)?;
    let xml = sp_metadata_unsigned(&state.config.issuer, &id, &certs, now);
    let signed = state
        .keys
        .sign_saml_xml(&xml)
        .map_err(|_| UpstreamSamlError::Unavailable)?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        without_declaration(&signed)
    ))
}

/// The AuthnRequest Leerpoort sends to `sso` (unsigned XML: the Redirect binding signs the
/// query).
pub fn authn_request_xml(issuer: &str, id: &str, sso: &str, passive: bool, now: i64) -> String {
    format!(
        concat!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion""#,
            r#" ID="{id}" Version="2.0" IssueInstant="{at}" Destination="{dest}""#,
            r#" AssertionConsumerServiceURL="{acs}" ProtocolBinding="{post}"{passive}>"#,
            r#"<saml:Issuer>{entity}</saml:Issuer>"#,
            r#"</samlp:AuthnRequest>"#
        ),
        id = id,
        at = instant(now),
        dest = esc(sso),
        acs = esc(&acs_url(issuer)),
        post = HTTP_POST,
        passive = if passive { r#" IsPassive="true""# } else { "" },
        entity = esc(&sp_entity_id(issuer)),
    )
}

/// Start a sign-in at `upstream`: a signed AuthnRequest (HTTP-Redirect, `IsPassive` when
/// `pending.passive`), `pending` kept under its request ID and bound to this browser, and the
/// URL to send the browser to (the upstream's SingleSignOnService from its metadata) with the
/// binding cookie to set.
pub fn start(
    state: &AppState,
    upstream: &Upstream,
    mut pending: Pending,
    now: i64,
) -> Result<(String, upstream::Binding), UpstreamSamlError> {
    let meta = saml_upstream(upstream)?;
    let id = new_id().map_err(|_| UpstreamSamlError::Unavailable)?;
    let xml = authn_request_xml(
        &state.config.issuer,
        &id,
        &meta.sso_redirect,
        pending.passive,
        now,
    );
    let url = binding::encode_redirect(&meta.sso_redirect, "SAMLRequest", &xml, None, |d| {
        state.keys.sign_saml_redirect(d).ok()
    })
    .ok_or(UpstreamSamlError::Unavailable)?;
    pending.upstream = upstream.id;
    pending.protocol = serde_json::json!({"request_id": id, "issued": now});
    let binding = upstream::bind_and_put(state, PENDING_KIND, &id, pending)
        .map_err(|_| UpstreamSamlError::Unavailable)?;
    Ok((url, binding))
}

/// A verified answer: who the upstream is, what it asserted, and the request it answers.
#[derive(Debug)]
pub struct Consumed {
    pub upstream: Upstream,
    /// Attribute Name → first value, and the NameID under `NameID`.
    pub asserted: HashMap<String, String>,
    pub pending: Pending,
}

fn local_name(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The root element's local name, and how many `Assertion` / `EncryptedAssertion` elements
/// the document holds, and whether it holds comments.
fn shape(xml: &str) -> Result<(String, usize, usize, bool), UpstreamSamlError> {
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
            Err(e) => return Err(UpstreamSamlError::Malformed(e.to_string())),
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
fn structure(xml: &str) -> Result<(), UpstreamSamlError> {
    use UpstreamSamlError as E;
    let wrapped = || E::BadSignature;
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

/// A status code's last part, for the log (`Responder`, `AuthnFailed`).
fn status_name(code: &str) -> String {
    code.rsplit(':').next().unwrap_or_default().to_string()
}

fn issuer_of(r: &Response) -> Option<String> {
    r.issuer
        .as_ref()
        .and_then(|i| i.value.clone())
        .or_else(|| r.assertion.as_ref().and_then(|a| a.issuer.value.clone()))
        .map(|v| v.trim().to_string())
}

/// Verify a `SAMLResponse` (HTTP-POST binding, still base64) and take the request it
/// answers. See the module documentation for every check.
pub fn consume(
    state: &AppState,
    saml_response: Option<&str>,
    relay_state: Option<&str>,
    now: i64,
) -> Result<Consumed, UpstreamSamlError> {
    use UpstreamSamlError as E;
    let encoded = saml_response.filter(|s| !s.is_empty()).ok_or(E::Missing)?;
    let xml = binding::decode_post(encoded).map_err(|_| E::Encoding)?;
    check_untrusted(&xml).map_err(|e| E::Malformed(e.to_string()))?;
    structure(&xml)?;
    // Unverified: only to find whose certificates verify it, and to end early when the
    // upstream says it signed nobody in (that signs in nobody here either).
    let outer =
        Response::from_str(without_declaration(&xml)).map_err(|e| E::Malformed(e.to_string()))?;
    if let Some(code) = outer
        .status
        .as_ref()
        .and_then(|s| s.status_code.value.as_deref())
        .filter(|c| *c != SUCCESS)
    {
        // The answer to a passive request (`prompt=none` at Leerpoort): back to the relying
        // party, once. (Unsigned failures can only end a sign-in that was waiting anyway.)
        if let Some(irt) = outer.in_response_to.as_deref() {
            if let Some(p) = upstream::take_pending(state, PENDING_KIND, irt) {
                match (p.passive, &p.resume) {
                    (true, Some(resume)) => return Err(E::Passive(resume.clone())),
                    // Not passive: the request stays for an honest answer.
                    _ => {
                        let _ = upstream::put_pending(state, PENDING_KIND, irt, &p);
                    }
                }
            }
        }
        return Err(E::Status(status_name(code)));
    }
    let issuer = issuer_of(&outer).ok_or(E::WrongIssuer)?;
    let upstream = upstream_of_issuer(state, &issuer)?;
    let meta = saml_upstream(&upstream)?;
    let acs = acs_url(&state.config.issuer);
    if outer.signature.is_none()
        && outer
            .assertion
            .as_ref()
            .is_none_or(|a| a.signature.is_none())
    {
        if outer.encrypted_assertion.is_some() {
            return Err(E::Encrypted);
        }
        return Err(E::SignatureMissing);
    }

    // The one node the signature covers, as xmlsec verified it.
    let signed = sso::verified_xml(&xml, &meta.signing_certs).map_err(|_| E::BadSignature)?;
    let (root, assertions, encrypted, comments) = shape(&signed)?;
    if comments {
        return Err(E::Comments);
    }
    if encrypted > 0 {
        return Err(E::Encrypted);
    }
    if assertions != 1 {
        return Err(E::NoSignedAssertion);
    }
    let (response, assertion) = match root.as_str() {
        "Response" => {
            let r = Response::from_str(&signed).map_err(|e| E::Malformed(e.to_string()))?;
            let a = r.assertion.clone().ok_or(E::NoSignedAssertion)?;
            (Some(r), a)
        }
        "Assertion" => (
            None,
            Assertion::from_str(&signed).map_err(|e| E::Malformed(e.to_string()))?,
        ),
        _ => return Err(E::NoSignedAssertion),
    };

    // The Response's own fields: from the signed Response; an unsigned outer Response may
    // still not contradict.
    for r in response.iter().chain(std::iter::once(&outer)) {
        if r.destination.as_deref().is_some_and(|d| d != acs) {
            return Err(E::WrongDestination);
        }
        if let Some(s) = &r.status {
            let code = s.status_code.value.as_deref().unwrap_or_default();
            if code != SUCCESS {
                return Err(E::Status(status_name(code)));
            }
        }
        if r.issuer
            .as_ref()
            .and_then(|i| i.value.as_deref())
            .is_some_and(|i| i.trim() != meta.entity_id)
        {
            return Err(E::WrongIssuer);
        }
    }
    if assertion.issuer.value.as_deref().map(str::trim) != Some(meta.entity_id.as_str()) {
        return Err(E::WrongIssuer);
    }
    if assertion.version != "2.0" {
        return Err(E::Malformed("not SAML 2.0".into()));
    }

    // Subject and its bearer confirmation.
    let subject = assertion
        .subject
        .as_ref()
        .ok_or(E::Malformed("no Subject".into()))?;
    let name_id = subject
        .name_id
        .as_ref()
        .map(|n| n.value.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or(E::Malformed("no NameID".into()))?;
    let bearer = subject
        .subject_confirmations
        .iter()
        .flatten()
        .filter(|c| c.method.as_deref() == Some(BEARER))
        .filter_map(|c| c.subject_confirmation_data.as_ref())
        .collect::<Vec<_>>();
    let [data] = bearer.as_slice() else {
        return Err(E::Malformed("needs one bearer SubjectConfirmation".into()));
    };
    if data.recipient.as_deref() != Some(acs.as_str()) {
        return Err(E::WrongRecipient);
    }
    let until = data
        .not_on_or_after
        .map(|t| t.timestamp())
        .ok_or(E::Expired)?;
    if now >= until + SKEW_SECS
        || data
            .not_before
            .is_some_and(|t| t.timestamp() > now + SKEW_SECS)
    {
        return Err(E::Expired);
    }
    // Unsolicited (IdP-initiated) answers only from an upstream that is allowed to send them.
    let allows_unsolicited = matches!(
        upstream.protocol,
        UpstreamProtocol::Saml {
            allow_unsolicited: true,
            ..
        }
    );
    let in_response_to = match data.in_response_to.clone() {
        Some(i) => Some(i),
        None if allows_unsolicited => None,
        None => return Err(E::Unsolicited),
    };
    if response
        .iter()
        .chain(std::iter::once(&outer))
        .any(|r| r.in_response_to.as_deref().is_some() && r.in_response_to != in_response_to)
    {
        return Err(E::InResponseToMismatch);
    }

    // Conditions: time and audience.
    let conditions = assertion.conditions.as_ref().ok_or(E::WrongAudience)?;
    if conditions
        .not_before
        .is_some_and(|t| t.timestamp() > now + SKEW_SECS)
        || conditions
            .not_on_or_after
            .is_some_and(|t| now >= t.timestamp() + SKEW_SECS)
    {
        return Err(E::Expired);
    }
    let me = sp_entity_id(&state.config.issuer);
    let restrictions = conditions
        .audience_restrictions
        .as_deref()
        .unwrap_or_default();
    if restrictions.is_empty()
        || !restrictions
            .iter()
            .all(|r| r.audience.iter().any(|a| a.trim() == me))
    {
        return Err(E::WrongAudience);
    }

    // Used once: the Response's and the Assertion's IDs.
    let mut ids = vec![format!("a\n{}", assertion.id)];
    if let Some(r) = &response {
        ids.push(format!("r\n{}", r.id));
    }
    for id in ids {
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            format!("{}\n{id}", upstream.id).as_bytes(),
        );
        let fresh = state
            .store
            .put_if_absent(
                &format!("samlup-seen:{}", hex::encode(digest.as_ref())),
                b"1",
                Duration::from_secs(REPLAY_SECS),
            )
            .map_err(|_| E::Unavailable)?;
        if !fresh {
            return Err(E::Replay);
        }
    }

    // The request it answers: this upstream's, still waiting. Unsolicited: the RelayState
    // may name the relying party to go on to.
    let pending = match &in_response_to {
        Some(irt) => upstream::take_pending(state, PENDING_KIND, irt)
            .filter(|p| p.upstream == upstream.id)
            .ok_or(E::InResponseToMismatch)?,
        None => Pending {
            upstream: upstream.id,
            school: None,
            target: relay_state
                .filter(|r| !r.is_empty() && r.len() <= 80 && !r.chars().any(char::is_control))
                .map(str::to_string),
            resume: None,
            passive: false,
            protocol: serde_json::Value::Null,
            browser: None,
        },
    };

    let mut asserted = HashMap::new();
    for statement in assertion.attribute_statements.iter().flatten() {
        for a in &statement.attributes {
            let (Some(name), Some(v)) = (
                a.name.as_ref(),
                a.values.iter().find_map(|v| v.value.clone()),
            ) else {
                continue;
            };
            asserted.entry(name.clone()).or_insert(v.trim().to_string());
        }
    }
    asserted.insert("NameID".to_string(), name_id);
    Ok(Consumed {
        upstream,
        asserted,
        pending,
    })
}

/// A verified answer to a request, held for the browser's same-site step.
#[derive(serde::Serialize, serde::Deserialize)]
struct Held {
    upstream: uuid::Uuid,
    asserted: HashMap<String, String>,
    pending: Pending,
}

/// How long a verified answer waits for the browser's same-site step.
const HELD_TTL: Duration = Duration::from_secs(60);

fn held_key(key: &str) -> String {
    format!("samlup-held:{key}")
}

/// The request `c` answers, if it answers one (not unsolicited): its ID.
pub fn request_id(c: &Consumed) -> Option<String> {
    c.pending
        .protocol
        .get("request_id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// Hold a verified answer to one of Leerpoort's requests until the browser shows the cookie
/// that binds the request to it. The ACS is a cross-site POST, which does not carry a
/// `SameSite=Lax` cookie; the browser is sent on with a top-level GET to
/// [`paths::CONTINUE`], which does. The URL to send it to.
pub fn hold(state: &AppState, c: &Consumed) -> Result<String, UpstreamSamlError> {
    let key = crate::secrets::random_token().map_err(|_| UpstreamSamlError::Unavailable)?;
    let held = Held {
        upstream: c.upstream.id,
        asserted: c.asserted.clone(),
        pending: c.pending.clone(),
    };
    let bytes = serde_json::to_vec(&held).map_err(|_| UpstreamSamlError::Unavailable)?;
    state
        .store
        .put(&held_key(&key), &bytes, HELD_TTL)
        .map_err(|_| UpstreamSamlError::Unavailable)?;
    Ok(format!("{}?k={key}", paths::CONTINUE))
}

/// Take a held answer (once), if the browser shows the binding cookie of the request it
/// answers: `binding` gives the value of the cookie with the name it is asked for.
pub fn take_held(
    state: &AppState,
    key: &str,
    binding: impl Fn(&str) -> Option<String>,
) -> Result<Consumed, UpstreamSamlError> {
    use UpstreamSamlError as E;
    let bytes = state
        .store
        .take(&held_key(key))
        .map_err(|_| E::Unavailable)?
        .ok_or(E::InResponseToMismatch)?;
    let held: Held = serde_json::from_slice(&bytes).map_err(|_| E::InResponseToMismatch)?;
    let c = Consumed {
        upstream: state
            .dir
            .upstream(held.upstream)
            .map_err(|_| E::Unavailable)?
            .filter(|u| u.enabled)
            .ok_or(E::UnknownUpstream)?,
        asserted: held.asserted,
        pending: held.pending,
    };
    let id = request_id(&c).ok_or(E::InResponseToMismatch)?;
    let presented = binding(&upstream::binding_cookie_name(PENDING_KIND, &id));
    if !upstream::is_bound(&c.pending, presented.as_deref()) {
        return Err(E::OtherBrowser);
    }
    Ok(c)
}

fn session_key(upstream: &Upstream, name_id: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{}\n{name_id}", upstream.id).as_bytes(),
    );
    format!("samlup-sid:{}", hex::encode(digest.as_ref()))
}

/// Remember which session `upstream` started for `name_id`, so that its LogoutRequest can
/// end it.
pub fn remember_session(
    state: &AppState,
    upstream: &Upstream,
    name_id: &str,
    sid: &str,
    ttl_secs: i64,
) -> Result<(), UpstreamSamlError> {
    let ttl = Duration::from_secs(u64::try_from(ttl_secs.max(1)).unwrap_or(1));
    state
        .store
        .put(&session_key(upstream, name_id), sid.as_bytes(), ttl)
        .map_err(|_| UpstreamSamlError::Unavailable)
}

/// What an upstream's LogoutRequest leads to.
#[derive(Debug)]
pub struct LoggedOut {
    /// The signed LogoutResponse to send the browser back with, when the upstream's metadata
    /// has a SingleLogoutService for HTTP-Redirect.
    pub redirect: Option<String>,
    /// Back-channel logouts of the OIDC relying parties of the ended session.
    pub deliveries: Vec<crate::oidc::logout::BackchannelDelivery>,
}

/// `/broker/saml/slo`: a network environment's LogoutRequest (HTTP-Redirect, its query
/// signed with a key of its metadata) ends the session it started for that NameID.
pub fn logout(state: &AppState, query: &str, now: i64) -> Result<LoggedOut, UpstreamSamlError> {
    use UpstreamSamlError as E;
    let mut values = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "SAMLRequest")
        .map(|(_, v)| v.into_owned());
    let (Some(encoded), None) = (values.next(), values.next()) else {
        return Err(E::Missing);
    };
    let relay_state = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "RelayState")
        .map(|(_, v)| v.into_owned())
        .filter(|r| r.len() <= super::RELAY_STATE_MAX);
    let xml = binding::decode_redirect(&encoded).map_err(|_| E::Encoding)?;
    let m = super::slo::parse_logout(&xml).map_err(|e| E::Malformed(e.to_string()))?;
    if m.root != "LogoutRequest" {
        return Err(E::Malformed("not a LogoutRequest".into()));
    }
    let issuer = m.issuer.clone().ok_or(E::WrongIssuer)?;
    let upstream = upstream_of_issuer(state, &issuer)?;
    let meta = saml_upstream(&upstream)?;
    binding::verify_query(query, "SAMLRequest", &meta.signing_certs).map_err(|e| match e {
        super::error::Refusal::SignatureMissing => E::SignatureMissing,
        _ => E::BadSignature,
    })?;
    let slo_url = format!("{}{}", state.config.issuer, paths::SLO);
    if m.destination.as_deref().is_some_and(|d| d != slo_url) {
        return Err(E::WrongDestination);
    }
    let issued = m
        .issue_instant
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp())
        .ok_or(E::Expired)?;
    if issued > now + SKEW_SECS || issued < now - super::REQUEST_MAX_AGE_SECS {
        return Err(E::Expired);
    }
    let id =
        m.id.clone()
            .filter(|i| !i.is_empty())
            .ok_or(E::Malformed("no ID".into()))?;
    let name_id = m.name_id.clone().ok_or(E::Malformed("no NameID".into()))?;
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{}\nslo\n{id}", upstream.id).as_bytes(),
    );
    let fresh = state
        .store
        .put_if_absent(
            &format!("samlup-seen:{}", hex::encode(digest.as_ref())),
            b"1",
            Duration::from_secs(REPLAY_SECS),
        )
        .map_err(|_| E::Unavailable)?;
    if !fresh {
        return Err(E::Replay);
    }

    let mut deliveries = Vec::new();
    let mut ended = None;
    let key = session_key(&upstream, &name_id);
    let sid = state.store.take(&key).map_err(|_| E::Unavailable)?;
    if let Some(sid) = sid.and_then(|b| String::from_utf8(b).ok()) {
        if let Some(s) =
            crate::session::load(state.store.as_ref(), &sid, now).map_err(|_| E::Unavailable)?
        {
            deliveries = crate::oidc::logout::terminate(state, &s, now);
            ended = Some(s);
        }
    }
    let answer = match &meta.slo_redirect {
        Some((_, to)) => Some(logout_response(
            state,
            to,
            &id,
            relay_state.as_deref(),
            now,
        )?),
        None => None,
    };
    // The session's SAML service providers are told first, over the front channel; the
    // chain ends with the answer to the network environment.
    let redirect = ended
        .and_then(|s| crate::saml::slo::start_chain(state, &s, answer.clone(), now))
        .or(answer);
    Ok(LoggedOut {
        redirect,
        deliveries,
    })
}

/// A signed `LogoutResponse` (Success) over HTTP-Redirect, from Leerpoort's SP.
fn logout_response(
    state: &AppState,
    to: &str,
    in_response_to: &str,
    relay_state: Option<&str>,
    now: i64,
) -> Result<String, UpstreamSamlError> {
    let id = new_id().map_err(|_| UpstreamSamlError::Unavailable)?;
    let xml = format!(
        concat!(
            r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{dest}" InResponseTo="{irt}">"#,
            "<saml:Issuer>{sp}</saml:Issuer>",
            r#"<samlp:Status><samlp:StatusCode Value="{ok}"/></samlp:Status>"#,
            "</samlp:LogoutResponse>"
        ),
        id = id,
        now = instant(now),
        dest = esc(to),
        irt = esc(in_response_to),
        sp = esc(&sp_entity_id(&state.config.issuer)),
        ok = SUCCESS,
    );
    binding::encode_redirect(to, "SAMLResponse", &xml, relay_state, |d| {
        state.keys.sign_saml_redirect(d).ok()
    })
    .ok_or(UpstreamSamlError::Unavailable)
}

/// The enabled SAML upstream whose entity ID is `issuer`.
fn upstream_of_issuer(state: &AppState, issuer: &str) -> Result<Upstream, UpstreamSamlError> {
    state
        .dir
        .upstreams()
        .map_err(|_| UpstreamSamlError::Unavailable)?
        .into_iter()
        .find(|u| {
            u.enabled
                && matches!(&u.protocol, UpstreamProtocol::Saml { entity_id, .. } if entity_id == issuer)
        })
        .ok_or(UpstreamSamlError::UnknownUpstream)
}

fn logout_key(id: &str) -> String {
    format!("samlup-logout:{id}")
}

/// Signing out at Leerpoort of a session a SAML network environment started: a signed
/// LogoutRequest (HTTP-Redirect) for it, if its metadata has a SingleLogoutService; the URL to
/// send the browser to. Its LogoutResponse comes back to `/broker/saml/slo`.
pub fn logout_request_url(
    state: &AppState,
    s: &crate::session::SsoSession,
    now: i64,
) -> Option<String> {
    let link = s.upstream.as_ref()?;
    let name_id = link.name_id.as_deref()?;
    let u = state.dir.upstream(link.upstream).ok()??;
    let meta = saml_upstream(&u).ok()?;
    let (location, _) = meta.slo_redirect.as_ref()?;
    let id = new_id().ok()?;
    let xml = format!(
        concat!(
            r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion""#,
            r#" ID="{id}" Version="2.0" IssueInstant="{at}" Destination="{dest}">"#,
            "<saml:Issuer>{sp}</saml:Issuer><saml:NameID>{name_id}</saml:NameID>",
            "</samlp:LogoutRequest>"
        ),
        id = id,
        at = instant(now),
        dest = esc(location),
        sp = esc(&sp_entity_id(&state.config.issuer)),
        name_id = esc(name_id),
    );
    let url = binding::encode_redirect(location, "SAMLRequest", &xml, None, |d| {
        state.keys.sign_saml_redirect(d).ok()
    })?;
    state
        .store
        .put(
            &logout_key(&id),
            u.id.to_string().as_bytes(),
            Duration::from_secs(REPLAY_SECS),
        )
        .ok()?;
    Some(url)
}

/// The network environment answers Leerpoort's LogoutRequest (HTTP-Redirect): its signature,
/// and that it answers a request Leerpoort sent it (once).
pub fn logout_answered(state: &AppState, query: &str) -> Result<(), UpstreamSamlError> {
    use UpstreamSamlError as E;
    let mut values = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "SAMLResponse")
        .map(|(_, v)| v.into_owned());
    let (Some(encoded), None) = (values.next(), values.next()) else {
        return Err(E::Missing);
    };
    let xml = binding::decode_redirect(&encoded).map_err(|_| E::Encoding)?;
    let m = super::slo::parse_logout(&xml).map_err(|e| E::Malformed(e.to_string()))?;
    if m.root != "LogoutResponse" {
        return Err(E::Malformed("not a LogoutResponse".into()));
    }
    let issuer = m.issuer.clone().ok_or(E::WrongIssuer)?;
    let upstream = upstream_of_issuer(state, &issuer)?;
    let meta = saml_upstream(&upstream)?;
    binding::verify_query(query, "SAMLResponse", &meta.signing_certs).map_err(|e| match e {
        super::error::Refusal::SignatureMissing => E::SignatureMissing,
        _ => E::BadSignature,
    })?;
    let irt = m.in_response_to.clone().ok_or(E::InResponseToMismatch)?;
    let sent_to = state
        .store
        .take(&logout_key(&irt))
        .map_err(|_| E::Unavailable)?
        .ok_or(E::InResponseToMismatch)?;
    if sent_to != upstream.id.to_string().as_bytes() {
        return Err(E::InResponseToMismatch);
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

    #[test]
    fn sp_metadata_names_the_acs() {
        let xml = sp_metadata_unsigned("https://lp.example", "_x", &[], 0);
        assert!(xml.contains(r#"entityID="https://lp.example/broker/saml/metadata""#));
        assert!(xml.contains(r#"Location="https://lp.example/broker/saml/acs""#));
    }
}
