//! The cleanup of expired rows on a big database: 1,000,000 audit lines (half of them older
//! than a 365-day retention) and 1,000,000 activation/reset links of home accounts (every
//! other one expired, so expired and live rows are mixed on every page of the table), removed
//! the way the hourly job removes them: at most 10,000 rows per statement, each statement on
//! its own. Printed per kind: rows removed, the total time, rows per second, the number of
//! statements and the longest single statement (the longest time one statement held the
//! table). A criterion loop would be the wrong tool for a one-shot delete; this runs once.
//!
//! On SQLite (a file in a temporary directory), and on PostgreSQL when
//! `LEERPOORT_BENCH_DATABASE_URL` is set (`postgres://postgres@127.0.0.1/test`; a fresh schema,
//! dropped afterwards). `ROWS=100000` makes it smaller.
//!
//! `cargo bench -p idp --bench cleanup`; results: docs/performance.md.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use broker::clock::{Clock, SystemClock};
use broker::repo::{Cleanup, CleanupPolicy, CLEANUP_BATCH};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use idp::db::{self, DbConnection, DieselDirectory};

const DAY: i64 = 86_400;
const RETENTION_DAYS: u32 = 365;

enum Place {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema { admin_url: String, schema: String },
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Place::Schema { admin_url, schema } = self {
            if let Ok(mut c) = diesel::PgConnection::establish(admin_url) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// `n` rows numbered `i` from 0: the row source of an `INSERT ... SELECT` on each backend.
fn numbers(c: &DbConnection, n: u64) -> (String, String) {
    let last = n - 1;
    match c {
        DbConnection::Sqlite(_) => (
            format!("WITH RECURSIVE nums(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM nums WHERE i < {last}) "),
            "FROM nums".to_string(),
        ),
        DbConnection::Postgres(_) => (String::new(), format!("FROM generate_series(0, {last}) AS nums(i)")),
    }
}

fn fill(c: &mut DbConnection, rows: u64, now: i64) {
    let half = rows / 2;
    let old = now - (i64::from(RETENTION_DAYS) + 30) * DAY;
    let recent = now - 30 * DAY;
    let (with, from) = numbers(c, rows);
    // Audit lines in the order they were written: the oldest half first, as a real trail.
    c.batch_execute(&format!(
        "{with}INSERT INTO audit_events (id, at, actor, action, school_ref, subject, details) \
         SELECT 'bench-' || i, CASE WHEN i < {half} THEN {old} + i / 100 ELSE {recent} + i / 100 END, \
         'cli', 'user.add', NULL, 'e4b5c4f0-1f7b-4c39-a1c4-6d0f2d1c9a00', '{{\"roles\":[\"leerling\"]}}' {from}"
    ))
    .unwrap();
    c.batch_execute(
        "INSERT INTO thuis_accounts (id, email, created_at, updated_at) \
         VALUES ('bench-account', 'ouder@example.nl', 0, 0)",
    )
    .unwrap();
    let (with, from) = numbers(c, rows);
    c.batch_execute(&format!(
        "{with}INSERT INTO thuis_tokens (token_hash, account_id, email, expires_at, created_at) \
         SELECT 'token-' || i, 'bench-account', 'ouder@example.nl', \
         CASE WHEN i % 2 = 0 THEN {now} - 3600 ELSE {now} + 86400 END, {now} - 90000 {from}"
    ))
    .unwrap();
    if let DbConnection::Postgres(_) = c {
        c.batch_execute("ANALYZE audit_events; ANALYZE thuis_tokens")
            .unwrap();
    }
}

fn run(name: &str, url: String, place: Place, rows: u64) {
    let pool = db::connect(&url, 2).unwrap();
    db::migrate(&pool).unwrap();
    let now = SystemClock.now_secs();
    let started = Instant::now();
    fill(&mut pool.get().unwrap(), rows, now);
    println!(
        "{name}: filled 2 x {rows} rows in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let dir = DieselDirectory::new(pool, Arc::new(SystemClock));

    // First the expiring links alone (no audit retention), then the trail.
    let rounds = [
        (
            "thuis_tokens",
            CleanupPolicy {
                now,
                audit_before: None,
                batch: CLEANUP_BATCH,
                dry_run: false,
            },
        ),
        (
            "audit_events",
            CleanupPolicy::at(now, RETENTION_DAYS, false),
        ),
    ];
    for (kind, policy) in rounds {
        let t = Instant::now();
        let counts = dir.clean_up(&policy, &|| true).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let removed = counts.total();
        println!(
            "{name} {kind}: removed {removed} of {rows} rows in {secs:.2} s ({:.0} rows/s), \
             {} statements, longest statement {} ms",
            removed as f64 / secs,
            counts.statements,
            counts.longest_statement_ms
        );
        assert_eq!(removed, rows / 2, "half of the rows expired");
    }
    drop(place);
}

fn main() {
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this with nothing: do a
    // small round then, so the target stays checked without taking minutes.
    let rows = if std::env::args().any(|a| a == "--bench") {
        rows
    } else {
        1_000
    };

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cleanup.db").display());
    run("sqlite", url, Place::Dir(dir), rows);

    match std::env::var("LEERPOORT_BENCH_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let schema = format!("lp_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = diesel::PgConnection::establish(&base)
                .expect("cannot connect to LEERPOORT_BENCH_DATABASE_URL");
            admin
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
            run(
                "postgres",
                url,
                Place::Schema {
                    admin_url: base,
                    schema,
                },
                rows,
            );
        }
        _ => eprintln!("LEERPOORT_BENCH_DATABASE_URL not set: the PostgreSQL round is not run"),
    }
}
