//! `leerpoort substitute activate|list|end`: a group's substitute account (invalkracht), as the
//! ICT coordinator runs it in Beheer (`/beheer/invalkrachten`).

use clap::Subcommand;
use serde_json::json;

use super::{ctx, out, Output};
use crate::app::AppState;
use broker::beheer::substitutes::{self, Substitute};

#[derive(Debug, Subcommand)]
pub enum SubstituteCmd {
    /// Lend a group's substitute account to a person for 1, 2 or 5 school days; they receive a
    /// sign-in link by mail.
    Activate {
        /// INSTELLING_REF of the school.
        #[arg(long)]
        school: String,
        /// The group's key.
        #[arg(long)]
        group: String,
        /// The substitute's full name (given name first).
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// School days of access: 1, 2 or 5.
        #[arg(long)]
        days: u8,
    },
    /// Every group's substitute account: who substitutes there, until when.
    List {
        #[arg(long)]
        school: String,
    },
    /// End a group's substitution now: access stops, the name and address are wiped.
    End {
        #[arg(long)]
        school: String,
        #[arg(long)]
        group: String,
    },
}

fn group_of(
    state: &AppState,
    school: &claims::InstellingRef,
    key: &str,
) -> anyhow::Result<broker::model::Group> {
    state
        .dir
        .group_by_key(school, key)?
        .ok_or_else(|| anyhow::anyhow!("no group with key '{key}' at school {school}"))
}

pub fn run(state: &AppState, cmd: SubstituteCmd) -> anyhow::Result<Output> {
    let c = ctx(state, "cli");
    match cmd {
        SubstituteCmd::Activate {
            school,
            group,
            name,
            email,
            days,
        } => {
            let r = broker::admin::parse_school_ref(&school)?;
            let g = group_of(state, &r, &group)?;
            let who = Substitute { name, email, days };
            let a = substitutes::activate(&state.world(), c, &r, g.id, who, None)?;
            if !a.link_sent {
                anyhow::bail!(
                    "the substitute account of {} is active until {}, but the sign-in mail could not be sent; activate again",
                    a.group.name,
                    a.until
                );
            }
            Ok(out(
                json!({"user_id": a.account.id.to_string(), "group_key": a.group.key,
                    "name": a.account.display_name(), "until": a.until, "sign_in_link_sent": true}),
                format!(
                    "{} substitutes in {} up to and including {}; the sign-in link has been mailed.",
                    a.account.display_name(),
                    a.group.name,
                    catalogue::local_time(a.until - 1, "%-d-%-m-%Y")
                ),
            ))
        }
        SubstituteCmd::List { school } => {
            let r = broker::admin::parse_school_ref(&school)?;
            c.active_school(&r)?;
            let slots = substitutes::slots(c, &r)?;
            let mut text = Vec::new();
            let list: Vec<_> = slots
                .iter()
                .map(|s| {
                    let running = s.substitution.as_ref();
                    text.push(match running {
                        Some(x) => format!(
                            "{}  {}  up to and including {}",
                            s.group.key,
                            s.account.display_name(),
                            catalogue::local_time(x.until - 1, "%-d-%-m-%Y")
                        ),
                        None => format!("{}  (nobody)", s.group.key),
                    });
                    json!({"group_key": s.group.key, "user_id": s.account.id.to_string(),
                        "active": running.is_some(),
                        "name": running.map(|_| s.account.display_name()),
                        "until": running.map(|x| x.until)})
                })
                .collect();
            Ok(out(json!({"substitutes": list}), text.join("\n")))
        }
        SubstituteCmd::End { school, group } => {
            let r = broker::admin::parse_school_ref(&school)?;
            let g = group_of(state, &r, &group)?;
            let account = substitutes::account_of(c, &g)?;
            match substitutes::end(c, &r, account.id) {
                Err(broker::beheer::BeheerError::NotFound) => {
                    anyhow::bail!("nobody substitutes in group '{group}'")
                }
                other => other?,
            };
            Ok(out(
                json!({"group_key": g.key, "user_id": account.id.to_string(), "ended": true}),
                format!("The substitution in {} has ended.", g.name),
            ))
        }
    }
}
