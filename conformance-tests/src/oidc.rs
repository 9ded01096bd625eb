//! Relying parties: clients registered through the CLI, authorization requests, the code
//! flow ([`code_flow`], the one parameterised helper the tests wrap), the token endpoint with
//! every client authentication Leerpoort offers, ID token validation (with `openidconnect` and
//! independently with `jsonwebtoken`) and the userinfo endpoint.

use std::collections::HashMap;
use std::sync::Arc;

use openidconnect::core::{CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreProviderMetadata};
use openidconnect::{
    ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce,
    RedirectUrl,
};
use serde_json::{json, Value};
use url::Url;

use crate::browser::{Browser, Credentials, Landing};
use crate::http::{self, truncate, Response};
use crate::jwt::{self, ClientKey};
use crate::server::Server;

/// Anna de Vries, leerkracht of groep 3A at the demo school.
pub const ANNA: &str = "anna.devries@regenboog.example";
/// Karim El Amrani, leerkracht of groep 7B.
pub const KARIM: &str = "karim.elamrani@regenboog.example";
/// Sanne Jansen, ICT coordinator.
pub const SANNE: &str = "sanne.jansen@regenboog.example";

/// An `openidconnect` client configured from the server's discovery document.
pub type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How a relying party authenticates at the token, introspection and revocation endpoints.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `client_secret_basic` (RFC 6749 §2.3.1).
    SecretBasic,
    /// `client_secret_post`.
    SecretPost,
    /// `private_key_jwt` (OIDC Core §9), signed with this key.
    PrivateKeyJwt(Arc<ClientKey>),
    /// A public client: `client_id` only.
    None,
}

/// A relying party as the tests know it.
#[derive(Debug, Clone)]
pub struct Rp {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uri: String,
    pub auth: ClientAuth,
    /// The ID token signing algorithm it registered (`--id-token-alg`).
    pub id_token_alg: String,
}

impl Rp {
    /// The same client, authenticating with `auth`.
    pub fn with_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }
}

impl Server {
    /// The demo staff member with this e-mail address.
    pub fn credentials(&self, email: &str) -> Credentials {
        let staff = self.demo["staff"]
            .as_array()
            .unwrap_or_else(|| panic!("demo JSON without a staff list: {}", self.demo));
        let s = staff
            .iter()
            .find(|s| s["email"] == email)
            .unwrap_or_else(|| panic!("no demo staff member {email} in {}", self.demo));
        Credentials {
            email: email.to_string(),
            password: s["password"]
                .as_str()
                .unwrap_or_else(|| panic!("demo staff {email} without a password"))
                .to_string(),
        }
    }

    /// A browser with no session that stops at the login form.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.issuer)
    }

    /// A browser that signs in as the demo staff member `email` whenever asked.
    pub fn browser_as(&self, email: &str) -> Browser {
        Browser::new(&self.issuer).with_login(self.credentials(email))
    }

    /// `/.well-known/openid-configuration`, asserted to be a JSON object.
    pub fn discovery(&self) -> Value {
        let res = Response::send(http::client().get(self.url("/.well-known/openid-configuration")));
        let v = res.expect_json(200);
        assert!(v.is_object(), "discovery is not a JSON object: {v}");
        v
    }

    /// An endpoint's URL from discovery (`token_endpoint`, ...).
    pub fn endpoint(&self, name: &str) -> String {
        let d = self.discovery();
        d[name]
            .as_str()
            .unwrap_or_else(|| panic!("discovery has no {name}: {d}"))
            .to_string()
    }

    /// The JWK Set at discovery's `jwks_uri`.
    pub fn jwks(&self) -> Value {
        let res = Response::send(http::client().get(self.endpoint("jwks_uri")));
        assert_eq!(res.status, 200, "{}: {}", res.request, truncate(&res.body));
        let v = res.json();
        assert!(v["keys"].is_array(), "JWKS without keys: {v}");
        v
    }

    /// The demo publisher `demo-uitgeverij` (confidential, `client_secret_basic`).
    pub fn demo_rp(&self) -> Rp {
        let c = &self.demo["oidc_client"];
        Rp {
            client_id: c["client_id"].as_str().expect("demo client_id").to_string(),
            client_secret: Some(
                c["client_secret"]
                    .as_str()
                    .expect("demo client_secret")
                    .to_string(),
            ),
            redirect_uri: c["redirect_uris"][0]
                .as_str()
                .expect("demo redirect URI")
                .to_string(),
            auth: ClientAuth::SecretBasic,
            id_token_alg: "RS256".into(),
        }
    }

    /// Add a publisher client named `name` with its own redirect URI (plus `extra` arguments
    /// for `client add`) and register it for the demo school.
    pub fn add_rp(&self, name: &str, extra: &[&str]) -> Rp {
        let redirect_uri = format!("http://127.0.0.1:8081/{name}/callback");
        let (out, client_id) = self.register_publisher(name, &redirect_uri, extra);
        let alg = extra
            .iter()
            .position(|a| *a == "--id-token-alg")
            .and_then(|i| extra.get(i + 1))
            .unwrap_or(&"RS256");
        let public = extra.contains(&"--public");
        Rp {
            client_id,
            client_secret: out["client_secret"].as_str().map(str::to_string),
            redirect_uri,
            auth: if public {
                ClientAuth::None
            } else {
                ClientAuth::SecretBasic
            },
            id_token_alg: (*alg).to_string(),
        }
    }

    /// `leerpoort client add` for a publisher named `name` with `redirect_uri` (plus `extra`
    /// arguments), and `register` it for the demo school: what `client add` printed, and the
    /// client id.
    pub fn register_publisher(
        &self,
        name: &str,
        redirect_uri: &str,
        extra: &[&str],
    ) -> (Value, String) {
        let mut args = vec![
            "client",
            "add",
            "--name",
            name,
            "--kind",
            "publisher",
            "--redirect-uri",
            redirect_uri,
        ];
        args.extend_from_slice(extra);
        let out = self.cli(&args);
        let client_id = out["client_id"]
            .as_str()
            .unwrap_or_else(|| panic!("client add printed no client_id: {out}"))
            .to_string();
        self.cli(&[
            "register",
            "--school",
            &self.school_ref(),
            "--rp",
            &client_id,
        ]);
        (out, client_id)
    }

    /// An `openidconnect` client for `rp`, from discovery (which the library validates).
    pub fn openid_client(&self, rp: &Rp) -> DiscoveredClient {
        let http = http::client();
        let issuer = IssuerUrl::new(self.issuer.clone()).expect("issuer URL");
        let metadata = CoreProviderMetadata::discover(&issuer, &http).unwrap_or_else(|e| {
            panic!("openidconnect rejects the discovery document or JWKS: {e:?}")
        });
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(rp.client_id.clone()),
            rp.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(rp.redirect_uri.clone()).expect("redirect URI"))
    }
}

/// A random URL-safe value of `len` characters.
pub fn random(len: usize) -> String {
    let mut s = String::new();
    while s.len() < len {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(len);
    s
}

/// The S256 code challenge of `verifier` (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    jwt::b64(&openssl::sha::sha256(verifier.as_bytes()))
}

/// An authorization request: ordered parameters plus what the RP keeps to check the answer.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub params: Vec<(String, String)>,
    /// Send as a form POST instead of a GET.
    pub post: bool,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_verifier: Option<String>,
    pub redirect_uri: String,
}

impl AuthRequest {
    /// `response_type=code`, `scope=openid`, `state`, `nonce` and a PKCE S256 challenge.
    pub fn new(rp: &Rp) -> Self {
        let state = random(32);
        let nonce = random(32);
        let verifier = random(64);
        Self {
            params: vec![
                ("response_type".into(), "code".into()),
                ("client_id".into(), rp.client_id.clone()),
                ("redirect_uri".into(), rp.redirect_uri.clone()),
                ("scope".into(), "openid".into()),
                ("state".into(), state.clone()),
                ("nonce".into(), nonce.clone()),
                ("code_challenge".into(), s256(&verifier)),
                ("code_challenge_method".into(), "S256".into()),
            ],
            post: false,
            state: Some(state),
            nonce: Some(nonce),
            code_verifier: Some(verifier),
            redirect_uri: rp.redirect_uri.clone(),
        }
    }

    /// Set a parameter (replacing it when present, appending otherwise).
    pub fn set(mut self, key: &str, value: &str) -> Self {
        match key {
            "state" => self.state = Some(value.to_string()),
            "nonce" => self.nonce = Some(value.to_string()),
            "redirect_uri" => self.redirect_uri = value.to_string(),
            _ => {}
        }
        if let Some(p) = self.params.iter_mut().find(|(k, _)| k == key) {
            p.1 = value.to_string();
        } else {
            self.params.push((key.to_string(), value.to_string()));
        }
        self
    }

    /// Leave a parameter out.
    pub fn remove(mut self, key: &str) -> Self {
        match key {
            "state" => self.state = None,
            "nonce" => self.nonce = None,
            "code_challenge" => self.code_verifier = None,
            _ => {}
        }
        self.params.retain(|(k, _)| k != key);
        self
    }

    pub fn scope(self, scope: &str) -> Self {
        self.set("scope", scope)
    }

    /// Without PKCE.
    pub fn no_pkce(self) -> Self {
        self.remove("code_challenge")
            .remove("code_challenge_method")
    }

    /// Send it as a form POST (OIDC Core §3.1.2.1).
    pub fn post(mut self) -> Self {
        self.post = true;
        self
    }

    /// The value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The GET URL of this request.
    pub fn url(&self, server: &Server) -> String {
        let mut u = Url::parse(&server.endpoint("authorization_endpoint"))
            .expect("authorization endpoint URL");
        u.query_pairs_mut().extend_pairs(self.params.iter());
        u.to_string()
    }

    /// Send it with `browser` and follow it to its end.
    pub fn send(&self, server: &Server, browser: &Browser) -> Landing {
        if self.post {
            browser.post_form(
                &server.endpoint("authorization_endpoint"),
                self.params.clone(),
            )
        } else {
            browser.get(&self.url(server))
        }
    }
}

fn same_endpoint(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

/// Asserts that the server redirected to the request's redirect URI (RFC 6749 §4.1.2) and
/// returns the callback's parameters, checking `state` and, when present, `iss` (RFC 9207).
pub fn expect_callback(
    server: &Server,
    req: &AuthRequest,
    landing: &Landing,
) -> HashMap<String, String> {
    assert!(
        landing.left_server,
        "expected a redirect to the relying party ({}), but the browser {}",
        req.redirect_uri,
        landing.describe()
    );
    let expected = Url::parse(&req.redirect_uri).expect("redirect URI");
    assert!(
        same_endpoint(&landing.url, &expected),
        "redirected to {}, expected the redirect URI {}",
        landing.url,
        req.redirect_uri
    );
    let params = landing.params();
    match &req.state {
        Some(state) => assert_eq!(
            params.get("state"),
            Some(state),
            "the callback must carry the request's state unchanged (RFC 6749 §4.1.2): {}",
            landing.url
        ),
        None => assert!(
            !params.contains_key("state"),
            "state returned although none was sent: {}",
            landing.url
        ),
    }
    if let Some(iss) = params.get("iss") {
        assert_eq!(
            iss, &server.issuer,
            "the callback's iss must be the issuer (RFC 9207 §2)"
        );
    } else {
        assert_ne!(
            server.discovery()["authorization_response_iss_parameter_supported"],
            true,
            "discovery promises iss in authorization responses (RFC 9207), but {} has none",
            landing.url
        );
    }
    params
}

/// Asserts a successful authorization response and returns its code.
pub fn expect_code(server: &Server, req: &AuthRequest, landing: &Landing) -> String {
    let params = expect_callback(server, req, landing);
    assert!(
        !params.contains_key("error"),
        "the authorization request failed: {}",
        landing.url
    );
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code in the callback: {}", landing.url));
    assert!(!code.is_empty(), "an empty code: {}", landing.url);
    code.clone()
}

/// Asserts an error response at the redirect URI (RFC 6749 §4.1.2.1) with one of `errors`
/// and no code; returns the error.
pub fn expect_auth_error(
    server: &Server,
    req: &AuthRequest,
    landing: &Landing,
    errors: &[&str],
) -> String {
    let params = expect_callback(server, req, landing);
    assert!(
        !params.contains_key("code"),
        "an error response must not carry a code: {}",
        landing.url
    );
    let error = params
        .get("error")
        .unwrap_or_else(|| panic!("expected error {errors:?}, got {}", landing.url));
    assert!(
        errors.contains(&error.as_str()),
        "expected error {errors:?}, got {error:?}: {}",
        landing.url
    );
    error.clone()
}

/// Add `rp`'s client authentication to a request to `endpoint` with `form`.
pub fn authenticated(
    rp: &Rp,
    endpoint: &str,
    mut form: Vec<(String, String)>,
) -> reqwest::blocking::RequestBuilder {
    let mut req = http::client().post(endpoint);
    match &rp.auth {
        ClientAuth::SecretBasic => {
            // RFC 6749 §2.3.1: both parts form-encoded, then Basic.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let secret = rp.client_secret.as_deref().expect("a client secret");
            let creds = format!("{}:{}", enc(&rp.client_id), enc(secret));
            req = req.header(
                "authorization",
                format!(
                    "Basic {}",
                    base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        creds.as_bytes()
                    )
                ),
            );
        }
        ClientAuth::SecretPost => {
            form.push(("client_id".into(), rp.client_id.clone()));
            form.push((
                "client_secret".into(),
                rp.client_secret.clone().expect("a client secret"),
            ));
        }
        ClientAuth::PrivateKeyJwt(key) => {
            form.push(("client_id".into(), rp.client_id.clone()));
            form.push((
                "client_assertion_type".into(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ));
            form.push((
                "client_assertion".into(),
                client_assertion(rp, key, endpoint),
            ));
        }
        ClientAuth::None => form.push(("client_id".into(), rp.client_id.clone())),
    }
    req.form(&form)
}

/// A `private_key_jwt` assertion (OIDC Core §9) for `audience`.
pub fn client_assertion(rp: &Rp, key: &ClientKey, audience: &str) -> String {
    let now = jwt::now();
    key.sign(&json!({
        "iss": rp.client_id,
        "sub": rp.client_id,
        "aud": audience,
        "jti": random(32),
        "iat": now,
        "exp": now + 60,
    }))
}

/// POST `form` to the token endpoint with `rp`'s client authentication.
pub fn token_request(server: &Server, rp: &Rp, form: Vec<(String, String)>) -> Response {
    let endpoint = server.endpoint("token_endpoint");
    Response::send(authenticated(rp, &endpoint, form))
}

/// Exchange `code` (RFC 6749 §4.1.3).
pub fn exchange(server: &Server, rp: &Rp, code: &str, verifier: Option<&str>) -> Response {
    let mut form = vec![
        ("grant_type".to_string(), "authorization_code".to_string()),
        ("code".to_string(), code.to_string()),
        ("redirect_uri".to_string(), rp.redirect_uri.clone()),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier".into(), v.into()));
    }
    token_request(server, rp, form)
}

/// Use a refresh token (RFC 6749 §6).
pub fn refresh(server: &Server, rp: &Rp, refresh_token: &str) -> Response {
    token_request(
        server,
        rp,
        vec![
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), refresh_token.into()),
        ],
    )
}

/// What a successful token response held, the ID token verified.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    /// The ID token's verified claims.
    pub claims: Value,
    /// The ID token's JOSE header.
    pub header: Value,
    /// The whole token response.
    pub response: Value,
}

impl Tokens {
    pub fn sub(&self) -> &str {
        self.claims["sub"].as_str().expect("sub")
    }

    pub fn auth_time(&self) -> Option<i64> {
        self.claims.get("auth_time").map(|v| {
            v.as_i64()
                .unwrap_or_else(|| panic!("auth_time is not an integer: {v}"))
        })
    }
}

/// Asserts a successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3) and validates its
/// ID token (OIDC Core §3.1.3.7) for `rp` with the request's `nonce`.
pub fn expect_tokens(server: &Server, rp: &Rp, res: &Response, nonce: Option<&str>) -> Tokens {
    let body = res.expect_json(200);
    let cache = res
        .header("cache-control")
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(
        cache.contains("no-store"),
        "{}: a token response must have Cache-Control: no-store (RFC 6749 §5.1), got {cache:?}",
        res.request
    );
    let token_type = body["token_type"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: token response without token_type: {body}", res.request));
    assert!(
        token_type.eq_ignore_ascii_case("bearer"),
        "{}: token_type must be Bearer (OIDC Core §3.1.3.3), got {token_type:?}",
        res.request
    );
    let access_token = body["access_token"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{}: token response without access_token: {body}",
                res.request
            )
        })
        .to_string();
    let expires_in = body.get("expires_in").map(|v| {
        let n = v
            .as_i64()
            .unwrap_or_else(|| panic!("{}: expires_in must be a number: {body}", res.request));
        assert!(
            n > 0,
            "{}: expires_in must be positive: {body}",
            res.request
        );
        n
    });
    let id_token = body["id_token"]
        .as_str()
        .unwrap_or_else(|| {
            panic!(
                "{}: an OpenID token response must have an id_token: {body}",
                res.request
            )
        })
        .to_string();
    let (header, claims) = validate_id_token(server, rp, &id_token, nonce);
    if let Some(at_hash) = claims.get("at_hash") {
        let alg = header["alg"].as_str().expect("alg");
        assert_eq!(
            at_hash.as_str(),
            Some(jwt::half_hash(alg, &access_token).as_str()),
            "at_hash does not match the access token (OIDC Core §3.1.3.8)"
        );
    }
    let refresh_token = body
        .get("refresh_token")
        .map(|v| v.as_str().expect("refresh_token is a string").to_string());
    Tokens {
        access_token,
        id_token,
        refresh_token,
        expires_in,
        claims,
        header,
        response: body,
    }
}

fn oidc_alg(alg: &str) -> CoreJwsSigningAlgorithm {
    match alg {
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "EdDSA" => CoreJwsSigningAlgorithm::EdDsa,
        other => panic!("no openidconnect algorithm for {other}"),
    }
}

/// What an ID token's `nonce` must be.
#[derive(Debug, Clone, Copy)]
pub enum NonceCheck<'a> {
    /// The request's nonce.
    Equals(&'a str),
    /// No nonce (none was requested).
    Absent,
    /// Either absent or the original request's (ID tokens from a refresh, OIDC Core §12.2).
    AbsentOr(&'a str),
}

/// Validate an ID token for `rp` as OIDC Core §3.1.3.7 says, twice: with `openidconnect`'s
/// verifier and by hand with `jsonwebtoken` against the JWKS. `nonce` is the request's.
/// Returns (header, claims).
pub fn validate_id_token(
    server: &Server,
    rp: &Rp,
    raw: &str,
    nonce: Option<&str>,
) -> (Value, Value) {
    let check = match nonce {
        Some(n) => NonceCheck::Equals(n),
        None => NonceCheck::Absent,
    };
    validate_id_token_with(server, rp, raw, check)
}

/// As [`validate_id_token`], with any [`NonceCheck`].
pub fn validate_id_token_with(
    server: &Server,
    rp: &Rp,
    raw: &str,
    nonce: NonceCheck<'_>,
) -> (Value, Value) {
    let header = jwt::header(raw);
    assert_eq!(
        header["alg"].as_str(),
        Some(rp.id_token_alg.as_str()),
        "the ID token must be signed with the client's registered algorithm; header {header}"
    );

    // 1. openidconnect, as a Rust relying party would.
    let client = server.openid_client(rp);
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs([oidc_alg(&rp.id_token_alg)]);
    let id: CoreIdToken = raw
        .parse()
        .unwrap_or_else(|e| panic!("openidconnect cannot parse the ID token: {e:?}"));
    let result = match nonce {
        NonceCheck::Equals(n) => id.claims(&verifier, &Nonce::new(n.to_string())).map(|_| ()),
        NonceCheck::Absent => id
            .claims(&verifier, |n: Option<&Nonce>| match n {
                None => Ok(()),
                Some(_) => Err("nonce in the ID token although the request had none".into()),
            })
            .map(|_| ()),
        NonceCheck::AbsentOr(expected) => id
            .claims(&verifier, |n: Option<&Nonce>| match n {
                Some(n) if n.secret() != expected => {
                    Err("a nonce other than the original request's".into())
                }
                _ => Ok(()),
            })
            .map(|_| ()),
    };
    if let Err(e) = result {
        panic!(
            "openidconnect rejects the ID token: {e:?}\nclaims: {}",
            jwt::payload(raw)
        );
    }

    // 2. By hand.
    let claims = jwt::verify(raw, &server.jwks(), &[rp.id_token_alg.as_str()]);
    let now = jwt::now();
    assert_eq!(
        claims["iss"], server.issuer,
        "iss must be the issuer: {claims}"
    );
    match &claims["aud"] {
        Value::String(a) => assert_eq!(a, &rp.client_id, "aud: {claims}"),
        Value::Array(a) => {
            assert!(a.iter().any(|x| x == &rp.client_id), "aud: {claims}");
            if a.len() > 1 {
                assert_eq!(claims["azp"], rp.client_id, "azp with several audiences");
            }
        }
        other => panic!("aud must be a string or array, got {other}"),
    }
    let sub = claims["sub"]
        .as_str()
        .unwrap_or_else(|| panic!("sub missing: {claims}"));
    assert!(
        !sub.is_empty() && sub.len() <= 255 && sub.is_ascii(),
        "sub must be 1 to 255 ASCII characters (OIDC Core §2): {sub:?}"
    );
    let exp = claims["exp"]
        .as_i64()
        .unwrap_or_else(|| panic!("exp missing: {claims}"));
    let iat = claims["iat"]
        .as_i64()
        .unwrap_or_else(|| panic!("iat missing: {claims}"));
    assert!(exp > now, "the ID token has expired: exp {exp}, now {now}");
    assert!(
        iat <= now + 60 && iat >= now - 600,
        "iat {iat} is not about now ({now})"
    );
    assert!(exp > iat, "exp {exp} not after iat {iat}");
    if let Some(at) = claims.get("auth_time") {
        let at = at
            .as_i64()
            .unwrap_or_else(|| panic!("auth_time must be a number: {claims}"));
        assert!(at <= now + 5, "auth_time {at} is in the future (now {now})");
    }
    match nonce {
        NonceCheck::Equals(n) => assert_eq!(claims["nonce"], n, "nonce: {claims}"),
        NonceCheck::Absent => assert!(claims.get("nonce").is_none(), "unexpected nonce: {claims}"),
        NonceCheck::AbsentOr(n) => assert!(
            claims.get("nonce").is_none() || claims["nonce"] == n,
            "nonce must be absent or the original one: {claims}"
        ),
    }
    (header, claims)
}

/// How to present the access token at the userinfo endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserinfoStyle {
    /// GET with `Authorization: Bearer` (RFC 6750 §2.1).
    Get,
    /// POST with `Authorization: Bearer`.
    PostHeader,
    /// POST with `access_token` in the form body (RFC 6750 §2.2).
    PostBody,
}

/// Call the userinfo endpoint.
pub fn userinfo_request(server: &Server, access_token: &str, style: UserinfoStyle) -> Response {
    let endpoint = server.endpoint("userinfo_endpoint");
    let c = http::client();
    let req = match style {
        UserinfoStyle::Get => c.get(&endpoint).bearer_auth(access_token),
        UserinfoStyle::PostHeader => c.post(&endpoint).bearer_auth(access_token),
        UserinfoStyle::PostBody => c.post(&endpoint).form(&[("access_token", access_token)]),
    };
    Response::send(req)
}

/// Userinfo for `tokens` (GET), asserted to be a JSON object about the same `sub` (OIDC Core
/// §5.3.2).
pub fn userinfo(server: &Server, tokens: &Tokens) -> Value {
    userinfo_with(server, tokens, UserinfoStyle::Get)
}

/// As [`userinfo`], presenting the token as `style` says.
pub fn userinfo_with(server: &Server, tokens: &Tokens, style: UserinfoStyle) -> Value {
    let res = userinfo_request(server, &tokens.access_token, style);
    let v = res.expect_json(200);
    assert_eq!(
        v["sub"], tokens.claims["sub"],
        "{}: userinfo's sub must equal the ID token's (OIDC Core §5.3.2)",
        res.request
    );
    v
}

/// One code flow's results.
#[derive(Debug, Clone)]
pub struct Flow {
    pub request: AuthRequest,
    pub landing: Landing,
    pub code: String,
    pub tokens: Tokens,
}

/// The authorization code flow, end to end: send `req` with `browser` (signing in if the
/// server asks), check the callback, exchange the code as `rp`, validate the tokens.
pub fn code_flow(server: &Server, browser: &Browser, rp: &Rp, req: AuthRequest) -> Flow {
    let landing = req.send(server, browser);
    let code = expect_code(server, &req, &landing);
    let res = exchange(server, rp, &code, req.code_verifier.as_deref());
    let tokens = expect_tokens(server, rp, &res, req.nonce.as_deref());
    Flow {
        request: req,
        landing,
        code,
        tokens,
    }
}

/// The claims Leerpoort adds for anyone (docs/integrate-oidc.md, "Claims"), asserted on `claims` (an ID
/// token's or userinfo's) for a staff member of the demo school with `role`.
pub fn assert_leerpoort_claims(server: &Server, claims: &Value, role: &str, what: &str) {
    assert_eq!(
        claims["instelling_ref"],
        server.school_ref(),
        "{what}: instelling_ref must be the school's INSTELLING_REF: {claims}"
    );
    assert_eq!(
        claims["brin6"], server.demo["school"]["brin6"],
        "{what}: brin6 must be the school's BRIN + location: {claims}"
    );
    assert_eq!(claims["role"], role, "{what}: role: {claims}");
    let ctx = claims["login_context"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: login_context missing: {claims}"));
    assert!(
        ["school", "thuis", "netwerk"].contains(&ctx),
        "{what}: login_context must be school, thuis or netwerk: {claims}"
    );
    let eckid = claims["eckid"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: eckid missing (released by default): {claims}"));
    assert!(
        eckid.starts_with("https://ketenid.nl/"),
        "{what}: eckid must be an ECK-iD URI: {eckid:?}"
    );
}
