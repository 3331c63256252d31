//! End to end: the OpenAI features beyond plain text, through the fake Bedrock.

use e2e_tests::{Gateway, Mock};
use http::StatusCode;
use serde_json::{Value, json};

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

async fn sent_body(mock: &Mock) -> Value {
    let requests = mock.requests().await;
    serde_json::from_str(requests.last().unwrap()["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn reasoning_effort_becomes_a_thinking_budget_and_reasoning_comes_back() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let body = json!({"model": "us.anthropic.claude-3-7-sonnet-20250219-v1:0", "reasoning_effort": "low",
        "messages": [{"role": "user", "content": "Why?"}]});
    let (status, _, answer) = gateway.chat(body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        sent_body(&mock).await["additionalModelRequestFields"]["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    let message = &answer["choices"][0]["message"];
    assert!(
        message["reasoning_content"]
            .as_str()
            .unwrap()
            .contains("Why?"),
        "{answer}"
    );
    assert!(message["content"].as_str().unwrap().contains("Why?"));

    let mut stream = body;
    stream["stream"] = json!(true);
    let url = format!("{}/v1/chat/completions", gateway.url());
    let (status, _, bytes) = e2e_tests::send(
        http::Method::POST,
        &url,
        &e2e_tests::credential_headers(),
        Some(stream.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let reasoning: String = e2e_tests::sse_data(&bytes)
        .iter()
        .filter(|e| *e != "[DONE]")
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["reasoning_content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(reasoning.contains("Thinking about"), "{reasoning}");
}

#[tokio::test]
async fn json_schema_output_through_a_forced_tool_comes_back_as_content() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let body = json!({"model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [{"role": "user", "content": "A city please"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "city",
            "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}});
    let (status, _, answer) = gateway.chat(body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let choice = &answer["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    assert!(choice["message"].get("tool_calls").is_none(), "{answer}");
    let content: Value =
        serde_json::from_str(choice["message"]["content"].as_str().unwrap()).expect("JSON content");
    assert_eq!(content, json!({"name": "mock"}));
    assert_eq!(
        sent_body(&mock).await["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "json_output"}})
    );
}

#[tokio::test]
async fn legacy_functions_images_and_unsupported_fields() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let body = json!({"model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [
            {"role": "user", "content": "Go"},
            {"role": "assistant", "content": null, "function_call": {"name": "lookup", "arguments": "{\"q\":1}"}},
            {"role": "function", "name": "lookup", "content": "found it"}
        ],
        "functions": [{"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "integer"}}}}]});
    let (status, _, answer) = gateway.chat(body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("found it"),
        "{answer}"
    );

    let image = json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG}")}}]}]});
    let (status, _, answer) = gateway.chat(image).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("image/png 70 bytes"),
        "{answer}"
    );
    assert_eq!(
        sent_body(&mock).await["messages"][0]["content"][1]["image"]["format"],
        "png"
    );

    let before = mock.requests().await.len();
    for (body, param) in [
        (
            json!({"messages": [{"role": "user", "content": "x"}], "n": 3}),
            "n",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}),
            "messages[0].content[0].image_url.url",
        ),
    ] {
        let (status, _, answer) = gateway.chat(body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["param"], param);
    }
    assert_eq!(
        mock.requests().await.len(),
        before,
        "refused before Bedrock"
    );
}
