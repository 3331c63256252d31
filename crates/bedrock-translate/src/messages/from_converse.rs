//! Converse answers -> Anthropic's Message, and ConverseStream events -> Anthropic's SSE.
//!
//! Stop reasons: `end_turn`, `tool_use`, `stop_sequence`, `max_tokens` and
//! `model_context_window_exceeded` keep their names; `guardrail_intervened` and
//! `content_filtered` are `refusal`; `malformed_model_output` and `malformed_tool_use` are a 500
//! `api_error`. Usage: `input_tokens` is Converse's `inputTokens` (cache reads and writes
//! excluded), `cache_read_input_tokens` / `cache_creation_input_tokens` are its
//! `cacheReadInputTokens` / `cacheWriteInputTokens`.
//!
//! `stop_sequence`: Converse says only that *a* stop sequence ended the answer, and the models
//! served here (not Claude, which goes to InvokeModel) have no native `stop_sequence` field
//! that `additionalModelResponseFieldPaths` could fetch. So it is derived ([`StopSequences`]):
//! the request's sequence the text ends with (some models keep it), else the request's only
//! sequence; with several and none at the end it is `null` rather than a guess.
//!
//! Citations: a `citationsContent` block is a `text` block with `citations`, a stream's
//! `citation` delta a `citations_delta` ([`citation`]: `documentChar` -> `char_location`,
//! `documentPage` -> `page_location`, `documentChunk` -> `content_block_location`,
//! `searchResultLocation` -> `search_result_location`, `web` -> `web_search_result_location`;
//! `cited_text` is the joined `sourceContent` text; indexes and bounds are passed as Bedrock
//! gives them).
//!
//! The stream: `messageStart` -> `message_start` (usage 0, the real counts come at the end) and
//! `ping`; each Converse block -> `content_block_start` (on its first delta, or its
//! `contentBlockStart` for tools), its deltas, `content_block_stop`, with dense indexes from 0;
//! `messageStop` is held until `metadata` (which carries the usage) -> `message_delta` (stop
//! reason, cumulative usage including the input and cache counts) and `message_stop`.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::body::SseTranslator;
//! use bedrock_translate::messages::from_converse::MessagesEvents;
//!
//! let mut events = MessagesEvents::new("msg_1".into(), "amazon.nova-lite-v1:0");
//! let mut out = bytes::BytesMut::new();
//! events.on_event("messageStart", br#"{"role":"assistant"}"#, &mut out).unwrap();
//! events
//!     .on_event("contentBlockDelta", br#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#, &mut out)
//!     .unwrap();
//! let sse = std::str::from_utf8(&out).unwrap();
//! assert!(sse.starts_with("event: message_start\n"));
//! assert!(sse.ends_with(
//!     "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
//! ));
//! ```

use std::collections::HashMap;

use anthropic_types::{
    Delta, DeltaUsage, Message, MessageDeltaBody, ResponseBlock, StreamEvent, Usage,
};
use bytes::BytesMut;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::body::{SseTranslator, cut_short, malformed, parse_event, write_sse};
use crate::converse::{Citation, CitationsContentBlock, ConverseResponse, TokenUsage};
use crate::error::ApiError;
use crate::messages::error::write_error_event;
use crate::messages::invoke::metered_usage;

/// A fresh message id: `msg_` and 24 random letters and digits.
pub fn message_id() -> String {
    let mut id = String::with_capacity(28);
    id.push_str("msg_");
    id.extend(std::iter::repeat_with(fastrand::alphanumeric).take(24));
    id
}

/// Anthropic's stop reason for Converse's; `Err` for the malformed-output reasons.
pub fn stop_reason(converse: &str) -> Result<&'static str, ApiError> {
    Ok(match converse {
        "tool_use" => "tool_use",
        "stop_sequence" => "stop_sequence",
        "max_tokens" => "max_tokens",
        "model_context_window_exceeded" => "model_context_window_exceeded",
        "guardrail_intervened" | "content_filtered" => "refusal",
        "malformed_model_output" | "malformed_tool_use" => {
            return Err(ApiError::server(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the model produced malformed output ({converse})"),
                "model_error",
            ));
        }
        _ => "end_turn",
    })
}

/// The request's stop sequences, to say which one ended an answer.
#[derive(Debug, Clone, Default)]
pub struct StopSequences(Vec<String>);

impl StopSequences {
    /// The request's `stop_sequences` (empty ones can never match and are left out).
    pub fn new(sequences: Option<Vec<String>>) -> Self {
        Self(
            sequences
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect(),
        )
    }

    /// The sequence that ended an answer whose text ends with `text`: the longest one `text`
    /// ends with, else the only one there is; `None` when that cannot be told.
    pub fn matched(&self, text: &str) -> Option<String> {
        let at_end = self
            .0
            .iter()
            .filter(|s| text.ends_with(s.as_str()))
            .max_by_key(|s| s.len());
        match (at_end, self.0.as_slice()) {
            (Some(found), _) => Some(found.clone()),
            (None, [only]) => Some(only.clone()),
            _ => None,
        }
    }

    /// The length of the longest sequence: how much of the text's end [`Self::matched`] needs.
    fn longest(&self) -> usize {
        self.0.iter().map(String::len).max().unwrap_or(0)
    }
}

/// Anthropic's citation for a Converse one; `None` for a location Anthropic has no type for.
pub fn citation(converse: &Citation) -> Option<Value> {
    let cited_text: String = converse
        .source_content
        .iter()
        .map(|c| c.text.as_str())
        .collect();
    let title = json!(converse.title);
    let (kind, at) = converse.location.as_ref()?.as_object()?.iter().next()?;
    let field = |name: &str| at.get(name).cloned().unwrap_or(Value::Null);
    Some(match kind.as_str() {
        "documentChar" => json!({"type": "char_location", "cited_text": cited_text,
            "document_index": field("documentIndex"), "document_title": title,
            "start_char_index": field("start"), "end_char_index": field("end")}),
        "documentPage" => json!({"type": "page_location", "cited_text": cited_text,
            "document_index": field("documentIndex"), "document_title": title,
            "start_page_number": field("start"), "end_page_number": field("end")}),
        "documentChunk" => json!({"type": "content_block_location", "cited_text": cited_text,
            "document_index": field("documentIndex"), "document_title": title,
            "start_block_index": field("start"), "end_block_index": field("end")}),
        "searchResultLocation" => json!({"type": "search_result_location",
            "cited_text": cited_text, "search_result_index": field("searchResultIndex"),
            "source": converse.source, "title": title,
            "start_block_index": field("start"), "end_block_index": field("end")}),
        "web" => json!({"type": "web_search_result_location", "cited_text": cited_text,
            "url": field("url"), "title": title, "encrypted_index": ""}),
        _ => return None,
    })
}

/// A `citationsContent` block as a text block with its citations.
fn cited_text(block: CitationsContentBlock) -> ResponseBlock {
    ResponseBlock::Text {
        text: block.content.into_iter().map(|c| c.text).collect(),
        citations: Some(block.citations.iter().filter_map(citation).collect()),
    }
}

/// Anthropic's usage for Converse's.
pub fn usage(usage: &TokenUsage) -> Usage {
    Usage {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_creation_input_tokens: usage.cache_write_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
    }
}

/// A Converse answer as a Message for `model` (the client's name) with `id`; `stops` are the
/// request's stop sequences.
pub fn converse_to_message(
    response: ConverseResponse,
    id: String,
    model: &str,
    stops: &StopSequences,
) -> Result<Message, ApiError> {
    let blocks = response
        .output
        .message
        .map(|m| m.content)
        .unwrap_or_default();
    let mut content = Vec::with_capacity(blocks.len());
    for block in blocks {
        if let Some(text) = block.text {
            content.push(ResponseBlock::Text {
                text,
                citations: None,
            });
        } else if let Some(cited) = block.citations_content {
            content.push(cited_text(cited));
        } else if let Some(tool) = block.tool_use {
            content.push(ResponseBlock::ToolUse {
                id: tool.tool_use_id,
                name: tool.name,
                input: tool.input,
            });
        } else if let Some(reasoning) = block.reasoning_content {
            if let Some(text) = reasoning.reasoning_text {
                content.push(ResponseBlock::Thinking {
                    thinking: text.text,
                    signature: text.signature.unwrap_or_default(),
                });
            } else if let Some(data) = reasoning.redacted_content {
                content.push(ResponseBlock::RedactedThinking { data });
            }
        }
    }
    let reason = stop_reason(&response.stop_reason)?;
    let last_text = content.iter().rev().find_map(|b| match b {
        ResponseBlock::Text { text, .. } => Some(text.as_str()),
        _ => None,
    });
    let stop_sequence = (reason == "stop_sequence")
        .then(|| stops.matched(last_text.unwrap_or("")))
        .flatten();
    let mut message = Message::new(id, model.to_owned(), content, usage(&response.usage));
    message.stop_reason = Some(reason.to_owned());
    message.stop_sequence = stop_sequence;
    Ok(message)
}

/// `contentBlockStart`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStart {
    content_block_index: u32,
    #[serde(default)]
    start: Option<StartMember>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartMember {
    #[serde(default)]
    tool_use: Option<ToolUseStart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseStart {
    tool_use_id: String,
    name: String,
}

/// `contentBlockDelta`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDelta {
    content_block_index: u32,
    delta: DeltaMember,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeltaMember {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tool_use: Option<ToolUseDelta>,
    #[serde(default)]
    reasoning_content: Option<ReasoningDelta>,
    #[serde(default)]
    citation: Option<Citation>,
}

#[derive(Debug, Deserialize)]
struct ToolUseDelta {
    #[serde(default)]
    input: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReasoningDelta {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    redacted_content: Option<String>,
}

/// `contentBlockStop`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStop {
    content_block_index: u32,
}

/// `messageStop`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageStop {
    #[serde(default)]
    stop_reason: String,
}

/// `metadata`.
#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    usage: Option<TokenUsage>,
}

/// The Messages stream of a ConverseStream answer.
#[derive(Debug)]
pub struct MessagesEvents {
    id: String,
    model: String,
    /// Converse block index -> the Anthropic index of its open block.
    open: HashMap<u32, usize>,
    /// The next Anthropic index.
    next: usize,
    started: bool,
    /// Held from `messageStop` until `metadata`.
    stop_reason: Option<&'static str>,
    usage: Option<Usage>,
    finished: bool,
    /// The request's stop sequences.
    stops: StopSequences,
    /// The end of the answer's text, as long as the longest stop sequence.
    tail: String,
}

impl MessagesEvents {
    /// The stream of message `id` for `model` (the client's name).
    pub fn new(id: String, model: impl Into<String>) -> Self {
        Self {
            id,
            model: model.into(),
            open: HashMap::new(),
            next: 0,
            started: false,
            stop_reason: None,
            usage: None,
            finished: false,
            stops: StopSequences::default(),
            tail: String::new(),
        }
    }

    /// The same, for a request with stop sequences `stops`.
    pub fn with_stop_sequences(mut self, stops: StopSequences) -> Self {
        self.stops = stops;
        self
    }

    /// Keeps the end of the text for [`StopSequences::matched`].
    fn remember(&mut self, text: &str) {
        let keep = self.stops.longest();
        if keep == 0 {
            return;
        }
        self.tail.push_str(text);
        if self.tail.len() > keep {
            let mut cut = self.tail.len() - keep;
            while !self.tail.is_char_boundary(cut) {
                cut -= 1;
            }
            self.tail.drain(..cut);
        }
    }

    fn emit(out: &mut BytesMut, event: &StreamEvent) {
        write_sse(out, Some(event.name()), event);
    }

    fn message_start(&mut self, out: &mut BytesMut) {
        if self.started {
            return;
        }
        self.started = true;
        let message = Message::new(
            self.id.clone(),
            self.model.clone(),
            Vec::new(),
            Usage::default(),
        );
        Self::emit(out, &StreamEvent::MessageStart { message });
        Self::emit(out, &StreamEvent::Ping);
    }

    /// The Anthropic index of Converse block `index`, starting `block` if it is not open.
    fn open_block(&mut self, index: u32, block: ResponseBlock, out: &mut BytesMut) -> usize {
        self.message_start(out);
        if let Some(&at) = self.open.get(&index) {
            return at;
        }
        let at = self.next;
        self.next += 1;
        self.open.insert(index, at);
        Self::emit(
            out,
            &StreamEvent::ContentBlockStart {
                index: at,
                content_block: block,
            },
        );
        at
    }

    fn on_start(&mut self, start: BlockStart, out: &mut BytesMut) {
        if let Some(tool) = start.start.and_then(|s| s.tool_use) {
            let block = ResponseBlock::ToolUse {
                id: tool.tool_use_id,
                name: tool.name,
                input: serde_json::json!({}),
            };
            self.open_block(start.content_block_index, block, out);
        }
    }

    fn on_delta(&mut self, delta: BlockDelta, out: &mut BytesMut) -> Result<(), ApiError> {
        let index = delta.content_block_index;
        let d = delta.delta;
        let (block, delta) = if let Some(text) = d.text {
            self.remember(&text);
            let block = ResponseBlock::Text {
                text: String::new(),
                citations: None,
            };
            (block, Some(Delta::TextDelta { text }))
        } else if let Some(cited) = d.citation {
            let Some(citation) = citation(&cited) else {
                return Ok(());
            };
            let block = ResponseBlock::Text {
                text: String::new(),
                citations: None,
            };
            (block, Some(Delta::CitationsDelta { citation }))
        } else if let Some(tool) = d.tool_use {
            if !self.open.contains_key(&index) {
                return Err(malformed("tool input before its contentBlockStart"));
            }
            let block = ResponseBlock::Text {
                text: String::new(),
                citations: None,
            };
            let delta = Delta::InputJsonDelta {
                partial_json: tool.input,
            };
            (block, Some(delta))
        } else if let Some(reasoning) = d.reasoning_content {
            reasoning_delta(reasoning)
        } else {
            return Ok(());
        };
        let at = self.open_block(index, block, out);
        if let Some(delta) = delta {
            Self::emit(out, &StreamEvent::ContentBlockDelta { index: at, delta });
        }
        Ok(())
    }

    fn on_stop(&mut self, stop: BlockStop, out: &mut BytesMut) {
        if let Some(at) = self.open.remove(&stop.content_block_index) {
            Self::emit(out, &StreamEvent::ContentBlockStop { index: at });
        }
    }

    /// Closes open blocks, then `message_delta` and `message_stop`.
    fn finish(&mut self, out: &mut BytesMut) {
        self.message_start(out);
        let mut open: Vec<usize> = self.open.drain().map(|(_, at)| at).collect();
        open.sort_unstable();
        for index in open {
            Self::emit(out, &StreamEvent::ContentBlockStop { index });
        }
        let usage = self.usage.unwrap_or_default();
        let stop_sequence = (self.stop_reason == Some("stop_sequence"))
            .then(|| self.stops.matched(&self.tail))
            .flatten();
        let delta = StreamEvent::MessageDelta {
            delta: MessageDeltaBody {
                stop_reason: self.stop_reason.map(str::to_owned),
                stop_sequence,
            },
            usage: DeltaUsage {
                output_tokens: usage.output_tokens,
                input_tokens: Some(usage.input_tokens),
                cache_creation_input_tokens: Some(usage.cache_creation_input_tokens.unwrap_or(0)),
                cache_read_input_tokens: Some(usage.cache_read_input_tokens.unwrap_or(0)),
            },
        };
        Self::emit(out, &delta);
        Self::emit(out, &StreamEvent::MessageStop);
        self.finished = true;
    }
}

/// The block a reasoning delta belongs to, and the delta.
fn reasoning_delta(reasoning: ReasoningDelta) -> (ResponseBlock, Option<Delta>) {
    let thinking = || ResponseBlock::Thinking {
        thinking: String::new(),
        signature: String::new(),
    };
    if let Some(data) = reasoning.redacted_content {
        (ResponseBlock::RedactedThinking { data }, None)
    } else if let Some(signature) = reasoning.signature {
        (thinking(), Some(Delta::SignatureDelta { signature }))
    } else {
        let text = reasoning.text.unwrap_or_default();
        (thinking(), Some(Delta::ThinkingDelta { thinking: text }))
    }
}

impl SseTranslator for MessagesEvents {
    fn on_event(
        &mut self,
        event_type: &str,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), ApiError> {
        match event_type {
            "messageStart" => self.message_start(out),
            "contentBlockStart" => self.on_start(parse_event(event_type, payload)?, out),
            "contentBlockDelta" => self.on_delta(parse_event(event_type, payload)?, out)?,
            "contentBlockStop" => self.on_stop(parse_event(event_type, payload)?, out),
            "messageStop" => {
                let stop: MessageStop = parse_event(event_type, payload)?;
                self.stop_reason = Some(stop_reason(&stop.stop_reason)?);
            }
            "metadata" => {
                let metadata: Metadata = parse_event(event_type, payload)?;
                self.usage = metadata.usage.as_ref().map(usage);
                if self.stop_reason.is_some() && !self.finished {
                    self.finish(out);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A stream whose `metadata` never came still ends with its stop reason (usage 0); one
    /// without `messageStop` was cut short.
    fn on_end(&mut self, out: &mut BytesMut) -> Result<(), ApiError> {
        match (self.finished, self.stop_reason) {
            (true, _) => Ok(()),
            (false, Some(_)) => {
                self.finish(out);
                Ok(())
            }
            (false, None) => Err(cut_short()),
        }
    }

    fn on_error(&mut self, err: &ApiError, out: &mut BytesMut) {
        write_error_event(err, out);
    }

    fn usage(&self) -> Option<openai_types::chat::Usage> {
        self.usage.as_ref().map(metered_usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_becomes_a_message() {
        let response: ConverseResponse = serde_json::from_value(json!({
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "hm", "signature": "sig"}}},
                {"text": "Let me check."},
                {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}}
            ]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15, "cacheReadInputTokens": 4}
        }))
        .unwrap();
        let message = converse_to_message(
            response,
            "msg_1".into(),
            "amazon.nova-lite-v1:0",
            &StopSequences::default(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(message).unwrap(),
            json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "amazon.nova-lite-v1:0",
                   "content": [
                       {"type": "thinking", "thinking": "hm", "signature": "sig"},
                       {"type": "text", "text": "Let me check."},
                       {"type": "tool_use", "id": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}],
                   "stop_reason": "tool_use", "stop_sequence": null,
                   "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 4}})
        );
    }

    #[test]
    fn cited_text_keeps_its_citations_and_the_stop_sequence_is_named() {
        let response: ConverseResponse = serde_json::from_value(json!({
            "output": {"message": {"role": "assistant", "content": [
                {"citationsContent": {
                    "content": [{"text": "Paris is "}, {"text": "in France."}],
                    "citations": [
                        {"title": "Facts", "sourceContent": [{"text": "Paris is in France."}],
                         "location": {"documentChar": {"documentIndex": 0, "start": 0, "end": 19}}},
                        {"sourceContent": [{"text": "p. 2"}],
                         "location": {"documentPage": {"documentIndex": 1, "start": 2, "end": 3}}},
                        {"source": "https://example.com", "title": "Page", "sourceContent": [{"text": "Lyon"}],
                         "location": {"searchResultLocation": {"searchResultIndex": 0, "start": 0, "end": 1}}},
                        {"location": {"somethingNew": {}}}
                    ]}},
                {"text": "Bye"}
            ]}},
            "stopReason": "stop_sequence",
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15}
        }))
        .unwrap();
        let stops = StopSequences::new(Some(vec!["END".into()]));
        let message = converse_to_message(response.clone(), "msg_1".into(), "m", &stops).unwrap();
        let message = serde_json::to_value(message).unwrap();
        assert_eq!(
            message["content"][0],
            json!({"type": "text", "text": "Paris is in France.", "citations": [
                {"type": "char_location", "cited_text": "Paris is in France.", "document_index": 0,
                 "document_title": "Facts", "start_char_index": 0, "end_char_index": 19},
                {"type": "page_location", "cited_text": "p. 2", "document_index": 1,
                 "document_title": null, "start_page_number": 2, "end_page_number": 3},
                {"type": "search_result_location", "cited_text": "Lyon", "search_result_index": 0,
                 "source": "https://example.com", "title": "Page", "start_block_index": 0, "end_block_index": 1}
            ]})
        );
        assert_eq!(message["stop_reason"], "stop_sequence");
        assert_eq!(message["stop_sequence"], "END", "the only one");

        let several = StopSequences::new(Some(vec!["END".into(), "ye".into(), "STOP".into()]));
        let message = converse_to_message(response.clone(), "msg_1".into(), "m", &several).unwrap();
        assert_eq!(
            message.stop_sequence.as_deref(),
            Some("ye"),
            "the one the text ends with"
        );
        let unknown = StopSequences::new(Some(vec!["END".into(), "STOP".into()]));
        let message = converse_to_message(response, "msg_1".into(), "m", &unknown).unwrap();
        assert_eq!(message.stop_sequence, None, "no guess");
    }

    #[test]
    fn a_streamed_citation_is_a_citations_delta_and_the_stop_sequence_comes_at_the_end() {
        let mut translator = MessagesEvents::new("msg_1".into(), "m")
            .with_stop_sequences(StopSequences::new(Some(vec!["###".into(), "\n\n".into()])));
        let mut out = BytesMut::new();
        let events = [
            ("messageStart", json!({"role": "assistant"})),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "Paris is in France.\n"}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"citation": {
                "title": "Facts", "sourceContent": [{"text": "Paris is in France."}],
                "location": {"documentChunk": {"documentIndex": 0, "start": 1, "end": 2}}}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "\n"}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 0})),
            ("messageStop", json!({"stopReason": "stop_sequence"})),
            (
                "metadata",
                json!({"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}}),
            ),
        ];
        for (name, payload) in events {
            translator
                .on_event(name, payload.to_string().as_bytes(), &mut out)
                .unwrap();
        }
        let sse = String::from_utf8(out.to_vec()).unwrap();
        assert!(sse.contains(concat!(
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":"#,
            r#"{"cited_text":"Paris is in France.","document_index":0,"document_title":"Facts","#,
            r#""end_block_index":2,"start_block_index":1,"type":"content_block_location"}}}"#
        )), "{sse}");
        assert!(
            sse.contains(r#""delta":{"stop_reason":"stop_sequence","stop_sequence":"\n\n"}"#),
            "{sse}"
        );
    }

    #[test]
    fn stop_reasons_map() {
        assert_eq!(stop_reason("guardrail_intervened").unwrap(), "refusal");
        assert_eq!(stop_reason("max_tokens").unwrap(), "max_tokens");
        assert_eq!(stop_reason("end_turn").unwrap(), "end_turn");
        assert_eq!(
            stop_reason("malformed_tool_use").unwrap_err().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    fn run(events: &[(&str, serde_json::Value)]) -> (String, MessagesEvents) {
        let mut translator = MessagesEvents::new("msg_1".into(), "amazon.nova-lite-v1:0");
        let mut out = BytesMut::new();
        for (name, payload) in events {
            translator
                .on_event(name, payload.to_string().as_bytes(), &mut out)
                .unwrap();
        }
        translator.on_end(&mut out).unwrap();
        (String::from_utf8(out.to_vec()).unwrap(), translator)
    }

    #[test]
    fn a_stream_becomes_anthropics_events() {
        let (sse, translator) = run(&[
            ("messageStart", json!({"role": "assistant"})),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "hm"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig"}}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 0})),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"text": "Hi"}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 1})),
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "t1", "name": "f"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{\"a\":"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "1}"}}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 2})),
            ("messageStop", json!({"stopReason": "tool_use"})),
            (
                "metadata",
                json!({"usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13, "cacheWriteInputTokens": 2}, "metrics": {"latencyMs": 1}}),
            ),
        ]);
        let expected = [
            (
                "message_start",
                r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"amazon.nova-lite-v1:0","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}"#,
            ),
            ("ping", r#"{"type":"ping"}"#),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":1}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"1}"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":2}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":4,"input_tokens":9,"cache_creation_input_tokens":2,"cache_read_input_tokens":0}}"#,
            ),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ];
        let want: String = expected
            .iter()
            .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
            .collect();
        assert_eq!(sse, want);
        let usage = translator.usage().unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (11, 4));
    }

    #[test]
    fn a_stream_without_message_stop_is_cut_short() {
        let mut translator = MessagesEvents::new("msg_1".into(), "m");
        let mut out = BytesMut::new();
        translator
            .on_event("messageStart", b"{\"role\":\"assistant\"}", &mut out)
            .unwrap();
        let err = translator.on_end(&mut out).unwrap_err();
        out.clear();
        translator.on_error(&err, &mut out);
        assert!(
            std::str::from_utf8(&out)
                .unwrap()
                .starts_with("event: error\n")
        );
    }
}
