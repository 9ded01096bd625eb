//! A SAML network environment nobody in this project wrote: PyPI's `pysaml2` as identity
//! provider (`saml2.server.Server`, `conformance-tests/saml/idp.py`), against the real binary.
//! Leerpoort sends a signed AuthnRequest over HTTP-Redirect (pysaml2 verifies it against
//! Leerpoort's SP metadata), pysaml2 signs a pupil in with a signed Response and a signed
//! assertion, Leerpoort's ACS verifies it and matches the pupil by LAS key, and a publisher's
//! OIDC client then gets an ID token with `login_context` `netwerk` without any login form.
//! pysaml2 then signs the pupil out (a signed LogoutRequest), and Leerpoort ends the session
//! and answers with a signed LogoutResponse that pysaml2 verifies.
//!
//! The venv is `saml.rs`'s: without `python3` (with `venv`) or `xmlsec1` the test fails when
//! `CI` is set, and says it did not run otherwise.

use std::process::Command;

use conformance_tests::{both_backends, code_flow, AuthRequest};
use serde_json::{json, Value};

use crate::saml::{pysaml2_or_skip, python, saml_dir, Sp};

#[test]
fn pysaml2_idp_signs_a_pupil_in_for_a_publisher() {
    if !pysaml2_or_skip() {
        return;
    }
    both_backends(|server| {
        let work = tempfile::tempdir().unwrap();
        // Nothing listens here: the browser stops where it is sent to the IdP.
        let idp_base = format!(
            "http://127.0.0.1:{}",
            conformance_tests::server::free_port()
        );
        let out = Command::new(python())
            .arg(saml_dir().join("idp.py"))
            .args(["metadata", work.path().to_str().unwrap()])
            .env("IDP_BASE", &idp_base)
            .output()
            .expect("idp.py metadata");
        assert!(
            out.status.success(),
            "idp.py metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let made: Value = serde_json::from_slice(&out.stdout).unwrap();
        let added = server.cli(&[
            "upstream",
            "add",
            "--name",
            "pysaml2",
            "--school",
            &server.school_ref(),
            "--saml-metadata",
            made["metadata"].as_str().unwrap(),
            "--match",
            "las-key",
            "--claim",
            "lasKey",
        ]);
        let sp_metadata = added["sp_metadata"].as_str().unwrap().to_string();
        assert_eq!(sp_metadata, server.url("/broker/saml/metadata"), "{added}");

        let mut idp = Sp::script(
            "idp.py",
            work.path(),
            &[("IDP_BASE", &idp_base), ("SP_METADATA_URL", &sp_metadata)],
        );
        let rp = server.demo_rp();
        // A browser that never fills Leerpoort's login form.
        let browser = server.browser();

        // The network environment's shortcut: sign in there, then on to the publisher.
        let start = format!(
            "{}?upstream=pysaml2&INSTELLING_REF={}&TARGET={}",
            server.url("/broker/saml/start"),
            server.school_ref(),
            rp.client_id
        );
        let at_idp = browser.get(&start);
        assert!(
            at_idp.left_server && at_idp.url.as_str().starts_with(&format!("{idp_base}/sso?")),
            "{}",
            at_idp.describe()
        );
        let answer = idp.ask(&format!(
            "sso {} {}",
            at_idp.url,
            json!({"las_key": "LL0001", "affiliation": "student"})
        ));
        assert_eq!(answer["signature_verified"], true, "{answer}");
        assert_eq!(answer["issuer"], sp_metadata.as_str(), "{answer}");
        assert_eq!(answer["action"], server.url("/broker/saml/acs"), "{answer}");
        let fields: Vec<(String, String)> = answer["fields"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let landing = browser.post_form(answer["action"].as_str().unwrap(), fields.clone());
        assert_eq!(landing.login_forms, 0, "{}", landing.describe());
        // On to the publisher's third-party-initiated login, as the shortcut's TARGET says.
        assert!(landing.left_server, "{}", landing.describe());
        assert!(
            landing.params().get("iss").map(String::as_str) == Some(server.issuer.as_str()),
            "{}",
            landing.describe()
        );
        assert!(
            !landing.trail.iter().any(|u| u.contains("/login")),
            "{}",
            landing.describe()
        );

        // The publisher: an ID token for the pupil, signed in through the network.
        let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
        assert_eq!(flow.landing.login_forms, 0, "{}", flow.landing.describe());
        assert_eq!(browser.logins(), 0);
        let claims = &flow.tokens.claims;
        assert_eq!(claims["login_context"], "netwerk", "{claims}");
        assert_eq!(claims["role"], "leerling", "{claims}");
        assert_eq!(claims["instelling_ref"], server.school_ref(), "{claims}");

        // Single Logout started at the network environment: pysaml2 signs a LogoutRequest,
        // Leerpoort ends the session and answers with a signed LogoutResponse.
        let go = idp.ask("logout");
        let back = browser.get(go["url"].as_str().unwrap());
        assert!(
            back.left_server
                && back
                    .url
                    .as_str()
                    .starts_with(&format!("{idp_base}/slo?SAMLResponse=")),
            "{}",
            back.describe()
        );
        let done = idp.ask(&format!("slo-response {}", back.url));
        assert_eq!(done["status_ok"], true, "{done}");
        assert_eq!(done["signature_verified"], true, "{done}");
        assert_eq!(done["in_response_to"], go["request_id"], "{done}");
        assert_eq!(done["relay_state"], "terug", "{done}");
        // The publisher now meets the login form: the session is gone.
        let after = AuthRequest::new(&rp).send(server, &browser);
        assert!(after.stopped_at_login, "{}", after.describe());

        // The same Response again: a replay, refused with a page and no session.
        let other = server.browser();
        let replay = other.post_form(answer["action"].as_str().unwrap(), fields);
        assert!(
            !replay.left_server && replay.status == 400,
            "{}",
            replay.describe()
        );

        // A publisher's idp_hint: straight to the SAML network environment, and back to the
        // publisher's waiting request with a code.
        let hinted = server.browser();
        let req = AuthRequest::new(&rp).set("idp_hint", "pysaml2");
        let at_idp = hinted.get(&req.url(server));
        assert!(
            at_idp.left_server && at_idp.url.as_str().starts_with(&format!("{idp_base}/sso?")),
            "{}",
            at_idp.describe()
        );
        let answer = idp.ask(&format!(
            "sso {} {}",
            at_idp.url,
            json!({"las_key": "LL0001", "affiliation": "student"})
        ));
        let fields: Vec<(String, String)> = answer["fields"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let back = hinted.post_form(answer["action"].as_str().unwrap(), fields);
        assert!(
            back.left_server && back.url.as_str().starts_with(&rp.redirect_uri),
            "{}",
            back.describe()
        );
        assert!(back.params().contains_key("code"), "{}", back.url);
    });
}
