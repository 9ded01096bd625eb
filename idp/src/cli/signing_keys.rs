//! `leerpoort keys`: signing keys.

use std::sync::Arc;

use broker::clock::Clock;
use clap::Subcommand;
use serde_json::json;

use super::{out, Output};
use crate::config::Config;
use crate::keys;

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Show the signing keys with their state.
    List,
    /// Add new active keys; previous keys stay published until they expire.
    Rotate,
}

fn keys_output(list: &[keys::KeyInfo]) -> Output {
    let text = list
        .iter()
        .map(|k| {
            format!(
                "{:<46}  {:<10}  {:<8}  created {}",
                k.kid,
                k.alg.as_str(),
                format!("{:?}", k.state).to_lowercase(),
                k.created_at
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    out(json!({"keys": list}), text)
}

pub(super) fn run(config: Config, clock: Arc<dyn Clock>, cmd: KeysCmd) -> anyhow::Result<Output> {
    match cmd {
        KeysCmd::List => {
            let now = clock.now_secs();
            // Opening creates the keys on a fresh install, as the server would.
            keys::FileKeyStore::open_or_init(&config.keys_dir, config.issuer_host(), now)?;
            let list = keys::list(&config.keys_dir, now)?;
            Ok(keys_output(&list))
        }
        KeysCmd::Rotate => {
            let now = clock.now_secs();
            keys::FileKeyStore::open_or_init(&config.keys_dir, config.issuer_host(), now)?;
            let list = keys::rotate(&config.keys_dir, config.issuer_host(), now)?;
            Ok(keys_output(&list))
        }
    }
}
