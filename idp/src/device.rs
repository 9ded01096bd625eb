//! Device cookies. A teacher or ICT coordinator can link a device (a classroom tablet, a
//! Chromebook taken on a school trip) to their school; the device then carries a long-lived
//! signed cookie naming its [`broker::model::EnrolledDevice`], and pupils may sign in on it
//! with name + PIN outside the school's networks for as long as that row exists (the server
//! checks it on every use, see `server::devices`). Families' devices remember children by
//! their home login codes. See `docs/security.md` for the trust model.

use actix_web::cookie::Cookie;
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

/// A family's device, remembered by home login codes: the children whose code was entered on
/// it. They pick their name there and type their own school PIN (or click their pictures).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HomeDevice {
    pub device: Uuid,
    pub children: Vec<RememberedChild>,
    pub expires_at: i64,
}

/// A child remembered on a home device, with a tag of the code that was entered: when the
/// teacher makes a new code, devices that knew the old one forget the child.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RememberedChild {
    pub id: Uuid,
    pub code_tag: String,
}

fn home_name(https: bool) -> &'static str {
    if https {
        "__Host-lp_thuisapparaat"
    } else {
        "lp_thuisapparaat"
    }
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
    /// With the key `crate::keys::KeyStore::derive` gives for this purpose.
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// A signed cookie value: the JSON of `v`, base64url, `.`, its HMAC.
    fn sign<T: Serialize>(&self, v: &T) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap_or_default());
        let tag = URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, body.as_bytes()).as_ref());
        format!("{body}.{tag}")
    }

    /// What a cookie value signed by [`DeviceKeys::sign`] says, if it is genuine.
    fn verify<T: serde::de::DeserializeOwned>(&self, value: &str) -> Option<T> {
        let (body, tag) = value.split_once('.')?;
        let expected = URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, body.as_bytes()).as_ref());
        if !bool::from(expected.as_bytes().ct_eq(tag.as_bytes())) {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
    }

    fn long_lived(name: &'static str, value: String, https: bool) -> Cookie<'static> {
        crate::cookie::cookie(name, value, https, Some(DEVICE_SECS))
    }

    /// The cookie of a device just linked to its school.
    pub fn enrol(
        &self,
        device: &broker::model::EnrolledDevice,
        now: i64,
        https: bool,
    ) -> Cookie<'static> {
        let e = Enrolment {
            school: device.school,
            device: device.id,
            enrolled_by: device.enrolled_by,
            expires_at: now + DEVICE_SECS,
        };
        Self::long_lived(name(https), self.sign(&e), https)
    }

    /// The enrolment the request's cookie claims, if it is genuine and current. Whether the
    /// device is still linked is the directory's to say (`server::devices::enrolled_here`).
    pub fn enrolment(&self, req: &HttpRequest, https: bool, now: i64) -> Option<Enrolment> {
        let e: Enrolment = self.verify(req.cookie(name(https))?.value())?;
        (e.expires_at > now).then_some(e)
    }

    /// The children whose home login code was entered on this device, if its cookie is
    /// genuine and current.
    pub fn home_device(&self, req: &HttpRequest, https: bool, now: i64) -> Option<HomeDevice> {
        let d: HomeDevice = self.verify(req.cookie(home_name(https))?.value())?;
        (d.expires_at > now).then_some(d)
    }

    /// The device cookie after a home login code for `child` was entered on it (children
    /// whose codes were entered earlier stay).
    pub fn remember_child(
        &self,
        current: Option<HomeDevice>,
        child: RememberedChild,
        now: i64,
        https: bool,
    ) -> Cookie<'static> {
        let mut d = current.unwrap_or(HomeDevice {
            device: Uuid::new_v4(),
            children: Vec::new(),
            expires_at: 0,
        });
        d.children.retain(|c| c.id != child.id);
        d.children.push(child);
        d.expires_at = now + DEVICE_SECS;
        Self::long_lived(home_name(https), self.sign(&d), https)
    }
}
