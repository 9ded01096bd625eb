//! The one integration-test binary of the `idp` crate (each file in `tests/` would be a
//! separate slow link). Add modules here, not files beside this one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod beheer;
mod broker_saml;
mod cli;
mod devices;
mod directory;
mod duo;
mod import;
mod las;
mod las_api;
mod mergers;
mod oidc;
mod operator;
mod passwords;
mod saml;
mod school;
mod school_year;
mod server;
mod spreadsheet;
mod store;
mod thuis;
mod upstream;
