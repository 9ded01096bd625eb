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

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::window::{duration_millis, Window, MAX_EVENTS};
use super::{EphemeralStore, Lockout, StoreError, StoreResult, Tally};
use crate::clock::Clock;
use crate::keyspace::Key;

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

/// The events of one key for one window length, oldest first. A key usually has a single slot
/// (one window length).
struct Slot {
    len_ms: i64,
    times: VecDeque<i64>,
}

impl Slot {
    /// Forget the events that no longer count in `window`.
    fn drop_before(&mut self, window: Window) {
        while self.times.front().is_some_and(|t| *t <= window.cutoff_ms) {
            self.times.pop_front();
        }
    }

    fn count_in(&self, window: Window) -> u64 {
        let n = self.times.iter().filter(|t| **t > window.cutoff_ms).count();
        u64::try_from(n).unwrap_or(u64::MAX)
    }
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
            for slot in slots.iter_mut() {
                slot.drop_before(Window {
                    len_ms: slot.len_ms,
                    cutoff_ms: now.saturating_sub(slot.len_ms),
                });
            }
            slots.retain(|s| !s.times.is_empty());
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
/// is shared between nodes: use the `idp` crate's Redis store for more than one node.
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
        // In bounds: reduced modulo the (constant, non-zero) array length.
        &self.shards[self.shard_index(key)].0
    }

    fn shard_index(&self, key: &str) -> usize {
        // Truncating the hash is fine: only the low bits pick the shard.
        #[allow(clippy::cast_possible_truncation)]
        let h = self.hasher.hash_one(key) as usize;
        h % SHARDS
    }

    fn expiry(now: i64, ttl: Duration) -> i64 {
        now.saturating_add(duration_millis(ttl))
    }
}

/// Count one event at `now` among a key's slots, returning the count in `window`.
fn bump(slots: &mut Vec<Slot>, window: Window, now: i64) -> u64 {
    let slot = match slots.iter().position(|s| s.len_ms == window.len_ms) {
        Some(i) => &mut slots[i],
        None => {
            slots.push(Slot {
                len_ms: window.len_ms,
                times: VecDeque::new(),
            });
            let last = slots.len() - 1;
            &mut slots[last]
        }
    };
    slot.drop_before(window);
    if slot.times.len() >= MAX_EVENTS {
        slot.times.pop_front();
    }
    slot.times.push_back(now);
    slot.count_in(window)
}

/// [`EphemeralStore::incr_and_lock`] on the maps that hold the lock and the counter.
#[allow(clippy::too_many_arguments)]
fn tally(
    values: &mut HashMap<String, Entry>,
    counters: &mut HashMap<String, Vec<Slot>>,
    counter: &str,
    window: Window,
    limit: u64,
    lock: &str,
    lock_value: &[u8],
    lock_expires_at: i64,
    now: i64,
) -> Tally {
    if values.get(lock).is_some_and(|e| e.expires_at > now) {
        return Tally::AlreadyLocked;
    }
    let count = bump(counters.entry(counter.to_owned()).or_default(), window, now);
    if count < limit {
        return Tally::Counted(count);
    }
    values.insert(
        lock.to_owned(),
        Entry {
            value: lock_value.to_vec(),
            expires_at: lock_expires_at,
        },
    );
    if let Some(slots) = counters.get_mut(counter) {
        slots.retain(|s| s.len_ms != window.len_ms);
        if slots.is_empty() {
            counters.remove(counter);
        }
    }
    Tally::LockedNow(count)
}

impl EphemeralStore for MemoryStore {
    fn incr_and_lock(&self, rule: &Lockout<'_>) -> Result<Tally, StoreError> {
        let (counter, lock) = (rule.counter.to_string(), rule.lock.to_string());
        let (counter, lock) = (counter.as_str(), lock.as_str());
        let (limit, lock_value) = (rule.limit, rule.lock_value);
        let now = self.clock.now_millis();
        let window = Window::current(rule.window, now);
        let expires_at = Self::expiry(now, rule.lock_ttl);
        let tally_in = |values: &mut HashMap<String, Entry>,
                        counters: &mut HashMap<String, Vec<Slot>>| {
            tally(
                values, counters, counter, window, limit, lock, lock_value, expires_at, now,
            )
        };
        let (c, l) = (self.shard_index(counter), self.shard_index(lock));
        let result = if c == l {
            let mut guard = self.shards[c].0.lock();
            let shard = &mut *guard;
            let result = tally_in(&mut shard.values, &mut shard.counters);
            shard.wrote(now);
            result
        } else {
            // Two shards: always lock the lower index first, so no two callers deadlock.
            let (first, second) = (c.min(l), c.max(l));
            let mut a = self.shards[first].0.lock();
            let mut b = self.shards[second].0.lock();
            let (lock_shard, counter_shard) = if l == first {
                (&mut *a, &mut *b)
            } else {
                (&mut *b, &mut *a)
            };
            let result = tally_in(&mut lock_shard.values, &mut counter_shard.counters);
            counter_shard.wrote(now);
            lock_shard.wrote(now);
            result
        };
        Ok(result)
    }

    fn put(&self, key: &Key<'_>, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let key = key.to_string();
        let key = key.as_str();
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

    fn put_if_absent(&self, key: &Key<'_>, value: &[u8], ttl: Duration) -> StoreResult<bool> {
        let key = key.to_string();
        let key = key.as_str();
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

    fn get(&self, key: &Key<'_>) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_string();
        let key = key.as_str();
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

    fn take(&self, key: &Key<'_>) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let now = self.clock.now_millis();
        let removed = self.shard(key).lock().values.remove(key);
        Ok(removed.filter(|e| e.expires_at > now).map(|e| e.value))
    }

    fn delete(&self, key: &Key<'_>) -> Result<(), StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let removed = self.shard(key).lock().values.remove(key);
        // Drop the value outside the lock.
        drop(removed);
        Ok(())
    }

    fn incr(&self, key: &Key<'_>, window: Duration) -> Result<u64, StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let now = self.clock.now_millis();
        let window = Window::current(window, now);
        let mut shard = self.shard(key).lock();
        let count = bump(
            shard.counters.entry(key.to_owned()).or_default(),
            window,
            now,
        );
        shard.wrote(now);
        Ok(count)
    }

    fn count(&self, key: &Key<'_>, window: Duration) -> Result<u64, StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let now = self.clock.now_millis();
        let window = Window::current(window, now);
        let shard = self.shard(key).lock();
        Ok(shard
            .counters
            .get(key)
            .and_then(|slots| slots.iter().find(|s| s.len_ms == window.len_ms))
            .map_or(0, |s| s.count_in(window)))
    }

    fn reset_count(&self, key: &Key<'_>, window: Duration) -> Result<(), StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let now = self.clock.now_millis();
        let window = Window::current(window, now);
        let mut shard = self.shard(key).lock();
        let now_empty = match shard.counters.get_mut(key) {
            Some(slots) => {
                slots.retain(|s| s.len_ms != window.len_ms);
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
