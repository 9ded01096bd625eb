//! Three nodes behind HAProxy (`scripts/cluster.sh`), on one PostgreSQL and one Redis: any node
//! serves any request, limits and locks hold across nodes, a node can die and Redis can restart
//! without signing anyone out.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use conformance_tests::chromium::Chromium;
use conformance_tests::cluster::{database_url, Cluster};
use conformance_tests::{http, jwt, Browser, Credentials, Landing, ANNA};

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A cluster, or `None` (with a note) when no PostgreSQL is configured outside CI.
fn cluster(settings: &[(&str, &str)]) -> Option<Cluster> {
    let Some(db) = database_url() else {
        eprintln!("LEERPOORT_TEST_DATABASE_URL not set: the cluster tests were not run");
        return None;
    };
    Some(Cluster::up(&db, settings))
}

fn anna(c: &Cluster, at: &str) -> Browser {
    let password = c.demo["staff"][0]["password"].as_str().unwrap().to_string();
    Browser::new(at).with_login(Credentials {
        email: ANNA.to_string(),
        password,
    })
}

/// The authorization request of the demo client at `base`, with `state`.
fn authorize(c: &Cluster, base: &str, state: &str) -> String {
    let (id, _, redirect) = c.demo_client();
    format!(
        "{base}/oidc/authorize?response_type=code&client_id={id}&redirect_uri={}&scope=openid&state={state}&nonce=n-{state}",
        enc(&redirect)
    )
}

/// The code a landing at the redirect URI carries (for `state`).
fn code(landing: &Landing, state: &str) -> String {
    assert!(landing.left_server, "{}", landing.describe());
    let p = landing.params();
    assert_eq!(p.get("state").map(String::as_str), Some(state));
    p.get("code")
        .cloned()
        .unwrap_or_else(|| panic!("no code: {}", landing.describe()))
}

/// Exchange `code` at `base`'s token endpoint: (HTTP status, answer).
fn token(c: &Cluster, base: &str, code: &str) -> (u16, serde_json::Value) {
    let (id, secret, redirect) = c.demo_client();
    let res = http::Response::send(
        http::client()
            .post(format!("{base}/oidc/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect.as_str()),
            ]),
    );
    (res.status, res.json())
}

#[test]
fn a_session_made_on_one_node_serves_authorize_on_another_and_token_on_a_third() {
    let Some(c) = cluster(&[]) else { return };
    let (id, _, _) = c.demo_client();
    // Anna signs in on node 1 (and is sent on with a code).
    let browser = anna(&c, &c.nodes[0]);
    let first = code(&browser.get(&authorize(&c, &c.nodes[0], "een")), "een");
    assert_eq!(browser.logins(), 1);
    // Node 2 knows her session: a code without a sign-in.
    let second = code(&browser.get(&authorize(&c, &c.nodes[1], "twee")), "twee");
    assert_eq!(browser.logins(), 1, "node 2 asked her to sign in again");
    // Node 3 exchanges the code node 2 made; the tokens name the cluster's issuer.
    let (status, answer) = token(&c, &c.nodes[2], &second);
    assert_eq!(status, 200, "{answer}");
    let claims = jwt::payload(answer["id_token"].as_str().unwrap());
    assert_eq!(claims["iss"], c.issuer);
    assert_eq!(claims["aud"], id);
    assert_eq!(claims["nonce"], "n-twee");
    // The same person on every node, and a code is used once in the whole cluster.
    let (status, first_answer) = token(&c, &c.nodes[0], &first);
    assert_eq!(status, 200, "{first_answer}");
    let first_claims = jwt::payload(first_answer["id_token"].as_str().unwrap());
    assert_eq!(first_claims["sub"], claims["sub"]);
    for node in &c.nodes {
        let (status, again) = token(&c, node, &second);
        assert_eq!(
            (status, again["error"].as_str()),
            (400, Some("invalid_grant"))
        );
    }
}

#[test]
fn a_pupils_lock_holds_on_every_node() {
    let Some(c) = cluster(&[]) else { return };
    let school = c.demo["school"]["instelling_ref"]
        .as_str()
        .unwrap()
        .to_string();
    let shortcut = |n: usize| format!("{}/snelkoppeling?INSTELLING_REF={school}", c.nodes[n]);
    let browser = Chromium::start(1024, 768);
    // Ten wrong PINs for Daan, spread over the three nodes (4, 3, 3): no node sees ten.
    for attempt in 0..10 {
        browser.goto(&shortcut(attempt % 3));
        browser.pupil_signs_in("Groep 3A", "Daan", "0000");
        let text = browser.text();
        if attempt < 9 {
            assert!(
                text.contains("Die code klopt niet"),
                "attempt {attempt}: {text}"
            );
        } else {
            assert!(text.contains("Vraag je juf of meester"), "{text}");
        }
    }
    // Locked on every node: his right PIN waits for the teacher.
    for n in 0..3 {
        browser.goto(&shortcut(n));
        browser.pupil_signs_in("Groep 3A", "Daan", "2345");
        assert!(
            browser.text().contains("Vraag je juf of meester"),
            "node {}: {}",
            n + 1,
            browser.text()
        );
    }
}

#[test]
fn a_node_killed_under_load_leaves_the_others_serving_and_its_users_signed_in() {
    let Some(c) = cluster(&[]) else { return };
    let browser = anna(&c, &c.issuer);
    code(&browser.get(&authorize(&c, &c.issuer, "start")), "start");
    let (ok, failed, after_kill) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let killed = AtomicBool::new(false);
    let mut failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        // Four users' worth of flows through HAProxy: authorize with the session, then token.
        for w in 0..4 {
            let (c, browser, ok, failed, after_kill, killed, failures) =
                (&c, &browser, &ok, &failed, &after_kill, &killed, &failures);
            s.spawn(move || {
                let end = Instant::now() + Duration::from_secs(12);
                let mut i = 0;
                while Instant::now() < end {
                    i += 1;
                    let state = format!("w{w}-{i}");
                    let flow = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let code = code(&browser.get(&authorize(c, &c.issuer, &state)), &state);
                        let (status, answer) = token(c, &c.issuer, &code);
                        assert_eq!(status, 200, "{answer}");
                    }));
                    match flow {
                        Ok(()) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                            if killed.load(Ordering::SeqCst) {
                                after_kill.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Err(e) => {
                            failed.fetch_add(1, Ordering::SeqCst);
                            let why = e
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            failures.lock().unwrap().push(why);
                        }
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_secs(4));
        c.kill_node(2);
        killed.store(true, Ordering::SeqCst);
    });
    let failures = failures.get_mut().unwrap();
    let (ok, failed, after_kill) = (
        ok.into_inner(),
        failed.into_inner(),
        after_kill.into_inner(),
    );
    eprintln!("flows: {ok} ok ({after_kill} after the kill), {failed} failed");
    assert!(
        after_kill >= 20,
        "the others carried on: {after_kill} flows after the kill"
    );
    // At most the requests that were on node 2 when it died.
    assert!(failed <= 4, "{failed} flows failed: {failures:?}");
    assert_eq!(c.status()["nodes"][1]["state"], "stopped");
    // Nobody was signed out: the session lives in Redis, not in the node.
    assert_eq!(browser.logins(), 1);
}

#[test]
fn a_redis_restart_keeps_signed_in_users_signed_in() {
    let Some(c) = cluster(&[]) else { return };
    let browser = anna(&c, &c.issuer);
    code(&browser.get(&authorize(&c, &c.issuer, "voor")), "voor");
    assert_eq!(browser.logins(), 1);
    c.restart_redis();
    // Every node reconnects; the session is still there (Redis keeps an append-only file).
    for n in 0..3 {
        let state = format!("na-{n}");
        let landing = browser.get(&authorize(&c, &c.nodes[n], &state));
        let code = code(&landing, &state);
        let (status, answer) = token(&c, &c.nodes[n], &code);
        assert_eq!(status, 200, "node {}: {answer}", n + 1);
    }
    assert_eq!(browser.logins(), 1, "signed out by the restart");
}

#[test]
fn a_postgres_restart_loses_nothing_and_leaves_no_errors() {
    if database_url().is_none() {
        eprintln!("LEERPOORT_TEST_DATABASE_URL not set: the cluster tests were not run");
        return;
    }
    let c = Cluster::up_with_own_postgres(&[]);
    let browser = anna(&c, &c.issuer);
    let before = code(&browser.get(&authorize(&c, &c.issuer, "voor")), "voor");
    let (status, answer) = token(&c, &c.issuer, &before);
    assert_eq!(status, 200, "{answer}");
    let sub = jwt::payload(answer["id_token"].as_str().unwrap())["sub"].clone();
    c.restart_postgres();
    // Straight after: every node answers what needs the database, without an error, and the
    // data from before is there (Karim signs in for the first time; Anna is the same person).
    for n in 0..3 {
        let ready = http::Response::send(http::client().get(format!("{}/readyz", c.nodes[n])));
        assert_eq!(ready.status, 200, "node {}: {}", n + 1, ready.body);
        let karim = Browser::new(&c.nodes[n]).with_login(Credentials {
            email: conformance_tests::KARIM.to_string(),
            password: c.demo["staff"][1]["password"].as_str().unwrap().to_string(),
        });
        let state = format!("karim-{n}");
        let karims = code(&karim.get(&authorize(&c, &c.nodes[n], &state)), &state);
        let (status, answer) = token(&c, &c.nodes[n], &karims);
        assert_eq!(status, 200, "node {}: {answer}", n + 1);
        let state = format!("anna-{n}");
        let annas = code(&browser.get(&authorize(&c, &c.nodes[n], &state)), &state);
        let (status, answer) = token(&c, &c.nodes[n], &annas);
        assert_eq!(status, 200, "node {}: {answer}", n + 1);
        assert_eq!(
            jwt::payload(answer["id_token"].as_str().unwrap())["sub"],
            sub
        );
    }
    assert_eq!(browser.logins(), 1);
    for n in 1..=3 {
        let log = std::fs::read_to_string(c.dir().join(format!("node-{n}.log"))).unwrap();
        assert!(!log.contains("status=5"), "node {n} answered a 5xx");
    }
}
