//! SAML 2.0, as Leerpoort speaks it (as identity provider towards service providers, and as
//! service provider towards network environments):
//!
//! | file | what |
//! |---|---|
//! | `binding.rs` | the HTTP-Redirect and HTTP-POST bindings: one parse of the query, inflate with a cap, query signatures in and out |
//! | `xml.rs` | hostile-input checks (no DTDs, no entities), escaping, signature templates |
//! | `signature.rs` | verifying an enveloped signature (xmlsec) and keeping only what it covers |
//! | `refusal.rs` | [`Refusal`]: why a message is refused without answering anyone |
//! | `authn_request.rs` | parsing an `AuthnRequest`; building the one Leerpoort sends upstream |
//! | `response.rs` | building the `Assertion` and the `Response` around it (with signature templates) |
//! | `encrypt.rs` | `EncryptedAssertion`: AES-128-GCM under an RSA-OAEP key transport |
//! | `response_shape.rs` | the shape a `Response` Leerpoort receives as SP must have (signature wrapping) |
//! | `logout.rs` | parsing `LogoutRequest` / `LogoutResponse`; building both |
//! | `metadata.rs` | building Leerpoort's IdP and SP metadata (with signature templates) |
//! | `sp.rs` | a service provider's metadata, read and checked |
//! | `upstream.rs` | a network environment's IdP metadata, read and checked |

pub mod authn_request;
pub mod binding;
pub mod encrypt;
pub mod logout;
pub mod metadata;
pub mod refusal;
pub mod response;
pub mod response_shape;
pub mod signature;
pub mod sp;
pub mod upstream;
pub mod upstream_answer;
pub mod xml;

pub use refusal::Refusal;

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
/// The longest request ID (`AuthnRequest`, `LogoutRequest`) accepted.
pub const ID_MAX: usize = 256;

/// Is `id` usable as a request's ID: present and at most [`ID_MAX`] bytes?
pub fn id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= ID_MAX
}

/// A request's `IssueInstant` (seconds) against `now`: at most [`REQUEST_SKEW_SECS`] in the
/// future, at most [`REQUEST_MAX_AGE_SECS`] old.
pub fn check_issue_instant(issued: i64, now: i64) -> Result<(), Refusal> {
    if issued > now + REQUEST_SKEW_SECS {
        return Err(Refusal::ClockSkew);
    }
    if issued < now - REQUEST_MAX_AGE_SECS {
        return Err(Refusal::Stale);
    }
    Ok(())
}

/// The name a message ID is remembered under to refuse a replay: SHA-256 of
/// `{scope}\n{id}`, in hex (`scope` says whose ID it is and, where needed, of which kind).
/// Storing it, once, is the caller's.
pub fn replay_digest(scope: &str, id: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("{scope}\n{id}").as_bytes());
    hex::encode(digest.as_ref())
}
