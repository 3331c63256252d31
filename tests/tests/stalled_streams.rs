//! End to end, #13 item 3: a client that stops reading a stream loses it after the stream idle
//! timeout. hyper polls a response body only when the client has room for more, so nothing
//! that runs inside that poll (like the upstream idle timer) can see a client that stopped
//! reading: the stream, its upstream and its concurrency permit were held for ever.

use std::time::{Duration, Instant};

use bytes::Bytes;
use e2e_tests::{ACCESS_KEY, Gateway, Mock, SECRET_KEY, authority, open_fds, rss_kib};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The stream idle timeout of these tests, in seconds (the mock takes about 1.3 s to make the
/// first event of a 300 000-event stream, which counts against it too).
const IDLE_SECS: u64 = 3;

/// The tests of this file, one at a time: two mocks making their 300 000 events at once on a
/// small machine could take longer than the stream idle timeout.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A chat request for a stream far larger than every buffer between the mock and the client.
fn endless_stream() -> Value {
    json!({
        "stream": true,
        "messages": [{"role": "user", "content": "[mock:stream_events=300000] go"}]
    })
}

fn short_chat() -> Value {
    json!({"messages": [{"role": "user", "content": "short"}]})
}

fn gateway(mock: &Mock) -> Gateway {
    let idle = IDLE_SECS.to_string();
    Gateway::start(
        mock,
        &[],
        &[
            "--stream-idle-timeout-secs",
            &idle,
            "--max-concurrency",
            "1",
        ],
    )
}

/// Waits until the mock has seen `n` streams cancelled; returns when, or panics after `limit`.
async fn until_cancelled(mock: &Mock, n: u64, limit: Duration) -> Instant {
    let deadline = Instant::now() + limit;
    loop {
        let stats = mock.stats().await;
        if stats["streams_cancelled"].as_u64() == Some(n) {
            assert_eq!(stats["streams_completed"], 0, "{stats}");
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "the stalled stream was never cancelled upstream: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http1_client_that_stops_reading_loses_its_stream_and_connection() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mock = Mock::start();
    let gateway = gateway(&mock);
    let pid = gateway.process.id();
    let fds_before = open_fds(pid);
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = authority(gateway.url()).parse().unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let body = endless_stream().to_string();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\nx-aws-access-key-id: {ACCESS_KEY}\r\nx-aws-secret-access-key: {SECRET_KEY}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut first = Vec::new();
    let mut chunk = [0u8; 2048];
    while !String::from_utf8_lossy(&first).contains("data: ") {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the stream ended early");
        first.extend_from_slice(&chunk[..n]);
    }
    assert!(String::from_utf8_lossy(&first).starts_with("HTTP/1.1 200"));
    // The client stops reading. Meanwhile the stream holds the only permit.
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, _, _) = gateway.chat(short_chat()).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the stream holds the permit"
    );
    let cancelled = until_cancelled(&mock, 1, Duration::from_secs(30)).await;
    let after = cancelled - stopped;
    eprintln!("cancelled upstream {after:?} after the client stopped reading");
    assert!(
        after >= Duration::from_millis(IDLE_SECS * 1000 - 500),
        "cut before the idle timeout: {after:?}"
    );
    // Past the idle timeout, the buffers on the way (hyper's, the sockets') take a while to
    // fill before the gateway waits on the client: about 2 s here on a debug build.
    assert!(after < Duration::from_secs(IDLE_SECS + 15), "{after:?}");
    let rss = rss_kib(pid);
    assert!(rss < 100 * 1024, "{rss} KiB resident");
    // The permit is back.
    let (status, _, body) = gateway.chat(short_chat()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The connection was closed: what was in flight arrives, then the end.
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
    assert!(
        ended.is_ok(),
        "the gateway kept the stalled connection open"
    );
    drop(stream);
    // What may stay open: the test client's pooled connection of the short chats, and the
    // gateway's pooled connection to the mock.
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_fds(pid) > fds_before + 2 {
        assert!(
            Instant::now() < deadline,
            "fds: {} before {fds_before}",
            open_fds(pid)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_stream_the_client_stops_reading_is_cut_and_the_connection_serves_on() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mock = Mock::start();
    let gateway = gateway(&mock);
    let tcp = tokio::net::TcpStream::connect(authority(gateway.url()))
        .await
        .unwrap();
    // Small windows that are only given back as the body is read: a body left unread stalls
    // its stream at the gateway after 64 KiB.
    let (mut sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(65_535)
        .adaptive_window(false)
        .handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = |body: &Value| {
        Request::post(format!("{}/v1/chat/completions", gateway.url()))
            .header("content-type", "application/json")
            .header("x-aws-access-key-id", ACCESS_KEY)
            .header("x-aws-secret-access-key", SECRET_KEY)
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    };
    let response = sender
        .send_request(request(&endless_stream()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut stalled = response.into_body();
    stalled.frame().await.unwrap().unwrap();
    let stopped = Instant::now();
    let cancelled = until_cancelled(&mock, 1, Duration::from_secs(30)).await;
    let after = cancelled - stopped;
    eprintln!("cancelled upstream {after:?} after the client stopped reading");
    assert!(
        after >= Duration::from_millis(IDLE_SECS * 1000 - 500),
        "cut before the idle timeout: {after:?}"
    );
    // The same connection serves the next request: the permit came back with the stream.
    sender.ready().await.unwrap();
    let response = sender.send_request(request(&short_chat())).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body().collect().await.unwrap();
    // Reading the stalled stream now gives what was in flight, then its reset.
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(frame) = stalled.frame().await {
            if frame.is_err() {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(drained, Ok(true), "the stalled stream ends with a reset");
}
