//! The SAML 2.0 identity provider, split by endpoint. The protocol itself — parsing and
//! building messages, the bindings, metadata, hostile-XML checks, encryption — is the
//! `protocol` crate's ([`protocol::saml`], re-exported here); this module adds what needs the
//! server: the directory, the stores, the sessions and the keys.
//!
//! | file | what |
//! |---|---|
//! | `metadata.rs` | `/saml/metadata`: the IdP's signed metadata |
//! | `sp_refresh.rs` | fetching an SP's metadata from its URL, and the periodic refresh of `serve` |
//! | `sso.rs` | `/saml/sso` (HTTP-Redirect and HTTP-POST), its continuation after sign-in, and unsolicited responses for school shortcuts |
//! | `response.rs` | the signed (and, when the SP has an encryption key, encrypted) `Response`; the attributes a claim set becomes |
//! | `slo.rs` | `/saml/slo`: Single Logout over HTTP-Redirect, both directions |
//! | `error.rs` | [`SamlError`], the statuses an SP is told; the page a [`Refusal`] shows |
//! | `upstream_sp.rs` | Leerpoort as SP towards network environments: SP metadata, AuthnRequest, the ACS's checks |
//!
//! Every decision about whether a user may be signed in to a service provider, and what it
//! receives, is the broker's ([`broker::release`]); this module renders that answer as SAML.
//! The NameID is the same pairwise pseudonym an OIDC client of the same sector gets as `sub`.

pub mod error;
pub mod metadata;
pub mod response;
pub mod slo;
pub mod sp_refresh;
pub mod sso;
pub mod upstream_sp;

pub use error::SamlError;
pub use protocol::saml::{binding, encrypt, names, sp, upstream, xml, Refusal};
pub use protocol::saml::{
    ASSERTION_SECS, ENCODED_MAX, INFLATED_MAX, METADATA_MAX, METADATA_VALID_SECS, RELAY_STATE_MAX,
    REPLAY_SECS, REQUEST_MAX_AGE_SECS, REQUEST_SKEW_SECS, SKEW_SECS,
};

/// The paths, relative to the issuer.
pub mod paths {
    pub const METADATA: &str = "/saml/metadata";
    pub const SSO: &str = "/saml/sso";
    pub const SSO_CONTINUE: &str = "/saml/sso/continue";
    pub const UNSOLICITED: &str = "/saml/unsolicited";
    pub const SLO: &str = "/saml/slo";
    pub const POST_SCRIPT: &str = "/static/saml-post.js";
}

/// The IdP's entity ID: its metadata URL.
pub fn entity_id(issuer: &str) -> String {
    format!("{issuer}{}", paths::METADATA)
}

/// A fresh XML ID (`_` + 32 hex digits: an NCName).
pub fn new_id() -> Result<String, SamlError> {
    let b = broker::secrets::random_bytes::<16>().map_err(|_| SamlError::Responder)?;
    Ok(format!("_{}", hex::encode(b)))
}

/// The SAML signing certificates to publish (DER, the active one first), or `None` when there
/// are none.
pub fn published_certificates(state: &crate::app::AppState, now: i64) -> Option<Vec<Vec<u8>>> {
    let certs: Vec<Vec<u8>> = state
        .keys
        .saml_certificates(now)
        .into_iter()
        .map(|(_, der)| der)
        .collect();
    (!certs.is_empty()).then_some(certs)
}
