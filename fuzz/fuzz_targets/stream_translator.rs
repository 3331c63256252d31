//! Arbitrary ConverseStream events (type chosen by the first byte, payload the rest of each
//! NUL-separated record) through the chunk state machine: never a panic, and every chunk
//! serialises.
#![no_main]

use bedrock_translate::response::ResponseContext;
use bedrock_translate::stream::{ChunkTranslator, StreamOptions};
use libfuzzer_sys::fuzz_target;

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
    let ctx = ResponseContext::new("m");
    let options = StreamOptions {
        include_usage: true,
    };
    let mut translator = ChunkTranslator::new(ctx, options);
    let mut chunks = Vec::new();
    for record in data.split(|b| *b == 0) {
        let Some((&kind, payload)) = record.split_first() else {
            continue;
        };
        let event_type = TYPES[usize::from(kind) % TYPES.len()];
        if let Ok(out) = translator.on_event(event_type, payload) {
            chunks.extend(out);
        }
    }
    chunks.extend(translator.on_end());
    for chunk in &chunks {
        serde_json::to_vec(chunk).unwrap();
    }
});
