//! The diff: what is stored at a school against what a door delivered, as an [`ImportPlan`]
//! and the report that counts it. Nothing here writes.

use std::collections::{HashMap, HashSet};

use claims::{EckId, Role};
use uuid::Uuid;

use super::{Counts, ImportError, ImportReport, Incoming, IncomingPerson, Warning};
use crate::admin::Credentials;
use crate::model::{Group, PupilAuth, School, User, UserStatus};
use crate::repo::{Directory, ImportPlan, InUse, NewUser, PersonUpdate};

/// Records an import brought (and so may deactivate when a later file no longer lists them).
pub const IMPORT_SOURCES: [&str; 4] = ["edexml", "las", "spreadsheet", "uwlr"];

/// The plan for `incoming` at `school`, and its report. New pupils get a PIN (sealed for
/// their teacher to show) only when `dry_run` is false.
pub fn plan(
    dir: &dyn Directory,
    secrets: &Credentials<'_>,
    school: &School,
    incoming: Incoming,
    dry_run: bool,
) -> Result<(ImportPlan, ImportReport), ImportError> {
    let mut pl = Planner {
        dir,
        school,
        p: ImportPlan::default(),
        added: Counts::default(),
        changed: Counts::default(),
        removed: Counts::default(),
        warnings: incoming.warnings.clone(),
        to_welcome: Vec::new(),
        in_use: in_use(dir, &incoming)?,
    };
    let group_id = pl.groups(&incoming)?;
    let stored = dir.users_of_school(&school.instelling_ref)?;
    let live: Vec<&User> = stored
        .iter()
        .filter(|u| u.status != UserStatus::Removed)
        .collect();
    let known = Known::of(&live);
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
        match known.find(pupil, person) {
            Some(u) if u.is_pupil() != pupil => {
                pl.warnings.push(Warning::OtherKind { line: person.line });
            }
            Some(u) if !seen.insert(u.id) => {
                pl.warnings.push(Warning::SamePerson { line: person.line });
            }
            Some(u) => {
                if let Some(update) = update_of(u, person, groups, incoming.source) {
                    pl.p.changed_people.push(update);
                    count(&mut pl.changed, pupil);
                }
            }
            None => {
                let new = pl.new_entry(person, groups, incoming.source)?;
                if !pupil && new.email.is_some() {
                    pl.to_welcome.push(new.id);
                }
                let new = if pupil && !dry_run {
                    with_pin(new, secrets)?
                } else {
                    NewUser {
                        user: new,
                        secret_sealed: None,
                    }
                };
                pl.p.new_people.push(new);
                count(&mut pl.added, pupil);
            }
        }
    }
    pl.leavers(&live, &seen);
    let report = ImportReport {
        source: incoming.source,
        edexml_version: incoming.format_version,
        school_year: incoming.school_year,
        dry_run,
        added: pl.added,
        changed: pl.changed,
        removed: pl.removed,
        warnings: pl.warnings,
        staged: None,
        to_welcome: pl.to_welcome,
    };
    Ok((pl.p, report))
}

/// One more pupil or teacher in `c`.
fn count(c: &mut Counts, pupil: bool) {
    if pupil {
        c.pupils += 1;
    } else {
        c.teachers += 1;
    }
}

/// The plan as it is made, and its counts.
struct Planner<'a> {
    dir: &'a dyn Directory,
    school: &'a School,
    p: ImportPlan,
    added: Counts,
    changed: Counts,
    removed: Counts,
    warnings: Vec<Warning>,
    to_welcome: Vec<Uuid>,
    /// The file's ECK-iDs and e-mail addresses that someone has already.
    in_use: InUse,
}

/// Which of the ECK-iDs and e-mail addresses in `incoming` belong to someone already: two
/// queries for the whole file, not two per new person.
fn in_use(dir: &dyn Directory, incoming: &Incoming) -> Result<InUse, ImportError> {
    let people = incoming.pupils.iter().chain(&incoming.teachers);
    let eck_ids: Vec<&str> = people
        .clone()
        .filter_map(|p| p.eck_id.as_ref())
        .map(EckId::as_str)
        .collect();
    let emails: Vec<&str> = people.filter_map(|p| p.email.as_deref()).collect();
    Ok(dir.identifiers_in_use(&eck_ids, &emails)?)
}

impl Planner<'_> {
    /// Groups, by their LAS key: new, changed, and gone (unless a substitute works there).
    /// Returns every key of the file with its group's id.
    fn groups(&mut self, incoming: &Incoming) -> Result<HashMap<String, Uuid>, ImportError> {
        let r = self.school.instelling_ref;
        let stored = self.dir.groups_of_school(&r)?;
        let by_key: HashMap<&str, &Group> = stored.iter().map(|g| (g.key.as_str(), g)).collect();
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
            let id = match by_key.get(g.key.as_str()) {
                Some(old) => {
                    let now = wanted(old.id);
                    if **old != now {
                        self.p.changed_groups.push(now);
                        self.changed.groups += 1;
                    }
                    old.id
                }
                None => {
                    let new = wanted(Uuid::new_v4());
                    let id = new.id;
                    self.p.new_groups.push(new);
                    self.added.groups += 1;
                    id
                }
            };
            group_id.insert(g.key.clone(), id);
        }
        let running: HashSet<Uuid> = self
            .dir
            .substitutions_of_school(&r)?
            .iter()
            .map(|s| s.group)
            .collect();
        for g in stored.iter().filter(|g| !group_id.contains_key(&g.key)) {
            if running.contains(&g.id) {
                self.warnings
                    .push(Warning::GroupKept { key: g.key.clone() });
            } else {
                self.p.removed_groups.push(g.id);
                self.removed.groups += 1;
            }
        }
        Ok(group_id)
    }

    /// A person the school does not have yet — without an ECK-iD or e-mail address that is
    /// someone else's already.
    fn new_entry(
        &mut self,
        person: &IncomingPerson,
        groups: Vec<Uuid>,
        source: &str,
    ) -> Result<User, ImportError> {
        let eck_id = match &person.eck_id {
            Some(e) if self.in_use.eck_ids.contains(e.as_str()) => {
                self.warnings
                    .push(Warning::EckIdElsewhere { line: person.line });
                None
            }
            other => other.clone(),
        };
        let email = match &person.email {
            Some(e) if self.in_use.emails.contains(e.as_str()) => {
                self.warnings
                    .push(Warning::EmailTaken { line: person.line });
                None
            }
            other => other.clone(),
        };
        Ok(new_person(
            self.school,
            person,
            eck_id,
            email,
            groups,
            source,
        ))
    }

    /// People an import brought who are not in this file (`seen`): they have left.
    fn leavers(&mut self, live: &[&User], seen: &HashSet<Uuid>) {
        for u in live {
            let brought = IMPORT_SOURCES.contains(&u.source.as_str());
            let here = matches!(u.status, UserStatus::Active | UserStatus::Inactive);
            let substitute = u.roles.contains(&Role::Invalkracht);
            if brought && here && !substitute && !seen.contains(&u.id) {
                self.p.left_people.push(u.id);
                count(&mut self.removed, u.is_pupil());
            }
        }
    }
}

/// The school's people by what identifies them: ECK-iD, LAS key (per kind), and — for staff
/// added by hand, who have no key — e-mail address.
struct Known<'a> {
    by_eck: HashMap<&'a str, &'a User>,
    by_las: HashMap<(bool, &'a str), &'a User>,
    by_email: HashMap<&'a str, &'a User>,
}

impl<'a> Known<'a> {
    fn of(live: &[&'a User]) -> Self {
        Self {
            by_eck: live
                .iter()
                .filter_map(|u| u.eck_id.as_ref().map(|e| (e.as_str(), *u)))
                .collect(),
            by_las: live
                .iter()
                .filter_map(|u| u.las_key.as_deref().map(|k| ((u.is_pupil(), k), *u)))
                .collect(),
            by_email: live
                .iter()
                .filter(|u| u.las_key.is_none() && !u.is_pupil())
                .filter_map(|u| u.email.as_deref().map(|e| (e, *u)))
                .collect(),
        }
    }

    /// By ECK-iD, else by LAS key, else (staff) by e-mail address — never by name.
    fn find(&self, pupil: bool, person: &IncomingPerson) -> Option<&'a User> {
        person
            .eck_id
            .as_ref()
            .and_then(|e| self.by_eck.get(e.as_str()))
            .or_else(|| self.by_las.get(&(pupil, person.las_key.as_str())))
            .or_else(|| {
                person
                    .email
                    .as_deref()
                    .filter(|_| !pupil)
                    .and_then(|e| self.by_email.get(e))
            })
            .copied()
    }
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
