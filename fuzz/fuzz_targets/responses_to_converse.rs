//! Arbitrary bytes as a Responses (`POST /v1/responses`) request body: parsing and translation
//! must succeed or fail with an error, never panic; a successful translation must be a
//! conversation Bedrock takes: it starts with a user turn, turns alternate, no turn or text
//! block is empty, every tool-use id matches `[a-zA-Z0-9_-]{1,64}`, and tool blocks come with a
//! `toolConfig`; the Converse request, the response template and the stored items serialise.
#![no_main]

#[path = "common/conversation.rs"]
mod conversation;

use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::ConverseOptions;
use bedrock_translate::responses::request::{Identity, Inputs, responses_to_converse};
use libfuzzer_sys::fuzz_target;
use openai_types::responses::CreateResponse;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<CreateResponse>(data) else {
        return;
    };
    let model = request
        .model
        .as_deref()
        .and_then(|m| ModelId::parse(m).ok())
        .unwrap_or_else(|| ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap());
    let options = ConverseOptions::default().with_prompt_caching(conversation::caching_for(data));
    let inputs = Inputs {
        model: &model,
        previous: None,
        options: &options,
        defaults: None,
    };
    if let Ok(call) = responses_to_converse(request, inputs, Identity::new()) {
        conversation::check(&call.converse);
        serde_json::to_vec(&call.converse).unwrap();
        serde_json::to_vec(&call.template).unwrap();
        serde_json::to_vec(&call.input_items).unwrap();
    }
});
