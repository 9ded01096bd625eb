//! The server's pictures as the broker's administrative operations reach them
//! ([`broker::admin::Pictures`]): the picture set is embedded in this crate.

use broker::admin::{AdminError, Pictures, Result};

use crate::pictures::{self, PictureSequence};

/// The embedded picture set.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedPictures;

impl Pictures for EmbeddedPictures {
    fn picture_password(&self, pictures: &str) -> Result<String> {
        PictureSequence::parse(pictures)
            .map(|seq| seq.encode())
            .map_err(|e| AdminError::Invalid(e.to_string()))
    }

    fn random_password(&self) -> Result<String> {
        let grid = pictures::grid();
        // Whole multiples of the grid only, so every picture is equally likely.
        let fair = 256 - 256 % grid.len();
        let mut names = Vec::with_capacity(3);
        while names.len() < 3 {
            let [b] = broker::random::random_bytes::<1>()
                .map_err(|_| AdminError::Invalid("no randomness".into()))?;
            if usize::from(b) < fair {
                names.push(grid[usize::from(b) % grid.len()].name);
            }
        }
        self.picture_password(&names.join(","))
    }

    fn picture(&self, name: &str) -> Result<String> {
        pictures::by_name(name)
            .map(|p| p.name.to_string())
            .ok_or_else(|| {
                AdminError::Invalid(format!(
                    "unknown picture '{name}'; pictures: {}",
                    pictures::ALL
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}
