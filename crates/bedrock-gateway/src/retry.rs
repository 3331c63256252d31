//! Retries of Bedrock requests: throttling (429), server errors (500, 502, 503, 504) and
//! connection failures, with exponential backoff and full jitter, honouring `Retry-After`,
//! bounded by a number of attempts, a total time budget and a shared [`TpsBudget`] so that a
//! Bedrock outage does not multiply the load.
//!
//! The policy sits below the translator and above the signer: each attempt is signed afresh,
//! and nothing has been sent to the client yet (a stream is answered only after its first
//! event, so a started stream is never retried).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::Full;
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

    fn record<B, E>(&self, result: &Result<Response<B>, E>) {
        let Some(metrics) = &self.metrics else { return };
        match result {
            Ok(response) if response.status().is_success() => metrics.upstream_attempt("ok"),
            Ok(response) => {
                let error_type = response
                    .headers()
                    .get("x-amzn-errortype")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.split(':').next().unwrap_or(v));
                match error_type {
                    Some(code) => metrics.upstream_attempt(code),
                    None => {
                        metrics.upstream_attempt(&format!("http_{}", response.status().as_u16()))
                    }
                }
            }
            Err(_) => metrics.upstream_attempt("connection_error"),
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

/// Whether an answer is worth another attempt.
fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

impl<B, E> Policy<Request<Full<Bytes>>, Response<B>, E> for RetryPolicy
where
    E: std::fmt::Display,
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
            // Connection failures, refused or reset: the request may not have reached Bedrock.
            Err(_) => (true, None),
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
            Err(err) => err.to_string(),
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
    use tower::{ServiceBuilder, ServiceExt, service_fn};

    use super::*;

    fn fast() -> RetrySettings {
        RetrySettings {
            base_delay: Duration::from_millis(1),
            ..RetrySettings::default()
        }
    }

    async fn run(statuses: &'static [u16], settings: RetrySettings) -> (u16, u32) {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&calls);
        let service = ServiceBuilder::new()
            .layer(RetryLayer::new(RetryPolicy::new(settings)))
            .service(service_fn(move |_: Request<Full<Bytes>>| {
                let n = counter.fetch_add(1, Ordering::SeqCst) as usize;
                let status = statuses[n.min(statuses.len() - 1)];
                async move {
                    let mut response = Response::new(());
                    *response.status_mut() = StatusCode::from_u16(status).unwrap();
                    Ok::<_, std::convert::Infallible>(response)
                }
            }));
        let response = service
            .oneshot(Request::new(Full::new(Bytes::from_static(b"x"))))
            .await
            .unwrap();
        (response.status().as_u16(), calls.load(Ordering::SeqCst))
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
        let tight = RetrySettings {
            base_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(5),
            total_budget: Duration::from_millis(1),
            ..RetrySettings::default()
        };
        // Full jitter may pick 0; any positive delay is over the 1 ms budget.
        let (status, calls) = run(&[429, 200], tight).await;
        assert!(status == 429 && calls == 1 || status == 200 && calls == 2);
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
