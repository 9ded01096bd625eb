//! `/saml/metadata`: the IdP's metadata, signed with the metadata-signing key (which `keys
//! rotate` does not change: SPs pin its certificate). It names the entity ID, every published
//! signing certificate (the active one and, after `keys rotate`, the next one, so SPs trust
//! it before it signs), the SSO endpoint for HTTP-Redirect and HTTP-POST, the SLO endpoint,
//! the NameID formats, the `shibmd:Scope` of the `pairwise-id` values, and `validUntil`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use protocol::saml::metadata::idp_metadata_xml;

use super::xml::without_declaration;
use super::{entity_id, new_id, paths, published_certificates, SamlError};
use crate::app::AppState;

/// The signed metadata.
pub fn signed(state: &AppState, now: i64) -> Result<String, SamlError> {
    let certs = published_certificates(state, now).ok_or(SamlError::Responder)?;
    let id = new_id()?;
    let scope = super::response::pairwise_scope(state);
    let signer = state
        .keys
        .saml_metadata_certificate()
        .map(|der| STANDARD.encode(der))
        .map_err(|_| SamlError::Responder)?;
    let issuer = state.config.issuer.as_str();
    let xml = idp_metadata_xml(
        &entity_id(issuer),
        &format!("{issuer}{}", paths::SSO),
        &format!("{issuer}{}", paths::SLO),
        &id,
        &signer,
        &certs,
        &scope,
        now,
    );
    let signed = state
        .keys
        .sign_saml_metadata_xml(&xml)
        .map_err(|_| SamlError::Responder)?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        without_declaration(&signed)
    ))
}
