//! The client's address behind reverse proxies.
//!
//! A proxy appends the address it received the request from to `X-Forwarded-For`; whatever the
//! client sent itself stands to the left of that. So the header is read from the right: the
//! TCP peer must be a trusted proxy (`LEERPOORT_TRUSTED_PROXIES`) before the header counts at
//! all, and then each entry from the right that is itself a trusted proxy is skipped. The first
//! entry that is not a trusted proxy is the client. An entry that is not an address (or an
//! address with a port) ends the walk: nothing left of it is believed, and the client is the
//! last address that was (the leftmost trusted proxy, or the peer).

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// The client's address, given the TCP `peer`, the `X-Forwarded-For` header values in the
/// order they arrived, and the proxies to believe. `None` only when there is no peer.
pub fn client_address<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let mut client = peer.map(|p| p.to_canonical())?;
    let trusts = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !trusts(&client) {
        return Some(client);
    }
    let entries: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry) else {
            break;
        };
        client = ip;
        if !trusts(&ip) {
            break;
        }
    }
    Some(client)
}

/// One `X-Forwarded-For` entry: an IPv4 or IPv6 address, optionally with a port (as some
/// cloud load balancers write it: `192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn client(peer: &str, xff: &[&str], trusted: &[&str]) -> String {
        client_address(
            Some(peer.parse().unwrap()),
            xff.iter().copied(),
            &nets(trusted),
        )
        .unwrap()
        .to_string()
    }

    const LOOPBACK: &[&str] = &["127.0.0.0/8", "::1/128"];

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        assert_eq!(
            client("198.51.100.7", &["10.9.0.5"], LOOPBACK),
            "198.51.100.7"
        );
        assert_eq!(client("198.51.100.7", &["10.9.0.5"], &[]), "198.51.100.7");
        assert_eq!(client("127.0.0.1", &["10.9.0.5"], &[]), "127.0.0.1");
    }

    #[test]
    fn a_forged_first_entry_is_ignored() {
        // The client wrote 10.9.0.5 itself; the proxy appended its real address.
        assert_eq!(
            client("127.0.0.1", &["10.9.0.5, 203.0.113.50"], LOOPBACK),
            "203.0.113.50"
        );
        // The same with the client's part in a header line of its own.
        assert_eq!(
            client("127.0.0.1", &["10.9.0.5", "203.0.113.50"], LOOPBACK),
            "203.0.113.50"
        );
    }

    #[test]
    fn trusted_hops_are_skipped_from_the_right() {
        let trusted = &["10.0.0.0/8", "127.0.0.1/32"];
        assert_eq!(
            client(
                "127.0.0.1",
                &["192.0.2.66, 203.0.113.50, 10.1.1.1, 10.2.2.2"],
                trusted
            ),
            "203.0.113.50"
        );
    }

    #[test]
    fn malformed_entries_are_not_believed() {
        // Junk (or an obfuscated identifier) ends the walk: the last real address is the client.
        assert_eq!(
            client("127.0.0.1", &["203.0.113.9, unknown"], LOOPBACK),
            "127.0.0.1"
        );
        assert_eq!(
            client("127.0.0.1", &["10.9.0.5, 127.0.0.2, garbage"], LOOPBACK),
            "127.0.0.1"
        );
        assert_eq!(client("127.0.0.1", &["10.9.0.5/8"], LOOPBACK), "127.0.0.1");
        assert_eq!(client("127.0.0.1", &[""], LOOPBACK), "127.0.0.1");
        assert_eq!(client("127.0.0.1", &["  "], LOOPBACK), "127.0.0.1");
        // Everything trusted: the leftmost trusted address is where the request came from.
        assert_eq!(
            client("127.0.0.1", &["junk, 127.0.0.5, 127.0.0.3"], LOOPBACK),
            "127.0.0.5"
        );
    }

    #[test]
    fn ports_and_mapped_addresses_are_understood() {
        assert_eq!(
            client("127.0.0.1", &["203.0.113.50:4711"], LOOPBACK),
            "203.0.113.50"
        );
        assert_eq!(
            client("::1", &["[2001:db8::7]:4711"], LOOPBACK),
            "2001:db8::7"
        );
        assert_eq!(
            client("::ffff:127.0.0.1", &["::ffff:203.0.113.50"], LOOPBACK),
            "203.0.113.50"
        );
    }

    #[test]
    fn no_header_means_the_peer() {
        assert_eq!(client("127.0.0.1", &[], LOOPBACK), "127.0.0.1");
        assert_eq!(
            client_address(None, ["203.0.113.50"], &nets(LOOPBACK)),
            None
        );
    }
}
