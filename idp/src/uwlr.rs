//! Fetching from an LAS over UWLR 2.3: the SOAP request goes over HTTPS with Leerpoort's
//! client certificate ([`crate::config::UwlrConfig`]), the LAS's server certificate is checked
//! against the public web roots plus `LEERPOORT_UWLR_CA`, and the answer is read up to
//! EDEXML's size limit. Blocking: it runs on the scheduler's blocking hop or the command line.

use std::io::Read as _;
use std::time::Duration;

use broker::import::las::UwlrTransport;

use crate::config::UwlrConfig;

/// How long one fetch may take, connecting included (a school of 1,500 pupils is about 1 MB).
const TIMEOUT: Duration = Duration::from_secs(120);

/// The HTTPS side of the UWLR client.
#[derive(Debug, Clone)]
pub struct HttpsUwlr {
    config: UwlrConfig,
}

impl HttpsUwlr {
    pub fn new(config: &UwlrConfig) -> Self {
        Self {
            config: config.clone(),
        }
    }

    fn read(path: &std::path::Path, what: &str) -> Result<Vec<u8>, String> {
        std::fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))
    }

    fn client(&self) -> Result<reqwest::blocking::Client, String> {
        let mut b = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .user_agent(concat!(
                "Leerpoort/",
                env!("CARGO_PKG_VERSION"),
                " UWLR/2.3"
            ));
        if let (Some(cert), Some(key)) = (&self.config.client_cert, &self.config.client_key) {
            let mut pem = Self::read(cert, "the UWLR client certificate")?;
            pem.push(b'\n');
            pem.extend(Self::read(key, "the UWLR client key")?);
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|e| format!("the UWLR client certificate or key is not usable: {e}"))?;
            b = b.identity(identity);
        }
        if let Some(ca) = &self.config.ca {
            let pem = Self::read(ca, "the UWLR CA file")?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("the UWLR CA file is not PEM: {e}"))?;
            for cert in certs {
                b = b.add_root_certificate(cert);
            }
        }
        b.build().map_err(|e| format!("the HTTPS client: {e}"))
    }
}

impl UwlrTransport for HttpsUwlr {
    fn post(&self, url: &str, envelope: &str) -> Result<Vec<u8>, String> {
        let response = self
            .client()?
            .post(url)
            .header("Content-Type", protocol::uwlr::CONTENT_TYPE)
            .header("SOAPAction", protocol::uwlr::SOAP_ACTION)
            .body(envelope.to_string())
            .send()
            .map_err(|e| format!("{url}: {}", without_url(&e)))?;
        let status = response.status();
        // A SOAP fault comes with 500 and is read like an answer (the parser says what it is).
        if !(status.is_success() || status == reqwest::StatusCode::INTERNAL_SERVER_ERROR) {
            return Err(format!("{url}: HTTP {status}"));
        }
        let max = protocol::edexml::MAX_BYTES;
        let mut body = Vec::new();
        response
            .take(u64::try_from(max).unwrap_or(u64::MAX) + 1)
            .read_to_end(&mut body)
            .map_err(|e| format!("{url}: reading the answer: {e}"))?;
        if body.len() > max {
            return Err(format!(
                "{url}: the answer is larger than {} MB",
                max / (1024 * 1024)
            ));
        }
        Ok(body)
    }
}

/// A reqwest error in words, with its causes (the TLS alert, the refused connection), without
/// the URL it would repeat.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    let mut parts = vec![kind.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

/// Leerpoort as the afnemer in the `autorisatie` header.
pub fn afnemer(config: &UwlrConfig) -> broker::import::las::Afnemer {
    broker::import::las::Afnemer {
        klantcode: config.klantcode.clone(),
        klantnaam: config.klantnaam.clone(),
    }
}
