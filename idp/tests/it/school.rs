//! The school entrance in process: shortcuts, tiles, PINs, locks, the network rule, enrolled
//! devices, the takeover warning and the notice.

use actix_web::http::StatusCode;
use actix_web::test;
use serde_json::Value;

use crate::server::TestApp;
use crate::support::browser::Browser;
use crate::support::page::{hidden, links};

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;

pub(crate) fn demo_app() -> (TestApp, Value) {
    let t = TestApp::with_env(&[("LEERPOORT_TRUST_PROXY", "true")]);
    let demo = idp::demo::seed(&t.state).unwrap();
    (t, demo)
}

pub(crate) fn pupil_id(demo: &Value, name: &str) -> String {
    demo["pupils"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[actix_web::test]
async fn a_pupil_goes_from_the_shortcut_to_the_publisher() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");
    let (status, _, body) = b
        .get(
            &app,
            &format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&TARGET=demo-uitgeverij"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Basisschool De Regenboog") && body.contains("Kies je groep"),
        "{body}"
    );
    let g3a = t
        .state
        .dir
        .group_by_key(&SCHOOL.parse().unwrap(), "groep-3a")
        .unwrap()
        .unwrap();
    let group = links(&body, "/school/")
        .into_iter()
        .find(|l| l.contains(&format!("/groep/{}", g3a.id)))
        .unwrap();
    assert!(group.contains("TARGET=demo-uitgeverij"));
    let (_, _, body) = b.get(&app, &group).await;
    assert!(
        body.contains("Kies je naam") && body.contains("Emma"),
        "{body}"
    );
    let emma = pupil_id(&demo, "Emma de Jong");
    let tile = links(&body, "/school/")
        .into_iter()
        .find(|l| l.contains(&emma))
        .unwrap();
    let (_, _, body) = b.get(&app, &tile).await;
    assert!(body.contains("name=\"pin\"") && body.contains("autocomplete=\"off\""));
    let csrf = hidden(&body, "csrf_token");
    let (status, to, _) = b
        .post(&app, &tile, &[("csrf_token", &csrf), ("pin", "1234")])
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        to.starts_with("http://127.0.0.1:8081/login?iss="),
        "third-party-initiated login: {to}"
    );
    assert!(to.contains("target_link_uri="));
    // The publisher now starts a code flow, which passes silently.
    let (status, to, _) = b.get(&app, "/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&prompt=none").await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(to.contains("code="), "{to}");
    // And the shortcut goes straight on while the session lasts.
    let (status, to, _) = b
        .get(
            &app,
            &format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&TARGET=demo-uitgeverij"),
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(to.starts_with("http://127.0.0.1:8081/login"));
}

#[actix_web::test]
async fn wrong_shortcuts_get_a_friendly_404() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");
    for q in [
        "INSTELLING_REF=kapot",
        "INSTELLING_REF=8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a99",
        "",
    ] {
        let (status, _, body) = b.get(&app, &format!("/snelkoppeling?{q}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{q}");
        assert!(
            body.contains("Deze snelkoppeling klopt niet") && body.contains("ICT-coördinator"),
            "{body}"
        );
    }
    let (status, _, body) = b
        .get(
            &app,
            &format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&TARGET=onbekende-software"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("niet aangezet"), "{body}");
}

#[actix_web::test]
async fn pupils_sign_in_only_on_the_school_network_or_an_enrolled_device() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let emma = pupil_id(&demo, "Emma de Jong");
    let uri = format!("/school/{SCHOOL}/leerling/{emma}");
    let mut home = Browser::at("198.51.100.20");
    let (status, _, body) = home.get(&app, &uri).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("/thuis"), "{body}");
    // Nor are the school's groups and pupils' names shown there.
    let (status, _, body) = home
        .get(&app, &format!("/snelkoppeling?INSTELLING_REF={SCHOOL}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("Groep 3A"), "{body}");
    let group = t
        .state
        .dir
        .group_by_key(&SCHOOL.parse().unwrap(), "groep-3a")
        .unwrap()
        .unwrap();
    let (status, _, body) = home
        .get(&app, &format!("/school/{SCHOOL}/groep/{}", group.id))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("Emma"), "{body}");
    // The teacher entrance stays open.
    let (status, _, _) = home
        .get(
            &app,
            &format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&ROL=leerkracht"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // A teacher signs in on that device and enrols it.
    let (_, _, body) = home.get(&app, "/login").await;
    let csrf = hidden(&body, "csrf_token");
    let (status, _, _) = home
        .post(
            &app,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", "anna.devries@regenboog.example"),
                ("password", "paarse-giraf-fietst"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    let (_, _, body) = home.get(&app, "/").await;
    let enrol = body
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(enrol, format!("/school/{SCHOOL}/apparaat"));
    let (status, _, _) = home
        .post(
            &app,
            &enrol,
            &[
                ("csrf_token", &hidden(&body, "csrf_token")),
                ("naam", "Chromebook schoolreisje"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = home.get(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "the enrolled device may: {body}");
    let (status, to, _) = home
        .post(
            &app,
            &uri,
            &[
                ("csrf_token", &hidden(&body, "csrf_token")),
                ("pin", "1234"),
            ],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/"));
}

/// An enrolled device counts on its signed id: throwing away its other cookies (the CSRF cookie
/// once served as the device's id) gives it no fresh budget of wrong PINs.
#[actix_web::test]
async fn a_device_cannot_shed_its_pin_limit_by_changing_cookies() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut tablet = Browser::at("198.51.100.20");
    let (_, _, body) = tablet.get(&app, "/login").await;
    let csrf = hidden(&body, "csrf_token");
    tablet
        .post(
            &app,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", "anna.devries@regenboog.example"),
                ("password", "paarse-giraf-fietst"),
            ],
        )
        .await;
    let (_, _, body) = tablet.get(&app, "/").await;
    let (status, _, _) = tablet
        .post(
            &app,
            &format!("/school/{SCHOOL}/apparaat"),
            &[
                ("csrf_token", &hidden(&body, "csrf_token")),
                ("naam", "Tablet groep 3"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Thirty wrong PINs over three pupils, each with a brand-new CSRF cookie.
    for name in ["Emma de Jong", "Daan Bakker", "Noor Visser"] {
        let uri = format!("/school/{SCHOOL}/leerling/{}", pupil_id(&demo, name));
        for _ in 0..10 {
            tablet.cookies.retain(|(k, _)| k != "lp_csrf");
            let (_, _, body) = tablet.get(&app, &uri).await;
            tablet
                .post(
                    &app,
                    &uri,
                    &[
                        ("csrf_token", &hidden(&body, "csrf_token")),
                        ("pin", "0000"),
                    ],
                )
                .await;
        }
    }
    tablet.cookies.retain(|(k, _)| k != "lp_csrf");
    let uri = format!("/school/{SCHOOL}/leerling/{}", pupil_id(&demo, "Sem Smit"));
    let (_, _, body) = tablet.get(&app, &uri).await;
    let (status, _, body) = tablet
        .post(
            &app,
            &uri,
            &[
                ("csrf_token", &hidden(&body, "csrf_token")),
                ("pin", "4567"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Te veel mislukte pogingen"), "{body}");
}

#[actix_web::test]
async fn ten_wrong_pins_lock_the_pupil_and_only_that_device_is_told() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let daan = pupil_id(&demo, "Daan Bakker");
    let uri = format!("/school/{SCHOOL}/leerling/{daan}");
    let mut a = Browser::at("127.0.0.1");
    let (_, _, body) = a.get(&app, &uri).await;
    let csrf = hidden(&body, "csrf_token");
    for i in 0..9 {
        let (_, _, body) = a
            .post(&app, &uri, &[("csrf_token", &csrf), ("pin", "0000")])
            .await;
        assert!(body.contains("Die code klopt niet"), "attempt {i}");
        assert!(
            !body.contains("poging"),
            "remaining attempts are never shown"
        );
    }
    let (_, _, body) = a
        .post(&app, &uri, &[("csrf_token", &csrf), ("pin", "0000")])
        .await;
    assert!(body.contains("Vraag je juf of meester"), "{body}");
    // Even the right PIN does not open a locked account.
    let (status, _, body) = a
        .post(&app, &uri, &[("csrf_token", &csrf), ("pin", "2345")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Vraag je juf of meester"));
    // Another device learns nothing about the lock.
    let mut other = Browser::at("127.0.0.2");
    let (_, _, body) = other.get(&app, &uri).await;
    let (status, _, body) = other
        .post(
            &app,
            &uri,
            &[
                ("csrf_token", &hidden(&body, "csrf_token")),
                ("pin", "2345"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Die code klopt niet") && !body.contains("juf of meester"),
        "{body}"
    );
    // A teacher unlocks; the PIN works again.
    broker::login::pupil::unlock(&t.state.world(), daan.parse().unwrap()).unwrap();
    let (status, to, _) = other
        .post(
            &app,
            &uri,
            &[
                ("csrf_token", &hidden(&body, "csrf_token")),
                ("pin", "2345"),
            ],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/"));
}

/// The pictures a picture-password page shows as clicked so far.
fn dots_on(body: &str) -> usize {
    body.matches("class=\"dot on\"").count()
}

#[actix_web::test]
async fn a_toddler_signs_in_with_a_picture_password_without_javascript() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let lotte = pupil_id(&demo, "Lotte Peters");
    let uri = format!("/school/{SCHOOL}/leerling/{lotte}?TARGET=demo-uitgeverij");
    let mut b = Browser::at("127.0.0.1");

    // The name tile shows her own picture.
    let group = t
        .state
        .dir
        .group_by_key(&SCHOOL.parse().unwrap(), "groep-1-2")
        .unwrap()
        .unwrap();
    let (_, _, body) = b
        .get(&app, &format!("/school/{SCHOOL}/groep/{}", group.id))
        .await;
    assert!(
        body.contains("/static/plaatjes/eenhoorn.svg") && body.contains("Lotte"),
        "{body}"
    );
    let (status, _, svg) = b.get(&app, "/static/plaatjes/eenhoorn.svg").await;
    assert_eq!(status, StatusCode::OK);
    assert!(svg.starts_with("<svg"));
    let (status, _, _) = b.get(&app, "/static/plaatjes/..%2Fkeys.svg").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Her page is the grid, not a PIN field.
    let (_, _, body) = b.get(&app, &uri).await;
    assert!(!body.contains("name=\"pin\""), "{body}");
    assert_eq!(body.matches("name=\"pick\"").count(), 12, "a grid of 12");
    assert_eq!(dots_on(&body), 0);
    let csrf = hidden(&body, "csrf_token");

    // Without JavaScript each click comes to the server, which keeps count in the form.
    let mut picks = String::new();
    for (n, pic) in ["vos", "appel"].into_iter().enumerate() {
        let (status, _, body) = b
            .post(
                &app,
                &uri,
                &[("csrf_token", &csrf), ("picks", &picks), ("pick", pic)],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(dots_on(&body), n + 1);
        picks = hidden(&body, "picks");
    }
    assert_eq!(picks, "vos,appel");
    // Two of her three pictures are not her password (and count as a wrong try).
    let (_, _, body) = b
        .post(
            &app,
            &uri,
            &[
                ("csrf_token", &csrf),
                ("picks", &picks),
                ("action", "verder"),
            ],
        )
        .await;
    assert!(body.contains("Die plaatjes kloppen niet"), "{body}");
    // "Opnieuw" empties the row.
    let (_, _, body) = b
        .post(
            &app,
            &uri,
            &[
                ("csrf_token", &csrf),
                ("picks", "vos"),
                ("action", "opnieuw"),
            ],
        )
        .await;
    assert_eq!(dots_on(&body), 0);
    assert_eq!(hidden(&body, "picks"), "");
    // One picture is not enough to try.
    let (_, _, body) = b
        .post(
            &app,
            &uri,
            &[
                ("csrf_token", &csrf),
                ("picks", "vos"),
                ("action", "verder"),
            ],
        )
        .await;
    assert!(body.contains("Klik eerst op je plaatjes"), "{body}");
    // A PIN field means nothing for a picture-password pupil.
    let (status, _, body) = b
        .post(&app, &uri, &[("csrf_token", &csrf), ("pin", "1234")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Klik eerst op je plaatjes"), "{body}");
    // The right pictures in the right order open the publisher.
    let (status, to, _) = b
        .post(
            &app,
            &uri,
            &[
                ("csrf_token", &csrf),
                ("picks", "vos,appel,zon"),
                ("action", "verder"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(to.starts_with("http://127.0.0.1:8081/login?iss="), "{to}");
}

#[actix_web::test]
async fn picture_passwords_count_towards_the_same_lock() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let bram = pupil_id(&demo, "Bram Hendriks");
    let uri = format!("/school/{SCHOOL}/leerling/{bram}");
    let mut b = Browser::at("127.0.0.1");
    let (_, _, body) = b.get(&app, &uri).await;
    let csrf = hidden(&body, "csrf_token");
    let wrong = [
        ("csrf_token", csrf.as_str()),
        ("picks", "bal,kat"),
        ("action", "verder"),
    ];
    for _ in 0..9 {
        let (_, _, body) = b.post(&app, &uri, &wrong).await;
        assert!(body.contains("Die plaatjes kloppen niet"), "{body}");
    }
    let (_, _, body) = b.post(&app, &uri, &wrong).await;
    assert!(body.contains("Vraag je juf of meester"), "{body}");
    let right = [
        ("csrf_token", csrf.as_str()),
        ("picks", "kat,bal"),
        ("action", "verder"),
    ];
    let (status, _, body) = b.post(&app, &uri, &right).await;
    assert_eq!(status, StatusCode::OK, "locked: the right pictures wait");
    assert!(body.contains("Vraag je juf of meester"));
    broker::login::pupil::unlock(&t.state.world(), bram.parse().unwrap()).unwrap();
    let (status, to, _) = b.post(&app, &uri, &right).await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/"));
    // Unknown names in the form are not pictures of anyone's password.
    let (status, _, body) = b
        .post(
            &app,
            &uri,
            &[
                ("csrf_token", &csrf),
                ("picks", "../../etc,kat"),
                ("action", "verder"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Die plaatjes kloppen niet"), "{body}");
}

#[actix_web::test]
async fn the_lock_lifts_after_an_hour() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let noor = pupil_id(&demo, "Noor Visser");
    let uri = format!("/school/{SCHOOL}/leerling/{noor}");
    let mut a = Browser::at("127.0.0.1");
    let (_, _, body) = a.get(&app, &uri).await;
    let csrf = hidden(&body, "csrf_token");
    for _ in 0..10 {
        a.post(&app, &uri, &[("csrf_token", &csrf), ("pin", "9999")])
            .await;
    }
    t.clock.advance(std::time::Duration::from_secs(3601));
    let (status, to, body) = a
        .post(&app, &uri, &[("csrf_token", &csrf), ("pin", "3456")])
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/"), "{body}");
}

/// A shared classroom tablet: a pupil's session ends after 30 minutes without use, counted
/// from the last use.
#[actix_web::test]
async fn a_pupils_session_ends_after_half_an_hour_unused() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let uri = format!(
        "/school/{SCHOOL}/leerling/{}",
        pupil_id(&demo, "Emma de Jong")
    );
    let mut tablet = Browser::at("127.0.0.1");
    let (_, _, body) = tablet.get(&app, &uri).await;
    let (status, to, _) = tablet
        .post(
            &app,
            &uri,
            &[
                ("csrf_token", &hidden(&body, "csrf_token")),
                ("pin", "1234"),
            ],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/"));
    let authz = "/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid";
    // 29 minutes later: still signed in, and that use counts as activity.
    t.clock.advance(std::time::Duration::from_secs(29 * 60));
    let (status, to, _) = tablet.get(&app, authz).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(to.contains("code="), "{to}");
    t.clock.advance(std::time::Duration::from_secs(29 * 60));
    let (_, to, _) = tablet.get(&app, authz).await;
    assert!(
        to.contains("code="),
        "58 minutes in, but used 29 minutes ago: {to}"
    );
    // 30 minutes without use: the next child on this tablet is not signed in as Emma.
    t.clock.advance(std::time::Duration::from_secs(30 * 60));
    let (_, to, body) = tablet.get(&app, authz).await;
    assert!(!to.contains("code="), "the session has ended: {to} {body}");
}

#[actix_web::test]
async fn a_session_used_from_elsewhere_is_ended_with_the_takeover_warning() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("192.0.2.10");
    let (_, _, body) = b.get(&app, "/login").await;
    b.post(
        &app,
        "/login",
        &[
            ("csrf_token", &hidden(&body, "csrf_token")),
            ("email", "karim.elamrani@regenboog.example"),
            ("password", "paarse-giraf-fietst"),
        ],
    )
    .await;
    let authz = "/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid";
    // A move within the same /24 is the same place.
    b.ip = Some("192.0.2.77".into());
    let (status, to, _) = b.get(&app, authz).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(to.contains("code="), "{to}");
    // From 4G: warned, session ended.
    b.ip = Some("203.0.113.5".into());
    let (status, to, body) = b.get(&app, authz).await;
    assert_eq!(status, StatusCode::OK, "{to}");
    assert!(body.contains("Potentiële sessie-overname"), "{body}");
    let (_, to, _) = b.get(&app, authz).await;
    assert!(to.starts_with("/login?auth="), "signed out: {to}");
}

#[actix_web::test]
async fn the_notice_shows_on_login_pages_and_english_is_offered() {
    let (t, _) = demo_app();
    broker::admin::set_notice(
        broker::admin::Ctx {
            dir: t.state.dir.as_ref(),
            clock: t.state.clock.as_ref(),
            actor: "test",
        },
        Some("Vanavond onderhoud van 20:00 tot 22:00."),
    )
    .unwrap();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");
    let (_, _, body) = b.get(&app, "/login").await;
    assert!(body.contains("Vanavond onderhoud"), "{body}");
    let (_, _, body) = b
        .get(&app, &format!("/snelkoppeling?INSTELLING_REF={SCHOOL}"))
        .await;
    assert!(body.contains("Vanavond onderhoud"));
    let req = test::TestRequest::get()
        .uri("/login")
        .insert_header(("accept-language", "en-GB,en;q=0.9"))
        .to_request();
    let body = String::from_utf8(
        test::read_body(test::call_service(&app, req).await)
            .await
            .to_vec(),
    )
    .unwrap();
    assert!(
        body.contains("lang=\"en\"") && body.contains("E-mail address"),
        "{body}"
    );
}

#[actix_web::test]
async fn staff_download_the_schools_shortcuts_and_pupils_cannot() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let list = format!("/school/{SCHOOL}/snelkoppelingen");
    let mut anon = Browser::at("127.0.0.1");
    let (status, to, _) = anon.get(&app, &list).await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/login"));

    let mut b = Browser::at("127.0.0.1");
    let (_, _, body) = b.get(&app, "/login").await;
    b.post(
        &app,
        "/login",
        &[
            ("csrf_token", &hidden(&body, "csrf_token")),
            ("email", "sanne.jansen@regenboog.example"),
            ("password", "paarse-giraf-fietst"),
        ],
    )
    .await;
    let (_, _, start) = b.get(&app, "/").await;
    assert!(
        start.contains(&list),
        "the start page links to the shortcuts: {start}"
    );
    let (status, _, body) = b.get(&app, &list).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(&format!(
            "/snelkoppeling?INSTELLING_REF={SCHOOL}&amp;ROL=leerling"
        )) || body.contains(&format!(
            "/snelkoppeling?INSTELLING_REF={SCHOOL}&#38;ROL=leerling"
        )),
        "{body}"
    );
    let files = links(&body, &format!("/school/{SCHOOL}/snelkoppelingen/"));
    assert_eq!(files.len(), 12, "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("-leerling.mobileconfig")));
    let url_file = files.iter().find(|f| f.ends_with("-leerling.url")).unwrap();
    let req = test::TestRequest::get()
        .uri(url_file)
        .insert_header(("cookie", b.header()))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let bytes = test::read_body(res).await;
    assert!(String::from_utf8_lossy(&bytes).contains(&format!(
        "URL=http://127.0.0.1:8080/snelkoppeling?INSTELLING_REF={SCHOOL}&ROL=leerling"
    )));
    let req = test::TestRequest::get()
        .uri(&format!("/school/{SCHOOL}/snelkoppelingen/..%2Fkeys.json"))
        .insert_header(("cookie", b.header()))
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// A client of the demo school that publishers allow at school only (`home_allowed: false`)
/// and for `audience`.
fn school_only_client(t: &TestApp, client_id: &str, audience: &str) {
    let ctx = broker::admin::Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    };
    broker::admin::add_client(
        ctx,
        broker::admin::ClientInput {
            name: "Schoolapp".into(),
            kind: "publisher".into(),
            redirect_uris: vec!["http://127.0.0.1:8081/callback".into()],
            initiate_login_uri: Some("http://127.0.0.1:8081/schoolapp".into()),
            audience: audience.into(),
            id_token_alg: "ES256".into(),
            client_id: Some(client_id.into()),
            ..Default::default()
        },
    )
    .unwrap();
    broker::admin::register(
        ctx,
        &SCHOOL.parse().unwrap(),
        client_id,
        broker::admin::RegisterOptions::default(),
    )
    .unwrap();
}

/// A browser with a session of `user` in `context`, as the sign-in pages would start it.
pub(crate) fn signed_in(
    t: &TestApp,
    user: &str,
    context: claims::LoginContext,
    ip: &str,
) -> Browser {
    let s = idp::session::start(
        t.state.store.as_ref(),
        idp::session::Authenticated {
            user_id: user.parse().unwrap(),
            school: SCHOOL.parse().unwrap(),
            amr: vec!["pin".into()],
            acr: "leerpoort:pin".into(),
            context,
            ip: Some(ip.into()),
        },
        t.state.clock.now_secs(),
        None,
    )
    .unwrap();
    let mut b = Browser::at(ip);
    b.cookies
        .push((idp::session::cookie_name(false).to_string(), s.sid));
    b
}

#[actix_web::test]
async fn a_shortcut_to_school_only_software_at_home_stops_at_leerpoort() {
    let (t, demo) = demo_app();
    school_only_client(&t, "schoolapp", "beide");
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let emma = pupil_id(&demo, "Emma de Jong");
    let shortcut = format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&TARGET=schoolapp");

    // At home: Leerpoort's own page, never the publisher's initiate_login_uri.
    let mut home = signed_in(&t, &emma, claims::LoginContext::Thuis, "203.0.113.50");
    let (status, to, _) = home.get(&app, &shortcut).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(!to.contains("8081"), "not to the publisher: {to}");
    assert_eq!(to, "/snelkoppeling/geweigerd?TARGET=schoolapp");
    let (status, _, body) = home.get(&app, &to).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Alleen op school"), "{body}");
    // The reason comes from the session, not from the link: a forged TARGET of software the
    // pupil may use at home goes on to it.
    let (status, to, _) = home
        .get(&app, "/snelkoppeling/geweigerd?TARGET=demo-uitgeverij")
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(to.starts_with("http://127.0.0.1:8081/login?iss="), "{to}");

    // At school the same shortcut goes straight on.
    let mut school = signed_in(&t, &emma, claims::LoginContext::School, "10.9.0.5");
    let (status, to, _) = school.get(&app, &shortcut).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        to.starts_with("http://127.0.0.1:8081/schoolapp?iss="),
        "{to}"
    );

    // Without a session the refusal page shows nothing.
    let mut stranger = Browser::at("203.0.113.50");
    let (status, to, _) = stranger
        .get(&app, "/snelkoppeling/geweigerd?TARGET=schoolapp")
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/"));
}

#[actix_web::test]
async fn a_shortcut_to_teacher_software_tells_a_pupil_it_is_not_for_them() {
    let (t, demo) = demo_app();
    school_only_client(&t, "lerarenapp", "leerkracht");
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let emma = pupil_id(&demo, "Emma de Jong");
    let mut b = signed_in(&t, &emma, claims::LoginContext::School, "10.9.0.5");
    let (status, to, _) = b
        .get(
            &app,
            &format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&TARGET=lerarenapp"),
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    let (status, _, body) = b.get(&app, &to).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Niet voor jou bedoeld"), "{body}");
    assert!(
        body.contains("Schoolapp is software voor leerkrachten"),
        "{body}"
    );
}
