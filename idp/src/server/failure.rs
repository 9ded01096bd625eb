//! One error type for pages: a handler or an extractor that cannot go on returns a
//! [`PageError`], and [`render`] (a middleware around every route) turns it into the
//! catalogue's page in the visitor's language — after logging it once. A storage outage is a
//! 503 "even niet beschikbaar", never a quiet "not signed in" or an empty list. Modelled on
//! crates.io's `util/errors.rs`: the type says what went wrong, the edge decides how it looks.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use broker::repo::RepoError;
use broker::store::StoreError;

use super::pages::{self, Chrome};
use crate::app::AppState;
use crate::shortcut::ShortcutError;

/// Why a page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No (usable) session: to the sign-in form.
    #[error("not signed in")]
    SignIn,
    /// Not there — or not the visitor's to see, which looks the same from outside.
    #[error("not found")]
    NotFound,
    /// The form's CSRF token does not match the browser's cookie: the page has expired.
    #[error("page expired")]
    Expired,
    /// The session was used from another network than the one it started in: the
    /// "potentiële sessie-overname" page, and the session cookie is cleared.
    #[error("session used elsewhere")]
    Moved,
    /// A school link (a shortcut, a school's pupil page) that leads nowhere.
    #[error("shortcut: {0:?}")]
    Shortcut(ShortcutError),
    /// The database or the ephemeral store did not answer.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl From<RepoError> for PageError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(_) => PageError::NotFound,
            other => PageError::Unavailable(other.to_string()),
        }
    }
}

impl From<ShortcutError> for PageError {
    fn from(e: ShortcutError) -> Self {
        match e {
            ShortcutError::Unavailable => PageError::Unavailable("shortcut".into()),
            other => PageError::Shortcut(other),
        }
    }
}

impl From<broker::release::ReleaseError> for PageError {
    fn from(e: broker::release::ReleaseError) -> Self {
        match e {
            broker::release::ReleaseError::Storage(r) => r.into(),
            other => PageError::Unavailable(other.to_string()),
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for PageError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        PageError::Unavailable(e.to_string())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn => StatusCode::FOUND,
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Expired => StatusCode::BAD_REQUEST,
            // The takeover page explains and offers to sign in again.
            PageError::Moved => StatusCode::OK,
            PageError::Shortcut(_) => StatusCode::NOT_FOUND,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The bare answer; [`render`] dresses it in the visitor's language.
    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::SignIn => pages::redirect("/login"),
            _ => HttpResponse::build(self.status_code()).finish(),
        }
    }
}

/// Run `f` on the blocking pool (database and store calls block), as a page's result.
pub async fn blocking<T, F>(f: F) -> Result<T, PageError>
where
    F: FnOnce() -> Result<T, PageError> + Send + 'static,
    T: Send + 'static,
{
    web::block(f).await?
}

/// The middleware: a response that carries a [`PageError`] gets the catalogue's page for it,
/// in the request's language; an outage is logged here, once, with the route's pattern.
pub async fn render(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let shown = match res
        .response()
        .error()
        .and_then(|e| e.as_error::<PageError>())
    {
        Some(PageError::SignIn) | None => return Ok(res),
        Some(PageError::Unavailable(why)) => {
            let route = res.request().match_pattern().unwrap_or_default();
            tracing::error!(route = %route, error = %why, "storage unavailable; answered 503");
            Shown::Unavailable
        }
        Some(PageError::NotFound) => Shown::NotFound,
        Some(PageError::Expired) => Shown::Expired,
        Some(PageError::Moved) => Shown::Moved,
        Some(PageError::Shortcut(e)) => Shown::Shortcut(*e),
    };
    let (req, _) = res.into_parts();
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(ServiceResponse::new(
            req,
            HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE).finish(),
        ));
    };
    let c = Chrome::of(&req, &state, None).await;
    let page = match shown {
        Shown::NotFound => super::errors::unreadable(&req, StatusCode::NOT_FOUND),
        Shown::Expired => pages::page_expired(&c),
        Shown::Moved => pages::takeover(&c, "/login", state.config.is_https()),
        Shown::Shortcut(e) => shortcut_page(&req, &c, e),
        Shown::Unavailable => pages::unavailable(&c, c.t.unavailable),
    };
    Ok(ServiceResponse::new(req, page))
}

/// What [`render`] shows for an error (the error itself stays with the response).
enum Shown {
    NotFound,
    Expired,
    Moved,
    Shortcut(ShortcutError),
    Unavailable,
}

/// The page for a school link that leads nowhere, with its code and the request's kenmerk.
pub fn shortcut_page(req: &HttpRequest, c: &Chrome, e: ShortcutError) -> HttpResponse {
    let (title, text) = match e {
        ShortcutError::UnknownSchool => (c.t.wrong_shortcut_title, c.t.wrong_shortcut),
        ShortcutError::Closed => (c.t.school_closed_title, c.t.school_closed),
        ShortcutError::TargetNotEnabled => (c.t.not_enabled_title, c.t.not_enabled),
        ShortcutError::Unavailable => return pages::unavailable(c, c.t.unavailable),
    };
    let reference = super::reference::for_request(req, super::reference::shortcut_code(e));
    pages::message_with_reference(
        c,
        StatusCode::NOT_FOUND,
        (title, text, None),
        None,
        Some(reference),
    )
}
