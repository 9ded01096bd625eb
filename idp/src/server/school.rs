//! The school entrance: shortcuts, group tiles, name tiles, the PIN page, device enrolment.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use base64::Engine as _;
use broker::login::pupil::{self, PupilOutcome, PupilSecret};
use broker::model::{Group, PupilAuth, School, User};
use catalogue::Texts;
use serde::Deserialize;
use uuid::Uuid;

use super::devices::enrolled_here;
use super::discovery;
use super::extract::{opaque_debug, Pupil, Staff};
use super::failure::{self, PageError};
use super::pages::{self, Chrome, LoginQuery};
use crate::app::AppState;
use crate::device::Enrolment;
use crate::pictures::{self, Picture, PictureSequence};
use crate::session;
use crate::shortcut::{self, ShortcutError};

/// A group tile.
#[derive(Debug)]
pub struct GroupTile {
    pub url: String,
    pub short: String,
    pub name: String,
}

/// A name tile.
#[derive(Debug)]
pub struct NameTile {
    pub url: String,
    pub name: String,
    pub initial: String,
    pub colour: String,
    /// The pupil's own picture (leerlingplaatje), when they have one.
    pub picture: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "school_groups.html")]
struct GroupsPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    school_name: String,
    groups: Vec<GroupTile>,
    teacher_link: String,
    /// Buttons to the school's network environments: (start URL, label).
    networks: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "school_names.html")]
struct NamesPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    school_name: String,
    group_name: String,
    pupils: Vec<NameTile>,
    back_link: String,
}

/// The page where a pupil proves who they are: the PIN form, or the picture grid.
#[derive(Template)]
#[template(path = "pupil_sign_in.html")]
struct SignInPage<'a> {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    school_name: String,
    pupil_name: String,
    initial: String,
    colour: String,
    picture: Option<&'static str>,
    action: String,
    csrf_token: String,
    error: Option<&'a str>,
    back_link: String,
    explain: Option<&'static str>,
    /// At the home entrance: a PIN field that no browser mistakes for the parent's password.
    home: bool,
    /// For a pupil who signs in with pictures: the grid (otherwise the PIN form).
    pictures: Option<PictureGrid>,
}

/// The picture grid of the sign-in page.
#[derive(Debug)]
struct PictureGrid {
    /// The pictures clicked so far (only without JavaScript does the server see them before
    /// "Verder"), as the hidden field carries them.
    picks: String,
    /// One dot per possible picture, filled for those clicked.
    dots: Vec<bool>,
    /// "2 van 4 plaatjes gekozen", for screen readers.
    chosen: String,
    /// The grid: (name, label).
    grid: Vec<(&'static str, &'static str)>,
}

/// `?TARGET=` (and `auth=`, a waiting request) as they travel between the school's pages.
fn target_query(target: Option<&str>, auth: Option<&str>) -> String {
    let mut q = match target.filter(|t| !t.is_empty()) {
        Some(t) => format!(
            "?TARGET={}",
            url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
        ),
        None => String::new(),
    };
    q.push_str(&discovery::auth_param(auth, q.is_empty()));
    q
}

/// A stable colour for a name tile (eight colour classes with enough contrast for white text).
pub(crate) fn colour_of(id: &Uuid) -> String {
    format!("c{}", id.as_bytes()[0] % 8)
}

/// A user's own picture, if it is one Leerpoort has.
pub(crate) fn picture_of(u: &User) -> Option<&'static str> {
    u.picture
        .as_deref()
        .and_then(pictures::by_name)
        .map(|p| p.name)
}

pub(crate) fn initial_of(u: &User) -> String {
    u.given_name
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default()
}

async fn shortcut_error(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    e: ShortcutError,
) -> HttpResponse {
    failure::shortcut_page(req, &Chrome::of(req, state, None).await, e)
}

/// A shortcut resolved: the school, the target's id, its groups, where a signed-in user goes
/// straight away, and the network environments that serve the school.
type ShortcutView = (
    School,
    Option<String>,
    Vec<Group>,
    Option<String>,
    Vec<broker::model::Upstream>,
);

/// The query of a shortcut, in the contract's spelling.
#[derive(Debug, Deserialize)]
pub struct ShortcutQuery {
    #[serde(rename = "INSTELLING_REF", default)]
    school: String,
    #[serde(rename = "TARGET")]
    target: Option<String>,
    /// A title of TARGET's publisher to open (its code).
    #[serde(rename = "PRODUCT")]
    product: Option<String>,
    #[serde(rename = "ROL")]
    role: Option<String>,
    /// The network environment the user signs in at (the shortcut as it places it).
    #[serde(rename = "NETWERK")]
    network: Option<String>,
    /// A waiting OIDC or SAML request (from "Kies je school" or a `login_hint`): the pupil's
    /// pages carry it, and after the PIN it is answered.
    auth: Option<String>,
}

/// The query of the refusal page after a shortcut.
#[derive(Debug, Deserialize)]
pub struct RefusedQuery {
    #[serde(rename = "TARGET", default)]
    target: String,
}

/// GET `/snelkoppeling/geweigerd?TARGET=…`: why a signed-in user cannot go on to a shortcut's
/// target. The reason is decided again here from the session, never read from the link; when
/// the target is allowed after all, the user goes on to it.
pub async fn shortcut_refused(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<RefusedQuery>,
) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    let sid = session::sid_of(&req, state.config.is_https());
    let now = state.clock.now_secs();
    let st = state.clone();
    let target = q.into_inner().target;
    let found = web::block(move || {
        let s = session::load(st.store.as_ref(), sid.as_deref()?, now)
            .ok()
            .flatten()?;
        let rp = st.dir.relying_party_by_public_id(&target).ok().flatten()?;
        let decision = shortcut::decision(&st, &s, &rp);
        if let Err(Some(denial)) = &decision {
            broker::release::note_refusal(&st.world(), &s.school, &rp, denial);
        }
        let onward = decision
            .is_ok()
            .then(|| shortcut::destination(&st, Some(&shortcut::Target::of(rp.clone()))));
        Some((rp, decision, onward))
    })
    .await
    .ok()
    .flatten();
    match found {
        None => pages::redirect("/"),
        Some((_, _, Some(onward))) => pages::redirect(&onward),
        Some((rp, decision, None)) => {
            let denial = decision
                .err()
                .flatten()
                .unwrap_or(broker::release::Denial::NotRegistered);
            super::reference::denied(
                &req,
                &c,
                &denial,
                &rp.name,
                rp.audience,
                ("/", c.t.back_to_start),
            )
        }
    }
}

/// GET `/snelkoppeling?INSTELLING_REF=…&TARGET=…&ROL=…`.
pub async fn shortcut(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ShortcutQuery>,
) -> HttpResponse {
    let q = q.into_inner();
    let st = state.clone();
    let raw = q.school.clone();
    let target = shortcut::with_product(q.target.clone(), q.product.as_deref());
    let auth = discovery::pending_auth(q.auth.as_deref());
    let https = state.config.is_https();
    // A waiting request came here because it needs a sign-in: no going straight on.
    let sid = session::sid_of(&req, https).filter(|_| auth.is_none());
    let now = state.clock.now_secs();
    let resolved = web::block(move || -> Result<ShortcutView, ShortcutError> {
        let school = shortcut::resolve_school(&st, &raw)?;
        let rp = match &target {
            Some(t) => Some(shortcut::resolve_target(&st, &school, t)?),
            None => None,
        };
        // Signed in at this school already: straight on.
        let through = sid
            .and_then(|s| session::load_standing(&st, &s, now).ok().flatten())
            .filter(|s| s.school == school.instelling_ref)
            .map(|s| shortcut::destination_for(&st, &s, rp.as_ref()));
        let groups = st
            .dir
            .groups_of_school(&school.instelling_ref)
            .map_err(|_| ShortcutError::Unavailable)?;
        let networks = super::upstreams::of_school(&st, &school.instelling_ref);
        Ok((school, target, groups, through, networks))
    })
    .await;
    let (school, target, groups, through, networks) = match resolved {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return shortcut_error(&req, &state, e).await,
        Err(_) => return shortcut_error(&req, &state, ShortcutError::Unavailable).await,
    };
    if let Some(to) = through {
        return pages::redirect(&to);
    }
    // `NETWERK=`: straight to that network environment, if it serves this school.
    if let Some(name) = q.network.as_deref().filter(|n| !n.is_empty()) {
        return match networks.iter().find(|u| u.name == name) {
            Some(u) => pages::redirect(&super::upstreams::start_url(
                u,
                Some(&school.instelling_ref),
                target.as_deref(),
            )),
            None => {
                let c = Chrome::of(&req, &state, None).await;
                pages::message(
                    &c,
                    StatusCode::NOT_FOUND,
                    &c.t.network_failed_title(name),
                    c.t.network_unknown,
                    Some(c.t.ask_coordinator),
                    None,
                )
            }
        };
    }
    if q.role.as_deref() == Some("leerkracht") {
        let lq = LoginQuery::for_school(school.instelling_ref.to_string(), target).with_auth(auth);
        return pages::render_login(&req, &state, lq, String::new(), None).await;
    }
    // Pupils' groups and names are shown only where pupils may sign in.
    if !place_ok(&req, &state, &school).await {
        return outside_network(&req, &state).await;
    }
    let c = Chrome::of(&req, &state, None).await;
    let tq = target_query(target.as_deref(), auth.as_deref());
    let tiles = groups
        .iter()
        .map(|g| GroupTile {
            url: format!("/school/{}/groep/{}{}", school.instelling_ref, g.id, tq),
            short: g
                .jaargroep
                .map(|j| j.get().to_string())
                .unwrap_or_else(|| g.name.chars().take(2).collect()),
            name: g.name.clone(),
        })
        .collect();
    let teacher_link = shortcut::url(
        &school.instelling_ref,
        target.as_deref(),
        Some("leerkracht"),
    ) + &discovery::auth_param(auth.as_deref(), false);
    let page = GroupsPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        networks: networks
            .iter()
            .map(|u| {
                (
                    super::upstreams::start_url(u, Some(&school.instelling_ref), target.as_deref()),
                    c.t.network_sign_in(&u.name),
                )
            })
            .collect(),
        school_name: school.name,
        groups: tiles,
        teacher_link,
    };
    pages::html(StatusCode::OK, page.render())
}

#[derive(Debug, Deserialize)]
pub struct TargetQuery {
    #[serde(rename = "TARGET")]
    pub target: Option<String>,
    /// A waiting OIDC or SAML request, answered after the pupil's sign-in.
    pub auth: Option<String>,
}

/// GET `/school/{ref}/groep/{group}`: the name tiles of a group.
pub async fn group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, Uuid)>,
    q: web::Query<TargetQuery>,
) -> HttpResponse {
    let (raw, group_id) = path.into_inner();
    let st = state.clone();
    let loaded = web::block(
        move || -> Result<(School, Group, Vec<User>), ShortcutError> {
            let school = shortcut::resolve_school(&st, &raw)?;
            let group = st
                .dir
                .group(group_id)
                .map_err(|_| ShortcutError::Unavailable)?
                .filter(|g| g.school == school.instelling_ref)
                .ok_or(ShortcutError::UnknownSchool)?;
            let pupils = st
                .dir
                .users_of_group(group.id)
                .map_err(|_| ShortcutError::Unavailable)?
                .into_iter()
                .filter(|u| u.is_pupil() && u.status == broker::model::UserStatus::Active)
                .collect();
            Ok((school, group, pupils))
        },
    )
    .await;
    let (school, group, pupils) = match loaded {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return shortcut_error(&req, &state, e).await,
        Err(_) => return shortcut_error(&req, &state, ShortcutError::Unavailable).await,
    };
    if !place_ok(&req, &state, &school).await {
        return outside_network(&req, &state).await;
    }
    let c = Chrome::of(&req, &state, None).await;
    let tq = target_query(q.target.as_deref(), q.auth.as_deref());
    let tiles = pupils
        .iter()
        .map(|u| NameTile {
            url: format!("/school/{}/leerling/{}{}", school.instelling_ref, u.id, tq),
            name: u.given_name.clone(),
            initial: initial_of(u),
            colour: colour_of(&u.id),
            picture: picture_of(u),
        })
        .collect();
    let back_link = shortcut::url(&school.instelling_ref, q.target.as_deref(), None)
        + &discovery::auth_param(q.auth.as_deref(), false);
    let page = NamesPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        school_name: school.name,
        group_name: group.name,
        pupils: tiles,
        back_link,
    };
    pages::html(StatusCode::OK, page.render())
}

pub(crate) fn device_id(req: &HttpRequest, https: bool) -> String {
    let name = if https { "__Host-lp_csrf" } else { "lp_csrf" };
    let raw = req
        .cookie(name)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let d = ring::digest::digest(&ring::digest::SHA256, raw.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d.as_ref()[..12])
}

/// The server-signed id of this device (a linked device's, else a home device's), the
/// only device id the PIN limits count on: a browser cannot make up a new one.
fn signed_device_id(
    req: &HttpRequest,
    state: &AppState,
    enrolled: Option<&Enrolment>,
    https: bool,
    now: i64,
) -> Option<String> {
    enrolled
        .map(|e| format!("enrolled:{}", e.device))
        .or_else(|| {
            state
                .devices
                .home_device(req, https, now)
                .map(|d| format!("home:{}", d.device))
        })
}

/// Where a pupil's sign-in page posts to and leads back to, and what it explains.
#[derive(Debug)]
pub struct PupilPageLinks {
    pub action: String,
    pub back_link: String,
    /// A line above the form (at home: that this is the child's school code).
    pub explain: Option<&'static str>,
    pub home: bool,
}

/// The links of a pupil's page at school.
fn school_links(
    school: &School,
    user: &User,
    target: Option<&str>,
    auth: Option<&str>,
) -> PupilPageLinks {
    let tq = target_query(target, auth);
    PupilPageLinks {
        action: format!(
            "/school/{}/leerling/{}{}",
            school.instelling_ref, user.id, tq
        ),
        back_link: user
            .group_ids
            .first()
            .map(|g| format!("/school/{}/groep/{}{}", school.instelling_ref, g, tq))
            .unwrap_or_else(|| {
                shortcut::url(&school.instelling_ref, target, None)
                    + &discovery::auth_param(auth, false)
            }),
        explain: None,
        home: false,
    }
}

/// The page where a pupil proves who they are: the PIN form, or the picture grid with the
/// pictures clicked so far (`picks`).
pub async fn sign_in_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    school: &School,
    user: &User,
    links: PupilPageLinks,
    error: Option<&str>,
    picks: &[&'static Picture],
) -> HttpResponse {
    let c = Chrome::of(req, state, None).await;
    let (token, cookie) = state.csrf.issue(req, state.config.is_https());
    let PupilPageLinks {
        action,
        back_link,
        explain,
        home,
    } = links;
    let pictures = (user.pupil_auth == Some(PupilAuth::Picture)).then(|| PictureGrid {
        picks: picks.iter().map(|p| p.name).collect::<Vec<_>>().join(","),
        dots: (0..pictures::MAX_LEN).map(|i| i < picks.len()).collect(),
        chosen: c.t.pictures_chosen(picks.len()),
        grid: pictures::grid()
            .iter()
            .map(|p| (p.name, p.label(c.lang)))
            .collect(),
    });
    let body = SignInPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        school_name: school.name.clone(),
        pupil_name: user.given_name.clone(),
        initial: initial_of(user),
        colour: colour_of(&user.id),
        picture: picture_of(user),
        action,
        csrf_token: token,
        error,
        back_link,
        explain,
        home,
        pictures,
    }
    .render();
    let mut res = pages::html(StatusCode::OK, body);
    // The page may hold the pictures clicked so far: never from a cache or history.
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    pages::with_cookie(res, cookie)
}

/// Can pupils sign in from where this request comes, on the device it comes from? Inside the
/// school's networks no device is looked up.
async fn place_ok(req: &HttpRequest, state: &web::Data<AppState>, school: &School) -> bool {
    let ip = session::client_ip(req, state);
    pupil::in_school_network(school, ip.as_deref())
        || enrolled_here(req, state)
            .await
            .is_some_and(|e| e.school == school.instelling_ref)
}

async fn outside_network(req: &HttpRequest, state: &web::Data<AppState>) -> HttpResponse {
    let c = Chrome::of(req, state, None).await;
    pages::message(
        &c,
        StatusCode::FORBIDDEN,
        c.t.outside_network_title,
        c.t.outside_network,
        None,
        Some(("/thuis", c.t.home_entrance)),
    )
}

/// GET `/school/{ref}/leerling/{user}`: the PIN page.
pub async fn pupil_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    Pupil { school, user }: Pupil,
    q: web::Query<TargetQuery>,
) -> HttpResponse {
    if !place_ok(&req, &state, &school).await {
        return outside_network(&req, &state).await;
    }
    let links = school_links(&school, &user, q.target.as_deref(), q.auth.as_deref());
    sign_in_page(&req, &state, &school, &user, links, None, &[]).await
}

/// The pupil's form: `pin`, or the picture password's `picks` so far plus, without
/// JavaScript, the picture just clicked (`pick`) or the button pressed (`action`).
#[derive(Deserialize)]
pub struct PupilForm {
    pub(crate) csrf_token: String,
    pin: Option<String>,
    #[serde(default)]
    picks: String,
    pick: Option<String>,
    action: Option<String>,
}

opaque_debug!(PupilForm);

/// What a pupil's form asks for.
pub(crate) enum PupilStep {
    /// Check this secret.
    Check(PupilEntry),
    /// Show the picture grid again with these pictures clicked (no JavaScript), and maybe a
    /// message.
    Pictures(Vec<&'static Picture>, Option<&'static str>),
}

pub(crate) enum PupilEntry {
    Pin(String),
    /// The picture sequence, encoded.
    Pictures(String),
}

impl PupilEntry {
    pub(crate) fn secret(&self) -> PupilSecret<'_> {
        match self {
            Self::Pin(pin) => PupilSecret::Pin(pin),
            Self::Pictures(seq) => PupilSecret::Pictures(seq),
        }
    }
}

impl PupilForm {
    pub(crate) fn step(self, user: &User, t: &'static Texts) -> PupilStep {
        if user.pupil_auth != Some(PupilAuth::Picture) {
            return PupilStep::Check(PupilEntry::Pin(self.pin.unwrap_or_default()));
        }
        // Names that are not grid pictures cannot be part of anyone's password.
        let Ok(mut picks) = pictures::parse_picks(&self.picks) else {
            return PupilStep::Pictures(Vec::new(), Some(t.wrong_pictures));
        };
        if let Some(name) = self.pick {
            if let Some(p) = pictures::grid().iter().find(|p| p.name == name) {
                if picks.len() < pictures::MAX_LEN {
                    picks.push(p);
                }
            }
            return PupilStep::Pictures(picks, None);
        }
        if self.action.as_deref() == Some("opnieuw") {
            return PupilStep::Pictures(Vec::new(), None);
        }
        if picks.len() < pictures::MIN_LEN {
            return PupilStep::Pictures(picks, Some(t.pick_pictures_first));
        }
        match PictureSequence::parse(&self.picks) {
            Ok(seq) => PupilStep::Check(PupilEntry::Pictures(seq.encode())),
            Err(_) => PupilStep::Pictures(Vec::new(), Some(t.wrong_pictures)),
        }
    }
}

/// POST `/school/{ref}/leerling/{user}`: check the PIN or picture password.
pub async fn pupil_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    Pupil { school, user }: Pupil,
    q: web::Query<TargetQuery>,
    form: web::Form<PupilForm>,
) -> HttpResponse {
    let https = state.config.is_https();
    let user_id = user.id;
    let c = Chrome::of(&req, &state, None).await;
    if !state.csrf.verify(&req, https, &form.csrf_token) {
        return pages::page_expired(&c);
    }
    // The device's row is read here in any case: its signed id is what the PIN limits count.
    let enrolled = enrolled_here(&req, &state).await;
    let ip = session::client_ip(&req, &state);
    let ok_place =
        pupil::pupil_place_ok(&school, ip.as_deref(), enrolled.as_ref().map(|e| &e.school));
    let device = device_id(&req, https);
    let previous = session::sid_of(&req, https);
    let now = state.clock.now_secs();
    let signed_device = signed_device_id(&req, &state, enrolled.as_ref(), https, now);
    let entry = match form.into_inner().step(&user, c.t) {
        PupilStep::Check(entry) => entry,
        PupilStep::Pictures(_, _) if !ok_place => return outside_network(&req, &state).await,
        PupilStep::Pictures(picks, message) => {
            let links = school_links(&school, &user, q.target.as_deref(), q.auth.as_deref());
            return sign_in_page(&req, &state, &school, &user, links, message, &picks).await;
        }
    };
    let st = state.clone();
    let sch = school.clone();
    let target = q.target.clone().filter(|t| !t.is_empty());
    // A waiting request is answered after the sign-in (it decides again, as for anyone).
    let resume =
        discovery::pending_auth(q.auth.as_deref()).map(|a| crate::oidc::authorize::resume_url(&a));
    let result = web::block(move || {
        let counted = pupil::pupil_login(
            &st.world(),
            &st.pins,
            st.login_policy(),
            &sch,
            user_id,
            entry.secret(),
            ip.as_deref(),
            &device,
            signed_device.as_deref(),
            ok_place,
            previous.as_deref(),
            now,
        );
        st.metrics.login("pupil", counted.result);
        let outcome = counted.outcome;
        let dest = match &outcome {
            PupilOutcome::Ok(_) if resume.is_some() => resume,
            PupilOutcome::Ok(s) => shortcut::destination_of_target(&st, &sch, s, target.as_deref()),
            _ => None,
        };
        (outcome, dest)
    })
    .await;
    let error = match result {
        Ok((PupilOutcome::Ok(s), dest)) => {
            let mut res = pages::redirect(&dest.unwrap_or_else(|| "/".into()));
            let _ = res.add_cookie(&session::session_cookie(&s, https));
            return res;
        }
        Ok((PupilOutcome::OutsideNetwork, _)) => return outside_network(&req, &state).await,
        Ok((PupilOutcome::Wrong, _)) if user.pupil_auth == Some(PupilAuth::Picture) => {
            c.t.wrong_pictures
        }
        Ok((PupilOutcome::Wrong, _)) => c.t.wrong_pin,
        Ok((PupilOutcome::Locked { .. }, _)) => c.t.pupil_locked,
        Ok((PupilOutcome::Throttled, _)) => c.t.throttled,
        Ok((PupilOutcome::Unavailable, _)) | Err(_) => c.t.unavailable,
    };
    let links = school_links(&school, &user, q.target.as_deref(), q.auth.as_deref());
    sign_in_page(&req, &state, &school, &user, links, Some(error), &[]).await
}

#[derive(Template)]
#[template(path = "shortcuts.html")]
struct ShortcutsPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    school_name: String,
    pupil_url: String,
    teacher_url: String,
    pupil_files: Vec<(String, String)>,
    teacher_files: Vec<(String, String)>,
}

/// The staff member's school, if `raw` leads to it (following mergers); `None` otherwise.
async fn staff_school(
    state: &web::Data<AppState>,
    staff: Staff,
    raw: String,
) -> Result<Option<School>, PageError> {
    let st = state.clone();
    failure::blocking(move || match shortcut::resolve_school(&st, &raw) {
        Ok(school) => Ok((school.instelling_ref == staff.school.instelling_ref).then_some(school)),
        Err(ShortcutError::Unavailable) => Err(PageError::Unavailable("directory".into())),
        Err(_) => Ok(None),
    })
    .await
}

/// GET `/school/{ref}/snelkoppelingen`: staff download the school's shortcuts.
pub async fn shortcuts(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    staff: Staff,
) -> Result<HttpResponse, PageError> {
    let school = staff_school(&state, staff, path.into_inner())
        .await?
        .ok_or(PageError::SignIn)?;
    let c = Chrome::of(&req, &state, None).await;
    let files = match crate::shortcut_files::files(
        &state.config.issuer,
        &school.instelling_ref,
        &school.name,
        None,
    ) {
        Ok(f) => f,
        Err(_) => {
            return Ok(pages::message(
                &c,
                StatusCode::INTERNAL_SERVER_ERROR,
                c.t.unavailable,
                c.t.unavailable,
                None,
                None,
            ))
        }
    };
    let link = |f: &crate::shortcut_files::ShortcutFile| {
        (
            format!(
                "/school/{}/snelkoppelingen/{}",
                school.instelling_ref, f.name
            ),
            f.name.clone(),
        )
    };
    let page = ShortcutsPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        pupil_url: crate::shortcut_files::shortcut_url(
            &state.config.issuer,
            &school.instelling_ref,
            "leerling",
            None,
        ),
        teacher_url: crate::shortcut_files::shortcut_url(
            &state.config.issuer,
            &school.instelling_ref,
            "leerkracht",
            None,
        ),
        pupil_files: files
            .iter()
            .filter(|f| f.name.contains("-leerling"))
            .map(link)
            .collect(),
        teacher_files: files
            .iter()
            .filter(|f| f.name.contains("-leerkracht"))
            .map(link)
            .collect(),
        school_name: school.name,
    };
    Ok(pages::html(StatusCode::OK, page.render()))
}

/// GET `/school/{ref}/snelkoppelingen/{file}`: one shortcut file, as a download.
pub async fn shortcut_file(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    staff: Result<Staff, PageError>,
) -> Result<HttpResponse, PageError> {
    let (raw, name) = path.into_inner();
    let school = match staff {
        Ok(staff) => staff_school(&state, staff, raw).await?,
        Err(PageError::SignIn) => None,
        Err(e) => return Err(e),
    };
    let Some(school) = school else {
        return Ok(HttpResponse::Forbidden().finish());
    };
    let Ok(files) = crate::shortcut_files::files(
        &state.config.issuer,
        &school.instelling_ref,
        &school.name,
        None,
    ) else {
        return Ok(HttpResponse::InternalServerError().finish());
    };
    Ok(match files.into_iter().find(|f| f.name == name) {
        Some(f) => HttpResponse::Ok()
            .content_type(f.content_type)
            .insert_header((
                "content-disposition",
                format!("attachment; filename=\"{}\"", f.name),
            ))
            .insert_header(("cache-control", "no-store"))
            .body(f.bytes),
        None => HttpResponse::NotFound().finish(),
    })
}
