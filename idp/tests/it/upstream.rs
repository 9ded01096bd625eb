//! Signing in through a network environment, in process: who is found, who is created, and
//! what is written down.

use broker::federation::{Asserted, MatchError};
use broker::model::{MatchRule, UserStatus};
use idp::upstream::{self, FinishError, Pending};

use crate::server::TestApp;

fn add(
    t: &TestApp,
    name: &str,
    rule: &str,
    claim: &str,
    provision: bool,
) -> broker::model::Upstream {
    let ctx = idp::admin::Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    };
    idp::admin::add_upstream(
        ctx,
        &t.state.sealer,
        idp::admin::UpstreamInput {
            name: name.into(),
            schools: vec![idp::demo::DEMO_SCHOOL_REF.into()],
            oidc_issuer: Some("https://moo.example".into()),
            client_id: Some("leerpoort".into()),
            client_secret: Some("geheim".into()),
            match_rule: rule.into(),
            match_claim: claim.into(),
            provision,
            ..Default::default()
        },
    )
    .unwrap()
}

fn asserted(pairs: &[(&str, &str)]) -> Asserted {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pending(u: &broker::model::Upstream) -> Pending {
    Pending {
        upstream: u.id,
        school: None,
        target: Some("demo-uitgeverij".into()),
        resume: None,
        passive: false,
        protocol: serde_json::Value::Null,
    }
}

#[test]
fn unmatched_users_are_written_down_and_provisioning_creates_them_inactive() {
    let t = TestApp::init();
    idp::demo::seed(&t.state).unwrap();
    let now = 1_800_000_000;
    let moo = add(&t, "moo", "las-key", "las_key", false);
    assert_eq!(moo.match_rule, MatchRule::LasKey);
    // The client secret is kept sealed, and opens for this upstream only.
    match &moo.protocol {
        broker::model::UpstreamProtocol::Oidc {
            client_secret_sealed: Some(s),
            ..
        } => {
            assert!(!s.contains("geheim"));
            assert_eq!(t.state.sealer.open(moo.id, s).as_deref(), Some("geheim"));
        }
        other => panic!("{other:?}"),
    }
    let err = upstream::finish(
        &t.state,
        &moo,
        &asserted(&[("las_key", "LL9999")]),
        &pending(&moo),
        None,
        None,
        now,
    )
    .unwrap_err();
    assert!(
        matches!(err, FinishError::Match(MatchError::Unknown)),
        "{err:?}"
    );
    let events = t
        .state
        .dir
        .audit_events(Some(&idp::demo::DEMO_SCHOOL_REF.parse().unwrap()), 500)
        .unwrap();
    let e = events
        .iter()
        .find(|e| e.action == "upstream.unmatched")
        .expect("an audit event");
    assert_eq!(e.actor, "upstream:moo");
    assert!(
        !e.details.to_string().contains("LL9999"),
        "no asserted values in the trail"
    );

    // A known pupil: a session in context netwerk, on to the target.
    let (s, dest) = upstream::finish(
        &t.state,
        &moo,
        &asserted(&[("las_key", "LL0001")]),
        &pending(&moo),
        Some("192.0.2.1"),
        None,
        now,
    )
    .unwrap();
    assert_eq!(s.context, claims::LoginContext::Netwerk);
    assert_eq!(s.amr, vec!["fed".to_string()]);
    assert!(
        dest.starts_with("http://127.0.0.1:8081/login?iss="),
        "{dest}"
    );

    // Provisioning: a teacher only the network environment knows, created inactive.
    let zulu = add(&t, "zulu", "email", "email", true);
    let (s, _) = upstream::finish(
        &t.state,
        &zulu,
        &asserted(&[
            ("email", "Nieuw@Regenboog.example"),
            ("role", "leerkracht"),
            ("given_name", "Nina"),
            ("family_name", "Nieuw"),
        ]),
        &pending(&zulu),
        None,
        None,
        now,
    )
    .unwrap();
    let nina = t.state.dir.user(s.user_id).unwrap().unwrap();
    assert_eq!(nina.status, UserStatus::Inactive);
    assert_eq!(nina.source, format!("upstream:{}", zulu.id));
    assert_eq!(nina.email.as_deref(), Some("nieuw@regenboog.example"));
    // Without a role it cannot create anyone.
    let err = upstream::finish(
        &t.state,
        &zulu,
        &asserted(&[
            ("email", "ander@regenboog.example"),
            ("given_name", "A"),
            ("family_name", "B"),
        ]),
        &pending(&zulu),
        None,
        None,
        now,
    )
    .unwrap_err();
    assert!(matches!(err, FinishError::Provision(_)), "{err:?}");
}
