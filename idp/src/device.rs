//! Enrolled devices. A staff member can link a device (a classroom tablet, a Chromebook taken
//! on a school trip) to their school with one click; the device then carries a long-lived
//! signed cookie, and pupils may sign in on it with name + PIN outside the school's networks.
//! See `docs/security.md` for the trust model.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use claims::InstellingRef;
use ring::hmac;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// How long an enrolment lasts: a school year and a bit.
pub const DEVICE_SECS: i64 = 400 * 24 * 3600;

/// What the device cookie says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Enrolment {
    pub school: InstellingRef,
    pub device: Uuid,
    pub enrolled_by: Uuid,
    pub expires_at: i64,
}

/// Signs and checks device cookies.
pub struct DeviceKeys {
    key: hmac::Key,
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKeys(<hidden>)")
    }
}

fn name(https: bool) -> &'static str {
    if https {
        "__Host-lp_device"
    } else {
        "lp_device"
    }
}

impl DeviceKeys {
    pub fn new(secret: &[u8]) -> Self {
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, secret),
            b"leerpoort-device-v1",
        );
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// The cookie that enrols this device for `school`.
    pub fn enrol(&self, school: InstellingRef, by: Uuid, now: i64, https: bool) -> Cookie<'static> {
        let e = Enrolment {
            school,
            device: Uuid::new_v4(),
            enrolled_by: by,
            expires_at: now + DEVICE_SECS,
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&e).unwrap_or_default());
        let tag = URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, body.as_bytes()).as_ref());
        let mut c = Cookie::build(name(https), format!("{body}.{tag}"))
            .path("/")
            .http_only(true)
            .secure(https)
            .same_site(SameSite::Lax)
            .finish();
        c.set_max_age(actix_web::cookie::time::Duration::seconds(DEVICE_SECS));
        c
    }

    /// The enrolment the request's cookie proves, if it is genuine and current.
    pub fn enrolment(&self, req: &HttpRequest, https: bool, now: i64) -> Option<Enrolment> {
        let c = req.cookie(name(https))?;
        let (body, tag) = c.value().split_once('.')?;
        let expected = URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, body.as_bytes()).as_ref());
        if !bool::from(expected.as_bytes().ct_eq(tag.as_bytes())) {
            return None;
        }
        let e: Enrolment = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        (e.expires_at > now).then_some(e)
    }
}
