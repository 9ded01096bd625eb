//! The contract of `broker::store::EphemeralStore`, written once and run against both
//! implementations: `store::memory::CASE` and `store::redis::CASE` for every CASE below.
//!
//! The Redis cases need `LEERPOORT_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379`). Without it
//! they pass without running, except when `CI` is set: then they fail, so CI cannot skip them
//! by accident. Each Redis case works under a random key prefix and deletes its keys when it
//! ends, so several runs can share one Redis.

// Tests say what broke by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Barrier};
use std::time::Duration;

use broker::clock::{Clock, FixedClock, SystemClock};
use broker::keyspace::Key;
use broker::store::MemoryStore;
use broker::store::{EphemeralStore, Lockout, Tally};
use idp::store::{RedisOptions, RedisStore};

const MINUTE: Duration = Duration::from_secs(60);

/// The contract is about the store, not the keyspace: every key of these cases is a session
/// key named by its text.
fn k(text: &str) -> Key<'_> {
    Key::Session(text)
}

/// A contract case: the store under test and the clock it was built with.
type Case = fn(&dyn EphemeralStore, &FixedClock);

// ---------------------------------------------------------------------------------------------
// The contract.
// ---------------------------------------------------------------------------------------------

fn put_get_replace(store: &dyn EphemeralStore, _clock: &FixedClock) {
    store.put(&k("session:a"), b"one", MINUTE).unwrap();
    assert_eq!(
        store.get(&k("session:a")).unwrap().as_deref(),
        Some(&b"one"[..])
    );
    // Reading does not consume.
    assert_eq!(
        store.get(&k("session:a")).unwrap().as_deref(),
        Some(&b"one"[..])
    );
    store.put(&k("session:a"), b"two", MINUTE).unwrap();
    assert_eq!(
        store.get(&k("session:a")).unwrap().as_deref(),
        Some(&b"two"[..])
    );
}

fn get_of_missing_key_is_none(store: &dyn EphemeralStore, _clock: &FixedClock) {
    assert_eq!(store.get(&k("session:nobody")).unwrap(), None);
    assert_eq!(store.take(&k("code:nobody")).unwrap(), None);
}

fn expiry_is_exact(store: &dyn EphemeralStore, clock: &FixedClock) {
    store
        .put(&k("session:e"), b"v", Duration::from_secs(10))
        .unwrap();
    clock.advance(Duration::from_millis(9_999));
    assert_eq!(
        store.get(&k("session:e")).unwrap().as_deref(),
        Some(&b"v"[..])
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(
        store.get(&k("session:e")).unwrap(),
        None,
        "expiry == now is expired"
    );
    clock.advance(Duration::from_secs(3600));
    assert_eq!(store.get(&k("session:e")).unwrap(), None);
}

fn replacing_restarts_the_ttl(store: &dyn EphemeralStore, clock: &FixedClock) {
    store
        .put(&k("session:r"), b"1", Duration::from_secs(10))
        .unwrap();
    clock.advance(Duration::from_secs(8));
    store
        .put(&k("session:r"), b"2", Duration::from_secs(10))
        .unwrap();
    clock.advance(Duration::from_secs(8));
    assert_eq!(
        store.get(&k("session:r")).unwrap().as_deref(),
        Some(&b"2"[..])
    );
    clock.advance(Duration::from_secs(2));
    assert_eq!(store.get(&k("session:r")).unwrap(), None);
}

fn zero_ttl_is_absent_at_once(store: &dyn EphemeralStore, _clock: &FixedClock) {
    store.put(&k("session:z"), b"v", Duration::ZERO).unwrap();
    assert_eq!(store.get(&k("session:z")).unwrap(), None);
    assert_eq!(store.take(&k("session:z")).unwrap(), None);
}

fn take_is_single_use(store: &dyn EphemeralStore, _clock: &FixedClock) {
    store.put(&k("code:t"), b"grant", MINUTE).unwrap();
    assert_eq!(
        store.take(&k("code:t")).unwrap().as_deref(),
        Some(&b"grant"[..])
    );
    assert_eq!(store.take(&k("code:t")).unwrap(), None);
    assert_eq!(store.get(&k("code:t")).unwrap(), None);
}

fn take_of_expired_value_is_none(store: &dyn EphemeralStore, clock: &FixedClock) {
    store.put(&k("code:x"), b"grant", MINUTE).unwrap();
    clock.advance(MINUTE);
    assert_eq!(store.take(&k("code:x")).unwrap(), None);
    // Still gone when the clock is turned back: take removed it.
    clock.advance(Duration::ZERO);
    assert_eq!(store.take(&k("code:x")).unwrap(), None);
}

fn concurrent_take_has_one_winner(store: &dyn EphemeralStore, _clock: &FixedClock) {
    const THREADS: usize = 8;
    for round in 0..25 {
        let text = format!("code:race{round}");
        let key = k(&text);
        store.put(&key, b"grant", MINUTE).unwrap();
        let barrier = Barrier::new(THREADS);
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        store.take(&key).unwrap()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .inspect(|won| {
                    if let Some(v) = won {
                        assert_eq!(v, b"grant");
                    }
                })
                .filter(Option::is_some)
                .count()
        });
        assert_eq!(winners, 1, "round {round}");
    }
}

fn put_if_absent_first_wins(store: &dyn EphemeralStore, clock: &FixedClock) {
    let ttl = Duration::from_secs(30);
    assert!(store.put_if_absent(&k("jti:p"), b"first", ttl).unwrap());
    assert!(!store.put_if_absent(&k("jti:p"), b"second", ttl).unwrap());
    assert_eq!(
        store.get(&k("jti:p")).unwrap().as_deref(),
        Some(&b"first"[..])
    );
    clock.advance(Duration::from_millis(29_999));
    assert!(!store.put_if_absent(&k("jti:p"), b"third", ttl).unwrap());
    // Logically expired (the backend may still hold it): absent, so the next one wins.
    clock.advance(Duration::from_millis(1));
    assert!(store.put_if_absent(&k("jti:p"), b"fourth", ttl).unwrap());
    assert_eq!(
        store.get(&k("jti:p")).unwrap().as_deref(),
        Some(&b"fourth"[..])
    );
    assert!(!store.put_if_absent(&k("jti:p"), b"fifth", ttl).unwrap());
    // And after a delete.
    store.delete(&k("jti:p")).unwrap();
    assert!(store.put_if_absent(&k("jti:p"), b"sixth", ttl).unwrap());
}

fn concurrent_put_if_absent_has_one_winner(store: &dyn EphemeralStore, _clock: &FixedClock) {
    const THREADS: usize = 8;
    for round in 0..25 {
        let text = format!("jti:race{round}");
        let key = k(&text);
        let barrier = Barrier::new(THREADS);
        let winners: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|i| {
                    let (key, barrier) = (&key, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        store
                            .put_if_absent(key, i.to_string().as_bytes(), MINUTE)
                            .unwrap()
                            .then_some(i)
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().unwrap())
                .collect()
        });
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let stored = store.get(&key).unwrap().unwrap();
        assert_eq!(stored, winners[0].to_string().as_bytes());
    }
}

fn delete_removes(store: &dyn EphemeralStore, _clock: &FixedClock) {
    store.put(&k("session:d"), b"v", MINUTE).unwrap();
    store.delete(&k("session:d")).unwrap();
    assert_eq!(store.get(&k("session:d")).unwrap(), None);
    assert_eq!(store.take(&k("session:d")).unwrap(), None);
    // Deleting what is not there is fine.
    store.delete(&k("session:d")).unwrap();
    store.delete(&k("session:never")).unwrap();
}

/// Put the clock on the first millisecond of a `window`-long window.
fn align(clock: &FixedClock, window: Duration) {
    let secs = i64::try_from(window.as_secs()).unwrap();
    clock.set_secs(clock.now_secs().div_euclid(secs) * secs);
}

fn incr_counts_over_a_sliding_window(store: &dyn EphemeralStore, clock: &FixedClock) {
    align(clock, MINUTE);
    assert_eq!(store.incr(&k("rl:pupil"), MINUTE).unwrap(), 1);
    assert_eq!(store.incr(&k("rl:pupil"), MINUTE).unwrap(), 2);
    assert_eq!(store.incr(&k("rl:pupil"), MINUTE).unwrap(), 3);
    // Last millisecond of a clock-aligned minute: a burst across the boundary.
    clock.advance(MINUTE - Duration::from_millis(1));
    assert_eq!(store.incr(&k("rl:pupil"), MINUTE).unwrap(), 4);
    // Exactly one minute after the first three they stop counting; the fourth still counts
    // (a clock-aligned window would start again from zero here).
    clock.advance(Duration::from_millis(1));
    assert_eq!(store.count(&k("rl:pupil"), MINUTE).unwrap(), 1);
    assert_eq!(store.incr(&k("rl:pupil"), MINUTE).unwrap(), 2);
    clock.advance(Duration::from_secs(30));
    assert_eq!(store.count(&k("rl:pupil"), MINUTE).unwrap(), 2);
    // One minute after the fourth, that one is gone too.
    clock.advance(Duration::from_secs(30) - Duration::from_millis(1));
    assert_eq!(store.count(&k("rl:pupil"), MINUTE).unwrap(), 1);
    clock.advance(Duration::from_millis(1));
    assert_eq!(store.count(&k("rl:pupil"), MINUTE).unwrap(), 0);
    // Another key counts on its own.
    assert_eq!(store.incr(&k("rl:other"), MINUTE).unwrap(), 1);
}

fn a_burst_across_a_boundary_counts_in_full(store: &dyn EphemeralStore, clock: &FixedClock) {
    align(clock, MINUTE);
    clock.advance(Duration::from_secs(50));
    for _ in 0..5 {
        store.incr(&k("rl:burst"), MINUTE).unwrap();
    }
    // Into the next clock-aligned minute: a fixed window would start again at zero.
    clock.advance(Duration::from_secs(20));
    for n in 6..=10 {
        assert_eq!(store.incr(&k("rl:burst"), MINUTE).unwrap(), n);
    }
    assert_eq!(store.count(&k("rl:burst"), MINUTE).unwrap(), 10);
    clock.advance(Duration::from_secs(40));
    assert_eq!(store.count(&k("rl:burst"), MINUTE).unwrap(), 5);
}

fn windows_of_different_lengths_count_apart(store: &dyn EphemeralStore, clock: &FixedClock) {
    let hour = Duration::from_secs(3600);
    align(clock, hour);
    assert_eq!(store.incr(&k("rl:ip"), MINUTE).unwrap(), 1);
    assert_eq!(store.incr(&k("rl:ip"), MINUTE).unwrap(), 2);
    assert_eq!(store.incr(&k("rl:ip"), hour).unwrap(), 1);
    clock.advance(MINUTE);
    assert_eq!(store.incr(&k("rl:ip"), MINUTE).unwrap(), 1);
    assert_eq!(store.incr(&k("rl:ip"), hour).unwrap(), 2);
    assert_eq!(store.count(&k("rl:ip"), hour).unwrap(), 2);
    assert_eq!(store.count(&k("rl:ip"), MINUTE).unwrap(), 1);
}

fn incr_and_lock_locks_at_the_limit(store: &dyn EphemeralStore, clock: &FixedClock) {
    align(clock, MINUTE);
    let hour = Duration::from_secs(3600);
    let rule = Lockout {
        counter: k("rl:fail:p"),
        window: hour,
        limit: 3,
        lock: k("lock:p"),
        lock_value: b"until",
        lock_ttl: hour,
    };
    let tally = || store.incr_and_lock(&rule);
    assert_eq!(tally().unwrap(), Tally::Counted(1));
    assert_eq!(tally().unwrap(), Tally::Counted(2));
    assert_eq!(tally().unwrap(), Tally::LockedNow(3));
    assert_eq!(
        store.get(&k("lock:p")).unwrap().as_deref(),
        Some(&b"until"[..])
    );
    assert_eq!(
        store.count(&k("rl:fail:p"), hour).unwrap(),
        0,
        "the counter starts again"
    );
    assert_eq!(tally().unwrap(), Tally::AlreadyLocked);
    assert_eq!(
        store.count(&k("rl:fail:p"), hour).unwrap(),
        0,
        "nothing counted while locked"
    );
    // When the lock has run out, counting starts from zero.
    clock.advance(hour);
    assert_eq!(store.get(&k("lock:p")).unwrap(), None);
    assert_eq!(tally().unwrap(), Tally::Counted(1));
}

fn concurrent_failures_lock_exactly_once(store: &dyn EphemeralStore, _clock: &FixedClock) {
    const THREADS: usize = 16;
    let hour = Duration::from_secs(3600);
    for round in 0..10 {
        let (counter_text, lock_text) = (format!("rl:race{round}"), format!("lock:race{round}"));
        let (counter, lock) = (k(&counter_text), k(&lock_text));
        // Nine failures already: several nodes count the tenth at once.
        for _ in 0..9 {
            store
                .incr_and_lock(&Lockout {
                    counter,
                    window: hour,
                    limit: 10,
                    lock,
                    lock_value: b"1",
                    lock_ttl: hour,
                })
                .unwrap();
        }
        let barrier = Barrier::new(THREADS);
        let tallies: Vec<Tally> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        store
                            .incr_and_lock(&Lockout {
                                counter,
                                window: hour,
                                limit: 10,
                                lock,
                                lock_value: b"1",
                                lock_ttl: hour,
                            })
                            .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let locked_now = tallies
            .iter()
            .filter(|t| matches!(t, Tally::LockedNow(_)))
            .count();
        assert_eq!(locked_now, 1, "round {round}: {tallies:?}");
        assert!(
            tallies
                .iter()
                .all(|t| matches!(t, Tally::LockedNow(10) | Tally::AlreadyLocked)),
            "round {round}: {tallies:?}"
        );
    }
}

fn count_does_not_increment(store: &dyn EphemeralStore, clock: &FixedClock) {
    align(clock, MINUTE);
    assert_eq!(store.count(&k("rl:c"), MINUTE).unwrap(), 0);
    assert_eq!(store.count(&k("rl:c"), MINUTE).unwrap(), 0);
    assert_eq!(store.incr(&k("rl:c"), MINUTE).unwrap(), 1);
    assert_eq!(store.count(&k("rl:c"), MINUTE).unwrap(), 1);
    assert_eq!(store.count(&k("rl:c"), MINUTE).unwrap(), 1);
    assert_eq!(store.incr(&k("rl:c"), MINUTE).unwrap(), 2);
    assert_eq!(store.count(&k("rl:c"), MINUTE).unwrap(), 2);
}

fn reset_count_forgets(store: &dyn EphemeralStore, clock: &FixedClock) {
    align(clock, MINUTE);
    for _ in 0..3 {
        store.incr(&k("rl:locked"), MINUTE).unwrap();
    }
    assert_eq!(store.count(&k("rl:locked"), MINUTE).unwrap(), 3);
    store.reset_count(&k("rl:locked"), MINUTE).unwrap();
    assert_eq!(store.count(&k("rl:locked"), MINUTE).unwrap(), 0);
    assert_eq!(store.incr(&k("rl:locked"), MINUTE).unwrap(), 1);
    // Resetting what was never counted is fine.
    store.reset_count(&k("rl:never"), MINUTE).unwrap();
    assert_eq!(store.count(&k("rl:never"), MINUTE).unwrap(), 0);
}

fn keys_are_isolated(store: &dyn EphemeralStore, clock: &FixedClock) {
    align(clock, MINUTE);
    store.put(&k("session:a"), b"1", MINUTE).unwrap();
    store.put(&k("session:ab"), b"2", MINUTE).unwrap();
    store.put(&k("code:a"), b"3", MINUTE).unwrap();
    store.put(&k("a"), b"4", MINUTE).unwrap();
    assert_eq!(
        store.take(&k("session:a")).unwrap().as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(
        store.get(&k("session:ab")).unwrap().as_deref(),
        Some(&b"2"[..])
    );
    assert_eq!(store.get(&k("code:a")).unwrap().as_deref(), Some(&b"3"[..]));
    assert_eq!(store.get(&k("a")).unwrap().as_deref(), Some(&b"4"[..]));
    store.delete(&k("code:a")).unwrap();
    assert_eq!(
        store.get(&k("session:ab")).unwrap().as_deref(),
        Some(&b"2"[..])
    );
    assert_eq!(store.get(&k("a")).unwrap().as_deref(), Some(&b"4"[..]));
    // Counters and values under the same key do not meet.
    assert_eq!(store.incr(&k("a"), MINUTE).unwrap(), 1);
    assert_eq!(store.get(&k("a")).unwrap().as_deref(), Some(&b"4"[..]));
    store.delete(&k("a")).unwrap();
    assert_eq!(store.count(&k("a"), MINUTE).unwrap(), 1);
    assert_eq!(store.incr(&k("rl:a"), MINUTE).unwrap(), 1);
    assert_eq!(store.incr(&k("rl:ab"), MINUTE).unwrap(), 1);
    assert_eq!(store.incr(&k("rl:a"), MINUTE).unwrap(), 2);
}

fn binary_values_round_trip(store: &dyn EphemeralStore, _clock: &FixedClock) {
    let all_bytes: Vec<u8> = (0..=255).collect();
    let not_utf8 = vec![0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, b'\n', b'\r', 0x00];
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    for (key, value) in [
        ("bin:all", &all_bytes),
        ("bin:bad", &not_utf8),
        ("bin:empty", &Vec::new()),
        ("bin:big", &big),
    ] {
        let text = key;
        let key = &k(text);
        store.put(key, value, MINUTE).unwrap();
        assert_eq!(store.get(key).unwrap().as_ref(), Some(value), "{text}");
        assert_eq!(store.take(key).unwrap().as_ref(), Some(value), "{text}");
        assert!(store.put_if_absent(key, value, MINUTE).unwrap());
        assert_eq!(store.get(key).unwrap().as_ref(), Some(value), "{text}");
    }
    // Odd keys too.
    let key = &k("sessie:ëïö 🍎 \"quoted\" *glob?");
    store.put(key, &not_utf8, MINUTE).unwrap();
    assert_eq!(store.get(key).unwrap(), Some(not_utf8));
}

fn ping_answers(store: &dyn EphemeralStore, _clock: &FixedClock) {
    store.ping().unwrap();
}

// ---------------------------------------------------------------------------------------------
// The backends.
// ---------------------------------------------------------------------------------------------

/// Run `case` on a fresh `MemoryStore`.
fn on_memory(case: Case) {
    let clock = Arc::new(FixedClock::at_secs(1_700_000_000));
    let store = MemoryStore::new(clock.clone());
    case(&store, &clock);
}

/// The Redis to test against, or `None` to skip (only outside CI).
fn redis_url() -> Option<String> {
    match std::env::var("LEERPOORT_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "CI is set but LEERPOORT_TEST_REDIS_URL is not: the Redis store tests must run in CI \
             (start a Redis and set LEERPOORT_TEST_REDIS_URL=redis://127.0.0.1:6379)"
        ),
        _ => {
            eprintln!("LEERPOORT_TEST_REDIS_URL is not set: skipping a Redis store test");
            None
        }
    }
}

/// Deletes every key under a prefix when dropped (also when the test fails).
struct Cleanup {
    url: String,
    prefix: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(client) = ::redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(2)) else {
            return;
        };
        let pattern = format!("{}*", self.prefix);
        let mut cursor = 0u64;
        loop {
            let Ok((next, keys)): Result<(u64, Vec<Vec<u8>>), _> = ::redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query(&mut conn)
            else {
                return;
            };
            if !keys.is_empty() {
                let _ = ::redis::cmd("DEL").arg(keys).query::<()>(&mut conn);
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
}

/// A `RedisStore` on the test Redis under a fresh random prefix, its clock (fixed, starting
/// at the real time so that server-side TTLs stay sensible) and the guard that cleans up.
fn redis_store(url: &str) -> (RedisStore, Arc<FixedClock>, Cleanup) {
    let clock = Arc::new(FixedClock::at_secs(SystemClock.now_secs()));
    let prefix = format!("leerpoort-test:{}:", uuid::Uuid::new_v4());
    let store = RedisStore::connect(url, clock.clone())
        .unwrap_or_else(|e| panic!("cannot reach the test Redis: {e}"))
        .with_prefix(prefix.clone());
    let cleanup = Cleanup {
        url: url.to_owned(),
        prefix,
    };
    (store, clock, cleanup)
}

/// Run `case` on a `RedisStore` of its own (see [`redis_url`] for when this is skipped).
fn on_redis(case: Case) {
    let Some(url) = redis_url() else { return };
    let (store, clock, _cleanup) = redis_store(&url);
    case(&store, &clock);
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        /// The contract on [`MemoryStore`].
        mod memory {
            $(
                #[test]
                fn $case() {
                    super::on_memory(super::$case);
                }
            )*
        }

        /// The contract on [`RedisStore`].
        mod redis {
            $(
                #[test]
                fn $case() {
                    super::on_redis(super::$case);
                }
            )*
        }
    };
}

contract!(
    put_get_replace,
    get_of_missing_key_is_none,
    expiry_is_exact,
    replacing_restarts_the_ttl,
    zero_ttl_is_absent_at_once,
    take_is_single_use,
    take_of_expired_value_is_none,
    concurrent_take_has_one_winner,
    put_if_absent_first_wins,
    concurrent_put_if_absent_has_one_winner,
    delete_removes,
    incr_counts_over_a_sliding_window,
    a_burst_across_a_boundary_counts_in_full,
    windows_of_different_lengths_count_apart,
    count_does_not_increment,
    incr_and_lock_locks_at_the_limit,
    concurrent_failures_lock_exactly_once,
    reset_count_forgets,
    keys_are_isolated,
    binary_values_round_trip,
    ping_answers,
);

// ---------------------------------------------------------------------------------------------
// Backend-specific.
// ---------------------------------------------------------------------------------------------

#[test]
fn memory_sweeps_expired_entries_as_it_is_written() {
    let clock = Arc::new(FixedClock::at_secs(1_700_000_000));
    let store = MemoryStore::new(clock.clone());
    for i in 0..10_000 {
        store
            .put(&k(&format!("session:old{i}")), b"v", Duration::from_secs(1))
            .unwrap();
    }
    clock.advance(Duration::from_secs(2));
    for i in 0..10_000 {
        store
            .put(&k(&format!("session:new{i}")), b"v", MINUTE)
            .unwrap();
    }
    // Without sweeping it would hold 20 000.
    let held = store.entry_count();
    assert!(held < 12_000, "{held} entries held");
    store.purge_expired();
    assert_eq!(store.entry_count(), 10_000);
    clock.advance(MINUTE);
    store.purge_expired();
    assert_eq!(store.entry_count(), 0);
}

#[test]
fn memory_sweeps_finished_counter_windows() {
    let clock = Arc::new(FixedClock::at_secs(1_700_000_000));
    let store = MemoryStore::new(clock.clone());
    for i in 0..1_000 {
        store.incr(&k(&format!("rl:{i}")), MINUTE).unwrap();
    }
    assert_eq!(store.entry_count(), 1_000);
    clock.advance(MINUTE - Duration::from_millis(1));
    store.purge_expired();
    assert_eq!(
        store.entry_count(),
        1_000,
        "still within the sliding minute"
    );
    clock.advance(Duration::from_millis(1));
    store.purge_expired();
    assert_eq!(store.entry_count(), 0);
}

#[test]
fn open_without_url_is_the_memory_store() {
    let store = idp::store::open(None, &RedisOptions::default(), Arc::new(SystemClock)).unwrap();
    assert!(format!("{store:?}").starts_with("MemoryStore"));
    store.ping().unwrap();
}

#[test]
fn open_with_url_is_the_redis_store() {
    let Some(url) = redis_url() else { return };
    let store =
        idp::store::open(Some(&url), &RedisOptions::default(), Arc::new(SystemClock)).unwrap();
    assert!(format!("{store:?}").starts_with("RedisStore"));
    store.ping().unwrap();
}

#[test]
fn redis_prefixes_isolate_stores() {
    let Some(url) = redis_url() else { return };
    let (a, _clock_a, _cleanup_a) = redis_store(&url);
    let (b, _clock_b, _cleanup_b) = redis_store(&url);
    a.put(&k("session:s"), b"a", MINUTE).unwrap();
    assert_eq!(b.get(&k("session:s")).unwrap(), None);
    assert!(b.put_if_absent(&k("session:s"), b"b", MINUTE).unwrap());
    assert_eq!(a.get(&k("session:s")).unwrap().as_deref(), Some(&b"a"[..]));
    assert_eq!(b.take(&k("session:s")).unwrap().as_deref(), Some(&b"b"[..]));
    assert_eq!(a.get(&k("session:s")).unwrap().as_deref(), Some(&b"a"[..]));
    assert_eq!(a.incr(&k("rl:x"), MINUTE).unwrap(), 1);
    assert_eq!(b.incr(&k("rl:x"), MINUTE).unwrap(), 1);
}

#[test]
fn redis_sets_a_server_side_ttl() {
    let Some(url) = redis_url() else { return };
    let (store, _clock, cleanup) = redis_store(&url);
    store.put(&k("session:ttl"), b"v", MINUTE).unwrap();
    store.incr(&k("rl:ttl"), MINUTE).unwrap();
    let client = ::redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let keys: Vec<String> = ::redis::cmd("KEYS")
        .arg(format!("{}*", cleanup.prefix))
        .query(&mut conn)
        .unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in keys {
        let pttl: i64 = ::redis::cmd("PTTL").arg(&key).query(&mut conn).unwrap();
        let max = if key.contains(":v:") { 60_000 } else { 120_000 };
        assert!(pttl > 0 && pttl <= max, "{key}: PTTL {pttl}");
    }
}

#[test]
fn redis_unreachable_is_unavailable_quickly() {
    // Nothing listens on port 1. The store is built all the same (a node starts before its
    // Redis), and reports Redis as unavailable, quickly and without the password.
    let store =
        RedisStore::connect("redis://u:secretpw@127.0.0.1:1", Arc::new(SystemClock)).unwrap();
    let started = std::time::Instant::now();
    let err = store.ping().unwrap_err().to_string();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(err.starts_with("ephemeral store unavailable"), "{err}");
    assert!(!err.contains("secretpw"), "{err}");
    let started = std::time::Instant::now();
    let err = store
        .put(&k("session:s"), b"v", MINUTE)
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!err.contains("secretpw"), "{err}");
    assert!(format!("{store:?}").contains("redis://127.0.0.1:1"));
    assert!(!format!("{store:?}").contains("secretpw"));
}

#[test]
fn open_rejects_an_invalid_redis_url() {
    let err = idp::store::open(
        Some("http://u:secretpw@example"),
        &RedisOptions::default(),
        Arc::new(SystemClock),
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("ephemeral store unavailable"), "{err}");
    assert!(!err.contains("secretpw"), "{err}");
}

/// A `redis-server` of this test's own on a free loopback port, stopped when dropped, for
/// tests that disturb the server. `None` (skip) when there is no test Redis configured or,
/// outside CI, no `redis-server` binary.
struct PrivateRedis {
    child: std::process::Child,
    url: String,
}

/// A free port on loopback (free when asked: the server taking it follows at once).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PrivateRedis {
    fn start() -> Option<PrivateRedis> {
        redis_url()?;
        let port = free_port();
        let spawned = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("CI is set but redis-server cannot be started: {e}")
            }
            Err(e) => {
                eprintln!("redis-server cannot be started ({e}): skipping");
                return None;
            }
        };
        let server = PrivateRedis {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        };
        let client = ::redis::Client::open(server.url.as_str()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while client
            .get_connection()
            .and_then(|mut c| ::redis::cmd("PING").query::<()>(&mut c))
            .is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    /// Close every client connection but the one asking, as a restart or an idle timeout
    /// would. Returns how many were closed.
    fn kill_clients(&self) -> u64 {
        let client = ::redis::Client::open(self.url.as_str()).unwrap();
        let mut conn = client.get_connection().unwrap();
        ::redis::cmd("CLIENT")
            .arg(&["KILL", "TYPE", "normal", "SKIPME", "yes"][..])
            .query(&mut conn)
            .unwrap()
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn redis_store_recovers_from_closed_connections() {
    let Some(server) = PrivateRedis::start() else {
        return;
    };
    let clock = Arc::new(FixedClock::at_secs(SystemClock.now_secs()));
    let store = RedisStore::connect(&server.url, clock).unwrap();
    // Several pooled connections, all in use at once.
    std::thread::scope(|s| {
        for t in 0..8 {
            let store = &store;
            s.spawn(move || {
                for i in 0..20 {
                    store.put(&k(&format!("k{t}:{i}")), b"v", MINUTE).unwrap();
                }
            });
        }
    });
    assert!(server.kill_clients() >= 2);
    // Every idle connection in the pool is now closed by the server; each operation is
    // still answered (once more on a new connection), and the dead ones leave the pool.
    for t in 0..8 {
        for i in 0..20 {
            let key = format!("k{t}:{i}");
            assert_eq!(
                store.get(&k(&key)).unwrap().as_deref(),
                Some(&b"v"[..]),
                "{key}"
            );
        }
    }
    assert_eq!(store.take(&k("k0:0")).unwrap().as_deref(), Some(&b"v"[..]));
    assert!(store.put_if_absent(&k("jti:new"), b"v", MINUTE).unwrap());
    store.ping().unwrap();
    assert!(server.kill_clients() >= 1);
    store.ping().unwrap();
    assert_eq!(store.incr(&k("rl:x"), MINUTE).unwrap(), 1);
}

/// A TCP proxy on loopback that sends each new connection to the port in `target`, as the
/// endpoint of a Redis with failover does; connections made before a change stay where they
/// are. Its threads end with the process (or when a side closes).
struct Endpoint {
    port: u16,
    target: Arc<std::sync::atomic::AtomicU16>,
}

impl Endpoint {
    fn start(target: u16) -> Endpoint {
        use std::net::{Shutdown, TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = Arc::new(std::sync::atomic::AtomicU16::new(target));
        let to = Arc::clone(&target);
        std::thread::spawn(move || {
            for inbound in listener.incoming() {
                let Ok(inbound) = inbound else { return };
                let port = to.load(std::sync::atomic::Ordering::SeqCst);
                let Ok(outbound) = TcpStream::connect(("127.0.0.1", port)) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (inbound.try_clone().unwrap(), outbound.try_clone().unwrap()),
                    (outbound, inbound),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Endpoint { port, target }
    }
}

impl PrivateRedis {
    fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    fn query<T: ::redis::FromRedisValue>(&self, args: &[&str]) -> T {
        let client = ::redis::Client::open(self.url.as_str()).unwrap();
        let mut conn = client.get_connection().unwrap();
        ::redis::cmd(args[0])
            .arg(&args[1..])
            .query(&mut conn)
            .unwrap()
    }
}

#[test]
fn redis_follows_a_failover_behind_one_endpoint() {
    let Some(old) = PrivateRedis::start() else {
        return;
    };
    let Some(new) = PrivateRedis::start() else {
        return;
    };
    let endpoint = Endpoint::start(old.port());
    let clock = Arc::new(FixedClock::at_secs(SystemClock.now_secs()));
    let store =
        RedisStore::connect(&format!("redis://127.0.0.1:{}", endpoint.port), clock).unwrap();
    // Several pooled connections, all to the old primary.
    std::thread::scope(|s| {
        for t in 0..8 {
            let store = &store;
            s.spawn(move || {
                for i in 0..20 {
                    store.put(&k(&format!("k{t}:{i}")), b"v", MINUTE).unwrap();
                }
            });
        }
    });
    // The failover: the endpoint leads to the new primary, and the old one is demoted to its
    // replica without closing its clients' connections.
    endpoint
        .target
        .store(new.port(), std::sync::atomic::Ordering::SeqCst);
    let _: () = old.query(&["REPLICAOF", "127.0.0.1", &new.port().to_string()]);
    let clients: String = old.query(&["CLIENT", "LIST", "TYPE", "normal"]);
    assert!(clients.lines().count() > 2, "{clients}");
    // Every write still lands: a connection answered READONLY is dropped and the command sent
    // again on a new one, which reaches the new primary.
    for i in 0..20 {
        store
            .put(&k(&format!("after:{i}")), b"v", MINUTE)
            .unwrap_or_else(|e| panic!("write {i} after the failover: {e}"));
    }
    assert!(store.put_if_absent(&k("jti:new"), b"v", MINUTE).unwrap());
    assert_eq!(store.incr(&k("rl:x"), MINUTE).unwrap(), 1);
    let rule = Lockout {
        counter: k("rl:fail:p"),
        window: MINUTE,
        limit: 2,
        lock: k("lock:p"),
        lock_value: b"until",
        lock_ttl: MINUTE,
    };
    assert_eq!(store.incr_and_lock(&rule).unwrap(), Tally::Counted(1));
    assert_eq!(
        store.take(&k("after:0")).unwrap().as_deref(),
        Some(&b"v"[..])
    );
    store.ping().unwrap();
    let on_new: Vec<String> = new.query(&["KEYS", "v:session:after:*"]);
    assert_eq!(on_new.len(), 19, "{on_new:?}");
}

#[test]
fn redis_prefix_keeps_installations_apart() {
    // A Redis of its own, so that every key in it was written by this test.
    let Some(server) = PrivateRedis::start() else {
        return;
    };
    let clock = Arc::new(FixedClock::at_secs(SystemClock.now_secs()));
    align(&clock, MINUTE);
    let open = |prefix: &str| {
        let options = RedisOptions {
            prefix: prefix.to_owned(),
            ca_file: None,
        };
        idp::store::open(Some(&server.url), &options, clock.clone()).unwrap()
    };
    let (a, b) = (open("school-a:"), open("school-b:"));

    // Values.
    a.put(&k("session:s"), b"a", MINUTE).unwrap();
    assert_eq!(b.get(&k("session:s")).unwrap(), None);
    assert_eq!(b.take(&k("session:s")).unwrap(), None);
    assert!(b.put_if_absent(&k("session:s"), b"b", MINUTE).unwrap());
    assert!(!a.put_if_absent(&k("session:s"), b"x", MINUTE).unwrap());
    assert_eq!(a.get(&k("session:s")).unwrap().as_deref(), Some(&b"a"[..]));
    assert_eq!(b.take(&k("session:s")).unwrap().as_deref(), Some(&b"b"[..]));
    assert_eq!(a.get(&k("session:s")).unwrap().as_deref(), Some(&b"a"[..]));
    b.put(&k("session:t"), b"b", MINUTE).unwrap();
    a.delete(&k("session:t")).unwrap();
    assert_eq!(b.get(&k("session:t")).unwrap().as_deref(), Some(&b"b"[..]));

    // Counters.
    for n in 1..=3 {
        assert_eq!(a.incr(&k("rl:x"), MINUTE).unwrap(), n);
    }
    assert_eq!(b.count(&k("rl:x"), MINUTE).unwrap(), 0);
    assert_eq!(b.incr(&k("rl:x"), MINUTE).unwrap(), 1);
    b.reset_count(&k("rl:x"), MINUTE).unwrap();
    assert_eq!(a.count(&k("rl:x"), MINUTE).unwrap(), 3);

    // Locks.
    let hour = Duration::from_secs(3600);
    let rule = Lockout {
        counter: k("rl:fail:p"),
        window: hour,
        limit: 2,
        lock: k("lock:p"),
        lock_value: b"until",
        lock_ttl: hour,
    };
    assert_eq!(a.incr_and_lock(&rule).unwrap(), Tally::Counted(1));
    assert_eq!(a.incr_and_lock(&rule).unwrap(), Tally::LockedNow(2));
    assert_eq!(a.incr_and_lock(&rule).unwrap(), Tally::AlreadyLocked);
    assert_eq!(b.get(&k("lock:p")).unwrap(), None);
    assert_eq!(b.incr_and_lock(&rule).unwrap(), Tally::Counted(1));
    assert_eq!(a.get(&k("lock:p")).unwrap().as_deref(), Some(&b"until"[..]));

    // Every key in this Redis is under one of the two prefixes.
    let client = ::redis::Client::open(server.url.as_str()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = ::redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    keys.sort();
    let of = |prefix: &str| keys.iter().filter(|k| k.starts_with(prefix)).count();
    assert_eq!(of("school-a:") + of("school-b:"), keys.len(), "{keys:?}");
    // a: the session, the counter, the lock (its counter was deleted when it locked);
    // b: the session t, the lock's counter.
    assert_eq!(of("school-a:"), 3, "{keys:?}");
    assert_eq!(of("school-b:"), 2, "{keys:?}");
    assert!(
        keys.contains(&"school-a:v:session:session:s".to_owned()),
        "{keys:?}"
    );
}

#[test]
fn redis_without_a_prefix_keeps_the_old_layout() {
    let Some(server) = PrivateRedis::start() else {
        return;
    };
    let clock = Arc::new(FixedClock::at_secs(SystemClock.now_secs()));
    let store = idp::store::open(Some(&server.url), &RedisOptions::default(), clock).unwrap();
    store.put(&k("session:s"), b"v", MINUTE).unwrap();
    store.incr(&k("rl:x"), MINUTE).unwrap();
    let client = ::redis::Client::open(server.url.as_str()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let mut keys: Vec<String> = ::redis::cmd("KEYS").arg("*").query(&mut conn).unwrap();
    keys.sort();
    // (`k` makes session keys: `session:` in front of the text.)
    assert_eq!(keys, ["c:60000:session:rl:x", "v:session:session:s"]);
}

/// A `redis-server` of this test's own that speaks only TLS, on a free loopback port, with a
/// CA and a server certificate (for `127.0.0.1` and `localhost`) made for it by the `openssl`
/// command. `None` (skip) as for [`PrivateRedis`]; under `CI`, a `redis-server` without TLS
/// support fails the test.
struct TlsRedis {
    server: PrivateRedis,
    /// The CA's certificate (PEM).
    ca_file: std::path::PathBuf,
    /// A CA file with another CA, which did not sign the server's certificate.
    other_ca_file: std::path::PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

/// Run `openssl` with `args` in `dir`; panics with its output when it fails.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl cannot be started: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`NAME.pem`, `NAME.key`) made by `openssl` in `dir`.
fn make_ca(dir: &std::path::Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=Leerpoort test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

impl TlsRedis {
    fn start() -> Option<TlsRedis> {
        redis_url()?;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        make_ca(d, "ca");
        make_ca(d, "other-ca");
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        );
        std::fs::write(
            d.join("server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                "server.pem",
            ],
        );

        let port = free_port();
        let file = |name: &str| d.join(name).to_str().unwrap().to_owned();
        let spawned = std::process::Command::new("redis-server")
            // 127.0.0.2: an address the certificate does not name.
            .args(["--bind", "127.0.0.1", "127.0.0.2", "--port", "0"])
            .args(["--tls-port", &port.to_string()])
            .args(["--tls-cert-file", &file("server.pem")])
            .args(["--tls-key-file", &file("server.key")])
            .args(["--tls-ca-cert-file", &file("ca.pem")])
            .args(["--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("CI is set but redis-server cannot be started: {e}")
            }
            Err(e) => {
                eprintln!("redis-server cannot be started ({e}): skipping");
                return None;
            }
        };
        // Up when its TLS port takes connections; a build without TLS stops at once, saying
        // that it does not know the `tls-port` directive.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                let out = child.wait_with_output().unwrap();
                let said = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                let why = if said.contains("tls") {
                    "this redis-server was built without TLS support (Debian's redis-server \
                     has it)"
                } else {
                    "redis-server stopped"
                };
                if std::env::var_os("CI").is_some() {
                    panic!("the rediss:// test cannot run: {why} ({status}): {said}");
                }
                eprintln!("{why}: skipping the rediss:// test");
                return None;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server with TLS did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(TlsRedis {
            server: PrivateRedis {
                child,
                url: format!("rediss://127.0.0.1:{port}"),
            },
            ca_file: d.join("ca.pem"),
            other_ca_file: d.join("other-ca.pem"),
            port,
            _dir: dir,
        })
    }

    /// A store on this server over TLS, trusting `ca_file` (the public web roots if `None`).
    fn store(
        &self,
        url: &str,
        ca_file: Option<&std::path::Path>,
    ) -> (Result<RedisStore, String>, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock::at_secs(SystemClock.now_secs()));
        let options = RedisOptions {
            prefix: "tls-test:".to_owned(),
            ca_file: ca_file.map(std::path::Path::to_path_buf),
        };
        let store =
            RedisStore::connect_with(url, &options, clock.clone()).map_err(|e| e.to_string());
        (store, clock)
    }
}

#[test]
fn rediss_with_a_private_ca_runs_the_contract() {
    let Some(tls) = TlsRedis::start() else {
        return;
    };
    let url = &tls.server.url;
    // The basic cases, each on a store of its own, over TLS with the CA trusted.
    let cases: [(&str, Case); 8] = [
        ("put_get_replace", put_get_replace),
        ("get_of_missing_key_is_none", get_of_missing_key_is_none),
        ("take_is_single_use", take_is_single_use),
        (
            "concurrent_take_has_one_winner",
            concurrent_take_has_one_winner,
        ),
        ("put_if_absent_first_wins", put_if_absent_first_wins),
        (
            "incr_counts_over_a_sliding_window",
            incr_counts_over_a_sliding_window,
        ),
        (
            "incr_and_lock_locks_at_the_limit",
            incr_and_lock_locks_at_the_limit,
        ),
        ("ping_answers", ping_answers),
    ];
    for (name, case) in cases {
        let (store, clock) = tls.store(url, Some(&tls.ca_file));
        let store = store.unwrap_or_else(|e| panic!("{name}: {e}"));
        case(&store, &clock);
        // Each case starts on an empty server.
        let client = ::redis::Client::build_with_tls(
            url.as_str(),
            ::redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(std::fs::read(&tls.ca_file).unwrap()),
            },
        )
        .unwrap();
        let mut conn = client.get_connection().unwrap();
        ::redis::cmd("FLUSHALL").query::<()>(&mut conn).unwrap();
    }
    // The server's name is checked too: `localhost` is in its certificate.
    let (store, _clock) = tls.store(
        &format!("rediss://localhost:{}", tls.port),
        Some(&tls.ca_file),
    );
    store.unwrap().ping().unwrap();
}

#[test]
fn rediss_refuses_a_server_it_does_not_trust() {
    let Some(tls) = TlsRedis::start() else {
        return;
    };
    let url = &tls.server.url;
    // The public web roots (no CA file), and another CA: both refuse the server's
    // certificate, quickly, and say what to do.
    for ca_file in [None, Some(tls.other_ca_file.as_path())] {
        let (store, _clock) = tls.store(url, ca_file);
        let store = store.unwrap();
        let started = std::time::Instant::now();
        let err = store.ping().unwrap_err().to_string();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(err.starts_with("ephemeral store unavailable"), "{err}");
        assert!(
            err.contains("invalid peer certificate: UnknownIssuer"),
            "{err}"
        );
        assert!(
            err.contains("give its CA in LEERPOORT_REDIS_CA_FILE"),
            "{err}"
        );
        let err = store
            .put(&k("session:s"), b"v", MINUTE)
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid peer certificate"), "{err}");
    }
    // The right CA, but not the name in the certificate.
    let (store, _clock) = tls.store(
        &format!("rediss://127.0.0.2:{}", tls.port),
        Some(&tls.ca_file),
    );
    let err = store.unwrap().ping().unwrap_err().to_string();
    assert!(err.contains("invalid peer certificate"), "{err}");
    assert!(err.contains("must name the host"), "{err}");
    // Plain Redis on a TLS port gets nowhere either.
    let (store, _clock) = tls.store(&format!("redis://127.0.0.1:{}", tls.port), None);
    assert!(store.unwrap().ping().is_err());
    // `#insecure` skips the check, which is allowed on loopback only.
    let (store, _clock) = tls.store(&format!("{url}/#insecure"), None);
    store.unwrap().ping().unwrap();
    let (store, _clock) = tls.store("rediss://redis.example:6380/#insecure", None);
    let err = store.unwrap_err();
    assert!(err.contains("loopback"), "{err}");
}
