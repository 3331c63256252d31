//! Property tests. The strategies generate *valid* inputs (chat requests that must translate,
//! ConverseStream event sequences as Bedrock sends them, model ids and regions of the accepted
//! shapes), so each property exercises the translation itself rather than the error path; the
//! parsers are also fed garbage, where the property is that they do not panic and accept exactly
//! what their rules say.

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bedrock_translate::endpoint::{BedrockEndpoint, Region};
use bedrock_translate::eventstream::{EventStreamDecoder, RawEvent};
use bedrock_translate::model_id::{ModelId, Operation};
use bedrock_translate::request::{bedrock_tool_use_id, chat_to_converse, is_bedrock_tool_use_id};
use bedrock_translate::response::ResponseContext;
use openai_types::chat::ChatCompletionRequest;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::json;

mod requests;
mod streams;

use requests::{
    call_id, check_inference, check_none, check_none_history, check_output_config, check_shape,
    check_text_kept, check_tool_config, check_tool_ids, gen_request, near_collision, request_json,
};
use streams::{
    check_deltas, check_finish_and_usage, check_identity, expected, gen_stream, translate_stream,
};

/// One event-stream frame of an event.
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
        } else if request.is_none_choice() {
            // `none` with JSON output: `json_output` alone, the history rendered as text.
            check_none_history(&request, &converse)?;
            check_tool_config(&request, &converse)?;
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
