//! End to end, #13 item 4: connections that send nothing useful are closed after the client
//! timeout whatever their protocol (an HTTP/2 one that sent only its preface and SETTINGS
//! stayed open for ever, like one that never sent a byte), and the number of connections is
//! capped (by default from the open-file limit) so that they cannot exhaust the gateway's file
//! descriptors: /health still answers.

use std::time::{Duration, Instant};

use e2e_tests::{Gateway, Mock, authority, open_fds};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The HTTP/2 connection preface and an empty SETTINGS frame: all a silent h2c client sends.
const H2_HELLO: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// A connection that sends the HTTP/2 preface and SETTINGS, then nothing.
async fn silent_h2(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream.write_all(H2_HELLO).await.expect("writes");
    stream
}

/// Reads until the gateway closes the connection; how long that took, or `None` after `limit`.
async fn closed_within(mut stream: TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut sink = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

/// `GET /health` on a new connection, by hand; the status line.
async fn health(addr: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: gateway\r\nconnection: close\r\n\r\n")
        .await
        .expect("writes");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_closed_after_the_client_timeout() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--client-timeout-secs", "2"]);
    let addr = authority(gateway.url()).to_owned();
    let pid = gateway.process.id();
    let fds_before = open_fds(pid);
    let mut silent = Vec::new();
    for _ in 0..30 {
        silent.push(silent_h2(&addr).await);
    }
    for _ in 0..10 {
        silent.push(TcpStream::connect(&addr).await.expect("connects"));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let open = open_fds(pid);
    assert!(open >= fds_before + 40, "{open} fds, {fds_before} before");
    eprintln!("{open} fds open, {fds_before} before");
    let waits: Vec<_> = silent
        .into_iter()
        .map(|stream| tokio::spawn(closed_within(stream, Duration::from_secs(15))))
        .collect();
    for (i, wait) in waits.into_iter().enumerate() {
        let closed = wait.await.unwrap();
        let closed =
            closed.unwrap_or_else(|| panic!("silent connection {i} still open after 15 s"));
        // Opened about 0.5 s before the wait began; the client timeout is 2 s.
        assert!(
            closed >= Duration::from_millis(1000),
            "connection {i} closed before the client timeout: {closed:?}"
        );
        eprintln!("connection {i} closed after {closed:?}");
        assert!(
            closed < Duration::from_secs(8),
            "connection {i}: {closed:?}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_fds(pid) > fds_before + 1 {
        assert!(Instant::now() < deadline, "fds: {}", open_fds(pid));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(health(&addr).await, "HTTP/1.1 200 OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_their_turn() {
    let mock = Mock::start();
    let gateway = Gateway::start(
        &mock,
        &[],
        &["--client-timeout-secs", "1", "--max-connections", "5"],
    );
    let addr = authority(gateway.url()).to_owned();
    let pid = gateway.process.id();
    let fds_before = open_fds(pid);
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(silent_h2(&addr).await);
    }
    // The kernel completes the handshakes; the gateway takes five at a time.
    let mut most = 0;
    for _ in 0..10 {
        most = most.max(open_fds(pid));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        most <= fds_before + 5,
        "{most} fds open with a cap of 5 connections, {fds_before} before"
    );
    let started = Instant::now();
    assert_eq!(health(&addr).await, "HTTP/1.1 200 OK");
    // Four rounds of five silent connections, each closed after about 1 s (+1 s for the h2
    // goodbye that a silent client never acknowledges) are ahead of it.
    let waited = started.elapsed();
    eprintln!("most fds {most} ({fds_before} before); /health after {waited:?}");
    assert!(waited < Duration::from_secs(15), "{waited:?}");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_cap_follows_the_open_file_limit_and_health_answers() {
    let mock = Mock::start();
    // 96 files: the default cap is (96 - 32) / 2 = 32 connections. Before the cap, 90 silent
    // connections took every descriptor: accept failed (EMFILE) and /health never answered.
    let gateway = Gateway::start_with_open_files(&mock, &[], &["--client-timeout-secs", "1"], 96);
    let addr = authority(gateway.url()).to_owned();
    let pid = gateway.process.id();
    let mut silent = Vec::new();
    for _ in 0..90 {
        silent.push(silent_h2(&addr).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let open = open_fds(pid);
    assert!(open <= 96 - 16, "{open} fds open under a limit of 96");
    let started = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(20), health(&addr))
        .await
        .expect("/health answers while silent connections wait");
    assert_eq!(status, "HTTP/1.1 200 OK");
    eprintln!("{open} fds open; /health after {:?}", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let log = gateway.log();
    assert!(!log.contains("accept failed"), "{log}");
    drop(silent);
}
