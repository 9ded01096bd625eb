//! `leerpoort las …` and `leerpoort sync run`: the automatic coupling with a school's pupil
//! administration (LAS), from the operator's side.

use std::io::Read as _;

use broker::import::las::{self, LasError, Offer, Status};
use claims::InstellingRef;
use clap::Subcommand;
use serde_json::{json, Value};

use super::{out, Output};
use crate::app::AppState;

#[derive(Debug, Subcommand)]
pub enum LasCmd {
    /// Register an LAS: its own client at /oidc/token for the push API (scope `las`), and for
    /// pull its UWLR 2.3 endpoint. Prints the client secret once.
    Add {
        #[arg(long)]
        name: String,
        /// The LAS's UWLR endpoint (https): Leerpoort fetches from it nightly.
        #[arg(long, value_name = "URL")]
        uwlr_url: Option<String>,
    },
    /// Every registered LAS.
    List,
    /// The school's side, as its coordinator sets it in Beheer: automatic with an LAS, or
    /// manual. For an LAS Leerpoort fetches from, the autorisatiesleutel it issued for the
    /// school is read from standard input (`--autorisatiesleutel-stdin`).
    Choose {
        #[arg(long)]
        school: String,
        /// The LAS (its name, id or client id).
        #[arg(long, conflicts_with = "manual", required_unless_present = "manual")]
        las: Option<String>,
        /// "Handmatig importeren": no automatic coupling.
        #[arg(long)]
        manual: bool,
        #[arg(long, requires = "las")]
        autorisatiesleutel_stdin: bool,
    },
    /// The school's import method: both sides of every coupling, and the last run.
    Status {
        #[arg(long)]
        school: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// Fetch the school's data from the LAS it chose, now (UWLR `HaalLeerlinggegevens`), and
    /// import it: the report of `import edexml`.
    Run {
        #[arg(long)]
        school: String,
        /// Report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub(super) fn run(state: &AppState, cmd: LasCmd) -> anyhow::Result<Output> {
    match cmd {
        LasCmd::Add { name, uwlr_url } => {
            let added = las::add_las(super::ctx(state, "cli"), &name, uwlr_url.as_deref())?;
            let l = &added.las;
            let client_id = l.rp.public_id().to_string();
            let text = format!(
                "LAS {} registered\nclient_id: {client_id}\nclient_secret: {} (shown once)\ntoken: POST {}/oidc/token grant_type=client_credentials scope=las",
                l.name(),
                added.client_secret,
                state.config.issuer
            );
            Ok(out(
                json!({
                    "las_id": l.id().to_string(),
                    "name": l.name(),
                    "client_id": client_id,
                    "client_secret": added.client_secret,
                    "uwlr_url": l.uwlr_url,
                }),
                text,
            ))
        }
        LasCmd::List => {
            let all = state.dir.las_suppliers()?;
            let rows: Vec<Value> = all
                .iter()
                .map(|l| {
                    json!({"las_id": l.id().to_string(), "name": l.name(),
                        "client_id": l.rp.public_id(), "uwlr_url": l.uwlr_url})
                })
                .collect();
            let text = all
                .iter()
                .map(|l| match &l.uwlr_url {
                    Some(u) => format!("{} (pull: {u})", l.name()),
                    None => format!("{} (push)", l.name()),
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(out(json!({ "las": rows }), text))
        }
        LasCmd::Choose {
            school,
            las: name,
            manual: _,
            autorisatiesleutel_stdin,
        } => {
            let r = broker::admin::parse_school_ref(&school)?;
            let chosen = name
                .map(|n| las::find_las(state.dir.as_ref(), &n))
                .transpose()?;
            let key = if autorisatiesleutel_stdin {
                let mut k = String::new();
                std::io::stdin()
                    .take(4096)
                    .read_to_string(&mut k)
                    .map_err(|e| anyhow::anyhow!("reading the autorisatiesleutel: {e}"))?;
                Some(k)
            } else {
                None
            };
            let secrets = state.credentials();
            let st = las::choose(
                super::ctx(state, "cli"),
                &secrets,
                &r,
                chosen.as_ref(),
                key.as_deref(),
            )?;
            Ok(status_output(&r, &st))
        }
        LasCmd::Status { school } => {
            let r = broker::admin::parse_school_ref(&school)?;
            let st = las::status(state.dir.as_ref(), &r)?;
            Ok(status_output(&r, &st))
        }
    }
}

fn offer_json(o: &Offer) -> Value {
    json!({
        "las": o.las.name(),
        "las_id": o.las.id().to_string(),
        "mode": if o.is_pull() { "pull" } else { "push" },
        "chosen_by_school": o.chosen,
        "granted_by_las": o.granted,
        "active": o.active(),
        "missing": o.missing(),
        "last_run_at": o.last_run_at,
        "last_outcome": o.last_outcome,
    })
}

fn status_output(school: &InstellingRef, st: &Status) -> Output {
    let chosen = st.chosen();
    let text = match chosen {
        None => format!("{school}: Handmatig importeren (no automatic coupling)"),
        Some(o) => match o.missing() {
            None => format!("{school}: automatic with {}: active", o.las.name()),
            Some(m) => format!("{school}: automatic with {}: not active: {m}", o.las.name()),
        },
    };
    out(
        json!({
            "instelling_ref": school.to_string(),
            "method": if chosen.is_some() { "automatic" } else { "manual" },
            "las": chosen.map(|o| o.las.name()),
            "active": chosen.is_some_and(Offer::active),
            "missing": chosen.and_then(Offer::missing),
            "offers": st.offers.iter().map(offer_json).collect::<Vec<_>>(),
        }),
        text,
    )
}

pub(super) fn sync(state: &AppState, cmd: SyncCmd) -> anyhow::Result<Output> {
    let SyncCmd::Run { school, dry_run } = cmd;
    let r = broker::admin::parse_school_ref(&school)?;
    let secrets = state.credentials();
    let transport = crate::uwlr::HttpsUwlr::new(&state.config.uwlr);
    let afnemer = crate::uwlr::afnemer(&state.config.uwlr);
    let w = state.world();
    let (report, welcomed) =
        las::pull(&w, &secrets, &transport, &afnemer, &r, dry_run).map_err(|e| match e {
            LasError::Import(broker::import::ImportError::Invalid { line, message }) => {
                anyhow::anyhow!("the LAS's answer:{line}: {message}")
            }
            other => anyhow::anyhow!("{other}"),
        })?;
    let las_name = las::status(state.dir.as_ref(), &r)?
        .chosen()
        .map(|o| o.las.name().to_string());
    let mut json = super::import::report_json(&report, welcomed);
    if let Some(fields) = json.as_object_mut() {
        fields.insert("las".into(), json!(las_name));
    }
    let heading = format!(
        "{} (UWLR) for {}",
        las_name.as_deref().unwrap_or("LAS"),
        report.school_year
    );
    Ok(out(
        json,
        super::import::report_text(&report, &heading, welcomed),
    ))
}
