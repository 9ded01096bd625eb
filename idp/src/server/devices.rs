//! Devices linked to the school. Teachers and ICT coordinators link the device they are on
//! from the start page; the school's ICT coordinators see every linked device, who linked it
//! and when it was last used, and unlink it (`/school/{ref}/apparaten`). A device's cookie
//! counts only while its row exists: [`enrolled_here`] checks it on every use.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use broker::model::{EnrolledDevice, School, User, DEVICE_USE_RESOLUTION_SECS};
use broker::repo::RepoError;
use catalogue::Texts;
use claims::InstellingRef;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{csrf_protected, CsrfChecked, Staff};
use super::failure::{self, PageError};
use super::pages::{self, Chrome};
use crate::app::AppState;
use crate::device::Enrolment;

/// The enrolment this request's device cookie proves: genuine, current, and still linked to
/// its school in the directory (a revoked device's cookie proves nothing). Records the use.
pub(super) async fn enrolled_here(
    req: &HttpRequest,
    state: &web::Data<AppState>,
) -> Option<Enrolment> {
    let now = state.clock.now_secs();
    let e = state.devices.enrolment(req, state.config.is_https(), now)?;
    let st = state.clone();
    let (id, school) = (e.device, e.school);
    let linked = web::block(move || {
        st.dir
            .device_in_use(id, &school, now, DEVICE_USE_RESOLUTION_SECS)
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or(false);
    linked.then_some(e)
}

/// The form that links a device.
#[derive(Debug, Deserialize)]
pub struct EnrolForm {
    csrf_token: String,
    #[serde(default)]
    naam: String,
}

csrf_protected!(EnrolForm);

/// POST `/school/{ref}/apparaat`: a signed-in teacher or ICT coordinator of the school links
/// this device, under a name.
pub async fn enrol(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfChecked(form): CsrfChecked<EnrolForm>,
    staff: Result<Staff, PageError>,
) -> Result<HttpResponse, PageError> {
    let c = Chrome::of(&req, &state, None).await;
    let staff = match staff {
        Ok(s) => Some(s.user),
        Err(PageError::SignIn) => None,
        Err(e) => return Err(e),
    };
    let school = path.into_inner().trim().parse::<InstellingRef>().ok();
    let Some(staff) = staff.filter(|u| school.is_some_and(|s| broker::devices::may_enrol(u, &s)))
    else {
        return Ok(pages::message(
            &c,
            StatusCode::FORBIDDEN,
            c.t.enrol_device,
            c.t.device_may_not_enrol,
            None,
            Some(("/", "Start")),
        ));
    };
    let Ok(name) = broker::devices::device_name(&form.naam) else {
        return Ok(pages::message(
            &c,
            StatusCode::BAD_REQUEST,
            c.t.enrol_device,
            c.t.device_name_needed,
            None,
            Some(("/", "Start")),
        ));
    };
    let now = state.clock.now_secs();
    let st = state.clone();
    let linked =
        web::block(move || broker::devices::enrol(st.dir.as_ref(), &staff, name, now)).await?;
    let device = match linked {
        Ok(d) => d,
        Err(RepoError::Conflict(_)) => {
            return Ok(pages::message(
                &c,
                StatusCode::CONFLICT,
                c.t.enrol_device,
                c.t.devices_full,
                None,
                Some(("/", "Start")),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let mut res = pages::message(
        &c,
        StatusCode::OK,
        c.t.enrol_device,
        c.t.device_enrolled,
        None,
        Some(("/", "Start")),
    );
    let https = state.config.is_https();
    let _ = res.add_cookie(&state.devices.enrol(&device, now, https));
    Ok(res)
}

/// One row of the list.
struct DeviceRow {
    name: String,
    enrolled_by: String,
    enrolled_at: String,
    last_used: String,
    revoke_action: String,
}

#[derive(Template)]
#[template(path = "apparaten.html")]
struct DevicesPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    school_name: String,
    message: Option<String>,
    devices: Vec<DeviceRow>,
    csrf_token: String,
}

/// "6-12-2026 14:35", in Dutch local time.
fn local_time(at: i64) -> String {
    catalogue::local_time(at, "%-d-%-m-%Y %H:%M")
}

/// The school's coordinator for `raw`: anyone else, for this school or any other, is
/// answered as if nothing were there.
fn coordinator_of(staff: Staff, raw: &str) -> Result<Staff, PageError> {
    let asked = raw.trim().parse::<InstellingRef>().ok();
    if asked != Some(staff.school.instelling_ref)
        || !broker::devices::may_manage(&staff.user, &staff.school.instelling_ref)
    {
        return Err(PageError::NotFound);
    }
    Ok(staff)
}

async fn list_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    school: School,
    message: Option<String>,
) -> Result<HttpResponse, PageError> {
    let c = Chrome::of(req, state, None).await;
    let st = state.clone();
    let r = school.instelling_ref;
    let devices = failure::blocking(
        move || -> Result<Vec<(EnrolledDevice, Option<User>)>, PageError> {
            let devices = st.dir.devices_of_school(&r)?;
            let mut out = Vec::with_capacity(devices.len());
            for d in devices {
                let by = st.dir.user(d.enrolled_by)?;
                out.push((d, by));
            }
            Ok(out)
        },
    )
    .await?;
    let rows = devices
        .into_iter()
        .map(|(d, by)| DeviceRow {
            enrolled_by: match by {
                Some(u) if u.is_active_staff() => u.display_name(),
                Some(u) if !u.given_name.is_empty() => {
                    format!("{} {}", u.display_name(), c.t.device_enroller_gone)
                }
                _ => c.t.device_enroller_gone.to_string(),
            },
            enrolled_at: local_time(d.enrolled_at),
            last_used: d
                .last_used_at
                .map(local_time)
                .unwrap_or_else(|| c.t.device_never_used.to_string()),
            revoke_action: format!("/school/{}/apparaten/{}/ontkoppelen", r, d.id),
            name: d.name,
        })
        .collect();
    let (token, cookie) = state.csrf.issue(req, state.config.is_https());
    let page = DevicesPage {
        t: c.t,
        lang: c.lang,
        notice: c.notice,
        school_name: school.name,
        message,
        devices: rows,
        csrf_token: token,
    };
    Ok(pages::with_cookie(
        pages::html(StatusCode::OK, page.render()),
        cookie,
    ))
}

/// GET `/school/{ref}/apparaten`: the ICT coordinator's list of linked devices.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    staff: Staff,
) -> Result<HttpResponse, PageError> {
    let staff = coordinator_of(staff, &path.into_inner())?;
    list_page(&req, &state, staff.school, None).await
}

/// POST `/school/{ref}/apparaten/{device}/ontkoppelen`: the ICT coordinator unlinks a device.
/// Another school's device id is a 404, as is an id that was never there.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    staff: Staff,
    CsrfChecked(_): CsrfChecked<pages::CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let (raw, device) = path.into_inner();
    let Staff { user, school } = coordinator_of(staff, &raw)?;
    let id = Uuid::parse_str(&device).map_err(|_| PageError::NotFound)?;
    let st = state.clone();
    let now = state.clock.now_secs();
    let r = school.instelling_ref;
    let actor = format!("user:{}", user.id);
    let revoked = web::block(move || broker::devices::revoke(st.dir.as_ref(), &r, id, &actor, now))
        .await??
        .ok_or(PageError::NotFound)?;
    let c = Chrome::of(&req, &state, None).await;
    let done = c.t.device_revoked(&revoked.name);
    list_page(&req, &state, school, Some(done)).await
}
