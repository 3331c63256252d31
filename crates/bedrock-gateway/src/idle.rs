//! Idle timeouts on bodies: an upstream stream that sends nothing for too long, or a client
//! that uploads too slowly, ends with [`IdleTimeout`] instead of holding a connection forever.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};
use tower::{BoxError, Layer, Service};

/// Whose silence timed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client, sending its request.
    Client,
    /// Bedrock, answering.
    Upstream,
}

/// No frame arrived within the idle timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{} sent nothing for {idle:?}", match .side { Side::Client => "the client", Side::Upstream => "Bedrock" })]
pub struct IdleTimeout {
    /// The limit.
    pub idle: Duration,
    /// Who was silent.
    pub side: Side,
}

/// A body that fails when no frame arrives for `idle`, with an `io::Error` of kind `TimedOut`
/// wrapping an [`IdleTimeout`] (the kind is what layers that do not know this type recognise).
#[derive(Debug)]
pub struct IdleBody<B> {
    inner: B,
    idle: Duration,
    side: Side,
    sleep: Pin<Box<Sleep>>,
}

impl<B> IdleBody<B> {
    /// Wraps `inner`; the clock starts now.
    pub fn new(inner: B, idle: Duration, side: Side) -> Self {
        Self {
            inner,
            idle,
            side,
            sleep: Box::pin(tokio::time::sleep(idle)),
        }
    }
}

impl<B> Body for IdleBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let deadline = Instant::now() + this.idle;
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let timeout = IdleTimeout {
                        idle: this.idle,
                        side: this.side,
                    };
                    let error = std::io::Error::new(std::io::ErrorKind::TimedOut, timeout);
                    Poll::Ready(Some(Err(error.into())))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Wraps every response body of the inner service in an [`IdleBody`].
#[derive(Debug, Clone, Copy)]
pub struct IdleTimeoutLayer {
    idle: Duration,
}

impl IdleTimeoutLayer {
    /// Bodies fail after `idle` without a frame.
    pub fn new(idle: Duration) -> Self {
        Self { idle }
    }
}

impl<S> Layer<S> for IdleTimeoutLayer {
    type Service = IdleTimeoutService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        IdleTimeoutService {
            inner,
            idle: self.idle,
        }
    }
}

/// See [`IdleTimeoutLayer`].
#[derive(Debug, Clone)]
pub struct IdleTimeoutService<S> {
    inner: S,
    idle: Duration,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, Req, B> Service<Req> for IdleTimeoutService<S>
where
    S: Service<Req, Response = Response<B>>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<IdleBody<B>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let future = self.inner.call(request);
        let idle = self.idle;
        Box::pin(async move {
            Ok(future
                .await?
                .map(|body| IdleBody::new(body, idle, Side::Upstream)))
        })
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, StreamBody};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_silent_body_times_out_and_a_busy_one_does_not() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(4);
        let stream =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|f| (f, rx)) },
            );
        let mut body = IdleBody::new(
            StreamBody::new(Box::pin(stream)),
            Duration::from_secs(5),
            Side::Upstream,
        );
        let sender = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_secs(4)).await;
                tx.send(Ok(Frame::data(Bytes::from_static(b"x"))))
                    .await
                    .unwrap();
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(tx);
        });
        for _ in 0..3 {
            assert!(
                body.frame().await.unwrap().is_ok(),
                "4 s gaps are under the 5 s limit"
            );
        }
        let err = body.frame().await.unwrap().unwrap_err();
        let io = err.downcast_ref::<std::io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        assert!(
            io.get_ref()
                .unwrap()
                .downcast_ref::<IdleTimeout>()
                .is_some(),
            "{err}"
        );
        sender.abort();
    }
}
