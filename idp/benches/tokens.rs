//! Hot paths of the token endpoint: signing an ID token per algorithm, and a whole
//! authorization-code exchange in process (client authentication, code redemption, the
//! broker's release decision, two signatures).
//!
//! `cargo bench -p idp --bench tokens`; results and how to read them: docs/performance.md.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use broker::model::JwsAlg;
use claims::LoginContext;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use idp::app::AppState;
use idp::oidc::CodeGrant;

struct Bench {
    state: AppState,
    secret: String,
    user: uuid::Uuid,
    _dir: tempfile::TempDir,
}

fn setup() -> Bench {
    let (state, demo, dir) = common::demo_state();
    let secret = demo["oidc_client"]["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let user = demo["staff"][0]["user_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    Bench {
        state,
        secret,
        user,
        _dir: dir,
    }
}

fn id_token_signing(c: &mut Criterion) {
    let b = setup();
    let claims = serde_json::json!({
        "iss": "http://127.0.0.1:8080", "sub": "14e3af75d854a497f6de45a04ca5c8f5e134daab6a7fa13d853ab94da5823b9d",
        "aud": "demo-uitgeverij", "iat": 1_795_422_600, "exp": 1_795_426_200, "auth_time": 1_795_422_600,
        "instelling_ref": "8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a01", "brin6": "99ZZ00", "role": "leerling", "login_context": "school",
    });
    let mut g = c.benchmark_group("id_token_sign");
    for alg in JwsAlg::ALL {
        g.bench_with_input(
            BenchmarkId::from_parameter(alg.as_str()),
            &alg,
            |bench, alg| {
                bench.iter(|| {
                    idp::keys::sign_jwt(b.state.keys.as_ref(), *alg, "JWT", &claims).unwrap()
                });
            },
        );
    }
    g.finish();
}

fn code_exchange(c: &mut Criterion) {
    let b = setup();
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("demo-uitgeverij:{}", b.secret))
    );
    let school = idp::demo::DEMO_SCHOOL_REF.parse().unwrap();
    let rp = b
        .state
        .dir
        .relying_party_by_public_id("demo-uitgeverij")
        .unwrap()
        .unwrap();
    let claims = idp::oidc::tokens::claims_for(
        &b.state,
        &rp,
        b.user,
        &school,
        LoginContext::School,
        "openid groups",
        &[],
    )
    .unwrap();
    let mut n = 0u64;
    c.bench_function("authorization_code_exchange", |bench| {
        bench.iter(|| {
            n += 1;
            let code = format!("bench-code-{n}");
            let grant = CodeGrant {
                client_id: "demo-uitgeverij".into(),
                redirect_uri: "http://127.0.0.1:8081/callback".into(),
                user_id: b.user,
                school,
                sid: "bench-session".into(),
                scope: "openid groups".into(),
                nonce: Some("n".into()),
                code_challenge: None,
                auth_time: b.state.clock.now_secs(),
                amr: vec!["pwd".into()],
                acr: broker::session::ACR_PASSWORD.into(),
                context: LoginContext::School,
                requested_claims: vec![],
                claims: claims.clone(),
            };
            b.state
                .store
                .put(
                    &broker::keyspace::Key::Code(&code),
                    &serde_json::to_vec(&grant).unwrap(),
                    Duration::from_secs(60),
                )
                .unwrap();
            let form: HashMap<String, String> = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", "http://127.0.0.1:8081/callback"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let now = b.state.clock.now_secs();
            idp::oidc::token::token(&b.state, &form, Some(&auth), now)
                .map_err(|(e, _)| e)
                .unwrap()
        });
    });
}

criterion_group!(benches, id_token_signing, code_exchange);
criterion_main!(benches);
