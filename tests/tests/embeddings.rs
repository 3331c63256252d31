//! End to end: `POST /v1/embeddings` through InvokeModel on the fake Bedrock.

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

fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_f64().unwrap() as f32)
        .collect()
}

#[tokio::test]
async fn titan_v2_list_input_keeps_order_and_sums_usage() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let texts = ["alpha", "beta gamma", "delta epsilon zeta"];
    let (status, body) = embed(
        &gateway,
        json!({"model": "amazon.titan-embed-text-v2:0", "input": texts, "dimensions": 256}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], "amazon.titan-embed-text-v2:0");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    let mut total = 0;
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(data[i]["index"], i);
        assert_eq!(data[i]["object"], "embedding");
        assert_eq!(data[i]["embedding"].as_array().unwrap().len(), 256);
        // The same text alone gives the same vector: results are in input order.
        let (_, single) = embed(
            &gateway,
            json!({"model": "amazon.titan-embed-text-v2:0", "input": text, "dimensions": 256}),
        )
        .await;
        assert_eq!(
            floats(&single["data"][0]["embedding"]),
            floats(&data[i]["embedding"]),
            "{text}"
        );
        total += single["usage"]["prompt_tokens"].as_u64().unwrap();
    }
    assert_eq!(body["usage"]["prompt_tokens"].as_u64().unwrap(), total);
    assert_eq!(
        body["usage"]["total_tokens"],
        body["usage"]["prompt_tokens"]
    );
    let requests = mock.requests().await;
    assert_eq!(
        requests[0]["path"],
        "/model/amazon.titan-embed-text-v2%3A0/invoke"
    );
    let sent: Value = serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["dimensions"], 256);
    assert_eq!(sent["normalize"], true);
}

#[tokio::test]
async fn base64_encoding_is_little_endian_f32() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (_, plain) = embed(
        &gateway,
        json!({"model": "amazon.titan-embed-text-v1", "input": "hello"}),
    )
    .await;
    let (status, encoded) = embed(&gateway, json!({"model": "amazon.titan-embed-text-v1", "input": "hello", "encoding_format": "base64"})).await;
    assert_eq!(status, StatusCode::OK);
    let b64 = encoded["data"][0]["embedding"]
        .as_str()
        .expect("a base64 string");
    let bytes = decode_base64(b64);
    let decoded: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(decoded, floats(&plain["data"][0]["embedding"]));
    assert_eq!(decoded.len(), 1536);
}

#[tokio::test]
async fn cohere_batches_and_default_input_type() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let texts: Vec<String> = (0..100).map(|i| format!("text number {i}")).collect();
    let (status, body) = embed(
        &gateway,
        json!({"model": "cohere.embed-english-v3", "input": texts}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 100);
    assert_eq!(body["data"][99]["index"], 99);
    let requests = mock.requests().await;
    assert_eq!(
        requests.len(),
        2,
        "100 texts are two Cohere calls of at most 96"
    );
    let first: Value = serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(first["input_type"], "search_document");
}

#[tokio::test]
async fn embedding_errors() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--max-attempts", "1"]);
    for (body, param) in [
        (
            json!({"model": "amazon.titan-embed-text-v2:0", "input": [1, 2, 3_000_000]}),
            "input[2]",
        ),
        (
            json!({"model": "amazon.titan-embed-text-v2:0", "input": "x", "dimensions": 100}),
            "dimensions",
        ),
        (
            json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "input": "x"}),
            "model",
        ),
    ] {
        let (status, answer) = embed(&gateway, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["param"], param);
    }
    assert!(mock.requests().await.is_empty());
    mock.fault(
        json!({"error": "ThrottlingException", "status": 429, "message": "slow", "count": 1}),
    )
    .await;
    let (status, _) = embed(&gateway, json!({"input": "x"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET
            .iter()
            .position(|a| *a == byte)
            .expect("base64 alphabet") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}
