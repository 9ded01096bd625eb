//! Offboarding (docs/operations.md): `leerpoort user disable` ends a user's sessions, codes and refresh
//! tokens, offline ones too, at once — run as a separate process against the running server,
//! so nothing is shared with the server but the database (and the store).

use conformance_tests::oidc::{refresh, userinfo_request};
use conformance_tests::{both_backends, code_flow, AuthRequest, Server, UserinfoStyle, ANNA};

fn anna_id(server: &Server) -> String {
    server.demo["staff"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["email"] == ANNA))
        .and_then(|s| s["user_id"].as_str())
        .expect("Anna's user id")
        .to_string()
}

#[test]
fn a_disabled_user_loses_sessions_and_offline_tokens_at_once() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let anna = anna_id(server);
        let browser = server.browser_as(ANNA);
        let flow = code_flow(
            server,
            &browser,
            &rp,
            AuthRequest::new(&rp)
                .scope("openid offline_access")
                .set("prompt", "consent"),
        );
        let rt = flow.tokens.refresh_token.clone().expect("a refresh token");
        assert!(
            flow.tokens.response["scope"]
                .as_str()
                .is_some_and(|s| s.split(' ').any(|x| x == "offline_access")),
            "the demo publisher may have offline access: {}",
            flow.tokens.response
        );
        let logins = browser.logins();

        let out = server.cli(&["user", "disable", "--user", &anna]);
        assert_eq!(out["status"], "disabled");

        // The open session no longer authorizes: the browser is asked to sign in again, and
        // that sign-in is refused.
        let req = AuthRequest::new(&rp);
        let landing = req.send(server, &browser);
        assert!(
            !landing.left_server && landing.stopped_at_login,
            "a disabled user's session must not authorize: {}",
            landing.describe()
        );
        assert!(browser.logins() > logins, "the session was not used");
        // The offline refresh token is refused, and so is the access token at userinfo.
        refresh(server, &rp, &rt).expect_oauth_error(&[400], "invalid_grant");
        let res = userinfo_request(server, &flow.tokens.access_token, UserinfoStyle::Get);
        assert_eq!(
            res.status, 401,
            "userinfo for a disabled user: {}",
            res.body
        );
        // A new password sign-in in a new browser is refused too.
        let fresh = server.browser_as(ANNA);
        let landing = AuthRequest::new(&rp).send(server, &fresh);
        assert!(
            !landing.left_server && landing.stopped_at_login,
            "a disabled user must not sign in: {}",
            landing.describe()
        );

        // Enabled again: a new sign-in works; what was issued before stays void.
        let out = server.cli(&["user", "enable", "--user", &anna]);
        assert_eq!(out["status"], "active");
        let again = code_flow(server, &server.browser_as(ANNA), &rp, AuthRequest::new(&rp));
        assert!(!again.tokens.access_token.is_empty());
        let res = userinfo_request(server, &flow.tokens.access_token, UserinfoStyle::Get);
        assert_eq!(
            res.status, 401,
            "the old access token stays void: {}",
            res.body
        );
    });
}

/// A publisher that the operator did not allow `offline_access` gets no offline token: the
/// scope is dropped, and its refresh token ends with the session.
#[test]
fn offline_access_needs_the_operators_permission() {
    both_backends(|server| {
        let rp = server.add_rp("zonder-offline", &["--sector", "zonder-offline.example"]);
        let flow = code_flow(
            server,
            &server.browser_as(ANNA),
            &rp,
            AuthRequest::new(&rp)
                .scope("openid offline_access")
                .set("prompt", "consent"),
        );
        let scope = flow.tokens.response["scope"].as_str().unwrap_or_default();
        assert!(
            !scope.split(' ').any(|x| x == "offline_access"),
            "offline_access granted without permission: {scope}"
        );
    });
}
