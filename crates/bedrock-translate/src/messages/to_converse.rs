//! A Messages request for a model other than Claude -> a Converse request.
//!
//! | Messages | Converse |
//! | --- | --- |
//! | `system` (string or text blocks) | `system[{text}]` (folded into the first user turn for models without a system prompt) |
//! | `text` | `{text}` (empty text dropped) |
//! | `image` base64 | `{image:{format,source:{bytes}}}`; URL and file sources: 400 |
//! | `document` base64 PDF / plain text | `{document:{name,format:pdf\|txt,source:{bytes},context,citations}}` (`citations.enabled` as is); other sources: 400 |
//! | `search_result` (in a turn or a `tool_result`) | `{searchResult:{source,title,content:[{text}],citations}}` (botocore documents it for Claude models only: Bedrock's 400 for others) |
//! | `tool_use` / `tool_result` | `{toolUse}` / `{toolResult:{content,status}}` (empty content: one empty text) |
//! | `thinking` / `redacted_thinking` | `{reasoningContent:{reasoningText:{text,signature}}}` / `{reasoningContent:{redactedContent}}` |
//! | server tools | 400 (Claude only, through InvokeModel) |
//! | `cache_control` on a block, a system block or a tool; top-level | `{cachePoint}` after it, where the model supports caching, else dropped |
//! | `max_tokens`, `temperature` (at most 1), `top_p`, `stop_sequences` | `inferenceConfig` |
//! | `top_k` | `additionalModelRequestFields` (Nova's `inferenceConfig.topK`); dropped for models without it |
//! | `thinking` enabled / adaptive | `additionalModelRequestFields.thinking` where the model reasons, else 400 |
//! | `tool_choice` auto / any / tool / none | `auto` / `any` / `tool` / no `toolChoice`; `disable_parallel_tool_use` is ignored (Converse has no such control) |
//! | `output_config.format` json_schema / `.effort` | `outputConfig.textFormat` where the model supports it (else 400) / `outputConfig.effort` |
//! | `metadata.user_id` | `requestMetadata.user_id` (for invocation-log filtering), characters outside Bedrock's `[a-zA-Z0-9\s:_@$#=/+,-.]` replaced by `_`, cut to 256 characters; empty: dropped |
//!
//! Consecutive turns of the same role are merged, as Anthropic's API does.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::messages::to_converse::messages_to_converse;
//! use bedrock_translate::request::ConverseOptions;
//! use bedrock_translate::ModelId;
//!
//! let request = serde_json::from_str(
//!     r#"{"model":"amazon.nova-lite-v1:0","max_tokens":50,"system":"Be brief.",
//!         "messages":[{"role":"user","content":"Hi"}]}"#,
//! ).unwrap();
//! let model = ModelId::parse("amazon.nova-lite-v1:0").unwrap();
//! let converse = messages_to_converse(request, &model, &ConverseOptions::default()).unwrap();
//! assert_eq!(
//!     serde_json::to_value(converse).unwrap(),
//!     serde_json::json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}],
//!                        "system": [{"text": "Be brief."}],
//!                        "inferenceConfig": {"maxTokens": 50}})
//! );
//! ```

use anthropic_types::{
    CacheControl, ContentBlock as Block, DocumentSource, ImageSource, InputMessage, MessageContent,
    MessagesRequest, Role as AnthropicRole, SystemPrompt, TextBlock, Thinking, Tool,
    ToolChoice as AnthropicToolChoice,
};
use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::catalog::{supports_prompt_caching, supports_tool_cache_points};
use crate::converse::{
    CachePointBlock, ContentBlock, ConverseRequest, DocumentBlock, DocumentSource as Source, Empty,
    ImageBlock, ImageSource as ImageBytes, InferenceConfig, Message, ReasoningContentBlock,
    ReasoningText, Role, SearchResultBlock, SpecificTool, SystemContentBlock, TextContent,
    ToolChoice, ToolConfig, ToolEntry, ToolInputSchema, ToolResultBlock, ToolResultContent,
    ToolSpec, ToolUseBlock,
};
use crate::error::TranslateError;
use crate::model_id::ModelId;
use crate::request::{
    ConverseOptions, PromptCaching, add_tools_named_in_history, bedrock_tool_use_id,
    check_tool_name, citations_config, document_name, fold_system_into_first_user_turn,
    supports_native_structured_output, supports_reasoning, supports_system_prompt,
};

/// What the request may cache, for its model.
#[derive(Debug, Clone, Copy)]
struct Caching {
    /// Cache points in `system` and `messages`.
    prompt: bool,
    /// Cache points in `toolConfig.tools`.
    tools: bool,
}

/// Translates a Messages request for `model` (not Claude: those go to InvokeModel).
pub fn messages_to_converse(
    req: MessagesRequest,
    model: &ModelId,
    options: &ConverseOptions,
) -> Result<ConverseRequest, TranslateError> {
    let on = options.prompt_caching != PromptCaching::Off;
    let caching = Caching {
        prompt: on && supports_prompt_caching(model),
        tools: on && supports_tool_cache_points(model),
    };
    let mut system = system_blocks(req.system, caching)?;
    let mut messages = conversation(req.messages, caching)?;
    if let (Some(control), true) = (&req.cache_control, caching.prompt) {
        let point = cache_point(control, "cache_control")?;
        if let Some(last) = messages.last_mut() {
            push_point(&mut last.content, point);
        }
    }
    if !system.is_empty() && !supports_system_prompt(model) {
        fold_system_into_first_user_turn(&mut system, &mut messages);
    }
    let tool_config = tool_config(req.tools, req.tool_choice, &messages, caching)?;
    let inference_config =
        inference_config(req.max_tokens, req.temperature, req.top_p).map(|mut config| {
            config.stop_sequences = req.stop_sequences;
            config
        })?;
    Ok(ConverseRequest {
        messages,
        system,
        inference_config: Some(inference_config),
        tool_config,
        additional_model_request_fields: additional_fields(req.top_k, req.thinking, model)?,
        output_config: output_config(req.output_config, model)?,
        guardrail_config: None,
        request_metadata: request_metadata(req.metadata.as_ref()),
    })
}

fn inference_config(
    max_tokens: u32,
    temperature: Option<f64>,
    top_p: Option<f64>,
) -> Result<InferenceConfig, TranslateError> {
    if temperature.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
        return Err(TranslateError::invalid(
            "temperature",
            "temperature must be between 0 and 1",
        ));
    }
    Ok(InferenceConfig {
        max_tokens: Some(max_tokens),
        temperature,
        top_p,
        stop_sequences: None,
    })
}

/// The longest `requestMetadata` value Bedrock takes.
const MAX_METADATA_VALUE: usize = 256;

/// `metadata.user_id` as `requestMetadata` (`{"user_id": ...}`), made to fit Bedrock's pattern.
fn request_metadata(metadata: Option<&Value>) -> Option<BTreeMap<String, String>> {
    let user = metadata?.get("user_id")?.as_str()?;
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || c.is_whitespace() || ":_@$#=/+,-.".contains(c);
    let value: String = user
        .chars()
        .map(|c| if allowed(c) { c } else { '_' })
        .take(MAX_METADATA_VALUE)
        .collect();
    (!value.is_empty()).then(|| BTreeMap::from([("user_id".to_owned(), value)]))
}

/// `top_k` and `thinking`, where the model takes them.
fn additional_fields(
    top_k: Option<u32>,
    thinking: Option<Thinking>,
    model: &ModelId,
) -> Result<Option<Value>, TranslateError> {
    let mut fields = serde_json::Map::new();
    match (top_k, model.provider()) {
        (Some(k), "anthropic") => {
            fields.insert("top_k".into(), json!(k));
        }
        (Some(k), "amazon") if model.base_model().starts_with("amazon.nova") => {
            fields.insert("inferenceConfig".into(), json!({ "topK": k }));
        }
        _ => {}
    }
    match thinking {
        None | Some(Thinking::Disabled) => {}
        Some(thinking) if supports_reasoning(model) => {
            fields.insert(
                "thinking".into(),
                serde_json::to_value(thinking).expect("serialises"),
            );
        }
        Some(_) => {
            return Err(TranslateError::unsupported(
                "thinking",
                format!("the model '{model}' does not support extended thinking"),
            ));
        }
    }
    Ok((!fields.is_empty()).then_some(Value::Object(fields)))
}

/// `output_config`: `format` (a JSON schema) and `effort`.
fn output_config(config: Option<Value>, model: &ModelId) -> Result<Option<Value>, TranslateError> {
    let Some(config) = config else {
        return Ok(None);
    };
    let mut out = serde_json::Map::new();
    if let Some(effort) = config.get("effort") {
        out.insert("effort".into(), effort.clone());
    }
    if let Some(format) = config.get("format").filter(|f| !f.is_null()) {
        if !supports_native_structured_output(model) {
            return Err(TranslateError::unsupported(
                "output_config.format",
                format!("the model '{model}' does not support structured output"),
            ));
        }
        let schema = format.get("schema").cloned().unwrap_or_else(|| json!({}));
        out.insert(
            "textFormat".into(),
            json!({"type": "json_schema", "structure": {"jsonSchema": {"schema": schema.to_string()}}}),
        );
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// A `cache_control` marker -> a cache point.
fn cache_point(control: &CacheControl, param: &str) -> Result<CachePointBlock, TranslateError> {
    if control.kind != "ephemeral" {
        return Err(TranslateError::invalid(
            format!("{param}.type"),
            "cache_control.type must be \"ephemeral\"",
        ));
    }
    match control.ttl.as_deref() {
        None => Ok(CachePointBlock::new(None)),
        Some(ttl @ ("5m" | "1h")) => Ok(CachePointBlock::new(Some(ttl.to_owned()))),
        Some(_) => Err(TranslateError::invalid(
            format!("{param}.ttl"),
            "cache_control.ttl must be \"5m\" or \"1h\"",
        )),
    }
}

/// A cache point after the last block, unless it already is one.
fn push_point(blocks: &mut Vec<ContentBlock>, point: CachePointBlock) {
    if blocks.last().is_some_and(|b| b.cache_point.is_none()) {
        blocks.push(ContentBlock::cache_point(point));
    }
}

fn system_blocks(
    system: Option<SystemPrompt>,
    caching: Caching,
) -> Result<Vec<SystemContentBlock>, TranslateError> {
    let mut out = Vec::new();
    match system {
        None => {}
        Some(SystemPrompt::Text(text)) if text.is_empty() => {}
        Some(SystemPrompt::Text(text)) => out.push(SystemContentBlock::text(text)),
        Some(SystemPrompt::Blocks(blocks)) => {
            for (i, block) in blocks.into_iter().enumerate() {
                if !block.text.is_empty() {
                    out.push(SystemContentBlock::text(block.text));
                }
                if let (Some(control), true) = (&block.cache_control, caching.prompt) {
                    let point = cache_point(control, &format!("system[{i}].cache_control"))?;
                    if out.last().is_some_and(|b| b.cache_point.is_none()) {
                        out.push(SystemContentBlock::cache_point(point));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The turns, same-role neighbours merged.
fn conversation(
    turns: Vec<InputMessage>,
    caching: Caching,
) -> Result<Vec<Message>, TranslateError> {
    let mut messages: Vec<Message> = Vec::with_capacity(turns.len());
    let mut documents = 0;
    for (i, turn) in turns.into_iter().enumerate() {
        let role = match turn.role {
            AnthropicRole::User => Role::User,
            AnthropicRole::Assistant => Role::Assistant,
        };
        let param = format!("messages[{i}].content");
        let blocks = turn_blocks(turn.content, &param, caching, &mut documents)?;
        match messages.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => messages.push(Message {
                role,
                content: blocks,
            }),
        }
    }
    Ok(messages)
}

fn turn_blocks(
    content: MessageContent,
    param: &str,
    caching: Caching,
    documents: &mut usize,
) -> Result<Vec<ContentBlock>, TranslateError> {
    let blocks = match content {
        MessageContent::Text(text) => {
            return Ok(if text.is_empty() {
                Vec::new()
            } else {
                vec![ContentBlock::text(text)]
            });
        }
        MessageContent::Blocks(blocks) => blocks,
    };
    let mut out = Vec::with_capacity(blocks.len());
    for (j, block) in blocks.into_iter().enumerate() {
        let param = format!("{param}[{j}]");
        let control = cache_control_of(&block).cloned();
        if let Some(converted) = block_to_converse(block, &param, documents)? {
            out.push(converted);
        }
        if let (Some(control), true) = (control, caching.prompt) {
            push_point(
                &mut out,
                cache_point(&control, &format!("{param}.cache_control"))?,
            );
        }
    }
    Ok(out)
}

fn cache_control_of(block: &Block) -> Option<&CacheControl> {
    match block {
        Block::Text { cache_control, .. }
        | Block::Image { cache_control, .. }
        | Block::Document { cache_control, .. }
        | Block::SearchResult { cache_control, .. }
        | Block::ToolUse { cache_control, .. }
        | Block::ToolResult { cache_control, .. } => cache_control.as_ref(),
        Block::Thinking { .. } | Block::RedactedThinking { .. } => None,
    }
}

/// One block; `None` for an empty text.
fn block_to_converse(
    block: Block,
    param: &str,
    documents: &mut usize,
) -> Result<Option<ContentBlock>, TranslateError> {
    Ok(Some(match block {
        Block::Text { text, .. } if text.is_empty() => return Ok(None),
        Block::Text { text, .. } => ContentBlock::text(text),
        Block::Image { source, .. } => ContentBlock::image(image(source, param)?),
        Block::Document {
            source,
            title,
            context,
            citations,
            ..
        } => {
            *documents += 1;
            let mut block = document(source, title, *documents, param)?;
            block.context = context;
            block.citations = citations_config(citations.as_ref(), param)?;
            ContentBlock::document(block)
        }
        Block::SearchResult {
            source,
            title,
            content,
            citations,
            ..
        } => ContentBlock {
            search_result: Some(search_result(
                (source, title, content),
                citations.as_ref(),
                param,
            )?),
            ..ContentBlock::default()
        },
        Block::ToolUse {
            id, name, input, ..
        } => {
            check_tool_name(&name, &format!("{param}.name"))?;
            ContentBlock::tool_use(ToolUseBlock {
                tool_use_id: bedrock_tool_use_id(&id),
                name,
                input,
            })
        }
        Block::ToolResult {
            tool_use_id,
            content,
            is_error,
            ..
        } => ContentBlock::tool_result(ToolResultBlock {
            tool_use_id: bedrock_tool_use_id(&tool_use_id),
            content: tool_result_content(content, param)?,
            status: is_error.map(|e| if e { "error" } else { "success" }.to_owned()),
        }),
        Block::Thinking {
            thinking,
            signature,
        } => reasoning(ReasoningContentBlock {
            reasoning_text: Some(ReasoningText {
                text: thinking,
                signature: Some(signature).filter(|s| !s.is_empty()),
            }),
            redacted_content: None,
        }),
        Block::RedactedThinking { data } => reasoning(ReasoningContentBlock {
            reasoning_text: None,
            redacted_content: Some(data),
        }),
    }))
}

/// A `search_result` block (`source`, `title`, `content`, `citations`) as Converse's
/// `searchResult`.
fn search_result(
    (source, title, content): (String, String, Vec<TextBlock>),
    citations: Option<&Value>,
    param: &str,
) -> Result<SearchResultBlock, TranslateError> {
    Ok(SearchResultBlock {
        source,
        title,
        content: content
            .into_iter()
            .map(|b| TextContent { text: b.text })
            .collect(),
        citations: citations_config(citations, param)?,
    })
}

fn reasoning(block: ReasoningContentBlock) -> ContentBlock {
    ContentBlock {
        reasoning_content: Some(block),
        ..ContentBlock::default()
    }
}

fn image(source: ImageSource, param: &str) -> Result<ImageBlock, TranslateError> {
    match source {
        ImageSource::Base64 { media_type, data } => {
            let format = match media_type.as_str() {
                "image/png" => "png",
                "image/jpeg" => "jpeg",
                "image/gif" => "gif",
                "image/webp" => "webp",
                _ => {
                    return Err(TranslateError::invalid(
                        format!("{param}.source.media_type"),
                        "image media_type must be image/jpeg, image/png, image/gif or image/webp",
                    ));
                }
            };
            Ok(ImageBlock {
                format: format.to_owned(),
                source: ImageBytes { bytes: data },
            })
        }
        ImageSource::Url { .. } | ImageSource::File { .. } => Err(TranslateError::unsupported(
            format!("{param}.source"),
            "image URL and file sources are not supported: send the image as base64",
        )),
    }
}

fn document(
    source: DocumentSource,
    title: Option<String>,
    n: usize,
    param: &str,
) -> Result<DocumentBlock, TranslateError> {
    let name = match title.as_deref().map(|t| document_name(Some(t))) {
        Some(name) if name != "document" => name,
        _ => format!("document-{n}"),
    };
    let (format, bytes) = match source {
        DocumentSource::Base64 { media_type, data } if media_type == "application/pdf" => {
            ("pdf", data)
        }
        DocumentSource::Text { data, .. } => (
            "txt",
            base64::engine::general_purpose::STANDARD.encode(data.as_bytes()),
        ),
        _ => {
            return Err(TranslateError::unsupported(
                format!("{param}.source"),
                "documents must be base64 PDF or plain text for this model",
            ));
        }
    };
    Ok(DocumentBlock {
        format: Some(format.to_owned()),
        name,
        source: Source { bytes: Some(bytes) },
        context: None,
        citations: None,
    })
}

fn tool_result_content(
    content: Option<MessageContent>,
    param: &str,
) -> Result<Vec<ToolResultContent>, TranslateError> {
    let text = |text: String| ToolResultContent {
        text: Some(text),
        ..ToolResultContent::default()
    };
    let mut out = Vec::new();
    match content {
        None => {}
        Some(MessageContent::Text(s)) => out.push(text(s)),
        Some(MessageContent::Blocks(blocks)) => {
            for (k, block) in blocks.into_iter().enumerate() {
                match block {
                    Block::Text { text: s, .. } => out.push(text(s)),
                    Block::Image { source, .. } => out.push(ToolResultContent {
                        image: Some(image(source, &format!("{param}.content[{k}]"))?),
                        ..ToolResultContent::default()
                    }),
                    Block::SearchResult {
                        source,
                        title,
                        content,
                        citations,
                        ..
                    } => out.push(ToolResultContent {
                        search_result: Some(search_result(
                            (source, title, content),
                            citations.as_ref(),
                            &format!("{param}.content[{k}]"),
                        )?),
                        ..ToolResultContent::default()
                    }),
                    _ => {
                        return Err(TranslateError::unsupported(
                            format!("{param}.content[{k}]"),
                            "tool results may hold text, images and search results for this model",
                        ));
                    }
                }
            }
        }
    }
    if out.is_empty() {
        out.push(text(String::new()));
    }
    Ok(out)
}

fn tool_config(
    tools: Option<Vec<Tool>>,
    choice: Option<AnthropicToolChoice>,
    messages: &[Message],
    caching: Caching,
) -> Result<Option<ToolConfig>, TranslateError> {
    let mut entries = Vec::new();
    let mut cache_points = Vec::new();
    for (i, tool) in tools.into_iter().flatten().enumerate() {
        let param = format!("tools[{i}]");
        let custom = tool.kind.as_deref().is_none_or(|k| k == "custom");
        let Some(schema) = tool.input_schema.filter(|_| custom) else {
            return Err(TranslateError::unsupported(
                param,
                "server tools are supported for Claude models only",
            ));
        };
        check_tool_name(&tool.name, &format!("{param}.name"))?;
        entries.push(ToolEntry {
            tool_spec: ToolSpec {
                name: tool.name,
                description: tool.description,
                input_schema: ToolInputSchema { json: schema },
            },
        });
        if let (Some(control), true) = (&tool.cache_control, caching.tools) {
            let point = cache_point(control, &format!("{param}.cache_control"))?;
            cache_points.push((entries.len(), point));
        }
    }
    let tool_choice = match choice {
        None | Some(AnthropicToolChoice::None) => None,
        Some(AnthropicToolChoice::Auto { .. }) => Some(ToolChoice {
            auto: Some(Empty {}),
            ..ToolChoice::default()
        }),
        Some(AnthropicToolChoice::Any { .. }) => Some(ToolChoice {
            any: Some(Empty {}),
            ..ToolChoice::default()
        }),
        Some(AnthropicToolChoice::Tool { name, .. }) => Some(ToolChoice {
            tool: Some(SpecificTool { name }),
            ..ToolChoice::default()
        }),
    };
    add_tools_named_in_history(&mut entries, messages);
    if entries.is_empty() {
        return Ok(None);
    }
    Ok(Some(ToolConfig {
        tools: entries,
        tool_choice,
        cache_points,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(model: &str, request: Value) -> Result<Value, TranslateError> {
        let request: MessagesRequest = serde_json::from_value(request).unwrap();
        let model = ModelId::parse(model).unwrap();
        messages_to_converse(request, &model, &ConverseOptions::default())
            .map(|c| serde_json::to_value(c).unwrap())
    }

    #[test]
    fn a_full_request_becomes_converse() {
        let converse = translate(
            "amazon.nova-pro-v1:0",
            json!({
                "model": "amazon.nova-pro-v1:0", "max_tokens": 100, "temperature": 0.5, "top_p": 0.9,
                "top_k": 20, "stop_sequences": ["END"],
                "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
                "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "any"},
                "messages": [
                    {"role": "user", "content": [
                        {"type": "text", "text": "Weather in Paris?", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
                    ]},
                    {"role": "assistant", "content": [
                        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "sunny"}
                    ]},
                    {"role": "user", "content": "Thanks"}
                ]
            }),
        )
        .unwrap();
        assert_eq!(
            converse,
            json!({
                "messages": [
                    {"role": "user", "content": [
                        {"text": "Weather in Paris?"},
                        {"cachePoint": {"type": "default", "ttl": "1h"}},
                        {"image": {"format": "png", "source": {"bytes": "AAAA"}}}
                    ]},
                    {"role": "assistant", "content": [
                        {"toolUse": {"toolUseId": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}}
                    ]},
                    {"role": "user", "content": [
                        {"toolResult": {"toolUseId": "toolu_01", "content": [{"text": "sunny"}]}},
                        {"text": "Thanks"}
                    ]}
                ],
                "system": [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}],
                "inferenceConfig": {"maxTokens": 100, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]},
                "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather",
                                                        "inputSchema": {"json": {"type": "object"}}}}],
                               "toolChoice": {"any": {}}},
                "additionalModelRequestFields": {"inferenceConfig": {"topK": 20}}
            })
        );
    }

    #[test]
    fn cache_markers_are_dropped_where_the_model_cannot_cache() {
        let converse = translate(
            "meta.llama3-8b-instruct-v1:0",
            json!({"model": "m", "max_tokens": 5, "top_k": 3, "cache_control": {"type": "ephemeral"},
                   "system": [{"type": "text", "text": "S", "cache_control": {"type": "ephemeral"}}],
                   "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]}),
        )
        .unwrap();
        assert_eq!(
            converse,
            json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}],
                   "system": [{"text": "S"}], "inferenceConfig": {"maxTokens": 5}})
        );
    }

    #[test]
    fn thinking_signatures_and_documents_round_trip() {
        let converse = translate(
            "amazon.nova-lite-v1:0",
            json!({"model": "m", "max_tokens": 5, "tool_choice": {"type": "none"}, "messages": [
                {"role": "user", "content": [
                    {"type": "document", "title": "Report.pdf", "source": {"type": "text", "media_type": "text/plain", "data": "hi"}},
                    {"type": "text", "text": "Sum up"}]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hm", "signature": "sig=="},
                    {"type": "redacted_thinking", "data": "ZZ"}]}
            ]}),
        )
        .unwrap();
        assert_eq!(
            converse["messages"],
            json!([
                {"role": "user", "content": [
                    {"document": {"format": "txt", "name": "Report", "source": {"bytes": "aGk="}}},
                    {"text": "Sum up"}]},
                {"role": "assistant", "content": [
                    {"reasoningContent": {"reasoningText": {"text": "hm", "signature": "sig=="}}},
                    {"reasoningContent": {"redactedContent": "ZZ"}}]}
            ])
        );
        assert!(converse.get("toolConfig").is_none());
    }

    #[test]
    fn citations_search_results_and_the_user_id_reach_converse() {
        let converse = translate(
            "amazon.nova-pro-v1:0",
            json!({"model": "m", "max_tokens": 5,
                   "metadata": {"user_id": "user 42 <alice@example.com>"},
                   "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
                   "tools": [{"name": "f", "input_schema": {"type": "object"}}],
                   "messages": [{"role": "user", "content": [
                {"type": "document", "title": "Facts", "context": "From the atlas",
                 "citations": {"enabled": true},
                 "source": {"type": "text", "media_type": "text/plain", "data": "Paris is in France."}},
                {"type": "search_result", "source": "https://example.com/p", "title": "Page",
                 "content": [{"type": "text", "text": "Lyon is in France."}],
                 "citations": {"enabled": false}},
                {"type": "text", "text": "Where is Paris?"}]}]}),
        )
        .unwrap();
        assert_eq!(
            converse["messages"][0]["content"],
            json!([
                {"document": {"format": "txt", "name": "Facts", "source": {"bytes": "UGFyaXMgaXMgaW4gRnJhbmNlLg=="},
                              "context": "From the atlas", "citations": {"enabled": true}}},
                {"searchResult": {"source": "https://example.com/p", "title": "Page",
                                  "content": [{"text": "Lyon is in France."}], "citations": {"enabled": false}}},
                {"text": "Where is Paris?"}
            ])
        );
        assert_eq!(
            converse["requestMetadata"],
            json!({"user_id": "user 42 _alice@example.com_"})
        );
        assert_eq!(converse["toolConfig"]["toolChoice"], json!({"auto": {}}));
        let converse = translate(
            "amazon.nova-pro-v1:0",
            json!({"model": "m", "max_tokens": 5, "messages": [
                {"role": "user", "content": "Search"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "search", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
                    {"type": "search_result", "source": "s", "title": "T", "content": [{"type": "text", "text": "x"}]}]}]}]}),
        )
        .unwrap();
        assert_eq!(
            converse["messages"][2]["content"][0]["toolResult"]["content"],
            json!([{"searchResult": {"source": "s", "title": "T", "content": [{"text": "x"}]}}])
        );
        let long = "x".repeat(300);
        let request = json!({"model": "m", "max_tokens": 5, "metadata": {"user_id": long},
                             "messages": [{"role": "user", "content": "hi"}]});
        let converse = translate("amazon.nova-lite-v1:0", request).unwrap();
        assert_eq!(
            converse["requestMetadata"]["user_id"]
                .as_str()
                .unwrap()
                .len(),
            256
        );
        let request = json!({"model": "m", "max_tokens": 5, "metadata": {"user_id": ""},
                             "messages": [{"role": "user", "content": "hi"}]});
        let converse = translate("amazon.nova-lite-v1:0", request).unwrap();
        assert!(converse.get("requestMetadata").is_none());
    }

    #[test]
    fn what_converse_cannot_do_is_a_400() {
        let base = |extra: Value| {
            let mut request = json!({"model": "m", "max_tokens": 5,
                                     "messages": [{"role": "user", "content": "hi"}]});
            request
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            translate("amazon.nova-lite-v1:0", request)
        };
        assert!(base(json!({"thinking": {"type": "enabled", "budget_tokens": 1024}})).is_err());
        assert!(base(json!({"temperature": 1.5})).is_err());
        assert!(base(json!({"tools": [{"type": "bash_20250124", "name": "bash"}]})).is_err());
        assert!(
            base(json!({"messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]}]}))
            .is_err()
        );
        assert!(base(json!({"thinking": {"type": "disabled"}})).is_ok());
    }
}
