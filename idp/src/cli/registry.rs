//! Schools and DUO's registry on the command line: whether a school's location is listed
//! (`"registry": "duo"`, its name is DUO's) or outside it (`"outside"`, its name is kept by
//! hand), for `school add` and `school list`.

use broker::import::duo::{self, Registry};
use broker::model::School;
use serde_json::json;

use super::{out, school_json, Output};
use crate::app::AppState;

/// Where `school`'s location stands.
pub(super) fn of(state: &AppState, school: &School) -> anyhow::Result<Registry> {
    Ok(match duo::official(state.dir.as_ref(), &school.brin6)? {
        Some(_) => Registry::Duo,
        None => Registry::Outside,
    })
}

/// The words for `registry` in the command's text.
pub(super) fn describe(registry: Registry) -> &'static str {
    match registry {
        Registry::Duo => "name as registered at DUO",
        Registry::Outside => "outside DUO's registry",
    }
}

/// `school list`: every school, with where it stands towards the registry.
pub(super) fn list(state: &AppState) -> anyhow::Result<Output> {
    let schools = state.dir.schools()?;
    let listed = duo::listed(state.dir.as_ref())?;
    let mut rows = Vec::with_capacity(schools.len());
    let mut lines = Vec::with_capacity(schools.len());
    for s in &schools {
        let registry = Registry::of(&s.brin6, &listed);
        let mut row = school_json(s);
        row["registry"] = json!(registry.as_str());
        rows.push(row);
        lines.push(format!(
            "{}  {}  {}  {}  {}",
            s.instelling_ref,
            s.brin6,
            s.status.as_str(),
            registry.as_str(),
            s.name
        ));
    }
    Ok(out(json!({ "schools": rows }), lines.join("\n")))
}
