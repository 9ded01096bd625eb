//! The command-line side of Beheer: what a coordinator does in `/beheer` and a teacher in the
//! group overview, for the operator, with `--json`. Each command calls the same
//! `broker::beheer` operation as the page, with the operator as the actor (`cli`).

use clap::Subcommand;
use serde_json::json;

use super::{out, Output};
use crate::app::AppState;
use broker::beheer::pupils::{By, Issued, NewSecret};
use broker::beheer::{logboek, school, staff, BeheerError, Coordinator};
use broker::model::{PupilAuth, User};
use claims::{InstellingRef, Role};

/// Beheer's refusals (and "not found") as one line for the command line.
fn line(e: BeheerError) -> anyhow::Error {
    match e {
        BeheerError::NotFound => anyhow::anyhow!("not found at this school"),
        other => anyhow::anyhow!(other.to_string()),
    }
}

fn user(state: &AppState, id: &str) -> anyhow::Result<User> {
    let id = uuid::Uuid::parse_str(id.trim())
        .map_err(|_| anyhow::anyhow!("--user: not a user id: {id}"))?;
    state
        .dir
        .user(id)?
        .ok_or_else(|| anyhow::anyhow!("no user {id}"))
}

/// `user role --user ID (--add ROLE | --remove ROLE)`.
pub(super) fn role(
    state: &AppState,
    id: &str,
    add: Option<String>,
    remove: Option<String>,
) -> anyhow::Result<Output> {
    let u = user(state, id)?;
    let (role, on) = match (add, remove) {
        (Some(r), None) => (r, true),
        (None, Some(r)) => (r, false),
        _ => anyhow::bail!("give one of --add ROLE or --remove ROLE"),
    };
    let role: Role = role.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let c = Coordinator::operator(u.school);
    let changed = staff::set_role(state.dir.as_ref(), state.clock.as_ref(), &c, u.id, role, on)
        .map_err(line)?;
    let roles: Vec<String> = changed.roles.iter().map(|r| r.to_string()).collect();
    Ok(out(
        json!({"user_id": changed.id.to_string(), "roles": roles}),
        format!("{}: {}", changed.display_name(), roles.join(", ")),
    ))
}

fn issued_json(i: &Issued) -> serde_json::Value {
    match i.auth {
        PupilAuth::Pin => json!({"user_id": i.pupil.id.to_string(), "name": i.pupil.display_name(),
            "sign_in": "pin", "pin": i.secret}),
        PupilAuth::Picture => {
            json!({"user_id": i.pupil.id.to_string(), "name": i.pupil.display_name(),
            "sign_in": "picture", "pictures": i.secret.trim_start_matches("pic:")})
        }
    }
}

fn issued_text(i: &Issued) -> String {
    format!(
        "{}: {}",
        i.pupil.display_name(),
        i.secret.trim_start_matches("pic:")
    )
}

/// `user set-pin` / `user set-pictures`: a pupil's new secret, typed or random.
pub(super) fn set_secret(state: &AppState, id: &str, new: NewSecret) -> anyhow::Result<Output> {
    let u = user(state, id)?;
    let school = u.school;
    let i = By::Operator(&school)
        .set_secret(&state.world(), state.credentials(), &u, new)
        .map_err(line)?;
    Ok(out(issued_json(&i), issued_text(&i)))
}

/// `user set-picture --user ID [--picture NAME]`.
pub(super) fn set_picture(
    state: &AppState,
    id: &str,
    picture: Option<String>,
) -> anyhow::Result<Output> {
    let u = user(state, id)?;
    let school = u.school;
    let changed = By::Operator(&school)
        .set_picture(&state.world(), state.credentials(), &u, picture.as_deref())
        .map_err(line)?;
    Ok(out(
        json!({"user_id": changed.id.to_string(), "picture": changed.picture}),
        format!(
            "{}: {}",
            changed.display_name(),
            changed.picture.as_deref().unwrap_or("(no picture)")
        ),
    ))
}

/// `group sign-in-method --school REF --group KEY --method pin|picture`.
pub(super) fn group_method(
    state: &AppState,
    school_ref: &str,
    key: &str,
    method: &str,
) -> anyhow::Result<Output> {
    let r = broker::admin::parse_school_ref(school_ref)?;
    let group = state
        .dir
        .group_by_key(&r, key)?
        .ok_or_else(|| anyhow::anyhow!("no group with key '{key}' at school {r}"))?;
    let auth = match method {
        "pin" => PupilAuth::Pin,
        "picture" => PupilAuth::Picture,
        other => anyhow::bail!("--method: pin or picture, not '{other}'"),
    };
    let issued = By::Operator(&r)
        .set_group_method(&state.world(), state.credentials(), &group, auth)
        .map_err(line)?;
    Ok(out(
        json!({"group_key": group.key, "sign_in": auth.as_str(),
            "pupils": issued.iter().map(issued_json).collect::<Vec<_>>()}),
        issued
            .iter()
            .map(issued_text)
            .collect::<Vec<_>>()
            .join("\n"),
    ))
}

/// `school networks --school REF [--add CIDR]... [--remove CIDR]...`.
pub(super) fn networks(
    state: &AppState,
    school_ref: &str,
    add: &[String],
    remove: &[String],
) -> anyhow::Result<Output> {
    let r = broker::admin::parse_school_ref(school_ref)?;
    let c = Coordinator::operator(r);
    let (dir, clock) = (state.dir.as_ref(), state.clock.as_ref());
    let current = broker::admin::Ctx {
        dir,
        clock,
        actor: "cli",
    }
    .active_school(&r)?;
    // A network to remove that the school does not have, named as such.
    for n in remove {
        let net = broker::admin::parse_network(n)?;
        if !current.networks.contains(&net) {
            anyhow::bail!("school {r} has no network {net}");
        }
    }
    let edits: Vec<school::NetworkEdit> = add
        .iter()
        .map(|n| school::NetworkEdit::Add(n))
        .chain(remove.iter().map(|n| school::NetworkEdit::Remove(n)))
        .collect();
    let current = school::edit_networks(dir, clock, &c, &current, &edits).map_err(line)?;
    let nets: Vec<String> = current.networks.iter().map(|n| n.to_string()).collect();
    Ok(out(
        json!({"instelling_ref": r.to_string(), "networks": nets}),
        if nets.is_empty() {
            "no school networks".to_string()
        } else {
            nets.join("\n")
        },
    ))
}

/// `school dynamic-ip --school REF [--new-token | --off]`.
pub(super) fn dynamic_ip(
    state: &AppState,
    school_ref: &str,
    new_token: bool,
    off: bool,
) -> anyhow::Result<Output> {
    use broker::beheer::dynamic_ip as dynip;
    let r = broker::admin::parse_school_ref(school_ref)?;
    let c = Coordinator::operator(r);
    let w = state.world();
    broker::admin::Ctx {
        dir: w.dir,
        clock: w.clock,
        actor: "cli",
    }
    .active_school(&r)?;
    let token = if new_token {
        Some(dynip::new_token(&w, &c).map_err(line)?.token)
    } else {
        match off.then(|| dynip::turn_off(&w, &c)) {
            Some(Err(broker::beheer::BeheerError::NotFound)) => {
                anyhow::bail!("Dynamic IP is already off for school {r}")
            }
            Some(done) => done.map_err(line)?,
            None => {}
        }
        None
    };
    let school = w
        .dir
        .school(&r)?
        .ok_or_else(|| anyhow::anyhow!("no school {r}"))?;
    let o = dynip::overview(w.dir, &school).map_err(line)?;
    let url = format!(
        "{}{}",
        state.config.issuer,
        crate::server::dynamic_ip::UPDATE_PATH
    );
    let network = o.network.map(|n| n.to_string());
    let text = match (&token, o.setting.is_some(), &network) {
        (Some(t), _, _) => format!("update token (shown once): {t}\nupdate URL: {url}"),
        (None, false, _) => "Dynamic IP is off".to_string(),
        (None, true, Some(n)) => format!("Dynamic IP: {n}"),
        (None, true, None) => "Dynamic IP: no address reported yet".to_string(),
    };
    let history: Vec<_> = o
        .history
        .iter()
        .map(|h| json!({"network": h.network.to_string(), "at": h.at}))
        .collect();
    Ok(out(
        json!({"instelling_ref": r.to_string(), "on": o.setting.is_some(),
            "network": network, "seen_at": o.setting.and_then(|s| s.seen_at),
            "history": history, "update_url": url, "token": token}),
        text,
    ))
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// A school's audit trail, newest first (as its Logboek shows it).
    List {
        #[arg(long)]
        school: String,
        /// toestemming, personeel, leerlingen, invalkrachten, apparaten, import or geweigerd.
        #[arg(long)]
        kind: Option<String>,
        /// Only lines older than this one: the `older` of the page before (the next page).
        #[arg(long)]
        before: Option<i64>,
    },
}

pub fn audit(state: &AppState, cmd: AuditCmd) -> anyhow::Result<Output> {
    let AuditCmd::List {
        school,
        kind,
        before,
    } = cmd;
    let r: InstellingRef = broker::admin::parse_school_ref(&school)?;
    if state.dir.school(&r)?.is_none() {
        anyhow::bail!("no school with INSTELLING_REF {r}");
    }
    let kind = match kind.as_deref() {
        None => None,
        Some(k) => Some(logboek::Kind::from_slug(k).ok_or_else(|| {
            anyhow::anyhow!(
                "--kind: one of {}",
                logboek::Kind::ALL.map(|k| k.slug()).join(", ")
            )
        })?),
    };
    let page =
        logboek::page(state.dir.as_ref(), &Coordinator::operator(r), kind, before).map_err(line)?;
    let lines: Vec<_> = page
        .lines
        .iter()
        .map(|l| {
            let actor = match &l.actor {
                logboek::Actor::Person(name) => name.clone(),
                logboek::Actor::Operator => "operator".into(),
                logboek::Actor::Leerpoort => "leerpoort".into(),
            };
            json!({"seq": l.seq, "at": l.at, "action": l.action, "kind": l.kind.map(|k| k.slug()),
                "actor": actor, "subject": l.subject})
        })
        .collect();
    let text = page
        .lines
        .iter()
        .map(|l| {
            format!(
                "{}  {}  {}",
                catalogue::local_time(l.at, "%Y-%m-%d %H:%M"),
                l.action,
                l.subject.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(out(json!({"lines": lines, "older": page.older}), text))
}
