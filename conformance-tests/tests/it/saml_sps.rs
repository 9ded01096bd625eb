//! The SAML service providers publishers actually run, which nobody in this project wrote:
//! SimpleSAMLphp 1.19 and Shibboleth SP 3.4, Debian's packages, configured as
//! `docs/integrate-saml.md` says (files in `conformance-tests/saml-sps/`). They run privately
//! on loopback: one Apache of the test's own (`apache2 -f` with its own ServerRoot, port and pid
//! file, mod_php and mod_shib) and a `shibd -F -c` with its own configuration and socket.
//!
//! For each SP: SP-initiated sign-in and a school shortcut (unsolicited response), with the
//! assertion encrypted for the SP; the attributes arriving under their Entree names (a PHP page
//! prints what SimpleSAMLphp and mod_shib hand the application); Single Logout started at the SP
//! and at Leerpoort; and, after `keys rotate` twice, a sign-in signed by a key that was not in
//! the metadata the SPs first fetched: they refresh the metadata, verifying its signature with
//! the pinned metadata-signing certificate.
//!
//! The browser is a cookie jar that follows redirects, submits the auto-posting SAML forms of
//! both sides, and fills Leerpoort's login form. Without the packages (`scripts/install-deps.sh`
//! installs them) the test fails when `CI` is set, and says it did not run otherwise.

use std::cell::Cell;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use conformance_tests::browser::{forms, login_form, visible_text};
use conformance_tests::server::free_port;
use conformance_tests::{both_backends, Credentials, Server, ANNA};
use reqwest::blocking::Client;
use serde_json::Value;
use url::Url;

const APACHE: &str = "/usr/sbin/apache2";
const SHIBD: &str = "/usr/sbin/shibd";
const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";

/// What has to be installed, with the package that brings it.
const NEEDED: [(&str, &str); 7] = [
    (APACHE, "apache2"),
    (
        "/usr/lib/apache2/modules/libphp8.2.so",
        "libapache2-mod-php",
    ),
    (
        "/usr/lib/apache2/modules/mod_shib.so",
        "libapache2-mod-shib",
    ),
    (SHIBD, "shibboleth-sp-utils"),
    (
        "/usr/share/simplesamlphp/lib/_autoload.php",
        "simplesamlphp",
    ),
    ("/etc/php/8.2/mods-available/dom.ini", "php-xml"),
    ("/etc/php/8.2/mods-available/mbstring.ini", "php-mbstring"),
];

fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("saml-sps")
}

/// The packages are there, or the test fails under `CI`; elsewhere it says why it did not run.
fn sps_or_skip() -> bool {
    let missing: Vec<&str> = NEEDED
        .iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "missing Debian packages {} (scripts/install-deps.sh installs them)",
        missing.join(", ")
    );
    assert!(std::env::var_os("CI").is_none(), "real SAML SPs: {why}");
    eprintln!("real SAML SPs not run: {why}");
    false
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Copy the templates to `dir`, filling in the placeholders.
fn write_templates(from: &Path, to: &Path, fill: &dyn Fn(&str) -> String) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            write_templates(&entry.path(), &target, fill);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(&target, fill(&text)).unwrap();
        }
    }
}

/// Apache's children (as root: `nobody`) read the pages and keys and write SimpleSAMLphp's
/// sessions, cache and log: open the test's temp dir up to them.
fn open_up(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(dir).unwrap();
    let mode = if meta.is_dir() { 0o777 } else { 0o644 };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
    if meta.is_dir() {
        for entry in std::fs::read_dir(dir).unwrap() {
            open_up(&entry.unwrap().path());
        }
    }
}

/// A self-signed key pair for an SP, as PEM files.
fn key_pair(key: &Path, cert: &Path) {
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(key)
        .arg("-out")
        .arg(cert)
        .stdin(Stdio::null())
        .output()
        .expect("running openssl");
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The metadata-signing certificate of the server, as its operator hands it to SPs: the
/// `SAML-METADATA-RS256` key of `keys list`, the file `<kid>.crt.pem` in the keys folder.
pub(crate) fn metadata_signing_certificate(server: &Server) -> String {
    let keys = server.cli(&["keys", "list"]);
    let kid = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "SAML-METADATA-RS256" && k["state"] == "active")
        .unwrap_or_else(|| panic!("no metadata-signing key in {keys}"))["kid"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::read_to_string(server.dir().join("keys").join(format!("{kid}.crt.pem"))).unwrap()
}

/// The test's Apache and shibd, with their files in a temp dir.
struct Sps {
    base: String,
    dir: tempfile::TempDir,
    apache: Option<Child>,
    shibd: Option<Child>,
}

impl Sps {
    fn start(server: &Server) -> Sps {
        let dir = tempfile::Builder::new()
            .prefix("leerpoort-sps-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let salt = format!("leerpoort-test-{}", uuid::Uuid::new_v4().simple());
        let user = if running_as_root() {
            "User nobody\nGroup nogroup"
        } else {
            ""
        };
        let d = dir.path().display().to_string();
        let fill = |t: &str| {
            t.replace("@DIR@", &d)
                .replace("@PORT@", &port.to_string())
                .replace("@SP@", &base)
                .replace("@LEERPOORT@", &server.issuer)
                .replace("@SALT@", &salt)
                .replace("@USER@", user)
        };
        write_templates(&templates(), dir.path(), &fill);
        for sub in [
            "apache",
            "simplesamlphp/cert",
            "simplesamlphp/log",
            "simplesamlphp/tmp",
            "simplesamlphp/sessions",
            "simplesamlphp/metadata",
            "simplesamlphp/metarefresh",
        ] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let shib = dir.path().join("shibboleth");
        let ssp_cert = dir.path().join("simplesamlphp/cert");
        key_pair(&shib.join("sp-key.pem"), &shib.join("sp-cert.pem"));
        key_pair(&ssp_cert.join("sp.key"), &ssp_cert.join("sp.crt"));
        // The trust anchor, pinned in both SPs.
        let pinned = metadata_signing_certificate(server);
        std::fs::write(shib.join("leerpoort-metadata-signing.crt"), &pinned).unwrap();
        std::fs::write(ssp_cert.join("leerpoort-metadata-signing.crt"), pinned).unwrap();
        open_up(dir.path());
        let mut sps = Sps {
            base,
            dir,
            apache: None,
            shibd: None,
        };
        sps.start_shibd();
        let conf = sps.dir.path().join("httpd.conf");
        let apache = Command::new(APACHE)
            .arg("-f")
            .arg(&conf)
            .args(["-D", "FOREGROUND"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting apache2");
        sps.apache = Some(apache);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = sps.apache.as_mut().unwrap().try_wait().unwrap() {
                panic!("apache2 exited ({status}):\n{}", sps.apache_log());
            }
            assert!(
                Instant::now() < deadline,
                "apache2 did not listen within 20 s:\n{}",
                sps.apache_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        sps
    }

    /// (Re)start shibd; it fetches Leerpoort's metadata as it starts.
    fn start_shibd(&mut self) {
        if let Some(old) = self.shibd.take() {
            stop(old);
        }
        let shib = self.dir.path().join("shibboleth");
        let socket = shib.join("shibd.sock");
        let _ = std::fs::remove_file(&socket);
        let mut child = Command::new(SHIBD)
            .args(["-F", "-f", "-c"])
            .arg(shib.join("shibboleth2.xml"))
            .arg("-p")
            .arg(shib.join("shibd.pid"))
            // A process group of its own: what shibd signals on its way out stays there.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting shibd");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("shibd exited ({status}):\n{}", self.shibd_log());
            }
            assert!(
                Instant::now() < deadline,
                "shibd did not open its socket within 30 s:\n{}",
                self.shibd_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.shibd = Some(child);
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn shib_entity_id(&self) -> String {
        self.url("/shibboleth")
    }

    fn ssp_entity_id(&self) -> String {
        self.url("/simplesaml/module.php/saml/sp/metadata.php/default-sp")
    }

    fn log(&self, path: &str) -> String {
        let text = std::fs::read_to_string(self.dir.path().join(path)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn apache_log(&self) -> String {
        self.log("apache/error.log")
    }

    fn shibd_log(&self) -> String {
        self.log("shibboleth/shibd.log")
    }

    /// Everything the SPs logged, for a failing assertion.
    fn logs(&self) -> String {
        format!(
            "--- shibd:\n{}\n--- mod_shib:\n{}\n--- SimpleSAMLphp:\n{}\n--- apache:\n{}",
            self.shibd_log(),
            self.log("shibboleth/native.log"),
            self.log("simplesamlphp/log/simplesamlphp.log"),
            self.apache_log()
        )
    }

    /// Register both SPs at Leerpoort from the metadata they publish, for the demo school.
    fn register(&self, server: &Server) {
        let client = Client::new();
        for (name, url, entity_id) in [
            (
                "Shibboleth",
                self.url("/Shibboleth.sso/Metadata"),
                self.shib_entity_id(),
            ),
            ("SimpleSAMLphp", self.ssp_entity_id(), self.ssp_entity_id()),
        ] {
            let res = client.get(&url).send().unwrap();
            assert_eq!(res.status(), 200, "{url}\n{}", self.logs());
            let file = self.dir.path().join(format!("{name}.xml"));
            std::fs::write(&file, res.text().unwrap()).unwrap();
            let added = server.cli(&[
                "saml-sp",
                "add",
                "--metadata",
                file.to_str().unwrap(),
                "--name",
                name,
            ]);
            assert_eq!(added["entity_id"], entity_id.as_str(), "{added}");
            server.cli(&[
                "register",
                "--school",
                &server.school_ref(),
                "--rp",
                &entity_id,
            ]);
        }
    }

    /// SimpleSAMLphp's `metarefresh`, run by its cron hook as the documentation sets it up.
    fn metarefresh(&self) {
        let out = self
            .dir
            .path()
            .join("simplesamlphp/metarefresh/saml20-idp-remote.php");
        let _ = std::fs::remove_file(&out);
        let salt =
            std::fs::read_to_string(self.dir.path().join("simplesamlphp/config/module_cron.php"))
                .unwrap();
        let key = salt
            .split("'key' => '")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap()
            .to_string();
        let res = Client::new()
            .get(self.url(&format!(
                "/simplesaml/module.php/cron/cron.php?key={key}&tag=hourly"
            )))
            .timeout(Duration::from_secs(60))
            .send()
            .unwrap();
        assert_eq!(res.status(), 200, "cron: {}", self.logs());
        assert!(
            out.exists(),
            "metarefresh wrote no metadata for Leerpoort:\n{}",
            self.logs()
        );
    }
}

impl Drop for Sps {
    fn drop(&mut self) {
        if let Some(mut apache) = self.apache.take() {
            // `-k stop` ends the children too; killing the parent alone would leave them.
            let _ = Command::new(APACHE)
                .arg("-f")
                .arg(self.dir.path().join("httpd.conf"))
                .args(["-k", "stop"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while apache.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = apache.kill();
            let _ = apache.wait();
        }
        if let Some(shibd) = self.shibd.take() {
            stop(shibd);
        }
    }
}

/// End a child by its process id: SIGTERM, and SIGKILL if it is still there after 10 s.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Where a navigation ended.
struct Page {
    url: Url,
    status: u16,
    body: String,
    trail: Vec<String>,
}

impl Page {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.describe()))
    }

    fn describe(&self) -> String {
        format!(
            "status {} at {} (after {}): {}",
            self.status,
            self.url,
            self.trail.join(" -> "),
            conformance_tests::http::truncate(&visible_text(&self.body))
        )
    }
}

/// A browser for both sides: a cookie jar, redirects followed, SAML's auto-posting forms
/// submitted, and Leerpoort's login form filled with `credentials`.
struct Agent {
    client: Client,
    credentials: Credentials,
    logins: Cell<usize>,
    /// Every `SAMLResponse` posted to an SP's ACS, decoded.
    responses: std::cell::RefCell<Vec<String>>,
}

impl Agent {
    fn new(server: &Server) -> Agent {
        Agent {
            client: Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            credentials: server.credentials(ANNA),
            logins: Cell::new(0),
            responses: Default::default(),
        }
    }

    fn get(&self, url: &str) -> Page {
        self.go(Url::parse(url).unwrap(), None)
    }

    fn post(&self, url: &str, fields: Vec<(String, String)>) -> Page {
        self.go(Url::parse(url).unwrap(), Some(fields))
    }

    fn go(&self, mut url: Url, mut form: Option<Vec<(String, String)>>) -> Page {
        let mut trail = Vec::new();
        let mut just_logged_in = false;
        for _ in 0..40 {
            trail.push(format!(
                "{} {}",
                if form.is_some() { "POST" } else { "GET" },
                conformance_tests::http::truncate(url.as_str())
            ));
            let req = match form.take() {
                Some(fields) => self.client.post(url.clone()).form(&fields),
                None => self.client.get(url.clone()),
            };
            let res = req
                .send()
                .unwrap_or_else(|e| panic!("{url}: no response: {e}"));
            let status = res.status().as_u16();
            if (300..400).contains(&status) {
                if let Some(loc) = res.headers().get("location") {
                    url = url.join(loc.to_str().unwrap()).unwrap();
                    continue;
                }
            }
            let body = res.text().unwrap_or_default();
            let page_forms = forms(&body, &url);
            let saml = page_forms.iter().find(|f| {
                f.method == "post"
                    && f.fields
                        .iter()
                        .any(|(k, _)| k == "SAMLResponse" || k == "SAMLRequest")
            });
            if let Some(f) = saml {
                if let Some((_, r)) = f.fields.iter().find(|(k, _)| k == "SAMLResponse") {
                    let xml = STANDARD.decode(r).unwrap();
                    self.responses
                        .borrow_mut()
                        .push(String::from_utf8_lossy(&xml).into_owned());
                }
                url = f.action.clone();
                form = Some(f.fields.clone());
                just_logged_in = false;
                continue;
            }
            if let Some(login) = login_form(&body, &url) {
                assert!(!just_logged_in, "the login failed: {body}");
                self.logins.set(self.logins.get() + 1);
                just_logged_in = true;
                url = login.action.clone();
                form = Some(
                    login
                        .fields
                        .iter()
                        .map(|(k, v)| match k.as_str() {
                            "email" => (k.clone(), self.credentials.email.clone()),
                            "password" => (k.clone(), self.credentials.password.clone()),
                            _ => (k.clone(), v.clone()),
                        })
                        .collect(),
                );
                continue;
            }
            return Page {
                url,
                status,
                body,
                trail,
            };
        }
        panic!("more than 40 hops: {}", trail.join(" -> "));
    }

    /// The last `SAMLResponse` carried an `EncryptedAssertion`, and no assertion in the clear.
    fn last_response_encrypted(&self) -> bool {
        let responses = self.responses.borrow();
        let last = responses.last().expect("a SAMLResponse was posted");
        last.contains("<saml:EncryptedAssertion>") && !last.contains("<saml:Assertion ")
    }

    /// Sign out at Leerpoort (its sign-out button) and follow the logout chain to its end.
    fn sign_out_at_leerpoort(&self, server: &Server) -> Page {
        let start = self.get(&server.url("/"));
        let csrf = forms(&start.body, &start.url)
            .into_iter()
            .flat_map(|f| f.fields)
            .find(|(k, _)| k == "csrf_token")
            .unwrap_or_else(|| panic!("no sign-out form: {}", start.describe()))
            .1;
        self.post(
            &server.url("/uitloggen"),
            vec![("csrf_token".to_string(), csrf)],
        )
    }
}

fn shortcut(server: &Server, entity_id: &str) -> String {
    format!(
        "{}/snelkoppeling?INSTELLING_REF={}&ROL=leerkracht&TARGET={}",
        server.issuer,
        server.school_ref(),
        url::form_urlencoded::byte_serialize(entity_id.as_bytes()).collect::<String>()
    )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The values mod_shib or SimpleSAMLphp gives for `name` (mod_shib joins values with `;`).
fn values(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s.split(';').map(str::to_string).collect(),
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        _ => Vec::new(),
    }
}

/// The Entree attributes of Anna, teacher at the demo school.
fn assert_entree_attributes(attrs: &Value, server: &Server, sps: &Sps) {
    let school = &server.demo["school"];
    let brin6 = school["brin6"].as_str().unwrap();
    let expect = [
        ("eduPersonAffiliation", vec!["employee".to_string()]),
        ("role", vec!["leerkracht".to_string()]),
        ("instellingRef", vec![server.school_ref()]),
        (
            "nlEduPersonHomeOrganizationBranchId",
            vec![brin6.to_string()],
        ),
        (
            "nlEduPersonHomeOrganizationId",
            vec![brin6[..4].to_string()],
        ),
        ("loginContext", vec!["school".to_string()]),
    ];
    for (name, want) in expect {
        assert_eq!(
            values(&attrs[name]),
            want,
            "{name} in {attrs}\n{}",
            sps.logs()
        );
    }
    assert!(
        values(&attrs["eckId"])
            .first()
            .is_some_and(|e| e.starts_with("https://ketenid.nl/")),
        "eckId in {attrs}"
    );
    assert!(!values(&attrs["groups"]).is_empty(), "groups in {attrs}");
    assert!(
        attrs.get("givenName").is_none(),
        "names are not released: {attrs}"
    );
}

/// `<pseudonym>@<Leerpoort's host>`: the scope Leerpoort's metadata names.
fn assert_pairwise_id(value: &str, server: &Server) -> String {
    let host = Url::parse(&server.issuer)
        .unwrap()
        .host_str()
        .unwrap()
        .to_string();
    let (pseudonym, scope) = value
        .split_once('@')
        .unwrap_or_else(|| panic!("pairwise-id without a scope: {value}"));
    assert_eq!(scope, host, "{value}");
    assert_eq!(pseudonym.len(), 64, "{value}");
    pseudonym.to_string()
}

fn shibboleth(server: &Server, sps: &Sps) {
    let agent = Agent::new(server);
    let secure = sps.url("/secure/");

    // SP-initiated, asking for a transient NameID: the pseudonym comes as pairwise-id, which
    // Shibboleth keeps only when its scope is in Leerpoort's metadata.
    let login = format!(
        "{}?target={}&NameIDFormat={}",
        sps.url("/Shibboleth.sso/Login"),
        enc(&secure),
        enc(TRANSIENT)
    );
    let page = agent.get(&login);
    assert_eq!(
        page.url.as_str(),
        secure,
        "{}\n{}",
        page.describe(),
        sps.logs()
    );
    assert!(
        agent.last_response_encrypted(),
        "Shibboleth's metadata has a key"
    );
    let first = page.json();
    assert_entree_attributes(&first, server, sps);
    assert_eq!(
        first["Shib-Identity-Provider"],
        server.url("/saml/metadata")
    );
    let pairwise = first["pairwise-id"]
        .as_str()
        .unwrap_or_else(|| panic!("no pairwise-id: {first}\n{}", sps.logs()));
    let pseudonym = assert_pairwise_id(pairwise, server);
    assert_eq!(agent.logins.get(), 1);

    // The school shortcut: an unsolicited response, persistent NameID, the same pseudonym.
    let page = agent.get(&shortcut(server, &sps.shib_entity_id()));
    assert_eq!(
        page.url.as_str(),
        secure,
        "{}\n{}",
        page.describe(),
        sps.logs()
    );
    assert!(agent.last_response_encrypted());
    let second = page.json();
    assert_entree_attributes(&second, server, sps);
    assert_eq!(second["persistent-id"], pseudonym.as_str(), "{second}");
    assert_eq!(agent.logins.get(), 1, "the session carried on");

    // Single Logout from the SP: Leerpoort answers with a signed LogoutResponse, Shibboleth
    // accepts it and returns to where it was asked to.
    let signed_out = sps.url("/signed-out.html");
    let page = agent.get(&format!(
        "{}?return={}",
        sps.url("/Shibboleth.sso/Logout"),
        enc(&signed_out)
    ));
    assert_eq!(
        page.url.as_str(),
        signed_out,
        "{}\n{}",
        page.describe(),
        sps.logs()
    );
    assert!(
        page.trail
            .iter()
            .any(|t| t.contains("/saml/slo?SAMLRequest=")),
        "the logout went through Leerpoort: {}",
        page.describe()
    );
    // Both sessions are gone: the SP sends the browser to Leerpoort, which asks to sign in.
    let page = agent.get(&secure);
    assert_eq!(page.url.as_str(), secure, "{}", page.describe());
    assert_eq!(agent.logins.get(), 2, "signed in again after SLO");

    // Single Logout from Leerpoort: Shibboleth gets a signed LogoutRequest, answers, and the
    // browser ends on Leerpoort's signed-out page.
    let page = agent.sign_out_at_leerpoort(server);
    assert!(
        page.url.as_str().starts_with(&server.url("/"))
            && page
                .trail
                .iter()
                .any(|t| t.contains("/Shibboleth.sso/SLO/Redirect?SAMLRequest="))
            && page.body.contains("uitgelogd"),
        "{}\n{}",
        page.describe(),
        sps.logs()
    );
    let page = agent.get(&secure);
    assert_eq!(page.url.as_str(), secure, "{}", page.describe());
    assert_eq!(agent.logins.get(), 3, "the SP's session ended too");
}

fn simplesamlphp(server: &Server, sps: &Sps) {
    let agent = Agent::new(server);
    let home = sps.url("/ssp/");

    // SP-initiated; SimpleSAMLphp asks for a transient NameID and, as set up in metarefresh's
    // template, accepts only encrypted assertions.
    let page = agent.get(&home);
    assert_eq!(
        page.url.as_str(),
        home,
        "{}\n{}",
        page.describe(),
        sps.logs()
    );
    assert!(agent.last_response_encrypted());
    let first = page.json();
    assert_eq!(first["idp"], server.url("/saml/metadata"));
    assert_entree_attributes(&first["attributes"], server, sps);
    assert_eq!(first["name_id_format"], TRANSIENT, "{first}");
    let pairwise = values(&first["attributes"]["urn:oasis:names:tc:SAML:attribute:pairwise-id"]);
    assert_eq!(pairwise.len(), 1, "{first}");
    let pseudonym = assert_pairwise_id(&pairwise[0], server);

    // The school shortcut: an unsolicited response, landing on the SP's default RelayState.
    let page = agent.get(&shortcut(server, &sps.ssp_entity_id()));
    assert_eq!(
        page.url.as_str(),
        home,
        "{}\n{}",
        page.describe(),
        sps.logs()
    );
    assert!(agent.last_response_encrypted());
    let second = page.json();
    assert_entree_attributes(&second["attributes"], server, sps);
    assert_eq!(agent.logins.get(), 1, "the session carried on");
    // No request, so the NameID is persistent: the same pseudonym.
    assert_eq!(
        second["name_id_format"], "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "{second}"
    );
    assert_eq!(second["name_id"], pseudonym.as_str(), "{second}");

    // Single Logout from the SP.
    let page = agent.get(&sps.url("/ssp/logout.php"));
    assert!(
        page.url
            .as_str()
            .starts_with(&sps.url("/ssp/signed-out.php")),
        "{}\n{}",
        page.describe(),
        sps.logs()
    );
    let status = page.json();
    assert_eq!(
        status["status"]["Code"], "urn:oasis:names:tc:SAML:2.0:status:Success",
        "{status}"
    );
    let page = agent.get(&home);
    assert_eq!(page.url.as_str(), home, "{}", page.describe());
    assert_eq!(agent.logins.get(), 2, "signed in again after SLO");

    // Single Logout from Leerpoort.
    let page = agent.sign_out_at_leerpoort(server);
    assert!(
        page.url.as_str().starts_with(&server.url("/"))
            && page
                .trail
                .iter()
                .any(|t| t.contains("saml2-logout.php/default-sp?SAMLRequest="))
            && page.body.contains("uitgelogd"),
        "{}\n{}",
        page.describe(),
        sps.logs()
    );
    let page = agent.get(&home);
    assert_eq!(page.url.as_str(), home, "{}", page.describe());
    assert_eq!(agent.logins.get(), 3, "the SP's session ended too");
}

/// Two rotations: the key that signs then was not in the metadata the SPs first fetched. They
/// fetch the metadata again and check its signature with the certificate they pinned.
fn after_two_rotations(server: &mut Server, sps: &mut Sps) {
    let first = server.cli(&["keys", "list"]);
    server.cli(&["keys", "rotate"]);
    server.cli(&["keys", "rotate"]);
    let signing = |list: &Value| -> Vec<String> {
        list["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == "SAML-RS256" && k["state"] == "active")
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let now = server.cli(&["keys", "list"]);
    assert_ne!(signing(&first), signing(&now), "another key signs now");
    server.restart();

    sps.metarefresh();
    sps.start_shibd();
    let agent = Agent::new(server);
    let page = agent.get(&sps.url("/ssp/"));
    assert_eq!(
        page.url.as_str(),
        sps.url("/ssp/"),
        "{}\n{}",
        page.describe(),
        sps.logs()
    );
    assert_entree_attributes(&page.json()["attributes"], server, sps);
    let page = agent.get(&sps.url("/secure/"));
    assert_eq!(
        page.url.as_str(),
        sps.url("/secure/"),
        "{}\n{}",
        page.describe(),
        sps.logs()
    );
    assert_entree_attributes(&page.json(), server, sps);
}

#[test]
fn simplesamlphp_and_shibboleth_sps() {
    if !sps_or_skip() {
        return;
    }
    both_backends(|server| {
        let mut sps = Sps::start(server);
        sps.register(server);
        sps.metarefresh();
        shibboleth(server, &sps);
        simplesamlphp(server, &sps);
        after_two_rotations(server, &mut sps);
    });
}
