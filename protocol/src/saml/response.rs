//! Building the `Response` (SAML Core §3.3.3, Profiles §4.1.4.2): an `Assertion` with a
//! signature template of its own, inside a `Response` with one too. The server signs both
//! (its key store fills in the templates) and may encrypt the signed assertion
//! (`encrypt.rs`) before it goes into the response.
//!
//! The assertion carries: `Subject` with the NameID and a bearer `SubjectConfirmationData`
//! (`InResponseTo`, `Recipient`, `NotOnOrAfter`), `Conditions` (`NotBefore`,
//! `NotOnOrAfter` ≤ 5 minutes, `AudienceRestriction`), an `AuthnStatement` with
//! `SessionIndex` and `AuthnContextClassRef`, and the attributes it is given.

use super::names::{
    AC_PASSWORD, AC_PASSWORD_PROTECTED, AC_UNSPECIFIED, BEARER, PERSISTENT, TRANSIENT,
};
use super::xml::{esc, instant, signature_template};
use super::{ASSERTION_SECS, SKEW_SECS};

/// Which NameID the SP gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameIdFormat {
    /// The pairwise pseudonym: equal to the OIDC `sub` of the same sector.
    Persistent,
    /// A new random value per response; the pseudonym goes in `pairwise-id`.
    Transient,
}

impl NameIdFormat {
    /// The format's URN.
    pub fn urn(self) -> &'static str {
        match self {
            Self::Persistent => PERSISTENT,
            Self::Transient => TRANSIENT,
        }
    }
}

/// The `AuthnContextClassRef` for how the user signed in.
pub fn authn_context(amr: &[String], https: bool) -> &'static str {
    if amr.iter().any(|a| a == "pwd") {
        if https {
            AC_PASSWORD_PROTECTED
        } else {
            AC_PASSWORD
        }
    } else if amr.iter().any(|a| a == "pin" || a == "pic") {
        AC_PASSWORD
    } else {
        AC_UNSPECIFIED
    }
}

/// An attribute: its name, its `NameFormat`, its values.
pub type Attribute = (String, String, Vec<String>);

fn attribute_statement(attrs: &[Attribute]) -> String {
    let mut s = String::from("<saml:AttributeStatement>");
    for (name, format, values) in attrs {
        s.push_str(&format!(
            r#"<saml:Attribute Name="{}" NameFormat="{}">"#,
            esc(name),
            esc(format)
        ));
        for v in values {
            s.push_str(&format!(
                "<saml:AttributeValue>{}</saml:AttributeValue>",
                esc(v)
            ));
        }
        s.push_str("</saml:Attribute>");
    }
    s.push_str("</saml:AttributeStatement>");
    s
}

/// The sign-in an assertion reports, and to which service provider.
#[derive(Debug, Clone, Copy)]
pub struct SignIn<'a> {
    pub sp_entity_id: &'a str,
    pub acs: &'a str,
    /// `None` for an unsolicited response.
    pub in_response_to: Option<&'a str>,
    pub format: NameIdFormat,
    /// The `SessionIndex`: the session's public id, also the OIDC `sid`.
    pub session_index: &'a str,
    pub auth_time: i64,
    pub session_expires: i64,
    /// The IdP the user signed in at, if another one (a network environment, by its issuer or
    /// entity ID): `AuthenticatingAuthority`.
    pub authenticating_authority: Option<&'a str>,
}

/// Everything an assertion says.
#[derive(Debug, Clone)]
pub struct Assertion<'a> {
    /// The IdP's entity ID (`Issuer`, `NameQualifier`).
    pub idp_entity_id: &'a str,
    /// The assertion's `ID`.
    pub id: &'a str,
    /// The signing certificate (base64 DER), for the signature template.
    pub cert_b64: &'a str,
    pub sign_in: SignIn<'a>,
    pub name_id: &'a str,
    /// The `AuthnContextClassRef` ([`authn_context`]).
    pub authn_context: &'a str,
    pub attributes: &'a [Attribute],
}

/// The unsigned assertion with its signature template.
pub fn assertion_xml(a: &Assertion<'_>, now: i64) -> String {
    let idp = esc(a.idp_entity_id);
    let s = &a.sign_in;
    let not_after = instant(now + ASSERTION_SECS);
    let irt = s
        .in_response_to
        .map(|r| format!(r#" InResponseTo="{}""#, esc(r)))
        .unwrap_or_default();
    format!(
        concat!(
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}">"#,
            "<saml:Issuer>{idp}</saml:Issuer>",
            "{sig}",
            "<saml:Subject>",
            r#"<saml:NameID Format="{format}" NameQualifier="{idp}" SPNameQualifier="{sp}">{name_id}</saml:NameID>"#,
            r#"<saml:SubjectConfirmation Method="{bearer}">"#,
            r#"<saml:SubjectConfirmationData{irt} NotOnOrAfter="{not_after}" Recipient="{acs}"/>"#,
            "</saml:SubjectConfirmation>",
            "</saml:Subject>",
            r#"<saml:Conditions NotBefore="{not_before}" NotOnOrAfter="{not_after}">"#,
            "<saml:AudienceRestriction><saml:Audience>{sp}</saml:Audience></saml:AudienceRestriction>",
            "</saml:Conditions>",
            r#"<saml:AuthnStatement AuthnInstant="{auth}" SessionIndex="{si}" SessionNotOnOrAfter="{session_end}">"#,
            "<saml:AuthnContext><saml:AuthnContextClassRef>{ac}</saml:AuthnContextClassRef>{authority}</saml:AuthnContext>",
            "</saml:AuthnStatement>",
            "{attrs}",
            "</saml:Assertion>"
        ),
        id = a.id,
        now = instant(now),
        idp = idp,
        sig = signature_template(a.id, a.cert_b64),
        format = s.format.urn(),
        sp = esc(s.sp_entity_id),
        name_id = esc(a.name_id),
        bearer = BEARER,
        irt = irt,
        not_after = not_after,
        acs = esc(s.acs),
        not_before = instant(now - SKEW_SECS),
        auth = instant(s.auth_time),
        si = esc(s.session_index),
        session_end = instant(s.session_expires),
        ac = a.authn_context,
        authority = s
            .authenticating_authority
            .map(|x| format!("<saml:AuthenticatingAuthority>{}</saml:AuthenticatingAuthority>", esc(x)))
            .unwrap_or_default(),
        attrs = attribute_statement(a.attributes),
    )
}

/// The unsigned response from `idp_entity_id` with its signature template around `inner`
/// (an assertion, an encrypted assertion, or nothing for an error).
#[allow(clippy::too_many_arguments)]
pub fn response_xml(
    idp_entity_id: &str,
    id: &str,
    cert_b64: &str,
    destination: &str,
    in_response_to: Option<&str>,
    status: (&str, Option<&str>),
    message: Option<&str>,
    inner: &str,
    now: i64,
) -> String {
    let irt = in_response_to
        .map(|r| format!(r#" InResponseTo="{}""#, esc(r)))
        .unwrap_or_default();
    let second = status
        .1
        .map(|s| format!(r#"<samlp:StatusCode Value="{}"/>"#, esc(s)))
        .unwrap_or_default();
    let msg = message
        .map(|m| format!("<samlp:StatusMessage>{}</samlp:StatusMessage>", esc(m)))
        .unwrap_or_default();
    let body = format!(
        concat!(
            "{sig}",
            r#"<samlp:Status><samlp:StatusCode Value="{top}">{second}</samlp:StatusCode>{msg}</samlp:Status>"#,
            "{inner}",
        ),
        sig = signature_template(id, cert_b64),
        top = esc(status.0),
        second = second,
        msg = msg,
        inner = inner,
    );
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>{}"#,
        super::xml::message("Response", id, now, destination, &irt, idp_entity_id, &body)
    )
}
