//! `leerpoort shortcuts`: write a school's shortcut files.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use broker::clock::Clock;
use serde_json::json;

use super::{open_state, out, Output};
use crate::config::Config;
use broker::admin;

pub(super) fn run(
    config: Config,
    clock: Arc<dyn Clock>,
    school: String,
    dir: PathBuf,
    target: Option<String>,
) -> anyhow::Result<Output> {
    let state = open_state(config, clock)?;
    let r = admin::parse_school_ref(&school)?;
    let s = state
        .dir
        .school(&r)?
        .ok_or_else(|| anyhow::anyhow!("no school with INSTELLING_REF {r}"))?;
    if let Some(t) = &target {
        crate::shortcut::resolve_target(&state, &s, t)
            .map_err(|_| anyhow::anyhow!("school {r} has not enabled '{t}'"))?;
    }
    let files = crate::shortcut_files::files(&state.config.issuer, &r, &s.name, target.as_deref())?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for f in &files {
        let path = dir.join(&f.name);
        std::fs::write(&path, &f.bytes).with_context(|| format!("writing {}", path.display()))?;
        written.push(path.display().to_string());
    }
    let pupil = crate::shortcut_files::shortcut_url(
        &state.config.issuer,
        &r,
        "leerling",
        target.as_deref(),
    );
    let teacher = crate::shortcut_files::shortcut_url(
        &state.config.issuer,
        &r,
        "leerkracht",
        target.as_deref(),
    );
    Ok(out(
        json!({"school": r.to_string(), "pupil_url": pupil, "teacher_url": teacher, "files": written}),
        format!(
            "Pupils: {pupil}\nTeachers: {teacher}\nWrote {} files to {}",
            written.len(),
            dir.display()
        ),
    ))
}
