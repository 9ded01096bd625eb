//! A small read-through cache for rows read on every request, timed by the injected
//! [`Clock`] (so tests and every node agree on when an entry is stale).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use broker::clock::Clock;
use parking_lot::Mutex;

/// Entries live `ttl_secs` seconds; at `max` entries the cache starts afresh.
pub(super) struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (i64, V)>>,
    clock: Arc<dyn Clock>,
    ttl_secs: i64,
    max: usize,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub(super) fn new(clock: Arc<dyn Clock>, ttl_secs: i64, max: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            clock,
            ttl_secs,
            max,
        }
    }

    /// The entry for `k`, if it is younger than the time to live.
    pub(super) fn get<Q>(&self, k: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let now = self.clock.now_secs();
        self.entries
            .lock()
            .get(k)
            .filter(|(at, _)| now - at < self.ttl_secs)
            .map(|(_, v)| v.clone())
    }

    pub(super) fn put(&self, k: K, v: V) {
        let now = self.clock.now_secs();
        let mut entries = self.entries.lock();
        if entries.len() >= self.max {
            entries.clear();
        }
        entries.insert(k, (now, v));
    }

    pub(super) fn remove<Q>(&self, k: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.lock().remove(k);
    }

    pub(super) fn clear(&self) {
        self.entries.lock().clear();
    }
}
