//! Arbitrary bytes as an Anthropic Messages (`POST /v1/messages`) request body.
//!
//! For a model other than Claude (Converse): parsing and translation must succeed or fail with
//! an error, never panic; a successful translation must be a conversation Bedrock takes: it
//! starts with a user turn, turns alternate, no turn or text block is empty, every tool-use id
//! matches `[a-zA-Z0-9_-]{1,64}`, tool blocks come with a `toolConfig`, and it serialises. The
//! count_tokens Converse body of the same bytes must not panic either.
//!
//! For a Claude model (InvokeModel), on the same bytes: the body rewrite must succeed or fail
//! with an error, never panic; a success is a JSON object with exactly one `anthropic_version`,
//! equal to `bedrock-2023-05-31`, and no `model` or `stream` member. The count_tokens body is
//! `{"input":{"invokeModel":{"body":B}}}` with `B` base64 of such an object, with
//! `max_tokens: 1`.
#![no_main]

#[path = "common/conversation.rs"]
mod conversation;

use anthropic_types::MessagesRequest;
use base64::Engine;
use bedrock_translate::messages::invoke::{
    BEDROCK_ANTHROPIC_VERSION, RawObject, count_tokens_request, invoke_request,
};
use bedrock_translate::messages::to_converse::messages_to_converse;
use bedrock_translate::messages::{count_tokens_converse, is_claude};
use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::ConverseOptions;
use libfuzzer_sys::fuzz_target;

const BETAS: &str = "interleaved-thinking-2025-05-14, nope, context-1m-2025-08-07";

fuzz_target!(|data: &[u8]| {
    let betas = (data.len() % 2 == 0).then_some(BETAS);
    if let Ok(invoke) = invoke_request(data, betas) {
        check_invoke_body(&invoke.body);
    }
    if let Ok((_, wrapped)) = count_tokens_request(data, betas) {
        let wrapped: serde_json::Value = serde_json::from_slice(&wrapped).unwrap();
        let body = wrapped["input"]["invokeModel"]["body"].as_str().unwrap();
        let body = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let object = check_invoke_body(&body);
        let max_tokens: Vec<_> = object.0.iter().filter(|(k, _)| k == "max_tokens").collect();
        assert_eq!(max_tokens.len(), 1);
        assert_eq!(max_tokens[0].1.get(), "1");
    }

    let Ok(request) = serde_json::from_slice::<MessagesRequest>(data) else {
        return;
    };
    let model = ModelId::parse(&request.model)
        .ok()
        .filter(|m| !is_claude(m))
        .unwrap_or_else(|| ModelId::parse("amazon.nova-pro-v1:0").unwrap());
    let _ = count_tokens_converse(data, &model);
    let options = ConverseOptions::default().with_prompt_caching(conversation::caching_for(data));
    if let Ok(converse) = messages_to_converse(request, &model, &options) {
        conversation::check(&converse);
        serde_json::to_vec(&converse).unwrap();
    }
});

/// The body is one JSON object for InvokeModel; its members.
fn check_invoke_body(body: &[u8]) -> RawObject {
    let object: RawObject = serde_json::from_slice(body).unwrap();
    assert!(object.0.iter().all(|(k, _)| k != "model" && k != "stream"));
    let versions: Vec<_> = object
        .0
        .iter()
        .filter(|(k, _)| k == "anthropic_version")
        .collect();
    assert_eq!(versions.len(), 1);
    let version: String = serde_json::from_str(versions[0].1.get()).unwrap();
    assert_eq!(version, BEDROCK_ANTHROPIC_VERSION);
    assert_eq!(version, "bedrock-2023-05-31");
    object
}
