//! Home login: the teacher's addresses, the activation mail and link, the parent's sign-in,
//! the block after ten failures and the teacher's unblock, the 15-minute throttle. The clock is
//! fixed; nothing sleeps.

use std::time::Duration;

use broker::clock::Clock as _;
use broker::login::password::PasswordError;
use broker::login::thuis::{self, HomeOutcome, ThuisError};
use broker::model::{ThuisStatus, User};
use serde_json::Value;

use crate::server::TestApp;

fn user(t: &TestApp, demo: &Value, name: &str) -> User {
    let list = demo["pupils"]
        .as_array()
        .unwrap()
        .iter()
        .chain(demo["staff"].as_array().unwrap())
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in the demo"));
    t.state
        .dir
        .user(list["user_id"].as_str().unwrap().parse().unwrap())
        .unwrap()
        .unwrap()
}

/// The activation or reset token in a mail.
fn token_in(mail: &str) -> String {
    let decoded = mail.replace("=\r\n", "").replace("=3D", "=");
    let start = decoded
        .find("/thuis/wachtwoord/")
        .expect("a home link in the mail")
        + "/thuis/wachtwoord/".len();
    decoded[start..start + 36].to_string()
}

/// A home sign-in, each from another client address (so no client limit or challenge comes
/// into play).
fn sign_in(
    state: &idp::app::AppState,
    email: &str,
    password: &str,
    now: i64,
) -> HomeOutcome<broker::model::ThuisAccount> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let client = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
    thuis::sign_in(
        &state.world(),
        state.login_keys(),
        email,
        password,
        Some(&client),
        None,
        now,
    )
}

fn status(t: &TestApp, pupil: &User) -> ThuisStatus {
    ThuisStatus::of(&t.state.dir.thuis_accounts_of_user(pupil.id).unwrap())
}

#[test]
fn the_status_goes_from_nee_nee_to_ja_ja_for_a_whole_family() {
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let anna = user(&t, &demo, "Anna de Vries");
    let emma = user(&t, &demo, "Emma de Jong");
    let daan = user(&t, &demo, "Daan Bakker");
    let liam = user(&t, &demo, "Liam de Boer");
    let now = t.clock.now_secs();
    assert_eq!(status(&t, &emma), ThuisStatus::NeeNee);
    assert_eq!(ThuisStatus::NeeNee.label(), "Nee/Nee");

    // Anna teaches 3A: Emma and Daan are hers, Liam (7B) is not.
    thuis::set_addresses(
        &t.state.world(),
        &anna,
        &emma,
        &[" Familie@Voorbeeld.NL", ""],
        now,
    )
    .unwrap();
    assert_eq!(
        thuis::set_addresses(&t.state.world(), &anna, &liam, &["x@voorbeeld.nl"], now),
        Err(ThuisError::NotYourPupil)
    );
    assert!(matches!(
        thuis::set_addresses(&t.state.world(), &anna, &daan, &["geen adres"], now),
        Err(ThuisError::InvalidAddress(_))
    ));
    assert_eq!(
        thuis::set_addresses(&t.state.world(), &anna, &daan, &["a@v.nl", "A@v.nl"], now),
        Err(ThuisError::SameAddress)
    );
    assert_eq!(status(&t, &emma), ThuisStatus::JaNee);
    let mails = t.outbox();
    assert_eq!(mails.len(), 1, "the activation mail goes at once");
    assert!(
        mails[0].contains("To: familie@voorbeeld.nl") && mails[0].contains("no-reply@"),
        "{}",
        mails[0]
    );
    // The same family address for a sibling: one account, no second mail within 15 minutes.
    thuis::set_addresses(
        &t.state.world(),
        &anna,
        &daan,
        &["familie@voorbeeld.nl"],
        now,
    )
    .unwrap();
    assert_eq!(t.outbox().len(), 1);
    assert_eq!(status(&t, &daan), ThuisStatus::JaNee);

    // The parent sets a password with the link: both children are Ja/Ja.
    let token = token_in(&t.outbox()[0]);
    assert_eq!(token.len(), 36);
    assert_eq!(
        thuis::set_password_with_link(&t.state.world(), &token, "kort1", "kort1", now)
            .map(|_| ())
            .unwrap_err(),
        PasswordError::Weak(broker::login::password_policy::WeakPassword::TooShort)
    );
    thuis::set_password_with_link(
        &t.state.world(),
        &token,
        "rode kano op de rivier",
        "rode kano op de rivier",
        now,
    )
    .unwrap();
    assert_eq!(status(&t, &emma), ThuisStatus::JaJa);
    assert_eq!(status(&t, &daan), ThuisStatus::JaJa);
    assert_eq!(
        thuis::set_password_with_link(
            &t.state.world(),
            &token,
            "rode kano op de rivier",
            "rode kano op de rivier",
            now
        )
        .map(|_| ()),
        Err(PasswordError::InvalidLink),
        "single use"
    );
    // The address is the user name, in any case.
    match sign_in(
        &t.state,
        "FAMILIE@voorbeeld.nl",
        "rode kano op de rivier",
        now,
    ) {
        HomeOutcome::Ok(mut a) => {
            a.pupils.sort();
            let mut both = vec![emma.id, daan.id];
            both.sort();
            assert_eq!(a.pupils, both);
        }
        other => panic!("{other:?}"),
    }
    // Removing the address: Nee/Nee again.
    thuis::set_addresses(&t.state.world(), &anna, &emma, &[], now).unwrap();
    assert_eq!(status(&t, &emma), ThuisStatus::NeeNee);
    assert_eq!(status(&t, &daan), ThuisStatus::JaJa);
    // Every change is in the audit trail, by whom and about which pupil.
    let events = t.state.dir.audit_events(Some(&emma.school), 100).unwrap();
    for action in ["thuis.address-added", "thuis.address-removed"] {
        assert!(
            events.iter().any(|e| e.action == action
                && e.actor == format!("user:{}", anna.id)
                && e.subject.as_deref() == Some(emma.id.to_string().as_str())),
            "{action}"
        );
    }
}

/// The demo prints a home account that works: Julia's parents sign in with the printed
/// password, and the account serves Julia (and nobody else).
#[test]
fn the_demo_parent_signs_in_for_julia() {
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let julia = user(&t, &demo, "Julia Meijer");
    let home = &demo["home"][0];
    assert_eq!(home["children"][0]["user_id"], julia.id.to_string());
    let (email, password) = (
        home["email"].as_str().unwrap(),
        home["password"].as_str().unwrap(),
    );
    let now = t.clock.now_secs();
    match sign_in(&t.state, email, password, now) {
        HomeOutcome::Ok(account) => assert_eq!(account.pupils, vec![julia.id]),
        other => panic!("the demo parent's printed password: {other:?}"),
    }
    assert!(matches!(
        sign_in(&t.state, email, "niet-het-wachtwoord", now),
        HomeOutcome::Wrong
    ));
    let accounts = t.state.dir.thuis_accounts_of_user(julia.id).unwrap();
    assert_eq!(accounts.len(), 1);
    assert!(accounts[0].activated_at.is_some(), "activated");
    // `demo-serve` prints it too.
    let text = idp::demo::describe(&demo);
    assert!(
        text.contains(&format!("{email:<36} {password}  (Julia Meijer; ")),
        "{text}"
    );
}

#[test]
fn ten_wrong_passwords_block_the_home_account_until_the_teacher_lifts_it() {
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let anna = user(&t, &demo, "Anna de Vries");
    let emma = user(&t, &demo, "Emma de Jong");
    let now = t.clock.now_secs();
    thuis::set_addresses(&t.state.world(), &anna, &emma, &["ouder@voorbeeld.nl"], now).unwrap();
    let token = token_in(&t.outbox()[0]);
    thuis::set_password_with_link(
        &t.state.world(),
        &token,
        "rode kano op de rivier",
        "rode kano op de rivier",
        now,
    )
    .unwrap();

    for _ in 0..9 {
        assert!(matches!(
            sign_in(&t.state, "ouder@voorbeeld.nl", "Fout12345", now),
            HomeOutcome::Wrong
        ));
    }
    let until = match sign_in(&t.state, "ouder@voorbeeld.nl", "Fout12345", now) {
        HomeOutcome::Blocked { until } => until,
        other => panic!("the tenth blocks: {other:?}"),
    };
    assert_eq!(until, now + 3600);
    assert!(
        matches!(
            sign_in(
                &t.state,
                "ouder@voorbeeld.nl",
                "rode kano op de rivier",
                now
            ),
            HomeOutcome::Blocked { .. }
        ),
        "blocked: even the right password waits"
    );
    // Unknown addresses and wrong passwords look alike (see below for the whole sequence).
    assert!(matches!(
        sign_in(
            &t.state,
            "onbekend@voorbeeld.nl",
            "rode kano op de rivier",
            now
        ),
        HomeOutcome::Wrong
    ));
    // The teacher unblocks.
    thuis::unblock(&t.state.world(), &anna, &emma, now).unwrap();
    assert!(matches!(
        sign_in(
            &t.state,
            "ouder@voorbeeld.nl",
            "rode kano op de rivier",
            now
        ),
        HomeOutcome::Ok(_)
    ));
    // Or the hour passes.
    for _ in 0..10 {
        let _ = sign_in(&t.state, "ouder@voorbeeld.nl", "Fout12345", now);
    }
    t.clock.advance(Duration::from_secs(3601));
    assert!(matches!(
        sign_in(
            &t.state,
            "ouder@voorbeeld.nl",
            "rode kano op de rivier",
            t.clock.now_secs()
        ),
        HomeOutcome::Ok(_)
    ));
}

#[test]
fn forgotten_password_links_come_once_per_quarter_hour_and_say_nothing() {
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let anna = user(&t, &demo, "Anna de Vries");
    let emma = user(&t, &demo, "Emma de Jong");
    let now = t.clock.now_secs();
    thuis::set_addresses(&t.state.world(), &anna, &emma, &["ouder@voorbeeld.nl"], now).unwrap();
    assert_eq!(t.outbox().len(), 1);
    // Within 15 minutes of the activation mail: nothing more.
    thuis::request_link(&t.state.world(), "ouder@voorbeeld.nl", now);
    assert_eq!(t.outbox().len(), 1);
    // Unknown addresses: nothing, and no error.
    thuis::request_link(&t.state.world(), "onbekend@voorbeeld.nl", now);
    assert_eq!(t.outbox().len(), 1);
    t.clock.advance(Duration::from_secs(15 * 60));
    thuis::request_link(&t.state.world(), "Ouder@Voorbeeld.nl", t.clock.now_secs());
    assert_eq!(t.outbox().len(), 2);
    // The teacher's resend is throttled the same way.
    let account = t
        .state
        .dir
        .thuis_accounts_of_user(emma.id)
        .unwrap()
        .remove(0);
    assert_eq!(
        thuis::send_link(
            &t.state.world(),
            &account,
            thuis::LinkKind::Activation,
            t.clock.now_secs()
        ),
        Err(ThuisError::Throttled)
    );
    // An activation link expires after a week.
    let token = token_in(&t.outbox()[1]);
    t.clock.advance(Duration::from_secs(7 * 24 * 3600 + 1));
    assert_eq!(
        thuis::set_password_with_link(
            &t.state.world(),
            &token,
            "rode kano op de rivier",
            "rode kano op de rivier",
            t.clock.now_secs()
        )
        .map(|_| ()),
        Err(PasswordError::InvalidLink)
    );
}

#[test]
fn teachers_see_the_pins_and_pictures_of_their_own_pupils_only() {
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let anna = user(&t, &demo, "Anna de Vries");
    let karim = user(&t, &demo, "Karim El Amrani");
    let sanne = user(&t, &demo, "Sanne Jansen");
    let emma = user(&t, &demo, "Emma de Jong");
    let lotte = user(&t, &demo, "Lotte Peters");
    let now = t.clock.now_secs();
    use broker::login::pupil::{reveal, Revealed};
    assert_eq!(
        reveal(
            &t.state.world(),
            &t.state.sealer,
            &anna,
            &emma,
            "test",
            now,
            idp::pictures::stored_sequence
        ),
        Some(Revealed::Pin("1234".into()))
    );
    assert_eq!(
        reveal(
            &t.state.world(),
            &t.state.sealer,
            &karim,
            &emma,
            "test",
            now,
            idp::pictures::stored_sequence
        ),
        None,
        "7B's teacher"
    );
    assert_eq!(
        reveal(
            &t.state.world(),
            &t.state.sealer,
            &sanne,
            &emma,
            "test",
            now,
            idp::pictures::stored_sequence
        ),
        Some(Revealed::Pin("1234".into())),
        "the ICT coordinator sees the whole school"
    );
    match reveal(
        &t.state.world(),
        &t.state.sealer,
        &sanne,
        &lotte,
        "test",
        now,
        idp::pictures::stored_sequence,
    ) {
        Some(Revealed::Pictures(p)) => {
            assert_eq!(
                p.iter().map(|p| p.name).collect::<Vec<_>>(),
                ["vos", "appel", "zon"]
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        reveal(
            &t.state.world(),
            &t.state.sealer,
            &emma,
            &emma,
            "test",
            now,
            idp::pictures::stored_sequence
        ),
        None,
        "pupils never"
    );
    let shown = t
        .state
        .dir
        .audit_events(Some(&emma.school), 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "pupil.secret-shown")
        .count();
    assert_eq!(shown, 3, "every showing is audited");
}

#[test]
fn a_teacher_is_never_a_child_at_home_and_wrong_child_codes_block_the_account() {
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let anna = user(&t, &demo, "Anna de Vries");
    let emma = user(&t, &demo, "Emma de Jong");
    let now = t.clock.now_secs();
    thuis::set_addresses(&t.state.world(), &anna, &emma, &["ouder@voorbeeld.nl"], now).unwrap();
    // Staff cannot be given a home address.
    assert_eq!(
        thuis::set_addresses(&t.state.world(), &anna, &anna, &["ouder@voorbeeld.nl"], now),
        Err(ThuisError::NotYourPupil)
    );
    let token = token_in(&t.outbox()[0]);
    let account = thuis::set_password_with_link(
        &t.state.world(),
        &token,
        "rode kano op de rivier",
        "rode kano op de rivier",
        now,
    )
    .unwrap();
    let visit_id = thuis::start_visit(&t.state.world(), &account, now).unwrap();
    let visit = thuis::load_visit(&t.state.world(), &visit_id, now).unwrap();
    use broker::login::pupil::PupilSecret;
    // A teacher's id in the visit's place: refused, whatever the code.
    assert!(matches!(
        thuis::child_sign_in(
            &t.state.world(),
            &t.state.pins,
            &visit_id,
            &visit,
            &anna,
            PupilSecret::Pin("1234"),
            None,
            None,
            now
        ),
        HomeOutcome::Wrong
    ));
    for _ in 0..9 {
        assert!(matches!(
            thuis::child_sign_in(
                &t.state.world(),
                &t.state.pins,
                &visit_id,
                &visit,
                &emma,
                PupilSecret::Pin("0000"),
                None,
                None,
                now
            ),
            HomeOutcome::Wrong
        ));
    }
    assert!(matches!(
        thuis::child_sign_in(
            &t.state.world(),
            &t.state.pins,
            &visit_id,
            &visit,
            &emma,
            PupilSecret::Pin("0000"),
            None,
            None,
            now
        ),
        HomeOutcome::Blocked { .. }
    ));
    // Her school lock is untouched: a sibling at home cannot lock her out of school.
    assert!(matches!(
        broker::login::pupil::pupil_login(
            &t.state.world(),
            &t.state.pins,
            t.state.login_policy(),
            &t.state.dir.school(&emma.school).unwrap().unwrap(),
            emma.id,
            PupilSecret::Pin("1234"),
            Some("127.0.0.1"),
            "device",
            None,
            true,
            None,
            now
        )
        .outcome,
        broker::login::pupil::PupilOutcome::Ok(_)
    ));
    thuis::unblock(&t.state.world(), &anna, &emma, now).unwrap();
    match thuis::child_sign_in(
        &t.state.world(),
        &t.state.pins,
        &visit_id,
        &visit,
        &emma,
        PupilSecret::Pin("1234"),
        Some("198.51.100.7"),
        None,
        now,
    ) {
        HomeOutcome::Ok(s) => {
            assert_eq!(s.context, claims::LoginContext::Thuis);
            assert_eq!(s.amr, vec!["pwd".to_string(), "pin".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        thuis::load_visit(&t.state.world(), &visit_id, now).is_none(),
        "the visit ends when the child is in"
    );
}

#[test]
fn home_login_codes_are_personal_renewable_and_guarded() {
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let anna = user(&t, &demo, "Anna de Vries");
    let karim = user(&t, &demo, "Karim El Amrani");
    let emma = user(&t, &demo, "Emma de Jong");
    let now = t.clock.now_secs();
    let code =
        thuis::code_for(&t.state.world(), &t.state.sealer, &anna, &emma, false, now).unwrap();
    assert_eq!(code.len(), 14, "ABCD-EFGH-JKMN: {code}");
    assert!(code
        .chars()
        .all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"01ILO".contains(c))));
    assert_eq!(
        thuis::code_for(&t.state.world(), &t.state.sealer, &anna, &emma, false, now).unwrap(),
        code,
        "printing again gives the same code"
    );
    assert_eq!(
        thuis::code_for(&t.state.world(), &t.state.sealer, &karim, &emma, false, now),
        Err(ThuisError::NotYourPupil)
    );
    // Typed in lower case with spaces: still hers.
    let typed = code.to_lowercase().replace('-', " ");
    match thuis::redeem_code(&t.state.world(), &typed, "device-a", now) {
        HomeOutcome::Ok(c) => assert_eq!(c.id, emma.id),
        other => panic!("{other:?}"),
    }
    // A device remembers her with the code's tag; a new code makes it forget her.
    let device = idp::device::HomeDevice {
        device: uuid::Uuid::new_v4(),
        children: vec![idp::device::RememberedChild {
            id: emma.id,
            code_tag: thuis::code_tag(&typed),
        }],
        expires_at: now + 60,
    };
    assert_eq!(
        thuis::current_children(
            &t.state.world(),
            &t.state.sealer,
            device.children.iter().map(|c| (c.id, c.code_tag.as_str())),
        ),
        vec![emma.id]
    );
    let renewed =
        thuis::code_for(&t.state.world(), &t.state.sealer, &anna, &emma, true, now).unwrap();
    assert_ne!(renewed, code);
    assert!(thuis::current_children(
        &t.state.world(),
        &t.state.sealer,
        device.children.iter().map(|c| (c.id, c.code_tag.as_str())),
    )
    .is_empty());
    assert!(matches!(
        thuis::redeem_code(&t.state.world(), &code, "device-a", now),
        HomeOutcome::Wrong
    ));
    // Ten wrong codes block that device for an hour; another device is not blocked.
    for _ in 0..8 {
        assert!(matches!(
            thuis::redeem_code(&t.state.world(), "AAAA-BBBB-CCCC", "device-a", now),
            HomeOutcome::Wrong
        ));
    }
    assert!(matches!(
        thuis::redeem_code(&t.state.world(), "AAAA-BBBB-CCCC", "device-a", now),
        HomeOutcome::Blocked { .. }
    ));
    assert!(matches!(
        thuis::redeem_code(&t.state.world(), &renewed, "device-a", now),
        HomeOutcome::Blocked { .. }
    ));
    assert!(matches!(
        thuis::redeem_code(&t.state.world(), &renewed, "device-b", now),
        HomeOutcome::Ok(_)
    ));
    let events = t.state.dir.audit_events(Some(&emma.school), 100).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "thuis.code-made")
            .count(),
        2
    );
}

/// An answer as the page shows it.
fn answer(o: &HomeOutcome<broker::model::ThuisAccount>) -> String {
    match o {
        HomeOutcome::Ok(_) => "signed in".into(),
        HomeOutcome::Wrong => "wrong".into(),
        HomeOutcome::Blocked { until } => format!("blocked until {until}"),
        other => format!("{other:?}"),
    }
}

#[test]
fn unknown_and_known_addresses_get_the_same_answers_at_the_same_points() {
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let anna = user(&t, &demo, "Anna de Vries");
    let emma = user(&t, &demo, "Emma de Jong");
    let now = t.clock.now_secs();
    thuis::set_addresses(&t.state.world(), &anna, &emma, &["ouder@voorbeeld.nl"], now).unwrap();
    let token = token_in(&t.outbox()[0]);
    thuis::set_password_with_link(
        &t.state.world(),
        &token,
        "rode kano op de rivier",
        "rode kano op de rivier",
        now,
    )
    .unwrap();

    let sequence = |email: &str| -> Vec<String> {
        (0..12)
            .map(|_| answer(&sign_in(&t.state, email, "Fout12345", now)))
            .collect()
    };
    let known = sequence("ouder@voorbeeld.nl");
    let unknown = sequence("niemand@voorbeeld.nl");
    assert_eq!(known, unknown);
    assert_eq!(known[8], "wrong");
    assert_eq!(known[9], format!("blocked until {}", now + 3600));
    assert_eq!(known[11], format!("blocked until {}", now + 3600));
    // The unknown address is counted by a keyed tag: the store never holds it.
    // (A badly formed "address" is counted the same way.)
    let odd = sequence("geen adres");
    assert_eq!(odd, known);
}

#[test]
fn a_client_is_limited_and_challenged_before_any_password_is_checked() {
    use broker::login::challenge::Purpose;
    use broker::secrets::argon2_runs_on_this_thread as runs;
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let anna = user(&t, &demo, "Anna de Vries");
    let emma = user(&t, &demo, "Emma de Jong");
    let now = t.clock.now_secs();
    thuis::set_addresses(&t.state.world(), &anna, &emma, &["ouder@voorbeeld.nl"], now).unwrap();
    let token = token_in(&t.outbox()[0]);
    thuis::set_password_with_link(
        &t.state.world(),
        &token,
        "rode kano op de rivier",
        "rode kano op de rivier",
        now,
    )
    .unwrap();
    let from = |client: &str, email: &str, pw: &str, challenge: Option<&str>| {
        thuis::sign_in(
            &t.state.world(),
            t.state.login_keys(),
            email,
            pw,
            Some(client),
            challenge,
            now,
        )
    };

    // Three failures from one client (different addresses): then the challenge first.
    let client = "198.51.100.7";
    for i in 0..3 {
        let before = runs();
        let o = from(client, &format!("kind{i}@voorbeeld.nl"), "Fout12345", None);
        assert!(matches!(o, HomeOutcome::Wrong), "{o:?}");
        assert_eq!(runs(), before + 1, "each answer cost one check");
    }
    assert!(thuis::challenge_needed(&t.state.world(), Some(client)));
    assert!(!thuis::challenge_needed(
        &t.state.world(),
        Some("198.51.100.8")
    ));
    let before = runs();
    let o = from(client, "ouder@voorbeeld.nl", "rode kano op de rivier", None);
    assert!(matches!(o, HomeOutcome::ChallengeRequired), "{o:?}");
    // A solution made for another client, or for the staff form, does not do.
    for (purpose, ip) in [
        (Purpose::HomeLogin, "198.51.100.8"),
        (Purpose::StaffLogin, client),
    ] {
        let c = t.state.challenges.issue(now, 2_000, purpose, ip).unwrap();
        let sol = broker::login::challenge::solve(&c).unwrap();
        let o = from(
            client,
            "ouder@voorbeeld.nl",
            "rode kano op de rivier",
            Some(&sol),
        );
        assert!(matches!(o, HomeOutcome::ChallengeRequired), "{o:?}");
    }
    assert_eq!(runs(), before, "no password checked without the challenge");
    let c = t
        .state
        .challenges
        .issue(now, 2_000, Purpose::HomeLogin, client)
        .unwrap();
    let sol = broker::login::challenge::solve(&c).unwrap();
    let o = from(
        client,
        "ouder@voorbeeld.nl",
        "rode kano op de rivier",
        Some(&sol),
    );
    assert!(matches!(o, HomeOutcome::Ok(_)), "{o:?}");

    // Attempts from one client: at most 30 per window, then refused before hashing.
    let other = "203.0.113.9";
    for _ in 0..thuis::MAX_ATTEMPTS_PER_CLIENT {
        let o = from(other, "ouder@voorbeeld.nl", "rode kano op de rivier", None);
        assert!(matches!(o, HomeOutcome::Ok(_)), "{o:?}");
    }
    let before = runs();
    for pw in ["rode kano op de rivier", "Fout12345"] {
        let o = from(other, "ouder@voorbeeld.nl", pw, None);
        assert!(matches!(o, HomeOutcome::Throttled), "{o:?}");
        let o = from(other, "niemand@voorbeeld.nl", pw, None);
        assert!(matches!(o, HomeOutcome::Throttled), "{o:?}");
    }
    assert_eq!(runs(), before, "refused before any hashing");
    // Another client is not affected; after the window this one may again.
    let o = from(
        "203.0.113.10",
        "ouder@voorbeeld.nl",
        "rode kano op de rivier",
        None,
    );
    assert!(matches!(o, HomeOutcome::Ok(_)), "{o:?}");

    // A blocked address is refused before hashing too.
    for _ in 0..10 {
        let _ = sign_in(&t.state, "niemand@voorbeeld.nl", "Fout12345", now);
    }
    let before = runs();
    let o = from("203.0.113.11", "niemand@voorbeeld.nl", "Fout12345", None);
    assert!(matches!(o, HomeOutcome::Blocked { .. }), "{o:?}");
    assert_eq!(runs(), before);
}

#[actix_web::test]
async fn the_home_entrance_asks_for_the_challenge_after_failures() {
    use actix_web::test;
    let t = TestApp::init();
    idp::demo::seed(&t.state).unwrap();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let body_of = |res: actix_web::dev::ServiceResponse| async move {
        String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
    };
    let res = test::call_service(&app, test::TestRequest::get().uri("/thuis").to_request()).await;
    let cookie = res
        .response()
        .cookies()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ");
    let mut body = body_of(res.map_into_boxed_body()).await;
    assert!(!body.contains("data-challenge"), "none before failures");
    for i in 0..4 {
        let csrf = crate::support::page::hidden(&body, "csrf_token");
        let req = test::TestRequest::post()
            .uri("/thuis")
            .insert_header(("cookie", cookie.clone()))
            .set_form([
                ("csrf_token", csrf.as_str()),
                ("email", "niemand@voorbeeld.nl"),
                ("password", "Fout12345"),
            ])
            .to_request();
        body = body_of(test::call_service(&app, req).await.map_into_boxed_body()).await;
        if i < 2 {
            assert!(!body.contains("data-challenge"), "attempt {i}: {body}");
        } else {
            assert!(
                body.contains("data-challenge") && body.contains("/static/challenge.js"),
                "attempt {i}: {body}"
            );
        }
    }
    // The fourth went unsolved: refused with the challenge's message.
    assert!(
        body.contains("rekencontrole") || body.contains("knop weer werkt"),
        "{body}"
    );
}

/// A signed-in staff member's cookie header.
fn staff_cookie(t: &TestApp, staff: &User) -> String {
    let s = idp::session::start(
        t.state.store.as_ref(),
        idp::session::Authenticated {
            user_id: staff.id,
            school: staff.school,
            amr: vec!["pwd".into()],
            acr: broker::session::ACR_PASSWORD.into(),
            context: claims::LoginContext::School,
            ip: None,
        },
        t.clock.now_secs(),
        None,
    )
    .unwrap();
    let c = idp::session::session_cookie(&s, t.state.config.is_https());
    format!("{}={}", c.name(), c.value())
}

#[actix_web::test]
async fn letters_and_the_print_version_change_nothing_on_get() {
    use actix_web::http::StatusCode;
    use actix_web::test;
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let anna = user(&t, &demo, "Anna de Vries");
    let emma = user(&t, &demo, "Emma de Jong");
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let session = staff_cookie(&t, &anna);
    let group = emma.group_ids[0];
    let code_of = |t: &TestApp| {
        t.state
            .dir
            .thuis_code_sealed(emma.id)
            .unwrap()
            .and_then(|s| t.state.sealer.open(emma.id, &s))
    };
    let shown = |t: &TestApp| {
        t.state
            .dir
            .audit_events(Some(&emma.school), 500)
            .unwrap()
            .iter()
            .filter(|e| e.action == "pupil.secret-shown")
            .count()
    };
    let letter = format!("/groepen/leerling/{}/thuiscode", emma.id);
    let letters = format!("/groepen/{group}/thuiscodes");
    let print = format!("/groepen/{group}/afdrukken");

    // GET: a page with the button; no code is made, no PIN shown.
    let mut csrf = (String::new(), String::new());
    for uri in [&letter, &letters, &print] {
        let req = test::TestRequest::get()
            .uri(uri)
            .insert_header(("cookie", session.clone()))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        let cookie = res
            .response()
            .cookies()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ");
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(body.contains("method=\"post\""), "{uri}: {body}");
        csrf = (cookie, crate::support::page::hidden(&body, "csrf_token"));
    }
    assert_eq!(code_of(&t), None, "a GET makes no code");
    assert_eq!(shown(&t), 0, "a GET shows no PIN");

    // POST without the token: refused, nothing made.
    let cookies = format!("{session}; {}", csrf.0);
    let req = test::TestRequest::post()
        .uri(&letter)
        .insert_header(("cookie", cookies.clone()))
        .set_form([("csrf_token", "wrong")])
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(code_of(&t), None);

    // POST with it: the letter, and a code.
    let req = test::TestRequest::post()
        .uri(&letter)
        .insert_header(("cookie", cookies.clone()))
        .set_form([("csrf_token", csrf.1.as_str())])
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let code = code_of(&t).expect("the POST made a code");
    // Another GET: the old code still works.
    let req = test::TestRequest::get()
        .uri(&letter)
        .insert_header(("cookie", session.clone()))
        .to_request();
    test::call_service(&app, req).await;
    assert_eq!(code_of(&t), Some(code.clone()));
    assert!(matches!(
        thuis::redeem_code(&t.state.world(), &code, "apparaat", t.clock.now_secs()),
        HomeOutcome::Ok(_)
    ));

    // The print version by POST shows the PINs.
    let req = test::TestRequest::post()
        .uri(&print)
        .insert_header(("cookie", cookies))
        .set_form([("csrf_token", csrf.1.as_str())])
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(shown(&t) > 0);
}

#[actix_web::test]
async fn unreadable_requests_get_the_catalogue_page_not_the_framework_text() {
    use actix_web::http::StatusCode;
    use actix_web::test;
    let t = TestApp::init();
    idp::demo::seed(&t.state).unwrap();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let read = |res: actix_web::dev::ServiceResponse| async move {
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        (status, ct, body)
    };
    // A form without its csrf_token, in Dutch and in English.
    for (lang, words) in [("nl", "Dat lukte niet"), ("en", "That did not work")] {
        let req = test::TestRequest::post()
            .uri("/thuis")
            .insert_header(("accept-language", lang))
            .set_form([("email", "a@b.nl"), ("password", "x")])
            .to_request();
        let (status, ct, body) =
            read(test::call_service(&app, req).await.map_into_boxed_body()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(ct.starts_with("text/html"), "{ct}");
        assert!(body.contains(words), "{body}");
        assert!(!body.contains("missing field"), "{body}");
    }
    // A path with a bad UUID.
    let req = test::TestRequest::get()
        .uri("/thuis/kind/geen-uuid")
        .to_request();
    let (status, ct, body) = read(test::call_service(&app, req).await.map_into_boxed_body()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(body.contains("Pagina niet gevonden"), "{body}");
    assert!(!body.to_lowercase().contains("uuid"), "{body}");
    // A query that does not parse.
    let req = test::TestRequest::get()
        .uri("/thuis?ouder=1&TARGET=%ZZ")
        .to_request();
    let (status, _, body) = read(test::call_service(&app, req).await.map_into_boxed_body()).await;
    assert!(
        status == StatusCode::OK || body.contains("Dat lukte niet"),
        "{status}: {body}"
    );
    // The token endpoint keeps OAuth's JSON errors.
    let req = test::TestRequest::post()
        .uri("/oidc/token")
        .insert_header(("content-type", "text/plain"))
        .set_payload("grant_type=authorization_code")
        .to_request();
    let (status, ct, body) = read(test::call_service(&app, req).await.map_into_boxed_body()).await;
    assert!(status.is_client_error(), "{status}");
    assert!(ct.starts_with("application/json"), "{ct}: {body}");
    assert!(body.contains("invalid_request"), "{body}");
}
