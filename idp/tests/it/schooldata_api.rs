//! The school-data API in process: a publisher's own client (scope `schooldata`) sees the
//! schools that registered it and, of each, only what the school releases to it, every person
//! by its own pairwise `sub`. A school that did not register it, or withdrew, answers as one that
//! does not exist; another publisher's people stay invisible; the feed tells grants and
//! withdrawals; people are found by ECK-iD only where the school releases ECK-iDs; reads are
//! throttled per client.

use std::collections::BTreeSet;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test as at;
use broker::admin;
use broker::model::RelyingParty;
use claims::{InstellingRef, Release};
use idp::app::AppState;
use idp::demo::{DEMO_CLIENT_ID, DEMO_SCHOOL_REF};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::mergers::Site;
use crate::on_both_backends;
use crate::school::demo_app;
use crate::support::browser::Browser;
use crate::support::client::{basic, token, token_answer};
use crate::support::TestDb;
use crate::support::{ctx, run};

const API: &str = "/api/schooldata/v1";
/// The fixed clock's moment (2026-11-23 08:30 UTC), when the demo was seeded.
const MONDAY: i64 = 1_795_422_600;

fn demo_school() -> InstellingRef {
    DEMO_SCHOOL_REF.parse().unwrap()
}

/// A well-formed ECK-iD no demo user has.
fn eck(n: u8) -> String {
    format!(
        "https://ketenid.nl/201703/{}",
        format!("{n:02x}").repeat(64)
    )
}

/// What the API answered.
struct Answer {
    status: StatusCode,
    content_type: String,
    headers: HeaderMap,
    body: Value,
}

async fn send<S, B>(app: &S, req: at::TestRequest, bearer: Option<&str>) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = match bearer {
        Some(t) => req.insert_header(("authorization", format!("Bearer {t}"))),
        None => req,
    };
    let res = at::call_service(app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = at::read_body(res).await;
    Answer {
        status,
        content_type,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn get<S, B>(app: &S, path: &str, bearer: Option<&str>) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(
        app,
        at::TestRequest::get().uri(&format!("{API}{path}")),
        bearer,
    )
    .await
}

/// POST `personen/zoeken` with `body`.
async fn lookup<S, B>(app: &S, bearer: Option<&str>, body: Value) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = at::TestRequest::post()
        .uri(&format!("{API}/personen/zoeken"))
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string());
    send(app, req, bearer).await
}

fn demo_secret(demo: &Value) -> String {
    demo["oidc_client"]["client_secret"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A publisher's client: (relying party, client id, secret).
fn publisher(state: &AppState, name: &str, audience: &str) -> (RelyingParty, String, String) {
    let host = name.to_lowercase();
    let added = admin::add_client(
        ctx(state),
        admin::ClientInput {
            name: name.into(),
            kind: "publisher".into(),
            redirect_uris: vec![format!("https://{host}.example/cb")],
            audience: audience.into(),
            id_token_alg: "RS256".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let id = added.rp.public_id().to_string();
    (added.rp, id, added.client_secret.unwrap())
}

/// A second school, OBS De Linde (12AB00), with a group, two pupils and a teacher.
struct Linde {
    school: InstellingRef,
    noor: Uuid,
    noor_eck: String,
}

fn linde(state: &AppState) -> Linde {
    let c = ctx(state);
    let school = admin::add_school(
        c,
        admin::SchoolInput {
            brin: "12AB".into(),
            vestiging: "00".into(),
            name: "OBS De Linde".into(),
            networks: vec!["192.0.2.0/24".into()],
            board: None,
            instelling_ref: None,
        },
    )
    .unwrap()
    .instelling_ref;
    admin::add_group(c, &school, "groep-5", "Groep 5", Some("5"), false).unwrap();
    let mut ids = Vec::new();
    for (given, role, n) in [
        ("Noor", "leerling", 1),
        ("Ravi", "leerling", 2),
        ("Bas", "leerkracht", 3),
    ] {
        let added = admin::add_user(
            c,
            state.credentials(),
            admin::UserInput {
                school: school.to_string(),
                role: role.into(),
                given_name: given.into(),
                family_name: "Linde".into(),
                groups: vec!["groep-5".into()],
                eck_id: Some(eck(n)),
                email: (role != "leerling")
                    .then(|| format!("{}@linde.example", given.to_lowercase())),
                ..Default::default()
            },
        )
        .unwrap();
        ids.push(added.user.id);
    }
    Linde {
        school,
        noor: ids[0],
        noor_eck: eck(1),
    }
}

fn subs_of(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["sub"].as_str().unwrap().to_string())
        .collect()
}

fn sub_at(state: &AppState, rp: &RelyingParty, user: Uuid) -> String {
    let u = state.dir.user(user).unwrap().unwrap();
    broker::release::subject_for(&state.pseudonyms, rp, &u)
        .unwrap()
        .as_str()
        .to_string()
}

fn eck_of(state: &AppState, user: Uuid) -> String {
    state
        .dir
        .user(user)
        .unwrap()
        .unwrap()
        .eck_id
        .unwrap()
        .as_str()
        .to_string()
}

/// The INSTELLING_REFs of a list of schools.
fn refs_of(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["instellingRef"].as_str().unwrap().to_string())
        .collect()
}

/// The number of pupils of `school` who may sign in.
fn pupils_at(state: &AppState, school: &InstellingRef) -> usize {
    state
        .dir
        .users_of_school(school)
        .unwrap()
        .iter()
        .filter(|u| u.is_pupil() && u.status.may_sign_in())
        .count()
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

on_both_backends!(
    a_publisher_sees_only_what_the_schools_that_registered_it_release,
    |db: &TestDb| run(async {
        let site = Site::on(db);
        let st = &site.state;
        let app = at::init_service(idp::server::app(st.clone())).await;
        let demo = demo_school();
        let linde = linde(st);
        let rekenwereld = site.client();
        let (taal, taal_id, taal_secret) = publisher(st, "Taalwereld", "beide");
        admin::register(
            ctx(st),
            &linde.school,
            &taal_id,
            admin::RegisterOptions::default(),
        )
        .unwrap();
        admin::register(
            ctx(st),
            &demo,
            &taal_id,
            admin::RegisterOptions {
                release: Release {
                    eckid: false,
                    names: true,
                    groups: false,
                },
                home_allowed: true,
            },
        )
        .unwrap();
        let secret = demo_secret(&site.demo);
        let reken_at = token(&app, (DEMO_CLIENT_ID, &secret), "schooldata").await;
        let taal_at = token(&app, (&taal_id, &taal_secret), "schooldata").await;

        // The demo publisher: the demo school alone, with what it releases.
        let a = get(&app, "/scholen", Some(&reken_at)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.headers.get("cache-control").unwrap(), "no-store");
        let listed = refs_of(&a.body["scholen"]);
        assert_eq!(a.body["totaal"], listed.len(), "{}", a.body);
        assert!(listed.contains(DEMO_SCHOOL_REF), "{}", a.body);
        assert!(!listed.contains(&linde.school.to_string()), "{}", a.body);
        let s = a.body["scholen"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["instellingRef"] == DEMO_SCHOOL_REF)
            .unwrap();
        assert_eq!(s["brin6"], "99ZZ00");
        assert_eq!(s["naam"], "Basisschool De Regenboog");
        assert_eq!(s["status"], "toegestaan");
        assert_eq!(s["sinds"], "2026-11-23T08:30:00Z");
        assert_eq!(
            s["vrijgegeven"],
            json!({"eckId": true, "namen": false, "groepen": true})
        );
        assert_eq!(s["thuisToegestaan"], true);
        let one = get(
            &app,
            &format!("/scholen/{DEMO_SCHOOL_REF}"),
            Some(&reken_at),
        )
        .await;
        assert_eq!(&one.body, s);

        // Its pupils, by its own sub, with ECK-iD and groups and without names.
        let a = get(
            &app,
            &format!("/scholen/{DEMO_SCHOOL_REF}/leerlingen"),
            Some(&reken_at),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let pupils = site.pupils(&demo);
        assert_eq!(a.body["totaal"], pupils.len());
        let expected: BTreeSet<String> = site.subs(&pupils).into_values().collect();
        let reken_subs = subs_of(&a.body["leerlingen"]);
        assert_eq!(reken_subs, expected);
        let emma = site.pupil("Emma de Jong");
        let emma_sub = sub_at(st, &rekenwereld, emma);
        let shown = a.body["leerlingen"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["sub"] == emma_sub.as_str())
            .unwrap()
            .clone();
        assert_eq!(
            shown,
            json!({"sub": emma_sub, "rol": "leerling", "eckId": eck_of(st, emma),
                "groepen": ["groep-3a"]})
        );
        let staff = get(
            &app,
            &format!("/scholen/{DEMO_SCHOOL_REF}/medewerkers"),
            Some(&reken_at),
        )
        .await;
        assert_eq!(staff.body["totaal"], 3, "{}", staff.body);
        let roles: BTreeSet<&str> = staff.body["medewerkers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["rol"].as_str().unwrap())
            .collect();
        assert_eq!(roles, BTreeSet::from(["ict-coordinator", "leerkracht"]));
        let groups = get(
            &app,
            &format!("/scholen/{DEMO_SCHOOL_REF}/groepen"),
            Some(&reken_at),
        )
        .await;
        assert_eq!(groups.body["totaal"], 3, "{}", groups.body);
        assert!(groups.body["groepen"].as_array().unwrap().contains(
            &json!({"sleutel": "groep-3a", "naam": "Groep 3A", "jaargroep": 3,
                "combinatiegroep": false, "schooljaar": "2026-2027"})
        ));

        // The school that did not register it answers as one that does not exist, everywhere.
        let unknown = InstellingRef::new_random();
        for tail in ["", "/groepen", "/leerlingen", "/medewerkers"] {
            let a = get(
                &app,
                &format!("/scholen/{}{tail}", linde.school),
                Some(&reken_at),
            )
            .await;
            let b = get(&app, &format!("/scholen/{unknown}{tail}"), Some(&reken_at)).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{tail}: {}", a.body);
            assert_eq!(a.content_type, "application/problem+json");
            assert_eq!(a.body, b.body, "{tail}");
        }
        // Its people stay invisible by ECK-iD as well; to Taalwereld, which it registered,
        // Noor is there under Taalwereld's sub.
        let a = lookup(&app, Some(&reken_at), json!({"eckIds": [linde.noor_eck]})).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.body["personen"], json!([]));
        let a = lookup(&app, Some(&taal_at), json!({"eckIds": [linde.noor_eck]})).await;
        assert_eq!(
            a.body["personen"].as_array().unwrap().len(),
            1,
            "{}",
            a.body
        );
        let noor = &a.body["personen"][0];
        assert_eq!(noor["sub"], sub_at(st, &taal, linde.noor).as_str());
        assert_eq!(noor["instellingRef"], linde.school.to_string());
        assert_eq!(noor["eckId"], linde.noor_eck.as_str());

        // Taalwereld sees both schools; at De Regenboog names, but no ECK-iD and no groups, and
        // its own subs, none of which is the demo publisher's.
        let a = get(&app, "/scholen", Some(&taal_at)).await;
        let refs: BTreeSet<&str> = a.body["scholen"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["instellingRef"].as_str().unwrap())
            .collect();
        let linde_ref = linde.school.to_string();
        assert_eq!(refs, BTreeSet::from([DEMO_SCHOOL_REF, linde_ref.as_str()]));
        let a = get(
            &app,
            &format!("/scholen/{DEMO_SCHOOL_REF}/leerlingen"),
            Some(&taal_at),
        )
        .await;
        let taal_subs = subs_of(&a.body["leerlingen"]);
        assert_eq!(taal_subs.len(), pupils.len());
        assert!(taal_subs.is_disjoint(&reken_subs));
        assert!(taal_subs.contains(&sub_at(st, &taal, emma)));
        for p in a.body["leerlingen"].as_array().unwrap() {
            assert_eq!(
                keys(p),
                BTreeSet::from(["sub", "rol", "voornaam", "achternaam"]),
                "{p}"
            );
        }
        assert!(a.body["leerlingen"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["voornaam"] == "Emma" && p["achternaam"] == "de Jong"));
        let g = get(
            &app,
            &format!("/scholen/{DEMO_SCHOOL_REF}/groepen"),
            Some(&taal_at),
        )
        .await;
        assert_eq!(
            (g.body["totaal"].clone(), g.body["groepen"].clone()),
            (json!(0), json!([]))
        );
        let a = lookup(&app, Some(&taal_at), json!({"eckIds": [eck_of(st, emma)]})).await;
        assert_eq!(
            a.body["personen"],
            json!([]),
            "De Regenboog keeps ECK-iDs from it"
        );

        // De Regenboog withdraws Taalwereld: it sees nothing of the school any more, and the
        // feed tells it the withdrawal and nothing else.
        site.clock.advance(std::time::Duration::from_secs(60));
        admin::deregister(ctx(st), &demo, &taal_id).unwrap();
        for tail in ["", "/groepen", "/leerlingen", "/medewerkers"] {
            let a = get(
                &app,
                &format!("/scholen/{DEMO_SCHOOL_REF}{tail}"),
                Some(&taal_at),
            )
            .await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{tail}");
        }
        let a = get(&app, "/scholen", Some(&taal_at)).await;
        assert_eq!(a.body["totaal"], 1);
        assert_eq!(a.body["scholen"][0]["instellingRef"], linde_ref.as_str());
        let feed = get(
            &app,
            &format!("/toestemmingen?sinds={}", MONDAY + 30),
            Some(&taal_at),
        )
        .await;
        assert_eq!(feed.status, StatusCode::OK, "{}", feed.body);
        assert_eq!(
            feed.body["toestemmingen"],
            json!([{"instellingRef": DEMO_SCHOOL_REF, "status": "ingetrokken",
                "tijdstip": "2026-11-23T08:31:00Z"}])
        );

        // A publisher no school registered sees nothing at all.
        let (_, stil_id, stil_secret) = publisher(st, "Stilwereld", "beide");
        let stil_at = token(&app, (&stil_id, &stil_secret), "schooldata").await;
        let a = get(&app, "/scholen", Some(&stil_at)).await;
        assert_eq!(
            (
                a.status,
                a.body["totaal"].clone(),
                a.body["scholen"].clone()
            ),
            (StatusCode::OK, json!(0), json!([]))
        );
        let a = get(&app, &format!("/scholen/{DEMO_SCHOOL_REF}"), Some(&stil_at)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        let a = lookup(&app, Some(&stil_at), json!({"eckIds": [eck_of(st, emma)]})).await;
        assert_eq!(a.body["personen"], json!([]));
        let a = get(&app, "/toestemmingen?sinds=0", Some(&stil_at)).await;
        assert_eq!(a.body["toestemmingen"], json!([]));
    })
);

/// A teacher's access token from the demo publisher's code flow.
async fn user_token<S, B>(app: &S, secret: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut b = Browser::new();
    b.sign_in(app, "anna.devries@regenboog.example").await;
    let (status, to, body) = b
        .get(
            app,
            "/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&state=s1&prompt=none",
        )
        .await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    let code = url::Url::parse(&to)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("a code: {to}"));
    let req = at::TestRequest::post()
        .uri("/oidc/token")
        .insert_header(("authorization", basic(DEMO_CLIENT_ID, secret)))
        .set_form([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:8081/callback"),
        ])
        .to_request();
    let res = at::call_service(app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let t: Value = at::read_body_json(res).await;
    t["access_token"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn the_api_refuses_callers_it_is_not_for() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let secret = demo_secret(&demo);
    let path = format!("/scholen/{DEMO_SCHOOL_REF}/leerlingen");

    // No token: 401 with a challenge that names no error.
    let a = get(&app, &path, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.content_type, "application/problem+json");
    assert_eq!(
        a.headers.get("www-authenticate").unwrap(),
        "Bearer realm=\"leerpoort\""
    );
    let a = lookup(&app, None, json!({"eckIds": []})).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);

    // A forged token: 401, invalid_token.
    let good = token(&app, (DEMO_CLIENT_ID, &secret), "schooldata").await;
    let forged = format!("{}x", &good[..good.len() - 1]);
    let a = get(&app, &path, Some(&forged)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.headers.get("www-authenticate").unwrap(),
        "Bearer realm=\"leerpoort\", error=\"invalid_token\""
    );

    // The licence scope is not this API's: 403.
    let licences = token(&app, (DEMO_CLIENT_ID, &secret), "licenties").await;
    let a = get(&app, &path, Some(&licences)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(
        a.body["detail"].as_str().unwrap().contains("schooldata"),
        "{}",
        a.body
    );

    // A user's token is not a client's own: 403, though the client may call the API.
    let user = user_token(&app, &secret).await;
    let a = get(&app, &path, Some(&user)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(a.body["detail"].as_str().unwrap().contains("not a user's"));

    // An LAS cannot ask for the scope, and its own token opens nothing here.
    let las = broker::import::las::add_las(ctx(&t.state), "ParnasSys", None).unwrap();
    let las_client = (las.las.rp.public_id().to_string(), las.client_secret);
    let (status, body) = token_answer(&app, (&las_client.0, &las_client.1), "schooldata").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_scope");
    let las_at = token(&app, (&las_client.0, &las_client.1), "las").await;
    let a = get(&app, &path, Some(&las_at)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // The client's own token with the scope: in.
    let a = get(&app, &path, Some(&good)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[actix_web::test]
async fn lists_page_with_limit_and_offset() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let at = token(&app, (DEMO_CLIENT_ID, &demo_secret(&demo)), "schooldata").await;
    let path = format!("/scholen/{DEMO_SCHOOL_REF}/leerlingen");
    let all = get(&app, &path, Some(&at)).await;
    assert_eq!(all.body["limit"], 100);
    assert_eq!(all.body["offset"], 0);
    let total = all.body["totaal"].as_u64().unwrap();
    assert_eq!(total as usize, pupils_at(&t.state, &demo_school()));
    assert!(
        (11..=15).contains(&total),
        "the pages below cover the list: {total}"
    );

    let mut paged = Vec::new();
    for offset in [0, 5, 10, 15] {
        let a = get(&app, &format!("{path}?limit=5&offset={offset}"), Some(&at)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.body["totaal"], total, "the total whatever the page");
        assert_eq!(a.body["limit"], 5);
        paged.extend(a.body["leerlingen"].as_array().unwrap().clone());
    }
    assert_eq!(
        Value::Array(paged),
        all.body["leerlingen"],
        "the pages, in order, are the list"
    );
    let last = get(&app, &format!("{path}?limit=5&offset=10"), Some(&at)).await;
    assert_eq!(
        last.body["leerlingen"].as_array().unwrap().len() as u64,
        total - 10
    );

    for bad in ["limit=0", "limit=1001", "limit=vijf", "offset=-1"] {
        let a = get(&app, &format!("{path}?{bad}"), Some(&at)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(a.content_type, "application/problem+json");
    }
    // The caller is checked first: without a token a bad query is a 401.
    let a = get(&app, &format!("{path}?limit=0"), None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn the_feed_tells_grants_and_withdrawals_since_a_moment() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let at = token(&app, (DEMO_CLIENT_ID, &demo_secret(&demo)), "schooldata").await;

    // Since the demo was seeded: the demo school's grant, with what it releases.
    let a = get(&app, &format!("/toestemmingen?sinds={MONDAY}"), Some(&at)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let g = a.body["toestemmingen"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["instellingRef"] == DEMO_SCHOOL_REF)
        .unwrap_or_else(|| panic!("the demo school: {}", a.body));
    assert_eq!(g["status"], "toegestaan");
    assert_eq!(g["tijdstip"], "2026-11-23T08:30:00Z");
    assert_eq!(g["vrijgegeven"]["eckId"], true);
    assert_eq!(a.body["sinds"], "2026-11-23T08:30:00Z");
    assert_eq!(a.body["volgendeSinds"], "2026-11-23T08:30:00Z");
    // A second later (RFC 3339, with an offset): nothing.
    let a = get(
        &app,
        "/toestemmingen?sinds=2026-11-23T09:30:01%2B01:00",
        Some(&at),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["toestemmingen"], json!([]));

    // Two minutes on a second school allows it; a minute later the demo school withdraws it.
    t.clock.advance(std::time::Duration::from_secs(120));
    let linde = linde(&t.state);
    admin::register(
        ctx(&t.state),
        &linde.school,
        DEMO_CLIENT_ID,
        admin::RegisterOptions::default(),
    )
    .unwrap();
    t.clock.advance(std::time::Duration::from_secs(60));
    admin::deregister(ctx(&t.state), &demo_school(), DEMO_CLIENT_ID).unwrap();
    let a = get(&app, "/toestemmingen?sinds=2026-11-23T08:31:00Z", Some(&at)).await;
    let feed = a.body["toestemmingen"].as_array().unwrap();
    assert_eq!(feed.len(), 2, "{}", a.body);
    assert_eq!(feed[0]["instellingRef"], linde.school.to_string());
    assert_eq!(feed[0]["status"], "toegestaan");
    assert_eq!(feed[0]["brin6"], "12AB00");
    assert_eq!(feed[0]["tijdstip"], "2026-11-23T08:32:00Z");
    assert_eq!(
        feed[1],
        json!({"instellingRef": DEMO_SCHOOL_REF, "status": "ingetrokken",
            "tijdstip": "2026-11-23T08:33:00Z"})
    );
    assert_eq!(a.body["volgendeSinds"], "2026-11-23T08:33:00Z");
    // Paged like every list.
    let a = get(
        &app,
        "/toestemmingen?sinds=2026-11-23T08:31:00Z&limit=1&offset=1",
        Some(&at),
    )
    .await;
    assert_eq!(a.body["totaal"], 2);
    assert_eq!(a.body["toestemmingen"], json!([feed[1]]));

    for bad in ["", "?sinds=gisteren", "?sinds=2026-11-23"] {
        let a = get(&app, &format!("/toestemmingen{bad}"), Some(&at)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(a.body["detail"].as_str().unwrap().contains("sinds"));
    }
}

#[actix_web::test]
async fn people_are_found_by_eck_id_only_where_the_school_releases_it() {
    let (t, demo) = demo_app();
    let st = &t.state;
    let app = at::init_service(idp::server::app(st.clone())).await;
    let secret = demo_secret(&demo);
    let at = token(&app, (DEMO_CLIENT_ID, &secret), "schooldata").await;
    let rekenwereld = st
        .dir
        .relying_party_by_public_id(DEMO_CLIENT_ID)
        .unwrap()
        .unwrap();
    let emma: Uuid = crate::school::pupil_id(&demo, "Emma de Jong")
        .parse()
        .unwrap();
    let anna = st
        .dir
        .user_by_email("anna.devries@regenboog.example")
        .unwrap()
        .unwrap()
        .id;
    let (emma_eck, anna_eck) = (eck_of(st, emma), eck_of(st, anna));

    // Known, unknown and the same again: each person once, in the order asked.
    let a = lookup(
        &app,
        Some(&at),
        json!({"eckIds": [anna_eck, eck(9), emma_eck, emma_eck]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        a.body["personen"],
        json!([
            {"eckId": anna_eck, "instellingRef": DEMO_SCHOOL_REF,
             "sub": sub_at(st, &rekenwereld, anna), "rol": "leerkracht", "groepen": ["groep-3a"]},
            {"eckId": emma_eck, "instellingRef": DEMO_SCHOOL_REF,
             "sub": sub_at(st, &rekenwereld, emma), "rol": "leerling", "groepen": ["groep-3a"]},
        ])
    );

    // What is not an ECK-iD is refused by its place, never echoed.
    let a = lookup(
        &app,
        Some(&at),
        json!({"eckIds": [emma_eck, "ECK-GEHEIM-123"]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let detail = a.body["detail"].as_str().unwrap();
    assert!(detail.contains("eckIds[1]"), "{detail}");
    assert!(!detail.contains("GEHEIM"), "{detail}");
    let many: Vec<String> = (0..=100u8).map(eck).collect();
    let a = lookup(&app, Some(&at), json!({ "eckIds": many })).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = lookup(&app, Some(&at), json!({"eckid": [emma_eck]})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "an unknown member");

    // A disabled pupil is not found, nor listed.
    let before = pupils_at(st, &demo_school());
    admin::disable_user(ctx(st), emma).unwrap();
    let a = lookup(&app, Some(&at), json!({"eckIds": [emma_eck]})).await;
    assert_eq!(a.body["personen"], json!([]));
    let a = get(
        &app,
        &format!("/scholen/{DEMO_SCHOOL_REF}/leerlingen"),
        Some(&at),
    )
    .await;
    assert_eq!(a.body["totaal"], before - 1);
    assert!(!subs_of(&a.body["leerlingen"]).contains(&sub_at(st, &rekenwereld, emma)));

    // Pupil software sees no staff: not listed, not found.
    let (_, pupils_id, pupils_secret) = publisher(st, "Kleuterwereld", "leerling");
    admin::register(
        ctx(st),
        &demo_school(),
        &pupils_id,
        admin::RegisterOptions::default(),
    )
    .unwrap();
    let kleuter_at = token(&app, (&pupils_id, &pupils_secret), "schooldata").await;
    let a = get(
        &app,
        &format!("/scholen/{DEMO_SCHOOL_REF}/medewerkers"),
        Some(&kleuter_at),
    )
    .await;
    assert_eq!(
        (a.status, a.body["totaal"].clone()),
        (StatusCode::OK, json!(0))
    );
    let a = lookup(&app, Some(&kleuter_at), json!({"eckIds": [anna_eck]})).await;
    assert_eq!(a.body["personen"], json!([]));

    // The school stops releasing ECK-iDs to the demo publisher: nobody is found by one, and
    // the lists carry none.
    admin::register(
        ctx(st),
        &demo_school(),
        DEMO_CLIENT_ID,
        admin::RegisterOptions {
            release: Release {
                eckid: false,
                names: false,
                groups: true,
            },
            home_allowed: true,
        },
    )
    .unwrap();
    let a = lookup(&app, Some(&at), json!({"eckIds": [anna_eck]})).await;
    assert_eq!(a.body["personen"], json!([]));
    let a = get(
        &app,
        &format!("/scholen/{DEMO_SCHOOL_REF}/medewerkers"),
        Some(&at),
    )
    .await;
    assert!(a.body["medewerkers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p.get("eckId").is_none() && p["groepen"].is_array()));
}

#[actix_web::test]
async fn a_merged_schools_ref_leads_to_the_school_it_merged_into() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let at = token(&app, (DEMO_CLIENT_ID, &demo_secret(&demo)), "schooldata").await;
    let rekenwereld = t
        .state
        .dir
        .relying_party_by_public_id(DEMO_CLIENT_ID)
        .unwrap()
        .unwrap();
    let linde = linde(&t.state);
    admin::register(
        ctx(&t.state),
        &linde.school,
        DEMO_CLIENT_ID,
        admin::RegisterOptions::default(),
    )
    .unwrap();
    t.clock.advance(std::time::Duration::from_secs(60));
    admin::merge(ctx(&t.state), &linde.school, &demo_school()).unwrap();

    let a = get(&app, &format!("/scholen/{}", linde.school), Some(&at)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["instellingRef"], DEMO_SCHOOL_REF);
    let a = get(
        &app,
        &format!("/scholen/{}/leerlingen", linde.school),
        Some(&at),
    )
    .await;
    assert_eq!(a.body["instellingRef"], DEMO_SCHOOL_REF);
    assert_eq!(a.body["totaal"], pupils_at(&t.state, &demo_school()));
    assert!(
        subs_of(&a.body["leerlingen"]).contains(&sub_at(&t.state, &rekenwereld, linde.noor)),
        "De Linde's pupils moved along"
    );
    let a = get(&app, "/scholen", Some(&at)).await;
    let listed = refs_of(&a.body["scholen"]);
    assert!(listed.contains(DEMO_SCHOOL_REF), "{}", a.body);
    assert!(!listed.contains(&linde.school.to_string()), "{}", a.body);
    let a = get(&app, "/toestemmingen?sinds=2026-11-23T08:31:00Z", Some(&at)).await;
    assert_eq!(
        a.body["toestemmingen"],
        json!([{"instellingRef": linde.school.to_string(), "status": "ingetrokken",
            "tijdstip": "2026-11-23T08:31:00Z"}])
    );
}

#[actix_web::test]
async fn reads_are_throttled_per_client() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let at = token(&app, (DEMO_CLIENT_ID, &demo_secret(&demo)), "schooldata").await;
    let (_, other_id, other_secret) = publisher(&t.state, "Taalwereld", "beide");
    let other_at = token(&app, (&other_id, &other_secret), "schooldata").await;

    let limit = idp::server::api::schooldata::REQUESTS_PER_WINDOW;
    for n in 0..limit {
        let a = get(&app, "/scholen/niet-een-uuid", Some(&at)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "request {n}");
    }
    let a = get(&app, "/scholen", Some(&at)).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.content_type, "application/problem+json");
    assert_eq!(a.headers.get("retry-after").unwrap(), "60");
    let a = lookup(&app, Some(&at), json!({"eckIds": []})).await;
    assert_eq!(
        a.status,
        StatusCode::TOO_MANY_REQUESTS,
        "every resource counts"
    );

    // Another client has its own allowance; the window slides.
    let a = get(&app, "/scholen", Some(&other_at)).await;
    assert_eq!(a.status, StatusCode::OK);
    t.clock.advance(std::time::Duration::from_secs(61));
    let a = get(&app, "/scholen", Some(&at)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}
