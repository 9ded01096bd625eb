//! The demo publisher's titles and licences, as its back end would push them through the
//! licence API: "Rekenrijk" with a product per year group, "Kleuterplein" for the toddlers,
//! and a teacher's dashboard. Their icons are OpenMoji drawings (docs/assets.md).

use base64::Engine as _;
use broker::audit::AuditAction;
use broker::licences::{check_title, Holder, Licence, LicenceChange, TitleInput, TitleKey};
use broker::model::AuditEvent;
use claims::InstellingRef;
use serde_json::json;

use crate::app::AppState;

/// (methode, product, code, name, picture, url path, tags, group keys that hold it: `*` for
/// the whole school, none for nobody).
type DemoTitle = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const TITLES: [DemoTitle; 5] = [
    (
        "rekenrijk",
        None,
        "RR",
        "Rekenrijk",
        "raket",
        "/rekenrijk",
        &[],
        &[],
    ),
    (
        "rekenrijk",
        Some("rekenrijk-3"),
        "RR3",
        "Rekenrijk groep 3",
        "raket",
        "/rekenrijk/groep-3",
        &[],
        &["groep-3a"],
    ),
    (
        "rekenrijk",
        Some("rekenrijk-7"),
        "RR7",
        "Rekenrijk groep 7",
        "raket",
        "/rekenrijk/groep-7",
        &[],
        &["groep-7b"],
    ),
    (
        "kleuterplein",
        None,
        "KP",
        "Kleuterplein",
        "olifant",
        "/kleuterplein",
        &[],
        &["groep-1-2"],
    ),
    (
        "rekenrijk-dashboard",
        None,
        "RRD",
        "Rekenrijk voor de leerkracht",
        "ster",
        "/rekenrijk/dashboard",
        &["leerkrachtApplicatie"],
        &["*"],
    ),
];

/// Put the demo titles of the publisher `client_id` (at `base`, e.g. `http://127.0.0.1:8081`)
/// and its licences at `school`.
pub fn seed(
    state: &AppState,
    client_id: &str,
    base: &str,
    school: &InstellingRef,
) -> anyhow::Result<()> {
    let rp = state
        .dir
        .relying_party_by_public_id(client_id)?
        .ok_or_else(|| anyhow::anyhow!("no client {client_id}"))?;
    let now = state.clock.now_secs();
    let line = |action, details| {
        AuditEvent::record(
            action,
            "demo",
            now,
            None,
            Some(client_id.to_string()),
            details,
        )
    };
    let mut change = LicenceChange::default();
    for (methode, product, code, name, picture, path, tags, groups) in TITLES {
        let svg = crate::pictures::by_name(picture)
            .ok_or_else(|| anyhow::anyhow!("no picture {picture}"))?
            .svg;
        let input = TitleInput {
            id: product.unwrap_or(methode).into(),
            code: Some(code.into()),
            naam: name.into(),
            icon: Some(format!(
                "image/svg+xml,{}",
                base64::engine::general_purpose::STANDARD.encode(svg)
            )),
            icon_url: None,
            url: Some(format!("{base}{path}")),
            tags: tags.iter().map(|t| (*t).to_string()).collect(),
            thuis_toegestaan: Some(true),
        };
        let in_methode = product.map(|_| methode);
        let (title, icon) = check_title(rp.id, in_methode, None, input, now)?;
        state.dir.put_title(
            title,
            icon,
            now,
            line(AuditAction::TitlePut, json!({"title": code})),
        )?;
        let key = TitleKey {
            rp: rp.id,
            methode: methode.into(),
            product: product.map(Into::into),
        };
        for g in groups {
            if *g == "*" {
                change.add.push(Licence {
                    title: key.clone(),
                    school: *school,
                    holder: Holder::School,
                });
            } else if let Some(group) = state.dir.group_by_key(school, g)? {
                change.add.push(Licence {
                    title: key.clone(),
                    school: *school,
                    holder: Holder::Group(group.id),
                });
            }
        }
    }
    state.dir.change_licences(
        &change,
        now,
        line(
            AuditAction::LicencesChange,
            json!({"add": change.add.len()}),
        ),
    )?;
    Ok(())
}
