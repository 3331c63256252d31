//! Errors as OpenAI sees them: [`ApiError`] (an HTTP status and the OpenAI error object), the
//! translation error [`TranslateError`], and the Bedrock error mapping [`ApiError::from_bedrock`].
//!
//! # Example
//!
//! ```
//! use bedrock_translate::error::ApiError;
//! use http::StatusCode;
//!
//! let err = ApiError::from_bedrock(
//!     StatusCode::TOO_MANY_REQUESTS,
//!     Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.service/"),
//!     br#"{"message":"Too many requests, please wait before trying again."}"#,
//! );
//! assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
//! assert_eq!(err.error.code.as_deref(), Some("rate_limit_exceeded"));
//! ```

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use openai_types::{ErrorBody, ErrorObject};
use serde::Deserialize;
use thiserror::Error;

use crate::model_id::{InvalidModelId, ModelId};

/// An error to answer with: HTTP status plus the OpenAI error object.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{status}: {}", error.message)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error object.
    pub error: ErrorObject,
}

/// Why an OpenAI request cannot be translated. Always the client's fault (400).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TranslateError {
    /// The body is not the JSON of a chat completion request.
    #[error("invalid request body: {0}")]
    Json(String),
    /// A field has a value Bedrock cannot accept.
    #[error("{message}")]
    Invalid {
        /// The offending parameter, e.g. `messages[2].content`.
        param: Option<String>,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A field asks for something Bedrock cannot express.
    #[error("{message}")]
    Unsupported {
        /// The offending parameter.
        param: Option<String>,
        /// What is not supported.
        message: String,
    },
    /// The model id is not a valid Bedrock model id.
    #[error("invalid model id: {0}")]
    ModelId(#[from] InvalidModelId),
}

impl TranslateError {
    /// An invalid value of `param`.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            param: Some(param.into()),
            message: message.into(),
        }
    }

    /// An unsupported feature, named by `param`.
    pub fn unsupported(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unsupported {
            param: Some(param.into()),
            message: message.into(),
        }
    }

    fn param(&self) -> Option<&str> {
        match self {
            Self::Invalid { param, .. } | Self::Unsupported { param, .. } => param.as_deref(),
            Self::ModelId(_) => Some("model"),
            Self::Json(_) => None,
        }
    }
}

impl From<TranslateError> for ApiError {
    fn from(err: TranslateError) -> Self {
        let mut error = ErrorObject::new(err.to_string(), "invalid_request_error");
        error.param = err.param().map(str::to_owned);
        if matches!(err, TranslateError::Unsupported { .. }) {
            error.code = Some("unsupported_parameter".to_owned());
        }
        ApiError::new(StatusCode::BAD_REQUEST, error)
    }
}

/// The Bedrock error body: `{"message": "..."}` (some services say `Message`).
#[derive(Debug, Default, Deserialize)]
struct BedrockErrorBody {
    #[serde(default, alias = "Message")]
    message: Option<String>,
    #[serde(default, rename = "__type", alias = "code")]
    kind: Option<String>,
}

/// Bedrock's message for a model id it does not know.
const INVALID_MODEL_MESSAGE: &str = "The provided model identifier is invalid.";

impl ApiError {
    /// An error with `status` and `error`.
    pub fn new(status: StatusCode, error: ErrorObject) -> Self {
        Self { status, error }
    }

    /// The same error with another status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// 400 `invalid_request_error`.
    pub fn invalid_request(message: impl Into<String>, param: Option<&str>) -> Self {
        let mut error = ErrorObject::new(message, "invalid_request_error");
        error.param = param.map(str::to_owned);
        Self::new(StatusCode::BAD_REQUEST, error)
    }

    /// 401 `authentication_error`.
    pub fn authentication(message: impl Into<String>, code: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorObject::new(message, "authentication_error").with_code(code),
        )
    }

    /// A `server_error` with `status`.
    pub fn server(status: StatusCode, message: impl Into<String>, code: &str) -> Self {
        Self::new(
            status,
            ErrorObject::new(message, "server_error").with_code(code),
        )
    }

    /// Maps a Bedrock error response (status, `x-amzn-ErrorType` header, body) to the OpenAI
    /// error the client gets. The Bedrock code and message are kept in the message.
    pub fn from_bedrock(status: StatusCode, error_type: Option<&str>, body: &[u8]) -> Self {
        let parsed: BedrockErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let code = error_type
            .or(parsed.kind.as_deref())
            .map(bedrock_error_code)
            .unwrap_or("");
        let detail = parsed.message.as_deref().unwrap_or("no message");
        let message = if code.is_empty() {
            format!("Bedrock returned HTTP {}: {detail}", status.as_u16())
        } else {
            format!("{code}: {detail}")
        };
        let (status, kind, code) = classify(status, code, detail);
        Self::new(status, ErrorObject::new(message, kind).with_code(code))
    }

    /// For a Bedrock error that says the model does not exist (`code` `model_not_found`: a
    /// `ResourceNotFoundException`, or a `ValidationException` "The provided model identifier is
    /// invalid."), a message a user can act on: the model the client sent (`requested`; `None`
    /// when it sent none and the default was used), the Bedrock id it resolved to when that
    /// differs, where the listed models are and how to add a name; `param` is `model`. Any other
    /// error is returned as it is. The status is kept.
    ///
    /// Only names from the request and the gateway's configuration appear, never credentials.
    ///
    /// ```
    /// use bedrock_translate::{ApiError, ModelId};
    /// use http::StatusCode;
    ///
    /// let err = ApiError::from_bedrock(
    ///     StatusCode::BAD_REQUEST,
    ///     Some("ValidationException"),
    ///     br#"{"message":"The provided model identifier is invalid."}"#,
    /// )
    /// .naming_model(Some("acme.nope-v1"), &ModelId::parse("acme.nope-v1").unwrap());
    /// assert_eq!(err.status, StatusCode::NOT_FOUND);
    /// assert_eq!(err.error.param.as_deref(), Some("model"));
    /// assert!(err.error.message.starts_with("The model 'acme.nope-v1' does not exist"));
    /// ```
    pub fn naming_model(mut self, requested: Option<&str>, model: &ModelId) -> Self {
        if self.error.code.as_deref() != Some("model_not_found") {
            return self;
        }
        let sent = model.as_str();
        let named = match requested.filter(|r| !r.is_empty()) {
            Some(name) if name == sent => format!("The model '{sent}'"),
            Some(name) => format!("The model '{name}' (Bedrock model id '{sent}')"),
            None => format!("The default model '{sent}'"),
        };
        self.error.message = format!(
            "{named} does not exist or is not available to these credentials in this region \
             (Bedrock said {}). GET /v1/models lists the models this gateway knows; \
             the gateway's --model-alias NAME=BEDROCK_MODEL_ID maps a name to a Bedrock model \
             id or inference profile.",
            self.error.message
        );
        self.error.param = Some("model".to_owned());
        self
    }

    /// The `retry-after` seconds a client should wait, for statuses where retrying helps.
    pub fn retry_after_secs(&self) -> Option<u32> {
        match self.status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Some(1),
            _ => None,
        }
    }

    /// The error as a JSON body.
    pub fn to_json(&self) -> Bytes {
        let body = ErrorBody::new(self.error.clone());
        Bytes::from(serde_json::to_vec(&body).expect("error objects always serialise"))
    }

    /// The error as an HTTP response with a JSON body (and `retry-after` where it applies).
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.to_json()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = self.retry_after_secs() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Every error type Bedrock Runtime answers with: the errors of its operations in the service
/// model (botocore's `bedrock-runtime` `service-2.json`, 2023-09-30) and the AWS-wide
/// authentication errors that [`ApiError::from_bedrock`] maps. A fixed set, e.g. for metric
/// labels: see [`known_error_type`].
pub const BEDROCK_ERROR_TYPES: &[&str] = &[
    "AccessDeniedException",
    "ConflictException",
    "InternalServerException",
    "ModelErrorException",
    "ModelNotReadyException",
    "ModelStreamErrorException",
    "ModelTimeoutException",
    "ResourceNotFoundException",
    "ServiceQuotaExceededException",
    "ServiceUnavailableException",
    "ThrottlingException",
    "ValidationException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
    "ExpiredToken",
];

/// The [`BEDROCK_ERROR_TYPES`] entry of an `x-amzn-ErrorType` value (with or without its
/// `:http://...` or `namespace#` decorations); `None` for any other value.
///
/// ```
/// use bedrock_translate::error::known_error_type;
/// assert_eq!(
///     known_error_type("ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.service/"),
///     Some("ThrottlingException")
/// );
/// assert_eq!(known_error_type("Made-Up-1234"), None);
/// ```
pub fn known_error_type(raw: &str) -> Option<&'static str> {
    let code = bedrock_error_code(raw);
    BEDROCK_ERROR_TYPES
        .iter()
        .copied()
        .find(|known| *known == code)
}

/// `ThrottlingException:http://internal...` -> `ThrottlingException`;
/// `com.amazon.coral#ValidationException` -> `ValidationException`.
fn bedrock_error_code(raw: &str) -> &str {
    let code = raw.split(':').next().unwrap_or(raw);
    code.rsplit('#').next().unwrap_or(code).trim()
}

/// Status, OpenAI `type` and `code` for a Bedrock error code.
fn classify(
    status: StatusCode,
    code: &str,
    message: &str,
) -> (StatusCode, &'static str, &'static str) {
    match code {
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignatureException"
        | "MissingAuthenticationTokenException"
        | "InvalidClientTokenId" => (
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid_aws_credentials",
        ),
        "ExpiredTokenException" | "ExpiredToken" => (
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "expired_aws_credentials",
        ),
        "AccessDeniedException" => (StatusCode::FORBIDDEN, "permission_error", "access_denied"),
        "ResourceNotFoundException" => (
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
        ),
        "ValidationException" if message.contains(INVALID_MODEL_MESSAGE) => (
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
        ),
        "ValidationException" => (
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_request",
        ),
        "ThrottlingException" => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "rate_limit_exceeded",
        ),
        "ServiceQuotaExceededException" => (
            StatusCode::TOO_MANY_REQUESTS,
            "insufficient_quota",
            "insufficient_quota",
        ),
        "ModelTimeoutException" => (StatusCode::GATEWAY_TIMEOUT, "server_error", "timeout"),
        "ModelNotReadyException" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "model_not_ready",
        ),
        "ModelErrorException" | "ModelStreamErrorException" => {
            (StatusCode::BAD_GATEWAY, "server_error", "model_error")
        }
        "ServiceUnavailableException" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "service_unavailable",
        ),
        "InternalServerException" => (StatusCode::BAD_GATEWAY, "server_error", "upstream_error"),
        _ if status.is_client_error() => (status, "invalid_request_error", "upstream_client_error"),
        _ => (StatusCode::BAD_GATEWAY, "server_error", "upstream_error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(status: u16, code: &str, message: &str) -> ApiError {
        let header = format!("{code}:http://internal.amazon.com/coral/com.amazon.coral.service/");
        let body = serde_json::json!({ "message": message }).to_string();
        ApiError::from_bedrock(
            StatusCode::from_u16(status).unwrap(),
            Some(&header),
            body.as_bytes(),
        )
    }

    #[test]
    fn maps_every_documented_bedrock_error() {
        let cases = [
            (
                403,
                "UnrecognizedClientException",
                "x",
                401,
                "invalid_aws_credentials",
            ),
            (
                403,
                "InvalidSignatureException",
                "x",
                401,
                "invalid_aws_credentials",
            ),
            (
                403,
                "ExpiredTokenException",
                "x",
                401,
                "expired_aws_credentials",
            ),
            (403, "AccessDeniedException", "x", 403, "access_denied"),
            (
                404,
                "ResourceNotFoundException",
                "x",
                404,
                "model_not_found",
            ),
            (
                400,
                "ValidationException",
                INVALID_MODEL_MESSAGE,
                404,
                "model_not_found",
            ),
            (
                400,
                "ValidationException",
                "messages: bad",
                400,
                "invalid_request",
            ),
            (429, "ThrottlingException", "x", 429, "rate_limit_exceeded"),
            (
                400,
                "ServiceQuotaExceededException",
                "x",
                429,
                "insufficient_quota",
            ),
            (408, "ModelTimeoutException", "x", 504, "timeout"),
            (429, "ModelNotReadyException", "x", 503, "model_not_ready"),
            (424, "ModelErrorException", "x", 502, "model_error"),
            (
                503,
                "ServiceUnavailableException",
                "x",
                503,
                "service_unavailable",
            ),
            (500, "InternalServerException", "x", 502, "upstream_error"),
        ];
        for (status, code, message, want_status, want_code) in cases {
            let err = map(status, code, message);
            assert_eq!(err.status.as_u16(), want_status, "{code}");
            assert_eq!(err.error.code.as_deref(), Some(want_code), "{code}");
            assert!(err.error.message.contains(code) && err.error.message.contains(message));
        }
    }

    #[test]
    fn reads_the_code_from_the_body_when_the_header_is_missing() {
        let body = br#"{"__type":"com.amazon.coral.validate#ValidationException","Message":"bad"}"#;
        let err = ApiError::from_bedrock(StatusCode::BAD_REQUEST, None, body);
        assert_eq!(err.error.message, "ValidationException: bad");
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn unknown_errors_fall_back_on_the_status() {
        let err = ApiError::from_bedrock(StatusCode::BAD_GATEWAY, None, b"<html>");
        assert_eq!(err.status, StatusCode::BAD_GATEWAY);
        assert_eq!(err.error.kind, "server_error");
        let err = ApiError::from_bedrock(StatusCode::CONFLICT, Some("WeirdException"), b"{}");
        assert_eq!(err.status, StatusCode::CONFLICT);
    }

    #[test]
    fn a_model_bedrock_does_not_know_is_named_with_what_to_do() {
        let id = ModelId::parse("acme.nope-v1:0").unwrap();
        let invalid = map(400, "ValidationException", INVALID_MODEL_MESSAGE);
        let err = invalid.clone().naming_model(Some("acme.nope-v1:0"), &id);
        assert_eq!(err.status, StatusCode::NOT_FOUND);
        assert_eq!(err.error.kind, "invalid_request_error");
        assert_eq!(err.error.code.as_deref(), Some("model_not_found"));
        assert_eq!(err.error.param.as_deref(), Some("model"));
        assert_eq!(
            err.error.message,
            "The model 'acme.nope-v1:0' does not exist or is not available to these credentials \
             in this region (Bedrock said ValidationException: The provided model identifier is \
             invalid.). GET /v1/models lists the models this gateway knows; the gateway's \
             --model-alias NAME=BEDROCK_MODEL_ID maps a name to a Bedrock model id or inference \
             profile."
        );
        // An alias names both; the default model says so.
        let err = invalid.clone().naming_model(Some("gpt-4o"), &id);
        assert!(
            err.error.message.starts_with(
                "The model 'gpt-4o' (Bedrock model id 'acme.nope-v1:0') does not exist"
            ),
            "{}",
            err.error.message
        );
        let err = invalid.naming_model(None, &id);
        assert!(
            err.error
                .message
                .starts_with("The default model 'acme.nope-v1:0' does not exist"),
            "{}",
            err.error.message
        );
        // ResourceNotFoundException too, with its status.
        let err =
            map(404, "ResourceNotFoundException", "Model not found").naming_model(Some("x.y"), &id);
        assert_eq!(err.status, StatusCode::NOT_FOUND);
        assert_eq!(err.error.param.as_deref(), Some("model"));
        assert!(
            err.error
                .message
                .contains("Bedrock said ResourceNotFoundException: Model not found")
        );
        // Other errors are left alone.
        let other = map(400, "ValidationException", "messages: bad");
        assert_eq!(other.clone().naming_model(Some("x.y"), &id), other);
        let throttled = map(429, "ThrottlingException", "x");
        assert_eq!(throttled.clone().naming_model(Some("x.y"), &id), throttled);
    }

    #[test]
    fn response_carries_json_and_retry_after() {
        let response = map(429, "ThrottlingException", "slow down").into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
