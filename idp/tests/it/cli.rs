//! The `leerpoort` command, run as a process: every command answers `--json` with one JSON
//! document; bad input gives a non-zero exit, one line on stderr, and writes nothing.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub(crate) struct Env {
    dir: tempfile::TempDir,
    db_url: String,
    /// More `LEERPOORT_*` settings for every command (see [`Env::set`]).
    extra: Vec<(String, String)>,
}

impl Env {
    fn sqlite() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db_url = format!("sqlite://{}", dir.path().join("lp.db").display());
        Env {
            dir,
            db_url,
            extra: Vec::new(),
        }
    }

    /// The command on the database at `db_url` (a test database of either backend).
    pub(crate) fn on(db_url: &str) -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            db_url: db_url.to_string(),
            extra: Vec::new(),
        }
    }

    /// Every later command runs with `key=value` in its environment as well.
    pub(crate) fn set(&mut self, key: &str, value: &str) {
        self.extra.push((key.to_string(), value.to_string()));
    }

    /// Run with `--json` and `input` on standard input; the process's output.
    pub(crate) fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let mut child = self
            .cmd(&all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// `school add --brin BRIN --vestiging 00 --name NAME`: the new school's INSTELLING_REF.
    pub(crate) fn add_school(&self, brin: &str, name: &str) -> String {
        let args = [
            "school",
            "add",
            "--brin",
            brin,
            "--vestiging",
            "00",
            "--name",
            name,
        ];
        self.ok(&args)["instelling_ref"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The mails the command wrote to its outbox (the default `outbox` folder), as text.
    pub(crate) fn outbox(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("outbox")) else {
            return Vec::new();
        };
        entries
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_leerpoort"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LEERPOORT_DATABASE_URL", &self.db_url)
            .env("LEERPOORT_KEYS_DIR", self.dir.path().join("keys"))
            .env("LEERPOORT_LOG", "warn")
            // Tests side by side must not all take the default metrics port.
            .env("LEERPOORT_METRICS_LISTEN", "off");
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Run with `--json`, expect success and one JSON document.
    pub(crate) fn ok(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            stdout.trim().lines().count(),
            1,
            "one JSON document: {stdout}"
        );
        serde_json::from_str(stdout.trim()).unwrap()
    }

    /// Run with `--json`, expect failure with one line on stderr and nothing on stdout.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(
            out.stdout.is_empty(),
            "nothing on stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        stderr.trim().to_string()
    }

    fn school(&self) -> String {
        let s = self.ok(&[
            "school",
            "add",
            "--brin",
            "12AB",
            "--vestiging",
            "00",
            "--name",
            "OBS De Linde",
            "--network",
            "192.0.2.0/24",
        ]);
        s["instelling_ref"].as_str().unwrap().to_string()
    }

    fn count_users(&self, school: &str) -> usize {
        self.ok(&["user", "list", "--school", school])["users"]
            .as_array()
            .unwrap()
            .len()
    }
}

#[test]
fn migrate_is_idempotent() {
    let env = Env::sqlite();
    let first = env.ok(&["migrate"]);
    let migrations =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"))
            .unwrap()
            .count();
    assert_eq!(first["applied"].as_array().unwrap().len(), migrations);
    let second = env.ok(&["migrate"]);
    assert_eq!(second["applied"].as_array().unwrap().len(), 0);
}

#[test]
fn school_group_user_client_register_deregister() {
    let env = Env::sqlite();
    let school = env.school();
    assert_eq!(school.len(), 36);
    let g = env.ok(&[
        "group",
        "add",
        "--school",
        &school,
        "--key",
        "3A",
        "--name",
        "Groep 3A",
        "--jaargroep",
        "3",
    ]);
    assert_eq!(g["group_key"], "3A");

    let pupil = env.ok(&[
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "leerling",
        "--given-name",
        "Emma",
        "--family-name",
        "de Jong",
        "--group",
        "3A",
        "--eck-id",
        &format!("https://ketenid.nl/201703/{}", "ab".repeat(64)),
        "--las-key",
        "LL1",
    ]);
    assert!(pupil["user_id"].as_str().is_some());
    let pin = pupil["pin"].as_str().expect("a generated PIN is printed");
    assert!(pin.len() == 4 && pin.chars().all(|c| c.is_ascii_digit()));

    // Without Redis the lock is in the running server's memory: the command says it did not
    // reach it, rather than reporting success.
    let unlock = env.ok(&[
        "user",
        "unlock",
        "--user",
        pupil["user_id"].as_str().unwrap(),
    ]);
    assert_eq!(unlock["unlocked"], false, "{unlock}");
    assert_eq!(unlock["reason"], "in-process-store", "{unlock}");

    let mut add_teacher = env.cmd(&[
        "--json",
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "leerkracht",
        "--given-name",
        "Anna",
        "--family-name",
        "de Vries",
        "--email",
        "anna@linde.example",
        "--group",
        "3A",
        "--password-stdin",
    ]);
    let mut child = add_teacher
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"stille uil in de schuur\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let teacher: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(teacher["status"], "active");

    let client = env.ok(&[
        "client",
        "add",
        "--name",
        "Rekenwereld",
        "--kind",
        "publisher",
        "--redirect-uri",
        "https://rekenwereld.example/cb",
        "--initiate-login-uri",
        "https://rekenwereld.example/login",
        "--home-allowed",
        "--audience",
        "leerling",
        "--id-token-alg",
        "ES256",
    ]);
    let client_id = client["client_id"].as_str().unwrap().to_string();
    assert_eq!(client["client_secret"].as_str().unwrap().len(), 43);
    assert_eq!(client["sector"], "rekenwereld.example");

    let public = env.ok(&[
        "client",
        "add",
        "--name",
        "App",
        "--redirect-uri",
        "nl.rekenwereld.app:/cb",
        "--public",
    ]);
    assert!(public.get("client_secret").is_none());

    let reg = env.ok(&["register", "--school", &school, "--rp", &client_id]);
    assert_eq!(reg["allowed"], true);
    assert_eq!(reg["release"]["eckid"], true);
    let dereg = env.ok(&["deregister", "--school", &school, "--rp", &client_id]);
    assert_eq!(dereg["allowed"], false);
}

#[test]
fn bad_input_is_one_line_and_writes_nothing() {
    let env = Env::sqlite();
    let school = env.school();
    env.ok(&[
        "group", "add", "--school", &school, "--key", "3A", "--name", "Groep 3A",
    ]);
    env.ok(&[
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "ict-coordinator",
        "--given-name",
        "Sanne",
        "--family-name",
        "Jansen",
        "--email",
        "sanne@linde.example",
    ]);
    let before = env.count_users(&school);

    let e = env.fails(&[
        "school",
        "add",
        "--brin",
        "12ab",
        "--vestiging",
        "00",
        "--name",
        "X",
    ]);
    assert!(e.contains("BRIN"), "{e}");
    let e = env.fails(&[
        "school",
        "add",
        "--brin",
        "12AB",
        "--vestiging",
        "0",
        "--name",
        "X",
    ]);
    assert!(e.contains("0"), "{e}");
    let e = env.fails(&[
        "school",
        "add",
        "--brin",
        "12AB",
        "--vestiging",
        "00",
        "--name",
        "Dubbel",
    ]);
    assert!(e.contains("BRIN6"), "{e}");
    let e = env.fails(&[
        "group",
        "add",
        "--school",
        "8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a99",
        "--key",
        "1",
        "--name",
        "x",
    ]);
    assert!(e.contains("INSTELLING_REF"), "{e}");
    let e = env.fails(&[
        "group",
        "add",
        "--school",
        "not-a-uuid",
        "--key",
        "1",
        "--name",
        "x",
    ]);
    assert!(e.contains("not-a-uuid"), "{e}");
    let e = env.fails(&[
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "leerkracht",
        "--given-name",
        "A",
        "--family-name",
        "B",
        "--email",
        "SANNE@linde.example",
    ]);
    assert!(e.contains("e-mail"), "{e}");
    let e = env.fails(&[
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "leerling",
        "--given-name",
        "A",
        "--family-name",
        "B",
        "--eck-id",
        "https://ketenid.nl/201703/xyz",
    ]);
    assert!(e.to_lowercase().contains("eck"), "{e}");
    let e = env.fails(&[
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "leerling",
        "--given-name",
        "A",
        "--family-name",
        "B",
        "--group",
        "9Z",
    ]);
    assert!(e.contains("9Z"), "{e}");
    let e = env.fails(&[
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "leerling",
        "--given-name",
        "A",
        "--family-name",
        "B",
        "--pin",
        "12a4",
    ]);
    assert!(e.contains("PIN"), "{e}");
    let e = env.fails(&[
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "directeur",
        "--given-name",
        "A",
        "--family-name",
        "B",
    ]);
    assert!(e.contains("directeur"), "{e}");
    let e = env.fails(&[
        "client",
        "add",
        "--name",
        "X",
        "--redirect-uri",
        "http://uitgever.example/cb",
    ]);
    assert!(e.contains("redirect URI"), "{e}");
    let e = env.fails(&["register", "--school", &school, "--rp", "onbekend"]);
    assert!(e.contains("onbekend"), "{e}");
    let e = env.fails(&["import", "edexml", "x.xml", "--school", &school]);
    assert!(e.contains("x.xml") && e.contains("No such file"), "{e}");
    let e = env.fails(&["import", "duo", "vestigingen.csv"]);
    assert!(
        e.contains("vestigingen.csv") && e.contains("No such file"),
        "{e}"
    );

    assert_eq!(env.count_users(&school), before, "nothing was written");
    assert_eq!(
        env.ok(&["school", "list"])["schools"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_weak_staff_password_is_refused() {
    let env = Env::sqlite();
    let school = env.school();
    let mut c = env.cmd(&[
        "--json",
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "leerkracht",
        "--given-name",
        "A",
        "--family-name",
        "B",
        "--email",
        "a@linde.example",
        "--password-stdin",
    ]);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Welkom2026!\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too easy to guess"));
    assert_eq!(env.count_users(&school), 0);
}

#[test]
fn a_wrong_configuration_value_names_the_key() {
    let env = Env::sqlite();
    let out = env
        .cmd(&["--json", "migrate"])
        .env("LEERPOORT_LISTEN", "overal")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("LEERPOORT_LISTEN"));
}

#[test]
fn keys_list_and_rotate() {
    let env = Env::sqlite();
    let listed = env.ok(&["keys", "list"]);
    let keys = listed["keys"].as_array().unwrap();
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert_eq!(
        algs,
        vec![
            "RS256",
            "ES256",
            "EdDSA",
            "SAML-RS256",
            "SAML-METADATA-RS256"
        ]
    );
    assert!(keys.iter().all(|k| k["state"] == "active"));
    assert!(Path::new(&env.dir.path().join("keys/pseudonym.key")).exists());

    let rotated = env.ok(&["keys", "rotate"]);
    let keys = rotated["keys"].as_array().unwrap();
    let count = |alg: &str, state: &str| {
        keys.iter()
            .filter(|k| k["alg"] == alg && k["state"] == state)
            .count()
    };
    assert_eq!(count("RS256", "active"), 1);
    assert_eq!(count("RS256", "previous"), 1);
    assert_eq!(count("SAML-RS256", "active"), 1);
    assert_eq!(count("SAML-RS256", "next"), 1);
    // The metadata-signing key stays as it was: SPs pin its certificate.
    let metadata_key = |list: &serde_json::Value| {
        list["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == "SAML-METADATA-RS256")
            .map(|k| (k["kid"].clone(), k["state"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(metadata_key(&rotated), metadata_key(&listed));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let kid = keys[0]["kid"].as_str().unwrap();
        let mode = std::fs::metadata(env.dir.path().join(format!("keys/{kid}.pem")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "private keys are private");
    }
}

#[test]
fn demo_prints_every_credential_and_refuses_to_run_twice() {
    let env = Env::sqlite();
    let d = env.ok(&["demo"]);
    assert_eq!(d["school"]["instelling_ref"], idp::demo::DEMO_SCHOOL_REF);
    assert_eq!(d["pupils"].as_array().unwrap().len(), 12);
    assert_eq!(d["staff"].as_array().unwrap().len(), 3);
    assert_eq!(d["groups"].as_array().unwrap().len(), 3);
    assert!(d["oidc_client"]["client_secret"].as_str().is_some());
    assert!(d["pupils"][0]["pin"].as_str().is_some());
    let lotte = d["pupils"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Lotte Peters")
        .expect("a toddler with a picture password");
    assert_eq!(lotte["picture_password"], "vos,appel,zon");
    assert!(lotte.get("pin").is_none(), "{lotte}");
    let e = env.fails(&["demo"]);
    assert!(e.contains("already exists"), "{e}");
}

#[test]
fn a_client_chooses_its_access_tokens() {
    let env = Env::sqlite();
    let added = env.ok(&[
        "client",
        "add",
        "--name",
        "Uitgever",
        "--redirect-uri",
        "https://uitgever.example/cb",
        "--access-token-format",
        "opaque",
    ]);
    let id = added["client_id"].as_str().unwrap().to_string();
    let format_of = |env: &Env| {
        env.ok(&["client", "list"])["relying_parties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap()["access_token_format"]
            .clone()
    };
    assert_eq!(format_of(&env), "opaque");
    let changed = env.ok(&["client", "access-tokens", "--rp", &id, "--format", "jwt"]);
    assert_eq!(changed["access_token_format"], "jwt");
    assert_eq!(format_of(&env), "jwt");
    let err = env.fails(&["client", "access-tokens", "--rp", &id, "--format", "paseto"]);
    assert!(err.contains("jwt or opaque"), "{err}");
    assert_eq!(format_of(&env), "jwt");
    let err = env.fails(&[
        "client",
        "add",
        "--name",
        "Ander",
        "--redirect-uri",
        "https://ander.example/cb",
        "--access-token-format",
        "macaroon",
    ]);
    assert!(err.contains("jwt or opaque"), "{err}");
}

#[test]
fn password_speed_measures_the_staff_password_check() {
    let env = Env::sqlite();
    let out = env.ok(&["password-speed", "--seconds", "1"]);
    assert_eq!(out["parameters"], "m=19456,t=2,p=1");
    assert!(out["checks"].as_u64().unwrap() >= 1, "{out}");
    assert!(out["checks_per_s"].as_f64().unwrap() > 0.0, "{out}");
}

#[test]
fn every_command_has_help() {
    let env = Env::sqlite();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["demo", "--help"],
        vec!["demo-serve", "--help"],
        vec!["school", "add", "--help"],
        vec!["user", "add", "--help"],
        vec!["group", "add", "--help"],
        vec!["client", "add", "--help"],
        vec!["saml-sp", "add", "--help"],
        vec!["saml-sp", "update", "--help"],
        vec!["saml-sp", "remove", "--help"],
        vec!["register", "--help"],
        vec!["deregister", "--help"],
        vec!["upstream", "add", "--help"],
        vec!["import", "edexml", "--help"],
        vec!["import", "duo", "--help"],
        vec!["keys", "list", "--help"],
        vec!["keys", "rotate", "--help"],
        vec!["cleanup", "--help"],
        vec!["client", "access-tokens", "--help"],
        vec!["password-speed", "--help"],
    ] {
        let out = env.run(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

/// `demo-serve` on an empty folder seeds the demo and serves `/healthz` (and `/metrics` on
/// its own listener only), logs no error on the way, and creates the database file for its
/// owner only.
#[test]
fn demo_serve_serves_healthz() {
    use std::io::{Read as _, Write as _};
    let env = Env::sqlite();
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (port, metrics_port) = (free(), free());
    let get = |port: u16, path: &str| {
        let mut answer = String::new();
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
            .unwrap();
        s.read_to_string(&mut answer).unwrap();
        answer
    };
    let mut child = env
        .cmd(&["demo-serve"])
        .env("LEERPOORT_LOG", "info")
        .env(
            "LEERPOORT_METRICS_LISTEN",
            format!("127.0.0.1:{metrics_port}"),
        )
        .env("LEERPOORT_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut answer = String::new();
    while std::time::Instant::now() < deadline {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .unwrap();
            s.read_to_string(&mut answer).unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let public_metrics = get(port, "/metrics");
    let metrics = get(metrics_port, "/metrics");
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    assert!(answer.contains("\"ok\""));
    assert!(
        public_metrics.starts_with("HTTP/1.1 404") || public_metrics.starts_with("HTTP/1.0 404"),
        "/metrics on the public listener: {public_metrics}"
    );
    assert!(
        metrics.contains("leerpoort_http_requests_total"),
        "/metrics on the metrics listener: {metrics}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Basisschool De Regenboog"),
        "the demo credentials are shown: {stderr}"
    );
    assert!(
        !stderr.contains("ERROR"),
        "a first start logs no error: {stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(env.dir.path().join("lp.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the database file is its owner's only");
    }
}

#[test]
fn shortcut_files_are_written_for_a_school() {
    let env = Env::sqlite();
    let school = env.school();
    let out = env.dir.path().join("snelkoppelingen");
    let r = env.ok(&[
        "shortcuts",
        "--school",
        &school,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r["files"].as_array().unwrap().len(), 12);
    assert!(r["pupil_url"].as_str().unwrap().ends_with(&format!(
        "/snelkoppeling?INSTELLING_REF={school}&ROL=leerling"
    )));
    let png = std::fs::read(out.join("obs-de-linde-leerling-qr.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    let e = env.fails(&[
        "shortcuts",
        "--school",
        &school,
        "--out",
        out.to_str().unwrap(),
        "--target",
        "onbekend",
    ]);
    assert!(e.contains("onbekend"), "{e}");
}

#[test]
fn saml_sp_add_list_register_remove() {
    let env = Env::sqlite();
    env.ok(&["migrate"]);
    let school = env.school();
    let metadata = env.dir.path().join("sp.xml");
    std::fs::write(
        &metadata,
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://uitgever.example/saml"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://uitgever.example/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#,
    )
    .unwrap();
    let m = metadata.to_str().unwrap();
    let added = env.ok(&[
        "saml-sp",
        "add",
        "--metadata",
        m,
        "--name",
        "Uitgever Rekenen",
        "--home-allowed",
    ]);
    assert_eq!(added["entity_id"], "https://uitgever.example/saml");
    assert_eq!(added["sector"], "uitgever.example");
    assert!(added["idp_metadata"]
        .as_str()
        .unwrap()
        .ends_with("/saml/metadata"));
    // The same entity ID twice: refused.
    let e = env.fails(&["saml-sp", "add", "--metadata", m]);
    assert!(e.contains("already exists"), "{e}");
    // A file that is not metadata, a missing file, an http URL that is not local.
    let bad = env.dir.path().join("bad.xml");
    std::fs::write(&bad, "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>").unwrap();
    let e = env.fails(&["saml-sp", "add", "--metadata", bad.to_str().unwrap()]);
    assert!(e.contains("not safe XML"), "{e}");
    let e = env.fails(&["saml-sp", "add", "--metadata", "/nonexistent/sp.xml"]);
    assert!(e.contains("/nonexistent/sp.xml"), "{e}");
    let e = env.fails(&[
        "saml-sp",
        "add",
        "--metadata",
        "http://uitgever.example/metadata",
    ]);
    assert!(e.contains("https"), "{e}");

    let list = env.ok(&["saml-sp", "list"]);
    let sps = list["service_providers"].as_array().unwrap();
    assert_eq!(sps.len(), 1);
    assert_eq!(sps[0]["name"], "Uitgever Rekenen");
    assert_eq!(sps[0]["home_allowed"], true);

    env.ok(&[
        "register",
        "--school",
        &school,
        "--rp",
        "https://uitgever.example/saml",
    ]);
    // Registered by a school: only with --force, and the output names the school.
    let e = env.fails(&["saml-sp", "remove", "https://uitgever.example/saml"]);
    assert!(e.contains("--force") && e.contains(&school), "{e}");
    let removed = env.ok(&[
        "saml-sp",
        "remove",
        "https://uitgever.example/saml",
        "--force",
    ]);
    assert_eq!(removed["removed"], true);
    assert_eq!(
        removed["registrations_removed"][0]["school"],
        school.as_str()
    );
    assert!(env.ok(&["saml-sp", "list"])["service_providers"]
        .as_array()
        .unwrap()
        .is_empty());
    let e = env.fails(&["saml-sp", "remove", "https://uitgever.example/saml"]);
    assert!(e.contains("no relying party"), "{e}");
}

#[test]
fn upstreams_are_added_listed_and_removed() {
    let env = Env::sqlite();
    let school = env.school();
    let added = env.ok(&[
        "upstream",
        "add",
        "--name",
        "moo",
        "--school",
        &school,
        "--oidc-issuer",
        "https://login.moo.example/",
        "--client-id",
        "leerpoort",
        "--client-secret",
        "geheim-van-moo",
        "--scope",
        "profile",
        "--match",
        "las-key",
        "--claim",
        "las_key",
    ]);
    assert_eq!(added["name"], "moo");
    assert_eq!(added["protocol"], "oidc");
    assert_eq!(added["issuer"], "https://login.moo.example");
    assert!(
        added["redirect_uri"]
            .as_str()
            .unwrap()
            .ends_with("/broker/oidc/callback"),
        "{added}"
    );
    assert!(
        !added.to_string().contains("geheim-van-moo"),
        "the secret is never printed: {added}"
    );
    let list = env.ok(&["upstream", "list"]);
    assert_eq!(list["upstreams"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains("geheim"));

    // Refusals name what is wrong and write nothing.
    for (args, needle) in [
        (vec!["--match", "naam"], "--match"),
        (vec!["--oidc-issuer", "http://login.moo.example"], "https"),
        (vec!["--school", "kapot"], "INSTELLING_REF"),
    ] {
        let mut a = vec![
            "upstream",
            "add",
            "--name",
            "zulu",
            "--client-id",
            "x",
            "--client-secret",
            "y",
            "--claim",
            "sub",
        ];
        if !args.contains(&"--match") {
            a.extend(["--match", "email"]);
        }
        if !args.contains(&"--oidc-issuer") {
            a.extend(["--oidc-issuer", "https://zulu.example"]);
        }
        if !args.contains(&"--school") {
            a.extend(["--school", school.as_str()]);
        }
        a.extend(args.iter().copied());
        let e = env.fails(&a);
        assert!(e.contains(needle), "{needle}: {e}");
    }
    let e = env.fails(&[
        "upstream",
        "add",
        "--name",
        "moo",
        "--school",
        &school,
        "--oidc-issuer",
        "https://other.example",
        "--client-id",
        "a",
        "--client-secret",
        "b",
        "--match",
        "email",
        "--claim",
        "email",
    ]);
    assert!(e.contains("already exists"), "{e}");
    assert_eq!(
        env.ok(&["upstream", "list"])["upstreams"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let removed = env.ok(&["upstream", "remove", "moo"]);
    assert_eq!(removed["removed"], "moo");
    assert!(env.ok(&["upstream", "list"])["upstreams"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(env
        .fails(&["upstream", "remove", "moo"])
        .contains("no upstream"));
}

const SP_METADATA: &str = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="ENTITY"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="ACS" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#;

#[test]
fn saml_sp_update_keeps_registrations_and_remove_names_the_schools() {
    let env = Env::sqlite();
    env.ok(&["migrate"]);
    let school = env.school();
    let write = |name: &str, entity: &str, acs: &str| {
        let p = env.dir.path().join(name);
        std::fs::write(
            &p,
            SP_METADATA.replace("ENTITY", entity).replace("ACS", acs),
        )
        .unwrap();
        p.to_str().unwrap().to_string()
    };
    let entity = "https://uitgever.example/saml";
    let v1 = write("v1.xml", entity, "https://uitgever.example/acs");
    env.ok(&["saml-sp", "add", "--metadata", &v1]);
    env.ok(&["register", "--school", &school, "--rp", entity]);

    // Re-adding is refused; updating takes the new endpoints and keeps the registration
    // (and the pairwise sector, so every pseudonym stays).
    let v2 = write("v2.xml", entity, "https://nieuw.uitgever.example/acs");
    let e = env.fails(&["saml-sp", "add", "--metadata", &v2]);
    assert!(e.contains("already exists"), "{e}");
    let updated = env.ok(&[
        "saml-sp",
        "update",
        "--entity-id",
        entity,
        "--metadata",
        &v2,
        "--relay-state",
        "https://nieuw.uitgever.example/les/1",
    ]);
    assert_eq!(updated["metadata_changed"], true);
    assert_eq!(updated["registrations_kept"][0], school.as_str());
    assert_eq!(updated["sector"], "uitgever.example");
    assert_eq!(
        updated["relay_states"][0],
        "https://nieuw.uitgever.example/les/1"
    );
    let again = env.ok(&[
        "saml-sp",
        "update",
        "--entity-id",
        entity,
        "--metadata",
        &v2,
    ]);
    assert_eq!(again["metadata_changed"], false);
    assert_eq!(
        again["relay_states"][0], "https://nieuw.uitgever.example/les/1",
        "options not given are kept"
    );

    // Another SP's metadata, an unknown entity ID, no URL to re-read, a bad RelayState,
    // a refresh without a URL: refused, nothing changed.
    let other = write(
        "other.xml",
        "https://ander.example/saml",
        "https://ander.example/acs",
    );
    let e = env.fails(&[
        "saml-sp",
        "update",
        "--entity-id",
        entity,
        "--metadata",
        &other,
    ]);
    assert!(
        e.contains("is for entity ID 'https://ander.example/saml'"),
        "{e}"
    );
    let e = env.fails(&[
        "saml-sp",
        "update",
        "--entity-id",
        "https://onbekend.example",
        "--metadata",
        &v2,
    ]);
    assert!(e.contains("onbekend"), "{e}");
    let e = env.fails(&["saml-sp", "update", "--entity-id", entity]);
    assert!(e.contains("--metadata"), "{e}");
    let e = env.fails(&[
        "saml-sp",
        "update",
        "--entity-id",
        entity,
        "--metadata",
        &v2,
        "--relay-state",
        "http://aanvaller.example/",
    ]);
    assert!(e.contains("https"), "{e}");
    let e = env.fails(&[
        "saml-sp",
        "update",
        "--entity-id",
        entity,
        "--metadata",
        &v2,
        "--refresh-hours",
        "6",
    ]);
    assert!(e.contains("URL"), "{e}");
    let cert = env.dir.path().join("cert.pem");
    std::fs::write(&cert, "not a certificate").unwrap();
    let e = env.fails(&[
        "saml-sp",
        "update",
        "--entity-id",
        entity,
        "--metadata",
        &v2,
        "--metadata-signing-cert",
        cert.to_str().unwrap(),
    ]);
    assert!(e.contains("PEM"), "{e}");
    let list = env.ok(&["saml-sp", "list"]);
    let sp = &list["service_providers"][0];
    assert_eq!(sp["relay_states"].as_array().unwrap().len(), 1);
    assert_eq!(sp["metadata_signed"], false);

    // Remove: refused without --force while a school has it, and says which; with
    // --force it names them.
    let e = env.fails(&["saml-sp", "remove", entity]);
    assert!(e.contains(&school) && e.contains("--force"), "{e}");
    let out = env.run(&["saml-sp", "remove", entity, "--force"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&school) && text.contains("1 school"),
        "{text}"
    );
    // Nobody registered: no --force needed.
    env.ok(&["saml-sp", "add", "--metadata", &other]);
    let removed = env.ok(&["saml-sp", "remove", "https://ander.example/saml"]);
    assert!(removed["registrations_removed"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn upstream_add_asks_for_the_scope_of_a_standard_claim_and_says_so() {
    let env = Env::sqlite();
    let school = env.school();
    let base = |name: &'static str| {
        vec![
            "upstream",
            "add",
            "--name",
            name,
            "--school",
            school.as_str(),
            "--oidc-issuer",
            "https://login.moo.example",
            "--client-id",
            "leerpoort",
            "--client-secret",
            "geheim",
        ]
    };
    // Matching on e-mail: scope `email`, without --scope.
    let mut a = base("moo");
    a.extend(["--match", "email", "--claim", "email"]);
    let added = env.ok(&a);
    assert_eq!(
        added["scopes"],
        serde_json::json!(["openid", "email"]),
        "{added}"
    );
    // The names are in `profile`; provisioning needs them too; --scope adds its own.
    let mut a = base("zulu");
    a.extend([
        "--match",
        "eck-id",
        "--claim",
        "eckid",
        "--provision",
        "--scope",
        "eckid",
    ]);
    let added = env.ok(&a);
    assert_eq!(
        added["scopes"],
        serde_json::json!(["openid", "profile", "eckid"]),
        "{added}"
    );
    // Provisioning creates pupils only unless the operator allows teachers too.
    assert_eq!(added["provision_roles"], serde_json::json!(["leerling"]));
    let mut a = base("magister");
    a.extend(["--match", "las-key", "--claim", "given_name"]);
    // In text, too.
    let out = env.run(&a);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("scopes: openid profile"), "{text}");
    let list = env.ok(&["upstream", "list"]);
    let moo = list["upstreams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "moo")
        .unwrap()
        .clone();
    assert_eq!(moo["scopes"], serde_json::json!(["openid", "email"]));

    // Only pupils and teachers can be provisioned.
    let mut a = base("basispoort");
    a.extend([
        "--match",
        "email",
        "--claim",
        "email",
        "--provision",
        "--provision-roles",
        "leerkracht,ict-coordinator",
    ]);
    let e = env.fails(&a);
    assert!(e.contains("pupils and teachers only"), "{e}");
    let mut a = base("basispoort");
    a.extend([
        "--match",
        "email",
        "--claim",
        "email",
        "--provision",
        "--provision-roles",
        "leerling,leerkracht",
    ]);
    let added = env.ok(&a);
    assert_eq!(
        added["provision_roles"],
        serde_json::json!(["leerling", "leerkracht"])
    );
}

#[test]
fn users_are_disabled_enabled_and_removed() {
    let env = Env::sqlite();
    let school = env.school();
    env.ok(&[
        "group",
        "add",
        "--school",
        &school,
        "--key",
        "3A",
        "--name",
        "Groep 3A",
        "--jaargroep",
        "3",
    ]);
    let eck = format!("https://ketenid.nl/201703/{}", "cd".repeat(64));
    let add_pupil = |las: &str| {
        env.ok(&[
            "user",
            "add",
            "--school",
            &school,
            "--role",
            "leerling",
            "--given-name",
            "Emma",
            "--family-name",
            "de Jong",
            "--group",
            "3A",
            "--eck-id",
            &eck,
            "--las-key",
            las,
        ])["user_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let pupil = add_pupil("LL1");
    let status_of = |id: &str| {
        env.ok(&["user", "list", "--school", &school])["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["user_id"] == id || u["id"] == id)
            .map(|u| u["status"].as_str().unwrap().to_string())
    };

    let d = env.ok(&["user", "disable", "--user", &pupil]);
    assert_eq!(d["status"], "disabled");
    assert_eq!(d["user_id"], pupil.as_str());
    assert_eq!(status_of(&pupil).as_deref(), Some("disabled"));
    let e = env.ok(&["user", "enable", "--user", &pupil]);
    assert_eq!(e["status"], "active");

    // Bad input: one line, nothing written.
    let err = env.fails(&["user", "disable", "--user", "nobody"]);
    assert!(err.contains("is not a user id"), "{err}");
    let unknown = uuid::Uuid::new_v4().to_string();
    let err = env.fails(&["user", "disable", "--user", &unknown]);
    assert!(err.contains("no user"), "{err}");
    assert_eq!(status_of(&pupil).as_deref(), Some("active"));

    let r = env.ok(&["user", "remove", "--user", &pupil]);
    assert_eq!(r["status"], "removed");
    assert_eq!(status_of(&pupil), None, "a removed user is not listed");
    let err = env.fails(&["user", "enable", "--user", &pupil]);
    assert!(err.contains("removed"), "{err}");
    let err = env.fails(&["user", "remove", "--user", &pupil]);
    assert!(err.contains("already been removed"), "{err}");
    // Its ECK-iD and LAS key are gone with it: a new record may carry them.
    let again = add_pupil("LL1");
    assert_ne!(again, pupil, "a new id: the old one stays a tombstone");

    let client = env.ok(&[
        "client",
        "add",
        "--name",
        "Rekenwereld",
        "--redirect-uri",
        "https://rekenwereld.example/cb",
        "--offline-access",
    ]);
    assert_eq!(client["offline_access"], true);
    let plain = env.ok(&[
        "client",
        "add",
        "--name",
        "Taalwereld",
        "--redirect-uri",
        "https://taalwereld.example/cb",
    ]);
    assert_eq!(plain["offline_access"], false);
}

#[test]
fn a_school_requires_a_second_factor_and_the_operator_resets_one() {
    let env = Env::sqlite();
    env.ok(&["migrate"]);
    let school = env.school();
    let set = env.ok(&[
        "school",
        "set",
        "--school",
        &school,
        "--require-totp",
        "true",
    ]);
    assert_eq!(set["require_totp"], true);
    let set = env.ok(&[
        "school",
        "set",
        "--school",
        &school,
        "--require-totp",
        "false",
    ]);
    assert_eq!(set["require_totp"], false);
    let bad = env.run(&["school", "set", "--school", &school, "--require-totp", "ja"]);
    assert!(!bad.status.success());
    let coordinator = env.ok(&[
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "ict-coordinator",
        "--given-name",
        "Ilse",
        "--family-name",
        "Vos",
        "--email",
        "ilse@linde.example",
    ]);
    let id = coordinator["user_id"].as_str().unwrap();
    let reset = env.ok(&["user", "reset-totp", "--user", id]);
    assert_eq!(reset["removed"], false, "{reset}");
    assert!(env
        .fails(&["user", "reset-totp", "--user", "niemand"])
        .contains("not a user id"));
}

#[test]
fn device_list_and_revoke_show_and_end_linked_devices() {
    let env = Env::sqlite();
    let d = env.ok(&["demo"]);
    let school = idp::demo::DEMO_SCHOOL_REF;
    let anna = d["staff"][0]["user_id"].as_str().unwrap();
    let listed = env.ok(&["device", "list", "--school", school]);
    assert_eq!(listed["devices"], serde_json::json!([]));

    // A device as the start page links it.
    let dir = idp::db::DieselDirectory::new(
        idp::db::connect(&env.db_url, 1).unwrap(),
        std::sync::Arc::new(broker::clock::SystemClock),
    );
    let staff = broker::repo::Users::user(&dir, anna.parse().unwrap())
        .unwrap()
        .unwrap();
    let device =
        broker::devices::enrol(&dir, &staff, "iPad 3 groep 3".into(), 1_795_422_600).unwrap();

    let listed = env.ok(&["device", "list", "--school", school]);
    let devices = listed["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["id"], device.id.to_string());
    assert_eq!(devices[0]["name"], "iPad 3 groep 3");
    assert_eq!(devices[0]["enrolled_by_name"], "Anna de Vries");
    assert_eq!(devices[0]["last_used_at"], serde_json::Value::Null);

    let id = device.id.to_string();
    let revoked = env.ok(&["device", "revoke", "--device", &id]);
    assert_eq!(revoked["revoked"], true);
    assert_eq!(revoked["school"], school);
    let listed = env.ok(&["device", "list", "--school", school]);
    assert_eq!(listed["devices"], serde_json::json!([]));
    assert!(env
        .fails(&["device", "revoke", "--device", &id])
        .contains("no device"));
    assert!(env
        .fails(&["device", "revoke", "--device", "tablet"])
        .contains("not a device id"));
    assert!(env
        .fails(&[
            "device",
            "list",
            "--school",
            "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f"
        ])
        .contains("no school"));
}

#[test]
fn the_operator_invites_a_schools_first_coordinator() {
    let env = Env::sqlite();
    let school = env.school();
    let out = env.ok(&[
        "school",
        "invite-coordinator",
        "--school",
        &school,
        "--email",
        "Sanne.Jansen@Linde.example",
        "--name",
        "Sanne de Jansen",
    ]);
    assert_eq!(out["instelling_ref"], school);
    assert_eq!(out["email"], "sanne.jansen@linde.example");
    assert_eq!(out["status"], "inactive");
    assert_eq!(out["activation_sent"], true);
    let users = env.ok(&["user", "list", "--school", &school]);
    let sanne = &users["users"][0];
    assert_eq!(sanne["given_name"], "Sanne");
    assert_eq!(sanne["family_name"], "de Jansen");
    assert_eq!(sanne["roles"], serde_json::json!(["ict-coordinator"]));
    // The activation mail is in the outbox folder.
    let mails: Vec<String> = std::fs::read_dir(env.dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("sanne.jansen@linde.example") && mails[0].contains("/wachtwoord/"),
        "{}",
        mails[0]
    );

    // The same address again, a one-word name, an unknown school: refused, nothing written.
    let again = env.fails(&[
        "school",
        "invite-coordinator",
        "--school",
        &school,
        "--email",
        "sanne.jansen@linde.example",
        "--name",
        "Sanne Jansen",
    ]);
    assert!(again.contains("e-mail address"), "{again}");
    let one_word = env.fails(&[
        "school",
        "invite-coordinator",
        "--school",
        &school,
        "--email",
        "kees@linde.example",
        "--name",
        "Kees",
    ]);
    assert!(one_word.contains("--name"), "{one_word}");
    let unknown = env.fails(&[
        "school",
        "invite-coordinator",
        "--school",
        "00000000-0000-4000-8000-000000000000",
        "--email",
        "kees@linde.example",
        "--name",
        "Kees Smit",
    ]);
    assert!(unknown.contains("school"), "{unknown}");
    assert_eq!(env.count_users(&school), 1);
}

#[test]
fn school_close_withdraws_every_relying_party_and_closes() {
    let env = Env::sqlite();
    let school = env.school();
    let client = env.ok(&[
        "client",
        "add",
        "--name",
        "Rekenwereld",
        "--kind",
        "publisher",
        "--redirect-uri",
        "https://rekenwereld.example/cb",
    ]);
    let id = client["client_id"].as_str().unwrap();
    env.ok(&["register", "--school", &school, "--rp", id]);
    let out = env.ok(&["school", "close", "--school", &school]);
    assert_eq!(out["status"], "closed");
    assert_eq!(out["withdrawn"], serde_json::json!(["Rekenwereld"]));
    let schools = env.ok(&["school", "list"]);
    assert_eq!(schools["schools"][0]["status"], "closed", "{schools}");
    let again = env.fails(&["school", "close", "--school", &school]);
    assert!(again.contains("closed"), "{again}");
    // A closed school takes no new registrations.
    let refused = env.fails(&["register", "--school", &school, "--rp", id]);
    assert!(refused.contains("closed"), "{refused}");
}

#[test]
fn substitute_activate_list_and_end() {
    let env = Env::sqlite();
    let school = env.school();
    env.ok(&[
        "group",
        "add",
        "--school",
        &school,
        "--key",
        "3a",
        "--name",
        "Groep 3A",
        "--jaargroep",
        "3",
    ]);
    let list = env.ok(&["substitute", "list", "--school", &school]);
    assert_eq!(list["substitutes"][0]["group_key"], "3a");
    assert_eq!(list["substitutes"][0]["active"], false);
    let out = env.ok(&[
        "substitute",
        "activate",
        "--school",
        &school,
        "--group",
        "3a",
        "--name",
        "Joost Invaller",
        "--email",
        "joost@example.org",
        "--days",
        "2",
    ]);
    assert_eq!(out["group_key"], "3a");
    assert_eq!(out["name"], "Joost Invaller");
    assert_eq!(out["sign_in_link_sent"], true);
    assert!(out["until"].as_i64().unwrap() > 0);
    let mails: Vec<String> = std::fs::read_dir(env.dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        mails
            .iter()
            .any(|m| m.contains("joost@example.org") && m.contains("/invalkracht/")),
        "{mails:?}"
    );
    let list = env.ok(&["substitute", "list", "--school", &school]);
    assert_eq!(list["substitutes"][0]["active"], true);
    assert_eq!(list["substitutes"][0]["name"], "Joost Invaller");

    for (days, name, says) in [("3", "Joost Invaller", "1, 2 or 5"), ("1", "Joost", "name")] {
        let err = env.fails(&[
            "substitute",
            "activate",
            "--school",
            &school,
            "--group",
            "3a",
            "--name",
            name,
            "--email",
            "joost@example.org",
            "--days",
            days,
        ]);
        assert!(err.contains(says), "{err}");
    }
    let err = env.fails(&[
        "substitute",
        "activate",
        "--school",
        &school,
        "--group",
        "9z",
        "--name",
        "Joost Invaller",
        "--email",
        "joost@example.org",
        "--days",
        "1",
    ]);
    assert!(err.contains("9z"), "{err}");

    let ended = env.ok(&["substitute", "end", "--school", &school, "--group", "3a"]);
    assert_eq!(ended["ended"], true);
    let list = env.ok(&["substitute", "list", "--school", &school]);
    assert_eq!(list["substitutes"][0]["active"], false);
    assert!(list["substitutes"][0]["name"].is_null());
    let again = env.fails(&["substitute", "end", "--school", &school, "--group", "3a"]);
    assert!(again.contains("nobody"), "{again}");
}

#[test]
fn beheer_on_the_command_line_roles_pins_networks_and_the_trail() {
    let env = Env::sqlite();
    let school = env.school();
    env.ok(&[
        "group",
        "add",
        "--school",
        &school,
        "--key",
        "3a",
        "--name",
        "Groep 3A",
        "--jaargroep",
        "3",
    ]);
    let anna = env.ok(&[
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "leerkracht",
        "--given-name",
        "Anna",
        "--family-name",
        "de Vries",
        "--email",
        "anna@linde.example",
        "--group",
        "3a",
    ])["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let emma = env.ok(&[
        "user",
        "add",
        "--school",
        &school,
        "--role",
        "leerling",
        "--given-name",
        "Emma",
        "--family-name",
        "de Jong",
        "--group",
        "3a",
        "--pin",
        "1234",
    ])["user_id"]
        .as_str()
        .unwrap()
        .to_string();

    let r = env.ok(&["user", "role", "--user", &anna, "--add", "ib"]);
    assert_eq!(r["roles"], serde_json::json!(["leerkracht", "ib"]));
    let e = env.fails(&["user", "role", "--user", &anna, "--add", "leerling"]);
    assert!(e.contains("role"), "{e}");

    let r = env.ok(&["user", "set-pin", "--user", &emma, "--pin", "4821"]);
    assert_eq!(
        (r["sign_in"].as_str(), r["pin"].as_str()),
        (Some("pin"), Some("4821"))
    );
    let r = env.ok(&["user", "set-pin", "--user", &emma]);
    assert_eq!(r["pin"].as_str().unwrap().len(), 4);
    let e = env.fails(&["user", "set-pin", "--user", &emma, "--pin", "12"]);
    assert!(!e.is_empty());
    let r = env.ok(&[
        "user",
        "set-pictures",
        "--user",
        &emma,
        "--pictures",
        "uil,ster",
    ]);
    assert_eq!(r["pictures"], "uil,ster");
    let r = env.ok(&["user", "set-picture", "--user", &emma, "--picture", "egel"]);
    assert_eq!(r["picture"], "egel");
    let e = env.fails(&["user", "set-pin", "--user", &anna, "--pin", "1234"]);
    assert!(e.contains("not found"), "a teacher has no PIN: {e}");

    let r = env.ok(&[
        "group",
        "sign-in-method",
        "--school",
        &school,
        "--group",
        "3a",
        "--method",
        "pin",
    ]);
    assert_eq!(r["pupils"].as_array().unwrap().len(), 1);
    assert_eq!(r["pupils"][0]["sign_in"], "pin");

    let r = env.ok(&[
        "school",
        "networks",
        "--school",
        &school,
        "--add",
        "198.51.100.0/24",
        "--remove",
        "192.0.2.0/24",
    ]);
    assert_eq!(r["networks"], serde_json::json!(["198.51.100.0/24"]));
    let e = env.fails(&[
        "school",
        "networks",
        "--school",
        &school,
        "--add",
        "0.0.0.0/0",
    ]);
    assert!(e.contains("/16"), "{e}");
    let e = env.fails(&[
        "school",
        "networks",
        "--school",
        &school,
        "--add",
        "203.0.113.0/24",
        "--remove",
        "192.0.2.0/24",
    ]);
    assert!(e.contains("no network"), "{e}");
    let r = env.ok(&["school", "networks", "--school", &school]);
    assert_eq!(
        r["networks"],
        serde_json::json!(["198.51.100.0/24"]),
        "nothing half-written"
    );

    // Dynamic IP: off, then on with a token printed once, then off again.
    let r = env.ok(&["school", "dynamic-ip", "--school", &school]);
    assert_eq!(r["on"], false);
    let r = env.ok(&["school", "dynamic-ip", "--school", &school, "--new-token"]);
    assert_eq!(r["on"], true);
    assert!(r["token"].as_str().unwrap().starts_with("lpdip_"), "{r}");
    assert!(r["update_url"]
        .as_str()
        .unwrap()
        .ends_with("/api/dynamic-ip"));
    let r = env.ok(&["school", "dynamic-ip", "--school", &school]);
    assert_eq!(
        (r["on"].clone(), r["token"].clone()),
        (serde_json::json!(true), serde_json::Value::Null)
    );
    env.ok(&["school", "dynamic-ip", "--school", &school, "--off"]);
    let e = env.fails(&["school", "dynamic-ip", "--school", &school, "--off"]);
    assert!(e.contains("already off"), "{e}");

    let trail = env.ok(&["audit", "list", "--school", &school, "--kind", "leerlingen"]);
    let actions: Vec<&str> = trail["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"pupil.secret-set") && actions.contains(&"group.sign-in-method"));
    assert!(!trail.to_string().contains("4821"), "no PIN on the trail");
    let e = env.fails(&["audit", "list", "--school", &school, "--kind", "iets"]);
    assert!(e.contains("toestemming"), "{e}");
}

#[test]
fn client_registrations_lists_every_school_that_registered_a_party() {
    let env = Env::sqlite();
    let linde = env.school();
    let zon = env.add_school("34CD", "De Zonnebloem");
    let client = env.ok(&[
        "client",
        "add",
        "--name",
        "Rekenwereld",
        "--redirect-uri",
        "https://rekenwereld.example/cb",
        "--home-allowed",
    ]);
    let id = client["client_id"].as_str().unwrap();
    let none = env.ok(&["client", "registrations", "--rp", id]);
    assert_eq!(none["registrations"], serde_json::json!([]));

    env.ok(&[
        "register",
        "--school",
        &linde,
        "--rp",
        id,
        "--release-names",
    ]);
    env.ok(&[
        "register",
        "--school",
        &zon,
        "--rp",
        id,
        "--no-eckid",
        "--no-home",
    ]);
    env.ok(&["deregister", "--school", &zon, "--rp", id]);
    let r = env.ok(&["client", "registrations", "--rp", id]);
    assert_eq!(r["rp"], id);
    assert_eq!(r["name"], "Rekenwereld");
    let regs = r["registrations"].as_array().unwrap();
    assert_eq!(regs.len(), 2, "{r}");
    // By school name: De Zonnebloem (withdrawn, kept), then OBS De Linde.
    assert_eq!(regs[0]["instelling_ref"], zon.as_str());
    assert_eq!(regs[0]["brin6"], "34CD00");
    assert_eq!(regs[0]["name"], "De Zonnebloem");
    assert_eq!(regs[0]["allowed"], false);
    assert_eq!(
        regs[0]["release"],
        serde_json::json!({"eckid": false, "names": false, "groups": true})
    );
    assert_eq!(regs[0]["home_allowed"], false);
    assert_eq!(regs[1]["instelling_ref"], linde.as_str());
    assert_eq!(regs[1]["brin6"], "12AB00");
    assert_eq!(regs[1]["name"], "OBS De Linde");
    assert_eq!(regs[1]["allowed"], true);
    assert_eq!(regs[1]["school_status"], "active");
    assert_eq!(
        regs[1]["release"],
        serde_json::json!({"eckid": true, "names": true, "groups": true})
    );
    assert_eq!(regs[1]["home_allowed"], true);
    for reg in regs {
        assert!(reg["since"].as_i64().unwrap() > 1_700_000_000, "{reg}");
    }

    let text = env.run(&["client", "registrations", "--rp", id]);
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("2 school(s)"), "{text}");
    assert!(
        text.contains("withdrawn") && text.contains("allowed"),
        "{text}"
    );

    let e = env.fails(&["client", "registrations", "--rp", "onbekend"]);
    assert!(e.contains("onbekend"), "{e}");
}
