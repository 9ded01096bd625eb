//! The code flow end to end, as the Basic OP plan's happy-path modules run it.

use conformance_tests::oidc::{
    assert_leerpoort_claims, exchange, expect_auth_error, expect_code, userinfo,
};
use conformance_tests::{
    both_backends, code_flow, http, jwt, AuthRequest, ClientAuth, UserinfoStyle, ANNA,
};
use openidconnect::core::{CoreAuthenticationFlow, CoreUserInfoClaims};
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge,
    TokenResponse as _,
};

/// `oidcc-server`: the plain code flow. First as a Rust relying party library does it
/// (`openidconnect`: discovery, PKCE, token, ID token verification, userinfo), then by hand
/// with every check the suite makes on the authorization, token and userinfo responses.
#[test]
fn oidcc_server() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let browser = server.browser_as(ANNA);

        // 1. openidconnect.
        let client = server.openid_client(&rp);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .url();
        let landing = browser.get(url.as_str());
        assert_eq!(
            landing.login_forms,
            1,
            "a browser without a session must be asked to sign in once; {}",
            landing.describe()
        );
        assert!(landing.left_server, "{}", landing.describe());
        let params = landing.params();
        assert_eq!(params.get("state"), Some(csrf.secret()), "{}", landing.url);
        let code = params
            .get("code")
            .unwrap_or_else(|| panic!("no code: {}", landing.url));
        let http = http::client();
        let token_response = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .expect("discovery has a token endpoint")
            .set_pkce_verifier(verifier)
            .request(&http)
            .unwrap_or_else(|e| panic!("openidconnect: token request failed: {e:?}"));
        let id_token = token_response
            .id_token()
            .expect("openidconnect: the token response has an id_token");
        let claims = id_token
            .claims(&client.id_token_verifier(), &nonce)
            .unwrap_or_else(|e| panic!("openidconnect rejects the ID token: {e:?}"));
        let info: CoreUserInfoClaims = client
            .user_info(
                token_response.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .expect("discovery has a userinfo endpoint")
            .request(&http)
            .unwrap_or_else(|e| panic!("openidconnect: userinfo failed: {e:?}"));
        assert_eq!(info.subject(), claims.subject());

        // 2. By hand, with the single sign-on session from step 1.
        let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
        assert_eq!(
            flow.landing.login_forms, 0,
            "the session from the first sign-in must be used (single sign-on)"
        );
        assert_eq!(
            flow.tokens.sub(),
            claims.subject().as_str(),
            "the same user at the same relying party must get the same sub"
        );
        let info = userinfo(server, &flow.tokens);
        assert_leerpoort_claims(server, &flow.tokens.claims, "leerkracht", "ID token");
        assert_leerpoort_claims(server, &info, "leerkracht", "userinfo");
        for c in ["email", "given_name", "family_name", "name", "groups"] {
            assert!(
                info.get(c).is_none() && flow.tokens.claims.get(c).is_none(),
                "scope openid alone must not release {c} (docs/integrate-oidc.md): userinfo {info}, \
                 ID token {}",
                flow.tokens.claims
            );
        }

        // A JWT access token must be one the JWKS verifies, from this issuer.
        if jwt::is_jws(&flow.tokens.access_token) {
            let c = jwt::verify(
                &flow.tokens.access_token,
                &server.jwks(),
                &["RS256", "ES256", "EdDSA"],
            );
            assert_eq!(c["iss"], server.issuer, "access token iss: {c}");
            assert!(
                c["exp"].as_i64().is_some_and(|e| e > jwt::now()),
                "access token exp: {c}"
            );
        }
    });
}

/// `oidcc-idtoken-signature`: ID tokens are signed with the client's registered algorithm by a
/// key in the JWKS — RS256 for the demo client, ES256 and EdDSA for clients that ask.
#[test]
fn oidcc_idtoken_signature() {
    both_backends(|server| {
        let browser = server.browser_as(ANNA);
        for alg in ["RS256", "ES256", "EdDSA"] {
            let rp = if alg == "RS256" {
                server.demo_rp()
            } else {
                server.add_rp(&format!("sig-{alg}"), &["--id-token-alg", alg])
            };
            // code_flow verifies the signature with openidconnect and jsonwebtoken.
            let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
            let h = &flow.tokens.header;
            assert_eq!(h["alg"], alg, "header {h}");
            let kid = h["kid"].as_str().expect("kid");
            let jwks = server.jwks();
            let key = jwks["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .find(|k| k["kid"] == kid)
                .unwrap_or_else(|| panic!("kid {kid} not in the JWKS"))
                .clone();
            let (kty, crv) = match alg {
                "RS256" => ("RSA", None),
                "ES256" => ("EC", Some("P-256")),
                _ => ("OKP", Some("Ed25519")),
            };
            assert_eq!(key["kty"], kty, "{alg} key {key}");
            if let Some(crv) = crv {
                assert_eq!(key["crv"], crv, "{alg} key {key}");
            }
            if let Some(a) = key.get("alg") {
                assert_eq!(a, alg, "the key's alg: {key}");
            }
            if let Some(t) = h.get("typ") {
                assert!(
                    t == "JWT" || t == "jwt",
                    "an ID token's typ, when present, is JWT: {h}"
                );
            }
            // A token altered after signing must not verify (a check on the checker).
            let mut parts: Vec<String> = flow
                .tokens
                .id_token
                .split('.')
                .map(str::to_string)
                .collect();
            let mut claims = flow.tokens.claims.clone();
            claims["sub"] = serde_json::json!("someone-else");
            parts[1] = jwt::b64(claims.to_string().as_bytes());
            let forged = parts.join(".");
            assert!(
                jwt::try_verify(&forged, &jwks, &[alg]).is_err(),
                "a forged {alg} ID token verified"
            );
        }
    });
}

/// `oidcc-ensure-request-without-nonce-succeeds-for-code-flow`: nonce is optional in the code
/// flow; the ID token then carries none.
#[test]
fn oidcc_ensure_request_without_nonce_succeeds_for_code_flow() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let flow = code_flow(
            server,
            &server.browser_as(ANNA),
            &rp,
            AuthRequest::new(&rp).remove("nonce"),
        );
        assert!(flow.tokens.claims.get("nonce").is_none());
    });
}

/// `oidcc-alternate-happy-flow`: scope values reversed and the query parameters in another
/// order (RFC 6749 §3.3: their order does not matter). The suite bases it on
/// `oidcc-scope-email`; here the second scope is `groups`, which the demo registration
/// releases, so that its claim shows the scope was read whatever the order.
#[test]
fn oidcc_alternate_happy_flow() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let mut req = AuthRequest::new(&rp).scope("groups openid");
        req.params.reverse();
        let flow = code_flow(server, &server.browser_as(ANNA), &rp, req);
        let info = userinfo(server, &flow.tokens);
        assert!(
            info["groups"].is_array(),
            "scope groups (listed first): {info}"
        );
    });
}

/// `oidcc-ensure-post-request-succeeds`: the authorization request as a form POST (OIDC Core
/// §3.1.2.1), kept across the sign-in.
#[test]
fn oidcc_ensure_post_request_succeeds() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let req = AuthRequest::new(&rp).scope("openid groups").post();
        let flow = code_flow(server, &server.browser_as(ANNA), &rp, req);
        assert_eq!(flow.landing.login_forms, 1, "{}", flow.landing.describe());
        let info = userinfo(server, &flow.tokens);
        assert!(
            info["groups"].is_array(),
            "the POSTed request's scope (openid groups) must survive the sign-in: {info}"
        );
    });
}

/// `oidcc-server-client-secret-post`: the code flow with `client_secret_post`; a wrong or
/// missing secret is `invalid_client`.
#[test]
fn oidcc_server_client_secret_post() {
    both_backends(|server| {
        let methods = server.discovery()["token_endpoint_auth_methods_supported"].clone();
        assert!(
            methods
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == "client_secret_post")),
            "token_endpoint_auth_methods_supported: {methods}"
        );
        let rp = server.demo_rp().with_auth(ClientAuth::SecretPost);
        let browser = server.browser_as(ANNA);
        let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
        let _ = userinfo(server, &flow.tokens);

        // A wrong or missing secret is invalid_client (RFC 6749 §5.2); with Basic
        // authentication the 401 names the scheme in WWW-Authenticate.
        let wrong = conformance_tests::Rp {
            client_secret: Some("not-the-secret".into()),
            ..rp.clone()
        };
        for (what, bad) in [
            ("a wrong secret (post)", wrong.clone()),
            (
                "a wrong secret (basic)",
                wrong.with_auth(ClientAuth::SecretBasic),
            ),
            ("no authentication", rp.clone().with_auth(ClientAuth::None)),
        ] {
            let req = AuthRequest::new(&rp);
            let landing = req.send(server, &browser);
            let code = expect_code(server, &req, &landing);
            let res = exchange(server, &bad, &code, req.code_verifier.as_deref());
            let body = res.expect_oauth_error(&[400, 401], "invalid_client");
            if matches!(bad.auth, ClientAuth::SecretBasic) {
                assert_eq!(res.status, 401, "{what}: {body}");
                assert!(
                    res.header("www-authenticate")
                        .is_some_and(|h| h.to_ascii_lowercase().starts_with("basic")),
                    "{what}: a 401 after Basic authentication needs WWW-Authenticate: Basic \
                     (RFC 6749 §5.2): {:?}",
                    res.header("www-authenticate")
                );
            }
        }
    });
}

/// `oidcc-ensure-request-with-valid-pkce-succeeds`: S256 PKCE (RFC 7636) works; and what PKCE
/// is for: a wrong or missing verifier is refused, `plain` is not offered.
#[test]
fn oidcc_ensure_request_with_valid_pkce_succeeds() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let browser = server.browser_as(ANNA);
        let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
        let _ = conformance_tests::oidc::userinfo_with(server, &flow.tokens, UserinfoStyle::Get);

        // A wrong verifier (RFC 7636 §4.6: invalid_grant).
        let req = AuthRequest::new(&rp);
        let code = expect_code(server, &req, &req.send(server, &browser));
        exchange(
            server,
            &rp,
            &code,
            Some(&conformance_tests::oidc::random(64)),
        )
        .expect_oauth_error(&[400], "invalid_grant");

        // No verifier although the code is bound to a challenge.
        let req = AuthRequest::new(&rp);
        let code = expect_code(server, &req, &req.send(server, &browser));
        let res = exchange(server, &rp, &code, None);
        assert_eq!(res.status, 400, "{}: {}", res.request, res.body);
        let err = res.json()["error"].clone();
        assert!(
            err == "invalid_grant" || err == "invalid_request",
            "a missing code_verifier: expected invalid_grant or invalid_request, got {}",
            res.body
        );

        // plain is not supported: invalid_request (RFC 7636 §4.4.1).
        let verifier = conformance_tests::oidc::random(64);
        let req = AuthRequest::new(&rp)
            .set("code_challenge", &verifier)
            .set("code_challenge_method", "plain");
        let landing = req.send(server, &browser);
        expect_auth_error(server, &req, &landing, &["invalid_request"]);
    });
}
