//! A tower Layer that signs HTTP requests with AWS Signature Version 4.
//!
//! [`SigV4Layer`] wraps any service that takes a `http::Request<Full<Bytes>>` (typically an
//! HTTP client) and signs every request on its way through. It knows nothing about the service
//! being called beyond its signing name: Bedrock, STS, DynamoDB or API Gateway are all signed
//! the same way.
//!
//! The signer is this crate's own implementation of SigV4 header signing (canonical request,
//! string to sign, signature), written to sign exactly as the `aws-sigv4` crate does: it is
//! checked against `aws-sigv4` by a property test over random requests and every setting,
//! against the official AWS SigV4 test suite, and against botocore. Unlike `aws-sigv4` it can
//! reuse the derived signing key: see [`SigningKeyCache`], which the layer always uses.
//!
//! Signing itself is a plain function, [`sign_request`] (or [`sign_parts`]): no I/O, no clock,
//! every input in [`SigningParams`]. The layer is a thin adapter over it that collects the body
//! and picks credentials, region and time per request from request extensions
//! ([`Credentials`](aws_credential_types::Credentials), [`SigningRegion`], [`SigningTime`]),
//! falling back to the layer's defaults. See [`layer`] for the resolution order, [`sign`] for
//! exactly which headers are signed and set, and [`settings`] for the options.
//!
//! The request URI must be percent-encoded the way it goes on the wire (a Bedrock model id
//! `anthropic.claude-3-sonnet-20240229-v1:0` travels as `...-v1%3A0`); it is signed as AWS does
//! for every service but S3, with the path encoded once more (`%253A`). Do not decode it first.
//!
//! # Example
//!
//! DynamoDB `ListTables` through a hyper-util client, for example against DynamoDB Local on
//! port 8000 (so plain HTTP). The same stack with a TLS connector reaches the real service.
//!
//! ```no_run
//! use aws_credential_types::Credentials;
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use sigv4_layer::{SigV4Layer, SigningRegion};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower::BoxError> {
//! let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
//! let signed_client = ServiceBuilder::new()
//!     .layer(
//!         SigV4Layer::builder()
//!             .service_name("dynamodb")
//!             .region("us-east-1")
//!             .credentials(Credentials::new("AKID", "SECRET", None, None, "example"))
//!             .build()?,
//!     )
//!     .service(client);
//!
//! // Any body type works; this one is collected and handed on as `Full<Bytes>`.
//! let mut req = http::Request::post("http://localhost:8000/")
//!     .header("content-type", "application/x-amz-json-1.0")
//!     .header("x-amz-target", "DynamoDB_20120810.ListTables")
//!     .body(String::from("{}"))?;
//! // Per request: other credentials or region than the layer's defaults.
//! req.extensions_mut().insert(SigningRegion::new("eu-west-3"));
//!
//! let response = signed_client.oneshot(req).await?;
//! let status = response.status();
//! let body = response.into_body().collect().await?.to_bytes();
//! println!("{status}: {}", String::from_utf8_lossy(&body));
//! # Ok(())
//! # }
//! ```
//!
//! Signing by value, without tower, is in the [`sign`] module's example.

pub mod error;
pub mod key_cache;
pub mod layer;
pub mod service;
pub mod settings;
pub mod sign;

pub use error::{BuildError, SigningError};
pub use key_cache::SigningKeyCache;
pub use layer::{SigV4Layer, SigV4LayerBuilder};
pub use service::{ResponseFuture, SigV4};
pub use settings::{ContentSha256Header, SessionTokenMode, SigningSettings, UriPathNormalization};
pub use sign::{SigningParams, SigningRegion, SigningTime, sign_parts, sign_request};
