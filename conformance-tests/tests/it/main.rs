//! Leerpoort's OpenID Connect conformance tests: the real `leerpoort` binary, driven from the
//! outside as relying parties and browsers drive it.
//!
//! One test per module of the OpenID Foundation's Basic OP and Config OP certification plans,
//! named after the module (`oidcc-codereuse` is `oidcc_codereuse`), plus Leerpoort's own
//! promises (pairwise subjects, school registrations, back-channel logout, ...) and a flow
//! with a relying party written by someone else (npm's `openid-client`), and a SAML service
//! provider written by someone else (PyPI's `pysaml2`). Every test runs on
//! SQLite with the in-process store, and also on PostgreSQL with Redis when
//! `LEERPOORT_TEST_DATABASE_URL` and `LEERPOORT_TEST_REDIS_URL` are set (see
//! `conformance_tests::both_backends`).
//!
//! One binary on purpose: each file in `tests/` would be a separate slow link.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authorization_requests;
mod beheer_pages;
mod cluster;
mod code_and_tokens;
mod discovery;
mod examples;
mod flows;
mod home_pages;
mod leerpoort;
mod lesmateriaal;
mod node;
mod offboarding;
mod saml;
mod saml_guide;
mod saml_sps;
mod saml_upstream;
mod school_discovery;
mod school_pages;
mod scopes;
mod sessions;
mod upstream_oidc;
mod upstream_peer;
mod userinfo;
mod webhooks;
