//! `leerpoort import edexml` and `import spreadsheet`: a school's pupils and staff, from a file.

use std::io::Read;
use std::path::Path;

use broker::admin::Ctx;
use broker::import::{self, Door, ImportError, ImportReport};
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
    let bytes = read_bounded(file, edexml::MAX_BYTES)?;
    let (r, welcomed) = through(state, file, school_ref, &bytes, Door::Edexml, dry_run)?;
    let version = r.edexml_version.unwrap_or("?");
    let heading = format!("EDEXML {version} for {}", r.school_year);
    Ok(out(
        report_json(&r, welcomed),
        report_text(&r, &heading, welcomed),
    ))
}

/// `import spreadsheet FILE --school REF [--dry-run]`: a CSV or XLSX file the school filled in
/// itself (told by its content). The report is `import edexml`'s, with `"format": "csv"` or
/// `"xlsx"` in place of `edexml_version`. A refusal is `FILE:ROW: message`; nothing is written.
pub(super) fn spreadsheet(
    state: &AppState,
    file: &Path,
    school_ref: &str,
    dry_run: bool,
) -> anyhow::Result<Output> {
    let max = protocol::spreadsheet::MAX_BYTES;
    if std::fs::metadata(file).is_ok_and(|m| m.len() > max as u64) {
        let name = file.display();
        anyhow::bail!(
            "{name}:1: the file is larger than {} MB",
            max / (1024 * 1024)
        );
    }
    let bytes = read_bounded(file, max)?;
    let format = protocol::spreadsheet::Format::of(&bytes).as_str();
    let (r, welcomed) = through(state, file, school_ref, &bytes, Door::Spreadsheet, dry_run)?;
    let mut json = report_json(&r, welcomed);
    if let Some(fields) = json.as_object_mut() {
        fields.remove("edexml_version");
        fields.insert("format".into(), json!(format));
    }
    let heading = format!(
        "Spreadsheet ({}) for {}",
        format.to_uppercase(),
        r.school_year
    );
    Ok(out(json, report_text(&r, &heading, welcomed)))
}

/// Import `bytes` (read from `file`) into the school `school_ref` through `door`, as the
/// command line, and mail the teachers it added: the report, and how many mails went out. A
/// refusal names the file (and the line).
fn through(
    state: &AppState,
    file: &Path,
    school_ref: &str,
    bytes: &[u8],
    door: Door,
    dry_run: bool,
) -> anyhow::Result<(ImportReport, usize)> {
    let name = file.display();
    let r = broker::admin::parse_school_ref(school_ref)?;
    let today = catalogue::local_time(state.clock.now_secs(), "%Y-%m-%d");
    let secrets = state.credentials();
    let ctx = super::ctx(state, "cli");
    let report =
        import::import(door, ctx, &secrets, &r, bytes, &today, dry_run).map_err(|e| match e {
            ImportError::Invalid { line, message } => anyhow::anyhow!("{name}:{line}: {message}"),
            other => anyhow::anyhow!("{name}: {other}"),
        })?;
    let welcomed = import::welcome(&state.world(), "cli", &report);
    Ok((report, welcomed))
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

pub(super) fn report_json(r: &ImportReport, welcomed: usize) -> serde_json::Value {
    json!({
        "edexml_version": r.edexml_version,
        "school_year": r.school_year,
        "dry_run": r.dry_run,
        "added": r.added,
        "changed": r.changed,
        "removed": r.removed,
        "warnings": r.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "staged": r.staged,
        "activation_mails": welcomed,
    })
}

pub(super) fn report_text(r: &ImportReport, heading: &str, welcomed: usize) -> String {
    let c = |k: &str, n: &broker::import::Counts| {
        format!(
            "{k}: {} groups, {} pupils, {} teachers",
            n.groups, n.pupils, n.teachers
        )
    };
    let dry = if r.dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    let mut lines = vec![
        format!("{heading}{dry}"),
        c("added", &r.added),
        c("changed", &r.changed),
        c("removed", &r.removed),
    ];
    if let Some(st) = &r.staged {
        let what = if r.dry_run {
            "would take effect"
        } else {
            "staged; takes effect"
        };
        lines.push(format!(
            "for school year {}: {what} on {} (the current year stays in force until then)",
            st.school_year, st.takes_effect
        ));
    }
    lines.extend(r.warnings.iter().map(|w| format!("warning: {w}")));
    if !r.dry_run {
        lines.push(format!("activation mails sent: {welcomed}"));
    }
    lines.join("\n")
}

/// `import staged [--school REF]`: files for the next school year, waiting for 1 August.
pub(super) fn staged(state: &AppState, school: Option<&str>) -> anyhow::Result<Output> {
    let dir = state.dir.as_ref();
    let refs = match school {
        Some(s) => vec![broker::admin::parse_school_ref(s)?],
        None => dir.staged_due(i64::MAX)?,
    };
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for r in refs {
        let Some(st) = dir.staged_import(&r)? else {
            continue;
        };
        let takes_effect = catalogue::local_time(st.takes_effect, "%Y-%m-%d");
        lines.push(format!(
            "{r}: {} file for {}, takes effect {takes_effect}",
            st.source, st.school_year
        ));
        rows.push(json!({
            "instelling_ref": r.to_string(),
            "school_year": st.school_year,
            "source": st.source,
            "takes_effect": takes_effect,
            "staged_at": st.staged_at,
            "report": st.report,
        }));
    }
    if lines.is_empty() {
        lines.push("no staged files".into());
    }
    Ok(out(json!({ "staged": rows }), lines.join("\n")))
}

/// `import withdraw --school REF`: the staged file for the next year is forgotten.
pub(super) fn withdraw(state: &AppState, school: &str) -> anyhow::Result<Output> {
    let r = broker::admin::parse_school_ref(school)?;
    let withdrawn = import::staging::withdraw(super::ctx(state, "cli"), &r)?;
    let text = if withdrawn {
        format!("{r}: the staged file is withdrawn")
    } else {
        format!("{r}: no staged file")
    };
    Ok(out(json!({ "withdrawn": withdrawn }), text))
}

/// `import duo FILE.csv`: DUO's registry of school locations, in one transaction. A refusal
/// names the file and the line (`FILE:LINE: message`); nothing is written.
pub(super) fn duo(state: &AppState, file: &Path) -> anyhow::Result<Output> {
    let name = file.display();
    let bytes = read_bounded(file, protocol::duo::MAX_BYTES)?;
    let ctx = Ctx {
        dir: state.dir.as_ref(),
        clock: state.clock.as_ref(),
        actor: "cli",
    };
    let r = import::duo::load(ctx, &bytes).map_err(|e| match e {
        ImportError::Invalid { line, message } => anyhow::anyhow!("{name}:{line}: {message}"),
        other => anyhow::anyhow!("{name}: {other}"),
    })?;
    Ok(out(
        json!({
            "locations": r.locations,
            "added": r.added,
            "changed": r.changed,
            "gone": r.gone,
            "schools_renamed": r.schools_renamed,
            "encoding": r.encoding,
        }),
        format!(
            "DUO's registry ({}): {} locations, {} added, {} changed, {} no longer listed; {} school(s) took DUO's name",
            r.encoding, r.locations, r.added, r.changed, r.gone, r.schools_renamed
        ),
    ))
}
