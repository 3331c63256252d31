//! [`AdmitLayer`]: load shedding by a concurrency limit. A request gets a permit at once or
//! [`GatewayError::Overloaded`] (503), never a place in a queue; the permit rides in the
//! response body ([`PermitBody`]) until the last byte, so a stream counts for as long as it runs.
//!
//! Hand-written because tower's `ConcurrencyLimit` (with `LoadShed`) releases its permit when
//! the response future resolves, that is when a stream's headers are out, not when it ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Response;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service};

use crate::body::PermitBody;
use crate::error::GatewayError;

/// At most `limit` requests at once (none: no limit).
#[derive(Debug, Clone)]
pub struct AdmitLayer {
    permits: Option<Arc<Semaphore>>,
}

impl AdmitLayer {
    /// A limit of `limit` concurrent requests; `None` admits everything.
    pub fn new(limit: Option<usize>) -> Self {
        Self {
            permits: limit.map(|n| Arc::new(Semaphore::new(n))),
        }
    }
}

impl<S> Layer<S> for AdmitLayer {
    type Service = Admit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Admit {
            inner,
            permits: self.permits.clone(),
        }
    }
}

/// See [`AdmitLayer`].
#[derive(Debug, Clone)]
pub struct Admit<S> {
    inner: S,
    permits: Option<Arc<Semaphore>>,
}

impl<S, Req, B> Service<Req> for Admit<S>
where
    S: Service<Req, Response = Response<B>, Error = GatewayError>,
{
    type Response = Response<PermitBody<B>>;
    type Error = GatewayError;
    type Future = AdmitFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), GatewayError>> {
        // Capacity is taken in `call` (shed at once rather than wait for a permit).
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let permit = match &self.permits {
            None => None,
            Some(permits) => match Arc::clone(permits).try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => return AdmitFuture::Overloaded,
            },
        };
        AdmitFuture::Admitted {
            inner: self.inner.call(request),
            permit,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Admit`].
    #[project = AdmitProj]
    #[derive(Debug)]
    #[allow(missing_docs)] // fields of variants; pin-project-lite takes no doc comments there
    pub enum AdmitFuture<F> {
        /// Admitted: the inner call, and the permit for the body.
        Admitted {
            #[pin]
            inner: F,
            permit: Option<OwnedSemaphorePermit>,
        },
        /// Refused.
        Overloaded,
    }
}

impl<F, B> Future for AdmitFuture<F>
where
    F: Future<Output = Result<Response<B>, GatewayError>>,
{
    type Output = Result<Response<PermitBody<B>>, GatewayError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            AdmitProj::Overloaded => Poll::Ready(Err(GatewayError::Overloaded)),
            AdmitProj::Admitted { inner, permit } => {
                let response = ready!(inner.poll(cx))?;
                let permit = permit.take();
                Poll::Ready(Ok(response.map(|body| PermitBody::new(body, permit))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use tower::{ServiceExt, service_fn};

    use super::*;

    #[tokio::test]
    async fn sheds_beyond_the_limit_until_a_body_ends() {
        let answer = service_fn(|()| async {
            Ok::<_, GatewayError>(Response::new(Full::new(Bytes::from_static(b"x"))))
        });
        let admit = AdmitLayer::new(Some(1)).layer(answer);
        let held = admit.clone().oneshot(()).await.unwrap();
        let err = admit.clone().oneshot(()).await.unwrap_err();
        assert!(matches!(err, GatewayError::Overloaded));
        held.into_body().collect().await.unwrap();
        assert!(
            admit.oneshot(()).await.is_ok(),
            "the finished body freed its permit"
        );
    }
}
