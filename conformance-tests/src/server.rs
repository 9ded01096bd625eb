//! A real `leerpoort serve` on a free loopback port, with its own database and keys.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use diesel::{Connection as _, PgConnection, RunQueryDsl as _};
use serde_json::Value;
use tempfile::TempDir;

/// Where a server keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the server's temp dir; sessions and codes in the process.
    Sqlite,
    /// A fresh schema in the PostgreSQL database at `database_url`; sessions and codes in the
    /// Redis at `redis_url`.
    Postgres {
        database_url: String,
        redis_url: String,
    },
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres { .. } => "postgres+redis",
        }
    }

    /// SQLite always; PostgreSQL with Redis as well when `LEERPOORT_TEST_DATABASE_URL` and
    /// `LEERPOORT_TEST_REDIS_URL` are both set. Under `CI` a missing one is a failure, so
    /// that CI can never pass by quietly testing one backend.
    pub fn configured() -> Vec<Backend> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let db = var("LEERPOORT_TEST_DATABASE_URL");
        let redis = var("LEERPOORT_TEST_REDIS_URL");
        let ci = var("CI").is_some_and(|v| v != "false" && v != "0");
        match (db, redis) {
            (Some(database_url), Some(redis_url)) => vec![
                Backend::Sqlite,
                Backend::Postgres {
                    database_url,
                    redis_url,
                },
            ],
            (db, redis) => {
                assert!(
                    !ci,
                    "CI is set, so every conformance test must also run on PostgreSQL and Redis, \
                     but LEERPOORT_TEST_DATABASE_URL is {} and LEERPOORT_TEST_REDIS_URL is {}",
                    if db.is_some() { "set" } else { "missing" },
                    if redis.is_some() { "set" } else { "missing" },
                );
                vec![Backend::Sqlite]
            }
        }
    }
}

/// Run `test` against a fresh server on every configured backend ([`Backend::configured`]),
/// the backends side by side. Fails when it fails on any of them, naming which.
pub fn both_backends<F>(test: F)
where
    F: Fn(&mut Server) + Sync,
{
    let backends = Backend::configured();
    let test_name = std::thread::current()
        .name()
        .unwrap_or("conformance test")
        .to_string();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = backends
            .iter()
            .map(|backend| {
                let test = &test;
                let handle = std::thread::Builder::new()
                    .name(format!("{test_name} [{}]", backend.name()))
                    .spawn_scoped(scope, move || {
                        let mut server = Server::start(backend);
                        test(&mut server);
                    })
                    .expect("spawning a test thread");
                (backend.name(), handle)
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|(name, h)| {
                h.join()
                    .err()
                    .map(|payload| format!("[{name}] {}", panic_message(&*payload)))
            })
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{test_name} failed:\n{}",
        failures.join("\n")
    );
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// A running `leerpoort serve` with demo data. Killed, and its database dropped, on `Drop`.
#[derive(Debug)]
pub struct Server {
    /// `http://127.0.0.1:PORT`, the OIDC issuer.
    pub issuer: String,
    /// What `leerpoort --json demo` printed.
    pub demo: Value,
    pub backend: Backend,
    port: u16,
    metrics_port: u16,
    env: Vec<(String, String)>,
    child: Option<Child>,
    log: PathBuf,
    pg_schema: Option<PgSchema>,
    // Last, so that it is removed after the process is gone.
    dir: TempDir,
}

impl Server {
    /// Start a server on `backend` with fresh data: `leerpoort --json demo`, then
    /// `leerpoort serve`, waiting for `/readyz`.
    pub fn start(backend: &Backend) -> Self {
        Self::start_with(backend, &[])
    }

    /// As [`Server::start`], with more `LEERPOORT_*` settings (e.g. `LEERPOORT_TRUST_PROXY`).
    pub fn start_with(backend: &Backend, settings: &[(&str, &str)]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("leerpoort-ct-")
            .tempdir()
            .expect("creating a temp dir");
        let (database_url, redis_url, pg_schema) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("leerpoort.db").display()),
                None,
                None,
            ),
            Backend::Postgres {
                database_url,
                redis_url,
            } => {
                let schema = PgSchema::create(database_url);
                (
                    schema.url(),
                    Some(isolated_redis_url(redis_url)),
                    Some(schema),
                )
            }
        };
        let mut env = vec![
            ("LEERPOORT_DATABASE_URL".to_string(), database_url),
            (
                "LEERPOORT_KEYS_DIR".to_string(),
                dir.path().join("keys").display().to_string(),
            ),
            (
                "LEERPOORT_OUTBOX_DIR".to_string(),
                dir.path().join("outbox").display().to_string(),
            ),
            ("NO_COLOR".to_string(), "1".to_string()),
            (
                "RUST_LOG".to_string(),
                std::env::var("LEERPOORT_TEST_LOG").unwrap_or_else(|_| "info".into()),
            ),
        ];
        if let Some(r) = redis_url {
            env.push(("LEERPOORT_REDIS_URL".to_string(), r));
        }
        env.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut server = Server {
            issuer: String::new(),
            demo: Value::Null,
            backend: backend.clone(),
            port: 0,
            metrics_port: 0,
            env,
            child: None,
            log: dir.path().join("server.log"),
            pg_schema,
            dir,
        };
        server.set_port(free_port());
        server.demo = server.cli(&["demo"]);
        // A free port can be taken by another process before the server binds it; then the
        // server exits, and it gets another port (the data stays; only the issuer changes).
        let mut errors = Vec::new();
        for _attempt in 0..5 {
            match server.spawn() {
                Ok(()) => return server,
                Err(e) => {
                    errors.push(e);
                    server.set_port(free_port());
                }
            }
        }
        panic!("could not start leerpoort:\n{}", errors.join("\n---\n"));
    }

    fn set_port(&mut self, port: u16) {
        self.port = port;
        self.issuer = format!("http://127.0.0.1:{port}");
        // Servers side by side must not all take the default metrics port (9464).
        self.metrics_port = free_port();
        self.env.retain(|(k, _)| {
            k != "LEERPOORT_ISSUER" && k != "LEERPOORT_LISTEN" && k != "LEERPOORT_METRICS_LISTEN"
        });
        self.env.push((
            "LEERPOORT_METRICS_LISTEN".to_string(),
            format!("127.0.0.1:{}", self.metrics_port),
        ));
        self.env
            .push(("LEERPOORT_ISSUER".to_string(), self.issuer.clone()));
        self.env
            .push(("LEERPOORT_LISTEN".to_string(), format!("127.0.0.1:{port}")));
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's `/metrics` (`LEERPOORT_METRICS_LISTEN`, a port of its own).
    pub fn metrics_url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.metrics_port)
    }

    /// `issuer` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// The demo school's INSTELLING_REF.
    pub fn school_ref(&self) -> String {
        self.demo["school"]["instelling_ref"]
            .as_str()
            .unwrap_or_else(|| panic!("demo JSON without school.instelling_ref: {}", self.demo))
            .to_string()
    }

    /// The server's temp dir (keys, SQLite file, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Run `leerpoort --json ARGS...` against this server's database and keys; its JSON.
    /// Panics with stderr when the command fails.
    pub fn cli(&self, args: &[&str]) -> Value {
        self.try_cli(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// As [`Server::cli`], returning the failure instead.
    pub fn try_cli(&self, args: &[&str]) -> Result<Value, String> {
        let out = self
            .command()
            .arg("--json")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running leerpoort {args:?}: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!(
                "`leerpoort --json {}` failed ({}): {}",
                args.join(" "),
                out.status,
                stderr.trim()
            ));
        }
        serde_json::from_str(stdout.trim()).map_err(|e| {
            format!(
                "`leerpoort --json {}` did not print one JSON document ({e}): {stdout:?}",
                args.join(" ")
            )
        })
    }

    /// Stop the server process and start it again on the same port, database and keys (it
    /// then reads keys from disk at once, e.g. after `keys rotate`). In-process sessions are
    /// gone afterwards.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(e) if Instant::now() < deadline && e.contains("exited") => {
                    // The port may linger for a moment after the old process is gone.
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("restarting leerpoort: {e}"),
            }
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(leerpoort_bin());
        // Nothing from the developer's environment or working directory may leak in.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("LEERPOORT_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path());
        cmd
    }

    fn spawn(&mut self) -> Result<(), String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("opening {}: {e}", self.log.display()))?;
        let log2 = log
            .try_clone()
            .map_err(|e| format!("opening {}: {e}", self.log.display()))?;
        let child = self
            .command()
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", leerpoort_bin().display()))?;
        self.child = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        let url = self.url("/readyz");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = String::from("no answer");
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(format!(
                        "leerpoort serve exited ({status}) before it was ready:\n{}",
                        self.log_tail(40)
                    ));
                }
            }
            match client.get(&url).send() {
                Ok(r) if r.status().as_u16() == 200 => return Ok(()),
                Ok(r) => last = format!("{} {}", r.status(), r.text().unwrap_or_default()),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop();
        Err(format!(
            "leerpoort serve was not ready within 60 s (last /readyz: {last}):\n{}",
            self.log_tail(40)
        ))
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut s = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
            let _ = f.read_to_string(&mut s);
        }
        let all: Vec<&str> = s.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "---- last lines of the leerpoort log ({}, {}) ----\n{}\n----",
                self.backend.name(),
                self.issuer,
                self.log_tail(60)
            );
        }
        // The process is gone: now its schema can go.
        drop(self.pg_schema.take());
    }
}

/// A PostgreSQL schema of its own for one server, dropped with it.
#[derive(Debug)]
pub(crate) struct PgSchema {
    base_url: String,
    name: String,
}

impl PgSchema {
    pub(crate) fn create(base_url: &str) -> Self {
        let name = format!("ct_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(base_url)
            .unwrap_or_else(|e| panic!("LEERPOORT_TEST_DATABASE_URL: cannot connect: {e}"));
        diesel::sql_query(format!("CREATE SCHEMA {name}"))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("creating schema {name}: {e}"));
        Self {
            base_url: base_url.to_string(),
            name,
        }
    }

    /// The database URL with this schema first on the search path.
    pub(crate) fn url(&self) -> String {
        let sep = if self.base_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{sep}options=-csearch_path%3D{}",
            self.base_url, self.name
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.base_url) {
            let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
                .execute(&mut conn);
        }
    }
}

/// Servers running side by side must not share rate-limit counters and sessions: give each
/// its own Redis database number (round robin over the 16 a default Redis has), unless the
/// URL names one already. A number comes round again only after fifteen other servers, long
/// after the server that used it last has stopped; it is emptied first, so no counter of an
/// earlier test (failed sign-ins from 127.0.0.1, say) reaches into the next one.
fn isolated_redis_url(url: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    if parsed.scheme().starts_with("redis+unix") || !matches!(parsed.path(), "" | "/") {
        return url.to_string();
    }
    let db = 1 + NEXT.fetch_add(1, Ordering::Relaxed) % 15;
    if let Some(host) = parsed.host_str() {
        flush_redis_db(host, parsed.port().unwrap_or(6379), db);
    }
    parsed.set_path(&format!("/{db}"));
    parsed.to_string()
}

/// `SELECT db` and `FLUSHDB` over RESP; panics when Redis does not answer `+OK` twice.
fn flush_redis_db(host: &str, port: u16, db: usize) {
    use std::io::{BufRead, BufReader, Write};
    let host = host.trim_matches(['[', ']']);
    let mut conn = std::net::TcpStream::connect((host, port))
        .unwrap_or_else(|e| panic!("connecting to Redis at {host}:{port}: {e}"));
    let db = db.to_string();
    let cmd = format!(
        "*2\r\n$6\r\nSELECT\r\n${}\r\n{db}\r\n*1\r\n$7\r\nFLUSHDB\r\n",
        db.len()
    );
    conn.write_all(cmd.as_bytes()).expect("writing to Redis");
    let mut reader = BufReader::new(conn);
    for what in ["SELECT", "FLUSHDB"] {
        let mut line = String::new();
        reader.read_line(&mut line).expect("reading from Redis");
        assert!(line.starts_with("+OK"), "Redis {what}: {line:?}");
    }
}

/// A loopback port nobody listens on now (and that this process has not handed out before).
pub fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(|| Mutex::new(HashSet::new()));
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("binding a loopback port")
            .port();
        if given.lock().expect("port set").insert(port) {
            return port;
        }
    }
}

/// The `leerpoort` binary: `LEERPOORT_BIN` when set; otherwise `target/<profile>/leerpoort`
/// beside this test executable. `cargo test --workspace` builds it (for `idp`'s integration
/// tests); when it is missing or older than the server's sources, it is built once per test
/// run with `cargo build -p idp --bin leerpoort` (cargo does not hold its build lock while
/// tests run).
pub fn leerpoort_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("LEERPOORT_BIN").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().expect("the test executable's path");
        // target/<profile>/deps/it-HASH
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test executable lives in target/<profile>/deps")
            .to_path_buf();
        let bin = profile_dir.join(format!("leerpoort{}", std::env::consts::EXE_SUFFIX));
        if !is_fresh(&bin) {
            build_leerpoort(&profile_dir, &bin);
        }
        bin
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Whether `bin` exists and is newer than every file it is built from.
fn is_fresh(bin: &Path) -> bool {
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return false;
    };
    let root = workspace_root();
    let mut newest = None;
    for f in ["Cargo.toml", "Cargo.lock"] {
        newest_mtime(&root.join(f), &mut newest);
    }
    for d in ["claims", "broker", "idp", "migrations"] {
        newest_mtime(&root.join(d), &mut newest);
    }
    newest.is_none_or(|n| built >= n)
}

/// The newest modification time under `path`, skipping test and build directories.
fn newest_mtime(path: &Path, newest: &mut Option<std::time::SystemTime>) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if matches!(name, "tests" | "target" | "node_modules") || name.starts_with('.') {
            return;
        }
        if let Ok(entries) = std::fs::read_dir(path) {
            for e in entries.flatten() {
                newest_mtime(&e.path(), newest);
            }
        }
    } else if let Ok(m) = meta.modified() {
        if newest.is_none_or(|n| m > n) {
            *newest = Some(m);
        }
    }
}

fn build_leerpoort(profile_dir: &Path, bin: &Path) {
    let cargo = std::env::var("CARGO")
        .ok()
        .or_else(|| option_env!("CARGO").map(str::to_string))
        .unwrap_or_else(|| "cargo".to_string());
    let manifest = workspace_root().join("Cargo.toml");
    let target_dir = profile_dir.parent().expect("target dir");
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug");
    let mut cmd = Command::new(&cargo);
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .args(["-p", "idp", "--bin", "leerpoort", "--quiet"]);
    match profile {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let out = cmd.stdin(Stdio::null()).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                bin.exists(),
                "building leerpoort failed ({}):\n{}",
                o.status,
                tail(&err, 60)
            );
            eprintln!(
                "warning: `cargo build -p idp --bin leerpoort` failed; testing the older {}:\n{}",
                bin.display(),
                tail(&err, 30)
            );
        }
        Err(e) => {
            assert!(
                bin.exists(),
                "cannot run {cargo} to build leerpoort ({e}) and {} does not exist; \
                 set LEERPOORT_BIN",
                bin.display()
            );
        }
    }
    assert!(
        bin.exists(),
        "{} does not exist after building; set LEERPOORT_BIN",
        bin.display()
    );
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
