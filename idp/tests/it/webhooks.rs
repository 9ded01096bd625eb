//! Change notifications: a party with a webhook hears, by a signed Security Event Token, when
//! a school that registered it changes its data, registers or withdraws it, and when a new
//! school year begins — never anything personal, each event once across nodes, and failed
//! posts again later.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use broker::admin::{ClientInput, RegisterOptions};
use broker::repo::OutboxEvent;
use claims::InstellingRef;
use idp::app::AppState;
use serde_json::Value;

use crate::on_both_backends;
use crate::support::{ctx, run, TestDb};

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;
const SCHOOL_DATA: &str = "urn:leerpoort:events:schoolgegevens-gewijzigd";
const GIVEN: &str = "urn:leerpoort:events:toestemming-gegeven";
const WITHDRAWN: &str = "urn:leerpoort:events:toestemming-ingetrokken";
const SET: &str = "urn:leerpoort:events:webhook-ingesteld";
const YEAR: &str = "urn:leerpoort:events:schooljaar-begonnen";

/// One post the receiver took.
#[derive(Debug, Clone)]
struct Post {
    path: String,
    content_type: String,
    token: String,
}

/// A party's webhook on loopback: it answers each post with the next of `statuses` (then
/// 202), and keeps what it was sent.
struct Receiver {
    base: String,
    posts: Arc<Mutex<Vec<Post>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let posts = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(Mutex::new(VecDeque::new()));
        let (kept, answers) = (posts.clone(), statuses.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let (kept, answers) = (kept.clone(), answers.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let (mut length, mut content_type, mut path) =
                        (0, String::new(), String::new());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if path.is_empty() {
                            path = line.split(' ').nth(1).unwrap_or("").to_string();
                        }
                        let l = line.to_ascii_lowercase();
                        if let Some(v) = l.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if let Some(v) = l.strip_prefix("content-type:") {
                            content_type = v.trim().to_string();
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0u8; length];
                    reader.read_exact(&mut body).unwrap();
                    let status = answers.lock().unwrap().pop_front().unwrap_or(202);
                    kept.lock().unwrap().push(Post {
                        path,
                        content_type,
                        token: String::from_utf8(body).unwrap(),
                    });
                    let answer = if status == 400 {
                        r#"{"err":"invalid_request","description":"no"}"#
                    } else {
                        ""
                    };
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                });
            }
        });
        Self {
            base,
            posts,
            statuses,
        }
    }

    fn url(&self, party: &str) -> String {
        format!("{}/hook/{party}", self.base)
    }

    fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }

    /// The events posted to `party`'s webhook: (type URI, event body, all claims).
    fn events(&self, party: &str) -> Vec<(String, Value, Value)> {
        self.posts()
            .into_iter()
            .filter(|p| p.path == format!("/hook/{party}"))
            .map(|p| {
                let claims = part(&p.token, 1);
                let (uri, body) = claims["events"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .next()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .unwrap();
                (uri, body, claims)
            })
            .collect()
    }

    fn kinds(&self, party: &str) -> Vec<String> {
        self.events(party).into_iter().map(|e| e.0).collect()
    }
}

fn part(jwt: &str, i: usize) -> Value {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwt.split('.').nth(i).unwrap())
        .unwrap();
    serde_json::from_slice(&b).unwrap()
}

/// Check `jwt`'s ES256 signature with `ring` against the key of `jwks` its header names.
fn verify(jwt: &str, jwks: &Value) {
    let header = part(jwt, 0);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "secevent+jwt");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the token's key is published");
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v.as_str().unwrap())
            .unwrap()
    };
    let mut point = vec![4u8];
    point.extend(b64(&key["x"]));
    point.extend(b64(&key["y"]));
    let (input, sig) = jwt.rsplit_once('.').unwrap();
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .unwrap();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(input.as_bytes(), &sig)
        .expect("the signature holds");
}

/// A publisher `id` with its webhook at `hook`; registered by the demo school when `registered`.
fn party(state: &AppState, id: &str, hook: &Receiver, registered: bool) {
    broker::admin::add_client(
        ctx(state),
        ClientInput {
            name: format!("Uitgeverij {id}"),
            kind: "publisher".into(),
            redirect_uris: vec![format!("http://127.0.0.1:9/{id}/callback")],
            audience: "beide".into(),
            id_token_alg: "ES256".into(),
            client_id: Some(id.into()),
            webhook_uri: Some(hook.url(id)),
            ..Default::default()
        },
    )
    .unwrap();
    if registered {
        register(state, id);
    }
}

fn register(state: &AppState, id: &str) {
    broker::admin::register(ctx(state), &school(), id, RegisterOptions::default()).unwrap();
}

fn school() -> InstellingRef {
    SCHOOL.parse().unwrap()
}

fn add_group(state: &AppState, key: &str) {
    broker::admin::add_group(
        ctx(state),
        &school(),
        key,
        &format!("Groep {key}"),
        Some("5"),
        false,
    )
    .unwrap();
}

async fn deliver(state: &AppState, node: &str) -> usize {
    idp::webhooks::deliver_due(state, &idp::webhooks::http_client(), node)
        .await
        .unwrap()
}

fn outbox(state: &AppState, id: &str) -> Vec<OutboxEvent> {
    let rp = state.dir.relying_party_by_public_id(id).unwrap().unwrap();
    state.dir.webhook_events(rp.id, 100).unwrap()
}

/// A data change at the school reaches the parties it registered, once, signed, saying only
/// what to fetch; a party elsewhere hears nothing of it.
fn a_change_reaches_the_schools_parties(db: &TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let (state, _clock) = crate::school_year::state_on(db, tmp.path());
    idp::demo::seed(&state).unwrap();
    let hook = Receiver::start();
    party(&state, "hier", &hook, true);
    party(&state, "elders", &hook, false);
    run(async {
        // Setting a webhook sends a first event there; registering is told to the party.
        assert_eq!(deliver(&state, "a").await, 3);
    });
    assert_eq!(hook.kinds("hier"), [SET, GIVEN]);
    assert_eq!(hook.kinds("elders"), [SET]);

    // Three changes before the next round: one event says "fetch the school again".
    add_group(&state, "5x");
    add_group(&state, "5y");
    add_group(&state, "5z");
    run(async {
        assert_eq!(deliver(&state, "a").await, 1);
        assert_eq!(deliver(&state, "a").await, 0, "delivered once");
    });
    let events = hook.events("hier");
    assert_eq!(events.len(), 3);
    let (uri, body, claims) = &events[2];
    assert_eq!(uri, SCHOOL_DATA);
    assert_eq!(body["instellingRef"], SCHOOL);
    assert_eq!(
        body["ophalen"],
        format!("{}/api/schooldata/v1/scholen/{SCHOOL}", state.config.issuer)
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "only what to fetch: {body}"
    );
    assert_eq!(claims["aud"], "hier");
    assert_eq!(claims["iss"], state.config.issuer);
    assert!(claims["jti"].as_str().unwrap().len() >= 32);
    assert!(claims["toe"].as_i64().is_some() && claims["iat"].as_i64().is_some());
    assert_eq!(
        hook.kinds("elders"),
        [SET],
        "another school's party hears nothing"
    );

    // Every post: RFC 8935's media type, signed with the published key, nothing personal.
    let jwks = state.keys.jwks(state.clock.now_secs());
    for p in hook.posts() {
        assert_eq!(p.content_type, "application/secevent+jwt");
        verify(&p.token, &jwks);
        let claims = part(&p.token, 1).to_string();
        for personal in ["Emma", "Groep 5x", "eck", "@"] {
            assert!(!claims.contains(personal), "{personal} in {claims}");
        }
    }
    // The operator's view: all delivered, one attempt each.
    let seen = outbox(&state, "hier");
    assert_eq!(seen.len(), 3);
    assert!(seen
        .iter()
        .all(|e| e.delivered_at.is_some() && e.attempts == 1 && e.last_error.is_none()));
}

on_both_backends!(
    a_change_reaches_only_the_parties_the_school_registered,
    |db: &TestDb| { a_change_reaches_the_schools_parties(db) }
);

/// A school that withdraws a party tells it so, and its changes are no longer told.
fn withdrawal_is_the_last_word(db: &TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let (state, _clock) = crate::school_year::state_on(db, tmp.path());
    idp::demo::seed(&state).unwrap();
    let hook = Receiver::start();
    party(&state, "weg", &hook, true);
    broker::admin::deregister(ctx(&state), &school(), "weg").unwrap();
    add_group(&state, "6x");
    run(async {
        deliver(&state, "a").await;
    });
    let events = hook.events("weg");
    assert_eq!(
        events.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        [SET, GIVEN, WITHDRAWN]
    );
    assert_eq!(events[2].1["instellingRef"], SCHOOL);
    assert_eq!(
        events[2].1["ophalen"],
        format!("{}/api/schooldata/v1/toestemmingen", state.config.issuer)
    );
    // Registered again: it hears of changes again.
    register(&state, "weg");
    add_group(&state, "6y");
    run(async {
        deliver(&state, "a").await;
    });
    assert_eq!(hook.kinds("weg")[3..], [GIVEN, SCHOOL_DATA]);
}

on_both_backends!(
    a_withdrawn_party_hears_the_withdrawal_and_nothing_after,
    |db: &TestDb| { withdrawal_is_the_last_word(db) }
);

/// Two nodes deliver the same outbox at the same time: every event arrives exactly once.
fn two_nodes_deliver_each_event_once(db: &TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let (a, _) = crate::school_year::state_on(db, tmp.path());
    let (b, _) = crate::school_year::state_on(db, tmp.path());
    let hook = Receiver::start();
    for i in 0..30 {
        party(&a, &format!("p{i}"), &hook, false);
    }
    run(async {
        let mut total = 0;
        for _ in 0..3 {
            let (x, y) =
                futures_util::future::join(deliver(&a, "node-a"), deliver(&b, "node-b")).await;
            total += x + y;
        }
        assert_eq!(total, 30);
    });
    let mut per_jti: HashMap<String, usize> = HashMap::new();
    for p in hook.posts() {
        *per_jti
            .entry(part(&p.token, 1)["jti"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_jti.len(), 30);
    assert!(per_jti.values().all(|n| *n == 1), "{per_jti:?}");
}

on_both_backends!(two_nodes_deliver_each_event_exactly_once, |db: &TestDb| {
    two_nodes_deliver_each_event_once(db)
});

#[test]
fn a_failed_post_is_tried_again_later_with_the_same_id_and_a_refusal_is_given_up() {
    let db = TestDb::sqlite();
    let tmp = tempfile::tempdir().unwrap();
    let (state, clock) = crate::school_year::state_on(&db, tmp.path());
    let hook = Receiver::start();
    hook.statuses.lock().unwrap().extend([503, 429]);
    party(&state, "traag", &hook, false);
    run(async {
        assert_eq!(deliver(&state, "a").await, 0);
        // Not due yet: nothing is posted.
        assert_eq!(deliver(&state, "a").await, 0);
    });
    assert_eq!(hook.posts().len(), 1);
    let e = &outbox(&state, "traag")[0];
    assert_eq!(
        (e.attempts, e.last_error.as_deref()),
        (1, Some("status 503"))
    );
    let wait = e.next_attempt_at - state.clock.now_secs();
    assert!((30..=36).contains(&wait), "{wait}");

    clock.advance(std::time::Duration::from_secs(40));
    run(async {
        assert_eq!(deliver(&state, "a").await, 0);
    });
    let e = &outbox(&state, "traag")[0];
    let wait = e.next_attempt_at - state.clock.now_secs();
    assert!((60..=72).contains(&wait), "doubled: {wait}");
    clock.advance(std::time::Duration::from_secs(80));
    run(async {
        assert_eq!(deliver(&state, "a").await, 1);
    });
    let posts = hook.posts();
    assert_eq!(posts.len(), 3);
    let jtis: Vec<Value> = posts
        .iter()
        .map(|p| part(&p.token, 1)["jti"].clone())
        .collect();
    assert!(
        jtis.iter().all(|j| *j == jtis[0]),
        "one event, one id: {jtis:?}"
    );

    // A 400 (RFC 8935's refusal) is not tried again; the operator sees why, and may retry.
    hook.statuses.lock().unwrap().push_back(400);
    let rp = state
        .dir
        .relying_party_by_public_id("traag")
        .unwrap()
        .unwrap();
    broker::admin::set_webhook(ctx(&state), &rp, Some(&hook.url("traag"))).unwrap();
    run(async {
        assert_eq!(deliver(&state, "a").await, 0);
    });
    clock.advance(std::time::Duration::from_secs(7200));
    run(async {
        assert_eq!(deliver(&state, "a").await, 0);
    });
    assert_eq!(hook.posts().len(), 4);
    let refused = &outbox(&state, "traag")[0];
    assert!(refused.failed_at.is_some());
    assert_eq!(
        refused.last_error.as_deref(),
        Some("status 400 (invalid_request)")
    );
    assert_eq!(broker::admin::retry_webhooks(ctx(&state), &rp).unwrap(), 1);
    run(async {
        assert_eq!(deliver(&state, "a").await, 1);
    });
    assert!(outbox(&state, "traag")[0].delivered_at.is_some());
}

#[test]
fn a_webhook_must_be_https_and_no_las_gets_one() {
    let db = TestDb::sqlite();
    let tmp = tempfile::tempdir().unwrap();
    let (state, _) = crate::school_year::state_on(&db, tmp.path());
    for url in [
        "http://uitgever.example/hook",
        "ftp://127.0.0.1/x",
        "niet een url",
    ] {
        let r = broker::admin::add_client(
            ctx(&state),
            ClientInput {
                name: "Uitgeverij".into(),
                kind: "publisher".into(),
                redirect_uris: vec!["https://uitgever.example/cb".into()],
                audience: "beide".into(),
                id_token_alg: "ES256".into(),
                webhook_uri: Some(url.into()),
                ..Default::default()
            },
        );
        assert!(r.is_err(), "{url}");
    }
    assert!(
        state.dir.relying_parties().unwrap().is_empty(),
        "nothing kept"
    );
}

#[test]
fn a_new_school_year_is_told_once_to_every_registered_party() {
    let db = TestDb::sqlite();
    let tmp = tempfile::tempdir().unwrap();
    let (state, clock) = crate::school_year::state_on(&db, tmp.path());
    idp::demo::seed(&state).unwrap();
    let hook = Receiver::start();
    party(&state, "jaar", &hook, true);
    party(&state, "nergens", &hook, false);
    // The first time the year is only noted.
    assert!(!broker::webhooks::announce_school_year(&state.world(), "scheduler").unwrap());
    // 1 August 2027, 00:00:30 in Amsterdam (22:00:30 UTC the day before).
    let next = broker::import::staging::begins("2027-2028").unwrap();
    clock.set_secs(next - 60);
    assert!(!broker::webhooks::announce_school_year(&state.world(), "scheduler").unwrap());
    clock.set_secs(next + 30);
    assert!(idp::scheduler::school_year(&state, "node").is_ok());
    assert!(!broker::webhooks::announce_school_year(&state.world(), "scheduler").unwrap());
    run(async {
        deliver(&state, "a").await;
    });
    let years: Vec<_> = hook
        .events("jaar")
        .into_iter()
        .filter(|e| e.0 == YEAR)
        .collect();
    assert_eq!(years.len(), 1);
    assert_eq!(years[0].1["schooljaar"], "2027-2028");
    assert!(years[0].1.get("instellingRef").is_none());
    assert!(!hook.kinds("nergens").contains(&YEAR.to_string()));
}

#[test]
fn the_operator_sets_a_webhook_and_reads_its_events_on_the_command_line() {
    let db = TestDb::sqlite();
    let env = crate::cli::Env::on(&db.url);
    let hook = Receiver::start();
    env.ok(&[
        "client",
        "add",
        "--name",
        "Uitgeverij Cli",
        "--client-id",
        "cli-uitgever",
        "--redirect-uri",
        "https://cli.example/cb",
    ]);
    let set = env.ok(&[
        "client",
        "webhook",
        "--rp",
        "cli-uitgever",
        "--uri",
        &hook.url("cli"),
    ]);
    assert_eq!(set["webhook_uri"], hook.url("cli"));
    let events = env.ok(&["client", "events", "--rp", "cli-uitgever"]);
    assert_eq!(events["webhook_uri"], hook.url("cli"));
    assert_eq!(events["events"][0]["event"], SET);
    assert_eq!(events["events"][0]["status"], "waiting");
    let off = env.ok(&["client", "webhook", "--rp", "cli-uitgever", "--off"]);
    assert_eq!(off["webhook_uri"], Value::Null);
    let events = env.ok(&["client", "events", "--rp", "cli-uitgever"]);
    assert_eq!(events["webhook_uri"], Value::Null);
}
