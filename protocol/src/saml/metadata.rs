//! Building Leerpoort's own metadata, unsigned, with a signature template: as identity
//! provider (for service providers) and as service provider (for network environments).
//! The server signs it and says where it is served.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::names::{HTTP_POST, HTTP_REDIRECT, PERSISTENT, PROTOCOL, TRANSIENT};
use super::xml::{esc, instant, signature_template};
use super::METADATA_VALID_SECS;

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

/// An `EntityDescriptor` of `entity_id` with ID `id`, valid for [`METADATA_VALID_SECS`] from
/// `now`, with a signature template naming `signer` (base64 DER), around its one role
/// descriptor `role`.
fn entity_descriptor(entity_id: &str, id: &str, signer: &str, now: i64, role: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="{id}" entityID="{entity}" validUntil="{until}">"#,
            "{sig}",
            "{role}",
            r#"</md:EntityDescriptor>"#
        ),
        id = id,
        entity = esc(entity_id),
        until = instant(now + METADATA_VALID_SECS),
        sig = signature_template(id, signer),
        role = role,
    )
}

/// The Shibboleth metadata extension that names the scopes an IdP may assert.
pub const SHIBMD: &str = "urn:mace:shibboleth:metadata:1.0";

/// The IdP's unsigned metadata: entity ID `entity_id`, the SSO endpoint `sso` (HTTP-Redirect
/// and HTTP-POST), the SLO endpoint `slo` (HTTP-Redirect), a signature template naming
/// `signer` (base64 DER, the metadata-signing certificate), a signing key for each of
/// `certs` (DER, active first). `scope` is the scope of the `pairwise-id` values: SPs such as
/// Shibboleth drop a scoped attribute whose scope the IdP's metadata does not list.
#[allow(clippy::too_many_arguments)]
pub fn idp_metadata_xml(
    entity_id: &str,
    sso: &str,
    slo: &str,
    id: &str,
    signer: &str,
    certs: &[Vec<u8>],
    scope: &str,
    now: i64,
) -> String {
    let (_, keys) = signing_keys(certs);
    let role = format!(
        concat!(
            r#"<md:IDPSSODescriptor protocolSupportEnumeration="{proto}" WantAuthnRequestsSigned="false">"#,
            r#"<md:Extensions><shibmd:Scope xmlns:shibmd="{shibmd}" regexp="false">{scope}</shibmd:Scope></md:Extensions>"#,
            "{keys}",
            r#"<md:SingleLogoutService Binding="{redirect}" Location="{slo}"/>"#,
            r#"<md:NameIDFormat>{persistent}</md:NameIDFormat>"#,
            r#"<md:NameIDFormat>{transient}</md:NameIDFormat>"#,
            r#"<md:SingleSignOnService Binding="{redirect}" Location="{sso}"/>"#,
            r#"<md:SingleSignOnService Binding="{post}" Location="{sso}"/>"#,
            r#"</md:IDPSSODescriptor>"#,
        ),
        proto = PROTOCOL,
        shibmd = SHIBMD,
        scope = esc(scope),
        keys = keys,
        redirect = HTTP_REDIRECT,
        post = HTTP_POST,
        slo = esc(slo),
        sso = esc(sso),
        persistent = PERSISTENT,
        transient = TRANSIENT,
    );
    entity_descriptor(entity_id, id, signer, now, &role)
}

/// Leerpoort's SP metadata, unsigned, with a signature template: entity ID `entity_id`, the
/// ACS `acs` (HTTP-POST), the SLO endpoint `slo` (HTTP-Redirect), a signing key for each of
/// `certs` (DER, active first; the active one signs).
pub fn sp_metadata_xml(
    entity_id: &str,
    acs: &str,
    slo: &str,
    id: &str,
    certs: &[Vec<u8>],
    now: i64,
) -> String {
    let (active, keys) = signing_keys(certs);
    let role = format!(
        concat!(
            r#"<md:SPSSODescriptor protocolSupportEnumeration="{proto}" AuthnRequestsSigned="true" WantAssertionsSigned="true">"#,
            "{keys}",
            r#"<md:SingleLogoutService Binding="{redirect}" Location="{slo}"/>"#,
            r#"<md:AssertionConsumerService Binding="{post}" Location="{acs}" index="0" isDefault="true"/>"#,
            r#"</md:SPSSODescriptor>"#,
        ),
        proto = PROTOCOL,
        keys = keys,
        post = HTTP_POST,
        acs = esc(acs),
        redirect = HTTP_REDIRECT,
        slo = esc(slo),
    );
    entity_descriptor(entity_id, id, &active, now, &role)
}
