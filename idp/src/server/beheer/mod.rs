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
        "gebruikersgegevens" => b.import_title,
        "invalkrachten" => b.subs_title,
        "logboek" => b.logbook_title,
        "opheffen" => b.closing_title,
        "niveaus" => t.niveaus.title,
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

impl Beheerder {
    /// Runs `f` on the blocking pool with the application and this coordinator (the storage
    /// calls of a Beheer page).
    async fn blocking<T, F>(&self, state: &web::Data<AppState>, f: F) -> Result<T, PageError>
    where
        F: FnOnce(&AppState, &Coordinator) -> Result<T, PageError> + Send + 'static,
        T: Send + 'static,
    {
        let (st, coordinator) = (state.clone(), self.coordinator.clone());
        failure::blocking(move || f(&st, &coordinator)).await
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
        Refusal::NiveauInvalid => b.refused_niveau,
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

/// A staff member's id from the path; anything else is 404.
fn user_in_path(path: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(path).map_err(|_| PageError::NotFound)
}

mod fusie;
mod gebruikersgegevens;
mod invalkrachten;
mod logboek;
mod niveaus;
mod personeel;
mod school;
mod sjabloon;
mod toestemming;

pub use fusie::merger_consent_submit;
pub use gebruikersgegevens::{
    import_check, import_confirm, import_form, method_submit, IMPORT_UPLOAD_LIMIT,
};
pub use invalkrachten::{substitutes_activate, substitutes_end, substitutes_list};
pub use logboek::logbook;
pub use niveaus::{
    group_levels_form, group_levels_submit, niveaus_form, niveaus_group_submit,
    niveaus_pupil_submit, pupil_levels_submit,
};
pub use personeel::{staff_action, staff_add, staff_list, staff_remove_confirm};
pub use school::{dynamic_ip_submit, networks_submit, overview};
pub use sjabloon::{template_csv, template_xlsx};
pub use toestemming::{consent_form, consent_submit};

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
