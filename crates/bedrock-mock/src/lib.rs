//! A fake AWS Bedrock Runtime, for tests, benchmarks and the demo; never for production.
//!
//! It verifies SigV4 with its own implementation (independent of the gateway's `sigv4-layer`,
//! which signs with the `aws-sigv4` crate), answers Converse, ConverseStream (real event-stream frames, split across writes) and
//! InvokeModel (Titan and Cohere embeddings, Titan text), and fails on demand. Answers are
//! deterministic: the echo `You said: <last user text>`, a tool call when tools are offered
//! (`Calling <name>.` then a `toolUse` with an input built from the schema), `Tool results: <json>`
//! after tool results; usage counts words. For benchmarks, `--fixed-answers` skips reading the
//! conversation: every Converse call gets one pre-serialised 200-word answer and every stream
//! `--stream-events` text deltas (bodies with `[mock:` directives are still handled in full).
//!
//! # Controls
//!
//! Under `/__mock/` (never under `/model/`), unauthenticated:
//!
//! - `GET /__mock/requests`: the recorded model requests, oldest first, at most 1000:
//!   `[{"method","path" (as sent on the wire),"query","headers" {lowercase name: value},
//!   "body","body_encoding" ("utf-8"|"base64"),"credential_scope" {"access_key","date","region",
//!   "service"} | null,"auth" ("sigv4"|"bearer"|"rejected"|"unverified")}]`.
//!   `DELETE /__mock/requests` clears them. [`MockConfig::record`] turns recording off.
//! - `POST /__mock/faults` queues one fault for the next `count` (default 1) model requests of
//!   any operation, first in first out; keys combine:
//!   - `{"error":"ThrottlingException","status":429,"message":"slow down","retry_after":1,"count":2}`
//!     (`status` defaults to Bedrock's for the code, `retry_after` adds a `Retry-After` header);
//!   - `{"delay_ms":500}`: sleep before answering;
//!   - `{"drop_connection":true}`: close the connection without an answer;
//!   - `{"stream_exception":"throttlingException","after_events":3}`: an exception frame
//!     (`throttlingException`, `modelStreamErrorException`, `internalServerException`,
//!     `validationException`, `serviceUnavailableException`) after K events, then the end;
//!   - `{"stream_cut_after_events":3}`: the connection breaks after K events;
//!   - `{"stream_event_delay_ms":100}`: a pause between events;
//!   - `{"stream_events":500}`: exactly N text deltas;
//!   - `{"pad_answer":30000000}`: a complete (non-streamed) answer followed by N bytes of JSON
//!     whitespace: still valid, as large as asked (for answer-size limits);
//!   - `{"truncate_body":true}`: a complete answer announced whole by its `Content-Length`, of
//!     which only the first half is sent before the connection closes.
//!
//!   `DELETE /__mock/faults` clears the queue.
//! - `GET /__mock/stats`: `{"requests","streams_started","streams_completed",
//!   "streams_cancelled" (the client went away mid-stream),"in_flight"}`.
//!
//! # Directives
//!
//! The same faults per request, so that concurrent tests do not interfere: `[mock:key=value,...]`
//! in the last user message's text of a Converse body (anywhere in the body of other operations),
//! with the keys above (`after` for `after_events`, a bare key for `true`). Directives override a
//! queued fault and are left out of the echo. Examples: `[mock:error=ThrottlingException]`,
//! `[mock:error=ModelErrorException,status=424,message=boom]`, `[mock:delay_ms=200]`,
//! `[mock:stream_exception=modelStreamErrorException,after=3]`, `[mock:stream_cut_after_events=2]`,
//! `[mock:drop_connection]`, `[mock:pad_answer=30000000]`, `[mock:truncate_body]`. One directive
//! shapes the answer instead: `[mock:parallel_tools]`, with `toolChoice: {any: {}}`, calls every
//! declared tool in one answer (otherwise `any` calls the first tool the conversation has not
//! called yet, without text, as a model made to call a tool does).
//!
//! # Example
//!
//! ```
//! # #[tokio::main] async fn main() -> std::io::Result<()> {
//! use bedrock_mock::{MockConfig, MockServer};
//!
//! let mock = MockServer::start(MockConfig::default()).await?;
//! assert!(mock.url().starts_with("http://127.0.0.1:"));
//! mock.shutdown().await;
//! # Ok(()) }
//! ```

pub mod answer;
pub mod anthropic;
pub mod eventstream;
pub mod faults;
pub mod models;
pub mod server;
pub mod sigv4;

pub use server::{MockConfig, MockServer, serve};
