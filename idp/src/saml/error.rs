//! SAML errors. [`SamlError`] mirrors the status codes of SAML Core §3.2.2.2: each one that an
//! SP may hear about becomes a `Response` (or `LogoutResponse`) with that status. What must
//! not be sent to anyone — an unknown SP, an ACS URL not in its metadata, a bad signature —
//! is [`Refusal`] (the `protocol` crate's): a page for the user ([`refusal_page`]), nothing
//! for the SP.

use broker::store::StoreError;
pub use protocol::saml::Refusal;

/// A status an SP is told, with the top-level and second-level status codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlError {
    /// `Requester`: the request was wrong.
    #[error("the request is not valid: {0}")]
    Requester(String),
    /// `Responder`: something failed here.
    #[error("the identity provider failed")]
    Responder,
    /// `VersionMismatch`: not SAML 2.0.
    #[error("only SAML 2.0 is supported")]
    VersionMismatch,
    /// `Responder` / `NoPassive`: `IsPassive` and the user must sign in.
    #[error("the user must sign in, and the request is passive")]
    NoPassive,
    /// `Responder` / `RequestDenied`: the school does not allow it (broker's answer).
    #[error("request denied: {0}")]
    RequestDenied(String),
    /// `Responder` / `RequestDenied` because the release policy says no; the page names why.
    #[error("request denied: {0}")]
    NotAllowed(broker::release::Denial),
    /// `Requester` / `InvalidNameIDPolicy`: a NameID format Leerpoort does not issue.
    #[error("NameID format not supported")]
    InvalidNameIdPolicy,
    /// `Requester` / `UnknownPrincipal`: a logout for a user not signed in here.
    #[error("unknown principal")]
    UnknownPrincipal,
}

const STATUS: &str = "urn:oasis:names:tc:SAML:2.0:status:";

impl SamlError {
    /// The top-level status code and the second-level one, if any (SAML Core §3.2.2.2).
    pub fn status(&self) -> (String, Option<String>) {
        let (top, second) = match self {
            Self::Requester(_) => ("Requester", None),
            Self::Responder => ("Responder", None),
            Self::VersionMismatch => ("VersionMismatch", None),
            Self::NoPassive => ("Responder", Some("NoPassive")),
            Self::RequestDenied(_) | Self::NotAllowed(_) => ("Responder", Some("RequestDenied")),
            Self::InvalidNameIdPolicy => ("Requester", Some("InvalidNameIDPolicy")),
            Self::UnknownPrincipal => ("Requester", Some("UnknownPrincipal")),
        };
        (
            format!("{STATUS}{top}"),
            second.map(|s| format!("{STATUS}{s}")),
        )
    }

    /// The `StatusMessage`, when one helps the SP (never personal data).
    pub fn message(&self) -> Option<String> {
        match self {
            Self::Requester(m) | Self::RequestDenied(m) => Some(m.clone()),
            Self::NotAllowed(d) => Some(d.to_string()),
            _ => None,
        }
    }
}

impl From<StoreError> for SamlError {
    fn from(_: StoreError) -> Self {
        Self::Responder
    }
}

/// Title and text of the page the user sees for `refusal`, from the catalogue.
pub fn refusal_page(
    refusal: &Refusal,
    t: &'static catalogue::Texts,
) -> (&'static str, &'static str) {
    match refusal {
        Refusal::UnknownSp => (t.saml_unknown_sp_title, t.saml_unknown_sp),
        Refusal::UnknownAcs => (t.saml_invalid_title, t.saml_unknown_acs),
        Refusal::SignatureMissing | Refusal::BadSignature => {
            (t.saml_invalid_title, t.saml_bad_signature)
        }
        Refusal::Replay => (t.saml_replay_title, t.saml_replay),
        Refusal::Stale | Refusal::Expired => (t.saml_expired_title, t.saml_expired),
        Refusal::ClockSkew => (t.saml_clock_skew_title, t.saml_clock_skew),
        Refusal::RelayStateNotRegistered => (t.saml_invalid_title, t.saml_relay_state_unregistered),
        Refusal::Unavailable => (t.saml_unavailable_title, t.saml_unavailable),
        _ => (t.saml_invalid_title, t.saml_unreadable),
    }
}
