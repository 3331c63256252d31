//! The Bedrock gateway as a library: configuration, per-request context, the service and the
//! server. The binary (`main.rs`) only wires these together; tests use them directly.

pub mod app;
pub mod config;
pub mod context;
pub mod credentials;
pub mod file;
pub mod idle;
pub mod keys;
pub mod metered;
pub mod metrics;
pub mod retry;
pub mod server;
pub mod tls;
pub mod upstream;
