//! The one integration-test binary of the `idp` crate (each file in `tests/` would be a
//! separate slow link). Add modules here, not files beside this one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod beheer;
mod broker_saml;
mod cleanup;
mod cli;
mod devices;
mod directory;
mod discovery;
mod duo;
mod import;
mod json_schema;
mod las;
mod las_api;
mod licence_lookup;
mod licenties_api;
mod mergers;
mod niveaus;
mod oidc;
mod oneroster;
mod openapi;
mod operator;
mod passwords;
mod refusals;
mod saml;
mod school;
mod school_year;
mod schooldata_api;
mod server;
mod spreadsheet;
mod store;
mod thuis;
mod upstream;
mod webhooks;
