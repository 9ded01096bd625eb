//! Signing in through a network environment, in process: who is found, who is created, and
//! what is written down.

use broker::federation::pending::Pending;
use broker::federation::FinishError;
use broker::federation::{Asserted, MatchError};
use broker::model::{MatchRule, UserStatus};
use idp::upstream;

use crate::server::TestApp;

fn add(
    t: &TestApp,
    name: &str,
    rule: &str,
    claim: &str,
    provision: bool,
) -> broker::model::Upstream {
    let roles = if provision {
        vec!["leerling,leerkracht".into()]
    } else {
        Vec::new()
    };
    add_with_roles(t, name, rule, claim, provision, roles).unwrap()
}

fn add_with_roles(
    t: &TestApp,
    name: &str,
    rule: &str,
    claim: &str,
    provision: bool,
    provision_roles: Vec<String>,
) -> Result<broker::model::Upstream, broker::admin::AdminError> {
    let ctx = broker::admin::Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    };
    broker::admin::add_upstream(
        ctx,
        &t.state.sealer,
        broker::admin::UpstreamInput {
            name: name.into(),
            schools: vec![idp::demo::DEMO_SCHOOL_REF.into()],
            oidc_issuer: Some("https://moo.example".into()),
            client_id: Some("leerpoort".into()),
            client_secret: Some("geheim".into()),
            match_rule: rule.into(),
            match_claim: claim.into(),
            provision,
            provision_roles,
            ..Default::default()
        },
    )
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
        browser: None,
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

/// The audit events of the demo school with `action`.
fn events(t: &TestApp, action: &str) -> Vec<broker::model::AuditEvent> {
    t.state
        .dir
        .audit_events(Some(&idp::demo::DEMO_SCHOOL_REF.parse().unwrap()), 500)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

#[test]
fn provisioning_creates_only_the_pupils_and_teachers_the_operator_allowed() {
    let t = TestApp::init();
    idp::demo::seed(&t.state).unwrap();
    let now = 1_800_000_000;
    // Only pupils and teachers can be allowed at all.
    for bad in ["ict-coordinator", "ib", "leerling,rt", "directeur"] {
        let err =
            add_with_roles(&t, "bad", "eck-id", "eckid", true, vec![bad.into()]).expect_err(bad);
        assert!(
            err.to_string().contains("--provision-roles"),
            "{bad}: {err}"
        );
    }
    let err = add_with_roles(&t, "bad", "eck-id", "eckid", false, vec!["leerling".into()])
        .expect_err("roles without --provision");
    assert!(err.to_string().contains("needs --provision"), "{err}");
    assert!(t.state.dir.upstream_by_name("bad").unwrap().is_none());

    // Without --provision-roles: pupils only, and stored so.
    let moo = add_with_roles(&t, "moo", "eck-id", "eckid", true, Vec::new()).unwrap();
    assert_eq!(moo.provision_roles, vec![claims::Role::Leerling]);
    let stored = t.state.dir.upstream_by_name("moo").unwrap().unwrap();
    assert_eq!(stored.provision_roles, vec![claims::Role::Leerling]);
    // Both, when the operator says so.
    let zulu = add_with_roles(
        &t,
        "zulu",
        "eck-id",
        "eckid",
        true,
        vec!["leerling".into(), "leerkracht".into()],
    )
    .unwrap();
    assert_eq!(
        zulu.provision_roles,
        vec![claims::Role::Leerling, claims::Role::Leerkracht]
    );

    let person = |eck: &str, role: (&str, &str)| {
        asserted(&[
            ("eckid", eck),
            role,
            ("given_name", "Vera"),
            ("family_name", "Vreemd"),
        ])
    };
    let eck = |n: u32| format!("https://ketenid.nl/201703/{n:0>128}");
    let users_before = t
        .state
        .dir
        .users_of_school(&idp::demo::DEMO_SCHOOL_REF.parse().unwrap())
        .unwrap()
        .len();
    // A coordinator, an IB'er, a role Leerpoort does not know, an affiliation that is not a
    // pupil's or a teacher's, and a teacher where only pupils are allowed: nobody is created.
    let refused = [
        (&zulu, person(&eck(1), ("role", "ict-coordinator"))),
        (&zulu, person(&eck(2), ("role", "ib"))),
        (&zulu, person(&eck(3), ("role", "beheerder"))),
        (
            &zulu,
            person(&eck(4), ("eduPersonAffiliation", "affiliate")),
        ),
        (&moo, person(&eck(5), ("role", "leerkracht"))),
        (&moo, person(&eck(6), ("eduPersonAffiliation", "employee"))),
    ];
    for (i, (u, a)) in refused.iter().enumerate() {
        let err = upstream::finish(&t.state, u, a, &pending(u), None, None, now).unwrap_err();
        assert!(
            matches!(err, FinishError::RoleNotAllowed),
            "case {i}: {err:?}"
        );
    }
    assert_eq!(
        t.state
            .dir
            .users_of_school(&idp::demo::DEMO_SCHOOL_REF.parse().unwrap())
            .unwrap()
            .len(),
        users_before,
        "nobody was created"
    );
    // Written down, without the asserted values.
    let written = events(&t, "upstream.role_refused");
    assert_eq!(written.len(), refused.len());
    for e in &written {
        let details = e.details.to_string();
        for asserted in [
            "ict-coordinator",
            "\"ib\"",
            "beheerder",
            "affiliate",
            "Vera",
            "Vreemd",
            "ketenid",
        ] {
            assert!(!details.contains(asserted), "{asserted} in {details}");
        }
    }
    // The page says why, in Dutch.
    assert!(catalogue::NL
        .network_role_refused
        .contains("leerlingen en leerkrachten"));

    // What is allowed is still created: a pupil through moo, a teacher through zulu.
    let (s, _) = upstream::finish(
        &t.state,
        &moo,
        &person(&eck(7), ("eduPersonAffiliation", "student")),
        &pending(&moo),
        None,
        None,
        now,
    )
    .unwrap();
    let pupil = t.state.dir.user(s.user_id).unwrap().unwrap();
    assert_eq!(pupil.roles, vec![claims::Role::Leerling]);
    let (s, _) = upstream::finish(
        &t.state,
        &zulu,
        &person(&eck(8), ("role", "leerkracht")),
        &pending(&zulu),
        None,
        None,
        now,
    )
    .unwrap();
    let teacher = t.state.dir.user(s.user_id).unwrap().unwrap();
    assert_eq!(teacher.roles, vec![claims::Role::Leerkracht]);
    assert_eq!(teacher.status, UserStatus::Inactive);
}

/// A logout token nobody signed, naming `iss` as its issuer.
fn junk_logout_token(iss: &str, n: usize) -> String {
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.{}",
        b64(serde_json::json!({"alg": "RS256", "kid": format!("kid-{n}")})),
        b64(
            serde_json::json!({"iss": iss, "aud": "leerpoort", "iat": 1_800_000_000, "jti": n.to_string(), "sid": "s"})
        ),
        "AAAA"
    )
}

#[actix_web::test]
async fn the_back_channel_logout_is_limited_per_address_and_per_upstream() {
    use actix_web::test;
    let t = TestApp::init();
    idp::demo::seed(&t.state).unwrap();
    // Nothing listens at this issuer: every token is refused, quickly.
    let ctx = broker::admin::Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    };
    broker::admin::add_upstream(
        ctx,
        &t.state.sealer,
        broker::admin::UpstreamInput {
            name: "moo".into(),
            schools: vec![idp::demo::DEMO_SCHOOL_REF.into()],
            oidc_issuer: Some("http://127.0.0.1:9".into()),
            client_id: Some("leerpoort".into()),
            client_secret: Some("geheim".into()),
            match_rule: "las-key".into(),
            match_claim: "las_key".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut n = 0;
    let mut send = |from: &str| {
        n += 1;
        test::TestRequest::post()
            .uri("/broker/oidc/backchannel-logout")
            .peer_addr(format!("{from}:40000").parse().unwrap())
            .set_form([("logout_token", junk_logout_token("http://127.0.0.1:9", n))])
            .to_request()
    };
    let per_address = broker::federation::oidc::BACKCHANNEL_REFUSED_PER_ADDRESS;
    for _ in 0..per_address {
        let res = test::call_service(&app, send("192.0.2.7")).await;
        assert_eq!(res.status(), 400);
    }
    // That address has had its refusals for this minute; another has not.
    let res = test::call_service(&app, send("192.0.2.7")).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers().get("retry-after").unwrap(), "60");
    let res = test::call_service(&app, send("192.0.2.8")).await;
    assert_eq!(res.status(), 400);
    // One upstream is looked at so many times a minute, from whatever addresses.
    let per_upstream = broker::federation::oidc::BACKCHANNEL_PER_UPSTREAM;
    let mut looked_at = per_address + 1;
    let mut i = 0;
    while looked_at < per_upstream {
        let from = format!("198.51.100.{}", i / 100);
        i += 1;
        let res = test::call_service(&app, send(&from)).await;
        assert_eq!(res.status(), 400);
        looked_at += 1;
    }
    let res = test::call_service(&app, send("203.0.113.1")).await;
    assert_eq!(res.status(), 429, "the upstream's limit");
}
