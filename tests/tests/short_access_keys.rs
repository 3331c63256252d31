//! End to end: access key ids shorter than AWS's own (local emulators and test set-ups use
//! `test`) are accepted from request headers as from the environment, and signed as any other;
//! ids whose characters would corrupt the signature's credential scope are refused, from
//! either source.

use e2e_tests::{Gateway, Mock};
use http::StatusCode;
use serde_json::json;

fn hello() -> serde_json::Value {
    json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "messages": [{"role": "user", "content": "hi"}]})
}

async fn used_access_key(mock: &Mock) -> serde_json::Value {
    mock.requests()
        .await
        .last()
        .expect("a request reached the mock")["credential_scope"]["access_key"]
        .clone()
}

#[tokio::test]
async fn a_short_key_id_in_headers_is_signed_and_verified() {
    let mock = Mock::start_with(&["--access-key", "test", "--secret-key", "test"]);
    let gateway = Gateway::start(&mock, &[], &[]);
    let keys = [
        ("x-aws-access-key-id", "test"),
        ("x-aws-secret-access-key", "test"),
    ];
    let (status, _, body) = gateway.chat_with(hello(), &keys).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(used_access_key(&mock).await, "test");
    // A wrong secret for the short id is the mock's (Bedrock's) 403, not a gateway refusal.
    let wrong = [
        ("x-aws-access-key-id", "test"),
        ("x-aws-secret-access-key", "other"),
    ];
    let (status, _, body) = gateway.chat_with(hello(), &wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("InvalidSignatureException"), "{body}");
    // Characters that would corrupt the credential scope are refused before any call.
    let before = mock.requests().await.len();
    let bad = [
        ("x-aws-access-key-id", "test/2024"),
        ("x-aws-secret-access-key", "test"),
    ];
    let (status, _, body) = gateway.chat_with(hello(), &bad).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "invalid_aws_credentials", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("access key id"), "{body}");
    assert_eq!(mock.requests().await.len(), before);
}

#[tokio::test]
async fn a_short_key_id_in_the_environment_is_signed_and_verified() {
    let mock = Mock::start_with(&["--access-key", "test", "--secret-key", "test"]);
    let env = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let gateway = Gateway::start(&mock, &env, &[]);
    let (status, _, body) = gateway.chat_with(hello(), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(used_access_key(&mock).await, "test");
}
