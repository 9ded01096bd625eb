//! The server's state, built once from the configuration and shared by every worker.

use std::sync::Arc;

use anyhow::Context as _;
use broker::clock::Clock;
use broker::login::{Keys, Policy};
use broker::repo::Directory;
use broker::secrets::{PinHasher, PupilSecrets, Sealer};
use broker::store::EphemeralStore;
use claims::PseudonymKey;

use crate::config::Config;
use crate::db::{self, DieselDirectory};
use crate::keys::{FileKeyStore, KeyStore, Purpose};
use crate::metrics::Metrics;
use crate::session::Csrf;

/// How long a node reuses the notice it read.
const NOTICE_TTL_SECS: i64 = 10;

/// The notice as read, and when.
type CachedNotice = (i64, Option<String>);

/// Everything a request handler may reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub dir: Arc<dyn Directory>,
    pub store: Arc<dyn EphemeralStore>,
    pub keys: Arc<dyn KeyStore>,
    pub clock: Arc<dyn Clock>,
    pub pins: Arc<PinHasher>,
    pub sealer: Arc<Sealer>,
    pub pseudonyms: Arc<PseudonymKey>,
    pub metrics: Arc<Metrics>,
    pub csrf: Arc<Csrf>,
    pub devices: Arc<crate::device::DeviceKeys>,
    pub mailer: Arc<crate::mail::Mailer>,
    pub challenges: Arc<broker::login::challenge::Challenges>,
    /// The OIDC upstreams' discovery documents and keys, as last read.
    pub upstream_oidc: Arc<broker::federation::oidc::Discoveries>,
    /// The live licence lookup's HTTP client and circuits.
    pub lookups: Arc<crate::licence_circuits::Lookups>,
    notice: Arc<parking_lot::Mutex<Option<CachedNotice>>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Are both backends the embedded ones (SQLite and the in-process store)? Their reads
    /// answer from this machine's memory and files, never over the network.
    pub fn embedded_storage(&self) -> bool {
        self.config.redis_url.is_none()
            && matches!(
                crate::db::Backend::of(&self.config.database_url),
                Ok(crate::db::Backend::Sqlite)
            )
    }

    /// What the broker's decisions reach the world through.
    pub fn world(&self) -> broker::ports::World<'_> {
        broker::ports::World {
            dir: self.dir.as_ref(),
            store: self.store.as_ref(),
            clock: self.clock.as_ref(),
            outbox: self.mailer.as_ref(),
            issuer: &self.config.issuer,
        }
    }

    /// What pupils' PINs and picture passwords are hashed and sealed with.
    pub fn pupil_secrets(&self) -> PupilSecrets<'_> {
        PupilSecrets {
            pins: &self.pins,
            sealer: &self.sealer,
        }
    }

    /// What making a user's credentials needs (administrative operations).
    pub fn credentials(&self) -> broker::admin::Credentials<'_> {
        broker::admin::Credentials {
            secrets: self.pupil_secrets(),
            pictures: &crate::credentials::EmbeddedPictures,
        }
    }

    /// The keys the sign-in rules hash, seal and check challenges with.
    pub fn login_keys(&self) -> Keys<'_> {
        Keys {
            pins: &self.pins,
            sealer: &self.sealer,
            challenges: &self.challenges,
        }
    }

    /// The operator's settings sign-in follows.
    pub fn login_policy(&self) -> Policy {
        Policy {
            require_totp_for_coordinators: self.config.require_totp_for_coordinators,
            session_idle_staff_secs: self.config.session_idle_staff_secs,
            session_idle_pupil_secs: self.config.session_idle_pupil_secs,
        }
    }

    /// The operator's outage notice, if one is set (read at most every ten seconds).
    pub fn notice(&self) -> Option<String> {
        let now = self.clock.now_secs();
        if let Some((at, n)) = self.notice.lock().as_ref() {
            if now - at < NOTICE_TTL_SECS {
                return n.clone();
            }
        }
        let n = self
            .dir
            .setting(broker::admin::NOTICE_KEY)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading the notice");
                None
            });
        *self.notice.lock() = Some((now, n.clone()));
        n
    }

    /// Connect to the database (and migrate it), open the ephemeral store and the keys.
    pub fn open(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let pool = db::connect(&config.database_url, config.db_pool_size)?;
        db::migrate(&pool)?;
        let dir: Arc<dyn Directory> = Arc::new(DieselDirectory::new(pool, clock.clone()));
        Self::with_directory(config, clock, dir)
    }

    /// As [`AppState::open`], on a directory that is already migrated.
    pub fn with_directory(
        config: Config,
        clock: Arc<dyn Clock>,
        dir: Arc<dyn Directory>,
    ) -> anyhow::Result<Self> {
        let store = crate::store::open(
            config.redis_url.as_deref(),
            &config.redis_options,
            clock.clone(),
        )
        .context("LEERPOORT_REDIS_URL")?;
        let keys =
            FileKeyStore::open_or_init(&config.keys_dir, config.issuer_host(), clock.now_secs())
                .context("LEERPOORT_KEYS_DIR")?;
        let pins = PinHasher::new(keys.derive(Purpose::Pins)?.as_bytes());
        let sealer = Sealer::new(&keys.pupil_secrets_key()?)
            .map_err(|e| anyhow::anyhow!("keys/pupil-secrets.key: {e}"))?;
        let csrf = Csrf::new(keys.derive(Purpose::Csrf)?.as_bytes());
        let devices =
            crate::device::DeviceKeys::new(keys.derive(Purpose::DeviceCookies)?.as_bytes());
        let challenges = broker::login::challenge::Challenges::new(
            keys.derive(Purpose::SignInChallenge)?.as_bytes(),
        );
        let pseudonyms = PseudonymKey::new(&keys.pseudonym_secret()?)
            .map_err(|e| anyhow::anyhow!("keys/pseudonym.key: {e}"))?;
        let mailer = crate::mail::Mailer::from_config(&config)?;
        Ok(Self {
            config: Arc::new(config),
            dir,
            store,
            keys: Arc::new(keys) as Arc<dyn KeyStore>,
            clock,
            pins: Arc::new(pins),
            sealer: Arc::new(sealer),
            pseudonyms: Arc::new(pseudonyms),
            metrics: Arc::new(Metrics::new()),
            csrf: Arc::new(csrf),
            devices: Arc::new(devices),
            mailer: Arc::new(mailer),
            challenges: Arc::new(challenges),
            upstream_oidc: Arc::new(broker::federation::oidc::Discoveries::new()),
            lookups: Arc::new(crate::licence_circuits::Lookups::new()),
            notice: Arc::new(parking_lot::Mutex::new(None)),
        })
    }
}
