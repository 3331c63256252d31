//! Arbitrary ConverseStream events (type chosen by the first byte, payload the rest of each
//! NUL-separated record) through the chunk state machine: never a panic.
#![no_main]

use bedrock_translate::response::ResponseContext;
use bedrock_translate::stream::{ChunkTranslator, StreamOptions};
use libfuzzer_sys::fuzz_target;

const TYPES: [&str; 7] = ["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata", "unknown"];

fuzz_target!(|data: &[u8]| {
    let mut translator = ChunkTranslator::new(ResponseContext::new("m"), StreamOptions { include_usage: true });
    for record in data.split(|b| *b == 0) {
        let Some((&kind, payload)) = record.split_first() else { continue };
        let _ = translator.on_event(TYPES[usize::from(kind) % TYPES.len()], payload);
    }
    let _ = translator.on_end();
});
