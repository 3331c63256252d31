//! Arbitrary bytes, fed in chunks whose sizes the input chooses, through the event-stream
//! decoder: it must return events or errors, never panic.
#![no_main]

use bedrock_translate::eventstream::EventStreamDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = EventStreamDecoder::new();
    for piece in rest.chunks(chunk) {
        decoder.push(piece);
        loop {
            match decoder.next_event() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = decoder.finish();
});
