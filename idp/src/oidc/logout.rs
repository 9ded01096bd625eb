//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout
//! (OpenID Connect Back-Channel Logout 1.0) to every relying party the session touched.

use std::collections::HashMap;

use serde_json::{json, Value};
use url::Url;
use uuid::Uuid;

use super::{revoke_grant, OidcError};
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
    ErrorPage(String),
}

/// End the session `sid` (if any) as the parameters ask. Returns the outcome and the
/// back-channel deliveries the caller sends (without waiting for them).
pub fn end_session(
    state: &AppState,
    params: &HashMap<String, String>,
    sid: Option<&str>,
    now: i64,
) -> (LogoutOutcome, Vec<BackchannelDelivery>) {
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let hint_aud = get("id_token_hint").and_then(|t| hint_audience(state, t, now));
    if get("id_token_hint").is_some() && hint_aud.is_none() {
        return (
            LogoutOutcome::ErrorPage("De meegegeven id_token_hint is niet geldig.".into()),
            Vec::new(),
        );
    }
    let client_id = match (get("client_id"), hint_aud.as_deref()) {
        (Some(c), Some(a)) if c != a => {
            return (
                LogoutOutcome::ErrorPage(
                    "client_id en id_token_hint horen niet bij elkaar.".into(),
                ),
                Vec::new(),
            )
        }
        (Some(c), _) => Some(c.to_string()),
        (None, a) => a.map(str::to_string),
    };
    let redirect = match get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let registered = client_id
                .as_deref()
                .and_then(|c| state.dir.relying_party_by_public_id(c).ok().flatten())
                .and_then(|rp| {
                    rp.oidc()
                        .map(|o| o.post_logout_redirect_uris.iter().any(|u| u == uri))
                })
                .unwrap_or(false);
            if !registered {
                return (
                    LogoutOutcome::ErrorPage(
                        "Het terugkeeradres na uitloggen is niet geregistreerd voor deze software."
                            .into(),
                    ),
                    Vec::new(),
                );
            }
            let mut url = match Url::parse(uri) {
                Ok(u) => u,
                Err(_) => {
                    return (
                        LogoutOutcome::ErrorPage("Ongeldig terugkeeradres.".into()),
                        Vec::new(),
                    )
                }
            };
            if let Some(s) = get("state") {
                url.query_pairs_mut().append_pair("state", s);
            }
            Some(url.to_string())
        }
    };

    let ended = sid.and_then(|s| session::load(state.store.as_ref(), s, now).ok().flatten());
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
        let mut claims = json!({
            "iss": state.config.issuer,
            "aud": client.client_id,
            "iat": now,
            "exp": now + 120,
            "jti": Uuid::new_v4().to_string(),
            "sid": session::public_sid(&s.sid),
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        });
        if let Some(sub) = sub {
            claims["sub"] = Value::String(sub);
        }
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

/// The audience (client id) of an ID token of ours used as a hint; expired tokens are fine.
fn hint_audience(state: &AppState, token: &str, now: i64) -> Option<String> {
    let claims = super::tokens::verify_id_token_hint(state, token, now)?;
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

impl From<OidcError> for LogoutOutcome {
    fn from(e: OidcError) -> Self {
        LogoutOutcome::ErrorPage(e.to_string())
    }
}
