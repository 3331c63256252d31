//! [`GatewayBody`]: every response body, metered. A streamed answer is counted as finished
//! (with its duration, time to first chunk and tokens) when its last byte is sent, or, if the
//! client goes away first, with status 499 (client closed request).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bedrock_translate::body::OpenAiBody;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use crate::app::UpstreamBody;
use crate::metrics::{InFlight, Metrics, RequestLabels};

/// The body of every gateway response.
#[derive(Debug)]
pub struct GatewayBody {
    inner: OpenAiBody<UpstreamBody>,
    meter: Option<StreamMeter>,
}

impl GatewayBody {
    /// A body that needs no metering (already counted).
    pub fn plain(inner: OpenAiBody<UpstreamBody>) -> Self {
        Self { inner, meter: None }
    }

    /// A streamed body, counted when it ends.
    pub fn metered(inner: OpenAiBody<UpstreamBody>, meter: StreamMeter) -> Self {
        Self {
            inner,
            meter: Some(meter),
        }
    }
}

/// What is recorded when a stream ends.
#[derive(Debug)]
pub struct StreamMeter {
    metrics: Arc<Metrics>,
    labels: Option<RequestLabels>,
    started: Instant,
    first_chunk_sent: bool,
    /// The request's span, for the token counts and the end-of-stream event.
    span: tracing::Span,
    /// Released when the stream ends: the in-flight count and the concurrency permit.
    _held: (InFlight, Option<tokio::sync::OwnedSemaphorePermit>),
}

impl StreamMeter {
    /// A meter for one stream; `held` (the in-flight count and the concurrency permit) is
    /// released when the stream ends.
    pub fn new(
        metrics: Arc<Metrics>,
        labels: RequestLabels,
        started: Instant,
        held: (InFlight, Option<tokio::sync::OwnedSemaphorePermit>),
    ) -> Self {
        Self {
            metrics,
            labels: Some(labels),
            started,
            first_chunk_sent: false,
            span: tracing::Span::current(),
            _held: held,
        }
    }

    fn finish(&mut self, usage: Option<openai_types::chat::Usage>, status: Option<u16>) {
        if let Some(mut labels) = self.labels.take() {
            if let Some(usage) = usage {
                self.metrics.tokens(&labels.model, &usage);
                crate::app::record_usage(&self.span, &usage);
            }
            let _entered = self.span.enter();
            tracing::info!(
                status = status.unwrap_or(labels.status),
                elapsed_ms = self.started.elapsed().as_millis() as u64,
                "stream finished"
            );
            if let Some(status) = status {
                labels.status = status;
            }
            self.metrics.finish_request(labels, self.started.elapsed());
        }
    }
}

impl Drop for StreamMeter {
    fn drop(&mut self) {
        self.finish(None, Some(499));
    }
}

impl Body for GatewayBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Some(meter) = this.meter.as_mut() {
            if matches!(polled, Poll::Ready(Some(_))) && !meter.first_chunk_sent {
                meter.first_chunk_sent = true;
                if let Some(labels) = &meter.labels {
                    meter
                        .metrics
                        .first_chunk(&labels.model, meter.started.elapsed());
                }
            }
            // hyper stops polling once `is_end_stream` says so: finish on the last frame too.
            if matches!(polled, Poll::Ready(None)) || this.inner.is_end_stream() {
                meter.finish(this.inner.stream_usage(), None);
            }
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
