//! `leerpoort import duo`, as a process, on both backends: DUO's whole file (6,500 locations)
//! in Windows-1252 and in UTF-8 with a byte order mark, a re-import that changes nothing, a
//! changed name that reaches the school, a location no longer listed, `school add` without
//! `--name`, a location outside the registry, and a broken file refused with its line and
//! nothing written. Beheer's school page, in process.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use broker::repo::{Audit, AuditQuery};
use claims::InstellingRef;
use serde_json::{json, Value};

use crate::cli::Env;
use crate::on_both_backends;
use crate::school::demo_app;
use crate::support::browser::Browser;
use crate::support::TestDb;

const HEADER: &str = "PROVINCIE;BEVOEGD GEZAG NUMMER;BRIN NUMMER;VESTIGINGSNUMMER;\
VESTIGINGSNAAM;STRAATNAAM;HUISNUMMER-TOEVOEGING;POSTCODE;PLAATSNAAM;GEMEENTENUMMER;\
GEMEENTENAAM;DENOMINATIE;TELEFOONNUMMER;INTERNETADRES";

const LOCATIONS: usize = 6_500;

/// The BRIN of location `i`: distinct for every `i` below 6,760.
fn brin(i: usize) -> String {
    let letter = |n: usize| char::from(b'A' + u8::try_from(n % 26).unwrap());
    format!("{:02}{}{}", i % 100, letter(i / 100), letter(i / 2600))
}

/// One row of DUO's file. Names with a `;` or a quote are quoted (the quote doubled), and so
/// is every fourth name; every location's code is in the six-character form, except every fifth, which has only its
/// two-digit location number.
fn row(i: usize, name: &str) -> String {
    let b = brin(i);
    let code = if i % 5 == 0 {
        "00".to_string()
    } else {
        format!("{b}00")
    };
    let name = if i % 4 == 0 || name.contains([';', '"']) {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_string()
    };
    format!(
        "Noord-Brabant;{};{b};{code};{name};\"Kerkstraat; achter\";{} a;5211 AB;'S-HERTOGENBOSCH;0796;'s-Hertogenbosch;Rooms-Katholiek;073-1234567;www.school{i}.example",
        40_000 + i % 900,
        i % 150 + 1
    )
}

/// The name of location `i`, with the é and ü of real names.
fn name(i: usize) -> String {
    match i % 3 {
        0 => format!("Basisschool Sint-Joséph {i}"),
        1 => format!("OBS De Kleine Prüm {i}"),
        _ => format!("CBS \"'t Vogelnest\"; locatie Müller {i}"),
    }
}

/// DUO's file as text: `LOCATIONS` rows (CRLF, as DUO writes it), with `edit` applied to the
/// rows by index (`None` leaves a row out).
fn registry(edit: impl Fn(usize, String) -> Option<String>) -> String {
    let mut s = String::from(HEADER);
    s.push_str("\r\n");
    for i in 0..LOCATIONS {
        if let Some(r) = edit(i, row(i, &name(i))) {
            s.push_str(&r);
            s.push_str("\r\n");
        }
    }
    s
}

/// `text` in Windows-1252 (the characters these tests use).
fn cp1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '–' => 0x96,
            '€' => 0x80,
            c if (c as u32) < 0x80 || (0xA0..0x100).contains(&(c as u32)) => c as u8,
            other => panic!("{other} is not in Windows-1252 here"),
        })
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn load(env: &Env, file: &Path) -> Value {
    env.ok(&["import", "duo", file.to_str().unwrap()])
}

fn counts(r: &Value) -> Value {
    json!([
        r["locations"],
        r["added"],
        r["changed"],
        r["gone"],
        r["schools_renamed"]
    ])
}

fn schools(env: &Env) -> Vec<Value> {
    env.ok(&["school", "list"])["schools"]
        .as_array()
        .unwrap()
        .clone()
}

fn school<'a>(list: &'a [Value], brin6: &str) -> &'a Value {
    list.iter()
        .find(|s| s["brin6"] == brin6)
        .unwrap_or_else(|| panic!("no school {brin6}: {list:?}"))
}

fn add(env: &Env, brin: &str, vestiging: &str, name: Option<&str>) -> Value {
    let mut args = vec!["school", "add", "--brin", brin, "--vestiging", vestiging];
    if let Some(n) = name {
        args.extend(["--name", n]);
    }
    env.ok(&args)
}

on_both_backends!(
    duos_registry_names_the_schools_on_its_locations,
    |db: &TestDb| {
        let env = Env::on(&db.url);
        let tmp = tempfile::tempdir().unwrap();
        // A school added before the registry: outside it, with the name it was given.
        let first = add(&env, &brin(0), "00", Some("Sint-Jozef (oude naam)"));
        assert_eq!(first["registry"], "outside");

        // DUO's whole file, as DUO publishes it: Windows-1252.
        let latin = write(
            tmp.path(),
            "vestigingen.csv",
            &cp1252(&registry(|_, r| Some(r))),
        );
        let started = Instant::now();
        let r = load(&env, &latin);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(counts(&r), json!([LOCATIONS, LOCATIONS, 0, 0, 1]), "{r}");
        assert_eq!(r["encoding"], "Windows-1252");
        let list = schools(&env);
        let s = school(&list, &format!("{}00", brin(0)));
        assert_eq!(
            (s["name"].clone(), s["registry"].clone()),
            (json!("Basisschool Sint-Joséph 0"), json!("duo")),
            "the school took DUO's name"
        );

        // The same data in UTF-8 with a byte order mark, and the first file again: nothing new.
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(registry(|_, r| Some(r)).as_bytes());
        let utf8 = write(tmp.path(), "vestigingen-utf8.csv", &bom);
        let r = load(&env, &utf8);
        assert_eq!(counts(&r), json!([LOCATIONS, 0, 0, 0, 0]), "{r}");
        assert_eq!(r["encoding"], "UTF-8");
        assert_eq!(counts(&load(&env, &latin)), json!([LOCATIONS, 0, 0, 0, 0]));

        // `school add` without --name takes DUO's name (a row whose name is quoted, with a ';').
        let named = add(&env, &brin(2), "00", None);
        assert_eq!(
            (named["name"].clone(), named["registry"].clone()),
            (
                json!("CBS \"'t Vogelnest\"; locatie Müller 2"),
                json!("duo")
            )
        );
        // Given a name, a listed location still carries DUO's.
        let given = add(&env, &brin(7), "00", Some("Iets anders"));
        assert_eq!(given["name"], "OBS De Kleine Prüm 7");
        // Not in the registry and no name: refused, nothing written.
        let before = schools(&env).len();
        let e = env.fails(&["school", "add", "--brin", "98ZY", "--vestiging", "00"]);
        assert!(
            e.contains("98ZY00") && e.contains("DUO's registry") && e.contains("name"),
            "{e}"
        );
        assert_eq!(schools(&env).len(), before);
        // Outside the registry (a school abroad): possible with a name, marked as such.
        let abroad = add(&env, "98ZY", "00", Some("Nederlandse School Brussel"));
        assert_eq!(
            (abroad["name"].clone(), abroad["registry"].clone()),
            (json!("Nederlandse School Brussel"), json!("outside"))
        );

        // DUO renames location 0 and stops listing location 2.
        let next = registry(|i, r| match i {
            0 => Some(row(0, "Kindcentrum Sint-Joséph – Zuid")),
            2 => None,
            _ => Some(r),
        });
        let next = write(tmp.path(), "next.csv", &cp1252(&next));
        let r = load(&env, &next);
        assert_eq!(counts(&r), json!([LOCATIONS - 1, 0, 1, 1, 1]), "{r}");
        let list = schools(&env);
        let renamed = school(&list, &format!("{}00", brin(0)));
        assert_eq!(renamed["name"], "Kindcentrum Sint-Joséph – Zuid");
        let gone = school(&list, &format!("{}00", brin(2)));
        assert_eq!(
            (gone["name"].clone(), gone["registry"].clone()),
            (
                json!("CBS \"'t Vogelnest\"; locatie Müller 2"),
                json!("outside")
            ),
            "no longer listed: the name stays, outside the registry"
        );
        assert_eq!(
            school(&list, "98ZY00")["name"],
            "Nederlandse School Brussel"
        );

        // The rename is in the school's trail, by the operator.
        let r0: InstellingRef = renamed["instelling_ref"].as_str().unwrap().parse().unwrap();
        let dir = db.directory();
        let trail = broker::repo::Audit::audit_trail(
            &dir,
            &AuditQuery {
                school: Some(&r0),
                actions: &["school.renamed"],
                before: None,
                limit: 10,
            },
        )
        .unwrap();
        assert_eq!(trail.len(), 2, "{trail:?}");
        assert_eq!(trail[0].actor, "cli");
        assert_eq!(
            (
                trail[0].details["from"].clone(),
                trail[0].details["to"].clone()
            ),
            (
                json!("Basisschool Sint-Joséph 0"),
                json!("Kindcentrum Sint-Joséph – Zuid")
            )
        );
        let loads = broker::repo::Audit::audit_trail(
            &dir,
            &AuditQuery {
                school: None,
                actions: &["duo.loaded"],
                before: None,
                limit: 10,
            },
        )
        .unwrap();
        assert_eq!(loads.len(), 4);
        assert_eq!(loads[0].details["changed"], 1);

        // Listed again: back in the registry (changed), and the school with it.
        let r = load(&env, &latin);
        assert_eq!(counts(&r), json!([LOCATIONS, 0, 2, 0, 1]), "{r}");
        let list = schools(&env);
        assert_eq!(school(&list, &format!("{}00", brin(2)))["registry"], "duo");
    }
);

on_both_backends!(
    a_broken_file_is_refused_with_its_line_and_nothing_written,
    |db: &TestDb| {
        let env = Env::on(&db.url);
        let tmp = tempfile::tempdir().unwrap();
        let good = write(tmp.path(), "good.csv", &cp1252(&registry(|_, r| Some(r))));
        load(&env, &good);
        let s = add(&env, &brin(1), "00", None);
        assert_eq!(s["name"], "OBS De Kleine Prüm 1");

        let cases: Vec<(String, u32, &str)> = vec![
            (
                // Location 1 renamed, then a ';' outside the quotes on the row of location 3000.
                registry(|i, r| match i {
                    1 => Some(row(1, "Nieuwe naam")),
                    3000 => {
                        Some(r.replacen("\"Kerkstraat; achter\"", "\"Kerkstraat\"; achter\"", 1))
                    }
                    _ => Some(r),
                }),
                3002,
                "15 fields, but the header has 14",
            ),
            (
                // A quote never closed on the last row.
                registry(|i, r| match i {
                    1 => Some(row(1, "Nieuwe naam")),
                    6499 => Some(r.replacen("achter\";", "achter;", 1)),
                    _ => Some(r),
                }),
                6501,
                "never closed",
            ),
            (
                registry(|i, r| match i {
                    1 => Some(row(1, "Nieuwe naam")),
                    4321 => Some(r.replacen(&format!(";{}00;", brin(4321)), ";12AB00;", 1)),
                    _ => Some(r),
                }),
                4323,
                "does not belong to BRIN NUMMER",
            ),
            (
                registry(|i, r| match i {
                    1 => Some(row(1, "Nieuwe naam")),
                    6499 => Some(row(1, "Nog eens")),
                    _ => Some(r),
                }),
                6501,
                "appears twice (also on line 3)",
            ),
            (
                registry(|i, r| (i < 10).then_some(r)).replacen("VESTIGINGSNAAM", "NAAM", 1),
                1,
                "no column VESTIGINGSNAAM",
            ),
        ];
        for (text, line, says) in cases {
            let file = write(tmp.path(), "broken.csv", &cp1252(&text));
            let e = env.fails(&["import", "duo", file.to_str().unwrap()]);
            let e = e.trim_start_matches("leerpoort: ");
            let at = format!("{}:{line}: ", file.display());
            assert!(e.starts_with(&at), "{at} — {e}");
            assert!(e.contains(says), "{says}: {e}");
        }
        let e = env.fails(&[
            "import",
            "duo",
            tmp.path().join("missing.csv").to_str().unwrap(),
        ]);
        assert!(e.contains("missing.csv"), "{e}");

        // Nothing was written: the name is DUO's old one, and a load changes nothing.
        let list = schools(&env);
        assert_eq!(
            school(&list, &format!("{}00", brin(1)))["name"],
            "OBS De Kleine Prüm 1"
        );
        assert_eq!(counts(&load(&env, &good)), json!([LOCATIONS, 0, 0, 0, 0]));
    }
);

/// Beheer's school page says whether the name is DUO's ("zoals ingeschreven bij DUO", with
/// DUO's address) or kept by hand outside the registry.
#[actix_web::test]
async fn beheer_shows_the_name_as_registered_at_duo() {
    let (t, _) = demo_app();
    let app = actix_web::test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::new();
    b.sign_in(&app, "sanne.jansen@regenboog.example").await;
    let (_, _, page) = b.get(&app, "/beheer").await;
    assert!(
        page.contains("niet in de bestanden van DUO")
            && !page.contains("zoals ingeschreven bij DUO"),
        "{page}"
    );

    let file = format!(
        "{HEADER}\r\nZeeland;41000;99ZZ;99ZZ00;\"Basisschool De Regenboog – Sint-Jozef\";Dorpsstraat;3 b;4331 AA;MIDDELBURG;0687;Middelburg;RK;;\r\n"
    );
    let ctx = broker::admin::Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    };
    let r = broker::import::duo::load(ctx, &cp1252(&file)).unwrap();
    assert_eq!((r.locations, r.added, r.schools_renamed), (1, 1, 1));

    let (_, _, page) = b.get(&app, "/beheer").await;
    assert!(
        page.contains("Naam van de school (zoals ingeschreven bij DUO)"),
        "{page}"
    );
    assert!(
        page.contains("Basisschool De Regenboog – Sint-Jozef")
            && page.contains("Dorpsstraat 3 b, 4331 AA MIDDELBURG")
            && page.contains("alleen bij DUO laten aanpassen"),
        "{page}"
    );
}

on_both_backends!(a_new_brin_takes_duos_name_at_once, |db: &TestDb| {
    let env = Env::on(&db.url);
    let tmp = tempfile::tempdir().unwrap();
    // A small registry: locations 0..10 only.
    let file = write(
        tmp.path(),
        "small.csv",
        &cp1252(&registry(|i, r| (i < 10).then_some(r))),
    );
    load(&env, &file);
    let s = add(&env, "12AB", "00", Some("De Oude Naam"));
    let r = s["instelling_ref"].as_str().unwrap();

    // To a code DUO does not list: the name stays.
    env.ok(&[
        "school",
        "change-brin",
        "--school",
        r,
        "--brin",
        "34CD",
        "--vestiging",
        "00",
    ]);
    assert_eq!(school(&schools(&env), "34CD00")["name"], "De Oude Naam");

    // To location 2's code: DUO's name comes with it, in the same change.
    let b = brin(2);
    env.ok(&[
        "school",
        "change-brin",
        "--school",
        r,
        "--brin",
        &b,
        "--vestiging",
        "00",
    ]);
    let list = schools(&env);
    let moved = school(&list, &format!("{b}00"));
    assert_eq!(moved["name"], name(2).as_str());
    assert_eq!(moved["instelling_ref"], r, "the same school");
    let school_ref: InstellingRef = r.parse().unwrap();
    let trail = db
        .directory()
        .audit_trail(&AuditQuery {
            school: Some(&school_ref),
            actions: &["school.change-brin"],
            before: None,
            limit: 10,
        })
        .unwrap();
    let line = &trail
        .iter()
        .find(|e| e.details["to"] == format!("{b}00"))
        .unwrap_or_else(|| panic!("{trail:?}"))
        .details;
    assert_eq!(line["name"]["source"], "duo");
    assert_eq!(line["name"]["from"], "De Oude Naam");
});
