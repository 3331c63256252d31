//! A Converse answer -> the `response` object, as a pure function, and the record a store keeps.
//!
//! Each content block of the answer is one output item, in order: reasoning (`rs_`, its text as
//! the summary, its signature as `encrypted_content` when `include` asks for it), text (a
//! `msg_` message with one `output_text` part; the `json_output` tool's input counts as text)
//! and tool uses (`fc_` function calls, `call_id` = Bedrock's `toolUseId`). The stream state
//! machine ([`super::stream`]) makes the same items, so a streamed answer ends as the whole one.

use openai_types::responses::{
    FunctionCallItem, IncompleteDetails, InputTokensDetails, OutputContent, OutputItem,
    OutputMessage, OutputTokensDetails, ReasoningItem, Response, ResponseError, ResponseUsage,
    SummaryText,
};
use serde_json::Value;

use super::request::{AnswerOptions, new_id};
use crate::converse::{ContentBlock, ConverseResponse, TokenUsage};
use crate::request::JSON_OUTPUT_TOOL;

/// Translates a whole Converse answer, filling `template` (the response as created).
pub fn converse_to_response(
    answer: ConverseResponse,
    template: &Response,
    options: AnswerOptions,
) -> Response {
    let blocks = answer.output.message.map(|m| m.content).unwrap_or_default();
    let output = blocks
        .into_iter()
        .filter_map(|block| output_item(block, options))
        .collect();
    finish(template, output, &answer.stop_reason, Some(&answer.usage))
}

/// The output item of one content block (none for blocks without an equivalent).
fn output_item(block: ContentBlock, options: AnswerOptions) -> Option<OutputItem> {
    if let Some(text) = block.text {
        return Some(message_item(new_id("msg_"), text));
    }
    if let Some(tool_use) = block.tool_use {
        if options.json_output_tool && tool_use.name == JSON_OUTPUT_TOOL {
            return Some(message_item(new_id("msg_"), tool_use.input.to_string()));
        }
        return Some(function_call_item(
            new_id("fc_"),
            tool_use.tool_use_id,
            tool_use.name,
            arguments(&tool_use.input),
        ));
    }
    let reasoning = block.reasoning_content?;
    let (text, signature) = match (reasoning.reasoning_text, reasoning.redacted_content) {
        (Some(text), _) => (text.text, text.signature),
        (None, Some(redacted)) => (String::new(), Some(redacted)),
        (None, None) => return None,
    };
    Some(reasoning_item(
        new_id("rs_"),
        text,
        signature.filter(|_| options.encrypted_reasoning),
    ))
}

/// Tool input as the `arguments` string (`{}` for none).
fn arguments(input: &Value) -> String {
    if input.is_null() {
        "{}".to_owned()
    } else {
        input.to_string()
    }
}

/// A completed assistant message of one `output_text` part.
pub fn message_item(id: String, text: String) -> OutputItem {
    OutputItem::Message(OutputMessage {
        id,
        status: "completed".to_owned(),
        role: "assistant".to_owned(),
        content: vec![OutputContent::OutputText {
            text,
            annotations: Vec::new(),
        }],
    })
}

/// A completed function call.
pub fn function_call_item(
    id: String,
    call_id: String,
    name: String,
    arguments: String,
) -> OutputItem {
    OutputItem::FunctionCall(FunctionCallItem {
        id: Some(id),
        call_id,
        name,
        arguments,
        status: Some("completed".to_owned()),
    })
}

/// A completed reasoning item: the text as its one summary part (none when empty).
pub fn reasoning_item(id: String, text: String, signature: Option<String>) -> OutputItem {
    OutputItem::Reasoning(ReasoningItem {
        id: Some(id),
        summary: if text.is_empty() {
            Vec::new()
        } else {
            vec![SummaryText { text }]
        },
        content: None,
        encrypted_content: signature,
        status: Some("completed".to_owned()),
    })
}

/// The final response: `template` with `output`, the status `stop_reason` means and `usage`.
pub fn finish(
    template: &Response,
    output: Vec<OutputItem>,
    stop_reason: &str,
    usage: Option<&TokenUsage>,
) -> Response {
    let mut response = template.clone();
    response.output = output;
    response.usage = usage.map(response_usage);
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => {
            incomplete(&mut response, "max_output_tokens")
        }
        "guardrail_intervened" | "content_filtered" => incomplete(&mut response, "content_filter"),
        "malformed_model_output" | "malformed_tool_use" => {
            let message = format!("the model's answer could not be used ({stop_reason})");
            fail(&mut response, "server_error", message);
        }
        _ => response.status = "completed".to_owned(),
    }
    response
}

fn incomplete(response: &mut Response, reason: &str) {
    response.status = "incomplete".to_owned();
    response.incomplete_details = Some(IncompleteDetails {
        reason: reason.to_owned(),
    });
}

/// Marks `response` failed with `code` and `message`.
pub fn fail(response: &mut Response, code: &str, message: String) {
    response.status = "failed".to_owned();
    response.error = Some(ResponseError {
        code: code.to_owned(),
        message,
    });
}

/// Bedrock usage as a response's (the same sums as chat's, [`crate::response::usage`]).
pub fn response_usage(usage: &TokenUsage) -> ResponseUsage {
    let chat = crate::response::usage(usage);
    ResponseUsage {
        input_tokens: chat.prompt_tokens,
        input_tokens_details: InputTokensDetails {
            cached_tokens: chat.prompt_tokens_details.cached_tokens,
            cache_write_tokens: chat.prompt_tokens_details.cache_write_tokens,
        },
        output_tokens: chat.completion_tokens,
        output_tokens_details: OutputTokensDetails {
            reasoning_tokens: 0,
        },
        total_tokens: chat.total_tokens,
    }
}

/// The record a store keeps (see the [module docs](super)): the response, this request's input
/// items (with ids), and the whole conversation (`context`, then the input items).
pub fn record(response: &Response, input_items: &[Value], context: &[Value]) -> bytes::Bytes {
    let whole: Vec<&Value> = context.iter().chain(input_items).collect();
    let record = serde_json::json!({
        "response": response,
        "input_items": input_items,
        "context": whole,
    });
    bytes::Bytes::from(serde_json::to_vec(&record).expect("records serialise"))
}
