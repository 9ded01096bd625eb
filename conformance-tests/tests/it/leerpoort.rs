//! Leerpoort's own promises to publishers and schools (docs/integrate-oidc.md): pairwise subjects that
//! survive key rotation and BRIN changes, school registrations that can be withdrawn,
//! `private_key_jwt`, back-channel logout, introspection and revocation.

use std::sync::Arc;
use std::time::Duration;

use conformance_tests::browser::forms;
use conformance_tests::http::{self, Response};
use conformance_tests::jwt::{self, ClientKey};
use conformance_tests::oidc::{
    authenticated, expect_auth_error, expect_code, refresh, userinfo, userinfo_request,
};
use conformance_tests::{
    both_backends, code_flow, AuthRequest, ClientAuth, Landing, Listener, Reply, Server,
    UserinfoStyle, ANNA, KARIM,
};
use serde_json::{json, Value};
use url::Url;

/// Every relying party sees its own `sub` for the same user; the same one every time.
#[test]
fn pairwise_subs_differ_between_relying_parties() {
    both_backends(|server| {
        let demo = server.demo_rp();
        let other = server.add_rp(
            "andere-uitgeverij",
            &["--sector", "andere-uitgeverij.example"],
        );
        let anna = server.browser_as(ANNA);
        let at_demo = code_flow(server, &anna, &demo, AuthRequest::new(&demo)).tokens;
        let at_other = code_flow(server, &anna, &other, AuthRequest::new(&other)).tokens;
        assert_ne!(
            at_demo.sub(),
            at_other.sub(),
            "two relying parties must not get the same sub for one user"
        );
        let again = code_flow(server, &anna, &demo, AuthRequest::new(&demo)).tokens;
        assert_eq!(
            again.sub(),
            at_demo.sub(),
            "sub must be stable at one relying party"
        );

        let karim = code_flow(
            server,
            &server.browser_as(KARIM),
            &demo,
            AuthRequest::new(&demo),
        )
        .tokens;
        assert_ne!(karim.sub(), at_demo.sub(), "two users, one sub");

        // A pseudonym reveals neither the ECK-iD nor Leerpoort's user id.
        let anna_id = server.demo["staff"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["email"] == ANNA))
            .and_then(|s| s["user_id"].as_str())
            .expect("Anna's user id")
            .to_string();
        for t in [&at_demo, &at_other] {
            assert!(!t.sub().contains(&anna_id), "sub contains the user id");
            assert_ne!(
                Some(t.sub()),
                t.claims["eckid"].as_str(),
                "sub is the ECK-iD"
            );
        }
    });
}

/// `sub` stays the same after `keys rotate` and after the school gets another BRIN; the new
/// key signs, the old one still verifies what it signed, and `brin6` follows the school.
#[test]
fn pairwise_sub_stable_across_key_rotation_and_brin_change() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let before = code_flow(server, &server.browser_as(ANNA), &rp, AuthRequest::new(&rp)).tokens;
        let old_kid = before.header["kid"].clone();

        server.cli(&["keys", "rotate"]);
        // The server reloads keys within a minute; a restart makes it at once.
        server.restart();
        let school = server.school_ref();
        server.cli(&[
            "school",
            "change-brin",
            "--school",
            &school,
            "--brin",
            "34CD",
            "--vestiging",
            "01",
        ]);

        let after = code_flow(server, &server.browser_as(ANNA), &rp, AuthRequest::new(&rp)).tokens;
        assert_eq!(
            after.sub(),
            before.sub(),
            "sub must survive key rotation and a BRIN change (docs/integrate-oidc.md)"
        );
        assert_ne!(
            after.header["kid"], old_kid,
            "after `keys rotate` and a restart, ID tokens must be signed with the new key"
        );
        jwt::try_verify(&before.id_token, &server.jwks(), &["RS256"]).unwrap_or_else(|e| {
            panic!("the rotated-out key must stay published until it expires: {e}")
        });
        assert_eq!(after.claims["brin6"], "34CD01", "{}", after.claims);
        assert_eq!(after.claims["instelling_ref"], school.as_str());
        let info = userinfo(server, &after);
        assert_eq!(info["brin6"], "34CD01", "{info}");
    });
}

/// A school that withdraws a relying party (`deregister`): no sign-in there any more —
/// `access_denied` at the redirect URI, with or without a session — and the tokens issued
/// before give no data from then on.
#[test]
fn deregistered_relying_party_is_refused() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let browser = server.browser_as(ANNA);
        let before = code_flow(server, &browser, &rp, AuthRequest::new(&rp)).tokens;

        let school = server.school_ref();
        server.cli(&["deregister", "--school", &school, "--rp", &rp.client_id]);

        let res = userinfo_request(server, &before.access_token, UserinfoStyle::Get);
        assert_eq!(
            res.status, 401,
            "no data from then on: userinfo with a token from before answered {} {}",
            res.status, res.body
        );
        if let Some(rt) = &before.refresh_token {
            refresh(server, &rp, rt).expect_oauth_error(&[400], "invalid_grant");
        }

        // The user sees a page that names the school setting that blocks the software, with
        // a way back to the client carrying `error=access_denied` — never a code.
        for (who, b) in [
            ("with a session", browser),
            ("signing in afresh", server.browser_as(ANNA)),
        ] {
            let req = AuthRequest::new(&rp);
            let landing = req.send(server, &b);
            assert!(
                !landing.left_server,
                "{who}: expected the refusal page, the browser {}",
                landing.describe()
            );
            assert_eq!(landing.status, 403, "{who}: {}", landing.body);
            assert!(
                landing.body.contains("Toestemming uitwisseling schooldata"),
                "{who}: the page names the school setting: {}",
                landing.body
            );
            let href = landing
                .body
                .split("href=\"")
                .map(|rest| {
                    rest.split('"')
                        .next()
                        .unwrap_or_default()
                        .replace("&amp;", "&")
                        .replace("&#38;", "&")
                })
                .find(|h| h.starts_with(&rp.redirect_uri))
                .unwrap_or_else(|| panic!("{who}: no link back to the client: {}", landing.body));
            let back = url::Url::parse(&href).unwrap();
            let params: std::collections::HashMap<String, String> =
                back.query_pairs().into_owned().collect();
            assert_eq!(
                params.get("error").map(String::as_str),
                Some("access_denied"),
                "{href}"
            );
            assert_eq!(params.get("state"), req.state.as_ref(), "{href}");
            assert!(!params.contains_key("code"), "{href}");
            assert!(
                !landing.body.contains("code="),
                "{who}: no code anywhere on the page"
            );
        }

        // prompt=none cannot show a page: the error goes straight back.
        let b = server.browser_as(ANNA);
        let _ = AuthRequest::new(&rp).send(server, &b);
        let mut req = AuthRequest::new(&rp);
        req.params.push(("prompt".into(), "none".into()));
        let landing = req.send(server, &b);
        assert!(landing.left_server, "prompt=none: {}", landing.describe());
        expect_auth_error(server, &req, &landing, &["access_denied", "login_required"]);
    });
}

/// `private_key_jwt` (OIDC Core §9): the client publishes its key at its `jwks_uri` (a
/// loopback listener here) and authenticates with a signed assertion; an assertion signed by
/// another key, for another audience, or expired is `invalid_client`.
#[test]
fn private_key_jwt_client_authentication() {
    both_backends(|server| {
        let d = server.discovery();
        let algs: Vec<String> = d["token_endpoint_auth_signing_alg_values_supported"]
            .as_array()
            .unwrap_or_else(|| {
                panic!("discovery lists no token_endpoint_auth_signing_alg_values_supported")
            })
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let alg = ["ES256", "RS256"]
            .into_iter()
            .find(|a| algs.iter().any(|x| x == a))
            .unwrap_or_else(|| panic!("neither ES256 nor RS256 for client assertions: {algs:?}"));
        let key = Arc::new(ClientKey::generate(alg));
        let jwks = key.jwks();
        let listener = Listener::start(move |req| {
            if req.target.starts_with("/jwks.json") {
                Reply::json(&jwks)
            } else {
                Reply::with(404, "text/plain", "not found")
            }
        });
        let rp = server
            .add_rp("pkjwt", &["--jwks-uri", &listener.url("/jwks.json")])
            .with_auth(ClientAuth::PrivateKeyJwt(key.clone()));
        let browser = server.browser_as(ANNA);

        let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
        let _ = userinfo(server, &flow.tokens);
        assert!(
            listener
                .drain()
                .iter()
                .any(|r| r.method == "GET" && r.target.starts_with("/jwks.json")),
            "the server never fetched the client's jwks_uri"
        );

        let token_endpoint = server.endpoint("token_endpoint");
        let impostor = ClientKey::generate_with_kid(alg, &key.kid);
        let now = jwt::now();
        let assertion = |k: &ClientKey, aud: &str, iat: i64, exp: i64| {
            k.sign(&json!({
                "iss": rp.client_id, "sub": rp.client_id, "aud": aud,
                "jti": conformance_tests::oidc::random(32), "iat": iat, "exp": exp,
            }))
        };
        for (what, client_assertion) in [
            (
                "signed by a key the client never published",
                assertion(&impostor, &token_endpoint, now, now + 60),
            ),
            (
                "for another audience",
                assertion(&key, "https://elders.example/token", now, now + 60),
            ),
            (
                "expired",
                assertion(&key, &token_endpoint, now - 600, now - 300),
            ),
        ] {
            let req = AuthRequest::new(&rp);
            let code = expect_code(server, &req, &req.send(server, &browser));
            let res = Response::send(http::client().post(&token_endpoint).form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", rp.redirect_uri.as_str()),
                (
                    "code_verifier",
                    req.code_verifier.as_deref().expect("verifier"),
                ),
                ("client_id", rp.client_id.as_str()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", client_assertion.as_str()),
            ]));
            assert!(
                [400, 401].contains(&res.status) && res.json()["error"] == "invalid_client",
                "an assertion {what} must be invalid_client, got {} {}",
                res.status,
                res.body
            );
        }
    });
}

/// When the server shows a logout confirmation (a form without login fields), confirm it.
fn confirm_logout(browser: &conformance_tests::Browser, landing: Landing) -> Landing {
    if landing.left_server || landing.status != 200 {
        return landing;
    }
    let page_forms = forms(&landing.body, &landing.url);
    let confirm = page_forms.iter().find(|f| {
        f.method == "post"
            && !f
                .fields
                .iter()
                .any(|(k, _)| k == "email" || k == "password" || k == "pin")
    });
    match confirm {
        Some(f) => browser.post_form(f.action.as_str(), f.fields.clone()),
        None => landing,
    }
}

/// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): an RP-initiated logout with
/// `id_token_hint` ends the session, returns to the registered post-logout URI with `state`,
/// and POSTs a logout token to the client's `backchannel_logout_uri` that verifies with the
/// JWKS and names the same `sub` and `sid` as the ID token.
#[test]
fn backchannel_logout_is_delivered() {
    both_backends(|server| {
        let d = server.discovery();
        assert_eq!(d["backchannel_logout_supported"], true, "discovery");
        let end_session = server.endpoint("end_session_endpoint");
        let listener = Listener::start(|_| Reply::with(200, "text/plain", ""));
        let post_logout = "http://127.0.0.1:8081/bc-rp/logged-out";
        let rp = server.add_rp(
            "bc-rp",
            &[
                "--backchannel-logout-uri",
                &listener.url("/backchannel-logout"),
                "--post-logout-redirect-uri",
                post_logout,
            ],
        );
        let browser = server.browser_as(ANNA);
        let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
        let sid = flow.tokens.claims["sid"]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "the ID token must carry sid when backchannel_logout_session_supported: {}",
                    flow.tokens.claims
                )
            })
            .to_string();

        let state = conformance_tests::oidc::random(24);
        let mut url = Url::parse(&end_session).expect("end_session_endpoint");
        url.query_pairs_mut()
            .append_pair("id_token_hint", &flow.tokens.id_token)
            .append_pair("post_logout_redirect_uri", post_logout)
            .append_pair("client_id", &rp.client_id)
            .append_pair("state", &state);
        let landing = confirm_logout(&browser, browser.get(url.as_str()));
        assert!(
            landing.left_server && landing.url.as_str().starts_with(post_logout),
            "RP-initiated logout must end at the registered post_logout_redirect_uri: {}",
            landing.describe()
        );
        assert_eq!(
            landing.params().get("state"),
            Some(&state),
            "the logout response carries state: {}",
            landing.url
        );

        let req = listener
            .next_request(Duration::from_secs(15))
            .expect("no back-channel logout request within 15 s");
        assert_eq!(req.method, "POST", "back-channel logout is a POST");
        assert!(
            req.target.starts_with("/backchannel-logout"),
            "{}",
            req.target
        );
        assert!(
            req.header("content-type")
                .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")),
            "the logout token comes as a form: {:?}",
            req.header("content-type")
        );
        let form = req.form();
        let token = form
            .iter()
            .find(|(k, _)| k == "logout_token")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no logout_token in {form:?}"));
        let header = jwt::header(&token);
        if let Some(typ) = header.get("typ") {
            assert_eq!(typ, "logout+jwt", "the logout token's typ: {header}");
        }
        let claims = jwt::verify(&token, &server.jwks(), &["RS256", "ES256", "EdDSA"]);
        assert_eq!(claims["iss"], server.issuer, "{claims}");
        let aud_ok = match &claims["aud"] {
            Value::String(a) => a == &rp.client_id,
            Value::Array(a) => a.iter().any(|x| x == &rp.client_id),
            _ => false,
        };
        assert!(aud_ok, "the logout token's aud is the client: {claims}");
        assert!(claims["iat"].is_i64(), "iat: {claims}");
        assert!(claims["jti"].is_string(), "jti: {claims}");
        assert!(
            claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object(),
            "events must hold the back-channel logout event as an object: {claims}"
        );
        assert_eq!(claims["sub"], flow.tokens.sub(), "sub: {claims}");
        assert_eq!(claims["sid"], sid, "sid: {claims}");
        assert!(
            claims.get("nonce").is_none(),
            "a logout token has no nonce: {claims}"
        );

        // The session is gone.
        let req = AuthRequest::new(&rp).set("prompt", "none");
        let landing = req.send(server, &browser);
        expect_auth_error(
            server,
            &req,
            &landing,
            &["login_required", "interaction_required"],
        );
    });
}

fn introspect(server: &Server, rp: &conformance_tests::Rp, token: &str, hint: &str) -> Value {
    let endpoint = server.endpoint("introspection_endpoint");
    Response::send(authenticated(
        rp,
        &endpoint,
        vec![
            ("token".into(), token.into()),
            ("token_type_hint".into(), hint.into()),
        ],
    ))
    .expect_json(200)
}

fn revoke(server: &Server, rp: &conformance_tests::Rp, token: &str, hint: &str) -> Response {
    let endpoint = server.endpoint("revocation_endpoint");
    Response::send(authenticated(
        rp,
        &endpoint,
        vec![
            ("token".into(), token.into()),
            ("token_type_hint".into(), hint.into()),
        ],
    ))
}

fn assert_inactive(v: &Value, what: &str) {
    assert_eq!(v["active"], false, "{what}: {v}");
    for k in ["sub", "client_id", "scope", "exp", "username"] {
        assert!(
            v.get(k).is_none(),
            "{what}: an inactive token's introspection should say nothing more (RFC 7662 \
             §2.2): {v}"
        );
    }
}

/// Token introspection (RFC 7662) and revocation (RFC 7009): only authenticated clients
/// introspect; the owner can revoke its tokens, another client cannot; revoked and unknown
/// tokens are inactive; revoking unknown tokens still answers 200.
#[test]
fn introspection_and_revocation() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let flow = code_flow(
            server,
            &server.browser_as(ANNA),
            &rp,
            AuthRequest::new(&rp).scope("openid email"),
        );
        let at = flow.tokens.access_token.clone();

        let v = introspect(server, &rp, &at, "access_token");
        assert_eq!(v["active"], true, "a fresh access token is active: {v}");
        if let Some(c) = v.get("client_id") {
            assert_eq!(c, &rp.client_id, "{v}");
        }
        if let Some(s) = v.get("sub") {
            assert_eq!(
                s,
                flow.tokens.sub(),
                "introspection's sub is the pairwise one: {v}"
            );
        }
        if let Some(s) = v.get("scope") {
            let s = s.as_str().expect("scope is a string");
            assert!(s.split(' ').any(|x| x == "email"), "scope: {v}");
        }
        if let Some(e) = v.get("exp") {
            assert!(e.as_i64().is_some_and(|e| e > jwt::now()), "exp: {v}");
        }
        if let Some(i) = v.get("iss") {
            assert_eq!(i, &server.issuer, "{v}");
        }
        assert_inactive(
            &introspect(server, &rp, "no-such-token", "access_token"),
            "an unknown token",
        );

        // Introspection needs client authentication (RFC 7662 §2.1).
        let endpoint = server.endpoint("introspection_endpoint");
        let res = Response::send(
            http::client()
                .post(&endpoint)
                .form(&[("token", at.as_str())]),
        );
        res.expect_oauth_error(&[400, 401], "invalid_client");
        let wrong = conformance_tests::Rp {
            client_secret: Some("not-the-secret".into()),
            ..rp.clone()
        };
        Response::send(authenticated(
            &wrong,
            &endpoint,
            vec![("token".into(), at.clone())],
        ))
        .expect_oauth_error(&[400, 401], "invalid_client");

        // Another client cannot revoke this client's token (RFC 7009 §2.1).
        let other = server.add_rp("revoker", &[]);
        let _ = revoke(server, &other, &at, "access_token");
        assert_eq!(
            introspect(server, &rp, &at, "access_token")["active"],
            true,
            "another client revoked this client's access token"
        );
        let _ = userinfo(server, &flow.tokens);

        // Revocation without client authentication is refused.
        let rev_endpoint = server.endpoint("revocation_endpoint");
        Response::send(
            http::client()
                .post(&rev_endpoint)
                .form(&[("token", at.as_str())]),
        )
        .expect_oauth_error(&[400, 401], "invalid_client");

        // The owner revokes it.
        let res = revoke(server, &rp, &at, "access_token");
        assert_eq!(res.status, 200, "revocation: {} {}", res.status, res.body);
        assert_inactive(
            &introspect(server, &rp, &at, "access_token"),
            "a revoked token",
        );
        let res = userinfo_request(server, &at, UserinfoStyle::Get);
        assert_eq!(
            res.status, 401,
            "userinfo with a revoked token: {}",
            res.body
        );

        // Unknown and already revoked tokens: still 200 (RFC 7009 §2.2).
        for t in [at.as_str(), "no-such-token"] {
            let res = revoke(server, &rp, t, "access_token");
            assert_eq!(
                res.status, 200,
                "revoking {t:?}: {} {}",
                res.status, res.body
            );
        }

        // Revoking a refresh token ends the refresh grant. (Revoking the access token above
        // MAY have revoked its refresh token too, RFC 7009 §2.1: take a fresh grant.)
        let flow = code_flow(server, &server.browser_as(ANNA), &rp, AuthRequest::new(&rp));
        if let Some(rt) = &flow.tokens.refresh_token {
            assert_eq!(
                introspect(server, &rp, rt, "refresh_token")["active"],
                true,
                "a fresh refresh token is active"
            );
            let res = revoke(server, &rp, rt, "refresh_token");
            assert_eq!(res.status, 200, "revoking the refresh token: {}", res.body);
            refresh(server, &rp, rt).expect_oauth_error(&[400], "invalid_grant");
            assert_inactive(
                &introspect(server, &rp, rt, "refresh_token"),
                "a revoked refresh token",
            );
        }
    });
}
