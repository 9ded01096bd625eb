//! # broker
//!
//! The decisions of Leerpoort, with no HTTP and no SQL in them: which relying party a school
//! allows (per-school registrations keyed by INSTELLING_REF), which claims are released, and
//! the storage traits that the `idp` crate implements.
//!
//! ## Error policy
//! Typed errors inside ([`repo::RepoError`], [`store::StoreError`]), each naming the field or
//! the rule at fault in one line; `anyhow` only at the edges of the binary. No `unwrap`,
//! `expect` or `panic` outside tests (the workspace lints deny them).

pub mod admin;
pub mod audit;
pub mod beheer;
pub mod clock;
pub mod devices;
pub mod discovery;
pub mod federation;
pub mod import;
pub mod keyspace;
pub mod licences;
pub mod login;
pub mod logout;
pub mod model;
pub mod oneroster;
pub mod ports;
pub mod random;
pub mod release;
pub mod repo;
pub mod schooldata;
pub mod secrets;
pub mod session;
pub mod store;
pub mod webhooks;
