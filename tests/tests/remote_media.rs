//! End to end: `--fetch-remote-media` downloads image and document URLs itself, only from
//! addresses outside the refused ranges (the tests let 127.0.0.1 through with
//! `--fetch-remote-media-allow-cidr`); by default remote URLs stay a 400.
//!
//! Every URL that is not the loopback media server below is refused before any connection:
//! the tests assert it through the error message, and never send traffic off this machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use e2e_tests::{Gateway, Mock};
use http::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// A 1x1 PNG (68 bytes).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// What the media server answers for a path: status, extra headers, body.
fn answer(path: &str) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
    match path {
        "/pixel.png" => (
            200,
            vec![("content-type", "image/png".into())],
            PNG.to_vec(),
        ),
        "/report.pdf" => (
            200,
            vec![("content-type", "application/pdf".into())],
            b"%PDF-1.4 a tiny mock document".to_vec(),
        ),
        // 3,750,001 bytes: one over Bedrock's image limit.
        "/huge.png" => {
            let mut body = PNG.to_vec();
            body.resize(3_750_001, 0);
            (200, vec![("content-type", "image/png".into())], body)
        }
        // The same, with no Content-Length: the limit applies while reading.
        "/huge-streamed.png" => {
            let mut body = PNG.to_vec();
            body.resize(3_750_001, 0);
            (200, vec![("content-type", "image/png".into())], body)
        }
        "/html.png" => (
            200,
            vec![("content-type", "image/png".into())],
            b"<html>not an image</html>".to_vec(),
        ),
        "/to-metadata" => (
            302,
            vec![(
                "location",
                "http://169.254.169.254/latest/meta-data/".into(),
            )],
            Vec::new(),
        ),
        "/missing.png" => (404, Vec::new(), b"not found".to_vec()),
        _ => (404, Vec::new(), Vec::new()),
    }
}

/// An HTTP/1.1 server on 127.0.0.1 serving [`answer`], counting the requests it gets.
struct MediaServer {
    url: String,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl MediaServer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                    if path == "/slow.png" {
                        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    }
                    let (status, headers, body) = answer(&path);
                    let mut response = format!("HTTP/1.1 {status} X\r\nconnection: close\r\n");
                    if !path.contains("streamed") {
                        response.push_str(&format!("content-length: {}\r\n", body.len()));
                    }
                    for (name, value) in headers {
                        response.push_str(&format!("{name}: {value}\r\n"));
                    }
                    response.push_str("\r\n");
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.write_all(&body).await;
                });
            }
        });
        Self { url, hits, task }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for MediaServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const FETCHING: &[&str] = &[
    "--fetch-remote-media",
    "--fetch-remote-media-allow-http",
    "--fetch-remote-media-allow-cidr",
    "127.0.0.1/32",
];

fn image(url: &str) -> Value {
    json!({"model": HAIKU, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": url}},
    ]}]})
}

/// Sends `body`, expects a 400 on `param` whose message holds `needle`.
async fn refused(gateway: &Gateway, body: Value, param: &str, needle: &str) {
    let (status, _, answer) = gateway.chat(body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["param"], param, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains(needle), "{message}");
}

#[tokio::test]
async fn a_remote_image_and_document_reach_bedrock_inline() {
    let media = MediaServer::start().await;
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], FETCHING);
    let body = json!({"model": HAIKU, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": format!("{}/pixel.png", media.url)}},
        {"type": "file", "file": {"file_data": format!("{}/report.pdf", media.url), "filename": "report.pdf"}},
    ]}]});
    let (status, _, answer) = gateway.chat(body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "You said: What is this? [image/png 68 bytes] [document pdf 'report' 29 bytes]"
    );
    let requests = mock.requests().await;
    let sent: Value = serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD.encode(PNG);
    assert_eq!(
        sent["messages"][0]["content"][1]["image"],
        json!({"format": "png", "source": {"bytes": png}})
    );
    assert_eq!(
        sent["messages"][0]["content"][2]["document"]["format"],
        "pdf"
    );
    assert_eq!(media.hits(), 2);
}

#[tokio::test]
async fn remote_urls_stay_a_400_by_default() {
    let media = MediaServer::start().await;
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    refused(
        &gateway,
        image(&format!("{}/pixel.png", media.url)),
        "messages[0].content[1].image_url.url",
        "remote image URLs are not fetched",
    )
    .await;
    assert_eq!(media.hits(), 0, "the default gateway fetches nothing");
    assert!(mock.requests().await.is_empty());
}

#[tokio::test]
async fn without_the_allow_list_loopback_is_refused_before_connecting() {
    let media = MediaServer::start().await;
    let mock = Mock::start();
    let gateway = Gateway::start(
        &mock,
        &[],
        &["--fetch-remote-media", "--fetch-remote-media-allow-http"],
    );
    refused(
        &gateway,
        image(&format!("{}/pixel.png", media.url)),
        "messages[0].content[1].image_url.url",
        "refused address",
    )
    .await;
    // A name is resolved first, and refused by the address it resolves to.
    let port = media.url.rsplit(':').next().unwrap();
    refused(
        &gateway,
        image(&format!("http://localhost:{port}/pixel.png")),
        "messages[0].content[1].image_url.url",
        "refused address: localhost is ",
    )
    .await;
    assert_eq!(media.hits(), 0);
    // Plain http is refused without its own flag, before resolving.
    let https_only = Gateway::start(&mock, &[], &["--fetch-remote-media"]);
    refused(
        &https_only,
        image(&format!("{}/pixel.png", media.url)),
        "messages[0].content[1].image_url.url",
        "plain http URLs are not fetched",
    )
    .await;
    assert_eq!(media.hits(), 0);
    assert!(mock.requests().await.is_empty());
}

#[tokio::test]
async fn every_refused_range_is_refused_before_any_connection() {
    let mock = Mock::start();
    // Even with loopback allowed: the allow-list lets through only what it names.
    let gateway = Gateway::start(&mock, &[], FETCHING);
    for (url, range) in [
        ("http://0.0.0.0/a.png", "this network"),
        ("http://10.0.0.1/a.png", "private (10.0.0.0/8)"),
        ("http://100.64.0.1/a.png", "carrier-grade NAT"),
        ("http://127.0.0.2/a.png", "loopback (127.0.0.0/8)"),
        ("http://169.254.169.254/latest/", "cloud metadata"),
        ("http://169.254.1.1/a.png", "link-local (169.254.0.0/16)"),
        ("http://172.16.0.1/a.png", "private (172.16.0.0/12)"),
        ("http://192.0.0.1/a.png", "IETF"),
        ("http://192.168.0.1/a.png", "private (192.168.0.0/16)"),
        ("http://198.18.0.1/a.png", "benchmarking"),
        ("http://224.0.0.1/a.png", "multicast"),
        ("http://240.0.0.1/a.png", "reserved"),
        ("http://255.255.255.255/a.png", "broadcast"),
        ("http://[::1]/a.png", "loopback (::1)"),
        ("http://[::]/a.png", "unspecified"),
        ("http://[::ffff:169.254.169.254]/a.png", "cloud metadata"),
        ("http://[64:ff9b::a9fe:a9fe]/a.png", "NAT64"),
        (
            "http://[fd00:ec2::254]/a.png",
            "cloud metadata (fd00:ec2::254)",
        ),
        ("http://[fc00::1]/a.png", "unique-local"),
        ("http://[fe80::1]/a.png", "link-local (fe80::/10)"),
        ("http://[ff02::1]/a.png", "multicast (ff00::/8)"),
    ] {
        refused(
            &gateway,
            image(url),
            "messages[0].content[1].image_url.url",
            range,
        )
        .await;
        let (_, _, answer) = gateway.chat(image(url)).await;
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("nothing was sent"), "{url}: {message}");
    }
    assert!(mock.requests().await.is_empty());
}

#[tokio::test]
async fn too_large_wrong_type_redirected_and_missing_media_are_400s() {
    let media = MediaServer::start().await;
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], FETCHING);
    let param = "messages[0].content[1].image_url.url";
    for (path, needle) in [
        (
            "/huge.png",
            "larger than Bedrock's limit of 3750000 bytes per image",
        ),
        (
            "/huge-streamed.png",
            "larger than Bedrock's limit of 3750000 bytes per image",
        ),
        ("/html.png", "not a png, jpeg, gif or webp image"),
        (
            "/to-metadata",
            "redirecting to http://169.254.169.254/latest/meta-data/: redirects are not followed",
        ),
        ("/missing.png", "the server answered 404"),
    ] {
        refused(
            &gateway,
            image(&format!("{}{path}", media.url)),
            param,
            needle,
        )
        .await;
    }
    // A document that says PDF must be one.
    let body = json!({"model": HAIKU, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Read"},
        {"type": "file", "file": {"file_data": format!("{}/pixel.png", media.url), "filename": "a.pdf"}},
    ]}]});
    refused(
        &gateway,
        body,
        "messages[0].content[1].file.file_data",
        "send it as an image_url part",
    )
    .await;
    assert!(mock.requests().await.is_empty());
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_a_400_after_the_fetch_timeout() {
    let media = MediaServer::start().await;
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], FETCHING);
    let started = std::time::Instant::now();
    refused(
        &gateway,
        image(&format!("{}/slow.png", media.url)),
        "messages[0].content[1].image_url.url",
        "took longer than 10 s",
    )
    .await;
    let took = started.elapsed();
    assert!(took.as_secs_f64() >= 9.5 && took.as_secs() < 20, "{took:?}");
    assert!(mock.requests().await.is_empty());
}
