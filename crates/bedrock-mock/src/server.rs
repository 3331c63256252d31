//! The HTTP server: routing, authentication, faults, recording, answers and streams.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::answer;
use crate::anthropic::{self, PromptCache};
use crate::eventstream;
use crate::faults::{Fault, status_of};
use crate::models::{self, Kind};
use crate::sigv4::{self, KeyStore, SignedRequest, Verified};

/// How the mock behaves.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Known keys and API keys.
    pub keys: KeyStore,
    /// Check signatures (off for benchmarks).
    pub verify: bool,
    /// Record requests for `GET /__mock/requests` (off for benchmarks).
    pub record: bool,
    /// When non-zero, every stream answers exactly this many text events (benchmarks).
    pub stream_events: usize,
    /// Write each stream frame in two or three pieces, to exercise clients' reassembly.
    pub split_frames: bool,
    /// Pause between stream events (zero: none); a fault's `stream_event_delay_ms` overrides it.
    pub stream_event_delay: Duration,
    /// Answer every valid-looking Converse call, and every InvokeModel call for a Claude model,
    /// with one fixed answer, without reading the conversation (benchmarks; a body with `[mock:`
    /// directives still gets the full treatment).
    pub fixed_answers: bool,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            keys: KeyStore::default(),
            verify: true,
            record: true,
            stream_events: 0,
            split_frames: true,
            stream_event_delay: Duration::ZERO,
            fixed_answers: false,
        }
    }
}

/// Words of the fixed Converse answer (about 1 KiB of text).
const FIXED_ANSWER_WORDS: usize = 200;

/// The most requests kept for `GET /__mock/requests`.
const MAX_RECORDED: usize = 1000;

#[derive(Debug, Default)]
struct Stats {
    requests: AtomicU64,
    streams_started: AtomicU64,
    streams_completed: AtomicU64,
    streams_cancelled: AtomicU64,
    in_flight: AtomicU64,
}

#[derive(Debug)]
struct State {
    config: MockConfig,
    /// The Converse answer of `fixed_answers` mode, serialised once.
    fixed_converse: Bytes,
    faults: Mutex<VecDeque<(Fault, u32)>>,
    recorded: Mutex<VecDeque<Value>>,
    stats: Stats,
    /// The prefixes Anthropic bodies marked with `cache_control`.
    prompt_cache: PromptCache,
    /// The Anthropic answers of `fixed_answers` mode, per Claude model (the Message names it),
    /// built on the model's first call.
    fixed_anthropic: Mutex<HashMap<&'static str, Arc<FixedAnthropic>>>,
}

/// The fixed answers of one Claude model: the InvokeModel Message ([`FIXED_ANSWER_WORDS`] words)
/// serialised once, and the InvokeModelWithResponseStream answer (`stream_events` text deltas)
/// as ready-made `chunk` frames.
#[derive(Debug)]
struct FixedAnthropic {
    message: Bytes,
    message_output_tokens: u64,
    frames: Arc<[Bytes]>,
}

impl FixedAnthropic {
    fn new(known: &str, stream_events: usize) -> Self {
        let reply = |words| anthropic::Reply {
            answer: answer::benchmark_answer(words),
            id: "msg_bdrk_01FixedBenchmarkAnswer0".to_owned(),
            model: anthropic::model_name(known),
            input_tokens: 1,
            cache_creation: 0,
            cache_read: 0,
        };
        let message = reply(FIXED_ANSWER_WORDS);
        let frames = anthropic::stream_events(&reply(stream_events.max(1)))
            .iter()
            .map(anthropic::chunk)
            .enumerate()
            .map(|(sent, (event_type, payload))| {
                eventstream::event(event_type, payload, 1 + sent % 23)
            })
            .collect();
        Self {
            message: Bytes::from(anthropic::message_json(&message).to_string()),
            message_output_tokens: message.answer.output_tokens,
            frames,
        }
    }
}

/// A running mock; stops when dropped.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl MockServer {
    /// Binds and starts serving in the background.
    pub async fn start(config: MockConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, config, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: MockConfig,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let fixed_converse = Bytes::from(
        answer::converse_json(&answer::benchmark_answer(FIXED_ANSWER_WORDS)).to_string(),
    );
    let state = Arc::new(State {
        fixed_converse,
        config,
        faults: Mutex::default(),
        recorded: Mutex::default(),
        stats: Stats::default(),
        prompt_cache: PromptCache::default(),
        fixed_anthropic: Mutex::default(),
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
            () = &mut shutdown => return,
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let service =
            hyper::service::service_fn(move |request| handle(Arc::clone(&state), request));
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
}

/// The error that makes hyper close a connection without an answer.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose")]
struct DropConnection;

type MockBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

fn full(bytes: impl Into<Bytes>) -> MockBody {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

fn json_response(status: StatusCode, value: &Value) -> Response<MockBody> {
    json_bytes_response(status, Bytes::from(value.to_string()))
}

/// A JSON answer already serialised, with Bedrock's request id.
fn json_bytes_response(status: StatusCode, json: Bytes) -> Response<MockBody> {
    let mut response = Response::new(full(json));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-amzn-requestid", request_id());
    response
}

/// Whether a body holds `[mock:...]` directives somewhere.
fn has_directives(body: &[u8]) -> bool {
    body.windows(6).any(|w| w == b"[mock:")
}

/// A Bedrock error answer: status, `x-amzn-ErrorType`, `x-amzn-RequestId`, `{"message"}`.
fn bedrock_error(
    status: u16,
    code: &str,
    message: &str,
    retry_after: Option<u64>,
) -> Response<MockBody> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = json_response(status, &json!({ "message": message }));
    let headers = response.headers_mut();
    let error_type = format!("{code}:http://internal.amazon.com/coral/com.amazon.coral.service/");
    if let Ok(value) = HeaderValue::from_str(&error_type) {
        headers.insert("x-amzn-errortype", value);
    }
    if let Some(secs) = retry_after {
        headers.insert("retry-after", HeaderValue::from(secs));
    }
    response
}

fn request_id() -> HeaderValue {
    let hex: String = std::iter::repeat_with(|| fastrand::u8(..))
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let id = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    HeaderValue::from_str(&id).expect("hex is a valid header value")
}

async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, DropConnection> {
    let path = request.uri().path().to_owned();
    if path.starts_with("/__mock/") {
        return Ok(control(&state, request).await);
    }
    if path == "/health" {
        return Ok(json_response(StatusCode::OK, &json!({"status": "ok"})));
    }
    state.stats.requests.fetch_add(1, Ordering::Relaxed);
    state.stats.in_flight.fetch_add(1, Ordering::Relaxed);
    let guard = InFlight(Arc::clone(&state));
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, 30 * 1024 * 1024).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(bedrock_error(
                413,
                "ValidationException",
                "Request body too large",
                None,
            ));
        }
    };
    let response = model_request(&state, &parts, &body, guard).await?;
    Ok(response)
}

/// Decrements `in_flight` when dropped (for a stream: when the stream ends).
struct InFlight(Arc<State>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn model_request(
    state: &Arc<State>,
    parts: &http::request::Parts,
    body: &Bytes,
    guard: InFlight,
) -> Result<Response<MockBody>, DropConnection> {
    let auth = authenticate(state, parts, body);
    if state.config.record {
        record(state, parts, body, &auth);
    }
    if let Err(err) = auth {
        return Ok(bedrock_error(403, err.code, &err.message, None));
    }
    if state.config.fixed_answers && parts.method == Method::POST && !has_directives(body) {
        match parts.uri.path().rsplit('/').next() {
            Some("converse") => {
                return Ok(json_bytes_response(
                    StatusCode::OK,
                    state.fixed_converse.clone(),
                ));
            }
            Some("converse-stream") => {
                let events = state.config.stream_events.max(1);
                let events = answer::stream_events(&answer::benchmark_answer(events));
                return Ok(stream(state, events, Fault::default(), guard));
            }
            Some(operation @ ("invoke" | "invoke-with-response-stream")) => {
                if let Some(fixed) = fixed_anthropic(state, parts.uri.path()) {
                    if operation == "invoke" {
                        let mut response =
                            json_bytes_response(StatusCode::OK, fixed.message.clone());
                        invoke_headers(response.headers_mut(), 1, fixed.message_output_tokens);
                        return Ok(response);
                    }
                    let mut response = frames_stream(state, Arc::clone(&fixed.frames), guard);
                    response.headers_mut().insert(
                        "x-amzn-bedrock-content-type",
                        HeaderValue::from_static("application/json"),
                    );
                    return Ok(response);
                }
            }
            _ => {}
        }
    }
    let json = serde_json::from_slice::<Value>(body).ok();
    let fault = request_fault(state, json.as_ref(), body);
    if let Some(ms) = fault.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if fault.drop_connection {
        return Err(DropConnection);
    }
    if let Some(error) = &fault.error {
        let status = fault.status.unwrap_or_else(|| status_of(error));
        let message = fault
            .message
            .clone()
            .unwrap_or_else(|| format!("injected {error}"));
        return Ok(bedrock_error(status, error, &message, fault.retry_after));
    }
    if parts.method != Method::POST {
        return Ok(bedrock_error(404, "UnknownOperationException", "", None));
    }
    let Some((model_id, operation)) = models::parse_path(parts.uri.path()) else {
        return Ok(bedrock_error(404, "UnknownOperationException", "", None));
    };
    let Some((known, kind)) = models::resolve(&model_id) else {
        return Ok(bedrock_error(
            400,
            "ValidationException",
            "The provided model identifier is invalid.",
            None,
        ));
    };
    let Some(json) = json else {
        return Ok(bedrock_error(
            400,
            "ValidationException",
            "Malformed input request, please reformat your input and try again.",
            None,
        ));
    };
    match (operation, kind) {
        ("converse" | "converse-stream", Kind::Text) => {
            if let Err(invalid) = answer::validate(&json)
                .and_then(|()| answer::validate_guardrail(&json, operation == "converse-stream"))
            {
                return Ok(bedrock_error(400, "ValidationException", &invalid.0, None));
            }
            if operation == "converse" {
                let answer = json_response(
                    StatusCode::OK,
                    &answer::converse_json(&answer::answer(&json)),
                );
                return Ok(answer_faults(answer, &fault).await);
            }
            let answer = match fault.stream_events.unwrap_or(state.config.stream_events) {
                0 => answer::answer(&json),
                n => answer::benchmark_answer(n),
            };
            Ok(stream(state, answer::stream_events(&answer), fault, guard))
        }
        ("count-tokens", _) => Ok(count_tokens(&model_id, known, kind, &json)),
        ("invoke" | "invoke-with-response-stream", _) if !is_json(&parts.headers) => {
            Ok(bedrock_error(
                400,
                "ValidationException",
                "The provided Content-Type header is not supported. Specify application/json and try again.",
                None,
            ))
        }
        ("invoke" | "invoke-with-response-stream", Kind::Text) if models::is_anthropic(known) => {
            if let Err(invalid) = anthropic::validate(&json) {
                return Ok(bedrock_error(400, "ValidationException", &invalid.0, None));
            }
            let reply = anthropic::reply(known, &json, &state.prompt_cache);
            if operation == "invoke" {
                return Ok(answer_faults(anthropic_message(&reply), &fault).await);
            }
            Ok(anthropic_stream(state, &reply, fault, guard))
        }
        ("converse" | "converse-stream", _) => Ok(bedrock_error(
            400,
            "ValidationException",
            "This action doesn't support the model that you provided. Try again with a supported text or chat model.",
            None,
        )),
        ("invoke", Kind::Text) => Ok(answer_faults(invoke_text(&json), &fault).await),
        ("invoke", kind) => match answer::invoke_embedding(kind, &json) {
            Ok((answer, tokens)) => {
                let mut response = json_response(StatusCode::OK, &answer);
                let headers = response.headers_mut();
                invoke_headers(headers, tokens, 0);
                Ok(answer_faults(response, &fault).await)
            }
            Err(invalid) => Ok(bedrock_error(400, "ValidationException", &invalid.0, None)),
        },
        ("invoke-with-response-stream", _) => Ok(bedrock_error(
            400,
            "ValidationException",
            "The model is unsupported for streaming.",
            None,
        )),
        _ => Ok(bedrock_error(404, "UnknownOperationException", "", None)),
    }
}

/// The fixed answers of the Claude model in `path` (`fixed_answers` mode); `None` for any other
/// model, which gets the full treatment.
fn fixed_anthropic(state: &State, path: &str) -> Option<Arc<FixedAnthropic>> {
    let (model_id, _) = models::parse_path(path)?;
    let (known, kind) = models::resolve(&model_id)?;
    if kind != Kind::Text || !models::is_anthropic(known) {
        return None;
    }
    let mut fixed = state
        .fixed_anthropic
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let answers = fixed
        .entry(known)
        .or_insert_with(|| Arc::new(FixedAnthropic::new(known, state.config.stream_events)));
    Some(Arc::clone(answers))
}

/// An Anthropic InvokeModel answer: the Message JSON and Bedrock's token-count headers.
fn anthropic_message(reply: &anthropic::Reply) -> Response<MockBody> {
    let mut response = json_response(StatusCode::OK, &anthropic::message_json(reply));
    let headers = response.headers_mut();
    invoke_headers(headers, reply.input_tokens, reply.answer.output_tokens);
    cache_headers(headers, reply);
    response
}

/// Bedrock's prompt-cache token headers, when the request used the cache.
fn cache_headers(headers: &mut HeaderMap, reply: &anthropic::Reply) {
    if reply.cache_read + reply.cache_creation > 0 {
        headers.insert(
            "x-amzn-bedrock-cache-read-input-token-count",
            HeaderValue::from(reply.cache_read),
        );
        headers.insert(
            "x-amzn-bedrock-cache-write-input-token-count",
            HeaderValue::from(reply.cache_creation),
        );
    }
}

/// An Anthropic InvokeModelWithResponseStream answer: each event a `chunk` frame.
fn anthropic_stream(
    state: &Arc<State>,
    reply: &anthropic::Reply,
    fault: Fault,
    guard: InFlight,
) -> Response<MockBody> {
    let events = anthropic::stream_events(reply)
        .iter()
        .map(anthropic::chunk)
        .collect();
    let mut response = stream(state, events, fault, guard);
    response.headers_mut().insert(
        "x-amzn-bedrock-content-type",
        HeaderValue::from_static("application/json"),
    );
    response
}

/// CountTokens: `{"inputTokens": N}` for a Converse or an Anthropic InvokeModel input, N as the
/// same request's usage would count it; foundation-model ids only.
fn count_tokens(model_id: &str, known: &str, kind: Kind, body: &Value) -> Response<MockBody> {
    let counted = if models::is_inference_profile(model_id) {
        Err(answer::Invalid(
            "The provided model identifier is invalid. CountTokens takes a foundation model id, not an inference profile."
                .to_owned(),
        ))
    } else if kind != Kind::Text {
        Err(answer::Invalid(
            "The provided model doesn't support counting tokens.".to_owned(),
        ))
    } else {
        count_input(known, body)
    };
    match counted {
        Ok(tokens) => json_response(StatusCode::OK, &json!({ "inputTokens": tokens })),
        Err(invalid) => bedrock_error(400, "ValidationException", &invalid.0, None),
    }
}

/// The input tokens of CountTokens' `input`: exactly one of `converse` and `invokeModel`.
fn count_input(known: &str, body: &Value) -> Result<u64, answer::Invalid> {
    let invalid = |m: &str| Err(answer::Invalid(m.to_owned()));
    let input = body.get("input").and_then(Value::as_object);
    let Some((member, value)) = input.filter(|i| i.len() == 1).and_then(|i| i.iter().next()) else {
        return invalid(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have exactly one member set: [converse, invokeModel]",
        );
    };
    match member.as_str() {
        "converse" => count_converse(value),
        "invokeModel" if models::is_anthropic(known) => {
            let body = value
                .get("body")
                .and_then(Value::as_str)
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
            let Some(body) = body else {
                return invalid(
                    "Malformed input request: input.invokeModel.body must be base64 of a JSON object, please reformat your input and try again.",
                );
            };
            anthropic::validate(&body)?;
            Ok(anthropic::input_tokens(&body))
        }
        "invokeModel" => {
            invalid("The provided model doesn't support counting tokens for InvokeModel bodies.")
        }
        other => Err(answer::Invalid(format!(
            "Malformed input request: extraneous key [input.{other}] is not permitted, please reformat your input and try again."
        ))),
    }
}

/// A Converse input's tokens, as `inputTokens` plus the cache tokens of Converse's usage.
fn count_converse(converse: &Value) -> Result<u64, answer::Invalid> {
    const MEMBERS: &[&str] = &[
        "messages",
        "system",
        "toolConfig",
        "additionalModelRequestFields",
    ];
    if let Some(unknown) = converse
        .as_object()
        .and_then(|o| o.keys().find(|k| !MEMBERS.contains(&k.as_str())))
    {
        return Err(answer::Invalid(format!(
            "Malformed input request: extraneous key [input.converse.{unknown}] is not permitted, please reformat your input and try again."
        )));
    }
    answer::validate(converse)?;
    let answer = answer::answer(converse);
    Ok(answer.input_tokens + answer.cache_read_tokens + answer.cache_write_tokens)
}

/// A complete answer as the fault's `pad_answer` and `truncate_body` make it.
async fn answer_faults(response: Response<MockBody>, fault: &Fault) -> Response<MockBody> {
    if fault.pad_answer.is_none() && !fault.truncate_body {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let mut bytes = body
        .collect()
        .await
        .map(|collected| collected.to_bytes().to_vec())
        .unwrap_or_default();
    if let Some(padding) = fault.pad_answer {
        bytes.resize(bytes.len() + padding, b' ');
    }
    if !fault.truncate_body {
        return Response::from_parts(parts, full(bytes));
    }
    parts
        .headers
        .insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let whole = Bytes::from(bytes);
    let half = whole.slice(..whole.len() / 2);
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        let _ = tx.send(Ok(half)).await;
        // A pause, so that the headers and the half go out before the connection breaks.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = tx
            .send(Err(std::io::Error::other("answer cut on purpose")))
            .await;
    });
    Response::from_parts(parts, ChannelBody(rx).boxed())
}

/// Titan Text's InvokeModel shape, enough for tools that call it.
fn invoke_text(json: &Value) -> Response<MockBody> {
    let text = json
        .get("inputText")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let words = text.split_whitespace().count() as u64;
    let mut response = json_response(
        StatusCode::OK,
        &json!({"inputTextTokenCount": words, "results": [{"tokenCount": words + 2, "outputText": format!("You said: {text}"), "completionReason": "FINISH"}]}),
    );
    invoke_headers(response.headers_mut(), words, words + 2);
    response
}

/// InvokeModel's token-count and latency headers.
fn invoke_headers(headers: &mut HeaderMap, input: u64, output: u64) {
    headers.insert("x-amzn-bedrock-input-token-count", HeaderValue::from(input));
    headers.insert(
        "x-amzn-bedrock-output-token-count",
        HeaderValue::from(output),
    );
    headers.insert("x-amzn-bedrock-invocation-latency", HeaderValue::from(1));
}

/// Whether the request declares a JSON body (InvokeModel requires it).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

/// The queued fault, overridden by the request's own `[mock:...]` directives: those in the last
/// user message of a Converse body, or anywhere in the body of other operations.
fn request_fault(state: &State, json: Option<&Value>, body: &[u8]) -> Fault {
    let queued = next_fault(state).unwrap_or_default();
    let directive = match json.and_then(|j| j.get("messages")) {
        Some(messages) => Fault::from_directives(&answer::last_user_text(messages)),
        None if has_directives(body) => Fault::from_directives(&String::from_utf8_lossy(body)),
        None => None,
    };
    match directive {
        Some(directive) => queued.overridden_by(directive),
        None => queued,
    }
}

fn authenticate(
    state: &State,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Option<Verified>, sigv4::AuthError> {
    if !state.config.verify {
        return Ok(None);
    }
    let request = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        authority: parts.uri.authority().map(|a| a.as_str()),
        body,
    };
    sigv4::verify(&request, &state.config.keys, SystemTime::now()).map(Some)
}

fn next_fault(state: &State) -> Option<Fault> {
    let mut faults = state.faults.lock().unwrap_or_else(PoisonError::into_inner);
    let (fault, remaining) = faults.front_mut()?;
    let fault = fault.clone();
    *remaining -= 1;
    if *remaining == 0 {
        faults.pop_front();
    }
    Some(fault)
}

fn headers_json(headers: &HeaderMap) -> Value {
    let mut map = serde_json::Map::new();
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        map.insert(name.as_str().to_owned(), Value::String(values.join(",")));
    }
    Value::Object(map)
}

fn record(
    state: &State,
    parts: &http::request::Parts,
    body: &[u8],
    auth: &Result<Option<Verified>, sigv4::AuthError>,
) {
    let scope_json = |s: &sigv4::Scope| json!({"access_key": s.access_key, "date": s.date, "region": s.region, "service": s.service});
    let (kind, scope) = match auth {
        Ok(Some(Verified::SigV4(scope))) => ("sigv4", scope_json(scope)),
        Ok(Some(Verified::Bearer)) => ("bearer", Value::Null),
        Ok(None) => ("unverified", Value::Null),
        Err(err) => (
            "rejected",
            err.scope.as_deref().map_or(Value::Null, scope_json),
        ),
    };
    let (body, encoding) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), "utf-8"),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(body),
            "base64",
        ),
    };
    let entry = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "headers": headers_json(&parts.headers),
        "query": parts.uri.query(),
        "body": body,
        "body_encoding": encoding,
        "credential_scope": scope,
        "auth": kind,
    });
    let mut recorded = state
        .recorded
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if recorded.len() == MAX_RECORDED {
        recorded.pop_front();
    }
    recorded.push_back(entry);
}

async fn control(state: &State, request: Request<Incoming>) -> Response<MockBody> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    match (method, path.as_str()) {
        (Method::GET, "/__mock/requests") => {
            let recorded: Vec<Value> = state
                .recorded
                .lock()
                .expect("recording lock")
                .iter()
                .cloned()
                .collect();
            json_response(StatusCode::OK, &Value::Array(recorded))
        }
        (Method::DELETE, "/__mock/requests") => {
            state
                .recorded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
            json_response(StatusCode::OK, &json!({}))
        }
        (Method::POST, "/__mock/faults") => {
            let body = match request.into_body().collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => {
                    return json_response(
                        StatusCode::BAD_REQUEST,
                        &json!({"error": "unreadable body"}),
                    );
                }
            };
            let parsed = serde_json::from_slice::<Value>(&body)
                .map_err(|e| e.to_string())
                .and_then(|v| Fault::from_json(&v));
            match parsed {
                Ok((fault, count)) if count > 0 => {
                    state
                        .faults
                        .lock()
                        .expect("fault queue lock")
                        .push_back((fault, count));
                    json_response(StatusCode::OK, &json!({"queued": count}))
                }
                Ok(_) => json_response(StatusCode::OK, &json!({"queued": 0})),
                Err(e) => json_response(StatusCode::BAD_REQUEST, &json!({ "error": e })),
            }
        }
        (Method::DELETE, "/__mock/faults") => {
            state
                .faults
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
            json_response(StatusCode::OK, &json!({}))
        }
        (Method::GET, "/__mock/stats") => {
            let s = &state.stats;
            let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
            json_response(
                StatusCode::OK,
                &json!({
                    "requests": get(&s.requests),
                    "streams_started": get(&s.streams_started),
                    "streams_completed": get(&s.streams_completed),
                    "streams_cancelled": get(&s.streams_cancelled),
                    "in_flight": get(&s.in_flight),
                }),
            )
        }
        _ => json_response(StatusCode::NOT_FOUND, &json!({"error": "unknown control"})),
    }
}

/// A body fed by a channel; the sender sees the receiver dropped when the client goes away.
struct ChannelBody(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|item| item.map(|r| r.map(Frame::data)))
    }
}

/// Stream events as real event-stream frames, paced and broken as the fault says.
fn stream(
    state: &Arc<State>,
    events: Vec<(&'static str, Value)>,
    fault: Fault,
    guard: InFlight,
) -> Response<MockBody> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let state = Arc::clone(state);
    state.stats.streams_started.fetch_add(1, Ordering::Relaxed);
    let split = state.config.split_frames;
    let mut fault = fault;
    if fault.stream_event_delay_ms.is_none() && !state.config.stream_event_delay.is_zero() {
        let ms = state.config.stream_event_delay.as_millis();
        fault.stream_event_delay_ms = Some(u64::try_from(ms).unwrap_or(u64::MAX));
    }
    tokio::spawn(async move {
        let _guard = guard;
        let outcome = send_events(&tx, events, &fault, split).await;
        let counter = match outcome {
            Outcome::Completed => &state.stats.streams_completed,
            Outcome::Cancelled => &state.stats.streams_cancelled,
            Outcome::Broken => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let mut response = Response::new(ChannelBody(rx).boxed());
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    response
        .headers_mut()
        .insert("x-amzn-requestid", request_id());
    response
}

/// Ready-made event-stream frames as a stream answer, each its own write (in pieces when
/// `split_frames`), paced by the configured `stream_event_delay`.
fn frames_stream(state: &Arc<State>, frames: Arc<[Bytes]>, guard: InFlight) -> Response<MockBody> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let state = Arc::clone(state);
    state.stats.streams_started.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(async move {
        let _guard = guard;
        let (split, delay) = (state.config.split_frames, state.config.stream_event_delay);
        let mut counter = &state.stats.streams_completed;
        for (sent, frame) in frames.iter().enumerate() {
            if sent > 0 && !delay.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = tx.closed() => {
                        counter = &state.stats.streams_cancelled;
                        break;
                    }
                }
            }
            if !send(&tx, frame.clone(), split).await {
                counter = &state.stats.streams_cancelled;
                break;
            }
        }
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let mut response = Response::new(ChannelBody(rx).boxed());
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    response
        .headers_mut()
        .insert("x-amzn-requestid", request_id());
    response
}

enum Outcome {
    Completed,
    Cancelled,
    Broken,
}

async fn send_events(
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
    events: Vec<(&'static str, Value)>,
    fault: &Fault,
    split: bool,
) -> Outcome {
    let total = events.len();
    // An exception asked for after more events than the answer has comes last.
    let exception_at = fault.after_events.min(total);
    let mut events = events.into_iter().map(Some).chain(std::iter::once(None));
    for sent in 0..=total {
        if let Some(exception) = fault
            .stream_exception
            .as_deref()
            .filter(|_| sent == exception_at)
        {
            let frame = eventstream::exception(exception, &format!("injected {exception}"));
            return if send(tx, frame, split).await {
                Outcome::Broken
            } else {
                Outcome::Cancelled
            };
        }
        if fault.stream_cut_after_events == Some(sent) {
            let _ = tx
                .send(Err(std::io::Error::other("stream cut on purpose")))
                .await;
            return Outcome::Broken;
        }
        let Some(Some((event_type, payload))) = events.next() else {
            break;
        };
        if let Some(ms) = fault.stream_event_delay_ms.filter(|_| sent > 0) {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(ms)) => {}
                () = tx.closed() => return Outcome::Cancelled,
            }
        }
        let frame = eventstream::event(event_type, payload, 1 + sent % 23);
        if !send(tx, frame, split).await {
            return Outcome::Cancelled;
        }
    }
    Outcome::Completed
}

/// Sends one frame, in two or three pieces when `split`; false when the client is gone.
async fn send(tx: &mpsc::Sender<Result<Bytes, std::io::Error>>, frame: Bytes, split: bool) -> bool {
    let pieces = if split && frame.len() > 20 {
        let a = 7 + fastrand::usize(..frame.len() / 2);
        let b = a + fastrand::usize(..(frame.len() - a));
        vec![frame.slice(..a), frame.slice(a..b), frame.slice(b..)]
    } else {
        vec![frame]
    };
    for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
        if tx.send(Ok(piece)).await.is_err() {
            return false;
        }
        tokio::task::yield_now().await;
    }
    true
}
