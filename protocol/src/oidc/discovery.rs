//! OpenID Provider metadata (OIDC Discovery §3, RFC 8414).

use serde_json::{json, Value};

use super::{paths, SCOPES_SUPPORTED};

/// The discovery document for `issuer`. `user_claims` are the claims a relying party may
/// receive about a user (the token's own claims are added); `acr_values` the
/// authentication context classes the provider asserts.
pub fn metadata(issuer: &str, user_claims: &[&str], acr_values: &[&str]) -> Value {
    let u = |p: &str| format!("{issuer}{p}");
    json!({
        "issuer": issuer,
        "authorization_endpoint": u(paths::AUTHORIZE),
        "token_endpoint": u(paths::TOKEN),
        "userinfo_endpoint": u(paths::USERINFO),
        "jwks_uri": u(paths::JWKS),
        "revocation_endpoint": u(paths::REVOKE),
        "introspection_endpoint": u(paths::INTROSPECT),
        "end_session_endpoint": u(paths::LOGOUT),
        "scopes_supported": SCOPES_SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA", "PS256"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims_supported(user_claims),
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "prompt_values_supported": ["none", "login", "consent"],
        "display_values_supported": ["page", "popup", "touch"],
        "ui_locales_supported": ["nl", "en"],
        "claims_locales_supported": ["nl"],
        "acr_values_supported": acr_values,
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true
    })
}

fn claims_supported<'a>(user_claims: &[&'a str]) -> Vec<&'a str> {
    let mut c: Vec<&str> = user_claims.to_vec();
    c.extend([
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "azp",
        "sid",
        "at_hash",
    ]);
    c
}
