//! A relying party nobody in this project wrote: panva's `openid-client` for Node.js
//! (`conformance-tests/node/rp.mjs`). It does discovery, PKCE, the token request (with
//! `client_secret_post`, its default), ID token validation including the signature, and
//! userinfo; the Rust browser signs in at the URL it prints.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conformance_tests::{both_backends, code_flow, AuthRequest, ANNA};
use serde_json::Value;

fn node_dir() -> PathBuf {
    conformance_tests::node::install()
}

/// The authorization code flow with `openid-client` against a fresh server.
#[test]
fn openid_client_node_flow() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let browser = server.browser_as(ANNA);
        let mut child = Command::new("node")
            .arg("rp.mjs")
            .current_dir(node_dir())
            .env("OIDC_ISSUER", &server.issuer)
            .env("OIDC_CLIENT_ID", &rp.client_id)
            .env(
                "OIDC_CLIENT_SECRET",
                rp.client_secret.as_deref().expect("secret"),
            )
            .env("OIDC_REDIRECT_URI", &rp.redirect_uri)
            .env("OIDC_SCOPE", "openid groups")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting node (Node.js 20 is needed)");
        let stderr = child.stderr.take().expect("stderr");
        let errors = Arc::new(Mutex::new(String::new()));
        let errors2 = errors.clone();
        let err_thread = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut e = errors2.lock().expect("stderr buffer");
                e.push_str(&line);
                e.push('\n');
            }
        });
        // Read stdout on a thread, so that a hanging node cannot hang the test.
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let next_json = |child: &mut std::process::Child, what: &str| -> Value {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(l) => serde_json::from_str(&l)
                    .unwrap_or_else(|e| panic!("rp.mjs printed no JSON for {what} ({e}): {l}")),
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    std::thread::sleep(Duration::from_millis(200));
                    panic!(
                        "rp.mjs gave no {what}; its stderr:\n{}",
                        errors.lock().expect("stderr buffer")
                    );
                }
            }
        };

        let first = next_json(&mut child, "authorization URL");
        let url = first["authorization_url"]
            .as_str()
            .unwrap_or_else(|| panic!("rp.mjs: {first}"))
            .to_string();
        let landing = browser.get(&url);
        assert!(landing.left_server, "{}", landing.describe());
        {
            let mut stdin = child.stdin.take().expect("stdin");
            writeln!(stdin, "{}", landing.url).expect("writing the callback URL to rp.mjs");
        }
        let result = next_json(&mut child, "result");
        let status = child.wait().expect("waiting for node");
        let _ = err_thread.join();
        let errors = errors.lock().expect("stderr buffer").clone();
        assert!(
            status.success() && result.get("error").is_none(),
            "openid-client failed ({status}): {result}\n{errors}"
        );

        let claims = &result["id_token_claims"];
        let info = &result["userinfo"];
        assert_eq!(claims["iss"], server.issuer, "{result}");
        assert_eq!(claims["aud"], rp.client_id, "{result}");
        assert_eq!(info["sub"], claims["sub"], "{result}");
        assert!(info["groups"].is_array(), "scope groups: {result}");
        assert_eq!(info["instelling_ref"], server.school_ref(), "{result}");
        assert!(
            result["token_type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
            "{result}"
        );

        // The same user at the same client, seen by the Rust relying party.
        let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
        assert_eq!(claims["sub"], flow.tokens.sub());
    });
}
