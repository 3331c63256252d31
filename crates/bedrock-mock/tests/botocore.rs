//! botocore (AWS's own SDK core) against the mock: runs `tests/botocore_check.py` with a Python
//! that has botocore, and fails when there is none (`cargo xtask ci` provides one in its venv).

use std::path::Path;

use bedrock_mock::{MockConfig, MockServer};

#[path = "support/python.rs"]
mod python;
use python::{python, require_botocore};

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
