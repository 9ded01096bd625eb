//! The front-channel Single Logout chain (SAML Profiles §4.4): which SAML service providers of
//! an ended session are told, in what order, and how the chain ends. Each SP in turn gets a
//! `LogoutRequest` (the server builds and signs it); its `LogoutResponse` moves the chain on.
//! While an SP answers, the chain waits in the ephemeral store under
//! `samlslo:<LogoutRequest ID>`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::keyspace::Key;
use crate::session::{self, SsoSession};
use crate::store::{EphemeralStore, StoreError};

/// How long a logout chain waits for an SP's `LogoutResponse`.
pub const CHAIN_SECS: u64 = 5 * 60;

/// Where a logout chain stands.
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
    /// Where to go at the end when no SP asked (an OIDC client's post-logout redirect URI,
    /// or the network environment's logout).
    #[serde(default)]
    pub then: Option<String>,
}

/// How a chain ends once every SP was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEnd {
    /// Answer the SP that asked with a `LogoutResponse` (success).
    Answer {
        sp: String,
        request_id: String,
        relay_state: Option<String>,
    },
    /// Go on to this URL.
    Then(String),
    /// Show "signed out".
    SignedOut,
}

impl Chain {
    /// A chain over the SPs of `sess` (see [`chain_sps`]).
    pub fn new(
        sess: &SsoSession,
        remaining: Vec<String>,
        reply_to: Option<(String, String, Option<String>)>,
        then: Option<String>,
    ) -> Self {
        Chain {
            user_id: sess.user_id,
            session_index: session::public_sid(&sess.sid),
            remaining,
            reply_to,
            current: None,
            then,
        }
    }

    /// The next SP to tell, taken off the list.
    pub fn pop(&mut self) -> Option<String> {
        if self.remaining.is_empty() {
            None
        } else {
            Some(self.remaining.remove(0))
        }
    }

    /// Every SP was told: how the chain ends.
    pub fn finish(self) -> ChainEnd {
        match (self.reply_to, self.then) {
            (Some((sp, request_id, relay_state)), _) => ChainEnd::Answer {
                sp,
                request_id,
                relay_state,
            },
            (None, Some(url)) => ChainEnd::Then(url),
            (None, None) => ChainEnd::SignedOut,
        }
    }

    /// Wait for `sp`'s answer to the `LogoutRequest` `request_id`.
    pub fn wait_for(
        &mut self,
        store: &dyn EphemeralStore,
        sp: &str,
        request_id: &str,
    ) -> Result<(), StoreError> {
        self.current = Some(sp.to_string());
        let bytes = serde_json::to_vec(self).map_err(|_| StoreError::Corrupt)?;
        store.put(
            &Key::SamlLogoutChain(request_id),
            &bytes,
            Duration::from_secs(CHAIN_SECS),
        )
    }
}

/// The SAML SPs of a session that are told, in the order they joined it: those with a
/// Single Logout endpoint (`has_slo`), except `except` (the SP that asked).
pub fn chain_sps(
    sess: &SsoSession,
    except: Option<&str>,
    has_slo: impl Fn(&str) -> bool,
) -> Vec<String> {
    sess.clients
        .iter()
        .filter(|c| Some(c.as_str()) != except)
        .filter(|c| has_slo(c))
        .cloned()
        .collect()
}

/// `sp` answered the `LogoutRequest` `in_response_to`: the chain it moves on. Only the SP that
/// was asked moves the chain on, and only once (`None` otherwise, or when it expired).
pub fn answered(
    store: &dyn EphemeralStore,
    in_response_to: &str,
    sp: &str,
) -> Result<Option<Chain>, StoreError> {
    let Some(chain) = store
        .get(&Key::SamlLogoutChain(in_response_to))?
        .and_then(|b| serde_json::from_slice::<Chain>(&b).ok())
    else {
        return Ok(None);
    };
    if chain.current.as_deref() != Some(sp)
        || store.take(&Key::SamlLogoutChain(in_response_to))?.is_none()
    {
        return Ok(None);
    }
    Ok(Some(chain))
}

/// Does an SP's `LogoutRequest` speak for this session? The SP must be in it, and name it by
/// its session index, or (without one) by the NameID it was given (`sub`).
pub fn speaks_for(
    sess: &SsoSession,
    sp: &str,
    session_indexes: &[String],
    name_id: Option<&str>,
    sub: Option<&str>,
) -> bool {
    let public = session::public_sid(&sess.sid);
    sess.clients.iter().any(|c| c == sp)
        && (session_indexes.contains(&public)
            || (session_indexes.is_empty() && name_id.is_some() && name_id == sub))
}

#[cfg(test)]
mod tests {
    use super::*;
    use claims::{InstellingRef, LoginContext};

    fn sess(clients: &[&str]) -> SsoSession {
        SsoSession {
            sid: "s".into(),
            user_id: Uuid::nil(),
            school: InstellingRef::new_random(),
            auth_time: 0,
            amr: vec![],
            acr: String::new(),
            context: LoginContext::School,
            ip: None,
            created_at: 0,
            expires_at: 10,
            clients: clients.iter().map(|c| c.to_string()).collect(),
            grants: vec![],
            upstream: None,
            last_seen: 0,
            idle_secs: 0,
        }
    }

    #[test]
    fn the_chain_keeps_the_session_order_without_the_asker_and_sps_without_slo() {
        let s = sess(&["a", "oidc", "b", "c"]);
        let sps = chain_sps(&s, Some("b"), |c| c != "oidc");
        assert_eq!(sps, vec!["a".to_string(), "c".to_string()]);
    }

    #[test]
    fn a_chain_ends_with_the_answer_then_the_url_then_signed_out() {
        let s = sess(&[]);
        let reply = Some(("sp".into(), "id".into(), None));
        assert!(matches!(
            Chain::new(&s, vec![], reply, Some("u".into())).finish(),
            ChainEnd::Answer { .. }
        ));
        assert_eq!(
            Chain::new(&s, vec![], None, Some("u".into())).finish(),
            ChainEnd::Then("u".into())
        );
        assert_eq!(
            Chain::new(&s, vec![], None, None).finish(),
            ChainEnd::SignedOut
        );
    }

    #[test]
    fn a_request_speaks_for_the_session_by_index_or_name_id() {
        let s = sess(&["sp"]);
        let index = session::public_sid("s");
        assert!(speaks_for(
            &s,
            "sp",
            std::slice::from_ref(&index),
            None,
            None
        ));
        assert!(speaks_for(&s, "sp", &[], Some("n"), Some("n")));
        assert!(!speaks_for(&s, "sp", &[], Some("n"), Some("m")));
        assert!(!speaks_for(&s, "other", &[index], None, None));
        assert!(!speaks_for(&s, "sp", &["x".into()], Some("n"), Some("n")));
    }
}
