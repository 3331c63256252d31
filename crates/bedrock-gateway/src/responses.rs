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
//! the client has paid for it, and only a later `previous_response_id` will miss it.
//!
//! It answers `GET /v1/responses/{id}` (the stored `response`), `DELETE /v1/responses/{id}`
//! and `GET /v1/responses/{id}/input_items` (OpenAI's list, query `limit`, `order`, `after`)
//! itself.
//!
//! A stored response belongs to a [`Tenant`]: the gateway key the request presented
//! ([`MatchedKey`]) when gateway keys are configured, else the AWS identity the context
//! resolved (access key id and secret, or the Bedrock API key). Only digests are kept.

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
    type Future = BoxFuture<Result<Self::Response, GatewayError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), GatewayError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Full<Bytes>>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        let door = request.extensions().get::<FrontDoor>().copied();
        let method = request.method().clone();
        Box::pin(async move {
            match (door, method) {
                (Some(FrontDoor::Responses), Method::POST) => shared.create(inner, request).await,
                (Some(FrontDoor::Responses), _) => {
                    let response = shared.answer_stored(&request).await?;
                    Ok(response.map(|bytes| GatedBody::new(B::from_bytes(bytes), None)))
                }
                _ => Ok(inner
                    .call(request)
                    .await?
                    .map(|body| GatedBody::new(body, None))),
            }
        })
    }
}

/// What the layer reads of a `POST /v1/responses` body; everything else is the translator's.
#[derive(Debug, Deserialize)]
struct Peek {
    #[serde(default = "stored_by_default")]
    store: bool,
    #[serde(default)]
    previous_response_id: Option<String>,
}

fn stored_by_default() -> bool {
    true
}

impl Peek {
    /// The body's settings; a body that is not a JSON object with them is the translator's to
    /// refuse (then nothing is loaded, and a sink the translator never calls does no harm).
    fn of(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or(Self {
            store: true,
            previous_response_id: None,
        })
    }
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
        let (mut parts, body) = request.into_parts();
        let bytes = body
            .collect()
            .await
            .map_or_else(|e| match e {}, |c| c.to_bytes());
        let peek = Peek::of(&bytes);
        let tenant = tenant(&parts.extensions)?;
        if let Some(previous) = &peek.previous_response_id {
            let id = ResponseId::parse(previous).map_err(|e| {
                ApiError::invalid_request(
                    format!("invalid 'previous_response_id': {e}"),
                    Some("previous_response_id"),
                )
            })?;
            let record = self
                .load(&tenant, &id)
                .await?
                .ok_or_else(|| previous_not_found(&id))?;
            parts.extensions.insert(PreviousResponse(record));
        }
        let writes = peek.store.then(|| {
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
