//! The `Response` (SAML Core §3.3.3, Profiles §4.1.4.2): an `Assertion` signed on its own,
//! optionally encrypted for the SP, inside a `Response` that is signed too. Both signatures
//! are RSA-SHA256 over a SHA-256 digest with exclusive canonicalisation, so the signed
//! assertion stays valid inside the response.
//!
//! The XML is built by `protocol::saml::response` (what the assertion carries is described
//! there); this module gives it the attributes the broker released (Entree-style names), the
//! keys that sign it, and the SP's certificate to encrypt it for.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use claims::ClaimSet;
use protocol::saml::response::{assertion_xml, authn_context, response_xml, Assertion};

use super::names::{ATTRNAME_BASIC, ATTRNAME_URI, PAIRWISE_ID, SUCCESS};
use super::xml::without_declaration;
use super::{encrypt, entity_id, new_id, SamlError};
use crate::app::AppState;
use crate::keys::KeyStore;

pub use protocol::saml::response::{NameIdFormat, SignIn};

/// Everything a successful response says.
#[derive(Debug, Clone)]
pub struct Issue<'a> {
    pub sign_in: SignIn<'a>,
    pub claims: &'a ClaimSet,
    /// How the user signed in (`pwd`, `pin`, `pic`, `fed`).
    pub amr: &'a [String],
    /// The SP's encryption certificate (DER), if it has one.
    pub encrypt_for: Option<&'a [u8]>,
}

/// The attributes, Entree-style names (docs/integrate-saml.md). Only what the claim set holds: the
/// broker has already left out what the school does not release.
pub fn attributes(
    claims: &ClaimSet,
    pairwise_scope: Option<&str>,
) -> Vec<(String, String, Vec<String>)> {
    let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut basic = |name: &str, values: Vec<String>| {
        if !values.is_empty() {
            out.push((name.to_string(), ATTRNAME_BASIC.to_string(), values));
        }
    };
    if let Some(e) = &claims.eckid {
        basic("eckId", vec![e.as_str().to_string()]);
    }
    basic(
        "nlEduPersonHomeOrganizationBranchId",
        vec![claims.brin6.to_string()],
    );
    basic(
        "nlEduPersonHomeOrganizationId",
        vec![claims.brin6.brin4().to_string()],
    );
    basic(
        "eduPersonAffiliation",
        vec![if claims.role.is_pupil() {
            "student".to_string()
        } else {
            "employee".to_string()
        }],
    );
    basic("instellingRef", vec![claims.instelling_ref.to_string()]);
    basic("role", vec![claims.role.to_string()]);
    basic("loginContext", vec![claims.login_context.to_string()]);
    if let Some(groups) = &claims.groups {
        basic("groups", groups.iter().map(|g| g.key.clone()).collect());
        basic(
            "groupNames",
            groups.iter().map(|g| g.name.clone()).collect(),
        );
    }
    if let Some(levels) = &claims.niveau {
        basic(
            "niveau",
            levels.iter().map(|j| j.get().to_string()).collect(),
        );
    }
    if let Some(g) = &claims.given_name {
        basic("givenName", vec![g.clone()]);
    }
    if let Some(f) = &claims.family_name {
        basic("sn", vec![f.clone()]);
    }
    if let Some(n) = &claims.name {
        basic("displayName", vec![n.clone()]);
    }
    if let Some(m) = &claims.email {
        basic("mail", vec![m.clone()]);
    }
    if let Some(scope) = pairwise_scope {
        out.push((
            PAIRWISE_ID.to_string(),
            ATTRNAME_URI.to_string(),
            vec![format!("{}@{scope}", claims.sub.as_str())],
        ));
    }
    out
}

/// The scope of `pairwise-id` values: the issuer's host.
pub fn pairwise_scope(state: &AppState) -> String {
    state.config.issuer_host().to_string()
}

/// Sign `unsigned` (one element with its signature template) and return the signed element
/// alone, to embed in a `Response` or to encrypt: xmlsec writes an XML declaration before it
/// and a newline after it, and an `EncryptedAssertion` must decrypt to exactly one element
/// (Shibboleth refuses anything else: "Decryption did not result in a single element").
fn signed_element(keys: &dyn KeyStore, unsigned: &str) -> Result<String, SamlError> {
    let signed = keys
        .sign_saml_xml(unsigned)
        .map_err(|_| SamlError::Responder)?;
    Ok(without_declaration(&signed).trim_end().to_string())
}

fn active_cert(state: &AppState, now: i64) -> Result<String, SamlError> {
    state
        .keys
        .active_saml_certificate(now)
        .map(|der| STANDARD.encode(der))
        .map_err(|_| SamlError::Responder)
}

/// A signed successful `Response`, base64-encoded for the POST binding.
pub fn success(state: &AppState, issue: &Issue<'_>, now: i64) -> Result<String, SamlError> {
    let issuer = state.config.issuer.as_str();
    let cert = active_cert(state, now)?;
    let name_id = match issue.sign_in.format {
        NameIdFormat::Persistent => issue.claims.sub.as_str().to_string(),
        NameIdFormat::Transient => new_id()?,
    };
    let assertion_id = new_id()?;
    let idp = entity_id(issuer);
    let scope = pairwise_scope(state);
    let attributes = attributes(
        issue.claims,
        match issue.sign_in.format {
            NameIdFormat::Persistent => None,
            NameIdFormat::Transient => Some(scope.as_str()),
        },
    );
    let assertion = assertion_xml(
        &Assertion {
            idp_entity_id: &idp,
            id: &assertion_id,
            cert_b64: &cert,
            sign_in: issue.sign_in,
            name_id: &name_id,
            authn_context: authn_context(issue.amr, state.config.is_https()),
            attributes: &attributes,
        },
        now,
    );
    let signed_assertion = signed_element(state.keys.as_ref(), &assertion)?;
    let inner = match issue.encrypt_for {
        Some(cert_der) => {
            encrypt::encrypted_assertion(&signed_assertion, cert_der).map_err(|e| {
                tracing::error!(what = e.what, "encrypting an assertion");
                SamlError::Responder
            })?
        }
        None => signed_assertion,
    };
    let response_id = new_id()?;
    let response = response_xml(
        &idp,
        &response_id,
        &cert,
        issue.sign_in.acs,
        issue.sign_in.in_response_to,
        (SUCCESS, None),
        None,
        &inner,
        now,
    );
    let signed = state
        .keys
        .sign_saml_xml(&response)
        .map_err(|_| SamlError::Responder)?;
    Ok(STANDARD.encode(signed.as_bytes()))
}

/// A signed error `Response` (no assertion), base64-encoded for the POST binding.
pub fn failure(
    state: &AppState,
    acs: &str,
    in_response_to: Option<&str>,
    error: &SamlError,
    now: i64,
) -> Result<String, SamlError> {
    let issuer = state.config.issuer.as_str();
    let cert = active_cert(state, now)?;
    let (top, second) = error.status();
    let id = new_id()?;
    let xml = response_xml(
        &entity_id(issuer),
        &id,
        &cert,
        acs,
        in_response_to,
        (&top, second.as_deref()),
        error.message().as_deref(),
        "",
        now,
    );
    let signed = state
        .keys
        .sign_saml_xml(&xml)
        .map_err(|_| SamlError::Responder)?;
    Ok(STANDARD.encode(signed.as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::xml::signature_template;
    use super::*;
    use crate::keys::FileKeyStore;

    /// What the SP sees after decrypting an `EncryptedAssertion` made for `key`'s certificate.
    fn decrypt(encrypted: &str, key: &openssl::rsa::Rsa<openssl::pkey::Private>) -> String {
        let values: Vec<&str> = encrypted
            .split("<xenc:CipherValue>")
            .skip(1)
            .map(|v| v.split("</xenc:CipherValue>").next().unwrap())
            .collect();
        let wrapped = STANDARD.decode(values[0]).unwrap();
        let data = STANDARD.decode(values[1]).unwrap();
        let mut aes = vec![0u8; key.size() as usize];
        let n = key
            .private_decrypt(&wrapped, &mut aes, openssl::rsa::Padding::PKCS1_OAEP)
            .unwrap();
        let (iv, rest) = data.split_at(12);
        let (ct, tag) = rest.split_at(rest.len() - 16);
        let plain = openssl::symm::decrypt_aead(
            openssl::symm::Cipher::aes_128_gcm(),
            &aes[..n],
            Some(iv),
            &[],
            ct,
            tag,
        )
        .unwrap();
        String::from_utf8(plain).unwrap()
    }

    fn sp_certificate() -> (openssl::rsa::Rsa<openssl::pkey::Private>, Vec<u8>) {
        use openssl::x509::{X509Builder, X509NameBuilder};
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let pkey = openssl::pkey::PKey::from_rsa(rsa.clone()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "sp.test").unwrap();
        let name = name.build();
        let mut b = X509Builder::new().unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&pkey).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        b.sign(&pkey, openssl::hash::MessageDigest::sha256())
            .unwrap();
        (rsa, b.build().to_der().unwrap())
    }

    #[test]
    fn an_encrypted_assertion_decrypts_to_exactly_one_element() {
        let dir = tempfile::tempdir().unwrap();
        let keys = FileKeyStore::open_or_init(dir.path(), "localhost", 1_000).unwrap();
        let cert = STANDARD.encode(keys.active_saml_certificate(1_000).unwrap());
        let unsigned = format!(
            concat!(
                r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="2026-12-06T00:00:00Z">"#,
                "<saml:Issuer>http://localhost/saml/metadata</saml:Issuer>{}",
                "</saml:Assertion>"
            ),
            signature_template("_a1", &cert)
        );
        let signed = signed_element(&keys, &unsigned).unwrap();
        let (sp_key, sp_cert) = sp_certificate();
        let plain = decrypt(
            &encrypt::encrypted_assertion(&signed, &sp_cert).unwrap(),
            &sp_key,
        );
        // One element: it starts with its start tag and ends with its end tag, with no
        // declaration, whitespace or text around it.
        assert!(plain.starts_with("<saml:Assertion "), "{plain:?}");
        assert!(plain.ends_with("</saml:Assertion>"), "{plain:?}");
        assert_eq!(plain.matches("<saml:Assertion ").count(), 1, "{plain:?}");
        assert!(super::super::xml::check_untrusted(&plain).is_ok());
    }
}
