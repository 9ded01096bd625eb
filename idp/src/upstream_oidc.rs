//! OpenID Connect upstreams (network environments): the server's side of
//! [`broker::federation::oidc`]. The broker's steps say what to check and which HTTP request
//! to make; this module makes those requests with `reqwest` (never following redirects, RFC
//! 9700 §4.11), keeps the discovery documents in the state's cache, signs the
//! `private_key_jwt` client assertion with the key store, and feeds each answer to the next
//! step. The verified claims go to [`broker::federation::sign_in`].

use std::time::Duration;

use broker::federation::oidc::discovery::{self, Discovery};
use broker::federation::oidc::login::{self, Callback, IdTokenRefusal};
use broker::federation::oidc::logout;
use broker::federation::oidc::{
    client_of, Client, HttpRequest, HttpResponse, Method, UpstreamOidcError,
};
use broker::federation::pending::{Binding, Pending};
use broker::federation::sign_in::{sign_in, Answer};
use broker::model::Upstream;
use serde_json::Value;

use crate::app::AppState;

/// The largest answer read from an upstream.
const ANSWER_MAX: usize = 1024 * 1024;

fn http_client() -> Result<reqwest::blocking::Client, UpstreamOidcError> {
    reqwest::blocking::Client::builder()
        // Never follow redirects from an identity provider's back channel (RFC 9700 §4.11).
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| UpstreamOidcError::Discovery(e.to_string()))
}

/// Make the request a step asked for; `what` wraps a failure to reach the upstream.
fn perform(
    req: &HttpRequest,
    what: fn(String) -> UpstreamOidcError,
) -> Result<HttpResponse, UpstreamOidcError> {
    let http = http_client()?;
    let mut r = match req.method {
        Method::Get => http.get(&req.url),
        Method::Post => http.post(&req.url).form(&req.form),
    };
    for (k, v) in &req.headers {
        r = r.header(k, v);
    }
    let res = r.send().map_err(|e| what(e.to_string()))?;
    let status = res.status().as_u16();
    let body = res.bytes().map_err(|e| what(e.to_string()))?;
    if body.len() > ANSWER_MAX {
        return Err(what("the answer is too large".into()));
    }
    Ok(HttpResponse {
        status,
        body: body.to_vec(),
    })
}

/// Read the keys of `d` (again), and keep the document with them.
fn read_keys(state: &AppState, d: Discovery) -> Result<Discovery, UpstreamOidcError> {
    let res = perform(&discovery::keys_request(&d), UpstreamOidcError::Discovery)?;
    let d = discovery::with_keys(d, &res)?;
    state
        .upstream_oidc
        .keep(&d.issuer.clone(), &d, state.clock.as_ref());
    Ok(d)
}

/// The upstream's discovery document with its keys: cached, or read.
fn metadata(state: &AppState, issuer: &str) -> Result<Discovery, UpstreamOidcError> {
    if let Some(d) = state.upstream_oidc.fresh(issuer, state.clock.as_ref()) {
        return Ok(d);
    }
    let res = perform(
        &discovery::document_request(issuer)?,
        UpstreamOidcError::Discovery,
    )?;
    // The document's issuer must be exactly the upstream's.
    read_keys(state, discovery::document(issuer, &res)?)
}

fn client(state: &AppState, u: &Upstream) -> Result<Client, UpstreamOidcError> {
    client_of(u, |sealed| state.sealer.open(u.id, sealed))
}

/// Send the browser to `upstream` to sign in: the URL to redirect it to, and the cookie that
/// binds the sign-in to this browser (set it with the redirect).
pub fn login_start(
    state: &AppState,
    u: &Upstream,
    pending: Pending,
) -> Result<(String, Binding), UpstreamOidcError> {
    let c = client(state, u)?;
    let d = metadata(state, &c.issuer)?;
    login::start(
        state.store.as_ref(),
        u,
        &c,
        &d,
        &state.config.issuer,
        pending,
    )
}

/// What a finished upstream sign-in gives.
#[derive(Debug)]
pub struct Finished {
    pub upstream: Upstream,
    pub pending: Pending,
    /// The session and where the browser goes, or why the upstream did not sign anyone in.
    pub result: Result<(crate::session::SsoSession, String), UpstreamOidcError>,
}

/// Finish the sign-in the browser returns with; `binding` is the value of the browser's
/// binding cookie for this `state` ([`broker::federation::pending::binding_cookie_name`]). An error when the `state` is
/// unknown, or was started by another browser: nothing to resume, nobody signed in.
pub fn login_finish(
    state: &AppState,
    cb: &Callback,
    binding: Option<&str>,
    ip: Option<&str>,
    previous_sid: Option<&str>,
    now: i64,
) -> Result<Finished, UpstreamOidcError> {
    let pending = login::returned(state.store.as_ref(), cb, binding)?;
    let u = state
        .dir
        .upstream(pending.upstream)
        .map_err(|_| UpstreamOidcError::Unavailable)?
        .ok_or(UpstreamOidcError::UnknownState)?;
    let result = verify(state, &u, &pending, cb, now).and_then(|(claims, id_token)| {
        let link = login::link_of(&claims, Some(id_token));
        let asserted = login::asserted(&claims);
        let answer = Answer {
            upstream: &u,
            asserted: &asserted,
            pending: &pending,
            link: Some(&link),
        };
        let (s, onward) = sign_in(state.world(), answer, ip, previous_sid, now)?;
        let dest = crate::upstream::onward_url(state, &s, onward);
        Ok((s, dest))
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
    let c = client(state, u)?;
    let d = metadata(state, &c.issuer)?;
    let code = login::code_of(&c, &d, pending, cb)?;
    let assertion = match c.secret {
        Some(_) => None,
        None => Some(client_assertion(
            state,
            &login::client_assertion_claims(&c, &d, now)?,
        )?),
    };
    let req = login::token_request(&c, &d, &state.config.issuer, pending, code, assertion)?;
    let tokens = login::tokens(&perform(&req, UpstreamOidcError::Token)?)?;
    let claims = match login::verify_id_token(&c, &d, pending, &tokens.id_token, now) {
        Ok(claims) => claims,
        // A key the cached set does not have: read the keys once more and try again.
        Err(IdTokenRefusal::NoMatchingKey) => {
            let d = read_keys(state, d.clone())?;
            login::verify_id_token(&c, &d, pending, &tokens.id_token, now).map_err(|e| match e {
                IdTokenRefusal::NoMatchingKey => {
                    UpstreamOidcError::IdToken("no key of the upstream's fits".into())
                }
                IdTokenRefusal::Invalid(e) => e,
            })?
        }
        Err(IdTokenRefusal::Invalid(e)) => return Err(e),
    };
    let claims = match login::userinfo_request(u, &d, &claims, &tokens.access_token) {
        Some(req) => login::with_userinfo(
            claims,
            &perform(&req, |e| UpstreamOidcError::Token(format!("UserInfo: {e}")))?,
        )?,
        None => claims,
    };
    Ok((claims, tokens.id_token))
}

/// A `private_key_jwt` client assertion with `claims`, signed with Leerpoort's key (RS256).
fn client_assertion(state: &AppState, claims: &Value) -> Result<String, UpstreamOidcError> {
    crate::keys::sign_jwt(
        state.keys.as_ref(),
        broker::model::JwsAlg::RS256,
        "JWT",
        claims,
    )
    .map_err(|_| UpstreamOidcError::Unavailable)
}

/// Where to send the browser to sign out at the upstream session `s` came from, if it is an
/// OIDC upstream that offers RP-initiated logout; it sends the browser back to
/// [`broker::federation::oidc::SIGNED_OUT_PATH`].
pub fn logout_url(state: &AppState, s: &crate::session::SsoSession) -> Option<String> {
    let link = s.upstream.as_ref()?;
    let u = state.dir.upstream(link.upstream).ok()??;
    let d = metadata(state, broker::federation::oidc::issuer_of(&u)?).ok()?;
    logout::logout_url(&u, &d, link, &state.config.issuer)
}

/// An upstream logs a user out over the back channel: verify its logout token (see
/// [`broker::federation::oidc::logout`]) and end the Leerpoort sessions that came from it —
/// which tells Leerpoort's own relying parties in turn. The deliveries to make.
///
/// The keys are the cached ones; a `kid` they lack reads them again at most once per
/// [`broker::federation::oidc::KEYS_REFETCH_INTERVAL`]. An address that sent too many
/// refused tokens, or too many tokens naming one upstream, is refused before anything is
/// verified.
pub fn backchannel_logout(
    state: &AppState,
    logout_token: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Vec<crate::oidc::logout::BackchannelDelivery>, UpstreamOidcError> {
    logout::admit(state.store.as_ref(), ip)?;
    let result = verify_logout(state, logout_token, now);
    if let Err(e) = &result {
        logout::count_refusal(state.store.as_ref(), ip, e);
    }
    result
}

fn verify_logout(
    state: &AppState,
    logout_token: &str,
    now: i64,
) -> Result<Vec<crate::oidc::logout::BackchannelDelivery>, UpstreamOidcError> {
    let (u, header) = logout::sender(state.dir.as_ref(), state.store.as_ref(), logout_token)?;
    let c = client(state, &u)?;
    let d = metadata(state, &c.issuer)?;
    let key = match logout::key_for(&d, &header) {
        Some(k) => k,
        // A key the cached set lacks: the upstream may have rotated. Read its keys again,
        // but not more often than once per interval, whatever arrives.
        None if state
            .upstream_oidc
            .may_read_keys_again(&c.issuer, state.clock.as_ref()) =>
        {
            let d = read_keys(state, d)?;
            logout::key_for(&d, &header).ok_or_else(|| {
                UpstreamOidcError::IdToken("logout token: signed with an unknown key".into())
            })?
        }
        None => {
            return Err(UpstreamOidcError::IdToken(
                "logout token: signed with an unknown key".into(),
            ))
        }
    };
    let token = logout::verify(&c, logout_token, &header, &key, now)?;
    let mut deliveries = Vec::new();
    for sid in logout::sessions_ended(state.store.as_ref(), &u, &token)? {
        if let Ok(Some(s)) = crate::session::load(state.store.as_ref(), &sid, now) {
            deliveries.extend(crate::oidc::logout::terminate(state, &s, now));
        }
    }
    tracing::info!(upstream = %u.name, "network environment logged a user out");
    Ok(deliveries)
}
