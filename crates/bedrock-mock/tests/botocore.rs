//! botocore (AWS's own SDK core) against the mock: runs `tests/botocore_check.py` with a Python
//! that has botocore, and fails when there is none (`cargo xtask ci` provides one in its venv).

use std::path::{Path, PathBuf};
use std::process::Command;

use bedrock_mock::{MockConfig, MockServer};

/// The Python to run botocore with: `BEDROCK_TEST_PYTHON` (`cargo xtask ci` sets it to its
/// venv's), else the xtask's venv under the target directory when it exists, else `python3`.
fn python() -> PathBuf {
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
fn require_botocore(python: &Path) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_accepts_the_mock_and_the_mock_accepts_botocore() {
    let python = python();
    require_botocore(&python);
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/botocore_check.py");
    let url = mock.url();
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(&url)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_BEARER_TOKEN_BEDROCK")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "botocore check failed\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("botocore: all checks passed"), "{stdout}");
    mock.shutdown().await;
}
