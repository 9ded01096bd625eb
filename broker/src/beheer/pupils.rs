//! "Leerlingen": a pupil's PIN, picture password and own picture, and a whole group's way of
//! signing in ("Wijzig login methode groep"). Teachers do this for the pupils of their own
//! groups, ICT coordinators for every pupil of the school; anyone else gets
//! [`BeheerError::NotFound`]. Every change is one transaction with its audit line; the new
//! secret is sealed so that the teacher can show or print it later.

use claims::Role;

use super::{BeheerError, Result};
use crate::admin::Credentials;
use crate::audit::AuditAction;
use crate::login::thuis::may_manage;
use crate::model::{AuditEvent, Group, PupilAuth, User, UserStatus};
use crate::ports::World;
use crate::repo::PupilSecretChange;

/// What a pupil's new secret is to be.
#[derive(Clone)]
pub enum NewSecret {
    /// This PIN (four digits), or a new random one.
    Pin(Option<String>),
    /// These pictures (`vos,appel,zon`: 2 to 4 of the grid, in order), or three random ones.
    Pictures(Option<String>),
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NewSecret::Pin(_) => "NewSecret::Pin(..)",
            NewSecret::Pictures(_) => "NewSecret::Pictures(..)",
        })
    }
}

/// A secret given to a pupil: the PIN, or the encoded picture password (`pic:vos,appel,zon`).
#[derive(Clone)]
pub struct Issued {
    pub pupil: User,
    pub auth: PupilAuth,
    pub secret: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("pupil", &self.pupil.id)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

fn issue(
    creds: Credentials<'_>,
    pupil: &User,
    new: &NewSecret,
) -> Result<(PupilSecretChange, Issued)> {
    let (auth, secret) = match new {
        NewSecret::Pin(Some(pin)) => {
            crate::secrets::check_pin(pin.trim()).map_err(|e| BeheerError::Admin(e.into()))?;
            (PupilAuth::Pin, pin.trim().to_string())
        }
        NewSecret::Pin(None) => (
            PupilAuth::Pin,
            crate::secrets::random_pin().map_err(|e| BeheerError::Admin(e.into()))?,
        ),
        NewSecret::Pictures(Some(names)) => {
            (PupilAuth::Picture, creds.pictures.picture_password(names)?)
        }
        NewSecret::Pictures(None) => (PupilAuth::Picture, creds.pictures.random_password()?),
    };
    let change = PupilSecretChange {
        user: pupil.id,
        auth,
        hash: creds.hash_pin(&secret)?,
        sealed: creds.seal(pupil.id, &secret)?,
    };
    let issued = Issued {
        pupil: User {
            pupil_auth: Some(auth),
            ..pupil.clone()
        },
        auth,
        secret,
    };
    Ok((change, issued))
}

/// Who changes a pupil's sign-in: a teacher or coordinator of the school, or the operator
/// (the command line) for one school.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    Staff(&'a User),
    Operator(&'a claims::InstellingRef),
}

impl By<'_> {
    fn actor(&self) -> String {
        match self {
            By::Staff(u) => format!("user:{}", u.id),
            By::Operator(_) => "cli".into(),
        }
    }

    fn may(&self, pupil: &User) -> bool {
        match self {
            By::Staff(staff) => may_manage(staff, pupil),
            By::Operator(school) => pupil.is_pupil() && &pupil.school == *school,
        }
    }

    fn may_group(&self, group: &Group) -> bool {
        match self {
            By::Staff(staff) => {
                let own = staff.roles.contains(&Role::IctCoordinator)
                    || staff.group_ids.contains(&group.id);
                staff.school == group.school && !staff.is_pupil() && own
            }
            By::Operator(school) => &group.school == *school,
        }
    }
}

fn check(by: By<'_>, pupil: &User) -> Result<()> {
    if by.may(pupil) && pupil.status != UserStatus::Removed {
        Ok(())
    } else {
        Err(BeheerError::NotFound)
    }
}

impl By<'_> {
    /// Give one pupil a new PIN or picture password.
    pub fn set_secret(
        self,
        w: &World,
        creds: Credentials<'_>,
        pupil: &User,
        new: NewSecret,
    ) -> Result<Issued> {
        check(self, pupil)?;
        let (change, issued) = issue(creds, pupil, &new)?;
        let audit = AuditEvent::record(
            AuditAction::PupilSecretSet,
            self.actor(),
            w.now(),
            Some(pupil.school),
            Some(pupil.id.to_string()),
            serde_json::json!({"sign_in": issued.auth.as_str()}),
        );
        w.dir.set_pupil_secrets(&[change], audit)?;
        Ok(issued)
    }

    /// "Wijzig login methode groep": every active pupil of `group` gets a new random PIN (or
    /// picture password), in one transaction. The new secrets are returned for the printable
    /// list.
    pub fn set_group_method(
        self,
        w: &World,
        creds: Credentials<'_>,
        group: &Group,
        auth: PupilAuth,
    ) -> Result<Vec<Issued>> {
        if !self.may_group(group) {
            return Err(BeheerError::NotFound);
        }
        let new = match auth {
            PupilAuth::Pin => NewSecret::Pin(None),
            PupilAuth::Picture => NewSecret::Pictures(None),
        };
        let mut changes = Vec::new();
        let mut issued = Vec::new();
        for pupil in w.dir.users_of_group(group.id)? {
            if !pupil.is_pupil() || pupil.status != UserStatus::Active {
                continue;
            }
            let (c, i) = issue(creds, &pupil, &new)?;
            changes.push(c);
            issued.push(i);
        }
        let audit = AuditEvent::record(
            AuditAction::GroupSignInMethod,
            self.actor(),
            w.now(),
            Some(group.school),
            Some(group.id.to_string()),
            serde_json::json!({"group": group.key, "sign_in": auth.as_str(), "pupils": issued.len()}),
        );
        w.dir.set_pupil_secrets(&changes, audit)?;
        Ok(issued)
    }

    /// Give a pupil their own picture on their name tile, or take it away (`None`).
    pub fn set_picture(
        self,
        w: &World,
        creds: Credentials<'_>,
        pupil: &User,
        picture: Option<&str>,
    ) -> Result<User> {
        check(self, pupil)?;
        let picture = match picture.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(creds.pictures.picture(p)?),
            None => None,
        };
        let audit = AuditEvent::record(
            AuditAction::PupilPictureSet,
            self.actor(),
            w.now(),
            Some(pupil.school),
            Some(pupil.id.to_string()),
            serde_json::json!({"picture": picture}),
        );
        Ok(w.dir.set_picture(pupil.id, picture.as_deref(), audit)?)
    }
}
