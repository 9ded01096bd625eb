//! The OpenID Connect provider in process, with a fixed clock: expiry, PKCE, rotation, reuse,
//! de-registration. (The black-box certification-style tests live in `conformance-tests`.)

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use base64::Engine as _;
use serde_json::Value;

use crate::server::TestApp;
use crate::support::client::basic;
use crate::support::jar::Browser;
use crate::support::page::{hidden, location};

const REDIRECT: &str = "http://127.0.0.1:8081/callback";

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

struct Flow {
    app: TestApp,
    demo: Value,
}

impl Flow {
    fn new() -> Flow {
        let app = TestApp::init();
        let demo = idp::demo::seed(&app.state).unwrap();
        Flow { app, demo }
    }

    fn secret(&self) -> String {
        self.demo["oidc_client"]["client_secret"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// Sign a teacher in through the authorization endpoint (or pass through an existing
/// session); returns the code redirect.
async fn sign_in<S, B>(app: &S, b: &mut Browser, authorize_query: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = b
        .get(app, &format!("/oidc/authorize?{authorize_query}"))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let login = location(&res);
    if login.starts_with(REDIRECT) {
        return login;
    }
    assert!(login.starts_with("/login?auth="), "{login}");
    let res = b.get(app, &login).await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let csrf = hidden(&body, "csrf_token");
    let auth = hidden(&body, "auth");
    let res = b
        .post(
            app,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("auth", &auth),
                ("email", "anna.devries@regenboog.example"),
                ("password", "paarse-giraf-fietst"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let cont = location(&res);
    let res = b.get(app, &cont).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    location(&res)
}

async fn token<S, B>(app: &S, auth: Option<&str>, form: &[(&str, &str)]) -> (StatusCode, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::post().uri("/oidc/token").set_form(form);
    if let Some(a) = auth {
        req = req.insert_header(("authorization", a));
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    (status, test::read_body_json(res).await)
}

async fn userinfo<S, B>(app: &S, at: &str) -> StatusCode
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = test::TestRequest::get()
        .uri("/oidc/userinfo")
        .insert_header(("authorization", format!("Bearer {at}")))
        .to_request();
    test::call_service(app, req).await.status()
}

const AUTHZ: &str = "client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid%20groups&state=s1";

#[actix_web::test]
async fn codes_expire_after_sixty_seconds() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let cb = sign_in(&app, &mut b, AUTHZ).await;
    let code = query_param(&cb, "code").unwrap();
    assert_eq!(query_param(&cb, "state").as_deref(), Some("s1"));
    assert_eq!(
        query_param(&cb, "iss").as_deref(),
        Some("http://127.0.0.1:8080")
    );
    f.app.clock.advance(std::time::Duration::from_secs(61));
    let (status, body) = token(
        &app,
        Some(&basic("demo-uitgeverij", &f.secret())),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

#[actix_web::test]
async fn a_reused_code_revokes_what_it_issued_and_tokens_expire() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let cb = sign_in(&app, &mut b, AUTHZ).await;
    let code = query_param(&cb, "code").unwrap();
    let auth = basic("demo-uitgeverij", &f.secret());
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let (status, t) = token(&app, Some(&auth), &form).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let at = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(userinfo(&app, &at).await, StatusCode::OK);
    let (status, again) = token(&app, Some(&auth), &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");
    assert_eq!(
        userinfo(&app, &at).await,
        StatusCode::UNAUTHORIZED,
        "the access token is revoked with its code"
    );
    let (status, refreshed) = token(
        &app,
        Some(&auth),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refreshed}");

    // A fresh flow; its access token expires after ten minutes.
    let cb = sign_in(&app, &mut b, AUTHZ).await;
    let code = query_param(&cb, "code").unwrap();
    let (_, t) = token(
        &app,
        Some(&auth),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let at = t["access_token"].as_str().unwrap().to_string();
    f.app.clock.advance(std::time::Duration::from_secs(599));
    assert_eq!(userinfo(&app, &at).await, StatusCode::OK);
    f.app.clock.advance(std::time::Duration::from_secs(2));
    assert_eq!(userinfo(&app, &at).await, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let cb = sign_in(&app, &mut b, AUTHZ).await;
    let auth = basic("demo-uitgeverij", &f.secret());
    let (_, t) = token(
        &app,
        Some(&auth),
        &[
            ("grant_type", "authorization_code"),
            ("code", &query_param(&cb, "code").unwrap()),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let rt1 = t["refresh_token"].as_str().unwrap().to_string();
    let (status, t2) = token(
        &app,
        Some(&auth),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t2}");
    let rt2 = t2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    assert!(t2["id_token"].is_string());
    // Another client cannot use it.
    let other = broker::admin::add_client(
        broker::admin::Ctx {
            dir: f.app.state.dir.as_ref(),
            clock: f.app.state.clock.as_ref(),
            actor: "test",
        },
        broker::admin::ClientInput {
            name: "Ander".into(),
            kind: "publisher".into(),
            redirect_uris: vec!["https://ander.example/cb".into()],
            audience: "beide".into(),
            id_token_alg: "ES256".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let other_auth = basic(
        other.rp.public_id(),
        other.client_secret.as_deref().unwrap(),
    );
    let (status, _) = token(
        &app,
        Some(&other_auth),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt2)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Reusing the first one revokes the family: the second stops working too.
    let (status, reuse) = token(
        &app,
        Some(&auth),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reuse["error"], "invalid_grant");
    let (status, _) = token(
        &app,
        Some(&auth),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt2)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn deregistration_stops_userinfo_and_refresh_at_once() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let cb = sign_in(&app, &mut b, AUTHZ).await;
    let auth = basic("demo-uitgeverij", &f.secret());
    let (_, t) = token(
        &app,
        Some(&auth),
        &[
            ("grant_type", "authorization_code"),
            ("code", &query_param(&cb, "code").unwrap()),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let at = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(userinfo(&app, &at).await, StatusCode::OK);
    let school: claims::InstellingRef = idp::demo::DEMO_SCHOOL_REF.parse().unwrap();
    broker::admin::deregister(
        broker::admin::Ctx {
            dir: f.app.state.dir.as_ref(),
            clock: f.app.state.clock.as_ref(),
            actor: "test",
        },
        &school,
        "demo-uitgeverij",
    )
    .unwrap();
    assert_eq!(userinfo(&app, &at).await, StatusCode::UNAUTHORIZED);
    let (status, _) = token(
        &app,
        Some(&auth),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A new authorization shows the page that names the school setting; no code.
    let res = b.get(&app, &format!("/oidc/authorize?{AUTHZ}")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        body.contains("Toestemming uitwisseling schooldata"),
        "{body}"
    );
    assert!(body.contains("error=access_denied"));
    assert!(!body.contains("code="));
    // prompt=none gets the error as a redirect.
    let res = b
        .get(&app, &format!("/oidc/authorize?{AUTHZ}&prompt=none"))
        .await;
    assert_eq!(
        query_param(&location(&res), "error").as_deref(),
        Some("access_denied")
    );
}

#[actix_web::test]
async fn public_clients_need_pkce_s256_and_plain_is_refused() {
    let f = Flow::new();
    let ctx = broker::admin::Ctx {
        dir: f.app.state.dir.as_ref(),
        clock: f.app.state.clock.as_ref(),
        actor: "test",
    };
    let public = broker::admin::add_client(
        ctx,
        broker::admin::ClientInput {
            name: "App".into(),
            kind: "publisher".into(),
            redirect_uris: vec![REDIRECT.into()],
            public: true,
            audience: "beide".into(),
            id_token_alg: "EdDSA".into(),
            client_id: Some("app".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(public.client_secret.is_none());
    let school: claims::InstellingRef = idp::demo::DEMO_SCHOOL_REF.parse().unwrap();
    broker::admin::register(
        ctx,
        &school,
        "app",
        broker::admin::RegisterOptions::default(),
    )
    .unwrap();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let base = "client_id=app&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&state=x";
    let res = b.get(&app, &format!("/oidc/authorize?{base}")).await;
    assert_eq!(
        query_param(&location(&res), "error").as_deref(),
        Some("invalid_request"),
        "PKCE is required"
    );
    let res = b.get(&app, &format!("/oidc/authorize?{base}&code_challenge=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq&code_challenge_method=plain")).await;
    assert_eq!(
        query_param(&location(&res), "error").as_deref(),
        Some("invalid_request"),
        "plain is refused"
    );

    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; // RFC 7636 appendix B
    let cb = sign_in(
        &app,
        &mut b,
        &format!("{base}&code_challenge={challenge}&code_challenge_method=S256"),
    )
    .await;
    let code = query_param(&cb, "code").unwrap();
    let (status, body) = token(
        &app,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "app"),
            (
                "code_verifier",
                "wrong-wrong-wrong-wrong-wrong-wrong-wrong-wrong",
            ),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let cb = sign_in(
        &app,
        &mut b,
        &format!("{base}&code_challenge={challenge}&code_challenge_method=S256"),
    )
    .await;
    let code = query_param(&cb, "code").unwrap();
    let (status, body) = token(
        &app,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "app"),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let header = jsonwebtoken::decode_header(body["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    // Public clients get no client_credentials.
    let (status, body) = token(
        &app,
        None,
        &[("grant_type", "client_credentials"), ("client_id", "app")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unauthorized_client"))
    );
}

#[actix_web::test]
async fn unregistered_redirect_uris_get_a_page_never_a_redirect() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    for q in [
        "client_id=demo-uitgeverij&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code&scope=openid",
        "client_id=demo-uitgeverij&response_type=code&scope=openid",
        "client_id=onbekend&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid",
    ] {
        let res = b.get(&app, &format!("/oidc/authorize?{q}")).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{q}");
        assert!(res.headers().get("location").is_none(), "{q}");
    }
    // Once the redirect URI is trusted, errors go back to it.
    let res = b.get(&app, "/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=token&scope=openid&state=q").await;
    let loc = location(&res);
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("unsupported_response_type")
    );
    assert_eq!(query_param(&loc, "state").as_deref(), Some("q"));
    let res = b.get(&app, "/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&request=eyJ9").await;
    assert_eq!(
        query_param(&location(&res), "error").as_deref(),
        Some("request_not_supported")
    );
    let res = b.get(&app, "/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&prompt=none").await;
    assert_eq!(
        query_param(&location(&res), "error").as_deref(),
        Some("login_required")
    );
}

#[actix_web::test]
async fn client_credentials_and_wrong_secrets() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let (status, body) = token(
        &app,
        Some(&basic("demo-uitgeverij", &f.secret())),
        &[("grant_type", "client_credentials"), ("scope", "licenties")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    let req = test::TestRequest::post()
        .uri("/oidc/token")
        .insert_header(("authorization", basic("demo-uitgeverij", "fout")))
        .set_form([("grant_type", "client_credentials")])
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("www-authenticate").is_some());
    let (status, body) = token(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "demo-uitgeverij"),
            ("client_secret", &f.secret()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "client_secret_post: {body}");
    let (status, body) = token(
        &app,
        Some(&basic("demo-uitgeverij", &f.secret())),
        &[("grant_type", "password")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
}

/// The solution of the proof-of-work challenge a sign-in form carries, as the browser script
/// would find it.
fn solve_challenge(body: &str) -> Option<String> {
    let attr = |name: &str| -> Option<String> {
        let needle = format!("{name}=\"");
        let start = body.find(&needle)? + needle.len();
        Some(body[start..].split('"').next()?.to_string())
    };
    let c = broker::login::challenge::Challenge {
        salt: attr("data-salt")?,
        challenge: attr("data-challenge")?,
        max: attr("data-max")?.parse().ok()?,
        signature: attr("data-signature")?,
    };
    broker::login::challenge::solve(&c)
}

#[actix_web::test]
async fn sign_in_needs_the_csrf_token_and_wrong_passwords_are_throttled() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let res = b
        .post(
            &app,
            "/login",
            &[
                ("csrf_token", "x"),
                ("email", "anna.devries@regenboog.example"),
                ("password", "paarse-giraf-fietst"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(b.cookies.iter().all(|(k, _)| !k.contains("session")));

    let res = b.get(&app, "/login").await;
    let mut body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        !body.contains("data-challenge"),
        "no challenge before failures"
    );
    let csrf = hidden(&body, "csrf_token");
    let mut messages = Vec::new();
    for email in [
        "anna.devries@regenboog.example",
        "niemand@regenboog.example",
    ] {
        let res = b
            .post(
                &app,
                "/login",
                &[
                    ("csrf_token", &csrf),
                    ("email", email),
                    ("password", "Fout12345"),
                ],
            )
            .await;
        body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        messages.push(
            body.split("role=\"alert\">")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(
        messages[0], messages[1],
        "unknown e-mail and wrong password look the same"
    );
    // The third failure from this address brings the proof-of-work challenge.
    let res = b
        .post(
            &app,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", "anna.devries@regenboog.example"),
                ("password", "Fout12345"),
            ],
        )
        .await;
    body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        body.contains("data-challenge") && body.contains("/static/challenge.js"),
        "{body}"
    );
    // Without solving it, even the right password is not checked.
    let res = b
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
    assert_eq!(res.status(), StatusCode::OK);
    body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    // Anna has two failures so far (the unknown address counted only for the address).
    for _ in 0..8 {
        let solution = solve_challenge(&body).expect("a challenge on the form");
        let res = b
            .post(
                &app,
                "/login",
                &[
                    ("csrf_token", &csrf),
                    ("email", "anna.devries@regenboog.example"),
                    ("password", "Fout12345"),
                    ("challenge", &solution),
                ],
            )
            .await;
        body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    }
    let solution = solve_challenge(&body).unwrap();
    let res = b
        .post(
            &app,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", "anna.devries@regenboog.example"),
                ("password", "paarse-giraf-fietst"),
                ("challenge", &solution),
            ],
        )
        .await;
    body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        body.contains("Te veel mislukte pogingen"),
        "ten failures: even the right password waits: {body}"
    );
    f.app.clock.advance(std::time::Duration::from_secs(15 * 60));
    let res = b.get(&app, "/login").await;
    body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        !body.contains("data-challenge"),
        "a new window, no challenge"
    );
    let res = b
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
    assert_eq!(res.status(), StatusCode::FOUND);
    let session_cookie = res
        .response()
        .cookies()
        .find(|c| c.name() == "lp_session")
        .unwrap();
    assert!(session_cookie.http_only().unwrap_or(false));
    assert_eq!(
        session_cookie.same_site(),
        Some(actix_web::cookie::SameSite::Lax)
    );
}

/// The link in the last mail of the outbox.
fn link_in(mail: &str) -> String {
    let decoded = mail.replace("=\r\n", "").replace("=3D", "=");
    let start = decoded
        .find("http://127.0.0.1:8080/wachtwoord/")
        .expect("a link in the mail");
    decoded[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[actix_web::test]
async fn forgotten_passwords_get_a_single_use_link_once_per_quarter_hour() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let res = b.get(&app, "/wachtwoord-vergeten").await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let csrf = hidden(&body, "csrf_token");
    let mut answers = Vec::new();
    for email in [
        "ANNA.DEVRIES@regenboog.example",
        "onbekend@regenboog.example",
    ] {
        let res = b
            .post(
                &app,
                "/wachtwoord-vergeten",
                &[("csrf_token", &csrf), ("email", email)],
            )
            .await;
        answers.push(String::from_utf8(test::read_body(res).await.to_vec()).unwrap());
    }
    assert_eq!(
        answers[0], answers[1],
        "the same answer whether or not the address is known"
    );
    let mails = f.app.outbox();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("To: anna.devries@regenboog.example")
            && mails[0].contains("From: Leerpoort <no-reply@127.0.0.1>"),
        "{}",
        mails[0]
    );
    let link = link_in(&mails[0]);
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(token.len(), 36, "a GUID token: {link}");

    // Within 15 minutes no second mail; after, one.
    b.post(
        &app,
        "/wachtwoord-vergeten",
        &[
            ("csrf_token", &csrf),
            ("email", "anna.devries@regenboog.example"),
        ],
    )
    .await;
    assert_eq!(f.app.outbox().len(), 1);

    let path = link.trim_start_matches("http://127.0.0.1:8080");
    let res = b.get(&app, path).await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("autocomplete=\"new-password\""));
    let csrf2 = hidden(&body, "csrf_token");
    let res = b
        .post(
            &app,
            path,
            &[
                ("csrf_token", &csrf2),
                ("password", "kort"),
                ("repeat", "kort"),
            ],
        )
        .await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("te kort"), "{body}");
    let res = b
        .post(
            &app,
            path,
            &[
                ("csrf_token", &csrf2),
                ("password", "blauwe fiets onder de brug"),
                ("repeat", "blauwe fiets onder de brug"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = b
        .post(
            &app,
            path,
            &[
                ("csrf_token", &csrf2),
                ("password", "groene kikker springt hoog"),
                ("repeat", "groene kikker springt hoog"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "single use");

    let res = b.get(&app, "/login").await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let res = b
        .post(
            &app,
            "/login",
            &[
                ("csrf_token", &hidden(&body, "csrf_token")),
                ("email", "anna.devries@regenboog.example"),
                ("password", "blauwe fiets onder de brug"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND, "the new password works");

    f.app.clock.advance(std::time::Duration::from_secs(15 * 60));
    b.post(
        &app,
        "/wachtwoord-vergeten",
        &[
            ("csrf_token", &csrf),
            ("email", "anna.devries@regenboog.example"),
        ],
    )
    .await;
    assert_eq!(f.app.outbox().len(), 2);
    let path = link_in(&f.app.outbox()[1])
        .trim_start_matches("http://127.0.0.1:8080")
        .to_string();
    f.app
        .clock
        .advance(std::time::Duration::from_secs(24 * 3600 + 1));
    let res = b.get(&app, &path).await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "expired after 24 hours"
    );
}

#[actix_web::test]
async fn an_inactive_teacher_activates_the_account_by_setting_a_password() {
    let f = Flow::new();
    let ctx = broker::admin::Ctx {
        dir: f.app.state.dir.as_ref(),
        clock: f.app.state.clock.as_ref(),
        actor: "test",
    };
    let added = broker::admin::add_user(
        ctx,
        f.app.state.credentials(),
        broker::admin::UserInput {
            school: idp::demo::DEMO_SCHOOL_REF.into(),
            role: "leerkracht".into(),
            given_name: "Mees".into(),
            family_name: "Kok".into(),
            email: Some("mees.kok@regenboog.example".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(added.user.status, broker::model::UserStatus::Inactive);
    broker::login::password::send_link(
        &f.app.state.world(),
        &added.user,
        "cli",
        f.app.state.clock.now_secs(),
    )
    .unwrap();
    let mail = f.app.outbox().pop().unwrap();
    assert!(mail.contains("Activeer je Leerpoort-account"), "{mail}");
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let path = link_in(&mail)
        .trim_start_matches("http://127.0.0.1:8080")
        .to_string();
    let res = b.get(&app, &path).await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    b.post(
        &app,
        &path,
        &[
            ("csrf_token", &hidden(&body, "csrf_token")),
            ("password", "gele vlieger boven duinen"),
            ("repeat", "gele vlieger boven duinen"),
        ],
    )
    .await;
    assert_eq!(
        f.app.state.dir.user(added.user.id).unwrap().unwrap().status,
        broker::model::UserStatus::Active
    );
}

/// A client of the demo school meant for `audience` only, registered there.
fn pupil_only_client(f: &Flow, client_id: &str, audience: &str) {
    let ctx = broker::admin::Ctx {
        dir: f.app.state.dir.as_ref(),
        clock: f.app.state.clock.as_ref(),
        actor: "test",
    };
    broker::admin::add_client(
        ctx,
        broker::admin::ClientInput {
            name: "Leesapp".into(),
            kind: "publisher".into(),
            redirect_uris: vec![REDIRECT.into()],
            initiate_login_uri: Some("http://127.0.0.1:8081/login".into()),
            audience: audience.into(),
            id_token_alg: "ES256".into(),
            client_id: Some(client_id.into()),
            ..Default::default()
        },
    )
    .unwrap();
    let school: claims::InstellingRef = idp::demo::DEMO_SCHOOL_REF.parse().unwrap();
    broker::admin::register(
        ctx,
        &school,
        client_id,
        broker::admin::RegisterOptions::default(),
    )
    .unwrap();
}

#[actix_web::test]
async fn pupil_software_for_a_teacher_has_its_own_page_and_description() {
    let f = Flow::new();
    pupil_only_client(&f, "leesapp", "leerling");
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    // The teacher signs in (at software for everybody).
    let cb = sign_in(&app, &mut b, AUTHZ).await;
    assert!(query_param(&cb, "code").is_some(), "{cb}");
    // Then opens pupil software.
    let res = b
        .get(&app, "/oidc/authorize?client_id=leesapp&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&state=l")
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("Niet voor jou bedoeld"), "{body}");
    assert!(
        body.contains("Leesapp is software voor leerlingen"),
        "{body}"
    );
    assert!(
        !body.contains("niet voor jou aangezet"),
        "not the page for software the school has not enabled: {body}"
    );
    // The way back tells the relying party the same reason, not a withdrawn registration.
    let back = crate::support::page::links(&body, "http://127.0.0.1:8081/callback")
        .pop()
        .expect("a link back to the software");
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        query_param(&back, "error_description").as_deref(),
        Some("this software is not meant for the user's role")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("l"));
}

#[actix_web::test]
async fn a_withdrawn_registration_names_itself_to_the_relying_party() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    sign_in(&app, &mut b, AUTHZ).await;
    let ctx = broker::admin::Ctx {
        dir: f.app.state.dir.as_ref(),
        clock: f.app.state.clock.as_ref(),
        actor: "test",
    };
    let school: claims::InstellingRef = idp::demo::DEMO_SCHOOL_REF.parse().unwrap();
    broker::admin::deregister(ctx, &school, "demo-uitgeverij").unwrap();
    let res = b.get(&app, &format!("/oidc/authorize?{AUTHZ}")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("niet voor jou aangezet"), "{body}");
    let back = crate::support::page::links(&body, "http://127.0.0.1:8081/callback")
        .pop()
        .unwrap();
    assert_eq!(
        query_param(&back, "error_description").as_deref(),
        Some("the school has withdrawn its permission for this software")
    );
}

#[actix_web::test]
async fn logout_without_an_id_token_hint_of_this_session_asks_first() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let cb = sign_in(&app, &mut b, AUTHZ).await;
    let code = query_param(&cb, "code").unwrap();
    let (_, tokens) = token(
        &app,
        Some(&basic("demo-uitgeverij", &f.secret())),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let id_token = tokens["id_token"].as_str().unwrap().to_string();

    // A bare GET (an image or link on another site) ends nothing: it asks.
    for q in [
        "",
        "?client_id=demo-uitgeverij",
        "?post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2F&client_id=demo-uitgeverij",
    ] {
        let res = b.get(&app, &format!("/oidc/logout{q}")).await;
        assert_eq!(res.status(), StatusCode::OK, "{q}");
        assert!(res.headers().get("location").is_none(), "{q}");
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(body.contains("Uitloggen?"), "{q}: {body}");
        // Still signed in: the session passes silently.
        let res = b
            .get(&app, &format!("/oidc/authorize?{AUTHZ}&prompt=none"))
            .await;
        assert!(
            query_param(&location(&res), "code").is_some(),
            "{q}: still signed in"
        );
    }
    // A POST without the confirmation's CSRF token asks as well.
    let res = b
        .post(
            &app,
            "/oidc/logout",
            &[("confirm", "ja"), ("csrf_token", "vals")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("Uitloggen?"));
    // Confirming on the page ends the session.
    let csrf = hidden(&body, "csrf_token");
    let res = b
        .post(
            &app,
            "/oidc/logout",
            &[("confirm", "ja"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(!body.contains("Uitloggen?"), "{body}");
    let res = b
        .get(&app, &format!("/oidc/authorize?{AUTHZ}&prompt=none"))
        .await;
    assert_eq!(
        query_param(&location(&res), "error").as_deref(),
        Some("login_required")
    );

    // With the ID token of this very session, the relying party's request is honoured at once.
    let cb = sign_in(&app, &mut b, AUTHZ).await;
    let code = query_param(&cb, "code").unwrap();
    let (_, tokens2) = token(
        &app,
        Some(&basic("demo-uitgeverij", &f.secret())),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    // An ID token of an earlier session is no proof for this one.
    let res = b
        .get(&app, &format!("/oidc/logout?id_token_hint={id_token}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("Uitloggen?"), "{body}");
    let hint = tokens2["id_token"].as_str().unwrap();
    let res = b
        .get(&app, &format!("/oidc/logout?id_token_hint={hint}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(!body.contains("Uitloggen?"), "{body}");
    let res = b
        .get(&app, &format!("/oidc/authorize?{AUTHZ}&prompt=none"))
        .await;
    assert_eq!(
        query_param(&location(&res), "error").as_deref(),
        Some("login_required")
    );
}

/// A session of `user_id` at the demo school, as a sign-in (here, or at a network
/// environment) would start it.
fn session_of(f: &Flow, b: &mut Browser, user_id: uuid::Uuid) {
    let s = idp::session::start(
        f.app.state.store.as_ref(),
        idp::session::Authenticated {
            user_id,
            school: idp::demo::DEMO_SCHOOL_REF.parse().unwrap(),
            amr: vec!["fed".into()],
            acr: "leerpoort:netwerk".into(),
            context: claims::LoginContext::Netwerk,
            ip: None,
        },
        f.app.state.clock.now_secs(),
        None,
    )
    .unwrap();
    b.set_cookie(idp::session::cookie_name(false), s.sid);
}

#[actix_web::test]
async fn inactive_staff_get_no_staff_pages_and_no_activation_mail() {
    let f = Flow::new();
    let ctx = broker::admin::Ctx {
        dir: f.app.state.dir.as_ref(),
        clock: f.app.state.clock.as_ref(),
        actor: "test",
    };
    // Staff that a network environment provisioned, or an import brought, arrive inactive.
    let mees = broker::admin::add_user(
        ctx,
        f.app.state.credentials(),
        broker::admin::UserInput {
            school: idp::demo::DEMO_SCHOOL_REF.into(),
            role: "leerkracht".into(),
            given_name: "Mees".into(),
            family_name: "Kok".into(),
            email: Some("mees.kok@regenboog.example".into()),
            groups: vec!["groep-3a".into()],
            ..Default::default()
        },
    )
    .unwrap()
    .user;
    assert_eq!(mees.status, broker::model::UserStatus::Inactive);
    let now = f.app.state.clock.now_secs();

    // Whoever can read mail at the address cannot activate the account with "forgot password".
    broker::login::password::request_link(&f.app.state.world(), "mees.kok@regenboog.example", now);
    assert!(f.app.outbox().is_empty(), "no mail for inactive staff");
    // An active teacher does get one (the same call can send mail).
    broker::login::password::request_link(
        &f.app.state.world(),
        "anna.devries@regenboog.example",
        now,
    );
    assert_eq!(f.app.outbox().len(), 1);

    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    // Signed in (through a network environment), the inactive teacher gets no group overview.
    let mut b = Browser::default();
    session_of(&f, &mut b, mees.id);
    let res = b.get(&app, "/groepen").await;
    assert_ne!(res.status(), StatusCode::OK, "no staff page while inactive");
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(!body.contains("Groep 3A"), "{body}");

    // The active teacher in the same way does.
    let anna = f
        .app
        .state
        .dir
        .user_by_email("anna.devries@regenboog.example")
        .unwrap()
        .unwrap();
    let mut b = Browser::default();
    session_of(&f, &mut b, anna.id);
    let res = b.get(&app, "/groepen").await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// What a JSON document looks like with the values that change from run to run (times, ids,
/// keys, signatures) replaced by their kind.
fn redact_json(v: &Value, volatile: &[&str]) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if volatile.contains(&k.as_str()) {
                        Value::String(format!("[{k}]"))
                    } else {
                        redact_json(v, volatile)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| redact_json(v, volatile)).collect()),
        other => other.clone(),
    }
}

/// The discovery document and the shape of the JWKS, as relying parties read them: a change
/// to either is a change to the contract, and shows up here first.
#[actix_web::test]
async fn discovery_and_jwks_keep_their_shape() {
    let t = TestApp::init();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/.well-known/openid-configuration")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let discovery: Value = test::read_body_json(res).await;
    insta::assert_snapshot!(
        "discovery",
        serde_json::to_string_pretty(&discovery).unwrap()
    );

    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/oidc/jwks").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let jwks: Value = test::read_body_json(res).await;
    let shape = redact_json(&jwks, &["kid", "n", "e", "x", "y", "x5c", "x5t#S256"]);
    insta::assert_snapshot!("jwks_shape", serde_json::to_string_pretty(&shape).unwrap());
}

/// The claims of a teacher's ID token for the demo publisher (scope `openid groups`): which
/// claims a publisher receives, with the values that change from run to run redacted.
#[actix_web::test]
async fn id_token_claims_keep_their_shape() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let cb = sign_in(&app, &mut b, &format!("{AUTHZ}&nonce=n-0S6_WzA2Mj")).await;
    let (status, t) = token(
        &app,
        Some(&basic("demo-uitgeverij", &f.secret())),
        &[
            ("grant_type", "authorization_code"),
            ("code", &query_param(&cb, "code").unwrap()),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let id_token = t["id_token"].as_str().unwrap();
    let payload = id_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let shape = redact_json(
        &claims,
        &[
            "sub",
            "iat",
            "exp",
            "auth_time",
            "sid",
            "at_hash",
            "jti",
            "eckid",
            "group_id",
            "instelling_ref",
        ],
    );
    insta::assert_snapshot!(
        "id_token_claims",
        serde_json::to_string_pretty(&shape).unwrap()
    );
}

/// Exchange the code of a (passed-through) sign-in for tokens of the demo client.
async fn demo_tokens<S, B>(f: &Flow, app: &S, b: &mut Browser) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let cb = sign_in(app, b, AUTHZ).await;
    let (status, t) = token(
        app,
        Some(&basic("demo-uitgeverij", &f.secret())),
        &[
            ("grant_type", "authorization_code"),
            ("code", &query_param(&cb, "code").unwrap()),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    t
}

async fn introspect<S, B>(app: &S, auth: &str, token: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = test::TestRequest::post()
        .uri("/oidc/introspect")
        .insert_header(("authorization", auth))
        .set_form([("token", token)])
        .to_request();
    let res = test::call_service(app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    test::read_body_json(res).await
}

#[actix_web::test]
async fn logging_out_ends_every_grant_of_the_session() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let mut b = Browser::default();
    let auth = basic("demo-uitgeverij", &f.secret());
    // Three authorizations in one session: three grants.
    let mut issued = Vec::new();
    for _ in 0..3 {
        issued.push(demo_tokens(&f, &app, &mut b).await);
    }
    for t in &issued {
        assert_eq!(
            userinfo(&app, t["access_token"].as_str().unwrap()).await,
            StatusCode::OK
        );
    }
    // The first grant is refreshed before the logout: its new tokens end too.
    let (status, refreshed) = token(
        &app,
        Some(&auth),
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                issued[0]["refresh_token"].as_str().unwrap(),
            ),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    issued[0] = refreshed;

    let hint = issued[2]["id_token"].as_str().unwrap();
    let res = b
        .get(&app, &format!("/oidc/logout?id_token_hint={hint}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    for t in &issued {
        let at = t["access_token"].as_str().unwrap();
        assert_eq!(userinfo(&app, at).await, StatusCode::UNAUTHORIZED);
        assert_eq!(introspect(&app, &auth, at).await["active"], false);
        let (status, body) = token(
            &app,
            Some(&auth),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_grant");
    }
    // A new sign-in in the same browser gets working tokens again.
    let t = demo_tokens(&f, &app, &mut b).await;
    assert_eq!(
        userinfo(&app, t["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_client_may_choose_opaque_access_tokens() {
    let f = Flow::new();
    let app = test::init_service(idp::server::app(f.app.state.clone())).await;
    let ctx = broker::admin::Ctx {
        dir: f.app.state.dir.as_ref(),
        clock: f.app.state.clock.as_ref(),
        actor: "test",
    };
    let demo = f
        .app
        .state
        .dir
        .relying_party_by_public_id("demo-uitgeverij")
        .unwrap()
        .unwrap();
    broker::admin::set_access_token_format(ctx, &demo, broker::model::AccessTokenFormat::Opaque)
        .unwrap();
    let mut b = Browser::default();
    let auth = basic("demo-uitgeverij", &f.secret());
    let t = demo_tokens(&f, &app, &mut b).await;
    let at = t["access_token"].as_str().unwrap();
    assert!(at.starts_with("lpat_"), "{at}");
    assert!(!at.contains('.'), "an opaque token is no JWT: {at}");
    // The ID token still binds it (at_hash), and it works at userinfo.
    let id_claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t["id_token"].as_str().unwrap().split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        id_claims["at_hash"],
        protocol::oidc::claims::at_hash("RS256", at)
    );
    assert_eq!(userinfo(&app, at).await, StatusCode::OK);
    // Introspection tells the client what the token stands for; another client learns nothing.
    let seen = introspect(&app, &auth, at).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["sub"], id_claims["sub"]);
    assert_eq!(seen["client_id"], "demo-uitgeverij");
    assert_eq!(seen["scope"], "openid groups");
    assert_eq!(seen["role"], "leerkracht");
    let other = broker::admin::add_client(
        ctx,
        broker::admin::ClientInput {
            name: "Ander".into(),
            kind: "publisher".into(),
            redirect_uris: vec!["https://ander.example/cb".into()],
            audience: "beide".into(),
            id_token_alg: "ES256".into(),
            access_token_format: Some("opaque".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let other_auth = basic(
        other.rp.public_id(),
        other.client_secret.as_deref().unwrap(),
    );
    assert_eq!(
        introspect(&app, &other_auth, at).await,
        serde_json::json!({"active": false})
    );
    // A made-up token of the same shape is unknown.
    let forged = format!("lpat_{}", "A".repeat(43));
    assert_eq!(userinfo(&app, &forged).await, StatusCode::UNAUTHORIZED);
    // It expires with its time (ten minutes).
    f.app.clock.advance(std::time::Duration::from_secs(601));
    assert_eq!(userinfo(&app, at).await, StatusCode::UNAUTHORIZED);

    // Revoking it ends it at once.
    let t = demo_tokens(&f, &app, &mut b).await;
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, at).await, StatusCode::OK);
    let req = test::TestRequest::post()
        .uri("/oidc/revoke")
        .insert_header(("authorization", auth.as_str()))
        .set_form([("token", at)])
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    assert_eq!(userinfo(&app, at).await, StatusCode::UNAUTHORIZED);
    assert_eq!(introspect(&app, &auth, at).await["active"], false);

    // Back to JWTs: the next token is one (RFC 9068).
    broker::admin::set_access_token_format(ctx, &demo, broker::model::AccessTokenFormat::Jwt)
        .unwrap();
    let t = demo_tokens(&f, &app, &mut b).await;
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(at.split('.').count(), 3, "{at}");
    assert_eq!(userinfo(&app, at).await, StatusCode::OK);
    // A SAML service provider has no access tokens to choose.
    assert!(broker::admin::set_access_token_format(
        ctx,
        &broker::model::RelyingParty {
            protocol: broker::model::RpProtocol::Saml(broker::model::SamlSp {
                entity_id: "https://sp.example".into(),
                metadata: String::new(),
            }),
            ..demo.clone()
        },
        broker::model::AccessTokenFormat::Opaque,
    )
    .is_err());
}
