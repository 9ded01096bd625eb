//! The licence API (`/api/licenties/v1/…`, described in `docs/api/openapi.json`):
//! a publisher manages its titles (methodes and their products) and who holds each one. Its
//! shapes follow Basispoort's hosted licence office ("Hosted Lika"), with Leerpoort's
//! identifiers: a person is the publisher's own pairwise `sub`, or (INSTELLING_REF, ECK-iD)
//! where the school releases ECK-iDs; a group is (INSTELLING_REF, its key); a school its
//! INSTELLING_REF.
//!
//! Every call carries an access token the publisher's own client got at `/oidc/token`
//! (`client_credentials`, scope `licenties`). A publisher reaches only the schools that
//! registered it; anything it names elsewhere comes back under `onbekend` with the reason,
//! never dropped in silence.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use broker::audit::AuditAction;
use broker::keyspace::{Key, Limit};
use broker::licences::holders::{self, HolderRef, Reach};
use broker::licences::{check_title, Holder, Licence, LicenceChange, Title, TitleInput, TitleKey};
use broker::model::{AuditEvent, RelyingParty, RpKind};
use broker::repo::RepoError;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{self as api, bearer, no_token, problem, too_many, unavailable, Denied, Problem};
use crate::app::AppState;
use crate::oidc::grant_types::client_credentials::LICENCE_SCOPE;
use crate::saml::RELAY_STATE_MAX;

/// The largest request body (a title with its icon; a list of holders).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The most holders one request names.
pub const MAX_HOLDERS: usize = 10_000;

/// Requests one publisher's client may make per [`WINDOW`].
const REQUESTS_PER_WINDOW: u64 = 1_200;
const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// The publisher whose token `token` is (after the throttle).
fn caller(st: &AppState, token: &str) -> Result<RelyingParty, Problem> {
    let rp = api::caller(st, token, &[LICENCE_SCOPE])
        .map_err(Denied::problem)?
        .rp;
    if rp.kind != RpKind::Publisher {
        return Err(Denied::Kind("this API is for a publisher's client").problem());
    }
    let client = rp.public_id().to_string();
    match st
        .store
        .incr(&Key::Limit(Limit::LicenceRequests(&client)), WINDOW)
    {
        Ok(n) if n > REQUESTS_PER_WINDOW => Err(too_many(
            format!("at most {REQUESTS_PER_WINDOW} requests per minute"),
            WINDOW.as_secs(),
        )),
        Ok(_) => Ok(rp),
        Err(_) => Err(unavailable()),
    }
}

fn repo_problem(e: &RepoError) -> Problem {
    match e {
        RepoError::NotFound(m) => problem(StatusCode::NOT_FOUND, m.clone()),
        RepoError::Conflict(m) => problem(StatusCode::CONFLICT, m.clone()),
        RepoError::Backend(m) => {
            tracing::error!(error = %m, "licence API: the directory failed");
            unavailable()
        }
    }
}

fn audit(st: &AppState, rp: &RelyingParty, action: AuditAction, details: Value) -> AuditEvent {
    AuditEvent::record(
        action,
        format!("client:{}", rp.public_id()),
        st.clock.now_secs(),
        None,
        Some(rp.public_id().to_string()),
        details,
    )
}

/// A title as the API shows it (the icon as the URL it is served at).
fn title_json(st: &AppState, t: &Title) -> Value {
    let tags: Vec<&str> = [
        (t.teacher_app, "leerkrachtApplicatie"),
        (t.test_app, "toetsApplicatie"),
    ]
    .into_iter()
    .filter_map(|(on, tag)| on.then_some(tag))
    .collect();
    json!({
        "id": t.key.product.as_deref().unwrap_or(&t.key.methode),
        "code": t.code,
        "naam": t.name,
        "iconUrl": t.icon.as_ref().map(|h| format!("{}{}{h}", st.config.issuer, ICON_PATH)),
        "url": t.url,
        "tags": tags,
        "thuisToegestaan": t.home_allowed,
    })
}

/// Where icons are served.
pub const ICON_PATH: &str = "/lesmateriaal/icoon/";

/// The request's token and the caller, then `f` on the blocking pool with both.
async fn with_caller<F>(req: &HttpRequest, state: &web::Data<AppState>, f: F) -> HttpResponse
where
    F: FnOnce(&AppState, RelyingParty) -> Result<Value, Problem> + Send + 'static,
{
    let Some(token) = bearer(req) else {
        return no_token().response();
    };
    let st = state.clone();
    api::answer(move || {
        let rp = caller(&st, &token)?;
        f(&st, rp)
    })
    .await
}

/// The title key a path names.
fn key(rp: &RelyingParty, methode: &str, product: Option<&str>) -> TitleKey {
    TitleKey {
        rp: rp.id,
        methode: methode.to_string(),
        product: product.map(str::to_string),
    }
}

fn find_title(st: &AppState, key: &TitleKey) -> Result<Title, Problem> {
    st.dir
        .titles_of(key.rp)
        .map_err(|e| repo_problem(&e))?
        .into_iter()
        .find(|t| &t.key == key)
        .ok_or_else(|| problem(StatusCode::NOT_FOUND, "no such title"))
}

/// GET `/api/licenties/v1/methodes`: the publisher's methodes.
pub async fn methodes(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    with_caller(&req, &state, |st, rp| {
        let titles = st.dir.titles_of(rp.id).map_err(|e| repo_problem(&e))?;
        let list: Vec<Value> = titles
            .iter()
            .filter(|t| t.key.product.is_none())
            .map(|t| title_json(st, t))
            .collect();
        Ok(json!({ "methodes": list }))
    })
    .await
}

/// GET `/api/licenties/v1/methodes/{m}/producten`: a methode's products.
pub async fn producten(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let methode = path.into_inner();
    with_caller(&req, &state, move |st, rp| {
        find_title(st, &key(&rp, &methode, None))?;
        let titles = st.dir.titles_of(rp.id).map_err(|e| repo_problem(&e))?;
        let list: Vec<Value> = titles
            .iter()
            .filter(|t| t.key.methode == methode && t.key.product.is_some())
            .map(|t| title_json(st, t))
            .collect();
        Ok(json!({ "producten": list }))
    })
    .await
}

/// Which title a path names: `(methode, product)`.
#[derive(Debug, Deserialize)]
pub struct TitlePath {
    methode: String,
    product: Option<String>,
}

/// GET, PUT and DELETE `/api/licenties/v1/methodes/{m}[/producten/{p}]`: one title — read it,
/// create or replace it (the body's `id` equals the path's), or remove it with every licence
/// for it (a methode with its products).
pub async fn title(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<TitlePath>,
    body: web::Payload,
) -> HttpResponse {
    let TitlePath { methode, product } = path.into_inner();
    let method = req.method().clone();
    let input = if method == actix_web::http::Method::PUT {
        match api::read_json::<TitleInput>(body, BODY_LIMIT).await {
            Ok(i) => Some(i),
            Err(p) => return p.response(),
        }
    } else {
        None
    };
    with_caller(&req, &state, move |st, rp| {
        let k = key(&rp, &methode, product.as_deref());
        match input {
            Some(input) => put_title(st, &rp, k, input),
            None if method == actix_web::http::Method::DELETE => {
                let removed = st
                    .dir
                    .remove_title(
                        &k,
                        audit(st, &rp, AuditAction::TitleRemove, json!({"title": k})),
                    )
                    .map_err(|e| repo_problem(&e))?;
                if !removed {
                    return Err(problem(StatusCode::NOT_FOUND, "no such title"));
                }
                Ok(json!({"verwijderd": true}))
            }
            None => Ok(title_json(st, &find_title(st, &k)?)),
        }
    })
    .await
}

/// POST `/api/licenties/v1/methodes` and `/methodes/{m}/producten`: a new title (409 when its
/// id is taken: PUT replaces).
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: Option<web::Path<String>>,
    body: web::Payload,
) -> HttpResponse {
    let methode = path.map(web::Path::into_inner);
    let input = match api::read_json::<TitleInput>(body, BODY_LIMIT).await {
        Ok(i) => i,
        Err(p) => return p.response(),
    };
    with_caller(&req, &state, move |st, rp| {
        let k = match &methode {
            Some(m) => key(&rp, m, Some(&input.id)),
            None => key(&rp, &input.id, None),
        };
        if find_title(st, &k).is_ok() {
            return Err(problem(
                StatusCode::CONFLICT,
                "a title with this id exists: PUT replaces it",
            ));
        }
        put_title(st, &rp, k, input)
    })
    .await
}

fn put_title(
    st: &AppState,
    rp: &RelyingParty,
    k: TitleKey,
    input: TitleInput,
) -> Result<Value, Problem> {
    let path_id = k.product.clone().unwrap_or_else(|| k.methode.clone());
    let methode = k.product.as_ref().map(|_| k.methode.as_str());
    let (title, icon) = check_title(rp.id, methode, Some(&path_id), input, st.clock.now_secs())
        .map_err(|e| problem(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    // A publisher's SAML service provider (a relying party of the caller's sector,
    // `same_publisher`) receives the title's URL as RelayState: at most 80 bytes (SAML 2.0
    // Bindings §3.4.3).
    let long = title
        .url
        .as_ref()
        .is_some_and(|u| u.len() > RELAY_STATE_MAX);
    if long && has_saml_sp(st, rp).map_err(|e| repo_problem(&e))? {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("url: a SAML service provider receives it as RelayState, at most {RELAY_STATE_MAX} bytes"),
        ));
    }
    let line = audit(st, rp, AuditAction::TitlePut, json!({"title": title.key}));
    st.dir
        .put_title(title.clone(), icon, st.clock.now_secs(), line)
        .map_err(|e| repo_problem(&e))?;
    Ok(title_json(st, &title))
}

/// Whether `rp` is, or shares its sector with, a SAML service provider of the same publisher.
fn has_saml_sp(st: &AppState, rp: &RelyingParty) -> Result<bool, broker::repo::RepoError> {
    let all = st.dir.relying_parties()?;
    let owners = broker::licences::tiles::same_publisher(&all, rp);
    Ok(all
        .iter()
        .any(|r| owners.contains(&r.id) && r.oidc().is_none()))
}

/// The kinds of holder lists a title has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `gebruikers`: by `sub`.
    Subs,
    /// `gebruikers_eckid`: by (INSTELLING_REF, ECK-iD).
    EckIds,
    /// `groepen`: by (INSTELLING_REF, group key).
    Groups,
    /// `scholen`: by INSTELLING_REF.
    Schools,
}

impl Kind {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "gebruikers" => Some(Self::Subs),
            "gebruikers_eckid" => Some(Self::EckIds),
            "groepen" => Some(Self::Groups),
            "scholen" => Some(Self::Schools),
            _ => None,
        }
    }

    /// The stored holder kind.
    fn stored(self) -> &'static str {
        match self {
            Self::Subs | Self::EckIds => "user",
            Self::Groups => "group",
            Self::Schools => "school",
        }
    }

    /// The body member that holds the list.
    fn member(self) -> &'static str {
        match self {
            Self::Subs | Self::EckIds => "gebruikers",
            Self::Groups => "groepen",
            Self::Schools => "scholen",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EckIdRef {
    instelling_ref: String,
    eck_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct GroupRef {
    instelling_ref: String,
    groep: String,
}

/// The holders of a list body: `{"gebruikers": [...]}` and the like.
fn holder_refs(kind: Kind, body: &Value) -> Result<Vec<HolderRef>, Problem> {
    let bad =
        |e: serde_json::Error| problem(StatusCode::BAD_REQUEST, format!("{}: {e}", kind.member()));
    let list = body.get(kind.member()).cloned().ok_or_else(|| {
        problem(
            StatusCode::BAD_REQUEST,
            format!("the body needs the list {}", kind.member()),
        )
    })?;
    let refs = refs_of(kind, list).map_err(bad)?;
    if refs.len() > MAX_HOLDERS {
        return Err(problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_HOLDERS} holders per request"),
        ));
    }
    Ok(refs)
}

fn refs_of(kind: Kind, list: Value) -> Result<Vec<HolderRef>, serde_json::Error> {
    Ok(match kind {
        Kind::Subs => serde_json::from_value::<Vec<String>>(list)?
            .into_iter()
            .map(HolderRef::Sub)
            .collect(),
        Kind::Schools => serde_json::from_value::<Vec<String>>(list)?
            .into_iter()
            .map(HolderRef::School)
            .collect(),
        Kind::EckIds => serde_json::from_value::<Vec<EckIdRef>>(list)?
            .into_iter()
            .map(|r| HolderRef::EckId {
                school: r.instelling_ref,
                eck_id: r.eck_id,
            })
            .collect(),
        Kind::Groups => serde_json::from_value::<Vec<GroupRef>>(list)?
            .into_iter()
            .map(|r| HolderRef::Group {
                school: r.instelling_ref,
                key: r.groep,
            })
            .collect(),
    })
}

/// A title's holders as the publisher knows them.
fn holders_json(
    st: &AppState,
    rp: &RelyingParty,
    reach: &Reach,
    k: &TitleKey,
    kind: Kind,
) -> Result<Value, Problem> {
    let lic = st
        .dir
        .licences_of_title(k, Some(kind.stored()))
        .map_err(|e| repo_problem(&e))?;
    // The users in reach, by id, with the `sub` the publisher knows them by: worked out once.
    let by_user: std::collections::HashMap<uuid::Uuid, (String, broker::model::User)> =
        if matches!(kind, Kind::Subs | Kind::EckIds) {
            holders::subjects(st.dir.as_ref(), &st.pseudonyms, rp, reach)
                .map_err(|e| repo_problem(&e))?
                .into_iter()
                .map(|(sub, u)| (u.id, (sub, u)))
                .collect()
        } else {
            Default::default()
        };
    let mut out = Vec::new();
    for l in lic.iter().filter(|l| reach.contains(&l.school)) {
        match (kind, l.holder) {
            (Kind::Subs | Kind::EckIds, Holder::User(u)) => match (kind, by_user.get(&u)) {
                (Kind::Subs, Some((sub, _))) => out.push(json!(sub)),
                (Kind::EckIds, Some((_, user))) if reach.releases_eckid(&user.school) => {
                    if let Some(eck) = &user.eck_id {
                        out.push(json!({"instellingRef": user.school.to_string(),
                            "eckId": eck.as_str()}));
                    }
                }
                _ => {}
            },
            (Kind::Groups, Holder::Group(g)) => {
                if let Some(g) = st.dir.group(g).map_err(|e| repo_problem(&e))? {
                    out.push(json!({"instellingRef": l.school.to_string(), "groep": g.key}));
                }
            }
            (Kind::Schools, Holder::School) => out.push(json!(l.school.to_string())),
            _ => {}
        }
    }
    Ok(json!({ kind.member(): out }))
}

/// What a holder path names.
#[derive(Debug, Deserialize)]
pub struct HolderPath {
    methode: String,
    product: Option<String>,
    kind: String,
    op: Option<String>,
}

/// GET, PUT, DELETE `/api/licenties/v1/methodes/{m}[/producten/{p}]/{kind}` and POST
/// `…/{kind}/addlist|removelist`, for `kind` = `gebruikers` (by `sub`), `gebruikers_eckid`,
/// `groepen`, `scholen`: read the holders, replace them, remove them all, add or remove some.
/// Writes answer `{"toegevoegd", "verwijderd", "onbekend": [{"houder", "reden"}]}`.
pub async fn holder_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<HolderPath>,
    body: web::Payload,
) -> HttpResponse {
    let HolderPath {
        methode,
        product,
        kind,
        op,
    } = path.into_inner();
    let Some(kind) = Kind::parse(&kind) else {
        return problem(StatusCode::NOT_FOUND, "no such resource").response();
    };
    let method = req.method().clone();
    let op = match (method.as_str(), op.as_deref()) {
        ("GET", None) => Op::Read,
        ("DELETE", None) => Op::Clear,
        ("PUT", None) => Op::Replace,
        ("POST", Some("addlist")) => Op::Add,
        ("POST", Some("removelist")) => Op::Remove,
        _ => return problem(StatusCode::NOT_FOUND, "no such resource").response(),
    };
    let body: Option<Value> = if matches!(op, Op::Replace | Op::Add | Op::Remove) {
        match api::read_json(body, BODY_LIMIT).await {
            Ok(v) => Some(v),
            Err(p) => return p.response(),
        }
    } else {
        None
    };
    with_caller(&req, &state, move |st, rp| {
        let k = key(&rp, &methode, product.as_deref());
        find_title(st, &k)?;
        let reach = Reach::of(st.dir.as_ref(), &rp).map_err(|e| repo_problem(&e))?;
        if op == Op::Read {
            return holders_json(st, &rp, &reach, &k, kind);
        }
        let refs = match &body {
            Some(b) => holder_refs(kind, b)?,
            None => Vec::new(),
        };
        let found = holders::resolve(st.dir.as_ref(), &st.pseudonyms, &rp, &reach, &refs)
            .map_err(|e| repo_problem(&e))?;
        let licences: Vec<Licence> = found
            .found
            .iter()
            .map(|(school, holder)| Licence {
                title: k.clone(),
                school: *school,
                holder: *holder,
            })
            .collect();
        let mut change = LicenceChange::default();
        match op {
            Op::Clear | Op::Replace => {
                change.clear.push((k.clone(), kind.stored()));
                change.add = licences;
            }
            Op::Add => change.add = licences,
            Op::Remove => change.remove = licences,
            Op::Read => {}
        }
        apply(st, &rp, &change, &found.unknown)
    })
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Read,
    Clear,
    Replace,
    Add,
    Remove,
}

fn apply(
    st: &AppState,
    rp: &RelyingParty,
    change: &LicenceChange,
    unknown: &[holders::Unknown],
) -> Result<Value, Problem> {
    let titles: Vec<&TitleKey> = change
        .clear
        .iter()
        .map(|(k, _)| k)
        .chain(change.add.iter().map(|l| &l.title))
        .chain(change.remove.iter().map(|l| &l.title))
        .collect();
    let line = audit(
        st,
        rp,
        AuditAction::LicencesChange,
        json!({"titles": titles, "add": change.add.len(), "remove": change.remove.len(),
            "unknown": unknown.len()}),
    );
    let (added, removed) = st
        .dir
        .change_licences(change, st.clock.now_secs(), line)
        .map_err(|e| repo_problem(&e))?;
    let onbekend: Vec<Value> = unknown
        .iter()
        .map(|u| json!({"houder": u.holder, "reden": u.reason}))
        .collect();
    Ok(json!({"toegevoegd": added, "verwijderd": removed, "onbekend": onbekend}))
}

/// A product in a bulk request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductRef {
    methode: String,
    product: String,
}

/// The body of `permissions/grant` and `permissions/revoke` (Hosted Lika's `BulkRequest`,
/// with groups and schools besides users).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Bulk {
    #[serde(default)]
    methodes: Vec<String>,
    #[serde(default)]
    producten: Vec<ProductRef>,
    #[serde(default)]
    gebruikers: Vec<String>,
    #[serde(default)]
    gebruiker_eck_ids: Vec<EckIdRef>,
    #[serde(default)]
    groepen: Vec<GroupRef>,
    #[serde(default)]
    scholen: Vec<String>,
}

/// POST `/api/licenties/v1/permissions/grant` and `/permissions/revoke`: every title named to
/// every holder named, in one transaction.
pub async fn bulk(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Payload,
) -> HttpResponse {
    let grant = match path.as_str() {
        "grant" => true,
        "revoke" => false,
        _ => return problem(StatusCode::NOT_FOUND, "no such resource").response(),
    };
    let b: Bulk = match api::read_json(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(p) => return p.response(),
    };
    with_caller(&req, &state, move |st, rp| {
        let mut titles: Vec<TitleKey> = b.methodes.iter().map(|m| key(&rp, m, None)).collect();
        titles.extend(
            b.producten
                .iter()
                .map(|p| key(&rp, &p.methode, Some(&p.product))),
        );
        if titles.is_empty() {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                "name at least one methode or product",
            ));
        }
        let known = st.dir.titles_of(rp.id).map_err(|e| repo_problem(&e))?;
        for t in &titles {
            known.iter().find(|k| &k.key == t).ok_or_else(|| {
                problem(
                    StatusCode::NOT_FOUND,
                    format!(
                        "no such title: {}{}",
                        t.methode,
                        t.product
                            .as_deref()
                            .map(|p| format!("/{p}"))
                            .unwrap_or_default()
                    ),
                )
            })?;
        }
        let mut refs: Vec<HolderRef> = b.gebruikers.into_iter().map(HolderRef::Sub).collect();
        refs.extend(b.gebruiker_eck_ids.into_iter().map(|r| HolderRef::EckId {
            school: r.instelling_ref,
            eck_id: r.eck_id,
        }));
        refs.extend(b.groepen.into_iter().map(|r| HolderRef::Group {
            school: r.instelling_ref,
            key: r.groep,
        }));
        refs.extend(b.scholen.into_iter().map(HolderRef::School));
        if refs.len() > MAX_HOLDERS {
            return Err(problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("at most {MAX_HOLDERS} holders per request"),
            ));
        }
        let reach = Reach::of(st.dir.as_ref(), &rp).map_err(|e| repo_problem(&e))?;
        let found = holders::resolve(st.dir.as_ref(), &st.pseudonyms, &rp, &reach, &refs)
            .map_err(|e| repo_problem(&e))?;
        let licences: Vec<Licence> = titles
            .iter()
            .flat_map(|t| {
                found.found.iter().map(move |(school, holder)| Licence {
                    title: t.clone(),
                    school: *school,
                    holder: *holder,
                })
            })
            .collect();
        let change = if grant {
            LicenceChange {
                add: licences,
                ..LicenceChange::default()
            }
        } else {
            LicenceChange {
                remove: licences,
                ..LicenceChange::default()
            }
        };
        apply(st, &rp, &change, &found.unknown)
    })
    .await
}

/// GET `/lesmateriaal/icoon/{hash}`: a title's icon, sanitised when it was stored; named by the
/// hash of its bytes, so it is cached for a year. Public: an icon is no secret.
pub async fn icon(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let hash = path.into_inner();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return HttpResponse::NotFound().finish();
    }
    let st = state.clone();
    match web::block(move || st.dir.icon(&hash)).await {
        Ok(Ok(Some(i))) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, i.content_type))
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            // An SVG opened by itself runs nothing and loads nothing.
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ))
            .body(i.bytes),
        Ok(Ok(None)) => HttpResponse::NotFound().finish(),
        _ => HttpResponse::ServiceUnavailable().finish(),
    }
}
