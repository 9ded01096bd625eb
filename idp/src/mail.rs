//! Outgoing mail: over SMTP (`LEERPOORT_SMTP_URL`, with `lettre`) or, by default, as `.eml`
//! files in the outbox folder (`LEERPOORT_OUTBOX_DIR`) — so a demo or a test needs no mail
//! server, and an operator can inspect exactly what would have been sent.

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{FileTransport, Message, SmtpTransport, Transport as _};

use broker::ports::{Letter, Outbox, OutboxError};
use catalogue::Locale;

use crate::config::Config;

/// Errors sending mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("LEERPOORT_SMTP_URL: {0}")]
    Config(String),
    #[error("the address '{0}' cannot receive mail")]
    Address(String),
    #[error("sending mail failed: {0}")]
    Send(String),
}

/// One plain-text mail.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// How mail leaves.
enum Delivery {
    Smtp(SmtpTransport),
    Outbox(PathBuf),
}

/// Where mail goes, and from whom.
pub struct Mailer {
    transport: Delivery,
    from: Mailbox,
    /// Home letters name the home entrance under it.
    issuer: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.transport {
            Delivery::Smtp(_) => f.write_str("Mailer::Smtp"),
            Delivery::Outbox(dir) => f.debug_struct("Mailer::Outbox").field("dir", dir).finish(),
        }
    }
}

impl Mailer {
    /// From the configuration: SMTP when `smtp_url` is set, the outbox otherwise. The sender
    /// is a no-reply address on the issuer's host.
    pub fn from_config(config: &Config) -> Result<Self, MailError> {
        let from_addr = format!("no-reply@{}", config.issuer_host());
        let from: Mailbox = format!("Leerpoort <{from_addr}>")
            .parse()
            .or_else(|_| "Leerpoort <no-reply@leerpoort.invalid>".parse())
            .map_err(|e: lettre::address::AddressError| MailError::Config(e.to_string()))?;
        let transport = match &config.smtp_url {
            Some(url) => Delivery::Smtp(
                SmtpTransport::from_url(url)
                    .map_err(|e| MailError::Config(e.to_string()))?
                    .timeout(Some(std::time::Duration::from_secs(10)))
                    .build(),
            ),
            None => Delivery::Outbox(config.outbox_dir.clone()),
        };
        Ok(Mailer {
            transport,
            from,
            issuer: config.issuer.clone(),
        })
    }

    /// Send one mail.
    pub fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::Address(mail.to.clone()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| MailError::Send(e.to_string()))?;
        match &self.transport {
            Delivery::Smtp(transport) => transport
                .send(&message)
                .map(|_| ())
                .map_err(|e| MailError::Send(e.to_string())),
            Delivery::Outbox(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| MailError::Send(format!("{}: {e}", dir.display())))?;
                FileTransport::new(dir)
                    .send(&message)
                    .map(|_| ())
                    .map_err(|e| MailError::Send(e.to_string()))
            }
        }
    }
}

/// The letter in words: the catalogue's subject and body with the letter's link.
pub fn word(letter: &Letter, issuer: &str) -> Mail {
    let m = Locale::Nl.mails();
    match letter {
        Letter::StaffActivation {
            to,
            given_name,
            link,
        }
        | Letter::StaffReset {
            to,
            given_name,
            link,
        } => {
            let (subject, intro) = if matches!(letter, Letter::StaffActivation { .. }) {
                (m.staff_activation_subject, m.staff_activation_intro)
            } else {
                (m.staff_reset_subject, m.staff_reset_intro)
            };
            let body = m.staff_body(given_name, intro, link);
            Mail {
                to: to.clone(),
                subject: subject.into(),
                body,
            }
        }
        Letter::HomeActivation { to, link } | Letter::HomeReset { to, link } => {
            let (subject, intro, valid) = if matches!(letter, Letter::HomeActivation { .. }) {
                (
                    m.home_activation_subject,
                    m.home_activation_intro,
                    m.home_activation_valid,
                )
            } else {
                (m.home_reset_subject, m.home_reset_intro, m.home_reset_valid)
            };
            let body = m.home_body(intro, valid, link, issuer);
            Mail {
                to: to.clone(),
                subject: subject.into(),
                body,
            }
        }
        Letter::SubstituteSignIn {
            to,
            name,
            group,
            school,
            until,
            link,
        } => Mail {
            to: to.clone(),
            subject: m.substitute_subject.into(),
            body: m.substitute_body(
                name,
                group,
                school,
                &catalogue::local_time(*until - 1, "%-d-%-m-%Y"),
                link,
            ),
        },
        Letter::ClosingRequested {
            to,
            school,
            instelling_ref,
            brin6,
            by,
        } => Mail {
            to: to.clone(),
            subject: m.closing_subject.into(),
            body: m.closing_body(school, brin6, instelling_ref, by),
        },
    }
}

/// The mailer as the broker's outbox: it words each letter and sends it.
impl Outbox for Mailer {
    fn send(&self, letter: &Letter) -> Result<(), OutboxError> {
        Mailer::send(self, &word(letter, &self.issuer)).map_err(|e| OutboxError(e.to_string()))
    }
}
