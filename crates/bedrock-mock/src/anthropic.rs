//! Anthropic Messages bodies on InvokeModel, InvokeModelWithResponseStream and CountTokens:
//! validation as Bedrock does it, the answer (the Converse echo, translated), its Message JSON
//! and its stream events, thinking signatures, and the prompt cache.
//!
//! The answer is [`crate::answer::answer`] of the body translated to Converse, so both APIs
//! say the same thing (`You said: <last user text>`) and count tokens the same way (words).

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::answer::{self, Answer, Block, Invalid};

/// The only `anthropic_version` Bedrock takes.
pub const VERSION: &str = "bedrock-2023-05-31";

/// How many cached prefixes the mock remembers (oldest forgotten first).
const CACHE_CAPACITY: usize = 1024;

/// The most blocks that may carry `cache_control`, as Anthropic allows.
const MAX_CACHE_CONTROLS: usize = 4;

/// The Claude model name of a Bedrock model id: `anthropic.claude-sonnet-4-5-20250929-v1:0`
/// → `claude-sonnet-4-5-20250929` (ids without a date keep their version).
pub fn model_name(known: &str) -> String {
    let name = known.strip_prefix("anthropic.").unwrap_or(known);
    match name.rsplit_once("-v") {
        Some((base, _))
            if base.len() > 8 && base[base.len() - 8..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            base.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// The signature of a thinking text: base64 of SHA-256 over `bedrock-mock thinking\n<text>`.
pub fn thinking_signature(thinking: &str) -> String {
    let digest = Sha256::digest(format!("bedrock-mock thinking\n{thinking}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn invalid<T>(message: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(message.into()))
}

/// Validates an Anthropic InvokeModel body as Bedrock does (the same for CountTokens'
/// `invokeModel` body).
pub fn validate(body: &Value) -> Result<(), Invalid> {
    let Some(object) = body.as_object() else {
        return invalid(
            "Malformed input request: expected a JSON object, please reformat your input and try again.",
        );
    };
    for key in ["model", "stream"] {
        if object.contains_key(key) {
            return invalid(format!(
                "Malformed input request: extraneous key [{key}] is not permitted, please reformat your input and try again."
            ));
        }
    }
    match object.get("anthropic_version").map(|v| v.as_str()) {
        None => {
            return invalid(
                "Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.",
            );
        }
        Some(Some(VERSION)) => {}
        Some(_) => {
            return invalid(format!(
                "Invalid API version: anthropic_version must be \"{VERSION}\""
            ));
        }
    }
    if !object.contains_key("max_tokens") {
        return invalid(
            "Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.",
        );
    }
    if object["max_tokens"].as_u64().is_none_or(|n| n < 1) {
        return invalid(
            "Malformed input request: #/max_tokens: expected an integer of at least 1, please reformat your input and try again.",
        );
    }
    let betas_ok = object
        .get("anthropic_beta")
        .is_none_or(|b| b.as_array().is_some_and(|b| b.iter().all(Value::is_string)));
    if !betas_ok {
        return invalid(
            "Malformed input request: #/anthropic_beta: expected an array of strings, please reformat your input and try again.",
        );
    }
    validate_messages(body)?;
    validate_cache_controls(body)
}

fn validate_messages(body: &Value) -> Result<(), Invalid> {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return invalid(
            "Malformed input request: #: required key [messages] not found, please reformat your input and try again.",
        );
    };
    if messages.is_empty() {
        return invalid("messages: at least one message is required");
    }
    for (i, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(Value::as_str);
        if !matches!(role, Some("user" | "assistant")) {
            return invalid(format!(
                "messages.{i}.role: Input should be 'user' or 'assistant'"
            ));
        }
        match message.get("content") {
            Some(Value::String(_)) => {}
            Some(Value::Array(blocks)) => validate_blocks(i, blocks, role == Some("assistant"))?,
            _ => {
                return invalid(format!(
                    "messages.{i}.content: Input should be a valid string or list"
                ));
            }
        }
    }
    Ok(())
}

/// Every block has a `type`; an assistant's thinking block carries the mock's own signature.
fn validate_blocks(i: usize, blocks: &[Value], assistant: bool) -> Result<(), Invalid> {
    for (j, block) in blocks.iter().enumerate() {
        let Some(kind) = block.get("type").and_then(Value::as_str) else {
            return invalid(format!("messages.{i}.content.{j}.type: Field required"));
        };
        if kind != "thinking" || !assistant {
            continue;
        }
        let thinking = block.get("thinking").and_then(Value::as_str).unwrap_or("");
        let signature = block.get("signature").and_then(Value::as_str);
        if signature != Some(thinking_signature(thinking).as_str()) {
            return invalid(format!(
                "messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
            ));
        }
    }
    Ok(())
}

/// Every block of the request in prompt order (tools, system, messages), each with its role.
fn prompt_blocks(body: &Value) -> Vec<Value> {
    let mut blocks: Vec<Value> = Vec::new();
    for tool in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        blocks.push(json!({"tool": tool}));
    }
    match body.get("system") {
        Some(Value::String(text)) => blocks.push(json!({"system": {"type": "text", "text": text}})),
        Some(Value::Array(system)) => blocks.extend(system.iter().map(|b| json!({"system": b}))),
        _ => {}
    }
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = message.get("role").cloned().unwrap_or(Value::Null);
        for block in content_blocks(message) {
            blocks.push(json!({ "role": role, "block": block }));
        }
    }
    blocks
}

/// A message's content as blocks (a plain string is one text block).
fn content_blocks(message: &Value) -> Vec<Value> {
    match message.get("content") {
        Some(Value::String(text)) => vec![json!({"type": "text", "text": text})],
        Some(Value::Array(blocks)) => blocks.clone(),
        _ => Vec::new(),
    }
}

fn has_cache_control(entry: &Value) -> bool {
    ["/tool", "/system", "/block"].iter().any(|p| {
        entry
            .pointer(p)
            .and_then(|b| b.get("cache_control"))
            .is_some()
    })
}

fn validate_cache_controls(body: &Value) -> Result<(), Invalid> {
    let count = prompt_blocks(body)
        .iter()
        .filter(|b| has_cache_control(b))
        .count();
    if count > MAX_CACHE_CONTROLS {
        return invalid(format!(
            "A maximum of {MAX_CACHE_CONTROLS} blocks with cache_control may be provided. Found {count}."
        ));
    }
    Ok(())
}

/// The cache key of a request: SHA-256 of the model and every block up to the last one that
/// carries `cache_control`; `None` when no block does.
pub fn cache_key(model: &str, body: &Value) -> Option<[u8; 32]> {
    let blocks = prompt_blocks(body);
    let last = blocks.iter().rposition(has_cache_control)?;
    let prefix = Value::from(blocks[..=last].to_vec());
    let mut hasher = Sha256::new();
    hasher.update(model.as_bytes());
    hasher.update(b"\n");
    hasher.update(prefix.to_string().as_bytes());
    Some(hasher.finalize().into())
}

/// The prefixes the mock has cached, at most 1024 (the oldest forgotten first).
#[derive(Debug, Default)]
pub struct PromptCache(Mutex<VecDeque<[u8; 32]>>);

impl PromptCache {
    /// Whether `key` was cached before; caches it if not.
    pub fn hit(&self, key: [u8; 32]) -> bool {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if keys.contains(&key) {
            return true;
        }
        if keys.len() == CACHE_CAPACITY {
            keys.pop_front();
        }
        keys.push_back(key);
        false
    }
}

/// The body translated to Converse, for [`answer::answer`]: a `cachePoint` follows every block
/// with `cache_control`, tools become a `toolConfig`, `max_tokens` the `maxTokens`.
pub fn to_converse(body: &Value) -> Value {
    let mut converse = Map::new();
    let messages: Vec<Value> = body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| json!({"role": m.get("role"), "content": converse_blocks(&content_blocks(m))}))
        .collect();
    converse.insert("messages".into(), messages.into());
    let system = match body.get("system") {
        Some(Value::String(text)) => vec![json!({ "text": text })],
        Some(Value::Array(blocks)) => converse_blocks(blocks),
        _ => Vec::new(),
    };
    if !system.is_empty() {
        converse.insert("system".into(), system.into());
    }
    if let Some(config) = tool_config(body) {
        converse.insert("toolConfig".into(), config);
    }
    let mut inference = json!({"maxTokens": body.get("max_tokens")});
    if let Some(stops) = body.get("stop_sequences") {
        inference["stopSequences"] = stops.clone();
    }
    converse.insert("inferenceConfig".into(), inference);
    if body.pointer("/thinking/type").and_then(Value::as_str) == Some("enabled") {
        converse.insert(
            "additionalModelRequestFields".into(),
            json!({"thinking": body["thinking"]}),
        );
    }
    Value::Object(converse)
}

/// Anthropic content blocks as Converse's (thinking left out: it counts no input words).
fn converse_blocks(blocks: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for block in blocks {
        let text = |k: &str| block.get(k).and_then(Value::as_str).unwrap_or("");
        let converted = match text("type") {
            "text" => Some(json!({"text": text("text")})),
            "image" => Some(json!({"image": {
                "format": block.pointer("/source/media_type").and_then(Value::as_str)
                    .and_then(|m| m.strip_prefix("image/")).unwrap_or("?"),
                "source": {"bytes": block.pointer("/source/data")}}})),
            "tool_use" => Some(
                json!({"toolUse": {"toolUseId": text("id"), "name": text("name"),
                "input": block.get("input")}}),
            ),
            "tool_result" => Some(json!({"toolResult": {"toolUseId": text("tool_use_id"),
            "content": match block.get("content") {
                Some(Value::String(s)) => json!([{ "text": s }]),
                Some(Value::Array(parts)) => converse_blocks(parts).into(),
                _ => json!([]),
            }}})),
            _ => None,
        };
        out.extend(converted);
        if block.get("cache_control").is_some() {
            out.push(json!({"cachePoint": {"type": "default"}}));
        }
    }
    out
}

fn tool_config(body: &Value) -> Option<Value> {
    let tools: Vec<Value> = body
        .get("tools")?
        .as_array()?
        .iter()
        .map(|t| json!({"toolSpec": {"name": t.get("name"), "inputSchema": {"json": t.get("input_schema")}}}))
        .collect();
    if tools.is_empty() {
        return None;
    }
    let mut config = json!({ "tools": tools });
    match body.pointer("/tool_choice/type").and_then(Value::as_str) {
        Some("any") => config["toolChoice"] = json!({"any": {}}),
        Some("tool") => {
            config["toolChoice"] = json!({"tool": {"name": body.pointer("/tool_choice/name")}});
        }
        _ => {}
    }
    Some(config)
}

/// An answer with its Anthropic usage.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The Converse answer it was made from.
    pub answer: Answer,
    /// `msg_bdrk_…`.
    pub id: String,
    /// The Claude model name.
    pub model: String,
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Tokens written to the cache (a prefix seen for the first time).
    pub cache_creation: u64,
    /// Tokens read from the cache (a prefix seen before).
    pub cache_read: u64,
}

/// Every input token of a valid body: what CountTokens reports and what the answer's usage
/// adds up to (`input_tokens + cache_creation_input_tokens + cache_read_input_tokens`).
pub fn input_tokens(body: &Value) -> u64 {
    let answer = answer::answer(&to_converse(body));
    answer.input_tokens + answer.cache_read_tokens + answer.cache_write_tokens
}

/// The answer to a valid body for `known` (a Bedrock model id), consulting `cache`.
pub fn reply(known: &str, body: &Value, cache: &PromptCache) -> Reply {
    let answer = answer::answer(&to_converse(body));
    let cached = answer.cache_read_tokens + answer.cache_write_tokens;
    let hit = cache_key(known, body).is_some_and(|key| cache.hit(key));
    let (cache_creation, cache_read) = if hit { (0, cached) } else { (cached, 0) };
    let id: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(24)
        .collect();
    Reply {
        input_tokens: answer.input_tokens,
        answer,
        id: format!("msg_bdrk_{id}"),
        model: model_name(known),
        cache_creation,
        cache_read,
    }
}

fn tool_id(id: &str) -> String {
    id.replacen("tooluse_", "toolu_bdrk_", 1)
}

fn usage(reply: &Reply, output_tokens: u64) -> Value {
    json!({
        "input_tokens": reply.input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": reply.cache_creation,
        "cache_read_input_tokens": reply.cache_read,
    })
}

/// The Message JSON of a reply.
pub fn message_json(reply: &Reply) -> Value {
    let content: Vec<Value> = reply
        .answer
        .blocks
        .iter()
        .map(|block| match block {
            Block::Reasoning(text) => {
                json!({"type": "thinking", "thinking": text, "signature": thinking_signature(text)})
            }
            Block::Text(text) => json!({"type": "text", "text": text}),
            Block::ToolUse { id, name, input } => {
                json!({"type": "tool_use", "id": tool_id(id), "name": name, "input": input})
            }
        })
        .collect();
    json!({
        "id": reply.id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": content,
        "stop_reason": reply.answer.stop_reason,
        "stop_sequence": reply.answer.stop_sequence,
        "usage": usage(reply, reply.answer.output_tokens),
    })
}

/// The Anthropic stream events of a reply, in order (each a JSON object with its `type`).
pub fn stream_events(reply: &Reply) -> Vec<Value> {
    let mut start = message_json(reply);
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["stop_sequence"] = Value::Null;
    start["usage"] = usage(reply, 1);
    let mut events = vec![json!({"type": "message_start", "message": start})];
    for (index, block) in reply.answer.blocks.iter().enumerate() {
        let (first, deltas) = block_events(block);
        events.push(json!({"type": "content_block_start", "index": index, "content_block": first}));
        events.extend(
            deltas.into_iter().map(
                |delta| json!({"type": "content_block_delta", "index": index, "delta": delta}),
            ),
        );
        events.push(json!({"type": "content_block_stop", "index": index}));
    }
    let answer = &reply.answer;
    events.push(json!({"type": "message_delta",
        "delta": {"stop_reason": answer.stop_reason, "stop_sequence": answer.stop_sequence},
        "usage": {"output_tokens": answer.output_tokens}}));
    events.push(json!({"type": "message_stop", "amazon-bedrock-invocationMetrics": {
        "inputTokenCount": reply.input_tokens, "outputTokenCount": answer.output_tokens,
        "invocationLatency": 1, "firstByteLatency": 1,
        "cacheReadInputTokenCount": reply.cache_read, "cacheWriteInputTokenCount": reply.cache_creation}}));
    events
}

/// A block's `content_block_start` value and its deltas.
fn block_events(block: &Block) -> (Value, Vec<Value>) {
    match block {
        Block::Reasoning(text) => {
            let mut deltas: Vec<Value> = halves(text)
                .into_iter()
                .map(|piece| json!({"type": "thinking_delta", "thinking": piece}))
                .collect();
            deltas.push(json!({"type": "signature_delta", "signature": thinking_signature(text)}));
            (
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                deltas,
            )
        }
        Block::Text(text) => (
            json!({"type": "text", "text": ""}),
            text.split_inclusive(' ')
                .map(|piece| json!({"type": "text_delta", "text": piece}))
                .collect(),
        ),
        Block::ToolUse { id, name, input } => {
            let json = input.to_string();
            let mut deltas = vec![json!({"type": "input_json_delta", "partial_json": ""})];
            deltas.extend(
                halves(&json)
                    .into_iter()
                    .map(|piece| json!({"type": "input_json_delta", "partial_json": piece})),
            );
            (
                json!({"type": "tool_use", "id": tool_id(id), "name": name, "input": {}}),
                deltas,
            )
        }
    }
}

/// `text` in two pieces, split on a character boundary.
fn halves(text: &str) -> [&str; 2] {
    let middle = text
        .char_indices()
        .nth(text.chars().count() / 2)
        .map_or(text.len(), |(i, _)| i);
    [&text[..middle], &text[middle..]]
}

/// A stream event as InvokeModelWithResponseStream carries it: a `chunk` whose `bytes` are the
/// event's JSON, base64-encoded.
pub fn chunk(event: &Value) -> (&'static str, Value) {
    let bytes = base64::engine::general_purpose::STANDARD.encode(event.to_string());
    ("chunk", json!({ "bytes": bytes }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

    fn body(messages: Value) -> Value {
        json!({"anthropic_version": VERSION, "max_tokens": 100, "messages": messages})
    }

    fn invalid_message(body: &Value) -> String {
        match validate(body) {
            Err(Invalid(message)) => message,
            Ok(()) => panic!("{body} accepted"),
        }
    }

    #[test]
    fn model_names_drop_the_provider_and_version() {
        assert_eq!(model_name(SONNET), "claude-sonnet-4-5-20250929");
        assert_eq!(
            model_name("anthropic.claude-3-haiku-20240307-v1:0"),
            "claude-3-haiku-20240307"
        );
        assert_eq!(model_name("anthropic.claude-v2:1"), "claude-v2:1");
    }

    #[test]
    fn validation_follows_bedrock() {
        let ok = body(json!([{"role": "user", "content": "hi"}]));
        assert!(validate(&ok).is_ok());
        let with = |key: &str, value: Value| {
            let mut b = ok.clone();
            b[key] = value;
            b
        };
        let without = |key: &str| {
            let mut b = ok.clone();
            b.as_object_mut().unwrap().remove(key);
            b
        };
        for (bad, needle) in [
            (
                with("model", json!("claude")),
                "extraneous key [model] is not permitted",
            ),
            (
                with("stream", json!(true)),
                "extraneous key [stream] is not permitted",
            ),
            (
                with("anthropic_version", json!("2023-06-01")),
                "bedrock-2023-05-31",
            ),
            (
                without("anthropic_version"),
                "required key [anthropic_version]",
            ),
            (without("max_tokens"), "required key [max_tokens]"),
            (with("max_tokens", json!(0)), "max_tokens"),
            (with("max_tokens", json!("9")), "max_tokens"),
            (without("messages"), "required key [messages]"),
            (with("messages", json!({})), "required key [messages]"),
            (with("anthropic_beta", json!("a,b")), "anthropic_beta"),
            (with("anthropic_beta", json!([1])), "anthropic_beta"),
            (
                with("messages", json!([{"role": "system", "content": "x"}])),
                "messages.0.role",
            ),
            (
                with(
                    "messages",
                    json!([{"role": "user", "content": [{"text": "x"}]}]),
                ),
                "messages.0.content.0.type",
            ),
            (json!([1]), "Malformed"),
        ] {
            let message = invalid_message(&bad);
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
        assert!(validate(&with("anthropic_beta", json!(["context-1m-2025-08-07"]))).is_ok());
        let cc = json!({"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}});
        let five = body(json!([{"role": "user", "content": [cc, cc, cc, cc, cc]}]));
        assert!(invalid_message(&five).contains("maximum of 4 blocks with cache_control"));
    }

    #[test]
    fn echoes_like_converse_and_counts_words() {
        let b = body(json!([{"role": "user", "content": "hello there [mock:delay_ms=1]"}]));
        let reply = reply(SONNET, &b, &PromptCache::default());
        let message = message_json(&reply);
        assert_eq!(
            message["content"],
            json!([{"type": "text", "text": "You said: hello there"}])
        );
        assert_eq!(message["model"], "claude-sonnet-4-5-20250929");
        assert!(message["id"].as_str().unwrap().starts_with("msg_bdrk_"));
        assert_eq!(message["stop_reason"], "end_turn");
        assert_eq!(message["stop_sequence"], Value::Null);
        assert_eq!(
            message["usage"],
            json!({"input_tokens": 3, "output_tokens": 4, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
        );
        assert_eq!(input_tokens(&b), 3);
        let mut short = b.clone();
        short["max_tokens"] = json!(2);
        let cut = message_json(&reply_of(&short));
        assert_eq!(
            (
                cut["stop_reason"].as_str(),
                cut["content"][0]["text"].as_str()
            ),
            (Some("max_tokens"), Some("You said:"))
        );
        let mut stopped = b.clone();
        stopped["stop_sequences"] = json!(["there"]);
        let cut = message_json(&reply_of(&stopped));
        assert_eq!(
            (cut["stop_reason"].as_str(), cut["stop_sequence"].as_str()),
            (Some("stop_sequence"), Some("there"))
        );
    }

    fn reply_of(body: &Value) -> Reply {
        reply(SONNET, body, &PromptCache::default())
    }

    #[test]
    fn calls_the_first_tool_and_reads_results() {
        let tools = json!([{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
            {"name": "other", "input_schema": {"type": "object"}}]);
        let mut b = body(json!([{"role": "user", "content": "weather?"}]));
        b["tools"] = tools.clone();
        let message = message_json(&reply_of(&b));
        assert_eq!(message["stop_reason"], "tool_use");
        assert_eq!(
            message["content"][0],
            json!({"type": "text", "text": "Calling get_weather."})
        );
        let call = &message["content"][1];
        assert_eq!(
            (call["type"].as_str(), call["name"].as_str()),
            (Some("tool_use"), Some("get_weather"))
        );
        assert_eq!(call["input"], json!({"city": "mock"}));
        assert!(call["id"].as_str().unwrap().starts_with("toolu_bdrk_"));
        let mut after = body(json!([{"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "18C"}]}]));
        after["tools"] = tools;
        let message = message_json(&reply_of(&after));
        assert_eq!(
            message["content"][0]["text"],
            "Tool results: [[{\"text\":\"18C\"}]]"
        );
    }

    #[test]
    fn thinking_is_signed_and_the_signature_checked() {
        let mut b = body(json!([{"role": "user", "content": "why"}]));
        b["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
        let message = message_json(&reply_of(&b));
        let thinking = &message["content"][0];
        assert_eq!(thinking["type"], "thinking");
        assert_eq!(thinking["thinking"], "Thinking about: why");
        assert_eq!(
            thinking["signature"].as_str().unwrap(),
            thinking_signature("Thinking about: why")
        );
        let turn = |block: &Value| {
            body(json!([{"role": "user", "content": "why"},
            {"role": "assistant", "content": [block, {"type": "text", "text": "because"}]},
            {"role": "user", "content": "and?"}]))
        };
        assert!(validate(&turn(thinking)).is_ok());
        let mut forged = thinking.clone();
        forged["thinking"] = json!("Thinking about: why not");
        assert!(
            invalid_message(&turn(&forged))
                .contains("messages.1.content.0: Invalid `signature` in `thinking` block")
        );
        let mut disabled = b.clone();
        disabled["thinking"] = json!({"type": "disabled"});
        assert_eq!(
            message_json(&reply_of(&disabled))["content"][0]["type"],
            "text"
        );
    }

    #[test]
    fn a_cached_prefix_is_created_then_read() {
        let cache = PromptCache::default();
        let mut b = body(json!([{"role": "user", "content": [
            {"type": "text", "text": "one two three", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "four"}]}]));
        b["system"] =
            json!([{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}]);
        let usage = |r: &Reply| (r.input_tokens, r.cache_creation, r.cache_read);
        assert_eq!(usage(&reply(SONNET, &b, &cache)), (1, 5, 0));
        assert_eq!(usage(&reply(SONNET, &b, &cache)), (1, 0, 5));
        assert_eq!(input_tokens(&b), 6);
        // Another suffix after the same prefix still reads; another prefix creates.
        let mut other = b.clone();
        other["messages"][0]["content"][1]["text"] = json!("five six");
        assert_eq!(usage(&reply(SONNET, &other, &cache)), (2, 0, 5));
        other["system"][0]["text"] = json!("be long");
        assert_eq!(usage(&reply(SONNET, &other, &cache)), (2, 5, 0));
        let no_cache = body(json!([{"role": "user", "content": "a b"}]));
        assert!(cache_key(SONNET, &no_cache).is_none());
    }

    #[test]
    fn the_prompt_cache_is_bounded() {
        let cache = PromptCache::default();
        for i in 0..=CACHE_CAPACITY {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&(i as u64).to_le_bytes());
            assert!(!cache.hit(key));
        }
        assert_eq!(cache.0.lock().unwrap().len(), CACHE_CAPACITY);
        assert!(!cache.hit([0; 32]), "the oldest key was forgotten");
    }

    #[test]
    fn stream_events_follow_anthropic_order() {
        let mut b = body(json!([{"role": "user", "content": "a b"}]));
        b["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
        b["tools"] =
            json!([{"name": "t", "input_schema": {"properties": {"q": {"type": "string"}}}}]);
        let reply = reply_of(&b);
        let events = stream_events(&reply);
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types.first(), Some(&"message_start"));
        assert_eq!(&types[types.len() - 2..], ["message_delta", "message_stop"]);
        assert_eq!(events[0]["message"]["usage"]["output_tokens"], 1);
        let deltas = |kind: &str, field: &str| -> String {
            events
                .iter()
                .filter(|e| e["delta"]["type"] == kind)
                .map(|e| e["delta"][field].as_str().unwrap())
                .collect()
        };
        assert_eq!(deltas("thinking_delta", "thinking"), "Thinking about: a b");
        assert_eq!(
            deltas("signature_delta", "signature"),
            thinking_signature("Thinking about: a b")
        );
        assert_eq!(deltas("text_delta", "text"), "Calling t.");
        assert_eq!(
            deltas("input_json_delta", "partial_json"),
            "{\"q\":\"mock\"}"
        );
        let starts: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "content_block_start")
            .collect();
        assert_eq!(
            starts
                .iter()
                .map(|e| e["index"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
        let last = events.last().unwrap();
        assert_eq!(
            last["amazon-bedrock-invocationMetrics"]["outputTokenCount"],
            reply.answer.output_tokens
        );
        let (kind, payload) = chunk(last);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(payload["bytes"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            (kind, serde_json::from_slice::<Value>(&decoded).unwrap()),
            ("chunk", last.clone())
        );
    }
}
