//! `leerpoort user`: pupils and staff, offboarding, second factors, locks.

use std::io::Read as _;
use std::sync::Arc;

use anyhow::Context as _;
use broker::audit::AuditAction;
use broker::clock::Clock;
use broker::model::AuditEvent;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::{ctx, open_state, out, Output};
use crate::app::AppState;
use crate::config::Config;
use broker::admin;

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a pupil or staff member.
    Add(Box<UserAddArgs>),
    /// List the users of a school.
    List {
        #[arg(long)]
        school: String,
    },
    /// Lift a pupil's lock after too many wrong PINs.
    Unlock {
        #[arg(long)]
        user: String,
    },
    /// Mail a staff member a link to set a password (an activation link while inactive).
    SendActivation {
        #[arg(long)]
        user: String,
    },
    /// Offboard a user: no sign-in; their sessions, codes and refresh tokens end at once.
    Disable {
        #[arg(long)]
        user: String,
    },
    /// Let a disabled user sign in again (what was issued before stays void).
    Enable {
        #[arg(long)]
        user: String,
    },
    /// Remove a user: offboarded, personal data deleted, the id kept as a tombstone.
    Remove {
        #[arg(long)]
        user: String,
    },
    /// Give a staff member an extra role (ib, rt, stagiaire, ict-coordinator) or take one
    /// away; a school keeps at least one active ICT coordinator.
    Role {
        #[arg(long)]
        user: String,
        #[arg(long, conflicts_with = "remove")]
        add: Option<String>,
        #[arg(long)]
        remove: Option<String>,
    },
    /// A pupil's new PIN: the one given, or a new random one (printed).
    SetPin {
        #[arg(long)]
        user: String,
        #[arg(long)]
        pin: Option<String>,
    },
    /// A pupil's new picture password: the pictures given (`vos,appel,zon`), or three random
    /// ones (printed).
    SetPictures {
        #[arg(long)]
        user: String,
        #[arg(long)]
        pictures: Option<String>,
    },
    /// A pupil's own picture on their name tile; without `--picture`, none.
    SetPicture {
        #[arg(long)]
        user: String,
        #[arg(long)]
        picture: Option<String>,
    },
    /// Remove a staff member's second factor (a lost phone); they set it up again at their
    /// next sign-in when it is required.
    ResetTotp {
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// INSTELLING_REF of the school.
    #[arg(long)]
    school: String,
    /// leerling, leerkracht, ict-coordinator, ib, rt or stagiaire.
    #[arg(long)]
    role: String,
    #[arg(long)]
    given_name: String,
    #[arg(long)]
    family_name: String,
    /// Staff e-mail address (their user name).
    #[arg(long)]
    email: Option<String>,
    /// Group key. Repeatable.
    #[arg(long = "group", value_name = "KEY")]
    groups: Vec<String>,
    /// ECK-iD (https://ketenid.nl/...).
    #[arg(long)]
    eck_id: Option<String>,
    /// Key in the pupil administration (LAS).
    #[arg(long)]
    las_key: Option<String>,
    /// A pupil's 4-digit PIN (generated and printed when omitted, unless the pupil has a
    /// picture password).
    #[arg(long)]
    pin: Option<String>,
    /// A young pupil's picture password instead of a PIN: 2–4 of the grid pictures in order,
    /// e.g. `vos,appel,zon` (grid: vos kat hond uil vis kikker appel banaan zon ster auto bal).
    #[arg(long, value_name = "PICTURES")]
    picture_password: Option<String>,
    /// The pupil's own picture on their name tile, e.g. `egel` (see docs/assets.md).
    #[arg(long, value_name = "NAME")]
    picture: Option<String>,
    /// Read a staff password from standard input.
    #[arg(long)]
    password_stdin: bool,
}

/// Why `user unlock` cannot lift a lock without Redis.
const UNLOCK_UNREACHABLE: &str = "without LEERPOORT_REDIS_URL the lock is held in the running \
    server's memory, which this command cannot reach; it ends by itself an hour after the last \
    wrong attempt, or when the server restarts. Configure Redis to unlock from the command line.";

fn parse_user_id(user: &str) -> anyhow::Result<uuid::Uuid> {
    uuid::Uuid::parse_str(user.trim()).map_err(|_| anyhow::anyhow!("'{user}' is not a user id"))
}

/// The user `--user` names, which must exist.
fn existing_user(state: &AppState, user: &str) -> anyhow::Result<broker::model::User> {
    let id = parse_user_id(user)?;
    state
        .dir
        .user(id)?
        .ok_or_else(|| anyhow::anyhow!("no user {id}"))
}

/// What `user disable`, `enable` and `remove` print.
fn offboarding_output(u: &broker::model::User, what: &str) -> Output {
    out(
        json!({"user_id": u.id.to_string(), "school": u.school.to_string(),
            "status": u.status.as_str()}),
        format!("User {} {what} (status {}).", u.id, u.status.as_str()),
    )
}

pub(super) fn run(config: Config, clock: Arc<dyn Clock>, cmd: UserCmd) -> anyhow::Result<Output> {
    match cmd {
        UserCmd::Add(a) => add(config, clock, a),
        UserCmd::Role { user, add, remove } => {
            super::beheer::role(&open_state(config, clock)?, &user, add, remove)
        }
        UserCmd::SetPin { user, pin } => super::beheer::set_secret(
            &open_state(config, clock)?,
            &user,
            broker::beheer::pupils::NewSecret::Pin(pin),
        ),
        UserCmd::SetPictures { user, pictures } => super::beheer::set_secret(
            &open_state(config, clock)?,
            &user,
            broker::beheer::pupils::NewSecret::Pictures(pictures),
        ),
        UserCmd::SetPicture { user, picture } => {
            super::beheer::set_picture(&open_state(config, clock)?, &user, picture)
        }
        UserCmd::List { school } => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let users = state.dir.users_of_school(&r)?;
            let text = users
                .iter()
                .map(|u| {
                    format!(
                        "{}  {:<16}  {:<8}  {}",
                        u.id,
                        u.roles
                            .iter()
                            .map(|r| r.to_string())
                            .collect::<Vec<_>>()
                            .join(","),
                        u.status.as_str(),
                        u.display_name()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let list: Vec<Value> = users
                .iter()
                .map(|u| json!({"user_id": u.id.to_string(), "roles": u.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                    "given_name": u.given_name, "family_name": u.family_name, "email": u.email, "status": u.status.as_str(),
                    "las_key": u.las_key, "source": u.source}))
                .collect();
            Ok(out(json!({"users": list}), text))
        }
        UserCmd::SendActivation { user } => {
            let state = open_state(config, clock)?;
            let u = existing_user(&state, &user)?;
            let id = u.id;
            if u.is_pupil() {
                anyhow::bail!(
                    "pupils have no staff account; their home login is set by the teacher"
                );
            }
            broker::login::password::send_link(&state.world(), &u, "cli", state.clock.now_secs())
                .map_err(|e| anyhow::anyhow!(e))?;
            Ok(out(
                json!({"user_id": id.to_string(), "sent_to": u.email}),
                format!("Sent a link to {}.", u.email.unwrap_or_default()),
            ))
        }
        UserCmd::Disable { user } => {
            let state = open_state(config, clock)?;
            let id = parse_user_id(&user)?;
            let u = admin::disable_user(ctx(&state, "cli"), id)?;
            Ok(offboarding_output(
                &u,
                "disabled; sessions and tokens ended",
            ))
        }
        UserCmd::Enable { user } => {
            let state = open_state(config, clock)?;
            let id = parse_user_id(&user)?;
            let u = admin::enable_user(ctx(&state, "cli"), id)?;
            // Sessions and tokens from the second of the disabling are void: a sign-in straight
            // after this command must fall in a later second.
            if let Some(revoked) = state.dir.user_standing(id)?.and_then(|s| s.revoked_at) {
                for _ in 0..30 {
                    if state.clock.now_secs() > revoked {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            }
            Ok(offboarding_output(&u, "may sign in again"))
        }
        UserCmd::Remove { user } => {
            let state = open_state(config, clock)?;
            let id = parse_user_id(&user)?;
            let u = admin::remove_user(ctx(&state, "cli"), id)?;
            Ok(offboarding_output(
                &u,
                "removed; personal data deleted, the id kept",
            ))
        }
        UserCmd::ResetTotp { user } => reset_totp(config, clock, user),
        UserCmd::Unlock { user } => unlock(config, clock, user),
    }
}

/// `user add`.
fn add(config: Config, clock: Arc<dyn Clock>, a: Box<UserAddArgs>) -> anyhow::Result<Output> {
    let password = if a.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from standard input")?;
        Some(s.trim_end_matches(['\n', '\r']).to_string())
    } else {
        None
    };
    let state = open_state(config, clock)?;
    let added = admin::add_user(
        ctx(&state, "cli"),
        state.credentials(),
        admin::UserInput {
            school: a.school,
            role: a.role,
            given_name: a.given_name,
            family_name: a.family_name,
            email: a.email,
            groups: a.groups,
            eck_id: a.eck_id,
            las_key: a.las_key,
            pin: a.pin,
            picture_password: a.picture_password,
            picture: a.picture,
            password,
            ..Default::default()
        },
    )?;
    let u = &added.user;
    let mut j = json!({
        "user_id": u.id.to_string(),
        "school": u.school.to_string(),
        "roles": u.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        "status": u.status.as_str(),
        "sign_in": u.pupil_auth.map(|a| a.as_str()),
    });
    let mut text = format!(
        "Added {} ({}), user id {}",
        u.display_name(),
        u.roles
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        u.id
    );
    if let Some(pin) = &added.generated_pin {
        j["pin"] = json!(pin);
        text.push_str(&format!("\nPIN: {pin}"));
    }
    Ok(out(j, text))
}

/// `user reset-totp`.
fn reset_totp(config: Config, clock: Arc<dyn Clock>, user: String) -> anyhow::Result<Output> {
    let state = open_state(config, clock)?;
    let u = existing_user(&state, &user)?;
    let id = u.id;
    if u.is_pupil() {
        anyhow::bail!("pupils have no second factor");
    }
    let removed = broker::login::totp::reset(&state.world(), &u, "cli", state.clock.now_secs())?;
    let required = broker::login::totp::required_for(
        &state.world(),
        state.config.require_totp_for_coordinators,
        &u,
    )?;
    let text = match (removed, required) {
        (false, _) => format!("{} had no second factor.", u.display_name()),
        (true, true) => format!(
            "Removed the second factor of {}; they set up a new one at their next sign-in.",
            u.display_name()
        ),
        (true, false) => format!("Removed the second factor of {}.", u.display_name()),
    };
    Ok(out(
        json!({"user_id": id.to_string(), "removed": removed, "required": required}),
        text,
    ))
}

/// `user unlock`.
fn unlock(config: Config, clock: Arc<dyn Clock>, user: String) -> anyhow::Result<Output> {
    let state = open_state(config, clock)?;
    let u = existing_user(&state, &user)?;
    let id = u.id;
    if state.config.redis_url.is_none() {
        // The lock lives in the running server's memory; this process cannot see it.
        return Ok(out(
            json!({
                "user_id": id.to_string(),
                "unlocked": false,
                "reason": "in-process-store",
                "message": UNLOCK_UNREACHABLE,
            }),
            format!("{} is NOT unlocked: {UNLOCK_UNREACHABLE}", u.display_name()),
        ));
    }
    broker::login::pupil::unlock(&state.world(), id)?;
    state.dir.append_audit(AuditEvent::record(
        AuditAction::UserUnlock,
        "cli",
        state.clock.now_secs(),
        Some(u.school),
        Some(id.to_string()),
        json!({}),
    ))?;
    Ok(out(
        json!({"user_id": id.to_string(), "unlocked": true}),
        format!("{} can sign in again.", u.display_name()),
    ))
}
