//! "Kies je school" in a real browser (headless Chromium through chromedriver): a publisher's
//! own "Inloggen" button — an authorization request without a school shortcut, sent by a
//! relying party built on the `openidconnect` crate — leads to Leerpoort's sign-in form, to
//! "Kies je school", a search by place (DUO's registry), the school's group, the pupil's name
//! and PIN, and back to the publisher with a code. The second visit offers the remembered
//! school at once. Every page is checked with axe-core and photographed. A refusal page shows
//! its code and the kenmerk, which the server's log carries.

use conformance_tests::chromium::Chromium;
use conformance_tests::publisher::Publisher;
use conformance_tests::{both_backends, Server};

/// DUO's registry, with the demo school's location (99ZZ00) in 's-Hertogenbosch under its own
/// name, and a second school's.
const DUO: &str = "PROVINCIE;BEVOEGD GEZAG NUMMER;BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;\
STRAATNAAM;HUISNUMMER-TOEVOEGING;POSTCODE;PLAATSNAAM;GEMEENTENUMMER;GEMEENTENAAM;DENOMINATIE;\
TELEFOONNUMMER;INTERNETADRES\r\n\
Noord-Brabant;40000;99ZZ;99ZZ00;Basisschool De Regenboog;Kerkstraat;1;5211 AB;'S-HERTOGENBOSCH;0796;'s-Hertogenbosch;Openbaar;073-1234567;www.regenboog.example\r\n\
Utrecht;40001;34CD;34CD00;OBS De Linde;Lindelaan;2;3511 AA;UTRECHT;0344;Utrecht;Openbaar;030-1234567;www.linde.example\r\n";

fn check_page(browser: &Chromium, name: &str, what: &str) {
    browser.assert_accessible(what);
    browser.screenshot(name);
}

/// The publisher's own "Inloggen" button: its login route, which starts an authorization
/// request at Leerpoort (no shortcut, no hint).
fn publishers_button(server: &Server, publisher: &Publisher) -> String {
    format!(
        "{}?iss={}",
        publisher.url("/login"),
        url::form_urlencoded::byte_serialize(server.issuer.as_bytes()).collect::<String>()
    )
}

/// From the school's group tiles: Groep 3A, Emma, her PIN; the browser ends at the publisher.
fn emma_signs_in(browser: &Chromium, publisher: &Publisher) {
    browser.pupil_signs_in("Groep 3A", "Emma", "1234");
    let at = browser.url();
    assert!(
        at.as_str().starts_with(&publisher.url("/callback")),
        "the pupil must arrive at the publisher, not {at}: {}",
        browser.text()
    );
    assert!(
        browser.text().contains("Welkom bij de Demo-uitgeverij"),
        "{}",
        browser.text()
    );
}

#[test]
fn a_pupil_chooses_the_school_from_the_publishers_own_button_in_the_browser() {
    both_backends(|server| {
        let duo = server.dir().join("duo.csv");
        std::fs::write(&duo, DUO).unwrap();
        server.cli(&["import", "duo", duo.to_str().unwrap()]);
        server.cli(&["school", "add", "--brin", "34CD", "--vestiging", "00"]);
        let publisher = Publisher::start(server, "Rekenwereld", &["--audience", "leerling"]);
        let browser = Chromium::start(1024, 768);

        // No shortcut: Leerpoort's sign-in form offers pupils "Kies je school".
        browser.goto(&publishers_button(server, &publisher));
        assert_eq!(browser.url().path(), "/login", "{}", browser.text());
        assert!(browser.text().contains("Ik ben een leerling"));
        check_page(
            &browser,
            "18-inloggen-zonder-snelkoppeling",
            "the sign-in form without a shortcut",
        );
        browser.click_text("Kies je school");
        assert_eq!(browser.url().path(), "/scholen");
        assert!(browser.url().query().unwrap_or("").contains("auth="));

        // A search by place, without any script: a GET form and the server's results.
        browser.type_into("#q", "hertogenbosch");
        browser.click("form[role=search] button[type=submit]");
        let text = browser.text();
        assert!(
            text.contains("Basisschool De Regenboog") && text.contains("'s-Hertogenbosch"),
            "{text}"
        );
        assert!(!text.contains("OBS De Linde"), "{text}");
        check_page(&browser, "19-kies-je-school", "the school search");
        browser.click_text("Basisschool De Regenboog");
        emma_signs_in(&browser, &publisher);
        let arrived = publisher.signed_in();
        assert_eq!(arrived.len(), 1, "{arrived:?}");
        assert_eq!(arrived[0]["role"], "leerling", "{}", arrived[0]);
        assert_eq!(arrived[0]["instelling_ref"], server.school_ref());

        // The second visit, after signing out at Leerpoort: the device remembers the school.
        browser.goto(&server.url("/"));
        browser.click_text("Uitloggen");
        browser.goto(&publishers_button(server, &publisher));
        assert_eq!(browser.url().path(), "/login", "{}", browser.text());
        let text = browser.text();
        assert!(
            text.contains("Verder bij Basisschool De Regenboog")
                && text.contains("Andere school kiezen"),
            "{text}"
        );
        check_page(&browser, "20-verder-bij-je-school", "the remembered school");
        browser.click_text("Verder bij Basisschool De Regenboog");
        emma_signs_in(&browser, &publisher);
        assert_eq!(publisher.signed_in().len(), 2);

        // "Andere school kiezen" can forget the school.
        browser.goto(&server.url("/scholen"));
        browser.click_text("Deze school vergeten");
        assert_eq!(browser.url().path(), "/scholen");
        browser.goto(&server.url("/login"));
        assert!(!browser.text().contains("Verder bij"), "{}", browser.text());

        // A refusal page names its code and the request, which the log carries.
        browser.goto(&server.url("/snelkoppeling?INSTELLING_REF=kapot"));
        let code = browser.text_of(&browser.find("code.code-ref"));
        let kenmerk = browser.text_of(&browser.find("code.request-id"));
        assert_eq!(code, "unknown-school");
        check_page(
            &browser,
            "21-foutcode-en-kenmerk",
            "a refusal page with its reference",
        );
        let log = server.log_tail(400);
        assert!(
            log.lines()
                .any(|l| l.contains(&kenmerk) && l.contains("unknown-school")),
            "the log names kenmerk {kenmerk}:\n{log}"
        );
    });
}
