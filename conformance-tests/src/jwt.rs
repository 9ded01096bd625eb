//! JWTs as a relying party handles them: decode, verify against the server's JWKS with
//! `jsonwebtoken` (independently of `openidconnect`), and sign client assertions with keys the
//! test makes.

use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use serde_json::{json, Value};

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn segment(raw: &str, i: usize) -> Value {
    let part = raw
        .split('.')
        .nth(i)
        .unwrap_or_else(|| panic!("not a JWS (three dot-separated parts): {raw:?}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("JWT part {i} is not base64url: {e}: {raw:?}"));
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("JWT part {i} is not JSON: {e}: {raw:?}"))
}

/// The JOSE header, unverified.
pub fn header(raw: &str) -> Value {
    segment(raw, 0)
}

/// The claims, unverified.
pub fn payload(raw: &str) -> Value {
    segment(raw, 1)
}

/// Whether `s` looks like a compact JWS.
pub fn is_jws(s: &str) -> bool {
    s.split('.').count() == 3
}

fn algorithm(alg: &str) -> Algorithm {
    match alg {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        other => panic!("a JWS algorithm the tests do not accept: {other:?}"),
    }
}

/// Verify the signature of `raw` with the key its `kid` names in `jwks` (a JWK Set as JSON),
/// requiring `alg` to be one of `algs`. Checks `exp` (when present) and nothing else; returns
/// the claims. Panics with the reason when it does not verify.
pub fn verify(raw: &str, jwks: &Value, algs: &[&str]) -> Value {
    try_verify(raw, jwks, algs).unwrap_or_else(|e| panic!("{e}"))
}

/// As [`verify`], returning why it does not verify instead.
pub fn try_verify(raw: &str, jwks: &Value, algs: &[&str]) -> Result<Value, String> {
    if !is_jws(raw) {
        return Err(format!("not a JWS (three dot-separated parts): {raw:?}"));
    }
    let h = header(raw);
    let alg = h["alg"]
        .as_str()
        .ok_or_else(|| format!("JWS header without alg: {h}"))?;
    if !algs.contains(&alg) {
        return Err(format!(
            "JWS signed with {alg}, expected one of {algs:?} (header {h})"
        ));
    }
    let kid = h["kid"]
        .as_str()
        .ok_or_else(|| format!("JWS header without kid (the JWKS has several keys): {h}"))?;
    let keys = jwks["keys"]
        .as_array()
        .ok_or_else(|| format!("JWKS without a keys array: {jwks}"))?;
    let matching: Vec<&Value> = keys.iter().filter(|k| k["kid"] == kid).collect();
    if matching.len() != 1 {
        return Err(format!(
            "expected exactly one key with kid {kid:?} in the JWKS, found {}: {jwks}",
            matching.len()
        ));
    }
    let jwk: Jwk = serde_json::from_value(matching[0].clone())
        .map_err(|e| format!("JWK {kid:?} not understood: {e}: {}", matching[0]))?;
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|e| format!("JWK {kid:?} not usable: {e}: {}", matching[0]))?;
    let mut validation = Validation::new(algorithm(alg));
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = payload(raw).get("exp").is_some();
    validation.leeway = 5;
    jsonwebtoken::decode::<Value>(raw, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| format!("JWS {kid:?} ({alg}) does not verify with the JWKS: {e}"))
}

/// `at_hash`/`c_hash` of `value` for a token signed with `alg` (OIDC Core §3.1.3.6).
pub fn half_hash(alg: &str, value: &str) -> String {
    let digest: Vec<u8> = match alg {
        "RS256" | "ES256" | "PS256" => openssl::sha::sha256(value.as_bytes()).to_vec(),
        "RS384" | "ES384" => openssl::sha::sha384(value.as_bytes()).to_vec(),
        "RS512" | "EdDSA" => openssl::sha::sha512(value.as_bytes()).to_vec(),
        other => panic!("no hash known for {other}"),
    };
    b64(&digest[..digest.len() / 2])
}

/// A key pair a test client signs with (`private_key_jwt`, request objects).
pub struct ClientKey {
    pub alg: String,
    pub kid: String,
    encoding: EncodingKey,
    public_jwk: Value,
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl ClientKey {
    /// A fresh key for `alg` (`RS256` or `ES256`).
    pub fn generate(alg: &str) -> Self {
        Self::generate_with_kid(alg, &format!("ct-{}", uuid::Uuid::new_v4().simple()))
    }

    /// A fresh key for `alg` that claims to be `kid` (to impersonate another key).
    pub fn generate_with_kid(alg: &str, kid: &str) -> Self {
        let kid = kid.to_string();
        match alg {
            "ES256" => {
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
                let ec = EcKey::generate(&group).expect("generating a P-256 key");
                let mut ctx = BigNumContext::new().expect("bn ctx");
                let mut x = openssl::bn::BigNum::new().expect("bn");
                let mut y = openssl::bn::BigNum::new().expect("bn");
                ec.public_key()
                    .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
                    .expect("coordinates");
                let pem = PKey::from_ec_key(ec)
                    .and_then(|k| k.private_key_to_pem_pkcs8())
                    .expect("PEM");
                Self {
                    alg: alg.into(),
                    kid: kid.clone(),
                    encoding: EncodingKey::from_ec_pem(&pem).expect("EC encoding key"),
                    public_jwk: json!({
                        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                        "x": b64(&x.to_vec_padded(32).expect("x")),
                        "y": b64(&y.to_vec_padded(32).expect("y")),
                    }),
                }
            }
            "RS256" => {
                let rsa = Rsa::generate(2048).expect("generating an RSA key");
                let public_jwk = json!({
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                    "n": b64(&rsa.n().to_vec()), "e": b64(&rsa.e().to_vec()),
                });
                let pem = rsa.private_key_to_pem().expect("PEM");
                Self {
                    alg: alg.into(),
                    kid,
                    encoding: EncodingKey::from_rsa_pem(&pem).expect("RSA encoding key"),
                    public_jwk,
                }
            }
            other => panic!("the tests make RS256 or ES256 keys, not {other}"),
        }
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        self.public_jwk.clone()
    }

    /// `{"keys": [jwk]}`.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk()] })
    }

    /// Sign `claims` as a compact JWS with this key's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(algorithm(&self.alg));
        h.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&h, claims, &self.encoding).expect("signing a JWT")
    }
}

/// An unsigned JWT (`alg: none`), as OIDC Core §6.1 allows for request objects.
pub fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(serde_json::to_string(claims).expect("JSON").as_bytes())
    )
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs(),
    )
    .expect("time fits")
}
