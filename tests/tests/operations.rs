//! End to end, operations: metrics, request ids, load shedding, timeouts, graceful drain.

use std::time::{Duration, Instant};

use bytes::Bytes;
use e2e_tests::{ACCESS_KEY, Gateway, Mock, SECRET_KEY, client, send};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::json;

fn chat(text: &str) -> serde_json::Value {
    json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "messages": [{"role": "user", "content": text}]})
}

#[tokio::test]
async fn metrics_count_requests_tokens_and_upstream_errors() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--max-attempts", "1"]);
    gateway.chat(chat("one two three")).await;
    let mut stream = chat("four five");
    stream["stream"] = json!(true);
    stream["stream_options"] = json!({"include_usage": true});
    gateway.chat(stream).await;
    mock.fault(
        json!({"error": "ThrottlingException", "status": 429, "message": "slow", "count": 1}),
    )
    .await;
    gateway.chat(chat("x")).await;
    let mut unknown = chat("x");
    unknown["model"] = json!("acme.attacker-controlled-label-v1:0");
    gateway.chat(unknown).await;
    let (status, headers, body) = send(
        Method::GET,
        &format!("{}/metrics", gateway.url()),
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("openmetrics")
    );
    let text = String::from_utf8(body.to_vec()).unwrap();
    for needle in [
        r#"bedrock_gateway_requests_total{route="/v1/chat/completions",model="anthropic.claude-3-haiku-20240307-v1:0",status="200"} 2"#,
        r#"bedrock_gateway_requests_total{route="/v1/chat/completions",model="anthropic.claude-3-haiku-20240307-v1:0",status="429"} 1"#,
        r#"bedrock_gateway_upstream_attempts_total{outcome="ThrottlingException"} 1"#,
        r#"bedrock_gateway_tokens_total{model="anthropic.claude-3-haiku-20240307-v1:0",direction="input"}"#,
        r#"bedrock_gateway_time_to_first_chunk_seconds_count{model="anthropic.claude-3-haiku-20240307-v1:0"} 1"#,
        "bedrock_gateway_request_duration_seconds_bucket",
        "bedrock_gateway_in_flight_streams 0",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    assert!(
        !text.contains("attacker"),
        "client-chosen model ids never become labels"
    );
}

#[tokio::test]
async fn request_ids_are_kept_or_generated() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let url = format!("{}/health", gateway.url());
    let (_, headers, _) = send(
        Method::GET,
        &url,
        &[("x-request-id", "client-id-123")],
        None,
    )
    .await;
    assert_eq!(headers["x-request-id"], "client-id-123");
    let (_, headers, _) = send(Method::GET, &url, &[], None).await;
    assert!(headers["x-request-id"].len() >= 16);
    let (_, headers, _) = gateway.chat(chat("hi")).await;
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_concurrency_limit_requests_are_shed_with_503() {
    let mock = Mock::start();
    let gateway = std::sync::Arc::new(Gateway::start(&mock, &[], &["--max-concurrency", "2"]));
    mock.fault(json!({"delay_ms": 800, "count": 2})).await;
    let slow: Vec<_> = (0..2)
        .map(|_| {
            let gateway = std::sync::Arc::clone(&gateway);
            tokio::spawn(async move { gateway.chat(chat("slow")).await.0 })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let (status, headers, body) = gateway.chat(chat("third")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "shed at once, not queued"
    );
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(body["error"]["code"], "overloaded");
    for task in slow {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    let (status, _, _) = gateway.chat(chat("after")).await;
    assert_eq!(status, StatusCode::OK, "permits come back");
}

#[tokio::test]
async fn upstream_timeouts_are_504() {
    let mock = Mock::start();
    let gateway = Gateway::start(
        &mock,
        &[],
        &["--upstream-timeout-secs", "1", "--max-attempts", "1"],
    );
    mock.fault(json!({"delay_ms": 2500, "count": 1})).await;
    let (status, _, body) = gateway.chat(chat("hi")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(body["error"]["code"], "timeout");
}

#[tokio::test]
async fn a_silent_stream_is_cut_with_an_error_event() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--stream-idle-timeout-secs", "1"]);
    mock.fault(json!({"stream_event_delay_ms": 2500})).await;
    let mut body = chat("a b c");
    body["stream"] = json!(true);
    let url = format!("{}/v1/chat/completions", gateway.url());
    let headers = [
        ("x-aws-access-key-id", ACCESS_KEY),
        ("x-aws-secret-access-key", SECRET_KEY),
    ];
    let (status, _, bytes) = send(Method::POST, &url, &headers, Some(body.to_string())).await;
    // The first event itself may be late: either a 504 before the first byte, or an error event.
    let text = String::from_utf8_lossy(&bytes);
    if status == StatusCode::OK {
        assert!(
            text.contains("\"error\"") && !text.contains("[DONE]"),
            "{text}"
        );
    } else {
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{text}");
    }
    assert!(text.contains("sent nothing"), "{text}");
}

#[tokio::test]
async fn sigterm_drains_an_in_flight_stream_and_fails_readiness() {
    let mock = Mock::start();
    let mut gateway = Gateway::start(&mock, &[], &["--shutdown-grace-secs", "10"]);
    mock.fault(json!({"stream_event_delay_ms": 100})).await;
    let mut body = chat("one two three four five six seven eight");
    body["stream"] = json!(true);
    let request = Request::post(format!("{}/v1/chat/completions", gateway.url()))
        .header("x-aws-access-key-id", ACCESS_KEY)
        .header("x-aws-secret-access-key", SECRET_KEY)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = client().request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, _, _) = send(Method::GET, &format!("{}/ready", gateway.url()), &[], None).await;
    assert_eq!(status, StatusCode::OK);
    gateway.process.terminate();
    // The stream started before SIGTERM finishes completely.
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    assert!(text.contains("eight"), "{text}");
    let status = gateway
        .process
        .wait_exit(Duration::from_secs(10))
        .expect("the gateway exits after draining");
    assert!(status.success(), "{status:?}");
}

/// `curl` against `url`, returning the body and the HTTP version it spoke.
fn curl(args: &[&str], url: &str) -> (String, String) {
    let output = std::process::Command::new("curl")
        .args(["-sS", "-w", "\n%{http_version}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, version) = text.rsplit_once('\n').unwrap();
    (body.to_owned(), version.to_owned())
}

#[tokio::test]
async fn http2_with_tls_and_h2c_without() {
    let mock = Mock::start();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls");
    let (cert, key) = (format!("{dir}/cert.pem"), format!("{dir}/key.pem"));
    let tls = Gateway::start(&mock, &[], &["--tls-cert", &cert, "--tls-key", &key]);
    assert!(tls.url().starts_with("https://"), "{}", tls.url());
    let port = tls.url().rsplit(':').next().unwrap().to_owned();
    let url = format!("https://localhost:{port}/health");
    assert_eq!(
        curl(&["--cacert", &cert, "--http2"], &url),
        (r#"{"status":"ok"}"#.to_owned(), "2".to_owned())
    );
    assert_eq!(curl(&["--cacert", &cert, "--http1.1"], &url).1, "1.1");

    let plain = Gateway::start(&mock, &[], &[]);
    let url = format!("{}/health", plain.url());
    assert_eq!(curl(&["--http2-prior-knowledge"], &url).1, "2");
    assert_eq!(curl(&[], &url).1, "1.1");
}

#[tokio::test]
async fn json_logs_carry_one_span_per_request_with_its_fields() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[("RUST_LOG", "info")], &["--log-format", "json"]);
    let (status, headers, _) = gateway.chat(chat("count these words")).await;
    assert_eq!(status, StatusCode::OK);
    let request_id = headers["x-request-id"].to_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = gateway.log();
    let line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| {
            l["span"]["request_id"] == request_id.as_str()
                && l["fields"]["message"] == "finished processing request"
        })
        .unwrap_or_else(|| panic!("no JSON response line for {request_id} in\n{log}"));
    let span = &line["span"];
    assert_eq!(
        span["model"], "anthropic.claude-3-haiku-20240307-v1:0",
        "{line}"
    );
    assert_eq!(span["status"], 200);
    assert_eq!(span["path"], "/v1/chat/completions");
    assert_eq!(span["prompt_tokens"], 3, "{line}");
    assert!(span["completion_tokens"].as_u64().unwrap() > 0);
    assert!(line["fields"]["latency"].is_string(), "{line}");
}

#[tokio::test]
async fn a_client_that_stalls_its_upload_gets_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--client-timeout-secs", "1"]);
    let addr = gateway.url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\nx-aws-access-key-id: {ACCESS_KEY}\r\nx-aws-secret-access-key: {SECRET_KEY}\r\ncontent-length: 500\r\n\r\n{{\"messages\": ["
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(mock.requests().await.is_empty());
}
