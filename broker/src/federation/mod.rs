//! The upstream side of the broker: signing in through a network environment (MOO,
//! ZuluConnect, ...; an upstream identity provider speaking OIDC or SAML).
//!
//! Everything here is a step that does no I/O of its own: it takes what arrived and returns a
//! decision, or — on the OIDC side — the HTTP request to make as a plain value
//! ([`oidc::HttpRequest`]), whose answer the server feeds to the next step. The server keeps
//! the HTTP client, the handlers, the cookies and the signing keys.
//!
//! - [`matching`]: who an upstream's user is (ECK-iD, LAS key, e-mail), only within the
//!   schools the upstream serves; [`provision`]: creating them when the upstream provisions.
//! - [`pending`]: the sign-in waiting while the browser is at the upstream, bound to it.
//! - [`sign_in`]: the SSO session a verified answer starts, and where the browser goes.
//! - [`links`]: which of Leerpoort's sessions an upstream's logout ends.
//! - [`oidc`]: the relying-party steps towards an OIDC upstream.
//! - [`saml`]: the service-provider decisions towards a SAML upstream (the message checks
//!   themselves are the `protocol` crate's).

pub mod links;
pub mod matching;
pub mod oidc;
pub mod pending;
pub mod provision;
pub mod saml;

pub mod sign_in;

pub use matching::{match_user, Asserted, MatchError};
pub use provision::{user_for, FinishError};
