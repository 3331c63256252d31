//! A fake AWS Bedrock Runtime, for tests, benchmarks and the demo; never for production.
//!
//! It verifies SigV4 with its own implementation (not the `aws-sigv4` crate the gateway signs
//! with), answers Converse, ConverseStream (real event-stream frames, split across writes) and
//! InvokeModel (Titan and Cohere embeddings, Titan text), and fails on demand. Answers are
//! deterministic: the echo `You said: <last user text>`, a tool call when tools are offered
//! (`Calling <name>.` then a `toolUse` with an input built from the schema), `Tool results: <json>`
//! after tool results; usage counts words.
//!
//! # Controls
//!
//! - `GET /__mock/requests`: the recorded model requests (method, wire path, headers, body,
//!   `credential_scope {access_key, date, region, service}`, `auth`); `DELETE` clears them.
//! - `POST /__mock/faults` queues a fault for the next `count` (default 1) model requests:
//!   `{"error":"ThrottlingException","status":429,"message":"...","retry_after":1,"count":2}`,
//!   `{"delay_ms":500}`, `{"drop_connection":true}`,
//!   `{"stream_exception":"throttlingException","after_events":3}`,
//!   `{"stream_cut_after_events":3}`, `{"stream_event_delay_ms":100}`; `DELETE` clears them.
//! - `GET /__mock/stats`: `requests`, `streams_started`, `streams_completed`,
//!   `streams_cancelled` (the client went away), `in_flight`.
//! - Per request, without the queue: a directive anywhere in the body, such as
//!   `[mock:error=ThrottlingException]`, `[mock:delay_ms=200]` or
//!   `[mock:stream_exception=modelStreamErrorException,after=3]`.
//!
//! # Example
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> std::io::Result<()> {
//! let mock = bedrock_mock::MockServer::start(bedrock_mock::MockConfig::default()).await?;
//! println!("fake Bedrock at {}", mock.url());
//! # Ok(()) }
//! ```

pub mod answer;
pub mod eventstream;
pub mod faults;
pub mod models;
pub mod server;
pub mod sigv4;

pub use server::{MockConfig, MockServer, serve};
