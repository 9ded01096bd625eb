//! `leerpoort operator`: the operator console (`LEERPOORT_OPERATOR_LISTEN`). Whoever runs the
//! command on the server is the operator: `operator link` makes the one-time link that signs a
//! browser in to the console.

use std::sync::Arc;

use broker::clock::Clock;
use clap::Subcommand;
use serde_json::json;

use super::{open_state, out, Output};
use crate::config::Config;
use crate::server::operator::{self, LINK_MINUTES};

#[derive(Debug, Subcommand)]
pub enum OperatorCmd {
    /// Make a one-time sign-in link for the operator console (it replaces a link not yet
    /// used). Open it in a browser that reaches the console's listener.
    Link {
        /// How long the link works, in minutes (1–60).
        #[arg(long, default_value_t = LINK_MINUTES)]
        minutes: u32,
    },
}

pub(super) fn run(
    config: Config,
    clock: Arc<dyn Clock>,
    cmd: OperatorCmd,
) -> anyhow::Result<Output> {
    let state = open_state(config, clock)?;
    match cmd {
        OperatorCmd::Link { minutes } => {
            let link = operator::make_link(&state, minutes, "cli")?;
            let text = format!(
                "Open this link within {minutes} minute(s); it signs one browser in to the \
                 operator console, once:\n{}",
                link.url
            );
            Ok(out(
                json!({"url": link.url, "expires_at": link.expires_at}),
                text,
            ))
        }
    }
}
