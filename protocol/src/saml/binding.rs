//! The HTTP-Redirect and HTTP-POST bindings (SAML Bindings §3.4, §3.5): decoding with caps,
//! query signatures in and out.

use std::io::{Read as _, Write as _};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;

use super::names::RSA_SHA256;
use super::Refusal;
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

/// One parameter of a Redirect-binding query: the octets as they arrived (what a query
/// signature covers) and their decoded value (what is processed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParam {
    pub raw: String,
    pub value: String,
}

/// A Redirect-binding query (SAML Bindings §3.4.4), parsed once. Every SAML endpoint that
/// takes this binding reads the message, `RelayState` and the signature from here, so the
/// octets a signature covers are the very ones whose decoded values are used.
///
/// Refused: a parameter name that appears twice, a parameter name that is percent-encoded
/// (or holds `+`), and a query that carries both `SAMLRequest` and `SAMLResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectQuery {
    /// `SAMLRequest` or `SAMLResponse`.
    pub message_param: &'static str,
    pub message: QueryParam,
    pub relay_state: Option<QueryParam>,
    pub sig_alg: Option<QueryParam>,
    pub signature: Option<QueryParam>,
}

/// The decoded value of a raw (`application/x-www-form-urlencoded`) query value.
fn decode_value(raw: &str) -> String {
    url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl RedirectQuery {
    /// Parse `query` (raw, as it arrived), accepting only the message parameters in
    /// `accepted` (`SAMLRequest`, `SAMLResponse`).
    pub fn parse(query: &str, accepted: &[&'static str]) -> Result<Self, Refusal> {
        let mut seen: Vec<&str> = Vec::new();
        let mut message: Option<(&'static str, QueryParam)> = None;
        let mut relay_state = None;
        let mut sig_alg = None;
        let mut signature = None;
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (name, raw) = part.split_once('=').unwrap_or((part, ""));
            if name.contains(['%', '+']) {
                return Err(Refusal::Malformed(
                    "a parameter name is percent-encoded".into(),
                ));
            }
            if seen.contains(&name) {
                return Err(Refusal::Malformed(format!("{name} is repeated")));
            }
            seen.push(name);
            let param = QueryParam {
                raw: raw.to_string(),
                value: decode_value(raw),
            };
            match name {
                "SAMLRequest" | "SAMLResponse" => {
                    if message.is_some() {
                        return Err(Refusal::Malformed(
                            "both SAMLRequest and SAMLResponse".into(),
                        ));
                    }
                    let Some(accepted) = accepted.iter().find(|a| **a == name) else {
                        return Err(Refusal::Malformed(format!("{name} is not expected here")));
                    };
                    message = Some((accepted, param));
                }
                "RelayState" => relay_state = Some(param),
                "SigAlg" => sig_alg = Some(param),
                "Signature" => signature = Some(param),
                _ => {}
            }
        }
        let (message_param, message) = message.ok_or(Refusal::Missing)?;
        Ok(Self {
            message_param,
            message,
            relay_state,
            sig_alg,
            signature,
        })
    }

    /// Does the query carry a signature (`Signature` or `SigAlg`)?
    pub fn is_signed(&self) -> bool {
        self.signature.is_some() || self.sig_alg.is_some()
    }

    /// `RelayState`, decoded; an empty one is none.
    pub fn relay_state(&self) -> Option<String> {
        self.relay_state
            .as_ref()
            .map(|r| r.value.clone())
            .filter(|r| !r.is_empty())
    }

    /// The octets the signature covers (Bindings §3.4.4.1): the message, `RelayState` if
    /// present, `SigAlg`, each exactly as it arrived.
    fn signed_octets(&self, sig_alg: &QueryParam) -> String {
        let mut signed = format!("{}={}", self.message_param, self.message.raw);
        if let Some(rs) = &self.relay_state {
            signed.push_str(&format!("&RelayState={}", rs.raw));
        }
        signed.push_str(&format!("&SigAlg={}", sig_alg.raw));
        signed
    }

    /// Verify the query signature against any of `certs` (DER). Only RSA-SHA256 is accepted.
    pub fn verify(&self, certs: &[Vec<u8>]) -> Result<(), Refusal> {
        let (Some(alg), Some(sig)) = (&self.sig_alg, &self.signature) else {
            return Err(Refusal::SignatureMissing);
        };
        if alg.value != RSA_SHA256 {
            return Err(Refusal::BadSignature);
        }
        let signature = STANDARD
            .decode(sig.value.trim())
            .map_err(|_| Refusal::BadSignature)?;
        let signed = self.signed_octets(alg);
        for der in certs {
            let Ok(cert) = openssl::x509::X509::from_der(der) else {
                continue;
            };
            let Ok(key) = cert.public_key() else { continue };
            let Ok(mut v) =
                openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &key)
            else {
                continue;
            };
            if v.update(signed.as_bytes()).is_ok() && v.verify(&signature).unwrap_or(false) {
                return Ok(());
            }
        }
        Err(Refusal::BadSignature)
    }
}

/// Verify a Redirect-binding query signature (Bindings §3.4.4.1) against any of `certs`
/// (DER): the query is parsed as [`RedirectQuery`] (so repeated and percent-encoded
/// parameter names are refused) and its `message_param` must be the message.
pub fn verify_query(query: &str, message_param: &str, certs: &[Vec<u8>]) -> Result<(), Refusal> {
    let parsed = RedirectQuery::parse(query, &["SAMLRequest", "SAMLResponse"])?;
    if parsed.message_param != message_param {
        return Err(Refusal::Missing);
    }
    parsed.verify(certs)
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
        let parsed = RedirectQuery::parse(query, &["SAMLRequest"]).unwrap();
        assert_eq!(parsed.message_param, "SAMLRequest");
        assert_eq!(parsed.relay_state().as_deref(), Some("rs"));
        assert!(parsed.is_signed());
        assert_eq!(decode_redirect(&parsed.message.value).unwrap(), "<a/>");
    }

    #[test]
    fn a_query_is_parsed_once_and_strictly() {
        let ok = RedirectQuery::parse(
            "SAMLRequest=a%2Bb&RelayState=r+s&SigAlg=x&Signature=y&other=1",
            &["SAMLRequest"],
        )
        .unwrap();
        assert_eq!(ok.message.raw, "a%2Bb");
        assert_eq!(ok.message.value, "a+b");
        assert_eq!(ok.relay_state().as_deref(), Some("r s"));
        assert_eq!(
            ok.signed_octets(ok.sig_alg.as_ref().unwrap()),
            "SAMLRequest=a%2Bb&RelayState=r+s&SigAlg=x"
        );
        for bad in [
            "SAMLRequest=a&SAMLRequest=b",
            "SAMLRequest=a&SAML%52equest=b",
            "SAML%52equest=b",
            "SAMLRequest=a&Relay%53tate=b",
            "SAMLRequest=a&RelayState=b&RelayState=c",
            "SAMLRequest=a&SigAlg=b&SigAlg=c",
            "SAMLRequest=a&Signature=b&Signature=c",
            "SAMLRequest=a&Relay+State=b",
            "SAMLRequest=a&SAMLResponse=b",
            "SAMLResponse=a",
        ] {
            assert!(
                matches!(
                    RedirectQuery::parse(bad, &["SAMLRequest"]),
                    Err(Refusal::Malformed(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            RedirectQuery::parse("RelayState=x", &["SAMLRequest"]),
            Err(Refusal::Missing)
        );
    }
}
