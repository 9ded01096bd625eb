//! The authorization endpoint (OIDC Core §3.1.2), GET and POST.
//!
//! `response_type=code` only. PKCE `S256` is required for public clients and honoured for
//! confidential ones; `plain` is refused. The redirect URI must match a registered one exactly;
//! until it does, errors are shown as a page and never redirected.

use std::collections::HashMap;
use std::time::Duration;

use broker::model::RelyingParty;
use broker::release::Denial;
use serde_json::Value;
use url::Url;

use super::{
    has_scope, paths, tokens, AuthRequest, CodeGrant, OidcError, CODE_SECS, PENDING_SECS,
    SCOPES_SUPPORTED,
};
use crate::app::AppState;
use crate::session;

/// What the endpoint does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send the browser here: a code, or an error for a trusted redirect URI.
    Redirect(String),
    /// The user must sign in first; the request waits under `auth_id`.
    Login {
        auth_id: String,
        login_hint: Option<String>,
    },
    /// The redirect URI cannot be trusted: show a page, redirect nowhere.
    ErrorPage(RequestProblem),
    /// The school's settings block this software: say which, and offer to go back.
    Denied {
        client_name: String,
        /// For whom the software is meant (the page for a wrong audience says so).
        audience: claims::Audience,
        denial: Denial,
        continue_url: String,
    },
    /// The session is used from another place than it started (potentiële sessie-overname):
    /// it has been ended; the user signs in again for the waiting request.
    Takeover { auth_id: String },
    /// Sign in at a network environment first (`idp_hint`); the request waits. `binding` is
    /// the cookie that binds that sign-in to this browser.
    Upstream {
        url: String,
        binding: broker::federation::pending::Binding,
    },
}

/// Why a request cannot be answered at the relying party: shown as a page, in the user's
/// language (the catalogue has a title and a message for each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestProblem {
    /// No `client_id`.
    MissingClient,
    /// The client is unknown or disabled.
    UnknownClient,
    /// The database could not be reached.
    Unavailable,
    /// No `redirect_uri`.
    MissingRedirectUri,
    /// The `redirect_uri` is not one the client registered.
    UnregisteredRedirectUri,
    /// The request waited too long while the user signed in.
    Expired,
}

fn page(problem: RequestProblem) -> Outcome {
    Outcome::ErrorPage(problem)
}

/// The error redirect for a trusted redirect URI (RFC 6749 §4.1.2.1, with `iss` from RFC 9207).
fn error_redirect(issuer: &str, redirect_uri: &str, state: Option<&str>, e: &OidcError) -> String {
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

fn code_redirect(issuer: &str, redirect_uri: &str, code: &str, state: Option<&str>) -> String {
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

/// Handle an authorization request. `params` are the query (GET) or form (POST) pairs.
pub fn authorize(
    state: &AppState,
    params: Vec<(String, String)>,
    sid: Option<&str>,
    ip: Option<&str>,
    now: i64,
) -> Outcome {
    let mut map: HashMap<String, String> = HashMap::new();
    let mut duplicate = None;
    for (k, v) in params {
        if map.contains_key(&k) {
            duplicate = Some(k.clone());
        }
        map.insert(k, v);
    }
    let get = |k: &str| map.get(k).map(String::as_str).filter(|v| !v.is_empty());

    // Until client and redirect URI are known and trusted, errors are pages.
    let Some(client_id) = get("client_id") else {
        return page(RequestProblem::MissingClient);
    };
    let rp = match state.dir.relying_party_by_public_id(client_id) {
        Ok(Some(rp)) if rp.enabled && rp.oidc().is_some() => rp,
        Ok(_) => return page(RequestProblem::UnknownClient),
        Err(e) => {
            tracing::error!(error = %e, "authorize: loading client");
            return page(RequestProblem::Unavailable);
        }
    };
    let Some(client) = rp.oidc() else {
        return page(RequestProblem::UnknownClient);
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return page(RequestProblem::MissingRedirectUri);
    };
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        return page(RequestProblem::UnregisteredRedirectUri);
    }
    let issuer = state.config.issuer.as_str();
    let st = get("state");
    let fail = |e: OidcError| Outcome::Redirect(error_redirect(issuer, redirect_uri, st, &e));

    if let Some(k) = duplicate {
        return fail(OidcError::InvalidRequest(format!(
            "parameter {k} is repeated"
        )));
    }
    if get("request").is_some() {
        return fail(OidcError::RequestNotSupported);
    }
    if get("request_uri").is_some() {
        return fail(OidcError::RequestUriNotSupported);
    }
    match get("response_type") {
        None => return fail(OidcError::InvalidRequest("response_type is missing".into())),
        Some("code") => {}
        Some(_) => return fail(OidcError::UnsupportedResponseType),
    }
    match get("response_mode") {
        None | Some("query") => {}
        Some(_) => {
            return fail(OidcError::InvalidRequest(
                "only response_mode=query is supported".into(),
            ))
        }
    }
    let scope = match parse_scope(get("scope")) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };

    let code_challenge = match parse_pkce(get("code_challenge"), get("code_challenge_method")) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    if client.is_public() && code_challenge.is_none() {
        return fail(OidcError::InvalidRequest(
            "public clients must use PKCE (S256)".into(),
        ));
    }

    let Options {
        prompts,
        max_age,
        requested_claims,
    } = match parse_options(get("prompt"), get("max_age"), get("claims")) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let prompt_none = prompts.contains(&"none");
    let hint_sub = match get("id_token_hint") {
        None => None,
        Some(t) => match hint_subject(state, &rp, t, now) {
            Some(s) => Some(s),
            None => {
                return fail(OidcError::InvalidRequest(
                    "id_token_hint is not an ID token of this provider for this client".into(),
                ))
            }
        },
    };

    let req = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        scope,
        state: st.map(str::to_string),
        nonce: get("nonce").map(str::to_string),
        code_challenge,
        prompt_login: prompts.contains(&"login"),
        prompt_none,
        max_age,
        login_hint: get("login_hint").map(str::to_string),
        ui_locales: get("ui_locales").map(str::to_string),
        acr_values: get("acr_values").map(str::to_string),
        requested_claims,
        created_at: now,
        hint_sub,
        idp_hint: get("idp_hint")
            .or_else(|| get("kc_idp_hint"))
            .filter(|h| !h.is_empty())
            .map(str::to_string),
    };
    proceed(state, &rp, req, sid, ip, now)
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

/// The subject an `id_token_hint` names, if it is a genuine ID token of ours for this client
/// (an expired one is fine: it is only a hint).
fn hint_subject(state: &AppState, rp: &RelyingParty, token: &str, now: i64) -> Option<String> {
    let claims = tokens::verify_id_token_hint(state, token, now)?;
    let for_rp = match &claims["aud"] {
        Value::String(a) => a == rp.public_id(),
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some(rp.public_id())),
        _ => false,
    };
    for_rp
        .then(|| claims["sub"].as_str().map(str::to_string))
        .flatten()
}

/// Continue after the user signed in: the pending request under `auth_id`.
pub fn resume(
    state: &AppState,
    auth_id: &str,
    sid: Option<&str>,
    ip: Option<&str>,
    now: i64,
) -> Outcome {
    let pending = match state.store.take(&pending_key(auth_id)) {
        Ok(Some(b)) => serde_json::from_slice::<AuthRequest>(&b).ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "authorize: loading pending request");
            None
        }
    };
    let Some(req) = pending else {
        return page(RequestProblem::Expired);
    };
    let rp = match state.dir.relying_party_by_public_id(&req.client_id) {
        Ok(Some(rp)) if rp.enabled => rp,
        _ => return page(RequestProblem::UnknownClient),
    };
    proceed(state, &rp, req, sid, ip, now)
}

/// A pending request, for the login page (its hint).
pub fn pending(state: &AppState, auth_id: &str) -> Option<AuthRequest> {
    state
        .store
        .get(&pending_key(auth_id))
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

fn pending_key(id: &str) -> String {
    format!("authreq:{id}")
}

/// Keep `req` while the user signs in (here or at a network environment): its id.
fn wait(state: &AppState, req: &AuthRequest) -> Result<String, OidcError> {
    let auth_id = crate::secrets::random_token().map_err(|_| OidcError::ServerError)?;
    let bytes = serde_json::to_vec(req).map_err(|_| OidcError::ServerError)?;
    state
        .store
        .put(
            &pending_key(&auth_id),
            &bytes,
            Duration::from_secs(PENDING_SECS),
        )
        .map_err(OidcError::from)?;
    Ok(auth_id)
}

/// With a validated request: sign-in needed? allowed? then a code.
fn proceed(
    state: &AppState,
    rp: &RelyingParty,
    req: AuthRequest,
    sid: Option<&str>,
    ip: Option<&str>,
    now: i64,
) -> Outcome {
    let issuer = state.config.issuer.as_str();
    let fail = |e: OidcError| {
        Outcome::Redirect(error_redirect(
            issuer,
            &req.redirect_uri,
            req.state.as_deref(),
            &e,
        ))
    };
    let sess = match sid.map(|s| session::load_standing(state, s, now)) {
        Some(Ok(s)) => s,
        Some(Err(e)) => return fail(OidcError::from(e)),
        None => None,
    };

    let needs_login = needs_login(state, rp, &req, sess.as_ref(), now);
    let moved = match &sess {
        Some(s) if !needs_login => {
            broker::session::ended_if_moved(state.dir.as_ref(), state.store.as_ref(), s, ip)
        }
        _ => false,
    };
    // A network environment named by `idp_hint`: sign in there ([`via_upstream`]).
    let hinted = match (&req.idp_hint, needs_login && !moved) {
        (Some(h), true) => state
            .dir
            .upstream_by_name(h)
            .ok()
            .flatten()
            .filter(|u| u.enabled),
        _ => None,
    };
    if let Some(u) = hinted {
        return via_upstream(state, &u, &req, now).unwrap_or_else(fail);
    }
    if needs_login || moved {
        if req.prompt_none {
            return fail(OidcError::LoginRequired);
        }
        let auth_id = match wait(state, &req) {
            Ok(id) => id,
            Err(e) => return fail(e),
        };
        if moved {
            return Outcome::Takeover { auth_id };
        }
        return Outcome::Login {
            auth_id,
            login_hint: req.login_hint.clone(),
        };
    }
    let Some(mut sess) = sess else {
        return fail(OidcError::LoginRequired);
    };

    // The school decides (broker); a refusal names the setting.
    let claims = match tokens::claims_for(
        state,
        rp,
        sess.user_id,
        &sess.school,
        sess.context,
        &req.scope,
        &req.requested_claims,
    ) {
        Ok(c) => c,
        Err(OidcError::Denied(denial)) if !req.prompt_none => {
            // The relying party hears the same reason the user sees (its own description for
            // each denial: not registered, withdrawn, wrong audience, school only, ...).
            let continue_url = error_redirect(
                issuer,
                &req.redirect_uri,
                req.state.as_deref(),
                &OidcError::Denied(denial.clone()),
            );
            return Outcome::Denied {
                client_name: rp.name.clone(),
                audience: rp.audience,
                denial,
                continue_url,
            };
        }
        Err(other) => return fail(other),
    };

    let code = match issue_code(state, &req, &mut sess, claims, now) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    Outcome::Redirect(code_redirect(
        issuer,
        &req.redirect_uri,
        &code,
        req.state.as_deref(),
    ))
}

/// Must the user sign in (again) before `rp` gets a code? Without a session; or, unless they
/// signed in after the request came, when it asks for `prompt=login`, the sign-in is older
/// than `max_age`, or `id_token_hint` names someone else.
fn needs_login(
    state: &AppState,
    rp: &RelyingParty,
    req: &AuthRequest,
    sess: Option<&session::SsoSession>,
    now: i64,
) -> bool {
    match sess {
        None => true,
        Some(s) => {
            let fresh = s.auth_time >= req.created_at;
            let too_old = req.max_age.is_some_and(|m| now - s.auth_time > m);
            let other_user = match &req.hint_sub {
                Some(hint) => match subject_of(state, rp, s) {
                    Some(sub) => sub != *hint,
                    None => true,
                },
                None => false,
            };
            !fresh && (req.prompt_login || too_old || other_user)
        }
    }
}

/// Sign in at the network environment `u` that `idp_hint` named, then come back here. With
/// `prompt=none` the upstream is asked to stay silent; a `login_required` from it ends as
/// `login_required` here (the hint is cleared, so it is never followed twice).
fn via_upstream(
    state: &AppState,
    u: &broker::model::Upstream,
    req: &AuthRequest,
    now: i64,
) -> Result<Outcome, OidcError> {
    let passive = req.prompt_none;
    let waiting = AuthRequest {
        idp_hint: None,
        ..req.clone()
    };
    let auth_id = wait(state, &waiting)?;
    let pending = broker::federation::pending::Pending {
        upstream: u.id,
        school: None,
        target: None,
        resume: Some(resume_url(&auth_id)),
        passive,
        protocol: Value::Null,
        browser: None,
    };
    let started = match &u.protocol {
        broker::model::UpstreamProtocol::Oidc { .. } => {
            crate::upstream_oidc::login_start(state, u, pending).map_err(|e| e.to_string())
        }
        broker::model::UpstreamProtocol::Saml { .. } => {
            crate::saml::upstream_sp::start(state, u, pending, now).map_err(|e| e.to_string())
        }
    };
    match started {
        Ok((url, binding)) => Ok(Outcome::Upstream { url, binding }),
        Err(e) => {
            tracing::warn!(upstream = %u.name, error = %e, "idp_hint: the network environment cannot be reached");
            Err(OidcError::TemporarilyUnavailable)
        }
    }
}

/// Store a single-use code for `claims` and record the client in the session (for its
/// back-channel logout); the code.
fn issue_code(
    state: &AppState,
    req: &AuthRequest,
    sess: &mut session::SsoSession,
    claims: claims::ClaimSet,
    now: i64,
) -> Result<String, OidcError> {
    let code = crate::secrets::random_token().map_err(|_| OidcError::ServerError)?;
    let grant = CodeGrant {
        client_id: req.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        user_id: sess.user_id,
        school: sess.school,
        sid: sess.sid.clone(),
        scope: req.scope.clone(),
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone(),
        auth_time: sess.auth_time,
        amr: sess.amr.clone(),
        acr: sess.acr.clone(),
        context: sess.context,
        requested_claims: req.requested_claims.clone(),
        claims,
    };
    let stored = serde_json::to_vec(&grant)
        .map_err(|_| OidcError::ServerError)
        .and_then(|b| {
            state
                .store
                .put(&format!("code:{code}"), &b, Duration::from_secs(CODE_SECS))
                .map_err(OidcError::from)
        });
    stored?;
    if !sess.clients.contains(&req.client_id) {
        sess.clients.push(req.client_id.clone());
        if let Err(e) = session::save(state.store.as_ref(), sess, now) {
            tracing::warn!(error = %e, "authorize: could not record the client in the session");
        }
    }
    Ok(code)
}

fn subject_of(state: &AppState, rp: &RelyingParty, s: &session::SsoSession) -> Option<String> {
    let user = state.dir.user(s.user_id).ok().flatten()?;
    broker::release::subject_for(&state.pseudonyms, rp, &user)
        .ok()
        .map(|p| p.as_str().to_string())
}

/// The URL that resumes a pending request after sign-in (a pending SAML sign-in resumes at
/// the SAML endpoint).
pub fn resume_url(auth_id: &str) -> String {
    if let Some(saml) = crate::saml::sso::resume_url(auth_id) {
        return saml;
    }
    format!("{}?auth={auth_id}", paths::AUTHORIZE_CONTINUE)
}
