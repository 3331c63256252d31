//! [`MeterLayer`]: every response metered. A complete answer is counted when its headers are
//! out; a streamed one ([`MeteredBody`]) when its last byte is sent (with its duration, time to
//! first chunk and tokens), or with status 499 (client closed request) if the client goes away
//! first. Token counts and the model also go into the request's tracing span.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bedrock_translate::layer::ResolvedModel;
use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use openai_types::chat::Usage;
use tower::{Layer, Service};

use crate::body::ResponseBody;
use crate::metrics::{InFlight, Metrics, RequestLabels};
use crate::router::route_label;

/// Meters the responses of the service below.
#[derive(Debug, Clone)]
pub struct MeterLayer {
    metrics: Arc<Metrics>,
}

impl MeterLayer {
    /// Counts into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for MeterLayer {
    type Service = Meter<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Meter {
            inner,
            metrics: Arc::clone(&self.metrics),
        }
    }
}

/// See [`MeterLayer`].
#[derive(Debug, Clone)]
pub struct Meter<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B> Service<Request<B>> for Meter<S>
where
    S: Service<Request<B>, Response = Response<ResponseBody>, Error = Infallible>,
{
    type Response = Response<MeteredBody>;
    type Error = Infallible;
    type Future = MeterFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let route = route_label(request.uri().path());
        MeterFuture {
            inner: self.inner.call(request),
            pending: Some(Pending {
                in_flight: self.metrics.start_request(),
                metrics: Arc::clone(&self.metrics),
                route,
                started: Instant::now(),
            }),
        }
    }
}

/// What a request's meter knows before its answer.
#[derive(Debug)]
struct Pending {
    metrics: Arc<Metrics>,
    in_flight: InFlight,
    route: &'static str,
    started: Instant,
}

pin_project_lite::pin_project! {
    /// The response future of [`Meter`].
    #[derive(Debug)]
    pub struct MeterFuture<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
    }
}

impl<F> Future for MeterFuture<F>
where
    F: Future<Output = Result<Response<ResponseBody>, Infallible>>,
{
    type Output = Result<Response<MeteredBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(response) = ready!(this.inner.poll(cx));
        let pending = this.pending.take().expect("polled after completion");
        Poll::Ready(Ok(pending.finish(response)))
    }
}

impl Pending {
    /// Counts a complete answer now; a stream carries its meter in its body.
    fn finish(self, response: Response<ResponseBody>) -> Response<MeteredBody> {
        let Self {
            metrics,
            mut in_flight,
            route,
            started,
        } = self;
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
        let meter = if body.get_ref().get_ref().is_stream() {
            in_flight.mark_stream();
            Some(StreamMeter {
                metrics,
                labels: Some(labels),
                started,
                first_chunk_sent: false,
                span,
                _in_flight: in_flight,
            })
        } else {
            metrics.finish_request(labels, started.elapsed());
            None
        };
        Response::from_parts(parts, MeteredBody { inner: body, meter })
    }
}

/// Token counts as fields of the request's span.
fn record_usage(span: &tracing::Span, usage: &Usage) {
    span.record("prompt_tokens", usage.prompt_tokens);
    span.record("completion_tokens", usage.completion_tokens);
}

/// The body of every gateway response.
#[derive(Debug)]
pub struct MeteredBody {
    inner: ResponseBody,
    meter: Option<StreamMeter>,
}

/// What is recorded when a stream ends.
#[derive(Debug)]
struct StreamMeter {
    metrics: Arc<Metrics>,
    labels: Option<RequestLabels>,
    started: Instant,
    first_chunk_sent: bool,
    /// The request's span, for the token counts and the end-of-stream event.
    span: tracing::Span,
    /// Counted in flight until the stream ends.
    _in_flight: InFlight,
}

impl StreamMeter {
    fn finish(&mut self, usage: Option<Usage>, status: Option<u16>) {
        if let Some(mut labels) = self.labels.take() {
            if let Some(usage) = usage {
                self.metrics.tokens(&labels.model, &usage);
                record_usage(&self.span, &usage);
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

    fn first_chunk(&mut self) {
        if !self.first_chunk_sent {
            self.first_chunk_sent = true;
            if let Some(labels) = &self.labels {
                self.metrics
                    .first_chunk(&labels.model, self.started.elapsed());
            }
        }
    }
}

impl Drop for StreamMeter {
    fn drop(&mut self) {
        self.finish(None, Some(499));
    }
}

impl Body for MeteredBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Some(meter) = this.meter.as_mut() {
            if matches!(polled, Poll::Ready(Some(_))) {
                meter.first_chunk();
            }
            // hyper stops polling once `is_end_stream` says so: finish on the last frame too.
            if matches!(polled, Poll::Ready(None)) || this.inner.is_end_stream() {
                let body = this.inner.get_ref().get_ref();
                let error = body.stream_error_status().map(|status| status.as_u16());
                meter.finish(body.stream_usage(), error);
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
