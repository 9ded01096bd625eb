//! Change notifications from a running `leerpoort serve` (docs/publisher-api.md, "Change
//! notifications"): the operator sets a party's webhook on the command line, a change made by
//! another process reaches the party within seconds as a Security Event Token that verifies
//! against the server's published keys.

use std::time::{Duration, Instant};

use conformance_tests::{both_backends, jwt, Listener, Recorded, Reply};
use serde_json::Value;

/// The events the webhook received until `kind` arrived (or `wait` passed).
fn until(hook: &Listener, kind: &str, wait: Duration, seen: &mut Vec<Recorded>) -> bool {
    let end = Instant::now() + wait;
    loop {
        if seen.iter().any(|r| event_of(r).0 == kind) {
            return true;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        if let Some(r) = hook.next_request(left) {
            seen.push(r);
        }
    }
}

/// (type URI, event body) of a posted token.
fn event_of(r: &Recorded) -> (String, Value) {
    let token = String::from_utf8_lossy(&r.body).to_string();
    let claims = jwt::payload(&token);
    claims["events"]
        .as_object()
        .and_then(|m| m.iter().next())
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap_or_default()
}

#[test]
fn a_change_made_on_the_command_line_reaches_the_partys_webhook_signed() {
    both_backends(|server| {
        let hook = Listener::start(|_| Reply::with(202, "application/json", ""));
        let rp = server.demo_rp();
        let set = server.cli(&[
            "client",
            "webhook",
            "--rp",
            &rp.client_id,
            "--uri",
            &hook.url("/leerpoort/events"),
        ]);
        assert_eq!(set["webhook_uri"], hook.url("/leerpoort/events"));
        let mut seen = Vec::new();
        assert!(
            until(
                &hook,
                "urn:leerpoort:events:webhook-ingesteld",
                Duration::from_secs(15),
                &mut seen
            ),
            "no first event: {}",
            server.log_tail(20)
        );
        let school = server.school_ref();
        server.cli(&[
            "group",
            "add",
            "--school",
            &school,
            "--key",
            "webhook-7c",
            "--name",
            "Groep 7C",
            "--jaargroep",
            "7",
        ]);
        assert!(
            until(
                &hook,
                "urn:leerpoort:events:schoolgegevens-gewijzigd",
                Duration::from_secs(15),
                &mut seen
            ),
            "no event for the new group: {}",
            server.log_tail(20)
        );
        let jwks = server.jwks();
        for r in &seen {
            assert_eq!(r.method, "POST");
            assert_eq!(r.target, "/leerpoort/events");
            assert_eq!(r.header("content-type"), Some("application/secevent+jwt"));
            let token = String::from_utf8_lossy(&r.body).to_string();
            assert_eq!(jwt::header(&token)["typ"], "secevent+jwt");
            let claims = jwt::verify(&token, &jwks, &["ES256"]);
            assert_eq!(claims["iss"], server.issuer);
            assert_eq!(claims["aud"], rp.client_id);
            assert!(!token.is_empty() && !claims.to_string().contains("Groep 7C"));
        }
        let changed = seen
            .iter()
            .map(event_of)
            .find(|(k, _)| k == "urn:leerpoort:events:schoolgegevens-gewijzigd")
            .unwrap()
            .1;
        assert_eq!(changed["instellingRef"], school);
        assert_eq!(
            changed["ophalen"],
            server.url(&format!("/api/schooldata/v1/scholen/{school}"))
        );
        // The operator sees both delivered.
        let events = server.cli(&["client", "events", "--rp", &rp.client_id]);
        let list = events["events"].as_array().unwrap();
        assert!(list.len() >= 2, "{events}");
        assert!(list.iter().all(|e| e["status"] == "delivered"), "{events}");
    });
}
