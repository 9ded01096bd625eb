//! `leerpoort device list|revoke`: the devices linked to a school, as the ICT coordinator sees
//! them in `/school/{ref}/apparaten`.

use clap::Subcommand;
use serde_json::json;

use super::{out, Output};
use crate::app::AppState;

#[derive(Debug, Subcommand)]
pub enum DeviceCmd {
    /// The devices linked to a school: name, who linked it, when, last use.
    List {
        /// INSTELLING_REF of the school.
        #[arg(long)]
        school: String,
    },
    /// Unlink a device: pupils can no longer sign in on it outside the school's networks.
    Revoke {
        /// The device's id (`device list` prints it).
        #[arg(long)]
        device: String,
    },
}

pub fn run(state: &AppState, cmd: DeviceCmd) -> anyhow::Result<Output> {
    match cmd {
        DeviceCmd::List { school } => {
            let r = broker::admin::parse_school_ref(&school)?;
            if state.dir.school(&r)?.is_none() {
                anyhow::bail!("no school with INSTELLING_REF {r}");
            }
            let devices = state.dir.devices_of_school(&r)?;
            let mut text = format!("{} device(s) linked to {r}", devices.len());
            let mut list = Vec::with_capacity(devices.len());
            for d in devices {
                let by = state.dir.user(d.enrolled_by)?.map(|u| u.display_name());
                text.push_str(&format!(
                    "\n{}  {}  linked by {} at {}, last used {}",
                    d.id,
                    d.name,
                    by.as_deref().unwrap_or("(removed)"),
                    utc(d.enrolled_at),
                    d.last_used_at.map_or_else(|| "never".to_string(), utc),
                ));
                list.push(json!({
                    "id": d.id.to_string(),
                    "name": d.name,
                    "enrolled_by": d.enrolled_by.to_string(),
                    "enrolled_by_name": by,
                    "enrolled_at": d.enrolled_at,
                    "last_used_at": d.last_used_at,
                }));
            }
            Ok(out(json!({"school": r.to_string(), "devices": list}), text))
        }
        DeviceCmd::Revoke { device } => {
            let id = uuid::Uuid::parse_str(device.trim())
                .map_err(|_| anyhow::anyhow!("'{device}' is not a device id"))?;
            let d = state
                .dir
                .device(id)?
                .ok_or_else(|| anyhow::anyhow!("no device {id}"))?;
            let now = state.clock.now_secs();
            broker::devices::revoke(state.dir.as_ref(), &d.school, id, "cli", now)?
                .ok_or_else(|| anyhow::anyhow!("no device {id}"))?;
            Ok(out(
                json!({"id": id.to_string(), "school": d.school.to_string(), "revoked": true}),
                format!("Unlinked device {id} ({}) from {}.", d.name, d.school),
            ))
        }
    }
}

/// A time as RFC 3339 in UTC.
fn utc(at: i64) -> String {
    jiff::Timestamp::from_second(at).map_or_else(|_| at.to_string(), |t| t.to_string())
}
