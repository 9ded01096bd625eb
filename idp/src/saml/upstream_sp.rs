//! Leerpoort as a SAML service provider towards network environments (upstream IdPs): the
//! server's side of [`broker::federation::saml`]. Its SP metadata (`/broker/saml/metadata`)
//! and the signed AuthnRequest over HTTP-Redirect ([`start`]) are signed here with the key
//! store; the AssertionConsumerService (`/broker/saml/acs`, [`consume`]) and the
//! SingleLogoutService (`/broker/saml/slo`, [`logout`], [`logout_answered`]) put the checks
//! of `protocol::saml::upstream_answer` (every check a Response or LogoutRequest passes, see
//! there) and the broker's decisions (which upstream, replay, the request it answers, the
//! session a logout ends) together. Unsolicited responses (no `InResponseTo`) are refused
//! unless the upstream was added with `--allow-unsolicited`; then the `RelayState` may name
//! the relying party to go on to.

use std::time::Duration;

use broker::federation::pending::{Binding, Pending};
use broker::federation::saml::{
    self as decide, acs_url, paths, sp_entity_id, Consumed, Replay, UpstreamSamlError,
};
use broker::model::Upstream;
use protocol::saml::authn_request::authn_request_xml;
use protocol::saml::logout::{logout_request_xml, logout_response_xml};
use protocol::saml::metadata::sp_metadata_xml;
use protocol::saml::upstream::{idp_metadata, IdpMetadata};
use protocol::saml::upstream_answer::{
    read_logout, read_response, Expected, LogoutQuery, UpstreamRefusal,
};

use super::names::SUCCESS;
use super::xml::without_declaration;
use super::{binding, new_id, published_certificates, REPLAY_SECS};
use crate::app::AppState;

/// How SAML message IDs are remembered against replay.
const REPLAY: Replay = Replay {
    digest: protocol::saml::replay_digest,
    ttl: Duration::from_secs(REPLAY_SECS),
};

/// Title and text of the page the user sees for `e`, from the catalogue.
pub fn page(e: &UpstreamSamlError, t: &'static catalogue::Texts) -> (&'static str, &'static str) {
    use UpstreamRefusal as R;
    use UpstreamSamlError as E;
    match e {
        E::UnknownUpstream | E::Metadata(_) => (t.upstream_unknown_title, t.upstream_unknown),
        E::Refused(R::Expired | R::InResponseToMismatch) | E::Replay => {
            (t.saml_expired_title, t.upstream_expired)
        }
        E::Refused(R::Status(_)) => (t.upstream_not_signed_in_title, t.upstream_not_signed_in),
        E::OtherBrowser => (t.saml_expired_title, t.network_expired),
        E::Unavailable => (t.saml_unavailable_title, t.saml_unavailable),
        _ => (t.upstream_untrusted_title, t.upstream_untrusted),
    }
}

/// The metadata of `upstream`, an enabled SAML upstream.
fn saml_upstream(upstream: &Upstream) -> Result<IdpMetadata, UpstreamSamlError> {
    idp_metadata(decide::metadata_xml(upstream)?).map_err(|e| UpstreamSamlError::Metadata(e.0))
}

/// Leerpoort's SP metadata, unsigned, with a signature template; `certs` DER, active first.
pub fn sp_metadata_unsigned(issuer: &str, id: &str, certs: &[Vec<u8>], now: i64) -> String {
    sp_metadata_xml(
        &sp_entity_id(issuer),
        &acs_url(issuer),
        &format!("{issuer}{}", paths::SLO),
        id,
        certs,
        now,
    )
}

/// Leerpoort's SP metadata, signed with its SAML key.
pub fn sp_metadata(state: &AppState, now: i64) -> Result<String, UpstreamSamlError> {
    let certs = published_certificates(state, now).ok_or(UpstreamSamlError::Unavailable)?;
    let id = new_id().map_err(|_| UpstreamSamlError::Unavailable)?;
    let xml = sp_metadata_unsigned(&state.config.issuer, &id, &certs, now);
    let signed = state
        .keys
        .sign_saml_xml(&xml)
        .map_err(|_| UpstreamSamlError::Unavailable)?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        without_declaration(&signed)
    ))
}

/// Start a sign-in at `upstream`: a signed AuthnRequest (HTTP-Redirect, `IsPassive` when
/// `pending.passive`), `pending` kept under its request ID and bound to this browser, and the
/// URL to send the browser to (the upstream's SingleSignOnService from its metadata) with the
/// binding cookie to set.
pub fn start(
    state: &AppState,
    upstream: &Upstream,
    pending: Pending,
    now: i64,
) -> Result<(String, Binding), UpstreamSamlError> {
    let meta = saml_upstream(upstream)?;
    let id = new_id().map_err(|_| UpstreamSamlError::Unavailable)?;
    let issuer = state.config.issuer.as_str();
    let xml = authn_request_xml(
        &sp_entity_id(issuer),
        &acs_url(issuer),
        &id,
        &meta.sso_redirect,
        pending.passive,
        now,
    );
    let url = binding::encode_redirect(&meta.sso_redirect, "SAMLRequest", &xml, None, |d| {
        state.keys.sign_saml_redirect(d).ok()
    })
    .ok_or(UpstreamSamlError::Unavailable)?;
    let binding = decide::put_request(state.store.as_ref(), upstream, &id, pending, now)?;
    Ok((url, binding))
}

/// Verify a `SAMLResponse` (HTTP-POST binding, still base64) and take the request it
/// answers. See the module documentation for every check.
pub fn consume(
    state: &AppState,
    saml_response: Option<&str>,
    relay_state: Option<&str>,
    now: i64,
) -> Result<Consumed, UpstreamSamlError> {
    let store = state.store.as_ref();
    let answer = read_response(saml_response)?;
    // Unverified: to end early when the upstream says it signed nobody in (that signs in
    // nobody here either), and to find whose certificates verify it.
    if let Some((status, irt)) = answer.failure() {
        return Err(decide::refused_by_upstream(store, status, irt.as_deref()));
    }
    let issuer = answer.issuer().ok_or(UpstreamRefusal::WrongIssuer)?;
    let upstream = decide::upstream_of_issuer(state.dir.as_ref(), &issuer)?;
    let meta = saml_upstream(&upstream)?;
    let expected = Expected {
        acs: &acs_url(&state.config.issuer),
        audience: &sp_entity_id(&state.config.issuer),
        allow_unsolicited: decide::allows_unsolicited(&upstream),
    };
    let verified = answer.verify(&meta, expected, now)?;
    decide::mark_used(
        store,
        REPLAY,
        &upstream,
        &verified.assertion_id,
        verified.response_id.as_deref(),
    )?;
    let pending = decide::pending_for(
        store,
        &upstream,
        verified.in_response_to.as_deref(),
        relay_state,
    )?;
    let mut asserted = verified.attributes;
    asserted.insert("NameID".to_string(), verified.name_id);
    Ok(Consumed {
        upstream,
        asserted,
        pending,
    })
}

/// What an upstream's LogoutRequest leads to.
#[derive(Debug)]
pub struct LoggedOut {
    /// The signed LogoutResponse to send the browser back with, when the upstream's metadata
    /// has a SingleLogoutService for HTTP-Redirect.
    pub redirect: Option<String>,
    /// Back-channel logouts of the OIDC relying parties of the ended session.
    pub deliveries: Vec<crate::oidc::logout::BackchannelDelivery>,
}

/// A network environment's `LogoutRequest` or `LogoutResponse` (HTTP-Redirect, `param` in
/// `query`, of element `element`): read, from the enabled SAML upstream that is its issuer,
/// its query signed with a key of that upstream's metadata.
fn verified_logout(
    state: &AppState,
    query: &str,
    param: &'static str,
    element: &str,
) -> Result<(LogoutQuery, Upstream, IdpMetadata), UpstreamSamlError> {
    let message = read_logout(query, param, element)?;
    let issuer = message
        .message
        .issuer
        .clone()
        .ok_or(UpstreamRefusal::WrongIssuer)?;
    let upstream = decide::upstream_of_issuer(state.dir.as_ref(), &issuer)?;
    let meta = saml_upstream(&upstream)?;
    message.verify_signature(&meta)?;
    Ok((message, upstream, meta))
}

/// `/broker/saml/slo`: a network environment's LogoutRequest (HTTP-Redirect, its query
/// signed with a key of its metadata) ends the session it started for that NameID.
pub fn logout(state: &AppState, query: &str, now: i64) -> Result<LoggedOut, UpstreamSamlError> {
    use UpstreamSamlError as E;
    let (request, upstream, meta) = verified_logout(state, query, "SAMLRequest", "LogoutRequest")?;
    let slo_url = format!("{}{}", state.config.issuer, paths::SLO);
    let (id, name_id) = request.check_request(&slo_url, now)?;
    let sid = decide::logout_requested(state.store.as_ref(), REPLAY, &upstream, &id, &name_id)?;

    let mut deliveries = Vec::new();
    let mut ended = None;
    if let Some(sid) = sid {
        if let Some(s) =
            crate::session::load(state.store.as_ref(), &sid, now).map_err(|_| E::Unavailable)?
        {
            deliveries = crate::oidc::logout::terminate(state, &s, now);
            ended = Some(s);
        }
    }
    let answer = match &meta.slo_redirect {
        Some((_, to)) => Some(logout_response(
            state,
            to,
            &id,
            request.relay_state.as_deref(),
            now,
        )?),
        None => None,
    };
    // The session's SAML service providers are told first, over the front channel; the
    // chain ends with the answer to the network environment.
    let redirect = ended
        .and_then(|s| crate::saml::slo::start_chain(state, &s, answer.clone(), now))
        .or(answer);
    Ok(LoggedOut {
        redirect,
        deliveries,
    })
}

/// A signed `LogoutResponse` (Success) over HTTP-Redirect, from Leerpoort's SP.
fn logout_response(
    state: &AppState,
    to: &str,
    in_response_to: &str,
    relay_state: Option<&str>,
    now: i64,
) -> Result<String, UpstreamSamlError> {
    let id = new_id().map_err(|_| UpstreamSamlError::Unavailable)?;
    let xml = logout_response_xml(
        &id,
        &sp_entity_id(&state.config.issuer),
        to,
        in_response_to,
        (SUCCESS, None),
        now,
    );
    binding::encode_redirect(to, "SAMLResponse", &xml, relay_state, |d| {
        state.keys.sign_saml_redirect(d).ok()
    })
    .ok_or(UpstreamSamlError::Unavailable)
}

/// Signing out at Leerpoort of a session a SAML network environment started: a signed
/// LogoutRequest (HTTP-Redirect) for it, if its metadata has a SingleLogoutService; the URL to
/// send the browser to. Its LogoutResponse comes back to `/broker/saml/slo`.
pub fn logout_request_url(
    state: &AppState,
    s: &crate::session::SsoSession,
    now: i64,
) -> Option<String> {
    let link = s.upstream.as_ref()?;
    let name_id = link.name_id.as_deref()?;
    let u = state.dir.upstream(link.upstream).ok()??;
    let meta = saml_upstream(&u).ok()?;
    let (location, _) = meta.slo_redirect.as_ref()?;
    let id = new_id().ok()?;
    let xml = logout_request_xml(
        &id,
        &sp_entity_id(&state.config.issuer),
        location,
        name_id,
        None,
        now,
    );
    let url = binding::encode_redirect(location, "SAMLRequest", &xml, None, |d| {
        state.keys.sign_saml_redirect(d).ok()
    })?;
    decide::logout_request_sent(state.store.as_ref(), REPLAY, &u, &id).ok()?;
    Some(url)
}

/// The network environment answers Leerpoort's LogoutRequest (HTTP-Redirect): its signature,
/// and that it answers a request Leerpoort sent it (once).
pub fn logout_answered(state: &AppState, query: &str) -> Result<(), UpstreamSamlError> {
    let (answer, upstream, _) = verified_logout(state, query, "SAMLResponse", "LogoutResponse")?;
    decide::logout_answered(
        state.store.as_ref(),
        &upstream,
        answer.message.in_response_to.as_deref(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sp_metadata_names_the_acs() {
        let xml = sp_metadata_unsigned("https://lp.example", "_x", &[], 0);
        assert!(xml.contains(r#"entityID="https://lp.example/broker/saml/metadata""#));
        assert!(xml.contains(r#"Location="https://lp.example/broker/saml/acs""#));
    }
}
