//! OpenID Connect and OAuth 2.0, as Leerpoort speaks them as OpenID provider: the shapes
//! only, with no storage and no HTTP framework.
//!
//! | file | what |
//! |---|---|
//! | `error.rs` | [`OidcError`]: the error codes, their descriptions, the JSON body and HTTP status |
//! | `authorize.rs` | the authorization request: its parameters (each once), `response_type`, `scope`, PKCE, `prompt`, `max_age`, `claims`; the redirects that answer it |
//! | `client_auth.rs` | what a client presented (`client_secret_basic`, `client_secret_post`, `private_key_jwt`), and the checks on a client assertion given the client's key |
//! | `claims.rs` | the claims of the ID token, the access token (RFC 9068) and the logout token; `at_hash` |
//! | `jws.rs` | compact JWS: the signing input and the signed token, verifying our own tokens with a published key |
//! | `jwk.rs` | public JWKs and their RFC 7638 thumbprints; finding a key in a JWKS |
//! | `discovery.rs` | the provider metadata (OIDC Discovery §3, RFC 8414) |

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod jwk;
pub mod jws;

pub use error::OidcError;

/// Authorization codes live at most this long (seconds).
pub const CODE_SECS: u64 = 60;
/// Access tokens (seconds).
pub const ACCESS_TOKEN_SECS: i64 = 600;
/// ID tokens (seconds).
pub const ID_TOKEN_SECS: i64 = 3600;
/// Logout tokens (seconds).
pub const LOGOUT_TOKEN_SECS: i64 = 120;
/// Refresh tokens without `offline_access`: a school day.
pub const REFRESH_SECS: i64 = 12 * 3600;
/// Refresh tokens with `offline_access`.
pub const OFFLINE_REFRESH_SECS: i64 = 30 * 24 * 3600;

/// The paths, relative to the issuer.
pub mod paths {
    pub const AUTHORIZE: &str = "/oidc/authorize";
    pub const AUTHORIZE_CONTINUE: &str = "/oidc/authorize/continue";
    pub const TOKEN: &str = "/oidc/token";
    pub const USERINFO: &str = "/oidc/userinfo";
    pub const JWKS: &str = "/oidc/jwks";
    pub const REVOKE: &str = "/oidc/revoke";
    pub const INTROSPECT: &str = "/oidc/introspect";
    pub const LOGOUT: &str = "/oidc/logout";
}

/// Does a space-separated scope string contain `item`?
pub fn has_scope(scope: &str, item: &str) -> bool {
    scope.split_ascii_whitespace().any(|s| s == item)
}

/// Does the grant allow refresh tokens that outlive the session?
pub fn is_offline(scope: &str) -> bool {
    has_scope(scope, "offline_access")
}

/// The scopes Leerpoort knows; others are dropped from a request.
pub const SCOPES_SUPPORTED: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];
