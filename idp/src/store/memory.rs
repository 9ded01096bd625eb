//! The in-process ephemeral store: the embedded default, for a single node.
//!
//! Keys are spread over a fixed number of shards, each a `parking_lot::Mutex` around two hash
//! maps (values and counters), so unrelated logins do not contend on one lock. Every operation
//! takes exactly one shard lock once, which makes `take` and `put_if_absent` atomic.
//!
//! Expired entries are dropped when they are next touched, and each shard sweeps itself once
//! it has seen as many writes as it kept entries at its last sweep (at least
//! [`SWEEP_MIN_WRITES`]): the cost of sweeping is constant per write on average, and a shard
//! never holds more than about twice its live entries plus [`SWEEP_MIN_WRITES`].

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use broker::clock::Clock;
use broker::store::{EphemeralStore, StoreError};
use parking_lot::Mutex;

use super::{duration_millis, Window};

/// Number of shards; a power of two.
const SHARDS: usize = 16;

/// A shard sweeps after at least this many writes (and at least as many writes as it kept
/// entries at its last sweep).
const SWEEP_MIN_WRITES: usize = 256;

/// A stored value and its absolute expiry.
struct Entry {
    value: Vec<u8>,
    /// Milliseconds since the epoch; the value is absent once the clock reaches this.
    expires_at: i64,
}

/// The count of one key in one window. A key usually has a single slot (one window length).
struct Slot {
    window: Window,
    count: u64,
}

#[derive(Default)]
struct Shard {
    values: HashMap<String, Entry>,
    counters: HashMap<String, Vec<Slot>>,
    writes_since_sweep: usize,
    /// Entries left by the last sweep.
    kept_at_sweep: usize,
}

impl Shard {
    /// Count a write, sweeping expired entries when enough writes have happened.
    fn wrote(&mut self, now: i64) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_MIN_WRITES.max(self.kept_at_sweep) {
            self.sweep(now);
        }
    }

    fn sweep(&mut self, now: i64) {
        self.values.retain(|_, e| e.expires_at > now);
        self.counters.retain(|_, slots| {
            slots.retain(|s| s.window.end_ms() > now);
            !slots.is_empty()
        });
        self.writes_since_sweep = 0;
        self.kept_at_sweep = self.values.len() + self.counters.len();
    }
}

/// Keeps the shards on separate cache lines.
#[repr(align(64))]
#[derive(Default)]
struct PaddedShard(Mutex<Shard>);

/// The in-process [`EphemeralStore`]. Everything is lost when the process stops, and nothing
/// is shared between nodes: use [`RedisStore`](super::RedisStore) for more than one node.
pub struct MemoryStore {
    shards: [PaddedShard; SHARDS],
    hasher: RandomState,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for MemoryStore {
    // Never prints the values: they are sessions and codes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("shards", &SHARDS)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store deciding expiry against `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            shards: std::array::from_fn(|_| PaddedShard::default()),
            hasher: RandomState::new(),
            clock,
        }
    }

    /// Entries held, values and counters, including expired ones not swept yet.
    #[must_use]
    pub fn entry_count(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let shard = s.0.lock();
                shard.values.len() + shard.counters.len()
            })
            .sum()
    }

    /// Drop every expired entry now (the store also does this by itself as it is written).
    pub fn purge_expired(&self) {
        let now = self.clock.now_millis();
        for shard in &self.shards {
            shard.0.lock().sweep(now);
        }
    }

    fn shard(&self, key: &str) -> &Mutex<Shard> {
        // Truncating the hash is fine: only the low bits pick the shard.
        #[allow(clippy::cast_possible_truncation)]
        let h = self.hasher.hash_one(key) as usize;
        // In bounds: reduced modulo the (constant, non-zero) array length.
        &self.shards[h % SHARDS].0
    }

    fn expiry(now: i64, ttl: Duration) -> i64 {
        now.saturating_add(duration_millis(ttl))
    }
}

/// Count one event in `window` among a key's slots, returning the count in that window.
fn bump(slots: &mut Vec<Slot>, window: Window) -> u64 {
    match slots.iter_mut().find(|s| s.window.len_ms == window.len_ms) {
        Some(slot) if slot.window.index == window.index => {
            slot.count = slot.count.saturating_add(1);
            slot.count
        }
        Some(slot) => {
            *slot = Slot { window, count: 1 };
            1
        }
        None => {
            slots.push(Slot { window, count: 1 });
            1
        }
    }
}

impl EphemeralStore for MemoryStore {
    fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let now = self.clock.now_millis();
        let entry = Entry {
            value: value.to_vec(),
            expires_at: Self::expiry(now, ttl),
        };
        let mut shard = self.shard(key).lock();
        match shard.values.get_mut(key) {
            Some(e) => *e = entry,
            None => {
                shard.values.insert(key.to_owned(), entry);
            }
        }
        shard.wrote(now);
        Ok(())
    }

    fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let now = self.clock.now_millis();
        let expires_at = Self::expiry(now, ttl);
        let mut shard = self.shard(key).lock();
        let stored = match shard.values.get_mut(key) {
            Some(e) if e.expires_at > now => false,
            Some(e) => {
                *e = Entry {
                    value: value.to_vec(),
                    expires_at,
                };
                true
            }
            None => {
                shard.values.insert(
                    key.to_owned(),
                    Entry {
                        value: value.to_vec(),
                        expires_at,
                    },
                );
                true
            }
        };
        if stored {
            shard.wrote(now);
        }
        Ok(stored)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = self.clock.now_millis();
        let mut shard = self.shard(key).lock();
        match shard.values.get(key) {
            Some(e) if e.expires_at > now => Ok(Some(e.value.clone())),
            Some(_) => {
                shard.values.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = self.clock.now_millis();
        let removed = self.shard(key).lock().values.remove(key);
        Ok(removed.filter(|e| e.expires_at > now).map(|e| e.value))
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let removed = self.shard(key).lock().values.remove(key);
        // Drop the value outside the lock.
        drop(removed);
        Ok(())
    }

    fn incr(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        let now = self.clock.now_millis();
        let window = Window::current(window, now);
        let mut shard = self.shard(key).lock();
        let count = match shard.counters.get_mut(key) {
            Some(slots) => bump(slots, window),
            None => {
                shard
                    .counters
                    .insert(key.to_owned(), vec![Slot { window, count: 1 }]);
                1
            }
        };
        shard.wrote(now);
        Ok(count)
    }

    fn count(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        let now = self.clock.now_millis();
        let window = Window::current(window, now);
        let shard = self.shard(key).lock();
        Ok(shard
            .counters
            .get(key)
            .and_then(|slots| slots.iter().find(|s| s.window == window))
            .map_or(0, |s| s.count))
    }

    fn reset_count(&self, key: &str, window: Duration) -> Result<(), StoreError> {
        let now = self.clock.now_millis();
        let window = Window::current(window, now);
        let mut shard = self.shard(key).lock();
        let now_empty = match shard.counters.get_mut(key) {
            Some(slots) => {
                slots.retain(|s| s.window.len_ms != window.len_ms);
                slots.is_empty()
            }
            None => false,
        };
        if now_empty {
            shard.counters.remove(key);
        }
        Ok(())
    }

    fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
