//! The Bedrock gateway as a library: configuration, per-request context, the pipeline and the
//! server. The binary (`main.rs`) only wires these together; tests use them directly.
//!
//! The pipeline is assembled in [`stack`], in the order a request travels; each layer lives in
//! a module of its own.

pub mod admit;
pub mod body;
pub mod buffer;
pub mod config;
pub mod context;
pub mod credentials;
pub mod error;
pub mod keys;
pub mod media;
pub mod meter;
pub mod metrics;
pub mod responses;
pub mod retry;
pub mod router;
pub mod server;
pub mod stack;
pub mod tls;
pub mod upstream;
pub mod watch;
