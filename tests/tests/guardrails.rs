//! End to end: `--guardrail` (and `x-bedrock-guardrail` per request) sends `guardrailConfig` on
//! every Converse call; an intervention ends in `finish_reason: content_filter`.

use e2e_tests::{Gateway, Mock, credential_headers, send, sse_data};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const ARN: &str = "arn:aws:bedrock:us-east-1:123456789012:guardrail/own1";

fn chat(text: &str, stream: bool) -> Value {
    json!({"model": HAIKU, "stream": stream, "messages": [{"role": "user", "content": text}]})
}

/// The `guardrailConfig` of every Converse call the mock received, in order.
async fn sent_guardrails(mock: &Mock) -> Vec<Value> {
    mock.requests()
        .await
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap()["guardrailConfig"]
                .clone()
        })
        .collect()
}

/// A streamed chat's chunks.
async fn stream(gateway: &Gateway, body: &Value, headers: &[(&str, &str)]) -> Vec<Value> {
    let url = format!("{}/v1/chat/completions", gateway.url());
    let (status, _, bytes) = send(Method::POST, &url, headers, Some(body.to_string())).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let events = sse_data(&bytes);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect()
}

#[tokio::test]
async fn the_configured_guardrail_goes_with_every_call_and_a_header_replaces_it() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--guardrail", "base1:3"]);
    let (status, _, body) = gateway.chat(chat("Hello", false)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stream(&gateway, &chat("Hello", true), &credential_headers()).await;
    let mut headers = credential_headers();
    let own = format!("{ARN}:DRAFT");
    headers.push(("x-bedrock-guardrail", &own));
    let (status, _, body) = gateway.chat_with(chat("Hello", false), &headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        sent_guardrails(&mock).await,
        [
            json!({"guardrailIdentifier": "base1", "guardrailVersion": "3", "trace": "disabled"}),
            json!({"guardrailIdentifier": "base1", "guardrailVersion": "3", "trace": "disabled",
                   "streamProcessingMode": "sync"}),
            json!({"guardrailIdentifier": ARN, "guardrailVersion": "DRAFT", "trace": "disabled"}),
        ]
    );
}

#[tokio::test]
async fn trace_and_stream_mode_settings_and_no_guardrail_by_default() {
    let mock = Mock::start();
    let gateway = Gateway::start(
        &mock,
        &[
            ("BEDROCK_GATEWAY_GUARDRAIL_TRACE", "true"),
            ("BEDROCK_GATEWAY_GUARDRAIL_STREAM_MODE", "async"),
        ],
        &[],
    );
    // No guardrail configured, none asked for: no guardrailConfig.
    gateway.chat(chat("Hello", false)).await;
    let mut headers = credential_headers();
    headers.push(("x-bedrock-guardrail", "own2:1"));
    stream(&gateway, &chat("Hello", true), &headers).await;
    assert_eq!(
        sent_guardrails(&mock).await,
        [
            Value::Null,
            json!({"guardrailIdentifier": "own2", "guardrailVersion": "1", "trace": "enabled",
                   "streamProcessingMode": "async"}),
        ]
    );
}

#[tokio::test]
async fn an_invalid_guardrail_header_is_a_400_before_any_call() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    for bad in [
        "own1",
        "Own1:1",
        "own1:v2",
        "own1:0",
        "arn:aws:bedrock:x:1:guardrail/a:1",
    ] {
        let mut headers = credential_headers();
        headers.push(("x-bedrock-guardrail", bad));
        let (status, _, body) = gateway.chat_with(chat("Hello", false), &headers).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["param"], "x-bedrock-guardrail", "{body}");
    }
    assert!(mock.requests().await.is_empty());
}

#[tokio::test]
async fn an_intervention_is_finish_reason_content_filter() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--guardrail", "base1:DRAFT"]);
    let text = "Tell me [mock:guardrail_intervened]";
    let (status, _, body) = gateway.chat(chat(text, false)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Sorry, guardrail base1 blocked this request."
    );
    let chunks = stream(&gateway, &chat(text, true), &credential_headers()).await;
    let finish: Vec<&Value> = chunks
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, [&json!("content_filter")]);
}
