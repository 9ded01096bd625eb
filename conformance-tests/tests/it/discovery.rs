//! Discovery (OpenID Connect Discovery 1.0) and the JWKS it points at.

use conformance_tests::http::{self, Response};
use conformance_tests::{both_backends, Server};
use serde_json::Value;
use url::Url;

fn strings<'a>(d: &'a Value, name: &str) -> Vec<&'a str> {
    d[name]
        .as_array()
        .unwrap_or_else(|| panic!("discovery: {name} must be a JSON array: {}", d[name]))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("discovery: {name} must hold strings: {v}"))
        })
        .collect()
}

fn assert_endpoint(server: &Server, d: &Value, name: &str) {
    let s = d[name]
        .as_str()
        .unwrap_or_else(|| panic!("discovery: {name} is required: {d}"));
    let u = Url::parse(s).unwrap_or_else(|e| panic!("discovery: {name} {s:?} is no URL: {e}"));
    let issuer = Url::parse(&server.issuer).expect("issuer");
    // The suite requires https; on loopback the server is configured with an http issuer, so
    // the check here is that every endpoint lives on the issuer's own origin and scheme.
    assert_eq!(
        u.origin(),
        issuer.origin(),
        "discovery: {name} {s} is not on the issuer's origin {}",
        server.issuer
    );
    assert!(u.fragment().is_none(), "discovery: {name} has a fragment");
}

/// `oidcc-discovery-endpoint-verification`: the configuration holds what the specifications
/// require, with values that match what Leerpoort does.
#[test]
fn oidcc_discovery_endpoint_verification() {
    both_backends(|server| {
        let res =
            Response::send(http::client().get(server.url("/.well-known/openid-configuration")));
        let d = res.expect_json(200);

        assert_eq!(
            d["issuer"], server.issuer,
            "issuer must equal the URL discovery was fetched from (Discovery §4.3)"
        );
        for name in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
            "end_session_endpoint",
            "revocation_endpoint",
            "introspection_endpoint",
        ] {
            assert_endpoint(server, &d, name);
        }
        if d.get("registration_endpoint").is_some() {
            assert_endpoint(server, &d, "registration_endpoint");
        }

        let response_types = strings(&d, "response_types_supported");
        assert_eq!(
            response_types,
            ["code"],
            "Leerpoort offers the code flow only; response_types_supported must say so"
        );
        if d.get("response_modes_supported").is_some() {
            assert!(strings(&d, "response_modes_supported").contains(&"query"));
        }
        let grants = strings(&d, "grant_types_supported");
        assert!(
            grants.contains(&"authorization_code"),
            "grant_types_supported must list authorization_code: {grants:?}"
        );
        assert!(
            !grants.contains(&"implicit"),
            "grant_types_supported lists implicit, which Leerpoort does not offer"
        );

        let subject_types = strings(&d, "subject_types_supported");
        assert!(
            subject_types.contains(&"pairwise"),
            "sub is pairwise (docs/integrate-oidc.md), so subject_types_supported must list pairwise: {subject_types:?}"
        );

        let algs = strings(&d, "id_token_signing_alg_values_supported");
        for alg in ["RS256", "ES256", "EdDSA"] {
            assert!(
                algs.contains(&alg),
                "id_token_signing_alg_values_supported must list {alg} (RS256 is required by \
                 Discovery §3; clients may register ES256 and EdDSA): {algs:?}"
            );
        }
        assert!(
            !algs.contains(&"none"),
            "unsigned ID tokens must not be offered"
        );
        if d.get("userinfo_signing_alg_values_supported").is_some() {
            let u = strings(&d, "userinfo_signing_alg_values_supported");
            assert!(u.iter().all(|a| !a.is_empty()));
        }

        let scopes = strings(&d, "scopes_supported");
        for s in ["openid", "profile", "email", "groups"] {
            assert!(
                scopes.contains(&s),
                "scopes_supported must list {s}: {scopes:?}"
            );
        }
        for s in &scopes {
            // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
            assert!(
                !s.is_empty()
                    && s.chars()
                        .all(|c| matches!(c as u32, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
                "{s:?} is not a valid scope token (RFC 6749 §3.3)"
            );
        }

        let claims = strings(&d, "claims_supported");
        for c in [
            "sub",
            "eckid",
            "instelling_ref",
            "brin6",
            "role",
            "groups",
            "login_context",
            "given_name",
            "family_name",
            "name",
            "email",
        ] {
            assert!(
                claims.contains(&c),
                "claims_supported must list {c} (docs/integrate-oidc.md): {claims:?}"
            );
        }

        let pkce = strings(&d, "code_challenge_methods_supported");
        assert!(pkce.contains(&"S256"), "PKCE S256: {pkce:?}");
        assert!(
            !pkce.contains(&"plain"),
            "PKCE plain must not be offered: {pkce:?}"
        );

        let auth_methods = strings(&d, "token_endpoint_auth_methods_supported");
        for m in [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ] {
            assert!(
                auth_methods.contains(&m),
                "token_endpoint_auth_methods_supported must list {m}: {auth_methods:?}"
            );
        }
        let jwt_algs = strings(&d, "token_endpoint_auth_signing_alg_values_supported");
        assert!(
            !jwt_algs.is_empty() && !jwt_algs.contains(&"none"),
            "token_endpoint_auth_signing_alg_values_supported: {jwt_algs:?}"
        );

        for flag in [
            "claims_parameter_supported",
            "request_parameter_supported",
            "request_uri_parameter_supported",
            "require_request_uri_registration",
            "backchannel_logout_supported",
            "backchannel_logout_session_supported",
            "authorization_response_iss_parameter_supported",
        ] {
            if let Some(v) = d.get(flag) {
                assert!(v.is_boolean(), "discovery: {flag} must be a boolean: {v}");
            }
        }
        assert_eq!(d["backchannel_logout_supported"], true);
        assert_eq!(d["backchannel_logout_session_supported"], true);

        for name in ["ui_locales_supported", "claims_locales_supported"] {
            if d.get(name).is_some() {
                for tag in strings(&d, name) {
                    // BCP 47 in its canonical casing: language lower case, region upper case.
                    let mut parts = tag.split('-');
                    let lang = parts.next().unwrap_or("");
                    assert!(
                        (2..=3).contains(&lang.len())
                            && lang.chars().all(|c| c.is_ascii_lowercase()),
                        "{name}: {tag:?} is not a BCP 47 language tag"
                    );
                    for p in parts {
                        assert!(
                            !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()),
                            "{name}: {tag:?} is not a BCP 47 language tag"
                        );
                    }
                }
            }
        }

        // The JWKS: public signing keys only, one per advertised algorithm.
        let jwks = server.jwks();
        let keys = jwks["keys"].as_array().expect("keys");
        assert!(!keys.is_empty(), "the JWKS has no keys");
        let mut kids = std::collections::HashSet::new();
        for k in keys {
            let kid = k["kid"]
                .as_str()
                .unwrap_or_else(|| panic!("every key needs a kid (there are several): {k}"));
            assert!(kids.insert(kid), "kid {kid} appears twice in the JWKS");
            for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
                assert!(
                    k.get(private).is_none(),
                    "the JWKS publishes private or symmetric key material ({private}) in {kid} \
                     (RFC 7518 §6.3.2.1)"
                );
            }
            if let Some(u) = k.get("use") {
                assert_eq!(u, "sig", "key {kid}: use must be sig");
            }
            if k["kty"] == "RSA" {
                let n = k["n"].as_str().expect("n");
                assert!(
                    n.len() * 6 >= 2040,
                    "key {kid}: RSA keys must have at least 2048 bits"
                );
            }
        }
        let has = |kty: &str, crv: Option<&str>| {
            keys.iter()
                .any(|k| k["kty"] == kty && crv.is_none_or(|c| k["crv"] == c))
        };
        assert!(has("RSA", None), "no RSA key for RS256 in the JWKS");
        assert!(
            has("EC", Some("P-256")),
            "no P-256 key for ES256 in the JWKS"
        );
        assert!(
            has("OKP", Some("Ed25519")),
            "no Ed25519 key for EdDSA in the JWKS"
        );

        // And a relying-party library accepts the whole document.
        let _ = server.openid_client(&server.demo_rp());
    });
}
