//! The two implementations of [`EphemeralStore`]: [`MemoryStore`] (in-process, the embedded
//! default) and [`RedisStore`] (shared by several stateless nodes), and [`open`] to pick one
//! from the configuration.
//!
//! Both decide expiry against the injected [`Clock`], never against the backend's own clock:
//! a value is stored with its absolute expiry (milliseconds since the epoch, taken from the
//! clock) and a value whose expiry is at or before `clock.now_millis()` is absent. Counters use
//! fixed windows aligned on multiples of the window length since the epoch, also computed from
//! the clock. Both pass the same contract test suite (`idp/tests/it/store.rs`).

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

/// A counter window: its length in milliseconds (at least 1) and the index of the window
/// holding `now` (windows are aligned on multiples of the length since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    /// Length in milliseconds, at least 1.
    len_ms: i64,
    /// `now.div_euclid(len_ms)`.
    index: i64,
}

impl Window {
    fn current(window: Duration, now_ms: i64) -> Self {
        let len_ms = duration_millis(window).max(1);
        Self {
            len_ms,
            index: now_ms.div_euclid(len_ms),
        }
    }

    /// The first millisecond after this window.
    fn end_ms(self) -> i64 {
        self.index.saturating_add(1).saturating_mul(self.len_ms)
    }
}
