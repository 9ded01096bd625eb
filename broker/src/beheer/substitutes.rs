//! "Invalkrachten": every group has one anonymous substitute account (invalkracht), made when
//! it is first needed. On the day of a substitution the coordinator activates it for a person,
//! for 1, 2 or 5 school days: the account takes their name, they receive a sign-in link by
//! mail, and from then on they see the group's overview and its software. At the end access
//! stops, their name and address are wiped from the account, and the audit trail keeps that it
//! happened.
//!
//! Access ends on time on its own: the session a sign-in link starts ends at the substitution's
//! end, and the link stops working then. [`expire_due`] (run every minute by the server, and
//! whenever the list is read) wipes the personal data and ends whatever else is left.

use claims::{InstellingRef, Role};
use uuid::Uuid;

use super::{BeheerError, Refusal, Result};
use crate::admin::{self, Ctx};
use crate::audit::AuditAction;
use crate::clock::Clock;
use crate::model::{AuditEvent, Group, Substitution, User, UserStatus};
use crate::ports::{Letter, World};
use crate::repo::{Directory, NewUser, SubstitutionStart};
use crate::secrets::token_hash;
use crate::session::{self, Authenticated, SsoSession};
use crate::store::StoreError;

/// The lengths a substitution may have, in school days.
pub const DAYS: [u8; 3] = [1, 2, 5];
/// The `acr` of a sign-in with a substitute's mailed link.
pub const ACR_SUBSTITUTE_LINK: &str = "urn:leerpoort:acr:invalkracht-link";
/// The idle account's given name; its family name is the group's name.
pub const ANONYMOUS: &str = "Invalkracht";

/// The end of the `days`-th school day (Monday to Friday, Dutch time) counted from the day
/// of `now`: midnight after it. On a Saturday or Sunday the first school day is the Monday.
/// School holidays are not known to Leerpoort and count as school days.
pub fn until(now: i64, days: u8) -> i64 {
    use jiff::civil::Weekday;
    let Ok(tz) = jiff::tz::TimeZone::get("Europe/Amsterdam") else {
        return now + i64::from(days) * 86_400;
    };
    let Ok(ts) = jiff::Timestamp::from_second(now) else {
        return now + i64::from(days) * 86_400;
    };
    let mut day = ts.to_zoned(tz.clone()).date();
    let mut left = days.max(1);
    loop {
        let school_day = !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        if school_day {
            left -= 1;
            if left == 0 {
                break;
            }
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    day.tomorrow()
        .ok()
        .and_then(|d| d.to_zoned(tz).ok())
        .map_or(now + i64::from(days) * 86_400, |z| {
            z.timestamp().as_second()
        })
}

/// A group, its substitute account, and the substitution running on it, if any.
#[derive(Debug, Clone)]
pub struct Slot {
    pub group: Group,
    pub account: User,
    pub substitution: Option<Substitution>,
}

/// The group's substitute account, made (inactive, anonymous) when it has none yet.
pub fn account_of(ctx: Ctx<'_>, group: &Group) -> Result<User> {
    match ctx
        .dir
        .users_of_group(group.id)?
        .into_iter()
        .find(is_substitute)
    {
        Some(u) => Ok(u),
        None => make_account(ctx, group),
    }
}

fn is_substitute(u: &User) -> bool {
    u.roles.contains(&Role::Invalkracht) && u.status != UserStatus::Removed
}

/// A new, inactive and anonymous substitute account for `group`.
fn make_account(ctx: Ctx<'_>, group: &Group) -> Result<User> {
    let id = Uuid::new_v4();
    let now = ctx.clock.now_secs();
    let audit = AuditEvent::record(
        AuditAction::UserAdd,
        ctx.actor,
        now,
        Some(group.school),
        Some(id.to_string()),
        serde_json::json!({"roles": ["invalkracht"], "group": group.key}),
    );
    Ok(ctx.dir.insert_user(
        NewUser {
            user: User {
                id,
                school: group.school,
                roles: vec![Role::Invalkracht],
                las_key: None,
                eck_id: None,
                given_name: ANONYMOUS.into(),
                family_name: group.name.clone(),
                email: None,
                status: UserStatus::Inactive,
                picture: None,
                pupil_auth: None,
                pin_hash: None,
                picture_password_hash: None,
                password_hash: None,
                source: "substitute".into(),
                group_ids: vec![group.id],
            },
            secret_sealed: None,
        },
        now,
        audit,
    )?)
}

/// Every group of the school with its substitute account (made where missing) and its
/// substitution; ended substitutions are wiped first.
pub fn slots(ctx: Ctx<'_>, school: &InstellingRef) -> Result<Vec<Slot>> {
    expire_due(ctx.dir, ctx.clock)?;
    let running = ctx.dir.substitutions_of_school(school)?;
    // The school's users once, not a query per group.
    let accounts: Vec<User> = ctx
        .dir
        .users_of_school(school)?
        .into_iter()
        .filter(is_substitute)
        .collect();
    let mut out = Vec::new();
    for group in ctx.dir.groups_of_school(school)? {
        let account = match accounts.iter().find(|u| u.group_ids.contains(&group.id)) {
            Some(u) => u.clone(),
            None => make_account(ctx, &group)?,
        };
        let substitution = running.iter().find(|s| s.user == account.id).cloned();
        out.push(Slot {
            group,
            account,
            substitution,
        });
    }
    Ok(out)
}

/// Who substitutes, as the coordinator (or the operator) enters them.
#[derive(Debug, Clone)]
pub struct Substitute {
    /// Full name: the first word is the given name.
    pub name: String,
    pub email: String,
    pub days: u8,
}

/// A substitution started.
#[derive(Debug, Clone)]
pub struct Activated {
    pub account: User,
    pub group: Group,
    pub until: i64,
    /// The sign-in link went out by mail.
    pub link_sent: bool,
}

/// Activate `group`'s substitute account for `who`. The group must be the school's own
/// (otherwise [`BeheerError::NotFound`]). A running substitution of the group passes to the
/// new person: the previous one's link and sessions end.
pub fn activate(
    w: &World,
    ctx: Ctx<'_>,
    school: &InstellingRef,
    group: Uuid,
    who: Substitute,
    activated_by: Option<Uuid>,
) -> Result<Activated> {
    let group = ctx
        .dir
        .group(group)?
        .filter(|g| &g.school == school)
        .ok_or(BeheerError::NotFound)?;
    let school_row = ctx.active_school(school)?;
    if !DAYS.contains(&who.days) {
        return Err(BeheerError::Refused(Refusal::DaysNotAllowed));
    }
    let (given, family) = who
        .name
        .trim()
        .split_once(char::is_whitespace)
        .map(|(g, f)| (g.trim().to_string(), f.trim().to_string()))
        .filter(|(g, f)| !g.is_empty() && !f.is_empty())
        .ok_or(BeheerError::Refused(Refusal::NameMissing))?;
    let email = admin::normalise_email(&who.email)
        .map_err(|_| BeheerError::Refused(Refusal::EmailInvalid))?;
    let account = account_of(ctx, &group)?;
    let now = ctx.clock.now_secs();
    let until = until(now, who.days);
    let token = crate::random::random_token().map_err(|e| BeheerError::Admin(e.into()))?;
    let audit = AuditEvent::record(
        AuditAction::SubstituteActivate,
        ctx.actor,
        now,
        Some(*school),
        Some(account.id.to_string()),
        serde_json::json!({"group": group.key, "days": who.days, "until": until}),
    );
    let account = ctx.dir.start_substitution(
        SubstitutionStart {
            substitution: Substitution {
                user: account.id,
                school: *school,
                group: group.id,
                email: email.clone(),
                days: who.days,
                starts_at: now,
                until,
                activated_by,
            },
            given_name: given,
            family_name: family,
            token_hash: token_hash(&token),
        },
        audit,
    )?;
    let letter = Letter::SubstituteSignIn {
        to: email,
        name: account.display_name(),
        group: group.name.clone(),
        school: school_row.name,
        until,
        link: format!("{}/invalkracht/{token}", w.issuer),
    };
    let link_sent = match w.outbox.send(&letter) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "substitute: the sign-in link was not sent");
            false
        }
    };
    Ok(Activated {
        account,
        group,
        until,
        link_sent,
    })
}

/// End a substitution of the school before its time.
pub fn end(ctx: Ctx<'_>, school: &InstellingRef, account: Uuid) -> Result<User> {
    let s = ctx
        .dir
        .substitution(account)?
        .filter(|s| &s.school == school)
        .ok_or(BeheerError::NotFound)?;
    finish(
        ctx.dir,
        ctx.clock,
        &s,
        AuditAction::SubstituteEnd,
        ctx.actor,
    )
}

/// End every substitution whose time has come (all schools): access stops and the person's
/// data are wiped. Returns how many ended.
pub fn expire_due(dir: &dyn Directory, clock: &dyn Clock) -> Result<usize> {
    let due = dir.due_substitutions(clock.now_secs())?;
    for s in &due {
        finish(dir, clock, s, AuditAction::SubstituteExpired, "system")?;
    }
    Ok(due.len())
}

fn finish(
    dir: &dyn Directory,
    clock: &dyn Clock,
    s: &Substitution,
    why: AuditAction,
    actor: &str,
) -> Result<User> {
    let group_name = dir.group(s.group)?.map(|g| g.name).unwrap_or_default();
    let audit = AuditEvent::record(
        why,
        actor,
        clock.now_secs(),
        Some(s.school),
        Some(s.user.to_string()),
        serde_json::json!({"days": s.days, "until": s.until}),
    );
    Ok(dir.end_substitution(s.user, (ANONYMOUS, &group_name), audit)?)
}

/// The substitution a sign-in link belongs to, while it runs (`None`: unknown, malformed or
/// ended — the same answer).
pub fn by_link(dir: &dyn Directory, token: &str, now: i64) -> Result<Option<Substitution>> {
    if token.is_empty()
        || token.len() > 64
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(None);
    }
    Ok(dir
        .substitution_by_token(&token_hash(token))?
        .filter(|s| s.until > now))
}

/// Sign in with a substitute's link: a session for the group's account that ends when the
/// substitution does. `None` when the link is unknown or its time is over.
pub fn sign_in(
    w: &World,
    token: &str,
    ip: Option<&str>,
    previous_sid: Option<&str>,
) -> std::result::Result<Option<SsoSession>, StoreError> {
    let now = w.now();
    let repo = |e: BeheerError| StoreError::Unavailable(format!("directory: {e}"));
    let Some(s) = by_link(w.dir, token, now).map_err(repo)? else {
        return Ok(None);
    };
    let who = Authenticated::at_school(s.user, s.school, &["mail"], ACR_SUBSTITUTE_LINK, ip);
    let mut session = session::start_with_idle(w.store, who, now, previous_sid, 0)?;
    if session.expires_at > s.until {
        session.expires_at = s.until;
        session::save(w.store, &session, now)?;
    }
    Ok(Some(session))
}

#[cfg(test)]
mod tests {
    use super::until;

    /// 2026-12-07 is a Monday; 09:00 in Amsterdam is 08:00 UTC.
    const MONDAY_9: i64 = 1_796_630_400;

    fn local(at: i64) -> String {
        catalogue::local_time(at, "%a %Y-%m-%d %H:%M")
    }

    #[test]
    fn school_days_skip_the_weekend_and_end_at_midnight() {
        assert_eq!(local(MONDAY_9), "Mon 2026-12-07 09:00");
        assert_eq!(local(until(MONDAY_9, 1)), "Tue 2026-12-08 00:00");
        assert_eq!(local(until(MONDAY_9, 5)), "Sat 2026-12-12 00:00");
        let friday = MONDAY_9 + 4 * 86_400;
        assert_eq!(local(until(friday, 1)), "Sat 2026-12-12 00:00");
        assert_eq!(local(until(friday, 2)), "Tue 2026-12-15 00:00");
        let saturday = MONDAY_9 + 5 * 86_400;
        assert_eq!(local(until(saturday, 1)), "Tue 2026-12-15 00:00");
    }
}
