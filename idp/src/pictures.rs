//! Pictures: a pupil's own picture on their name tile (leerlingplaatje), and the grid a young
//! pupil's picture password (plaatjeswachtwoord) is clicked from.
//!
//! The drawings are OpenMoji (CC BY-SA 4.0), copied from the npm package by
//! `scripts/update-pictures.sh` and built into the binary; see `docs/assets.md` for the
//! licence and attribution. Each picture is known by its Dutch name, which is also its URL
//! (`/static/plaatjes/vos.svg`) and what the database stores.
//!
//! A picture password is 2 to 4 pictures of [`GRID`], clicked in order; the same picture may
//! come more than once. It is hashed like a PIN ([`broker::secrets::PinHasher`]) from its
//! canonical encoding ([`encode`]).

use std::fmt;

/// One picture.
#[derive(Debug, PartialEq, Eq)]
pub struct Picture {
    /// Dutch name: the key in the database and the file name.
    pub name: &'static str,
    /// What it shows, in English (the Dutch name is `name`).
    pub english: &'static str,
    pub svg: &'static str,
}

impl Picture {
    /// The label in the page's language.
    pub fn label(&self, lang: &str) -> &'static str {
        if lang == "en" {
            self.english
        } else {
            self.name
        }
    }
}

macro_rules! pictures {
    ($($name:literal => $english:literal),* $(,)?) => {
        /// Every picture, in the order a picker shows them.
        pub static ALL: &[Picture] = &[
            $(Picture {
                name: $name,
                english: $english,
                svg: include_str!(concat!("../static/plaatjes/", $name, ".svg")),
            }),*
        ];
    };
}

pictures! {
    "vos" => "fox", "kat" => "cat", "hond" => "dog", "uil" => "owl", "vis" => "fish",
    "kikker" => "frog", "appel" => "apple", "banaan" => "banana", "zon" => "sun",
    "ster" => "star", "auto" => "car", "bal" => "ball",
    "egel" => "hedgehog", "schildpad" => "turtle", "vlinder" => "butterfly",
    "olifant" => "elephant", "leeuw" => "lion", "konijn" => "rabbit", "pinguin" => "penguin",
    "eenhoorn" => "unicorn", "koe" => "cow", "varken" => "pig", "peer" => "pear",
    "aardbei" => "strawberry", "maan" => "moon", "bloem" => "flower", "boom" => "tree",
    "fiets" => "bicycle", "huis" => "house", "boot" => "boat", "raket" => "rocket",
    "paraplu" => "umbrella",
}

/// How many pictures the picture-password grid shows: the first of [`ALL`], always in the same
/// place, so that a five-year-old finds them again.
pub const GRID_SIZE: usize = 12;
/// The fewest and most pictures in a picture password.
pub const MIN_LEN: usize = 2;
pub const MAX_LEN: usize = 4;

/// The picture-password grid.
pub fn grid() -> &'static [Picture] {
    &ALL[..GRID_SIZE]
}

/// A picture by its name.
pub fn by_name(name: &str) -> Option<&'static Picture> {
    ALL.iter().find(|p| p.name == name)
}

/// Why a picture password is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PictureError {
    #[error("a picture password has {MIN_LEN} to {MAX_LEN} pictures; this one has {0}")]
    Length(usize),
    #[error("'{0}' is not one of the picture-password pictures ({names})", names = grid_names())]
    Unknown(String),
}

fn grid_names() -> String {
    grid().iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

/// A picture password as entered: the grid pictures in order.
#[derive(Clone, PartialEq, Eq)]
pub struct PictureSequence(Vec<&'static Picture>);

impl fmt::Debug for PictureSequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A secret: only its length.
        write!(f, "PictureSequence(<{} hidden>)", self.0.len())
    }
}

impl PictureSequence {
    /// Parse `vos,appel,zon` (commas or spaces between names), enforcing the length.
    pub fn parse(s: &str) -> Result<Self, PictureError> {
        let picks = parse_picks(s)?;
        if !(MIN_LEN..=MAX_LEN).contains(&picks.len()) {
            return Err(PictureError::Length(picks.len()));
        }
        Ok(Self(picks))
    }

    /// The canonical form that is hashed: `pic:` and the names joined by commas. The prefix
    /// keeps a picture password apart from any PIN.
    pub fn encode(&self) -> String {
        format!("pic:{}", self.names().join(","))
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.name).collect()
    }
}

/// The pictures of a stored picture password (`vos,appel,zon`); `None` if it is not a valid
/// one.
pub fn stored_sequence(names: &str) -> Option<Vec<&'static Picture>> {
    PictureSequence::parse(names).ok().map(|s| s.0)
}

/// The grid pictures a pupil has clicked so far (possibly none, at most [`MAX_LEN`]);
/// anything that is not a grid picture is an error.
pub fn parse_picks(s: &str) -> Result<Vec<&'static Picture>, PictureError> {
    s.split([',', ' '])
        .filter(|n| !n.is_empty())
        .map(|n| {
            grid()
                .iter()
                .find(|p| p.name == n)
                .ok_or_else(|| PictureError::Unknown(n.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_unique_and_url_safe() {
        for (i, p) in ALL.iter().enumerate() {
            assert!(p.name.chars().all(|c| c.is_ascii_lowercase()), "{}", p.name);
            assert!(p.svg.starts_with("<svg"), "{} is an SVG", p.name);
            assert!(
                ALL[i + 1..].iter().all(|q| q.name != p.name),
                "{} twice",
                p.name
            );
        }
        assert!(ALL.len() >= GRID_SIZE);
    }

    #[test]
    fn sequences() {
        let s = PictureSequence::parse("vos,appel, zon").unwrap();
        assert_eq!(s.encode(), "pic:vos,appel,zon");
        assert_eq!(
            PictureSequence::parse("vos,vos").unwrap().names(),
            ["vos", "vos"]
        );
        assert_eq!(
            PictureSequence::parse("vos"),
            Err(PictureError::Length(1)),
            "one picture is too few"
        );
        assert_eq!(
            PictureSequence::parse("vos,kat,hond,uil,vis"),
            Err(PictureError::Length(5))
        );
        assert_eq!(
            PictureSequence::parse("vos,olifant"),
            Err(PictureError::Unknown("olifant".into())),
            "only grid pictures"
        );
        assert!(!format!("{s:?}").contains("vos"), "Debug hides the secret");
    }
}
