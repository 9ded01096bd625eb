//! The HTTP-Redirect and HTTP-POST bindings (SAML Bindings §3.4, §3.5): decoding with caps,
//! query signatures in and out.

use std::io::{Read as _, Write as _};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;

use super::error::Refusal;
use super::names::RSA_SHA256;
use super::{ENCODED_MAX, INFLATED_MAX};

fn b64(s: &str) -> Result<Vec<u8>, Refusal> {
    if s.len() > ENCODED_MAX {
        return Err(Refusal::TooLarge);
    }
    let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(clean).map_err(|_| Refusal::Encoding)
}

/// Inflate at most `max` bytes; more is a deflate bomb.
pub fn inflate_capped(data: &[u8], max: usize) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    DeflateDecoder::new(data)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| Refusal::Encoding)?;
    if out.len() > max {
        return Err(Refusal::TooLarge);
    }
    Ok(out)
}

/// A Redirect-binding message: base64, then DEFLATE, capped at [`INFLATED_MAX`].
pub fn decode_redirect(value: &str) -> Result<String, Refusal> {
    let raw = b64(value)?;
    let xml = inflate_capped(&raw, INFLATED_MAX)?;
    String::from_utf8(xml).map_err(|_| Refusal::Encoding)
}

/// A POST-binding message: base64 only.
pub fn decode_post(value: &str) -> Result<String, Refusal> {
    let raw = b64(value)?;
    if raw.len() > INFLATED_MAX {
        return Err(Refusal::TooLarge);
    }
    String::from_utf8(raw).map_err(|_| Refusal::Encoding)
}

/// A query's raw (still percent-encoded) parameters, in order.
pub fn raw_pairs(query: &str) -> Vec<(&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect()
}

/// Verify a Redirect-binding query signature (Bindings §3.4.4.1) against any of `certs`
/// (DER). The signed octets are the parameters exactly as they arrived: `SAMLRequest` (or
/// `SAMLResponse`), `RelayState` if present, `SigAlg`. Only RSA-SHA256 is accepted.
pub fn verify_query(query: &str, message_param: &str, certs: &[Vec<u8>]) -> Result<(), Refusal> {
    let pairs = raw_pairs(query);
    let get = |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let (Some(msg), Some(alg), Some(sig)) = (get(message_param), get("SigAlg"), get("Signature"))
    else {
        return Err(Refusal::SignatureMissing);
    };
    let alg_value = url::form_urlencoded::parse(format!("a={alg}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if alg_value != RSA_SHA256 {
        return Err(Refusal::BadSignature);
    }
    let sig_value = url::form_urlencoded::parse(format!("a={sig}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let signature = STANDARD
        .decode(sig_value.trim())
        .map_err(|_| Refusal::BadSignature)?;
    let mut signed = format!("{message_param}={msg}");
    if let Some(rs) = get("RelayState") {
        signed.push_str(&format!("&RelayState={rs}"));
    }
    signed.push_str(&format!("&SigAlg={alg}"));
    for der in certs {
        let Ok(cert) = openssl::x509::X509::from_der(der) else {
            continue;
        };
        let Ok(key) = cert.public_key() else { continue };
        let Ok(mut v) = openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &key)
        else {
            continue;
        };
        if v.update(signed.as_bytes()).is_ok() && v.verify(&signature).unwrap_or(false) {
            return Ok(());
        }
    }
    Err(Refusal::BadSignature)
}

/// A Redirect-binding URL for `xml` to `endpoint`, signed with `sign` (RSA-SHA256).
pub fn encode_redirect(
    endpoint: &str,
    message_param: &str,
    xml: &str,
    relay_state: Option<&str>,
    sign: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
) -> Option<String> {
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
    enc.write_all(xml.as_bytes()).ok()?;
    let deflated = enc.finish().ok()?;
    let q = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let mut query = format!("{message_param}={}", q(&STANDARD.encode(deflated)));
    if let Some(rs) = relay_state {
        query.push_str(&format!("&RelayState={}", q(rs)));
    }
    query.push_str(&format!("&SigAlg={}", q(RSA_SHA256)));
    let sig = sign(query.as_bytes())?;
    query.push_str(&format!("&Signature={}", q(&STANDARD.encode(sig))));
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    Some(format!("{endpoint}{sep}{query}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn deflate_bombs_are_capped() {
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
        enc.write_all(&vec![b'a'; INFLATED_MAX * 16]).unwrap();
        let bomb = enc.finish().unwrap();
        assert!(bomb.len() < ENCODED_MAX);
        assert_eq!(
            decode_redirect(&STANDARD.encode(&bomb)),
            Err(Refusal::TooLarge)
        );
        assert_eq!(decode_redirect("not base64!"), Err(Refusal::Encoding));
        assert_eq!(
            decode_redirect(&"A".repeat(ENCODED_MAX + 4)),
            Err(Refusal::TooLarge)
        );
    }

    #[test]
    fn redirect_round_trip() {
        let url = encode_redirect(
            "https://sp.example/slo",
            "SAMLRequest",
            "<a/>",
            Some("rs"),
            |_| Some(vec![1, 2, 3]),
        )
        .unwrap();
        let query = url.split_once('?').unwrap().1;
        let pairs = raw_pairs(query);
        assert_eq!(pairs[0].0, "SAMLRequest");
        let value: String = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "SAMLRequest")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(decode_redirect(&value).unwrap(), "<a/>");
    }
}
