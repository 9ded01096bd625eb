//! `leerpoort import edexml`, as a process, on both backends: the report, the dry run,
//! idempotence, identity by ECK-iD and LAS key, pupils who leave and come back, and files that
//! are refused without writing anything.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::cli::Env;
use crate::on_both_backends;
use crate::support::TestDb;
use broker::repo::Users as _;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/edexml")
        .join(name)
}

/// The fixture with `from` replaced by `to` (each must occur), as a file of its own.
fn variant(dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(fixture("zonnebloem-2.1.xml")).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub(crate) fn zonnebloem(env: &Env) -> String {
    env.add_school("12AB", "De Zonnebloem")
}

fn import(env: &Env, file: &Path, school: &str, dry: bool) -> Value {
    import_by(env, "edexml", file, school, dry)
}

/// `leerpoort import DOOR FILE --school REF [--dry-run]`, its JSON report.
pub(crate) fn import_by(env: &Env, door: &str, file: &Path, school: &str, dry: bool) -> Value {
    let f = file.to_str().unwrap();
    let mut args = vec!["import", door, f, "--school", school];
    if dry {
        args.push("--dry-run");
    }
    env.ok(&args)
}

pub(crate) fn counts(r: &Value) -> Value {
    json!([r["added"], r["changed"], r["removed"]])
}

pub(crate) fn c(groups: u64, pupils: u64, teachers: u64) -> Value {
    json!({"groups": groups, "pupils": pupils, "teachers": teachers})
}

pub(crate) fn users(env: &Env, school: &str) -> Vec<Value> {
    env.ok(&["user", "list", "--school", school])["users"]
        .as_array()
        .unwrap()
        .clone()
}

pub(crate) fn by_key<'a>(users: &'a [Value], key: &str) -> &'a Value {
    users
        .iter()
        .find(|u| u["las_key"] == key)
        .unwrap_or_else(|| panic!("no user with key {key}: {users:?}"))
}

on_both_backends!(
    an_edexml_file_is_imported_once_and_people_keep_their_ids,
    |db: &TestDb| {
        let env = Env::on(&db.url);
        let school = zonnebloem(&env);
        let file = fixture("zonnebloem-2.1.xml");

        // A dry run reports and writes nothing.
        let dry = import(&env, &file, &school, true);
        assert_eq!(dry["dry_run"], true);
        assert_eq!(
            (dry["edexml_version"].clone(), dry["school_year"].clone()),
            (json!("2.1"), json!("2026-2027"))
        );
        assert_eq!(counts(&dry), json!([c(3, 2, 2), c(0, 0, 0), c(0, 0, 0)]));
        assert!(users(&env, &school).is_empty());

        assert_eq!(dry["activation_mails"], 0);
        assert!(env.outbox().is_empty(), "a dry run mails nobody");

        let real = import(&env, &file, &school, false);
        assert_eq!(real["dry_run"], false);
        assert_eq!(
            real["activation_mails"], 1,
            "the one new teacher with an e-mail address is invited"
        );
        let mails = env.outbox();
        assert_eq!(mails.len(), 1);
        assert!(
            mails[0].contains("marloes.visser@zonnebloem.example")
                && mails[0].contains("/wachtwoord/"),
            "{}",
            mails[0]
        );
        assert_eq!(
            counts(&real),
            counts(&dry),
            "the dry run reported what the import did"
        );
        let warnings = real["warnings"].to_string();
        assert!(
            warnings.contains("uitstroomdatum") && warnings.contains("ICT"),
            "{warnings}"
        );
        let after = users(&env, &school);
        assert_eq!(after.len(), 4);
        let saar = by_key(&after, "L1");
        assert_eq!(
            (saar["given_name"].clone(), saar["family_name"].clone()),
            (json!("Saar"), json!("de Jong"))
        );
        assert_eq!(
            saar["status"], "active",
            "pupils sign in with their PIN at once"
        );
        let marloes = by_key(&after, "T1");
        assert_eq!(
            marloes["status"], "inactive",
            "teachers activate by mail first"
        );
        assert_eq!(marloes["email"], "marloes.visser@zonnebloem.example");
        assert_eq!(
            marloes["roles"],
            json!(["leerkracht", "ib"]),
            "IB given, ICT not"
        );
        let groups = env.ok(&["group", "list", "--school", &school]);
        let keys: Vec<&str> = groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["group_key"].as_str().unwrap())
            .collect();
        assert_eq!(keys.len(), 3, "{groups}");
        assert!(keys.contains(&"G3") && keys.contains(&"LEES"), "{keys:?}");

        // The same file again changes nothing.
        let again = import(&env, &file, &school, false);
        assert_eq!(counts(&again), json!([c(0, 0, 0), c(0, 0, 0), c(0, 0, 0)]));
        assert_eq!(again["activation_mails"], 0, "nobody is invited twice");
        assert_eq!(env.outbox().len(), 1);

        // Saar leaves (not in the file), Deniz moves to groep 3 and is renamed by the LAS.
        let tmp = tempfile::tempdir().unwrap();
        let next = variant(
        tmp.path(),
        "next.xml",
        &[
            ("<leerling key=\"L1\"", "<leerling key=\"L1-gone\""),
            ("<roepnaam>Deniz</roepnaam>\n\t\t\t<jaargroep>4</jaargroep>\n\t\t\t<groep key=\"G4\"/>",
             "<roepnaam>Deniz Can</roepnaam>\n\t\t\t<jaargroep>3</jaargroep>\n\t\t\t<groep key=\"G3\"/>"),
        ],
    );
        // L1-gone has Saar's ECK-iD: by ECK-iD she is the same person, with a new LAS key.
        let r = import(&env, &next, &school, false);
        assert_eq!(
            counts(&r),
            json!([c(0, 0, 0), c(0, 2, 0), c(0, 0, 0)]),
            "{r}"
        );
        let now = users(&env, &school);
        assert_eq!(
            by_key(&now, "L1-gone")["user_id"],
            saar["user_id"],
            "matched by ECK-iD, never a new id"
        );
        let deniz = by_key(&now, "L2");
        assert_eq!(deniz["given_name"], "Deniz Can");

        // Without her ECK-iD and key she has left: no sign-in, but not deleted.
        let gone = variant(
            tmp.path(),
            "gone.xml",
            &[
                (
                    &format!("<leerling key=\"L1\" eckid=\"{}\">", eck_of_l1()),
                    "<leerling key=\"L9\">",
                ),
                ("<roepnaam>Saar</roepnaam>", "<roepnaam>Fenna</roepnaam>"),
            ],
        );
        let r = import(&env, &gone, &school, false);
        assert_eq!(
            counts(&r),
            json!([c(0, 1, 0), c(0, 1, 0), c(0, 1, 0)]),
            "Fenna new, Deniz back in groep 4, Saar gone: {r}"
        );
        let now = users(&env, &school);
        let saar_now = now
            .iter()
            .find(|u| u["user_id"] == saar["user_id"])
            .unwrap();
        assert_eq!(saar_now["status"], "left");
        // She comes back in the next file: the same person again.
        let r = import(&env, &file, &school, false);
        assert_eq!(r["removed"]["pupils"], 1, "the other one (L9) leaves: {r}");
        let now = users(&env, &school);
        let back = now
            .iter()
            .find(|u| u["user_id"] == saar["user_id"])
            .unwrap();
        assert_eq!(
            (back["status"].clone(), back["las_key"].clone()),
            (json!("active"), json!("L1"))
        );
    }
);

on_both_backends!(
    identifiers_in_use_at_another_school_are_left_out_with_a_warning,
    |db: &TestDb| {
        let env = Env::on(&db.url);
        let first = zonnebloem(&env);
        import(&env, &fixture("zonnebloem-2.1.xml"), &first, false);
        // The same people in another school's file: their ECK-iDs and the teacher's address
        // are someone else's already.
        let other = env.add_school("34CD", "De Klimop");
        let tmp = tempfile::tempdir().unwrap();
        let theirs = variant(
            tmp.path(),
            "klimop.xml",
            &[("<brincode>12AB</brincode>", "<brincode>34CD</brincode>")],
        );
        let r = import(&env, &theirs, &other, false);
        assert_eq!(counts(&r)[0], c(3, 2, 2), "{r}");
        let warnings = r["warnings"].to_string();
        assert!(
            warnings.contains("line 28: the ECK-iD is in use at another school")
                && warnings.contains("line 53: the ECK-iD is in use at another school")
                && warnings.contains("e-mail address is in use by another account"),
            "{warnings}"
        );
        let people = users(&env, &other);
        assert!(people.iter().all(|u| u["email"].is_null()), "{people:?}");
        // ECK-iDs are not shown on the command line: read them from the directory.
        let dir = db.directory();
        let with_eck = |school: &str| {
            let r: claims::InstellingRef = school.parse().unwrap();
            dir.users_of_school(&r)
                .unwrap()
                .iter()
                .filter(|u| u.eck_id.is_some())
                .count()
        };
        assert_eq!(with_eck(&first), 2, "Saar and Marloes keep theirs");
        assert_eq!(with_eck(&other), 0, "never a second holder of an ECK-iD");
    }
);

fn eck_of_l1() -> String {
    format!("https://ketenid.nl/201703/{}", "a1".repeat(64))
}

on_both_backends!(
    bad_and_foreign_files_are_refused_with_their_line_and_nothing_written,
    |db: &TestDb| {
        let env = Env::on(&db.url);
        let school = zonnebloem(&env);
        let tmp = tempfile::tempdir().unwrap();
        let cases: Vec<(PathBuf, &str)> = vec![
        (
            variant(tmp.path(), "keyref.xml", &[("<groep key=\"G4\"/>\n\t\t</leerling>", "<groep key=\"G9\"/>\n\t\t</leerling>")]),
            ":42: keyref: leerling 'L2' refers to unknown groep 'G9'",
        ),
        (
            variant(tmp.path(), "truncated.xml", &[("</EDEX>", "")]),
            ":73: the file ends before <EDEX>",
        ),
        (
            variant(tmp.path(), "doctype.xml", &[("<EDEX>", "<!DOCTYPE EDEX [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>\n<EDEX>")]),
            ":4: a DOCTYPE is not allowed",
        ),
    ];
        for (file, says) in &cases {
            let e = env.fails(&[
                "import",
                "edexml",
                file.to_str().unwrap(),
                "--school",
                &school,
            ]);
            let e = e.trim_start_matches("leerpoort: ");
            assert!(e.contains(says), "{says}: {e}");
            let name = file.display().to_string();
            assert!(
                e.starts_with(&format!("{name}:")),
                "FILE:LINE: message — {e}"
            );
            let line = e[name.len() + 1..].split(':').next().unwrap();
            assert!(line.parse::<u32>().is_ok(), "a line number: {e}");
        }
        // Another school's file: refused by BRIN.
        let other = variant(
            tmp.path(),
            "other.xml",
            &[("<brincode>12AB</brincode>", "<brincode>99ZZ</brincode>")],
        );
        let e = env.fails(&[
            "import",
            "edexml",
            other.to_str().unwrap(),
            "--school",
            &school,
        ]);
        assert!(e.contains("99ZZ") && e.contains("12AB00"), "{e}");
        let e = env.fails(&[
            "import",
            "edexml",
            tmp.path().join("missing.xml").to_str().unwrap(),
            "--school",
            &school,
        ]);
        assert!(e.contains("missing.xml"), "{e}");
        assert!(users(&env, &school).is_empty(), "nothing written");
    }
);

/// The official EDEXML examples (reference data beside the project, never copied into it):
/// present in CI, where their absence fails the test.
fn official(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/edexml")
        .join(name);
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {} is missing",
        p.display()
    );
    None
}

on_both_backends!(
    the_official_examples_import_into_their_school,
    |db: &TestDb| {
        let (Some(v20), Some(v21)) = (
            official("EDEXML.Voorbeeld.2.0.xml"),
            official("EDEXML.Voorbeeld.2.1.xml"),
        ) else {
            return;
        };
        let env = Env::on(&db.url);
        let school = env.ok(&[
            "school",
            "add",
            "--brin",
            "99ZZ",
            "--vestiging",
            "00",
            "--name",
            "Voorbeeldschool",
        ])["instelling_ref"]
            .as_str()
            .unwrap()
            .to_string();
        let r = import(&env, &v21, &school, false);
        assert_eq!(r["edexml_version"], "2.1");
        // 5 groepen + 3 samengestelde groepen; one pupil's uitstroomdatum (2014) has passed.
        assert_eq!(
            counts(&r),
            json!([c(8, 2, 3), c(0, 0, 0), c(0, 0, 0)]),
            "{r}"
        );
        let warnings = r["warnings"].to_string();
        assert!(warnings.contains("not a valid ECK-iD"), "{warnings}");
        assert!(
            !warnings.contains("!@#$%^"),
            "the value is never echoed: {warnings}"
        );
        // The 2.0 example of the same school, after it: the same people by their keys.
        let r = import(&env, &v20, &school, false);
        assert_eq!(r["edexml_version"], "2.0");
        assert_eq!(r["added"], c(0, 0, 0), "{r}");
    }
);
