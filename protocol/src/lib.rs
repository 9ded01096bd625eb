//! # protocol
//!
//! Leerpoort's protocol layer, on its own.
//!
//! [`saml`], SAML 2.0: parsing and building messages (`AuthnRequest`, `Response`,
//! `LogoutRequest`, `LogoutResponse`), the HTTP-Redirect and HTTP-POST bindings, reading
//! service-provider and identity-provider metadata and building Leerpoort's own, the
//! hostile-input checks every XML document passes first, verifying enveloped signatures, and
//! encrypting assertions.
//!
//! [`edexml`], EDEXML: reading and validating EDEXML 1.0.3, 2.0 and 2.1, the XML in which a school's
//! pupil administration exports its groepen, leerlingen and leerkrachten (the importer in
//! `broker` takes what it returns).
//!
//! [`uwlr`], UWLR 2.3 (Uitwisseling Leerlinggegevens en Resultaten): the SOAP 1.1 request
//! `HaalLeerlinggegevens` with which a supplier fetches a school's leerlinggegevens from its
//! LAS (the "Alles-in-één-overdracht"), and reading the answer into the same
//! [`edexml::Edexml`], validated by every EDEXML rule, or its SOAP fault.
//!
//! [`duo`], DUO's registry of school locations: the `;`-separated file "alle vestigingen" in
//! Windows-1252 or UTF-8, with its official names and addresses.
//!
//! [`spreadsheet`], the spreadsheet a school without an LAS fills in itself: CSV (`;` or `,`,
//! UTF-8 or Windows-1252) or an Excel workbook (XLSX, read with calamine after its zip
//! container was checked), one row per leerling or leerkracht.
//!
//! [`oidc`], OpenID Connect and OAuth 2.0: validating the authorization request, what a
//! client presented to authenticate and the checks on its assertion, the claims of the ID,
//! access and logout tokens, compact JWS and public JWKs, the discovery document, and the
//! error codes.
//!
//! It decides nothing about users, schools or relying parties (that is `broker`'s), and it
//! does no I/O: no HTTP framework, no storage, no application state, no network, no files, no
//! clock (the time is always a parameter) and no logging. What it needs from the server —
//! the IdP's entity ID and URLs, message IDs, signing with a private key — comes in as
//! arguments or as a closure. The only outside thing it touches is the operating system's
//! random generator, for the key and IV of an encrypted assertion. `idp` puts it behind its
//! endpoints; the fuzz targets in `protocol/fuzz/` call it through [`fuzz`].
//!
//! ## Error policy
//! Typed errors that say what is at fault: [`oidc::OidcError`] for OpenID Connect (the codes
//! and descriptions a client is told), [`saml::Refusal`] for a message that is refused
//! (each has a stable [`saml::Refusal::reason`] for the logs; the texts a user sees are
//! `idp`'s), [`saml::sp::MetadataError`] and [`saml::upstream::IdpMetadataError`] for
//! metadata, [`edexml::EdexmlError`] (with its line) for an EDEXML file, [`uwlr::UwlrError`]
//! for a UWLR answer (a SOAP fault, another shape, or the EDEXML error on its line), and small ones for
//! building ([`saml::encrypt::EncryptError`]), and [`duo::DuoError`] (with its line) for DUO's
//! file. No
//! `unwrap`/`expect`/`panic` outside tests: the workspace lints deny them, and every parser
//! here takes hostile input.

pub mod duo;
pub mod edexml;
pub mod fuzz;
pub mod icon;
pub mod oidc;
pub mod saml;
pub mod spreadsheet;
pub mod uwlr;
