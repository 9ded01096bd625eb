//! `leerpoort school merge` and `school split`: a merger (fusie) and a split (splitsen), each
//! in one transaction; people keep their ids, so every pseudonym stays the same.

use broker::admin::{self, MergerWarning, SplitInput};
use serde_json::{json, Value};

use super::{ctx, out, Output};
use crate::app::AppState;

fn warnings_json(w: &[MergerWarning]) -> Value {
    json!(w.iter().map(ToString::to_string).collect::<Vec<_>>())
}

fn warnings_text(w: &[MergerWarning]) -> String {
    w.iter().map(|w| format!("\nwarning: {w}")).collect()
}

/// `school merge --from REF --into REF`.
pub(super) fn merge(state: &AppState, from: &str, into: &str) -> anyhow::Result<Output> {
    let from = admin::parse_school_ref(from)?;
    let into = admin::parse_school_ref(into)?;
    let r = admin::merge(ctx(state, "cli"), &from, &into)?;
    let json = json!({
        "from": r.from.to_string(),
        "into": r.into.to_string(),
        "moved": r.moved,
        "joined": r.joined,
        "joins": r.joins,
        "consents_offered": r.consents_offered,
        "warnings": warnings_json(&r.warnings),
    });
    let mut text = format!(
        "{from} merged into {into}: moved {} group(s), {} pupil(s), {} teacher(s) with their ids; \
         joined {} pupil(s) and {} teacher(s) found in both schools. The old INSTELLING_REF \
         leads to {into} from now on.",
        r.moved.groups, r.moved.pupils, r.moved.teachers, r.joined.pupils, r.joined.teachers
    );
    if r.consents_offered {
        text.push_str(
            "\nThe merged school's consents wait for the ICT coordinator's confirmation in Beheer (Toestemming).",
        );
    }
    text.push_str(&warnings_text(&r.warnings));
    Ok(out(json, text))
}

/// `school split --from REF --brin B --vestiging V [--name N] [--network CIDR]... --group KEY...`.
pub(super) fn split(state: &AppState, input: SplitInput) -> anyhow::Result<Output> {
    let r = admin::split(ctx(state, "cli"), input)?;
    let json = json!({
        "instelling_ref": r.instelling_ref.to_string(),
        "brin6": r.brin6,
        "name": r.name,
        "from": r.from.to_string(),
        "moved": r.moved,
        "stayed": r.stayed,
        "consents_copied": r.consents_copied,
        "networks_copied": r.networks_copied,
        "warnings": warnings_json(&r.warnings),
    });
    let text = format!(
        "Split off {} ({}), INSTELLING_REF {}: moved {} group(s), {} pupil(s), {} teacher(s) \
         with their ids; {} consent(s) and {} network environment(s) copied.{}",
        r.name,
        r.brin6,
        r.instelling_ref,
        r.moved.groups,
        r.moved.pupils,
        r.moved.teachers,
        r.consents_copied,
        r.networks_copied,
        warnings_text(&r.warnings)
    );
    Ok(out(json, text))
}
