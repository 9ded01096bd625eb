//! `leerpoort-load`: N virtual users each sign in once at an OpenID provider, then repeat
//! authorize → token → userinfo until the time is up, and the latencies are reported
//! (`--scenario staff`, the default). `--scenario pupil` measures the pupil journey instead:
//! each iteration a fresh browser goes from the school's shortcut through the group and name
//! tiles and the PIN form to the publisher (played by the tool) and its token request.
//! `--scenario home` measures the home journey: a parent signs in at the home entrance, the
//! child types its PIN, and on to the publisher as in the pupil journey.
//! `--scenario signin` measures staff sign-ins: each iteration a fresh browser signs in with
//! e-mail and password until the code reaches the redirect URI (the password check, argon2id,
//! is most of the work).
//!
//! Every request goes to the issuer's own origin (loopback unless `--allow-non-loopback`);
//! the run is bounded in time (`--warmup` + `--duration`, each request by `--timeout`) and in
//! count (`--max-flows`), and stops by itself.

mod flow;
mod form;
mod pupil;
mod stats;

use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use clap::Parser;
use serde_json::Value;
use url::Url;

use crate::flow::{same_origin, Outcome, Target, VirtualUser};
use crate::pupil::{parse_pupils, PupilPlan, PupilUser, Start};
use crate::stats::{Failure, Stats, Summary, HOME_STEPS, PUPIL_STEPS, SIGNIN_STEPS, STAFF_STEPS};

/// What one iteration of a virtual user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scenario {
    /// Sign in once (e-mail and password), then authorize → token → userinfo on the session.
    Staff,
    /// A fresh browser each time: shortcut → group tile → name tile → PIN → (the publisher's)
    /// authorize → token.
    Pupil,
    /// A fresh browser each time, from a household address of its own: the home entrance →
    /// the parent's e-mail and password → the child's PIN → (the publisher's) authorize → token.
    Home,
    /// A fresh browser each time: authorize → sign-in form → e-mail and password → code.
    Signin,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Staff => "staff",
            Scenario::Pupil => "pupil",
            Scenario::Home => "home",
            Scenario::Signin => "signin",
        }
    }

    fn steps(self) -> &'static [&'static str] {
        match self {
            Scenario::Staff => STAFF_STEPS,
            Scenario::Pupil => PUPIL_STEPS,
            Scenario::Home => HOME_STEPS,
            Scenario::Signin => SIGNIN_STEPS,
        }
    }
}

/// Load test of an OpenID provider's authorization code flow.
#[derive(Debug, Parser)]
#[command(name = "leerpoort-load", version, about, long_about = None)]
struct Args {
    /// What each virtual user does.
    #[arg(long, value_enum, default_value_t = Scenario::Staff)]
    scenario: Scenario,
    /// The provider's issuer URL; endpoints come from its discovery document.
    #[arg(long)]
    issuer: String,
    #[arg(long)]
    client_id: String,
    /// The client's secret (sent with client_secret_basic).
    #[arg(long, env = "LOAD_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// A redirect URI registered for the client (it is never requested).
    #[arg(long)]
    redirect_uri: String,
    /// Staff: the user name of the account the virtual users sign in as. Home: the parent's
    /// e-mail address.
    #[arg(long)]
    email: Option<String>,
    /// Staff, home: that account's password.
    #[arg(long, env = "LOAD_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Pupil: the school's INSTELLING_REF (the shortcut's).
    #[arg(long)]
    instelling_ref: Option<String>,
    /// Pupil: the group tile to follow, by the group's name or key.
    #[arg(long, default_value = "Groep 3A")]
    group: String,
    /// Pupil: the group's pupils as NAME:PIN, comma separated (the name as on the tile);
    /// journeys take them in turn. Home: the children of the parent's account.
    #[arg(long, env = "LOAD_PUPILS", hide_env_values = true)]
    pupils: Option<String>,
    /// Pupil: only this pupil of --pupils.
    #[arg(long)]
    pupil: Option<String>,
    /// Pupil, home: the client's initiate_login_uri, where the provider sends the pupil after the PIN
    /// (it is never requested).
    #[arg(long)]
    initiate_login_uri: Option<String>,
    /// Scopes requested.
    #[arg(long, default_value = "openid profile email")]
    scope: String,
    /// Concurrent virtual users.
    #[arg(long, default_value_t = 32)]
    users: usize,
    /// How long to measure, after the warm-up (e.g. 30s, 500ms, 2m).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Flows before measuring starts, not counted.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    warmup: Duration,
    /// Stop after this many flows in all (warm-up included), whatever the time.
    #[arg(long, default_value_t = 1_000_000)]
    max_flows: u64,
    /// Time limit of one request.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Count ID tokens not signed with this algorithm as errors (e.g. RS256, ES256).
    #[arg(long)]
    expect_alg: Option<String>,
    /// Tokio worker threads (default: the CPUs this process may run on).
    #[arg(long)]
    threads: Option<usize>,
    /// Allow an issuer that is not on a loopback address.
    #[arg(long)]
    allow_non_loopback: bool,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

/// `30s`, `500ms`, `2m`, or a number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}': expected a duration like 30s, 500ms or 2m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("'{s}': unit must be ms, s or m")),
    };
    if !(0.0..=86_400.0).contains(&secs) {
        return Err(format!("'{s}': out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let result = rt
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run(args)));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("leerpoort-load: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => IpAddr::V4(a).is_loopback(),
        Some(url::Host::Ipv6(a)) => IpAddr::V6(a).is_loopback(),
        None => false,
    }
}

/// Fetch the discovery document and check its endpoints stay on the issuer's origin.
async fn discover(args: &Args, issuer: &Url, timeout: Duration) -> anyhow::Result<Target> {
    let base = args.issuer.trim_end_matches('/');
    let url = format!("{base}/.well-known/openid-configuration");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()?;
    let resp = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    let body = resp.text().await.with_context(|| format!("GET {url}"))?;
    if !status.is_success() {
        bail!(
            "GET {url} → HTTP {}: {}",
            status.as_u16(),
            form::excerpt(&body, 300)
        );
    }
    let doc: Value = serde_json::from_str(&body).with_context(|| format!("GET {url}: not JSON"))?;
    if doc.get("issuer").and_then(Value::as_str) != Some(base) {
        eprintln!(
            "leerpoort-load: warning: discovery says issuer {:?}, expected {base:?}",
            doc.get("issuer")
        );
    }
    let endpoint = |name: &str| -> anyhow::Result<Url> {
        let s = doc
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("discovery document has no {name}"))?;
        let u = Url::parse(s).with_context(|| format!("{name}: {s}"))?;
        if !same_origin(&u, issuer) {
            bail!("{name} {u} is not on the issuer's origin; refusing to load-test it");
        }
        Ok(u)
    };
    Ok(Target {
        issuer: issuer.clone(),
        authorization_endpoint: endpoint("authorization_endpoint")?,
        token_endpoint: endpoint("token_endpoint")?,
        userinfo_endpoint: endpoint("userinfo_endpoint")?,
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone(),
        redirect_uri: Url::parse(&args.redirect_uri)
            .with_context(|| format!("--redirect-uri {}", args.redirect_uri))?,
        scope: args.scope.clone(),
        email: args.email.clone().unwrap_or_default(),
        password: args.password.clone().unwrap_or_default(),
        expect_alg: args.expect_alg.clone(),
    })
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.users == 0 {
        bail!("--users must be at least 1");
    }
    let issuer = Url::parse(&args.issuer).with_context(|| format!("--issuer {}", args.issuer))?;
    if !matches!(issuer.scheme(), "http" | "https") {
        bail!("--issuer must be an http(s) URL");
    }
    if !args.allow_non_loopback && !is_loopback(&issuer) {
        bail!(
            "--issuer {issuer} is not a loopback address; pass --allow-non-loopback to load-test \
             a server you run elsewhere"
        );
    }
    let plan = match args.scenario {
        Scenario::Staff | Scenario::Signin => {
            if args.email.is_none() || args.password.is_none() {
                bail!(
                    "--scenario {} needs --email and --password (or LOAD_PASSWORD)",
                    args.scenario.name()
                );
            }
            None
        }
        Scenario::Pupil | Scenario::Home => Some(Arc::new(pupil_plan(&args)?)),
    };
    let target = Arc::new(discover(&args, &issuer, args.timeout).await?);
    let mut total = Stats::new(args.scenario.steps())?;
    let mut users = Vec::with_capacity(args.users);
    if args.scenario == Scenario::Signin {
        // Each iteration signs in afresh: nothing to do before measuring.
        for id in 0..args.users {
            users.push(Worker::Signin {
                id,
                target: Arc::clone(&target),
                timeout: args.timeout,
            });
        }
    } else if let Some(plan) = plan {
        // Pupils have no sign-in of their own before measuring: it is part of each journey.
        for id in 0..args.users {
            let pu = PupilUser::new(id, Arc::clone(&target), Arc::clone(&plan), args.timeout)?;
            users.push(Worker::Pupil(pu));
        }
    } else {
        // Sign every virtual user in, concurrently; measuring starts when all have tried.
        let mut signins = Vec::with_capacity(args.users);
        for id in 0..args.users {
            let mut vu = VirtualUser::new(id, Arc::clone(&target), args.timeout)?;
            signins.push(tokio::spawn(async move {
                let t = Instant::now();
                let r = vu.sign_in().await;
                (vu, r, t.elapsed())
            }));
        }
        for h in signins {
            let (vu, r, took) = h.await.context("a sign-in task failed")?;
            match r {
                Ok(()) => {
                    total.record("signin", took);
                    users.push(Worker::Staff(vu));
                }
                Err(f) => total.error(f),
            }
        }
    }
    let signed_in = users.len();
    let steps = args.scenario.steps();
    let whole = steps.last().copied().unwrap_or("flow");

    let started = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let measure_from = t0 + args.warmup;
    let until = measure_from + args.duration;
    // A hard stop for each user, whatever happens to its requests.
    let hard_stop = args.warmup + args.duration + args.timeout + Duration::from_secs(5);
    let mut tasks = Vec::new();
    for mut vu in users {
        let started = Arc::clone(&started);
        let max_flows = args.max_flows;
        tasks.push(tokio::spawn(async move {
            let mut st = Stats::new(steps)?;
            let work = async {
                loop {
                    let now = Instant::now();
                    if now >= until || started.fetch_add(1, Ordering::Relaxed) >= max_flows {
                        break;
                    }
                    let measured = now >= measure_from;
                    match vu.iterate().await {
                        Ok(t) if measured => {
                            for (step, d) in t.steps {
                                st.record(step, d);
                            }
                            st.record(whole, t.total);
                            st.flows += 1;
                            *st.id_token_algs.entry(t.id_token_alg).or_insert(0) += 1;
                            st.last_end = Some(Instant::now());
                        }
                        Ok(_) => st.warmup_flows += 1,
                        Err(f) => {
                            if measured {
                                st.error(f);
                            } else {
                                st.warmup_errors += 1;
                            }
                            // Do not spin on a failing server.
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            };
            if tokio::time::timeout(hard_stop, work).await.is_err() {
                st.error(Failure::new(
                    "run: hard time limit reached",
                    "a virtual user was still busy at the hard time limit",
                ));
            }
            anyhow::Ok(st)
        }));
    }
    for h in tasks {
        let st = h.await.context("a virtual user's task failed")??;
        total.merge(st)?;
    }

    let measured = match total.last_end {
        Some(end) if end > measure_from => end - measure_from,
        _ => args.duration,
    };
    let summary = Summary {
        scenario: args.scenario.name(),
        issuer: issuer.as_str().trim_end_matches('/'),
        users: args.users,
        signed_in,
        warmup: args.warmup,
        duration: args.duration,
        measured,
        stats: &total,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary.to_json())?);
    } else {
        print!("{}", summary.to_text());
    }
    Ok(if signed_in == 0 || total.flows == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The pupil or home scenario's settings, checked.
fn pupil_plan(args: &Args) -> anyhow::Result<PupilPlan> {
    let scenario = args.scenario.name();
    let start = if args.scenario == Scenario::Home {
        match (&args.email, &args.password) {
            (Some(email), Some(password)) => Start::Home {
                email: email.clone(),
                password: password.clone(),
            },
            _ => bail!("--scenario home needs --email and --password (or LOAD_PASSWORD)"),
        }
    } else {
        let instelling_ref = args
            .instelling_ref
            .clone()
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| anyhow!("--scenario pupil needs --instelling-ref"))?;
        Start::School {
            instelling_ref: instelling_ref.trim().to_string(),
            group: args.group.clone(),
        }
    };
    let raw = args.pupils.as_deref().ok_or_else(|| {
        anyhow!("--scenario {scenario} needs --pupils NAME:PIN,… (or LOAD_PUPILS)")
    })?;
    let mut pupils = parse_pupils(raw).map_err(|e| anyhow!("--pupils: {e}"))?;
    if let Some(one) = &args.pupil {
        pupils.retain(|(name, _)| name.eq_ignore_ascii_case(one.trim()));
        if pupils.is_empty() {
            bail!("--pupil {one}: not among --pupils (its PIN comes from there)");
        }
        pupils.truncate(1);
    }
    let raw_uri = args
        .initiate_login_uri
        .as_deref()
        .ok_or_else(|| anyhow!("--scenario {scenario} needs --initiate-login-uri"))?;
    let initiate_login_uri =
        Url::parse(raw_uri).with_context(|| format!("--initiate-login-uri {raw_uri}"))?;
    Ok(PupilPlan {
        start,
        pupils,
        initiate_login_uri,
        next: AtomicUsize::new(0),
        households: AtomicU32::new(0),
    })
}

/// A virtual user of either scenario.
#[derive(Debug)]
enum Worker {
    Staff(VirtualUser),
    Pupil(PupilUser),
    /// Signs in with a fresh browser (no cookies) at every iteration.
    Signin {
        id: usize,
        target: Arc<Target>,
        timeout: Duration,
    },
}

impl Worker {
    /// One flow (staff) or journey (pupil, home).
    async fn iterate(&mut self) -> Result<Outcome, Failure> {
        match self {
            Worker::Staff(vu) => vu.flow().await.map(|t| Outcome {
                steps: vec![
                    ("authorize", t.authorize),
                    ("token", t.token),
                    ("userinfo", t.userinfo),
                ],
                total: t.total,
                id_token_alg: t.id_token_alg,
            }),
            Worker::Pupil(pu) => pu.journey().await,
            Worker::Signin {
                id,
                target,
                timeout,
            } => {
                let mut vu = VirtualUser::new(*id, Arc::clone(target), *timeout)
                    .map_err(|e| Failure::new("signin: client", e.to_string()))?;
                let t = Instant::now();
                vu.sign_in().await?;
                Ok(Outcome {
                    steps: Vec::new(),
                    total: t.elapsed(),
                    id_token_alg: "(none: no token requested)".into(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    /// The arguments every scenario needs, then `extra`.
    fn args(extra: &[&str]) -> Args {
        let mut v = vec![
            "leerpoort-load",
            "--issuer",
            "http://127.0.0.1:1",
            "--client-id",
            "c",
            "--client-secret",
            "s",
            "--redirect-uri",
            "http://127.0.0.1:2/cb",
        ];
        v.extend_from_slice(extra);
        Args::try_parse_from(v).unwrap()
    }

    #[test]
    fn the_staff_scenario_is_the_default() {
        let a = args(&[]);
        assert_eq!(a.scenario, Scenario::Staff);
        assert_eq!(a.group, "Groep 3A");
        let a = args(&[
            "--scenario",
            "pupil",
            "--instelling-ref",
            "r",
            "--pupils",
            "Emma:1234,Daan:2345",
            "--pupil",
            "daan",
            "--initiate-login-uri",
            "http://127.0.0.1:2/login",
        ]);
        assert_eq!(a.scenario, Scenario::Pupil);
        let plan = pupil_plan(&a).unwrap();
        assert_eq!(plan.pupils, vec![("Daan".to_string(), "2345".to_string())]);
        assert!(matches!(plan.start, Start::School { .. }));
    }

    #[test]
    fn the_home_scenario_needs_the_parent() {
        let home = |parent: &[&str]| {
            let mut v = vec![
                "--scenario",
                "home",
                "--pupils",
                "Julia:5678",
                "--initiate-login-uri",
                "http://127.0.0.1:2/login",
            ];
            v.extend_from_slice(parent);
            args(&v)
        };
        let e = pupil_plan(&home(&[])).unwrap_err().to_string();
        assert!(e.contains("--email and --password"), "{e}");
        let plan = pupil_plan(&home(&[
            "--email",
            "ouder@thuis.example",
            "--password",
            "p",
        ]))
        .unwrap();
        assert!(
            matches!(&plan.start, Start::Home { email, .. } if email == "ouder@thuis.example"),
            "{:?}",
            plan.start
        );
        assert_eq!(plan.pupils, vec![("Julia".to_string(), "5678".to_string())]);
    }

    #[test]
    fn loopback_only_by_default() {
        for (u, ok) in [
            ("http://127.0.0.1:18080", true),
            ("http://127.3.4.5/", true),
            ("http://localhost:1/", true),
            ("http://[::1]:8080/", true),
            ("http://10.0.0.1/", false),
            ("https://example.org/", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(u).unwrap()), ok, "{u}");
        }
    }
}
