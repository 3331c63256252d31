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

use std::collections::HashMap;

use base64::Engine as _;
use openai_types::chat::{
    ChatCompletionRequest, ChatMessage, ContentPart, FunctionDefinition, MessageContent, ToolCall,
    ToolChoice as OpenAiToolChoice,
};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::converse::{
    ContentBlock, ConverseRequest, Empty, ImageBlock, ImageSource, InferenceConfig, Message, Role,
    SpecificTool, SystemContentBlock, ToolChoice, ToolConfig, ToolEntry, ToolInputSchema,
    ToolResultBlock, ToolResultContent, ToolSpec, ToolUseBlock,
};
use crate::error::TranslateError;
use crate::model_id::ModelId;

/// Bedrock's limit on one image (3.75 MB).
pub const MAX_IMAGE_BYTES: usize = 3_750_000;
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
    check_unsupported(&req)?;
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
            let tools = tool_config(req.tools, req.functions, choice, &messages)?;
            (tools, mode.native_config())
        }
    };
    let inference_config = reserve_room_for_thinking(inference_config, additional.as_ref());
    Ok(ConverseRequest {
        messages,
        system,
        inference_config: (!inference_config.is_empty()).then_some(inference_config),
        tool_config,
        additional_model_request_fields: additional,
        output_config,
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
}

impl Conversation {
    fn push_message(&mut self, index: usize, message: ChatMessage) -> Result<(), TranslateError> {
        let param = format!("messages[{index}]");
        match message {
            ChatMessage::System { content, .. } | ChatMessage::Developer { content, .. } => {
                let text = text_of(content, &param)?;
                if !text.is_empty() {
                    self.system.push(SystemContentBlock::text(text));
                }
                Ok(())
            }
            ChatMessage::User { content, .. } => {
                let blocks = user_blocks(content, &param)?;
                self.push(Role::User, blocks, &param)
            }
            ChatMessage::Assistant {
                content,
                tool_calls,
                function_call,
                refusal,
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
                self.push(Role::Assistant, blocks, &param)
            }
            ChatMessage::Tool {
                content,
                tool_call_id,
            } => {
                let id = self.tool_use_id(&tool_call_id, &format!("{param}.tool_call_id"))?;
                let text = text_of(content, &param)?;
                self.push(Role::User, vec![tool_result_block(id, text)], &param)
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

fn fold_system_into_first_user_turn(
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

/// The text of system, developer and tool messages: a string or text parts, concatenated.
fn text_of(content: MessageContent, param: &str) -> Result<String, TranslateError> {
    match content {
        MessageContent::Text(text) => Ok(text),
        MessageContent::Parts(parts) => {
            let mut text = String::new();
            for (i, part) in parts.into_iter().enumerate() {
                match part {
                    ContentPart::Text { text: t } => text.push_str(&t),
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
        MessageContent::Text(text) => vec![ContentPart::Text { text }],
        MessageContent::Parts(parts) => parts,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        match part {
            ContentPart::Text { text } | ContentPart::Refusal { refusal: text } => {
                if !text.is_empty() {
                    blocks.push(ContentBlock::text(text));
                }
            }
            other => return Err(unsupported_part(&other, &format!("{param}.content[{i}]"))),
        }
    }
    Ok(blocks)
}

/// User content: text and images.
fn user_blocks(content: MessageContent, param: &str) -> Result<Vec<ContentBlock>, TranslateError> {
    let parts = match content {
        MessageContent::Text(text) if text.is_empty() => Vec::new(),
        MessageContent::Text(text) => return Ok(vec![ContentBlock::text(text)]),
        MessageContent::Parts(parts) => parts,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        let part_param = format!("{param}.content[{i}]");
        match part {
            ContentPart::Text { text } if text.is_empty() => {}
            ContentPart::Text { text } => blocks.push(ContentBlock::text(text)),
            ContentPart::ImageUrl { image_url } => {
                blocks.push(ContentBlock::image(image_block(
                    &image_url.url,
                    &part_param,
                )?));
            }
            other => return Err(unsupported_part(&other, &part_param)),
        }
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

fn check_tool_name(name: &str, param: &str) -> Result<(), TranslateError> {
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
fn add_tools_named_in_history(specs: &mut Vec<ToolEntry>, messages: &[Message]) {
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
