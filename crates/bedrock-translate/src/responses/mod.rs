//! The OpenAI Responses API (`POST /v1/responses`) on Converse / ConverseStream.
//!
//! Like every front door: [`request`] maps the request onto Converse (through the chat path),
//! [`response`] maps a whole answer back to the `response` object, and [`stream`] is the state
//! machine from ConverseStream events to the API's typed server-sent events. The layer
//! ([`crate::layer::Translate`]) serves it for [`crate::FrontDoor::Responses`], and
//! `POST /v1/responses/input_tokens` for [`crate::FrontDoor::ResponsesInputTokens`]: the same
//! translation, whose Converse input Bedrock's CountTokens counts on the foundation model (it
//! takes [`PreviousResponse`] too, and keeps nothing).
//!
//! # Keeping responses: the contract with a store
//!
//! This crate does no I/O, so it does not keep responses itself. Whoever does (the gateway's
//! response store) talks to the translator through two request extensions:
//!
//! - [`PreviousResponse`]: the stored record of the request's `previous_response_id`, loaded
//!   (and checked to belong to the caller) before the request reaches the translator. Its
//!   conversation comes before the request's own input. A request naming a
//!   `previous_response_id` without this extension is a 400: nothing keeps responses.
//! - [`ResponseSink`]: where the translator hands the [`StoredResponse`] of a request with
//!   `store: true` (the default), once the response is complete: before the translator's
//!   future resolves for a whole answer, before the stream's last bytes (the
//!   `response.completed` / `response.incomplete` event) are released for a streamed one.
//!
//! A stored record is JSON:
//!
//! ```text
//! {"response": <Response object>,
//!  "output": [<output item>...],
//!  "input_items": [<input item with its "id">...],
//!  "context": [<input item>...]}
//! ```
//!
//! - `response` is what `GET /v1/responses/{id}` answers: the response exactly as the client
//!   saw it (reasoning `encrypted_content` only when its `include` asked for it).
//! - `output` is the same output items with nothing left out: signed reasoning keeps its
//!   signature (`encrypted_content`) whatever `include` asked, because Bedrock needs the signed
//!   reasoning back before the tool results of a Claude extended-thinking turn. It is never
//!   shown to a client. Optional: a record without it (written before it existed) is continued
//!   from `response.output`.
//! - `input_items` (this request's own input, each item with an `id`) is what
//!   `GET /v1/responses/{id}/input_items` lists.
//! - `context` is the whole conversation sent to the model (the previous response's context
//!   and output, then `input_items`).
//!
//! A following `previous_response_id` continues `context`, then `output` (or `response.output`
//! when the record has no `output`). A store keeps the record as it is given; it reads only
//! `response` and `input_items`.

pub mod citations;
mod params;
pub mod request;
pub mod response;
pub mod stream;

use std::sync::Arc;

use bytes::Bytes;

/// Request extension: the stored record (JSON, see the [module docs](self)) of the response
/// the request's `previous_response_id` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousResponse(pub Bytes);

/// A response to keep: its id (`resp_...`) and its record (JSON, see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The response's id, as the client sees it.
    pub id: String,
    /// The record to keep.
    pub record: Bytes,
}

/// Request extension: where the translator hands responses to keep.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use bedrock_translate::responses::{ResponseSink, StoredResponse};
///
/// let kept = Arc::new(Mutex::new(Vec::new()));
/// let sink = ResponseSink::new({
///     let kept = Arc::clone(&kept);
///     move |stored: StoredResponse| kept.lock().unwrap().push(stored.id)
/// });
/// sink.keep(StoredResponse { id: "resp_1".into(), record: "{}".into() });
/// assert_eq!(*kept.lock().unwrap(), ["resp_1"]);
/// ```
#[derive(Clone)]
pub struct ResponseSink(Arc<dyn Fn(StoredResponse) + Send + Sync>);

impl ResponseSink {
    /// A sink calling `keep` with each response to keep.
    pub fn new(keep: impl Fn(StoredResponse) + Send + Sync + 'static) -> Self {
        Self(Arc::new(keep))
    }

    /// Hands over one response to keep.
    pub fn keep(&self, stored: StoredResponse) {
        (self.0)(stored)
    }
}

impl std::fmt::Debug for ResponseSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseSink").finish_non_exhaustive()
    }
}

/// Helpers of this module's tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::HashMap;

    use openai_types::responses::Response;
    use serde_json::{Value, json};

    /// A response as created, for `model` "m".
    pub(crate) fn template() -> Response {
        serde_json::from_value(
            json!({"id": "resp_1", "object": "response", "created_at": 7,
            "status": "in_progress", "model": "m", "output": [], "usage": null, "error": null,
            "incomplete_details": null, "instructions": null, "metadata": {}, "temperature": null,
            "top_p": null, "parallel_tool_calls": true, "tool_choice": "auto", "tools": [],
            "text": {"format": {"type": "text"}}, "reasoning": null, "max_output_tokens": null,
            "store": true, "previous_response_id": null, "truncation": "disabled", "user": null,
            "background": false}),
        )
        .unwrap()
    }

    /// `value` with each random item id (`msg_`, `fc_`, `rs_` and 24 characters) replaced by
    /// its prefix and the order in which it first appears: `msg_1`, `fc_2`, ...
    pub(crate) fn stable_ids(value: &mut Value, seen: &mut HashMap<String, String>) {
        match value {
            Value::String(s) => {
                for prefix in ["msg_", "fc_", "rs_"] {
                    if s.starts_with(prefix) && s.len() == prefix.len() + 24 {
                        let next = seen.len() + 1;
                        *s = seen
                            .entry(s.clone())
                            .or_insert_with(|| format!("{prefix}{next}"))
                            .clone();
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| stable_ids(v, seen)),
            Value::Object(map) => map.values_mut().for_each(|v| stable_ids(v, seen)),
            _ => {}
        }
    }
}
