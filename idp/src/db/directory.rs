//! [`broker::repo::Directory`] on diesel. Row structs mirror the tables; `into_domain`
//! functions turn them into the broker's types and refuse rows that break the domain's rules.
//!
//! This file holds [`DieselDirectory`] itself (the pool, its caches, transactions) and the
//! helpers the other files share; each sub-trait of `Directory` has a file of its own next to
//! it (`schools.rs`, `groups.rs`, `users.rs`, ..., `devices.rs`) with its row structs.

use std::str::FromStr;
use std::sync::Arc;

use broker::clock::Clock;
use broker::model::{AuditEvent, RelyingParty, School, User};
use broker::repo::{Directory, RepoError, RepoResult};
use claims::InstellingRef;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use uuid::Uuid;

use super::audit::write_audit;
use super::cache::TtlCache;
use super::{DbConn, DbConnection, DbPool};

/// How long a relying party, school or user read from the database is reused. They are read
/// on every authorize and token request and change rarely; a change made on this node is seen
/// at once, one made on another node within this time. (Registrations — a school's consent —
/// are never cached.)
pub(super) const RP_CACHE_TTL_SECS: i64 = 10;
pub(super) const RP_CACHE_MAX: usize = 10_000;

/// The directory on a diesel pool (SQLite or PostgreSQL).
#[derive(Clone)]
pub struct DieselDirectory {
    pool: DbPool,
    pub(super) rp_cache: Arc<TtlCache<String, RelyingParty>>,
    pub(super) school_cache: Arc<TtlCache<String, School>>,
    pub(super) user_cache: Arc<TtlCache<Uuid, User>>,
}

impl std::fmt::Debug for DieselDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselDirectory").finish_non_exhaustive()
    }
}

impl DieselDirectory {
    /// The directory on `pool`; its caches are timed by `clock`.
    pub fn new(pool: DbPool, clock: Arc<dyn Clock>) -> Self {
        Self {
            pool,
            rp_cache: Arc::new(TtlCache::new(
                clock.clone(),
                RP_CACHE_TTL_SECS,
                RP_CACHE_MAX,
            )),
            school_cache: Arc::new(TtlCache::new(
                clock.clone(),
                RP_CACHE_TTL_SECS,
                RP_CACHE_MAX,
            )),
            user_cache: Arc::new(TtlCache::new(clock, RP_CACHE_TTL_SECS, RP_CACHE_MAX)),
        }
    }

    pub(super) fn cached_rp(&self, public_id: &str) -> Option<RelyingParty> {
        self.rp_cache.get(public_id)
    }

    pub(super) fn remember_rp(&self, rp: &RelyingParty) {
        self.rp_cache.put(rp.public_id().to_string(), rp.clone());
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    pub(super) fn conn(&self) -> RepoResult<DbConn> {
        self.pool
            .get()
            .map_err(|e| RepoError::Backend(format!("no database connection: {e}")))
    }

    /// Run `f` on a connection, without a transaction: reads on the hot path, and single
    /// statements that may run twice (touching a timestamp, removing what expired).
    ///
    /// The pool does not test a connection before handing it out (a round trip to the
    /// database on every checkout, a third of PostgreSQL's work in a sign-in; see
    /// `docs/performance.md`). A connection the database dropped (a restart, a failover, an
    /// idle timeout) shows itself by failing; it is then marked broken, so the pool discards
    /// it, and `f` runs again on another connection, as many times as the pool has
    /// connections (each may be one of the dropped ones) and once more.
    pub(super) fn read<T>(
        &self,
        f: impl FnMut(&mut DbConnection) -> Result<T, TxError>,
    ) -> RepoResult<T> {
        self.live(f).map(|(_, done)| done)
    }

    /// A connection on which `first` succeeded, and what it gave: a connection found dropped
    /// is discarded and `first` runs again on another (see [`read`](Self::read)).
    fn live<T>(
        &self,
        mut first: impl FnMut(&mut DbConnection) -> Result<T, TxError>,
    ) -> RepoResult<(DbConn, T)> {
        let mut tries = self.pool.max_size() + 1;
        loop {
            let mut conn = self.conn()?;
            match first(&mut conn) {
                Err(e) if lost(&mut conn, &e) && tries > 1 => tries -= 1,
                done => return done.map(|t| (conn, t)).map_err(RepoError::from),
            }
        }
    }

    /// Run the reads `f` as of one moment where that is cheap: on SQLite in a deferred
    /// transaction (a snapshot, which never takes the write lock); on PostgreSQL as [`read`]
    /// does, each statement seeing what was committed when it began, which is all a `BEGIN` in
    /// PostgreSQL's default isolation would give, without its two round trips. For lists
    /// completed by a second query (users and their roles): a user changed in between is
    /// shown as the second query finds it.
    ///
    /// [`read`]: Self::read
    pub(super) fn snapshot<T>(
        &self,
        mut f: impl FnMut(&mut DbConnection) -> Result<T, TxError>,
    ) -> RepoResult<T> {
        self.read(|c| match c {
            DbConnection::Sqlite(_) => c.transaction::<T, TxError, _>(&mut f),
            DbConnection::Postgres(_) => f(c),
        })
    }

    /// Run `f` in one transaction.
    ///
    /// A connection found dropped when the transaction begins is replaced, as in [`read`]:
    /// nothing was sent yet, so nothing can have happened twice. A connection lost later is
    /// the caller's error: whether the commit was made cannot be known.
    ///
    /// On SQLite the transaction begins `IMMEDIATE`: it takes the write lock first, waiting
    /// for it as long as the busy timeout allows. A deferred transaction reads, and when it
    /// then writes after another connection (another request, or the command line beside a
    /// running server) committed in between, SQLite refuses at once with "database is
    /// locked" (its snapshot is stale, so waiting cannot help). Reads that want one moment
    /// use [`snapshot`](Self::snapshot) instead.
    ///
    /// [`read`]: Self::read
    pub(super) fn tx<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
    ) -> RepoResult<T> {
        super::standing::forget();
        let (mut conn, ()) = self.live(|c| Ok(begin(c)?))?;
        finish(&mut conn, f)
    }

    /// Run `change` and write `audit` in one transaction: a change without its audit line
    /// cannot happen.
    pub(super) fn audited<T>(
        &self,
        audit: AuditEvent,
        change: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
    ) -> RepoResult<T> {
        self.tx(|c| {
            let done = change(c)?;
            write_audit(c, audit)?;
            Ok(done)
        })
    }

    /// The row `query` finds (it ends in `first`), if any, as the domain's value.
    pub(super) fn find<R, T>(
        &self,
        mut query: impl FnMut(&mut DbConnection) -> QueryResult<R>,
        into_domain: impl FnOnce(R) -> RepoResult<T>,
    ) -> RepoResult<Option<T>> {
        self.read(|c| Ok(query(c).optional()?))?
            .map(into_domain)
            .transpose()
    }

    /// The rows `query` loads, as the domain's values.
    pub(super) fn load_all<R, T>(
        &self,
        mut query: impl FnMut(&mut DbConnection) -> QueryResult<Vec<R>>,
        into_domain: impl FnMut(R) -> RepoResult<T>,
    ) -> RepoResult<Vec<T>> {
        self.read(|c| Ok(query(c)?))?
            .into_iter()
            .map(into_domain)
            .collect()
    }
}

/// Did the database drop connection `c` (rather than refuse the statement)? If so, `c` is
/// marked broken, so that the pool discards it instead of handing it out again: diesel marks
/// only some of the ways a connection is found dropped (not a failed send or prepare).
fn lost(c: &mut DbConnection, e: &TxError) -> bool {
    use diesel::connection::TransactionManager;
    let dropped = matches!(
        e,
        TxError::Diesel(DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ))
    );
    if dropped {
        Manager::transaction_manager_status_mut(c).set_in_error();
    }
    dropped
}

/// Begin a transaction on `c`: `BEGIN IMMEDIATE` on SQLite (see [`DieselDirectory::tx`]),
/// `BEGIN` on PostgreSQL.
fn begin(c: &mut DbConnection) -> QueryResult<()> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match c {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        DbConnection::Postgres(_) => Manager::begin_transaction(c),
    }
}

/// The transaction manager of [`DbConnection`]: each backend's own, which counts the
/// transaction [`begin`] opened.
type Manager = <DbConnection as diesel::Connection>::TransactionManager;

/// Run `f` in the transaction [`begin`] opened on `c`, and commit it, or roll it back when `f`
/// fails.
fn finish<T>(
    c: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
) -> RepoResult<T> {
    use diesel::connection::TransactionManager;
    match f(c) {
        Ok(done) => match Manager::commit_transaction(c) {
            Ok(()) => Ok(done),
            Err(e) => {
                let e = TxError::Diesel(e);
                lost(c, &e);
                Err(RepoError::from(e))
            }
        },
        Err(e) => {
            // A rollback that fails leaves the connection broken, and the pool discards it;
            // the caller learns what went wrong first.
            if !lost(c, &e) {
                let _ = Manager::rollback_transaction(c);
            }
            Err(RepoError::from(e))
        }
    }
}

/// Errors inside a transaction: a domain error or a diesel error (which rolls back).
#[derive(Debug)]
pub(super) enum TxError {
    Repo(RepoError),
    Diesel(DieselError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        Self::Diesel(e)
    }
}

impl From<RepoError> for TxError {
    fn from(e: RepoError) -> Self {
        Self::Repo(e)
    }
}

impl From<TxError> for RepoError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Repo(r) => r,
            TxError::Diesel(d) => map_diesel(d),
        }
    }
}

/// Turn a uniqueness violation into a message naming the field.
pub(super) fn map_diesel(e: DieselError) -> RepoError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let what = format!(
                "{} {}",
                info.constraint_name().unwrap_or_default(),
                info.message()
            );
            let field = [
                ("brin6", "an active school already has this BRIN6"),
                ("email", "this e-mail address is already in use"),
                ("eck_id", "this ECK-iD is already in use"),
                (
                    "las_key",
                    "this school already has a user with this LAS key",
                ),
                (
                    "school_groups",
                    "this school already has a group with this key",
                ),
                (
                    "client_id",
                    "a relying party with this client id already exists",
                ),
                (
                    "entity_id",
                    "a relying party with this entity id already exists",
                ),
                (
                    "bestuursnummer",
                    "a school board with this bestuursnummer already exists",
                ),
                ("upstreams", "an upstream with this name already exists"),
            ]
            .iter()
            .find(|(needle, _)| what.contains(needle))
            .map(|(_, msg)| (*msg).to_string())
            .unwrap_or_else(|| format!("already exists ({})", info.message()));
            RepoError::Conflict(field)
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            RepoError::NotFound(format!(
                "a referenced record does not exist ({})",
                info.message()
            ))
        }
        DieselError::NotFound => RepoError::NotFound("not found".into()),
        other => RepoError::Backend(other.to_string()),
    }
}

pub(super) fn corrupt(what: &str, detail: impl std::fmt::Display) -> RepoError {
    RepoError::Backend(format!("stored {what} is malformed: {detail}"))
}

pub(super) fn parse_uuid(s: &str) -> RepoResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| corrupt("id", e))
}

pub(super) fn parse_ref(s: &str) -> RepoResult<InstellingRef> {
    InstellingRef::from_str(s).map_err(|e| corrupt("INSTELLING_REF", e))
}

pub(super) fn json_list(s: &str) -> RepoResult<Vec<String>> {
    serde_json::from_str(s).map_err(|e| corrupt("list", e))
}

pub(super) fn to_json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

impl Directory for DieselDirectory {
    fn ping(&self) -> RepoResult<()> {
        self.read(|c| Ok(diesel::sql_query("SELECT 1").execute(c)?))
            .map(|_| ())
    }
}
