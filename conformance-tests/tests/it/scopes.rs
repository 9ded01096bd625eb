//! Scopes and the claims they release (OIDC Core §5.4), under Leerpoort's release policy: names
//! only when the school's registration releases them, e-mail for staff only, groups under
//! scope `groups`.

use conformance_tests::oidc::{assert_leerpoort_claims, userinfo};
use conformance_tests::{both_backends, code_flow, AuthRequest, Server, ANNA};
use serde_json::Value;

const NAMES: [&str; 3] = ["given_name", "family_name", "name"];

fn register(server: &Server, release_names: bool) {
    let school = server.school_ref();
    let rp = server.demo_rp();
    let mut args = vec!["register", "--school", &school, "--rp", &rp.client_id];
    if release_names {
        args.push("--release-names");
    }
    server.cli(&args);
}

fn assert_names(info: &Value) {
    assert_eq!(info["given_name"], "Anna", "given_name: {info}");
    assert_eq!(info["family_name"], "de Vries", "family_name: {info}");
    let name = info["name"].as_str().unwrap_or("");
    assert!(
        name.contains("Anna") && name.contains("de Vries"),
        "name must be the full name: {info}"
    );
}

/// `oidcc-scope-profile`: scope `profile` returns the names — when the school releases them —
/// and nothing of them when it does not.
#[test]
fn oidcc_scope_profile() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let browser = server.browser_as(ANNA);

        register(server, true);
        let flow = code_flow(
            server,
            &browser,
            &rp,
            AuthRequest::new(&rp).scope("openid profile"),
        );
        let info = userinfo(server, &flow.tokens);
        assert_names(&info);

        register(server, false);
        let flow = code_flow(
            server,
            &browser,
            &rp,
            AuthRequest::new(&rp).scope("openid profile"),
        );
        let info = userinfo(server, &flow.tokens);
        for c in NAMES {
            assert!(
                info.get(c).is_none() && flow.tokens.claims.get(c).is_none(),
                "the registration does not release names, yet {c} was released: userinfo \
                 {info}, ID token {}",
                flow.tokens.claims
            );
        }
    });
}

/// `oidcc-scope-email`: scope `email` returns a staff member's address — docs/integrate-oidc.md ties it
/// to the scope and to staff, not to the release of names — and without the scope there is
/// none.
#[test]
fn oidcc_scope_email() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let browser = server.browser_as(ANNA);
        for release_names in [true, false] {
            register(server, release_names);
            let flow = code_flow(
                server,
                &browser,
                &rp,
                AuthRequest::new(&rp).scope("openid email"),
            );
            let info = userinfo(server, &flow.tokens);
            assert_eq!(
                info["email"],
                ANNA,
                "scope email, a staff member, names {}released: the e-mail address must come \
                 (docs/integrate-oidc.md: `email` | scope `email`, staff only): {info}",
                if release_names { "" } else { "not " }
            );
            if let Some(v) = info.get("email_verified") {
                assert!(v.is_boolean(), "email_verified must be a boolean: {info}");
            }
        }

        let flow = code_flow(server, &browser, &rp, AuthRequest::new(&rp));
        let info = userinfo(server, &flow.tokens);
        assert!(
            info.get("email").is_none() && flow.tokens.claims.get("email").is_none(),
            "no scope email, yet an e-mail address: {info}"
        );
    });
}

/// `oidcc-scope-all`: every scope at once (those of `profile email address phone` that
/// discovery lists, plus Leerpoort's `groups`): names, e-mail, groups and Leerpoort's claims.
#[test]
fn oidcc_scope_all() {
    both_backends(|server| {
        register(server, true);
        let supported = server.discovery()["scopes_supported"].clone();
        let mut scope = vec!["openid", "profile", "email", "groups"];
        for s in ["address", "phone"] {
            if supported
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == s))
            {
                scope.push(s);
            }
        }
        let rp = server.demo_rp();
        let flow = code_flow(
            server,
            &server.browser_as(ANNA),
            &rp,
            AuthRequest::new(&rp).scope(&scope.join(" ")),
        );
        let info = userinfo(server, &flow.tokens);
        assert_names(&info);
        assert_eq!(info["email"], ANNA, "{info}");
        assert_leerpoort_claims(server, &info, "leerkracht", "userinfo");
        assert_leerpoort_claims(server, &flow.tokens.claims, "leerkracht", "ID token");
        for (what, claims) in [("userinfo", &info), ("ID token", &flow.tokens.claims)] {
            let groups = claims["groups"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: scope groups must release groups: {claims}"));
            assert_eq!(
                groups.len(),
                1,
                "{what}: Anna is in groep 3A only: {claims}"
            );
            let g = &groups[0];
            assert_eq!(g["key"], "groep-3a", "{what}: group key: {g}");
            assert_eq!(g["name"], "Groep 3A", "{what}: group name: {g}");
            assert!(
                g["jaargroep"] == 3 || g["jaargroep"] == "3",
                "{what}: jaargroep: {g}"
            );
        }
    });
}

/// `oidcc-claims-essential`: `name` requested as an essential userinfo claim through the
/// `claims` parameter (OIDC Core §5.5); the request must succeed (the suite only warns when
/// the name does not come). Leerpoort's release policy still decides: when the school does not
/// release names, no name comes, essential or not, even with scope `profile`.
#[test]
fn oidcc_claims_essential() {
    both_backends(|server| {
        let rp = server.demo_rp();
        let browser = server.browser_as(ANNA);
        let claims = r#"{"userinfo":{"name":{"essential":true}}}"#;

        register(server, true);
        let flow = code_flow(
            server,
            &browser,
            &rp,
            AuthRequest::new(&rp).set("claims", claims),
        );
        let _ = userinfo(server, &flow.tokens);

        register(server, false);
        let flow = code_flow(
            server,
            &browser,
            &rp,
            AuthRequest::new(&rp)
                .scope("openid profile")
                .set("claims", claims),
        );
        let info = userinfo(server, &flow.tokens);
        assert!(
            info.get("name").is_none() && flow.tokens.claims.get("name").is_none(),
            "an essential claim must not override the school's release policy: {info}"
        );
    });
}
