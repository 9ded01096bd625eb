//! EDEXML: the Dutch (and Flemish) exchange format in which a school's pupil administration
//! (LAS: ParnasSys, ESIS, …) exports its groepen, leerlingen and leerkrachten. [`parse`]
//! reads EDEXML 1.0.3, 2.0 and 2.1 in one streaming pass and validates it against the rules of
//! the Edustandaard schemas; the first error is returned with its line.
//!
//! | file | what |
//! |---|---|
//! | `model.rs` | what is returned: [`Edexml`], [`SchoolId`], [`Groep`], [`Leerling`], …, and [`EdexmlError`] |
//! | `decode.rs` | bytes to text: size limit, byte order mark, encoding, characters XML forbids, line numbers |
//! | `reader.rs` | the pass with quick-xml: no DTD, no processing instruction, only predefined entities, limits |
//! | `schema.rs` | the content models and simple types of the three schemas as one grammar, and its matcher |
//! | `validate.rs` | order, required elements, attributes, versions, keys and keyrefs, and the records |
//!
//! ## The version
//! An EDEXML file has no version attribute: its root is `<EDEX>` without a namespace in every
//! version. The version is decided thus:
//! 1. `<school><xsdversie>` ("always equal to the version of the XSD referred to"), when it
//!    is there: `1.03` or `1.0.3`, `2.0`, `2.1` (any other value is refused). The file is then
//!    validated against that version: an element, attribute or value that came with a later
//!    version is an error (`<vestigingen>` in a 1.0.3 file, `eckid` or the role `TAL` in a
//!    2.0 file).
//! 2. Otherwise, the lowest version whose schema accepts the file: 2.1 when it has an `eckid`,
//!    the role `TAL` or a key longer than 64 characters; else 2.0 when it has anything 2.0
//!    added (`<vestigingen>`, `<samengestelde_groep>`, `<rol>`, `<emailadres>`,
//!    `<instellingsnummer>`, jaargroep `C`, …); else 1.0.3. Each version is a superset of the
//!    one before, so a file without anything later is a valid 1.0.3 file.
//!
//! ## What is checked, from the schemas
//! - The order of the elements and the required ones, per the `xs:sequence`s, and no element
//!   the schema does not have: unknown elements are refused with their name and line. The
//!   content of a `<toevoegingen><blok>` after its `<code>` is the vendor's (its `xsi:type`)
//!   and is skipped, within the limits below.
//! - Attributes: `key` where the schema requires it (1 to 64 characters, 256 in 2.1), `eckid`
//!   on leerling and leerkracht (2.1); no other unprefixed attribute. Prefixed attributes
//!   (`xsi:type`, `xsi:noNamespaceSchemaLocation`) and namespace declarations are set aside;
//!   a default namespace is refused (EDEXML has none).
//! - Keys unique: vestigingen; groepen and samengestelde groepen together (one key space, as
//!   `groepKeyUnique`); leerlingen; leerkrachten. Keyrefs: a leerling's groep, samengestelde
//!   groepen and vestiging, a leerkracht's groepen and samengestelde groepen.
//! - `eckid` unique across the whole file (leerlingen and leerkrachten together; the 2.1 schema
//!   asks it per list). Its value is only trimmed, not checked against the ECK-iD format (the
//!   2.1 example holds an old-style `https://id.school/…!@#$%^…`): the importer decides.
//! - Simple types: lengths, dates (real calendar dates), date-times, BRIN, dependance code,
//!   instellingsnummer, BSN and other numbers, postcodes, and the enumerations (geslacht,
//!   jaargroep with `S`, `H`, `C`…, roles, etniciteit, gewicht). `schooljaar` is checked as
//!   `YYYY-YYYY+1`, not against the schemas' enumeration, which stops at a fixed year. Country
//!   codes are checked for their form (two capitals, or `?`). Text values are trimmed.
//! - The `xs:choice`s the grammar flattens: a person has an `<achternaam>` or a `<roepnaam>`
//!   alone; `<dependancecode>` only after `<brincode>`; in 1.0.3 a leerling has a jaargroep
//!   or a groep, not both.
//! - Beyond the schema: a school must have a `<brincode>` or an `<instellingsnummer>` (the
//!   schema also allows a `<schoolkey>` alone, which names no school).
//!
//! ## Hostile input
//! - More than [`MAX_BYTES`] is refused before anything is read.
//! - Encoding: UTF-8 (an optional byte order mark; a declared `US-ASCII` is read as UTF-8), and
//!   ISO-8859-1 / Windows-1252 when the XML declaration names them, decoded as Windows-1252
//!   (as browsers do; it agrees with ISO-8859-1 on every printable character) with its five
//!   undefined bytes refused. Invalid UTF-8, UTF-16/32 and other encodings are refused, as are
//!   characters XML 1.0 forbids (control characters, also as character references).
//! - No DOCTYPE (so no DTD, no entity declaration, no external entity, no billion laughs): it
//!   is refused, never expanded, and so is a reference to any entity other than the five
//!   predefined ones. No processing instruction other than the XML declaration, which must
//!   come first and say version 1.0.
//! - Elements nested at most [`MAX_DEPTH`] deep; a text node, an attribute value and the text
//!   of an element at most [`MAX_TEXT`] bytes.
//! - A truncated file is an error at its last line, never a partial result. Nothing panics.

pub(crate) mod decode;
pub mod model;
pub(crate) mod reader;
mod schema;
mod validate;

pub use model::{
    Edexml, EdexmlError, Groep, Leerkracht, Leerling, Persoon, SamengesteldeGroep, SchoolId,
    Version, Vestiging,
};

/// The largest file read, in bytes: larger ones are refused before parsing.
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

/// The deepest element nesting accepted (EDEXML itself needs 6; vendor blocks a few more).
pub const MAX_DEPTH: usize = 32;

/// The longest text node, attribute value or element text accepted, in bytes.
pub const MAX_TEXT: usize = 64 * 1024;

/// Read and validate an EDEXML file (1.0.3, 2.0 or 2.1): the file, or the first error with
/// its line. See the module documentation for the version rule, the checks and the limits.
pub fn parse(bytes: &[u8]) -> Result<Edexml, EdexmlError> {
    let (text, encoding) = decode::decode(bytes)?;
    reader::read(&text, encoding)
}
