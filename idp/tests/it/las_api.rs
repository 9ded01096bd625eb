//! The LAS API and the coupling's consent on both sides, in process: an LAS's own client gets
//! a token with scope `las`; it switches Leerpoort on for a school; the school's coordinator
//! chooses it in Beheer; only then does a pushed EDEXML file go through the pipeline. And the
//! push door on both backends, through the broker.

use actix_web::http::StatusCode;
use actix_web::test as at;
use broker::import::las;
use claims::InstellingRef;
use serde_json::Value;

use crate::on_both_backends;
use crate::school::demo_app;
use crate::server::TestApp;
use crate::support::browser::Browser;
use crate::support::client::token_answer as token;
use crate::support::ctx;
use crate::support::page::hidden;
use crate::support::TestDb;

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;
const COORDINATOR: &str = "sanne.jansen@regenboog.example";

/// The Zonnebloem fixture as the demo school's file (BRIN 99ZZ).
fn demo_file() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/edexml/zonnebloem-2.1.xml"
    ))
    .unwrap()
    .replace("<brincode>12AB</brincode>", "<brincode>99ZZ</brincode>")
}

/// Call the LAS API: (status, content type, JSON body).
async fn call<S, B>(
    app: &S,
    req: at::TestRequest,
    bearer: Option<&str>,
) -> (StatusCode, String, Value)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let req = match bearer {
        Some(t) => req.insert_header(("authorization", format!("Bearer {t}"))),
        None => req,
    };
    let res = at::call_service(app, req.to_request()).await;
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = at::read_body(res).await;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, ct, json)
}

fn koppeling(school: &str) -> String {
    format!("/api/las/v1/scholen/{school}/koppeling")
}

fn edexml(school: &str) -> String {
    format!("/api/las/v1/scholen/{school}/edexml")
}

fn push_req(school: &str, body: impl Into<Vec<u8>>) -> at::TestRequest {
    at::TestRequest::post()
        .uri(&edexml(school))
        .insert_header(("content-type", "application/xml"))
        .set_payload(body.into())
}

/// An LAS registered for pushing: (client id, secret).
fn push_las(t: &TestApp, name: &str) -> (String, String) {
    let added = las::add_las(ctx(&t.state), name, None).unwrap();
    (added.las.rp.public_id().to_string(), added.client_secret)
}

#[actix_web::test]
async fn an_las_pushes_only_when_both_sides_switched_the_coupling_on() {
    let (t, _) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let (id, secret) = push_las(&t, "ParnasSys");

    // The LAS's own client: scope `las`, and only that.
    let (status, body) = token(&app, (&id, &secret), "las").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let at = body["access_token"].as_str().unwrap().to_string();
    let (status, body) = token(&app, (&id, &secret), "licenties").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_scope");

    // Nothing yet on either side.
    let (status, _, k) = call(
        &app,
        at::TestRequest::get().uri(&koppeling(SCHOOL)),
        Some(&at),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{k}");
    assert_eq!(
        (k["active"].clone(), k["missing"].clone()),
        (false.into(), "both".into())
    );

    // The LAS switches Leerpoort on: the school's side is missing, and a push is refused
    // before its body is read.
    let (status, _, k) = call(
        &app,
        at::TestRequest::put().uri(&koppeling(SCHOOL)),
        Some(&at),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(k["las_switched_on"], true);
    assert_eq!(k["missing"], "school");
    let before = t.state.dir.users_of_school(&school).unwrap().len();
    let (status, ct, p) = call(&app, push_req(SCHOOL, demo_file()), Some(&at)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{p}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(p["missing"], "school");
    assert_eq!(t.state.dir.users_of_school(&school).unwrap().len(), before);

    // The coordinator chooses the LAS in Beheer: the page says it is active.
    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (_, _, page) = b.get(&app, "/beheer/gebruikersgegevens").await;
    assert!(
        page.contains("Automatische koppeling met ParnasSys"),
        "{page}"
    );
    assert!(
        page.contains("ParnasSys heeft Leerpoort aangezet als koppelpartner"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf_token");
    let las_id = t.state.dir.las_suppliers().unwrap()[0].id().to_string();
    let form = [("csrf_token", csrf.as_str()), ("methode", las_id.as_str())];
    let (status, _, page) = b
        .post(&app, "/beheer/gebruikersgegevens/methode", &form)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("De automatische koppeling met ParnasSys is actief"),
        "{page}"
    );

    // A dry run reports and writes nothing; the push imports; the same file again changes
    // nothing.
    let (status, _, r) = call(
        &app,
        at::TestRequest::post()
            .uri(&format!("{}?dryRun=true", edexml(SCHOOL)))
            .set_payload(demo_file()),
        Some(&at),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["dry_run"], true);
    assert_eq!(
        (r["added"]["pupils"].clone(), r["added"]["teachers"].clone()),
        (2.into(), 2.into())
    );
    assert_eq!(t.state.dir.users_of_school(&school).unwrap().len(), before);
    let (status, _, r) = call(&app, push_req(SCHOOL, demo_file()), Some(&at)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["dry_run"], false);
    assert_eq!(
        r["activation_mails"], 1,
        "one new teacher has an e-mail address: {r}"
    );
    assert_eq!(
        t.state.dir.users_of_school(&school).unwrap().len(),
        before + 4
    );
    let (_, _, r) = call(&app, push_req(SCHOOL, demo_file()), Some(&at)).await;
    for col in ["added", "changed", "removed"] {
        assert_eq!(r[col]["pupils"], 0, "{r}");
        assert_eq!(r[col]["teachers"], 0, "{r}");
    }
    let trail = t
        .state
        .dir
        .audit_trail(&broker::repo::AuditQuery {
            school: Some(&school),
            actions: &["import.applied"],
            before: None,
            limit: 10,
        })
        .unwrap();
    assert_eq!(trail.len(), 1, "one import changed something");
    assert_eq!(trail[0].actor, format!("las:{id}"));

    // The page shows the last synchronisation.
    let (_, _, page) = b.get(&app, "/beheer/gebruikersgegevens").await;
    assert!(page.contains("Laatste synchronisatie"), "{page}");

    // The LAS switches off: pushes are refused again, naming the LAS's side.
    let (status, _, k) = call(
        &app,
        at::TestRequest::delete().uri(&koppeling(SCHOOL)),
        Some(&at),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(k["missing"], "las");
    let (status, _, p) = call(&app, push_req(SCHOOL, demo_file()), Some(&at)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(p["missing"], "las");
    let (_, _, page) = b.get(&app, "/beheer/gebruikersgegevens").await;
    assert!(
        page.contains("heeft Leerpoort nog niet aangezet als koppelpartner"),
        "{page}"
    );

    // "Handmatig importeren" takes the school's side back.
    let (_, _, page) = b.get(&app, "/beheer/gebruikersgegevens").await;
    let csrf = hidden(&page, "csrf_token");
    let form = [("csrf_token", csrf.as_str()), ("methode", "handmatig")];
    let (_, _, page) = b
        .post(&app, "/beheer/gebruikersgegevens/methode", &form)
        .await;
    assert!(
        page.contains("De importmethode is nu Handmatig importeren"),
        "{page}"
    );
    let st = las::status(t.state.dir.as_ref(), &school).unwrap();
    assert!(st.chosen().is_none());
}

#[actix_web::test]
async fn the_las_api_refuses_what_is_not_an_active_las_with_a_clear_problem() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let (id, secret) = push_las(&t, "ESIS");
    let (_, body) = token(&app, (&id, &secret), "las").await;
    let at = body["access_token"].as_str().unwrap().to_string();

    // No token, a forged one, two Authorization headers: 401 with a challenge.
    let (status, ct, p) = call(&app, push_req(SCHOOL, demo_file()), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(ct, "application/problem+json");
    assert_eq!(p["status"], 401);
    let forged = format!("{}x", &at[..at.len() - 1]);
    let (status, _, _) = call(&app, push_req(SCHOOL, demo_file()), Some(&forged)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let twice = push_req(SCHOOL, demo_file())
        .append_header(("authorization", format!("Bearer {at}")))
        .append_header(("authorization", format!("Bearer {at}")));
    let res = at::call_service(&app, twice.to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("www-authenticate").is_some());

    // A publisher's token is not an LAS's, and an LAS scope is not a publisher's.
    let publisher = (
        idp::demo::DEMO_CLIENT_ID,
        demo["oidc_client"]["client_secret"].as_str().unwrap(),
    );
    let (status, body) = token(&app, publisher, "las").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_scope");
    let (status, body) = token(&app, publisher, "licenties").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let publisher_at = body["access_token"].as_str().unwrap().to_string();
    let (status, _, p) = call(&app, push_req(SCHOOL, demo_file()), Some(&publisher_at)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{p}");

    // Unknown and malformed schools.
    let unknown = InstellingRef::new_random().to_string();
    let (status, _, _) = call(&app, push_req(&unknown, demo_file()), Some(&at)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = call(&app, push_req("niet-een-uuid", demo_file()), Some(&at)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = call(
        &app,
        at::TestRequest::put().uri(&koppeling(&unknown)),
        Some(&at),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Both sides on; then bad files are refused with what is wrong, and nothing is written.
    call(
        &app,
        at::TestRequest::put().uri(&koppeling(SCHOOL)),
        Some(&at),
    )
    .await;
    let esis = las::find_las(t.state.dir.as_ref(), "ESIS").unwrap();
    las::choose(
        ctx(&t.state),
        &t.state.credentials(),
        &school,
        Some(&esis),
        None,
    )
    .unwrap();
    let before = t.state.dir.users_of_school(&school).unwrap().len();
    let broken = demo_file().replace("<groep key=\"G4\"/>", "<groep key=\"GX\"/>");
    assert_ne!(broken, demo_file());
    let (status, _, p) = call(&app, push_req(SCHOOL, broken), Some(&at)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["line"].as_u64().unwrap() > 1, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("GX"), "{p}");
    let other = demo_file().replace("<brincode>99ZZ</brincode>", "<brincode>12AB</brincode>");
    let (status, _, p) = call(&app, push_req(SCHOOL, other), Some(&at)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let hostile = "<?xml version=\"1.0\"?><!DOCTYPE EDEX [<!ENTITY a \"a\">]><EDEX/>";
    let (status, _, p) = call(&app, push_req(SCHOOL, hostile), Some(&at)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("DOCTYPE"), "{p}");
    let (status, _, _) = call(&app, push_req(SCHOOL, Vec::new()), Some(&at)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let huge = vec![b' '; protocol::edexml::MAX_BYTES + 1];
    let (status, _, p) = call(&app, push_req(SCHOOL, huge), Some(&at)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{p}");
    assert_eq!(t.state.dir.users_of_school(&school).unwrap().len(), before);

    // Another LAS, not chosen, reaches nothing at this school.
    let (id2, secret2) = push_las(&t, "EDUscope");
    let (_, body) = token(&app, (&id2, &secret2), "las").await;
    let other_at = body["access_token"].as_str().unwrap().to_string();
    call(
        &app,
        at::TestRequest::put().uri(&koppeling(SCHOOL)),
        Some(&other_at),
    )
    .await;
    let (status, _, p) = call(&app, push_req(SCHOOL, demo_file()), Some(&other_at)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(p["missing"], "school");

    // A thousand files an hour is not what an LAS sends: 30 per school per hour.
    let mut last = StatusCode::OK;
    for _ in 0..40 {
        let req = at::TestRequest::post()
            .uri(&format!("{}?dryRun=true", edexml(SCHOOL)))
            .set_payload(demo_file());
        last = call(&app, req, Some(&at)).await.0;
        if last != StatusCode::OK {
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn an_las_is_not_a_client_a_school_registers_or_a_party_it_consents_to() {
    let (t, _) = demo_app();
    let (id, _) = push_las(&t, "DotcomSchool");
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let err = broker::admin::register(
        ctx(&t.state),
        &school,
        &id,
        broker::admin::RegisterOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("is an LAS"), "{err}");
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (_, _, page) = b.get(&app, "/beheer/toestemming").await;
    assert!(!page.contains("DotcomSchool"), "{page}");

    // An LAS id that is not offered, on the method form: 404 and nothing chosen.
    let (_, _, page) = b.get(&app, "/beheer/gebruikersgegevens").await;
    let csrf = hidden(&page, "csrf_token");
    let bogus = uuid::Uuid::new_v4().to_string();
    let form = [("csrf_token", csrf.as_str()), ("methode", bogus.as_str())];
    let (status, _, _) = b
        .post(&app, "/beheer/gebruikersgegevens/methode", &form)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(las::status(t.state.dir.as_ref(), &school)
        .unwrap()
        .chosen()
        .is_none());
    // A push LAS takes no autorisatiesleutel.
    let dotcom = t.state.dir.las_suppliers().unwrap()[0].id().to_string();
    let form = [
        ("csrf_token", csrf.as_str()),
        ("methode", dotcom.as_str()),
        ("autorisatiesleutel", "geheim"),
    ];
    let (status, _, page) = b
        .post(&app, "/beheer/gebruikersgegevens/methode", &form)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("DotcomSchool stuurt de gegevens zelf"),
        "{page}"
    );
}

on_both_backends!(the_push_door_imports_on_both_backends, |db: &TestDb| {
    let tmp = tempfile::tempdir().unwrap();
    let state = crate::school_year::state_on(db, tmp.path()).0;
    let env = crate::cli::Env::on(&db.url);
    let school: InstellingRef = crate::import::zonnebloem(&env).parse().unwrap();
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/edexml/zonnebloem-2.1.xml"
    ))
    .unwrap();
    let added = las::add_las(ctx(&state), "ParnasSys", None).unwrap();
    let (w, secrets) = (state.world(), state.credentials());
    let refused = las::push(&w, &secrets, &added.las, &school, &file, false).unwrap_err();
    assert!(
        matches!(refused, las::LasError::NotActive(las::Missing::Both)),
        "{refused}"
    );
    las::las_side(ctx(&state), &school, &added.las, true).unwrap();
    las::choose(ctx(&state), &secrets, &school, Some(&added.las), None).unwrap();
    let (r, welcomed) = las::push(&w, &secrets, &added.las, &school, &file, false).unwrap();
    assert_eq!((r.added.pupils, r.added.teachers, welcomed), (2, 2, 1));
    let users = state.dir.users_of_school(&school).unwrap();
    assert_eq!(users.len(), 4);
    assert!(users.iter().all(|u| u.source == "edexml"));
    let (again, _) = las::push(&w, &secrets, &added.las, &school, &file, false).unwrap();
    assert_eq!(again.added, broker::import::Counts::default());
    let st = las::status(state.dir.as_ref(), &school).unwrap();
    let o = st.chosen().unwrap();
    assert!(o.active() && o.last_run_at.is_some());
    assert_eq!(o.last_outcome.as_ref().unwrap()["ok"], true);
});
