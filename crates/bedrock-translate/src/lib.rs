//! OpenAI <-> AWS Bedrock translation: Converse shapes, pure conversions, event-stream decoding,
//! the ConverseStream -> `chat.completion.chunk` state machine, the Bedrock error mapping, and a
//! tower Layer that turns an OpenAI HTTP request into a Bedrock HTTP request and back.
//!
//! Everything except [`layer`] and [`body`] is a pure function of its input: no I/O, no clock
//! (the response id and time come in a [`response::ResponseContext`]), so it is tested by value
//! and fuzzed. This crate knows nothing of signing or sockets: the Layer's inner service sends
//! the Bedrock request, however it likes.

//!
//! # The full library stack: translate, sign, send
//!
//! The translator above the SigV4 signer (`sigv4-layer`) above a pooled hyper-util client; here
//! against the fake Bedrock of this workspace on a loopback port (a TLS connector, for example
//! hyper-rustls, reaches the real one). One [`Region`] per request, as an extension, picks both
//! the Bedrock host (this crate) and the signature's region (the signer's
//! [`region_from`](https://docs.rs/sigv4-layer)), so the two cannot disagree.
//!
//! Dependencies besides this crate and `sigv4-layer`: `tower` (`util`), `http`, `bytes`,
//! `http-body-util`, `hyper-util` (`client-legacy`, `http1` and/or `http2`, `tokio`) and
//! `tokio` (`rt`). Failures of the stack come back as this crate's [`Error`]; the gateway's
//! `bedrock_gateway::error::GatewayError` maps them to statuses, and `bedrock_gateway::stack`
//! adds retries (`bedrock_gateway::retry::RetryPolicy`) and timeouts between the layers.
//!
//! ```
//! use bedrock_translate::{BedrockEndpoint, ModelId, Region, TranslateConfig, TranslateLayer};
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use sigv4_layer::{Credentials, SigV4Layer};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let mock = bedrock_mock::MockServer::start(bedrock_mock::MockConfig::default()).await?;
//! // Where Bedrock is: an override here (the fake on loopback); `BedrockEndpoint::for_region`
//! // for the real service.
//! let endpoint = BedrockEndpoint::parse(&mock.url())?;
//! let config = TranslateConfig::new(ModelId::parse("amazon.nova-lite-v1:0")?, endpoint)
//!     .with_alias("gpt-4o-mini", ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0")?);
//! let signer = SigV4Layer::builder()
//!     .service_name("bedrock")
//!     .region_from::<Region>()
//!     .build()?;
//! let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
//! let bedrock = ServiceBuilder::new()
//!     .layer(TranslateLayer::from_config(config))
//!     .layer(signer)
//!     .service(client);
//!
//! let mut request = http::Request::post("/v1/chat/completions").body(Full::new(Bytes::from(
//!     r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}"#,
//! )))?;
//! request.extensions_mut().insert(Region::parse("eu-west-3")?);
//! request.extensions_mut().insert(Credentials::new(
//!     "AKIAIOSFODNN7EXAMPLE",
//!     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
//!     None,
//!     None,
//!     "example",
//! ));
//! let response = bedrock.oneshot(request).await?;
//! assert_eq!(response.status(), 200);
//! let body = response.into_body().collect().await?.to_bytes();
//! let chat: serde_json::Value = serde_json::from_slice(&body)?;
//! assert_eq!(chat["choices"][0]["message"]["content"], "You said: Hello");
//! # mock.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod anthropic_models;
pub mod body;
pub mod catalog;
pub mod completions;
pub mod converse;
pub mod embeddings;
pub mod endpoint;
pub mod error;
pub mod eventstream;
pub mod guardrail;
pub mod layer;
pub mod messages;
pub mod model_id;
pub mod request;
pub mod response;
pub mod responses;
pub mod stream;

pub use endpoint::{BedrockEndpoint, Region};
pub use error::{ApiError, TranslateError};
pub use guardrail::Guardrail;
pub use layer::{Error, FrontDoor, ModelDefaults, Translate, TranslateConfig, TranslateLayer};
pub use model_id::ModelId;
