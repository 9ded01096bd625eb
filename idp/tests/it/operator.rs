//! The operator console (`/operator`), in process: only a browser signed in with a one-time
//! link the command makes gets in, once per link; a merger and a split are previewed without
//! writing and carried out when confirmed, people keeping their ids; forms without the
//! session's CSRF token and the broker's refusals write nothing. The command itself
//! (`operator link`) runs as a process.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test as web;
use broker::admin::{self, Ctx};
use broker::clock::FixedClock;
use broker::model::SchoolStatus;
use claims::InstellingRef;
use idp::app::AppState;
use idp::config::Config;
use idp::demo::DEMO_SCHOOL_REF;
use idp::server::operator;
use uuid::Uuid;

use crate::cli::Env;
use crate::on_both_backends;
use crate::support::browser::Browser;
use crate::support::page::hidden;
use crate::support::{monday_morning, TestDb};

const LISTEN: &str = "127.0.0.1:9465";

/// The demo school on a test database, with the console turned on (not bound: the tests
/// call its application in process).
struct Console {
    state: AppState,
    clock: Arc<FixedClock>,
    _keys: tempfile::TempDir,
}

impl Console {
    fn on(db: &TestDb) -> Console {
        let keys = tempfile::tempdir().unwrap();
        let env = [
            ("LEERPOORT_DATABASE_URL", db.url.clone()),
            ("LEERPOORT_KEYS_DIR", keys.path().display().to_string()),
            (
                "LEERPOORT_OUTBOX_DIR",
                keys.path().join("outbox").display().to_string(),
            ),
            ("LEERPOORT_OPERATOR_LISTEN", LISTEN.to_string()),
            ("LEERPOORT_TRUST_PROXY", "true".to_string()),
        ];
        let config = Config::load_with_env(None, |k| {
            env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        })
        .unwrap();
        let clock = monday_morning();
        let state =
            AppState::with_directory(config, clock.clone(), Arc::new(db.directory())).unwrap();
        idp::demo::seed(&state).unwrap();
        Console {
            state,
            clock,
            _keys: keys,
        }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            dir: self.state.dir.as_ref(),
            clock: self.state.clock.as_ref(),
            actor: "cli",
        }
    }

    /// A sign-in link as `leerpoort operator link` makes it: its path and query.
    fn link(&self, minutes: u32) -> String {
        let link = operator::make_link(&self.state, minutes, "cli").unwrap();
        link.url
            .strip_prefix(&format!("http://{LISTEN}"))
            .unwrap()
            .to_string()
    }

    /// The ids of the users of `school`, sorted.
    fn people(&self, school: &InstellingRef) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .state
            .dir
            .users_of_school(school)
            .unwrap()
            .iter()
            .map(|u| u.id)
            .collect();
        ids.sort();
        ids
    }

    fn trail(&self) -> usize {
        self.state.dir.audit_events(None, 10_000).unwrap().len()
    }

    fn status(&self, school: &InstellingRef) -> SchoolStatus {
        self.state.dir.school(school).unwrap().unwrap().status
    }

    /// A second school with one group and two pupils.
    fn zonnebloem(&self) -> InstellingRef {
        let ctx = self.ctx();
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
        admin::add_group(ctx, &school, "groep-8", "Groep 8", None, false).unwrap();
        for given in ["Mila", "Ravi"] {
            admin::add_user(
                ctx,
                self.state.credentials(),
                admin::UserInput {
                    school: school.to_string(),
                    role: "leerling".into(),
                    given_name: given.into(),
                    family_name: "Zon".into(),
                    groups: vec!["groep-8".into()],
                    pin: Some("2468".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        }
        school
    }
}

fn demo() -> InstellingRef {
    DEMO_SCHOOL_REF.parse().unwrap()
}

fn run<F: std::future::Future<Output = ()>>(f: F) {
    actix_web::rt::System::new().block_on(f);
}

/// Sign `b` in with a fresh link; the session's CSRF token (from the school list).
async fn sign_in<S, B>(console: &Console, app: &S, b: &mut Browser) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let (status, to, _) = b.get(app, &console.link(10)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to, "/operator");
    let (status, _, body) = b.get(app, "/operator").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    hidden(&body, "csrf_token")
}

on_both_backends!(
    without_a_session_the_console_shows_nothing,
    |db: &TestDb| {
        run(async {
            let c = Console::on(db);
            let app = web::init_service(operator::operator_app(c.state.clone())).await;
            let mut b = Browser::new();
            for path in ["/operator", "/operator/fusie", "/operator/splitsen"] {
                let (status, _, body) = b.get(&app, path).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
                assert!(body.contains("leerpoort operator link"), "{body}");
                assert!(!body.contains("De Regenboog"), "{body}");
            }
            // A made-up session cookie is no session.
            b.set_cookie("leerpoort-operator", "x".repeat(43));
            let (status, _, _) = b.get(&app, "/operator").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            let trail = c.trail();
            let (status, _, _) = b
                .post(
                    &app,
                    "/operator/fusie",
                    &[
                        ("csrf_token", "x"),
                        ("from", DEMO_SCHOOL_REF),
                        ("into", DEMO_SCHOOL_REF),
                    ],
                )
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(c.trail(), trail, "nothing written");
            // The public application has no console.
            let public = web::init_service(idp::server::app(c.state.clone())).await;
            let res = web::call_service(
                &public,
                web::TestRequest::get().uri("/operator").to_request(),
            )
            .await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND);
        })
    }
);

on_both_backends!(
    a_link_signs_in_once_and_not_after_it_expires,
    |db: &TestDb| {
        run(async {
            let c = Console::on(db);
            let app = web::init_service(operator::operator_app(c.state.clone())).await;
            let link = c.link(10);
            assert!(link.starts_with("/operator/inloggen?code="), "{link}");

            let mut b = Browser::new();
            let res = b.send_raw(&app, web::TestRequest::get().uri(&link)).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let cookie = res
                .response()
                .cookies()
                .find(|k| k.name() == "leerpoort-operator")
                .unwrap()
                .into_owned();
            assert_eq!(cookie.http_only(), Some(true));
            assert_eq!(
                cookie.same_site(),
                Some(actix_web::cookie::SameSite::Strict)
            );
            assert_eq!(cookie.path(), Some("/operator"));
            assert_ne!(cookie.secure(), Some(true), "the issuer is http here");
            let (status, _, body) = b.get(&app, "/operator").await;
            assert_eq!(status, StatusCode::OK);
            assert!(
                body.contains("De Regenboog") && body.contains(DEMO_SCHOOL_REF),
                "{body}"
            );
            assert!(body.contains("99ZZ00") && body.contains("active"), "{body}");
            assert!(body.contains(&format!("/operator/fusie?from={DEMO_SCHOOL_REF}")));
            assert!(body.contains(&format!("/operator/splitsen?school={DEMO_SCHOOL_REF}")));

            // Used once: not again, not by another browser either.
            let mut other = Browser::new();
            let (status, _, body) = other.get(&app, &link).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            assert!(body.contains("not valid"), "{body}");
            assert!(!other.has("leerpoort-operator"));

            // A newer link replaces one not yet used.
            let older = c.link(10);
            let newer = c.link(10);
            let (status, _, _) = other.get(&app, &older).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            let (status, _, _) = other.get(&app, &newer).await;
            assert_eq!(status, StatusCode::SEE_OTHER);

            // Expired.
            let late = c.link(1);
            c.clock.advance(Duration::from_secs(61));
            let mut third = Browser::new();
            let (status, _, body) = third.get(&app, &late).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            assert!(body.contains("expired"), "{body}");
            assert!(!third.has("leerpoort-operator"));

            // Signing out ends the session.
            let (_, _, page) = b.get(&app, "/operator").await;
            let csrf = hidden(&page, "csrf_token");
            let (status, _, _) = b
                .post(&app, "/operator/uitloggen", &[("csrf_token", &csrf)])
                .await;
            assert_eq!(status, StatusCode::OK);
            let (status, _, _) = b.get(&app, "/operator").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);

            // The trail has each link and each sign-in, by whom.
            let lines = c.state.dir.audit_events(None, 10_000).unwrap();
            let made = lines.iter().filter(|e| e.action == "operator.link").count();
            let used: Vec<_> = lines
                .iter()
                .filter(|e| e.action == "operator.sign-in")
                .collect();
            assert_eq!(made, 4);
            assert_eq!(used.len(), 2);
            assert!(used.iter().all(|e| e.actor == "operator"));
            assert!(lines.iter().all(|e| !e
                .details
                .to_string()
                .contains(link.split('=').nth(1).unwrap())));
        })
    }
);

#[test]
fn wrong_codes_are_throttled_per_address() {
    run(async {
        let db = TestDb::sqlite();
        let c = Console::on(&db);
        let app = web::init_service(operator::operator_app(c.state.clone())).await;
        let link = c.link(10);
        let mut b = Browser::at("192.0.2.7");
        for _ in 0..10 {
            let (status, _, _) = b
                .get(&app, &format!("/operator/inloggen?code={}", "A".repeat(43)))
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
        // Now even the right code is refused from there, without looking.
        let res = b.send_raw(&app, web::TestRequest::get().uri(&link)).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().contains_key("retry-after"));
        // From another address it still works, once.
        let mut elsewhere = Browser::at("192.0.2.8");
        let (status, _, _) = elsewhere.get(&app, &link).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    })
}

on_both_backends!(a_merger_is_previewed_then_confirmed, |db: &TestDb| {
    run(async {
        let c = Console::on(db);
        let app = web::init_service(operator::operator_app(c.state.clone())).await;
        let from = demo();
        let into = c.zonnebloem();
        let mut b = Browser::new();
        let csrf = sign_in(&c, &app, &mut b).await;

        let (status, _, form) = b.get(&app, &format!("/operator/fusie?from={from}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            form.contains(&format!("<option value=\"{from}\" selected>")),
            "{form}"
        );
        assert!(
            form.contains(&format!("<option value=\"{into}\">")),
            "{form}"
        );

        let (from_people, into_people) = (c.people(&from), c.people(&into));
        let trail = c.trail();
        let fields = [
            ("csrf_token", csrf.as_str()),
            ("from", DEMO_SCHOOL_REF),
            ("into", &into.to_string()),
        ];
        let (status, _, preview) = b.post(&app, "/operator/fusie/voorbeeld", &fields).await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert!(preview.contains("Preview"), "{preview}");
        assert!(preview.contains("Nothing has changed yet"), "{preview}");
        // 3 groups, 12 pupils and 3 staff move (the demo school).
        assert!(
            preview.contains("<td>3</td><td>12</td><td>3</td>"),
            "{preview}"
        );
        assert_eq!(c.people(&from), from_people, "the preview writes nothing");
        assert_eq!(c.people(&into), into_people);
        assert_eq!(c.status(&from), SchoolStatus::Active);
        assert_eq!(c.trail(), trail);

        let (status, _, done) = b.post(&app, "/operator/fusie", &fields).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert!(done.contains("has merged into"), "{done}");
        assert_eq!(c.status(&from), SchoolStatus::Merged(into));
        assert!(c.people(&from).is_empty());
        let mut everyone = [from_people, into_people].concat();
        everyone.sort();
        assert_eq!(c.people(&into), everyone, "everyone keeps their id");
        let lines = c.state.dir.audit_events(None, 10_000).unwrap();
        let merge = lines.iter().find(|e| e.action == "school.merge").unwrap();
        assert_eq!(merge.actor, "operator");

        // Again: refused on the page (the school has merged already), nothing written.
        let trail = c.trail();
        let (status, _, again) = b.post(&app, "/operator/fusie", &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(again.contains("has already merged"), "{again}");
        assert_eq!(c.trail(), trail);
    })
});

on_both_backends!(a_split_is_previewed_then_confirmed, |db: &TestDb| {
    run(async {
        let c = Console::on(db);
        let app = web::init_service(operator::operator_app(c.state.clone())).await;
        let from = demo();
        let mut b = Browser::new();
        let csrf = sign_in(&c, &app, &mut b).await;

        let (status, _, chooser) = b.get(&app, "/operator/splitsen").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            chooser.contains(&format!("<option value=\"{from}\">")),
            "{chooser}"
        );
        let (status, _, form) = b
            .get(&app, &format!("/operator/splitsen?school={from}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        for key in ["groep-1-2", "groep-3a", "groep-7b"] {
            assert!(form.contains(&format!("value=\"{key}\"")), "{key}: {form}");
        }

        let g7 = c
            .state
            .dir
            .group_by_key(&from, "groep-7b")
            .unwrap()
            .unwrap();
        let movers: Vec<Uuid> = {
            let mut ids: Vec<Uuid> = c
                .state
                .dir
                .users_of_school(&from)
                .unwrap()
                .iter()
                .filter(|u| u.group_ids == vec![g7.id])
                .map(|u| u.id)
                .collect();
            ids.sort();
            ids
        };
        assert!(!movers.is_empty());
        let people = c.people(&from);
        let trail = c.trail();
        let fields = [
            ("csrf_token", csrf.as_str()),
            ("school", DEMO_SCHOOL_REF),
            ("group", "groep-7b"),
            ("brin", "99ZZ"),
            ("vestiging", "01"),
            ("name", "De Regenboog Oost"),
            ("networks", "192.0.2.0/24\r\n198.51.100.0/24"),
        ];
        let (status, _, preview) = b.post(&app, "/operator/splitsen/voorbeeld", &fields).await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert!(preview.contains("Nothing has changed yet"), "{preview}");
        assert!(preview.contains("De Regenboog Oost (99ZZ01)"), "{preview}");
        assert!(
            preview.contains("name=\"networks\" value=\"198.51.100.0/24\""),
            "{preview}"
        );
        assert_eq!(
            c.state.dir.schools().unwrap().len(),
            2,
            "the preview writes nothing (the demo's two schools)"
        );
        assert_eq!(c.people(&from), people);
        assert_eq!(c.trail(), trail);

        // The confirm form of the preview carries the same fields.
        let mut confirm = vec![("csrf_token", csrf.as_str()), ("school", DEMO_SCHOOL_REF)];
        confirm.extend([
            ("group", "groep-7b"),
            ("brin", "99ZZ"),
            ("vestiging", "01"),
            ("name", "De Regenboog Oost"),
            ("networks", "192.0.2.0/24"),
            ("networks", "198.51.100.0/24"),
        ]);
        let (status, _, done) = b.post(&app, "/operator/splitsen", &confirm).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        let new: InstellingRef = {
            let start = done.find("id=\"new-school\">").unwrap() + "id=\"new-school\">".len();
            done[start..].split('<').next().unwrap().parse().unwrap()
        };
        let school = c.state.dir.school(&new).unwrap().unwrap();
        assert_eq!(school.brin6.to_string(), "99ZZ01");
        assert_eq!(school.name, "De Regenboog Oost");
        assert_eq!(school.networks.len(), 2);
        assert_eq!(c.state.dir.group(g7.id).unwrap().unwrap().school, new);
        assert_eq!(c.people(&new), movers, "the moved people keep their ids");
        let lines = c.state.dir.audit_events(None, 10_000).unwrap();
        let split = lines.iter().find(|e| e.action == "school.split").unwrap();
        assert_eq!(split.actor, "operator");
    })
});

on_both_backends!(
    forms_without_the_session_token_and_refusals_write_nothing,
    |db: &TestDb| {
        run(async {
            let c = Console::on(db);
            let app = web::init_service(operator::operator_app(c.state.clone())).await;
            let from = demo();
            let into = c.zonnebloem();
            let into_s = into.to_string();
            let mut b = Browser::new();
            let csrf = sign_in(&c, &app, &mut b).await;
            // Another session's token is a wrong token too.
            let mut other = Browser::new();
            let theirs = sign_in(&c, &app, &mut other).await;
            assert_ne!(csrf, theirs);

            let trail = c.trail();
            let people = c.people(&from);
            for token in [None, Some(""), Some("wrong"), Some(theirs.as_str())] {
                let mut merge = vec![("from", DEMO_SCHOOL_REF), ("into", into_s.as_str())];
                let mut split = vec![
                    ("school", DEMO_SCHOOL_REF),
                    ("group", "groep-7b"),
                    ("brin", "99ZZ"),
                    ("vestiging", "01"),
                ];
                if let Some(t) = token {
                    merge.push(("csrf_token", t));
                    split.push(("csrf_token", t));
                }
                for (path, form) in [
                    ("/operator/fusie", &merge),
                    ("/operator/fusie/voorbeeld", &merge),
                    ("/operator/splitsen", &split),
                    ("/operator/splitsen/voorbeeld", &split),
                    ("/operator/uitloggen", &merge),
                ] {
                    let (status, _, body) = b.post(&app, path, form).await;
                    assert_eq!(status, StatusCode::FORBIDDEN, "{path} {token:?}: {body}");
                    assert!(body.contains("nothing was done"), "{body}");
                }
            }
            assert_eq!(c.trail(), trail, "nothing written");
            assert_eq!(c.status(&from), SchoolStatus::Active);
            assert_eq!(c.people(&from), people);
            assert_eq!(c.state.dir.schools().unwrap().len(), 3);
            // Still signed in (the refused sign-out did nothing).
            let (status, _, _) = b.get(&app, "/operator").await;
            assert_eq!(status, StatusCode::OK);

            // The broker's refusals, shown on the page: an unknown group key, a BRIN6 in use, a
            // school merging into itself.
            for (path, form, says) in [
                (
                    "/operator/splitsen/voorbeeld",
                    vec![
                        ("csrf_token", csrf.as_str()),
                        ("school", DEMO_SCHOOL_REF),
                        ("group", "groep-7b"),
                        ("group", "groep-9"),
                        ("brin", "99ZZ"),
                        ("vestiging", "01"),
                    ],
                    "no group with key &#39;groep-9&#39;",
                ),
                (
                    "/operator/splitsen",
                    vec![
                        ("csrf_token", csrf.as_str()),
                        ("school", DEMO_SCHOOL_REF),
                        ("group", "groep-9"),
                        ("brin", "99ZZ"),
                        ("vestiging", "01"),
                    ],
                    "no group with key &#39;groep-9&#39;",
                ),
                (
                    "/operator/splitsen/voorbeeld",
                    vec![
                        ("csrf_token", csrf.as_str()),
                        ("school", DEMO_SCHOOL_REF),
                        ("group", "groep-7b"),
                        ("brin", "34CD"),
                        ("vestiging", "00"),
                    ],
                    "already has BRIN6 34CD00",
                ),
                (
                    "/operator/splitsen/voorbeeld",
                    vec![
                        ("csrf_token", csrf.as_str()),
                        ("school", DEMO_SCHOOL_REF),
                        ("brin", "99ZZ"),
                        ("vestiging", "01"),
                    ],
                    "choose the groups that move",
                ),
                (
                    "/operator/fusie/voorbeeld",
                    vec![
                        ("csrf_token", csrf.as_str()),
                        ("from", into_s.as_str()),
                        ("into", into_s.as_str()),
                    ],
                    "cannot merge into itself",
                ),
            ] {
                let (status, _, body) = b.post(&app, path, &form).await;
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
                assert!(body.contains("role=\"alert\""), "{body}");
                assert!(body.contains(says), "{says}: {body}");
                assert!(body.contains("Nothing was changed"), "{body}");
            }
            assert_eq!(c.trail(), trail, "nothing written");
            assert_eq!(c.state.dir.schools().unwrap().len(), 3);
            assert_eq!(c.people(&from), people);
        })
    }
);

#[test]
fn the_command_makes_a_link_the_console_takes() {
    let db = TestDb::sqlite();
    let mut env = Env::on(&db.url);
    let e = env.fails(&["operator", "link"]);
    assert!(e.contains("LEERPOORT_OPERATOR_LISTEN"), "{e}");
    env.set("LEERPOORT_OPERATOR_LISTEN", LISTEN);
    let e = env.fails(&["operator", "link", "--minutes", "61"]);
    assert!(e.contains("--minutes"), "{e}");
    let link = env.ok(&["operator", "link", "--minutes", "5"]);
    let url = link["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("http://{LISTEN}/operator/inloggen?code=")),
        "{url}"
    );
    assert!(link["expires_at"].as_i64().unwrap() > 0);

    // The server reads the link from the database the command wrote it to.
    run(async {
        let c = Console::on(&db);
        // The command's link counts from the real time.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        c.clock.set_secs(i64::try_from(now.as_secs()).unwrap());
        let app = web::init_service(operator::operator_app(c.state.clone())).await;
        let path = url.strip_prefix(&format!("http://{LISTEN}")).unwrap();
        let mut b = Browser::new();
        let (status, to, body) = b.get(&app, path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(to, "/operator");
    });
}
