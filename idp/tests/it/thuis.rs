//! Home login: the teacher's addresses, the activation mail and link, the parent's sign-in,
//! the block after ten failures and the teacher's unblock, the 15-minute throttle. The clock is
//! fixed; nothing sleeps.

use std::time::Duration;

use broker::clock::Clock as _;
use broker::model::{ThuisStatus, User};
use idp::password::PasswordError;
use idp::thuis::{self, HomeOutcome, ThuisError};
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
    thuis::set_addresses(&t.state, &anna, &emma, &[" Familie@Voorbeeld.NL", ""], now).unwrap();
    assert_eq!(
        thuis::set_addresses(&t.state, &anna, &liam, &["x@voorbeeld.nl"], now),
        Err(ThuisError::NotYourPupil)
    );
    assert!(matches!(
        thuis::set_addresses(&t.state, &anna, &daan, &["geen adres"], now),
        Err(ThuisError::InvalidAddress(_))
    ));
    assert_eq!(
        thuis::set_addresses(&t.state, &anna, &daan, &["a@v.nl", "A@v.nl"], now),
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
    thuis::set_addresses(&t.state, &anna, &daan, &["familie@voorbeeld.nl"], now).unwrap();
    assert_eq!(t.outbox().len(), 1);
    assert_eq!(status(&t, &daan), ThuisStatus::JaNee);

    // The parent sets a password with the link: both children are Ja/Ja.
    let token = token_in(&t.outbox()[0]);
    assert_eq!(token.len(), 36);
    assert_eq!(
        thuis::set_password_with_link(&t.state, &token, "kort1", "kort1", now)
            .map(|_| ())
            .unwrap_err(),
        PasswordError::Weak(idp::password_policy::WeakPassword::TooShort)
    );
    thuis::set_password_with_link(
        &t.state,
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
            &t.state,
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
    match thuis::sign_in(
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
    thuis::set_addresses(&t.state, &anna, &emma, &[], now).unwrap();
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

#[test]
fn ten_wrong_passwords_block_the_home_account_until_the_teacher_lifts_it() {
    let t = TestApp::init();
    let demo = idp::demo::seed(&t.state).unwrap();
    let anna = user(&t, &demo, "Anna de Vries");
    let emma = user(&t, &demo, "Emma de Jong");
    let now = t.clock.now_secs();
    thuis::set_addresses(&t.state, &anna, &emma, &["ouder@voorbeeld.nl"], now).unwrap();
    let token = token_in(&t.outbox()[0]);
    thuis::set_password_with_link(
        &t.state,
        &token,
        "rode kano op de rivier",
        "rode kano op de rivier",
        now,
    )
    .unwrap();

    for _ in 0..9 {
        assert!(matches!(
            thuis::sign_in(&t.state, "ouder@voorbeeld.nl", "Fout12345", now),
            HomeOutcome::Wrong
        ));
    }
    let until = match thuis::sign_in(&t.state, "ouder@voorbeeld.nl", "Fout12345", now) {
        HomeOutcome::Blocked { until } => until,
        other => panic!("the tenth blocks: {other:?}"),
    };
    assert_eq!(until, now + 3600);
    assert!(
        matches!(
            thuis::sign_in(
                &t.state,
                "ouder@voorbeeld.nl",
                "rode kano op de rivier",
                now
            ),
            HomeOutcome::Blocked { .. }
        ),
        "blocked: even the right password waits"
    );
    // Unknown addresses and wrong passwords look alike.
    assert!(matches!(
        thuis::sign_in(
            &t.state,
            "onbekend@voorbeeld.nl",
            "rode kano op de rivier",
            now
        ),
        HomeOutcome::Wrong
    ));
    // The teacher unblocks.
    thuis::unblock(&t.state, &anna, &emma, now).unwrap();
    assert!(matches!(
        thuis::sign_in(
            &t.state,
            "ouder@voorbeeld.nl",
            "rode kano op de rivier",
            now
        ),
        HomeOutcome::Ok(_)
    ));
    // Or the hour passes.
    for _ in 0..10 {
        let _ = thuis::sign_in(&t.state, "ouder@voorbeeld.nl", "Fout12345", now);
    }
    t.clock.advance(Duration::from_secs(3601));
    assert!(matches!(
        thuis::sign_in(
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
    thuis::set_addresses(&t.state, &anna, &emma, &["ouder@voorbeeld.nl"], now).unwrap();
    assert_eq!(t.outbox().len(), 1);
    // Within 15 minutes of the activation mail: nothing more.
    thuis::request_link(&t.state, "ouder@voorbeeld.nl", now);
    assert_eq!(t.outbox().len(), 1);
    // Unknown addresses: nothing, and no error.
    thuis::request_link(&t.state, "onbekend@voorbeeld.nl", now);
    assert_eq!(t.outbox().len(), 1);
    t.clock.advance(Duration::from_secs(15 * 60));
    thuis::request_link(&t.state, "Ouder@Voorbeeld.nl", t.clock.now_secs());
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
            &t.state,
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
            &t.state,
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
    use idp::pupil::{reveal, Revealed};
    assert_eq!(
        reveal(&t.state, &anna, &emma, "test", now),
        Some(Revealed::Pin("1234".into()))
    );
    assert_eq!(
        reveal(&t.state, &karim, &emma, "test", now),
        None,
        "7B's teacher"
    );
    assert_eq!(
        reveal(&t.state, &sanne, &emma, "test", now),
        Some(Revealed::Pin("1234".into())),
        "the ICT coordinator sees the whole school"
    );
    match reveal(&t.state, &sanne, &lotte, "test", now) {
        Some(Revealed::Pictures(p)) => {
            assert_eq!(
                p.iter().map(|p| p.name).collect::<Vec<_>>(),
                ["vos", "appel", "zon"]
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        reveal(&t.state, &emma, &emma, "test", now),
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
    thuis::set_addresses(&t.state, &anna, &emma, &["ouder@voorbeeld.nl"], now).unwrap();
    // Staff cannot be given a home address.
    assert_eq!(
        thuis::set_addresses(&t.state, &anna, &anna, &["ouder@voorbeeld.nl"], now),
        Err(ThuisError::NotYourPupil)
    );
    let token = token_in(&t.outbox()[0]);
    let account = thuis::set_password_with_link(
        &t.state,
        &token,
        "rode kano op de rivier",
        "rode kano op de rivier",
        now,
    )
    .unwrap();
    let visit_id = thuis::start_visit(&t.state, &account, now).unwrap();
    let visit = thuis::load_visit(&t.state, &visit_id, now).unwrap();
    use idp::pupil::PupilSecret;
    // A teacher's id in the visit's place: refused, whatever the code.
    assert!(matches!(
        thuis::child_sign_in(
            &t.state,
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
                &t.state,
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
            &t.state,
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
        idp::pupil::pupil_login(
            &t.state,
            &t.state.dir.school(&emma.school).unwrap().unwrap(),
            emma.id,
            PupilSecret::Pin("1234"),
            Some("127.0.0.1"),
            "device",
            true,
            None,
            now
        ),
        idp::pupil::PupilOutcome::Ok(_)
    ));
    thuis::unblock(&t.state, &anna, &emma, now).unwrap();
    match thuis::child_sign_in(
        &t.state,
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
        thuis::load_visit(&t.state, &visit_id, now).is_none(),
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
    let code = thuis::code_for(&t.state, &anna, &emma, false, now).unwrap();
    assert_eq!(code.len(), 14, "ABCD-EFGH-JKMN: {code}");
    assert!(code
        .chars()
        .all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"01ILO".contains(c))));
    assert_eq!(
        thuis::code_for(&t.state, &anna, &emma, false, now).unwrap(),
        code,
        "printing again gives the same code"
    );
    assert_eq!(
        thuis::code_for(&t.state, &karim, &emma, false, now),
        Err(ThuisError::NotYourPupil)
    );
    // Typed in lower case with spaces: still hers.
    let typed = code.to_lowercase().replace('-', " ");
    match thuis::redeem_code(&t.state, &typed, "device-a", now) {
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
    assert_eq!(thuis::current_children(&t.state, &device), vec![emma.id]);
    let renewed = thuis::code_for(&t.state, &anna, &emma, true, now).unwrap();
    assert_ne!(renewed, code);
    assert!(thuis::current_children(&t.state, &device).is_empty());
    assert!(matches!(
        thuis::redeem_code(&t.state, &code, "device-a", now),
        HomeOutcome::Wrong
    ));
    // Ten wrong codes block that device for an hour; another device is not blocked.
    for _ in 0..8 {
        assert!(matches!(
            thuis::redeem_code(&t.state, "AAAA-BBBB-CCCC", "device-a", now),
            HomeOutcome::Wrong
        ));
    }
    assert!(matches!(
        thuis::redeem_code(&t.state, "AAAA-BBBB-CCCC", "device-a", now),
        HomeOutcome::Blocked { .. }
    ));
    assert!(matches!(
        thuis::redeem_code(&t.state, &renewed, "device-a", now),
        HomeOutcome::Blocked { .. }
    ));
    assert!(matches!(
        thuis::redeem_code(&t.state, &renewed, "device-b", now),
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
