//! The ephemeral store for this node: [`open`] picks [`broker::store::MemoryStore`]
//! (in-process, the embedded default) or [`RedisStore`] (shared by several stateless nodes)
//! from the configuration.
//!
//! Both decide expiry against the injected [`Clock`], never against the backend's own clock:
//! a value is stored with its absolute expiry (milliseconds since the epoch, taken from the
//! clock) and a value whose expiry is at or before `clock.now_millis()` is absent. Counters are
//! sliding windows ([`broker::store::window`]). Both pass the same contract test suite
//! (`idp/tests/it/store.rs`).

use std::sync::Arc;

use broker::clock::Clock;
use broker::store::{EphemeralStore, MemoryStore, StoreError};

mod redis;

pub use self::redis::RedisStore;

/// The ephemeral store for this node: a [`RedisStore`] on `redis_url` when one is given
/// (`LEERPOORT_REDIS_URL`), a [`MemoryStore`] otherwise.
///
/// # Errors
///
/// [`StoreError::Unavailable`] when the Redis URL is invalid. An unreachable Redis is not an
/// error here (the node starts, and `ping` reports it), see [`RedisStore::connect`].
pub fn open(
    redis_url: Option<&str>,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn EphemeralStore>, StoreError> {
    match redis_url {
        Some(url) => Ok(Arc::new(RedisStore::connect(url, clock)?)),
        None => Ok(Arc::new(MemoryStore::new(clock))),
    }
}
