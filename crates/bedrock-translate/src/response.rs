//! Bedrock Converse response -> OpenAI `chat.completion`, as a pure function.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::{converse::ConverseResponse, response::{converse_to_chat, ResponseContext}};
//!
//! let converse: ConverseResponse = serde_json::from_str(r#"{
//!   "output":{"message":{"role":"assistant","content":[{"text":"Hello"}]}},
//!   "stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4},
//!   "metrics":{"latencyMs":10}}"#).unwrap();
//! let ctx = ResponseContext { id: "chatcmpl-1".into(), created: 1, model: "m".into(), json_output_tool: false };
//! let chat = converse_to_chat(converse, &ctx);
//! assert_eq!(chat.choices[0].message.content.as_deref(), Some("Hello"));
//! assert_eq!(chat.usage.total_tokens, 4);
//! ```

use openai_types::chat::{
    AssistantMessage, ChatCompletion, Choice, FinishReason, FunctionCall, PromptTokensDetails,
    ToolCall, Usage,
};

use crate::converse::{ConverseResponse, TokenUsage};
use crate::request::JSON_OUTPUT_TOOL;

/// What a response needs besides Bedrock's answer: the identity shared by every chunk of a
/// stream. Passed in so that translation stays a pure function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseContext {
    /// `chatcmpl-...`.
    pub id: String,
    /// Unix seconds.
    pub created: u64,
    /// The model name to report (the one the client asked for).
    pub model: String,
    /// JSON output was requested through the forced [`JSON_OUTPUT_TOOL`]: its input is the
    /// answer's content, not a tool call.
    pub json_output_tool: bool,
}

impl ResponseContext {
    /// A context with a fresh random id and the current time.
    pub fn new(model: impl Into<String>) -> Self {
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            id: completion_id(),
            created,
            model: model.into(),
            json_output_tool: false,
        }
    }
}

/// A random `chatcmpl-` id of 29 characters, as OpenAI's.
pub fn completion_id() -> String {
    random_id("chatcmpl-", 20)
}

/// A random id: `prefix` then `len` alphanumerics.
pub fn random_id(prefix: &str, len: usize) -> String {
    let mut id = String::with_capacity(prefix.len() + len);
    id.push_str(prefix);
    id.extend(std::iter::repeat_with(fastrand::alphanumeric).take(len));
    id
}

/// Translates a Converse answer into a chat completion.
pub fn converse_to_chat(response: ConverseResponse, ctx: &ResponseContext) -> ChatCompletion {
    let mut text: Option<String> = None;
    let mut reasoning: Option<String> = None;
    let mut tool_calls = Vec::new();
    let blocks = response
        .output
        .message
        .map(|m| m.content)
        .unwrap_or_default();
    for block in blocks {
        if let Some(t) = block.text {
            text.get_or_insert_with(String::new).push_str(&t);
        } else if let Some(cited) = block.citations_content {
            // Chat has no document citations: the cited text alone.
            let text = text.get_or_insert_with(String::new);
            cited.content.iter().for_each(|c| text.push_str(&c.text));
        } else if let Some(tool_use) = block.tool_use {
            if ctx.json_output_tool && tool_use.name == JSON_OUTPUT_TOOL {
                text.get_or_insert_with(String::new)
                    .push_str(&tool_use.input.to_string());
                continue;
            }
            tool_calls.push(ToolCall {
                id: tool_use.tool_use_id,
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: tool_use.name,
                    arguments: tool_use.input.to_string(),
                },
            });
        } else if let Some(r) = block.reasoning_content.and_then(|r| r.reasoning_text) {
            reasoning.get_or_insert_with(String::new).push_str(&r.text);
        }
    }
    let tool_calls_empty = tool_calls.is_empty();
    ChatCompletion {
        id: ctx.id.clone(),
        object: "chat.completion".to_owned(),
        created: ctx.created,
        model: ctx.model.clone(),
        choices: vec![Choice {
            index: 0,
            message: AssistantMessage {
                role: "assistant".to_owned(),
                content: text,
                refusal: None,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                reasoning_content: reasoning,
            },
            logprobs: None,
            finish_reason: match finish_reason(&response.stop_reason) {
                FinishReason::ToolCalls if tool_calls_empty => FinishReason::Stop,
                reason => reason,
            },
        }],
        usage: usage(&response.usage),
        system_fingerprint: None,
    }
}

/// Bedrock `stopReason` -> OpenAI `finish_reason`.
pub fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        other => {
            tracing::debug!(
                stop_reason = other,
                "unusual Bedrock stop reason mapped to 'stop'"
            );
            FinishReason::Stop
        }
    }
}

/// Bedrock usage -> OpenAI usage. Bedrock's `inputTokens` leaves out the tokens read from or
/// written to the prompt cache; OpenAI's `prompt_tokens` counts them, with the cached ones
/// repeated in `prompt_tokens_details.cached_tokens`. The counts come from upstream, so the sums
/// saturate at `u64::MAX` rather than overflow.
pub fn usage(usage: &TokenUsage) -> Usage {
    let cache_read = usage.cache_read_input_tokens.unwrap_or(0);
    let cache_write = usage.cache_write_input_tokens.unwrap_or(0);
    let prompt_tokens = usage
        .input_tokens
        .saturating_add(cache_read)
        .saturating_add(cache_write);
    Usage {
        prompt_tokens,
        completion_tokens: usage.output_tokens,
        total_tokens: prompt_tokens.saturating_add(usage.output_tokens),
        prompt_tokens_details: PromptTokensDetails {
            cached_tokens: cache_read,
            cache_write_tokens: cache_write,
        },
        ..Usage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cited_text_is_text() {
        let converse: ConverseResponse = serde_json::from_value(serde_json::json!({
            "output": {"message": {"role": "assistant", "content": [{"text": "A. "},
                {"citationsContent": {"content": [{"text": "Paris "}, {"text": "is in France."}],
                 "citations": [{"title": "atlas", "location": {"documentChar": {"documentIndex": 0, "start": 0, "end": 5}}}]}}]}},
            "stopReason": "end_turn", "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}}))
        .unwrap();
        let ctx = ResponseContext {
            id: "chatcmpl-1".into(),
            created: 1,
            model: "m".into(),
            json_output_tool: false,
        };
        let chat = converse_to_chat(converse, &ctx);
        assert_eq!(
            chat.choices[0].message.content.as_deref(),
            Some("A. Paris is in France.")
        );
    }
}
