//! Arbitrary bytes as a chat completion request body: parsing and translation must succeed or
//! fail with an error, never panic; a successful translation must serialise.
#![no_main]

use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::chat_to_converse;
use libfuzzer_sys::fuzz_target;
use openai_types::chat::ChatCompletionRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<ChatCompletionRequest>(data) else { return };
    let model = request
        .model
        .as_deref()
        .and_then(|m| ModelId::parse(m).ok())
        .unwrap_or_else(|| ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap());
    if let Ok(converse) = chat_to_converse(request, &model) {
        serde_json::to_vec(&converse).unwrap();
    }
});
