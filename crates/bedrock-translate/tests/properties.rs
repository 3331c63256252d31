//! Property tests: the parsers never panic, and the translator's invariants hold for any input.

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bedrock_translate::converse::Role;
use bedrock_translate::endpoint::{BedrockEndpoint, Region};
use bedrock_translate::eventstream::{EventStreamDecoder, RawEvent};
use bedrock_translate::model_id::{ModelId, Operation};
use bedrock_translate::request::chat_to_converse;
use bedrock_translate::response::ResponseContext;
use bedrock_translate::stream::{ChunkTranslator, StreamOptions};
use openai_types::chat::ChatCompletionRequest;
use proptest::prelude::*;
use serde_json::json;

fn frame(event_type: &str, payload: &[u8]) -> Vec<u8> {
    let message = Message::new(payload.to_vec())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ))
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.to_owned().into()),
        ));
    let mut out = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut out).unwrap();
    out
}

proptest! {
    #[test]
    fn decoder_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..64) {
        let mut decoder = EventStreamDecoder::new();
        for piece in bytes.chunks(chunk) {
            decoder.push(piece);
            while let Ok(Some(_)) = decoder.next_event() {}
        }
    }

    #[test]
    fn decoder_round_trips_any_split(
        events in proptest::collection::vec(("[a-zA-Z]{1,20}", proptest::collection::vec(any::<u8>(), 0..300)), 1..8),
        cuts in proptest::collection::vec(1usize..200, 1..50),
    ) {
        let mut stream = Vec::new();
        for (event_type, payload) in &events {
            stream.extend(frame(event_type, payload));
        }
        let mut decoder = EventStreamDecoder::new();
        let mut decoded = Vec::new();
        let mut rest = &stream[..];
        let mut cuts = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cuts.next().unwrap()).min(rest.len());
            decoder.push(&rest[..n]);
            rest = &rest[n..];
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
    fn translated_conversations_alternate_and_start_with_user(
        turns in proptest::collection::vec((0usize..5, "[ -~]{0,12}"), 0..12),
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
        if let Ok(converse) = chat_to_converse(request, &model) {
            prop_assert_eq!(converse.messages[0].role, Role::User);
            for pair in converse.messages.windows(2) {
                prop_assert_ne!(pair[0].role, pair[1].role);
            }
            for message in &converse.messages {
                prop_assert!(!message.content.is_empty());
            }
        }
    }

    #[test]
    fn any_accepted_model_id_is_one_path_segment(id in "\\PC{0,80}") {
        if let Ok(model) = ModelId::parse(&id) {
            let path = model.path(Operation::Converse);
            prop_assert_eq!(path.matches('/').count(), 3, "{}", path);
            prop_assert!(!path.contains(['?', '#', ' ', '\\', '\n']), "{}", path);
            let uri = BedrockEndpoint::parse("https://example.com").unwrap().uri(&path);
            prop_assert_eq!(uri.path(), path.as_str());
        }
    }

    #[test]
    fn any_accepted_region_makes_an_amazonaws_host(name in "\\PC{0,40}") {
        if let Ok(region) = Region::parse(&name) {
            let endpoint = BedrockEndpoint::for_region(&region);
            let host = endpoint.authority().host().to_owned();
            prop_assert!(host.ends_with(".amazonaws.com"));
            prop_assert_eq!(host.matches('.').count(), 3);
        }
    }

    #[test]
    fn stream_translator_never_panics(events in proptest::collection::vec((0usize..7, "\\PC{0,60}"), 0..20)) {
        let types = ["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata", "other"];
        let ctx = ResponseContext::new("m");
        let mut translator = ChunkTranslator::new(ctx, StreamOptions { include_usage: true });
        for (t, payload) in &events {
            let _ = translator.on_event(types[*t], payload.as_bytes());
        }
        let _ = translator.on_end();
    }
}
