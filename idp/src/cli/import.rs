//! `leerpoort import edexml`: a school's pupil administration, from a file.

use std::io::Read;
use std::path::Path;

use broker::admin::Ctx;
use broker::import::{self, ImportError, ImportReport};
use protocol::edexml;
use serde_json::json;

use super::{out, Output};
use crate::app::AppState;

/// `import edexml FILE --school REF [--dry-run]`. A refusal names the file and the line
/// (`FILE:LINE: message`); nothing is written.
pub(super) fn edexml(
    state: &AppState,
    file: &Path,
    school_ref: &str,
    dry_run: bool,
) -> anyhow::Result<Output> {
    let name = file.display();
    let r = broker::admin::parse_school_ref(school_ref)?;
    let bytes = read_bounded(file, edexml::MAX_BYTES)?;
    let ctx = Ctx {
        dir: state.dir.as_ref(),
        clock: state.clock.as_ref(),
        actor: "cli",
    };
    let today = catalogue::local_time(state.clock.now_secs(), "%Y-%m-%d");
    let secrets = state.credentials();
    let report = import::edexml::import(ctx, &secrets, &r, &bytes, &today, dry_run).map_err(
        |e| match e {
            ImportError::Invalid { line, message } => anyhow::anyhow!("{name}:{line}: {message}"),
            other => anyhow::anyhow!("{name}: {other}"),
        },
    )?;
    Ok(out(report_json(&report), report_text(&report)))
}

/// Read `file`, refusing it when it is larger than `max` bytes (without reading more).
fn read_bounded(file: &Path, max: usize) -> anyhow::Result<Vec<u8>> {
    let name = file.display();
    let f = std::fs::File::open(file).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut bytes = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    f.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    if bytes.len() > max {
        anyhow::bail!("{name}: larger than {} MB", max / (1024 * 1024));
    }
    Ok(bytes)
}

fn report_json(r: &ImportReport) -> serde_json::Value {
    json!({
        "edexml_version": r.edexml_version,
        "school_year": r.school_year,
        "dry_run": r.dry_run,
        "added": r.added,
        "changed": r.changed,
        "removed": r.removed,
        "warnings": r.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

fn report_text(r: &ImportReport) -> String {
    let c = |k: &str, n: &broker::import::Counts| {
        format!(
            "{k}: {} groups, {} pupils, {} teachers",
            n.groups, n.pupils, n.teachers
        )
    };
    let mut lines = vec![
        format!(
            "EDEXML {} for {}{}",
            r.edexml_version.unwrap_or("?"),
            r.school_year,
            if r.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            }
        ),
        c("added", &r.added),
        c("changed", &r.changed),
        c("removed", &r.removed),
    ];
    lines.extend(r.warnings.iter().map(|w| format!("warning: {w}")));
    lines.join("\n")
}
