//! `response_format` JSON together with `tools` on models without native structured output:
//! the `json_output` tool offered beside the client's tools, and the answers mapped back, by
//! value (requests, complete answers and streams).

use bedrock_translate::converse::ConverseResponse;
use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::chat_to_converse;
use bedrock_translate::response::{ResponseContext, converse_to_chat};
use bedrock_translate::stream::{ChunkTranslator, StreamOptions};
use bedrock_translate::{ApiError, TranslateError};
use serde_json::{Value, json};

const HAIKU_3: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn translate(model: &str, openai: Value) -> Result<Value, TranslateError> {
    let model = ModelId::parse(model).unwrap();
    let request = serde_json::from_value(openai).unwrap();
    chat_to_converse(request, &model).map(|c| serde_json::to_value(c).unwrap())
}

fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}})
}

fn city_format() -> Value {
    json!({"type": "json_schema", "json_schema": {"name": "city", "schema":
        {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}})
}

fn weather_spec() -> Value {
    json!({"toolSpec": {"name": "get_weather", "description": "Weather",
        "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}})
}

fn json_output_spec() -> Value {
    json!({"toolSpec": {"name": "json_output", "description": "Answer with a JSON object matching this schema.",
        "inputSchema": {"json": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}})
}

fn request(extra: Value) -> Value {
    let mut body = json!({"messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [weather_tool()], "response_format": city_format()});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[test]
fn json_output_is_offered_beside_the_tools_with_any() {
    for extra in [json!({}), json!({"tool_choice": "auto"})] {
        let converse = translate(HAIKU_3, request(extra)).unwrap();
        assert_eq!(
            converse["toolConfig"],
            json!({"tools": [weather_spec(), json_output_spec()], "toolChoice": {"any": {}}})
        );
        assert!(converse.get("outputConfig").is_none());
    }
    // Legacy functions too, and json_object's schema.
    let converse = translate(
        "meta.llama3-70b-instruct-v1:0",
        json!({"messages": [{"role": "user", "content": "x"}],
            "functions": [{"name": "f"}], "response_format": {"type": "json_object"}}),
    )
    .unwrap();
    let names: Vec<&str> = converse["toolConfig"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["toolSpec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["f", "json_output"]);
    assert_eq!(
        converse["toolConfig"]["tools"][1]["toolSpec"]["inputSchema"]["json"],
        json!({"type": "object"})
    );
    assert_eq!(converse["toolConfig"]["toolChoice"], json!({"any": {}}));
}

#[test]
fn required_and_named_choices_offer_only_the_clients_tools() {
    let converse = translate(HAIKU_3, request(json!({"tool_choice": "required"}))).unwrap();
    assert_eq!(
        converse["toolConfig"],
        json!({"tools": [weather_spec()], "toolChoice": {"any": {}}})
    );
    let named = json!({"tool_choice": {"type": "function", "function": {"name": "get_weather"}}});
    let converse = translate(HAIKU_3, request(named)).unwrap();
    assert_eq!(
        converse["toolConfig"],
        json!({"tools": [weather_spec()], "toolChoice": {"tool": {"name": "get_weather"}}})
    );
    let unknown = json!({"tool_choice": {"type": "function", "function": {"name": "nope"}}});
    let err = translate(HAIKU_3, request(unknown)).unwrap_err();
    assert_eq!(
        ApiError::from(err).error.param.as_deref(),
        Some("tool_choice")
    );
}

#[test]
fn none_offers_json_output_alone_and_renders_the_history_as_text() {
    let body = request(json!({"tool_choice": "none", "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
    ]}));
    let converse = translate(HAIKU_3, body).unwrap();
    assert_eq!(
        converse["toolConfig"],
        json!({"tools": [json_output_spec()], "toolChoice": {"tool": {"name": "json_output"}}})
    );
    assert_eq!(
        converse["messages"],
        json!([
            {"role": "user", "content": [{"text": "Weather in Paris?"}]},
            {"role": "assistant", "content": [{"text": "[tool call get_weather({\"city\":\"Paris\"}), id call_1]"}]},
            {"role": "user", "content": [{"text": "[tool result for get_weather, id call_1: 18C]"}]}
        ])
    );
}

#[test]
fn the_history_keeps_its_tool_blocks_beside_json_output() {
    let body = request(json!({"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
    ]}));
    let converse = translate(HAIKU_3, body).unwrap();
    assert_eq!(
        converse["toolConfig"],
        json!({"tools": [weather_spec(), json_output_spec()], "toolChoice": {"any": {}}})
    );
    assert_eq!(
        converse["messages"][2]["content"][0]["toolResult"]["toolUseId"],
        "call_1"
    );
}

#[test]
fn a_client_tool_named_json_output_is_refused_only_when_the_name_is_taken() {
    let mine = json!({"type": "function", "function": {"name": "json_output"}});
    let err = translate(
        HAIKU_3,
        request(json!({"tools": [weather_tool(), mine.clone()]})),
    )
    .unwrap_err();
    let api = ApiError::from(err);
    assert_eq!(api.status, 400);
    assert_eq!(api.error.param.as_deref(), Some("tools[1].function.name"));
    assert!(
        api.error.message.contains("reserved"),
        "{}",
        api.error.message
    );
    let legacy = json!({"messages": [{"role": "user", "content": "x"}],
        "functions": [{"name": "json_output"}], "response_format": {"type": "json_object"}});
    let err = translate(HAIKU_3, legacy).unwrap_err();
    assert_eq!(
        ApiError::from(err).error.param.as_deref(),
        Some("functions[0].name")
    );
    // Without response_format, or with native structured output, the name is the client's.
    let plain = json!({"messages": [{"role": "user", "content": "x"}], "tools": [mine.clone()]});
    assert!(translate(HAIKU_3, plain).is_ok());
    let native = request(json!({"tools": [mine]}));
    let converse = translate("anthropic.claude-sonnet-4-5-20250929-v1:0", native).unwrap();
    assert!(converse.get("outputConfig").is_some());
    assert_eq!(
        converse["toolConfig"]["tools"][0]["toolSpec"]["name"],
        "json_output"
    );
}

fn ctx() -> ResponseContext {
    ResponseContext {
        id: "chatcmpl-test".into(),
        created: 1,
        model: "m".into(),
        json_output_tool: true,
    }
}

fn answer(content: Value) -> ConverseResponse {
    serde_json::from_value(json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 5, "outputTokens": 7, "totalTokens": 12},
        "metrics": {"latencyMs": 1}
    }))
    .unwrap()
}

#[test]
fn answers_json_output_is_content_other_calls_are_tool_calls() {
    let weather = json!({"toolUse": {"toolUseId": "tu_1", "name": "get_weather", "input": {"city": "Paris"}}});
    let final_answer = json!({"toolUse": {"toolUseId": "tu_2", "name": "json_output", "input": {"name": "Paris"}}});
    let chat = serde_json::to_value(converse_to_chat(answer(json!([weather])), &ctx())).unwrap();
    assert_eq!(
        chat["choices"][0]["message"],
        json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [{"id": "tu_1",
            "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]})
    );
    assert_eq!(chat["choices"][0]["finish_reason"], "tool_calls");
    let chat =
        serde_json::to_value(converse_to_chat(answer(json!([final_answer])), &ctx())).unwrap();
    assert_eq!(
        chat["choices"][0]["message"],
        json!({"role": "assistant", "content": "{\"name\":\"Paris\"}", "refusal": null})
    );
    assert_eq!(chat["choices"][0]["finish_reason"], "stop");
    // Both in one answer: nothing is dropped; the JSON is the content, the other call a tool
    // call, and the finish reason `tool_calls`, so the client runs the tool and asks again.
    let chat = serde_json::to_value(converse_to_chat(
        answer(json!([weather, final_answer])),
        &ctx(),
    ))
    .unwrap();
    assert_eq!(
        chat["choices"][0]["message"]["content"],
        "{\"name\":\"Paris\"}"
    );
    assert_eq!(
        chat["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    assert_eq!(chat["choices"][0]["finish_reason"], "tool_calls");
}

fn stream(events: &[(&str, Value)]) -> Vec<Value> {
    let mut translator = ChunkTranslator::new(ctx(), StreamOptions::default());
    let mut out = Vec::new();
    for (kind, payload) in events {
        let payload = serde_json::to_vec(payload).unwrap();
        for chunk in translator.on_event(kind, &payload).unwrap() {
            out.push(serde_json::to_value(&chunk.choices[0]).unwrap());
        }
    }
    out
}

#[test]
fn streams_the_same_way_also_when_mixed() {
    let start = |i: u32, id: &str, name: &str| {
        (
            "contentBlockStart",
            json!({"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": id, "name": name}}}),
        )
    };
    let delta = |i: u32, input: &str| {
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": i, "delta": {"toolUse": {"input": input}}}),
        )
    };
    let stop = ("messageStop", json!({"stopReason": "tool_use"}));
    let chunks = stream(&[
        ("messageStart", json!({"role": "assistant"})),
        start(0, "tu_1", "get_weather"),
        delta(0, "{\"city\":\"Paris\"}"),
        start(1, "tu_2", "json_output"),
        delta(1, "{\"name\":"),
        delta(1, "\"Paris\"}"),
        stop.clone(),
    ]);
    let deltas: Vec<&Value> = chunks.iter().map(|c| &c["delta"]).collect();
    assert_eq!(
        deltas[1],
        &json!({"tool_calls": [{"index": 0, "id": "tu_1", "type": "function",
            "function": {"name": "get_weather", "arguments": ""}}]})
    );
    assert_eq!(
        deltas[2],
        &json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":\"Paris\"}"}}]})
    );
    assert_eq!(deltas[3], &json!({"content": "{\"name\":"}));
    assert_eq!(deltas[4], &json!({"content": "\"Paris\"}"}));
    assert_eq!(chunks[5]["finish_reason"], "tool_calls");
    assert_eq!(chunks.len(), 6);
    // json_output alone: content and `stop`.
    let chunks = stream(&[
        start(0, "tu_2", "json_output"),
        delta(0, "{\"name\":\"Paris\"}"),
        stop,
    ]);
    assert_eq!(
        chunks[1]["delta"],
        json!({"content": "{\"name\":\"Paris\"}"})
    );
    assert_eq!(chunks[2]["finish_reason"], "stop");
}
