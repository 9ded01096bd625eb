//! "Toestemming van de gefuseerde school overnemen": after a merger, the consents the merged
//! school gave (the publishers and network providers it allowed, and the network environments
//! that signed its users in) are not copied at once. The ICT coordinator of the school it
//! merged into sees them on the consent page and confirms; then they are united — allowed
//! where either school allowed, with what the merged school released where this school had not
//! allowed it — in one transaction, each with its audit line.

use claims::InstellingRef;

use super::{BeheerError, Coordinator, Result};
use crate::audit::AuditAction;
use crate::clock::Clock;
use crate::model::{AuditEvent, RelyingParty, School, Upstream};
use crate::repo::{Directory, RegistrationChange};

/// What a merged school offers the coordinator's school.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The school that merged into this one.
    pub from: School,
    /// Relying parties the merged school allowed and this school does not (yet), each with
    /// the registration it would get.
    pub parties: Vec<(RelyingParty, RegistrationChange)>,
    /// Network environments that served the merged school and not (yet) this one.
    pub networks: Vec<Upstream>,
}

impl Offer {
    /// Nothing would change: everything is allowed here already.
    pub fn is_empty(&self) -> bool {
        self.parties.is_empty() && self.networks.is_empty()
    }
}

/// The offers waiting for this coordinator's school, oldest first; those that would change
/// nothing are left out.
pub fn offers(dir: &dyn Directory, c: &Coordinator) -> Result<Vec<Offer>> {
    let mut out = Vec::new();
    for from in dir.merger_offers(c.school())? {
        let offer = offer(dir, c.school(), &from)?;
        if !offer.is_empty() {
            out.push(offer);
        }
    }
    Ok(out)
}

/// What `from` offers `into`.
fn offer(dir: &dyn Directory, into: &InstellingRef, from: &InstellingRef) -> Result<Offer> {
    let from_school = dir.school(from)?.ok_or(BeheerError::NotFound)?;
    let here = dir.registrations_of_school(into)?;
    let mut parties = Vec::new();
    for reg in dir.registrations_of_school(from)? {
        if !reg.allowed || here.iter().any(|h| h.rp_id == reg.rp_id && h.allowed) {
            continue;
        }
        let Some(rp) = dir.relying_party(reg.rp_id)?.filter(|rp| rp.enabled) else {
            continue;
        };
        let change = RegistrationChange {
            school: *into,
            rp_id: rp.id,
            allowed: true,
            release: reg.release,
            home_allowed: reg.home_allowed,
        };
        parties.push((rp, change));
    }
    parties.sort_by_key(|(rp, _)| rp.name.to_lowercase());
    let mut networks: Vec<Upstream> = dir
        .upstreams()?
        .into_iter()
        .filter(|u| u.schools.contains(from) && !u.schools.contains(into))
        .collect();
    networks.sort_by_key(|u| u.name.to_lowercase());
    Ok(Offer {
        from: from_school,
        parties,
        networks,
    })
}

/// What taking an offer over changed, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct United {
    /// The merged school's name.
    pub school: String,
    pub parties: Vec<String>,
    pub networks: Vec<String>,
}

/// Take over the consents `from` offers: `None` (nothing written) when there is no such offer
/// for this coordinator's school (any more, after a second click).
pub fn accept(
    dir: &dyn Directory,
    clock: &dyn Clock,
    c: &Coordinator,
    from: &InstellingRef,
) -> Result<Option<United>> {
    if !dir.merger_offers(c.school())?.contains(from) {
        return Ok(None);
    }
    let offer = offer(dir, c.school(), from)?;
    let now = clock.now_secs();
    let line = |action, subject: String, details| {
        AuditEvent::record(
            action,
            c.actor(),
            now,
            Some(*c.school()),
            Some(subject),
            details,
        )
    };
    let united = United {
        school: offer.from.name.clone(),
        parties: offer
            .parties
            .iter()
            .map(|(rp, _)| rp.name.clone())
            .collect(),
        networks: offer.networks.iter().map(|u| u.name.clone()).collect(),
    };
    let mut audit = vec![line(
        AuditAction::SchoolMergerConsents,
        from.to_string(),
        serde_json::json!({
            "relying_parties": offer.parties.iter().map(|(rp, _)| rp.public_id()).collect::<Vec<_>>(),
            "upstreams": united.networks,
        }),
    )];
    for (rp, change) in &offer.parties {
        audit.push(line(
            AuditAction::RegistrationRegister,
            rp.public_id().to_string(),
            serde_json::json!({"release": change.release, "home_allowed": change.home_allowed,
                "merged_from": from}),
        ));
    }
    let changes: Vec<RegistrationChange> = offer.parties.into_iter().map(|(_, ch)| ch).collect();
    let upstreams: Vec<uuid::Uuid> = offer.networks.iter().map(|u| u.id).collect();
    let done = dir.accept_merger_offer(c.school(), from, &changes, &upstreams, audit)?;
    Ok(done.then_some(united))
}
