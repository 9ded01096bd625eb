//! `leerpoort group`: groups (klassen).

use std::sync::Arc;

use broker::clock::Clock;
use clap::Subcommand;
use serde_json::{json, Value};

use super::{ctx, open_state, out, Output};
use crate::config::Config;
use broker::admin;

#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// Add a group.
    Add {
        #[arg(long)]
        school: String,
        /// The group's key (from the LAS), unique in the school.
        #[arg(long)]
        key: String,
        #[arg(long)]
        name: String,
        /// Year group 1–8.
        #[arg(long)]
        jaargroep: Option<String>,
        /// A combination group (combinatiegroep).
        #[arg(long)]
        composite: bool,
    },
    /// List the groups of a school.
    List {
        #[arg(long)]
        school: String,
    },
    /// "Wijzig login methode groep": every pupil of the group gets a new random PIN or
    /// picture password; prints the list.
    SignInMethod {
        #[arg(long)]
        school: String,
        #[arg(long)]
        group: String,
        /// pin or picture.
        #[arg(long)]
        method: String,
    },
}

pub(super) fn run(config: Config, clock: Arc<dyn Clock>, cmd: GroupCmd) -> anyhow::Result<Output> {
    match cmd {
        GroupCmd::SignInMethod {
            school,
            group,
            method,
        } => super::beheer::group_method(&open_state(config, clock)?, &school, &group, &method),
        GroupCmd::Add {
            school,
            key,
            name,
            jaargroep,
            composite,
        } => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let g = admin::add_group(
                ctx(&state, "cli"),
                &r,
                &key,
                &name,
                jaargroep.as_deref(),
                composite,
            )?;
            Ok(out(
                json!({"group_key": g.key, "name": g.name, "jaargroep": g.jaargroep.map(|j| j.get()), "school_year": g.school_year}),
                format!("Added group {} ({})", g.name, g.key),
            ))
        }
        GroupCmd::List { school } => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let groups = state.dir.groups_of_school(&r)?;
            let text = groups
                .iter()
                .map(|g| format!("{}  {}", g.key, g.name))
                .collect::<Vec<_>>()
                .join("\n");
            let list: Vec<Value> = groups
                .iter()
                .map(|g| json!({"group_key": g.key, "name": g.name, "jaargroep": g.jaargroep.map(|j| j.get()), "composite": g.composite, "school_year": g.school_year}))
                .collect();
            Ok(out(json!({"groups": list}), text))
        }
    }
}
