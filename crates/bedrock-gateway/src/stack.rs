//! The whole request pipeline, assembled in one place and read in the order a request
//! travels. [`http()`](fn@http) is what hyper serves; [`bedrock()`](fn@bedrock) is the part shared by every front door.
//!
//! ```text
//! hyper (HTTP/1.1, h2c, TLS)                                        server.rs
//!  └ SetSensitiveRequestHeaders   credential and key headers never logged
//!    SetRequestId / Propagate     x-request-id in, out, and in the span
//!    Trace                        one span per request: method, path, id, model, status, tokens
//!    Meter                        Prometheus counts, in-flight gauges, stream ends (meter.rs)
//!    Router                       route -> front door | own endpoints; gateway keys;
//!                                 GatewayError -> the front door's error shape (router.rs)
//!     └ bedrock():
//!       RequestBodyTimeout        the client's upload: idle timeout between frames (tower-http)
//!       BufferBody                read the body in full, under the size limit (buffer.rs)
//!       Admit                     concurrency permit at once or 503; held by the body (admit.rs)
//!       FetchMedia                only with --fetch-remote-media: remote image and document
//!                                 URLs of chat requests fetched, checked, inlined (media.rs)
//!       Context                   provider, credentials, region, endpoint -> extensions
//!       Responses                 stored responses: previous_response_id in, store: true kept
//!                                 (memory or Redis); GET/DELETE /v1/responses/{id}[/input_items]
//!                                 answered here (responses.rs)
//!       map_err                   the translator's Error -> GatewayError (error.rs)
//!       Translate                 front door <-> Converse / InvokeModel (bedrock-translate)
//!       Timeout                   time to Bedrock's answer, all attempts (tower)
//!       Retry                     throttling, 5xx, failures to connect (retry.rs, tower)
//!       ResponseBodyTimeout       Bedrock's answer: idle timeout between frames (tower-http)
//!       Authenticate              Bedrock API key, or SigV4 (upstream.rs, sigv4-layer)
//!       Client                    pooled hyper-util client, rustls, HTTP/1.1 and HTTP/2
//! ```

use std::convert::Infallible;
use std::sync::Arc;

use bedrock_translate::{BedrockEndpoint, Region, TranslateConfig, TranslateLayer};
use http::{HeaderName, Request, Response, header};
use hyper::body::Incoming;
use response_store::ResponseStore;
use sigv4_layer::SigV4Layer;
use tower::retry::RetryLayer;
use tower::timeout::TimeoutLayer;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, Service, ServiceBuilder};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, ResponseBodyTimeoutLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::admit::AdmitLayer;
use crate::body::{ResponseBody, UpstreamBody};
use crate::buffer::BufferBodyLayer;
use crate::config::Settings;
use crate::context::{ACCESS_KEY_ID, BEARER_TOKEN, ContextLayer, SECRET_ACCESS_KEY, SESSION_TOKEN};
use crate::credentials::ServerAuth;
use crate::error::GatewayError;
use crate::media::FetchMediaLayer;
use crate::meter::{MeterLayer, MeteredBody};
use crate::metrics::Metrics;
use crate::responses::{self, ResponsesLayer};
use crate::retry::RetryPolicy;
use crate::router::Router;
use crate::upstream::{self, AuthenticateLayer};

/// The Bedrock pipeline, shared by every front door.
pub type BedrockService =
    BoxCloneSyncService<Request<Incoming>, Response<ResponseBody>, GatewayError>;

/// The gateway's router over the Bedrock pipeline.
pub type Gateway = Router<BedrockService>;

/// `x-request-id`.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the router and the Bedrock pipeline behind it from settings and the gateway's own
/// authentication.
pub fn gateway(
    settings: &Settings,
    server_auth: ServerAuth,
    metrics: &Arc<Metrics>,
) -> Result<Gateway, BoxError> {
    let store = responses::open_store(&settings.response_store)?;
    let pipeline = bedrock(settings, server_auth, metrics, Arc::clone(&store))?;
    Ok(Router::new(pipeline, settings, Arc::clone(metrics), store))
}

/// The Bedrock pipeline: from a routed request to Bedrock and back; stored responses in
/// `store`.
pub fn bedrock(
    settings: &Settings,
    server_auth: ServerAuth,
    metrics: &Arc<Metrics>,
    store: Arc<dyn ResponseStore>,
) -> Result<BedrockService, BoxError> {
    let signer = SigV4Layer::builder()
        .service_name("bedrock")
        .region(settings.region.as_str().to_owned())
        .region_from::<Region>()
        .build()?;
    let retry = RetryPolicy::new(settings.retry).with_metrics(Arc::clone(metrics));
    // Off by default: then not in the pipeline at all.
    let fetch_media = settings
        .fetch_remote_media
        .clone()
        .map(FetchMediaLayer::new)
        .transpose()?;
    let service = ServiceBuilder::new()
        .layer(RequestBodyTimeoutLayer::new(settings.client_timeout))
        .layer(BufferBodyLayer::new(settings.max_body_bytes))
        .layer(AdmitLayer::new(settings.max_concurrency))
        .option_layer(fetch_media)
        .layer(ContextLayer::new(settings.clone(), server_auth))
        .layer(ResponsesLayer::new(store, Arc::clone(metrics)))
        .map_err(GatewayError::from)
        .layer(TranslateLayer::from_config(translate_config(settings)))
        .option_layer(settings.upstream_timeout.map(TimeoutLayer::new))
        .layer(RetryLayer::new(retry))
        .map_response(|response: Response<_>| response.map(UpstreamBody::new))
        .layer(ResponseBodyTimeoutLayer::new(settings.stream_idle_timeout))
        .layer(AuthenticateLayer::new(signer))
        .service(upstream::client(settings.connect_timeout)?);
    Ok(BoxCloneSyncService::new(service))
}

/// The translator's configuration from the gateway's settings.
fn translate_config(settings: &Settings) -> TranslateConfig {
    let endpoint = settings
        .endpoint_override
        .clone()
        .unwrap_or_else(|| BedrockEndpoint::for_region(&settings.region));
    TranslateConfig::new(settings.default_model.clone(), endpoint)
        .with_aliases(settings.aliases.clone())
        .with_default_embedding_model(settings.default_embedding_model.clone())
        .with_all_model_defaults(settings.model_defaults.clone())
        .with_max_embedding_inputs(settings.max_embedding_inputs)
        .with_max_upstream_body(settings.max_upstream_body_bytes)
        .with_guardrail(settings.guardrail.clone())
        .with_guardrail_trace(settings.guardrail_trace)
        .with_guardrail_stream_mode(settings.guardrail_stream_mode)
        .with_prompt_caching(settings.prompt_caching)
        .with_inference_profile_prefix(settings.inference_profile_prefix)
}

/// What hyper serves: the tower-http middleware, metering, and the router.
pub fn http<S>(
    router: Router<S>,
    metrics: Arc<Metrics>,
) -> impl Service<
    Request<Incoming>,
    Response = Response<impl http_body::Body<Data = bytes::Bytes, Error: Into<BoxError>>>,
    Error = Infallible,
    Future: Send,
> + Clone
+ Send
+ 'static
where
    S: Service<Request<Incoming>, Response = Response<ResponseBody>, Error = GatewayError>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    let sensitive = [
        header::AUTHORIZATION,
        HeaderName::from_static("x-api-key"),
        HeaderName::from_static(SECRET_ACCESS_KEY),
        HeaderName::from_static(SESSION_TOKEN),
        HeaderName::from_static(ACCESS_KEY_ID),
        HeaderName::from_static(BEARER_TOKEN),
    ];
    ServiceBuilder::new()
        .layer(SetSensitiveRequestHeadersLayer::new(sensitive))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(MeterLayer::new(metrics))
        .service(router)
}

/// The span of one request; the meter fills in the model, status and token counts.
fn request_span(request: &Request<Incoming>) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
        model = tracing::field::Empty,
        status = tracing::field::Empty,
        prompt_tokens = tracing::field::Empty,
        completion_tokens = tracing::field::Empty,
    )
}

/// Random request ids for requests that come without one.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(24)
            .collect();
        id.parse().ok().map(RequestId::new)
    }
}

/// The body hyper sends: metered.
pub type GatewayBody = MeteredBody;
