//! End to end, the Responses API (`POST /v1/responses`): the real gateway binary against the
//! real mock binary, whole and streamed answers.

use e2e_tests::{Gateway, Mock, credential_headers, send};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const SONNET_45: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

fn weather_tool() -> Value {
    json!({"type": "function", "name": "get_weather", "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}})
}

async fn post(gateway: &Gateway, body: &Value) -> (StatusCode, Vec<u8>) {
    let url = format!("{}/v1/responses", gateway.url());
    let (status, _, bytes) = send(
        Method::POST,
        &url,
        &credential_headers(),
        Some(body.to_string()),
    )
    .await;
    (status, bytes.to_vec())
}

async fn create(gateway: &Gateway, body: &Value) -> (StatusCode, Value) {
    let (status, bytes) = post(gateway, body).await;
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

/// The events of a streamed answer, after checking that each `event:` line names its data's
/// type and that sequence numbers count from 0.
async fn stream(gateway: &Gateway, body: &Value) -> Vec<Value> {
    let (status, bytes) = post(gateway, body).await;
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    let events: Vec<Value> = text
        .split_terminator("\n\n")
        .map(|event| {
            let (name, data) = event.split_once('\n').unwrap();
            let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
            assert_eq!(
                name.strip_prefix("event: ").unwrap(),
                data["type"],
                "{event}"
            );
            data
        })
        .collect();
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["sequence_number"], i, "{event}");
    }
    events
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// The text of a response's message items.
fn output_text(response: &Value) -> String {
    response["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().unwrap().clone())
        .filter_map(|part| part["text"].as_str().map(str::to_owned))
        .collect()
}

/// The Converse body the mock received last.
async fn last_sent(mock: &Mock) -> Value {
    let requests = mock.requests().await;
    let last = requests.last().unwrap();
    serde_json::from_str(last["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_text_answer_is_a_completed_response_with_usage_and_echoes() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let body = json!({"model": HAIKU, "instructions": "Be brief.", "input": "Hello there",
        "store": false, "metadata": {"run": "e2e"}, "temperature": 0.5});
    let (status, response) = create(&gateway, &body).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert!(response["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(response["object"], "response");
    assert_eq!(response["status"], "completed");
    assert_eq!(response["model"], HAIKU);
    assert_eq!(output_text(&response), "You said: Hello there");
    assert!(
        response["output"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("msg_")
    );
    assert_eq!(response["instructions"], "Be brief.");
    assert_eq!(response["metadata"], json!({"run": "e2e"}));
    assert_eq!(response["temperature"], 0.5);
    assert_eq!(response["store"], false);
    assert_eq!(response["error"], Value::Null);
    let usage = &response["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap()
    );
    assert_eq!(usage["input_tokens_details"]["cache_write_tokens"], 0);
    assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 0);
    assert_eq!(
        last_sent(&mock).await,
        json!({"system": [{"text": "Be brief."}],
            "messages": [{"role": "user", "content": [{"text": "Hello there"}]}],
            "inferenceConfig": {"temperature": 0.5}})
    );
}

#[tokio::test]
async fn a_function_tool_round_trip_through_function_call_output() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let input = json!([{"role": "user", "content": "Weather in Paris?"}]);
    let body = json!({"model": HAIKU, "input": input, "tools": [weather_tool()], "tool_choice": "required", "store": false});
    let (status, first) = create(&gateway, &body).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let call = first["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["type"] == "function_call")
        .unwrap_or_else(|| panic!("no call: {first}"))
        .clone();
    assert_eq!(call["name"], "get_weather");
    assert!(call["id"].as_str().unwrap().starts_with("fc_"));
    let arguments: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert!(arguments.is_object(), "{arguments}");

    let mut items = input.as_array().unwrap().clone();
    items.extend(first["output"].as_array().unwrap().iter().cloned());
    items.push(json!({"type": "function_call_output", "call_id": call["call_id"], "output": "18C and sunny"}));
    let body = json!({"model": HAIKU, "input": items, "tools": [weather_tool()], "store": false});
    let (status, second) = create(&gateway, &body).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert!(output_text(&second).contains("18C and sunny"), "{second}");
    let sent = last_sent(&mock).await;
    assert_eq!(
        sent["messages"][2]["content"][0]["toolResult"]["toolUseId"],
        call["call_id"]
    );

    // An output answering no call is refused before Bedrock is called.
    let calls_before = mock.requests().await.len();
    let orphan = json!({"model": HAIKU, "input": [{"type": "function_call_output", "call_id": "nope", "output": "x"}]});
    let (status, error) = create(&gateway, &orphan).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["error"]["param"], "input[0].call_id");
    assert_eq!(mock.requests().await.len(), calls_before);
}

#[tokio::test]
async fn a_streamed_text_answer_ends_as_the_whole_one() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let body = json!({"model": HAIKU, "input": "Stream me please", "store": false});
    let (_, whole) = create(&gateway, &body).await;
    let mut streamed_body = body.clone();
    streamed_body["stream"] = json!(true);
    let events = stream(&gateway, &streamed_body).await;
    let kinds = types(&events);
    assert_eq!(
        kinds[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        kinds[kinds.len() - 4..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let deltas: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "You said: Stream me please");
    let id = &events[0]["response"]["id"];
    assert!(
        events
            .iter()
            .filter(|e| e.get("response").is_some())
            .all(|e| &e["response"]["id"] == id)
    );
    let last = &events.last().unwrap()["response"];
    assert_eq!(last["status"], "completed");
    assert_eq!(output_text(last), output_text(&whole));
    assert_eq!(last["usage"], whole["usage"]);
}

#[tokio::test]
async fn a_streamed_tool_call_has_its_arguments_and_a_completed_item() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let body = json!({"model": HAIKU, "input": "Weather in Paris?", "tools": [weather_tool()],
        "tool_choice": {"type": "function", "name": "get_weather"}, "stream": true, "store": false});
    let events = stream(&gateway, &body).await;
    let added = events
        .iter()
        .find(|e| e["type"] == "response.output_item.added" && e["item"]["type"] == "function_call")
        .unwrap();
    assert_eq!(added["item"]["arguments"], "");
    let done = events
        .iter()
        .find(|e| e["type"] == "response.function_call_arguments.done")
        .unwrap();
    assert_eq!(done["item_id"], added["item"]["id"]);
    let arguments: Value = serde_json::from_str(done["arguments"].as_str().unwrap()).unwrap();
    assert!(arguments.is_object());
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.completed");
    let call = &last["response"]["output"][0];
    assert_eq!(call["call_id"], added["item"]["call_id"]);
    assert_eq!(call["arguments"], done["arguments"]);
    assert_eq!(call["status"], "completed");
}

#[tokio::test]
async fn json_schema_format_answers_json_text_natively_and_through_the_tool() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let format = json!({"type": "json_schema", "name": "Echo", "strict": true,
        "schema": {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"], "additionalProperties": false}});
    for model in [SONNET_45, HAIKU] {
        let body = json!({"model": model, "input": "json please", "text": {"format": format}, "store": false});
        let (status, response) = create(&gateway, &body).await;
        assert_eq!(status, StatusCode::OK, "{response}");
        let text = output_text(&response);
        let parsed: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{model}: {response}"));
        assert!(parsed.is_object(), "{model}: {parsed}");
        assert_eq!(response["text"]["format"]["name"], "Echo");
        assert_eq!(
            response["output"].as_array().unwrap().len(),
            1,
            "{response}"
        );
        let sent = last_sent(&mock).await;
        if model == SONNET_45 {
            assert!(sent.get("outputConfig").is_some(), "{sent}");
        } else {
            assert_eq!(
                sent["toolConfig"]["toolChoice"],
                json!({"tool": {"name": "json_output"}})
            );
        }
    }
}

#[tokio::test]
async fn hosted_tools_are_400s_and_an_unknown_previous_response_a_404() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let cases = [
        (
            json!({"model": HAIKU, "input": "x", "tools": [{"type": "web_search_preview"}]}),
            "tools[0].type",
            "web_search_preview",
        ),
        (
            json!({"model": HAIKU, "input": "x", "tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]}),
            "tools[0].type",
            "code_interpreter",
        ),
        (
            json!({"model": HAIKU, "input": "x", "background": true}),
            "background",
            "background",
        ),
    ];
    for (body, param, needle) in cases {
        let (status, error) = create(&gateway, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
        assert_eq!(error["error"]["type"], "invalid_request_error");
        assert_eq!(error["error"]["param"], param);
        assert!(
            error["error"]["message"].as_str().unwrap().contains(needle),
            "{error}"
        );
    }
    // The gateway keeps responses (memory by default): an id it never kept is OpenAI's 404.
    let body = json!({"model": HAIKU, "input": "x", "previous_response_id": "resp_123"});
    let (status, error) = create(&gateway, &body).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["param"], "previous_response_id");
    assert!(mock.requests().await.is_empty());
}

#[tokio::test]
async fn max_tokens_is_incomplete_and_an_exception_mid_stream_is_response_failed() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let body = json!({"model": HAIKU, "input": "one two three four five six", "max_output_tokens": 3, "store": false});
    let (status, response) = create(&gateway, &body).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert_eq!(response["status"], "incomplete");
    assert_eq!(
        response["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(response["output"][0]["status"], "incomplete", "{response}");
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let events = stream(&gateway, &streamed).await;
    let done = events
        .iter()
        .find(|e| e["type"] == "response.output_item.done")
        .unwrap();
    assert_eq!(done["item"]["status"], "incomplete", "{done}");
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(last["response"]["output"][0]["status"], "incomplete");

    mock.fault(json!({"stream_exception": "modelStreamErrorException", "after_events": 3}))
        .await;
    let body = json!({"model": HAIKU, "input": "a b c d e f g h", "stream": true, "store": false});
    let events = stream(&gateway, &body).await;
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.failed", "{last}");
    assert_eq!(last["response"]["status"], "failed");
    assert_eq!(last["response"]["error"]["code"], "server_error");
    assert!(events.iter().all(|e| e["type"] != "response.completed"));
}

#[tokio::test]
async fn reasoning_comes_back_signed_before_its_tool_use() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let input = json!([{"role": "user", "content": "Weather in Paris?"}]);
    let body = json!({"model": SONNET_45, "input": input, "tools": [weather_tool()], "store": false,
        "reasoning": {"effort": "low"}, "include": ["reasoning.encrypted_content"]});
    let (status, first) = create(&gateway, &body).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let reasoning = &first["output"][0];
    assert_eq!(reasoning["type"], "reasoning", "{first}");
    assert_eq!(reasoning["encrypted_content"], "mock-signature");
    let call = first["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["type"] == "function_call")
        .unwrap()
        .clone();
    let mut items = input.as_array().unwrap().clone();
    items.extend(first["output"].as_array().unwrap().iter().cloned());
    items
        .push(json!({"type": "function_call_output", "call_id": call["call_id"], "output": "18C"}));
    let mut again = body.clone();
    again["input"] = Value::Array(items);
    let (status, second) = create(&gateway, &again).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let sent = last_sent(&mock).await;
    let assistant = &sent["messages"][1]["content"];
    assert_eq!(
        assistant[0]["reasoningContent"]["reasoningText"]["signature"], "mock-signature",
        "{sent}"
    );
    assert!(
        assistant
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b.get("toolUse").is_some())
    );
}

#[tokio::test]
async fn signed_reasoning_before_text_goes_back_in_its_assistant_turn() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let body = json!({"model": SONNET_45, "store": false, "input": [
        {"role": "user", "content": "Hi"},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Greet."}], "encrypted_content": "sig"},
        {"type": "reasoning", "id": "rs_2", "summary": [{"type": "summary_text", "text": "Unsigned."}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello.", "annotations": []}]},
        {"role": "user", "content": "Again"}]});
    let (status, response) = create(&gateway, &body).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert_eq!(
        last_sent(&mock).await["messages"][1],
        json!({"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "Greet.", "signature": "sig"}}},
            {"text": "Hello."}]})
    );
}

#[tokio::test]
async fn chat_path_errors_name_the_responses_field() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let pdf = json!({"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjQK"});
    let cases = [
        (
            json!({"model": HAIKU, "instructions": "Be brief.", "input": [{"role": "user", "content": "x"},
                {"role": "user", "content": [{"type": "input_image", "image_url": "https://example.com/a.png"}]}]}),
            "input[1].content[0].image_url",
        ),
        (
            json!({"model": HAIKU, "input": [{"role": "user", "content": [pdf]}]}),
            "input",
        ),
        (
            json!({"model": HAIKU, "tools": [weather_tool()], "input": [{"role": "user", "content": "x"},
                {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{oops"},
                {"type": "function_call_output", "call_id": "c1", "output": "1"}]}),
            "input[1].arguments",
        ),
    ];
    for (body, param) in cases {
        let (status, error) = create(&gateway, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
        assert_eq!(error["error"]["param"], param, "{error}");
    }
    assert!(mock.requests().await.is_empty());
}

/// "Paris is in France." as base64.
const ATLAS: &str = "UGFyaXMgaXMgaW4gRnJhbmNlLg==";

#[tokio::test]
async fn a_cited_file_is_annotated_whole_and_streamed() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let input = json!([{"role": "user", "content": [
        {"type": "input_text", "text": "Where is Paris? [mock:web_citation]"},
        {"type": "input_file", "filename": "atlas.txt", "citations": {"enabled": true},
         "file_data": format!("data:text/plain;base64,{ATLAS}")}]}]);
    let body = json!({"model": HAIKU, "input": input, "store": false});
    let (status, response) = create(&gateway, &body).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    let sent = last_sent(&mock).await;
    assert_eq!(
        sent["messages"][0]["content"][1]["document"]["citations"],
        json!({"enabled": true})
    );
    let text = output_text(&response);
    assert_eq!(
        text,
        "You said: Where is Paris? [document txt 'atlas' 19 bytes]"
    );
    let len = text.chars().count();
    let annotations = json!([
        {"type": "file_citation", "file_id": "atlas", "filename": "atlas", "index": len},
        {"type": "url_citation", "url": "https://example.com/mock", "title": "Mock web result",
         "start_index": 0, "end_index": len}]);
    assert_eq!(
        response["output"][0]["content"][0]["annotations"], annotations,
        "{response}"
    );

    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let events = stream(&gateway, &streamed).await;
    let added: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.annotation.added")
        .collect();
    assert_eq!(added.len(), 2, "{events:?}");
    for (i, event) in added.iter().enumerate() {
        assert_eq!(event["annotation_index"], i);
        assert_eq!(event["annotation"], annotations[i]);
        assert_eq!(
            (
                event["output_index"].clone(),
                event["content_index"].clone()
            ),
            (json!(0), json!(0))
        );
    }
    let done = events
        .iter()
        .find(|e| e["type"] == "response.content_part.done")
        .unwrap();
    assert_eq!(done["part"]["annotations"], annotations);
    let completed = events.last().unwrap();
    assert_eq!(completed["type"], "response.completed");
    assert_eq!(
        completed["response"]["output"][0]["content"][0]["annotations"],
        annotations
    );

    // Without `citations`, the document goes without, and nothing is annotated.
    let mut plain = input.clone();
    plain[0]["content"][1]
        .as_object_mut()
        .unwrap()
        .remove("citations");
    plain[0]["content"][0]["text"] = json!("Where is Paris?");
    let (status, response) = create(
        &gateway,
        &json!({"model": HAIKU, "input": plain, "store": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert_eq!(
        response["output"][0]["content"][0]["annotations"],
        json!([])
    );
    let sent = last_sent(&mock).await;
    assert!(
        sent["messages"][0]["content"][1]["document"]
            .get("citations")
            .is_none(),
        "{sent}"
    );
}

/// `POST /v1/responses/input_tokens` with `body`: the status and the JSON answer.
async fn count(gateway: &Gateway, body: &Value) -> (StatusCode, Value) {
    let url = format!("{}/v1/responses/input_tokens", gateway.url());
    let (status, _, bytes) = send(
        Method::POST,
        &url,
        &credential_headers(),
        Some(body.to_string()),
    )
    .await;
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

/// A response's input tokens, cache reads and writes included.
fn input_tokens(response: &Value) -> u64 {
    response["usage"]["input_tokens"].as_u64().unwrap()
}

#[tokio::test]
async fn input_tokens_counts_on_the_foundation_model_and_follows_the_previous_response() {
    const PROFILE: &str = "us.amazon.nova-lite-v1:0";
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let body = json!({"model": PROFILE, "instructions": "Be brief.",
        "input": "How many tokens is this?", "tools": [weather_tool()]});
    let (status, first) = create(&gateway, &body).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let converse = last_sent(&mock).await;

    let (status, counted) = count(&gateway, &body).await;
    assert_eq!(status, StatusCode::OK, "{counted}");
    assert_eq!(
        counted,
        json!({"object": "response.input_tokens", "input_tokens": input_tokens(&first)})
    );
    let requests = mock.requests().await;
    let last = requests.last().unwrap();
    assert_eq!(last["path"], "/model/amazon.nova-lite-v1%3A0/count-tokens");
    let sent: Value = serde_json::from_str(last["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({"input": {"converse": {"messages": converse["messages"],
            "system": converse["system"], "toolConfig": converse["toolConfig"]}}})
    );

    // With `previous_response_id`, the previous conversation counts, as it is sent.
    let next = json!({"model": PROFILE, "input": "And now, how many?",
        "previous_response_id": first["id"], "store": false});
    let (status, counted) = count(&gateway, &next).await;
    assert_eq!(status, StatusCode::OK, "{counted}");
    let (status, second) = create(&gateway, &next).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(
        counted["input_tokens"].as_u64(),
        Some(input_tokens(&second))
    );
    assert!(input_tokens(&second) > input_tokens(&first), "{second}");
    let requests = mock.requests().await;
    let counted_body: Value =
        serde_json::from_str(requests[requests.len() - 2]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        counted_body["input"]["converse"]["messages"],
        last_sent(&mock).await["messages"]
    );
    let (status, error) = count(
        &gateway,
        &json!({"model": PROFILE, "input": "x", "previous_response_id": "resp_unknown"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");

    // `input_tokens` is a route, not a response id: it is POST only.
    let url = format!("{}/v1/responses/input_tokens", gateway.url());
    let (status, _, _) = send(Method::GET, &url, &credential_headers(), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // A Bedrock error is OpenAI's error.
    let (status, error) = count(
        &gateway,
        &json!({"model": PROFILE, "input": "x [mock:error=ThrottlingException]"}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{error}");
    assert!(error["error"]["message"].is_string(), "{error}");
}
