//! What the tests take from npm (`conformance-tests/node/`): panva's `openid-client` for a
//! second relying party, and axe-core for the accessibility checks.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// `conformance-tests/node`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// `npm ci` there, once per test run (and not at all when `node_modules` is as new as the
/// lock file); the folder. Fails with npm's message when Node.js or npm is missing.
pub fn install() -> PathBuf {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    let dir = dir();
    let result = DONE.get_or_init(|| {
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
                "npm ci failed ({}):\n{}",
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
