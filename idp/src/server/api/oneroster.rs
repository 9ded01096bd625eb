//! OneRoster 1.2 rostering, read (`/ims/oneroster/rostering/v1p2/…`): the spec's resources
//! for a publisher's or network environment's own client, with the OneRoster scopes
//! (`roster-core.readonly` or `roster.readonly`).
//!
//! What the caller sees, and every object's shape, is `broker::oneroster`'s (built on
//! `broker::schooldata`, the same consent rules as the school-data API); this file reads the
//! request (`filter`, `sort`, `orderBy`, `fields`, `limit`, `offset`: [`query`]), pages the
//! answer with `X-Total-Count` and `Link`, and answers refusals in the spec's
//! `imsx_StatusInfo` shape. An id the caller may not see is `404 unknown_object`, the same as
//! one that does not exist. Answers are JSON with `Cache-Control: no-store`.

pub mod query;

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use broker::keyspace::{Key, Limit};
use broker::model::RelyingParty;
use broker::oneroster::{self, Rostering, BASE_PATH};
use broker::schooldata;
use serde_json::{json, Value};

use self::query::{Fields, Query, QueryError};
use super::{self as api, bearer, Denied};
use crate::app::AppState;
use crate::oidc::grant_types::client_credentials::{ONEROSTER_CORE_SCOPE, ONEROSTER_SCOPE};

/// How many requests one client may make in [`WINDOW`], every resource together.
pub const REQUESTS_PER_WINDOW: u64 = 600;
/// The sliding window of [`REQUESTS_PER_WINDOW`].
pub const WINDOW: Duration = Duration::from_secs(60);

/// A refusal in OneRoster's shape: the HTTP status, `imsx_codeMinor` and a description.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    code_minor: &'static str,
    description: String,
    retry_after: Option<u64>,
}

fn refusal(
    status: StatusCode,
    code_minor: &'static str,
    description: impl Into<String>,
) -> Refusal {
    Refusal {
        status,
        code_minor,
        description: description.into(),
        retry_after: None,
    }
}

fn unknown_object() -> Refusal {
    refusal(
        StatusCode::NOT_FOUND,
        "unknown_object",
        "no object with this sourcedId is known to this client",
    )
}

fn busy() -> Refusal {
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "server_busy",
        "try again later",
    )
}

impl From<QueryError> for Refusal {
    fn from(e: QueryError) -> Self {
        refusal(StatusCode::BAD_REQUEST, e.code_minor(), e.description())
    }
}

impl From<Denied> for Refusal {
    fn from(d: Denied) -> Self {
        match d {
            Denied::Token(why) => refusal(StatusCode::UNAUTHORIZED, "unauthorisedrequest", why),
            Denied::Scope(_) => refusal(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("the token carries neither {ONEROSTER_CORE_SCOPE} nor {ONEROSTER_SCOPE}"),
            ),
            Denied::Kind(why) => refusal(StatusCode::FORBIDDEN, "forbidden", why),
            Denied::Unavailable => busy(),
        }
    }
}

impl Refusal {
    /// The spec's `imsx_StatusInfo` (1.2 JSON binding).
    pub fn body(&self) -> Value {
        json!({
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": self.description,
            "imsx_CodeMinor": {"imsx_codeMinorField": [{
                "imsx_codeMinorFieldName": "TargetEndSystem",
                "imsx_codeMinorFieldValue": self.code_minor,
            }]},
        })
    }

    pub fn response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(self.body());
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"leerpoort\""),
            );
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// What a route reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Orgs,
    Org,
    Schools,
    School,
    SchoolClasses,
    SchoolStudents,
    SchoolTeachers,
    SchoolEnrollments,
    SchoolTerms,
    SchoolCourses,
    AcademicSessions,
    AcademicSession,
    Terms,
    Term,
    TermGradingPeriods,
    TermClasses,
    GradingPeriods,
    GradingPeriod,
    Courses,
    Course,
    CourseClasses,
    Classes,
    Class,
    ClassStudents,
    ClassTeachers,
    Users,
    User,
    UserClasses,
    Students,
    Student,
    StudentClasses,
    Teachers,
    Teacher,
    TeacherClasses,
    Enrollments,
    Enrollment,
}

/// Every route below [`BASE_PATH`], with what it reads.
pub const ROUTES: &[(&str, Read)] = &[
    ("/orgs", Read::Orgs),
    ("/orgs/{id}", Read::Org),
    ("/schools", Read::Schools),
    ("/schools/{id}", Read::School),
    ("/schools/{id}/classes", Read::SchoolClasses),
    ("/schools/{id}/students", Read::SchoolStudents),
    ("/schools/{id}/teachers", Read::SchoolTeachers),
    ("/schools/{id}/enrollments", Read::SchoolEnrollments),
    ("/schools/{id}/terms", Read::SchoolTerms),
    ("/schools/{id}/courses", Read::SchoolCourses),
    ("/academicSessions", Read::AcademicSessions),
    ("/academicSessions/{id}", Read::AcademicSession),
    ("/terms", Read::Terms),
    ("/terms/{id}", Read::Term),
    ("/terms/{id}/gradingPeriods", Read::TermGradingPeriods),
    ("/terms/{id}/classes", Read::TermClasses),
    ("/gradingPeriods", Read::GradingPeriods),
    ("/gradingPeriods/{id}", Read::GradingPeriod),
    ("/courses", Read::Courses),
    ("/courses/{id}", Read::Course),
    ("/courses/{id}/classes", Read::CourseClasses),
    ("/classes", Read::Classes),
    ("/classes/{id}", Read::Class),
    ("/classes/{id}/students", Read::ClassStudents),
    ("/classes/{id}/teachers", Read::ClassTeachers),
    ("/users", Read::Users),
    ("/users/{id}", Read::User),
    ("/users/{id}/classes", Read::UserClasses),
    ("/students", Read::Students),
    ("/students/{id}", Read::Student),
    ("/students/{id}/classes", Read::StudentClasses),
    ("/teachers", Read::Teachers),
    ("/teachers/{id}", Read::Teacher),
    ("/teachers/{id}/classes", Read::TeacherClasses),
    ("/enrollments", Read::Enrollments),
    ("/enrollments/{id}", Read::Enrollment),
];

/// The kind of object a read answers with: its fields, and the answer's member for a list
/// and for one.
fn kind(read: Read) -> (Fields, &'static str, &'static str) {
    use Read::*;
    match read {
        Orgs | Org | Schools | School => (query::ORG, "orgs", "org"),
        SchoolTerms | AcademicSessions | AcademicSession | Terms | Term | TermGradingPeriods
        | GradingPeriods | GradingPeriod => (
            query::ACADEMIC_SESSION,
            "academicSessions",
            "academicSession",
        ),
        SchoolClasses | TermClasses | CourseClasses | Classes | Class | UserClasses
        | StudentClasses | TeacherClasses => (query::CLASS, "classes", "class"),
        SchoolCourses | Courses | Course => (query::COURSE, "courses", "course"),
        SchoolStudents | SchoolTeachers | ClassStudents | ClassTeachers | Users | User
        | Students | Student | Teachers | Teacher => (query::USER, "users", "user"),
        SchoolEnrollments | Enrollments | Enrollment => {
            (query::ENROLLMENT, "enrollments", "enrollment")
        }
    }
}

/// What a read found: one object, or a list before filtering and paging.
enum Found {
    One(Value),
    Many(Vec<Value>),
}

/// The objects `read` names in `r`, for the path's `id`; `unknown_object` for an id the
/// caller does not see (of a kind other than the route's, too).
fn find(r: &Rostering, read: Read, id: &str) -> Result<Found, Refusal> {
    use Read::*;
    let one = |v: Option<&Value>| v.cloned().map(Found::One).ok_or_else(unknown_object);
    let school = |id: &str| {
        r.org(id)
            .filter(|o| o["type"] == "school")
            .ok_or_else(unknown_object)
    };
    let user_with = |id: &str, role: Option<&str>| {
        r.user(id)
            .filter(|u| role.is_none_or(|role| oneroster::role_of(u) == role))
            .ok_or_else(unknown_object)
    };
    let term = |id: &str| r.session_of_type(id, "term").ok_or_else(unknown_object);
    let class = |id: &str| r.class(id).ok_or_else(unknown_object);
    Ok(match read {
        Orgs => Found::Many(r.orgs.clone()),
        Org => one(r.org(id))?,
        Schools => Found::Many(
            r.orgs
                .iter()
                .filter(|o| o["type"] == "school")
                .cloned()
                .collect(),
        ),
        School => Found::One(school(id)?.clone()),
        SchoolClasses => Found::Many(r.classes_of_school(oneroster::id_of(school(id)?))),
        SchoolStudents => Found::Many(r.users_of_school(oneroster::id_of(school(id)?), "student")),
        SchoolTeachers => Found::Many(r.users_of_school(oneroster::id_of(school(id)?), "teacher")),
        SchoolEnrollments => Found::Many(r.enrollments_of_school(oneroster::id_of(school(id)?))),
        SchoolTerms => Found::Many(r.terms_of_school(oneroster::id_of(school(id)?))),
        SchoolCourses => Found::Many(r.courses_of_school(oneroster::id_of(school(id)?))),
        AcademicSessions => Found::Many(r.academic_sessions.clone()),
        AcademicSession => one(r.academic_session(id))?,
        Terms => Found::Many(r.sessions_of_type("term")),
        Term => Found::One(term(id)?.clone()),
        TermGradingPeriods => {
            term(id)?;
            Found::Many(Vec::new())
        }
        TermClasses => Found::Many(r.classes_of_term(oneroster::id_of(term(id)?))),
        GradingPeriods => Found::Many(r.sessions_of_type("gradingPeriod")),
        GradingPeriod => one(r.session_of_type(id, "gradingPeriod"))?,
        Courses => Found::Many(r.courses.clone()),
        Course => one(r.course(id))?,
        CourseClasses => {
            let c = r.course(id).ok_or_else(unknown_object)?;
            Found::Many(r.classes_of_course(oneroster::id_of(c)))
        }
        Classes => Found::Many(r.classes.clone()),
        Class => Found::One(class(id)?.clone()),
        ClassStudents => Found::Many(r.users_of_class(oneroster::id_of(class(id)?), "student")),
        ClassTeachers => Found::Many(r.users_of_class(oneroster::id_of(class(id)?), "teacher")),
        Users => Found::Many(r.users_with_role(None)),
        User => Found::One(user_with(id, None)?.clone()),
        UserClasses => Found::Many(r.classes_of_user(oneroster::id_of(user_with(id, None)?))),
        Students => Found::Many(r.users_with_role(Some("student"))),
        Student => Found::One(user_with(id, Some("student"))?.clone()),
        StudentClasses => {
            Found::Many(r.classes_of_user(oneroster::id_of(user_with(id, Some("student"))?)))
        }
        Teachers => Found::Many(r.users_with_role(Some("teacher"))),
        Teacher => Found::One(user_with(id, Some("teacher"))?.clone()),
        TeacherClasses => {
            Found::Many(r.classes_of_user(oneroster::id_of(user_with(id, Some("teacher"))?)))
        }
        Enrollments => Found::Many(r.enrollments.clone()),
        Enrollment => one(r.enrollment(id))?,
    })
}

/// The relying party whose token `token` is: a OneRoster scope, a publisher or network
/// environment (never an LAS), switched on; within its allowance of
/// [`REQUESTS_PER_WINDOW`] per [`WINDOW`] (sliding; beyond it 429 with `Retry-After`).
fn admitted(st: &AppState, token: &str) -> Result<RelyingParty, Refusal> {
    let rp = api::caller(st, token, &[ONEROSTER_CORE_SCOPE, ONEROSTER_SCOPE])?.rp;
    if !schooldata::may_see(&rp) {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this API is for a publisher's or network environment's client; this client is not one",
        ));
    }
    let key = Key::Limit(Limit::OneRosterReads(rp.public_id()));
    match st.store.incr(&key, WINDOW) {
        Ok(n) if n > REQUESTS_PER_WINDOW => Err(Refusal {
            retry_after: Some(WINDOW.as_secs()),
            ..refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "server_busy",
                format!(
                    "at most {REQUESTS_PER_WINDOW} requests per {} seconds",
                    WINDOW.as_secs()
                ),
            )
        }),
        Ok(_) => Ok(rp),
        Err(_) => Err(busy()),
    }
}

/// What the blocking part answers: the body, and for a list its paging.
struct Answer {
    body: Value,
    /// The list's whole length, the page's limit and offset.
    paging: Option<(usize, usize, usize)>,
}

fn serve(
    st: &AppState,
    token: &str,
    read: Read,
    id: &str,
    params: &Result<Vec<(String, String)>, Refusal>,
) -> Result<Answer, Refusal> {
    let rp = admitted(st, token)?;
    let (fields, many, single) = kind(read);
    let params = params
        .as_ref()
        .map_err(|r| refusal(r.status, r.code_minor, r.description.clone()))?;
    let q = Query::parse(params, &fields)?;
    let base = format!("{}{BASE_PATH}", st.config.issuer.trim_end_matches('/'));
    let r = oneroster::rostering(
        st.dir.as_ref(),
        &st.pseudonyms,
        &rp,
        &base,
        st.clock.now_secs(),
    )
    .map_err(|e| {
        tracing::error!(error = %e, "OneRoster: the directory failed");
        busy()
    })?;
    Ok(match find(&r, read, id)? {
        Found::One(v) => Answer {
            body: json!({ single: q.shape(v) }),
            paging: None,
        },
        Found::Many(items) => {
            let items = q.select(items);
            let total = items.len();
            let page: Vec<Value> = items
                .into_iter()
                .skip(q.offset)
                .take(q.limit)
                .map(|v| q.shape(v))
                .collect();
            Answer {
                body: json!({ many: page }),
                paging: Some((total, q.limit, q.offset)),
            }
        }
    })
}

/// The `Link` header of a page (RFC 8288): `first`, `prev`, `next` and `last`, each the same
/// request with another `offset`.
fn link(
    issuer: &str,
    path: &str,
    params: &[(String, String)],
    total: usize,
    limit: usize,
    offset: usize,
) -> String {
    let at = |o: usize| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params.iter().filter(|(k, _)| k != "limit" && k != "offset") {
            s.append_pair(k, v);
        }
        s.append_pair("limit", &limit.to_string());
        s.append_pair("offset", &o.to_string());
        format!("<{}{path}?{}>", issuer.trim_end_matches('/'), s.finish())
    };
    let last = if total == 0 {
        0
    } else {
        (total - 1) / limit * limit
    };
    let mut links = vec![format!("{}; rel=\"first\"", at(0))];
    if offset > 0 {
        links.push(format!(
            "{}; rel=\"prev\"",
            at(offset.saturating_sub(limit))
        ));
    }
    if offset + limit < total {
        links.push(format!("{}; rel=\"next\"", at(offset + limit)));
    }
    links.push(format!("{}; rel=\"last\"", at(last)));
    links.join(", ")
}

/// GET any route of [`ROUTES`]: the caller's checks (401, 403, 429), the query (400), the
/// object (404), then the answer.
pub async fn read(req: HttpRequest, state: web::Data<AppState>, what: Read) -> HttpResponse {
    let Some(token) = bearer(&req) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorisedrequest",
            "one Authorization: Bearer header is required",
        )
        .response();
    };
    let id = req.match_info().get("id").unwrap_or("").to_string();
    let params: Result<Vec<(String, String)>, Refusal> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .map_err(|_| {
                refusal(
                    StatusCode::BAD_REQUEST,
                    "invalid_data",
                    "the query string cannot be read",
                )
            });
    let path = req.path().to_string();
    let st = state.clone();
    let done = web::block(move || {
        let answer = serve(&st, &token, what, &id, &params)?;
        Ok::<_, Refusal>((answer, params.unwrap_or_default()))
    })
    .await;
    let (answer, params) = match done {
        Ok(Ok(a)) => a,
        Ok(Err(r)) => return r.response(),
        Err(_) => return busy().response(),
    };
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some((total, limit, offset)) = answer.paging {
        res.insert_header(("X-Total-Count", total.to_string()));
        let l = link(&state.config.issuer, &path, &params, total, limit, offset);
        if let Ok(v) = header::HeaderValue::from_str(&l) {
            res.insert_header((header::LINK, v));
        }
    }
    res.json(answer.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_header_names_first_prev_next_and_last() {
        let params = vec![
            ("filter".to_string(), "status='active'".to_string()),
            ("limit".to_string(), "2".to_string()),
        ];
        let l = link("https://lp.example/", "/ims/x/users", &params, 5, 2, 2);
        assert_eq!(
            l,
            "<https://lp.example/ims/x/users?filter=status%3D%27active%27&limit=2&offset=0>; rel=\"first\", \
             <https://lp.example/ims/x/users?filter=status%3D%27active%27&limit=2&offset=0>; rel=\"prev\", \
             <https://lp.example/ims/x/users?filter=status%3D%27active%27&limit=2&offset=4>; rel=\"next\", \
             <https://lp.example/ims/x/users?filter=status%3D%27active%27&limit=2&offset=4>; rel=\"last\""
        );
        let only = link("https://lp.example", "/u", &[], 0, 100, 0);
        assert_eq!(
            only,
            "<https://lp.example/u?limit=100&offset=0>; rel=\"first\", <https://lp.example/u?limit=100&offset=0>; rel=\"last\""
        );
    }

    #[test]
    fn refusals_take_the_specs_shape() {
        let r: Refusal = QueryError::Sort("sort names an unknown field: x".into()).into();
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let b = r.body();
        assert_eq!(b["imsx_codeMajor"], "failure");
        assert_eq!(b["imsx_severity"], "error");
        assert_eq!(
            b["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"],
            "invalid_sort_field"
        );
    }
}
