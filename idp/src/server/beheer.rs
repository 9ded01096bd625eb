//! Beheer, the ICT coordinator's pages (`/beheer`): consent per publisher and network
//! environment, and the school's staff. Each handler takes the signed-in coordinator
//! ([`Beheerder`]), calls one `broker::beheer` operation and renders. The school is always the
//! coordinator's own: no page takes a school from the request, and an id of another school's
//! staff member gets the same 404 as an id that does not exist. Every page works without
//! JavaScript; every change is a POST with the CSRF token.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use broker::beheer::consent::{self, Party};
use broker::beheer::staff::{self, NewStaff, StaffList};
use broker::beheer::{BeheerError, Coordinator, Refusal};
use broker::model::{RpKind, School, SchoolStatus, User, UserStatus};
use catalogue::{BeheerTexts, Texts};
use claims::Role;
use serde::Deserialize;
use uuid::Uuid;

use super::dynamic_ip::{self, DynamicView};
use super::extract::{csrf_protected, ClientAddr, CsrfChecked, Staff};
use super::failure::{self, PageError};
use super::groepen::ConfirmPage;
use super::pages::{self, Chrome};
use crate::app::AppState;

/// What a Beheer page says after a change, and the CSRF token of its forms.
#[derive(Default)]
struct Outcome {
    done: Option<String>,
    refused: Option<String>,
    csrf_token: String,
}

impl Outcome {
    /// The outcome of `message`, with a CSRF token (and the cookie that goes with it).
    fn issue(
        req: &HttpRequest,
        state: &web::Data<AppState>,
        message: Option<Message>,
    ) -> (Self, Option<actix_web::cookie::Cookie<'static>>) {
        let (csrf_token, cookie) = state.csrf.issue(req, state.config.is_https());
        let (done, refused) = Message::split(message);
        let outcome = Outcome {
            done,
            refused,
            csrf_token,
        };
        (outcome, cookie)
    }
}

/// The heading of the Beheer page `current` names (as the navigation does).
fn heading(t: &'static Texts, current: &str) -> &'static str {
    let b = t.beheer;
    match current {
        "toestemming" => b.consent_title,
        "personeel" => b.staff_title,
        "invalkrachten" => b.subs_title,
        "logboek" => b.logbook_title,
        "opheffen" => b.closing_title,
        _ => b.title,
    }
}

/// A Beheer page's template: the frame every page shares (`beheer_base.html`: the visitor's
/// language, the notice, the school, the navigation, the heading and the outcome) and its
/// own fields.
macro_rules! beheer_template {
    ($name:ident, $path:literal, { $($(#[$m:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Template)]
        #[template(path = $path)]
        struct $name<'a> {
            t: &'static Texts,
            lang: &'static str,
            notice: Option<String>,
            school: &'a School,
            current: &'static str,
            heading: &'static str,
            outcome: Outcome,
            $($(#[$m])* $field: $ty),*
        }
    };
}

/// A Beheer page: the shared frame from the chrome `c`, the school, the page's name in the
/// navigation and the outcome, then the page's own fields.
macro_rules! beheer_page {
    ($name:ident, $c:expr, $school:expr, $current:literal, $outcome:expr, { $($field:ident $(: $value:expr)?),* $(,)? }) => {
        $name {
            t: $c.t,
            lang: $c.lang,
            notice: $c.notice.clone(),
            school: $school,
            current: $current,
            heading: heading($c.t, $current),
            outcome: $outcome,
            $($field $(: $value)?),*
        }
    };
}

/// A GET handler that shows a Beheer page as it is, no change made.
macro_rules! shown_as_is {
    ($(#[$doc:meta])* $handler:ident => $page:ident) => {
        $(#[$doc])*
        pub async fn $handler(
            req: HttpRequest,
            state: web::Data<AppState>,
            b: Beheerder,
        ) -> Result<HttpResponse, PageError> {
            $page(&req, &state, b, None).await
        }
    };
}

/// A rendered page, with the CSRF cookie when one was issued.
fn respond(
    page: &impl Template,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    pages::with_cookie(pages::html(StatusCode::OK, page.render()), cookie)
}

/// The signed-in ICT coordinator and their school, which is active. Other signed-in staff, and
/// the coordinators of a closed or merged school, get 404 (there is no Beheer of theirs to
/// see); without a session, the sign-in form.
#[derive(Debug, Clone)]
pub struct Beheerder {
    pub coordinator: Coordinator,
    pub school: School,
}

impl actix_web::FromRequest for Beheerder {
    type Error = PageError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let staff = Staff::from_request(req, payload);
        Box::pin(async move {
            let Staff { user, school } = staff.await?;
            if school.status != SchoolStatus::Active {
                return Err(PageError::NotFound);
            }
            let coordinator = Coordinator::of(user).ok_or(PageError::NotFound)?;
            Ok(Beheerder {
                coordinator,
                school,
            })
        })
    }
}

impl From<BeheerError> for PageError {
    fn from(e: BeheerError) -> Self {
        match e {
            BeheerError::NotFound => PageError::NotFound,
            other => PageError::Unavailable(other.to_string()),
        }
    }
}

/// A refusal in the visitor's language.
fn refusal(b: &BeheerTexts, r: Refusal) -> &'static str {
    match r {
        Refusal::LastCoordinator => b.refused_last_coordinator,
        Refusal::NameMissing => b.refused_name_missing,
        Refusal::EmailInvalid => b.refused_email_invalid,
        Refusal::EmailTaken => b.refused_email_taken,
        Refusal::RoleNotAllowed => b.refused_role,
        Refusal::NoLink => b.refused_no_link,
        Refusal::DaysNotAllowed => b.refused_days,
        Refusal::NetworkInvalid => b.refused_network,
        Refusal::NetworkTooWide => b.refused_network_wide,
        Refusal::TooManyNetworks => b.refused_networks_many,
    }
}

/// The outcome of a change: a message to show (done or refused), or a page error.
fn outcome<T>(
    b: &BeheerTexts,
    r: broker::beheer::Result<T>,
    done: impl FnOnce(T) -> String,
) -> Result<Message, PageError> {
    match r {
        Ok(v) => Ok(Message::Done(done(v))),
        Err(BeheerError::Refused(why)) => Ok(Message::Refused(refusal(b, why).to_string())),
        Err(e) => Err(e.into()),
    }
}

/// What a page says after a change.
enum Message {
    Done(String),
    Refused(String),
}

impl Message {
    fn split(m: Option<Message>) -> (Option<String>, Option<String>) {
        match m {
            Some(Message::Done(s)) => (Some(s), None),
            Some(Message::Refused(s)) => (None, Some(s)),
            None => (None, None),
        }
    }
}

beheer_template!(OverviewPage, "beheer.html", {
    networks: Vec<String>,
    /// The visitor's address, offered as a network, and what the page says of it.
    suggestion: String,
    your_address: Option<String>,
    dynamic: DynamicView,
});

fn overview_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    c: &Chrome,
    (school, dynamic): (&School, DynamicView),
    ip: Option<&str>,
    message: Option<Message>,
) -> HttpResponse {
    let inside = broker::login::pupil::in_school_network(school, ip);
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(OverviewPage, c, school, "", outcome, {
        networks: school.networks.iter().map(|n| n.to_string()).collect(),
        suggestion: if inside {
            String::new()
        } else {
            ip.unwrap_or_default().to_string()
        },
        your_address: ip.map(|a| c.t.beheer.your_address(a, inside)),
        dynamic,
    });
    respond(&page, cookie)
}

/// GET `/beheer`: the school's details (name, BRIN, INSTELLING_REF) and its networks, with the
/// visitor's current address offered as one.
pub async fn overview(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    ClientAddr(ip): ClientAddr,
) -> Result<HttpResponse, PageError> {
    let c = Chrome::of(&req, &state, None).await;
    let dynamic = dynamic_ip::view(&state, &b.school, None).await?;
    let school = (&b.school, dynamic);
    Ok(overview_page(&req, &state, &c, school, ip.as_deref(), None))
}

/// The networks form: `netwerk`, and `action` `toevoegen` or `verwijderen`.
#[derive(Debug, Deserialize)]
pub struct NetworkForm {
    csrf_token: String,
    action: String,
    #[serde(default)]
    netwerk: String,
}

csrf_protected!(NetworkForm);

/// POST `/beheer/netwerken`: add or remove a school network.
pub async fn networks_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    ClientAddr(ip): ClientAddr,
    CsrfChecked(form): CsrfChecked<NetworkForm>,
) -> Result<HttpResponse, PageError> {
    use broker::beheer::school;
    let add = match form.action.as_str() {
        "toevoegen" => true,
        "verwijderen" => false,
        _ => return Err(PageError::NotFound),
    };
    let st = state.clone();
    let (coordinator, current) = (b.coordinator.clone(), b.school.clone());
    let changed = failure::blocking(move || {
        let (dir, clock) = (st.dir.as_ref(), st.clock.as_ref());
        let edit = if add {
            school::NetworkEdit::Add(&form.netwerk)
        } else {
            school::NetworkEdit::Remove(&form.netwerk)
        };
        Ok(school::edit_networks(
            dir,
            clock,
            &coordinator,
            &current,
            &[edit],
        ))
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    let (school, m) = match changed {
        Ok(s) => (s, Message::Done(c.t.beheer.networks_saved.to_string())),
        Err(BeheerError::Refused(r)) => (
            b.school.clone(),
            Message::Refused(refusal(c.t.beheer, r).to_string()),
        ),
        Err(e) => return Err(e.into()),
    };
    let dynamic = dynamic_ip::view(&state, &school, None).await?;
    let shown = (&school, dynamic);
    Ok(overview_page(
        &req,
        &state,
        &c,
        shown,
        ip.as_deref(),
        Some(m),
    ))
}

/// The Dynamic IP form: `action` `sleutel` (turn on, or a new key) or `uitzetten`.
#[derive(Debug, Deserialize)]
pub struct DynamicIpForm {
    csrf_token: String,
    action: String,
}

csrf_protected!(DynamicIpForm);

/// POST `/beheer/dynamic-ip`: select Dynamic IP or make a new key (shown once), or turn it
/// off.
pub async fn dynamic_ip_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    ClientAddr(ip): ClientAddr,
    CsrfChecked(form): CsrfChecked<DynamicIpForm>,
) -> Result<HttpResponse, PageError> {
    use broker::beheer::dynamic_ip as dynip;
    let new_key = match form.action.as_str() {
        "sleutel" => true,
        "uitzetten" => false,
        _ => return Err(PageError::NotFound),
    };
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    let (token, school) = failure::blocking(move || {
        let w = st.world();
        let token = if new_key {
            Some(dynip::new_token(&w, &coordinator)?.token)
        } else {
            dynip::turn_off(&w, &coordinator).map(|()| None)?
        };
        let school = w.dir.school(coordinator.school())?;
        Ok((token, school.ok_or(PageError::NotFound)?))
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let m = Message::Done(
        if new_key {
            bt.dynip_done_on
        } else {
            bt.dynip_done_off
        }
        .into(),
    );
    let dynamic = dynamic_ip::view(&state, &school, token).await?;
    let shown = (&school, dynamic);
    Ok(overview_page(
        &req,
        &state,
        &c,
        shown,
        ip.as_deref(),
        Some(m),
    ))
}

/// One party on the consent page.
struct PartyRow {
    field: String,
    name: String,
    kind: &'static str,
    at_home: &'static str,
    receives: String,
    ticked: bool,
}

impl PartyRow {
    fn of(p: &Party, b: &BeheerTexts) -> Self {
        let mut receives = vec![b.receives_always];
        for (on, what) in [
            (p.release.names, b.receives_names),
            (p.release.eckid, b.receives_eckid),
            (p.release.groups, b.receives_groups),
        ] {
            if on {
                receives.push(what);
            }
        }
        PartyRow {
            field: format!("rp-{}", p.rp.id),
            name: p.rp.name.clone(),
            kind: match p.rp.kind {
                RpKind::Publisher => b.kind_publisher,
                RpKind::Network => b.kind_network,
            },
            at_home: if p.at_home() { b.yes } else { b.no },
            receives: receives.join(", "),
            ticked: p.ticked,
        }
    }
}

beheer_template!(ConsentPage, "beheer_toestemming.html", {
    parties: Vec<PartyRow>,
});

async fn consent_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    b: Beheerder,
    message: Option<Message>,
) -> Result<HttpResponse, PageError> {
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    let parties =
        failure::blocking(move || Ok(consent::parties(st.dir.as_ref(), &coordinator)?)).await?;
    let c = Chrome::of(req, state, None).await;
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(ConsentPage, c, &b.school, "toestemming", outcome, {
        parties: parties
            .iter()
            .map(|p| PartyRow::of(p, c.t.beheer))
            .collect(),
    });
    Ok(respond(&page, cookie))
}

shown_as_is!(
    /// GET `/beheer/toestemming`: every connected publisher and network provider, ticked or not.
    consent_form => consent_page
);

/// The consent form: the CSRF token and one `rp-<id>` field per ticked party.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    csrf_token: String,
    #[serde(flatten)]
    ticks: HashMap<String, String>,
}

csrf_protected!(ConsentForm);

/// POST `/beheer/toestemming`: exactly the ticked parties are allowed from now on.
pub async fn consent_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    CsrfChecked(form): CsrfChecked<ConsentForm>,
) -> Result<HttpResponse, PageError> {
    let mut ticked = BTreeSet::new();
    for key in form.ticks.keys() {
        let id = key
            .strip_prefix("rp-")
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or(PageError::NotFound)?;
        ticked.insert(id);
    }
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    let saved = failure::blocking(move || {
        Ok(consent::save(
            st.dir.as_ref(),
            st.clock.as_ref(),
            &coordinator,
            &ticked,
        )?)
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    let text = if saved == consent::Saved::default() {
        c.t.beheer.consent_unchanged
    } else {
        c.t.beheer.consent_saved
    };
    consent_page(&req, &state, b, Some(Message::Done(text.to_string()))).await
}

/// One staff member on the staff page.
struct StaffRow {
    id: Uuid,
    name: String,
    email: String,
    roles: String,
    status: &'static str,
    disabled: bool,
    inactive: bool,
    /// The extra roles they could still be given, and those they hold (which can be taken).
    give: Vec<(&'static str, &'static str)>,
    take: Vec<(&'static str, &'static str)>,
}

fn role_name(b: &BeheerTexts, r: Role) -> &'static str {
    match r {
        Role::Leerkracht => b.role_teacher,
        Role::IctCoordinator => b.role_coordinator,
        Role::Ib => b.role_ib,
        Role::Rt => b.role_rt,
        Role::Stagiaire => b.role_trainee,
        Role::Leerling | Role::Invalkracht => "",
    }
}

impl StaffRow {
    fn of(u: &User, b: &BeheerTexts) -> Self {
        let given = |r: &Role| (r.as_str(), role_name(b, *r));
        StaffRow {
            id: u.id,
            name: u.display_name(),
            email: u.email.clone().unwrap_or_default(),
            roles: u
                .roles
                .iter()
                .map(|r| role_name(b, *r))
                .collect::<Vec<_>>()
                .join(", "),
            status: match u.status {
                UserStatus::Active => b.status_active,
                UserStatus::Inactive => b.status_inactive,
                _ => b.status_disabled,
            },
            disabled: u.status == UserStatus::Disabled,
            inactive: u.status == UserStatus::Inactive,
            give: staff::GIVEN_ROLES
                .iter()
                .filter(|r| !u.roles.contains(r))
                .map(given)
                .collect(),
            take: staff::GIVEN_ROLES
                .iter()
                .filter(|r| u.roles.contains(r) && u.roles.len() > 1)
                .map(given)
                .collect(),
        }
    }
}

beheer_template!(StaffPage, "beheer_personeel.html", {
    lists: Vec<(&'static str, Vec<StaffRow>)>,
    roles: Vec<(&'static str, &'static str)>,
});

async fn staff_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    b: Beheerder,
    message: Option<Message>,
) -> Result<HttpResponse, PageError> {
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    let list: StaffList =
        failure::blocking(move || Ok(staff::list(st.dir.as_ref(), &coordinator)?)).await?;
    let c = Chrome::of(req, state, None).await;
    let bt = c.t.beheer;
    let rows = |l: &[User]| l.iter().map(|u| StaffRow::of(u, bt)).collect::<Vec<_>>();
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(StaffPage, c, &b.school, "personeel", outcome, {
        lists: vec![
            (bt.coordinators, rows(&list.coordinators)),
            (bt.teachers, rows(&list.teachers)),
            (bt.support, rows(&list.support)),
        ],
        roles: staff::GIVEN_ROLES
            .iter()
            .map(|r| (r.as_str(), role_name(bt, *r)))
            .collect(),
    });
    Ok(respond(&page, cookie))
}

shown_as_is!(
    /// GET `/beheer/personeel`: the school's coordinators, teachers and support staff.
    staff_list => staff_page
);

/// The form that adds a staff member.
#[derive(Debug, Deserialize)]
pub struct AddForm {
    csrf_token: String,
    #[serde(default)]
    voornaam: String,
    #[serde(default)]
    achternaam: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    rol: String,
}

csrf_protected!(AddForm);

/// POST `/beheer/personeel`: add an ICT coordinator or support-staff member, who receives an
/// activation link.
pub async fn staff_add(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    CsrfChecked(form): CsrfChecked<AddForm>,
) -> Result<HttpResponse, PageError> {
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    let role = Role::from_str(&form.rol).map_err(|_| PageError::NotFound)?;
    let new = NewStaff {
        given_name: form.voornaam,
        family_name: form.achternaam,
        email: form.email,
        role,
    };
    let added =
        failure::blocking(move || Ok(staff::add(&st.world(), st.credentials(), &coordinator, new)))
            .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let m = outcome(bt, added, |i| {
        if i.link_sent {
            bt.staff_added(&i.user.display_name())
        } else {
            bt.staff_added_no_mail(&i.user.display_name())
        }
    })?;
    staff_page(&req, &state, b, Some(m)).await
}

/// A staff member's id from the path; anything else is 404.
fn user_in_path(path: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(path).map_err(|_| PageError::NotFound)
}

/// The form of an action on one staff member: its CSRF token (and, to change a role, which
/// and whether to give or take it).
#[derive(Debug, Deserialize)]
pub struct StaffActionForm {
    csrf_token: String,
    #[serde(default)]
    rol: String,
    #[serde(default)]
    geven: String,
}

csrf_protected!(StaffActionForm);

/// What can be done to one staff member.
#[derive(Debug, Clone, Copy)]
pub enum StaffAction {
    Link,
    Disable,
    Enable,
    Remove,
    Role,
}

/// POST `/beheer/personeel/{user}/{action}`: resend the link, block, unblock, remove, or give
/// or take a role. `action` is `link`, `blokkeren`, `deblokkeren`, `verwijderen` or `rol`.
pub async fn staff_action(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    path: web::Path<(String, String)>,
    CsrfChecked(form): CsrfChecked<StaffActionForm>,
) -> Result<HttpResponse, PageError> {
    let (user, action) = path.into_inner();
    let user = user_in_path(&user)?;
    let action = match action.as_str() {
        "link" => StaffAction::Link,
        "blokkeren" => StaffAction::Disable,
        "deblokkeren" => StaffAction::Enable,
        "verwijderen" => StaffAction::Remove,
        "rol" => StaffAction::Role,
        _ => return Err(PageError::NotFound),
    };
    let role = match action {
        StaffAction::Role => Some(Role::from_str(&form.rol).map_err(|_| PageError::NotFound)?),
        _ => None,
    };
    let give = form.geven == "1";
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    let done = failure::blocking(move || {
        let (dir, clock) = (st.dir.as_ref(), st.clock.as_ref());
        let c = &coordinator;
        Ok(match (action, role) {
            (StaffAction::Link, _) => staff::resend_link(&st.world(), c, user),
            (StaffAction::Disable, _) => staff::offboard(dir, clock, c, user, false),
            (StaffAction::Remove, _) => staff::offboard(dir, clock, c, user, true),
            (StaffAction::Enable, _) => staff::enable(dir, clock, c, user),
            (StaffAction::Role, Some(r)) => staff::set_role(dir, clock, c, user, r, give),
            (StaffAction::Role, None) => Err(BeheerError::NotFound),
        })
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let m = outcome(bt, done, |u| match action {
        StaffAction::Link => bt.link_sent(u.email.as_deref().unwrap_or_default()),
        StaffAction::Disable => bt.disabled_done.to_string(),
        StaffAction::Enable => bt.enabled_done.to_string(),
        StaffAction::Remove => bt.removed_done.to_string(),
        StaffAction::Role => bt.roles_done.to_string(),
    })?;
    staff_page(&req, &state, b, Some(m)).await
}

/// GET `/beheer/personeel/{user}/verwijderen`: what removing does, and its button.
pub async fn staff_remove_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user = user_in_path(&path)?;
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    failure::blocking(move || Ok(coordinator.own_user(st.dir.as_ref(), user)?)).await?;
    let c = Chrome::of(&req, &state, None).await;
    let (token, cookie) = state.csrf.issue(&req, state.config.is_https());
    let b = c.t.beheer;
    let words = [b.remove_title, b.remove_confirm, b.remove];
    let page = ConfirmPage::new(
        c,
        req.path().to_string(),
        token,
        words,
        ("/beheer/personeel", b.staff_title),
    );
    Ok(respond(&page, cookie))
}

beheer_template!(ClosingPage, "beheer_opheffen.html", {});

fn closing_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    c: &Chrome,
    school: &School,
    message: Option<Message>,
) -> HttpResponse {
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(ClosingPage, c, school, "opheffen", outcome, {});
    respond(&page, cookie)
}

/// GET `/beheer/opheffen`: what closing the account does, and the form that asks for it.
pub async fn closing_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
) -> HttpResponse {
    let c = Chrome::of(&req, &state, None).await;
    closing_page(&req, &state, &c, &b.school, None)
}

/// The closing form: the CSRF token and the confirmation box.
#[derive(Debug, Deserialize)]
pub struct ClosingForm {
    csrf_token: String,
    #[serde(default)]
    zeker: String,
}

csrf_protected!(ClosingForm);

/// POST `/beheer/opheffen`: untick everything and tell the operator. Without the ticked
/// confirmation box nothing happens.
pub async fn closing_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    CsrfChecked(form): CsrfChecked<ClosingForm>,
) -> Result<HttpResponse, PageError> {
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    if form.zeker != "ja" {
        let m = Message::Refused(bt.closing_confirm.to_string());
        return Ok(closing_page(&req, &state, &c, &b.school, Some(m)));
    }
    let st = state.clone();
    let (coordinator, school) = (b.coordinator.clone(), b.school.clone());
    let requested = failure::blocking(move || {
        let operator = st.config.operator_email.as_deref();
        Ok(broker::beheer::closing::request(
            &st.world(),
            &coordinator,
            &school,
            operator,
        )?)
    })
    .await?;
    let text = if requested.operator_mailed {
        bt.closing_done
    } else {
        bt.closing_not_mailed
    };
    let m = Message::Done(text.to_string());
    Ok(closing_page(&req, &state, &c, &b.school, Some(m)))
}

/// One line of the Logboek as the page shows it.
struct LogRow {
    when: String,
    kind: &'static str,
    what: String,
    who: String,
    about: String,
}

beheer_template!(LogbookPage, "beheer_logboek.html", {
    /// (slug, label, selected); the first is "everything".
    kinds: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<LogRow>,
    older: Option<String>,
});

/// The Logboek's query: `soort` (a kind's slug) and `voor` (the next page starts before it).
#[derive(Debug, Deserialize)]
pub struct LogbookQuery {
    #[serde(default)]
    soort: String,
    voor: Option<i64>,
}

/// GET `/beheer/logboek?soort=…&voor=…`: the school's audit trail, newest first.
pub async fn logbook(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    q: web::Query<LogbookQuery>,
) -> Result<HttpResponse, PageError> {
    use broker::beheer::logboek::{self, Actor, Kind};
    let kind = match q.soort.as_str() {
        "" => None,
        s => Some(Kind::from_slug(s).ok_or(PageError::NotFound)?),
    };
    let before = q.voor;
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    let page =
        failure::blocking(move || Ok(logboek::page(st.dir.as_ref(), &coordinator, kind, before)?))
            .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let label = |k: Kind| {
        Kind::ALL
            .iter()
            .position(|x| *x == k)
            .map_or("", |i| bt.logbook_kinds[i])
    };
    let mut kinds = vec![("", bt.logbook_all, kind.is_none())];
    kinds.extend(
        Kind::ALL
            .iter()
            .map(|k| (k.slug(), label(*k), kind == Some(*k))),
    );
    let rows = page
        .lines
        .iter()
        .map(|l| LogRow {
            when: catalogue::local_time(l.at, "%-d-%-m-%Y %H:%M"),
            kind: l.kind.map_or("", label),
            what: bt.action(&l.action).to_string(),
            who: match &l.actor {
                Actor::Person(name) => name.clone(),
                Actor::Operator => bt.actor_operator.to_string(),
                Actor::Leerpoort => bt.actor_leerpoort.to_string(),
            },
            about: l.subject.clone().unwrap_or_default(),
        })
        .collect();
    let older = page.older.map(|at| {
        let soort = kind.map_or(String::new(), |k| format!("soort={}&", k.slug()));
        format!("/beheer/logboek?{soort}voor={at}")
    });
    let page = beheer_page!(LogbookPage, c, &b.school, "logboek", Outcome::default(), {
        kinds,
        rows,
        older,
    });
    Ok(respond(&page, None))
}

/// One group on the substitutes page.
struct SlotRow {
    group_id: Uuid,
    group: String,
    substitute: Option<String>,
    until: String,
    account: Uuid,
}

beheer_template!(SubstitutesPage, "beheer_invalkrachten.html", {
    slots: Vec<SlotRow>,
    days: Vec<(u8, &'static str)>,
});

/// The last day a substitution runs (it ends at midnight after it).
fn last_day(until: i64) -> String {
    catalogue::local_time(until - 1, "%-d-%-m-%Y")
}

async fn substitutes_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    b: Beheerder,
    message: Option<Message>,
) -> Result<HttpResponse, PageError> {
    use broker::beheer::substitutes;
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    let slots = failure::blocking(move || {
        let ctx = coordinator.ctx(st.dir.as_ref(), st.clock.as_ref());
        Ok(substitutes::slots(ctx, coordinator.school())?)
    })
    .await?;
    let c = Chrome::of(req, state, None).await;
    let bt = c.t.beheer;
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(SubstitutesPage, c, &b.school, "invalkrachten", outcome, {
        slots: slots
            .iter()
            .map(|s| SlotRow {
                group_id: s.group.id,
                group: s.group.name.clone(),
                substitute: s.substitution.as_ref().map(|_| s.account.display_name()),
                until: s
                    .substitution
                    .as_ref()
                    .map(|x| last_day(x.until))
                    .unwrap_or_default(),
                account: s.account.id,
            })
            .collect(),
        days: substitutes::DAYS
            .iter()
            .zip(bt.subs_day_options)
            .map(|(d, label)| (*d, label))
            .collect(),
    });
    Ok(respond(&page, cookie))
}

shown_as_is!(
    /// GET `/beheer/invalkrachten`: every group, who substitutes there and until when.
    substitutes_list => substitutes_page
);

/// The form that activates a group's substitute account.
#[derive(Debug, Deserialize)]
pub struct ActivateForm {
    csrf_token: String,
    groep: String,
    #[serde(default)]
    naam: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    dagen: String,
}

csrf_protected!(ActivateForm);

/// POST `/beheer/invalkrachten`: activate a group's substitute account ("Activeer").
pub async fn substitutes_activate(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    CsrfChecked(form): CsrfChecked<ActivateForm>,
) -> Result<HttpResponse, PageError> {
    use broker::beheer::substitutes::{self, Substitute};
    let group = Uuid::parse_str(&form.groep).map_err(|_| PageError::NotFound)?;
    let who = Substitute {
        name: form.naam,
        email: form.email,
        days: form.dagen.parse().unwrap_or(0),
    };
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    let activated = failure::blocking(move || {
        let ctx = coordinator.ctx(st.dir.as_ref(), st.clock.as_ref());
        let by = coordinator.user.as_ref().map(|u| u.id);
        Ok(substitutes::activate(
            &st.world(),
            ctx,
            coordinator.school(),
            group,
            who,
            by,
        ))
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let m = outcome(bt, activated, |a| {
        let (name, until) = (a.account.display_name(), last_day(a.until));
        if a.link_sent {
            bt.subs_activated(&name, &a.group.name, &until)
        } else {
            bt.subs_activated_no_mail(&name, &a.group.name, &until)
        }
    })?;
    substitutes_page(&req, &state, b, Some(m)).await
}

/// POST `/beheer/invalkrachten/{user}/beeindigen`: end a substitution before its time.
pub async fn substitutes_end(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    path: web::Path<String>,
    CsrfChecked(_): CsrfChecked<super::pages::CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let account = user_in_path(&path)?;
    let st = state.clone();
    let coordinator = b.coordinator.clone();
    failure::blocking(move || {
        let ctx = coordinator.ctx(st.dir.as_ref(), st.clock.as_ref());
        Ok(broker::beheer::substitutes::end(
            ctx,
            coordinator.school(),
            account,
        )?)
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    let m = Message::Done(c.t.beheer.subs_ended.to_string());
    substitutes_page(&req, &state, b, Some(m)).await
}
