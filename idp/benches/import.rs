//! The import of a whole school: 1,000 pupils in 8 groepen and 40 teachers, generated in
//! memory as an EDEXML 2.1 file and as a CSV spreadsheet. Parsing alone, a first import into an
//! empty school (parse, map, plan and apply: what `leerpoort import edexml` and
//! `import spreadsheet` do), and the EDEXML file again (which changes nothing) — on SQLite, and
//! on PostgreSQL when `LEERPOORT_TEST_DATABASE_URL` is set (`postgres://postgres@127.0.0.1/test`;
//! a fresh schema per database, dropped afterwards).
//!
//! `cargo bench -p idp --bench import`; results and how to read them: docs/performance.md.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use broker::admin::{Ctx, SchoolInput};
use broker::clock::{Clock, SystemClock};
use broker::import::{Counts, Door, ImportReport};
use claims::InstellingRef;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use idp::app::AppState;
use idp::config::Config;
use idp::db::{self, DieselDirectory};
use protocol::edexml;

const PUPILS: usize = 1_000;
const TEACHERS: usize = 40;
const GROUPS: usize = 8;

/// A bijection on `u64` (splitmix64's finaliser): distinct inputs, distinct outputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A valid ECK-iD, unique per `n`: 128 lowercase hex characters, the first 16 from `mix(n)`.
fn eck_id(n: u64) -> String {
    let mut s = String::from("https://ketenid.nl/201703/");
    for k in 0..8u64 {
        let _ = write!(s, "{:016x}", mix(n.wrapping_add(k << 56)));
    }
    s
}

const GIVEN: [&str; 16] = [
    "Saar", "Deniz", "Bram", "Noor", "Daan", "Fenna", "Mohamed", "Lotte", "Sem", "Yara", "Julia",
    "Finn", "Zoë", "Levi", "Ayşe", "Milan",
];
const FAMILY: [(&str, &str); 12] = [
    ("", "Jansen"),
    ("de", "Vries"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("", "Yılmaz"),
    ("van der", "Berg"),
    ("", "Smit"),
    ("de", "Jong"),
    ("", "El Amrani"),
    ("", "Visser"),
    ("van den", "Heuvel"),
    ("", "Mulder"),
];

fn names(out: &mut String, i: usize) {
    let (voorvoegsel, achternaam) = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
    let _ = writeln!(out, "\t\t\t<achternaam>{achternaam}</achternaam>");
    if !voorvoegsel.is_empty() {
        let _ = writeln!(out, "\t\t\t<voorvoegsel>{voorvoegsel}</voorvoegsel>");
    }
    let _ = writeln!(out, "\t\t\t<roepnaam>{}</roepnaam>", GIVEN[i % GIVEN.len()]);
}

/// An EDEXML 2.1 file for BRIN 12AB, dependancecode 00, in the element order of the schema
/// (the shape of `tests/fixtures/edexml/zonnebloem-2.1.xml`): 8 groepen (jaargroep 1..8),
/// 1,000 leerlingen (every other one with an ECK-iD), 40 leerkrachten with e-mail addresses.
fn school_file() -> Vec<u8> {
    let mut x = String::with_capacity(600 * PUPILS);
    x.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EDEX>\n\t<school>\n\
         \t\t<schooljaar>2026-2027</schooljaar>\n\t\t<brincode>12AB</brincode>\n\
         \t\t<dependancecode>00</dependancecode>\n\t\t<schoolkey>1001</schoolkey>\n\
         \t\t<aanmaakdatum>2026-11-30T10:00:00</aanmaakdatum>\n\t\t<auteur>Leerpoort bench</auteur>\n\
         \t\t<xsdversie>2.1</xsdversie>\n\t</school>\n\t<groepen>\n",
    );
    for g in 1..=GROUPS {
        let _ = write!(
            x,
            "\t\t<groep key=\"G{g}\">\n\t\t\t<naam>Groep {g}</naam>\n\t\t\t<jaargroep>{g}</jaargroep>\n\t\t</groep>\n"
        );
    }
    x.push_str("\t</groepen>\n\t<leerlingen>\n");
    for i in 0..PUPILS {
        let g = i % GROUPS + 1;
        let _ = write!(x, "\t\t<leerling key=\"L{:04}\"", i + 1);
        if i % 2 == 0 {
            let _ = write!(x, " eckid=\"{}\"", eck_id(i as u64));
        }
        x.push_str(">\n");
        names(&mut x, i);
        let _ = writeln!(
            x,
            "\t\t\t<geboortedatum>{}-{:02}-{:02}</geboortedatum>",
            2021 - g,
            i % 12 + 1,
            i % 28 + 1
        );
        let _ = writeln!(x, "\t\t\t<geslacht>{}</geslacht>", i % 2 + 1);
        let _ = writeln!(x, "\t\t\t<jaargroep>{g}</jaargroep>");
        let _ = writeln!(x, "\t\t\t<groep key=\"G{g}\"/>");
        x.push_str("\t\t</leerling>\n");
    }
    x.push_str("\t</leerlingen>\n\t<leerkrachten>\n");
    for t in 0..TEACHERS {
        let _ = writeln!(x, "\t\t<leerkracht key=\"T{:02}\">", t + 1);
        names(&mut x, t * 5 + 3);
        let _ = writeln!(
            x,
            "\t\t\t<emailadres>leerkracht{:02}@zonnebloem.example</emailadres>",
            t + 1
        );
        if t % 10 == 0 {
            x.push_str("\t\t\t<rol>IB</rol>\n");
        }
        let _ = writeln!(
            x,
            "\t\t\t<groepen>\n\t\t\t\t<groep key=\"G{}\"/>\n\t\t\t</groepen>",
            t % GROUPS + 1
        );
        x.push_str("\t\t</leerkracht>\n");
    }
    x.push_str("\t</leerkrachten>\n</EDEX>\n");
    x.into_bytes()
}

/// The same school as a spreadsheet the school fills in itself (CSV, `;`): the people, their
/// groups by name, and the same ECK-iDs, e-mail addresses and roles.
fn school_sheet() -> Vec<u8> {
    let mut x = String::from(
        "Soort;Sleutel;Voornaam;Tussenvoegsel;Achternaam;Groep;Jaargroep;E-mailadres;ECK-iD;Rol\n",
    );
    let person = |x: &mut String, i: usize| {
        let (voorvoegsel, achternaam) = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
        let _ = write!(x, "{};{voorvoegsel};{achternaam};", GIVEN[i % GIVEN.len()]);
    };
    for i in 0..PUPILS {
        let g = i % GROUPS + 1;
        let _ = write!(x, "leerling;L{:04};", i + 1);
        person(&mut x, i);
        let eck = if i % 2 == 0 {
            eck_id(i as u64)
        } else {
            String::new()
        };
        let _ = writeln!(x, "Groep {g};{g};;{eck};");
    }
    for t in 0..TEACHERS {
        let _ = write!(x, "leerkracht;T{:02};", t + 1);
        person(&mut x, t * 5 + 3);
        let rol = if t % 10 == 0 { "IB" } else { "" };
        let _ = writeln!(
            x,
            "Groep {};;leerkracht{:02}@zonnebloem.example;;{rol}",
            t % GROUPS + 1,
            t + 1
        );
    }
    x.into_bytes()
}

/// The keys (PIN hashing, sealing) and the clock, from an `AppState` opened as the server
/// opens it; each import gets a database of its own ([`Db`]).
struct Bench {
    state: AppState,
    bytes: Vec<u8>,
    sheet: Vec<u8>,
    today: String,
    _dir: tempfile::TempDir,
}

fn setup() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let env: Vec<(String, String)> = vec![
        (
            "LEERPOORT_DATABASE_URL".into(),
            format!("sqlite://{}", dir.path().join("state.db").display()),
        ),
        (
            "LEERPOORT_KEYS_DIR".into(),
            dir.path().join("keys").display().to_string(),
        ),
        (
            "LEERPOORT_OUTBOX_DIR".into(),
            dir.path().join("outbox").display().to_string(),
        ),
    ];
    let config = Config::load_with_env(None, |k| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
    .unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = AppState::open(config, clock).unwrap();
    let today = catalogue::local_time(state.clock.now_secs(), "%Y-%m-%d");
    Bench {
        state,
        bytes: school_file(),
        sheet: school_sheet(),
        today,
        _dir: dir,
    }
}

#[derive(Clone)]
enum Backend {
    Sqlite,
    /// The server's URL (the schema is chosen per database).
    Postgres(String),
}

/// A fresh, migrated database holding one empty school, 12AB00; removed when dropped.
struct Db {
    dir: DieselDirectory,
    school: InstellingRef,
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

    fn fresh(&self, b: &Bench) -> Db {
        let (url, cleanup) = match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("import.db").display());
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
        let dir = DieselDirectory::new(pool, b.state.clock.clone());
        let ctx = Ctx {
            dir: &dir,
            clock: b.state.clock.as_ref(),
            actor: "bench",
        };
        let school = broker::admin::add_school(
            ctx,
            SchoolInput {
                brin: "12AB".into(),
                vestiging: "00".into(),
                name: "De Zonnebloem".into(),
                networks: vec![],
                board: None,
                instelling_ref: None,
            },
        )
        .unwrap()
        .instelling_ref;
        Db {
            dir,
            school,
            cleanup,
        }
    }
}

/// What `leerpoort import edexml FILE --school REF` does: parse, map, plan, apply.
fn import(b: &Bench, db: &Db) -> ImportReport {
    import_by(b, db, Door::Edexml)
}

/// What `leerpoort import edexml` or `import spreadsheet` does, through `door`.
fn import_by(b: &Bench, db: &Db, door: Door) -> ImportReport {
    let bytes = match door {
        Door::Spreadsheet => &b.sheet,
        // The LAS's answer holds the same EDEXML; this bench reads files.
        Door::Edexml | Door::Uwlr => &b.bytes,
    };
    let ctx = Ctx {
        dir: &db.dir,
        clock: b.state.clock.as_ref(),
        actor: "bench",
    };
    let secrets = b.state.credentials();
    broker::import::import(door, ctx, &secrets, &db.school, bytes, &b.today, false).unwrap()
}

fn counts(groups: usize, pupils: usize, teachers: usize) -> Counts {
    Counts {
        groups,
        pupils,
        teachers,
    }
}

fn assert_first(r: &ImportReport) {
    assert_eq!(r.added, counts(GROUPS, PUPILS, TEACHERS), "{r:?}");
    assert_eq!(r.changed, Counts::default(), "{r:?}");
    assert_eq!(r.removed, Counts::default(), "{r:?}");
    assert!(r.warnings.is_empty(), "{r:?}");
}

fn assert_unchanged(r: &ImportReport) {
    assert_eq!(
        (r.added, r.changed, r.removed),
        (Counts::default(), Counts::default(), Counts::default()),
        "{r:?}"
    );
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

fn import_1000_pupils(c: &mut Criterion) {
    let b = setup();
    let mut g = c.benchmark_group("import_1000_pupils");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .sampling_mode(SamplingMode::Flat);

    let parsed = edexml::parse(&b.bytes).unwrap();
    assert_eq!(
        (parsed.leerlingen.len(), parsed.leerkrachten.len()),
        (PUPILS, TEACHERS)
    );
    g.bench_function("parse", |bench| {
        bench.iter(|| edexml::parse(&b.bytes).unwrap());
    });
    g.bench_function("parse_csv", |bench| {
        bench.iter(|| protocol::spreadsheet::parse(&b.sheet).unwrap());
    });

    for backend in backends() {
        // Once outside the timing: the file is imported whole and without warnings.
        let db = backend.fresh(&b);
        assert_first(&import(&b, &db));
        assert_unchanged(&import(&b, &db));
        let sheet_db = backend.fresh(&b);
        assert_first(&import_by(&b, &sheet_db, Door::Spreadsheet));
        assert_unchanged(&import_by(&b, &sheet_db, Door::Spreadsheet));
        drop(sheet_db);

        // About 1 s an import on PostgreSQL here: ten of them need more than 10 s.
        g.measurement_time(Duration::from_secs(match backend {
            Backend::Sqlite => 10,
            Backend::Postgres(_) => 15,
        }));
        g.bench_function(format!("first_import/{}", backend.name()), |bench| {
            bench.iter_batched_ref(
                || backend.fresh(&b),
                |fresh| {
                    let r = import(&b, fresh);
                    assert_eq!(r.added.pupils, PUPILS);
                    r
                },
                BatchSize::PerIteration,
            );
        });
        g.bench_function(format!("first_import_csv/{}", backend.name()), |bench| {
            bench.iter_batched_ref(
                || backend.fresh(&b),
                |fresh| import_by(&b, fresh, Door::Spreadsheet),
                BatchSize::PerIteration,
            );
        });
        g.measurement_time(Duration::from_secs(10));
        // The same file into the school that has it: nothing is written, so one database
        // serves every iteration.
        g.bench_function(format!("reimport_unchanged/{}", backend.name()), |bench| {
            bench.iter(|| {
                let r = import(&b, &db);
                assert_unchanged(&r);
                r
            });
        });
    }
    g.finish();
}

criterion_group!(benches, import_1000_pupils);
criterion_main!(benches);
