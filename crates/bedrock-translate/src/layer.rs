//! The translator as a tower [`Layer`]: OpenAI HTTP request in, Bedrock HTTP request to the
//! inner service, OpenAI HTTP response out.
//!
//! The inner service is anything that sends a Bedrock Runtime request: in the gateway, the
//! SigV4 signer stacked on a pooled hyper client. Request extensions (credentials, signing
//! region, request id) are moved from the OpenAI request to the Bedrock request, so layers
//! below see what layers above decided. The Bedrock host comes from a [`BedrockEndpoint`]
//! extension when present, else from the layer's configured endpoint.
//!
//! Translation failures and Bedrock error answers become OpenAI error responses; only failures
//! of the inner service itself (connection refused, timeouts) are returned as errors, for the
//! edge to map.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::{endpoint::BedrockEndpoint, layer::TranslateLayer, model_id::ModelId};
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // A stand-in for Bedrock that checks the translated request and answers.
//! let bedrock = service_fn(|req: Request<Full<Bytes>>| async move {
//!     assert_eq!(req.uri().path(), "/model/amazon.titan-text-premier-v1%3A0/converse");
//!     let answer = r#"{"output":{"message":{"role":"assistant","content":[{"text":"Hi!"}]}},
//!         "stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}}"#;
//!     Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(answer))))
//! });
//! let layer = TranslateLayer::new(
//!     ModelId::parse("amazon.titan-text-premier-v1:0").unwrap(),
//!     BedrockEndpoint::parse("http://127.0.0.1:9").unwrap(),
//! );
//! let service = ServiceBuilder::new().layer(layer).service(bedrock);
//! let request = Request::post("/v1/chat/completions")
//!     .body(Full::new(Bytes::from(r#"{"messages":[{"role":"user","content":"Hello"}]}"#)))
//!     .unwrap();
//! let response = service.oneshot(request).await.unwrap();
//! let body = response.into_body().collect().await.unwrap().to_bytes();
//! let chat: serde_json::Value = serde_json::from_slice(&body).unwrap();
//! assert_eq!(chat["choices"][0]["message"]["content"], "Hi!");
//! # }
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{StreamExt as _, TryStreamExt as _};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use openai_types::chat::ChatCompletionRequest;
use openai_types::embeddings::EmbeddingsRequest;
use tower::{BoxError, Layer, Service, ServiceExt as _};

use crate::body::{EventsBody, OpenAiBody};
use crate::converse::ConverseResponse;
use crate::embeddings;
use crate::endpoint::BedrockEndpoint;
use crate::error::{ApiError, TranslateError};
use crate::model_id::{ModelId, Operation};
use crate::request::{JSON_OUTPUT_TOOL, chat_to_converse};
use crate::response::{ResponseContext, converse_to_chat};
use crate::stream::StreamOptions;

/// The most of a Bedrock (non-streaming) answer the translator reads: Bedrock's own limit.
pub const MAX_UPSTREAM_BODY: usize = 25_000_000;
/// The embedding model used when a request names none.
pub const DEFAULT_EMBEDDING_MODEL: &str = "amazon.titan-embed-text-v2:0";
/// InvokeModel calls of one embeddings request in flight at once.
pub const EMBEDDING_CONCURRENCY: usize = 8;

/// Configuration of the translator, shared by every clone of the service.
#[derive(Debug, Clone)]
pub struct TranslateConfig {
    /// The model used when a request names none.
    pub default_model: ModelId,
    /// Model aliases: the name a client sends -> the Bedrock model id.
    pub aliases: HashMap<String, ModelId>,
    /// The embedding model used when an embeddings request names none.
    pub default_embedding_model: ModelId,
    /// Where requests go when the request carries no [`BedrockEndpoint`] extension.
    pub endpoint: BedrockEndpoint,
    /// Per-model defaults for requests that leave a parameter out.
    pub model_defaults: HashMap<ModelId, ModelDefaults>,
}

/// Inference parameters applied to a model's requests when the request leaves them out.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDefaults {
    /// `max_completion_tokens`.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// `temperature`.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// `top_p`.
    #[serde(default)]
    pub top_p: Option<f64>,
}

impl ModelDefaults {
    /// Fills what `request` leaves out.
    pub fn apply(&self, request: &mut ChatCompletionRequest) {
        if request.max_completion_tokens.is_none() && request.max_tokens.is_none() {
            request.max_completion_tokens = self.max_tokens;
        }
        request.temperature = request.temperature.or(self.temperature);
        request.top_p = request.top_p.or(self.top_p);
    }
}

impl TranslateConfig {
    /// The Bedrock model for the request's `model` field: an alias, a valid id, or the default.
    pub fn resolve_model(&self, requested: Option<&str>) -> Result<ModelId, TranslateError> {
        self.resolve(requested, &self.default_model)
    }

    /// The Bedrock model for an embeddings request's `model` field.
    pub fn resolve_embedding_model(
        &self,
        requested: Option<&str>,
    ) -> Result<ModelId, TranslateError> {
        self.resolve(requested, &self.default_embedding_model)
    }

    fn resolve(
        &self,
        requested: Option<&str>,
        default: &ModelId,
    ) -> Result<ModelId, TranslateError> {
        match requested {
            None | Some("") => Ok(default.clone()),
            Some(name) => match self.aliases.get(name) {
                Some(id) => Ok(id.clone()),
                None => Ok(ModelId::parse(name)?),
            },
        }
    }
}

/// Applies [`Translate`] to a service.
#[derive(Debug, Clone)]
pub struct TranslateLayer {
    config: Arc<TranslateConfig>,
}

impl TranslateLayer {
    /// A layer with a default chat model and endpoint, no aliases, and
    /// [`DEFAULT_EMBEDDING_MODEL`] for embeddings.
    pub fn new(default_model: ModelId, endpoint: BedrockEndpoint) -> Self {
        Self::from_config(TranslateConfig {
            default_model,
            aliases: HashMap::new(),
            default_embedding_model: ModelId::parse(DEFAULT_EMBEDDING_MODEL).expect("a valid id"),
            endpoint,
            model_defaults: HashMap::new(),
        })
    }

    /// A layer from a full configuration.
    pub fn from_config(config: TranslateConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for TranslateLayer {
    type Service = Translate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Translate {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// Serves `POST /v1/chat/completions` by calling Bedrock Converse through the inner service.
#[derive(Debug, Clone)]
pub struct Translate<S> {
    inner: S,
    config: Arc<TranslateConfig>,
}

impl<S> Translate<S> {
    /// Wraps `inner` with a configuration.
    pub fn new(inner: S, config: TranslateConfig) -> Self {
        Self {
            inner,
            config: Arc::new(config),
        }
    }

    /// A [`TranslateLayer`] for `config`.
    pub fn layer(config: TranslateConfig) -> TranslateLayer {
        TranslateLayer::from_config(config)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> Service<Request<B>> for Translate<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    RB: Body<Data = Bytes> + Send + Unpin + 'static,
    RB::Error: Into<BoxError>,
{
    type Response = Response<OpenAiBody<RB>>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone is not ready; the ready service goes into the future.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let config = Arc::clone(&self.config);
        if request.uri().path().ends_with("/embeddings") {
            Box::pin(async move { embeddings(inner, &config, request).await })
        } else {
            Box::pin(async move { chat(inner, &config, request).await })
        }
    }
}

/// A chat completion: translate, call Bedrock, translate back.
async fn chat<S, B, RB>(
    mut inner: S,
    config: &TranslateConfig,
    request: Request<B>,
) -> Result<Response<OpenAiBody<RB>>, BoxError>
where
    S: Service<Request<Full<Bytes>>, Response = Response<RB>>,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
    RB: Body<Data = Bytes> + Unpin,
    RB::Error: Into<BoxError>,
{
    let (parts, body) = match read_post(request).await? {
        Ok(read) => read,
        Err(response) => return Ok(response),
    };
    let call = match prepare(config, &body) {
        Ok(call) => call,
        Err(err) => return Ok(error_response(err.into())),
    };
    let endpoint = parts
        .extensions
        .get::<BedrockEndpoint>()
        .unwrap_or(&config.endpoint);
    let mut upstream = Request::post(endpoint.uri(&call.model.path(call.operation())))
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )
        .header(header::ACCEPT, accept(call.stream.is_some()))
        .body(Full::new(call.body))
        .expect("a validated URI and static headers make a valid request");
    *upstream.extensions_mut() = parts.extensions;
    tracing::debug!(model = %call.model, stream = call.stream.is_some(), "calling Bedrock");
    let response = inner.call(upstream).await.map_err(Into::into)?;
    let status = response.status();
    tracing::debug!(model = %call.model, status = status.as_u16(), "Bedrock answered");
    let mut answer = if !status.is_success() {
        error_response(bedrock_error(response).await)
    } else {
        match call.stream {
            Some(options) => {
                let mut events = EventsBody::new(response.into_body(), call.context, options);
                match events.prime().await {
                    Ok(()) => stream_response(events),
                    Err(err) => error_response(err),
                }
            }
            None => complete(response.into_body(), &call.context).await?,
        }
    };
    answer.extensions_mut().insert(ResolvedModel(call.model));
    Ok(answer)
}

/// A response extension: the Bedrock model a request resolved to (for metrics and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedModel(pub ModelId);

/// The parts and whole body of a POST request, or the 405 answer to another method.
async fn read_post<B, RB>(
    request: Request<B>,
) -> Result<Result<(http::request::Parts, Bytes), Response<OpenAiBody<RB>>>, BoxError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    if request.method() != Method::POST {
        let err =
            ApiError::invalid_request("use POST", None).with_status(StatusCode::METHOD_NOT_ALLOWED);
        return Ok(Err(error_response(err)));
    }
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(Into::into)?.to_bytes();
    Ok(Ok((parts, body)))
}

/// Embeddings: plan the InvokeModel calls, send them concurrently (in order), assemble.
async fn embeddings<S, B, RB>(
    inner: S,
    config: &TranslateConfig,
    request: Request<B>,
) -> Result<Response<OpenAiBody<RB>>, BoxError>
where
    S: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone + Send,
    S::Error: Into<BoxError>,
    S::Future: Send,
    B: Body,
    B::Error: Into<BoxError>,
    RB: Body<Data = Bytes> + Send,
    RB::Error: Into<BoxError>,
{
    let (parts, body) = match read_post(request).await? {
        Ok(read) => read,
        Err(response) => return Ok(response),
    };
    let planned = serde_json::from_slice::<EmbeddingsRequest>(&body)
        .map_err(|e| TranslateError::Json(e.to_string()))
        .and_then(|req| {
            let model = config.resolve_embedding_model(req.model.as_deref())?;
            Ok((embeddings::plan(req, &model)?, model))
        });
    let (plan, model) = match planned {
        Ok(planned) => planned,
        Err(err) => return Ok(error_response(err.into())),
    };
    let endpoint = parts
        .extensions
        .get::<BedrockEndpoint>()
        .unwrap_or(&config.endpoint);
    let uri = endpoint.uri(&model.path(Operation::InvokeModel));
    let calls = plan.bodies.into_iter().map(|body| {
        let mut upstream = Request::post(uri.clone())
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .header(header::ACCEPT, HeaderValue::from_static("application/json"))
            .body(Full::new(body))
            .expect("a validated URI and static headers make a valid request");
        *upstream.extensions_mut() = parts.extensions.clone();
        invoke(inner.clone(), upstream, plan.family)
    });
    // Each future owns its clone of the service; they are polled at most N at a time, in order.
    let calls: Vec<_> = calls.collect();
    let answers: Vec<InvokeAnswer> = futures_util::stream::iter(calls)
        .buffered(EMBEDDING_CONCURRENCY)
        .try_collect()
        .await?;
    let mut vectors = Vec::new();
    let mut tokens = 0;
    for answer in answers {
        match answer {
            Ok((v, t)) => {
                vectors.extend(v);
                tokens += t;
            }
            Err(err) => return Ok(error_response(err)),
        }
    }
    let response = embeddings::assemble(vectors, tokens, plan.encoding, model.as_str());
    let json = serde_json::to_vec(&response).expect("embeddings serialise");
    let mut answer = json_response(StatusCode::OK, Bytes::from(json));
    answer.extensions_mut().insert(ResolvedModel(model));
    answer.extensions_mut().insert(openai_types::chat::Usage {
        prompt_tokens: tokens,
        total_tokens: tokens,
        ..openai_types::chat::Usage::default()
    });
    Ok(answer)
}

/// The vectors and input tokens of one InvokeModel call, or the mapped Bedrock error.
type InvokeAnswer = Result<(Vec<Vec<f32>>, u64), ApiError>;

/// One InvokeModel call: the vectors and token count, or the mapped Bedrock error.
async fn invoke<S, RB>(
    inner: S,
    request: Request<Full<Bytes>>,
    family: embeddings::Family,
) -> Result<InvokeAnswer, BoxError>
where
    S: Service<Request<Full<Bytes>>, Response = Response<RB>> + Send,
    S::Error: Into<BoxError>,
    S::Future: Send,
    RB: Body<Data = Bytes> + Send,
    RB::Error: Into<BoxError>,
{
    let response = inner.oneshot(request).await.map_err(Into::into)?;
    if !response.status().is_success() {
        return Ok(Err(bedrock_error(response).await));
    }
    let header_tokens = response
        .headers()
        .get("x-amzn-bedrock-input-token-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let bytes = Limited::new(response.into_body(), MAX_UPSTREAM_BODY)
        .collect()
        .await?
        .to_bytes();
    Ok(
        embeddings::parse_answer(family, &bytes, header_tokens).map_err(|e| {
            ApiError::server(
                StatusCode::BAD_GATEWAY,
                format!("Bedrock answered with an unreadable embedding: {e}"),
                "upstream_error",
            )
        }),
    )
}

/// A translated request, ready to send.
#[derive(Debug)]
struct PreparedCall {
    model: ModelId,
    body: Bytes,
    context: ResponseContext,
    /// `Some` for a streamed answer.
    stream: Option<StreamOptions>,
}

impl PreparedCall {
    fn operation(&self) -> Operation {
        if self.stream.is_some() {
            Operation::ConverseStream
        } else {
            Operation::Converse
        }
    }
}

/// Parses and translates the OpenAI body.
fn prepare(config: &TranslateConfig, body: &[u8]) -> Result<PreparedCall, TranslateError> {
    let mut request: ChatCompletionRequest =
        serde_json::from_slice(body).map_err(|e| TranslateError::Json(e.to_string()))?;
    let model = config.resolve_model(request.model.as_deref())?;
    if let Some(defaults) = config.model_defaults.get(&model) {
        defaults.apply(&mut request);
    }
    let stream = request.is_stream().then(|| StreamOptions {
        include_usage: request.include_usage(),
    });
    let converse = chat_to_converse(request, &model)?;
    let body = serde_json::to_vec(&converse).expect("Converse requests always serialise");
    let mut context = ResponseContext::new(model.as_str());
    context.json_output_tool = converse
        .tool_config
        .as_ref()
        .and_then(|t| t.tool_choice.as_ref())
        .and_then(|c| c.tool.as_ref())
        .is_some_and(|t| t.name == JSON_OUTPUT_TOOL);
    Ok(PreparedCall {
        context,
        model,
        body: Bytes::from(body),
        stream,
    })
}

fn accept(stream: bool) -> HeaderValue {
    if stream {
        HeaderValue::from_static("application/vnd.amazon.eventstream")
    } else {
        HeaderValue::from_static("application/json")
    }
}

/// Reads a Bedrock error answer and maps it.
async fn bedrock_error<RB>(response: Response<RB>) -> ApiError
where
    RB: Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    let status = response.status();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = Limited::new(response.into_body(), 64 * 1024)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    ApiError::from_bedrock(status, error_type.as_deref(), &body)
}

/// Reads a Converse answer and translates it.
async fn complete<RB>(body: RB, ctx: &ResponseContext) -> Result<Response<OpenAiBody<RB>>, BoxError>
where
    RB: Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    let bytes = Limited::new(body, MAX_UPSTREAM_BODY)
        .collect()
        .await?
        .to_bytes();
    let converse: ConverseResponse = match serde_json::from_slice(&bytes) {
        Ok(converse) => converse,
        Err(e) => {
            let err = ApiError::server(
                StatusCode::BAD_GATEWAY,
                format!("Bedrock answered with an unreadable body: {e}"),
                "upstream_error",
            );
            return Ok(error_response(err));
        }
    };
    let chat = converse_to_chat(converse, ctx);
    let json = serde_json::to_vec(&chat).expect("chat completions always serialise");
    let mut response = json_response(StatusCode::OK, Bytes::from(json));
    // The usage, for whoever meters tokens above (streams report theirs via the body).
    response.extensions_mut().insert(chat.usage);
    Ok(response)
}

fn stream_response<RB>(events: EventsBody<RB>) -> Response<OpenAiBody<RB>> {
    let mut response = Response::new(OpenAiBody::Events(events));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn json_response<RB>(status: StatusCode, json: Bytes) -> Response<OpenAiBody<RB>> {
    let mut response = Response::new(OpenAiBody::full(json));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An OpenAI error response.
pub fn error_response<RB>(err: ApiError) -> Response<OpenAiBody<RB>> {
    err.into_response().map(|full| OpenAiBody::from_full(full))
}
