//! End to end, #13 item 8: an error answered before the request body was read (404 and 405 from
//! the router, 401 for a missing gateway key, 413 by `Content-Length`) must not leave a
//! keep-alive client writing into a connection the gateway is about to close: either the
//! connection goes on (the next request on it is answered), or the answer says
//! `Connection: close`.

use std::time::Duration;

use e2e_tests::{ACCESS_KEY, Gateway, Mock, SECRET_KEY, authority};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The gateway key of the tests that need one.
const GATEWAY_KEY: &str = "early-errors-key-0123456789";
/// The body each request declares (and sends only after the answer).
const BODY_LEN: usize = 1000;

/// One HTTP/1.1 answer: its head (lowercase) and its body.
#[derive(Debug)]
struct Answer {
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn status(&self) -> u16 {
        self.head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn says_close(&self) -> bool {
        self.head.lines().any(|l| l.trim() == "connection: close")
    }
}

/// Reads one answer with a `Content-Length` body; `None` if the connection ends first.
async fn read_answer(stream: &mut TcpStream, buffered: &mut Vec<u8>) -> Option<Answer> {
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buffered.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    };
    let head = String::from_utf8_lossy(&buffered[..end]).to_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buffered.len() < end + len {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buffered.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
    let body = buffered[end..end + len].to_vec();
    buffered.drain(..end + len);
    Some(Answer { head, body })
}

/// What a keep-alive client sees: the answer to `head` (sent without its body), then, after
/// sending the declared body and `GET /health` on the same connection, the second answer.
async fn early_answer_then_reuse(addr: &str, head: &str) -> (Answer, Option<Answer>) {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream.write_all(head.as_bytes()).await.expect("writes");
    let mut buffered = Vec::new();
    let first = read_answer(&mut stream, &mut buffered)
        .await
        .expect("an answer before the body");
    // A moment later, as a pooled client's next request comes: hyper has made up its mind
    // about the connection by then (without it, whether hyper drained the body in time is a
    // race).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut rest = vec![b' '; BODY_LEN];
    rest.extend_from_slice(b"GET /health HTTP/1.1\r\nhost: gateway\r\n\r\n");
    // A closed connection may refuse the write (EPIPE / reset): that is the failure looked for.
    let second = match stream.write_all(&rest).await {
        Ok(()) => read_answer(&mut stream, &mut buffered).await,
        Err(_) => None,
    };
    (first, second)
}

/// The head of a request with a [`BODY_LEN`]-byte body declared.
fn head(request_line: &str, extra: &str) -> String {
    format!(
        "{request_line}\r\nhost: gateway\r\ncontent-type: application/json\r\nx-aws-access-key-id: {ACCESS_KEY}\r\nx-aws-secret-access-key: {SECRET_KEY}\r\n{extra}content-length: {BODY_LEN}\r\n\r\n"
    )
}

/// Asserts that a keep-alive client is told the truth about the connection, and returns the
/// first answer.
async fn assert_reusable_or_closed(addr: &str, head: &str, status: u16) -> Answer {
    let (first, second) = early_answer_then_reuse(addr, head).await;
    assert_eq!(first.status(), status, "{first:?}");
    let reused = second.as_ref().is_some_and(|s| s.status() == 200);
    assert!(
        first.says_close() || reused,
        "the {status} answer kept quiet about closing the connection, and the next request on it failed: {first:?} then {second:?}"
    );
    if first.says_close() {
        assert!(second.is_none(), "closed as announced: {second:?}");
    }
    first
}

fn start(env: &[(&str, &str)]) -> (Mock, Gateway) {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, env, &["--max-body-bytes", "500"]);
    (mock, gateway)
}

#[tokio::test]
async fn a_404_before_the_body_says_connection_close_or_keeps_the_connection() {
    let (mock, gateway) = start(&[]);
    let not_found = head("POST /v1/nothing-here HTTP/1.1", "");
    assert_reusable_or_closed(authority(gateway.url()), &not_found, 404).await;
    assert!(mock.requests().await.is_empty());
}

#[tokio::test]
async fn a_405_before_the_body_says_connection_close_or_keeps_the_connection() {
    let (mock, gateway) = start(&[]);
    let wrong_method = head("PUT /v1/chat/completions HTTP/1.1", "");
    assert_reusable_or_closed(authority(gateway.url()), &wrong_method, 405).await;
    assert!(mock.requests().await.is_empty());
}

#[tokio::test]
async fn a_413_by_content_length_says_connection_close_or_keeps_the_connection() {
    let (mock, gateway) = start(&[]);
    // Declared larger than --max-body-bytes: refused from the header.
    let too_large = head("POST /v1/chat/completions HTTP/1.1", "");
    let answer = assert_reusable_or_closed(authority(gateway.url()), &too_large, 413).await;
    let error: serde_json::Value = serde_json::from_slice(&answer.body).expect("an error object");
    assert_eq!(error["error"]["type"], "invalid_request_error", "{error}");
    assert!(mock.requests().await.is_empty());
}

#[tokio::test]
async fn a_401_for_a_missing_gateway_key_says_connection_close_or_keeps_the_connection() {
    let (mock, gateway) = start(&[("BEDROCK_GATEWAY_API_KEYS", GATEWAY_KEY)]);
    let no_key = head("POST /v1/chat/completions HTTP/1.1", "");
    assert_reusable_or_closed(authority(gateway.url()), &no_key, 401).await;
    assert!(mock.requests().await.is_empty());
}

#[tokio::test]
async fn an_error_after_the_body_was_read_keeps_the_connection() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let addr = authority(gateway.url()).to_owned();
    // A bad region is found after the body was read: nothing is left on the connection.
    let body = r#"{"messages":[{"role":"user","content":"hi"}]}"#;
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\nx-aws-access-key-id: {ACCESS_KEY}\r\nx-aws-secret-access-key: {SECRET_KEY}\r\nx-aws-region: nowhere\r\ncontent-length: {}\r\n\r\n{body}GET /health HTTP/1.1\r\nhost: gateway\r\n\r\n",
        body.len()
    );
    let mut stream = TcpStream::connect(&addr).await.expect("connects");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut buffered = Vec::new();
    let first = read_answer(&mut stream, &mut buffered)
        .await
        .expect("an answer");
    assert_eq!(first.status(), 400, "{first:?}");
    assert!(!first.says_close(), "{first:?}");
    let second = read_answer(&mut stream, &mut buffered)
        .await
        .expect("the connection goes on");
    assert_eq!(second.status(), 200, "{second:?}");
}
