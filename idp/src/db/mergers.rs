//! [`broker::repo::Mergers`] on diesel: a merger or a split in one transaction, and the
//! consents a merged school offers (`merger_offers`).

use std::collections::HashMap;

use broker::model::{AuditEvent, School, SchoolStatus, UserStatus};
use broker::repo::{
    Join, MergerPerson, MergerPlan, Mergers, RegistrationChange, RepoError, RepoResult, SplitPlan,
    Users,
};
use claims::InstellingRef;
use diesel::prelude::*;
use uuid::Uuid;

use super::audit::write_audit;
use super::directory::{parse_ref, to_json_list, DieselDirectory, TxError};
use super::schema::{
    devices, dynamic_ip, group_members, merger_offers, registrations, school_groups, schools,
    staff_totp, substitutions, thuis_links, upstream_schools, user_roles, users,
};
use super::schools::load_school;
use super::DbConnection;

/// The school `r` (loaded in the transaction), which must still be active.
fn require_active(c: &mut DbConnection, r: &str) -> Result<School, TxError> {
    match load_school(c, r)? {
        Some(s) if s.status == SchoolStatus::Active => Ok(s),
        Some(_) => Err(RepoError::Conflict(format!("school {r} is no longer active")).into()),
        None => Err(RepoError::NotFound(format!("no school with INSTELLING_REF {r}")).into()),
    }
}

fn write_all(c: &mut DbConnection, audit: Vec<AuditEvent>) -> Result<(), TxError> {
    for line in audit {
        write_audit(c, line)?;
    }
    Ok(())
}

/// The moment of a change: its first audit line's.
fn moment(audit: &[AuditEvent]) -> RepoResult<i64> {
    audit
        .first()
        .map(|a| a.at)
        .ok_or_else(|| RepoError::Backend("a merger or split without its audit line".into()))
}

/// Join `j.joined` into `j.keeper`: the joined record becomes a tombstone (as `user remove`
/// leaves one), its memberships, home addresses, roles and devices pass to the keeper, and the
/// keeper takes what it lacked.
fn apply_join(c: &mut DbConnection, j: &Join, now: i64) -> Result<(), TxError> {
    let (keeper, joined) = (j.keeper.to_string(), j.joined.to_string());
    let theirs: Vec<String> = group_members::table
        .filter(group_members::user_id.eq(&joined))
        .select(group_members::group_id)
        .load(c)?;
    let mine: Vec<String> = group_members::table
        .filter(group_members::user_id.eq(&keeper))
        .select(group_members::group_id)
        .load(c)?;
    for g in theirs.iter().filter(|g| !mine.contains(g)) {
        diesel::insert_into(group_members::table)
            .values((
                group_members::group_id.eq(g),
                group_members::user_id.eq(&keeper),
            ))
            .execute(c)?;
    }
    diesel::delete(group_members::table.filter(group_members::user_id.eq(&joined))).execute(c)?;
    let links: Vec<(String, i64)> = thuis_links::table
        .filter(thuis_links::user_id.eq(&joined))
        .select((thuis_links::account_id, thuis_links::created_at))
        .load(c)?;
    let have: Vec<String> = thuis_links::table
        .filter(thuis_links::user_id.eq(&keeper))
        .select(thuis_links::account_id)
        .load(c)?;
    for (account, at) in links.iter().filter(|(a, _)| !have.contains(a)) {
        diesel::insert_into(thuis_links::table)
            .values((
                thuis_links::account_id.eq(account),
                thuis_links::user_id.eq(&keeper),
                thuis_links::created_at.eq(at),
            ))
            .execute(c)?;
    }
    diesel::delete(thuis_links::table.filter(thuis_links::user_id.eq(&joined))).execute(c)?;
    for role in &j.add_roles {
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(&keeper),
                user_roles::role.eq(role.to_string()),
            ))
            .execute(c)?;
    }
    diesel::update(devices::table.filter(devices::enrolled_by.eq(&joined)))
        .set(devices::enrolled_by.eq(&keeper))
        .execute(c)?;
    tombstone(c, &joined, now)?;
    fill_keeper(c, j, &keeper, now)
}

/// The joined record as `user remove` leaves a user: no personal data, no secrets, no sign-in;
/// the id stays, so its pseudonyms are never given to anyone else.
fn tombstone(c: &mut DbConnection, id: &str, now: i64) -> Result<(), TxError> {
    super::users::erase_personal_data(c, id, now)?;
    diesel::delete(staff_totp::table.filter(staff_totp::user_id.eq(id))).execute(c)?;
    Ok(())
}

/// What the keeper lacked, from the joined record (which no longer holds it).
fn fill_keeper(c: &mut DbConnection, j: &Join, keeper: &str, now: i64) -> Result<(), TxError> {
    let target = || users::table.find(keeper);
    if let Some(key) = &j.las_key {
        diesel::update(target())
            .set(users::las_key.eq(key))
            .execute(c)?;
    }
    if let Some(eck) = &j.eck_id {
        diesel::update(target())
            .set(users::eck_id.eq(eck.as_str()))
            .execute(c)?;
    }
    if let Some(email) = &j.email {
        diesel::update(target())
            .set(users::email.eq(email.to_lowercase()))
            .execute(c)?;
    }
    if let Some(hash) = &j.password_hash {
        diesel::update(target())
            .set(users::password_hash.eq(hash))
            .execute(c)?;
    }
    if j.activate {
        diesel::update(target())
            .set(users::status.eq(UserStatus::Active.as_str()))
            .execute(c)?;
    }
    if j.returns {
        diesel::update(target().filter(users::left_at.is_not_null()))
            .set((
                users::offboarded.eq(None::<String>),
                users::left_at.eq(None::<i64>),
            ))
            .execute(c)?;
    }
    diesel::update(target())
        .set(users::updated_at.eq(now))
        .execute(c)?;
    Ok(())
}

/// `from`'s Dynamic IP (its update token and reported address) becomes `into`'s.
fn move_dynamic_ip(c: &mut DbConnection, from: &str, into: &str) -> Result<(), TxError> {
    let address: Option<String> = schools::table
        .find(from)
        .select(schools::dynamic_network)
        .first(c)?;
    diesel::update(dynamic_ip::table.find(from))
        .set(dynamic_ip::school_ref.eq(into))
        .execute(c)?;
    diesel::update(schools::table.find(into))
        .set(schools::dynamic_network.eq(address))
        .execute(c)?;
    diesel::update(schools::table.find(from))
        .set(schools::dynamic_network.eq(None::<String>))
        .execute(c)?;
    Ok(())
}

/// Everything of `from` moves to `into`; see [`Mergers::merge_schools`].
fn apply_merger(c: &mut DbConnection, plan: &MergerPlan, now: i64) -> Result<(), TxError> {
    let (from, into) = (plan.from.to_string(), plan.into.to_string());
    require_active(c, &from)?;
    require_active(c, &into)?;
    for g in &plan.renamed_groups {
        diesel::update(
            school_groups::table
                .find(g.id.to_string())
                .filter(school_groups::school_ref.eq(&from)),
        )
        .set((
            school_groups::las_key.eq(&g.key),
            school_groups::name.eq(&g.name),
            school_groups::updated_at.eq(now),
        ))
        .execute(c)?;
    }
    diesel::update(school_groups::table.filter(school_groups::school_ref.eq(&from)))
        .set((
            school_groups::school_ref.eq(&into),
            school_groups::updated_at.eq(now),
        ))
        .execute(c)?;
    for r in &plan.rekeyed {
        diesel::update(
            users::table
                .find(r.user.to_string())
                .filter(users::school_ref.eq(&from)),
        )
        .set(users::las_key.eq(&r.las_key))
        .execute(c)?;
    }
    for j in &plan.joins {
        apply_join(c, j, now)?;
    }
    diesel::update(users::table.filter(users::school_ref.eq(&from)))
        .set((users::school_ref.eq(&into), users::updated_at.eq(now)))
        .execute(c)?;
    diesel::update(substitutions::table.filter(substitutions::school_ref.eq(&from)))
        .set(substitutions::school_ref.eq(&into))
        .execute(c)?;
    diesel::update(devices::table.filter(devices::school_ref.eq(&from)))
        .set(devices::school_ref.eq(&into))
        .execute(c)?;
    if plan.move_dynamic_ip {
        move_dynamic_ip(c, &from, &into)?;
    }
    let networks: Vec<String> = plan.networks.iter().map(|n| n.to_string()).collect();
    diesel::update(schools::table.find(&into))
        .set((
            schools::networks.eq(to_json_list(&networks)),
            schools::updated_at.eq(now),
        ))
        .execute(c)?;
    diesel::update(schools::table.find(&from))
        .set((
            schools::status.eq("merged"),
            schools::merged_into.eq(Some(&into)),
            schools::updated_at.eq(now),
        ))
        .execute(c)?;
    // Offers of schools that merged into `from` before wait at `into` from now on.
    diesel::update(merger_offers::table.filter(merger_offers::school_ref.eq(&from)))
        .set(merger_offers::school_ref.eq(&into))
        .execute(c)?;
    if plan.offer_consents {
        diesel::insert_into(merger_offers::table)
            .values((
                merger_offers::school_ref.eq(&into),
                merger_offers::merged_ref.eq(&from),
                merger_offers::created_at.eq(now),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// Create or update a registration as `change` has it; `since` moves only when `allowed`
/// changes.
fn put_registration(
    c: &mut DbConnection,
    change: &RegistrationChange,
    now: i64,
) -> Result<(), TxError> {
    let (school, rp) = (change.school.to_string(), change.rp_id.to_string());
    let existing: Option<(bool, i64)> = registrations::table
        .find((&school, &rp))
        .select((registrations::allowed, registrations::since))
        .first(c)
        .optional()?;
    let since = match existing {
        Some((allowed, since)) if allowed == change.allowed => since,
        _ => now,
    };
    let values = (
        registrations::allowed.eq(change.allowed),
        registrations::release_eckid.eq(change.release.eckid),
        registrations::release_names.eq(change.release.names),
        registrations::release_groups.eq(change.release.groups),
        registrations::home_allowed.eq(change.home_allowed),
        registrations::since.eq(since),
        registrations::updated_at.eq(now),
    );
    if existing.is_some() {
        diesel::update(registrations::table.find((&school, &rp)))
            .set(values)
            .execute(c)?;
    } else {
        diesel::insert_into(registrations::table)
            .values((
                registrations::school_ref.eq(&school),
                registrations::rp_id.eq(&rp),
                values,
            ))
            .execute(c)?;
    }
    Ok(())
}

/// Let the network environments `upstreams` serve `school` (those that do already stay).
fn serve(c: &mut DbConnection, upstreams: &[Uuid], school: &str) -> Result<(), TxError> {
    for u in upstreams {
        let id = u.to_string();
        let there: i64 = upstream_schools::table
            .filter(upstream_schools::upstream_id.eq(&id))
            .filter(upstream_schools::school_ref.eq(school))
            .count()
            .get_result(c)?;
        if there == 0 {
            diesel::insert_into(upstream_schools::table)
                .values((
                    upstream_schools::upstream_id.eq(&id),
                    upstream_schools::school_ref.eq(school),
                ))
                .execute(c)?;
        }
    }
    Ok(())
}

/// The new school, and the groups and people that move to it; see [`Mergers::split_school`].
fn apply_split(c: &mut DbConnection, plan: &SplitPlan, now: i64) -> Result<School, TxError> {
    let from = plan.from.to_string();
    require_active(c, &from)?;
    let s = &plan.school;
    let new = s.instelling_ref.to_string();
    let networks: Vec<String> = s.networks.iter().map(|n| n.to_string()).collect();
    diesel::insert_into(schools::table)
        .values((
            schools::instelling_ref.eq(&new),
            schools::board_id.eq(s.board_id.map(|b| b.to_string())),
            schools::brin6.eq(s.brin6.to_string()),
            schools::name.eq(&s.name),
            schools::status.eq("active"),
            schools::networks.eq(to_json_list(&networks)),
            schools::created_at.eq(now),
            schools::updated_at.eq(now),
        ))
        .execute(c)?;
    let groups: Vec<String> = plan.groups.iter().map(Uuid::to_string).collect();
    let n = diesel::update(
        school_groups::table
            .filter(school_groups::id.eq_any(&groups))
            .filter(school_groups::school_ref.eq(&from)),
    )
    .set((
        school_groups::school_ref.eq(&new),
        school_groups::updated_at.eq(now),
    ))
    .execute(c)?;
    if n != groups.len() {
        return Err(RepoError::NotFound("a group of the split is gone".into()).into());
    }
    let stay: Vec<String> = plan.stay.iter().map(Uuid::to_string).collect();
    diesel::delete(
        group_members::table
            .filter(group_members::user_id.eq_any(&stay))
            .filter(group_members::group_id.eq_any(&groups)),
    )
    .execute(c)?;
    let people: Vec<String> = plan.people.iter().map(Uuid::to_string).collect();
    diesel::update(
        users::table
            .filter(users::id.eq_any(&people))
            .filter(users::school_ref.eq(&from)),
    )
    .set((
        users::school_ref.eq(&new),
        users::revoked_at.eq(Some(now)),
        users::updated_at.eq(now),
    ))
    .execute(c)?;
    diesel::update(substitutions::table.filter(substitutions::user_id.eq_any(&people)))
        .set(substitutions::school_ref.eq(&new))
        .execute(c)?;
    for change in &plan.registrations {
        put_registration(c, change, now)?;
    }
    serve(c, &plan.upstreams, &new)?;
    load_school(c, &new)?
        .ok_or_else(|| RepoError::NotFound(format!("school {new} vanished")).into())
}

impl Mergers for DieselDirectory {
    fn merger_people(&self, school: &InstellingRef) -> RepoResult<Vec<MergerPerson>> {
        let people = self.users_of_school(school)?;
        let made: HashMap<String, i64> = self
            .read(|c| {
                Ok(users::table
                    .filter(users::school_ref.eq(school.to_string()))
                    .select((users::id, users::created_at))
                    .load::<(String, i64)>(c)?)
            })?
            .into_iter()
            .collect();
        Ok(people
            .into_iter()
            .map(|user| MergerPerson {
                created_at: made.get(&user.id.to_string()).copied().unwrap_or(i64::MAX),
                user,
            })
            .collect())
    }

    fn merge_schools(&self, plan: &MergerPlan, audit: Vec<AuditEvent>) -> RepoResult<()> {
        let now = moment(&audit)?;
        let done = self.tx(|c| {
            apply_merger(c, plan, now)?;
            write_all(c, audit)
        });
        self.school_cache.remove(&plan.from.to_string());
        self.school_cache.remove(&plan.into.to_string());
        self.user_cache.clear();
        done
    }

    fn split_school(&self, plan: &SplitPlan, audit: Vec<AuditEvent>) -> RepoResult<School> {
        let now = moment(&audit)?;
        let done = self.tx(|c| {
            let school = apply_split(c, plan, now)?;
            write_all(c, audit)?;
            Ok(school)
        });
        self.school_cache.remove(&plan.from.to_string());
        self.user_cache.clear();
        done
    }

    fn merger_offers(&self, into: &InstellingRef) -> RepoResult<Vec<InstellingRef>> {
        let refs: Vec<String> = self.read(|c| {
            Ok(merger_offers::table
                .filter(merger_offers::school_ref.eq(into.to_string()))
                .order((merger_offers::created_at, merger_offers::merged_ref))
                .select(merger_offers::merged_ref)
                .load(c)?)
        })?;
        refs.iter().map(|r| parse_ref(r)).collect()
    }

    fn accept_merger_offer(
        &self,
        into: &InstellingRef,
        from: &InstellingRef,
        registrations: &[RegistrationChange],
        upstreams: &[Uuid],
        audit: Vec<AuditEvent>,
    ) -> RepoResult<bool> {
        let now = moment(&audit)?;
        let school = into.to_string();
        if registrations.iter().any(|r| r.school != *into) {
            return Err(RepoError::NotFound(
                "a registration of another school".into(),
            ));
        }
        self.tx(|c| {
            let n = diesel::delete(
                merger_offers::table
                    .filter(merger_offers::school_ref.eq(&school))
                    .filter(merger_offers::merged_ref.eq(from.to_string())),
            )
            .execute(c)?;
            if n == 0 {
                return Ok(false);
            }
            require_active(c, &school)?;
            for change in registrations {
                put_registration(c, change, now)?;
            }
            serve(c, upstreams, &school)?;
            write_all(c, audit)?;
            Ok(true)
        })
    }
}
