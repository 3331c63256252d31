//! ConverseStream events -> the Responses API's typed server-sent events, as an
//! [`SseTranslator`].
//!
//! The sequence, each event named by an `event:` line and numbered by `sequence_number` from 0:
//! - the first Bedrock event: `response.created`, `response.in_progress`;
//! - each content block is one output item, opened on its first event
//!   (`response.output_item.added`, then `response.content_part.added` for text or
//!   `response.reasoning_summary_part.added` for reasoning), fed by its deltas
//!   (`response.output_text.delta`, `response.reasoning_summary_text.delta`,
//!   `response.function_call_arguments.delta`; a text's `citation` deltas are kept) and closed
//!   after its `contentBlockStop`, when the next item opens or the answer ends (a text's
//!   `response.output_text.annotation.added` events, one per citation, see
//!   [`super::citations`]; the `….done` events, then `response.output_item.done`; a call's
//!   arguments are `{}`, never empty; the item being written when the answer is cut short
//!   is `incomplete`);
//! - `messageStop` holds the stop reason, `metadata` the usage; when upstream ends the final
//!   event is written: `response.completed`, `response.incomplete` or `response.failed`
//!   ([`super::response::finish`]), after the response is handed to the store;
//! - a failure (an exception frame, a broken stream): `response.failed` with `error`.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::body::SseTranslator;
//! use bedrock_translate::responses::request::AnswerOptions;
//! use bedrock_translate::responses::stream::ResponsesEvents;
//!
//! let template = serde_json::from_value(serde_json::json!({"id": "resp_1", "object": "response",
//!     "created_at": 1, "status": "in_progress", "model": "m", "output": [], "usage": null,
//!     "error": null, "incomplete_details": null, "instructions": null, "metadata": {},
//!     "temperature": null, "top_p": null, "parallel_tool_calls": true, "tool_choice": "auto",
//!     "tools": [], "text": {"format": {"type": "text"}}, "reasoning": null,
//!     "max_output_tokens": null, "store": false, "previous_response_id": null,
//!     "truncation": "disabled", "user": null, "background": false})).unwrap();
//! let mut events = ResponsesEvents::new(template, AnswerOptions::default(), None);
//! let mut out = bytes::BytesMut::new();
//! events.on_event("contentBlockDelta", br#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#, &mut out).unwrap();
//! let sse = String::from_utf8(out.to_vec()).unwrap();
//! assert!(sse.starts_with("event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0"));
//! assert!(sse.contains("event: response.output_text.delta\n"));
//! ```

use bytes::BytesMut;
use http::StatusCode;
use openai_types::responses::{
    EventBody, FunctionCallItem, OutputContent, OutputItem, OutputMessage, ReasoningItem, Response,
    StreamEvent, SummaryText,
};
use serde_json::Value;

use super::citations::annotations;
use super::request::{AnswerOptions, new_id};
use super::response::{
    client_view, fail, finish, function_call_item, incomplete_reason, mark_incomplete,
    message_item, reasoning_item, record, shown,
};
use super::{ResponseSink, StoredResponse};
use crate::body::{SseTranslator, cut_short, parse_event, write_sse};
use crate::converse::{Citation, TokenUsage};
use crate::error::ApiError;
use crate::request::JSON_OUTPUT_TOOL;
use crate::stream::{BlockDelta, BlockStart, MessageStop, Metadata};

/// Where a finished response goes: the sink, with this request's input items and the
/// conversation before them (see [`record`]).
#[derive(Debug, Clone)]
pub struct Keep {
    /// The store's sink.
    pub sink: ResponseSink,
    /// This request's input items, with ids.
    pub input_items: Vec<Value>,
    /// The conversation before them.
    pub context: Vec<Value>,
}

/// An output item being streamed.
#[derive(Debug)]
enum Open {
    Text {
        text: String,
        citations: Vec<Citation>,
    },
    Reasoning {
        text: String,
        signature: Option<String>,
        part_open: bool,
    },
    Call {
        call_id: String,
        name: String,
        arguments: String,
    },
}

#[derive(Debug)]
struct OpenItem {
    block: u32,
    output_index: usize,
    id: String,
    open: Open,
}

/// The Responses event state machine of one streamed answer.
#[derive(Debug)]
pub struct ResponsesEvents {
    template: Response,
    options: AnswerOptions,
    keep: Option<Keep>,
    sequence: u64,
    started: bool,
    open: Vec<OpenItem>,
    /// Blocks whose `contentBlockStop` came, still open: each is closed when the next item
    /// opens or the answer ends, once it is known whether the answer was cut short in it.
    stopped: Vec<u32>,
    /// Output items by index (reasoning signatures kept); `None` while still open.
    output: Vec<Option<OutputItem>>,
    stop_reason: Option<String>,
    usage: Option<TokenUsage>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStop {
    #[serde(default)]
    content_block_index: u32,
}

impl ResponsesEvents {
    /// A state machine for the response `template` (as created); `keep` hands the finished
    /// response to a store.
    pub fn new(template: Response, options: AnswerOptions, keep: Option<Keep>) -> Self {
        Self {
            template,
            options,
            keep,
            sequence: 0,
            started: false,
            open: Vec::new(),
            stopped: Vec::new(),
            output: Vec::new(),
            stop_reason: None,
            usage: None,
        }
    }

    fn emit(&mut self, out: &mut BytesMut, kind: &str, body: EventBody) {
        let event = StreamEvent {
            kind: kind.to_owned(),
            sequence_number: self.sequence,
            body,
        };
        self.sequence += 1;
        write_sse(out, Some(kind), &event);
    }

    fn emit_response(&mut self, out: &mut BytesMut, kind: &str, response: Response) {
        let body = EventBody::Response {
            response: Box::new(response),
        };
        self.emit(out, kind, body);
    }

    fn start(&mut self, out: &mut BytesMut) {
        if !self.started {
            self.started = true;
            let created = self.template.clone();
            self.emit_response(out, "response.created", created.clone());
            self.emit_response(out, "response.in_progress", created);
        }
    }

    fn position(&self, block: u32) -> Option<usize> {
        self.open.iter().position(|o| o.block == block)
    }

    /// Opens an output item for `block`, announcing it.
    fn open_item(&mut self, block: u32, prefix: &str, open: Open, out: &mut BytesMut) -> usize {
        self.close_stopped(out);
        let output_index = self.output.len();
        self.output.push(None);
        let id = new_id(prefix);
        let item = added_item(&id, &open);
        self.emit(
            out,
            "response.output_item.added",
            EventBody::Item { output_index, item },
        );
        if matches!(open, Open::Text { .. }) {
            let body = EventBody::ContentPart {
                item_id: id.clone(),
                output_index,
                content_index: 0,
                part: text_part(String::new()),
            };
            self.emit(out, "response.content_part.added", body);
        }
        self.open.push(OpenItem {
            block,
            output_index,
            id,
            open,
        });
        self.open.len() - 1
    }

    fn on_start(&mut self, start: BlockStart, out: &mut BytesMut) {
        let Some(tool_use) = start.start.tool_use else {
            return;
        };
        let block = start.content_block_index;
        if self.options.json_output_tool && tool_use.name == JSON_OUTPUT_TOOL {
            // The forced JSON tool's input is the answer's text: a message item.
            self.text_delta(block, String::new(), out);
            return;
        }
        let open = Open::Call {
            call_id: tool_use.tool_use_id,
            name: tool_use.name,
            arguments: String::new(),
        };
        self.open_item(block, "fc_", open, out);
    }

    fn on_delta(&mut self, delta: BlockDelta, out: &mut BytesMut) {
        let block = delta.content_block_index;
        let member = delta.delta;
        if let Some(text) = member.text {
            self.text_delta(block, text, out);
        } else if let Some(input) = member.tool_use.map(|t| t.input) {
            match self.position(block).map(|i| &self.open[i].open) {
                Some(Open::Text { .. }) => self.text_delta(block, input, out),
                Some(Open::Call { .. }) => self.arguments_delta(block, input, out),
                _ => {}
            }
        } else if let Some(reasoning) = member.reasoning_content {
            let signature = reasoning.signature.or(reasoning.redacted_content);
            self.reasoning_delta(block, reasoning.text, signature, out);
        } else if let Some(citation) = member.citation {
            self.citation(block, citation, out);
        }
    }

    /// Keeps a citation of the text of `block`, annotated when the block closes (when its
    /// text, which the citation spans, is whole).
    fn citation(&mut self, block: u32, citation: Citation, out: &mut BytesMut) {
        if self.position(block).is_none() {
            self.text_delta(block, String::new(), out);
        }
        if let Some(at) = self.position(block)
            && let Open::Text { citations, .. } = &mut self.open[at].open
        {
            citations.push(citation);
        }
    }

    /// Adds `delta` to the text of `block`, opening its message item first if needed (an empty
    /// delta only opens it).
    fn text_delta(&mut self, block: u32, delta: String, out: &mut BytesMut) {
        let at = match self.position(block) {
            Some(at) => at,
            None => self.open_item(
                block,
                "msg_",
                Open::Text {
                    text: String::new(),
                    citations: Vec::new(),
                },
                out,
            ),
        };
        let item = &mut self.open[at];
        let Open::Text { text, .. } = &mut item.open else {
            return;
        };
        if delta.is_empty() {
            return;
        }
        text.push_str(&delta);
        let body = EventBody::TextDelta {
            item_id: item.id.clone(),
            output_index: item.output_index,
            content_index: 0,
            delta,
            logprobs: Vec::new(),
        };
        self.emit(out, "response.output_text.delta", body);
    }

    fn arguments_delta(&mut self, block: u32, delta: String, out: &mut BytesMut) {
        let Some(at) = self.position(block).filter(|_| !delta.is_empty()) else {
            return;
        };
        let item = &mut self.open[at];
        let Open::Call { arguments, .. } = &mut item.open else {
            return;
        };
        arguments.push_str(&delta);
        let body = EventBody::ArgumentsDelta {
            item_id: item.id.clone(),
            output_index: item.output_index,
            delta,
        };
        self.emit(out, "response.function_call_arguments.delta", body);
    }

    fn reasoning_delta(
        &mut self,
        block: u32,
        delta: Option<String>,
        new_signature: Option<String>,
        out: &mut BytesMut,
    ) {
        let at = match self.position(block) {
            Some(at) => at,
            None => {
                let open = Open::Reasoning {
                    text: String::new(),
                    signature: None,
                    part_open: false,
                };
                self.open_item(block, "rs_", open, out)
            }
        };
        let (item_id, output_index) = (self.open[at].id.clone(), self.open[at].output_index);
        let Open::Reasoning {
            text,
            signature,
            part_open,
        } = &mut self.open[at].open
        else {
            return;
        };
        if let Some(new) = new_signature {
            signature.get_or_insert_with(String::new).push_str(&new);
        }
        let Some(delta) = delta.filter(|d| !d.is_empty()) else {
            return;
        };
        text.push_str(&delta);
        let announce = !std::mem::replace(part_open, true);
        if announce {
            let part = SummaryText {
                text: String::new(),
            };
            let body = summary_part(&item_id, output_index, part);
            self.emit(out, "response.reasoning_summary_part.added", body);
        }
        let body = EventBody::SummaryDelta {
            item_id,
            output_index,
            summary_index: 0,
            delta,
        };
        self.emit(out, "response.reasoning_summary_text.delta", body);
    }

    /// Closes the item of `block`: its `done` events.
    fn close(&mut self, block: u32, out: &mut BytesMut) {
        let Some(at) = self.position(block) else {
            return;
        };
        let OpenItem {
            output_index,
            id,
            open,
            ..
        } = self.open.remove(at);
        let item = match open {
            Open::Text { text, citations } => {
                self.close_text(output_index, &id, text, &citations, out)
            }
            Open::Reasoning {
                text,
                signature,
                part_open,
            } => {
                if part_open {
                    self.close_summary(output_index, &id, &text, out);
                }
                reasoning_item(id, text, signature)
            }
            Open::Call {
                call_id,
                name,
                arguments,
            } => self.close_call(output_index, id, call_id, name, arguments, out),
        };
        let mut item = item;
        let cut_short = self.stop_reason.as_deref().and_then(incomplete_reason);
        if cut_short.is_some() && output_index + 1 == self.output.len() {
            mark_incomplete(&mut item);
        }
        let body = EventBody::Item {
            output_index,
            item: shown(item.clone(), self.options),
        };
        self.emit(out, "response.output_item.done", body);
        self.output[output_index] = Some(item);
    }

    /// Closes the blocks whose `contentBlockStop` came.
    fn close_stopped(&mut self, out: &mut BytesMut) {
        for block in std::mem::take(&mut self.stopped) {
            self.close(block, out);
        }
    }

    fn close_text(
        &mut self,
        output_index: usize,
        id: &str,
        text: String,
        citations: &[Citation],
        out: &mut BytesMut,
    ) -> OutputItem {
        let annotations = annotations(citations, &text);
        for (annotation_index, annotation) in annotations.iter().enumerate() {
            let body = EventBody::AnnotationAdded {
                item_id: id.to_owned(),
                output_index,
                content_index: 0,
                annotation_index,
                annotation: annotation.clone(),
            };
            self.emit(out, "response.output_text.annotation.added", body);
        }
        let body = EventBody::TextDone {
            item_id: id.to_owned(),
            output_index,
            content_index: 0,
            text: text.clone(),
            logprobs: Vec::new(),
        };
        self.emit(out, "response.output_text.done", body);
        let body = EventBody::ContentPart {
            item_id: id.to_owned(),
            output_index,
            content_index: 0,
            part: OutputContent::OutputText {
                text: text.clone(),
                annotations: annotations.clone(),
            },
        };
        self.emit(out, "response.content_part.done", body);
        message_item(id.to_owned(), text, annotations)
    }

    fn close_summary(&mut self, output_index: usize, id: &str, text: &str, out: &mut BytesMut) {
        let body = EventBody::SummaryDone {
            item_id: id.to_owned(),
            output_index,
            summary_index: 0,
            text: text.to_owned(),
        };
        self.emit(out, "response.reasoning_summary_text.done", body);
        let part = SummaryText {
            text: text.to_owned(),
        };
        let body = summary_part(id, output_index, part);
        self.emit(out, "response.reasoning_summary_part.done", body);
    }

    fn close_call(
        &mut self,
        output_index: usize,
        id: String,
        call_id: String,
        name: String,
        arguments: String,
        out: &mut BytesMut,
    ) -> OutputItem {
        let arguments = if arguments.trim().is_empty() {
            "{}".to_owned()
        } else {
            arguments
        };
        let body = EventBody::ArgumentsDone {
            item_id: id.clone(),
            output_index,
            arguments: arguments.clone(),
        };
        self.emit(out, "response.function_call_arguments.done", body);
        function_call_item(id, call_id, name, arguments)
    }

    fn close_all(&mut self, out: &mut BytesMut) {
        self.stopped.clear();
        while let Some(block) = self.open.first().map(|o| o.block) {
            self.close(block, out);
        }
    }

    /// The output items closed so far, in order.
    fn finished_output(&self) -> Vec<OutputItem> {
        self.output.iter().flatten().cloned().collect()
    }
}

fn text_part(text: String) -> OutputContent {
    OutputContent::OutputText {
        text,
        annotations: Vec::new(),
    }
}

fn summary_part(item_id: &str, output_index: usize, part: SummaryText) -> EventBody {
    EventBody::SummaryPart {
        item_id: item_id.to_owned(),
        output_index,
        summary_index: 0,
        part,
    }
}

/// The item as `response.output_item.added` announces it: in progress, empty.
fn added_item(id: &str, open: &Open) -> OutputItem {
    let status = Some("in_progress".to_owned());
    match open {
        Open::Text { .. } => OutputItem::Message(OutputMessage {
            id: id.to_owned(),
            status: "in_progress".to_owned(),
            role: "assistant".to_owned(),
            content: Vec::new(),
        }),
        Open::Reasoning { .. } => OutputItem::Reasoning(ReasoningItem {
            id: Some(id.to_owned()),
            summary: Vec::new(),
            content: None,
            encrypted_content: None,
            status,
        }),
        Open::Call { call_id, name, .. } => OutputItem::FunctionCall(FunctionCallItem {
            id: Some(id.to_owned()),
            call_id: call_id.clone(),
            name: name.clone(),
            arguments: String::new(),
            status,
        }),
    }
}

impl SseTranslator for ResponsesEvents {
    fn on_event(
        &mut self,
        event_type: &str,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), ApiError> {
        self.start(out);
        match event_type {
            "contentBlockStart" => self.on_start(parse_event(event_type, payload)?, out),
            "contentBlockDelta" => self.on_delta(parse_event(event_type, payload)?, out),
            "contentBlockStop" => {
                let stop: BlockStop = parse_event(event_type, payload)?;
                let block = stop.content_block_index;
                if self.position(block).is_some() && !self.stopped.contains(&block) {
                    self.stopped.push(block);
                }
            }
            "messageStop" => {
                let stop: MessageStop = parse_event(event_type, payload)?;
                self.stop_reason = Some(stop.stop_reason);
                self.close_all(out);
            }
            "metadata" => {
                let metadata: Metadata = parse_event(event_type, payload)?;
                self.usage = metadata.usage.or(self.usage);
            }
            _ => {}
        }
        Ok(())
    }

    /// The final event, once the stop reason (and the usage after it) arrived; the response is
    /// handed to the store first.
    fn on_end(&mut self, out: &mut BytesMut) -> Result<(), ApiError> {
        let Some(stop_reason) = self.stop_reason.clone() else {
            return Err(cut_short());
        };
        self.start(out);
        self.close_all(out);
        let full = finish(
            &self.template,
            self.finished_output(),
            &stop_reason,
            self.usage.as_ref(),
        );
        let output = full.output.clone();
        let response = client_view(full, self.options);
        let kind = match response.status.as_str() {
            "failed" => "response.failed",
            "incomplete" => "response.incomplete",
            _ => "response.completed",
        };
        if let Some(keep) = self.keep.as_ref().filter(|_| response.status != "failed") {
            keep.sink.keep(StoredResponse {
                id: response.id.clone(),
                record: record(&response, &output, &keep.input_items, &keep.context),
            });
        }
        self.emit_response(out, kind, response);
        Ok(())
    }

    fn on_error(&mut self, err: &ApiError, out: &mut BytesMut) {
        self.start(out);
        self.close_stopped(out);
        let mut response = self.template.clone();
        response.output = self.finished_output();
        response = client_view(response, self.options);
        let code = if err.status == StatusCode::TOO_MANY_REQUESTS {
            "rate_limit_exceeded"
        } else {
            "server_error"
        };
        fail(&mut response, code, err.error.message.clone());
        self.emit_response(out, "response.failed", response);
    }

    fn usage(&self) -> Option<openai_types::chat::Usage> {
        self.usage.as_ref().map(crate::response::usage)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use serde_json::json;

    use super::*;
    use crate::converse::ConverseResponse;
    use crate::responses::response::converse_to_response;
    use crate::responses::testing::{stable_ids, template};

    /// Feeds `events` (then the end of the stream, or `error`) and returns the SSE events'
    /// data, ids made stable, after checking that each `event:` line names its data's type.
    fn run(
        events: &[(&str, Value)],
        options: AnswerOptions,
        keep: Option<Keep>,
        error: Option<ApiError>,
    ) -> (Vec<Value>, Option<openai_types::chat::Usage>) {
        let mut translator = ResponsesEvents::new(template(), options, keep);
        let mut out = BytesMut::new();
        for (kind, payload) in events {
            translator
                .on_event(kind, payload.to_string().as_bytes(), &mut out)
                .unwrap();
        }
        match error {
            Some(err) => translator.on_error(&err, &mut out),
            None => translator.on_end(&mut out).unwrap(),
        }
        let text = String::from_utf8(out.to_vec()).unwrap();
        let mut seen = HashMap::new();
        let parsed = text
            .split_terminator("\n\n")
            .map(|event| {
                let (name, data) = event.split_once('\n').unwrap();
                let mut data: Value =
                    serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
                assert_eq!(name.strip_prefix("event: ").unwrap(), data["type"]);
                stable_ids(&mut data, &mut seen);
                data
            })
            .collect();
        (parsed, translator.usage())
    }

    fn delta(index: u32, delta: Value) -> (&'static str, Value) {
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": index, "delta": delta, "p": "pad"}),
        )
    }

    fn stop(index: u32) -> (&'static str, Value) {
        ("contentBlockStop", json!({"contentBlockIndex": index}))
    }

    fn end(stop_reason: &str) -> [(&'static str, Value); 2] {
        [
            ("messageStop", json!({"stopReason": stop_reason})),
            (
                "metadata",
                json!({"usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}, "metrics": {"latencyMs": 1}}),
            ),
        ]
    }

    fn usage() -> Value {
        json!({"input_tokens": 3, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 2, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 5})
    }

    fn response(status: &str, output: Value, usage: Value) -> Value {
        let mut response = serde_json::to_value(template()).unwrap();
        response["status"] = json!(status);
        response["output"] = output;
        response["usage"] = usage;
        response
    }

    fn lifecycle(kind: &str, seq: u64, response: Value) -> Value {
        json!({"type": kind, "sequence_number": seq, "response": response})
    }

    fn message(id: &str, status: &str, text: Option<&str>) -> Value {
        let content = match text {
            Some(text) => json!([{"type": "output_text", "text": text, "annotations": []}]),
            None => json!([]),
        };
        json!({"id": id, "type": "message", "status": status, "role": "assistant", "content": content})
    }

    #[test]
    fn a_text_answer_is_the_full_typed_sequence_and_the_final_event_waits_for_usage() {
        let mut events = vec![
            ("messageStart", json!({"role": "assistant"})),
            delta(0, json!({"text": "Hello"})),
            delta(0, json!({"text": " there"})),
            stop(0),
        ];
        events.extend(end("end_turn"));
        let (sse, metered) = run(&events, AnswerOptions::default(), None, None);
        let created = response("in_progress", json!([]), Value::Null);
        let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": []});
        let at = json!({"item_id": "msg_1", "output_index": 0, "content_index": 0});
        let with = |mut v: Value, extra: Value| {
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            v
        };
        assert_eq!(
            sse,
            vec![
                lifecycle("response.created", 0, created.clone()),
                lifecycle("response.in_progress", 1, created),
                json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0, "item": message("msg_1", "in_progress", None)}),
                with(
                    at.clone(),
                    json!({"type": "response.content_part.added", "sequence_number": 3, "part": part("")})
                ),
                with(
                    at.clone(),
                    json!({"type": "response.output_text.delta", "sequence_number": 4, "delta": "Hello", "logprobs": []})
                ),
                with(
                    at.clone(),
                    json!({"type": "response.output_text.delta", "sequence_number": 5, "delta": " there", "logprobs": []})
                ),
                with(
                    at.clone(),
                    json!({"type": "response.output_text.done", "sequence_number": 6, "text": "Hello there", "logprobs": []})
                ),
                with(
                    at,
                    json!({"type": "response.content_part.done", "sequence_number": 7, "part": part("Hello there")})
                ),
                json!({"type": "response.output_item.done", "sequence_number": 8, "output_index": 0, "item": message("msg_1", "completed", Some("Hello there"))}),
                lifecycle(
                    "response.completed",
                    9,
                    response(
                        "completed",
                        json!([message("msg_1", "completed", Some("Hello there"))]),
                        usage()
                    )
                ),
            ]
        );
        assert_eq!(metered.unwrap().total_tokens, 5);
    }

    #[test]
    fn a_tool_call_streams_its_arguments_and_empty_arguments_are_braces() {
        let mut events = vec![
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "tooluse_Ab12", "name": "get_weather"}}}),
            ),
            delta(0, json!({"toolUse": {"input": "{\"city\":"}})),
            delta(0, json!({"toolUse": {"input": "\"Paris\"}"}})),
            stop(0),
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t2", "name": "now"}}}),
            ),
            stop(1),
        ];
        events.extend(end("tool_use"));
        let (sse, _) = run(&events, AnswerOptions::default(), None, None);
        let call = |id: &str, call_id: &str, name: &str, status: &str, arguments: &str| json!({"id": id, "type": "function_call", "status": status, "call_id": call_id, "name": name, "arguments": arguments});
        let weather = call(
            "fc_1",
            "tooluse_Ab12",
            "get_weather",
            "completed",
            "{\"city\":\"Paris\"}",
        );
        let now = call("fc_2", "t2", "now", "completed", "{}");
        assert_eq!(
            sse[2..],
            [
                json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0, "item": call("fc_1", "tooluse_Ab12", "get_weather", "in_progress", "")}),
                json!({"type": "response.function_call_arguments.delta", "sequence_number": 3, "item_id": "fc_1", "output_index": 0, "delta": "{\"city\":"}),
                json!({"type": "response.function_call_arguments.delta", "sequence_number": 4, "item_id": "fc_1", "output_index": 0, "delta": "\"Paris\"}"}),
                json!({"type": "response.function_call_arguments.done", "sequence_number": 5, "item_id": "fc_1", "output_index": 0, "arguments": "{\"city\":\"Paris\"}"}),
                json!({"type": "response.output_item.done", "sequence_number": 6, "output_index": 0, "item": weather}),
                json!({"type": "response.output_item.added", "sequence_number": 7, "output_index": 1, "item": call("fc_2", "t2", "now", "in_progress", "")}),
                json!({"type": "response.function_call_arguments.done", "sequence_number": 8, "item_id": "fc_2", "output_index": 1, "arguments": "{}"}),
                json!({"type": "response.output_item.done", "sequence_number": 9, "output_index": 1, "item": now}),
                lifecycle(
                    "response.completed",
                    10,
                    response("completed", json!([weather, now]), usage())
                ),
            ]
        );
    }

    #[test]
    fn reasoning_then_text_opens_two_items_and_keeps_the_signature_when_included() {
        let mut events = vec![
            delta(0, json!({"reasoningContent": {"text": "Think"}})),
            delta(0, json!({"reasoningContent": {"signature": "sig"}})),
            stop(0),
            delta(1, json!({"text": "Hi"})),
            stop(1),
        ];
        events.extend(end("end_turn"));
        let options = AnswerOptions {
            json_output_tool: false,
            encrypted_reasoning: true,
        };
        let (sse, _) = run(&events, options, None, None);
        let types: Vec<&str> = sse.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.reasoning_summary_part.added",
                "response.reasoning_summary_text.delta",
                "response.reasoning_summary_text.done",
                "response.reasoning_summary_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed"
            ]
        );
        assert_eq!(
            sse[3],
            json!({"type": "response.reasoning_summary_part.added", "sequence_number": 3,
            "item_id": "rs_1", "output_index": 0, "summary_index": 0, "part": {"type": "summary_text", "text": ""}})
        );
        let reasoning = json!({"id": "rs_1", "type": "reasoning", "status": "completed",
            "summary": [{"type": "summary_text", "text": "Think"}], "encrypted_content": "sig"});
        assert_eq!(sse[7]["item"], reasoning);
        assert_eq!(sse[8]["output_index"], 1);
        assert_eq!(
            sse[14]["response"]["output"],
            json!([reasoning, message("msg_2", "completed", Some("Hi"))])
        );
    }

    #[test]
    fn citations_are_annotation_added_events_and_end_in_the_done_events_and_the_response() {
        let web = json!({"title": "Forecast", "location": {"web": {"url": "https://w.example/p", "domain": "w.example"}}});
        let doc = json!({"title": "notes.pdf", "sourceContent": [{"text": "sun"}],
            "location": {"documentPage": {"documentIndex": 0, "start": 1, "end": 1}}});
        let mut events = vec![
            delta(0, json!({"text": "No citation."})),
            stop(0),
            delta(1, json!({"citation": web})),
            delta(1, json!({"text": "Paris is "})),
            delta(1, json!({"text": "sunny."})),
            delta(1, json!({"citation": doc})),
            stop(1),
        ];
        events.extend(end("end_turn"));
        let (sse, _) = run(&events, AnswerOptions::default(), None, None);
        let url = json!({"type": "url_citation", "url": "https://w.example/p", "title": "Forecast", "start_index": 0, "end_index": 15});
        let file = json!({"type": "file_citation", "file_id": "notes.pdf", "filename": "notes.pdf", "index": 15});
        let at = |seq: u64, index: usize, annotation: &Value| {
            json!({"type": "response.output_text.annotation.added",
            "sequence_number": seq, "item_id": "msg_2", "output_index": 1, "content_index": 0,
            "annotation_index": index, "annotation": annotation})
        };
        let part =
            json!({"type": "output_text", "text": "Paris is sunny.", "annotations": [url, file]});
        let item = json!({"id": "msg_2", "type": "message", "status": "completed", "role": "assistant", "content": [part]});
        assert_eq!(
            sse[12..],
            [
                at(12, 0, &url),
                at(13, 1, &file),
                json!({"type": "response.output_text.done", "sequence_number": 14, "item_id": "msg_2",
                    "output_index": 1, "content_index": 0, "text": "Paris is sunny.", "logprobs": []}),
                json!({"type": "response.content_part.done", "sequence_number": 15, "item_id": "msg_2",
                    "output_index": 1, "content_index": 0, "part": part}),
                json!({"type": "response.output_item.done", "sequence_number": 16, "output_index": 1, "item": item}),
                lifecycle(
                    "response.completed",
                    17,
                    response(
                        "completed",
                        json!([message("msg_1", "completed", Some("No citation.")), item]),
                        usage()
                    )
                ),
            ]
        );
    }

    #[test]
    fn max_tokens_ends_incomplete_and_a_cut_stream_is_an_error() {
        let mut events = vec![delta(0, json!({"text": "cut"})), stop(0)];
        events.extend(end("max_tokens"));
        let (sse, _) = run(&events, AnswerOptions::default(), None, None);
        let last = sse.last().unwrap();
        assert_eq!(last["type"], "response.incomplete");
        let done = &sse[sse.len() - 2];
        assert_eq!(done["type"], "response.output_item.done");
        assert_eq!(done["item"], message("msg_1", "incomplete", Some("cut")));
        assert_eq!(
            last["response"]["output"],
            json!([message("msg_1", "incomplete", Some("cut"))])
        );
        assert_eq!(last["response"]["status"], "incomplete");
        assert_eq!(
            last["response"]["incomplete_details"],
            json!({"reason": "max_output_tokens"})
        );
        let mut translator = ResponsesEvents::new(template(), AnswerOptions::default(), None);
        let mut out = BytesMut::new();
        translator
            .on_event(
                "contentBlockDelta",
                br#"{"contentBlockIndex":0,"delta":{"text":"x"}}"#,
                &mut out,
            )
            .unwrap();
        assert_eq!(
            translator.on_end(&mut out).unwrap_err().status,
            StatusCode::BAD_GATEWAY
        );
    }

    #[test]
    fn an_exception_mid_stream_is_response_failed_with_the_items_so_far() {
        let events = vec![
            delta(0, json!({"text": "partial"})),
            stop(0),
            delta(1, json!({"text": "more"})),
        ];
        let err = ApiError::server(
            StatusCode::TOO_MANY_REQUESTS,
            "slow down",
            "rate_limit_exceeded",
        );
        let (sse, _) = run(&events, AnswerOptions::default(), None, Some(err));
        let last = sse.last().unwrap();
        let mut failed = response(
            "failed",
            json!([message("msg_1", "completed", Some("partial"))]),
            Value::Null,
        );
        failed["error"] = json!({"code": "rate_limit_exceeded", "message": "slow down"});
        assert_eq!(last, &lifecycle("response.failed", 11, failed));
    }

    #[test]
    fn the_streamed_final_response_equals_the_whole_answer_and_is_kept_first() {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let sink = ResponseSink::new({
            let kept = Arc::clone(&kept);
            move |stored: StoredResponse| kept.lock().unwrap().push(stored)
        });
        let input =
            vec![json!({"id": "msg_in", "type": "message", "role": "user", "content": "hi"})];
        let keep = Keep {
            sink,
            input_items: input.clone(),
            context: Vec::new(),
        };
        let mut events = vec![
            delta(0, json!({"reasoningContent": {"text": "Think"}})),
            delta(0, json!({"reasoningContent": {"signature": "sig"}})),
            stop(0),
            delta(1, json!({"text": "Calling."})),
            stop(1),
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "t1", "name": "f"}}}),
            ),
            delta(2, json!({"toolUse": {"input": "{\"a\":1}"}})),
            stop(2),
        ];
        events.extend(end("tool_use"));
        let (sse, _) = run(&events, AnswerOptions::default(), Some(keep), None);
        let streamed = sse.last().unwrap()["response"].clone();
        let whole: ConverseResponse = serde_json::from_value(json!({
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "Think", "signature": "sig"}}}, {"text": "Calling."},
                {"toolUse": {"toolUseId": "t1", "name": "f", "input": {"a": 1}}}]}},
            "stopReason": "tool_use", "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}})).unwrap();
        let mut whole = serde_json::to_value(converse_to_response(
            whole,
            &template(),
            AnswerOptions::default(),
        ))
        .unwrap();
        stable_ids(&mut whole, &mut HashMap::new());
        assert_eq!(streamed, whole);
        let kept = kept.lock().unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].id, "resp_1");
        let mut record: Value = serde_json::from_slice(&kept[0].record).unwrap();
        stable_ids(&mut record, &mut HashMap::new());
        // The client saw no signature (no `include`); the record's full output keeps it.
        assert!(whole["output"][0].get("encrypted_content").is_none());
        let mut output = whole["output"].clone();
        output[0]["encrypted_content"] = json!("sig");
        assert_eq!(
            record,
            json!({"response": whole, "output": output, "input_items": input, "context": input})
        );
    }
}
