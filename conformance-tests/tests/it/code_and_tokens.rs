//! Authorization codes are single-use; refresh tokens are bound to their client.

use std::time::Duration;

use conformance_tests::oidc::{
    exchange, refresh, userinfo, userinfo_request, validate_id_token_with, NonceCheck,
};
use conformance_tests::{both_backends, code_flow, AuthRequest, Server, UserinfoStyle, ANNA};

/// Use a code, wait `wait`, use it again: `invalid_grant` with status 400 (RFC 6749 §5.2), and
/// the tokens issued for the code are revoked (RFC 6749 §4.1.2, §10.5 — the suite warns
/// when they are not; Leerpoort promises it).
fn code_reuse(server: &Server, wait: Duration) {
    let rp = server.demo_rp();
    let flow = code_flow(server, &server.browser_as(ANNA), &rp, AuthRequest::new(&rp));
    std::thread::sleep(wait);
    exchange(
        server,
        &rp,
        &flow.code,
        flow.request.code_verifier.as_deref(),
    )
    .expect_oauth_error(&[400], "invalid_grant");
    let res = userinfo_request(server, &flow.tokens.access_token, UserinfoStyle::Get);
    assert_eq!(
        res.status, 401,
        "after a code was used twice, the access token issued for it must be revoked \
         (RFC 6749 §4.1.2, §10.5); userinfo answered {} {}",
        res.status, res.body
    );
    if let Some(rt) = &flow.tokens.refresh_token {
        refresh(server, &rp, rt).expect_oauth_error(&[400], "invalid_grant");
    }
}

/// `oidcc-codereuse`: a code used a second time at once.
#[test]
fn oidcc_codereuse() {
    both_backends(|server| code_reuse(server, Duration::ZERO));
}

/// `oidcc-codereuse-30seconds`: a code used a second time after 30 seconds.
#[test]
fn oidcc_codereuse_30seconds() {
    both_backends(|server| code_reuse(server, Duration::from_secs(30)));
}

/// `oidcc-refresh-token`: a refresh token (when the server issues them, which its discovery
/// must then say) gives a new access token and a consistent ID token (OIDC Core §12.2), and
/// is bound to its client: another client cannot use it.
#[test]
fn oidcc_refresh_token() {
    both_backends(|server| {
        let d = server.discovery();
        let listed = |field: &str, v: &str| {
            d[field]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == v))
        };
        let advertised = listed("grant_types_supported", "refresh_token");
        let offline = listed("scopes_supported", "offline_access");
        let rp = server.demo_rp();
        let browser = server.browser_as(ANNA);
        let request = |rp: &conformance_tests::Rp| {
            if offline {
                // OIDC Core §11: offline access asks for consent.
                AuthRequest::new(rp)
                    .scope("openid offline_access")
                    .set("prompt", "consent")
            } else {
                AuthRequest::new(rp)
            }
        };
        let flow = code_flow(server, &browser, &rp, request(&rp));
        let Some(rt) = flow.tokens.refresh_token.clone() else {
            assert!(
                !advertised,
                "discovery lists the refresh_token grant, but no refresh token was issued"
            );
            eprintln!("oidcc_refresh_token: skipped, the server issues no refresh tokens");
            return;
        };
        assert!(
            advertised,
            "a refresh token was issued, but grant_types_supported does not list refresh_token"
        );
        assert!(
            rt.chars().all(|c| (' '..='~').contains(&c)),
            "a refresh token is VSCHAR only (RFC 6749 Appendix A.17): {rt:?}"
        );

        let res = refresh(server, &rp, &rt);
        let body = res.expect_json(200);
        assert!(
            res.header("cache-control")
                .unwrap_or("")
                .contains("no-store"),
            "a token response must have Cache-Control: no-store"
        );
        assert!(
            body["token_type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
            "token_type: {body}"
        );
        let access_token = body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token from the refresh: {body}"))
            .to_string();
        if let Some(id) = body["id_token"].as_str() {
            let nonce = flow.request.nonce.as_deref().expect("nonce");
            let (_, c) = validate_id_token_with(server, &rp, id, NonceCheck::AbsentOr(nonce));
            let first = &flow.tokens.claims;
            for k in ["iss", "sub", "aud"] {
                assert_eq!(
                    c[k], first[k],
                    "a refreshed ID token keeps {k} (OIDC Core §12.2)"
                );
            }
            assert_eq!(
                c.get("auth_time"),
                first.get("auth_time"),
                "a refreshed ID token keeps the original auth_time (OIDC Core §12.2)"
            );
            assert_eq!(
                c.get("azp"),
                first.get("azp"),
                "a refreshed ID token keeps azp as it was (OIDC Core §12.2)"
            );
        }
        let mut refreshed = flow.tokens.clone();
        refreshed.access_token = access_token;
        let _ = userinfo(server, &refreshed);

        // A refresh token of another client.
        let other = server.add_rp("refresh-second", &[]);
        let second = code_flow(server, &browser, &other, request(&other));
        let other_rt = second
            .tokens
            .refresh_token
            .clone()
            .expect("the second client gets a refresh token as well");
        refresh(server, &rp, &other_rt).expect_oauth_error(&[400], "invalid_grant");
    });
}
