//! Outgoing mail: over SMTP (`LEERPOORT_SMTP_URL`, with `lettre`) or, by default, as `.eml`
//! files in the outbox folder (`LEERPOORT_OUTBOX_DIR`) — so a demo or a test needs no mail
//! server, and an operator can inspect exactly what would have been sent.

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{FileTransport, Message, SmtpTransport, Transport};

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

/// Where mail goes.
pub enum Mailer {
    Smtp {
        transport: SmtpTransport,
        from: Mailbox,
    },
    Outbox {
        dir: PathBuf,
        from: Mailbox,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp { .. } => f.write_str("Mailer::Smtp"),
            Mailer::Outbox { dir, .. } => {
                f.debug_struct("Mailer::Outbox").field("dir", dir).finish()
            }
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
        match &config.smtp_url {
            Some(url) => {
                let transport = SmtpTransport::from_url(url)
                    .map_err(|e| MailError::Config(e.to_string()))?
                    .timeout(Some(std::time::Duration::from_secs(10)))
                    .build();
                Ok(Mailer::Smtp { transport, from })
            }
            None => Ok(Mailer::Outbox {
                dir: config.outbox_dir.clone(),
                from,
            }),
        }
    }

    /// Send one mail.
    pub fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::Address(mail.to.clone()))?;
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Outbox { from, .. } => from.clone(),
        };
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| MailError::Send(e.to_string()))?;
        match self {
            Mailer::Smtp { transport, .. } => transport
                .send(&message)
                .map(|_| ())
                .map_err(|e| MailError::Send(e.to_string())),
            Mailer::Outbox { dir, .. } => {
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
