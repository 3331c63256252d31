//! Deterministic answers: validation of Converse bodies as Bedrock does it, the answer to a
//! conversation, its Converse JSON, its ConverseStream events, and InvokeModel embeddings.

use serde_json::{Value, json};

/// A Bedrock `ValidationException` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

/// One block of the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Reasoning text and its signature.
    Reasoning(String),
    /// Text.
    Text(String),
    /// A tool call.
    ToolUse {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments.
        input: Value,
    },
}

/// A whole answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Content blocks.
    pub blocks: Vec<Block>,
    /// Bedrock stop reason.
    pub stop_reason: &'static str,
    /// The stop sequence that ended the answer, when `stop_reason` is `stop_sequence`.
    pub stop_sequence: Option<String>,
    /// Input words.
    pub input_tokens: u64,
    /// Output words.
    pub output_tokens: u64,
    /// Input words read from the prompt cache (`[mock:cache_read]`: those before the last
    /// cache point).
    pub cache_read_tokens: u64,
    /// Input words written to the prompt cache (those before the last cache point).
    pub cache_write_tokens: u64,
    /// The citations supporting the answer's text (Converse `Citation`s): the answer's one
    /// text block is then a `citationsContent` block, streamed as its text deltas and then
    /// one `citation` delta per citation (see [`citations`]).
    pub citations: Vec<Value>,
}

const BLOCK_KINDS: &[&str] = &[
    "text",
    "image",
    "document",
    "video",
    "audio",
    "toolUse",
    "toolResult",
    "guardContent",
    "cachePoint",
    "reasoningContent",
    "citationsContent",
    "searchResult",
];

/// The members of botocore's `ConverseRequest` that travel in the body.
const REQUEST_MEMBERS: &[&str] = &[
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "additionalModelRequestFields",
    "promptVariables",
    "additionalModelResponseFieldPaths",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
    "outputConfig",
];

/// The members of botocore's `InferenceConfiguration`.
const INFERENCE_MEMBERS: &[&str] = &["maxTokens", "temperature", "topP", "stopSequences"];

/// Validates a Converse body as Bedrock would.
pub fn validate(body: &Value) -> Result<(), Invalid> {
    let Some(object) = body.as_object() else {
        return Err(Invalid(
            "Malformed input request, please reformat your input and try again.".to_owned(),
        ));
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !REQUEST_MEMBERS.contains(&k.as_str()))
    {
        return Err(Invalid(format!(
            "Malformed input request: extraneous key [{unknown}] is not permitted, please reformat your input and try again."
        )));
    }
    validate_messages(body)?;
    validate_documents(body)?;
    validate_system(body)?;
    validate_inference(body)?;
    validate_tools(body)?;
    validate_cache_points(body)
}

fn validate_messages(body: &Value) -> Result<(), Invalid> {
    let invalid = |m: &str| Err(Invalid(m.to_owned()));
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return invalid(
            "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null",
        );
    };
    if messages.is_empty() {
        return invalid(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        );
    }
    let mut previous = None;
    let mut tool_blocks = false;
    for message in messages {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        if !matches!(role, "user" | "assistant") {
            return invalid(
                "1 validation error detected: Value at 'messages.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]",
            );
        }
        if previous.is_none() && role != "user" {
            return invalid(
                "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
            );
        }
        if previous == Some(role) {
            return invalid(
                "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
            );
        }
        previous = Some(role);
        let Some(content) = message
            .get("content")
            .and_then(Value::as_array)
            .filter(|c| !c.is_empty())
        else {
            return invalid(
                "The content field in the Message object is empty. Add a ContentBlock object to the content field and try again.",
            );
        };
        for block in content {
            let keys: Vec<&String> = block
                .as_object()
                .map(|o| o.keys().collect())
                .unwrap_or_default();
            if keys.len() != 1 || !BLOCK_KINDS.contains(&keys[0].as_str()) {
                return invalid(
                    "1 validation error detected: a ContentBlock must have exactly one member set",
                );
            }
            if block
                .get("text")
                .and_then(Value::as_str)
                .is_some_and(|t| t.trim().is_empty())
            {
                return invalid(
                    "The text field in the ContentBlock object is blank. Add text to the text field, and try again.",
                );
            }
            tool_blocks |= block.get("toolUse").is_some() || block.get("toolResult").is_some();
        }
    }
    if tool_blocks && body.get("toolConfig").is_none() {
        return invalid(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        );
    }
    Ok(())
}

/// Every content block of a Converse request's messages, in order.
fn message_blocks(body: &Value) -> impl Iterator<Item = &Value> {
    body.get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("content").and_then(Value::as_array))
        .flatten()
}

/// Every `cachePoint` of a request, in order: tools, system, messages.
fn cache_points(body: &Value) -> Vec<&Value> {
    let tools = body.pointer("/toolConfig/tools").and_then(Value::as_array);
    let system = body.get("system").and_then(Value::as_array);
    let messages = message_blocks(body);
    tools
        .into_iter()
        .flatten()
        .chain(system.into_iter().flatten())
        .chain(messages)
        .filter_map(|b| b.get("cachePoint"))
        .collect()
}

/// Cache points as Bedrock checks them: `{"type": "default", "ttl"?: "5m" | "1h"}`, at most 4.
fn validate_cache_points(body: &Value) -> Result<(), Invalid> {
    let points = cache_points(body);
    for point in &points {
        let shape_ok = point.as_object().is_some_and(|o| {
            o.get("type").and_then(Value::as_str) == Some("default")
                && o.get("ttl")
                    .is_none_or(|t| matches!(t.as_str(), Some("5m" | "1h")))
                && o.keys().all(|k| k == "type" || k == "ttl")
        });
        if !shape_ok {
            return Err(Invalid("1 validation error detected: Value at 'cachePoint' failed to satisfy constraint: type must be 'default' and ttl one of [5m, 1h]".to_owned()));
        }
    }
    if points.len() > 4 {
        return Err(Invalid(format!(
            "A maximum of 4 cache points are allowed per request; this request has {}.",
            points.len()
        )));
    }
    Ok(())
}

/// Input words before the last cache point of the system prompt and messages.
fn cached_prefix_words(body: &Value) -> u64 {
    let system = body.get("system").and_then(Value::as_array);
    let messages = message_blocks(body);
    let (mut counted, mut prefix) = (0, 0);
    for block in system.into_iter().flatten().chain(messages) {
        if block.get("cachePoint").is_some() {
            prefix = counted;
        }
        counted += block.get("text").and_then(Value::as_str).map_or(0, words);
    }
    prefix
}

/// Bedrock's document formats (botocore's `DocumentFormat`).
const DOCUMENT_FORMATS: &[&str] = &[
    "pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md",
];

/// Documents as Bedrock checks them: at most 5 per request, each at most 4.5 MB, with a
/// format of the enum, a name of 1 to 200 letters, digits, single spaces, hyphens,
/// parentheses and square brackets, unique within the request, in user turns that hold a
/// text block too.
fn validate_documents(body: &Value) -> Result<(), Invalid> {
    let invalid = |m: &str| Err(Invalid(m.to_owned()));
    let mut names = std::collections::HashSet::new();
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let content = message
            .get("content")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let documents: Vec<&Value> = content.iter().filter_map(|b| b.get("document")).collect();
        if documents.is_empty() {
            continue;
        }
        if message.get("role").and_then(Value::as_str) != Some("user") {
            return invalid("Only user messages can contain documents.");
        }
        if !content.iter().any(|b| b.get("text").is_some()) {
            return invalid(
                "A conversation turn that contains a document must also contain a text block.",
            );
        }
        for document in documents {
            if document
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| !DOCUMENT_FORMATS.contains(&f))
            {
                return invalid(
                    "1 validation error detected: Value at 'messages.member.content.member.document.format' failed to satisfy constraint: Member must satisfy enum value set: [pdf, csv, doc, docx, xls, xlsx, html, txt, md]",
                );
            }
            let name = document.get("name").and_then(Value::as_str).unwrap_or("");
            let valid_name = (1..=200).contains(&name.len())
                && !name.contains("  ")
                && name.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '(' | ')' | '[' | ']')
                });
            if !valid_name {
                return invalid(
                    "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character.",
                );
            }
            if !names.insert(name.to_owned()) {
                return invalid(
                    "The document names must be unique within a request. Rename the documents and try again.",
                );
            }
            let bytes = document
                .pointer("/source/bytes")
                .and_then(Value::as_str)
                .and_then(|b| {
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).ok()
                });
            match bytes {
                None => {
                    return invalid(
                        "Malformed input request: document.source.bytes must be base64, please reformat your input and try again.",
                    );
                }
                Some(bytes) if bytes.len() > 4_500_000 => {
                    return invalid("The document size exceeds the limit of 4.5 MB.");
                }
                Some(_) => {}
            }
        }
    }
    if names.len() > 5 {
        return invalid("Too many documents: a request can contain at most 5 documents.");
    }
    Ok(())
}

/// `guardrailConfig` as Bedrock checks it (botocore's `GuardrailConfiguration`, and
/// `GuardrailStreamConfiguration` for ConverseStream, which alone takes
/// `streamProcessingMode`): identifier `[a-z0-9]+` or a guardrail ARN, version `DRAFT` or
/// `[1-9][0-9]{0,7}`, trace `enabled|disabled|enabled_full`.
pub fn validate_guardrail(body: &Value, stream: bool) -> Result<(), Invalid> {
    let Some(config) = body.get("guardrailConfig") else {
        return Ok(());
    };
    let invalid = |m: &str| Err(Invalid(m.to_owned()));
    let Some(object) = config.as_object() else {
        return invalid(
            "Malformed input request: guardrailConfig must be an object, please reformat your input and try again.",
        );
    };
    let mut members = vec!["guardrailIdentifier", "guardrailVersion", "trace"];
    if stream {
        members.push("streamProcessingMode");
    }
    if let Some(unknown) = object.keys().find(|k| !members.contains(&k.as_str())) {
        return Err(Invalid(format!(
            "Malformed input request: extraneous key [guardrailConfig.{unknown}] is not permitted, please reformat your input and try again."
        )));
    }
    let text = |k: &str| config.get(k).and_then(Value::as_str);
    let id = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let identifier = text("guardrailIdentifier").unwrap_or("");
    let p: Vec<&str> = identifier.split(':').collect();
    let arn_ok = p.len() == 6 && {
        p[0] == "arn"
            && (p[1] == "aws" || p[1].strip_prefix("aws-").is_some_and(|r| !r.is_empty()))
            && p[2] == "bedrock"
            && (1..=20).contains(&p[3].len())
            && p[3]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && p[4].len() == 12
            && p[4].bytes().all(|b| b.is_ascii_digit())
            && p[5].strip_prefix("guardrail/").is_some_and(id)
    };
    if identifier.len() > 2048 || !(id(identifier) || arn_ok) {
        return invalid(
            "1 validation error detected: Value at 'guardrailConfig.guardrailIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))",
        );
    }
    let version = text("guardrailVersion").unwrap_or("");
    let version_ok = version == "DRAFT"
        || ((1..=8).contains(&version.len())
            && !version.starts_with('0')
            && version.bytes().all(|b| b.is_ascii_digit()));
    if !version_ok {
        return invalid(
            "1 validation error detected: Value at 'guardrailConfig.guardrailVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (([1-9][0-9]{0,7})|(DRAFT))",
        );
    }
    if config
        .get("trace")
        .is_some_and(|t| !matches!(t.as_str(), Some("enabled" | "disabled" | "enabled_full")))
    {
        return invalid(
            "1 validation error detected: Value at 'guardrailConfig.trace' failed to satisfy constraint: Member must satisfy enum value set: [enabled, disabled, enabled_full]",
        );
    }
    if config
        .get("streamProcessingMode")
        .is_some_and(|m| !matches!(m.as_str(), Some("sync" | "async")))
    {
        return invalid(
            "1 validation error detected: Value at 'guardrailConfig.streamProcessingMode' failed to satisfy constraint: Member must satisfy enum value set: [sync, async]",
        );
    }
    Ok(())
}

/// The directive that makes a guardrail intervene (when the request has a `guardrailConfig`).
pub const GUARDRAIL_DIRECTIVE: &str = "[mock:guardrail_intervened]";

fn validate_system(body: &Value) -> Result<(), Invalid> {
    let Some(system) = body.get("system") else {
        return Ok(());
    };
    let blocks_ok = system.as_array().is_some_and(|blocks| {
        blocks.iter().all(|b| {
            b.as_object().is_some_and(|o| {
                o.len() == 1
                    && ["text", "guardContent", "cachePoint"]
                        .iter()
                        .any(|k| o.contains_key(*k))
            })
        })
    });
    if blocks_ok {
        Ok(())
    } else {
        Err(Invalid(
            "1 validation error detected: Value at 'system' failed to satisfy constraint: each SystemContentBlock must have exactly one member set".to_owned(),
        ))
    }
}

fn validate_inference(body: &Value) -> Result<(), Invalid> {
    let Some(config) = body.get("inferenceConfig") else {
        return Ok(());
    };
    let Some(object) = config.as_object() else {
        return Err(Invalid("Malformed input request: inferenceConfig must be an object, please reformat your input and try again.".to_owned()));
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !INFERENCE_MEMBERS.contains(&k.as_str()))
    {
        return Err(Invalid(format!(
            "Malformed input request: extraneous key [inferenceConfig.{unknown}] is not permitted, please reformat your input and try again."
        )));
    }
    for field in ["temperature", "topP"] {
        let Some(value) = config.get(field) else {
            continue;
        };
        let v = value.as_f64().ok_or_else(|| {
            Invalid(format!("Malformed input request: inferenceConfig.{field} must be a number, please reformat your input and try again."))
        })?;
        let broken = if v < 0.0 {
            Some("greater than or equal to 0")
        } else if v > 1.0 {
            Some("less than or equal to 1")
        } else {
            None
        };
        if let Some(constraint) = broken {
            return Err(Invalid(format!(
                "1 validation error detected: Value '{v}' at 'inferenceConfig.{field}' failed to satisfy constraint: Member must have value {constraint}"
            )));
        }
    }
    if let Some(max) = config
        .get("maxTokens")
        .filter(|max| max.as_i64().is_none_or(|n| n < 1))
    {
        return Err(Invalid(format!(
            "1 validation error detected: Value '{max}' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )));
    }
    Ok(())
}

fn validate_tools(body: &Value) -> Result<(), Invalid> {
    let invalid = |m: &str| Err(Invalid(m.to_owned()));
    let no_tools = body.get("toolConfig").is_some_and(|config| {
        config
            .get("tools")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    });
    if no_tools {
        return invalid(
            "1 validation error detected: Value at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1",
        );
    }
    if let Some(tools) = body.pointer("/toolConfig/tools").and_then(Value::as_array) {
        for tool in tools.iter().filter(|t| t.get("cachePoint").is_none()) {
            let name = tool
                .pointer("/toolSpec/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let valid = (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid {
                return invalid(
                    "1 validation error detected: Value at 'toolConfig.tools.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
                );
            }
        }
    }
    Ok(())
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Every text of the request (system and messages), for the input token count.
fn input_words(body: &Value) -> u64 {
    let mut count = 0;
    for block in body
        .get("system")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        count += block.get("text").and_then(Value::as_str).map_or(0, words);
    }
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for block in message
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            count += block.get("text").and_then(Value::as_str).map_or(0, words);
        }
    }
    count.max(1)
}

/// The mock's deterministic answer to a valid Converse body.
pub fn answer(body: &Value) -> Answer {
    let last = body
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut blocks = Vec::new();
    if let Some(identifier) = body
        .pointer("/guardrailConfig/guardrailIdentifier")
        .and_then(Value::as_str)
        .filter(|_| {
            body.get("messages")
                .is_some_and(|m| last_user_text(m).contains(GUARDRAIL_DIRECTIVE))
        })
    {
        let text = format!("Sorry, guardrail {identifier} blocked this request.");
        return Answer {
            output_tokens: words(&text),
            blocks: vec![Block::Text(text)],
            stop_reason: "guardrail_intervened",
            stop_sequence: None,
            input_tokens: input_words(body),
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            citations: Vec::new(),
        };
    }
    if body
        .pointer("/additionalModelRequestFields/thinking")
        .is_some()
    {
        blocks.push(Block::Reasoning(format!(
            "Thinking about: {}",
            user_text(&last)
        )));
    }
    let tool_results: Vec<&Value> = last.iter().filter_map(|b| b.get("toolResult")).collect();
    let tools = body
        .pointer("/toolConfig/tools")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty());
    // `toolChoice: {any: {}}`: the model must call a tool, and writes no text (as Bedrock says).
    let any_tool = body.pointer("/toolConfig/toolChoice/any").is_some();
    let parallel = body
        .get("messages")
        .is_some_and(|m| last_user_text(m).contains("[mock:parallel_tools]"));
    let mut stop_reason = "end_turn";
    let mut stop_sequence = None;
    let mut cited = Vec::new();
    if !tool_results.is_empty() && !any_tool {
        let contents: Vec<&Value> = tool_results
            .iter()
            .filter_map(|r| r.get("content"))
            .collect();
        blocks.push(Block::Text(format!(
            "Tool results: {}",
            Value::from(contents.into_iter().cloned().collect::<Vec<_>>())
        )));
    } else if let Some(tools) = tools {
        let chosen = body
            .pointer("/toolConfig/toolChoice/tool/name")
            .and_then(Value::as_str);
        let name_of = |t: &Value| {
            t.pointer("/toolSpec/name")
                .and_then(Value::as_str)
                .unwrap_or("tool")
                .to_owned()
        };
        let called = called_tools(body);
        let picked: Vec<&Value> = if let Some(name) = chosen {
            tools
                .iter()
                .filter(|t| name_of(t) == name)
                .take(1)
                .collect()
        } else if any_tool && parallel {
            tools.iter().collect()
        } else if any_tool {
            // Made to call a tool: the first one the conversation has not called yet.
            tools
                .iter()
                .find(|t| !called.contains(&name_of(t)))
                .into_iter()
                .collect()
        } else {
            Vec::new()
        };
        let picked = if picked.is_empty() {
            vec![&tools[0]]
        } else {
            picked
        };
        if chosen.is_none() && !any_tool {
            blocks.push(Block::Text(format!("Calling {}.", name_of(picked[0]))));
        }
        for (i, tool) in picked.into_iter().enumerate() {
            blocks.push(Block::ToolUse {
                id: match i {
                    0 => format!("tooluse_{}", input_words(body)),
                    i => format!("tooluse_{}_{i}", input_words(body)),
                },
                name: name_of(tool),
                input: input_for(tool.pointer("/toolSpec/inputSchema/json")),
            });
        }
        stop_reason = "tool_use";
    } else {
        let mut text = format!("You said: {}", user_text(&last));
        if body.pointer("/outputConfig/textFormat").is_some() {
            text = json!({ "echo": user_text(&last) }).to_string();
        }
        let (text, reason, sequence) = limit(text, body);
        stop_reason = reason;
        stop_sequence = sequence;
        blocks.push(Block::Text(text));
        cited = citations(body);
    }
    let output_tokens = blocks
        .iter()
        .map(|b| match b {
            Block::Text(t) | Block::Reasoning(t) => words(t),
            Block::ToolUse { input, .. } => words(&input.to_string()),
        })
        .sum::<u64>()
        .max(1);
    let cached = cached_prefix_words(body);
    let read = body
        .get("messages")
        .is_some_and(|m| last_user_text(m).contains("[mock:cache_read]"));
    let (cache_read_tokens, cache_write_tokens) = if read { (cached, 0) } else { (0, cached) };
    Answer {
        blocks,
        stop_reason,
        stop_sequence,
        input_tokens: input_words(body).saturating_sub(cached).max(1),
        output_tokens,
        cache_read_tokens,
        cache_write_tokens,
        citations: cited,
    }
}

/// The directive that adds a `web` citation to an echo.
pub const WEB_CITATION_DIRECTIVE: &str = "[mock:web_citation]";

/// How many characters of a document a citation quotes, at most.
const QUOTE_CHARS: usize = 80;

/// The citations of an echo, as Bedrock writes them (botocore's `Citation`): one per document
/// of the request with `citations: {enabled: true}`, `title` its name, `sourceContent` its
/// first characters (at most [`QUOTE_CHARS`], its bytes read as UTF-8) and `location`
/// `documentChar{documentIndex, start: 0, end}` (`documentIndex` counting every document of
/// the request, in order, from 0); then, with [`WEB_CITATION_DIRECTIVE`] in the last user
/// text, a `web` location.
pub fn citations(body: &Value) -> Vec<Value> {
    let documents = message_blocks(body).filter_map(|b| b.get("document"));
    let mut cited = Vec::new();
    for (index, document) in documents.enumerate() {
        if document
            .pointer("/citations/enabled")
            .and_then(Value::as_bool)
            != Some(true)
        {
            continue;
        }
        let text = document
            .pointer("/source/bytes")
            .and_then(Value::as_str)
            .and_then(|b| {
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).ok()
            })
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .or_else(|| {
                document
                    .pointer("/source/text")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let quote: String = text.chars().take(QUOTE_CHARS).collect();
        let end = quote.chars().count();
        let name = document.get("name").and_then(Value::as_str).unwrap_or("");
        cited.push(json!({
            "title": name,
            "sourceContent": [{"text": quote}],
            "location": {"documentChar": {"documentIndex": index, "start": 0, "end": end}}
        }));
    }
    if body
        .get("messages")
        .is_some_and(|m| last_user_text(m).contains(WEB_CITATION_DIRECTIVE))
    {
        cited.push(json!({
            "title": "Mock web result",
            "sourceContent": [{"text": "The mock's web page."}],
            "location": {"web": {"url": "https://example.com/mock", "domain": "example.com"}}
        }));
    }
    cited
}

/// The names of the tools the conversation's assistant turns called.
fn called_tools(body: &Value) -> Vec<String> {
    message_blocks(body)
        .filter_map(|b| b.pointer("/toolUse/name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// Stop sequences and `maxTokens` (in words) applied to the echo: the text, the stop reason and
/// the stop sequence met.
fn limit(text: String, body: &Value) -> (String, &'static str, Option<String>) {
    let config = body.get("inferenceConfig");
    for stop in config
        .and_then(|c| c.get("stopSequences"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(stop) = stop.as_str().filter(|s| !s.is_empty()) else {
            continue;
        };
        if let Some(at) = text.find(stop) {
            return (
                text[..at].to_owned(),
                "stop_sequence",
                Some(stop.to_owned()),
            );
        }
    }
    match config
        .and_then(|c| c.get("maxTokens"))
        .and_then(Value::as_u64)
    {
        Some(max) if words(&text) > max => {
            let cut: Vec<&str> = text.split_whitespace().take(max as usize).collect();
            (cut.join(" "), "max_tokens", None)
        }
        _ => (text, "end_turn", None),
    }
}

/// The text blocks of the last user message, joined (where `[mock:...]` directives live); an
/// Anthropic message's content may be a plain string.
pub fn last_user_text(messages: &Value) -> String {
    let content = messages
        .as_array()
        .and_then(|m| {
            m.iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        })
        .and_then(|m| m.get("content"));
    if let Some(text) = content.and_then(Value::as_str) {
        return text.to_owned();
    }
    content
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` without its `[mock:...]` directives.
fn strip_directives(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("[mock:") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find(']')
            .map_or("", |end| &rest[start + end + 1..]);
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The user's text blocks, joined; images described as `[image/png 68 bytes]`.
fn user_text(blocks: &[Value]) -> String {
    let mut parts = Vec::new();
    for block in blocks {
        if let Some(text) = block.get("text").and_then(Value::as_str) {
            let text = strip_directives(text);
            if !text.is_empty() {
                parts.push(text);
            }
        } else if let Some(image) = block.get("image") {
            let format = image.get("format").and_then(Value::as_str).unwrap_or("?");
            let len = source_len(image);
            parts.push(format!("[image/{format} {len} bytes]"));
        } else if let Some(document) = block.get("document") {
            let format = document
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let name = document.get("name").and_then(Value::as_str).unwrap_or("?");
            let len = source_len(document);
            parts.push(format!("[document {format} '{name}' {len} bytes]"));
        }
    }
    parts.join(" ")
}

/// The decoded length of an image or document block's `source.bytes` (0 when unreadable).
fn source_len(block: &Value) -> usize {
    block
        .pointer("/source/bytes")
        .and_then(Value::as_str)
        .and_then(|b| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).ok())
        .map_or(0, |b| b.len())
}

/// Tool input from a JSON schema: `"mock"` for strings, 1 for numbers, and so on.
fn input_for(schema: Option<&Value>) -> Value {
    let mut input = serde_json::Map::new();
    for (name, property) in schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(first) = property
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            input.insert(name.clone(), first.clone());
            continue;
        }
        // `"type": ["string", "null"]` counts as its first non-null type.
        let kind = match property.get("type") {
            Some(Value::Array(kinds)) => kinds
                .iter()
                .filter_map(Value::as_str)
                .find(|k| *k != "null"),
            Some(kind) => kind.as_str(),
            None => None,
        };
        let value = match kind {
            Some("string") => json!("mock"),
            Some("number" | "integer") => json!(1),
            Some("boolean") => json!(true),
            Some("array") => json!([]),
            Some("object") => json!({}),
            _ => Value::Null,
        };
        input.insert(name.clone(), value);
    }
    Value::Object(input)
}

/// The Converse JSON of an answer.
pub fn converse_json(answer: &Answer) -> Value {
    let content: Vec<Value> = answer
        .blocks
        .iter()
        .map(|block| match block {
            Block::Reasoning(text) => json!({"reasoningContent": {"reasoningText": {"text": text, "signature": "mock-signature"}}}),
            Block::Text(text) if !answer.citations.is_empty() => json!({"citationsContent": {
                "content": [{ "text": text }], "citations": answer.citations}}),
            Block::Text(text) => json!({ "text": text }),
            Block::ToolUse { id, name, input } => json!({"toolUse": {"toolUseId": id, "name": name, "input": input}}),
        })
        .collect();
    json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": answer.stop_reason,
        "usage": usage(answer),
        "metrics": {"latencyMs": 1}
    })
}

fn usage(answer: &Answer) -> Value {
    let input = answer.input_tokens + answer.cache_read_tokens + answer.cache_write_tokens;
    let mut usage = json!({
        "inputTokens": answer.input_tokens,
        "outputTokens": answer.output_tokens,
        "totalTokens": input + answer.output_tokens
    });
    if answer.cache_read_tokens + answer.cache_write_tokens > 0 {
        usage["cacheReadInputTokens"] = json!(answer.cache_read_tokens);
        usage["cacheWriteInputTokens"] = json!(answer.cache_write_tokens);
    }
    usage
}

/// The ConverseStream events of an answer: `(event type, payload)`.
pub fn stream_events(answer: &Answer) -> Vec<(&'static str, Value)> {
    let mut events = vec![("messageStart", json!({"role": "assistant"}))];
    for (index, block) in answer.blocks.iter().enumerate() {
        match block {
            Block::Reasoning(text) => {
                events.push(("contentBlockDelta", json!({"contentBlockIndex": index, "delta": {"reasoningContent": {"text": text}}})));
                events.push(("contentBlockDelta", json!({"contentBlockIndex": index, "delta": {"reasoningContent": {"signature": "mock-signature"}}})));
            }
            Block::Text(text) => {
                let pieces: Vec<&str> = text.split_inclusive(' ').collect();
                for piece in pieces {
                    events.push((
                        "contentBlockDelta",
                        json!({"contentBlockIndex": index, "delta": {"text": piece}}),
                    ));
                }
                for citation in &answer.citations {
                    events.push((
                        "contentBlockDelta",
                        json!({"contentBlockIndex": index, "delta": {"citation": citation}}),
                    ));
                }
            }
            Block::ToolUse { id, name, input } => {
                events.push(("contentBlockStart", json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": id, "name": name}}})));
                let json = input.to_string();
                let middle = json
                    .char_indices()
                    .nth(json.chars().count() / 2)
                    .map_or(json.len(), |(i, _)| i);
                for fragment in [&json[..middle], &json[middle..]] {
                    events.push(("contentBlockDelta", json!({"contentBlockIndex": index, "delta": {"toolUse": {"input": fragment}}})));
                }
            }
        }
        events.push(("contentBlockStop", json!({"contentBlockIndex": index})));
    }
    events.push(("messageStop", json!({"stopReason": answer.stop_reason})));
    events.push((
        "metadata",
        json!({"usage": usage(answer), "metrics": {"latencyMs": 1}}),
    ));
    events
}

/// A long text answer of exactly `n` deltas, for benchmarks.
pub fn benchmark_answer(n: usize) -> Answer {
    let text: String = (0..n).map(|i| format!("w{i} ")).collect();
    Answer {
        blocks: vec![Block::Text(text)],
        stop_reason: "end_turn",
        stop_sequence: None,
        input_tokens: 1,
        output_tokens: n as u64,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        citations: Vec::new(),
    }
}

/// A deterministic unit vector of `dimensions` derived from `text`.
pub fn embedding(text: &str, dimensions: usize, normalize: bool) -> Vec<f32> {
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut vector: Vec<f32> = (0..dimensions)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    if normalize {
        let norm = vector
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt()
            .max(f32::EPSILON);
        vector.iter_mut().for_each(|v| *v /= norm);
    }
    vector
}

/// An InvokeModel answer for an embedding model: `(body, input token count)`.
pub fn invoke_embedding(kind: crate::models::Kind, body: &Value) -> Result<(Value, u64), Invalid> {
    use crate::models::Kind;
    match kind {
        Kind::TitanEmbedV1 | Kind::TitanEmbedV2 => {
            let text = body.get("inputText").and_then(Value::as_str).filter(|t| !t.trim().is_empty())
                .ok_or_else(|| Invalid("Malformed input request: #: required key [inputText] not found, please reformat your input and try again.".to_owned()))?;
            let tokens = words(text).max(1);
            if kind == Kind::TitanEmbedV1 {
                return Ok((
                    json!({"embedding": embedding(text, 1536, false), "inputTextTokenCount": tokens}),
                    tokens,
                ));
            }
            let dimensions = body
                .get("dimensions")
                .and_then(Value::as_u64)
                .unwrap_or(1024);
            if ![256, 512, 1024].contains(&dimensions) {
                return Err(Invalid(format!(
                    "Malformed input request: #/dimensions: {dimensions} is not a valid enum value, please reformat your input and try again."
                )));
            }
            let normalize = body
                .get("normalize")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let vector = embedding(text, dimensions as usize, normalize);
            Ok((
                json!({"embedding": vector, "inputTextTokenCount": tokens, "embeddingsByType": {"float": vector}}),
                tokens,
            ))
        }
        Kind::CohereEmbed => {
            let texts: Vec<&str> = body.get("texts").and_then(Value::as_array)
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .filter(|t: &Vec<&str>| !t.is_empty() && t.len() <= 96)
                .ok_or_else(|| Invalid("Malformed input request: #/texts: expected 1 to 96 strings, please reformat your input and try again.".to_owned()))?;
            let input_type = body.get("input_type").and_then(Value::as_str).unwrap_or("");
            if !matches!(
                input_type,
                "search_document" | "search_query" | "classification" | "clustering"
            ) {
                return Err(Invalid("Malformed input request: #: required key [input_type] not found, please reformat your input and try again.".to_owned()));
            }
            let vectors: Vec<Vec<f32>> = texts.iter().map(|t| embedding(t, 1024, true)).collect();
            let tokens = texts.iter().map(|t| words(t).max(1)).sum();
            let embeddings = if body.get("embedding_types").is_some() {
                json!({ "float": vectors })
            } else {
                json!(vectors)
            };
            let response_type = if body.get("embedding_types").is_some() {
                "embeddings_by_type"
            } else {
                "embeddings_floats"
            };
            Ok((
                json!({"embeddings": embeddings, "id": "mock-embed", "response_type": response_type, "texts": texts}),
                tokens,
            ))
        }
        crate::models::Kind::Text => Err(Invalid(
            "The provided model doesn't support on-demand embeddings.".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> Value {
        json!({"role": "user", "content": [{"text": text}]})
    }

    #[test]
    fn validation_matches_bedrock_rules() {
        assert!(validate(&json!({"messages": [user("hi")]})).is_ok());
        for bad in [
            json!({"messages": []}),
            json!({"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}),
            json!({"messages": [user("a"), user("b")]}),
            json!({"messages": [{"role": "user", "content": [{"text": "x", "image": {}}]}]}),
            json!({"messages": [user("a")], "inferenceConfig": {"temperature": 1.5}}),
            json!({"messages": [{"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": []}}]}]}),
            json!({"messages": [user("  ")]}),
        ] {
            assert!(validate(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn echoes_calls_tools_and_reads_results() {
        let a = answer(&json!({"messages": [user("hello there")]}));
        assert_eq!(a.blocks, vec![Block::Text("You said: hello there".into())]);
        assert_eq!(
            (a.input_tokens, a.output_tokens, a.stop_reason),
            (2, 4, "end_turn")
        );
        let tools = json!({"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}}}]});
        let a = answer(&json!({"messages": [user("weather?")], "toolConfig": tools}));
        assert_eq!(a.stop_reason, "tool_use");
        assert!(
            matches!(&a.blocks[1], Block::ToolUse { name, input, .. } if name == "get_weather" && input == &json!({"city": "mock", "days": 1}))
        );
        let result = json!({"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": [{"text": "18C"}]}}]});
        let a = answer(
            &json!({"messages": [user("w"), {"role": "assistant", "content": [{"text": "c"}]}, result], "toolConfig": tools}),
        );
        assert!(matches!(&a.blocks[0], Block::Text(t) if t.contains("18C")));
        let a = answer(
            &json!({"messages": [user("one two three four")], "inferenceConfig": {"maxTokens": 2}}),
        );
        assert_eq!(
            (a.stop_reason, &a.blocks[0]),
            ("max_tokens", &Block::Text("You said:".into()))
        );
    }

    #[test]
    fn stream_events_spell_the_answer() {
        let a = answer(&json!({"messages": [user("a b c")]}));
        let events = stream_events(&a);
        let text: String = events
            .iter()
            .filter_map(|(_, p)| p.pointer("/delta/text").and_then(Value::as_str))
            .collect();
        assert_eq!(text, "You said: a b c");
        assert_eq!(events.first().unwrap().0, "messageStart");
        assert_eq!(events.last().unwrap().0, "metadata");
    }

    #[test]
    fn embeddings_are_deterministic_and_normalised() {
        assert_eq!(embedding("x", 8, true), embedding("x", 8, true));
        assert_ne!(embedding("x", 8, true), embedding("y", 8, true));
        let norm: f32 = embedding("x", 256, true).iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4);
    }

    #[test]
    fn validation_follows_the_botocore_shape() {
        for (bad, needle) in [
            (
                json!({"messages": [user("a")], "modelId": "x"}),
                "[modelId]",
            ),
            (
                json!({"messages": [user("a")], "system": [{"text": "a", "cachePoint": {}}]}),
                "system",
            ),
            (
                json!({"messages": [user("a")], "inferenceConfig": {"topK": 5}}),
                "topK",
            ),
            (
                json!({"messages": [user("a")], "inferenceConfig": {"topP": -1}}),
                "greater than or equal to 0",
            ),
            (
                json!({"messages": [user("a")], "inferenceConfig": {"maxTokens": "9"}}),
                "maxTokens",
            ),
            (
                json!({"messages": [user("a")], "toolConfig": {"tools": []}}),
                "toolConfig.tools",
            ),
            (json!([1, 2]), "Malformed"),
        ] {
            let Err(Invalid(message)) = validate(&bad) else {
                panic!("{bad} accepted")
            };
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
        let full = json!({"messages": [user("a")], "system": [{"text": "s"}],
            "inferenceConfig": {"maxTokens": 5, "temperature": 0, "topP": 1, "stopSequences": ["x"]},
            "additionalModelRequestFields": {"k": 1}, "requestMetadata": {"a": "b"}});
        assert!(validate(&full).is_ok());
    }

    #[test]
    fn directives_come_from_the_last_user_text_and_leave_the_echo() {
        let messages = json!([user("first [mock:delay_ms=1]"), {"role": "assistant", "content": [{"text": "x"}]},
            {"role": "user", "content": [{"text": "hello [mock:error=ThrottlingException]"}, {"text": "again"}]}]);
        assert_eq!(
            last_user_text(&messages),
            "hello [mock:error=ThrottlingException] again"
        );
        let a = answer(&json!({"messages": messages}));
        assert_eq!(a.blocks, vec![Block::Text("You said: hello again".into())]);
        assert_eq!(strip_directives("a [mock:x] b [mock:unterminated"), "a b");
    }

    #[test]
    fn cache_points_are_checked_and_counted() {
        let cp = json!({"cachePoint": {"type": "default"}});
        let body = json!({"system": [{"text": "one two"}, cp],
            "messages": [{"role": "user", "content": [{"text": "three four five"}, cp, {"text": "six"}]}]});
        assert!(validate(&body).is_ok());
        let a = answer(&body);
        assert_eq!(
            (a.input_tokens, a.cache_write_tokens, a.cache_read_tokens),
            (1, 5, 0)
        );
        let usage = converse_json(&a)["usage"].clone();
        assert_eq!(usage["cacheWriteInputTokens"], 5);
        assert_eq!(usage["totalTokens"], 6 + a.output_tokens);
        let tools =
            json!({"tools": [{"toolSpec": {"name": "a", "inputSchema": {"json": {}}}}, cp]});
        let five = json!({"system": [{"text": "s"}, cp], "toolConfig": tools,
            "messages": [{"role": "user", "content": [{"text": "a"}, cp, {"text": "b"}, cp, {"text": "c"}, cp]}]});
        let Err(Invalid(message)) = validate(&five) else {
            panic!("five cache points accepted")
        };
        assert!(message.contains("maximum of 4 cache points"), "{message}");
        let bad = json!({"messages": [{"role": "user", "content": [{"text": "a"}, {"cachePoint": {"type": "default", "ttl": "2h"}}]}]});
        assert!(validate(&bad).is_err());
    }

    #[test]
    fn guardrails_are_checked_and_intervene_on_demand() {
        let with = |config: Value| json!({"messages": [user("hi [mock:guardrail_intervened]")], "guardrailConfig": config});
        let good = with(
            json!({"guardrailIdentifier": "abc1", "guardrailVersion": "DRAFT", "trace": "disabled"}),
        );
        assert!(validate(&good).is_ok() && validate_guardrail(&good, false).is_ok());
        let a = answer(&good);
        assert_eq!(a.stop_reason, "guardrail_intervened");
        assert_eq!(
            a.blocks,
            vec![Block::Text(
                "Sorry, guardrail abc1 blocked this request.".into()
            )]
        );
        let arn = with(
            json!({"guardrailIdentifier": "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc1", "guardrailVersion": "12", "streamProcessingMode": "async"}),
        );
        assert!(validate_guardrail(&arn, true).is_ok());
        for (config, stream, needle) in [
            (
                json!({"guardrailIdentifier": "abc1", "guardrailVersion": "1", "streamProcessingMode": "sync"}),
                false,
                "extraneous key [guardrailConfig.streamProcessingMode]",
            ),
            (
                json!({"guardrailIdentifier": "Abc", "guardrailVersion": "1"}),
                false,
                "guardrailIdentifier",
            ),
            (
                json!({"guardrailIdentifier": "abc", "guardrailVersion": "01"}),
                false,
                "guardrailVersion",
            ),
            (
                json!({"guardrailIdentifier": "abc", "guardrailVersion": "1", "trace": "on"}),
                false,
                "trace",
            ),
            (
                json!({"guardrailIdentifier": "abc", "guardrailVersion": "1", "streamProcessingMode": "later"}),
                true,
                "streamProcessingMode",
            ),
        ] {
            let Err(Invalid(message)) = validate_guardrail(&with(config.clone()), stream) else {
                panic!("{config} accepted")
            };
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
        // Without a guardrail, the directive is only text.
        let a = answer(&json!({"messages": [user("hi [mock:guardrail_intervened]")]}));
        assert_eq!(a.stop_reason, "end_turn");
    }

    #[test]
    fn documents_are_checked_and_described() {
        let doc = |name: &str, format: &str| json!({"document": {"format": format, "name": name, "source": {"bytes": "JVBERg=="}}});
        let ok = json!({"messages": [{"role": "user", "content": [{"text": "Read"}, doc("a (1)", "pdf")]}]});
        assert!(validate(&ok).is_ok());
        let a = answer(&ok);
        assert_eq!(
            a.blocks,
            vec![Block::Text(
                "You said: Read [document pdf 'a (1)' 4 bytes]".into()
            )]
        );
        for (content, needle) in [
            (json!([doc("a", "pdf")]), "text block"),
            (json!([{"text": "x"}, doc("a_b", "pdf")]), "file name"),
            (json!([{"text": "x"}, doc("a  b", "pdf")]), "file name"),
            (json!([{"text": "x"}, doc("a", "zip")]), "enum value set"),
            (
                json!([{"text": "x"}, doc("a", "pdf"), doc("a", "txt")]),
                "unique",
            ),
            (
                json!([{"text": "x"}, doc("1", "pdf"), doc("2", "pdf"), doc("3", "pdf"), doc("4", "pdf"), doc("5", "pdf"), doc("6", "pdf")]),
                "at most 5",
            ),
        ] {
            let body = json!({"messages": [{"role": "user", "content": content}]});
            let Err(Invalid(message)) = validate(&body) else {
                panic!("{body} accepted")
            };
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }

    #[test]
    fn cited_documents_and_the_web_directive_make_citations() {
        // "Paris is in France." as base64.
        let cited = |name: &str, enabled: bool| {
            json!({"document": {"format": "txt", "name": name,
            "source": {"bytes": "UGFyaXMgaXMgaW4gRnJhbmNlLg=="}, "citations": {"enabled": enabled}}})
        };
        let body = json!({"messages": [{"role": "user", "content": [
            {"text": "Where? [mock:web_citation]"}, cited("off", false), cited("atlas", true)]}]});
        assert!(validate(&body).is_ok());
        let a = answer(&body);
        let document = json!({"title": "atlas", "sourceContent": [{"text": "Paris is in France."}],
            "location": {"documentChar": {"documentIndex": 1, "start": 0, "end": 19}}});
        assert_eq!(a.citations.len(), 2);
        assert_eq!(a.citations[0], document);
        assert_eq!(
            a.citations[1]["location"]["web"],
            json!({"url": "https://example.com/mock", "domain": "example.com"})
        );
        let content = &converse_json(&a)["output"]["message"]["content"];
        let Block::Text(text) = &a.blocks[0] else {
            panic!("{a:?}")
        };
        assert_eq!(
            content,
            &json!([{"citationsContent": {"content": [{"text": text}], "citations": a.citations}}])
        );
        let events = stream_events(&a);
        let deltas: Vec<&Value> = events
            .iter()
            .filter_map(|(_, p)| p.pointer("/delta/citation"))
            .collect();
        assert_eq!(deltas, [&a.citations[0], &a.citations[1]]);
        let stop = events
            .iter()
            .position(|(kind, _)| *kind == "contentBlockStop")
            .unwrap();
        assert_eq!(events[stop - 1].1["contentBlockIndex"], 0);
        assert!(events[stop - 1].1.pointer("/delta/citation").is_some());
        // Without a cited document or the directive: plain text.
        let plain = answer(
            &json!({"messages": [{"role": "user", "content": [{"text": "x"}, cited("off", false)]}]}),
        );
        assert!(plain.citations.is_empty());
        assert!(converse_json(&plain)["output"]["message"]["content"][0]["text"].is_string());
    }

    #[test]
    fn any_tool_choice_calls_a_tool_without_text_the_first_not_called_yet() {
        let tools = json!({"tools": [
            {"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"properties": {"city": {"type": "string"}}}}}},
            {"toolSpec": {"name": "json_output", "inputSchema": {"json": {"properties": {"name": {"type": "string"}}}}}}
        ], "toolChoice": {"any": {}}});
        let a = answer(&json!({"messages": [user("weather?")], "toolConfig": tools}));
        assert!(
            matches!(&a.blocks[..], [Block::ToolUse { name, .. }] if name == "get_weather"),
            "{a:?}"
        );
        let history = json!([user("weather?"),
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t", "name": "get_weather", "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": [{"text": "18C"}]}}]}]);
        let a = answer(&json!({"messages": history, "toolConfig": tools}));
        assert!(
            matches!(&a.blocks[..], [Block::ToolUse { name, input, .. }] if name == "json_output" && input == &json!({"name": "mock"})),
            "{a:?}"
        );
        let a =
            answer(&json!({"messages": [user("both [mock:parallel_tools]")], "toolConfig": tools}));
        let names: Vec<&str> = a
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::ToolUse { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            (names, a.stop_reason),
            (vec!["get_weather", "json_output"], "tool_use")
        );
    }

    #[test]
    fn tool_inputs_follow_enums_and_nullable_types() {
        let schema = json!({"properties": {"unit": {"type": "string", "enum": ["c", "f"]},
            "n": {"type": ["number", "null"]}, "free": {}}});
        assert_eq!(
            input_for(Some(&schema)),
            json!({"unit": "c", "n": 1, "free": null})
        );
    }
}
