//! End to end: Anthropic's Messages API (`/v1/messages`, `/v1/messages/count_tokens`) through
//! the real gateway binary against the mock: models other than Claude through Converse and
//! ConverseStream, Claude through InvokeModel and InvokeModelWithResponseStream (Anthropic's
//! own body, which the mock validates as Bedrock does), `count_tokens` through CountTokens.

use base64::Engine as _;
use e2e_tests::{Gateway, Mock, credential_headers, send};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const KEY: &str = "gateway-key-0123456789";

fn keyed() -> Vec<(&'static str, &'static str)> {
    let mut headers = credential_headers();
    headers.push(("x-api-key", KEY));
    headers.push(("anthropic-version", "2023-06-01"));
    headers
}

fn start(mock: &Mock, args: &[&str]) -> Gateway {
    Gateway::start(mock, &[("BEDROCK_GATEWAY_API_KEYS", KEY)], args)
}

async fn post(
    gateway: &Gateway,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let url = format!("{}{path}", gateway.url());
    let (status, headers, bytes) = send(Method::POST, &url, headers, Some(body.to_string())).await;
    (status, headers, bytes.to_vec())
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(bytes)))
}

/// `(event name, data)` of each server-sent event; every event must be named.
fn events(body: &[u8]) -> Vec<(String, Value)> {
    std::str::from_utf8(body)
        .unwrap()
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|event| {
            let (name, data) = event
                .strip_prefix("event: ")
                .and_then(|rest| rest.split_once("\ndata: "))
                .unwrap_or_else(|| panic!("not a named event: {event:?}"));
            let data: Value = serde_json::from_str(data).unwrap();
            assert_eq!(data["type"], name, "the event name is the data's type");
            (name.to_owned(), data)
        })
        .collect()
}

fn nova(text: &str) -> Value {
    json!({"model": "amazon.nova-lite-v1:0", "max_tokens": 100,
           "system": "Be brief.",
           "messages": [{"role": "user", "content": text}]})
}

fn assert_anthropic_error(status: StatusCode, body: &[u8], want: u16, kind: &str) {
    let body = json_of(body);
    assert_eq!(status.as_u16(), want, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn a_non_claude_model_answers_through_converse() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let (status, headers, body) = post(
        &gateway,
        "/v1/messages?beta=true",
        &keyed(),
        &nova("Hello there"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "application/json");
    let message = json_of(&body);
    assert_eq!(message["type"], "message");
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["model"], "amazon.nova-lite-v1:0");
    assert!(message["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "You said: Hello there"}])
    );
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(message["stop_sequence"], Value::Null);
    assert!(message["usage"]["input_tokens"].as_u64().unwrap() > 0);
    assert!(message["usage"]["output_tokens"].as_u64().unwrap() > 0);

    let requests = mock.requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0]["path"],
        "/model/amazon.nova-lite-v1%3A0/converse"
    );
    let sent: Value = serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({"messages": [{"role": "user", "content": [{"text": "Hello there"}]}],
               "system": [{"text": "Be brief."}],
               "inferenceConfig": {"maxTokens": 100}})
    );
}

#[tokio::test]
async fn a_stream_has_named_events_dense_indexes_and_usage_at_the_end() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let mut request = nova("What is the weather in Paris?");
    request["stream"] = json!(true);
    request["tools"] = json!([{"name": "get_weather", "description": "Weather by city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let (status, headers, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "text/event-stream");
    let events = events(&body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(&names[..2], ["message_start", "ping"]);
    assert_eq!(&names[names.len() - 2..], ["message_delta", "message_stop"]);
    assert_eq!(events[0].1["message"]["model"], "amazon.nova-lite-v1:0");

    // Blocks: started in index order from 0, deltas and stops on open blocks only.
    let mut started = 0;
    let mut text = String::new();
    let mut json_input = String::new();
    for (name, data) in &events {
        match name.as_str() {
            "content_block_start" => {
                assert_eq!(data["index"], started);
                started += 1;
            }
            "content_block_delta" => {
                assert!(data["index"].as_u64().unwrap() < started);
                match data["delta"]["type"].as_str().unwrap() {
                    "text_delta" => text.push_str(data["delta"]["text"].as_str().unwrap()),
                    "input_json_delta" => {
                        json_input.push_str(data["delta"]["partial_json"].as_str().unwrap())
                    }
                    other => panic!("unexpected delta {other}"),
                }
            }
            _ => {}
        }
    }
    assert_eq!(started, 2, "a text block and a tool_use block");
    assert_eq!(text, "Calling get_weather.");
    let input: Value = serde_json::from_str(&json_input).unwrap();
    assert!(input.get("city").is_some(), "{input}");
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert!(delta["usage"]["input_tokens"].as_u64().unwrap() > 0);
    assert!(delta["usage"]["output_tokens"].as_u64().unwrap() > 0);

    let requests = mock.requests().await;
    assert_eq!(
        requests[0]["path"],
        "/model/amazon.nova-lite-v1%3A0/converse-stream"
    );
}

#[tokio::test]
async fn a_tool_round_trip_sends_the_result_back() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let request = json!({"model": "amazon.nova-lite-v1:0", "max_tokens": 100,
    "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "18C"}]}
    ]});
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let message = json_of(&body);
    assert_eq!(message["stop_reason"], "end_turn");
    let text = message["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("18C"), "{text}");
}

#[tokio::test]
async fn every_failure_is_an_anthropic_error() {
    let mock = Mock::start();
    let gateway = start(&mock, &["--max-body-bytes", "2000"]);
    let url = |path: &str| format!("{}{path}", gateway.url());
    let mut no_key = credential_headers();
    no_key.push(("anthropic-version", "2023-06-01"));

    // The router's own: no key, a wrong key, an unknown path, a wrong method.
    let (status, _, body) = post(&gateway, "/v1/messages", &no_key, &nova("hi")).await;
    assert_anthropic_error(status, &body, 401, "authentication_error");
    let mut wrong = no_key.clone();
    wrong.push(("x-api-key", "wrong-key"));
    let (status, _, body) = post(&gateway, "/v1/messages", &wrong, &nova("hi")).await;
    assert_anthropic_error(status, &body, 401, "authentication_error");
    let mut bearer = no_key.clone();
    let authorization = format!("Bearer {KEY}");
    bearer.push(("authorization", &authorization));
    let (status, _, body) = post(&gateway, "/v1/messages", &bearer, &nova("hi")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (status, _, body) = post(&gateway, "/v1/messages/nope", &keyed(), &nova("hi")).await;
    assert_anthropic_error(status, &body, 404, "not_found_error");
    let (status, _, body) = send(Method::GET, &url("/v1/messages"), &keyed(), None).await;
    assert_anthropic_error(status, &body, 405, "invalid_request_error");

    // The pipeline's: a body over the limit.
    let (status, _, body) = post(
        &gateway,
        "/v1/messages",
        &keyed(),
        &nova(&"word ".repeat(1000)),
    )
    .await;
    assert_anthropic_error(status, &body, 413, "request_too_large");

    // The translator's: bad JSON, a missing model, what Converse cannot do.
    let (status, _, body) = send(
        Method::POST,
        &url("/v1/messages"),
        &keyed(),
        Some("{".to_owned()),
    )
    .await;
    assert_anthropic_error(status, &body, 400, "invalid_request_error");
    let (status, _, body) = post(
        &gateway,
        "/v1/messages",
        &keyed(),
        &json!({"max_tokens": 5, "messages": []}),
    )
    .await;
    assert_anthropic_error(status, &body, 400, "invalid_request_error");
    let mut thinking = nova("hi");
    thinking["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &thinking).await;
    assert_anthropic_error(status, &body, 400, "invalid_request_error");

    // Bedrock's: throttling, overload, access denied.
    let cases = [
        ("ThrottlingException", 429, 429, "rate_limit_error"),
        ("ServiceUnavailableException", 503, 529, "overloaded_error"),
        ("AccessDeniedException", 403, 403, "permission_error"),
        ("ResourceNotFoundException", 404, 404, "not_found_error"),
    ];
    for (error, bedrock, want, kind) in cases {
        // Enough for every retry the gateway makes.
        mock.fault(json!({"error": error, "status": bedrock, "message": "injected", "count": 5}))
            .await;
        let (status, headers, body) = post(&gateway, "/v1/messages", &keyed(), &nova("hi")).await;
        assert_anthropic_error(status, &body, want, kind);
        if want == 429 || want == 529 {
            assert!(headers.contains_key("retry-after"), "{error}");
        }
        send(
            Method::DELETE,
            &format!("{}/__mock/faults", mock.url()),
            &[],
            None,
        )
        .await;
    }
}

#[tokio::test]
async fn a_failure_mid_stream_is_an_error_event() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    mock.fault(json!({"stream_exception": "throttlingException", "after_events": 2}))
        .await;
    let mut request = nova("a b c d e f g h");
    request["stream"] = json!(true);
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK);
    let events = events(&body);
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "error");
    assert_eq!(data["error"]["type"], "rate_limit_error");
    assert!(!events.iter().any(|(n, _)| n == "message_stop"));
}

#[tokio::test]
async fn models_are_listed_in_anthropics_shape_for_anthropic_clients() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let url = format!("{}/v1/models", gateway.url());
    let (status, _, body) = send(Method::GET, &url, &keyed(), None).await;
    assert_eq!(status, StatusCode::OK);
    let list = json_of(&body);
    assert_eq!(list["has_more"], false);
    let data = list["data"].as_array().unwrap();
    assert_eq!(list["first_id"], data[0]["id"]);
    let sonnet = data
        .iter()
        .find(|m| m["id"] == "claude-sonnet-4-5")
        .expect("Anthropic names are listed");
    assert_eq!(sonnet["type"], "model");
    assert_eq!(sonnet["display_name"], "Claude Sonnet 4.5");
    assert!(data.iter().any(|m| m["id"] == "amazon.nova-lite-v1:0"));

    // Without the header: OpenAI's list.
    let (_, _, body) = send(
        Method::GET,
        &url,
        &[("authorization", &format!("Bearer {KEY}"))],
        None,
    )
    .await;
    assert_eq!(json_of(&body)["object"], "list");
}

#[tokio::test]
async fn anthropic_names_work_on_the_chat_door_with_the_regions_profile() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let mut headers = credential_headers();
    headers.push(("x-aws-region", "eu-west-1"));
    let body =
        json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hi"}]});
    let (status, _, answer) = gateway.chat_with(body.clone(), &headers).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // The chat door names the Bedrock model, as it does for aliases.
    assert_eq!(
        answer["model"],
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    );
    let requests = mock.requests().await;
    assert_eq!(
        requests[0]["path"],
        "/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    );

    // A fixed prefix setting: no prefix at all.
    let plain = Gateway::start(&mock, &[], &["--inference-profile-prefix", "none"]);
    let (status, _, answer) = plain.chat_with(body, &headers).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let requests = mock.requests().await;
    assert_eq!(
        requests.last().unwrap()["path"],
        "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    );
}

/// Claude Sonnet 4.5 as clients name it, and as the mock serves it in `us-east-1`.
const SONNET: &str = "claude-sonnet-4-5";
const SONNET_PROFILE_PATH: &str = "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0";
const SONNET_FOUNDATION_PATH: &str = "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0";

fn claude(content: Value) -> Value {
    json!({"model": SONNET, "max_tokens": 100,
           "messages": [{"role": "user", "content": content}]})
}

/// The JSON body the mock recorded for request `i`.
async fn recorded(mock: &Mock, i: usize) -> (String, Value) {
    let requests = mock.requests().await;
    let request = &requests[i];
    let body = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
    (request["path"].as_str().unwrap().to_owned(), body)
}

/// `input_tokens` + cache creation + cache reads of a Message's usage.
fn input_total(usage: &Value) -> u64 {
    [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ]
    .iter()
    .map(|k| usage[*k].as_u64().unwrap_or(0))
    .sum()
}

/// The stream's content blocks, rebuilt from its events as Anthropic's SDK does: starts
/// append (dense indexes in start order), deltas apply to their block.
fn accumulate(events: &[(String, Value)]) -> Vec<Value> {
    let mut blocks: Vec<Value> = Vec::new();
    let mut json_input: Vec<String> = Vec::new();
    for (name, data) in events {
        let index = data["index"].as_u64().map(|i| i as usize);
        match name.as_str() {
            "content_block_start" => {
                assert_eq!(index, Some(blocks.len()), "dense indexes: {data}");
                blocks.push(data["content_block"].clone());
                json_input.push(String::new());
            }
            "content_block_delta" => {
                let i = index.unwrap();
                let (block, delta) = (&mut blocks[i], &data["delta"]);
                match delta["type"].as_str().unwrap() {
                    "text_delta" => append(&mut block["text"], &delta["text"]),
                    "thinking_delta" => append(&mut block["thinking"], &delta["thinking"]),
                    "signature_delta" => block["signature"] = delta["signature"].clone(),
                    "input_json_delta" => {
                        json_input[i].push_str(delta["partial_json"].as_str().unwrap())
                    }
                    other => panic!("unexpected delta {other}"),
                }
            }
            _ => {}
        }
    }
    for (block, input) in blocks.iter_mut().zip(json_input) {
        if !input.is_empty() {
            block["input"] = serde_json::from_str(&input).unwrap();
        }
    }
    blocks
}

fn append(text: &mut Value, more: &Value) {
    *text = json!(format!(
        "{}{}",
        text.as_str().unwrap_or(""),
        more.as_str().unwrap()
    ));
}

#[tokio::test]
async fn claude_goes_to_invoke_model_on_the_regions_profile_with_bedrocks_body() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let mut headers = keyed();
    headers.push((
        "anthropic-beta",
        "context-1m-2025-08-07,claude-code-20250219",
    ));
    let mut request = claude(json!("Hello there"));
    request["anthropic_version"] = json!("2026-10-21");
    let (status, _, body) = post(&gateway, "/v1/messages?beta=true", &headers, &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let message = json_of(&body);
    assert_eq!(message["model"], SONNET, "the name as sent");
    assert!(message["id"].as_str().unwrap().starts_with("msg_bdrk_"));
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "You said: Hello there"}])
    );
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(message["usage"]["input_tokens"], 2);

    let (path, sent) = recorded(&mock, 0).await;
    assert_eq!(path, format!("{SONNET_PROFILE_PATH}/invoke"));
    assert_eq!(
        sent,
        json!({"max_tokens": 100, "messages": [{"role": "user", "content": "Hello there"}],
               "anthropic_version": "bedrock-2023-05-31",
               "anthropic_beta": ["context-1m-2025-08-07"]}),
        "no model, no stream, Bedrock's version, only the betas Bedrock knows"
    );
}

#[tokio::test]
async fn a_claude_stream_is_anthropics_events_from_invoke_with_response_stream() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let mut request = claude(json!("one two three"));
    request["stream"] = json!(true);
    let (status, headers, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "text/event-stream");
    let events = events(&body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "message_start");
    assert_eq!(names[1], "content_block_start");
    assert_eq!(
        &names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert_eq!(events[0].1["message"]["model"], SONNET);
    assert_eq!(
        Value::from(accumulate(&events)),
        json!([{"type": "text", "text": "You said: one two three"}])
    );
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 5);

    let (path, sent) = recorded(&mock, 0).await;
    assert_eq!(
        path,
        format!("{SONNET_PROFILE_PATH}/invoke-with-response-stream")
    );
    assert!(
        sent.get("stream").is_none() && sent.get("model").is_none(),
        "{sent}"
    );
}

#[tokio::test]
async fn claudes_signed_thinking_goes_back_byte_exact_and_a_tampered_one_is_a_400() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let mut request = claude(json!("Why is the sky blue?"));
    request["max_tokens"] = json!(2048);
    request["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    request["stream"] = json!(true);
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let blocks = accumulate(&events(&body));
    let thinking = blocks[0].clone();
    assert_eq!(thinking["type"], "thinking", "{blocks:?}");
    assert_eq!(thinking["thinking"], "Thinking about: Why is the sky blue?");
    assert!(!thinking["signature"].as_str().unwrap().is_empty());

    // The next turn carries the thinking block back: the mock checks its signature.
    let mut next = request.clone();
    next["stream"] = json!(false);
    next["messages"] = json!([
        {"role": "user", "content": "Why is the sky blue?"},
        {"role": "assistant", "content": blocks},
        {"role": "user", "content": "And at sunset?"}
    ]);
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &next).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let message = json_of(&body);
    assert_eq!(message["content"][1]["text"], "You said: And at sunset?");

    next["messages"][1]["content"][0]["signature"] = json!("dGFtcGVyZWQ=");
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &next).await;
    assert_anthropic_error(status, &body, 400, "invalid_request_error");
    let message = json_of(&body)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("Invalid `signature`"), "{message}");
}

#[tokio::test]
async fn claudes_prompt_cache_is_written_then_read() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let request = json!({"model": SONNET, "max_tokens": 100,
        "system": [{"type": "text", "text": "You answer questions about a long manual.",
                    "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "What is chapter one about?"}]});
    let mut usages = Vec::new();
    for _ in 0..2 {
        let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        usages.push(json_of(&body)["usage"].clone());
    }
    assert_eq!(usages[0]["cache_creation_input_tokens"], 7, "{usages:?}");
    assert_eq!(usages[0]["cache_read_input_tokens"], 0, "{usages:?}");
    assert_eq!(usages[1]["cache_creation_input_tokens"], 0, "{usages:?}");
    assert_eq!(usages[1]["cache_read_input_tokens"], 7, "{usages:?}");
    assert_eq!(usages[1]["input_tokens"], 5, "{usages:?}");
    let (_, sent) = recorded(&mock, 0).await;
    assert_eq!(
        sent["system"], request["system"],
        "cache_control passes through"
    );
}

#[tokio::test]
async fn a_claude_tool_round_trip() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let tools = json!([{"name": "get_weather", "description": "Weather by city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                         "required": ["city"]}}]);
    let mut request = claude(json!("Weather in Paris?"));
    request["tools"] = tools;
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let message = json_of(&body);
    assert_eq!(message["stop_reason"], "tool_use");
    let call = message["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "tool_use")
        .cloned()
        .expect("a tool_use block");
    assert_eq!(call["name"], "get_weather");

    request["messages"] = json!([
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": message["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "18C"}]}
    ]);
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let message = json_of(&body);
    assert_eq!(message["stop_reason"], "end_turn");
    let text = message["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Tool results:") && text.contains("18C"),
        "{text}"
    );
    let (path, _) = recorded(&mock, 1).await;
    assert_eq!(path, format!("{SONNET_PROFILE_PATH}/invoke"));
}

#[tokio::test]
async fn an_exception_in_claudes_stream_is_an_error_event_of_anthropics_type() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let cases = [
        ("throttlingException", "rate_limit_error"),
        ("serviceUnavailableException", "overloaded_error"),
        ("modelStreamErrorException", "api_error"),
    ];
    for (exception, kind) in cases {
        let text = format!("a b c d e f [mock:stream_exception={exception},after=3]");
        let mut request = claude(json!(text));
        request["stream"] = json!(true);
        let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
        assert_eq!(status, StatusCode::OK, "{exception}");
        let events = events(&body);
        assert_eq!(events[0].0, "message_start", "{exception}");
        let (name, data) = events.last().unwrap();
        assert_eq!(name, "error", "{exception}");
        assert_eq!(data["error"]["type"], kind, "{exception}");
        assert!(
            !events.iter().any(|(n, _)| n == "message_stop"),
            "{exception}"
        );
    }
}

#[tokio::test]
async fn claudes_count_tokens_uses_the_foundation_model_and_matches_the_usage() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let request = json!({"model": SONNET, "max_tokens": 100, "system": "Be brief and kind.",
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Tell me about Paris", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "in two lines"}]}]});
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let total = input_total(&json_of(&body)["usage"]);
    assert_eq!(total, 11);

    let mut count = request.clone();
    count.as_object_mut().unwrap().remove("max_tokens");
    let (status, _, body) = post(
        &gateway,
        "/v1/messages/count_tokens?beta=true",
        &keyed(),
        &count,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(json_of(&body), json!({"input_tokens": total}));

    let (path, sent) = recorded(&mock, 1).await;
    assert_eq!(path, format!("{SONNET_FOUNDATION_PATH}/count-tokens"));
    let inner = base64::engine::general_purpose::STANDARD
        .decode(sent["input"]["invokeModel"]["body"].as_str().unwrap())
        .unwrap();
    let inner: Value = serde_json::from_slice(&inner).unwrap();
    assert_eq!(inner["anthropic_version"], "bedrock-2023-05-31");
    assert!(inner.get("model").is_none(), "{inner}");
}

#[tokio::test]
async fn count_tokens_for_other_models_uses_converse_input() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let request = nova("How many tokens is this?");
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let total = input_total(&json_of(&body)["usage"]);

    let (status, _, body) = post(&gateway, "/v1/messages/count_tokens", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(json_of(&body), json!({"input_tokens": total}));
    let (path, sent) = recorded(&mock, 1).await;
    assert_eq!(path, "/model/amazon.nova-lite-v1%3A0/count-tokens");
    assert_eq!(
        sent["input"]["converse"]["messages"],
        json!([{"role": "user", "content": [{"text": "How many tokens is this?"}]}])
    );
}

/// The value of `bedrock_gateway_tokens_total` for `model` and `direction` (0 when absent).
fn metered(metrics: &str, model: &str, direction: &str) -> u64 {
    let series =
        format!("bedrock_gateway_tokens_total{{model=\"{model}\",direction=\"{direction}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&series))
        .map_or(0, |n| n.parse().unwrap())
}

async fn metrics(gateway: &Gateway) -> String {
    let url = format!("{}/metrics", gateway.url());
    let (status, _, body) = send(Method::GET, &url, &[], None).await;
    assert_eq!(status, StatusCode::OK);
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn claudes_usage_is_metered_for_answers_and_streams() {
    // The profile the request went to counts as its foundation model.
    const FOUNDATION: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let mut request = claude(json!("one two three four"));
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let text = metrics(&gateway).await;
    assert_eq!(metered(&text, FOUNDATION, "input"), 4, "{text}");
    assert_eq!(metered(&text, FOUNDATION, "output"), 6, "{text}");

    request["stream"] = json!(true);
    let (status, _, _) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK);
    let text = metrics(&gateway).await;
    assert_eq!(metered(&text, FOUNDATION, "input"), 8, "{text}");
    assert_eq!(metered(&text, FOUNDATION, "output"), 12, "{text}");
}

#[tokio::test]
async fn converse_answers_name_the_stop_sequence_and_carry_the_user_id() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let mut request = nova("one two three four");
    request["stop_sequences"] = json!(["three"]);
    request["metadata"] = json!({"user_id": "user-42 (team a)"});
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let message = json_of(&body);
    assert_eq!(message["stop_reason"], "stop_sequence");
    assert_eq!(message["stop_sequence"], "three");
    let (_, sent) = recorded(&mock, 0).await;
    assert_eq!(sent["inferenceConfig"]["stopSequences"], json!(["three"]));
    assert_eq!(
        sent["requestMetadata"],
        json!({"user_id": "user-42 _team a_"})
    );

    request["stream"] = json!(true);
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let events = events(&body);
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "stop_sequence");
    assert_eq!(delta["delta"]["stop_sequence"], "three");
}

#[tokio::test]
async fn documents_with_citations_and_search_results_reach_converse() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let request = json!({"model": "amazon.nova-lite-v1:0", "max_tokens": 100,
        "messages": [{"role": "user", "content": [
            {"type": "document", "title": "Facts", "citations": {"enabled": true},
             "source": {"type": "text", "media_type": "text/plain", "data": "Paris is in France."}},
            {"type": "search_result", "source": "https://example.com/lyon", "title": "Lyon",
             "content": [{"type": "text", "text": "Lyon is in France."}],
             "citations": {"enabled": true}},
            {"type": "text", "text": "Where is Paris?"}]}]});
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (_, sent) = recorded(&mock, 0).await;
    let content = &sent["messages"][0]["content"];
    assert_eq!(
        content[0]["document"]["citations"],
        json!({"enabled": true})
    );
    assert_eq!(
        content[1]["searchResult"],
        json!({"source": "https://example.com/lyon", "title": "Lyon",
               "content": [{"text": "Lyon is in France."}], "citations": {"enabled": true}})
    );
}

#[tokio::test]
async fn converse_citations_are_text_citations_and_citations_deltas() {
    let mock = Mock::start();
    let gateway = start(&mock, &[]);
    let request = json!({"model": "amazon.nova-lite-v1:0", "max_tokens": 100,
        "messages": [{"role": "user", "content": [
            {"type": "document", "title": "Facts", "citations": {"enabled": true},
             "source": {"type": "text", "media_type": "text/plain", "data": "Paris is in France."}},
            {"type": "text", "text": "Where is Paris? [mock:web_citation]"}]}]});
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let message = json_of(&body);
    let citations = json!([
        {"type": "char_location", "cited_text": "Paris is in France.", "document_index": 0,
         "document_title": "Facts", "start_char_index": 0, "end_char_index": 19},
        {"type": "web_search_result_location", "cited_text": "The mock's web page.",
         "url": "https://example.com/mock", "title": "Mock web result", "encrypted_index": ""}]);
    assert_eq!(message["content"].as_array().unwrap().len(), 1, "{message}");
    assert_eq!(message["content"][0]["type"], "text");
    assert_eq!(
        message["content"][0]["text"],
        "You said: [document txt 'Facts' 19 bytes] Where is Paris?"
    );
    assert_eq!(message["content"][0]["citations"], citations, "{message}");

    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    let (status, _, body) = post(&gateway, "/v1/messages", &keyed(), &streamed).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let events = events(&body);
    let deltas: Vec<&Value> = events
        .iter()
        .filter(|(name, data)| {
            name == "content_block_delta" && data["delta"]["type"] == "citations_delta"
        })
        .map(|(_, data)| data)
        .collect();
    assert_eq!(deltas.len(), 2, "{events:?}");
    for (i, delta) in deltas.iter().enumerate() {
        assert_eq!(delta["index"], 0);
        assert_eq!(delta["delta"]["citation"], citations[i]);
    }
    let text: String = events
        .iter()
        .filter_map(|(_, data)| data["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, message["content"][0]["text"].as_str().unwrap());
    let stop = events
        .iter()
        .position(|(name, _)| name == "content_block_stop")
        .unwrap();
    assert_eq!(events[stop - 1].1["delta"]["type"], "citations_delta");
}
