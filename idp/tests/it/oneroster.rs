//! OneRoster 1.2 rostering in process: a publisher's own client (the OneRoster scopes) sees
//! the schools that registered it and, of each, only what the school releases to it, every
//! person by its own pairwise `sub`; another publisher's ids are unknown to it; the calls a
//! real consumer makes (Google's: large pages, `filter=email=…`, nested collections, grading
//! periods of a term) are served; removed people turn `tobedeleted`; every answer is checked
//! against the OneRoster 1.2 rostering schema (`tests/fixtures/oneroster/`).

use std::collections::BTreeSet;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test as at;
use broker::admin;
use broker::model::RelyingParty;
use claims::{InstellingRef, Release};
use idp::app::AppState;
use idp::demo::{DEMO_CLIENT_ID, DEMO_SANDBOX_REF, DEMO_SCHOOL_REF};
use serde_json::Value;
use uuid::Uuid;

use crate::mergers::Site;
use crate::on_both_backends;
use crate::support::client::{token, token_answer};
use crate::support::TestDb;
use crate::support::{ctx, run};

const API: &str = "/ims/oneroster/rostering/v1p2";
const CORE: &str = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly";
const FULL: &str = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly";
/// The scopes Google's OneRoster 1.2 consumer asks in one token request.
const GOOGLE_SCOPES: &str = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly \
    https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly \
    https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly \
    https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly \
    https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.createput \
    https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.delete";

/// The OneRoster 1.2 rostering schema, and a check of a document against one of its
/// definitions (with the tests' shared check, [`crate::json_schema`]).
mod schema {
    use serde_json::Value;

    fn document() -> Value {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/oneroster/rostering-v1p2.schema.json"
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Check `v` against the definition `name`; every violation, by its JSON pointer.
    pub fn errors(name: &str, v: &Value) -> Vec<String> {
        errors_of(name, v, false)
    }

    /// The violations of `v` against `name`; `partial`: objects with only some members (an
    /// answer with `fields`), whose required members may be missing.
    pub fn errors_of(name: &str, v: &Value, partial: bool) -> Vec<String> {
        let doc = document();
        let definition = serde_json::json!({ "$ref": format!("#/definitions/{name}") });
        let mut out = crate::json_schema::errors(&doc, &definition, v);
        if partial {
            out.retain(|e| !e.ends_with(" is required") || e.starts_with(": "));
        }
        out
    }

    /// Panic with every violation of `v` against the definition `name`.
    pub fn assert_valid(name: &str, v: &Value, partial: bool) {
        let e = errors_of(name, v, partial);
        assert!(e.is_empty(), "not a valid {name}: {e:?}\n{v}");
    }

    #[test]
    fn the_check_finds_what_the_schema_forbids() {
        let ok = serde_json::json!({"sourcedId": "x", "status": "active",
            "dateLastModified": "2026-11-23T08:30:00.000Z", "name": "A", "type": "school"});
        assert!(errors("Org", &ok).is_empty());
        let mut bad = ok.clone();
        bad["type"] = "campus".into();
        bad["extra"] = 1.into();
        bad["dateLastModified"] = "gisteren".into();
        bad.as_object_mut().unwrap().remove("name");
        assert_eq!(errors("Org", &bad).len(), 4, "{:?}", errors("Org", &bad));
    }
}

/// What the API answered.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    /// The list under `member`.
    fn list(&self, member: &str) -> &Vec<Value> {
        self.body[member]
            .as_array()
            .unwrap_or_else(|| panic!("no {member} in {}", self.body))
    }

    fn ids(&self, member: &str) -> BTreeSet<String> {
        self.list(member)
            .iter()
            .map(|v| v["sourcedId"].as_str().unwrap().to_string())
            .collect()
    }

    /// The spec's `imsx_codeMinorFieldValue` of a refusal.
    fn code_minor(&self) -> &str {
        self.body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
            .as_str()
            .unwrap_or("")
    }
}

/// The schema definition of the answer to `path`.
fn definition_for(path: &str, status: StatusCode) -> &'static str {
    if !status.is_success() {
        return "imsx_StatusInfo";
    }
    let segs: Vec<&str> = path
        .split('?')
        .next()
        .unwrap()
        .trim_start_matches('/')
        .split('/')
        .collect();
    let last = if segs.len() == 2 {
        segs[0]
    } else {
        segs[segs.len() - 1]
    };
    let single = segs.len() == 2;
    match (last, single) {
        ("orgs" | "schools", true) => "SingleOrg",
        ("orgs" | "schools", false) => "OrgSet",
        ("academicSessions" | "terms" | "gradingPeriods", true) => "SingleAcademicSession",
        ("academicSessions" | "terms" | "gradingPeriods", false) => "AcademicSessionSet",
        ("courses", true) => "SingleCourse",
        ("courses", false) => "CourseSet",
        ("classes", true) => "SingleClass",
        ("classes", false) => "ClassSet",
        ("users" | "students" | "teachers", true) => "SingleUser",
        ("users" | "students" | "teachers", false) => "UserSet",
        ("enrollments", true) => "SingleEnrollment",
        ("enrollments", false) => "EnrollmentSet",
        other => panic!("no definition for {other:?}"),
    }
}

/// GET `path` below the API with `bearer`; the answer is checked against the schema.
async fn get<S, B>(app: &S, path: &str, bearer: Option<&str>) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = at::TestRequest::get().uri(&format!("{API}{path}"));
    if let Some(t) = bearer {
        req = req.insert_header(("authorization", format!("Bearer {t}")));
    }
    let res = at::call_service(app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = at::read_body(res).await;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(headers.get("cache-control").unwrap(), "no-store", "{path}");
    assert!(
        headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{path}"
    );
    schema::assert_valid(
        definition_for(path, status),
        &body,
        path.contains("fields="),
    );
    Answer {
        status,
        headers,
        body,
    }
}

fn demo_secret(site: &Site) -> String {
    site.demo["oidc_client"]["client_secret"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A publisher's client: (relying party, client id, secret).
fn publisher(state: &AppState, name: &str) -> (RelyingParty, String, String) {
    let host = name.to_lowercase();
    let added = admin::add_client(
        ctx(state),
        admin::ClientInput {
            name: name.into(),
            kind: "publisher".into(),
            redirect_uris: vec![format!("https://{host}.example/cb")],
            audience: "beide".into(),
            id_token_alg: "RS256".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let id = added.rp.public_id().to_string();
    (added.rp, id, added.client_secret.unwrap())
}

fn sub_at(state: &AppState, rp: &RelyingParty, user: Uuid) -> String {
    let u = state.dir.user(user).unwrap().unwrap();
    broker::release::subject_for(&state.pseudonyms, rp, &u)
        .unwrap()
        .as_str()
        .to_string()
}

/// A school the demo publisher is not registered at, with a pupil and a teacher.
fn linde(state: &AppState) -> InstellingRef {
    let c = ctx(state);
    let school = admin::add_school(
        c,
        admin::SchoolInput {
            brin: "12AB".into(),
            vestiging: "00".into(),
            name: "OBS De Linde".into(),
            networks: vec![],
            board: None,
            instelling_ref: None,
        },
    )
    .unwrap()
    .instelling_ref;
    admin::add_group(c, &school, "groep-5", "Groep 5", Some("5"), false).unwrap();
    for (given, role) in [("Noor", "leerling"), ("Bas", "leerkracht")] {
        admin::add_user(
            c,
            state.credentials(),
            admin::UserInput {
                school: school.to_string(),
                role: role.into(),
                given_name: given.into(),
                family_name: "Linde".into(),
                groups: vec!["groep-5".into()],
                email: (role != "leerling").then(|| "bas@linde.example".to_string()),
                ..Default::default()
            },
        )
        .unwrap();
    }
    school
}

fn demo_pupils(site: &Site) -> Vec<Uuid> {
    site.pupils(&DEMO_SCHOOL_REF.parse().unwrap())
}

on_both_backends!(
    a_publisher_sees_only_the_schools_that_registered_it_by_its_own_ids,
    |db: &TestDb| run(async {
        let site = Site::on(db);
        let st = &site.state;
        let app = at::init_service(idp::server::app(st.clone())).await;
        let linde = linde(st);
        let reken = site.client();
        let secret = demo_secret(&site);
        let reken_at = token(&app, (DEMO_CLIENT_ID, &secret), CORE).await;
        let (taal, taal_id, taal_secret) = publisher(st, "Taalwereld");
        admin::register(
            ctx(st),
            &DEMO_SCHOOL_REF.parse().unwrap(),
            &taal_id,
            admin::RegisterOptions {
                release: Release {
                    eckid: false,
                    names: true,
                    groups: true,
                },
                home_allowed: true,
            },
        )
        .unwrap();
        let taal_at = token(&app, (&taal_id, &taal_secret), FULL).await;

        // The demo publisher: the demo school and the sandbox school, no other.
        let orgs = get(&app, "/orgs", Some(&reken_at)).await;
        assert_eq!(orgs.status, StatusCode::OK, "{}", orgs.body);
        assert_eq!(
            orgs.ids("orgs"),
            BTreeSet::from([DEMO_SCHOOL_REF.to_string(), DEMO_SANDBOX_REF.to_string()])
        );
        let school = get(
            &app,
            &format!("/schools/{DEMO_SCHOOL_REF}"),
            Some(&reken_at),
        )
        .await;
        assert_eq!(school.body["org"]["type"], "school");
        assert_eq!(school.body["org"]["identifier"], "99ZZ00");
        assert_eq!(school.body["org"]["name"], "Basisschool De Regenboog");

        // Its pupils at the demo school, by its own sub, with ECK-iD and without names (the
        // school does not release them) or an e-mail address.
        let pupils = get(
            &app,
            &format!("/schools/{DEMO_SCHOOL_REF}/students"),
            Some(&reken_at),
        )
        .await;
        let ids = demo_pupils(&site);
        let expected: BTreeSet<String> = site.subs(&ids).into_values().collect();
        assert_eq!(pupils.ids("users"), expected);
        let emma = site.pupil("Emma de Jong");
        let emma_sub = sub_at(st, &reken, emma);
        let shown = pupils
            .list("users")
            .iter()
            .find(|u| u["sourcedId"] == emma_sub.as_str())
            .unwrap();
        let eck = st.dir.user(emma).unwrap().unwrap().eck_id.unwrap();
        assert_eq!(shown["identifier"], eck.as_str());
        assert_eq!(shown["userIds"][0]["identifier"], eck.as_str());
        assert_eq!(
            (shown["givenName"].as_str(), shown["familyName"].as_str()),
            (Some(""), Some(""))
        );
        assert_eq!(shown["roles"][0]["role"], "student");
        assert_eq!(shown["roles"][0]["org"]["sourcedId"], DEMO_SCHOOL_REF);
        assert_eq!(shown["status"], "active");
        assert_eq!(shown["grades"], serde_json::json!(["01"]));
        // At the sandbox school, which releases names, names are there.
        let sandbox = get(
            &app,
            &format!("/schools/{DEMO_SANDBOX_REF}/students"),
            Some(&reken_at),
        )
        .await;
        assert!(sandbox
            .list("users")
            .iter()
            .all(|u| !u["givenName"].as_str().unwrap().is_empty()));
        // No pupil anywhere carries an e-mail address.
        let all = get(&app, "/users?limit=10000", Some(&reken_at)).await;
        for u in all.list("users") {
            if u["roles"][0]["role"] == "student" {
                assert!(
                    u.get("email").is_none() && u.get("username").is_none(),
                    "{u}"
                );
            }
        }
        // Nothing of De Linde, which did not register it: the same answer as for nothing.
        let nobody = InstellingRef::new_random();
        for tail in [
            "",
            "/classes",
            "/students",
            "/teachers",
            "/enrollments",
            "/terms",
        ] {
            let a = get(&app, &format!("/schools/{linde}{tail}"), Some(&reken_at)).await;
            let b = get(&app, &format!("/schools/{nobody}{tail}"), Some(&reken_at)).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{tail}");
            assert_eq!(a.code_minor(), "unknown_object");
            assert_eq!(a.body, b.body, "{tail}");
        }
        let a = get(&app, &format!("/orgs/{linde}"), Some(&reken_at)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert!(!all.body.to_string().contains("Linde"));

        // Taalwereld: its own subs and class ids for the same people and groups, names and
        // no ECK-iD; the demo publisher's ids are unknown to it.
        let theirs = get(&app, "/users?limit=10000", Some(&taal_at)).await;
        let taal_emma = sub_at(st, &taal, emma);
        assert_ne!(taal_emma, emma_sub);
        let t_emma = theirs
            .list("users")
            .iter()
            .find(|u| u["sourcedId"] == taal_emma.as_str())
            .unwrap();
        assert_eq!(t_emma["givenName"], "Emma");
        assert_eq!(t_emma["familyName"], "de Jong");
        assert!(t_emma.get("identifier").is_none() && t_emma.get("userIds").is_none());
        assert!(theirs.ids("users").is_disjoint(&all.ids("users")));
        let r = get(&app, &format!("/users/{emma_sub}"), Some(&taal_at)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = get(&app, &format!("/users/{emma_sub}"), Some(&reken_at)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["user"], *shown);
        let reken_classes = get(
            &app,
            &format!("/schools/{DEMO_SCHOOL_REF}/classes"),
            Some(&reken_at),
        )
        .await;
        let taal_classes = get(
            &app,
            &format!("/schools/{DEMO_SCHOOL_REF}/classes"),
            Some(&taal_at),
        )
        .await;
        let codes = |a: &Answer| -> BTreeSet<String> {
            a.list("classes")
                .iter()
                .map(|c| c["classCode"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(codes(&reken_classes), codes(&taal_classes));
        assert_eq!(codes(&reken_classes).len(), 3);
        assert!(reken_classes
            .ids("classes")
            .is_disjoint(&taal_classes.ids("classes")));
        for c in reken_classes.ids("classes") {
            let a = get(&app, &format!("/classes/{c}"), Some(&taal_at)).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND);
            let group_ids = st
                .dir
                .groups_of_school(&DEMO_SCHOOL_REF.parse().unwrap())
                .unwrap();
            assert!(group_ids.iter().all(|g| !c.contains(&g.id.to_string())));
        }

        // A publisher registered nowhere sees nothing.
        let (_, lone_id, lone_secret) = publisher(st, "Eenling");
        let lone_at = token(&app, (&lone_id, &lone_secret), CORE).await;
        for path in [
            "/orgs",
            "/users",
            "/classes",
            "/enrollments",
            "/academicSessions",
        ] {
            let a = get(&app, path, Some(&lone_at)).await;
            assert_eq!(a.status, StatusCode::OK);
            assert_eq!(a.header("x-total-count"), "0", "{path}");
        }

        // The demo school withdraws: the demo publisher sees the sandbox school alone.
        admin::deregister(ctx(st), &DEMO_SCHOOL_REF.parse().unwrap(), DEMO_CLIENT_ID).unwrap();
        let orgs = get(&app, "/orgs", Some(&reken_at)).await;
        assert_eq!(
            orgs.ids("orgs"),
            BTreeSet::from([DEMO_SANDBOX_REF.to_string()])
        );
        let a = get(&app, &format!("/users/{emma_sub}"), Some(&reken_at)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        let a = get(
            &app,
            &format!("/schools/{DEMO_SCHOOL_REF}"),
            Some(&reken_at),
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    })
);

#[test]
fn a_google_style_consumer_is_served() {
    let db = TestDb::sqlite();
    run(async {
        let site = Site::on(&db);
        let st = &site.state;
        let app = at::init_service(idp::server::app(st.clone())).await;
        let reken = site.client();
        let secret = demo_secret(&site);

        // One token request with the roster, demographics and gradebook scopes: the roster
        // scopes are granted and named.
        let (status, body) = token_answer(&app, (DEMO_CLIENT_ID, &secret), GOOGLE_SCOPES).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["scope"], format!("{CORE} {FULL}"));
        let t = body["access_token"].as_str().unwrap().to_string();
        // Only scopes Leerpoort does not serve: refused.
        let (status, body) = token_answer(
            &app,
            (DEMO_CLIENT_ID, &secret),
            "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_scope");

        // teachers?filter=email='…'
        let anna = get(
            &app,
            "/teachers?limit=10000&filter=email%3D%27anna.devries%40regenboog.example%27",
            Some(&t),
        )
        .await;
        assert_eq!(anna.status, StatusCode::OK, "{}", anna.body);
        assert_eq!(anna.header("x-total-count"), "1");
        let teacher = &anna.list("users")[0];
        let anna_id = st
            .dir
            .user_by_email("anna.devries@regenboog.example")
            .unwrap()
            .unwrap()
            .id;
        assert_eq!(teacher["sourcedId"], sub_at(st, &reken, anna_id));
        assert_eq!(teacher["email"], "anna.devries@regenboog.example");
        assert_eq!(teacher["roles"][0]["role"], "teacher");
        let tid = teacher["sourcedId"].as_str().unwrap();

        // teachers/{id}/classes, classes/{id}/students
        let classes = get(&app, &format!("/teachers/{tid}/classes"), Some(&t)).await;
        assert_eq!(classes.list("classes").len(), 1, "{}", classes.body);
        let class = &classes.list("classes")[0];
        assert_eq!(class["classCode"], "groep-3a");
        assert_eq!(class["title"], "Groep 3A");
        assert_eq!(class["grades"], serde_json::json!(["01"]));
        let cid = class["sourcedId"].as_str().unwrap();
        let students = get(
            &app,
            &format!("/classes/{cid}/students?limit=10000"),
            Some(&t),
        )
        .await;
        let in_3a: Vec<Uuid> = [
            "Emma de Jong",
            "Daan Bakker",
            "Noor Visser",
            "Sem Smit",
            "Julia Meijer",
        ]
        .iter()
        .map(|n| site.pupil(n))
        .collect();
        let expected: BTreeSet<String> = site.subs(&in_3a).into_values().collect();
        assert_eq!(students.ids("users"), expected);
        // The class's course: its own, with the same id; the school's courses.
        let course = get(&app, &format!("/courses/{cid}"), Some(&t)).await;
        assert_eq!(course.body["course"]["courseCode"], "groep-3a");
        assert_eq!(course.body["course"]["org"]["sourcedId"], DEMO_SCHOOL_REF);
        assert_eq!(class["course"]["sourcedId"], cid);
        let of_course = get(&app, &format!("/courses/{cid}/classes"), Some(&t)).await;
        assert_eq!(of_course.ids("classes"), BTreeSet::from([cid.to_string()]));
        let courses = get(
            &app,
            &format!("/schools/{DEMO_SCHOOL_REF}/courses"),
            Some(&t),
        )
        .await;
        assert_eq!(courses.list("courses").len(), 3);
        let teachers = get(&app, &format!("/classes/{cid}/teachers"), Some(&t)).await;
        assert_eq!(teachers.ids("users"), BTreeSet::from([tid.to_string()]));
        // A pupil is not a teacher.
        let emma_sub = sub_at(st, &reken, site.pupil("Emma de Jong"));
        let a = get(&app, &format!("/teachers/{emma_sub}"), Some(&t)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        let a = get(&app, &format!("/students/{emma_sub}/classes"), Some(&t)).await;
        assert_eq!(a.ids("classes"), BTreeSet::from([cid.to_string()]));

        // terms, terms/{id}/gradingPeriods (empty, not 404), terms/{id}/classes
        let terms = get(&app, &format!("/schools/{DEMO_SCHOOL_REF}/terms"), Some(&t)).await;
        let term_id = format!("{DEMO_SCHOOL_REF}.2026-2027.term");
        assert_eq!(
            terms.ids("academicSessions"),
            BTreeSet::from([term_id.clone()])
        );
        let term = &terms.list("academicSessions")[0];
        assert_eq!(term["startDate"], "2026-08-01");
        assert_eq!(term["endDate"], "2027-07-31");
        assert_eq!(term["schoolYear"], "2027");
        assert_eq!(
            term["parent"]["sourcedId"],
            format!("{DEMO_SCHOOL_REF}.2026-2027")
        );
        let gp = get(&app, &format!("/terms/{term_id}/gradingPeriods"), Some(&t)).await;
        assert_eq!(gp.status, StatusCode::OK);
        assert_eq!(gp.body, serde_json::json!({"academicSessions": []}));
        let a = get(&app, "/terms/nope/gradingPeriods", Some(&t)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        let year = get(
            &app,
            &format!("/academicSessions/{DEMO_SCHOOL_REF}.2026-2027"),
            Some(&t),
        )
        .await;
        assert_eq!(year.body["academicSession"]["type"], "schoolYear");
        let tc = get(&app, &format!("/terms/{term_id}/classes"), Some(&t)).await;
        assert_eq!(tc.list("classes").len(), 3);
        let gps = get(&app, "/gradingPeriods", Some(&t)).await;
        assert_eq!(gps.body, serde_json::json!({"academicSessions": []}));

        // Enrollments: group memberships, role and references.
        let e = get(
            &app,
            &format!("/schools/{DEMO_SCHOOL_REF}/enrollments?limit=10000"),
            Some(&t),
        )
        .await;
        let anna_in_3a = format!("{cid}.{tid}");
        let one = get(&app, &format!("/enrollments/{anna_in_3a}"), Some(&t)).await;
        assert_eq!(one.body["enrollment"]["role"], "teacher");
        assert_eq!(one.body["enrollment"]["class"]["sourcedId"], cid);
        assert!(e.ids("enrollments").contains(&anna_in_3a));
        // 12 pupils and two teachers in a group each; the ICT coordinator in none.
        assert_eq!(e.header("x-total-count"), "14");

        // Large pages: limit=10000, with X-Total-Count and Link.
        let big = get(&app, "/users?limit=10000", Some(&t)).await;
        let total: usize = big.header("x-total-count").parse().unwrap();
        assert_eq!(total, big.list("users").len());
        assert_eq!(total, 12 + 3 + 4 + 1, "the demo school's and the sandbox's");
        let link = big.header("link");
        assert!(
            link.contains("rel=\"first\"") && link.contains("rel=\"last\""),
            "{link}"
        );
        assert!(
            !link.contains("rel=\"next\"") && !link.contains("rel=\"prev\""),
            "{link}"
        );
        assert!(link.contains("limit=10000&offset=0"), "{link}");
        // Smaller pages walk the same list.
        let page = get(&app, "/users?limit=5&offset=5", Some(&t)).await;
        assert_eq!(page.header("x-total-count"), total.to_string());
        assert_eq!(page.list("users")[..], big.list("users")[5..10]);
        let link = page.header("link");
        assert!(
            link.contains(&format!("{API}/users?limit=5&offset=10>; rel=\"next\"")),
            "{link}"
        );
        assert!(link.contains("limit=5&offset=0>; rel=\"prev\""), "{link}");
        assert!(link.contains("limit=5&offset=15>; rel=\"last\""), "{link}");
    });
}

on_both_backends!(
    people_who_leave_turn_tobedeleted_and_filters_find_the_changes,
    |db: &TestDb| run(async {
        let site = Site::on(db);
        let st = &site.state;
        let app = at::init_service(idp::server::app(st.clone())).await;
        let reken = site.client();
        let t = token(&app, (DEMO_CLIENT_ID, &demo_secret(&site)), CORE).await;
        let before = get(&app, "/users?limit=10000", Some(&t)).await;
        assert!(before.list("users").iter().all(|u| u["status"] == "active"));

        site.clock.advance(Duration::from_secs(86_400));
        let t = token(&app, (DEMO_CLIENT_ID, &demo_secret(&site)), CORE).await;
        let emma = site.pupil("Emma de Jong");
        let daan = site.pupil("Daan Bakker");
        let emma_sub = sub_at(st, &reken, emma);
        let daan_sub = sub_at(st, &reken, daan);
        admin::remove_user(ctx(st), emma).unwrap();
        admin::disable_user(ctx(st), daan).unwrap();

        let gone = BTreeSet::from([emma_sub.clone(), daan_sub.clone()]);
        let changed = get(
            &app,
            "/users?filter=dateLastModified%3E%272026-11-23T12%3A00%3A00Z%27",
            Some(&t),
        )
        .await;
        assert_eq!(changed.ids("users"), gone, "{}", changed.body);
        for u in changed.list("users") {
            assert_eq!(u["status"], "tobedeleted");
            assert_eq!(u["dateLastModified"], "2026-11-24T08:30:00.000Z");
            assert_eq!(u["givenName"], "");
            assert_eq!(u["roles"][0]["role"], "student");
            assert!(
                u.get("identifier").is_none() && u.get("userIds").is_none(),
                "{u}"
            );
        }
        let by_status = get(
            &app,
            "/students?filter=status%3D%27tobedeleted%27",
            Some(&t),
        )
        .await;
        assert_eq!(by_status.ids("users"), gone);
        let both = get(
            &app,
            "/users?filter=status%3D%27active%27%20AND%20dateLastModified%3E%3D%272026-11-24%27",
            Some(&t),
        )
        .await;
        assert_eq!(both.header("x-total-count"), "0", "{}", both.body);
        let either = get(
            &app,
            "/users?filter=status%3D%27tobedeleted%27%20OR%20email%3D%27anna.devries%40regenboog.example%27",
            Some(&t),
        )
        .await;
        assert_eq!(either.header("x-total-count"), "3");
        let total_before: usize = before.header("x-total-count").parse().unwrap();
        let after = get(&app, "/users?limit=10000", Some(&t)).await;
        assert_eq!(
            after.list("users").len(),
            total_before,
            "still told, as tobedeleted"
        );
        // Their memberships are no longer enrollments.
        let e = get(&app, "/enrollments?limit=10000", Some(&t)).await;
        assert!(e
            .list("enrollments")
            .iter()
            .all(|e| !gone.contains(e["user"]["sourcedId"].as_str().unwrap())));
        // The school starts releasing names: every person is modified at that moment, with
        // the names.
        site.clock.advance(Duration::from_secs(60));
        admin::register(
            ctx(st),
            &DEMO_SCHOOL_REF.parse().unwrap(),
            DEMO_CLIENT_ID,
            admin::RegisterOptions {
                release: Release {
                    eckid: true,
                    names: true,
                    groups: true,
                },
                home_allowed: true,
            },
        )
        .unwrap();
        let renamed = get(
            &app,
            "/students?limit=10000&filter=dateLastModified%3E%3D%272026-11-24T08%3A31%3A00Z%27",
            Some(&t),
        )
        .await;
        let demo_pupils = demo_pupils(&site).len();
        assert_eq!(
            renamed.list("users").len(),
            demo_pupils + 1,
            "and Emma's tombstone"
        );
        assert!(renamed
            .list("users")
            .iter()
            .filter(|u| u["status"] == "active")
            .all(|u| u["dateLastModified"] == "2026-11-24T08:31:00.000Z"
                && !u["givenName"].as_str().unwrap().is_empty()));
        // Back again: active, changed at that moment.
        site.clock.advance(Duration::from_secs(60));
        admin::enable_user(ctx(st), daan).unwrap();
        let back = get(&app, &format!("/users/{daan_sub}"), Some(&t)).await;
        assert_eq!(back.body["user"]["status"], "active");
        assert_eq!(
            back.body["user"]["dateLastModified"],
            "2026-11-24T08:32:00.000Z"
        );
    })
);

#[test]
fn fields_sort_and_bad_queries() {
    let db = TestDb::sqlite();
    run(async {
        let site = Site::on(&db);
        let app = at::init_service(idp::server::app(site.state.clone())).await;
        let t = token(&app, (DEMO_CLIENT_ID, &demo_secret(&site)), CORE).await;
        let sandbox = format!("/schools/{DEMO_SANDBOX_REF}/students");

        let a = get(
            &app,
            &format!("{sandbox}?fields=sourcedId,givenName"),
            Some(&t),
        )
        .await;
        for u in a.list("users") {
            let keys: BTreeSet<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, BTreeSet::from(["sourcedId", "givenName"]));
        }
        let names = |a: &Answer| -> Vec<String> {
            a.list("users")
                .iter()
                .map(|u| u["givenName"].as_str().unwrap().to_string())
                .collect()
        };
        let asc = get(&app, &format!("{sandbox}?sort=givenName"), Some(&t)).await;
        let desc = get(
            &app,
            &format!("{sandbox}?sort=givenName&orderBy=desc"),
            Some(&t),
        )
        .await;
        let mut sorted = names(&asc);
        sorted.sort();
        assert_eq!(names(&asc), sorted);
        assert_eq!(sorted.len(), 4);
        sorted.reverse();
        assert_eq!(names(&desc), sorted);
        // `~` (contains), case-insensitive, on a part of a name with a letter beyond ASCII.
        let part: String = sorted[0]
            .chars()
            .skip(1)
            .take(2)
            .collect::<String>()
            .to_uppercase();
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", &format!("givenName~'{part}'"))
            .finish();
        let found = get(&app, &format!("{sandbox}?{query}"), Some(&t)).await;
        let expected: Vec<String> = names(&asc)
            .into_iter()
            .filter(|n| n.to_lowercase().contains(&part.to_lowercase()))
            .collect();
        assert!(expected.contains(&sorted[0]));
        let mut got = names(&found);
        got.sort();
        assert_eq!(got, expected);

        for (query, code) in [
            ("filter=shoeSize%3D%2742%27", "invalid_filter_field"),
            ("filter=givenName%3DEmma", "invalid_filter_field"),
            ("sort=shoeSize", "invalid_sort_field"),
            ("fields=sourcedId,shoeSize", "invalid_selection_field"),
            ("limit=10001", "invalid_data"),
            ("limit=0", "invalid_data"),
        ] {
            let a = get(&app, &format!("/users?{query}"), Some(&t)).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
            assert_eq!(a.code_minor(), code, "{query}");
            assert_eq!(a.body["imsx_codeMajor"], "failure");
        }
        // A class has no e-mail address to filter on.
        let a = get(&app, "/classes?filter=email%3D%27x%27", Some(&t)).await;
        assert_eq!(a.code_minor(), "invalid_filter_field");
    });
}

#[test]
fn callers_it_is_not_for_are_refused_in_the_specs_shape() {
    let db = TestDb::sqlite();
    run(async {
        let site = Site::on(&db);
        let app = at::init_service(idp::server::app(site.state.clone())).await;
        let secret = demo_secret(&site);

        let a = get(&app, "/orgs", None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.code_minor(), "unauthorisedrequest");
        assert!(a.header("www-authenticate").starts_with("Bearer"));
        let a = get(&app, "/orgs", Some("not-a-token")).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);

        // A token for the school-data API alone does not open OneRoster.
        let sd = token(&app, (DEMO_CLIENT_ID, &secret), "schooldata").await;
        let a = get(&app, "/orgs", Some(&sd)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        assert_eq!(a.code_minor(), "forbidden");
        // Either OneRoster scope does.
        for scope in [CORE, FULL] {
            let t = token(&app, (DEMO_CLIENT_ID, &secret), scope).await;
            let a = get(&app, "/orgs", Some(&t)).await;
            assert_eq!(a.status, StatusCode::OK, "{scope}");
        }
    });
}

#[test]
fn reads_are_throttled_per_client() {
    use broker::keyspace::{Key, Limit};
    let db = TestDb::sqlite();
    run(async {
        let site = Site::on(&db);
        let st = &site.state;
        let app = at::init_service(idp::server::app(st.clone())).await;
        let t = token(&app, (DEMO_CLIENT_ID, &demo_secret(&site)), CORE).await;
        let window = idp::server::api::oneroster::WINDOW;
        let allowance = idp::server::api::oneroster::REQUESTS_PER_WINDOW;
        let key = Key::Limit(Limit::OneRosterReads(DEMO_CLIENT_ID));
        for _ in 1..allowance {
            st.store.incr(&key, window).unwrap();
        }
        let last = get(&app, "/orgs", Some(&t)).await;
        assert_eq!(last.status, StatusCode::OK, "the last one allowed");
        let over = get(&app, "/orgs", Some(&t)).await;
        assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(over.code_minor(), "server_busy");
        assert_eq!(over.header("retry-after"), "60");
        // Another client has its own allowance.
        let (_, other_id, other_secret) = publisher(st, "Taalwereld");
        let other = token(&app, (&other_id, &other_secret), CORE).await;
        assert_eq!(
            get(&app, "/orgs", Some(&other)).await.status,
            StatusCode::OK
        );
    });
}
