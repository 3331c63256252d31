//! A Converse answer -> the `response` object, as a pure function, and the record a store keeps.
//!
//! Each content block of the answer is one output item, in order: reasoning (`rs_`, its text as
//! the summary, its signature as `encrypted_content` when `include` asks for it), text (a
//! `msg_` message with one `output_text` part; the `json_output` tool's input counts as text;
//! `citationsContent` is text with `annotations`, see [`super::citations`])
//! and tool uses (`fc_` function calls, `call_id` = Bedrock's `toolUseId`). The stream state
//! machine ([`super::stream`]) makes the same items, so a streamed answer ends as the whole one.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::converse::ConverseResponse;
//! use bedrock_translate::model_id::ModelId;
//! use bedrock_translate::request::ConverseOptions;
//! use bedrock_translate::responses::request::{Identity, Inputs, responses_to_converse};
//! use bedrock_translate::responses::response::converse_to_response;
//!
//! let model = ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
//! let inputs = Inputs { model: &model, previous: None, options: &ConverseOptions::default(), defaults: None };
//! let call = responses_to_converse(serde_json::from_str(r#"{"input":"Hi"}"#).unwrap(), inputs, Identity::new()).unwrap();
//! let answer: ConverseResponse = serde_json::from_str(r#"{
//!   "output":{"message":{"role":"assistant","content":[{"text":"Hello"}]}},
//!   "stopReason":"max_tokens","usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4}}"#).unwrap();
//! let response = serde_json::to_value(converse_to_response(answer, &call.template, call.answer)).unwrap();
//! assert_eq!(response["status"], "incomplete");
//! assert_eq!(response["incomplete_details"]["reason"], "max_output_tokens");
//! assert_eq!(response["output"][0]["content"][0]["text"], "Hello");
//! assert_eq!(response["usage"]["total_tokens"], 4);
//! ```

use openai_types::responses::{
    FunctionCallItem, IncompleteDetails, InputTokensDetails, OutputContent, OutputItem,
    OutputMessage, OutputTokensDetails, ReasoningItem, Response, ResponseError, ResponseUsage,
    SummaryText,
};
use serde_json::Value;

use super::citations::annotations;
use super::request::{AnswerOptions, new_id};
use crate::converse::{ContentBlock, ConverseResponse, TokenUsage};
use crate::request::JSON_OUTPUT_TOOL;

/// Translates a whole Converse answer, filling `template` (the response as created): the
/// response as the client sees it ([`converse_to_answer`] without the full output).
pub fn converse_to_response(
    answer: ConverseResponse,
    template: &Response,
    options: AnswerOptions,
) -> Response {
    converse_to_answer(answer, template, options).0
}

/// Translates a whole Converse answer into the response as the client sees it and the full
/// output items, reasoning signatures kept whatever `include` asked (the record's `output`,
/// which a continuation sends back to Bedrock).
pub fn converse_to_answer(
    answer: ConverseResponse,
    template: &Response,
    options: AnswerOptions,
) -> (Response, Vec<OutputItem>) {
    let blocks = answer.output.message.map(|m| m.content).unwrap_or_default();
    let output = blocks
        .into_iter()
        .filter_map(|block| output_item(block, options))
        .collect();
    let full = finish(template, output, &answer.stop_reason, Some(&answer.usage));
    let output = full.output.clone();
    (client_view(full, options), output)
}

/// `response` as the client sees it: reasoning signatures only when `include` asked for them.
pub fn client_view(mut response: Response, options: AnswerOptions) -> Response {
    for item in &mut response.output {
        *item = shown(item.clone(), options);
    }
    response
}

/// An output item as the client sees it (see [`client_view`]).
pub fn shown(item: OutputItem, options: AnswerOptions) -> OutputItem {
    match item {
        OutputItem::Reasoning(mut reasoning) if !options.encrypted_reasoning => {
            reasoning.encrypted_content = None;
            OutputItem::Reasoning(reasoning)
        }
        other => other,
    }
}

/// The output item of one content block (none for blocks without an equivalent).
fn output_item(block: ContentBlock, options: AnswerOptions) -> Option<OutputItem> {
    if let Some(text) = block.text {
        return Some(message_item(new_id("msg_"), text, Vec::new()));
    }
    if let Some(cited) = block.citations_content {
        let text: String = cited.content.iter().map(|c| c.text.as_str()).collect();
        let annotations = annotations(&cited.citations, &text);
        return Some(message_item(new_id("msg_"), text, annotations));
    }
    if let Some(tool_use) = block.tool_use {
        if options.json_output_tool && tool_use.name == JSON_OUTPUT_TOOL {
            return Some(message_item(
                new_id("msg_"),
                tool_use.input.to_string(),
                Vec::new(),
            ));
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
    Some(reasoning_item(new_id("rs_"), text, signature))
}

/// Tool input as the `arguments` string (`{}` for none).
fn arguments(input: &Value) -> String {
    if input.is_null() {
        "{}".to_owned()
    } else {
        input.to_string()
    }
}

/// A completed assistant message of one `output_text` part with its `annotations`.
pub fn message_item(id: String, text: String, annotations: Vec<Value>) -> OutputItem {
    OutputItem::Message(OutputMessage {
        id,
        status: "completed".to_owned(),
        role: "assistant".to_owned(),
        content: vec![OutputContent::OutputText { text, annotations }],
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
    if let Some(reason) = incomplete_reason(stop_reason) {
        incomplete(&mut response, reason);
        return response;
    }
    match stop_reason {
        "malformed_model_output" | "malformed_tool_use" => {
            let message = format!("the model's answer could not be used ({stop_reason})");
            fail(&mut response, "server_error", message);
        }
        _ => response.status = "completed".to_owned(),
    }
    response
}

/// The `incomplete_details.reason` of a stop reason that cuts the answer short, if it does.
pub fn incomplete_reason(stop_reason: &str) -> Option<&'static str> {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => Some("max_output_tokens"),
        "guardrail_intervened" | "content_filtered" => Some("content_filter"),
        _ => None,
    }
}

/// Marks `response` incomplete for `reason`, and the item being written (the last) with it.
fn incomplete(response: &mut Response, reason: &str) {
    response.status = "incomplete".to_owned();
    response.incomplete_details = Some(IncompleteDetails {
        reason: reason.to_owned(),
    });
    if let Some(last) = response.output.last_mut() {
        mark_incomplete(last);
    }
}

/// Sets an item's status to `incomplete`: the answer stopped while it was being written.
pub fn mark_incomplete(item: &mut OutputItem) {
    let status = "incomplete".to_owned();
    match item {
        OutputItem::Message(message) => message.status = status,
        OutputItem::FunctionCall(call) => call.status = Some(status),
        OutputItem::Reasoning(reasoning) => reasoning.status = Some(status),
    }
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

/// The record a store keeps (see the [module docs](super)): the response as the client saw
/// it, the full output items (signatures kept), this request's input items (with ids), and the
/// whole conversation (`context`, then the input items).
pub fn record(
    response: &Response,
    output: &[OutputItem],
    input_items: &[Value],
    context: &[Value],
) -> bytes::Bytes {
    let whole: Vec<&Value> = context.iter().chain(input_items).collect();
    let record = serde_json::json!({
        "response": response,
        "output": output,
        "input_items": input_items,
        "context": whole,
    });
    bytes::Bytes::from(serde_json::to_vec(&record).expect("records serialise"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;
    use crate::responses::testing::{stable_ids, template};

    fn answer(converse: Value, options: AnswerOptions) -> Value {
        let converse: ConverseResponse = serde_json::from_value(converse).unwrap();
        let mut response =
            serde_json::to_value(converse_to_response(converse, &template(), options)).unwrap();
        stable_ids(&mut response, &mut HashMap::new());
        response
    }

    fn converse(content: Value, stop_reason: &str) -> Value {
        json!({"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop_reason,
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15, "cacheReadInputTokens": 4, "cacheWriteInputTokens": 2}})
    }

    #[test]
    fn reasoning_text_and_a_tool_use_become_three_output_items() {
        let content = json!([
            {"reasoningContent": {"reasoningText": {"text": "Need tool.", "signature": "sig"}}},
            {"text": "Checking."},
            {"toolUse": {"toolUseId": "tooluse_Ab12", "name": "get_weather", "input": {"city": "Paris"}}}]);
        let options = AnswerOptions {
            json_output_tool: false,
            encrypted_reasoning: true,
        };
        let mut expected = serde_json::to_value(template()).unwrap();
        expected["status"] = json!("completed");
        expected["output"] = json!([
            {"id": "rs_1", "type": "reasoning", "status": "completed", "summary": [{"type": "summary_text", "text": "Need tool."}], "encrypted_content": "sig"},
            {"id": "msg_2", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "Checking.", "annotations": []}]},
            {"id": "fc_3", "type": "function_call", "status": "completed", "call_id": "tooluse_Ab12", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]);
        expected["usage"] = json!({"input_tokens": 16, "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 2},
            "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 21});
        assert_eq!(
            answer(converse(content.clone(), "tool_use"), options),
            expected
        );
        // Without `include`, no signature for the client, but the full output keeps it.
        let plain = answer(
            converse(content.clone(), "tool_use"),
            AnswerOptions::default(),
        );
        assert!(
            plain["output"][0].get("encrypted_content").is_none(),
            "{plain}"
        );
        let whole: ConverseResponse =
            serde_json::from_value(converse(content, "tool_use")).unwrap();
        let (_, full) = converse_to_answer(whole, &template(), AnswerOptions::default());
        let full = serde_json::to_value(full).unwrap();
        assert_eq!(full[0]["encrypted_content"], "sig");
        assert_eq!(full[2]["call_id"], "tooluse_Ab12");
    }

    #[test]
    fn stop_reasons_set_the_status() {
        let text = json!([{"text": "cut"}]);
        let cases = [
            ("end_turn", "completed", Value::Null, Value::Null),
            (
                "max_tokens",
                "incomplete",
                json!({"reason": "max_output_tokens"}),
                Value::Null,
            ),
            (
                "model_context_window_exceeded",
                "incomplete",
                json!({"reason": "max_output_tokens"}),
                Value::Null,
            ),
            (
                "guardrail_intervened",
                "incomplete",
                json!({"reason": "content_filter"}),
                Value::Null,
            ),
            (
                "content_filtered",
                "incomplete",
                json!({"reason": "content_filter"}),
                Value::Null,
            ),
            (
                "malformed_model_output",
                "failed",
                Value::Null,
                json!({"code": "server_error", "message": "the model's answer could not be used (malformed_model_output)"}),
            ),
        ];
        for (stop, status, incomplete, error) in cases {
            let response = answer(converse(text.clone(), stop), AnswerOptions::default());
            assert_eq!(response["status"], status, "{stop}");
            assert_eq!(response["incomplete_details"], incomplete, "{stop}");
            assert_eq!(response["error"], error, "{stop}");
            let item = if status == "incomplete" {
                status
            } else {
                "completed"
            };
            assert_eq!(response["output"][0]["status"], item, "{stop}");
        }
        // Only the item being written when the answer stopped is incomplete.
        let two = json!([{"text": "done"}, {"text": "cut"}]);
        let response = answer(converse(two, "max_tokens"), AnswerOptions::default());
        assert_eq!(response["output"][0]["status"], "completed");
        assert_eq!(response["output"][1]["status"], "incomplete");
    }

    #[test]
    fn cited_text_is_a_message_with_its_citations_as_annotations() {
        let content = json!([{"citationsContent": {
            "content": [{"text": "Paris is "}, {"text": "sunny."}],
            "citations": [
                {"title": "Forecast", "sourceContent": [{"text": "sun"}], "location": {"web": {"url": "https://w.example/p", "domain": "w.example"}}},
                {"title": "notes.pdf", "location": {"documentChar": {"documentIndex": 0, "start": 3, "end": 9}}}]}}]);
        let response = answer(converse(content, "end_turn"), AnswerOptions::default());
        assert_eq!(
            response["output"],
            json!([{"id": "msg_1", "type": "message", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": "Paris is sunny.", "annotations": [
                    {"type": "url_citation", "url": "https://w.example/p", "title": "Forecast", "start_index": 0, "end_index": 15},
                    {"type": "file_citation", "file_id": "notes.pdf", "filename": "notes.pdf", "index": 15}]}]}])
        );
    }

    #[test]
    fn the_json_output_tool_answers_as_text() {
        let content =
            json!([{"toolUse": {"toolUseId": "t", "name": JSON_OUTPUT_TOOL, "input": {"a": 1}}}]);
        let options = AnswerOptions {
            json_output_tool: true,
            encrypted_reasoning: false,
        };
        let response = answer(converse(content, "tool_use"), options);
        assert_eq!(
            response["output"],
            json!([{"id": "msg_1", "type": "message", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": "{\"a\":1}", "annotations": []}]}])
        );
        assert_eq!(response["status"], "completed");
    }

    #[test]
    fn the_record_holds_the_response_the_input_and_the_whole_context() {
        let response = template();
        let output = [reasoning_item(
            "rs_1".into(),
            "t".into(),
            Some("sig".into()),
        )];
        let input =
            vec![json!({"id": "msg_9", "type": "message", "role": "user", "content": "hi"})];
        let context =
            vec![json!({"id": "msg_8", "type": "message", "role": "user", "content": "before"})];
        let record: Value =
            serde_json::from_slice(&record(&response, &output, &input, &context)).unwrap();
        assert_eq!(
            record,
            json!({"response": serde_json::to_value(&response).unwrap(),
                "output": [{"id": "rs_1", "type": "reasoning", "status": "completed",
                    "summary": [{"type": "summary_text", "text": "t"}], "encrypted_content": "sig"}],
                "input_items": input, "context": [context[0].clone(), input[0].clone()]})
        );
    }
}
