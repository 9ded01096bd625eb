//! The logout fan-out: when a session ends, what the world is owed. The broker decides and
//! returns the plan; the server signs (its key store), sends (HTTP) and renders.
//!
//! - [`end`]: the session is removed; its grants are to be revoked; every OpenID relying party
//!   it touched that registered a back-channel logout URI gets a logout token, with the claims
//!   given here ([`BackchannelLogout`]).
//! - [`rp_initiated`]: what an OpenID relying party's end-session request may do (RP-Initiated
//!   Logout 1.0): refuse, ask the user first, or end the session and go on.
//! - [`saml_chain`]: which SAML service providers are told over the front channel, in what
//!   order, and where the chain ends.
//!
//! The network environment the user came in through is told last, after the SAML chain: the
//! chain ends at its logout, or the browser goes there straight away.

pub mod rp_initiated;
pub mod saml_chain;

use claims::PseudonymKey;
use serde_json::Value;
use uuid::Uuid;

use crate::model::JwsAlg;
use crate::ports::World;
use crate::session::{self, SsoSession};

/// A back-channel logout token to sign (with `alg`, type `logout+jwt`) and POST as
/// `logout_token` to `uri`.
#[derive(Debug, Clone, PartialEq)]
pub struct BackchannelLogout {
    pub uri: String,
    pub alg: JwsAlg,
    pub claims: Value,
}

/// What an ended session owes: its grants to revoke, and the logout tokens to deliver.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ended {
    /// Grants issued in the session (refresh-token families), all to be revoked.
    pub grants: Vec<String>,
    pub backchannel: Vec<BackchannelLogout>,
}

/// End a session: remove it, and say which grants to revoke and which relying parties it
/// touched get a back-channel logout token (those that registered a URI for it).
pub fn end(world: &World<'_>, pseudonyms: &PseudonymKey, s: &SsoSession, now: i64) -> Ended {
    if let Err(e) = session::destroy(world.store, &s.sid) {
        tracing::error!(error = %e, "logout: could not remove the session");
    }
    let user = world.dir.user(s.user_id).ok().flatten();
    let mut backchannel = Vec::new();
    for client_id in &s.clients {
        let Ok(Some(rp)) = world.dir.relying_party_by_public_id(client_id) else {
            continue;
        };
        let Some(client) = rp.oidc() else { continue };
        let Some(uri) = &client.backchannel_logout_uri else {
            continue;
        };
        let sub = user
            .as_ref()
            .and_then(|u| crate::release::subject_for(pseudonyms, &rp, u).ok())
            .map(|p| p.as_str().to_string());
        let claims = protocol::oidc::claims::logout_token(
            world.issuer,
            &client.client_id,
            &session::public_sid(&s.sid),
            sub,
            &Uuid::new_v4().to_string(),
            now,
        );
        backchannel.push(BackchannelLogout {
            uri: uri.clone(),
            alg: client.id_token_alg,
            claims,
        });
    }
    Ended {
        grants: s.grants.clone(),
        backchannel,
    }
}
