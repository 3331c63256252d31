//! Property tests. The strategies generate *valid* inputs (chat requests that must translate,
//! ConverseStream event sequences as Bedrock sends them, model ids and regions of the accepted
//! shapes), so each property exercises the translation itself rather than the error path; the
//! parsers are also fed garbage, where the property is that they do not panic and accept exactly
//! what their rules say.

use std::collections::{HashMap, HashSet};

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use base64::Engine as _;
use bedrock_translate::converse::{ConverseRequest, Role};
use bedrock_translate::endpoint::{BedrockEndpoint, Region};
use bedrock_translate::eventstream::{EventStreamDecoder, RawEvent};
use bedrock_translate::model_id::{ModelId, Operation};
use bedrock_translate::request::{
    JSON_OUTPUT_TOOL, bedrock_tool_use_id, chat_to_converse, is_bedrock_tool_use_id,
};
use bedrock_translate::response::ResponseContext;
use bedrock_translate::stream::{ChunkTranslator, StreamOptions};
use openai_types::chat::{ChatCompletionChunk, ChatCompletionRequest, UsageField};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

fn frame(event_type: &str, payload: &[u8]) -> Vec<u8> {
    let message = Message::new(payload.to_vec())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ))
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut out = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut out).unwrap();
    out
}

/// Splits `bytes` into pieces whose sizes cycle through `cuts`.
fn pieces<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut sizes = cuts.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap()).clamp(1, rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Strategies: chat completion requests that must translate.
// ---------------------------------------------------------------------------------------------

/// A model of the generated request, with what its rules depend on.
#[derive(Debug, Clone, Copy)]
struct GenModel {
    id: &'static str,
    system_prompt: bool,
    reasoning: bool,
    native_json: bool,
}

const MODELS: [GenModel; 5] = [
    GenModel {
        id: "anthropic.claude-3-haiku-20240307-v1:0",
        system_prompt: true,
        reasoning: false,
        native_json: false,
    },
    GenModel {
        id: "amazon.titan-text-premier-v1:0",
        system_prompt: false,
        reasoning: false,
        native_json: false,
    },
    GenModel {
        id: "mistral.mistral-7b-instruct-v0:2",
        system_prompt: false,
        reasoning: false,
        native_json: false,
    },
    GenModel {
        id: "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        system_prompt: true,
        reasoning: true,
        native_json: false,
    },
    GenModel {
        id: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        system_prompt: true,
        reasoning: true,
        native_json: true,
    },
];

/// One tool call of an assistant turn, answered by a `tool` message.
#[derive(Debug, Clone)]
struct GenCall {
    id: String,
    name: String,
    arguments: Value,
    result: String,
    result_as_parts: bool,
}

/// One message of the generated conversation (an assistant turn brings its tool messages).
#[derive(Debug, Clone)]
enum Turn {
    System {
        developer: bool,
        text: String,
    },
    User {
        text: String,
        image: Option<Vec<u8>>,
        as_parts: bool,
    },
    Assistant {
        text: Option<String>,
        refusal: Option<String>,
        calls: Vec<GenCall>,
        results_reversed: bool,
    },
}

/// `tool_choice` or the legacy `function_call`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GenChoice {
    Absent,
    Auto,
    Required,
    None,
    LegacyNone,
    Named(usize),
}

/// `response_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GenFormat {
    Absent,
    Text,
    JsonObject,
    JsonSchema,
}

#[derive(Debug, Clone)]
struct GenTool {
    name: String,
    description: Option<String>,
    parameters: bool,
}

#[derive(Debug, Clone)]
struct GenParams {
    max_tokens: Option<u32>,
    completion_field: bool,
    temperature: Option<f64>,
    top_p: Option<f64>,
    stop: Vec<String>,
    effort: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct GenRequest {
    model: GenModel,
    turns: Vec<Turn>,
    tools: Vec<GenTool>,
    choice: GenChoice,
    format: GenFormat,
    params: GenParams,
}

impl GenRequest {
    fn calls(&self) -> impl Iterator<Item = &GenCall> {
        self.turns.iter().flat_map(|t| match t {
            Turn::Assistant { calls, .. } => calls.as_slice(),
            _ => &[],
        })
    }

    fn is_none_choice(&self) -> bool {
        matches!(self.choice, GenChoice::None | GenChoice::LegacyNone)
    }

    fn json_output(&self) -> bool {
        matches!(self.format, GenFormat::JsonObject | GenFormat::JsonSchema)
    }

    /// JSON output through the forced tool, which overrides any tool choice.
    fn forced_json_tool(&self) -> bool {
        self.json_output() && !self.model.native_json
    }
}

/// Non-blank text: ASCII or any printable Unicode, starting with a non-space character.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9][ -~]{0,24}",
        "[\\p{L}\\p{N}][\\PC]{0,16}",
        "[a-z]{1,8}\n[ -~]{1,12}",
    ]
}

/// Client tool call ids: OpenAI-like, near-collisions after sanitising, and anything at all.
fn call_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "call_[a-zA-Z0-9]{1,24}",
        "call[ _.:/]?[0-9]",
        "[a-zA-Z0-9_-]{60,70}",
        "\\PC{0,70}",
    ]
}

/// Two ids that plain sanitising would map to the same Bedrock id: one character swapped for
/// another that Bedrock does not accept either, or a common 64-character prefix.
fn near_collision() -> impl Strategy<Value = (String, String)> {
    let swap = (
        "[a-zA-Z0-9 ._:é-]{1,40}",
        any::<prop::sample::Index>(),
        prop::sample::select(vec!['_', ' ', '.', ':', '/', 'é', '\u{1F600}']),
    )
        .prop_map(|(a, at, c)| {
            let mut chars: Vec<char> = a.chars().collect();
            let i = at.index(chars.len());
            chars[i] = c;
            (a, chars.into_iter().collect())
        });
    let long = (
        "[a-zA-Z0-9_-]{64}",
        "[a-zA-Z0-9_-]{1,8}",
        "[a-zA-Z0-9_-]{1,8}",
    )
        .prop_map(|(head, x, y)| (format!("{head}{x}"), format!("{head}{y}")));
    prop_oneof![swap, long]
}

fn tool_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("get_weather".to_owned()),
        Just("lookup".to_owned()),
        "[a-zA-Z0-9_-]{1,64}",
    ]
}

/// A small JSON object: tool arguments.
fn json_object() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        Just(Value::Null),
    ];
    let value = leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::hash_map("[a-z]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::hash_map("[a-z_]{1,8}", value, 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn gen_call() -> impl Strategy<Value = GenCall> {
    (
        call_id(),
        tool_name(),
        json_object(),
        prop_oneof![Just(String::new()), text()],
        any::<bool>(),
    )
        .prop_map(|(id, name, arguments, result, result_as_parts)| GenCall {
            id,
            name,
            arguments,
            result,
            result_as_parts,
        })
}

fn user_turn() -> impl Strategy<Value = Turn> {
    (
        text(),
        prop::option::weighted(0.2, prop::collection::vec(any::<u8>(), 1..48)),
        any::<bool>(),
    )
        .prop_map(|(text, image, as_parts)| Turn::User {
            text,
            as_parts: as_parts || image.is_some(),
            image,
        })
}

fn assistant_turn() -> impl Strategy<Value = Turn> {
    (
        prop::option::of(text()),
        prop::option::weighted(0.1, text()),
        prop::collection::vec(gen_call(), 0..4),
        any::<bool>(),
    )
        .prop_map(|(text, refusal, calls, results_reversed)| {
            // An assistant turn says something or calls something.
            let text = match (&text, &refusal, calls.is_empty()) {
                (None, None, true) => Some("OK".to_owned()),
                _ => text,
            };
            Turn::Assistant {
                text,
                refusal,
                calls,
                results_reversed,
            }
        })
}

fn system_turn() -> impl Strategy<Value = Turn> {
    (any::<bool>(), text()).prop_map(|(developer, text)| Turn::System { developer, text })
}

/// Optional system messages, a first user turn, then any mix of turns.
fn turns() -> impl Strategy<Value = Vec<Turn>> {
    (
        prop::collection::vec(system_turn(), 0..3),
        user_turn(),
        prop::collection::vec(
            prop_oneof![4 => user_turn(), 4 => assistant_turn(), 1 => system_turn()],
            0..8,
        ),
    )
        .prop_map(|(mut all, first, rest)| {
            all.push(first);
            all.extend(rest);
            dedupe_call_ids(&mut all);
            all
        })
}

/// Client ids are unique within a request (a reused id would be one call).
fn dedupe_call_ids(turns: &mut [Turn]) {
    let mut seen = HashSet::new();
    for turn in turns {
        if let Turn::Assistant { calls, .. } = turn {
            for call in calls {
                while !seen.insert(call.id.clone()) {
                    call.id.push('+');
                }
            }
        }
    }
}

fn tools() -> impl Strategy<Value = Vec<GenTool>> {
    prop::collection::vec(
        (tool_name(), prop::option::of(text()), any::<bool>()).prop_map(
            |(name, description, parameters)| GenTool {
                name,
                description,
                parameters,
            },
        ),
        0..4,
    )
    .prop_map(|mut tools| {
        let mut seen = HashSet::new();
        tools.retain(|t| seen.insert(t.name.clone()));
        tools
    })
}

fn params() -> impl Strategy<Value = GenParams> {
    (
        prop::option::of(1u32..8192),
        any::<bool>(),
        // Hundredths: exact through JSON.
        prop::option::of((0u32..=100).prop_map(|k| f64::from(k) / 100.0)),
        prop::option::of((0u32..=100).prop_map(|k| f64::from(k) / 100.0)),
        prop::collection::vec(text(), 0..3),
        prop::option::of(prop::sample::select(vec!["low", "medium", "high"])),
    )
        .prop_map(
            |(max_tokens, completion_field, temperature, top_p, stop, effort)| GenParams {
                max_tokens,
                completion_field,
                temperature,
                top_p,
                stop,
                effort,
            },
        )
}

prop_compose! {
    fn gen_request()(
        model in prop::sample::select(MODELS.to_vec()),
        turns in turns(),
        tools in tools(),
        choice in prop_oneof![
            Just(GenChoice::Absent), Just(GenChoice::Auto), Just(GenChoice::Required),
            Just(GenChoice::None), Just(GenChoice::LegacyNone), (0usize..4).prop_map(GenChoice::Named),
        ],
        format in prop_oneof![
            3 => Just(GenFormat::Absent), 1 => Just(GenFormat::Text),
            1 => Just(GenFormat::JsonObject), 1 => Just(GenFormat::JsonSchema),
        ],
        mut params in params(),
    ) -> GenRequest {
        // What a valid request cannot combine: JSON output with tools, a named choice without
        // tools, a thinking budget on a model without extended thinking.
        let format = if tools.is_empty() { format } else { GenFormat::Absent };
        let choice = match choice {
            GenChoice::Named(_) if tools.is_empty() => GenChoice::Absent,
            GenChoice::Named(i) => GenChoice::Named(i % tools.len()),
            other => other,
        };
        params.effort = params.effort.filter(|_| model.reasoning);
        GenRequest { model, turns, tools, choice, format, params }
    }
}

fn data_url(bytes: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn turn_json(turn: &Turn, out: &mut Vec<Value>) {
    match turn {
        Turn::System { developer, text } => {
            let role = if *developer { "developer" } else { "system" };
            out.push(json!({"role": role, "content": text}));
        }
        Turn::User {
            text,
            image,
            as_parts,
        } => {
            let content = if *as_parts {
                let mut parts = vec![json!({"type": "text", "text": text})];
                if let Some(image) = image {
                    parts.push(json!({"type": "image_url", "image_url": {"url": data_url(image)}}));
                }
                json!(parts)
            } else {
                json!(text)
            };
            out.push(json!({"role": "user", "content": content}));
        }
        Turn::Assistant {
            text,
            refusal,
            calls,
            results_reversed,
        } => assistant_json(text, refusal, calls, *results_reversed, out),
    }
}

fn assistant_json(
    text: &Option<String>,
    refusal: &Option<String>,
    calls: &[GenCall],
    results_reversed: bool,
    out: &mut Vec<Value>,
) {
    let mut message = json!({"role": "assistant", "content": text});
    if let Some(refusal) = refusal {
        message["refusal"] = json!(refusal);
    }
    if !calls.is_empty() {
        let calls: Vec<Value> = calls
            .iter()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
            .collect();
        message["tool_calls"] = json!(calls);
    }
    out.push(message);
    let mut results: Vec<&GenCall> = calls.iter().collect();
    if results_reversed {
        results.reverse();
    }
    for call in results {
        let content = if call.result_as_parts {
            json!([{"type": "text", "text": call.result}])
        } else {
            json!(call.result)
        };
        out.push(json!({"role": "tool", "tool_call_id": call.id, "content": content}));
    }
}

/// The tool messages in the order they are sent.
fn tool_messages(request: &GenRequest) -> Vec<&GenCall> {
    let mut out = Vec::new();
    for turn in &request.turns {
        if let Turn::Assistant {
            calls,
            results_reversed,
            ..
        } = turn
        {
            let mut results: Vec<&GenCall> = calls.iter().collect();
            if *results_reversed {
                results.reverse();
            }
            out.extend(results);
        }
    }
    out
}

fn request_json(request: &GenRequest) -> Value {
    let mut messages = Vec::new();
    for turn in &request.turns {
        turn_json(turn, &mut messages);
    }
    let mut body = json!({"model": request.model.id, "messages": messages});
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request.tools.iter().map(tool_json).collect();
        body["tools"] = json!(tools);
    }
    match request.choice {
        GenChoice::Absent => {}
        GenChoice::Auto => body["tool_choice"] = json!("auto"),
        GenChoice::Required => body["tool_choice"] = json!("required"),
        GenChoice::None => body["tool_choice"] = json!("none"),
        GenChoice::LegacyNone => body["function_call"] = json!("none"),
        GenChoice::Named(i) => {
            body["tool_choice"] =
                json!({"type": "function", "function": {"name": request.tools[i].name}});
        }
    }
    match request.format {
        GenFormat::Absent => {}
        GenFormat::Text => body["response_format"] = json!({"type": "text"}),
        GenFormat::JsonObject => body["response_format"] = json!({"type": "json_object"}),
        GenFormat::JsonSchema => {
            body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "answer",
                "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}});
        }
    }
    params_json(&request.params, &mut body);
    body
}

fn tool_json(tool: &GenTool) -> Value {
    let mut function = json!({"name": tool.name});
    if let Some(description) = &tool.description {
        function["description"] = json!(description);
    }
    if tool.parameters {
        function["parameters"] = json!({"type": "object", "properties": {"q": {"type": "string"}}});
    }
    json!({"type": "function", "function": function})
}

fn params_json(params: &GenParams, body: &mut Value) {
    if let Some(max) = params.max_tokens {
        let field = if params.completion_field {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body[field] = json!(max);
    }
    if let Some(t) = params.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(p) = params.top_p {
        body["top_p"] = json!(p);
    }
    if !params.stop.is_empty() {
        body["stop"] = json!(params.stop);
    }
    if let Some(effort) = params.effort {
        body["reasoning_effort"] = json!(effort);
    }
}

// ---------------------------------------------------------------------------------------------
// What a translated request must satisfy.
// ---------------------------------------------------------------------------------------------

fn check_shape(converse: &ConverseRequest) -> Result<(), TestCaseError> {
    prop_assert_eq!(converse.messages[0].role, Role::User);
    for pair in converse.messages.windows(2) {
        prop_assert_ne!(pair[0].role, pair[1].role);
    }
    let json = serde_json::to_value(converse).unwrap();
    for message in json["messages"].as_array().unwrap() {
        let blocks = message["content"].as_array().unwrap();
        prop_assert!(!blocks.is_empty());
        for block in blocks {
            prop_assert_eq!(block.as_object().unwrap().len(), 1, "one member: {}", block);
            if let Some(text) = block.get("text") {
                prop_assert!(!text.as_str().unwrap().is_empty());
            }
        }
    }
    let back: ConverseRequest = serde_json::from_value(json).unwrap();
    prop_assert_eq!(&back, converse);
    Ok(())
}

fn texts(converse: &ConverseRequest, role: Role) -> Vec<&str> {
    converse
        .messages
        .iter()
        .filter(|m| m.role == role)
        .flat_map(|m| &m.content)
        .filter_map(|b| b.text.as_deref())
        .collect()
}

fn check_text_kept(request: &GenRequest, converse: &ConverseRequest) -> Result<(), TestCaseError> {
    let user = texts(converse, Role::User);
    let assistant = texts(converse, Role::Assistant);
    let system: Vec<&str> = request
        .turns
        .iter()
        .filter_map(|t| match t {
            Turn::System { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    for turn in &request.turns {
        match turn {
            Turn::User { text, .. } => prop_assert!(user.contains(&text.as_str()), "{:?}", text),
            Turn::Assistant { text, refusal, .. } => {
                for t in text.iter().chain(refusal) {
                    prop_assert!(assistant.contains(&t.as_str()), "{:?}", t);
                }
            }
            Turn::System { .. } => {}
        }
    }
    let sent: Vec<&str> = converse
        .system
        .iter()
        .filter_map(|b| b.text.as_deref())
        .collect();
    if request.model.system_prompt {
        prop_assert_eq!(sent, system);
    } else {
        prop_assert!(sent.is_empty());
        if !system.is_empty() {
            prop_assert_eq!(user[0], system.join("\n\n"));
        }
    }
    Ok(())
}

fn check_inference(request: &GenRequest, converse: &ConverseRequest) -> Result<(), TestCaseError> {
    let params = &request.params;
    let config = converse.inference_config.clone().unwrap_or_default();
    let budget = params.effort.map(|e| match e {
        "low" => 1024,
        "medium" => 4096,
        _ => 16_384,
    });
    let want_max = params.max_tokens.or(budget.map(|b| b + 4096));
    prop_assert_eq!(config.max_tokens, want_max);
    prop_assert_eq!(config.temperature, params.temperature);
    prop_assert_eq!(config.top_p, params.top_p);
    let stop = (!params.stop.is_empty()).then(|| params.stop.clone());
    prop_assert_eq!(config.stop_sequences, stop);
    let thinking = converse
        .additional_model_request_fields
        .as_ref()
        .and_then(|f| f.pointer("/thinking/budget_tokens"))
        .and_then(Value::as_u64);
    prop_assert_eq!(thinking, budget.map(u64::from));
    Ok(())
}

/// Ids: each distinct client id gets a distinct valid Bedrock id, kept when already valid,
/// and every result names the Bedrock id of its call.
fn check_tool_ids(request: &GenRequest, converse: &ConverseRequest) -> Result<(), TestCaseError> {
    let blocks: Vec<_> = converse.messages.iter().flat_map(|m| &m.content).collect();
    let uses: Vec<_> = blocks.iter().filter_map(|b| b.tool_use.as_ref()).collect();
    let results: Vec<_> = blocks
        .iter()
        .filter_map(|b| b.tool_result.as_ref())
        .collect();
    let calls: Vec<&GenCall> = request.calls().collect();
    prop_assert_eq!(uses.len(), calls.len());
    let mut mapped = HashMap::new();
    for (call, tool_use) in calls.iter().zip(&uses) {
        let id = &tool_use.tool_use_id;
        prop_assert!(is_bedrock_tool_use_id(id), "{:?}", id);
        if is_bedrock_tool_use_id(&call.id) {
            prop_assert_eq!(id, &call.id);
        }
        prop_assert_eq!(&tool_use.name, &call.name);
        prop_assert_eq!(&tool_use.input, &call.arguments);
        prop_assert!(mapped.insert(call.id.as_str(), id.as_str()).is_none());
    }
    let distinct: HashSet<&str> = mapped.values().copied().collect();
    prop_assert_eq!(distinct.len(), mapped.len(), "ids collide: {:?}", mapped);
    let answered = tool_messages(request);
    prop_assert_eq!(results.len(), answered.len());
    for (call, result) in answered.iter().zip(&results) {
        prop_assert_eq!(result.tool_use_id.as_str(), mapped[call.id.as_str()]);
        let text = result.content[0].text.as_deref().unwrap();
        let want = if call.result.is_empty() {
            "(no output)"
        } else {
            &call.result
        };
        prop_assert_eq!(text, want);
    }
    Ok(())
}

/// `none`: no tool declared, no tool block, every call and result rendered as text.
fn check_none(request: &GenRequest, converse: &ConverseRequest) -> Result<(), TestCaseError> {
    prop_assert!(converse.tool_config.is_none());
    let blocks: Vec<_> = converse.messages.iter().flat_map(|m| &m.content).collect();
    prop_assert!(
        blocks
            .iter()
            .all(|b| b.tool_use.is_none() && b.tool_result.is_none())
    );
    let count = |prefix: &str| {
        blocks
            .iter()
            .filter_map(|b| b.text.as_deref())
            .filter(|t| t.starts_with(prefix))
            .count()
    };
    let calls = request.calls().count();
    prop_assert_eq!(count("[tool call "), calls);
    prop_assert_eq!(count("[tool result for "), calls);
    Ok(())
}

fn check_tool_config(
    request: &GenRequest,
    converse: &ConverseRequest,
) -> Result<(), TestCaseError> {
    let has_tool_blocks = converse
        .messages
        .iter()
        .flat_map(|m| &m.content)
        .any(|b| b.tool_use.is_some() || b.tool_result.is_some());
    let forced = request.forced_json_tool();
    let Some(config) = &converse.tool_config else {
        prop_assert!(!has_tool_blocks && request.tools.is_empty() && !forced);
        return Ok(());
    };
    let names: Vec<&str> = config
        .tools
        .iter()
        .map(|t| t.tool_spec.name.as_str())
        .collect();
    prop_assert!(!names.is_empty());
    prop_assert_eq!(names.iter().collect::<HashSet<_>>().len(), names.len());
    for call in request.calls() {
        prop_assert!(names.contains(&call.name.as_str()));
    }
    let choice = serde_json::to_value(&config.tool_choice).unwrap();
    let want = match request.choice {
        _ if forced => json!({"tool": {"name": JSON_OUTPUT_TOOL}}),
        GenChoice::Auto => json!({"auto": {}}),
        GenChoice::Required => json!({"any": {}}),
        GenChoice::Named(i) => json!({"tool": {"name": request.tools[i].name}}),
        _ => Value::Null,
    };
    prop_assert_eq!(choice, want);
    if forced {
        prop_assert_eq!(names[0], JSON_OUTPUT_TOOL);
    } else {
        let declared: Vec<&str> = request.tools.iter().map(|t| t.name.as_str()).collect();
        prop_assert_eq!(&names[..declared.len()], &declared[..]);
    }
    Ok(())
}

fn check_output_config(
    request: &GenRequest,
    converse: &ConverseRequest,
) -> Result<(), TestCaseError> {
    let native = request.json_output() && request.model.native_json;
    let format = converse
        .output_config
        .as_ref()
        .and_then(|c| c.pointer("/textFormat/type"));
    prop_assert_eq!(format.is_some(), native);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Strategies: ConverseStream answers as Bedrock sends them.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum GenBlock {
    Text(Vec<String>),
    Reasoning(Vec<String>),
    Tool {
        id: String,
        name: String,
        fragments: Vec<String>,
    },
}

#[derive(Debug, Clone)]
struct GenUsage {
    input: u64,
    output: u64,
    cache_read: Option<u64>,
    cache_write: Option<u64>,
}

#[derive(Debug, Clone)]
struct GenStream {
    message_start: bool,
    blocks: Vec<GenBlock>,
    stop_reason: &'static str,
    usage: Option<GenUsage>,
    metadata_first: bool,
    padding: bool,
    include_usage: bool,
    json_output_tool: bool,
    cuts: Vec<usize>,
}

const STOP_REASONS: [&str; 8] = [
    "end_turn",
    "tool_use",
    "max_tokens",
    "stop_sequence",
    "guardrail_intervened",
    "content_filtered",
    "model_context_window_exceeded",
    "a_reason_from_the_future",
];

/// Token counts, often at the edge of `u64`.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..100_000, 1 => Just(u64::MAX), 1 => (u64::MAX - 1000)..=u64::MAX]
}

fn usage() -> impl Strategy<Value = GenUsage> {
    (
        count(),
        count(),
        prop::option::of(count()),
        prop::option::of(count()),
    )
        .prop_map(|(input, output, cache_read, cache_write)| GenUsage {
            input,
            output,
            cache_read,
            cache_write,
        })
}

/// `text` cut at char boundaries, at the given fractions of its length.
fn split_text(text: &str, cuts: &[u8]) -> Vec<String> {
    let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let mut at: Vec<usize> = cuts
        .iter()
        .filter_map(|c| {
            boundaries
                .get(*c as usize * boundaries.len() / 256)
                .copied()
        })
        .filter(|i| *i > 0)
        .collect();
    at.sort_unstable();
    at.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for i in at {
        out.push(text[start..i].to_owned());
        start = i;
    }
    out.push(text[start..].to_owned());
    out
}

fn block() -> impl Strategy<Value = GenBlock> {
    let fragments = || prop::collection::vec("\\PC{0,16}", 1..4);
    prop_oneof![
        3 => fragments().prop_map(GenBlock::Text),
        1 => fragments().prop_map(GenBlock::Reasoning),
        2 => (
            "tooluse_[a-zA-Z0-9_-]{1,22}",
            prop_oneof![3 => tool_name(), 1 => Just(JSON_OUTPUT_TOOL.to_owned())],
            json_object(),
            prop::collection::vec(any::<u8>(), 0..4),
        )
            .prop_map(|(id, name, input, cuts)| GenBlock::Tool {
                id,
                name,
                fragments: split_text(&input.to_string(), &cuts),
            }),
    ]
}

prop_compose! {
    fn gen_stream()(
        message_start in prop::bool::weighted(0.9),
        blocks in prop::collection::vec(block(), 0..6),
        stop_reason in prop::sample::select(STOP_REASONS.to_vec()),
        usage in prop::option::weighted(0.9, usage()),
        metadata_first in prop::bool::weighted(0.2),
        padding in any::<bool>(),
        include_usage in any::<bool>(),
        json_output_tool in prop::bool::weighted(0.3),
        cuts in prop::collection::vec(1usize..300, 1..20),
    ) -> GenStream {
        GenStream {
            message_start, blocks, stop_reason, usage, metadata_first, padding, include_usage,
            json_output_tool, cuts,
        }
    }
}

fn events(stream: &GenStream) -> Vec<(&'static str, Value)> {
    let mut events = Vec::new();
    if stream.message_start {
        events.push(("messageStart", json!({"role": "assistant"})));
    }
    for (index, block) in stream.blocks.iter().enumerate() {
        let delta = |delta: Value| {
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": index, "delta": delta}),
            )
        };
        match block {
            GenBlock::Text(parts) => events.extend(parts.iter().map(|t| delta(json!({"text": t})))),
            GenBlock::Reasoning(parts) => events.extend(
                parts
                    .iter()
                    .map(|t| delta(json!({"reasoningContent": {"text": t}}))),
            ),
            GenBlock::Tool {
                id,
                name,
                fragments,
            } => {
                events.push((
                    "contentBlockStart",
                    json!({"contentBlockIndex": index,
                    "start": {"toolUse": {"toolUseId": id, "name": name}}}),
                ));
                events.extend(
                    fragments
                        .iter()
                        .map(|f| delta(json!({"toolUse": {"input": f}}))),
                );
            }
        }
        events.push(("contentBlockStop", json!({"contentBlockIndex": index})));
    }
    let stop = ("messageStop", json!({"stopReason": stream.stop_reason}));
    let metadata = stream.usage.as_ref().map(|u| {
        let mut usage = json!({"inputTokens": u.input, "outputTokens": u.output,
            "totalTokens": u.input.saturating_add(u.output)});
        if let Some(n) = u.cache_read {
            usage["cacheReadInputTokens"] = json!(n);
        }
        if let Some(n) = u.cache_write {
            usage["cacheWriteInputTokens"] = json!(n);
        }
        (
            "metadata",
            json!({"usage": usage, "metrics": {"latencyMs": 12}}),
        )
    });
    match (metadata, stream.metadata_first) {
        (Some(metadata), true) => events.extend([metadata, stop]),
        (Some(metadata), false) => events.extend([stop, metadata]),
        (None, _) => events.push(stop),
    }
    if stream.padding {
        for (_, payload) in &mut events {
            payload["p"] = json!("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123");
        }
    }
    events
}

/// Encodes the events as event-stream frames, decodes them from arbitrary splits and
/// translates them: the gateway's streaming path without the sockets.
fn translate_stream(stream: &GenStream, ctx: &ResponseContext) -> Vec<ChatCompletionChunk> {
    let mut bytes = Vec::new();
    for (event_type, payload) in events(stream) {
        bytes.extend(frame(event_type, &serde_json::to_vec(&payload).unwrap()));
    }
    let options = StreamOptions {
        include_usage: stream.include_usage,
    };
    let mut translator = ChunkTranslator::new(ctx.clone(), options);
    let mut decoder = EventStreamDecoder::new();
    let mut chunks = Vec::new();
    for piece in pieces(&bytes, &stream.cuts) {
        decoder.push(piece);
        while let Some(event) = decoder.next_event().unwrap() {
            let RawEvent::Event {
                event_type,
                payload,
            } = event
            else {
                panic!("only events were sent");
            };
            chunks.extend(translator.on_event(&event_type, &payload).unwrap());
        }
    }
    decoder.finish().unwrap();
    assert!(translator.is_finished());
    chunks.extend(translator.on_end());
    chunks
}

/// What the chunks must add up to.
#[derive(Debug, Default)]
struct Expected {
    content: String,
    reasoning: String,
    /// (id, name, arguments) per tool call, in order.
    tools: Vec<(String, String, String)>,
}

fn expected(stream: &GenStream) -> Expected {
    let mut want = Expected::default();
    for block in &stream.blocks {
        match block {
            GenBlock::Text(parts) => want.content.extend(parts.iter().map(String::as_str)),
            GenBlock::Reasoning(parts) => want.reasoning.extend(parts.iter().map(String::as_str)),
            GenBlock::Tool {
                name, fragments, ..
            } if stream.json_output_tool && name == JSON_OUTPUT_TOOL => {
                want.content.extend(fragments.iter().map(String::as_str));
            }
            GenBlock::Tool {
                id,
                name,
                fragments,
            } => want
                .tools
                .push((id.clone(), name.clone(), fragments.concat())),
        }
    }
    want
}

fn finish_reason(stream: &GenStream, tool_calls: bool) -> &'static str {
    match stream.stop_reason {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" if tool_calls => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        _ => "stop",
    }
}

fn check_identity(
    chunks: &[ChatCompletionChunk],
    ctx: &ResponseContext,
) -> Result<(), TestCaseError> {
    for chunk in chunks {
        prop_assert_eq!(&chunk.id, &ctx.id);
        prop_assert_eq!(&chunk.model, &ctx.model);
        prop_assert_eq!(chunk.created, ctx.created);
        prop_assert_eq!(chunk.object.as_str(), "chat.completion.chunk");
    }
    let roles: Vec<usize> = (0..chunks.len())
        .filter(|&i| {
            chunks[i]
                .choices
                .first()
                .is_some_and(|c| c.delta.role.is_some())
        })
        .collect();
    prop_assert_eq!(roles, vec![0]);
    prop_assert_eq!(
        chunks[0].choices[0].delta.role.as_deref(),
        Some("assistant")
    );
    Ok(())
}

fn check_deltas(chunks: &[ChatCompletionChunk], want: &Expected) -> Result<(), TestCaseError> {
    let deltas: Vec<_> = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .map(|c| &c.delta)
        .collect();
    let content: String = deltas.iter().filter_map(|d| d.content.as_deref()).collect();
    let reasoning: String = deltas
        .iter()
        .filter_map(|d| d.reasoning_content.as_deref())
        .collect();
    prop_assert_eq!(content, want.content.clone());
    prop_assert_eq!(reasoning, want.reasoning.clone());
    let mut tools: Vec<(String, String, String)> = Vec::new();
    for call in deltas.iter().flat_map(|d| d.tool_calls.iter().flatten()) {
        let index = call.index as usize;
        if let Some(id) = &call.id {
            prop_assert_eq!(index, tools.len(), "tool calls are numbered in order");
            prop_assert_eq!(call.kind.as_deref(), Some("function"));
            let name = call.function.name.clone().unwrap_or_default();
            tools.push((id.clone(), name, String::new()));
        } else {
            prop_assert!(call.function.name.is_none() && call.kind.is_none());
        }
        prop_assert!(index < tools.len(), "a fragment before its call's start");
        tools[index]
            .2
            .push_str(call.function.arguments.as_deref().unwrap_or_default());
    }
    prop_assert_eq!(&tools, &want.tools);
    Ok(())
}

fn check_finish_and_usage(
    chunks: &[ChatCompletionChunk],
    stream: &GenStream,
    want: &Expected,
) -> Result<(), TestCaseError> {
    let with_choices: Vec<_> = chunks.iter().filter(|c| !c.choices.is_empty()).collect();
    let finishes: Vec<usize> = (0..with_choices.len())
        .filter(|&i| with_choices[i].choices[0].finish_reason.is_some())
        .collect();
    prop_assert_eq!(finishes, vec![with_choices.len() - 1], "one finish, last");
    let reason =
        serde_json::to_value(with_choices.last().unwrap().choices[0].finish_reason).unwrap();
    prop_assert_eq!(reason, finish_reason(stream, !want.tools.is_empty()));
    let usage_chunks: Vec<_> = chunks
        .iter()
        .filter_map(|c| match c.usage {
            UsageField::Present(usage) => Some((c, usage)),
            _ => None,
        })
        .collect();
    let (Some(u), true) = (&stream.usage, stream.include_usage) else {
        // No usage chunk; `usage: null` on every chunk when usage was asked for, else no field.
        prop_assert!(usage_chunks.is_empty());
        let field_ok = |c: &ChatCompletionChunk| match c.usage {
            UsageField::Null(()) => stream.include_usage,
            UsageField::Absent => !stream.include_usage,
            UsageField::Present(_) => false,
        };
        prop_assert!(chunks.iter().all(field_ok));
        return Ok(());
    };
    prop_assert_eq!(usage_chunks.len(), 1);
    let (chunk, got) = usage_chunks[0];
    prop_assert!(
        std::ptr::eq(chunk, chunks.last().unwrap()),
        "the usage chunk is last"
    );
    prop_assert!(chunk.choices.is_empty());
    let prompt = u
        .input
        .saturating_add(u.cache_read.unwrap_or(0))
        .saturating_add(u.cache_write.unwrap_or(0));
    prop_assert_eq!(got.prompt_tokens, prompt);
    prop_assert_eq!(got.completion_tokens, u.output);
    prop_assert_eq!(got.total_tokens, prompt.saturating_add(u.output));
    prop_assert_eq!(
        got.prompt_tokens_details.cached_tokens,
        u.cache_read.unwrap_or(0)
    );
    let others_null = chunks[..chunks.len() - 1]
        .iter()
        .all(|c| matches!(c.usage, UsageField::Null(())));
    prop_assert!(others_null);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The properties.
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_requests_translate_to_valid_converse(request in gen_request()) {
        let body = request_json(&request);
        let openai: ChatCompletionRequest = serde_json::from_value(body.clone())
            .map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        let model = ModelId::parse(request.model.id).unwrap();
        let converse = chat_to_converse(openai, &model)
            .map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        check_shape(&converse)?;
        check_text_kept(&request, &converse)?;
        check_inference(&request, &converse)?;
        check_output_config(&request, &converse)?;
        if request.is_none_choice() && !request.forced_json_tool() {
            check_none(&request, &converse)?;
        } else {
            check_tool_ids(&request, &converse)?;
            check_tool_config(&request, &converse)?;
        }
    }

    #[test]
    fn bedrock_tool_use_ids_are_valid_stable_and_distinct(
        (a, b) in prop_oneof![(call_id(), call_id()), near_collision()],
    ) {
        let (x, y) = (bedrock_tool_use_id(&a), bedrock_tool_use_id(&b));
        prop_assert!(is_bedrock_tool_use_id(&x), "{:?} -> {:?}", a, x);
        prop_assert_eq!(&x, &bedrock_tool_use_id(&a));
        prop_assert_eq!(a == b, x == y, "{:?} -> {:?}, {:?} -> {:?}", a, x, b, y);
        if is_bedrock_tool_use_id(&a) {
            prop_assert_eq!(&x, &a);
        }
    }

    #[test]
    fn streamed_answers_add_up(stream in gen_stream()) {
        let ctx = ResponseContext {
            id: "chatcmpl-prop".into(),
            created: 1_700_000_000,
            model: "m".into(),
            json_output_tool: stream.json_output_tool,
        };
        let chunks = translate_stream(&stream, &ctx);
        let want = expected(&stream);
        check_identity(&chunks, &ctx)?;
        check_deltas(&chunks, &want)?;
        check_finish_and_usage(&chunks, &stream, &want)?;
    }

    #[test]
    fn role_sequences_are_accepted_exactly_by_the_rule(
        turns in prop::collection::vec((0usize..5, "[ -~]{0,12}"), 0..12),
    ) {
        let roles = ["system", "developer", "user", "assistant", "tool"];
        let messages: Vec<_> = turns
            .iter()
            .map(|(r, text)| match roles[*r] {
                "tool" => json!({"role": "tool", "tool_call_id": "c1", "content": text}),
                role => json!({"role": role, "content": text}),
            })
            .collect();
        let request: ChatCompletionRequest = serde_json::from_value(json!({"messages": messages})).unwrap();
        let model = ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
        // The rule: a conversation, starting with a user turn (a tool result is one), where no
        // user or assistant message is empty (an empty tool result is "(no output)").
        let turns: Vec<_> = turns.iter().filter(|(r, _)| *r >= 2).collect();
        let rule = turns.first().is_some_and(|(r, _)| roles[*r] != "assistant")
            && turns.iter().all(|(r, text)| roles[*r] == "tool" || !text.is_empty());
        let result = chat_to_converse(request, &model);
        prop_assert_eq!(result.is_ok(), rule, "{:?}", result);
        if let Ok(converse) = result {
            check_shape(&converse)?;
        }
    }

    #[test]
    fn decoder_never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..64) {
        let mut decoder = EventStreamDecoder::new();
        for piece in bytes.chunks(chunk) {
            decoder.push(piece);
            while let Ok(Some(_)) = decoder.next_event() {}
        }
    }

    #[test]
    fn decoder_round_trips_any_split(
        events in prop::collection::vec(("[a-zA-Z]{1,20}", prop::collection::vec(any::<u8>(), 0..300)), 1..8),
        cuts in prop::collection::vec(1usize..200, 1..50),
    ) {
        let mut stream = Vec::new();
        for (event_type, payload) in &events {
            stream.extend(frame(event_type, payload));
        }
        let mut decoder = EventStreamDecoder::new();
        let mut decoded = Vec::new();
        for piece in pieces(&stream, &cuts) {
            decoder.push(piece);
            while let Some(event) = decoder.next_event().unwrap() {
                decoded.push(event);
            }
        }
        decoder.finish().unwrap();
        prop_assert_eq!(decoded.len(), events.len());
        for (got, (event_type, payload)) in decoded.iter().zip(&events) {
            match got {
                RawEvent::Event { event_type: t, payload: p } => {
                    prop_assert_eq!(t, event_type);
                    prop_assert_eq!(&p[..], &payload[..]);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }

    #[test]
    fn valid_model_ids_are_one_path_segment(
        id in "[A-Za-z0-9][A-Za-z0-9_:/-]{0,20}(\\.[A-Za-z0-9_:/-]{1,20}){0,4}",
    ) {
        let model = ModelId::parse(&id).map_err(|e| TestCaseError::fail(format!("{id}: {e}")))?;
        let path = model.path(Operation::Converse);
        prop_assert_eq!(path.matches('/').count(), 3, "{}", path);
        prop_assert!(!path.contains(['?', '#', ' ', '\\', '\n', ':']), "{}", path);
        let uri = BedrockEndpoint::parse("https://example.com").unwrap().uri(&path);
        prop_assert_eq!(uri.path(), path.as_str());
    }

    #[test]
    fn model_ids_are_accepted_exactly_by_the_rule(id in "[a-z0-9._:/?# %-]{0,24}") {
        let rule = !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:/".contains(&b))
            && !id.contains("..")
            && !id.starts_with(['/', '.']);
        prop_assert_eq!(ModelId::parse(&id).is_ok(), rule, "{:?}", id);
    }

    #[test]
    fn valid_regions_make_an_amazonaws_host(
        name in "[a-z]{2,4}(-[a-z]{3,7}){1,3}-[0-9]{1,2}",
    ) {
        let region = Region::parse(&name).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
        let endpoint = BedrockEndpoint::for_region(&region);
        let host = endpoint.authority().host().to_owned();
        prop_assert_eq!(host, format!("bedrock-runtime.{name}.amazonaws.com"));
    }

    #[test]
    fn regions_are_accepted_exactly_by_the_rule(name in "[a-z0-9./-]{0,20}") {
        let parts: Vec<&str> = name.split('-').collect();
        let (last, head) = parts.split_last().unwrap();
        let rule = name.len() <= 32
            && (2..=7).contains(&head.len())
            && head.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && (1..=3).contains(&last.len())
            && last.bytes().all(|b| b.is_ascii_digit());
        prop_assert_eq!(Region::parse(&name).is_ok(), rule, "{:?}", name);
    }
}
