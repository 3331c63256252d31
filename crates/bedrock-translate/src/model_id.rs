//! Validated Bedrock model ids and the request paths built from them.
//!
//! A model id travels in the URL path as exactly one percent-encoded segment, as botocore encodes
//! it: everything but `A-Za-z0-9-._~` is escaped, so `:` becomes `%3A` and the `/` of an
//! inference-profile ARN becomes `%2F`. Validation happens before any request is built, so that
//! nothing a client sends can add a path segment, a query or a fragment to the upstream URL.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::model_id::{ModelId, Operation};
//!
//! let id = ModelId::parse("anthropic.claude-3-sonnet-20240229-v1:0").unwrap();
//! assert_eq!(
//!     id.path(Operation::Converse),
//!     "/model/anthropic.claude-3-sonnet-20240229-v1%3A0/converse"
//! );
//! assert!(ModelId::parse("../admin").is_err());
//! ```

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use thiserror::Error;

/// The longest model id Bedrock accepts (`ConversationalModelId`, `InvokeModelIdentifier`).
pub const MAX_MODEL_ID_LEN: usize = 2048;

/// Characters left bare in a path label: RFC 3986 unreserved, as botocore's `SAFE_CHARS`.
const PATH_LABEL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A model id that is safe to put in a URL: 1 to 2048 characters of `A-Za-z0-9-._:/`, no `..`,
/// not starting with `/` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelId(String);

/// Why a model id was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidModelId {
    /// Empty.
    #[error("model id is empty")]
    Empty,
    /// Too long.
    #[error("model id is longer than {MAX_MODEL_ID_LEN} characters")]
    TooLong,
    /// A character outside `A-Za-z0-9-._:/`.
    #[error("model id contains a character other than letters, digits and '-._:/'")]
    BadCharacter,
    /// A `..` sequence or a leading `/` or `.`.
    #[error("model id contains a relative path component")]
    PathTraversal,
}

/// The Bedrock Runtime operations the gateway calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST /model/{id}/converse`.
    Converse,
    /// `POST /model/{id}/converse-stream`.
    ConverseStream,
    /// `POST /model/{id}/invoke`.
    InvokeModel,
    /// `POST /model/{id}/invoke-with-response-stream`.
    InvokeModelWithResponseStream,
    /// `POST /model/{id}/count-tokens` (the id must be a foundation model's:
    /// [`ModelId::foundation_model`]).
    CountTokens,
}

impl Operation {
    /// The last path segment.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Converse => "converse",
            Self::ConverseStream => "converse-stream",
            Self::InvokeModel => "invoke",
            Self::InvokeModelWithResponseStream => "invoke-with-response-stream",
            Self::CountTokens => "count-tokens",
        }
    }
}

impl ModelId {
    /// Validates a model id.
    pub fn parse(id: &str) -> Result<Self, InvalidModelId> {
        if id.is_empty() {
            return Err(InvalidModelId::Empty);
        }
        if id.len() > MAX_MODEL_ID_LEN {
            return Err(InvalidModelId::TooLong);
        }
        let allowed =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':' | b'/');
        if !id.bytes().all(allowed) {
            return Err(InvalidModelId::BadCharacter);
        }
        if id.contains("..") || id.starts_with('/') || id.starts_with('.') {
            return Err(InvalidModelId::PathTraversal);
        }
        Ok(Self(id.to_owned()))
    }

    /// The id as the client gave it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as one percent-encoded path segment.
    pub fn path_segment(&self) -> impl std::fmt::Display + '_ {
        utf8_percent_encode(&self.0, PATH_LABEL)
    }

    /// The request path of `operation` for this model.
    pub fn path(&self, operation: Operation) -> String {
        format!("/model/{}/{}", self.path_segment(), operation.suffix())
    }

    /// The provider part of the id (`anthropic` for `us.anthropic.claude-...` or an ARN of it).
    pub fn provider(&self) -> &str {
        let base = self.base_model();
        base.split('.').next().unwrap_or(base)
    }

    /// The id without an ARN prefix or a cross-region inference-profile prefix
    /// (`us.`, `eu.`, `apac.`, `global.`, ...), for capability lookups.
    pub fn base_model(&self) -> &str {
        let id = self.0.rsplit('/').next().unwrap_or(&self.0);
        match id.split_once('.') {
            Some((prefix, rest)) if is_region_group(prefix) => rest,
            _ => id,
        }
    }
}

impl ModelId {
    /// The foundation model this id names, as CountTokens requires: a cross-region inference
    /// profile (`us.anthropic.…`) or an ARN gives way to the model id it names.
    ///
    /// ```
    /// use bedrock_translate::ModelId;
    /// let profile = ModelId::parse("us.anthropic.claude-sonnet-4-5-20250929-v1:0").unwrap();
    /// assert_eq!(profile.foundation_model().as_str(), "anthropic.claude-sonnet-4-5-20250929-v1:0");
    /// ```
    pub fn foundation_model(&self) -> ModelId {
        Self(self.base_model().to_owned())
    }
}

impl std::fmt::Display for ModelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_region_group(prefix: &str) -> bool {
    matches!(
        prefix,
        "us" | "eu" | "apac" | "global" | "us-gov" | "ca" | "jp" | "au"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_colon_and_slash_once() {
        let arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0";
        let id = ModelId::parse(arn).unwrap();
        assert_eq!(
            id.path(Operation::ConverseStream),
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
        );
        assert_eq!(id.provider(), "anthropic");
        assert_eq!(id.base_model(), "anthropic.claude-3-haiku-20240307-v1:0");
    }

    #[test]
    fn rejects_hostile_ids() {
        for bad in [
            "", "../x", "a/../b", "/etc", ".hidden", "a b", "a?b", "a#b", "a%2F", "a\nb", "é",
        ] {
            assert!(ModelId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            ModelId::parse(&"a".repeat(2049)),
            Err(InvalidModelId::TooLong)
        );
        assert!(ModelId::parse(&"a".repeat(2048)).is_ok());
    }

    #[test]
    fn provider_of_plain_and_profile_ids() {
        assert_eq!(
            ModelId::parse("amazon.titan-text-premier-v1:0")
                .unwrap()
                .provider(),
            "amazon"
        );
        assert_eq!(
            ModelId::parse("us.meta.llama3-1-8b-instruct-v1:0")
                .unwrap()
                .provider(),
            "meta"
        );
    }
}
