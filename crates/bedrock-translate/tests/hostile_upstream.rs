//! An upstream that announces absurd token counts: every sum of Bedrock's usage numbers
//! saturates at `u64::MAX` instead of overflowing (a panic in debug builds, a wrapped, tiny
//! count in release builds).

use bedrock_translate::converse::ConverseResponse;
use bedrock_translate::endpoint::BedrockEndpoint;
use bedrock_translate::layer::TranslateLayer;
use bedrock_translate::model_id::ModelId;
use bedrock_translate::response::{ResponseContext, converse_to_chat};
use bedrock_translate::stream::{ChunkTranslator, StreamOptions};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use openai_types::chat::UsageField;
use serde_json::{Value, json};
use tower::{ServiceBuilder, ServiceExt, service_fn};

const MAX: u64 = u64::MAX;

fn ctx() -> ResponseContext {
    ResponseContext {
        id: "chatcmpl-test".into(),
        created: 1,
        model: "m".into(),
        json_output_tool: false,
    }
}

/// Usage numbers whose every pairwise sum overflows a `u64`.
fn huge_usage() -> Value {
    json!({
        "inputTokens": MAX - 1,
        "outputTokens": MAX - 2,
        "totalTokens": MAX,
        "cacheReadInputTokens": MAX - 3,
        "cacheWriteInputTokens": 7
    })
}

#[test]
fn converse_usage_saturates_instead_of_overflowing() {
    let converse: ConverseResponse = serde_json::from_value(json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "x"}]}},
        "stopReason": "end_turn",
        "usage": huge_usage()
    }))
    .unwrap();
    let usage = converse_to_chat(converse, &ctx()).usage;
    assert_eq!(usage.prompt_tokens, MAX);
    assert_eq!(usage.completion_tokens, MAX - 2);
    assert_eq!(usage.total_tokens, MAX);
    assert_eq!(usage.prompt_tokens_details.cached_tokens, MAX - 3);
}

#[test]
fn stream_usage_saturates_instead_of_overflowing() {
    let mut translator = ChunkTranslator::new(
        ctx(),
        StreamOptions {
            include_usage: true,
        },
    );
    let stop = serde_json::to_vec(&json!({"stopReason": "end_turn"})).unwrap();
    translator.on_event("messageStop", &stop).unwrap();
    let metadata = serde_json::to_vec(&json!({"usage": huge_usage()})).unwrap();
    let chunks = translator.on_event("metadata", &metadata).unwrap();
    let UsageField::Present(usage) = chunks.last().unwrap().usage else {
        panic!("the metadata event gives the usage chunk");
    };
    assert_eq!(usage.prompt_tokens, MAX);
    assert_eq!(usage.total_tokens, MAX);
    assert_eq!(translator.usage(), Some(usage));
}

#[tokio::test(flavor = "current_thread")]
async fn embedding_token_counts_saturate_across_calls() {
    // Titan embeds one text per call: three calls, each claiming u64::MAX - 1 input tokens.
    let bedrock = service_fn(|_: Request<Full<Bytes>>| async move {
        let answer = json!({"embedding": [0.5], "inputTextTokenCount": MAX - 1});
        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(answer.to_string()))))
    });
    let layer = TranslateLayer::new(
        ModelId::parse("amazon.titan-text-premier-v1:0").unwrap(),
        BedrockEndpoint::parse("http://127.0.0.1:9").unwrap(),
    );
    let service = ServiceBuilder::new().layer(layer).service(bedrock);
    let request = Request::post("/v1/embeddings")
        .body(Full::new(Bytes::from(
            json!({"input": ["a", "b", "c"], "model": "amazon.titan-embed-text-v2:0"}).to_string(),
        )))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let metered = *response
        .extensions()
        .get::<openai_types::chat::Usage>()
        .unwrap();
    assert_eq!(metered.prompt_tokens, MAX);
    assert_eq!(metered.total_tokens, MAX);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["data"].as_array().unwrap().len(), 3);
    assert_eq!(answer["usage"]["prompt_tokens"], MAX);
    assert_eq!(answer["usage"]["total_tokens"], MAX);
}
