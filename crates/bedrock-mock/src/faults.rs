//! Faults on demand: queued through `POST /__mock/faults` for the next requests, or given per
//! request by a directive such as `[mock:error=ThrottlingException]` in the last user text of a
//! Converse body (anywhere in the body of other operations).

use serde_json::Value;

/// What to do wrong; every field optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fault {
    /// Answer this Bedrock error (e.g. `ThrottlingException`).
    pub error: Option<String>,
    /// Its HTTP status (default: Bedrock's for that error).
    pub status: Option<u16>,
    /// Its message.
    pub message: Option<String>,
    /// A `Retry-After` header, in seconds.
    pub retry_after: Option<u64>,
    /// Wait before answering.
    pub delay_ms: Option<u64>,
    /// Close the connection without answering.
    pub drop_connection: bool,
    /// Streams: send this exception frame (e.g. `throttlingException`) ...
    pub stream_exception: Option<String>,
    /// ... after this many events.
    pub after_events: usize,
    /// Streams: cut the connection after this many events.
    pub stream_cut_after_events: Option<usize>,
    /// Streams: wait this long between events.
    pub stream_event_delay_ms: Option<u64>,
    /// Streams: answer with exactly this many text events.
    pub stream_events: Option<usize>,
    /// Complete answers: this many bytes of JSON whitespace after the answer (still valid
    /// JSON, and as large as asked).
    pub pad_answer: Option<usize>,
    /// Complete answers: announce the whole answer's `Content-Length`, send half of it, and
    /// close the connection.
    pub truncate_body: bool,
}

/// The exception types a ConverseStream can carry (botocore's `ConverseStreamOutput`).
pub const STREAM_EXCEPTIONS: &[&str] = &[
    "internalServerException",
    "modelStreamErrorException",
    "validationException",
    "throttlingException",
    "serviceUnavailableException",
];

/// Bedrock's status for an error code.
pub fn status_of(error: &str) -> u16 {
    match error {
        "ThrottlingException" | "ModelNotReadyException" => 429,
        "AccessDeniedException" => 403,
        "ResourceNotFoundException" => 404,
        "ModelTimeoutException" => 408,
        "ModelErrorException" | "ModelStreamErrorException" => 424,
        "InternalServerException" => 500,
        "ServiceUnavailableException" => 503,
        _ => 400,
    }
}

impl Fault {
    /// From the control endpoint's JSON; returns the fault and how many requests it applies to.
    pub fn from_json(value: &Value) -> Result<(Self, u32), String> {
        let object = value.as_object().ok_or("a fault is a JSON object")?;
        let known = [
            "error",
            "status",
            "message",
            "retry_after",
            "delay_ms",
            "drop_connection",
            "stream_exception",
            "after_events",
            "stream_cut_after_events",
            "stream_event_delay_ms",
            "stream_events",
            "pad_answer",
            "truncate_body",
            "count",
        ];
        if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!("unknown fault field '{unknown}'"));
        }
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
        let number = |k: &str| value.get(k).and_then(Value::as_u64);
        let fault = Self {
            error: text("error"),
            status: number("status").and_then(|s| u16::try_from(s).ok()),
            message: text("message"),
            retry_after: number("retry_after"),
            delay_ms: number("delay_ms"),
            drop_connection: value
                .get("drop_connection")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            stream_exception: text("stream_exception"),
            after_events: number("after_events").unwrap_or(0) as usize,
            stream_cut_after_events: number("stream_cut_after_events").map(|n| n as usize),
            stream_event_delay_ms: number("stream_event_delay_ms"),
            stream_events: number("stream_events").map(|n| n as usize),
            pad_answer: number("pad_answer").map(|n| n as usize),
            truncate_body: value
                .get("truncate_body")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
        fault.check()?;
        let count = number("count").unwrap_or(1);
        Ok((fault, u32::try_from(count).unwrap_or(u32::MAX)))
    }

    /// Rejects what the mock cannot do: unknown stream exception types, statuses outside 4xx/5xx.
    fn check(&self) -> Result<(), String> {
        if let Some(kind) = self
            .stream_exception
            .as_deref()
            .filter(|k| !STREAM_EXCEPTIONS.contains(k))
        {
            return Err(format!(
                "unknown stream_exception '{kind}' (one of {STREAM_EXCEPTIONS:?})"
            ));
        }
        if self.status.is_some_and(|s| !(400..600).contains(&s)) {
            return Err("status must be within 400..=599".to_owned());
        }
        Ok(())
    }

    /// This fault with every field that `other` sets taken from `other`.
    pub fn overridden_by(self, other: Self) -> Self {
        let after_events = if other.stream_exception.is_some() {
            other.after_events
        } else {
            self.after_events
        };
        Self {
            error: other.error.or(self.error),
            status: other.status.or(self.status),
            message: other.message.or(self.message),
            retry_after: other.retry_after.or(self.retry_after),
            delay_ms: other.delay_ms.or(self.delay_ms),
            drop_connection: other.drop_connection || self.drop_connection,
            stream_exception: other.stream_exception.or(self.stream_exception),
            after_events,
            stream_cut_after_events: other
                .stream_cut_after_events
                .or(self.stream_cut_after_events),
            stream_event_delay_ms: other.stream_event_delay_ms.or(self.stream_event_delay_ms),
            stream_events: other.stream_events.or(self.stream_events),
            pad_answer: other.pad_answer.or(self.pad_answer),
            truncate_body: other.truncate_body || self.truncate_body,
        }
    }

    /// From `[mock:key=value,key=value]` directives in a request body, if any.
    pub fn from_directives(body: &str) -> Option<Self> {
        let mut fault = None::<Self>;
        let mut rest = body;
        while let Some(start) = rest.find("[mock:") {
            let after = &rest[start + 6..];
            let Some(end) = after.find(']') else { break };
            let f = fault.get_or_insert_with(Self::default);
            for pair in after[..end].split(',') {
                let (key, value) = pair.split_once('=').unwrap_or((pair, "true"));
                let number = value.trim().parse::<u64>().ok();
                match key.trim() {
                    "error" => f.error = Some(value.trim().to_owned()),
                    "status" => f.status = number.and_then(|n| u16::try_from(n).ok()),
                    "message" => f.message = Some(value.to_owned()),
                    "retry_after" => f.retry_after = number,
                    "delay_ms" => f.delay_ms = number,
                    "drop_connection" => f.drop_connection = true,
                    "stream_exception" => f.stream_exception = Some(value.trim().to_owned()),
                    "after" | "after_events" => f.after_events = number.unwrap_or(0) as usize,
                    "stream_cut_after_events" | "cut_after" => {
                        f.stream_cut_after_events = number.map(|n| n as usize)
                    }
                    "stream_event_delay_ms" => f.stream_event_delay_ms = number,
                    "stream_events" => f.stream_events = number.map(|n| n as usize),
                    "pad_answer" => f.pad_answer = number.map(|n| n as usize),
                    "truncate_body" => f.truncate_body = true,
                    _ => {}
                }
            }
            rest = &after[end..];
        }
        fault
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_control_json_and_directives() {
        let (fault, count) = Fault::from_json(
            &serde_json::json!({"error": "ThrottlingException", "status": 429, "count": 2}),
        )
        .unwrap();
        assert_eq!(
            (fault.error.as_deref(), fault.status, count),
            (Some("ThrottlingException"), Some(429), 2)
        );
        assert!(Fault::from_json(&serde_json::json!({"eror": "x"})).is_err());
        let fault = Fault::from_directives(r#"{"text":"hi [mock:stream_exception=modelStreamErrorException,after=3] [mock:delay_ms=20]"}"#).unwrap();
        assert_eq!(
            fault.stream_exception.as_deref(),
            Some("modelStreamErrorException")
        );
        assert_eq!((fault.after_events, fault.delay_ms), (3, Some(20)));
        assert!(Fault::from_directives("no directive").is_none());
    }

    #[test]
    fn directives_override_queued_faults_and_are_checked() {
        let (queued, _) = Fault::from_json(
            &serde_json::json!({"delay_ms": 5, "stream_exception": "throttlingException", "after_events": 4}),
        )
        .unwrap();
        let directive = Fault::from_directives(
            "[mock:stream_exception=validationException,after=1,stream_events=9,cut_after=7]",
        )
        .unwrap();
        let merged = queued.overridden_by(directive);
        assert_eq!(merged.delay_ms, Some(5));
        assert_eq!(
            merged.stream_exception.as_deref(),
            Some("validationException")
        );
        assert_eq!(merged.after_events, 1);
        assert_eq!(merged.stream_events, Some(9));
        assert_eq!(merged.stream_cut_after_events, Some(7));
        assert!(Fault::from_json(&serde_json::json!({"stream_exception": "nope"})).is_err());
        assert!(Fault::from_json(&serde_json::json!({"error": "X", "status": 200})).is_err());
        assert!(Fault::from_json(&serde_json::json!([1])).is_err());
        assert!(
            Fault::from_directives("[mock:drop_connection]")
                .unwrap()
                .drop_connection
        );
    }

    #[test]
    fn answer_body_faults_parse_both_ways() {
        let fault = Fault::from_directives("[mock:pad_answer=4096,truncate_body]").unwrap();
        assert_eq!((fault.pad_answer, fault.truncate_body), (Some(4096), true));
        let (queued, _) =
            Fault::from_json(&serde_json::json!({"pad_answer": 10, "truncate_body": true}))
                .unwrap();
        assert_eq!(
            queued,
            fault.clone().overridden_by(Fault {
                pad_answer: Some(10),
                ..Fault::default()
            })
        );
    }
}
