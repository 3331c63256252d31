//! End to end: `response_format` JSON with `tools` on a model without native structured output
//! (the agent frameworks' pattern): the gateway offers `json_output` beside the client's tools
//! with `toolChoice: {any: {}}`; a call of a client tool comes back as `tool_calls`, a call of
//! `json_output` as the final answer's content, streamed or not.

use e2e_tests::{Gateway, Mock, credential_headers, send, sse_data};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const MODEL: &str = "amazon.nova-pro-v1:0";

fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}})
}

fn city_format() -> Value {
    json!({"type": "json_schema", "json_schema": {"name": "city", "strict": true, "schema":
        {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"],
         "additionalProperties": false}}})
}

fn body(messages: Value) -> Value {
    json!({"model": MODEL, "messages": messages, "tools": [weather_tool()],
        "response_format": city_format()})
}

/// The Converse body the mock received last.
async fn last_sent(mock: &Mock) -> Value {
    let requests = mock.requests().await;
    let body = requests.last().unwrap()["body"].as_str().unwrap();
    serde_json::from_str(body).unwrap()
}

/// The streamed chunks of a request, parsed, without `[DONE]`.
async fn stream(gateway: &Gateway, mut request: Value) -> Vec<Value> {
    request["stream"] = json!(true);
    let url = format!("{}/v1/chat/completions", gateway.url());
    let (status, _, bytes) = send(
        Method::POST,
        &url,
        &credential_headers(),
        Some(request.to_string()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let data = sse_data(&bytes);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

fn content_of(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

fn finish_of(chunks: &[Value]) -> Value {
    chunks
        .iter()
        .find_map(|c| c["choices"][0]["finish_reason"].as_str().map(Value::from))
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_tool_call_then_the_json_answer_as_an_agent_loop_sees_them() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let first = json!([{"role": "user", "content": "Which city is warmest?"}]);
    let (status, _, answer) = gateway.chat(body(first.clone())).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let sent = last_sent(&mock).await;
    let names: Vec<&str> = sent["toolConfig"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["toolSpec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["get_weather", "json_output"]);
    assert_eq!(sent["toolConfig"]["toolChoice"], json!({"any": {}}));
    let message = &answer["choices"][0]["message"];
    assert_eq!(message["content"], Value::Null, "{answer}");
    assert_eq!(message["tool_calls"][0]["function"]["name"], "get_weather");
    assert_eq!(answer["choices"][0]["finish_reason"], "tool_calls");

    // The tool's result sent back: the model answers through json_output.
    let call = message["tool_calls"][0].clone();
    let mut second = first.as_array().unwrap().clone();
    second.push(json!({"role": "assistant", "content": null, "tool_calls": [call.clone()]}));
    second.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "Paris: 18C"}));
    let (status, _, answer) = gateway.chat(body(json!(second.clone()))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let message = &answer["choices"][0]["message"];
    assert!(message.get("tool_calls").is_none(), "{answer}");
    let content: Value = serde_json::from_str(message["content"].as_str().unwrap()).unwrap();
    assert_eq!(content, json!({"name": "mock"}));
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");

    // Streamed, the same two steps.
    let chunks = stream(&gateway, body(first)).await;
    let tool_names: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["name"].as_str())
        .collect();
    assert_eq!(tool_names, ["get_weather"]);
    assert_eq!(content_of(&chunks), "");
    assert_eq!(finish_of(&chunks), "tool_calls");
    let chunks = stream(&gateway, body(json!(second))).await;
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"][0]["delta"].get("tool_calls").is_none())
    );
    assert_eq!(content_of(&chunks), "{\"name\":\"mock\"}");
    assert_eq!(finish_of(&chunks), "stop");
}

#[tokio::test]
async fn choices_none_required_named_and_a_mixed_answer() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let ask = json!([{"role": "user", "content": "Which city?"}]);
    let with = |choice: Value| {
        let mut b = body(ask.clone());
        b["tool_choice"] = choice;
        b
    };
    // none: json_output alone, forced; the answer is the JSON.
    let (status, _, answer) = gateway.chat(with(json!("none"))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let sent = last_sent(&mock).await;
    assert_eq!(sent["toolConfig"]["tools"].as_array().unwrap().len(), 1);
    assert_eq!(
        sent["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "json_output"}})
    );
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "{\"name\":\"mock\"}"
    );
    // required: the client's tools only, any.
    let (status, _, answer) = gateway.chat(with(json!("required"))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let sent = last_sent(&mock).await;
    assert_eq!(sent["toolConfig"]["tools"].as_array().unwrap().len(), 1);
    assert_eq!(sent["toolConfig"]["toolChoice"], json!({"any": {}}));
    assert_eq!(answer["choices"][0]["finish_reason"], "tool_calls");
    // A named tool: forced.
    let named = json!({"type": "function", "function": {"name": "get_weather"}});
    let (status, _, answer) = gateway.chat(with(named)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        last_sent(&mock).await["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "get_weather"}})
    );
    assert_eq!(
        answer["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    // The model calls both in one answer: both come back, finish_reason tool_calls.
    let mixed = body(json!([{"role": "user", "content": "Both [mock:parallel_tools]"}]));
    let (status, _, answer) = gateway.chat(mixed.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let message = &answer["choices"][0]["message"];
    assert_eq!(message["content"], "{\"name\":\"mock\"}", "{answer}");
    assert_eq!(message["tool_calls"].as_array().unwrap().len(), 1);
    assert_eq!(message["tool_calls"][0]["function"]["name"], "get_weather");
    assert_eq!(answer["choices"][0]["finish_reason"], "tool_calls");
    let chunks = stream(&gateway, mixed).await;
    assert_eq!(content_of(&chunks), "{\"name\":\"mock\"}");
    assert_eq!(finish_of(&chunks), "tool_calls");
    // A client tool of the reserved name: 400 before any call.
    let before = mock.requests().await.len();
    let mut reserved = body(ask.clone());
    reserved["tools"] = json!([{"type": "function", "function": {"name": "json_output"}}]);
    let (status, _, answer) = gateway.chat(reserved).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["param"], "tools[0].function.name");
    assert_eq!(mock.requests().await.len(), before);
}
