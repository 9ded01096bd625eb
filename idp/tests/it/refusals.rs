//! Refusal pages name their reason and the request: an error code that stays the same across
//! releases and languages, and the kenmerk — the request id that the response's
//! `X-Request-Id` and the request's log lines carry — for a publisher's support desk.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;

use crate::school::{demo_app, pupil_id};
use crate::support::browser::Browser;

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;

/// GET `uri`: the status, the request id the response names, and the page.
async fn get<S, B>(app: &S, b: &mut Browser, uri: &str) -> (StatusCode, String, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = b.send_raw(app, test::TestRequest::get().uri(uri)).await;
    let status = res.status();
    let id = res
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no X-Request-Id on {uri}"));
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    (status, id, body)
}

fn assert_reference(body: &str, code: &str, id: &str) {
    assert!(
        body.contains(&format!("Foutcode: <code class=\"code-ref\">{code}</code>")),
        "code {code}: {body}"
    );
    assert!(
        body.contains(&format!("Kenmerk: <code class=\"request-id\">{id}</code>")),
        "kenmerk {id}: {body}"
    );
    assert!(
        body.contains("Geef dan de foutcode en het kenmerk door"),
        "{body}"
    );
}

#[actix_web::test]
async fn refusal_pages_show_their_code_and_the_request_id() {
    let (t, demo) = demo_app();
    // Teacher software at the demo school, which a pupil may not open.
    let ctx = broker::admin::Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    };
    broker::admin::add_client(
        ctx,
        broker::admin::ClientInput {
            name: "Toetsbeheer".into(),
            kind: "publisher".into(),
            redirect_uris: vec!["http://127.0.0.1:8081/callback".into()],
            audience: "leerkracht".into(),
            id_token_alg: "ES256".into(),
            client_id: Some("toetsbeheer".into()),
            ..Default::default()
        },
    )
    .unwrap();
    broker::admin::register(
        ctx,
        &SCHOOL.parse().unwrap(),
        "toetsbeheer",
        broker::admin::RegisterOptions::default(),
    )
    .unwrap();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");

    // Every response names its request; ids are short, readable and differ.
    let (_, first, _) = get(&app, &mut b, "/login").await;
    let (_, second, body) = get(&app, &mut b, "/login").await;
    assert_ne!(first, second);
    assert!(
        first.len() == 9 && first.as_bytes()[4] == b'-',
        "XXXX-XXXX: {first}"
    );
    assert!(!body.contains("Foutcode"), "no reference on a plain page");

    // An authorization request for software Leerpoort does not know.
    let (status, id, body) = get(
        &app,
        &mut b,
        "/oidc/authorize?client_id=onbekend&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_reference(&body, "unknown-client", &id);

    // A SAML request that is not there at all.
    let (status, id, body) = get(&app, &mut b, "/saml/sso").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_reference(&body, "saml-missing", &id);

    // A shortcut of a school Leerpoort does not know.
    let (status, id, body) = get(
        &app,
        &mut b,
        "/snelkoppeling?INSTELLING_REF=8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a99",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_reference(&body, "unknown-school", &id);

    // The release policy's refusal: teacher software for a pupil.
    let emma = pupil_id(&demo, "Emma de Jong");
    let s = idp::session::start(
        t.state.store.as_ref(),
        idp::session::Authenticated {
            user_id: emma.parse().unwrap(),
            school: SCHOOL.parse().unwrap(),
            amr: vec!["pin".into()],
            acr: broker::session::ACR_PUPIL.into(),
            context: claims::LoginContext::School,
            ip: Some("127.0.0.1".into()),
        },
        t.state.clock.now_secs(),
        None,
    )
    .unwrap();
    b.set_cookie(idp::session::cookie_name(false), s.sid);
    let (status, id, body) = get(
        &app,
        &mut b,
        "/oidc/authorize?client_id=toetsbeheer&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&state=t",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_reference(&body, "wrong-audience", &id);
    // The way back still tells the relying party the same reason.
    assert!(
        body.contains("error_description=this%20software%20is%20not%20meant")
            || body.contains("error_description=this+software+is+not+meant"),
        "{body}"
    );

    // In English, the same code and kenmerk under English labels.
    let res = b
        .send_raw(
            &app,
            test::TestRequest::get()
                .uri("/snelkoppeling?INSTELLING_REF=kapot")
                .insert_header(("accept-language", "en")),
        )
        .await;
    let id = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        body.contains("Error code: <code class=\"code-ref\">unknown-school</code>")
            && body.contains(&format!(
                "Reference: <code class=\"request-id\">{id}</code>"
            )),
        "{body}"
    );
}
