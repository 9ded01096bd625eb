//! The ephemeral store: SSO sessions, authorization codes, rate-limit counters and one-time
//! tokens. Everything here may be lost on restart without losing a user's data; nothing here
//! is the source of truth for anything the database holds.
//!
//! Two implementations: [`MemoryStore`] here, in-process and without I/O (the embedded
//! default, and the store of the broker's own unit tests), and one on Redis
//! (`LEERPOORT_REDIS_URL`) in the `idp` crate, so that several stateless nodes share sessions,
//! codes and rate limits. Both count with the sliding [`window`]s and pass the same contract
//! test suite (`idp/tests/it/store.rs`).
//!
//! Expiry is decided against the [`Clock`](crate::clock::Clock) the store was built with, not
//! against the backend's own clock, so expiry is exact in tests on both backends. (The Redis
//! implementation also sets a server-side TTL of the same length so expired keys are
//! collected.)

use std::time::Duration;

use crate::keyspace::Key;
mod memory;
pub mod window;

pub use memory::MemoryStore;

/// Errors of the ephemeral store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached or answered with an error.
    #[error("ephemeral store unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be decoded.
    #[error("ephemeral store holds a malformed value under a key")]
    Corrupt,
}

/// What [`EphemeralStore::incr_and_lock`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// Counted; this many events in the window, below the limit.
    Counted(u64),
    /// Counted, reached the limit, and set the lock (the counter starts again).
    LockedNow(u64),
    /// The lock was already there: nothing counted.
    AlreadyLocked,
}

/// What [`EphemeralStore::incr_and_lock`] counts and when it locks: events under `counter` in
/// a sliding window of `window`; at `limit`, `lock_value` is stored at `lock` for `lock_ttl`.
#[derive(Debug, Clone, Copy)]
pub struct Lockout<'a> {
    pub counter: Key<'a>,
    pub window: Duration,
    pub limit: u64,
    pub lock: Key<'a>,
    pub lock_value: &'a [u8],
    pub lock_ttl: Duration,
}

/// What a store operation gives, or why it failed.
pub type StoreResult<T> = Result<T, StoreError>;

/// A key-value store with expiry. Keys are [`Key`]s: one typed keyspace, whose texts are
/// written in [`crate::keyspace`] alone. Values are opaque bytes.
pub trait EphemeralStore: Send + Sync + std::fmt::Debug {
    /// Store `value` under `key` for `ttl`, replacing what was there.
    fn put(&self, key: &Key<'_>, value: &[u8], ttl: Duration) -> Result<(), StoreError>;

    /// Store `value` under `key` for `ttl` only if no live value is there.
    /// Returns `true` when stored. Atomic across nodes: use it for "first one wins".
    fn put_if_absent(&self, key: &Key<'_>, value: &[u8], ttl: Duration) -> StoreResult<bool>;

    /// The live value under `key`.
    fn get(&self, key: &Key<'_>) -> Result<Option<Vec<u8>>, StoreError>;

    /// Read and delete in one atomic step: of two concurrent callers at most one gets the
    /// value. Authorization codes and one-time tokens are redeemed with this.
    fn take(&self, key: &Key<'_>) -> Result<Option<Vec<u8>>, StoreError>;

    /// Remove `key` (no error when absent).
    fn delete(&self, key: &Key<'_>) -> Result<(), StoreError>;

    /// Count one event under `key` in a sliding window of length `window`, returning the
    /// number of events in the last `window` (this one included). An event stops counting
    /// exactly `window` after it happened; there are no window boundaries to wait for.
    fn incr(&self, key: &Key<'_>, window: Duration) -> Result<u64, StoreError>;

    /// The number of events under `key` in the last `window`, without counting.
    fn count(&self, key: &Key<'_>, window: Duration) -> Result<u64, StoreError>;

    /// Forget every event under `key` for windows of length `window` (a teacher unlocking a
    /// pupil, say).
    fn reset_count(&self, key: &Key<'_>, window: Duration) -> Result<(), StoreError>;

    /// In one atomic step, across nodes: when a live value is at the rule's `lock`, nothing
    /// happens ([`Tally::AlreadyLocked`]); otherwise count one event under its `counter` (as
    /// [`EphemeralStore::incr`]), and when that makes `limit` or more, store `lock_value` at
    /// `lock` for `lock_ttl` and forget the counter ([`Tally::LockedNow`]). Two nodes counting
    /// the last failures at the same moment cannot both miss, or both skip, the lock.
    fn incr_and_lock(&self, rule: &Lockout<'_>) -> Result<Tally, StoreError>;

    /// Is the backend reachable? (`/readyz`.)
    fn ping(&self) -> Result<(), StoreError>;
}
