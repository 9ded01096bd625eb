//! `leerpoort notice`: the outage notice on every login page.

use std::sync::Arc;

use broker::clock::Clock;
use clap::Subcommand;
use serde_json::json;

use super::{ctx, open_state, out, Output};
use crate::config::Config;
use broker::admin;

#[derive(Debug, Subcommand)]
pub enum NoticeCmd {
    /// Show a message on every login page until it is cleared.
    Set { text: String },
    /// Remove the message.
    Clear,
    /// Print the current message.
    Show,
}

pub(super) fn run(config: Config, clock: Arc<dyn Clock>, cmd: NoticeCmd) -> anyhow::Result<Output> {
    let state = open_state(config, clock)?;
    match cmd {
        NoticeCmd::Set { text } => {
            admin::set_notice(ctx(&state, "cli"), Some(&text))?;
            Ok(out(
                json!({"notice": text.trim()}),
                "The notice is shown on every login page.",
            ))
        }
        NoticeCmd::Clear => {
            admin::set_notice(ctx(&state, "cli"), None)?;
            Ok(out(json!({"notice": null}), "The notice is cleared."))
        }
        NoticeCmd::Show => {
            let n = state.dir.setting(admin::NOTICE_KEY)?;
            Ok(out(
                json!({"notice": n}),
                n.unwrap_or_else(|| "(no notice)".into()),
            ))
        }
    }
}
