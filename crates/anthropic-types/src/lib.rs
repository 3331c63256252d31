//! Serde types of the Anthropic Messages API served by the Bedrock gateway: the request
//! ([`MessagesRequest`]), the answer ([`Message`]), its [`Usage`], the stream events
//! ([`StreamEvent`]), the token count ([`CountTokensRequest`], [`CountTokensResponse`]) and the
//! error object ([`ErrorResponse`]).
//!
//! The shapes follow the `anthropic` Python SDK's `types/` (the authority for Anthropic's wire
//! format). Requests accept what older clients still send (`temperature`, `top_p`, `top_k`);
//! fields this crate does not model are ignored when parsing. No I/O, no Bedrock.
//!
//! # Example
//!
//! ```
//! use anthropic_types::{ContentBlock, MessageContent, MessagesRequest};
//!
//! let request: MessagesRequest = serde_json::from_str(
//!     r#"{"model":"claude-sonnet-4-5","max_tokens":64,
//!         "messages":[{"role":"user","content":[{"type":"text","text":"Hi",
//!                      "cache_control":{"type":"ephemeral"}}]}]}"#,
//! ).unwrap();
//! let MessageContent::Blocks(blocks) = &request.messages[0].content else { panic!() };
//! assert!(matches!(&blocks[0], ContentBlock::Text { text, .. } if text == "Hi"));
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v1/messages` request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    /// The model name the client asked for.
    pub model: String,
    /// The most tokens to generate.
    pub max_tokens: u32,
    /// The conversation.
    pub messages: Vec<InputMessage>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemPrompt>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// How the model picks a tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Extended thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
    /// Output settings: `effort`, `format` (kept as JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<Value>,
    /// Sequences that stop generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Sampling temperature (older clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling (older clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling (older clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Request metadata (`user_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Whether the answer is streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// A top-level cache marker: caches up to the last cacheable block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

/// `POST /v1/messages/count_tokens` request body: a Messages request without `max_tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountTokensRequest {
    /// The model name the client asked for.
    pub model: String,
    /// The conversation.
    pub messages: Vec<InputMessage>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemPrompt>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// How the model picks a tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Extended thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
}

/// The answer to a token count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountTokensResponse {
    /// Input tokens of the request.
    pub input_tokens: u64,
}

/// Who speaks a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user.
    User,
    /// The model.
    Assistant,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputMessage {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: MessageContent,
}

/// A turn's content: a plain string or blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// A plain string (one text block).
    Text(String),
    /// Content blocks.
    Blocks(Vec<ContentBlock>),
}

/// The system prompt: a plain string or text blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SystemPrompt {
    /// A plain string.
    Text(String),
    /// Text blocks, each possibly marked for caching.
    Blocks(Vec<TextBlock>),
}

/// A text block of the system prompt or of a search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "text")]
pub struct TextBlock {
    /// The text.
    pub text: String,
    /// A cache marker after this block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

/// A cache marker: `{"type":"ephemeral","ttl":"5m"|"1h"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheControl {
    /// Always `ephemeral`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `5m` or `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

/// A content block of a request turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// A cache marker after this block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
        /// Citations of an earlier answer (kept as JSON).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        citations: Option<Value>,
    },
    /// An image.
    Image {
        /// Where the image is.
        source: ImageSource,
        /// A cache marker after this block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// A document (PDF, plain text, or content blocks).
    Document {
        /// Where the document is.
        source: DocumentSource,
        /// Its title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Context about it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<String>,
        /// `{"enabled": bool}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        citations: Option<Value>,
        /// A cache marker after this block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// A search result the model may cite.
    SearchResult {
        /// Where it came from.
        source: String,
        /// Its title.
        title: String,
        /// Its text.
        content: Vec<TextBlock>,
        /// `{"enabled": bool}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        citations: Option<Value>,
        /// A cache marker after this block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// A tool call of an earlier assistant turn.
    ToolUse {
        /// The call's id.
        id: String,
        /// The tool.
        name: String,
        /// Its arguments.
        input: Value,
        /// A cache marker after this block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// The result of a tool call.
    ToolResult {
        /// The call answered.
        tool_use_id: String,
        /// What the tool returned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<MessageContent>,
        /// Whether the tool failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
        /// A cache marker after this block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// The model's thinking, sent back with its signature.
    Thinking {
        /// The thinking text.
        thinking: String,
        /// Its signature.
        signature: String,
    },
    /// Thinking the model encrypted.
    RedactedThinking {
        /// The encrypted thinking.
        data: String,
    },
}

/// Where an image is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    /// Inline, base64.
    Base64 {
        /// `image/jpeg`, `image/png`, `image/gif` or `image/webp`.
        media_type: String,
        /// The bytes, base64.
        data: String,
    },
    /// A URL.
    Url {
        /// The URL.
        url: String,
    },
    /// An uploaded file.
    File {
        /// The file's id.
        file_id: String,
    },
}

/// Where a document is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DocumentSource {
    /// Inline PDF, base64.
    Base64 {
        /// `application/pdf`.
        media_type: String,
        /// The bytes, base64.
        data: String,
    },
    /// Inline plain text.
    Text {
        /// `text/plain`.
        media_type: String,
        /// The text.
        data: String,
    },
    /// Content blocks (kept as JSON).
    Content {
        /// A string or blocks.
        content: Value,
    },
    /// A URL.
    Url {
        /// The URL.
        url: String,
    },
    /// An uploaded file.
    File {
        /// The file's id.
        file_id: String,
    },
}

/// A tool the model may call: a custom tool (`input_schema`) or a server tool (`type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// The tool's name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON schema of its input (custom tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// `custom`, or a server tool's versioned type (`bash_20250124`, ...).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Strict schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// A cache marker after this tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

/// How the model picks a tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto {
        /// At most one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// Some tool must be called.
    Any {
        /// At most one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// This tool must be called.
    Tool {
        /// The tool.
        name: String,
        /// At most one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// No tool may be called.
    None,
}

/// Extended thinking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Thinking {
    /// Thinking with a token budget.
    Enabled {
        /// Tokens the model may think for (at least 1024, less than `max_tokens`).
        budget_tokens: u32,
        /// `summarized` or `omitted`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<String>,
    },
    /// No thinking.
    Disabled,
    /// The model decides how much to think.
    Adaptive {
        /// `summarized` or `omitted`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<String>,
    },
}

/// The answer: `{"type":"message", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `msg_...`.
    pub id: String,
    /// Always `message`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always `assistant`.
    pub role: Role,
    /// The model name the client sent.
    pub model: String,
    /// What the model said.
    pub content: Vec<ResponseBlock>,
    /// Why it stopped (`null` only in `message_start`).
    pub stop_reason: Option<String>,
    /// The stop sequence that ended the answer.
    pub stop_sequence: Option<String>,
    /// Token usage.
    pub usage: Usage,
}

impl Message {
    /// An assistant message with `kind` `message`.
    pub fn new(id: String, model: String, content: Vec<ResponseBlock>, usage: Usage) -> Self {
        Self {
            id,
            kind: "message".to_owned(),
            role: Role::Assistant,
            model,
            content,
            stop_reason: None,
            stop_sequence: None,
            usage,
        }
    }
}

/// A content block of an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// Citations (kept as JSON), when the text cites a document.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        citations: Option<Vec<Value>>,
    },
    /// Thinking.
    Thinking {
        /// The thinking text.
        thinking: String,
        /// Its signature, to send back unchanged.
        signature: String,
    },
    /// Encrypted thinking.
    RedactedThinking {
        /// The encrypted thinking.
        data: String,
    },
    /// A tool call.
    ToolUse {
        /// The call's id.
        id: String,
        /// The tool.
        name: String,
        /// Its arguments.
        input: Value,
    },
}

/// Token usage. Total input is `input_tokens + cache_creation_input_tokens +
/// cache_read_input_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens not read from or written to the cache.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
}

/// The usage of `message_delta`: cumulative, overwriting what `message_start` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeltaUsage {
    /// Output tokens so far.
    pub output_tokens: u64,
    /// Input tokens, when known only at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Input tokens written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
}

/// One server-sent event of a streamed answer; its `type` is also the SSE `event:` name
/// ([`StreamEvent::name`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The message, empty.
    MessageStart {
        /// The message so far.
        message: Message,
    },
    /// A content block begins at `index`.
    ContentBlockStart {
        /// The block's position (dense, from 0).
        index: usize,
        /// The block, empty.
        content_block: ResponseBlock,
    },
    /// More of the block at `index`.
    ContentBlockDelta {
        /// The block's position.
        index: usize,
        /// What is added.
        delta: Delta,
    },
    /// The block at `index` is complete.
    ContentBlockStop {
        /// The block's position.
        index: usize,
    },
    /// The message's stop reason and final usage.
    MessageDelta {
        /// Stop reason and sequence.
        delta: MessageDeltaBody,
        /// Cumulative usage.
        usage: DeltaUsage,
    },
    /// The message is complete.
    MessageStop,
    /// Keep-alive.
    Ping,
    /// The stream failed.
    Error {
        /// What failed.
        error: ErrorDetail,
    },
}

impl StreamEvent {
    /// The SSE `event:` name: the event's `type`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MessageStart { .. } => "message_start",
            Self::ContentBlockStart { .. } => "content_block_start",
            Self::ContentBlockDelta { .. } => "content_block_delta",
            Self::ContentBlockStop { .. } => "content_block_stop",
            Self::MessageDelta { .. } => "message_delta",
            Self::MessageStop => "message_stop",
            Self::Ping => "ping",
            Self::Error { .. } => "error",
        }
    }
}

/// What a `content_block_delta` adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Delta {
    /// Text.
    TextDelta {
        /// The text added.
        text: String,
    },
    /// A piece of a tool call's JSON input.
    InputJsonDelta {
        /// The JSON piece.
        partial_json: String,
    },
    /// Thinking text.
    ThinkingDelta {
        /// The thinking added.
        thinking: String,
    },
    /// The thinking block's signature (replaces).
    SignatureDelta {
        /// The signature.
        signature: String,
    },
    /// A citation of the text block.
    CitationsDelta {
        /// The citation (kept as JSON).
        citation: Value,
    },
}

/// The `delta` of `message_delta`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MessageDeltaBody {
    /// Why the model stopped.
    pub stop_reason: Option<String>,
    /// The stop sequence that ended the answer.
    pub stop_sequence: Option<String>,
}

/// An error answer: `{"type":"error","error":{"type","message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// Always `error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What failed.
    pub error: ErrorDetail,
}

impl ErrorResponse {
    /// An error of `kind` (`invalid_request_error`, ...) saying `message`.
    ///
    /// ```
    /// let err = anthropic_types::ErrorResponse::new("not_found_error", "no such model");
    /// assert_eq!(
    ///     serde_json::to_value(&err).unwrap(),
    ///     serde_json::json!({"type":"error","error":{"type":"not_found_error","message":"no such model"}})
    /// );
    /// ```
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: "error".to_owned(),
            error: ErrorDetail {
                kind: kind.into(),
                message: message.into(),
            },
        }
    }
}

/// The `error` member of an error answer or event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// `invalid_request_error`, `authentication_error`, `permission_error`,
    /// `not_found_error`, `request_too_large`, `rate_limit_error`, `api_error`,
    /// `timeout_error` or `overloaded_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What failed.
    pub message: String,
}

/// One `type: model` entry of `GET /v1/models` in Anthropic's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Always `model`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The model name.
    pub id: String,
    /// A human-readable name.
    pub display_name: String,
    /// RFC 3339 release time.
    pub created_at: String,
}

/// `GET /v1/models` in Anthropic's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelList {
    /// The models.
    pub data: Vec<ModelInfo>,
    /// Always `false`: one page.
    pub has_more: bool,
    /// The first id.
    pub first_id: Option<String>,
    /// The last id.
    pub last_id: Option<String>,
}

impl ModelList {
    /// One page holding `data`.
    pub fn new(data: Vec<ModelInfo>) -> Self {
        Self {
            first_id: data.first().map(|m| m.id.clone()),
            last_id: data.last().map(|m| m.id.clone()),
            data,
            has_more: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_request_block_parses() {
        let request: MessagesRequest = serde_json::from_value(json!({
            "model": "claude-sonnet-4-5", "max_tokens": 100, "temperature": 0.5, "top_k": 5,
            "system": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
            "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "tool", "name": "get_weather"},
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "hi"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc"}, "title": "t"},
                    {"type": "search_result", "source": "s", "title": "t", "content": [{"type": "text", "text": "x"}]}
                ]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hm", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "xx"},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
                ]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny", "is_error": false}]}
            ]
        }))
        .unwrap();
        assert_eq!(request.top_k, Some(5));
        assert_eq!(request.messages.len(), 3);
        let MessageContent::Blocks(blocks) = &request.messages[1].content else {
            panic!("blocks expected")
        };
        assert!(matches!(&blocks[2], ContentBlock::ToolUse { name, .. } if name == "get_weather"));
    }

    #[test]
    fn stream_events_carry_their_type() {
        let event = StreamEvent::ContentBlockDelta {
            index: 1,
            delta: Delta::TextDelta { text: "Hi".into() },
        };
        assert_eq!(event.name(), "content_block_delta");
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hi"}})
        );
        assert_eq!(
            serde_json::to_value(StreamEvent::MessageStop).unwrap(),
            json!({"type": "message_stop"})
        );
    }

    #[test]
    fn a_message_serialises_as_anthropic_sends_it() {
        let mut message = Message::new(
            "msg_1".into(),
            "claude-sonnet-4-5".into(),
            vec![ResponseBlock::Text {
                text: "Paris.".into(),
                citations: None,
            }],
            Usage {
                input_tokens: 3,
                output_tokens: 2,
                ..Usage::default()
            },
        );
        message.stop_reason = Some("end_turn".into());
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                   "content": [{"type": "text", "text": "Paris."}], "stop_reason": "end_turn",
                   "stop_sequence": null, "usage": {"input_tokens": 3, "output_tokens": 2}})
        );
    }
}
