//! Beheer, in process: only the school's own active ICT coordinators reach it; consent per
//! publisher stops sign-ins at once; staff are added with an activation mail, given roles,
//! blocked and removed — never the last coordinator, never another school's staff.

use actix_web::http::StatusCode;
use actix_web::test;
use broker::admin::{self, Ctx};
use broker::model::UserStatus;
use claims::{InstellingRef, Role};
use uuid::Uuid;

use crate::school::demo_app;
use crate::server::TestApp;
use crate::support::browser::Browser;
use crate::support::page::hidden;

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;
const COORDINATOR: &str = "sanne.jansen@regenboog.example";
const TEACHER: &str = "anna.devries@regenboog.example";

fn ctx(t: &TestApp) -> Ctx<'_> {
    Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    }
}

fn user_by_email(t: &TestApp, email: &str) -> broker::model::User {
    t.state.dir.user_by_email(email).unwrap().unwrap()
}

/// The `rp-<id>` checkboxes on the consent page, with whether each is ticked.
fn checkboxes(body: &str) -> Vec<(String, bool)> {
    body.split("<input type=\"checkbox\"")
        .skip(1)
        .map(|rest| {
            let tag = rest.split('>').next().unwrap();
            let name = tag
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (name.to_string(), tag.contains("checked"))
        })
        .collect()
}

/// The path of the link to `prefix` in a mail (quoted-printable, as the outbox writes it).
fn link_in(mail: &str, prefix: &str) -> String {
    let decoded = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let start = decoded.find(prefix).expect("a link in the mail");
    decoded[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// A second school with a teacher who can sign in, for the tests that cross schools.
fn other_school(t: &TestApp) -> (InstellingRef, Uuid) {
    let s = admin::add_school(
        ctx(t),
        admin::SchoolInput {
            brin: "34CD".into(),
            vestiging: "00".into(),
            name: "De Zonnebloem".into(),
            networks: vec![],
            board: None,
            instelling_ref: None,
        },
    )
    .unwrap();
    let added = admin::add_user(
        ctx(t),
        t.state.credentials(),
        admin::UserInput {
            school: s.instelling_ref.to_string(),
            role: "leerkracht".into(),
            given_name: "Piet".into(),
            family_name: "Bakker".into(),
            email: Some("piet.bakker@zonnebloem.example".into()),
            password: Some(idp::demo::DEMO_STAFF_PASSWORD.into()),
            ..Default::default()
        },
    )
    .unwrap();
    (s.instelling_ref, added.user.id)
}

#[actix_web::test]
async fn only_the_schools_active_coordinators_reach_beheer() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;

    let mut nobody = Browser::new();
    let (status, to, _) = nobody.get(&app, "/beheer/toestemming").await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/login"));

    let mut teacher = Browser::new();
    teacher.sign_in(&app, TEACHER).await;
    for path in ["/beheer", "/beheer/toestemming", "/beheer/personeel"] {
        let (status, _, _) = teacher.get(&app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a teacher at {path}");
    }
    let (_, _, start) = teacher.get(&app, "/").await;
    assert!(!start.contains("href=\"/beheer\""), "{start}");

    let mut coordinator = Browser::new();
    coordinator.sign_in(&app, COORDINATOR).await;
    let (_, _, start) = coordinator.get(&app, "/").await;
    assert!(start.contains("href=\"/beheer\""), "{start}");
    let (status, _, body) = coordinator.get(&app, "/beheer").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(SCHOOL) && body.contains("Toestemming uitwisseling schooldata"));
}

#[actix_web::test]
async fn unticking_a_publisher_stops_its_shortcut_at_once_and_is_in_the_trail() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let shortcut = format!(
        "/snelkoppeling?INSTELLING_REF={SCHOOL}&TARGET={}",
        idp::demo::DEMO_CLIENT_ID
    );
    let mut pupil = Browser::at("127.0.0.1");
    let (status, _, _) = pupil.get(&app, &shortcut).await;
    assert_eq!(status, StatusCode::OK, "the demo publisher is allowed");

    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (status, _, page) = b.get(&app, "/beheer/toestemming").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Demo-uitgeverij Rekenen") && page.contains("Demo-netwerkomgeving"),
        "{page}"
    );
    assert!(
        page.contains("ook niet voor wie nu al is ingelogd"),
        "the page warns: {page}"
    );
    let boxes = checkboxes(&page);
    assert!(
        boxes.len() >= 2 && boxes.iter().all(|(_, on)| *on),
        "{boxes:?}"
    );
    let publisher = t
        .state
        .dir
        .relying_party_by_public_id(idp::demo::DEMO_CLIENT_ID)
        .unwrap()
        .unwrap();
    let off = format!("rp-{}", publisher.id);
    let csrf = hidden(&page, "csrf_token");
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", &csrf)];
    for (name, _) in boxes.iter().filter(|(n, _)| n != &off) {
        form.push((name, "1"));
    }

    // A forged party id changes nothing.
    let forged = format!("rp-{}", Uuid::new_v4());
    let mut forging = form.clone();
    forging.push((&forged, "1"));
    let (status, _, _) = b.post(&app, "/beheer/toestemming", &forging).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = pupil.get(&app, &shortcut).await;
    assert_eq!(status, StatusCode::OK, "nothing was written");

    let (status, _, body) = b.post(&app, "/beheer/toestemming", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("De nieuwe instellingen zijn opgeslagen."),
        "{body}"
    );
    let after = checkboxes(&body);
    assert_eq!(
        after.iter().find(|(n, _)| n == &off).map(|b| b.1),
        Some(false)
    );
    let (status, _, body) = pupil.get(&app, &shortcut).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "withdrawn at once: {body}");

    let sanne = user_by_email(&t, COORDINATOR);
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let trail = t.state.dir.audit_events(Some(&school), 20).unwrap();
    let line = trail
        .iter()
        .find(|e| e.action == "registration.deregister")
        .expect("the withdrawal is in the school's trail");
    assert_eq!(line.actor, format!("user:{}", sanne.id));
    assert_eq!(line.subject.as_deref(), Some(idp::demo::DEMO_CLIENT_ID));

    // Ticking it again allows it again, with what it released before.
    let csrf = hidden(
        &body_of(&mut b, &app, "/beheer/toestemming").await,
        "csrf_token",
    );
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", &csrf)];
    for (name, _) in &boxes {
        all.push((name, "1"));
    }
    let (status, _, _) = b.post(&app, "/beheer/toestemming", &all).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = pupil.get(&app, &shortcut).await;
    assert_eq!(status, StatusCode::OK);

    // Without the CSRF token: the page has expired, nothing changes.
    let (status, _, _) = b
        .post(&app, "/beheer/toestemming", &[("csrf_token", "x")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = pupil.get(&app, &shortcut).await;
    assert_eq!(status, StatusCode::OK);
}

async fn body_of<S, B>(b: &mut Browser, app: &S, path: &str) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    b.get(app, path).await.2
}

#[actix_web::test]
async fn a_new_school_starts_with_nothing_ticked() {
    let (t, _) = demo_app();
    let (school, _) = other_school(&t);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let invited = broker::beheer::staff::invite(
        &t.state.world(),
        t.state.credentials(),
        ctx(&t),
        &school,
        broker::beheer::staff::NewStaff {
            given_name: "Kees".into(),
            family_name: "Smit".into(),
            email: "kees.smit@zonnebloem.example".into(),
            role: Role::IctCoordinator,
        },
    )
    .unwrap();
    assert!(invited.link_sent);
    assert_eq!(invited.user.status, UserStatus::Inactive);
    let mail = t.outbox().pop().unwrap();
    assert!(mail.contains("kees.smit@zonnebloem.example") && mail.contains("/wachtwoord/"));
    // Kees activates with the link and sets a password.
    let mut b = Browser::new();
    let path = &link_in(&mail, "/wachtwoord/");
    let (_, _, form) = b.get(&app, path).await;
    let csrf = hidden(&form, "csrf_token");
    let (status, _, body) = b
        .post(
            &app,
            path,
            &[
                ("csrf_token", &csrf),
                ("password", "zonnebloem-beheer-2026"),
                ("repeat", "zonnebloem-beheer-2026"),
            ],
        )
        .await;
    assert!(status.is_success() || status.is_redirection(), "{body}");
    let kees = t.state.dir.user(invited.user.id).unwrap().unwrap();
    assert_eq!(kees.status, UserStatus::Active, "{body}");
    let (_, _, page) = {
        let (_, _, login) = b.get(&app, "/login").await;
        let csrf = hidden(&login, "csrf_token");
        b.post(
            &app,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", "kees.smit@zonnebloem.example"),
                ("password", "zonnebloem-beheer-2026"),
            ],
        )
        .await;
        b.get(&app, "/beheer/toestemming").await
    };
    let boxes = checkboxes(&page);
    assert!(
        !boxes.is_empty(),
        "the operator's parties are listed: {page}"
    );
    assert!(boxes.iter().all(|(_, on)| !on), "nothing ticked: {boxes:?}");
}

#[actix_web::test]
async fn the_coordinator_adds_staff_gives_roles_and_keeps_one_coordinator() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (status, _, page) = b.get(&app, "/beheer/personeel").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("ICT-coördinatoren") && page.contains("Anna"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf_token");

    // An IB'er by name and e-mail: inactive, with an activation mail.
    let before = t.outbox().len();
    let (status, _, body) = b
        .post(
            &app,
            "/beheer/personeel",
            &[
                ("csrf_token", &csrf),
                ("voornaam", "Ilse"),
                ("achternaam", "Bos"),
                ("email", "Ilse.Bos@Regenboog.example"),
                ("rol", "ib"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Ilse Bos is toegevoegd"), "{body}");
    let ilse = user_by_email(&t, "ilse.bos@regenboog.example");
    assert_eq!(
        (ilse.status, ilse.roles.clone()),
        (UserStatus::Inactive, vec![Role::Ib])
    );
    let mails = t.outbox();
    assert_eq!(mails.len(), before + 1);
    assert!(mails
        .last()
        .unwrap()
        .contains("Activeer je Leerpoort-account"));

    // The same address again, and a role Beheer does not give: refused, nothing written.
    let (_, _, body) = b
        .post(
            &app,
            "/beheer/personeel",
            &[
                ("csrf_token", &csrf),
                ("voornaam", "Ilse"),
                ("achternaam", "Bos"),
                ("email", "ilse.bos@regenboog.example"),
                ("rol", "rt"),
            ],
        )
        .await;
    assert!(
        body.contains("Er is al een account met dit e-mailadres."),
        "{body}"
    );
    let (status, _, _) = b
        .post(
            &app,
            "/beheer/personeel",
            &[
                ("csrf_token", &csrf),
                ("voornaam", "Mees"),
                ("achternaam", "Kind"),
                ("email", "mees@regenboog.example"),
                ("rol", "leerling"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(t
        .state
        .dir
        .user_by_email("mees@regenboog.example")
        .unwrap()
        .is_none());

    // The activation link again.
    let (_, _, body) = b
        .post(
            &app,
            &format!("/beheer/personeel/{}/link", ilse.id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert!(
        body.contains("Er is een nieuwe link gestuurd naar ilse.bos@regenboog.example"),
        "{body}"
    );
    assert_eq!(t.outbox().len(), before + 2);

    // Anna, a teacher, becomes RT'er too.
    let anna = user_by_email(&t, TEACHER);
    let (_, _, body) = b
        .post(
            &app,
            &format!("/beheer/personeel/{}/rol", anna.id),
            &[("csrf_token", &csrf), ("rol", "rt"), ("geven", "1")],
        )
        .await;
    assert!(body.contains("De rollen zijn aangepast."), "{body}");
    assert_eq!(
        user_by_email(&t, TEACHER).roles,
        vec![Role::Leerkracht, Role::Rt]
    );

    // Sanne is the only active coordinator: she cannot block, remove or demote herself.
    let sanne = user_by_email(&t, COORDINATOR);
    for (action, extra) in [
        ("blokkeren", None),
        ("verwijderen", None),
        ("rol", Some("ict-coordinator")),
    ] {
        let mut form = vec![("csrf_token", csrf.as_str()), ("geven", "0")];
        if let Some(r) = extra {
            form.push(("rol", r));
        }
        let (status, _, body) = b
            .post(
                &app,
                &format!("/beheer/personeel/{}/{action}", sanne.id),
                &form,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{action}");
        assert!(
            body.contains("minstens één actieve ICT-coördinator"),
            "{action}: {body}"
        );
    }
    let sanne = user_by_email(&t, COORDINATOR);
    assert_eq!(sanne.status, UserStatus::Active);
    assert!(sanne.roles.contains(&Role::IctCoordinator));

    // Anna becomes coordinator too; now Sanne may hand over and step down to IB'er.
    for (who, rol, geven) in [
        (anna.id, "ict-coordinator", "1"),
        (sanne.id, "ib", "1"),
        (sanne.id, "ict-coordinator", "0"),
    ] {
        let (_, _, body) = b
            .post(
                &app,
                &format!("/beheer/personeel/{who}/rol"),
                &[("csrf_token", &csrf), ("rol", rol), ("geven", geven)],
            )
            .await;
        assert!(body.contains("De rollen zijn aangepast."), "{rol}: {body}");
    }
    assert!(!user_by_email(&t, COORDINATOR)
        .roles
        .contains(&Role::IctCoordinator));
    let (status, _, _) = b.get(&app, "/beheer").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no longer a coordinator: no Beheer"
    );
}

#[actix_web::test]
async fn blocking_signs_out_at_once_and_removing_asks_first() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut anna = Browser::new();
    anna.sign_in(&app, TEACHER).await;
    let (status, _, _) = anna.get(&app, "/groepen").await;
    assert_eq!(status, StatusCode::OK);

    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let csrf = hidden(&b.get(&app, "/beheer/personeel").await.2, "csrf_token");
    let id = user_by_email(&t, TEACHER).id;
    let (_, _, body) = b
        .post(
            &app,
            &format!("/beheer/personeel/{id}/blokkeren"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert!(body.contains("Het account is geblokkeerd."), "{body}");
    let (status, to, _) = anna.get(&app, "/groepen").await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::FOUND, "/login"),
        "signed out at once"
    );
    let (_, _, body) = b
        .post(
            &app,
            &format!("/beheer/personeel/{id}/deblokkeren"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert!(body.contains("Het account is gedeblokkeerd."), "{body}");

    // Removing: a GET only asks.
    let (status, _, ask) = b
        .get(&app, &format!("/beheer/personeel/{id}/verwijderen"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(ask.contains("kan niet ongedaan worden gemaakt"), "{ask}");
    assert_eq!(
        t.state.dir.user(id).unwrap().unwrap().status,
        UserStatus::Active
    );
    let (_, _, body) = b
        .post(
            &app,
            &format!("/beheer/personeel/{id}/verwijderen"),
            &[("csrf_token", &hidden(&ask, "csrf_token"))],
        )
        .await;
    assert!(body.contains("Het account is verwijderd."), "{body}");
    assert_eq!(
        t.state.dir.user(id).unwrap().unwrap().status,
        UserStatus::Removed
    );
}

#[actix_web::test]
async fn a_coordinator_cannot_reach_another_schools_staff_by_guessing_ids() {
    let (t, _) = demo_app();
    let (_, piet) = other_school(&t);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (_, _, page) = b.get(&app, "/beheer/personeel").await;
    assert!(
        !page.contains("Piet"),
        "another school's teacher is not listed"
    );
    let csrf = hidden(&page, "csrf_token");
    for action in ["link", "blokkeren", "deblokkeren", "verwijderen"] {
        let (status, _, _) = b
            .post(
                &app,
                &format!("/beheer/personeel/{piet}/{action}"),
                &[("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{action}");
    }
    let (status, _, _) = b
        .post(
            &app,
            &format!("/beheer/personeel/{piet}/rol"),
            &[("csrf_token", &csrf), ("rol", "ib"), ("geven", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = b
        .get(&app, &format!("/beheer/personeel/{piet}/verwijderen"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in [
        format!("/beheer/personeel/{}/blokkeren", Uuid::new_v4()),
        "/beheer/personeel/niet-een-id/blokkeren".to_string(),
        format!("/beheer/personeel/{piet}/iets-anders"),
    ] {
        let (status, _, _) = b.post(&app, &path, &[("csrf_token", &csrf)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let piet = t.state.dir.user(piet).unwrap().unwrap();
    assert_eq!(
        (piet.status, piet.roles),
        (UserStatus::Active, vec![Role::Leerkracht])
    );
}

#[actix_web::test]
async fn closing_unticks_everything_tells_the_operator_and_the_operator_closes() {
    let t = TestApp::with_env(&[
        ("LEERPOORT_TRUST_PROXY", "true"),
        ("LEERPOORT_OPERATOR_EMAIL", "helpdesk@leerpoort.example"),
    ]);
    idp::demo::seed(&t.state).unwrap();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let allowed = |t: &TestApp| {
        t.state
            .dir
            .registrations_of_school(&school)
            .unwrap()
            .iter()
            .filter(|r| r.allowed)
            .count()
    };
    assert!(allowed(&t) >= 2);

    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (status, _, page) = b.get(&app, "/beheer/opheffen").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = hidden(&page, "csrf_token");
    // Without the confirmation box: nothing happens.
    let (_, _, body) = b
        .post(&app, "/beheer/opheffen", &[("csrf_token", &csrf)])
        .await;
    assert!(body.contains("role=\"alert\""), "{body}");
    assert!(allowed(&t) >= 2);
    let mails = t.outbox().len();

    let (_, _, body) = b
        .post(
            &app,
            "/beheer/opheffen",
            &[("csrf_token", &csrf), ("zeker", "ja")],
        )
        .await;
    assert!(
        body.contains("de beheerder van Leerpoort heft het account op"),
        "{body}"
    );
    assert_eq!(allowed(&t), 0, "every party unticked");
    let all = t.outbox();
    assert_eq!(all.len(), mails + 1);
    let mail = all.last().unwrap();
    assert!(
        mail.contains("helpdesk@leerpoort.example")
            && mail.contains(&format!("leerpoort school close --school {SCHOOL}")),
        "{mail}"
    );
    let trail = t.state.dir.audit_events(Some(&school), 50).unwrap();
    assert!(trail.iter().any(|e| e.action == "school.close-requested"));
    // Still open until the operator closes it.
    let mut pupil = Browser::at("127.0.0.1");
    let shortcut = format!("/snelkoppeling?INSTELLING_REF={SCHOOL}");
    let (status, _, _) = pupil.get(&app, &shortcut).await;
    assert_eq!(status, StatusCode::OK);

    let closed = admin::close_school(ctx(&t), &school).unwrap();
    assert_eq!(closed.school.status, broker::model::SchoolStatus::Closed);
    let (status, _, body) = pupil.get(&app, &shortcut).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body.contains("Deze school gebruikt Leerpoort niet meer"),
        "{body}"
    );
    assert!(
        admin::close_school(ctx(&t), &school).is_err(),
        "closed once"
    );
    // A closed school's coordinator has no Beheer to change anything in.
    let (status, _, _) = b.get(&app, "/beheer/toestemming").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_logbook_shows_who_did_what_by_kind_and_no_eck_ids() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    // Something of each of two kinds: a withdrawal and a new IB'er.
    let page = b.get(&app, "/beheer/toestemming").await.2;
    let csrf = hidden(&page, "csrf_token");
    b.post(&app, "/beheer/toestemming", &[("csrf_token", &csrf)])
        .await;
    b.post(
        &app,
        "/beheer/personeel",
        &[
            ("csrf_token", &csrf),
            ("voornaam", "Ilse"),
            ("achternaam", "Bos"),
            ("email", "ilse.bos@regenboog.example"),
            ("rol", "ib"),
        ],
    )
    .await;

    let (status, _, all) = b.get(&app, "/beheer/logboek").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        all.contains("Toestemming ingetrokken")
            && all.contains("Demo-uitgeverij Rekenen")
            && all.contains("Sanne Jansen")
            && all.contains("Account aangemaakt")
            && all.contains("Ilse Bos"),
        "{all}"
    );
    assert!(!all.contains("ketenid") && !all.contains("eckid"), "{all}");
    let (_, _, consent) = b.get(&app, "/beheer/logboek?soort=toestemming").await;
    assert!(consent.contains("Toestemming ingetrokken"), "{consent}");
    assert!(!consent.contains("Account aangemaakt"), "{consent}");
    let (status, _, _) = b.get(&app, "/beheer/logboek?soort=iets").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Another school's lines are not there.
    let (other, _) = other_school(&t);
    let (_, _, all) = b.get(&app, "/beheer/logboek").await;
    assert!(!all.contains("Piet Bakker") && !all.contains(&other.to_string()));
}

#[actix_web::test]
async fn refused_sign_ins_are_in_the_logbook_once_per_quarter_hour() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let page = b.get(&app, "/beheer/toestemming").await.2;
    let csrf = hidden(&page, "csrf_token");
    let (status, _, _) = b
        .post(&app, "/beheer/toestemming", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(status, StatusCode::OK, "everything unticked");

    // A teacher tries the publisher's shortcut again and again: refused every time, one line.
    let mut teacher = Browser::new();
    teacher.sign_in(&app, TEACHER).await;
    let refused = format!(
        "/snelkoppeling/geweigerd?TARGET={}",
        idp::demo::DEMO_CLIENT_ID
    );
    for _ in 0..5 {
        let (status, _, body) = teacher.get(&app, &refused).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let noted = |t: &TestApp| {
        t.state
            .dir
            .audit_events(Some(&school), 100)
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "sign-in.refused.deregistered")
            .collect::<Vec<_>>()
    };
    let lines = noted(&t);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].subject.as_deref(), Some(idp::demo::DEMO_CLIENT_ID));
    assert_eq!(lines[0].details["reason"], "deregistered");
    let anna = user_by_email(&t, TEACHER);
    assert!(
        !lines[0].details.to_string().contains(&anna.id.to_string()),
        "the line names the setting, not the user"
    );

    let (_, _, refusals) = b.get(&app, "/beheer/logboek?soort=geweigerd").await;
    assert!(
        refusals.contains("Inloggen geweigerd: toestemming ingetrokken")
            && refusals.contains("Demo-uitgeverij Rekenen"),
        "{refusals}"
    );
    assert!(!refusals.contains("Account aangemaakt"), "{refusals}");

    // A quarter of an hour later, a new refusal is a new line.
    t.clock.advance(std::time::Duration::from_secs(15 * 60 + 1));
    let (status, _, _) = teacher.get(&app, &refused).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(noted(&t).len(), 2);
}

#[actix_web::test]
async fn a_substitute_signs_in_with_the_link_sees_the_group_and_is_wiped_at_the_end() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let g3 = t
        .state
        .dir
        .group_by_key(&school, "groep-3a")
        .unwrap()
        .unwrap();
    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (status, _, page) = b.get(&app, "/beheer/invalkrachten").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Groep 3A") && page.contains("niemand"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf_token");
    let group = g3.id.to_string();
    let activate = |naam: &'static str, dagen: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("groep", group.clone()),
            ("naam", naam.to_string()),
            ("email", "Joost.Invaller@Example.org".to_string()),
            ("dagen", dagen.to_string()),
        ]
    };
    let post = |form: Vec<(&'static str, String)>| {
        let form: Vec<(&str, String)> = form;
        form
    };
    // Refused: 3 days, a one-word name, another school's group.
    for (form, says) in [
        (
            activate("Joost Invaller", "3"),
            "Kies 1, 2 of 5 schooldagen.",
        ),
        (
            activate("Joost", "1"),
            "Vul een voornaam en een achternaam in.",
        ),
    ] {
        let form = post(form);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (_, _, body) = b.post(&app, "/beheer/invalkrachten", &pairs).await;
        assert!(body.contains(says), "{body}");
    }
    let (other, _) = other_school(&t);
    let other_group = admin::add_group(ctx(&t), &other, "x", "Groep X", Some("4"), false)
        .unwrap()
        .id
        .to_string();
    let (status, _, _) = b
        .post(
            &app,
            "/beheer/invalkrachten",
            &[
                ("csrf_token", &csrf),
                ("groep", &other_group),
                ("naam", "Joost Invaller"),
                ("email", "joost@example.org"),
                ("dagen", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mails = t.outbox().len();
    let form = activate("Joost Invaller", "1");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, _, body) = b.post(&app, "/beheer/invalkrachten", &pairs).await;
    assert!(
        body.contains("Joost Invaller heeft nu toegang tot Groep 3A"),
        "{body}"
    );
    let all = t.outbox();
    assert_eq!(all.len(), mails + 1);
    let mail = all.last().unwrap();
    assert!(mail.contains("joost.invaller@example.org"), "{mail}");
    let path = link_in(mail, "/invalkracht/");

    // The substitute opens the link: it asks first, then signs in to the group overview.
    let mut joost = Browser::new();
    let (status, _, ask) = joost.get(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ask.contains("Inloggen als invalkracht"), "{ask}");
    let (status, to, _) = joost
        .post(&app, &path, &[("csrf_token", &hidden(&ask, "csrf_token"))])
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/groepen"));
    let (status, _, overview) = joost.get(&app, "/groepen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        overview.contains("Groep 3A") && overview.contains("Emma"),
        "{overview}"
    );
    assert!(!overview.contains("Groep 7"), "only the substitute's group");
    let (status, _, _) = joost.get(&app, "/beheer").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, list) = b.get(&app, "/beheer/invalkrachten").await;
    assert!(
        list.contains("Joost Invaller"),
        "who substitutes where: {list}"
    );

    // The day ends: the session and the link stop, and the data are wiped.
    t.clock.advance(std::time::Duration::from_secs(2 * 86_400));
    let (status, to, _) = joost.get(&app, "/groepen").await;
    assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/login"));
    let (status, _, body) = joost.get(&app, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Deze link werkt niet (meer)"), "{body}");
    b.sign_in(&app, COORDINATOR).await;
    let (status, _, list) = b.get(&app, "/beheer/invalkrachten").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(!list.contains("Joost"), "{list}");
    let wiped = broker::beheer::substitutes::account_of(ctx(&t), &g3).unwrap();
    assert_eq!(
        (wiped.given_name.as_str(), wiped.status, wiped.email),
        ("Invalkracht", UserStatus::Inactive, None)
    );
    let trail = t.state.dir.audit_events(Some(&school), 100).unwrap();
    for action in ["substitute.activate", "substitute.expired"] {
        assert!(trail.iter().any(|e| e.action == action), "{action}");
    }
    assert!(
        !trail
            .iter()
            .any(|e| e.details.to_string().contains("joost")),
        "the trail keeps that it happened, not the address"
    );
}

#[actix_web::test]
async fn handing_the_substitute_account_to_someone_else_ends_the_first_persons_access() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let g3 = t
        .state
        .dir
        .group_by_key(&school, "groep-3a")
        .unwrap()
        .unwrap();
    let activate = |name: &str| {
        broker::beheer::substitutes::activate(
            &t.state.world(),
            ctx(&t),
            &school,
            g3.id,
            broker::beheer::substitutes::Substitute {
                name: name.into(),
                email: "invaller@example.org".into(),
                days: 2,
            },
            None,
        )
        .unwrap()
    };
    let link_of = |t: &TestApp| link_in(&t.outbox().pop().unwrap(), "/invalkracht/");
    activate("Joost Invaller");
    let first = link_of(&t);
    let mut joost = Browser::new();
    let ask = joost.get(&app, &first).await.2;
    joost
        .post(&app, &first, &[("csrf_token", &hidden(&ask, "csrf_token"))])
        .await;
    assert_eq!(joost.get(&app, "/groepen").await.0, StatusCode::OK);

    t.clock.advance(std::time::Duration::from_secs(5));
    activate("Mila Vervanger");
    assert_ne!(link_of(&t), first);
    let (status, _, _) = joost.get(&app, "/groepen").await;
    assert_eq!(status, StatusCode::FOUND, "the first person is signed out");
    assert_eq!(joost.get(&app, &first).await.0, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_teacher_gives_a_pupil_a_new_pin_and_the_pupil_signs_in_with_it() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let emma = crate::school::pupil_id(&demo, "Emma de Jong");
    let mut anna = Browser::new();
    anna.sign_in(&app, TEACHER).await;
    let page = format!("/groepen/leerling/{emma}");
    let (status, _, body) = anna.get(&app, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Pincode opslaan") && body.contains("Maak nieuwe wachtwoordplaatjes"));
    let csrf = hidden(&body, "csrf_token");
    let action = format!("{page}/inloggen");
    // Not four digits: refused, the old PIN still works.
    let (_, _, body) = anna
        .post(
            &app,
            &action,
            &[
                ("csrf_token", &csrf),
                ("action", "pincode"),
                ("pin", "12a4"),
            ],
        )
        .await;
    assert!(
        body.contains("Een pincode bestaat uit 4 cijfers."),
        "{body}"
    );
    let (_, _, body) = anna
        .post(
            &app,
            &action,
            &[
                ("csrf_token", &csrf),
                ("action", "pincode"),
                ("pin", "4821"),
            ],
        )
        .await;
    assert!(
        body.contains("Opgeslagen.") && body.contains("4821"),
        "{body}"
    );

    let pin_page = format!("/school/{SCHOOL}/leerling/{emma}");
    let try_pin = |pin: &'static str| {
        let pin_page = pin_page.clone();
        let app = &app;
        async move {
            let mut pupil = Browser::at("127.0.0.1");
            let (_, _, form) = pupil.get(app, &pin_page).await;
            let (status, to, _) = pupil
                .post(
                    app,
                    &pin_page,
                    &[("csrf_token", &hidden(&form, "csrf_token")), ("pin", pin)],
                )
                .await;
            (status, to)
        }
    };
    let (status, to) = try_pin("1234").await;
    assert_ne!(
        (status, to.as_str()),
        (StatusCode::FOUND, "/"),
        "the old PIN is gone"
    );
    let (status, _) = try_pin("4821").await;
    assert_eq!(status, StatusCode::FOUND, "the new PIN signs in");

    // "Maak een nieuwe", a picture password, and a pupil picture; all on the trail.
    let (_, _, body) = anna
        .post(
            &app,
            &action,
            &[("csrf_token", &csrf), ("action", "nieuwe-pincode")],
        )
        .await;
    assert!(
        body.contains("Opgeslagen.") && !body.contains(">4821<"),
        "{body}"
    );
    let (_, _, body) = anna
        .post(
            &app,
            &action,
            &[
                ("csrf_token", &csrf),
                ("action", "plaatjes"),
                ("plaatje1", "uil"),
                ("plaatje2", "ster"),
            ],
        )
        .await;
    assert!(
        body.contains("plaatjes/uil.svg") && body.contains("plaatjes/ster.svg"),
        "{body}"
    );
    let (_, _, body) = anna
        .post(
            &app,
            &action,
            &[
                ("csrf_token", &csrf),
                ("action", "plaatjes"),
                ("plaatje1", "uil"),
            ],
        )
        .await;
    assert!(body.contains("Kies 2 tot 4 plaatjes"), "{body}");
    let (_, _, body) = anna
        .post(
            &app,
            &action,
            &[
                ("csrf_token", &csrf),
                ("action", "leerlingplaatje"),
                ("leerlingplaatje", "egel"),
            ],
        )
        .await;
    assert!(
        body.contains("Het leerlingplaatje is opgeslagen."),
        "{body}"
    );
    let id = Uuid::parse_str(&emma).unwrap();
    let emma_now = t.state.dir.user(id).unwrap().unwrap();
    assert_eq!(emma_now.picture.as_deref(), Some("egel"));
    assert_eq!(emma_now.pupil_auth, Some(broker::model::PupilAuth::Picture));
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let trail = t.state.dir.audit_events(Some(&school), 50).unwrap();
    assert!(
        trail
            .iter()
            .filter(|e| e.action == "pupil.secret-set")
            .count()
            >= 3
    );
    assert!(trail.iter().any(|e| e.action == "pupil.picture-set"));
    assert!(!trail.iter().any(|e| e.details.to_string().contains("4821")));
}

#[actix_web::test]
async fn a_whole_group_changes_its_sign_in_method_with_a_printable_list() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let g3 = t
        .state
        .dir
        .group_by_key(&school, "groep-3a")
        .unwrap()
        .unwrap();
    let g7 = t.state.dir.group_by_key(&school, "groep-7b").unwrap();
    let mut anna = Browser::new();
    anna.sign_in(&app, TEACHER).await;
    let (status, _, overview) = anna.get(&app, "/groepen").await;
    assert_eq!(status, StatusCode::OK);
    let method = format!("/groepen/{}/inlogmethode", g3.id);
    assert!(overview.contains(&method), "{overview}");
    let (status, _, ask) = anna.get(&app, &method).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ask.contains("Alle leerlingen van Groep 3A"), "{ask}");
    let csrf = hidden(&ask, "csrf_token");
    let (status, _, list) = anna
        .post(
            &app,
            &method,
            &[("csrf_token", &csrf), ("methode", "plaatjes")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains("Emma") && list.contains("plaatjes/"),
        "{list}"
    );
    for p in t.state.dir.users_of_group(g3.id).unwrap() {
        if p.is_pupil() {
            assert_eq!(
                p.pupil_auth,
                Some(broker::model::PupilAuth::Picture),
                "{}",
                p.given_name
            );
        }
    }
    // Another teacher's group, a made-up group: not found.
    if let Some(g7) = g7 {
        let (status, _, _) = anna
            .get(&app, &format!("/groepen/{}/inlogmethode", g7.id))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _, _) = anna
        .post(
            &app,
            &format!("/groepen/{}/inlogmethode", Uuid::new_v4()),
            &[("csrf_token", &csrf), ("methode", "pincode")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_coordinator_adds_the_schools_network_and_pupils_sign_in_from_there() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let pin_page = format!(
        "/school/{SCHOOL}/leerling/{}",
        crate::school::pupil_id(&demo, "Emma de Jong")
    );
    const BRANCH: &str = "198.51.100.30";
    let mut tablet = Browser::at(BRANCH);
    assert_eq!(tablet.get(&app, &pin_page).await.0, StatusCode::FORBIDDEN);

    // The coordinator, at the new location, finds its address offered.
    let mut b = Browser::at(BRANCH);
    b.sign_in(&app, COORDINATOR).await;
    let (_, _, page) = b.get(&app, "/beheer").await;
    assert!(page.contains(&format!("value=\"{BRANCH}\"")), "{page}");
    let csrf = hidden(&page, "csrf_token");
    for (net, says) in [
        ("0.0.0.0/0", "hoogstens een /16"),
        ("10.0.0.0/8", "hoogstens een /16"),
        ("geen-netwerk", "Dat is geen netwerk"),
    ] {
        let (_, _, body) = b
            .post(
                &app,
                "/beheer/netwerken",
                &[
                    ("csrf_token", &csrf),
                    ("action", "toevoegen"),
                    ("netwerk", net),
                ],
            )
            .await;
        assert!(body.contains(says), "{net}: {body}");
    }
    assert_eq!(tablet.get(&app, &pin_page).await.0, StatusCode::FORBIDDEN);
    let (_, _, body) = b
        .post(
            &app,
            "/beheer/netwerken",
            &[
                ("csrf_token", &csrf),
                ("action", "toevoegen"),
                ("netwerk", BRANCH),
            ],
        )
        .await;
    assert!(
        body.contains("De schoolnetwerken zijn opgeslagen."),
        "{body}"
    );
    assert!(body.contains("198.51.100.30/32"), "{body}");
    assert_eq!(tablet.get(&app, &pin_page).await.0, StatusCode::OK);

    // Removing it: outside again. Removing one the school does not have: 404.
    let (_, _, body) = b
        .post(
            &app,
            "/beheer/netwerken",
            &[
                ("csrf_token", &csrf),
                ("action", "verwijderen"),
                ("netwerk", "198.51.100.30/32"),
            ],
        )
        .await;
    assert!(
        body.contains("De schoolnetwerken zijn opgeslagen."),
        "{body}"
    );
    assert_eq!(tablet.get(&app, &pin_page).await.0, StatusCode::FORBIDDEN);
    let (status, _, _) = b
        .post(
            &app,
            "/beheer/netwerken",
            &[
                ("csrf_token", &csrf),
                ("action", "verwijderen"),
                ("netwerk", "203.0.113.0/24"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let trail = t.state.dir.audit_events(Some(&school), 20).unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == "school.networks")
            .count(),
        2
    );
}

/// The agent's call: `POST /api/dynamic-ip` from `ip` with these `Authorization` headers.
async fn report_from<S, B>(app: &S, ip: &str, auth: &[&str]) -> (StatusCode, serde_json::Value)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let mut req = test::TestRequest::post()
        .uri("/api/dynamic-ip")
        .insert_header(("x-forwarded-for", ip))
        .peer_addr("127.0.0.1:40000".parse().unwrap());
    for a in auth {
        req = req.append_header(("authorization", *a));
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(
            res.headers().get("www-authenticate").unwrap(),
            "Bearer error=\"invalid_token\""
        );
    }
    let body = test::read_body(res).await;
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

#[actix_web::test]
async fn dynamic_ip_makes_the_reported_address_a_school_network() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let pin_page = format!(
        "/school/{SCHOOL}/leerling/{}",
        crate::school::pupil_id(&demo, "Emma de Jong")
    );
    const FIRST: &str = "203.0.113.9";
    const SECOND: &str = "203.0.113.77";
    let mut tablet = Browser::at(FIRST);
    assert_eq!(tablet.get(&app, &pin_page).await.0, StatusCode::FORBIDDEN);

    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (_, _, page) = b.get(&app, "/beheer").await;
    assert!(
        page.contains("Verbindingstype") && page.contains("Vast IP-adres"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf_token");
    let (status, _, page) = b
        .post(
            &app,
            "/beheer/dynamic-ip",
            &[("csrf_token", "x"), ("action", "sleutel")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "no CSRF token, no key: {page}"
    );
    let (status, _, page) = b
        .post(
            &app,
            "/beheer/dynamic-ip",
            &[("csrf_token", &csrf), ("action", "sleutel")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let token = page
        .split("lpdip_")
        .nth(1)
        .map(|rest| format!("lpdip_{}", &rest[..43]))
        .expect("the key is shown");
    assert!(
        page.contains("curl -fsS -X POST -H") && page.contains(&format!("Bearer {token}")),
        "{page}"
    );
    assert!(page.contains("Invoke-RestMethod -Method Post"));
    assert!(page.contains("Nog niet doorgegeven"), "{page}");
    let bearer = format!("Bearer {token}");

    // The agent reports from the school's address: pupils sign in from there.
    let (status, r) = report_from(&app, FIRST, &[&bearer]).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        r,
        serde_json::json!({"network": "203.0.113.9/32", "changed": true})
    );
    let (_, r) = report_from(&app, FIRST, &[&bearer]).await;
    assert_eq!(
        r["changed"], false,
        "the same address again changes nothing"
    );
    assert_eq!(tablet.get(&app, &pin_page).await.0, StatusCode::OK);

    // The address changes: the old one is no longer the school's.
    let (_, r) = report_from(&app, SECOND, &[&bearer]).await;
    assert_eq!(r["network"], "203.0.113.77/32");
    assert_eq!(tablet.get(&app, &pin_page).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        Browser::at(SECOND).get(&app, &pin_page).await.0,
        StatusCode::OK
    );
    let (_, _, page) = b.get(&app, "/beheer").await;
    assert!(
        page.contains("203.0.113.77/32") && page.contains("203.0.113.9/32"),
        "the current address and the history: {page}"
    );
    assert!(!page.contains(&token), "the key is shown only once");

    // Wrong, malformed, doubled or missing tokens: 401, and after ten from one address, 429
    // for that address — even with the right token.
    let wrong = format!("Bearer lpdip_{}", "A".repeat(43));
    for auth in [
        vec![wrong.as_str()],
        vec!["Bearer x"],
        vec![&bearer, &bearer],
        vec![],
    ] {
        let (status, _) = report_from(&app, "192.0.2.50", &auth).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
    }
    for _ in 0..6 {
        report_from(&app, "192.0.2.50", &[&wrong]).await;
    }
    let (status, _) = report_from(&app, "192.0.2.50", &[&bearer]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = report_from(&app, SECOND, &[&bearer]).await;
    assert_eq!(status, StatusCode::OK, "other addresses are not held up");

    // A new key: the old one stops at once.
    let csrf = hidden(&page, "csrf_token");
    let (_, _, page) = b
        .post(
            &app,
            "/beheer/dynamic-ip",
            &[("csrf_token", &csrf), ("action", "sleutel")],
        )
        .await;
    assert!(page.contains("Er is een nieuwe sleutel gemaakt."), "{page}");
    let (status, _) = report_from(&app, SECOND, &[&bearer]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Off: the reported address is no longer a school network.
    let (_, _, page) = b
        .post(
            &app,
            "/beheer/dynamic-ip",
            &[("csrf_token", &csrf), ("action", "uitzetten")],
        )
        .await;
    assert!(page.contains("Dynamic IP staat uit."), "{page}");
    assert_eq!(
        Browser::at(SECOND).get(&app, &pin_page).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _, _) = b
        .post(
            &app,
            "/beheer/dynamic-ip",
            &[("csrf_token", &csrf), ("action", "uitzetten")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "already off");

    // The trail: two keys, two addresses (not every report), one switch-off.
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let trail = t.state.dir.audit_events(Some(&school), 50).unwrap();
    let count = |a: &str| trail.iter().filter(|e| e.action == a).count();
    assert_eq!(
        (
            count("school.dynamic-ip-token"),
            count("school.dynamic-ip-address"),
            count("school.dynamic-ip-off")
        ),
        (2, 2, 1)
    );
    assert!(
        !format!("{trail:?}").contains(&token),
        "no key on the trail"
    );
}

/// A multipart form as a browser sends a file upload.
fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----leerpoort-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, filename, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/xml\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload<S, B>(b: &mut Browser, app: &S, csrf: &str, file: &[u8]) -> (StatusCode, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let (ct, body) = multipart(&[
        ("csrf_token", None, csrf.as_bytes()),
        ("bestand", Some("las.xml"), file),
    ]);
    let req = test::TestRequest::post()
        .uri("/beheer/gebruikersgegevens")
        .insert_header(("content-type", ct))
        .set_payload(body);
    let res = b.send_raw(app, req).await;
    let status = res.status();
    (
        status,
        String::from_utf8(test::read_body(res).await.to_vec()).unwrap(),
    )
}

#[actix_web::test]
async fn a_coordinator_checks_an_edexml_file_then_imports_it_once() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/edexml/zonnebloem-2.1.xml"
    ))
    .unwrap();
    let ours = fixture.replace("<brincode>12AB</brincode>", "<brincode>99ZZ</brincode>");
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let before = t.state.dir.users_of_school(&school).unwrap().len();

    let mut teacher = Browser::new();
    teacher.sign_in(&app, TEACHER).await;
    let (status, _, _) = teacher.get(&app, "/beheer/gebruikersgegevens").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (status, _, page) = b.get(&app, "/beheer/gebruikersgegevens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Handmatig importeren"), "{page}");
    let csrf = hidden(&page, "csrf_token");

    // Without the CSRF token: expired, nothing checked.
    let (status, _) = upload(&mut b, &app, "x", ours.as_bytes()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Another school's file, and a broken one: refused, with the reason and the line.
    let (_, page) = upload(&mut b, &app, &csrf, fixture.as_bytes()).await;
    assert!(page.contains("hoort bij een andere school"), "{page}");
    let broken = ours.replace("</EDEX>", "");
    let (_, page) = upload(&mut b, &app, &csrf, broken.as_bytes()).await;
    assert!(
        page.contains("Regel 73:") && page.contains("niets veranderd"),
        "{page}"
    );

    // The check: what would change, nothing written yet.
    let (status, page) = upload(&mut b, &app, &csrf, ours.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Er is nog niets veranderd"), "{page}");
    assert!(
        page.contains("Toegevoegd") && page.contains("Leerlingen"),
        "{page}"
    );
    assert!(
        page.contains("1 leerling(en) met een uitstroomdatum die voorbij is"),
        "the notes in Dutch: {page}"
    );
    assert_eq!(t.state.dir.users_of_school(&school).unwrap().len(), before);
    let token = hidden(&page, "controle");

    // Importeren: done, once.
    let confirm = [("csrf_token", csrf.as_str()), ("controle", token.as_str())];
    let (status, _, page) = b
        .post(&app, "/beheer/gebruikersgegevens/importeren", &confirm)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("De gegevens zijn geïmporteerd."), "{page}");
    assert_eq!(
        t.state.dir.users_of_school(&school).unwrap().len(),
        before + 4
    );
    let (_, _, page) = b
        .post(&app, "/beheer/gebruikersgegevens/importeren", &confirm)
        .await;
    assert!(
        page.contains("De controle is verlopen"),
        "used once: {page}"
    );

    let (_, _, log) = b.get(&app, "/beheer/logboek?soort=import").await;
    assert!(log.contains("Gebruikersgegevens geïmporteerd"), "{log}");
    let line = t
        .state
        .dir
        .audit_events(Some(&school), 5)
        .unwrap()
        .into_iter()
        .find(|e| e.action == "import.applied")
        .unwrap();
    let sanne = user_by_email(&t, COORDINATOR);
    assert_eq!(line.actor, format!("user:{}", sanne.id));
    assert_eq!(line.details["added"]["pupils"], 2);
}

#[actix_web::test]
async fn a_coordinator_stages_next_years_file_and_sees_it_waiting() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/edexml/zonnebloem-2.1.xml"
    ))
    .unwrap();
    // The test clock is in November 2026: 2027-2028 is next year.
    let next = fixture
        .replace("<brincode>12AB</brincode>", "<brincode>99ZZ</brincode>")
        .replace(
            "<schooljaar>2026-2027</schooljaar>",
            "<schooljaar>2027-2028</schooljaar>",
        );
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let before = t.state.dir.users_of_school(&school).unwrap().len();

    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (_, _, page) = b.get(&app, "/beheer/gebruikersgegevens").await;
    assert!(
        !page.contains("Klaargezet voor het nieuwe schooljaar"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf_token");
    let (status, page) = upload(&mut b, &app, &csrf, next.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Dit bestand is voor schooljaar 2027-2028")
            && page.contains("gaat het in op 1-8-2027"),
        "{page}"
    );
    let token = hidden(&page, "controle");
    let confirm = [("csrf_token", csrf.as_str()), ("controle", token.as_str())];
    let (status, _, page) = b
        .post(&app, "/beheer/gebruikersgegevens/importeren", &confirm)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(
            "De gegevens voor schooljaar 2027-2028 zijn klaargezet. Ze gaan in op 1-8-2027."
        ),
        "{page}"
    );
    assert_eq!(
        t.state.dir.users_of_school(&school).unwrap().len(),
        before,
        "nothing changes before 1 August"
    );
    assert!(
        t.outbox().iter().all(|m| !m.contains("zonnebloem.example")),
        "nobody invited yet"
    );

    // The page shows what waits, with its report.
    let (_, _, page) = b.get(&app, "/beheer/gebruikersgegevens").await;
    assert!(
        page.contains("Klaargezet voor het nieuwe schooljaar"),
        "{page}"
    );
    assert!(
        page.contains("Schooljaar 2027-2028, gaat in op 1-8-2027"),
        "{page}"
    );
    let (_, _, log) = b.get(&app, "/beheer/logboek?soort=import").await;
    assert!(log.contains("klaargezet (gaan in op 1 augustus)"), "{log}");
}

#[actix_web::test]
async fn importing_new_teachers_from_beheer_mails_their_activation_links() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/edexml/zonnebloem-2.1.xml"
    ))
    .unwrap()
    .replace("<brincode>12AB</brincode>", "<brincode>99ZZ</brincode>");
    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (_, _, page) = b.get(&app, "/beheer/gebruikersgegevens").await;
    let csrf = hidden(&page, "csrf_token");
    let (_, page) = upload(&mut b, &app, &csrf, fixture.as_bytes()).await;
    let token = hidden(&page, "controle");
    let confirm = [("csrf_token", csrf.as_str()), ("controle", token.as_str())];
    let (_, _, page) = b
        .post(&app, "/beheer/gebruikersgegevens/importeren", &confirm)
        .await;
    assert!(
        page.contains(
            "Nieuwe leerkrachten die een e-mail ontvingen om hun account te activeren: 1."
        ),
        "{page}"
    );
    let mails = t.outbox();
    let invite = mails
        .iter()
        .find(|m| m.contains("marloes.visser@zonnebloem.example"))
        .expect("an activation mail");
    assert!(invite.contains("/wachtwoord/"), "{invite}");
}
