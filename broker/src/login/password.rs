//! "Wachtwoord vergeten" and account activation for staff.
//!
//! A request sends a mail with a link carrying a 36-character GUID token. The token is
//! single-use and expires after 24 hours; a new link can be requested at most once per 15
//! minutes per address; the answer is the same whether or not the address is known. An
//! inactive teacher (created by an import) receives the same kind of link as an activation
//! mail; setting a password makes the account active.

use std::time::Duration;

use uuid::Uuid;

use super::password_policy::{self, WeakPassword};
use crate::audit::AuditAction;
use crate::keyspace::{Key, Limit};
use crate::model::{AuditEvent, User, UserStatus};
use crate::ports::{Letter, World};
use crate::repo::PasswordChange;
use crate::secrets::{self, SecretError};

/// How long a link works.
pub const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// At most one mail per address in this time.
pub const THROTTLE: Duration = Duration::from_secs(15 * 60);

/// Why setting a password failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the link has expired or was used already")]
    InvalidLink,
    #[error("the two passwords differ")]
    Mismatch,
    #[error(transparent)]
    Weak(#[from] WeakPassword),
    #[error(transparent)]
    Hash(#[from] SecretError),
    #[error("try again in a few minutes")]
    Unavailable,
}

/// Is this a well-formed link token (a hyphenated GUID, 36 characters)?
pub fn well_formed(token: &str) -> bool {
    token.len() == 36 && Uuid::parse_str(token).is_ok()
}

/// Send a reset link to `email` if it belongs to an active staff member — at most once per 15
/// minutes per address. Says nothing about whether it did.
pub fn request_link(w: &World, email: &str, now: i64) {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return;
    }
    match w
        .store
        .put_if_absent(&Key::Limit(Limit::PasswordLinkMail(&email)), b"1", THROTTLE)
    {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "password link: store");
            return;
        }
    }
    let Ok(Some(user)) = w.dir.user_by_email(&email) else {
        return;
    };
    // Only active staff reset their own password here. An inactive account (imported, or known
    // only through a network environment) is activated by the operator (`user send-activation`),
    // never by whoever can receive mail at its address; an offboarded one gets nothing.
    if !user.is_active_staff() {
        return;
    }
    if let Err(e) = send_link(w, &user, "system", now) {
        tracing::warn!(error = %e, "password link: sending");
    }
}

/// Mail `user` a link to set a password (activation when the account is inactive).
pub fn send_link(w: &World, user: &User, actor: &str, now: i64) -> Result<(), String> {
    let Some(email) = &user.email else {
        return Err("the user has no e-mail address".into());
    };
    if !user.status.may_sign_in() {
        return Err(format!("the account is {}", user.status.as_str()));
    }
    let token = Uuid::new_v4().to_string();
    w.store
        .put(
            &Key::PasswordLink(&token),
            user.id.to_string().as_bytes(),
            TOKEN_TTL,
        )
        .map_err(|e| e.to_string())?;
    let link = format!("{}/wachtwoord/{token}", w.issuer);
    let (to, given_name) = (email.clone(), user.given_name.clone());
    let letter = if user.status == UserStatus::Inactive {
        Letter::StaffActivation {
            to,
            given_name,
            link,
        }
    } else {
        Letter::StaffReset {
            to,
            given_name,
            link,
        }
    };
    w.outbox.send(&letter).map_err(|e| e.to_string())?;
    let _ = w.dir.append_audit(AuditEvent::record(
        if user.status == UserStatus::Inactive {
            AuditAction::UserActivationSent
        } else {
            AuditAction::UserResetSent
        },
        actor,
        now,
        Some(user.school),
        Some(user.id.to_string()),
        serde_json::json!({}),
    ));
    Ok(())
}

/// Does the link still work (without using it)?
pub fn link_valid(w: &World, token: &str) -> bool {
    well_formed(token) && matches!(w.store.get(&Key::PasswordLink(token)), Ok(Some(_)))
}

/// The words that make a password guessable for a staff member: their names, e-mail address
/// and school name.
pub fn staff_hints(w: &World, user: &User) -> Vec<String> {
    let school = w
        .dir
        .school(&user.school)
        .ok()
        .flatten()
        .map(|s| s.name)
        .unwrap_or_default();
    password_policy::personal_hints([
        user.given_name.as_str(),
        user.family_name.as_str(),
        user.email.as_deref().unwrap_or(""),
        school.as_str(),
    ])
}

/// The words that make a password guessable for a home account reached by a link (the hash
/// of its token): its address, and its children's names and schools.
pub fn home_hints(w: &World, token_hash: &str, now: i64) -> Vec<String> {
    let Ok(Some((account, email))) = w.dir.thuis_token(token_hash, now) else {
        return Vec::new();
    };
    let mut parts = vec![email];
    let pupils = w
        .dir
        .thuis_account(account)
        .ok()
        .flatten()
        .map(|a| a.pupils)
        .unwrap_or_default();
    for pupil in pupils {
        if let Ok(Some(u)) = w.dir.user(pupil) {
            parts.extend(staff_hints(w, &u));
        }
    }
    password_policy::personal_hints(parts.iter().map(String::as_str))
}

/// The password rule for a home account's new password (`token_hash` names its link).
pub fn check_home_password(
    w: &World,
    token_hash: &str,
    password: &str,
    now: i64,
) -> Result<(), PasswordError> {
    password_policy::check(password, &home_hints(w, token_hash, now))?;
    Ok(())
}

/// The user a staff link belongs to, without using it up.
pub fn link_user(w: &World, token: &str) -> Option<User> {
    if !well_formed(token) {
        return None;
    }
    let id = w.store.get(&Key::PasswordLink(token)).ok().flatten()?;
    let id = Uuid::parse_str(&String::from_utf8_lossy(&id)).ok()?;
    w.dir.user(id).ok().flatten()
}

/// Set a new password with a link. The link is used up; the account becomes active.
pub fn set_with_link(
    w: &World,
    token: &str,
    password: &str,
    repeat: &str,
    now: i64,
) -> Result<User, PasswordError> {
    if password != repeat {
        return Err(PasswordError::Mismatch);
    }
    if !well_formed(token) {
        return Err(PasswordError::InvalidLink);
    }
    // Checked before the link is used up, so a refused password can be tried again.
    let hints = link_user(w, token)
        .map(|u| staff_hints(w, &u))
        .unwrap_or_default();
    password_policy::check(password, &hints)?;
    let id = w
        .store
        .take(&Key::PasswordLink(token))
        .map_err(|_| PasswordError::Unavailable)?
        .ok_or(PasswordError::InvalidLink)?;
    let id =
        Uuid::parse_str(&String::from_utf8_lossy(&id)).map_err(|_| PasswordError::InvalidLink)?;
    let user = w
        .dir
        .user(id)
        .map_err(|_| PasswordError::Unavailable)?
        .ok_or(PasswordError::InvalidLink)?;
    // A link sent before the account was disabled or removed never re-activates it.
    match w.dir.user_standing(id) {
        Ok(Some(s)) if s.status.may_sign_in() => {}
        Ok(_) => return Err(PasswordError::InvalidLink),
        Err(_) => return Err(PasswordError::Unavailable),
    }
    let hash = secrets::hash_password(password)?;
    let audit = AuditEvent::record(
        AuditAction::UserPasswordSet,
        format!("user:{id}"),
        now,
        Some(user.school),
        Some(id.to_string()),
        serde_json::json!({"activated": user.status == UserStatus::Inactive}),
    );
    w.dir
        .set_password_hash(
            PasswordChange {
                user: id,
                hash: &hash,
                activate: true,
            },
            now,
            audit,
        )
        .map_err(|_| PasswordError::Unavailable)?;
    Ok(user)
}
