//! # catalogue
//!
//! Every text Leerpoort's interface shows and every mail it sends, in one catalogue: Dutch (the
//! default; the wording comes from the original Dutch help pages) and English, chosen by
//! `ui_locales` or the browser's `Accept-Language`. Plain texts are fields the templates read;
//! a text with parameters is a method that takes them by name and gives the filled-in text, so
//! no caller fills in placeholders itself. [`local_time`] gives a moment as people in the
//! Netherlands read it ("blocked until 14:35").
//!
//! Pure: no I/O beyond the bundled time-zone database, no HTTP, no storage.

mod beheer;
mod discovery;
mod en;
mod fill;
mod locale;
mod mails;
mod mergers;
mod niveaus;
mod nl;
mod texts;
mod time;

pub use beheer::{BeheerTexts, BEHEER_EN, BEHEER_NL};
pub use discovery::{DiscoveryTexts, DISCOVERY_EN, DISCOVERY_NL};
pub use en::{EN, MAIL_EN};
pub use locale::Locale;
pub use mails::MailTexts;
pub use mergers::{MergerTexts, MERGERS_EN, MERGERS_NL};
pub use niveaus::{NiveauTexts, NIVEAUS_EN, NIVEAUS_NL};
pub use nl::{MAIL_NL, NL};
pub use texts::Texts;
pub use time::local_time;
