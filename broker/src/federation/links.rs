//! Links between an upstream's sessions and Leerpoort's, so that the upstream's logout ends
//! Leerpoort's session too: OIDC back-channel logout names the upstream's `sid` or `sub`, a
//! SAML LogoutRequest its NameID.

use crate::keyspace::Key;
use std::time::Duration;

use uuid::Uuid;

use crate::session::SESSION_SECS;
use crate::store::{EphemeralStore, StoreError};

/// Who the upstream said the user was in its own session, so that its logout can end
/// Leerpoort's session too (OIDC back-channel logout names `sid` or `sub`).
#[derive(Clone, Default)]
pub struct UpstreamLink {
    pub sid: Option<String>,
    pub sub: Option<String>,
    /// The upstream's ID token (OIDC), the hint for its logout.
    pub id_token: Option<String>,
}

impl std::fmt::Debug for UpstreamLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamLink").finish_non_exhaustive()
    }
}

/// SHA-256 of a linked value, hex: what [`Key::UpstreamLink`] names it by.
fn digest_of(value: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, value.as_bytes()).as_ref())
}

fn sids_of(bytes: Option<Vec<u8>>) -> Vec<String> {
    bytes
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// What `link` is linked by: its `sid` and its `sub`, each as the digest its key names.
fn digests(link: &UpstreamLink) -> impl Iterator<Item = (&'static str, String)> + '_ {
    [("sid", &link.sid), ("sub", &link.sub)]
        .into_iter()
        .filter_map(|(kind, value)| value.as_deref().map(|v| (kind, digest_of(v))))
}

fn link_key<'a>(upstream: Uuid, kind: &'a str, digest: &'a str) -> Key<'a> {
    Key::UpstreamLink {
        upstream,
        kind,
        value_digest: digest,
    }
}

/// Remember that Leerpoort session `sid` came from the upstream's `link`.
pub fn remember_link(store: &dyn EphemeralStore, upstream: Uuid, link: &UpstreamLink, sid: &str) {
    let ttl = Duration::from_secs(SESSION_SECS as u64);
    for (kind, digest) in digests(link) {
        let key = link_key(upstream, kind, &digest);
        let mut sids = sids_of(store.get(&key).ok().flatten());
        if !sids.iter().any(|s| s == sid) {
            sids.push(sid.to_string());
        }
        if let Ok(b) = serde_json::to_vec(&sids) {
            let _ = store.put(&key, &b, ttl);
        }
    }
}

/// The Leerpoort sessions that came from the upstream's session `sid`, or from its user
/// `sub` (all of that user's sessions through this upstream). The links are used up.
pub fn linked_sessions(
    store: &dyn EphemeralStore,
    upstream: Uuid,
    link: &UpstreamLink,
) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, digest) in digests(link) {
        let key = link_key(upstream, kind, &digest);
        let sids = sids_of(store.take(&key).ok().flatten());
        for s in sids {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// What [`Key::UpstreamSamlSession`] names an upstream's NameID by.
fn name_id_digest(upstream: Uuid, name_id: &str) -> String {
    digest_of(&format!("{upstream}\n{name_id}"))
}

/// Remember which session a SAML `upstream` started for `name_id`, so that its
/// LogoutRequest can end it.
pub fn remember_name_id(
    store: &dyn EphemeralStore,
    upstream: Uuid,
    name_id: &str,
    sid: &str,
    ttl_secs: i64,
) -> Result<(), StoreError> {
    let ttl = Duration::from_secs(u64::try_from(ttl_secs.max(1)).unwrap_or(1));
    let digest = name_id_digest(upstream, name_id);
    store.put(&Key::UpstreamSamlSession(&digest), sid.as_bytes(), ttl)
}

/// The session a SAML `upstream` started for `name_id` (the link is used up).
pub fn take_name_id_session(
    store: &dyn EphemeralStore,
    upstream: Uuid,
    name_id: &str,
) -> Result<Option<String>, StoreError> {
    let digest = name_id_digest(upstream, name_id);
    Ok(store
        .take(&Key::UpstreamSamlSession(&digest))?
        .and_then(|b| String::from_utf8(b).ok()))
}
