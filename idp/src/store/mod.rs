//! The two implementations of [`EphemeralStore`]: [`MemoryStore`] (in-process, the embedded
//! default) and [`RedisStore`] (shared by several stateless nodes), and [`open`] to pick one
//! from the configuration.
//!
//! Both decide expiry against the injected [`Clock`], never against the backend's own clock:
//! a value is stored with its absolute expiry (milliseconds since the epoch, taken from the
//! clock) and a value whose expiry is at or before `clock.now_millis()` is absent. Counters are
//! sliding windows: each keeps the times of its events (from the clock), and the count at `now`
//! is the number of events after `now - window`. A burst across any boundary is counted in full,
//! and an event stops counting exactly one window length after it happened. A counter keeps at
//! most [`MAX_EVENTS`] times (the newest): every limit Leerpoort sets is far below that. Both pass the same contract test suite (`idp/tests/it/store.rs`).

use std::sync::Arc;
use std::time::Duration;

use broker::clock::Clock;
use broker::store::{EphemeralStore, StoreError};

mod memory;
mod redis;

pub use self::memory::MemoryStore;
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

/// A duration in whole milliseconds, saturating at `i64::MAX`.
fn duration_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The most event times a counter keeps (the newest); a count never exceeds it.
pub const MAX_EVENTS: usize = 4096;

/// A sliding counter window: its length in milliseconds (at least 1), and the first moment
/// that still counts at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    /// Length in milliseconds, at least 1.
    len_ms: i64,
    /// Events at or before this moment no longer count.
    cutoff_ms: i64,
}

impl Window {
    fn current(window: Duration, now_ms: i64) -> Self {
        let len_ms = duration_millis(window).max(1);
        Self {
            len_ms,
            cutoff_ms: now_ms.saturating_sub(len_ms),
        }
    }
}
