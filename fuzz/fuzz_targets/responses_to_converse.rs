//! Arbitrary bytes as a Responses (`POST /v1/responses`) request body: parsing and translation
//! must succeed or fail with an error, never panic; a successful translation must be a
//! conversation Bedrock takes: it starts with a user turn, turns alternate, no turn or text
//! block is empty, every tool-use id matches `[a-zA-Z0-9_-]{1,64}`, and tool blocks come with a
//! `toolConfig`; the Converse request, the response template and the stored items serialise.
#![no_main]

use bedrock_translate::converse::{ConverseRequest, Role};
use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::{ConverseOptions, PromptCaching, is_bedrock_tool_use_id};
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
    let caching = [
        PromptCaching::Off,
        PromptCaching::Explicit,
        PromptCaching::Auto,
    ];
    let options = ConverseOptions::default().with_prompt_caching(caching[data.len() % 3]);
    let inputs = Inputs {
        model: &model,
        previous: None,
        options: &options,
        defaults: None,
    };
    if let Ok(call) = responses_to_converse(request, inputs, Identity::new()) {
        check(&call.converse);
        serde_json::to_vec(&call.converse).unwrap();
        serde_json::to_vec(&call.template).unwrap();
        serde_json::to_vec(&call.input_items).unwrap();
    }
});

fn check(converse: &ConverseRequest) {
    assert_eq!(converse.messages[0].role, Role::User);
    for pair in converse.messages.windows(2) {
        assert_ne!(pair[0].role, pair[1].role);
    }
    let mut tool_blocks = false;
    for message in &converse.messages {
        assert!(!message.content.is_empty());
        for block in &message.content {
            assert!(block.text.as_ref().is_none_or(|t| !t.is_empty()));
            if let Some(tool_use) = &block.tool_use {
                assert!(is_bedrock_tool_use_id(&tool_use.tool_use_id));
                tool_blocks = true;
            }
            if let Some(result) = &block.tool_result {
                assert!(is_bedrock_tool_use_id(&result.tool_use_id));
                tool_blocks = true;
            }
        }
    }
    if tool_blocks {
        assert!(
            converse
                .tool_config
                .as_ref()
                .is_some_and(|c| !c.tools.is_empty())
        );
    }
}
