//! `/saml/sso`: SP-initiated single sign-on over HTTP-Redirect and HTTP-POST (SAML Profiles
//! §4.1), its continuation after sign-in, and unsolicited responses (IdP-initiated, for
//! school shortcuts).
//!
//! Order of checks, so that nothing is ever sent to an address the SP did not register:
//! size caps and decoding → no DTD → parse → the `Issuer` is a known, enabled SP → its
//! signature (required when its metadata says `AuthnRequestsSigned`) → the ACS comes from
//! its metadata. Only after that are errors answered to the SP as a `Response` with a
//! status; before it, the user sees a page and nothing is sent. Then: freshness, the
//! `Destination`, `RelayState` ≤ 80 bytes, and the request ID is remembered so a replay is
//! refused.

use broker::keyspace::Key;
use std::time::Duration;

use broker::model::{RelyingParty, RpProtocol};
use broker::release::{Denial, ReleaseError, Scopes};
use claims::ClaimSet;
use protocol::saml::{check_issue_instant, replay_digest};
use serde::{Deserialize, Serialize};

use super::error::Refusal;
use super::names::{HTTP_POST, PERSISTENT, TRANSIENT, UNSPECIFIED};
use super::response::{self, Issue, NameIdFormat, SignIn};
use super::sp::{self, SpMetadata};
use super::{binding, paths, SamlError, RELAY_STATE_MAX, REPLAY_SECS};
use crate::app::AppState;
use crate::session::{self, Browser, Standing};

/// A pending sign-in waits this long for the user.
pub const PENDING_SECS: u64 = 30 * 60;
/// The prefix of a pending SAML sign-in's id, so the login page knows where to resume.
pub const AUTH_PREFIX: &str = "saml-";

/// How a request arrived.
#[derive(Debug, Clone)]
pub enum Inbound {
    /// HTTP-Redirect: the raw (percent-encoded) query string.
    Redirect { query: String },
    /// HTTP-POST: the form fields.
    Post {
        saml_request: Option<String>,
        relay_state: Option<String>,
    },
}

/// A validated request (or an unsolicited start), kept while the user signs in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingSso {
    pub sp: String,
    /// The AuthnRequest's ID; `None` for an unsolicited response.
    pub request_id: Option<String>,
    pub acs: String,
    pub relay_state: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub transient: bool,
    pub created_at: i64,
}

/// What the endpoint does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// POST a `Response` to the SP's ACS (the HTTP-POST binding, auto-submitted).
    Post {
        acs: String,
        saml_response: String,
        relay_state: Option<String>,
    },
    /// The user must sign in first; the request waits under `auth_id`.
    Login { auth_id: String },
    /// Refused without answering anyone.
    Refused(Refusal),
    /// The school's settings block this software; the SP may be told (`RequestDenied`).
    Denied {
        sp_name: String,
        /// For whom the software is meant (the page for a wrong audience says so).
        audience: claims::Audience,
        /// The release policy's reason, when it was the policy that said no.
        denial: Option<Denial>,
        acs: String,
        saml_response: String,
        relay_state: Option<String>,
    },
}

/// The URL that resumes a pending SAML sign-in, if `auth_id` is one.
pub fn resume_url(auth_id: &str) -> Option<String> {
    auth_id
        .starts_with(AUTH_PREFIX)
        .then(|| format!("{}?auth={auth_id}", paths::SSO_CONTINUE))
}

/// The SAML relying party with this entity ID, if it is known and enabled, with its metadata.
pub fn service_provider(
    state: &AppState,
    entity_id: &str,
) -> Result<(RelyingParty, SpMetadata), Refusal> {
    let rp = state
        .dir
        .relying_party_by_public_id(entity_id)
        .map_err(|_| Refusal::Unavailable)?
        .filter(|rp| rp.enabled)
        .ok_or(Refusal::UnknownSp)?;
    let RpProtocol::Saml(s) = &rp.protocol else {
        return Err(Refusal::UnknownSp);
    };
    let meta = sp::parse(&s.metadata).map_err(|e| {
        tracing::error!(error = %e, "stored SP metadata no longer parses");
        Refusal::UnknownSp
    })?;
    Ok((rp, meta))
}

pub use protocol::saml::authn_request::parse_authn_request;
pub use protocol::saml::signature::verified_xml;

/// Handle an AuthnRequest.
pub fn sso(state: &AppState, inbound: Inbound, browser: &Browser, now: i64) -> Outcome {
    match validate(state, &inbound, now) {
        Ok(Validated::Pending(rp, meta, pending)) => {
            proceed(state, &rp, &meta, pending, browser, now)
        }
        Ok(Validated::Fail(rp, acs, request_id, relay_state, e)) => answer_error(
            state,
            &rp,
            &acs,
            request_id.as_deref(),
            relay_state,
            &e,
            now,
        ),
        Err(r) => {
            tracing::info!(reason = r.reason(), refusal = %r, "SAML AuthnRequest refused");
            Outcome::Refused(r)
        }
    }
}

enum Validated {
    Pending(RelyingParty, SpMetadata, PendingSso),
    /// Trusted SP and ACS, but the request cannot be honoured: tell the SP.
    Fail(
        RelyingParty,
        String,
        Option<String>,
        Option<String>,
        SamlError,
    ),
}

fn validate(state: &AppState, inbound: &Inbound, now: i64) -> Result<Validated, Refusal> {
    let (xml, relay_state, query) = match inbound {
        Inbound::Redirect { query } => {
            // Parsed once: the signature below covers exactly these values.
            let q = binding::RedirectQuery::parse(query, &["SAMLRequest"])?;
            (
                binding::decode_redirect(&q.message.value)?,
                q.relay_state(),
                Some(q),
            )
        }
        Inbound::Post {
            saml_request,
            relay_state,
        } => {
            let req = saml_request.as_deref().ok_or(Refusal::Missing)?;
            (binding::decode_post(req)?, relay_state.clone(), None)
        }
    };
    let relay_state = relay_state.filter(|r| !r.is_empty());
    let parsed = parse_authn_request(&xml)?;
    let issuer = parsed
        .issuer
        .as_ref()
        .and_then(|i| i.value.clone())
        .map(|v| v.trim().to_string())
        .ok_or(Refusal::UnknownSp)?;
    let (rp, meta) = service_provider(state, &issuer)?;

    // The signature: in the query (Redirect) or enveloped (POST).
    let signed_in_query = query
        .as_ref()
        .is_some_and(binding::RedirectQuery::is_signed);
    let req = match (&query, signed_in_query, parsed.signature.is_some()) {
        (Some(q), true, _) => {
            q.verify(&meta.signing_certs)?;
            parsed
        }
        (None, _, true) => {
            let verified = verified_xml(&xml, &meta.signing_certs)?;
            let req = parse_authn_request(&verified)?;
            if req.id != parsed.id {
                return Err(Refusal::BadSignature);
            }
            req
        }
        _ if meta.authn_requests_signed => return Err(Refusal::SignatureMissing),
        _ => parsed,
    };

    // The ACS: only from the metadata.
    let acs = meta
        .acs_for(
            req.assertion_consumer_service_url.as_deref(),
            req.assertion_consumer_service_index,
        )
        .ok_or(Refusal::UnknownAcs)?
        .location
        .clone();

    check_issue_instant(req.issue_instant.timestamp(), now)?;
    if let Some(d) = req.destination.as_deref() {
        if d != format!("{}{}", state.config.issuer, paths::SSO) {
            return Err(Refusal::WrongDestination);
        }
    }
    if relay_state
        .as_ref()
        .is_some_and(|r| r.len() > RELAY_STATE_MAX)
    {
        return Err(Refusal::RelayStateTooLong);
    }
    // A request is honoured once.
    let fresh = state
        .store
        .put_if_absent(
            &Key::SeenSamlRequest(&replay_digest(&meta.entity_id, &req.id)),
            b"1",
            Duration::from_secs(REPLAY_SECS),
        )
        .map_err(|_| Refusal::Unavailable)?;
    if !fresh {
        return Err(Refusal::Replay);
    }

    let fail = |e: SamlError| {
        Ok(Validated::Fail(
            rp.clone(),
            acs.clone(),
            Some(req.id.clone()),
            relay_state.clone(),
            e,
        ))
    };
    if req.version != "2.0" {
        return fail(SamlError::VersionMismatch);
    }
    if let Some(b) = req.protocol_binding.as_deref() {
        if b != HTTP_POST {
            return fail(SamlError::Requester(
                "only the HTTP-POST binding is supported for responses".into(),
            ));
        }
    }
    let transient = match req
        .name_id_policy
        .as_ref()
        .and_then(|p| p.format.as_deref())
    {
        None | Some(UNSPECIFIED) => meta.prefers_transient(),
        Some(PERSISTENT) => false,
        Some(TRANSIENT) => true,
        Some(_) => return fail(SamlError::InvalidNameIdPolicy),
    };
    let pending = PendingSso {
        sp: meta.entity_id.clone(),
        request_id: Some(req.id.clone()),
        acs,
        relay_state,
        force_authn: req.force_authn.unwrap_or(false),
        is_passive: req.is_passive.unwrap_or(false),
        transient,
        created_at: now,
    };
    Ok(Validated::Pending(rp, meta, pending))
}

fn answer_error(
    state: &AppState,
    rp: &RelyingParty,
    acs: &str,
    request_id: Option<&str>,
    relay_state: Option<String>,
    e: &SamlError,
    now: i64,
) -> Outcome {
    tracing::info!(sp = %rp.public_id(), error = %e, "SAML: answering with an error status");
    match response::failure(state, acs, request_id, e, now) {
        Ok(r) => Outcome::Post {
            acs: acs.to_string(),
            saml_response: r,
            relay_state,
        },
        Err(_) => Outcome::Refused(Refusal::Unavailable),
    }
}

/// An unsolicited response to `sp_entity_id` (a school shortcut's TARGET).
pub fn unsolicited(
    state: &AppState,
    sp_entity_id: &str,
    relay_state: Option<String>,
    browser: &Browser,
    now: i64,
) -> Outcome {
    let (rp, meta) = match service_provider(state, sp_entity_id) {
        Ok(x) => x,
        Err(r) => return Outcome::Refused(r),
    };
    let relay_state = relay_state.filter(|r| !r.is_empty());
    if relay_state
        .as_ref()
        .is_some_and(|r| r.len() > RELAY_STATE_MAX)
    {
        return Outcome::Refused(Refusal::RelayStateTooLong);
    }
    // Only a RelayState registered for this SP (`saml-sp add/update --relay-state`), the URL
    // of one of its publisher's titles (a shortcut's PRODUCT), or none.
    if let Some(rs) = &relay_state {
        let titles = crate::shortcut::titles_owners(state, &rp)
            .and_then(|owners| state.dir.titles_of_many(&owners));
        let registered = match (state.dir.saml_sp_options(rp.id), titles) {
            (Ok(o), Ok(titles)) => o
                .relay_states
                .into_iter()
                .chain(titles.into_iter().filter_map(|t| t.url))
                .collect::<Vec<_>>(),
            _ => return Outcome::Refused(Refusal::Unavailable),
        };
        if !registered.iter().any(|r| r == rs) {
            let r = Refusal::RelayStateNotRegistered;
            tracing::info!(sp = %meta.entity_id, reason = r.reason(), refusal = %r, "SAML unsolicited response refused");
            return Outcome::Refused(r);
        }
    }
    let Some(acs) = meta.acs_for(None, None).map(|a| a.location.clone()) else {
        return Outcome::Refused(Refusal::UnknownAcs);
    };
    let pending = PendingSso {
        sp: meta.entity_id.clone(),
        request_id: None,
        acs,
        relay_state,
        force_authn: false,
        is_passive: false,
        transient: meta.prefers_transient(),
        created_at: now,
    };
    proceed(state, &rp, &meta, pending, browser, now)
}

/// Continue after the user signed in.
pub fn resume(state: &AppState, auth_id: &str, browser: &Browser, now: i64) -> Outcome {
    let pending = match session::take_waiting::<PendingSso>(state, &Key::PendingSaml(auth_id)) {
        Ok(p) => p,
        Err(_) => return Outcome::Refused(Refusal::Unavailable),
    };
    let Some(pending) = pending else {
        return Outcome::Refused(Refusal::Expired);
    };
    let (rp, meta) = match service_provider(state, &pending.sp) {
        Ok(x) => x,
        Err(r) => return Outcome::Refused(r),
    };
    proceed(state, &rp, &meta, pending, browser, now)
}

/// What `rp` receives for the session's user, as the broker decides (the registration
/// alone decides which optional attributes: SAML has no scopes).
pub fn claims_for(
    state: &AppState,
    rp: &RelyingParty,
    sess: &session::SsoSession,
) -> Result<ClaimSet, SamlError> {
    let who = (sess.user_id, &sess.school, sess.context);
    session::release(state, rp, who, Scopes::all()).map_err(|e| match e {
        ReleaseError::Denied(d) => SamlError::NotAllowed(d),
        gone @ (ReleaseError::UserGone | ReleaseError::SchoolGone) => {
            SamlError::RequestDenied(gone.to_string())
        }
        ReleaseError::Storage(_) | ReleaseError::Subject(_) => SamlError::Responder,
    })
}

fn proceed(
    state: &AppState,
    rp: &RelyingParty,
    meta: &SpMetadata,
    pending: PendingSso,
    browser: &Browser,
    now: i64,
) -> Outcome {
    let request_id = pending.request_id.as_deref();
    // Tell the SP why it gets no assertion.
    let answer = |e: &SamlError| {
        answer_error(
            state,
            rp,
            &pending.acs,
            request_id,
            pending.relay_state.clone(),
            e,
            now,
        )
    };
    let standing = session::standing(state, browser, now, |s| match s {
        None => true,
        Some(s) => pending.force_authn && s.auth_time < pending.created_at,
    });
    let Ok(Standing {
        session: sess,
        needs_login,
        moved,
    }) = standing
    else {
        return Outcome::Refused(Refusal::Unavailable);
    };
    if needs_login || moved {
        if pending.is_passive {
            return answer(&SamlError::NoPassive);
        }
        let auth_id = match broker::secrets::random_token() {
            Ok(t) => format!("{AUTH_PREFIX}{t}"),
            Err(_) => return Outcome::Refused(Refusal::Unavailable),
        };
        let stored = serde_json::to_vec(&pending).ok().map(|b| {
            state.store.put(
                &Key::PendingSaml(&auth_id),
                &b,
                Duration::from_secs(PENDING_SECS),
            )
        });
        return match stored {
            Some(Ok(())) => Outcome::Login { auth_id },
            _ => Outcome::Refused(Refusal::Unavailable),
        };
    }
    let Some(mut sess) = sess else {
        return Outcome::Refused(Refusal::Unavailable);
    };

    let claims = match claims_for(state, rp, &sess) {
        Ok(c) => c,
        Err(refusal @ (SamlError::RequestDenied(_) | SamlError::NotAllowed(_))) => {
            return refused(state, rp, &sess, &pending, refusal, now);
        }
        Err(e) => return answer(&e),
    };
    let session_index = session::public_sid(&sess.sid);
    // Signed in at a network environment: it is named in the AuthnContext.
    let authority = sess
        .upstream
        .as_ref()
        .and_then(|u| state.dir.upstream(u.upstream).ok().flatten())
        .map(|u| match u.protocol {
            broker::model::UpstreamProtocol::Oidc { issuer, .. } => issuer,
            broker::model::UpstreamProtocol::Saml { entity_id, .. } => entity_id,
        });
    let issue = Issue {
        sign_in: SignIn {
            sp_entity_id: &meta.entity_id,
            acs: &pending.acs,
            in_response_to: request_id,
            format: if pending.transient {
                NameIdFormat::Transient
            } else {
                NameIdFormat::Persistent
            },
            session_index: &session_index,
            auth_time: sess.auth_time,
            session_expires: sess.expires_at,
            authenticating_authority: authority.as_deref(),
        },
        claims: &claims,
        amr: &sess.amr,
        encrypt_for: meta.encryption_certs.first().map(Vec::as_slice),
    };
    let saml_response = match response::success(state, &issue, now) {
        Ok(r) => r,
        Err(e) => return answer(&e),
    };
    // Remember the SP in the session, for Single Logout.
    if !sess.clients.contains(&meta.entity_id) {
        sess.clients.push(meta.entity_id.clone());
        if let Err(e) = session::save(state.store.as_ref(), &sess, now) {
            tracing::warn!(error = %e, "SAML: could not record the SP in the session");
        }
    }
    Outcome::Post {
        acs: pending.acs,
        saml_response,
        relay_state: pending.relay_state,
    }
}

/// The release policy refuses the session's user at `rp`: the trail notes why (once per
/// quarter hour), the user sees the refusal page, and the SP hears the same reason.
fn refused(
    state: &AppState,
    rp: &RelyingParty,
    sess: &session::SsoSession,
    pending: &PendingSso,
    refusal: SamlError,
    now: i64,
) -> Outcome {
    let denial = match &refusal {
        SamlError::NotAllowed(d) => Some(d.clone()),
        _ => None,
    };
    if let Some(d) = &denial {
        broker::release::note_refusal(&state.world(), &sess.school, rp, d);
    }
    let e = SamlError::RequestDenied(match &refusal {
        SamlError::NotAllowed(d) => d.to_string(),
        SamlError::RequestDenied(why) => why.clone(),
        _ => "the school does not allow this software for this user".into(),
    });
    let request_id = pending.request_id.as_deref();
    match response::failure(state, &pending.acs, request_id, &e, now) {
        Ok(r) => Outcome::Denied {
            sp_name: rp.name.clone(),
            audience: rp.audience,
            denial,
            acs: pending.acs.clone(),
            saml_response: r,
            relay_state: pending.relay_state.clone(),
        },
        Err(_) => Outcome::Refused(Refusal::Unavailable),
    }
}
