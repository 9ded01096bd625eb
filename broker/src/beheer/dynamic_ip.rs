//! Verbindingstype "Dynamic IP" (seed 003:472): a school whose Internet address changes runs
//! a small agent on one computer of its network. The agent calls Leerpoort's update URL with
//! the school's update token on a schedule; the address it calls from becomes the school's
//! dynamic network (a /32; for IPv6 the /64 it is in), next to the networks the coordinator
//! typed. Pupils may then sign in with their name and PIN from there.
//!
//! The coordinator turns it on (a token is made and shown once), makes a new token (the old
//! one stops at once), or turns it off (the token and the address go). Only a token's SHA-256
//! is stored. A new address writes one line to the trail; a report of the same address only
//! keeps the moment, so an agent may report every few minutes.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

use super::{BeheerError, Coordinator, Result};
use crate::audit::AuditAction;
use crate::keyspace::{Key, Limit};
use crate::model::{AuditEvent, DynamicIp, DynamicIpChange, School, SchoolStatus};
use crate::ports::World;
use crate::repo::{Directory, RepoError};
use crate::secrets::{random_token, token_hash};

/// Update tokens start with this, so that a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "lpdip_";
/// How many of the school's past addresses Beheer shows.
pub const HISTORY_SHOWN: i64 = 20;
/// Wrong tokens from one address (bucket) within [`FAILURE_WINDOW`] before it is refused
/// without looking.
pub const FAILURE_LIMIT: u64 = 10;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A token just made: shown once, to be put in the agent.
#[derive(Clone)]
pub struct Issued {
    pub token: String,
    pub setting: DynamicIp,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("setting", &self.setting)
            .finish_non_exhaustive()
    }
}

/// What Beheer shows of Dynamic IP.
#[derive(Debug, Clone)]
pub struct Overview {
    /// `None`: off (the school's networks are typed by hand).
    pub setting: Option<DynamicIp>,
    pub network: Option<IpNet>,
    /// Newest first.
    pub history: Vec<DynamicIpChange>,
}

/// The school's Dynamic IP as Beheer shows it.
pub fn overview(dir: &dyn Directory, school: &School) -> Result<Overview> {
    let setting = dir.dynamic_ip(&school.instelling_ref)?;
    let history = dir.dynamic_ip_history(&school.instelling_ref, HISTORY_SHOWN)?;
    Ok(Overview {
        network: setting.as_ref().and(school.dynamic_network),
        setting,
        history,
    })
}

/// Turn Dynamic IP on, or replace the token: a new token, shown once; an old one stops
/// working at once. The address already reported stays until the agent reports another.
pub fn new_token(w: &World<'_>, c: &Coordinator) -> Result<Issued> {
    let token = format!(
        "{TOKEN_PREFIX}{}",
        random_token().map_err(|e| BeheerError::Repo(RepoError::Backend(e.to_string())))?
    );
    let replaced = w.dir.dynamic_ip(c.school())?.is_some();
    let audit = AuditEvent::record(
        AuditAction::DynamicIpToken,
        c.actor(),
        w.now(),
        Some(*c.school()),
        None,
        serde_json::json!({ "replaced": replaced }),
    );
    let setting = w
        .dir
        .set_dynamic_ip_token(c.school(), &token_hash(&token), audit)?;
    Ok(Issued { token, setting })
}

/// Turn Dynamic IP off: the token stops working and the reported address is no longer a
/// school network. `NotFound` when it is off.
pub fn turn_off(w: &World<'_>, c: &Coordinator) -> Result<()> {
    let audit = AuditEvent::record(
        AuditAction::DynamicIpOff,
        c.actor(),
        w.now(),
        Some(*c.school()),
        None,
        serde_json::json!({}),
    );
    match w.dir.remove_dynamic_ip(c.school(), audit) {
        Err(RepoError::NotFound(_)) => Err(BeheerError::NotFound),
        other => Ok(other?),
    }
}

/// The network an agent's address stands for: the address itself (IPv4), or the /64 it is in
/// (IPv6: every device of a school network has its own address within one /64).
pub fn network_of(addr: IpAddr) -> IpNet {
    let addr = addr.to_canonical();
    let prefix = if addr.is_ipv4() { 32 } else { 64 };
    IpNet::new(addr, prefix)
        .map(|n| n.trunc())
        .unwrap_or_else(|_| IpNet::from(addr))
}

/// What the update URL answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub network: IpNet,
    /// A new address (written to the trail), or the one Leerpoort had.
    pub changed: bool,
}

/// Why a report is refused.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No token, a malformed one, or one that is no school's (or no longer).
    #[error("the update token is not valid")]
    BadToken,
    /// Too many wrong tokens from this address lately.
    #[error("too many wrong update tokens from this address; try again later")]
    TooMany,
    /// The school account is closed or merged.
    #[error("the school account is closed")]
    Closed,
    /// The address of the caller is unknown (no peer address).
    #[error("the caller's address is unknown")]
    NoAddress,
    #[error(transparent)]
    Storage(#[from] RepoError),
    #[error("the store did not answer: {0}")]
    Store(String),
}

/// The agent reports: `token` (the header's bearer value, if any) from `addr` (the caller's
/// address, after the proxy rules). `bucket` is the caller's limit bucket.
pub fn report(
    w: &World<'_>,
    token: Option<&str>,
    addr: Option<IpAddr>,
    bucket: &str,
) -> std::result::Result<Reported, ReportError> {
    let failures = Key::Limit(Limit::DynamicIpFailuresFromAddress(bucket));
    let seen = w
        .store
        .count(&failures, FAILURE_WINDOW)
        .map_err(|e| ReportError::Store(e.to_string()))?;
    if seen >= FAILURE_LIMIT {
        return Err(ReportError::TooMany);
    }
    let school = match token.filter(|t| well_formed(t)) {
        Some(t) => w.dir.dynamic_ip_by_token(&token_hash(t))?,
        None => None,
    };
    let Some(school) = school else {
        w.store
            .incr(&failures, FAILURE_WINDOW)
            .map_err(|e| ReportError::Store(e.to_string()))?;
        return Err(ReportError::BadToken);
    };
    let active = w
        .dir
        .school(&school)?
        .is_some_and(|s| s.status == SchoolStatus::Active);
    if !active {
        return Err(ReportError::Closed);
    }
    let network = network_of(addr.ok_or(ReportError::NoAddress)?);
    let audit = AuditEvent::record(
        AuditAction::DynamicIpAddress,
        "dynamic-ip",
        w.now(),
        Some(school),
        None,
        serde_json::json!({ "network": network.to_string() }),
    );
    let changed = w.dir.record_dynamic_ip(&school, network, audit)?;
    Ok(Reported { network, changed })
}

/// `lpdip_` and 43 base64url characters.
fn well_formed(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_address_stands_for_itself_or_its_64() {
        assert_eq!(
            network_of("198.51.100.7".parse().unwrap()).to_string(),
            "198.51.100.7/32"
        );
        assert_eq!(
            network_of("2001:db8:1:2:aa:bb:cc:dd".parse().unwrap()).to_string(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            network_of("::ffff:198.51.100.7".parse().unwrap()).to_string(),
            "198.51.100.7/32"
        );
    }

    #[test]
    fn tokens_have_one_shape() {
        let t = format!("{TOKEN_PREFIX}{}", random_token().unwrap());
        assert!(well_formed(&t));
        assert!(!well_formed(&t[1..]));
        assert!(!well_formed("lpdip_short"));
        assert!(!well_formed(&format!("{t}x")));
    }
}
