//! School discovery ("Kies je school", `/scholen`) in process: a publisher's own "Inloggen"
//! (an authorization request without a shortcut) through the search, the school's tiles and
//! the PIN to a code; search by name and by place (DUO's), nothing found, hostile input, the
//! bounds and the throttle; the cookie that remembers the school, and forgetting it;
//! `login_hint=INSTELLING_REF:<uuid>` honoured and ignored; `prompt=login` and `max_age=0`
//! still demanding a fresh sign-in with a school remembered.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use broker::admin::{self, Ctx};
use broker::model::DuoLocation;
use broker::repo::DuoLoad;
use claims::InstellingRef;
use serde_json::Value;

use crate::school::{demo_app, pupil_id};
use crate::server::TestApp;
use crate::support::browser::Browser;
use crate::support::page::{hidden, links};

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;
/// The demo publisher's authorization request, as its own "Inloggen" button sends it.
const AUTHORIZE: &str = "/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&state=eigen-knop";

fn ctx(t: &TestApp) -> Ctx<'_> {
    Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    }
}

fn add_school(t: &TestApp, brin: &str, name: &str) -> InstellingRef {
    admin::add_school(
        ctx(t),
        admin::SchoolInput {
            brin: brin.into(),
            vestiging: "00".into(),
            name: name.into(),
            networks: vec![],
            board: None,
            instelling_ref: None,
        },
    )
    .unwrap()
    .instelling_ref
}

/// DUO's registry lists the demo school's location (99ZZ00) in `place`, under its own name.
fn place_demo_school(t: &TestApp, place: &str) {
    let at = t.state.clock.now_secs();
    let location = DuoLocation {
        brin6: "99ZZ00".parse().unwrap(),
        name: "Basisschool De Regenboog".into(),
        street: "Kerkstraat".into(),
        house_number: "1".into(),
        postcode: "5211 AB".into(),
        place: place.into(),
        municipality: place.into(),
        province: "Noord-Brabant".into(),
        board_number: "40000".into(),
        first_seen_at: at,
        seen_at: at,
        gone_at: None,
    };
    t.state
        .dir
        .apply_duo_load(
            &DuoLoad {
                at,
                added: vec![location],
                ..Default::default()
            },
            vec![],
        )
        .unwrap();
}

fn auth_of(location: &str) -> String {
    url::Url::parse(&format!("http://x{location}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "auth")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no auth in {location}"))
}

/// The `Set-Cookie` of `name` in a response, whole.
fn set_cookie<B>(res: &ServiceResponse<B>, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set"))
}

/// Pick the demo school in the results of `/scholen?q=…`: the POST, and its answer.
async fn choose<S, B>(app: &S, b: &mut Browser, body: &str) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let csrf = hidden(body, "csrf_token");
    let auth = hidden(body, "auth");
    assert!(
        body.contains(&format!("name=\"school\" value=\"{SCHOOL}\"")),
        "{body}"
    );
    b.send_raw(
        app,
        test::TestRequest::post().uri("/scholen/kies").set_form([
            ("csrf_token", csrf.as_str()),
            ("school", SCHOOL),
            ("auth", auth.as_str()),
        ]),
    )
    .await
}

/// From the school's entrance (with `auth`), Emma's group, her tile and her PIN: where the
/// browser is sent after the PIN.
async fn emma_signs_in<S, B>(
    app: &S,
    b: &mut Browser,
    (t, demo): (&TestApp, &Value),
    entrance: &str,
) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, _, body) = b.get(app, entrance).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Kies je groep"), "{body}");
    let auth = auth_of(entrance);
    let g3a = t
        .state
        .dir
        .group_by_key(&SCHOOL.parse().unwrap(), "groep-3a")
        .unwrap()
        .unwrap();
    let group = links(&body, "/school/")
        .into_iter()
        .find(|l| l.contains(&format!("/groep/{}", g3a.id)))
        .unwrap();
    assert!(group.contains(&format!("auth={auth}")), "{group}");
    let (_, _, body) = b.get(app, &group).await;
    let emma = pupil_id(demo, "Emma de Jong");
    let tile = links(&body, "/school/")
        .into_iter()
        .find(|l| l.contains(&emma))
        .unwrap_or_else(|| panic!("no tile for Emma at {group}: {body}"));
    assert!(tile.contains(&format!("auth={auth}")), "{tile}");
    let (_, _, body) = b.get(app, &tile).await;
    let csrf = hidden(&body, "csrf_token");
    let action = body
        .split("action=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(action.contains(&format!("auth={auth}")), "{action}");
    let (status, to, _) = b
        .post(app, &action, &[("csrf_token", &csrf), ("pin", "1234")])
        .await;
    assert_eq!(status, StatusCode::FOUND);
    to
}

/// Follow `to` (the continuation after the PIN) to the redirect at the relying party.
async fn code_after<S, B>(app: &S, b: &mut Browser, to: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    assert!(to.starts_with("/oidc/authorize/continue?auth="), "{to}");
    let (status, to, body) = b.get(app, to).await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    to
}

#[actix_web::test]
async fn a_publishers_own_button_leads_through_kies_je_school_to_a_code() {
    let (t, demo) = demo_app();
    add_school(&t, "34CD", "OBS De Linde");
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");

    // No shortcut, no session: the sign-in form, which offers pupils "Kies je school".
    let (status, to, _) = b.get(&app, AUTHORIZE).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(to.starts_with("/login?auth="), "{to}");
    let auth = auth_of(&to);
    let (_, _, body) = b.get(&app, &to).await;
    assert!(body.contains("Kies je school"), "{body}");
    assert!(
        links(&body, "/scholen").contains(&format!("/scholen?auth={auth}")),
        "{body}"
    );
    assert!(
        body.contains("name=\"email\""),
        "the staff form stays: {body}"
    );

    // The search, by name, carries the request.
    let (status, _, body) = b
        .get(&app, &format!("/scholen?auth={auth}&q=regenboog"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Basisschool De Regenboog"), "{body}");
    assert!(!body.contains("OBS De Linde"), "{body}");
    assert_eq!(hidden(&body, "auth"), auth);
    assert!(
        links(&body, "/login").contains(&format!("/login?auth={auth}")),
        "the way to the staff form: {body}"
    );

    // Choosing remembers the school and goes to its pupil entrance.
    let res = choose(&app, &mut b, &body).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let entrance = crate::support::page::location(&res);
    assert_eq!(
        entrance,
        format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&auth={auth}")
    );
    let cookie = set_cookie(&res, "lp_school");
    assert!(
        cookie.starts_with(&format!("lp_school={SCHOOL};")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=34560000"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");

    // Group, name, PIN: the waiting request is answered with a code.
    let to = emma_signs_in(&app, &mut b, (&t, &demo), &entrance).await;
    let code = code_after(&app, &mut b, &to).await;
    assert!(
        code.starts_with("http://127.0.0.1:8081/callback?code="),
        "{code}"
    );
    assert!(code.contains("state=eigen-knop"), "{code}");
}

/// A page of results, with the form that chooses.
async fn body_with_results<S, B>(app: &S, b: &mut Browser) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    b.get(app, "/scholen?q=regenboog").await.2
}

#[actix_web::test]
async fn schools_are_found_by_place_and_only_when_active() {
    let (t, _) = demo_app();
    place_demo_school(&t, "'S-HERTOGENBOSCH");
    let linde = add_school(&t, "34CD", "OBS De Linde");
    let eik = add_school(&t, "56EF", "CBS De Eik");
    let dicht = add_school(&t, "78GH", "De Dichte Deur");
    admin::merge(ctx(&t), &eik, &linde).unwrap();
    admin::close_school(ctx(&t), &dicht).unwrap();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");

    // By place, as people write it, with DUO's spelling shown as people write it.
    let (_, _, body) = b.get(&app, "/scholen?q=hertogenbosch").await;
    assert!(body.contains("Basisschool De Regenboog"), "{body}");
    assert!(
        body.contains("&#39;s-Hertogenbosch") || body.contains("&#x27;s-Hertogenbosch"),
        "{body}"
    );
    // A merged school leads to the one it merged into.
    let (_, _, body) = b.get(&app, "/scholen?q=eik").await;
    assert!(
        body.contains(&format!("name=\"school\" value=\"{linde}\"")),
        "{body}"
    );
    assert!(!body.contains(&eik.to_string()), "{body}");
    assert!(body.contains("voorheen CBS De Eik"), "{body}");
    // A closed school is not listed.
    let (_, _, body) = b.get(&app, "/scholen?q=dichte").await;
    assert!(!body.contains(&dicht.to_string()), "{body}");
    assert!(
        body.contains("Er is geen school gevonden bij ‘dichte’"),
        "{body}"
    );
    // Choosing the merged school's old reference still leads to the active school.
    let csrf = hidden(&body_with_results(&app, &mut b).await, "csrf_token");
    let (status, to, _) = b
        .post(
            &app,
            "/scholen/kies",
            &[("csrf_token", &csrf), ("school", &eik.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(to, format!("/snelkoppeling?INSTELLING_REF={linde}"));
    // A closed one gets the wrong-shortcut family of pages, and nothing is remembered.
    let (status, _, body) = b
        .post(
            &app,
            "/scholen/kies",
            &[("csrf_token", &csrf), ("school", &dicht.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Without the CSRF token, nothing is chosen.
    let (status, _, _) = b
        .post(
            &app,
            "/scholen/kies",
            &[("csrf_token", "x"), ("school", SCHOOL)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn nothing_found_hostile_input_and_the_bounds() {
    let (t, _) = demo_app();
    for i in 0..25 {
        add_school(
            &t,
            &format!("{:02}KL", 10 + i),
            &format!("Noorderschool {i}"),
        );
    }
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");

    let (status, _, body) = b.get(&app, "/scholen?q=zzzqqq").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Er is geen school gevonden bij ‘zzzqqq’"),
        "{body}"
    );
    let (_, _, body) = b.get(&app, "/scholen?q=a").await;
    assert!(body.contains("Typ minstens 2 letters"), "{body}");

    // Markup in the query is text, in the field and in the message.
    let (status, _, body) = b
        .get(
            &app,
            "/scholen?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%3E&auth=%22%3E%3Cimg",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(body.contains("&#60;script&#62;alert(1)"), "{body}");
    // A malformed `auth` is dropped, not carried.
    assert!(!body.contains("name=\"auth\" value=\"&quot;"), "{body}");

    // A very long query is cut, not refused.
    let long = "n".repeat(5_000);
    let (status, _, body) = b.get(&app, &format!("/scholen?q={long}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(&format!("value=\"{}\"", "n".repeat(60))),
        "cut at 60"
    );
    assert!(!body.contains(&"n".repeat(61)));

    // At most 20 results, and a hint to search more precisely.
    let (_, _, body) = b.get(&app, "/scholen?q=noorderschool").await;
    assert_eq!(body.matches("name=\"school\"").count(), 20, "{body}");
    assert!(body.contains("Er zijn meer scholen gevonden"), "{body}");
}

#[actix_web::test]
async fn searches_are_throttled_per_address() {
    let (t, _) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("198.51.100.7");
    for _ in 0..broker::discovery::SEARCHES_PER_WINDOW {
        let (status, _, _) = b.get(&app, "/scholen?q=regenboog").await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, body) = b.get(&app, "/scholen?q=regenboog").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body.contains("Wacht een minuut"), "{body}");
    assert!(!body.contains("name=\"school\""), "{body}");
    // Another address searches on; and after the window, this one does again.
    let mut other = Browser::at("198.51.100.8");
    let (status, _, _) = other.get(&app, "/scholen?q=regenboog").await;
    assert_eq!(status, StatusCode::OK);
    t.clock.advance(std::time::Duration::from_secs(61));
    let (status, _, _) = b.get(&app, "/scholen?q=regenboog").await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn the_device_remembers_the_school_until_it_is_forgotten() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");
    let (_, _, body) = b.get(&app, "/scholen?q=regenboog").await;
    let res = choose(&app, &mut b, &body).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(b.has("lp_school"));

    // The next time, the sign-in form offers the school at once.
    let (_, to, _) = b.get(&app, AUTHORIZE).await;
    let auth = auth_of(&to);
    let (_, _, body) = b.get(&app, &to).await;
    assert!(
        body.contains("Verder bij Basisschool De Regenboog"),
        "{body}"
    );
    assert!(body.contains("Andere school kiezen"), "{body}");
    let entrance = format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&auth={auth}");
    assert!(links(&body, "/snelkoppeling").contains(&entrance), "{body}");
    let to = emma_signs_in(&app, &mut b, (&t, &demo), &entrance).await;
    let code = code_after(&app, &mut b, &to).await;
    assert!(code.contains("code="), "{code}");

    // "Kies je school" shows it too, and forgets it on request.
    let (_, _, body) = b.get(&app, "/scholen").await;
    assert!(
        body.contains("Dit apparaat onthoudt je school: Basisschool De Regenboog."),
        "{body}"
    );
    let csrf = hidden(&body, "csrf_token");
    let res = b
        .send_raw(
            &app,
            test::TestRequest::post()
                .uri("/scholen/vergeten")
                .set_form([("csrf_token", csrf.as_str()), ("auth", "")]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(crate::support::page::location(&res), "/scholen");
    let cleared = set_cookie(&res, "lp_school");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert!(!b.has("lp_school"));
    let (_, _, body) = b.get(&app, "/login").await;
    assert!(!body.contains("Verder bij"), "{body}");
    assert!(body.contains("Kies je school"), "{body}");

    // A cookie naming no school (or a closed one) is ignored.
    b.set_cookie("lp_school", "niet-een-school".into());
    let (status, _, body) = b.get(&app, "/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("Verder bij"), "{body}");
}

#[actix_web::test]
async fn login_hint_names_the_school_or_is_ignored() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");

    // A known, active school: straight to its pupil entrance, the request kept.
    let (status, to, _) = b
        .get(
            &app,
            &format!("{AUTHORIZE}&login_hint=INSTELLING_REF%3A{SCHOOL}"),
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        to.starts_with(&format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&auth=")),
        "{to}"
    );
    let to = emma_signs_in(&app, &mut b, (&t, &demo), &to).await;
    let code = code_after(&app, &mut b, &to).await;
    assert!(code.contains("code="), "{code}");

    // An unknown school, a malformed one, an e-mail address: the sign-in form as usual, and
    // a school hint is not typed into the e-mail field.
    for (hint, email_shown) in [
        (
            "INSTELLING_REF%3A8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a99",
            false,
        ),
        ("INSTELLING_REF%3Akapot", false),
        ("instelling_ref%3A", false),
        ("anna.devries%40regenboog.example", true),
    ] {
        let mut fresh = Browser::at("127.0.0.1");
        let (status, to, body) = fresh
            .get(&app, &format!("{AUTHORIZE}&login_hint={hint}"))
            .await;
        assert_eq!(status, StatusCode::FOUND, "{hint}: {body}");
        assert!(to.starts_with("/login?auth="), "{hint}: {to}");
        let (status, _, body) = fresh.get(&app, &to).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body.contains("value=\"anna.devries@regenboog.example\""),
            email_shown,
            "{hint}: {body}"
        );
        assert!(!body.contains("value=\"INSTELLING_REF"), "{hint}: {body}");
    }
}

#[actix_web::test]
async fn a_remembered_school_does_not_stand_for_a_fresh_sign_in() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");
    let (_, _, body) = b.get(&app, "/scholen?q=regenboog").await;
    choose(&app, &mut b, &body).await;
    // Emma signs in once.
    let (_, to, _) = b.get(&app, AUTHORIZE).await;
    let entrance = format!(
        "/snelkoppeling?INSTELLING_REF={SCHOOL}&auth={}",
        auth_of(&to)
    );
    let to = emma_signs_in(&app, &mut b, (&t, &demo), &entrance).await;
    code_after(&app, &mut b, &to).await;
    t.clock.advance(std::time::Duration::from_secs(5));

    for fresh in ["prompt=login", "max_age=0"] {
        // With a session and the school remembered, still the sign-in form ...
        let (status, to, _) = b.get(&app, &format!("{AUTHORIZE}&{fresh}")).await;
        assert_eq!(status, StatusCode::FOUND);
        assert!(to.starts_with("/login?auth="), "{fresh}: {to}");
        let auth = auth_of(&to);
        // ... and the school's entrance shows the tiles instead of passing the session on.
        let entrance = format!("/snelkoppeling?INSTELLING_REF={SCHOOL}&auth={auth}");
        let to = emma_signs_in(&app, &mut b, (&t, &demo), &entrance).await;
        let code = code_after(&app, &mut b, &to).await;
        assert!(code.contains("code="), "{fresh}: {code}");
        t.clock.advance(std::time::Duration::from_secs(5));
    }
    // Without a waiting request the entrance of the school she is signed in at passes on.
    let (status, to, _) = b
        .get(&app, &format!("/snelkoppeling?INSTELLING_REF={SCHOOL}"))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(to, "/");
}

/// An unsigned AuthnRequest of the demo SP over HTTP-Redirect, with `ForceAuthn="true"`.
fn force_authn_request(t: &TestApp) -> String {
    use base64::Engine as _;
    use std::io::Write as _;
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_{}" Version="2.0" IssueInstant="{}" Destination="http://127.0.0.1:8080/saml/sso" ForceAuthn="true" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{}</saml:Issuer></samlp:AuthnRequest>"#,
        uuid::Uuid::new_v4().simple(),
        idp::saml::xml::instant(t.state.clock.now_secs()),
        idp::demo::DEMO_SAML_ENTITY_ID,
    );
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes()).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(enc.finish().unwrap());
    format!(
        "/saml/sso?SAMLRequest={}",
        url::form_urlencoded::byte_serialize(encoded.as_bytes()).collect::<String>()
    )
}

#[actix_web::test]
async fn a_saml_request_with_force_authn_goes_through_the_remembered_school() {
    let (t, demo) = demo_app();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::at("127.0.0.1");
    let (_, _, body) = b.get(&app, "/scholen?q=regenboog").await;
    choose(&app, &mut b, &body).await;
    for round in 0..2 {
        // Signed in or not, ForceAuthn brings the sign-in form, which offers the school.
        let (status, to, body) = b.get(&app, &force_authn_request(&t)).await;
        assert_eq!(status, StatusCode::FOUND, "{round}: {body}");
        assert!(to.starts_with("/login?auth=saml-"), "{round}: {to}");
        let (_, _, body) = b.get(&app, &to).await;
        let entrance = links(&body, "/snelkoppeling")
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no remembered school: {body}"));
        assert!(entrance.contains("auth=saml-"), "{entrance}");
        // After the PIN, the SAML request is answered: a Response posted to the demo ACS.
        let to = emma_signs_in(&app, &mut b, (&t, &demo), &entrance).await;
        assert!(to.starts_with("/saml/sso/continue?auth=saml-"), "{to}");
        let (status, _, page) = b.get(&app, &to).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("action=\"http://127.0.0.1:8082/saml/acs\"")
                && page.contains("name=\"SAMLResponse\""),
            "{page}"
        );
        t.clock.advance(std::time::Duration::from_secs(5));
    }
}
