//! The live licence lookup: the start page asks a publisher's licence endpoint which titles a
//! user holds, with a JWT Leerpoort signs; a publisher that answers in time has its tiles at
//! once, a slow one says "Even niet beschikbaar" and its tiles come with the next fetch; a
//! failing one is not asked again for a while.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test as at;
use base64::Engine as _;
use broker::admin::{ClientInput, RegisterOptions};
use claims::LoginContext;
use serde_json::{json, Value};

use crate::school::{pupil_id, signed_in};
use crate::server::TestApp;
use crate::support::ctx;

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;

/// A publisher's licence endpoint on loopback: it answers every POST after `delay` with
/// `status` and `body`, and keeps the requests' bodies.
struct Endpoint {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Endpoint {
    fn start(delay: Duration, status: u16, body: Value) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/entitlements", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let kept = kept.clone();
                let body = body.to_string();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.to_ascii_lowercase();
                        if let Some(v) = l.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut req = vec![0u8; length];
                    reader.read_exact(&mut req).unwrap();
                    kept.lock().unwrap().push(String::from_utf8(req).unwrap());
                    std::thread::sleep(delay);
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        Self { url, seen }
    }
}

/// A publisher `id` with `endpoint` as its licence endpoint and one methode, registered by the
/// demo school.
fn live_publisher(state: &idp::app::AppState, id: &str, endpoint: &str) {
    broker::admin::add_client(
        ctx(state),
        ClientInput {
            name: format!("Uitgeverij {id}"),
            kind: "publisher".into(),
            redirect_uris: vec![format!("http://127.0.0.1:9/{id}/callback")],
            initiate_login_uri: Some(format!("http://127.0.0.1:9/{id}/login")),
            audience: "beide".into(),
            id_token_alg: "ES256".into(),
            client_id: Some(id.into()),
            licence_endpoint: Some(endpoint.into()),
            ..Default::default()
        },
    )
    .unwrap();
    broker::admin::register(
        ctx(state),
        &SCHOOL.parse().unwrap(),
        id,
        RegisterOptions::default(),
    )
    .unwrap();
    let rp = state.dir.relying_party_by_public_id(id).unwrap().unwrap();
    let input: broker::licences::TitleInput = serde_json::from_value(json!({
        "id": "lezen", "naam": format!("Lezen bij {id}"), "url": format!("http://127.0.0.1:9/{id}/lezen")
    }))
    .unwrap();
    let (title, icon) =
        broker::licences::check_title(rp.id, None, None, input, state.clock.now_secs()).unwrap();
    state
        .dir
        .put_title(
            title,
            icon,
            state.clock.now_secs(),
            broker::model::AuditEvent::record(
                broker::audit::AuditAction::TitlePut,
                "test",
                0,
                None,
                None,
                json!({}),
            ),
        )
        .unwrap();
}

fn payload(jwt: &str) -> (Value, Value) {
    let part = |i: usize| -> Value {
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&b).unwrap()
    };
    (part(0), part(1))
}

#[actix_web::test]
async fn a_publisher_answering_in_time_has_its_tiles_and_a_slow_one_follows() {
    let t = TestApp::with_env(&[
        ("LEERPOORT_TRUST_PROXY", "true"),
        ("LEERPOORT_LICENCE_DEADLINE_MS", "300"),
    ]);
    let demo = idp::demo::seed(&t.state).unwrap();
    let held = json!({"entitlements": [{"methode": "lezen"}, {"methode": "onbekend"}]});
    let quick = Endpoint::start(Duration::ZERO, 200, held.clone());
    let slow = Endpoint::start(Duration::from_millis(1500), 200, held);
    live_publisher(&t.state, "snel", &quick.url);
    live_publisher(&t.state, "traag", &slow.url);
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let emma = pupil_id(&demo, "Emma de Jong");
    let mut b = signed_in(&t, &emma, LoginContext::School, "10.9.0.5");

    let (status, _, page) = b.get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Lezen bij snel"), "{page}");
    assert!(!page.contains("Lezen bij traag"), "{page}");
    assert!(page.contains("Uitgeverij traag"), "{page}");
    assert!(page.contains("Even niet beschikbaar"), "{page}");
    assert!(page.contains("/static/lesmateriaal.js"), "{page}");

    // The request: a JWT signed with Leerpoort's published ES256 key, naming Emma by the
    // publisher's sub, with what the school releases and no names.
    let jwt = quick.seen.lock().unwrap()[0].clone();
    let (header, claims) = payload(&jwt);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "entitlements-request+jwt");
    let jwks = t.state.keys.jwks(t.state.clock.now_secs());
    assert!(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kid"] == header["kid"]));
    let rp = t
        .state
        .dir
        .relying_party_by_public_id("snel")
        .unwrap()
        .unwrap();
    let user = t.state.dir.user(emma.parse().unwrap()).unwrap().unwrap();
    let sub = broker::release::subject_for(&t.state.pseudonyms, &rp, &user).unwrap();
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["aud"], quick.url);
    assert_eq!(claims["instelling_ref"], SCHOOL);
    assert_eq!(claims["role"], "leerling");
    assert!(claims["groups"].is_array(), "{claims}");
    assert!(claims.get("given_name").is_none() && claims.get("name").is_none());
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 60);

    // The answer is kept: a second visit does not ask again.
    let (_, _, page) = b.get(&app, "/").await;
    assert!(page.contains("Lezen bij snel"), "{page}");
    assert_eq!(quick.seen.lock().unwrap().len(), 1);

    // The slow publisher's answer arrives in the background; the fragment shows its tile.
    actix_web::rt::time::sleep(Duration::from_millis(1800)).await;
    let (status, _, fragment) = b.get(&app, "/lesmateriaal/tegels").await;
    assert_eq!(status, StatusCode::OK);
    assert!(fragment.contains("Lezen bij traag"), "{fragment}");
    assert!(!fragment.contains("data-waiting"), "{fragment}");
    assert_eq!(
        slow.seen.lock().unwrap().len(),
        1,
        "asked once, not per visit"
    );

    // Without a session the fragment is not there.
    let req = at::TestRequest::get()
        .uri("/lesmateriaal/tegels")
        .to_request();
    let res = at::call_service(&app, req).await;
    assert_ne!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn a_failing_publisher_says_so_and_is_not_asked_for_a_while() {
    let t = TestApp::with_env(&[("LEERPOORT_TRUST_PROXY", "true")]);
    let demo = idp::demo::seed(&t.state).unwrap();
    let broken = Endpoint::start(Duration::ZERO, 500, json!({"error": "kapot"}));
    live_publisher(&t.state, "kapot", &broken.url);
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let pupils = [
        "Emma de Jong",
        "Daan Bakker",
        "Noor Visser",
        "Sem Smit",
        "Julia Meijer",
        "Liam de Boer",
    ];
    for name in pupils {
        let id = pupil_id(&demo, name);
        let mut b = signed_in(&t, &id, LoginContext::School, "10.9.0.5");
        let (status, _, page) = b.get(&app, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Uitgeverij kapot"), "{page}");
        assert!(page.contains("Even niet beschikbaar"), "{page}");
        assert!(!page.contains("Lezen bij kapot"), "{page}");
    }
    // Five failures open the circuit: the sixth pupil's page did not ask.
    assert_eq!(broken.seen.lock().unwrap().len(), 5);
}

#[test]
fn a_licence_endpoint_must_be_https_and_a_publishers() {
    let t = TestApp::with_env(&[]);
    let bad = |kind: &str, url: &str| {
        broker::admin::add_client(
            ctx(&t.state),
            ClientInput {
                name: "X".into(),
                kind: kind.into(),
                redirect_uris: vec!["https://x.example/cb".into()],
                audience: "beide".into(),
                id_token_alg: "ES256".into(),
                licence_endpoint: Some(url.into()),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string()
    };
    assert!(bad("publisher", "http://x.example/e").contains("https"));
    assert!(bad("network", "https://x.example/e").contains("publisher"));
}
