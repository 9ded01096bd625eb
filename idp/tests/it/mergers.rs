//! Mergers and splits, in process on both backends: every pupil's `sub` at a publisher is the
//! same before and after (computed as the token endpoint does, and from a real sign-in ending
//! in an ID token); people in both schools become one; the old shortcut leads to the new
//! school; the merged school's consents wait for the coordinator; refusals write nothing.
//! The command itself is tested in `mergers/cli.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test as web;
use base64::Engine as _;
use broker::admin::{self, Ctx};
use broker::audit::AuditAction;
use broker::clock::FixedClock;
use broker::model::{RelyingParty, SchoolStatus, UserStatus};
use claims::InstellingRef;
use idp::app::AppState;
use idp::config::Config;
use idp::demo::{DEMO_CLIENT_ID, DEMO_SAML_ENTITY_ID, DEMO_SCHOOL_REF};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::browser::Browser;
use crate::support::client::basic;
use crate::support::page::{hidden, links};
use crate::support::{monday_morning, TestDb};

mod cli;

const REDIRECT: &str = "http://127.0.0.1:8081/callback";
const AUTHORIZE: &str = "/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&state=s1&prompt=none";

/// The demo school on a test database of either backend, served in process.
pub(crate) struct Site {
    pub state: AppState,
    pub clock: Arc<FixedClock>,
    pub demo: Value,
    _keys: tempfile::TempDir,
}

impl Site {
    pub(crate) fn on(db: &TestDb) -> Site {
        let keys = tempfile::tempdir().unwrap();
        let env = [
            ("LEERPOORT_DATABASE_URL", db.url.clone()),
            ("LEERPOORT_KEYS_DIR", keys.path().display().to_string()),
            (
                "LEERPOORT_OUTBOX_DIR",
                keys.path().join("outbox").display().to_string(),
            ),
            ("LEERPOORT_TRUST_PROXY", "true".to_string()),
        ];
        let config = Config::load_with_env(None, |k| {
            env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        })
        .unwrap();
        let clock = monday_morning();
        let state =
            AppState::with_directory(config, clock.clone(), Arc::new(db.directory())).unwrap();
        let demo = idp::demo::seed(&state).unwrap();
        Site {
            state,
            clock,
            demo,
            _keys: keys,
        }
    }

    pub(crate) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            dir: self.state.dir.as_ref(),
            clock: self.state.clock.as_ref(),
            actor: "cli",
        }
    }

    fn later(&self) {
        self.clock.advance(std::time::Duration::from_secs(60));
    }

    pub(crate) fn client(&self) -> RelyingParty {
        self.state
            .dir
            .relying_party_by_public_id(DEMO_CLIENT_ID)
            .unwrap()
            .unwrap()
    }

    fn secret(&self) -> String {
        self.demo["oidc_client"]["client_secret"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub(crate) fn pupil(&self, name: &str) -> Uuid {
        crate::school::pupil_id(&self.demo, name).parse().unwrap()
    }

    /// Every pupil's `sub` at `rp` (removed ones too), as the token endpoint computes it.
    pub(crate) fn subs(&self, ids: &[Uuid]) -> BTreeMap<Uuid, String> {
        let rp = self.client();
        ids.iter()
            .map(|id| {
                let user = self.state.dir.user(*id).unwrap().unwrap();
                let sub = broker::release::subject_for(&self.state.pseudonyms, &rp, &user).unwrap();
                (*id, sub.as_str().to_string())
            })
            .collect()
    }

    /// The ids of the pupils of `school`.
    pub(crate) fn pupils(&self, school: &InstellingRef) -> Vec<Uuid> {
        let users = self.state.dir.users_of_school(school).unwrap();
        users
            .iter()
            .filter(|u| u.is_pupil())
            .map(|u| u.id)
            .collect()
    }
}

fn demo_school() -> InstellingRef {
    DEMO_SCHOOL_REF.parse().unwrap()
}

/// A second school, with the demo publisher's software allowed, its own groups and pupils.
fn zonnebloem(site: &Site) -> InstellingRef {
    let ctx = site.ctx();
    let school = admin::add_school(
        ctx,
        admin::SchoolInput {
            brin: "34CD".into(),
            vestiging: "00".into(),
            name: "De Zonnebloem".into(),
            networks: vec!["10.9.0.0/16".into()],
            board: None,
            instelling_ref: None,
        },
    )
    .unwrap()
    .instelling_ref;
    admin::register(
        ctx,
        &school,
        DEMO_CLIENT_ID,
        admin::RegisterOptions::default(),
    )
    .unwrap();
    for (key, name) in [("groep-3a", "Groep 3A"), ("groep-8", "Groep 8")] {
        admin::add_group(ctx, &school, key, name, None, false).unwrap();
    }
    // Emma is in both schools' data (by LAS key, without her ECK-iD here); LK0001 is a pupil
    // here and a teacher (Anna) at De Regenboog; Mila is only here.
    for (given, key, group) in [
        ("Emma", "LL0001", "groep-8"),
        ("Ravi", "LK0001", "groep-8"),
        ("Mila", "Z-1", "groep-3a"),
    ] {
        admin::add_user(
            ctx,
            site.state.credentials(),
            admin::UserInput {
                school: school.to_string(),
                role: "leerling".into(),
                given_name: given.into(),
                family_name: "Zon".into(),
                las_key: Some(key.into()),
                groups: vec![group.into()],
                pin: Some("2468".into()),
                ..Default::default()
            },
        )
        .unwrap();
    }
    school
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `pupil` signs in through the shortcut of `school` (name tile and PIN) and the publisher's
/// code flow passes silently: the claims of the ID token the token endpoint gives.
async fn id_token<S, B>(
    app: &S,
    b: &mut Browser,
    (school, pupil, pin): (&InstellingRef, Uuid, &str),
    secret: &str,
) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let shortcut = format!("/snelkoppeling?INSTELLING_REF={school}&TARGET={DEMO_CLIENT_ID}");
    let (status, _, body) = b.get(app, &shortcut).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut tile = None;
    for group in links(&body, "/school/") {
        let (_, _, names) = b.get(app, &group).await;
        tile = links(&names, "/school/")
            .into_iter()
            .find(|l| l.contains(&format!("/leerling/{pupil}")));
        if tile.is_some() {
            break;
        }
    }
    let tile = tile.expect("the pupil's name tile");
    let (_, _, body) = b.get(app, &tile).await;
    let csrf = hidden(&body, "csrf_token");
    let (status, to, body) = b
        .post(app, &tile, &[("csrf_token", &csrf), ("pin", pin)])
        .await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    assert!(to.starts_with("http://127.0.0.1:8081/login"), "{to}");
    code_flow(app, b, secret).await
}

/// The publisher's code flow in a signed-in browser, passing silently: the ID token's claims.
async fn code_flow<S, B>(app: &S, b: &mut Browser, secret: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (_, to, _) = b.get(app, AUTHORIZE).await;
    let code = query_param(&to, "code").unwrap_or_else(|| panic!("a code: {to}"));
    let req = web::TestRequest::post()
        .uri("/oidc/token")
        .insert_header(("authorization", basic(DEMO_CLIENT_ID, secret)))
        .set_form([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .to_request();
    let res = web::call_service(app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = web::read_body_json(res).await;
    let payload = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn run<F: std::future::Future<Output = ()>>(f: F) {
    actix_web::rt::System::new().block_on(f);
}

on_both_backends!(a_merger_keeps_every_pseudonym, |db: &TestDb| run(async {
    let site = Site::on(db);
    let from = demo_school();
    site.later();
    let into = zonnebloem(&site);
    let app = web::init_service(idp::server::app(site.state.clone())).await;
    let emma = site.pupil("Emma de Jong");
    let mut all = site.pupils(&from);
    all.extend(site.pupils(&into));
    let before = site.subs(&all);
    let mut b = Browser::at("127.0.0.1");
    let claims = id_token(&app, &mut b, (&from, emma, "1234"), &site.secret()).await;
    assert_eq!(claims["sub"].as_str(), Some(before[&emma].as_str()));
    let emma_here = site
        .state
        .dir
        .user_by_las_key(&into, "LL0001")
        .unwrap()
        .unwrap()
        .id;
    let (device, account) = references(&site, &from, emma_here);

    site.later();
    let r = admin::merge(site.ctx(), &from, &into).unwrap();
    assert_eq!(
        (r.moved.groups, r.moved.pupils, r.moved.teachers),
        (3, 12, 3)
    );
    assert_eq!((r.joined.pupils, r.joined.teachers), (1, 0));
    assert_eq!(
        (r.joins[0].keeper, r.joins[0].joined),
        (emma, emma_here),
        "the record made first keeps its id"
    );
    assert!(r.consents_offered);
    let warnings = serde_json::to_string(&r.warnings).unwrap();
    assert!(
        warnings.contains("groep-3a@99ZZ00") && warnings.contains("las-key-taken"),
        "{warnings}"
    );

    // Every pupil keeps their sub; the joined record is one person with Emma.
    assert_eq!(site.subs(&all), before);
    let dir = &site.state.dir;
    assert_eq!(
        dir.user(emma_here).unwrap().unwrap().status,
        UserStatus::Removed
    );
    let emma_now = dir.user(emma).unwrap().unwrap();
    assert_eq!(emma_now.school, into);
    assert_eq!(emma_now.group_ids.len(), 2, "her groups at both schools");
    let anna = dir
        .user_by_email("anna.devries@regenboog.example")
        .unwrap()
        .unwrap();
    assert_eq!(
        anna.las_key.as_deref(),
        Some("LK0001@99ZZ00"),
        "Ravi has LK0001"
    );
    assert!(warnings.contains(&anna.id.to_string()), "{warnings}");
    let names: Vec<String> = dir
        .users_of_school(&into)
        .unwrap()
        .iter()
        .filter(|u| u.las_key.as_deref() == Some("LL0001"))
        .map(|u| u.id.to_string())
        .collect();
    assert_eq!(names, vec![emma.to_string()], "one Emma");
    assert!(dir.users_of_school(&from).unwrap().is_empty());
    assert_eq!(
        dir.school(&from).unwrap().unwrap().status,
        SchoolStatus::Merged(into)
    );
    // What the joined record and the old school had, the keeper and the new school have.
    let homes = dir.thuis_accounts_of_user(emma).unwrap();
    assert_eq!(
        homes.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![account]
    );
    assert!(dir.thuis_accounts_of_user(emma_here).unwrap().is_empty());
    assert_eq!(dir.device(device).unwrap().unwrap().school, into);
    assert!(dir.dynamic_ip(&into).unwrap().is_some());
    assert!(dir.dynamic_ip(&from).unwrap().is_none());
    let networks = dir.school(&into).unwrap().unwrap().networks;
    assert_eq!(
        networks.len(),
        3,
        "its own and the old school's: {networks:?}"
    );

    // Emma's session of before the merger goes on at the new school.
    let claims = code_flow(&app, &mut b, &site.secret()).await;
    assert_eq!(claims["sub"].as_str(), Some(before[&emma].as_str()));
    assert_eq!(claims["instelling_ref"], into.to_string());

    let trail = dir.audit_events(Some(&into), 50).unwrap();
    let joined = trail.iter().find(|e| e.action == "user.joined").unwrap();
    assert_eq!(
        joined.details,
        serde_json::json!({"keeper": emma, "joined": emma_here, "by": "las-key"})
    );

    // The old shortcut leads to the new school; Emma signs in there with the same sub.
    let mut b = Browser::at("127.0.0.1");
    let shortcut = format!("/snelkoppeling?INSTELLING_REF={from}");
    let (status, _, body) = b.get(&app, &shortcut).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("De Zonnebloem"), "{body}");
    let claims = id_token(&app, &mut b, (&from, emma, "1234"), &site.secret()).await;
    assert_eq!(claims["sub"].as_str(), Some(before[&emma].as_str()));
    assert_eq!(claims["instelling_ref"], into.to_string());

    consents_wait_for_the_coordinator(&site, &app, &from, &into).await;
    refused_mergers(&site, &from, &into);
}));

/// A home address of `pupil`, a linked device and Dynamic IP at `school`: the device's id and
/// the home account's.
fn references(site: &Site, school: &InstellingRef, pupil: Uuid) -> (Uuid, Uuid) {
    let dir = &site.state.dir;
    let now = site.state.clock.now_secs();
    let line = |action| {
        broker::model::AuditEvent::record(action, "test", now, Some(*school), None, json!({}))
    };
    let account = dir
        .link_thuis_account(
            pupil,
            "ouder.zon@example.org",
            line(AuditAction::ThuisAddressAdded),
        )
        .unwrap()
        .id;
    let anna = dir
        .user_by_email("anna.devries@regenboog.example")
        .unwrap()
        .unwrap();
    let device = broker::model::EnrolledDevice {
        id: Uuid::new_v4(),
        school: *school,
        name: "iPad 3".into(),
        enrolled_by: anna.id,
        enrolled_at: now,
        last_used_at: None,
    };
    let device = dir
        .insert_device(device, 10, line(AuditAction::DeviceEnrol))
        .unwrap()
        .id;
    dir.set_dynamic_ip_token(school, "0f0f", line(AuditAction::DynamicIpToken))
        .unwrap();
    (device, account)
}

/// The merged school's consents are not copied at once: the coordinator sees them and takes
/// them over (once).
async fn consents_wait_for_the_coordinator<S, B>(
    site: &Site,
    app: &S,
    from: &InstellingRef,
    into: &InstellingRef,
) where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let dir = &site.state.dir;
    let sp = dir
        .relying_party_by_public_id(DEMO_SAML_ENTITY_ID)
        .unwrap()
        .unwrap();
    assert!(
        dir.registration(into, sp.id).unwrap().is_none(),
        "not at once"
    );
    let upstream = dir
        .upstream_by_name(idp::demo::DEMO_UPSTREAM)
        .unwrap()
        .unwrap();
    assert!(!upstream.schools.contains(into));
    let mut b = Browser::new();
    b.sign_in(app, "sanne.jansen@regenboog.example").await;
    let (status, _, page) = b.get(app, "/beheer/toestemming").await;
    assert_eq!(status, StatusCode::OK);
    for words in [
        "Toestemming van de gefuseerde school overnemen",
        "Basisschool De Regenboog is gefuseerd met uw school",
        "Demo-uitgeverij Taal",
        "Demo-netwerkomgeving",
        idp::demo::DEMO_UPSTREAM,
    ] {
        assert!(page.contains(words), "{words}: {page}");
    }
    // Without the CSRF token, or from a teacher: nothing changes.
    let forged = [("csrf_token", "x"), ("school", &from.to_string())];
    let (status, _, _) = b.post(app, "/beheer/toestemming/fusie", &forged).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut teacher = Browser::new();
    teacher.sign_in(app, "anna.devries@regenboog.example").await;
    let (_, _, start) = teacher.get(app, "/").await;
    let forged = [
        ("csrf_token", hidden(&start, "csrf_token")),
        ("school", from.to_string()),
    ];
    let forged: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, _) = teacher
        .post(app, "/beheer/toestemming/fusie", &forged)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(dir.registration(into, sp.id).unwrap().is_none());

    let csrf = hidden(&page, "csrf_token");
    let form = [("csrf_token", csrf.as_str()), ("school", &from.to_string())];
    let (status, _, page) = b.post(app, "/beheer/toestemming/fusie", &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("De toestemming van Basisschool De Regenboog is overgenomen."),
        "{page}"
    );
    assert!(
        !page.contains("gefuseerd met uw school"),
        "the offer is gone"
    );
    let reg = dir.registration(into, sp.id).unwrap().unwrap();
    assert!(reg.allowed);
    let upstream = dir
        .upstream_by_name(idp::demo::DEMO_UPSTREAM)
        .unwrap()
        .unwrap();
    assert!(upstream.schools.contains(into));
    let trail = dir.audit_events(Some(into), 100).unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == "school.merger-consents")
            .count(),
        1
    );
    // A second click changes nothing.
    let csrf = hidden(&page, "csrf_token");
    let form = [("csrf_token", csrf.as_str()), ("school", &from.to_string())];
    let (_, _, page) = b.post(app, "/beheer/toestemming/fusie", &form).await;
    assert!(page.contains("Er is niets veranderd."), "{page}");
    assert_eq!(
        dir.audit_events(Some(into), 100).unwrap().len(),
        trail.len()
    );
}

/// A school into itself, into a merged or closed school, or a merged school again: refused,
/// nothing written.
fn refused_mergers(site: &Site, from: &InstellingRef, into: &InstellingRef) {
    let ctx = site.ctx();
    let closed = admin::add_school(
        ctx,
        admin::SchoolInput {
            brin: "56EF".into(),
            vestiging: "00".into(),
            name: "De Gesloten".into(),
            networks: vec![],
            board: None,
            instelling_ref: None,
        },
    )
    .unwrap()
    .instelling_ref;
    admin::close_school(ctx, &closed).unwrap();
    let trail = site.state.dir.audit_events(None, 1000).unwrap().len();
    for (a, b, says) in [
        (into, into, "itself"),
        (from, into, "already merged"),
        (into, from, "already merged"),
        (into, &closed, "closed"),
        (&closed, into, "closed"),
    ] {
        let e = admin::merge(ctx, a, b).unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
    }
    assert_eq!(
        site.state.dir.audit_events(None, 1000).unwrap().len(),
        trail
    );
    let school = site.state.dir.school(into).unwrap().unwrap();
    assert_eq!(school.status, SchoolStatus::Active);
}

on_both_backends!(a_split_keeps_every_pseudonym, |db: &TestDb| run(async {
    let site = Site::on(db);
    let from = demo_school();
    let app = web::init_service(idp::server::app(site.state.clone())).await;
    let g3 = site
        .state
        .dir
        .group_by_key(&from, "groep-3a")
        .unwrap()
        .unwrap();
    let g7 = site
        .state
        .dir
        .group_by_key(&from, "groep-7b")
        .unwrap()
        .unwrap();
    // A teacher of groups on both sides stays.
    let both = admin::add_user(
        site.ctx(),
        site.state.credentials(),
        admin::UserInput {
            school: DEMO_SCHOOL_REF.into(),
            role: "leerkracht".into(),
            given_name: "Tom".into(),
            family_name: "Gym".into(),
            email: Some("tom.gym@regenboog.example".into()),
            groups: vec!["groep-3a".into(), "groep-7b".into()],
            ..Default::default()
        },
    )
    .unwrap()
    .user
    .id;
    let all = site.pupils(&from);
    let before = site.subs(&all);
    let liam = site.pupil("Liam de Boer");
    let mut old = Browser::at("127.0.0.1");
    let claims = id_token(&app, &mut old, (&from, liam, "6789"), &site.secret()).await;
    assert_eq!(claims["sub"].as_str(), Some(before[&liam].as_str()));
    let refused = admin::split(
        site.ctx(),
        admin::SplitInput {
            from: DEMO_SCHOOL_REF.into(),
            brin: "99ZZ".into(),
            vestiging: "01".into(),
            groups: vec!["groep-7b".into(), "groep-9".into()],
            ..Default::default()
        },
    );
    assert!(refused.unwrap_err().to_string().contains("'groep-9'"));
    assert_eq!(
        site.state.dir.schools().unwrap().len(),
        2,
        "nothing written (the demo's two schools)"
    );

    site.later();
    let r = admin::split(
        site.ctx(),
        admin::SplitInput {
            from: DEMO_SCHOOL_REF.into(),
            brin: "99ZZ".into(),
            vestiging: "01".into(),
            name: Some("De Regenboog Oost".into()),
            networks: vec!["127.0.0.0/8".into()],
            groups: vec!["groep-7b".into()],
        },
    )
    .unwrap();
    let new = r.instelling_ref;
    assert_eq!(
        (r.moved.groups, r.moved.pupils, r.moved.teachers),
        (1, 5, 1)
    );
    assert_eq!((r.stayed, r.consents_copied, r.networks_copied), (1, 3, 1));
    let warnings = serde_json::to_string(&r.warnings).unwrap();
    assert!(warnings.contains(&both.to_string()) && warnings.contains("no-coordinator"));
    let dir = &site.state.dir;
    assert_eq!(
        dir.group(g7.id).unwrap().unwrap().school,
        new,
        "the group keeps its id"
    );
    assert_eq!(dir.user(both).unwrap().unwrap().group_ids, vec![g3.id]);
    assert_eq!(site.subs(&all), before, "every pupil keeps their sub");
    let moved = site.pupils(&new);
    assert_eq!(moved.len(), 5);
    assert!(moved.contains(&liam));

    // The session at the old school is over; at the new school Liam signs in, the same sub.
    site.clock.advance(std::time::Duration::from_secs(1));
    let (_, to, _) = old.get(&app, AUTHORIZE).await;
    assert!(to.contains("error=login_required"), "{to}");
    let mut b = Browser::at("127.0.0.1");
    let claims = id_token(&app, &mut b, (&new, liam, "6789"), &site.secret()).await;
    assert_eq!(claims["sub"].as_str(), Some(before[&liam].as_str()));
    assert_eq!(claims["instelling_ref"], new.to_string());

    // An active school has this BRIN6 already, and a merged school splits no more.
    for (brin, vestiging) in [("99ZZ", "00"), ("99ZZ", "01")] {
        let e = admin::split(
            site.ctx(),
            admin::SplitInput {
                from: DEMO_SCHOOL_REF.into(),
                brin: brin.into(),
                vestiging: vestiging.into(),
                groups: vec!["groep-3a".into()],
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("BRIN6"), "{e}");
    }
    assert_eq!(dir.schools().unwrap().len(), 3, "nothing written");
    admin::merge(site.ctx(), &new, &from).unwrap();
    let e = admin::split(
        site.ctx(),
        admin::SplitInput {
            from: new.to_string(),
            brin: "99ZZ".into(),
            vestiging: "02".into(),
            groups: vec!["groep-7b".into()],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("merged"), "{e}");
}));

#[test]
fn a_merged_school_keeps_no_more_networks_than_beheer_allows() {
    assert_eq!(
        broker::admin::MERGED_NETWORKS_MAX,
        broker::beheer::school::MOST_NETWORKS
    );
}
