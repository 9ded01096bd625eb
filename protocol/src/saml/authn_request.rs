//! `AuthnRequest` (SAML Core §3.4.1): parsing one an SP sends, and building the one Leerpoort
//! sends to a network environment.

use std::str::FromStr;

use samael::schema::AuthnRequest;

use super::names::HTTP_POST;
use super::xml::{check_untrusted, esc, message, without_declaration};
use super::{id_ok, Refusal};

/// Parse an AuthnRequest that passed [`check_untrusted`].
pub fn parse_authn_request(xml: &str) -> Result<AuthnRequest, Refusal> {
    check_untrusted(xml)?;
    let req = AuthnRequest::from_str(without_declaration(xml))
        .map_err(|e| Refusal::Malformed(e.to_string()))?;
    if !id_ok(&req.id) {
        return Err(Refusal::Malformed("the ID is missing or too long".into()));
    }
    Ok(req)
}

/// The AuthnRequest Leerpoort's SP (`sp_entity_id`, its ACS `acs`) sends to `sso` (unsigned
/// XML: the Redirect binding signs the query).
pub fn authn_request_xml(
    sp_entity_id: &str,
    acs: &str,
    id: &str,
    sso: &str,
    passive: bool,
    now: i64,
) -> String {
    let attributes = format!(
        r#" AssertionConsumerServiceURL="{acs}" ProtocolBinding="{post}"{passive}"#,
        acs = esc(acs),
        post = HTTP_POST,
        passive = if passive { r#" IsPassive="true""# } else { "" },
    );
    message("AuthnRequest", id, now, sso, &attributes, sp_entity_id, "")
}
