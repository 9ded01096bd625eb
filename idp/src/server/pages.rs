//! Server-rendered pages: the sign-in form, messages, the start page.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::login::{self, StaffLogin};
use crate::oidc::authorize;
use crate::oidc::logout;
use crate::session;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    lang: &'a str,
    csrf_token: String,
    auth: String,
    email: String,
    error: Option<&'a str>,
}

#[derive(Template, Debug)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub lang: &'a str,
    pub title: &'a str,
    pub message: &'a str,
    pub hint: Option<&'a str>,
    pub link: Option<&'a str>,
    pub link_text: &'a str,
}

/// A tile on the start page.
#[derive(Debug)]
pub struct AppTile {
    pub name: String,
    pub url: Option<String>,
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage<'a> {
    lang: &'a str,
    name: String,
    school: String,
    apps: Vec<AppTile>,
    csrf_token: String,
}

fn html(status: actix_web::http::StatusCode, body: Result<String, askama::Error>) -> HttpResponse {
    match body {
        Ok(b) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(b),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// A message page with a status.
pub fn message(
    status: actix_web::http::StatusCode,
    title: &str,
    message: &str,
    hint: Option<&str>,
    link: Option<(&str, &str)>,
) -> HttpResponse {
    let page = MessagePage {
        lang: "nl",
        title,
        message,
        hint,
        link: link.map(|l| l.0),
        link_text: link.map(|l| l.1).unwrap_or(""),
    };
    html(status, page.render())
}

/// A redirect that is never cached.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    auth: Option<String>,
}

/// GET `/login`: the staff sign-in form.
pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<LoginQuery>,
) -> HttpResponse {
    let https = state.config.is_https();
    let auth = q.auth.clone().unwrap_or_default();
    let st = state.clone();
    let a = auth.clone();
    let hint = web::block(move || authorize::pending(&st, &a).and_then(|p| p.login_hint))
        .await
        .ok()
        .flatten();
    let (token, cookie) = state.csrf.issue(&req, https);
    let page = LoginPage {
        lang: "nl",
        csrf_token: token,
        auth,
        email: hint.unwrap_or_default(),
        error: None,
    };
    let mut res = html(actix_web::http::StatusCode::OK, page.render());
    if let Some(c) = cookie {
        let _ = res.add_cookie(&c);
    }
    res
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf_token: String,
    #[serde(default)]
    auth: String,
    email: String,
    password: String,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// POST `/login`.
pub async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let https = state.config.is_https();
    let form = form.into_inner();
    if !state.csrf.verify(&req, https, &form.csrf_token) {
        return message(
            actix_web::http::StatusCode::BAD_REQUEST,
            "Pagina verlopen",
            "Deze pagina is verlopen. Ga terug en probeer het opnieuw.",
            None,
            None,
        );
    }
    let ip = session::client_ip(&req, &state);
    let previous = session::sid_of(&req, https);
    let st = state.clone();
    let (email, password) = (form.email.clone(), form.password);
    let now = state.clock.now_secs();
    let result = web::block(move || {
        login::staff_login(
            &st,
            &email,
            &password,
            ip.as_deref(),
            previous.as_deref(),
            now,
        )
    })
    .await;
    let error = match result {
        Ok(StaffLogin::Ok(s)) => {
            let to = if form.auth.is_empty() {
                "/".to_string()
            } else {
                authorize::resume_url(&form.auth)
            };
            let mut res = redirect(&to);
            let _ = res.add_cookie(&session::session_cookie(&s, https));
            return res;
        }
        Ok(StaffLogin::Refused) => "Het e-mailadres of het wachtwoord klopt niet.",
        Ok(StaffLogin::Throttled) => {
            "Te veel mislukte pogingen. Probeer het over een kwartier opnieuw."
        }
        Ok(StaffLogin::Unavailable) | Err(_) => {
            "Inloggen lukt nu even niet. Probeer het over een paar minuten opnieuw."
        }
    };
    let (token, cookie) = state.csrf.issue(&req, https);
    let page = LoginPage {
        lang: "nl",
        csrf_token: token,
        auth: form.auth,
        email: form.email,
        error: Some(error),
    };
    let mut res = html(actix_web::http::StatusCode::OK, page.render());
    if let Some(c) = cookie {
        let _ = res.add_cookie(&c);
    }
    res
}

/// GET `/`: the start page of a signed-in user: the school's registered software that fits
/// their role. Without a session: to the sign-in form.
pub async fn start(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let https = state.config.is_https();
    let Some(sid) = session::sid_of(&req, https) else {
        return redirect("/login");
    };
    let st = state.clone();
    let now = state.clock.now_secs();
    let data = web::block(move || -> Option<(String, String, Vec<AppTile>)> {
        let s = session::load(st.store.as_ref(), &sid, now).ok().flatten()?;
        let user = st.dir.user(s.user_id).ok().flatten()?;
        let school = st.dir.school(&s.school).ok().flatten()?;
        let mut apps = Vec::new();
        for reg in st
            .dir
            .registrations_of_school(&school.instelling_ref)
            .ok()?
        {
            let Some(rp) = st.dir.relying_party(reg.rp_id).ok().flatten() else {
                continue;
            };
            if broker::release::decide(&school, &rp, Some(&reg), &user, s.context).is_ok() {
                let url = rp
                    .oidc()
                    .and_then(|c| c.initiate_login_uri.clone())
                    .map(|u| {
                        let mut url = url::Url::parse(&u).ok();
                        if let Some(url) = url.as_mut() {
                            url.query_pairs_mut()
                                .append_pair("iss", &st.config.issuer)
                                .append_pair("target_link_uri", &u);
                        }
                        url.map(|u| u.to_string()).unwrap_or(u)
                    });
                apps.push(AppTile {
                    name: rp.name.clone(),
                    url,
                });
            }
        }
        Some((user.given_name.clone(), school.name.clone(), apps))
    })
    .await
    .ok()
    .flatten();
    let Some((name, school, apps)) = data else {
        return redirect("/login");
    };
    let (token, cookie) = state.csrf.issue(&req, https);
    let page = StartPage {
        lang: "nl",
        name,
        school,
        apps,
        csrf_token: token,
    };
    let mut res = html(actix_web::http::StatusCode::OK, page.render());
    if let Some(c) = cookie {
        let _ = res.add_cookie(&c);
    }
    res
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

/// POST `/uitloggen`: end the session from our own page.
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let https = state.config.is_https();
    if !state.csrf.verify(&req, https, &form.csrf_token) {
        return message(
            actix_web::http::StatusCode::BAD_REQUEST,
            "Pagina verlopen",
            "Ga terug en probeer het opnieuw.",
            None,
            None,
        );
    }
    if let Some(sid) = session::sid_of(&req, https) {
        let st = state.clone();
        let now = state.clock.now_secs();
        let deliveries = web::block(move || match session::load(st.store.as_ref(), &sid, now) {
            Ok(Some(s)) => logout::terminate(&st, &s, now),
            _ => Vec::new(),
        })
        .await
        .unwrap_or_default();
        logout::deliver(deliveries);
    }
    let mut res = message(
        actix_web::http::StatusCode::OK,
        "Uitgelogd",
        "Je bent uitgelogd.",
        None,
        Some(("/login", "Opnieuw inloggen")),
    );
    let _ = res.add_cookie(&session::clear_session_cookie(https));
    res
}

/// The stylesheet, built into the binary.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../static/leerpoort.css"))
}
