//! The way to Bedrock: the pooled HTTP client and [`Authenticate`], which sends each request
//! either with a Bedrock API key (`Authorization: Bearer`, when the request carries a
//! [`BearerToken`] extension) or signed with SigV4 (the request's `Credentials` extension).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, header};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sigv4_layer::{SigV4, SigV4Layer};
use tower::{BoxError, Layer, Service};

use crate::credentials::BearerToken;

/// hyper-util's pooled HTTPS (and plain HTTP, for endpoint overrides) client.
type PooledClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The pooled client to Bedrock, shared behind one `Arc`.
///
/// tower services are cloned per request (each layer that does async work moves a clone of
/// its inner service into its future, and tower's `Retry` keeps one per attempt); a hyper-util
/// `Client` is a bundle of `Arc`s (pool, connector, TLS and HTTP settings), so cloning it several
/// times per request was a measurable cost. This is one reference count.
#[derive(Debug, Clone)]
pub struct UpstreamClient(Arc<PooledClient>);

impl Service<Request<Full<Bytes>>> for UpstreamClient {
    type Response = http::Response<hyper::body::Incoming>;
    type Error = hyper_util::client::legacy::Error;
    type Future = hyper_util::client::legacy::ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // hyper-util's client is always ready: it checks a connection out in `request`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Full<Bytes>>) -> Self::Future {
        self.0.request(request)
    }
}

/// A client with keep-alive pooling, HTTP/1.1 and HTTP/2 over rustls (native roots),
/// `TCP_NODELAY`, and a connect timeout.
pub fn client(connect_timeout: Duration) -> Result<UpstreamClient, BoxError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(https);
    Ok(UpstreamClient(Arc::new(client)))
}

/// Applies [`Authenticate`]: SigV4 with `signer`, or the request's bearer key.
#[derive(Debug, Clone)]
pub struct AuthenticateLayer {
    signer: SigV4Layer,
}

impl AuthenticateLayer {
    /// Signs with `signer` the requests that carry no [`BearerToken`].
    pub fn new(signer: SigV4Layer) -> Self {
        Self { signer }
    }
}

impl<S: Clone> Layer<S> for AuthenticateLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticate::new(self.signer.layer(inner))
    }
}

/// Bearer key or SigV4, per request. Bearer requests go straight to the signer's inner
/// client, so there is one client (and one clone of it per request), not two.
#[derive(Debug, Clone)]
pub struct Authenticate<S> {
    signer: SigV4<S>,
}

impl<S: Clone> Authenticate<S> {
    /// `signer` signs; bearer requests bypass it to its inner client.
    pub fn new(signer: SigV4<S>) -> Self {
        Self { signer }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request<Full<Bytes>>> for Authenticate<S>
where
    S: Service<Request<Full<Bytes>>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The signer's readiness is its client's.
        <SigV4<S> as Service<Request<Full<Bytes>>>>::poll_ready(&mut self.signer, cx)
    }

    fn call(&mut self, mut request: Request<Full<Bytes>>) -> Self::Future {
        match request.extensions_mut().remove::<BearerToken>() {
            Some(token) => {
                request
                    .headers_mut()
                    .insert(header::AUTHORIZATION, token.header_value());
                let future = self.signer.get_mut().call(request);
                Box::pin(async move { future.await.map_err(Into::into) })
            }
            None => Box::pin(self.signer.call(request)),
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_credential_types::Credentials;
    use http::Response;
    use sigv4_layer::SigV4Layer;
    use tower::{Layer, ServiceExt, service_fn};

    use super::*;

    /// The `authorization` header that reaches the client below [`Authenticate`].
    async fn authorization_sent(extension: impl Clone + Send + Sync + 'static) -> String {
        let echo = service_fn(|request: Request<Full<Bytes>>| async move {
            let authorization = request
                .headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_owned());
            Ok::<_, BoxError>(Response::new(authorization.unwrap_or_default()))
        });
        let layer = SigV4Layer::builder()
            .service_name("bedrock")
            .region("us-east-1")
            .build()
            .unwrap();
        let mut request =
            Request::post("https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse")
                .body(Full::new(Bytes::new()))
                .unwrap();
        request.extensions_mut().insert(extension);
        let response = Authenticate::new(layer.layer(echo))
            .oneshot(request)
            .await
            .unwrap();
        response.into_body()
    }

    #[tokio::test]
    async fn bearer_requests_skip_sigv4() {
        let sent = authorization_sent(BearerToken::new("key-123").unwrap()).await;
        assert_eq!(sent, "Bearer key-123");
    }

    #[tokio::test]
    async fn other_requests_are_signed() {
        let sent = authorization_sent(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ))
        .await;
        assert!(
            sent.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{sent}"
        );
    }
}
