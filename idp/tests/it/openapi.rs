//! The OpenAPI document (`docs/api/openapi.json`, served at `/api/openapi.json`) against the
//! running server: it is served as checked in (but for `servers`); it is a sound OpenAPI 3.1
//! document (every `$ref` resolves, every path parameter is declared, every operation has an
//! `operationId` of its own and responses, every example fits its schema); every route the
//! server registers under `/api/` and `/ims/oneroster/` is described, and nothing else; and
//! every operation, called on the demo data with the document's own examples, answers a
//! status the document names with a body its schema admits — with a token, without one, and
//! with a token that lacks the scope.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::test as at;
use broker::import::las;
use idp::demo::{DEMO_CLIENT_ID, DEMO_SCHOOL_REF};
use serde_json::{json, Value};

use crate::json_schema::{self, resolve};
use crate::mergers::Site;
use crate::on_both_backends;
use crate::support::client::token;
use crate::support::TestDb;
use crate::support::{ctx, run};

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The checked-in document.
fn document() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/api/openapi.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `v` itself, or what its `$ref` names (followed to the end).
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => deref(doc, resolve(doc, r)),
        None => v,
    }
}

/// One operation of the document.
struct Operation<'a> {
    path: &'a str,
    method: &'a str,
    op: &'a Value,
    /// The path's and the operation's parameters, resolved.
    params: Vec<&'a Value>,
}

impl Operation<'_> {
    fn id(&self) -> &str {
        self.op["operationId"].as_str().unwrap_or("")
    }

    /// `(scheme, scopes)` of the operation's first security requirement; `None` when public.
    fn security(&self) -> Option<(String, Vec<String>)> {
        let req = self.op["security"].as_array()?.first()?.as_object()?;
        let (scheme, scopes) = req.iter().next()?;
        let scopes = scopes
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        Some((scheme.clone(), scopes))
    }
}

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let item = deref(doc, item);
        let shared: Vec<&Value> = item["parameters"]
            .as_array()
            .map(|ps| ps.iter().map(|p| deref(doc, p)).collect())
            .unwrap_or_default();
        for method in HTTP_METHODS {
            let Some(op) = item.get(method) else { continue };
            let mut params = shared.clone();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let p = deref(doc, p);
                params.retain(|q| q["name"] != p["name"] || q["in"] != p["in"]);
                params.push(p);
            }
            out.push(Operation {
                path,
                method,
                op,
                params,
            });
        }
    }
    out
}

/// The `{…}` names of a path template.
fn template_names(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .map(|r| r.split('}').next().unwrap())
        .collect()
}

/// A path template with every `{…}` as `{}`.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push('{');
            }
            '}' => {
                inside = false;
                out.push('}');
            }
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every `$ref` in `v`, with where it stands.
fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(m) => {
            for (k, sub) in m {
                if k == "$ref" {
                    out.push((at.clone(), sub.as_str().unwrap()));
                } else {
                    refs(sub, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, sub) in a.iter().enumerate() {
                refs(sub, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_document_is_sound_openapi_3_1() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    // Every $ref resolves.
    let mut all = Vec::new();
    refs(&doc, String::new(), &mut all);
    assert!(all.len() > 100, "{} refs", all.len());
    for (at, r) in &all {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{at}: {r}"));
        assert!(
            doc.pointer(pointer).is_some(),
            "{at}: $ref {r} names nothing"
        );
    }

    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in ["LAS", "Licenties", "Schooldata", "OneRoster"] {
        assert!(tags.contains(t), "tag {t}");
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let mut ids = BTreeSet::new();
    let ops = operations(&doc);
    for o in &ops {
        let what = format!("{} {}", o.method, o.path);
        // An operationId of its own, responses, known tags.
        assert!(!o.id().is_empty(), "{what}: no operationId");
        assert!(
            ids.insert(o.id().to_string()),
            "{what}: operationId {} twice",
            o.id()
        );
        let responses = o.op["responses"].as_object().unwrap();
        assert!(!responses.is_empty(), "{what}: no responses");
        for code in responses.keys() {
            assert!(
                code.parse::<u16>().is_ok_and(|c| (100..600).contains(&c)),
                "{what}: response {code}"
            );
        }
        for t in o.op["tags"].as_array().unwrap() {
            assert!(tags.contains(t.as_str().unwrap()), "{what}: tag {t}");
        }
        // Security: a scheme of the document, with its scopes.
        assert!(o.op["security"].is_array(), "{what}: no security");
        if let Some((scheme, scopes)) = o.security() {
            let s = schemes
                .get(&scheme)
                .unwrap_or_else(|| panic!("{what}: scheme {scheme}"));
            let known = &s["flows"]["clientCredentials"]["scopes"];
            assert_eq!(
                s["flows"]["clientCredentials"]["tokenUrl"], "/oidc/token",
                "{scheme}"
            );
            for sc in &scopes {
                assert!(known.get(sc).is_some(), "{what}: scope {sc} of {scheme}");
            }
            assert!(
                responses.contains_key("401") && responses.contains_key("403"),
                "{what}"
            );
        }
        // Every path parameter declared, and only those.
        let declared: BTreeSet<&str> = o
            .params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let named: BTreeSet<&str> = template_names(o.path).into_iter().collect();
        assert_eq!(declared, named, "{what}: path parameters");
        for p in &o.params {
            assert!(
                ["path", "query", "header", "cookie"].contains(&p["in"].as_str().unwrap()),
                "{what}: {p}"
            );
            if p["in"] == "path" {
                assert_eq!(p["required"], true, "{what}: {}", p["name"]);
            }
            // An example fits its schema.
            if let Some(e) = p.get("example") {
                let errs = json_schema::errors(&doc, &p["schema"], e);
                assert!(
                    errs.is_empty(),
                    "{what}: example of {}: {errs:?}",
                    p["name"]
                );
            }
        }
        // The examples of bodies fit their schemas.
        let mut media: Vec<(String, &Value)> = Vec::new();
        if let Some(b) = o.op.get("requestBody") {
            for (t, m) in deref(&doc, b)["content"].as_object().unwrap() {
                media.push((format!("request {t}"), m));
            }
        }
        for (code, r) in responses {
            for (t, m) in deref(&doc, r)["content"].as_object().into_iter().flatten() {
                media.push((format!("{code} {t}"), m));
            }
        }
        for (which, m) in media {
            let schema = m.get("schema").unwrap_or(&Value::Bool(true));
            let examples = m.get("example").into_iter().chain(
                m["examples"]
                    .as_object()
                    .into_iter()
                    .flat_map(|e| e.values().map(|x| &x["value"])),
            );
            for e in examples {
                let errs = json_schema::errors(&doc, schema, e);
                assert!(errs.is_empty(), "{what}: {which} example: {errs:?}\n{e}");
            }
        }
    }
    assert!(ops.len() >= 60, "{} operations", ops.len());
}

#[test]
fn every_api_route_is_described_and_every_description_is_a_route() {
    use broker::oneroster::BASE_PATH;
    use idp::server::api::oneroster::ROUTES;
    use idp::server::routes::API_ROUTES;
    let doc = document();
    let described: BTreeSet<(String, String)> = operations(&doc)
        .iter()
        .map(|o| (o.method.to_uppercase(), shape(o.path)))
        .collect();
    let mut served = BTreeSet::new();
    for (methods, path, _) in API_ROUTES {
        assert!(path.starts_with("/api/"), "{path}");
        for m in *methods {
            served.insert((m.to_string(), shape(path)));
        }
    }
    for (path, _) in ROUTES {
        served.insert(("GET".to_string(), shape(&format!("{BASE_PATH}{path}"))));
    }
    let missing: Vec<_> = served.difference(&described).collect();
    assert!(missing.is_empty(), "served, not described: {missing:?}");
    let api_described: BTreeSet<(String, String)> = described
        .iter()
        .filter(|(_, p)| p.starts_with("/api/") || p.starts_with(BASE_PATH))
        .cloned()
        .collect();
    let extra: Vec<_> = api_described.difference(&served).collect();
    assert!(extra.is_empty(), "described, not served: {extra:?}");
}

/// What a call answered.
struct Answer {
    status: StatusCode,
    content_type: String,
    bytes: Vec<u8>,
}

async fn call<S, B>(
    app: &S,
    method: &str,
    uri: &str,
    body: Option<(&str, Vec<u8>)>,
    bearer: Option<&str>,
) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = at::TestRequest::default()
        .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
        .uri(uri);
    if let Some(t) = bearer {
        req = req.insert_header(("authorization", format!("Bearer {t}")));
    }
    if let Some((ct, bytes)) = body {
        req = req.insert_header(("content-type", ct)).set_payload(bytes);
    }
    let res = at::call_service(app, req.to_request()).await;
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = at::read_body(res).await.to_vec();
    Answer {
        status,
        content_type,
        bytes,
    }
}

/// The answer is one the operation documents: its status, its media type, a body its schema
/// admits (for JSON), no body where it documents none.
fn check_answer(doc: &Value, o: &Operation<'_>, uri: &str, a: &Answer) -> Value {
    let what = format!("{} {uri} ({})", o.method.to_uppercase(), o.id());
    let body_text = String::from_utf8_lossy(&a.bytes);
    let documented = o.op["responses"]
        .get(a.status.as_str())
        .unwrap_or_else(|| panic!("{what}: status {} is not documented: {body_text}", a.status));
    let r = deref(doc, documented);
    let Some(content) = r["content"].as_object() else {
        assert!(
            a.bytes.is_empty(),
            "{what}: {} documents no body: {body_text}",
            a.status
        );
        return Value::Null;
    };
    let media = a.content_type.split(';').next().unwrap().trim();
    let m = content.get(media).unwrap_or_else(|| {
        panic!(
            "{what}: {} answered {media}, documented {:?}",
            a.status,
            content.keys().collect::<Vec<_>>()
        )
    });
    if !media.ends_with("json") {
        return Value::Null;
    }
    let v: Value = serde_json::from_slice(&a.bytes)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body_text}"));
    if let Some(schema) = m.get("schema") {
        let errs = json_schema::errors(doc, schema, &v);
        assert!(
            errs.is_empty(),
            "{what}: {} answer: {errs:?}\n{v}",
            a.status
        );
    }
    v
}

/// The few inputs the document's examples cannot give: path parameters that name the test's
/// own data, and the EDEXML file.
fn path_value(name: &str) -> Option<&'static str> {
    match name {
        "INSTELLING_REF" => Some(DEMO_SCHOOL_REF),
        _ => None,
    }
}

/// Operations whose answer with valid input is not 2xx, by design.
const NOT_SUCCESS: &[(&str, u16)] = &[
    // There are no grading periods.
    ("getGradingPeriod", 404),
];

/// The demo school's EDEXML file (the Zonnebloem fixture with its BRIN).
fn edexml() -> Vec<u8> {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/edexml/zonnebloem-2.1.xml"
    ))
    .unwrap()
    .replace("<brincode>12AB</brincode>", "<brincode>99ZZ</brincode>")
    .into_bytes()
}

/// The body an operation is called with: its example (JSON), or the table's.
fn request_body(doc: &Value, o: &Operation<'_>) -> Option<(&'static str, Vec<u8>)> {
    let b = deref(doc, o.op.get("requestBody")?);
    let content = b["content"].as_object().unwrap();
    if let Some(m) = content.get("application/json") {
        let e = m
            .get("example")
            .unwrap_or_else(|| panic!("{}: the JSON body has no example", o.id()));
        return Some(("application/json", serde_json::to_vec(e).unwrap()));
    }
    assert!(content.contains_key("application/xml"), "{}", o.id());
    Some(("application/xml", edexml()))
}

/// The order operations are called in: what creates first, then what reads, then what
/// removes (the deepest path first).
fn order(o: &Operation<'_>) -> (u8, i64) {
    let depth = o.path.matches('/').count() as i64;
    match o.method {
        "post" => (0, 0),
        "put" => (1, 0),
        "get" => (2, 0),
        "delete" => (3, -depth),
        _ => (4, 0),
    }
}

on_both_backends!(
    every_operation_answers_as_the_document_says,
    |db: &TestDb| run(async {
        let doc = document();
        let site = Site::on(db);
        let st = &site.state;
        let app = at::init_service(idp::server::app(st.clone())).await;

        // The callers: the demo publisher (licenties, schooldata, OneRoster) and an LAS the
        // demo school chose and that switched Leerpoort on.
        let secret = site.demo["oidc_client"]["client_secret"]
            .as_str()
            .unwrap()
            .to_string();
        let added = las::add_las(ctx(st), "ParnasSys", None).unwrap();
        let las_client = (
            added.las.rp.public_id().to_string(),
            added.client_secret.clone(),
        );
        las::choose(
            ctx(st),
            &st.credentials(),
            &DEMO_SCHOOL_REF.parse().unwrap(),
            Some(&added.las),
            None,
        )
        .unwrap();
        let mut tokens: HashMap<String, String> = HashMap::new();
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        for (name, s) in schemes {
            for scope in s["flows"]["clientCredentials"]["scopes"]
                .as_object()
                .unwrap()
                .keys()
            {
                let t = if name == "lasClient" {
                    token(&app, (&las_client.0, &las_client.1), scope).await
                } else {
                    token(&app, (DEMO_CLIENT_ID, &secret), scope).await
                };
                tokens.insert(scope.clone(), t);
            }
        }
        let switch_on = call(
            &app,
            "put",
            &format!("/api/las/v1/scholen/{DEMO_SCHOOL_REF}/koppeling"),
            None,
            Some(&tokens["las"]),
        )
        .await;
        assert_eq!(switch_on.status, StatusCode::OK);

        let mut ops = operations(&doc);
        ops.sort_by_key(order);
        let mut answered: BTreeMap<String, u16> = BTreeMap::new();
        for o in &ops {
            let granted = o.security().map(|(_, scopes)| tokens[&scopes[0]].clone());
            // The path: the table's values, the examples, or (OneRoster) the first object of
            // the collection above it.
            let mut uri = o.path.to_string();
            for name in template_names(o.path) {
                let value = match path_value(name) {
                    Some(v) => v.to_string(),
                    None if name == "hash" => {
                        let m = call(
                            &app,
                            "get",
                            "/api/licenties/v1/methodes/rekenwereld",
                            None,
                            Some(&tokens["licenties"]),
                        )
                        .await;
                        let m: Value = serde_json::from_slice(&m.bytes).unwrap();
                        let url = m["iconUrl"].as_str().unwrap_or_else(|| panic!("{m}"));
                        url.rsplit('/').next().unwrap().to_string()
                    }
                    None if name == "id" => {
                        let list = &uri[..uri.find("/{id}").unwrap()];
                        let a = call(&app, "get", list, None, granted.as_deref()).await;
                        let v: Value = serde_json::from_slice(&a.bytes).unwrap();
                        let items = v.as_object().unwrap().values().next().unwrap();
                        items[0]["sourcedId"]
                            .as_str()
                            .unwrap_or("nothing-here")
                            .to_string()
                    }
                    None => {
                        let p = o
                            .params
                            .iter()
                            .find(|p| p["name"] == name && p["in"] == "path")
                            .unwrap();
                        let e = p
                            .get("example")
                            .or_else(|| p["schema"]["enum"].get(0))
                            .unwrap_or_else(|| panic!("{}: no value for {name}", o.id()));
                        e.as_str().unwrap().to_string()
                    }
                };
                uri = uri.replace(&format!("{{{name}}}"), &value);
            }
            let query: Vec<(String, String)> = o
                .params
                .iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| {
                    let e = p.get("example")?;
                    let v = e.as_str().map(str::to_string).unwrap_or(e.to_string());
                    Some((p["name"].as_str().unwrap().to_string(), v))
                })
                .collect();
            for p in o.params.iter().filter(|p| p["required"] == true) {
                assert!(
                    p["in"] == "path" || query.iter().any(|(n, _)| p["name"] == n.as_str()),
                    "{}: the required {} has no example",
                    o.id(),
                    p["name"]
                );
            }
            if !query.is_empty() {
                let q = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&query)
                    .finish();
                uri = format!("{uri}?{q}");
            }
            let body = request_body(&doc, o);

            let a = call(&app, o.method, &uri, body.clone(), granted.as_deref()).await;
            check_answer(&doc, o, &uri, &a);
            let expected = NOT_SUCCESS
                .iter()
                .find(|(id, _)| *id == o.id())
                .map(|(_, s)| *s);
            match expected {
                Some(s) => assert_eq!(a.status.as_u16(), s, "{} {uri}", o.id()),
                None => assert!(
                    a.status.is_success(),
                    "{} {uri}: {} {}",
                    o.id(),
                    a.status,
                    String::from_utf8_lossy(&a.bytes)
                ),
            }
            answered.insert(o.id().to_string(), a.status.as_u16());

            let Some((_, scopes)) = o.security() else {
                continue;
            };
            // Without a token: 401, as documented.
            let a = call(&app, o.method, &uri, body.clone(), None).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{} {uri}", o.id());
            check_answer(&doc, o, &uri, &a);
            // With a token of another API: 403, as documented.
            let other = if scopes.iter().any(|s| s == "las") {
                "schooldata"
            } else {
                "las"
            };
            let a = call(&app, o.method, &uri, body, Some(&tokens[other])).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{} {uri}", o.id());
            check_answer(&doc, o, &uri, &a);
        }
        assert_eq!(answered.len(), ops.len());
        eprintln!("{answered:?}");
    })
);

#[actix_web::test]
async fn the_served_document_is_the_checked_in_one_with_this_issuer() {
    let t = crate::server::TestApp::init();
    let app = at::init_service(idp::server::app(t.state.clone())).await;
    let res = at::call_service(
        &app,
        at::TestRequest::get().uri("/api/openapi.json").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = |n: &str| {
        res.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(h("content-type"), "application/json");
    assert_eq!(h("cache-control"), "public, max-age=300");
    let etag = h("etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let served: Value = at::read_body_json(res).await;
    let mut expected = document();
    expected["servers"] = json!([{"url": t.state.config.issuer.trim_end_matches('/')}]);
    assert_eq!(served, expected);
    assert_eq!(
        idp::server::api::openapi::document(&t.state.config.issuer),
        expected
    );

    // The same again: 304 for the tag it has.
    let res = at::call_service(
        &app,
        at::TestRequest::get()
            .uri("/api/openapi.json")
            .insert_header(("if-none-match", etag.clone()))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers().get("etag").unwrap().to_str().unwrap(), etag);
    assert!(at::read_body(res).await.is_empty());
}
