//! The fuzz targets' entry points on their seed corpus (`protocol/fuzz/corpus/<target>/seed-*`).
#![allow(clippy::unwrap_used)]

/// The fuzz targets' entry points on their seed corpus (`protocol/fuzz/corpus/<target>/seed-*`):
/// no panic, and every seed named `valid` parses while every seed named `invalid` is refused.
#[test]
fn fuzz_seed_corpus() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    type Entry = fn(&[u8]);
    type Check = fn(&str) -> bool;
    let targets: &[(&str, Entry, Check)] = &[
        ("authn_request", protocol::fuzz::authn_request, |s| {
            protocol::saml::authn_request::parse_authn_request(s).is_ok()
        }),
        ("sp_metadata", protocol::fuzz::sp_metadata, |s| {
            protocol::saml::sp::parse(s).is_ok()
        }),
        ("logout_message", protocol::fuzz::logout_message, |s| {
            protocol::saml::logout::parse_logout(s).is_ok()
        }),
        ("redirect_binding", protocol::fuzz::redirect_binding, |s| {
            protocol::fuzz::redirect_query(s).is_ok()
        }),
        ("edexml", protocol::fuzz::edexml, |s| {
            protocol::edexml::parse(s.as_bytes()).is_ok()
        }),
        ("uwlr", protocol::fuzz::uwlr, |s| {
            protocol::uwlr::leerlinggegevens_antwoord(s.as_bytes()).is_ok()
        }),
        ("duo", protocol::fuzz::duo, |s| {
            protocol::duo::parse(s.as_bytes()).is_ok()
        }),
        ("spreadsheet", protocol::fuzz::spreadsheet, |s| {
            protocol::spreadsheet::parse(s.as_bytes()).is_ok()
        }),
        ("icon", protocol::fuzz::icon, |s| {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD.encode(s);
            protocol::icon::sanitise(&format!("image/svg+xml,{b64}")).is_ok()
        }),
    ];
    for (target, entry, check) in targets {
        let mut seeds = 0;
        for f in std::fs::read_dir(root.join(target)).unwrap() {
            let path = f.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if !name.starts_with("seed-") {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            entry(&data);
            let valid = name.starts_with("seed-valid");
            assert_eq!(
                check(std::str::from_utf8(&data).unwrap()),
                valid,
                "{target}/{name}"
            );
            seeds += 1;
        }
        assert!(seeds >= 3, "{target}: {seeds} seeds");
    }
}
