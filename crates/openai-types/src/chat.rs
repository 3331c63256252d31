//! `POST /v1/chat/completions`: request, response and stream chunk.
//!
//! The request type accepts every documented field. Fields that the gateway maps are typed;
//! fields it accepts and ignores are listed in `docs/compatibility.md` and either typed loosely
//! (as [`serde_json::Value`]) or skipped, so a client sending them never gets an error.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A chat completion request.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct ChatCompletionRequest {
    /// The model id (or an alias). The gateway's default model when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Upper bound of generated tokens (preferred over `max_tokens`).
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    /// Upper bound of generated tokens (deprecated by OpenAI, still sent by many clients).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0 to 2 in OpenAI.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Nucleus sampling, 0 to 1.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Option<StopSequences>,
    /// Number of choices.
    #[serde(default)]
    pub n: Option<u32>,
    /// Stream the answer as server-sent events.
    #[serde(default)]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Tools the model may call.
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
    /// How the model chooses tools.
    #[serde(default)]
    pub tool_choice: Option<ToolChoice>,
    /// Whether several tool calls may come at once.
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    /// Legacy functions (mapped like `tools`).
    #[serde(default)]
    pub functions: Option<Vec<FunctionDefinition>>,
    /// Legacy function choice (mapped like `tool_choice`).
    #[serde(default)]
    pub function_call: Option<Value>,
    /// Output format (`text`, `json_object`, `json_schema`).
    #[serde(default)]
    pub response_format: Option<Value>,
    /// Reasoning effort (`none`, `minimal`, `low`, `medium`, `high`, ...).
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    /// End-user id.
    #[serde(default)]
    pub user: Option<String>,
    /// Seed (no Bedrock equivalent; ignored).
    #[serde(default)]
    pub seed: Option<Value>,
    /// Request metadata (ignored).
    #[serde(default)]
    pub metadata: Option<Value>,
    /// Provider-specific fields passed through to Bedrock's `additionalModelRequestFields`.
    #[serde(default)]
    pub additional_model_request_fields: Option<Value>,
}

impl ChatCompletionRequest {
    /// Whether the client asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether the client asked for a final usage chunk (`stream_options.include_usage`).
    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }
}

/// `stop`: one string or a list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum StopSequences {
    /// One stop sequence.
    One(String),
    /// Several stop sequences.
    Many(Vec<String>),
}

impl StopSequences {
    /// The sequences as a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

/// `stream_options`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct StreamOptions {
    /// Send a last chunk with `usage` and empty `choices`.
    #[serde(default)]
    pub include_usage: Option<bool>,
}

/// One message of the conversation, tagged by `role`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    /// Instructions from the application.
    System {
        /// Text or text parts.
        content: MessageContent,
        /// Optional participant name (ignored).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Anthropic-style prompt-cache marker (`{"type": "ephemeral"}`), not OpenAI's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// Instructions from the developer (newer name for `system`).
    Developer {
        /// Text or text parts.
        content: MessageContent,
        /// Optional participant name (ignored).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Anthropic-style prompt-cache marker (`{"type": "ephemeral"}`), not OpenAI's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// A user turn.
    User {
        /// Text or parts (text, images).
        content: MessageContent,
        /// Optional participant name (ignored).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Anthropic-style prompt-cache marker (`{"type": "ephemeral"}`), not OpenAI's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// An earlier assistant turn.
    Assistant {
        /// Text, or null when the turn only calls tools.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<MessageContent>,
        /// Tool calls made in this turn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool_calls: Option<Vec<ToolCall>>,
        /// Legacy function call made in this turn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        function_call: Option<FunctionCall>,
        /// A refusal (kept as text).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refusal: Option<String>,
        /// Optional participant name (ignored).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Anthropic-style prompt-cache marker (`{"type": "ephemeral"}`), not OpenAI's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// The result of a tool call.
    Tool {
        /// The result.
        content: MessageContent,
        /// The id of the call this answers.
        tool_call_id: String,
        /// Anthropic-style prompt-cache marker (`{"type": "ephemeral"}`), not OpenAI's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// The result of a legacy function call.
    Function {
        /// The result.
        #[serde(default)]
        content: Option<String>,
        /// The function's name.
        name: String,
    },
}

/// Message content: a plain string or a list of typed parts.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Typed parts.
    Parts(Vec<ContentPart>),
}

impl From<&str> for MessageContent {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

/// One typed part of a message.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// Anthropic-style prompt-cache marker (`{"type": "ephemeral"}`), not OpenAI's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// An image, as a `data:` URL or a remote URL.
    ImageUrl {
        /// The image reference.
        image_url: ImageUrl,
        /// Anthropic-style prompt-cache marker (`{"type": "ephemeral"}`), not OpenAI's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// A refusal (assistant messages).
    Refusal {
        /// The refusal text.
        refusal: String,
    },
    /// Audio input (not expressible on Bedrock Converse; rejected).
    InputAudio {
        /// The audio payload.
        input_audio: Value,
    },
    /// A file: `{"file_data": "data:<media type>;base64,...", "filename": ...}`.
    File {
        /// The file reference.
        file: Value,
        /// Anthropic-style prompt-cache marker (`{"type": "ephemeral"}`), not OpenAI's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
}

/// An Anthropic-style prompt-cache marker: `{"type": "ephemeral", "ttl": "5m" | "1h"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CacheControl {
    /// `ephemeral`.
    #[serde(rename = "type")]
    pub kind: String,
    /// How long the entry lives: `5m` or `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

/// `image_url` of an image part.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ImageUrl {
    /// `data:image/png;base64,...` or an `http(s)` URL.
    pub url: String,
    /// `auto`, `low` or `high` (ignored by Bedrock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Tool {
    /// Always `"function"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDefinition,
    /// Anthropic-style prompt-cache marker (`{"type": "ephemeral"}`), not OpenAI's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

/// A function definition.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct FunctionDefinition {
    /// Function name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Strict schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `tool_choice`: a mode string or a named function.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ToolChoice {
    /// `none`, `auto` or `required`.
    Mode(String),
    /// `{"type":"function","function":{"name":...}}`.
    Named(NamedToolChoice),
}

/// A named tool choice.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct NamedToolChoice {
    /// Always `"function"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function to call.
    pub function: FunctionName,
}

/// `{"name": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct FunctionName {
    /// Function name.
    pub name: String,
}

/// A tool call made by the assistant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ToolCall {
    /// Call id, echoed by the `tool` message that answers it.
    pub id: String,
    /// Always `"function"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function and its arguments.
    pub function: FunctionCall,
}

/// A function call: name and arguments as a JSON string.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct FunctionCall {
    /// Function name.
    pub name: String,
    /// Arguments, a JSON object serialised as a string.
    pub arguments: String,
}

/// A chat completion (non-streaming response).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// `chatcmpl-...`.
    pub id: String,
    /// Always `"chat.completion"`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// The choices (one).
    pub choices: Vec<Choice>,
    /// Token usage.
    pub usage: Usage,
    /// Not applicable on Bedrock; always null.
    pub system_fingerprint: Option<String>,
}

/// A choice of a chat completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Always 0.
    pub index: u32,
    /// The assistant message.
    pub message: AssistantMessage,
    /// Always null (no logprobs on Bedrock).
    pub logprobs: Option<Value>,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
}

/// The assistant message of a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssistantMessage {
    /// Always `"assistant"`.
    pub role: String,
    /// Text content, null when the answer only calls tools.
    pub content: Option<String>,
    /// Always null.
    pub refusal: Option<String>,
    /// Tool calls; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Reasoning text (the field other OpenAI-compatible servers use); absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
}

/// `finish_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Natural end or a stop sequence.
    Stop,
    /// Token limit.
    Length,
    /// The model called tools.
    ToolCalls,
    /// A guardrail or content filter intervened.
    ContentFilter,
    /// Legacy function call.
    FunctionCall,
}

/// Token usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens (cached ones included).
    pub prompt_tokens: u64,
    /// Output tokens.
    pub completion_tokens: u64,
    /// Sum.
    pub total_tokens: u64,
    /// Input details.
    pub prompt_tokens_details: PromptTokensDetails,
    /// Output details.
    pub completion_tokens_details: CompletionTokensDetails,
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    /// Input tokens read from the prompt cache.
    pub cached_tokens: u64,
    /// Input tokens written to the prompt cache (an extension, not OpenAI's; absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_write_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `usage.completion_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    /// Reasoning tokens (not reported separately by Bedrock; 0).
    pub reasoning_tokens: u64,
}

/// One `chat.completion.chunk` of a streamed answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionChunk {
    /// Same for every chunk of one answer.
    pub id: String,
    /// Always `"chat.completion.chunk"`.
    pub object: String,
    /// Same for every chunk of one answer.
    pub created: u64,
    /// Same for every chunk of one answer.
    pub model: String,
    /// One choice, or none in the final usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// Null except in the final usage chunk; absent unless usage was asked for.
    #[serde(default, skip_serializing_if = "UsageField::is_absent")]
    pub usage: UsageField,
    /// Always null.
    pub system_fingerprint: Option<String>,
}

/// The `usage` field of a chunk: absent, `null`, or a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UsageField {
    /// Not serialised (the client did not ask for usage).
    #[default]
    #[serde(skip)]
    Absent,
    /// The usage of the whole answer.
    Present(Usage),
    /// Serialised as `null`.
    Null(()),
}

impl UsageField {
    /// Whether the field is left out.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }
}

/// A choice of a chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Always 0.
    pub index: u32,
    /// What this chunk adds.
    pub delta: Delta,
    /// Always null.
    pub logprobs: Option<Value>,
    /// Set on the last chunk of the choice.
    pub finish_reason: Option<FinishReason>,
}

/// What a chunk adds to the message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Delta {
    /// `"assistant"` in the first chunk only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Text fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Reasoning fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Tool-call fragments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A fragment of a tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Ordinal of the tool call in the answer (0, 1, ...).
    pub index: u32,
    /// Call id, in the first fragment only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `"function"`, in the first fragment only.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name (first fragment) and argument fragments.
    pub function: FunctionCallDelta,
}

/// A fragment of a function call.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    /// Name, in the first fragment only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A fragment of the arguments JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_field_and_unknown_ones() {
        let body = r#"{
            "model":"m","messages":[
              {"role":"system","content":"s"},
              {"role":"developer","content":[{"type":"text","text":"d"}]},
              {"role":"user","content":[{"type":"text","text":"u"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA==","detail":"low"}}],"name":"bob"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"42"}
            ],
            "max_tokens":5,"max_completion_tokens":6,"temperature":0.2,"top_p":0.9,"stop":"x","n":1,
            "stream":false,"stream_options":{"include_usage":true},"logprobs":false,"top_logprobs":2,
            "presence_penalty":0.1,"frequency_penalty":0.1,"logit_bias":{"1":2},"seed":3,"user":"u",
            "store":false,"service_tier":"auto","modalities":["text"],"prediction":null,"audio":null,
            "web_search_options":{},"parallel_tool_calls":true,"reasoning_effort":"low",
            "response_format":{"type":"text"},"metadata":{"a":"b"},"brand_new_field":[1,2,3]
        }"#;
        let req: ChatCompletionRequest = serde_json::from_str(body).unwrap();
        assert_eq!(req.messages.len(), 5);
        assert_eq!(req.stop, Some(StopSequences::One("x".into())));
        assert!(req.include_usage());
    }

    #[test]
    fn unknown_role_is_an_error() {
        let body = r#"{"messages":[{"role":"wizard","content":"x"}]}"#;
        let err = serde_json::from_str::<ChatCompletionRequest>(body).unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `wizard`"),
            "{err}"
        );
    }

    #[test]
    fn stop_accepts_a_list() {
        let body = r#"{"messages":[],"stop":["a","b"]}"#;
        let req: ChatCompletionRequest = serde_json::from_str(body).unwrap();
        assert_eq!(req.stop.unwrap().into_vec(), vec!["a", "b"]);
    }

    #[test]
    fn chunk_usage_field_serialises_three_ways() {
        let mut chunk = ChatCompletionChunk {
            id: "i".into(),
            object: "chat.completion.chunk".into(),
            created: 1,
            model: "m".into(),
            choices: vec![],
            usage: UsageField::Absent,
            system_fingerprint: None,
        };
        let absent = serde_json::to_value(&chunk).unwrap();
        assert!(absent.get("usage").is_none());
        chunk.usage = UsageField::Null(());
        assert_eq!(serde_json::to_value(&chunk).unwrap()["usage"], Value::Null);
        chunk.usage = UsageField::Present(Usage {
            prompt_tokens: 1,
            ..Usage::default()
        });
        assert_eq!(
            serde_json::to_value(&chunk).unwrap()["usage"]["prompt_tokens"],
            1
        );
    }
}
