//! What page handlers take from a request, read once and in one way: the client's address
//! (with the trusted-proxy rules of [`crate::forwarded`]), the signed-in staff member, and a
//! form whose CSRF token has been checked. A handler names what it needs in its arguments; a
//! request without it never reaches the handler (see [`PageError`] for what it gets instead).

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use broker::model::{School, User};
use serde::de::DeserializeOwned;

use super::failure::PageError;
use crate::app::AppState;
use crate::session::{self, Found};

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

/// A signed-in, active staff member (teacher, ICT coordinator, support staff) and their
/// school, from a session used where it started. Without one: to the sign-in form; when the
/// store or the database does not answer: 503.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: User,
    pub school: School,
}

impl FromRequest for Staff {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = state_of(req).map(|state| {
            let sid = session::sid_of(req, state.config.is_https());
            (state.clone(), sid, session::client_ip(req, &state))
        });
        Box::pin(async move {
            let (state, sid, ip) = found?;
            let sid = sid.ok_or(PageError::SignIn)?;
            let now = state.clock.now_secs();
            web::block(move || -> Result<Staff, PageError> {
                let Found::Here(s) = session::load_here(&state, &sid, ip.as_deref(), now)? else {
                    return Err(PageError::SignIn);
                };
                let user = state.dir.user(s.user_id)?.ok_or(PageError::SignIn)?;
                if !user.is_active_staff() {
                    return Err(PageError::SignIn);
                }
                let school = state.dir.school(&user.school)?.ok_or(PageError::SignIn)?;
                Ok(Staff { user, school })
            })
            .await?
        })
    }
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
