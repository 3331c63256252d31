//! What every translation to Converse must give, shared by the fuzz targets that translate a
//! front door's request (included with `#[path]`).

use bedrock_translate::converse::{ConverseRequest, Role};
use bedrock_translate::request::{PromptCaching, is_bedrock_tool_use_id};

/// A conversation Bedrock takes: it starts with a user turn, turns alternate, no turn or text
/// block is empty, every tool-use id matches `[a-zA-Z0-9_-]{1,64}`, and tool blocks come with a
/// `toolConfig`.
pub fn check(converse: &ConverseRequest) {
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

/// A prompt-caching mode picked by the input, so that every mode gets fuzzed.
#[allow(dead_code)] // not every target varies the mode
pub fn caching_for(data: &[u8]) -> PromptCaching {
    [
        PromptCaching::Off,
        PromptCaching::Explicit,
        PromptCaching::Auto,
    ][data.len() % 3]
}
