//! Lesmateriaal: the titles a publisher offers (methodes and their products), who holds a
//! licence for each, and the tiles a signed-in user sees.
//!
//! A publisher manages its titles and licences through the licence API (modelled on
//! Basispoort's hosted licence office, "Hosted Lika"); [`titles`] checks what it sends and
//! [`holders`] finds the people, groups and schools it names — only at schools that
//! registered it, and each person only by what the school lets it know (its pairwise `sub`,
//! or the ECK-iD where the school releases ECK-iDs). [`tiles`] decides the start page.

pub mod holders;
pub mod tiles;
pub mod titles;

use claims::InstellingRef;
use serde::Serialize;
use uuid::Uuid;

pub use holders::{resolve, HolderRef, Resolved, Unknown};
pub use tiles::{tiles_for, Tile, TileFilter};
pub use titles::{check_title, TitleError, TitleInput};

/// A title: its publisher, its methode, and the product within it (`None`: the methode).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TitleKey {
    pub rp: Uuid,
    pub methode: String,
    pub product: Option<String>,
}

/// A methode or product as its publisher describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Title {
    pub key: TitleKey,
    /// The publisher's own code (what a shortcut's `PRODUCT=` names; the id when none).
    pub code: Option<String>,
    pub name: String,
    /// The SHA-256 of its icon (served at `/lesmateriaal/icoon/{hash}`).
    pub icon: Option<String>,
    /// Where the title opens at the publisher (a product always has one).
    pub url: Option<String>,
    /// `leerkrachtApplicatie`: for staff only.
    pub teacher_app: bool,
    /// `toetsApplicatie`: a test; never on a pupil's start page.
    pub test_app: bool,
    /// The publisher allows it at home.
    pub home_allowed: bool,
    pub updated_at: i64,
}

impl Title {
    /// What a shortcut's `PRODUCT=` names it by: its code, or its id without one.
    pub fn product_code(&self) -> &str {
        self.code
            .as_deref()
            .unwrap_or_else(|| self.key.product.as_deref().unwrap_or(&self.key.methode))
    }
}

/// Who holds a licence, within one school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Holder {
    User(Uuid),
    Group(Uuid),
    /// Every user of the school.
    School,
}

/// One licence: a title, held at a school.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Licence {
    pub title: TitleKey,
    pub school: InstellingRef,
    pub holder: Holder,
}

/// What one request changes, in one transaction: first `clear` (every licence of a title
/// held by that kind of holder: a replace), then `remove`, then `add`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicenceChange {
    pub clear: Vec<(TitleKey, &'static str)>,
    pub remove: Vec<Licence>,
    pub add: Vec<Licence>,
}

/// Who a level (niveau) is given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum NiveauHolder {
    User(Uuid),
    Group(Uuid),
}
