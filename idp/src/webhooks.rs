//! Delivering change notifications ([`broker::webhooks`]): every node runs [`run`], which
//! every [`TICK`] claims the events that are due and posts each to its party's webhook.
//!
//! - **The request** (RFC 8935): `POST` with `Content-Type: application/secevent+jwt` and the
//!   Security Event Token as the body, signed with Leerpoort's published ES256 key (`typ`
//!   `secevent+jwt`; verify it with the keys at `/oidc/jwks`).
//! - **The answer:** any `2xx` (RFC 8935 asks `202`) is delivered. A server error, `408`,
//!   `425`, `429` or no answer within [`REQUEST_TIMEOUT`] is tried again later
//!   ([`broker::webhooks::next_attempt`]); any other answer (a `400` with RFC 8935's error, a
//!   redirect, which is never followed) gives the event up, with the reason kept for the
//!   operator (`leerpoort client events`).
//! - **Once across nodes:** a node claims an event ([`broker::repo::Webhooks::claim_webhooks`])
//!   for [`CLAIM_SECS`], longer than a request may take, before it posts it. A node that stops
//!   between the post and recording it leaves the claim to run out, and the event is posted
//!   again: a receiver keys on the token's `jti`, which stays the same.

use std::time::Duration;

use broker::model::JwsAlg;
use broker::repo::{OutboxEvent, Settle};
use broker::webhooks::{self, EventKind, Outcome};

use crate::app::AppState;

/// How often a node looks for events that are due.
pub const TICK: Duration = Duration::from_secs(2);
/// How long one post may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim lasts: well beyond a post's time.
pub const CLAIM_SECS: i64 = 60;
/// How many events a node claims in one round.
const BATCH: i64 = 50;
/// How long delivered and given-up events are kept for `leerpoort client events`.
pub const KEEP_SECS: i64 = 30 * 24 * 3600;

/// The HTTP client webhooks are posted with: no redirects, short timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(3))
        .user_agent(concat!(
            "Leerpoort/",
            env!("CARGO_PKG_VERSION"),
            " (webhooks)"
        ))
        .build()
        .unwrap_or_default()
}

/// Deliver due events every [`TICK`], forever, as `node`; once an hour, forget what is older
/// than [`KEEP_SECS`].
pub async fn run(state: AppState, node: String) {
    let client = http_client();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_purge = None::<tokio::time::Instant>;
    loop {
        tick.tick().await;
        if let Err(e) = deliver_due(&state, &client, &node).await {
            tracing::warn!(error = %e, "delivering webhooks failed");
        }
        if last_purge.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
            last_purge = Some(tokio::time::Instant::now());
            let st = state.clone();
            let before = st.clock.now_secs() - KEEP_SECS;
            match actix_web::web::block(move || st.dir.purge_webhooks(before)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(events = n, "old webhook events forgotten"),
                Ok(Err(e)) => tracing::warn!(error = %e, "forgetting old webhook events failed"),
                Err(e) => tracing::warn!(error = %e, "forgetting old webhook events failed"),
            }
        }
    }
}

/// One round on `node`: claim the events that are due, post them all at once, record how
/// each went. How many were delivered.
pub async fn deliver_due(
    state: &AppState,
    client: &reqwest::Client,
    node: &str,
) -> Result<usize, String> {
    let now = state.clock.now_secs();
    let (st, n) = (state.clone(), node.to_string());
    let claimed =
        actix_web::web::block(move || st.dir.claim_webhooks(&n, now, now + CLAIM_SECS, BATCH))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    // Parties at once; one party's events one after the other, in the order they happened.
    let mut by_party: Vec<Vec<OutboxEvent>> = Vec::new();
    for e in claimed {
        match by_party.iter_mut().find(|l| l[0].rp_id == e.rp_id) {
            Some(l) => l.push(e),
            None => by_party.push(vec![e]),
        }
    }
    let posts = by_party.into_iter().map(|events| async move {
        let mut done = Vec::with_capacity(events.len());
        for e in events {
            let how = attempt(state, client, &e).await;
            done.push((e, how));
        }
        done
    });
    let mut delivered = 0;
    for (e, how) in futures_util::future::join_all(posts)
        .await
        .into_iter()
        .flatten()
    {
        if how == Settle::Delivered {
            delivered += 1;
        }
        if let Settle::Failed { error } = &how {
            tracing::warn!(event = %e.id, party = %e.party, %error, "webhook event given up");
        }
        let (st, n, at) = (state.clone(), node.to_string(), state.clock.now_secs());
        let settled = actix_web::web::block(move || st.dir.settle_webhook(e.id, &n, at, how))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if !settled {
            tracing::warn!("a webhook claim ran out before its post was recorded");
        }
    }
    Ok(delivered)
}

/// Post one event and say how it went.
async fn attempt(state: &AppState, client: &reqwest::Client, e: &OutboxEvent) -> Settle {
    let retry = |error: String| {
        let jitter = f64::from(e.id.as_bytes()[0]) / 255.0;
        match webhooks::next_attempt(e.attempts + 1, state.clock.now_secs(), jitter) {
            Some(at) => Settle::Retry { at, error },
            None => Settle::Failed { error },
        }
    };
    let Some(url) = &e.url else {
        return Settle::Failed {
            error: "the party has no webhook any more".into(),
        };
    };
    let Some(kind) = EventKind::from_uri(&e.event) else {
        return Settle::Failed {
            error: format!("unknown event type {}", e.event),
        };
    };
    let claims = webhooks::set_claims(
        &state.config.issuer,
        &e.party,
        &e.id.to_string(),
        kind,
        e.school.as_ref(),
        &e.details,
        e.created_at,
        state.clock.now_secs(),
    );
    let token =
        match crate::keys::sign_jwt(state.keys.as_ref(), JwsAlg::ES256, "secevent+jwt", &claims) {
            Ok(t) => t,
            Err(err) => return retry(format!("signing failed: {err}")),
        };
    let sent = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/secevent+jwt")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(token)
        .send()
        .await;
    let res = match sent {
        Ok(r) => r,
        Err(err) => return retry(err.without_url().to_string()),
    };
    let status = res.status().as_u16();
    match webhooks::outcome(status) {
        Outcome::Delivered => Settle::Delivered,
        Outcome::Retry => retry(format!("status {status}")),
        Outcome::Refused => {
            // RFC 8935 §2.3: {"err": "...", "description": "..."}; keep a short reason.
            let why = res
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| {
                    v["err"]
                        .as_str()
                        .map(|s| s.chars().take(64).collect::<String>())
                })
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            Settle::Failed {
                error: format!("status {status}{why}"),
            }
        }
    }
}
