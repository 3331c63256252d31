//! End to end: token-array embedding input (LangChain's default) decoded with `cl100k_base`
//! and embedded as text; a token outside the vocabulary is a 400 naming its index.

use e2e_tests::{Gateway, Mock, credential_headers, send};
use http::{Method, StatusCode};
use serde_json::{Value, json};

async fn embed(gateway: &Gateway, body: Value) -> (StatusCode, Value) {
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

/// The `inputText`s of the InvokeModel calls the mock received, in order.
async fn sent_texts(mock: &Mock) -> Vec<Value> {
    let mut texts = Vec::new();
    for request in mock.requests().await {
        let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
        texts.push(body["inputText"].clone());
    }
    texts.sort_by_key(Value::to_string);
    texts
}

#[tokio::test]
async fn token_arrays_are_embedded_as_their_text() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let model = "amazon.titan-embed-text-v2:0";
    // "Hello world" and " world" in cl100k_base.
    let (status, tokens) = embed(
        &gateway,
        json!({"model": model, "input": [[9906, 1917], [1917]], "encoding_format": "float"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(
        sent_texts(&mock).await,
        [json!(" world"), json!("Hello world")]
    );
    let (status, text) = embed(
        &gateway,
        json!({"model": model, "input": ["Hello world", " world"], "encoding_format": "float"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(tokens["data"], text["data"]);
    // One token array.
    let (status, one) = embed(&gateway, json!({"model": model, "input": [9906, 1917]})).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["data"][0]["embedding"], text["data"][0]["embedding"]);
}

#[tokio::test]
async fn a_token_outside_the_vocabulary_is_a_400_naming_it() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, body) = embed(
        &gateway,
        json!({"model": "amazon.titan-embed-text-v1", "input": [[9906], [1917, 100300]]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["param"], "input[1][1]");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100300"),
        "{body}"
    );
    assert!(mock.requests().await.is_empty());
}
