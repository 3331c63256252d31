//! The HTTP server: the tower-http middleware around the gateway, the accept loop (HTTP/1.1
//! keep-alive and h2c on one port), the connections' limits, and graceful shutdown on
//! SIGTERM/SIGINT.
//!
//! Each connection is served under a [`ConnectionWatch`]: one with no request in flight for the
//! client timeout is shut down (any protocol, before its first request too), and a stream its
//! client stopped reading is cut after the stream idle timeout. At most `max_connections` are
//! open at once: beyond that, accepting pauses and new connections wait in the listen backlog
//! until one closes, so that connections cannot take every file descriptor (then `accept`
//! fails, and nothing, not even /health, gets in).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::{BoxError, Service};

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::stack::{self, Gateway};
use crate::watch::ConnectionWatch;

/// How long a connection shut down for idleness may take to close (HTTP/2 says goodbye, and
/// waits for the client's acknowledgement) before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The server's limits and timeouts, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Drain period at shutdown.
    pub grace: Duration,
    /// Silence allowed while a client sends its request headers (HTTP/1), and time a
    /// connection may stay open without a request in flight.
    pub client_timeout: Duration,
    /// Time a stream may wait for its client to take a frame.
    pub stream_idle_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl From<&Settings> for Limits {
    fn from(settings: &Settings) -> Self {
        Self {
            grace: settings.shutdown_grace,
            client_timeout: settings.client_timeout,
            stream_idle_timeout: settings.stream_idle_timeout,
            max_connections: settings.max_connections,
        }
    }
}

/// How often [`timer_tick`] ticks.
const TIMER_TICK: Duration = Duration::from_millis(100);

/// Keeps one timer due within [`TIMER_TICK`] at all times, so that arming a request's timers
/// never has to wake the runtime.
///
/// tokio wakes its timer driver (an eventfd write, and a parked worker woken for nothing)
/// whenever a timer is registered with a deadline earlier than the one the driver parked with,
/// or when it parked with none (`runtime/time`: `reregister` unparks when `when < next_wake`).
/// Each request arms several timers due in seconds (the client body's idle timeout, the upstream
/// timeout, the upstream body's idle timeout, hyper's header timeout), so between requests every
/// one of them did. With this tick pending, the driver's deadline is never more than 100 ms
/// away and no later deadline wakes it; the cost is ten wake-ups a second when idle.
async fn timer_tick() {
    let mut interval = tokio::time::interval(TIMER_TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        interval.tick().await;
    }
}

/// Serves `gateway` on `listener` until `shutdown` completes, then drains for `limits.grace`.
pub async fn serve(
    listener: TcpListener,
    gateway: Gateway,
    metrics: &Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()>,
    limits: Limits,
    tls: Option<TlsAcceptor>,
) {
    let service = stack::http(gateway.clone(), Arc::clone(metrics));
    let tick = tokio::spawn(timer_tick());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.client_timeout);
    let max_connections = limits.max_connections.clamp(1, u32::MAX as usize);
    let connections = Arc::new(Semaphore::new(max_connections));
    let mut acceptor = Acceptor {
        listener,
        connections: Arc::clone(&connections),
        paused: false,
    };
    let (closing, closing_rx) = watch::channel(false);
    tracing::debug!(max_connections, "accepting connections");
    tokio::pin!(shutdown);
    loop {
        let (permit, stream, peer) = tokio::select! {
            accepted = acceptor.accept() => accepted,
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = ConnectionTask {
            builder: builder.clone(),
            service: service.clone(),
            limits,
            closing: closing_rx.clone(),
            _permit: permit,
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            if let Err(err) = connection.run(stream, tls).await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
    drop(acceptor);
    gateway.start_draining();
    let _ = closing.send(true);
    tracing::info!(
        grace_secs = limits.grace.as_secs(),
        "shutting down: draining in-flight requests"
    );
    // Every connection holds a permit until it closes.
    let all_closed = connections.acquire_many(max_connections as u32);
    tokio::select! {
        _ = all_closed => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.grace) => tracing::warn!("grace period over; closing remaining connections"),
    }
    tick.abort();
}

/// Accepts connections, at most `max_connections` open at once.
#[derive(Debug)]
struct Acceptor {
    listener: TcpListener,
    /// A permit per open connection.
    connections: Arc<Semaphore>,
    /// At the limit since the last warning.
    paused: bool,
}

impl Acceptor {
    /// The next connection, once fewer than the limit are open.
    async fn accept(&mut self) -> (OwnedSemaphorePermit, TcpStream, std::net::SocketAddr) {
        let permit = match Arc::clone(&self.connections).try_acquire_owned() {
            Ok(permit) => {
                self.paused = false;
                permit
            }
            Err(_) => {
                if !std::mem::replace(&mut self.paused, true) {
                    tracing::warn!(
                        "connection limit reached: accepting paused until connections close"
                    );
                }
                Arc::clone(&self.connections)
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed")
            }
        };
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => return (permit, stream, peer),
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// One connection: served, under watch, until it closes, idles or is shut down.
struct ConnectionTask<S> {
    builder: auto::Builder<TokioExecutor>,
    service: S,
    limits: Limits,
    /// Becomes true when the server shuts down.
    closing: watch::Receiver<bool>,
    /// One of the `max_connections`, given back when the connection ends.
    _permit: OwnedSemaphorePermit,
}

impl<S, B> ConnectionTask<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    /// Serves `stream`, after a TLS handshake (within the client timeout) if `tls`.
    async fn run(self, stream: TcpStream, tls: Option<TlsAcceptor>) -> Result<(), BoxError> {
        let Some(acceptor) = tls else {
            return self.serve(TokioIo::new(stream)).await;
        };
        match tokio::time::timeout(self.limits.client_timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => self.serve(TokioIo::new(stream)).await,
            Ok(Err(err)) => Err(format!("TLS handshake failed: {err}").into()),
            Err(_) => Err("TLS handshake timed out".into()),
        }
    }

    async fn serve<I>(mut self, io: I) -> Result<(), BoxError>
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let watch = ConnectionWatch::new(self.limits.stream_idle_timeout);
        let service = TowerToHyperService::new(watch.service(self.service.clone()));
        let connection = self.builder.serve_connection_with_upgrades(io, service);
        tokio::pin!(connection);
        tokio::select! {
            result = connection.as_mut() => return result,
            // Dropping the connection closes it: its client is not reading anyway.
            () = watch.stalled() => return Ok(()),
            () = watch.idle(self.limits.client_timeout) => {}
            _ = self.closing.wait_for(|&closing| closing) => {}
        }
        connection.as_mut().graceful_shutdown();
        tokio::select! {
            result = connection.as_mut() => result,
            () = watch.stalled() => Ok(()),
            () = watch.idle(CLOSE_GRACE) => Ok(()),
        }
    }
}

/// Resolves when the process gets SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        () = terminate => {},
    }
}
