//! The teacher's group overview (groepsoverzicht): each of their groups with its teachers and
//! pupils, each pupil's picture, way of signing in and home-login status (`Nee/Nee`, `Ja/Nee`,
//! `Ja/Ja`), a print version per group, and "Wijzigen": a pupil's home addresses, resending the
//! activation mail, lifting a home-login block. Teachers see their own groups; an ICT
//! coordinator sees every group of the school. Every change is an audit event
//! ([`crate::thuis`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use broker::beheer::niveaus;
use broker::login::pupil;
use broker::login::thuis::{self, ThuisError};
use broker::model::{Group, PupilAuth, School, ThuisAccount, ThuisStatus, User};
use catalogue::Texts;
use claims::Role;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{csrf_protected, state_of, CsrfChecked, Staff};
use super::failure::{self, PageError};
use super::pages::{self, Chrome};
use super::school::picture_of;
use crate::app::AppState;

/// A pupil's secret as shown, in pictures from the grid.
pub(super) type Revealed = pupil::Revealed<&'static crate::pictures::Picture>;

/// A pupil's row in the overview.
#[derive(Debug)]
struct PupilRow {
    /// In the print version: the PIN, or the password pictures.
    pin: Option<String>,
    pictures: Vec<&'static str>,
    name: String,
    picture: Option<&'static str>,
    sign_in: &'static str,
    status: &'static str,
    status_class: &'static str,
    change_link: String,
}

#[derive(Debug)]
struct GroupView {
    letters_link: String,
    name: String,
    teachers: Vec<String>,
    pupils: Vec<PupilRow>,
    print_link: String,
    method_link: String,
    /// The group's levels (niveaus), when the staff member may give them.
    levels_link: Option<String>,
}

#[derive(Template)]
#[template(path = "groepen.html")]
struct OverviewPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    school_name: String,
    groups: Vec<GroupView>,
    printing: bool,
    csrf_token: String,
}

/// The page a GET of an action's address shows: what the action does, and its button (the
/// action itself is a POST with the CSRF token).
#[derive(Template)]
#[template(path = "bevestigen.html")]
pub(super) struct ConfirmPage<'a> {
    pub t: &'static Texts,
    pub lang: &'static str,
    pub notice: Option<String>,
    pub title: &'a str,
    pub message: &'a str,
    pub action: String,
    pub button: &'a str,
    pub csrf_token: String,
    /// The way back: its address and its words.
    pub back: (&'a str, &'a str),
}

impl<'a> ConfirmPage<'a> {
    /// The page that asks before `action` (a POST with `csrf_token`): its title, what it does
    /// and its button (`words`), and the way back.
    pub fn new(
        c: Chrome,
        action: String,
        csrf_token: String,
        words: [&'a str; 3],
        back: (&'a str, &'a str),
    ) -> Self {
        let [title, message, button] = words;
        ConfirmPage {
            t: c.t,
            lang: c.lang,
            notice: c.notice,
            title,
            message,
            action,
            button,
            csrf_token,
            back,
        }
    }
}

/// The form of a teacher's action: only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf_token: String,
}

/// A text of the catalogue, as a route chooses it.
pub type Text = fn(&Texts) -> &'static str;

/// What the router runs for a page.
type PageFuture = Pin<Box<dyn Future<Output = HttpResponse>>>;

/// The handler for GET of an action's address (`/groepen/{group}/afdrukken`,
/// `/groepen/{group}/thuiscodes`, `/groepen/leerling/{id}/thuiscode`): an action that shows
/// what a GET must not (PINs, home login codes) is a POST with the CSRF token; its GET changes
/// nothing and offers the `button`, with the `message` what it does.
pub fn confirm(
    button: Text,
    message: Text,
) -> impl Fn(HttpRequest, web::Data<AppState>, web::Path<Uuid>, Staff) -> PageFuture + Clone {
    move |req, state, _path, _staff| Box::pin(confirm_page(req, state, button, message))
}

async fn confirm_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    button: Text,
    message: Text,
) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    let (token, cookie) = state.csrf.issue(&req, state.config.is_https());
    let t = c.t;
    let words = [button(t), message(t), button(t)];
    let back = ("/groepen", t.overview_title);
    let page = ConfirmPage::new(c, req.path().to_string(), token, words, back);
    pages::with_cookie(pages::html(StatusCode::OK, page.render()), cookie)
}

csrf_protected!(ActionForm);

#[derive(Debug)]
struct AddressView {
    id: Uuid,
    email: String,
    activated: bool,
}

#[derive(Template)]
#[template(path = "leerling_wijzigen.html")]
struct ChangePage<'a> {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    school_name: String,
    pupil_name: String,
    status: &'static str,
    action: String,
    csrf_token: String,
    email1: String,
    email2: String,
    addresses: Vec<AddressView>,
    message: Option<&'a str>,
    error: Option<String>,
    shown: Option<Shown>,
    letter_link: String,
    /// Where the sign-in forms (PIN, pictures, pupil picture) go.
    sign_in_action: String,
    /// The picture-password grid and every pupil picture: (name, label).
    grid: Vec<(&'static str, &'static str)>,
    own_pictures: Vec<(&'static str, &'static str)>,
    current_picture: String,
}

/// A pupil's PIN or picture password on the page, after "Toon".
#[derive(Debug)]
struct Shown {
    pin: Option<String>,
    /// (name, label)
    pictures: Vec<(&'static str, &'static str)>,
}

impl Shown {
    fn of(r: Option<Revealed>, lang: &str) -> Self {
        match r {
            Some(Revealed::Pin(p)) => Self {
                pin: Some(p),
                pictures: Vec::new(),
            },
            Some(Revealed::Pictures(ps)) => Self {
                pin: None,
                pictures: ps.iter().map(|p| (p.name, p.label(lang))).collect(),
            },
            None => Self {
                pin: None,
                pictures: Vec::new(),
            },
        }
    }
}

fn status_class(s: ThuisStatus) -> &'static str {
    match s {
        ThuisStatus::NeeNee => "neenee",
        ThuisStatus::JaNee => "janee",
        ThuisStatus::JaJa => "jaja",
    }
}

/// A group with its teachers, and its pupils with their home-login status.
type GroupMembers = (Group, Vec<User>, Vec<(User, ThuisStatus)>);

/// The groups `staff` may see, with their members.
fn groups_for(
    state: &AppState,
    staff: &User,
    only: Option<Uuid>,
) -> Result<Vec<GroupMembers>, broker::repo::RepoError> {
    let coordinator = staff.roles.contains(&Role::IctCoordinator);
    let mut out = Vec::new();
    for g in state.dir.groups_of_school(&staff.school)? {
        if only.is_some_and(|id| id != g.id) || !(coordinator || staff.group_ids.contains(&g.id)) {
            continue;
        }
        let members = state.dir.users_of_group(g.id)?;
        let teachers = members.iter().filter(|u| !u.is_pupil()).cloned().collect();
        let mut pupils = Vec::new();
        for p in members.into_iter().filter(|u| u.is_pupil()) {
            let status = ThuisStatus::of(&state.dir.thuis_accounts_of_user(p.id)?);
            pupils.push((p, status));
        }
        out.push((g, teachers, pupils));
    }
    Ok(out)
}

pub(super) async fn overview(
    req: HttpRequest,
    state: web::Data<AppState>,
    Staff {
        user: staff,
        school,
    }: Staff,
    only: Option<Uuid>,
) -> HttpResponse {
    let st = state.clone();
    let now = state.clock.now_secs();
    let giver = staff.clone();
    let loaded = web::block(move || {
        let groups = groups_for(&st, &staff, only)?;
        // The print version shows every pupil's PIN or pictures (each showing is audited).
        let shown: Vec<Vec<Option<Revealed>>> = groups
            .iter()
            .map(|(_, _, pupils)| {
                pupils
                    .iter()
                    .map(|(p, _)| {
                        only.and_then(|_| {
                            pupil::reveal(
                                &st.world(),
                                &st.sealer,
                                &staff,
                                p,
                                "print",
                                now,
                                crate::pictures::stored_sequence,
                            )
                        })
                    })
                    .collect()
            })
            .collect();
        Ok::<_, broker::repo::RepoError>((groups, shown))
    })
    .await;
    let c = Chrome::of(&req, &state, None).await;
    let Ok(Ok((groups, shown))) = loaded else {
        return pages::unavailable(&c, c.t.overview_title);
    };
    if only.is_some() && groups.is_empty() {
        return HttpResponse::NotFound().finish();
    }
    let (token, cookie) = state.csrf.issue(&req, state.config.is_https());
    let page = OverviewPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        school_name: school.name,
        printing: only.is_some(),
        csrf_token: token,
        groups: groups
            .into_iter()
            .zip(shown)
            .map(|((g, teachers, pupils), shown)| GroupView {
                letters_link: format!("/groepen/{}/thuiscodes", g.id),
                print_link: format!("/groepen/{}/afdrukken", g.id),
                method_link: format!("/groepen/{}/inlogmethode", g.id),
                levels_link: niveaus::may_give(&giver, niveaus::Target::Group(&g))
                    .then(|| format!("/groepen/{}/niveaus", g.id)),
                name: g.name,
                teachers: teachers.iter().map(User::display_name).collect(),
                pupils: pupils
                    .iter()
                    .zip(shown)
                    .map(|((p, s), r)| PupilRow {
                        pin: match &r {
                            Some(Revealed::Pin(pin)) => Some(pin.clone()),
                            _ => None,
                        },
                        pictures: match &r {
                            Some(Revealed::Pictures(ps)) => ps.iter().map(|p| p.name).collect(),
                            _ => Vec::new(),
                        },
                        name: p.display_name(),
                        picture: picture_of(p),
                        sign_in: match p.pupil_auth {
                            Some(PupilAuth::Picture) => c.t.sign_in_pictures,
                            _ => c.t.sign_in_pin,
                        },
                        status: s.label(),
                        status_class: status_class(*s),
                        change_link: format!("/groepen/leerling/{}", p.id),
                    })
                    .collect(),
            })
            .collect(),
    };
    pages::with_cookie(pages::html(StatusCode::OK, page.render()), cookie)
}

/// GET `/groepen`: the overview of every group the staff member may see.
pub async fn index(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> HttpResponse {
    overview(req, state, staff, None).await
}

/// POST `/groepen/{group}/afdrukken`: one group, for printing, with every pupil's PIN or
/// pictures (each showing audited).
pub async fn print(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    staff: Staff,
    CsrfChecked(_): CsrfChecked<ActionForm>,
) -> HttpResponse {
    overview(req, state, staff, Some(path.into_inner())).await
}

/// The pupil of `/groepen/leerling/{id}`, with the signed-in staff member (see [`Staff`]) and
/// their school; a pupil they may not manage is not found.
#[derive(Debug)]
pub struct Managed {
    pub(super) staff: User,
    pub(super) school: School,
    pub(super) pupil: User,
}

impl FromRequest for Managed {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let id = web::Path::<Uuid>::from_request(req, payload).into_inner();
        let staff = Staff::from_request(req, payload);
        let state = state_of(req);
        Box::pin(async move {
            let id = id?.into_inner();
            let Staff { user, school } = staff.await?;
            let st = state?;
            let staff = user.clone();
            let pupil = failure::blocking(move || {
                st.dir
                    .user(id)?
                    .filter(|p| thuis::may_manage(&staff, p))
                    .ok_or(PageError::NotFound)
            })
            .await?;
            Ok(Managed {
                staff: user,
                school,
                pupil,
            })
        })
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn change_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    school: &School,
    pupil: &User,
    accounts: &[ThuisAccount],
    typed: Option<(String, String)>,
    message: Option<&str>,
    error: Option<String>,
    shown: Option<Option<Revealed>>,
) -> HttpResponse {
    let c = Chrome::of(req, state, None).await;
    let (token, cookie) = state.csrf.issue(req, state.config.is_https());
    let (email1, email2) = typed.unwrap_or_else(|| {
        (
            accounts
                .first()
                .map(|a| a.email.clone())
                .unwrap_or_default(),
            accounts.get(1).map(|a| a.email.clone()).unwrap_or_default(),
        )
    });
    let page = ChangePage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        school_name: school.name.clone(),
        pupil_name: pupil.display_name(),
        status: ThuisStatus::of(accounts).label(),
        action: format!("/groepen/leerling/{}", pupil.id),
        csrf_token: token,
        email1,
        email2,
        addresses: accounts
            .iter()
            .map(|a| AddressView {
                id: a.id,
                email: a.email.clone(),
                activated: a.activated_at.is_some(),
            })
            .collect(),
        message,
        error,
        shown: shown.map(|r| Shown::of(r, c.lang)),
        letter_link: format!("/groepen/leerling/{}/thuiscode", pupil.id),
        sign_in_action: format!("/groepen/leerling/{}/inloggen", pupil.id),
        grid: crate::pictures::grid()
            .iter()
            .map(|p| (p.name, p.label(c.lang)))
            .collect(),
        own_pictures: crate::pictures::ALL
            .iter()
            .map(|p| (p.name, p.label(c.lang)))
            .collect(),
        current_picture: pupil.picture.clone().unwrap_or_default(),
    };
    pages::with_cookie(pages::html(StatusCode::OK, page.render()), cookie)
}

async fn accounts_of(
    state: &web::Data<AppState>,
    pupil: Uuid,
) -> Result<Vec<ThuisAccount>, PageError> {
    let st = state.clone();
    failure::blocking(move || Ok(st.dir.thuis_accounts_of_user(pupil)?)).await
}

/// GET `/groepen/leerling/{id}`: "Wijzigen".
pub async fn change_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    Managed { school, pupil, .. }: Managed,
) -> Result<HttpResponse, PageError> {
    let accounts = accounts_of(&state, pupil.id).await?;
    Ok(change_page(
        &req, &state, &school, &pupil, &accounts, None, None, None, None,
    )
    .await)
}

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    csrf_token: String,
    action: String,
    #[serde(default)]
    email1: String,
    #[serde(default)]
    email2: String,
    account: Option<Uuid>,
}

csrf_protected!(ChangeForm);

/// POST `/groepen/leerling/{id}`: save the addresses, resend a link, or lift a block.
pub async fn change_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    Managed {
        staff,
        school,
        pupil,
    }: Managed,
    CsrfChecked(form): CsrfChecked<ChangeForm>,
) -> Result<HttpResponse, PageError> {
    let c = Chrome::of(&req, &state, None).await;
    let now = state.clock.now_secs();
    let st = state.clone();
    let (s2, p2) = (staff.clone(), pupil.clone());
    let typed = (form.email1.clone(), form.email2.clone());
    let action = form.action.clone();
    if action == "toon" {
        let st = state.clone();
        let (s2, p2) = (staff.clone(), pupil.clone());
        let r = web::block(move || {
            pupil::reveal(
                &st.world(),
                &st.sealer,
                &s2,
                &p2,
                "wijzigen",
                now,
                crate::pictures::stored_sequence,
            )
        })
        .await
        .ok()
        .flatten();
        let accounts = accounts_of(&state, pupil.id).await?;
        return Ok(change_page(
            &req,
            &state,
            &school,
            &pupil,
            &accounts,
            None,
            None,
            None,
            Some(r),
        )
        .await);
    }
    let result = web::block(move || -> Result<&'static str, ThuisError> {
        match action.as_str() {
            "opslaan" => {
                thuis::set_addresses(&st.world(), &s2, &p2, &[&form.email1, &form.email2], now)?;
                Ok("saved")
            }
            "opnieuw" => {
                let account = st
                    .dir
                    .thuis_accounts_of_user(p2.id)
                    .map_err(|_| ThuisError::Unavailable)?
                    .into_iter()
                    .find(|a| Some(a.id) == form.account && a.activated_at.is_none())
                    .ok_or(ThuisError::NotYourPupil)?;
                thuis::send_link(&st.world(), &account, thuis::LinkKind::Activation, now)?;
                Ok("resent")
            }
            "deblokkeren" => {
                thuis::unblock(&st.world(), &s2, &p2, now)?;
                Ok("unblocked")
            }
            "nieuwe-code" => {
                thuis::code_for(&st.world(), &st.sealer, &s2, &p2, true, now)?;
                Ok("renewed")
            }
            _ => Err(ThuisError::Unavailable),
        }
    })
    .await
    .unwrap_or(Err(ThuisError::Unavailable));
    let accounts = accounts_of(&state, pupil.id).await?;
    let (message, error, keep) = match result {
        Ok("saved") => (Some(c.t.change_saved), None, None),
        Ok("resent") => (Some(c.t.change_resent), None, None),
        Ok("renewed") => (Some(c.t.code_renewed), None, None),
        Ok(_) => (Some(c.t.change_unblocked), None, None),
        Err(ThuisError::InvalidAddress(a)) => (
            None,
            Some(format!("{}: {a}", c.t.change_invalid)),
            Some(typed),
        ),
        Err(ThuisError::SameAddress) => (None, Some(c.t.change_same.to_string()), Some(typed)),
        Err(ThuisError::Throttled) => (None, Some(c.t.change_throttled.to_string()), None),
        Err(ThuisError::NotYourPupil) => return Err(PageError::NotFound),
        Err(ThuisError::Unavailable) => (None, Some(c.t.unavailable.to_string()), Some(typed)),
    };
    Ok(change_page(
        &req, &state, &school, &pupil, &accounts, keep, message, error, None,
    )
    .await)
}

/// One letter with a home login code.
#[derive(Debug)]
struct LetterView {
    child: String,
    code: String,
    /// The QR code (inline SVG) of `/thuis/code?code=…`.
    qr: String,
}

#[derive(Template)]
#[template(path = "thuis_brief.html")]
struct LettersPage {
    t: &'static Texts,
    school_name: String,
    home_url: String,
    letters: Vec<LetterView>,
}

/// The letter with one pupil's home login code.
#[derive(Debug)]
pub struct Letter;

/// The letters of every pupil of a group.
#[derive(Debug)]
pub struct GroupLetters;

/// Whose letters an action prints.
pub trait Letters {
    /// The pupils of `id` (a pupil or a group) that `staff` may manage.
    fn pupils(state: &AppState, staff: &User, id: Uuid) -> Vec<User>;
}

impl Letters for Letter {
    fn pupils(state: &AppState, staff: &User, id: Uuid) -> Vec<User> {
        state
            .dir
            .user(id)
            .ok()
            .flatten()
            .filter(|p| thuis::may_manage(staff, p))
            .into_iter()
            .collect()
    }
}

impl Letters for GroupLetters {
    fn pupils(state: &AppState, staff: &User, id: Uuid) -> Vec<User> {
        groups_for(state, staff, Some(id))
            .map(|gs| {
                gs.into_iter()
                    .flat_map(|(_, _, pupils)| pupils.into_iter().map(|(p, _)| p))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// POST `/groepen/leerling/{id}/thuiscode`, `/groepen/{group}/thuiscodes`: the letters with
/// the pupils' home login codes (in Dutch, print-ready); a pupil without a code gets one.
pub async fn letters<L: Letters>(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    Staff {
        user: staff,
        school,
    }: Staff,
    CsrfChecked(_): CsrfChecked<ActionForm>,
) -> HttpResponse {
    let id = path.into_inner();
    let st = state.clone();
    let now = state.clock.now_secs();
    let issuer = state.config.issuer.clone();
    let made = web::block(move || -> Result<Vec<LetterView>, ThuisError> {
        let mut out = Vec::new();
        for p in L::pupils(&st, &staff, id) {
            let code = thuis::code_for(&st.world(), &st.sealer, &staff, &p, false, now)?;
            let url = format!(
                "{issuer}/thuis/code?code={}",
                url::form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>()
            );
            let qr = crate::shortcut_files::qr_svg_inline(&url, 180)
                .map_err(|_| ThuisError::Unavailable)?;
            out.push(LetterView {
                child: p.given_name.clone(),
                code,
                qr,
            });
        }
        Ok(out)
    })
    .await
    .unwrap_or(Err(ThuisError::Unavailable));
    let c = Chrome::of(&req, &state, None).await;
    match made {
        Ok(letters) if !letters.is_empty() => {
            let page = LettersPage {
                t: catalogue::Locale::Nl.texts(),
                school_name: school.name,
                home_url: format!("{}/thuis", state.config.issuer),
                letters,
            };
            let mut res = pages::html(StatusCode::OK, page.render());
            res.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("no-store"),
            );
            res
        }
        Ok(_) | Err(ThuisError::NotYourPupil) => HttpResponse::NotFound().finish(),
        Err(_) => pages::unavailable(&c, c.t.overview_title),
    }
}
