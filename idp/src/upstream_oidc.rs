//! OpenID Connect upstreams (network environments): Leerpoort as a confidential client of the
//! upstream, with the `openidconnect` crate.
//!
//! [`login_start`] reads the upstream's discovery document (cached for [`METADATA_TTL`]),
//! sends the browser there with PKCE (S256), `state` and `nonce` (and `prompt=none` when the
//! relying party asked it), and keeps a [`Pending`] under the `state`. [`login_finish`] takes
//! it back (single use), checks the RFC 9207 `iss` parameter (required when the upstream says
//! it sends one: the mix-up defence), exchanges the code with the PKCE verifier, and verifies
//! the ID token: signature with the upstream's JWKS (fetched again once when a `kid` is
//! unknown), `iss`, `aud` (only Leerpoort's client id), `azp`, `nonce`, `exp` and `iat` with a
//! small skew, against the injected clock. The verified claims go to
//! [`crate::upstream::finish`].

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use broker::model::{Upstream, UpstreamProtocol};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClient, CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, JsonWebKeySet, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope, SignatureVerificationError,
    TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::AppState;
use crate::upstream::{self, Pending};

/// How long an upstream's discovery document and keys are reused.
pub const METADATA_TTL: Duration = Duration::from_secs(300);
/// A back-channel logout token with a key id the cached keys lack reads the upstream's keys
/// again at most this often (per upstream): junk tokens cannot make Leerpoort fetch them.
pub const KEYS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// The window of the back-channel logout endpoint's limits.
pub const BACKCHANNEL_WINDOW: Duration = Duration::from_secs(60);
/// Refused logout tokens one address may send in a window; after that its requests are
/// refused before anything is verified.
pub const BACKCHANNEL_REFUSED_PER_ADDRESS: u64 = 120;
/// Logout tokens naming one upstream as issuer that are looked at in a window.
pub const BACKCHANNEL_PER_UPSTREAM: u64 = 600;
/// Clock skew allowed on `exp` and `iat`.
pub const SKEW_SECS: i64 = 60;
/// Where every OIDC upstream sends the browser back to.
pub const CALLBACK_PATH: &str = "/broker/oidc/callback";

/// The discovery fields `openidconnect` does not know: RFC 9207's, and the logout endpoint.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IssParameter {
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// OpenID Connect RP-Initiated Logout 1.0.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for IssParameter {}

type Metadata = ProviderMetadata<
    IssParameter,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Why a sign-in at an OIDC upstream failed. Each names the check; none carries a token.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamOidcError {
    #[error("this is not an OIDC upstream")]
    NotOidc,
    #[error("the upstream's discovery document or keys could not be read: {0}")]
    Discovery(String),
    #[error("the upstream's client secret cannot be read")]
    Secret,
    #[error("unknown or expired state: this sign-in was not started here, or took too long")]
    UnknownState,
    #[error(
        "the state belongs to a sign-in another browser started (no or another binding cookie)"
    )]
    OtherBrowser,
    #[error("the authorization response names issuer '{0}', not the upstream's (mix-up)")]
    WrongIssuerParameter(String),
    #[error("the upstream announces the iss parameter (RFC 9207) but the response lacks it")]
    MissingIssuerParameter,
    #[error("the upstream answered: {0}")]
    UpstreamError(String),
    #[error("the upstream requires a sign-in and the request was passive")]
    LoginRequired,
    #[error("the authorization response has no code")]
    NoCode,
    #[error("the token request failed: {0}")]
    Token(String),
    #[error("the token response has no ID token")]
    NoIdToken,
    #[error("the ID token is not valid: {0}")]
    IdToken(String),
    #[error(transparent)]
    Finish(#[from] upstream::FinishError),
    #[error("try again in a few minutes")]
    Unavailable,
    #[error("too many back-channel logout requests; try again in a minute")]
    RateLimited,
}

fn http_client() -> Result<reqwest::blocking::Client, UpstreamOidcError> {
    reqwest::blocking::Client::builder()
        // Never follow redirects from an identity provider's back channel (RFC 9700 §4.11).
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| UpstreamOidcError::Discovery(e.to_string()))
}

fn cache() -> &'static Mutex<HashMap<String, (Instant, Metadata)>> {
    static CACHE: OnceLock<Mutex<HashMap<String, (Instant, Metadata)>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// When each upstream's keys were last read (with its discovery document or alone).
fn keys_read() -> &'static Mutex<HashMap<String, Instant>> {
    static READ: OnceLock<Mutex<HashMap<String, Instant>>> = OnceLock::new();
    READ.get_or_init(|| Mutex::new(HashMap::new()))
}

fn note_keys_read(issuer: &str) {
    if let Ok(mut r) = keys_read().lock() {
        r.insert(issuer.to_string(), Instant::now());
    }
}

/// May the keys of `issuer` be read again now? At most once per [`KEYS_REFETCH_INTERVAL`];
/// a yes counts as the reading.
fn may_read_keys_again(issuer: &str) -> bool {
    let Ok(mut r) = keys_read().lock() else {
        return false;
    };
    match r.get(issuer) {
        Some(at) if at.elapsed() < KEYS_REFETCH_INTERVAL => false,
        _ => {
            r.insert(issuer.to_string(), Instant::now());
            true
        }
    }
}

/// The upstream's discovery document with its keys: cached, or read again when `fresh`.
fn metadata(issuer: &str, fresh: bool) -> Result<Metadata, UpstreamOidcError> {
    if !fresh {
        if let Ok(c) = cache().lock() {
            if let Some((at, m)) = c.get(issuer) {
                if at.elapsed() < METADATA_TTL {
                    return Ok(m.clone());
                }
            }
        }
    }
    let http = http_client()?;
    let issuer_url = IssuerUrl::new(issuer.to_string())
        .map_err(|e| UpstreamOidcError::Discovery(e.to_string()))?;
    // Discovery checks that the document's issuer is exactly the upstream's.
    let m = Metadata::discover(&issuer_url, &http)
        .map_err(|e| UpstreamOidcError::Discovery(format!("{e:?}")))?;
    note_keys_read(issuer);
    if let Ok(mut c) = cache().lock() {
        c.insert(issuer.to_string(), (Instant::now(), m.clone()));
    }
    Ok(m)
}

/// Read the upstream's keys again (a `kid` the cached set does not have).
fn refresh_keys(issuer: &str, m: &Metadata) -> Result<Metadata, UpstreamOidcError> {
    let http = http_client()?;
    let jwks = JsonWebKeySet::fetch(m.jwks_uri(), &http)
        .map_err(|e| UpstreamOidcError::Discovery(format!("{e:?}")))?;
    note_keys_read(issuer);
    let m = m.clone().set_jwks(jwks);
    if let Ok(mut c) = cache().lock() {
        c.insert(issuer.to_string(), (Instant::now(), m.clone()));
    }
    Ok(m)
}

/// The scope that carries a standard claim (OpenID Connect Core §5.4), if any.
pub fn scope_of_claim(claim: &str) -> Option<&'static str> {
    match claim {
        "name" | "given_name" | "family_name" | "middle_name" | "nickname"
        | "preferred_username" | "profile" | "picture" | "website" | "gender" | "birthdate"
        | "zoneinfo" | "locale" | "updated_at" => Some("profile"),
        "email" | "email_verified" => Some("email"),
        "address" => Some("address"),
        "phone_number" | "phone_number_verified" => Some("phone"),
        _ => None,
    }
}

/// Every scope Leerpoort asks an OIDC upstream for: `openid`, the scope that carries the
/// claim it matches on (`email` for `email`, `profile` for the names, and the other standard
/// claims likewise), `profile` when it provisions (the new user's names), and the operator's
/// own `--scope`s. In that order, each once.
pub fn scopes_asked(match_claim: &str, provision: bool, extra: &[String]) -> Vec<String> {
    let mut out = vec!["openid".to_string()];
    let derived = scope_of_claim(match_claim)
        .into_iter()
        .chain(provision.then_some("profile"));
    for s in derived.map(str::to_string).chain(extra.iter().cloned()) {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The scopes Leerpoort asks `u` for (see [`scopes_asked`]); empty for a SAML upstream.
pub fn scopes_of(u: &Upstream) -> Vec<String> {
    match &u.protocol {
        UpstreamProtocol::Oidc { scopes, .. } => scopes_asked(&u.match_claim, u.provision, scopes),
        UpstreamProtocol::Saml { .. } => Vec::new(),
    }
}

struct Client {
    issuer: String,
    client_id: String,
    /// `None`: `private_key_jwt` with Leerpoort's own keys.
    secret: Option<String>,
    scopes: Vec<String>,
}

fn client_of(state: &AppState, u: &Upstream) -> Result<Client, UpstreamOidcError> {
    let UpstreamProtocol::Oidc {
        issuer,
        client_id,
        client_secret_sealed,
        client_auth,
        ..
    } = &u.protocol
    else {
        return Err(UpstreamOidcError::NotOidc);
    };
    let secret = match client_auth.as_str() {
        "private_key_jwt" => None,
        _ => Some(
            client_secret_sealed
                .as_deref()
                .and_then(|s| state.sealer.open(u.id, s))
                .ok_or(UpstreamOidcError::Secret)?,
        ),
    };
    Ok(Client {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        secret,
        scopes: scopes_of(u),
    })
}

fn core_client(
    state: &AppState,
    c: &Client,
    m: Metadata,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    UpstreamOidcError,
> {
    let redirect = RedirectUrl::new(format!("{}{CALLBACK_PATH}", state.config.issuer))
        .map_err(|e| UpstreamOidcError::Discovery(e.to_string()))?;
    Ok(CoreClient::from_provider_metadata(
        m,
        ClientId::new(c.client_id.clone()),
        c.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect))
}

/// What the pending sign-in keeps for this protocol.
#[derive(Debug, Serialize, Deserialize)]
struct OidcPending {
    verifier: String,
    nonce: String,
}

/// Send the browser to `upstream` to sign in: the URL to redirect it to, and the cookie that
/// binds the sign-in to this browser (set it with the redirect).
pub fn login_start(
    state: &AppState,
    u: &Upstream,
    mut pending: Pending,
) -> Result<(String, upstream::Binding), UpstreamOidcError> {
    let c = client_of(state, u)?;
    let m = metadata(&c.issuer, false)?;
    let client = core_client(state, &c, m)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    // `openid` is always there.
    for s in c.scopes.iter().filter(|s| *s != "openid") {
        req = req.add_scope(Scope::new(s.clone()));
    }
    if pending.passive {
        req = req.add_prompt(CoreAuthPrompt::None);
    }
    let (url, csrf, nonce) = req.url();
    pending.upstream = u.id;
    pending.protocol = serde_json::to_value(OidcPending {
        verifier: verifier.secret().clone(),
        nonce: nonce.secret().clone(),
    })
    .map_err(|_| UpstreamOidcError::Unavailable)?;
    let binding = upstream::bind_and_put(state, PENDING_KIND, csrf.secret(), pending)
        .map_err(|_| UpstreamOidcError::Unavailable)?;
    Ok((url.to_string(), binding))
}

/// The pending-store kind of an OIDC upstream sign-in (its key is the `state`).
pub const PENDING_KIND: &str = "oidc";

/// The name of the cookie that binds the sign-in with `state` to its browser.
pub fn binding_cookie_name(state: &str) -> String {
    upstream::binding_cookie_name(PENDING_KIND, state)
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

/// What a finished upstream sign-in gives.
#[derive(Debug)]
pub struct Finished {
    pub upstream: Upstream,
    pub pending: Pending,
    /// The session and where the browser goes, or why the upstream did not sign anyone in.
    pub result: Result<(crate::session::SsoSession, String), UpstreamOidcError>,
}

/// The upstream's claims as the matching rules read them: strings; numbers and booleans as
/// text; of an array its first element.
fn asserted(claims: &Value) -> broker::federation::Asserted {
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
fn link_of(claims: &Value, id_token: Option<String>) -> upstream::UpstreamLink {
    let get = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_string);
    upstream::UpstreamLink {
        sid: get("sid"),
        sub: get("sub"),
        id_token,
    }
}

/// The payload of a JWT whose signature was verified already.
fn payload(jwt: &str) -> Value {
    use base64::Engine as _;
    jwt.split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// Finish the sign-in the browser returns with; `binding` is the value of the browser's
/// binding cookie for this `state` ([`binding_cookie_name`]). An error when the `state` is
/// unknown, or was started by another browser: nothing to resume, nobody signed in.
pub fn login_finish(
    state: &AppState,
    cb: &Callback,
    binding: Option<&str>,
    ip: Option<&str>,
    previous_sid: Option<&str>,
    now: i64,
) -> Result<Finished, UpstreamOidcError> {
    let key = cb.state.as_deref().ok_or(UpstreamOidcError::UnknownState)?;
    let pending =
        upstream::take_pending(state, PENDING_KIND, key).ok_or(UpstreamOidcError::UnknownState)?;
    // Login CSRF (RFC 9700 §4.7): only the browser that started this sign-in may finish it.
    // The pending sign-in is used up either way.
    if !upstream::is_bound(&pending, binding) {
        return Err(UpstreamOidcError::OtherBrowser);
    }
    let u = state
        .dir
        .upstream(pending.upstream)
        .map_err(|_| UpstreamOidcError::Unavailable)?
        .ok_or(UpstreamOidcError::UnknownState)?;
    let result = verify(state, &u, &pending, cb, now).and_then(|(claims, id_token)| {
        let link = link_of(&claims, Some(id_token));
        upstream::finish_linked(
            state,
            &u,
            &asserted(&claims),
            &pending,
            ip,
            previous_sid,
            now,
            Some(&link),
        )
        .map_err(UpstreamOidcError::from)
    });
    if let Err(e) = &result {
        tracing::info!(upstream = %u.name, error = %e, "sign-in through a network environment refused");
    }
    Ok(Finished {
        upstream: u,
        pending,
        result,
    })
}

/// Check the authorization response, redeem the code, verify the ID token: its claims.
fn verify(
    state: &AppState,
    u: &Upstream,
    pending: &Pending,
    cb: &Callback,
    now: i64,
) -> Result<(Value, String), UpstreamOidcError> {
    let c = client_of(state, u)?;
    let m = metadata(&c.issuer, false)?;
    // RFC 9207: a response naming another issuer is a mix-up; a missing one only counts when
    // the upstream announces it sends one.
    match cb.iss.as_deref() {
        Some(iss) if iss.trim_end_matches('/') != c.issuer.trim_end_matches('/') => {
            return Err(UpstreamOidcError::WrongIssuerParameter(
                iss.chars().take(200).collect(),
            ))
        }
        None if m
            .additional_metadata()
            .authorization_response_iss_parameter_supported =>
        {
            return Err(UpstreamOidcError::MissingIssuerParameter)
        }
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
    let code = cb.code.as_deref().ok_or(UpstreamOidcError::NoCode)?;
    let p: OidcPending = serde_json::from_value(pending.protocol.clone())
        .map_err(|_| UpstreamOidcError::UnknownState)?;
    let http = http_client()?;
    let client = core_client(state, &c, m.clone())?;
    let mut exchange = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| UpstreamOidcError::Token(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(p.verifier));
    if c.secret.is_none() {
        // private_key_jwt (OIDC Core §9): an assertion for the token endpoint, signed with
        // Leerpoort's own key (its JWKS is published at /oidc/jwks).
        let assertion = client_assertion(state, &c.client_id, m.token_endpoint(), now)?;
        exchange = exchange
            .add_extra_param(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .add_extra_param("client_assertion", assertion);
    }
    let tokens = exchange
        .request(&http)
        .map_err(|e| UpstreamOidcError::Token(format!("{e:?}").chars().take(300).collect()))?;
    let id_token = tokens
        .id_token()
        .ok_or(UpstreamOidcError::NoIdToken)?
        .clone();
    let nonce = Nonce::new(p.nonce);
    let check = |client: &CoreClient<_, _, _, _, _, _>| -> Result<(), ClaimsVerificationError> {
        let verifier = client
            .id_token_verifier()
            .set_time_fn(move || {
                chrono::DateTime::from_timestamp(now - SKEW_SECS, 0).unwrap_or_default()
            })
            .set_issue_time_verifier_fn(move |iat| {
                if iat.timestamp() > now + SKEW_SECS {
                    Err("issued in the future".into())
                } else {
                    Ok(())
                }
            });
        id_token.claims(&verifier, &nonce).map(|_| ())
    };
    match check(&client) {
        Ok(()) => {}
        // A key the cached set does not have: read the keys once more and try again.
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            let m = refresh_keys(&c.issuer, &m)?;
            let client = core_client(state, &c, m)?;
            check(&client).map_err(|e| UpstreamOidcError::IdToken(format!("{e:?}")))?;
        }
        Err(e) => return Err(UpstreamOidcError::IdToken(format!("{e:?}"))),
    }
    let mut claims = payload(&id_token.to_string());
    // `azp`, when present, must be Leerpoort itself (OIDC Core §3.1.3.7, items 4 and 5).
    if let Some(azp) = claims.get("azp").and_then(Value::as_str) {
        if azp != c.client_id {
            return Err(UpstreamOidcError::IdToken("azp is another client".into()));
        }
    }
    // Many providers put scope claims in UserInfo only: ask it for what matching needs.
    if claims.get(&u.match_claim).is_none() {
        if let Some(endpoint) = m.userinfo_endpoint() {
            let info = userinfo(
                &http,
                endpoint.url().as_str(),
                tokens.access_token().secret(),
            )?;
            // OIDC Core §5.3.2: the UserInfo `sub` must be the ID token's.
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
        }
    }
    Ok((claims, id_token.to_string()))
}

/// A `private_key_jwt` client assertion for `token_endpoint` (RS256, one minute).
fn client_assertion(
    state: &AppState,
    client_id: &str,
    token_endpoint: Option<&openidconnect::TokenUrl>,
    now: i64,
) -> Result<String, UpstreamOidcError> {
    let aud = token_endpoint
        .map(|t| t.url().to_string())
        .ok_or_else(|| UpstreamOidcError::Discovery("no token endpoint".into()))?;
    let jti = broker::secrets::random_token().map_err(|_| UpstreamOidcError::Unavailable)?;
    let claims = serde_json::json!({
        "iss": client_id, "sub": client_id, "aud": aud, "jti": jti,
        "iat": now, "exp": now + 60,
    });
    crate::keys::sign_jwt(
        state.keys.as_ref(),
        broker::model::JwsAlg::RS256,
        "JWT",
        &claims,
    )
    .map_err(|_| UpstreamOidcError::Unavailable)
}

/// Where to send the browser to sign out at the upstream session `s` came from, if it is an
/// OIDC upstream that offers RP-initiated logout; it sends the browser back to
/// [`SIGNED_OUT_PATH`].
pub fn logout_url(state: &AppState, s: &crate::session::SsoSession) -> Option<String> {
    let link = s.upstream.as_ref()?;
    let u = state.dir.upstream(link.upstream).ok()??;
    let UpstreamProtocol::Oidc {
        issuer, client_id, ..
    } = &u.protocol
    else {
        return None;
    };
    let m = metadata(issuer, false).ok()?;
    let endpoint = m.additional_metadata().end_session_endpoint.clone()?;
    let mut url = url::Url::parse(&endpoint).ok()?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(t) = &link.id_token {
            q.append_pair("id_token_hint", t);
        }
        q.append_pair("client_id", client_id);
        q.append_pair(
            "post_logout_redirect_uri",
            &format!("{}{SIGNED_OUT_PATH}", state.config.issuer),
        );
    }
    Some(url.to_string())
}

/// Where an upstream's logout sends the browser back to.
pub const SIGNED_OUT_PATH: &str = "/broker/oidc/uitgelogd";

/// The upstream's UserInfo for `access_token` (plain JSON; signed UserInfo is not used).
fn userinfo(
    http: &reqwest::blocking::Client,
    endpoint: &str,
    access_token: &str,
) -> Result<Value, UpstreamOidcError> {
    let res = http
        .get(endpoint)
        .bearer_auth(access_token)
        .header("accept", "application/json")
        .send()
        .map_err(|e| UpstreamOidcError::Token(format!("UserInfo: {e}")))?;
    if !res.status().is_success() {
        return Err(UpstreamOidcError::Token(format!(
            "UserInfo answered {}",
            res.status()
        )));
    }
    let bytes = res
        .bytes()
        .map_err(|e| UpstreamOidcError::Token(format!("UserInfo: {e}")))?;
    if bytes.len() > 64 * 1024 {
        return Err(UpstreamOidcError::Token("UserInfo is too large".into()));
    }
    serde_json::from_slice(&bytes)
        .map_err(|_| UpstreamOidcError::Token("UserInfo is not JSON".into()))
}

/// The event a logout token carries (OpenID Connect Back-Channel Logout 1.0 §2.4).
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The key in `m`'s cached key set that a token with `header` names: by `kid` (or the first
/// key when the token names none).
fn logout_key(m: &Metadata, header: &jsonwebtoken::Header) -> Option<jsonwebtoken::DecodingKey> {
    let set = serde_json::to_value(m.jwks()).ok()?;
    set.get("keys")?
        .as_array()?
        .iter()
        .filter_map(|k| serde_json::from_value::<jsonwebtoken::jwk::Jwk>(k.clone()).ok())
        .find(|k| header.kid.is_none() || k.common.key_id == header.kid)
        .and_then(|k| jsonwebtoken::DecodingKey::from_jwk(&k).ok())
}

/// An upstream logs a user out over the back channel: verify its logout token (signature with
/// the upstream's keys, `iss`, `aud`, `iat`, the event, no `nonce`, `sid` or `sub`, a `jti`
/// seen once) and end the Leerpoort sessions that came from it — which tells Leerpoort's own
/// relying parties in turn. The deliveries to make.
///
/// The keys are the cached ones (with the discovery document, [`METADATA_TTL`]); a `kid`
/// they lack reads them again at most once per [`KEYS_REFETCH_INTERVAL`]. An address that
/// sent more than [`BACKCHANNEL_REFUSED_PER_ADDRESS`] refused tokens in the window, or more
/// than [`BACKCHANNEL_PER_UPSTREAM`] tokens naming one upstream, is refused before anything
/// is verified.
pub fn backchannel_logout(
    state: &AppState,
    logout_token: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Vec<crate::oidc::logout::BackchannelDelivery>, UpstreamOidcError> {
    let address_key = ip.map(|ip| format!("rl:upstream-bcl-refused:{ip}"));
    if let Some(k) = &address_key {
        let refused = state
            .store
            .count(k, BACKCHANNEL_WINDOW)
            .map_err(|_| UpstreamOidcError::Unavailable)?;
        if refused >= BACKCHANNEL_REFUSED_PER_ADDRESS {
            return Err(UpstreamOidcError::RateLimited);
        }
    }
    let result = verify_logout(state, logout_token, now);
    if let (Err(e), Some(k)) = (&result, &address_key) {
        if !matches!(
            e,
            UpstreamOidcError::RateLimited | UpstreamOidcError::Unavailable
        ) {
            let _ = state.store.incr(k, BACKCHANNEL_WINDOW);
        }
    }
    result
}

fn verify_logout(
    state: &AppState,
    logout_token: &str,
    now: i64,
) -> Result<Vec<crate::oidc::logout::BackchannelDelivery>, UpstreamOidcError> {
    let bad = |m: &str| UpstreamOidcError::IdToken(format!("logout token: {m}"));
    let unverified = payload(logout_token);
    let iss = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no iss"))?;
    let u = state
        .dir
        .upstreams()
        .map_err(|_| UpstreamOidcError::Unavailable)?
        .into_iter()
        .find(|u| {
            u.enabled
                && matches!(&u.protocol, UpstreamProtocol::Oidc { issuer, .. }
                    if issuer.trim_end_matches('/') == iss.trim_end_matches('/'))
        })
        .ok_or_else(|| bad("not from a known network environment"))?;
    let looked_at = state
        .store
        .incr(&format!("rl:upstream-bcl:{}", u.id), BACKCHANNEL_WINDOW)
        .map_err(|_| UpstreamOidcError::Unavailable)?;
    if looked_at > BACKCHANNEL_PER_UPSTREAM {
        return Err(UpstreamOidcError::RateLimited);
    }
    let c = client_of(state, &u)?;
    let header = jsonwebtoken::decode_header(logout_token).map_err(|_| bad("no JOSE header"))?;
    if !matches!(
        header.alg,
        jsonwebtoken::Algorithm::RS256
            | jsonwebtoken::Algorithm::ES256
            | jsonwebtoken::Algorithm::PS256
            | jsonwebtoken::Algorithm::EdDSA
    ) {
        return Err(bad("an algorithm Leerpoort does not accept"));
    }
    let m = metadata(&c.issuer, false)?;
    let decoding = match logout_key(&m, &header) {
        Some(k) => k,
        // A key the cached set lacks: the upstream may have rotated. Read its keys again,
        // but not more often than once per interval, whatever arrives.
        None if may_read_keys_again(&c.issuer) => {
            let m = refresh_keys(&c.issuer, &m)?;
            logout_key(&m, &header).ok_or_else(|| bad("signed with an unknown key"))?
        }
        None => return Err(bad("signed with an unknown key")),
    };
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_issuer(&[iss]);
    v.set_audience(&[c.client_id.as_str()]);
    v.validate_exp = false;
    v.required_spec_claims = ["iss", "aud", "iat"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let claims: Value = jsonwebtoken::decode(logout_token, &decoding, &v)
        .map_err(|e| bad(&e.to_string()))?
        .claims;
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
    if iat > now + SKEW_SECS || iat < now - 5 * 60 {
        return Err(bad("iat out of range"));
    }
    if claims
        .get("events")
        .and_then(|e| e.get(LOGOUT_EVENT))
        .is_none()
    {
        return Err(bad("not a logout event"));
    }
    if claims.get("nonce").is_some() {
        return Err(bad("a nonce is forbidden"));
    }
    let link = link_of(&claims, None);
    if link.sid.is_none() && link.sub.is_none() {
        return Err(bad("neither sid nor sub"));
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no jti"))?;
    let fresh = state
        .store
        .put_if_absent(
            &format!("upstream-jti:{}:{jti}", u.id),
            b"1",
            Duration::from_secs(10 * 60),
        )
        .map_err(|_| UpstreamOidcError::Unavailable)?;
    if !fresh {
        return Err(bad("replayed"));
    }
    let mut deliveries = Vec::new();
    for sid in upstream::linked_sessions(state, u.id, &link) {
        if let Ok(Some(s)) = crate::session::load(state.store.as_ref(), &sid, now) {
            deliveries.extend(crate::oidc::logout::terminate(state, &s, now));
        }
    }
    tracing::info!(upstream = %u.name, "network environment logged a user out");
    Ok(deliveries)
}
