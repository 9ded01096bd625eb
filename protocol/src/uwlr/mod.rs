//! UWLR 2.3 ("Uitwisseling Leerlinggegevens en Resultaten", Edustandaard): the SOAP messages
//! of the "Alles-in-één-overdracht" in which a school's pupil administration (LAS) hands its
//! leerlinggegevens to a supplier. [`haal_leerlinggegevens`] builds the request; the answer is
//! read by [`leerlinggegevens_antwoord`] into the same [`Edexml`](crate::edexml::Edexml) an
//! uploaded EDEXML file gives, validated by the same rules.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the namespaces, the HTTP constants ([`SOAP_ACTION`], [`CONTENT_TYPE`]) and [`UwlrError`] |
//! | `request.rs` | [`Autorisatie`], [`Verzoek`], [`SchoolRef`] and the request envelope, [`haal_leerlinggegevens`] |
//! | `answer.rs` | reading the answer: the envelope, a SOAP fault, and `<leerlinggegevens>` handed to the EDEXML validator |
//!
//! ## The exchange
//! SOAP 1.1 over HTTPS (the HTTP part is the caller's): a POST with `Content-Type:
//! text/xml; charset=utf-8` and `SOAPAction: "HaalLeerlinggegevens"`.
//! - The request's SOAP header holds the `<autorisatie>` (namespace [`AUTORISATIE_NS`]): the
//!   school's autorisatiesleutel for this supplier, and the supplier's klantcode and klantnaam.
//!   Its body holds `<leerlinggegevens_verzoek>` (namespace [`LEERLINGGEGEVENS_NS`]):
//!   `schooljaar`, then optionally `brincode`, `dependancecode`, `schoolkey`, `xsdversie`
//!   (always [`XSD_VERSIE`] here), `gegevenssetid` (not sent) and `laatstontvangengegevens`.
//! - The answer's body holds `<leerlinggegevens_antwoord><leerlinggegevens>`, whose content is
//!   that of EDEXML 2.1's `<EDEX>` (`<school>`, `<vestigingen>`, `<groepen>`, `<leerlingen>`,
//!   `<leerkrachten>`, with their `key` and `eckid` attributes) in the leerlinggegevens
//!   namespace, by a default namespace or a prefix. Its `<school><xsdversie>` names the UWLR
//!   version (`2.2` or `2.3`; both carry EDEXML 2.1), not EDEXML's.
//! - A refusal is a SOAP `<Fault>` (`faultcode`, `faultstring`, `detail`); a wrong
//!   autorisatiesleutel is refused so (see [`UwlrError::refuses_autorisatie`]).
//!
//! ## How the answer is read
//! One pass with quick-xml's namespace-aware reader, under the rules [`crate::edexml`] reads
//! a file by (the size limit [`MAX_BYTES`](crate::edexml::MAX_BYTES), the encodings, no
//! DOCTYPE, no processing instruction but the XML declaration, only the predefined entities,
//! bounded nesting and text; a truncated answer is an error at its last line, never a partial
//! result). The envelope must be `Envelope` > `Header`? > `Body` in SOAP 1.1's namespace, the
//! body one `Fault` or one `leerlinggegevens_antwoord` in the leerlinggegevens namespace. The
//! `<leerlinggegevens>` subtree is written out again as an EDEXML document: the root named
//! `<EDEX>`, every element by its local name (the EDEXML elements must be in the
//! leerlinggegevens namespace or in none; inside `<toevoegingen>` the vendor's are left
//! alone), unprefixed attributes kept, namespace declarations and prefixed attributes
//! dropped, text escaped again, and `<school><xsdversie>` `2.2`/`2.3` written as `2.1` (other
//! values are refused). Newlines are put in so that every tag is on the line it has in the
//! answer, and [`crate::edexml::parse`] then applies every EDEXML rule to it: its errors carry
//! the answer's line numbers. The [`Edexml`](crate::edexml::Edexml) returned has version 2.1.

mod answer;
mod request;

pub use answer::leerlinggegevens_antwoord;
pub use request::{haal_leerlinggegevens, Autorisatie, SchoolRef, Verzoek};

use crate::edexml::EdexmlError;

/// The `SOAPAction` HTTP header of the request, with the quotes SOAP 1.1 sends it in.
pub const SOAP_ACTION: &str = "\"HaalLeerlinggegevens\"";

/// The `Content-Type` of the request (and of the answer): SOAP 1.1.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// SOAP 1.1's envelope namespace.
pub const SOAP_ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// The namespace of the `<autorisatie>` in the SOAP header.
pub const AUTORISATIE_NS: &str = "http://www.edustandaard.nl/leerresultaten/2/autorisatie";

/// The namespace of the request and of the answer's leerlinggegevens.
pub const LEERLINGGEGEVENS_NS: &str =
    "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens";

/// The UWLR version the request asks for (`<xsdversie>`).
pub const XSD_VERSIE: &str = "2.3";

/// The UWLR versions whose answer is read (`<school><xsdversie>`); both carry EDEXML 2.1.
pub const UWLR_VERSIONS: [&str; 2] = ["2.2", "2.3"];

/// Why an answer gives no leerlinggegevens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UwlrError {
    /// The LAS refused the request with a SOAP fault: its `faultcode` (as written, e.g.
    /// `soap:Client`) and its `faultstring`, trimmed, runs of whitespace made one space and cut
    /// to about 300 characters.
    #[error("the LAS answered with a SOAP fault {code}: {message}")]
    Fault {
        /// The `faultcode`, a qualified name such as `soap:Client` or `soap:Server`.
        code: String,
        /// The `faultstring`, for the operator.
        message: String,
    },
    /// The answer is XML but not the expected SOAP shape: another root than SOAP 1.1's
    /// `Envelope`, no `Body`, a body that holds something other than one `Fault` or one
    /// `leerlinggegevens_antwoord`, or an antwoord without `<leerlinggegevens>`.
    #[error("line {line}: the answer is not a UWLR leerlinggegevens answer: {message}")]
    NotSoap {
        /// The 1-based line of the element at fault (or the last line).
        line: u32,
        /// What is wrong, in English.
        message: String,
    },
    /// The answer is refused as XML (too large, not decodable, malformed or truncated, a
    /// DOCTYPE, an unknown entity, beyond the limits) or its leerlinggegevens are not valid
    /// EDEXML 2.1 (or name a UWLR version other than 2.2 and 2.3): the EDEXML error, on the
    /// answer's line.
    #[error("line {}: {}", .0.line, .0.message)]
    Invalid(EdexmlError),
}

impl UwlrError {
    /// The line the error is on, when it has one (a fault has none).
    pub fn line(&self) -> Option<u32> {
        match self {
            UwlrError::Fault { .. } => None,
            UwlrError::NotSoap { line, .. } => Some(*line),
            UwlrError::Invalid(e) => Some(e.line),
        }
    }

    /// Whether this is a SOAP fault that refuses the autorisatie: its faultstring mentions it
    /// (`autoris…`, `authoris…` or `authoriz…`, in any case, as LASs word it). The school's
    /// key or the klantcode is then wrong or withdrawn, rather than the LAS being down.
    pub fn refuses_autorisatie(&self) -> bool {
        match self {
            UwlrError::Fault { message, .. } => {
                let m = message.to_lowercase();
                m.contains("autoris") || m.contains("authoris") || m.contains("authoriz")
            }
            _ => false,
        }
    }
}
