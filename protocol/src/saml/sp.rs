//! A service provider's metadata: read once by `saml-sp add` (which refuses what Leerpoort
//! cannot use) and again at every request (the stored document is the one source of truth).

use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use samael::metadata::EntityDescriptor;

use super::names::{HTTP_POST, HTTP_REDIRECT, PERSISTENT, PROTOCOL, TRANSIENT};
use super::xml::check_untrusted;
use super::METADATA_MAX;

/// Why a metadata document cannot be used. Each names the element at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("the metadata is larger than {METADATA_MAX} bytes")]
    TooLarge,
    #[error("the metadata is not safe XML: {0}")]
    Unsafe(String),
    #[error("the metadata is not a SAML EntityDescriptor: {0}")]
    Malformed(String),
    #[error("the metadata has no entityID")]
    NoEntityId,
    #[error("the metadata needs exactly one SPSSODescriptor for SAML 2.0")]
    NoSpDescriptor,
    #[error("the metadata has no AssertionConsumerService with the HTTP-POST binding")]
    NoPostAcs,
    #[error("endpoint '{0}' is not valid: use https (http only on localhost)")]
    BadEndpoint(String),
    #[error("a certificate in the metadata is not valid: {0}")]
    BadCertificate(String),
    #[error("AuthnRequestsSigned is true, but the metadata has no signing certificate")]
    NoSigningKey,
    #[error("the metadata is not signed, and a metadata signing certificate is configured for this service provider")]
    Unsigned,
    #[error("the metadata is signed: give the certificate it is signed with (--metadata-signing-cert FILE) to verify it")]
    SignedWithoutCertificate,
    #[error(
        "the metadata's signature does not verify with the configured metadata signing certificate"
    )]
    BadSignature,
    #[error("the metadata signing certificate is not a PEM certificate: {0}")]
    BadSigningCertificate(String),
}

/// An AssertionConsumerService.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs {
    pub binding: String,
    pub location: String,
    pub index: usize,
    pub is_default: bool,
}

/// What Leerpoort uses of an SP's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpMetadata {
    pub entity_id: String,
    /// HTTP-POST AssertionConsumerServices only (the only binding Leerpoort answers with).
    pub acs: Vec<Acs>,
    /// The SingleLogoutService with the HTTP-Redirect binding, if any: (Location,
    /// ResponseLocation or Location).
    pub slo: Option<(String, String)>,
    /// Certificates (DER) that verify the SP's signatures.
    pub signing_certs: Vec<Vec<u8>>,
    /// Certificates (DER) to encrypt assertions for; the first one is used.
    pub encryption_certs: Vec<Vec<u8>>,
    pub authn_requests_signed: bool,
    /// The NameID formats the SP lists.
    pub name_id_formats: Vec<String>,
}

impl SpMetadata {
    /// The ACS a request names (by URL or index), or the default one. `None`: not in the
    /// metadata — nothing may be sent.
    pub fn acs_for(&self, url: Option<&str>, index: Option<usize>) -> Option<&Acs> {
        match (url, index) {
            (Some(u), _) => self.acs.iter().find(|a| a.location == u),
            (None, Some(i)) => self.acs.iter().find(|a| a.index == i),
            (None, None) => self
                .acs
                .iter()
                .find(|a| a.is_default)
                .or_else(|| self.acs.iter().min_by_key(|a| a.index)),
        }
    }

    /// Does the SP want transient NameIDs (it lists transient and not persistent)?
    pub fn prefers_transient(&self) -> bool {
        self.name_id_formats.iter().any(|f| f == TRANSIENT)
            && !self.name_id_formats.iter().any(|f| f == PERSISTENT)
    }

    /// The host of the first ACS: the default pairwise sector.
    pub fn acs_host(&self) -> Option<String> {
        self.acs
            .first()
            .and_then(|a| url::Url::parse(&a.location).ok())
            .and_then(|u| u.host_str().map(str::to_string))
    }
}

fn endpoint_ok(u: &str) -> bool {
    match url::Url::parse(u) {
        Ok(url) => {
            let host = url.host_str().unwrap_or("");
            let local = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
            url.fragment().is_none()
                && !host.is_empty()
                && (url.scheme() == "https" || url.scheme() == "http" && local)
        }
        Err(_) => false,
    }
}

fn cert_der(b64: &str) -> Result<Vec<u8>, MetadataError> {
    let clean: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD
        .decode(clean)
        .map_err(|e| MetadataError::BadCertificate(e.to_string()))?;
    let cert = openssl::x509::X509::from_der(&der)
        .map_err(|e| MetadataError::BadCertificate(e.to_string()))?;
    let key = cert
        .public_key()
        .map_err(|e| MetadataError::BadCertificate(e.to_string()))?;
    if key.rsa().is_err() {
        return Err(MetadataError::BadCertificate(
            "only RSA keys are supported".into(),
        ));
    }
    Ok(der)
}

/// Does the document hold an XML signature anywhere?
pub fn is_signed(xml: &str) -> bool {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                if e.local_name().as_ref() == b"Signature" {
                    return true;
                }
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// A metadata signing certificate (PEM), checked; returned as PEM again.
pub fn signing_certificate(pem: &str) -> Result<String, MetadataError> {
    let cert = openssl::x509::X509::from_pem(pem.as_bytes())
        .map_err(|e| MetadataError::BadSigningCertificate(e.to_string()))?;
    let pem = cert
        .to_pem()
        .map_err(|e| MetadataError::BadSigningCertificate(e.to_string()))?;
    String::from_utf8(pem).map_err(|e| MetadataError::BadSigningCertificate(e.to_string()))
}

/// The metadata document as Leerpoort keeps it, read and checked. With a metadata signing
/// certificate (PEM) the document must carry exactly one signature, made with that
/// certificate's key over the whole `EntityDescriptor`; what is kept is only what the
/// signature covers. Without one, a signed document is refused (it cannot be verified).
pub fn verified(
    xml: &str,
    signing_cert: Option<&str>,
) -> Result<(String, SpMetadata), MetadataError> {
    if xml.len() > METADATA_MAX {
        return Err(MetadataError::TooLarge);
    }
    check_untrusted(xml).map_err(|e| MetadataError::Unsafe(e.to_string()))?;
    let signed = is_signed(xml);
    let document = match (signing_cert, signed) {
        (None, false) => xml.to_string(),
        (None, true) => return Err(MetadataError::SignedWithoutCertificate),
        (Some(_), false) => return Err(MetadataError::Unsigned),
        (Some(pem), true) => {
            let cert = openssl::x509::X509::from_pem(pem.as_bytes())
                .and_then(|c| c.to_der())
                .map_err(|e| MetadataError::BadSigningCertificate(e.to_string()))?;
            super::signature::verified_xml(xml, &[cert]).map_err(|_| MetadataError::BadSignature)?
        }
    };
    let meta = parse(&document)?;
    Ok((document, meta))
}

/// The `entityID` of `ed`, trimmed, when it is not empty.
pub(super) fn entity_id_of(ed: &EntityDescriptor) -> Option<String> {
    ed.entity_id
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
}

/// Whether a role descriptor's `protocolSupportEnumeration` names SAML 2.0.
pub(super) fn supports_saml2(enumeration: Option<&str>) -> bool {
    enumeration.is_some_and(|p| p.split_ascii_whitespace().any(|x| x == PROTOCOL))
}

/// Read and check an SP's metadata.
pub fn parse(xml: &str) -> Result<SpMetadata, MetadataError> {
    if xml.len() > METADATA_MAX {
        return Err(MetadataError::TooLarge);
    }
    check_untrusted(xml).map_err(|e| MetadataError::Unsafe(e.to_string()))?;
    let ed = EntityDescriptor::from_str(super::xml::without_declaration(xml))
        .map_err(|e| MetadataError::Malformed(e.to_string()))?;
    let entity_id = entity_id_of(&ed)
        .filter(|e| e.len() <= 1024 && !e.chars().any(char::is_control))
        .ok_or(MetadataError::NoEntityId)?;
    let sps: Vec<_> = ed
        .sp_sso_descriptors
        .unwrap_or_default()
        .into_iter()
        .filter(|d| supports_saml2(d.protocol_support_enumeration.as_deref()))
        .collect();
    let [sp] = sps.as_slice() else {
        return Err(MetadataError::NoSpDescriptor);
    };
    let mut acs = Vec::new();
    for a in &sp.assertion_consumer_services {
        if a.binding != HTTP_POST {
            continue;
        }
        if !endpoint_ok(&a.location) {
            return Err(MetadataError::BadEndpoint(a.location.clone()));
        }
        acs.push(Acs {
            binding: a.binding.clone(),
            location: a.location.clone(),
            index: a.index,
            is_default: a.is_default.unwrap_or(false),
        });
    }
    if acs.is_empty() {
        return Err(MetadataError::NoPostAcs);
    }
    let mut slo = None;
    for e in sp.single_logout_services.iter().flatten() {
        if e.binding == HTTP_REDIRECT && slo.is_none() {
            let response = e.response_location.clone().unwrap_or(e.location.clone());
            for u in [&e.location, &response] {
                if !endpoint_ok(u) {
                    return Err(MetadataError::BadEndpoint(u.clone()));
                }
            }
            slo = Some((e.location.clone(), response));
        }
    }
    let mut signing_certs = Vec::new();
    let mut encryption_certs = Vec::new();
    for kd in sp.key_descriptors.iter().flatten() {
        let certs = kd
            .key_info
            .x509_data
            .as_ref()
            .map(|d| d.certificates.clone())
            .unwrap_or_default();
        for c in certs {
            let der = cert_der(&c)?;
            match kd.key_use.as_deref() {
                Some("signing") => signing_certs.push(der),
                Some("encryption") => encryption_certs.push(der),
                None => {
                    signing_certs.push(der.clone());
                    encryption_certs.push(der);
                }
                Some(other) => {
                    return Err(MetadataError::BadCertificate(format!(
                        "KeyDescriptor use '{other}' is not signing or encryption"
                    )))
                }
            }
        }
    }
    let authn_requests_signed = sp.authn_requests_signed.unwrap_or(false);
    if authn_requests_signed && signing_certs.is_empty() {
        return Err(MetadataError::NoSigningKey);
    }
    Ok(SpMetadata {
        entity_id,
        acs,
        slo,
        signing_certs,
        encryption_certs,
        authn_requests_signed,
        name_id_formats: sp.name_id_formats.clone().unwrap_or_default(),
    })
}
