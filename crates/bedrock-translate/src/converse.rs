//! Bedrock Converse request and response shapes (`rest-json`, camelCase).
//!
//! Unions of the API model (content blocks, tool choice) are modelled as structs of optional
//! members: serialising one sets exactly one key, and deserialising an answer never fails on a
//! member this crate does not know yet (Bedrock adds members over time; it also pads stream
//! events with a `p` field).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Body of `POST /model/{modelId}/converse` and `/converse-stream`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseRequest {
    /// The conversation: alternating user and assistant turns, starting with a user turn.
    pub messages: Vec<Message>,
    /// System prompt blocks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<SystemContentBlock>,
    /// Base inference parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_config: Option<InferenceConfig>,
    /// Tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<ToolConfig>,
    /// Model-specific fields (any JSON object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_model_request_fields: Option<Value>,
    /// Structured output configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<Value>,
    /// The guardrail applied to the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail_config: Option<GuardrailConfig>,
    /// Key-value pairs for filtering invocation logs (at most 16; keys and values match
    /// `[a-zA-Z0-9\s:_@$#=/+,-.]`, keys 1 to 256 characters, values up to 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_metadata: Option<std::collections::BTreeMap<String, String>>,
}

/// `guardrailConfig` (Converse) and its ConverseStream variant (with `streamProcessingMode`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailConfig {
    /// `[a-z0-9]+` or a guardrail ARN.
    pub guardrail_identifier: String,
    /// `DRAFT` or a version number.
    pub guardrail_version: String,
    /// `enabled`, `disabled` or `enabled_full`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// ConverseStream only: `sync` or `async`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_processing_mode: Option<String>,
}

/// A conversation turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: Vec<ContentBlock>,
}

/// Converse roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user (also carries tool results).
    User,
    /// The model.
    Assistant,
}

/// A content block: exactly one member is set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentBlock {
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// An image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageBlock>,
    /// A document (pdf, csv, doc, docx, xls, xlsx, html, txt, md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentBlock>,
    /// A tool call by the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use: Option<ToolUseBlock>,
    /// The result of a tool call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_result: Option<ToolResultBlock>,
    /// Reasoning (text with signature, or redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<ReasoningContentBlock>,
    /// Generated text with the citations supporting it (answers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations_content: Option<CitationsContentBlock>,
    /// The end of a prefix to cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_point: Option<CachePointBlock>,
    /// A search result the model may cite (requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_result: Option<SearchResultBlock>,
}

/// `searchResult`: a search result, with citations on or off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResultBlock {
    /// Where it came from (a URL, a name).
    pub source: String,
    /// Its title.
    pub title: String,
    /// Its text, in blocks.
    pub content: Vec<TextContent>,
    /// Whether the model may cite it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<CitationsConfig>,
}

/// `{"text": ...}`: a search result's content block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextContent {
    /// The text.
    pub text: String,
}

/// `citations`: whether the model may cite a document or a search result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitationsConfig {
    /// On or off.
    pub enabled: bool,
}

/// `cachePoint`: everything before it is a prefix to cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachePointBlock {
    /// Always `default`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `5m` or `1h`; Bedrock's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

impl CachePointBlock {
    /// A cache point with `ttl` (`5m` or `1h`), or Bedrock's default.
    pub fn new(ttl: Option<String>) -> Self {
        Self {
            kind: "default".to_owned(),
            ttl,
        }
    }
}

impl ContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// An image block.
    pub fn image(image: ImageBlock) -> Self {
        Self {
            image: Some(image),
            ..Self::default()
        }
    }

    /// A document block.
    pub fn document(document: DocumentBlock) -> Self {
        Self {
            document: Some(document),
            ..Self::default()
        }
    }

    /// A cache-point block.
    pub fn cache_point(cache_point: CachePointBlock) -> Self {
        Self {
            cache_point: Some(cache_point),
            ..Self::default()
        }
    }

    /// A tool-use block.
    pub fn tool_use(tool_use: ToolUseBlock) -> Self {
        Self {
            tool_use: Some(tool_use),
            ..Self::default()
        }
    }

    /// A tool-result block.
    pub fn tool_result(tool_result: ToolResultBlock) -> Self {
        Self {
            tool_result: Some(tool_result),
            ..Self::default()
        }
    }
}

/// `image`: format and base64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageBlock {
    /// `png`, `jpeg`, `gif` or `webp`.
    pub format: String,
    /// Where the bytes are.
    pub source: ImageSource,
}

/// `image.source`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSource {
    /// The image, base64-encoded (as blobs travel in rest-json).
    pub bytes: String,
}

/// `document`: format, a name unique within the request, and base64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentBlock {
    /// `pdf`, `csv`, `doc`, `docx`, `xls`, `xlsx`, `html`, `txt` or `md`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// 1 to 200 letters, digits, single spaces, hyphens, parentheses and square brackets.
    pub name: String,
    /// Where the bytes are.
    pub source: DocumentSource,
    /// Context about the document, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Whether the model may cite it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<CitationsConfig>,
}

/// `document.source`: exactly one member is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocumentSource {
    /// The document, base64-encoded (as blobs travel in rest-json).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
}

/// `toolUse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolUseBlock {
    /// Call id.
    pub tool_use_id: String,
    /// Tool name.
    pub name: String,
    /// Arguments (a JSON object).
    pub input: Value,
}

/// `toolResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResultBlock {
    /// The id of the call answered.
    pub tool_use_id: String,
    /// Result blocks (`text`, `json`, ...).
    pub content: Vec<ToolResultContent>,
    /// `success` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// One block of a tool result: exactly one member is set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ToolResultContent {
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// An image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageBlock>,
    /// A search result the model may cite.
    #[serde(
        default,
        rename = "searchResult",
        skip_serializing_if = "Option::is_none"
    )]
    pub search_result: Option<SearchResultBlock>,
}

/// `citationsContent`: generated text and the citations supporting it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CitationsContentBlock {
    /// The generated text, in pieces (`{"text": ...}`).
    #[serde(default)]
    pub content: Vec<CitationText>,
    /// The citations supporting it.
    #[serde(default)]
    pub citations: Vec<Citation>,
}

/// A piece of cited generated text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CitationText {
    /// The text.
    #[serde(default)]
    pub text: String,
}

/// One citation (also a stream's `delta.citation`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Citation {
    /// The title or identifier of the cited source (a document's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The source of a cited search result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The cited text of the source, in pieces (`{"text": ...}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_content: Vec<CitationText>,
    /// Where in the source: one of `web{url,domain}`, `documentChar`, `documentPage`,
    /// `documentChunk` (`{documentIndex,start,end}`) or `searchResultLocation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<serde_json::Value>,
}

/// `reasoningContent`: exactly one member is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningContentBlock {
    /// Reasoning text and its signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_text: Option<ReasoningText>,
    /// Encrypted reasoning (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted_content: Option<String>,
}

/// `reasoningText`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReasoningText {
    /// The reasoning.
    pub text: String,
    /// Signature that must accompany the text when it is sent back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A system block: exactly one member is set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemContentBlock {
    /// System text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The end of a prefix to cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_point: Option<CachePointBlock>,
}

impl SystemContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            cache_point: None,
        }
    }

    /// A cache-point block.
    pub fn cache_point(cache_point: CachePointBlock) -> Self {
        Self {
            text: None,
            cache_point: Some(cache_point),
        }
    }
}

/// `inferenceConfig`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceConfig {
    /// At least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// At most 2,500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
}

impl InferenceConfig {
    /// Whether no member is set (then the field is left out).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// `toolConfig`. On the wire, `tools` is one list of `toolSpec` and `cachePoint` entries: here
/// the tools, and apart the cache points with the number of tools before each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "WireToolConfig", from = "WireToolConfig")]
pub struct ToolConfig {
    /// The tools.
    pub tools: Vec<ToolEntry>,
    /// How the model chooses; absent means auto.
    pub tool_choice: Option<ToolChoice>,
    /// Cache points: `(n, point)` puts `point` after the first `n` tools, in order.
    pub cache_points: Vec<(usize, CachePointBlock)>,
}

/// `toolConfig` as it travels.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireToolConfig {
    tools: Vec<WireTool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoice>,
}

/// One entry of `toolConfig.tools`: exactly one member is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTool {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tool_spec: Option<ToolSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache_point: Option<CachePointBlock>,
}

impl From<ToolConfig> for WireToolConfig {
    fn from(config: ToolConfig) -> Self {
        let mut points = config.cache_points.into_iter().peekable();
        let mut tools = Vec::with_capacity(config.tools.len() + points.len());
        for (i, tool) in config.tools.into_iter().enumerate() {
            while let Some((_, point)) = points.next_if(|(n, _)| *n <= i) {
                tools.push(WireTool {
                    cache_point: Some(point),
                    ..WireTool::default()
                });
            }
            tools.push(WireTool {
                tool_spec: Some(tool.tool_spec),
                ..WireTool::default()
            });
        }
        tools.extend(points.map(|(_, point)| WireTool {
            cache_point: Some(point),
            ..WireTool::default()
        }));
        Self {
            tools,
            tool_choice: config.tool_choice,
        }
    }
}

impl From<WireToolConfig> for ToolConfig {
    fn from(wire: WireToolConfig) -> Self {
        let mut tools = Vec::with_capacity(wire.tools.len());
        let mut cache_points = Vec::new();
        for tool in wire.tools {
            if let Some(tool_spec) = tool.tool_spec {
                tools.push(ToolEntry { tool_spec });
            } else if let Some(point) = tool.cache_point {
                cache_points.push((tools.len(), point));
            }
        }
        Self {
            tools,
            tool_choice: wire.tool_choice,
            cache_points,
        }
    }
}

/// One entry of `toolConfig.tools`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolEntry {
    /// The tool.
    pub tool_spec: ToolSpec,
}

/// `toolSpec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolSpec {
    /// `[a-zA-Z0-9_-]{1,64}`.
    pub name: String,
    /// What the tool does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `{"json": <JSON schema>}`.
    pub input_schema: ToolInputSchema,
}

/// `inputSchema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInputSchema {
    /// The JSON schema of the input.
    pub json: Value,
}

/// `toolChoice`: exactly one member is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ToolChoice {
    /// The model decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto: Option<Empty>,
    /// The model must call some tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<Empty>,
    /// The model must call this tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<SpecificTool>,
}

/// `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Empty {}

/// `{"name": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecificTool {
    /// Tool name.
    pub name: String,
}

/// Body of a Converse answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseResponse {
    /// The answer.
    #[serde(default)]
    pub output: ConverseOutput,
    /// Why generation stopped (kept as a string: Bedrock adds reasons over time).
    #[serde(default)]
    pub stop_reason: String,
    /// Token usage.
    #[serde(default)]
    pub usage: TokenUsage,
}

/// `output`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConverseOutput {
    /// The assistant message.
    #[serde(default)]
    pub message: Option<Message>,
}

/// `usage` (also the `metadata` stream event's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsage {
    /// Input tokens not read from or written to the cache.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Sum as Bedrock reports it.
    #[serde(default)]
    pub total_tokens: u64,
    /// Input tokens read from the prompt cache.
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    /// Input tokens written to the prompt cache.
    #[serde(default)]
    pub cache_write_input_tokens: Option<u64>,
}
