//! [`Refusal`]: what must not be answered to anyone — an unknown SP, an ACS URL not in its
//! metadata, a bad signature, a message that cannot be read. The user sees a page (its text is
//! the server's), nothing is sent to the SP.

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
