//! "Mijn school": the school's own networks, from which pupils sign in with their name and
//! PIN. The coordinator adds and removes them; a network wider than a /16 (IPv4) or a /32
//! (IPv6) is refused, so that "everywhere" can never be made a school network by accident.

use ipnet::IpNet;

use super::{BeheerError, Coordinator, Refusal, Result};
use crate::admin::parse_network;
use crate::audit::AuditAction;
use crate::clock::Clock;
use crate::model::{AuditEvent, School};
use crate::repo::{Directory, SchoolChange};

/// The widest network a school may name, per address family (prefix length).
pub const WIDEST_V4: u8 = 16;
pub const WIDEST_V6: u8 = 32;
/// The most networks one school keeps.
pub const MOST_NETWORKS: usize = 64;

fn change(
    dir: &dyn Directory,
    clock: &dyn Clock,
    c: &Coordinator,
    networks: Vec<IpNet>,
    details: serde_json::Value,
) -> Result<School> {
    let audit = AuditEvent::record(
        AuditAction::SchoolNetworks,
        c.actor(),
        clock.now_secs(),
        Some(*c.school()),
        None,
        details,
    );
    Ok(dir.update_school(
        c.school(),
        SchoolChange {
            networks: Some(networks),
            ..SchoolChange::default()
        },
        audit,
    )?)
}

/// A change to the school's networks, as the coordinator typed it.
#[derive(Debug, Clone, Copy)]
pub enum NetworkEdit<'a> {
    /// Add a network (CIDR; a bare address is that one host).
    Add(&'a str),
    /// Remove one of the school's networks; one it does not have is
    /// [`BeheerError::NotFound`].
    Remove(&'a str),
}

/// Add and remove school networks: every edit is checked first, then all are written at once
/// (one audit line), or none is. Adding one the school has, changes nothing.
pub fn edit_networks(
    dir: &dyn Directory,
    clock: &dyn Clock,
    c: &Coordinator,
    school: &School,
    edits: &[NetworkEdit<'_>],
) -> Result<School> {
    let mut networks = school.networks.clone();
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    for edit in edits {
        match *edit {
            NetworkEdit::Add(cidr) => {
                let net = parse_network(cidr)
                    .map_err(|_| BeheerError::Refused(Refusal::NetworkInvalid))?
                    .trunc();
                let widest = match net {
                    IpNet::V4(_) => WIDEST_V4,
                    IpNet::V6(_) => WIDEST_V6,
                };
                if net.prefix_len() < widest {
                    return Err(BeheerError::Refused(Refusal::NetworkTooWide));
                }
                if !networks.contains(&net) {
                    networks.push(net);
                    added.push(net.to_string());
                }
            }
            NetworkEdit::Remove(cidr) => {
                let net = parse_network(cidr).map_err(|_| BeheerError::NotFound)?;
                if !networks.contains(&net) {
                    return Err(BeheerError::NotFound);
                }
                networks.retain(|n| *n != net);
                removed.push(net.to_string());
            }
        }
    }
    if networks.len() > MOST_NETWORKS {
        return Err(BeheerError::Refused(Refusal::TooManyNetworks));
    }
    if added.is_empty() && removed.is_empty() {
        return Ok(school.clone());
    }
    let details = serde_json::json!({"added": added, "removed": removed});
    change(dir, clock, c, networks, details)
}
