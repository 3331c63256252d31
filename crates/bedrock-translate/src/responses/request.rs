//! A Responses request -> a Converse request, as a pure function.
//!
//! The request becomes the chat request it means (items merged into alternating turns, flat
//! function tools, `text.format` as `response_format`, `reasoning.effort` as
//! `reasoning_effort`), which goes through the chat path ([`chat_to_converse_with`]): images,
//! documents, tools, structured output (native or the `json_output` tool), thinking budgets
//! and prompt caching behave exactly as they do for chat. What chat has no words for is added
//! after: signed reasoning goes back at the start of the assistant turn it was part of (before
//! its text and tool calls, where Claude's extended thinking needs it).
//!
//! # Example
//!
//! ```
//! use bedrock_translate::model_id::ModelId;
//! use bedrock_translate::request::ConverseOptions;
//! use bedrock_translate::responses::request::{Identity, Inputs, responses_to_converse};
//!
//! let req = serde_json::from_str(r#"{"model":"m","instructions":"Be brief.","input":"Hi","max_output_tokens":20}"#).unwrap();
//! let model = ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
//! let inputs = Inputs { model: &model, previous: None, options: &ConverseOptions::default(), defaults: None };
//! let call = responses_to_converse(req, inputs, Identity::new()).unwrap();
//! assert_eq!(
//!     serde_json::to_value(&call.converse).unwrap(),
//!     serde_json::json!({
//!         "system": [{"text": "Be brief."}],
//!         "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
//!         "inferenceConfig": {"maxTokens": 20}
//!     })
//! );
//! assert_eq!(call.template.instructions.as_deref(), Some("Be brief."));
//! assert!(call.store);
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};

use openai_types::chat::{
    self, ChatCompletionRequest, ChatMessage, FunctionCall, FunctionDefinition, FunctionName,
    ImageUrl, NamedToolChoice, Tool, ToolCall,
};
use openai_types::responses::{
    CacheBreakpoint, ContentPart, CreateResponse, FunctionCallItem, FunctionCallOutputItem, Input,
    InputItem, InputMessage, MessageContent, ReasoningItem, Response,
};
use serde_json::{Value, json};

use super::PreviousResponse;
use super::params::{self, Origin};
use crate::converse::{ContentBlock, ConverseRequest, ReasoningContentBlock, ReasoningText, Role};
use crate::error::TranslateError;
use crate::layer::ModelDefaults;
use crate::model_id::ModelId;
use crate::request::{ConverseOptions, JSON_OUTPUT_TOOL, chat_to_converse_with};

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
    crate::response::random_id(prefix, 24)
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
    let turns = to_chat_messages(&req, &context, &own)?;
    let mut template = template(&req, identity);
    if template.model.is_empty() {
        // No model named: the default one, by its Bedrock id.
        template.model = inputs.model.to_string();
    }
    let chat = chat_request(&req, turns.messages, inputs.defaults)?;
    let wants_json = chat.response_format.is_some();
    let mut converse = chat_to_converse_with(chat, inputs.model, inputs.options)
        .map_err(|e| params::rename(e, &turns.origins))?;
    put_back_reasoning(&mut converse, &turns.reasoning);
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
    /// The full output (signatures kept); records written before it existed lack it.
    #[serde(default)]
    output: Option<Vec<InputItem>>,
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
    items.extend(record.output.unwrap_or(record.response.output));
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

/// Signed reasoning, by the ordinal of the assistant turn (among the Converse request's
/// assistant messages) it belongs to.
type ReasoningByTurn = HashMap<usize, Vec<ReasoningContentBlock>>;

/// Items (the previous response's `context`, then the request's `own`) -> chat messages;
/// assistant items in a row make one assistant message.
fn to_chat_messages(
    req: &CreateResponse,
    context: &[InputItem],
    own: &[InputItem],
) -> Result<Turns, TranslateError> {
    let mut turns = Turns::default();
    if let Some(instructions) = req.instructions.as_deref().filter(|i| !i.is_empty()) {
        turns.messages.push(ChatMessage::System {
            content: chat::MessageContent::Text(instructions.to_owned()),
            name: None,
            cache_control: None,
        });
        turns.origins.push(Origin::Instructions);
    }
    for item in context {
        turns.push(item, params::PREVIOUS)?;
    }
    for (i, item) in own.iter().enumerate() {
        turns.push(item, &format!("input[{i}]"))?;
    }
    turns.flush();
    Ok(turns)
}

/// Chat messages under construction.
#[derive(Debug, Default)]
struct Turns {
    messages: Vec<ChatMessage>,
    /// Where each message came from (to name error params).
    origins: Vec<Origin>,
    /// The assistant turn being gathered: text parts and tool calls, the param of its first
    /// item and of each call.
    text: Vec<String>,
    calls: Vec<ToolCall>,
    run_first: Option<String>,
    call_params: Vec<String>,
    /// The signed reasoning of the assistant turn being gathered.
    pending: Vec<ReasoningContentBlock>,
    reasoning: ReasoningByTurn,
    /// Assistant turns so far, and whether the last non-system message is one (the chat path
    /// merges two assistant messages with only system messages between them into one turn).
    assistant_turns: usize,
    last_is_assistant: bool,
    /// The call ids of the function calls seen so far.
    call_ids: HashSet<String>,
}

impl Turns {
    fn push(&mut self, item: &InputItem, param: &str) -> Result<(), TranslateError> {
        if item_is_assistant(item) {
            self.run_first.get_or_insert_with(|| param.to_owned());
        }
        match item {
            InputItem::Message(message) if message.role == "assistant" => {
                self.text.push(assistant_text(&message.content));
                Ok(())
            }
            InputItem::Message(message) => self.push_message(message, param),
            InputItem::FunctionCall(call) => {
                self.call_params.push(param.to_owned());
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
        self.last_is_assistant &= message.role != "user";
        self.origins.push(Origin::Message(param.to_owned()));
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
        self.last_is_assistant = false;
        self.origins.push(Origin::Output(param.to_owned()));
        self.messages.push(ChatMessage::Tool {
            content,
            tool_call_id: call_id.to_owned(),
            cache_control: None,
        });
        Ok(())
    }

    /// Ends the assistant turn being gathered. Its signed reasoning goes back at the turn's
    /// start; reasoning alone (no text, no call) makes no turn and is dropped: Bedrock needs
    /// a non-reasoning block in an assistant turn.
    fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        let text: Vec<String> = std::mem::take(&mut self.text)
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect();
        let calls = std::mem::take(&mut self.calls);
        let first = self.run_first.take();
        let call_params = std::mem::take(&mut self.call_params);
        if text.is_empty() && calls.is_empty() {
            return;
        }
        self.origins.push(Origin::Assistant {
            first: first.unwrap_or_else(|| "input".to_owned()),
            calls: call_params,
        });
        if !self.last_is_assistant {
            self.assistant_turns += 1;
        }
        self.last_is_assistant = true;
        if !pending.is_empty() {
            let turn = self.assistant_turns - 1;
            self.reasoning.entry(turn).or_default().extend(pending);
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

/// Whether the item is part of an assistant turn (assistant text, a call, reasoning).
fn item_is_assistant(item: &InputItem) -> bool {
    match item {
        InputItem::Message(message) => message.role == "assistant",
        InputItem::FunctionCall(_) | InputItem::Reasoning(_) => true,
        InputItem::FunctionCallOutput(_) | InputItem::ItemReference(_) => false,
    }
}

/// The text of an assistant message: its `output_text`, `refusal` and text parts.
fn assistant_text(content: &MessageContent) -> String {
    match content {
        MessageContent::Text(text) => text.clone(),
        MessageContent::Parts(parts) => parts
            .iter()
            .filter_map(|part| match part {
                ContentPart::InputText { text, .. } | ContentPart::OutputText { text, .. } => {
                    Some(text.as_str())
                }
                ContentPart::Refusal { refusal } => Some(refusal.as_str()),
                _ => None,
            })
            .collect(),
    }
}

/// A reasoning item as Converse reasoning, if it is signed: its text with the signature, or,
/// without text, `redactedContent` (a redacted block's data rides in `encrypted_content`).
fn reasoning_block(item: &ReasoningItem) -> Option<ReasoningContentBlock> {
    let signature = item.encrypted_content.clone().filter(|s| !s.is_empty())?;
    let text: String = match &item.content {
        Some(content) if !content.is_empty() => content.iter().map(|c| c.text.as_str()).collect(),
        _ => item.summary.iter().map(|s| s.text.as_str()).collect(),
    };
    if text.is_empty() {
        return Some(ReasoningContentBlock {
            reasoning_text: None,
            redacted_content: Some(signature),
        });
    }
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
    let text = |text: &str, cache_control| chat::ContentPart::Text {
        text: text.to_owned(),
        cache_control,
    };
    match part {
        ContentPart::InputText {
            text: t,
            prompt_cache_breakpoint,
        } => Ok(text(t, cache_control(prompt_cache_breakpoint.as_ref()))),
        ContentPart::OutputText { text: t, .. } => Ok(text(t, None)),
        ContentPart::Refusal { refusal } => Ok(text(refusal, None)),
        ContentPart::InputImage {
            image_url: Some(url),
            detail,
            prompt_cache_breakpoint,
            ..
        } => Ok(chat::ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: url.clone(),
                detail: detail.clone(),
            },
            cache_control: cache_control(prompt_cache_breakpoint.as_ref()),
        }),
        ContentPart::InputImage { .. } => Err(TranslateError::unsupported(
            param,
            "input_image needs an image_url (a data: URL): file_id is not supported",
        )),
        ContentPart::InputFile {
            file_data: Some(data),
            filename,
            citations,
            prompt_cache_breakpoint,
            ..
        } => Ok(chat::ContentPart::File {
            file: match citations {
                Some(citations) => {
                    json!({ "file_data": data, "filename": filename, "citations": citations })
                }
                None => json!({ "file_data": data, "filename": filename }),
            },
            cache_control: cache_control(prompt_cache_breakpoint.as_ref()),
        }),
        ContentPart::InputFile { .. } => Err(TranslateError::unsupported(
            param,
            "input_file needs file_data (a data: URL): file_id and file_url are not supported",
        )),
    }
}

/// A cache breakpoint as chat's cache marker: Bedrock's longest TTL (`1h`) for OpenAI's `30m`
/// and `12h`, its default (5 minutes) otherwise.
fn cache_control(breakpoint: Option<&CacheBreakpoint>) -> Option<chat::CacheControl> {
    breakpoint.map(|b| chat::CacheControl {
        kind: "ephemeral".to_owned(),
        ttl: b.ttl.as_ref().map(|_| "1h".to_owned()),
    })
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

/// Signed reasoning goes back at the start of the assistant turn it belongs to.
fn put_back_reasoning(converse: &mut ConverseRequest, reasoning: &ReasoningByTurn) {
    if reasoning.is_empty() {
        return;
    }
    let assistant_turns = converse
        .messages
        .iter_mut()
        .filter(|m| m.role == Role::Assistant);
    for (turn, message) in assistant_turns.enumerate() {
        let blocks: Vec<ContentBlock> = reasoning
            .get(&turn)
            .into_iter()
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

#[cfg(test)]
mod tests {
    use super::*;

    const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
    const HAIKU3: &str = "anthropic.claude-3-haiku-20240307-v1:0";

    fn translate_with(
        body: Value,
        model: &str,
        previous: Option<&PreviousResponse>,
    ) -> Result<ResponsesCall, TranslateError> {
        let model = ModelId::parse(model).unwrap();
        let inputs = Inputs {
            model: &model,
            previous,
            options: &ConverseOptions::default(),
            defaults: None,
        };
        let identity = Identity {
            id: "resp_1".to_owned(),
            created_at: 7,
        };
        responses_to_converse(serde_json::from_value(body).unwrap(), inputs, identity)
    }

    fn converse(body: Value, model: &str) -> Value {
        serde_json::to_value(translate_with(body, model, None).unwrap().converse).unwrap()
    }

    fn refused(body: Value) -> (Option<String>, String) {
        match translate_with(body, HAIKU3, None).unwrap_err() {
            TranslateError::Invalid { param, message }
            | TranslateError::Unsupported { param, message } => (param, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_notes_example_becomes_converse_with_reasoning_before_the_tool_use() {
        let body = json!({"model":"claude-sonnet-4-5","instructions":"Be brief.","store":false,
            "include":["reasoning.encrypted_content"],
            "input":[{"role":"user","content":[{"type":"input_text","text":"Weather in Paris?"}]},
                {"type":"reasoning","id":"rs_01","summary":[{"type":"summary_text","text":"Need tool."}],"encrypted_content":"<sig>"},
                {"type":"function_call","call_id":"tooluse_Ab12","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
                {"type":"function_call_output","call_id":"tooluse_Ab12","output":"18C"}],
            "tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":false}],
            "tool_choice":"auto","reasoning":{"effort":"medium"},"max_output_tokens":1024});
        assert_eq!(
            converse(body, SONNET),
            json!({
                "system": [{"text": "Be brief."}],
                "messages": [
                    {"role": "user", "content": [{"text": "Weather in Paris?"}]},
                    {"role": "assistant", "content": [
                        {"reasoningContent": {"reasoningText": {"text": "Need tool.", "signature": "<sig>"}}},
                        {"toolUse": {"toolUseId": "tooluse_Ab12", "name": "get_weather", "input": {"city": "Paris"}}}]},
                    {"role": "user", "content": [{"toolResult": {"toolUseId": "tooluse_Ab12", "content": [{"text": "18C"}]}}]}
                ],
                "inferenceConfig": {"maxTokens": 1024},
                "toolConfig": {
                    "tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type":"object","properties":{"city":{"type":"string"}}}}}}],
                    "toolChoice": {"auto": {}}
                },
                "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 4096}}
            })
        );
    }

    #[test]
    fn a_string_input_is_one_user_turn_and_sampling_fields_pass_through() {
        let body = json!({"input": "Hello", "temperature": 0.5, "top_p": 0.9, "max_output_tokens": 20,
            "metadata": {"k": "v"}, "user": "u1", "truncation": "disabled", "parallel_tool_calls": false});
        let call = translate_with(body, HAIKU3, None).unwrap();
        assert_eq!(
            serde_json::to_value(&call.converse).unwrap(),
            json!({"messages": [{"role": "user", "content": [{"text": "Hello"}]}],
                "inferenceConfig": {"maxTokens": 20, "temperature": 0.5, "topP": 0.9}})
        );
        let template = serde_json::to_value(&call.template).unwrap();
        assert_eq!(template["metadata"], json!({"k": "v"}));
        assert_eq!(template["user"], "u1");
        assert_eq!(template["parallel_tool_calls"], false);
        assert_eq!(template["status"], "in_progress");
        assert_eq!(template["text"], json!({"format": {"type": "text"}}));
        assert!(call.store && !call.stream);
        assert_eq!(call.input_items.len(), 1);
        assert!(
            call.input_items[0]["id"]
                .as_str()
                .unwrap()
                .starts_with("msg_")
        );
    }

    #[test]
    fn assistant_items_in_a_row_merge_and_unsigned_reasoning_is_dropped() {
        let body = json!({"input": [
            {"role": "developer", "content": "Rules."},
            {"role": "user", "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "hmm"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Calling.", "annotations": []}]},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": ""},
            {"type": "function_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "done"}]},
            {"role": "user", "content": "next"}],
            "tools": [{"type": "function", "name": "f"}]});
        assert_eq!(
            converse(body, HAIKU3)["messages"],
            json!([
                {"role": "user", "content": [{"text": "a"}, {"text": "b"}]},
                {"role": "assistant", "content": [{"text": "Calling."},
                    {"toolUse": {"toolUseId": "c1", "name": "f", "input": {}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "c1", "content": [{"text": "done"}]}}, {"text": "next"}]}
            ])
        );
    }

    #[test]
    fn json_schema_goes_native_or_through_the_json_output_tool_like_chat() {
        let format = json!({"type": "json_schema", "name": "Answer",
            "schema": {"type": "object", "properties": {"a": {"type": "string"}}}, "strict": true});
        let body = json!({"input": "x", "text": {"format": format}});
        assert_eq!(
            converse(body.clone(), SONNET)["outputConfig"],
            json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {
                "schema": "{\"properties\":{\"a\":{\"type\":\"string\"}},\"type\":\"object\"}", "name": "Answer"}}}})
        );
        let call = translate_with(body, HAIKU3, None).unwrap();
        assert!(call.answer.json_output_tool);
        let tools = serde_json::to_value(&call.converse.tool_config).unwrap();
        assert_eq!(tools["tools"][0]["toolSpec"]["name"], JSON_OUTPUT_TOOL);
        assert_eq!(
            tools["toolChoice"],
            json!({"tool": {"name": JSON_OUTPUT_TOOL}})
        );
        let template = serde_json::to_value(&call.template).unwrap();
        assert_eq!(template["text"]["format"]["name"], "Answer");
    }

    #[test]
    fn tool_choice_modes_and_named_functions_map_like_chat() {
        let tools = json!([{"type": "function", "name": "f", "parameters": {"type": "object"}}]);
        let choice = |c: Value| {
            converse(
                json!({"input": "x", "tools": tools, "tool_choice": c}),
                HAIKU3,
            )
            .pointer("/toolConfig/toolChoice")
            .cloned()
        };
        assert_eq!(choice(json!("required")), Some(json!({"any": {}})));
        assert_eq!(
            choice(json!({"type": "function", "name": "f"})),
            Some(json!({"tool": {"name": "f"}}))
        );
        assert_eq!(choice(json!("none")), None);
    }

    #[test]
    fn what_bedrock_or_a_storeless_gateway_cannot_do_is_a_400_naming_it() {
        let cases = [
            (
                json!({"input": "x", "tools": [{"type": "web_search_preview"}]}),
                "tools[0].type",
                "web_search_preview",
            ),
            (
                json!({"input": "x", "tools": [{"type": "file_search", "vector_store_ids": []}]}),
                "tools[0].type",
                "file_search",
            ),
            (
                json!({"input": "x", "background": true}),
                "background",
                "background",
            ),
            (
                json!({"input": "x", "conversation": "conv_1"}),
                "conversation",
                "conversation",
            ),
            (
                json!({"input": "x", "truncation": "auto"}),
                "truncation",
                "auto",
            ),
            (
                json!({"input": "x", "previous_response_id": "resp_0"}),
                "previous_response_id",
                "response store",
            ),
            (
                json!({"input": [{"type": "item_reference", "id": "msg_0"}]}),
                "input[0].id",
                "msg_0",
            ),
            (
                json!({"input": [{"type": "function_call_output", "call_id": "nope", "output": "1"}]}),
                "input[0].call_id",
                "nope",
            ),
            (
                json!({"input": [{"type": "function_call_output", "output": "1"}]}),
                "input[0].call_id",
                "call_id",
            ),
            (
                json!({"input": "x", "temperature": 1.5}),
                "temperature",
                "1.5",
            ),
            (
                json!({"input": "x", "tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": []}}),
                "tool_choice",
                "allowed_tools",
            ),
            (
                json!({"input": "x", "reasoning": {"effort": "high"}}),
                "reasoning.effort",
                "reasoning.effort",
            ),
            (
                json!({"input": "x", "text": {"format": {"type": "yaml"}}}),
                "text.format.type",
                "yaml",
            ),
        ];
        for (body, param, needle) in cases {
            let (got, message) = refused(body.clone());
            assert_eq!(got.as_deref(), Some(param), "{body}: {message}");
            assert!(message.contains(needle), "{body}: {message}");
        }
        let metadata: BTreeMap<String, String> =
            (0..17).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(
            refused(json!({"input": "x", "metadata": metadata}))
                .0
                .as_deref(),
            Some("metadata")
        );
        let long = json!({"input": "x", "metadata": {"k": "v".repeat(513)}});
        assert!(refused(long).1.contains("512"));
        let long_key = json!({"input": "x", "metadata": {"k".repeat(65): "v"}});
        assert!(refused(long_key).1.contains("64"));
    }

    #[test]
    fn a_previous_response_comes_before_the_input_without_its_instructions() {
        let record = json!({
            "response": {"id": "resp_0", "instructions": "Old rules.", "output": [
                {"id": "fc_0", "type": "function_call", "status": "completed", "call_id": "t1", "name": "f", "arguments": "{\"a\":1}"}]},
            "input_items": [{"id": "msg_0", "type": "message", "role": "user", "content": "first"}],
            "context": [{"id": "msg_0", "type": "message", "role": "user", "content": "first"}]
        });
        let previous = PreviousResponse(record.to_string().into());
        let body = json!({"previous_response_id": "resp_0", "instructions": "New rules.",
            "tools": [{"type": "function", "name": "f"}],
            "input": [{"type": "function_call_output", "call_id": "t1", "output": "2"},
                {"type": "item_reference", "id": "msg_0"}]});
        let call = translate_with(body, HAIKU3, Some(&previous)).unwrap();
        assert_eq!(
            serde_json::to_value(&call.converse).unwrap()["messages"],
            json!([
                {"role": "user", "content": [{"text": "first"}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {"a": 1}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "2"}]}}, {"text": "first"}]}
            ])
        );
        assert_eq!(call.converse.system.len(), 1);
        assert_eq!(call.converse.system[0].text.as_deref(), Some("New rules."));
        assert_eq!(call.context.len(), 2);
        assert_eq!(call.context[1]["id"], "fc_0");
        assert_eq!(call.input_items[1]["id"], "msg_0");
        assert!(
            call.input_items[0]["id"]
                .as_str()
                .unwrap()
                .starts_with("fco_")
        );
        assert_eq!(
            call.template.previous_response_id.as_deref(),
            Some("resp_0")
        );
    }

    #[test]
    fn a_continuation_sends_back_the_records_full_output_with_its_signatures() {
        let call = json!({"id": "fc_0", "type": "function_call", "status": "completed",
            "call_id": "t1", "name": "f", "arguments": "{}"});
        let shown = json!({"id": "rs_0", "type": "reasoning", "status": "completed",
            "summary": [{"type": "summary_text", "text": "Need f."}]});
        let mut signed = shown.clone();
        signed["encrypted_content"] = json!("sig");
        let user = json!({"id": "msg_0", "type": "message", "role": "user", "content": "go"});
        let body = json!({"previous_response_id": "resp_0", "tools": [{"type": "function", "name": "f"}],
            "input": [{"type": "function_call_output", "call_id": "t1", "output": "ok"}]});
        let assistant = |record: Value| {
            let previous = PreviousResponse(record.to_string().into());
            let call = translate_with(body.clone(), SONNET, Some(&previous)).unwrap();
            serde_json::to_value(&call.converse).unwrap()["messages"][1].clone()
        };
        let old = json!({"response": {"output": [shown.clone(), call.clone()]}, "context": [user.clone()]});
        let new = json!({"response": {"output": [shown, call.clone()]}, "output": [signed, call],
            "context": [user]});
        let tool_use = json!({"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}});
        // A record without `output` (older, or nothing signed): unsigned reasoning is dropped.
        assert_eq!(
            assistant(old),
            json!({"role": "assistant", "content": [tool_use.clone()]})
        );
        assert_eq!(
            assistant(new),
            json!({"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "Need f.", "signature": "sig"}}}, tool_use]})
        );
    }

    #[test]
    fn signed_reasoning_goes_back_at_the_start_of_its_assistant_turn_even_without_a_call() {
        let rs = |id: &str, text: &str, sig: &str| {
            json!({"type": "reasoning", "id": id,
            "summary": if text.is_empty() { json!([]) } else { json!([{"type": "summary_text", "text": text}]) },
            "encrypted_content": sig})
        };
        let said = |text: &str| {
            json!({"type": "message", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]})
        };
        let body = json!({"input": [
            {"role": "user", "content": "q1"},
            rs("rs_1", "Plan.", "sig1"), rs("rs_2", "", "AQI="), said("a1"),
            {"role": "developer", "content": "Mid rules."},
            rs("rs_3", "More.", "sig3"), said("a2"),
            {"role": "user", "content": "q2"},
            rs("rs_4", "Only thought.", "sig4"),
            {"role": "user", "content": "q3"},
            rs("rs_5", "Then text.", "sig5"), said("a3"),
            {"role": "user", "content": "q4"}]});
        let reasoning = |text: &str, sig: &str| json!({"reasoningContent": {"reasoningText": {"text": text, "signature": sig}}});
        assert_eq!(
            converse(body, SONNET)["messages"],
            json!([
                {"role": "user", "content": [{"text": "q1"}]},
                // The developer message goes to `system`: both assistant runs are one turn.
                {"role": "assistant", "content": [reasoning("Plan.", "sig1"),
                    {"reasoningContent": {"redactedContent": "AQI="}}, reasoning("More.", "sig3"),
                    {"text": "a1"}, {"text": "a2"}]},
                // Reasoning alone makes no assistant turn: dropped.
                {"role": "user", "content": [{"text": "q2"}, {"text": "q3"}]},
                {"role": "assistant", "content": [reasoning("Then text.", "sig5"), {"text": "a3"}]},
                {"role": "user", "content": [{"text": "q4"}]}
            ])
        );
    }

    #[test]
    fn chat_path_errors_name_the_responses_fields() {
        let image = |url: &str| json!({"type": "input_image", "image_url": url});
        let pdf = json!({"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERg=="});
        let call = |id: &str, arguments: &str| json!({"type": "function_call", "call_id": id, "name": "f", "arguments": arguments});
        let tools = json!([{"type": "function", "name": "f"}]);
        let cases = [
            (
                json!({"instructions": "Rules.", "input": [{"role": "user", "content": "hi"},
                    {"role": "user", "content": [{"type": "input_text", "text": "see"}, image("https://example.com/a.png")]}]}),
                "input[1].content[1].image_url",
            ),
            (
                json!({"input": [{"role": "user", "content": [pdf]}]}),
                "input",
            ),
            (
                json!({"instructions": "Rules.", "tools": tools, "input": [{"role": "user", "content": "go"},
                    call("c1", "{}"), call("c2", "{not json"),
                    {"type": "function_call_output", "call_id": "c1", "output": "1"}]}),
                "input[2].arguments",
            ),
            (
                json!({"tools": tools, "input": [{"role": "user", "content": "go"}, call("c1", "{}"),
                    {"type": "function_call_output", "call_id": "c1", "output": [image("data:image/tiff;base64,AAAA")]}]}),
                "input[2].output[0]",
            ),
            (
                json!({"tools": [{"type": "function", "name": "bad name!"}], "input": "x"}),
                "tools[0].name",
            ),
        ];
        for (body, param) in cases {
            let (got, message) = refused(body.clone());
            assert_eq!(got.as_deref(), Some(param), "{body}: {message}");
            assert!(!message.contains("messages["), "{message}");
        }
    }

    #[test]
    fn an_input_files_citations_reach_the_document() {
        let file = |citations: Value| {
            json!({"type": "input_file", "filename": "atlas.txt",
            "file_data": "data:text/plain;base64,UGFyaXM=", "citations": citations})
        };
        let body = |citations: Value| {
            json!({"input": [{"role": "user", "content": [
            {"type": "input_text", "text": "Where?"}, file(citations)]}]})
        };
        let call = translate_with(body(json!({"enabled": true})), HAIKU3, None).unwrap();
        let converse = serde_json::to_value(&call.converse).unwrap();
        assert_eq!(
            converse["messages"][0]["content"][1]["document"]["citations"],
            json!({"enabled": true})
        );
        let (param, message) = refused(body(json!({"enabled": "yes"})));
        assert_eq!(
            param.as_deref(),
            Some("input[0].content[1].citations.enabled"),
            "{message}"
        );
    }

    #[test]
    fn errors_in_the_own_input_count_from_its_start_after_a_previous_response() {
        let record = json!({"response": {"output": [{"id": "msg_p", "type": "message", "role": "assistant",
            "status": "completed", "content": [{"type": "output_text", "text": "before", "annotations": []}]}]},
            "context": [{"id": "msg_0", "type": "message", "role": "user", "content": "first"}]});
        let previous = PreviousResponse(record.to_string().into());
        let body = json!({"previous_response_id": "resp_0", "input": [{"role": "user", "content": "ok"},
            {"role": "user", "content": [{"type": "input_image", "image_url": "https://example.com/a.png"}]}]});
        match translate_with(body, HAIKU3, Some(&previous)).unwrap_err() {
            TranslateError::Invalid { param, .. } | TranslateError::Unsupported { param, .. } => {
                assert_eq!(param.as_deref(), Some("input[1].content[0].image_url"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_prompt_cache_breakpoint_is_a_cache_point_after_its_block() {
        let body = json!({"input": [{"role": "user", "content": [
            {"type": "input_text", "text": "long context", "prompt_cache_breakpoint": {"mode": "explicit", "ttl": "12h"}},
            {"type": "input_text", "text": "question", "prompt_cache_breakpoint": {"mode": "explicit"}}]}]});
        assert_eq!(
            converse(body, SONNET)["messages"][0]["content"],
            json!([{"text": "long context"}, {"cachePoint": {"type": "default", "ttl": "1h"}},
                {"text": "question"}, {"cachePoint": {"type": "default"}}])
        );
    }
}
