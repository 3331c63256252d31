//! Arbitrary bytes as a chat completion request body: parsing and translation must succeed or
//! fail with an error, never panic; a successful translation must be a conversation Bedrock
//! takes: it starts with a user turn, turns alternate, no turn or text block is empty, every
//! tool-use id matches `[a-zA-Z0-9_-]{1,64}`, and tool blocks come with a `toolConfig`.
#![no_main]

#[path = "common/conversation.rs"]
mod conversation;

use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::chat_to_converse;
use libfuzzer_sys::fuzz_target;
use openai_types::chat::ChatCompletionRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<ChatCompletionRequest>(data) else {
        return;
    };
    let model = request
        .model
        .as_deref()
        .and_then(|m| ModelId::parse(m).ok())
        .unwrap_or_else(|| ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap());
    if let Ok(converse) = chat_to_converse(request, &model) {
        conversation::check(&converse);
        serde_json::to_vec(&converse).unwrap();
    }
});
