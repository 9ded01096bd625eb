//! `leerpoort demo`: a school board with one school, three groups, twelve pupils (two of them
//! toddlers with a picture password), two teachers, an ICT coordinator, and a publisher's OIDC
//! client and SAML service provider registered for the school, with the publisher's titles and
//! licences (lesmateriaal) — and a sandbox school for publishers. Everything it makes is printed,
//! credentials included. Demo data is for trying Leerpoort out, never for a production database.

mod lesmateriaal;
mod sandbox;

use std::str::FromStr;

use claims::InstellingRef;
use serde_json::{json, Value};

use crate::app::AppState;
use broker::admin::{self, Ctx};

/// The demo school's INSTELLING_REF: fixed, so shortcuts in the documentation work.
pub const DEMO_SCHOOL_REF: &str = "8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a01";
/// The demo publisher's client id.
pub const DEMO_CLIENT_ID: &str = "demo-uitgeverij";
/// Password of every demo staff account.
pub const DEMO_STAFF_PASSWORD: &str = "paarse-giraf-fietst";
/// The demo parent: Julia's home account (activated), for signing in at home (`/thuis`).
pub const DEMO_PARENT_EMAIL: &str = "ouders.meijer@thuis.example";
/// The demo parent's password.
pub const DEMO_PARENT_PASSWORD: &str = "groene-schildpad-zwemt";

/// Given name, family name, group, PIN, own picture.
const PUPILS: [(&str, &str, &str, &str, &str); 10] = [
    ("Emma", "de Jong", "groep-3a", "1234", "egel"),
    ("Daan", "Bakker", "groep-3a", "2345", "leeuw"),
    ("Noor", "Visser", "groep-3a", "3456", "vlinder"),
    ("Sem", "Smit", "groep-3a", "4567", "raket"),
    ("Julia", "Meijer", "groep-3a", "5678", "aardbei"),
    ("Liam", "de Boer", "groep-7b", "6789", "fiets"),
    ("Saar", "Mulder", "groep-7b", "7890", "bloem"),
    ("Finn", "de Groot", "groep-7b", "8901", "boot"),
    ("Yara", "Bos", "groep-7b", "9012", "maan"),
    ("Milan", "Vos", "groep-7b", "0123", "olifant"),
];

/// Toddlers with a picture password: given name, family name, pictures, own picture.
const TODDLERS: [(&str, &str, &str, &str); 2] = [
    ("Lotte", "Peters", "vos,appel,zon", "eenhoorn"),
    ("Bram", "Hendriks", "kat,bal", "schildpad"),
];

/// A deterministic, well-formed demo ECK-iD (not a real one).
fn demo_eck_id(n: usize) -> String {
    let a = ring::digest::digest(
        &ring::digest::SHA512,
        format!("leerpoort-demo-eckid-{n}").as_bytes(),
    );
    format!("https://ketenid.nl/201703/{}", hex::encode(a.as_ref()))
}

/// Seed the demo. Fails (and writes nothing more) when the demo school already exists.
pub fn seed(state: &AppState) -> anyhow::Result<Value> {
    let ctx = Ctx {
        dir: state.dir.as_ref(),
        clock: state.clock.as_ref(),
        actor: "demo",
    };
    let school_ref =
        InstellingRef::from_str(DEMO_SCHOOL_REF).map_err(|e| anyhow::anyhow!("{e}"))?;
    if state.dir.school(&school_ref)?.is_some() {
        anyhow::bail!("the demo school already exists in this database");
    }
    let board = admin::add_board(ctx, "Stichting De Regenboog (demo)", None)?;
    let school = admin::add_school(
        ctx,
        admin::SchoolInput {
            brin: "99ZZ".into(),
            vestiging: "00".into(),
            name: "Basisschool De Regenboog".into(),
            networks: vec!["127.0.0.0/8".into(), "::1/128".into()],
            board: Some(board.id),
            instelling_ref: Some(school_ref),
        },
    )?;
    let g2 = admin::add_group(ctx, &school_ref, "groep-1-2", "Groep 1/2", Some("2"), true)?;
    let g3 = admin::add_group(ctx, &school_ref, "groep-3a", "Groep 3A", Some("3"), false)?;
    let g7 = admin::add_group(ctx, &school_ref, "groep-7b", "Groep 7B", Some("7"), false)?;

    let pupils = seed_pupils(ctx, state)?;
    let staff = seed_staff(ctx, state)?;
    let home = seed_home(state, &pupils)?;
    let rps = seed_relying_parties(ctx, state, &school_ref)?;
    lesmateriaal::seed(state, DEMO_CLIENT_ID, DEMO_PUBLISHER_BASE, &school_ref)?;
    let sandbox = sandbox::seed(ctx, state, board.id)?;
    let issuer = &state.config.issuer;
    Ok(json!({
        "issuer": issuer,
        "school_board": {"id": board.id.to_string(), "name": board.name},
        "school": {
            "instelling_ref": school.instelling_ref.to_string(),
            "brin6": school.brin6.to_string(),
            "name": school.name,
            "networks": school.networks.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            "pupil_shortcut": format!("{issuer}/snelkoppeling?INSTELLING_REF={}&ROL=leerling", school.instelling_ref),
            "teacher_shortcut": format!("{issuer}/snelkoppeling?INSTELLING_REF={}&ROL=leerkracht", school.instelling_ref),
        },
        "groups": [
            {"group_key": g2.key, "name": g2.name, "jaargroep": 2},
            {"group_key": g3.key, "name": g3.name, "jaargroep": 3},
            {"group_key": g7.key, "name": g7.name, "jaargroep": 7},
        ],
        "pupils": pupils,
        "staff": staff,
        "home": home,
        "sandbox_school": sandbox,
        "oidc_client": {
            "client_id": rps.client.rp.public_id(),
            "client_secret": rps.client.client_secret,
            "redirect_uris": ["http://127.0.0.1:8081/callback", "http://localhost:8081/callback"],
            "discovery": format!("{issuer}/.well-known/openid-configuration"),
        },
        "network_environment": {
            "client_id": rps.network.rp.public_id(),
            "client_secret": rps.network.client_secret,
            "upstream": rps.upstream.name,
            "upstream_issuer": DEMO_UPSTREAM_ISSUER,
            "upstream_client_secret": DEMO_UPSTREAM_SECRET,
            "shortcut": format!("{issuer}/snelkoppeling?INSTELLING_REF={DEMO_SCHOOL_REF}&TARGET={DEMO_CLIENT_ID}&NETWERK={DEMO_UPSTREAM}"),
        },
        "saml_sp": {
            "entity_id": rps.saml_sp.public_id(),
            "acs": DEMO_SAML_ACS,
            "idp_metadata": format!("{issuer}{}", crate::saml::paths::METADATA),
        },
    }))
}

/// A demo pupil of the demo school in `group`: the `n`th demo ECK-iD, LAS key `LL{las}`, and
/// their own picture; without a PIN or picture password.
fn demo_pupil(
    (given, family): (&str, &str),
    group: &str,
    n: usize,
    las: usize,
    picture: &str,
) -> admin::UserInput {
    admin::UserInput {
        school: DEMO_SCHOOL_REF.into(),
        role: "leerling".into(),
        given_name: given.into(),
        family_name: family.into(),
        groups: vec![group.into()],
        eck_id: Some(demo_eck_id(n)),
        las_key: Some(format!("LL{las:04}")),
        picture: Some(picture.into()),
        ..Default::default()
    }
}

/// The demo pupils: twelve with a PIN, the toddlers with a picture password.
fn seed_pupils(ctx: Ctx<'_>, state: &AppState) -> anyhow::Result<Vec<Value>> {
    let mut pupils = Vec::new();
    for (i, (given, family, group, pin, picture)) in PUPILS.iter().enumerate() {
        let added = admin::add_user(
            ctx,
            state.credentials(),
            admin::UserInput {
                pin: Some((*pin).into()),
                ..demo_pupil((given, family), group, i, i + 1, picture)
            },
        )?;
        pupils.push(json!({
            "user_id": added.user.id.to_string(),
            "name": added.user.display_name(),
            "group": group,
            "pin": pin,
        }));
    }

    for (i, (given, family, pictures, picture)) in TODDLERS.iter().enumerate() {
        let added = admin::add_user(
            ctx,
            state.credentials(),
            admin::UserInput {
                picture_password: Some((*pictures).into()),
                ..demo_pupil((given, family), "groep-1-2", 50 + i, 50 + i, picture)
            },
        )?;
        pupils.push(json!({
            "user_id": added.user.id.to_string(),
            "name": added.user.display_name(),
            "group": "groep-1-2",
            "picture_password": pictures,
        }));
    }
    Ok(pupils)
}

/// The demo staff: two teachers and an ICT coordinator, all with the demo password.
fn seed_staff(ctx: Ctx<'_>, state: &AppState) -> anyhow::Result<Vec<Value>> {
    let staff_specs = [
        (
            "Anna",
            "de Vries",
            "anna.devries@regenboog.example",
            "leerkracht",
            vec!["groep-3a"],
        ),
        (
            "Karim",
            "El Amrani",
            "karim.elamrani@regenboog.example",
            "leerkracht",
            vec!["groep-7b"],
        ),
        (
            "Sanne",
            "Jansen",
            "sanne.jansen@regenboog.example",
            "ict-coordinator",
            vec![],
        ),
    ];
    let mut staff = Vec::new();
    for (i, (given, family, email, role, groups)) in staff_specs.into_iter().enumerate() {
        let added = admin::add_user(
            ctx,
            state.credentials(),
            admin::UserInput {
                school: DEMO_SCHOOL_REF.into(),
                role: role.into(),
                given_name: given.into(),
                family_name: family.into(),
                email: Some(email.into()),
                groups: groups.iter().map(|g| (*g).to_string()).collect(),
                eck_id: Some(demo_eck_id(100 + i)),
                las_key: Some(format!("LK{:04}", i + 1)),
                password: Some(DEMO_STAFF_PASSWORD.into()),
                ..Default::default()
            },
        )?;
        staff.push(json!({
            "user_id": added.user.id.to_string(),
            "name": added.user.display_name(),
            "role": role,
            "email": email,
            "password": DEMO_STAFF_PASSWORD,
        }));
    }
    Ok(staff)
}

/// The demo parent: a home account for the demo pupil Julia (Groep 3A), activated with the demo
/// parent password, as if the teacher had entered the address and the parent had followed the
/// activation link. Each step is an audit event, as it would be then.
fn seed_home(state: &AppState, pupils: &[Value]) -> anyhow::Result<Value> {
    use broker::audit::AuditAction;
    use broker::model::AuditEvent;
    let julia = pupils
        .iter()
        .find(|p| p["name"].as_str().is_some_and(|n| n.starts_with("Julia ")))
        .ok_or_else(|| anyhow::anyhow!("the demo has no pupil Julia"))?;
    let (id, name) = (
        julia["user_id"].as_str().unwrap_or_default(),
        julia["name"].as_str().unwrap_or_default(),
    );
    let now = state.clock.now_secs();
    let account = state.dir.link_thuis_account(
        id.parse()?,
        DEMO_PARENT_EMAIL,
        AuditEvent::record(
            AuditAction::ThuisAddressAdded,
            "demo",
            now,
            Some(InstellingRef::from_str(DEMO_SCHOOL_REF).map_err(|e| anyhow::anyhow!("{e}"))?),
            Some(id.to_string()),
            json!({}),
        ),
    )?;
    let hash = broker::secrets::hash_password(DEMO_PARENT_PASSWORD)?;
    state.dir.set_thuis_password(
        account.id,
        &hash,
        AuditEvent::record(
            AuditAction::ThuisActivated,
            "demo",
            now,
            None,
            Some(format!("thuis:{}", account.id)),
            json!({}),
        ),
    )?;
    Ok(json!([{
        "email": DEMO_PARENT_EMAIL,
        "password": DEMO_PARENT_PASSWORD,
        "children": [{"user_id": id, "name": name}],
        "entrance": format!("{}/thuis", state.config.issuer),
    }]))
}

/// What the demo connects the school to.
struct DemoParties {
    client: admin::AddedClient,
    saml_sp: broker::model::RelyingParty,
    network: admin::AddedClient,
    upstream: broker::model::Upstream,
}

/// A demo OIDC client for both audiences with RS256 ID tokens.
fn demo_client(name: &str, kind: &str, client_id: &str) -> admin::ClientInput {
    admin::ClientInput {
        name: name.into(),
        kind: kind.into(),
        audience: "beide".into(),
        id_token_alg: "RS256".into(),
        client_id: Some(client_id.into()),
        ..Default::default()
    }
}

/// The demo publisher (an OIDC client and a SAML SP, one sector), and the network environment
/// (a relying party, and an upstream that signs users in), each registered for the school.
fn seed_relying_parties(
    ctx: Ctx<'_>,
    state: &AppState,
    school_ref: &InstellingRef,
) -> anyhow::Result<DemoParties> {
    let client = admin::add_client(
        ctx,
        admin::ClientInput {
            redirect_uris: vec![
                "http://127.0.0.1:8081/callback".into(),
                "http://localhost:8081/callback".into(),
            ],
            post_logout_redirect_uris: vec!["http://127.0.0.1:8081/".into()],
            initiate_login_uri: Some("http://127.0.0.1:8081/login".into()),
            home_allowed: true,
            offline_access: true,
            sector: Some("demo-uitgeverij.example".into()),
            ..demo_client("Demo-uitgeverij Rekenen", "publisher", DEMO_CLIENT_ID)
        },
    )?;

    let saml_sp = admin::add_saml_sp(
        ctx,
        admin::SamlSpInput {
            metadata: demo_sp_metadata(),
            name: Some("Demo-uitgeverij Taal".into()),
            kind: "publisher".into(),
            home_allowed: true,
            audience: "beide".into(),
            // The same sector as the OIDC client: one publisher, one pseudonym per user.
            sector: Some("demo-uitgeverij.example".into()),
            ..Default::default()
        },
    )?;

    // A network environment: it receives the school's data as a relying party, and signs its
    // users in to Leerpoort as an upstream (the reference provider in
    // conformance-tests/load/peer plays it: see the README).
    let network = admin::add_client(
        ctx,
        admin::ClientInput {
            redirect_uris: vec!["http://127.0.0.1:8083/callback".into()],
            ..demo_client("Demo-netwerkomgeving", "network", "demo-netwerkomgeving")
        },
    )?;
    let upstream = admin::add_upstream(
        ctx,
        &state.sealer,
        admin::UpstreamInput {
            name: DEMO_UPSTREAM.into(),
            schools: vec![DEMO_SCHOOL_REF.into()],
            oidc_issuer: Some(DEMO_UPSTREAM_ISSUER.into()),
            client_id: Some("leerpoort".into()),
            client_secret: Some(DEMO_UPSTREAM_SECRET.into()),
            scopes: vec!["las".into()],
            match_rule: "las-key".into(),
            match_claim: "las_key".into(),
            ..Default::default()
        },
    )?;
    for public_id in [DEMO_CLIENT_ID, DEMO_SAML_ENTITY_ID, "demo-netwerkomgeving"] {
        admin::register(
            ctx,
            school_ref,
            public_id,
            admin::RegisterOptions::default(),
        )?;
    }
    Ok(DemoParties {
        client,
        saml_sp,
        network,
        upstream,
    })
}

/// Where the demo publisher's application runs (its `initiate_login_uri` and titles).
const DEMO_PUBLISHER_BASE: &str = "http://127.0.0.1:8081";

pub use sandbox::DEMO_SANDBOX_REF;

/// The demo network environment as upstream: name, issuer and Leerpoort's client secret there.
pub const DEMO_UPSTREAM: &str = "demo-netwerk";
pub const DEMO_UPSTREAM_ISSUER: &str = "http://127.0.0.1:18081";
const DEMO_UPSTREAM_SECRET: &str = "demo-netwerk-geheim-0123456789";

/// The demo publisher's SAML service provider.
pub const DEMO_SAML_ENTITY_ID: &str = "http://127.0.0.1:8082/saml/metadata";
const DEMO_SAML_ACS: &str = "http://127.0.0.1:8082/saml/acs";

fn demo_sp_metadata() -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">"#,
            r#"<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="false" WantAssertionsSigned="true">"#,
            r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:8082/saml/slo"/>"#,
            r#"<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>"#,
            r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/>"#,
            r#"</md:SPSSODescriptor>"#,
            r#"</md:EntityDescriptor>"#
        ),
        entity = DEMO_SAML_ENTITY_ID,
        acs = DEMO_SAML_ACS,
    )
}

/// The demo, for people.
pub fn describe(d: &Value) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Demo school: {} ({}), INSTELLING_REF {}\n",
        d["school"]["name"].as_str().unwrap_or(""),
        d["school"]["brin6"].as_str().unwrap_or(""),
        d["school"]["instelling_ref"].as_str().unwrap_or("")
    ));
    s.push_str(&format!(
        "Pupil shortcut: {}\n",
        d["school"]["pupil_shortcut"].as_str().unwrap_or("")
    ));
    s.push_str("Pupils (name, group, PIN or picture password):\n");
    for p in d["pupils"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "  {:<18} {:<9} {}\n",
            p["name"].as_str().unwrap_or(""),
            p["group"].as_str().unwrap_or(""),
            p["pin"]
                .as_str()
                .or_else(|| p["picture_password"].as_str())
                .unwrap_or("")
        ));
    }
    s.push_str("Staff (e-mail / password):\n");
    for p in d["staff"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "  {:<36} {}  ({})\n",
            p["email"].as_str().unwrap_or(""),
            p["password"].as_str().unwrap_or(""),
            p["role"].as_str().unwrap_or("")
        ));
    }
    s.push_str("At home (e-mail / password, for the children):\n");
    for p in d["home"].as_array().into_iter().flatten() {
        let children: Vec<&str> = p["children"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str())
            .collect();
        s.push_str(&format!(
            "  {:<36} {}  ({}; {})\n",
            p["email"].as_str().unwrap_or(""),
            p["password"].as_str().unwrap_or(""),
            children.join(", "),
            p["entrance"].as_str().unwrap_or("")
        ));
    }
    s.push_str(&format!(
        "Publisher OIDC client: client_id {}  client_secret {}\nDiscovery: {}",
        d["oidc_client"]["client_id"].as_str().unwrap_or(""),
        d["oidc_client"]["client_secret"].as_str().unwrap_or(""),
        d["oidc_client"]["discovery"].as_str().unwrap_or("")
    ));
    s.push_str(&format!(
        "\nNetwork environment '{}' (upstream at {}): {}",
        d["network_environment"]["upstream"].as_str().unwrap_or(""),
        d["network_environment"]["upstream_issuer"]
            .as_str()
            .unwrap_or(""),
        d["network_environment"]["shortcut"].as_str().unwrap_or("")
    ));
    s.push_str(&format!(
        "\nPublisher SAML SP: entity_id {}  (Leerpoort's SAML metadata: {})",
        d["saml_sp"]["entity_id"].as_str().unwrap_or(""),
        d["saml_sp"]["idp_metadata"].as_str().unwrap_or("")
    ));
    let sb = &d["sandbox_school"];
    s.push_str(&format!(
        "\nSandbox school for publishers: {} ({}), INSTELLING_REF {}, releases ECK-iDs, names and groups\n  {}",
        sb["name"].as_str().unwrap_or(""),
        sb["brin6"].as_str().unwrap_or(""),
        sb["instelling_ref"].as_str().unwrap_or(""),
        sb["shortcut"].as_str().unwrap_or("")
    ));
    for p in sb["pupils"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\n  {:<18} {:<9} {}",
            p["name"].as_str().unwrap_or(""),
            p["group"].as_str().unwrap_or(""),
            p["pin"].as_str().unwrap_or("")
        ));
    }
    s
}
