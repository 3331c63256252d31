//! A Responses request -> a Converse request, as a pure function.
//!
//! The request becomes the chat request it means (items merged into alternating turns, flat
//! function tools, `text.format` as `response_format`, `reasoning.effort` as
//! `reasoning_effort`), which goes through the chat path ([`chat_to_converse_with`]): images,
//! documents, tools, structured output (native or the `json_output` tool), thinking budgets
//! and prompt caching behave exactly as they do for chat. What chat has no words for is added
//! after: signed reasoning goes back before the tool calls it led to.

use std::collections::{BTreeMap, HashMap, HashSet};

use openai_types::chat::{
    self, ChatCompletionRequest, ChatMessage, FunctionCall, FunctionDefinition, FunctionName,
    ImageUrl, NamedToolChoice, Tool, ToolCall,
};
use openai_types::responses::{
    ContentPart, CreateResponse, FunctionCallItem, FunctionCallOutputItem, Input, InputItem,
    InputMessage, MessageContent, ReasoningItem, Response,
};
use serde_json::{Value, json};

use super::PreviousResponse;
use crate::converse::{ContentBlock, ConverseRequest, ReasoningContentBlock, ReasoningText, Role};
use crate::error::TranslateError;
use crate::layer::ModelDefaults;
use crate::model_id::ModelId;
use crate::request::{
    ConverseOptions, JSON_OUTPUT_TOOL, bedrock_tool_use_id, chat_to_converse_with,
};

/// The most `metadata` pairs, and the longest key and value.
pub const MAX_METADATA: (usize, usize, usize) = (16, 64, 512);

/// The `include` value that asks for reasoning signatures.
pub const ENCRYPTED_REASONING: &str = "reasoning.encrypted_content";

/// A translated Responses request: the Converse call and what answering it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsesCall {
    /// The Converse request.
    pub converse: ConverseRequest,
    /// The response as created (`in_progress`, no output): every echo field set.
    pub template: Response,
    /// How Bedrock's answer becomes output items.
    pub answer: AnswerOptions,
    /// This request's own input items, each with an `id` (for the store).
    pub input_items: Vec<Value>,
    /// The conversation before this request's input: the previous response's context and
    /// output (for the store).
    pub context: Vec<Value>,
    /// Whether the response is to be kept.
    pub store: bool,
    /// Whether the answer is streamed.
    pub stream: bool,
}

/// How Bedrock's answer becomes output items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnswerOptions {
    /// JSON output was asked through the forced `json_output` tool: its input is text.
    pub json_output_tool: bool,
    /// `include` asks for reasoning signatures (`encrypted_content`).
    pub encrypted_reasoning: bool,
}

/// The identity of the response being made (passed in to keep translation pure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `resp_...`.
    pub id: String,
    /// Unix seconds.
    pub created_at: u64,
}

impl Identity {
    /// A fresh random id and the current time.
    pub fn new() -> Self {
        let created_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            id: new_id("resp_"),
            created_at,
        }
    }
}

impl Default for Identity {
    fn default() -> Self {
        Self::new()
    }
}

/// A random id: `prefix` and 24 alphanumerics.
pub fn new_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 24);
    id.push_str(prefix);
    id.extend(std::iter::repeat_with(fastrand::alphanumeric).take(24));
    id
}

/// What the translation needs besides the request itself.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The Bedrock model.
    pub model: &'a ModelId,
    /// The stored record of `previous_response_id`, when a store loaded it.
    pub previous: Option<&'a PreviousResponse>,
    /// Chat-path options (prompt caching).
    pub options: &'a ConverseOptions,
    /// The model's configured defaults.
    pub defaults: Option<&'a ModelDefaults>,
}

/// Translates a Responses request.
pub fn responses_to_converse(
    req: CreateResponse,
    inputs: Inputs<'_>,
    identity: Identity,
) -> Result<ResponsesCall, TranslateError> {
    check_unsupported(&req)?;
    let context = previous_conversation(&req, inputs.previous)?;
    let own = own_items(req.input.clone(), &context)?;
    let input_items = own.iter().map(with_id).collect();
    let (messages, reasoning) = to_chat_messages(&req, context.iter().chain(&own))?;
    let template = template(&req, identity);
    let chat = chat_request(&req, messages, inputs.defaults)?;
    let wants_json = chat.response_format.is_some();
    let mut converse =
        chat_to_converse_with(chat, inputs.model, inputs.options).map_err(rename_params)?;
    put_back_reasoning(&mut converse, &reasoning);
    let json_output_tool = wants_json
        && converse.output_config.is_none()
        && converse
            .tool_config
            .as_ref()
            .is_some_and(|t| t.tools.iter().any(|t| t.tool_spec.name == JSON_OUTPUT_TOOL));
    let encrypted_reasoning = req
        .include
        .iter()
        .flatten()
        .any(|i| i == ENCRYPTED_REASONING);
    Ok(ResponsesCall {
        converse,
        template,
        answer: AnswerOptions {
            json_output_tool,
            encrypted_reasoning,
        },
        input_items,
        context: context.iter().map(to_value).collect(),
        store: req.store.unwrap_or(true),
        stream: req.stream.unwrap_or(false),
    })
}

fn to_value(item: &InputItem) -> Value {
    serde_json::to_value(item).expect("input items serialise")
}

/// The item as stored: with an `id` (a fresh one when the client gave none).
fn with_id(item: &InputItem) -> Value {
    let mut value = to_value(item);
    if item.id().is_none() {
        let prefix = match item {
            InputItem::Message(_) => "msg_",
            InputItem::FunctionCall(_) => "fc_",
            InputItem::FunctionCallOutput(_) => "fco_",
            InputItem::Reasoning(_) => "rs_",
            InputItem::ItemReference(_) => "ref_",
        };
        value["id"] = Value::String(new_id(prefix));
    }
    value
}

/// Refuses what Bedrock (or a storeless translator) cannot do.
fn check_unsupported(req: &CreateResponse) -> Result<(), TranslateError> {
    if req.background == Some(true) {
        return Err(TranslateError::unsupported(
            "background",
            "background responses are not supported: send the request without background",
        ));
    }
    if req.conversation.as_ref().is_some_and(|c| !c.is_null()) {
        return Err(TranslateError::unsupported(
            "conversation",
            "conversations are not supported: use previous_response_id or send the whole input",
        ));
    }
    match req.truncation.as_deref() {
        None | Some("disabled") => {}
        Some(other) => {
            return Err(TranslateError::unsupported(
                "truncation",
                format!("truncation '{other}' is not supported: only 'disabled'"),
            ));
        }
    }
    check_metadata(req.metadata.as_ref())
}

fn check_metadata(metadata: Option<&BTreeMap<String, String>>) -> Result<(), TranslateError> {
    let Some(metadata) = metadata else {
        return Ok(());
    };
    let (pairs, key_len, value_len) = MAX_METADATA;
    if metadata.len() > pairs {
        return Err(TranslateError::invalid(
            "metadata",
            format!("metadata holds at most {pairs} pairs"),
        ));
    }
    for (key, value) in metadata {
        if key.chars().count() > key_len {
            return Err(TranslateError::invalid(
                "metadata",
                format!("metadata keys are at most {key_len} characters: '{key}'"),
            ));
        }
        if value.chars().count() > value_len {
            return Err(TranslateError::invalid(
                "metadata",
                format!("metadata values are at most {value_len} characters (key '{key}')"),
            ));
        }
    }
    Ok(())
}

/// The stored record's fields the translator reads.
#[derive(Debug, serde::Deserialize)]
struct Record {
    response: RecordResponse,
    #[serde(default)]
    context: Vec<InputItem>,
}

#[derive(Debug, serde::Deserialize)]
struct RecordResponse {
    #[serde(default)]
    output: Vec<InputItem>,
}

/// The conversation `previous_response_id` continues: its context, then its output.
fn previous_conversation(
    req: &CreateResponse,
    previous: Option<&PreviousResponse>,
) -> Result<Vec<InputItem>, TranslateError> {
    let Some(id) = req.previous_response_id.as_deref() else {
        return Ok(Vec::new());
    };
    let Some(previous) = previous else {
        return Err(TranslateError::unsupported(
            "previous_response_id",
            format!(
                "previous_response_id '{id}' needs a response store, and this gateway keeps no responses: send the whole conversation as input"
            ),
        ));
    };
    let record: Record = serde_json::from_slice(&previous.0).map_err(|e| {
        TranslateError::invalid(
            "previous_response_id",
            format!("the stored response '{id}' cannot be read: {e}"),
        )
    })?;
    let mut items = record.context;
    items.extend(record.response.output);
    Ok(items)
}

/// The request's own input, with item references resolved against `context`.
fn own_items(
    input: Option<Input>,
    context: &[InputItem],
) -> Result<Vec<InputItem>, TranslateError> {
    let items = match input {
        None => Vec::new(),
        Some(Input::Text(text)) => vec![InputItem::Message(InputMessage {
            id: None,
            role: "user".to_owned(),
            content: MessageContent::Text(text),
            status: None,
        })],
        Some(Input::Items(items)) => items,
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            InputItem::ItemReference(reference) => context
                .iter()
                .find(|c| c.id() == Some(reference.id.as_str()))
                .cloned()
                .ok_or_else(|| {
                    TranslateError::invalid(
                        format!("input[{i}].id"),
                        format!(
                            "item_reference '{}' names no item of the previous response's conversation (item references need previous_response_id and a response store)",
                            reference.id
                        ),
                    )
                }),
            item => Ok(item),
        })
        .collect()
}

/// Signed reasoning, by the Bedrock tool-use id of the call it led to.
type ReasoningByCall = HashMap<String, Vec<ReasoningContentBlock>>;

/// Items -> chat messages; assistant items in a row make one assistant message.
fn to_chat_messages<'a>(
    req: &CreateResponse,
    items: impl Iterator<Item = &'a InputItem>,
) -> Result<(Vec<ChatMessage>, ReasoningByCall), TranslateError> {
    let mut turns = Turns::default();
    if let Some(instructions) = req.instructions.as_deref().filter(|i| !i.is_empty()) {
        turns.messages.push(ChatMessage::System {
            content: chat::MessageContent::Text(instructions.to_owned()),
            name: None,
            cache_control: None,
        });
    }
    for (i, item) in items.enumerate() {
        turns.push(item, &format!("input[{i}]"))?;
    }
    turns.flush();
    Ok((turns.messages, turns.reasoning))
}

/// Chat messages under construction.
#[derive(Debug, Default)]
struct Turns {
    messages: Vec<ChatMessage>,
    /// The assistant turn being gathered: text parts and tool calls.
    text: Vec<String>,
    calls: Vec<ToolCall>,
    /// Signed reasoning not yet followed by a call.
    pending: Vec<ReasoningContentBlock>,
    reasoning: ReasoningByCall,
    /// The call ids of the function calls seen so far.
    call_ids: HashSet<String>,
}

impl Turns {
    fn push(&mut self, item: &InputItem, param: &str) -> Result<(), TranslateError> {
        match item {
            InputItem::Message(message) if message.role == "assistant" => {
                self.text.push(assistant_text(&message.content));
                Ok(())
            }
            InputItem::Message(message) => self.push_message(message, param),
            InputItem::FunctionCall(call) => {
                self.push_call(call);
                Ok(())
            }
            InputItem::FunctionCallOutput(output) => self.push_output(output, param),
            InputItem::Reasoning(reasoning) => {
                self.pending.extend(reasoning_block(reasoning));
                Ok(())
            }
            InputItem::ItemReference(_) => Err(TranslateError::invalid(
                param,
                "item_reference items must name an item of the previous response",
            )),
        }
    }

    fn push_message(&mut self, message: &InputMessage, param: &str) -> Result<(), TranslateError> {
        let content = user_content(&message.content, param)?;
        self.flush();
        self.messages.push(match message.role.as_str() {
            "user" => ChatMessage::User {
                content,
                name: None,
                cache_control: None,
            },
            "system" | "developer" => ChatMessage::System {
                content,
                name: None,
                cache_control: None,
            },
            other => {
                return Err(TranslateError::invalid(
                    format!("{param}.role"),
                    format!("unknown role '{other}': use user, assistant, system or developer"),
                ));
            }
        });
        Ok(())
    }

    fn push_call(&mut self, call: &FunctionCallItem) {
        let pending = std::mem::take(&mut self.pending);
        if !pending.is_empty() {
            self.reasoning
                .entry(bedrock_tool_use_id(&call.call_id))
                .or_default()
                .extend(pending);
        }
        self.call_ids.insert(call.call_id.clone());
        self.calls.push(ToolCall {
            id: call.call_id.clone(),
            kind: "function".to_owned(),
            function: FunctionCall {
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            },
        });
    }

    fn push_output(
        &mut self,
        output: &FunctionCallOutputItem,
        param: &str,
    ) -> Result<(), TranslateError> {
        let call_id = output.call_id.as_deref().ok_or_else(|| {
            TranslateError::invalid(
                format!("{param}.call_id"),
                "function_call_output needs the call_id of the function_call it answers",
            )
        })?;
        if !self.call_ids.contains(call_id) {
            return Err(TranslateError::invalid(
                format!("{param}.call_id"),
                format!(
                    "function_call_output names call_id '{call_id}', which no earlier function_call has"
                ),
            ));
        }
        let content = user_content(&output.output, param)?;
        self.flush();
        self.messages.push(ChatMessage::Tool {
            content,
            tool_call_id: call_id.to_owned(),
            cache_control: None,
        });
        Ok(())
    }

    /// Ends the assistant turn being gathered (reasoning not followed by a call is dropped:
    /// Bedrock takes it back only before a tool use).
    fn flush(&mut self) {
        self.pending.clear();
        let text: Vec<String> = std::mem::take(&mut self.text)
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect();
        let calls = std::mem::take(&mut self.calls);
        if text.is_empty() && calls.is_empty() {
            return;
        }
        self.messages.push(ChatMessage::Assistant {
            content: (!text.is_empty()).then(|| chat::MessageContent::Text(text.join("\n"))),
            tool_calls: (!calls.is_empty()).then_some(calls),
            function_call: None,
            refusal: None,
            name: None,
            cache_control: None,
        });
    }
}

/// The text of an assistant message: its `output_text`, `refusal` and text parts.
fn assistant_text(content: &MessageContent) -> String {
    match content {
        MessageContent::Text(text) => text.clone(),
        MessageContent::Parts(parts) => parts
            .iter()
            .filter_map(|part| match part {
                ContentPart::InputText { text } | ContentPart::OutputText { text, .. } => {
                    Some(text.as_str())
                }
                ContentPart::Refusal { refusal } => Some(refusal.as_str()),
                _ => None,
            })
            .collect(),
    }
}

/// A reasoning item as Converse reasoning, if it is signed.
fn reasoning_block(item: &ReasoningItem) -> Option<ReasoningContentBlock> {
    let signature = item.encrypted_content.clone().filter(|s| !s.is_empty())?;
    let text = match &item.content {
        Some(content) if !content.is_empty() => content.iter().map(|c| c.text.as_str()).collect(),
        _ => item.summary.iter().map(|s| s.text.as_str()).collect(),
    };
    Some(ReasoningContentBlock {
        reasoning_text: Some(ReasoningText {
            text,
            signature: Some(signature),
        }),
        redacted_content: None,
    })
}

/// User (or system, or tool output) content as chat content.
fn user_content(
    content: &MessageContent,
    param: &str,
) -> Result<chat::MessageContent, TranslateError> {
    let parts = match content {
        MessageContent::Text(text) => return Ok(chat::MessageContent::Text(text.clone())),
        MessageContent::Parts(parts) => parts,
    };
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| chat_part(part, &format!("{param}.content[{i}]")))
        .collect::<Result<_, _>>()
        .map(chat::MessageContent::Parts)
}

fn chat_part(part: &ContentPart, param: &str) -> Result<chat::ContentPart, TranslateError> {
    let text = |text: &str| chat::ContentPart::Text {
        text: text.to_owned(),
        cache_control: None,
    };
    match part {
        ContentPart::InputText { text: t } | ContentPart::OutputText { text: t, .. } => Ok(text(t)),
        ContentPart::Refusal { refusal } => Ok(text(refusal)),
        ContentPart::InputImage {
            image_url: Some(url),
            detail,
            ..
        } => Ok(chat::ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: url.clone(),
                detail: detail.clone(),
            },
            cache_control: None,
        }),
        ContentPart::InputImage { .. } => Err(TranslateError::unsupported(
            param,
            "input_image needs an image_url (a data: URL): file_id is not supported",
        )),
        ContentPart::InputFile {
            file_data: Some(data),
            filename,
            ..
        } => Ok(chat::ContentPart::File {
            file: json!({ "file_data": data, "filename": filename }),
            cache_control: None,
        }),
        ContentPart::InputFile { .. } => Err(TranslateError::unsupported(
            param,
            "input_file needs file_data (a data: URL): file_id and file_url are not supported",
        )),
    }
}

/// The chat request the Responses request means.
fn chat_request(
    req: &CreateResponse,
    messages: Vec<ChatMessage>,
    defaults: Option<&ModelDefaults>,
) -> Result<ChatCompletionRequest, TranslateError> {
    let mut chat = ChatCompletionRequest {
        model: req.model.clone(),
        messages,
        max_completion_tokens: req.max_output_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        tools: tools(req.tools.as_deref())?,
        tool_choice: tool_choice(req.tool_choice.as_ref())?,
        parallel_tool_calls: req.parallel_tool_calls,
        response_format: response_format(req)?,
        reasoning_effort: req.reasoning.as_ref().and_then(|r| r.effort.clone()),
        ..ChatCompletionRequest::default()
    };
    if let Some(defaults) = defaults {
        defaults.apply(&mut chat);
    }
    Ok(chat)
}

/// Flat function tools as chat tools; any other kind is a 400 naming it.
fn tools(tools: Option<&[Value]>) -> Result<Option<Vec<Tool>>, TranslateError> {
    let Some(tools) = tools else {
        return Ok(None);
    };
    tools
        .iter()
        .enumerate()
        .map(|(i, tool)| {
            let param = format!("tools[{i}]");
            match tool.get("type").and_then(Value::as_str) {
                Some("function") => function_tool(tool, &param),
                Some(other) => Err(TranslateError::unsupported(
                    format!("{param}.type"),
                    format!("tools of type '{other}' are not supported: only function tools"),
                )),
                None => Err(TranslateError::invalid(
                    format!("{param}.type"),
                    "each tool needs a type",
                )),
            }
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

fn function_tool(tool: &Value, param: &str) -> Result<Tool, TranslateError> {
    let name = tool.get("name").and_then(Value::as_str).ok_or_else(|| {
        TranslateError::invalid(format!("{param}.name"), "a function tool needs a name")
    })?;
    Ok(Tool {
        kind: "function".to_owned(),
        function: FunctionDefinition {
            name: name.to_owned(),
            description: tool
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            parameters: tool.get("parameters").filter(|p| !p.is_null()).cloned(),
            strict: tool.get("strict").and_then(Value::as_bool),
        },
        cache_control: None,
    })
}

fn tool_choice(choice: Option<&Value>) -> Result<Option<chat::ToolChoice>, TranslateError> {
    let unsupported = |what: &str| {
        TranslateError::unsupported(
            "tool_choice",
            format!("tool_choice {what} is not supported: use none, auto, required or a function"),
        )
    };
    match choice {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(mode)) if matches!(mode.as_str(), "none" | "auto" | "required") => {
            Ok(Some(chat::ToolChoice::Mode(mode.clone())))
        }
        Some(Value::String(mode)) => Err(unsupported(&format!("'{mode}'"))),
        Some(choice) => match choice.get("type").and_then(Value::as_str) {
            Some("function") => {
                let name = choice.get("name").and_then(Value::as_str).ok_or_else(|| {
                    TranslateError::invalid(
                        "tool_choice.name",
                        "a function tool_choice needs a name",
                    )
                })?;
                Ok(Some(chat::ToolChoice::Named(NamedToolChoice {
                    kind: "function".to_owned(),
                    function: FunctionName {
                        name: name.to_owned(),
                    },
                })))
            }
            Some(other) => Err(unsupported(&format!("of type '{other}'"))),
            None => Err(unsupported("without a type")),
        },
    }
}

/// `text.format` as chat's `response_format`.
fn response_format(req: &CreateResponse) -> Result<Option<Value>, TranslateError> {
    let Some(format) = req.text.as_ref().and_then(|t| t.format.as_ref()) else {
        return Ok(None);
    };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            let mut spec = serde_json::Map::new();
            for key in ["name", "schema", "description", "strict"] {
                if let Some(value) = format.get(key).filter(|v| !v.is_null()) {
                    spec.insert(key.to_owned(), value.clone());
                }
            }
            Ok(Some(json!({"type": "json_schema", "json_schema": spec})))
        }
        Some(other) => Err(TranslateError::invalid(
            "text.format.type",
            format!("unknown text.format type '{other}': use text, json_object or json_schema"),
        )),
        None => Err(TranslateError::invalid(
            "text.format",
            "text.format needs a 'type'",
        )),
    }
}

/// Names the chat path's parameters as this request spells them.
fn rename_params(err: TranslateError) -> TranslateError {
    let fix = |text: String| {
        text.replace("response_format.json_schema", "text.format")
            .replace("response_format", "text.format")
            .replace("reasoning_effort", "reasoning.effort")
            .replace("max_completion_tokens", "max_output_tokens")
    };
    match err {
        TranslateError::Invalid { param, message } => TranslateError::Invalid {
            param: param.map(fix),
            message: fix(message),
        },
        TranslateError::Unsupported { param, message } => TranslateError::Unsupported {
            param: param.map(fix),
            message: fix(message),
        },
        other => other,
    }
}

/// Signed reasoning goes back at the start of the assistant turn holding the call it led to.
fn put_back_reasoning(converse: &mut ConverseRequest, reasoning: &ReasoningByCall) {
    if reasoning.is_empty() {
        return;
    }
    for message in converse
        .messages
        .iter_mut()
        .filter(|m| m.role == Role::Assistant)
    {
        let blocks: Vec<ContentBlock> = message
            .content
            .iter()
            .filter_map(|b| b.tool_use.as_ref())
            .filter_map(|t| reasoning.get(&t.tool_use_id))
            .flatten()
            .map(|r| ContentBlock {
                reasoning_content: Some(r.clone()),
                ..ContentBlock::default()
            })
            .collect();
        message.content.splice(0..0, blocks);
    }
}

/// The response as created: `in_progress`, no output, every echo field of the request.
fn template(req: &CreateResponse, identity: Identity) -> Response {
    Response {
        id: identity.id,
        object: "response".to_owned(),
        created_at: identity.created_at,
        status: "in_progress".to_owned(),
        model: req.model.clone().unwrap_or_default(),
        output: Vec::new(),
        usage: None,
        error: None,
        incomplete_details: None,
        instructions: req.instructions.clone(),
        metadata: req.metadata.clone().unwrap_or_default(),
        temperature: req.temperature,
        top_p: req.top_p,
        parallel_tool_calls: req.parallel_tool_calls.unwrap_or(true),
        tool_choice: req.tool_choice.clone().unwrap_or_else(|| json!("auto")),
        tools: req.tools.clone().unwrap_or_default(),
        text: req
            .text
            .as_ref()
            .filter(|t| t.format.is_some())
            .map(|t| serde_json::to_value(t).expect("text config serialises"))
            .unwrap_or_else(|| json!({"format": {"type": "text"}})),
        reasoning: req.reasoning.clone(),
        max_output_tokens: req.max_output_tokens,
        store: req.store.unwrap_or(true),
        previous_response_id: req.previous_response_id.clone(),
        truncation: "disabled".to_owned(),
        user: req.user.clone(),
        background: false,
    }
}
