//! The sign-in at an OIDC upstream, step by step: the authorization URL, the authorization
//! response and the token request it leads to, the token response, the ID token's checks,
//! and UserInfo for a claim the ID token lacks.

use std::collections::HashMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Client, Discovery, HttpRequest, HttpResponse, Method, UpstreamOidcError, CALLBACK_PATH,
    PENDING_KIND, SKEW_SECS,
};
use crate::federation::links::UpstreamLink;
use crate::federation::pending::{bind_and_put, is_bound, take_pending, Binding, Pending};
use crate::federation::Asserted;
use crate::model::Upstream;
use crate::random::random_bytes;
use crate::store::EphemeralStore;

/// What the pending sign-in keeps for this protocol.
#[derive(Debug, Serialize, Deserialize)]
struct OidcPending {
    verifier: String,
    nonce: String,
}

fn random_b64<const N: usize>() -> Result<String, UpstreamOidcError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<N>().map_err(|_| UpstreamOidcError::Unavailable)?))
}

/// Where the upstream sends the browser back to, for the server at `base` (the issuer).
pub fn redirect_uri(base: &str) -> String {
    format!("{base}{CALLBACK_PATH}")
}

/// Send the browser to the upstream `u` to sign in: the authorization URL (PKCE S256,
/// `state`, `nonce`, `prompt=none` when `pending.passive`), and `pending` kept under the
/// `state`, bound to this browser by the cookie to set with the redirect.
pub fn start(
    store: &dyn EphemeralStore,
    u: &Upstream,
    c: &Client,
    d: &Discovery,
    base: &str,
    mut pending: Pending,
) -> Result<(String, Binding), UpstreamOidcError> {
    let state = random_b64::<16>()?;
    let nonce = random_b64::<16>()?;
    let verifier = random_b64::<32>()?;
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    let mut url = url::Url::parse(&d.authorization_endpoint)
        .map_err(|e| UpstreamOidcError::Discovery(e.to_string()))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &c.client_id)
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("redirect_uri", &redirect_uri(base))
            .append_pair("scope", &c.scopes.join(" "))
            .append_pair("nonce", &nonce);
        if pending.passive {
            q.append_pair("prompt", "none");
        }
    }
    pending.upstream = u.id;
    pending.protocol = serde_json::to_value(OidcPending { verifier, nonce })
        .map_err(|_| UpstreamOidcError::Unavailable)?;
    let binding = bind_and_put(store, PENDING_KIND, &state, pending)
        .map_err(|_| UpstreamOidcError::Unavailable)?;
    Ok((url.to_string(), binding))
}

/// The callback's parameters.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The sign-in the browser returns with (single use); `binding` is the value of the browser's
/// binding cookie for this `state`. An error when the `state` is unknown, or was started by
/// another browser (login CSRF, RFC 9700 §4.7): nothing to resume, nobody signed in. The
/// pending sign-in is used up either way.
pub fn returned(
    store: &dyn EphemeralStore,
    cb: &Callback,
    binding: Option<&str>,
) -> Result<Pending, UpstreamOidcError> {
    let key = cb.state.as_deref().ok_or(UpstreamOidcError::UnknownState)?;
    let pending = take_pending(store, PENDING_KIND, key).ok_or(UpstreamOidcError::UnknownState)?;
    if !is_bound(&pending, binding) {
        return Err(UpstreamOidcError::OtherBrowser);
    }
    Ok(pending)
}

/// Check the authorization response: the code to redeem. RFC 9207: a response naming another
/// issuer is a mix-up; a missing one only counts when the upstream announces it sends one.
pub fn code_of<'a>(
    c: &Client,
    d: &Discovery,
    pending: &Pending,
    cb: &'a Callback,
) -> Result<&'a str, UpstreamOidcError> {
    match cb.iss.as_deref() {
        Some(iss) if iss.trim_end_matches('/') != c.issuer.trim_end_matches('/') => {
            return Err(UpstreamOidcError::WrongIssuerParameter(
                iss.chars().take(200).collect(),
            ))
        }
        None if d.iss_parameter_supported => return Err(UpstreamOidcError::MissingIssuerParameter),
        _ => {}
    }
    if let Some(e) = &cb.error {
        if pending.passive
            && matches!(
                e.as_str(),
                "login_required" | "interaction_required" | "consent_required"
            )
        {
            return Err(UpstreamOidcError::LoginRequired);
        }
        return Err(UpstreamOidcError::UpstreamError(
            e.chars().take(100).collect(),
        ));
    }
    cb.code.as_deref().ok_or(UpstreamOidcError::NoCode)
}

fn protocol_of(pending: &Pending) -> Result<OidcPending, UpstreamOidcError> {
    serde_json::from_value(pending.protocol.clone()).map_err(|_| UpstreamOidcError::UnknownState)
}

fn token_endpoint(d: &Discovery) -> Result<&str, UpstreamOidcError> {
    d.token_endpoint
        .as_deref()
        .ok_or_else(|| UpstreamOidcError::Discovery("no token endpoint".into()))
}

/// The claims of a `private_key_jwt` client assertion (OIDC Core §9) for `d`'s token
/// endpoint (one minute), for the server to sign with Leerpoort's own key (RS256; its JWKS
/// is published at `/oidc/jwks`).
pub fn client_assertion_claims(
    c: &Client,
    d: &Discovery,
    now: i64,
) -> Result<Value, UpstreamOidcError> {
    let aud = token_endpoint(d)?;
    let jti = crate::random::random_token().map_err(|_| UpstreamOidcError::Unavailable)?;
    Ok(serde_json::json!({
        "iss": c.client_id, "sub": c.client_id, "aud": aud, "jti": jti,
        "iat": now, "exp": now + 60,
    }))
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The token request that redeems `code` with the PKCE verifier: with the client secret
/// (HTTP Basic), or with `assertion` (`private_key_jwt`, see [`client_assertion_claims`]).
pub fn token_request(
    c: &Client,
    d: &Discovery,
    base: &str,
    pending: &Pending,
    code: &str,
    assertion: Option<String>,
) -> Result<HttpRequest, UpstreamOidcError> {
    let p = protocol_of(pending)?;
    let mut headers = vec![("accept".to_string(), "application/json".to_string())];
    let mut form = vec![
        ("grant_type".to_string(), "authorization_code".to_string()),
        ("code".to_string(), code.to_string()),
        ("code_verifier".to_string(), p.verifier),
        ("redirect_uri".to_string(), redirect_uri(base)),
    ];
    match (&c.secret, assertion) {
        (Some(secret), _) => {
            let basic = format!("{}:{}", form_encode(&c.client_id), form_encode(secret));
            headers.push((
                "authorization".to_string(),
                format!("Basic {}", STANDARD.encode(basic)),
            ));
        }
        (None, assertion) => {
            form.push(("client_id".to_string(), c.client_id.clone()));
            if let Some(a) = assertion {
                form.push((
                    "client_assertion_type".to_string(),
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
                ));
                form.push(("client_assertion".to_string(), a));
            }
        }
    }
    Ok(HttpRequest {
        method: Method::Post,
        url: token_endpoint(d)?.to_string(),
        headers,
        form,
    })
}

/// What a token response gives.
#[derive(Clone)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens { .. }")
    }
}

/// The tokens of the upstream's token response.
pub fn tokens(res: &HttpResponse) -> Result<Tokens, UpstreamOidcError> {
    let short = |s: String| UpstreamOidcError::Token(s.chars().take(300).collect());
    if res.status != 200 {
        return Err(short(format!(
            "the token endpoint answered {}: {}",
            res.status,
            String::from_utf8_lossy(&res.body)
        )));
    }
    let body: Value = serde_json::from_slice(&res.body)
        .map_err(|e| short(format!("the token response is not JSON: {e}")))?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    if !text("token_type").is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
        return Err(short("the token type is not Bearer".into()));
    }
    let access_token = text("access_token").ok_or_else(|| short("no access token".into()))?;
    let id_token = text("id_token").ok_or(UpstreamOidcError::NoIdToken)?;
    Ok(Tokens {
        access_token,
        id_token,
    })
}

/// Why an ID token is refused.
#[derive(Debug)]
pub enum IdTokenRefusal {
    /// No key in the upstream's set fits: read its keys again, once, and try again.
    NoMatchingKey,
    Invalid(UpstreamOidcError),
}

fn invalid(m: &str) -> IdTokenRefusal {
    IdTokenRefusal::Invalid(UpstreamOidcError::IdToken(m.to_string()))
}

/// The keys of `d` a token with `header` may be signed with: RSA signing keys, by `kid` when
/// the token names one.
fn signing_keys(d: &Discovery, header: &jsonwebtoken::Header) -> Vec<jsonwebtoken::DecodingKey> {
    d.keys
        .iter()
        .filter(|k| {
            k.get("use")
                .and_then(Value::as_str)
                .is_none_or(|u| u == "sig")
        })
        .filter_map(|k| serde_json::from_value::<jsonwebtoken::jwk::Jwk>(k.clone()).ok())
        .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
        .filter(|k| matches!(k.algorithm, jsonwebtoken::jwk::AlgorithmParameters::RSA(_)))
        .filter_map(|k| jsonwebtoken::DecodingKey::from_jwk(&k).ok())
        .collect()
}

/// Verify the ID token: signed (RS256) with a key of the upstream's, `iss` the upstream,
/// `aud` Leerpoort only, `azp` (when present) Leerpoort, `nonce` the pending sign-in's, not
/// expired and not issued in the future (with [`SKEW_SECS`]). Its claims.
pub fn verify_id_token(
    c: &Client,
    d: &Discovery,
    pending: &Pending,
    id_token: &str,
    now: i64,
) -> Result<Value, IdTokenRefusal> {
    let header = jsonwebtoken::decode_header(id_token).map_err(|_| invalid("no JOSE header"))?;
    if header.alg != jsonwebtoken::Algorithm::RS256 {
        return Err(invalid("an algorithm Leerpoort does not accept"));
    }
    if header.typ.as_deref().is_some_and(|t| {
        !t.eq_ignore_ascii_case("JWT") && !t.eq_ignore_ascii_case("application/jwt")
    }) {
        return Err(invalid("not a JWT"));
    }
    let keys = signing_keys(d, &header);
    if keys.is_empty() {
        return Err(IdTokenRefusal::NoMatchingKey);
    }
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let claims: Value = keys
        .iter()
        .find_map(|k| jsonwebtoken::decode::<Value>(id_token, k, &v).ok())
        .ok_or_else(|| invalid("the signature does not verify"))?
        .claims;
    check_claims(c, pending, &claims, now).map_err(|m| invalid(&m))?;
    Ok(claims)
}

fn check_claims(c: &Client, pending: &Pending, claims: &Value, now: i64) -> Result<(), String> {
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    if text("iss") != Some(c.issuer.as_str()) {
        return Err("another issuer".into());
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err("no sub".into());
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&c.client_id.as_str()) {
        return Err("another audience".into());
    }
    if audiences.iter().any(|a| *a != c.client_id) {
        return Err("an untrusted extra audience".into());
    }
    // `azp`, when present, must be Leerpoort itself (OIDC Core §3.1.3.7, items 4 and 5).
    if text("azp").is_some_and(|azp| azp != c.client_id) {
        return Err("azp is another client".into());
    }
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or("no exp")?;
    if now - SKEW_SECS >= exp {
        return Err("expired".into());
    }
    let iat = claims.get("iat").and_then(Value::as_i64).ok_or("no iat")?;
    if iat > now + SKEW_SECS {
        return Err("issued in the future".into());
    }
    let expected = protocol_of(pending).map_err(|e| e.to_string())?.nonce;
    if text("nonce") != Some(expected.as_str()) {
        return Err("another nonce, or none".into());
    }
    Ok(())
}

/// Many providers put scope claims in UserInfo only: the request that asks it for what
/// matching needs, when the ID token's `claims` lack it and the upstream has UserInfo.
pub fn userinfo_request(
    u: &Upstream,
    d: &Discovery,
    claims: &Value,
    access_token: &str,
) -> Option<HttpRequest> {
    if claims.get(&u.match_claim).is_some() {
        return None;
    }
    let mut req = HttpRequest::get(d.userinfo_endpoint.as_deref()?);
    req.headers
        .push(("authorization".into(), format!("Bearer {access_token}")));
    Some(req)
}

/// The claims with UserInfo's answer added (plain JSON; signed UserInfo is not used). OIDC
/// Core §5.3.2: the UserInfo `sub` must be the ID token's.
pub fn with_userinfo(mut claims: Value, res: &HttpResponse) -> Result<Value, UpstreamOidcError> {
    if !(200..300).contains(&res.status) {
        return Err(UpstreamOidcError::Token(format!(
            "UserInfo answered {}",
            res.status
        )));
    }
    if res.body.len() > 64 * 1024 {
        return Err(UpstreamOidcError::Token("UserInfo is too large".into()));
    }
    let info: Value = serde_json::from_slice(&res.body)
        .map_err(|_| UpstreamOidcError::Token("UserInfo is not JSON".into()))?;
    if info.get("sub") != claims.get("sub") {
        return Err(UpstreamOidcError::IdToken(
            "UserInfo is about another subject".into(),
        ));
    }
    if let (Some(all), Some(extra)) = (claims.as_object_mut(), info.as_object()) {
        for (k, v) in extra {
            all.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Ok(claims)
}

/// The upstream's claims as the matching rules read them: strings; numbers and booleans as
/// text; of an array its first element.
pub fn asserted(claims: &Value) -> Asserted {
    let mut out = HashMap::new();
    if let Some(map) = claims.as_object() {
        for (k, v) in map {
            let v = match v {
                Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
                other => other.clone(),
            };
            let s = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            out.insert(k.clone(), s);
        }
    }
    out
}

/// Who the upstream says the user is in its own session (`sid`, `sub`).
pub fn link_of(claims: &Value, id_token: Option<String>) -> UpstreamLink {
    let get = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_string);
    UpstreamLink {
        sid: get("sid"),
        sub: get("sub"),
        id_token,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client {
            issuer: "https://moo.example".into(),
            client_id: "leerpoort".into(),
            secret: Some("geheim".into()),
            scopes: vec!["openid".into()],
        }
    }

    fn discovery(iss_parameter: bool) -> Discovery {
        Discovery {
            issuer: "https://moo.example".into(),
            authorization_endpoint: "https://moo.example/authorize".into(),
            token_endpoint: Some("https://moo.example/token".into()),
            userinfo_endpoint: None,
            jwks_uri: "https://moo.example/jwks".into(),
            end_session_endpoint: None,
            iss_parameter_supported: iss_parameter,
            keys: Vec::new(),
        }
    }

    fn pending() -> Pending {
        Pending {
            upstream: uuid::Uuid::nil(),
            school: None,
            target: None,
            resume: None,
            passive: true,
            protocol: serde_json::json!({"verifier": "v", "nonce": "n"}),
            browser: None,
        }
    }

    fn good() -> Value {
        serde_json::json!({
            "iss": "https://moo.example", "sub": "s", "aud": "leerpoort",
            "exp": 1_100, "iat": 1_000, "nonce": "n",
        })
    }

    #[test]
    fn the_authorization_response_is_checked_for_mix_up_and_errors() {
        let (c, p) = (client(), pending());
        let cb = |iss: Option<&str>, error: Option<&str>| Callback {
            state: Some("st".into()),
            code: Some("c0de".into()),
            iss: iss.map(str::to_string),
            error: error.map(str::to_string),
            error_description: None,
        };
        let d = discovery(true);
        assert_eq!(
            code_of(&c, &d, &p, &cb(Some("https://moo.example/"), None)).unwrap(),
            "c0de"
        );
        assert!(matches!(
            code_of(&c, &d, &p, &cb(Some("https://evil"), None)),
            Err(UpstreamOidcError::WrongIssuerParameter(_))
        ));
        assert!(matches!(
            code_of(&c, &d, &p, &cb(None, None)),
            Err(UpstreamOidcError::MissingIssuerParameter)
        ));
        assert!(code_of(&c, &discovery(false), &p, &cb(None, None)).is_ok());
        assert!(matches!(
            code_of(
                &c,
                &d,
                &p,
                &cb(Some("https://moo.example"), Some("login_required"))
            ),
            Err(UpstreamOidcError::LoginRequired)
        ));
    }

    #[test]
    fn the_id_token_claims_must_be_for_leerpoort_in_time_and_with_the_nonce() {
        let (c, p) = (client(), pending());
        assert!(check_claims(&c, &p, &good(), 1_000).is_ok());
        let refused = |tweak: &dyn Fn(&mut Value)| {
            let mut claims = good();
            tweak(&mut claims);
            check_claims(&c, &p, &claims, 1_000).is_err()
        };
        assert!(refused(&|c| c["iss"] = "https://evil".into()));
        assert!(refused(&|c| c["aud"] = "someone-else".into()));
        assert!(refused(
            &|c| c["aud"] = serde_json::json!(["leerpoort", "x"])
        ));
        assert!(refused(&|c| c["azp"] = "someone-else".into()));
        assert!(refused(&|c| c["nonce"] = "other".into()));
        assert!(refused(&|c| {
            c.as_object_mut().unwrap().remove("nonce");
        }));
        assert!(refused(&|c| c["exp"] = (1_000 - SKEW_SECS).into()));
        assert!(refused(&|c| c["iat"] = (1_000 + SKEW_SECS + 1).into()));
        assert!(check_claims(&c, &p, &good(), 1_100 + SKEW_SECS - 1).is_ok());
    }

    #[test]
    fn the_token_request_carries_the_verifier_and_the_credentials() {
        let req = token_request(
            &client(),
            &discovery(false),
            "https://lp",
            &pending(),
            "c0de",
            None,
        )
        .unwrap();
        assert_eq!(req.method, Method::Post);
        assert_eq!(req.url, "https://moo.example/token");
        assert!(req.form.contains(&("code_verifier".into(), "v".into())));
        assert!(req.headers.contains(&(
            "authorization".into(),
            format!("Basic {}", STANDARD.encode("leerpoort:geheim"))
        )));
        let no_id = HttpResponse {
            status: 200,
            body: br#"{"access_token":"at","token_type":"Bearer"}"#.to_vec(),
        };
        assert!(matches!(tokens(&no_id), Err(UpstreamOidcError::NoIdToken)));
    }
}
