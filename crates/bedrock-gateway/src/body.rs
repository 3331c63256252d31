//! The body types of the pipeline, named once: what Bedrock answers with
//! ([`UpstreamBody`]), and what the Bedrock pipeline and the router answer with
//! ([`ResponseBody`]): the translator's body, its last frame waiting for the write of a stored
//! response ([`GatedBody`]), holding a concurrency permit while it lasts.

use std::pin::Pin;
use std::task::{Context, Poll};

use bedrock_translate::body::OpenAiBody;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::sync::OwnedSemaphorePermit;
use tower::BoxError;
use tower_http::timeout::{TimeoutBody, TimeoutError};

use crate::responses::GatedBody;

/// A Bedrock answer's body, bounded by the stream idle timeout between frames
/// (tower-http's [`TimeoutBody`]). Boxed to be `Unpin`, and its timeout reported as an
/// `io::Error` of kind `TimedOut`, which the translator (which knows nothing of tower-http)
/// recognises as a 504.
pub struct UpstreamBody(Pin<Box<TimeoutBody<Incoming>>>);

impl UpstreamBody {
    /// Wraps a body that the idle timeout already bounds.
    pub fn new(body: TimeoutBody<Incoming>) -> Self {
        Self(Box::pin(body))
    }
}

impl std::fmt::Debug for UpstreamBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpstreamBody")
    }
}

/// Bedrock sent nothing for the stream idle timeout.
#[derive(Debug, thiserror::Error)]
#[error("Bedrock sent nothing for the stream idle timeout")]
pub struct UpstreamIdle;

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.0.as_mut().poll_frame(cx).map_err(|err| {
            if err.is::<TimeoutError>() {
                Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    UpstreamIdle,
                )) as BoxError
            } else {
                err
            }
        })
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

/// What the router answers with, before metering.
pub type ResponseBody = PermitBody<GatedBody<OpenAiBody<UpstreamBody>>>;

/// A response body that holds a concurrency permit until its last frame is out (or it is
/// dropped): a stream occupies its permit for as long as it runs, not only until its headers.
#[derive(Debug)]
pub struct PermitBody<B> {
    inner: B,
    permit: Option<OwnedSemaphorePermit>,
}

impl<B> PermitBody<B> {
    /// `inner`, holding `permit` until it ends.
    pub fn new(inner: B, permit: Option<OwnedSemaphorePermit>) -> Self {
        Self { inner, permit }
    }

    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }
}

impl<RB> PermitBody<GatedBody<OpenAiBody<RB>>>
where
    OpenAiBody<RB>: Body,
{
    /// A complete body that holds no permit (answers of the gateway itself).
    pub fn full(bytes: Bytes) -> Self {
        Self::from_openai(OpenAiBody::full(bytes))
    }

    /// The translator's `body`, holding no permit and waiting for no write.
    pub fn from_openai(body: OpenAiBody<RB>) -> Self {
        Self::new(GatedBody::new(body, None), None)
    }
}

impl<B> Body for PermitBody<B>
where
    B: Body + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || this.inner.is_end_stream() {
            this.permit = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http_body_util::{BodyExt, Full};
    use tokio::sync::Semaphore;

    use super::*;

    #[tokio::test]
    async fn the_permit_is_released_with_the_last_frame() {
        let semaphore = Arc::new(Semaphore::new(1));
        let permit = Arc::clone(&semaphore).try_acquire_owned().unwrap();
        let mut body = PermitBody::new(Full::new(Bytes::from_static(b"x")), Some(permit));
        assert_eq!(semaphore.available_permits(), 0);
        assert!(body.frame().await.is_some());
        assert_eq!(
            semaphore.available_permits(),
            1,
            "released with the last frame"
        );
    }
}
