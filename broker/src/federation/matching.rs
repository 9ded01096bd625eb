//! Mapping a user that a network environment has signed in onto one of Leerpoort's users, by
//! the upstream's matching rule (ECK-iD, LAS key, e-mail) and only within the schools that
//! upstream serves.

use std::collections::HashMap;

use claims::{EckId, InstellingRef};

use crate::model::{MatchRule, Upstream, User};
use crate::repo::Directory;

/// Why an upstream's user is not signed in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// The upstream is switched off.
    #[error("this network environment is disabled")]
    Disabled,
    /// The asserted values lack the claim the rule matches on.
    #[error("the network environment did not send '{0}'")]
    MissingClaim(String),
    /// The value is not of the kind the rule expects (an ECK-iD that is not one).
    #[error("the network environment sent an invalid '{0}'")]
    InvalidClaim(String),
    /// Nobody matches in the schools the upstream serves.
    #[error("no user of the schools this network environment serves matches")]
    Unknown,
    /// A user matches, but of a school the upstream does not serve.
    #[error("the user belongs to a school this network environment does not serve")]
    NotServed,
    /// More than one user matches (the same LAS key at two schools the upstream serves).
    #[error("more than one user matches; the school must be chosen")]
    Ambiguous,
    #[error("the directory did not answer")]
    Unavailable,
}

/// The first value of each asserted claim or attribute.
pub type Asserted = HashMap<String, String>;

/// Find the user `upstream` has signed in. `school` narrows the search to one school the
/// upstream serves (from the shortcut the user came through); it is ignored when the upstream
/// does not serve it.
pub fn match_user(
    dir: &dyn Directory,
    upstream: &Upstream,
    asserted: &Asserted,
    school: Option<&InstellingRef>,
) -> Result<User, MatchError> {
    if !upstream.enabled {
        return Err(MatchError::Disabled);
    }
    let value = asserted
        .get(&upstream.match_claim)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| MatchError::MissingClaim(upstream.match_claim.clone()))?;
    let served = |u: &User| upstream.schools.contains(&u.school);
    match upstream.match_rule {
        MatchRule::LasKey => {
            let schools: Vec<&InstellingRef> = match school.filter(|s| upstream.schools.contains(s))
            {
                Some(s) => vec![s],
                None => upstream.schools.iter().collect(),
            };
            let mut found = Vec::new();
            for s in schools {
                if let Some(u) = dir
                    .user_by_las_key(s, value)
                    .map_err(|_| MatchError::Unavailable)?
                {
                    found.push(u);
                }
            }
            match found.len() {
                0 => Err(MatchError::Unknown),
                1 => Ok(found.remove(0)),
                _ => Err(MatchError::Ambiguous),
            }
        }
        MatchRule::EckId => {
            let eck = EckId::parse_import(value)
                .map_err(|_| MatchError::InvalidClaim(upstream.match_claim.clone()))?;
            let u = dir
                .user_by_eck_id(&eck)
                .map_err(|_| MatchError::Unavailable)?
                .ok_or(MatchError::Unknown)?;
            if served(&u) {
                Ok(u)
            } else {
                Err(MatchError::NotServed)
            }
        }
        MatchRule::Email => {
            let u = dir
                .user_by_email(&value.to_lowercase())
                .map_err(|_| MatchError::Unavailable)?
                .filter(|u| !u.is_pupil())
                .ok_or(MatchError::Unknown)?;
            if served(&u) {
                Ok(u)
            } else {
                Err(MatchError::NotServed)
            }
        }
    }
}
