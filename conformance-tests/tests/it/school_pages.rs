//! The school entrance in a real browser: Debian's headless Chromium, driven through
//! chromedriver. Every page is checked with axe-core (WCAG 2.1 A and AA: no serious or critical
//! violation) and photographed; `LEERPOORT_SCREENSHOTS=docs` writes the pictures to
//! `docs/screenshots/`, where the README shows them.
//!
//! The demo school's networks include loopback, so a browser on this machine is "at school".
//! To be somewhere else, it goes through a [`ForwardingProxy`] that says where it is, to a server
//! that trusts its proxy (`LEERPOORT_TRUST_PROXY=true`).

use conformance_tests::chromium::Chromium;
use conformance_tests::proxy::ForwardingProxy;
use conformance_tests::publisher::Publisher;
use conformance_tests::{both_backends, Backend, Server, ANNA};

/// A tablet in a classroom.
const TABLET: (u32, u32) = (1024, 768);
/// A phone.
const PHONE: (u32, u32) = (390, 844);
const STAFF_PASSWORD: &str = "paarse-giraf-fietst";

fn tablet() -> Chromium {
    Chromium::start(TABLET.0, TABLET.1)
}

fn shortcut(server: &Server, target: Option<&str>) -> String {
    let mut url = server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}",
        server.school_ref()
    ));
    if let Some(t) = target {
        url.push_str(&format!("&TARGET={t}"));
    }
    url
}

/// Nothing sticks out sideways: the page fits the screen it is on.
fn assert_fits(browser: &Chromium, what: &str) {
    let v = browser.execute(
        "return [document.documentElement.scrollWidth, window.innerWidth];",
        vec![],
    );
    assert!(
        v[0].as_u64() <= v[1].as_u64(),
        "{what} is wider than the screen ({v}) at {}",
        browser.url()
    );
}

/// Check the page with axe-core, that it fits, and photograph it as `name`.
fn check_page(browser: &Chromium, name: &str, what: &str) {
    browser.assert_accessible(what);
    assert_fits(browser, what);
    browser.screenshot(name);
}

#[test]
fn a_pupil_goes_from_the_shortcut_to_the_publisher_in_the_browser() {
    both_backends(|server| {
        let publisher = Publisher::start(server, "Rekenwereld", &["--audience", "leerling"]);
        let browser = tablet();
        browser.goto(&shortcut(server, Some(publisher.client_id())));
        let text = browser.text();
        assert!(
            text.contains("Basisschool De Regenboog") && text.contains("Kies je groep"),
            "{text}"
        );
        check_page(&browser, "01-groepen", "the group tiles");

        browser.click_text("Groep 3A");
        assert!(browser.text().contains("Kies je naam"));
        check_page(&browser, "02-namen", "the name tiles");

        browser.click_text("Emma");
        let pin = browser.find("#pin");
        assert_eq!(
            browser.attr("#pin", "autocomplete").as_deref(),
            Some("off"),
            "browsers must not offer to save a pupil's PIN"
        );
        drop(pin);
        check_page(&browser, "03-pincode", "the PIN page");

        browser.type_into("#pin", "1234");
        browser.click("form.pin button[type=submit]");
        // Third-party-initiated login at the publisher, a silent code flow, and the callback.
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
        browser.screenshot("04-bij-de-uitgever");
        let arrived = publisher.signed_in();
        assert_eq!(arrived.len(), 1, "{arrived:?}");
        let claims = &arrived[0];
        assert_eq!(claims["role"], "leerling", "{claims}");
        assert_eq!(claims["login_context"], "school", "{claims}");
        assert_eq!(claims["instelling_ref"], server.school_ref(), "{claims}");
        assert_eq!(claims["brin6"], server.demo["school"]["brin6"], "{claims}");
        assert!(
            claims["amr"]
                .as_array()
                .is_some_and(|a| a.iter().any(|m| m == "pin")),
            "{claims}"
        );
        assert!(
            claims["groups"]
                .as_array()
                .is_some_and(|g| g.iter().any(|g| g["name"] == "Groep 3A")),
            "{claims}"
        );
    });
}

#[test]
fn a_toddler_clicks_a_picture_password_in_the_browser() {
    let server = Server::start(&Backend::Sqlite);
    let browser = tablet();
    browser.goto(&shortcut(&server, None));
    browser.click_text("Groep 1/2");
    // Name tiles carry the pupils' own pictures.
    assert!(
        browser.find_all("img.avatar.pic").len() >= 2,
        "pupil pictures on the name tiles"
    );
    browser.click_text("Lotte");
    assert_eq!(browser.find_all("button[name=pick]").len(), 12);
    assert!(
        browser.find_all("#pin").is_empty(),
        "Lotte has a picture password"
    );
    check_page(
        &browser,
        "05-wachtwoordplaatjes",
        "the picture-password grid",
    );

    // A wrong picture first, then "Opnieuw": the row empties without a trip to the server.
    browser.click_in_page("button[name=pick][value=kat]");
    assert_eq!(browser.find_all(".dot.on").len(), 1);
    browser.click_in_page("button[name=action][value=opnieuw]");
    assert_eq!(browser.find_all(".dot.on").len(), 0);
    for pic in ["vos", "appel", "zon"] {
        browser.click_in_page(&format!("button[name=pick][value={pic}]"));
    }
    assert_eq!(browser.find_all(".dot.on").len(), 3);
    assert!(browser.text().contains("3 van 4 plaatjes gekozen"));
    browser.screenshot("06-plaatjes-gekozen");
    browser.click("button[name=action][value=verder]");
    assert_eq!(browser.url().path(), "/", "{}", browser.text());
    assert!(browser.text().contains("Lotte"), "{}", browser.text());
    check_page(&browser, "07-startpagina-leerling", "a pupil's start page");

    // And on a phone the grid still fits.
    let phone = Chromium::start(PHONE.0, PHONE.1);
    phone.goto(&shortcut(&server, None));
    phone.click_text("Groep 1/2");
    check_page(&phone, "08-namen-telefoon", "the name tiles on a phone");
    phone.click_text("Bram");
    check_page(
        &phone,
        "09-plaatjes-telefoon",
        "the picture grid on a phone",
    );
}

#[test]
fn a_teacher_signs_in_in_the_browser() {
    let server = Server::start(&Backend::Sqlite);
    let browser = tablet();
    browser.goto(&format!("{}&ROL=leerkracht", shortcut(&server, None)));
    assert!(browser.find_all("input[name=pin]").is_empty());
    check_page(&browser, "10-inloggen-leerkracht", "the staff sign-in form");
    browser.type_into("input[name=email]", ANNA);
    browser.type_into("input[name=password]", STAFF_PASSWORD);
    browser.click("form button[type=submit]");
    assert_eq!(browser.url().path(), "/", "{}", browser.text());
    assert!(browser.text().contains("Anna"), "{}", browser.text());
    check_page(
        &browser,
        "11-startpagina-leerkracht",
        "a teacher's start page",
    );
    // The school's shortcut downloads, linked from the start page.
    browser.click_text("Snelkoppelingen");
    assert!(browser.text().contains("Voor leerlingen"));
    check_page(&browser, "12-snelkoppelingen", "the shortcut downloads");
    // The forgotten-password page of a signed-out browser.
    let other = tablet();
    other.goto(&server.url("/login"));
    other.click_text("Wachtwoord vergeten");
    check_page(
        &other,
        "13-wachtwoord-vergeten",
        "the forgotten-password form",
    );
    // English on request.
    let en = Chromium::start_in(TABLET.0, TABLET.1, "en-GB,en");
    en.goto(&server.url("/login"));
    assert!(en.text().contains("Sign in"), "{}", en.text());
    en.assert_accessible("the English sign-in form");
}

#[test]
fn a_wrong_shortcut_gets_a_friendly_page_in_the_browser() {
    let server = Server::start(&Backend::Sqlite);
    let browser = tablet();
    browser.goto(&server.url("/snelkoppeling?INSTELLING_REF=kapot"));
    let text = browser.text();
    assert!(
        text.contains("Deze snelkoppeling klopt niet") && text.contains("ICT-coördinator"),
        "{text}"
    );
    check_page(
        &browser,
        "14-verkeerde-snelkoppeling",
        "the wrong-shortcut page",
    );
    browser.goto(&shortcut(&server, Some("onbekende-software")));
    assert!(
        browser.text().contains("niet aangezet"),
        "{}",
        browser.text()
    );
    browser.assert_accessible("the software-not-enabled page");
}

#[test]
fn ten_wrong_pins_lock_a_pupil_in_the_browser() {
    let server = Server::start(&Backend::Sqlite);
    let browser = tablet();
    browser.goto(&shortcut(&server, None));
    browser.click_text("Groep 3A");
    browser.click_text("Daan");
    for attempt in 1..=9 {
        browser.type_into("#pin", "0000");
        browser.click("form.pin button[type=submit]");
        let text = browser.text();
        assert!(
            text.contains("Die code klopt niet"),
            "attempt {attempt}: {text}"
        );
        assert!(
            !text.contains("poging"),
            "remaining attempts are never shown"
        );
    }
    browser.type_into("#pin", "0000");
    browser.click("form.pin button[type=submit]");
    assert!(
        browser.text().contains("Vraag je juf of meester"),
        "{}",
        browser.text()
    );
    check_page(&browser, "15-geblokkeerd", "the locked page");
    // The right PIN waits for the teacher now.
    browser.type_into("#pin", "2345");
    browser.click("form.pin button[type=submit]");
    assert!(browser.text().contains("Vraag je juf of meester"));
    // Another device is not told.
    let other = tablet();
    other.goto(&shortcut(&server, None));
    other.click_text("Groep 3A");
    other.click_text("Daan");
    other.type_into("#pin", "2345");
    other.click("form.pin button[type=submit]");
    let text = other.text();
    assert!(
        text.contains("Die code klopt niet") && !text.contains("juf of meester"),
        "{text}"
    );
}

#[test]
fn outside_the_school_network_and_a_takeover_in_the_browser() {
    let server = Server::start_with(&Backend::Sqlite, &[("LEERPOORT_TRUST_PROXY", "true")]);
    // At home, on a network that is not the school's.
    let proxy = ForwardingProxy::start(&server.issuer, "198.51.100.7");
    let browser = tablet();
    browser.goto(&proxy.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}",
        server.school_ref()
    )));
    let text = browser.text();
    assert!(text.contains("Thuis inloggen?"), "{text}");
    assert!(
        !text.contains("Groep 3A"),
        "no pupil names outside school: {text}"
    );
    assert_eq!(
        browser.attr("main a[href='/thuis']", "href").as_deref(),
        Some("/thuis")
    );
    check_page(&browser, "16-buiten-school", "the outside-network page");

    // A forged `X-Forwarded-For` naming an address inside the school's network does not bring
    // the home browser into school: the proxy appends the real address, and that one counts.
    for forged in ["127.0.0.1", "127.0.0.1, 127.0.0.2", "::1"] {
        let res = conformance_tests::http::Response::send(
            conformance_tests::http::client()
                .get(proxy.url(&format!(
                    "/snelkoppeling?INSTELLING_REF={}",
                    server.school_ref()
                )))
                .header("x-forwarded-for", forged),
        );
        assert!(
            res.body.contains("Thuis inloggen?") && !res.body.contains("Groep 3A"),
            "X-Forwarded-For: {forged} passed the school-network rule: {}",
            res.body
        );
    }

    // A teacher signs in at home, then her phone moves from Wi-Fi to 4G.
    proxy.set_client_address("203.0.113.5");
    let teacher = tablet();
    teacher.goto(&proxy.url("/login"));
    teacher.type_into("input[name=email]", ANNA);
    teacher.type_into("input[name=password]", STAFF_PASSWORD);
    teacher.click("form button[type=submit]");
    assert_eq!(teacher.url().as_str(), proxy.url("/"), "{}", teacher.text());
    // The same /24: the same place, no alarm.
    proxy.set_client_address("203.0.113.77");
    let rp = server.demo_rp();
    let authorize = format!(
        "/oidc/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=s1",
        rp.client_id,
        url::form_urlencoded::byte_serialize(rp.redirect_uri.as_bytes()).collect::<String>()
    );
    teacher.goto(&proxy.url("/"));
    assert!(teacher.text().contains("Anna"), "{}", teacher.text());
    // Elsewhere: the warning, and a new sign-in.
    proxy.set_client_address("198.51.100.99");
    teacher.goto(&proxy.url(&authorize));
    let text = teacher.text();
    assert!(text.contains("Potentiële sessie-overname"), "{text}");
    check_page(&teacher, "17-sessie-overname", "the takeover warning");
    teacher.goto(&proxy.url("/"));
    assert!(
        !teacher.text().contains("Hallo Anna"),
        "the session is over: {}",
        teacher.text()
    );
}

#[test]
fn a_tablet_is_linked_at_home_and_unlinked_by_the_coordinator_in_the_browser() {
    let server = Server::start_with(&Backend::Sqlite, &[("LEERPOORT_TRUST_PROXY", "true")]);
    // A tablet that goes along on a school trip, outside the school's networks.
    let proxy = ForwardingProxy::start(&server.issuer, "198.51.100.30");
    let trip = tablet();
    trip.goto(&proxy.url("/login"));
    trip.type_into("input[name=email]", ANNA);
    trip.type_into("input[name=password]", STAFF_PASSWORD);
    trip.click("form button[type=submit]");
    trip.type_into("input[name=naam]", "iPad schoolreisje");
    trip.click("form.enrol button[type=submit]");
    assert!(
        trip.text().contains("nu gekoppeld aan de school"),
        "{}",
        trip.text()
    );
    // The teacher signs out; the tablet stays linked.
    trip.goto(&proxy.url("/"));
    trip.click_text("Uitloggen");
    trip.goto(&proxy.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}",
        server.school_ref()
    )));
    assert!(trip.text().contains("Groep 3A"), "{}", trip.text());

    // The coordinator, at school, finds it in the list and unlinks it.
    let office = tablet();
    office.goto(&server.url("/login"));
    office.type_into("input[name=email]", conformance_tests::SANNE);
    office.type_into("input[name=password]", STAFF_PASSWORD);
    office.click("form button[type=submit]");
    office.click_text("Gekoppelde apparaten");
    let text = office.text();
    assert!(
        text.contains("iPad schoolreisje") && text.contains("Anna de Vries"),
        "{text}"
    );
    check_page(&office, "18-gekoppelde-apparaten", "the linked devices");
    office.click("table form button[type=submit]");
    assert!(office.text().contains("is ontkoppeld"), "{}", office.text());
    office.assert_accessible("the list after unlinking");

    // On the trip, the tablet no longer shows the pupils' names.
    trip.goto(&proxy.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}",
        server.school_ref()
    )));
    let text = trip.text();
    assert!(
        text.contains("Thuis inloggen?") && !text.contains("Groep 3A"),
        "{text}"
    );
}
