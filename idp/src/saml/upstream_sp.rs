//! Leerpoort as a SAML service provider towards network environments (upstream IdPs):
//! its SP metadata (`/broker/saml/metadata`), the signed AuthnRequest over HTTP-Redirect
//! ([`start`]), the AssertionConsumerService (`/broker/saml/acs`, [`consume`]), and the
//! SingleLogoutService for the upstream's LogoutRequests (`/broker/saml/slo`, [`logout`]).
//!
//! What the ACS accepts, in order:
//! size caps and base64 → no DTD, well-formed → the `Issuer` names an enabled SAML upstream →
//! xmlsec verifies every signature in the message with the certificates of that upstream's
//! stored metadata, and returns the one signed node (the pre-digest content: exactly the
//! octets the signature covers). Everything after that is read **only** from that node: the
//! Response (when the Response is signed) or the Assertion (when only the Assertion is
//! signed); nothing is ever looked up again by ID, so signature wrapping (XSW1–XSW8) has
//! nothing to hide behind. Then: exactly one assertion, no comments in the signed content
//! (the canonical text is what was signed), the status, issuer, `Destination`, bearer
//! `SubjectConfirmationData` (`Recipient`, `InResponseTo`, `NotOnOrAfter`), `Conditions`
//! (time with [`SKEW_SECS`], `Audience`), a replay check on the Response and Assertion IDs,
//! and finally the pending request named by `InResponseTo` (single use). Unsolicited
//! responses (no `InResponseTo`) are refused unless the upstream was added with
//! `--allow-unsolicited`; then the `RelayState` may name the relying party to go on to.
//! Encrypted assertions are refused.

use std::collections::HashMap;
use std::str::FromStr as _;
use std::time::Duration;

use broker::model::{Upstream, UpstreamProtocol};
use protocol::saml::authn_request::authn_request_xml;
use protocol::saml::logout::{logout_request_xml, logout_response_xml, parse_logout};
use protocol::saml::metadata::sp_metadata_xml;
use protocol::saml::replay_digest;
use protocol::saml::response_shape::{shape, structure, ShapeError};
use protocol::saml::upstream::{idp_metadata, IdpMetadata, IdpMetadataError};
use samael::schema::{Assertion, Response, SubjectConfirmationData};

use super::names::{BEARER, SUCCESS};
use super::xml::{check_untrusted, without_declaration};
use super::{binding, new_id, sso, REPLAY_SECS, SKEW_SECS};
use crate::app::AppState;
use crate::upstream::{self, Pending};

/// The paths of the SP side, relative to the issuer.
pub mod paths {
    pub const METADATA: &str = "/broker/saml/metadata";
    pub const ACS: &str = "/broker/saml/acs";
    pub const START: &str = "/broker/saml/start";
    pub const SLO: &str = "/broker/saml/slo";
    /// The same-site step after the ACS, where the binding cookie is checked.
    pub const CONTINUE: &str = "/broker/saml/acs/continue";
}

/// The pending-store kind of a SAML upstream sign-in.
pub const PENDING_KIND: &str = "saml";

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
    #[error("the answer is missing")]
    Missing,
    #[error("the answer is too large or not valid base64")]
    Encoding,
    #[error("the answer is not a well-formed SAML Response: {0}")]
    Malformed(String),
    #[error("the answer is not signed")]
    SignatureMissing,
    #[error("the signature does not verify with the network environment's certificate")]
    BadSignature,
    #[error("the signed part of the answer holds no single assertion")]
    NoSignedAssertion,
    #[error("encrypted assertions are not supported")]
    Encrypted,
    #[error("the signed content holds XML comments")]
    Comments,
    #[error("the answer comes from another issuer")]
    WrongIssuer,
    #[error("the answer was sent to another destination")]
    WrongDestination,
    #[error("the assertion is for another recipient")]
    WrongRecipient,
    #[error("the assertion is for another audience")]
    WrongAudience,
    #[error("the assertion has expired or is not valid yet")]
    Expired,
    #[error("the answer was used before")]
    Replay,
    #[error("the answer is unsolicited, and unsolicited answers are not accepted")]
    Unsolicited,
    #[error("the answer does not answer a request of this browser")]
    InResponseToMismatch,
    #[error("the answer is to a request another browser sent (no or another binding cookie)")]
    OtherBrowser,
    #[error("the network environment did not sign the user in: {0}")]
    Status(String),
    /// A passive request the upstream could not answer silently: back to the waiting relying
    /// party (at this URL), which answers `login_required` itself.
    #[error("the network environment cannot sign the user in silently")]
    Passive(String),
    #[error("the service is unavailable")]
    Unavailable,
}

impl UpstreamSamlError {
    /// Title and text of the page the user sees, from the catalogue.
    pub fn page(&self, t: &'static catalogue::Texts) -> (&'static str, &'static str) {
        match self {
            Self::UnknownUpstream | Self::Metadata(_) => {
                (t.upstream_unknown_title, t.upstream_unknown)
            }
            Self::Expired | Self::InResponseToMismatch | Self::Replay => {
                (t.saml_expired_title, t.upstream_expired)
            }
            Self::Status(_) => (t.upstream_not_signed_in_title, t.upstream_not_signed_in),
            Self::OtherBrowser => (t.saml_expired_title, t.network_expired),
            Self::Unavailable => (t.saml_unavailable_title, t.saml_unavailable),
            _ => (t.upstream_untrusted_title, t.upstream_untrusted),
        }
    }
}

impl From<IdpMetadataError> for UpstreamSamlError {
    fn from(e: IdpMetadataError) -> Self {
        Self::Metadata(e.0)
    }
}

impl From<ShapeError> for UpstreamSamlError {
    fn from(e: ShapeError) -> Self {
        match e {
            ShapeError::Malformed(m) => Self::Malformed(m),
            ShapeError::Comments => Self::Comments,
            ShapeError::Encrypted => Self::Encrypted,
            ShapeError::Wrapped => Self::BadSignature,
        }
    }
}

fn saml_upstream(upstream: &Upstream) -> Result<IdpMetadata, UpstreamSamlError> {
    match &upstream.protocol {
        UpstreamProtocol::Saml { metadata_xml, .. } if upstream.enabled => {
            Ok(idp_metadata(metadata_xml)?)
        }
        _ => Err(UpstreamSamlError::UnknownUpstream),
    }
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
    let certs: Vec<Vec<u8>> = state
        .keys
        .saml_certificates(now)
        .into_iter()
        .map(|(_, der)| der)
        .collect();
    if certs.is_empty() {
        return Err(UpstreamSamlError::Unavailable);
    }
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
    mut pending: Pending,
    now: i64,
) -> Result<(String, upstream::Binding), UpstreamSamlError> {
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
    pending.upstream = upstream.id;
    pending.protocol = serde_json::json!({"request_id": id, "issued": now});
    let binding = upstream::bind_and_put(state, PENDING_KIND, &id, pending)
        .map_err(|_| UpstreamSamlError::Unavailable)?;
    Ok((url, binding))
}

/// A verified answer: who the upstream is, what it asserted, and the request it answers.
#[derive(Debug)]
pub struct Consumed {
    pub upstream: Upstream,
    /// Attribute Name → first value, and the NameID under `NameID`.
    pub asserted: HashMap<String, String>,
    pub pending: Pending,
}

/// A status code's last part, for the log (`Responder`, `AuthnFailed`).
fn status_name(code: &str) -> String {
    code.rsplit(':').next().unwrap_or_default().to_string()
}

fn issuer_of(r: &Response) -> Option<String> {
    r.issuer
        .as_ref()
        .and_then(|i| i.value.clone())
        .or_else(|| r.assertion.as_ref().and_then(|a| a.issuer.value.clone()))
        .map(|v| v.trim().to_string())
}

/// Verify a `SAMLResponse` (HTTP-POST binding, still base64) and take the request it
/// answers. See the module documentation for every check.
pub fn consume(
    state: &AppState,
    saml_response: Option<&str>,
    relay_state: Option<&str>,
    now: i64,
) -> Result<Consumed, UpstreamSamlError> {
    use UpstreamSamlError as E;
    let encoded = saml_response.filter(|s| !s.is_empty()).ok_or(E::Missing)?;
    let xml = binding::decode_post(encoded).map_err(|_| E::Encoding)?;
    check_untrusted(&xml).map_err(|e| E::Malformed(e.to_string()))?;
    structure(&xml)?;
    // Unverified: only to find whose certificates verify it, and to end early when the
    // upstream says it signed nobody in (that signs in nobody here either).
    let outer =
        Response::from_str(without_declaration(&xml)).map_err(|e| E::Malformed(e.to_string()))?;
    if let Some(refusal) = refused_by_upstream(state, &outer) {
        return Err(refusal);
    }
    let issuer = issuer_of(&outer).ok_or(E::WrongIssuer)?;
    let upstream = upstream_of_issuer(state, &issuer)?;
    let meta = saml_upstream(&upstream)?;
    let acs = acs_url(&state.config.issuer);
    if outer.signature.is_none()
        && outer
            .assertion
            .as_ref()
            .is_none_or(|a| a.signature.is_none())
    {
        if outer.encrypted_assertion.is_some() {
            return Err(E::Encrypted);
        }
        return Err(E::SignatureMissing);
    }

    let (response, assertion) = signed_parts(&xml, &meta)?;

    check_issuers_and_destination(response.as_ref(), &outer, &assertion, &meta, &acs)?;

    let (name_id, data) = bearer_subject(&assertion, &acs, now)?;
    // Unsolicited (IdP-initiated) answers only from an upstream that is allowed to send them.
    let allows_unsolicited = matches!(
        upstream.protocol,
        UpstreamProtocol::Saml {
            allow_unsolicited: true,
            ..
        }
    );
    let in_response_to = match data.in_response_to.clone() {
        Some(i) => Some(i),
        None if allows_unsolicited => None,
        None => return Err(E::Unsolicited),
    };
    if response
        .iter()
        .chain(std::iter::once(&outer))
        .any(|r| r.in_response_to.as_deref().is_some() && r.in_response_to != in_response_to)
    {
        return Err(E::InResponseToMismatch);
    }

    check_conditions(&assertion, &sp_entity_id(&state.config.issuer), now)?;

    mark_used(state, &upstream, &assertion, response.as_ref())?;

    // The request it answers: this upstream's, still waiting. Unsolicited: the RelayState
    // may name the relying party to go on to.
    let pending = match &in_response_to {
        Some(irt) => upstream::take_pending(state, PENDING_KIND, irt)
            .filter(|p| p.upstream == upstream.id)
            .ok_or(E::InResponseToMismatch)?,
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
    };

    let mut asserted = attributes_of(&assertion);
    asserted.insert("NameID".to_string(), name_id);
    Ok(Consumed {
        upstream,
        asserted,
        pending,
    })
}

/// The upstream signed nobody in (a status other than Success). A passive request's answer
/// goes back to the relying party, once; unsigned failures can only end a sign-in that was
/// waiting anyway.
fn refused_by_upstream(state: &AppState, outer: &Response) -> Option<UpstreamSamlError> {
    use UpstreamSamlError as E;
    let code = outer
        .status
        .as_ref()
        .and_then(|s| s.status_code.value.as_deref())
        .filter(|c| *c != SUCCESS)?;
    // The answer to a passive request (`prompt=none` at Leerpoort): back to the relying
    // party, once. (Unsigned failures can only end a sign-in that was waiting anyway.)
    if let Some(irt) = outer.in_response_to.as_deref() {
        if let Some(p) = upstream::take_pending(state, PENDING_KIND, irt) {
            match (p.passive, &p.resume) {
                (true, Some(resume)) => return Some(E::Passive(resume.clone())),
                // Not passive: the request stays for an honest answer.
                _ => {
                    let _ = upstream::put_pending(state, PENDING_KIND, irt, &p);
                }
            }
        }
    }
    Some(E::Status(status_name(code)))
}

/// The one node the signature covers, as xmlsec verified it: one plain assertion, in a
/// signed Response or signed itself.
fn signed_parts(
    xml: &str,
    meta: &IdpMetadata,
) -> Result<(Option<Response>, Assertion), UpstreamSamlError> {
    use UpstreamSamlError as E;
    let signed = sso::verified_xml(xml, &meta.signing_certs).map_err(|_| E::BadSignature)?;
    let (root, assertions, encrypted, comments) = shape(&signed)?;
    if comments {
        return Err(E::Comments);
    }
    if encrypted > 0 {
        return Err(E::Encrypted);
    }
    if assertions != 1 {
        return Err(E::NoSignedAssertion);
    }
    Ok(match root.as_str() {
        "Response" => {
            let r = Response::from_str(&signed).map_err(|e| E::Malformed(e.to_string()))?;
            let a = r.assertion.clone().ok_or(E::NoSignedAssertion)?;
            (Some(r), a)
        }
        "Assertion" => (
            None,
            Assertion::from_str(&signed).map_err(|e| E::Malformed(e.to_string()))?,
        ),
        _ => return Err(E::NoSignedAssertion),
    })
}

/// The Response's own fields (from the signed Response; an unsigned outer Response may still
/// not contradict) and the Assertion's issuer and version.
fn check_issuers_and_destination(
    response: Option<&Response>,
    outer: &Response,
    assertion: &Assertion,
    meta: &IdpMetadata,
    acs: &str,
) -> Result<(), UpstreamSamlError> {
    use UpstreamSamlError as E;
    for r in response.into_iter().chain(std::iter::once(outer)) {
        if r.destination.as_deref().is_some_and(|d| d != acs) {
            return Err(E::WrongDestination);
        }
        if let Some(s) = &r.status {
            let code = s.status_code.value.as_deref().unwrap_or_default();
            if code != SUCCESS {
                return Err(E::Status(status_name(code)));
            }
        }
        if r.issuer
            .as_ref()
            .and_then(|i| i.value.as_deref())
            .is_some_and(|i| i.trim() != meta.entity_id)
        {
            return Err(E::WrongIssuer);
        }
    }
    if assertion.issuer.value.as_deref().map(str::trim) != Some(meta.entity_id.as_str()) {
        return Err(E::WrongIssuer);
    }
    if assertion.version != "2.0" {
        return Err(E::Malformed("not SAML 2.0".into()));
    }
    Ok(())
}

/// The subject's NameID and its one bearer confirmation, for this ACS and in time.
fn bearer_subject<'a>(
    assertion: &'a Assertion,
    acs: &str,
    now: i64,
) -> Result<(String, &'a SubjectConfirmationData), UpstreamSamlError> {
    use UpstreamSamlError as E;
    let subject = assertion
        .subject
        .as_ref()
        .ok_or(E::Malformed("no Subject".into()))?;
    let name_id = subject
        .name_id
        .as_ref()
        .map(|n| n.value.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or(E::Malformed("no NameID".into()))?;
    let bearer = subject
        .subject_confirmations
        .iter()
        .flatten()
        .filter(|c| c.method.as_deref() == Some(BEARER))
        .filter_map(|c| c.subject_confirmation_data.as_ref())
        .collect::<Vec<_>>();
    let [data] = bearer.as_slice() else {
        return Err(E::Malformed("needs one bearer SubjectConfirmation".into()));
    };
    if data.recipient.as_deref() != Some(acs) {
        return Err(E::WrongRecipient);
    }
    let until = data
        .not_on_or_after
        .map(|t| t.timestamp())
        .ok_or(E::Expired)?;
    if now >= until + SKEW_SECS
        || data
            .not_before
            .is_some_and(|t| t.timestamp() > now + SKEW_SECS)
    {
        return Err(E::Expired);
    }
    Ok((name_id, data))
}

/// Conditions: time, and every audience restriction names Leerpoort (`me`).
fn check_conditions(assertion: &Assertion, me: &str, now: i64) -> Result<(), UpstreamSamlError> {
    use UpstreamSamlError as E;
    let conditions = assertion.conditions.as_ref().ok_or(E::WrongAudience)?;
    if conditions
        .not_before
        .is_some_and(|t| t.timestamp() > now + SKEW_SECS)
        || conditions
            .not_on_or_after
            .is_some_and(|t| now >= t.timestamp() + SKEW_SECS)
    {
        return Err(E::Expired);
    }
    let restrictions = conditions
        .audience_restrictions
        .as_deref()
        .unwrap_or_default();
    if restrictions.is_empty()
        || !restrictions
            .iter()
            .all(|r| r.audience.iter().any(|a| a.trim() == me))
    {
        return Err(E::WrongAudience);
    }
    Ok(())
}

/// Used once: the Response's and the Assertion's IDs, per upstream.
fn mark_used(
    state: &AppState,
    upstream: &Upstream,
    assertion: &Assertion,
    response: Option<&Response>,
) -> Result<(), UpstreamSamlError> {
    use UpstreamSamlError as E;
    let mut ids = vec![format!("a\n{}", assertion.id)];
    if let Some(r) = response {
        ids.push(format!("r\n{}", r.id));
    }
    for id in ids {
        let fresh = state
            .store
            .put_if_absent(
                &format!(
                    "samlup-seen:{}",
                    replay_digest(&upstream.id.to_string(), &id)
                ),
                b"1",
                Duration::from_secs(REPLAY_SECS),
            )
            .map_err(|_| E::Unavailable)?;
        if !fresh {
            return Err(E::Replay);
        }
    }
    Ok(())
}

/// The first value of each attribute, by name.
fn attributes_of(assertion: &Assertion) -> HashMap<String, String> {
    let mut asserted = HashMap::new();
    for statement in assertion.attribute_statements.iter().flatten() {
        for a in &statement.attributes {
            let (Some(name), Some(v)) = (
                a.name.as_ref(),
                a.values.iter().find_map(|v| v.value.clone()),
            ) else {
                continue;
            };
            asserted.entry(name.clone()).or_insert(v.trim().to_string());
        }
    }
    asserted
}

/// A verified answer to a request, held for the browser's same-site step.
#[derive(serde::Serialize, serde::Deserialize)]
struct Held {
    upstream: uuid::Uuid,
    asserted: HashMap<String, String>,
    pending: Pending,
}

/// How long a verified answer waits for the browser's same-site step.
const HELD_TTL: Duration = Duration::from_secs(60);

fn held_key(key: &str) -> String {
    format!("samlup-held:{key}")
}

/// The request `c` answers, if it answers one (not unsolicited): its ID.
pub fn request_id(c: &Consumed) -> Option<String> {
    c.pending
        .protocol
        .get("request_id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// Hold a verified answer to one of Leerpoort's requests until the browser shows the cookie
/// that binds the request to it. The ACS is a cross-site POST, which does not carry a
/// `SameSite=Lax` cookie; the browser is sent on with a top-level GET to
/// [`paths::CONTINUE`], which does. The URL to send it to.
pub fn hold(state: &AppState, c: &Consumed) -> Result<String, UpstreamSamlError> {
    let key = broker::secrets::random_token().map_err(|_| UpstreamSamlError::Unavailable)?;
    let held = Held {
        upstream: c.upstream.id,
        asserted: c.asserted.clone(),
        pending: c.pending.clone(),
    };
    let bytes = serde_json::to_vec(&held).map_err(|_| UpstreamSamlError::Unavailable)?;
    state
        .store
        .put(&held_key(&key), &bytes, HELD_TTL)
        .map_err(|_| UpstreamSamlError::Unavailable)?;
    Ok(format!("{}?k={key}", paths::CONTINUE))
}

/// Take a held answer (once), if the browser shows the binding cookie of the request it
/// answers: `binding` gives the value of the cookie with the name it is asked for.
pub fn take_held(
    state: &AppState,
    key: &str,
    binding: impl Fn(&str) -> Option<String>,
) -> Result<Consumed, UpstreamSamlError> {
    use UpstreamSamlError as E;
    let bytes = state
        .store
        .take(&held_key(key))
        .map_err(|_| E::Unavailable)?
        .ok_or(E::InResponseToMismatch)?;
    let held: Held = serde_json::from_slice(&bytes).map_err(|_| E::InResponseToMismatch)?;
    let c = Consumed {
        upstream: state
            .dir
            .upstream(held.upstream)
            .map_err(|_| E::Unavailable)?
            .filter(|u| u.enabled)
            .ok_or(E::UnknownUpstream)?,
        asserted: held.asserted,
        pending: held.pending,
    };
    let id = request_id(&c).ok_or(E::InResponseToMismatch)?;
    let presented = binding(&upstream::binding_cookie_name(PENDING_KIND, &id));
    if !upstream::is_bound(&c.pending, presented.as_deref()) {
        return Err(E::OtherBrowser);
    }
    Ok(c)
}

fn session_key(upstream: &Upstream, name_id: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{}\n{name_id}", upstream.id).as_bytes(),
    );
    format!("samlup-sid:{}", hex::encode(digest.as_ref()))
}

/// Remember which session `upstream` started for `name_id`, so that its LogoutRequest can
/// end it.
pub fn remember_session(
    state: &AppState,
    upstream: &Upstream,
    name_id: &str,
    sid: &str,
    ttl_secs: i64,
) -> Result<(), UpstreamSamlError> {
    let ttl = Duration::from_secs(u64::try_from(ttl_secs.max(1)).unwrap_or(1));
    state
        .store
        .put(&session_key(upstream, name_id), sid.as_bytes(), ttl)
        .map_err(|_| UpstreamSamlError::Unavailable)
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

/// `/broker/saml/slo`: a network environment's LogoutRequest (HTTP-Redirect, its query
/// signed with a key of its metadata) ends the session it started for that NameID.
pub fn logout(state: &AppState, query: &str, now: i64) -> Result<LoggedOut, UpstreamSamlError> {
    use UpstreamSamlError as E;
    let mut values = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "SAMLRequest")
        .map(|(_, v)| v.into_owned());
    let (Some(encoded), None) = (values.next(), values.next()) else {
        return Err(E::Missing);
    };
    let relay_state = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "RelayState")
        .map(|(_, v)| v.into_owned())
        .filter(|r| r.len() <= super::RELAY_STATE_MAX);
    let xml = binding::decode_redirect(&encoded).map_err(|_| E::Encoding)?;
    let m = parse_logout(&xml).map_err(|e| E::Malformed(e.to_string()))?;
    if m.root != "LogoutRequest" {
        return Err(E::Malformed("not a LogoutRequest".into()));
    }
    let issuer = m.issuer.clone().ok_or(E::WrongIssuer)?;
    let upstream = upstream_of_issuer(state, &issuer)?;
    let meta = saml_upstream(&upstream)?;
    binding::verify_query(query, "SAMLRequest", &meta.signing_certs).map_err(|e| match e {
        super::error::Refusal::SignatureMissing => E::SignatureMissing,
        _ => E::BadSignature,
    })?;
    let slo_url = format!("{}{}", state.config.issuer, paths::SLO);
    if m.destination.as_deref().is_some_and(|d| d != slo_url) {
        return Err(E::WrongDestination);
    }
    let issued = m.issued_at().ok_or(E::Expired)?;
    if issued > now + SKEW_SECS || issued < now - super::REQUEST_MAX_AGE_SECS {
        return Err(E::Expired);
    }
    let id =
        m.id.clone()
            .filter(|i| !i.is_empty())
            .ok_or(E::Malformed("no ID".into()))?;
    let name_id = m.name_id.clone().ok_or(E::Malformed("no NameID".into()))?;
    let fresh = state
        .store
        .put_if_absent(
            &format!(
                "samlup-seen:{}",
                replay_digest(&format!("{}\nslo", upstream.id), &id)
            ),
            b"1",
            Duration::from_secs(REPLAY_SECS),
        )
        .map_err(|_| E::Unavailable)?;
    if !fresh {
        return Err(E::Replay);
    }

    let mut deliveries = Vec::new();
    let mut ended = None;
    let key = session_key(&upstream, &name_id);
    let sid = state.store.take(&key).map_err(|_| E::Unavailable)?;
    if let Some(sid) = sid.and_then(|b| String::from_utf8(b).ok()) {
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
            relay_state.as_deref(),
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

/// The enabled SAML upstream whose entity ID is `issuer`.
fn upstream_of_issuer(state: &AppState, issuer: &str) -> Result<Upstream, UpstreamSamlError> {
    state
        .dir
        .upstreams()
        .map_err(|_| UpstreamSamlError::Unavailable)?
        .into_iter()
        .find(|u| {
            u.enabled
                && matches!(&u.protocol, UpstreamProtocol::Saml { entity_id, .. } if entity_id == issuer)
        })
        .ok_or(UpstreamSamlError::UnknownUpstream)
}

fn logout_key(id: &str) -> String {
    format!("samlup-logout:{id}")
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
    state
        .store
        .put(
            &logout_key(&id),
            u.id.to_string().as_bytes(),
            Duration::from_secs(REPLAY_SECS),
        )
        .ok()?;
    Some(url)
}

/// The network environment answers Leerpoort's LogoutRequest (HTTP-Redirect): its signature,
/// and that it answers a request Leerpoort sent it (once).
pub fn logout_answered(state: &AppState, query: &str) -> Result<(), UpstreamSamlError> {
    use UpstreamSamlError as E;
    let mut values = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "SAMLResponse")
        .map(|(_, v)| v.into_owned());
    let (Some(encoded), None) = (values.next(), values.next()) else {
        return Err(E::Missing);
    };
    let xml = binding::decode_redirect(&encoded).map_err(|_| E::Encoding)?;
    let m = parse_logout(&xml).map_err(|e| E::Malformed(e.to_string()))?;
    if m.root != "LogoutResponse" {
        return Err(E::Malformed("not a LogoutResponse".into()));
    }
    let issuer = m.issuer.clone().ok_or(E::WrongIssuer)?;
    let upstream = upstream_of_issuer(state, &issuer)?;
    let meta = saml_upstream(&upstream)?;
    binding::verify_query(query, "SAMLResponse", &meta.signing_certs).map_err(|e| match e {
        super::error::Refusal::SignatureMissing => E::SignatureMissing,
        _ => E::BadSignature,
    })?;
    let irt = m.in_response_to.clone().ok_or(E::InResponseToMismatch)?;
    let sent_to = state
        .store
        .take(&logout_key(&irt))
        .map_err(|_| E::Unavailable)?
        .ok_or(E::InResponseToMismatch)?;
    if sent_to != upstream.id.to_string().as_bytes() {
        return Err(E::InResponseToMismatch);
    }
    Ok(())
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
