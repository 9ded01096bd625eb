//! Verifying an enveloped XML signature (xmlsec, through samael) and keeping only what it
//! covers.

use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode,
};

use super::Refusal;

const ALLOWED_ALGS: [AllowedSignatureAlgorithm; 3] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
];

/// Verify an enveloped signature with xmlsec and return only what it covers (the signed
/// request, canonicalised), so nothing unsigned can be smuggled in next to it.
pub fn verified_xml(xml: &str, certs: &[Vec<u8>]) -> Result<String, Refusal> {
    let certs: Vec<CertificateDer> = certs.iter().cloned().map(CertificateDer::from).collect();
    Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        xml,
        &certs,
        ReduceMode::PreDigest,
        Some(&ALLOWED_ALGS),
    )
    .map_err(|_| Refusal::BadSignature)
}
