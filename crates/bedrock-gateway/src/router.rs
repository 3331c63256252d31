//! The router: each route to its front door or to one of the gateway's own endpoints, and the
//! edge where a [`GatewayError`] becomes the front door's error response.
//!
//! | route | answered by |
//! | --- | --- |
//! | `POST` a front door's path ([`FrontDoor::ALL`]) | the Bedrock pipeline (`stack::bedrock`), with the [`FrontDoor`] as a request extension |
//! | `GET`/`DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items` | the same pipeline as [`FrontDoor::Responses`]: its response store answers (`responses.rs`). `/v1/responses/input_tokens` is a front door's path ([`FrontDoor::ResponsesInputTokens`], `POST` only), never an id |
//! | `GET /v1/models` | the catalogue and the aliases; with an `anthropic-version` header, in Anthropic's shape and with Anthropic's model names too |
//! | `GET /v1/models/{id}` | one model of that list, else 404 `model_not_found` |
//! | `GET /health`, `GET /ready` | liveness; readiness (503 once draining, or while the response store is unreachable) |
//! | `GET /metrics` | Prometheus (OpenMetrics text) |
//!
//! Every `/v1/` route needs a gateway key when keys are configured; the key that matched goes
//! down the pipeline as a [`MatchedKey`] extension (whose stored responses). Errors on
//! `/v1/messages` and below are in Anthropic's shape and with Anthropic's statuses
//! ([`bedrock_translate::messages::error`]), all others in OpenAI's. Routes match the path
//! alone: a query string (`/v1/messages?beta=true`, as Claude Code sends) is ignored. Adding a front door is a
//! module in `bedrock-translate` and its variant in [`FrontDoor`]; the route follows from it.
//!
//! An HTTP/1 answer given before the request's body was read (a 404, 405 or 401 here; a 413 by
//! `Content-Length`, a 408 or a broken upload from the pipeline) says `Connection: close`: hyper
//! closes such a connection after the answer (the rest of the body is still on the wire), and
//! a pooled client that was not told would send its next request into a closed socket. The
//! body is not drained instead: it may be large, and it comes from a client that is refused.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use anthropic_types::{ModelInfo, ModelList as AnthropicModelList};
use bedrock_translate::anthropic_models::ANTHROPIC_MODELS;
use bedrock_translate::body::OpenAiBody;
use bedrock_translate::catalog::{KNOWN_MODELS, ModelKind};
use bedrock_translate::{ApiError, FrontDoor};
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, Version, header};
use openai_types::models::{Model, ModelList};
use response_store::ResponseStore;
use tower::util::Oneshot;
use tower::{Service, ServiceExt};

use crate::body::ResponseBody;
use crate::config::Settings;
use crate::error::GatewayError;
use crate::keys::{GatewayKeys, MatchedKey};
use crate::metrics::Metrics;

/// Routes requests; `S` is the Bedrock pipeline.
#[derive(Debug, Clone)]
pub struct Router<S> {
    bedrock: S,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    keys: GatewayKeys,
    /// `GET /v1/models`, serialised once.
    models: Bytes,
    /// The same models, by id, for `GET /v1/models/{id}`.
    listed: HashMap<String, Model>,
    /// `GET /v1/models` for Anthropic clients, serialised once.
    anthropic_models: Bytes,
    /// The same models, by id.
    anthropic_listed: HashMap<String, ModelInfo>,
    metrics: Arc<Metrics>,
    /// Set when shutdown starts: `/ready` answers 503.
    draining: AtomicBool,
    /// Checked by `/ready`: a replica that cannot reach its response store is not ready.
    store: Arc<dyn ResponseStore>,
}

impl<S> Router<S> {
    /// A router in front of the Bedrock pipeline `bedrock`, whose readiness includes `store`'s.
    pub fn new(
        bedrock: S,
        settings: &Settings,
        metrics: Arc<Metrics>,
        store: Arc<dyn ResponseStore>,
    ) -> Self {
        let listed = listed_models(settings);
        let anthropic = anthropic_models(settings);
        Self {
            bedrock,
            shared: Arc::new(Shared {
                keys: settings.gateway_keys.clone(),
                models: Bytes::from(
                    serde_json::to_vec(&ModelList::new(listed.clone()))
                        .expect("model lists serialise"),
                ),
                listed: listed.into_iter().map(|m| (m.id.clone(), m)).collect(),
                anthropic_models: Bytes::from(
                    serde_json::to_vec(&AnthropicModelList::new(anthropic.clone()))
                        .expect("model lists serialise"),
                ),
                anthropic_listed: anthropic.into_iter().map(|m| (m.id.clone(), m)).collect(),
                metrics,
                draining: AtomicBool::new(false),
                store,
            }),
        }
    }

    /// Shutdown has started: readiness fails so that load balancers stop sending traffic.
    pub fn start_draining(&self) {
        self.shared.draining.store(true, Ordering::SeqCst);
    }

    /// The gateway's own endpoints; `anthropic`: the client sent `anthropic-version`.
    fn own(&self, method: &Method, path: &str, anthropic: bool) -> Response<ResponseBody> {
        match (method, path) {
            (&Method::GET, "/health") => json(Bytes::from_static(br#"{"status":"ok"}"#)),
            (&Method::GET, "/v1/models") if anthropic => json(self.shared.anthropic_models.clone()),
            (&Method::GET, "/v1/models") => json(self.shared.models.clone()),
            (&Method::GET, path) if path.starts_with(MODEL_PREFIX) => self.model(path, anthropic),
            (&Method::GET, "/ready") if self.shared.draining.load(Ordering::SeqCst) => {
                let mut response = json(Bytes::from_static(br#"{"status":"draining"}"#));
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                response
            }
            (&Method::GET, "/metrics") => {
                let text = Bytes::from(self.shared.metrics.encode());
                let mut response = Response::new(ResponseBody::full(text));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    ),
                );
                response
            }
            (_, path) if route_label(path) != OTHER => error_for(
                path,
                ApiError::invalid_request("method not allowed", None)
                    .with_status(StatusCode::METHOD_NOT_ALLOWED),
            ),
            _ => error_for(
                path,
                ApiError::invalid_request(format!("unknown path {}", truncate(path)), None)
                    .with_status(StatusCode::NOT_FOUND),
            ),
        }
    }
}

impl<S> Router<S> {
    /// `GET /v1/models/{id}`: the listed model, else OpenAI's 404.
    ///
    /// The id is everything after `/v1/models/`, percent-decoded as a whole: the OpenAI SDKs
    /// encode a `/` of an ARN or inference-profile id as `%2F` and leave `:` as it is, other
    /// clients send a raw `/`; both name the same model.
    fn model(&self, path: &str, anthropic: bool) -> Response<ResponseBody> {
        let raw = &path[MODEL_PREFIX.len()..];
        let id = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        if anthropic {
            return match self.shared.anthropic_listed.get(id.as_ref()) {
                Some(model) => json(Bytes::from(
                    serde_json::to_vec(model).expect("models serialise"),
                )),
                None => anthropic_error(model_not_found(&id)),
            };
        }
        match self.shared.listed.get(id.as_ref()) {
            Some(model) => json(Bytes::from(
                serde_json::to_vec(model).expect("models serialise"),
            )),
            None => error(model_not_found(&id)),
        }
    }
}

/// What `/v1/models/{id}` routes start with.
const MODEL_PREFIX: &str = "/v1/models/";

/// OpenAI's answer for a model it does not have.
fn model_not_found(id: &str) -> ApiError {
    let shown = truncate(id);
    let mut err =
        ApiError::invalid_request(format!("The model '{shown}' does not exist"), Some("model"))
            .with_status(StatusCode::NOT_FOUND);
    err.error.code = Some("model_not_found".to_owned());
    err
}

impl<S> Service<Request<hyper::body::Incoming>> for Router<S>
where
    S: Service<
            Request<hyper::body::Incoming>,
            Response = Response<ResponseBody>,
            Error = GatewayError,
        > + Clone,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = RouterFuture<Oneshot<S, Request<hyper::body::Incoming>>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The Bedrock pipeline is made ready per request, in `call`: most routes never use it.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<hyper::body::Incoming>) -> Self::Future {
        let unread = has_unread_body(&request);
        let path = request.uri().path();
        let mut matched = None;
        if path.starts_with("/v1/") {
            match self.shared.keys.check(request.headers()) {
                Err(err) => return RouterFuture::ready(close_if(unread, error_for(path, err))),
                Ok(key) => matched = key,
            }
        }
        match pipeline_door(request.method(), path) {
            Some(door) => {
                let anthropic = is_anthropic_path(path);
                if let Some(key) = matched {
                    request.extensions_mut().insert::<MatchedKey>(key);
                }
                request.extensions_mut().insert(door);
                RouterFuture::Bedrock {
                    call: self.bedrock.clone().oneshot(request),
                    unread,
                    anthropic,
                }
            }
            None if request.method() == Method::GET
                && path == "/ready"
                && !self.shared.draining.load(Ordering::SeqCst) =>
            {
                RouterFuture::Checking {
                    check: Box::pin(readiness(Arc::clone(&self.shared.store))),
                }
            }
            None => {
                let anthropic = request.headers().contains_key(ANTHROPIC_VERSION);
                let response = self.own(request.method(), path, anthropic);
                RouterFuture::ready(close_if(unread, response))
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Router`].
    #[project = RouterProj]
    #[allow(missing_docs)] // fields of variants; pin-project-lite takes no doc comments there
    pub enum RouterFuture<F> {
        /// An answer of the gateway itself.
        Ready {
            response: Option<Response<ResponseBody>>,
        },
        /// `/ready`: the response store being checked.
        Checking {
            check: Pin<Box<dyn Future<Output = Response<ResponseBody>> + Send>>,
        },
        /// The Bedrock pipeline's answer.
        Bedrock {
            #[pin]
            call: F,
            // An HTTP/1 request with a body: an error that left it unread closes the connection.
            unread: bool,
            // Errors in Anthropic's shape.
            anthropic: bool,
        },
    }
}

impl<F: std::fmt::Debug> std::fmt::Debug for RouterFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ready { response } => {
                f.debug_struct("Ready").field("response", response).finish()
            }
            Self::Checking { .. } => f.write_str("Checking"),
            Self::Bedrock {
                call,
                unread,
                anthropic,
            } => f
                .debug_struct("Bedrock")
                .field("call", call)
                .field("unread", unread)
                .field("anthropic", anthropic)
                .finish(),
        }
    }
}

/// How long `/ready` waits for the response store.
const READY_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `/ready` when not draining: ready unless the response store is unreachable (the reason
/// says so; the store's own error, which may name its host, is only logged at debug).
async fn readiness(store: Arc<dyn ResponseStore>) -> Response<ResponseBody> {
    let failure = match tokio::time::timeout(READY_CHECK_TIMEOUT, store.check()).await {
        Ok(Ok(())) => return json(Bytes::from_static(br#"{"status":"ready"}"#)),
        Ok(Err(err)) => err.to_string(),
        Err(_) => "timed out".to_owned(),
    };
    tracing::debug!(error = %failure, "not ready: the response store is unreachable");
    let mut response = json(Bytes::from_static(
        br#"{"status":"unavailable","reason":"the response store is unreachable"}"#,
    ));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response
}

impl<F> RouterFuture<F> {
    fn ready(response: Response<ResponseBody>) -> Self {
        Self::Ready {
            response: Some(response),
        }
    }
}

impl<F> Future for RouterFuture<F>
where
    F: Future<Output = Result<Response<ResponseBody>, GatewayError>>,
{
    type Output = Result<Response<ResponseBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            RouterProj::Ready { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
            RouterProj::Checking { check } => Poll::Ready(Ok(ready!(check.as_mut().poll(cx)))),
            RouterProj::Bedrock {
                call,
                unread,
                anthropic,
            } => {
                let result = ready!(call.poll(cx));
                Poll::Ready(Ok(result.unwrap_or_else(|err| {
                    close_if(*unread && left_body_unread(&err), edge(&err, *anthropic))
                })))
            }
        }
    }
}

/// The front door of a request that the Bedrock pipeline answers: `POST` to a front door's
/// path, or a stored response's routes (`GET`/`DELETE` under `/v1/responses/`).
fn pipeline_door(method: &Method, path: &str) -> Option<FrontDoor> {
    match FrontDoor::from_path(path) {
        Some(door) if method == Method::POST => Some(door),
        Some(_) => None,
        None if is_stored_response(path) && (method == Method::GET || method == Method::DELETE) => {
            Some(FrontDoor::Responses)
        }
        None => None,
    }
}

/// What the routes of stored responses start with.
const STORED_RESPONSE_PREFIX: &str = "/v1/responses/";

/// Whether `path` is `/v1/responses/` and more.
fn is_stored_response(path: &str) -> bool {
    path.len() > STORED_RESPONSE_PREFIX.len() && path.starts_with(STORED_RESPONSE_PREFIX)
}

/// The error response for a failure of the pipeline (in Anthropic's shape when `anthropic`);
/// gateway bugs are logged here, once.
fn edge(err: &GatewayError, anthropic: bool) -> Response<ResponseBody> {
    if err.is_internal() {
        tracing::error!(error = %err, source = ?std::error::Error::source(err), "gateway error");
    } else {
        tracing::debug!(error = %err, "request failed");
    }
    if anthropic {
        anthropic_error(err.to_api_error())
    } else {
        error(err.to_api_error())
    }
}

/// Whether `request` is an HTTP/1 request whose body has not been read (HTTP/2 ends a stream
/// on its own, and forbids `Connection`).
fn has_unread_body<B: http_body::Body>(request: &Request<B>) -> bool {
    request.version() <= Version::HTTP_11 && !request.body().is_end_stream()
}

/// Whether the pipeline failed while reading the request's body, before its end.
fn left_body_unread(err: &GatewayError) -> bool {
    matches!(
        err,
        GatewayError::BodyTooLarge { .. }
            | GatewayError::ClientTimeout
            | GatewayError::ClientBody(_)
    )
}

/// `response`, saying `Connection: close` when `close`.
fn close_if(close: bool, mut response: Response<ResponseBody>) -> Response<ResponseBody> {
    if close {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The label of routes that are not the gateway's.
const OTHER: &str = "other";

/// The route as a metrics label: a known route, else `other` (paths are client-chosen).
pub fn route_label(path: &str) -> &'static str {
    if let Some(door) = FrontDoor::from_path(path) {
        return door.path();
    }
    match path {
        "/v1/models" => "/v1/models",
        // One label for every id: ids are client-chosen.
        _ if path.starts_with(MODEL_PREFIX) => "/v1/models/{id}",
        _ if is_stored_response(path) && path.ends_with("/input_items") => {
            "/v1/responses/{id}/input_items"
        }
        _ if is_stored_response(path) => "/v1/responses/{id}",
        "/health" => "/health",
        "/ready" => "/ready",
        "/metrics" => "/metrics",
        _ => OTHER,
    }
}

fn json(body: Bytes) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::full(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn error(err: ApiError) -> Response<ResponseBody> {
    bedrock_translate::layer::error_response(err).map(ResponseBody::from_openai)
}

/// `err` in Anthropic's shape.
fn anthropic_error(err: ApiError) -> Response<ResponseBody> {
    bedrock_translate::messages::error::error_response(&err)
        .map(|body| ResponseBody::from_openai(OpenAiBody::from_full(body)))
}

/// `err` in the shape of the API served on `path`.
fn error_for(path: &str, err: ApiError) -> Response<ResponseBody> {
    if is_anthropic_path(path) {
        anthropic_error(err)
    } else {
        error(err)
    }
}

/// The header every Anthropic client sends.
const ANTHROPIC_VERSION: &str = "anthropic-version";

/// Whether `path` is Anthropic's Messages API (`/v1/messages` and below).
fn is_anthropic_path(path: &str) -> bool {
    path == "/v1/messages" || path.starts_with("/v1/messages/")
}

/// The models `GET /v1/models` lists for Anthropic clients: Anthropic's names (dated, then
/// their aliases), the chat models of the catalogue, then the aliases.
fn anthropic_models(settings: &Settings) -> Vec<ModelInfo> {
    let info = |id: &str, display_name: &str, created_at: &str| ModelInfo {
        kind: "model".to_owned(),
        id: id.to_owned(),
        display_name: display_name.to_owned(),
        created_at: created_at.to_owned(),
    };
    // The catalogue's models carry no release date: the epoch says so.
    const UNKNOWN_DATE: &str = "1970-01-01T00:00:00Z";
    let mut data: Vec<ModelInfo> = ANTHROPIC_MODELS
        .iter()
        .flat_map(|m| {
            std::iter::once(m.name)
                .chain(m.alias)
                .map(|id| info(id, m.display_name, m.created_at))
        })
        .collect();
    data.extend(
        KNOWN_MODELS
            .iter()
            .filter(|m| m.kind == ModelKind::Chat)
            .map(|m| info(m.id, m.id, UNKNOWN_DATE)),
    );
    let mut aliases: Vec<_> = settings.aliases.keys().collect();
    aliases.sort();
    data.extend(aliases.into_iter().map(|a| info(a, a, UNKNOWN_DATE)));
    data
}

/// The models `GET /v1/models` lists: the catalogue, then the aliases by name.
fn listed_models(settings: &Settings) -> Vec<Model> {
    let mut data: Vec<Model> = KNOWN_MODELS
        .iter()
        .map(|m| Model::new(m.id, m.provider))
        .collect();
    let mut aliases: Vec<_> = settings.aliases.iter().collect();
    aliases.sort_by(|a, b| a.0.cmp(b.0));
    for (alias, id) in aliases {
        data.push(Model::new(alias.clone(), id.provider()));
    }
    data
}

fn truncate(path: &str) -> &str {
    let end = path.char_indices().nth(128).map_or(path.len(), |(i, _)| i);
    &path[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_are_bounded() {
        assert_eq!(route_label("/v1/completions"), "/v1/completions");
        assert_eq!(route_label("/v1/chat/completions"), "/v1/chat/completions");
        assert_eq!(route_label("/v1/models"), "/v1/models");
        for id in ["gpt-4o", "a%2Fb%3Ac", "arn:aws:bedrock:x/y", ""] {
            assert_eq!(route_label(&format!("/v1/models/{id}")), "/v1/models/{id}");
        }
        assert_eq!(route_label("/v1/modelsx"), OTHER);
        assert_eq!(route_label("/v1/responses"), "/v1/responses");
        for id in ["resp_1", "x%2Fy", "a/b"] {
            assert_eq!(
                route_label(&format!("/v1/responses/{id}")),
                "/v1/responses/{id}"
            );
            assert_eq!(
                route_label(&format!("/v1/responses/{id}/input_items")),
                "/v1/responses/{id}/input_items"
            );
        }
        assert_eq!(route_label("/v1/responses/"), OTHER);
        assert_eq!(
            route_label("/v1/responses/input_tokens"),
            "/v1/responses/input_tokens"
        );
    }

    #[test]
    fn stored_responses_go_to_the_responses_door() {
        let door = Some(FrontDoor::Responses);
        assert_eq!(pipeline_door(&Method::POST, "/v1/responses"), door);
        assert_eq!(pipeline_door(&Method::GET, "/v1/responses/resp_1"), door);
        assert_eq!(pipeline_door(&Method::DELETE, "/v1/responses/resp_1"), door);
        assert_eq!(
            pipeline_door(&Method::GET, "/v1/responses/resp_1/input_items"),
            door
        );
        assert_eq!(pipeline_door(&Method::GET, "/v1/responses"), None);
        assert_eq!(pipeline_door(&Method::PUT, "/v1/responses/resp_1"), None);
        assert_eq!(pipeline_door(&Method::GET, "/v1/responses/"), None);
        // `input_tokens` is a route, not a response id.
        assert_eq!(
            pipeline_door(&Method::POST, "/v1/responses/input_tokens"),
            Some(FrontDoor::ResponsesInputTokens)
        );
        for method in [Method::GET, Method::DELETE] {
            assert_eq!(pipeline_door(&method, "/v1/responses/input_tokens"), None);
        }
        assert_eq!(
            pipeline_door(&Method::POST, "/v1/chat/completions"),
            Some(FrontDoor::ChatCompletions)
        );
        assert_eq!(pipeline_door(&Method::GET, "/v1/chat/completions"), None);
    }

    #[test]
    fn anthropic_routes_answer_anthropic_errors() {
        let response = error_for("/v1/messages/nope", model_not_found("x"));
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(is_anthropic_path("/v1/messages"));
        assert!(is_anthropic_path("/v1/messages/count_tokens"));
        assert!(!is_anthropic_path("/v1/messagesx"));
        let response = edge(&GatewayError::Overloaded, true);
        assert_eq!(response.status().as_u16(), 529);
        let response = edge(&GatewayError::BodyTooLarge { limit: 1 }, true);
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn an_unknown_model_is_openais_404() {
        let err = model_not_found("acme/x:1");
        assert_eq!(err.status, StatusCode::NOT_FOUND);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&err.to_json()).unwrap(),
            serde_json::json!({"error": {
                "message": "The model 'acme/x:1' does not exist",
                "type": "invalid_request_error",
                "param": "model",
                "code": "model_not_found"
            }})
        );
    }
}
