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

/// Add or remove one of the school's networks.
pub fn edit_networks(
    dir: &dyn Directory,
    clock: &dyn Clock,
    c: &Coordinator,
    school: &School,
    edit: NetworkEdit<'_>,
) -> Result<School> {
    match edit {
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
            if school.networks.contains(&net) {
                return Ok(school.clone());
            }
            if school.networks.len() >= MOST_NETWORKS {
                return Err(BeheerError::Refused(Refusal::TooManyNetworks));
            }
            let mut networks = school.networks.clone();
            networks.push(net);
            change(
                dir,
                clock,
                c,
                networks,
                serde_json::json!({"added": net.to_string()}),
            )
        }
        NetworkEdit::Remove(cidr) => {
            let net = parse_network(cidr).map_err(|_| BeheerError::NotFound)?;
            if !school.networks.contains(&net) {
                return Err(BeheerError::NotFound);
            }
            let networks = school
                .networks
                .iter()
                .filter(|n| **n != net)
                .copied()
                .collect();
            change(
                dir,
                clock,
                c,
                networks,
                serde_json::json!({"removed": net.to_string()}),
            )
        }
    }
}
