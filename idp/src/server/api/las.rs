//! The LAS API (`/api/las/v1/…`, described in `docs/api/openapi.json`): an LAS that
//! sends rather than being fetched from pushes a school's EDEXML file, and switches Leerpoort
//! on or off as its koppelpartner for a school (its side of the coupling's consent).
//!
//! Every call carries an access token the LAS's own client got at `/oidc/token`
//! (`client_credentials`, scope `las`), in one `Authorization: Bearer` header. The token must
//! be Leerpoort's, unexpired, not revoked, of a client of kind `las` that is switched on, with
//! the scope. An LAS reaches a school's data only through an active coupling (the school chose
//! it, and it switched Leerpoort on); anything else is refused before the body is read.
//! Answers are JSON; refusals are RFC 9457 problem documents.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use broker::import::las::{self, LasError, Offer};
use broker::import::ImportError;
use broker::keyspace::{Key, Limit};
use broker::model::RpKind;
use broker::repo::LasSupplier;
use claims::InstellingRef;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{self as api, bearer, no_token, ok, problem, too_many, unavailable, Denied, Problem};
use crate::app::AppState;
use crate::oidc::grant_types::client_credentials::LAS_SCOPE;

/// The largest file an LAS pushes (EDEXML's own bound).
pub const PUSH_LIMIT: usize = protocol::edexml::MAX_BYTES;

/// How many writing requests (pushes, dry runs included, and switches on or off) one LAS may
/// make for one school in [`WRITE_WINDOW`].
const WRITES_PER_WINDOW: u64 = 30;
const WRITE_WINDOW: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// The LAS whose token `token` is.
fn caller(state: &AppState, token: &str) -> Result<LasSupplier, Denied> {
    const NOT_LAS: &str = "this API is for an LAS's client; this client is not one";
    let rp = api::caller(state, token, &[LAS_SCOPE])?.rp;
    if rp.kind != RpKind::Las {
        return Err(Denied::Kind(NOT_LAS));
    }
    state
        .dir
        .las_suppliers()
        .map_err(|_| Denied::Unavailable)?
        .into_iter()
        .find(|l| l.id() == rp.id)
        .ok_or(Denied::Kind(NOT_LAS))
}

/// The request's one bearer token (else 401) and the school of its path (else 404).
fn token_and_school(req: &HttpRequest, path: &str) -> Result<(String, InstellingRef), Problem> {
    let token = bearer(req).ok_or_else(no_token)?;
    Ok((token, school_of(path)?))
}

/// The school of the path, or 404.
fn school_of(path: &str) -> Result<InstellingRef, Problem> {
    path.parse::<InstellingRef>()
        .map_err(|_| problem(StatusCode::NOT_FOUND, "no school with this INSTELLING_REF"))
}

/// Count a request that writes (a push, a switch on or off) against the LAS's allowance for
/// the school: [`WRITES_PER_WINDOW`] per [`WRITE_WINDOW`]. Beyond it, 429.
fn throttle(st: &AppState, las: &LasSupplier, school: &InstellingRef) -> Result<(), Problem> {
    let (client, sch) = (las.rp.public_id().to_string(), school.to_string());
    let key = Key::Limit(Limit::LasPushes {
        client: &client,
        school: &sch,
    });
    match st.store.incr(&key, WRITE_WINDOW) {
        Ok(n) if n > WRITES_PER_WINDOW => Err(too_many(
            format!("at most {WRITES_PER_WINDOW} writing requests per school per hour"),
            WRITE_WINDOW.as_secs(),
        )),
        Ok(_) => Ok(()),
        Err(_) => Err(unavailable()),
    }
}

/// The coupling as the API shows it.
fn coupling_json(school: &InstellingRef, o: &Offer) -> Value {
    json!({
        "instelling_ref": school.to_string(),
        "las": o.las.name(),
        "school_chose_las": o.chosen,
        "las_switched_on": o.granted,
        "active": o.active(),
        "missing": o.missing(),
        "last_run_at": o.last_run_at,
    })
}

/// An admin refusal (unknown or closed school) as a problem.
fn admin_problem(e: &broker::admin::AdminError) -> Problem {
    match e {
        broker::admin::AdminError::Invalid(m) if m.starts_with("no school") => {
            problem(StatusCode::NOT_FOUND, m.clone())
        }
        broker::admin::AdminError::Invalid(m) => problem(StatusCode::CONFLICT, m.clone()),
        other => {
            tracing::error!(error = %other, "LAS API: the directory failed");
            unavailable()
        }
    }
}

/// GET, PUT and DELETE `/api/las/v1/scholen/{ref}/koppeling`: the LAS's side of the coupling
/// with a school — read it, switch it on (the school switched Leerpoort on as koppelpartner in
/// the LAS), or off. Idempotent.
pub async fn koppeling(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let (token, school) = match token_and_school(&req, &path) {
        Ok(t) => t,
        Err(p) => return p.response(),
    };
    let method = req.method().clone();
    let st = state.clone();
    let done = web::block(move || -> Result<Value, Problem> {
        let las = caller(&st, &token).map_err(Denied::problem)?;
        let actor = format!("las:{}", las.rp.public_id());
        let ctx = broker::admin::Ctx {
            dir: st.dir.as_ref(),
            clock: st.clock.as_ref(),
            actor: &actor,
        };
        let offer = if method == actix_web::http::Method::GET {
            ctx.active_school(&school).map_err(|e| admin_problem(&e))?;
            las::status(st.dir.as_ref(), &school)
                .map_err(|e| admin_problem(&e.into()))?
                .offer(las.id())
                .cloned()
                .ok_or_else(|| {
                    admin_problem(&broker::admin::AdminError::Invalid(
                        "the LAS is switched off".into(),
                    ))
                })?
        } else {
            throttle(&st, &las, &school)?;
            let on = method == actix_web::http::Method::PUT;
            las::las_side(ctx, &school, &las, on).map_err(|e| admin_problem(&e))?
        };
        Ok(coupling_json(&school, &offer))
    })
    .await;
    match done {
        Ok(Ok(v)) => ok(&v),
        Ok(Err(p)) => p.response(),
        Err(_) => unavailable().response(),
    }
}

/// `?dryRun=true`: report, write nothing.
#[derive(Debug, Deserialize)]
pub struct PushQuery {
    #[serde(rename = "dryRun", default)]
    dry_run: bool,
}

/// POST `/api/las/v1/scholen/{ref}/edexml`: the school's EDEXML file (1.0.3, 2.0 or 2.1) as
/// the body, at most 50 MB. 200 with the import report (what was added, changed, removed; a
/// file of the next school year is staged); 422 for an invalid file (`line`, `detail`);
/// 409 when the coupling is not active (`missing`: which side); 413 too large; 429 too many.
pub async fn push(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PushQuery>,
    body: web::Payload,
) -> HttpResponse {
    let (token, school) = match token_and_school(&req, &path) {
        Ok(t) => t,
        Err(p) => return p.response(),
    };
    // Who calls, and may they, before the body is read.
    let st = state.clone();
    let checked = web::block(move || -> Result<LasSupplier, Problem> {
        let las = caller(&st, &token).map_err(Denied::problem)?;
        let status = las::status(st.dir.as_ref(), &school).map_err(|e| admin_problem(&e.into()))?;
        if st.dir.school(&school).map_err(|_| unavailable())?.is_none() {
            return Err(problem(
                StatusCode::NOT_FOUND,
                "no school with this INSTELLING_REF",
            ));
        }
        if let Some(m) = status.offer(las.id()).and_then(Offer::missing) {
            return Err(not_active(m));
        }
        throttle(&st, &las, &school)?;
        Ok(las)
    })
    .await;
    let las = match checked {
        Ok(Ok(l)) => l,
        Ok(Err(p)) => return p.response(),
        Err(_) => return unavailable().response(),
    };
    let bytes = match api::read_body(body, PUSH_LIMIT).await {
        Ok(b) => b,
        Err(p) => return p.response(),
    };
    let dry_run = query.dry_run;
    let st = state.clone();
    let done = web::block(move || {
        let secrets = st.credentials();
        las::push(&st.world(), &secrets, &las, &school, &bytes, dry_run)
    })
    .await;
    match done {
        Ok(Ok((report, welcomed))) => {
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("activation_mails".into(), json!(welcomed));
                o.insert(
                    "warnings".into(),
                    json!(report
                        .warnings
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()),
                );
            }
            ok(&v)
        }
        Ok(Err(e)) => push_refused(e).response(),
        Err(_) => unavailable().response(),
    }
}

fn not_active(m: las::Missing) -> Problem {
    problem(
        StatusCode::CONFLICT,
        format!("the coupling is not active: {m}"),
    )
    .with("missing", json!(m))
}

fn push_refused(e: LasError) -> Problem {
    match e {
        LasError::NotActive(m) => not_active(m),
        LasError::Import(ImportError::Invalid { line, message }) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{line}: {message}"),
        )
        .with("line", json!(line)),
        LasError::Import(ImportError::OtherSchool(m)) => {
            problem(StatusCode::UNPROCESSABLE_ENTITY, m)
        }
        LasError::Import(ImportError::Admin(a)) => admin_problem(&a),
        LasError::Import(ImportError::Repo(broker::repo::RepoError::Conflict(m))) => {
            problem(StatusCode::CONFLICT, m)
        }
        other => {
            tracing::error!(error = %other, "LAS push failed");
            unavailable()
        }
    }
}
