//! End to end: `GET /v1/models/{id}` (the listed models and aliases, 404 otherwise, ids with `:`
//! and `/` raw or percent-encoded), and the error a client gets for a model Bedrock does not
//! know (named, `param: "model"`, pointing at `/v1/models` and `--model-alias`).

use e2e_tests::{Gateway, Mock, send};
use http::{Method, StatusCode};
use serde_json::{Value, json};

async fn get(gateway: &Gateway, path: &str) -> (StatusCode, Value) {
    let url = format!("{}{path}", gateway.url());
    let (status, _, bytes) = send(Method::GET, &url, &[], None).await;
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("JSON answer: {}", String::from_utf8_lossy(&bytes)));
    (status, body)
}

#[tokio::test]
async fn a_listed_model_or_alias_is_retrieved_by_its_id_encoded_or_not() {
    let mock = Mock::start();
    let gateway = Gateway::start(
        &mock,
        &[],
        &[
            "--model-alias",
            "team/claude:fast=anthropic.claude-3-haiku-20240307-v1:0",
        ],
    );
    let (status, list) = get(&gateway, "/v1/models").await;
    assert_eq!(status, StatusCode::OK);
    // Every listed model is retrievable, as it is listed.
    for model in list["data"].as_array().unwrap() {
        let id = model["id"].as_str().unwrap();
        let encoded: String = id
            .bytes()
            .map(|b| match b {
                b'/' => "%2F".to_owned(),
                b':' => "%3A".to_owned(),
                _ => (b as char).to_string(),
            })
            .collect();
        for path in [format!("/v1/models/{id}"), format!("/v1/models/{encoded}")] {
            let (status, got) = get(&gateway, &path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {got}");
            assert_eq!(&got, model, "{path}");
        }
    }
    let (_, alias) = get(&gateway, "/v1/models/team%2Fclaude%3Afast").await;
    assert_eq!(
        alias,
        json!({"id": "team/claude:fast", "object": "model", "created": 0, "owned_by": "anthropic"})
    );
    let (_, titan) = get(&gateway, "/v1/models/amazon.titan-text-premier-v1:0").await;
    assert_eq!(titan["owned_by"], "amazon");
}

#[tokio::test]
async fn an_unlisted_model_is_openais_404() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, body) = get(&gateway, "/v1/models/gpt-4o").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": {
            "message": "The model 'gpt-4o' does not exist",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found"
        }})
    );
    let (status, body) = get(&gateway, "/v1/models/acme%2Fnope%3Av1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["error"]["message"],
        "The model 'acme/nope:v1' does not exist"
    );
    // Another method on the route.
    let url = format!("{}/v1/models/gpt-4o", gateway.url());
    let (status, _, _) = send(Method::DELETE, &url, &[], None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // One metrics label for every id.
    let (_, _, metrics) = send(
        Method::GET,
        &format!("{}/metrics", gateway.url()),
        &[],
        None,
    )
    .await;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(metrics.contains(r#"route="/v1/models/{id}""#), "{metrics}");
    assert!(!metrics.contains("gpt-4o"), "{metrics}");
    assert!(!metrics.contains("acme"), "{metrics}");
}

#[tokio::test]
async fn a_model_bedrock_does_not_know_is_named_with_what_to_do() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--model-alias", "gpt-x=acme.nope-v1:0"]);
    for stream in [false, true] {
        let (status, _, body) = gateway
            .chat(json!({
                "model": "acme.nope-v1:0",
                "stream": stream,
                "messages": [{"role": "user", "content": "hi"}]
            }))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let error = &body["error"];
        assert_eq!(error["param"], "model");
        assert_eq!(error["code"], "model_not_found");
        assert_eq!(error["type"], "invalid_request_error");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with("The model 'acme.nope-v1:0' does not exist"),
            "{message}"
        );
        assert!(
            message.contains("The provided model identifier is invalid."),
            "{message}"
        );
        assert!(message.contains("/v1/models"), "{message}");
        assert!(message.contains("--model-alias"), "{message}");
    }
    // Through an alias: both names.
    let (status, _, body) = gateway
        .chat(json!({"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("The model 'gpt-x' (Bedrock model id 'acme.nope-v1:0') does not exist"),
        "{message}"
    );
    // Nothing secret in it.
    assert!(!message.contains(e2e_tests::SECRET_KEY));
    assert!(!message.contains(e2e_tests::ACCESS_KEY));
}
