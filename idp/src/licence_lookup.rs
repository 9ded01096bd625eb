//! The live licence lookup: at sign-in, the start page asks each publisher with a licence
//! endpoint (`client add --licence-endpoint URL`) which of its titles the user holds.
//!
//! - **The request**, shaped after Edu-V's Entitlement API ("all entitlements by user"):
//!   `POST` to the endpoint with `Content-Type: application/jwt`, the body a JWT Leerpoort signs
//!   with its published ES256 key (`typ` `entitlements-request+jwt`; verify it with the keys at
//!   `/oidc/jwks`). It names the user as the school releases them to that publisher — the
//!   claims an ID token with scope `groups` would carry: the pairwise `sub`, `instelling_ref`,
//!   `brin6`, `role`, `login_context`, `groups` and the ECK-iD only where released — with `iss`,
//!   `aud` (the endpoint), `iat`, `exp` (60 s) and a `jti`.
//! - **The answer**: `200` with `{"entitlements": [{"methode": ID, "product": ID}]}` (`product`
//!   left out for the methode itself), naming titles the publisher keeps through the licence
//!   API; anything it does not keep there is ignored. At most 256 kB.
//! - **Behaviour**: every publisher is asked at once; the page waits at most the deadline
//!   (`LEERPOORT_LICENCE_DEADLINE_MS`, 800 ms) for all of them together. An answer is kept per
//!   user and publisher (`LEERPOORT_LICENCE_CACHE_SECS`, 5 minutes) in the store, so every
//!   node sees it. A request that misses the deadline goes on in the background (at most 10 s)
//!   and its answer lands in the store: the page's script fetches the tiles again, or a reload
//!   shows them. After 5 failures in a row a publisher is not asked for 30 s (per node): its
//!   tile says "even niet beschikbaar".

use std::collections::HashMap;
use std::time::Duration;

use broker::keyspace::Key;
use broker::model::{JwsAlg, RelyingParty};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;

/// The largest answer read.
const MAX_ANSWER: usize = 256 * 1024;
/// How long a request in flight is marked, so a second page load does not ask again.
const IN_FLIGHT_SECS: u64 = 15;
/// The value that marks a request in flight in the store.
const IN_FLIGHT: &[u8] = b"\"in-flight\"";

/// One title a publisher says the user holds: (methode, product).
pub type Entitlement = (String, Option<String>);

/// What a publisher said, as far as the page knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Held(Vec<Entitlement>),
    /// Asked, no answer yet.
    Waiting,
    /// Failing, or its circuit is open.
    Unavailable,
}

/// A publisher to ask, with the claims it may know of the user.
#[derive(Debug, Clone)]
pub struct Question {
    pub rp: RelyingParty,
    pub url: String,
    pub user: Uuid,
    pub claims: Value,
}

#[derive(Debug, Deserialize)]
struct Wire {
    entitlements: Vec<WireEntitlement>,
}

#[derive(Debug, Deserialize)]
struct WireEntitlement {
    methode: String,
    #[serde(default)]
    product: Option<String>,
}

/// The answers already in the store for `questions` (blocking).
pub fn cached(state: &AppState, questions: &[Question]) -> HashMap<Uuid, Answer> {
    questions
        .iter()
        .filter_map(|q| {
            let key = Key::LicenceAnswer {
                rp: q.rp.id,
                user: q.user,
            };
            let raw = state.store.get(&key).ok().flatten()?;
            if raw == IN_FLIGHT {
                return Some((q.rp.id, Answer::Waiting));
            }
            let held: Option<Vec<Entitlement>> = serde_json::from_slice(&raw).ok();
            Some((q.rp.id, held.map_or(Answer::Unavailable, Answer::Held)))
        })
        .collect()
}

/// Ask every publisher of `questions` that has no answer in `known` yet, and wait at most
/// `deadline` for them all; what comes later lands in the store. Returns every publisher's
/// answer as far as known.
pub async fn ask(
    state: &AppState,
    questions: Vec<Question>,
    mut known: HashMap<Uuid, Answer>,
    deadline: Duration,
) -> HashMap<Uuid, Answer> {
    let until = tokio::time::Instant::now() + deadline;
    let mut running = Vec::new();
    for q in questions {
        if known.contains_key(&q.rp.id) {
            continue;
        }
        if state.lookups.is_open(q.rp.id) {
            known.insert(q.rp.id, Answer::Unavailable);
            continue;
        }
        let rp = q.rp.id;
        let st = state.clone();
        running.push((rp, actix_web::rt::spawn(fetch_and_keep(st, q))));
    }
    for (rp, task) in running {
        let answer = match tokio::time::timeout_at(until, task).await {
            Ok(Ok(Some(held))) => Answer::Held(held),
            Ok(_) => Answer::Unavailable,
            Err(_) => Answer::Waiting,
        };
        known.insert(rp, answer);
    }
    known
}

/// Ask one publisher, keep its answer in the store (or that it failed), and give it.
async fn fetch_and_keep(state: AppState, q: Question) -> Option<Vec<Entitlement>> {
    let key_rp = q.rp.id;
    let user = q.user;
    let put = move |st: &AppState, value: Vec<u8>, secs: u64| {
        let _ = st.store.put(
            &Key::LicenceAnswer { rp: key_rp, user },
            &value,
            Duration::from_secs(secs.max(1)),
        );
    };
    {
        let st = state.clone();
        let _ = actix_web::web::block(move || put(&st, IN_FLIGHT.to_vec(), IN_FLIGHT_SECS)).await;
    }
    let answer = fetch(&state, &q).await;
    state.lookups.record(key_rp, answer.is_ok());
    let (value, secs) = match &answer {
        Ok(held) => (
            serde_json::to_vec(held).unwrap_or_default(),
            state.config.licence_lookup.cache_secs,
        ),
        // A failure is remembered briefly (the page says "even niet beschikbaar").
        Err(_) => (b"null".to_vec(), 30),
    };
    let st = state.clone();
    let _ = actix_web::web::block(move || put(&st, value, secs)).await;
    if let Err(e) = &answer {
        tracing::info!(rp = %key_rp, error = %e, "licence endpoint did not answer");
    }
    answer.ok()
}

/// The signed request for `q`.
fn request_jwt(state: &AppState, q: &Question) -> Result<String, String> {
    let now = state.clock.now_secs();
    let mut claims = q.claims.clone();
    if let Some(o) = claims.as_object_mut() {
        o.insert("iss".into(), json!(state.config.issuer));
        o.insert("aud".into(), json!(q.url));
        o.insert("iat".into(), json!(now));
        o.insert("exp".into(), json!(now + 60));
        o.insert("jti".into(), json!(Uuid::new_v4().to_string()));
    }
    crate::keys::sign_jwt(
        state.keys.as_ref(),
        JwsAlg::ES256,
        "entitlements-request+jwt",
        &claims,
    )
    .map_err(|e| e.to_string())
}

async fn fetch(state: &AppState, q: &Question) -> Result<Vec<Entitlement>, String> {
    let jwt = request_jwt(state, q)?;
    let res = state
        .lookups
        .client()
        .post(&q.url)
        .header(reqwest::header::CONTENT_TYPE, "application/jwt")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(jwt)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !res.status().is_success() {
        return Err(format!("status {}", res.status()));
    }
    if res.content_length().is_some_and(|n| n > MAX_ANSWER as u64) {
        return Err("the answer is too large".into());
    }
    let body = res.bytes().await.map_err(|e| e.without_url().to_string())?;
    if body.len() > MAX_ANSWER {
        return Err("the answer is too large".into());
    }
    let wire: Wire = serde_json::from_slice(&body).map_err(|e| format!("not an answer: {e}"))?;
    Ok(wire
        .entitlements
        .into_iter()
        .map(|e| (e.methode, e.product))
        .collect())
}
