//! The school-data API (`/api/schooldata/v1/…`, described in `docs/api/openapi.json`): for a
//! publisher or network environment, the schools that registered it and what each releases to
//! it, their groups, pupils and staff, people by ECK-iD, and the feed of schools that granted
//! or withdrew consent.
//!
//! Every call carries an access token the party's own client got at `/oidc/token`
//! (`client_credentials`, scope `schooldata`), in one `Authorization: Bearer` header; the
//! client must be a publisher's or a network environment's, switched on. What it may see is
//! `broker::schooldata`'s decision: this file only reads requests and shapes answers. A school
//! that never registered the caller, withdrew, closed or does not exist is one answer: 404.
//! Answers are JSON (`Cache-Control: no-store`); refusals are RFC 9457 problem documents.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use broker::keyspace::{Key, Limit};
use broker::model::{Group, RelyingParty};
use broker::schooldata::{self, ConsentChange, ConsentedSchool, Person, SchoolDataError};
use claims::{EckId, InstellingRef};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    self as api, answer, bearer, no_token, problem, too_many, unavailable, Denied, Problem,
};
use crate::app::AppState;
use crate::oidc::grant_types::client_credentials::SCHOOLDATA_SCOPE;

/// How many requests one client may make in [`WINDOW`], every resource together.
pub const REQUESTS_PER_WINDOW: u64 = 600;
/// The sliding window of [`REQUESTS_PER_WINDOW`].
pub const WINDOW: Duration = Duration::from_secs(60);
/// A page's length when the caller names none.
pub const DEFAULT_LIMIT: usize = 100;
/// The longest page.
pub const MAX_LIMIT: usize = 1000;
/// The most ECK-iDs one look-up asks for.
pub const MAX_ECK_IDS: usize = 100;
/// The largest look-up body.
const LOOKUP_BODY_LIMIT: usize = 64 * 1024;

const NOT_FOR_THIS_CLIENT: &str =
    "this API is for a publisher's or network environment's client; this client is not one";

/// The relying party whose token `token` is: scope `schooldata`, a publisher or network
/// environment (never an LAS), switched on.
fn caller(state: &AppState, token: &str) -> Result<RelyingParty, Denied> {
    let rp = api::caller(state, token, &[SCHOOLDATA_SCOPE])?.rp;
    if !schooldata::may_see(&rp) {
        return Err(Denied::Kind(NOT_FOR_THIS_CLIENT));
    }
    Ok(rp)
}

/// Count the request against the client's allowance: [`REQUESTS_PER_WINDOW`] per [`WINDOW`],
/// sliding. Beyond it, 429 with `Retry-After`.
fn throttle(st: &AppState, rp: &RelyingParty) -> Result<(), Problem> {
    let key = Key::Limit(Limit::SchoolDataReads(rp.public_id()));
    match st.store.incr(&key, WINDOW) {
        Ok(n) if n > REQUESTS_PER_WINDOW => Err(too_many(
            format!(
                "at most {REQUESTS_PER_WINDOW} requests per {} seconds",
                WINDOW.as_secs()
            ),
            WINDOW.as_secs(),
        )),
        Ok(_) => Ok(()),
        Err(_) => Err(unavailable()),
    }
}

/// Who calls, and within their allowance: the checks before anything is read.
fn admitted(st: &AppState, token: &str) -> Result<RelyingParty, Problem> {
    let rp = caller(st, token).map_err(Denied::problem)?;
    throttle(st, &rp)?;
    Ok(rp)
}

/// Answer a read: 401 without a token; else, on the blocking pool, the caller's checks and
/// then `f`.
async fn serve<F>(req: &HttpRequest, state: &web::Data<AppState>, f: F) -> HttpResponse
where
    F: FnOnce(&AppState, &RelyingParty) -> Result<Value, Problem> + Send + 'static,
{
    let Some(token) = bearer(req) else {
        return no_token().response();
    };
    let st = state.clone();
    answer(move || {
        let rp = admitted(&st, &token)?;
        f(&st, &rp)
    })
    .await
}

/// The one answer for a school the caller may not see, whatever the reason.
fn not_found() -> Problem {
    problem(
        StatusCode::NOT_FOUND,
        "no school with this INSTELLING_REF has registered this client",
    )
}

fn failed(e: SchoolDataError) -> Problem {
    tracing::error!(error = %e, "school-data API: the directory failed");
    unavailable()
}

/// The school of the path, as the caller sees it; 404 for a malformed INSTELLING_REF too.
fn school_of(st: &AppState, rp: &RelyingParty, path: &str) -> Result<ConsentedSchool, Problem> {
    let r: InstellingRef = path.parse().map_err(|_| not_found())?;
    schooldata::school(st.dir.as_ref(), rp, &r)
        .map_err(failed)?
        .ok_or_else(not_found)
}

/// A page of a list: `limit` (1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`]) items from
/// `offset` (default 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Paging {
    limit: usize,
    offset: usize,
}

/// The query's parameters (400 when the query string cannot be read).
fn query(req: &HttpRequest) -> Result<HashMap<String, String>, Problem> {
    web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| problem(StatusCode::BAD_REQUEST, "the query string cannot be read"))
}

fn paging(q: &HashMap<String, String>) -> Result<Paging, Problem> {
    let number = |name: &str, default: usize, min: usize, max: usize| match q.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                problem(
                    StatusCode::BAD_REQUEST,
                    format!("{name} must be a whole number from {min} to {max}"),
                )
            }),
    };
    Ok(Paging {
        limit: number("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)?,
        offset: number("offset", 0, 0, u32::MAX as usize)?,
    })
}

/// The paging of the request, read before the blocking hop and refused only after the
/// caller's checks.
fn paging_of(req: &HttpRequest) -> Result<Paging, Problem> {
    paging(&query(req)?)
}

/// `items` paged: the list's members `totaal`, `limit`, `offset` and `name`.
fn page<T>(
    items: impl ExactSizeIterator<Item = T>,
    p: Paging,
    name: &str,
    shape: impl Fn(T) -> Result<Value, Problem>,
) -> Result<Map<String, Value>, Problem> {
    let total = items.len();
    let shown = items
        .skip(p.offset)
        .take(p.limit)
        .map(shape)
        .collect::<Result<Vec<_>, _>>()?;
    let mut m = Map::new();
    m.insert("totaal".into(), json!(total));
    m.insert("limit".into(), json!(p.limit));
    m.insert("offset".into(), json!(p.offset));
    m.insert(name.into(), Value::Array(shown));
    Ok(m)
}

/// Unix seconds as RFC 3339 in UTC, e.g. `2026-11-23T08:30:00Z`.
fn time(secs: i64) -> Value {
    jiff::Timestamp::from_second(secs)
        .map(|t| Value::String(t.to_string()))
        .unwrap_or(Value::Null)
}

/// `sinds`: RFC 3339 (with an offset) or unix seconds.
fn moment(v: &str) -> Option<i64> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse().ok();
    }
    v.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// A school as the caller sees it: which school, since when it allows the caller, and what it
/// releases to it.
fn school_json(st: &AppState, c: &ConsentedSchool) -> Result<Value, Problem> {
    let s = &c.school;
    let release = c.registration.release;
    let mut v = json!({
        "instellingRef": s.instelling_ref.to_string(),
        "brin6": s.brin6.to_string(),
        "naam": s.name,
        "status": "toegestaan",
        "sinds": time(c.registration.since),
        "vrijgegeven": {
            "eckId": release.eckid,
            "namen": release.names,
            "groepen": release.groups,
        },
        "thuisToegestaan": c.home_allowed,
    });
    if let (Some(place), Some(o)) = (
        schooldata::place(st.dir.as_ref(), s).map_err(failed)?,
        v.as_object_mut(),
    ) {
        o.insert("plaats".into(), json!(place));
    }
    Ok(v)
}

fn group_json(g: &Group) -> Value {
    json!({
        "sleutel": g.key,
        "naam": g.name,
        "jaargroep": g.jaargroep.map(|j| j.get()),
        "combinatiegroep": g.composite,
        "schooljaar": g.school_year,
    })
}

/// A person by the caller's `sub`, with only what the school releases: the ECK-iD, the names
/// and the group keys appear only when released.
fn person_json(p: &Person) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), json!(p.sub.as_str()));
    m.insert("rol".into(), json!(p.role.as_str()));
    if let Some(e) = &p.eck_id {
        m.insert("eckId".into(), json!(e.as_str()));
    }
    if let Some(n) = &p.names {
        m.insert("voornaam".into(), json!(n.given_name));
        m.insert("achternaam".into(), json!(n.family_name));
    }
    if let Some(groups) = &p.groups {
        m.insert(
            "groepen".into(),
            json!(groups.iter().map(|g| g.key.as_str()).collect::<Vec<_>>()),
        );
    }
    m
}

/// GET `/api/schooldata/v1/scholen`: the schools that registered the caller and allow it now,
/// each with what it releases (the registrations of the caller), by INSTELLING_REF.
pub async fn scholen(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let paging = paging_of(&req);
    serve(&req, &state, move |st, rp| {
        let p = paging?;
        let all = schooldata::schools(st.dir.as_ref(), rp).map_err(failed)?;
        Ok(Value::Object(page(all.iter(), p, "scholen", |c| {
            school_json(st, c)
        })?))
    })
    .await
}

/// GET `/api/schooldata/v1/scholen/{ref}`: one school (a merged school's INSTELLING_REF
/// answers with the school it merged into).
pub async fn school(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let path = path.into_inner();
    serve(&req, &state, move |st, rp| {
        let c = school_of(st, rp, &path)?;
        school_json(st, &c)
    })
    .await
}

/// GET `/api/schooldata/v1/scholen/{ref}/groepen`: the school's groups, when it releases
/// groups to the caller (else none).
pub async fn groepen(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let path = path.into_inner();
    let paging = paging_of(&req);
    serve(&req, &state, move |st, rp| {
        let p = paging?;
        let c = school_of(st, rp, &path)?;
        let groups = if c.registration.release.groups {
            st.dir
                .groups_of_school(&c.school.instelling_ref)
                .map_err(|e| failed(e.into()))?
        } else {
            Vec::new()
        };
        let mut m = page(groups.iter(), p, "groepen", |g| Ok(group_json(g)))?;
        m.insert(
            "instellingRef".into(),
            json!(c.school.instelling_ref.to_string()),
        );
        Ok(Value::Object(m))
    })
    .await
}

/// Which people a list shows.
#[derive(Debug, Clone, Copy)]
enum Who {
    Pupils,
    Staff,
}

async fn people(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: String,
    who: Who,
) -> HttpResponse {
    let paging = paging_of(&req);
    serve(&req, &state, move |st, rp| {
        let p = paging?;
        let c = school_of(st, rp, &path)?;
        let roster = schooldata::roster(st.dir.as_ref(), &st.pseudonyms, rp, c).map_err(failed)?;
        let (name, list): (&str, Vec<&Person>) = match who {
            Who::Pupils => ("leerlingen", roster.pupils().collect()),
            Who::Staff => ("medewerkers", roster.staff().collect()),
        };
        let mut m = page(list.into_iter(), p, name, |p| {
            Ok(Value::Object(person_json(p)))
        })?;
        m.insert(
            "instellingRef".into(),
            json!(roster.school.school.instelling_ref.to_string()),
        );
        Ok(Value::Object(m))
    })
    .await
}

/// GET `/api/schooldata/v1/scholen/{ref}/leerlingen`: the school's pupils the caller sees, by
/// `sub`.
pub async fn leerlingen(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    people(req, state, path.into_inner(), Who::Pupils).await
}

/// GET `/api/schooldata/v1/scholen/{ref}/medewerkers`: the school's staff the caller sees, by
/// `sub`.
pub async fn medewerkers(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    people(req, state, path.into_inner(), Who::Staff).await
}

/// The body of a look-up by ECK-iD.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lookup {
    #[serde(rename = "eckIds")]
    eck_ids: Vec<String>,
}

/// The ECK-iDs of a look-up, read strictly; 400 naming the first that is not one (by its
/// place, never its value).
fn eck_ids(l: &Lookup) -> Result<Vec<EckId>, Problem> {
    if l.eck_ids.len() > MAX_ECK_IDS {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            format!("at most {MAX_ECK_IDS} ECK-iDs per request"),
        ));
    }
    l.eck_ids
        .iter()
        .enumerate()
        .map(|(i, e)| {
            EckId::parse_import(e.trim())
                .map_err(|why| problem(StatusCode::BAD_REQUEST, format!("eckIds[{i}]: {why}")))
        })
        .collect()
}

/// POST `/api/schooldata/v1/personen/zoeken` with `{"eckIds": [...]}`: the people with these
/// ECK-iDs, by the caller's `sub`, at schools that release ECK-iDs to it. The ECK-iDs travel in
/// the body so that none appears in a URL or an access log. The caller is checked before the
/// body is read.
pub async fn zoeken(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Payload,
) -> HttpResponse {
    let Some(token) = bearer(&req) else {
        return no_token().response();
    };
    let st = state.clone();
    let rp = match web::block(move || admitted(&st, &token)).await {
        Ok(Ok(rp)) => rp,
        Ok(Err(p)) => return p.response(),
        Err(_) => return unavailable().response(),
    };
    let asked = match api::read_json::<Lookup>(body, LOOKUP_BODY_LIMIT)
        .await
        .and_then(|l| eck_ids(&l))
    {
        Ok(a) => a,
        Err(p) => return p.response(),
    };
    let st = state.clone();
    answer(move || {
        let found =
            schooldata::by_eck_ids(st.dir.as_ref(), &st.pseudonyms, &rp, &asked).map_err(failed)?;
        let personen: Vec<Value> = found
            .iter()
            .map(|f| {
                let mut m = person_json(&f.person);
                m.insert("eckId".into(), json!(f.eck_id.as_str()));
                m.insert("instellingRef".into(), json!(f.school.to_string()));
                Value::Object(m)
            })
            .collect();
        Ok(json!({ "personen": personen }))
    })
    .await
}

/// GET `/api/schooldata/v1/toestemmingen?sinds=…`: every school whose consent to the caller
/// changed at or after `sinds` (RFC 3339 or unix seconds), as it stands now, oldest change
/// first. A withdrawn school is told by its INSTELLING_REF and the moment, nothing more;
/// `volgendeSinds` is the `sinds` of the next call.
pub async fn toestemmingen(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let asked = query(&req).and_then(|q| {
        let since = q.get("sinds").and_then(|v| moment(v)).ok_or_else(|| {
            problem(
                StatusCode::BAD_REQUEST,
                "sinds is required: a moment in RFC 3339 (2026-11-23T08:30:00Z) or unix seconds",
            )
        })?;
        Ok((since, paging(&q)?))
    });
    serve(&req, &state, move |st, rp| {
        let (since, p) = asked?;
        let now = st.clock.now_secs();
        let changes = schooldata::changes_since(st.dir.as_ref(), rp, since).map_err(failed)?;
        let mut m = page(changes.iter(), p, "toestemmingen", |c| match c {
            ConsentChange::Granted { school, at } => {
                let mut v = school_json(st, school)?;
                if let Some(o) = v.as_object_mut() {
                    o.insert("tijdstip".into(), time(*at));
                }
                Ok(v)
            }
            ConsentChange::Withdrawn { school, at } => Ok(json!({
                "instellingRef": school.to_string(),
                "status": "ingetrokken",
                "tijdstip": time(*at),
            })),
        })?;
        m.insert("sinds".into(), time(since));
        m.insert("volgendeSinds".into(), time(now));
        Ok(Value::Object(m))
    })
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sinds_is_rfc_3339_or_unix_seconds() {
        assert_eq!(moment("1795422600"), Some(1_795_422_600));
        assert_eq!(moment("2026-11-23T08:30:00Z"), Some(1_795_422_600));
        assert_eq!(moment("2026-11-23T09:30:00+01:00"), Some(1_795_422_600));
        assert_eq!(moment("2026-11-23"), None, "a date without a time");
        assert_eq!(moment("gisteren"), None);
        assert_eq!(moment(""), None);
        assert_eq!(time(1_795_422_600), json!("2026-11-23T08:30:00Z"));
    }

    #[test]
    fn paging_is_bounded() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        assert_eq!(
            paging(&q(&[])).unwrap(),
            Paging {
                limit: DEFAULT_LIMIT,
                offset: 0
            }
        );
        assert_eq!(
            paging(&q(&[("limit", "2"), ("offset", "4")])).unwrap(),
            Paging {
                limit: 2,
                offset: 4
            }
        );
        for bad in [
            ("limit", "0"),
            ("limit", "1001"),
            ("limit", "-1"),
            ("offset", "x"),
        ] {
            let p = paging(&q(&[bad])).unwrap_err();
            assert_eq!(p.status, StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }
}
