//! The request: `HaalLeerlinggegevens`, a SOAP 1.1 envelope with the `<autorisatie>` in its
//! header and the `<leerlinggegevens_verzoek>` in its body.

use std::borrow::Cow;

use quick_xml::escape::escape;

use super::{AUTORISATIE_NS, LEERLINGGEGEVENS_NS, SOAP_ENVELOPE_NS, XSD_VERSIE};
use crate::edexml::decode::xml_char;

/// What the school gave the supplier to fetch its leerlinggegevens with: the SOAP header's
/// Autorisatiestructuur.
#[derive(Clone, PartialEq, Eq)]
pub struct Autorisatie {
    /// The key the school issued for this supplier in its LAS (a secret).
    pub autorisatiesleutel: String,
    /// The supplier's klantcode, as the LAS knows it.
    pub klantcode: String,
    /// The supplier's klantnaam.
    pub klantnaam: String,
}

impl std::fmt::Debug for Autorisatie {
    /// The key is a secret: it is not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Autorisatie")
            .field("autorisatiesleutel", &"…")
            .field("klantcode", &self.klantcode)
            .field("klantnaam", &self.klantnaam)
            .finish()
    }
}

/// How the request names the school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchoolRef {
    /// A Dutch school: `<brincode>` (`99ZZ`) and the optional `<dependancecode>` (`00`).
    Brin {
        /// The four-character BRIN code.
        brin4: String,
        /// The two-digit dependance code, when one is sent.
        dependance: Option<String>,
    },
    /// The school's key in the LAS (`<schoolkey>`), for a school without a BRIN code.
    Schoolkey(String),
}

/// The Leerlinggegevensverzoekbericht: which school, which school year, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verzoek {
    /// The school year asked for, `YYYY-YYYY+1` (`2026-2027`).
    pub schooljaar: String,
    /// The school.
    pub school: SchoolRef,
    /// `<laatstontvangengegevens>`: when the previous answer was received, an `xs:dateTime`
    /// text (`2026-11-11T00:05:46`) the caller formats from its own clock; `None` for all.
    pub laatst_ontvangen: Option<String>,
}

/// The request `HaalLeerlinggegevens`: the whole SOAP 1.1 envelope, with its XML
/// declaration, to POST with [`super::SOAP_ACTION`] and [`super::CONTENT_TYPE`]. It asks for
/// UWLR [`XSD_VERSIE`]. Every value is escaped; a character XML does not allow (a control
/// character) is written as U+FFFD, so that the request stays well-formed (the LAS then
/// refuses the value).
pub fn haal_leerlinggegevens(autorisatie: &Autorisatie, verzoek: &Verzoek) -> String {
    let mut x = String::with_capacity(1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str("<soap:Envelope xmlns:soap=\"");
    x.push_str(SOAP_ENVELOPE_NS);
    x.push_str("\">\n<soap:Header>\n<autorisatie xmlns=\"");
    x.push_str(AUTORISATIE_NS);
    x.push_str("\">");
    element(
        &mut x,
        "autorisatiesleutel",
        &autorisatie.autorisatiesleutel,
    );
    element(&mut x, "klantcode", &autorisatie.klantcode);
    element(&mut x, "klantnaam", &autorisatie.klantnaam);
    x.push_str("</autorisatie>\n</soap:Header>\n<soap:Body>\n<leerlinggegevens_verzoek xmlns=\"");
    x.push_str(LEERLINGGEGEVENS_NS);
    x.push_str("\">");
    element(&mut x, "schooljaar", &verzoek.schooljaar);
    match &verzoek.school {
        SchoolRef::Brin { brin4, dependance } => {
            element(&mut x, "brincode", brin4);
            if let Some(d) = dependance {
                element(&mut x, "dependancecode", d);
            }
        }
        SchoolRef::Schoolkey(key) => element(&mut x, "schoolkey", key),
    }
    element(&mut x, "xsdversie", XSD_VERSIE);
    if let Some(t) = &verzoek.laatst_ontvangen {
        element(&mut x, "laatstontvangengegevens", t);
    }
    x.push_str("</leerlinggegevens_verzoek>\n</soap:Body>\n</soap:Envelope>\n");
    x
}

/// `<name>value</name>`, the value escaped.
fn element(x: &mut String, name: &str, value: &str) {
    x.push('<');
    x.push_str(name);
    x.push('>');
    x.push_str(&escape(xml_text(value)));
    x.push_str("</");
    x.push_str(name);
    x.push('>');
}

/// `value` with every character XML 1.0 does not allow replaced by U+FFFD.
fn xml_text(value: &str) -> Cow<'_, str> {
    if value.chars().all(xml_char) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(
            value
                .chars()
                .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}
