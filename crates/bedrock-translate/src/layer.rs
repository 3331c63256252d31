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
//! of the body reads and of the inner service itself (connection refused, timeouts, signing)
//! are returned, as an [`Error`] that says which of the three failed. The gateway's
//! `bedrock_gateway::error::GatewayError` maps each to a status (a reusable example of that
//! edge), and `bedrock_gateway::stack` shows the layers worth stacking around this one: body
//! limits and timeouts above it, the upstream timeout, retries (`bedrock_gateway::retry`) and the
//! SigV4 signer below it. The crate's `examples/stack.rs` stacks translate, sign and send.
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
use futures_util::StreamExt as _;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use openai_types::chat::ChatCompletionRequest;
use openai_types::completions::CompletionRequest;
use openai_types::embeddings::EmbeddingsRequest;
use openai_types::responses::CreateResponse;
use tower::{BoxError, Layer, Service, ServiceExt as _};

use crate::anthropic_models::{self, InferenceProfilePrefix};
use crate::body::{EventsBody, OpenAiBody};
use crate::converse::ConverseResponse;
use crate::endpoint::BedrockEndpoint;
use crate::error::{ApiError, TranslateError};
use crate::guardrail::{Guardrail, StreamProcessingMode, guardrail_config};
use crate::model_id::{ModelId, Operation};
use crate::request::{ConverseOptions, JSON_OUTPUT_TOOL, PromptCaching, chat_to_converse_with};
use crate::response::{ResponseContext, converse_to_chat};
use crate::responses::request::{Identity, Inputs, ResponsesCall, responses_to_converse};
use crate::responses::response::{converse_to_answer, record};
use crate::responses::stream::{Keep, ResponsesEvents};
use crate::responses::{PreviousResponse, ResponseSink, StoredResponse};
use crate::stream::StreamOptions;
use crate::{completions, embeddings};

/// The default of [`TranslateConfig::max_upstream_body`]: the most of a Bedrock
/// (non-streamed) answer the translator reads, Bedrock's own limit.
pub const MAX_UPSTREAM_BODY: usize = 25_000_000;
/// The default of [`TranslateConfig::max_embedding_inputs`]: OpenAI's own limit.
pub const MAX_EMBEDDING_INPUTS: usize = 2048;
/// The chat model used when a request names none and the configuration sets none.
pub const DEFAULT_MODEL: &str = "amazon.titan-text-premier-v1:0";
/// The embedding model used when a request names none.
pub const DEFAULT_EMBEDDING_MODEL: &str = "amazon.titan-embed-text-v2:0";
/// InvokeModel calls of one embeddings request in flight at once.
pub const EMBEDDING_CONCURRENCY: usize = 8;

/// Configuration of the translator, shared by every clone of the service.
///
/// Built with [`TranslateConfig::new`] (or [`Default`]: Titan Text Premier in `us-east-1`) and
/// the `with_*` methods; new settings may be added, so the struct cannot be built literally.
///
/// ```
/// use bedrock_translate::{BedrockEndpoint, ModelDefaults, ModelId, Region, TranslateConfig};
///
/// let region = Region::parse("eu-west-3").unwrap();
/// let haiku = ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
/// let config = TranslateConfig::new(haiku.clone(), BedrockEndpoint::for_region(&region))
///     .with_alias("gpt-4o-mini", haiku.clone())
///     .with_model_defaults(haiku, ModelDefaults { max_tokens: Some(1024), ..Default::default() });
/// assert_eq!(config.resolve_model(Some("gpt-4o-mini")).unwrap().as_str(),
///            "anthropic.claude-3-haiku-20240307-v1:0");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
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
    /// The most inputs one embeddings request may hold (more: 400 on `input`).
    pub max_embedding_inputs: usize,
    /// The most bytes of a Bedrock (non-streamed) answer read (more: [`Error::UpstreamTooLarge`]).
    pub max_upstream_body: usize,
    /// The guardrail of every Converse call, unless the request carries its own
    /// ([`Guardrail`] request extension).
    pub guardrail: Option<Guardrail>,
    /// Whether Bedrock is asked for the guardrail trace.
    pub guardrail_trace: bool,
    /// How the guardrail processes streamed answers.
    pub guardrail_stream_mode: StreamProcessingMode,
    /// What `cache_control` markers do.
    pub prompt_caching: PromptCaching,
    /// The inference-profile prefix of Anthropic model names that need one
    /// ([`crate::anthropic_models`]).
    pub inference_profile_prefix: InferenceProfilePrefix,
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

impl Default for TranslateConfig {
    /// [`DEFAULT_MODEL`] and [`DEFAULT_EMBEDDING_MODEL`] in `us-east-1`, no aliases.
    fn default() -> Self {
        let region = crate::endpoint::Region::parse("us-east-1").expect("a valid region");
        Self::new(
            ModelId::parse(DEFAULT_MODEL).expect("a valid id"),
            BedrockEndpoint::for_region(&region),
        )
    }
}

impl TranslateConfig {
    /// A configuration with a default chat model and endpoint, no aliases, no per-model
    /// defaults, and [`DEFAULT_EMBEDDING_MODEL`] for embeddings.
    pub fn new(default_model: ModelId, endpoint: BedrockEndpoint) -> Self {
        Self {
            default_model,
            aliases: HashMap::new(),
            default_embedding_model: ModelId::parse(DEFAULT_EMBEDDING_MODEL).expect("a valid id"),
            endpoint,
            model_defaults: HashMap::new(),
            max_embedding_inputs: MAX_EMBEDDING_INPUTS,
            max_upstream_body: MAX_UPSTREAM_BODY,
            guardrail: None,
            guardrail_trace: false,
            guardrail_stream_mode: StreamProcessingMode::Sync,
            prompt_caching: PromptCaching::Explicit,
            inference_profile_prefix: InferenceProfilePrefix::Auto,
        }
    }

    /// What `cache_control` markers do (default [`PromptCaching::Explicit`]).
    pub fn with_prompt_caching(mut self, prompt_caching: PromptCaching) -> Self {
        self.prompt_caching = prompt_caching;
        self
    }

    /// The guardrail of every Converse call (a request's [`Guardrail`] extension wins).
    pub fn with_guardrail(mut self, guardrail: Option<Guardrail>) -> Self {
        self.guardrail = guardrail;
        self
    }

    /// Whether Bedrock is asked for the guardrail trace (default off).
    pub fn with_guardrail_trace(mut self, trace: bool) -> Self {
        self.guardrail_trace = trace;
        self
    }

    /// How the guardrail processes streamed answers (default [`StreamProcessingMode::Sync`]).
    pub fn with_guardrail_stream_mode(mut self, mode: StreamProcessingMode) -> Self {
        self.guardrail_stream_mode = mode;
        self
    }

    /// Adds a model alias: requests naming `name` go to `model`.
    pub fn with_alias(mut self, name: impl Into<String>, model: ModelId) -> Self {
        self.aliases.insert(name.into(), model);
        self
    }

    /// Replaces the aliases.
    pub fn with_aliases(mut self, aliases: HashMap<String, ModelId>) -> Self {
        self.aliases = aliases;
        self
    }

    /// The embedding model used when an embeddings request names none.
    pub fn with_default_embedding_model(mut self, model: ModelId) -> Self {
        self.default_embedding_model = model;
        self
    }

    /// The inference-profile prefix of Anthropic model names (default
    /// [`InferenceProfilePrefix::Auto`]).
    pub fn with_inference_profile_prefix(mut self, prefix: InferenceProfilePrefix) -> Self {
        self.inference_profile_prefix = prefix;
        self
    }

    /// Defaults for `model`'s requests.
    pub fn with_model_defaults(mut self, model: ModelId, defaults: ModelDefaults) -> Self {
        self.model_defaults.insert(model, defaults);
        self
    }

    /// Replaces the per-model defaults.
    pub fn with_all_model_defaults(mut self, defaults: HashMap<ModelId, ModelDefaults>) -> Self {
        self.model_defaults = defaults;
        self
    }

    /// The most inputs one embeddings request may hold (default [`MAX_EMBEDDING_INPUTS`]).
    pub fn with_max_embedding_inputs(mut self, max: usize) -> Self {
        self.max_embedding_inputs = max;
        self
    }

    /// The most bytes of a Bedrock (non-streamed) answer read (default [`MAX_UPSTREAM_BODY`]).
    pub fn with_max_upstream_body(mut self, bytes: usize) -> Self {
        self.max_upstream_body = bytes;
        self
    }

    /// Where a request goes: its [`BedrockEndpoint`] extension, else the configured endpoint,
    /// except that a regional configured endpoint ([`BedrockEndpoint::for_region`]) gives way to
    /// the endpoint of the request's [`Region`](crate::Region) extension. An override
    /// ([`BedrockEndpoint::parse`]) pins the host, as `AWS_ENDPOINT_URL` does for the AWS SDKs.
    ///
    /// A per-request `Region` is the one value both this layer and the signer read (see
    /// `sigv4_layer::SigV4LayerBuilder::region_from`), so the host and the signature's region
    /// cannot disagree.
    pub fn endpoint_for<'a>(
        &'a self,
        extensions: &'a http::Extensions,
    ) -> std::borrow::Cow<'a, BedrockEndpoint> {
        use std::borrow::Cow;
        if let Some(endpoint) = extensions.get::<BedrockEndpoint>() {
            return Cow::Borrowed(endpoint);
        }
        match extensions.get::<crate::Region>() {
            Some(region) if self.endpoint.is_regional() => {
                Cow::Owned(BedrockEndpoint::for_region(region))
            }
            _ => Cow::Borrowed(&self.endpoint),
        }
    }

    /// The Bedrock model for the request's `model` field: an alias, an Anthropic model name
    /// ([`crate::anthropic_models`], its inference-profile prefix from the setting alone), a
    /// valid id, or the default.
    pub fn resolve_model(&self, requested: Option<&str>) -> Result<ModelId, TranslateError> {
        self.resolve(requested, &self.default_model, None)
    }

    /// [`TranslateConfig::resolve_model`] for a request whose extensions may hold its
    /// [`Region`](crate::Region) (for [`InferenceProfilePrefix::Auto`]).
    ///
    /// ```
    /// use bedrock_translate::{BedrockEndpoint, ModelId, Region, TranslateConfig};
    ///
    /// let config = TranslateConfig::default();
    /// let mut extensions = http::Extensions::new();
    /// extensions.insert(Region::parse("eu-west-1").unwrap());
    /// assert_eq!(config.resolve_model_in(Some("claude-sonnet-4-5"), &extensions).unwrap().as_str(),
    ///            "eu.anthropic.claude-sonnet-4-5-20250929-v1:0");
    /// ```
    pub fn resolve_model_in(
        &self,
        requested: Option<&str>,
        extensions: &http::Extensions,
    ) -> Result<ModelId, TranslateError> {
        let region = extensions.get::<crate::Region>();
        self.resolve(requested, &self.default_model, region)
    }

    /// The Bedrock model for an embeddings request's `model` field.
    pub fn resolve_embedding_model(
        &self,
        requested: Option<&str>,
    ) -> Result<ModelId, TranslateError> {
        self.resolve(requested, &self.default_embedding_model, None)
    }

    fn resolve(
        &self,
        requested: Option<&str>,
        default: &ModelId,
        region: Option<&crate::Region>,
    ) -> Result<ModelId, TranslateError> {
        match requested {
            None | Some("") => Ok(default.clone()),
            Some(name) => match self.aliases.get(name) {
                Some(id) => Ok(id.clone()),
                None => {
                    let prefix = self.inference_profile_prefix.for_region(region);
                    match anthropic_models::bedrock_id(name, prefix) {
                        Some(id) => Ok(ModelId::parse(&id)?),
                        None => Ok(ModelId::parse(name)?),
                    }
                }
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
        Self::from_config(TranslateConfig::new(default_model, endpoint))
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

/// Serves one front door per request by calling Bedrock through the inner service: chat
/// completions and the Responses API ([`crate::responses`]) through Converse / ConverseStream,
/// embeddings through InvokeModel, Anthropic's Messages through InvokeModel (Claude) or
/// Converse (the others, [`crate::messages`]).
///
/// The front door is the request's [`FrontDoor`] extension (set by a router); without one it
/// follows from the exact path ([`FrontDoor::from_path`]), and any other path is a 404.
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
    type Error = Error;
    type Future = BoxFuture<Result<Self::Response, Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner
            .poll_ready(cx)
            .map_err(|e| Error::Upstream(e.into()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone is not ready; the ready service goes into the future.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let config = Arc::clone(&self.config);
        let door = request
            .extensions()
            .get::<FrontDoor>()
            .copied()
            .or_else(|| FrontDoor::from_path(request.uri().path()));
        match door {
            Some(door @ (FrontDoor::ChatCompletions | FrontDoor::Completions)) => {
                Box::pin(async move { chat(inner, &config, request, door).await })
            }
            Some(FrontDoor::Embeddings) => {
                Box::pin(async move { embeddings(inner, &config, request).await })
            }
            Some(FrontDoor::Responses) => {
                Box::pin(async move { responses(inner, &config, request).await })
            }
            Some(FrontDoor::ResponsesInputTokens) => {
                Box::pin(async move { responses_input_tokens(inner, &config, request).await })
            }
            Some(door @ (FrontDoor::Messages | FrontDoor::CountTokens)) => {
                Box::pin(async move { crate::messages::serve(inner, &config, request, door).await })
            }
            None => {
                let err = ApiError::invalid_request("unknown path", None)
                    .with_status(StatusCode::NOT_FOUND);
                Box::pin(std::future::ready(Ok(error_response(err))))
            }
        }
    }
}

/// The OpenAI API a request speaks, chosen by the router (a request extension) or by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FrontDoor {
    /// `POST /v1/chat/completions`: Converse / ConverseStream.
    ChatCompletions,
    /// `POST /v1/completions` (legacy text completions): the chat path with the prompt as the
    /// one user turn ([`crate::completions`]).
    Completions,
    /// `POST /v1/embeddings`: InvokeModel per input.
    Embeddings,
    /// `POST /v1/responses` (OpenAI's Responses API): Converse / ConverseStream
    /// ([`crate::responses`]).
    Responses,
    /// `POST /v1/responses/input_tokens` (the input tokens of a Responses request): CountTokens
    /// on the foundation model, with the Converse input the request would send.
    ResponsesInputTokens,
    /// `POST /v1/messages` (Anthropic's Messages API): InvokeModel for Claude, Converse for
    /// the others.
    Messages,
    /// `POST /v1/messages/count_tokens` (Anthropic's token count): CountTokens.
    CountTokens,
}

impl FrontDoor {
    /// Every front door, in the order of [`FrontDoor::path`].
    pub const ALL: [FrontDoor; 7] = [
        FrontDoor::ChatCompletions,
        FrontDoor::Completions,
        FrontDoor::Embeddings,
        FrontDoor::Responses,
        FrontDoor::ResponsesInputTokens,
        FrontDoor::Messages,
        FrontDoor::CountTokens,
    ];

    /// The path this front door is served on.
    pub fn path(self) -> &'static str {
        match self {
            Self::ChatCompletions => "/v1/chat/completions",
            Self::Completions => "/v1/completions",
            Self::Embeddings => "/v1/embeddings",
            Self::Responses => "/v1/responses",
            Self::ResponsesInputTokens => "/v1/responses/input_tokens",
            Self::Messages => "/v1/messages",
            Self::CountTokens => "/v1/messages/count_tokens",
        }
    }

    /// The front door served on exactly `path`.
    ///
    /// ```
    /// use bedrock_translate::FrontDoor;
    /// assert_eq!(FrontDoor::from_path("/v1/embeddings"), Some(FrontDoor::Embeddings));
    /// assert_eq!(FrontDoor::from_path("/x/embeddings"), None);
    /// ```
    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|door| door.path() == path)
    }
}

/// A failure of the translator's service itself: Bedrock's error answers and untranslatable
/// requests are not errors but OpenAI error responses.
///
/// The source is whatever the body or the inner service failed with; the embedding program
/// classifies it (the gateway's `GatewayError` maps each case to a status).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the client's request body failed (too large, too slow, broken connection).
    #[error("could not read the request body")]
    RequestBody(#[source] BoxError),
    /// The inner service failed to get an answer from Bedrock (signing, connecting, timeout).
    #[error("the request to Bedrock failed")]
    Upstream(#[source] BoxError),
    /// Reading Bedrock's (non-streamed) answer failed: cut short, too slow.
    #[error("could not read Bedrock's answer")]
    UpstreamBody(#[source] BoxError),
    /// Bedrock's (non-streamed) answer is larger than [`TranslateConfig::max_upstream_body`].
    #[error("Bedrock's answer is larger than the limit of {limit} bytes")]
    UpstreamTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// A chat completion, or a legacy text completion (`door`): translate, call Bedrock, translate
/// back.
async fn chat<S, B, RB>(
    mut inner: S,
    config: &TranslateConfig,
    request: Request<B>,
    door: FrontDoor,
) -> Result<Response<OpenAiBody<RB>>, Error>
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
    let call = match prepare(config, &parts.extensions, &body, door) {
        Ok(call) => call,
        Err(err) => return Ok(error_response(err.into())),
    };
    let upstream = converse_request(
        config,
        parts.extensions,
        &call.model,
        call.stream.is_some(),
        call.body,
    );
    tracing::debug!(model = %call.model, stream = call.stream.is_some(), "calling Bedrock");
    let response = inner
        .call(upstream)
        .await
        .map_err(|e| Error::Upstream(e.into()))?;
    let status = response.status();
    tracing::debug!(model = %call.model, status = status.as_u16(), "Bedrock answered");
    let mut answer = if !status.is_success() {
        let err = bedrock_error(response).await;
        error_response(err.naming_model(call.requested.as_deref(), &call.model))
    } else {
        match call.stream {
            Some(options) => {
                let upstream = response.into_body();
                let mut events = if door == FrontDoor::Completions {
                    EventsBody::text_completions(upstream, call.context, options)
                } else {
                    EventsBody::new(upstream, call.context, options)
                };
                match events.prime().await {
                    Ok(()) => stream_response(events),
                    Err(err) => error_response(err),
                }
            }
            None => {
                complete(
                    response.into_body(),
                    &call.context,
                    config.max_upstream_body,
                    door,
                )
                .await?
            }
        }
    };
    answer.extensions_mut().insert(ResolvedModel(call.model));
    Ok(answer)
}

/// A Responses API request: translate, call Bedrock, translate back (and hand the response to
/// the request's [`ResponseSink`], if any, when `store` is on).
async fn responses<S, B, RB>(
    mut inner: S,
    config: &TranslateConfig,
    request: Request<B>,
) -> Result<Response<OpenAiBody<RB>>, Error>
where
    S: Service<Request<Full<Bytes>>, Response = Response<RB>>,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
    RB: Body<Data = Bytes> + Send + Unpin + 'static,
    RB::Error: Into<BoxError>,
{
    let (parts, body) = match read_post(request).await? {
        Ok(read) => read,
        Err(response) => return Ok(response),
    };
    let (call, model) = match prepare_responses(config, &parts.extensions, &body) {
        Ok(prepared) => prepared,
        Err(err) => return Ok(error_response(err.into())),
    };
    let keep = parts
        .extensions
        .get::<ResponseSink>()
        .filter(|_| call.store)
        .map(|sink| Keep {
            sink: sink.clone(),
            input_items: call.input_items.clone(),
            context: call.context.clone(),
        });
    let converse = serde_json::to_vec(&call.converse).expect("Converse requests always serialise");
    let upstream = converse_request(
        config,
        parts.extensions,
        &model,
        call.stream,
        Bytes::from(converse),
    );
    tracing::debug!(model = %model, stream = call.stream, "calling Bedrock (responses)");
    let response = inner
        .call(upstream)
        .await
        .map_err(|e| Error::Upstream(e.into()))?;
    let mut answer = if !response.status().is_success() {
        let err = bedrock_error(response).await;
        error_response(err.naming_model(requested_model(&body).as_deref(), &model))
    } else if call.stream {
        let translator = ResponsesEvents::new(call.template, call.answer, keep);
        let mut events = EventsBody::with_translator(response.into_body(), Box::new(translator));
        match events.prime().await {
            Ok(()) => stream_response(events),
            Err(err) => error_response(err),
        }
    } else {
        complete_response(response.into_body(), &call, keep, config.max_upstream_body).await?
    };
    answer.extensions_mut().insert(ResolvedModel(model));
    Ok(answer)
}

/// `POST /v1/responses/input_tokens`: the request's Converse input (after its
/// [`PreviousResponse`], as for a create) counted by CountTokens on the foundation model,
/// answered as `{"object":"response.input_tokens","input_tokens":N}`.
async fn responses_input_tokens<S, B, RB>(
    mut inner: S,
    config: &TranslateConfig,
    request: Request<B>,
) -> Result<Response<OpenAiBody<RB>>, Error>
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
    let (call, model) = match prepare_responses(config, &parts.extensions, &body) {
        Ok(prepared) => prepared,
        Err(err) => return Ok(error_response(err.into())),
    };
    let path = model.foundation_model().path(Operation::CountTokens);
    let upstream = bedrock_request(
        config,
        parts.extensions,
        &path,
        false,
        crate::messages::count_tokens_input(&call.converse),
    );
    tracing::debug!(model = %model, "calling Bedrock (responses input tokens)");
    let response = inner
        .call(upstream)
        .await
        .map_err(|e| Error::Upstream(e.into()))?;
    let mut answer = if !response.status().is_success() {
        let err = bedrock_error(response).await;
        error_response(err.naming_model(requested_model(&body).as_deref(), &model))
    } else {
        let bytes = read_answer(response.into_body(), config.max_upstream_body).await?;
        match crate::messages::counted_tokens(&bytes) {
            Ok(n) => {
                let json =
                    serde_json::json!({"object": "response.input_tokens", "input_tokens": n});
                json_response(StatusCode::OK, Bytes::from(json.to_string()))
            }
            Err(e) => error_response(ApiError::server(
                StatusCode::BAD_GATEWAY,
                format!("Bedrock answered with an unreadable body: {e}"),
                "upstream_error",
            )),
        }
    };
    answer.extensions_mut().insert(ResolvedModel(model));
    Ok(answer)
}

/// Parses and translates a Responses body (the guardrail as for chat).
fn prepare_responses(
    config: &TranslateConfig,
    extensions: &http::Extensions,
    body: &[u8],
) -> Result<(ResponsesCall, ModelId), TranslateError> {
    let request: CreateResponse =
        serde_json::from_slice(body).map_err(|e| TranslateError::Json(e.to_string()))?;
    let model = config.resolve_model_in(request.model.as_deref(), extensions)?;
    let options = ConverseOptions::default().with_prompt_caching(config.prompt_caching);
    let inputs = Inputs {
        model: &model,
        previous: extensions.get::<PreviousResponse>(),
        options: &options,
        defaults: config.model_defaults.get(&model),
    };
    let mut call = responses_to_converse(request, inputs, Identity::new())?;
    let guardrail = extensions.get::<Guardrail>().or(config.guardrail.as_ref());
    call.converse.guardrail_config = guardrail.map(|guardrail| {
        let mode = call.stream.then_some(config.guardrail_stream_mode);
        guardrail_config(guardrail, config.guardrail_trace, mode)
    });
    Ok((call, model))
}

/// Reads a whole Converse answer and answers the `response` object (kept first, if asked).
async fn complete_response<RB>(
    body: RB,
    call: &ResponsesCall,
    keep: Option<Keep>,
    limit: usize,
) -> Result<Response<OpenAiBody<RB>>, Error>
where
    RB: Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    let converse = match read_converse(body, limit).await? {
        Ok(converse) => converse,
        Err(err) => return Ok(error_response(err)),
    };
    let usage = crate::response::usage(&converse.usage);
    let (answer, output) = converse_to_answer(converse, &call.template, call.answer);
    if let Some(keep) = keep.filter(|_| answer.status != "failed") {
        keep.sink.keep(StoredResponse {
            id: answer.id.clone(),
            record: record(&answer, &output, &keep.input_items, &keep.context),
        });
    }
    let json = serde_json::to_vec(&answer).expect("responses always serialise");
    let mut response = json_response(StatusCode::OK, Bytes::from(json));
    response.extensions_mut().insert(usage);
    Ok(response)
}

/// A response extension: the Bedrock model a request resolved to (for metrics and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedModel(pub ModelId);

/// The parts and whole body of a POST request, or the 405 answer to another method.
pub(crate) async fn read_post<B, RB>(
    request: Request<B>,
) -> Result<Result<(http::request::Parts, Bytes), Response<OpenAiBody<RB>>>, Error>
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
    let body = body
        .collect()
        .await
        .map_err(|e| Error::RequestBody(e.into()))?
        .to_bytes();
    Ok(Ok((parts, body)))
}

/// Embeddings: plan the InvokeModel calls, send them concurrently (in order), assemble.
///
/// Bounded: a request of more than [`TranslateConfig::max_embedding_inputs`] inputs is refused
/// before its texts are parsed; at most [`EMBEDDING_CONCURRENCY`] calls are in flight, and the
/// first failure (a Bedrock error answer or a failed call) answers the request and cancels the
/// calls in flight, so no further call starts; each answer holds one vector per text of at most
/// the plan's dimensions ([`embeddings::check_answer`]).
async fn embeddings<S, B, RB>(
    inner: S,
    config: &TranslateConfig,
    request: Request<B>,
) -> Result<Response<OpenAiBody<RB>>, Error>
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
    let (plan, model) = match plan_embeddings(config, &body) {
        Ok(planned) => planned,
        Err(err) => return Ok(error_response(err.into())),
    };
    let endpoint = config.endpoint_for(&parts.extensions);
    let uri = endpoint.uri(&model.path(Operation::InvokeModel));
    let expected = |call| Expected {
        texts: plan.texts_in_call(call),
        dimensions: plan.dimensions,
        family: plan.family,
        limit: config.max_upstream_body,
    };
    let calls = plan.bodies.iter().enumerate().map(|(call, body)| {
        let mut upstream = Request::post(uri.clone())
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .header(header::ACCEPT, HeaderValue::from_static("application/json"))
            .body(Full::new(body.clone()))
            .expect("a validated URI and static headers make a valid request");
        *upstream.extensions_mut() = parts.extensions.clone();
        invoke(inner.clone(), upstream, expected(call))
    });
    // Each future owns its clone of the service; they are polled at most N at a time, in order.
    let calls: Vec<_> = calls.collect();
    let mut answers = futures_util::stream::iter(calls).buffered(EMBEDDING_CONCURRENCY);
    let mut vectors = Vec::with_capacity(plan.inputs);
    let mut tokens: u64 = 0;
    while let Some(answer) = answers.next().await {
        match answer {
            Ok((v, t)) => {
                vectors.extend(v);
                // Upstream's counts: saturate rather than overflow.
                tokens = tokens.saturating_add(t);
            }
            // Returning drops `answers`: the calls in flight are cancelled, no other starts.
            Err(CallFailed::Answered(err)) => {
                let err = err.naming_model(requested_model(&body).as_deref(), &model);
                return Ok(error_response(err));
            }
            Err(CallFailed::Error(err)) => return Err(err),
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

/// The InvokeModel calls of an embeddings body, after the input count is checked.
fn plan_embeddings(
    config: &TranslateConfig,
    body: &[u8],
) -> Result<(embeddings::EmbeddingPlan, ModelId), TranslateError> {
    // A body that does not count parses no better: the real parse below says why.
    if let Ok(count) = embeddings::count_inputs(body) {
        embeddings::check_input_count(count, config.max_embedding_inputs)?;
    }
    let req = serde_json::from_slice::<EmbeddingsRequest>(body)
        .map_err(|e| TranslateError::Json(e.to_string()))?;
    let model = config.resolve_embedding_model(req.model.as_deref())?;
    Ok((embeddings::plan(req, &model)?, model))
}

/// The `model` field of a request body as the client sent it (for error messages).
pub(crate) fn requested_model(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ModelField {
        #[serde(default)]
        model: Option<String>,
    }
    serde_json::from_slice::<ModelField>(body).ok()?.model
}

/// Why one InvokeModel call of an embeddings request gave no vectors.
#[derive(Debug)]
enum CallFailed {
    /// Bedrock answered with an error, or with vectors that do not fit the request: the answer.
    Answered(ApiError),
    /// The call itself failed.
    Error(Error),
}

/// What one InvokeModel call must answer.
#[derive(Debug, Clone, Copy)]
struct Expected {
    /// Vectors: one per text sent.
    texts: usize,
    /// The most floats per vector.
    dimensions: usize,
    family: embeddings::Family,
    /// The most bytes of the answer read.
    limit: usize,
}

/// One InvokeModel call: the vectors and input token count.
async fn invoke<S, RB>(
    inner: S,
    request: Request<Full<Bytes>>,
    expected: Expected,
) -> Result<(Vec<Vec<f32>>, u64), CallFailed>
where
    S: Service<Request<Full<Bytes>>, Response = Response<RB>> + Send,
    S::Error: Into<BoxError>,
    S::Future: Send,
    RB: Body<Data = Bytes> + Send,
    RB::Error: Into<BoxError>,
{
    let response = inner
        .oneshot(request)
        .await
        .map_err(|e| CallFailed::Error(Error::Upstream(e.into())))?;
    if !response.status().is_success() {
        return Err(CallFailed::Answered(bedrock_error(response).await));
    }
    let header_tokens = response
        .headers()
        .get("x-amzn-bedrock-input-token-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let bytes = read_answer(response.into_body(), expected.limit)
        .await
        .map_err(CallFailed::Error)?;
    let unreadable = |detail: String| {
        CallFailed::Answered(ApiError::server(
            StatusCode::BAD_GATEWAY,
            format!("Bedrock answered with an unreadable embedding: {detail}"),
            "upstream_error",
        ))
    };
    let (vectors, tokens) = embeddings::parse_answer(expected.family, &bytes, header_tokens)
        .map_err(|e| unreadable(e.to_string()))?;
    embeddings::check_answer(&vectors, expected.texts, expected.dimensions).map_err(unreadable)?;
    Ok((vectors, tokens))
}

/// A translated request, ready to send.
#[derive(Debug)]
struct PreparedCall {
    model: ModelId,
    /// The `model` field as the client sent it, for error messages.
    requested: Option<String>,
    body: Bytes,
    context: ResponseContext,
    /// `Some` for a streamed answer.
    stream: Option<StreamOptions>,
}

/// Parses and translates the OpenAI body: a chat request, or a legacy completion request as
/// the chat request it means; the guardrail is the request's [`Guardrail`] extension, else the
/// configured one.
fn prepare(
    config: &TranslateConfig,
    extensions: &http::Extensions,
    body: &[u8],
    door: FrontDoor,
) -> Result<PreparedCall, TranslateError> {
    let json = |e: serde_json::Error| TranslateError::Json(e.to_string());
    let mut request: ChatCompletionRequest = if door == FrontDoor::Completions {
        let legacy: CompletionRequest = serde_json::from_slice(body).map_err(json)?;
        completions::completion_to_chat(legacy)?
    } else {
        serde_json::from_slice(body).map_err(json)?
    };
    let model = config.resolve_model_in(request.model.as_deref(), extensions)?;
    if let Some(defaults) = config.model_defaults.get(&model) {
        defaults.apply(&mut request);
    }
    let stream = request.is_stream().then(|| StreamOptions {
        include_usage: request.include_usage(),
    });
    let requested = request.model.clone();
    let wants_json = request
        .response_format
        .as_ref()
        .and_then(|f| f.get("type"))
        .and_then(serde_json::Value::as_str)
        .is_some_and(|t| matches!(t, "json_object" | "json_schema"));
    let options = ConverseOptions::default().with_prompt_caching(config.prompt_caching);
    let mut converse =
        chat_to_converse_with(request, &model, &options).map_err(|err| match door {
            FrontDoor::Completions => completions::on_prompt(err),
            _ => err,
        })?;
    let guardrail = extensions.get::<Guardrail>().or(config.guardrail.as_ref());
    converse.guardrail_config = guardrail.map(|guardrail| {
        let mode = stream.map(|_| config.guardrail_stream_mode);
        guardrail_config(guardrail, config.guardrail_trace, mode)
    });
    let body = serde_json::to_vec(&converse).expect("Converse requests always serialise");
    let mut context = ResponseContext::new(model.as_str());
    if door == FrontDoor::Completions {
        context.id = completions::completion_id();
    }
    // JSON output through the `json_output` tool: offered (alone and forced, or beside the
    // client's tools) only when JSON was asked of a model without native structured output,
    // where a client tool of that name is refused.
    context.json_output_tool = wants_json
        && converse.output_config.is_none()
        && converse
            .tool_config
            .as_ref()
            .is_some_and(|t| t.tools.iter().any(|t| t.tool_spec.name == JSON_OUTPUT_TOOL));
    Ok(PreparedCall {
        context,
        model,
        requested,
        body: Bytes::from(body),
        stream,
    })
}

/// The Converse (or, for a stream, ConverseStream) request of `body` for `model`, carrying the
/// client request's extensions to the layers below.
fn converse_request(
    config: &TranslateConfig,
    extensions: http::Extensions,
    model: &ModelId,
    stream: bool,
    body: Bytes,
) -> Request<Full<Bytes>> {
    let operation = if stream {
        Operation::ConverseStream
    } else {
        Operation::Converse
    };
    bedrock_request(config, extensions, &model.path(operation), stream, body)
}

/// A POST of the JSON `body` to the Bedrock `path` (a streamed answer when `stream`), carrying
/// the client request's extensions to the layers below.
pub(crate) fn bedrock_request(
    config: &TranslateConfig,
    extensions: http::Extensions,
    path: &str,
    stream: bool,
    body: Bytes,
) -> Request<Full<Bytes>> {
    let endpoint = config.endpoint_for(&extensions);
    let mut upstream = Request::post(endpoint.uri(path))
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )
        .header(header::ACCEPT, accept(stream))
        .body(Full::new(body))
        .expect("a validated URI and static headers make a valid request");
    *upstream.extensions_mut() = extensions;
    upstream
}

pub(crate) fn accept(stream: bool) -> HeaderValue {
    if stream {
        HeaderValue::from_static("application/vnd.amazon.eventstream")
    } else {
        HeaderValue::from_static("application/json")
    }
}

/// Reads a Bedrock error answer and maps it.
pub(crate) async fn bedrock_error<RB>(response: Response<RB>) -> ApiError
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

/// Reads a Converse answer, at most `limit` bytes, and translates it.
async fn complete<RB>(
    body: RB,
    ctx: &ResponseContext,
    limit: usize,
    door: FrontDoor,
) -> Result<Response<OpenAiBody<RB>>, Error>
where
    RB: Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    let converse = match read_converse(body, limit).await? {
        Ok(converse) => converse,
        Err(err) => return Ok(error_response(err)),
    };
    let chat = converse_to_chat(converse, ctx);
    let usage = chat.usage;
    let json = if door == FrontDoor::Completions {
        serde_json::to_vec(&completions::chat_to_completion(chat))
    } else {
        serde_json::to_vec(&chat)
    }
    .expect("completions always serialise");
    let mut response = json_response(StatusCode::OK, Bytes::from(json));
    // The usage, for whoever meters tokens above (streams report theirs via the body).
    response.extensions_mut().insert(usage);
    Ok(response)
}

/// Reads a whole Converse answer of at most `limit` bytes: the answer, or the 502 an
/// unreadable one is.
async fn read_converse<RB>(
    body: RB,
    limit: usize,
) -> Result<Result<ConverseResponse, ApiError>, Error>
where
    RB: Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    let bytes = read_answer(body, limit).await?;
    Ok(serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::server(
            StatusCode::BAD_GATEWAY,
            format!("Bedrock answered with an unreadable body: {e}"),
            "upstream_error",
        )
    }))
}

/// Reads a whole Bedrock answer of at most `limit` bytes.
pub(crate) async fn read_answer<RB>(body: RB, limit: usize) -> Result<Bytes, Error>
where
    RB: Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => {
            Err(Error::UpstreamTooLarge { limit })
        }
        Err(err) => Err(Error::UpstreamBody(err)),
    }
}

pub(crate) fn stream_response<RB>(events: EventsBody<RB>) -> Response<OpenAiBody<RB>> {
    let mut response = Response::new(OpenAiBody::Events(events));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub(crate) fn json_response<RB>(status: StatusCode, json: Bytes) -> Response<OpenAiBody<RB>> {
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::Region;

    /// A fake Bedrock counting its calls: an InvokeModel body holding `fail` gets a 403
    /// `AccessDeniedException`, any other gets `answer`.
    fn fake_bedrock(
        calls: &Arc<AtomicUsize>,
        answer: &'static str,
    ) -> impl Service<
        Request<Full<Bytes>>,
        Response = Response<Full<Bytes>>,
        Error = std::convert::Infallible,
        Future: Send,
    > + Clone
    + Send
    + 'static {
        let calls = Arc::clone(calls);
        tower::service_fn(move |request: Request<Full<Bytes>>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                let body = request.into_body().collect().await.unwrap().to_bytes();
                let fail = body.windows(4).any(|w| w == b"fail");
                let mut response = Response::new(Full::new(Bytes::from_static(if fail {
                    br#"{"message":"no"}"#
                } else {
                    answer.as_bytes()
                })));
                if fail {
                    *response.status_mut() = StatusCode::FORBIDDEN;
                    response.headers_mut().insert(
                        "x-amzn-errortype",
                        HeaderValue::from_static("AccessDeniedException"),
                    );
                }
                Ok(response)
            }
        })
    }

    async fn embed(
        config: TranslateConfig,
        calls: &Arc<AtomicUsize>,
        answer: &'static str,
        body: serde_json::Value,
    ) -> Result<(StatusCode, serde_json::Value), Error> {
        let service = TranslateLayer::from_config(config).layer(fake_bedrock(calls, answer));
        let request = Request::post("/v1/embeddings")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let response = service.oneshot(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Ok((status, serde_json::from_slice(&bytes).unwrap()))
    }

    const TITAN_256: &str = r#"{"embedding":[0.5,0.5],"inputTextTokenCount":1}"#;

    fn texts(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("text {i}")).collect()
    }

    #[tokio::test]
    async fn embeddings_over_the_input_limit_are_refused_before_any_call() {
        let calls = Arc::new(AtomicUsize::new(0));
        let config = TranslateConfig::default().with_max_embedding_inputs(3);
        let body = serde_json::json!({ "input": texts(4) });
        let (status, error) = embed(config.clone(), &calls, TITAN_256, body)
            .await
            .unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["error"]["param"], "input");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains("limit of 3"), "{message}");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        let (status, _) = embed(
            config,
            &calls,
            TITAN_256,
            serde_json::json!({ "input": texts(3) }),
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(
            TranslateConfig::default().max_embedding_inputs,
            MAX_EMBEDDING_INPUTS
        );
    }

    #[tokio::test]
    async fn the_first_bedrock_error_answers_and_no_further_call_starts() {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut input = texts(200);
        input[0] = "fail".to_owned();
        let body = serde_json::json!({ "input": input });
        let (status, error) = embed(TranslateConfig::default(), &calls, TITAN_256, body)
            .await
            .unwrap();
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(error["error"]["code"], "access_denied");
        let made = calls.load(Ordering::SeqCst);
        assert!(
            made <= EMBEDDING_CONCURRENCY,
            "{made} calls for a request whose first call failed"
        );
    }

    #[tokio::test]
    async fn answers_larger_than_asked_for_are_a_502() {
        let calls = Arc::new(AtomicUsize::new(0));
        // 256 dimensions asked for; Bedrock sends 300 floats.
        let long: &'static str = Box::leak(
            format!(
                r#"{{"embedding":{:?},"inputTextTokenCount":1}}"#,
                vec![0.5f32; 300]
            )
            .into_boxed_str(),
        );
        let body = serde_json::json!({ "input": ["a"], "dimensions": 256 });
        let (status, error) = embed(TranslateConfig::default(), &calls, long, body)
            .await
            .unwrap();
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
        assert_eq!(error["error"]["code"], "upstream_error");
        // Cohere: two vectors for one text.
        let body = serde_json::json!({ "input": ["a"], "model": "cohere.embed-english-v3" });
        let two = r#"{"embeddings":[[0.5],[0.5]]}"#;
        let (status, error) = embed(TranslateConfig::default(), &calls, two, body)
            .await
            .unwrap();
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("2 vectors for 1 texts"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn an_answer_over_the_configured_limit_is_upstream_too_large() {
        let calls = Arc::new(AtomicUsize::new(0));
        let config = TranslateConfig::default().with_max_upstream_body(10);
        let body = serde_json::json!({ "input": ["a"], "dimensions": 256 });
        let err = embed(config, &calls, TITAN_256, body).await.unwrap_err();
        assert!(
            matches!(err, Error::UpstreamTooLarge { limit: 10 }),
            "{err:?}"
        );
    }

    #[test]
    fn the_requests_guardrail_wins_over_the_configured_one() {
        let sent = |config: &TranslateConfig, extensions: &http::Extensions, stream: bool| {
            let body = serde_json::json!({"messages": [{"role": "user", "content": "hi"}], "stream": stream});
            let call = prepare(
                config,
                extensions,
                body.to_string().as_bytes(),
                FrontDoor::ChatCompletions,
            )
            .unwrap();
            serde_json::from_slice::<serde_json::Value>(&call.body).unwrap()["guardrailConfig"]
                .clone()
        };
        let none = http::Extensions::new();
        assert_eq!(
            sent(&TranslateConfig::default(), &none, false),
            serde_json::Value::Null
        );
        let config = TranslateConfig::default()
            .with_guardrail(Some("base1:1".parse().unwrap()))
            .with_guardrail_trace(true)
            .with_guardrail_stream_mode(StreamProcessingMode::Async);
        assert_eq!(
            sent(&config, &none, false),
            serde_json::json!({"guardrailIdentifier": "base1", "guardrailVersion": "1", "trace": "enabled"})
        );
        let mut own = http::Extensions::new();
        own.insert(Guardrail::parse("other2:DRAFT").unwrap());
        assert_eq!(
            sent(&config, &own, true),
            serde_json::json!({"guardrailIdentifier": "other2", "guardrailVersion": "DRAFT",
                "trace": "enabled", "streamProcessingMode": "async"})
        );
        assert_eq!(
            sent(&TranslateConfig::default(), &own, true)["streamProcessingMode"],
            "sync"
        );
    }

    #[test]
    fn a_request_region_moves_a_regional_endpoint_but_not_an_override() {
        let us = Region::parse("us-east-1").unwrap();
        let mut extensions = http::Extensions::new();
        extensions.insert(Region::parse("eu-west-3").unwrap());
        let model = ModelId::parse(DEFAULT_MODEL).unwrap();
        let regional = TranslateConfig::new(model.clone(), BedrockEndpoint::for_region(&us));
        assert_eq!(
            regional.endpoint_for(&extensions).to_string(),
            "https://bedrock-runtime.eu-west-3.amazonaws.com"
        );
        let pinned =
            TranslateConfig::new(model, BedrockEndpoint::parse("http://127.0.0.1:9").unwrap());
        assert_eq!(
            pinned.endpoint_for(&extensions).to_string(),
            "http://127.0.0.1:9"
        );
        let override_ext = BedrockEndpoint::parse("http://127.0.0.1:8").unwrap();
        extensions.insert(override_ext);
        assert_eq!(
            regional.endpoint_for(&extensions).to_string(),
            "http://127.0.0.1:8"
        );
    }

    /// Sends a Responses body through the layer to a fake Converse answering `answer`.
    async fn respond(
        body: serde_json::Value,
        extensions: http::Extensions,
        answer: &'static str,
    ) -> (StatusCode, serde_json::Value) {
        let calls = Arc::new(AtomicUsize::new(0));
        let service = TranslateLayer::from_config(TranslateConfig::default())
            .layer(fake_bedrock(&calls, answer));
        let mut request = Request::post("/v1/responses")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        *request.extensions_mut() = extensions;
        let response = service.oneshot(request).await.unwrap();
        let status = response.status();
        if status.is_success() {
            assert!(response.extensions().get::<ResolvedModel>().is_some());
            assert!(
                response
                    .extensions()
                    .get::<openai_types::chat::Usage>()
                    .is_some()
            );
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    const HELLO: &str = r#"{"output":{"message":{"role":"assistant","content":[{"text":"Hello"}]}},
        "stopReason":"end_turn","usage":{"inputTokens":2,"outputTokens":1,"totalTokens":3}}"#;

    #[tokio::test]
    async fn a_whole_response_is_kept_when_stored_and_a_sink_is_there() {
        let kept = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut extensions = http::Extensions::new();
        extensions.insert(ResponseSink::new({
            let kept = Arc::clone(&kept);
            move |stored: StoredResponse| kept.lock().unwrap().push(stored)
        }));
        let body = serde_json::json!({"model": "gpt-x", "input": "Hi", "metadata": {"a": "b"}});
        let (status, answer) = respond(body.clone(), extensions.clone(), HELLO).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["output"][0]["content"][0]["text"], "Hello");
        assert_eq!(answer["model"], "gpt-x");
        assert_eq!(answer["metadata"], serde_json::json!({"a": "b"}));
        assert_eq!(answer["usage"]["total_tokens"], 3);
        {
            let kept = kept.lock().unwrap();
            assert_eq!(kept.len(), 1);
            assert_eq!(kept[0].id, answer["id"].as_str().unwrap());
            let record: serde_json::Value = serde_json::from_slice(&kept[0].record).unwrap();
            assert_eq!(record["response"], answer);
            let item = &record["input_items"][0];
            assert_eq!(item["role"], "user");
            assert!(item["id"].as_str().unwrap().starts_with("msg_"));
            assert_eq!(record["context"], record["input_items"]);
        }
        let mut unstored = body;
        unstored["store"] = serde_json::json!(false);
        let (status, _) = respond(unstored, extensions, HELLO).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(kept.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_previous_response_extension_feeds_the_conversation_and_without_it_is_a_400() {
        let body = serde_json::json!({"input": "again", "previous_response_id": "resp_0"});
        let (status, error) = respond(body.clone(), http::Extensions::new(), HELLO).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["error"]["param"], "previous_response_id");
        let mut extensions = http::Extensions::new();
        let record =
            serde_json::json!({"response": {"output": []}, "input_items": [], "context": []});
        extensions.insert(PreviousResponse(Bytes::from(record.to_string())));
        let (status, answer) = respond(body, extensions, HELLO).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["previous_response_id"], "resp_0");
        assert_eq!(answer["model"], DEFAULT_MODEL);
    }
}
