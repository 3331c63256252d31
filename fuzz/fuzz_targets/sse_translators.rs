//! Arbitrary upstream event sequences (type chosen by the first byte, payload the rest of each
//! NUL-separated record) through the door SSE translators, driven as the streaming body drives
//! them (an event error or a failed end is written with `on_error` and ends the stream):
//!
//! - the Responses translator (`ResponsesEvents`, ConverseStream events),
//! - the Messages translator of a Converse stream (`MessagesEvents`),
//! - the Claude chunk-stream translator (`ChunkEvents`: `chunk` events whose payload is
//!   `{"bytes": base64}`, the base64 taken from the record so the inner Anthropic JSON is
//!   fuzzed too, or the raw record).
//!
//! Never a panic; the output is well-formed SSE: every event is an `event:` line and a `data:`
//! line holding valid JSON; the Responses events' `sequence_number`s start at 0 and strictly
//! increase.
#![no_main]

use base64::Engine;
use bedrock_translate::body::SseTranslator;
use bedrock_translate::messages::from_converse::MessagesEvents;
use bedrock_translate::messages::invoke::ChunkEvents;
use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::ConverseOptions;
use bedrock_translate::responses::ResponseSink;
use bedrock_translate::responses::request::{Identity, Inputs, responses_to_converse};
use bedrock_translate::responses::stream::{Keep, ResponsesEvents};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use openai_types::responses::CreateResponse;

const TYPES: [&str; 7] = [
    "messageStart",
    "contentBlockStart",
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
    "unknown",
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, data)) = data.split_first() else {
        return;
    };
    let records: Vec<(u8, &[u8])> = data
        .split(|b| *b == 0)
        .filter_map(|r| r.split_first().map(|(k, p)| (*k, p)))
        .collect();

    // Responses.
    let model = ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
    let request: CreateResponse = serde_json::from_str(r#"{"model":"m","input":"hi"}"#).unwrap();
    let inputs = Inputs {
        model: &model,
        previous: None,
        options: &ConverseOptions::default(),
        defaults: None,
    };
    let call = responses_to_converse(request, inputs, Identity::new()).unwrap();
    let mut options = call.answer;
    options.json_output_tool = flags & 1 != 0;
    options.encrypted_reasoning = flags & 2 != 0;
    let keep = (flags & 4 != 0).then(|| Keep {
        sink: ResponseSink::new(|stored| {
            serde_json::from_slice::<serde_json::Value>(&stored.record).unwrap();
        }),
        input_items: call.input_items.clone(),
        context: call.context.clone(),
    });
    let mut responses = ResponsesEvents::new(call.template, options, keep);
    let events = drive(
        &mut responses,
        records
            .iter()
            .map(|(k, p)| (TYPES[usize::from(*k) % TYPES.len()], p.to_vec())),
    );
    let mut next = 0;
    for (_, data) in &events {
        let sequence = data["sequence_number"].as_u64().unwrap();
        assert!(sequence >= next, "sequence {sequence} after {}", next);
        next = sequence + 1;
    }
    assert!(events.is_empty() || events[0].1["sequence_number"] == 0);

    // Messages, from a Converse stream.
    let mut messages = MessagesEvents::new("msg_1".to_owned(), "m");
    drive(
        &mut messages,
        records
            .iter()
            .map(|(k, p)| (TYPES[usize::from(*k) % TYPES.len()], p.to_vec())),
    );

    // Claude, from InvokeModel chunks.
    let mut chunks = ChunkEvents::new("m");
    drive(
        &mut chunks,
        records.iter().map(|(k, p)| match k % 4 {
            0 | 1 => {
                let bytes = base64::engine::general_purpose::STANDARD.encode(p);
                (
                    "chunk",
                    serde_json::json!({ "bytes": bytes })
                        .to_string()
                        .into_bytes(),
                )
            }
            2 => ("chunk", p.to_vec()),
            _ => ("unknown", p.to_vec()),
        }),
    );
});

/// Runs the events through `translator` as the streaming body does; the SSE events written,
/// each as its name and JSON data.
fn drive(
    translator: &mut dyn SseTranslator,
    events: impl Iterator<Item = (&'static str, Vec<u8>)>,
) -> Vec<(String, serde_json::Value)> {
    let mut out = BytesMut::new();
    let mut failed = false;
    for (event_type, payload) in events {
        if let Err(err) = translator.on_event(event_type, &payload, &mut out) {
            translator.on_error(&err, &mut out);
            failed = true;
            break;
        }
    }
    if !failed {
        if let Err(err) = translator.on_end(&mut out) {
            translator.on_error(&err, &mut out);
        }
    }
    let _ = translator.usage();
    parse_sse(&out)
}

/// Every event: an `event:` line, a `data:` line with one JSON value, a blank line.
fn parse_sse(out: &[u8]) -> Vec<(String, serde_json::Value)> {
    let text = std::str::from_utf8(out).unwrap();
    if text.is_empty() {
        return Vec::new();
    }
    let body = text
        .strip_suffix("\n\n")
        .expect("SSE ends with a blank line");
    body.split("\n\n")
        .map(|event| {
            let mut lines = event.split('\n');
            let name = lines.next().unwrap().strip_prefix("event: ").unwrap();
            let data = lines.next().unwrap().strip_prefix("data: ").unwrap();
            assert!(
                lines.next().is_none(),
                "one event line and one data line: {event:?}"
            );
            assert!(!name.is_empty() && !name.contains('\r'));
            let json: serde_json::Value = serde_json::from_str(data).unwrap();
            (name.to_owned(), json)
        })
        .collect()
}
