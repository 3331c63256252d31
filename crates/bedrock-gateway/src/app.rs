//! The gateway's HTTP service: routing, per-request context, the translator stacked on the
//! signer and the pooled upstream client, and the edge where every error becomes an OpenAI
//! error response (the service that hyper runs cannot fail).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use bedrock_translate::body::OpenAiBody;
use bedrock_translate::catalog::KNOWN_MODELS;
use bedrock_translate::layer::ResolvedModel;
use bedrock_translate::{ApiError, Translate, TranslateConfig, TranslateLayer};
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Limited;
use hyper::body::Incoming;
use openai_types::chat::Usage;
use openai_types::models::{Model, ModelList};
use sigv4_layer::SigV4Layer;
use tower::retry::{Retry, RetryLayer};
use tower::{BoxError, Layer, ServiceExt};

use crate::config::Settings;
use crate::context::RequestContext;
use crate::credentials::ServerAuth;
use crate::idle::{IdleBody, IdleTimeout, IdleTimeoutLayer, IdleTimeoutService, Side};
use crate::metered::StreamMeter;
use crate::metrics::{InFlight, Metrics, RequestLabels};
use crate::retry::RetryPolicy;
use crate::upstream::{self, Authenticate, UpstreamClient};

pub use crate::metered::GatewayBody;
/// The Bedrock pipeline: translate, retry, idle timeout on answers, authenticate (SigV4 or
/// bearer key), send.
type ChatService = Translate<Retry<RetryPolicy, IdleTimeoutService<Authenticate<UpstreamClient>>>>;
/// A Bedrock answer's body.
pub type UpstreamBody = IdleBody<Incoming>;
/// What the router answers with, before metering.
type RoutedResponse = Response<OpenAiBody<UpstreamBody>>;

/// The gateway: shared by every connection.
#[derive(Debug, Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    server_auth: ServerAuth,
    chat: ChatService,
    models: Bytes,
    metrics: Arc<Metrics>,
    /// Permits for concurrent Bedrock requests.
    limit: Option<Arc<Semaphore>>,
    /// Set when shutdown starts: `/ready` answers 503.
    draining: AtomicBool,
}

impl Gateway {
    /// Builds the service stack from settings and the gateway's own authentication.
    pub fn new(settings: Settings, server_auth: ServerAuth) -> Result<Self, BoxError> {
        let client = upstream::client(settings.connect_timeout)?;
        let signer = SigV4Layer::builder()
            .service_name("bedrock")
            .region(settings.region.as_str().to_owned())
            .build()?;
        let endpoint = settings.endpoint_override.clone().unwrap_or_else(|| {
            bedrock_translate::endpoint::BedrockEndpoint::for_region(&settings.region)
        });
        let translate = TranslateLayer::from_config(TranslateConfig {
            default_model: settings.default_model.clone(),
            aliases: settings.aliases.clone(),
            default_embedding_model: settings.default_embedding_model.clone(),
            endpoint,
            model_defaults: settings.model_defaults.clone(),
        });
        let metrics = Metrics::new(settings.aliases.keys());
        let retry =
            RetryLayer::new(RetryPolicy::new(settings.retry).with_metrics(Arc::clone(&metrics)));
        let idle = IdleTimeoutLayer::new(settings.stream_idle_timeout);
        let chat =
            translate.layer(retry.layer(idle.layer(Authenticate::new(signer.layer(client)))));
        let limit = settings
            .max_concurrency
            .map(|n| Arc::new(Semaphore::new(n)));
        let models = models_json(&settings);
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                server_auth,
                chat,
                models,
                metrics,
                limit,
                draining: AtomicBool::new(false),
            }),
        })
    }

    /// Shutdown has started: readiness fails so that load balancers stop sending traffic.
    pub fn start_draining(&self) {
        self.inner.draining.store(true, Ordering::SeqCst);
    }

    /// Whether the gateway holds its own AWS credentials and asks clients for no key.
    pub fn spends_server_credentials_openly(&self) -> bool {
        let settings = &self.inner.settings;
        self.inner.server_auth.is_some() && settings.gateway_keys.is_empty()
    }

    /// Answers one request, metered.
    pub async fn handle(
        self,
        request: Request<Incoming>,
    ) -> Result<Response<GatewayBody>, Infallible> {
        let started = Instant::now();
        let route = route_label(request.uri().path());
        let in_flight = self.inner.metrics.start_request();
        let permit = match self.admit(route) {
            Ok(permit) => permit,
            Err(err) => return Ok(self.finish(error(err), route, started, in_flight, None)),
        };
        let response = self.route(request).await;
        Ok(self.finish(response, route, started, in_flight, permit))
    }

    /// Load shedding: a Bedrock route gets a permit at once or a 503, never a queue.
    fn admit(&self, route: &str) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
        let (Some(limit), "/v1/chat/completions" | "/v1/embeddings") = (&self.inner.limit, route)
        else {
            return Ok(None);
        };
        Arc::clone(limit)
            .try_acquire_owned()
            .map(Some)
            .map_err(|_| {
                ApiError::server(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the gateway is at its concurrency limit: retry shortly",
                    "overloaded",
                )
            })
    }

    /// Meters a response; a stream keeps its permit and in-flight count until its last byte.
    fn finish(
        &self,
        response: RoutedResponse,
        route: &'static str,
        started: Instant,
        mut in_flight: InFlight,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Response<GatewayBody> {
        let metrics = &self.inner.metrics;
        let model = metrics.model_label(
            response
                .extensions()
                .get::<ResolvedModel>()
                .map(|m| m.0.as_str()),
        );
        let span = tracing::Span::current();
        span.record("model", model.as_str());
        span.record("status", response.status().as_u16());
        if let Some(usage) = response.extensions().get::<Usage>() {
            metrics.tokens(&model, usage);
            record_usage(&span, usage);
        }
        let labels = RequestLabels {
            route,
            model,
            status: response.status().as_u16(),
        };
        let (parts, body) = response.into_parts();
        let body = if body.is_stream() {
            in_flight.mark_stream();
            let held = (in_flight, permit);
            GatewayBody::metered(
                body,
                StreamMeter::new(Arc::clone(metrics), labels, started, held),
            )
        } else {
            metrics.finish_request(labels, started.elapsed());
            GatewayBody::plain(body)
        };
        Response::from_parts(parts, body)
    }

    /// Routes one request.
    async fn route(&self, request: Request<Incoming>) -> Response<OpenAiBody<UpstreamBody>> {
        let path = request.uri().path();
        if path.starts_with("/v1/")
            && let Err(err) = self.inner.settings.gateway_keys.check(request.headers())
        {
            return error(err);
        }
        match (request.method(), path) {
            (&Method::GET, "/health") => {
                json(StatusCode::OK, Bytes::from_static(br#"{"status":"ok"}"#))
            }
            (&Method::GET, "/v1/models") => json(StatusCode::OK, self.inner.models.clone()),
            (&Method::GET, "/ready") if self.inner.draining.load(Ordering::SeqCst) => json(
                StatusCode::SERVICE_UNAVAILABLE,
                Bytes::from_static(br#"{"status":"draining"}"#),
            ),
            (&Method::GET, "/ready") => {
                json(StatusCode::OK, Bytes::from_static(br#"{"status":"ready"}"#))
            }
            (&Method::GET, "/metrics") => {
                let mut response =
                    Response::new(OpenAiBody::full(Bytes::from(self.inner.metrics.encode())));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    ),
                );
                response
            }
            (_, "/v1/chat/completions" | "/v1/embeddings") => self.bedrock(request).await,
            (_, "/health" | "/ready" | "/v1/models" | "/metrics") => error(
                ApiError::invalid_request("method not allowed", None)
                    .with_status(StatusCode::METHOD_NOT_ALLOWED),
            ),
            _ => error(
                ApiError::invalid_request(format!("unknown path {}", truncate(path)), None)
                    .with_status(StatusCode::NOT_FOUND),
            ),
        }
    }

    /// Chat completions and embeddings: context, body limit, then the translator stack.
    async fn bedrock(&self, request: Request<Incoming>) -> Response<OpenAiBody<UpstreamBody>> {
        let settings = &self.inner.settings;
        if let Err(err) = check_content_length(&request, settings.max_body_bytes) {
            return error(err);
        }
        let context =
            match RequestContext::resolve(request.headers(), settings, &self.inner.server_auth)
                .await
            {
                Ok(context) => context,
                Err(err) => return error(err),
            };
        let (mut parts, body) = request.into_parts();
        context.insert_into(&mut parts.extensions);
        let body = IdleBody::new(body, settings.client_timeout, Side::Client);
        let request = Request::from_parts(parts, Limited::new(body, settings.max_body_bytes));
        let call = self.inner.chat.clone().oneshot(request);
        let result = match settings.upstream_timeout {
            Some(limit) => tokio::time::timeout(limit, call)
                .await
                .unwrap_or_else(|_| Err(Box::new(UpstreamTimeout))),
            None => call.await,
        };
        result.unwrap_or_else(|err| error(edge_error(err, settings.max_body_bytes)))
    }
}

/// Bedrock did not answer within the upstream timeout.
#[derive(Debug, thiserror::Error)]
#[error("upstream timed out")]
struct UpstreamTimeout;

/// Rejects a declared body larger than the limit before reading it.
fn check_content_length<B>(request: &Request<B>, limit: usize) -> Result<(), ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit as u64 => Err(too_large(limit)),
        _ => Ok(()),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::invalid_request(
        format!("request body is larger than the gateway's limit of {limit} bytes"),
        None,
    )
    .with_status(StatusCode::PAYLOAD_TOO_LARGE)
}

/// Maps a failure of the pipeline (not a Bedrock error answer) to an OpenAI error.
fn edge_error(err: BoxError, body_limit: usize) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err.as_ref());
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return too_large(body_limit);
        }
        let idle = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<IdleTimeout>());
        if let Some(idle) = idle {
            return match idle.side {
                Side::Client => {
                    ApiError::invalid_request(format!("request timed out: {idle}"), None)
                        .with_status(StatusCode::REQUEST_TIMEOUT)
                }
                Side::Upstream => ApiError::server(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!("Bedrock timed out: {idle}"),
                    "timeout",
                ),
            };
        }
        if e.is::<UpstreamTimeout>() {
            return ApiError::server(
                StatusCode::GATEWAY_TIMEOUT,
                "Bedrock did not answer in time",
                "timeout",
            );
        }
        if let Some(signing) = e.downcast_ref::<sigv4_layer::SigningError>() {
            return signing_error(signing, body_limit);
        }
        if let Some(client) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            tracing::warn!(error = %client, connect = client.is_connect(), "Bedrock request failed");
            let what = if client.is_connect() {
                "could not connect to Bedrock"
            } else {
                "the connection to Bedrock failed"
            };
            return ApiError::server(StatusCode::BAD_GATEWAY, what, "upstream_unreachable");
        }
        if e.is::<hyper::Error>() {
            return ApiError::invalid_request("could not read the request body", None);
        }
        source = e.source();
    }
    tracing::error!(error = %err, "unexpected gateway error");
    ApiError::server(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal gateway error",
        "internal_error",
    )
}

/// Credential problems are the caller's (401); a failed client body is a 400 (or 413); anything
/// else is a gateway bug (500).
fn signing_error(err: &sigv4_layer::SigningError, body_limit: usize) -> ApiError {
    use sigv4_layer::SigningError;
    match err {
        SigningError::MissingCredentials | SigningError::ExpiredCredentials { .. } => {
            ApiError::authentication(
                format!("AWS credentials unusable: {err}"),
                "invalid_aws_credentials",
            )
        }
        SigningError::Body(source) => {
            let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
            while let Some(e) = inner {
                if e.is::<http_body_util::LengthLimitError>() {
                    return too_large(body_limit);
                }
                inner = e.source();
            }
            ApiError::invalid_request("could not read the request body", None)
        }
        _ => {
            tracing::error!(error = %err, "could not sign the Bedrock request");
            ApiError::server(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not sign the Bedrock request",
                "internal_error",
            )
        }
    }
}

fn models_json(settings: &Settings) -> Bytes {
    let mut data: Vec<Model> = KNOWN_MODELS
        .iter()
        .map(|m| Model::new(m.id, m.provider))
        .collect();
    let mut aliases: Vec<_> = settings.aliases.iter().collect();
    aliases.sort_by(|a, b| a.0.cmp(b.0));
    for (alias, id) in aliases {
        data.push(Model::new(alias.clone(), id.provider()));
    }
    Bytes::from(serde_json::to_vec(&ModelList::new(data)).expect("model lists serialise"))
}

/// Token counts as fields of the request's span (streams: when they end).
pub(crate) fn record_usage(span: &tracing::Span, usage: &Usage) {
    span.record("prompt_tokens", usage.prompt_tokens);
    span.record("completion_tokens", usage.completion_tokens);
}

/// The route label: a known route, else `other` (paths are client-chosen).
fn route_label(path: &str) -> &'static str {
    match path {
        "/v1/chat/completions" => "/v1/chat/completions",
        "/v1/embeddings" => "/v1/embeddings",
        "/v1/models" => "/v1/models",
        "/health" => "/health",
        "/ready" => "/ready",
        "/metrics" => "/metrics",
        _ => "other",
    }
}

fn json(status: StatusCode, body: Bytes) -> Response<OpenAiBody<UpstreamBody>> {
    let mut response = Response::new(OpenAiBody::full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn error(err: ApiError) -> Response<OpenAiBody<UpstreamBody>> {
    bedrock_translate::layer::error_response(err)
}

fn truncate(path: &str) -> &str {
    let end = path.char_indices().nth(128).map_or(path.len(), |(i, _)| i);
    &path[..end]
}
