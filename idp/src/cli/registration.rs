//! `leerpoort register` and `deregister`: a school allows or withdraws a relying party.

use std::sync::Arc;

use broker::clock::Clock;
use claims::Release;
use clap::Args;
use serde_json::json;

use super::{ctx, open_state, out, Output};
use crate::config::Config;
use broker::admin;

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// INSTELLING_REF of the school.
    #[arg(long)]
    school: String,
    /// Client id or SAML entity id.
    #[arg(long)]
    rp: String,
    /// Release given name, family name and name.
    #[arg(long)]
    release_names: bool,
    /// Do not release the ECK-iD.
    #[arg(long)]
    no_eckid: bool,
    /// Do not release groups.
    #[arg(long)]
    no_groups: bool,
    /// Do not allow this software at home, even if the publisher does.
    #[arg(long)]
    no_home: bool,
}

#[derive(Debug, Args)]
pub struct DeregisterArgs {
    #[arg(long)]
    school: String,
    #[arg(long)]
    rp: String,
}

pub(super) fn register(
    config: Config,
    clock: Arc<dyn Clock>,
    a: RegisterArgs,
) -> anyhow::Result<Output> {
    let state = open_state(config, clock)?;
    let r = admin::parse_school_ref(&a.school)?;
    let opts = admin::RegisterOptions {
        release: Release {
            eckid: !a.no_eckid,
            names: a.release_names,
            groups: !a.no_groups,
        },
        home_allowed: !a.no_home,
    };
    let (school, rp, reg) = admin::register(ctx(&state, "cli"), &r, &a.rp, opts)?;
    Ok(out(
        json!({"school": school.instelling_ref.to_string(), "rp": rp.public_id(), "allowed": reg.allowed, "release": reg.release, "home_allowed": reg.home_allowed, "since": reg.since}),
        format!(
            "{} may now sign users of {} in ({}).",
            rp.name, school.name, school.brin6
        ),
    ))
}

pub(super) fn deregister(
    config: Config,
    clock: Arc<dyn Clock>,
    a: DeregisterArgs,
) -> anyhow::Result<Output> {
    let state = open_state(config, clock)?;
    let r = admin::parse_school_ref(&a.school)?;
    let reg = admin::deregister(ctx(&state, "cli"), &r, &a.rp)?;
    Ok(out(
        json!({"school": reg.school.to_string(), "rp": a.rp, "allowed": reg.allowed, "since": reg.since}),
        format!(
            "'{}' no longer receives sign-ins or data from school {}.",
            a.rp, reg.school
        ),
    ))
}
