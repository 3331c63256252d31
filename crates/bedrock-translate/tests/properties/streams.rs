//! ConverseStream answers as Bedrock sends them, and what their chunks must add up to.

use bedrock_translate::eventstream::{EventStreamDecoder, RawEvent};
use bedrock_translate::request::JSON_OUTPUT_TOOL;
use bedrock_translate::response::ResponseContext;
use bedrock_translate::stream::{ChunkTranslator, StreamOptions};
use openai_types::chat::{ChatCompletionChunk, UsageField};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

use super::requests::{json_object, tool_name};
use super::{frame, pieces};

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
pub(crate) struct GenStream {
    message_start: bool,
    blocks: Vec<GenBlock>,
    stop_reason: &'static str,
    usage: Option<GenUsage>,
    metadata_first: bool,
    padding: bool,
    include_usage: bool,
    pub(crate) json_output_tool: bool,
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
    pub(crate) fn gen_stream()(
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
pub(crate) fn translate_stream(
    stream: &GenStream,
    ctx: &ResponseContext,
) -> Vec<ChatCompletionChunk> {
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
pub(crate) struct Expected {
    content: String,
    reasoning: String,
    /// (id, name, arguments) per tool call, in order.
    tools: Vec<(String, String, String)>,
}

pub(crate) fn expected(stream: &GenStream) -> Expected {
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

pub(crate) fn check_identity(
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

pub(crate) fn check_deltas(
    chunks: &[ChatCompletionChunk],
    want: &Expected,
) -> Result<(), TestCaseError> {
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

pub(crate) fn check_finish_and_usage(
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
