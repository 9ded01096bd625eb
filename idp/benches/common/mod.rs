//! What the benches share: a server state on a fresh SQLite file with the demo seeded.

use std::sync::Arc;

use broker::clock::{Clock, SystemClock};
use idp::app::AppState;
use idp::config::Config;

/// A state with the demo (its output), on files in a directory that lives as long as it does.
pub fn demo_state() -> (AppState, serde_json::Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let env: Vec<(String, String)> = vec![
        (
            "LEERPOORT_DATABASE_URL".into(),
            format!("sqlite://{}", dir.path().join("b.db").display()),
        ),
        (
            "LEERPOORT_KEYS_DIR".into(),
            dir.path().join("keys").display().to_string(),
        ),
    ];
    let config = Config::load_with_env(None, |k| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
    .unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = AppState::open(config, clock).unwrap();
    let demo = idp::demo::seed(&state).unwrap();
    (state, demo, dir)
}
