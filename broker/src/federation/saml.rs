//! Leerpoort as a SAML service provider towards network environments: the decisions around
//! the messages. Reading and verifying the messages is the `protocol` crate's; signing what
//! Leerpoort sends is the server's. Here: which enabled upstream a message comes from, whether
//! it answers a request of Leerpoort's that is still waiting (single use) or may come
//! unsolicited, replay (the Response's and Assertion's IDs per upstream), holding a verified
//! answer until the browser shows its binding cookie, and what an upstream's LogoutRequest
//! ends.

use std::collections::HashMap;
use std::time::Duration;

use protocol::saml::upstream_answer::UpstreamRefusal;
use uuid::Uuid;

use super::links::take_name_id_session;
use super::pending::{binding_cookie_name, is_bound, put_pending, take_pending, Pending};
use crate::keyspace::Key;
use crate::model::{Upstream, UpstreamProtocol};
use crate::ports::World;
use crate::random::random_token;
use crate::repo::Directory;
use crate::store::EphemeralStore;

/// The pending-store kind of a SAML upstream sign-in.
pub const PENDING_KIND: &str = "saml";

/// How a message ID is remembered to refuse its replay: the name it is kept under (a digest
/// of `{scope}\n{id}`) and for how long. The SAML protocol's (`protocol::saml::replay_digest`,
/// `REPLAY_SECS`), passed in by the server.
#[derive(Debug, Clone, Copy)]
pub struct Replay {
    pub digest: fn(&str, &str) -> String,
    pub ttl: Duration,
}

/// The paths of the SP side, relative to the issuer.
pub mod paths {
    pub const METADATA: &str = "/broker/saml/metadata";
    pub const ACS: &str = "/broker/saml/acs";
    pub const START: &str = "/broker/saml/start";
    pub const SLO: &str = "/broker/saml/slo";
    /// The same-site step after the ACS, where the binding cookie is checked.
    pub const CONTINUE: &str = "/broker/saml/acs/continue";
}

/// Leerpoort's entity ID as a service provider: its SP metadata URL.
pub fn sp_entity_id(issuer: &str) -> String {
    format!("{issuer}{}", paths::METADATA)
}

/// The ACS URL.
pub fn acs_url(issuer: &str) -> String {
    format!("{issuer}{}", paths::ACS)
}

/// Why a sign-in at a SAML upstream cannot start, or why its answer is refused. Nothing is
/// changed when one of these is returned (except that a refused answer's pending request may
/// be used up, so it cannot be tried again).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamSamlError {
    #[error("the network environment is unknown or disabled")]
    UnknownUpstream,
    #[error("the network environment's metadata cannot be used: {0}")]
    Metadata(String),
    /// The message fails the protocol's checks (`protocol::saml::upstream_answer`), or
    /// answers no request of this browser's.
    #[error(transparent)]
    Refused(#[from] UpstreamRefusal),
    #[error("the answer was used before")]
    Replay,
    #[error("the answer is to a request another browser sent (no or another binding cookie)")]
    OtherBrowser,
    /// A passive request the upstream could not answer silently: back to the waiting relying
    /// party (at this URL), which answers `login_required` itself.
    #[error("the network environment cannot sign the user in silently")]
    Passive(String),
    #[error("the service is unavailable")]
    Unavailable,
}

use UpstreamSamlError as E;

/// The stored IdP metadata of `upstream`, if it is an enabled SAML upstream.
pub fn metadata_xml(upstream: &Upstream) -> Result<&str, UpstreamSamlError> {
    match &upstream.protocol {
        UpstreamProtocol::Saml { metadata_xml, .. } if upstream.enabled => Ok(metadata_xml),
        _ => Err(E::UnknownUpstream),
    }
}

/// The enabled SAML upstream whose entity ID is `issuer`.
pub fn upstream_of_issuer(
    dir: &dyn Directory,
    issuer: &str,
) -> Result<Upstream, UpstreamSamlError> {
    dir.upstreams()
        .map_err(|_| E::Unavailable)?
        .into_iter()
        .find(|u| {
            u.enabled
                && matches!(&u.protocol, UpstreamProtocol::Saml { entity_id, .. } if entity_id == issuer)
        })
        .ok_or(E::UnknownUpstream)
}

/// May `upstream` send answers to no request (`--allow-unsolicited`)?
pub fn allows_unsolicited(upstream: &Upstream) -> bool {
    matches!(
        upstream.protocol,
        UpstreamProtocol::Saml {
            allow_unsolicited: true,
            ..
        }
    )
}

/// Keep `pending` under the request `id` Leerpoort sends (issued `now`), bound to this
/// browser: the binding cookie to set.
pub fn put_request(
    store: &dyn EphemeralStore,
    upstream: &Upstream,
    id: &str,
    mut pending: Pending,
    now: i64,
) -> Result<super::pending::Binding, UpstreamSamlError> {
    pending.upstream = upstream.id;
    pending.protocol = serde_json::json!({"request_id": id, "issued": now});
    super::pending::bind_and_put(store, PENDING_KIND, id, pending).map_err(|_| E::Unavailable)
}

/// The upstream signed nobody in (a status other than Success, `status`). The answer to a
/// passive request (`prompt=none` at Leerpoort) goes back to the relying party, once; any
/// other request it names stays for an honest answer (unsigned failures can only end a
/// sign-in that was waiting anyway).
pub fn refused_by_upstream(
    store: &dyn EphemeralStore,
    status: String,
    in_response_to: Option<&str>,
) -> UpstreamSamlError {
    if let Some(irt) = in_response_to {
        if let Some(p) = take_pending(store, PENDING_KIND, irt) {
            match (p.passive, &p.resume) {
                (true, Some(resume)) => return E::Passive(resume.clone()),
                _ => {
                    let _ = put_pending(store, PENDING_KIND, irt, &p);
                }
            }
        }
    }
    E::Refused(UpstreamRefusal::Status(status))
}

fn seen_once(
    store: &dyn EphemeralStore,
    replay: Replay,
    scope: &str,
    id: &str,
) -> Result<(), UpstreamSamlError> {
    let fresh = store
        .put_if_absent(
            &Key::UpstreamSamlSeen(&(replay.digest)(scope, id)),
            b"1",
            replay.ttl,
        )
        .map_err(|_| E::Unavailable)?;
    if fresh {
        Ok(())
    } else {
        Err(E::Replay)
    }
}

/// Used once: the Assertion's and the (signed) Response's IDs, per upstream.
pub fn mark_used(
    store: &dyn EphemeralStore,
    replay: Replay,
    upstream: &Upstream,
    assertion_id: &str,
    response_id: Option<&str>,
) -> Result<(), UpstreamSamlError> {
    let scope = upstream.id.to_string();
    seen_once(store, replay, &scope, &format!("a\n{assertion_id}"))?;
    if let Some(r) = response_id {
        seen_once(store, replay, &scope, &format!("r\n{r}"))?;
    }
    Ok(())
}

/// The request an answer of `upstream` answers: its, still waiting (single use). Unsolicited
/// (`in_response_to` `None`): the `relay_state` may name the relying party to go on to.
pub fn pending_for(
    store: &dyn EphemeralStore,
    upstream: &Upstream,
    in_response_to: Option<&str>,
    relay_state: Option<&str>,
) -> Result<Pending, UpstreamSamlError> {
    Ok(match in_response_to {
        Some(irt) => take_pending(store, PENDING_KIND, irt)
            .filter(|p| p.upstream == upstream.id)
            .ok_or(E::Refused(UpstreamRefusal::InResponseToMismatch))?,
        None => Pending {
            upstream: upstream.id,
            school: None,
            target: relay_state
                .filter(|r| !r.is_empty() && r.len() <= 80 && !r.chars().any(char::is_control))
                .map(str::to_string),
            resume: None,
            passive: false,
            protocol: serde_json::Value::Null,
            browser: None,
        },
    })
}

/// A verified answer: who the upstream is, what it asserted, and the request it answers.
#[derive(Debug)]
pub struct Consumed {
    pub upstream: Upstream,
    /// Attribute Name → first value, and the NameID under `NameID`.
    pub asserted: HashMap<String, String>,
    pub pending: Pending,
}

/// The request `c` answers, if it answers one (not unsolicited): its ID.
pub fn request_id(c: &Consumed) -> Option<String> {
    c.pending
        .protocol
        .get("request_id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// A verified answer to a request, held for the browser's same-site step.
#[derive(serde::Serialize, serde::Deserialize)]
struct Held {
    upstream: Uuid,
    asserted: HashMap<String, String>,
    pending: Pending,
}

/// How long a verified answer waits for the browser's same-site step.
const HELD_TTL: Duration = Duration::from_secs(60);

/// Hold a verified answer to one of Leerpoort's requests until the browser shows the cookie
/// that binds the request to it. The ACS is a cross-site POST, which does not carry a
/// `SameSite=Lax` cookie; the browser is sent on with a top-level GET to
/// [`paths::CONTINUE`], which does. The URL to send it to.
pub fn hold(store: &dyn EphemeralStore, c: &Consumed) -> Result<String, UpstreamSamlError> {
    let key = random_token().map_err(|_| E::Unavailable)?;
    let held = Held {
        upstream: c.upstream.id,
        asserted: c.asserted.clone(),
        pending: c.pending.clone(),
    };
    let bytes = serde_json::to_vec(&held).map_err(|_| E::Unavailable)?;
    store
        .put(&Key::UpstreamSamlHeld(&key), &bytes, HELD_TTL)
        .map_err(|_| E::Unavailable)?;
    Ok(format!("{}?k={key}", paths::CONTINUE))
}

/// Take a held answer (once), if the browser shows the binding cookie of the request it
/// answers: `binding` gives the value of the cookie with the name it is asked for.
pub fn take_held(
    world: World<'_>,
    key: &str,
    binding: impl Fn(&str) -> Option<String>,
) -> Result<Consumed, UpstreamSamlError> {
    let bytes = world
        .store
        .take(&Key::UpstreamSamlHeld(key))
        .map_err(|_| E::Unavailable)?
        .ok_or(E::Refused(UpstreamRefusal::InResponseToMismatch))?;
    let held: Held = serde_json::from_slice(&bytes)
        .map_err(|_| E::Refused(UpstreamRefusal::InResponseToMismatch))?;
    let c = Consumed {
        upstream: world
            .dir
            .upstream(held.upstream)
            .map_err(|_| E::Unavailable)?
            .filter(|u| u.enabled)
            .ok_or(E::UnknownUpstream)?,
        asserted: held.asserted,
        pending: held.pending,
    };
    let id = request_id(&c).ok_or(E::Refused(UpstreamRefusal::InResponseToMismatch))?;
    let presented = binding(&binding_cookie_name(PENDING_KIND, &id));
    if !is_bound(&c.pending, presented.as_deref()) {
        return Err(E::OtherBrowser);
    }
    Ok(c)
}

/// An upstream's LogoutRequest `id` for `name_id`, seen once: the Leerpoort session it ends,
/// if that session is still known (the link is used up).
pub fn logout_requested(
    store: &dyn EphemeralStore,
    replay: Replay,
    upstream: &Upstream,
    id: &str,
    name_id: &str,
) -> Result<Option<String>, UpstreamSamlError> {
    seen_once(store, replay, &format!("{}\nslo", upstream.id), id)?;
    take_name_id_session(store, upstream.id, name_id).map_err(|_| E::Unavailable)
}

/// Remember that Leerpoort sent its LogoutRequest `id` to `upstream`, for the answer.
pub fn logout_request_sent(
    store: &dyn EphemeralStore,
    replay: Replay,
    upstream: &Upstream,
    id: &str,
) -> Result<(), UpstreamSamlError> {
    store
        .put(
            &Key::UpstreamSamlLogout(id),
            upstream.id.to_string().as_bytes(),
            replay.ttl,
        )
        .map_err(|_| E::Unavailable)
}

/// `upstream`'s LogoutResponse answers a LogoutRequest Leerpoort sent it (`in_response_to`),
/// once.
pub fn logout_answered(
    store: &dyn EphemeralStore,
    upstream: &Upstream,
    in_response_to: Option<&str>,
) -> Result<(), UpstreamSamlError> {
    let irt = in_response_to.ok_or(E::Refused(UpstreamRefusal::InResponseToMismatch))?;
    let sent_to = store
        .take(&Key::UpstreamSamlLogout(irt))
        .map_err(|_| E::Unavailable)?
        .ok_or(E::Refused(UpstreamRefusal::InResponseToMismatch))?;
    if sent_to != upstream.id.to_string().as_bytes() {
        return Err(E::Refused(UpstreamRefusal::InResponseToMismatch));
    }
    Ok(())
}
