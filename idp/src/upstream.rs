//! Signing in through a network environment (an upstream identity provider), whatever its
//! protocol: the server's side of [`broker::federation`]. The OIDC side (`upstream_oidc`) and
//! the SAML side (`saml::upstream_sp`) verify the upstream's answer; [`finish`] has the broker
//! sign the user in ([`broker::federation::sign_in::sign_in`]) and resolves where the browser
//! goes next. The cookie that binds a pending sign-in to its browser is set and cleared here;
//! its name and value are the broker's ([`broker::federation::pending`]).

use actix_web::cookie::{Cookie, SameSite};
use broker::federation::pending::{Binding, Pending, PENDING_TTL};
use broker::federation::sign_in::{sign_in, Answer, Onward};
use broker::federation::{Asserted, FinishError};
use broker::model::Upstream;

use crate::app::AppState;
use crate::session::SsoSession;

/// The binding cookies' path: only the callback and the ACS need them.
pub const BINDING_PATH: &str = "/broker/";

/// The cookie to set with the redirect to the upstream: `HttpOnly`, `Secure` over HTTPS,
/// `SameSite=Lax` (the OIDC callback is a top-level GET; the SAML ACS continues with one,
/// see `saml::upstream_sp::hold`), as long as the sign-in may take.
pub fn binding_cookie(b: &Binding, https: bool) -> Cookie<'static> {
    Cookie::build(b.name.clone(), b.value().to_string())
        .path(BINDING_PATH)
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(
            PENDING_TTL.as_secs() as i64,
        ))
        .finish()
}

/// A cookie that removes the binding cookie `name` (the sign-in is over).
pub fn clear_binding_cookie(name: &str, https: bool) -> Cookie<'static> {
    let mut c = Cookie::build(name.to_string(), String::new())
        .path(BINDING_PATH)
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .finish();
    c.make_removal();
    c
}

/// Where the browser goes after a sign-in through an upstream: the waiting request, the
/// relying party a shortcut named (at the user's school), or the start page.
pub fn onward_url(state: &AppState, s: &SsoSession, onward: Onward) -> String {
    match onward {
        Onward::Resume(r) => r,
        Onward::Target(t) => state
            .dir
            .school(&s.school)
            .ok()
            .flatten()
            .and_then(|school| crate::shortcut::destination_of_target(state, &school, s, Some(&t)))
            .unwrap_or_else(|| "/".into()),
        Onward::Home => "/".into(),
    }
}

/// Finish a sign-in through `upstream`: the user, a new SSO session (`login_context`
/// `netwerk`, `amr` `fed`, the upstream named in `acr`), and where the browser goes next.
pub fn finish(
    state: &AppState,
    upstream: &Upstream,
    asserted: &Asserted,
    pending: &Pending,
    ip: Option<&str>,
    previous_sid: Option<&str>,
    now: i64,
) -> Result<(SsoSession, String), FinishError> {
    let answer = Answer {
        upstream,
        asserted,
        pending,
        link: None,
    };
    let (s, onward) = sign_in(state.world(), answer, ip, previous_sid, now)?;
    let dest = onward_url(state, &s, onward);
    Ok((s, dest))
}
