//! Test support: a fresh database per test on either backend.
//!
//! SQLite: a file in a temporary directory. PostgreSQL (when `LEERPOORT_TEST_DATABASE_URL` is
//! set): a fresh schema, dropped when the test ends. When `CI` is set and the URL is missing,
//! PostgreSQL tests fail instead of passing silently.

use std::sync::Arc;

use broker::clock::FixedClock;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use idp::db::{self, DbPool, DieselDirectory};

/// A migrated database that lives as long as this value.
pub struct TestDb {
    pub url: String,
    pub pool: DbPool,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema { admin_url: String, schema: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Schema { admin_url, schema } = &self.cleanup {
            if let Ok(mut c) = diesel::PgConnection::establish(admin_url) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let pool = db::connect(&url, 4).expect("sqlite pool");
        db::migrate(&pool).expect("migrate sqlite");
        TestDb {
            url,
            pool,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// `None` when PostgreSQL is not configured outside CI.
    pub fn postgres() -> Option<TestDb> {
        let base = postgres_url()?;
        let schema = format!("lp_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&base)
            .unwrap_or_else(|e| panic!("cannot connect to LEERPOORT_TEST_DATABASE_URL: {e}"));
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("create test schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
        let pool = db::connect(&url, 4).expect("postgres pool");
        db::migrate(&pool).expect("migrate postgres");
        Some(TestDb {
            url,
            pool,
            cleanup: Cleanup::Schema {
                admin_url: base,
                schema,
            },
        })
    }

    pub fn directory(&self) -> DieselDirectory {
        DieselDirectory::new(self.pool.clone(), Arc::new(broker::clock::SystemClock))
    }
}

/// The PostgreSQL URL for tests, or `None` to skip (never in CI).
pub fn postgres_url() -> Option<String> {
    match std::env::var("LEERPOORT_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "CI is set but LEERPOORT_TEST_DATABASE_URL is not: PostgreSQL tests must run in CI"
            )
        }
        _ => None,
    }
}

/// A clock fixed at 2026-11-23 08:30 UTC, a Monday morning.
pub fn monday_morning() -> Arc<FixedClock> {
    Arc::new(FixedClock::at_secs(1_795_422_600))
}

/// Run one repository test body on SQLite and (when configured) on PostgreSQL:
/// `on_both_backends!(name, |db: &TestDb| { ... })` makes the tests `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() {
                let db = $crate::support::TestDb::sqlite();
                ($body)(&db);
            }

            #[test]
            fn postgres() {
                let Some(db) = $crate::support::TestDb::postgres() else {
                    eprintln!("LEERPOORT_TEST_DATABASE_URL not set: PostgreSQL variant not run");
                    return;
                };
                ($body)(&db);
            }
        }
    };
}

/// Helpers for reading server-rendered pages in the in-process tests.
pub mod page {
    use actix_web::dev::ServiceResponse;

    /// The `Location` of a response, or "".
    pub fn location<B>(res: &ServiceResponse<B>) -> String {
        res.headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    /// The value of a hidden form field.
    pub fn hidden(body: &str, name: &str) -> String {
        let needle = format!("name=\"{name}\" value=\"");
        let start = body
            .find(&needle)
            .map(|i| i + needle.len())
            .unwrap_or_else(|| panic!("no {name} in {body}"));
        body[start..].split('"').next().unwrap().to_string()
    }

    /// Every link on a page that starts with `prefix`, HTML entities of `&` undone.
    pub fn links(body: &str, prefix: &str) -> Vec<String> {
        body.split("href=\"")
            .skip(1)
            .map(|r| {
                r.split('"')
                    .next()
                    .unwrap()
                    .replace("&amp;", "&")
                    .replace("&#38;", "&")
            })
            .filter(|h| h.starts_with(prefix))
            .collect()
    }
}

/// A browser for the in-process tests of the pages: a cookie jar, and optionally the address it
/// claims through a trusted reverse proxy on the same machine. `get` and `post` answer with the
/// status, the `Location` and the body.
pub mod browser {
    use actix_web::body::MessageBody;
    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::http::StatusCode;
    use actix_web::test;

    use super::page::{hidden, location};

    #[derive(Default)]
    pub struct Browser {
        pub cookies: Vec<(String, String)>,
        /// The client address a proxy on loopback forwards (`X-Forwarded-For`), if any.
        pub ip: Option<String>,
    }

    impl Browser {
        /// A browser talking to the server directly.
        pub fn new() -> Self {
            Self::default()
        }

        /// A browser at `ip`, behind a reverse proxy on the same machine (trusted by default).
        pub fn at(ip: &str) -> Self {
            Self {
                cookies: Vec::new(),
                ip: Some(ip.into()),
            }
        }

        pub fn keep<B>(&mut self, res: &ServiceResponse<B>) {
            for c in res.response().cookies() {
                self.cookies.retain(|(k, _)| k != c.name());
                if !c.value().is_empty() {
                    self.cookies
                        .push((c.name().to_string(), c.value().to_string()));
                }
            }
        }

        /// Set a cookie as if the server had (replacing one of the same name).
        pub fn set_cookie(&mut self, name: &str, value: String) {
            self.cookies.retain(|(k, _)| k != name);
            self.cookies.push((name.to_string(), value));
        }

        pub fn has(&self, name: &str) -> bool {
            self.cookies.iter().any(|(k, _)| k == name)
        }

        pub fn header(&self) -> String {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        }

        /// Send `req` with this browser's cookies (and address), keep what it sets; the whole
        /// response.
        pub async fn send_raw<S, B>(
            &mut self,
            app: &S,
            req: test::TestRequest,
        ) -> ServiceResponse<B>
        where
            S: Service<
                actix_http::Request,
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
            >,
            B: MessageBody,
        {
            let mut req = req.insert_header(("cookie", self.header()));
            if let Some(ip) = &self.ip {
                req = req
                    .insert_header(("x-forwarded-for", ip.clone()))
                    .peer_addr("127.0.0.1:40000".parse().unwrap());
            }
            let res = test::call_service(app, req.to_request()).await;
            self.keep(&res);
            res
        }

        async fn send<S, B>(
            &mut self,
            app: &S,
            req: test::TestRequest,
        ) -> (StatusCode, String, String)
        where
            S: Service<
                actix_http::Request,
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
            >,
            B: MessageBody,
        {
            let res = self.send_raw(app, req).await;
            let (status, loc) = (res.status(), location(&res));
            (
                status,
                loc,
                String::from_utf8(test::read_body(res).await.to_vec()).unwrap(),
            )
        }

        pub async fn get<S, B>(&mut self, app: &S, uri: &str) -> (StatusCode, String, String)
        where
            S: Service<
                actix_http::Request,
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
            >,
            B: MessageBody,
        {
            self.send(app, test::TestRequest::get().uri(uri)).await
        }

        pub async fn post<S, B>(
            &mut self,
            app: &S,
            uri: &str,
            form: &[(&str, &str)],
        ) -> (StatusCode, String, String)
        where
            S: Service<
                actix_http::Request,
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
            >,
            B: MessageBody,
        {
            self.send(app, test::TestRequest::post().uri(uri).set_form(form))
                .await
        }

        /// Sign in with e-mail and the demo password; the redirect's target.
        pub async fn sign_in<S, B>(&mut self, app: &S, email: &str) -> String
        where
            S: Service<
                actix_http::Request,
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
            >,
            B: MessageBody,
        {
            let (_, _, body) = self.get(app, "/login").await;
            let csrf = hidden(&body, "csrf_token");
            let (status, to, body) = self
                .post(
                    app,
                    "/login",
                    &[
                        ("csrf_token", &csrf),
                        ("email", email),
                        ("password", idp::demo::DEMO_STAFF_PASSWORD),
                    ],
                )
                .await;
            assert_eq!(status, StatusCode::FOUND, "{email} signs in: {body}");
            to
        }
    }
}

/// The same browser for the protocol tests, whose `get` and `post` answer with the whole
/// response (they read headers and bodies themselves).
pub mod jar {
    use actix_web::body::MessageBody;
    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::test;

    #[derive(Default)]
    pub struct Browser(super::browser::Browser);

    impl std::ops::Deref for Browser {
        type Target = super::browser::Browser;
        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }

    impl std::ops::DerefMut for Browser {
        fn deref_mut(&mut self) -> &mut Self::Target {
            &mut self.0
        }
    }

    impl Browser {
        pub async fn get<S, B>(&mut self, app: &S, uri: &str) -> ServiceResponse<B>
        where
            S: Service<
                actix_http::Request,
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
            >,
            B: MessageBody,
        {
            self.0
                .send_raw(app, test::TestRequest::get().uri(uri))
                .await
        }

        pub async fn post<S, B>(
            &mut self,
            app: &S,
            uri: &str,
            form: &[(&str, &str)],
        ) -> ServiceResponse<B>
        where
            S: Service<
                actix_http::Request,
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
            >,
            B: MessageBody,
        {
            self.0
                .send_raw(app, test::TestRequest::post().uri(uri).set_form(form))
                .await
        }
    }
}

/// A client's own calls: HTTP Basic credentials and a `client_credentials` token.
pub mod client {
    use actix_web::body::MessageBody;
    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::http::StatusCode;
    use actix_web::test as at;
    use base64::Engine as _;
    use serde_json::Value;

    /// `Authorization: Basic` for a client id and secret.
    pub fn basic(id: &str, secret: &str) -> String {
        let pair = format!("{id}:{secret}");
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// The token endpoint's answer to `client` asking `scope` with `client_credentials`:
    /// (status, body).
    pub async fn token_answer<S, B>(
        app: &S,
        client: (&str, &str),
        scope: &str,
    ) -> (StatusCode, Value)
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let req = at::TestRequest::post()
            .uri("/oidc/token")
            .insert_header(("authorization", basic(client.0, client.1)))
            .set_form([("grant_type", "client_credentials"), ("scope", scope)])
            .to_request();
        let res = at::call_service(app, req).await;
        let status = res.status();
        (status, at::read_body_json(res).await)
    }

    /// An access token for `client` with `scope` (the request must succeed).
    pub async fn token<S, B>(app: &S, client: (&str, &str), scope: &str) -> String
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let (status, body) = token_answer(app, client, scope).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }
}

/// The broker's context for a test's own changes (actor `test`).
pub fn ctx(state: &idp::app::AppState) -> broker::admin::Ctx<'_> {
    broker::admin::Ctx {
        dir: state.dir.as_ref(),
        clock: state.clock.as_ref(),
        actor: "test",
    }
}

/// Run `f` to its end on an actix system of its own (for tests that are not `async`).
pub fn run<F: std::future::Future<Output = ()>>(f: F) {
    actix_web::rt::System::new().block_on(f);
}
