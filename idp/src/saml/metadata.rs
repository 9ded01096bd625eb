//! `/saml/metadata`: the IdP's metadata, signed with the metadata-signing key (which `keys
//! rotate` does not change: SPs pin its certificate). It names the entity ID, every published
//! signing certificate (the active one and, after `keys rotate`, the next one, so SPs trust
//! it before it signs), the SSO endpoint for HTTP-Redirect and HTTP-POST, the SLO endpoint,
//! the NameID formats, the `shibmd:Scope` of the `pairwise-id` values, and `validUntil`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::names::{HTTP_POST, HTTP_REDIRECT, PERSISTENT, PROTOCOL, TRANSIENT};
use super::xml::{esc, instant, signature_template, without_declaration};
use super::{entity_id, new_id, paths, SamlError, METADATA_VALID_SECS};
use crate::app::AppState;
use crate::keys::KeyStore as _;

/// For metadata of Leerpoort's: the active certificate (base64, for the signature template)
/// and a signing `KeyDescriptor` for each of `certs` (DER, active first).
pub fn signing_keys(certs: &[Vec<u8>]) -> (String, String) {
    let active = certs
        .first()
        .map(|c| STANDARD.encode(c))
        .unwrap_or_default();
    let keys = certs
        .iter()
        .map(|c| {
            format!(
                r#"<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
                STANDARD.encode(c)
            )
        })
        .collect();
    (active, keys)
}

/// The Shibboleth metadata extension that names the scopes an IdP may assert.
pub const SHIBMD: &str = "urn:mace:shibboleth:metadata:1.0";

/// The unsigned metadata with a signature template naming `signer` (base64 DER, the
/// metadata-signing certificate), for `certs` (DER, active first). `scope`
/// is the scope of the `pairwise-id` values (`response::pairwise_scope`): SPs such as
/// Shibboleth drop a scoped attribute whose scope the IdP's metadata does not list.
pub fn unsigned(
    issuer: &str,
    id: &str,
    signer: &str,
    certs: &[Vec<u8>],
    scope: &str,
    now: i64,
) -> String {
    let (_, keys) = signing_keys(certs);
    let sso = esc(&format!("{issuer}{}", paths::SSO));
    let slo = esc(&format!("{issuer}{}", paths::SLO));
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="{id}" entityID="{entity}" validUntil="{until}">"#,
            "{sig}",
            r#"<md:IDPSSODescriptor protocolSupportEnumeration="{proto}" WantAuthnRequestsSigned="false">"#,
            r#"<md:Extensions><shibmd:Scope xmlns:shibmd="{shibmd}" regexp="false">{scope}</shibmd:Scope></md:Extensions>"#,
            "{keys}",
            r#"<md:SingleLogoutService Binding="{redirect}" Location="{slo}"/>"#,
            r#"<md:NameIDFormat>{persistent}</md:NameIDFormat>"#,
            r#"<md:NameIDFormat>{transient}</md:NameIDFormat>"#,
            r#"<md:SingleSignOnService Binding="{redirect}" Location="{sso}"/>"#,
            r#"<md:SingleSignOnService Binding="{post}" Location="{sso}"/>"#,
            r#"</md:IDPSSODescriptor>"#,
            r#"</md:EntityDescriptor>"#
        ),
        id = id,
        entity = esc(&entity_id(issuer)),
        until = instant(now + METADATA_VALID_SECS),
        sig = signature_template(id, signer),
        proto = PROTOCOL,
        shibmd = SHIBMD,
        scope = esc(scope),
        keys = keys,
        redirect = HTTP_REDIRECT,
        post = HTTP_POST,
        slo = slo,
        sso = sso,
        persistent = PERSISTENT,
        transient = TRANSIENT,
    )
}

/// The signed metadata.
pub fn signed(state: &AppState, now: i64) -> Result<String, SamlError> {
    let certs: Vec<Vec<u8>> = state
        .keys
        .saml_certificates(now)
        .into_iter()
        .map(|(_, der)| der)
        .collect();
    if certs.is_empty() {
        return Err(SamlError::Responder);
    }
    let id = new_id()?;
    let scope = super::response::pairwise_scope(state);
    let signer = state
        .keys
        .saml_metadata_certificate()
        .map(|der| STANDARD.encode(der))
        .map_err(|_| SamlError::Responder)?;
    let xml = unsigned(&state.config.issuer, &id, &signer, &certs, &scope, now);
    let signed = state
        .keys
        .sign_saml_metadata_xml(&xml)
        .map_err(|_| SamlError::Responder)?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        without_declaration(&signed)
    ))
}
