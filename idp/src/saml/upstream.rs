//! SAML upstream identity providers (network environments): their metadata.

use std::str::FromStr as _;

use samael::metadata::EntityDescriptor;

use super::sp::MetadataError;
use super::xml::{check_untrusted, without_declaration};
use super::METADATA_MAX;

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
    super::upstream_sp::idp_metadata(xml).map_err(|e| MetadataError::Malformed(e.to_string()))?;
    Ok(entity_id)
}
