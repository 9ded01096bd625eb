//! A SAML service provider nobody in this project wrote: PyPI's `pysaml2` (`Saml2Client`,
//! `conformance-tests/saml/sp.py`), against the real binary. SP-initiated login over the
//! HTTP-Redirect and the HTTP-POST binding (signed AuthnRequests), an IdP-initiated login
//! through a school shortcut, and Single Logout started at either side. pysaml2 checks the signatures of Response and
//! Assertion, the audience, `InResponseTo`, `Destination` and `Recipient`, and decrypts the
//! assertion; the Rust browser signs in and carries the forms.
//!
//! The Python environment is a venv under `conformance-tests/saml/.venv`, made by this test
//! from `requirements.txt`. Without `python3` (with `venv`) or `xmlsec1` the test fails when
//! `CI` is set, and says it did not run otherwise.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::time::Duration;

use conformance_tests::{both_backends, code_flow, AuthRequest, Landing, Server, ANNA};
use scraper::{Html, Selector};
use serde_json::{json, Value};

pub(crate) fn saml_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("saml")
}

pub(crate) fn python() -> PathBuf {
    saml_dir().join(".venv/bin/python")
}

/// The venv with pysaml2, once per test run (and not again while it is newer than
/// `requirements.txt`). `Err` says what is missing.
fn venv() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = saml_dir();
        if Command::new("xmlsec1").arg("--version").output().is_err() {
            return Err("xmlsec1 is not installed (scripts/install-deps.sh installs it)".into());
        }
        let marker = dir.join(".venv/installed");
        let fresh = match (
            std::fs::metadata(&marker).and_then(|m| m.modified()),
            std::fs::metadata(dir.join("requirements.txt")).and_then(|m| m.modified()),
        ) {
            (Ok(i), Ok(r)) => i >= r,
            _ => false,
        };
        if fresh && python().exists() {
            return Ok(());
        }
        let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
            let out = cmd
                .current_dir(&dir)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("{what}: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{what} failed ({}):\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        };
        run(
            Command::new("python3").args(["-m", "venv", ".venv"]),
            "python3 -m venv (Python 3 with venv is needed)",
        )?;
        run(
            Command::new(python()).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                "requirements.txt",
            ]),
            "pip install -r conformance-tests/saml/requirements.txt",
        )?;
        std::fs::write(&marker, b"").map_err(|e| e.to_string())
    })
    .clone()
}

/// pysaml2 is there, or the test fails under `CI`; elsewhere it says why it did not run.
pub(crate) fn pysaml2_or_skip() -> bool {
    match venv() {
        Ok(()) => true,
        Err(e) if std::env::var_os("CI").is_some() => panic!("pysaml2 SP: {e}"),
        Err(e) => {
            eprintln!("pysaml2 SP not run: {e}");
            false
        }
    }
}

/// `sp.py run` (or `idp.py run`): one JSON line out per command line in.
pub(crate) struct Sp {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Sp {
    fn start(dir: &Path, sp_base: &str, idp_metadata: &str) -> Sp {
        Sp::script(
            "sp.py",
            dir,
            &[("SP_BASE", sp_base), ("IDP_METADATA_URL", idp_metadata)],
        )
    }

    /// `python SCRIPT run DIR` with `env`, from `conformance-tests/saml/`.
    pub(crate) fn script(script: &str, dir: &Path, env: &[(&str, &str)]) -> Sp {
        let mut child = Command::new(python())
            .arg(saml_dir().join(script))
            .args(["run", dir.to_str().unwrap()])
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {script}: {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let buf = stderr.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let mut b = buf.lock().unwrap();
                b.push_str(&l);
                b.push('\n');
            }
        });
        Sp {
            child,
            stdin,
            lines,
            stderr,
        }
    }

    pub(crate) fn ask(&mut self, command: &str) -> Value {
        writeln!(self.stdin, "{command}").expect("writing to sp.py");
        self.stdin.flush().unwrap();
        match self.lines.recv_timeout(Duration::from_secs(60)) {
            Ok(l) => {
                let v: Value = serde_json::from_str(&l)
                    .unwrap_or_else(|e| panic!("sp.py printed no JSON ({e}): {l}"));
                assert!(
                    v.get("error").is_none(),
                    "pysaml2 refused at {:?}: {}\n{}",
                    command.split(' ').next(),
                    v["error"],
                    v["trace"].as_str().unwrap_or("")
                );
                v
            }
            Err(_) => panic!(
                "sp.py gave no answer to {command:?}; its stderr:\n{}",
                self.stderr.lock().unwrap()
            ),
        }
    }
}

impl Drop for Sp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The auto-submitted form a page carries to the SP's ACS.
fn acs_form(landing: &Landing) -> (String, HashMap<String, String>) {
    assert!(
        !landing.left_server && landing.status == 200,
        "{}",
        landing.describe()
    );
    let doc = Html::parse_document(&landing.body);
    let form = doc
        .select(&Selector::parse("form[method=post]").unwrap())
        .next()
        .unwrap_or_else(|| panic!("no form: {}", landing.describe()));
    let action = form.value().attr("action").unwrap().to_string();
    let fields = form
        .select(&Selector::parse("input[type=hidden]").unwrap())
        .filter_map(|i| {
            Some((
                i.value().attr("name")?.to_string(),
                i.value().attr("value")?.to_string(),
            ))
        })
        .collect();
    (action, fields)
}

fn accepted(sp: &mut Sp, command: &str, landing: &Landing, sp_base: &str) -> Value {
    let (action, fields) = acs_form(landing);
    assert_eq!(action, format!("{sp_base}/acs"));
    sp.ask(&format!(
        "{command} {}",
        json!({"SAMLResponse": fields["SAMLResponse"], "RelayState": fields.get("RelayState")})
    ))
}

fn assert_attributes(result: &Value, server: &Server) {
    let a = &result["attributes"];
    assert_eq!(a["eduPersonAffiliation"], json!(["employee"]), "{result}");
    assert_eq!(a["role"], json!(["leerkracht"]), "{result}");
    assert_eq!(a["instellingRef"], json!([server.school_ref()]), "{result}");
    assert_eq!(
        a["nlEduPersonHomeOrganizationBranchId"],
        json!([server.demo["school"]["brin6"]]),
        "{result}"
    );
    assert!(a["eckId"][0]
        .as_str()
        .unwrap()
        .starts_with("https://ketenid.nl/"));
    assert!(a["nlEduPersonHomeOrganizationId"].is_array(), "{result}");
    assert!(
        a.get("givenName").is_none(),
        "names are not released: {result}"
    );
    assert_eq!(result["issuer"], server.url("/saml/metadata"));
    assert_eq!(
        result["name_id_format"],
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    );
    assert_eq!(result["response_signed"], true);
    assert_eq!(result["assertion_signed"], true);
    // pysaml2's metadata has an encryption key: AES-128-GCM under RSA-OAEP, decrypted by it.
    assert_eq!(result["assertion_encrypted"], true);
}

/// SP-initiated (Redirect and POST), IdP-initiated through the shortcut, and SLO.
#[test]
fn pysaml2_sp_flows() {
    if !pysaml2_or_skip() {
        return;
    }
    both_backends(|server| {
        let work = tempfile::tempdir().unwrap();
        // Nothing listens here: the browser stops at the forms and redirects to the SP.
        let sp_base = format!(
            "http://127.0.0.1:{}",
            conformance_tests::server::free_port()
        );
        let out = Command::new(python())
            .arg(saml_dir().join("sp.py"))
            .args(["metadata", work.path().to_str().unwrap()])
            .env("SP_BASE", &sp_base)
            .output()
            .expect("sp.py metadata");
        assert!(
            out.status.success(),
            "sp.py metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let made: Value = serde_json::from_slice(&out.stdout).unwrap();
        let entity_id = made["entity_id"].as_str().unwrap().to_string();
        // The publisher's OIDC client's sector: one pseudonym per user for both protocols.
        let added = server.cli(&[
            "saml-sp",
            "add",
            "--metadata",
            made["metadata"].as_str().unwrap(),
            "--name",
            "pysaml2",
            "--sector",
            "demo-uitgeverij.example",
        ]);
        assert_eq!(added["entity_id"], entity_id);
        server.cli(&[
            "register",
            "--school",
            &server.school_ref(),
            "--rp",
            &entity_id,
        ]);

        let mut sp = Sp::start(work.path(), &sp_base, &server.url("/saml/metadata"));
        let browser = server.browser_as(ANNA);

        // SP-initiated over HTTP-Redirect, with a signed request.
        let go = sp.ask("login-redirect");
        let landing = browser.get(go["url"].as_str().unwrap());
        let first = accepted(&mut sp, "acs", &landing, &sp_base);
        assert_eq!(first["in_response_to"], go["request_id"], "{first}");
        assert_eq!(first["relay_state"], "les-3");
        assert_attributes(&first, server);
        let name_id = first["name_id"].as_str().unwrap().to_string();

        // SP-initiated over HTTP-POST, signed; the session carries on.
        let go = sp.ask("login-post");
        let fields: Vec<(String, String)> = go["fields"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let landing = browser.post_form(go["action"].as_str().unwrap(), fields);
        let second = accepted(&mut sp, "acs", &landing, &sp_base);
        assert_eq!(second["in_response_to"], go["request_id"], "{second}");
        assert_eq!(second["relay_state"], "les-4");
        assert_eq!(second["name_id"], name_id.as_str());
        assert_eq!(browser.logins(), 1, "one sign-in for both");

        // IdP-initiated: the school's shortcut with this SP as TARGET.
        let shortcut = format!(
            "{}/snelkoppeling?INSTELLING_REF={}&ROL=leerkracht&TARGET={}",
            server.issuer,
            server.school_ref(),
            url::form_urlencoded::byte_serialize(entity_id.as_bytes()).collect::<String>()
        );
        let landing = browser.get(&shortcut);
        let third = accepted(&mut sp, "acs-unsolicited", &landing, &sp_base);
        assert!(third["in_response_to"].is_null(), "{third}");
        assert_eq!(third["name_id"], name_id.as_str());

        // The same user at the publisher's OIDC client: the same pseudonym.
        let rp = server.demo_rp();
        let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
        assert_eq!(flow.tokens.sub(), name_id);

        // Single Logout from the SP: a signed LogoutResponse comes back, the session is gone.
        let go = sp.ask("logout");
        let landing = browser.get(go["url"].as_str().unwrap());
        assert!(landing.left_server, "{}", landing.describe());
        assert!(
            landing
                .url
                .as_str()
                .starts_with(&format!("{sp_base}/slo?SAMLResponse=")),
            "{}",
            landing.describe()
        );
        let done = sp.ask(&format!("slo {}", landing.url));
        assert_eq!(done["status_ok"], true, "{done}");
        assert_eq!(done["signature_verified"], true, "{done}");
        // The signed-out browser is asked to sign in again.
        let go = sp.ask("login-redirect");
        let before = browser.logins();
        let landing = browser.get(go["url"].as_str().unwrap());
        accepted(&mut sp, "acs", &landing, &sp_base);
        assert_eq!(browser.logins(), before + 1, "signed in again after SLO");

        // Single Logout started at Leerpoort: pysaml2 verifies the signed LogoutRequest and
        // answers with a signed LogoutResponse; the browser ends on the signed-out page.
        let start = browser.get(&server.url("/"));
        let csrf = Html::parse_document(&start.body)
            .select(&Selector::parse("input[name=csrf_token]").unwrap())
            .next()
            .and_then(|i| i.value().attr("value").map(str::to_string))
            .unwrap_or_else(|| panic!("no sign-out form: {}", start.describe()));
        let landing = browser.post_form(
            &server.url("/uitloggen"),
            vec![("csrf_token".to_string(), csrf)],
        );
        assert!(
            landing.left_server
                && landing
                    .url
                    .as_str()
                    .starts_with(&format!("{sp_base}/slo?SAMLRequest=")),
            "{}",
            landing.describe()
        );
        let answer = sp.ask(&format!("slo-request {}", landing.url));
        assert_eq!(answer["status_ok"], true, "{answer}");
        let landing = browser.get(answer["url"].as_str().unwrap());
        assert!(
            !landing.left_server && landing.status == 200 && landing.body.contains("uitgelogd"),
            "{}",
            landing.describe()
        );
    });
}
