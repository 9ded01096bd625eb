//! The server's secrets and pictures as the broker's administrative operations reach them
//! ([`broker::admin::Credentials`], [`broker::admin::Sealing`]): the PIN pepper and the sealing
//! key stay here, and so do the password policy and the picture catalogue.

use broker::admin::{AdminError, Credentials, Result, Sealing};

use crate::pictures::{self, PictureSequence};
use crate::secrets::{self, PupilSecrets, Sealer};

fn secret(e: secrets::SecretError) -> AdminError {
    AdminError::Secret(Box::new(e))
}

impl Sealing for Sealer {
    fn seal(&self, owner: uuid::Uuid, secret_text: &str) -> Result<String> {
        Sealer::seal(self, owner, secret_text).map_err(secret)
    }
}

impl Sealing for PupilSecrets<'_> {
    fn seal(&self, owner: uuid::Uuid, secret_text: &str) -> Result<String> {
        Sealing::seal(self.sealer, owner, secret_text)
    }
}

impl Credentials for PupilSecrets<'_> {
    fn check_pin(&self, pin: &str) -> Result<()> {
        secrets::check_pin(pin).map_err(secret)
    }

    fn random_pin(&self) -> Result<String> {
        secrets::random_pin().map_err(secret)
    }

    fn hash_pin(&self, secret_text: &str) -> Result<String> {
        self.pins.hash(secret_text).map_err(secret)
    }

    fn check_password(&self, password: &str, hints: [&str; 4]) -> Result<()> {
        crate::password_policy::check(password, &crate::password_policy::personal_hints(hints))
            .map_err(|w| AdminError::WeakPassword(Box::new(w)))
    }

    fn hash_password(&self, password: &str) -> Result<String> {
        secrets::hash_password(password).map_err(secret)
    }

    fn picture_password(&self, pictures: &str) -> Result<String> {
        PictureSequence::parse(pictures)
            .map(|seq| seq.encode())
            .map_err(|e| AdminError::Invalid(e.to_string()))
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
