//! The sample publisher apps in `examples/`, as a publisher's engineer would run them: each is
//! registered with the commands its README gives (read from the README, with the example
//! addresses replaced by the test's), started as a child process on a free port, and signed in
//! to in headless Chromium, from the app's own "Inloggen via Leerpoort" button and from a
//! school shortcut with a deep link, up to the page where the app shows what it received.
//!
//! `examples/oidc-publisher` is a Node.js app on npm's `openid-client` (`npm ci` there, as for
//! `conformance-tests/node`); `examples/saml-publisher` a Python app on pysaml2, run in the
//! venv of `saml.rs` (its `requirements.txt` installed there too). Without Node.js, Chromium
//! or chromedriver the tests fail; without Python's venv or `xmlsec1` they fail when `CI` is
//! set, and say they did not run otherwise.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use conformance_tests::chromium::Chromium;
use conformance_tests::server::free_port;
use conformance_tests::{code_flow, http, AuthRequest, Backend, ClientAuth, Rp, Server, ANNA};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::saml::{pysaml2_or_skip, python};
use crate::saml_sps::metadata_signing_certificate;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// The address the READMEs use for each app; the test's own port replaces it.
const OIDC_README_BASE: &str = "http://127.0.0.1:8081";
const SAML_README_BASE: &str = "http://127.0.0.1:8082";

/// The lines of a README's ```sh blocks that run `program`, continuation lines joined, split
/// into words as a shell does for the quoting the READMEs use (no `$(...)`, no escapes but
/// the line continuation).
fn readme_commands(readme: &Path, program: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(readme)
        .unwrap_or_else(|e| panic!("reading {}: {e}", readme.display()));
    let mut out = Vec::new();
    for block in text.split("```sh\n").skip(1) {
        let block = block.split("```").next().unwrap_or("");
        let joined = block.replace("\\\n", " ");
        for line in joined.lines() {
            let words = shell_words(line.split(" #").next().unwrap_or(""));
            if words.first().map(String::as_str) == Some(program) {
                out.push(words);
            }
        }
    }
    out
}

fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The README's `leerpoort` command that starts with `sub` (e.g. `["client", "add"]`), without
/// `leerpoort` and `--json`, with every `from` replaced by its `to`.
fn leerpoort_command(readme: &Path, sub: &[&str], replace: &[(&str, &str)]) -> Vec<String> {
    let commands = readme_commands(readme, "leerpoort");
    let cmd = commands
        .iter()
        .map(|c| {
            c.iter()
                .skip(1)
                .filter(|w| *w != "--json")
                .cloned()
                .collect::<Vec<_>>()
        })
        .find(|c| {
            c.iter()
                .map(String::as_str)
                .take(sub.len())
                .eq(sub.iter().copied())
        })
        .unwrap_or_else(|| {
            panic!(
                "{} has no `leerpoort {}` command: {commands:?}",
                readme.display(),
                sub.join(" ")
            )
        });
    cmd.into_iter()
        .map(|w| replace.iter().fold(w, |w, (from, to)| w.replace(from, to)))
        .collect()
}

fn run_cli(server: &Server, cmd: &[String]) -> Value {
    server.cli(&cmd.iter().map(String::as_str).collect::<Vec<_>>())
}

/// An example app as a child process, killed on drop; its output is shown when a test fails.
struct App {
    child: Child,
    base: String,
    log: PathBuf,
    _log_dir: TempDir,
    /// The folder the app runs in, when it has one of its own (the SAML app's key pair).
    _work: Option<TempDir>,
}

impl App {
    fn start(mut cmd: Command, port: u16, ready_path: &str, work: Option<TempDir>) -> App {
        let dir = tempfile::Builder::new()
            .prefix("leerpoort-example-")
            .tempdir()
            .unwrap();
        let log = dir.path().join("app.log");
        let out = File::create(&log).unwrap();
        let child = cmd
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
        let mut app = App {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _log_dir: dir,
            _work: work,
        };
        let client = http::client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = app.child.try_wait() {
                panic!("the example exited ({status}):\n{}", app.output());
            }
            if client
                .get(app.url(ready_path))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return app;
            }
            assert!(
                Instant::now() < deadline,
                "the example did not answer {ready_path} within 30 s:\n{}",
                app.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- the example's output ({}) ----\n{}\n----",
                self.base,
                self.output()
            );
        }
    }
}

/// Wait until the browser shows the app's result page at `url` (after redirects, and for
/// SAML the auto-submitted form); fail with what it shows otherwise.
fn wait_for_result(browser: &Chromium, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if browser.url().as_str() == url && !browser.find_all("td#role").is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected the example's result page at {url}, got {}: {}",
            browser.url(),
            browser.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The text of the result page's cell `id`.
fn cell(browser: &Chromium, id: &str) -> String {
    browser.text_of(&browser.find(&format!("td#{id}")))
}

/// A teacher at Leerpoort's sign-in form.
fn teacher_signs_in(browser: &Chromium, server: &Server) {
    assert_eq!(browser.url().path(), "/login", "{}", browser.text());
    let anna = server.credentials(ANNA);
    browser.type_into("input[name=email]", &anna.email);
    browser.type_into("input[name=password]", &anna.password);
    browser.click("form[action='/login'] button[type=submit]");
}

fn shortcut(server: &Server, target: &str, product: Option<&str>) -> String {
    let target: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    let mut url = server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}&TARGET={target}",
        server.school_ref()
    ));
    if let Some(p) = product {
        url.push_str(&format!("&PRODUCT={p}"));
    }
    url
}

/// `examples/oidc-publisher`, registered as its README says, and running.
struct OidcExample {
    app: App,
    client_id: String,
    client_secret: String,
}

impl OidcExample {
    fn start(server: &Server) -> Self {
        let dir = conformance_tests::node::install_in(examples().join("oidc-publisher"));
        let readme = dir.join("README.md");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let replace = [(OIDC_README_BASE, base.as_str())];
        let added = run_cli(
            server,
            &leerpoort_command(&readme, &["client", "add"], &replace),
        );
        let client_id = added["client_id"].as_str().unwrap().to_string();
        let client_secret = added["client_secret"].as_str().unwrap().to_string();
        let school = server.school_ref();
        let replace = [
            ("$SCHOOL", school.as_str()),
            ("$CLIENT_ID", client_id.as_str()),
        ];
        run_cli(server, &leerpoort_command(&readme, &["register"], &replace));
        let mut cmd = Command::new("node");
        cmd.arg("server.mjs")
            .current_dir(&dir)
            .env("ISSUER", &server.issuer)
            .env("CLIENT_ID", &client_id)
            .env("CLIENT_SECRET", &client_secret);
        OidcExample {
            app: App::start(cmd, port, "/", None),
            client_id,
            client_secret,
        }
    }
}

#[test]
fn the_oidc_example_signs_a_teacher_in_from_its_own_button_and_out() {
    let server = Server::start(&Backend::Sqlite);
    let example = OidcExample::start(&server);
    let app = &example.app;
    let browser = Chromium::start(1024, 768);
    browser.goto(&app.url("/"));
    browser.click_text("Inloggen via Leerpoort");
    teacher_signs_in(&browser, &server);
    wait_for_result(&browser, &app.url("/"));
    assert_eq!(cell(&browser, "role"), "leerkracht");
    assert_eq!(cell(&browser, "instelling_ref"), server.school_ref());
    assert_eq!(cell(&browser, "login_context"), "school");
    assert_eq!(cell(&browser, "target_link_uri"), app.url("/"));
    // The pairwise pseudonym: what any relying party of this client gets for Anna.
    let sub = cell(&browser, "sub");
    let rp = Rp {
        client_id: example.client_id.clone(),
        client_secret: Some(example.client_secret.clone()),
        redirect_uri: app.url("/callback"),
        auth: ClientAuth::SecretBasic,
        id_token_alg: "RS256".into(),
    };
    let flow = code_flow(
        &server,
        &server.browser_as(ANNA),
        &rp,
        AuthRequest::new(&rp),
    );
    assert_eq!(sub, flow.tokens.sub());

    // RP-initiated logout with the ID token as hint: at once, and back to the app.
    browser.click_text("Uitloggen");
    let at = browser.url();
    assert!(
        at.as_str().starts_with(&app.url("/")) && at.path() == "/",
        "after logout: {at}: {}",
        browser.text()
    );
    assert!(browser.text().contains("Inloggen via Leerpoort"));
    // The Leerpoort session is gone: the button leads to the sign-in form again.
    browser.click_text("Inloggen via Leerpoort");
    assert_eq!(browser.url().path(), "/login", "{}", browser.text());
}

#[test]
fn the_oidc_example_opens_the_product_of_a_school_shortcut() {
    let server = Server::start(&Backend::Sqlite);
    let example = OidcExample::start(&server);
    let app = &example.app;
    // The publisher's back end names a product with its URL in this app (the licence API).
    let c = http::client();
    let token: Value = c
        .post(server.url("/oidc/token"))
        .basic_auth(&example.client_id, Some(&example.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "licenties")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = token["access_token"].as_str().expect("an access token");
    for (method, path, body) in [
        (
            "PUT",
            "/methodes/rekenrijk",
            json!({"id": "rekenrijk", "naam": "Rekenrijk", "url": app.url("/rekenrijk")}),
        ),
        (
            "POST",
            "/methodes/rekenrijk/producten",
            json!({"id": "rekenrijk-3", "code": "RR3", "naam": "Rekenrijk groep 3",
                "url": app.url("/rekenrijk/groep-3")}),
        ),
    ] {
        let url = server.url(&format!("/api/licenties/v1{path}"));
        let req = if method == "PUT" {
            c.put(url)
        } else {
            c.post(url)
        };
        let res = req.bearer_auth(token).json(&body).send().unwrap();
        assert!(
            res.status().is_success(),
            "{method} {path}: {}",
            res.status()
        );
    }

    // A pupil opens the product from the school's shortcut: group, name, PIN, and then the
    // third-party-initiated login at the app, whose target_link_uri is the product's URL.
    let browser = Chromium::start(1024, 768);
    browser.goto(&shortcut(&server, &example.client_id, Some("RR3")));
    browser.pupil_signs_in("Groep 3A", "Emma", "1234");
    wait_for_result(&browser, &app.url("/rekenrijk/groep-3"));
    assert_eq!(cell(&browser, "product"), "/rekenrijk/groep-3");
    assert_eq!(
        cell(&browser, "target_link_uri"),
        app.url("/rekenrijk/groep-3")
    );
    assert_eq!(cell(&browser, "role"), "leerling");
    assert_eq!(cell(&browser, "instelling_ref"), server.school_ref());
    assert!(!cell(&browser, "sub").is_empty());
    assert!(cell(&browser, "groups").contains("Groep 3A"));
    assert!(
        cell(&browser, "niveau").split(", ").any(|n| n == "3"),
        "{}",
        browser.text()
    );
}

/// pysaml2's venv (`saml.rs`) with the SAML example's requirements, or the test's reason not
/// to run (a failure under `CI`).
fn saml_example_ready() -> bool {
    if !pysaml2_or_skip() {
        return false;
    }
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    let done = DONE.get_or_init(|| {
        let out = Command::new(python())
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(examples().join("saml-publisher/requirements.txt"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("pip: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "pip install -r examples/saml-publisher/requirements.txt failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    match done {
        Ok(()) => true,
        Err(e) if std::env::var_os("CI").is_some() => panic!("{e}"),
        Err(e) => {
            eprintln!("the SAML example not run: {e}");
            false
        }
    }
}

/// `examples/saml-publisher`, with the key pair its README makes, running, and registered as
/// its README says.
struct SamlExample {
    app: App,
    entity_id: String,
    readme: PathBuf,
}

impl SamlExample {
    fn start(server: &Server) -> Self {
        let dir = examples().join("saml-publisher");
        let readme = dir.join("README.md");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let work = tempfile::tempdir().unwrap();
        // The README's openssl command, in the folder the app runs in.
        let openssl = readme_commands(&readme, "openssl");
        let openssl = openssl.first().expect("the README's openssl command");
        let out = Command::new(&openssl[0])
            .args(&openssl[1..])
            .current_dir(work.path())
            .stdin(Stdio::null())
            .output()
            .expect("running openssl");
        assert!(
            out.status.success(),
            "{openssl:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pinned = work.path().join("leerpoort-metadata-signing.crt");
        std::fs::write(&pinned, metadata_signing_certificate(server)).unwrap();
        let mut cmd = Command::new(python());
        cmd.arg(dir.join("app.py"))
            .current_dir(work.path())
            .env("IDP_METADATA_URL", server.url("/saml/metadata"))
            .env("IDP_METADATA_CERT", &pinned);
        let app = App::start(cmd, port, "/saml/metadata", Some(work));

        let entity_id = app.url("/saml/metadata");
        let replace = [(SAML_README_BASE, base.as_str())];
        let added = run_cli(
            server,
            &leerpoort_command(&readme, &["saml-sp", "add"], &replace),
        );
        assert_eq!(added["entity_id"], entity_id.as_str(), "{added}");
        let school = server.school_ref();
        let replace = [
            ("$SCHOOL", school.as_str()),
            ("$ENTITY_ID", entity_id.as_str()),
        ];
        run_cli(server, &leerpoort_command(&readme, &["register"], &replace));
        SamlExample {
            app,
            entity_id,
            readme,
        }
    }
}

#[test]
fn the_saml_example_signs_a_teacher_in_from_its_own_button() {
    if !saml_example_ready() {
        return;
    }
    let server = Server::start(&Backend::Sqlite);
    let example = SamlExample::start(&server);
    let app = &example.app;
    let browser = Chromium::start(1024, 768);
    browser.goto(&app.url("/"));
    browser.click_text("Inloggen via Leerpoort");
    teacher_signs_in(&browser, &server);
    wait_for_result(&browser, &app.url("/"));
    let name_id = cell(&browser, "name_id");
    assert!(
        name_id.len() == 64 && name_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "the persistent pseudonym: {name_id:?}"
    );
    assert_eq!(cell(&browser, "instellingRef"), server.school_ref());
    assert_eq!(cell(&browser, "role"), "leerkracht");
    assert_eq!(cell(&browser, "eduPersonAffiliation"), "employee");
    assert_eq!(cell(&browser, "flow"), "SP-initiated");
    assert_eq!(cell(&browser, "product"), "/");
}

#[test]
fn the_saml_example_takes_a_school_shortcut_and_a_deep_link() {
    if !saml_example_ready() {
        return;
    }
    let server = Server::start(&Backend::Sqlite);
    let example = SamlExample::start(&server);
    let app = &example.app;
    // The README's `saml-sp update` (for demo-serve's SP) takes the same metadata again.
    let base = app.url("");
    let update = leerpoort_command(
        &example.readme,
        &["saml-sp", "update"],
        &[(SAML_README_BASE, base.as_str())],
    );
    run_cli(&server, &update);

    // The school's shortcut: an unsolicited response, without RelayState.
    let browser = Chromium::start(1024, 768);
    browser.goto(&shortcut(&server, &example.entity_id, None));
    browser.pupil_signs_in("Groep 3A", "Emma", "1234");
    wait_for_result(&browser, &app.url("/"));
    assert_eq!(cell(&browser, "flow"), "IdP-initiated (unsolicited)");
    assert_eq!(cell(&browser, "role"), "leerling");
    assert_eq!(cell(&browser, "instellingRef"), server.school_ref());
    assert_eq!(cell(&browser, "groups"), "groep-3a");
    assert!(
        cell(&browser, "niveau").split(", ").any(|n| n == "3"),
        "{}",
        browser.text()
    );
    let name_id = cell(&browser, "name_id");

    // A deep link: an unsolicited response whose RelayState is a registered page of the app.
    let lesson = app.url("/les/3");
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    browser.goto(&server.url(&format!(
        "/saml/unsolicited?sp={}&RelayState={}",
        enc(&example.entity_id),
        enc(&lesson)
    )));
    wait_for_result(&browser, &lesson);
    assert_eq!(cell(&browser, "product"), "/les/3");
    assert_eq!(cell(&browser, "relay_state"), lesson);
    assert_eq!(cell(&browser, "flow"), "IdP-initiated (unsolicited)");
    assert_eq!(cell(&browser, "name_id"), name_id);
}
