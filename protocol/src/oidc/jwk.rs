//! Public JSON Web Keys (RFC 7517) as Leerpoort publishes them, their RFC 7638 thumbprints
//! (which are the key ids), and finding a key in a JWKS.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

fn b64u(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// The public part of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKey<'a> {
    /// RSA: the modulus and the exponent, big-endian (leading zeros are stripped).
    Rsa { n: &'a [u8], e: &'a [u8] },
    /// P-256: the uncompressed point (`0x04 ‖ x ‖ y`, 65 bytes).
    P256 { point: &'a [u8] },
    /// Ed25519: the 32-byte public key.
    Ed25519 { x: &'a [u8] },
}

/// Why a public key cannot be a JWK.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected EC point")]
pub struct BadPoint;

fn strip_zeros(v: &[u8]) -> &[u8] {
    let first = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    &v[first..]
}

/// A key's `kty` and the members that define it (name, value).
type Members = (&'static str, Vec<(&'static str, String)>);

/// The JWK members that define the key, base64url: `(kty, members)`.
fn members(key: PublicKey<'_>) -> Result<Members, BadPoint> {
    Ok(match key {
        PublicKey::Rsa { n, e } => (
            "RSA",
            vec![("e", b64u(strip_zeros(e))), ("n", b64u(strip_zeros(n)))],
        ),
        PublicKey::P256 { point } => {
            if point.len() != 65 {
                return Err(BadPoint);
            }
            (
                "EC",
                vec![
                    ("crv", "P-256".to_string()),
                    ("x", b64u(&point[1..33])),
                    ("y", b64u(&point[33..65])),
                ],
            )
        }
        PublicKey::Ed25519 { x } => ("OKP", vec![("crv", "Ed25519".to_string()), ("x", b64u(x))]),
    })
}

/// The RFC 7638 thumbprint of a public key: SHA-256 of its required members in
/// lexicographic order, without spaces, base64url.
pub fn thumbprint(key: PublicKey<'_>) -> Result<String, BadPoint> {
    let (kty, mut m) = members(key)?;
    m.push(("kty", kty.to_string()));
    m.sort_by_key(|(k, _)| *k);
    let canonical = m
        .iter()
        .map(|(k, v)| format!(r#""{k}":"{v}""#))
        .collect::<Vec<_>>()
        .join(",");
    Ok(b64u(
        ring::digest::digest(&ring::digest::SHA256, format!("{{{canonical}}}").as_bytes()).as_ref(),
    ))
}

/// The published JWK of a signing key: `kty`, `use` `sig`, `alg`, `kid` and the key's members.
pub fn public_jwk(key: PublicKey<'_>, alg: &str, kid: &str) -> Result<Value, BadPoint> {
    let (kty, m) = members(key)?;
    let mut jwk = json!({"kty": kty, "use": "sig", "alg": alg, "kid": kid});
    for (k, v) in m {
        jwk[k] = Value::String(v);
    }
    Ok(jwk)
}

/// The verification key with id `kid` in a JWKS (`{"keys": [...]}`).
pub fn decoding_key(jwks: &Value, kid: &str) -> Option<jsonwebtoken::DecodingKey> {
    let jwk_json = jwks["keys"]
        .as_array()?
        .iter()
        .find(|k| k["kid"] == kid)?
        .clone();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk_json).ok()?;
    jsonwebtoken::DecodingKey::from_jwk(&jwk).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_rfc_7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let n = URL_SAFE_NO_PAD
            .decode(concat!(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1",
                "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4",
                "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO",
                "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF",
                "Cur-kEgU8awapJzKnqDKgw",
            ))
            .unwrap();
        let e = URL_SAFE_NO_PAD.decode("AQAB").unwrap();
        assert_eq!(
            thumbprint(PublicKey::Rsa { n: &n, e: &e }).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_published_jwk_has_the_members_of_its_type() {
        let point = [4u8; 65];
        let jwk = public_jwk(PublicKey::P256 { point: &point }, "ES256", "k1").unwrap();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["use"], "sig");
        assert!(jwk["x"].is_string() && jwk["y"].is_string());
        assert!(public_jwk(
            PublicKey::P256 {
                point: &point[..64]
            },
            "ES256",
            "k"
        )
        .is_err());
    }
}
