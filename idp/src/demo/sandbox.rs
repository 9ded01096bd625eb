//! The sandbox school (proefschool): a second demo school that a publisher's integration
//! engineer uses to try everything a school can release — it registers the demo publisher with
//! ECK-iDs, names and groups — without touching the demo school's settings.

use std::str::FromStr;

use broker::admin::{self, Ctx};
use claims::{InstellingRef, Release};
use serde_json::{json, Value};

use super::{demo_eck_id, DEMO_CLIENT_ID, DEMO_SAML_ENTITY_ID, DEMO_STAFF_PASSWORD};
use crate::app::AppState;

/// The sandbox school's INSTELLING_REF: fixed, like the demo school's.
pub const DEMO_SANDBOX_REF: &str = "5a1d6c3b-2e4f-4a7b-8c9d-0e1f2a3b4c5d";

/// Given name, family name, group, PIN.
const PUPILS: [(&str, &str, &str, &str); 4] = [
    ("Tess", "Proef", "groep-4", "4321"),
    ("Milan", "Proef", "groep-4", "5432"),
    ("Zoë", "Test", "groep-8", "6543"),
    ("Bram", "Test", "groep-8", "7654"),
];

/// Seed the sandbox school: two groups, four pupils, a teacher, and the demo publisher's OIDC
/// client and SAML SP registered with everything released.
pub fn seed(ctx: Ctx<'_>, state: &AppState, board: uuid::Uuid) -> anyhow::Result<Value> {
    let school_ref =
        InstellingRef::from_str(DEMO_SANDBOX_REF).map_err(|e| anyhow::anyhow!("{e}"))?;
    let school = admin::add_school(
        ctx,
        admin::SchoolInput {
            brin: "99ZY".into(),
            vestiging: "00".into(),
            name: "Proefschool voor uitgevers".into(),
            networks: vec!["127.0.0.0/8".into(), "::1/128".into()],
            board: Some(board),
            instelling_ref: Some(school_ref),
        },
    )?;
    admin::add_group(ctx, &school_ref, "groep-4", "Groep 4", Some("4"), false)?;
    admin::add_group(ctx, &school_ref, "groep-8", "Groep 8", Some("8"), false)?;
    let mut pupils = Vec::new();
    for (i, (given, family, group, pin)) in PUPILS.into_iter().enumerate() {
        let added = admin::add_user(
            ctx,
            state.credentials(),
            admin::UserInput {
                school: DEMO_SANDBOX_REF.into(),
                role: "leerling".into(),
                given_name: given.into(),
                family_name: family.into(),
                groups: vec![group.into()],
                eck_id: Some(demo_eck_id(200 + i)),
                las_key: Some(format!("PS{:04}", i + 1)),
                pin: Some(pin.into()),
                ..Default::default()
            },
        )?;
        pupils.push(json!({"user_id": added.user.id.to_string(),
            "name": added.user.display_name(), "group": group, "pin": pin}));
    }
    let teacher = admin::add_user(
        ctx,
        state.credentials(),
        admin::UserInput {
            school: DEMO_SANDBOX_REF.into(),
            role: "leerkracht".into(),
            given_name: "Pim".into(),
            family_name: "Proef".into(),
            email: Some("pim.proef@proefschool.example".into()),
            groups: vec!["groep-4".into(), "groep-8".into()],
            eck_id: Some(demo_eck_id(220)),
            password: Some(DEMO_STAFF_PASSWORD.into()),
            ..Default::default()
        },
    )?;
    for public_id in [DEMO_CLIENT_ID, DEMO_SAML_ENTITY_ID] {
        admin::register(
            ctx,
            &school_ref,
            public_id,
            admin::RegisterOptions {
                release: Release {
                    eckid: true,
                    names: true,
                    groups: true,
                },
                home_allowed: true,
            },
        )?;
    }
    let issuer = &state.config.issuer;
    Ok(json!({
        "instelling_ref": school.instelling_ref.to_string(),
        "brin6": school.brin6.to_string(),
        "name": school.name,
        "shortcut": format!("{issuer}/snelkoppeling?INSTELLING_REF={DEMO_SANDBOX_REF}&TARGET={DEMO_CLIENT_ID}"),
        "pupils": pupils,
        "teacher": {"user_id": teacher.user.id.to_string(),
            "email": "pim.proef@proefschool.example", "password": DEMO_STAFF_PASSWORD},
        "releases": {"eckid": true, "names": true, "groups": true},
    }))
}
