//! Authorization request parameters (OIDC Core §3.1.2.1): optional ones the server must accept,
//! broken requests it must refuse without redirecting, and request objects (§6).

use conformance_tests::oidc::{exchange, expect_callback, expect_tokens, random, s256};
use conformance_tests::{
    both_backends, code_flow, jwt, AuthRequest, Flow, Listener, Reply, Server, ANNA,
};
use serde_json::json;

/// A fresh sign-in with one extra parameter; it must succeed.
fn succeeds_with(server: &Server, key: &str, value: &str) -> Flow {
    let rp = server.demo_rp();
    let flow = code_flow(
        server,
        &server.browser_as(ANNA),
        &rp,
        AuthRequest::new(&rp).set(key, value),
    );
    assert_eq!(
        flow.landing.login_forms,
        1,
        "{key}={value}: {}",
        flow.landing.describe()
    );
    flow
}

/// `oidcc-display-page`: `display=page`.
#[test]
fn oidcc_display_page() {
    both_backends(|server| {
        succeeds_with(server, "display", "page");
    });
}

/// `oidcc-display-popup`: `display=popup`.
#[test]
fn oidcc_display_popup() {
    both_backends(|server| {
        succeeds_with(server, "display", "popup");
    });
}

/// `oidcc-ensure-request-with-unknown-parameter-succeeds`: unknown parameters are ignored
/// (OIDC Core §3.1.2.1, RFC 6749 §3.1).
#[test]
fn oidcc_ensure_request_with_unknown_parameter_succeeds() {
    both_backends(|server| {
        succeeds_with(server, "extra", "foobar");
    });
}

/// `oidcc-ui-locales`: `ui_locales` is a hint; the request succeeds.
#[test]
fn oidcc_ui_locales() {
    both_backends(|server| {
        succeeds_with(server, "ui_locales", "nl-NL en");
    });
}

/// `oidcc-claims-locales`: `claims_locales` is a hint; the request succeeds.
#[test]
fn oidcc_claims_locales() {
    both_backends(|server| {
        succeeds_with(server, "claims_locales", "nl-NL en");
    });
}

/// `oidcc-ensure-request-with-acr-values-succeeds`: `acr_values` is voluntary (OIDC Core
/// §3.1.2.1); the request succeeds, and an `acr` in the ID token is a string.
#[test]
fn oidcc_ensure_request_with_acr_values_succeeds() {
    both_backends(|server| {
        let flow = succeeds_with(server, "acr_values", "1 2");
        if let Some(acr) = flow.tokens.claims.get("acr") {
            assert!(acr.is_string(), "acr must be a string: {acr}");
        }
    });
}

/// `oidcc-login-hint`: `login_hint` with the user's e-mail address; the request succeeds.
#[test]
fn oidcc_login_hint() {
    both_backends(|server| {
        succeeds_with(server, "login_hint", ANNA);
    });
}

/// `oidcc-response-type-missing`: no `response_type`. The server shows an error or redirects
/// back with `invalid_request`/`unsupported_response_type` (RFC 6749 §3.1.1, §4.1.2.1) — and
/// does not ask anyone to sign in for a request it cannot carry out.
#[test]
fn oidcc_response_type_missing() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let req = AuthRequest::new(&rp).remove("response_type");
        let landing = req.send(server, &server.browser());
        if landing.left_server {
            let params = expect_callback(server, &req, &landing);
            assert!(!params.contains_key("code"), "a code without response_type");
            let error = params.get("error").map(String::as_str);
            assert!(
                matches!(error, Some("invalid_request" | "unsupported_response_type")),
                "expected invalid_request or unsupported_response_type: {}",
                landing.url
            );
        } else {
            assert!(
                !landing.stopped_at_login,
                "the server asked the user to sign in for a request without response_type \
                 instead of refusing it: {}",
                landing.describe()
            );
            assert!(
                (400..500).contains(&landing.status),
                "expected an error page (4xx): {}",
                landing.describe()
            );
        }
    });
}

/// `oidcc-ensure-registered-redirect-uri`: a redirect URI that is not registered exactly —
/// another host, port or path, an added query — gets an error page, and the browser is never
/// sent there (RFC 6749 §4.1.2.1, §10.6). The same for an unknown client. Checked for a
/// browser without a session (which must not be asked to sign in first) and with one.
#[test]
fn oidcc_ensure_registered_redirect_uri() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let bad_uris = [
            format!("https://{}.example/callback", random(12)),
            "http://127.0.0.1:8082/callback".to_string(),
            "http://127.0.0.1:8081/callback/extra".to_string(),
            "http://127.0.0.1:8081/callbackx".to_string(),
            "http://127.0.0.1:8081/Callback".to_string(),
            "http://127.0.0.1:8081/callback?x=1".to_string(),
        ];
        let signed_in = server.browser_as(ANNA);
        let _ = code_flow(server, &signed_in, &rp, AuthRequest::new(&rp));
        for (who, browser) in [("no session", server.browser()), ("signed in", signed_in)] {
            let mut requests: Vec<(String, AuthRequest)> = bad_uris
                .iter()
                .map(|u| {
                    (
                        format!("redirect_uri={u}"),
                        AuthRequest::new(&rp).set("redirect_uri", u),
                    )
                })
                .collect();
            requests.push((
                "an unknown client_id".into(),
                AuthRequest::new(&rp).set("client_id", &random(20)),
            ));
            for (what, req) in requests {
                let landing = req.send(server, &browser);
                assert!(
                    !landing.left_server,
                    "{who}, {what}: the server redirected the browser away: {}",
                    landing.describe()
                );
                assert!(
                    !landing.stopped_at_login,
                    "{who}, {what}: the server asked to sign in instead of refusing the \
                     request: {}",
                    landing.describe()
                );
                assert!(
                    (400..500).contains(&landing.status),
                    "{who}, {what}: expected an error page (4xx): {}",
                    landing.describe()
                );
            }
        }
    });
}

/// What a request object test sent, to check the answer against.
struct ObjectRequest {
    req: AuthRequest,
    state: String,
    nonce: String,
    verifier: String,
}

/// An authorization request whose `state`, `nonce` and PKCE challenge are only inside the
/// request object, the OAuth parameters OIDC Core §6.1 requires outside it too.
fn object_request(server: &Server) -> (ObjectRequest, serde_json::Value) {
    let rp = server.demo_rp();
    let state = random(32);
    let nonce = random(32);
    let verifier = random(64);
    let object = json!({
        "iss": rp.client_id,
        "aud": server.issuer,
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid",
        "state": state,
        "nonce": nonce,
        "code_challenge": s256(&verifier),
        "code_challenge_method": "S256",
    });
    let req = AuthRequest::new(&rp)
        .remove("state")
        .remove("nonce")
        .no_pkce();
    (
        ObjectRequest {
            req,
            state,
            nonce,
            verifier,
        },
        object,
    )
}

/// The answer to a request object: either `not_supported_error` at the redirect URI, or a
/// code issued for what the object said (its state, its nonce, its PKCE challenge).
fn check_object_answer(server: &Server, o: &ObjectRequest, not_supported_error: &str) -> bool {
    let rp = server.demo_rp();
    let landing = o.req.send(server, &server.browser_as(ANNA));
    assert!(
        landing.left_server,
        "expected a redirect back with a code or {not_supported_error}: {}",
        landing.describe()
    );
    let params = landing.params();
    if let Some(error) = params.get("error") {
        assert_eq!(
            error, not_supported_error,
            "a request object must be processed or refused with {not_supported_error} \
             (OIDC Core §3.1.2.6): {}",
            landing.url
        );
        assert!(!params.contains_key("code"));
        return false;
    }
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("neither code nor error: {}", landing.url));
    assert_eq!(
        params.get("state"),
        Some(&o.state),
        "the state inside the request object must come back; was the object ignored? {}",
        landing.url
    );
    let res = exchange(server, &rp, code, Some(&o.verifier));
    let _ = expect_tokens(server, &rp, &res, Some(&o.nonce));
    true
}

/// `oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported`: a request
/// object by value with `alg: none` is either processed or refused with
/// `request_not_supported`.
#[test]
fn oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported() {
    both_backends(|server| {
        let (mut o, object) = object_request(server);
        o.req = o.req.set("request", &jwt::unsigned(&object));
        let processed = check_object_answer(server, &o, "request_not_supported");
        if processed {
            assert_ne!(
                server.discovery()["request_parameter_supported"],
                false,
                "request objects are processed, but discovery says request_parameter_supported false"
            );
        } else {
            assert_ne!(
                server.discovery()["request_parameter_supported"],
                true,
                "discovery says request_parameter_supported, yet request_not_supported"
            );
        }
    });
}

/// `oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported`: a request
/// object by reference (`request_uri`, served here on loopback) is either fetched and
/// processed or refused with `request_uri_not_supported`.
#[test]
fn oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported() {
    both_backends(|server| {
        let (mut o, object) = object_request(server);
        let jwt = jwt::unsigned(&object);
        let listener = Listener::start(move |_| {
            Reply::with(200, "application/oauth-authz-req+jwt", jwt.clone())
        });
        o.req = o.req.set("request_uri", &listener.url("/request.jwt"));
        let processed = check_object_answer(server, &o, "request_uri_not_supported");
        let fetched = !listener.drain().is_empty();
        if processed {
            assert!(
                fetched,
                "the request was processed without fetching request_uri"
            );
        }
    });
}
