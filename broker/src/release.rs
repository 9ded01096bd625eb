//! One release policy for every protocol. OIDC and SAML both ask [`decide`] whether a user of a
//! school may be signed in to a relying party, and [`claim_set`] what it receives; neither
//! protocol has a copy of this logic.
//!
//! The per-school registration (school × relying party, keyed by INSTELLING_REF) decides:
//! whether SSO is allowed at all, which optional claims are released (ECK-iD, names, groups),
//! and whether home use is allowed. The relying party itself says for which audience (pupil or
//! teacher software) it is, and whether its publisher allows it at home.

use claims::{
    pairwise_subject, ClaimSet, GroupClaim, LoginContext, PairwiseSubject, PseudonymKey, Release,
    Role, Sector,
};
use serde::Serialize;

use crate::audit::AuditAction;
use crate::keyspace::{Key, Limit};
use crate::model::{AuditEvent, Group, Registration, RelyingParty, School, SchoolStatus, User};
use crate::ports::World;

/// Why a sign-in to a relying party is refused. Each says which setting blocks it, so the
/// page the user sees can tell them whom to ask.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Denial {
    /// The school never registered this relying party.
    #[error("the school has not enabled this software")]
    NotRegistered,
    /// The school withdrew its registration (toestemming ingetrokken).
    #[error("the school has withdrawn its permission for this software")]
    Deregistered,
    /// The operator disabled the relying party for everyone.
    #[error("this software is disabled")]
    Disabled,
    /// Pupil software for a teacher, or teacher software for a pupil.
    #[error("this software is not meant for the user's role")]
    WrongAudience,
    /// At home, but the publisher does not allow this software at home.
    #[error("the publisher allows this software only at school")]
    NotAtHomePublisher,
    /// At home, but the school does not allow this software at home.
    #[error("the school allows this software only at school")]
    NotAtHomeSchool,
    /// The school account is closed.
    #[error("the school account is closed")]
    SchoolClosed,
    /// The user belongs to another school than the one signing in.
    #[error("the user does not belong to this school")]
    WrongSchool,
    /// The user's account is disabled or removed.
    #[error("the user's account is disabled")]
    UserDisabled,
}

impl Denial {
    /// The line the school's trail keeps of a sign-in refused for this reason; `None` for a
    /// user of another school (nothing this school decided).
    pub fn audit_action(&self) -> Option<AuditAction> {
        Some(match self {
            Denial::NotRegistered => AuditAction::RefusedNotRegistered,
            Denial::Deregistered => AuditAction::RefusedDeregistered,
            Denial::Disabled => AuditAction::RefusedDisabled,
            Denial::WrongAudience => AuditAction::RefusedWrongAudience,
            Denial::NotAtHomePublisher | Denial::NotAtHomeSchool => AuditAction::RefusedNotAtHome,
            Denial::SchoolClosed => AuditAction::RefusedSchoolClosed,
            Denial::UserDisabled => AuditAction::RefusedUserDisabled,
            Denial::WrongSchool => return None,
        })
    }
}

/// How long one line in a school's trail stands for every sign-in to one relying party
/// refused for one reason: a class of thirty refused at once, or a script refused a thousand
/// times a second, writes one line per window, not one per attempt.
pub const REFUSAL_NOTE_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Note in `school`'s trail that a sign-in to `rp` was refused for `denial` (the user saw
/// the refusal page; the relying party was told). One line per school, relying party and
/// reason per [`REFUSAL_NOTE_WINDOW`], without the user: the line says which setting blocks
/// the software, for the coordinator to change. Best effort: a store or database that does
/// not answer loses the line, never the refusal.
pub fn note_refusal(
    w: &World<'_>,
    school: &claims::InstellingRef,
    rp: &RelyingParty,
    denial: &Denial,
) {
    let Some(action) = denial.audit_action() else {
        return;
    };
    let school_text = school.to_string();
    let key = Key::Limit(Limit::RefusalNoted {
        school: &school_text,
        rp: rp.id,
        action: action.as_str(),
    });
    match w.store.put_if_absent(&key, b"1", REFUSAL_NOTE_WINDOW) {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "a refused sign-in was not noted in the trail");
            return;
        }
    }
    let line = AuditEvent::record(
        action,
        "system",
        w.now(),
        Some(*school),
        Some(rp.public_id().to_string()),
        serde_json::to_value(denial).unwrap_or_default(),
    );
    if let Err(e) = w.dir.append_audit(line) {
        tracing::warn!(error = %e, "a refused sign-in was not noted in the trail");
    }
}

/// What the school allows, once [`decide`] said yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    pub release: Release,
    /// The role the relying party is told.
    pub role: Role,
}

/// May `user` of `school` be signed in to `rp` in `context`?
///
/// `registration` is the school's registration of `rp` (`None` if it never registered it).
/// A merged school's users sign in under the school they merged into, so callers pass the
/// school that is active.
pub fn decide(
    school: &School,
    rp: &RelyingParty,
    registration: Option<&Registration>,
    user: &User,
    context: LoginContext,
) -> Result<Allowed, Denial> {
    if matches!(school.status, SchoolStatus::Closed) {
        return Err(Denial::SchoolClosed);
    }
    if user.school != school.instelling_ref {
        return Err(Denial::WrongSchool);
    }
    if !user.status.may_sign_in() {
        return Err(Denial::UserDisabled);
    }
    if !rp.enabled {
        return Err(Denial::Disabled);
    }
    let reg = match registration {
        None => return Err(Denial::NotRegistered),
        Some(r) if r.school != school.instelling_ref || r.rp_id != rp.id => {
            return Err(Denial::NotRegistered)
        }
        Some(r) if !r.allowed => return Err(Denial::Deregistered),
        Some(r) => r,
    };
    let role = user.primary_role().ok_or(Denial::WrongAudience)?;
    if !rp.audience.admits(role) {
        return Err(Denial::WrongAudience);
    }
    if context == LoginContext::Thuis {
        if !rp.home_allowed {
            return Err(Denial::NotAtHomePublisher);
        }
        if !reg.home_allowed {
            return Err(Denial::NotAtHomeSchool);
        }
    }
    Ok(Allowed {
        release: reg.release,
        role,
    })
}

/// Does the school's consent still hold for tokens already issued? Checked at every UserInfo
/// call: a withdrawn registration, a disabled relying party, or home use switched off stop
/// the flow of data at once.
pub fn consent_holds(
    rp: &RelyingParty,
    registration: Option<&Registration>,
    context: LoginContext,
) -> Result<(), Denial> {
    if !rp.enabled {
        return Err(Denial::Disabled);
    }
    let reg = match registration {
        None => return Err(Denial::NotRegistered),
        Some(r) if r.rp_id != rp.id => return Err(Denial::NotRegistered),
        Some(r) if !r.allowed => return Err(Denial::Deregistered),
        Some(r) => r,
    };
    if context == LoginContext::Thuis && !(rp.home_allowed && reg.home_allowed) {
        return Err(if rp.home_allowed {
            Denial::NotAtHomeSchool
        } else {
            Denial::NotAtHomePublisher
        });
    }
    Ok(())
}

/// The scopes that unlock optional claims.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes {
    pub profile: bool,
    pub email: bool,
    pub groups: bool,
}

impl Scopes {
    /// From a space-separated OAuth scope string.
    pub fn parse(scope: &str) -> Self {
        let mut s = Self::default();
        for item in scope.split_ascii_whitespace() {
            match item {
                "profile" => s.profile = true,
                "email" => s.email = true,
                "groups" => s.groups = true,
                _ => {}
            }
        }
        s
    }

    /// Every optional scope (SAML has no scopes: the registration alone decides).
    pub fn all() -> Self {
        Self {
            profile: true,
            email: true,
            groups: true,
        }
    }
}

/// The pairwise pseudonym of `user` at `rp`: the same for every relying party of one sector,
/// whatever the protocol, and never derived from BRIN, INSTELLING_REF or names.
pub fn subject_for(
    key: &PseudonymKey,
    rp: &RelyingParty,
    user: &User,
) -> Result<PairwiseSubject, claims::ClaimsError> {
    let sector = Sector::new(rp.sector.clone())?;
    Ok(pairwise_subject(key, &sector, &user.id))
}

/// The claims `rp` receives for `user`, given what the school allows and the scopes asked.
///
/// - `eckid` when the registration releases it and the user has one;
/// - `groups` under the `groups` scope when released; only the user's groups at this school;
/// - names under `profile` when the registration releases names;
/// - `email` under the `email` scope, staff only (docs/integrate-oidc.md): a staff member's work address.
pub fn claim_set(
    sub: PairwiseSubject,
    school: &School,
    user: &User,
    groups: &[Group],
    allowed: Allowed,
    scopes: Scopes,
    context: LoginContext,
) -> ClaimSet {
    let release = allowed.release;
    let group_claims = (scopes.groups && release.groups).then(|| {
        groups
            .iter()
            .filter(|g| g.school == school.instelling_ref && user.group_ids.contains(&g.id))
            .map(|g| GroupClaim {
                key: g.key.clone(),
                name: g.name.clone(),
                jaargroep: g.jaargroep,
            })
            .collect()
    });
    let names = scopes.profile && release.names;
    ClaimSet {
        sub,
        eckid: if release.eckid {
            user.eck_id.clone()
        } else {
            None
        },
        instelling_ref: school.instelling_ref,
        brin6: school.brin6.clone(),
        role: allowed.role,
        groups: group_claims,
        // Filled in by `release`, which reads the levels the school gave.
        niveau: None,
        login_context: context,
        given_name: names.then(|| user.given_name.clone()),
        family_name: names.then(|| user.family_name.clone()),
        name: names.then(|| user.display_name()),
        email: if scopes.email && !user.is_pupil() {
            user.email.clone()
        } else {
            None
        },
    }
}

/// Why [`authorize`] or [`release`] gives nothing. The user and school being gone are worded
/// as the relying party is told.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The release policy refuses (the school, the registration, the user's status or role).
    #[error(transparent)]
    Denied(Denial),
    /// The user of the session no longer exists.
    #[error("the account no longer exists")]
    UserGone,
    /// The school of the session no longer exists.
    #[error("the school no longer exists")]
    SchoolGone,
    /// The directory did not answer.
    #[error("the directory did not answer: {0}")]
    Storage(crate::repo::RepoError),
    /// The relying party's sector is unusable for a pseudonym.
    #[error("the relying party's sector is unusable: {0}")]
    Subject(claims::ClaimsError),
}

impl From<crate::repo::RepoError> for ReleaseError {
    fn from(e: crate::repo::RepoError) -> Self {
        Self::Storage(e)
    }
}

/// The user, the school and what the school allows `rp` for them.
#[derive(Debug)]
pub struct Authorized {
    pub user: User,
    pub school: School,
    pub allowed: Allowed,
}

/// The one release decision for a signed-in user (`user` of `school`, signed in for
/// `context`) at `rp`: it loads the user, the school and the school's registration of `rp`,
/// and asks [`decide`]. OIDC authorize and the token endpoint, SAML SSO, the start page's
/// shortcuts and refresh all come here.
pub fn authorize(
    dir: &dyn crate::repo::Directory,
    rp: &RelyingParty,
    user: uuid::Uuid,
    school: &claims::InstellingRef,
    context: LoginContext,
) -> Result<Authorized, ReleaseError> {
    let user = dir.user(user)?.ok_or(ReleaseError::UserGone)?;
    let mut school = dir.school(school)?.ok_or(ReleaseError::SchoolGone)?;
    // A session or token of a school that merged since goes on at the school it merged into.
    for _ in 0..8 {
        let SchoolStatus::Merged(into) = school.status else {
            break;
        };
        school = dir.school(&into)?.ok_or(ReleaseError::SchoolGone)?;
    }
    let registration = dir.registration(&school.instelling_ref, rp.id)?;
    let allowed =
        decide(&school, rp, registration.as_ref(), &user, context).map_err(ReleaseError::Denied)?;
    Ok(Authorized {
        user,
        school,
        allowed,
    })
}

/// What `rp` receives for the user under `scopes`, after [`authorize`]: the pairwise `sub`
/// and only what the school released (the school's groups are read only when asked for).
/// With `groups` comes `niveau`: the year groups of the user's groups and the levels the
/// school gave those groups and the user (`beheer::niveaus::claim_value`).
pub fn release(
    dir: &dyn crate::repo::Directory,
    key: &PseudonymKey,
    rp: &RelyingParty,
    user: uuid::Uuid,
    school: &claims::InstellingRef,
    context: LoginContext,
    scopes: Scopes,
) -> Result<ClaimSet, ReleaseError> {
    let a = authorize(dir, rp, user, school, context)?;
    let groups = if scopes.groups {
        dir.groups_of_school(&a.school.instelling_ref)?
    } else {
        Vec::new()
    };
    let sub = subject_for(key, rp, &a.user).map_err(ReleaseError::Subject)?;
    let mut claims = claim_set(sub, &a.school, &a.user, &groups, a.allowed, scopes, context);
    if claims.groups.is_some() {
        use crate::beheer::niveaus;
        let school = &a.school.instelling_ref;
        let own: Vec<uuid::Uuid> = niveaus::own_groups(school, &a.user, &groups)
            .map(|g| g.id)
            .collect();
        let given = dir.niveaus_reaching(a.user.id, &own)?;
        claims.niveau = Some(niveaus::claim_value(school, &a.user, &groups, &given));
    }
    Ok(claims)
}
