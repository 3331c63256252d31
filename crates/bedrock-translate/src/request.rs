//! OpenAI chat completion request -> Bedrock Converse request, as a pure function.
//!
//! The rules, each tested by value below:
//! - `system` and `developer` messages become `system` blocks, in order; for models that do not
//!   take a system prompt (Titan Text, Mistral 7B / Mixtral instruct) the system text is folded
//!   into the first user turn instead.
//! - `tool` (and legacy `function`) messages become `toolResult` blocks in a user turn; assistant
//!   `tool_calls` become `toolUse` blocks with the arguments parsed from their JSON string.
//! - Tool call ids are kept when Bedrock accepts them, and otherwise rewritten with a hash of the
//!   original ([`bedrock_tool_use_id`]): two distinct ids of a request never share a Bedrock id
//!   (a crafted collision is a 400), and a call and its result still match.
//! - `tool_choice: "none"` (legacy `function_call: "none"`) declares no tools: Converse has no
//!   `none`, so the history's tool calls and results are sent as text blocks, which need no
//!   `toolConfig`.
//! - `response_format` json_schema / json_object on a model without native structured output
//!   offers the `json_output` tool, alone and forced, or beside the client's tools with
//!   `toolChoice: {any: {}}` (see [`JSON_OUTPUT_TOOL`] and `json_output_tool_config`).
//! - Consecutive turns of the same role are merged, as Bedrock requires alternation.
//! - `max_completion_tokens` (else `max_tokens`), `temperature`, `top_p` and `stop` become
//!   `inferenceConfig`, checked against Bedrock's ranges.
//! - `file` parts (`file_data` data URLs) become `document` blocks, with a format from the
//!   media type and the filename's extension and a name Bedrock accepts ([`document_name`]),
//!   within Bedrock's limits ([`MAX_DOCUMENTS`], [`MAX_DOCUMENT_BYTES`]).
//! - Anthropic-style `cache_control` markers become `cachePoint` blocks for models with prompt
//!   caching, at most [`MAX_CACHE_POINTS`] ([`chat_to_converse_with`]); other models drop them.
//! - What Bedrock cannot express is a 400 ([`TranslateError`]); nothing is silently dropped.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::{model_id::ModelId, request::chat_to_converse};
//! use openai_types::chat::ChatCompletionRequest;
//!
//! let req: ChatCompletionRequest = serde_json::from_str(
//!     r#"{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":20}"#,
//! ).unwrap();
//! let model = ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
//! let converse = chat_to_converse(req, &model).unwrap();
//! assert_eq!(
//!     serde_json::to_value(&converse).unwrap(),
//!     serde_json::json!({
//!         "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
//!         "system": [{"text": "Be brief."}],
//!         "inferenceConfig": {"maxTokens": 20}
//!     })
//! );
//! ```

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use openai_types::chat::{
    CacheControl, ChatCompletionRequest, ChatMessage, ContentPart, FunctionDefinition,
    MessageContent, ToolCall, ToolChoice as OpenAiToolChoice,
};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::catalog::{supports_prompt_caching, supports_tool_cache_points};
use crate::converse::{
    CachePointBlock, CitationsConfig, ContentBlock, ConverseRequest, DocumentBlock, DocumentSource,
    Empty, ImageBlock, ImageSource, InferenceConfig, Message, Role, SpecificTool,
    SystemContentBlock, ToolChoice, ToolConfig, ToolEntry, ToolInputSchema, ToolResultBlock,
    ToolResultContent, ToolSpec, ToolUseBlock,
};
use crate::error::TranslateError;
use crate::model_id::ModelId;

/// Bedrock's limit on one image (3.75 MB).
pub const MAX_IMAGE_BYTES: usize = 3_750_000;
/// Bedrock's limit on one document (4.5 MB).
pub const MAX_DOCUMENT_BYTES: usize = 4_500_000;
/// Bedrock's limit on documents per request.
pub const MAX_DOCUMENTS: usize = 5;
/// Bedrock's limit on the length of a document name.
pub const MAX_DOCUMENT_NAME_LEN: usize = 200;
/// Bedrock's limit on stop sequences.
pub const MAX_STOP_SEQUENCES: usize = 2500;

/// Translates a chat completion request for `model` into a Converse request body.
///
/// `model` is the resolved Bedrock model id (the request's `model` field may be an alias);
/// it decides model-specific rules such as system-prompt support.
pub fn chat_to_converse(
    req: ChatCompletionRequest,
    model: &ModelId,
) -> Result<ConverseRequest, TranslateError> {
    chat_to_converse_with(req, model, &ConverseOptions::default())
}

/// How `cache_control` markers become Converse cache points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PromptCaching {
    /// Markers are dropped; no cache point is sent.
    Off,
    /// A cache point after each marked part, message and tool.
    #[default]
    Explicit,
    /// As `Explicit`, plus cache points after the system prompt and after the tool list.
    Auto,
}

/// Translation settings beyond the request itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ConverseOptions {
    /// What `cache_control` markers do (default [`PromptCaching::Explicit`]).
    pub prompt_caching: PromptCaching,
}

impl ConverseOptions {
    /// Options with `prompt_caching`.
    pub fn with_prompt_caching(mut self, prompt_caching: PromptCaching) -> Self {
        self.prompt_caching = prompt_caching;
        self
    }
}

/// Bedrock's limit on cache points per request.
pub const MAX_CACHE_POINTS: usize = 4;

/// [`chat_to_converse`] with `options`.
///
/// Prompt caching: a `cache_control` marker on a content part, a message or a tool becomes a
/// `cachePoint` after the block (system block, message block, tool) it marks, for models that
/// support prompt caching ([`supports_prompt_caching`]; tools only where
/// [`supports_tool_cache_points`]); for other models the markers are dropped. At most
/// [`MAX_CACHE_POINTS`]: the last ones in Bedrock's prefix order (tools, system, messages) are
/// kept.
pub fn chat_to_converse_with(
    req: ChatCompletionRequest,
    model: &ModelId,
    options: &ConverseOptions,
) -> Result<ConverseRequest, TranslateError> {
    check_unsupported(&req)?;
    let tool_marks = tool_cache_marks(req.tools.as_deref())?;
    let output = output_mode(req.response_format.as_ref(), model)?;
    let inference_config = inference_config(&req)?;
    let additional = additional_fields(&req, model)?;
    let mut conversation = Conversation::default();
    for (index, message) in req.messages.into_iter().enumerate() {
        conversation.push_message(index, message)?;
    }
    let Conversation {
        mut system,
        mut messages,
        ..
    } = conversation;
    check_turn_order(&messages)?;
    check_documents_have_text(&messages)?;
    let caching = options.prompt_caching != PromptCaching::Off && supports_prompt_caching(model);
    if !caching {
        system.retain(|b| b.cache_point.is_none());
        for message in &mut messages {
            message.content.retain(|b| b.cache_point.is_none());
        }
    }
    if !supports_system_prompt(model) && !system.is_empty() {
        fold_system_into_first_user_turn(&mut system, &mut messages);
    }
    let (tool_config, output_config) = match output {
        OutputMode::ForcedTool(spec) => {
            let choice = requested_tool_choice(req.tool_choice, req.function_call)?;
            let config =
                json_output_tool_config(spec, req.tools, req.functions, choice, &mut messages)?;
            (Some(config), None)
        }
        mode => {
            let choice = requested_tool_choice(req.tool_choice, req.function_call)?;
            if is_none_choice(choice.as_ref()) {
                render_tool_history_as_text(&mut messages);
            }
            let mut tools = tool_config(req.tools, req.functions, choice, &messages)?;
            if let Some(config) = tools
                .as_mut()
                .filter(|_| caching && supports_tool_cache_points(model))
            {
                config.cache_points = tool_marks;
            }
            (tools, mode.native_config())
        }
    };
    let mut tool_config = tool_config;
    if caching && options.prompt_caching == PromptCaching::Auto {
        add_automatic_cache_points(&mut system, tool_config.as_mut(), model);
    }
    limit_cache_points(&mut system, &mut messages, tool_config.as_mut());
    let inference_config = reserve_room_for_thinking(inference_config, additional.as_ref());
    Ok(ConverseRequest {
        messages,
        system,
        inference_config: (!inference_config.is_empty()).then_some(inference_config),
        tool_config,
        additional_model_request_fields: additional,
        output_config,
        guardrail_config: None,
        request_metadata: None,
    })
}

/// The tool that carries JSON output for models without native structured output; its input
/// is answered back as `message.content` (`finish_reason: stop`), streamed as content deltas.
/// Offered beside the client's tools, a call of it is the final answer and any other tool call
/// is answered as `tool_calls`; an answer with both keeps both (the JSON as content, the other
/// calls as `tool_calls`, `finish_reason: tool_calls`), so nothing is dropped and a stream
/// needs no buffering.
pub const JSON_OUTPUT_TOOL: &str = "json_output";

/// How `response_format` is expressed.
#[derive(Debug)]
enum OutputMode {
    /// Plain text.
    Text,
    /// Converse `outputConfig.textFormat`.
    Native(Value),
    /// A forced single tool whose input schema is the requested schema.
    ForcedTool(ToolEntry),
}

impl OutputMode {
    /// The `outputConfig` to send, for native structured output.
    fn native_config(self) -> Option<Value> {
        match self {
            Self::Native(config) => Some(config),
            Self::Text | Self::ForcedTool(_) => None,
        }
    }
}

/// Whether `model` takes Converse's native `outputConfig.textFormat` (structured output).
/// Other models get JSON output through a forced tool.
pub fn supports_native_structured_output(model: &ModelId) -> bool {
    let base = model.base_model();
    base.starts_with("anthropic.claude-sonnet-4-5")
        || base.starts_with("anthropic.claude-haiku-4-5")
        || base.starts_with("anthropic.claude-opus-4-1")
        || base.starts_with("anthropic.claude-opus-4-5")
}

fn output_mode(format: Option<&Value>, model: &ModelId) -> Result<OutputMode, TranslateError> {
    let Some(format) = format.filter(|f| !f.is_null()) else {
        return Ok(OutputMode::Text);
    };
    let (schema, name, description) = match format.get("type").and_then(Value::as_str) {
        Some("text") => return Ok(OutputMode::Text),
        Some("json_object") => (serde_json::json!({"type": "object"}), None, None),
        Some("json_schema") => {
            let spec = format.get("json_schema").ok_or_else(|| {
                TranslateError::invalid(
                    "response_format.json_schema",
                    "response_format type json_schema needs a json_schema object",
                )
            })?;
            let schema = spec
                .get("schema")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object"}));
            if schema.get("type").and_then(Value::as_str) != Some("object") {
                return Err(TranslateError::invalid(
                    "response_format.json_schema.schema",
                    "the schema must describe an object (\"type\": \"object\") at its root",
                ));
            }
            let text = |k: &str| spec.get(k).and_then(Value::as_str).map(str::to_owned);
            (schema, text("name"), text("description"))
        }
        Some(other) => {
            return Err(TranslateError::invalid(
                "response_format",
                format!(
                    "unknown response_format type '{other}': use text, json_object or json_schema"
                ),
            ));
        }
        None => {
            return Err(TranslateError::invalid(
                "response_format",
                "response_format needs a 'type'",
            ));
        }
    };
    if supports_native_structured_output(model) {
        let mut json_schema = serde_json::json!({ "schema": schema.to_string() });
        if let Some(name) = name {
            json_schema["name"] = Value::String(name);
        }
        if let Some(description) = description {
            json_schema["description"] = Value::String(description);
        }
        let config = serde_json::json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": json_schema}}});
        return Ok(OutputMode::Native(config));
    }
    let description =
        description.unwrap_or_else(|| "Answer with a JSON object matching this schema.".to_owned());
    Ok(OutputMode::ForcedTool(ToolEntry {
        tool_spec: ToolSpec {
            name: JSON_OUTPUT_TOOL.to_owned(),
            description: Some(description),
            input_schema: ToolInputSchema { json: schema },
        },
    }))
}

/// Whether `model` accepts Converse `system` blocks. Per AWS's table of supported models and
/// features: Titan Text and Mistral's 7B / Mixtral instruct models do not.
pub fn supports_system_prompt(model: &ModelId) -> bool {
    let base = model.base_model();
    !(base.starts_with("amazon.titan-text")
        || base.starts_with("mistral.mistral-7b-instruct")
        || base.starts_with("mistral.mixtral-8x7b-instruct"))
}

/// Whether `model` takes an Anthropic extended-thinking budget (Claude 3.7 and later).
pub fn supports_reasoning(model: &ModelId) -> bool {
    let base = model.base_model();
    base.starts_with("anthropic.claude-3-7")
        || base.starts_with("anthropic.claude-sonnet-4")
        || base.starts_with("anthropic.claude-opus-4")
        || base.starts_with("anthropic.claude-haiku-4")
}

fn check_unsupported(req: &ChatCompletionRequest) -> Result<(), TranslateError> {
    match req.n {
        None | Some(1) => {}
        Some(0) => return Err(TranslateError::invalid("n", "n must be at least 1")),
        Some(_) => {
            return Err(TranslateError::unsupported(
                "n",
                "n > 1 is not supported by Bedrock: send n separate requests",
            ));
        }
    }
    Ok(())
}

/// Extended thinking needs `maxTokens` above the budget: when the client set none, leave room
/// for the budget plus an answer of 4,096 tokens.
fn reserve_room_for_thinking(
    mut config: InferenceConfig,
    additional: Option<&Value>,
) -> InferenceConfig {
    let budget = additional
        .and_then(|a| a.pointer("/thinking/budget_tokens"))
        .and_then(Value::as_u64);
    if let (Some(budget), None) = (budget, config.max_tokens) {
        config.max_tokens = Some(
            u32::try_from(budget)
                .unwrap_or(u32::MAX)
                .saturating_add(4096),
        );
    }
    config
}

fn inference_config(req: &ChatCompletionRequest) -> Result<InferenceConfig, TranslateError> {
    let (max_param, max_tokens) = match (req.max_completion_tokens, req.max_tokens) {
        (Some(n), _) => ("max_completion_tokens", Some(n)),
        (None, n) => ("max_tokens", n),
    };
    if max_tokens == Some(0) {
        return Err(TranslateError::invalid(
            max_param,
            format!("{max_param} must be at least 1"),
        ));
    }
    if let Some(t) = req.temperature.filter(|t| !(0.0..=1.0).contains(t)) {
        return Err(TranslateError::invalid(
            "temperature",
            format!(
                "temperature {t} is out of range: Bedrock accepts 0 to 1 (OpenAI's 1 to 2 cannot be expressed)"
            ),
        ));
    }
    if let Some(p) = req.top_p.filter(|p| !(0.0..=1.0).contains(p)) {
        return Err(TranslateError::invalid(
            "top_p",
            format!("top_p {p} is out of range: 0 to 1"),
        ));
    }
    let stop_sequences = req
        .stop
        .clone()
        .map(|s| s.into_vec())
        .filter(|s| !s.is_empty());
    if stop_sequences
        .as_ref()
        .is_some_and(|s| s.len() > MAX_STOP_SEQUENCES)
    {
        return Err(TranslateError::invalid(
            "stop",
            format!("at most {MAX_STOP_SEQUENCES} stop sequences"),
        ));
    }
    if stop_sequences
        .as_ref()
        .is_some_and(|s| s.iter().any(String::is_empty))
    {
        return Err(TranslateError::invalid(
            "stop",
            "stop sequences must not be empty",
        ));
    }
    Ok(InferenceConfig {
        max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        stop_sequences,
    })
}

/// `additionalModelRequestFields`: the client's pass-through object plus the thinking budget.
fn additional_fields(
    req: &ChatCompletionRequest,
    model: &ModelId,
) -> Result<Option<Value>, TranslateError> {
    let mut fields = match &req.additional_model_request_fields {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            return Err(TranslateError::invalid(
                "additional_model_request_fields",
                "additional_model_request_fields must be a JSON object",
            ));
        }
    };
    if let Some(budget) = thinking_budget(req.reasoning_effort.as_deref(), model)? {
        fields.insert(
            "thinking".to_owned(),
            serde_json::json!({ "type": "enabled", "budget_tokens": budget }),
        );
    }
    Ok((!fields.is_empty()).then_some(Value::Object(fields)))
}

/// The Anthropic thinking budget for a `reasoning_effort`, `None` for `none` or no effort.
fn thinking_budget(effort: Option<&str>, model: &ModelId) -> Result<Option<u32>, TranslateError> {
    let budget = match effort {
        None | Some("none") => return Ok(None),
        Some("minimal" | "low") => 1024,
        Some("medium") => 4096,
        Some("high") => 16_384,
        Some("xhigh" | "max") => 32_768,
        Some(other) => {
            return Err(TranslateError::invalid(
                "reasoning_effort",
                format!(
                    "unknown reasoning_effort '{other}': use none, minimal, low, medium, high, xhigh or max"
                ),
            ));
        }
    };
    if !supports_reasoning(model) {
        return Err(TranslateError::unsupported(
            "reasoning_effort",
            format!(
                "reasoning_effort is not supported with model '{model}': it needs a model with extended thinking, such as Claude 3.7 Sonnet or later"
            ),
        ));
    }
    Ok(Some(budget))
}

/// Converse messages under construction.
#[derive(Debug, Default)]
struct Conversation {
    system: Vec<SystemContentBlock>,
    messages: Vec<Message>,
    /// Legacy function calls: name -> the tool-use id given to the latest call of it.
    function_call_ids: HashMap<String, String>,
    /// Bedrock tool-use id -> the client's id it was made from, to refuse collisions.
    tool_use_ids: HashMap<String, String>,
    /// The documents of the request so far.
    documents: Documents,
}

impl Conversation {
    fn push_message(&mut self, index: usize, message: ChatMessage) -> Result<(), TranslateError> {
        let param = format!("messages[{index}]");
        match message {
            ChatMessage::System {
                content,
                cache_control,
                ..
            }
            | ChatMessage::Developer {
                content,
                cache_control,
                ..
            } => {
                let marker = message_marker(cache_control.as_ref(), &content, &param)?;
                let text = text_of(content, &param)?;
                if !text.is_empty() {
                    self.system.push(SystemContentBlock::text(text));
                    if let Some(point) = marker {
                        self.system.push(SystemContentBlock::cache_point(point));
                    }
                }
                Ok(())
            }
            ChatMessage::User {
                content,
                cache_control,
                ..
            } => {
                let mut blocks = user_blocks(content, &param, &mut self.documents)?;
                push_cache_point(&mut blocks, cache_control.as_ref(), &param)?;
                self.push(Role::User, blocks, &param)
            }
            ChatMessage::Assistant {
                content,
                tool_calls,
                function_call,
                refusal,
                cache_control,
                ..
            } => {
                let mut blocks = match content {
                    Some(content) => text_blocks(content, &param)?,
                    None => Vec::new(),
                };
                if let Some(refusal) = refusal.filter(|r| !r.is_empty()) {
                    blocks.push(ContentBlock::text(refusal));
                }
                for (i, call) in tool_calls.into_iter().flatten().enumerate() {
                    let call_param = format!("{param}.tool_calls[{i}]");
                    let id = self.tool_use_id(&call.id, &format!("{call_param}.id"))?;
                    blocks.push(tool_use_block(call, id, &call_param)?);
                }
                if let Some(call) = function_call {
                    let call_param = format!("{param}.function_call");
                    let original = format!("call_{}_{index}", call.name);
                    let id = self.tool_use_id(&original, &call_param)?;
                    self.function_call_ids.insert(call.name.clone(), id.clone());
                    let call = ToolCall {
                        id: original,
                        kind: "function".to_owned(),
                        function: call,
                    };
                    blocks.push(tool_use_block(call, id, &call_param)?);
                }
                push_cache_point(&mut blocks, cache_control.as_ref(), &param)?;
                self.push(Role::Assistant, blocks, &param)
            }
            ChatMessage::Tool {
                content,
                tool_call_id,
                cache_control,
            } => {
                let id = self.tool_use_id(&tool_call_id, &format!("{param}.tool_call_id"))?;
                let marker = message_marker(cache_control.as_ref(), &content, &param)?;
                let text = text_of(content, &param)?;
                let mut blocks = vec![tool_result_block(id, text)];
                blocks.extend(marker.map(ContentBlock::cache_point));
                self.push(Role::User, blocks, &param)
            }
            ChatMessage::Function { content, name } => {
                let Some(id) = self.function_call_ids.get(&name).cloned() else {
                    return Err(TranslateError::invalid(
                        param,
                        format!(
                            "function message for '{name}' does not follow an assistant function_call of that name"
                        ),
                    ));
                };
                let block = tool_result_block(id, content.unwrap_or_default());
                self.push(Role::User, vec![block], &param)
            }
        }
    }

    /// The Bedrock id for the client's tool call id `original`, refusing an id that collides
    /// with the Bedrock id of another client id of this request.
    fn tool_use_id(&mut self, original: &str, param: &str) -> Result<String, TranslateError> {
        let id = bedrock_tool_use_id(original);
        match self.tool_use_ids.get(&id) {
            Some(other) if other != original => Err(TranslateError::invalid(
                param,
                format!(
                    "tool call ids '{other}' and '{original}' both map to the Bedrock toolUseId '{id}': use distinct ids of [a-zA-Z0-9_-]{{1,64}}"
                ),
            )),
            Some(_) => Ok(id),
            None => {
                self.tool_use_ids.insert(id.clone(), original.to_owned());
                Ok(id)
            }
        }
    }

    /// Appends blocks as a turn of `role`, merging with the previous turn of the same role.
    fn push(
        &mut self,
        role: Role,
        blocks: Vec<ContentBlock>,
        param: &str,
    ) -> Result<(), TranslateError> {
        if blocks.is_empty() {
            return Err(TranslateError::invalid(
                format!("{param}.content"),
                format!(
                    "{param} has no content: Bedrock needs at least one non-empty block per turn"
                ),
            ));
        }
        match self.messages.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => self.messages.push(Message {
                role,
                content: blocks,
            }),
        }
        Ok(())
    }
}

fn check_turn_order(messages: &[Message]) -> Result<(), TranslateError> {
    match messages.first() {
        None => Err(TranslateError::invalid(
            "messages",
            "messages must contain at least one user message (system messages alone are not a conversation)",
        )),
        Some(first) if first.role != Role::User => Err(TranslateError::invalid(
            "messages",
            "Bedrock requires the conversation to start with a user message (after any system messages)",
        )),
        Some(_) => Ok(()),
    }
}

pub(crate) fn fold_system_into_first_user_turn(
    system: &mut Vec<SystemContentBlock>,
    messages: &mut [Message],
) {
    let text = system
        .drain(..)
        .filter_map(|b| b.text)
        .collect::<Vec<_>>()
        .join("\n\n");
    if let Some(first) = messages.first_mut() {
        first.content.insert(0, ContentBlock::text(text));
    }
}

/// A `cache_control` marker -> a cache point: type `ephemeral`, ttl `5m` or `1h` (or none).
fn cache_point(control: &CacheControl, param: &str) -> Result<CachePointBlock, TranslateError> {
    if control.kind != "ephemeral" {
        return Err(TranslateError::invalid(
            format!("{param}.cache_control.type"),
            format!(
                "unknown cache_control type '{}': use \"ephemeral\"",
                control.kind.chars().take(64).collect::<String>()
            ),
        ));
    }
    match control.ttl.as_deref() {
        None => Ok(CachePointBlock::new(None)),
        Some(ttl @ ("5m" | "1h")) => Ok(CachePointBlock::new(Some(ttl.to_owned()))),
        Some(_) => Err(TranslateError::invalid(
            format!("{param}.cache_control.ttl"),
            "cache_control.ttl must be \"5m\" or \"1h\"",
        )),
    }
}

/// Appends a cache point after the last block, for a marker.
fn push_cache_point(
    blocks: &mut Vec<ContentBlock>,
    control: Option<&CacheControl>,
    param: &str,
) -> Result<(), TranslateError> {
    if let Some(control) = control {
        let point = cache_point(control, param)?;
        let after_a_block = blocks.last().is_some_and(|b| b.cache_point.is_none());
        if after_a_block {
            blocks.push(ContentBlock::cache_point(point));
        }
    }
    Ok(())
}

/// The cache point of a message whose parts are joined into one block (system, developer,
/// tool): its own marker, else its last marked part's.
fn message_marker(
    control: Option<&CacheControl>,
    content: &MessageContent,
    param: &str,
) -> Result<Option<CachePointBlock>, TranslateError> {
    if let Some(control) = control {
        return cache_point(control, param).map(Some);
    }
    let MessageContent::Parts(parts) = content else {
        return Ok(None);
    };
    let marked = parts
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, part)| match part {
            ContentPart::Text {
                cache_control: Some(control),
                ..
            } => Some((i, control)),
            _ => None,
        });
    marked
        .map(|(i, control)| cache_point(control, &format!("{param}.content[{i}]")))
        .transpose()
}

/// `(n, point)` for each marked tool: a cache point after the first `n` tools.
fn tool_cache_marks(
    tools: Option<&[openai_types::chat::Tool]>,
) -> Result<Vec<(usize, CachePointBlock)>, TranslateError> {
    let mut marks = Vec::new();
    for (i, tool) in tools.into_iter().flatten().enumerate() {
        if let Some(control) = &tool.cache_control {
            marks.push((i + 1, cache_point(control, &format!("tools[{i}]"))?));
        }
    }
    Ok(marks)
}

/// `auto`: a cache point after the system prompt, and after the tool list where the model
/// takes tool cache points, unless one is there already.
fn add_automatic_cache_points(
    system: &mut Vec<SystemContentBlock>,
    tools: Option<&mut ToolConfig>,
    model: &ModelId,
) {
    if system.last().is_some_and(|b| b.cache_point.is_none()) {
        system.push(SystemContentBlock::cache_point(CachePointBlock::new(None)));
    }
    if let Some(config) = tools.filter(|_| supports_tool_cache_points(model)) {
        let n = config.tools.len();
        if config.cache_points.last().is_none_or(|(at, _)| *at != n) {
            config.cache_points.push((n, CachePointBlock::new(None)));
        }
    }
}

/// Keeps the last [`MAX_CACHE_POINTS`] cache points in Bedrock's prefix order: tools, then
/// system, then messages.
fn limit_cache_points(
    system: &mut Vec<SystemContentBlock>,
    messages: &mut [Message],
    tools: Option<&mut ToolConfig>,
) {
    let in_messages = |messages: &[Message]| {
        messages
            .iter()
            .flat_map(|m| &m.content)
            .filter(|b| b.cache_point.is_some())
            .count()
    };
    let in_system = system.iter().filter(|b| b.cache_point.is_some()).count();
    let in_tools = tools.as_ref().map_or(0, |t| t.cache_points.len());
    let mut excess =
        (in_tools + in_system + in_messages(messages)).saturating_sub(MAX_CACHE_POINTS);
    if excess == 0 {
        return;
    }
    if let Some(config) = tools {
        let n = excess.min(config.cache_points.len());
        config.cache_points.drain(..n);
        excess -= n;
    }
    system.retain(|b| {
        let drop = excess > 0 && b.cache_point.is_some();
        excess -= usize::from(drop);
        !drop
    });
    for message in messages {
        message.content.retain(|b| {
            let drop = excess > 0 && b.cache_point.is_some();
            excess -= usize::from(drop);
            !drop
        });
    }
}

/// The text of system, developer and tool messages: a string or text parts, concatenated.
fn text_of(content: MessageContent, param: &str) -> Result<String, TranslateError> {
    match content {
        MessageContent::Text(text) => Ok(text),
        MessageContent::Parts(parts) => {
            let mut text = String::new();
            for (i, part) in parts.into_iter().enumerate() {
                match part {
                    ContentPart::Text { text: t, .. } => text.push_str(&t),
                    other => {
                        return Err(unsupported_part(&other, &format!("{param}.content[{i}]")));
                    }
                }
            }
            Ok(text)
        }
    }
}

/// Assistant content: text and refusal parts, empty text left out.
fn text_blocks(content: MessageContent, param: &str) -> Result<Vec<ContentBlock>, TranslateError> {
    let parts = match content {
        MessageContent::Text(text) => vec![ContentPart::Text {
            text,
            cache_control: None,
        }],
        MessageContent::Parts(parts) => parts,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        let part_param = format!("{param}.content[{i}]");
        match part {
            ContentPart::Text {
                text,
                cache_control,
            } => {
                if !text.is_empty() {
                    blocks.push(ContentBlock::text(text));
                    push_cache_point(&mut blocks, cache_control.as_ref(), &part_param)?;
                }
            }
            ContentPart::Refusal { refusal } => {
                if !refusal.is_empty() {
                    blocks.push(ContentBlock::text(refusal));
                }
            }
            other => return Err(unsupported_part(&other, &part_param)),
        }
    }
    Ok(blocks)
}

/// User content: text, images and documents.
fn user_blocks(
    content: MessageContent,
    param: &str,
    documents: &mut Documents,
) -> Result<Vec<ContentBlock>, TranslateError> {
    let parts = match content {
        MessageContent::Text(text) if text.is_empty() => Vec::new(),
        MessageContent::Text(text) => return Ok(vec![ContentBlock::text(text)]),
        MessageContent::Parts(parts) => parts,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        let part_param = format!("{param}.content[{i}]");
        let marker = match part {
            ContentPart::Text { text, .. } if text.is_empty() => None,
            ContentPart::Text {
                text,
                cache_control,
            } => {
                blocks.push(ContentBlock::text(text));
                cache_control
            }
            ContentPart::ImageUrl {
                image_url,
                cache_control,
            } => {
                blocks.push(ContentBlock::image(image_block(
                    &image_url.url,
                    &part_param,
                )?));
                cache_control
            }
            ContentPart::File {
                file,
                cache_control,
            } => {
                blocks.push(ContentBlock::document(documents.add(&file, &part_param)?));
                cache_control
            }
            other => return Err(unsupported_part(&other, &part_param)),
        };
        push_cache_point(&mut blocks, marker.as_ref(), &part_param)?;
    }
    Ok(blocks)
}

fn unsupported_part(part: &ContentPart, param: &str) -> TranslateError {
    let kind = match part {
        ContentPart::Text { .. } => "text",
        ContentPart::ImageUrl { .. } => "image_url",
        ContentPart::Refusal { .. } => "refusal",
        ContentPart::InputAudio { .. } => "input_audio",
        ContentPart::File { .. } => "file",
    };
    TranslateError::unsupported(
        param,
        format!("content part type '{kind}' is not supported in this message"),
    )
}

/// A `data:image/...;base64,...` URL -> an image block. Remote URLs are refused: fetching
/// arbitrary URLs from the gateway would be a server-side request forgery risk.
fn image_block(url: &str, param: &str) -> Result<ImageBlock, TranslateError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(TranslateError::unsupported(
            format!("{param}.image_url.url"),
            "remote image URLs are not fetched by this gateway: send the image inline as a data:image/<png|jpeg|gif|webp>;base64,... URL",
        ));
    };
    let invalid =
        |message: &str| TranslateError::invalid(format!("{param}.image_url.url"), message);
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| invalid("data URL has no ',' before its data"))?;
    let mime = meta
        .strip_suffix(";base64")
        .ok_or_else(|| invalid("data URL must be base64-encoded (data:image/png;base64,...)"))?;
    let format = match mime.to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => {
            return Err(invalid(
                "unsupported image type: Bedrock accepts image/png, image/jpeg, image/gif and image/webp",
            ));
        }
    };
    let decoded_len = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| invalid("image data is not valid base64"))?
        .len();
    if decoded_len == 0 {
        return Err(invalid("image data is empty"));
    }
    if decoded_len > MAX_IMAGE_BYTES {
        return Err(invalid(&format!(
            "image is {decoded_len} bytes; Bedrock accepts at most {MAX_IMAGE_BYTES}"
        )));
    }
    Ok(ImageBlock {
        format: format.to_owned(),
        source: ImageSource {
            bytes: data.to_owned(),
        },
    })
}

/// The document formats Bedrock takes, with the media types and file extensions that name them.
const DOCUMENT_FORMATS: &[(&str, &[&str], &[&str])] = &[
    ("pdf", &["application/pdf"], &["pdf"]),
    ("csv", &["text/csv"], &["csv"]),
    ("doc", &["application/msword"], &["doc"]),
    (
        "docx",
        &["application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
        &["docx"],
    ),
    ("xls", &["application/vnd.ms-excel"], &["xls"]),
    (
        "xlsx",
        &["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
        &["xlsx"],
    ),
    ("html", &["text/html"], &["html", "htm"]),
    ("txt", &["text/plain"], &["txt"]),
    (
        "md",
        &["text/markdown", "text/x-markdown"],
        &["md", "markdown"],
    ),
];

/// Media types that say nothing of the format: the filename's extension decides.
const GENERIC_MEDIA_TYPES: &[&str] = &["", "application/octet-stream", "binary/octet-stream"];

/// The documents of one request: Bedrock takes at most [`MAX_DOCUMENTS`], with distinct names.
#[derive(Debug, Default)]
struct Documents {
    names: HashSet<String>,
}

impl Documents {
    /// An OpenAI `file` part (`{"file_data": "data:<type>;base64,...", "filename": ...}`) ->
    /// a document block, checked against Bedrock's limits.
    fn add(&mut self, file: &Value, param: &str) -> Result<DocumentBlock, TranslateError> {
        let field = |name: &str| format!("{param}.file.{name}");
        if file.get("file_id").is_some_and(|id| !id.is_null()) && file.get("file_data").is_none() {
            return Err(TranslateError::unsupported(
                field("file_id"),
                "uploaded files (file_id) are not available through this gateway: send the file inline as file_data (a data:<media type>;base64,... URL) with its filename",
            ));
        }
        let Some(data_url) = file.get("file_data").and_then(Value::as_str) else {
            return Err(TranslateError::invalid(
                field("file_data"),
                "a file part needs file_data: a data:<media type>;base64,... URL",
            ));
        };
        let filename = match file.get("filename") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.as_str()),
            Some(_) => {
                return Err(TranslateError::invalid(
                    field("filename"),
                    "filename must be a string",
                ));
            }
        };
        let invalid = |message: &str| TranslateError::invalid(field("file_data"), message);
        let Some(rest) = data_url.strip_prefix("data:") else {
            return Err(invalid(
                "file_data must be a data:<media type>;base64,... URL (remote URLs are not fetched)",
            ));
        };
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| invalid("data URL has no ',' before its data"))?;
        let media_type = meta.strip_suffix(";base64").ok_or_else(|| {
            invalid("data URL must be base64-encoded (data:application/pdf;base64,...)")
        })?;
        // Parameters such as `;charset=utf-8` say nothing of the format.
        let media_type = media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let format = document_format(&media_type, filename, param)?;
        let decoded_len = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| invalid("file data is not valid base64"))?
            .len();
        if decoded_len == 0 {
            return Err(invalid("file data is empty"));
        }
        if decoded_len > MAX_DOCUMENT_BYTES {
            return Err(invalid(&format!(
                "document is {decoded_len} bytes; Bedrock accepts at most {MAX_DOCUMENT_BYTES} bytes (4.5 MB) per document"
            )));
        }
        if self.names.len() == MAX_DOCUMENTS {
            return Err(TranslateError::invalid(
                param,
                format!(
                    "too many documents: Bedrock accepts at most {MAX_DOCUMENTS} documents per request"
                ),
            ));
        }
        let citations = citations_config(file.get("citations"), &format!("{param}.file"))?;
        let name = self.unique_name(&document_name(filename));
        Ok(DocumentBlock {
            format: Some(format.to_owned()),
            name,
            source: DocumentSource {
                bytes: Some(data.to_owned()),
            },
            context: None,
            citations,
        })
    }

    /// `base`, or `base (2)`, `base (3)`, ... when taken.
    fn unique_name(&mut self, base: &str) -> String {
        let mut name = base.to_owned();
        let mut n = 1;
        while self.names.contains(&name) {
            n += 1;
            name = format!("{base} ({n})");
        }
        self.names.insert(name.clone());
        name
    }
}

/// `citations: {"enabled": bool}` of a document or a search result (`param` names its
/// holder).
pub(crate) fn citations_config(
    citations: Option<&Value>,
    param: &str,
) -> Result<Option<CitationsConfig>, TranslateError> {
    let Some(citations) = citations.filter(|c| !c.is_null()) else {
        return Ok(None);
    };
    match citations.get("enabled") {
        None => Ok(None),
        Some(Value::Bool(enabled)) => Ok(Some(CitationsConfig { enabled: *enabled })),
        Some(_) => Err(TranslateError::invalid(
            format!("{param}.citations.enabled"),
            "citations.enabled must be a boolean",
        )),
    }
}

/// The Converse format of a document from its media type and its filename's extension; a
/// type and an extension that disagree are a 400.
fn document_format(
    media_type: &str,
    filename: Option<&str>,
    param: &str,
) -> Result<&'static str, TranslateError> {
    let supported = "Bedrock accepts pdf, csv, doc, docx, xls, xlsx, html, txt and md documents";
    let by_type = if GENERIC_MEDIA_TYPES.contains(&media_type) {
        None
    } else {
        let found = DOCUMENT_FORMATS
            .iter()
            .find(|(_, types, _)| types.contains(&media_type))
            .map(|(format, _, _)| *format);
        match found {
            Some(format) => Some(format),
            None => {
                return Err(TranslateError::invalid(
                    format!("{param}.file.file_data"),
                    format!("unsupported document type '{media_type}': {supported}"),
                ));
            }
        }
    };
    let extension = filename
        .and_then(|name| basename(name).rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let by_extension = extension.as_deref().and_then(|ext| {
        DOCUMENT_FORMATS
            .iter()
            .find(|(_, _, exts)| exts.contains(&ext))
            .map(|(format, _, _)| *format)
    });
    match (by_type, by_extension, extension.as_deref()) {
        (Some(t), Some(e), _) if t != e => Err(TranslateError::invalid(
            format!("{param}.file.filename"),
            format!(
                "the filename's extension says '{e}' but the data URL's media type '{media_type}' says '{t}'"
            ),
        )),
        (Some(t), _, _) => Ok(t),
        (None, Some(e), _) => Ok(e),
        (None, None, Some(ext)) => Err(TranslateError::invalid(
            format!("{param}.file.filename"),
            format!("unsupported document extension '.{ext}': {supported}"),
        )),
        (None, None, None) => Err(TranslateError::invalid(
            format!("{param}.file.file_data"),
            format!(
                "the document's format is unknown: give the data URL a media type (data:application/pdf;base64,...) or a filename with an extension; {supported}"
            ),
        )),
    }
}

/// A Bedrock document name from a filename: the name without its extension, every character
/// Bedrock does not take (it takes letters, digits, single spaces, hyphens, parentheses and
/// square brackets) replaced by a hyphen, runs of whitespace made one space, at most 190
/// characters (room for a ` (N)` suffix); `document` when nothing is left.
///
/// ```
/// use bedrock_translate::request::document_name;
///
/// assert_eq!(document_name(Some("Q3 report_final.v2.pdf")), "Q3 report-final-v2");
/// assert_eq!(document_name(Some("../notes/Über: ideas [draft].md")), "ber- ideas [draft]");
/// assert_eq!(document_name(None), "document");
/// ```
pub fn document_name(filename: Option<&str>) -> String {
    let stem = filename.map_or("", |name| {
        let name = basename(name);
        name.rsplit_once('.').map_or(name, |(stem, _)| stem).trim()
    });
    let mut name = String::with_capacity(stem.len());
    for c in stem.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']') {
            c
        } else if c.is_whitespace() {
            ' '
        } else {
            '-'
        };
        let last = name.chars().last();
        // One space in a row; one hyphen for a run of replaced characters.
        if (c == ' ' && last == Some(' ')) || (c == '-' && last == Some('-')) {
            continue;
        }
        name.push(c);
    }
    let name: String = name
        .trim_matches(|c| c == ' ' || c == '-')
        .chars()
        .take(MAX_DOCUMENT_NAME_LEN - 10)
        .collect();
    let name = name.trim_end().to_owned();
    if name.is_empty() {
        "document".to_owned()
    } else {
        name
    }
}

/// The last component of a path (`/` or `\\` separated).
fn basename(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// Bedrock requires a text block in every message that holds a document.
fn check_documents_have_text(messages: &[Message]) -> Result<(), TranslateError> {
    for message in messages {
        let has_document = message.content.iter().any(|b| b.document.is_some());
        let has_text = message.content.iter().any(|b| b.text.is_some());
        if has_document && !has_text {
            return Err(TranslateError::invalid(
                "messages",
                "a user message with a file part needs a text part too: Bedrock requires a text block beside every document",
            ));
        }
    }
    Ok(())
}

fn tool_use_block(
    call: ToolCall,
    tool_use_id: String,
    param: &str,
) -> Result<ContentBlock, TranslateError> {
    check_tool_name(&call.function.name, &format!("{param}.function.name"))?;
    let arguments = call.function.arguments.trim();
    let input = if arguments.is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str::<Value>(arguments).map_err(|e| {
            TranslateError::invalid(
                format!("{param}.function.arguments"),
                format!("tool call arguments are not valid JSON: {e}"),
            )
        })?
    };
    if !input.is_object() {
        return Err(TranslateError::invalid(
            format!("{param}.function.arguments"),
            "tool call arguments must be a JSON object",
        ));
    }
    Ok(ContentBlock::tool_use(ToolUseBlock {
        tool_use_id,
        name: call.function.name,
        input,
    }))
}

fn tool_result_block(tool_use_id: String, text: String) -> ContentBlock {
    let text = if text.is_empty() {
        "(no output)".to_owned()
    } else {
        text
    };
    ContentBlock::tool_result(ToolResultBlock {
        tool_use_id,
        content: vec![ToolResultContent {
            text: Some(text),
            ..ToolResultContent::default()
        }],
        status: None,
    })
}

/// Bedrock's limit on the length of a tool-use id.
pub const MAX_TOOL_USE_ID_LEN: usize = 64;
/// Hex digits of the hash that ends a rewritten tool-use id.
const TOOL_USE_ID_HASH_HEX: usize = 16;

/// The Bedrock `toolUseId` for an OpenAI tool call id.
///
/// Bedrock takes `[a-zA-Z0-9_-]{1,64}`; OpenAI ids are free-form. An id Bedrock accepts is kept
/// as is (so Bedrock's own ids, answered to the client, come back unchanged). Any other id is
/// rewritten: other characters become `_`, the result is cut to 47 characters and followed by
/// `_` and 16 hex digits of the SHA-256 of the original id. Two ids that differ only where the
/// rewriting looks (`call 1`, `call.1`, `call:1`) therefore get distinct Bedrock ids, and the
/// same id always gets the same one, so a call and its result keep matching.
///
/// ```
/// use bedrock_translate::request::bedrock_tool_use_id;
///
/// assert_eq!(bedrock_tool_use_id("call_1"), "call_1");
/// let rewritten = bedrock_tool_use_id("call 1");
/// assert!(rewritten.starts_with("call_1_") && rewritten.len() == 23);
/// assert_ne!(rewritten, bedrock_tool_use_id("call.1"));
/// ```
pub fn bedrock_tool_use_id(id: &str) -> String {
    if is_bedrock_tool_use_id(id) {
        return id.to_owned();
    }
    let keep = MAX_TOOL_USE_ID_LEN - 1 - TOOL_USE_ID_HASH_HEX;
    let mut out: String = id
        .chars()
        .map(|c| if is_id_char(c) { c } else { '_' })
        .take(keep)
        .collect();
    if out.is_empty() {
        out.push_str("call");
    }
    out.push('_');
    let digest = Sha256::digest(id.as_bytes());
    for byte in &digest[..TOOL_USE_ID_HASH_HEX / 2] {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Whether Bedrock accepts `id` as a `toolUseId`: `[a-zA-Z0-9_-]{1,64}`.
pub fn is_bedrock_tool_use_id(id: &str) -> bool {
    (1..=MAX_TOOL_USE_ID_LEN).contains(&id.len()) && id.chars().all(is_id_char)
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

pub(crate) fn check_tool_name(name: &str, param: &str) -> Result<(), TranslateError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(TranslateError::invalid(
            param,
            format!("tool name '{name}' must match [a-zA-Z0-9_-]{{1,64}}"),
        ))
    }
}

/// `tool_choice`, else the legacy `function_call`.
fn requested_tool_choice(
    choice: Option<OpenAiToolChoice>,
    function_call: Option<Value>,
) -> Result<Option<OpenAiToolChoice>, TranslateError> {
    match (choice, function_call) {
        (Some(choice), _) => Ok(Some(choice)),
        (None, Some(legacy)) => legacy_function_call(legacy).map(Some),
        (None, None) => Ok(None),
    }
}

/// Whether the client asked that no tool be called.
fn is_none_choice(choice: Option<&OpenAiToolChoice>) -> bool {
    matches!(choice, Some(OpenAiToolChoice::Mode(mode)) if mode == "none")
}

/// `toolConfig` for JSON output through the [`JSON_OUTPUT_TOOL`] (models without native
/// structured output), with or without the client's own tools:
/// - no tools of the client's: `json_output` alone (plus the tools the history names), forced
///   by name;
/// - tools with `tool_choice` absent or `auto`: `json_output` offered beside them, with
///   `toolChoice: {any: {}}`, so the model either calls a tool of the client's (answered as
///   `tool_calls`) or gives its final answer through `json_output` (answered as content);
/// - `required` or a named tool: the client's tools with that choice, as without
///   `response_format` (the model must call a tool of the client's, so `json_output` is not
///   offered);
/// - `none`: `json_output` alone, forced, and the history's tool calls rendered as text.
///
/// A client tool named `json_output` is a 400: the name is the gateway's here.
fn json_output_tool_config(
    json_tool: ToolEntry,
    tools: Option<Vec<openai_types::chat::Tool>>,
    functions: Option<Vec<FunctionDefinition>>,
    choice: Option<OpenAiToolChoice>,
    messages: &mut [Message],
) -> Result<ToolConfig, TranslateError> {
    let forced = |tools: Vec<ToolEntry>| ToolConfig {
        tools,
        tool_choice: Some(ToolChoice {
            tool: Some(SpecificTool {
                name: JSON_OUTPUT_TOOL.to_owned(),
            }),
            ..ToolChoice::default()
        }),
        cache_points: Vec::new(),
    };
    if is_none_choice(choice.as_ref()) {
        render_tool_history_as_text(messages);
        return Ok(forced(vec![json_tool]));
    }
    let (param, client_tools) = match (&tools, &functions) {
        (Some(tools), _) => ("tools[{i}].function.name", tools.len()),
        (None, Some(functions)) => ("functions[{i}].name", functions.len()),
        (None, None) => ("tools", 0),
    };
    // Validates the tools and the choice (a named tool must be among the tools) in any case.
    let config = tool_config(tools, functions, choice, messages)?;
    let Some(config) = config.filter(|_| client_tools > 0) else {
        let mut specs = vec![json_tool];
        add_tools_named_in_history(&mut specs, messages);
        return Ok(forced(specs));
    };
    if let Some(i) = config.tools[..client_tools]
        .iter()
        .position(|t| t.tool_spec.name == JSON_OUTPUT_TOOL)
    {
        return Err(TranslateError::invalid(
            param.replace("{i}", &i.to_string()),
            format!(
                "the tool name '{JSON_OUTPUT_TOOL}' is reserved when response_format asks for JSON from a model without native structured output: rename the tool"
            ),
        ));
    }
    let offers_answer = config.tool_choice.as_ref().is_none_or(|c| c.auto.is_some());
    if !offers_answer {
        return Ok(config);
    }
    let mut specs = config.tools;
    specs.push(json_tool);
    Ok(ToolConfig {
        tools: specs,
        tool_choice: Some(ToolChoice {
            any: Some(Empty {}),
            ..ToolChoice::default()
        }),
        cache_points: config.cache_points,
    })
}

/// `tools`/`functions` and the requested tool choice -> `toolConfig`.
fn tool_config(
    tools: Option<Vec<openai_types::chat::Tool>>,
    functions: Option<Vec<FunctionDefinition>>,
    choice: Option<OpenAiToolChoice>,
    messages: &[Message],
) -> Result<Option<ToolConfig>, TranslateError> {
    let (param, definitions) = tool_definitions(tools, functions)?;
    let mut specs = Vec::with_capacity(definitions.len());
    for (i, def) in definitions.into_iter().enumerate() {
        check_tool_name(&def.name, &format!("{param}[{i}].function.name"))?;
        let json = def
            .parameters
            .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}}));
        specs.push(ToolEntry {
            tool_spec: ToolSpec {
                name: def.name,
                description: def.description.filter(|d| !d.is_empty()),
                input_schema: ToolInputSchema { json },
            },
        });
    }
    let tool_choice = match choice {
        None => None,
        Some(OpenAiToolChoice::Mode(mode)) => match mode.as_str() {
            "auto" => Some(ToolChoice {
                auto: Some(Empty {}),
                ..ToolChoice::default()
            }),
            "required" => Some(ToolChoice {
                any: Some(Empty {}),
                ..ToolChoice::default()
            }),
            // Bedrock has no "none": declare no tool at all (the history's tool blocks were
            // rendered as text, see `render_tool_history_as_text`).
            "none" => return Ok(None),
            other => {
                return Err(TranslateError::invalid(
                    "tool_choice",
                    format!(
                        "unknown tool_choice '{other}': use none, auto, required or a named function"
                    ),
                ));
            }
        },
        Some(OpenAiToolChoice::Named(named)) => {
            if !specs
                .iter()
                .any(|s| s.tool_spec.name == named.function.name)
            {
                return Err(TranslateError::invalid(
                    "tool_choice",
                    format!(
                        "tool_choice names '{}', which is not in tools",
                        named.function.name
                    ),
                ));
            }
            Some(ToolChoice {
                tool: Some(SpecificTool {
                    name: named.function.name,
                }),
                ..ToolChoice::default()
            })
        }
    };
    add_tools_named_in_history(&mut specs, messages);
    if specs.is_empty() {
        return Ok(None);
    }
    Ok(Some(ToolConfig {
        tools: specs,
        tool_choice,
        cache_points: Vec::new(),
    }))
}

fn tool_definitions(
    tools: Option<Vec<openai_types::chat::Tool>>,
    functions: Option<Vec<FunctionDefinition>>,
) -> Result<(&'static str, Vec<FunctionDefinition>), TranslateError> {
    match (tools, functions) {
        (Some(tools), _) => {
            let mut defs = Vec::with_capacity(tools.len());
            for (i, tool) in tools.into_iter().enumerate() {
                if tool.kind != "function" {
                    return Err(TranslateError::unsupported(
                        format!("tools[{i}].type"),
                        format!(
                            "tool type '{}' is not supported: only 'function' tools",
                            tool.kind
                        ),
                    ));
                }
                defs.push(tool.function);
            }
            Ok(("tools", defs))
        }
        (None, Some(functions)) => Ok(("functions", functions)),
        (None, None) => Ok(("tools", Vec::new())),
    }
}

/// Legacy `function_call`: `"none"`, `"auto"` or `{"name": ...}`.
fn legacy_function_call(value: Value) -> Result<OpenAiToolChoice, TranslateError> {
    match value {
        Value::String(mode) => Ok(OpenAiToolChoice::Mode(mode)),
        Value::Object(map) => match map.get("name").and_then(Value::as_str) {
            Some(name) => Ok(OpenAiToolChoice::Named(
                openai_types::chat::NamedToolChoice {
                    kind: "function".to_owned(),
                    function: openai_types::chat::FunctionName {
                        name: name.to_owned(),
                    },
                },
            )),
            None => Err(TranslateError::invalid(
                "function_call",
                "function_call object needs a 'name'",
            )),
        },
        _ => Err(TranslateError::invalid(
            "function_call",
            "function_call must be a string or an object",
        )),
    }
}

/// Bedrock rejects a history with `toolUse`/`toolResult` blocks unless `toolConfig` is set:
/// declare the tools the history names (with a permissive schema) when the client did not.
pub(crate) fn add_tools_named_in_history(specs: &mut Vec<ToolEntry>, messages: &[Message]) {
    let mut has_tool_blocks = false;
    for block in messages.iter().flat_map(|m| &m.content) {
        has_tool_blocks |= block.tool_result.is_some();
        if let Some(tool_use) = &block.tool_use {
            has_tool_blocks = true;
            if !specs.iter().any(|s| s.tool_spec.name == tool_use.name) {
                specs.push(ToolEntry {
                    tool_spec: ToolSpec {
                        name: tool_use.name.clone(),
                        description: None,
                        input_schema: ToolInputSchema {
                            json: serde_json::json!({"type": "object"}),
                        },
                    },
                });
            }
        }
    }
    if has_tool_blocks && specs.is_empty() {
        specs.push(ToolEntry {
            tool_spec: ToolSpec {
                name: "tool".to_owned(),
                description: None,
                input_schema: ToolInputSchema {
                    json: serde_json::json!({"type": "object"}),
                },
            },
        });
    }
}

/// For `tool_choice: "none"`: Converse has no such choice, and a history with `toolUse` or
/// `toolResult` blocks needs a `toolConfig`, which would let the model call the tools again.
/// So each tool call becomes a text block `[tool call NAME(ARGUMENTS), id ID]` and each result
/// `[tool result for NAME, id ID: CONTENT]`, and no tool is declared.
fn render_tool_history_as_text(messages: &mut [Message]) {
    let mut names: HashMap<String, String> = HashMap::new();
    for block in messages.iter_mut().flat_map(|m| &mut m.content) {
        if let Some(call) = block.tool_use.take() {
            *block = ContentBlock::text(format!(
                "[tool call {}({}), id {}]",
                call.name, call.input, call.tool_use_id
            ));
            names.insert(call.tool_use_id, call.name);
        } else if let Some(result) = block.tool_result.take() {
            let name = names
                .get(&result.tool_use_id)
                .map_or("a tool", String::as_str);
            *block = ContentBlock::text(format!(
                "[tool result for {name}, id {}: {}]",
                result.tool_use_id,
                tool_result_text(&result.content)
            ));
        }
    }
}

/// The content of a tool result as text.
fn tool_result_text(content: &[ToolResultContent]) -> String {
    let parts: Vec<String> = content
        .iter()
        .map(|part| match (&part.text, &part.json, &part.image) {
            (Some(text), _, _) => text.clone(),
            (None, Some(json), _) => json.to_string(),
            (None, None, Some(image)) => format!("[{} image]", image.format),
            (None, None, None) => String::new(),
        })
        .collect();
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_part(bytes: usize) -> Value {
        let data = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; bytes]);
        serde_json::json!({"type": "file", "file": {"file_data": format!("data:text/plain;base64,{data}"), "filename": "big.txt"}})
    }

    fn translate(parts: Vec<Value>) -> Result<ConverseRequest, TranslateError> {
        let mut content = vec![serde_json::json!({"type": "text", "text": "Read."})];
        content.extend(parts);
        let req = serde_json::from_value(
            serde_json::json!({"messages": [{"role": "user", "content": content}]}),
        )
        .unwrap();
        chat_to_converse(req, &ModelId::parse("amazon.nova-pro-v1:0").unwrap())
    }

    #[test]
    fn a_document_over_bedrocks_size_limit_is_a_400_naming_the_limit() {
        let converse = translate(vec![file_part(MAX_DOCUMENT_BYTES)]).unwrap();
        let document = converse.messages[0].content[1].document.as_ref().unwrap();
        assert_eq!(
            (document.format.as_deref(), document.name.as_str()),
            (Some("txt"), "big")
        );
        let err = translate(vec![file_part(MAX_DOCUMENT_BYTES + 1)]).unwrap_err();
        let api = crate::ApiError::from(err);
        assert_eq!(api.status, 400);
        assert_eq!(
            api.error.param.as_deref(),
            Some("messages[0].content[1].file.file_data")
        );
        assert!(
            api.error
                .message
                .contains("at most 4500000 bytes (4.5 MB) per document"),
            "{}",
            api.error.message
        );
    }

    #[test]
    fn prompt_caching_auto_adds_system_and_tool_points_and_off_drops_every_marker() {
        let req: ChatCompletionRequest = serde_json::from_value(serde_json::json!({
            "messages": [{"role": "system", "content": "Sys."},
                {"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}]}],
            "tools": [{"type": "function", "function": {"name": "a"}}]
        }))
        .unwrap();
        let sonnet = ModelId::parse("anthropic.claude-3-7-sonnet-20250219-v1:0").unwrap();
        let json = |caching, model: &ModelId| {
            let options = ConverseOptions::default().with_prompt_caching(caching);
            serde_json::to_value(chat_to_converse_with(req.clone(), model, &options).unwrap())
                .unwrap()
        };
        let cp = serde_json::json!({"cachePoint": {"type": "default"}});
        let auto = json(PromptCaching::Auto, &sonnet);
        assert_eq!(auto["system"][1], cp);
        assert_eq!(auto["toolConfig"]["tools"][1], cp);
        assert_eq!(auto["messages"][0]["content"][1], cp);
        let explicit = json(PromptCaching::Explicit, &sonnet);
        assert_eq!(explicit["system"].as_array().unwrap().len(), 1);
        assert_eq!(explicit["toolConfig"]["tools"].as_array().unwrap().len(), 1);
        assert_eq!(explicit["messages"][0]["content"][1], cp);
        let off = json(PromptCaching::Off, &sonnet);
        assert!(!off.to_string().contains("cachePoint"), "{off}");
        let haiku3 = ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
        assert!(
            !json(PromptCaching::Auto, &haiku3)
                .to_string()
                .contains("cachePoint")
        );
        let nova = ModelId::parse("amazon.nova-lite-v1:0").unwrap();
        let nova = json(PromptCaching::Auto, &nova);
        assert_eq!(nova["system"][1], cp);
        assert_eq!(nova["toolConfig"]["tools"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn tool_cache_points_round_trip_through_the_wire_shape() {
        let wire = serde_json::json!({"tools": [
            {"cachePoint": {"type": "default"}},
            {"toolSpec": {"name": "a", "inputSchema": {"json": {}}}},
            {"cachePoint": {"type": "default", "ttl": "1h"}},
            {"toolSpec": {"name": "b", "inputSchema": {"json": {}}}},
            {"cachePoint": {"type": "default"}}
        ], "toolChoice": {"auto": {}}});
        let config: ToolConfig = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(config.tools.len(), 2);
        assert_eq!(
            config
                .cache_points
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(serde_json::to_value(&config).unwrap(), wire);
    }

    #[test]
    fn document_names_fit_bedrocks_pattern_and_length() {
        let long = format!("{}.pdf", "a_".repeat(300));
        for filename in [
            long.as_str(),
            "  spaced   out\tname .pdf",
            "<script>alert(1)</script>.html",
            "..",
            "C:\\Users\\me\\report (final) [v2].docx",
        ] {
            let name = document_name(Some(filename));
            assert!((1..=MAX_DOCUMENT_NAME_LEN).contains(&name.len()), "{name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || " -()[]".contains(c)),
                "{name}"
            );
            assert!(!name.contains("  ") && name.trim() == name, "{name:?}");
        }
        assert_eq!(
            document_name(Some("C:\\Users\\me\\report (final) [v2].docx")),
            "report (final) [v2]"
        );
    }
}
