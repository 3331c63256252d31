//! The Responses API (`POST /v1/responses`): the request, the `response` object, its output
//! items and its stream events.
//!
//! Input items are read leniently: a message may leave out `type`, unknown fields are skipped;
//! an item of a kind this gateway cannot serve (built-in tool calls) fails to parse, naming its
//! type.
//!
//! # Example
//!
//! ```
//! use openai_types::responses::{CreateResponse, Input, InputItem};
//!
//! let body = r#"{"model":"m","input":[{"role":"user","content":"Hi"},
//!     {"type":"function_call_output","call_id":"c1","output":"18C"}]}"#;
//! let req: CreateResponse = serde_json::from_str(body).unwrap();
//! let Some(Input::Items(items)) = req.input else { panic!() };
//! assert!(matches!(items[0], InputItem::Message(_)));
//! assert!(matches!(items[1], InputItem::FunctionCallOutput(_)));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of `POST /v1/responses`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct CreateResponse {
    /// The model name.
    #[serde(default)]
    pub model: Option<String>,
    /// A string (one user message) or a list of items.
    #[serde(default)]
    pub input: Option<Input>,
    /// System instructions (not carried over from `previous_response_id`).
    #[serde(default)]
    pub instructions: Option<String>,
    /// Tools: flat function tools; other kinds are refused by the translator.
    #[serde(default)]
    pub tools: Option<Vec<Value>>,
    /// `none`, `auto`, `required` or `{"type":"function","name":...}`.
    #[serde(default)]
    pub tool_choice: Option<Value>,
    /// Accepted and echoed.
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    /// `{"format": {...}, "verbosity": ...}`.
    #[serde(default)]
    pub text: Option<TextConfig>,
    /// `{"effort": ..., "summary": ...}`.
    #[serde(default)]
    pub reasoning: Option<ReasoningConfig>,
    /// The most output tokens, reasoning included.
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Stream the answer as server-sent events.
    #[serde(default)]
    pub stream: Option<bool>,
    /// Keep the response (default true).
    #[serde(default)]
    pub store: Option<bool>,
    /// The response this one continues.
    #[serde(default)]
    pub previous_response_id: Option<String>,
    /// Extra output to include, e.g. `reasoning.encrypted_content`.
    #[serde(default)]
    pub include: Option<Vec<String>>,
    /// `auto` or `disabled`.
    #[serde(default)]
    pub truncation: Option<String>,
    /// Up to 16 string pairs, echoed.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// An end-user id, echoed.
    #[serde(default)]
    pub user: Option<String>,
    /// Run in the background.
    #[serde(default)]
    pub background: Option<bool>,
    /// A conversation object to continue.
    #[serde(default)]
    pub conversation: Option<Value>,
}

/// `input`: a string or a list of items.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Input {
    /// One user message.
    Text(String),
    /// Items.
    Items(Vec<InputItem>),
}

/// `text`: the output format.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct TextConfig {
    /// `{"type":"text"}`, `{"type":"json_object"}` or
    /// `{"type":"json_schema","name","schema","description"?,"strict"?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    /// `low`, `medium` or `high` (accepted, no Bedrock equivalent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
}

/// `reasoning`: effort and summary.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct ReasoningConfig {
    /// `none`, `minimal`, `low`, `medium`, `high`, `xhigh` or `max`.
    #[serde(default)]
    pub effort: Option<String>,
    /// `auto`, `concise` or `detailed`.
    #[serde(default)]
    pub summary: Option<String>,
}

/// One input item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputItem {
    /// A message (`type` may be left out).
    Message(InputMessage),
    /// An earlier call of a function tool.
    FunctionCall(FunctionCallItem),
    /// The output of a function call.
    FunctionCallOutput(FunctionCallOutputItem),
    /// Earlier reasoning.
    Reasoning(ReasoningItem),
    /// An item of a stored response, by id.
    ItemReference(ItemReference),
}

impl InputItem {
    /// The item's `id`, if it has one.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Message(m) => m.id.as_deref(),
            Self::FunctionCall(c) => c.id.as_deref(),
            Self::FunctionCallOutput(o) => o.id.as_deref(),
            Self::Reasoning(r) => r.id.as_deref(),
            Self::ItemReference(r) => Some(&r.id),
        }
    }
}

impl<'de> Deserialize<'de> for InputItem {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(deserializer)?;
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("message")
            .to_owned();
        let parsed = match kind.as_str() {
            "message" => serde_json::from_value(value).map(Self::Message),
            "function_call" => serde_json::from_value(value).map(Self::FunctionCall),
            "function_call_output" => serde_json::from_value(value).map(Self::FunctionCallOutput),
            "reasoning" => serde_json::from_value(value).map(Self::Reasoning),
            "item_reference" => serde_json::from_value(value).map(Self::ItemReference),
            other => {
                return Err(D::Error::custom(format!(
                    "input items of type '{other}' are not supported"
                )));
            }
        };
        parsed.map_err(|e| D::Error::custom(format!("input item of type '{kind}': {e}")))
    }
}

/// A message item.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct InputMessage {
    /// The item id (assistant messages echoed back carry one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `user`, `assistant`, `system` or `developer`.
    pub role: String,
    /// Text or parts.
    pub content: MessageContent,
    /// `in_progress`, `completed` or `incomplete` (echoed items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// Message content: a string or parts.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Typed parts.
    Parts(Vec<ContentPart>),
}

/// One part of a message or of a function call's output.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// Text from the user.
    InputText {
        /// The text.
        text: String,
        /// `{"mode":"explicit","ttl"?:"30m"|"12h"}`: cache the prompt up to here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt_cache_breakpoint: Option<CacheBreakpoint>,
    },
    /// An image: `image_url` (a URL or a `data:` URL) or `file_id`.
    InputImage {
        /// The image URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_url: Option<String>,
        /// An uploaded file's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        /// `low`, `high`, `auto` or `original`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// Cache the prompt up to here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt_cache_breakpoint: Option<CacheBreakpoint>,
    },
    /// A file: `file_data` (a `data:` URL), `file_url` or `file_id`.
    InputFile {
        /// The file as a `data:` URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_data: Option<String>,
        /// An uploaded file's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        /// A URL of the file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_url: Option<String>,
        /// The file name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
        /// `{"enabled": true}`: the model may cite the file (Bedrock's document citations; a
        /// gateway extension, not OpenAI's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        citations: Option<Value>,
        /// Cache the prompt up to here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt_cache_breakpoint: Option<CacheBreakpoint>,
    },
    /// Assistant text (echoed output).
    OutputText {
        /// The text.
        text: String,
        /// Citations.
        #[serde(default)]
        annotations: Vec<Value>,
    },
    /// An assistant refusal (echoed output).
    Refusal {
        /// The refusal text.
        refusal: String,
    },
}

/// `prompt_cache_breakpoint` of an input part.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CacheBreakpoint {
    /// `explicit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// `30m` or `12h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

/// A function call item (input or output).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct FunctionCallItem {
    /// The item id (`fc_...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The call id that the output answers (Bedrock's `toolUseId`).
    pub call_id: String,
    /// The function's name.
    pub name: String,
    /// The arguments, a JSON string.
    pub arguments: String,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A function call's output.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct FunctionCallOutputItem {
    /// The item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The call this answers.
    #[serde(default)]
    pub call_id: Option<String>,
    /// A string or parts.
    pub output: MessageContent,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A reasoning item (input or output).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ReasoningItem {
    /// The item id (`rs_...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The reasoning summary.
    #[serde(default)]
    pub summary: Vec<SummaryText>,
    /// The reasoning text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ReasoningText>>,
    /// The opaque signature that lets the model accept its reasoning back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// `{"type":"summary_text","text":...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename = "summary_text")]
pub struct SummaryText {
    /// The text.
    pub text: String,
}

/// `{"type":"reasoning_text","text":...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename = "reasoning_text")]
pub struct ReasoningText {
    /// The text.
    pub text: String,
}

/// `{"type":"item_reference","id":...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ItemReference {
    /// The referenced item's id.
    pub id: String,
}

/// The `response` object.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Response {
    /// `resp_...`.
    pub id: String,
    /// Always `response`.
    pub object: String,
    /// Unix seconds.
    pub created_at: u64,
    /// `completed`, `incomplete`, `failed` or `in_progress`.
    pub status: String,
    /// The model, as the client named it.
    pub model: String,
    /// The output items.
    pub output: Vec<OutputItem>,
    /// Token usage (null while in progress).
    pub usage: Option<ResponseUsage>,
    /// Why the response failed.
    pub error: Option<ResponseError>,
    /// Why the response is incomplete.
    pub incomplete_details: Option<IncompleteDetails>,
    /// The request's instructions.
    pub instructions: Option<String>,
    /// The request's metadata.
    pub metadata: BTreeMap<String, String>,
    /// The request's temperature.
    pub temperature: Option<f64>,
    /// The request's top_p.
    pub top_p: Option<f64>,
    /// The request's `parallel_tool_calls` (default true).
    pub parallel_tool_calls: bool,
    /// The request's `tool_choice` (default `auto`).
    pub tool_choice: Value,
    /// The request's tools.
    pub tools: Vec<Value>,
    /// The request's `text` (default `{"format":{"type":"text"}}`).
    pub text: Value,
    /// The request's `reasoning`.
    pub reasoning: Option<ReasoningConfig>,
    /// The request's `max_output_tokens`.
    pub max_output_tokens: Option<u32>,
    /// Whether the response is kept.
    pub store: bool,
    /// The response this one continues.
    pub previous_response_id: Option<String>,
    /// `disabled`.
    pub truncation: String,
    /// The request's `user`.
    pub user: Option<String>,
    /// Always false.
    pub background: bool,
}

/// One output item.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    /// Reasoning: summary text and, when included, its signature.
    Reasoning(ReasoningItem),
    /// An assistant message.
    Message(OutputMessage),
    /// A call of a function tool.
    FunctionCall(FunctionCallItem),
}

/// An assistant message of the output.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct OutputMessage {
    /// `msg_...`.
    pub id: String,
    /// `in_progress`, `completed`, or `incomplete` (the answer was cut short in it).
    pub status: String,
    /// Always `assistant`.
    pub role: String,
    /// Text (and refusal) parts.
    pub content: Vec<OutputContent>,
}

/// A part of an output message.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputContent {
    /// Text.
    OutputText {
        /// The text.
        text: String,
        /// Citations.
        annotations: Vec<Value>,
    },
    /// A refusal.
    Refusal {
        /// The refusal text.
        refusal: String,
    },
}

/// `usage` of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct ResponseUsage {
    /// Input tokens, cached ones included.
    pub input_tokens: u64,
    /// Details of the input tokens.
    pub input_tokens_details: InputTokensDetails,
    /// Output tokens.
    pub output_tokens: u64,
    /// Details of the output tokens.
    pub output_tokens_details: OutputTokensDetails,
    /// Input plus output tokens.
    pub total_tokens: u64,
}

/// `usage.input_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct InputTokensDetails {
    /// Read from the prompt cache.
    pub cached_tokens: u64,
    /// Written to the prompt cache.
    pub cache_write_tokens: u64,
}

/// `usage.output_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct OutputTokensDetails {
    /// Reasoning tokens (Bedrock does not count them apart: 0).
    pub reasoning_tokens: u64,
}

/// `error` of a failed response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ResponseError {
    /// `server_error`, `rate_limit_exceeded`, ...
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// `incomplete_details`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct IncompleteDetails {
    /// `max_output_tokens` or `content_filter`.
    pub reason: String,
}

/// One server-sent event of a streamed response; every event carries `sequence_number`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct StreamEvent {
    /// The event type, e.g. `response.output_text.delta` (also the SSE `event:` name).
    #[serde(rename = "type")]
    pub kind: String,
    /// 0, 1, 2, ... in the order sent.
    pub sequence_number: u64,
    /// The event's other fields.
    #[serde(flatten)]
    pub body: EventBody,
}

/// The fields of a [`StreamEvent`] besides `type` and `sequence_number`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum EventBody {
    /// `response.created`, `.in_progress`, `.completed`, `.incomplete`, `.failed`.
    Response {
        /// The response so far.
        response: Box<Response>,
    },
    /// `response.output_item.added` / `.done`.
    Item {
        /// The item's index in `output`.
        output_index: usize,
        /// The item.
        item: OutputItem,
    },
    /// `response.content_part.added` / `.done`.
    ContentPart {
        /// The item's id.
        item_id: String,
        /// The item's index in `output`.
        output_index: usize,
        /// The part's index in the item's content.
        content_index: usize,
        /// The part.
        part: OutputContent,
    },
    /// `response.reasoning_summary_part.added` / `.done`.
    SummaryPart {
        /// The item's id.
        item_id: String,
        /// The item's index in `output`.
        output_index: usize,
        /// The part's index in the summary.
        summary_index: usize,
        /// The part.
        part: SummaryText,
    },
    /// `response.output_text.delta`.
    TextDelta {
        /// The item's id.
        item_id: String,
        /// The item's index in `output`.
        output_index: usize,
        /// The part's index in the item's content.
        content_index: usize,
        /// New text.
        delta: String,
        /// Always empty.
        logprobs: Vec<Value>,
    },
    /// `response.output_text.done`.
    TextDone {
        /// The item's id.
        item_id: String,
        /// The item's index in `output`.
        output_index: usize,
        /// The part's index in the item's content.
        content_index: usize,
        /// The whole text.
        text: String,
        /// Always empty.
        logprobs: Vec<Value>,
    },
    /// `response.output_text.annotation.added`.
    AnnotationAdded {
        /// The item's id.
        item_id: String,
        /// The item's index in `output`.
        output_index: usize,
        /// The part's index in the item's content.
        content_index: usize,
        /// The annotation's index in the part's `annotations`.
        annotation_index: usize,
        /// The annotation (`url_citation`, `file_citation`).
        annotation: Value,
    },
    /// `response.reasoning_summary_text.delta`.
    SummaryDelta {
        /// The item's id.
        item_id: String,
        /// The item's index in `output`.
        output_index: usize,
        /// The part's index in the summary.
        summary_index: usize,
        /// New text.
        delta: String,
    },
    /// `response.reasoning_summary_text.done`.
    SummaryDone {
        /// The item's id.
        item_id: String,
        /// The item's index in `output`.
        output_index: usize,
        /// The part's index in the summary.
        summary_index: usize,
        /// The whole text.
        text: String,
    },
    /// `response.function_call_arguments.delta`.
    ArgumentsDelta {
        /// The item's id.
        item_id: String,
        /// The item's index in `output`.
        output_index: usize,
        /// New argument text.
        delta: String,
    },
    /// `response.function_call_arguments.done`.
    ArgumentsDone {
        /// The item's id.
        item_id: String,
        /// The item's index in `output`.
        output_index: usize,
        /// The whole arguments (`{}` when the call had none).
        arguments: String,
    },
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn items_parse_by_type_and_unknown_types_are_named() {
        let items: Vec<InputItem> = serde_json::from_value(json!([
            {"role": "user", "content": [{"type": "input_text", "text": "hi", "prompt_cache_breakpoint": {"mode": "explicit"}}]},
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "sig"},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}", "id": "fc_1"},
            {"type": "item_reference", "id": "msg_1"}
        ]))
        .unwrap();
        let ids: Vec<Option<&str>> = items.iter().map(InputItem::id).collect();
        assert_eq!(ids, [None, Some("rs_1"), Some("fc_1"), Some("msg_1")]);
        let err =
            serde_json::from_value::<InputItem>(json!({"type": "web_search_call", "id": "ws_1"}))
                .unwrap_err();
        assert!(err.to_string().contains("'web_search_call'"), "{err}");
        // Serialised back with its type.
        assert_eq!(
            serde_json::to_value(&items[3]).unwrap(),
            json!({"type": "item_reference", "id": "msg_1"})
        );
    }

    #[test]
    fn stream_events_flatten_their_fields_beside_type_and_sequence_number() {
        let event = StreamEvent {
            kind: "response.function_call_arguments.done".to_owned(),
            sequence_number: 5,
            body: EventBody::ArgumentsDone {
                item_id: "fc_1".to_owned(),
                output_index: 0,
                arguments: "{}".to_owned(),
            },
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"type": "response.function_call_arguments.done", "sequence_number": 5,
                "item_id": "fc_1", "output_index": 0, "arguments": "{}"})
        );
    }
}
