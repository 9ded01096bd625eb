//! OneRoster 1.2 rostering as a publisher or network environment sees it: the schools that
//! registered it (orgs of type `school`), their school years and terms (academic sessions),
//! their groups (classes), pupils and staff (users) and group memberships (enrollments), each
//! as the spec's JSON object.
//!
//! Everything here is shaped from [`schooldata`]'s views, never beside them: the schools are
//! [`schooldata::schools`], every person [`schooldata::person`] (or, once they can no longer
//! sign in, [`schooldata::departed`]), so what the party sees follows the same rules as the
//! school-data API. The mapping (documented in `docs/publisher-api.md`, "OneRoster 1.2"):
//!
//! - A **user**'s `sourcedId` is the party's pairwise `sub`. Pupils are `student`, staff
//!   `teacher`. `givenName`/`familyName` carry the names only where the school releases names
//!   (else the empty string: the spec requires both members); `identifier` and `userIds` the
//!   ECK-iD only where it releases ECK-iDs; `email` staff only (as the OIDC `email` claim),
//!   never a pupil's. Someone who left, was disabled or was removed is `tobedeleted`, with
//!   nothing but the `sourcedId`, the role and when they went.
//! - An **org** is a school, type `school`, its `sourcedId` the INSTELLING_REF, its
//!   `identifier` the BRIN6.
//! - A **class** is a group (only where the school releases groups), type `homeroom`; its
//!   `sourcedId` is a pseudonym of the group's id for the party's sector (the same HMAC as a
//!   `sub`, under a sector of its own), so two parties cannot match classes by id and nobody
//!   learns Leerpoort's internal ids. Each class has a course of its own, with the same
//!   `sourcedId`, title and code (Dutch primary schools have no courses beside their groups).
//! - **Academic sessions**: per school, the school year (1 August to 31 July) as a
//!   `schoolYear` session `{INSTELLING_REF}.{2026-2027}` with one `term`
//!   `{INSTELLING_REF}.{2026-2027}.term`, for the current school year and every year of the
//!   school's groups. No grading periods.
//! - An **enrollment** is a person's membership of a group: `{class sourcedId}.{user sourcedId}`,
//!   role `student` or `teacher`.

use std::collections::{BTreeSet, HashMap};

use claims::{pairwise_subject, PairwiseSubject, PseudonymKey, Role, Sector};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::model::{Group, RelyingParty, User};
use crate::repo::Directory;
use crate::schooldata::{self, ConsentedSchool, Person, Result, SchoolDataError};

/// Where the rostering service lives, below the issuer.
pub const BASE_PATH: &str = "/ims/oneroster/rostering/v1p2";

/// What the sector of a class pseudonym adds to the party's own: a space, which no sector
/// (a host name or URL) carries, keeps it apart from every party's `sub`s.
const CLASS_SECTOR_SUFFIX: &str = " #oneroster-class";

/// The OneRoster status of a record.
pub const ACTIVE: &str = "active";
pub const TO_BE_DELETED: &str = "tobedeleted";

/// Everything a party sees over OneRoster, as the spec's JSON objects, each list in a stable
/// order (by `sourcedId`). Its `Debug` shows the counts alone, never a name or an ECK-iD.
#[derive(Clone, Default)]
pub struct Rostering {
    pub orgs: Vec<Value>,
    pub academic_sessions: Vec<Value>,
    pub classes: Vec<Value>,
    /// One course per class, with the class's `sourcedId`.
    pub courses: Vec<Value>,
    pub users: Vec<Value>,
    pub enrollments: Vec<Value>,
}

/// The `sourcedId` of `v`.
pub fn id_of(v: &Value) -> &str {
    v["sourcedId"].as_str().unwrap_or("")
}

/// The `sourcedId` that `v`'s reference `field` points at.
fn ref_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]["sourcedId"].as_str().unwrap_or("")
}

/// A user's role (`student`, `teacher`): that of their first `roles` entry.
pub fn role_of(v: &Value) -> &str {
    v["roles"][0]["role"].as_str().unwrap_or("")
}

impl std::fmt::Debug for Rostering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rostering")
            .field("orgs", &self.orgs.len())
            .field("academic_sessions", &self.academic_sessions.len())
            .field("classes", &self.classes.len())
            .field("courses", &self.courses.len())
            .field("users", &self.users.len())
            .field("enrollments", &self.enrollments.len())
            .finish()
    }
}

impl Rostering {
    fn find<'a>(list: &'a [Value], id: &str) -> Option<&'a Value> {
        list.iter().find(|v| id_of(v) == id)
    }

    pub fn org(&self, id: &str) -> Option<&Value> {
        Self::find(&self.orgs, id)
    }

    pub fn academic_session(&self, id: &str) -> Option<&Value> {
        Self::find(&self.academic_sessions, id)
    }

    /// A session of type `term` (or `gradingPeriod`, of which there are none).
    pub fn session_of_type(&self, id: &str, kind: &str) -> Option<&Value> {
        self.academic_session(id).filter(|v| v["type"] == kind)
    }

    pub fn sessions_of_type(&self, kind: &str) -> Vec<Value> {
        self.academic_sessions
            .iter()
            .filter(|v| v["type"] == kind)
            .cloned()
            .collect()
    }

    /// The terms of a school.
    pub fn terms_of_school(&self, school: &str) -> Vec<Value> {
        self.academic_sessions
            .iter()
            .filter(|v| v["type"] == "term" && ref_of(v, "org") == school)
            .cloned()
            .collect()
    }

    pub fn course(&self, id: &str) -> Option<&Value> {
        Self::find(&self.courses, id)
    }

    pub fn courses_of_school(&self, school: &str) -> Vec<Value> {
        self.courses
            .iter()
            .filter(|c| ref_of(c, "org") == school)
            .cloned()
            .collect()
    }

    /// The classes of a course: the one class it was made for.
    pub fn classes_of_course(&self, course: &str) -> Vec<Value> {
        self.classes
            .iter()
            .filter(|c| ref_of(c, "course") == course)
            .cloned()
            .collect()
    }

    pub fn class(&self, id: &str) -> Option<&Value> {
        Self::find(&self.classes, id)
    }

    pub fn classes_of_school(&self, school: &str) -> Vec<Value> {
        self.classes
            .iter()
            .filter(|c| ref_of(c, "school") == school)
            .cloned()
            .collect()
    }

    pub fn classes_of_term(&self, term: &str) -> Vec<Value> {
        self.classes
            .iter()
            .filter(|c| {
                c["terms"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t["sourcedId"] == term))
            })
            .cloned()
            .collect()
    }

    /// The classes a user is enrolled in.
    pub fn classes_of_user(&self, user: &str) -> Vec<Value> {
        let ids: BTreeSet<&str> = self
            .enrollments
            .iter()
            .filter(|e| ref_of(e, "user") == user)
            .map(|e| ref_of(e, "class"))
            .collect();
        self.classes
            .iter()
            .filter(|c| ids.contains(id_of(c)))
            .cloned()
            .collect()
    }

    pub fn user(&self, id: &str) -> Option<&Value> {
        Self::find(&self.users, id)
    }

    /// Users with `role` (`None`: all).
    pub fn users_with_role(&self, role: Option<&str>) -> Vec<Value> {
        self.users
            .iter()
            .filter(|u| role.is_none_or(|r| role_of(u) == r))
            .cloned()
            .collect()
    }

    /// A school's users with `role`.
    pub fn users_of_school(&self, school: &str, role: &str) -> Vec<Value> {
        self.users
            .iter()
            .filter(|u| role_of(u) == role && u["roles"][0]["org"]["sourcedId"] == school)
            .cloned()
            .collect()
    }

    /// A class's users enrolled with `role`.
    pub fn users_of_class(&self, class: &str, role: &str) -> Vec<Value> {
        let ids: BTreeSet<&str> = self
            .enrollments
            .iter()
            .filter(|e| ref_of(e, "class") == class && e["role"] == role)
            .map(|e| ref_of(e, "user"))
            .collect();
        self.users
            .iter()
            .filter(|u| ids.contains(id_of(u)))
            .cloned()
            .collect()
    }

    pub fn enrollment(&self, id: &str) -> Option<&Value> {
        Self::find(&self.enrollments, id)
    }

    pub fn enrollments_of_school(&self, school: &str) -> Vec<Value> {
        self.enrollments
            .iter()
            .filter(|e| ref_of(e, "school") == school)
            .cloned()
            .collect()
    }
}

/// Unix seconds as the spec's DateTime, in UTC with milliseconds:
/// `2026-11-23T08:30:00.000Z`.
pub fn date_time(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string())
        .unwrap_or_default()
}

/// The school year that `secs` falls in (it starts on 1 August, in UTC): `2026-2027`.
pub fn school_year_at(secs: i64) -> String {
    let (y, m) = jiff::Timestamp::from_second(secs)
        .map(|t| {
            let d = t.to_zoned(jiff::tz::TimeZone::UTC);
            (i32::from(d.year()), d.month())
        })
        .unwrap_or((1970, 1));
    let start = if m >= 8 { y } else { y - 1 };
    format!("{start}-{}", start + 1)
}

/// The first calendar year of a school year written `2026-2027`.
fn school_year_start(year: &str) -> Option<i32> {
    let (a, b) = year.split_once('-')?;
    let (a, b): (i32, i32) = (a.parse().ok()?, b.parse().ok()?);
    (b == a + 1 && (1900..=9998).contains(&a)).then_some(a)
}

/// A class's pseudonymous `sourcedId` for `rp`: the HMAC of the group's id under the party's
/// sector and [`CLASS_SECTOR_SUFFIX`].
pub fn class_id(key: &PseudonymKey, rp: &RelyingParty, group: &Uuid) -> Result<String> {
    let sector = Sector::new(format!("{}{CLASS_SECTOR_SUFFIX}", rp.sector))
        .map_err(SchoolDataError::Subject)?;
    Ok(pairwise_subject(key, &sector, group).as_str().to_string())
}

/// The sourcedIds of a school year's sessions: the `schoolYear` and its `term`.
pub fn session_ids(school: &str, year: &str) -> (String, String) {
    (format!("{school}.{year}"), format!("{school}.{year}.term"))
}

/// The OneRoster role of a Leerpoort role: pupils are students, every member of staff a
/// teacher.
pub fn role_name(role: Role) -> &'static str {
    if role.is_pupil() {
        "student"
    } else {
        "teacher"
    }
}

/// A year group as the grade the spec's CEDS list names: groep 1 is `PK`, groep 2 `KG`,
/// groep 3 to 8 are `01` to `06`.
pub fn grade(jaargroep: u8) -> String {
    match jaargroep {
        1 => "PK".into(),
        2 => "KG".into(),
        n => format!("{:02}", n.saturating_sub(2)),
    }
}

/// Builds the objects, with references (`href`) under `base` (the issuer and [`BASE_PATH`]).
struct Shaper<'a> {
    base: &'a str,
}

impl Shaper<'_> {
    fn guid(&self, path: &str, kind: &str, id: &str) -> Value {
        json!({"href": format!("{}/{path}/{id}", self.base), "sourcedId": id, "type": kind})
    }

    fn org(&self, id: &str) -> Value {
        self.guid("orgs", "org", id)
    }

    fn session(&self, id: &str) -> Value {
        self.guid("academicSessions", "academicSession", id)
    }
}

/// Everything `rp` sees over OneRoster at `now`, with references under `base` (the issuer and
/// [`BASE_PATH`]): every school that registered it and allows it, as [`schooldata`] decides.
pub fn rostering(
    dir: &dyn Directory,
    key: &PseudonymKey,
    rp: &RelyingParty,
    base: &str,
    now: i64,
) -> Result<Rostering> {
    let mut out = Rostering::default();
    let shaper = Shaper { base };
    for school in schooldata::schools(dir, rp)? {
        add_school(dir, key, rp, &shaper, &school, now, &mut out)?;
    }
    out.orgs.sort_by(|a, b| id_of(a).cmp(id_of(b)));
    out.academic_sessions.sort_by(|a, b| id_of(a).cmp(id_of(b)));
    out.classes.sort_by(|a, b| id_of(a).cmp(id_of(b)));
    out.courses.sort_by(|a, b| id_of(a).cmp(id_of(b)));
    out.users.sort_by(|a, b| id_of(a).cmp(id_of(b)));
    out.enrollments.sort_by(|a, b| id_of(a).cmp(id_of(b)));
    Ok(out)
}

/// One school's objects.
fn add_school(
    dir: &dyn Directory,
    key: &PseudonymKey,
    rp: &RelyingParty,
    shaper: &Shaper<'_>,
    at: &ConsentedSchool,
    now: i64,
    out: &mut Rostering,
) -> Result<()> {
    let school = &at.school;
    let r = school.instelling_ref;
    let school_id = r.to_string();
    // The last change to the school's consent, or to what it releases.
    let consent_time = at.registration.since.max(at.registration.updated_at);
    let school_time = school.updated_at.max(consent_time);
    out.orgs.push(json!({
        "sourcedId": school_id,
        "status": ACTIVE,
        "dateLastModified": date_time(school_time),
        "name": school.name,
        "type": "school",
        "identifier": school.brin6.to_string(),
    }));

    let all_groups = dir.groups_of_school(&r)?;
    let times = dir.school_times(&r)?;
    let groups: Vec<&Group> = if at.registration.release.groups {
        all_groups.iter().collect()
    } else {
        Vec::new()
    };

    // The school years: the current one and those of its groups.
    let current = school_year_at(now);
    let mut years: BTreeSet<String> = BTreeSet::new();
    years.insert(current.clone());
    for g in &groups {
        if school_year_start(&g.school_year).is_some() {
            years.insert(g.school_year.clone());
        }
    }
    for year in &years {
        let Some(start) = school_year_start(year) else {
            continue;
        };
        let (year_id, term_id) = session_ids(&school_id, year);
        let common = |id: &str, title: String, kind: &str| {
            json!({
                "sourcedId": id,
                "status": ACTIVE,
                "dateLastModified": date_time(school_time),
                "title": title,
                "startDate": format!("{start}-08-01"),
                "endDate": format!("{}-07-31", start + 1),
                "type": kind,
                "schoolYear": (start + 1).to_string(),
                "org": shaper.org(&school_id),
            })
        };
        let mut y = common(&year_id, format!("Schooljaar {year}"), "schoolYear");
        y["children"] = json!([shaper.session(&term_id)]);
        let mut t = common(&term_id, year.clone(), "term");
        t["parent"] = shaper.session(&year_id);
        out.academic_sessions.push(y);
        out.academic_sessions.push(t);
    }

    // The classes.
    let mut class_ids: HashMap<Uuid, (String, i64)> = HashMap::new();
    for g in &groups {
        let id = class_id(key, rp, &g.id)?;
        // What the party sees of a group changes with the group and with the release.
        let time = times
            .groups
            .get(&g.id)
            .copied()
            .unwrap_or(0)
            .max(consent_time);
        let year = if school_year_start(&g.school_year).is_some() {
            g.school_year.clone()
        } else {
            current.clone()
        };
        let (year_id, term_id) = session_ids(&school_id, &year);
        let mut course = json!({
            "sourcedId": id,
            "status": ACTIVE,
            "dateLastModified": date_time(time),
            "title": g.name,
            "courseCode": g.key,
            "schoolYear": shaper.session(&year_id),
            "org": shaper.org(&school_id),
        });
        let mut c = json!({
            "sourcedId": id,
            "status": ACTIVE,
            "dateLastModified": date_time(time),
            "title": g.name,
            "classCode": g.key,
            "classType": "homeroom",
            "course": shaper.guid("courses", "course", &id),
            "school": shaper.org(&school_id),
            "terms": [shaper.session(&term_id)],
        });
        if let Some(j) = g.jaargroep {
            c["grades"] = json!([grade(j.get())]);
            course["grades"] = json!([grade(j.get())]);
        }
        class_ids.insert(g.id, (id, time));
        out.classes.push(c);
        out.courses.push(course);
    }

    // The people, and their memberships.
    for user in dir.users_of_school(&r)?.iter().chain(times.removed.iter()) {
        let time = times
            .users
            .get(&user.id)
            .copied()
            .unwrap_or(0)
            .max(consent_time);
        if let Some(p) = schooldata::person(key, rp, at, &all_groups, user)? {
            let role = role_name(p.role);
            for g in p.groups.iter().flatten() {
                if let Some((class, class_time)) = class_ids.get(&g.id) {
                    out.enrollments.push(json!({
                        "sourcedId": format!("{class}.{}", p.sub.as_str()),
                        "status": ACTIVE,
                        "dateLastModified": date_time(time.max(*class_time)),
                        "role": role,
                        "primary": "false",
                        "user": shaper.guid("users", "user", p.sub.as_str()),
                        "class": shaper.guid("classes", "class", class),
                        "school": shaper.org(&school_id),
                    }));
                }
            }
            out.users
                .push(user_json(shaper, &school_id, user, &p, time));
        } else if let Some(d) = schooldata::departed(key, rp, at, user)? {
            out.users.push(json!({
                "sourcedId": d.sub.as_str(),
                "status": TO_BE_DELETED,
                "dateLastModified": date_time(time),
                "enabledUser": "false",
                "givenName": "",
                "familyName": "",
                "roles": [role_json(shaper, &school_id, role_name(d.role))],
                "primaryOrg": shaper.org(&school_id),
            }));
        }
    }
    Ok(())
}

fn role_json(shaper: &Shaper<'_>, school: &str, role: &str) -> Value {
    json!({"roleType": "primary", "role": role, "org": shaper.org(school)})
}

/// A person the party sees, with only what the school releases: names where it releases names
/// (else empty strings), the ECK-iD where it releases ECK-iDs, the e-mail address of staff only.
fn user_json(shaper: &Shaper<'_>, school: &str, user: &User, p: &Person, time: i64) -> Value {
    let sub: &PairwiseSubject = &p.sub;
    let mut m = Map::new();
    m.insert("sourcedId".into(), json!(sub.as_str()));
    m.insert("status".into(), json!(ACTIVE));
    m.insert("dateLastModified".into(), json!(date_time(time)));
    m.insert("enabledUser".into(), json!("true"));
    let (given, family) = p
        .names
        .as_ref()
        .map(|n| (n.given_name.as_str(), n.family_name.as_str()))
        .unwrap_or(("", ""));
    m.insert("givenName".into(), json!(given));
    m.insert("familyName".into(), json!(family));
    m.insert(
        "roles".into(),
        json!([role_json(shaper, school, role_name(p.role))]),
    );
    m.insert("primaryOrg".into(), shaper.org(school));
    if let Some(e) = &p.eck_id {
        m.insert("identifier".into(), json!(e.as_str()));
        m.insert(
            "userIds".into(),
            json!([{"type": "ECK-iD", "identifier": e.as_str()}]),
        );
    }
    if !p.is_pupil() {
        if let Some(email) = user.email.as_deref().filter(|e| !e.is_empty()) {
            m.insert("email".into(), json!(email));
            m.insert("username".into(), json!(email));
        }
    }
    if p.is_pupil() {
        let grades: BTreeSet<String> = p
            .groups
            .iter()
            .flatten()
            .filter_map(|g| g.jaargroep.map(|j| grade(j.get())))
            .collect();
        if !grades.is_empty() {
            m.insert("grades".into(), json!(grades));
        }
    }
    Value::Object(m)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_school_year_runs_from_august_to_july() {
        // 2026-11-23 08:30 UTC
        assert_eq!(school_year_at(1_795_422_600), "2026-2027");
        // 2027-07-31 23:59:59 UTC and 2027-08-01 00:00 UTC
        assert_eq!(school_year_at(1_817_078_399), "2026-2027");
        assert_eq!(school_year_at(1_817_078_400), "2027-2028");
        assert_eq!(school_year_start("2026-2027"), Some(2026));
        assert_eq!(school_year_start("2026-2028"), None);
        assert_eq!(school_year_start("2026"), None);
        assert_eq!(date_time(1_795_422_600), "2026-11-23T08:30:00.000Z");
    }

    #[test]
    fn year_groups_are_ceds_grades_and_staff_teach() {
        assert_eq!(grade(1), "PK");
        assert_eq!(grade(2), "KG");
        assert_eq!(grade(3), "01");
        assert_eq!(grade(8), "06");
        assert_eq!(role_name(Role::Leerling), "student");
        for staff in [
            Role::Leerkracht,
            Role::IctCoordinator,
            Role::Ib,
            Role::Stagiaire,
        ] {
            assert_eq!(role_name(staff), "teacher");
        }
    }

    fn party(sector: &str) -> RelyingParty {
        use crate::model::{JwsAlg, OidcClient, RpKind, RpProtocol};
        RelyingParty {
            id: Uuid::new_v4(),
            name: "Rekenwereld".into(),
            kind: RpKind::Publisher,
            protocol: RpProtocol::Oidc(OidcClient {
                client_id: sector.into(),
                client_secret_hash: None,
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
                initiate_login_uri: None,
                backchannel_logout_uri: None,
                jwks_uri: None,
                jwks: None,
                token_endpoint_auth_method: "client_secret_basic".into(),
                id_token_alg: JwsAlg::RS256,
                access_token_format: Default::default(),
            }),
            sector: sector.into(),
            home_allowed: true,
            audience: claims::Audience::Beide,
            enabled: true,
            offline_access: false,
            created_at: 0,
        }
    }

    #[test]
    fn a_class_id_is_stable_per_party_and_differs_between_parties_and_from_subs() {
        let key = PseudonymKey::new(&[7u8; 32]).unwrap();
        let group = Uuid::new_v4();
        let a = party("rekenwereld.example");
        let b = party("taalwereld.example");
        let id = class_id(&key, &a, &group).unwrap();
        assert_eq!(id, class_id(&key, &a, &group).unwrap(), "stable");
        assert_ne!(id, class_id(&key, &b, &group).unwrap(), "per party");
        assert!(!id.contains(&group.to_string()), "no internal id");
        let sub = pairwise_subject(&key, &Sector::new(a.sector.clone()).unwrap(), &group);
        assert_ne!(id, sub.as_str(), "not a sub of the same id");
    }

    #[test]
    fn nested_collections_follow_the_references() {
        let shaper = Shaper {
            base: "https://lp.example/ims/oneroster/rostering/v1p2",
        };
        let user = |id: &str, role: &str, school: &str| json!({"sourcedId": id, "roles": [role_json(&shaper, school, role)]});
        let r = Rostering {
            orgs: vec![json!({"sourcedId": "s1"})],
            academic_sessions: vec![
                json!({"sourcedId": "s1.2026-2027", "type": "schoolYear", "org": shaper.org("s1")}),
                json!({"sourcedId": "s1.2026-2027.term", "type": "term", "org": shaper.org("s1")}),
            ],
            classes: vec![
                json!({"sourcedId": "c1", "school": shaper.org("s1"), "course": shaper.guid("courses", "course", "c1"), "terms": [shaper.session("s1.2026-2027.term")]}),
                json!({"sourcedId": "c2", "school": shaper.org("s2"), "terms": []}),
            ],
            courses: vec![
                json!({"sourcedId": "c1", "org": shaper.org("s1")}),
                json!({"sourcedId": "c2", "org": shaper.org("s2")}),
            ],
            users: vec![user("p1", "student", "s1"), user("t1", "teacher", "s1")],
            enrollments: vec![
                json!({"sourcedId": "c1.p1", "role": "student", "user": shaper.guid("users", "user", "p1"), "class": shaper.guid("classes", "class", "c1"), "school": shaper.org("s1")}),
                json!({"sourcedId": "c1.t1", "role": "teacher", "user": shaper.guid("users", "user", "t1"), "class": shaper.guid("classes", "class", "c1"), "school": shaper.org("s1")}),
            ],
        };
        let ids = |l: Vec<Value>| l.iter().map(|v| id_of(v).to_string()).collect::<Vec<_>>();
        assert_eq!(ids(r.classes_of_school("s1")), ["c1"]);
        assert_eq!(ids(r.courses_of_school("s1")), ["c1"]);
        assert_eq!(ids(r.classes_of_course("c1")), ["c1"]);
        assert!(r.course("c2").is_some() && r.course("c3").is_none());
        assert_eq!(ids(r.classes_of_term("s1.2026-2027.term")), ["c1"]);
        assert_eq!(ids(r.classes_of_user("t1")), ["c1"]);
        assert_eq!(ids(r.users_of_class("c1", "student")), ["p1"]);
        assert_eq!(ids(r.users_of_class("c1", "teacher")), ["t1"]);
        assert_eq!(ids(r.users_of_school("s1", "teacher")), ["t1"]);
        assert_eq!(ids(r.users_with_role(Some("student"))), ["p1"]);
        assert_eq!(ids(r.terms_of_school("s1")), ["s1.2026-2027.term"]);
        assert_eq!(ids(r.enrollments_of_school("s1")).len(), 2);
        assert!(r.session_of_type("s1.2026-2027", "term").is_none());
        assert_eq!(
            r.classes[0]["school"]["href"],
            "https://lp.example/ims/oneroster/rostering/v1p2/orgs/s1"
        );
    }
}
