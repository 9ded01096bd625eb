//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout
//! (OpenID Connect Back-Channel Logout 1.0) to every relying party the session touched.

use std::collections::HashMap;

use serde_json::Value;
use url::Url;
use uuid::Uuid;

use super::revoke_grant;
use crate::app::AppState;
use crate::keys::sign_jwt;
use crate::session::{self, SsoSession};

/// A logout token to deliver: POST `logout_token` to `uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackchannelDelivery {
    pub uri: String,
    pub logout_token: String,
}

/// What the end-session endpoint does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// Back to the relying party's registered post-logout URI.
    Redirect(String),
    /// Our own "you are signed out" page.
    SignedOut,
    /// A request we cannot honour (an unregistered post-logout URI): a page, no redirect.
    ErrorPage(LogoutProblem),
    /// Nothing shows that the request comes from a relying party of this very session (no
    /// `id_token_hint` naming it): the user is asked first (RP-Initiated Logout 1.0 §2), so a
    /// link or image elsewhere cannot sign a pupil out. Nothing has ended yet.
    Confirm {
        /// The relying party that asks, when the request names one.
        client_name: Option<String>,
    },
}

/// Why a logout request is refused; the catalogue words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutProblem {
    /// The `id_token_hint` is not an ID token of Leerpoort.
    BadHint,
    /// `client_id` names another client than the hint's audience.
    HintMismatch,
    /// The `post_logout_redirect_uri` is not registered for the client.
    UnregisteredRedirect,
    /// The `post_logout_redirect_uri` is not a URL.
    InvalidRedirect,
}

/// End the session `sid` (if any) as the parameters ask. `confirmed` says that the user
/// confirmed on Leerpoort's own page (a form with its CSRF token). Returns the outcome and the
/// back-channel deliveries the caller sends (without waiting for them).
pub fn end_session(
    state: &AppState,
    params: &HashMap<String, String>,
    sid: Option<&str>,
    confirmed: bool,
    now: i64,
) -> (LogoutOutcome, Vec<BackchannelDelivery>) {
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let refuse = |p: LogoutProblem| (LogoutOutcome::ErrorPage(p), Vec::new());
    let hint = get("id_token_hint").map(|t| {
        protocol::oidc::jws::verify_id_token_hint(&state.keys.jwks(now), &state.config.issuer, t)
    });
    let hint = match hint {
        Some(None) => return refuse(LogoutProblem::BadHint),
        Some(Some(claims)) => Some(claims),
        None => None,
    };
    let hint_aud = hint.as_ref().and_then(audience_of);
    let client_id = match (get("client_id"), hint_aud.as_deref()) {
        (Some(c), Some(a)) if c != a => return refuse(LogoutProblem::HintMismatch),
        (Some(c), _) => Some(c.to_string()),
        (None, a) => a.map(str::to_string),
    };
    let rp = client_id
        .as_deref()
        .and_then(|c| state.dir.relying_party_by_public_id(c).ok().flatten());
    let redirect = match get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let registered = rp
                .as_ref()
                .and_then(|rp| {
                    rp.oidc()
                        .map(|o| o.post_logout_redirect_uris.iter().any(|u| u == uri))
                })
                .unwrap_or(false);
            if !registered {
                return refuse(LogoutProblem::UnregisteredRedirect);
            }
            let Ok(mut url) = Url::parse(uri) else {
                return refuse(LogoutProblem::InvalidRedirect);
            };
            if let Some(s) = get("state") {
                url.query_pairs_mut().append_pair("state", s);
            }
            Some(url.to_string())
        }
    };

    let ended = sid.and_then(|s| session::load(state.store.as_ref(), s, now).ok().flatten());
    if let Some(s) = &ended {
        // The hint proves the request speaks for this session only when it carries this
        // session's `sid`; anything else (no hint, another session's hint) asks the user.
        let public = session::public_sid(&s.sid);
        let speaks_for_session = hint
            .as_ref()
            .and_then(|h| h["sid"].as_str())
            .is_some_and(|hsid| hsid == public);
        if !speaks_for_session && !confirmed {
            return (
                LogoutOutcome::Confirm {
                    client_name: rp.map(|rp| rp.name),
                },
                Vec::new(),
            );
        }
    }
    let deliveries = match &ended {
        Some(s) => terminate(state, s, now),
        None => Vec::new(),
    };
    // The session's SAML service providers are told first (front channel), then on.
    if let Some(chain) = ended
        .as_ref()
        .and_then(|s| crate::saml::slo::start_chain(state, s, redirect.clone(), now))
    {
        return (LogoutOutcome::Redirect(chain), deliveries);
    }
    let outcome = match redirect {
        Some(u) => LogoutOutcome::Redirect(u),
        None => LogoutOutcome::SignedOut,
    };
    (outcome, deliveries)
}

/// End a session: remove it, revoke its grants, and prepare a logout token for every
/// relying party it touched that registered a back-channel logout URI.
pub fn terminate(state: &AppState, s: &SsoSession, now: i64) -> Vec<BackchannelDelivery> {
    if let Err(e) = session::destroy(state.store.as_ref(), &s.sid) {
        tracing::error!(error = %e, "logout: could not remove the session");
    }
    for g in &s.grants {
        let _ = revoke_grant(state.store.as_ref(), g);
    }
    let user = state.dir.user(s.user_id).ok().flatten();
    let mut out = Vec::new();
    for client_id in &s.clients {
        let Ok(Some(rp)) = state.dir.relying_party_by_public_id(client_id) else {
            continue;
        };
        let Some(client) = rp.oidc() else { continue };
        let Some(uri) = &client.backchannel_logout_uri else {
            continue;
        };
        let sub = user
            .as_ref()
            .and_then(|u| broker::release::subject_for(&state.pseudonyms, &rp, u).ok())
            .map(|p| p.as_str().to_string());
        let claims = protocol::oidc::claims::logout_token(
            &state.config.issuer,
            &client.client_id,
            &session::public_sid(&s.sid),
            sub,
            &Uuid::new_v4().to_string(),
            now,
        );
        match sign_jwt(
            state.keys.as_ref(),
            client.id_token_alg,
            "logout+jwt",
            &claims,
        ) {
            Ok(t) => out.push(BackchannelDelivery {
                uri: uri.clone(),
                logout_token: t,
            }),
            Err(e) => tracing::error!(error = %e, "logout: signing a logout token"),
        }
    }
    out
}

/// The audience (client id) of an ID token of ours.
fn audience_of(claims: &Value) -> Option<String> {
    match &claims["aud"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Deliver logout tokens without holding up the user (each with a short timeout).
pub fn deliver(deliveries: Vec<BackchannelDelivery>) {
    if deliveries.is_empty() {
        return;
    }
    actix_web::rt::spawn(async move {
        let Ok(client) = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
        else {
            return;
        };
        for d in deliveries {
            let res = client
                .post(&d.uri)
                .form(&[("logout_token", d.logout_token.as_str())])
                .send()
                .await;
            match res {
                Ok(r) if r.status().is_success() => {
                    tracing::info!(uri = %d.uri, "back-channel logout delivered")
                }
                Ok(r) => {
                    tracing::warn!(uri = %d.uri, status = r.status().as_u16(), "back-channel logout refused")
                }
                Err(e) => tracing::warn!(uri = %d.uri, error = %e, "back-channel logout failed"),
            }
        }
    });
}
