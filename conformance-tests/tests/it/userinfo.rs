//! The userinfo endpoint (OIDC Core §5.3) with the three ways to present a bearer token
//! (RFC 6750 §2).

use conformance_tests::oidc::{assert_leerpoort_claims, userinfo_request, userinfo_with};
use conformance_tests::{both_backends, code_flow, AuthRequest, Server, UserinfoStyle, ANNA};

fn userinfo_test(server: &Server, style: UserinfoStyle) {
    let rp = server.demo_rp();
    let flow = code_flow(server, &server.browser_as(ANNA), &rp, AuthRequest::new(&rp));
    // userinfo_with checks status, JSON and that sub is the ID token's.
    let info = userinfo_with(server, &flow.tokens, style);
    assert_leerpoort_claims(
        server,
        &info,
        "leerkracht",
        &format!("userinfo ({style:?})"),
    );
}

/// `oidcc-userinfo-get`: GET with `Authorization: Bearer`. Without a token, or with a wrong
/// one, the answer is 401 with a Bearer challenge (RFC 6750 §3).
#[test]
fn oidcc_userinfo_get() {
    both_backends(|server| {
        userinfo_test(server, UserinfoStyle::Get);

        let endpoint = server.endpoint("userinfo_endpoint");
        let res =
            conformance_tests::Response::send(conformance_tests::http::client().get(&endpoint));
        assert_eq!(res.status, 401, "userinfo without a token: {}", res.body);
        let challenge = res.header("www-authenticate").unwrap_or("");
        assert!(
            challenge.to_ascii_lowercase().starts_with("bearer"),
            "a 401 from userinfo needs WWW-Authenticate: Bearer (RFC 6750 §3), got {challenge:?}"
        );

        let res = userinfo_request(server, "not-a-token", UserinfoStyle::Get);
        assert_eq!(res.status, 401, "userinfo with a wrong token: {}", res.body);
        let challenge = res.header("www-authenticate").unwrap_or("");
        assert!(
            challenge.contains("invalid_token"),
            "a wrong token is error=\"invalid_token\" (RFC 6750 §3.1), got {challenge:?}"
        );
    });
}

/// `oidcc-userinfo-post-header`: POST with `Authorization: Bearer`.
#[test]
fn oidcc_userinfo_post_header() {
    both_backends(|server| userinfo_test(server, UserinfoStyle::PostHeader));
}

/// `oidcc-userinfo-post-body`: POST with `access_token` in the form body (RFC 6750 §2.2).
#[test]
fn oidcc_userinfo_post_body() {
    both_backends(|server| userinfo_test(server, UserinfoStyle::PostBody));
}
