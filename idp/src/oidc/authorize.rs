//! The authorization endpoint (OIDC Core §3.1.2), GET and POST: the client and its
//! redirect URI (until both are known and trusted, errors are shown as a page and never
//! redirected), the request's checks (`protocol::oidc::authorize`), the session, the school's
//! decision, the code.

use broker::keyspace::Key;
use std::time::Duration;

use broker::model::RelyingParty;
use broker::release::Denial;
use protocol::oidc::authorize::{
    code_redirect, error_redirect, redirect_uri_registered, validate, AuthRequest, Params,
};
use protocol::oidc::{paths, OidcError, CODE_SECS};

use super::tokens::{self, NotReleased};
use super::{store_failed, CodeGrant, PENDING_SECS};
use crate::app::AppState;
use crate::session::{self, Browser, Standing};

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

/// Handle an authorization request. `params` are the query (GET) or form (POST) pairs.
pub fn authorize(
    state: &AppState,
    params: Vec<(String, String)>,
    browser: &Browser,
    now: i64,
) -> Outcome {
    let params = Params::parse(params);
    let get = |k: &str| params.get(k);

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
    if !redirect_uri_registered(&client.redirect_uris, redirect_uri) {
        return page(RequestProblem::UnregisteredRedirectUri);
    }
    let issuer = state.config.issuer.as_str();
    let fail =
        |e: OidcError| Outcome::Redirect(error_redirect(issuer, redirect_uri, get("state"), &e));

    let mut req = match validate(
        &params,
        &client.client_id,
        redirect_uri,
        client.is_public(),
        now,
    ) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if let Some(t) = get("id_token_hint") {
        match hint_subject(state, &rp, t, now) {
            Some(s) => req.hint_sub = Some(s),
            None => {
                return fail(OidcError::InvalidRequest(
                    "id_token_hint is not an ID token of this provider for this client".into(),
                ))
            }
        }
    }
    proceed(state, &rp, req, browser, now)
}

/// The subject an `id_token_hint` names, if it is a genuine ID token of ours for this client
/// (an expired one is fine: it is only a hint).
fn hint_subject(state: &AppState, rp: &RelyingParty, token: &str, now: i64) -> Option<String> {
    let claims = protocol::oidc::jws::verify_id_token_hint(
        &state.keys.jwks(now),
        &state.config.issuer,
        token,
    )?;
    protocol::oidc::jws::audience_includes(&claims, rp.public_id())
        .then(|| claims["sub"].as_str().map(str::to_string))
        .flatten()
}

/// Continue after the user signed in: the pending request under `auth_id`.
pub fn resume(state: &AppState, auth_id: &str, browser: &Browser, now: i64) -> Outcome {
    let pending =
        match session::take_waiting::<AuthRequest>(state, &Key::PendingAuthorization(auth_id)) {
            Ok(p) => p,
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
    proceed(state, &rp, req, browser, now)
}

/// A pending request, for the login page (its hint).
pub fn pending(state: &AppState, auth_id: &str) -> Option<AuthRequest> {
    state
        .store
        .get(&Key::PendingAuthorization(auth_id))
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

/// Keep `req` while the user signs in (here or at a network environment): its id.
fn wait(state: &AppState, req: &AuthRequest) -> Result<String, OidcError> {
    let auth_id = broker::secrets::random_token().map_err(|_| OidcError::ServerError)?;
    let bytes = serde_json::to_vec(req).map_err(|_| OidcError::ServerError)?;
    state
        .store
        .put(
            &Key::PendingAuthorization(&auth_id),
            &bytes,
            Duration::from_secs(PENDING_SECS),
        )
        .map_err(store_failed)?;
    Ok(auth_id)
}

/// With a validated request: sign-in needed? allowed? then a code.
fn proceed(
    state: &AppState,
    rp: &RelyingParty,
    req: AuthRequest,
    browser: &Browser,
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
    let Standing {
        session: sess,
        needs_login,
        moved,
    } = match session::standing(state, browser, now, |s| {
        needs_login(state, rp, &req, s, now)
    }) {
        Ok(s) => s,
        Err(e) => return fail(store_failed(e)),
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
    let released = tokens::claims_for(
        state,
        rp,
        sess.user_id,
        &sess.school,
        sess.context,
        &req.scope,
        &req.requested_claims,
    );
    let claims = match released {
        Ok(c) => c,
        Err(NotReleased::Denied(denial)) if !req.prompt_none => {
            broker::release::note_refusal(&state.world(), &sess.school, rp, &denial);
            // The relying party hears the same reason the user sees (its own description for
            // each denial: not registered, withdrawn, wrong audience, school only, ...).
            let continue_url = error_redirect(
                issuer,
                &req.redirect_uri,
                req.state.as_deref(),
                &OidcError::AccessDenied(denial.to_string()),
            );
            return Outcome::Denied {
                client_name: rp.name.clone(),
                audience: rp.audience,
                denial,
                continue_url,
            };
        }
        Err(other) => return fail(other.into_oidc()),
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
        protocol: serde_json::Value::Null,
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
    let code = broker::secrets::random_token().map_err(|_| OidcError::ServerError)?;
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
                .put(&Key::Code(&code), &b, Duration::from_secs(CODE_SECS))
                .map_err(store_failed)
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
