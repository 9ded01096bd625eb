//! Entry points of the fuzz targets in `protocol/fuzz/` (cargo fuzz). They are also run on
//! the seed corpus by the ordinary tests, so every target is exercised by `cargo test`
//! without libFuzzer. Each takes arbitrary bytes and must neither panic nor hang.

use crate::saml::{authn_request, binding, logout, sp, Refusal};

/// The AuthnRequest parser.
pub fn authn_request(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = authn_request::parse_authn_request(s);
    }
}

/// The SP metadata parser.
pub fn sp_metadata(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(m) = sp::parse(s) {
            let _ = m.acs_for(None, None);
            let _ = m.prefers_transient();
        }
    }
}

/// The logout message parser.
pub fn logout_message(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = logout::parse_logout(s);
    }
}

/// The EDEXML parser and validator, on raw bytes (it decodes them itself).
pub fn edexml(data: &[u8]) {
    if let Ok(file) = crate::edexml::parse(data) {
        let _ = file.version.as_str();
    }
}

/// The reader of a UWLR answer (the SOAP envelope, then EDEXML), on raw bytes.
pub fn uwlr(data: &[u8]) {
    match crate::uwlr::leerlinggegevens_antwoord(data) {
        Ok(file) => {
            let _ = file.leerlingen.len();
        }
        Err(e) => {
            let _ = (e.line(), e.refuses_autorisatie(), e.to_string());
        }
    }
}

/// The reader of DUO's registry file, on raw bytes (it decodes them itself).
pub fn duo(data: &[u8]) {
    if let Ok(file) = crate::duo::parse(data) {
        let _ = file.vestigingen.last().map(|v| v.brin6());
    }
}

/// A publisher's icon, as SVG and as PNG: whatever the sanitiser lets through is safe
/// ([`crate::icon::is_safe`]).
pub fn icon(data: &[u8]) {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    for content_type in ["image/svg+xml", "image/png"] {
        if let Ok(icon) = crate::icon::sanitise(&format!("{content_type},{encoded}")) {
            if icon.content_type == "image/svg+xml" {
                assert!(
                    crate::icon::is_safe(&icon.bytes),
                    "the sanitiser let through: {}",
                    String::from_utf8_lossy(&icon.bytes)
                );
            }
        }
    }
}

/// The spreadsheet reader (CSV, and XLSX when the bytes are a zip container), on raw bytes.
pub fn spreadsheet(data: &[u8]) {
    if let Ok(sheet) = crate::spreadsheet::parse(data) {
        let _ = sheet.rows.iter().map(|r| r.groepen.len()).sum::<usize>();
    }
}

/// The Redirect binding: a query string parsed as `/saml/sso` parses it, the message
/// decoded, then the AuthnRequest parser. `Ok` when every step accepts it.
pub fn redirect_query(query: &str) -> Result<(), Refusal> {
    let q = binding::RedirectQuery::parse(query, &["SAMLRequest"])?;
    let _ = q.relay_state();
    let xml = binding::decode_redirect(&q.message.value)?;
    authn_request::parse_authn_request(&xml).map(|_| ())
}

/// The Redirect binding's query parser and decoding, then the AuthnRequest parser.
pub fn redirect_binding(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = redirect_query(s);
    }
}
