//! The diff: what is stored at a school against what a door delivered, as an [`ImportPlan`]
//! and the report that counts it. Nothing here writes.

use std::collections::{HashMap, HashSet};

use claims::{EckId, Role};
use uuid::Uuid;

use super::{Counts, ImportError, ImportReport, Incoming, IncomingPerson, Warning};
use crate::admin::Credentials;
use crate::model::{Group, PupilAuth, School, User, UserStatus};
use crate::repo::{Directory, ImportPlan, NewUser, PersonUpdate};

/// Records an import brought (and so may deactivate when a later file no longer lists them).
pub const IMPORT_SOURCES: [&str; 3] = ["edexml", "las", "spreadsheet"];

/// The plan for `incoming` at `school`, and its report. New pupils get a PIN (sealed for
/// their teacher to show) only when `dry_run` is false.
pub fn plan(
    dir: &dyn Directory,
    secrets: &Credentials<'_>,
    school: &School,
    incoming: Incoming,
    dry_run: bool,
) -> Result<(ImportPlan, ImportReport), ImportError> {
    let r = school.instelling_ref;
    let mut warnings = incoming.warnings.clone();
    let mut p = ImportPlan::default();
    let (mut added, mut changed, mut removed) =
        (Counts::default(), Counts::default(), Counts::default());

    // Groups, by their LAS key.
    let stored_groups = dir.groups_of_school(&r)?;
    let by_key: HashMap<&str, &Group> = stored_groups.iter().map(|g| (g.key.as_str(), g)).collect();
    let mut group_id: HashMap<String, Uuid> = HashMap::new();
    for g in &incoming.groups {
        let wanted = |id| Group {
            id,
            school: r,
            key: g.key.clone(),
            name: g.name.clone(),
            jaargroep: g.jaargroep,
            composite: g.composite,
            school_year: incoming.school_year.clone(),
        };
        match by_key.get(g.key.as_str()) {
            Some(old) => {
                let now = wanted(old.id);
                if **old != now {
                    p.changed_groups.push(now);
                    changed.groups += 1;
                }
                group_id.insert(g.key.clone(), old.id);
            }
            None => {
                let new = wanted(Uuid::new_v4());
                group_id.insert(g.key.clone(), new.id);
                p.new_groups.push(new);
                added.groups += 1;
            }
        }
    }
    let running: HashSet<Uuid> = dir
        .substitutions_of_school(&r)?
        .iter()
        .map(|s| s.group)
        .collect();
    for g in &stored_groups {
        if group_id.contains_key(&g.key) {
            continue;
        }
        if running.contains(&g.id) {
            warnings.push(Warning::GroupKept { key: g.key.clone() });
            continue;
        }
        p.removed_groups.push(g.id);
        removed.groups += 1;
    }

    // People: by ECK-iD, else by LAS key; staff added by hand also by their e-mail address.
    let stored = dir.users_of_school(&r)?;
    let live: Vec<&User> = stored
        .iter()
        .filter(|u| u.status != UserStatus::Removed)
        .collect();
    let by_eck: HashMap<&str, &User> = live
        .iter()
        .filter_map(|u| u.eck_id.as_ref().map(|e| (e.as_str(), *u)))
        .collect();
    let by_las: HashMap<(bool, &str), &User> = live
        .iter()
        .filter_map(|u| u.las_key.as_deref().map(|k| ((u.is_pupil(), k), *u)))
        .collect();
    let by_email: HashMap<&str, &User> = live
        .iter()
        .filter(|u| u.las_key.is_none() && !u.is_pupil())
        .filter_map(|u| u.email.as_deref().map(|e| (e, *u)))
        .collect();
    let mut seen: HashSet<Uuid> = HashSet::new();
    let people = incoming
        .pupils
        .iter()
        .map(|p| (true, p))
        .chain(incoming.teachers.iter().map(|t| (false, t)));
    for (pupil, person) in people {
        let groups: Vec<Uuid> = person
            .groups
            .iter()
            .filter_map(|k| group_id.get(k).copied())
            .collect();
        let found = person
            .eck_id
            .as_ref()
            .and_then(|e| by_eck.get(e.as_str()))
            .or_else(|| by_las.get(&(pupil, person.las_key.as_str())))
            .or_else(|| {
                person
                    .email
                    .as_deref()
                    .filter(|_| !pupil)
                    .and_then(|e| by_email.get(e))
            })
            .copied();
        let count = |c: &mut Counts| {
            if pupil {
                c.pupils += 1;
            } else {
                c.teachers += 1;
            }
        };
        match found {
            Some(u) if u.is_pupil() != pupil => {
                warnings.push(Warning::OtherKind { line: person.line });
            }
            Some(u) => {
                if !seen.insert(u.id) {
                    warnings.push(Warning::SamePerson { line: person.line });
                    continue;
                }
                if let Some(update) = update_of(u, person, groups, incoming.source) {
                    p.changed_people.push(update);
                    count(&mut changed);
                }
            }
            None => {
                let eck_id = match &person.eck_id {
                    Some(e) if dir.user_by_eck_id(e)?.is_some() => {
                        warnings.push(Warning::EckIdElsewhere { line: person.line });
                        None
                    }
                    other => other.clone(),
                };
                let email = match &person.email {
                    Some(e) if dir.user_by_email(e)?.is_some() => {
                        warnings.push(Warning::EmailTaken { line: person.line });
                        None
                    }
                    other => other.clone(),
                };
                let new = new_person(school, person, eck_id, email, groups, incoming.source);
                let new = if pupil && !dry_run {
                    with_pin(new, secrets)?
                } else {
                    NewUser {
                        user: new,
                        secret_sealed: None,
                    }
                };
                p.new_people.push(new);
                count(&mut added);
            }
        }
    }
    for u in &live {
        let brought = IMPORT_SOURCES.contains(&u.source.as_str());
        let here = matches!(u.status, UserStatus::Active | UserStatus::Inactive);
        let substitute = u.roles.contains(&Role::Invalkracht);
        if brought && here && !substitute && !seen.contains(&u.id) {
            p.left_people.push(u.id);
            if u.is_pupil() {
                removed.pupils += 1;
            } else {
                removed.teachers += 1;
            }
        }
    }
    let report = ImportReport {
        source: incoming.source,
        edexml_version: incoming.format_version,
        school_year: incoming.school_year,
        dry_run,
        added,
        changed,
        removed,
        warnings,
    };
    Ok((p, report))
}

/// What changes for a known person, if anything.
fn update_of(
    u: &User,
    person: &IncomingPerson,
    mut groups: Vec<Uuid>,
    source: &str,
) -> Option<PersonUpdate> {
    groups.sort_unstable();
    let mut had = u.group_ids.clone();
    had.sort_unstable();
    let add_roles: Vec<Role> = person
        .roles
        .iter()
        .filter(|r| !u.roles.contains(r))
        .copied()
        .collect();
    let eck_id: Option<EckId> = person.eck_id.clone().or_else(|| u.eck_id.clone());
    let email = if u.is_pupil() {
        None
    } else {
        person.email.clone().or_else(|| u.email.clone())
    };
    let update = PersonUpdate {
        id: u.id,
        las_key: Some(person.las_key.clone()),
        eck_id,
        given_name: person.given_name.clone(),
        family_name: person.family_name.clone(),
        email,
        group_ids: groups,
        add_roles,
        returns: u.status == UserStatus::Left,
        source: source.to_string(),
    };
    let same = update.las_key == u.las_key
        && update.eck_id == u.eck_id
        && update.given_name == u.given_name
        && update.family_name == u.family_name
        && (u.is_pupil() || update.email == u.email)
        && update.group_ids == had
        && update.add_roles.is_empty()
        && !update.returns;
    (!same).then_some(update)
}

fn new_person(
    school: &School,
    person: &IncomingPerson,
    eck_id: Option<EckId>,
    email: Option<String>,
    group_ids: Vec<Uuid>,
    source: &str,
) -> User {
    let pupil = person.roles.iter().any(|r| r.is_pupil());
    User {
        id: Uuid::new_v4(),
        school: school.instelling_ref,
        roles: person.roles.clone(),
        las_key: Some(person.las_key.clone()),
        eck_id,
        given_name: person.given_name.clone(),
        family_name: person.family_name.clone(),
        email: if pupil { None } else { email },
        // Pupils sign in with their PIN at once; teachers once they activate by mail.
        status: if pupil {
            UserStatus::Active
        } else {
            UserStatus::Inactive
        },
        picture: None,
        pupil_auth: pupil.then_some(PupilAuth::Pin),
        pin_hash: None,
        picture_password_hash: None,
        password_hash: None,
        source: source.to_string(),
        group_ids,
    }
}

/// A new pupil with a PIN of their own, sealed for their teacher to show.
fn with_pin(mut user: User, secrets: &Credentials<'_>) -> Result<NewUser, ImportError> {
    let pin = crate::secrets::random_pin().map_err(crate::admin::AdminError::from)?;
    user.pin_hash = Some(secrets.hash_pin(&pin)?);
    let sealed = secrets.seal(user.id, &pin)?;
    Ok(NewUser {
        user,
        secret_sealed: Some(sealed),
    })
}
