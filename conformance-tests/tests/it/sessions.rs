//! The single sign-on session and the parameters that steer it: `prompt`, `max_age`,
//! `id_token_hint` (OIDC Core §3.1.2.1).

use std::time::Duration;

use conformance_tests::oidc::{expect_auth_error, random};
use conformance_tests::{both_backends, code_flow, jwt, AuthRequest, Flow, Server, ANNA};

/// The errors that say "the user would have to interact" (OIDC Core §3.1.2.6).
const INTERACTION_ERRORS: [&str; 4] = [
    "login_required",
    "interaction_required",
    "consent_required",
    "account_selection_required",
];

/// A first sign-in at the demo publisher, with a browser that signs Anna in when asked.
fn first_sign_in(server: &Server) -> (conformance_tests::Browser, Flow) {
    let rp = server.demo_rp();
    let browser = server.browser_as(ANNA);
    let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
    assert_eq!(flow.landing.login_forms, 1, "{}", flow.landing.describe());
    (browser, flow)
}

/// `oidcc-prompt-login`: a second request with `prompt=login` makes the server ask the user
/// to sign in again; a new `auth_time` follows.
#[test]
fn oidcc_prompt_login() {
    both_backends(|server| {
        let (browser, first) = first_sign_in(server);
        // auth_time counts whole seconds: let the second sign-in fall in a later second.
        std::thread::sleep(Duration::from_millis(1100));
        let rp = server.demo_rp();
        let second = code_flow(
            server,
            &browser,
            &rp,
            AuthRequest::new(&rp).set("prompt", "login"),
        );
        assert_eq!(
            second.landing.login_forms,
            1,
            "prompt=login must make the server ask the user to sign in again: {}",
            second.landing.describe()
        );
        assert_eq!(second.tokens.sub(), first.tokens.sub());
        if let (Some(a), Some(b)) = (first.tokens.auth_time(), second.tokens.auth_time()) {
            assert!(
                b > a,
                "auth_time must differ after a new sign-in: first {a}, second {b}"
            );
        }
    });
}

/// `oidcc-prompt-none-not-logged-in`: `prompt=none` without a session ends at the redirect
/// URI with an error that asks for interaction, the long state unharmed, no login page.
#[test]
fn oidcc_prompt_none_not_logged_in() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let req = AuthRequest::new(&rp)
            .set("prompt", "none")
            .set("state", &random(128));
        let landing = req.send(server, &server.browser());
        assert!(
            !landing.stopped_at_login,
            "prompt=none must never show the login form: {}",
            landing.describe()
        );
        expect_auth_error(server, &req, &landing, &INTERACTION_ERRORS);
    });
}

/// `oidcc-prompt-none-logged-in`: with a session, `prompt=none` succeeds without interaction;
/// same `sub`, same `auth_time`.
#[test]
fn oidcc_prompt_none_logged_in() {
    both_backends(|server| {
        let (browser, first) = first_sign_in(server);
        let rp = server.demo_rp();
        let second = code_flow(
            server,
            &browser,
            &rp,
            AuthRequest::new(&rp).set("prompt", "none"),
        );
        assert_eq!(
            second.landing.login_forms,
            0,
            "{}",
            second.landing.describe()
        );
        assert_eq!(second.tokens.sub(), first.tokens.sub());
        if let (Some(a), Some(b)) = (first.tokens.auth_time(), second.tokens.auth_time()) {
            assert_eq!(a, b, "no new sign-in, so the same auth_time");
        }
    });
}

/// `oidcc-max-age-1`: two seconds after signing in, `max_age=1` makes the server ask again,
/// and the ID token carries a new, recent `auth_time` (required with `max_age`).
#[test]
fn oidcc_max_age_1() {
    both_backends(|server| {
        let (browser, first) = first_sign_in(server);
        // As the suite does: wait two seconds, because auth_time counts whole seconds.
        std::thread::sleep(Duration::from_secs(2));
        let rp = server.demo_rp();
        let second = code_flow(
            server,
            &browser,
            &rp,
            AuthRequest::new(&rp).set("max_age", "1"),
        );
        assert_eq!(
            second.landing.login_forms,
            1,
            "the session is older than max_age=1, so the user must sign in again: {}",
            second.landing.describe()
        );
        let at = second.tokens.auth_time().unwrap_or_else(|| {
            panic!(
                "auth_time is required when max_age was requested (OIDC Core §2): {}",
                second.tokens.claims
            )
        });
        if let Some(before) = first.tokens.auth_time() {
            assert!(at > before, "auth_time must be later: {before} then {at}");
        }
        let now = jwt::now();
        assert!(
            now - at <= 10,
            "auth_time {at} must be the new sign-in (now {now})"
        );
    });
}

/// `oidcc-max-age-10000`: a session younger than `max_age=10000` is used without signing in
/// again; `auth_time` is required and is the first sign-in's.
#[test]
fn oidcc_max_age_10000() {
    both_backends(|server| {
        let started = jwt::now();
        let (browser, first) = first_sign_in(server);
        let rp = server.demo_rp();
        let second = code_flow(
            server,
            &browser,
            &rp,
            AuthRequest::new(&rp).set("max_age", "10000"),
        );
        assert_eq!(
            second.landing.login_forms,
            0,
            "{}",
            second.landing.describe()
        );
        let at = second.tokens.auth_time().unwrap_or_else(|| {
            panic!(
                "auth_time is required when max_age was requested (OIDC Core §2): {}",
                second.tokens.claims
            )
        });
        assert!(
            at >= started - 1 && at <= jwt::now(),
            "auth_time {at} must be the first sign-in's (started at {started})"
        );
        if let Some(a) = first.tokens.auth_time() {
            assert_eq!(a, at, "the same sign-in, so the same auth_time");
        }
    });
}

/// `oidcc-id-token-hint`: `prompt=none` with the first ID token as `id_token_hint` succeeds
/// at once; `sub` (and `auth_time`, if present) match the first.
#[test]
fn oidcc_id_token_hint() {
    both_backends(|server| {
        let (browser, first) = first_sign_in(server);
        let rp = server.demo_rp();
        let second = code_flow(
            server,
            &browser,
            &rp,
            AuthRequest::new(&rp)
                .set("prompt", "none")
                .set("id_token_hint", &first.tokens.id_token),
        );
        assert_eq!(
            second.landing.login_forms,
            0,
            "{}",
            second.landing.describe()
        );
        assert_eq!(second.tokens.sub(), first.tokens.sub());
        if let (Some(a), Some(b)) = (first.tokens.auth_time(), second.tokens.auth_time()) {
            assert_eq!(a, b, "no new sign-in, so the same auth_time");
        }
    });
}
