//! `/saml/slo`: Single Logout over HTTP-Redirect (SAML Profiles §4.4), in both directions,
//! on the same SSO session the OIDC side uses.
//!
//! - An SP sends a signed `LogoutRequest`: the session ends (OIDC clients in it get their
//!   back-channel logout tokens, grants are revoked), every other SAML SP in the session gets
//!   a signed `LogoutRequest` in turn (front channel), and the SP that started gets a signed
//!   `LogoutResponse`.
//! - The user signs out at Leerpoort: [`start_chain`] sends the SAML SPs of the ended session
//!   their `LogoutRequest`s in turn, then shows the signed-out page.
//!
//! Each `LogoutResponse` an SP sends back arrives here and moves the chain on. Which SPs are
//! told, in what order, and how the chain ends is `broker::logout::saml_chain`'s; this module
//! parses, checks signatures, builds and signs the messages.

use broker::keyspace::Key;
use std::time::Duration;

use broker::logout::saml_chain::{self, Chain, ChainEnd};
use broker::store::StoreError;
use protocol::saml::logout::{logout_request_xml, logout_response_xml, parse_logout, SpSession};
use protocol::saml::{check_issue_instant, id_ok, replay_digest};

use super::error::Refusal;
use super::names::{PERSISTENT, SUCCESS, TRANSIENT};
use super::sso::service_provider;
use super::{binding, entity_id, new_id, paths, SamlError, REPLAY_SECS};
use crate::app::AppState;
use crate::oidc::logout::{self, BackchannelDelivery};
use crate::session::{self, SsoSession};

/// What the endpoint does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SloOutcome {
    /// Redirect (an SP's SLO endpoint, with a signed message).
    Redirect(String),
    /// The chain is done and nobody needs an answer: show "signed out".
    SignedOut,
    Refused(Refusal),
}

/// Handle `/saml/slo` (the raw query of an HTTP-Redirect message). Returns the back-channel
/// deliveries the ended session owes OIDC clients.
pub fn slo(
    state: &AppState,
    query: &str,
    sid: Option<&str>,
    now: i64,
) -> (SloOutcome, Vec<BackchannelDelivery>) {
    match handle(state, query, sid, now) {
        Ok(x) => x,
        Err(r) => {
            tracing::info!(reason = r.reason(), refusal = %r, "SAML logout message refused");
            (SloOutcome::Refused(r), Vec::new())
        }
    }
}

fn handle(
    state: &AppState,
    query: &str,
    sid: Option<&str>,
    now: i64,
) -> Result<(SloOutcome, Vec<BackchannelDelivery>), Refusal> {
    // Parsed once: the signature below covers exactly the values used.
    let query = binding::RedirectQuery::parse(query, &["SAMLRequest", "SAMLResponse"])?;
    let param = query.message_param;
    let xml = binding::decode_redirect(&query.message.value)?;
    let msg = parse_logout(&xml)?;
    let issuer = msg.issuer.clone().ok_or(Refusal::UnknownSp)?;
    let (rp, meta) = service_provider(state, &issuer)?;
    let Some((_, sp_response_url)) = meta.slo.clone() else {
        return Err(Refusal::UnknownAcs);
    };
    query.verify(&meta.signing_certs)?;
    if let Some(d) = msg.destination.as_deref() {
        if d != format!("{}{}", state.config.issuer, paths::SLO) {
            return Err(Refusal::WrongDestination);
        }
    }
    let relay_state = query.relay_state();

    if param == "SAMLResponse" {
        // An SP answered our LogoutRequest: go on with the chain.
        let irt = msg.in_response_to.clone().ok_or(Refusal::Expired)?;
        // Only the SP that was asked moves the chain on, once.
        let chain = saml_chain::answered(state.store.as_ref(), &irt, &meta.entity_id)
            .map_err(|_| Refusal::Unavailable)?
            .ok_or(Refusal::Expired)?;
        if msg.status.as_deref() != Some(SUCCESS) {
            tracing::info!(sp = %rp.public_id(), "SAML logout: an SP did not confirm");
        }
        return Ok((next(state, chain, now), Vec::new()));
    }

    // A LogoutRequest from an SP.
    let id = msg
        .id
        .clone()
        .filter(|i| id_ok(i))
        .ok_or_else(|| Refusal::Malformed("the ID is missing".into()))?;
    if msg.version.as_deref() != Some("2.0") {
        return Err(Refusal::Malformed("only SAML 2.0".into()));
    }
    let issued = msg
        .issued_at()
        .ok_or_else(|| Refusal::Malformed("IssueInstant".into()))?;
    check_issue_instant(issued, now)?;
    if !state
        .store
        .put_if_absent(
            &Key::SeenSamlRequest(&replay_digest(&format!("slo\n{}", meta.entity_id), &id)),
            b"1",
            Duration::from_secs(REPLAY_SECS),
        )
        .map_err(|_| Refusal::Unavailable)?
    {
        return Err(Refusal::Replay);
    }

    let sess = match sid {
        Some(s) => session::load(state.store.as_ref(), s, now).map_err(|_| Refusal::Unavailable)?,
        None => None,
    };
    let reply = |status: Result<(), SamlError>| {
        logout_response(
            state,
            &sp_response_url,
            &id,
            status,
            relay_state.as_deref(),
            now,
        )
        .map(SloOutcome::Redirect)
        .unwrap_or(SloOutcome::Refused(Refusal::Unavailable))
    };
    let Some(sess) = sess else {
        // Already signed out here.
        return Ok((reply(Ok(())), Vec::new()));
    };
    let user = state
        .dir
        .user(sess.user_id)
        .map_err(|_| Refusal::Unavailable)?;
    let sub = user
        .as_ref()
        .and_then(|u| broker::release::subject_for(&state.pseudonyms, &rp, u).ok())
        .map(|s| s.as_str().to_string());
    let ours = saml_chain::speaks_for(
        &sess,
        &meta.entity_id,
        &msg.session_indexes,
        msg.name_id.as_deref(),
        sub.as_deref(),
    );
    if !ours {
        return Ok((reply(Err(SamlError::UnknownPrincipal)), Vec::new()));
    }
    let deliveries = logout::terminate(state, &sess, now);
    let chain = Chain::new(
        &sess,
        others(state, &sess, Some(&meta.entity_id)),
        Some((meta.entity_id.clone(), id, relay_state.clone())),
        None,
    );
    Ok((next(state, chain, now), deliveries))
}

/// The SAML SPs of a session that are told ([`saml_chain::chain_sps`]): those whose metadata
/// has an SLO endpoint, except `except`.
fn others(state: &AppState, sess: &SsoSession, except: Option<&str>) -> Vec<String> {
    saml_chain::chain_sps(sess, except, |c| {
        service_provider(state, c)
            .map(|(_, m)| m.slo.is_some())
            .unwrap_or(false)
    })
}

/// After the user signed out at Leerpoort (its own page, or an OIDC client's RP-initiated
/// logout): where to go to tell the SAML SPs of the ended session (`None`: there are none).
/// `then` is where the chain ends; without it, the signed-out page.
pub fn start_chain(
    state: &AppState,
    sess: &SsoSession,
    then: Option<String>,
    now: i64,
) -> Option<String> {
    let remaining = others(state, sess, None);
    if remaining.is_empty() {
        return None;
    }
    match next(state, Chain::new(sess, remaining, None, then), now) {
        SloOutcome::Redirect(u) => Some(u),
        _ => None,
    }
}

/// Tell the next SP, or finish: answer the SP that asked, or show "signed out".
fn next(state: &AppState, mut chain: Chain, now: i64) -> SloOutcome {
    while let Some(sp) = chain.pop() {
        let Ok((rp, meta)) = service_provider(state, &sp) else {
            continue;
        };
        let Some((slo_url, _)) = meta.slo.clone() else {
            continue;
        };
        let Ok(id) = new_id() else { continue };
        let user = state.dir.user(chain.user_id).ok().flatten();
        let (name_id, format) = match user
            .as_ref()
            .and_then(|u| broker::release::subject_for(&state.pseudonyms, &rp, u).ok())
        {
            Some(s) if !meta.prefers_transient() => (s.as_str().to_string(), PERSISTENT),
            _ => (id.clone(), TRANSIENT),
        };
        let xml = logout_request_xml(
            &id,
            &entity_id(&state.config.issuer),
            &slo_url,
            &name_id,
            Some(&SpSession {
                format,
                sp_entity_id: &meta.entity_id,
                session_index: &chain.session_index,
            }),
            now,
        );
        match chain.wait_for(state.store.as_ref(), &meta.entity_id, &id) {
            Ok(()) => {}
            Err(StoreError::Corrupt) => continue,
            Err(_) => return SloOutcome::Refused(Refusal::Unavailable),
        }
        if let Some(url) = binding::encode_redirect(&slo_url, "SAMLRequest", &xml, None, |d| {
            state.keys.sign_saml_redirect(d).ok()
        }) {
            return SloOutcome::Redirect(url);
        }
    }
    match chain.finish() {
        ChainEnd::Answer {
            sp,
            request_id,
            relay_state,
        } => {
            let url = service_provider(state, &sp)
                .ok()
                .and_then(|(_, m)| m.slo.map(|(_, r)| r))
                .and_then(|r| {
                    logout_response(state, &r, &request_id, Ok(()), relay_state.as_deref(), now)
                });
            match url {
                Some(u) => SloOutcome::Redirect(u),
                None => SloOutcome::SignedOut,
            }
        }
        ChainEnd::Then(url) => SloOutcome::Redirect(url),
        ChainEnd::SignedOut => SloOutcome::SignedOut,
    }
}

/// A signed `LogoutResponse` over HTTP-Redirect.
fn logout_response(
    state: &AppState,
    to: &str,
    in_response_to: &str,
    status: Result<(), SamlError>,
    relay_state: Option<&str>,
    now: i64,
) -> Option<String> {
    let id = new_id().ok()?;
    let (top, second) = match &status {
        Ok(()) => (SUCCESS.to_string(), None),
        Err(e) => e.status(),
    };
    let xml = logout_response_xml(
        &id,
        &entity_id(&state.config.issuer),
        to,
        in_response_to,
        (&top, second.as_deref()),
        now,
    );
    binding::encode_redirect(to, "SAMLResponse", &xml, relay_state, |d| {
        state.keys.sign_saml_redirect(d).ok()
    })
}
