//! A network environment that nobody here wrote: npm's `oidc-provider` (panva, certified),
//! started on a free port with a pupil account, as Leerpoort's OIDC upstream. In a real
//! browser: the school's shortcut as the network environment places it (`NETWERK=`), the
//! sign-in at the upstream, and on to a publisher with a token that says `netwerk`.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use conformance_tests::chromium::Chromium;
use conformance_tests::publisher::Publisher;
use conformance_tests::server::free_port;
use conformance_tests::{node, Backend, Server};
use serde_json::Value;

const SECRET: &str = "leerpoort-bij-de-peer-0123456789";

/// The running provider; stopped on `Drop`.
struct Peer {
    child: Child,
    issuer: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_peer(server: &Server) -> Peer {
    let dir = node::install_in(Path::new(env!("CARGO_MANIFEST_DIR")).join("load/peer"));
    let port = free_port();
    let mut child = Command::new("node")
        .arg("server.mjs")
        .args(["--port", &port.to_string()])
        .args(["--client-id", "leerpoort"])
        .args(["--client-secret", SECRET])
        .args(["--redirect-uri", &server.url("/broker/oidc/callback")])
        .args([
            "--post-logout-redirect-uri",
            &server.url("/broker/oidc/uitgelogd"),
        ])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting node (Node.js 20 is needed)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the provider's first line");
    let v: Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("the provider did not start ({e}): {line:?}"));
    Peer {
        child,
        issuer: v["issuer"].as_str().expect("issuer").to_string(),
    }
}

#[test]
fn a_pupil_comes_in_through_oidc_provider_and_goes_on_to_a_publisher_in_the_browser() {
    let server = Server::start(&Backend::Sqlite);
    let peer = start_peer(&server);
    let publisher = Publisher::start(&server, "Rekenwereld", &["--audience", "leerling"]);
    let added = server.cli(&[
        "upstream",
        "add",
        "--name",
        "moo",
        "--school",
        &server.school_ref(),
        "--oidc-issuer",
        &peer.issuer,
        "--client-id",
        "leerpoort",
        "--client-secret",
        SECRET,
        "--scope",
        "las",
        "--match",
        "las-key",
        "--claim",
        "las_key",
    ]);
    assert_eq!(added["protocol"], "oidc", "{added}");

    // The school's page offers the network environment.
    let browser = Chromium::start(1024, 768);
    browser.goto(&server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}&TARGET={}",
        server.school_ref(),
        publisher.client_id()
    )));
    assert!(
        browser.text().contains("Inloggen via moo"),
        "{}",
        browser.text()
    );
    browser.assert_accessible("the school page with a network environment");
    browser.screenshot("40-school-met-netwerkomgeving");

    // The shortcut as the network environment places it: straight to the upstream.
    browser.goto(&server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}&TARGET={}&NETWERK=moo",
        server.school_ref(),
        publisher.client_id()
    )));
    assert!(
        browser.url().as_str().starts_with(&peer.issuer),
        "at the upstream: {}",
        browser.url()
    );
    browser.type_into("#email", "emma@moo.example");
    browser.type_into("#password", "Zwembad2026");
    browser.click("form button[type=submit]");
    assert!(
        browser
            .url()
            .as_str()
            .starts_with(&publisher.url("/callback")),
        "{}: {}",
        browser.url(),
        browser.text()
    );
    let claims = &publisher.signed_in()[0];
    assert_eq!(claims["login_context"], "netwerk", "{claims}");
    assert_eq!(claims["role"], "leerling", "{claims}");
    assert_eq!(claims["instelling_ref"], server.school_ref(), "{claims}");

    // Signed in at Leerpoort now: the next shortcut goes straight through.
    browser.goto(&server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}&TARGET={}&NETWERK=moo",
        server.school_ref(),
        publisher.client_id()
    )));
    assert!(browser
        .url()
        .as_str()
        .starts_with(&publisher.url("/callback")));
    assert_eq!(publisher.signed_in().len(), 2);

    // Signing out at Leerpoort signs out at the network environment too.
    browser.goto(&server.url("/"));
    browser.click_text("Uitloggen");
    assert!(
        browser.url().as_str().starts_with(&peer.issuer),
        "to the upstream's logout: {}",
        browser.url()
    );
    browser.click("button[name=logout][value=yes]");
    assert_eq!(
        browser.url().path(),
        "/broker/oidc/uitgelogd",
        "{}",
        browser.text()
    );
    assert!(browser.text().contains("uitgelogd"), "{}", browser.text());
    // Both sessions are over: the network environment asks to sign in again.
    browser.goto(&server.url(&format!(
        "/snelkoppeling?INSTELLING_REF={}&TARGET={}&NETWERK=moo",
        server.school_ref(),
        publisher.client_id()
    )));
    assert!(
        browser.url().as_str().starts_with(&peer.issuer)
            && !browser.find_all("#password").is_empty(),
        "{}: {}",
        browser.url(),
        browser.text()
    );
}
