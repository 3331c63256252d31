//! The response body of the translator: a whole JSON document, or server-sent events
//! translated frame by frame from Bedrock's event stream.
//!
//! What the events say is one front door's business: an [`SseTranslator`] (chat chunks for
//! chat and legacy completions, the Responses API's typed events, Anthropic's Messages
//! events) turns each decoded Bedrock event into SSE bytes; [`EventsBody`] owns the decoding,
//! the backpressure and the error handling, the same for every door.
//!
//! [`EventsBody`] polls the upstream body only when the client polls it, so a slow client slows
//! the upstream read instead of growing memory; each upstream data frame becomes at most one
//! outgoing data frame holding every SSE event decoded from it; dropping the body (the client
//! went away) drops the upstream body, which closes the upstream request. Failures never make
//! the body fail: they become one `data: {"error": ...}` event and the stream ends without
//! `[DONE]`.

use std::convert::Infallible;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{BufMut, Bytes, BytesMut};
use http::StatusCode;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use openai_types::ErrorBody;
use openai_types::chat::ChatCompletionChunk;
use serde::Serialize;
use tower::BoxError;

use crate::error::ApiError;
use crate::eventstream::{EventStreamDecoder, RawEvent};
use crate::response::ResponseContext;
use crate::stream::{ChunkTranslator, StreamOptions};

/// One front door's translation of a Bedrock event stream into server-sent events.
///
/// [`EventsBody`] decodes Bedrock's event-stream frames and hands each event to the translator;
/// whatever SSE bytes the translator appends to `out` go to the client, in order, as one data
/// frame per upstream frame. Exception frames, malformed frames and broken connections become
/// one [`ApiError`] handed to [`SseTranslator::on_error`], after which the stream ends.
///
/// ```
/// use bedrock_translate::body::SseTranslator;
/// use bedrock_translate::ApiError;
/// use bytes::BytesMut;
///
/// /// Echoes each event's type as an SSE comment.
/// #[derive(Debug, Default)]
/// struct Names;
/// impl SseTranslator for Names {
///     fn on_event(&mut self, event_type: &str, _payload: &[u8], out: &mut BytesMut)
///         -> Result<(), ApiError> {
///         out.extend_from_slice(format!(": {event_type}\n\n").as_bytes());
///         Ok(())
///     }
///     fn on_end(&mut self, _out: &mut BytesMut) -> Result<(), ApiError> { Ok(()) }
///     fn on_error(&mut self, _err: &ApiError, _out: &mut BytesMut) {}
/// }
/// let mut out = BytesMut::new();
/// Names.on_event("messageStart", b"{}", &mut out).unwrap();
/// assert_eq!(&out[..], b": messageStart\n\n");
/// ```
pub trait SseTranslator: Send + std::fmt::Debug {
    /// One decoded event (its `:event-type` and JSON payload): append the SSE it completes.
    /// An event that cannot be read is an error (the stream then ends with it).
    fn on_event(
        &mut self,
        event_type: &str,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), ApiError>;

    /// Upstream ended cleanly: append what is still owed (a final event, `[DONE]`), or fail if
    /// the answer was cut short.
    fn on_end(&mut self, out: &mut BytesMut) -> Result<(), ApiError>;

    /// The stream failed with `err`: append the door's error event. Nothing follows it.
    fn on_error(&mut self, err: &ApiError, out: &mut BytesMut);

    /// The token usage, once Bedrock has reported it (for metering).
    fn usage(&self) -> Option<openai_types::chat::Usage> {
        None
    }
}

/// Appends one server-sent event: `event: NAME` when named, then `data: JSON`, then a blank line.
///
/// ```
/// let mut out = bytes::BytesMut::new();
/// bedrock_translate::body::write_sse(&mut out, Some("ping"), &serde_json::json!({"type": "ping"}));
/// assert_eq!(&out[..], b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
/// ```
pub fn write_sse<T: Serialize + ?Sized>(out: &mut BytesMut, event: Option<&str>, data: &T) {
    if let Some(event) = event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(event.as_bytes());
        out.extend_from_slice(b"\n");
    }
    out.extend_from_slice(b"data: ");
    serde_json::to_writer(out.writer(), data).expect("SSE payloads always serialise");
    out.extend_from_slice(b"\n\n");
}

/// Chat completions' (and legacy completions') events: `data:` chunks, `[DONE]`, and errors as
/// one `data: {"error": ...}` event.
#[derive(Debug)]
struct ChatEvents {
    translator: ChunkTranslator,
    /// Write `text_completion` chunks instead of `chat.completion.chunk`s.
    text_completions: bool,
}

impl ChatEvents {
    fn write_chunk(&self, chunk: ChatCompletionChunk, out: &mut BytesMut) {
        if !self.text_completions {
            write_sse(out, None, &chunk);
        } else if let Some(chunk) = crate::completions::chunk_to_completion(chunk) {
            write_sse(out, None, &chunk);
        }
    }
}

impl SseTranslator for ChatEvents {
    fn on_event(
        &mut self,
        event_type: &str,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), ApiError> {
        let chunks = self
            .translator
            .on_event(event_type, payload)
            .map_err(|e| malformed(&format!("bad {event_type} event: {e}")))?;
        for chunk in chunks {
            self.write_chunk(chunk, out);
        }
        Ok(())
    }

    /// The held-back usage chunk and `[DONE]`, or an error if the answer was cut short.
    fn on_end(&mut self, out: &mut BytesMut) -> Result<(), ApiError> {
        if !self.translator.is_finished() {
            return Err(cut_short());
        }
        for chunk in self.translator.on_end() {
            self.write_chunk(chunk, out);
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
        Ok(())
    }

    fn on_error(&mut self, err: &ApiError, out: &mut BytesMut) {
        write_sse(out, None, &ErrorBody::new(err.error.clone()));
    }

    fn usage(&self) -> Option<openai_types::chat::Usage> {
        self.translator.usage()
    }
}

/// The error of a stream that ended before its answer was complete.
pub fn cut_short() -> ApiError {
    ApiError::server(
        StatusCode::BAD_GATEWAY,
        "Bedrock ended the stream before the answer was complete",
        "upstream_error",
    )
}

/// The body of an OpenAI response.
#[derive(Debug)]
pub enum OpenAiBody<RB> {
    /// A complete JSON document.
    Full(Full<Bytes>),
    /// A stream of server-sent events.
    Events(EventsBody<RB>),
}

impl<RB> OpenAiBody<RB> {
    /// A complete body.
    pub fn full(bytes: Bytes) -> Self {
        Self::Full(Full::new(bytes))
    }

    /// From a [`Full`] body.
    pub fn from_full(body: Full<Bytes>) -> Self {
        Self::Full(body)
    }

    /// The token usage of a streamed answer, once Bedrock has reported it (`None` for a
    /// complete body: its usage travels as a response extension).
    pub fn stream_usage(&self) -> Option<openai_types::chat::Usage> {
        match self {
            Self::Full(_) => None,
            Self::Events(events) => events.state.translator.usage(),
        }
    }

    /// The status of the error a stream ended with, once it has written its error event
    /// (`None` for a complete body and for a stream that has not failed): for whoever counts
    /// answers by status, since the stream's own status (200) went out before the error.
    pub fn stream_error_status(&self) -> Option<StatusCode> {
        match self {
            Self::Full(_) => None,
            Self::Events(events) => events.state.error_status,
        }
    }

    /// Whether this is a stream of server-sent events.
    pub fn is_stream(&self) -> bool {
        matches!(self, Self::Events(_))
    }

    /// Server-sent events translated from a ConverseStream body.
    pub fn events(upstream: RB, ctx: ResponseContext, options: StreamOptions) -> Self {
        Self::Events(EventsBody::new(upstream, ctx, options))
    }

    /// Server-sent events translated from a Bedrock event stream by `translator`.
    pub fn events_with(upstream: RB, translator: Box<dyn SseTranslator>) -> Self {
        Self::Events(EventsBody::with_translator(upstream, translator))
    }
}

impl<RB> Body for OpenAiBody<RB>
where
    RB: Body<Data = Bytes> + Unpin,
    RB::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Self::Full(full) => Pin::new(full).poll_frame(cx),
            Self::Events(events) => Pin::new(events).poll_frame(cx).map(|f| f.map(Ok)),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(full) => full.is_end_stream(),
            Self::Events(events) => events.state.done && events.state.out.is_empty(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(full) => full.size_hint(),
            Self::Events(_) => SizeHint::default(),
        }
    }
}

/// Server-sent events translated from a ConverseStream event stream.
#[derive(Debug)]
pub struct EventsBody<RB> {
    upstream: RB,
    state: SseState,
}

#[derive(Debug)]
struct SseState {
    decoder: EventStreamDecoder,
    translator: Box<dyn SseTranslator>,
    out: BytesMut,
    done: bool,
    /// The status of the error event written, if any.
    error_status: Option<StatusCode>,
}

impl<RB> EventsBody<RB> {
    /// Wraps a ConverseStream body: chat completion chunks.
    pub fn new(upstream: RB, ctx: ResponseContext, options: StreamOptions) -> Self {
        Self::with_translator(
            upstream,
            Box::new(ChatEvents {
                translator: ChunkTranslator::new(ctx, options),
                text_completions: false,
            }),
        )
    }

    /// Wraps a Bedrock event stream translated by `translator`.
    pub fn with_translator(upstream: RB, translator: Box<dyn SseTranslator>) -> Self {
        Self {
            upstream,
            state: SseState {
                decoder: EventStreamDecoder::new(),
                translator,
                out: BytesMut::with_capacity(1024),
                done: false,
                error_status: None,
            },
        }
    }

    /// Wraps a ConverseStream body: legacy `text_completion` chunks
    /// ([`crate::completions::chunk_to_completion`]) instead of `chat.completion.chunk`s.
    pub fn text_completions(upstream: RB, ctx: ResponseContext, options: StreamOptions) -> Self {
        Self::with_translator(
            upstream,
            Box::new(ChatEvents {
                translator: ChunkTranslator::new(ctx, options),
                text_completions: true,
            }),
        )
    }
}

impl<RB> EventsBody<RB>
where
    RB: Body<Data = Bytes> + Unpin,
    RB::Error: Into<BoxError>,
{
    /// Reads upstream until the first chunk is ready. An error before that is returned, so
    /// that it can be answered as a plain HTTP error (nothing has been sent yet).
    pub async fn prime(&mut self) -> Result<(), ApiError> {
        poll_fn(|cx| {
            while self.state.out.is_empty() && !self.state.done {
                match ready!(Pin::new(&mut self.upstream).poll_frame(cx)) {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            self.state.on_data(&data)?;
                        }
                    }
                    Some(Err(err)) => return Poll::Ready(Err(upstream_broken(err.into()))),
                    None => {
                        self.state.on_end()?;
                        self.state.done = true;
                    }
                }
            }
            Poll::Ready(Ok(()))
        })
        .await
    }

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Frame<Bytes>>> {
        let this = self.get_mut();
        loop {
            if !this.state.out.is_empty() {
                return Poll::Ready(Some(Frame::data(this.state.out.split().freeze())));
            }
            if this.state.done {
                return Poll::Ready(None);
            }
            let result = match ready!(Pin::new(&mut this.upstream).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => this.state.on_data(&data),
                    Err(_) => Ok(()),
                },
                Some(Err(err)) => Err(upstream_broken(err.into())),
                None => this.state.on_end().map(|()| this.state.done = true),
            };
            if let Err(err) = result {
                tracing::debug!(status = err.status.as_u16(), error = %err.error.message, "stream ended with an error");
                this.state.error_status = Some(err.status);
                this.state.translator.on_error(&err, &mut this.state.out);
                this.state.done = true;
            }
        }
    }
}

impl SseState {
    /// Decodes and translates what `data` completes.
    fn on_data(&mut self, data: &[u8]) -> Result<(), ApiError> {
        self.decoder.push(data);
        loop {
            let event = self
                .decoder
                .next_event()
                .map_err(|e| malformed(&e.to_string()))?;
            match event {
                None => return Ok(()),
                Some(RawEvent::Event {
                    event_type,
                    payload,
                }) => {
                    self.translator
                        .on_event(&event_type, &payload, &mut self.out)?;
                }
                Some(RawEvent::Exception {
                    exception_type,
                    payload,
                }) => {
                    return Err(stream_exception(&exception_type, &payload));
                }
            }
        }
    }

    /// Upstream ended: what the translator still owes, or an error if the answer was cut short.
    fn on_end(&mut self) -> Result<(), ApiError> {
        self.decoder
            .finish()
            .map_err(|e| malformed(&e.to_string()))?;
        self.translator.on_end(&mut self.out)
    }
}

/// An exception frame (`throttlingException`, ...) -> the OpenAI error for its Bedrock code.
fn stream_exception(exception_type: &str, payload: &[u8]) -> ApiError {
    let mut code = String::with_capacity(exception_type.len());
    let mut chars = exception_type.chars();
    if let Some(first) = chars.next() {
        code.extend(first.to_uppercase());
        code.push_str(chars.as_str());
    }
    ApiError::from_bedrock(StatusCode::BAD_GATEWAY, Some(&code), payload)
}

/// One event's JSON payload, or the 502 of a malformed stream naming the event.
pub fn parse_event<'a, T: serde::Deserialize<'a>>(
    event_type: &str,
    payload: &'a [u8],
) -> Result<T, ApiError> {
    serde_json::from_slice(payload).map_err(|e| malformed(&format!("bad {event_type} event: {e}")))
}

/// A malformed event stream from Bedrock: a 502 saying what was wrong.
pub fn malformed(detail: &str) -> ApiError {
    ApiError::server(
        StatusCode::BAD_GATEWAY,
        format!("malformed event stream from Bedrock: {detail}"),
        "upstream_error",
    )
}

/// The upstream body failed: a timeout (an `io::Error` of kind `TimedOut`, as idle-timeout
/// layers produce) is a 504 `timeout`, anything else a 502.
fn upstream_broken(err: BoxError) -> ApiError {
    let timed_out = err
        .downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
    if timed_out {
        return ApiError::server(
            StatusCode::GATEWAY_TIMEOUT,
            format!("Bedrock timed out during the stream: {err}"),
            "timeout",
        );
    }
    ApiError::server(
        StatusCode::BAD_GATEWAY,
        format!("the connection to Bedrock failed during the stream: {err}"),
        "upstream_error",
    )
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, StreamBody};

    use super::*;

    #[tokio::test]
    async fn text_completions_stream_text_completion_chunks_then_done() {
        use bedrock_mock::eventstream::event;
        use serde_json::{Value, json};
        let frames = [
            event("messageStart", json!({"role": "assistant"}), 3),
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "Hel"}}),
                3,
            ),
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "lo"}}),
                3,
            ),
            event("contentBlockStop", json!({"contentBlockIndex": 0}), 3),
            event("messageStop", json!({"stopReason": "max_tokens"}), 3),
            event(
                "metadata",
                json!({"usage": {"inputTokens": 4, "outputTokens": 2, "totalTokens": 6}, "metrics": {"latencyMs": 1}}),
                3,
            ),
        ];
        let upstream = StreamBody::new(futures_util::stream::iter(
            frames.map(|f| Ok::<_, std::io::Error>(Frame::data(f))),
        ));
        let ctx = ResponseContext {
            id: "cmpl-1".into(),
            created: 7,
            model: "m".into(),
            json_output_tool: false,
        };
        let options = StreamOptions {
            include_usage: true,
        };
        let mut events = EventsBody::text_completions(upstream, ctx, options);
        events.prime().await.unwrap();
        let body = OpenAiBody::Events(events)
            .collect()
            .await
            .unwrap()
            .to_bytes();
        let text = std::str::from_utf8(&body).unwrap();
        let data: Vec<&str> = text
            .split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| e.strip_prefix("data: ").unwrap())
            .collect();
        assert_eq!(data.last(), Some(&"[DONE]"));
        let chunks: Vec<Value> = data[..data.len() - 1]
            .iter()
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        let choice = |text: &str, finish: Value| json!([{"text": text, "index": 0, "logprobs": null, "finish_reason": finish}]);
        let head = json!({"id": "cmpl-1", "object": "text_completion", "created": 7, "model": "m", "system_fingerprint": null});
        let with = |choices: Value, usage: Value| {
            let mut chunk = head.clone();
            chunk["choices"] = choices;
            chunk["usage"] = usage;
            chunk
        };
        assert_eq!(
            chunks,
            vec![
                with(choice("Hel", Value::Null), Value::Null),
                with(choice("lo", Value::Null), Value::Null),
                with(choice("", json!("length")), Value::Null),
                with(
                    json!([]),
                    json!({"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6,
                        "prompt_tokens_details": {"cached_tokens": 0},
                        "completion_tokens_details": {"reasoning_tokens": 0}})
                ),
            ]
        );
    }

    #[tokio::test]
    async fn a_stream_that_fails_says_with_which_status() {
        let broken: Result<Frame<Bytes>, std::io::Error> =
            Err(std::io::ErrorKind::ConnectionReset.into());
        let upstream = StreamBody::new(futures_util::stream::iter([broken]));
        let mut body = OpenAiBody::events(
            upstream,
            ResponseContext::new("m"),
            StreamOptions::default(),
        );
        assert_eq!(body.stream_error_status(), None);
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert!(frame.starts_with(b"data: {\"error\""), "{frame:?}");
        assert!(body.frame().await.is_none());
        assert_eq!(body.stream_error_status(), Some(StatusCode::BAD_GATEWAY));
        assert_eq!(
            OpenAiBody::<Full<Bytes>>::full(Bytes::new()).stream_error_status(),
            None
        );
    }
}
