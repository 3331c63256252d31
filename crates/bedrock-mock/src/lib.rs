//! A fake AWS Bedrock Runtime, for tests, benchmarks and the demo; never for production.
//!
//! It verifies SigV4 with its own implementation (independent of the gateway's `sigv4-layer`,
//! which signs with the `aws-sigv4` crate), answers Converse, ConverseStream (real event-stream frames, split across writes),
//! InvokeModel (Titan and Cohere embeddings, Titan text, Anthropic Messages bodies),
//! InvokeModelWithResponseStream (Anthropic) and CountTokens, and fails on demand. Answers are
//! deterministic: the echo `You said: <last user text>`, a tool call when tools are offered
//! (`Calling <name>.` then a `toolUse` with an input built from the schema), `Tool results: <json>`
//! after tool results; usage counts words. For benchmarks, `--fixed-answers` skips reading the
//! conversation: every Converse call and every InvokeModel call for a Claude model gets one
//! pre-serialised 200-word answer (Anthropic's Message for the latter), and every ConverseStream
//! or InvokeModelWithResponseStream `--stream-events` text deltas (for Claude, ready-made `chunk`
//! frames); bodies with `[mock:` directives are still handled in full.
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
//! with the keys above (`after` for `after_events`, a bare key for `true`); for Anthropic
//! bodies, in the last user message's text (a string content or its text blocks). Directives override a
//! queued fault and are left out of the echo. Examples: `[mock:error=ThrottlingException]`,
//! `[mock:error=ModelErrorException,status=424,message=boom]`, `[mock:delay_ms=200]`,
//! `[mock:stream_exception=modelStreamErrorException,after=3]`, `[mock:stream_cut_after_events=2]`,
//! `[mock:drop_connection]`, `[mock:pad_answer=30000000]`, `[mock:truncate_body]`. One directive
//! shapes the answer instead: `[mock:parallel_tools]`, with `toolChoice: {any: {}}`, calls every
//! declared tool in one answer (otherwise `any` calls the first tool the conversation has not
//! called yet, without text, as a model made to call a tool does). `[mock:web_citation]` adds a
//! `web` citation to the echo (below).
//!
//! # Citations
//!
//! As Bedrock does when a `document` block has `citations: {"enabled": true}`, the echo cites
//! each such document ([`answer::citations`]): Converse answers one `citationsContent` block
//! `{"content":[{"text":<echo>}],"citations":[…]}` instead of the `text` block, and
//! ConverseStream sends the text deltas, then one `{"citation":{…}}` delta per citation on the
//! text's `contentBlockIndex`, then its `contentBlockStop`. A citation is
//! `{"title":<document name>,"sourceContent":[{"text":<the document's first 80 characters>}],
//! "location":{"documentChar":{"documentIndex":<i>,"start":0,"end":<characters quoted>}}}`
//! (`documentIndex` counts every document of the request, from 0); `[mock:web_citation]` adds
//! `{"title":"Mock web result","sourceContent":[{"text":"The mock's web page."}],
//! "location":{"web":{"url":"https://example.com/mock","domain":"example.com"}}}`.
//!
//! # Operations
//!
//! Every operation is `POST /model/{modelId}/{operation}`, SigV4-signed for service `bedrock`
//! (or a Bedrock API key as `Bearer`); the model id may be a foundation model, an
//! inference-profile id (`us.`, `eu.`, `apac.`, `global.`, …) or an ARN, with `:` raw or as
//! `%3A`.
//!
//! - `converse`, `converse-stream`: as above.
//! - `invoke` with a Titan or Cohere body: embeddings or Titan text, with Bedrock's
//!   `x-amzn-bedrock-input-token-count`, `-output-token-count` and `-invocation-latency`.
//! - `invoke` with an Anthropic model (`anthropic.claude-…`, or a profile of one): the body
//!   must be a JSON object with `anthropic_version: "bedrock-2023-05-31"`, `max_tokens` (an
//!   integer ≥ 1) and `messages` (an array; content a string or typed blocks), no `model` or
//!   `stream` (`Malformed input request: extraneous key [model] is not permitted, …`),
//!   `anthropic_beta` an array of strings, at most 4 `cache_control` blocks; otherwise a 400
//!   `ValidationException`. The answer is Anthropic's Message: `id` `msg_bdrk_…`, `model` the
//!   Claude name (`claude-sonnet-4-5-20250929` for `anthropic.claude-sonnet-4-5-20250929-v1:0`),
//!   the Converse echo as content (`You said: <last user text>`; with `tools`,
//!   `Calling <first tool>.` and a `tool_use` block `toolu_bdrk_…` with stop reason `tool_use`;
//!   `Tool results: …` after `tool_result`s; `max_tokens` and `stop_sequences` cut the echo in
//!   words, stop reasons `max_tokens` and `stop_sequence`), `usage` with `input_tokens`,
//!   `output_tokens`, `cache_creation_input_tokens` and `cache_read_input_tokens`, and the token
//!   headers above (plus `x-amzn-bedrock-cache-read-input-token-count` and
//!   `-cache-write-input-token-count` when the cache was used).
//!   - Thinking: with `"thinking": {"type": "enabled", …}` the answer starts with
//!     `{"type":"thinking","thinking":"Thinking about: <last user text>","signature":S}` where
//!     S is [`anthropic::thinking_signature`]: base64 of SHA-256 of
//!     `bedrock-mock thinking\n<thinking>`. A thinking block in an assistant turn must carry
//!     that signature, else 400
//!     ``messages.{i}.content.{j}: Invalid `signature` in `thinking` block``.
//!   - Prompt cache: the prefix is every tool, system block and message block up to the last
//!     one with `cache_control`, with the model. The first time a prefix is seen its tokens are
//!     `cache_creation_input_tokens`, later they are `cache_read_input_tokens`; the rest is
//!     `input_tokens`. The mock remembers the last 1024 prefixes.
//! - `invoke-with-response-stream` (Anthropic only): the same answer as
//!   `application/vnd.amazon.eventstream` `chunk` events (`x-amzn-bedrock-content-type:
//!   application/json`) whose `bytes` are base64 of Anthropic's stream events: `message_start`
//!   (usage with `output_tokens` 1), per block `content_block_start`, deltas (`text_delta` per
//!   word, `thinking_delta` in two pieces then `signature_delta`, `input_json_delta` `""` then
//!   two pieces), `content_block_stop`, then `message_delta` (stop reason, `output_tokens`) and
//!   `message_stop` with `amazon-bedrock-invocationMetrics`. Stream faults and directives
//!   (exception frames, cuts, pacing) apply as to ConverseStream.
//! - `count-tokens`: `{"input":{"converse":{messages,system?,toolConfig?,
//!   additionalModelRequestFields?}}}` or `{"input":{"invokeModel":{"body":"<base64>"}}}`
//!   (exactly one; the body an Anthropic body as above, `max_tokens` included) →
//!   `{"inputTokens":N}`. Foundation-model ids only: an inference profile is a 400.
//!
//! Tokens are words (whitespace-separated) of the text blocks (not tool results) of the system
//! prompt and the messages (at least 1), the same for every operation, so that N equals Converse's
//! `inputTokens` + cache tokens, and Anthropic's `input_tokens` +
//! `cache_creation_input_tokens` + `cache_read_input_tokens`.
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
