//! Golden fixtures: one test per translation case, each a JSON file under `tests/golden/`.
//!
//! - `request/*.json`: `{"model", "openai", "converse"}` or `{"model", "openai", "error": {"param", "contains"}}`
//! - `response/*.json`: `{"converse", "chat"}` (id `chatcmpl-test`, created 1700000000, model `m`)
//! - `stream/*.json`: `{"include_usage", "events": [[type, payload]...], "chunks": [...]}`
//!   (`chunks` omit `id`, `object`, `created`, `model`, `system_fingerprint`, which are checked
//!   to be the same in every chunk)

use bedrock_translate::converse::ConverseResponse;
use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::chat_to_converse;
use bedrock_translate::response::{ResponseContext, converse_to_chat};
use bedrock_translate::stream::{ChunkTranslator, StreamOptions};
use bedrock_translate::{ApiError, TranslateError};
use serde_json::Value;

fn fixture(kind: &str, name: &str) -> Value {
    let path = format!(
        "{}/tests/golden/{kind}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ctx(case: &Value) -> ResponseContext {
    ResponseContext {
        id: "chatcmpl-test".into(),
        created: 1_700_000_000,
        model: "m".into(),
        json_output_tool: case["json_output_tool"].as_bool().unwrap_or(false),
    }
}

fn check_request(name: &str) {
    let case = fixture("request", name);
    let model = ModelId::parse(case["model"].as_str().unwrap()).unwrap();
    let openai = serde_json::from_value(case["openai"].clone()).expect("fixture request parses");
    let result = chat_to_converse(openai, &model);
    if let Some(want) = case.get("converse") {
        let got = serde_json::to_value(result.expect("translation succeeds")).unwrap();
        assert_eq!(&got, want, "\n got: {got}\nwant: {want}");
    } else {
        let err: TranslateError = result.expect_err("translation fails");
        let api = ApiError::from(err.clone());
        assert_eq!(api.status, 400);
        assert_eq!(api.error.kind, "invalid_request_error");
        assert_eq!(
            api.error.param.as_deref(),
            case["error"]["param"].as_str(),
            "{err}"
        );
        let contains = case["error"]["contains"].as_str().unwrap();
        assert!(
            api.error.message.contains(contains),
            "{:?} lacks {contains:?}",
            api.error.message
        );
    }
}

fn check_response(name: &str) {
    let case = fixture("response", name);
    let converse: ConverseResponse = serde_json::from_value(case["converse"].clone()).unwrap();
    let got = serde_json::to_value(converse_to_chat(converse, &ctx(&case))).unwrap();
    assert_eq!(got, case["chat"], "\n got: {got}");
}

fn check_stream(name: &str) {
    let case = fixture("stream", name);
    let options = StreamOptions {
        include_usage: case["include_usage"].as_bool().unwrap(),
    };
    let mut translator = ChunkTranslator::new(ctx(&case), options);
    let mut chunks = Vec::new();
    for event in case["events"].as_array().unwrap() {
        let payload = serde_json::to_vec(&event[1]).unwrap();
        chunks.extend(
            translator
                .on_event(event[0].as_str().unwrap(), &payload)
                .unwrap(),
        );
    }
    chunks.extend(translator.on_end());
    let mut got = Vec::new();
    for chunk in chunks {
        let mut value = serde_json::to_value(chunk).unwrap();
        let object = value.as_object_mut().unwrap();
        assert_eq!(object.remove("id").unwrap(), "chatcmpl-test");
        assert_eq!(object.remove("object").unwrap(), "chat.completion.chunk");
        assert_eq!(object.remove("created").unwrap(), 1_700_000_000);
        assert_eq!(object.remove("model").unwrap(), "m");
        assert_eq!(object.remove("system_fingerprint").unwrap(), Value::Null);
        got.push(value);
    }
    assert_eq!(
        Value::Array(got.clone()),
        case["chunks"],
        "\n got: {}",
        Value::Array(got)
    );
}

macro_rules! golden {
    ($check:ident: $($name:ident),+ $(,)?) => {
        $( #[test] fn $name() { $check(stringify!($name)); } )+
    };
}

mod request {
    use super::check_request;
    golden!(check_request:
        system_and_params, merges_consecutive_turns, system_folded_for_titan, tools_round_trip,
        tool_choice_named_and_none, tool_choice_none_drops_tools, history_tools_without_tools_field,
        legacy_functions, image_data_url, reasoning_effort, json_schema_forced_tool,
        json_schema_native, json_object_forced_tool, error_json_schema_not_object,
        error_empty_messages, error_only_system, error_starts_with_assistant,
        error_temperature_above_one, error_n_above_one, error_bad_tool_arguments, error_remote_image,
        error_bad_base64_image, error_svg_image, error_empty_user_message, error_bad_tool_name,
        error_reasoning_on_titan, error_audio_part, error_unknown_tool_choice,
        tool_choice_none_renders_history_as_text, legacy_function_call_none_renders_history_as_text,
        tool_ids_rewritten_injectively, error_tool_id_collision,
        document_pdf, documents_unique_names_and_formats, error_document_type_mismatch,
        error_document_unsupported_type, error_too_many_documents, error_document_without_text,
        error_document_file_id, error_document_remote_url,
        cache_control_becomes_cache_points, cache_control_dropped_for_models_without_caching,
        cache_points_nova_no_tools, cache_points_keep_the_last_four, error_cache_control_ttl,
    );
}

mod response {
    use super::check_response;
    golden!(check_response: text, tool_use, reasoning_and_cache, guardrail, json_output_tool);
}

mod stream {
    use super::check_stream;
    golden!(check_stream: text_with_usage, tools_interleaved, metadata_before_stop_and_reasoning, json_output_tool);
}

#[test]
fn every_fixture_has_a_test() {
    let source = include_str!("golden.rs");
    for kind in ["request", "response", "stream"] {
        let dir = format!("{}/tests/golden/{kind}", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let stem = name.trim_end_matches(".json");
            assert!(source.contains(stem), "fixture {kind}/{name} has no test");
        }
    }
}
