//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): what an end-session request
//! may do. The server verifies the `id_token_hint` (its keys) and hands in the claims.

use serde_json::Value;
use url::Url;

use crate::ports::World;
use crate::session::{self, SsoSession};

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

/// An end-session request, its `id_token_hint` already verified.
#[derive(Debug, Clone, Default)]
pub struct EndSessionRequest<'a> {
    /// `None`: no hint; `Some(None)`: a hint that is not an ID token of ours; `Some(Some(c))`:
    /// the claims of ours.
    pub hint: Option<Option<Value>>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// What the end-session endpoint may do.
#[derive(Debug, Clone, PartialEq)]
pub enum EndSession {
    /// A request we cannot honour: a page, no redirect; nothing ends.
    Refused(LogoutProblem),
    /// Nothing shows that the request comes from a relying party of this very session (no
    /// `id_token_hint` naming it): the user is asked first (RP-Initiated Logout 1.0 §2), so a
    /// link or image elsewhere cannot sign a pupil out. Nothing has ended yet.
    Confirm {
        /// The relying party that asks, when the request names one.
        client_name: Option<String>,
    },
    /// End `session` (if there is one live) and go on to `redirect` (the registered
    /// post-logout URI with `state`), or to the signed-out page.
    End {
        session: Option<Box<SsoSession>>,
        redirect: Option<String>,
    },
}

/// Decide an end-session request for the session `sid` (if any). `confirmed` says that the
/// user confirmed on Leerpoort's own page (a form with its CSRF token).
pub fn decide(
    world: &World<'_>,
    req: &EndSessionRequest<'_>,
    sid: Option<&str>,
    confirmed: bool,
    now: i64,
) -> EndSession {
    let hint = match &req.hint {
        Some(None) => return EndSession::Refused(LogoutProblem::BadHint),
        Some(Some(claims)) => Some(claims),
        None => None,
    };
    let hint_aud = hint.and_then(audience_of);
    let client_id = match (req.client_id, hint_aud.as_deref()) {
        (Some(c), Some(a)) if c != a => return EndSession::Refused(LogoutProblem::HintMismatch),
        (Some(c), _) => Some(c.to_string()),
        (None, a) => a.map(str::to_string),
    };
    let rp = client_id
        .as_deref()
        .and_then(|c| world.dir.relying_party_by_public_id(c).ok().flatten());
    let redirect = match req.post_logout_redirect_uri {
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
                return EndSession::Refused(LogoutProblem::UnregisteredRedirect);
            }
            let Ok(mut url) = Url::parse(uri) else {
                return EndSession::Refused(LogoutProblem::InvalidRedirect);
            };
            if let Some(s) = req.state {
                url.query_pairs_mut().append_pair("state", s);
            }
            Some(url.to_string())
        }
    };

    let ended = sid.and_then(|s| session::load(world.store, s, now).ok().flatten());
    if let Some(s) = &ended {
        // The hint proves the request speaks for this session only when it carries this
        // session's `sid`; anything else (no hint, another session's hint) asks the user.
        let public = session::public_sid(&s.sid);
        let speaks_for_session = hint
            .and_then(|h| h["sid"].as_str())
            .is_some_and(|hsid| hsid == public);
        if !speaks_for_session && !confirmed {
            return EndSession::Confirm {
                client_name: rp.map(|rp| rp.name),
            };
        }
    }
    EndSession::End {
        session: ended.map(Box::new),
        redirect,
    }
}

/// The audience (client id) of an ID token of ours.
fn audience_of(claims: &Value) -> Option<String> {
    match &claims["aud"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}
