//! OpenAI <-> AWS Bedrock translation: Converse shapes, pure conversions, event-stream decoding,
//! the ConverseStream -> `chat.completion.chunk` state machine, the Bedrock error mapping, and a
//! tower Layer that turns an OpenAI HTTP request into a Bedrock HTTP request and back.
//!
//! Everything except [`layer`] and [`body`] is a pure function of its input: no I/O, no clock
//! (the response id and time come in a [`response::ResponseContext`]), so it is tested by value
//! and fuzzed. This crate knows nothing of signing or sockets: the Layer's inner service sends
//! the Bedrock request, however it likes.

pub mod body;
pub mod catalog;
pub mod converse;
pub mod embeddings;
pub mod endpoint;
pub mod error;
pub mod eventstream;
pub mod layer;
pub mod model_id;
pub mod request;
pub mod response;
pub mod stream;

pub use endpoint::{BedrockEndpoint, Region};
pub use error::{ApiError, TranslateError};
pub use layer::{Error, FrontDoor, ModelDefaults, Translate, TranslateConfig, TranslateLayer};
pub use model_id::ModelId;
