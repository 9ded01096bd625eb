//! Between sending the browser to the upstream and its return, a [`Pending`] waits in the
//! ephemeral store under the protocol's own correlation key (OIDC `state`, SAML request id).
//! It is bound to the browser that started it (RFC 9700 §4.7): a short-lived cookie holds a
//! random value whose digest the `Pending` keeps ([`bind_and_put`], [`is_bound`]), so a
//! callback URL or an answer of someone else's sign-in signs nobody in. The cookie itself is
//! the server's; its name and value are decided here.

use std::time::Duration;

use claims::InstellingRef;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::keyspace::Key;
use crate::random::random_token;
use crate::store::{EphemeralStore, StoreError};

/// How long a browser may take at the upstream.
pub const PENDING_TTL: Duration = Duration::from_secs(10 * 60);

/// What waits while the browser is at the upstream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub upstream: Uuid,
    /// The school the user came through (a shortcut), if known.
    pub school: Option<InstellingRef>,
    /// A relying party to go on to (a shortcut's TARGET).
    pub target: Option<String>,
    /// Where to continue instead (a waiting OIDC or SAML request of a relying party).
    pub resume: Option<String>,
    /// The relying party asked `prompt=none`: the upstream is asked not to show anything.
    pub passive: bool,
    /// Protocol details (OIDC: PKCE verifier and nonce; SAML: the request id).
    pub protocol: serde_json::Value,
    /// SHA-256 (hex) of the binding cookie's value of the browser that started the sign-in.
    #[serde(default)]
    pub browser: Option<String>,
}

/// The cookie that binds a sign-in at a network environment to the browser that started it.
/// Its name is derived from the correlation key, so sign-ins in two tabs do not disturb each
/// other; its value is random.
#[derive(Clone, PartialEq, Eq)]
pub struct Binding {
    pub name: String,
    value: String,
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binding")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Binding {
    /// The cookie's value (random; only its digest is kept).
    pub fn value(&self) -> &str {
        &self.value
    }
}

fn sha256_hex(value: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, value.as_bytes()).as_ref())
}

/// The name of the binding cookie of the sign-in `kind`/`key`.
pub fn binding_cookie_name(kind: &str, key: &str) -> String {
    let digest = sha256_hex(&format!("{kind}\n{key}"));
    format!("lp_netwerk_{}", &digest[..16])
}

/// Bind `p` to a new random cookie and keep it under `kind`/`key` until the browser returns:
/// the cookie to set.
pub fn bind_and_put(
    store: &dyn EphemeralStore,
    kind: &str,
    key: &str,
    mut p: Pending,
) -> Result<Binding, StoreError> {
    let value = random_token().map_err(|_| StoreError::Unavailable("random".into()))?;
    p.browser = Some(sha256_hex(&value));
    put_pending(store, kind, key, &p)?;
    Ok(Binding {
        name: binding_cookie_name(kind, key),
        value,
    })
}

/// Did the browser that shows `presented` (the value of the binding cookie) start `p`? A
/// pending sign-in without a binding is no one's.
pub fn is_bound(p: &Pending, presented: Option<&str>) -> bool {
    use subtle::ConstantTimeEq as _;
    match (&p.browser, presented.filter(|v| !v.is_empty())) {
        (Some(expected), Some(value)) => {
            bool::from(expected.as_bytes().ct_eq(sha256_hex(value).as_bytes()))
        }
        _ => false,
    }
}

/// Keep `p` under `kind`/`key` until the browser returns.
pub fn put_pending(
    store: &dyn EphemeralStore,
    kind: &str,
    key: &str,
    p: &Pending,
) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(p).map_err(|_| StoreError::Corrupt)?;
    store.put(&Key::UpstreamPending { kind, key }, &bytes, PENDING_TTL)
}

/// Take the pending sign-in for `kind`/`key`: single use.
pub fn take_pending(store: &dyn EphemeralStore, kind: &str, key: &str) -> Option<Pending> {
    let bytes = store.take(&Key::UpstreamPending { kind, key }).ok()??;
    serde_json::from_slice(&bytes).ok()
}
