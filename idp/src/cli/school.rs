//! `leerpoort school`: school locations.

use std::sync::Arc;

use broker::clock::Clock;
use clap::{Args, Subcommand};
use serde_json::json;

use super::{ctx, open_state, out, school_json, Output};
use crate::app::AppState;
use crate::config::Config;
use broker::admin;

#[derive(Debug, Subcommand)]
pub enum SchoolCmd {
    /// Add a school location; prints its new INSTELLING_REF.
    Add {
        #[command(flatten)]
        location: NewLocation,
    },
    /// List school locations.
    List,
    /// Add or remove school networks (pupils sign in from these); prints them.
    Networks {
        #[arg(long)]
        school: String,
        /// A network to add (CIDR or one address). Repeatable.
        #[arg(long, value_name = "CIDR")]
        add: Vec<String>,
        /// A network to remove. Repeatable.
        #[arg(long, value_name = "CIDR")]
        remove: Vec<String>,
    },
    /// Verbindingstype Dynamic IP: show it, make a new update token (turning it on), or turn
    /// it off. The token is printed once.
    DynamicIp {
        #[arg(long)]
        school: String,
        /// Make a new update token (the old one stops working); turns Dynamic IP on.
        #[arg(long, conflicts_with = "off")]
        new_token: bool,
        /// Turn Dynamic IP off: the token and the reported address go.
        #[arg(long)]
        off: bool,
    },
    /// Close a school account: every relying party is de-selected, then the school is closed;
    /// its shortcuts show a friendly page.
    Close {
        #[arg(long)]
        school: String,
    },
    /// Add a school's ICT coordinator (the first one, after the board's signed request) and
    /// mail them the activation link. Later coordinators are added in Beheer.
    InviteCoordinator {
        #[arg(long)]
        school: String,
        #[arg(long)]
        email: String,
        /// Full name: given name, then family name (e.g. "Sanne de Vries").
        #[arg(long)]
        name: String,
    },
    /// Record a new BRIN or location code from DUO; pseudonyms do not change. When DUO's
    /// registry lists the new code, the school takes its name at once.
    ChangeBrin {
        #[arg(long)]
        school: String,
        #[arg(long)]
        brin: String,
        #[arg(long)]
        vestiging: String,
    },
    /// A merger (fusie): every group and user of `--from` moves to `--into` with its id (so
    /// every pseudonym stays); people in both schools are joined; the old INSTELLING_REF leads
    /// to `--into`. Prints the report.
    Merge {
        #[arg(long)]
        from: String,
        #[arg(long)]
        into: String,
    },
    /// A split (splitsen): the groups given, and their pupils and teachers, move to a new school
    /// with their ids; prints its INSTELLING_REF and the report.
    Split {
        #[arg(long)]
        from: String,
        #[command(flatten)]
        location: NewLocation,
        /// The key of a group that moves. Repeatable.
        #[arg(long = "group", value_name = "KEY", required = true)]
        groups: Vec<String>,
    },
    /// Change a school's settings.
    Set {
        #[arg(long)]
        school: String,
        /// Require a second factor (an authenticator app's code) of the school's ICT
        /// coordinators: `true` or `false`.
        /// `--require-totp` alone means `true`.
        #[arg(
            long,
            required = true,
            action = clap::ArgAction::Set,
            num_args = 0..=1,
            default_missing_value = "true",
            value_name = "true|false"
        )]
        require_totp: bool,
    },
}

/// A new school location: `school add`, and the new school of `school split`.
#[derive(Debug, Args)]
pub struct NewLocation {
    /// BRIN (two digits, two capitals), e.g. 12AB.
    #[arg(long)]
    brin: String,
    /// Location code (vestigingsnummer), two digits, e.g. 00.
    #[arg(long)]
    vestiging: String,
    /// The school's name, for a location outside DUO's registry. A location the registry
    /// lists (`leerpoort import duo`) takes DUO's name; a split without either keeps the old
    /// school's.
    #[arg(long)]
    name: Option<String>,
    /// A school network (CIDR) pupils may sign in from. Repeatable.
    #[arg(long = "network", value_name = "CIDR")]
    networks: Vec<String>,
}

pub(super) fn run(config: Config, clock: Arc<dyn Clock>, cmd: SchoolCmd) -> anyhow::Result<Output> {
    match cmd {
        SchoolCmd::Add { location: l } => {
            let state = open_state(config, clock)?;
            let ctx = ctx(&state, "cli");
            let s = admin::add_school(
                ctx,
                admin::SchoolInput {
                    brin: l.brin,
                    vestiging: l.vestiging,
                    name: l.name.unwrap_or_default(),
                    networks: l.networks,
                    board: None,
                    instelling_ref: None,
                },
            )?;
            let registry = super::registry::of(&state, &s)?;
            let mut json = school_json(&s);
            json["registry"] = json!(registry.as_str());
            Ok(out(
                json,
                format!(
                    "Added {} ({}, {}), INSTELLING_REF {}",
                    s.name,
                    s.brin6,
                    super::registry::describe(registry),
                    s.instelling_ref
                ),
            ))
        }
        SchoolCmd::Set {
            school,
            require_totp,
        } => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let s = state
                .dir
                .school(&r)?
                .ok_or_else(|| anyhow::anyhow!("no school {r}"))?;
            broker::login::totp::set_school_requirement(
                &state.world(),
                &r,
                require_totp,
                "cli",
                state.clock.now_secs(),
            )?;
            Ok(out(
                json!({"instelling_ref": r.to_string(), "require_totp": require_totp}),
                if require_totp {
                    format!(
                        "{}'s ICT coordinators now sign in with a second factor.",
                        s.name
                    )
                } else {
                    format!(
                        "{}'s ICT coordinators choose whether to use a second factor.",
                        s.name
                    )
                },
            ))
        }
        SchoolCmd::InviteCoordinator {
            school,
            email,
            name,
        } => invite_coordinator(&open_state(config, clock)?, &school, email, &name),
        SchoolCmd::Close { school } => close(&open_state(config, clock)?, &school),
        SchoolCmd::Merge { from, into } => {
            super::mergers::merge(&open_state(config, clock)?, &from, &into)
        }
        SchoolCmd::Split {
            from,
            location: l,
            groups,
        } => super::mergers::split(
            &open_state(config, clock)?,
            admin::SplitInput {
                from,
                brin: l.brin,
                vestiging: l.vestiging,
                name: l.name,
                networks: l.networks,
                groups,
            },
        ),
        SchoolCmd::Networks {
            school,
            add,
            remove,
        } => super::beheer::networks(&open_state(config, clock)?, &school, &add, &remove),
        SchoolCmd::DynamicIp {
            school,
            new_token,
            off,
        } => super::beheer::dynamic_ip(&open_state(config, clock)?, &school, new_token, off),
        SchoolCmd::List => super::registry::list(&open_state(config, clock)?),
        SchoolCmd::ChangeBrin {
            school,
            brin,
            vestiging,
        } => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let s = admin::change_brin(ctx(&state, "cli"), &r, &brin, &vestiging)?;
            Ok(out(
                school_json(&s),
                format!(
                    "{} is now {}; its INSTELLING_REF stays {}",
                    s.name, s.brin6, s.instelling_ref
                ),
            ))
        }
    }
}

/// `school invite-coordinator`.
fn invite_coordinator(
    state: &AppState,
    school: &str,
    email: String,
    name: &str,
) -> anyhow::Result<Output> {
    let r = admin::parse_school_ref(school)?;
    let (given, family) = name
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(|| anyhow::anyhow!("--name: give the full name, given name and family name"))?;
    let invited = broker::beheer::staff::invite(
        &state.world(),
        state.credentials(),
        ctx(state, "cli"),
        &r,
        broker::beheer::staff::NewStaff {
            given_name: given.to_string(),
            family_name: family.trim().to_string(),
            email,
            role: claims::Role::IctCoordinator,
        },
    )?;
    let user = invited.user;
    if !invited.link_sent {
        anyhow::bail!(
            "{} was added ({}), but the activation mail could not be sent; \
             send it with `leerpoort user send-activation --user {}`",
            user.display_name(),
            user.id,
            user.id
        );
    }
    Ok(out(
        json!({"user_id": user.id.to_string(), "instelling_ref": r.to_string(),
            "email": user.email, "status": user.status.as_str(), "activation_sent": true}),
        format!(
            "{} is ICT coordinator of {r}; the activation link went to {}.",
            user.display_name(),
            user.email.as_deref().unwrap_or_default()
        ),
    ))
}

/// `school close`.
fn close(state: &AppState, school: &str) -> anyhow::Result<Output> {
    let r = admin::parse_school_ref(school)?;
    let closed = admin::close_school(ctx(state, "cli"), &r)?;
    Ok(out(
        json!({"instelling_ref": r.to_string(), "status": closed.school.status.as_str(),
            "withdrawn": closed.withdrawn}),
        format!(
            "{} is closed; withdrawn: {}.",
            closed.school.name,
            if closed.withdrawn.is_empty() {
                "nothing".to_string()
            } else {
                closed.withdrawn.join(", ")
            }
        ),
    ))
}
