//! The authorization request (OIDC Core §3.1.2.1) and the redirects that answer it.
//!
//! `response_type=code` only. PKCE `S256` is required for public clients and honoured for
//! confidential ones; `plain` is refused. The redirect URI must match a registered one
//! exactly; until it does, errors are the caller's page and never redirected. Which client
//! asks, whether the user must sign in and what is released are the caller's.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::{has_scope, OidcError, SCOPES_SUPPORTED};

/// A validated authorization request, kept while the user signs in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt_login: bool,
    pub prompt_none: bool,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
    /// Claims asked for by name with the `claims` parameter.
    pub requested_claims: Vec<String>,
    /// When the request arrived: a sign-in after this moment satisfies `prompt=login` and
    /// `max_age`.
    pub created_at: i64,
    /// The `sub` an `id_token_hint` named, if any.
    pub hint_sub: Option<String>,
    /// The network environment to sign in at (`idp_hint`, or Keycloak's `kc_idp_hint`): the
    /// choice is skipped. Cleared once the browser went there, so it is never followed twice.
    #[serde(default)]
    pub idp_hint: Option<String>,
}

/// The request's parameters (the query of a GET, the form of a POST): each may appear once.
#[derive(Debug, Clone, Default)]
pub struct Params {
    map: HashMap<String, String>,
    /// A parameter that appeared more than once (the last one seen).
    duplicate: Option<String>,
}

impl Params {
    pub fn parse(pairs: Vec<(String, String)>) -> Self {
        let mut map: HashMap<String, String> = HashMap::new();
        let mut duplicate = None;
        for (k, v) in pairs {
            if map.contains_key(&k) {
                duplicate = Some(k.clone());
            }
            map.insert(k, v);
        }
        Self { map, duplicate }
    }

    /// A parameter's value; an empty one counts as absent.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.map
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Is `redirect_uri` one the client registered (an exact match)?
pub fn redirect_uri_registered(registered: &[String], redirect_uri: &str) -> bool {
    registered.iter().any(|u| u == redirect_uri)
}

/// Validate the request of the client `client_id` (a public client when `public`), whose
/// `redirect_uri` the caller found registered. The errors go to the redirect URI. Checking
/// an `id_token_hint` and filling [`AuthRequest::hint_sub`] are the caller's.
pub fn validate(
    params: &Params,
    client_id: &str,
    redirect_uri: &str,
    public: bool,
    now: i64,
) -> Result<AuthRequest, OidcError> {
    let get = |k: &str| params.get(k);
    if let Some(k) = &params.duplicate {
        return Err(OidcError::InvalidRequest(format!(
            "parameter {k} is repeated"
        )));
    }
    if get("request").is_some() {
        return Err(OidcError::RequestNotSupported);
    }
    if get("request_uri").is_some() {
        return Err(OidcError::RequestUriNotSupported);
    }
    match get("response_type") {
        None => return Err(OidcError::InvalidRequest("response_type is missing".into())),
        Some("code") => {}
        Some(_) => return Err(OidcError::UnsupportedResponseType),
    }
    match get("response_mode") {
        None | Some("query") => {}
        Some(_) => {
            return Err(OidcError::InvalidRequest(
                "only response_mode=query is supported".into(),
            ))
        }
    }
    let scope = parse_scope(get("scope"))?;
    let code_challenge = parse_pkce(get("code_challenge"), get("code_challenge_method"))?;
    if public && code_challenge.is_none() {
        return Err(OidcError::InvalidRequest(
            "public clients must use PKCE (S256)".into(),
        ));
    }
    let Options {
        prompts,
        max_age,
        requested_claims,
    } = parse_options(get("prompt"), get("max_age"), get("claims"))?;
    Ok(AuthRequest {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        scope,
        state: get("state").map(str::to_string),
        nonce: get("nonce").map(str::to_string),
        code_challenge,
        prompt_login: prompts.contains(&"login"),
        prompt_none: prompts.contains(&"none"),
        max_age,
        login_hint: get("login_hint").map(str::to_string),
        ui_locales: get("ui_locales").map(str::to_string),
        acr_values: get("acr_values").map(str::to_string),
        requested_claims,
        created_at: now,
        hint_sub: None,
        idp_hint: get("idp_hint")
            .or_else(|| get("kc_idp_hint"))
            .filter(|h| !h.is_empty())
            .map(str::to_string),
    })
}

/// `scope`: `openid` required; the supported scopes, each once, in the order given.
fn parse_scope(scope_in: Option<&str>) -> Result<String, OidcError> {
    let scope_in = scope_in.unwrap_or("");
    if !has_scope(scope_in, "openid") {
        return Err(OidcError::InvalidScope(
            "the openid scope is required".into(),
        ));
    }
    let scope: Vec<&str> = scope_in
        .split_ascii_whitespace()
        .filter(|s| SCOPES_SUPPORTED.contains(s))
        .fold(Vec::new(), |mut acc, s| {
            if !acc.contains(&s) {
                acc.push(s);
            }
            acc
        });
    Ok(scope.join(" "))
}
/// PKCE (RFC 7636): S256 only, with a well-formed challenge; `None` without one.
fn parse_pkce(challenge: Option<&str>, method: Option<&str>) -> Result<Option<String>, OidcError> {
    Ok(match (challenge, method) {
        (Some(c), Some("S256")) => {
            if !(43..=128).contains(&c.len())
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            {
                return Err(OidcError::InvalidRequest(
                    "code_challenge is malformed".into(),
                ));
            }
            Some(c.to_string())
        }
        (Some(_), Some(_)) => {
            return Err(OidcError::InvalidRequest(
                "only code_challenge_method=S256 is supported".into(),
            ))
        }
        (Some(_), None) => {
            return Err(OidcError::InvalidRequest(
                "code_challenge_method=S256 is required (plain is not allowed)".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(OidcError::InvalidRequest(
                "code_challenge is missing".into(),
            ))
        }
        (None, None) => None,
    })
}

/// The request's options besides scope and PKCE.
struct Options<'a> {
    prompts: Vec<&'a str>,
    max_age: Option<i64>,
    requested_claims: Vec<String>,
}

/// `prompt` (`none` alone), `max_age` (a non-negative number) and the names of the claims the
/// `claims` parameter asks for.
fn parse_options<'a>(
    prompt: Option<&'a str>,
    max_age: Option<&str>,
    claims: Option<&str>,
) -> Result<Options<'a>, OidcError> {
    let prompts: Vec<&str> = prompt.unwrap_or("").split_ascii_whitespace().collect();
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return Err(OidcError::InvalidRequest(
            "prompt=none cannot be combined".into(),
        ));
    }
    let max_age = match max_age {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return Err(OidcError::InvalidRequest(
                    "max_age must be a non-negative number".into(),
                ))
            }
        },
    };
    let requested_claims = match claims {
        None => Vec::new(),
        Some(c) => match serde_json::from_str::<Value>(c) {
            Ok(Value::Object(o)) => o
                .values()
                .filter_map(Value::as_object)
                .flat_map(|m| m.keys().cloned())
                .collect(),
            _ => {
                return Err(OidcError::InvalidRequest(
                    "claims is not a JSON object".into(),
                ))
            }
        },
    };
    Ok(Options {
        prompts,
        max_age,
        requested_claims,
    })
}

/// The error redirect for a trusted redirect URI (RFC 6749 §4.1.2.1, with `iss` from RFC 9207).
pub fn error_redirect(
    issuer: &str,
    redirect_uri: &str,
    state: Option<&str>,
    e: &OidcError,
) -> String {
    let mut url = match Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(_) => return redirect_uri.to_string(),
    };
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("error", e.code());
        if let Some(d) = e.description() {
            q.append_pair("error_description", &d);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        q.append_pair("iss", issuer);
    }
    url.to_string()
}

/// The successful authorization response (RFC 6749 §4.1.2, with `iss` from RFC 9207).
pub fn code_redirect(issuer: &str, redirect_uri: &str, code: &str, state: Option<&str>) -> String {
    let mut url = match Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(_) => return redirect_uri.to_string(),
    };
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("code", code);
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        q.append_pair("iss", issuer);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::parse(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn a_valid_request_keeps_the_known_scopes_once() {
        let p = params(&[
            ("response_type", "code"),
            ("scope", "openid profile openid unknown email"),
            ("state", "s"),
            ("prompt", "login"),
            ("max_age", "60"),
            ("claims", r#"{"id_token":{"groups":null}}"#),
            ("kc_idp_hint", "entree"),
        ]);
        let r = validate(&p, "c", "https://rp/cb", false, 7).unwrap();
        assert_eq!(r.scope, "openid profile email");
        assert!(r.prompt_login && !r.prompt_none);
        assert_eq!(r.max_age, Some(60));
        assert_eq!(r.requested_claims, vec!["groups".to_string()]);
        assert_eq!(r.idp_hint.as_deref(), Some("entree"));
        assert_eq!(r.created_at, 7);
    }

    #[test]
    fn refusals_in_the_order_they_are_checked() {
        let refused = |pairs: &[(&str, &str)], public: bool| {
            validate(&params(pairs), "c", "https://rp/cb", public, 0).unwrap_err()
        };
        assert_eq!(
            refused(&[("scope", "openid"), ("scope", "openid")], false),
            OidcError::InvalidRequest("parameter scope is repeated".into())
        );
        assert_eq!(
            refused(&[("request", "x"), ("response_type", "code")], false),
            OidcError::RequestNotSupported
        );
        assert_eq!(
            refused(&[("response_type", "token")], false),
            OidcError::UnsupportedResponseType
        );
        assert!(matches!(
            refused(&[("response_type", "code"), ("scope", "profile")], false),
            OidcError::InvalidScope(_)
        ));
        let base = [("response_type", "code"), ("scope", "openid")];
        assert!(matches!(refused(&base, true), OidcError::InvalidRequest(_)));
        let plain = [
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "plain"),
        ];
        assert!(matches!(
            refused(&plain, true),
            OidcError::InvalidRequest(_)
        ));
        let none_and_login = [
            ("response_type", "code"),
            ("scope", "openid"),
            ("prompt", "none login"),
        ];
        assert!(matches!(
            refused(&none_and_login, false),
            OidcError::InvalidRequest(_)
        ));
        let s256 = [
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        let r = validate(&params(&s256), "c", "https://rp/cb", true, 0).unwrap();
        assert_eq!(r.code_challenge.as_deref(), Some(CHALLENGE));
    }

    #[test]
    fn redirects_carry_the_issuer() {
        let e = OidcError::LoginRequired;
        assert_eq!(
            error_redirect("https://idp", "https://rp/cb?x=1", Some("s"), &e),
            "https://rp/cb?x=1&error=login_required&state=s&iss=https%3A%2F%2Fidp"
        );
        assert_eq!(
            code_redirect("https://idp", "https://rp/cb", "c0de", None),
            "https://rp/cb?code=c0de&iss=https%3A%2F%2Fidp"
        );
        assert!(redirect_uri_registered(
            &["https://rp/cb".to_string()],
            "https://rp/cb"
        ));
        assert!(!redirect_uri_registered(
            &["https://rp/cb".to_string()],
            "https://rp/cb/"
        ));
    }
}
