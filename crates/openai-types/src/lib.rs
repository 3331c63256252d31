//! Serde types of the OpenAI API that the Bedrock gateway serves.
//!
//! Only shapes live here: no I/O, no Bedrock, no HTTP. Requests are lenient (every documented
//! field is accepted, unknown fields are skipped, never rejected) and responses serialise exactly
//! as OpenAI's do, so that the official SDKs cannot tell the difference.
//!
//! # Example
//!
//! ```
//! use openai_types::chat::{ChatCompletionRequest, ChatMessage};
//!
//! let body = r#"{"model":"m","messages":[{"role":"user","content":"Hi"}],"frobnicate":1}"#;
//! let req: ChatCompletionRequest = serde_json::from_str(body).unwrap();
//! assert!(matches!(&req.messages[0], ChatMessage::User { .. }));
//! ```

pub mod chat;
pub mod completions;
pub mod embeddings;
pub mod error;
pub mod models;
pub mod responses;

pub use error::{ErrorBody, ErrorObject};
