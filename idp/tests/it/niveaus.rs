//! Levels (niveaus), in process: the ICT coordinator gives a group or a pupil the software of
//! another year group in Beheer, a teacher only for their own group and its pupils; forged
//! ids and forms without the CSRF token change nothing; publishers receive the levels as the
//! `niveau` claim (with `groups`, only when the school releases groups) and as the SAML
//! attribute `niveau`.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test as at;
use base64::Engine as _;
use broker::admin::{self, Ctx, RegisterOptions};
use broker::beheer::niveaus;
use broker::licences::NiveauHolder;
use broker::release::Scopes;
use broker::repo::AuditQuery;
use claims::{InstellingRef, Jaargroep, LoginContext, Release};
use serde_json::Value;
use uuid::Uuid;

use crate::on_both_backends;
use crate::school::{demo_app, pupil_id, signed_in};
use crate::server::TestApp;
use crate::support::page::hidden;
use crate::support::TestDb;

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;
const COORDINATOR: &str = "sanne.jansen@regenboog.example";
const ANNA: &str = "anna.devries@regenboog.example";
const KARIM: &str = "karim.elamrani@regenboog.example";
const REDIRECT: &str = "http://127.0.0.1:8081/callback";
const DEMO_SP: &str = "http://127.0.0.1:8082/saml/metadata";
/// On the school's network (the demo's is 127.0.0.0/8).
const AT_SCHOOL: &str = "127.0.0.1";

fn school() -> InstellingRef {
    SCHOOL.parse().unwrap()
}

fn ctx(t: &TestApp) -> Ctx<'_> {
    Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    }
}

fn user_id(t: &TestApp, email: &str) -> String {
    t.state
        .dir
        .user_by_email(email)
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

fn group_id(t: &TestApp, key: &str) -> Uuid {
    t.state
        .dir
        .group_by_key(&school(), key)
        .unwrap()
        .unwrap()
        .id
}

fn j(ns: &[u8]) -> Vec<Jaargroep> {
    ns.iter().map(|n| Jaargroep::new(*n).unwrap()).collect()
}

/// The levels stored for `holder` at the demo school.
fn stored(t: &TestApp, holder: NiveauHolder) -> Vec<u8> {
    t.state
        .dir
        .niveaus_of_school(&school())
        .unwrap()
        .into_iter()
        .filter(|(h, _)| *h == holder)
        .map(|(_, j)| j.get())
        .collect()
}

/// Every level stored at the demo school.
fn stored_all(t: &TestApp) -> Vec<(NiveauHolder, u8)> {
    t.state
        .dir
        .niveaus_of_school(&school())
        .unwrap()
        .into_iter()
        .map(|(h, j)| (h, j.get()))
        .collect()
}

/// The school's `niveau.set` lines, newest first: (actor, subject, details).
fn audit_lines(t: &TestApp) -> Vec<(String, Option<String>, Value)> {
    t.state
        .dir
        .audit_trail(&AuditQuery {
            school: Some(&school()),
            actions: &["niveau.set"],
            before: None,
            limit: 100,
        })
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.subject, e.details))
        .collect()
}

/// The ticked year groups of the form that posts to `action` on a page.
fn ticked(body: &str, action: &str) -> Vec<u8> {
    let start = body
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form for {action} in {body}"));
    let form = &body[start..];
    let form = &form[..form.find("</form>").unwrap()];
    form.split("<input type=\"checkbox\"")
        .skip(1)
        .filter(|tag| tag.split('>').next().unwrap().contains("checked"))
        .map(|tag| {
            tag.split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

/// A form's fields: the CSRF token and one `niveau-<n>` per level.
fn fields<'a>(csrf: &'a str, levels: &'a [&'a str]) -> Vec<(String, &'a str)> {
    let mut f = vec![("csrf_token".to_string(), csrf)];
    f.extend(levels.iter().map(|n| (format!("niveau-{n}"), *n)));
    f
}

fn as_refs<'a>(f: &'a [(String, &'a str)]) -> Vec<(&'a str, &'a str)> {
    f.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

#[actix_web::test]
async fn the_coordinator_gives_a_group_and_a_pupil_levels_in_beheer() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let sanne = user_id(&t, COORDINATOR);
    let emma = pupil_id(&demo, "Emma de Jong");
    let (g3a, g7b) = (group_id(&t, "groep-3a"), group_id(&t, "groep-7b"));
    let mut b = signed_in(&t, &sanne, LoginContext::School, AT_SCHOOL);

    let (status, _, body) = b.get(&app, "/beheer").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("href=\"/beheer/niveaus\""),
        "in the navigation: {body}"
    );
    let (status, _, body) = b.get(&app, "/beheer/niveaus").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(
        "De ICT-coördinator van uw school heeft de bevoegdheid om meerdere niveaus van de \
         oefensoftware aan een bepaalde groep of leerling toe te kennen."
    ));
    assert!(body.contains("aria-current=\"page\">Niveaus</a>"), "{body}");
    for group in ["Groep 1/2", "Groep 3A", "Groep 7B"] {
        assert!(body.contains(group), "{group} listed");
    }
    assert!(ticked(&body, &format!("/beheer/niveaus/groep/{g3a}")).is_empty());
    assert!(body.contains("Er zijn (nog) geen leerlingen met eigen niveaus."));

    // Groep 3A also works with the software of groups 4 and 5.
    let csrf = hidden(&body, "csrf_token");
    let action = format!("/beheer/niveaus/groep/{g3a}");
    let (status, _, body) = b
        .post(&app, &action, &as_refs(&fields(&csrf, &["5", "4"])))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("Groep 3A werkt nu ook met de software van groep 4 en 5."),
        "{body}"
    );
    assert_eq!(ticked(&body, &action), [4, 5], "the page shows what is set");
    assert_eq!(stored(&t, NiveauHolder::Group(g3a)), [4, 5]);
    assert!(stored(&t, NiveauHolder::Group(g7b)).is_empty());

    // Per pupil: choose the group, then Emma's levels.
    let (status, _, body) = b.get(&app, &format!("/beheer/niveaus?groep={g3a}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Niveaus per leerling: Groep 3A"), "{body}");
    assert!(body.contains("Emma de Jong") && !body.contains("Liam de Boer"));
    let pupil_action = format!("/beheer/niveaus/leerling/{emma}");
    let csrf = hidden(&body, "csrf_token");
    let mut form = fields(&csrf, &["2"]);
    let g3a_text = g3a.to_string();
    form.push(("groep".into(), &g3a_text));
    let (status, _, body) = b.post(&app, &pupil_action, &as_refs(&form)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("Emma de Jong werkt nu ook met de software van groep 2."),
        "{body}"
    );
    assert_eq!(
        ticked(&body, &pupil_action),
        [2],
        "back on the group's pupils"
    );
    let emma_id: Uuid = emma.parse().unwrap();
    assert_eq!(stored(&t, NiveauHolder::User(emma_id)), [2]);
    // What is set: the pupils with levels of their own.
    let (_, _, body) = b.get(&app, "/beheer/niveaus").await;
    let set = &body[body.find("Leerlingen met eigen niveaus").unwrap()..];
    assert!(
        set.contains("<td>Emma de Jong</td><td>Groep 2</td>"),
        "{set}"
    );

    // Each change is in the trail, with the coordinator, the holder and the levels.
    let lines = audit_lines(&t);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        lines[0],
        (
            format!("user:{sanne}"),
            Some(emma.clone()),
            serde_json::json!({"holder": "user", "levels": [2]})
        )
    );
    assert_eq!(
        lines[1],
        (
            format!("user:{sanne}"),
            Some(g3a.to_string()),
            serde_json::json!({"holder": "group", "levels": [4, 5]})
        )
    );
    let (_, _, log) = b.get(&app, "/beheer/logboek?soort=leerlingen").await;
    assert!(log.contains("Niveaus gewijzigd"), "{log}");

    // A level that is no year group is refused in Dutch, and nothing changes.
    let (status, _, body) = b
        .post(&app, &action, &as_refs(&fields(&csrf, &["3", "9"])))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Een niveau is een groep van 1 tot en met 8. Er is niets gewijzigd."),
        "{body}"
    );
    assert_eq!(stored(&t, NiveauHolder::Group(g3a)), [4, 5]);
    assert_eq!(audit_lines(&t).len(), 2);

    // No box ticked: the group's levels are taken away.
    let (status, _, body) = b.post(&app, &action, &as_refs(&fields(&csrf, &[]))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Groep 3A heeft nu geen extra niveaus."),
        "{body}"
    );
    assert!(stored(&t, NiveauHolder::Group(g3a)).is_empty());
    assert_eq!(
        stored(&t, NiveauHolder::User(emma_id)),
        [2],
        "Emma's own stay"
    );
}

#[actix_web::test]
async fn a_teacher_gives_levels_to_their_own_group_and_its_pupils_only() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let anna = user_id(&t, ANNA);
    let emma: Uuid = pupil_id(&demo, "Emma de Jong").parse().unwrap();
    let liam: Uuid = pupil_id(&demo, "Liam de Boer").parse().unwrap();
    let (g3a, g7b) = (group_id(&t, "groep-3a"), group_id(&t, "groep-7b"));
    let mut b = signed_in(&t, &anna, LoginContext::School, AT_SCHOOL);

    // The group overview links to her group's levels.
    let (status, _, body) = b.get(&app, "/groepen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(&format!("href=\"/groepen/{g3a}/niveaus\"")),
        "{body}"
    );
    assert!(!body.contains(&format!("/groepen/{g7b}/niveaus")));

    let page = format!("/groepen/{g3a}/niveaus");
    let (status, _, body) = b.get(&app, &page).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Niveaus: Groep 3A") && body.contains("Emma de Jong"));
    assert!(!body.contains("Liam de Boer"));
    let csrf = hidden(&body, "csrf_token");
    let (status, _, body) = b.post(&app, &page, &as_refs(&fields(&csrf, &["4"]))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Groep 3A werkt nu ook met de software van groep 4."),
        "{body}"
    );
    assert_eq!(ticked(&body, &page), [4]);
    let emma_form = format!("{page}/{emma}");
    let (status, _, body) = b
        .post(&app, &emma_form, &as_refs(&fields(&csrf, &["2", "2"])))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Emma de Jong werkt nu ook met de software van groep 2."));
    assert_eq!(stored(&t, NiveauHolder::Group(g3a)), [4]);
    assert_eq!(stored(&t, NiveauHolder::User(emma)), [2]);
    assert_eq!(audit_lines(&t)[0].0, format!("user:{anna}"));
    let written = stored_all(&t);

    // Another teacher's group, and its pupils: refused, nothing written.
    let other = format!("/groepen/{g7b}/niveaus");
    let (status, _, _) = b.get(&app, &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for (path, what) in [
        (other.clone(), "Groep 7B"),
        (format!("{other}/{liam}"), "Liam, on Groep 7B's page"),
        (format!("{page}/{liam}"), "Liam, on her own group's page"),
        (format!("/beheer/niveaus/groep/{g7b}"), "Beheer"),
        (
            format!("/beheer/niveaus/leerling/{emma}"),
            "Beheer, her own pupil",
        ),
    ] {
        let (status, _, _) = b.post(&app, &path, &as_refs(&fields(&csrf, &["8"]))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
    }
    let (status, _, _) = b.get(&app, "/beheer/niveaus").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "Beheer is the coordinator's");
    assert_eq!(stored_all(&t), written, "nothing written");
    assert_eq!(audit_lines(&t).len(), 2);

    // Karim, for his own group: Groep 7B.
    let karim = user_id(&t, KARIM);
    let mut k = signed_in(&t, &karim, LoginContext::School, AT_SCHOOL);
    let (_, _, body) = k.get(&app, &other).await;
    let csrf = hidden(&body, "csrf_token");
    let (status, _, _) = k.post(&app, &other, &as_refs(&fields(&csrf, &["8"]))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored(&t, NiveauHolder::Group(g7b)), [8]);
    let (status, _, _) = k.post(&app, &page, &as_refs(&fields(&csrf, &["1"]))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not Anna's group");
    assert_eq!(stored(&t, NiveauHolder::Group(g3a)), [4]);
}

#[actix_web::test]
async fn ids_of_another_school_and_forms_without_the_csrf_token_change_nothing() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let other = admin::add_school(
        ctx(&t),
        admin::SchoolInput {
            brin: "34CD".into(),
            vestiging: "00".into(),
            name: "De Zonnebloem".into(),
            networks: vec![],
            board: None,
            instelling_ref: None,
        },
    )
    .unwrap();
    let their_group = admin::add_group(
        ctx(&t),
        &other.instelling_ref,
        "groep-3",
        "Groep 3",
        Some("3"),
        false,
    )
    .unwrap();
    let their_pupil = admin::add_user(
        ctx(&t),
        t.state.credentials(),
        admin::UserInput {
            school: other.instelling_ref.to_string(),
            role: "leerling".into(),
            given_name: "Sophie".into(),
            family_name: "Jansen".into(),
            groups: vec!["groep-3".into()],
            ..Default::default()
        },
    )
    .unwrap()
    .user;
    let sanne = user_id(&t, COORDINATOR);
    let anna = user_id(&t, ANNA);
    let emma = pupil_id(&demo, "Emma de Jong");
    let g3a = group_id(&t, "groep-3a");
    let mut b = signed_in(&t, &sanne, LoginContext::School, AT_SCHOOL);
    let (_, _, body) = b.get(&app, "/beheer/niveaus").await;
    let csrf = hidden(&body, "csrf_token");
    let form = fields(&csrf, &["4"]);

    for path in [
        format!("/beheer/niveaus/groep/{}", their_group.id),
        format!("/beheer/niveaus/leerling/{}", their_pupil.id),
        format!("/beheer/niveaus/leerling/{anna}"),
        "/beheer/niveaus/groep/geen-uuid".to_string(),
        format!("/beheer/niveaus/leerling/{}", Uuid::new_v4()),
    ] {
        let (status, _, _) = b.post(&app, &path, &as_refs(&form)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // Emma, but "coming back" to another school's group: refused before anything is written.
    let mut with_group = form.clone();
    let theirs = their_group.id.to_string();
    with_group.push(("groep".into(), &theirs));
    let (status, _, _) = b
        .post(
            &app,
            &format!("/beheer/niveaus/leerling/{emma}"),
            &as_refs(&with_group),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = b
        .get(&app, &format!("/beheer/niveaus?groep={}", their_group.id))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The teacher's page of another school's group.
    let (status, _, _) = b
        .get(&app, &format!("/groepen/{}/niveaus", their_group.id))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Without the CSRF token, or with another one: the page has expired, nothing written.
    let action = format!("/beheer/niveaus/groep/{g3a}");
    let (status, _, _) = b.post(&app, &action, &[("niveau-4", "4")]).await;
    assert!(status.is_client_error(), "{status}");
    let (status, _, _) = b
        .post(
            &app,
            &action,
            &[("csrf_token", "vervalst"), ("niveau-4", "4")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut anna_b = signed_in(&t, &anna, LoginContext::School, AT_SCHOOL);
    let (status, _, _) = anna_b
        .post(
            &app,
            &format!("/groepen/{g3a}/niveaus"),
            &[("csrf_token", "vervalst"), ("niveau-4", "4")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    assert!(
        stored_all(&t).is_empty(),
        "nothing written at the demo school"
    );
    assert!(t
        .state
        .dir
        .niveaus_of_school(&other.instelling_ref)
        .unwrap()
        .is_empty());
    assert!(audit_lines(&t).is_empty());
}

/// The ID token's claims.
fn id_token_claims(tokens: &Value) -> Value {
    let payload = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_string();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// With the browser's session: the code flow for the demo publisher under `scope` (and the
/// authorization request's `extra` parameters); the token response and the UserInfo answer.
async fn code_flow<S, B>(
    app: &S,
    b: &mut crate::support::browser::Browser,
    secret: &str,
    scope: &str,
    extra: &str,
) -> (Value, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let scope: String = url::form_urlencoded::byte_serialize(scope.as_bytes()).collect();
    let (status, to, body) = b
        .get(
            app,
            &format!(
                "/oidc/authorize?client_id={}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback\
                 &response_type=code&scope={scope}&state=s&nonce=n{extra}",
                idp::demo::DEMO_CLIENT_ID
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    assert!(to.starts_with(REDIRECT), "{to}");
    let code = url::Url::parse(&to)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{secret}", idp::demo::DEMO_CLIENT_ID));
    let res = at::call_service(
        app,
        at::TestRequest::post()
            .uri("/oidc/token")
            .insert_header(("authorization", format!("Basic {basic}")))
            .set_form([
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = at::read_body_json(res).await;
    let res = at::call_service(
        app,
        at::TestRequest::get()
            .uri("/oidc/userinfo")
            .insert_header((
                "authorization",
                format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
            ))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    (tokens, at::read_body_json(res).await)
}

/// Groep 3A gets level 4, Emma level 2 (and her own group's 3 once more).
fn give_emma_levels(t: &TestApp, emma: &str) {
    let sanne = t.state.dir.user_by_email(COORDINATOR).unwrap().unwrap();
    let w = t.state.world();
    niveaus::give_group(&w, &sanne, group_id(t, "groep-3a"), &[4]).unwrap();
    niveaus::give_pupil(&w, &sanne, emma.parse().unwrap(), &[2, 3]).unwrap();
}

#[actix_web::test]
async fn the_niveau_claim_comes_with_groups_and_only_when_the_school_releases_groups() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let secret = demo["oidc_client"]["client_secret"].as_str().unwrap();
    let emma = pupil_id(&demo, "Emma de Jong");
    give_emma_levels(&t, &emma);
    let mut b = signed_in(&t, &emma, LoginContext::School, AT_SCHOOL);

    let res = at::call_service(
        &app,
        at::TestRequest::get()
            .uri("/.well-known/openid-configuration")
            .to_request(),
    )
    .await;
    let discovery: Value = at::read_body_json(res).await;
    assert!(
        discovery["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&Value::from("niveau")),
        "{discovery}"
    );

    // Scope groups: her own year group, her group's level and her own, ascending, once each.
    let (tokens, info) = code_flow(&app, &mut b, secret, "openid groups", "").await;
    let claims = id_token_claims(&tokens);
    assert_eq!(claims["niveau"], serde_json::json!([2, 3, 4]), "{claims}");
    assert_eq!(info["niveau"], serde_json::json!([2, 3, 4]), "{info}");
    assert_eq!(info["groups"][0]["jaargroep"], 3);

    // Without the scope: neither groups nor niveau.
    let (tokens, info) = code_flow(&app, &mut b, secret, "openid", "").await;
    let claims = id_token_claims(&tokens);
    for (what, c) in [("ID token", &claims), ("userinfo", &info)] {
        assert!(
            c.get("niveau").is_none() && c.get("groups").is_none(),
            "{what}: {c}"
        );
    }

    // Asking for `niveau` through the claims parameter asks for the groups it comes with.
    let claims_param: String =
        url::form_urlencoded::byte_serialize(br#"{"id_token":{"niveau":null}}"#).collect();
    let (tokens, _) = code_flow(
        &app,
        &mut b,
        secret,
        "openid",
        &format!("&claims={claims_param}"),
    )
    .await;
    let claims = id_token_claims(&tokens);
    assert_eq!(claims["niveau"], serde_json::json!([2, 3, 4]), "{claims}");
    assert!(claims["groups"].is_array());

    // A registration that does not release groups releases no levels either.
    admin::register(
        ctx(&t),
        &school(),
        idp::demo::DEMO_CLIENT_ID,
        RegisterOptions {
            release: Release {
                groups: false,
                ..Release::default()
            },
            ..RegisterOptions::default()
        },
    )
    .unwrap();
    let (tokens, info) = code_flow(&app, &mut b, secret, "openid groups", "").await;
    let claims = id_token_claims(&tokens);
    for (what, c) in [("ID token", &claims), ("userinfo", &info)] {
        assert!(
            c.get("niveau").is_none() && c.get("groups").is_none(),
            "{what}: {c}"
        );
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&#x2b;", "+")
        .replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
        .replace("&#43;", "+")
        .replace("&#47;", "/")
        .replace("&#61;", "=")
        .replace("&amp;", "&")
}

/// The values of the attribute `name` in an assertion.
fn attribute(xml: &str, name: &str) -> Vec<String> {
    let Some(start) = xml.find(&format!(r#"<saml:Attribute Name="{name}""#)) else {
        return Vec::new();
    };
    let rest = &xml[start..];
    rest[..rest.find("</saml:Attribute>").unwrap()]
        .split("<saml:AttributeValue>")
        .skip(1)
        .map(|v| {
            v.split("</saml:AttributeValue>")
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The assertion the demo SP receives, unsolicited, for the browser's session.
async fn saml_response<S, B>(app: &S, b: &mut crate::support::browser::Browser) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let sp: String = url::form_urlencoded::byte_serialize(DEMO_SP.as_bytes()).collect();
    let (status, _, page) = b.get(app, &format!("/saml/unsolicited?sp={sp}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let response = html_unescape(&hidden(&page, "SAMLResponse"));
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(response)
            .unwrap(),
    )
    .unwrap()
}

#[actix_web::test]
async fn the_saml_attribute_niveau_has_one_value_per_year_group() {
    let (t, demo) = demo_app();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let emma = pupil_id(&demo, "Emma de Jong");
    give_emma_levels(&t, &emma);
    let mut b = signed_in(&t, &emma, LoginContext::School, AT_SCHOOL);

    let xml = saml_response(&app, &mut b).await;
    assert_eq!(attribute(&xml, "groups"), ["groep-3a"]);
    assert_eq!(attribute(&xml, "niveau"), ["2", "3", "4"], "{xml}");
    assert!(xml.contains(
        r#"<saml:Attribute Name="niveau" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">"#
    ));

    // Karim's group has no levels: only its own year group.
    let karim = user_id(&t, KARIM);
    let mut k = signed_in(&t, &karim, LoginContext::School, AT_SCHOOL);
    assert_eq!(
        attribute(&saml_response(&app, &mut k).await, "niveau"),
        ["7"]
    );

    // Groups not released: no levels either.
    admin::register(
        ctx(&t),
        &school(),
        DEMO_SP,
        RegisterOptions {
            release: Release {
                groups: false,
                ..Release::default()
            },
            ..RegisterOptions::default()
        },
    )
    .unwrap();
    let xml = saml_response(&app, &mut b).await;
    assert!(attribute(&xml, "groups").is_empty());
    assert!(attribute(&xml, "niveau").is_empty(), "{xml}");
}

on_both_backends!(
    levels_are_stored_replaced_and_released_per_holder,
    |db: &TestDb| {
        let tmp = tempfile::tempdir().unwrap();
        let state = crate::school_year::state_on(db, tmp.path()).0;
        let demo = idp::demo::seed(&state).unwrap();
        let dir = state.dir.as_ref();
        let w = state.world();
        let sanne = dir.user_by_email(COORDINATOR).unwrap().unwrap();
        let anna = dir.user_by_email(ANNA).unwrap().unwrap();
        let emma: Uuid = pupil_id(&demo, "Emma de Jong").parse().unwrap();
        let g3a = dir.group_by_key(&school(), "groep-3a").unwrap().unwrap();
        let g7b = dir.group_by_key(&school(), "groep-7b").unwrap().unwrap();

        // Set, with repeats folded; then replaced as a whole.
        let (_, levels) = niveaus::give_group(&w, &sanne, g3a.id, &[6, 4, 6]).unwrap();
        assert_eq!(levels, j(&[4, 6]));
        niveaus::give_group(&w, &sanne, g3a.id, &[5, 4]).unwrap();
        niveaus::give_pupil(&w, &anna, emma, &[1]).unwrap();
        niveaus::give_group(&w, &sanne, g7b.id, &[8]).unwrap();
        let mut all = dir.niveaus_of_school(&school()).unwrap();
        all.sort_by_key(|(h, j)| (format!("{h:?}"), *j));
        let mut expected = vec![
            (NiveauHolder::Group(g3a.id), Jaargroep::new(4).unwrap()),
            (NiveauHolder::Group(g3a.id), Jaargroep::new(5).unwrap()),
            (NiveauHolder::Group(g7b.id), Jaargroep::new(8).unwrap()),
            (NiveauHolder::User(emma), Jaargroep::new(1).unwrap()),
        ];
        expected.sort_by_key(|(h, j)| (format!("{h:?}"), *j));
        assert_eq!(all, expected);
        // A refused change writes neither the levels nor an audit line.
        assert!(niveaus::give_group(&w, &anna, g7b.id, &[2]).is_err());
        assert!(niveaus::give_group(&w, &sanne, g3a.id, &[0]).is_err());
        let lines = dir
            .audit_trail(&AuditQuery {
                school: Some(&school()),
                actions: &["niveau.set"],
                before: None,
                limit: 10,
            })
            .unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].actor, format!("user:{}", sanne.id));
        assert_eq!(lines[1].actor, format!("user:{}", anna.id));

        // What the pages read.
        let groups = niveaus::groups(dir, &anna).unwrap();
        assert_eq!(groups.len(), 1, "Anna's own group only");
        assert_eq!(
            (groups[0].group.id, groups[0].levels.clone()),
            (g3a.id, j(&[4, 5]))
        );
        let (_, pupils) = niveaus::group_with_pupils(dir, &sanne, g3a.id).unwrap();
        let e = pupils.iter().find(|p| p.pupil.id == emma).unwrap();
        assert_eq!(e.levels, j(&[1]));
        let set = niveaus::pupils_with_levels(dir, &sanne).unwrap();
        assert_eq!(set.iter().map(|p| p.pupil.id).collect::<Vec<_>>(), [emma]);

        // What a publisher receives: with groups, and only then.
        assert_eq!(
            dir.niveaus_reaching(emma, &[g3a.id]).unwrap(),
            j(&[1, 4, 5])
        );
        let rp = dir
            .relying_party_by_public_id(idp::demo::DEMO_CLIENT_ID)
            .unwrap()
            .unwrap();
        let release = |scopes| {
            broker::release::release(
                dir,
                &state.pseudonyms,
                &rp,
                emma,
                &school(),
                LoginContext::School,
                scopes,
            )
            .unwrap()
        };
        assert_eq!(release(Scopes::all()).niveau, Some(j(&[1, 3, 4, 5])));
        assert_eq!(release(Scopes::default()).niveau, None);

        // Taken away again.
        niveaus::give_pupil(&w, &sanne, emma, &[]).unwrap();
        assert_eq!(release(Scopes::all()).niveau, Some(j(&[3, 4, 5])));
    }
);
