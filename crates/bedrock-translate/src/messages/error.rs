//! Errors in Anthropic's shape: `{"type":"error","error":{"type","message"}}` with Anthropic's
//! status and type pairs (the `anthropic` SDKs pick their exception class by status).
//!
//! | gateway or Bedrock error ([`ApiError`] status) | Anthropic status / `error.type` |
//! | --- | --- |
//! | 400, 405, 408, 422 and other client errors | same status / `invalid_request_error` |
//! | 401 | 401 / `authentication_error` |
//! | 403 | 403 / `permission_error` |
//! | 404 | 404 / `not_found_error` |
//! | 413 | 413 / `request_too_large` |
//! | 429 (throttling, quota) | 429 / `rate_limit_error` |
//! | 503 (ServiceUnavailable, ModelNotReady, the gateway's load shedding) | 529 / `overloaded_error` |
//! | 504 (timeouts) | 504 / `timeout_error` |
//! | any other 5xx | 500 / `api_error` |
//!
//! # Example
//!
//! ```
//! use bedrock_translate::ApiError;
//! use bedrock_translate::messages::error::anthropic_error;
//! use http::StatusCode;
//!
//! let err = ApiError::from_bedrock(
//!     StatusCode::SERVICE_UNAVAILABLE,
//!     Some("ServiceUnavailableException"),
//!     br#"{"message":"busy"}"#,
//! );
//! let (status, body) = anthropic_error(&err);
//! assert_eq!(status.as_u16(), 529);
//! assert_eq!(body.error.kind, "overloaded_error");
//! ```

use anthropic_types::ErrorResponse;
use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

use crate::body::write_sse;
use crate::error::ApiError;

/// Anthropic's 529 `overloaded_error`.
pub const OVERLOADED: u16 = 529;

/// The Anthropic status and error body for `err`.
pub fn anthropic_error(err: &ApiError) -> (StatusCode, ErrorResponse) {
    let (status, kind) = match err.status.as_u16() {
        401 => (err.status, "authentication_error"),
        403 => (err.status, "permission_error"),
        404 => (err.status, "not_found_error"),
        413 => (err.status, "request_too_large"),
        429 => (err.status, "rate_limit_error"),
        503 | OVERLOADED => (overloaded(), "overloaded_error"),
        504 => (err.status, "timeout_error"),
        s if s >= 500 => (StatusCode::INTERNAL_SERVER_ERROR, "api_error"),
        _ => (err.status, "invalid_request_error"),
    };
    (status, ErrorResponse::new(kind, err.error.message.clone()))
}

fn overloaded() -> StatusCode {
    StatusCode::from_u16(OVERLOADED).expect("529 is a valid status")
}

/// `err` as an HTTP response in Anthropic's shape (with `retry-after` on 429 and 529).
pub fn error_response(err: &ApiError) -> Response<Full<Bytes>> {
    let (status, body) = anthropic_error(err);
    let json = serde_json::to_vec(&body).expect("error bodies serialise");
    let mut response = Response::new(Full::new(Bytes::from(json)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if matches!(status.as_u16(), 429 | OVERLOADED) {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Appends `err` as the stream's `event: error`.
pub fn write_error_event(err: &ApiError, out: &mut BytesMut) {
    let (_, body) = anthropic_error(err);
    write_sse(out, Some("error"), &body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(status: u16, code: &str) -> (u16, String) {
        let err = ApiError::from_bedrock(
            StatusCode::from_u16(status).unwrap(),
            Some(code),
            br#"{"message":"m"}"#,
        );
        let (status, body) = anthropic_error(&err);
        (status.as_u16(), body.error.kind)
    }

    #[test]
    fn bedrock_errors_map_to_anthropics_pairs() {
        let cases = [
            (400, "ValidationException", 400, "invalid_request_error"),
            (403, "AccessDeniedException", 403, "permission_error"),
            (404, "ResourceNotFoundException", 404, "not_found_error"),
            (408, "ModelTimeoutException", 504, "timeout_error"),
            (429, "ThrottlingException", 429, "rate_limit_error"),
            (
                400,
                "ServiceQuotaExceededException",
                429,
                "rate_limit_error",
            ),
            (429, "ModelNotReadyException", 529, "overloaded_error"),
            (503, "ServiceUnavailableException", 529, "overloaded_error"),
            (424, "ModelErrorException", 500, "api_error"),
            (500, "InternalServerException", 500, "api_error"),
            (
                403,
                "UnrecognizedClientException",
                401,
                "authentication_error",
            ),
        ];
        for (status, code, want_status, want_kind) in cases {
            assert_eq!(
                kind(status, code),
                (want_status, want_kind.to_owned()),
                "{code}"
            );
        }
    }

    #[test]
    fn the_error_event_is_named_error() {
        let mut out = BytesMut::new();
        write_error_event(
            &ApiError::invalid_request("bad", None).with_status(StatusCode::PAYLOAD_TOO_LARGE),
            &mut out,
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"request_too_large\",\"message\":\"bad\"}}\n\n"
        );
    }
}
