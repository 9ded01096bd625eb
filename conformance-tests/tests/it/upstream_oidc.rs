//! Network environments as OpenID Connect upstreams.
//!
//! A hand-made hostile upstream (a discovery document, keys and a token endpoint on a
//! loopback listener) answers each sign-in with one crafted ID token or authorization
//! response; Leerpoort must refuse every one that is wrong and accept the one that is right.
//! The real upstream, npm's `oidc-provider`, is in `upstream_peer.rs`.

use std::sync::{Arc, Mutex};

use conformance_tests::jwt::{self, ClientKey};
use conformance_tests::{code_flow, AuthRequest, Backend, Browser, Listener, Reply, Server};
use serde_json::{json, Value};

const CLIENT_ID: &str = "leerpoort-bij-moo";
const CLIENT_SECRET: &str = "geheim-van-moo";

/// What the fake upstream answers at its token endpoint next.
#[derive(Default)]
struct Script {
    id_token: Option<String>,
}

struct FakeUpstream {
    listener: Listener,
    issuer: String,
    key: Arc<Mutex<ClientKey>>,
    script: Arc<Mutex<Script>>,
}

impl FakeUpstream {
    /// An upstream; `iss_parameter`: whether it announces RFC 9207.
    fn start(iss_parameter: bool) -> Self {
        let key = Arc::new(Mutex::new(ClientKey::generate("RS256")));
        let script = Arc::new(Mutex::new(Script::default()));
        let issuer_cell: Arc<Mutex<String>> = Arc::new(Mutex::new(String::new()));
        let (k, s, i) = (key.clone(), script.clone(), issuer_cell.clone());
        let listener = Listener::start(move |req| {
            let issuer = i.lock().unwrap().clone();
            let path = req.target.split('?').next().unwrap_or("");
            match path {
                "/.well-known/openid-configuration" => Reply::json(&json!({
                    "issuer": issuer,
                    "authorization_endpoint": format!("{issuer}/authorize"),
                    "token_endpoint": format!("{issuer}/token"),
                    "jwks_uri": format!("{issuer}/jwks"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "authorization_response_iss_parameter_supported": iss_parameter,
                })),
                "/jwks" => Reply::json(&k.lock().unwrap().jwks()),
                "/token" => match s.lock().unwrap().id_token.take() {
                    Some(t) => Reply::json(&json!({
                        "access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": t,
                    })),
                    None => Reply::with(400, "application/json", r#"{"error":"invalid_grant"}"#),
                },
                _ => Reply::with(404, "text/plain", "not found"),
            }
        });
        let issuer = listener.url("");
        *issuer_cell.lock().unwrap() = issuer.clone();
        Self {
            listener,
            issuer,
            key,
            script,
        }
    }

    /// The next ID token: `claims`, signed with the upstream's key (or `with`).
    fn answer(&self, claims: &Value, with: Option<&ClientKey>) {
        let t = match with {
            Some(k) => k.sign(claims),
            None => self.key.lock().unwrap().sign(claims),
        };
        self.script.lock().unwrap().id_token = Some(t);
    }
}

/// A pupil's claims as a good upstream sends them.
fn good_claims(up: &FakeUpstream, nonce: &str) -> Value {
    let now = jwt::now();
    json!({
        "iss": up.issuer, "aud": CLIENT_ID, "sub": "moo-123", "nonce": nonce,
        "iat": now, "exp": now + 300, "las_key": "LL0001",
    })
}

fn setup(iss_parameter: bool) -> (Server, FakeUpstream) {
    let server = Server::start(&Backend::Sqlite);
    let up = FakeUpstream::start(iss_parameter);
    let out = server.cli(&[
        "upstream",
        "add",
        "--name",
        "moo",
        "--school",
        &server.school_ref(),
        "--oidc-issuer",
        &up.issuer,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        "--match",
        "las-key",
        "--claim",
        "las_key",
    ]);
    assert_eq!(
        out["redirect_uri"],
        server.url("/broker/oidc/callback"),
        "{out}"
    );
    (server, up)
}

/// Start a sign-in at the upstream: the authorization request's parameters.
fn start(server: &Server, browser: &Browser) -> std::collections::HashMap<String, String> {
    let landing = browser.get(&server.url(&format!(
        "/broker/oidc/start?upstream=moo&INSTELLING_REF={}",
        server.school_ref()
    )));
    assert!(landing.left_server, "{}", landing.describe());
    let p = landing.params();
    assert_eq!(p.get("client_id").map(String::as_str), Some(CLIENT_ID));
    assert_eq!(
        p.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert_eq!(
        p.get("redirect_uri"),
        Some(&server.url("/broker/oidc/callback"))
    );
    for k in ["state", "nonce", "code_challenge"] {
        assert!(p.contains_key(k), "{k}: {p:?}");
    }
    p
}

/// Come back from the upstream with `extra` parameters.
fn callback(
    server: &Server,
    browser: &Browser,
    state: &str,
    extra: &[(&str, &str)],
) -> conformance_tests::Landing {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("state", state);
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    browser.get(&server.url(&format!("/broker/oidc/callback?{}", q.finish())))
}

/// One sign-in whose ID token is `claims` changed by `tweak`, signed by `with`: where it ends.
fn attempt(
    server: &Server,
    up: &FakeUpstream,
    tweak: impl FnOnce(&mut Value),
    with: Option<&ClientKey>,
    iss_param: Option<&str>,
) -> conformance_tests::Landing {
    let browser = server.browser();
    let p = start(server, &browser);
    let mut claims = good_claims(up, &p["nonce"]);
    tweak(&mut claims);
    up.answer(&claims, with);
    let mut extra = vec![("code", "c0de")];
    if let Some(i) = iss_param {
        extra.push(("iss", i));
    }
    callback(server, &browser, &p["state"], &extra)
}

/// A change to a good ID token's claims.
type Tweak = Box<dyn FnOnce(&mut Value)>;

fn assert_refused(l: &conformance_tests::Landing, what: &str) {
    assert!(
        !l.left_server && l.status == 400 && l.body.contains("niet gelukt"),
        "{what} must be refused: {}",
        l.describe()
    );
}

#[test]
fn a_pupil_signs_in_through_an_oidc_network_environment() {
    let (server, up) = setup(true);
    let browser = server.browser();
    let p = start(&server, &browser);
    up.answer(&good_claims(&up, &p["nonce"]), None);
    let l = callback(
        &server,
        &browser,
        &p["state"],
        &[("code", "c0de"), ("iss", &up.issuer)],
    );
    assert!(
        !l.left_server && l.url.path() == "/" && l.body.contains("Emma"),
        "{}",
        l.describe()
    );
    // Leerpoort's token for a publisher says how she came in.
    let rp = server.demo_rp();
    let flow = code_flow(
        &server,
        &browser,
        &rp,
        AuthRequest::new(&rp).scope("openid groups"),
    );
    let claims = &flow.tokens.claims;
    assert_eq!(claims["login_context"], "netwerk", "{claims}");
    assert_eq!(claims["amr"], json!(["fed"]), "{claims}");
    assert!(
        claims["acr"].as_str().unwrap_or("").ends_with(":moo"),
        "{claims}"
    );
    // The token request carried the PKCE verifier and Leerpoort's credentials.
    let token_req = up
        .listener
        .drain()
        .into_iter()
        .find(|r| r.target.starts_with("/token"))
        .expect("a token request");
    let form = token_req.form();
    assert!(form.iter().any(|(k, _)| k == "code_verifier"), "{form:?}");
    assert!(token_req
        .header("authorization")
        .is_some_and(|a| a.starts_with("Basic ")));
}

#[test]
fn hostile_oidc_upstream_answers_are_refused() {
    let (server, up) = setup(true);
    let iss = up.issuer.clone();
    let cases: Vec<(&str, Tweak)> = vec![
        (
            "another issuer",
            Box::new(|c| c["iss"] = json!("https://evil.example")),
        ),
        (
            "another audience",
            Box::new(|c| c["aud"] = json!("someone-else")),
        ),
        (
            "an untrusted extra audience",
            Box::new(|c| c["aud"] = json!([CLIENT_ID, "someone-else"])),
        ),
        (
            "another authorized party",
            Box::new(|c| c["azp"] = json!("someone-else")),
        ),
        (
            "a wrong nonce",
            Box::new(|c| c["nonce"] = json!("not-the-nonce")),
        ),
        (
            "no nonce",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
        ),
        (
            "an expired token",
            Box::new(|c| {
                c["exp"] = json!(jwt::now() - 600);
                c["iat"] = json!(jwt::now() - 900);
            }),
        ),
        (
            "a token from the future",
            Box::new(|c| c["iat"] = json!(jwt::now() + 3600)),
        ),
    ];
    for (what, tweak) in cases {
        assert_refused(&attempt(&server, &up, tweak, None, Some(&iss)), what);
    }
    // A signature by another key that claims the upstream's kid.
    let kid = up.key.lock().unwrap().kid.clone();
    let impostor = ClientKey::generate_with_kid("RS256", &kid);
    assert_refused(
        &attempt(&server, &up, |_| {}, Some(&impostor), Some(&iss)),
        "a forged signature",
    );
    // An unsigned token.
    {
        let browser = server.browser();
        let p = start(&server, &browser);
        up.script.lock().unwrap().id_token = Some(jwt::unsigned(&good_claims(&up, &p["nonce"])));
        assert_refused(
            &callback(
                &server,
                &browser,
                &p["state"],
                &[("code", "c0de"), ("iss", &iss)],
            ),
            "an unsigned ID token",
        );
    }
    // Mix-up (RFC 9207): another issuer in the response, or none while the upstream sends one.
    assert_refused(
        &attempt(&server, &up, |_| {}, None, Some("https://evil.example")),
        "a mixed-up iss",
    );
    assert_refused(&attempt(&server, &up, |_| {}, None, None), "a missing iss");
    // A state that was not started here, or used twice.
    let browser = server.browser();
    assert_refused(
        &callback(&server, &browser, "made-up", &[("code", "c0de")]),
        "an unknown state",
    );
    let p = start(&server, &browser);
    up.answer(&good_claims(&up, &p["nonce"]), None);
    let first = callback(
        &server,
        &browser,
        &p["state"],
        &[("code", "c0de"), ("iss", &iss)],
    );
    assert_eq!(first.url.path(), "/", "{}", first.describe());
    up.answer(&good_claims(&up, &p["nonce"]), None);
    assert_refused(
        &callback(
            &server,
            &browser,
            &p["state"],
            &[("code", "c0de"), ("iss", &iss)],
        ),
        "a replayed state",
    );
    // The upstream's keys rotated: a new kid is fetched once, and accepted.
    let rotated = ClientKey::generate("RS256");
    *up.key.lock().unwrap() = ClientKey::generate_with_kid("RS256", &rotated.kid);
    let l = attempt(&server, &up, |_| {}, None, Some(&iss));
    assert!(
        !l.left_server && l.url.path() == "/",
        "a rotated upstream key must be fetched: {}",
        l.describe()
    );
}

#[test]
fn unknown_pupils_get_a_clear_page_and_upstream_errors_are_shown() {
    let (server, up) = setup(false);
    let l = attempt(&server, &up, |c| c["las_key"] = json!("LL9999"), None, None);
    assert_refused(&l, "an unknown pupil");
    assert!(l.body.contains("kan je niet vinden"), "{}", l.describe());
    let l = attempt(
        &server,
        &up,
        |c| {
            c.as_object_mut().unwrap().remove("las_key");
        },
        None,
        None,
    );
    assert_refused(&l, "no LAS key");
    // Without RFC 9207 announced, a response without iss is fine.
    let l = attempt(&server, &up, |_| {}, None, None);
    assert_eq!(l.url.path(), "/", "{}", l.describe());
    // The upstream's error is shown, not followed.
    let browser = server.browser();
    let p = start(&server, &browser);
    assert_refused(
        &callback(
            &server,
            &browser,
            &p["state"],
            &[("error", "access_denied")],
        ),
        "the upstream's refusal",
    );
}

#[test]
fn idp_hint_skips_the_choice_and_prompt_none_never_loops() {
    let (server, up) = setup(false);
    let rp = server.demo_rp();
    // idp_hint: straight to the upstream, then back to the relying party with a code.
    let browser = server.browser();
    let req = AuthRequest::new(&rp).set("idp_hint", "moo");
    let at_upstream = browser.get(&req.url(&server));
    assert!(
        at_upstream.left_server && at_upstream.url.as_str().starts_with(&up.issuer),
        "{}",
        at_upstream.describe()
    );
    let p = at_upstream.params();
    assert_eq!(p.get("prompt"), None);
    up.answer(&good_claims(&up, &p["nonce"]), None);
    let back = callback(&server, &browser, &p["state"], &[("code", "c0de")]);
    assert!(
        back.left_server && back.url.as_str().starts_with(&rp.redirect_uri),
        "{}",
        back.describe()
    );
    assert!(back.params().contains_key("code"), "{}", back.url);

    // prompt=none with a hint and no session anywhere: the upstream is asked silently, says
    // login_required, and so does Leerpoort — once, without going back to the upstream.
    let browser = server.browser();
    let req = AuthRequest::new(&rp)
        .set("idp_hint", "moo")
        .set("prompt", "none");
    let at_upstream = browser.get(&req.url(&server));
    assert!(at_upstream.left_server, "{}", at_upstream.describe());
    let p = at_upstream.params();
    assert_eq!(p.get("prompt").map(String::as_str), Some("none"));
    let back = callback(
        &server,
        &browser,
        &p["state"],
        &[("error", "login_required")],
    );
    assert!(
        back.left_server && back.url.as_str().starts_with(&rp.redirect_uri),
        "{}",
        back.describe()
    );
    assert_eq!(
        back.params().get("error").map(String::as_str),
        Some("login_required"),
        "{}",
        back.url
    );
    // An unknown hint is ignored: the ordinary sign-in form.
    let browser = server.browser();
    let l = browser.get(
        &AuthRequest::new(&rp)
            .set("idp_hint", "onbekend")
            .url(&server),
    );
    assert!(l.stopped_at_login, "{}", l.describe());
}

#[test]
fn a_school_with_two_network_environments() {
    let (server, _moo) = setup(false);
    let zulu = FakeUpstream::start(false);
    server.cli(&[
        "upstream",
        "add",
        "--name",
        "zulu",
        "--school",
        &server.school_ref(),
        "--oidc-issuer",
        &zulu.issuer,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        "--match",
        "las-key",
        "--claim",
        "las_key",
    ]);
    let browser = server.browser();
    let page = browser.get(&server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}",
        server.school_ref()
    )));
    assert!(
        page.body.contains("Inloggen via moo") && page.body.contains("Inloggen via zulu"),
        "{}",
        page.describe()
    );
    // Through zulu: its own state, keys and answer.
    let l = browser.get(&server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}&NETWERK=zulu",
        server.school_ref()
    )));
    assert!(
        l.left_server && l.url.as_str().starts_with(&zulu.issuer),
        "{}",
        l.describe()
    );
    let browser = server.browser();
    let start = browser.get(&server.url(&format!(
        "/broker/oidc/start?upstream=zulu&INSTELLING_REF={}",
        server.school_ref()
    )));
    let p = start.params();
    assert!(
        start.url.as_str().starts_with(&zulu.issuer),
        "{}",
        start.url
    );
    let mut claims = good_claims(&zulu, &p["nonce"]);
    claims["las_key"] = json!("LL0006");
    zulu.answer(&claims, None);
    let done = callback(&server, &browser, &p["state"], &[("code", "c0de")]);
    assert!(
        done.url.path() == "/" && done.body.contains("Liam"),
        "{}",
        done.describe()
    );
    // A NETWERK= that does not serve the school: a clear page.
    let browser = server.browser();
    let l = browser.get(&server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}&NETWERK=magister",
        server.school_ref()
    )));
    assert!(
        l.status == 404 && l.body.contains("niet bekend"),
        "{}",
        l.describe()
    );
}

/// A logout token from the upstream, signed by `key`.
fn logout_token(
    up: &FakeUpstream,
    sid: &str,
    tweak: impl FnOnce(&mut Value),
    key: Option<&ClientKey>,
) -> String {
    let mut claims = json!({
        "iss": up.issuer, "aud": CLIENT_ID, "iat": jwt::now(), "jti": uuid::Uuid::new_v4().to_string(),
        "sid": sid, "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    });
    tweak(&mut claims);
    match key {
        Some(k) => k.sign(&claims),
        None => up.key.lock().unwrap().sign(&claims),
    }
}

#[test]
fn the_network_environments_logout_ends_leerpoorts_session() {
    let (server, up) = setup(false);
    let browser = server.browser();
    let p = start(&server, &browser);
    let mut claims = good_claims(&up, &p["nonce"]);
    claims["sid"] = json!("moo-session-1");
    up.answer(&claims, None);
    let l = callback(&server, &browser, &p["state"], &[("code", "c0de")]);
    assert_eq!(l.url.path(), "/", "{}", l.describe());
    let post = |token: String| {
        conformance_tests::Response::send(
            conformance_tests::http::client()
                .post(server.url("/broker/oidc/backchannel-logout"))
                .form(&[("logout_token", token)]),
        )
    };
    // Refused: another audience, no event, a nonce, a forged signature, another session.
    let kid = up.key.lock().unwrap().kid.clone();
    let impostor = ClientKey::generate_with_kid("RS256", &kid);
    for (what, token) in [
        (
            "another audience",
            logout_token(&up, "moo-session-1", |c| c["aud"] = json!("x"), None),
        ),
        (
            "no event",
            logout_token(
                &up,
                "moo-session-1",
                |c| {
                    c.as_object_mut().unwrap().remove("events");
                },
                None,
            ),
        ),
        (
            "a nonce",
            logout_token(&up, "moo-session-1", |c| c["nonce"] = json!("n"), None),
        ),
        (
            "a forged signature",
            logout_token(&up, "moo-session-1", |_| {}, Some(&impostor)),
        ),
        (
            "an old token",
            logout_token(
                &up,
                "moo-session-1",
                |c| c["iat"] = json!(jwt::now() - 3600),
                None,
            ),
        ),
    ] {
        assert_eq!(post(token).status, 400, "{what}");
    }
    let still = browser.get(&server.url("/"));
    assert!(
        still.body.contains("Emma"),
        "still signed in: {}",
        still.describe()
    );
    // The real one: Leerpoort's session ends.
    let token = logout_token(&up, "moo-session-1", |_| {}, None);
    assert_eq!(post(token.clone()).status, 200);
    let after = browser.get(&server.url("/"));
    assert!(
        after.url.path() == "/login" || after.stopped_at_login,
        "signed out: {}",
        after.describe()
    );
    // The same token again is a replay.
    assert_eq!(post(token).status, 400);
}

#[test]
fn private_key_jwt_at_the_upstreams_token_endpoint() {
    let server = Server::start(&Backend::Sqlite);
    let up = FakeUpstream::start(false);
    let out = server.cli(&[
        "upstream",
        "add",
        "--name",
        "moo",
        "--school",
        &server.school_ref(),
        "--oidc-issuer",
        &up.issuer,
        "--client-id",
        CLIENT_ID,
        "--client-auth",
        "private_key_jwt",
        "--match",
        "las-key",
        "--claim",
        "las_key",
    ]);
    assert_eq!(out["jwks_uri"], server.url("/oidc/jwks"), "{out}");
    assert!(server
        .try_cli(&[
            "upstream",
            "add",
            "--name",
            "zulu",
            "--school",
            &server.school_ref(),
            "--oidc-issuer",
            &up.issuer,
            "--client-id",
            "x",
            "--client-auth",
            "private_key_jwt",
            "--client-secret",
            "y",
            "--match",
            "email",
            "--claim",
            "email",
        ])
        .unwrap_err()
        .contains("no --client-secret"));
    let browser = server.browser();
    let p = start(&server, &browser);
    up.answer(&good_claims(&up, &p["nonce"]), None);
    let l = callback(&server, &browser, &p["state"], &[("code", "c0de")]);
    assert_eq!(l.url.path(), "/", "{}", l.describe());
    // The token request: no secret, an assertion signed with Leerpoort's published key.
    let req = up
        .listener
        .drain()
        .into_iter()
        .find(|r| r.target.starts_with("/token"))
        .expect("a token request");
    assert!(req.header("authorization").is_none(), "no client secret");
    let form: std::collections::HashMap<String, String> = req.form().into_iter().collect();
    assert_eq!(
        form.get("client_assertion_type").map(String::as_str),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let jwks = server.jwks();
    let claims = jwt::verify(&form["client_assertion"], &jwks, &["RS256"]);
    assert_eq!(claims["iss"], CLIENT_ID);
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(claims["aud"], format!("{}/token", up.issuer));
    assert!(claims["jti"].is_string() && claims["exp"].as_i64() > claims["iat"].as_i64());
}

#[test]
fn a_callback_signs_in_only_the_browser_that_started_the_sign_in() {
    let (server, up) = setup(false);
    // Someone starts a sign-in in their own browser and signs in at the upstream as
    // themselves; the callback URL is then opened in another browser.
    for case in [
        "a browser without the cookie",
        "a browser with a sign-in of its own",
    ] {
        let theirs = server.browser();
        let p = start(&server, &theirs);
        up.answer(&good_claims(&up, &p["nonce"]), None);
        let victim = server.browser();
        if case.contains("its own") {
            let _ = start(&server, &victim);
        }
        let l = callback(&server, &victim, &p["state"], &[("code", "c0de")]);
        assert_refused(&l, case);
        let home = victim.get(&server.url("/"));
        assert!(
            !home.body.contains("Emma"),
            "{case}: nobody is signed in: {}",
            home.describe()
        );
        // The state is used up: it cannot be tried again in the right browser either.
        up.answer(&good_claims(&up, &p["nonce"]), None);
        assert_refused(
            &callback(&server, &theirs, &p["state"], &[("code", "c0de")]),
            "a state used by another browser",
        );
    }
    // The browser that started it: signed in.
    let browser = server.browser();
    let p = start(&server, &browser);
    up.answer(&good_claims(&up, &p["nonce"]), None);
    let l = callback(&server, &browser, &p["state"], &[("code", "c0de")]);
    assert!(
        l.url.path() == "/" && l.body.contains("Emma"),
        "{}",
        l.describe()
    );
}

#[test]
fn junk_back_channel_logouts_read_the_keys_at_most_once() {
    let (server, up) = setup(false);
    let post = |token: String| {
        conformance_tests::Response::send(
            conformance_tests::http::client()
                .post(server.url("/broker/oidc/backchannel-logout"))
                .form(&[("logout_token", token)]),
        )
    };
    up.listener.drain();
    // A hundred tokens naming the upstream, signed by a key it never had: under a new kid
    // each time, or under the kid of the upstream's own key.
    let own_kid = up.key.lock().unwrap().kid.clone();
    let mut key = ClientKey::generate("RS256");
    for i in 0..100 {
        key.kid = if i % 2 == 0 {
            format!("onbekend-{i}")
        } else {
            own_kid.clone()
        };
        let token = logout_token(&up, "moo-session-1", |_| {}, Some(&key));
        assert_eq!(post(token).status, 400, "junk token {i}");
    }
    let fetched = up
        .listener
        .drain()
        .iter()
        .filter(|r| r.target.starts_with("/jwks"))
        .count();
    assert!(fetched <= 1, "the keys were read {fetched} times");

    // A real sign-in and a real logout still work.
    let browser = server.browser();
    let p = start(&server, &browser);
    let mut claims = good_claims(&up, &p["nonce"]);
    claims["sid"] = json!("moo-session-1");
    up.answer(&claims, None);
    let l = callback(&server, &browser, &p["state"], &[("code", "c0de")]);
    assert_eq!(l.url.path(), "/", "{}", l.describe());
    let token = logout_token(&up, "moo-session-1", |_| {}, None);
    assert_eq!(post(token).status, 200);
    let after = browser.get(&server.url("/"));
    assert!(
        after.url.path() == "/login" || after.stopped_at_login,
        "signed out: {}",
        after.describe()
    );
}

#[test]
fn matching_on_email_asks_the_upstream_for_scope_email() {
    let server = Server::start(&Backend::Sqlite);
    let up = FakeUpstream::start(false);
    let added = server.cli(&[
        "upstream",
        "add",
        "--name",
        "moo",
        "--school",
        &server.school_ref(),
        "--oidc-issuer",
        &up.issuer,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        "--match",
        "email",
        "--claim",
        "email",
    ]);
    assert_eq!(added["scopes"], json!(["openid", "email"]), "{added}");
    let browser = server.browser();
    let p = start(&server, &browser);
    let scopes: Vec<&str> = p["scope"].split(' ').collect();
    assert!(
        scopes.contains(&"openid") && scopes.contains(&"email"),
        "{p:?}"
    );
}
