//! Latency histograms and error counts per virtual user, merged into one report at the end.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// Highest latency a histogram holds exactly, in microseconds (larger values are clamped).
const MAX_MICROS: u64 = 120_000_000;

/// The steps the staff scenario measures, in report order; the last is the whole flow.
pub const STAFF_STEPS: &[&str] = &["authorize", "token", "userinfo", "flow"];
/// The staff sign-in scenario has one step: a whole sign-in, from authorize to the code.
pub const SIGNIN_STEPS: &[&str] = &["signin"];
/// The steps of the pupil journey, in report order; the last is the whole journey.
pub const PUPIL_STEPS: &[&str] = &[
    "shortcut",
    "group",
    "name",
    "pin",
    "authorize",
    "token",
    "journey",
];
/// The steps of the home journey, in report order; the last is the whole journey.
pub const HOME_STEPS: &[&str] = &[
    "entrance",
    "signin",
    "child",
    "pin",
    "authorize",
    "token",
    "journey",
];

/// A failed request or flow: `kind` is counted, `detail` is kept for the first of each kind.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: String,
    pub detail: String,
}

impl Failure {
    pub fn new(kind: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            detail: detail.into(),
        }
    }
}

/// What one virtual user (or, merged, all of them) measured.
#[derive(Debug)]
pub struct Stats {
    /// The steps measured, in report order (see [`STAFF_STEPS`], [`PUPIL_STEPS`]).
    pub steps: &'static [&'static str],
    /// Per step and `signin`: microseconds.
    pub hist: BTreeMap<&'static str, Histogram<u64>>,
    /// Completed flows inside the measurement window.
    pub flows: u64,
    /// Completed flows during warm-up (not in the histograms).
    pub warmup_flows: u64,
    /// Failures during warm-up (not in `errors`).
    pub warmup_errors: u64,
    /// Failures inside the measurement window (and sign-in failures), by kind.
    pub errors: BTreeMap<String, u64>,
    /// The first failure of each kind, in full.
    pub samples: BTreeMap<String, String>,
    /// The `alg` of the ID tokens received in measured flows.
    pub id_token_algs: BTreeMap<String, u64>,
    /// When the last measured flow ended.
    pub last_end: Option<Instant>,
}

impl Stats {
    pub fn new(steps: &'static [&'static str]) -> anyhow::Result<Self> {
        let mut hist = BTreeMap::new();
        for step in steps.iter().copied().chain(["signin"]) {
            let h = Histogram::<u64>::new_with_bounds(1, MAX_MICROS, 3)
                .map_err(|e| anyhow!("histogram: {e}"))?;
            hist.insert(step, h);
        }
        Ok(Self {
            steps,
            hist,
            flows: 0,
            warmup_flows: 0,
            warmup_errors: 0,
            errors: BTreeMap::new(),
            samples: BTreeMap::new(),
            id_token_algs: BTreeMap::new(),
            last_end: None,
        })
    }

    pub fn record(&mut self, step: &'static str, d: Duration) {
        if let Some(h) = self.hist.get_mut(step) {
            let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
            h.saturating_record(micros);
        }
    }

    pub fn error(&mut self, f: Failure) {
        *self.errors.entry(f.kind.clone()).or_insert(0) += 1;
        self.samples.entry(f.kind).or_insert(f.detail);
    }

    pub fn merge(&mut self, other: Stats) -> anyhow::Result<()> {
        for (step, h) in other.hist {
            if let Some(mine) = self.hist.get_mut(step) {
                mine.add(&h)
                    .map_err(|e| anyhow!("merging histograms: {e}"))?;
            }
        }
        self.flows += other.flows;
        self.warmup_flows += other.warmup_flows;
        self.warmup_errors += other.warmup_errors;
        for (k, n) in other.errors {
            *self.errors.entry(k).or_insert(0) += n;
        }
        for (k, d) in other.samples {
            self.samples.entry(k).or_insert(d);
        }
        for (k, n) in other.id_token_algs {
            *self.id_token_algs.entry(k).or_insert(0) += n;
        }
        self.last_end = match (self.last_end, other.last_end) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Ok(())
    }

    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

fn ms(micros: f64) -> f64 {
    (micros / 10.0).round() / 100.0
}

/// Count, mean and percentiles of one step, in milliseconds.
pub fn step_json(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return json!({"count": 0});
    }
    #[allow(clippy::cast_precision_loss)]
    let q = |x: f64| ms(h.value_at_quantile(x) as f64);
    #[allow(clippy::cast_precision_loss)]
    let max = ms(h.max() as f64);
    json!({
        "count": h.len(),
        "mean_ms": ms(h.mean()),
        "p50_ms": q(0.50),
        "p90_ms": q(0.90),
        "p99_ms": q(0.99),
        "max_ms": max,
    })
}

/// The run's settings and outcome, as the one JSON document `--json` prints.
#[derive(Debug)]
pub struct Summary<'a> {
    /// `staff` (sign in once, then authorize → token → userinfo) or `pupil` (the journey).
    pub scenario: &'a str,
    pub issuer: &'a str,
    pub users: usize,
    pub signed_in: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// From the end of warm-up to the end of the last measured flow.
    pub measured: Duration,
    pub stats: &'a Stats,
}

impl Summary<'_> {
    /// Does this scenario sign its users in before measuring?
    fn signs_in(&self) -> bool {
        self.scenario == "staff"
    }

    /// What one iteration is called in the text report.
    fn noun(&self) -> &'static str {
        if self.signs_in() {
            "flows"
        } else {
            "journeys"
        }
    }

    pub fn flows_per_sec(&self) -> f64 {
        let secs = self.measured.as_secs_f64();
        if secs > 0.0 {
            #[allow(clippy::cast_precision_loss)]
            let f = self.stats.flows as f64;
            ((f / secs) * 10.0).round() / 10.0
        } else {
            0.0
        }
    }

    pub fn to_json(&self) -> Value {
        let s = self.stats;
        let mut steps = serde_json::Map::new();
        for step in s.steps {
            if let Some(h) = s.hist.get(step) {
                steps.insert((*step).to_string(), step_json(h));
            }
        }
        let signin = match s.hist.get("signin") {
            Some(h) if self.signs_in() => step_json(h),
            _ => Value::Null,
        };
        json!({
            "scenario": self.scenario,
            "issuer": self.issuer,
            "users": self.users,
            "signed_in": self.signed_in,
            "warmup_s": self.warmup.as_secs_f64(),
            "duration_s": self.duration.as_secs_f64(),
            "measured_s": (self.measured.as_secs_f64() * 1000.0).round() / 1000.0,
            "flows": s.flows,
            "flows_per_s": self.flows_per_sec(),
            "warmup_flows": s.warmup_flows,
            "warmup_errors": s.warmup_errors,
            "id_token_algs": s.id_token_algs,
            "signin": signin,
            "steps": steps,
            "errors_total": s.error_total(),
            "errors": s.errors,
            "error_samples": s.samples,
        })
    }

    pub fn to_text(&self) -> String {
        let s = self.stats;
        let noun = self.noun();
        let mut out = String::new();
        out.push_str(&format!(
            "scenario    {}\n",
            match self.scenario {
                "staff" => "staff: sign in once, then authorize → token → userinfo",
                "pupil" => {
                    "pupil: shortcut → group → name → PIN → authorize → token, \
                     a fresh browser each journey"
                }
                other => other,
            }
        ));
        out.push_str(&format!("target      {}\n", self.issuer));
        if self.signs_in() {
            out.push_str(&format!(
                "users       {} ({} signed in)\n",
                self.users, self.signed_in
            ));
        } else {
            out.push_str(&format!("users       {}\n", self.users));
        }
        out.push_str(&format!(
            "time        warm-up {:.1} s ({} {noun}), measured {:.2} s\n",
            self.warmup.as_secs_f64(),
            s.warmup_flows,
            self.measured.as_secs_f64()
        ));
        out.push_str(&format!(
            "{noun:<11} {} ({:.1} {noun}/s), {} errors\n",
            s.flows,
            self.flows_per_sec(),
            s.error_total()
        ));
        let algs: Vec<String> = s
            .id_token_algs
            .iter()
            .map(|(a, n)| format!("{a} ×{n}"))
            .collect();
        out.push_str(&format!("id_token    {}\n\n", algs.join(", ")));
        out.push_str(&format!(
            "{:<10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            "step", "count", "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms"
        ));
        let signin: &[&str] = if self.signs_in() { &["signin"] } else { &[] };
        for step in signin.iter().chain(s.steps) {
            let Some(h) = s.hist.get(step) else { continue };
            let v = step_json(h);
            let f = |k: &str| {
                v.get(k)
                    .and_then(Value::as_f64)
                    .map(|x| format!("{x:.2}"))
                    .unwrap_or_else(|| "-".into())
            };
            out.push_str(&format!(
                "{:<10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
                step,
                h.len(),
                f("mean_ms"),
                f("p50_ms"),
                f("p90_ms"),
                f("p99_ms"),
                f("max_ms")
            ));
        }
        if !s.errors.is_empty() {
            out.push_str("\nerrors\n");
            for (k, n) in &s.errors {
                out.push_str(&format!("  {n:>7}  {k}\n"));
                if let Some(d) = s.samples.get(k) {
                    out.push_str(&format!("           first: {d}\n"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn merges_and_reports() {
        let mut a = Stats::new(STAFF_STEPS).unwrap();
        let mut b = Stats::new(STAFF_STEPS).unwrap();
        for i in 1..=100u64 {
            a.record("token", Duration::from_micros(i * 1000));
        }
        b.record("token", Duration::from_millis(500));
        b.error(Failure::new("token: HTTP 500", "POST /token → 500"));
        b.error(Failure::new("token: HTTP 500", "second"));
        a.flows = 100;
        a.merge(b).unwrap();
        let sum = Summary {
            scenario: "staff",
            issuer: "http://127.0.0.1:1",
            users: 2,
            signed_in: 2,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(10),
            measured: Duration::from_secs(10),
            stats: &a,
        };
        let j = sum.to_json();
        assert_eq!(j["flows_per_s"], 10.0);
        assert_eq!(j["steps"]["token"]["count"], 101);
        // Three significant digits: values come back within 0.1 %.
        let near =
            |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() <= want / 1000.0 + 0.01;
        assert!(
            near(&j["steps"]["token"]["p50_ms"], 51.0),
            "{}",
            j["steps"]["token"]
        );
        assert!(
            near(&j["steps"]["token"]["p99_ms"], 100.0),
            "{}",
            j["steps"]["token"]
        );
        assert!(
            near(&j["steps"]["token"]["max_ms"], 500.0),
            "{}",
            j["steps"]["token"]
        );
        assert_eq!(j["errors"]["token: HTTP 500"], 2);
        assert_eq!(j["error_samples"]["token: HTTP 500"], "POST /token → 500");
        assert_eq!(j["steps"]["userinfo"]["count"], 0);
        assert!(sum.to_text().contains("token: HTTP 500"));
        assert_eq!(j["scenario"], "staff");
        assert_eq!(j["signin"]["count"], 0);
    }

    #[test]
    fn a_pupil_report_names_the_journey() {
        let mut st = Stats::new(PUPIL_STEPS).unwrap();
        st.record("shortcut", Duration::from_millis(2));
        st.record("journey", Duration::from_millis(20));
        st.flows = 1;
        let sum = Summary {
            scenario: "pupil",
            issuer: "http://127.0.0.1:1",
            users: 4,
            signed_in: 4,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(1),
            measured: Duration::from_secs(1),
            stats: &st,
        };
        let j = sum.to_json();
        assert_eq!(j["scenario"], "pupil");
        assert_eq!(j["signin"], Value::Null);
        assert_eq!(j["steps"]["journey"]["count"], 1);
        assert_eq!(j["steps"]["pin"]["count"], 0);
        let text = sum.to_text();
        assert!(text.starts_with("scenario    pupil:"), "{text}");
        assert!(text.contains("journeys    1 (1.0 journeys/s)"), "{text}");
        assert!(!text.contains("signin"), "{text}");
    }
}
