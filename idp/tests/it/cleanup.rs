//! The cleanup of expired rows: what goes, what stays (every kind), the audit retention, the
//! hourly job on one node at a time, and `leerpoort cleanup`.

use std::path::Path;

use broker::clock::Clock;
use broker::repo::{Cleanup, CleanupCounts, CleanupPolicy, LEASE_GRACE_SECS};
use diesel::prelude::*;
use idp::db::schema::{
    audit_events, dynamic_ip_history, schools, settings, thuis_accounts, thuis_tokens,
};
use idp::db::DbConnection;

use crate::on_both_backends;
use crate::support::{monday_morning, TestDb};

const SCHOOL: &str = "0f2d6a52-5a0f-4d4e-9d6b-4c1e7a7d0001";
const DAY: i64 = 86_400;

fn conn(db: &TestDb) -> idp::db::DbConn {
    db.pool.get().unwrap()
}

/// A school (for the Dynamic IP history) and a home account (for its links).
fn base(db: &TestDb) {
    let c: &mut DbConnection = &mut conn(db);
    diesel::insert_into(schools::table)
        .values((
            schools::instelling_ref.eq(SCHOOL),
            schools::brin6.eq("12AB00"),
            schools::name.eq("OBS De Linde"),
            schools::created_at.eq(0i64),
            schools::updated_at.eq(0i64),
        ))
        .execute(c)
        .unwrap();
    diesel::insert_into(thuis_accounts::table)
        .values((
            thuis_accounts::id.eq("acc-1"),
            thuis_accounts::email.eq("ouder@example.nl"),
            thuis_accounts::created_at.eq(0i64),
            thuis_accounts::updated_at.eq(0i64),
        ))
        .execute(c)
        .unwrap();
}

fn token(db: &TestDb, hash: &str, expires_at: i64) {
    diesel::insert_into(thuis_tokens::table)
        .values((
            thuis_tokens::token_hash.eq(hash),
            thuis_tokens::account_id.eq("acc-1"),
            thuis_tokens::email.eq("ouder@example.nl"),
            thuis_tokens::expires_at.eq(expires_at),
            thuis_tokens::created_at.eq(expires_at - 3600),
        ))
        .execute(&mut *conn(db))
        .unwrap();
}

fn setting(db: &TestDb, key: &str, value: &str) {
    let c: &mut DbConnection = &mut conn(db);
    diesel::delete(settings::table.find(key))
        .execute(c)
        .unwrap();
    diesel::insert_into(settings::table)
        .values((
            settings::key.eq(key),
            settings::value.eq(value),
            settings::updated_at.eq(0i64),
        ))
        .execute(c)
        .unwrap();
}

fn audit_line(db: &TestDb, n: usize, at: i64, action: &str) {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(format!("line-{n}")),
            audit_events::at.eq(at),
            audit_events::actor.eq("test"),
            audit_events::action.eq(action),
            audit_events::details.eq("{}"),
        ))
        .execute(&mut *conn(db))
        .unwrap();
}

fn history(db: &TestDb, at: i64) {
    diesel::insert_into(dynamic_ip_history::table)
        .values((
            dynamic_ip_history::school_ref.eq(SCHOOL),
            dynamic_ip_history::network.eq("198.51.100.7/32"),
            dynamic_ip_history::at.eq(at),
        ))
        .execute(&mut *conn(db))
        .unwrap();
}

fn tokens(db: &TestDb) -> Vec<String> {
    let mut v: Vec<String> = thuis_tokens::table
        .select(thuis_tokens::token_hash)
        .load(&mut *conn(db))
        .unwrap();
    v.sort();
    v
}

fn setting_keys(db: &TestDb) -> Vec<String> {
    let mut v: Vec<String> = settings::table
        .select(settings::key)
        .load(&mut *conn(db))
        .unwrap();
    v.sort();
    v
}

fn audit_times(db: &TestDb) -> Vec<i64> {
    let mut v: Vec<i64> = audit_events::table
        .select(audit_events::at)
        .load(&mut *conn(db))
        .unwrap();
    v.sort();
    v
}

fn history_times(db: &TestDb) -> Vec<i64> {
    let mut v: Vec<i64> = dynamic_ip_history::table
        .select(dynamic_ip_history::at)
        .load(&mut *conn(db))
        .unwrap();
    v.sort();
    v
}

fn link_value(expires_at: i64) -> String {
    format!(r#"{{"code_hash":"00ff","expires_at":{expires_at}}}"#)
}

/// Rows of every kind, dead and alive, around `now`.
fn fill(db: &TestDb, now: i64) {
    base(db);
    token(db, "dead", now - 10);
    token(db, "dead-just-now", now);
    token(db, "alive", now + 3600);
    setting(
        db,
        "lease:gone-job",
        &format!("node-a {}", now - LEASE_GRACE_SECS - 1),
    );
    setting(db, "lease:recent", &format!("node-a {}", now - 60));
    setting(db, "lease:held", &format!("node-b {}", now + 300));
    setting(db, "notice", "Onderhoud vanavond");
    setting(db, "operator-link", &link_value(now - 2 * 3600));
    audit_line(db, 1, now - 40 * DAY, "user.add");
    audit_line(db, 2, now - 31 * DAY, "sign-in.refused.disabled");
    audit_line(db, 3, now - 10 * DAY, "user.add");
    audit_line(db, 4, now, "user.add");
    history(db, now - 40 * DAY);
    history(db, now - DAY);
}

on_both_backends!(expired_rows_go_and_the_rest_stays, |db: &TestDb| {
    let now = monday_morning().now_secs();
    fill(db, now);
    let dir = db.directory();

    // A dry run counts and removes nothing.
    let counted = dir
        .clean_up(&CleanupPolicy::at(now, 30, true), &|| true)
        .unwrap();
    assert_eq!(
        (
            counted.thuis_tokens,
            counted.leases,
            counted.operator_links,
            counted.audit_events,
            counted.dynamic_ip_history
        ),
        (2, 1, 1, 2, 1)
    );
    assert_eq!(tokens(db).len(), 3);
    assert_eq!(audit_times(db).len(), 4);

    // Without a retention the trail and the history stay whole.
    let removed = dir
        .clean_up(&CleanupPolicy::at(now, 0, false), &|| true)
        .unwrap();
    assert_eq!(
        removed,
        CleanupCounts {
            thuis_tokens: 2,
            leases: 1,
            operator_links: 1,
            statements: removed.statements,
            longest_statement_ms: removed.longest_statement_ms,
            ..CleanupCounts::default()
        }
    );
    assert_eq!(tokens(db), ["alive"]);
    assert_eq!(
        setting_keys(db),
        ["lease:held", "lease:recent", "notice"],
        "live leases and other settings stay"
    );
    assert_eq!(audit_times(db).len(), 4);
    assert_eq!(history_times(db).len(), 2);

    // A second round finds nothing.
    let again = dir
        .clean_up(&CleanupPolicy::at(now, 0, false), &|| true)
        .unwrap();
    assert_eq!(again.total(), 0);
});

on_both_backends!(
    the_operator_link_stays_an_hour_after_its_expiry,
    |db: &TestDb| {
        let now = monday_morning().now_secs();
        let dir = db.directory();
        setting(db, "operator-link", &link_value(now + 600));
        let policy = CleanupPolicy::at(now, 0, false);
        assert_eq!(dir.clean_up(&policy, &|| true).unwrap().operator_links, 0);
        setting(db, "operator-link", &link_value(now - 30 * 60));
        assert_eq!(
            dir.clean_up(&policy, &|| true).unwrap().operator_links,
            0,
            "expired half an hour ago: still told 'expired'"
        );
        setting(db, "operator-link", &link_value(now - 3600));
        assert_eq!(dir.clean_up(&policy, &|| true).unwrap().operator_links, 1);
        assert!(setting_keys(db).is_empty());
        // A value that does not parse is left alone.
        setting(db, "operator-link", "not json");
        assert_eq!(dir.clean_up(&policy, &|| true).unwrap().operator_links, 0);
    }
);

on_both_backends!(
    the_audit_retention_removes_only_older_lines,
    |db: &TestDb| {
        let now = monday_morning().now_secs();
        fill(db, now);
        // Many old lines, in batches of 3: every batch but the last is full.
        for n in 10..27 {
            audit_line(
                db,
                n,
                now - 100 * DAY + i64::try_from(n).unwrap(),
                "user.add",
            );
        }
        let dir = db.directory();
        let mut policy = CleanupPolicy::at(now, 30, false);
        policy.batch = 3;
        let removed = dir.clean_up(&policy, &|| true).unwrap();
        assert_eq!(removed.audit_events, 19);
        assert_eq!(removed.dynamic_ip_history, 1);
        assert_eq!(audit_times(db), [now - 10 * DAY, now]);
        assert_eq!(history_times(db), [now - DAY]);
        // 19 lines, 3 a statement: 7 deletes of the trail at least.
        assert!(removed.statements >= 7, "{removed:?}");

        // `keep_going` false stops after the first batch.
        for n in 30..40 {
            audit_line(db, n, now - 100 * DAY, "user.add");
        }
        let removed = dir.clean_up(&policy, &|| false).unwrap();
        assert_eq!(removed.audit_events, 0, "asked before the trail: stop");
        assert_eq!(audit_times(db).len(), 12);
        let removed = dir.clean_up(&policy, &|| true).unwrap();
        assert_eq!(removed.audit_events, 10);
    }
);

fn two_nodes(
    db: &TestDb,
    dir: &Path,
    more: Vec<(&'static str, String)>,
) -> [(
    idp::app::AppState,
    std::sync::Arc<broker::clock::FixedClock>,
); 2] {
    [
        crate::school_year::state_with(db, &dir.join("a"), more.clone()),
        crate::school_year::state_with(db, &dir.join("b"), more),
    ]
}

on_both_backends!(the_job_runs_once_an_hour_on_one_node, |db: &TestDb| {
    let tmp = tempfile::tempdir().unwrap();
    let [(a, clock_a), (b, clock_b)] = two_nodes(db, tmp.path(), Vec::new());
    let start = clock_a.now_secs();
    let at = |secs: i64| {
        clock_a.set_secs(start + secs);
        clock_b.set_secs(start + secs);
    };
    base(db);
    token(db, "dead-1", start - 1);
    let ran = idp::scheduler::cleanup(&a, "node-a").unwrap();
    assert_eq!(ran.map(|c| c.thuis_tokens), Some(1));
    assert_eq!(
        idp::scheduler::cleanup(&b, "node-b"),
        Ok(None),
        "node-a holds it"
    );
    assert_eq!(
        idp::scheduler::cleanup(&a, "node-a"),
        Ok(None),
        "ran this hour"
    );

    token(db, "dead-2", start + 60);
    at(30 * 60);
    assert_eq!(idp::scheduler::cleanup(&a, "node-a"), Ok(None));
    assert_eq!(idp::scheduler::cleanup(&b, "node-b"), Ok(None));
    assert_eq!(tokens(db), ["dead-2"]);

    at(3600);
    let ran = idp::scheduler::cleanup(&a, "node-a").unwrap();
    assert_eq!(ran.map(|c| c.thuis_tokens), Some(1));
    assert!(tokens(db).is_empty());

    // node-a stops; when its lease has run out node-b takes over, but only once the hour
    // since the last round is up.
    token(db, "dead-3", start + 3600);
    at(3600 + 10 * 60);
    assert_eq!(idp::scheduler::cleanup(&b, "node-b"), Ok(None));
    at(2 * 3600);
    let ran = idp::scheduler::cleanup(&b, "node-b").unwrap();
    assert_eq!(ran.map(|c| c.thuis_tokens), Some(1));
    assert_eq!(idp::scheduler::cleanup(&a, "node-a"), Ok(None));
});

on_both_backends!(the_job_keeps_the_trail_unless_told, |db: &TestDb| {
    let tmp = tempfile::tempdir().unwrap();
    let now = monday_morning().now_secs();
    fill(db, now);
    let [(a, _), _] = two_nodes(db, &tmp.path().join("default"), Vec::new());
    assert_eq!(a.config.audit_retention_days, 0);
    let ran = idp::scheduler::cleanup(&a, "node-a").unwrap().unwrap();
    assert_eq!(ran.audit_events, 0);
    assert_eq!(audit_times(db).len(), 4);

    let more = vec![("LEERPOORT_AUDIT_RETENTION_DAYS", "30".to_string())];
    let [(b, clock_b), _] = two_nodes(db, &tmp.path().join("thirty"), more);
    clock_b.set_secs(now + 3600);
    // node-b's round an hour later: lines older than 30 days (from then) go.
    let ran = idp::scheduler::cleanup(&b, "node-a").unwrap().unwrap();
    assert_eq!((ran.audit_events, ran.dynamic_ip_history), (2, 1));
    assert_eq!(audit_times(db), [now - 10 * DAY, now]);
});

#[test]
fn the_retention_setting_is_checked() {
    let load = |v: &str| {
        idp::config::Config::load_with_env(None, |k| {
            (k == "LEERPOORT_AUDIT_RETENTION_DAYS").then(|| v.to_string())
        })
    };
    assert_eq!(load("").unwrap().audit_retention_days, 0);
    assert_eq!(load("0").unwrap().audit_retention_days, 0);
    assert_eq!(load("3650").unwrap().audit_retention_days, 3650);
    for bad in ["-1", "ten", "36501"] {
        let e = load(bad).unwrap_err().to_string();
        assert!(e.starts_with("LEERPOORT_AUDIT_RETENTION_DAYS:"), "{e}");
    }
}

on_both_backends!(the_command_counts_and_removes, |db: &TestDb| {
    // The command runs on the real clock.
    let now = broker::clock::SystemClock.now_secs();
    fill(db, now);
    let mut env = crate::cli::Env::on(&db.url);
    let dry = env.ok(&["cleanup", "--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["removed"]["thuis_tokens"], 2);
    assert_eq!(dry["removed"]["audit_events"], 0);
    assert_eq!(tokens(db).len(), 3, "a dry run removes nothing");

    let done = env.ok(&["cleanup"]);
    assert_eq!(done["removed"]["thuis_tokens"], 2);
    assert_eq!(done["removed"]["leases"], 1);
    assert_eq!(done["removed"]["operator_links"], 1);
    assert_eq!(done["total"], 4);
    assert_eq!(tokens(db), ["alive"]);
    assert_eq!(audit_times(db).len(), 4);

    env.set("LEERPOORT_AUDIT_RETENTION_DAYS", "30");
    let done = env.ok(&["cleanup"]);
    assert_eq!(done["audit_retention_days"], 30);
    assert_eq!(done["removed"]["audit_events"], 2);
    assert_eq!(done["removed"]["dynamic_ip_history"], 1);

    env.set("LEERPOORT_AUDIT_RETENTION_DAYS", "soon");
    let e = env.fails(&["cleanup"]);
    assert!(e.contains("LEERPOORT_AUDIT_RETENTION_DAYS"), "{e}");
});
