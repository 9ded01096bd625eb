//! `leerpoort school`: school locations.

use std::sync::Arc;

use broker::clock::Clock;
use clap::Subcommand;
use serde_json::json;

use super::{ctx, open_state, out, school_json, Output};
use crate::app::AppState;
use crate::config::Config;
use broker::admin;

#[derive(Debug, Subcommand)]
pub enum SchoolCmd {
    /// Add a school location; prints its new INSTELLING_REF.
    Add {
        /// BRIN (two digits, two capitals), e.g. 12AB.
        #[arg(long)]
        brin: String,
        /// Location code (vestigingsnummer), two digits, e.g. 00.
        #[arg(long)]
        vestiging: String,
        /// The school's name as DUO knows it.
        #[arg(long)]
        name: String,
        /// A school network (CIDR) pupils may sign in from. Repeatable.
        #[arg(long = "network", value_name = "CIDR")]
        networks: Vec<String>,
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
    /// Record a new BRIN or location code from DUO; pseudonyms do not change.
    ChangeBrin {
        #[arg(long)]
        school: String,
        #[arg(long)]
        brin: String,
        #[arg(long)]
        vestiging: String,
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

pub(super) fn run(config: Config, clock: Arc<dyn Clock>, cmd: SchoolCmd) -> anyhow::Result<Output> {
    match cmd {
        SchoolCmd::Add {
            brin,
            vestiging,
            name,
            networks,
        } => {
            let state = open_state(config, clock)?;
            let ctx = ctx(&state, "cli");
            let s = admin::add_school(
                ctx,
                admin::SchoolInput {
                    brin,
                    vestiging,
                    name,
                    networks,
                    board: None,
                    instelling_ref: None,
                },
            )?;
            Ok(out(
                school_json(&s),
                format!(
                    "Added {} ({}), INSTELLING_REF {}",
                    s.name, s.brin6, s.instelling_ref
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
        SchoolCmd::List => {
            let state = open_state(config, clock)?;
            let schools = state.dir.schools()?;
            let text = schools
                .iter()
                .map(|s| {
                    format!(
                        "{}  {}  {}  {}",
                        s.instelling_ref,
                        s.brin6,
                        s.status.as_str(),
                        s.name
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(out(
                json!({"schools": schools.iter().map(school_json).collect::<Vec<_>>()}),
                text,
            ))
        }
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
