//! The Python that runs botocore in tests, shared by this crate's `tests/botocore.rs` and
//! `sigv4-layer`'s `tests/botocore_fixtures.rs` (included by `#[path]`), so that both find it
//! and refuse to skip the same way.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python to run botocore with: `BEDROCK_TEST_PYTHON` (`cargo xtask ci` sets it to its
/// venv's), else the xtask's venv under the target directory when it exists, else `python3`.
pub(crate) fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("BEDROCK_TEST_PYTHON") {
        return python.into();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let venv = target.join("xtask-venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Fails (never skips) when `python` cannot import botocore: a check that does not run must
/// not count as a pass.
pub(crate) fn require_botocore(python: &Path) {
    let has_botocore = Command::new(python)
        .args(["-c", "import botocore"])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        has_botocore,
        "`{} -c 'import botocore'` failed: this test needs botocore. `cargo xtask ci` installs it \
         in target/xtask-venv (found there automatically); BEDROCK_TEST_PYTHON names another \
         Python; or `pip install botocore`",
        python.display()
    );
}
