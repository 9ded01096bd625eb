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

/// Everything a request handler may reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub dir: Arc<dyn Directory>,
    pub store: Arc<dyn EphemeralStore>,
    pub keys: Arc<FileKeyStore>,
    pub clock: Arc<dyn Clock>,
    pub pins: Arc<PinHasher>,
    pub pseudonyms: Arc<PseudonymKey>,
    pub metrics: Arc<Metrics>,
    pub csrf: Arc<Csrf>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Connect to the database (and migrate it), open the ephemeral store and the keys.
    pub fn open(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let pool = db::connect(&config.database_url, config.db_pool_size)?;
        db::migrate(&pool)?;
        let dir: Arc<dyn Directory> = Arc::new(DieselDirectory::new(pool));
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
        let csrf = Csrf::new(&pepper);
        let pseudonyms = PseudonymKey::new(&keys.pseudonym_secret()?)
            .map_err(|e| anyhow::anyhow!("keys/pseudonym.key: {e}"))?;
        Ok(Self {
            config: Arc::new(config),
            dir,
            store,
            keys: Arc::new(keys),
            clock,
            pins: Arc::new(pins),
            pseudonyms: Arc::new(pseudonyms),
            metrics: Arc::new(Metrics::new()),
            csrf: Arc::new(csrf),
        })
    }
}
