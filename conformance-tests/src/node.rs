//! What the tests take from npm (`conformance-tests/node/`): panva's `openid-client` for a
//! second relying party, and axe-core for the accessibility checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// `conformance-tests/node`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// `npm ci` in `conformance-tests/node`, once per test run; the folder.
pub fn install() -> PathBuf {
    install_in(dir())
}

/// `npm ci` in `dir` (a folder with a `package-lock.json`), once per test run per folder, and
/// not at all when `node_modules` is as new as the lock file. Fails with npm's message when
/// Node.js or npm is missing.
pub fn install_in(dir: PathBuf) -> PathBuf {
    static DONE: OnceLock<Mutex<HashMap<PathBuf, Result<(), String>>>> = OnceLock::new();
    let done = DONE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
    let result = done.entry(dir.clone()).or_insert_with(|| {
        let installed = dir.join("node_modules/.package-lock.json");
        let fresh = match (
            std::fs::metadata(&installed).and_then(|m| m.modified()),
            std::fs::metadata(dir.join("package-lock.json")).and_then(|m| m.modified()),
        ) {
            (Ok(i), Ok(l)) => i >= l,
            _ => false,
        };
        if fresh {
            return Ok(());
        }
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running npm (Node.js 20 and npm are needed): {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "npm ci in {} failed ({}):\n{}",
                dir.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    dir
}
