//! End to end: `POST /v1/completions` (legacy text completions) through Converse and
//! ConverseStream on the fake Bedrock.

use e2e_tests::{Gateway, Mock, credential_headers, send, sse_data};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

async fn complete(gateway: &Gateway, body: Value) -> (StatusCode, HeaderMap, bytes::Bytes) {
    let url = format!("{}/v1/completions", gateway.url());
    send(
        Method::POST,
        &url,
        &credential_headers(),
        Some(body.to_string()),
    )
    .await
}

async fn complete_json(gateway: &Gateway, body: Value) -> (StatusCode, Value) {
    let (status, _, bytes) = complete(gateway, body).await;
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("JSON answer: {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

#[tokio::test]
async fn a_prompt_is_answered_as_a_text_completion() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, body) = complete_json(
        &gateway,
        json!({"model": HAIKU, "prompt": "Once upon a time", "max_tokens": 50,
               "temperature": 0.2, "top_p": 0.9, "stop": ["\n\n"], "user": "u"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["object"], "text_completion");
    assert!(body["id"].as_str().unwrap().starts_with("cmpl-"), "{body}");
    assert_eq!(body["model"], HAIKU);
    let choice = &body["choices"][0];
    assert_eq!(choice["text"], "You said: Once upon a time");
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["logprobs"], Value::Null);
    assert!(choice.get("message").is_none());
    let usage = &body["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    // The same Converse request as a chat turn.
    let requests = mock.requests().await;
    assert_eq!(
        requests[0]["path"],
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    );
    let sent: Value = serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({
            "messages": [{"role": "user", "content": [{"text": "Once upon a time"}]}],
            "inferenceConfig": {"maxTokens": 50, "temperature": 0.2, "topP": 0.9, "stopSequences": ["\n\n"]}
        })
    );
    // A list of one prompt; max_tokens cuts the answer: length.
    let (status, body) = complete_json(
        &gateway,
        json!({"model": HAIKU, "prompt": ["one two three four five"], "max_tokens": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["choices"][0]["text"], "You said: one");
    assert_eq!(body["choices"][0]["finish_reason"], "length");
}

#[tokio::test]
async fn a_streamed_completion_is_text_completion_chunks_then_done() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, headers, bytes) = complete(
        &gateway,
        json!({"model": HAIKU, "prompt": "one two three four", "stream": true,
               "stream_options": {"include_usage": true}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bytes:?}");
    assert_eq!(headers["content-type"], "text/event-stream");
    let events = sse_data(&bytes);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let first = &chunks[0];
    assert!(first["id"].as_str().unwrap().starts_with("cmpl-"));
    for chunk in &chunks {
        assert_eq!(chunk["object"], "text_completion");
        assert_eq!(chunk["id"], first["id"]);
        assert_eq!(chunk["created"], first["created"]);
        assert_eq!(chunk["model"], HAIKU);
    }
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["text"].as_str())
        .collect();
    assert_eq!(text, "You said: one two three four");
    let finish: Vec<&Value> = chunks
        .iter()
        .filter(|c| !c["choices"][0]["finish_reason"].is_null())
        .collect();
    assert_eq!(finish.len(), 1);
    assert_eq!(finish[0]["choices"][0]["finish_reason"], "stop");
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    let requests = mock.requests().await;
    assert_eq!(
        requests[0]["path"],
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
    );
    // Without stream_options: no usage field at all.
    let (_, _, bytes) = complete(
        &gateway,
        json!({"model": HAIKU, "prompt": "hi", "stream": true}),
    )
    .await;
    let events = sse_data(&bytes);
    for event in &events[..events.len() - 1] {
        let chunk: Value = serde_json::from_str(event).unwrap();
        assert!(chunk.get("usage").is_none(), "{chunk}");
        assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn what_bedrock_cannot_express_is_a_400_naming_the_parameter() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let cases = [
        (json!({"prompt": "Hi", "echo": true}), "echo"),
        (json!({"prompt": "Hi", "logprobs": 1}), "logprobs"),
        (json!({"prompt": "Hi", "best_of": 2}), "best_of"),
        (json!({"prompt": "Hi", "suffix": "!"}), "suffix"),
        (json!({"prompt": ["a", "b"]}), "prompt"),
        (json!({"prompt": [1, 2]}), "prompt"),
        (json!({"prompt": ""}), "prompt"),
        (json!({"prompt": "Hi", "n": 2}), "n"),
        (json!({"prompt": "Hi", "temperature": 2}), "temperature"),
    ];
    for (body, param) in cases {
        let (status, answer) = complete_json(&gateway, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"]["param"], param, "{body}: {answer}");
        assert_eq!(answer["error"]["type"], "invalid_request_error");
    }
    assert!(mock.requests().await.is_empty(), "nothing reached Bedrock");
    // An unknown model: the same actionable 404 as chat.
    let (status, answer) =
        complete_json(&gateway, json!({"model": "acme.nope-v1", "prompt": "Hi"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["param"], "model");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("The model 'acme.nope-v1' does not exist"),
        "{answer}"
    );
    // GET is not the way.
    let url = format!("{}/v1/completions", gateway.url());
    let (status, _, _) = send(Method::GET, &url, &credential_headers(), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_route_is_metered_under_its_own_label() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, _) = complete_json(&gateway, json!({"model": HAIKU, "prompt": "Hi"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, metrics) = send(
        Method::GET,
        &format!("{}/metrics", gateway.url()),
        &[],
        None,
    )
    .await;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains(&format!(
            r#"bedrock_gateway_requests_total{{route="/v1/completions",model="{HAIKU}",status="200"}} 1"#
        )),
        "{metrics}"
    );
}
