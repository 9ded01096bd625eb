//! Beheer, the ICT coordinator's pages, in a real browser (Debian's headless Chromium through
//! chromedriver), checked with axe-core and photographed like the school entrance. No page
//! needs JavaScript: every change is a plain form.

use conformance_tests::chromium::Chromium;
use conformance_tests::proxy::ForwardingProxy;
use conformance_tests::publisher::Publisher;
use conformance_tests::{both_backends, Backend, Server, SANNE};

const STAFF_PASSWORD: &str = "paarse-giraf-fietst";

fn office() -> Chromium {
    Chromium::start(1280, 900)
}

fn sign_in(browser: &Chromium, server: &Server, email: &str) {
    browser.goto(&server.url("/login"));
    browser.type_into("input[name=email]", email);
    browser.type_into("input[name=password]", STAFF_PASSWORD);
    browser.click("form button[type=submit]");
}

/// A pupil signs in at the publisher through the school's shortcut, with Emma's PIN.
fn pupil_signs_in(pupil: &Chromium, server: &Server, publisher: &Publisher) {
    pupil.goto(&server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}&TARGET={}",
        server.school_ref(),
        publisher.client_id()
    )));
    pupil.pupil_signs_in("Groep 3A", "Emma", "1234");
}

#[test]
fn a_coordinator_unticks_a_publisher_and_the_pupils_next_sign_in_there_is_refused() {
    both_backends(|server| {
        let publisher = Publisher::start(server, "Rekenwereld", &["--audience", "leerling"]);
        let pupil = Chromium::start(1024, 768);
        pupil_signs_in(&pupil, server, &publisher);
        assert_eq!(publisher.signed_in().len(), 1, "{}", pupil.text());

        let b = office();
        sign_in(&b, server, SANNE);
        b.click_text("Beheer");
        let text = b.text();
        assert!(
            text.contains("Basisschool De Regenboog") && text.contains(&server.school_ref()),
            "{text}"
        );
        b.assert_accessible("the Beheer overview");
        b.screenshot("50-beheer");
        b.click_text("Toestemming uitwisseling schooldata");
        let text = b.text();
        assert!(
            text.contains("Rekenwereld") && text.contains("ook niet voor wie nu al is ingelogd"),
            "{text}"
        );
        b.assert_accessible("the consent page");
        b.screenshot("51-toestemming");

        // Untick Rekenwereld (its label toggles its box) and save.
        let was = b.execute(
            "const l = [...document.querySelectorAll('label')].find(l => l.textContent.trim() === 'Rekenwereld');
             const box = document.getElementById(l.htmlFor); const was = box.checked; l.click();
             return [was, box.checked];",
            vec![],
        );
        assert_eq!(was, serde_json::json!([true, false]));
        b.click_text("Opslaan");
        assert!(
            b.text().contains("De nieuwe instellingen zijn opgeslagen."),
            "{}",
            b.text()
        );
        b.assert_accessible("the consent page after saving");
        let still = b.execute(
            "const l = [...document.querySelectorAll('label')].find(l => l.textContent.trim() === 'Rekenwereld');
             return document.getElementById(l.htmlFor).checked;",
            vec![],
        );
        assert_eq!(still, serde_json::json!(false));

        // The pupil, still signed in at Leerpoort, opens the software again: refused.
        pupil.goto(&server.url(&format!(
            "/snelkoppeling?INSTELLING_REF={}&TARGET={}",
            server.school_ref(),
            publisher.client_id()
        )));
        let text = pupil.text();
        assert!(text.contains("Deze software staat niet aan"), "{text}");
        assert_eq!(publisher.signed_in().len(), 1, "no second sign-in arrived");
    });
}

#[test]
fn a_coordinator_adds_an_ib_er_in_the_browser() {
    let server = Server::start_with(&Backend::Sqlite, &[]);
    let b = office();
    sign_in(&b, &server, SANNE);
    b.goto(&server.url("/beheer/personeel"));
    let text = b.text();
    assert!(
        text.contains("ICT-coördinatoren") && text.contains("Anna de Vries"),
        "{text}"
    );
    b.type_into("#voornaam", "Ilse");
    b.type_into("#achternaam", "Bos");
    b.type_into("#email", "ilse.bos@regenboog.example");
    b.execute("document.getElementById('rol').value = 'ib';", vec![]);
    b.click_text("Toevoegen");
    let text = b.text();
    assert!(
        text.contains("Ilse Bos is toegevoegd") && text.contains("inactief"),
        "{text}"
    );
    b.assert_accessible("the staff page");
    b.screenshot("52-personeel");

    b.click_text("Logboek");
    let text = b.text();
    assert!(
        text.contains("Account aangemaakt") && text.contains("Ilse Bos"),
        "{text}"
    );
    b.assert_accessible("the audit trail");
    b.screenshot("53-logboek");
    b.click_text("Account opheffen");
    b.assert_accessible("closing the account");
}

/// The newest mail in the server's outbox, quoted-printable undone.
fn last_mail(server: &Server) -> String {
    let mut files: Vec<_> = std::fs::read_dir(server.dir().join("outbox"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    let last = files.last().expect("a mail in the outbox");
    std::fs::read_to_string(last)
        .unwrap()
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

#[test]
fn a_coordinator_activates_a_substitute_who_signs_in_and_sees_the_group() {
    both_backends(|server| {
        let b = office();
        sign_in(&b, server, SANNE);
        b.goto(&server.url("/beheer/invalkrachten"));
        assert!(b.text().contains("Groep 3A"), "{}", b.text());
        b.assert_accessible("the substitutes page");
        // Groep 3A's row: its name, address and days, then "Activeer".
        let row = "//tr[td[1][normalize-space(.)='Groep 3A']]";
        let filled = b.execute(
            &format!(
                "const row = document.evaluate(\"{row}\", document, null, 9, null).singleNodeValue;
                 row.querySelector('input[name=naam]').value = 'Joost Invaller';
                 row.querySelector('input[name=email]').value = 'joost@example.org';
                 row.querySelector('select[name=dagen]').value = '2';
                 return row.querySelector('form.activate button').id = 'activeer-3a';"
            ),
            vec![],
        );
        assert_eq!(filled, serde_json::json!("activeer-3a"));
        b.click("#activeer-3a");
        let text = b.text();
        assert!(
            text.contains("Joost Invaller heeft nu toegang tot Groep 3A"),
            "{text}"
        );
        b.assert_accessible("the substitutes page after activating");
        b.screenshot("54-invalkrachten");

        let mail = last_mail(server);
        assert!(mail.contains("To: joost@example.org"), "{mail}");
        let start = mail.find("http://").unwrap();
        let link = mail[start..].split_whitespace().next().unwrap().to_string();
        assert!(link.contains("/invalkracht/"), "{link}");

        let joost = Chromium::start(1024, 768);
        joost.goto(&link);
        assert!(joost.text().contains("Inloggen als invalkracht"));
        joost.assert_accessible("the substitute's sign-in page");
        joost.click_text("Inloggen");
        let text = joost.text();
        assert!(
            text.contains("Groep 3A") && text.contains("Emma"),
            "the group overview: {text}"
        );
        joost.screenshot("55-invalkracht-groepsoverzicht");
    });
}

#[test]
fn a_teacher_changes_a_pin_and_the_pupil_signs_in_with_the_new_one() {
    let server = Server::start_with(&Backend::Sqlite, &[]);
    let publisher = Publisher::start(&server, "Rekenwereld", &["--audience", "leerling"]);
    let b = office();
    sign_in(&b, &server, conformance_tests::ANNA);
    b.goto(&server.url("/groepen"));
    b.click_text("Wijzigen (Emma");
    b.type_into("#pin", "4821");
    b.click_text("Pincode opslaan");
    let text = b.text();
    assert!(
        text.contains("Opgeslagen.") && text.contains("4821"),
        "{text}"
    );
    b.assert_accessible("the pupil's page after a new PIN");
    b.screenshot("56-nieuwe-pincode");

    let pupil = Chromium::start(1024, 768);
    pupil.goto(&server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}&TARGET={}",
        server.school_ref(),
        publisher.client_id()
    )));
    pupil.pupil_signs_in("Groep 3A", "Emma", "4821");
    assert_eq!(publisher.signed_in().len(), 1, "{}", pupil.text());
}

#[test]
fn a_coordinator_adds_a_network_and_the_tiles_appear_from_that_address() {
    let server = Server::start_with(&Backend::Sqlite, &[("LEERPOORT_TRUST_PROXY", "true")]);
    // A new location of the school, outside its known networks.
    let proxy = ForwardingProxy::start(&server.issuer, "198.51.100.30");
    let shortcut = proxy.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}",
        server.school_ref()
    ));
    let tablet = Chromium::start(1024, 768);
    tablet.goto(&shortcut);
    assert!(
        tablet.text().contains("Thuis inloggen?") && !tablet.text().contains("Groep 3A"),
        "{}",
        tablet.text()
    );

    let b = office();
    b.goto(&proxy.url("/login"));
    b.type_into("input[name=email]", SANNE);
    b.type_into("input[name=password]", STAFF_PASSWORD);
    b.click("form button[type=submit]");
    b.click_text("Beheer");
    assert_eq!(
        b.attr("#netwerk", "value").as_deref(),
        Some("198.51.100.30"),
        "the visitor's address is offered"
    );
    b.assert_accessible("Beheer with the school networks");
    b.click_text("Netwerk toevoegen");
    assert!(
        b.text().contains("De schoolnetwerken zijn opgeslagen.")
            && b.text().contains("198.51.100.30/32"),
        "{}",
        b.text()
    );
    b.screenshot("57-schoolnetwerken");

    tablet.goto(&shortcut);
    assert!(tablet.text().contains("Groep 3A"), "{}", tablet.text());
}

/// The school's Dynamic IP agent: the shell one-liner Beheer shows, run with curl as a school
/// would run it, through a proxy that makes it come from `proxy`'s address.
fn run_agent(command: &str, server: &Server, proxy: &ForwardingProxy) -> serde_json::Value {
    let command = command.replace(&server.issuer, &proxy.url(""));
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .output()
        .expect("sh and curl run");
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the update URL answers JSON")
}

#[test]
fn a_coordinator_selects_dynamic_ip_and_the_agent_makes_its_address_the_schools() {
    let server = Server::start_with(&Backend::Sqlite, &[("LEERPOORT_TRUST_PROXY", "true")]);
    let school = ForwardingProxy::start(&server.issuer, "203.0.113.9");
    let shortcut = school.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}",
        server.school_ref()
    ));
    let tablet = Chromium::start(1024, 768);
    tablet.goto(&shortcut);
    assert!(!tablet.text().contains("Groep 3A"), "{}", tablet.text());

    let b = office();
    sign_in(&b, &server, SANNE);
    b.click_text("Beheer");
    assert!(b.text().contains("Vast IP-adres"), "{}", b.text());
    b.click_text("Dynamic IP selecteren");
    let text = b.text();
    assert!(
        text.contains("Er is een nieuwe sleutel gemaakt.") && text.contains("lpdip_"),
        "{text}"
    );
    b.assert_accessible("Beheer with Dynamic IP selected");
    b.screenshot("58-dynamic-ip");
    let shell = b
        .find_all("pre code")
        .first()
        .map(|e| b.text_of(e))
        .expect("the shell command");
    assert!(shell.starts_with("curl -fsS -X POST"), "{shell}");

    let answer = run_agent(&shell, &server, &school);
    assert_eq!(answer["network"], "203.0.113.9/32", "{answer}");
    tablet.goto(&shortcut);
    assert!(tablet.text().contains("Groep 3A"), "{}", tablet.text());

    b.goto(&server.url("/beheer"));
    assert!(
        b.text().contains("203.0.113.9/32") && !b.text().contains("lpdip_"),
        "the address is shown, the key no longer: {}",
        b.text()
    );
}

#[test]
fn a_coordinator_uploads_an_edexml_file_checks_it_and_imports_it() {
    let server = Server::start_with(&Backend::Sqlite, &[]);
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../idp/tests/fixtures/edexml/zonnebloem-2.1.xml"
    ))
    .expect("the import fixture");
    // The demo school is 99ZZ00.
    let ours = fixture.replace("<brincode>12AB</brincode>", "<brincode>99ZZ</brincode>");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("regenboog.xml");
    std::fs::write(&file, ours).expect("the file");

    let b = office();
    sign_in(&b, &server, SANNE);
    b.click_text("Beheer");
    b.click_text("Gebruikersgegevens invoeren");
    assert!(b.text().contains("Handmatig importeren"), "{}", b.text());
    b.assert_accessible("Gebruikersgegevens invoeren");
    b.type_into("#bestand", &file.display().to_string());
    b.click_text("Bestand controleren");
    let text = b.text();
    assert!(
        text.contains("Er is nog niets veranderd") && text.contains("Toegevoegd"),
        "{text}"
    );
    b.assert_accessible("the import's report");
    b.screenshot("59-gebruikersgegevens");
    b.click_text("Importeren");
    assert!(
        b.text().contains("De gegevens zijn geïmporteerd."),
        "{}",
        b.text()
    );

    // The school's shortcut now shows the groups of the file.
    let pupil = Chromium::start(1024, 768);
    pupil.goto(&server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}",
        server.school_ref()
    )));
    assert!(
        pupil.text().contains("Leesclub") && pupil.text().contains("Groep 4"),
        "{}",
        pupil.text()
    );
}
