//! Chat completion requests that must translate, and what their translation must satisfy.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use bedrock_translate::converse::{ConverseRequest, Role};
use bedrock_translate::request::{JSON_OUTPUT_TOOL, is_bedrock_tool_use_id};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

/// A model of the generated request, with what its rules depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GenModel {
    pub(crate) id: &'static str,
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
pub(crate) struct GenRequest {
    pub(crate) model: GenModel,
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

    pub(crate) fn is_none_choice(&self) -> bool {
        matches!(self.choice, GenChoice::None | GenChoice::LegacyNone)
    }

    fn json_output(&self) -> bool {
        matches!(self.format, GenFormat::JsonObject | GenFormat::JsonSchema)
    }

    /// JSON output through the `json_output` tool (models without native structured output).
    pub(crate) fn forced_json_tool(&self) -> bool {
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
pub(crate) fn call_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "call_[a-zA-Z0-9]{1,24}",
        "call[ _.:/]?[0-9]",
        "[a-zA-Z0-9_-]{60,70}",
        "\\PC{0,70}",
    ]
}

/// Two ids that plain sanitising would map to the same Bedrock id: one character swapped for
/// another that Bedrock does not accept either, or a common 64-character prefix.
pub(crate) fn near_collision() -> impl Strategy<Value = (String, String)> {
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

pub(crate) fn tool_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("get_weather".to_owned()),
        Just("lookup".to_owned()),
        "[a-zA-Z0-9_-]{1,64}",
    ]
}

/// A small JSON object: tool arguments.
pub(crate) fn json_object() -> impl Strategy<Value = Value> {
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
    pub(crate) fn gen_request()(
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
        // What a valid request cannot combine: a named choice without tools, a thinking
        // budget on a model without extended thinking.
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

pub(crate) fn request_json(request: &GenRequest) -> Value {
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

pub(crate) fn check_shape(converse: &ConverseRequest) -> Result<(), TestCaseError> {
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

pub(crate) fn check_text_kept(
    request: &GenRequest,
    converse: &ConverseRequest,
) -> Result<(), TestCaseError> {
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

pub(crate) fn check_inference(
    request: &GenRequest,
    converse: &ConverseRequest,
) -> Result<(), TestCaseError> {
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
pub(crate) fn check_tool_ids(
    request: &GenRequest,
    converse: &ConverseRequest,
) -> Result<(), TestCaseError> {
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
pub(crate) fn check_none(
    request: &GenRequest,
    converse: &ConverseRequest,
) -> Result<(), TestCaseError> {
    prop_assert!(converse.tool_config.is_none());
    check_none_history(request, converse)
}

/// `none`: no tool block, every call and result rendered as text.
pub(crate) fn check_none_history(
    request: &GenRequest,
    converse: &ConverseRequest,
) -> Result<(), TestCaseError> {
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

pub(crate) fn check_tool_config(
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
    if !(forced && request.is_none_choice()) {
        for call in request.calls() {
            prop_assert!(names.contains(&call.name.as_str()));
        }
    }
    let choice = serde_json::to_value(&config.tool_choice).unwrap();
    let client_tools = !request.tools.is_empty();
    let json_alone = forced && (request.is_none_choice() || !client_tools);
    let json_beside =
        forced && client_tools && matches!(request.choice, GenChoice::Absent | GenChoice::Auto);
    let want = match request.choice {
        _ if json_alone => json!({"tool": {"name": JSON_OUTPUT_TOOL}}),
        _ if json_beside => json!({"any": {}}),
        GenChoice::Auto => json!({"auto": {}}),
        GenChoice::Required => json!({"any": {}}),
        GenChoice::Named(i) => json!({"tool": {"name": request.tools[i].name}}),
        _ => Value::Null,
    };
    prop_assert_eq!(choice, want);
    prop_assert_eq!(names.contains(&JSON_OUTPUT_TOOL), json_alone || json_beside);
    if json_alone {
        prop_assert_eq!(names[0], JSON_OUTPUT_TOOL);
    } else {
        let declared: Vec<&str> = request.tools.iter().map(|t| t.name.as_str()).collect();
        prop_assert_eq!(&names[..declared.len()], &declared[..]);
    }
    Ok(())
}

pub(crate) fn check_output_config(
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
