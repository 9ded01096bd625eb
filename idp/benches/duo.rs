//! Loading DUO's registry of school locations: a file of 6,500 locations (the size of DUO's
//! "alle vestigingen basisonderwijs") generated in memory in Windows-1252, as DUO publishes
//! it. Reading alone, a first load into an empty registry (read, compare, write, and 100
//! schools on listed locations renamed: what `leerpoort import duo` does), the same file
//! again (which adds and changes nothing), and files that change every location in turn — on
//! SQLite, and on PostgreSQL when
//! `LEERPOORT_TEST_DATABASE_URL` is set (`postgres://postgres@127.0.0.1/test`; a fresh schema
//! per database, dropped afterwards).
//!
//! `cargo bench -p idp --bench duo`; results and how to read them: docs/performance.md.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use broker::admin::{Ctx, SchoolInput};
use broker::clock::{Clock, SystemClock};
use broker::import::duo::DuoReport;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use idp::db::{self, DieselDirectory};

const LOCATIONS: usize = 6_500;
/// Schools in Leerpoort on listed locations, each renamed by the first load.
const SCHOOLS: usize = 100;

/// The BRIN of location `i`: distinct for every `i` below 6,760.
fn brin(i: usize) -> String {
    let letter = |n: usize| char::from(b'A' + u8::try_from(n % 26).unwrap());
    format!("{:02}{}{}", i % 100, letter(i / 100), letter(i / 2600))
}

/// DUO's file in Windows-1252: its header (with columns that are read past), one location a
/// row, names with é and ü (and `suffix`), every third one quoted with a `;` and doubled
/// quotes inside.
fn registry_file(suffix: &str) -> Vec<u8> {
    let mut s = String::with_capacity(LOCATIONS * 250);
    s.push_str(
        "PROVINCIE;BEVOEGD GEZAG NUMMER;BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;STRAATNAAM;\
         HUISNUMMER-TOEVOEGING;POSTCODE;PLAATSNAAM;GEMEENTENUMMER;GEMEENTENAAM;DENOMINATIE;\
         TELEFOONNUMMER;INTERNETADRES;NODAAL GEBIED CODE;NODAAL GEBIED NAAM\r\n",
    );
    for i in 0..LOCATIONS {
        let b = brin(i);
        let name = if i % 3 == 0 {
            format!("\"CBS \"\"'t Vogelnest\"\"; locatie Müller {i}{suffix}\"")
        } else {
            format!("Basisschool Sint-Joséph {i}{suffix}")
        };
        let _ = write!(
            s,
            "Gelderland;{};{b};{b}00;{name};Kerkstraat;{} a;6811 AB;ARNHEM;0202;Arnhem;\
             Rooms-Katholiek;026-1234567;www.school{i}.example;12;Arnhem\r\n",
            40_000 + i % 900,
            i % 150 + 1
        );
    }
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 only"))
        .collect()
}

#[derive(Clone)]
enum Backend {
    Sqlite,
    /// The server's URL (the schema is chosen per database).
    Postgres(String),
}

/// A fresh, migrated database holding [`SCHOOLS`] schools on listed locations (by hand, with
/// other names); removed when dropped.
struct Db {
    dir: DieselDirectory,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema { admin_url: String, schema: String },
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Cleanup::Schema { admin_url, schema } = &self.cleanup {
            if let Ok(mut c) = diesel::PgConnection::establish(admin_url) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    fn fresh(&self, clock: &Arc<dyn Clock>) -> Db {
        let (url, cleanup) = match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("duo.db").display());
                (url, Cleanup::Dir(dir))
            }
            Backend::Postgres(base) => {
                let schema = format!("lp_bench_{}", uuid::Uuid::new_v4().simple());
                let mut admin = diesel::PgConnection::establish(base)
                    .expect("cannot connect to LEERPOORT_TEST_DATABASE_URL");
                admin
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .unwrap();
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
                let cleanup = Cleanup::Schema {
                    admin_url: base.clone(),
                    schema,
                };
                (url, cleanup)
            }
        };
        let pool = db::connect(&url, 4).unwrap();
        db::migrate(&pool).unwrap();
        let dir = DieselDirectory::new(pool, clock.clone());
        let ctx = Ctx {
            dir: &dir,
            clock: clock.as_ref(),
            actor: "bench",
        };
        for i in 0..SCHOOLS {
            let b = brin(i * (LOCATIONS / SCHOOLS));
            broker::admin::add_school(
                ctx,
                SchoolInput {
                    brin: b[..4].to_string(),
                    vestiging: "00".into(),
                    name: format!("School {i}"),
                    networks: vec![],
                    board: None,
                    instelling_ref: None,
                },
            )
            .unwrap();
        }
        Db { dir, cleanup }
    }
}

/// What `leerpoort import duo FILE` does: read, compare, write.
fn load(db: &Db, clock: &Arc<dyn Clock>, bytes: &[u8]) -> DuoReport {
    let ctx = Ctx {
        dir: &db.dir,
        clock: clock.as_ref(),
        actor: "bench",
    };
    broker::import::duo::load(ctx, bytes).unwrap()
}

fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    match std::env::var("LEERPOORT_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => out.push(Backend::Postgres(u)),
        _ => {
            eprintln!("LEERPOORT_TEST_DATABASE_URL not set: the PostgreSQL benchmarks are not run")
        }
    }
    out
}

fn duo_registry_6500(c: &mut Criterion) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let bytes = registry_file("");
    // The same locations, every one renamed: loaded in turn with `bytes`, each load changes all.
    let renamed = registry_file(" (nieuw)");
    let mut g = c.benchmark_group("duo_registry_6500");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .sampling_mode(SamplingMode::Flat);

    let parsed = protocol::duo::parse(&bytes).unwrap();
    assert_eq!(parsed.vestigingen.len(), LOCATIONS);
    g.bench_function("parse", |bench| {
        bench.iter(|| protocol::duo::parse(&bytes).unwrap());
    });

    for backend in backends() {
        // Once outside the timing: the whole file is added, the schools renamed, and the same
        // file again changes nothing.
        let db = backend.fresh(&clock);
        let first = load(&db, &clock, &bytes);
        assert_eq!(
            (first.added, first.changed, first.schools_renamed),
            (LOCATIONS, 0, SCHOOLS),
            "{first:?}"
        );
        let again = load(&db, &clock, &bytes);
        assert_eq!((again.added, again.changed), (0, 0), "{again:?}");

        // A fresh PostgreSQL schema per iteration takes longer to make than the load.
        g.measurement_time(Duration::from_secs(match backend {
            Backend::Sqlite => 10,
            Backend::Postgres(_) => 15,
        }));
        g.bench_function(format!("first_load/{}", backend.name()), |bench| {
            bench.iter_batched_ref(
                || backend.fresh(&clock),
                |fresh| {
                    let r = load(fresh, &clock, &bytes);
                    assert_eq!(r.added, LOCATIONS);
                    r
                },
                BatchSize::PerIteration,
            );
        });
        g.measurement_time(Duration::from_secs(10));
        g.bench_function(format!("reload_unchanged/{}", backend.name()), |bench| {
            bench.iter(|| {
                let r = load(&db, &clock, &bytes);
                assert_eq!((r.added, r.changed), (0, 0));
                r
            });
        });
        // Every location changed (and every school renamed), in turn with the original file.
        let mut turn = 0usize;
        g.bench_function(format!("reload_all_changed/{}", backend.name()), |bench| {
            bench.iter(|| {
                turn += 1;
                let file = if turn % 2 == 1 { &renamed } else { &bytes };
                let r = load(&db, &clock, file);
                assert_eq!((r.changed, r.schools_renamed), (LOCATIONS, SCHOOLS));
                r
            });
        });
    }
    g.finish();
}

criterion_group!(benches, duo_registry_6500);
criterion_main!(benches);
