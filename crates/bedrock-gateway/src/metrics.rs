//! Prometheus metrics, served at `GET /metrics` (OpenMetrics text format).
//!
//! | metric | labels |
//! | --- | --- |
//! | `bedrock_gateway_requests_total` | `route`, `model`, `status` |
//! | `bedrock_gateway_request_duration_seconds` (histogram, to the last byte for streams) | `route` |
//! | `bedrock_gateway_time_to_first_chunk_seconds` (histogram, streams) | `model` |
//! | `bedrock_gateway_upstream_attempts_total` | `outcome` (`ok`, a known Bedrock error type, `other`, `http_4xx`, `http_5xx`, `connection_error`, `signing_error`) |
//! | `bedrock_gateway_tokens_total` | `model`, `direction` (`input` uncached, `cache_read`, `cache_write`, `output`) |
//! | `bedrock_gateway_in_flight_requests`, `bedrock_gateway_in_flight_streams` | |
//! | `bedrock_gateway_response_store_errors_total` (stored responses: the store failed or refused) | `operation` (`read`, `write`, `delete`) |
//!
//! Label values never come unchecked from clients: a `model` is a catalogue model or a Claude
//! model of Anthropic's name table (an inference profile counts as its foundation model) or a
//! configured alias (else `other`), an upstream outcome is one of a fixed set (a Bedrock error
//! type outside [`BEDROCK_ERROR_TYPES`] is `other`), so neither a hostile client nor a hostile
//! upstream can grow the number of series, and no secret can become a label.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bedrock_translate::anthropic_models::ANTHROPIC_MODELS;
use bedrock_translate::catalog::KNOWN_MODELS;
#[cfg(doc)]
use bedrock_translate::error::BEDROCK_ERROR_TYPES;
use bedrock_translate::model_id::ModelId;
use openai_types::chat::Usage;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// `route`, `model`, `status`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route, e.g. `/v1/chat/completions`.
    pub route: &'static str,
    /// The model (bounded, see the module docs).
    pub model: String,
    /// HTTP status code.
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    operation: &'static str,
}

/// An operation on the response store (its metrics label).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum StoreOperation {
    /// Loading a stored response: `read`.
    Read,
    /// Keeping a response: `write`.
    Write,
    /// Deleting a stored response: `delete`.
    Delete,
}

impl StoreOperation {
    fn label(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Delete => "delete",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    model: String,
    direction: &'static str,
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The gateway's metrics.
pub struct Metrics {
    registry: Registry,
    known_models: HashSet<String>,
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    first_chunk: Family<ModelLabels, Histogram, fn() -> Histogram>,
    upstream: Family<OutcomeLabels, Counter>,
    tokens: Family<TokenLabels, Counter>,
    in_flight: Gauge,
    streams: Gauge,
    store_errors: Family<StoreLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Registers every metric; `aliases` are the configured model aliases (valid label values).
    pub fn new<'a>(aliases: impl IntoIterator<Item = &'a String>) -> Arc<Self> {
        let mut registry = Registry::with_prefix("bedrock_gateway");
        let requests = Family::default();
        let duration = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let first_chunk = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let upstream = Family::default();
        let tokens = Family::default();
        let in_flight = Gauge::default();
        let streams = Gauge::default();
        let store_errors = Family::default();
        registry.register(
            "requests",
            "Requests answered, by route, model and status",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to the last byte of the answer",
            duration.clone(),
        );
        registry.register(
            "time_to_first_chunk_seconds",
            "Time to the first chunk of a streamed answer",
            first_chunk.clone(),
        );
        registry.register(
            "upstream_attempts",
            "Requests sent to Bedrock, by outcome",
            upstream.clone(),
        );
        registry.register("tokens", "Tokens, by model and direction", tokens.clone());
        registry.register(
            "in_flight_requests",
            "Requests being answered",
            in_flight.clone(),
        );
        registry.register("in_flight_streams", "Streams being sent", streams.clone());
        registry.register(
            "response_store_errors",
            "Failed operations of the response store, by operation",
            store_errors.clone(),
        );
        let known_models = KNOWN_MODELS
            .iter()
            .map(|m| m.id.to_owned())
            .chain(ANTHROPIC_MODELS.iter().map(|m| m.bedrock_id.to_owned()))
            .chain(aliases.into_iter().cloned())
            .collect();
        Arc::new(Self {
            registry,
            known_models,
            requests,
            duration,
            first_chunk,
            upstream,
            tokens,
            in_flight,
            streams,
            store_errors,
        })
    }

    /// An operation of the response store failed.
    pub fn store_error(&self, operation: StoreOperation) {
        self.store_errors
            .get_or_create(&StoreLabels {
                operation: operation.label(),
            })
            .inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }

    /// A bounded label value for a model id: a catalogue model or alias as it is; an
    /// inference profile of a catalogue model (`us.anthropic.…`, an ARN naming one) as its
    /// foundation model; anything else `other`.
    pub fn model_label(&self, model: Option<&str>) -> String {
        let Some(id) = model else {
            return "none".to_owned();
        };
        if self.known_models.contains(id) {
            return id.to_owned();
        }
        match ModelId::parse(id).map(|m| m.foundation_model().to_string()) {
            Ok(foundation) if self.known_models.contains(&foundation) => foundation,
            _ => "other".to_owned(),
        }
    }

    /// A request starts: counted in flight until the returned guard drops.
    pub fn start_request(self: &Arc<Self>) -> InFlight {
        self.in_flight.inc();
        InFlight {
            metrics: Arc::clone(self),
            stream: false,
        }
    }

    /// A request has been answered (streams: the last byte sent).
    pub fn finish_request(&self, labels: RequestLabels, elapsed: Duration) {
        self.duration
            .get_or_create(&RouteLabels {
                route: labels.route,
            })
            .observe(elapsed.as_secs_f64());
        self.requests.get_or_create(&labels).inc();
    }

    /// The first chunk of a stream is out.
    pub fn first_chunk(&self, model: &str, elapsed: Duration) {
        self.first_chunk
            .get_or_create(&ModelLabels {
                model: model.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Tokens of an answer.
    pub fn tokens(&self, model: &str, usage: &Usage) {
        let labels = |direction| TokenLabels {
            model: model.to_owned(),
            direction,
        };
        // Input split three ways: uncached, read from the prompt cache, written to it.
        let details = usage.prompt_tokens_details;
        let uncached = usage
            .prompt_tokens
            .saturating_sub(details.cached_tokens)
            .saturating_sub(details.cache_write_tokens);
        self.tokens.get_or_create(&labels("input")).inc_by(uncached);
        self.tokens
            .get_or_create(&labels("cache_read"))
            .inc_by(details.cached_tokens);
        self.tokens
            .get_or_create(&labels("cache_write"))
            .inc_by(details.cache_write_tokens);
        self.tokens
            .get_or_create(&labels("output"))
            .inc_by(usage.completion_tokens);
    }

    /// One attempt at Bedrock, by outcome: `ok`, a Bedrock error type of
    /// [`BEDROCK_ERROR_TYPES`], `other` (any other error type), `http_4xx` or `http_5xx` (an
    /// error answer without a type), `connection_error`, `signing_error`. Static strings only,
    /// so that no value from the wire can become a label.
    pub fn upstream_attempt(&self, outcome: &'static str) {
        self.upstream
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }
}

/// Counts a request (and, once marked, a stream) in flight until dropped.
#[derive(Debug)]
pub struct InFlight {
    metrics: Arc<Metrics>,
    stream: bool,
}

impl InFlight {
    /// The answer is a stream: also counted in flight as one until the guard drops.
    pub fn mark_stream(&mut self) {
        if !self.stream {
            self.stream = true;
            self.metrics.streams.inc();
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.metrics.in_flight.dec();
        if self.stream {
            self.metrics.streams.dec();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_every_metric_with_bounded_labels() {
        let alias = "gpt-4o".to_owned();
        let metrics = Metrics::new([&alias]);
        {
            let mut guard = metrics.start_request();
            guard.mark_stream();
            assert!(
                metrics
                    .encode()
                    .contains("bedrock_gateway_in_flight_streams 1")
            );
        }
        let model = metrics.model_label(Some("acme.attacker-chosen-{label}"));
        assert_eq!(model, "other");
        assert_eq!(
            metrics.model_label(Some("us.anthropic.claude-3-haiku-20240307-v1:0")),
            "anthropic.claude-3-haiku-20240307-v1:0",
            "a profile counts as its foundation model"
        );
        assert_eq!(
            metrics.model_label(Some("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")),
            "anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        metrics.finish_request(
            RequestLabels {
                route: "/v1/chat/completions",
                model,
                status: 200,
            },
            Duration::from_millis(5),
        );
        metrics.first_chunk(
            &metrics.model_label(Some("gpt-4o")),
            Duration::from_millis(2),
        );
        metrics.tokens(
            "gpt-4o",
            &Usage {
                prompt_tokens: 10,
                completion_tokens: 4,
                prompt_tokens_details: openai_types::chat::PromptTokensDetails {
                    cached_tokens: 5,
                    cache_write_tokens: 2,
                },
                ..Usage::default()
            },
        );
        metrics.upstream_attempt("ThrottlingException");
        metrics.upstream_attempt("other");
        let text = metrics.encode();
        for needle in [
            r#"bedrock_gateway_requests_total{route="/v1/chat/completions",model="other",status="200"} 1"#,
            r#"bedrock_gateway_tokens_total{model="gpt-4o",direction="output"} 4"#,
            r#"bedrock_gateway_tokens_total{model="gpt-4o",direction="input"} 3"#,
            r#"bedrock_gateway_tokens_total{model="gpt-4o",direction="cache_read"} 5"#,
            r#"bedrock_gateway_tokens_total{model="gpt-4o",direction="cache_write"} 2"#,
            r#"bedrock_gateway_upstream_attempts_total{outcome="ThrottlingException"} 1"#,
            r#"bedrock_gateway_upstream_attempts_total{outcome="other"} 1"#,
            "bedrock_gateway_request_duration_seconds_bucket",
            "bedrock_gateway_time_to_first_chunk_seconds_count{model=\"gpt-4o\"} 1",
            "bedrock_gateway_in_flight_requests 0",
            "bedrock_gateway_in_flight_streams 0",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }
}
