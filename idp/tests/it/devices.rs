//! Devices linked to the school, in process: teachers and ICT coordinators link a device, the
//! coordinator lists and unlinks them, an unlinked device's cookie proves nothing, and no one
//! reaches another school's devices.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use broker::admin::{self, Ctx};

use crate::school::{demo_app, pupil_id};
use crate::server::TestApp;
use crate::support::browser::Browser;
use crate::support::page::hidden;

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;
const PASSWORD: &str = idp::demo::DEMO_STAFF_PASSWORD;
/// Outside the demo school's networks (it has loopback only).
const AT_HOME: &str = "198.51.100.20";

fn ctx(t: &TestApp) -> Ctx<'_> {
    Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    }
}

/// Link the device `b` is on, from its start page; the status and the page.
async fn link<S, B>(b: &mut Browser, app: &S, school: &str, name: &str) -> (StatusCode, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (_, _, body) = b.get(app, "/").await;
    let (status, _, body) = b
        .post(
            app,
            &format!("/school/{school}/apparaat"),
            &[("csrf_token", &hidden(&body, "csrf_token")), ("naam", name)],
        )
        .await;
    (status, body)
}

/// The unlink actions on a list page.
fn revoke_actions(body: &str) -> Vec<String> {
    body.split("action=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().to_string())
        .filter(|a| a.ends_with("/ontkoppelen"))
        .collect()
}

#[actix_web::test]
async fn the_coordinator_unlinks_a_device_and_its_cookie_stops_working_at_once() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let pin_page = format!(
        "/school/{SCHOOL}/leerling/{}",
        pupil_id(&demo, "Emma de Jong")
    );

    // A teacher links a tablet that goes home with a pupil.
    let mut tablet = Browser::at(AT_HOME);
    tablet.sign_in(&app, "anna.devries@regenboog.example").await;
    let (_, _, start) = tablet.get(&app, "/").await;
    assert!(
        start.contains("name=\"naam\"") && !start.contains("/apparaten\""),
        "a teacher links devices but has no list: {start}"
    );
    let (status, body) = link(&mut tablet, &app, SCHOOL, "  iPad 3\n groep 3 ").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = tablet.get(&app, &pin_page).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the linked device may, outside the school"
    );

    // The coordinator sees it: its name, who linked it, and that it was used.
    let mut office = Browser::at("127.0.0.1");
    office.sign_in(&app, "sanne.jansen@regenboog.example").await;
    let (_, _, start) = office.get(&app, "/").await;
    let list = format!("/school/{SCHOOL}/apparaten");
    assert!(start.contains(&format!("href=\"{list}\"")), "{start}");
    let (status, _, body) = office.get(&app, &list).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("iPad 3 groep 3") && body.contains("Anna de Vries"),
        "{body}"
    );
    assert!(
        !body.contains("nog niet"),
        "the pupil's page counted as a use: {body}"
    );
    let actions = revoke_actions(&body);
    assert_eq!(actions.len(), 1, "{body}");

    // A forged request without the coordinator's CSRF token changes nothing.
    let (status, _, _) = office
        .post(&app, &actions[0], &[("csrf_token", "vervalst")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = tablet.get(&app, &pin_page).await;
    assert_eq!(status, StatusCode::OK, "still linked");

    let (status, _, body) = office
        .post(
            &app,
            &actions[0],
            &[("csrf_token", &hidden(&body, "csrf_token"))],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("is ontkoppeld") && revoke_actions(&body).is_empty(),
        "{body}"
    );

    // The tablet still carries its signed cookie, and it proves nothing any more.
    assert!(tablet.cookies.iter().any(|(k, _)| k == "lp_device"));
    let (status, _, body) = tablet.get(&app, &pin_page).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, _, body) = office.get(&app, "/").await;
    let (status, _, body) = office
        .post(
            &app,
            &actions[0],
            &[("csrf_token", &hidden(&body, "csrf_token"))],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "unlinked once: {body}");

    let school = SCHOOL.parse().unwrap();
    let actions: Vec<_> = t
        .state
        .dir
        .audit_events(Some(&school), 200)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("device."))
        .collect();
    assert!(
        actions.contains(&"device.enrol".to_string())
            && actions.contains(&"device.revoke".to_string()),
        "{actions:?}"
    );
}

#[actix_web::test]
async fn only_teachers_and_coordinators_link_and_only_coordinators_list() {
    let (t, _) = demo_app();
    admin::add_user(
        ctx(&t),
        t.state.credentials(),
        admin::UserInput {
            school: SCHOOL.into(),
            role: "ib".into(),
            given_name: "Ilse".into(),
            family_name: "Bos".into(),
            email: Some("ilse.bos@regenboog.example".into()),
            password: Some(PASSWORD.into()),
            ..Default::default()
        },
    )
    .unwrap();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let list = format!("/school/{SCHOOL}/apparaten");

    // No session: to the sign-in page.
    let mut nobody = Browser::at("127.0.0.1");
    let (status, to, _) = nobody.get(&app, &list).await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/login"));

    // Support staff may not link, and see no form for it.
    let mut ib = Browser::at(AT_HOME);
    ib.sign_in(&app, "ilse.bos@regenboog.example").await;
    let (_, _, start) = ib.get(&app, "/").await;
    assert!(!start.contains("name=\"naam\""), "{start}");
    let (status, body) = link(&mut ib, &app, SCHOOL, "Laptop IB").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // A teacher has no list, and a name is needed.
    let mut teacher = Browser::at(AT_HOME);
    teacher
        .sign_in(&app, "anna.devries@regenboog.example")
        .await;
    let (status, _, _) = teacher.get(&app, &list).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = link(&mut teacher, &app, SCHOOL, "   ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = link(&mut teacher, &app, SCHOOL, &"x".repeat(61)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!teacher.cookies.iter().any(|(k, _)| k == "lp_device"));
    let school = SCHOOL.parse().unwrap();
    assert!(t.state.dir.devices_of_school(&school).unwrap().is_empty());
}

#[actix_web::test]
async fn another_schools_devices_are_not_found() {
    let (t, _) = demo_app();
    let other = admin::add_school(
        ctx(&t),
        admin::SchoolInput {
            brin: "12AB".into(),
            vestiging: "00".into(),
            name: "Basisschool De Linde".into(),
            networks: vec!["192.0.2.0/24".into()],
            board: None,
            instelling_ref: None,
        },
    )
    .unwrap()
    .instelling_ref
    .to_string();
    admin::add_user(
        ctx(&t),
        t.state.credentials(),
        admin::UserInput {
            school: other.clone(),
            role: "ict-coordinator".into(),
            given_name: "Bram".into(),
            family_name: "Linde".into(),
            email: Some("bram@linde.example".into()),
            password: Some(PASSWORD.into()),
            ..Default::default()
        },
    )
    .unwrap();
    let app = test::init_service(idp::server::app(t.state.clone())).await;

    let mut tablet = Browser::at(AT_HOME);
    tablet.sign_in(&app, "sanne.jansen@regenboog.example").await;
    assert_eq!(
        link(&mut tablet, &app, SCHOOL, "Tablet 1").await.0,
        StatusCode::OK
    );
    let school = SCHOOL.parse().unwrap();
    let device = t.state.dir.devices_of_school(&school).unwrap()[0].id;

    // The other school's coordinator: not A's list, not A's device by either path, and no
    // device linked to A from their session.
    let mut bram = Browser::at("192.0.2.10");
    bram.sign_in(&app, "bram@linde.example").await;
    let (status, _, body) = bram.get(&app, &format!("/school/{other}/apparaten")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("nog geen apparaten"), "{body}");
    let (_, _, body) = bram.get(&app, "/").await;
    let csrf = hidden(&body, "csrf_token");
    let (status, _, _) = bram.get(&app, &format!("/school/{SCHOOL}/apparaten")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in [
        format!("/school/{SCHOOL}/apparaten/{device}/ontkoppelen"),
        format!("/school/{other}/apparaten/{device}/ontkoppelen"),
        format!("/school/{other}/apparaten/niet-een-id/ontkoppelen"),
    ] {
        let (status, _, _) = bram.post(&app, &path, &[("csrf_token", &csrf)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        link(&mut bram, &app, SCHOOL, "Niet van ons").await.0,
        StatusCode::FORBIDDEN
    );
    let devices = t.state.dir.devices_of_school(&school).unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].id, device);
}
