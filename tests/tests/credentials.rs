//! End to end: every source of the gateway's own AWS credentials, and their precedence.

use e2e_tests::{
    ACCESS_KEY, FakeHttp, Gateway, Mock, SECRET_KEY, SESSION_ACCESS_KEY, SESSION_SECRET_KEY,
    SESSION_TOKEN, credential_headers,
};
use http::StatusCode;
use serde_json::json;

/// The mock's Bedrock API key.
const API_KEY: &str = "bedrock-api-key-EXAMPLE";

fn hello() -> serde_json::Value {
    json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "messages": [{"role": "user", "content": "hi"}]})
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("bedrock-gateway-e2e-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The session key pair, as the ECS and IMDS endpoints serve it.
fn session_credentials_json() -> String {
    json!({
        "Code": "Success",
        "Type": "AWS-HMAC",
        "AccessKeyId": SESSION_ACCESS_KEY,
        "SecretAccessKey": SESSION_SECRET_KEY,
        "Token": SESSION_TOKEN,
        "Expiration": "2099-01-01T00:00:00Z",
        "LastUpdated": "2024-01-01T00:00:00Z"
    })
    .to_string()
}

async fn used_access_key(mock: &Mock) -> serde_json::Value {
    mock.requests()
        .await
        .last()
        .expect("a request reached the mock")["credential_scope"]["access_key"]
        .clone()
}

#[tokio::test]
async fn a_shared_credentials_file_and_profile() {
    let mock = Mock::start();
    let dir = temp_dir("profile");
    let credentials = dir.join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n\n[mock]\naws_access_key_id = {SESSION_ACCESS_KEY}\naws_secret_access_key = {SESSION_SECRET_KEY}\naws_session_token = {SESSION_TOKEN}\n"
        ),
    )
    .unwrap();
    let config = dir.join("config");
    std::fs::write(&config, "").unwrap();
    let env = [
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_PROFILE", "mock"),
    ];
    let gateway = Gateway::start(&mock, &env, &[]);
    let (status, _, body) = gateway.chat_with(hello(), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(used_access_key(&mock).await, SESSION_ACCESS_KEY);
    assert_eq!(
        mock.requests().await[0]["headers"]["x-amz-security-token"],
        SESSION_TOKEN
    );
    // Request headers still win.
    let (status, _, _) = gateway.chat_with(hello(), &credential_headers()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(used_access_key(&mock).await, ACCESS_KEY);
}

#[tokio::test]
async fn ecs_container_credentials_are_fetched_once_and_cached() {
    let mock = Mock::start();
    let ecs = FakeHttp::start(|_, path| match path {
        "/creds" => (200, session_credentials_json()),
        _ => (404, "{}".to_owned()),
    })
    .await;
    let uri = format!("{}/creds", ecs.url);
    let gateway = Gateway::start(&mock, &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)], &[]);
    for _ in 0..3 {
        let (status, _, body) = gateway.chat_with(hello(), &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(used_access_key(&mock).await, SESSION_ACCESS_KEY);
    assert_eq!(
        ecs.hits(),
        1,
        "credentials are cached, not fetched per request"
    );
}

#[tokio::test]
async fn ec2_instance_metadata_v2() {
    let mock = Mock::start();
    let imds = FakeHttp::start(|method, path| match (method, path) {
        ("PUT", "/latest/api/token") => (200, "imds-session-token".to_owned()),
        ("GET", "/latest/meta-data/iam/security-credentials/") => (200, "gateway-role".to_owned()),
        ("GET", "/latest/meta-data/iam/security-credentials/gateway-role") => {
            (200, session_credentials_json())
        }
        _ => (404, String::new()),
    })
    .await;
    let env = [
        ("AWS_EC2_METADATA_DISABLED", "false"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str()),
        ("AWS_CONFIG_FILE", "/nonexistent/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
    ];
    let gateway = Gateway::start(&mock, &env, &[]);
    let (status, _, body) = gateway.chat_with(hello(), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(used_access_key(&mock).await, SESSION_ACCESS_KEY);
    assert!(imds.hits() >= 2, "the IMDSv2 token, then the credentials");
}

#[tokio::test]
async fn bedrock_api_keys_from_the_environment_and_headers() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[("AWS_BEARER_TOKEN_BEDROCK", API_KEY)], &[]);
    let (status, _, body) = gateway.chat_with(hello(), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let request = &mock.requests().await[0];
    assert_eq!(request["auth"], "bearer", "{request}");
    assert_eq!(
        request["headers"]["authorization"],
        format!("Bearer {API_KEY}")
    );
    assert!(
        request["headers"].get("x-amz-date").is_none(),
        "no SigV4 with a bearer key"
    );

    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, _, _) = gateway
        .chat_with(hello(), &[("x-aws-bearer-token-bedrock", API_KEY)])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = gateway
        .chat_with(
            hello(),
            &[("x-aws-bearer-token-bedrock", "not-a-known-key")],
        )
        .await;
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
        "{status} {body}"
    );
}

#[tokio::test]
async fn credential_source_policies() {
    let mock = Mock::start();
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let server_only = Gateway::start(&mock, &env, &["--credential-sources", "server"]);
    let (status, _, body) = server_only.chat_with(hello(), &credential_headers()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, _) = server_only.chat_with(hello(), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let headers_only = Gateway::start(&mock, &env, &["--credential-sources", "headers"]);
    let (status, _, _) = headers_only.chat_with(hello(), &[]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the gateway's own keys are never used"
    );
    let (status, _, _) = headers_only.chat_with(hello(), &credential_headers()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mock.requests().await.len(), 2);
}
