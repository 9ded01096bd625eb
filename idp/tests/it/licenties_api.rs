//! The licence API and the start page's tiles, in process: a publisher's own client (scope
//! `licenties`) keeps its titles and who holds them; a licence becomes a tile with its icon on
//! the holder's start page, and the tile opens the product. A publisher reaches only the
//! schools that registered it; what it names elsewhere comes back as unknown.

use actix_web::http::StatusCode;
use actix_web::test as at;
use base64::Engine as _;
use broker::admin::{ClientInput, RegisterOptions};
use claims::{LoginContext, Release};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::school::{demo_app, pupil_id, signed_in};
use crate::support::ctx;
use crate::support::TestDb;

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;
const API: &str = "/api/licenties/v1";
const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)"><script>alert(2)</script><circle cx="5" cy="5" r="4" fill="#e33"/></svg>"##;

fn svg_icon() -> String {
    format!(
        "image/svg+xml,{}",
        base64::engine::general_purpose::STANDARD.encode(ICON)
    )
}

/// A second publisher (`tweede`, secret `geheim-tweede-1`), registered by the demo school
/// with `release` when `registered`.
fn second_publisher(state: &idp::app::AppState, registered: Option<Release>) {
    broker::admin::add_client(
        ctx(state),
        ClientInput {
            name: "Tweede Uitgeverij".into(),
            kind: "publisher".into(),
            redirect_uris: vec!["http://127.0.0.1:8083/callback".into()],
            initiate_login_uri: Some("http://127.0.0.1:8083/login".into()),
            audience: "beide".into(),
            id_token_alg: "ES256".into(),
            client_id: Some("tweede".into()),
            client_secret: Some("geheim-tweede-1".into()),
            home_allowed: true,
            ..Default::default()
        },
    )
    .unwrap();
    if let Some(release) = registered {
        broker::admin::register(
            ctx(state),
            &SCHOOL.parse().unwrap(),
            "tweede",
            RegisterOptions {
                release,
                home_allowed: true,
            },
        )
        .unwrap();
    }
}

/// The `sub` the publisher `client` knows `user` by.
fn sub_of(state: &idp::app::AppState, client: &str, user: &str) -> String {
    let rp = state
        .dir
        .relying_party_by_public_id(client)
        .unwrap()
        .unwrap();
    let u = state.dir.user(user.parse().unwrap()).unwrap().unwrap();
    broker::release::subject_for(&state.pseudonyms, &rp, &u)
        .unwrap()
        .as_str()
        .to_string()
}

/// Everything the tests say to the server, with one app.
struct Api<S> {
    app: S,
}

impl<S, B> Api<S>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    async fn token(&self, client: (&str, &str), scope: &str) -> (StatusCode, Value) {
        crate::support::client::token_answer(&self.app, client, scope).await
    }

    async fn bearer(&self, client: (&str, &str)) -> String {
        crate::support::client::token(&self.app, client, "licenties").await
    }

    /// (status, content type, JSON body).
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, String, Value) {
        let req = match method {
            "GET" => at::TestRequest::get(),
            "PUT" => at::TestRequest::put(),
            "POST" => at::TestRequest::post(),
            "DELETE" => at::TestRequest::delete(),
            other => panic!("{other}"),
        }
        .uri(&format!("{API}{path}"));
        let req = match token {
            Some(t) => req.insert_header(("authorization", format!("Bearer {t}"))),
            None => req,
        };
        let req = match body {
            Some(b) => req
                .insert_header(("content-type", "application/json"))
                .set_payload(b.to_string()),
            None => req,
        };
        let res = at::call_service(&self.app, req.to_request()).await;
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = at::read_body(res).await;
        (
            status,
            ct,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }
}

fn demo_secret(demo: &Value) -> String {
    demo["oidc_client"]["client_secret"]
        .as_str()
        .unwrap()
        .to_string()
}

#[actix_web::test]
async fn a_pushed_licence_is_a_tile_with_its_icon_that_opens_the_product() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let api = Api { app };
    let secret = demo_secret(&demo);
    let tok = api.bearer((idp::demo::DEMO_CLIENT_ID, &secret)).await;

    // A methode with an icon, a product in it, and a teacher application.
    let (status, _, m) = api
        .call(
            "PUT",
            "/methodes/rekenwereld",
            Some(&tok),
            Some(
                json!({"id": "rekenwereld", "naam": "Rekenwereld", "icon": svg_icon(),
                "url": "http://127.0.0.1:8081/rekenwereld"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    let icon_url = m["iconUrl"].as_str().unwrap().to_string();
    let (status, _, p) = api
        .call(
            "POST",
            "/methodes/rekenwereld/producten",
            Some(&tok),
            Some(
                json!({"id": "rw-g3", "code": "RW3", "naam": "Rekenwereld groep 3",
                "url": "http://127.0.0.1:8081/rekenwereld/groep-3"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let (status, _, _) = api
        .call(
            "PUT",
            "/methodes/rw-dashboard",
            Some(&tok),
            Some(
                json!({"id": "rw-dashboard", "naam": "Rekenwereld Dashboard",
                "url": "http://127.0.0.1:8081/dashboard", "tags": ["leerkrachtApplicatie"]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, list) = api.call("GET", "/methodes", Some(&tok), None).await;
    let ids: Vec<&str> = list["methodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"rekenwereld") && ids.contains(&"rw-dashboard"),
        "{list}"
    );
    assert!(!ids.contains(&"rw-g3"), "a product is no methode: {list}");
    let (_, _, products) = api
        .call("GET", "/methodes/rekenwereld/producten", Some(&tok), None)
        .await;
    assert_eq!(products["producten"][0]["code"], "RW3");

    // Emma holds the product (by her sub), group 3A the dashboard (a teacher application).
    let emma = pupil_id(&demo, "Emma de Jong");
    let emma_sub = sub_of(&t.state, idp::demo::DEMO_CLIENT_ID, &emma);
    let (status, _, r) = api
        .call(
            "POST",
            "/methodes/rekenwereld/producten/rw-g3/gebruikers/addlist",
            Some(&tok),
            Some(json!({"gebruikers": [emma_sub, "iemand-anders"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["toegevoegd"], 1);
    assert_eq!(r["onbekend"][0]["houder"], "iemand-anders");
    let (_, _, held) = api
        .call(
            "GET",
            "/methodes/rekenwereld/producten/rw-g3/gebruikers",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(held, json!({"gebruikers": [emma_sub]}));
    let (status, _, r) = api
        .call(
            "PUT",
            "/methodes/rw-dashboard/groepen",
            Some(&tok),
            Some(json!({"groepen": [{"instellingRef": SCHOOL, "groep": "groep-3a"}]})),
        )
        .await;
    assert_eq!(
        (status, r["toegevoegd"].clone()),
        (StatusCode::OK, json!(1))
    );

    // Emma's start page: the product's tile with the methode's icon; no teacher application.
    let mut b = signed_in(&t, &emma, LoginContext::School, "10.9.0.5");
    let (status, _, page) = b.get(&api.app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Rekenwereld groep 3"), "{page}");
    assert!(!page.contains("Rekenwereld Dashboard"), "{page}");
    let icon_path = icon_url.trim_start_matches(&t.state.config.issuer);
    assert!(page.contains(&format!("src=\"{icon_path}\"")), "{page}");
    let tile = format!(
        "/snelkoppeling?INSTELLING_REF={SCHOOL}&#38;TARGET=demo-uitgeverij&#38;PRODUCT=RW3"
    );
    assert!(page.contains(&tile), "{page}");

    // The icon is served, sanitised, as an SVG that runs nothing.
    let res = at::call_service(&api.app, at::TestRequest::get().uri(icon_path).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("content-type").unwrap(), "image/svg+xml");
    assert!(res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("sandbox"));
    let svg = String::from_utf8(at::read_body(res).await.to_vec()).unwrap();
    assert!(svg.contains("<circle") && !svg.contains("script") && !svg.contains("onload"));

    // The tile opens the product: target_link_uri is the product's URL.
    let (status, to, _) = b.get(&api.app, &tile.replace("&#38;", "&")).await;
    assert_eq!(status, StatusCode::FOUND);
    let to = url::Url::parse(&to).unwrap();
    let q: std::collections::HashMap<_, _> = to.query_pairs().into_owned().collect();
    assert_eq!(
        q["target_link_uri"],
        "http://127.0.0.1:8081/rekenwereld/groep-3"
    );
    // Without a product: the publisher's landing page, never initiate_login_uri itself.
    let (_, to, _) = b
        .get(
            &api.app,
            &format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&TARGET=demo-uitgeverij"),
        )
        .await;
    let to = url::Url::parse(&to).unwrap();
    let q: std::collections::HashMap<_, _> = to.query_pairs().into_owned().collect();
    assert_eq!(q["target_link_uri"], "http://127.0.0.1:8081/");
    // The publisher's SAML service provider (the same sector as its API client) opens the
    // same product: an unsolicited response whose RelayState is the product's URL.
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let (status, to, _) = b
        .get(
            &api.app,
            &format!(
                "/snelkoppeling?INSTELLING_REF={SCHOOL}&TARGET={}&PRODUCT=RW3",
                enc(idp::demo::DEMO_SAML_ENTITY_ID)
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        to,
        format!(
            "/saml/unsolicited?sp={}&RelayState={}",
            enc(idp::demo::DEMO_SAML_ENTITY_ID),
            enc("http://127.0.0.1:8081/rekenwereld/groep-3")
        )
    );
    let (status, _, form) = b.get(&api.app, &to).await;
    assert_eq!(status, StatusCode::OK, "{form}");
    assert!(
        form.contains("name=\"RelayState\" value=\"http://127.0.0.1:8081/rekenwereld/groep-3\""),
        "{form}"
    );

    // Anna teaches group 3A: she sees the dashboard, not Emma's product.
    let anna = demo["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Anna de Vries")
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut teacher = signed_in(&t, &anna, LoginContext::School, "10.9.0.6");
    let (_, _, page) = teacher.get(&api.app, "/").await;
    assert!(page.contains("Rekenwereld Dashboard"), "{page}");
    assert!(!page.contains("Rekenwereld groep 3"), "{page}");

    // At home only what may be used at home: the product, once the publisher says so.
    let (_, _, _) = api
        .call(
            "PUT",
            "/methodes/rekenwereld/producten/rw-g3",
            Some(&tok),
            Some(
                json!({"id": "rw-g3", "code": "RW3", "naam": "Rekenwereld groep 3",
                "url": "http://127.0.0.1:8081/rekenwereld/groep-3", "thuisToegestaan": false}),
            ),
        )
        .await;
    let mut home = signed_in(&t, &emma, LoginContext::Thuis, "203.0.113.9");
    let (_, _, page) = home.get(&api.app, "/").await;
    assert!(!page.contains("Rekenwereld groep 3"), "{page}");

    // Removing the methode takes its products and licences along.
    let (status, _, _) = api
        .call("DELETE", "/methodes/rekenwereld", Some(&tok), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = api
        .call(
            "GET",
            "/methodes/rekenwereld/producten/rw-g3",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, page) = b.get(&api.app, "/").await;
    assert!(!page.contains("Rekenwereld groep 3"), "{page}");
}

/// The scoping rules, on both backends: only schools that registered the publisher, each
/// person only as that school lets the publisher know them.
fn scoping(state: &idp::app::AppState, demo: &Value) {
    actix_web::rt::System::new().block_on(async {
        let app = at::init_service(idp::server::app(state.clone())).await;
        let api = Api { app };
        let tok = api
            .bearer((idp::demo::DEMO_CLIENT_ID, &demo_secret(demo)))
            .await;
        let title = json!({"id": "taal", "naam": "Taal in blokken", "url": "https://uitgeverij.example/taal"});
        let (status, _, _) = api
            .call("PUT", "/methodes/taal", Some(&tok), Some(title.clone()))
            .await;
        assert_eq!(status, StatusCode::OK);
        let emma = pupil_id(demo, "Emma de Jong");
        let liam = pupil_id(demo, "Liam de Boer");

        // A publisher the school never registered reaches nobody there.
        second_publisher(state, None);
        let tweede = api.bearer(("tweede", "geheim-tweede-1")).await;
        let (status, _, _) = api
            .call("PUT", "/methodes/taal", Some(&tweede), Some(title.clone()))
            .await;
        assert_eq!(status, StatusCode::OK);
        let emma_at_tweede = sub_of(state, "tweede", &emma);
        let emma_at_demo = sub_of(state, idp::demo::DEMO_CLIENT_ID, &emma);
        assert_ne!(emma_at_tweede, emma_at_demo);
        let (_, _, r) = api
            .call(
                "POST",
                "/permissions/grant",
                Some(&tweede),
                Some(json!({"methodes": ["taal"], "gebruikers": [emma_at_tweede],
                    "scholen": [SCHOOL], "groepen": [{"instellingRef": SCHOOL, "groep": "groep-3a"}]})),
            )
            .await;
        assert_eq!(r["toegevoegd"], 0, "{r}");
        assert_eq!(r["onbekend"].as_array().unwrap().len(), 3, "{r}");

        // Another publisher's sub is nobody here.
        let (_, _, r) = api
            .call(
                "POST",
                "/methodes/taal/gebruikers/addlist",
                Some(&tok),
                Some(json!({"gebruikers": [emma_at_tweede, emma_at_demo]})),
            )
            .await;
        assert_eq!((r["toegevoegd"].clone(), r["onbekend"].as_array().unwrap().len()), (json!(1), 1));

        // ECK-iDs only where the school releases them to this publisher.
        let liam_eck = state
            .dir
            .user(liam.parse().unwrap())
            .unwrap()
            .unwrap()
            .eck_id
            .unwrap()
            .as_str()
            .to_string();
        let by_eck = json!({"gebruikers": [{"instellingRef": SCHOOL, "eckId": liam_eck}]});
        let (_, _, r) = api
            .call(
                "POST",
                "/methodes/taal/gebruikers_eckid/addlist",
                Some(&tok),
                Some(by_eck.clone()),
            )
            .await;
        assert_eq!(r["toegevoegd"], 1, "{r}");
        let (_, _, listed) = api
            .call("GET", "/methodes/taal/gebruikers_eckid", Some(&tok), None)
            .await;
        assert_eq!(listed["gebruikers"].as_array().unwrap().len(), 2, "{listed}");
        broker::admin::register(
            ctx(state),
            &SCHOOL.parse().unwrap(),
            idp::demo::DEMO_CLIENT_ID,
            RegisterOptions {
                release: Release {
                    eckid: false,
                    ..Release::default()
                },
                home_allowed: true,
            },
        )
        .unwrap();
        let (_, _, r) = api
            .call(
                "POST",
                "/methodes/taal/gebruikers_eckid/removelist",
                Some(&tok),
                Some(by_eck),
            )
            .await;
        assert_eq!(r["verwijderd"], 0, "{r}");
        assert!(r["onbekend"][0]["reden"].as_str().unwrap().contains("ECK-iD"));
        let (_, _, listed) = api
            .call("GET", "/methodes/taal/gebruikers_eckid", Some(&tok), None)
            .await;
        assert_eq!(listed, json!({"gebruikers": []}));
        let (_, _, listed) = api
            .call("GET", "/methodes/taal/gebruikers", Some(&tok), None)
            .await;
        assert_eq!(listed["gebruikers"].as_array().unwrap().len(), 2, "{listed}");

        // Replace, then revoke in bulk.
        let (_, _, r) = api
            .call(
                "PUT",
                "/methodes/taal/gebruikers",
                Some(&tok),
                Some(json!({"gebruikers": [emma_at_demo]})),
            )
            .await;
        assert_eq!((r["verwijderd"].clone(), r["toegevoegd"].clone()), (json!(2), json!(1)), "{r}");
        let (_, _, r) = api
            .call(
                "POST",
                "/permissions/revoke",
                Some(&tok),
                Some(json!({"methodes": ["taal"], "gebruikers": [emma_at_demo]})),
            )
            .await;
        assert_eq!(r["verwijderd"], 1, "{r}");

        // A school that withdraws is out of reach: its holders are unknown, its licences unseen.
        let (_, _, r) = api
            .call(
                "PUT",
                "/methodes/taal/scholen",
                Some(&tok),
                Some(json!({"scholen": [SCHOOL]})),
            )
            .await;
        assert_eq!(r["toegevoegd"], 1, "{r}");
        broker::admin::deregister(ctx(state), &SCHOOL.parse().unwrap(), idp::demo::DEMO_CLIENT_ID)
            .unwrap();
        let (_, _, listed) = api
            .call("GET", "/methodes/taal/scholen", Some(&tok), None)
            .await;
        assert_eq!(listed, json!({"scholen": []}));
        let (_, _, r) = api
            .call(
                "POST",
                "/methodes/taal/gebruikers/addlist",
                Some(&tok),
                Some(json!({"gebruikers": [emma_at_demo]})),
            )
            .await;
        assert_eq!(r["toegevoegd"], 0, "{r}");
    });
}

on_both_backends!(
    licences_reach_only_schools_that_registered_the_publisher,
    |db: &TestDb| {
        let tmp = tempfile::tempdir().unwrap();
        let state = crate::school_year::state_on(db, tmp.path()).0;
        let demo = idp::demo::seed(&state).unwrap();
        scoping(&state, &demo);
    }
);

#[actix_web::test]
async fn the_licence_api_refuses_what_it_should_with_a_clear_problem() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let api = Api { app };
    let secret = demo_secret(&demo);

    // No token; a token without the scope; a user's own token is not a client's.
    let (status, ct, p) = api.call("GET", "/methodes", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(ct, "application/problem+json");
    assert_eq!(p["status"], 401);
    let (status, body) = api
        .token((idp::demo::DEMO_CLIENT_ID, &secret), "schooldata")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let other = body["access_token"].as_str().unwrap();
    let (status, _, p) = api.call("GET", "/methodes", Some(other), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("licenties"));
    // Several scopes asked, one served: that one is granted and named.
    let (status, body) = api
        .token(
            (idp::demo::DEMO_CLIENT_ID, &secret),
            "licenties https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "licenties");
    let tok = body["access_token"].as_str().unwrap().to_string();

    // Bad titles: each refused with the field at fault, nothing stored.
    let (_, _, before) = api.call("GET", "/methodes", Some(&tok), None).await;
    for (body, field) in [
        (
            json!({"id": "x", "naam": "X", "icon": "image/gif,R0lGOD"}),
            "icon",
        ),
        (
            json!({"id": "x", "naam": "X", "url": "javascript:alert(1)"}),
            "url",
        ),
        (
            json!({"id": "x", "naam": "", "url": "https://a.example/"}),
            "naam",
        ),
        (json!({"id": "y", "naam": "Y"}), "id"),
        // The demo publisher signs in by SAML too: its URLs travel as RelayState.
        (
            json!({"id": "x", "naam": "X", "url": format!("https://a.example/{}", "l".repeat(70))}),
            "url",
        ),
    ] {
        let (status, _, p) = api.call("PUT", "/methodes/x", Some(&tok), Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert!(p["detail"].as_str().unwrap().starts_with(field), "{p}");
    }
    let (_, _, list) = api.call("GET", "/methodes", Some(&tok), None).await;
    assert_eq!(list, before, "nothing stored");
    // Unknown members, a body that is not JSON, one too large.
    let (status, _, _) = api
        .call(
            "PUT",
            "/methodes/x",
            Some(&tok),
            Some(json!({"id": "x", "naam": "X", "prijs": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let big = "a".repeat(idp::server::api::licenties::BODY_LIMIT + 1);
    let (status, _, _) = api
        .call("PUT", "/methodes/x", Some(&tok), Some(json!({"id": big})))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A product of a methode that does not exist; holders of a title that does not.
    let (status, _, _) = api
        .call(
            "POST",
            "/methodes/geen/producten",
            Some(&tok),
            Some(json!({"id": "p", "naam": "P", "url": "https://a.example/p"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = api
        .call("GET", "/methodes/geen/gebruikers", Some(&tok), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // POST on an existing id: 409 (PUT replaces).
    let ok = json!({"id": "x", "naam": "X"});
    api.call("PUT", "/methodes/x", Some(&tok), Some(ok.clone()))
        .await;
    let (status, _, _) = api.call("POST", "/methodes", Some(&tok), Some(ok)).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The icon route serves only what is stored, by its hash.
    for path in [
        "/lesmateriaal/icoon/../../etc/passwd",
        "/lesmateriaal/icoon/abc",
    ] {
        let res = at::call_service(&api.app, at::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}
