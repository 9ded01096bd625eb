//! Pupils' sign-in at school, from the teacher's group overview: one pupil's PIN ("typed, or
//! maak een nieuwe"), picture password and own picture (`/groepen/leerling/{id}/inloggen`),
//! and a whole group's way of signing in ("Wijzig login methode groep",
//! `/groepen/{group}/inlogmethode`), which ends on the printable list of the new secrets.
//! Teachers do this for their own groups, ICT coordinators for every group; the operations are
//! `broker::beheer::pupils`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use broker::beheer::pupils::{By, Issued, NewSecret};
use broker::beheer::BeheerError;
use broker::login::pupil::Revealed;
use broker::model::PupilAuth;
use catalogue::Texts;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{csrf_protected, CsrfChecked, Staff};
use super::failure::{self, PageError};
use super::groepen::{self, Managed};
use super::pages::{self, Chrome};
use crate::app::AppState;

/// The sign-in form of one pupil.
#[derive(Deserialize)]
pub struct SignInForm {
    csrf_token: String,
    action: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    plaatje1: String,
    #[serde(default)]
    plaatje2: String,
    #[serde(default)]
    plaatje3: String,
    #[serde(default)]
    plaatje4: String,
    #[serde(default)]
    leerlingplaatje: String,
}

super::extract::opaque_debug!(SignInForm);
csrf_protected!(SignInForm);

/// A new secret as the change page shows it.
fn shown(i: &Issued) -> Option<groepen::Revealed> {
    match i.auth {
        PupilAuth::Pin => Some(Revealed::Pin(i.secret.clone())),
        PupilAuth::Picture => i
            .secret
            .strip_prefix("pic:")
            .and_then(crate::pictures::stored_sequence)
            .map(Revealed::Pictures),
    }
}

/// POST `/groepen/leerling/{id}/inloggen`: a new PIN (`pincode` with `pin`, or
/// `nieuwe-pincode`), a new picture password (`plaatjes` with `plaatje1`…`plaatje4`, or
/// `nieuwe-plaatjes`), or the pupil's own picture (`leerlingplaatje`).
pub async fn sign_in_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    managed: Managed,
    CsrfChecked(form): CsrfChecked<SignInForm>,
) -> Result<HttpResponse, PageError> {
    let Managed {
        staff,
        school,
        pupil,
    } = managed;
    let c = Chrome::of(&req, &state, None).await;
    let b = c.t.beheer;
    let picks: Vec<&str> = [
        &form.plaatje1,
        &form.plaatje2,
        &form.plaatje3,
        &form.plaatje4,
    ]
    .into_iter()
    .map(|p| p.trim())
    .filter(|p| !p.is_empty())
    .collect();
    let new = match form.action.as_str() {
        "pincode" => Some(NewSecret::Pin(Some(form.pin.clone()))),
        "nieuwe-pincode" => Some(NewSecret::Pin(None)),
        "plaatjes" => Some(NewSecret::Pictures(Some(picks.join(",")))),
        "nieuwe-plaatjes" => Some(NewSecret::Pictures(None)),
        "leerlingplaatje" => None,
        _ => return Err(PageError::NotFound),
    };
    let refused = match &new {
        Some(NewSecret::Pin(_)) => b.refused_pin,
        _ => b.refused_pictures,
    };
    let st = state.clone();
    let (s2, p2) = (staff.clone(), pupil.clone());
    let own = form.leerlingplaatje.clone();
    // The change, the pupil as it is now and their home addresses, in one trip to the pool.
    let (result, accounts) = failure::blocking(move || {
        let w = st.world();
        let result = match new {
            Some(new) => By::Staff(&s2)
                .set_secret(&w, st.credentials(), &p2, new)
                .map(|i| (i.pupil.clone(), Some(i))),
            None => By::Staff(&s2)
                .set_picture(&w, st.credentials(), &p2, Some(own.as_str()))
                .map(|u| (u, None)),
        };
        Ok((result, st.dir.thuis_accounts_of_user(p2.id)?))
    })
    .await?;
    let (current, message, error, revealed) = match result {
        Ok((now, Some(issued))) => (now, Some(b.secret_set), None, Some(shown(&issued))),
        Ok((now, None)) => (now, Some(b.own_picture_set), None, None),
        Err(BeheerError::NotFound) => return Err(PageError::NotFound),
        Err(BeheerError::Admin(_)) => (pupil, None, Some(refused.to_string()), None),
        Err(e) => return Err(e.into()),
    };
    Ok(groepen::change_page(
        &req, &state, &school, &current, &accounts, None, message, error, revealed,
    )
    .await)
}

#[derive(Template)]
#[template(path = "inlogmethode.html")]
struct MethodPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    intro: String,
    action: String,
    csrf_token: String,
}

/// The group of a path, if the staff member may change it.
async fn own_group(
    state: &web::Data<AppState>,
    staff: &broker::model::User,
    path: &str,
) -> Result<broker::model::Group, PageError> {
    let id = Uuid::parse_str(path).map_err(|_| PageError::NotFound)?;
    let st = state.clone();
    let staff = staff.clone();
    failure::blocking(move || {
        let g = st.dir.group(id)?.ok_or(PageError::NotFound)?;
        let own =
            staff.roles.contains(&claims::Role::IctCoordinator) || staff.group_ids.contains(&g.id);
        if g.school != staff.school || !own {
            return Err(PageError::NotFound);
        }
        Ok(g)
    })
    .await
}

/// GET `/groepen/{group}/inlogmethode`: what changing the group's method does, and its two
/// buttons.
pub async fn method_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let group = own_group(&state, &staff.user, &path).await?;
    let c = Chrome::of(&req, &state, None).await;
    let (token, cookie) = state.csrf.issue(&req, state.config.is_https());
    let page = MethodPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        intro: c.t.beheer.group_method_intro(&group.name),
        action: req.path().to_string(),
        csrf_token: token,
    };
    Ok(pages::with_cookie(
        pages::html(StatusCode::OK, page.render()),
        cookie,
    ))
}

/// The group method form: `methode` is `pincode` or `plaatjes`.
#[derive(Debug, Deserialize)]
pub struct MethodForm {
    csrf_token: String,
    methode: String,
}

csrf_protected!(MethodForm);

/// POST `/groepen/{group}/inlogmethode`: every pupil of the group gets a new PIN or picture
/// password; then the group's printable list with the new secrets.
pub async fn method_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    CsrfChecked(form): CsrfChecked<MethodForm>,
) -> Result<HttpResponse, PageError> {
    let group = own_group(&state, &staff.user, &path).await?;
    let auth = match form.methode.as_str() {
        "pincode" => PupilAuth::Pin,
        "plaatjes" => PupilAuth::Picture,
        _ => return Err(PageError::NotFound),
    };
    let st = state.clone();
    let (user, g) = (staff.user.clone(), group.clone());
    failure::blocking(move || {
        Ok(By::Staff(&user).set_group_method(&st.world(), st.credentials(), &g, auth)?)
    })
    .await?;
    Ok(groepen::overview(req, state, staff, Some(group.id)).await)
}
