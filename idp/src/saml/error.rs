//! SAML errors. [`SamlError`] mirrors the status codes of SAML Core §3.2.2.2: each one that an
//! SP may hear about becomes a `Response` (or `LogoutResponse`) with that status. What must
//! not be sent to anyone — an unknown SP, an ACS URL not in its metadata, a bad signature —
//! is [`Refusal`]: a page for the user, nothing for the SP.

use broker::store::StoreError;

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

/// Why a SAML message is refused without answering the SP. Each is shown to the user as a
/// page; nothing is sent anywhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the message is missing")]
    Missing,
    #[error("the message is too large")]
    TooLarge,
    #[error("the message is not valid base64 or deflate")]
    Encoding,
    #[error("the message holds a DTD or an entity declaration")]
    Dtd,
    #[error("the message is not a well-formed SAML message: {0}")]
    Malformed(String),
    #[error("the service provider is unknown or disabled")]
    UnknownSp,
    #[error("the AssertionConsumerService is not in the service provider's metadata")]
    UnknownAcs,
    #[error("the service provider must sign its requests, and this one is not signed")]
    SignatureMissing,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("this request was used before")]
    Replay,
    #[error("the request is too old")]
    Stale,
    #[error(
        "the request is from the future: the service provider's clock runs more than {} s ahead",
        super::REQUEST_SKEW_SECS
    )]
    ClockSkew,
    #[error("the request was sent to another destination")]
    WrongDestination,
    #[error("RelayState is longer than 80 bytes")]
    RelayStateTooLong,
    #[error("the RelayState is not a URL registered for this service provider")]
    RelayStateNotRegistered,
    #[error("the sign-in has expired")]
    Expired,
    #[error("the service is unavailable")]
    Unavailable,
}

impl Refusal {
    /// Title and text of the page the user sees, from the catalogue.
    pub fn page(&self, t: &'static crate::i18n::Texts) -> (&'static str, &'static str) {
        match self {
            Self::UnknownSp => (t.saml_unknown_sp_title, t.saml_unknown_sp),
            Self::UnknownAcs => (t.saml_invalid_title, t.saml_unknown_acs),
            Self::SignatureMissing | Self::BadSignature => {
                (t.saml_invalid_title, t.saml_bad_signature)
            }
            Self::Replay => (t.saml_replay_title, t.saml_replay),
            Self::Stale | Self::Expired => (t.saml_expired_title, t.saml_expired),
            Self::ClockSkew => (t.saml_clock_skew_title, t.saml_clock_skew),
            Self::RelayStateNotRegistered => {
                (t.saml_invalid_title, t.saml_relay_state_unregistered)
            }
            Self::Unavailable => (t.saml_unavailable_title, t.saml_unavailable),
            _ => (t.saml_invalid_title, t.saml_unreadable),
        }
    }
}

impl Refusal {
    /// A short, stable name for the logs (`reason=`).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::TooLarge => "too_large",
            Self::Encoding => "encoding",
            Self::Dtd => "dtd",
            Self::Malformed(_) => "malformed",
            Self::UnknownSp => "unknown_sp",
            Self::UnknownAcs => "unknown_acs",
            Self::SignatureMissing => "signature_missing",
            Self::BadSignature => "bad_signature",
            Self::Replay => "replay",
            Self::Stale => "stale",
            Self::ClockSkew => "clock_skew",
            Self::WrongDestination => "wrong_destination",
            Self::RelayStateTooLong => "relay_state_too_long",
            Self::RelayStateNotRegistered => "relay_state_not_registered",
            Self::Expired => "expired",
            Self::Unavailable => "unavailable",
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(_: StoreError) -> Self {
        Self::Unavailable
    }
}
