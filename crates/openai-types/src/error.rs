//! The OpenAI error object: `{"error":{"message","type","param","code"}}`.

use serde::{Deserialize, Serialize};

/// The body of every error response: `{"error": {...}}`.
///
/// ```
/// use openai_types::{ErrorBody, ErrorObject};
/// let body = ErrorBody::new(ErrorObject::new("bad", "invalid_request_error"));
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorObject,
}

impl ErrorBody {
    /// Wraps an error object.
    pub fn new(error: ErrorObject) -> Self {
        Self { error }
    }
}

/// OpenAI's error object. `param` and `code` are always present, `null` when unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// Human-readable message.
    pub message: String,
    /// Error class, e.g. `invalid_request_error`, `authentication_error`, `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The request parameter at fault, if any.
    pub param: Option<String>,
    /// A machine-readable code, e.g. `model_not_found`, `rate_limit_exceeded`.
    pub code: Option<String>,
}

impl ErrorObject {
    /// An error with a message and a type, no param and no code.
    pub fn new(message: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            kind: kind.into(),
            param: None,
            code: None,
        }
    }

    /// Sets `param`.
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Sets `code`.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}
