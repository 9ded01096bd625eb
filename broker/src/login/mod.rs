//! The sign-in rules: who gets a session, and when an attempt is refused, throttled, locked
//! or blocked. One file per way in:
//!
//! | file | what |
//! |---|---|
//! | [`staff`] | staff sign-in with e-mail and password, failures per account and per address, the coordinators' second step |
//! | [`totp`] | the second factor (RFC 6238), its enrolment and the requirement of it |
//! | [`pupil`] | pupil sign-in with PIN or picture password, the locks, the school-network rule, reveal |
//! | [`password`] | staff reset and activation links, setting a password with a link |
//! | [`password_policy`] | the rule for chosen passwords and its advice |
//! | [`thuis`] | home sign-in: parents' addresses, links, parent and child sign-in, home codes |
//! | [`challenge`] | the proof-of-work challenge after failed sign-ins |
//!
//! Each rule takes the [`World`](crate::ports::World) (or the part it needs) and, where it
//! hashes, seals or checks a challenge, the server's [`Keys`]; it returns what happened. The
//! server turns that into a page and counts it ([`Counted`]); the client's address arrives
//! already resolved from the proxies in front.

pub mod challenge;
pub mod password;
pub mod password_policy;
pub mod pupil;
pub mod staff;
pub mod thuis;
pub mod totp;

use std::net::IpAddr;

use crate::secrets::{PinHasher, Sealer};

/// The server's keys the sign-in rules use besides the [`World`](crate::ports::World).
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    /// Pupils' PINs and picture passwords, and keyed tags.
    pub pins: &'a PinHasher,
    /// Sealed secrets: PINs to show, home codes, second-factor secrets.
    pub sealer: &'a Sealer,
    /// The proof-of-work challenge.
    pub challenges: &'a challenge::Challenges,
}

/// The operator's settings that sign-in follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Every ICT coordinator must sign in with a second factor.
    pub require_totp_for_coordinators: bool,
    /// Inactivity after which a staff session ends (seconds; 0: none).
    pub session_idle_staff_secs: i64,
    /// Inactivity after which a pupil session ends (seconds; 0: none).
    pub session_idle_pupil_secs: i64,
}

/// What a sign-in attempt came to, and the `result` the server counts it under (`None`: the
/// attempt is not counted).
#[derive(Debug)]
pub struct Counted<T> {
    pub outcome: T,
    pub result: Option<&'static str>,
}

impl<T> Counted<T> {
    fn new(outcome: T, result: &'static str) -> Self {
        Self {
            outcome,
            result: Some(result),
        }
    }

    fn uncounted(outcome: T) -> Self {
        Self {
            outcome,
            result: None,
        }
    }
}

/// The part of a client address that per-address limits count: an IPv4 address as it is, an
/// IPv6 address by its /64 (one household or one mobile phone gets a whole /64, so counting
/// single IPv6 addresses would give it billions of fresh budgets). `unknown` when there is no
/// usable address.
pub fn limit_bucket(ip: Option<&str>) -> String {
    match ip
        .and_then(|i| i.parse::<IpAddr>().ok())
        .map(|i| i.to_canonical())
    {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
        None => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_ipv6_by_its_64() {
        assert_eq!(limit_bucket(Some("203.0.113.50")), "203.0.113.50");
        assert_eq!(
            limit_bucket(Some("2001:db8:1:2:aaaa::1")),
            limit_bucket(Some("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_eq!(limit_bucket(Some("2001:db8:1:2::9")), "2001:db8:1:2::/64");
        assert_ne!(
            limit_bucket(Some("2001:db8:1:2::9")),
            limit_bucket(Some("2001:db8:1:3::9"))
        );
        assert_eq!(limit_bucket(Some("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(limit_bucket(Some("junk")), "unknown");
        assert_eq!(limit_bucket(None), "unknown");
    }
}
