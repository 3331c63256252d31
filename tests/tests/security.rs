//! Security end to end: gateway keys, and no secret in the logs at any level.

use e2e_tests::{
    ACCESS_KEY, Gateway, Mock, SECRET_KEY, SESSION_ACCESS_KEY, SESSION_SECRET_KEY, SESSION_TOKEN,
    send,
};
use http::{Method, StatusCode};
use serde_json::json;

const GATEWAY_KEY: &str = "gw-key-Zq8u3JH2kLmN0pQr";

#[tokio::test]
async fn gateway_keys_guard_v1_but_not_health() {
    let mock = Mock::start();
    let env = [
        ("BEDROCK_GATEWAY_API_KEYS", GATEWAY_KEY),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let gateway = Gateway::start(&mock, &env, &[]);
    let body = json!({"messages": [{"role": "user", "content": "hi"}]});
    let bearer = format!("Bearer {GATEWAY_KEY}");
    for headers in [vec![], vec![("authorization", "Bearer wrong-key")]] {
        let (status, _, answer) = gateway.chat_with(body.clone(), &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        assert_eq!(answer["error"]["type"], "authentication_error");
    }
    let (status, _, _) = send(
        Method::GET,
        &format!("{}/v1/models", gateway.url()),
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        mock.requests().await.is_empty(),
        "nothing reaches Bedrock without a key"
    );
    let (status, _, answer) = gateway.chat_with(body, &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _, _) = send(Method::GET, &format!("{}/health", gateway.url()), &[], None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn no_secret_reaches_the_logs_even_at_trace() {
    let mock = Mock::start();
    let env = [
        ("RUST_LOG", "trace"),
        ("BEDROCK_GATEWAY_API_KEYS", GATEWAY_KEY),
        ("AWS_ACCESS_KEY_ID", SESSION_ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SESSION_SECRET_KEY),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
    ];
    let gateway = Gateway::start(&mock, &env, &[]);
    let bearer = format!("Bearer {GATEWAY_KEY}");
    let header_creds = [
        ("authorization", bearer.as_str()),
        ("x-aws-access-key-id", ACCESS_KEY),
        ("x-aws-secret-access-key", SECRET_KEY),
    ];
    let wrong_secret = "wrong-secret-Xy12ab34Cd56";
    let bad_creds = [
        ("authorization", bearer.as_str()),
        ("x-aws-access-key-id", ACCESS_KEY),
        ("x-aws-secret-access-key", wrong_secret),
    ];
    let env_creds = [("authorization", bearer.as_str())];
    let chat = json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "messages": [{"role": "user", "content": "hello"}]});
    let mut stream = chat.clone();
    stream["stream"] = json!(true);
    for (body, headers) in [
        (&chat, &header_creds[..]),
        (&stream, &header_creds[..]),
        (&chat, &bad_creds[..]),
        (&chat, &env_creds[..]),
        (&stream, &env_creds[..]),
        (&json!({"messages": []}), &header_creds[..]),
    ] {
        gateway.chat_with(body.clone(), headers).await;
    }
    mock.fault(
        json!({"error": "ThrottlingException", "status": 429, "message": "slow", "count": 1}),
    )
    .await;
    gateway.chat_with(chat.clone(), &env_creds).await;
    let (status, _, _) = gateway
        .chat_with(chat, &[("authorization", "Bearer not-the-key")])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let log = gateway.log();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "the gateway logged at trace level: {log}"
    );
    for secret in [
        SECRET_KEY,
        SESSION_SECRET_KEY,
        SESSION_TOKEN,
        GATEWAY_KEY,
        wrong_secret,
    ] {
        assert!(
            !log.contains(secret),
            "secret {secret:?} found in the gateway's logs ({})",
            gateway.log_path.display()
        );
    }
}

#[tokio::test]
async fn hostile_json_is_refused_cleanly() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let url = format!("{}/v1/chat/completions", gateway.url());
    let creds = e2e_tests::credential_headers();
    // 100,000 levels of arrays, as the messages and inside a message's content.
    let (open, close) = ("[".repeat(100_000), "]".repeat(100_000));
    for deep in [
        format!("{{\"messages\": {open}{close}}}"),
        format!("{{\"messages\": [{{\"role\": \"user\", \"content\": {open}{close}}}]}}"),
    ] {
        let (status, _, body) = send(Method::POST, &url, &creds, Some(deep)).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert!(text.contains("invalid request body"), "{text}");
    }
    let huge_array = format!(
        "{{\"messages\": [{}{{\"role\":\"user\",\"content\":\"x\"}}], \"stop\": [{}\"s\"]}}",
        "",
        "\"s\",".repeat(3000)
    );
    let (status, _, _) = send(Method::POST, &url, &creds, Some(huge_array)).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "3000 stop sequences are more than Bedrock takes"
    );
    let model_in_path = json!({"model": "anthropic.claude-3-haiku-20240307-v1:0/../../admin", "messages": [{"role": "user", "content": "x"}]});
    let (status, _, _) = gateway.chat(model_in_path).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(mock.requests().await.is_empty());
    let (status, _, _) = send(Method::GET, &format!("{}/health", gateway.url()), &[], None).await;
    assert_eq!(status, StatusCode::OK, "the gateway is still up");
}

#[tokio::test]
async fn warns_when_open_to_the_network_with_its_own_credentials() {
    let mock = Mock::start();
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("RUST_LOG", "warn"),
    ];
    let open = Gateway::start(&mock, &env, &["--listen", "0.0.0.0:0"]);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(open.log().contains("SECURITY"), "{}", open.log());
    let keyed = Gateway::start(
        &mock,
        &[
            env[0],
            env[1],
            env[2],
            ("BEDROCK_GATEWAY_API_KEYS", GATEWAY_KEY),
        ],
        &["--listen", "0.0.0.0:0"],
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!keyed.log().contains("SECURITY"), "{}", keyed.log());
}
