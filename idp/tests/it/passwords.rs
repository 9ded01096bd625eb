//! Choosing passwords (the rule, the strength meter) and the ICT coordinator's second factor,
//! through the real routes.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test;
use broker::clock::Clock as _;
use serde_json::Value;

use crate::server::TestApp;
use crate::support::browser::Browser;
use crate::support::page::hidden;

const SANNE: &str = "sanne.jansen@regenboog.example";
const ANNA: &str = "anna.devries@regenboog.example";

fn demo(vars: &[(&str, &str)]) -> (TestApp, Value) {
    let t = TestApp::with_env(vars);
    let demo = idp::demo::seed(&t.state).unwrap();
    (t, demo)
}

fn user_id(demo: &Value, email: &str) -> uuid::Uuid {
    let id = demo["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == email)
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    uuid::Uuid::parse_str(&id).unwrap()
}

/// The secret on an enrolment page (shown in groups of four).
fn secret_on(body: &str) -> Vec<u8> {
    let text = body
        .split("id=\"totp-secret\" class=\"secret\">")
        .nth(1)
        .expect("the secret is shown as text")
        .split('<')
        .next()
        .unwrap();
    broker::login::totp::base32_decode(text).unwrap()
}

#[actix_web::test]
async fn a_weak_password_is_refused_at_the_link_with_dutch_advice_and_the_link_still_works() {
    let (t, demo) = demo(&[]);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let anna = t.state.dir.user(user_id(&demo, ANNA)).unwrap().unwrap();
    broker::login::password::send_link(&t.state.world(), &anna, "cli", t.clock.now_secs()).unwrap();
    // Quoted-printable: undo the soft line breaks.
    let mail = t
        .outbox()
        .pop()
        .unwrap()
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    assert!(mail.contains("minstens 10 tekens"), "{mail}");
    let path = mail
        .lines()
        .find_map(|l| l.find("/wachtwoord/").map(|i| l[i..].trim().to_string()))
        .unwrap();
    let mut b = Browser::new();
    let (status, _, body) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("src=\"/static/wachtwoord.js\""), "{body}");
    assert!(body.contains("aria-live=\"polite\""), "{body}");
    let csrf = hidden(&body, "csrf_token");
    for (weak, says) in [
        ("Welkom2026!", "Veelgebruikte woorden als ‘welkom’"),
        (
            "Anna-Regenboog-2026",
            "Je eigen naam, je e-mailadres of de naam van de school",
        ),
        ("kort", "te kort"),
    ] {
        let f = [
            ("csrf_token", csrf.as_str()),
            ("password", weak),
            ("repeat", weak),
        ];
        let (status, _, body) = b.post(&app, &path, &f).await;
        assert_eq!(status, StatusCode::OK, "{weak}");
        assert!(body.contains(says), "{weak}: {body}");
        assert!(body.contains("role=\"alert\""), "{weak}");
    }
    // A passphrase without digits or capitals is fine, with the same link.
    let (status, _, body) = b
        .post(
            &app,
            &path,
            &[
                ("csrf_token", &csrf),
                ("password", "paarse giraf fietst langzaam"),
                ("repeat", "paarse giraf fietst langzaam"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("opgeslagen"), "{body}");
}

#[actix_web::test]
async fn the_strength_meter_answers_with_the_same_rule_and_needs_csrf() {
    let (t, _) = demo(&[]);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::new();
    let (_, _, body) = b.get(&app, "/wachtwoord-vergeten").await;
    let csrf = hidden(&body, "csrf_token");
    let (status, _, _) = b
        .post(
            &app,
            "/wachtwoord/sterkte",
            &[("csrf_token", "wrong"), ("password", "Welkom2026!")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = b
        .post(
            &app,
            "/wachtwoord/sterkte",
            &[("csrf_token", &csrf), ("password", "Welkom2026!")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["acceptable"], false);
    assert!(answer["score"].as_u64().unwrap() < 3);
    let messages = answer["messages"].to_string();
    assert!(messages.contains("welkom"), "{messages}");
    let (_, _, body) = b
        .post(
            &app,
            "/wachtwoord/sterkte",
            &[
                ("csrf_token", &csrf),
                ("password", "paarse giraf fietst langzaam"),
            ],
        )
        .await;
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["acceptable"], true, "{answer}");
    // Limited per client address.
    for _ in 0..idp::server::password::STRENGTH_LIMIT {
        let _ = b
            .post(
                &app,
                "/wachtwoord/sterkte",
                &[("csrf_token", &csrf), ("password", "x")],
            )
            .await;
    }
    let (status, _, _) = b
        .post(
            &app,
            "/wachtwoord/sterkte",
            &[("csrf_token", &csrf), ("password", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn the_cli_refuses_a_weak_password() {
    let (t, _) = demo(&[]);
    let err = broker::admin::add_user(
        broker::admin::Ctx {
            dir: t.state.dir.as_ref(),
            clock: t.state.clock.as_ref(),
            actor: "test",
        },
        t.state.credentials(),
        broker::admin::UserInput {
            school: idp::demo::DEMO_SCHOOL_REF.into(),
            role: "leerkracht".into(),
            given_name: "Piet".into(),
            family_name: "Klaassen".into(),
            email: Some("piet@regenboog.example".into()),
            password: Some("Welkom2026!".into()),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("this password is too easy to guess"),
        "{err}"
    );
    assert!(t
        .state
        .dir
        .user_by_email("piet@regenboog.example")
        .unwrap()
        .is_none());
}

#[actix_web::test]
async fn a_coordinator_enrols_then_signs_in_with_a_code_that_works_once() {
    let (t, demo) = demo(&[]);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::new();
    // Without a second factor the password suffices.
    assert_eq!(b.sign_in(&app, SANNE).await, "/");
    let (status, _, body) = b.get(&app, "/tweede-stap").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<svg"), "a QR code: {body}");
    let secret = secret_on(&body);
    assert_eq!(secret.len(), 20);
    let csrf = hidden(&body, "csrf_token");
    let sealed = hidden(&body, "sealed");
    let wrong = if broker::login::totp::code_at(&secret, t.clock.now_secs()) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (_, _, body) = b
        .post(
            &app,
            "/tweede-stap",
            &[("csrf_token", &csrf), ("sealed", &sealed), ("code", wrong)],
        )
        .await;
    assert!(body.contains("klopt niet"), "{body}");
    let code = broker::login::totp::code_at(&secret, t.clock.now_secs());
    let (status, _, body) = b
        .post(
            &app,
            "/tweede-stap",
            &[("csrf_token", &csrf), ("sealed", &sealed), ("code", &code)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("De tweede stap is ingesteld"), "{body}");
    let sanne = user_id(&demo, SANNE);
    let (stored, _) = t.state.dir.staff_totp(sanne).unwrap().unwrap();
    assert!(
        !stored.contains(&broker::login::totp::base32_encode(&secret)),
        "sealed at rest"
    );

    // The next sign-in asks for a code; there is no session before it.
    t.clock.advance(Duration::from_secs(60));
    let mut b = Browser::new();
    let to = b.sign_in(&app, SANNE).await;
    assert!(to.starts_with("/login/tweede-stap"), "{to}");
    assert!(!b.has("lp_session"), "no session after the password alone");
    let (status, _, body) = b.get(&app, &to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("autocomplete=\"one-time-code\""), "{body}");
    let csrf = hidden(&body, "csrf_token");
    let code = broker::login::totp::code_at(&secret, t.clock.now_secs());
    let (status, to, _) = b
        .post(
            &app,
            "/login/tweede-stap",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/"));
    assert!(b.has("lp_session"));

    // The same code again, in another sign-in within its step: refused.
    let mut c = Browser::new();
    let to = c.sign_in(&app, SANNE).await;
    let (_, _, body) = c.get(&app, &to).await;
    let csrf = hidden(&body, "csrf_token");
    let (status, _, body) = c
        .post(
            &app,
            "/login/tweede-stap",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("al gebruikt"), "{body}");
    assert!(!c.has("lp_session"));
    // An earlier step's code after a later one was used: refused as well.
    let earlier = broker::login::totp::code_of_step(
        &secret,
        broker::login::totp::step_of(t.clock.now_secs()) - 1,
    );
    let (_, _, body) = c
        .post(
            &app,
            "/login/tweede-stap",
            &[("csrf_token", &csrf), ("code", &earlier)],
        )
        .await;
    assert!(body.contains("al gebruikt"), "{body}");
    // The next step's code works.
    t.clock.advance(Duration::from_secs(30));
    let next = broker::login::totp::code_at(&secret, t.clock.now_secs());
    let (status, to, _) = c
        .post(
            &app,
            "/login/tweede-stap",
            &[("csrf_token", &csrf), ("code", &next)],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/"));

    // The operator resets it: the password suffices again (nothing requires it).
    let u = t.state.dir.user(sanne).unwrap().unwrap();
    assert!(broker::login::totp::reset(&t.state.world(), &u, "test", t.clock.now_secs()).unwrap());
    assert_eq!(Browser::new().sign_in(&app, SANNE).await, "/");
}

#[actix_web::test]
async fn wrong_codes_count_toward_the_account_limit() {
    let (t, demo) = demo(&[]);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let sanne = t.state.dir.user(user_id(&demo, SANNE)).unwrap().unwrap();
    let secret = broker::login::totp::new_secret().unwrap();
    let key = broker::login::totp::base32_decode(&secret).unwrap();
    let code = broker::login::totp::code_at(&key, t.clock.now_secs());
    assert_eq!(
        broker::login::totp::confirm_enrolment(
            &t.state.world(),
            &t.state.sealer,
            &sanne,
            &secret,
            &code,
            t.clock.now_secs()
        ),
        broker::login::totp::CodeCheck::Accepted
    );
    t.clock.advance(Duration::from_secs(90));
    let mut b = Browser::new();
    let to = b.sign_in(&app, SANNE).await;
    let (_, _, body) = b.get(&app, &to).await;
    let csrf = hidden(&body, "csrf_token");
    let right = broker::login::totp::code_at(&key, t.clock.now_secs());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..broker::login::staff::MAX_FAILURES_PER_ACCOUNT {
        let (status, _, _) = b
            .post(
                &app,
                "/login/tweede-stap",
                &[("csrf_token", &csrf), ("code", wrong)],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, _) = b
        .post(
            &app,
            "/login/tweede-stap",
            &[("csrf_token", &csrf), ("code", &right)],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right code comes too late"
    );
    assert!(!b.has("lp_session"));
}

#[actix_web::test]
async fn the_operator_setting_forces_enrolment_before_any_staff_page() {
    let (t, _) = demo(&[("LEERPOORT_REQUIRE_TOTP_FOR_COORDINATORS", "true")]);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    // A teacher is not asked.
    assert_eq!(Browser::new().sign_in(&app, ANNA).await, "/");
    let mut b = Browser::new();
    let to = b.sign_in(&app, SANNE).await;
    assert!(to.starts_with("/login/tweede-stap"), "{to}");
    assert!(!b.has("lp_session"));
    // No staff page before enrolment: there is no session.
    let (status, to_login, _) = b.get(&app, "/tweede-stap").await;
    assert_eq!((status, to_login.as_str()), (StatusCode::FOUND, "/login"));
    let (status, _, body) = b.get(&app, &to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Stel de tweede stap in"), "{body}");
    assert!(body.contains("vraagt deze tweede stap"), "{body}");
    let secret = secret_on(&body);
    let csrf = hidden(&body, "csrf_token");
    let code = broker::login::totp::code_at(&secret, t.clock.now_secs());
    let (status, to, _) = b
        .post(
            &app,
            "/login/tweede-stap",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/"));
    assert!(b.has("lp_session"));
    // From now on the code is asked, not enrolment.
    t.clock.advance(Duration::from_secs(30));
    let mut c = Browser::new();
    let to = c.sign_in(&app, SANNE).await;
    let (_, _, body) = c.get(&app, &to).await;
    assert!(body.contains("de code uit je app"), "{body}");
}

#[actix_web::test]
async fn a_school_can_require_the_second_factor() {
    let (t, _) = demo(&[]);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let school = broker::admin::parse_school_ref(idp::demo::DEMO_SCHOOL_REF).unwrap();
    broker::login::totp::set_school_requirement(
        &t.state.world(),
        &school,
        true,
        "test",
        t.clock.now_secs(),
    )
    .unwrap();
    let to = Browser::new().sign_in(&app, SANNE).await;
    assert!(to.starts_with("/login/tweede-stap"), "{to}");
    broker::login::totp::set_school_requirement(
        &t.state.world(),
        &school,
        false,
        "test",
        t.clock.now_secs(),
    )
    .unwrap();
    assert_eq!(Browser::new().sign_in(&app, SANNE).await, "/");
}
