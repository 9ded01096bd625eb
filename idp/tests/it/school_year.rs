//! The school year, on both backends: a file for the next year is staged, the current year
//! stays in force, and the scheduler applies it at 00:00 Europe/Amsterdam on 1 August, on
//! one node at a time.

use std::path::Path;
use std::sync::Arc;

use broker::admin::Ctx;
use broker::clock::{Clock, FixedClock};
use broker::import::{staging, Door};
use broker::repo::{AuditQuery, Settings};
use claims::InstellingRef;
use idp::app::AppState;
use idp::config::Config;
use serde_json::json;

use crate::cli::Env;
use crate::on_both_backends;
use crate::support::{monday_morning, TestDb};

/// The application on `db`, with a clock that moves only when told to.
pub(crate) fn state_on(db: &TestDb, dir: &Path) -> (AppState, Arc<FixedClock>) {
    state_with(db, dir, Vec::new())
}

/// [`state_on`], with more `LEERPOORT_*` settings.
pub(crate) fn state_with(
    db: &TestDb,
    dir: &Path,
    more: Vec<(&'static str, String)>,
) -> (AppState, Arc<FixedClock>) {
    let mut env = vec![
        ("LEERPOORT_DATABASE_URL", db.url.clone()),
        (
            "LEERPOORT_OUTBOX_DIR",
            dir.join("outbox").display().to_string(),
        ),
        ("LEERPOORT_KEYS_DIR", dir.join("keys").display().to_string()),
    ];
    env.extend(more);
    let config = Config::load_with_env(None, |k| {
        env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    })
    .unwrap();
    let fixed = monday_morning();
    let clock: Arc<dyn Clock> = fixed.clone();
    let state = AppState::with_directory(config, clock, Arc::new(db.directory())).unwrap();
    (state, fixed)
}

/// The Zonnebloem fixture, for `year`.
fn file_for(year: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/edexml/zonnebloem-2.1.xml");
    let text = std::fs::read_to_string(p).unwrap();
    assert!(text.contains("<schooljaar>2026-2027</schooljaar>"));
    text.replace(
        "<schooljaar>2026-2027</schooljaar>",
        &format!("<schooljaar>{year}</schooljaar>"),
    )
    .into_bytes()
}

fn zonnebloem(env: &Env) -> InstellingRef {
    crate::import::zonnebloem(env).parse().unwrap()
}

fn trail(
    dir: &dyn broker::repo::Directory,
    school: &InstellingRef,
) -> Vec<broker::model::AuditEvent> {
    dir.audit_trail(&AuditQuery {
        school: Some(school),
        actions: &[],
        before: None,
        limit: 100,
    })
    .unwrap()
}

fn import(state: &AppState, school: &InstellingRef, bytes: &[u8]) -> broker::import::ImportReport {
    let ctx = Ctx {
        dir: state.dir.as_ref(),
        clock: state.clock.as_ref(),
        actor: "test",
    };
    let today = catalogue::local_time(state.clock.now_secs(), "%Y-%m-%d");
    let secrets = state.credentials();
    broker::import::import(Door::Edexml, ctx, &secrets, school, bytes, &today, false).unwrap()
}

on_both_backends!(
    a_file_for_next_year_waits_for_the_first_of_august,
    |db: &TestDb| {
        let tmp = tempfile::tempdir().unwrap();
        let (state, clock) = state_on(db, tmp.path());
        let school = zonnebloem(&Env::on(&db.url));
        let dir = state.dir.as_ref();

        // November 2026: a file for 2027-2028 is checked and kept, not applied.
        let r = import(&state, &school, &file_for("2027-2028"));
        let staged = r.staged.clone().expect("staged");
        assert_eq!(
            (staged.school_year.as_str(), staged.takes_effect.as_str()),
            ("2027-2028", "2027-08-01")
        );
        assert_eq!((r.added.pupils, r.added.teachers), (2, 2), "its report");
        assert!(dir.users_of_school(&school).unwrap().is_empty());
        assert!(dir.staged_import(&school).unwrap().is_some());
        assert!(trail(dir, &school)
            .iter()
            .any(|e| e.action == "import.staged"));

        // The current year's file still comes in (the nightly import) and applies at once.
        let now = import(&state, &school, &file_for("2026-2027"));
        assert!(now.staged.is_none());
        assert_eq!(dir.users_of_school(&school).unwrap().len(), 4);
        assert!(
            dir.staged_import(&school).unwrap().is_some(),
            "still waiting"
        );

        // A minute before 1 August (Amsterdam) nothing happens.
        let begins = staging::begins("2027-2028").unwrap();
        clock.set_secs(begins - 60);
        assert_eq!(idp::scheduler::school_year(&state, "node-a"), Ok(0));
        assert!(dir.staged_import(&school).unwrap().is_some());

        // At 00:00 the node holding the lease applies it; another node waits its turn.
        clock.set_secs(begins);
        assert_eq!(
            idp::scheduler::school_year(&state, "node-b"),
            Ok(0),
            "node-a holds the lease"
        );
        assert_eq!(idp::scheduler::school_year(&state, "node-a"), Ok(1));
        assert!(dir.staged_import(&school).unwrap().is_none());
        let applied = trail(dir, &school)
            .iter()
            .filter(|e| e.action == "import.applied" && e.actor == "scheduler")
            .count();
        assert_eq!(applied, 1);
        let groups = dir.groups_of_school(&school).unwrap();
        assert!(!groups.is_empty());
        assert!(
            groups.iter().all(|g| g.school_year == "2027-2028"),
            "the groups are next year's now"
        );
        assert_eq!(
            dir.users_of_school(&school).unwrap().len(),
            4,
            "the same people"
        );
        assert_eq!(
            idp::scheduler::school_year(&state, "node-a"),
            Ok(0),
            "applied once"
        );
    }
);

on_both_backends!(
    the_new_year_changes_groups_and_pupils_when_it_begins,
    |db: &TestDb| {
        let tmp = tempfile::tempdir().unwrap();
        let (state, clock) = state_on(db, tmp.path());
        let school = zonnebloem(&Env::on(&db.url));
        let dir = state.dir.as_ref();
        import(&state, &school, &file_for("2026-2027"));
        let before = dir.users_of_school(&school).unwrap();

        // Next year, Deniz (groep 4) moves up to a new groep 5.
        let next = String::from_utf8(file_for("2027-2028"))
            .unwrap()
            .replacen("<groep key=\"G4\">", "<groep key=\"G5\">", 1)
            .replace("<groep key=\"G4\"/>", "<groep key=\"G5\"/>");
        let r = import(&state, &school, next.as_bytes());
        assert!(r.staged.is_some());
        assert_eq!(r.added.groups, 1, "{r:?}");

        clock.set_secs(staging::begins("2027-2028").unwrap());
        assert_eq!(idp::scheduler::school_year(&state, "node-a"), Ok(1));
        let after = dir.users_of_school(&school).unwrap();
        assert_eq!(after.len(), before.len());
        for u in &before {
            assert!(after.iter().any(|a| a.id == u.id), "ids are kept");
        }
        let groups = dir.groups_of_school(&school).unwrap();
        assert!(groups.iter().any(|g| g.key == "G5"), "{groups:?}");
        assert!(!groups.iter().any(|g| g.key == "G4"));
    }
);

on_both_backends!(
    the_lease_goes_to_one_node_until_it_runs_out,
    |db: &TestDb| {
        let dir = db.directory();
        assert!(dir.try_lease("job", "a", 100, 400).unwrap());
        assert!(!dir.try_lease("job", "b", 200, 500).unwrap());
        assert!(
            dir.try_lease("job", "a", 300, 600).unwrap(),
            "the holder renews"
        );
        assert!(!dir.try_lease("job", "b", 599, 900).unwrap());
        assert!(
            dir.try_lease("job", "b", 600, 900).unwrap(),
            "expired: b takes over"
        );
        assert!(!dir.try_lease("job", "a", 601, 900).unwrap());
        assert!(
            dir.try_lease("other", "a", 601, 900).unwrap(),
            "leases are per job"
        );
    }
);

on_both_backends!(
    the_command_line_stages_lists_and_withdraws,
    |db: &TestDb| {
        let env = Env::on(&db.url);
        let school = zonnebloem(&env).to_string();
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("next.xml");
        // The command runs on today's clock: a school year two years on is always ahead.
        let year: i32 = catalogue::local_time(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64,
            "%Y",
        )
        .parse()
        .unwrap();
        let ahead = format!("{}-{}", year + 1, year + 2);
        std::fs::write(&f, file_for(&ahead)).unwrap();
        let f = f.to_str().unwrap();

        let dry = env.ok(&["import", "edexml", f, "--school", &school, "--dry-run"]);
        assert_eq!(dry["staged"]["school_year"], json!(ahead));
        assert_eq!(env.ok(&["import", "staged"])["staged"], json!([]));

        let r = env.ok(&["import", "edexml", f, "--school", &school]);
        assert_eq!(
            r["staged"]["takes_effect"],
            json!(format!("{}-08-01", year + 1))
        );
        assert_eq!(
            r["activation_mails"], 0,
            "nobody is invited before the year begins"
        );
        let users = env.ok(&["user", "list", "--school", &school]);
        assert_eq!(users["users"], json!([]));
        let listed = env.ok(&["import", "staged", "--school", &school]);
        assert_eq!(listed["staged"][0]["school_year"], json!(ahead));
        assert_eq!(listed["staged"][0]["report"]["added"]["pupils"], 2);

        assert_eq!(
            env.ok(&["import", "withdraw", "--school", &school])["withdrawn"],
            true
        );
        assert_eq!(env.ok(&["import", "staged"])["staged"], json!([]));
        assert_eq!(
            env.ok(&["import", "withdraw", "--school", &school])["withdrawn"],
            false
        );
    }
);
