//! The pysaml2 service provider exactly as `docs/integrate-saml.md` documents it (section 8):
//! its two Python blocks are read from the guide and run unchanged but for the example hosts
//! (`conformance-tests/saml/guide_sp.py`), with the attribute map the guide ships
//! (`docs/saml/attributemaps/leerpoort.py`) and the metadata-signing certificate pinned. The
//! test signs a teacher in SP-initiated and checks what pysaml2 hands the application: the
//! persistent pseudonym and every attribute the school releases.

use std::path::{Path, PathBuf};
use std::process::Command;

use conformance_tests::{both_backends, Landing, ANNA};
use scraper::{Html, Selector};
use serde_json::{json, Value};

use crate::saml::{pysaml2_or_skip, python, saml_dir, Sp};
use crate::saml_sps::metadata_signing_certificate;

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

/// The field `name` of the auto-submitted form to the ACS.
fn posted(landing: &Landing, name: &str) -> String {
    let doc = Html::parse_document(&landing.body);
    let sel = Selector::parse(&format!("form[method=post] input[name={name}]")).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|i| i.value().attr("value"))
        .unwrap_or_else(|| panic!("no {name}: {}", landing.describe()))
        .to_string()
}

#[test]
fn pysaml2_as_the_guide_configures_it_receives_the_attributes() {
    if !pysaml2_or_skip() {
        return;
    }
    both_backends(|server| {
        // The files the guide names, in the SP's working directory.
        let work = tempfile::tempdir().unwrap();
        let out = Command::new(python())
            .current_dir(work.path())
            .args([
                "-c",
                "import sys; sys.path.insert(0, sys.argv[1]); import sp; sp.key_pair('.')",
                saml_dir().to_str().unwrap(),
            ])
            .output()
            .expect("making the SP's key pair");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(
            work.path().join("leerpoort-metadata-signing.crt"),
            metadata_signing_certificate(server),
        )
        .unwrap();
        std::fs::create_dir(work.path().join("attributemaps")).unwrap();
        std::fs::copy(
            docs().join("saml/attributemaps/leerpoort.py"),
            work.path().join("attributemaps/leerpoort.py"),
        )
        .unwrap();
        let sp_base = format!(
            "http://127.0.0.1:{}",
            conformance_tests::server::free_port()
        );
        let guide = docs().join("integrate-saml.md");
        let env = [
            ("SP_BASE", sp_base.as_str()),
            ("IDP_BASE", server.issuer.as_str()),
            ("GUIDE", guide.to_str().unwrap()),
        ];

        // The SP's metadata, written from the guide's configuration, goes to the operator.
        let out = Command::new(python())
            .current_dir(work.path())
            .arg(saml_dir().join("guide_sp.py"))
            .args(["metadata", work.path().to_str().unwrap()])
            .envs(env)
            .output()
            .expect("guide_sp.py metadata");
        assert!(
            out.status.success(),
            "the guide's configuration does not load: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let made: Value = serde_json::from_slice(&out.stdout).unwrap();
        let entity_id = made["entity_id"].as_str().unwrap().to_string();
        assert_eq!(entity_id, format!("{sp_base}/sp"));
        server.cli(&[
            "saml-sp",
            "add",
            "--metadata",
            made["metadata"].as_str().unwrap(),
            "--name",
            "Uitgever volgens de handleiding",
        ]);
        server.cli(&[
            "register",
            "--school",
            &server.school_ref(),
            "--rp",
            &entity_id,
        ]);

        // The guide's login() and acs(), with a teacher signing in.
        let mut sp = Sp::script("guide_sp.py", work.path(), &env);
        let go = sp.ask("login");
        let browser = server.browser_as(ANNA);
        let landing = browser.get(go["url"].as_str().unwrap());
        let result = sp.ask(&format!(
            "acs {}",
            json!({"SAMLResponse": posted(&landing, "SAMLResponse")})
        ));
        let name_id = result["name_id"].as_str().unwrap();
        assert!(
            name_id.len() == 64 && name_id.bytes().all(|b| b.is_ascii_hexdigit()),
            "the persistent pseudonym: {result}"
        );
        let a = &result["attributes"];
        assert!(
            a["eckId"][0]
                .as_str()
                .unwrap_or("")
                .starts_with("https://ketenid.nl/"),
            "{result}"
        );
        assert_eq!(a["instellingRef"], json!([server.school_ref()]), "{result}");
        assert_eq!(a["role"], json!(["leerkracht"]), "{result}");
        assert_eq!(a["eduPersonAffiliation"], json!(["employee"]), "{result}");
        assert_eq!(a["loginContext"], json!(["school"]), "{result}");
        let brin6 = server.demo["school"]["brin6"].as_str().unwrap();
        assert_eq!(
            a["nlEduPersonHomeOrganizationBranchId"],
            json!([brin6]),
            "{result}"
        );
        assert_eq!(
            a["nlEduPersonHomeOrganizationId"],
            json!([&brin6[..4]]),
            "{result}"
        );
        assert!(
            a["groups"].as_array().is_some_and(|g| !g.is_empty()),
            "{result}"
        );
        assert_eq!(
            a["groups"].as_array().map(Vec::len),
            a["groupNames"].as_array().map(Vec::len),
            "{result}"
        );
        assert!(
            a.get("givenName").is_none(),
            "names are not released: {result}"
        );
    });
}
