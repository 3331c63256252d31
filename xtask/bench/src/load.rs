//! The load generator: a fixed number of HTTP/1.1 keep-alive connections, each sending one
//! request after another, either as fast as answers come (closed loop) or at a fixed rate.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One JSON `POST`, sent again and again; the URI and `host` are parsed once, not per request.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    /// Where to connect.
    pub(crate) addr: SocketAddr,
    uri: http::Uri,
    host: http::HeaderValue,
    body: Bytes,
}

impl Template {
    /// A `POST` of the JSON `body` to `path` (with its query) on `addr`.
    pub(crate) fn json_post(addr: SocketAddr, path: &str, body: Bytes) -> Result<Self> {
        Ok(Self {
            addr,
            uri: path.parse().with_context(|| format!("bench path {path}"))?,
            host: http::HeaderValue::from_str(&addr.to_string())?,
            body,
        })
    }

    fn request(&self) -> http::Request<Full<Bytes>> {
        let mut request = http::Request::new(Full::new(self.body.clone()));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(http::header::HOST, self.host.clone());
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        request
    }
}

/// How requests are paced.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pace {
    /// Each connection sends its next request as soon as the answer is complete.
    ClosedLoop,
    /// All connections together send this many requests per second, evenly spread.
    Rate(f64),
}

/// How long and how hard to drive a template.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    /// Connections, each with one request in flight at most.
    pub(crate) connections: usize,
    /// Pacing.
    pub(crate) pace: Pace,
    /// Unrecorded time first (connections open, caches and pools warm).
    pub(crate) warm_up: Duration,
    /// Recorded time.
    pub(crate) duration: Duration,
}

/// What one run measured: answers that completed while recording.
#[derive(Debug)]
pub(crate) struct Measured {
    /// Complete 2xx answers.
    pub(crate) ok: u64,
    /// Non-2xx answers and failed requests.
    pub(crate) errors: u64,
    /// Request start to last body byte, in microseconds.
    pub(crate) total: Histogram<u64>,
    /// Request start to first body byte, in microseconds.
    pub(crate) first_byte: Histogram<u64>,
    /// Response body bytes received.
    pub(crate) bytes: u64,
    /// Requests of the fixed-rate pace that started over one period late (load generator behind).
    pub(crate) late_starts: u64,
}

impl Measured {
    fn new() -> Self {
        Self {
            ok: 0,
            errors: 0,
            total: histogram(),
            first_byte: histogram(),
            bytes: 0,
            late_starts: 0,
        }
    }

    fn merge(&mut self, other: &Self) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.bytes += other.bytes;
        self.late_starts += other.late_starts;
        self.total.add(&other.total).expect("same bounds");
        self.first_byte.add(&other.first_byte).expect("same bounds");
    }
}

/// Latencies from 1 µs to 100 s at 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("valid histogram bounds")
}

const WARMING: u8 = 0;
const RECORDING: u8 = 1;
const STOPPED: u8 = 2;

/// Runs `load` against `template`; `on_recording` is called when recording starts and
/// `on_stopped` when it ends (to sample CPU times at exactly those moments).
pub(crate) async fn run(
    template: &Template,
    load: Load,
    mut on_recording: impl FnMut(),
    mut on_stopped: impl FnMut(),
) -> Result<(Measured, Duration)> {
    let phase = Arc::new(AtomicU8::new(WARMING));
    let template = Arc::new(template.clone());
    let mut workers = Vec::with_capacity(load.connections);
    let start = tokio::time::Instant::now();
    for index in 0..load.connections {
        let sender = connect(template.addr).await?;
        let offset = match load.pace {
            Pace::ClosedLoop => Duration::ZERO,
            Pace::Rate(rate) => Duration::from_secs_f64(index as f64 / rate),
        };
        let worker = Worker {
            template: Arc::clone(&template),
            phase: Arc::clone(&phase),
            pace: load.pace,
            connections: load.connections,
        };
        workers.push(tokio::spawn(worker.run(sender, start + offset)));
    }
    tokio::time::sleep_until(start + load.warm_up).await;
    on_recording();
    let recording = Instant::now();
    phase.store(RECORDING, Ordering::Release);
    tokio::time::sleep(load.duration).await;
    phase.store(STOPPED, Ordering::Release);
    let elapsed = recording.elapsed();
    on_stopped();
    let mut measured = Measured::new();
    for worker in workers {
        measured.merge(&worker.await.context("a load worker panicked")?);
    }
    Ok((measured, elapsed))
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

struct Worker {
    template: Arc<Template>,
    phase: Arc<AtomicU8>,
    pace: Pace,
    connections: usize,
}

impl Worker {
    async fn run(
        self,
        mut sender: SendRequest<Full<Bytes>>,
        first: tokio::time::Instant,
    ) -> Measured {
        let mut measured = Measured::new();
        let period = match self.pace {
            Pace::ClosedLoop => Duration::ZERO,
            Pace::Rate(rate) => Duration::from_secs_f64(self.connections as f64 / rate),
        };
        let mut next = first;
        loop {
            if !period.is_zero() {
                tokio::time::sleep_until(next).await;
                if next.elapsed() > period {
                    measured.late_starts += 1;
                }
                next += period;
            }
            if self.phase.load(Ordering::Acquire) == STOPPED {
                return measured;
            }
            let start = Instant::now();
            let outcome = exchange(&mut sender, &self.template).await;
            let failed = outcome.is_err();
            if self.phase.load(Ordering::Acquire) == RECORDING {
                match outcome {
                    Ok(answer) if answer.ok => {
                        measured.ok += 1;
                        measured.bytes += answer.bytes;
                        record(&mut measured.total, answer.end - start);
                        record(
                            &mut measured.first_byte,
                            answer.first_byte.unwrap_or(answer.end) - start,
                        );
                    }
                    Ok(_) | Err(_) => measured.errors += 1,
                }
            }
            if failed {
                // The connection is broken: a new one, or the end of this worker.
                sender = match connect(self.template.addr).await {
                    Ok(sender) => sender,
                    Err(_) => return measured,
                };
            }
        }
    }
}

fn record(histogram: &mut Histogram<u64>, latency: Duration) {
    let micros = u64::try_from(latency.as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    histogram.saturating_record(micros);
}

/// One answer, read to its end.
#[derive(Debug)]
pub(crate) struct Answer {
    /// 2xx status.
    pub(crate) ok: bool,
    /// When the first body byte arrived.
    pub(crate) first_byte: Option<Instant>,
    /// When the body ended.
    pub(crate) end: Instant,
    /// Body bytes.
    pub(crate) bytes: u64,
}

async fn exchange(sender: &mut SendRequest<Full<Bytes>>, template: &Template) -> Result<Answer> {
    sender.ready().await?;
    let response = sender.send_request(template.request()).await?;
    let ok = response.status().is_success();
    let mut body = response.into_body();
    let mut first_byte = None;
    let mut bytes = 0;
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame?.data_ref() {
            if first_byte.is_none() && !data.is_empty() {
                first_byte = Some(Instant::now());
            }
            bytes += data.len() as u64;
        }
    }
    Ok(Answer {
        ok,
        first_byte,
        end: Instant::now(),
        bytes,
    })
}

/// Opens `count` connections and has each send `template` once, all at the same time; calls
/// `when_all_streaming` once every answer has started (all streams open at once), and returns
/// how many answers completed with 2xx.
pub(crate) async fn simultaneous(
    template: &Template,
    count: usize,
    when_all_streaming: impl FnOnce() -> Result<()>,
) -> Result<usize> {
    let mut senders = Vec::with_capacity(count);
    for _ in 0..count {
        senders.push(connect(template.addr).await?);
    }
    let started = Arc::new(AtomicUsize::new(0));
    let all_started = Arc::new(tokio::sync::Notify::new());
    let mut tasks = Vec::with_capacity(count);
    for mut sender in senders {
        let template = template.clone();
        let started = Arc::clone(&started);
        let all_started = Arc::clone(&all_started);
        tasks.push(tokio::spawn(async move {
            sender.ready().await?;
            let response = sender.send_request(template.request()).await?;
            let ok = response.status().is_success();
            let mut body = response.into_body();
            let mut counted = false;
            while let Some(frame) = body.frame().await {
                frame?;
                if !counted {
                    counted = true;
                    if started.fetch_add(1, Ordering::AcqRel) + 1 == count {
                        all_started.notify_one();
                    }
                }
            }
            anyhow::Ok(ok)
        }));
    }
    tokio::time::timeout(Duration::from_secs(30), all_started.notified())
        .await
        .with_context(|| {
            format!(
                "only {} of {count} streams started within 30 s",
                started.load(Ordering::Acquire)
            )
        })?;
    when_all_streaming()?;
    let mut completed = 0;
    for task in tasks {
        if task
            .await
            .context("a stream task panicked")?
            .unwrap_or(false)
        {
            completed += 1;
        }
    }
    Ok(completed)
}
