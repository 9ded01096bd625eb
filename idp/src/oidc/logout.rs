//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout
//! (OpenID Connect Back-Channel Logout 1.0) to every relying party the session touched.

use std::collections::HashMap;

use broker::logout::rp_initiated::{self, EndSession, EndSessionRequest, LogoutProblem};
use broker::session::SsoSession;

use super::revoke_grant;
use crate::app::AppState;
use crate::keys::sign_jwt;

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
    /// The user is asked first (see [`EndSession::Confirm`]). Nothing has ended yet.
    Confirm {
        /// The relying party that asks, when the request names one.
        client_name: Option<String>,
    },
}

/// End the session `sid` (if any) as the parameters ask ([`rp_initiated::decide`]).
/// `confirmed` says that the user confirmed on Leerpoort's own page (a form with its CSRF
/// token). Returns the outcome and the back-channel deliveries the caller sends (without
/// waiting for them).
pub fn end_session(
    state: &AppState,
    params: &HashMap<String, String>,
    sid: Option<&str>,
    confirmed: bool,
    now: i64,
) -> (LogoutOutcome, Vec<BackchannelDelivery>) {
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let req = EndSessionRequest {
        hint: get("id_token_hint").map(|t| {
            protocol::oidc::jws::verify_id_token_hint(
                &state.keys.jwks(now),
                &state.config.issuer,
                t,
            )
        }),
        client_id: get("client_id"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
    };
    let (ended, redirect) = match rp_initiated::decide(&state.world(), &req, sid, confirmed, now) {
        EndSession::Refused(p) => return (LogoutOutcome::ErrorPage(p), Vec::new()),
        EndSession::Confirm { client_name } => {
            return (LogoutOutcome::Confirm { client_name }, Vec::new())
        }
        EndSession::End { session, redirect } => (session, redirect),
    };
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

/// End a session ([`broker::logout::end`]): revoke its grants, and sign the logout token of
/// every relying party it touched that registered a back-channel logout URI.
pub fn terminate(state: &AppState, s: &SsoSession, now: i64) -> Vec<BackchannelDelivery> {
    let ended = broker::logout::end(&state.world(), &state.pseudonyms, s, now);
    for g in &ended.grants {
        let _ = revoke_grant(state.store.as_ref(), g);
    }
    let mut out = Vec::new();
    for b in ended.backchannel {
        match sign_jwt(state.keys.as_ref(), b.alg, "logout+jwt", &b.claims) {
            Ok(t) => out.push(BackchannelDelivery {
                uri: b.uri,
                logout_token: t,
            }),
            Err(e) => tracing::error!(error = %e, "logout: signing a logout token"),
        }
    }
    out
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
