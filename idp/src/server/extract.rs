//! What page handlers take from a request, read once and in one way: the client's address
//! (with the trusted-proxy rules of [`crate::forwarded`]), whoever is signed in, the signed-in
//! staff member, the pupil a school page names, and a form whose CSRF token has been checked. A handler names what it needs in its arguments; a
//! request without it never reaches the handler (see [`PageError`] for what it gets instead).

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use broker::login::pupil;
use broker::model::{School, User};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::failure::{self, PageError};
use crate::app::AppState;
use crate::session::{self, Found, SsoSession};
use crate::shortcut::{self, ShortcutError};

pub(super) fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, PageError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| PageError::Unavailable("no application state".into()))
}

/// The client's address: the peer, or the address a trusted proxy forwarded.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<String>);

impl FromRequest for ClientAddr {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state_of(req).map(|state| ClientAddr(session::client_ip(req, &state))))
    }
}

/// Whoever is signed in (a pupil, a staff member, a child at home), with their school, from a
/// session used where it started. Without a session: to the sign-in form; a session used from
/// another network: the takeover page ([`PageError::Moved`]); when the store or the database
/// does not answer: 503.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: SsoSession,
    pub user: User,
    pub school: School,
}

/// [`FromRequest`] for an extractor read by an `async fn(HttpRequest)` (they read storage).
macro_rules! read_by {
    ($($ty:ident => $read:ident),+ $(,)?) => {$(
        impl FromRequest for $ty {
            type Error = PageError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                Box::pin($read(req.clone()))
            }
        }
    )+};
}

read_by!(SignedIn => signed_in, Staff => staff, Pupil => pupil_named);

async fn signed_in(req: HttpRequest) -> Result<SignedIn, PageError> {
    let state = state_of(&req)?;
    let sid = session::sid_of(&req, state.config.is_https()).ok_or(PageError::SignIn)?;
    let ip = session::client_ip(&req, &state);
    let now = state.clock.now_secs();
    failure::blocking(move || {
        let session = match session::load_here(&state, &sid, ip.as_deref(), now)? {
            Found::Here(s) => *s,
            Found::Moved => return Err(PageError::Moved),
            Found::Absent => return Err(PageError::SignIn),
        };
        let user = state.dir.user(session.user_id)?.ok_or(PageError::SignIn)?;
        let school = state.dir.school(&user.school)?.ok_or(PageError::SignIn)?;
        Ok(SignedIn {
            session,
            user,
            school,
        })
    })
    .await
}

/// A signed-in, active staff member (teacher, ICT coordinator, support staff) and their
/// school: [`SignedIn`], for staff only. Anyone else, and a session used elsewhere, goes to
/// the sign-in form.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: User,
    pub school: School,
}

async fn staff(req: HttpRequest) -> Result<Staff, PageError> {
    match signed_in(req).await {
        Ok(s) if s.user.is_active_staff() => Ok(Staff {
            user: s.user,
            school: s.school,
        }),
        Ok(_) | Err(PageError::Moved) => Err(PageError::SignIn),
        Err(e) => Err(e),
    }
}

/// The pupil a school page names (`/school/{school}/leerling/{user}`): the school its
/// INSTELLING_REF leads to (following mergers) and an active pupil of that school. Anything
/// else — an unknown or closed school, someone who is not that school's pupil — is the
/// wrong-shortcut page: a guessed id looks no different from a mistyped one.
#[derive(Debug, Clone)]
pub struct Pupil {
    pub school: School,
    pub user: User,
}

async fn pupil_named(req: HttpRequest) -> Result<Pupil, PageError> {
    let wrong = || PageError::Shortcut(ShortcutError::UnknownSchool);
    let state = state_of(&req)?;
    let info = req.match_info();
    let raw = info.get("school").unwrap_or_default().to_string();
    let user_id = info
        .get("user")
        .and_then(|u| Uuid::parse_str(u).ok())
        .ok_or_else(wrong)?;
    failure::blocking(move || {
        let school = shortcut::resolve_school(&state, &raw)?;
        let user = pupil::pupil_of(&state.world(), &school, user_id)?.ok_or_else(wrong)?;
        Ok(Pupil { school, user })
    })
    .await
}

/// A request's parameters: the query string of a GET, the form body of a POST (as OpenID
/// Connect lets a client send them either way).
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Params<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.method() == Method::POST {
            let form = web::Form::<T>::from_request(req, payload);
            Box::pin(async move { Ok(Params(form.await?.into_inner())) })
        } else {
            let query = web::Query::<T>::from_request(req, payload);
            Box::pin(async move { Ok(Params(query.await?.into_inner())) })
        }
    }
}

/// A form that carries a `csrf_token`.
pub trait CsrfProtected {
    fn csrf_token(&self) -> &str;
}

/// A form whose CSRF token matched the browser's cookie; otherwise the page has expired.
#[derive(Debug)]
pub struct CsrfChecked<T>(pub T);

impl<T: DeserializeOwned + CsrfProtected + 'static> FromRequest for CsrfChecked<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = form.await?.into_inner();
            let state = state_of(&req)?;
            if state
                .csrf
                .verify(&req, state.config.is_https(), form.csrf_token())
            {
                Ok(CsrfChecked(form))
            } else {
                Err(PageError::Expired.into())
            }
        })
    }
}

/// `Debug` for a form that carries a secret (a password, a PIN, a code): only the form's name,
/// so that a form in a log never shows what was typed.
macro_rules! opaque_debug {
    ($($form:ident),+ $(,)?) => {$(
        impl std::fmt::Debug for $form {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($form), " { .. }"))
            }
        }
    )+};
}
pub(crate) use opaque_debug;

/// [`CsrfProtected`] for a form whose token is its `csrf_token` field.
macro_rules! csrf_protected {
    ($($form:ident),+ $(,)?) => {$(
        impl $crate::server::extract::CsrfProtected for $form {
            fn csrf_token(&self) -> &str {
                &self.csrf_token
            }
        }
    )+};
}
pub(crate) use csrf_protected;
