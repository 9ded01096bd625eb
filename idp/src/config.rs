//! Configuration: a TOML file (`--config`, or `leerpoort.toml` when present) overridden by
//! `LEERPOORT_<KEY>` environment variables. A wrong value stops start-up with a message that
//! names the key. See `docs/configuration.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

use crate::store::{refuse_insecure_tls, RedisOptions};

/// Errors reading the configuration. Each names the key at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("configuration file {path}: {msg}")]
    File { path: String, msg: String },
    #[error("{key}: {msg}")]
    Invalid { key: String, msg: String },
}

fn invalid(key: &str, msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: format!("LEERPOORT_{}", key.to_uppercase()),
        msg: msg.into(),
    }
}

/// The file's shape: every key optional, names as in `docs/configuration.md`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    redis_url: Option<String>,
    redis_prefix: Option<String>,
    redis_ca_file: Option<String>,
    listen: Option<String>,
    issuer: Option<String>,
    keys_dir: Option<String>,
    smtp_url: Option<String>,
    outbox_dir: Option<String>,
    operator_email: Option<String>,
    trust_proxy: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    metrics_listen: Option<String>,
    operator_listen: Option<String>,
    require_totp_for_coordinators: Option<bool>,
    session_idle_pupil_minutes: Option<u32>,
    session_idle_staff_minutes: Option<u32>,
    log_format: Option<String>,
    db_pool_size: Option<u32>,
    uwlr_client_cert: Option<String>,
    uwlr_client_key: Option<String>,
    uwlr_ca: Option<String>,
    uwlr_klantcode: Option<String>,
    uwlr_klantnaam: Option<String>,
    licence_deadline_ms: Option<u64>,
    licence_cache_secs: Option<u64>,
    audit_retention_days: Option<u32>,
}

/// How the start page asks publishers with a licence endpoint (the live lookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenceLookupConfig {
    /// How long the page waits for all publishers together (`licence_deadline_ms`: 50 to
    /// 10,000; 800 by default).
    pub deadline_ms: u64,
    /// How long an answer is kept per user and publisher (`licence_cache_secs`: 0 to 86,400;
    /// 300 by default).
    pub cache_secs: u64,
}

/// `licence_deadline_ms` and `licence_cache_secs`.
fn licence_lookup(
    env: &dyn Fn(&str) -> Option<String>,
    deadline: Option<u64>,
    cache: Option<u64>,
) -> Result<LicenceLookupConfig, ConfigError> {
    let number =
        |key: &str, from_file: Option<u64>, range: std::ops::RangeInclusive<u64>, default: u64| {
            let n =
                match env(&format!("LEERPOORT_{}", key.to_uppercase())).filter(|v| !v.is_empty()) {
                    Some(v) => v.parse::<u64>().ok(),
                    None => Some(from_file.unwrap_or(default)),
                };
            n.filter(|n| range.contains(n)).ok_or_else(|| {
                invalid(
                    key,
                    format!(
                        "expected a number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            })
        };
    Ok(LicenceLookupConfig {
        deadline_ms: number("licence_deadline_ms", deadline, 50..=10_000, 800)?,
        cache_secs: number("licence_cache_secs", cache, 0..=86_400, 300)?,
    })
}

/// `audit_retention_days`: 0 (keep for ever, the default) to 36,500.
fn audit_retention(
    env: &dyn Fn(&str) -> Option<String>,
    from_file: Option<u32>,
) -> Result<u32, ConfigError> {
    match env("LEERPOORT_AUDIT_RETENTION_DAYS").filter(|v| !v.is_empty()) {
        Some(v) => v.parse::<u32>().ok(),
        None => Some(from_file.unwrap_or(0)),
    }
    .filter(|n| *n <= 36_500)
    .ok_or_else(|| {
        invalid(
            "audit_retention_days",
            "expected days from 0 (keep for ever) to 36500",
        )
    })
}

/// Leerpoort as a UWLR consumer (afnemer), fetching school data from an LAS: the client
/// certificate it presents (PKIoverheid in production), extra roots it trusts for the LAS's
/// server certificate, and the `klantcode` / `klantnaam` of the SOAP `autorisatie` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UwlrConfig {
    /// PEM: the certificate (and its chain) presented to the LAS.
    pub client_cert: Option<PathBuf>,
    /// PEM: its private key.
    pub client_key: Option<PathBuf>,
    /// PEM: extra roots for the LAS's server certificate (besides the public web roots).
    pub ca: Option<PathBuf>,
    pub klantcode: String,
    pub klantnaam: String,
}

/// The pupils' and the staff's idle timeouts in seconds (`session_idle_*_minutes`: 0 to 600,
/// 0 is off; 30 and 120 by default).
fn session_idle(
    env: &dyn Fn(&str) -> Option<String>,
    pupil: Option<u32>,
    staff: Option<u32>,
) -> Result<(i64, i64), ConfigError> {
    let minutes = |key: &str, from_file: Option<u32>, default: u32| {
        match env(&format!("LEERPOORT_{}", key.to_uppercase())).filter(|v| !v.is_empty()) {
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= 600)
                .ok_or_else(|| invalid(key, "expected minutes from 0 (off) to 600")),
            None => Ok(from_file.unwrap_or(default)),
        }
        .map(|m| i64::from(m) * 60)
    };
    Ok((
        minutes("session_idle_pupil_minutes", pupil, 30)?,
        minutes("session_idle_staff_minutes", staff, 120)?,
    ))
}

/// `db_pool_size`: 1 to 256, 16 by default.
fn pool_size(
    env: &dyn Fn(&str) -> Option<String>,
    from_file: Option<u32>,
) -> Result<u32, ConfigError> {
    match env("LEERPOORT_DB_POOL_SIZE").filter(|v| !v.is_empty()) {
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=256).contains(n))
            .ok_or_else(|| invalid("db_pool_size", "expected a number from 1 to 256")),
        None => Ok(from_file.unwrap_or(16)),
    }
}

/// The `uwlr_*` keys: certificate and key come together; the klantcode defaults to the
/// issuer's host, the klantnaam to `Leerpoort`.
fn uwlr_from(
    get: &dyn Fn(&str, Option<String>) -> Option<String>,
    [cert, key, ca, klantcode, klantnaam]: [Option<String>; 5],
    issuer_host: &str,
) -> Result<UwlrConfig, ConfigError> {
    let path = |k: &str, v: Option<String>| get(k, v).map(PathBuf::from);
    let client_cert = path("uwlr_client_cert", cert);
    let client_key = path("uwlr_client_key", key);
    if client_cert.is_some() != client_key.is_some() {
        return Err(invalid(
            "uwlr_client_cert",
            "give LEERPOORT_UWLR_CLIENT_CERT and LEERPOORT_UWLR_CLIENT_KEY together",
        ));
    }
    let ca = path("uwlr_ca", ca);
    for (key, p) in [
        ("uwlr_client_cert", &client_cert),
        ("uwlr_client_key", &client_key),
        ("uwlr_ca", &ca),
    ] {
        if let Some(p) = p.as_ref().filter(|p| !p.is_file()) {
            return Err(invalid(key, format!("{} is not a file", p.display())));
        }
    }
    Ok(UwlrConfig {
        client_cert,
        client_key,
        ca,
        klantcode: get("uwlr_klantcode", klantcode).unwrap_or_else(|| issuer_host.to_string()),
        klantnaam: get("uwlr_klantnaam", klantnaam).unwrap_or_else(|| "Leerpoort".into()),
    })
}

/// `redis_prefix` and `redis_ca_file`, which only go with a `redis_url` (the CA file with a
/// `rediss://` one); `#insecure` in the URL is refused off loopback.
fn redis_options(
    redis_url: Option<&str>,
    prefix: Option<String>,
    ca_file: Option<String>,
) -> Result<RedisOptions, ConfigError> {
    if let Some(url) = redis_url {
        refuse_insecure_tls(url).map_err(|msg| invalid("redis_url", msg))?;
    }
    let prefix = prefix.unwrap_or_default();
    if prefix.len() > 64 || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "redis_prefix",
            "expected at most 64 printable ASCII characters without spaces, e.g. leerpoort:",
        ));
    }
    if !prefix.is_empty() && redis_url.is_none() {
        return Err(invalid(
            "redis_prefix",
            "set, but LEERPOORT_REDIS_URL is not: the prefix is for keys in Redis",
        ));
    }
    let ca_file = ca_file.map(PathBuf::from);
    if let Some(p) = &ca_file {
        if !redis_url.is_some_and(|u| u.starts_with("rediss://")) {
            return Err(invalid(
                "redis_ca_file",
                "set, but LEERPOORT_REDIS_URL is not a rediss:// (TLS) URL",
            ));
        }
        if !p.is_file() {
            return Err(invalid(
                "redis_ca_file",
                format!("{} is not a file", p.display()),
            ));
        }
    }
    Ok(RedisOptions { prefix, ca_file })
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default on a terminal).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The server's configuration, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The live licence lookup's deadline and cache.
    pub licence_lookup: LicenceLookupConfig,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// The key prefix and the CA file for Redis (`redis_prefix`, `redis_ca_file`).
    pub redis_options: RedisOptions,
    pub listen: SocketAddr,
    /// Public base URL without a trailing slash; the OIDC issuer and SAML entity ID.
    pub issuer: String,
    pub keys_dir: PathBuf,
    pub smtp_url: Option<String>,
    pub outbox_dir: PathBuf,
    /// Where the operator is told what needs them (a school asking to close its account).
    pub operator_email: Option<String>,
    /// The proxies whose `X-Forwarded-For` is believed (`LEERPOORT_TRUSTED_PROXIES`; with
    /// `LEERPOORT_TRUST_PROXY=true` and no list: loopback only). Empty: the header is ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// Where `/metrics` is served (`LEERPOORT_METRICS_LISTEN`); `None` when turned off. Never
    /// on the public listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Where the operator console (`/operator`) is served (`LEERPOORT_OPERATOR_LISTEN`); `None`
    /// (the default) when turned off. Never on the public listener.
    pub operator_listen: Option<SocketAddr>,
    /// Every ICT coordinator must sign in with a second factor (TOTP), whatever their school
    /// chose.
    pub require_totp_for_coordinators: bool,
    /// A pupil's session ends after this much inactivity (seconds; 0: only at its end).
    pub session_idle_pupil_secs: i64,
    /// A staff member's session ends after this much inactivity (seconds; 0: only at its end).
    pub session_idle_staff_secs: i64,
    pub log_format: LogFormat,
    pub db_pool_size: u32,
    /// Fetching school data from an LAS over UWLR.
    pub uwlr: UwlrConfig,
    /// Audit lines older than this many days are removed by the cleanup job; 0 (the
    /// default): kept for ever.
    pub audit_retention_days: u32,
}

impl Config {
    /// Read `path` (or `leerpoort.toml` when it exists and no path is given), then apply the
    /// environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(path, |k| std::env::var(k).ok())
    }

    /// As [`Config::load`], with the environment passed in (tests).
    pub fn load_with_env(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let file = match path {
            Some(p) => Some(read_file(p)?),
            None if Path::new("leerpoort.toml").exists() => {
                Some(read_file(Path::new("leerpoort.toml"))?)
            }
            None => None,
        }
        .unwrap_or_default();

        let get = |key: &str, from_file: Option<String>| -> Option<String> {
            env(&format!("LEERPOORT_{}", key.to_uppercase()))
                .filter(|v| !v.is_empty())
                .or(from_file)
        };

        let database_url = with_scheme(
            "database_url",
            Some(
                get("database_url", file.database_url)
                    .unwrap_or_else(|| "sqlite://leerpoort.db".into()),
            ),
            &["sqlite:", "postgres://", "postgresql://"],
            "expected sqlite://FILE or postgres://USER@HOST/DB",
        )?
        .unwrap_or_default();
        let redis_url = with_scheme(
            "redis_url",
            get("redis_url", file.redis_url),
            &["redis://", "rediss://", "redis+unix://"],
            "expected redis://HOST:PORT or rediss://...",
        )?;
        let redis_options = redis_options(
            redis_url.as_deref(),
            get("redis_prefix", file.redis_prefix),
            get("redis_ca_file", file.redis_ca_file),
        )?;

        let listen_s = get("listen", file.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_s.parse().map_err(|_| {
            invalid(
                "listen",
                format!("'{listen_s}' is not an address:port like 127.0.0.1:8080"),
            )
        })?;

        let issuer = get("issuer", file.issuer).unwrap_or_else(|| format!("http://{listen}"));
        let issuer = issuer.trim_end_matches('/').to_string();
        validate_issuer(&issuer)?;

        let keys_dir =
            PathBuf::from(get("keys_dir", file.keys_dir).unwrap_or_else(|| "keys".into()));
        let smtp_url = with_scheme(
            "smtp_url",
            get("smtp_url", file.smtp_url),
            &["smtp://", "smtps://"],
            "expected smtp://HOST:PORT or smtps://USER:PASS@HOST",
        )?;
        let outbox_dir =
            PathBuf::from(get("outbox_dir", file.outbox_dir).unwrap_or_else(|| "outbox".into()));
        let operator_email = get("operator_email", file.operator_email)
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty());
        if operator_email
            .as_deref()
            .is_some_and(|e| broker::admin::normalise_email(e).is_err())
        {
            return Err(invalid("operator_email", "expected an e-mail address"));
        }

        let trusted_proxies = proxies_from(&env, file.trust_proxy, file.trusted_proxies)?;

        let metrics_listen = metrics_listen(get("metrics_listen", file.metrics_listen).as_deref())?;
        let operator_listen = operator_listen(
            get("operator_listen", file.operator_listen).as_deref(),
            listen,
        )?;
        let require_totp_for_coordinators =
            match env("LEERPOORT_REQUIRE_TOTP_FOR_COORDINATORS").filter(|v| !v.is_empty()) {
                Some(v) => parse_bool(&v).ok_or_else(|| {
                    invalid("require_totp_for_coordinators", "expected true or false")
                })?,
                None => file.require_totp_for_coordinators.unwrap_or(false),
            };

        let (session_idle_pupil_secs, session_idle_staff_secs) = session_idle(
            &env,
            file.session_idle_pupil_minutes,
            file.session_idle_staff_minutes,
        )?;
        let log_format = log_format(get("log_format", file.log_format).as_deref())?;
        let db_pool_size = pool_size(&env, file.db_pool_size)?;

        let host = issuer.split("://").nth(1).unwrap_or(&issuer);
        let host = host.split(['/', ':']).next().unwrap_or(host).to_string();
        let uwlr_keys = [
            file.uwlr_client_cert,
            file.uwlr_client_key,
            file.uwlr_ca,
            file.uwlr_klantcode,
            file.uwlr_klantnaam,
        ];
        let uwlr = uwlr_from(&get, uwlr_keys, &host)?;
        let licence_lookup =
            licence_lookup(&env, file.licence_deadline_ms, file.licence_cache_secs)?;
        let audit_retention_days = audit_retention(&env, file.audit_retention_days)?;

        Ok(Config {
            licence_lookup,
            database_url,
            redis_url,
            redis_options,
            listen,
            issuer,
            keys_dir,
            smtp_url,
            outbox_dir,
            operator_email,
            trusted_proxies,
            metrics_listen,
            operator_listen,
            require_totp_for_coordinators,
            session_idle_pupil_secs,
            session_idle_staff_secs,
            log_format,
            db_pool_size,
            uwlr,
            audit_retention_days,
        })
    }

    /// The host part of the issuer (for certificate names).
    pub fn issuer_host(&self) -> &str {
        let rest = self.issuer.split("://").nth(1).unwrap_or(&self.issuer);
        rest.split(['/', ':']).next().unwrap_or(rest)
    }

    /// Is the public URL HTTPS (then cookies get the `__Host-` prefix and `Secure`)?
    pub fn is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}

fn read_file(p: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(p).map_err(|e| ConfigError::File {
        path: p.display().to_string(),
        msg: e.to_string(),
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::File {
        path: p.display().to_string(),
        msg: e.message().to_string(),
    })
}

/// The proxies to believe: the list when given (a bare address is a /32 or /128), loopback
/// when only `trust_proxy = true` is set, none otherwise. A list with `trust_proxy = false`
/// contradicts itself and is refused.
fn trusted_proxies(
    trust_proxy: Option<bool>,
    list: Option<Vec<String>>,
) -> Result<Vec<IpNet>, ConfigError> {
    let list = list.filter(|l| !l.is_empty());
    match (trust_proxy, list) {
        (Some(false), Some(_)) => Err(invalid(
            "trusted_proxies",
            "set, but LEERPOORT_TRUST_PROXY is false; remove one of them",
        )),
        (Some(false) | None, None) => Ok(Vec::new()),
        (Some(true), None) => ["127.0.0.0/8", "::1/128"]
            .iter()
            .map(|n| {
                n.parse::<IpNet>()
                    .map_err(|e| invalid("trusted_proxies", e.to_string()))
            })
            .collect(),
        (_, Some(list)) => list
            .iter()
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| {
                        invalid(
                            "trusted_proxies",
                            format!("'{entry}' is not a network like 10.0.0.0/8 or an address"),
                        )
                    })
            })
            .collect(),
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `value`, when set, must start with one of `schemes`.
fn with_scheme(
    key: &str,
    value: Option<String>,
    schemes: &[&str],
    expected: &str,
) -> Result<Option<String>, ConfigError> {
    match value {
        Some(v) if !schemes.iter().any(|s| v.starts_with(s)) => Err(invalid(key, expected)),
        v => Ok(v),
    }
}

/// `LEERPOORT_TRUST_PROXY` and `LEERPOORT_TRUSTED_PROXIES` (or the file's), as the networks
/// whose `X-Forwarded-For` is believed.
fn proxies_from(
    env: &impl Fn(&str) -> Option<String>,
    file_trust: Option<bool>,
    file_list: Option<Vec<String>>,
) -> Result<Vec<IpNet>, ConfigError> {
    let trust_proxy = match env("LEERPOORT_TRUST_PROXY").filter(|v| !v.is_empty()) {
        Some(v) => {
            Some(parse_bool(&v).ok_or_else(|| invalid("trust_proxy", "expected true or false"))?)
        }
        None => file_trust,
    };
    let proxy_list = match env("LEERPOORT_TRUSTED_PROXIES").filter(|v| !v.trim().is_empty()) {
        Some(v) => Some(
            v.split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>(),
        ),
        None => file_list,
    };
    trusted_proxies(trust_proxy, proxy_list)
}

/// The metrics listener: `off`, an address, or the default `127.0.0.1:9464`.
fn metrics_listen(v: Option<&str>) -> Result<Option<SocketAddr>, ConfigError> {
    Ok(match v {
        None => Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        Some("off") => None,
        Some(v) => Some(v.parse::<SocketAddr>().map_err(|_| {
            invalid(
                "metrics_listen",
                format!("'{v}' is not an address:port like 127.0.0.1:9464 (or off)"),
            )
        })?),
    })
}

/// The operator console's listener: off (the default, or `off`), or an address with a fixed
/// port (the sign-in link names it) other than the public listener's.
fn operator_listen(v: Option<&str>, listen: SocketAddr) -> Result<Option<SocketAddr>, ConfigError> {
    let at = match v.map(str::trim) {
        None | Some("off") => return Ok(None),
        Some(v) => v.parse::<SocketAddr>().map_err(|_| {
            invalid(
                "operator_listen",
                format!("'{v}' is not an address:port like 127.0.0.1:9465 (or off)"),
            )
        })?,
    };
    if at.port() == 0 {
        return Err(invalid(
            "operator_listen",
            "give a fixed port: the sign-in link names it",
        ));
    }
    if at.port() == listen.port()
        && (at.ip() == listen.ip() || at.ip().is_unspecified() || listen.ip().is_unspecified())
    {
        return Err(invalid(
            "operator_listen",
            "must not be the public listener (LEERPOORT_LISTEN)",
        ));
    }
    Ok(Some(at))
}

fn log_format(v: Option<&str>) -> Result<LogFormat, ConfigError> {
    Ok(match v {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => {
            return Err(invalid(
                "log_format",
                format!("'{other}': expected text or json"),
            ))
        }
    })
}

fn validate_issuer(issuer: &str) -> Result<(), ConfigError> {
    let rest = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .ok_or_else(|| {
            invalid(
                "issuer",
                "must start with https:// (or http:// for local use)",
            )
        })?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || issuer.contains('?') || issuer.contains('#') {
        return Err(invalid(
            "issuer",
            "must be a URL with a host and no query or fragment",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashMap;

    fn with_env(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_with_env(None, move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = with_env(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://leerpoort.db");
        assert_eq!(c.redis_url, None);
        assert_eq!(c.redis_options, RedisOptions::default());
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.issuer, "http://127.0.0.1:8080");
        assert_eq!(c.keys_dir, PathBuf::from("keys"));
        assert_eq!(c.outbox_dir, PathBuf::from("outbox"));
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.session_idle_pupil_secs, 30 * 60);
        assert_eq!(c.session_idle_staff_secs, 2 * 3600);
        assert_eq!(
            c.metrics_listen.map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:9464")
        );
        assert!(!c.require_totp_for_coordinators);
        assert_eq!(c.operator_listen, None);
    }

    #[test]
    fn the_operator_console_is_off_unless_given_its_own_address() {
        let on = with_env(&[("LEERPOORT_OPERATOR_LISTEN", "127.0.0.1:9465")]).unwrap();
        assert_eq!(
            on.operator_listen.map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:9465")
        );
        let off = with_env(&[("LEERPOORT_OPERATOR_LISTEN", "off")]).unwrap();
        assert_eq!(off.operator_listen, None);
        for bad in ["9465", "127.0.0.1:0", "127.0.0.1:8080", "0.0.0.0:8080"] {
            let err = with_env(&[("LEERPOORT_OPERATOR_LISTEN", bad)]).unwrap_err();
            assert!(
                err.to_string().starts_with("LEERPOORT_OPERATOR_LISTEN"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.toml");
        std::fs::write(
            &p,
            "listen = \"0.0.0.0:9000\"\nissuer = \"https://leerpoort.example/\"\n",
        )
        .unwrap();
        let c = Config::load_with_env(Some(&p), |k| {
            (k == "LEERPOORT_LISTEN").then(|| "127.0.0.1:9100".to_string())
        })
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9100");
        assert_eq!(c.issuer, "https://leerpoort.example");
        assert_eq!(c.issuer_host(), "leerpoort.example");
        assert!(c.is_https());
    }

    #[test]
    fn wrong_values_name_the_key() {
        let cases = [
            ("LEERPOORT_LISTEN", "nowhere", "LEERPOORT_LISTEN"),
            (
                "LEERPOORT_DATABASE_URL",
                "mysql://x",
                "LEERPOORT_DATABASE_URL",
            ),
            ("LEERPOORT_REDIS_URL", "http://x", "LEERPOORT_REDIS_URL"),
            ("LEERPOORT_ISSUER", "ftp://x", "LEERPOORT_ISSUER"),
            ("LEERPOORT_TRUST_PROXY", "maybe", "LEERPOORT_TRUST_PROXY"),
            (
                "LEERPOORT_TRUSTED_PROXIES",
                "10.0.0.0/8, proxy.example",
                "LEERPOORT_TRUSTED_PROXIES",
            ),
            (
                "LEERPOORT_METRICS_LISTEN",
                "9464",
                "LEERPOORT_METRICS_LISTEN",
            ),
            (
                "LEERPOORT_REQUIRE_TOTP_FOR_COORDINATORS",
                "ja",
                "LEERPOORT_REQUIRE_TOTP_FOR_COORDINATORS",
            ),
            ("LEERPOORT_SMTP_URL", "mail.example", "LEERPOORT_SMTP_URL"),
        ];
        for (k, v, named) in cases {
            let err = with_env(&[(k, v)]).unwrap_err();
            assert!(err.to_string().starts_with(named), "{err}");
        }
    }

    #[test]
    fn trusted_proxies_default_to_loopback_and_take_a_list() {
        let only_flag = with_env(&[("LEERPOORT_TRUST_PROXY", "true")]).unwrap();
        let nets: Vec<String> = only_flag
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nets, ["127.0.0.0/8", "::1/128"]);

        let listed = with_env(&[(
            "LEERPOORT_TRUSTED_PROXIES",
            "10.0.0.0/8, 192.0.2.7 2001:db8::/32",
        )])
        .unwrap();
        let nets: Vec<String> = listed
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);

        let err = with_env(&[
            ("LEERPOORT_TRUST_PROXY", "false"),
            ("LEERPOORT_TRUSTED_PROXIES", "10.0.0.0/8"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().starts_with("LEERPOORT_TRUSTED_PROXIES"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.toml");
        std::fs::write(
            &p,
            "trusted_proxies = [\"172.16.0.0/12\"]\nmetrics_listen = \"off\"\n",
        )
        .unwrap();
        let c = Config::load_with_env(Some(&p), |_| None).unwrap();
        assert_eq!(c.trusted_proxies[0].to_string(), "172.16.0.0/12");
        assert_eq!(c.metrics_listen, None);
    }

    #[test]
    fn redis_prefix_is_checked_and_defaults_to_none() {
        let url = ("LEERPOORT_REDIS_URL", "redis://127.0.0.1:6379");
        let c = with_env(&[url]).unwrap();
        assert_eq!(c.redis_options.prefix, "");
        let c = with_env(&[url, ("LEERPOORT_REDIS_PREFIX", "leerpoort-test:")]).unwrap();
        assert_eq!(c.redis_options.prefix, "leerpoort-test:");
        let longest = "p".repeat(64);
        let c = with_env(&[url, ("LEERPOORT_REDIS_PREFIX", &longest)]).unwrap();
        assert_eq!(c.redis_options.prefix, longest);
        for bad in ["leer poort:", "leerpoört:", "tab\t", &"p".repeat(65)] {
            let err = with_env(&[url, ("LEERPOORT_REDIS_PREFIX", bad)])
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("LEERPOORT_REDIS_PREFIX: expected at most 64 printable ASCII"),
                "{bad}: {err}"
            );
        }
        let err = with_env(&[("LEERPOORT_REDIS_PREFIX", "leerpoort:")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("LEERPOORT_REDIS_PREFIX: set, but LEERPOORT_REDIS_URL is not"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.toml");
        std::fs::write(
            &p,
            "redis_url = \"redis://cache.internal\"\nredis_prefix = \"school-a:\"\n",
        )
        .unwrap();
        let c = Config::load_with_env(Some(&p), |_| None).unwrap();
        assert_eq!(c.redis_options.prefix, "school-a:");
    }

    #[test]
    fn redis_tls_settings_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let ca = ca.to_str().unwrap();
        let c = with_env(&[
            ("LEERPOORT_REDIS_URL", "rediss://redis.internal:6380"),
            ("LEERPOORT_REDIS_CA_FILE", ca),
        ])
        .unwrap();
        assert_eq!(c.redis_options.ca_file.as_deref(), Some(Path::new(ca)));

        for (url, file, says) in [
            ("redis://redis.internal", ca, "not a rediss://"),
            (
                "rediss://redis.internal",
                "/nonexistent/ca.pem",
                "is not a file",
            ),
        ] {
            let err = with_env(&[
                ("LEERPOORT_REDIS_URL", url),
                ("LEERPOORT_REDIS_CA_FILE", file),
            ])
            .unwrap_err()
            .to_string();
            assert!(err.starts_with("LEERPOORT_REDIS_CA_FILE: "), "{err}");
            assert!(err.contains(says), "{err}");
        }
        let err = with_env(&[("LEERPOORT_REDIS_CA_FILE", ca)]).unwrap_err();
        assert!(
            err.to_string().starts_with("LEERPOORT_REDIS_CA_FILE"),
            "{err}"
        );

        // No certificate check at all: only on loopback.
        let err = with_env(&[("LEERPOORT_REDIS_URL", "rediss://redis.internal/#insecure")])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("LEERPOORT_REDIS_URL: #insecure"), "{err}");
        assert!(err.contains("loopback"), "{err}");
        for local in [
            "rediss://127.0.0.1:6380/#insecure",
            "rediss://localhost/#insecure",
        ] {
            let c = with_env(&[("LEERPOORT_REDIS_URL", local)]).unwrap();
            assert_eq!(c.redis_url.as_deref(), Some(local));
        }
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.toml");
        std::fs::write(&p, "lisen = \"0.0.0.0:9000\"\n").unwrap();
        let err = Config::load_with_env(Some(&p), |_| None).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }
}
