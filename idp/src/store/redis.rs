//! The ephemeral store on Redis (`LEERPOORT_REDIS_URL`), so that several stateless nodes share
//! sessions, codes and rate limits.
//!
//! Layout in Redis, under an optional prefix (`LEERPOORT_REDIS_PREFIX`, see
//! [`RedisStore::with_prefix`]; none by default, the layout of earlier versions):
//!
//! * `{prefix}v:{key}` holds a value as 20 ASCII digits (its absolute expiry in milliseconds
//!   since the epoch, zero-padded, from the store's [`Clock`]) followed by the payload bytes.
//!   The key also gets a server-side TTL of the requested length so Redis collects it; whether
//!   a value is live is decided against the clock only.
//! * `{prefix}c:{window_ms}:{key}` holds a sliding counter: a sorted set of its events, each
//!   scored by its time in milliseconds (from the store's [`Clock`]); it gets a server-side TTL
//!   of the window length after its newest event.
//!
//! `take` is a single `GETDEL`, `put_if_absent` a small Lua script (so a logically expired
//! value counts as absent), `incr` a Lua script (drop what has slid out, add the event, trim to [`MAX_EVENTS`], count),
//! `count` a `ZCOUNT`. Redis 6.2 or later
//! is needed (for `GETDEL`).
//!
//! TLS: a `rediss://` URL is spoken over TLS (rustls), the server's certificate checked against
//! the public web roots built into Leerpoort (webpki-roots, as for HTTP) or, with
//! [`RedisOptions::ca_file`], against the roots in that file only. `rediss://HOST/#insecure`
//! (no check at all) is refused unless HOST is loopback ([`refuse_insecure_tls`]).
//!
//! Connections come from an `r2d2` pool. Connecting, reading, writing and waiting for a pooled
//! connection each time out after a couple of seconds, so `/readyz` answers quickly when Redis
//! is down. A pooled connection that fails with an I/O error is discarded; when the server had
//! closed it (a restart, an idle timeout) the command is sent once more on a new connection.
//! Should the first attempt have reached the server after all, that repeat errs on the safe
//! side: `take` then finds nothing, `incr` counts twice and `put_if_absent` reports `false`.
//! A command answered `READONLY` (a connection still on a primary that a failover demoted to a
//! replica, behind an endpoint that now leads to the new primary) did nothing: that connection
//! is discarded too, and the command sent once more on a new connection.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ::redis::{ConnectionLike as _, RedisError, RedisResult};
use broker::clock::Clock;
use broker::keyspace::Key;
use broker::store::{EphemeralStore, Lockout, StoreError, StoreResult, Tally};

use broker::store::window::{duration_millis, Window, MAX_EVENTS};

use super::RedisOptions;

/// Width of the expiry in front of every stored value.
const EXPIRY_DIGITS: usize = 20;
/// Timeout of opening a TCP connection to Redis (and its handshake).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Timeout of every read and write on a connection.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// How long to wait for a connection from the pool.
const POOL_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections per node.
const POOL_MAX_SIZE: u32 = 16;
/// Idle connections kept open.
const POOL_MIN_IDLE: u32 = 2;
/// Server-side TTLs are capped at about a hundred years (Redis rejects expiries that overflow).
const MAX_SERVER_TTL_MS: i64 = 100 * 365 * 24 * 3600 * 1000;

/// Lua functions the scripts share; each script is sent with them and runs atomically.
/// `live(key, now)`: a value is at `key` whose expiry (its first 20 digits) is after `now`
/// (20 digits); equal-width zero-padded decimals compare as strings like the numbers they
/// spell. `sliding_incr(key, cutoff, now, member, keep, ttl)`: count one event (`member`, at
/// `now`) in the sorted set at `key`, dropping the events at or before `cutoff` and all but the
/// newest `keep`, give the set a server-side TTL of `ttl` milliseconds, and return the count
/// after `cutoff`.
const LUA_FUNCTIONS: &str = r"
local function live(key, now)
  local cur = redis.call('GET', key)
  if cur and string.len(cur) >= 20 then
    local expires_at = string.sub(cur, 1, 20)
    return string.find(expires_at, '^%d+$') ~= nil and expires_at > now
  end
  return false
end
local function sliding_incr(key, cutoff, now, member, keep, ttl)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  redis.call('ZADD', key, now, member)
  keep = tonumber(keep)
  local n = redis.call('ZCARD', key)
  if n > keep then
    redis.call('ZREMRANGEBYRANK', key, 0, n - keep - 1)
  end
  redis.call('PEXPIRE', key, ttl)
  return redis.call('ZCOUNT', key, '(' .. cutoff, '+inf')
end
";

/// `KEYS[1]` the value key; `ARGV[1]` now (20 digits), `ARGV[2]` the encoded value, `ARGV[3]`
/// the server-side TTL in milliseconds. Returns 1 when stored, 0 when a live value is there.
const PUT_IF_ABSENT_LUA: &str = r"
if live(KEYS[1], ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
";

/// `KEYS[1]` the counter; `ARGV[1]` the cutoff (events at or before it no longer count),
/// `ARGV[2]` now, `ARGV[3]` a unique member for this event, `ARGV[4]` the most events kept,
/// `ARGV[5]` the server-side TTL in milliseconds. Returns the count after adding the event.
const SLIDING_INCR_LUA: &str = r"
return sliding_incr(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
";

/// `KEYS[1]` the lock's value key, `KEYS[2]` the counter; `ARGV[1]` now (20 digits),
/// `ARGV[2..6]` as for [`SLIDING_INCR_LUA`]'s `ARGV[1..5]`, `ARGV[7]` the limit, `ARGV[8]` the
/// encoded lock value, `ARGV[9]` its server-side TTL. Returns `{2, 0}` when already locked,
/// `{1, count}` when this event set the lock, `{0, count}` otherwise.
const INCR_AND_LOCK_LUA: &str = r"
if live(KEYS[1], ARGV[1]) then
  return {2, 0}
end
local count = sliding_incr(KEYS[2], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
if count >= tonumber(ARGV[7]) then
  redis.call('SET', KEYS[1], ARGV[8], 'PX', ARGV[9])
  redis.call('DEL', KEYS[2])
  return {1, count}
end
return {0, count}
";

/// A script: `body` after the [`LUA_FUNCTIONS`] it calls.
fn script(body: &str) -> ::redis::Script {
    ::redis::Script::new(&[LUA_FUNCTIONS, body].concat())
}

/// The [`EphemeralStore`] on Redis. Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct RedisStore {
    pool: r2d2::Pool<Manager>,
    manager: Manager,
    clock: Arc<dyn Clock>,
    prefix: String,
    put_if_absent: ::redis::Script,
    sliding_incr: ::redis::Script,
    incr_and_lock: ::redis::Script,
    /// What to say in messages and errors: secrets stripped from the URL.
    redaction: Arc<Redaction>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.redaction.target)
            .field("prefix", &self.prefix)
            .field("pool", &self.pool.state())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://[user:password@]host[:port][/db]`, or a
    /// `redis+unix://` socket), deciding expiry against `clock`.
    ///
    /// This does not wait for Redis: connections are opened in the background and on demand,
    /// so a node starts while Redis is still down; until Redis answers, every operation fails
    /// with [`StoreError::Unavailable`] and [`ping`](EphemeralStore::ping) reports it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the URL is invalid. No message of this store ever
    /// contains the credentials of the URL.
    pub fn connect(url: &str, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        Self::connect_with(url, &RedisOptions::default(), clock)
    }

    /// As [`RedisStore::connect`], with the key prefix and the CA file of `options`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the URL is invalid, is `#insecure` off loopback (see
    /// [`refuse_insecure_tls`]), or the CA file cannot be read, holds no PEM certificate or
    /// goes with a URL that is not `rediss://`.
    pub fn connect_with(
        url: &str,
        options: &RedisOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let redaction = Arc::new(Redaction::of(url));
        let refused = |e: &dyn fmt::Display| {
            StoreError::Unavailable(
                redaction.scrub(&format!("invalid redis URL {}: {e}", redaction.target)),
            )
        };
        refuse_insecure_tls(url).map_err(|e| refused(&e))?;
        let client = match &options.ca_file {
            None => ::redis::Client::open(url),
            Some(path) => {
                let root_cert = read_ca_file(path).map_err(|e| refused(&e))?;
                let certificates = ::redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                };
                ::redis::Client::build_with_tls(url, certificates)
            }
        }
        .map_err(|e| refused(&e))?;
        let manager = Manager { client };
        let pool = r2d2::Pool::builder()
            .max_size(POOL_MAX_SIZE)
            .min_idle(Some(POOL_MIN_IDLE))
            .connection_timeout(POOL_TIMEOUT)
            // A PING per checkout would double the round trips; broken connections are
            // detected by the command itself instead (see `run`).
            .test_on_check_out(false)
            .error_handler(Box::new(LogErrors {
                redaction: Arc::clone(&redaction),
            }))
            .build_unchecked(manager.clone());
        Ok(Self {
            pool,
            manager,
            clock,
            prefix: options.prefix.clone(),
            put_if_absent: script(PUT_IF_ABSENT_LUA),
            sliding_incr: script(SLIDING_INCR_LUA),
            incr_and_lock: script(INCR_AND_LOCK_LUA),
            redaction,
        })
    }

    /// The same store with every key prefixed by `prefix` (verbatim: include a separator,
    /// e.g. `"leerpoort:"`), so that several deployments or test runs share one Redis
    /// without seeing each other's keys. The connection pool is shared.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The prefix in front of every key (empty by default).
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn value_key(&self, key: &str) -> String {
        format!("{}v:{key}", self.prefix)
    }

    fn counter_key(&self, key: &str, window: Window) -> String {
        format!("{}c:{}:{key}", self.prefix, window.len_ms)
    }

    /// Run `op` on a pooled connection; see the module documentation for the one retry.
    fn run<T>(
        &self,
        op: impl Fn(&mut ::redis::Connection) -> RedisResult<T>,
    ) -> Result<T, StoreError> {
        let conn = self.pool.get().map_err(|e| self.unavailable(&e))?;
        self.run_on(conn, op)
    }

    /// Run `op` on `conn`, once more on a new connection when the server had closed `conn`.
    fn run_on<T>(
        &self,
        mut conn: r2d2::PooledConnection<Manager>,
        op: impl Fn(&mut ::redis::Connection) -> RedisResult<T>,
    ) -> Result<T, StoreError> {
        let err = match op(&mut conn.inner) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let on_a_replica =
            err.kind() == ::redis::ErrorKind::Server(::redis::ServerErrorKind::ReadOnly);
        if err.is_io_error() || err.is_unrecoverable_error() || on_a_replica {
            // The reply may still be on its way, or the server is no longer the primary:
            // never reuse this connection.
            conn.poisoned = true;
        }
        if !err.is_connection_dropped() && !on_a_replica {
            return Err(self.unavailable(&err));
        }
        drop(conn);
        // The server had closed it, or was demoted. Other idle connections may be just as
        // stale, so go around the pool for the second attempt.
        let mut fresh =
            r2d2::ManageConnection::connect(&self.manager).map_err(|e| self.unavailable(&e))?;
        op(&mut fresh.inner).map_err(|e| self.unavailable(&e))
    }

    fn unavailable(&self, err: &dyn fmt::Display) -> StoreError {
        let err = err.to_string();
        let hint = if err.contains("UnknownIssuer") {
            " (the Redis server's certificate is not trusted: give its CA in \
             LEERPOORT_REDIS_CA_FILE)"
        } else if err.contains("invalid peer certificate") {
            " (the Redis server's certificate must name the host of LEERPOORT_REDIS_URL and \
             chain to a trusted root: the public web roots or LEERPOORT_REDIS_CA_FILE)"
        } else {
            ""
        };
        StoreError::Unavailable(
            self.redaction
                .scrub(&format!("redis at {}: {err}{hint}", self.redaction.target)),
        )
    }

    fn now(&self) -> i64 {
        self.clock.now_millis()
    }
}

impl EphemeralStore for RedisStore {
    fn incr_and_lock(&self, rule: &Lockout<'_>) -> Result<Tally, StoreError> {
        let (counter, lock) = (rule.counter.to_string(), rule.lock.to_string());
        let (counter, lock) = (counter.as_str(), lock.as_str());
        let (limit, lock_value) = (rule.limit, rule.lock_value);
        let now = self.now();
        let window = Window::current(rule.window, now);
        let counter_key = self.counter_key(counter, window);
        let lock_key = self.value_key(lock);
        let member = format!("{now}:{}", uuid::Uuid::new_v4().simple());
        let lock_ms = duration_millis(rule.lock_ttl);
        let encoded = encode(now.saturating_add(lock_ms), lock_value);
        let (what, count): (i64, u64) = self.run(|c| {
            self.incr_and_lock
                .key(&lock_key)
                .key(&counter_key)
                .arg(expiry_digits(now))
                .arg(window.cutoff_ms)
                .arg(now)
                .arg(&member)
                .arg(MAX_EVENTS)
                .arg(server_ttl(window.len_ms))
                .arg(limit)
                .arg(&encoded)
                .arg(server_ttl(lock_ms))
                .invoke(c)
        })?;
        Ok(match what {
            2 => Tally::AlreadyLocked,
            1 => Tally::LockedNow(count),
            _ => Tally::Counted(count),
        })
    }

    fn put(&self, key: &Key<'_>, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let ttl_ms = duration_millis(ttl);
        let encoded = encode(self.now().saturating_add(ttl_ms), value);
        let k = self.value_key(key);
        self.run(|c| {
            ::redis::cmd("SET")
                .arg(&k)
                .arg(&encoded)
                .arg("PX")
                .arg(server_ttl(ttl_ms))
                .query::<()>(c)
        })
    }

    fn put_if_absent(&self, key: &Key<'_>, value: &[u8], ttl: Duration) -> StoreResult<bool> {
        let key = key.to_string();
        let key = key.as_str();
        let now = self.now();
        let ttl_ms = duration_millis(ttl);
        let encoded = encode(now.saturating_add(ttl_ms), value);
        let now_digits = expiry_digits(now);
        let k = self.value_key(key);
        let stored: i64 = self.run(|c| {
            self.put_if_absent
                .key(&k)
                .arg(&now_digits)
                .arg(&encoded)
                .arg(server_ttl(ttl_ms))
                .invoke(c)
        })?;
        Ok(stored == 1)
    }

    fn get(&self, key: &Key<'_>) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let k = self.value_key(key);
        let raw: Option<Vec<u8>> = self.run(|c| ::redis::cmd("GET").arg(&k).query(c))?;
        raw.map_or(Ok(None), |raw| decode(raw, self.now()))
    }

    fn take(&self, key: &Key<'_>) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let k = self.value_key(key);
        let raw: Option<Vec<u8>> = self.run(|c| ::redis::cmd("GETDEL").arg(&k).query(c))?;
        raw.map_or(Ok(None), |raw| decode(raw, self.now()))
    }

    fn delete(&self, key: &Key<'_>) -> Result<(), StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let k = self.value_key(key);
        self.run(|c| ::redis::cmd("DEL").arg(&k).query::<()>(c))
    }

    fn incr(&self, key: &Key<'_>, window: Duration) -> Result<u64, StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let now = self.now();
        let window = Window::current(window, now);
        let k = self.counter_key(key, window);
        // Unique, so that two events in one millisecond are two members.
        let member = format!("{now}:{}", uuid::Uuid::new_v4().simple());
        let keep_ms = server_ttl(window.len_ms);
        self.run(|c| {
            self.sliding_incr
                .key(&k)
                .arg(window.cutoff_ms)
                .arg(now)
                .arg(&member)
                .arg(MAX_EVENTS)
                .arg(keep_ms)
                .invoke(c)
        })
    }

    fn count(&self, key: &Key<'_>, window: Duration) -> Result<u64, StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let window = Window::current(window, self.now());
        let k = self.counter_key(key, window);
        self.run(|c| {
            ::redis::cmd("ZCOUNT")
                .arg(&k)
                .arg(format!("({}", window.cutoff_ms))
                .arg("+inf")
                .query(c)
        })
    }

    fn reset_count(&self, key: &Key<'_>, window: Duration) -> Result<(), StoreError> {
        let key = key.to_string();
        let key = key.as_str();
        let window = Window::current(window, self.now());
        let k = self.counter_key(key, window);
        self.run(|c| ::redis::cmd("DEL").arg(&k).query::<()>(c))
    }

    fn ping(&self) -> Result<(), StoreError> {
        let ping = |c: &mut ::redis::Connection| ::redis::cmd("PING").query::<()>(c);
        match self.pool.try_get() {
            Some(conn) => self.run_on(conn, ping),
            // No idle connection: open one of its own rather than wait for the pool, so that
            // `/readyz` reports a refused connection at once (and a silent host within the
            // connect timeout).
            None => {
                let mut conn = r2d2::ManageConnection::connect(&self.manager)
                    .map_err(|e| self.unavailable(&e))?;
                ping(&mut conn.inner).map_err(|e| self.unavailable(&e))
            }
        }
    }
}

/// Refuses `rediss://HOST/#insecure` (TLS without any check of the server's certificate)
/// unless HOST is loopback (`localhost`, `127.0.0.0/8`, `::1`): a TLS tunnel on the same
/// machine, a test. Elsewhere anyone on the path could read and change sessions; trust the
/// server's CA instead (`LEERPOORT_REDIS_CA_FILE`).
///
/// # Errors
///
/// Why it is refused, for a configuration error. A URL that does not parse passes here (the
/// Redis client reports it).
pub fn refuse_insecure_tls(url: &str) -> Result<(), String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Ok(());
    };
    if parsed.scheme() != "rediss" || parsed.fragment() != Some("insecure") {
        return Ok(());
    }
    // Hosts of a `rediss://` URL are opaque to the URL parser: an IPv4 address is a "domain".
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if loopback {
        Ok(())
    } else {
        Err(
            "#insecure turns off the check of the Redis server's certificate and is refused \
             except on loopback (localhost, 127.0.0.1, ::1); trust the server's CA with \
             LEERPOORT_REDIS_CA_FILE instead"
                .to_owned(),
        )
    }
}

/// The PEM roots in `path`, for `rediss://` connections.
fn read_ca_file(path: &Path) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(path)
        .map_err(|e| format!("CA file {}: cannot read it: {e}", path.display()))?;
    let marker = b"-----BEGIN CERTIFICATE-----";
    if !pem.windows(marker.len()).any(|w| w == marker) {
        return Err(format!(
            "CA file {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
            path.display()
        ));
    }
    Ok(pem)
}

/// The server-side TTL for a logical TTL: Redis wants at least one millisecond.
fn server_ttl(ttl_ms: i64) -> i64 {
    ttl_ms.clamp(1, MAX_SERVER_TTL_MS)
}

/// An expiry as the fixed-width digits stored in front of a value (negative times, before
/// 1970, are stored as zero).
fn expiry_digits(ms: i64) -> String {
    format!("{:0width$}", ms.max(0), width = EXPIRY_DIGITS)
}

fn encode(expires_at: i64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(EXPIRY_DIGITS + value.len());
    out.extend_from_slice(expiry_digits(expires_at).as_bytes());
    out.extend_from_slice(value);
    out
}

/// The payload of a stored value if it is live at `now`.
fn decode(mut raw: Vec<u8>, now: i64) -> Result<Option<Vec<u8>>, StoreError> {
    let digits = raw.get(..EXPIRY_DIGITS).ok_or(StoreError::Corrupt)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(StoreError::Corrupt);
    }
    let expires_at = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or(StoreError::Corrupt)?;
    if expires_at <= now {
        return Ok(None);
    }
    raw.drain(..EXPIRY_DIGITS);
    Ok(Some(raw))
}

/// A pooled connection; `poisoned` ones are closed instead of going back to the pool.
struct Conn {
    inner: ::redis::Connection,
    poisoned: bool,
}

/// Opens connections with timeouts (the `r2d2` support in `redis` itself has none on
/// connecting, reading or writing).
#[derive(Clone)]
struct Manager {
    client: ::redis::Client,
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager").finish_non_exhaustive()
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = RedisError;

    fn connect(&self) -> Result<Conn, RedisError> {
        let inner = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        inner.set_read_timeout(Some(IO_TIMEOUT))?;
        inner.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(Conn {
            inner,
            poisoned: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), RedisError> {
        ::redis::cmd("PING").query::<()>(&mut conn.inner)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.poisoned || !conn.inner.is_open()
    }
}

/// Logs the pool's background connection errors (through `tracing`, without credentials).
#[derive(Debug)]
struct LogErrors {
    redaction: Arc<Redaction>,
}

impl r2d2::HandleError<RedisError> for LogErrors {
    fn handle_error(&self, error: RedisError) {
        tracing::warn!(
            target = %self.redaction.target,
            error = %self.redaction.scrub(&error.to_string()),
            "redis connection failed"
        );
    }
}

/// A Redis URL made fit for messages.
struct Redaction {
    /// Scheme, host, port and path of the URL: no user info, query or fragment.
    target: String,
    /// Credentials found in the URL, to blank out of any message.
    secrets: Vec<String>,
}

impl fmt::Debug for Redaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redaction")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Redaction {
    fn of(url: &str) -> Self {
        let without_fragment = url.split('#').next().unwrap_or_default();
        let (base, query) = match without_fragment.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (without_fragment, None),
        };
        let mut secrets = Vec::new();
        let target = match base.split_once("://") {
            Some((scheme, rest)) => {
                let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                let host = match authority.rsplit_once('@') {
                    Some((userinfo, host)) => {
                        secrets.push(userinfo.to_owned());
                        secrets.push(percent_decode(userinfo));
                        if let Some((_, password)) = userinfo.split_once(':') {
                            secrets.push(password.to_owned());
                            secrets.push(percent_decode(password));
                        }
                        host
                    }
                    None => authority,
                };
                format!("{scheme}://{host}{path}")
            }
            // Not a URL: nothing of it is safe to repeat.
            None => "(unparsable URL)".to_owned(),
        };
        for pair in query.unwrap_or_default().split('&') {
            if let Some((name, value)) = pair.split_once('=') {
                if matches!(name, "pass" | "password" | "user" | "username") {
                    secrets.push(value.to_owned());
                    secrets.push(percent_decode(value));
                }
            }
        }
        secrets.retain(|s| !s.is_empty());
        // Longest first, so that a secret containing another is blanked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { target, secrets }
    }

    fn scrub(&self, message: &str) -> String {
        self.secrets.iter().fold(message.to_owned(), |m, secret| {
            m.replace(secret.as_str(), "***")
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_strips_credentials() {
        let r = Redaction::of("redis://leerpoort:s%40cret@redis.school.nl:6380/2?protocol=3");
        assert_eq!(r.target, "redis://redis.school.nl:6380/2");
        let msg = r.scrub("auth failed for leerpoort:s%40cret and s@cret");
        assert!(
            !msg.contains("s@cret") && !msg.contains("s%40cret"),
            "{msg}"
        );

        let r = Redaction::of("redis+unix:///run/redis.sock?db=1&pass=hunter22");
        assert_eq!(r.target, "redis+unix:///run/redis.sock");
        assert_eq!(r.scrub("x hunter22 y"), "x *** y");

        assert_eq!(Redaction::of("user:pw@host").target, "(unparsable URL)");
    }

    #[test]
    fn encoding_round_trips_and_orders() {
        let raw = encode(1_700_000_000_123, b"\xff\x00abc");
        assert_eq!(&raw[..EXPIRY_DIGITS], b"00000001700000000123");
        assert_eq!(
            decode(raw.clone(), 1_700_000_000_122).ok().flatten(),
            Some(b"\xff\x00abc".to_vec())
        );
        assert_eq!(decode(raw, 1_700_000_000_123).ok().flatten(), None);
        assert!(matches!(
            decode(b"12".to_vec(), 0),
            Err(StoreError::Corrupt)
        ));
        assert!(expiry_digits(999) < expiry_digits(1000));
        assert_eq!(expiry_digits(-5), expiry_digits(0));
    }

    #[test]
    fn insecure_tls_only_on_loopback() {
        for ok in [
            "rediss://127.0.0.1:6380/#insecure",
            "rediss://127.3.2.1/#insecure",
            "rediss://localhost:6380/0#insecure",
            "rediss://[::1]:6380/#insecure",
            "rediss://redis.example:6380/",
            "redis://redis.example:6379/",
            "redis+unix:///run/redis.sock",
        ] {
            assert_eq!(refuse_insecure_tls(ok), Ok(()), "{ok}");
        }
        for refused in [
            "rediss://redis.example:6380/#insecure",
            "rediss://u:pw@10.0.0.5/#insecure",
            "rediss://[2001:db8::1]/#insecure",
            "rediss://localhost.example/#insecure",
        ] {
            let err = refuse_insecure_tls(refused).err().unwrap_or_default();
            assert!(err.contains("loopback"), "{refused}: {err}");
        }
        let err = RedisStore::connect(
            "rediss://u:topsecret@redis.example/#insecure",
            Arc::new(broker::clock::SystemClock),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("loopback"), "{err}");
        assert!(!err.contains("topsecret"), "{err}");
    }

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let Ok(dir) = tempfile::tempdir() else {
            return;
        };
        let path = dir.path().join("ca.pem");
        let connect = |url: &str| {
            let options = RedisOptions {
                prefix: String::new(),
                ca_file: Some(path.clone()),
            };
            RedisStore::connect_with(url, &options, Arc::new(broker::clock::SystemClock))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(connect("rediss://127.0.0.1:1").contains("cannot read"));
        assert!(std::fs::write(&path, "not a certificate").is_ok());
        assert!(connect("rediss://127.0.0.1:1").contains("no PEM certificate"));
    }

    #[test]
    fn errors_hide_the_password() {
        let err = RedisStore::connect(
            "redis://admin:topsecret@127.0.0.1:notaport/0",
            Arc::new(broker::clock::SystemClock),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.starts_with("ephemeral store unavailable"), "{err}");
        assert!(!err.contains("topsecret"), "{err}");

        // Port 1 on loopback: refused at once.
        let err = RedisStore::connect(
            "redis://admin:topsecret@127.0.0.1:1/0",
            Arc::new(broker::clock::SystemClock),
        )
        .and_then(|s| s.ping())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("redis://127.0.0.1:1/0"), "{err}");
        assert!(
            !err.contains("topsecret") && !err.contains("admin"),
            "{err}"
        );
    }
}
