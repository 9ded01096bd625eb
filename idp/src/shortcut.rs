//! School shortcuts (snelkoppelingen): `/snelkoppeling?INSTELLING_REF=…&TARGET=…&ROL=…`.
//! The INSTELLING_REF names the school for ever; a merged school's old one leads to the school
//! it merged into. TARGET is a client id or SAML entity id the school has registered.

use std::str::FromStr;

use broker::model::{RelyingParty, RpProtocol, School, SchoolStatus};
use broker::release::Denial;
use claims::InstellingRef;

use crate::app::AppState;
use crate::session::SsoSession;

/// Why a shortcut does not lead anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortcutError {
    /// Not a UUID, or no school has it.
    UnknownSchool,
    /// The school account is closed.
    Closed,
    /// The school has not registered (or has withdrawn) TARGET.
    TargetNotEnabled,
    /// The database could not be reached.
    Unavailable,
}

/// The active school a shortcut's INSTELLING_REF leads to, following mergers.
pub fn resolve_school(state: &AppState, raw: &str) -> Result<School, ShortcutError> {
    let mut r = InstellingRef::from_str(raw.trim()).map_err(|_| ShortcutError::UnknownSchool)?;
    for _ in 0..8 {
        let school = state
            .dir
            .school(&r)
            .map_err(|_| ShortcutError::Unavailable)?
            .ok_or(ShortcutError::UnknownSchool)?;
        match school.status {
            SchoolStatus::Active => return Ok(school),
            SchoolStatus::Closed => return Err(ShortcutError::Closed),
            SchoolStatus::Merged(into) => r = into,
        }
    }
    Err(ShortcutError::UnknownSchool)
}

/// A shortcut's TARGET, resolved: the relying party, and the title `PRODUCT=` named, if it
/// names one of the publisher's titles.
#[derive(Debug, Clone)]
pub struct Target {
    pub rp: RelyingParty,
    pub product: Option<broker::licences::Title>,
}

impl Target {
    /// The software itself, no product.
    pub fn of(rp: RelyingParty) -> Self {
        Self { rp, product: None }
    }
}

/// TARGET and PRODUCT as they travel between the school's pages, as one value: the relying
/// party's public id, a space, the product's code. A space is in neither a client id nor an
/// entity id (a URI), nor in a product code.
pub fn with_product(target: Option<String>, product: Option<&str>) -> Option<String> {
    let target = target.filter(|t| !t.is_empty())?;
    match product
        .map(str::trim)
        .filter(|p| broker::licences::titles::valid_id(p))
    {
        Some(p) => Some(format!(
            "{} {p}",
            target.split(' ').next().unwrap_or_default()
        )),
        None => Some(target),
    }
}

/// A travelling TARGET's relying party and product (see [`with_product`]): split at the
/// space only when what follows is a product code.
fn split_target(target: &str) -> (&str, Option<&str>) {
    match target.split_once(' ') {
        Some((t, p)) if broker::licences::titles::valid_id(p) => (t, Some(p)),
        _ => (target, None),
    }
}

/// The relying party TARGET names (with its product, see [`with_product`]), if the school has
/// it enabled. An unknown product leads to the software itself.
pub fn resolve_target(
    state: &AppState,
    school: &School,
    target: &str,
) -> Result<Target, ShortcutError> {
    let (public_id, product) = split_target(target);
    let rp = state
        .dir
        .relying_party_by_public_id(public_id)
        .map_err(|_| ShortcutError::Unavailable)?
        .filter(|rp| rp.enabled)
        .ok_or(ShortcutError::TargetNotEnabled)?;
    match state
        .dir
        .registration(&school.instelling_ref, rp.id)
        .map_err(|_| ShortcutError::Unavailable)?
    {
        Some(reg) if reg.allowed => {}
        _ => return Err(ShortcutError::TargetNotEnabled),
    }
    let product = match product {
        Some(code) => {
            let owners = titles_owners(state, &rp).map_err(|_| ShortcutError::Unavailable)?;
            let titles = state
                .dir
                .titles_of_many(&owners)
                .map_err(|_| ShortcutError::Unavailable)?;
            broker::licences::tiles::title_by_code(&titles, &owners, code).cloned()
        }
        None => None,
    };
    Ok(Target { rp, product })
}

/// The relying parties whose titles `rp` opens ([`broker::licences::tiles::same_publisher`]).
pub fn titles_owners(
    state: &AppState,
    rp: &RelyingParty,
) -> Result<Vec<uuid::Uuid>, broker::repo::RepoError> {
    Ok(broker::licences::tiles::same_publisher(
        &state.dir.relying_parties()?,
        rp,
    ))
}

/// Where a signed-in user goes next: into TARGET by third-party-initiated login (OIDC Core
/// §4: the relying party's `initiate_login_uri` with `iss` and `target_link_uri`: the
/// product's URL, or else the publisher's landing page, the root of its
/// `initiate_login_uri`'s origin), by an unsolicited SAML response (RelayState: the product's
/// URL), or to the start page.
pub fn destination(state: &AppState, target: Option<&Target>) -> String {
    let Some(t) = target else { return "/".into() };
    let product_url = t.product.as_ref().and_then(|p| p.url.clone());
    if let Some(url) = saml_destination(&t.rp, product_url.as_deref()) {
        return url;
    }
    let Some(uri) = t.rp.oidc().and_then(|c| c.initiate_login_uri.clone()) else {
        return "/".into();
    };
    match url::Url::parse(&uri) {
        Ok(mut u) => {
            let landing =
                product_url.unwrap_or_else(|| format!("{}/", u.origin().ascii_serialization()));
            u.query_pairs_mut()
                .append_pair("iss", &state.config.issuer)
                .append_pair("target_link_uri", &landing);
            u.to_string()
        }
        Err(_) => "/".into(),
    }
}

/// Where the user of session `s` goes for `target`: its [`destination`] when the release
/// policy lets this user in, in this context (school or home), and otherwise Leerpoort's own
/// page that says why ([`REFUSED`]) — never first to the relying party to be refused there
/// (school-only software opened at home, teacher software for a pupil).
pub fn destination_for(state: &AppState, s: &SsoSession, target: Option<&Target>) -> String {
    let Some(t) = target else { return "/".into() };
    match decision(state, s, &t.rp) {
        Ok(()) => destination(state, Some(t)),
        Err(_) => refused_url(t.rp.public_id()),
    }
}

/// Where a user signed in at `school` (session `s`) goes for `target` (a relying party's
/// public id): [`destination_for`], or `None` without a target or when the school has not
/// enabled it.
pub fn destination_of_target(
    state: &AppState,
    school: &School,
    s: &SsoSession,
    target: Option<&str>,
) -> Option<String> {
    let rp = resolve_target(state, school, target?).ok()?;
    Some(destination_for(state, s, Some(&rp)))
}

/// The path of the page that says why a shortcut's target is refused.
pub const REFUSED: &str = "/snelkoppeling/geweigerd";

fn refused_url(target: &str) -> String {
    let mut u = format!("{REFUSED}?TARGET=");
    u.extend(url::form_urlencoded::byte_serialize(target.as_bytes()));
    u
}

/// The release decision for the user of session `s` at `rp`, as OIDC authorize and SAML SSO
/// will make it. `Err(None)`: the user, school or registration could not be loaded.
pub fn decision(state: &AppState, s: &SsoSession, rp: &RelyingParty) -> Result<(), Option<Denial>> {
    match broker::release::authorize(state.dir.as_ref(), rp, s.user_id, &s.school, s.context) {
        Ok(_) => Ok(()),
        Err(broker::release::ReleaseError::Denied(d)) => Err(Some(d)),
        Err(_) => Err(None),
    }
}

/// A SAML service provider is entered with an unsolicited response; a product's URL travels
/// as its RelayState.
fn saml_destination(rp: &RelyingParty, product_url: Option<&str>) -> Option<String> {
    match &rp.protocol {
        RpProtocol::Saml(sp) => {
            let mut u = format!("{}?sp=", crate::saml::paths::UNSOLICITED);
            u.extend(url::form_urlencoded::byte_serialize(
                sp.entity_id.as_bytes(),
            ));
            if let Some(p) = product_url {
                u.push_str("&RelayState=");
                u.extend(url::form_urlencoded::byte_serialize(p.as_bytes()));
            }
            Some(u)
        }
        RpProtocol::Oidc(_) => None,
    }
}

/// The shortcut URL of a school's entrance, optionally with a TARGET (and its PRODUCT, see
/// [`with_product`]) and a ROL.
pub fn url(school: &InstellingRef, target: Option<&str>, role: Option<&str>) -> String {
    let mut u = format!("/snelkoppeling?INSTELLING_REF={school}");
    if let Some(r) = role {
        u.push_str(&format!("&ROL={r}"));
    }
    if let Some(t) = target.filter(|t| !t.is_empty()) {
        let (t, product) = split_target(t);
        u.push_str("&TARGET=");
        u.extend(url::form_urlencoded::byte_serialize(t.as_bytes()));
        if let Some(p) = product {
            u.push_str("&PRODUCT=");
            u.extend(url::form_urlencoded::byte_serialize(p.as_bytes()));
        }
    }
    u
}
