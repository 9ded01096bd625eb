//! `EncryptedAssertion` (SAML Core §2.3.4, XML Encryption 1.1): the signed assertion under a
//! fresh AES-128-GCM key, the key transported with RSA-OAEP (MGF1-SHA1) to the SP's
//! encryption certificate from its metadata.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use openssl::rsa::Padding;
use openssl::symm::{encrypt_aead, Cipher};
use ring::rand::{SecureRandom as _, SystemRandom};

/// `EncryptedData` algorithm.
pub const AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
/// `EncryptedKey` algorithm.
pub const RSA_OAEP: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";

/// Why an assertion could not be encrypted: the step that failed (for the server's log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("encrypting an assertion: {what}")]
pub struct EncryptError {
    pub what: &'static str,
}

fn random_bytes<const N: usize>() -> Result<[u8; N], EncryptError> {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| EncryptError { what: "random" })?;
    Ok(buf)
}

/// Encrypt `assertion` (signed XML, no declaration) for the SP whose certificate is
/// `cert_der`.
pub fn encrypted_assertion(assertion: &str, cert_der: &[u8]) -> Result<String, EncryptError> {
    let fail = |what: &'static str| EncryptError { what };
    let cert = openssl::x509::X509::from_der(cert_der).map_err(|_| fail("certificate"))?;
    let rsa = cert
        .public_key()
        .and_then(|k| k.rsa())
        .map_err(|_| fail("not an RSA key"))?;
    let key = random_bytes::<16>()?;
    let iv = random_bytes::<12>()?;
    let mut tag = [0u8; 16];
    let ct = encrypt_aead(
        Cipher::aes_128_gcm(),
        &key,
        Some(&iv),
        &[],
        assertion.as_bytes(),
        &mut tag,
    )
    .map_err(|_| fail("AES-GCM"))?;
    let mut data = Vec::with_capacity(iv.len() + ct.len() + tag.len());
    data.extend_from_slice(&iv);
    data.extend_from_slice(&ct);
    data.extend_from_slice(&tag);
    let mut wrapped = vec![0u8; rsa.size() as usize];
    let n = rsa
        .public_encrypt(&key, &mut wrapped, Padding::PKCS1_OAEP)
        .map_err(|_| fail("RSA-OAEP"))?;
    wrapped.truncate(n);
    Ok(format!(
        concat!(
            "<saml:EncryptedAssertion>",
            r#"<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">"#,
            r#"<xenc:EncryptionMethod Algorithm="{data_alg}"/>"#,
            r#"<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">"#,
            "<xenc:EncryptedKey>",
            r#"<xenc:EncryptionMethod Algorithm="{key_alg}"><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></xenc:EncryptionMethod>"#,
            "<xenc:CipherData><xenc:CipherValue>{key}</xenc:CipherValue></xenc:CipherData>",
            "</xenc:EncryptedKey>",
            "</ds:KeyInfo>",
            "<xenc:CipherData><xenc:CipherValue>{data}</xenc:CipherValue></xenc:CipherData>",
            "</xenc:EncryptedData>",
            "</saml:EncryptedAssertion>"
        ),
        data_alg = AES128_GCM,
        key_alg = RSA_OAEP,
        key = STANDARD.encode(&wrapped),
        data = STANDARD.encode(&data),
    ))
}
