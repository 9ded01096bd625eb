//! The ephemeral store for this node: [`open`] picks [`broker::store::MemoryStore`]
//! (in-process, the embedded default) or [`RedisStore`] (shared by several stateless nodes)
//! from the configuration.
//!
//! Both decide expiry against the injected [`Clock`], never against the backend's own clock:
//! a value is stored with its absolute expiry (milliseconds since the epoch, taken from the
//! clock) and a value whose expiry is at or before `clock.now_millis()` is absent. Counters are
//! sliding windows ([`broker::store::window`]). Both pass the same contract test suite
//! (`idp/tests/it/store.rs`).

use std::path::PathBuf;
use std::sync::Arc;

use broker::clock::Clock;
use broker::store::{EphemeralStore, MemoryStore, StoreError};

mod redis;

pub use self::redis::{refuse_insecure_tls, RedisStore};

/// How Leerpoort uses its Redis, besides the URL (`LEERPOORT_REDIS_PREFIX`,
/// `LEERPOORT_REDIS_CA_FILE`; see `docs/configuration.md`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisOptions {
    /// In front of every key Leerpoort writes, verbatim; empty (the default) for none.
    pub prefix: String,
    /// PEM: the roots trusted for the server's certificate on a `rediss://` URL, instead of
    /// the public web roots built into Leerpoort.
    pub ca_file: Option<PathBuf>,
}

/// The ephemeral store for this node: a [`RedisStore`] on `redis_url` when one is given
/// (`LEERPOORT_REDIS_URL`, used as `options` say), a [`MemoryStore`] otherwise.
///
/// # Errors
///
/// [`StoreError::Unavailable`] when the Redis URL is invalid or the CA file cannot be used.
/// An unreachable Redis is not an error here (the node starts, and `ping` reports it), see
/// [`RedisStore::connect`].
pub fn open(
    redis_url: Option<&str>,
    options: &RedisOptions,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn EphemeralStore>, StoreError> {
    match redis_url {
        Some(url) => Ok(Arc::new(RedisStore::connect_with(url, options, clock)?)),
        None => Ok(Arc::new(MemoryStore::new(clock))),
    }
}
