//! Client authentication at the token, revocation and introspection endpoints, the part that
//! needs no storage: what the request presented (`client_secret_basic`, `client_secret_post`,
//! `private_key_jwt` per RFC 7523, or `none`), which one method that is, and the checks on a
//! client assertion once the client's key is known. Finding the client, checking its secret,
//! fetching its keys and refusing a replayed assertion are the caller's.

use std::collections::HashMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Header};
use serde_json::Value;

use super::OidcError;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn invalid(why: &str) -> OidcError {
    OidcError::invalid_client(why)
}

/// What the request presented.
#[derive(Debug, Default, Clone)]
pub struct Presented {
    /// From `Authorization: Basic`.
    pub basic: Option<(String, String)>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
}

/// The one authentication method a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method<'a> {
    /// `client_secret_basic` or `client_secret_post`: the client id and the secret.
    Secret { client_id: &'a str, secret: &'a str },
    /// `private_key_jwt`: the assertion, and the `client_id` sent beside it, if any.
    Assertion {
        client_id: Option<&'a str>,
        assertion: &'a str,
    },
    /// `none`: a public client names itself.
    None { client_id: &'a str },
}

impl Presented {
    /// Read the credentials from the `Authorization` header value and the form.
    pub fn from_request(
        authorization: Option<&str>,
        form: &HashMap<String, String>,
    ) -> Result<Self, OidcError> {
        let basic = match authorization {
            Some(h) if h.len() > 6 && h[..6].eq_ignore_ascii_case("basic ") => {
                let raw = STANDARD
                    .decode(h[6..].trim())
                    .map_err(|_| invalid("malformed Basic credentials"))?;
                let raw =
                    String::from_utf8(raw).map_err(|_| invalid("malformed Basic credentials"))?;
                let (id, secret) = raw
                    .split_once(':')
                    .ok_or_else(|| invalid("malformed Basic credentials"))?;
                // RFC 6749 §2.3.1: both parts are form-urlencoded.
                let dec = |s: &str| {
                    url::form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                Some((dec(id), dec(secret)))
            }
            _ => None,
        };
        let get = |k: &str| form.get(k).filter(|v| !v.is_empty()).cloned();
        Ok(Self {
            basic,
            client_id: get("client_id"),
            client_secret: get("client_secret"),
            assertion_type: get("client_assertion_type"),
            assertion: get("client_assertion"),
        })
    }

    /// Was `Authorization: Basic` used (then a 401 carries `WWW-Authenticate`)?
    pub fn used_basic(&self) -> bool {
        self.basic.is_some()
    }

    /// The method used: exactly one may be.
    pub fn method(&self) -> Result<Method<'_>, OidcError> {
        let methods = usize::from(self.basic.is_some())
            + usize::from(self.client_secret.is_some())
            + usize::from(self.assertion.is_some());
        if methods > 1 {
            return Err(OidcError::InvalidRequest(
                "use exactly one client authentication method".into(),
            ));
        }
        if let Some((id, secret)) = &self.basic {
            if self.client_id.as_ref().is_some_and(|c| c != id) {
                return Err(OidcError::InvalidRequest(
                    "client_id does not match the credentials".into(),
                ));
            }
            return Ok(Method::Secret {
                client_id: id,
                secret,
            });
        }
        if let Some(secret) = &self.client_secret {
            let client_id = self
                .client_id
                .as_deref()
                .ok_or_else(|| invalid("client_id is missing"))?;
            return Ok(Method::Secret { client_id, secret });
        }
        if let Some(assertion) = &self.assertion {
            if self.assertion_type.as_deref() != Some(ASSERTION_TYPE) {
                return Err(OidcError::InvalidRequest(
                    "client_assertion_type must be jwt-bearer".into(),
                ));
            }
            return Ok(Method::Assertion {
                client_id: self.client_id.as_deref(),
                assertion,
            });
        }
        let client_id = self
            .client_id
            .as_deref()
            .ok_or_else(|| invalid("no client authentication"))?;
        Ok(Method::None { client_id })
    }
}

/// A client assertion before its signature is checked: its header and who it says it is
/// from (`iss`), which must be the `client_id` sent beside it, if any.
pub fn assertion_issuer(
    assertion: &str,
    client_id: Option<&str>,
) -> Result<(Header, String), OidcError> {
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| invalid("malformed client assertion"))?;
    let unverified: Value = {
        let payload = assertion
            .split('.')
            .nth(1)
            .ok_or_else(|| invalid("malformed client assertion"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| invalid("malformed client assertion"))?;
        serde_json::from_slice(&bytes).map_err(|_| invalid("malformed client assertion"))?
    };
    let iss = unverified["iss"]
        .as_str()
        .ok_or_else(|| invalid("assertion has no iss"))?;
    if client_id.is_some_and(|c| c != iss) {
        return Err(invalid("client_id does not match the assertion"));
    }
    Ok((header, iss.to_string()))
}

/// What a verified client assertion leaves to check: its expiry and its `jti`, to be used
/// once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub exp: i64,
    pub jti: String,
}

/// RFC 7523 §3: signed by `key` with `alg`, `iss` = `sub` = `client_id`, `aud` one of
/// `audiences` (the token endpoint or the issuer), not expired (five seconds of leeway),
/// living at most an hour, with a `jti`.
pub fn verify_assertion(
    assertion: &str,
    key: &DecodingKey,
    alg: Algorithm,
    client_id: &str,
    audiences: &[&str],
    now: i64,
) -> Result<VerifiedAssertion, OidcError> {
    let mut v = jsonwebtoken::Validation::new(alg);
    v.set_audience(audiences);
    v.set_issuer(&[client_id]);
    v.sub = Some(client_id.to_string());
    v.validate_exp = false;
    v.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    let data = jsonwebtoken::decode::<Value>(assertion, key, &v)
        .map_err(|_| invalid("the client assertion does not verify"))?;
    let exp = data.claims["exp"]
        .as_i64()
        .ok_or_else(|| invalid("assertion has no exp"))?;
    if exp <= now - 5 {
        return Err(invalid("the client assertion has expired"));
    }
    if exp > now + 3600 {
        return Err(invalid("the client assertion lives too long"));
    }
    let jti = data.claims["jti"]
        .as_str()
        .ok_or_else(|| invalid("assertion has no jti"))?;
    Ok(VerifiedAssertion {
        exp,
        jti: jti.to_string(),
    })
}

/// A client's verification key in `set`: by `kid`, or without one the first supported key
/// whose type fits `alg`.
pub fn pick_key(set: &JwkSet, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
    let jwk = match kid {
        Some(k) => set.find(k),
        None => set
            .keys
            .iter()
            .find(|j| j.is_supported() && alg_fits(j, alg)),
    }?;
    DecodingKey::from_jwk(jwk).ok()
}

fn alg_fits(j: &Jwk, alg: Algorithm) -> bool {
    use Algorithm as A;
    use AlgorithmParameters as P;
    matches!(
        (&j.algorithm, alg),
        (
            P::RSA(_),
            A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512
        ) | (P::EllipticCurve(_), A::ES256 | A::ES384)
            | (P::OctetKeyPair(_), A::EdDSA)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn basic_credentials_are_form_decoded_and_one_method_only() {
        let auth = format!("Basic {}", STANDARD.encode("my%20client:s%3Acret"));
        let p = Presented::from_request(Some(&auth), &form(&[])).unwrap();
        assert_eq!(
            p.method().unwrap(),
            Method::Secret {
                client_id: "my client",
                secret: "s:cret"
            }
        );
        let both = Presented::from_request(Some(&auth), &form(&[("client_secret", "x")])).unwrap();
        assert!(matches!(both.method(), Err(OidcError::InvalidRequest(_))));
        assert!(Presented::from_request(Some("Basic !!"), &form(&[])).is_err());
    }

    #[test]
    fn an_assertion_needs_the_jwt_bearer_type_and_a_client_id_names_a_public_client() {
        let p = Presented::from_request(None, &form(&[("client_assertion", "a.b.c")])).unwrap();
        assert!(matches!(p.method(), Err(OidcError::InvalidRequest(_))));
        let p = Presented::from_request(None, &form(&[("client_id", "pub")])).unwrap();
        assert_eq!(p.method().unwrap(), Method::None { client_id: "pub" });
        let p = Presented::from_request(None, &form(&[])).unwrap();
        assert!(matches!(p.method(), Err(OidcError::InvalidClient(_))));
    }
}
