//! The fuzz targets' seed corpora (`fuzz/corpus/<target>/`), made here from valid inputs so that
//! the fuzzers start from inputs that reach deep into the code rather than from nothing:
//!
//! - `eventstream_decoder`: a chunk-size byte, then event-stream frames written with
//!   `aws-smithy-eventstream` (whole answers as Bedrock streams them, exceptions, error frames);
//! - `chat_to_converse`: the OpenAI request of every golden request fixture that translates;
//! - `stream_translator`: the events of every golden stream fixture, as the target reads them
//!   (a type byte and a JSON payload per NUL-separated record).
//!
//! The tests check that the committed seeds are still valid input;
//! `WRITE_FUZZ_SEEDS=1 cargo test -p bedrock-translate --test fuzz_seeds` (re)writes them. `fuzz/corpus` is ignored by git (fuzzing runs fill it), so new seed files are
//! added with `git add -f`; fuzz with a scratch corpus first and the seeds second
//! (`cargo fuzz run eventstream_decoder /tmp/corpus corpus/eventstream_decoder`) to keep the
//! seed directories clean.

use std::path::{Path, PathBuf};

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bedrock_translate::eventstream::{EventStreamDecoder, RawEvent};
use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::chat_to_converse;
use serde_json::{Value, json};

/// The event types of the `stream_translator` target, indexed by its records' first byte
/// (modulo 7).
const STREAM_TYPES: [&str; 7] = [
    "messageStart",
    "contentBlockStart",
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
    "unknown",
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus(target: &str) -> PathBuf {
    manifest_dir().join("../../fuzz/corpus").join(target)
}

fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut message = Message::new(payload.to_vec());
    for (name, value) in headers {
        message = message.add_header(Header::new(
            (*name).to_owned(),
            HeaderValue::String((*value).to_owned().into()),
        ));
    }
    let mut out = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut out).unwrap();
    out
}

fn event(event_type: &str, payload: Value) -> Vec<u8> {
    let headers = [
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ];
    frame(&headers, payload.to_string().as_bytes())
}

fn seed(chunk: u8, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![chunk];
    out.extend(frames.concat());
    out
}

/// (name, bytes) of the decoder's seeds.
fn decoder_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let text_answer = [
        event("messageStart", json!({"role": "assistant", "p": "abcd"})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Hello"}, "p": "abcdefgh"}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": " there"}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 0})),
        event("messageStop", json!({"stopReason": "end_turn"})),
        event(
            "metadata",
            json!({"usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}, "metrics": {"latencyMs": 12}}),
        ),
    ];
    let tool_answer = [
        event("messageStart", json!({"role": "assistant"})),
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"city\":"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "\"Paris\"}"}}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 0})),
        event("messageStop", json!({"stopReason": "tool_use"})),
    ];
    let reasoning = [event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Hmm."}}}),
    )];
    let exception = [frame(
        &[
            (":exception-type", "throttlingException"),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        br#"{"message":"Too many requests, please wait before trying again."}"#,
    )];
    let error = [frame(
        &[
            (":message-type", "error"),
            (":error-code", "InternalServerException"),
            (":error-message", "upstream failed"),
        ],
        b"",
    )];
    vec![
        ("text_answer_whole", seed(255, &text_answer)),
        ("text_answer_by_7_bytes", seed(7, &text_answer)),
        ("tool_answer_by_1_byte", seed(1, &tool_answer)),
        ("reasoning_delta", seed(64, &reasoning)),
        ("throttling_exception", seed(16, &exception)),
        ("error_frame", seed(12, &error)),
    ]
}

/// The golden fixtures of `kind` with `key`, by file stem.
fn golden(kind: &str, key: &str) -> Vec<(String, Value)> {
    let dir = manifest_dir().join("tests/golden").join(kind);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if case.get(key).is_some() {
            let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
            out.push((stem, case));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The request seeds: each golden request that translates, with its model in the body (the
/// target translates for the body's model).
fn chat_seeds() -> Vec<(String, Vec<u8>)> {
    golden("request", "converse")
        .into_iter()
        .map(|(name, case)| {
            let mut request = case["openai"].clone();
            request["model"] = case["model"].clone();
            (
                format!("{name}.json"),
                serde_json::to_vec(&request).unwrap(),
            )
        })
        .collect()
}

/// The stream seeds: the golden stream fixtures' events as NUL-separated records.
fn stream_seeds() -> Vec<(String, Vec<u8>)> {
    golden("stream", "events")
        .into_iter()
        .map(|(name, case)| {
            let records: Vec<Vec<u8>> = case["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|event| {
                    // Unknown types map to the target's "unknown".
                    let kind = STREAM_TYPES
                        .iter()
                        .position(|t| event[0] == *t)
                        .unwrap_or(STREAM_TYPES.len() - 1);
                    // The target takes the type modulo 7; 0 is the record separator.
                    let mut record = vec![u8::try_from(kind + STREAM_TYPES.len()).unwrap()];
                    record.extend(serde_json::to_vec(&event[1]).unwrap());
                    record
                })
                .collect();
            (name, records.join(&0u8))
        })
        .collect()
}

/// Whether this run rewrites the seeds.
fn writing() -> bool {
    std::env::var_os("WRITE_FUZZ_SEEDS").is_some()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// The committed seeds of `dir` (the files ending in `.extension`: fuzzing runs add others).
fn committed(dir: &Path, extension: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == extension) {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            out.push((name, std::fs::read(&path).unwrap()));
        }
    }
    out
}

#[test]
fn decoder_seeds_decode() {
    let dir = corpus("eventstream_decoder");
    if writing() {
        for (name, bytes) in decoder_seeds() {
            write(&dir, &format!("{name}.frames"), &bytes);
        }
    }
    let seeds = committed(&dir, "frames");
    assert_eq!(
        seeds.len(),
        decoder_seeds().len(),
        "WRITE_FUZZ_SEEDS=1 writes them"
    );
    for (name, bytes) in &seeds {
        let (&chunk, stream) = bytes.split_first().unwrap();
        let mut decoder = EventStreamDecoder::new();
        let mut events = Vec::new();
        for piece in stream.chunks(usize::from(chunk)) {
            decoder.push(piece);
            while let Some(event) = decoder.next_event().unwrap() {
                events.push(event);
            }
        }
        decoder.finish().unwrap();
        let exceptions = events
            .iter()
            .filter(|e| matches!(e, RawEvent::Exception { .. }))
            .count();
        assert!(!events.is_empty(), "{name}");
        assert_eq!(
            exceptions > 0,
            name.contains("exception") || name.contains("error")
        );
    }
}

#[test]
fn chat_seeds_translate() {
    let dir = corpus("chat_to_converse");
    if writing() {
        for (name, bytes) in chat_seeds() {
            write(&dir, &name, &bytes);
        }
    }
    let seeds = committed(&dir, "json");
    assert!(seeds.len() >= 10, "{} seeds", seeds.len());
    for (name, bytes) in &seeds {
        let request: openai_types::chat::ChatCompletionRequest =
            serde_json::from_slice(bytes).unwrap();
        let model = ModelId::parse(request.model.as_deref().unwrap()).unwrap();
        chat_to_converse(request, &model).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn stream_seeds_are_events() {
    let dir = corpus("stream_translator");
    if writing() {
        for (name, bytes) in stream_seeds() {
            write(&dir, &format!("{name}.events"), &bytes);
        }
    }
    let seeds = committed(&dir, "events");
    assert!(!seeds.is_empty());
    for (name, bytes) in &seeds {
        for record in bytes.split(|b| *b == 0) {
            let (&kind, payload) = record.split_first().expect("no empty record");
            assert!(kind != 0, "{name}");
            serde_json::from_slice::<Value>(payload).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
