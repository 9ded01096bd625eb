//! The interface languages and how one is chosen.

use crate::en::{EN, MAIL_EN};
use crate::mails::MailTexts;
use crate::nl::{MAIL_NL, NL};
use crate::texts::Texts;

/// A supported interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    Nl,
    En,
}

impl Locale {
    /// The first supported language in `ui_locales` (space-separated) or `Accept-Language`
    /// (comma-separated, quality values ignored except order); Dutch otherwise.
    pub fn negotiate(ui_locales: Option<&str>, accept_language: Option<&str>) -> Locale {
        let pick = |tag: &str| {
            let primary = tag
                .trim()
                .split([';', '-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match primary.as_str() {
                "nl" => Some(Locale::Nl),
                "en" => Some(Locale::En),
                _ => None,
            }
        };
        ui_locales
            .and_then(|u| u.split_ascii_whitespace().find_map(pick))
            .or_else(|| accept_language.and_then(|a| a.split(',').find_map(pick)))
            .unwrap_or_default()
    }

    pub fn tag(self) -> &'static str {
        match self {
            Locale::Nl => "nl",
            Locale::En => "en",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Locale::Nl => &NL,
            Locale::En => &EN,
        }
    }

    /// The mails in this language. Mails go out in Dutch (`Locale::Nl`): Leerpoort does not
    /// know a recipient's language before they ever signed in.
    pub fn mails(self) -> &'static MailTexts {
        match self {
            Locale::Nl => &MAIL_NL,
            Locale::En => &MAIL_EN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(Locale::negotiate(None, None), Locale::Nl);
        assert_eq!(Locale::negotiate(Some("en-GB nl"), None), Locale::En);
        assert_eq!(
            Locale::negotiate(Some("fr"), Some("en-US,en;q=0.9")),
            Locale::En
        );
        assert_eq!(Locale::negotiate(None, Some("de-DE, nl;q=0.8")), Locale::Nl);
        assert_eq!(Locale::negotiate(Some("de"), Some("fr")), Locale::Nl);
    }
}
