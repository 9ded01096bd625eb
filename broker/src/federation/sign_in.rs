//! Finishing a sign-in through a network environment, whatever its protocol: the user
//! ([`super::user_for`]), a new SSO session with `login_context` `netwerk`, and where the
//! browser goes next.

use claims::LoginContext;

use super::links::{remember_link, UpstreamLink};
use super::pending::Pending;
use super::{user_for, Asserted, FinishError, MatchError};
use crate::model::Upstream;
use crate::ports::World;
use crate::session::{self, Authenticated, SessionUpstream, SsoSession};

/// `acr` of a sign-in through a network environment.
pub const ACR_NETWORK: &str = "urn:leerpoort:acr:netwerk";

/// Where the browser goes after the sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Onward {
    /// Back to a waiting request of a relying party (this URL).
    Resume(String),
    /// On to the relying party a shortcut named (its TARGET), at the user's school.
    Target(String),
    /// The start page.
    Home,
}

/// What the upstream proved, and about whom.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub upstream: &'a Upstream,
    pub asserted: &'a Asserted,
    pub pending: &'a Pending,
    /// The upstream's own session (OIDC), remembered for its logout.
    pub link: Option<&'a UpstreamLink>,
}

/// Sign in the user the upstream asserted: a new SSO session (`login_context` `netwerk`,
/// `amr` `fed`, the upstream named in `acr`) replacing `previous_sid`, and where to go on.
pub fn sign_in(
    world: World<'_>,
    answer: Answer<'_>,
    ip: Option<&str>,
    previous_sid: Option<&str>,
    now: i64,
) -> Result<(SsoSession, Onward), FinishError> {
    let Answer {
        upstream,
        asserted,
        pending,
        link,
    } = answer;
    let (dir, store) = (world.dir, world.store);
    let user = user_for(dir, upstream, asserted, pending.school.as_ref(), now)?;
    if !session::user_stands(dir, user.id, now) {
        // Offboarded (`user disable`): a network environment cannot sign them in either.
        return Err(FinishError::Match(MatchError::Unknown));
    }
    let who = Authenticated {
        user_id: user.id,
        school: user.school,
        amr: vec!["fed".into()],
        acr: format!("{ACR_NETWORK}:{}", upstream.name),
        context: LoginContext::Netwerk,
        ip: ip.map(str::to_string),
    };
    let mut s =
        session::start(store, who, now, previous_sid).map_err(|_| FinishError::Unavailable)?;
    s.upstream = Some(SessionUpstream {
        upstream: upstream.id,
        id_token: link.and_then(|l| l.id_token.clone()),
        name_id: asserted.get("NameID").cloned(),
    });
    session::save(store, &s, now).map_err(|_| FinishError::Unavailable)?;
    if let Some(link) = link {
        remember_link(store, upstream.id, link, &s.sid);
    }
    let onward = match (&pending.resume, &pending.target) {
        (Some(r), _) => Onward::Resume(r.clone()),
        (None, Some(t)) => Onward::Target(t.clone()),
        (None, None) => Onward::Home,
    };
    Ok((s, onward))
}
