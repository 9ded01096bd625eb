//! `leerpoort school merge` and `school split`, as a process on both backends: the report,
//! the ids (and so the pseudonyms) kept, and refusals that write nothing.

use serde_json::{json, Value};
use uuid::Uuid;

use super::Site;
use crate::cli::Env;
use crate::on_both_backends;
use crate::support::TestDb;

fn ids(env: &Env, school: &str) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = env.ok(&["user", "list", "--school", school])["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap().parse().unwrap())
        .collect();
    ids.sort();
    ids
}

fn schools(env: &Env) -> Vec<Value> {
    env.ok(&["school", "list"])["schools"]
        .as_array()
        .unwrap()
        .clone()
}

on_both_backends!(merge_and_split_on_the_command_line, |db: &TestDb| {
    let site = Site::on(db);
    let env = Env::on(&db.url);
    let from = idp::demo::DEMO_SCHOOL_REF;
    let into = env.add_school("34CD", "De Zonnebloem");
    let people = ids(&env, from);
    let pupils = site.pupils(&from.parse().unwrap());
    let subs = site.subs(&pupils);

    for (args, says) in [
        (["--from", &into, "--into", &into], "itself"),
        (["--from", from, "--into", "kapot"], "INSTELLING_REF"),
    ] {
        let mut all = vec!["school", "merge"];
        all.extend(args);
        let e = env.fails(&all);
        assert!(e.contains(says), "{e}");
    }
    let r = env.ok(&["school", "merge", "--from", from, "--into", &into]);
    assert_eq!(r["from"], from);
    assert_eq!(r["into"], into.as_str());
    assert_eq!(
        r["moved"],
        json!({"groups": 3, "pupils": 12, "teachers": 3})
    );
    assert_eq!(r["joined"], json!({"pupils": 0, "teachers": 0}));
    assert_eq!(r["consents_offered"], true);
    assert_eq!(ids(&env, &into), people, "everyone moved with their id");
    assert_eq!(site.subs(&pupils), subs, "and so with their pseudonyms");
    let merged = schools(&env)
        .into_iter()
        .find(|s| s["instelling_ref"] == from)
        .unwrap();
    assert_eq!(merged["status"], "merged");
    let e = env.fails(&["school", "merge", "--from", from, "--into", &into]);
    assert!(e.contains("already merged"), "{e}");

    let split = |groups: &[&str]| {
        let mut all = vec![
            "school",
            "split",
            "--from",
            &into,
            "--brin",
            "34CD",
            "--vestiging",
            "01",
            "--name",
            "De Zonnebloem Oost",
            "--network",
            "192.0.2.0/24",
        ];
        for g in groups {
            all.extend(["--group", g]);
        }
        all.into_iter().map(String::from).collect::<Vec<_>>()
    };
    env.ok(&[
        "register",
        "--school",
        &into,
        "--rp",
        idp::demo::DEMO_CLIENT_ID,
    ]);
    let args = split(&["groep-7b", "groep-9"]);
    let e = env.fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(e.contains("'groep-9'"), "{e}");
    assert_eq!(schools(&env).len(), 3, "nothing written");
    let args = split(&["groep-7b"]);
    let r = env.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let new = r["instelling_ref"].as_str().unwrap().to_string();
    assert_eq!(r["brin6"], "34CD01");
    assert_eq!(r["moved"], json!({"groups": 1, "pupils": 5, "teachers": 1}));
    assert_eq!(r["consents_copied"], 1, "the school's own, not the offer");
    let moved = ids(&env, &new);
    assert_eq!(moved.len(), 6);
    assert!(moved.iter().all(|id| people.contains(id)), "the same ids");
    assert_eq!(site.subs(&pupils), subs, "every pupil keeps their sub");
    let school = schools(&env)
        .into_iter()
        .find(|s| s["instelling_ref"] == new.as_str())
        .unwrap();
    assert_eq!(school["networks"], json!(["192.0.2.0/24"]));
});
