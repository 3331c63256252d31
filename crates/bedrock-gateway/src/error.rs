//! [`GatewayError`]: every way the pipeline can fail without an answer from Bedrock, as one
//! typed enum. Each layer returns the variant it knows; the router turns it into the front
//! door's error shape ([`GatewayError::to_api_error`] for OpenAI's) at the edge, so the service
//! that hyper runs cannot fail.
//!
//! Bedrock's own error answers (throttling, validation, access denied) are not here: the
//! translator answers those itself, already in the client's shape.
//!
//! # Example
//!
//! ```
//! use bedrock_gateway::error::GatewayError;
//! use http::StatusCode;
//!
//! let err = GatewayError::BodyTooLarge { limit: 1024 };
//! assert_eq!(err.to_api_error().status, StatusCode::PAYLOAD_TOO_LARGE);
//! ```

use bedrock_translate::ApiError;
use http::StatusCode;
use sigv4_layer::SigningError;
use tower::BoxError;

/// Why a request got no answer from Bedrock.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The request was refused before translation (a bad header, missing credentials, a
    /// missing gateway key): already an error in OpenAI's terms.
    #[error("{0}")]
    Rejected(ApiError),
    /// The request body is larger than the limit.
    #[error("request body is larger than the gateway's limit of {limit} bytes")]
    BodyTooLarge {
        /// `--max-body-bytes`.
        limit: usize,
    },
    /// The client sent nothing for the client timeout while uploading its body.
    #[error("request timed out: the client stopped sending its request body")]
    ClientTimeout,
    /// The client's upload broke off.
    #[error("could not read the request body")]
    ClientBody(#[source] BoxError),
    /// Every concurrency permit is taken: load shedding.
    #[error("the gateway is at its concurrency limit: retry shortly")]
    Overloaded,
    /// The gateway's or the caller's AWS credentials cannot sign.
    #[error("AWS credentials unusable: {0}")]
    Credentials(#[source] SigningError),
    /// Signing failed for another reason (a gateway bug).
    #[error("could not sign the Bedrock request")]
    Signing(#[source] SigningError),
    /// Bedrock did not answer within the upstream timeout.
    #[error("Bedrock did not answer in time")]
    UpstreamTimeout,
    /// The connection to Bedrock could not be made, or failed before an answer.
    #[error("{}", if *.connect { "could not connect to Bedrock" } else { "the connection to Bedrock failed" })]
    UpstreamUnreachable {
        /// The failure was in connecting (nothing was sent).
        connect: bool,
        /// What failed.
        #[source]
        source: BoxError,
    },
    /// Bedrock's answer stopped arriving for the stream idle timeout.
    #[error("Bedrock sent nothing for the idle timeout while answering")]
    UpstreamBodyTimeout,
    /// Bedrock's answer is larger than the gateway reads.
    #[error("Bedrock's answer is larger than the gateway's limit of {limit} bytes")]
    UpstreamTooLarge {
        /// `--max-upstream-body-bytes`.
        limit: usize,
    },
    /// Bedrock's answer broke off (cut short, connection reset).
    #[error("Bedrock's answer broke off")]
    UpstreamBody(#[source] BoxError),
    /// The response store (Redis) cannot be reached: stored responses can be neither read nor
    /// kept.
    #[error(
        "the response store is unavailable: retry shortly, or send store: false without previous_response_id"
    )]
    StoreUnavailable(#[source] response_store::StoreError),
    /// Anything else: a gateway bug.
    #[error("internal gateway error")]
    Internal(#[source] BoxError),
}

impl GatewayError {
    /// The OpenAI error (status and error object) for this failure.
    pub fn to_api_error(&self) -> ApiError {
        let server = |status, code| ApiError::server(status, self.to_string(), code);
        match self {
            Self::Rejected(err) => err.clone(),
            Self::BodyTooLarge { .. } => ApiError::invalid_request(self.to_string(), None)
                .with_status(StatusCode::PAYLOAD_TOO_LARGE),
            Self::ClientTimeout => ApiError::invalid_request(self.to_string(), None)
                .with_status(StatusCode::REQUEST_TIMEOUT),
            Self::ClientBody(_) => ApiError::invalid_request(self.to_string(), None),
            Self::Overloaded => server(StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::StoreUnavailable(_) => server(
                StatusCode::SERVICE_UNAVAILABLE,
                "response_store_unavailable",
            ),
            Self::Credentials(_) => {
                ApiError::authentication(self.to_string(), "invalid_aws_credentials")
            }
            Self::Signing(_) | Self::Internal(_) => {
                server(StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
            }
            Self::UpstreamTimeout | Self::UpstreamBodyTimeout => {
                server(StatusCode::GATEWAY_TIMEOUT, "timeout")
            }
            Self::UpstreamUnreachable { .. } => {
                server(StatusCode::BAD_GATEWAY, "upstream_unreachable")
            }
            Self::UpstreamTooLarge { .. } | Self::UpstreamBody(_) => {
                server(StatusCode::BAD_GATEWAY, "upstream_error")
            }
        }
    }

    /// Whether this is the gateway's fault rather than the client's or Bedrock's (logged as
    /// an error).
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Signing(_) | Self::Internal(_))
    }

    /// Classifies a failure of the layers below the translator (signer, retry, timeout,
    /// client). These are tower's and hyper's boxed errors: each known type is recognised
    /// by one downcast, the way tower's own docs ask callers to.
    pub fn from_upstream(err: BoxError) -> Self {
        let err = match err.downcast::<tower::timeout::error::Elapsed>() {
            Ok(_) => return Self::UpstreamTimeout,
            Err(err) => err,
        };
        let err = match err.downcast::<SigningError>() {
            Ok(signing) => return Self::from_signing(*signing),
            Err(err) => err,
        };
        match err.downcast::<hyper_util::client::legacy::Error>() {
            Ok(client) => Self::UpstreamUnreachable {
                connect: client.is_connect(),
                source: client,
            },
            Err(err) => Self::Internal(err),
        }
    }

    fn from_signing(err: SigningError) -> Self {
        match err {
            SigningError::MissingCredentials | SigningError::ExpiredCredentials { .. } => {
                Self::Credentials(err)
            }
            other => Self::Signing(other),
        }
    }

    /// Classifies a failure to read Bedrock's answer: too slow, or broken off.
    fn from_upstream_body(err: BoxError) -> Self {
        let timed_out = err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
        if timed_out {
            Self::UpstreamBodyTimeout
        } else {
            Self::UpstreamBody(err)
        }
    }
}

impl From<ApiError> for GatewayError {
    fn from(err: ApiError) -> Self {
        Self::Rejected(err)
    }
}

impl From<bedrock_translate::Error> for GatewayError {
    fn from(err: bedrock_translate::Error) -> Self {
        use bedrock_translate::Error;
        match err {
            // The request body was read in full before the translator (see `stack`).
            Error::RequestBody(source) => Self::ClientBody(source),
            Error::Upstream(source) => Self::from_upstream(source),
            Error::UpstreamBody(source) => Self::from_upstream_body(source),
            Error::UpstreamTooLarge { limit } => Self::UpstreamTooLarge { limit },
            other => Self::Internal(Box::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_failures_are_classified_by_type() {
        let elapsed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
        assert!(matches!(
            GatewayError::from_upstream(elapsed),
            GatewayError::UpstreamTimeout
        ));
        let missing: BoxError = Box::new(SigningError::MissingCredentials);
        let err = GatewayError::from_upstream(missing);
        assert_eq!(err.to_api_error().status, StatusCode::UNAUTHORIZED);
        let other: BoxError = "boom".into();
        let err = GatewayError::from_upstream(other);
        assert!(err.is_internal());
        assert_eq!(err.to_api_error().status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_broken_or_oversized_answer_is_a_502_not_the_clients_fault() {
        let cut: BoxError = Box::new(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        let err = GatewayError::from(bedrock_translate::Error::UpstreamBody(cut));
        assert_eq!(err.to_api_error().status, StatusCode::BAD_GATEWAY);
        let err = GatewayError::from(bedrock_translate::Error::UpstreamTooLarge { limit: 2 });
        let api = err.to_api_error();
        assert_eq!(api.status, StatusCode::BAD_GATEWAY);
        assert_eq!(
            api.error.message,
            "Bedrock's answer is larger than the gateway's limit of 2 bytes"
        );
    }

    #[test]
    fn messages_are_lowercase_and_say_what_failed() {
        let err = GatewayError::BodyTooLarge { limit: 10 };
        assert_eq!(
            err.to_api_error().error.message,
            "request body is larger than the gateway's limit of 10 bytes"
        );
        assert_eq!(
            GatewayError::Overloaded
                .to_api_error()
                .error
                .code
                .as_deref(),
            Some("overloaded")
        );
    }
}
