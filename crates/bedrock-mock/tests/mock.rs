//! The mock in process on `127.0.0.1:0`, driven over HTTP with requests signed by `aws-sigv4`:
//! Converse, ConverseStream frames, InvokeModel (Anthropic bodies too), its stream, CountTokens, every
//! fault kind and the control endpoints.

use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::event_stream::Message;
use bedrock_mock::{MockConfig, MockServer};
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const CLAUDE: &str = "anthropic.claude-3-haiku-20240307-v1%3A0";

type Answer = (StatusCode, HeaderMap, Bytes);

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Who signs a request, and when.
struct Signer<'a> {
    access: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    at: SystemTime,
}

impl Default for Signer<'_> {
    fn default() -> Self {
        Self {
            access: ACCESS_KEY,
            secret: SECRET_KEY,
            token: None,
            at: SystemTime::now(),
        }
    }
}

/// A POST to `url` signed with aws-sigv4 (service `bedrock`, region `us-west-2`).
fn signed(url: &str, body: &str, signer: &Signer<'_>) -> Request<Full<Bytes>> {
    let identity: Identity = Credentials::new(
        signer.access,
        signer.secret,
        signer.token.map(str::to_owned),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-west-2")
        .name("bedrock")
        .time(signer.at)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let mut request = Request::post(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap()));
    let signable =
        SignableRequest::new("POST", url, headers, SignableBody::Bytes(body.as_bytes())).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request
}

async fn send(request: Request<Full<Bytes>>) -> Answer {
    let response = tokio::time::timeout(Duration::from_secs(10), client().request(request))
        .await
        .expect("an answer within 10 s")
        .expect("the request succeeds");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("the body reads").to_bytes();
    (parts.status, parts.headers, bytes)
}

async fn post(mock: &MockServer, path: &str, body: &Value) -> Answer {
    let url = format!("{}{path}", mock.url());
    send(signed(&url, &body.to_string(), &Signer::default())).await
}

async fn converse(mock: &MockServer, body: &Value) -> (StatusCode, HeaderMap, Value) {
    let (status, headers, bytes) = post(mock, &format!("/model/{CLAUDE}/converse"), body).await;
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

async fn control(mock: &MockServer, method: Method, path: &str, body: Option<Value>) -> Value {
    let request = Request::builder()
        .method(method)
        .uri(format!("{}/__mock/{path}", mock.url()))
        .body(Full::new(Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .unwrap();
    let (status, _, bytes) = send(request).await;
    assert!(status.is_success(), "{}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap()
}

async fn fault(mock: &MockServer, fault: Value) {
    control(mock, Method::POST, "faults", Some(fault)).await;
}

fn user(text: &str) -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": text}]}]})
}

fn decode(bytes: &[u8]) -> Vec<Message> {
    let mut buffer = BytesMut::from(bytes);
    let mut decoder = MessageFrameDecoder::new();
    let mut messages = Vec::new();
    while let DecodedFrame::Complete(message) = decoder.decode_frame(&mut buffer).unwrap() {
        messages.push(message);
    }
    assert!(buffer.is_empty(), "trailing bytes after the last frame");
    messages
}

fn header<'a>(message: &'a Message, name: &str) -> &'a str {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map_or("", |s| s.as_str())
}

fn payload(message: &Message) -> Value {
    serde_json::from_slice(message.payload()).unwrap()
}

fn error_code(headers: &HeaderMap) -> &str {
    headers["x-amzn-errortype"]
        .to_str()
        .unwrap()
        .split(':')
        .next()
        .unwrap()
}

async fn start() -> MockServer {
    MockServer::start(MockConfig::default()).await.unwrap()
}

#[tokio::test]
async fn converse_echoes_and_records_the_signed_request() {
    let mock = start().await;
    let body = json!({"system": [{"text": "Be brief."}], "messages": [{"role": "user", "content": [{"text": "Hello there"}]}]});
    let (status, headers, answer) = converse(&mock, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-amzn-requestid"].len(), 36);
    assert_eq!(
        answer["output"]["message"],
        json!({"role": "assistant", "content": [{"text": "You said: Hello there"}]})
    );
    assert_eq!(answer["stopReason"], "end_turn");
    assert_eq!(
        answer["usage"],
        json!({"inputTokens": 4, "outputTokens": 4, "totalTokens": 8})
    );
    assert!(answer["metrics"]["latencyMs"].is_u64());

    let requests = control(&mock, Method::GET, "requests", None).await;
    let request = &requests[0];
    assert_eq!(request["method"], "POST");
    assert_eq!(request["path"], format!("/model/{CLAUDE}/converse"));
    assert_eq!(request["auth"], "sigv4");
    assert_eq!(
        request["credential_scope"],
        json!({"access_key": ACCESS_KEY, "date": request["credential_scope"]["date"], "region": "us-west-2", "service": "bedrock"})
    );
    assert_eq!(request["body_encoding"], "utf-8");
    assert_eq!(
        serde_json::from_str::<Value>(request["body"].as_str().unwrap()).unwrap(),
        body
    );
    assert!(
        request["headers"]["authorization"]
            .as_str()
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/")
    );
    control(&mock, Method::DELETE, "requests", None).await;
    assert_eq!(
        control(&mock, Method::GET, "requests", None).await,
        json!([])
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn converse_answers_tools_images_reasoning_and_json() {
    let mock = start().await;
    let tools = json!({"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "metric": {"type": "boolean"}, "tags": {"type": "array"}}}}}}]});
    let mut body = user("Weather in Paris?");
    body["toolConfig"] = tools.clone();
    let (_, _, answer) = converse(&mock, &body).await;
    assert_eq!(answer["stopReason"], "tool_use");
    let content = &answer["output"]["message"]["content"];
    assert_eq!(content[0], json!({"text": "Calling get_weather."}));
    let call = &content[1]["toolUse"];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(
        call["input"],
        json!({"city": "mock", "days": 1, "metric": true, "tags": []})
    );
    assert!(call["toolUseId"].as_str().unwrap().starts_with("tooluse_"));

    let mut messages = body["messages"].as_array().unwrap().clone();
    messages.push(answer["output"]["message"].clone());
    messages.push(json!({"role": "user", "content": [{"toolResult": {"toolUseId": call["toolUseId"], "content": [{"json": {"temp": 18}}]}}]}));
    let (_, _, answer) = converse(&mock, &json!({"messages": messages, "toolConfig": tools})).await;
    assert_eq!(answer["stopReason"], "end_turn");
    assert_eq!(
        answer["output"]["message"]["content"][0]["text"],
        r#"Tool results: [[{"json":{"temp":18}}]]"#
    );

    let image = json!({"messages": [{"role": "user", "content": [{"text": "Describe"},
        {"image": {"format": "png", "source": {"bytes": "iVBORw=="}}}]}],
        "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}}});
    let (_, _, answer) = converse(&mock, &image).await;
    let content = &answer["output"]["message"]["content"];
    assert_eq!(
        content[0]["reasoningContent"]["reasoningText"],
        json!({"text": "Thinking about: Describe [image/png 4 bytes]", "signature": "mock-signature"})
    );
    assert!(
        content[1]["text"]
            .as_str()
            .unwrap()
            .contains("image/png 4 bytes")
    );

    let mut structured = user("give me json");
    structured["outputConfig"] = json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": "{}", "name": "x"}}}});
    let (_, _, answer) = converse(&mock, &structured).await;
    let text = answer["output"]["message"]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        json!({"echo": "give me json"})
    );

    let mut short = user("one two three four five");
    short["inferenceConfig"] = json!({"maxTokens": 3});
    let (_, _, answer) = converse(&mock, &short).await;
    assert_eq!(answer["stopReason"], "max_tokens");
    assert_eq!(
        answer["output"]["message"]["content"][0]["text"],
        "You said: one"
    );
}

#[tokio::test]
async fn converse_validates_like_bedrock() {
    let mock = start().await;
    let cases = [
        (json!({"messages": []}), "must start with a user message"),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}]}),
            "alternate",
        ),
        (
            json!({"messages": [{"role": "wizard", "content": [{"text": "a"}]}]}),
            "enum value set",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a", "image": {}}]}]}),
            "exactly one",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a"}]}], "inferenceConfig": {"temperature": 1.5}}),
            "inferenceConfig.temperature",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a"}]}], "inferenceConfig": {"topP": -0.1}}),
            "greater than or equal to 0",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a"}]}], "inferenceConfig": {"maxTokens": 0}}),
            "maxTokens",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": [{"text": "x"}]}}]}]}),
            "toolConfig field must be defined",
        ),
        (
            json!({"modelId": "x", "messages": [{"role": "user", "content": [{"text": "a"}]}]}),
            "modelId",
        ),
    ];
    for (body, needle) in cases {
        let (status, headers, answer) = converse(&mock, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&headers), "ValidationException");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
    let url = format!("{}/model/{CLAUDE}/converse", mock.url());
    let (status, _, _) = send(signed(&url, "{\"messages\": [", &Signer::default())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, headers, bytes) =
        post(&mock, "/model/acme.nothing-v1%3A0/converse", &user("x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&headers), "ValidationException");
    assert_eq!(
        serde_json::from_slice::<Value>(&bytes).unwrap()["message"],
        "The provided model identifier is invalid."
    );
    let (status, _, bytes) = post(
        &mock,
        "/model/amazon.titan-embed-text-v2%3A0/converse",
        &user("x"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&bytes).contains("doesn't support the model"));
    let arn = "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0";
    let (status, _, _) = post(&mock, &format!("/model/{arn}/converse"), &user("x")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn authentication_failures_are_bedrock_403s() {
    let mock = start().await;
    let url = format!("{}/model/{CLAUDE}/converse", mock.url());
    let body = user("hi").to_string();
    let ten_minutes_ago = SystemTime::now() - Duration::from_secs(600);
    let cases = [
        (
            Signer {
                secret: "wrong",
                ..Signer::default()
            },
            "InvalidSignatureException",
            "The request signature we calculated does not match",
        ),
        (
            Signer {
                access: "AKIAUNKNOWNUNKNOWN00",
                ..Signer::default()
            },
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        (
            Signer {
                at: ten_minutes_ago,
                ..Signer::default()
            },
            "InvalidSignatureException",
            "is now earlier than",
        ),
        (
            Signer {
                access: "ASIAMOCKSESSIONEXAMPLE",
                secret: "mockSessionSecretKeyEXAMPLE0123456789abcd",
                ..Signer::default()
            },
            "UnrecognizedClientException",
            "is invalid",
        ),
        (
            Signer {
                access: "ASIAMOCKSESSIONEXAMPLE",
                secret: "mockSessionSecretKeyEXAMPLE0123456789abcd",
                token: Some("expired-token"),
                ..Signer::default()
            },
            "ExpiredTokenException",
            "expired",
        ),
    ];
    for (signer, code, needle) in cases {
        let (status, headers, bytes) = send(signed(&url, &body, &signer)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{code}");
        assert_eq!(error_code(&headers), code);
        assert!(
            headers["x-amzn-errortype"]
                .to_str()
                .unwrap()
                .ends_with(":http://internal.amazon.com/coral/com.amazon.coral.service/")
        );
        assert_eq!(headers["content-type"], "application/json");
        assert!(headers.contains_key("x-amzn-requestid"));
        let message = serde_json::from_slice::<Value>(&bytes).unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(needle), "{code}: {message}");
    }
    let session = Signer {
        access: "ASIAMOCKSESSIONEXAMPLE",
        secret: "mockSessionSecretKeyEXAMPLE0123456789abcd",
        token: Some("mock-session-token-EXAMPLE"),
        ..Signer::default()
    };
    let (status, _, _) = send(signed(&url, &body, &session)).await;
    assert_eq!(status, StatusCode::OK);

    let unsigned = |authorization: Option<&str>| {
        let mut builder = Request::post(&url).header("content-type", "application/json");
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        builder.body(Full::new(Bytes::from(body.clone()))).unwrap()
    };
    let (status, headers, _) = send(unsigned(None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&headers), "MissingAuthenticationTokenException");
    let (status, _, _) = send(unsigned(Some("Bearer bedrock-api-key-EXAMPLE"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(unsigned(Some("Bearer not-a-key"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let requests = control(&mock, Method::GET, "requests", None).await;
    let bearer = requests
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["auth"] == "bearer")
        .expect("the bearer request is recorded");
    assert_eq!(bearer["credential_scope"], Value::Null);

    let open = MockServer::start(MockConfig {
        verify: false,
        record: false,
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let url = format!("{}/model/{CLAUDE}/converse", open.url());
    let request = Request::post(&url)
        .body(Full::new(Bytes::from(body.clone())))
        .unwrap();
    let (status, _, _) = send(request).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "--no-verify accepts unsigned requests"
    );
    assert_eq!(
        control(&open, Method::GET, "requests", None).await,
        json!([])
    );
}

#[tokio::test]
async fn converse_stream_sends_real_event_stream_frames() {
    let mock = start().await;
    let mut body = user("one two three");
    body["additionalModelRequestFields"] = json!({"thinking": {"type": "enabled"}});
    let (status, headers, bytes) =
        post(&mock, &format!("/model/{CLAUDE}/converse-stream"), &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/vnd.amazon.eventstream"
    );
    let messages = decode(&bytes);
    let kinds: Vec<&str> = messages.iter().map(|m| header(m, ":event-type")).collect();
    assert_eq!(kinds.first(), Some(&"messageStart"));
    assert_eq!(&kinds[kinds.len() - 2..], ["messageStop", "metadata"]);
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut paddings = std::collections::HashSet::new();
    for message in &messages {
        assert_eq!(header(message, ":message-type"), "event");
        assert_eq!(header(message, ":content-type"), "application/json");
        let payload = payload(message);
        paddings.insert(payload["p"].as_str().unwrap().len());
        if let Some(t) = payload.pointer("/delta/text").and_then(Value::as_str) {
            assert_eq!(payload["contentBlockIndex"], 1);
            text.push_str(t);
        }
        if let Some(t) = payload
            .pointer("/delta/reasoningContent/text")
            .and_then(Value::as_str)
        {
            reasoning.push_str(t);
        }
    }
    assert_eq!(text, "You said: one two three");
    assert_eq!(reasoning, "Thinking about: one two three");
    assert!(paddings.len() > 3, "the padding varies: {paddings:?}");
    let words = messages
        .iter()
        .filter(|m| payload(m).pointer("/delta/text").is_some())
        .count();
    assert_eq!(words, 5, "one text delta per word");
    let metadata = payload(messages.last().unwrap());
    assert_eq!(metadata["usage"]["outputTokens"], 10);

    let mut tools = user("weather?");
    tools["toolConfig"] = json!({"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"properties": {"city": {"type": "string"}}}}}}]});
    let (_, _, bytes) = post(&mock, &format!("/model/{CLAUDE}/converse-stream"), &tools).await;
    let messages = decode(&bytes);
    let start = messages
        .iter()
        .find(|m| header(m, ":event-type") == "contentBlockStart")
        .map(payload)
        .unwrap();
    assert_eq!(start["start"]["toolUse"]["name"], "get_weather");
    let fragments: Vec<String> = messages
        .iter()
        .filter_map(|m| {
            payload(m)
                .pointer("/delta/toolUse/input")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    assert!(fragments.len() >= 2);
    assert_eq!(
        serde_json::from_str::<Value>(&fragments.concat()).unwrap(),
        json!({"city": "mock"})
    );
    assert_eq!(
        payload(&messages[messages.len() - 2])["stopReason"],
        "tool_use"
    );
    let stats = control(&mock, Method::GET, "stats", None).await;
    assert_eq!(stats["streams_started"], 2);
    assert_eq!(stats["streams_completed"], 2);
    assert_eq!(stats["in_flight"], 0);
}

#[tokio::test]
async fn bedrock_errors_from_the_queue_and_from_directives() {
    let mock = start().await;
    let cases = [
        ("ThrottlingException", 429),
        ("AccessDeniedException", 403),
        ("ResourceNotFoundException", 404),
        ("ValidationException", 400),
        ("ModelTimeoutException", 408),
        ("InternalServerException", 500),
        ("ServiceUnavailableException", 503),
        ("ModelNotReadyException", 429),
        ("ModelErrorException", 424),
        ("ServiceQuotaExceededException", 400),
    ];
    for (code, want) in cases {
        fault(
            &mock,
            json!({"error": code, "message": format!("injected {code}")}),
        )
        .await;
        let (status, headers, answer) = converse(&mock, &user("x")).await;
        assert_eq!(status.as_u16(), want, "{code}");
        assert_eq!(error_code(&headers), code);
        assert_eq!(answer["message"], format!("injected {code}"));
        let (status, headers, _) =
            converse(&mock, &user(&format!("hello [mock:error={code}]"))).await;
        assert_eq!((status.as_u16(), error_code(&headers)), (want, code));
    }
    fault(
        &mock,
        json!({"error": "ThrottlingException", "status": 429, "message": "slow", "count": 2, "retry_after": 3}),
    )
    .await;
    for _ in 0..2 {
        let (status, headers, _) = converse(&mock, &user("x")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers["retry-after"], "3");
    }
    assert_eq!(converse(&mock, &user("x")).await.0, StatusCode::OK);
    // A directive in an earlier turn no longer applies.
    let history = json!({"messages": [
        {"role": "user", "content": [{"text": "[mock:error=ThrottlingException]"}]},
        {"role": "assistant", "content": [{"text": "ok"}]},
        {"role": "user", "content": [{"text": "again"}]}]});
    assert_eq!(converse(&mock, &history).await.0, StatusCode::OK);
    // Clearing the queue.
    fault(&mock, json!({"error": "ThrottlingException", "count": 5})).await;
    control(&mock, Method::DELETE, "faults", None).await;
    assert_eq!(converse(&mock, &user("x")).await.0, StatusCode::OK);
    // Faults apply to any operation.
    fault(&mock, json!({"error": "ServiceUnavailableException"})).await;
    let (status, _, _) = post(
        &mock,
        "/model/amazon.titan-embed-text-v1/invoke",
        &json!({"inputText": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn delays_and_dropped_connections() {
    let mock = start().await;
    fault(&mock, json!({"delay_ms": 300})).await;
    let started = Instant::now();
    assert_eq!(converse(&mock, &user("x")).await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(
        converse(&mock, &user("x [mock:delay_ms=200]")).await.0,
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(200));

    fault(&mock, json!({"drop_connection": true})).await;
    let url = format!("{}/model/{CLAUDE}/converse", mock.url());
    let request = signed(&url, &user("x").to_string(), &Signer::default());
    assert!(
        client().request(request).await.is_err(),
        "the connection closes without an answer"
    );
    assert_eq!(converse(&mock, &user("x")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn padded_and_truncated_answers() {
    let mock = start().await;
    let (status, headers, plain) =
        post(&mock, &format!("/model/{CLAUDE}/converse"), &user("x")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, padded) = post(
        &mock,
        &format!("/model/{CLAUDE}/converse"),
        &user("x [mock:pad_answer=5000]"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(padded.len(), plain.len() + 5000);
    let value: Value = serde_json::from_slice(&padded).expect("padding keeps the JSON valid");
    assert_eq!(value["stopReason"], "end_turn");
    assert!(headers.get("content-type").is_some());

    // Half of the announced length, then the connection closes: the body cannot be read.
    fault(&mock, json!({"truncate_body": true})).await;
    let url = format!("{}/model/{CLAUDE}/converse", mock.url());
    let request = signed(&url, &user("x").to_string(), &Signer::default());
    let response = client().request(request).await.expect("the headers arrive");
    assert_eq!(response.status(), StatusCode::OK);
    let announced: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(announced, plain.len());
    assert!(
        response.into_body().collect().await.is_err(),
        "the answer is cut short"
    );
    // Streams are left alone.
    let events = stream(&mock, "x [mock:truncate_body,pad_answer=10]").await;
    assert!(!events.is_empty());
}

async fn stream(mock: &MockServer, text: &str) -> Vec<Message> {
    let (status, _, bytes) = post(
        mock,
        &format!("/model/{CLAUDE}/converse-stream"),
        &user(text),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    decode(&bytes)
}

#[tokio::test]
async fn stream_exceptions_cuts_and_pacing() {
    let mock = start().await;
    for kind in [
        "throttlingException",
        "modelStreamErrorException",
        "internalServerException",
        "validationException",
        "serviceUnavailableException",
    ] {
        fault(&mock, json!({"stream_exception": kind, "after_events": 3})).await;
        let messages = stream(&mock, "a b c d e").await;
        assert_eq!(messages.len(), 4, "{kind}");
        let last = messages.last().unwrap();
        assert_eq!(header(last, ":message-type"), "exception");
        assert_eq!(header(last, ":exception-type"), kind);
        let payload = payload(last);
        assert!(payload["message"].is_string());
        if kind == "modelStreamErrorException" {
            assert!(payload["originalStatusCode"].is_u64());
            assert!(payload["originalMessage"].is_string());
        }
    }
    let messages = stream(
        &mock,
        "a b [mock:stream_exception=throttlingException,after=0]",
    )
    .await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        header(&messages[0], ":exception-type"),
        "throttlingException"
    );

    fault(&mock, json!({"stream_cut_after_events": 2})).await;
    let url = format!("{}/model/{CLAUDE}/converse-stream", mock.url());
    let response = client()
        .request(signed(
            &url,
            &user("a b c d").to_string(),
            &Signer::default(),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.into_body().collect().await.is_err(),
        "a cut stream ends with a broken body"
    );

    fault(&mock, json!({"stream_event_delay_ms": 40})).await;
    let started = Instant::now();
    let messages = stream(&mock, "one two").await;
    let pauses = u32::try_from(messages.len() - 1).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(40) * pauses);

    let messages = stream(&mock, "x [mock:stream_events=50]").await;
    let deltas = messages
        .iter()
        .filter(|m| header(m, ":event-type") == "contentBlockDelta")
        .count();
    assert_eq!(deltas, 50);
}

#[tokio::test]
async fn a_client_that_goes_away_is_counted() {
    let mock = start().await;
    fault(&mock, json!({"stream_event_delay_ms": 50})).await;
    let url = format!("{}/model/{CLAUDE}/converse-stream", mock.url());
    let response = client()
        .request(signed(
            &url,
            &user(&"word ".repeat(50)).to_string(),
            &Signer::default(),
        ))
        .await
        .unwrap();
    let mut body = response.into_body();
    body.frame().await.unwrap().unwrap();
    drop(body);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stats = control(&mock, Method::GET, "stats", None).await;
        if stats["streams_cancelled"] == 1 {
            assert_eq!(stats["streams_completed"], 0);
            assert_eq!(stats["in_flight"], 0);
            assert_eq!(stats["requests"], 1);
            break;
        }
        assert!(Instant::now() < deadline, "never counted: {stats}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn invoke_model_embeddings_and_titan_text() {
    let mock = start().await;
    let (status, headers, bytes) = post(
        &mock,
        "/model/amazon.titan-embed-text-v1/invoke",
        &json!({"inputText": "hello world"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let v1: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v1["embedding"].as_array().unwrap().len(), 1536);
    assert_eq!(v1["inputTextTokenCount"], 2);
    assert_eq!(headers["x-amzn-bedrock-input-token-count"], "2");
    assert!(headers.contains_key("x-amzn-bedrock-output-token-count"));
    assert!(headers.contains_key("x-amzn-bedrock-invocation-latency"));

    let titan_v2 = "/model/amazon.titan-embed-text-v2%3A0/invoke";
    let body = json!({"inputText": "hello world", "dimensions": 256, "normalize": true});
    let (_, _, first) = post(&mock, titan_v2, &body).await;
    let (_, _, second) = post(&mock, titan_v2, &body).await;
    assert_eq!(first, second, "vectors are deterministic");
    let v2: Value = serde_json::from_slice(&first).unwrap();
    let vector: Vec<f64> = v2["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(vector.len(), 256);
    assert!((vector.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-3);
    assert_eq!(v2["embeddingsByType"]["float"], v2["embedding"]);
    let (_, _, default) = post(&mock, titan_v2, &json!({"inputText": "x"})).await;
    let default: Value = serde_json::from_slice(&default).unwrap();
    assert_eq!(default["embedding"].as_array().unwrap().len(), 1024);

    let cohere = "/model/cohere.embed-english-v3/invoke";
    let (status, _, bytes) = post(
        &mock,
        cohere,
        &json!({"texts": ["a", "b c"], "input_type": "search_query"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer["response_type"], "embeddings_floats");
    assert_eq!(answer["texts"], json!(["a", "b c"]));
    assert_eq!(answer["embeddings"][1].as_array().unwrap().len(), 1024);
    let (_, _, bytes) = post(
        &mock,
        cohere,
        &json!({"texts": ["a"], "input_type": "clustering", "embedding_types": ["float"]}),
    )
    .await;
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer["response_type"], "embeddings_by_type");
    assert_eq!(
        answer["embeddings"]["float"][0].as_array().unwrap().len(),
        1024
    );

    for (path, body) in [
        (titan_v2, json!({"inputText": "x", "dimensions": 100})),
        (titan_v2, json!({"text": "x"})),
        (cohere, json!({"texts": ["a"]})),
        (
            cohere,
            json!({"texts": vec!["a"; 97], "input_type": "clustering"}),
        ),
    ] {
        let (status, headers, _) = post(&mock, path, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&headers), "ValidationException");
    }
    let (status, _, bytes) = post(
        &mock,
        "/model/amazon.titan-text-express-v1/invoke",
        &json!({"inputText": "hi there", "textGenerationConfig": {"maxTokenCount": 10}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer["inputTextTokenCount"], 2);
    assert_eq!(answer["results"][0]["completionReason"], "FINISH");

    // InvokeModel insists on a JSON content type.
    let request = Request::post(format!(
        "{}/model/amazon.titan-embed-text-v1/invoke",
        mock.url()
    ))
    .header("content-type", "text/plain")
    .header("authorization", "Bearer bedrock-api-key-EXAMPLE")
    .body(Full::new(Bytes::from_static(br#"{"inputText":"x"}"#)))
    .unwrap();
    let (status, headers, bytes) = send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&headers), "ValidationException");
    assert!(String::from_utf8_lossy(&bytes).contains("Content-Type"));
}

#[tokio::test]
async fn control_endpoints_reject_nonsense_and_count() {
    let mock = start().await;
    let bad = Request::post(format!("{}/__mock/faults", mock.url()))
        .body(Full::new(Bytes::from_static(b"{\"eror\":\"x\"}")))
        .unwrap();
    assert_eq!(send(bad).await.0, StatusCode::BAD_REQUEST);
    let bad = Request::post(format!("{}/__mock/faults", mock.url()))
        .body(Full::new(Bytes::from_static(
            b"{\"stream_exception\":\"nope\"}",
        )))
        .unwrap();
    assert_eq!(send(bad).await.0, StatusCode::BAD_REQUEST);
    let unknown = Request::get(format!("{}/__mock/nothing", mock.url()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send(unknown).await.0, StatusCode::NOT_FOUND);
    converse(&mock, &user("x")).await;
    let (status, headers, _) = post(&mock, "/nothing/here", &user("x")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&headers), "UnknownOperationException");
    let stats = control(&mock, Method::GET, "stats", None).await;
    assert_eq!(
        stats,
        json!({"requests": 2, "streams_started": 0, "streams_completed": 0, "streams_cancelled": 0, "in_flight": 0})
    );
    let addr = mock.addr();
    mock.shutdown().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn fixed_answers_ignore_the_conversation_but_keep_directives() {
    let mock = MockServer::start(MockConfig {
        verify: false,
        record: false,
        fixed_answers: true,
        stream_events: 5,
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let converse = format!("/model/{CLAUDE}/converse");
    let (status, _, first) = post(&mock, &converse, &user("one question")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, second) = post(&mock, &converse, &user("another question entirely")).await;
    assert_eq!(first, second, "the same answer whatever was asked");
    let answer: Value = serde_json::from_slice(&first).unwrap();
    let text = answer["output"]["message"]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert_eq!(text.split_whitespace().count(), 200);
    assert_eq!(answer["stopReason"], "end_turn");

    let stream = format!("/model/{CLAUDE}/converse-stream");
    let (status, _, bytes) = post(&mock, &stream, &user("anything")).await;
    assert_eq!(status, StatusCode::OK);
    let deltas = decode(&bytes)
        .iter()
        .filter(|m| {
            m.headers().iter().any(|h| {
                h.value()
                    .as_string()
                    .is_ok_and(|v| v.as_str() == "contentBlockDelta")
            })
        })
        .count();
    assert_eq!(deltas, 5, "--stream-events deltas");

    let (status, _, _) = post(&mock, &converse, &user("[mock:error=ThrottlingException]")).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "directives still apply"
    );
}

const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1%3A0";

#[tokio::test]
async fn fixed_answers_cover_claude_invoke_model_and_its_stream() {
    let mock = MockServer::start(MockConfig {
        verify: false,
        record: false,
        fixed_answers: true,
        stream_events: 5,
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let (status, headers, first) = invoke(&mock, CLAUDE, &anthropic(json!("one question"))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, second) = invoke(&mock, CLAUDE, &anthropic(json!("another question"))).await;
    assert_eq!(first, second, "the same answer whatever was asked");
    assert_eq!(first["type"], "message");
    assert_eq!(first["model"], "claude-3-haiku-20240307");
    assert_eq!(first["stop_reason"], "end_turn");
    let text = first["content"][0]["text"].as_str().unwrap();
    assert_eq!(text.split_whitespace().count(), 200);
    assert_eq!(first["usage"]["output_tokens"], 200);
    assert_eq!(headers["x-amzn-bedrock-output-token-count"], "200");
    // Another Claude model: its own name in the Message.
    let (_, _, sonnet) = invoke(&mock, SONNET, &anthropic(json!("hi"))).await;
    assert_eq!(sonnet["model"], "claude-sonnet-4-5-20250929");

    let path = format!("/model/{CLAUDE}/invoke-with-response-stream");
    let (status, headers, bytes) = post(&mock, &path, &anthropic(json!("anything"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/vnd.amazon.eventstream"
    );
    assert_eq!(headers["x-amzn-bedrock-content-type"], "application/json");
    let events = chunk_events(&decode(&bytes));
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"message_start"));
    assert_eq!(types.last(), Some(&"message_stop"));
    let deltas: String = events
        .iter()
        .filter(|e| e["type"] == "content_block_delta")
        .map(|e| e["delta"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "w0 w1 w2 w3 w4 ", "--stream-events text deltas");
    let (_, _, again) = post(&mock, &path, &anthropic(json!("something else"))).await;
    assert_eq!(bytes, again, "the same frames every time");

    // Directives still get the full treatment; other models are not fixed.
    let (status, _, _) = post(
        &mock,
        &format!("/model/{CLAUDE}/invoke"),
        &anthropic(json!("[mock:error=ThrottlingException]")),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let titan = "/model/amazon.titan-embed-text-v2%3A0/invoke";
    let (status, _, bytes) = post(&mock, titan, &json!({"inputText": "hello"})).await;
    assert_eq!(status, StatusCode::OK);
    let embedding: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(embedding["embedding"].is_array());
    let stats = control(&mock, Method::GET, "stats", None).await;
    assert_eq!(stats["streams_completed"], 2);
}

fn anthropic(content: Value) -> Value {
    json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 200,
        "messages": [{"role": "user", "content": content}]})
}

async fn invoke(mock: &MockServer, model: &str, body: &Value) -> (StatusCode, HeaderMap, Value) {
    let (status, headers, bytes) = post(mock, &format!("/model/{model}/invoke"), body).await;
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

async fn count_tokens(mock: &MockServer, model: &str, input: Value) -> (StatusCode, Value) {
    let body = json!({ "input": input });
    let (status, _, bytes) = post(mock, &format!("/model/{model}/count-tokens"), &body).await;
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn invoke_model_input(body: &Value) -> Value {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(body.to_string());
    json!({"invokeModel": {"body": encoded}})
}

/// The Anthropic events inside an InvokeModelWithResponseStream body's `chunk` frames.
fn chunk_events(messages: &[Message]) -> Vec<Value> {
    use base64::Engine as _;
    messages
        .iter()
        .filter(|m| header(m, ":event-type") == "chunk")
        .map(|m| {
            let bytes = payload(m)["bytes"].as_str().unwrap().to_owned();
            let json = base64::engine::general_purpose::STANDARD
                .decode(bytes)
                .unwrap();
            serde_json::from_slice(&json).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn invoke_model_answers_anthropic_messages_and_records_them() {
    let mock = start().await;
    let mut body = anthropic(json!("hello claude"));
    body["anthropic_beta"] = json!(["context-1m-2025-08-07"]);
    let (status, headers, message) = invoke(&mock, SONNET, &body).await;
    assert_eq!(status, StatusCode::OK, "{message}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "You said: hello claude"}])
    );
    assert_eq!(
        (&message["type"], &message["role"], &message["model"]),
        (
            &json!("message"),
            &json!("assistant"),
            &json!("claude-sonnet-4-5-20250929")
        )
    );
    assert!(message["id"].as_str().unwrap().starts_with("msg_bdrk_"));
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(message["usage"]["input_tokens"], 2);
    assert_eq!(headers["x-amzn-bedrock-input-token-count"], "2");
    assert_eq!(
        headers["x-amzn-bedrock-output-token-count"]
            .to_str()
            .unwrap(),
        message["usage"]["output_tokens"].to_string()
    );
    assert!(headers.contains_key("x-amzn-bedrock-invocation-latency"));

    // An inference profile, with the `:` raw in the path as Anthropic's SDK sends it.
    let url = format!(
        "{}/model/global.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke",
        mock.url()
    );
    let mut request = signed(&url, &body.to_string(), &Signer::default());
    request
        .headers_mut()
        .insert("anthropic-beta", "context-1m-2025-08-07".parse().unwrap());
    let (status, _, bytes) = send(request).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let recorded = control(&mock, Method::GET, "requests", None).await;
    let last = recorded.as_array().unwrap().last().unwrap();
    assert_eq!(
        last["path"],
        "/model/global.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke"
    );
    assert_eq!(last["auth"], "sigv4");
    assert_eq!(last["headers"]["anthropic-beta"], "context-1m-2025-08-07");
    let sent: Value = serde_json::from_str(last["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["anthropic_beta"], json!(["context-1m-2025-08-07"]));

    let mut bad_signature = signed(&url, &body.to_string(), &Signer::default());
    *bad_signature.body_mut() = Full::new(Bytes::from(anthropic(json!("changed")).to_string()));
    let (status, headers, _) = send(bad_signature).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&headers), "InvalidSignatureException");
}

#[tokio::test]
async fn invoke_model_validates_anthropic_bodies_like_bedrock() {
    let mock = start().await;
    let ok = anthropic(json!("hi"));
    for (key, value, needle) in [
        (
            "model",
            json!("claude-sonnet-4-5"),
            "extraneous key [model] is not permitted",
        ),
        (
            "stream",
            json!(true),
            "extraneous key [stream] is not permitted",
        ),
        (
            "anthropic_version",
            json!("2023-06-01"),
            "bedrock-2023-05-31",
        ),
        ("max_tokens", json!(0), "max_tokens"),
        ("anthropic_beta", json!("context-1m"), "anthropic_beta"),
        ("messages", json!("hi"), "messages"),
    ] {
        let mut bad = ok.clone();
        bad[key] = value;
        for operation in ["invoke", "invoke-with-response-stream"] {
            let (status, headers, bytes) =
                post(&mock, &format!("/model/{SONNET}/{operation}"), &bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(error_code(&headers), "ValidationException");
            let message: Value = serde_json::from_slice(&bytes).unwrap();
            let message = message["message"].as_str().unwrap();
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }
    let mut missing = ok.clone();
    missing.as_object_mut().unwrap().remove("max_tokens");
    let (status, _, answer) = invoke(&mock, SONNET, &missing).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["message"].as_str().unwrap().contains("[max_tokens]"));
    let (status, headers, _) = invoke(
        &mock,
        SONNET,
        &anthropic(json!("x [mock:error=ThrottlingException]")),
    )
    .await;
    assert_eq!(
        (status, error_code(&headers)),
        (StatusCode::TOO_MANY_REQUESTS, "ThrottlingException")
    );
}

#[tokio::test]
async fn invoke_model_thinking_signatures_round_trip() {
    let mock = start().await;
    let mut body = anthropic(json!([{"type": "text", "text": "why is the sky blue"}]));
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let (status, _, message) = invoke(&mock, SONNET, &body).await;
    assert_eq!(status, StatusCode::OK, "{message}");
    let thinking = message["content"][0].clone();
    assert_eq!(thinking["type"], "thinking");
    assert_eq!(thinking["thinking"], "Thinking about: why is the sky blue");
    assert!(!thinking["signature"].as_str().unwrap().is_empty());
    let text = message["content"][1].clone();
    let next = |block: &Value| {
        let mut next = body.clone();
        next["messages"] = json!([body["messages"][0],
            {"role": "assistant", "content": [block, text]},
            {"role": "user", "content": "go on"}]);
        next
    };
    let (status, _, answer) = invoke(&mock, SONNET, &next(&thinking)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["content"][1]["text"], "You said: go on");
    let mut forged = thinking.clone();
    forged["signature"] = json!(format!("{}x", thinking["signature"].as_str().unwrap()));
    let (status, headers, answer) = invoke(&mock, SONNET, &next(&forged)).await;
    assert_eq!(
        (status, error_code(&headers)),
        (StatusCode::BAD_REQUEST, "ValidationException")
    );
    assert_eq!(
        answer["message"],
        "messages.1.content.0: Invalid `signature` in `thinking` block"
    );
}

#[tokio::test]
async fn invoke_model_caches_prefixes_and_count_tokens_agrees() {
    let mock = start().await;
    let marker = fastrand::u64(..).to_string();
    let mut body = anthropic(json!([
        {"type": "text", "text": format!("a long shared document {marker}"), "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "question one"}]));
    body["system"] = json!("be brief");
    let (_, first_headers, first) = invoke(&mock, SONNET, &body).await;
    assert_eq!(
        first["usage"],
        json!({"input_tokens": 2, "output_tokens": first["usage"]["output_tokens"],
            "cache_creation_input_tokens": 7, "cache_read_input_tokens": 0})
    );
    assert_eq!(
        first_headers["x-amzn-bedrock-cache-write-input-token-count"],
        "7"
    );
    let (_, headers, second) = invoke(&mock, SONNET, &body).await;
    assert_eq!(second["usage"]["cache_creation_input_tokens"], 0);
    assert_eq!(second["usage"]["cache_read_input_tokens"], 7);
    assert_eq!(headers["x-amzn-bedrock-cache-read-input-token-count"], "7");
    let (status, count) = count_tokens(&mock, SONNET, invoke_model_input(&body)).await;
    assert_eq!(status, StatusCode::OK, "{count}");
    assert_eq!(
        count["inputTokens"], 9,
        "input + cache creation + cache read"
    );

    let converse = json!({"system": [{"text": "be brief"}, {"cachePoint": {"type": "default"}}],
        "messages": [{"role": "user", "content": [{"text": "one two three"}]}]});
    let (_, _, answer) = post(&mock, &format!("/model/{SONNET}/converse"), &converse).await;
    let usage = serde_json::from_slice::<Value>(&answer).unwrap()["usage"].clone();
    let (status, count) = count_tokens(&mock, SONNET, json!({ "converse": converse })).await;
    assert_eq!(status, StatusCode::OK, "{count}");
    assert_eq!(
        count["inputTokens"].as_u64(),
        Some(usage["totalTokens"].as_u64().unwrap() - usage["outputTokens"].as_u64().unwrap())
    );
    assert_eq!(count["inputTokens"], 5);
}

#[tokio::test]
async fn count_tokens_validates_its_input_and_model() {
    let mock = start().await;
    let messages = json!([{"role": "user", "content": [{"text": "hi"}]}]);
    let anthropic_body = anthropic(json!("hi"));
    let mut no_max_tokens = anthropic_body.clone();
    no_max_tokens.as_object_mut().unwrap().remove("max_tokens");
    let (status, count) = count_tokens(
        &mock,
        "amazon.nova-pro-v1%3A0",
        json!({"converse": {"messages": messages}}),
    )
    .await;
    assert_eq!((status, count), (StatusCode::OK, json!({"inputTokens": 1})));
    for (model, input, needle) in [
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0",
            json!({"converse": {"messages": messages}}),
            "not an inference profile",
        ),
        (SONNET, json!({}), "exactly one member"),
        (
            SONNET,
            json!({"converse": {"messages": messages}, "invokeModel": {"body": "e30="}}),
            "exactly one member",
        ),
        (
            SONNET,
            json!({"converse": {"messages": messages, "inferenceConfig": {"maxTokens": 5}}}),
            "extraneous key [input.converse.inferenceConfig]",
        ),
        (
            SONNET,
            json!({"converse": {"messages": []}}),
            "must start with a user message",
        ),
        (
            SONNET,
            json!({"invokeModel": {"body": "not base64!"}}),
            "base64",
        ),
        (SONNET, invoke_model_input(&no_max_tokens), "[max_tokens]"),
        (
            "amazon.nova-pro-v1%3A0",
            invoke_model_input(&anthropic_body),
            "InvokeModel bodies",
        ),
        (
            "amazon.titan-embed-text-v2%3A0",
            json!({"converse": {"messages": messages}}),
            "doesn't support counting",
        ),
    ] {
        let (status, answer) = count_tokens(&mock, model, input.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{model} {input}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
}

#[tokio::test]
async fn invoke_model_streams_anthropic_events_in_chunks() {
    let mock = start().await;
    let mut body = anthropic(json!("weather in paris"));
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    body["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let path = format!("/model/{SONNET}/invoke-with-response-stream");
    let (status, headers, bytes) = post(&mock, &path, &body).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(
        headers["content-type"],
        "application/vnd.amazon.eventstream"
    );
    assert_eq!(headers["x-amzn-bedrock-content-type"], "application/json");
    let messages = decode(&bytes);
    assert!(
        messages
            .iter()
            .all(|m| header(m, ":event-type") == "chunk" && header(m, ":message-type") == "event")
    );
    let events = chunk_events(&messages);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[0], "message_start");
    assert_eq!(&types[types.len() - 2..], ["message_delta", "message_stop"]);
    let start = &events[0]["message"];
    assert_eq!(
        (
            start["model"].as_str(),
            start["usage"]["output_tokens"].as_u64()
        ),
        (Some("claude-sonnet-4-5-20250929"), Some(1))
    );
    assert_eq!(start["usage"]["input_tokens"], 3);
    let blocks: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "content_block_start")
        .map(|e| e["content_block"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(blocks, ["thinking", "text", "tool_use"]);
    let joined = |kind: &str, field: &str| -> String {
        events
            .iter()
            .filter(|e| e["delta"]["type"] == kind)
            .map(|e| e["delta"][field].as_str().unwrap())
            .collect()
    };
    assert_eq!(
        joined("thinking_delta", "thinking"),
        "Thinking about: weather in paris"
    );
    assert!(!joined("signature_delta", "signature").is_empty());
    assert_eq!(joined("text_delta", "text"), "Calling get_weather.");
    assert_eq!(
        serde_json::from_str::<Value>(&joined("input_json_delta", "partial_json")).unwrap(),
        json!({"city": "mock"})
    );
    let delta = &events[events.len() - 2];
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    let metrics = &events[events.len() - 1]["amazon-bedrock-invocationMetrics"];
    assert_eq!(metrics["inputTokenCount"], 3);
    assert_eq!(metrics["outputTokenCount"], delta["usage"]["output_tokens"]);
    assert!(metrics["invocationLatency"].is_u64() && metrics["firstByteLatency"].is_u64());

    let titan = "/model/amazon.titan-embed-text-v2%3A0/invoke-with-response-stream";
    let (status, headers, _) = post(&mock, titan, &json!({"inputText": "x"})).await;
    assert_eq!(
        (status, error_code(&headers)),
        (StatusCode::BAD_REQUEST, "ValidationException")
    );

    // Same answer, not streamed.
    let (_, _, message) = invoke(&mock, SONNET, &body).await;
    assert_eq!(message["content"][2]["input"], json!({"city": "mock"}));
    assert_eq!(
        message["usage"]["output_tokens"],
        delta["usage"]["output_tokens"]
    );

    let broken = anthropic(json!(
        "hi [mock:stream_exception=throttlingException,after=2]"
    ));
    let (status, _, bytes) = post(&mock, &path, &broken).await;
    assert_eq!(status, StatusCode::OK);
    let messages = decode(&bytes);
    assert_eq!(messages.len(), 3);
    assert_eq!(chunk_events(&messages).len(), 2);
    let last = messages.last().unwrap();
    assert_eq!(
        (
            header(last, ":message-type"),
            header(last, ":exception-type")
        ),
        ("exception", "throttlingException")
    );
}
