//! # claims
//!
//! Leerpoort's claim and attribute types: school identifiers ([`InstellingRef`], [`Brin4`],
//! [`Brin6`]), the pupil/teacher chain identifier ([`EckId`]), roles and year groups
//! ([`Role`], [`Audience`], [`LoginContext`], [`Jaargroep`]), pairwise pseudonyms
//! ([`pairwise_subject`]) and the claims released to a relying party ([`ClaimSet`],
//! [`Release`]).
//!
//! The crate is pure: no I/O, no clock, no database. Every parser is strict and reports
//! problems as a [`ClaimsError`] whose message a school's ICT coordinator can act on.
//!
//! ## Privacy
//! ECK-iDs, names and e-mail addresses never appear in `Debug` output or error messages; use
//! [`EckId::log_tag`] to correlate traces.

#![warn(missing_docs)]

mod claimset;
mod eckid;
mod error;
mod pseudonym;
mod role;
mod school;

pub use claimset::{ClaimSet, GroupClaim, Release, CLAIMS_SUPPORTED};
pub use eckid::EckId;
pub use error::{ClaimsError, EckIdProblem};
pub use pseudonym::{pairwise_subject, PairwiseSubject, PseudonymKey, Sector};
pub use role::{Audience, Jaargroep, LoginContext, Role};
pub use school::{Brin4, Brin6, InstellingRef};
