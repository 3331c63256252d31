//! [`ResponsesLayer`]: the Responses API's stored responses, between the context (which knows
//! the caller) and the translator (which knows the API).
//!
//! For `POST /v1/responses` it peeks at the body's `store` and `previous_response_id`, loads
//! the previous response's record for the caller ([`PreviousResponse`], 404 when it is not
//! theirs or not there, 503 when the store is down) and, when `store` is true (the default),
//! hands the translator a [`ResponseSink`]. The record is written before the client can see the
//! end of the answer, so that a client continuing at once with `previous_response_id` finds it:
//! a whole answer is returned once the write is done; a stream's last frame (the one carrying
//! `response.completed`, produced just after the translator called the sink) is held back by
//! [`GatedBody`] until the write is done. Writes run in tasks of their own, so a client that
//! goes away does not cut one short. A failed write is logged (without data) and counted in
//! `bedrock_gateway_response_store_errors_total{operation="write"}`; the answer is still sent:
//! the client has paid for it, and only a later `previous_response_id` will miss it. So that
//! this stays rare, a request to keep is refused with 503 while the store is unreachable (a
//! `check` before the request goes on, skipped when the previous response was just loaded);
//! only `store: false` requests without `previous_response_id` work while it is down.
//!
//! `POST /v1/responses/input_tokens` (a token count of a create request's input) gets the
//! previous response the same way, and neither keeps nor checks anything else: nothing is
//! stored.
//!
//! It answers `GET /v1/responses/{id}` (the stored `response`), `DELETE /v1/responses/{id}`
//! and `GET /v1/responses/{id}/input_items` (OpenAI's list, query `limit`, `order`, `after`)
//! itself.
//!
//! A stored response belongs to a [`Tenant`]: the gateway key the request presented
//! ([`MatchedKey`]) when gateway keys are configured, else the AWS identity the context
//! resolved (access key id and secret, or the Bedrock API key). Only digests are kept.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//!
//! use aws_credential_types::Credentials;
//! use bedrock_gateway::error::GatewayError;
//! use bedrock_gateway::metrics::Metrics;
//! use bedrock_gateway::responses::ResponsesLayer;
//! use bedrock_translate::FrontDoor;
//! use bedrock_translate::body::OpenAiBody;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use response_store::{MemoryLimits, MemoryStore};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! let translator = service_fn(|_: Request<Full<Bytes>>| async {
//!     Ok::<_, GatewayError>(Response::new(OpenAiBody::<Full<Bytes>>::full(Bytes::new())))
//! });
//! let store = Arc::new(MemoryStore::new(MemoryLimits::default()));
//! let service = ResponsesLayer::new(store, Metrics::new([])).layer(translator);
//!
//! let mut request = Request::get("/v1/responses/resp_1")
//!     .body(Full::new(Bytes::new()))
//!     .unwrap();
//! request.extensions_mut().insert(FrontDoor::Responses);
//! request
//!     .extensions_mut()
//!     .insert(Credentials::new("AKIDEXAMPLE", "secret", None, None, "example"));
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let err = runtime.block_on(service.oneshot(request)).unwrap_err();
//! assert_eq!(err.to_api_error().status, StatusCode::NOT_FOUND);
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use aws_credential_types::Credentials;
use bedrock_translate::responses::{PreviousResponse, ResponseSink, StoredResponse};
use bedrock_translate::{ApiError, FrontDoor};
use bytes::Bytes;
use http::{Extensions, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use response_store::{MemoryStore, RedisStore, ResponseId, ResponseStore, StoreError, Tenant};
use serde::Deserialize;
use tokio::task::JoinHandle;
use tower::{Layer, Service};

use crate::config::{ResponseStoreSettings, StoreBackend};
use crate::credentials::BearerToken;
use crate::error::GatewayError;
use crate::keys::MatchedKey;
use crate::metrics::{Metrics, StoreOperation};

/// The store `settings` name: in memory, or Redis (connected on first use, so a gateway
/// starts while Redis is down; must be called within a tokio runtime).
pub fn open_store(settings: &ResponseStoreSettings) -> Result<Arc<dyn ResponseStore>, StoreError> {
    Ok(match &settings.backend {
        StoreBackend::Memory => Arc::new(MemoryStore::new(settings.limits)),
        StoreBackend::Redis(url) => Arc::new(RedisStore::new(url.clone(), settings.limits.ttl)?),
    })
}

/// A body that the layer can answer with by itself (a whole JSON document).
pub trait FromBytes {
    /// The whole body `bytes`.
    fn from_bytes(bytes: Bytes) -> Self;
}

impl<RB> FromBytes for bedrock_translate::body::OpenAiBody<RB> {
    fn from_bytes(bytes: Bytes) -> Self {
        Self::full(bytes)
    }
}

/// Keeps and serves the Responses API's stored responses (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct ResponsesLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    store: Arc<dyn ResponseStore>,
    metrics: Arc<Metrics>,
}

impl ResponsesLayer {
    /// Stored responses in `store`; failures counted in `metrics`.
    pub fn new(store: Arc<dyn ResponseStore>, metrics: Arc<Metrics>) -> Self {
        Self {
            shared: Arc::new(Shared { store, metrics }),
        }
    }
}

impl<S> Layer<S> for ResponsesLayer {
    type Service = Responses<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Responses {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// See [`ResponsesLayer`].
#[derive(Debug, Clone)]
pub struct Responses<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Responses<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<Full<Bytes>>> for Responses<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>, Error = GatewayError>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: Body + FromBytes + Send + 'static,
{
    type Response = Response<GatedBody<B>>;
    type Error = GatewayError;
    type Future = ResponsesFuture<S::Future, Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), GatewayError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Full<Bytes>>) -> Self::Future {
        let door = request.extensions().get::<FrontDoor>().copied();
        if !matches!(
            door,
            Some(FrontDoor::Responses | FrontDoor::ResponsesInputTokens)
        ) {
            return ResponsesFuture::Passing {
                inner: self.inner.call(request),
            };
        }
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        let stored = async move {
            if door == Some(FrontDoor::ResponsesInputTokens) {
                return shared.count(inner, request).await;
            }
            if request.method() == Method::POST {
                return shared.create(inner, request).await;
            }
            let response = shared.answer_stored(&request).await?;
            Ok(response.map(|bytes| GatedBody::new(B::from_bytes(bytes), None)))
        };
        ResponsesFuture::Storing {
            stored: Box::pin(stored),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Responses`]: the inner service's, untouched, for other front
    /// doors; the store's work, boxed, for the Responses API.
    #[project = ResponsesProj]
    #[allow(missing_docs)] // fields of variants; pin-project-lite takes no doc comments there
    pub enum ResponsesFuture<F, R> {
        /// Another front door: passed through.
        Passing {
            #[pin]
            inner: F,
        },
        /// The Responses API: the store is involved.
        Storing {
            stored: BoxFuture<Result<R, GatewayError>>,
        },
    }
}

impl<F, R> std::fmt::Debug for ResponsesFuture<F, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Passing { .. } => f.write_str("ResponsesFuture::Passing"),
            Self::Storing { .. } => f.write_str("ResponsesFuture::Storing"),
        }
    }
}

impl<F, B> Future for ResponsesFuture<F, Response<GatedBody<B>>>
where
    F: Future<Output = Result<Response<B>, GatewayError>>,
    B: Body,
{
    type Output = Result<Response<GatedBody<B>>, GatewayError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ResponsesProj::Passing { inner } => {
                let response = ready!(inner.poll(cx))?;
                Poll::Ready(Ok(response.map(|body| GatedBody::new(body, None))))
            }
            ResponsesProj::Storing { stored } => stored.as_mut().poll(cx),
        }
    }
}

/// What the layer reads of a `POST /v1/responses` body; everything else is the translator's.
#[derive(Debug, Deserialize)]
struct Peek {
    /// Absent or `null`: true.
    #[serde(default)]
    store: Option<bool>,
    #[serde(default)]
    previous_response_id: Option<String>,
}

impl Peek {
    /// The body's settings; a body that is not a JSON object with them is the translator's to
    /// refuse (then nothing is loaded, and a sink the translator never calls does no harm).
    fn of(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or(Self {
            store: None,
            previous_response_id: None,
        })
    }

    fn store(&self) -> bool {
        self.store.unwrap_or(true)
    }
}

/// A buffered request's parts, its body, and what the store needs of the body.
async fn peeked(request: Request<Full<Bytes>>) -> (http::request::Parts, Bytes, Peek) {
    let (parts, body) = request.into_parts();
    let bytes = body
        .collect()
        .await
        .map_or_else(|e| match e {}, |c| c.to_bytes());
    let peek = Peek::of(&bytes);
    (parts, bytes, peek)
}

impl Shared {
    /// `POST /v1/responses`: the previous response in, the new one kept.
    async fn create<S, B>(
        self: Arc<Self>,
        mut inner: S,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<GatedBody<B>>, GatewayError>
    where
        S: Service<Request<Full<Bytes>>, Response = Response<B>, Error = GatewayError>,
        B: Body,
    {
        let (mut parts, bytes, peek) = peeked(request).await;
        let tenant = tenant(&parts.extensions)?;
        if let Some(record) = self.previous(&tenant, &peek).await? {
            parts.extensions.insert(record);
        } else if peek.store() {
            // A response that could not be kept would be a broken promise: refuse at once
            // while the store is known to be down (the load above has just proved it up).
            self.store.check().await.map_err(|e| {
                self.metrics.store_error(StoreOperation::Write);
                GatewayError::StoreUnavailable(e)
            })?;
        }
        let writes = peek.store().then(|| {
            let writes = Writes::default();
            parts
                .extensions
                .insert(Arc::clone(&self).sink(tenant, writes.clone()));
            writes
        });
        let response = inner
            .call(Request::from_parts(parts, Full::new(bytes)))
            .await?;
        if let Some(writes) = &writes {
            // A whole answer's record was handed over before the translator's future resolved.
            writes.wait().await;
        }
        Ok(response.map(|body| GatedBody::new(body, writes)))
    }

    /// `POST /v1/responses/input_tokens`: the previous response in, as for a create; nothing
    /// kept.
    async fn count<S, B>(
        self: Arc<Self>,
        mut inner: S,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<GatedBody<B>>, GatewayError>
    where
        S: Service<Request<Full<Bytes>>, Response = Response<B>, Error = GatewayError>,
        B: Body,
    {
        let (mut parts, bytes, peek) = peeked(request).await;
        if peek.previous_response_id.is_some() {
            let tenant = tenant(&parts.extensions)?;
            if let Some(record) = self.previous(&tenant, &peek).await? {
                parts.extensions.insert(record);
            }
        }
        let response = inner
            .call(Request::from_parts(parts, Full::new(bytes)))
            .await?;
        Ok(response.map(|body| GatedBody::new(body, None)))
    }

    /// The caller's record of the body's `previous_response_id`, if it names one: a 400 for an
    /// id that cannot be one, a 404 when the caller has none of that id.
    async fn previous(
        &self,
        tenant: &Tenant,
        peek: &Peek,
    ) -> Result<Option<PreviousResponse>, GatewayError> {
        let Some(previous) = &peek.previous_response_id else {
            return Ok(None);
        };
        let id = ResponseId::parse(previous).map_err(|e| {
            ApiError::invalid_request(
                format!("invalid 'previous_response_id': {e}"),
                Some("previous_response_id"),
            )
        })?;
        let record = self
            .load(tenant, &id)
            .await?
            .ok_or_else(|| previous_not_found(&id))?;
        Ok(Some(PreviousResponse(record)))
    }

    /// The sink of one request: each response is written in a task of its own, tracked in
    /// `writes`.
    fn sink(self: Arc<Self>, tenant: Tenant, writes: Writes) -> ResponseSink {
        ResponseSink::new(move |stored: StoredResponse| {
            let shared = Arc::clone(&self);
            writes.push(tokio::spawn(
                async move { shared.keep(tenant, stored).await },
            ));
        })
    }

    /// Writes one response; a failure is logged (no data) and counted.
    async fn keep(&self, tenant: Tenant, stored: StoredResponse) {
        let result = match ResponseId::parse(&stored.id) {
            Ok(id) => self
                .store
                .put(&tenant, &id, stored.record)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = result {
            tracing::warn!(%error, "could not keep a stored response");
            self.metrics.store_error(StoreOperation::Write);
        }
    }

    /// `tenant`'s record `id`; a store failure is a 503.
    async fn load(&self, tenant: &Tenant, id: &ResponseId) -> Result<Option<Bytes>, GatewayError> {
        self.store.get(tenant, id).await.map_err(|e| {
            self.metrics.store_error(StoreOperation::Read);
            GatewayError::StoreUnavailable(e)
        })
    }

    /// `GET`/`DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items`.
    async fn answer_stored<B>(
        &self,
        request: &Request<B>,
    ) -> Result<Response<Bytes>, GatewayError> {
        let route = StoredRoute::parse(request.uri().path())?;
        let tenant = tenant(request.extensions())?;
        match (request.method(), route) {
            (&Method::DELETE, StoredRoute::Response(id)) => self.delete(&tenant, &id).await,
            (&Method::GET, StoredRoute::Response(id)) => {
                refuse_stream(request.uri().query())?;
                let record = self.record(&tenant, &id).await?;
                Ok(json(&record.response))
            }
            (&Method::GET, StoredRoute::InputItems(id)) => {
                let query = ListQuery::parse(request.uri().query())?;
                let record = self.record(&tenant, &id).await?;
                Ok(json(&query.list(&record.input_items)?))
            }
            _ => Err(ApiError::invalid_request("method not allowed", None)
                .with_status(StatusCode::METHOD_NOT_ALLOWED)
                .into()),
        }
    }

    /// The caller's parsed record `id`, else 404.
    async fn record(&self, tenant: &Tenant, id: &ResponseId) -> Result<Record, GatewayError> {
        let bytes = self
            .load(tenant, id)
            .await?
            .ok_or_else(|| not_found(id.as_str()))?;
        serde_json::from_slice(&bytes).map_err(|e| GatewayError::Internal(Box::new(e)))
    }

    async fn delete(
        &self,
        tenant: &Tenant,
        id: &ResponseId,
    ) -> Result<Response<Bytes>, GatewayError> {
        let deleted = self.store.delete(tenant, id).await.map_err(|e| {
            self.metrics.store_error(StoreOperation::Delete);
            GatewayError::StoreUnavailable(e)
        })?;
        if !deleted {
            return Err(not_found(id.as_str()).into());
        }
        Ok(json(&serde_json::json!({
            "id": id.as_str(),
            "object": "response",
            "deleted": true,
        })))
    }
}

/// Whose stored responses: the gateway key, else the AWS identity.
fn tenant(extensions: &Extensions) -> Result<Tenant, GatewayError> {
    if let Some(key) = extensions.get::<MatchedKey>() {
        return Ok(Tenant::from_gateway_key_digest(&key.0));
    }
    if let Some(credentials) = extensions.get::<Credentials>() {
        return Ok(Tenant::from_aws_keys(
            credentials.access_key_id(),
            credentials.secret_access_key(),
        ));
    }
    if let Some(token) = extensions.get::<BearerToken>() {
        return Ok(Tenant::from_bedrock_api_key(token.secret()));
    }
    Err(GatewayError::Internal(
        "the caller's identity was not resolved before the response store".into(),
    ))
}

/// The route of a stored response.
#[derive(Debug, PartialEq, Eq)]
enum StoredRoute {
    /// `/v1/responses/{id}`.
    Response(ResponseId),
    /// `/v1/responses/{id}/input_items`.
    InputItems(ResponseId),
}

impl StoredRoute {
    /// The route of `path`; an id that is not well-formed cannot have been stored: 404.
    fn parse(path: &str) -> Result<Self, ApiError> {
        let rest = path.strip_prefix("/v1/responses/").unwrap_or_default();
        let (raw, items) = match rest.strip_suffix("/input_items") {
            Some(id) => (id, true),
            None => (rest, false),
        };
        let id = ResponseId::parse(raw).map_err(|_| not_found(raw))?;
        Ok(if items {
            Self::InputItems(id)
        } else {
            Self::Response(id)
        })
    }
}

/// A stored record (see `bedrock_translate::responses`): what this layer reads of it.
#[derive(Debug, Deserialize)]
struct Record {
    response: serde_json::Value,
    #[serde(default)]
    input_items: Vec<serde_json::Value>,
}

/// The query of `GET /v1/responses/{id}/input_items`.
#[derive(Debug, PartialEq, Eq)]
struct ListQuery {
    limit: usize,
    ascending: bool,
    after: Option<String>,
}

impl ListQuery {
    const DEFAULT_LIMIT: usize = 20;
    const MAX_LIMIT: usize = 100;

    /// `limit` (1 to 100, default 20), `order` (`asc` or `desc`, default `desc`), `after` (an
    /// item id); other parameters (such as `include`) are ignored.
    fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let mut parsed = Self {
            limit: Self::DEFAULT_LIMIT,
            ascending: false,
            after: None,
        };
        let pairs = query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty());
        for pair in pairs {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            match name {
                "limit" => parsed.limit = parse_limit(&value)?,
                "order" => {
                    parsed.ascending = match value.as_ref() {
                        "asc" => true,
                        "desc" => false,
                        _ => return Err(invalid_param("order", "'asc' or 'desc'")),
                    }
                }
                "after" => parsed.after = Some(value.into_owned()),
                _ => {}
            }
        }
        Ok(parsed)
    }

    /// OpenAI's list of `items` (in input order) as this query asks for it.
    fn list(&self, items: &[serde_json::Value]) -> Result<serde_json::Value, ApiError> {
        let mut ordered: Vec<&serde_json::Value> = items.iter().collect();
        if !self.ascending {
            ordered.reverse();
        }
        let start = match &self.after {
            None => 0,
            Some(after) => {
                let position = ordered.iter().position(|item| item_id(item) == Some(after));
                position.ok_or_else(|| invalid_param("after", "the id of an item of this list"))?
                    + 1
            }
        };
        let rest = &ordered[start.min(ordered.len())..];
        let data = &rest[..self.limit.min(rest.len())];
        Ok(serde_json::json!({
            "object": "list",
            "data": data,
            "first_id": data.first().and_then(|i| item_id(i)),
            "last_id": data.last().and_then(|i| item_id(i)),
            "has_more": rest.len() > data.len(),
        }))
    }
}

/// `GET /v1/responses/{id}?stream=true` (replaying a response's events) is not offered: a
/// 400 rather than JSON to a client that waits for events.
fn refuse_stream(query: Option<&str>) -> Result<(), ApiError> {
    let streaming = query
        .unwrap_or_default()
        .split('&')
        .any(|pair| pair == "stream=true");
    if streaming {
        return Err(ApiError::invalid_request(
            "stream=true is not supported when retrieving a stored response: omit it to get the response object",
            Some("stream"),
        ));
    }
    Ok(())
}

fn item_id(item: &serde_json::Value) -> Option<&str> {
    item.get("id").and_then(serde_json::Value::as_str)
}

fn parse_limit(value: &str) -> Result<usize, ApiError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=ListQuery::MAX_LIMIT).contains(n))
        .ok_or_else(|| invalid_param("limit", "an integer from 1 to 100"))
}

fn invalid_param(param: &str, expected: &str) -> ApiError {
    ApiError::invalid_request(
        format!("invalid '{param}': expected {expected}"),
        Some(param),
    )
}

/// OpenAI's 404 for a response that is unknown, expired or another caller's (told apart from
/// none of them).
fn not_found(id: &str) -> ApiError {
    let shown: String = id.chars().take(ResponseId::MAX_LEN).collect();
    ApiError::invalid_request(format!("Response with id '{shown}' not found."), None)
        .with_status(StatusCode::NOT_FOUND)
}

/// The 404 for a `previous_response_id` that is unknown, expired or another caller's.
fn previous_not_found(id: &ResponseId) -> ApiError {
    ApiError::invalid_request(
        format!("Previous response with id '{id}' not found."),
        Some("previous_response_id"),
    )
    .with_status(StatusCode::NOT_FOUND)
}

fn json(value: &impl serde::Serialize) -> Response<Bytes> {
    let body = serde_json::to_vec(value).expect("JSON values serialise");
    let mut response = Response::new(Bytes::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The writes of one request's responses, in flight.
#[derive(Debug, Clone, Default)]
pub struct Writes(Arc<Mutex<Vec<JoinHandle<()>>>>);

impl Writes {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, write: JoinHandle<()>) {
        self.lock().push(write);
    }

    fn take(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut *self.lock())
    }

    fn is_pending(&self) -> bool {
        !self.lock().is_empty()
    }

    /// Until every write handed over so far is done.
    async fn wait(&self) {
        for write in self.take() {
            // A write that panicked was a bug in the store; the answer goes out regardless.
            let _ = write.await;
        }
    }
}

/// A response body whose frames wait for the writes of stored responses: the frame polled
/// after the translator handed over a response (the stream's last event) is released only
/// once that response is written. Without writes it is the inner body unchanged.
pub struct GatedBody<B: Body> {
    inner: B,
    writes: Option<Writes>,
    held: Option<Held<B>>,
}

/// A frame held back until `writes` are done.
struct Held<B: Body> {
    writes: Vec<JoinHandle<()>>,
    frame: Option<Result<Frame<B::Data>, B::Error>>,
}

impl<B: Body> GatedBody<B> {
    /// `inner`, its frames waiting for `writes` (none: never waiting).
    pub fn new(inner: B, writes: Option<Writes>) -> Self {
        Self {
            inner,
            writes,
            held: None,
        }
    }

    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }
}

impl<B: Body + std::fmt::Debug> std::fmt::Debug for GatedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatedBody")
            .field("inner", &self.inner)
            .field("holding", &self.held.is_some())
            .finish()
    }
}

impl<B> Body for GatedBody<B>
where
    B: Body + Unpin,
    B::Data: Unpin,
    B::Error: Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.get_mut();
        if this.held.is_none() {
            let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
            let writes = this.writes.as_ref().map(Writes::take).unwrap_or_default();
            if writes.is_empty() {
                return Poll::Ready(frame);
            }
            this.held = Some(Held { writes, frame });
        }
        let held = this.held.as_mut().expect("held above");
        while let Some(write) = held.writes.last_mut() {
            // A write that panicked was a bug in the store; the frame goes out regardless.
            let _ = ready!(Pin::new(write).poll(cx));
            held.writes.pop();
        }
        Poll::Ready(this.held.take().expect("held above").frame)
    }

    fn is_end_stream(&self) -> bool {
        self.held.is_none()
            && self.inner.is_end_stream()
            && !self.writes.as_ref().is_some_and(Writes::is_pending)
    }

    fn size_hint(&self) -> SizeHint {
        if self.held.is_some() {
            SizeHint::default()
        } else {
            self.inner.size_hint()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use http_body_util::combinators::BoxBody;
    use http_body_util::{BodyExt, StreamBody};
    use response_store::{MemoryLimits, StoreFuture};
    use serde_json::{Value, json};
    use tower::{BoxError, ServiceExt, service_fn};

    use super::*;

    type TestBody = BoxBody<Bytes, BoxError>;

    impl FromBytes for TestBody {
        fn from_bytes(bytes: Bytes) -> Self {
            Full::new(bytes).map_err(|e: Infallible| match e {}).boxed()
        }
    }

    /// A memory store whose writes take a second (tokio's clock), or that is down.
    #[derive(Debug)]
    struct TestStore {
        memory: MemoryStore,
        down: bool,
    }

    impl TestStore {
        fn up() -> Arc<Self> {
            Arc::new(Self {
                memory: MemoryStore::new(MemoryLimits::default()),
                down: false,
            })
        }

        fn down() -> Arc<Self> {
            Arc::new(Self {
                memory: MemoryStore::new(MemoryLimits::default()),
                down: true,
            })
        }

        fn fail<T: Send + 'static>(&self) -> Option<StoreFuture<'_, T>> {
            self.down.then(|| -> StoreFuture<'_, T> {
                Box::pin(async { Err(StoreError::Unavailable("redis is down".into())) })
            })
        }
    }

    impl ResponseStore for TestStore {
        fn put<'a>(&'a self, t: &'a Tenant, id: &'a ResponseId, r: Bytes) -> StoreFuture<'a, ()> {
            if let Some(failed) = self.fail() {
                return failed;
            }
            Box::pin(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                self.memory.put(t, id, r).await
            })
        }

        fn get<'a>(&'a self, t: &'a Tenant, id: &'a ResponseId) -> StoreFuture<'a, Option<Bytes>> {
            self.fail().unwrap_or_else(|| self.memory.get(t, id))
        }

        fn delete<'a>(&'a self, t: &'a Tenant, id: &'a ResponseId) -> StoreFuture<'a, bool> {
            self.fail().unwrap_or_else(|| self.memory.delete(t, id))
        }

        fn check(&self) -> StoreFuture<'_, ()> {
            self.fail().unwrap_or_else(|| self.memory.check())
        }
    }

    /// Stands in for the translator, honouring the contract: the previous record's presence
    /// is echoed in the answer (`"previous"`), the record is handed to the sink before a whole
    /// answer resolves, or just before a stream's last event is produced.
    fn translator() -> impl Service<
        Request<Full<Bytes>>,
        Response = Response<TestBody>,
        Error = GatewayError,
        Future = impl Send,
    > + Clone
    + Send
    + 'static {
        service_fn(|request: Request<Full<Bytes>>| async move {
            let previous = request.extensions().get::<PreviousResponse>().cloned();
            let sink = request.extensions().get::<ResponseSink>().cloned();
            let body: Value =
                serde_json::from_slice(&request.into_body().collect().await.unwrap().to_bytes())
                    .unwrap();
            let id = body["id_to_use"].as_str().unwrap().to_owned();
            let response = json!({"id": id, "object": "response", "previous": previous.is_some()});
            let record = Bytes::from(
                json!({
                    "response": response,
                    "input_items": [
                        {"id": "msg_1", "type": "message"},
                        {"id": "msg_2", "type": "message"},
                        {"id": "msg_3", "type": "message"},
                    ],
                    "context": [],
                })
                .to_string(),
            );
            let stored = StoredResponse { id, record };
            if body["stream"] == json!(true) {
                let events = [
                    "event: response.created\n\n",
                    "event: response.completed\n\n",
                ];
                let frames = futures_util::stream::iter(events).map(move |event| {
                    if event.contains("completed")
                        && let Some(sink) = &sink
                    {
                        sink.keep(stored.clone());
                    }
                    Ok::<_, BoxError>(Frame::data(Bytes::from_static(event.as_bytes())))
                });
                return Ok(Response::new(BodyExt::boxed(StreamBody::new(frames))));
            }
            if let Some(sink) = &sink {
                sink.keep(stored);
            }
            Ok(Response::new(TestBody::from_bytes(Bytes::from(
                response.to_string(),
            ))))
        })
    }

    use futures_util::StreamExt as _;

    fn alice() -> Credentials {
        Credentials::new("AKIDALICE", "alice-secret", None, None, "test")
    }

    fn mallory() -> Credentials {
        // Knows alice's access key id, not her secret.
        Credentials::new("AKIDALICE", "guessed", None, None, "test")
    }

    fn request(method: Method, path: &str, body: Value, who: Credentials) -> Request<Full<Bytes>> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        request.extensions_mut().insert(FrontDoor::Responses);
        request.extensions_mut().insert(who);
        request
    }

    fn post(body: Value, who: Credentials) -> Request<Full<Bytes>> {
        request(Method::POST, "/v1/responses", body, who)
    }

    fn get(path: &str, who: Credentials) -> Request<Full<Bytes>> {
        request(Method::GET, path, Value::Null, who)
    }

    fn service(
        store: Arc<TestStore>,
    ) -> Responses<
        impl Service<
            Request<Full<Bytes>>,
            Response = Response<TestBody>,
            Error = GatewayError,
            Future = impl Send,
        > + Clone
        + Send
        + 'static,
    > {
        ResponsesLayer::new(store, Metrics::new([])).layer(translator())
    }

    async fn call<S>(
        service: &S,
        request: Request<Full<Bytes>>,
    ) -> Result<(StatusCode, Value), ApiError>
    where
        S: Service<
                Request<Full<Bytes>>,
                Response = Response<GatedBody<TestBody>>,
                Error = GatewayError,
            > + Clone,
    {
        match service.clone().oneshot(request).await {
            Ok(response) => {
                let status = response.status();
                let bytes = response.into_body().collect().await.unwrap().to_bytes();
                Ok((status, serde_json::from_slice(&bytes).unwrap()))
            }
            Err(err) => Err(err.to_api_error()),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_whole_answer_is_returned_once_kept_and_is_then_readable_and_continuable() {
        let store = TestStore::up();
        let service = service(Arc::clone(&store));
        let started = tokio::time::Instant::now();
        let (status, answer) = call(&service, post(json!({"id_to_use": "resp_1"}), alice()))
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(answer["previous"], false);
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "waited for the write"
        );
        let (_, stored) = call(&service, get("/v1/responses/resp_1", alice()))
            .await
            .unwrap();
        assert_eq!(
            stored,
            json!({"id": "resp_1", "object": "response", "previous": false})
        );
        let next = json!({"id_to_use": "resp_2", "previous_response_id": "resp_1"});
        let (_, answer) = call(&service, post(next, alice())).await.unwrap();
        assert_eq!(
            answer["previous"], true,
            "the translator got the previous record"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn input_tokens_gets_the_previous_response_and_keeps_nothing() {
        let down = service(TestStore::down());
        let store = TestStore::up();
        let service = service(Arc::clone(&store));
        call(&service, post(json!({"id_to_use": "resp_1"}), alice()))
            .await
            .unwrap();
        let count = |body: Value, who: Credentials| {
            let mut request = request(Method::POST, "/v1/responses/input_tokens", body, who);
            request
                .extensions_mut()
                .insert(FrontDoor::ResponsesInputTokens);
            request
        };
        let next = json!({"id_to_use": "resp_c", "previous_response_id": "resp_1"});
        let (status, answer) = call(&service, count(next.clone(), alice())).await.unwrap();
        assert_eq!(
            (status, &answer["previous"]),
            (StatusCode::OK, &json!(true))
        );
        let err = call(&service, get("/v1/responses/resp_c", alice()))
            .await
            .unwrap_err();
        assert_eq!(err.status, StatusCode::NOT_FOUND, "nothing was kept");
        let err = call(&service, count(next, mallory())).await.unwrap_err();
        assert_eq!(err.status, StatusCode::NOT_FOUND, "not mallory's");
        let unknown = json!({"id_to_use": "resp_d", "previous_response_id": "resp_none"});
        let err = call(&service, count(unknown, alice())).await.unwrap_err();
        assert_eq!(err.status, StatusCode::NOT_FOUND);
        // Nothing to keep: a store that is down does not matter without a previous response.
        let (status, answer) = call(&down, count(json!({"id_to_use": "resp_e"}), alice()))
            .await
            .unwrap();
        assert_eq!(
            (status, &answer["previous"]),
            (StatusCode::OK, &json!(false))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_streams_last_event_waits_for_the_write() {
        let store = TestStore::up();
        let service = service(Arc::clone(&store));
        let body = json!({"id_to_use": "resp_s", "stream": true});
        let response = service.clone().oneshot(post(body, alice())).await.unwrap();
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert!(first.starts_with(b"event: response.created"));
        let tenant = Tenant::from_aws_keys("AKIDALICE", "alice-secret");
        let id = ResponseId::parse("resp_s").unwrap();
        let last = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert!(last.starts_with(b"event: response.completed"));
        assert!(
            store.memory.get(&tenant, &id).await.unwrap().is_some(),
            "kept before the last event was released"
        );
        assert!(body.frame().await.is_none());
    }

    #[test]
    fn the_peek_reads_store_and_previous_response_id() {
        let peek = Peek::of(br#"{"store": null, "previous_response_id": "resp_1", "input": []}"#);
        assert!(peek.store());
        assert_eq!(peek.previous_response_id.as_deref(), Some("resp_1"));
        assert!(!Peek::of(br#"{"store": false}"#).store());
        assert!(Peek::of(b"not json").store());
    }

    #[tokio::test(start_paused = true)]
    async fn retrieving_as_a_stream_is_refused() {
        let service = service(TestStore::up());
        call(&service, post(json!({"id_to_use": "resp_1"}), alice()))
            .await
            .unwrap();
        let err = call(&service, get("/v1/responses/resp_1?stream=true", alice()))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.error.param.as_deref()),
            (400, Some("stream"))
        );
        assert!(
            call(&service, get("/v1/responses/resp_1?stream=false", alice()))
                .await
                .is_ok()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn store_false_keeps_nothing() {
        let store = TestStore::up();
        let service = service(Arc::clone(&store));
        let body = json!({"id_to_use": "resp_1", "store": false});
        call(&service, post(body, alice())).await.unwrap();
        assert!(store.memory.is_empty());
        let err = call(&service, get("/v1/responses/resp_1", alice()))
            .await
            .unwrap_err();
        assert_eq!(err.status, 404);
    }

    #[tokio::test(start_paused = true)]
    async fn another_caller_gets_openais_404_for_every_route() {
        let service = service(TestStore::up());
        call(&service, post(json!({"id_to_use": "resp_1"}), alice()))
            .await
            .unwrap();
        for path in ["/v1/responses/resp_1", "/v1/responses/resp_1/input_items"] {
            let err = call(&service, get(path, mallory())).await.unwrap_err();
            assert_eq!(err.status, 404, "{path}");
            assert_eq!(
                serde_json::from_slice::<Value>(&err.to_json()).unwrap(),
                json!({"error": {
                    "message": "Response with id 'resp_1' not found.",
                    "type": "invalid_request_error",
                    "param": null,
                    "code": null,
                }})
            );
        }
        let delete = request(
            Method::DELETE,
            "/v1/responses/resp_1",
            Value::Null,
            mallory(),
        );
        assert_eq!(call(&service, delete).await.unwrap_err().status, 404);
        let next = json!({"id_to_use": "resp_2", "previous_response_id": "resp_1"});
        let err = call(&service, post(next, mallory())).await.unwrap_err();
        assert_eq!(err.status, 404);
        assert_eq!(err.error.param.as_deref(), Some("previous_response_id"));
        // Still there for its owner.
        assert!(
            call(&service, get("/v1/responses/resp_1", alice()))
                .await
                .is_ok()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_gateway_key_is_the_tenant_when_keys_are_configured() {
        let service = service(TestStore::up());
        let with_key = |mut request: Request<Full<Bytes>>, key: &str| {
            let digest = <[u8; 32]>::from(<sha2::Sha256 as sha2::Digest>::digest(key));
            request.extensions_mut().insert(MatchedKey(digest));
            request
        };
        let created = with_key(post(json!({"id_to_use": "resp_k"}), alice()), "key-a");
        call(&service, created).await.unwrap();
        // Other AWS credentials, same gateway key: the same tenant.
        let same_key = with_key(get("/v1/responses/resp_k", mallory()), "key-a");
        assert!(call(&service, same_key).await.is_ok());
        let other_key = with_key(get("/v1/responses/resp_k", alice()), "key-b");
        assert_eq!(call(&service, other_key).await.unwrap_err().status, 404);
    }

    #[tokio::test(start_paused = true)]
    async fn delete_answers_openais_shape_then_404() {
        let service = service(TestStore::up());
        call(&service, post(json!({"id_to_use": "resp_d"}), alice()))
            .await
            .unwrap();
        let delete = || request(Method::DELETE, "/v1/responses/resp_d", Value::Null, alice());
        let (_, deleted) = call(&service, delete()).await.unwrap();
        assert_eq!(
            deleted,
            json!({"id": "resp_d", "object": "response", "deleted": true})
        );
        assert_eq!(call(&service, delete()).await.unwrap_err().status, 404);
        let items = request(
            Method::DELETE,
            "/v1/responses/resp_d/input_items",
            Value::Null,
            alice(),
        );
        assert_eq!(call(&service, items).await.unwrap_err().status, 405);
    }

    #[tokio::test(start_paused = true)]
    async fn input_items_are_listed_as_openai_does() {
        let service = service(TestStore::up());
        call(&service, post(json!({"id_to_use": "resp_i"}), alice()))
            .await
            .unwrap();
        let list = |query: &str| get(&format!("/v1/responses/resp_i/input_items{query}"), alice());
        let (_, all) = call(&service, list("")).await.unwrap();
        assert_eq!(all["object"], "list");
        let ids: Vec<_> = all["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].clone())
            .collect();
        assert_eq!(ids, ["msg_3", "msg_2", "msg_1"], "desc by default");
        assert_eq!(
            (all["first_id"].clone(), all["last_id"].clone()),
            (json!("msg_3"), json!("msg_1"))
        );
        assert_eq!(all["has_more"], false);
        let (_, page) = call(&service, list("?order=asc&limit=1&after=msg_1"))
            .await
            .unwrap();
        assert_eq!(page["data"], json!([{"id": "msg_2", "type": "message"}]));
        assert_eq!(page["has_more"], true);
        let (_, end) = call(&service, list("?order=asc&after=msg_3"))
            .await
            .unwrap();
        assert_eq!(
            end,
            json!({"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": false})
        );
        for bad in [
            "?limit=0",
            "?limit=101",
            "?limit=x",
            "?order=up",
            "?after=msg_9",
        ] {
            let err = call(&service, list(bad)).await.unwrap_err();
            assert_eq!(err.status, 400, "{bad}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn ids_are_checked_before_the_store() {
        let service = service(TestStore::down());
        // Not well-formed: 404 without asking the (down) store.
        for path in [
            "/v1/responses/nope",
            "/v1/responses/resp_a:b",
            "/v1/responses/resp_1/x/input_items",
        ] {
            assert_eq!(
                call(&service, get(path, alice())).await.unwrap_err().status,
                404,
                "{path}"
            );
        }
        let bad = json!({"id_to_use": "resp_1", "previous_response_id": "resp_*"});
        let err = call(&service, post(bad, alice())).await.unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.error.param.as_deref()),
            (400, Some("previous_response_id"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn with_the_store_down_only_stateless_requests_work() {
        let service = service(TestStore::down());
        let (status, _) = call(
            &service,
            post(json!({"id_to_use": "resp_1", "store": false}), alice()),
        )
        .await
        .unwrap();
        assert_eq!(status, 200);
        let next = json!({"id_to_use": "resp_2", "store": false, "previous_response_id": "resp_1"});
        let err = call(&service, post(next, alice())).await.unwrap_err();
        assert_eq!(err.status, 503);
        assert_eq!(
            err.error.code.as_deref(),
            Some("response_store_unavailable")
        );
        let err = call(&service, get("/v1/responses/resp_1", alice()))
            .await
            .unwrap_err();
        assert_eq!(err.status, 503);
        let err = call(&service, post(json!({"id_to_use": "resp_3"}), alice()))
            .await
            .unwrap_err();
        assert_eq!(err.status, 503, "store: true (the default) is refused");
    }

    /// Up for the check, down for the write.
    #[derive(Debug)]
    struct FailingWrites;

    impl ResponseStore for FailingWrites {
        fn put<'a>(&'a self, _: &'a Tenant, _: &'a ResponseId, _: Bytes) -> StoreFuture<'a, ()> {
            Box::pin(async { Err(StoreError::Unavailable("went down".into())) })
        }

        fn get<'a>(&'a self, _: &'a Tenant, _: &'a ResponseId) -> StoreFuture<'a, Option<Bytes>> {
            Box::pin(async { Ok(None) })
        }

        fn delete<'a>(&'a self, _: &'a Tenant, _: &'a ResponseId) -> StoreFuture<'a, bool> {
            Box::pin(async { Ok(false) })
        }

        fn check(&self) -> StoreFuture<'_, ()> {
            Box::pin(async { Ok(()) })
        }
    }

    #[tokio::test]
    async fn a_failed_write_is_counted_and_the_answer_still_returned() {
        let metrics = Metrics::new([]);
        let service =
            ResponsesLayer::new(Arc::new(FailingWrites), Arc::clone(&metrics)).layer(translator());
        let (status, _) = call(&service, post(json!({"id_to_use": "resp_3"}), alice()))
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert!(
            metrics
                .encode()
                .contains(r#"bedrock_gateway_response_store_errors_total{operation="write"} 1"#),
            "{}",
            metrics.encode()
        );
    }

    #[tokio::test]
    async fn other_doors_pass_through_untouched() {
        let store = TestStore::up();
        let service = service(Arc::clone(&store));
        let mut chat = post(json!({"id_to_use": "resp_c"}), alice());
        chat.extensions_mut().insert(FrontDoor::ChatCompletions);
        call(&service, chat).await.unwrap();
        assert!(
            store.memory.is_empty(),
            "no sink outside the Responses door"
        );
    }
}
