//! SAML upstream identity providers (network environments): their metadata.

use std::str::FromStr as _;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use samael::metadata::EntityDescriptor;

use super::names::HTTP_REDIRECT;
use super::sp::{entity_id_of, supports_saml2, MetadataError};
use super::xml::{check_untrusted, without_declaration};
use super::METADATA_MAX;

/// Why a network environment's IdP metadata cannot be used for signing in there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the network environment's metadata cannot be used: {0}")]
pub struct IdpMetadataError(pub String);

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

fn cert_der(b64: &str) -> Result<Vec<u8>, IdpMetadataError> {
    let clean: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD
        .decode(clean)
        .map_err(|e| IdpMetadataError(e.to_string()))?;
    openssl::x509::X509::from_der(&der).map_err(|e| IdpMetadataError(e.to_string()))?;
    Ok(der)
}

/// Read an upstream IdP's metadata: entity ID, SSO endpoint (HTTP-Redirect), signing
/// certificates.
pub fn idp_metadata(xml: &str) -> Result<IdpMetadata, IdpMetadataError> {
    let bad = |m: &str| IdpMetadataError(m.to_string());
    if xml.len() > METADATA_MAX {
        return Err(bad("too large"));
    }
    check_untrusted(xml).map_err(|e| bad(&e.to_string()))?;
    let ed =
        EntityDescriptor::from_str(without_declaration(xml)).map_err(|e| bad(&e.to_string()))?;
    let entity_id = entity_id_of(&ed).ok_or_else(|| bad("no entityID"))?;
    let idps: Vec<_> = ed
        .idp_sso_descriptors
        .unwrap_or_default()
        .into_iter()
        .filter(|d| supports_saml2(d.protocol_support_enumeration.as_deref()))
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

/// Check an upstream IdP's metadata and return its entity ID: well-formed, no DTD or
/// entities, one `IDPSSODescriptor` with a SingleSignOnService for HTTP-Redirect and a
/// signing certificate.
pub fn idp_entity_id(xml: &str) -> Result<String, MetadataError> {
    if xml.len() > METADATA_MAX {
        return Err(MetadataError::TooLarge);
    }
    check_untrusted(xml).map_err(|e| MetadataError::Unsafe(e.to_string()))?;
    let ed = EntityDescriptor::from_str(without_declaration(xml))
        .map_err(|e| MetadataError::Malformed(e.to_string()))?;
    if ed.idp_sso_descriptors.as_ref().is_none_or(Vec::is_empty) {
        return Err(MetadataError::Malformed(
            "no IDPSSODescriptor: this is not an identity provider's metadata".into(),
        ));
    }
    let entity_id = ed
        .entity_id
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty() && e.len() <= 1024 && !e.chars().any(char::is_control))
        .ok_or(MetadataError::NoEntityId)?;
    // What signing in there needs: an SSO endpoint for HTTP-Redirect and a signing key.
    idp_metadata(xml).map_err(|e| MetadataError::Malformed(e.to_string()))?;
    Ok(entity_id)
}
