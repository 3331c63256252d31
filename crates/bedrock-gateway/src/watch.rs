//! The connection watch: what a connection's task needs to know of its requests to close the
//! connection when it idles, and to cut a stream that its client stopped reading. hyper has
//! neither: no write timeout for either protocol, and no idle timeout for HTTP/2 or for a
//! connection whose protocol is not known yet.
//!
//! - **Idle connections** ([`ConnectionWatch::idle`]): a connection with no request in flight
//!   for the client timeout is shut down by the server. hyper's HTTP/1 header timeout covers a
//!   keep-alive connection between requests, but not one that has not sent the bytes that tell
//!   its protocol, and HTTP/2 has nothing of the kind: a connection that sent only its preface
//!   and SETTINGS stayed open for ever.
//! - **Stalled streams** ([`WatchedBody`]): a streamed response whose client has not taken a
//!   frame for the stream idle timeout is cut. Its body is dropped, which cancels the upstream
//!   stream, frees the concurrency permit and meters the request as 499 (client gone); an
//!   HTTP/1 connection is then closed ([`ConnectionWatch::stalled`]), since its socket is
//!   blocked on that client anyway, and an HTTP/2 stream is reset when hyper next polls it.
//!   hyper polls a response body only while the client has room for more, so no timer inside
//!   that poll (like the upstream idle timeout) sees a client that stopped reading: a task per
//!   stream watches the time since hyper last took a frame.
//!
//! Complete answers (a body whose size is known) are written by hyper at once and need no
//! watch; they count as in flight until hyper drops them.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http::{Request, Response, Version};
use http_body::{Body, Frame, SizeHint};
use tokio::sync::Notify;
use tokio::time::Instant;
use tower::{BoxError, Service};

/// `waiting_since` of a stream that hyper has not been handed a frame of since its last poll.
const NOT_WAITING: u64 = u64::MAX;

/// One connection's requests, as its task sees them.
#[derive(Debug)]
pub struct ConnectionWatch {
    /// Times are kept as milliseconds since this instant, in atomics.
    epoch: Instant,
    /// How long a stream may wait for its client to take a frame.
    stream_idle: Duration,
    /// Requests from their call to the drop (or cut) of their response body.
    in_flight: AtomicUsize,
    /// When a request last ended.
    last_change: AtomicU64,
    /// A stream of an HTTP/1 request was cut: the connection is to be closed.
    stalled: Notify,
}

impl ConnectionWatch {
    /// The watch of a new connection, whose streams may wait `stream_idle` for their client.
    pub fn new(stream_idle: Duration) -> Arc<Self> {
        Arc::new(Self {
            epoch: Instant::now(),
            stream_idle,
            in_flight: AtomicUsize::new(0),
            last_change: AtomicU64::new(0),
            stalled: Notify::new(),
        })
    }

    /// `inner`, serving this connection under watch.
    pub fn service<S>(self: &Arc<Self>, inner: S) -> Watched<S> {
        Watched {
            inner,
            watch: Arc::clone(self),
        }
    }

    /// Resolves once no request has been in flight for `timeout`, counted from this call at
    /// the earliest.
    pub async fn idle(&self, timeout: Duration) {
        let called = self.now();
        loop {
            let wake = if self.in_flight.load(Ordering::SeqCst) == 0 {
                let last = self.last_change.load(Ordering::SeqCst);
                let at = self.at(last.max(called)) + timeout;
                // A request may have started since the first look, and even ended (an end
                // notes its time before it leaves `in_flight`).
                if at <= Instant::now()
                    && self.in_flight.load(Ordering::SeqCst) == 0
                    && self.last_change.load(Ordering::SeqCst) == last
                {
                    return;
                }
                at
            } else {
                Instant::now() + timeout
            };
            tokio::time::sleep_until(wake).await;
        }
    }

    /// Resolves when a stream of an HTTP/1 request on this connection was cut because its
    /// client took nothing for the stream idle timeout.
    pub async fn stalled(&self) {
        self.stalled.notified().await;
    }

    /// The requests in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(NOT_WAITING - 1)
    }

    fn at(&self, millis: u64) -> Instant {
        self.epoch + Duration::from_millis(millis)
    }

    fn touch(&self) {
        self.last_change.store(self.now(), Ordering::SeqCst);
    }
}

/// A request in flight on its connection, until dropped.
#[derive(Debug)]
struct InFlight(Arc<ConnectionWatch>);

impl InFlight {
    fn new(watch: Arc<ConnectionWatch>) -> Self {
        // No need to note the time: an idle connection is one with none in flight.
        watch.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(watch)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A connection's service under watch: see [`ConnectionWatch::service`].
#[derive(Debug, Clone)]
pub struct Watched<S> {
    inner: S,
    watch: Arc<ConnectionWatch>,
}

impl<S, R, B> Service<Request<R>> for Watched<S>
where
    S: Service<Request<R>, Response = Response<B>>,
    B: Body + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<WatchedBody<B>>;
    type Error = S::Error;
    type Future = WatchedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<R>) -> Self::Future {
        let closes_connection = request.version() < Version::HTTP_2;
        WatchedFuture {
            in_flight: Some(InFlight::new(Arc::clone(&self.watch))),
            inner: self.inner.call(request),
            closes_connection,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Watched`].
    #[derive(Debug)]
    pub struct WatchedFuture<F> {
        #[pin]
        inner: F,
        in_flight: Option<InFlight>,
        closes_connection: bool,
    }
}

impl<F, B, E> Future for WatchedFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<WatchedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let in_flight = this.in_flight.take().expect("polled after completion");
        let closes_connection = *this.closes_connection;
        Poll::Ready(Ok(
            response.map(|body| WatchedBody::new(body, in_flight, closes_connection))
        ))
    }
}

/// A response body under watch: a stream is cut when its client takes nothing for the stream
/// idle timeout.
#[derive(Debug)]
pub struct WatchedBody<B> {
    kind: Kind<B>,
}

#[derive(Debug)]
enum Kind<B> {
    /// A complete answer: hyper writes it at once.
    Whole { body: B, _in_flight: InFlight },
    /// A stream, shared with its watchdog task.
    Stream(Arc<Stream<B>>),
}

/// A stream and what its watchdog needs to know.
#[derive(Debug)]
struct Stream<B> {
    /// `None` once cut (or ended by hyper dropping it).
    live: Mutex<Option<Live<B>>>,
    /// When hyper was last handed a frame without polling again since, or [`NOT_WAITING`]
    /// (written with `live` locked).
    waiting_since: AtomicU64,
    /// hyper dropped the body: the watchdog can stop.
    ended: Notify,
    /// Cutting the stream closes the connection (HTTP/1).
    closes_connection: bool,
    watch: Arc<ConnectionWatch>,
}

/// What cutting a stream drops.
#[derive(Debug)]
struct Live<B> {
    body: B,
    _in_flight: InFlight,
}

/// The client took nothing of a stream for the stream idle timeout.
#[derive(Debug, thiserror::Error)]
#[error("the client took nothing of the stream for the stream idle timeout")]
pub struct ClientStalled;

impl<B> WatchedBody<B>
where
    B: Body + Unpin + Send + 'static,
{
    fn new(body: B, in_flight: InFlight, closes_connection: bool) -> Self {
        if body.size_hint().exact().is_some() {
            return Self {
                kind: Kind::Whole {
                    body,
                    _in_flight: in_flight,
                },
            };
        }
        let watch = Arc::clone(&in_flight.0);
        let stream = Arc::new(Stream {
            live: Mutex::new(Some(Live {
                body,
                _in_flight: in_flight,
            })),
            waiting_since: AtomicU64::new(NOT_WAITING),
            ended: Notify::new(),
            closes_connection,
            watch,
        });
        tokio::spawn(watchdog(Arc::clone(&stream)));
        Self {
            kind: Kind::Stream(stream),
        }
    }
}

impl<B> Stream<B> {
    fn lock(&self) -> MutexGuard<'_, Option<Live<B>>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Cuts the stream if hyper has not come back for a frame for the stream idle timeout;
    /// whether the watch is over (cut, or ended).
    fn cut_if_stalled(&self) -> bool {
        let mut live = self.lock();
        if live.is_none() {
            return true;
        }
        let since = self.waiting_since.load(Ordering::Relaxed);
        if since == NOT_WAITING || self.watch.at(since) + self.watch.stream_idle > Instant::now() {
            return false;
        }
        let cut = live.take();
        drop(live);
        drop(cut);
        tracing::info!(
            idle_secs = self.watch.stream_idle.as_secs(),
            "the client took nothing of a stream for the stream idle timeout: stream cut"
        );
        if self.closes_connection {
            self.watch.stalled.notify_one();
        }
        true
    }
}

/// Watches one stream until it ends or is cut.
async fn watchdog<B>(stream: Arc<Stream<B>>) {
    loop {
        let since = stream.waiting_since.load(Ordering::Relaxed);
        let wake = if since == NOT_WAITING {
            Instant::now() + stream.watch.stream_idle
        } else {
            stream.watch.at(since) + stream.watch.stream_idle
        };
        tokio::select! {
            () = stream.ended.notified() => return,
            () = tokio::time::sleep_until(wake) => {}
        }
        if stream.cut_if_stalled() {
            return;
        }
    }
}

impl<B> Drop for WatchedBody<B> {
    fn drop(&mut self) {
        if let Kind::Stream(stream) = &self.kind {
            let ended = stream.lock().take();
            drop(ended);
            stream.ended.notify_one();
        }
    }
}

impl<B> Body for WatchedBody<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let polled = match &mut self.get_mut().kind {
            Kind::Whole { body, .. } => Pin::new(body).poll_frame(cx),
            Kind::Stream(stream) => {
                let mut live = stream.lock();
                let Some(live) = live.as_mut() else {
                    return Poll::Ready(Some(Err(Box::new(ClientStalled))));
                };
                stream.waiting_since.store(NOT_WAITING, Ordering::Relaxed);
                let polled = Pin::new(&mut live.body).poll_frame(cx);
                if matches!(polled, Poll::Ready(Some(Ok(_)))) {
                    let now = stream.watch.now();
                    stream.waiting_since.store(now, Ordering::Relaxed);
                }
                polled
            }
        };
        polled.map(|frame| frame.map(|result| result.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Whole { body, .. } => body.is_end_stream(),
            // A cut stream is not over: hyper polls it and gets the error (an HTTP/2 reset).
            Kind::Stream(stream) => stream
                .lock()
                .as_ref()
                .is_some_and(|l| l.body.is_end_stream()),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Whole { body, .. } => body.size_hint(),
            Kind::Stream(stream) => stream
                .lock()
                .as_ref()
                .map_or_else(SizeHint::default, |l| l.body.size_hint()),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full, StreamBody};
    use tower::{ServiceExt, service_fn};

    use super::*;

    /// An endless stream of one-byte frames.
    fn endless() -> StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, BoxError>>> {
        StreamBody::new(futures_util::stream::repeat_with(|| {
            Ok(Frame::data(Bytes::from_static(b"x")))
        }))
    }

    async fn respond<B>(watch: &Arc<ConnectionWatch>, body: B) -> WatchedBody<B>
    where
        B: Body + Unpin + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut body = Some(body);
        let service = watch.service(service_fn(move |_: Request<()>| {
            let body = body.take().expect("called once");
            std::future::ready(Ok::<_, BoxError>(Response::new(body)))
        }));
        service.oneshot(Request::new(())).await.unwrap().into_body()
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_whose_client_takes_nothing_is_cut_after_the_idle_timeout() {
        let watch = ConnectionWatch::new(Duration::from_secs(10));
        let mut body = respond(&watch, Box::pin(endless())).await;
        assert_eq!(watch.in_flight(), 1);
        // A client that reads for a while keeps its stream.
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(8)).await;
            body.frame().await.unwrap().unwrap();
        }
        assert_eq!(watch.in_flight(), 1);
        // Then it stops reading.
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert_eq!(watch.in_flight(), 0, "cut");
        tokio::time::timeout(Duration::from_secs(1), watch.stalled())
            .await
            .expect("an HTTP/1 connection is told to close");
        let err = body.frame().await.unwrap().unwrap_err();
        assert!(err.is::<ClientStalled>(), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_is_idle_only_without_requests_in_flight() {
        let watch = ConnectionWatch::new(Duration::from_secs(60));
        let started = Instant::now();
        watch.idle(Duration::from_secs(5)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        let body = respond(&watch, Full::new(Bytes::from_static(b"x"))).await;
        let idle = watch.idle(Duration::from_secs(5));
        tokio::pin!(idle);
        assert!(
            tokio::time::timeout(Duration::from_secs(30), idle.as_mut())
                .await
                .is_err(),
            "a response in flight"
        );
        drop(body);
        let dropped = Instant::now();
        idle.await;
        assert_eq!(dropped.elapsed(), Duration::from_secs(5));
    }
}
