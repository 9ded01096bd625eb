//! Mergers (fusie) and splits (splitsen) of schools, and the consents a merged school offers
//! the school it merged into: [`Mergers`].

use claims::{EckId, InstellingRef, Role};
use ipnet::IpNet;
use uuid::Uuid;

use super::{NewSchool, RegistrationChange, RepoResult};
use crate::model::{AuditEvent, School, User};

/// A user of a school with the moment their record was made: what a merger needs to choose,
/// always the same way, which of two records of one person keeps its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergerPerson {
    pub user: User,
    pub created_at: i64,
}

/// A group of the merging school whose key the other school already uses: it keeps its id and
/// its members, under a key and a name of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenamedGroup {
    pub id: Uuid,
    pub key: String,
    pub name: String,
}

/// A person of the merging school whose LAS key the other school already uses for someone
/// else: their new key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rekeyed {
    pub user: Uuid,
    pub las_key: String,
}

/// Two records of one person, joined: `keeper` keeps its id (and so every pseudonym made from
/// it); `joined` becomes a tombstone (status `removed`, no personal data), and its group
/// memberships, home addresses, roles and linked devices pass to the keeper. What the keeper
/// lacks and the joined record has passes too.
#[derive(Clone, PartialEq, Eq)]
pub struct Join {
    pub keeper: Uuid,
    pub joined: Uuid,
    /// The keeper had none: the joined record's LAS key, ECK-iD, e-mail address, password hash.
    pub las_key: Option<String>,
    pub eck_id: Option<EckId>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    /// The joined record was an activated account and the keeper was not yet: it becomes active.
    pub activate: bool,
    /// The keeper had left (an import no longer listed it) and the joined record had not: it
    /// is back.
    pub returns: bool,
    /// Roles of the joined record the keeper did not have.
    pub add_roles: Vec<Role>,
}

impl std::fmt::Debug for Join {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Join")
            .field("keeper", &self.keeper)
            .field("joined", &self.joined)
            .field("activate", &self.activate)
            .field("returns", &self.returns)
            .finish_non_exhaustive()
    }
}

/// Everything a merger of `from` into `into` changes, applied in one transaction.
#[derive(Debug, Clone)]
pub struct MergerPlan {
    pub from: InstellingRef,
    pub into: InstellingRef,
    pub renamed_groups: Vec<RenamedGroup>,
    pub rekeyed: Vec<Rekeyed>,
    pub joins: Vec<Join>,
    /// `into`'s networks from now on: its own and `from`'s.
    pub networks: Vec<IpNet>,
    /// `from` allowed relying parties or network environments: its consents wait for
    /// `into`'s ICT coordinator (see [`Mergers::accept_merger_offer`]).
    pub offer_consents: bool,
    /// `from` has Dynamic IP and `into` has not: `from`'s update token and address pass to
    /// `into`.
    pub move_dynamic_ip: bool,
}

/// Everything a split of groups from `from` into a new school changes, in one transaction.
#[derive(Debug, Clone)]
pub struct SplitPlan {
    pub from: InstellingRef,
    pub school: NewSchool,
    /// The groups that move, with their ids and members.
    pub groups: Vec<Uuid>,
    /// The people who move with their ids (all their groups move).
    pub people: Vec<Uuid>,
    /// People with groups on both sides: they stay, and leave the groups that move.
    pub stay: Vec<Uuid>,
    /// The new school's consents (relying parties), as `from` gave them.
    pub registrations: Vec<RegistrationChange>,
    /// The network environments that serve `from` and from now on serve the new school too.
    pub upstreams: Vec<Uuid>,
}

/// Mergers and splits.
pub trait Mergers {
    /// The users of `school` (removed ones left out), each with the moment it was made.
    fn merger_people(&self, school: &InstellingRef) -> RepoResult<Vec<MergerPerson>>;

    /// Carry out `plan`: every group and user of `from` moves to `into` with its id, the
    /// joins are made, `from` becomes merged into `into`, and every line of `audit` is
    /// written — in one transaction, or not at all. `from` and `into` must both still be
    /// active (otherwise `Conflict`).
    fn merge_schools(&self, plan: &MergerPlan, audit: Vec<AuditEvent>) -> RepoResult<()>;

    /// Carry out `plan`: the new school is made, the groups and people move to it with their
    /// ids (their sessions and tokens end), its consents are written, with every line of
    /// `audit`, in one transaction. `Conflict` when an active school has the BRIN6 already or
    /// `from` is no longer active.
    fn split_school(&self, plan: &SplitPlan, audit: Vec<AuditEvent>) -> RepoResult<School>;

    /// The schools merged into `into` whose consents wait for `into`'s coordinator, oldest
    /// first.
    fn merger_offers(&self, into: &InstellingRef) -> RepoResult<Vec<InstellingRef>>;

    /// Unite the consents `from` offers `into`: write `registrations` (each of `into`) and
    /// let `upstreams` serve `into` too, drop the offer, and write `audit` — in one
    /// transaction. `false` (nothing written) when there is no such offer (any more).
    fn accept_merger_offer(
        &self,
        into: &InstellingRef,
        from: &InstellingRef,
        registrations: &[RegistrationChange],
        upstreams: &[Uuid],
        audit: Vec<AuditEvent>,
    ) -> RepoResult<bool>;
}
