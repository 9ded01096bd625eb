//! Three `leerpoort serve` nodes behind HAProxy, on one PostgreSQL (a schema of the test
//! database, or a server of their own) and a Redis of their own, as `scripts/cluster.sh` starts
//! them. Stopped, and the schema dropped, on `Drop`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

use crate::server::{free_port, leerpoort_bin, PgSchema};

/// A running cluster.
pub struct Cluster {
    /// HAProxy's address: the issuer.
    pub issuer: String,
    /// The nodes' own addresses (1, 2, 3).
    pub nodes: Vec<String>,
    /// What `leerpoort --json demo` printed.
    pub demo: Value,
    dir: TempDir,
    schema: Option<PgSchema>,
    env: Vec<(String, String)>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("issuer", &self.issuer)
            .field("nodes", &self.nodes)
            .finish_non_exhaustive()
    }
}

/// The PostgreSQL to run a cluster on: `LEERPOORT_TEST_DATABASE_URL`; `None` outside CI when
/// it is not set (under `CI` a missing one is a failure).
pub fn database_url() -> Option<String> {
    let url = std::env::var("LEERPOORT_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let ci = std::env::var("CI").is_ok_and(|v| v != "false" && v != "0");
    assert!(
        url.is_some() || !ci,
        "CI is set, so the cluster tests must run, but LEERPOORT_TEST_DATABASE_URL is missing"
    );
    url
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/cluster.sh")
        .canonicalize()
        .expect("scripts/cluster.sh")
}

impl Cluster {
    /// `scripts/cluster.sh up` on free ports, a fresh schema of `database_url`, and a Redis of
    /// the cluster's own (with AOF), with `settings` for every node.
    pub fn up(database_url: &str, settings: &[(&str, &str)]) -> Self {
        Self::start(Some(database_url), settings)
    }

    /// As [`Cluster::up`], on a PostgreSQL of the cluster's own (`CLUSTER_POSTGRES=own`), which
    /// [`Cluster::restart_postgres`] can restart without touching anyone else's.
    pub fn up_with_own_postgres(settings: &[(&str, &str)]) -> Self {
        Self::start(None, settings)
    }

    fn start(database_url: Option<&str>, settings: &[(&str, &str)]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("leerpoort-cluster-")
            .tempdir()
            .expect("a temp dir");
        let schema = database_url.map(PgSchema::create);
        let ports: Vec<u16> = (0..9).map(|_| free_port()).collect();
        let list = |p: &[u16]| p.iter().map(u16::to_string).collect::<Vec<_>>().join(" ");
        let mut env = vec![
            match &schema {
                Some(s) => ("LEERPOORT_DATABASE_URL".to_string(), s.url()),
                None => ("CLUSTER_POSTGRES".to_string(), "own".to_string()),
            },
            ("CLUSTER_PG_PORT".to_string(), ports[8].to_string()),
            ("CLUSTER_REDIS".to_string(), "own".to_string()),
            ("CLUSTER_REDIS_PORT".to_string(), ports[7].to_string()),
            ("CLUSTER_LB_PORT".to_string(), ports[0].to_string()),
            ("CLUSTER_NODE_PORTS".to_string(), list(&ports[1..4])),
            ("CLUSTER_METRICS_PORTS".to_string(), list(&ports[4..7])),
            (
                "LEERPOORT_BIN".to_string(),
                leerpoort_bin().display().to_string(),
            ),
            (
                "RUST_LOG".to_string(),
                std::env::var("LEERPOORT_TEST_LOG").unwrap_or_else(|_| "info".into()),
            ),
        ];
        env.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut cluster = Cluster {
            issuer: format!("http://127.0.0.1:{}", ports[0]),
            nodes: ports[1..4]
                .iter()
                .map(|p| format!("http://127.0.0.1:{p}"))
                .collect(),
            demo: Value::Null,
            dir,
            schema,
            env,
        };
        let status = cluster.run(&["up"]);
        assert_eq!(status["load_balancer"], "running", "{status}");
        let demo =
            std::fs::read_to_string(cluster.dir.path().join("demo.json")).expect("demo.json");
        cluster.demo = serde_json::from_str(&demo).expect("the demo's JSON");
        cluster
    }

    /// Run `scripts/cluster.sh CMD DIR [ARGS]`; its last line of output as JSON (or null).
    fn run(&self, args: &[&str]) -> Value {
        let mut cmd = Command::new("bash");
        cmd.arg(script())
            .arg(args[0])
            .arg(self.dir.path())
            .args(&args[1..])
            .env_remove("LEERPOORT_REDIS_URL");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("running scripts/cluster.sh");
        assert!(
            out.status.success(),
            "cluster.sh {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.logs(30)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or(Value::Null)
    }

    /// Kill node `n` (1–3) at once, as a crash would.
    pub fn kill_node(&self, n: usize) {
        self.run(&["kill-node", &n.to_string()]);
    }

    /// Start node `n` again and wait until it is ready.
    pub fn start_node(&self, n: usize) {
        self.run(&["start-node", &n.to_string()]);
    }

    /// Restart the cluster's Redis (it keeps its data in an append-only file).
    pub fn restart_redis(&self) {
        self.run(&["restart-redis"]);
    }

    /// Restart the cluster's own PostgreSQL (a fast shutdown: connections cut).
    pub fn restart_postgres(&self) {
        self.run(&["restart-postgres"]);
    }

    /// The cluster's folder (logs, `demo.json`, keys).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `cluster.sh status`.
    pub fn status(&self) -> Value {
        self.run(&["status"])
    }

    /// The demo publisher's client: (client id, secret, redirect URI).
    pub fn demo_client(&self) -> (String, String, String) {
        let c = &self.demo["oidc_client"];
        let s = |v: &Value| v.as_str().expect("demo client field").to_string();
        (
            s(&c["client_id"]),
            s(&c["client_secret"]),
            s(&c["redirect_uris"][0]),
        )
    }

    /// The last `lines` lines of every node's log and HAProxy's.
    pub fn logs(&self, lines: usize) -> String {
        let mut out = String::new();
        for name in [
            "node-1.log",
            "node-2.log",
            "node-3.log",
            "haproxy.log",
            "redis.log",
        ] {
            let text = std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            out.push_str(&format!("---- {name} ----\n{}\n", tail.join("\n")));
        }
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.logs(40));
        }
        let mut cmd = Command::new("bash");
        cmd.arg(script()).arg("down").arg(self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let _ = cmd.output();
        drop(self.schema.take());
    }
}
