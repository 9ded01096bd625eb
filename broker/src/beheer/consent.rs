//! "Toestemming uitwisseling schooldata": which of the publishers and network environments the
//! operator connected may receive the school's data. A tick allows one (a registration, as
//! `leerpoort register` makes), no tick withdraws it (as `leerpoort deregister`): from that
//! moment no sign-in and no data reach it, also for sessions already open, because every
//! sign-in and token asks the release decision again. A new school starts with nothing ticked.

use std::collections::BTreeSet;

use claims::Release;
use uuid::Uuid;

use super::{BeheerError, Coordinator, Result};
use crate::admin::{self, RegisterOptions};
use crate::clock::Clock;
use crate::model::{RelyingParty, RpKind};
use crate::repo::Directory;

/// One party on the page: what it is and what it would receive.
#[derive(Debug, Clone)]
pub struct Party {
    pub rp: RelyingParty,
    /// The school allows it now.
    pub ticked: bool,
    /// What it receives besides the pseudonym, school and role: names, ECK-iD, groups.
    pub release: Release,
    /// The school's own switch for use at home (on until the school turns it off).
    pub school_allows_home: bool,
}

impl Party {
    /// It may be used at home: the publisher allows it and the school did not switch it off.
    pub fn at_home(&self) -> bool {
        self.rp.home_allowed && self.school_allows_home
    }
}

/// Every party the operator connected (and has not switched off), publishers first, each by
/// name, with the school's choice. An LAS is not among them: it receives nothing, it sends,
/// and the school chooses it on "Gebruikersgegevens invoeren".
pub fn parties(dir: &dyn Directory, c: &Coordinator) -> Result<Vec<Party>> {
    let registrations = dir.registrations_of_school(c.school())?;
    let mut out: Vec<Party> = dir
        .relying_parties()?
        .into_iter()
        .filter(|rp| rp.enabled && rp.kind != RpKind::Las)
        .map(|rp| {
            let reg = registrations.iter().find(|r| r.rp_id == rp.id);
            Party {
                ticked: reg.is_some_and(|r| r.allowed),
                release: reg.map(|r| r.release).unwrap_or_default(),
                school_allows_home: reg.is_none_or(|r| r.home_allowed),
                rp,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.rp.kind != RpKind::Publisher, a.rp.name.to_lowercase())
            .cmp(&(b.rp.kind != RpKind::Publisher, b.rp.name.to_lowercase()))
    });
    Ok(out)
}

/// What one save changed, by the parties' names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Saved {
    pub allowed: Vec<String>,
    pub withdrawn: Vec<String>,
}

/// Save the page: exactly the parties in `ticked` are allowed. An id in `ticked` that is not a
/// connected party is [`BeheerError::NotFound`] and nothing is written. Each change is one
/// registration with its audit line; a party ticked before keeps what it released.
pub fn save(
    dir: &dyn Directory,
    clock: &dyn Clock,
    c: &Coordinator,
    ticked: &BTreeSet<Uuid>,
) -> Result<Saved> {
    let parties = parties(dir, c)?;
    if ticked
        .iter()
        .any(|id| !parties.iter().any(|p| &p.rp.id == id))
    {
        return Err(BeheerError::NotFound);
    }
    let ctx = c.ctx(dir, clock);
    let mut saved = Saved::default();
    for p in parties {
        let wanted = ticked.contains(&p.rp.id);
        if wanted == p.ticked {
            continue;
        }
        if wanted {
            let opts = RegisterOptions {
                release: p.release,
                home_allowed: p.school_allows_home,
            };
            admin::register(ctx, c.school(), p.rp.public_id(), opts)?;
            saved.allowed.push(p.rp.name);
        } else {
            admin::deregister(ctx, c.school(), p.rp.public_id())?;
            saved.withdrawn.push(p.rp.name);
        }
    }
    Ok(saved)
}
