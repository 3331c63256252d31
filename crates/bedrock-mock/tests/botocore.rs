//! botocore (AWS's own SDK core) against the mock: runs `tests/botocore_check.py` when
//! `python3` with botocore is available, and passes with a note otherwise (the xtask runs the
//! script in a virtual environment that always has botocore).

use std::path::Path;
use std::process::Command;

use bedrock_mock::{MockConfig, MockServer};

fn botocore_available() -> bool {
    Command::new("python3")
        .args(["-c", "import botocore"])
        .output()
        .is_ok_and(|output| output.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_accepts_the_mock_and_the_mock_accepts_botocore() {
    if !botocore_available() {
        eprintln!("note: python3 with botocore is not available; skipping the botocore check");
        return;
    }
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/botocore_check.py");
    let url = mock.url();
    let output = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(&url)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_BEARER_TOKEN_BEDROCK")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "botocore check failed\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("botocore: all checks passed"), "{stdout}");
    mock.shutdown().await;
}
