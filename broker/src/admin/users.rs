//! Pupils and staff: adding them (roles, credentials, pictures) and offboarding.

use std::str::FromStr;

use crate::audit::AuditAction;
use crate::model::{PupilAuth, User, UserStatus};
use crate::repo::NewUser;
use claims::{EckId, Role};
use uuid::Uuid;

use super::{invalid, non_empty, parse_school_ref, Credentials, Ctx, Result};

/// Input of [`add_user`].
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub school: String,
    pub role: String,
    pub extra_roles: Vec<String>,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub eck_id: Option<String>,
    pub las_key: Option<String>,
    pub pin: Option<String>,
    pub password: Option<String>,
    /// A fixed user id (the demo); normally a new random one.
    pub id: Option<Uuid>,
    /// The pupil's own picture on their name tile (a name from the server's pictures).
    pub picture: Option<String>,
    /// A picture password instead of a PIN: 2–4 grid pictures, e.g. `vos,appel,zon`.
    pub picture_password: Option<String>,
}

/// What [`add_user`] made; `pin` is set when a PIN was generated for a pupil.
#[derive(Debug)]
pub struct AddedUser {
    pub user: User,
    pub generated_pin: Option<String>,
}

/// A pupil or staff member. Pupils get a PIN (generated when none is given); staff with a
/// password are active, staff without one stay inactive until they activate their account.
pub fn add_user(ctx: Ctx<'_>, secrets: Credentials<'_>, input: UserInput) -> Result<AddedUser> {
    let id = input.id.unwrap_or_else(Uuid::new_v4);
    let school = parse_school_ref(&input.school)?;
    ctx.active_school(&school)?;
    let roles = roles_of(&input)?;
    let given_name = non_empty("given name", &input.given_name)?;
    let family_name = non_empty("family name", &input.family_name)?;
    let eck_id = input
        .eck_id
        .as_deref()
        .map(|e| EckId::parse_import(e.trim()).map_err(|e| invalid(e.to_string())))
        .transpose()?;
    let email = input.email.as_deref().map(normalise_email).transpose()?;
    let mut group_ids = Vec::new();
    for key in &input.groups {
        let g = ctx
            .dir
            .group_by_key(&school, key)?
            .ok_or_else(|| invalid(format!("no group with key '{key}' at school {school}")))?;
        group_ids.push(g.id);
    }
    let creds = if roles[0].is_pupil() {
        pupil_credentials(&input, email.as_deref(), &secrets)?
    } else {
        let school_name = ctx.dir.school(&school)?.map(|s| s.name).unwrap_or_default();
        let hints = [
            given_name.as_str(),
            family_name.as_str(),
            email.as_deref().unwrap_or(""),
            school_name.as_str(),
        ];
        staff_credentials(&input, email.as_deref(), hints)?
    };
    let picture = picture_of(&secrets, input.picture.as_deref())?;
    let secret_sealed = creds.shown.map(|s| secrets.seal(id, &s)).transpose()?;
    let audit = ctx.audit(
        AuditAction::UserAdd,
        Some(school),
        Some(id.to_string()),
        serde_json::json!({"roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>()}),
    );
    let user = ctx.dir.insert_user(
        NewUser {
            user: User {
                id,
                school,
                roles,
                las_key: input
                    .las_key
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty()),
                eck_id,
                given_name,
                family_name,
                email,
                status: creds.status,
                picture,
                pupil_auth: creds.pupil_auth,
                pin_hash: creds.pin_hash,
                picture_password_hash: creds.picture_password_hash,
                password_hash: creds.password_hash,
                source: "manual".into(),
                group_ids,
            },
            secret_sealed,
        },
        ctx.now(),
        audit,
    )?;
    Ok(AddedUser {
        user,
        generated_pin: creds.generated_pin,
    })
}

/// The role and the extra roles of a new user: a pupil holds pupil roles only, staff staff
/// roles only; substitutes are not made by hand.
fn roles_of(input: &UserInput) -> Result<Vec<Role>> {
    let role = Role::from_str(&input.role).map_err(|e| invalid(e.to_string()))?;
    if role == Role::Invalkracht {
        return Err(invalid("role invalkracht is not created by hand: a coordinator activates the group's substitute account"));
    }
    let mut roles = vec![role];
    for r in &input.extra_roles {
        let r = Role::from_str(r).map_err(|e| invalid(e.to_string()))?;
        if r.is_pupil() != role.is_pupil() {
            return Err(invalid(
                "a pupil cannot also hold a staff role, nor staff a pupil role",
            ));
        }
        if !roles.contains(&r) {
            roles.push(r);
        }
    }
    Ok(roles)
}

/// A new user's status and credentials, and what their teacher may show later (the PIN, or
/// the picture names).
struct NewCredentials {
    status: UserStatus,
    pupil_auth: Option<PupilAuth>,
    pin_hash: Option<String>,
    picture_password_hash: Option<String>,
    password_hash: Option<String>,
    generated_pin: Option<String>,
    shown: Option<String>,
}

impl NewCredentials {
    fn with_status(status: UserStatus) -> Self {
        Self {
            status,
            pupil_auth: None,
            pin_hash: None,
            picture_password_hash: None,
            password_hash: None,
            generated_pin: None,
            shown: None,
        }
    }
}

/// A pupil's: a picture password (with a PIN only when one is given as well), or a PIN
/// (generated when none is given).
fn pupil_credentials(
    input: &UserInput,
    email: Option<&str>,
    secrets: &Credentials<'_>,
) -> Result<NewCredentials> {
    if email.is_some() {
        return Err(invalid(
            "pupils have no e-mail address here; home addresses are set by the teacher",
        ));
    }
    if input.password.is_some() {
        return Err(invalid(
            "pupils sign in with a PIN or picture password, not a password",
        ));
    }
    if let Some(seq) = &input.picture_password {
        let seq = secrets.pictures.picture_password(seq)?;
        let pin_hash = match &input.pin {
            Some(p) => {
                crate::secrets::check_pin(p)?;
                Some(secrets.hash_pin(p)?)
            }
            None => None,
        };
        return Ok(NewCredentials {
            pupil_auth: Some(PupilAuth::Picture),
            pin_hash,
            picture_password_hash: Some(secrets.hash_pin(&seq)?),
            shown: Some(seq),
            ..NewCredentials::with_status(UserStatus::Active)
        });
    }
    let (pin, generated) = match &input.pin {
        Some(p) => (p.clone(), None),
        None => {
            let p = crate::secrets::random_pin()?;
            (p.clone(), Some(p))
        }
    };
    crate::secrets::check_pin(&pin)?;
    Ok(NewCredentials {
        pupil_auth: Some(PupilAuth::Pin),
        pin_hash: Some(secrets.hash_pin(&pin)?),
        generated_pin: generated,
        shown: Some(pin),
        ..NewCredentials::with_status(UserStatus::Active)
    })
}

/// Staff's: active with a password that passes the policy, else inactive until activation.
fn staff_credentials(
    input: &UserInput,
    email: Option<&str>,
    hints: [&str; 4],
) -> Result<NewCredentials> {
    if input.pin.is_some() || input.picture_password.is_some() {
        return Err(invalid(
            "only pupils have a PIN or picture password; staff have a password",
        ));
    }
    if email.is_none() {
        return Err(invalid(
            "staff need an e-mail address (--email): it is their user name",
        ));
    }
    Ok(match &input.password {
        Some(pw) => {
            crate::login::password_policy::check(
                pw,
                &crate::login::password_policy::personal_hints(hints),
            )?;
            NewCredentials {
                password_hash: Some(crate::secrets::hash_password(pw)?),
                ..NewCredentials::with_status(UserStatus::Active)
            }
        }
        None => NewCredentials::with_status(UserStatus::Inactive),
    })
}

/// A pupil's own picture on their name tile, by name.
fn picture_of(secrets: &Credentials<'_>, name: Option<&str>) -> Result<Option<String>> {
    match name.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => secrets.pictures.picture(p).map(Some),
    }
}

fn existing_user(ctx: &Ctx<'_>, id: Uuid) -> Result<User> {
    ctx.dir
        .user(id)?
        .ok_or_else(|| invalid(format!("no user {id}")))
}

/// Offboard a user (`user disable`): no sign-in from now on, and every session, authorization
/// code and refresh token (offline ones too) issued to them so far is void, on every node.
pub fn disable_user(ctx: Ctx<'_>, id: Uuid) -> Result<User> {
    let user = existing_user(&ctx, id)?;
    if user.status == UserStatus::Removed {
        return Err(invalid(format!("user {id} has been removed")));
    }
    let audit = ctx.audit(
        AuditAction::UserDisable,
        Some(user.school),
        Some(id.to_string()),
        serde_json::json!({"was": user.status.as_str()}),
    );
    Ok(ctx.dir.set_disabled(id, true, audit)?)
}

/// Undo [`disable_user`]: the user may sign in again, with the status they had (an inactive
/// account stays inactive); sessions and tokens from before the disabling stay void.
pub fn enable_user(ctx: Ctx<'_>, id: Uuid) -> Result<User> {
    let user = existing_user(&ctx, id)?;
    match user.status {
        UserStatus::Removed => Err(invalid(format!(
            "user {id} has been removed and cannot be enabled"
        ))),
        UserStatus::Active | UserStatus::Inactive => Ok(user),
        // Someone who left the school's data may be let in by hand until a file lists them.
        UserStatus::Disabled | UserStatus::Left => {
            let audit = ctx.audit(
                AuditAction::UserEnable,
                Some(user.school),
                Some(id.to_string()),
                serde_json::json!({}),
            );
            Ok(ctx.dir.set_disabled(id, false, audit)?)
        }
    }
}

/// Remove a user (`user remove`): offboarded as by [`disable_user`], and their personal data
/// deleted; the id stays as a tombstone so that its pseudonyms are never anyone else's.
pub fn remove_user(ctx: Ctx<'_>, id: Uuid) -> Result<User> {
    let user = existing_user(&ctx, id)?;
    if user.status == UserStatus::Removed {
        return Err(invalid(format!("user {id} has already been removed")));
    }
    let audit = ctx.audit(
        AuditAction::UserRemove,
        Some(user.school),
        Some(id.to_string()),
        serde_json::json!({"was": user.status.as_str()}),
    );
    Ok(ctx.dir.remove_user(id, ctx.now(), audit)?)
}

/// A syntactically plausible e-mail address, lower-cased.
pub fn normalise_email(e: &str) -> Result<String> {
    crate::model::normalise_email(e).ok_or_else(|| {
        invalid(format!(
            "'{}' is not a valid e-mail address",
            e.trim().to_lowercase()
        ))
    })
}
