//! The server skeleton: health, readiness, metrics, headers, limits — in process.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::test;
use broker::clock::Clock;
use idp::app::AppState;
use idp::config::Config;

use crate::support::{monday_morning, TestDb};

/// A test application on a fresh SQLite database and the in-process store.
pub struct TestApp {
    pub state: AppState,
    pub clock: Arc<broker::clock::FixedClock>,
    _db: TestDb,
    _keys: tempfile::TempDir,
}

impl TestApp {
    /// The mails written to the outbox so far, as text.
    pub fn outbox(&self) -> Vec<String> {
        let dir = self._keys.path().join("outbox");
        let mut mails: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        mails.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        mails
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    pub fn init() -> TestApp {
        Self::with_env(&[])
    }

    pub fn with_env(vars: &[(&str, &str)]) -> TestApp {
        let db = TestDb::sqlite();
        let keys = tempfile::tempdir().unwrap();
        let mut env: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.push(("LEERPOORT_DATABASE_URL".into(), db.url.clone()));
        env.push((
            "LEERPOORT_OUTBOX_DIR".into(),
            keys.path().join("outbox").display().to_string(),
        ));
        env.push((
            "LEERPOORT_KEYS_DIR".into(),
            keys.path().display().to_string(),
        ));
        let config = Config::load_with_env(None, |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
        .unwrap();
        let fixed = monday_morning();
        let clock: Arc<dyn Clock> = fixed.clone();
        let state = AppState::with_directory(config, clock, Arc::new(db.directory())).unwrap();
        TestApp {
            state,
            clock: fixed,
            _db: db,
            _keys: keys,
        }
    }
}

#[actix_web::test]
async fn healthz_readyz_and_metrics() {
    let t = TestApp::init();
    let app = test::init_service(idp::server::app(t.state.clone())).await;

    let res = test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers();
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert!(h
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS on plain http"
    );

    let res = test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body["database"], "ok");
    assert_eq!(body["store"], "ok");

    // Never on the public listener: only on the metrics listener.
    let res = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let metrics = test::init_service(
        actix_web::App::new()
            .app_data(actix_web::web::Data::new(t.state.clone()))
            .configure(idp::server::metrics_routes),
    )
    .await;
    let res = test::call_service(
        &metrics,
        test::TestRequest::get().uri("/metrics").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        text.contains(
            "leerpoort_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"} 1"
        ),
        "{text}"
    );
}

#[actix_web::test]
async fn https_issuers_get_hsts_and_unknown_paths_are_404() {
    let t = TestApp::with_env(&[("LEERPOORT_ISSUER", "https://leerpoort.example")]);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
    assert!(res.headers().get("strict-transport-security").is_some());
    let res = test::call_service(&app, test::TestRequest::get().uri("/nergens").to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn readyz_reports_an_unreachable_store() {
    let t = TestApp::with_env(&[("LEERPOORT_REDIS_URL", "redis://127.0.0.1:1")]);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body["database"], "ok");
    assert_eq!(body["store"], "unavailable");
}

/// A store that does not answer is an outage, said as one: a browser with a session cookie
/// gets the "not available" page (503, in Dutch), not a quiet trip to the sign-in form as if it
/// had never signed in.
#[actix_web::test]
async fn pages_answer_503_when_the_store_is_down_not_sign_in() {
    let t = TestApp::with_env(&[("LEERPOORT_REDIS_URL", "redis://127.0.0.1:1")]);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let sid = "a".repeat(43);
    for uri in ["/", "/groepen", "/tweede-stap"] {
        let req = test::TestRequest::get()
            .uri(uri)
            .insert_header(("cookie", format!("lp_session={sid}")))
            .insert_header(("accept-language", "nl"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(body.contains("lukt nu even niet"), "{uri}: {body}");
    }
    // Without a session cookie there is nothing to look up: to the sign-in form.
    let res = test::call_service(&app, test::TestRequest::get().uri("/groepen").to_request()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers().get("location").unwrap(), "/login");
}

#[actix_web::test]
async fn oversized_bodies_are_refused() {
    let t = TestApp::init();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let big = "a".repeat(idp::server::BODY_LIMIT + 1);
    let req = test::TestRequest::post()
        .uri("/oidc/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(format!("grant_type=client_credentials&pad={big}"))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
