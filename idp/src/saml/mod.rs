//! The SAML 2.0 identity provider, split by endpoint:
//!
//! | file | what |
//! |---|---|
//! | `metadata.rs` | `/saml/metadata`: the IdP's signed metadata |
//! | `sp.rs` | a service provider's metadata, read and checked (for `saml-sp add` and every request) |
//! | `sp_refresh.rs` | fetching an SP's metadata from its URL, and the periodic refresh of `serve` |
//! | `sso.rs` | `/saml/sso` (HTTP-Redirect and HTTP-POST), its continuation after sign-in, and unsolicited responses for school shortcuts |
//! | `response.rs` | the signed (and, when the SP has an encryption key, encrypted) `Response` |
//! | `encrypt.rs` | `EncryptedAssertion`: AES-128-GCM under an RSA-OAEP key transport |
//! | `slo.rs` | `/saml/slo`: Single Logout over HTTP-Redirect, both directions |
//! | `binding.rs` | the HTTP-Redirect binding: inflate with a cap, query signatures |
//! | `xml.rs` | hostile-input checks (no DTDs, no entities), escaping, signature templates |
//! | `upstream.rs` | a network environment's IdP metadata, checked for `upstream add` |
//! | `upstream_sp.rs` | Leerpoort as SP towards network environments: SP metadata, AuthnRequest, the ACS's checks |
//!
//! Every decision about whether a user may be signed in to a service provider, and what it
//! receives, is the broker's ([`broker::release`]); this module renders that answer as SAML.
//! The NameID is the same pairwise pseudonym an OIDC client of the same sector gets as `sub`.

pub mod binding;
pub mod encrypt;
pub mod error;
pub mod fuzz;
pub mod metadata;
pub mod response;
pub mod slo;
pub mod sp;
pub mod sp_refresh;
pub mod sso;
pub mod upstream;
pub mod upstream_sp;
pub mod xml;

pub use error::SamlError;

/// The paths, relative to the issuer.
pub mod paths {
    pub const METADATA: &str = "/saml/metadata";
    pub const SSO: &str = "/saml/sso";
    pub const SSO_CONTINUE: &str = "/saml/sso/continue";
    pub const UNSOLICITED: &str = "/saml/unsolicited";
    pub const SLO: &str = "/saml/slo";
    pub const POST_SCRIPT: &str = "/static/saml-post.js";
}

/// SAML's names for bindings, formats and statuses.
pub mod names {
    pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
    pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
    pub const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
    pub const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    pub const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
    pub const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    pub const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
    pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
    pub const PAIRWISE_ID: &str = "urn:oasis:names:tc:SAML:attribute:pairwise-id";
    pub const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
    pub const ATTRNAME_BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
    pub const ATTRNAME_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
    pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    pub const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
    pub const AC_PASSWORD_PROTECTED: &str =
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
    pub const AC_PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password";
    pub const AC_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified";
    pub const LOGOUT_USER: &str = "urn:oasis:names:tc:SAML:2.0:logout:user";
}

/// How long an assertion may be used: `NotOnOrAfter` is at most this far after issuing.
pub const ASSERTION_SECS: i64 = 5 * 60;
/// `NotBefore` of an assertion is this far back (for SPs whose clock runs behind).
pub const SKEW_SECS: i64 = 60;
/// How far in the future a request's `IssueInstant` may be (an SP whose clock runs ahead);
/// SimpleSAMLphp and Shibboleth SP allow 180 s too.
pub const REQUEST_SKEW_SECS: i64 = 180;
/// How long an AuthnRequest ID is remembered to refuse replays (longer than a request lives).
pub const REPLAY_SECS: u64 = 15 * 60;
/// A request older than this is refused.
pub const REQUEST_MAX_AGE_SECS: i64 = 10 * 60;
/// How long IdP metadata says it is valid.
pub const METADATA_VALID_SECS: i64 = 7 * 24 * 3600;
/// RelayState may be at most this long (SAML bindings §3.4.3, §3.5.3).
pub const RELAY_STATE_MAX: usize = 80;
/// The most a `SAMLRequest` may be, encoded, in either binding.
pub const ENCODED_MAX: usize = 32 * 1024;
/// The most a Redirect-binding message may inflate to (deflate bombs).
pub const INFLATED_MAX: usize = 64 * 1024;
/// The most an SP's metadata document may be.
pub const METADATA_MAX: usize = 512 * 1024;

/// The IdP's entity ID: its metadata URL.
pub fn entity_id(issuer: &str) -> String {
    format!("{issuer}{}", paths::METADATA)
}

/// A fresh XML ID (`_` + 32 hex digits: an NCName).
pub fn new_id() -> Result<String, SamlError> {
    let b = crate::secrets::random_bytes::<16>().map_err(|_| SamlError::Responder)?;
    Ok(format!("_{}", hex::encode(b)))
}
