//! # idp
//!
//! The Leerpoort server and the `leerpoort` command: actix-web routes, signing keys, the
//! diesel store that implements the broker's traits, the ephemeral store, and the CLI.
//!
//! ## Error policy
//! Typed errors inside (`DbError`, `KeyError`, `ConfigError`, `AdminError`, ...) that name
//! the field or rule at fault; `anyhow` only at the edges — `main`, the CLI dispatch and
//! start-up — where an error becomes one line on stderr. No `unwrap`/`expect`/`panic`
//! outside tests.

pub mod app;
pub mod cli;
pub mod config;
pub mod cookie;
pub mod credentials;
pub mod db;
pub mod demo;
pub mod device;
pub mod forwarded;
pub mod keys;
pub mod lesmateriaal;
pub mod licence_circuits;
pub mod licence_lookup;
pub mod mail;
pub mod metrics;
pub mod oidc;
pub mod pictures;
pub mod saml;
pub mod scheduler;
pub mod server;
pub mod session;
pub mod shortcut;
pub mod shortcut_files;
pub mod store;
pub mod upstream;
pub mod upstream_oidc;
pub mod uwlr;
pub mod webhooks;
