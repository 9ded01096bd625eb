//! What a refusal page tells a helpdesk: an error code (why, in a word that stays the same
//! across releases and languages) and the request's kenmerk (`X-Request-Id`, the request id
//! every log line of that request carries). A publisher's support desk asks the user for both:
//! the code says which setting refused the sign-in, and Leerpoort's operator finds the request
//! in the logs by the kenmerk.
//!
//! Every request gets its id in [`super::observe`], before any handler runs.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse};
use broker::release::Denial;
use ring::rand::{SecureRandom as _, SystemRandom};

use super::pages::{self, Chrome};
use crate::oidc::authorize::RequestProblem;
use crate::saml::error::Refusal;
use crate::shortcut::ShortcutError;

/// The response header that carries the request id.
pub const HEADER: &str = "x-request-id";

/// A request's id, kept in its extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Crockford's base32: no I, L, O or U, so the id can be read out over the phone.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new request id: 40 random bits as `XXXX-XXXX`.
pub fn new_id() -> String {
    let mut bytes = [0u8; 5];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        // Without randomness the id still correlates the log lines of one request.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes.copy_from_slice(&nanos.to_be_bytes()[11..16]);
    }
    let bits = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let chars: String = (0..8)
        .rev()
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]))
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// The id of `req` (set for every request by [`super::observe`]).
pub fn of(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

/// What a refusal page shows below its text.
#[derive(Debug, Clone)]
pub struct Reference {
    pub code: &'static str,
    pub id: String,
}

/// The reference for a refusal of `req` with `code`, logged (with the request id, from the
/// request's span) so that the operator finds it.
pub fn for_request(req: &HttpRequest, code: &'static str) -> Reference {
    let id = of(req);
    tracing::info!(code, request_id = %id, "refusal page shown");
    Reference { code, id }
}

/// The code of a release decision's refusal; the relying party hears the same reason in its
/// `error_description` (OIDC) or `StatusMessage` (SAML).
pub fn denial_code(d: &Denial) -> &'static str {
    match d {
        Denial::NotRegistered => "not-registered",
        Denial::Deregistered => "deregistered",
        Denial::Disabled => "disabled",
        Denial::WrongAudience => "wrong-audience",
        Denial::NotAtHomePublisher => "not-at-home-publisher",
        Denial::NotAtHomeSchool => "not-at-home-school",
        Denial::SchoolClosed => "school-closed",
        Denial::WrongSchool => "wrong-school",
        Denial::UserDisabled => "user-disabled",
    }
}

/// The code of an authorization request that cannot be answered at the relying party.
pub fn problem_code(p: RequestProblem) -> &'static str {
    match p {
        RequestProblem::MissingClient => "missing-client-id",
        RequestProblem::UnknownClient => "unknown-client",
        RequestProblem::Unavailable => "unavailable",
        RequestProblem::MissingRedirectUri => "missing-redirect-uri",
        RequestProblem::UnregisteredRedirectUri => "unregistered-redirect-uri",
        RequestProblem::Expired => "request-expired",
    }
}

/// The code of a SAML message refused without answering the SP.
pub fn refusal_code(r: &Refusal) -> &'static str {
    match r {
        Refusal::Missing => "saml-missing",
        Refusal::TooLarge => "saml-too-large",
        Refusal::Encoding => "saml-encoding",
        Refusal::Dtd => "saml-dtd",
        Refusal::Malformed(_) => "saml-malformed",
        Refusal::UnknownSp => "saml-unknown-sp",
        Refusal::UnknownAcs => "saml-unknown-acs",
        Refusal::SignatureMissing => "saml-signature-missing",
        Refusal::BadSignature => "saml-bad-signature",
        Refusal::Replay => "saml-replay",
        Refusal::Stale => "saml-stale",
        Refusal::ClockSkew => "saml-clock-skew",
        Refusal::WrongDestination => "saml-wrong-destination",
        Refusal::RelayStateTooLong => "saml-relay-state-too-long",
        Refusal::RelayStateNotRegistered => "saml-relay-state-not-registered",
        Refusal::Expired => "saml-expired",
        Refusal::Unavailable => "unavailable",
    }
}

/// The code of a school link that leads nowhere.
pub fn shortcut_code(e: ShortcutError) -> &'static str {
    match e {
        ShortcutError::UnknownSchool => "unknown-school",
        ShortcutError::Closed => "school-closed",
        ShortcutError::TargetNotEnabled => "not-registered",
        ShortcutError::Unavailable => "unavailable",
    }
}

/// The refusal page (403) for the release policy's `denial` of `name` (meant for
/// `audience`), with the way `back`, the code and the kenmerk.
pub fn denied(
    req: &HttpRequest,
    c: &Chrome,
    denial: &Denial,
    name: &str,
    audience: claims::Audience,
    back: (&str, &str),
) -> HttpResponse {
    let (title, text, hint) = pages::denial_texts(c, denial, name, audience);
    pages::message_with_reference(
        c,
        StatusCode::FORBIDDEN,
        (title, &text, hint),
        Some(back),
        Some(for_request(req, denial_code(denial))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_readable_and_differ() {
        let a = new_id();
        let b = new_id();
        assert_eq!(a.len(), 9, "{a}");
        assert_eq!(a.as_bytes()[4], b'-');
        assert!(a.bytes().all(|c| c == b'-' || ALPHABET.contains(&c)), "{a}");
        assert_ne!(a, b);
    }
}
