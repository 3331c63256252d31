//! The crate's errors: [`SigningError`] when a request cannot be signed, [`BuildError`] when a
//! layer is misconfigured.
//!
//! The [`SigV4`](crate::SigV4) service fails with a [`tower::BoxError`], tower style: a
//! [`SigningError`] when signing failed (downcast it), or the inner service's error unchanged.
//! No error ever carries a secret key or session token, in `Display` or in `Debug`.
//!
//! # Example
//!
//! ```
//! use sigv4_layer::SigningError;
//!
//! let err: tower::BoxError = SigningError::MissingCredentials.into();
//! assert!(matches!(
//!     err.downcast_ref::<SigningError>(),
//!     Some(SigningError::MissingCredentials)
//! ));
//! ```

use std::time::SystemTime;

use http::HeaderName;
use tower::BoxError;

/// Why a request could not be signed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// Neither the request nor the layer carried credentials.
    #[error("no aws credentials to sign the request with")]
    MissingCredentials,

    /// The credentials' expiry is at or before the signing time.
    #[error("aws credentials expired")]
    ExpiredCredentials {
        /// When the credentials expired.
        expiry: SystemTime,
        /// The signing time they were checked against.
        signing_time: SystemTime,
    },

    /// Neither the request nor the layer named a region.
    #[error("no aws region to sign the request for")]
    MissingRegion,

    /// The region is empty or has characters other than ASCII letters, digits and `-`.
    #[error("invalid aws signing region {region:?}")]
    InvalidRegion {
        /// The rejected region.
        region: String,
    },

    /// The request has no `host` header and its URI has no authority to derive one from.
    #[error("request has no host header and its uri has no authority")]
    MissingHost,

    /// A header value is not UTF-8, so it cannot be part of a canonical request.
    ///
    /// The value itself is not kept: it could be a secret.
    #[error("value of header `{name}` is not utf-8")]
    InvalidHeaderValue {
        /// The header's name.
        name: HeaderName,
    },

    /// The signer rejected the request (an invalid header name or value, or URI).
    #[error("failed to sign the request")]
    Sign(#[source] aws_sigv4::http_request::SigningError),

    /// The signing parameters were incomplete (a bug in this crate).
    #[error("invalid signing parameters")]
    Params(#[source] aws_sigv4::sign::v4::signing_params::BuildError),

    /// A header produced by signing is not a valid header value (for example a session token
    /// with a line break).
    #[error("signing produced an invalid `{name}` header value")]
    InvalidSignatureHeader {
        /// The header's name.
        name: &'static str,
        /// Why the value was rejected.
        #[source]
        source: http::header::InvalidHeaderValue,
    },

    /// The request body could not be read.
    #[error("failed to read the request body")]
    Body(#[source] BoxError),
}

/// Why a [`SigV4Layer`](crate::SigV4Layer) could not be built.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// [`service_name`](crate::SigV4LayerBuilder::service_name) was not called.
    #[error("a signing service name is required")]
    MissingServiceName,

    /// The service name is empty or has characters other than ASCII letters, digits, `-`, `_`
    /// and `.`.
    #[error("invalid signing service name {name:?}")]
    InvalidServiceName {
        /// The rejected name.
        name: String,
    },

    /// The default region is not a valid region name.
    #[error("invalid default region {region:?}")]
    InvalidRegion {
        /// The rejected region.
        region: String,
    },
}
