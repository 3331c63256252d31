//! End to end, #13 item 2: a client that uploads its request body slowly holds no concurrency
//! permit. The body is read in full (under the client timeout between its pieces) before the
//! permit is taken, so trickling uploads cannot make normal requests 503.
//!
//! Fails against the gateway of 8219fa4 (before the pipeline was reshaped), which took the
//! permit first: `E2E_GATEWAY_BIN=path/to/that/bedrock-gateway cargo test -p e2e-tests --test
//! slow_uploads`.

use std::time::{Duration, Instant};

use e2e_tests::{ACCESS_KEY, Gateway, Mock, SECRET_KEY, authority, open_fds};
use http::StatusCode;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Connections that trickle, more than there are permits.
const TRICKLES: usize = 8;
/// The body length each trickling upload declares.
const DECLARED: usize = 100_000;

/// Opens a connection and sends the head of a chat request declaring a [`DECLARED`]-byte body.
async fn start_upload(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\nx-aws-access-key-id: {ACCESS_KEY}\r\nx-aws-secret-access-key: {SECRET_KEY}\r\ncontent-length: {DECLARED}\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_uploads_hold_no_permit() {
    let mock = Mock::start();
    let gateway = Gateway::start(
        &mock,
        &[],
        &["--max-concurrency", "2", "--client-timeout-secs", "5"],
    );
    let addr = authority(gateway.url()).to_owned();
    let mut uploads = Vec::new();
    for _ in 0..TRICKLES {
        uploads.push(start_upload(&addr).await);
    }
    // One byte per connection every 300 ms: well within the client timeout, so none of them
    // is cut, and none of them is anywhere near done.
    let trickle = tokio::spawn(async move {
        for _ in 0..30 {
            for upload in &mut uploads {
                let _ = upload.write_all(b" ").await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        uploads
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fds = open_fds(gateway.process.id());
    for i in 0..3 {
        let started = Instant::now();
        let (status, _, body) = gateway
            .chat(json!({"messages": [{"role": "user", "content": format!("normal {i}")}]}))
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "a normal request during {TRICKLES} trickling uploads: {body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "answered at once, not after the uploads: {:?}",
            started.elapsed()
        );
    }
    assert!(
        fds >= TRICKLES,
        "the trickling connections are open: {fds} fds"
    );
    let requests = mock.requests().await;
    assert_eq!(
        requests.len(),
        3,
        "no unfinished upload reached Bedrock: {requests:?}"
    );
    trickle.abort();
}
