//! The live licence lookup's connection to publishers, per node: one HTTP client (no
//! redirects, 10 s per request) and each publisher's circuit (after five failures in a row it
//! is not asked for 30 s). The licence lookup asks through it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How long one request may take in the background.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Failures in a row that open a publisher's circuit.
pub const FAILURES_TO_OPEN: u32 = 5;
/// How long an open circuit stays open.
const OPEN_FOR: Duration = Duration::from_secs(30);

/// The HTTP client and each publisher's circuit, per node.
#[derive(Debug)]
pub struct Lookups {
    client: reqwest::Client,
    circuits: parking_lot::Mutex<HashMap<Uuid, Circuit>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Circuit {
    failures: u32,
    open_until: Option<Instant>,
}

impl Default for Lookups {
    fn default() -> Self {
        Self::new()
    }
}

impl Lookups {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Self {
            client,
            circuits: parking_lot::Mutex::new(HashMap::new()),
        }
    }

    /// The client every licence endpoint is asked with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Is `rp`'s circuit open (not to be asked now)?
    pub fn is_open(&self, rp: Uuid) -> bool {
        self.circuits
            .lock()
            .get(&rp)
            .and_then(|c| c.open_until)
            .is_some_and(|t| Instant::now() < t)
    }

    /// Note how asking `rp` went.
    pub fn record(&self, rp: Uuid, ok: bool) {
        let mut circuits = self.circuits.lock();
        let c = circuits.entry(rp).or_default();
        if ok {
            *c = Circuit::default();
        } else {
            c.failures += 1;
            if c.failures >= FAILURES_TO_OPEN {
                c.open_until = Some(Instant::now() + OPEN_FOR);
                c.failures = 0;
                tracing::warn!(rp = %rp, "licence endpoint failing: not asked for 30 s");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circuit_opens_after_failures_and_closes_on_success() {
        let l = Lookups::new();
        let rp = Uuid::new_v4();
        for _ in 0..FAILURES_TO_OPEN - 1 {
            l.record(rp, false);
        }
        assert!(!l.is_open(rp));
        l.record(rp, false);
        assert!(l.is_open(rp));
        assert!(!l.is_open(Uuid::new_v4()));
        l.record(rp, true);
        assert!(!l.is_open(rp));
    }
}
