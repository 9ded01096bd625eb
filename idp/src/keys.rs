//! Signing keys. Private keys are reachable only through the [`KeyStore`] trait, which signs
//! on the caller's behalf; HTTP code never sees a private key and `Debug` prints `<hidden>`.
//!
//! On disk (`LEERPOORT_KEYS_DIR`, default `keys/`):
//! - `keys.json` — the manifest: kid, algorithm, use, state, created, retire time;
//! - `<kid>.pem` — each private key, PKCS#8, mode 0600; `<kid>.crt.pem` — SAML certificates;
//! - `pseudonym.key` — the secret behind every pairwise `sub`; `pin-pepper.key` — the pepper
//!   for pupil PINs; `pupil-secrets.key` — seals the copies of PINs and home login codes that
//!   teachers may show. These are generated once and never rotated: changing the first would
//!   change every pseudonym publishers know, changing the second would invalidate every PIN.
//!
//! Every key is read once, when the store opens (and again at [`KeyStore::reload`] after a
//! rotation); signing never reads the disk. The keys derived from the PIN pepper (CSRF
//! tokens, device cookies, the sign-in challenge, the PIN hashes) all come from
//! [`KeyStore::derive`], one [`Purpose`] each.
//!
//! JWS keys (RS256, ES256, EdDSA): `keys rotate` makes a new key active at once and keeps the
//! previous one published in the JWKS for [`JWS_GRACE_SECS`] so tokens signed with it still
//! verify. SAML keys: `keys rotate` promotes the published *next* key to active (SPs have had
//! it in metadata since the previous rotation) and publishes a new *next* key.
//!
//! The SAML metadata is signed by a key of its own (`SAML-METADATA-RS256`), which `keys
//! rotate` leaves alone: it is the trust anchor SPs pin (its certificate, `<kid>.crt.pem`, is
//! valid for ten years), so a rotation of the signing keys never changes the key that signs
//! the metadata announcing them. A store from before this key existed adopts its active SAML
//! key as the metadata-signing key, so the certificate SPs pinned keeps verifying.

use std::collections::HashMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use broker::model::JwsAlg;
use parking_lot::RwLock;
use protocol::oidc::jwk::{public_jwk, thumbprint, PublicKey};
use protocol::oidc::jws::{compact, signing_input};
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use serde::{Deserialize, Serialize};

/// How long a rotated-out JWS key stays in the JWKS: longer than any token lives.
pub const JWS_GRACE_SECS: i64 = 2 * 24 * 3600;
/// How long a rotated-out SAML key stays in the metadata.
pub const SAML_GRACE_SECS: i64 = 14 * 24 * 3600;

/// Errors of the key store.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("keys directory {path}: {msg}")]
    Io { path: String, msg: String },
    #[error("key {kid} is malformed: {msg}")]
    Malformed { kid: String, msg: String },
    #[error("no active {0} key")]
    NoActiveKey(String),
    #[error("signing failed")]
    Sign,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> KeyError {
    KeyError::Io {
        path: path.display().to_string(),
        msg: e.to_string(),
    }
}

/// What a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyAlg {
    RS256,
    ES256,
    EdDSA,
    /// RSA-SHA256 for SAML signatures, with a self-signed certificate.
    #[serde(rename = "SAML-RS256")]
    SamlRs256,
    /// RSA-SHA256 for the signature on the SAML metadata only, with a self-signed
    /// certificate: not rotated by `keys rotate`.
    #[serde(rename = "SAML-METADATA-RS256")]
    SamlMetadataRs256,
}

impl KeyAlg {
    fn of_jws(alg: JwsAlg) -> Self {
        match alg {
            JwsAlg::RS256 => Self::RS256,
            JwsAlg::ES256 => Self::ES256,
            JwsAlg::EdDSA => Self::EdDSA,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
            Self::SamlRs256 => "SAML-RS256",
            Self::SamlMetadataRs256 => "SAML-METADATA-RS256",
        }
    }
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published, not yet used (SAML only).
    Next,
    /// Signs.
    Active,
    /// No longer signs; still published until `retire_at`.
    Previous,
    /// Neither signs nor is published.
    Retired,
}

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: KeyAlg,
    pub state: KeyState,
    pub created_at: i64,
    pub retire_at: Option<i64>,
}

impl KeyInfo {
    fn published(&self, now: i64) -> bool {
        match self.state {
            KeyState::Next | KeyState::Active => true,
            KeyState::Previous => self.retire_at.is_none_or(|t| now < t),
            KeyState::Retired => false,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    keys: Vec<KeyInfo>,
}

/// Signs with the server's keys. Implementations never hand out private keys.
pub trait KeyStore: Send + Sync + std::fmt::Debug {
    /// Sign `input` with the active key of `alg`; returns the key id and the signature in the
    /// form JWS wants (PKCS#1 v1.5 for RS256, r‖s for ES256, raw for EdDSA).
    fn sign_jws(&self, alg: JwsAlg, input: &[u8]) -> Result<(String, Vec<u8>), KeyError>;
    /// The public JWKS: every published JWS key.
    fn jwks(&self, now: i64) -> serde_json::Value;
    /// The published SAML certificates (DER), active first, with their state.
    fn saml_certificates(&self, now: i64) -> Vec<(KeyInfo, Vec<u8>)>;
    /// The manifest.
    fn list(&self) -> Vec<KeyInfo>;
    /// The kid of the active key of `alg`.
    fn active_kid(&self, alg: JwsAlg) -> Result<String, KeyError>;
    /// Sign the one `ds:Signature` template in `xml` (see `saml::xml::signature_template`)
    /// with the active SAML key, through xmlsec.
    fn sign_saml_xml(&self, xml: &str) -> Result<String, KeyError>;
    /// Sign the `ds:Signature` template of the SAML metadata with the metadata-signing key
    /// (not the key that signs messages; `keys rotate` does not change it).
    fn sign_saml_metadata_xml(&self, xml: &str) -> Result<String, KeyError>;
    /// RSA-SHA256 (PKCS#1 v1.5) with the active SAML key, for the HTTP-Redirect binding's
    /// query signature.
    fn sign_saml_redirect(&self, input: &[u8]) -> Result<Vec<u8>, KeyError>;
    /// The certificate (DER) of the metadata-signing key: the one SPs pin.
    fn saml_metadata_certificate(&self) -> Result<Vec<u8>, KeyError>;
    /// The active SAML certificate (DER): the one in every signature's `KeyInfo`.
    fn active_saml_certificate(&self, now: i64) -> Result<Vec<u8>, KeyError> {
        self.saml_certificates(now)
            .into_iter()
            .find(|(i, _)| i.state == KeyState::Active)
            .map(|(_, der)| der)
            .ok_or_else(|| KeyError::NoActiveKey("SAML".into()))
    }
    /// Re-read the manifest and keys (after `keys rotate` by another process).
    fn reload(&self, now: i64) -> Result<(), KeyError>;
    /// The key for `purpose`, derived from the PIN pepper.
    fn derive(&self, purpose: Purpose) -> Result<DerivedKey, KeyError>;
}

/// What a key derived from the PIN pepper is for. Each has a label of its own, so a key for
/// one purpose never verifies another's; the labels never change, or every cookie, linked
/// device and PIN would stop working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Pupils' PIN and picture-password hashes, and the tags of values kept out of the
    /// ephemeral store: the pepper itself.
    Pins,
    /// CSRF tokens: HMAC-SHA-256 of `leerpoort-csrf-v1` under the pepper.
    Csrf,
    /// Device cookies (linked and home devices): of `leerpoort-device-v1`.
    DeviceCookies,
    /// The sign-in challenge: of `leerpoort-challenge-v1`.
    SignInChallenge,
}

impl Purpose {
    fn label(self) -> Option<&'static [u8]> {
        match self {
            Self::Pins => None,
            Self::Csrf => Some(b"leerpoort-csrf-v1"),
            Self::DeviceCookies => Some(b"leerpoort-device-v1"),
            Self::SignInChallenge => Some(b"leerpoort-challenge-v1"),
        }
    }
}

/// A key derived for one [`Purpose`]; `Debug` prints `<hidden>`.
pub struct DerivedKey(Vec<u8>);

impl DerivedKey {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKey(<hidden>)")
    }
}

/// The secrets that are generated once and never rotated, read when the store opens.
struct Secrets {
    pseudonym: Vec<u8>,
    pin_pepper: Vec<u8>,
    pupil_secrets: Vec<u8>,
}

enum Signer {
    /// RS256 signs with AWS-LC, about twice as fast as ring for RSA-2048 (the key is read with
    /// ring as well, for its JWK).
    Rsa(aws_lc_rs::signature::RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    /// SAML keys sign XML through xmlsec with the PKCS#8 document, and the Redirect
    /// binding's query with the key pair.
    Saml {
        cert_der: Vec<u8>,
        pkcs8: Vec<u8>,
        rsa: RsaKeyPair,
    },
}

struct LoadedKey {
    info: KeyInfo,
    signer: Signer,
    jwk: Option<serde_json::Value>,
}

struct KeySet {
    keys: Vec<LoadedKey>,
    active: HashMap<KeyAlg, usize>,
}

/// The key store on a directory.
pub struct FileKeyStore {
    dir: PathBuf,
    set: RwLock<Arc<KeySet>>,
    secrets: Secrets,
    rng: SystemRandom,
    /// AWS-LC's generator, for its RSA signatures (PKCS #1 v1.5 draws nothing from it).
    aws_rng: aws_lc_rs::rand::SystemRandom,
}

impl std::fmt::Debug for FileKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKeyStore")
            .field("dir", &self.dir)
            .field("keys", &"<hidden>")
            .finish()
    }
}

fn b64u(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_decode(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    STANDARD.decode(body.trim()).ok()
}

/// Write a file atomically (temp file + rename), private to the owner.
fn write_private(path: &Path, data: &[u8]) -> Result<(), KeyError> {
    let tmp = path.with_extension("tmp");
    {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| io_err(&tmp, e))?;
        f.write_all(data).map_err(|e| io_err(&tmp, e))?;
        f.sync_all().map_err(|e| io_err(&tmp, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// A freshly generated key: PKCS#8 DER and, for SAML, the certificate DER.
struct Generated {
    pkcs8: Vec<u8>,
    cert: Option<Vec<u8>>,
}

fn generate(alg: KeyAlg, issuer_host: &str) -> Result<Generated, KeyError> {
    let gen_err = |e: &dyn std::fmt::Display| KeyError::Malformed {
        kid: "(new)".into(),
        msg: e.to_string(),
    };
    let rng = SystemRandom::new();
    match alg {
        KeyAlg::ES256 => {
            let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|e| gen_err(&e))?;
            Ok(Generated {
                pkcs8: doc.as_ref().to_vec(),
                cert: None,
            })
        }
        KeyAlg::EdDSA => {
            let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| gen_err(&e))?;
            Ok(Generated {
                pkcs8: doc.as_ref().to_vec(),
                cert: None,
            })
        }
        KeyAlg::RS256 => {
            let rsa = openssl::rsa::Rsa::generate(2048).map_err(|e| gen_err(&e))?;
            let pkey = openssl::pkey::PKey::from_rsa(rsa).map_err(|e| gen_err(&e))?;
            let der = pkey.private_key_to_pkcs8().map_err(|e| gen_err(&e))?;
            Ok(Generated {
                pkcs8: der,
                cert: None,
            })
        }
        KeyAlg::SamlRs256 | KeyAlg::SamlMetadataRs256 => {
            let rsa = openssl::rsa::Rsa::generate(2048).map_err(|e| gen_err(&e))?;
            let pkey = openssl::pkey::PKey::from_rsa(rsa).map_err(|e| gen_err(&e))?;
            let cert = self_signed_cert(&pkey, issuer_host).map_err(|e| gen_err(&e))?;
            let der = pkey.private_key_to_pkcs8().map_err(|e| gen_err(&e))?;
            Ok(Generated {
                pkcs8: der,
                cert: Some(cert),
            })
        }
    }
}

fn self_signed_cert(
    pkey: &openssl::pkey::PKey<openssl::pkey::Private>,
    host: &str,
) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::hash::MessageDigest;
    use openssl::x509::{X509Builder, X509NameBuilder};

    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", host)?;
    name.append_entry_by_text("O", "Leerpoort")?;
    let name = name.build();
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(128, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(pkey)?;
    let not_before = Asn1Time::days_from_now(0)?;
    let not_after = Asn1Time::days_from_now(3650)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    b.sign(pkey, MessageDigest::sha256())?;
    b.build().to_der()
}

fn load_key(dir: &Path, info: &KeyInfo) -> Result<LoadedKey, KeyError> {
    let path = dir.join(format!("{}.pem", info.kid));
    let pem = fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
    let malformed = |msg: String| KeyError::Malformed {
        kid: info.kid.clone(),
        msg,
    };
    let der = pem_decode(&pem).ok_or_else(|| malformed("not PEM".into()))?;
    let bad_point = |e: protocol::oidc::jwk::BadPoint| malformed(e.to_string());
    let alg = info.alg.as_str();
    let (signer, jwk) = match info.alg {
        KeyAlg::RS256 => {
            let kp = RsaKeyPair::from_pkcs8(&der).map_err(|e| malformed(e.to_string()))?;
            let jwk = rsa_public(&kp, |k| public_jwk(k, alg, &info.kid)).map_err(bad_point)?;
            let fast = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der)
                .map_err(|e| malformed(e.to_string()))?;
            (Signer::Rsa(fast), Some(jwk))
        }
        KeyAlg::ES256 => {
            let kp = EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
                &SystemRandom::new(),
            )
            .map_err(|e| malformed(e.to_string()))?;
            let point = kp.public_key().as_ref();
            let jwk = public_jwk(PublicKey::P256 { point }, alg, &info.kid).map_err(bad_point)?;
            (Signer::Ec(kp), Some(jwk))
        }
        KeyAlg::EdDSA => {
            let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                .map_err(|e| malformed(e.to_string()))?;
            let x = kp.public_key().as_ref();
            let jwk = public_jwk(PublicKey::Ed25519 { x }, alg, &info.kid).map_err(bad_point)?;
            (Signer::Ed(kp), Some(jwk))
        }
        KeyAlg::SamlRs256 | KeyAlg::SamlMetadataRs256 => {
            let cpath = dir.join(format!("{}.crt.pem", info.kid));
            let cpem = fs::read_to_string(&cpath).map_err(|e| io_err(&cpath, e))?;
            let cert_der =
                pem_decode(&cpem).ok_or_else(|| malformed("certificate is not PEM".into()))?;
            let rsa = RsaKeyPair::from_pkcs8(&der).map_err(|e| malformed(e.to_string()))?;
            let signer = Signer::Saml {
                cert_der,
                pkcs8: der,
                rsa,
            };
            (signer, None)
        }
    };
    Ok(LoadedKey {
        info: info.clone(),
        signer,
        jwk,
    })
}

/// The kid of a new key: the RFC 7638 thumbprint of its public JWK (SAML: of the certificate).
fn kid_of(alg: KeyAlg, g: &Generated) -> Result<String, KeyError> {
    let malformed = |msg: String| KeyError::Malformed {
        kid: "(new)".into(),
        msg,
    };
    Ok(match alg {
        KeyAlg::RS256 => {
            let kp = RsaKeyPair::from_pkcs8(&g.pkcs8).map_err(|e| malformed(e.to_string()))?;
            rsa_public(&kp, thumbprint).map_err(|e| malformed(e.to_string()))?
        }
        KeyAlg::ES256 => {
            let kp = EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &g.pkcs8,
                &SystemRandom::new(),
            )
            .map_err(|e| malformed(e.to_string()))?;
            let point = kp.public_key().as_ref();
            thumbprint(PublicKey::P256 { point }).map_err(|e| malformed(e.to_string()))?
        }
        KeyAlg::EdDSA => {
            let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&g.pkcs8)
                .map_err(|e| malformed(e.to_string()))?;
            let x = kp.public_key().as_ref();
            thumbprint(PublicKey::Ed25519 { x }).map_err(|e| malformed(e.to_string()))?
        }
        KeyAlg::SamlRs256 => {
            let cert = g
                .cert
                .as_deref()
                .ok_or_else(|| malformed("no certificate".into()))?;
            format!("saml-{}", &thumbprint_bytes(cert)[..16])
        }
        KeyAlg::SamlMetadataRs256 => {
            let cert = g
                .cert
                .as_deref()
                .ok_or_else(|| malformed("no certificate".into()))?;
            saml_metadata_kid(cert)
        }
    })
}

/// `f` of the RSA key pair's public key (its modulus and exponent).
fn rsa_public<T>(kp: &RsaKeyPair, f: impl FnOnce(PublicKey<'_>) -> T) -> T {
    let c = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(kp.public());
    f(PublicKey::Rsa { n: &c.n, e: &c.e })
}

fn saml_metadata_kid(cert_der: &[u8]) -> String {
    format!("saml-metadata-{}", &thumbprint_bytes(cert_der)[..16])
}

fn thumbprint_bytes(b: &[u8]) -> String {
    b64u(ring::digest::digest(&ring::digest::SHA256, b).as_ref())
}

const ALL_ALGS: [KeyAlg; 5] = [
    KeyAlg::RS256,
    KeyAlg::ES256,
    KeyAlg::EdDSA,
    KeyAlg::SamlRs256,
    KeyAlg::SamlMetadataRs256,
];

impl FileKeyStore {
    /// Open the store on `dir`, generating what is missing (first start): one active key per
    /// algorithm, the pseudonym secret and the PIN pepper.
    pub fn open_or_init(dir: &Path, issuer_host: &str, now: i64) -> Result<Self, KeyError> {
        fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let mut manifest = read_manifest(dir)?;
        let mut changed = adopt_metadata_key(dir, &mut manifest, now)?;
        for alg in ALL_ALGS {
            if !manifest
                .keys
                .iter()
                .any(|k| k.alg == alg && k.state == KeyState::Active)
            {
                add_key(dir, &mut manifest, alg, KeyState::Active, issuer_host, now)?;
                changed = true;
            }
        }
        if changed {
            write_manifest(dir, &manifest)?;
        }
        for secret in ["pseudonym.key", "pin-pepper.key", "pupil-secrets.key"] {
            let p = dir.join(secret);
            if !p.exists() {
                let bytes = broker::secrets::random_bytes::<32>().map_err(|e| io_err(&p, e))?;
                write_private(&p, STANDARD.encode(bytes).as_bytes())?;
            }
        }
        let secrets = Secrets {
            pseudonym: read_secret(dir, "pseudonym.key")?,
            pin_pepper: read_secret(dir, "pin-pepper.key")?,
            pupil_secrets: read_secret(dir, "pupil-secrets.key")?,
        };
        let store = Self {
            dir: dir.to_path_buf(),
            set: RwLock::new(Arc::new(KeySet {
                keys: Vec::new(),
                active: HashMap::new(),
            })),
            secrets,
            rng: SystemRandom::new(),
            aws_rng: aws_lc_rs::rand::SystemRandom::new(),
        };
        store.reload(now)?;
        Ok(store)
    }

    /// The secret behind pairwise pseudonyms (never rotated).
    pub fn pseudonym_secret(&self) -> Result<Vec<u8>, KeyError> {
        Ok(self.secrets.pseudonym.clone())
    }

    /// The key that seals pupils' PINs and picture passwords for their teachers to show.
    pub fn pupil_secrets_key(&self) -> Result<Vec<u8>, KeyError> {
        Ok(self.secrets.pupil_secrets.clone())
    }

    /// The pepper for pupil PINs and picture passwords (never rotated); what
    /// [`KeyStore::derive`] derives from.
    fn pin_pepper(&self) -> Result<Vec<u8>, KeyError> {
        Ok(self.secrets.pin_pepper.clone())
    }

    /// The active key of `alg`, as loaded.
    fn active(&self, alg: KeyAlg) -> Result<(Arc<KeySet>, usize), KeyError> {
        let set = self.set.read().clone();
        let idx = *set
            .active
            .get(&alg)
            .ok_or_else(|| KeyError::NoActiveKey(alg.as_str().into()))?;
        Ok((set, idx))
    }

    /// Sign the XML template with the active key of `alg` (a SAML key), through xmlsec.
    fn sign_xml(&self, alg: KeyAlg, xml: &str, what: &str) -> Result<String, KeyError> {
        use samael::crypto::{Crypto, CryptoProvider as _};
        let (set, idx) = self.active(alg)?;
        let Signer::Saml { pkcs8, .. } = &set.keys[idx].signer else {
            return Err(KeyError::NoActiveKey(alg.as_str().into()));
        };
        Crypto::sign_xml(xml, pkcs8).map_err(|e| {
            tracing::error!(error = %e, "{what}");
            KeyError::Sign
        })
    }
}

fn read_secret(dir: &Path, name: &str) -> Result<Vec<u8>, KeyError> {
    let p = dir.join(name);
    let s = fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
    STANDARD.decode(s.trim()).map_err(|e| KeyError::Malformed {
        kid: name.into(),
        msg: e.to_string(),
    })
}

/// `keys rotate`: new active JWS keys (the old ones stay published for the grace period);
/// for SAML the published next key becomes active and a new next key is published.
pub fn rotate(dir: &Path, issuer_host: &str, now: i64) -> Result<Vec<KeyInfo>, KeyError> {
    let mut manifest = read_manifest(dir)?;
    retire_expired(&mut manifest, now);
    for alg in [KeyAlg::RS256, KeyAlg::ES256, KeyAlg::EdDSA] {
        demote_active(&mut manifest, alg, now + JWS_GRACE_SECS);
        add_key(dir, &mut manifest, alg, KeyState::Active, issuer_host, now)?;
    }
    let next = manifest
        .keys
        .iter()
        .position(|k| k.alg == KeyAlg::SamlRs256 && k.state == KeyState::Next);
    if let Some(i) = next {
        demote_active(&mut manifest, KeyAlg::SamlRs256, now + SAML_GRACE_SECS);
        manifest.keys[i].state = KeyState::Active;
    }
    add_key(
        dir,
        &mut manifest,
        KeyAlg::SamlRs256,
        KeyState::Next,
        issuer_host,
        now,
    )?;
    write_manifest(dir, &manifest)?;
    Ok(manifest.keys)
}

/// The manifest, for `keys list`.
pub fn list(dir: &Path, now: i64) -> Result<Vec<KeyInfo>, KeyError> {
    let mut m = read_manifest(dir)?;
    retire_expired(&mut m, now);
    Ok(m.keys)
}

/// A store from before the metadata-signing key: its active SAML key signed the metadata, and
/// SPs may have pinned that certificate. Copy that key as the metadata-signing key so the
/// pinned certificate keeps verifying the metadata after `keys rotate`. Returns whether the
/// manifest changed.
fn adopt_metadata_key(dir: &Path, m: &mut Manifest, now: i64) -> Result<bool, KeyError> {
    if m.keys.iter().any(|k| k.alg == KeyAlg::SamlMetadataRs256) {
        return Ok(false);
    }
    let Some(active) = m
        .keys
        .iter()
        .find(|k| k.alg == KeyAlg::SamlRs256 && k.state == KeyState::Active)
    else {
        return Ok(false);
    };
    let read = |name: String| -> Result<String, KeyError> {
        let p = dir.join(name);
        fs::read_to_string(&p).map_err(|e| io_err(&p, e))
    };
    let key_pem = read(format!("{}.pem", active.kid))?;
    let cert_pem = read(format!("{}.crt.pem", active.kid))?;
    let cert = pem_decode(&cert_pem).ok_or_else(|| KeyError::Malformed {
        kid: active.kid.clone(),
        msg: "certificate is not PEM".into(),
    })?;
    let kid = saml_metadata_kid(&cert);
    write_private(&dir.join(format!("{kid}.pem")), key_pem.as_bytes())?;
    write_private(&dir.join(format!("{kid}.crt.pem")), cert_pem.as_bytes())?;
    m.keys.push(KeyInfo {
        kid,
        alg: KeyAlg::SamlMetadataRs256,
        state: KeyState::Active,
        created_at: now,
        retire_at: None,
    });
    Ok(true)
}

fn retire_expired(m: &mut Manifest, now: i64) {
    for k in &mut m.keys {
        if k.state == KeyState::Previous && k.retire_at.is_some_and(|t| t <= now) {
            k.state = KeyState::Retired;
        }
    }
}

fn demote_active(m: &mut Manifest, alg: KeyAlg, retire_at: i64) {
    for k in m
        .keys
        .iter_mut()
        .filter(|k| k.alg == alg && k.state == KeyState::Active)
    {
        k.state = KeyState::Previous;
        k.retire_at = Some(retire_at);
    }
}

fn add_key(
    dir: &Path,
    m: &mut Manifest,
    alg: KeyAlg,
    state: KeyState,
    issuer_host: &str,
    now: i64,
) -> Result<(), KeyError> {
    let g = generate(alg, issuer_host)?;
    let kid = kid_of(alg, &g)?;
    write_private(
        &dir.join(format!("{kid}.pem")),
        pem_encode("PRIVATE KEY", &g.pkcs8).as_bytes(),
    )?;
    if let Some(cert) = &g.cert {
        write_private(
            &dir.join(format!("{kid}.crt.pem")),
            pem_encode("CERTIFICATE", cert).as_bytes(),
        )?;
    }
    m.keys.push(KeyInfo {
        kid,
        alg,
        state,
        created_at: now,
        retire_at: None,
    });
    Ok(())
}

fn read_manifest(dir: &Path) -> Result<Manifest, KeyError> {
    let p = dir.join("keys.json");
    match fs::read_to_string(&p) {
        Ok(s) => serde_json::from_str(&s).map_err(|e| KeyError::Malformed {
            kid: "keys.json".into(),
            msg: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
        Err(e) => Err(io_err(&p, e)),
    }
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), KeyError> {
    let p = dir.join("keys.json");
    let s = serde_json::to_string_pretty(m).map_err(|e| io_err(&p, e))?;
    write_private(&p, s.as_bytes())
}

impl KeyStore for FileKeyStore {
    fn sign_jws(&self, alg: JwsAlg, input: &[u8]) -> Result<(String, Vec<u8>), KeyError> {
        let set = self.set.read().clone();
        let idx = set
            .active
            .get(&KeyAlg::of_jws(alg))
            .ok_or_else(|| KeyError::NoActiveKey(alg.as_str().into()))?;
        let key = &set.keys[*idx];
        let sig = match &key.signer {
            Signer::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(
                    &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                    &self.aws_rng,
                    input,
                    &mut sig,
                )
                .map_err(|_| KeyError::Sign)?;
                sig
            }
            Signer::Ec(kp) => kp
                .sign(&self.rng, input)
                .map_err(|_| KeyError::Sign)?
                .as_ref()
                .to_vec(),
            Signer::Ed(kp) => kp.sign(input).as_ref().to_vec(),
            Signer::Saml { .. } => return Err(KeyError::Sign),
        };
        Ok((key.info.kid.clone(), sig))
    }

    fn jwks(&self, now: i64) -> serde_json::Value {
        let set = self.set.read().clone();
        let keys: Vec<_> = set
            .keys
            .iter()
            .filter(|k| k.info.published(now))
            .filter_map(|k| k.jwk.clone())
            .collect();
        serde_json::json!({ "keys": keys })
    }

    fn saml_certificates(&self, now: i64) -> Vec<(KeyInfo, Vec<u8>)> {
        let set = self.set.read().clone();
        let mut out: Vec<_> = set
            .keys
            .iter()
            .filter(|k| k.info.alg == KeyAlg::SamlRs256 && k.info.published(now))
            .filter_map(|k| match &k.signer {
                Signer::Saml { cert_der, .. } => Some((k.info.clone(), cert_der.clone())),
                _ => None,
            })
            .collect();
        out.sort_by_key(|(i, _)| i.state != KeyState::Active);
        out
    }

    fn list(&self) -> Vec<KeyInfo> {
        self.set
            .read()
            .keys
            .iter()
            .map(|k| k.info.clone())
            .collect()
    }

    fn active_kid(&self, alg: JwsAlg) -> Result<String, KeyError> {
        let set = self.set.read();
        set.active
            .get(&KeyAlg::of_jws(alg))
            .map(|i| set.keys[*i].info.kid.clone())
            .ok_or_else(|| KeyError::NoActiveKey(alg.as_str().into()))
    }

    fn sign_saml_xml(&self, xml: &str) -> Result<String, KeyError> {
        self.sign_xml(KeyAlg::SamlRs256, xml, "signing SAML XML")
    }

    fn sign_saml_metadata_xml(&self, xml: &str) -> Result<String, KeyError> {
        self.sign_xml(KeyAlg::SamlMetadataRs256, xml, "signing the SAML metadata")
    }

    fn sign_saml_redirect(&self, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let (set, idx) = self.active(KeyAlg::SamlRs256)?;
        let Signer::Saml { rsa, .. } = &set.keys[idx].signer else {
            return Err(KeyError::NoActiveKey("SAML".into()));
        };
        let mut sig = vec![0u8; rsa.public().modulus_len()];
        rsa.sign(&RSA_PKCS1_SHA256, &self.rng, input, &mut sig)
            .map_err(|_| KeyError::Sign)?;
        Ok(sig)
    }

    fn saml_metadata_certificate(&self) -> Result<Vec<u8>, KeyError> {
        let missing = || KeyError::NoActiveKey("SAML metadata".into());
        let (set, idx) = self
            .active(KeyAlg::SamlMetadataRs256)
            .map_err(|_| missing())?;
        match &set.keys[idx].signer {
            Signer::Saml { cert_der, .. } => Ok(cert_der.clone()),
            _ => Err(missing()),
        }
    }

    fn reload(&self, _now: i64) -> Result<(), KeyError> {
        let manifest = read_manifest(&self.dir)?;
        let mut keys = Vec::new();
        let mut active = HashMap::new();
        for info in manifest
            .keys
            .iter()
            .filter(|k| k.state != KeyState::Retired)
        {
            let loaded = load_key(&self.dir, info)?;
            if info.state == KeyState::Active {
                active.insert(info.alg, keys.len());
            }
            keys.push(loaded);
        }
        *self.set.write() = Arc::new(KeySet { keys, active });
        Ok(())
    }

    fn derive(&self, purpose: Purpose) -> Result<DerivedKey, KeyError> {
        let pepper = self.pin_pepper()?;
        Ok(DerivedKey(match purpose.label() {
            None => pepper,
            Some(label) => hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &pepper), label)
                .as_ref()
                .to_vec(),
        }))
    }
}

/// Sign a JWT (compact JWS) with the active key of `alg`. `typ` is `JWT`, `at+jwt`,
/// `logout+jwt`, ...
pub fn sign_jwt(
    keys: &dyn KeyStore,
    alg: JwsAlg,
    typ: &str,
    claims: &serde_json::Value,
) -> Result<String, KeyError> {
    // The header names the kid, so ask which key is active before building the input.
    let kid = keys.active_kid(alg)?;
    let input = signing_input(alg.as_str(), &kid, typ, claims);
    let (signed_kid, sig) = keys.sign_jws(alg, input.as_bytes())?;
    if signed_kid != kid {
        // A rotation happened between the two calls: sign again with the new kid.
        return sign_jwt(keys, alg, typ, claims);
    }
    Ok(compact(&input, &sig))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn first_start_generates_everything_and_signs_verifiably() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::open_or_init(dir.path(), "localhost", 1_000).unwrap();
        let list = store.list();
        for alg in ALL_ALGS {
            assert_eq!(
                list.iter()
                    .filter(|k| k.alg == alg && k.state == KeyState::Active)
                    .count(),
                1,
                "{alg:?}"
            );
        }
        assert_eq!(store.pseudonym_secret().unwrap().len(), 32);
        assert_eq!(store.pin_pepper().unwrap().len(), 32);
        assert!(!format!("{store:?}").contains("PRIVATE"));

        let jwks = store.jwks(1_000);
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 3);
        for alg in JwsAlg::ALL {
            let claims = serde_json::json!({"sub": "x", "aud": "a", "exp": 4_000_000_000u64});
            let jwt = sign_jwt(&store, alg, "JWT", &claims).unwrap();
            let header = jsonwebtoken::decode_header(&jwt).unwrap();
            let jwk_json = keys
                .iter()
                .find(|k| k["kid"] == header.kid.clone().unwrap().as_str())
                .unwrap();
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk_json.clone()).unwrap();
            let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
            let jalg = match alg {
                JwsAlg::RS256 => jsonwebtoken::Algorithm::RS256,
                JwsAlg::ES256 => jsonwebtoken::Algorithm::ES256,
                JwsAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            };
            let mut v = jsonwebtoken::Validation::new(jalg);
            v.set_audience(&["a"]);
            jsonwebtoken::decode::<serde_json::Value>(&jwt, &key, &v)
                .expect("verifies with the published key");
        }
        // A second open does not generate again.
        let again = FileKeyStore::open_or_init(dir.path(), "localhost", 2_000).unwrap();
        assert_eq!(again.list(), list);
    }

    #[test]
    fn signing_never_reads_the_disk_after_loading() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::open_or_init(dir.path(), "localhost", 1_000).unwrap();
        let cert = STANDARD.encode(store.active_saml_certificate(1_000).unwrap());
        let xml = |id: &str| {
            format!(
                concat!(
                    r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0">"#,
                    "{}</saml:Assertion>"
                ),
                crate::saml::xml::signature_template(id, &cert),
                id = id
            )
        };
        store.sign_saml_xml(&xml("_a1")).unwrap();
        // Every key file gone: the loaded keys still sign.
        for entry in fs::read_dir(dir.path()).unwrap() {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
        let signed = store.sign_saml_xml(&xml("_a2")).unwrap();
        assert!(signed.contains("SignatureValue"));
        store.sign_saml_metadata_xml(&xml("_m1")).unwrap();
        assert!(!store
            .sign_saml_redirect(b"SAMLRequest=x")
            .unwrap()
            .is_empty());
        sign_jwt(
            &store,
            JwsAlg::RS256,
            "JWT",
            &serde_json::json!({"sub": "x"}),
        )
        .unwrap();
        assert!(!store.derive(Purpose::Csrf).unwrap().as_bytes().is_empty());
    }

    #[test]
    fn derived_keys_are_the_ones_the_pepper_always_gave() {
        let dir = tempfile::tempdir().unwrap();
        let pepper: Vec<u8> = (1..=32).collect();
        write_private(
            &dir.path().join("pin-pepper.key"),
            STANDARD.encode(&pepper).as_bytes(),
        )
        .unwrap();
        let store = FileKeyStore::open_or_init(dir.path(), "localhost", 1_000).unwrap();
        // The formula each constructor applied to the pepper before `derive`: HMAC-SHA-256
        // of its label (the PIN hasher took the pepper as it is).
        let old = |label: &[u8]| {
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &pepper), label)
                .as_ref()
                .to_vec()
        };
        let derived = |p: Purpose| hex::encode(store.derive(p).unwrap().as_bytes());
        assert_eq!(derived(Purpose::Pins), hex::encode(&pepper));
        assert_eq!(
            derived(Purpose::Csrf),
            hex::encode(old(b"leerpoort-csrf-v1"))
        );
        assert_eq!(
            derived(Purpose::DeviceCookies),
            hex::encode(old(b"leerpoort-device-v1"))
        );
        assert_eq!(
            derived(Purpose::SignInChallenge),
            hex::encode(old(b"leerpoort-challenge-v1"))
        );
        // And the bytes themselves, so neither side can drift.
        assert_eq!(
            derived(Purpose::Csrf),
            "8c0cd8c6bd8eac20e6e2f51779894103fdf2b3da3d5cfdc88fcc9d119b0da306"
        );
        assert_eq!(
            derived(Purpose::DeviceCookies),
            "3f15d9a4df4a76f730c38196c964f5e642d46231ebc3c6156a4a99290fa4dcb0"
        );
        assert_eq!(
            derived(Purpose::SignInChallenge),
            "d890fc6c0b35490cdb014337d7a94fece583f6c8e7b4b5e28b868c9025bf9a1e"
        );
        assert!(!format!("{:?}", store.derive(Purpose::Csrf).unwrap()).contains("8c0c"));
    }

    #[test]
    fn rotation_keeps_the_previous_key_published_until_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::open_or_init(dir.path(), "localhost", 1_000).unwrap();
        let old_kid = store.active_kid(JwsAlg::RS256).unwrap();
        let old_saml = store.saml_certificates(1_000);
        assert_eq!(old_saml.len(), 1);

        rotate(dir.path(), "localhost", 2_000).unwrap();
        store.reload(2_000).unwrap();
        let new_kid = store.active_kid(JwsAlg::RS256).unwrap();
        assert_ne!(old_kid, new_kid);
        let kids: Vec<String> = store.jwks(2_000)["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect();
        assert!(kids.contains(&old_kid) && kids.contains(&new_kid));
        assert_eq!(kids.len(), 6);
        // SAML: the active one stays, a next one is published beside it.
        let saml = store.saml_certificates(2_000);
        assert_eq!(saml.len(), 2);
        assert_eq!(saml[0].0.kid, old_saml[0].0.kid);
        assert_eq!(saml[1].0.state, KeyState::Next);

        // After the grace period the old JWS key is gone from the JWKS.
        let later = 2_000 + JWS_GRACE_SECS + 1;
        let kids: Vec<String> = store.jwks(later)["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect();
        assert!(!kids.contains(&old_kid));
        assert_eq!(kids.len(), 3);

        // Second rotation: the next SAML key becomes active.
        let next_kid = saml[1].0.kid.clone();
        rotate(dir.path(), "localhost", 3_000).unwrap();
        store.reload(3_000).unwrap();
        assert_eq!(store.saml_certificates(3_000)[0].0.kid, next_kid);
        // Pseudonym secret untouched by rotation.
        let listed = list(dir.path(), later).unwrap();
        assert!(listed
            .iter()
            .any(|k| k.kid == old_kid && k.state == KeyState::Retired));
    }

    #[test]
    fn the_metadata_signing_key_outlives_rotations() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::open_or_init(dir.path(), "localhost", 1_000).unwrap();
        let pinned = store.saml_metadata_certificate().unwrap();
        // A key of its own, not one that signs messages or is published as one.
        assert_ne!(pinned, store.active_saml_certificate(1_000).unwrap());
        assert!(store
            .saml_certificates(1_000)
            .iter()
            .all(|(_, der)| *der != pinned));
        for now in [2_000, 3_000] {
            rotate(dir.path(), "localhost", now).unwrap();
            store.reload(now).unwrap();
            assert_eq!(store.saml_metadata_certificate().unwrap(), pinned);
        }
        let xml = format!(
            concat!(
                r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_m1" entityID="x">"#,
                "{}</md:EntityDescriptor>"
            ),
            crate::saml::xml::signature_template("_m1", &STANDARD.encode(&pinned))
        );
        let signed = store.sign_saml_metadata_xml(&xml).unwrap();
        use samael::crypto::{CertificateDer, Crypto, CryptoProvider as _, ReduceMode};
        Crypto::reduce_xml_to_signed(
            &signed,
            &[CertificateDer::from(pinned.clone())],
            ReduceMode::ValidateAndMarkNoAncestors,
        )
        .expect("the pinned certificate verifies the metadata after two rotations");
    }

    #[test]
    fn a_key_store_without_a_metadata_key_adopts_its_active_saml_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::open_or_init(dir.path(), "localhost", 1_000).unwrap();
        let active = store.active_saml_certificate(1_000).unwrap();
        // The manifest as older versions wrote it.
        let mut m = read_manifest(dir.path()).unwrap();
        m.keys.retain(|k| k.alg != KeyAlg::SamlMetadataRs256);
        write_manifest(dir.path(), &m).unwrap();
        let store = FileKeyStore::open_or_init(dir.path(), "localhost", 2_000).unwrap();
        assert_eq!(store.saml_metadata_certificate().unwrap(), active);
        rotate(dir.path(), "localhost", 3_000).unwrap();
        rotate(dir.path(), "localhost", 4_000).unwrap();
        store.reload(4_000).unwrap();
        assert_ne!(store.active_saml_certificate(4_000).unwrap(), active);
        assert_eq!(store.saml_metadata_certificate().unwrap(), active);
    }
}
