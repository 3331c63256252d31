//! [`BufferBodyLayer`]: reads the client's request body in full, under a size limit, before
//! anything else happens to the request.
//!
//! Hand-written because the libraries' pieces do half the job each: `tower_http::limit` answers
//! an oversized body with its own plain-text 413 (clients here expect the front door's error
//! object), and nothing in tower collects a body. Reading first means no concurrency permit,
//! credential lookup or Bedrock connection is held for a client that is still uploading; the
//! idle timeout between the body's frames is tower-http's `RequestBodyTimeoutLayer`, stacked
//! above this one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use tower::{BoxError, Layer, Service};

use crate::error::GatewayError;

/// Buffers request bodies of at most `limit` bytes.
#[derive(Debug, Clone, Copy)]
pub struct BufferBodyLayer {
    limit: usize,
}

impl BufferBodyLayer {
    /// Bodies over `limit` bytes are refused with [`GatewayError::BodyTooLarge`].
    pub fn new(limit: usize) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for BufferBodyLayer {
    type Service = BufferBody<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BufferBody {
            inner,
            limit: self.limit,
        }
    }
}

/// See [`BufferBodyLayer`].
#[derive(Debug, Clone)]
pub struct BufferBody<S> {
    inner: S,
    limit: usize,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<B>> for BufferBody<S>
where
    S: Service<Request<Full<Bytes>>, Error = GatewayError> + Clone + Send + 'static,
    S::Future: Send,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = GatewayError;
    type Future = BoxFuture<Result<S::Response, GatewayError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), GatewayError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limit = self.limit;
        Box::pin(async move {
            let request = read(request, limit).await?;
            inner.call(request).await
        })
    }
}

/// The request with its body read; a declared or actual size over `limit` is refused.
async fn read<B>(request: Request<B>, limit: usize) -> Result<Request<Full<Bytes>>, GatewayError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(GatewayError::BodyTooLarge { limit });
    }
    let (parts, body) = request.into_parts();
    let bytes = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|err| classify(err, limit))?
        .to_bytes();
    Ok(Request::from_parts(parts, Full::new(bytes)))
}

fn classify(err: BoxError, limit: usize) -> GatewayError {
    if err.is::<http_body_util::LengthLimitError>() {
        GatewayError::BodyTooLarge { limit }
    } else if err.is::<tower_http::timeout::TimeoutError>() {
        GatewayError::ClientTimeout
    } else {
        GatewayError::ClientBody(err)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body::Frame;
    use http_body_util::StreamBody;
    use tower::{ServiceBuilder, ServiceExt, service_fn};
    use tower_http::timeout::RequestBodyTimeoutLayer;

    use super::*;

    fn echo_len()
    -> impl Service<Request<Full<Bytes>>, Response = usize, Error = GatewayError, Future = impl Send>
    + Clone
    + Send
    + 'static {
        service_fn(|request: Request<Full<Bytes>>| async move {
            let bytes = request.into_body().collect().await.unwrap().to_bytes();
            Ok::<_, GatewayError>(bytes.len())
        })
    }

    #[tokio::test]
    async fn reads_the_body_and_refuses_oversized_ones() {
        let service = BufferBodyLayer::new(4).layer(echo_len());
        let ok = service
            .clone()
            .oneshot(Request::new(Full::new(Bytes::from_static(b"abcd"))))
            .await
            .unwrap();
        assert_eq!(ok, 4);
        let err = service
            .clone()
            .oneshot(Request::new(Full::new(Bytes::from_static(b"abcde"))))
            .await
            .unwrap_err();
        assert!(matches!(err, GatewayError::BodyTooLarge { limit: 4 }));
        let declared = Request::builder()
            .header(header::CONTENT_LENGTH, "100")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let err = service.oneshot(declared).await.unwrap_err();
        assert!(matches!(err, GatewayError::BodyTooLarge { .. }), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_upload_is_a_client_timeout() {
        let service = ServiceBuilder::new()
            .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(5)))
            .layer(BufferBodyLayer::new(1024))
            .service(echo_len());
        let stalled = futures_util::stream::pending::<Result<Frame<Bytes>, BoxError>>();
        let request = Request::new(StreamBody::new(stalled));
        let err = service.oneshot(request).await.unwrap_err();
        assert!(matches!(err, GatewayError::ClientTimeout), "{err}");
    }
}
