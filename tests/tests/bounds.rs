//! End to end, the bounds of issue #13: the embeddings fan-out, the size and integrity of
//! Bedrock's answers, the set of metric labels, and streams that fail counted as failures.

use e2e_tests::{Gateway, Mock, credential_headers, rss_kib, send, sse_data};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn chat(text: &str) -> Value {
    json!({"model": HAIKU, "messages": [{"role": "user", "content": text}]})
}

async fn embed(gateway: &Gateway, body: &Value) -> (StatusCode, Value) {
    let url = format!("{}/v1/embeddings", gateway.url());
    let (status, _, bytes) = send(
        Method::POST,
        &url,
        &credential_headers(),
        Some(body.to_string()),
    )
    .await;
    (status, serde_json::from_slice(&bytes).expect("JSON answer"))
}

async fn metrics(gateway: &Gateway) -> String {
    let url = format!("{}/metrics", gateway.url());
    let (status, _, body) = send(Method::GET, &url, &[], None).await;
    assert_eq!(status, StatusCode::OK);
    String::from_utf8(body.to_vec()).expect("metrics are text")
}

/// Model requests the mock has received.
async fn upstream_requests(mock: &Mock) -> u64 {
    mock.stats().await["requests"].as_u64().expect("a count")
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("text {i}")).collect()
}

#[tokio::test]
async fn embeddings_over_the_input_limit_cost_no_call_and_no_memory() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, _) = embed(&gateway, &json!({"input": texts(8)})).await;
    assert_eq!(status, StatusCode::OK, "warm-up");
    let calls_before = upstream_requests(&mock).await;
    let rss_before = rss_kib(gateway.process.id());
    // 10,000 short inputs: ~120 KB of body; without the limit, 10,000 InvokeModel calls and a
    // ~130 MB answer.
    let (status, error) = embed(&gateway, &json!({"input": texts(10_000)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["error"]["param"], "input");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("10000") && message.contains("2048"),
        "{message}"
    );
    assert_eq!(upstream_requests(&mock).await, calls_before, "no call made");
    let grown = rss_kib(gateway.process.id()).saturating_sub(rss_before);
    assert!(grown < 30 * 1024, "the gateway grew by {grown} KiB");
    // 2,048 inputs are accepted.
    let (status, body) = embed(&gateway, &json!({"input": texts(2048), "dimensions": 256})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"].as_array().unwrap().len(), 2048);
}

#[tokio::test]
async fn the_embedding_input_limit_is_a_setting() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--max-embedding-inputs", "3"]);
    let (status, error) = embed(&gateway, &json!({"input": texts(4)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 3"),
        "{error}"
    );
    let (status, _) = embed(&gateway, &json!({"input": texts(3)})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(upstream_requests(&mock).await, 3);
}

#[tokio::test]
async fn the_first_failed_embedding_call_answers_and_no_other_starts() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let mut input = texts(200);
    input[0] = "[mock:error=AccessDeniedException]".to_owned();
    let (status, error) = embed(&gateway, &json!({"input": input})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["error"]["code"], "access_denied");
    // At most the calls in flight with the first one (8 at a time).
    let calls = upstream_requests(&mock).await;
    assert!(
        calls <= 16,
        "{calls} InvokeModel calls for a request whose first call failed"
    );
}

#[tokio::test]
async fn an_answer_cut_short_is_a_502_not_the_clients_fault() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, _, error) = gateway.chat(chat("hi [mock:truncate_body]")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
    assert_eq!(error["error"]["code"], "upstream_error");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("Bedrock's answer broke off"), "{message}");
    assert!(!message.contains("request body"), "{message}");
    let (status, error) = embed(&gateway, &json!({"input": ["x [mock:truncate_body]"]})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
    // Not retried: the answer's headers were in, the request had been run.
    assert_eq!(upstream_requests(&mock).await, 2);
}

#[tokio::test]
async fn an_answer_over_the_limit_is_a_502_saying_so() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--max-upstream-body-bytes", "20000"]);
    let (status, _, error) = gateway.chat(chat("hi [mock:pad_answer=30000]")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
    assert_eq!(error["error"]["code"], "upstream_error");
    assert_eq!(
        error["error"]["message"],
        "Bedrock's answer is larger than the gateway's limit of 20000 bytes"
    );
    let (status, _, answer) = gateway.chat(chat("hi [mock:pad_answer=10000]")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, error) = embed(&gateway, &json!({"input": ["x [mock:pad_answer=30000]"]})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");

    // The default: 25,000,000 bytes.
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, _, error) = gateway.chat(chat("hi [mock:pad_answer=25000000]")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
    assert_eq!(
        error["error"]["message"],
        "Bedrock's answer is larger than the gateway's limit of 25000000 bytes"
    );
}

#[tokio::test]
async fn upstream_error_types_are_a_fixed_set_of_labels() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--max-attempts", "1"]);
    for i in 0..60 {
        let (status, _, _) = gateway
            .chat(chat(&format!("x [mock:error=Invented{i}Exception]")))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    gateway
        .chat(chat("x [mock:error=ThrottlingException]"))
        .await;
    gateway.chat(chat("x")).await;
    let text = metrics(&gateway).await;
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("bedrock_gateway_upstream_attempts_total{"))
        .collect();
    assert_eq!(series.len(), 3, "{series:#?}");
    for needle in [
        r#"bedrock_gateway_upstream_attempts_total{outcome="other"} 60"#,
        r#"bedrock_gateway_upstream_attempts_total{outcome="ThrottlingException"} 1"#,
        r#"bedrock_gateway_upstream_attempts_total{outcome="ok"} 1"#,
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[tokio::test]
async fn a_stream_that_ends_with_an_error_is_counted_with_its_status() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let mut body =
        chat("one two three four five [mock:stream_exception=throttlingException,after=3]");
    body["stream"] = json!(true);
    let url = format!("{}/v1/chat/completions", gateway.url());
    let (status, _, bytes) = send(
        Method::POST,
        &url,
        &credential_headers(),
        Some(body.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the stream had started");
    let events = sse_data(&bytes);
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "rate_limit_exceeded", "{events:?}");
    let text = metrics(&gateway).await;
    let counted = format!(
        r#"bedrock_gateway_requests_total{{route="/v1/chat/completions",model="{HAIKU}",status="429"}} 1"#
    );
    assert!(text.contains(&counted), "{counted} missing from\n{text}");
    assert!(
        !text.contains(r#"status="200""#),
        "the failed stream counted as a success:\n{text}"
    );
}
