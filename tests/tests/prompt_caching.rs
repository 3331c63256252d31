//! End to end: `cache_control` markers become Converse cache points (for models with prompt
//! caching), `--prompt-caching` chooses what they do, and the cache's token counts come back
//! in `usage` and in the Prometheus counters.

use e2e_tests::{Gateway, Mock, credential_headers, send, sse_data};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const SONNET: &str = "anthropic.claude-3-7-sonnet-20250219-v1:0";
const HAIKU3: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn marked(model: &str, last: &str) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a careful assistant with long instructions.",
             "cache_control": {"type": "ephemeral"}},
            {"role": "user", "content": [
                {"type": "text", "text": "A long shared context here.", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                {"type": "text", "text": last}
            ]}
        ],
        "tools": [{"type": "function", "function": {"name": "lookup"}, "cache_control": {"type": "ephemeral"}}],
        "tool_choice": "none"
    })
}

/// The Converse body of the `i`th call the mock received.
async fn sent(mock: &Mock, i: usize) -> Value {
    serde_json::from_str(mock.requests().await[i]["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn markers_become_cache_points_and_usage_reports_reads_and_writes() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let cp = json!({"cachePoint": {"type": "default"}});
    let (status, _, body) = gateway.chat(marked(SONNET, "Question?")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let converse = sent(&mock, 0).await;
    assert_eq!(converse["system"][1], cp);
    assert_eq!(
        converse["messages"][0]["content"][1],
        json!({"cachePoint": {"type": "default", "ttl": "1h"}})
    );
    assert!(
        converse.get("toolConfig").is_none(),
        "tool_choice none: no tools"
    );
    // Written: the 8 words of the system prompt and the 5 of the first part.
    let details = &body["usage"]["prompt_tokens_details"];
    assert_eq!(
        (
            details["cached_tokens"].as_u64(),
            details["cache_write_tokens"].as_u64()
        ),
        (Some(0), Some(13)),
        "{body}"
    );
    assert_eq!(body["usage"]["prompt_tokens"], 14);

    // Read back, streamed.
    let mut request = marked(SONNET, "Again [mock:cache_read]");
    request["stream"] = json!(true);
    request["stream_options"] = json!({"include_usage": true});
    let url = format!("{}/v1/chat/completions", gateway.url());
    let (status, _, bytes) = send(
        Method::POST,
        &url,
        &credential_headers(),
        Some(request.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events = sse_data(&bytes);
    let usage: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(
        usage["usage"]["prompt_tokens_details"],
        json!({"cached_tokens": 13}),
        "{usage}"
    );

    // A tool marker, with tools declared.
    let mut with_tools = marked(SONNET, "Call it");
    with_tools["tool_choice"] = json!("auto");
    let (status, _, body) = gateway.chat(with_tools).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(sent(&mock, 2).await["toolConfig"]["tools"][1], cp);

    let (_, _, metrics) = send(
        Method::GET,
        &format!("{}/metrics", gateway.url()),
        &[],
        None,
    )
    .await;
    let metrics = String::from_utf8(metrics.to_vec()).unwrap();
    for needle in [
        format!(r#"bedrock_gateway_tokens_total{{model="{SONNET}",direction="cache_write"}} 26"#),
        format!(r#"bedrock_gateway_tokens_total{{model="{SONNET}",direction="cache_read"}} 13"#),
    ] {
        assert!(
            metrics.contains(&needle),
            "{needle} missing from\n{metrics}"
        );
    }
}

#[tokio::test]
async fn markers_are_dropped_for_models_without_caching_and_capped_at_four() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, _, body) = gateway.chat(marked(HAIKU3, "Question?")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!sent(&mock, 0).await.to_string().contains("cachePoint"));
    assert!(
        body["usage"]["prompt_tokens_details"]
            .get("cache_write_tokens")
            .is_none()
    );

    let part =
        |text: &str| json!({"type": "text", "text": text, "cache_control": {"type": "ephemeral"}});
    let six = json!({"model": SONNET, "messages": [
        {"role": "system", "content": [part("Sys one."), part("Sys two.")]},
        {"role": "user", "content": [part("a"), part("b"), part("c"), part("d")]}
    ]});
    let (status, _, body) = gateway.chat(six).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let converse = sent(&mock, 1).await;
    // The system message's parts are one block with one cache point; the last four are kept.
    assert_eq!(converse["system"].as_array().unwrap().len(), 1);
    let points = converse["messages"][0]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b.get("cachePoint").is_some())
        .count();
    assert_eq!(points, 4, "{converse}");
}

#[tokio::test]
async fn auto_adds_system_and_tool_points_and_off_sends_none() {
    let mock = Mock::start();
    let auto = Gateway::start(&mock, &[], &["--prompt-caching", "auto"]);
    let plain = json!({"model": SONNET, "messages": [
        {"role": "system", "content": "Instructions."}, {"role": "user", "content": "Hi"}],
        "tools": [{"type": "function", "function": {"name": "lookup"}}]});
    let (status, _, body) = auto.chat(plain.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let converse = sent(&mock, 0).await;
    let cp = json!({"cachePoint": {"type": "default"}});
    assert_eq!(converse["system"][1], cp);
    assert_eq!(converse["toolConfig"]["tools"][1], cp);
    let off = Gateway::start(&mock, &[("BEDROCK_GATEWAY_PROMPT_CACHING", "off")], &[]);
    let (status, _, body) = off.chat(marked(SONNET, "Question?")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!sent(&mock, 1).await.to_string().contains("cachePoint"));
}
