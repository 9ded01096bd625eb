//! Lesmateriaal in a real browser: a publisher's back end pushes a title with its icon and a
//! licence for a group through the licence API; a pupil of that group signs in at the school
//! entrance, finds the title as a tile with its picture on the start page, clicks it, and lands
//! in the product at the publisher (third-party-initiated login whose `target_link_uri` is the
//! product's URL).

use base64::Engine as _;
use conformance_tests::chromium::Chromium;
use conformance_tests::http;
use conformance_tests::publisher::Publisher;
use conformance_tests::{both_backends, Server};
use serde_json::{json, Value};

/// A small coloured square, as a publisher's icon.
const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#1f7a4d"/><circle cx="32" cy="32" r="16" fill="#fff"/></svg>"##;

/// The publisher's back end: a token with scope `licenties`, then `method path` with `body`.
fn call(server: &Server, publisher: &Publisher, method: &str, path: &str, body: Value) -> Value {
    let c = http::client();
    let token: Value = c
        .post(server.url("/oidc/token"))
        .basic_auth(publisher.client_id(), publisher.client_secret())
        .form(&[("grant_type", "client_credentials"), ("scope", "licenties")])
        .send()
        .expect("token request")
        .json()
        .expect("token answer");
    let at = token["access_token"].as_str().expect("an access token");
    let url = server.url(&format!("/api/licenties/v1{path}"));
    let req = match method {
        "PUT" => c.put(url),
        _ => c.post(url),
    };
    let res = req.bearer_auth(at).json(&body).send().expect("API call");
    assert!(
        res.status().is_success(),
        "{method} {path}: {}",
        res.status()
    );
    res.json().expect("a JSON answer")
}

#[test]
fn a_licensed_title_is_a_tile_that_opens_the_product_in_the_browser() {
    both_backends(|server| {
        let publisher = Publisher::start(server, "Rekenwereld", &["--audience", "leerling"]);
        let icon = format!(
            "image/svg+xml,{}",
            base64::engine::general_purpose::STANDARD.encode(ICON)
        );
        call(
            server,
            &publisher,
            "PUT",
            "/methodes/rekenwereld",
            json!({"id": "rekenwereld", "naam": "Rekenwereld", "icon": icon,
                "url": publisher.url("/rekenwereld")}),
        );
        call(
            server,
            &publisher,
            "POST",
            "/methodes/rekenwereld/producten",
            json!({"id": "rw-3", "code": "RW3", "naam": "Rekenwereld groep 3",
                "url": publisher.url("/rekenwereld/groep-3")}),
        );
        let granted = call(
            server,
            &publisher,
            "PUT",
            "/methodes/rekenwereld/producten/rw-3/groepen",
            json!({"groepen": [{"instellingRef": server.school_ref(), "groep": "groep-3a"}]}),
        );
        assert_eq!(granted["toegevoegd"], 1, "{granted}");

        // Emma of group 3A signs in at the school entrance, without a target: the start page.
        let browser = Chromium::start(1024, 768);
        browser.goto(&server.url(&format!(
            "/snelkoppeling?INSTELLING_REF={}",
            server.school_ref()
        )));
        browser.pupil_signs_in("Groep 3A", "Emma", "1234");
        let text = browser.text();
        assert!(text.contains("Lesmateriaal"), "{text}");
        assert!(text.contains("Rekenwereld groep 3"), "{text}");
        // The tile's picture is Leerpoort's copy of the icon, and the browser drew it.
        let drawn = browser.execute(
            "const i = document.querySelector('.tiles.lesmateriaal img.tile-icon'); \
             return i ? [i.getAttribute('src'), i.complete && i.naturalWidth > 0] : null;",
            vec![],
        );
        assert!(
            drawn[0]
                .as_str()
                .is_some_and(|s| s.starts_with("/lesmateriaal/icoon/")),
            "{drawn}"
        );
        assert_eq!(drawn[1], true, "the icon was not drawn: {drawn}");
        browser.assert_accessible("the start page with tiles");
        browser.screenshot("60-lesmateriaal");

        // The tile opens the product.
        browser.click_text("Rekenwereld groep 3");
        let at = browser.url();
        assert!(
            at.as_str().starts_with(&publisher.url("/callback")),
            "the pupil must arrive at the publisher, not {at}: {}",
            browser.text()
        );
        assert_eq!(
            browser.text_of(&browser.find("#product")),
            "/rekenwereld/groep-3",
            "{}",
            browser.text()
        );
    });
}
