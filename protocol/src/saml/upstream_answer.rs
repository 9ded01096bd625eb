//! A network environment's messages to Leerpoort as its service provider, read and checked:
//! the `Response` at the ACS ([`read_response`], [`Unverified::verify`]) and the
//! `LogoutRequest` / `LogoutResponse` at the SingleLogoutService ([`read_logout`],
//! [`LogoutQuery::check_request`]). Which upstream a message comes from, its replay, and the
//! request it answers are the caller's.
//!
//! What a Response must pass, in order: size caps and base64 → no DTD, well-formed, the shape
//! of [`super::response_shape::structure`] → (the caller finds the upstream by its issuer)
//! → a signature on the Response or the Assertion, verified by xmlsec with the upstream's
//! certificates, which returns the one signed node: everything after that is read **only**
//! from that node, nothing is looked up again by ID, so signature wrapping (XSW1–XSW8) has
//! nothing to hide behind → exactly one assertion, no comments in the signed content, the
//! status, issuer, `Destination`, bearer `SubjectConfirmationData` (`Recipient`,
//! `InResponseTo`, `NotOnOrAfter`), `Conditions` (time with [`SKEW_SECS`], `Audience`).
//! Encrypted assertions are refused.

use std::collections::HashMap;
use std::str::FromStr as _;

use samael::schema::{Assertion, Response, SubjectConfirmationData};

use super::binding;
use super::logout::{parse_logout, LogoutMessage};
use super::names::{BEARER, SUCCESS};
use super::response_shape::{shape, structure, ShapeError};
use super::signature::verified_xml;
use super::upstream::IdpMetadata;
use super::xml::{check_untrusted, without_declaration};
use super::{Refusal, REQUEST_MAX_AGE_SECS, SKEW_SECS};

/// Why a network environment's message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamRefusal {
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
    #[error("the answer is unsolicited, and unsolicited answers are not accepted")]
    Unsolicited,
    #[error("the answer does not answer a request of this browser")]
    InResponseToMismatch,
    #[error("the network environment did not sign the user in: {0}")]
    Status(String),
}

impl From<ShapeError> for UpstreamRefusal {
    fn from(e: ShapeError) -> Self {
        match e {
            ShapeError::Malformed(m) => Self::Malformed(m),
            ShapeError::Comments => Self::Comments,
            ShapeError::Encrypted => Self::Encrypted,
            ShapeError::Wrapped => Self::BadSignature,
        }
    }
}

/// A status code's last part, for the log (`Responder`, `AuthnFailed`).
fn status_name(code: &str) -> String {
    code.rsplit(':').next().unwrap_or_default().to_string()
}

/// A Response as it arrived, well-formed and of the accepted shape, not yet verified.
#[derive(Debug)]
pub struct Unverified {
    xml: String,
    outer: Response,
}

/// Read a `SAMLResponse` (HTTP-POST binding, still base64).
pub fn read_response(encoded: Option<&str>) -> Result<Unverified, UpstreamRefusal> {
    use UpstreamRefusal as E;
    let encoded = encoded.filter(|s| !s.is_empty()).ok_or(E::Missing)?;
    let xml = binding::decode_post(encoded).map_err(|_| E::Encoding)?;
    check_untrusted(&xml).map_err(|e| E::Malformed(e.to_string()))?;
    structure(&xml)?;
    let outer =
        Response::from_str(without_declaration(&xml)).map_err(|e| E::Malformed(e.to_string()))?;
    Ok(Unverified { xml, outer })
}

/// What Leerpoort expects of a Response.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// Leerpoort's ACS URL (`Destination`, `Recipient`).
    pub acs: &'a str,
    /// Leerpoort's SP entity ID (`Audience`).
    pub audience: &'a str,
    /// Whether an answer to no request (IdP-initiated) is accepted.
    pub allow_unsolicited: bool,
}

/// A verified Response: what the caller needs for the replay check, the request it answers,
/// and the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub assertion_id: String,
    /// The ID of the Response, when the Response itself is signed.
    pub response_id: Option<String>,
    /// `None`: unsolicited.
    pub in_response_to: Option<String>,
    pub name_id: String,
    /// Attribute Name → first value.
    pub attributes: HashMap<String, String>,
}

impl Unverified {
    /// The (unverified) status, when it is not Success: its last part, and the request it
    /// (claims to) answer. Only to end early: it signs in nobody here either.
    pub fn failure(&self) -> Option<(String, Option<String>)> {
        let code = self
            .outer
            .status
            .as_ref()
            .and_then(|s| s.status_code.value.as_deref())
            .filter(|c| *c != SUCCESS)?;
        Some((status_name(code), self.outer.in_response_to.clone()))
    }

    /// The (unverified) issuer: only to find whose certificates verify the Response.
    pub fn issuer(&self) -> Option<String> {
        let r = &self.outer;
        r.issuer
            .as_ref()
            .and_then(|i| i.value.clone())
            .or_else(|| r.assertion.as_ref().and_then(|a| a.issuer.value.clone()))
            .map(|v| v.trim().to_string())
    }

    /// Verify the Response against the upstream's metadata and what Leerpoort expects.
    pub fn verify(
        &self,
        meta: &IdpMetadata,
        expected: Expected<'_>,
        now: i64,
    ) -> Result<Verified, UpstreamRefusal> {
        use UpstreamRefusal as E;
        let outer = &self.outer;
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
        let (response, assertion) = signed_parts(&self.xml, meta)?;
        check_issuers_and_destination(response.as_ref(), outer, &assertion, meta, expected.acs)?;
        let (name_id, data) = bearer_subject(&assertion, expected.acs, now)?;
        let in_response_to = match data.in_response_to.clone() {
            Some(i) => Some(i),
            None if expected.allow_unsolicited => None,
            None => return Err(E::Unsolicited),
        };
        if response
            .iter()
            .chain(std::iter::once(outer))
            .any(|r| r.in_response_to.as_deref().is_some() && r.in_response_to != in_response_to)
        {
            return Err(E::InResponseToMismatch);
        }
        check_conditions(&assertion, expected.audience, now)?;
        Ok(Verified {
            assertion_id: assertion.id.clone(),
            response_id: response.as_ref().map(|r| r.id.clone()),
            in_response_to,
            name_id,
            attributes: attributes_of(&assertion),
        })
    }
}

/// The one node the signature covers, as xmlsec verified it: one plain assertion, in a
/// signed Response or signed itself.
fn signed_parts(
    xml: &str,
    meta: &IdpMetadata,
) -> Result<(Option<Response>, Assertion), UpstreamRefusal> {
    use UpstreamRefusal as E;
    let signed = verified_xml(xml, &meta.signing_certs).map_err(|_| E::BadSignature)?;
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
) -> Result<(), UpstreamRefusal> {
    use UpstreamRefusal as E;
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
) -> Result<(String, &'a SubjectConfirmationData), UpstreamRefusal> {
    use UpstreamRefusal as E;
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
fn check_conditions(assertion: &Assertion, me: &str, now: i64) -> Result<(), UpstreamRefusal> {
    use UpstreamRefusal as E;
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

/// A `LogoutRequest` or `LogoutResponse` of a network environment (HTTP-Redirect), read but
/// not yet verified.
#[derive(Debug)]
pub struct LogoutQuery {
    query: String,
    param: &'static str,
    pub message: LogoutMessage,
    /// The RelayState to send back (when at most [`super::RELAY_STATE_MAX`] bytes).
    pub relay_state: Option<String>,
}

/// Read the message `param` (`SAMLRequest` or `SAMLResponse`, exactly once) of a
/// Redirect-binding `query`, which must be a `root` (`LogoutRequest` or `LogoutResponse`).
pub fn read_logout(
    query: &str,
    param: &'static str,
    root: &str,
) -> Result<LogoutQuery, UpstreamRefusal> {
    use UpstreamRefusal as E;
    let mut values = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == param)
        .map(|(_, v)| v.into_owned());
    let (Some(encoded), None) = (values.next(), values.next()) else {
        return Err(E::Missing);
    };
    let relay_state = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "RelayState")
        .map(|(_, v)| v.into_owned())
        .filter(|r| r.len() <= super::RELAY_STATE_MAX);
    let xml = binding::decode_redirect(&encoded).map_err(|_| E::Encoding)?;
    let message = parse_logout(&xml).map_err(|e| E::Malformed(e.to_string()))?;
    if message.root != root {
        return Err(E::Malformed(format!("not a {root}")));
    }
    Ok(LogoutQuery {
        query: query.to_string(),
        param,
        message,
        relay_state,
    })
}

impl LogoutQuery {
    /// The query's signature, with a key of the upstream's metadata.
    pub fn verify_signature(&self, meta: &IdpMetadata) -> Result<(), UpstreamRefusal> {
        binding::verify_query(&self.query, self.param, &meta.signing_certs).map_err(|e| match e {
            Refusal::SignatureMissing => UpstreamRefusal::SignatureMissing,
            _ => UpstreamRefusal::BadSignature,
        })
    }

    /// A LogoutRequest's `Destination` (Leerpoort's SingleLogoutService, `slo_url`, when
    /// present), its `IssueInstant` (with [`SKEW_SECS`], at most
    /// [`REQUEST_MAX_AGE_SECS`] old): its ID and NameID.
    pub fn check_request(
        &self,
        slo_url: &str,
        now: i64,
    ) -> Result<(String, String), UpstreamRefusal> {
        use UpstreamRefusal as E;
        let m = &self.message;
        if m.destination.as_deref().is_some_and(|d| d != slo_url) {
            return Err(E::WrongDestination);
        }
        let issued = m.issued_at().ok_or(E::Expired)?;
        if issued > now + SKEW_SECS || issued < now - REQUEST_MAX_AGE_SECS {
            return Err(E::Expired);
        }
        let id =
            m.id.clone()
                .filter(|i| !i.is_empty())
                .ok_or(E::Malformed("no ID".into()))?;
        let name_id = m.name_id.clone().ok_or(E::Malformed("no NameID".into()))?;
        Ok((id, name_id))
    }
}
