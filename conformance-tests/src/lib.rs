//! The harness of Leerpoort's black-box conformance tests (test support only, never shipped).
//!
//! Each test starts the real `leerpoort` binary on its own port with its own database
//! ([`Server`]), seeds it with `leerpoort --json demo`, and drives it as relying parties and
//! browsers do: a [`Browser`] with a cookie jar that follows redirects by hand and fills the
//! login form, relying parties ([`Rp`]) that talk to the endpoints found through discovery,
//! and [`openidconnect`] as an independent client library. [`both_backends`] runs a test on
//! SQLite with the in-process store, and also on PostgreSQL with Redis when
//! `LEERPOORT_TEST_DATABASE_URL` and `LEERPOORT_TEST_REDIS_URL` are set (under `CI` they must
//! be).
//!
//! The tests themselves are in `tests/it/`, named after the OpenID Foundation's certification
//! modules (`oidcc_server`, `oidcc_codereuse`, ...).
//!
//! Environment:
//!
//! | variable | effect |
//! |---|---|
//! | `LEERPOORT_TEST_DATABASE_URL` | a PostgreSQL database; each server gets a fresh schema `ct_<uuid>` in it, dropped afterwards |
//! | `LEERPOORT_TEST_REDIS_URL` | a Redis; each server gets its own database number (1–15, round robin) |
//! | `CI` | when set, both of the above are required: a test fails without them |
//! | `LEERPOORT_BIN` | the `leerpoort` binary to test (default: `target/<profile>/leerpoort`, built with `cargo build -p idp --bin leerpoort` when missing or older than the sources) |
//! | `LEERPOORT_TEST_LOG` | `RUST_LOG` for the servers (default `info`); a failing test prints the end of its server's log |
//!
//! The Node.js relying party in `node/` and axe-core need `node` (20 or newer) and `npm`; the
//! tests run `npm ci` there once. The browser tests ([`chromium`]) drive Debian's headless
//! Chromium through chromedriver (packages `chromium` and `chromium-driver`, installed by
//! `scripts/install-deps.sh`); `LEERPOORT_SCREENSHOTS=docs` makes them refresh the pictures in
//! `docs/screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod browser;
pub mod chromium;
pub mod cluster;
pub mod http;
pub mod jwt;
pub mod listener;
pub mod node;
pub mod oidc;
pub mod proxy;
pub mod publisher;
pub mod server;

pub use browser::{Browser, Credentials, Landing};
pub use http::Response;
pub use listener::{Listener, Recorded, Reply};
pub use oidc::{
    code_flow, AuthRequest, ClientAuth, Flow, Rp, Tokens, UserinfoStyle, ANNA, KARIM, SANNE,
};
pub use server::{both_backends, Backend, Server};
