//! Helpers the XML readers' tests share (`edexml.rs`, `uwlr.rs`).
#![allow(dead_code)]

/// The fixture `name` in `tests/fixtures/DIR/`.
pub fn fixture_in(dir: &str, name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    std::fs::read_to_string(format!("{path}{dir}/{name}")).unwrap()
}

/// `xml` with `from` (which must occur exactly once) replaced by `to`.
pub fn with(xml: &str, from: &str, to: &str) -> String {
    assert_eq!(xml.matches(from).count(), 1, "{from:?} must occur once");
    xml.replacen(from, to, 1)
}

/// The 1-based line of the first `needle` in `xml`.
pub fn line_of(xml: &str, needle: &str) -> u32 {
    let at = xml
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not found"));
    u32::try_from(xml[..at].matches('\n').count() + 1).unwrap()
}
