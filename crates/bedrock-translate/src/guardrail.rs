//! Bedrock guardrails: a validated `ID:VERSION` and the Converse `guardrailConfig` built from it.
//!
//! The gateway applies one guardrail to every Converse call (`--guardrail`), which a request
//! may replace with its own (`x-bedrock-guardrail`, carried as a [`Guardrail`] request
//! extension). Both are validated against botocore's patterns before anything is sent:
//! identifier `[a-z0-9]+` or `arn:aws(-…)?:bedrock:REGION:ACCOUNT:guardrail/[a-z0-9]+` (at most
//! 2048 characters), version `DRAFT` or `[1-9][0-9]{0,7}`.
//!
//! ```
//! use bedrock_translate::guardrail::{Guardrail, StreamProcessingMode, guardrail_config};
//!
//! let guardrail: Guardrail = "gr0abc123:DRAFT".parse().unwrap();
//! let config = guardrail_config(&guardrail, false, Some(StreamProcessingMode::Async));
//! assert_eq!(
//!     serde_json::to_value(config).unwrap(),
//!     serde_json::json!({"guardrailIdentifier": "gr0abc123", "guardrailVersion": "DRAFT",
//!                        "trace": "disabled", "streamProcessingMode": "async"})
//! );
//! assert!("gr0abc123:v1".parse::<Guardrail>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use crate::converse::GuardrailConfig;

/// The longest guardrail identifier Bedrock takes.
pub const MAX_IDENTIFIER_LEN: usize = 2048;

/// A guardrail identifier and version, valid for Bedrock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Guardrail {
    identifier: String,
    version: String,
}

/// Why a guardrail cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GuardrailError(String);

impl Guardrail {
    /// Parses `ID:VERSION`; the identifier may be an ARN (split at the last `:`).
    pub fn parse(text: &str) -> Result<Self, GuardrailError> {
        let text = text.trim();
        let Some((identifier, version)) = text.rsplit_once(':') else {
            return Err(GuardrailError(
                "a guardrail is ID:VERSION, e.g. abc123xyz:1 or abc123xyz:DRAFT".to_owned(),
            ));
        };
        if !is_identifier(identifier) {
            return Err(GuardrailError(format!(
                "guardrail identifier '{}' is neither lowercase letters and digits nor a guardrail ARN (arn:aws:bedrock:REGION:ACCOUNT:guardrail/ID)",
                printable(identifier)
            )));
        }
        if !is_version(version) {
            return Err(GuardrailError(format!(
                "guardrail version '{}' is neither DRAFT nor a version number (1 to 99999999)",
                printable(version)
            )));
        }
        Ok(Self {
            identifier: identifier.to_owned(),
            version: version.to_owned(),
        })
    }

    /// The identifier (an id or an ARN).
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The version (`DRAFT` or a number).
    pub fn version(&self) -> &str {
        &self.version
    }
}

impl FromStr for Guardrail {
    type Err = GuardrailError;

    fn from_str(s: &str) -> Result<Self, GuardrailError> {
        Self::parse(s)
    }
}

impl fmt::Display for Guardrail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.identifier, self.version)
    }
}

/// How a guardrail processes a streamed answer (`streamProcessingMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamProcessingMode {
    /// Each chunk is assessed before it is sent (Bedrock's default).
    #[default]
    Sync,
    /// Chunks are sent at once and assessed in the background.
    Async,
}

impl StreamProcessingMode {
    /// Bedrock's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Async => "async",
        }
    }
}

/// The `guardrailConfig` of a Converse call: `stream_mode` is `Some` for ConverseStream.
pub fn guardrail_config(
    guardrail: &Guardrail,
    trace: bool,
    stream_mode: Option<StreamProcessingMode>,
) -> GuardrailConfig {
    GuardrailConfig {
        guardrail_identifier: guardrail.identifier.clone(),
        guardrail_version: guardrail.version.clone(),
        trace: Some(if trace { "enabled" } else { "disabled" }.to_owned()),
        stream_processing_mode: stream_mode.map(|m| m.as_str().to_owned()),
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `[a-z0-9]+` or `arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+`.
fn is_identifier(s: &str) -> bool {
    if s.len() > MAX_IDENTIFIER_LEN {
        return false;
    }
    if is_id(s) {
        return true;
    }
    let parts: Vec<&str> = s.split(':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let partition_ok = partition == "aws"
        || partition
            .strip_prefix("aws-")
            .is_some_and(|rest| !rest.is_empty());
    arn == "arn"
        && partition_ok
        && service == "bedrock"
        && (1..=20).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.strip_prefix("guardrail/").is_some_and(is_id)
}

/// `DRAFT` or `[1-9][0-9]{0,7}`.
fn is_version(s: &str) -> bool {
    s == "DRAFT"
        || ((1..=8).contains(&s.len())
            && !s.starts_with('0')
            && s.bytes().all(|b| b.is_ascii_digit()))
}

/// A client value quoted back in an error, cut short.
fn printable(value: &str) -> String {
    value.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_versions_follow_botocores_patterns() {
        for good in [
            "abc123:1",
            "abc123:DRAFT",
            "abc123:99999999",
            "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123:2",
            "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:guardrail/x9:DRAFT",
            " abc:1 ",
        ] {
            let g = Guardrail::parse(good).unwrap_or_else(|e| panic!("{good}: {e}"));
            assert_eq!(g.to_string(), good.trim());
        }
        for bad in [
            "abc123",
            "abc123:",
            ":1",
            "ABC:1",
            "abc-1:1",
            "abc:draft",
            "abc:0",
            "abc:01",
            "abc:123456789",
            "abc:1.0",
            "arn:aws:bedrock:us-east-1:12345678901:guardrail/abc:1",
            "arn:aws:s3:us-east-1:123456789012:guardrail/abc:1",
            "arn:aws:bedrock:us-east-1:123456789012:guardrail/ABC:1",
            "arn:aws:bedrock:us-east-1:123456789012:agent/abc:1",
            "arn:aws-:bedrock:us-east-1:123456789012:guardrail/abc:1",
            "abc\r\nx-evil: 1:1",
        ] {
            assert!(Guardrail::parse(bad).is_err(), "{bad} accepted");
        }
        let long = format!("{}:1", "a".repeat(MAX_IDENTIFIER_LEN + 1));
        assert!(Guardrail::parse(&long).is_err());
    }

    #[test]
    fn the_config_carries_trace_and_the_stream_mode_only_for_streams() {
        let g = Guardrail::parse("abc:3").unwrap();
        assert_eq!(
            serde_json::to_value(guardrail_config(&g, true, None)).unwrap(),
            serde_json::json!({"guardrailIdentifier": "abc", "guardrailVersion": "3", "trace": "enabled"})
        );
        assert_eq!(
            guardrail_config(&g, false, Some(StreamProcessingMode::Sync))
                .stream_processing_mode
                .as_deref(),
            Some("sync")
        );
    }
}
