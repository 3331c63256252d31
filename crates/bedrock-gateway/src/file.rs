//! The optional TOML configuration file (`--config FILE`), for what does not fit flags: model
//! aliases, per-model defaults, gateway keys, limits.
//!
//! Precedence: command-line flag > environment variable > file > built-in default. Unknown keys
//! are errors (a misspelt setting must not be silently ignored).
//!
//! ```toml
//! listen = "0.0.0.0:3000"
//! default_model = "anthropic.claude-3-haiku-20240307-v1:0"
//! api_keys = ["change-me"]          # BEDROCK_GATEWAY_API_KEYS wins when set
//! max_concurrency = 512
//! credential_sources = "server"
//!
//! [aliases]
//! gpt-4o = "anthropic.claude-3-5-sonnet-20240620-v1:0"
//!
//! [models."anthropic.claude-3-haiku-20240307-v1:0"]
//! max_tokens = 1024
//! temperature = 0.3
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use bedrock_translate::ModelDefaults;
use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Deserialize;

use crate::config::{Cli, ConfigError, CredentialSources, LogFormat};

/// The file's settings; every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<SocketAddr>,
    default_model: Option<String>,
    default_embedding_model: Option<String>,
    #[serde(default)]
    aliases: BTreeMap<String, String>,
    /// Gateway API keys (used when `BEDROCK_GATEWAY_API_KEYS` is unset).
    #[serde(default)]
    pub api_keys: Vec<String>,
    max_body_bytes: Option<usize>,
    max_concurrency: Option<usize>,
    worker_threads: Option<usize>,
    max_attempts: Option<u32>,
    retry_base_delay_ms: Option<u64>,
    upstream_timeout_secs: Option<u64>,
    stream_idle_timeout_secs: Option<u64>,
    connect_timeout_secs: Option<u64>,
    client_timeout_secs: Option<u64>,
    shutdown_grace_secs: Option<u64>,
    credential_sources: Option<CredentialSources>,
    log_format: Option<LogFormat>,
    /// Per-model defaults, by model id or alias.
    #[serde(default)]
    pub models: BTreeMap<String, ModelDefaults>,
}

impl FileConfig {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new("--config", format!("cannot read {}: {e}", path.display()))
        })?;
        toml::from_str(&text)
            .map_err(|e| ConfigError::new("--config", format!("{}: {e}", path.display())))
    }

    /// Fills the flags that the command line and the environment left at their defaults.
    pub fn apply_to(&self, cli: &mut Cli, matches: &ArgMatches) {
        fn set<T: Clone>(matches: &ArgMatches, id: &str, target: &mut T, value: &Option<T>) {
            let defaulted = matches!(
                matches.value_source(id),
                None | Some(ValueSource::DefaultValue)
            );
            if let (true, Some(value)) = (defaulted, value) {
                *target = value.clone();
            }
        }
        set(matches, "listen", &mut cli.listen, &self.listen);
        set(
            matches,
            "default_model",
            &mut cli.default_model,
            &self.default_model,
        );
        set(
            matches,
            "default_embedding_model",
            &mut cli.default_embedding_model,
            &self.default_embedding_model,
        );
        set(
            matches,
            "max_body_bytes",
            &mut cli.max_body_bytes,
            &self.max_body_bytes,
        );
        set(
            matches,
            "max_concurrency",
            &mut cli.max_concurrency,
            &self.max_concurrency,
        );
        set(
            matches,
            "worker_threads",
            &mut cli.worker_threads,
            &self.worker_threads,
        );
        set(
            matches,
            "max_attempts",
            &mut cli.max_attempts,
            &self.max_attempts,
        );
        set(
            matches,
            "retry_base_delay_ms",
            &mut cli.retry_base_delay_ms,
            &self.retry_base_delay_ms,
        );
        set(
            matches,
            "upstream_timeout_secs",
            &mut cli.upstream_timeout_secs,
            &self.upstream_timeout_secs,
        );
        set(
            matches,
            "stream_idle_timeout_secs",
            &mut cli.stream_idle_timeout_secs,
            &self.stream_idle_timeout_secs,
        );
        set(
            matches,
            "connect_timeout_secs",
            &mut cli.connect_timeout_secs,
            &self.connect_timeout_secs,
        );
        set(
            matches,
            "client_timeout_secs",
            &mut cli.client_timeout_secs,
            &self.client_timeout_secs,
        );
        set(
            matches,
            "shutdown_grace_secs",
            &mut cli.shutdown_grace_secs,
            &self.shutdown_grace_secs,
        );
        set(
            matches,
            "credential_sources",
            &mut cli.credential_sources,
            &self.credential_sources,
        );
        set(matches, "log_format", &mut cli.log_format, &self.log_format);
        // Aliases from flags or the environment come after the file's, so they win by name.
        let from_flags = std::mem::take(&mut cli.model_aliases);
        cli.model_aliases = self
            .aliases
            .iter()
            .map(|(name, id)| format!("{name}={id}"))
            .chain(from_flags)
            .collect();
    }
}
