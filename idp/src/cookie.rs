//! The one way Leerpoort's cookies are made: `Path=/`, `HttpOnly`, `SameSite=Lax`, and
//! `Secure` over HTTPS (callers pick `__Host-` names there).

use actix_web::cookie::{Cookie, SameSite};

/// A cookie `name=value`, kept for `max_age` seconds (or for the browser session).
pub fn cookie(
    name: &'static str,
    value: String,
    https: bool,
    max_age: Option<i64>,
) -> Cookie<'static> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .finish();
    if let Some(age) = max_age {
        c.set_max_age(actix_web::cookie::time::Duration::seconds(age));
    }
    c
}
