//! The OAuth 2.0 / OpenID Connect error codes, in one enum. Each variant names the section
//! of the specification that defines it. Logging a storage or signing failure before it
//! becomes [`OidcError::ServerError`] or [`OidcError::TemporarilyUnavailable`] is the
//! caller's.

use serde::Serialize;

/// A protocol error, rendered as JSON at the token-style endpoints, as a redirect where the
/// redirect URI is trusted, and as a readable page otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// [RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1),
    /// [§5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// [RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    /// [RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// [RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1)
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    /// [RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// [RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1)
    #[error("unsupported_response_type")]
    UnsupportedResponseType,
    /// [RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1)
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// [RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1)
    #[error("access_denied: {0}")]
    AccessDenied(String),
    /// [RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1)
    #[error("server_error")]
    ServerError,
    /// [RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1)
    #[error("temporarily_unavailable")]
    TemporarilyUnavailable,
    /// [OIDC Core §3.1.2.6](https://openid.net/specs/openid-connect-core-1_0.html#AuthError)
    #[error("login_required")]
    LoginRequired,
    /// [OIDC Core §3.1.2.6](https://openid.net/specs/openid-connect-core-1_0.html#AuthError)
    #[error("interaction_required")]
    InteractionRequired,
    /// [OIDC Core §3.1.2.6](https://openid.net/specs/openid-connect-core-1_0.html#AuthError)
    #[error("request_not_supported")]
    RequestNotSupported,
    /// [OIDC Core §3.1.2.6](https://openid.net/specs/openid-connect-core-1_0.html#AuthError)
    #[error("request_uri_not_supported")]
    RequestUriNotSupported,
    /// [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)
    #[error("invalid_token: {0}")]
    InvalidToken(String),
}

/// The JSON body of an error (RFC 6749 §5.2).
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl OidcError {
    /// `invalid_grant` with a description.
    pub fn invalid_grant(why: &str) -> Self {
        Self::InvalidGrant(why.to_string())
    }

    /// `invalid_client` with a description.
    pub fn invalid_client(why: &str) -> Self {
        Self::InvalidClient(why.to_string())
    }

    /// The error code as the specifications spell it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::AccessDenied(_) => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken(_) => "invalid_token",
        }
    }

    /// A description safe to send to the client (never internal details).
    pub fn description(&self) -> Option<String> {
        match self {
            Self::InvalidRequest(d)
            | Self::InvalidClient(d)
            | Self::InvalidGrant(d)
            | Self::UnauthorizedClient(d)
            | Self::InvalidScope(d)
            | Self::AccessDenied(d)
            | Self::InvalidToken(d) => Some(d.clone()),
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code(),
            error_description: self.description(),
        }
    }

    /// The HTTP status at the token, revocation and introspection endpoints.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient(_) | Self::InvalidToken(_) => 401,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}
