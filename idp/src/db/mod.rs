//! Storage on diesel over two backends: SQLite (bundled, the embedded default) and
//! PostgreSQL, chosen from the database URL. One schema ([`schema`]) with types both share,
//! one migration folder per backend with the same names, both embedded in the binary.
//!
//! Queries are synchronous on an r2d2 pool; the server runs them on actix's blocking pool.

/// Insert `row` into `table` and write the audit line in one transaction, then give the row
/// as the domain's value (for tables whose row type has `into_domain`).
macro_rules! insert_audited {
    ($dir:expr, $table:expr, $row:expr, $audit:expr) => {{
        let row = $row;
        $dir.audited($audit, |c| {
            diesel::insert_into($table).values(&row).execute(c)?;
            Ok(())
        })?;
        row.into_domain()
    }};
}

/// Insert many rows in one statement on whichever backend the connection is (a batch insert
/// is not among the queries the `MultiConnection` writes for both).
macro_rules! insert_many {
    ($c:expr, $table:expr, $rows:expr) => {{
        let insert = diesel::insert_into($table).values($rows);
        match $c {
            $crate::db::DbConnection::Sqlite(c) => insert.execute(c),
            $crate::db::DbConnection::Postgres(c) => insert.execute(c),
        }
    }};
}

mod audit;
mod cache;
mod cleanup;
mod devices;
pub mod directory;
mod duo;
mod dynamic_ip;
mod groups;
mod imports;
mod las;
mod licences;
mod mergers;
mod registrations;
mod relying_parties;
mod roster_times;
pub mod schema;
mod schools;
mod settings;
mod staging;
pub mod standing;
mod substitutes;
mod thuis;
mod totp;
mod upstreams;
mod users;
mod webhooks;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use directory::DieselDirectory;

/// A connection to either backend. Queries written against it run on both.
#[derive(diesel::MultiConnection)]
#[allow(missing_debug_implementations)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConnection>>;
pub type DbConn = PooledConnection<ConnectionManager<DbConnection>>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Errors opening or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("LEERPOORT_DATABASE_URL: {0}")]
    Url(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migrate(String),
}

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite://path`, `sqlite::memory:` or `postgres(ql)://...`.
    pub fn of(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(DbError::Url(format!(
                "'{}' is not a database URL: expected sqlite://FILE or postgres://...",
                redact_url(url)
            )))
        }
    }
}

/// The URL diesel's connections take: SQLite wants a bare path.
fn connection_target(url: &str) -> String {
    match url.strip_prefix("sqlite://") {
        Some(path) => path.to_string(),
        None => url.strip_prefix("sqlite:").unwrap_or(url).to_string(),
    }
}

/// The URL without a password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Per-connection settings for SQLite: wait instead of failing on a busy database (set first,
/// so the rest waits too), foreign keys on, write-ahead log so readers do not block the
/// writer. The log mode is kept in the file, and [`prepare_sqlite_file`] sets it before the
/// pool opens its connections side by side, so none of them has to change it.
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                 PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Open a pool on `url`.
pub fn connect(url: &str, max_size: u32) -> Result<DbPool, DbError> {
    let backend = Backend::of(url)?;
    let manager = ConnectionManager::<DbConnection>::new(connection_target(url));
    // No test query on every checkout: a dropped connection is found by the statement it
    // fails, discarded, and the work retried (`DieselDirectory::read` and `tx`).
    let builder = Pool::builder()
        .max_size(max_size)
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10));
    let builder = match backend {
        Backend::Sqlite => {
            prepare_sqlite_file(&connection_target(url))?;
            builder.connection_customizer(Box::new(SqlitePragmas))
        }
        Backend::Postgres => builder,
    };
    builder
        .build(manager)
        .map_err(|e| DbError::Connect(redact_url(&e.to_string())))
}

/// Before the pool opens: create a new database file readable by its owner only (mode 0600;
/// SQLite gives its `-wal` and `-shm` files the same mode), and switch it to the write-ahead
/// log on one connection. Were the pool's first connections to switch it all at once, the
/// losers would fail with "database is locked".
fn prepare_sqlite_file(path: &str) -> Result<(), DbError> {
    use diesel::Connection as _;
    if path == ":memory:" || path.is_empty() || path.starts_with("file:") {
        return Ok(());
    }
    let file = std::path::Path::new(path);
    if !file.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        match options.open(file) {
            Ok(_) => {}
            // Another process made it just now: fine.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(DbError::Connect(format!("creating {path}: {e}"))),
        }
    }
    let mut conn =
        diesel::SqliteConnection::establish(path).map_err(|e| DbError::Connect(e.to_string()))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
        .map_err(|e| DbError::Connect(e.to_string()))
}

/// Create or upgrade the schema. Idempotent. Returns the names of the migrations it ran.
///
/// On PostgreSQL, nodes that start at the same moment (a cluster, a rolling upgrade) take
/// turns: each holds an advisory lock on the schema while it migrates, so the second finds the
/// migrations done instead of running them a second time and failing. (SQLite's writes are
/// serialised by the file lock already.)
pub fn migrate(pool: &DbPool) -> Result<Vec<String>, DbError> {
    const LOCK: &str = "hashtext('leerpoort-migrations:' || current_schema())";
    let mut conn = pool.get().map_err(|e| DbError::Connect(e.to_string()))?;
    let names = |ran: Vec<diesel::migration::MigrationVersion<'_>>| {
        ran.iter().map(|v| v.to_string()).collect::<Vec<_>>()
    };
    let ran = match &mut *conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(names),
        DbConnection::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({LOCK})"))
                .map_err(|e| DbError::Migrate(format!("taking the migration lock: {e}")))?;
            let ran = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
            let unlocked = c.batch_execute(&format!("SELECT pg_advisory_unlock({LOCK})"));
            if let Err(e) = unlocked {
                tracing::warn!(error = %e, "releasing the migration lock failed (it goes with the connection)");
            }
            ran
        }
    };
    ran.map_err(|e| DbError::Migrate(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_from_the_url() {
        assert_eq!(
            Backend::of("sqlite://leerpoort.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::of("postgres://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of("postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(Backend::of("mysql://u@h/db").is_err());
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example/leerpoort"),
            "postgres://app:***@db.example/leerpoort"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn sqlite_target_is_a_path() {
        assert_eq!(connection_target("sqlite://leerpoort.db"), "leerpoort.db");
        assert_eq!(connection_target("sqlite::memory:"), ":memory:");
    }
}
