//! End to end: `tool_choice: "none"` means no tool call even when the history has some, and
//! distinct client tool call ids reach Bedrock as distinct `toolUseId`s that still pair each
//! call with its result.

use e2e_tests::{Gateway, Mock};
use http::StatusCode;
use serde_json::{Value, json};

const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}})
}

fn call(id: &str, city: &str) -> Value {
    json!({"id": id, "type": "function",
        "function": {"name": "get_weather", "arguments": json!({"city": city}).to_string()}})
}

/// The Converse body the mock received last.
async fn last_sent(mock: &Mock) -> Value {
    let requests = mock.requests().await;
    let body = requests.last().unwrap()["body"].as_str().unwrap();
    serde_json::from_str(body).unwrap()
}

fn blocks_with(sent: &Value, key: &str) -> Vec<Value> {
    sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().unwrap())
        .filter_map(|b| b.get(key).cloned())
        .collect()
}

#[tokio::test]
async fn tool_choice_none_with_tools_in_the_history_gets_no_tool_call() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let request = json!({
        "model": MODEL,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [call("call 1", "Paris")]},
            {"role": "tool", "tool_call_id": "call 1", "content": "18C"},
            {"role": "assistant", "content": "It is 18C."},
            {"role": "user", "content": "And tomorrow?"}
        ],
        "tools": [weather_tool()],
        "tool_choice": "none"
    });
    let (status, _, body) = gateway.chat(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "stop", "{body}");
    assert!(choice["message"].get("tool_calls").is_none(), "{body}");
    let content = choice["message"]["content"].as_str().unwrap();
    assert!(content.contains("And tomorrow?"), "{content}");

    // Bedrock was given no tool to call, and the history as text.
    let sent = last_sent(&mock).await;
    assert!(sent.get("toolConfig").is_none(), "{sent}");
    assert!(blocks_with(&sent, "toolUse").is_empty(), "{sent}");
    assert!(blocks_with(&sent, "toolResult").is_empty(), "{sent}");
    let texts: Vec<Value> = blocks_with(&sent, "text");
    assert!(
        texts.iter().any(|t| t
            .as_str()
            .unwrap()
            .starts_with("[tool result for get_weather, id call_1_")
            && t.as_str().unwrap().ends_with(": 18C]")),
        "{sent}"
    );
}

#[tokio::test]
async fn distinct_tool_call_ids_stay_distinct_and_bedrock_ids_round_trip() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    // First turn: the mock calls the tool, with an id of its own.
    let first = json!({"model": MODEL, "messages": [{"role": "user", "content": "Weather?"}],
        "tools": [weather_tool()]});
    let (status, _, body) = gateway.chat(first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answered = body["choices"][0]["message"]["tool_calls"][0].clone();
    let bedrock_id = answered["id"].as_str().unwrap().to_owned();

    // Second turn: that call plus two client calls whose ids differ only by a character that
    // Bedrock does not accept.
    let second = json!({
        "model": MODEL,
        "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": null,
                "tool_calls": [answered, call("call_1", "Rome"), call("call 1", "Oslo")]},
            {"role": "tool", "tool_call_id": "call 1", "content": "2C"},
            {"role": "tool", "tool_call_id": bedrock_id, "content": "18C"},
            {"role": "tool", "tool_call_id": "call_1", "content": "21C"}
        ],
        "tools": [weather_tool()]
    });
    let (status, _, body) = gateway.chat(second).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sent = last_sent(&mock).await;
    let uses: Vec<String> = blocks_with(&sent, "toolUse")
        .iter()
        .map(|u| u["toolUseId"].as_str().unwrap().to_owned())
        .collect();
    let results: Vec<String> = blocks_with(&sent, "toolResult")
        .iter()
        .map(|r| r["toolUseId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(uses.len(), 3, "{sent}");
    assert_eq!(uses[0], bedrock_id, "Bedrock's own id comes back unchanged");
    assert_eq!(uses[1], "call_1");
    assert_ne!(uses[2], uses[1], "'call 1' and 'call_1' must not collide");
    assert_eq!(
        results,
        [uses[2].as_str(), uses[0].as_str(), uses[1].as_str()],
        "{sent}"
    );
    for id in &uses {
        assert!(
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "{id} is not a Bedrock toolUseId"
        );
    }
}
