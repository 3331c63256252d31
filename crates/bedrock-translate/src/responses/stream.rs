//! ConverseStream events -> the Responses API's typed server-sent events, as an
//! [`SseTranslator`].
//!
//! The sequence, each event named by an `event:` line and numbered by `sequence_number` from 0:
//! - the first Bedrock event: `response.created`, `response.in_progress`;
//! - each content block is one output item, opened on its first event
//!   (`response.output_item.added`, then `response.content_part.added` for text or
//!   `response.reasoning_summary_part.added` for reasoning), fed by its deltas
//!   (`response.output_text.delta`, `response.reasoning_summary_text.delta`,
//!   `response.function_call_arguments.delta`) and closed by `contentBlockStop`
//!   (`….done` events, then `response.output_item.done`; a call's arguments are `{}`, never
//!   empty);
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

use super::request::{AnswerOptions, new_id};
use super::response::{fail, finish, function_call_item, message_item, reasoning_item, record};
use super::{ResponseSink, StoredResponse};
use crate::body::{SseTranslator, cut_short, malformed, write_sse};
use crate::converse::TokenUsage;
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
    /// Output items by index; `None` while still open.
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
            self.open_item(
                block,
                "msg_",
                Open::Text {
                    text: String::new(),
                },
                out,
            );
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
        }
    }

    fn text_delta(&mut self, block: u32, delta: String, out: &mut BytesMut) {
        let at = match self.position(block) {
            Some(at) => at,
            None => self.open_item(
                block,
                "msg_",
                Open::Text {
                    text: String::new(),
                },
                out,
            ),
        };
        let item = &mut self.open[at];
        let Open::Text { text } = &mut item.open else {
            return;
        };
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
            Open::Text { text } => self.close_text(output_index, &id, text, out),
            Open::Reasoning {
                text,
                signature,
                part_open,
            } => {
                if part_open {
                    self.close_summary(output_index, &id, &text, out);
                }
                let signature = signature.filter(|_| self.options.encrypted_reasoning);
                reasoning_item(id, text, signature)
            }
            Open::Call {
                call_id,
                name,
                arguments,
            } => self.close_call(output_index, id, call_id, name, arguments, out),
        };
        let body = EventBody::Item {
            output_index,
            item: item.clone(),
        };
        self.emit(out, "response.output_item.done", body);
        self.output[output_index] = Some(item);
    }

    fn close_text(
        &mut self,
        output_index: usize,
        id: &str,
        text: String,
        out: &mut BytesMut,
    ) -> OutputItem {
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
            part: text_part(text.clone()),
        };
        self.emit(out, "response.content_part.done", body);
        message_item(id.to_owned(), text)
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

fn parse<'a, T: serde::Deserialize<'a>>(
    event_type: &str,
    payload: &'a [u8],
) -> Result<T, ApiError> {
    serde_json::from_slice(payload).map_err(|e| malformed(&format!("bad {event_type} event: {e}")))
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
            "contentBlockStart" => self.on_start(parse(event_type, payload)?, out),
            "contentBlockDelta" => self.on_delta(parse(event_type, payload)?, out),
            "contentBlockStop" => {
                let stop: BlockStop = parse(event_type, payload)?;
                self.close(stop.content_block_index, out);
            }
            "messageStop" => {
                let stop: MessageStop = parse(event_type, payload)?;
                self.close_all(out);
                self.stop_reason = Some(stop.stop_reason);
            }
            "metadata" => {
                let metadata: Metadata = parse(event_type, payload)?;
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
        let response = finish(
            &self.template,
            self.finished_output(),
            &stop_reason,
            self.usage.as_ref(),
        );
        let kind = match response.status.as_str() {
            "failed" => "response.failed",
            "incomplete" => "response.incomplete",
            _ => "response.completed",
        };
        if let Some(keep) = self.keep.as_ref().filter(|_| response.status != "failed") {
            keep.sink.keep(StoredResponse {
                id: response.id.clone(),
                record: record(&response, &keep.input_items, &keep.context),
            });
        }
        self.emit_response(out, kind, response);
        Ok(())
    }

    fn on_error(&mut self, err: &ApiError, out: &mut BytesMut) {
        self.start(out);
        let mut response = self.template.clone();
        response.output = self.finished_output();
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
