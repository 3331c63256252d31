//! A tower Layer that signs HTTP requests with AWS Signature Version 4.
//!
//! [`SigV4Layer`] wraps any service that takes a `http::Request<Full<Bytes>>` (typically an
//! HTTP client) and signs every request on its way through. It knows nothing about the service
//! being called beyond its signing name: Bedrock, STS, DynamoDB or API Gateway are all signed
//! the same way.
//!
//! The signature itself (canonical request, string to sign, signature) is computed by the
//! [`aws-sigv4`](aws_sigv4) crate, which AWS maintains and the AWS SDKs sign with. This crate
//! checks the inputs, maps its [`SigningSettings`] onto aws-sigv4's, and sets the resulting
//! headers; its tests check the result against the official AWS SigV4 test suite and against
//! botocore.
//!
//! Signing itself is a plain function, [`sign_request`] (or [`sign_parts`]): no I/O, no clock,
//! every input in [`SigningParams`]. The layer is a thin adapter over it that collects the body
//! and picks credentials, region and time per request from request extensions
//! ([`Credentials`], [`SigningRegion`], [`SigningTime`]), falling back to the layer's defaults.
//! See [`layer`] for the resolution order, [`sign`] for exactly which headers are signed and
//! set, and [`settings`] for the options.
//!
//! The request URI must be percent-encoded the way it goes on the wire (a Bedrock model id
//! `anthropic.claude-3-sonnet-20240229-v1:0` travels as `...-v1%3A0`); it is signed as AWS does
//! for every service but S3, with the path encoded once more (`%253A`). Do not decode it first.
//!
//! [`Credentials`] is `aws_credential_types::Credentials`, re-exported so that users need not
//! depend on that crate themselves.
//!
//! # Dependencies for a hyper-util client
//!
//! The layer needs no async runtime and no tower features of its own: it works with any inner
//! service that takes a `http::Request<Full<Bytes>>`. To put it in front of a hyper-util client,
//! as in the example below, a user needs:
//!
//! ```toml
//! [dependencies]
//! bytes = "1"
//! http = "1"
//! http-body-util = "0.1"
//! # the legacy pooling client, HTTP/1 (add "http2" for HTTP/2), tokio I/O and executor
//! hyper-util = { version = "0.1", features = ["client-legacy", "http1", "tokio"] }
//! # a runtime; "macros" only for `#[tokio::main]`
//! tokio = { version = "1", features = ["rt", "macros"] }
//! # `ServiceBuilder` and `Layer` need no feature; "util" for `ServiceExt::oneshot`/`ready`
//! tower = { version = "0.5", features = ["util"] }
//! ```
//!
//! hyper-util's `tokio` feature turns on tokio's `rt` and `time`, and `client-legacy` its `net`
//! and `sync`; add `rt-multi-thread` for a multi-threaded runtime. For HTTPS, build the client
//! with a TLS connector, for example hyper-rustls with its `http1`, `native-tokio` and `ring`
//! (or `aws-lc-rs`) features: `Client::builder(TokioExecutor::new()).build(https_connector)`.
//! The example is compiled with exactly these features (this crate's dev-dependencies).
//!
//! # Example
//!
//! DynamoDB `ListTables` through a hyper-util client, for example against DynamoDB Local on
//! port 8000 (so plain HTTP). The same stack with a TLS connector reaches the real service.
//!
//! ```no_run
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use sigv4_layer::{Credentials, SigV4Layer, SigningRegion};
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
pub mod layer;
pub mod service;
pub mod settings;
pub mod sign;

pub use aws_credential_types::Credentials;
pub use error::{BuildError, SigningError};
pub use layer::{SigV4Layer, SigV4LayerBuilder};
pub use service::{ResponseFuture, SigV4};
pub use settings::{ContentSha256Header, SessionTokenMode, SigningSettings, UriPathNormalization};
pub use sign::{SigningParams, SigningRegion, SigningTime, sign_parts, sign_request};
