//! End to end, non-streaming: the real gateway binary against the real mock binary.

use e2e_tests::{
    ACCESS_KEY, Gateway, Mock, SECRET_KEY, SESSION_ACCESS_KEY, SESSION_SECRET_KEY, SESSION_TOKEN,
    credential_headers, send,
};
use http::{Method, StatusCode};
use serde_json::{Value, json};

fn hello() -> Value {
    json!({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]})
}

#[tokio::test]
async fn chat_with_header_credentials_and_the_default_model() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, headers, body) = gateway.chat(hello()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "amazon.titan-text-premier-v1:0");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    let message = &body["choices"][0]["message"];
    assert_eq!(message["role"], "assistant");
    assert!(
        message["content"].as_str().unwrap().contains("Hello there"),
        "{body}"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let usage = &body["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );

    // What Bedrock received: the translated body, signed for us-east-1 with the header key.
    let requests = mock.requests().await;
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request["path"],
        "/model/amazon.titan-text-premier-v1%3A0/converse"
    );
    let sent: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
    // Titan takes no system prompt: it is folded into the first user turn.
    assert_eq!(
        sent,
        json!({"messages": [{"role": "user", "content": [{"text": "Be brief."}, {"text": "Hello there"}]}]})
    );
    assert_eq!(request["credential_scope"]["access_key"], ACCESS_KEY);
    assert_eq!(request["credential_scope"]["region"], "us-east-1");
    assert_eq!(request["credential_scope"]["service"], "bedrock");
    let authorization = request["headers"]["authorization"].as_str().unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"),
        "{authorization}"
    );
    assert!(
        !request["headers"]
            .as_object()
            .unwrap()
            .contains_key("x-aws-secret-access-key")
    );
}

#[tokio::test]
async fn env_credentials_region_header_and_an_inference_profile_arn() {
    let mock = Mock::start();
    let gateway = Gateway::start(
        &mock,
        &[
            ("AWS_ACCESS_KEY_ID", SESSION_ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SESSION_SECRET_KEY),
            ("AWS_SESSION_TOKEN", SESSION_TOKEN),
            ("AWS_REGION", "eu-west-1"),
        ],
        &[],
    );
    let arn = "arn:aws:bedrock:eu-west-3:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0";
    let mut body = hello();
    body["model"] = json!(arn);
    let (status, _, answer) = gateway
        .chat_with(
            body,
            &[("x-aws-region", "eu-west-3"), ("x-provider", "bedrock")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["model"], arn);
    let requests = mock.requests().await;
    let request = &requests[0];
    assert_eq!(
        request["path"],
        "/model/arn%3Aaws%3Abedrock%3Aeu-west-3%3A123456789012%3Ainference-profile%2Feu.anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    );
    assert_eq!(request["credential_scope"]["region"], "eu-west-3");
    assert_eq!(
        request["credential_scope"]["access_key"],
        SESSION_ACCESS_KEY
    );
    assert_eq!(request["headers"]["x-amz-security-token"], SESSION_TOKEN);
    // Claude takes a system prompt.
    let sent: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["system"], json!([{"text": "Be brief."}]));

    // Without the header the environment's region is used.
    let (status, _, _) = gateway.chat_with(hello(), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        mock.requests().await[1]["credential_scope"]["region"],
        "eu-west-1"
    );
}

#[tokio::test]
async fn bad_credentials_are_401_from_bedrock() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let cases = [
        (
            vec![
                ("x-aws-access-key-id", ACCESS_KEY),
                ("x-aws-secret-access-key", "wrong-secret"),
            ],
            "InvalidSignatureException",
        ),
        (
            vec![
                ("x-aws-access-key-id", "AKIAUNKNOWNUNKNOWN00"),
                ("x-aws-secret-access-key", SECRET_KEY),
            ],
            "UnrecognizedClientException",
        ),
    ];
    for (headers, code) in cases {
        let (status, _, body) = gateway.chat_with(hello(), &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"]["type"], "authentication_error");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(code),
            "{body}"
        );
        assert!(
            !body.to_string().contains("wrong-secret") && !body.to_string().contains(SECRET_KEY)
        );
    }
}

#[tokio::test]
async fn rejected_before_bedrock_is_called() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let creds = credential_headers();
    let with = |extra: (&'static str, &'static str)| {
        let mut headers = creds.clone();
        headers.push(extra);
        headers
    };
    type Case<'a> = (Value, Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            hello(),
            vec![],
            StatusCode::UNAUTHORIZED,
            "x-aws-access-key-id",
        ),
        (
            hello(),
            with(("x-provider", "openai")),
            StatusCode::BAD_REQUEST,
            "unsupported provider",
        ),
        (
            hello(),
            with(("x-aws-region", "us-east-1.evil.example#")),
            StatusCode::BAD_REQUEST,
            "region",
        ),
        (
            json!("not an object"),
            creds.clone(),
            StatusCode::BAD_REQUEST,
            "invalid request body",
        ),
        (
            json!({"model": "x"}),
            creds.clone(),
            StatusCode::BAD_REQUEST,
            "messages",
        ),
        (
            json!({"messages": []}),
            creds.clone(),
            StatusCode::BAD_REQUEST,
            "at least one user message",
        ),
        (
            json!({"messages": [{"role": "wizard", "content": "x"}]}),
            creds.clone(),
            StatusCode::BAD_REQUEST,
            "wizard",
        ),
        (
            json!({"model": "../../admin", "messages": [{"role": "user", "content": "x"}]}),
            creds.clone(),
            StatusCode::BAD_REQUEST,
            "model id",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "temperature": 1.7}),
            creds.clone(),
            StatusCode::BAD_REQUEST,
            "temperature",
        ),
    ];
    for (body, headers, want, needle) in cases {
        let (status, _, answer) = gateway.chat_with(body.clone(), &headers).await;
        assert_eq!(status, want, "{body} -> {answer}");
        let message = answer["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error object: {answer}"));
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        assert!(answer["error"].get("param").is_some() && answer["error"].get("code").is_some());
    }
    // Malformed JSON text.
    let url = format!("{}/v1/chat/completions", gateway.url());
    let (status, _, _) = send(
        Method::POST,
        &url,
        &creds,
        Some("{\"messages\": [".to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        mock.requests().await.is_empty(),
        "nothing may reach Bedrock"
    );
}

#[tokio::test]
async fn bedrock_errors_map_to_openai_statuses() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--max-attempts", "1"]);
    let cases = [
        ("ThrottlingException", 429, 429, "rate_limit_exceeded"),
        ("AccessDeniedException", 403, 403, "access_denied"),
        ("ResourceNotFoundException", 404, 404, "model_not_found"),
        ("ValidationException", 400, 400, "invalid_request"),
        ("ModelTimeoutException", 408, 504, "timeout"),
        ("InternalServerException", 500, 502, "upstream_error"),
        (
            "ServiceUnavailableException",
            503,
            503,
            "service_unavailable",
        ),
        ("ModelNotReadyException", 429, 503, "model_not_ready"),
        ("ModelErrorException", 424, 502, "model_error"),
    ];
    for (error, bedrock_status, want, code) in cases {
        mock.fault(json!({"error": error, "status": bedrock_status, "message": format!("injected {error}"), "count": 1})).await;
        let (status, headers, body) = gateway.chat(hello()).await;
        assert_eq!(status.as_u16(), want, "{error}: {body}");
        assert_eq!(body["error"]["code"], code, "{error}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("injected {error}"))
        );
        if want == 429 {
            assert!(headers.contains_key("retry-after"));
        }
    }
    // An unknown model id: Bedrock's ValidationException becomes 404 model_not_found.
    let mut body = hello();
    body["model"] = json!("acme.no-such-model-v1:0");
    let (status, _, answer) = gateway.chat(body).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["code"], "model_not_found");
}

#[tokio::test]
async fn models_health_unknown_paths_and_body_limit() {
    let mock = Mock::start();
    let gateway = Gateway::start(
        &mock,
        &[],
        &[
            "--max-body-bytes",
            "1000",
            "--model-alias",
            "gpt-4o=anthropic.claude-3-haiku-20240307-v1:0",
        ],
    );
    let (status, _, body) =
        send(Method::GET, &format!("{}/health", gateway.url()), &[], None).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, &br#"{"status":"ok"}"#[..])
    );
    let (status, _, body) = send(
        Method::GET,
        &format!("{}/v1/models", gateway.url()),
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let list: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for id in [
        "amazon.titan-text-premier-v1:0",
        "amazon.titan-embed-text-v1",
        "anthropic.claude-3-sonnet-20240229-v1:0",
        "anthropic.claude-v2:1",
        "mistral.mistral-7b-instruct-v0:2",
        "meta.llama2-70b-chat-v1",
        "gpt-4o",
    ] {
        assert!(ids.contains(&id), "{id} not listed");
    }
    let (status, _, _) = send(
        Method::GET,
        &format!("{}/v2/nothing", gateway.url()),
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The alias resolves to its Bedrock id.
    let mut body = hello();
    body["model"] = json!("gpt-4o");
    let (status, _, _) = gateway.chat(body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        mock.requests().await[0]["path"],
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    );

    // Over the limit: 413, whether declared up front or not.
    let big = json!({"messages": [{"role": "user", "content": "x".repeat(2000)}]});
    let (status, _, answer) = gateway.chat(big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(mock.requests().await.len(), 1);
}

#[tokio::test]
async fn unreachable_upstream_is_502() {
    let mock = Mock::start();
    let gateway = Gateway::start(
        &mock,
        &[("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9")],
        &[],
    );
    let (status, _, body) = gateway
        .chat_with(
            hello(),
            &[
                ("x-aws-access-key-id", ACCESS_KEY),
                ("x-aws-secret-access-key", SECRET_KEY),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["type"], "server_error");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--retry-base-delay-ms", "5"]);
    mock.fault(
        json!({"error": "ThrottlingException", "status": 429, "message": "slow down", "count": 1}),
    )
    .await;
    let (status, _, body) = gateway.chat(hello()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        mock.requests().await.len(),
        2,
        "one throttled attempt, one answered"
    );

    mock.fault(json!({"error": "ServiceUnavailableException", "status": 503, "message": "busy", "count": 2})).await;
    let (status, _, _) = gateway.chat(hello()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mock.requests().await.len(), 5);

    // Three attempts in all, then the error is the client's.
    mock.fault(
        json!({"error": "ThrottlingException", "status": 429, "message": "slow down", "count": 3}),
    )
    .await;
    let (status, _, _) = gateway.chat(hello()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(mock.requests().await.len(), 8);

    // Client errors are not retried.
    mock.fault(
        json!({"error": "AccessDeniedException", "status": 403, "message": "no", "count": 1}),
    )
    .await;
    let (status, _, _) = gateway.chat(hello()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(mock.requests().await.len(), 9);
}
