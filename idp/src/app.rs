//! The server's state, built once from the configuration and shared by every worker.

use std::sync::Arc;

use anyhow::Context as _;
use broker::clock::Clock;
use broker::repo::Directory;
use broker::store::EphemeralStore;
use claims::PseudonymKey;

use crate::config::Config;
use crate::db::{self, DieselDirectory};
use crate::keys::FileKeyStore;
use crate::metrics::Metrics;
use crate::secrets::PinHasher;
use crate::session::Csrf;

/// The settings key of the outage notice.
pub const NOTICE_KEY: &str = "notice";
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
    pub keys: Arc<FileKeyStore>,
    pub clock: Arc<dyn Clock>,
    pub pins: Arc<PinHasher>,
    pub sealer: Arc<crate::secrets::Sealer>,
    pub pseudonyms: Arc<PseudonymKey>,
    pub metrics: Arc<Metrics>,
    pub csrf: Arc<Csrf>,
    pub devices: Arc<crate::device::DeviceKeys>,
    pub mailer: Arc<crate::mail::Mailer>,
    pub challenges: Arc<crate::challenge::Challenges>,
    /// The OIDC upstreams' discovery documents and keys, as last read.
    pub upstream_oidc: Arc<broker::federation::oidc::Discoveries>,
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
    pub fn pupil_secrets(&self) -> crate::secrets::PupilSecrets<'_> {
        crate::secrets::PupilSecrets {
            pins: &self.pins,
            sealer: &self.sealer,
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
        let n = self.dir.setting(NOTICE_KEY).unwrap_or_else(|e| {
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
        let store = crate::store::open(config.redis_url.as_deref(), clock.clone())
            .context("LEERPOORT_REDIS_URL")?;
        let keys =
            FileKeyStore::open_or_init(&config.keys_dir, config.issuer_host(), clock.now_secs())
                .context("LEERPOORT_KEYS_DIR")?;
        let pepper = keys.pin_pepper()?;
        let pins = PinHasher::new(&pepper);
        let sealer = crate::secrets::Sealer::new(&keys.pupil_secrets_key()?)
            .map_err(|e| anyhow::anyhow!("keys/pupil-secrets.key: {e}"))?;
        let csrf = Csrf::new(&pepper);
        let pseudonyms = PseudonymKey::new(&keys.pseudonym_secret()?)
            .map_err(|e| anyhow::anyhow!("keys/pseudonym.key: {e}"))?;
        let mailer = crate::mail::Mailer::from_config(&config)?;
        Ok(Self {
            config: Arc::new(config),
            dir,
            store,
            keys: Arc::new(keys),
            clock,
            pins: Arc::new(pins),
            sealer: Arc::new(sealer),
            pseudonyms: Arc::new(pseudonyms),
            metrics: Arc::new(Metrics::new()),
            csrf: Arc::new(csrf),
            devices: Arc::new(crate::device::DeviceKeys::new(&pepper)),
            mailer: Arc::new(mailer),
            challenges: Arc::new(crate::challenge::Challenges::new(&pepper)),
            upstream_oidc: Arc::new(broker::federation::oidc::Discoveries::new()),
            notice: Arc::new(parking_lot::Mutex::new(None)),
        })
    }
}
