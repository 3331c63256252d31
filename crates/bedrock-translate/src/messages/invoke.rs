//! Claude on the Messages front door: Anthropic's own body through InvokeModel
//! (`/model/{id}/invoke`, `/invoke-with-response-stream`), nearly untouched.
//!
//! The request loses `model` and `stream` (the model goes in the path, streaming is the
//! operation), gains `anthropic_version: "bedrock-2023-05-31"` (whatever the client said) and
//! `anthropic_beta` from the `anthropic-beta` header (the betas Bedrock knows,
//! [`BEDROCK_BETAS`]); every other member is passed through byte for byte, in order ([`RawObject`]). The answer is Anthropic's Message JSON with the `model`
//! member set back to the name the client sent. The stream is one event-stream `chunk` per
//! Anthropic event (`{"bytes":"<base64 of the event JSON>"}`), written as
//! `event: <type>\ndata: <json>\n\n` unchanged except for `message_start.message.model`.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::messages::invoke::invoke_request;
//!
//! let call = invoke_request(
//!     br#"{"model":"claude-sonnet-4-5","max_tokens":10,"stream":true,"anthropic_version":"x","messages":[]}"#,
//!     Some("context-1m-2025-08-07,claude-code-20250219"),
//! ).unwrap();
//! assert_eq!(call.model, "claude-sonnet-4-5");
//! assert!(call.stream);
//! assert_eq!(
//!     &call.body[..],
//!     br#"{"max_tokens":10,"messages":[],"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["context-1m-2025-08-07"]}"#
//! );
//! ```

use std::borrow::Cow;

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::body::{SseTranslator, cut_short, malformed};
use crate::error::{ApiError, TranslateError};
use crate::messages::error::write_error_event;

/// The `anthropic_version` Bedrock takes.
pub const BEDROCK_ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";

/// The betas Bedrock's InvokeModel takes for Claude (AWS's "Anthropic Claude Messages API"
/// parameters page). Others from the `anthropic-beta` header are dropped: Bedrock refuses a
/// request naming one with 400 `invalid beta flag`, and first-party clients such as Claude
/// Code send several (`claude-code-20250219`, `oauth-2025-04-20`, ...). Whether a model takes
/// a listed beta is still Bedrock's to say.
pub const BEDROCK_BETAS: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
];

/// A JSON object whose members keep their order and their exact text.
#[derive(Debug, Clone, Default)]
pub struct RawObject(pub Vec<(String, Box<RawValue>)>);

impl RawObject {
    /// The member `key`, if present (the last one, as JSON parsers do).
    pub fn get(&self, key: &str) -> Option<&RawValue> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// Removes every member `key`; returns the last one's value.
    pub fn remove(&mut self, key: &str) -> Option<Box<RawValue>> {
        let mut removed = None;
        self.0.retain_mut(|(k, v)| {
            if k == key {
                removed = Some(std::mem::replace(v, RawValue::NULL.to_owned()));
                false
            } else {
                true
            }
        });
        removed
    }

    /// Sets `key` to `value`: in place of the first member `key` (dropping any later ones),
    /// else at the end.
    pub fn set(&mut self, key: &str, value: &impl Serialize) {
        let raw = serde_json::value::to_raw_value(value).expect("JSON values serialise");
        match self.0.iter().position(|(k, _)| k == key) {
            Some(first) => {
                self.0[first].1 = raw;
                let mut i = 0;
                self.0.retain(|(k, _)| {
                    let keep = k != key || i == first;
                    i += 1;
                    keep
                });
            }
            None => self.0.push((key.to_owned(), raw)),
        }
    }

    /// The object as compact JSON.
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("raw objects serialise"))
    }
}

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = RawObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(RawObject(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

impl Serialize for RawObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A Messages request ready for InvokeModel.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// The `model` the client sent.
    pub model: String,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// The InvokeModel body.
    pub body: Bytes,
}

/// The InvokeModel body of a Messages request (`body`) and its `anthropic-beta` header (`betas`,
/// comma-separated).
pub fn invoke_request(body: &[u8], betas: Option<&str>) -> Result<InvokeRequest, TranslateError> {
    let mut object = parse_object(body)?;
    let model = take_model(&mut object)?;
    let stream = match object.remove("stream") {
        None => false,
        Some(raw) => serde_json::from_str::<Option<bool>>(raw.get())
            .map_err(|_| TranslateError::invalid("stream", "stream must be a boolean"))?
            .unwrap_or(false),
    };
    set_version_and_betas(&mut object, betas)?;
    Ok(InvokeRequest {
        model,
        stream,
        body: object.to_bytes(),
    })
}

/// The CountTokens body for a count_tokens request to a Claude model: the Anthropic body
/// (no `model`, `anthropic_version` for Bedrock, `max_tokens: 1`), base64, as
/// `{"input":{"invokeModel":{"body":...}}}`; and the `model` the client sent.
pub fn count_tokens_request(
    body: &[u8],
    betas: Option<&str>,
) -> Result<(String, Bytes), TranslateError> {
    let mut object = parse_object(body)?;
    let model = take_model(&mut object)?;
    object.remove("stream");
    object.set("max_tokens", &1);
    set_version_and_betas(&mut object, betas)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(object.to_bytes());
    let wrapped = serde_json::json!({"input": {"invokeModel": {"body": encoded}}});
    Ok((model, Bytes::from(wrapped.to_string())))
}

fn parse_object(body: &[u8]) -> Result<RawObject, TranslateError> {
    serde_json::from_slice(body).map_err(|e| TranslateError::Json(e.to_string()))
}

fn take_model(object: &mut RawObject) -> Result<String, TranslateError> {
    let raw = object
        .remove("model")
        .ok_or_else(|| TranslateError::invalid("model", "model: field required"))?;
    serde_json::from_str::<String>(raw.get())
        .map_err(|_| TranslateError::invalid("model", "model must be a string"))
}

/// `anthropic_version` for Bedrock; `anthropic_beta`: the body's betas (untouched), then the
/// header's that Bedrock knows ([`BEDROCK_BETAS`]).
fn set_version_and_betas(
    object: &mut RawObject,
    header: Option<&str>,
) -> Result<(), TranslateError> {
    object.remove("anthropic_version");
    object.set("anthropic_version", &BEDROCK_ANTHROPIC_VERSION);
    let Some(header) = header else {
        return Ok(());
    };
    let mut betas: Vec<String> = match object.get("anthropic_beta") {
        Some(raw) => serde_json::from_str(raw.get()).map_err(|_| {
            TranslateError::invalid("anthropic_beta", "anthropic_beta must be a list of strings")
        })?,
        None => Vec::new(),
    };
    let known = header
        .split(',')
        .map(str::trim)
        .filter(|b| BEDROCK_BETAS.contains(b));
    for beta in known {
        if !betas.iter().any(|b| b == beta) {
            betas.push(beta.to_owned());
        }
    }
    if !betas.is_empty() {
        object.set("anthropic_beta", &betas);
    }
    Ok(())
}

/// Usage as Anthropic reports it, converted for metering: prompt = input + cache reads +
/// cache writes.
pub fn metered_usage(usage: &anthropic_types::Usage) -> openai_types::chat::Usage {
    let read = usage.cache_read_input_tokens.unwrap_or(0);
    let write = usage.cache_creation_input_tokens.unwrap_or(0);
    let prompt = usage
        .input_tokens
        .saturating_add(read)
        .saturating_add(write);
    openai_types::chat::Usage {
        prompt_tokens: prompt,
        completion_tokens: usage.output_tokens,
        total_tokens: prompt.saturating_add(usage.output_tokens),
        prompt_tokens_details: openai_types::chat::PromptTokensDetails {
            cached_tokens: read,
            cache_write_tokens: write,
        },
        ..openai_types::chat::Usage::default()
    }
}

/// The usage members of a Message or an event's `usage`, each optional (deltas carry some).
#[derive(Debug, Default, Deserialize)]
struct UsageFields {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

impl UsageFields {
    /// Overwrites what `self` reports (Anthropic's usage is cumulative).
    fn apply(self, usage: &mut anthropic_types::Usage) {
        usage.input_tokens = self.input_tokens.unwrap_or(usage.input_tokens);
        usage.output_tokens = self.output_tokens.unwrap_or(usage.output_tokens);
        if self.cache_creation_input_tokens.is_some() {
            usage.cache_creation_input_tokens = self.cache_creation_input_tokens;
        }
        if self.cache_read_input_tokens.is_some() {
            usage.cache_read_input_tokens = self.cache_read_input_tokens;
        }
    }
}

/// A Claude answer: the Message JSON with `model` set to `model`, and its usage.
pub fn rewrite_answer(
    answer: &[u8],
    model: &str,
) -> Result<(Bytes, Option<openai_types::chat::Usage>), serde_json::Error> {
    let mut object: RawObject = serde_json::from_slice(answer)?;
    object.set("model", &model);
    let usage = object
        .get("usage")
        .and_then(|raw| serde_json::from_str::<UsageFields>(raw.get()).ok())
        .map(|fields| {
            let mut usage = anthropic_types::Usage::default();
            fields.apply(&mut usage);
            metered_usage(&usage)
        });
    Ok((object.to_bytes(), usage))
}

/// The events of an InvokeModelWithResponseStream answer as Anthropic's SSE.
#[derive(Debug)]
pub struct ChunkEvents {
    /// The model name the client sent.
    model: String,
    usage: anthropic_types::Usage,
    /// Whether usage was reported.
    usage_seen: bool,
    /// Whether `message_stop` went out.
    stopped: bool,
}

impl ChunkEvents {
    /// Events of an answer to a request for `model` (the client's name).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            usage: anthropic_types::Usage::default(),
            usage_seen: false,
            stopped: false,
        }
    }

    /// One Anthropic event JSON: its SSE, the model rewritten in `message_start`.
    fn on_anthropic_event(&mut self, json: &[u8], out: &mut BytesMut) -> Result<(), ApiError> {
        #[derive(Deserialize)]
        struct Head<'a> {
            #[serde(rename = "type", borrow)]
            kind: Cow<'a, str>,
            #[serde(default)]
            usage: Option<UsageFields>,
            #[serde(default)]
            message: Option<MessageHead>,
        }
        #[derive(Deserialize)]
        struct MessageHead {
            #[serde(default)]
            usage: Option<UsageFields>,
        }
        // serde_json skips the strings it ignores without checking their UTF-8, and the event
        // is passed on verbatim: bytes that are not UTF-8 would reach the client's stream.
        std::str::from_utf8(json).map_err(|e| malformed(&format!("bad Anthropic event: {e}")))?;
        let head: Head = serde_json::from_slice(json)
            .map_err(|e| malformed(&format!("bad Anthropic event: {e}")))?;
        if head.kind.is_empty()
            || !head
                .kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            return Err(malformed("bad Anthropic event type"));
        }
        let fields = head.usage.or(head.message.and_then(|m| m.usage));
        if let Some(fields) = fields {
            fields.apply(&mut self.usage);
            self.usage_seen = true;
        }
        // Most events are copied as they are, straight into `out`; `data` is set (before
        // anything is written, so that an error leaves `out` untouched) only when the event
        // must be rewritten.
        let data = if head.kind == "message_start" {
            let mut event: RawObject = serde_json::from_slice(json)
                .map_err(|e| malformed(&format!("bad message_start: {e}")))?;
            if let Some(raw) = event.get("message") {
                let mut message: RawObject = serde_json::from_str(raw.get())
                    .map_err(|e| malformed(&format!("bad message_start: {e}")))?;
                message.set("model", &self.model);
                event.set("message", &message);
            }
            Some(event.to_bytes())
        } else {
            compact(json)?
        };
        // Anthropic's own error event ends the stream as message_stop does.
        self.stopped |= head.kind == "message_stop" || head.kind == "error";
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(head.kind.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        out.extend_from_slice(data.as_deref().unwrap_or(json));
        out.extend_from_slice(b"\n\n");
        Ok(())
    }
}

/// The JSON as one line: `None` when it already is one (use it as it is).
fn compact(json: &[u8]) -> Result<Option<Bytes>, ApiError> {
    if !json.iter().any(|&b| b == b'\n' || b == b'\r') {
        return Ok(None);
    }
    let value: Box<RawValue> = serde_json::from_slice(json)
        .map_err(|e| malformed(&format!("bad Anthropic event: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(value.get()).map_err(|e| malformed(&e.to_string()))?;
    Ok(Some(Bytes::from(value.to_string())))
}

impl SseTranslator for ChunkEvents {
    fn on_event(
        &mut self,
        event_type: &str,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), ApiError> {
        if event_type != "chunk" {
            return Ok(());
        }
        #[derive(Deserialize)]
        struct Chunk<'a> {
            #[serde(borrow)]
            bytes: Cow<'a, str>,
        }
        let chunk: Chunk = serde_json::from_slice(payload)
            .map_err(|e| malformed(&format!("bad chunk event: {e}")))?;
        let json = base64::engine::general_purpose::STANDARD
            .decode(chunk.bytes.as_bytes())
            .map_err(|e| malformed(&format!("bad chunk bytes: {e}")))?;
        self.on_anthropic_event(&json, out)
    }

    fn on_end(&mut self, _out: &mut BytesMut) -> Result<(), ApiError> {
        if self.stopped {
            Ok(())
        } else {
            Err(cut_short())
        }
    }

    fn on_error(&mut self, err: &ApiError, out: &mut BytesMut) {
        write_error_event(err, out);
    }

    fn usage(&self) -> Option<openai_types::chat::Usage> {
        self.usage_seen.then(|| metered_usage(&self.usage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chunk(event: &serde_json::Value) -> Vec<u8> {
        let bytes = base64::engine::general_purpose::STANDARD.encode(event.to_string());
        json!({ "bytes": bytes }).to_string().into_bytes()
    }

    #[test]
    fn the_invoke_body_keeps_everything_else_untouched() {
        let body = br#"{"model":"us.anthropic.claude-sonnet-4-5-20250929-v1:0","temperature":0.70,"messages":[{"role":"user","content":"hi"}],"anthropic_beta":["a"],"max_tokens":5}"#;
        let header = " interleaved-thinking-2025-05-14 , a,,claude-code-20250219,effort-2025-11-24";
        let call = invoke_request(body, Some(header)).unwrap();
        assert!(!call.stream);
        assert_eq!(call.model, "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
        assert_eq!(
            std::str::from_utf8(&call.body).unwrap(),
            r#"{"temperature":0.70,"messages":[{"role":"user","content":"hi"}],"anthropic_beta":["a","interleaved-thinking-2025-05-14","effort-2025-11-24"],"max_tokens":5,"anthropic_version":"bedrock-2023-05-31"}"#
        );
    }

    #[test]
    fn chunk_events_that_are_not_utf8_are_refused_not_passed_on() {
        // Found by the sse_translators fuzz target: the ignored `text` was copied out verbatim.
        let json = b"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\xff\"}}";
        let bytes = base64::engine::general_purpose::STANDARD.encode(json);
        let payload = json!({ "bytes": bytes }).to_string().into_bytes();
        let mut translator = ChunkEvents::new("m");
        let mut out = BytesMut::new();
        assert!(translator.on_event("chunk", &payload, &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn bodies_that_are_not_objects_or_lack_a_model_are_refused() {
        for bad in [&b"[]"[..], b"{", br#"{"max_tokens":1}"#, br#"{"model":5}"#] {
            assert!(invoke_request(bad, None).is_err(), "{bad:?}");
        }
        assert!(invoke_request(br#"{"model":"m","stream":"yes"}"#, None).is_err());
    }

    #[test]
    fn count_tokens_wraps_the_body_with_max_tokens_one() {
        let (model, body) = count_tokens_request(
            br#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}"#,
            None,
        )
        .unwrap();
        assert_eq!(model, "claude-sonnet-4-5");
        let wrapped: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let inner = base64::engine::general_purpose::STANDARD
            .decode(wrapped["input"]["invokeModel"]["body"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&inner).unwrap(),
            r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":1,"anthropic_version":"bedrock-2023-05-31"}"#
        );
    }

    #[test]
    fn the_answer_names_the_clients_model() {
        let answer = br#"{"id":"msg_1","type":"message","model":"claude-sonnet-4-5-20250929","content":[],"usage":{"input_tokens":3,"cache_read_input_tokens":4,"cache_creation_input_tokens":5,"output_tokens":2}}"#;
        let (json, usage) = rewrite_answer(answer, "claude-sonnet-4-5").unwrap();
        assert_eq!(
            std::str::from_utf8(&json).unwrap(),
            r#"{"id":"msg_1","type":"message","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":3,"cache_read_input_tokens":4,"cache_creation_input_tokens":5,"output_tokens":2}}"#
        );
        let usage = usage.unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (12, 2, 14)
        );
        assert_eq!(usage.prompt_tokens_details.cached_tokens, 4);
        assert_eq!(usage.prompt_tokens_details.cache_write_tokens, 5);
    }

    #[test]
    fn chunks_become_the_same_events() {
        let events = [
            json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":7,"output_tokens":1}}}),
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}),
            json!({"type":"content_block_stop","index":0}),
            json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}),
            json!({"type":"message_stop"}),
        ];
        let mut translator = ChunkEvents::new("claude-sonnet-4-5");
        let mut out = BytesMut::new();
        for event in &events {
            translator
                .on_event("chunk", &chunk(event), &mut out)
                .unwrap();
        }
        translator.on_end(&mut out).unwrap();
        let expected = [
            r#"event: message_start
data: {"message":{"content":[],"id":"msg_1","model":"claude-sonnet-4-5","role":"assistant","stop_reason":null,"stop_sequence":null,"type":"message","usage":{"input_tokens":7,"output_tokens":1}},"type":"message_start"}"#,
            r#"event: content_block_start
data: {"content_block":{"text":"","type":"text"},"index":0,"type":"content_block_start"}"#,
            r#"event: content_block_delta
data: {"delta":{"text":"Hi","type":"text_delta"},"index":0,"type":"content_block_delta"}"#,
            r#"event: content_block_stop
data: {"index":0,"type":"content_block_stop"}"#,
            r#"event: message_delta
data: {"delta":{"stop_reason":"end_turn","stop_sequence":null},"type":"message_delta","usage":{"output_tokens":3}}"#,
            r#"event: message_stop
data: {"type":"message_stop"}"#,
        ];
        let got = std::str::from_utf8(&out).unwrap();
        assert_eq!(got, format!("{}\n\n", expected.join("\n\n")));
        let usage = translator.usage().unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (7, 3));
    }

    #[test]
    fn escaped_and_multi_line_events_are_read_and_a_bad_one_writes_nothing() {
        use base64::Engine as _;
        let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        let mut translator = ChunkEvents::new("claude-sonnet-4-5");
        let mut out = BytesMut::new();
        // A multi-line event whose type is written with escapes, in a chunk whose base64 has
        // its slashes escaped: read as the same event, written on one line.
        let event =
            "{\n  \"type\": \"content\\u005fblock\\u005fstop\",\n  \"index\": 0, \"x\": \"???\"\n}";
        let bytes = encode(event);
        assert!(bytes.contains('/'), "the test needs a slash in the base64");
        let payload = json!({ "bytes": bytes }).to_string().replace('/', "\\/");
        translator
            .on_event("chunk", payload.as_bytes(), &mut out)
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "event: content_block_stop\ndata: {\"index\":0,\"type\":\"content_block_stop\",\"x\":\"???\"}\n\n"
        );
        // A broken event leaves what was written alone.
        let before = out.clone();
        let broken = json!({ "bytes": encode("{\"type\":\"message_delta\",\n") }).to_string();
        assert!(
            translator
                .on_event("chunk", broken.as_bytes(), &mut out)
                .is_err()
        );
        assert_eq!(out, before);
    }

    #[tokio::test]
    async fn an_exception_frame_mid_stream_is_an_anthropic_error_event() {
        use bedrock_mock::eventstream::{event, exception};
        use http_body::Frame;
        use http_body_util::{BodyExt, StreamBody};

        use crate::body::{EventsBody, OpenAiBody};

        let start = json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":7,"output_tokens":1}}});
        let frames = [
            event("chunk", serde_json::from_slice(&chunk(&start)).unwrap(), 3),
            exception("throttlingException", "slow down"),
        ];
        let upstream = StreamBody::new(futures_util::stream::iter(
            frames.map(|f| Ok::<_, std::io::Error>(Frame::data(f))),
        ));
        let mut events =
            EventsBody::with_translator(upstream, Box::new(ChunkEvents::new("claude-x")));
        events.prime().await.unwrap();
        let body = OpenAiBody::Events(events)
            .collect()
            .await
            .unwrap()
            .to_bytes();
        let text = std::str::from_utf8(&body).unwrap();
        let last = text.trim_end().rsplit("\n\n").next().unwrap();
        assert!(text.starts_with("event: message_start\n"), "{text}");
        assert!(
            last.starts_with(
                "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\""
            ),
            "{last}"
        );
    }

    #[test]
    fn a_stream_without_message_stop_is_cut_short_and_errors_are_events() {
        let mut translator = ChunkEvents::new("m");
        let mut out = BytesMut::new();
        let err = translator.on_end(&mut out).unwrap_err();
        translator.on_error(&err, &mut out);
        assert!(std::str::from_utf8(&out).unwrap().starts_with(
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\""
        ));
        assert!(
            translator
                .on_event("chunk", &chunk(&json!({"type":"bad\ntype"})), &mut out)
                .is_err()
        );
    }
}
