//! Retries of Bedrock requests, with exponential backoff and full jitter, honouring
//! `Retry-After`, bounded by a number of attempts, a total time budget and a shared
//! [`TpsBudget`] so that a Bedrock outage does not multiply the load.
//!
//! What is retried: throttling (429) and server errors (500, 502, 503, 504) answered by Bedrock,
//! and failures to connect (nothing was sent). Never: other answers, signing errors (missing or
//! expired credentials fail the same way again), and connections that broke after the request
//! was written (Bedrock may have run it: a second attempt could be billed twice). hyper-util's
//! pool itself resends a request that a reused connection closed before writing it.
//!
//! The policy sits below the translator and above the signer: each attempt is signed afresh,
//! and nothing has been sent to the client yet (a stream is answered only after its first
//! event, so a started stream is never retried).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bedrock_translate::error::known_error_type;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::Full;
use sigv4_layer::SigningError;
use tower::retry::Policy;
use tower::retry::budget::{Budget, TpsBudget};

use crate::metrics::Metrics;

/// Retry settings.
#[derive(Debug, Clone, Copy)]
pub struct RetrySettings {
    /// Attempts in all, the first included (1: no retry).
    pub max_attempts: u32,
    /// The first backoff's upper bound; doubled on each retry.
    pub base_delay: Duration,
    /// No backoff is longer than this.
    pub max_delay: Duration,
    /// No retry starts after this much time since the first attempt.
    pub total_budget: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            total_budget: Duration::from_secs(20),
        }
    }
}

/// The retry policy of one request (cloned per request by tower's `Retry`).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    settings: RetrySettings,
    budget: Arc<TpsBudget>,
    attempt: u32,
    started: Option<Instant>,
    metrics: Option<Arc<Metrics>>,
}

impl RetryPolicy {
    /// A policy with a shared budget: retries may add at most 20% to the request rate, beyond
    /// a floor of 10 retries per second.
    pub fn new(settings: RetrySettings) -> Self {
        Self {
            settings,
            budget: Arc::new(TpsBudget::new(Duration::from_secs(10), 10, 0.2)),
            attempt: 1,
            started: None,
            metrics: None,
        }
    }

    /// Counts every attempt's outcome in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn record<B>(&self, result: &Result<Response<B>, impl AsRef<DynError>>) {
        if let Some(metrics) = &self.metrics {
            metrics.upstream_attempt(outcome(result));
        }
    }

    /// The backoff before the next attempt: `Retry-After` when given (capped), else full jitter
    /// over `base * 2^(attempt-1)`, capped.
    fn backoff(&self, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.settings.max_delay);
        }
        let exp = self
            .settings
            .base_delay
            .saturating_mul(1 << (self.attempt - 1).min(16));
        let cap = exp.min(self.settings.max_delay);
        cap.mul_f64(fastrand::f64())
    }
}

/// The error type of the calls below the policy.
type DynError = dyn std::error::Error + Send + Sync + 'static;

/// Whether an answer is worth another attempt.
fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// Whether a call that got no answer is worth another attempt: only when it could not connect
/// (see the module docs).
fn retryable_error(err: &DynError) -> bool {
    err.downcast_ref::<hyper_util::client::legacy::Error>()
        .is_some_and(hyper_util::client::legacy::Error::is_connect)
}

/// The metrics label of an attempt's outcome: one of a fixed set.
fn outcome<B>(result: &Result<Response<B>, impl AsRef<DynError>>) -> &'static str {
    match result {
        Ok(response) if response.status().is_success() => "ok",
        Ok(response) => match response.headers().get("x-amzn-errortype") {
            Some(value) => value
                .to_str()
                .ok()
                .and_then(known_error_type)
                .unwrap_or("other"),
            None if response.status().is_server_error() => "http_5xx",
            None if response.status().is_client_error() => "http_4xx",
            None => "other",
        },
        Err(err) if err.as_ref().is::<SigningError>() => "signing_error",
        Err(_) => "connection_error",
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

impl<B, E> Policy<Request<Full<Bytes>>, Response<B>, E> for RetryPolicy
where
    E: AsRef<DynError>,
{
    type Future = Sleep;

    fn retry(
        &mut self,
        _: &mut Request<Full<Bytes>>,
        result: &mut Result<Response<B>, E>,
    ) -> Option<Self::Future> {
        let started = *self.started.get_or_insert_with(Instant::now);
        self.record(result);
        let (retry, hint) = match result {
            Ok(response) if response.status().is_success() => {
                self.budget.deposit();
                return None;
            }
            Ok(response) => (
                retryable_status(response.status()),
                retry_after(response.headers()),
            ),
            Err(err) => (retryable_error(err.as_ref()), None),
        };
        if !retry || self.attempt >= self.settings.max_attempts || !self.budget.withdraw() {
            return None;
        }
        let delay = self.backoff(hint);
        if started.elapsed() + delay > self.settings.total_budget {
            return None;
        }
        let reason = match result {
            Ok(response) => response.status().to_string(),
            Err(err) => err.as_ref().to_string(),
        };
        tracing::debug!(attempt = self.attempt, delay_ms = delay.as_millis() as u64, %reason, "retrying Bedrock request");
        self.attempt += 1;
        Some(Box::pin(tokio::time::sleep(delay)))
    }

    fn clone_request(&mut self, request: &Request<Full<Bytes>>) -> Option<Request<Full<Bytes>>> {
        self.started.get_or_insert_with(Instant::now);
        let mut clone = Request::new(request.body().clone());
        *clone.method_mut() = request.method().clone();
        *clone.uri_mut() = request.uri().clone();
        *clone.version_mut() = request.version();
        *clone.headers_mut() = request.headers().clone();
        *clone.extensions_mut() = request.extensions().clone();
        Some(clone)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tower::retry::RetryLayer;
    use tower::{BoxError, Service, ServiceBuilder, ServiceExt, service_fn};

    use super::*;

    fn fast() -> RetrySettings {
        RetrySettings {
            base_delay: Duration::from_millis(1),
            ..RetrySettings::default()
        }
    }

    /// Sends one request through the policy to `inner`; the answer's status (or the error) and
    /// the number of calls `inner` got.
    async fn through<S>(inner: S, settings: RetrySettings) -> (Result<u16, BoxError>, u32)
    where
        S: Service<Request<Full<Bytes>>, Response = Response<()>, Error = BoxError>
            + Clone
            + Send
            + 'static,
        S::Future: Send,
    {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&calls);
        let counting = service_fn(move |request| {
            counter.fetch_add(1, Ordering::SeqCst);
            inner.clone().oneshot(request)
        });
        let service = ServiceBuilder::new()
            .layer(RetryLayer::new(RetryPolicy::new(settings)))
            .service(counting);
        let result = service
            .oneshot(Request::new(Full::new(Bytes::from_static(b"x"))))
            .await
            .map(|response| response.status().as_u16());
        (result, calls.load(Ordering::SeqCst))
    }

    /// A service answering the `n`th call with `statuses[n]` (the last one repeated) and
    /// `Retry-After: retry_after` seconds when given.
    async fn run_with(
        statuses: &'static [u16],
        retry_after: Option<u64>,
        settings: RetrySettings,
    ) -> (u16, u32) {
        let next = Arc::new(AtomicU32::new(0));
        let service = service_fn(move |_: Request<Full<Bytes>>| {
            let n = next.fetch_add(1, Ordering::SeqCst) as usize;
            let status = statuses[n.min(statuses.len() - 1)];
            async move {
                let mut response = Response::new(());
                *response.status_mut() = StatusCode::from_u16(status).unwrap();
                if let Some(secs) = retry_after {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, secs.into());
                }
                Ok::<_, BoxError>(response)
            }
        });
        let (status, calls) = through(service, settings).await;
        (status.unwrap(), calls)
    }

    async fn run(statuses: &'static [u16], settings: RetrySettings) -> (u16, u32) {
        run_with(statuses, None, settings).await
    }

    #[tokio::test]
    async fn retries_throttling_then_succeeds() {
        assert_eq!(run(&[429, 200], fast()).await, (200, 2));
        assert_eq!(run(&[503, 500, 200], fast()).await, (200, 3));
    }

    #[tokio::test]
    async fn stops_after_max_attempts_and_on_client_errors() {
        assert_eq!(run(&[429, 429, 429, 200], fast()).await, (429, 3));
        assert_eq!(run(&[400, 200], fast()).await, (400, 1));
        assert_eq!(run(&[403, 200], fast()).await, (403, 1));
        let once = RetrySettings {
            max_attempts: 1,
            ..fast()
        };
        assert_eq!(run(&[429, 200], once).await, (429, 1));
    }

    #[tokio::test]
    async fn respects_the_total_budget() {
        // Retry-After makes the delay exactly 1 s: over a 100 ms budget, within a 10 s one.
        let budget = |total_budget| RetrySettings {
            max_delay: Duration::from_secs(5),
            total_budget,
            ..RetrySettings::default()
        };
        let tight = run_with(&[429, 200], Some(1), budget(Duration::from_millis(100))).await;
        assert_eq!(tight, (429, 1), "no retry starts past the total budget");
        let roomy = run_with(&[429, 200], Some(1), budget(Duration::from_secs(10))).await;
        assert_eq!(roomy, (200, 2), "the same retry within the budget");
    }

    #[tokio::test]
    async fn signing_errors_are_never_retried() {
        let unsigned = service_fn(|_: Request<Full<Bytes>>| async {
            Err::<Response<()>, BoxError>(Box::new(SigningError::MissingCredentials))
        });
        let (result, calls) = through(unsigned, fast()).await;
        assert!(result.unwrap_err().is::<SigningError>());
        assert_eq!(calls, 1);
    }

    /// A hyper-util client, as the gateway's, answering `()` instead of a body.
    fn client()
    -> impl Service<Request<Full<Bytes>>, Response = Response<()>, Error = BoxError, Future: Send>
    + Clone
    + Send
    + 'static {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Full<Bytes>>();
        service_fn(move |request| {
            let sent = client.request(request);
            async move {
                sent.await
                    .map(|response| response.map(|_| ()))
                    .map_err(BoxError::from)
            }
        })
    }

    #[tokio::test]
    async fn connect_failures_are_retried() {
        // A port nobody listens on: connection refused, nothing sent.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = free.local_addr().unwrap();
        drop(free);
        let service = client().map_request(move |mut request: Request<Full<Bytes>>| {
            *request.uri_mut() = format!("http://{addr}/model/m/converse").parse().unwrap();
            request
        });
        let (result, calls) = through(service, fast()).await;
        assert!(result.is_err());
        assert_eq!(calls, 3, "every attempt of a refused connection");
    }

    #[tokio::test]
    async fn a_request_that_reached_bedrock_is_not_sent_again() {
        use tokio::io::AsyncReadExt;
        // A server that reads the request, then resets the connection without answering.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                drop(stream);
            }
        });
        let service = client().map_request(move |mut request: Request<Full<Bytes>>| {
            *request.uri_mut() = format!("http://{addr}/model/m/converse").parse().unwrap();
            request
        });
        let (result, calls) = through(service, fast()).await;
        assert!(result.is_err());
        assert_eq!(
            calls, 1,
            "a written request may have been run: not sent again"
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn outcomes_are_a_fixed_set() {
        let answer = |status: u16, error_type: Option<&'static str>| {
            let mut response = Response::new(());
            *response.status_mut() = StatusCode::from_u16(status).unwrap();
            if let Some(value) = error_type {
                response
                    .headers_mut()
                    .insert("x-amzn-errortype", http::HeaderValue::from_static(value));
            }
            Ok::<_, BoxError>(response)
        };
        assert_eq!(outcome(&answer(200, None)), "ok");
        assert_eq!(
            outcome(&answer(
                429,
                Some("ThrottlingException:http://internal.amazon.com/x")
            )),
            "ThrottlingException"
        );
        assert_eq!(outcome(&answer(400, Some("Invented1Exception"))), "other");
        assert_eq!(outcome(&answer(502, None)), "http_5xx");
        assert_eq!(outcome(&answer(404, None)), "http_4xx");
        let unsigned: Result<Response<()>, BoxError> =
            Err(Box::new(SigningError::MissingCredentials));
        assert_eq!(outcome(&unsigned), "signing_error");
        let other: Result<Response<()>, BoxError> = Err("reset".into());
        assert_eq!(outcome(&other), "connection_error");
    }

    #[test]
    fn backoff_is_capped_and_honours_retry_after() {
        let policy = RetryPolicy {
            attempt: 10,
            ..RetryPolicy::new(RetrySettings::default())
        };
        for _ in 0..100 {
            assert!(policy.backoff(None) <= Duration::from_secs(2));
        }
        assert_eq!(
            policy.backoff(Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(
            policy.backoff(Some(Duration::from_secs(60))),
            Duration::from_secs(2)
        );
    }
}
