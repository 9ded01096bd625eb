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
//! Each `LogoutResponse` an SP sends back arrives here and moves the chain on.

use std::collections::HashMap;
use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::Reader;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::Refusal;
use super::names::{PERSISTENT, SUCCESS, TRANSIENT};
use super::sso::service_provider;
use super::xml::{check_untrusted, esc, instant};
use super::{
    binding, entity_id, new_id, paths, SamlError, REPLAY_SECS, REQUEST_MAX_AGE_SECS,
    REQUEST_SKEW_SECS,
};
use crate::app::AppState;
use crate::oidc::logout::{self, BackchannelDelivery};
use crate::session::{self, SsoSession};

/// How long a logout chain waits for an SP's `LogoutResponse`.
pub const CHAIN_SECS: u64 = 5 * 60;

/// The parts of a `LogoutRequest` or `LogoutResponse` Leerpoort reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogoutMessage {
    /// `LogoutRequest` or `LogoutResponse`.
    pub root: String,
    pub id: Option<String>,
    pub version: Option<String>,
    pub issue_instant: Option<String>,
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub issuer: Option<String>,
    pub name_id: Option<String>,
    pub session_indexes: Vec<String>,
    /// The top-level `StatusCode`.
    pub status: Option<String>,
}

/// Parse a logout message that passed [`check_untrusted`].
pub fn parse_logout(xml: &str) -> Result<LogoutMessage, Refusal> {
    check_untrusted(xml)?;
    let mut reader = Reader::from_str(xml);
    let mut m = LogoutMessage::default();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let bad = |e: &dyn std::fmt::Display| Refusal::Malformed(e.to_string());
    loop {
        let ev = reader.read_event().map_err(|e| bad(&e))?;
        let empty = matches!(ev, Event::Empty(_));
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let mut attrs = HashMap::new();
                for a in e.attributes() {
                    let a = a.map_err(|e| bad(&e))?;
                    let v = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| bad(&e))?
                        .into_owned();
                    attrs.insert(
                        String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(),
                        v,
                    );
                }
                if path.is_empty() {
                    m.root = name.clone();
                    m.id = attrs.get("ID").cloned();
                    m.version = attrs.get("Version").cloned();
                    m.issue_instant = attrs.get("IssueInstant").cloned();
                    m.destination = attrs.get("Destination").cloned();
                    m.in_response_to = attrs.get("InResponseTo").cloned();
                } else if name == "StatusCode" && path.len() == 2 && m.status.is_none() {
                    m.status = attrs.get("Value").cloned();
                }
                if path.len() == 1 {
                    text.clear();
                }
                if !empty {
                    path.push(name);
                }
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| bad(&e))?),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| bad(&e))? {
                    Some(c) => c,
                    None => match r.decode().map_err(|e| bad(&e))?.as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        _ => return Err(Refusal::Dtd),
                    },
                };
                text.push(resolved);
            }
            Event::End(_) => {
                if path.len() == 2 {
                    let value = text.trim().to_string();
                    match path[1].as_str() {
                        "Issuer" => m.issuer = Some(value),
                        "NameID" => m.name_id = Some(value),
                        "SessionIndex" => m.session_indexes.push(value),
                        _ => {}
                    }
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if m.root != "LogoutRequest" && m.root != "LogoutResponse" {
        return Err(Refusal::Malformed("not a logout message".into()));
    }
    Ok(m)
}

/// Where a logout chain stands: stored under `samlslo:<LogoutRequest ID>` while that SP
/// answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Chain {
    pub user_id: Uuid,
    pub session_index: String,
    /// SAML SPs still to be told.
    pub remaining: Vec<String>,
    /// The SP that asked, to answer at the end: (entity id, its LogoutRequest ID,
    /// RelayState).
    pub reply_to: Option<(String, String, Option<String>)>,
    /// The SP now being told.
    pub current: Option<String>,
    /// Where to go at the end when no SP asked (an OIDC client's post-logout redirect URI).
    #[serde(default)]
    pub then: Option<String>,
}

/// What the endpoint does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SloOutcome {
    /// Redirect (an SP's SLO endpoint, with a signed message).
    Redirect(String),
    /// The chain is done and nobody needs an answer: show "signed out".
    SignedOut,
    Refused(Refusal),
}

fn chain_key(id: &str) -> String {
    format!("samlslo:{id}")
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
        let chain = state
            .store
            .get(&chain_key(&irt))?
            .and_then(|b| serde_json::from_slice::<Chain>(&b).ok())
            .ok_or(Refusal::Expired)?;
        // Only the SP that was asked moves the chain on, once.
        if chain.current.as_deref() != Some(meta.entity_id.as_str())
            || state.store.take(&chain_key(&irt))?.is_none()
        {
            return Err(Refusal::Expired);
        }
        if msg.status.as_deref() != Some(SUCCESS) {
            tracing::info!(sp = %rp.public_id(), "SAML logout: an SP did not confirm");
        }
        return Ok((next(state, chain, now), Vec::new()));
    }

    // A LogoutRequest from an SP.
    let id = msg
        .id
        .clone()
        .filter(|i| !i.is_empty() && i.len() <= 256)
        .ok_or_else(|| Refusal::Malformed("the ID is missing".into()))?;
    if msg.version.as_deref() != Some("2.0") {
        return Err(Refusal::Malformed("only SAML 2.0".into()));
    }
    let issued = msg
        .issue_instant
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp())
        .ok_or_else(|| Refusal::Malformed("IssueInstant".into()))?;
    if issued > now + REQUEST_SKEW_SECS {
        return Err(Refusal::ClockSkew);
    }
    if issued < now - REQUEST_MAX_AGE_SECS {
        return Err(Refusal::Stale);
    }
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("slo\n{}\n{id}", meta.entity_id).as_bytes(),
    );
    if !state.store.put_if_absent(
        &format!("samlreq:{}", hex::encode(digest.as_ref())),
        b"1",
        Duration::from_secs(REPLAY_SECS),
    )? {
        return Err(Refusal::Replay);
    }

    let sess = match sid {
        Some(s) => session::load(state.store.as_ref(), s, now)?,
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
    let public = session::public_sid(&sess.sid);
    let ours = sess.clients.contains(&meta.entity_id)
        && (msg.session_indexes.contains(&public)
            || (msg.session_indexes.is_empty() && msg.name_id.is_some() && msg.name_id == sub));
    if !ours {
        return Ok((reply(Err(SamlError::UnknownPrincipal)), Vec::new()));
    }
    let deliveries = logout::terminate(state, &sess, now);
    let chain = Chain {
        user_id: sess.user_id,
        session_index: public,
        remaining: others(state, &sess, Some(&meta.entity_id)),
        reply_to: Some((meta.entity_id.clone(), id, relay_state.clone())),
        current: None,
        then: None,
    };
    Ok((next(state, chain, now), deliveries))
}

/// The SAML SPs of a session that have an SLO endpoint, except `except`.
fn others(state: &AppState, sess: &SsoSession, except: Option<&str>) -> Vec<String> {
    sess.clients
        .iter()
        .filter(|c| Some(c.as_str()) != except)
        .filter(|c| {
            service_provider(state, c)
                .map(|(_, m)| m.slo.is_some())
                .unwrap_or(false)
        })
        .cloned()
        .collect()
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
    let chain = Chain {
        user_id: sess.user_id,
        session_index: session::public_sid(&sess.sid),
        remaining,
        reply_to: None,
        current: None,
        then,
    };
    match next(state, chain, now) {
        SloOutcome::Redirect(u) => Some(u),
        _ => None,
    }
}

/// Tell the next SP, or finish: answer the SP that asked, or show "signed out".
fn next(state: &AppState, mut chain: Chain, now: i64) -> SloOutcome {
    while let Some(sp) = chain.remaining.first().cloned() {
        chain.remaining.remove(0);
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
        let xml = format!(
            concat!(
                r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{dest}" Reason="urn:oasis:names:tc:SAML:2.0:logout:user">"#,
                "<saml:Issuer>{idp}</saml:Issuer>",
                r#"<saml:NameID Format="{format}" NameQualifier="{idp}" SPNameQualifier="{sp}">{name_id}</saml:NameID>"#,
                "<samlp:SessionIndex>{si}</samlp:SessionIndex>",
                "</samlp:LogoutRequest>"
            ),
            id = id,
            now = instant(now),
            dest = esc(&slo_url),
            idp = esc(&entity_id(&state.config.issuer)),
            format = format,
            sp = esc(&meta.entity_id),
            name_id = esc(&name_id),
            si = esc(&chain.session_index),
        );
        chain.current = Some(meta.entity_id.clone());
        let Ok(bytes) = serde_json::to_vec(&chain) else {
            continue;
        };
        if state
            .store
            .put(&chain_key(&id), &bytes, Duration::from_secs(CHAIN_SECS))
            .is_err()
        {
            return SloOutcome::Refused(Refusal::Unavailable);
        }
        if let Some(url) = binding::encode_redirect(&slo_url, "SAMLRequest", &xml, None, |d| {
            state.keys.sign_saml_redirect(d).ok()
        }) {
            return SloOutcome::Redirect(url);
        }
    }
    let then = chain.then.clone();
    match chain.reply_to {
        Some((sp, request_id, relay_state)) => {
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
        None => match then {
            Some(url) => SloOutcome::Redirect(url),
            None => SloOutcome::SignedOut,
        },
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
    let second = second
        .map(|s| format!(r#"<samlp:StatusCode Value="{}"/>"#, esc(&s)))
        .unwrap_or_default();
    let xml = format!(
        concat!(
            r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{dest}" InResponseTo="{irt}">"#,
            "<saml:Issuer>{idp}</saml:Issuer>",
            r#"<samlp:Status><samlp:StatusCode Value="{top}">{second}</samlp:StatusCode></samlp:Status>"#,
            "</samlp:LogoutResponse>"
        ),
        id = id,
        now = instant(now),
        dest = esc(to),
        irt = esc(in_response_to),
        idp = esc(&entity_id(&state.config.issuer)),
        top = esc(&top),
        second = second,
    );
    binding::encode_redirect(to, "SAMLResponse", &xml, relay_state, |d| {
        state.keys.sign_saml_redirect(d).ok()
    })
}
