//! Configuration: each setting is declared once, as a field of [`Cli`], from which its flag, its
//! `BEDROCK_GATEWAY_*` environment variable, its key in the TOML file (the field's name) and its
//! default all follow; plus the AWS SDKs' standard environment variables. Everything is resolved
//! once at start-up into [`Settings`].
//!
//! Precedence: command-line flag > environment variable > file (`--config FILE`) > built-in
//! default. The file's values become the flags' defaults, so clap applies the precedence and
//! parses and checks the file's values exactly as it does the flags'. Besides the flags' keys
//! the file has three tables of its own: `[aliases]` (merged under `--model-alias`, which wins
//! by name), `[models.ID]` (per-model defaults) and `api_keys` (used when
//! `BEDROCK_GATEWAY_API_KEYS` is unset). Unknown keys are errors: a misspelt setting must not be
//! silently ignored.
//!
//! ```toml
//! listen = "0.0.0.0:3000"
//! default_model = "anthropic.claude-3-haiku-20240307-v1:0"
//! api_keys = ["change-me"]
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
//!
//! The process environment is read through the [`Env`] trait, so tests inject a map instead of
//! mutating the environment. Invalid configuration is a [`ConfigError`] naming the setting; only
//! the binary prints it and exits.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bedrock_translate::ModelDefaults;
use bedrock_translate::anthropic_models::InferenceProfilePrefix;
use bedrock_translate::endpoint::{BedrockEndpoint, Region};
use bedrock_translate::guardrail::{Guardrail, StreamProcessingMode};
use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::PromptCaching;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use response_store::{MemoryLimits, RedisUrl};
use thiserror::Error;

use crate::keys::GatewayKeys;
use crate::media::{Cidr, FetchSettings};
use crate::retry::RetrySettings;

/// Names of the environment variables read besides the flags' own.
pub mod vars {
    /// Access key id of the gateway's own credentials.
    pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
    /// Secret access key of the gateway's own credentials.
    pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
    /// Session token of the gateway's own credentials.
    pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
    /// Default region.
    pub const AWS_REGION: &str = "AWS_REGION";
    /// Default region, older name.
    pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
    /// Endpoint override for Bedrock Runtime only.
    pub const AWS_ENDPOINT_URL_BEDROCK_RUNTIME: &str = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME";
    /// Endpoint override for every AWS service.
    pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
    /// A Bedrock API key for the gateway's own use (`Authorization: Bearer`).
    pub const AWS_BEARER_TOKEN_BEDROCK: &str = "AWS_BEARER_TOKEN_BEDROCK";
    /// Gateway API keys, comma-separated (environment only: keys on a command line leak).
    pub const BEDROCK_GATEWAY_API_KEYS: &str = "BEDROCK_GATEWAY_API_KEYS";
}

/// The region used when neither a header nor the environment names one.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The model used when a request names none.
pub const DEFAULT_MODEL: &str = "amazon.titan-text-premier-v1:0";
/// The embedding model used when a request names none.
pub const DEFAULT_EMBEDDING_MODEL: &str = bedrock_translate::layer::DEFAULT_EMBEDDING_MODEL;

/// Reads environment variables.
pub trait Env {
    /// The value of `name`, `None` when unset or empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Env for HashMap<&str, &str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| (*v).to_owned())
    }
}

/// Which credentials requests may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CredentialSources {
    /// Request headers, else the gateway's own (environment, then the AWS default chain).
    Any,
    /// Only credentials in request headers: a multi-tenant gateway where every caller brings
    /// their own and the gateway never spends its own.
    Headers,
    /// Only the gateway's own: requests carrying credential headers are refused, so the
    /// gateway only ever spends its own role's money.
    Server,
}

/// How a guardrail processes streamed answers (Bedrock's `streamProcessingMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GuardrailStreamMode {
    /// Each chunk is assessed before it is sent.
    Sync,
    /// Chunks are sent at once and assessed in the background.
    Async,
}

impl From<GuardrailStreamMode> for StreamProcessingMode {
    fn from(mode: GuardrailStreamMode) -> Self {
        match mode {
            GuardrailStreamMode::Sync => Self::Sync,
            GuardrailStreamMode::Async => Self::Async,
        }
    }
}

/// What `cache_control` markers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PromptCachingMode {
    /// Markers are dropped.
    Off,
    /// A cache point after each marked part, message and tool.
    Explicit,
    /// Explicit, plus cache points after the system prompt and the tool list.
    Auto,
}

impl From<PromptCachingMode> for PromptCaching {
    fn from(mode: PromptCachingMode) -> Self {
        match mode {
            PromptCachingMode::Off => Self::Off,
            PromptCachingMode::Explicit => Self::Explicit,
            PromptCachingMode::Auto => Self::Auto,
        }
    }
}

/// The cross-region inference-profile prefix of Anthropic model names that need one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfilePrefix {
    /// From the request's region: us-*/ca-* -> us., eu-* -> eu., ap-* -> apac., else none.
    Auto,
    /// The plain model id.
    None,
    /// `us.`.
    Us,
    /// `eu.`.
    Eu,
    /// `apac.`.
    Apac,
}

impl From<ProfilePrefix> for InferenceProfilePrefix {
    fn from(prefix: ProfilePrefix) -> Self {
        match prefix {
            ProfilePrefix::Auto => Self::Auto,
            ProfilePrefix::None => Self::None,
            ProfilePrefix::Us => Self::Us,
            ProfilePrefix::Eu => Self::Eu,
            ProfilePrefix::Apac => Self::Apac,
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// An OpenAI-compatible gateway for AWS Bedrock.
///
/// Point any OpenAI client at http://LISTEN/v1 and talk to Bedrock models. AWS credentials
/// come from request headers (x-aws-access-key-id, x-aws-secret-access-key,
/// x-aws-session-token) or from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN;
/// the region from x-aws-region, AWS_REGION or AWS_DEFAULT_REGION (default us-east-1); the
/// upstream from AWS_ENDPOINT_URL_BEDROCK_RUNTIME or AWS_ENDPOINT_URL when set.
#[derive(Debug, Clone, Parser)]
#[command(name = "bedrock-gateway", version)]
pub struct Cli {
    /// TOML file with settings that do not fit flags (aliases, per-model defaults, API keys,
    /// limits); flags and environment variables win over it.
    #[arg(long, env = "BEDROCK_GATEWAY_CONFIG")]
    pub config: Option<std::path::PathBuf>,

    /// Address to listen on (use port 0 for any free port).
    #[arg(long, env = "BEDROCK_GATEWAY_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Model used when a request names none.
    #[arg(long, env = "BEDROCK_GATEWAY_DEFAULT_MODEL", default_value = DEFAULT_MODEL)]
    pub default_model: String,

    /// Embedding model used when an embeddings request names none.
    #[arg(long, env = "BEDROCK_GATEWAY_DEFAULT_EMBEDDING_MODEL", default_value = DEFAULT_EMBEDDING_MODEL)]
    pub default_embedding_model: String,

    /// Model alias NAME=BEDROCK_MODEL_ID (repeatable; comma-separated in the environment),
    /// e.g. gpt-4o=anthropic.claude-3-5-sonnet-20240620-v1:0.
    #[arg(
        long = "model-alias",
        env = "BEDROCK_GATEWAY_MODEL_ALIASES",
        value_delimiter = ','
    )]
    pub model_aliases: Vec<String>,

    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, env = "BEDROCK_GATEWAY_MAX_BODY_BYTES", default_value_t = 20 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Most inputs of one embeddings request (OpenAI's own limit is 2048); more: 400.
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_MAX_EMBEDDING_INPUTS",
        default_value_t = bedrock_translate::layer::MAX_EMBEDDING_INPUTS
    )]
    pub max_embedding_inputs: usize,

    /// Largest (non-streamed) Bedrock answer read, in bytes (larger: 502).
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_MAX_UPSTREAM_BODY_BYTES",
        default_value_t = bedrock_translate::layer::MAX_UPSTREAM_BODY
    )]
    pub max_upstream_body_bytes: usize,

    /// Seconds to wait for Bedrock's first byte (0: no limit).
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_UPSTREAM_TIMEOUT_SECS",
        default_value_t = 300
    )]
    pub upstream_timeout_secs: u64,

    /// Attempts per Bedrock request, the first included, for throttling, 5xx and connection
    /// failures (1: no retry).
    #[arg(long, env = "BEDROCK_GATEWAY_MAX_ATTEMPTS", default_value_t = 3)]
    pub max_attempts: u32,

    /// Upper bound of the first retry's backoff in milliseconds (doubled per retry, full jitter,
    /// at most 2 s; Retry-After wins when Bedrock sends it).
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_RETRY_BASE_DELAY_MS",
        default_value_t = 100
    )]
    pub retry_base_delay_ms: u64,

    /// Seconds a stream may stand still before it is cut, either way: Bedrock sending no event,
    /// or the client taking nothing of what the gateway has to send (0: no limit).
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_STREAM_IDLE_TIMEOUT_SECS",
        default_value_t = 120
    )]
    pub stream_idle_timeout_secs: u64,

    /// Seconds to connect to Bedrock.
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_CONNECT_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub connect_timeout_secs: u64,

    /// Seconds a client may take between two pieces of its request (headers or body), and
    /// that a connection may stay open with no request in flight (HTTP/1 and HTTP/2 alike).
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_CLIENT_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub client_timeout_secs: u64,

    /// Requests to Bedrock in flight at once; more are refused at once with 503 and
    /// Retry-After (0: no limit).
    #[arg(long, env = "BEDROCK_GATEWAY_MAX_CONCURRENCY", default_value_t = 1024)]
    pub max_concurrency: usize,

    /// Client connections open at once; beyond it, accepting pauses until one closes (0: half
    /// of the open-file limit left after 32 for the gateway's own use, as each connection may
    /// need one to Bedrock; 1024 where the limit cannot be read).
    #[arg(long, env = "BEDROCK_GATEWAY_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,

    /// Threads of the async runtime (0: one per CPU core).
    #[arg(long, env = "BEDROCK_GATEWAY_WORKER_THREADS", default_value_t = 0)]
    pub worker_threads: usize,

    /// Seconds in-flight requests may take to finish after SIGTERM/SIGINT.
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_SHUTDOWN_GRACE_SECS",
        default_value_t = 30
    )]
    pub shutdown_grace_secs: u64,

    /// Which credentials requests may use: any (headers, else the gateway's own), headers
    /// (callers must bring their own), server (only the gateway's own; credential headers are
    /// refused).
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_CREDENTIAL_SOURCES",
        value_enum,
        default_value = "any"
    )]
    pub credential_sources: CredentialSources,

    /// PEM certificate chain: serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) instead of plain HTTP.
    #[arg(long, env = "BEDROCK_GATEWAY_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, env = "BEDROCK_GATEWAY_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Guardrail ID:VERSION applied to every Converse call (ID: lowercase letters and digits, or
    /// a guardrail ARN; VERSION: DRAFT or a number); a request's x-bedrock-guardrail header
    /// replaces it.
    #[arg(long, env = "BEDROCK_GATEWAY_GUARDRAIL")]
    pub guardrail: Option<String>,

    /// Ask Bedrock for the guardrail trace (off by default).
    #[arg(long, env = "BEDROCK_GATEWAY_GUARDRAIL_TRACE")]
    pub guardrail_trace: bool,

    /// How a guardrail processes streamed answers: sync (each chunk is assessed before it is
    /// sent) or async (chunks are sent at once and assessed in the background).
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_GUARDRAIL_STREAM_MODE",
        value_enum,
        default_value = "sync"
    )]
    pub guardrail_stream_mode: GuardrailStreamMode,

    /// Prompt caching: off (cache_control markers dropped), explicit (a Bedrock cache point
    /// after each marked content part, message and tool) or auto (explicit, plus cache points
    /// after the system prompt and the tool list); only for models with prompt caching.
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_PROMPT_CACHING",
        value_enum,
        default_value = "explicit"
    )]
    pub prompt_caching: PromptCachingMode,

    /// The cross-region inference-profile prefix given to Anthropic model names
    /// (claude-sonnet-4-5, ...) of models Bedrock serves only through a profile: auto (from
    /// the request's region: us-*/ca-* us, eu-* eu, ap-* apac, other regions none), none, us,
    /// eu or apac. Model aliases win over the built-in names.
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_INFERENCE_PROFILE_PREFIX",
        value_enum,
        default_value = "auto"
    )]
    pub inference_profile_prefix: ProfilePrefix,

    /// Fetch the remote (https) image and document URLs of chat requests instead of refusing
    /// them with a 400: each host resolved once, every address checked against loopback,
    /// private, link-local, unique-local, CGNAT and cloud-metadata ranges before connecting; no
    /// redirects; Bedrock's size limits; 10 s per request; the type checked against the bytes.
    #[arg(long, env = "BEDROCK_GATEWAY_FETCH_REMOTE_MEDIA")]
    pub fetch_remote_media: bool,

    /// With --fetch-remote-media, fetch plain http URLs too.
    #[arg(long, env = "BEDROCK_GATEWAY_FETCH_REMOTE_MEDIA_ALLOW_HTTP")]
    pub fetch_remote_media_allow_http: bool,

    /// With --fetch-remote-media, a network (ADDRESS/PREFIX, or one address) fetched from
    /// despite the refused ranges (repeatable; comma-separated in the environment). For tests
    /// and private deployments only: it reopens the way to what it names.
    #[arg(
        long = "fetch-remote-media-allow-cidr",
        env = "BEDROCK_GATEWAY_FETCH_REMOTE_MEDIA_ALLOW_CIDRS",
        value_delimiter = ','
    )]
    pub fetch_remote_media_allow_cidr: Vec<String>,

    /// Where stored responses of the Responses API (`store: true`) are kept: `memory` (this
    /// process only, bounded by --response-store-max-entries and --response-store-max-bytes) or
    /// a Redis URL, redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://... for TLS, shared by every
    /// replica that names it. The password is never logged or shown.
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_RESPONSE_STORE",
        hide_env_values = true,
        default_value = "memory"
    )]
    pub response_store: StoreLocation,

    /// Seconds a stored response is kept, in either store (default 30 days, as OpenAI keeps
    /// them).
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_RESPONSE_STORE_TTL_SECS",
        default_value_t = MemoryLimits::DEFAULT_TTL.as_secs()
    )]
    pub response_store_ttl_secs: u64,

    /// Most responses the memory store keeps; beyond it the least recently used go first.
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_RESPONSE_STORE_MAX_ENTRIES",
        default_value_t = MemoryLimits::DEFAULT_MAX_ENTRIES
    )]
    pub response_store_max_entries: usize,

    /// Most bytes of records the memory store keeps (default 64 MiB); beyond it the least
    /// recently used go first.
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_RESPONSE_STORE_MAX_BYTES",
        default_value_t = MemoryLimits::DEFAULT_MAX_BYTES
    )]
    pub response_store_max_bytes: usize,

    /// Log format (RUST_LOG sets the level, default info).
    #[arg(
        long,
        env = "BEDROCK_GATEWAY_LOG_FORMAT",
        value_enum,
        default_value = "human"
    )]
    pub log_format: LogFormat,
}

/// Everything the gateway needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Default model.
    pub default_model: ModelId,
    /// Default embedding model.
    pub default_embedding_model: ModelId,
    /// Model aliases.
    pub aliases: HashMap<String, ModelId>,
    /// Region when the request has no `x-aws-region`.
    pub region: Region,
    /// Upstream override; `None` means `bedrock-runtime.{region}.amazonaws.com`.
    pub endpoint_override: Option<BedrockEndpoint>,
    /// Which credentials requests may use.
    pub credential_sources: CredentialSources,
    /// Keys clients must present; empty: open gateway.
    pub gateway_keys: GatewayKeys,
    /// Per-model request defaults (from the config file).
    pub model_defaults: HashMap<ModelId, ModelDefaults>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Most inputs of one embeddings request.
    pub max_embedding_inputs: usize,
    /// Largest (non-streamed) Bedrock answer read.
    pub max_upstream_body_bytes: usize,
    /// Time to Bedrock's first byte; `None`: no limit.
    pub upstream_timeout: Option<Duration>,
    /// Retries of Bedrock requests.
    pub retry: RetrySettings,
    /// Silence allowed between stream events (a year when the flag is 0).
    pub stream_idle_timeout: Duration,
    /// Connect timeout to Bedrock.
    pub connect_timeout: Duration,
    /// Silence allowed while a client sends its request.
    pub client_timeout: Duration,
    /// Concurrent Bedrock requests; `None`: no limit.
    pub max_concurrency: Option<usize>,
    /// Client connections open at once (resolved from the open-file limit when not set).
    pub max_connections: usize,
    /// Threads of the async runtime; `None`: one per CPU core.
    pub worker_threads: Option<usize>,
    /// TLS certificate chain and key files, when serving HTTPS.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// Drain period at shutdown.
    pub shutdown_grace: Duration,
    /// The guardrail of every Converse call (a request's `x-bedrock-guardrail` wins).
    pub guardrail: Option<Guardrail>,
    /// Whether Bedrock is asked for the guardrail trace.
    pub guardrail_trace: bool,
    /// How a guardrail processes streamed answers.
    pub guardrail_stream_mode: StreamProcessingMode,
    /// What `cache_control` markers do.
    pub prompt_caching: PromptCaching,
    /// The inference-profile prefix of Anthropic model names.
    pub inference_profile_prefix: InferenceProfilePrefix,
    /// Remote media fetching; `None`: off (remote URLs are a 400).
    pub fetch_remote_media: Option<FetchSettings>,
    /// Where stored responses are kept, and for how long.
    pub response_store: ResponseStoreSettings,
    /// Log format.
    pub log_format: LogFormat,
}

/// The `--response-store` setting as given: `memory` or a Redis URL, checked by
/// [`Settings::resolve`]. It may hold a password: `Debug` redacts it, and parsing never fails
/// (so that clap never quotes it in an error).
#[derive(Clone, PartialEq, Eq)]
pub struct StoreLocation(String);

impl std::str::FromStr for StoreLocation {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.trim().to_owned()))
    }
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match RedisUrl::parse(&self.0) {
            Ok(url) => write!(f, "StoreLocation({url})"),
            Err(_) if self.0 == "memory" => f.write_str("StoreLocation(memory)"),
            Err(_) => f.write_str("StoreLocation(** unrecognised, redacted **)"),
        }
    }
}

/// Where stored responses are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreBackend {
    /// In this process (one replica).
    Memory,
    /// In Redis, shared by replicas.
    Redis(RedisUrl),
}

/// Stored responses: where, for how long, and the memory store's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseStoreSettings {
    /// Where.
    pub backend: StoreBackend,
    /// The memory store's bounds, and the time to live of both stores (`limits.ttl`).
    pub limits: MemoryLimits,
}

impl ResponseStoreSettings {
    const SETTING: &'static str = "--response-store / BEDROCK_GATEWAY_RESPONSE_STORE";

    fn resolve(cli: &Cli) -> Result<Self, ConfigError> {
        let backend = match cli.response_store.0.as_str() {
            "memory" => StoreBackend::Memory,
            other => StoreBackend::Redis(
                RedisUrl::parse(other).map_err(|e| ConfigError::new(Self::SETTING, e))?,
            ),
        };
        for (value, setting) in [
            (cli.response_store_ttl_secs, "--response-store-ttl-secs"),
            (
                cli.response_store_max_entries as u64,
                "--response-store-max-entries",
            ),
            (
                cli.response_store_max_bytes as u64,
                "--response-store-max-bytes",
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::new(setting, "must be positive"));
            }
        }
        Ok(Self {
            backend,
            limits: MemoryLimits {
                max_entries: cli.response_store_max_entries,
                max_bytes: cli.response_store_max_bytes,
                ttl: Duration::from_secs(cli.response_store_ttl_secs),
            },
        })
    }
}

/// The configuration cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting has an unusable value.
    #[error("invalid setting {setting}: {reason}")]
    Invalid {
        /// The flag, variable or file key.
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The command line is wrong, or asks for `--help` / `--version` (clap's own message:
    /// [`clap::Error::exit`] prints it and exits with the right code).
    #[error(transparent)]
    CommandLine(#[from] clap::Error),
}

impl ConfigError {
    pub(crate) fn new(setting: &'static str, reason: impl ToString) -> Self {
        Self::Invalid {
            setting,
            reason: reason.to_string(),
        }
    }
}

impl Settings {
    /// Parses `args` (the process's when `None`), reads `--config` if given, and resolves
    /// everything against `env`.
    pub fn load(args: Option<Vec<String>>, env: &dyn Env) -> Result<Self, ConfigError> {
        let args: Vec<String> = args.unwrap_or_else(|| std::env::args().collect());
        let first = Cli::command().try_get_matches_from(&args)?;
        let Some(path) = first.get_one::<PathBuf>("config") else {
            return Self::resolve(Cli::from_arg_matches(&first)?, env);
        };
        let file = FileConfig::load(path)?;
        let matches = file
            .as_defaults(Cli::command())?
            .try_get_matches_from(&args)?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        // The file's aliases come first, so that flags and the environment win by name.
        let from_flags = std::mem::take(&mut cli.model_aliases);
        cli.model_aliases = file
            .aliases
            .iter()
            .map(|(name, id)| format!("{name}={id}"))
            .chain(from_flags)
            .collect();
        let mut settings = Self::resolve(cli, env)?;
        settings.apply_file(file.api_keys, file.models)?;
        Ok(settings)
    }

    /// The file-only settings: API keys (unless the environment set them) and model defaults.
    fn apply_file(
        &mut self,
        api_keys: Vec<String>,
        models: BTreeMap<String, ModelDefaults>,
    ) -> Result<(), ConfigError> {
        if self.gateway_keys.is_empty() && !api_keys.is_empty() {
            self.gateway_keys = GatewayKeys::parse(&api_keys.join(","));
        }
        for (name, defaults) in models {
            let id = match self.aliases.get(&name) {
                Some(id) => id.clone(),
                None => ModelId::parse(&name)
                    .map_err(|e| ConfigError::new("--config [models]", format!("'{name}': {e}")))?,
            };
            self.model_defaults.insert(id, defaults);
        }
        Ok(())
    }

    /// Validates the flags and reads the AWS environment variables from `env`.
    pub fn resolve(cli: Cli, env: &dyn Env) -> Result<Self, ConfigError> {
        let default_model = ModelId::parse(&cli.default_model)
            .map_err(|e| ConfigError::new("--default-model / BEDROCK_GATEWAY_DEFAULT_MODEL", e))?;
        let default_embedding_model =
            ModelId::parse(&cli.default_embedding_model).map_err(|e| {
                ConfigError::new(
                    "--default-embedding-model / BEDROCK_GATEWAY_DEFAULT_EMBEDDING_MODEL",
                    e,
                )
            })?;
        let aliases = parse_aliases(&cli.model_aliases)?;
        let region_var = env.var(vars::AWS_REGION).map(|r| (vars::AWS_REGION, r));
        let region = match region_var.or_else(|| {
            env.var(vars::AWS_DEFAULT_REGION)
                .map(|r| (vars::AWS_DEFAULT_REGION, r))
        }) {
            Some((name, value)) => Region::parse(&value).map_err(|e| ConfigError::new(name, e))?,
            None => Region::parse(DEFAULT_REGION).expect("the default region is valid"),
        };
        let endpoint_override = endpoint_override(env)?;
        if cli.max_attempts == 0 {
            return Err(ConfigError::new(
                "--max-attempts / BEDROCK_GATEWAY_MAX_ATTEMPTS",
                "must be at least 1",
            ));
        }
        if cli.tls_cert.is_some() != cli.tls_key.is_some() {
            return Err(ConfigError::new(
                "--tls-cert / --tls-key",
                "give both the certificate chain and its key",
            ));
        }
        for (value, setting) in [
            (cli.max_body_bytes, "--max-body-bytes"),
            (cli.max_embedding_inputs, "--max-embedding-inputs"),
            (cli.max_upstream_body_bytes, "--max-upstream-body-bytes"),
        ] {
            if value == 0 {
                return Err(ConfigError::new(setting, "must be positive"));
            }
        }
        let guardrail = cli
            .guardrail
            .as_deref()
            .map(Guardrail::parse)
            .transpose()
            .map_err(|e| ConfigError::new("--guardrail / BEDROCK_GATEWAY_GUARDRAIL", e))?;
        let allow = cli
            .fetch_remote_media_allow_cidr
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .map(Cidr::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                ConfigError::new(
                    "--fetch-remote-media-allow-cidr / BEDROCK_GATEWAY_FETCH_REMOTE_MEDIA_ALLOW_CIDRS",
                    e,
                )
            })?;
        let fetch_remote_media = cli.fetch_remote_media.then_some(FetchSettings {
            allow_http: cli.fetch_remote_media_allow_http,
            allow,
        });
        let max_connections = match cli.max_connections {
            0 => default_max_connections(open_files_limit()),
            n if n > MAX_CONNECTIONS => {
                return Err(ConfigError::new(
                    "--max-connections / BEDROCK_GATEWAY_MAX_CONNECTIONS",
                    format!("at most {MAX_CONNECTIONS}"),
                ));
            }
            n => n,
        };
        let response_store = ResponseStoreSettings::resolve(&cli)?;
        Ok(Self {
            listen: cli.listen,
            default_model,
            default_embedding_model,
            aliases,
            region,
            endpoint_override,
            credential_sources: cli.credential_sources,
            gateway_keys: env
                .var(vars::BEDROCK_GATEWAY_API_KEYS)
                .map(|k| GatewayKeys::parse(&k))
                .unwrap_or_default(),
            model_defaults: HashMap::new(),
            max_body_bytes: cli.max_body_bytes,
            max_embedding_inputs: cli.max_embedding_inputs,
            max_upstream_body_bytes: cli.max_upstream_body_bytes,
            upstream_timeout: (cli.upstream_timeout_secs > 0)
                .then(|| Duration::from_secs(cli.upstream_timeout_secs)),
            retry: RetrySettings {
                max_attempts: cli.max_attempts,
                base_delay: Duration::from_millis(cli.retry_base_delay_ms),
                ..RetrySettings::default()
            },
            stream_idle_timeout: Duration::from_secs(match cli.stream_idle_timeout_secs {
                0 => 365 * 24 * 3600,
                secs => secs,
            }),
            connect_timeout: Duration::from_secs(cli.connect_timeout_secs.max(1)),
            client_timeout: Duration::from_secs(cli.client_timeout_secs.max(1)),
            max_concurrency: (cli.max_concurrency > 0).then_some(cli.max_concurrency),
            max_connections,
            worker_threads: (cli.worker_threads > 0).then_some(cli.worker_threads),
            tls: cli.tls_cert.zip(cli.tls_key),
            shutdown_grace: Duration::from_secs(cli.shutdown_grace_secs),
            guardrail,
            guardrail_trace: cli.guardrail_trace,
            guardrail_stream_mode: cli.guardrail_stream_mode.into(),
            prompt_caching: cli.prompt_caching.into(),
            inference_profile_prefix: cli.inference_profile_prefix.into(),
            fetch_remote_media,
            response_store,
            log_format: cli.log_format,
        })
    }
}

/// The largest `--max-connections`.
const MAX_CONNECTIONS: usize = u32::MAX as usize;
/// File descriptors left out of the default connection limit, for the gateway's own use
/// (listener, runtime, logs, certificate files).
const RESERVED_FILES: u64 = 32;
/// The default connection limit where the open-file limit cannot be read.
const FALLBACK_MAX_CONNECTIONS: usize = 1024;

/// The default connection limit for a soft open-file limit of `open_files`: half of what is
/// left after [`RESERVED_FILES`], as each client connection may need one to Bedrock.
fn default_max_connections(open_files: Option<u64>) -> usize {
    open_files.map_or(FALLBACK_MAX_CONNECTIONS, |files| {
        let half = files.saturating_sub(RESERVED_FILES) / 2;
        usize::try_from(half).map_or(MAX_CONNECTIONS, |n| n.clamp(1, MAX_CONNECTIONS))
    })
}

/// The process's soft limit of open files (`RLIMIT_NOFILE`), read from `/proc/self/limits`
/// (Linux; no system call, as the workspace has no unsafe code); `None` elsewhere.
fn open_files_limit() -> Option<u64> {
    parse_open_files_limit(&std::fs::read_to_string("/proc/self/limits").ok()?)
}

/// The soft limit of the `Max open files` line of a `/proc/PID/limits` text; `None` when
/// missing or unlimited.
fn parse_open_files_limit(limits: &str) -> Option<u64> {
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|soft| soft.parse().ok())
}

/// The TOML file: the flags' values by key, and the three file-only tables.
#[derive(Debug, Default)]
struct FileConfig {
    /// Values of flags, by the flag's id (the `Cli` field name).
    flags: Vec<(String, Vec<String>)>,
    aliases: BTreeMap<String, String>,
    api_keys: Vec<String>,
    models: BTreeMap<String, ModelDefaults>,
}

impl FileConfig {
    const SETTING: &'static str = "--config";

    /// Reads and parses `path`; any value that is not a flag's or a file-only table's is an error.
    fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(
                Self::SETTING,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        let table: toml::Table = toml::from_str(&text)
            .map_err(|e| ConfigError::new(Self::SETTING, format!("{}: {e}", path.display())))?;
        let bad = |key: &str, what: String| {
            ConfigError::new(Self::SETTING, format!("{}: {key}: {what}", path.display()))
        };
        let mut file = Self::default();
        for (key, value) in table {
            match key.as_str() {
                "aliases" => {
                    file.aliases = value.try_into().map_err(|e| bad(&key, format!("{e}")))?
                }
                "api_keys" => {
                    file.api_keys = value.try_into().map_err(|e| bad(&key, format!("{e}")))?
                }
                "models" => {
                    file.models = value.try_into().map_err(|e| bad(&key, format!("{e}")))?
                }
                "config" => return Err(bad(&key, "a file cannot name another".into())),
                _ => {
                    let values = match value {
                        toml::Value::Array(items) => items.into_iter().map(scalar).collect(),
                        other => vec![scalar(other)],
                    };
                    let values = values
                        .into_iter()
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| bad(&key, "expected a string, number or boolean".into()))?;
                    file.flags.push((key, values));
                }
            }
        }
        Ok(file)
    }

    /// `command` with the file's values as its flags' defaults.
    fn as_defaults(&self, mut command: clap::Command) -> Result<clap::Command, ConfigError> {
        for (key, values) in &self.flags {
            let known = command
                .get_arguments()
                .any(|arg| arg.get_id() == key.as_str() && arg.get_long().is_some());
            if !known {
                return Err(ConfigError::new(
                    Self::SETTING,
                    format!("unknown setting '{key}'"),
                ));
            }
            let values: Vec<clap::builder::OsStr> =
                values.iter().map(|v| v.clone().into()).collect();
            command = command.mut_arg(key.as_str(), |arg| arg.default_values(values));
        }
        Ok(command)
    }
}

/// A TOML scalar as the text a flag would carry.
fn scalar(value: toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_aliases(raw: &[String]) -> Result<HashMap<String, ModelId>, ConfigError> {
    const SETTING: &str = "--model-alias / BEDROCK_GATEWAY_MODEL_ALIASES";
    let mut aliases = HashMap::new();
    for entry in raw.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        let (name, id) = entry
            .split_once('=')
            .ok_or_else(|| ConfigError::new(SETTING, format!("'{entry}' is not NAME=MODEL_ID")))?;
        let id = ModelId::parse(id.trim())
            .map_err(|e| ConfigError::new(SETTING, format!("'{entry}': {e}")))?;
        aliases.insert(name.trim().to_owned(), id);
    }
    Ok(aliases)
}

fn endpoint_override(env: &dyn Env) -> Result<Option<BedrockEndpoint>, ConfigError> {
    for name in [
        vars::AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
        vars::AWS_ENDPOINT_URL,
    ] {
        if let Some(url) = env.var(name) {
            return BedrockEndpoint::parse(&url)
                .map(Some)
                .map_err(|e| ConfigError::new(name, e));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("bedrock-gateway").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn defaults() {
        let settings = Settings::resolve(cli(&[]), &HashMap::new()).unwrap();
        assert_eq!(settings.listen, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(settings.region.as_str(), "us-east-1");
        assert_eq!(settings.default_model.as_str(), DEFAULT_MODEL);
        assert!(settings.endpoint_override.is_none());
        assert_eq!(settings.credential_sources, CredentialSources::Any);
        assert_eq!(settings.max_embedding_inputs, 2048);
        assert_eq!(settings.max_upstream_body_bytes, 25_000_000);
        assert_eq!(settings.prompt_caching, PromptCaching::Explicit);
        let auto = Settings::resolve(cli(&["--prompt-caching", "auto"]), &HashMap::new()).unwrap();
        assert_eq!(auto.prompt_caching, PromptCaching::Auto);
        assert_eq!(
            settings.inference_profile_prefix,
            InferenceProfilePrefix::Auto
        );
        let eu = Settings::resolve(cli(&["--inference-profile-prefix", "eu"]), &HashMap::new());
        assert_eq!(
            eu.unwrap().inference_profile_prefix,
            InferenceProfilePrefix::Eu
        );
    }

    #[test]
    fn reads_the_aws_environment() {
        let env = HashMap::from([
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_REGION", "eu-west-3"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:2"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]);
        let settings = Settings::resolve(
            cli(&[
                "--model-alias",
                "gpt-4o=anthropic.claude-3-haiku-20240307-v1:0",
            ]),
            &env,
        )
        .unwrap();
        assert_eq!(settings.region.as_str(), "eu-west-3");
        assert_eq!(
            settings.endpoint_override.unwrap().to_string(),
            "http://127.0.0.1:2"
        );
        assert_eq!(
            settings.aliases["gpt-4o"].as_str(),
            "anthropic.claude-3-haiku-20240307-v1:0"
        );
    }

    #[test]
    fn errors_name_the_setting() {
        let cases: [(&[&str], HashMap<&str, &str>, &str); 4] = [
            (
                &[],
                HashMap::from([("AWS_REGION", "us-east-1.evil.example")]),
                "AWS_REGION",
            ),
            (
                &[],
                HashMap::from([("AWS_ENDPOINT_URL", "ftp://x")]),
                "AWS_ENDPOINT_URL",
            ),
            (
                &["--default-model", "../x"],
                HashMap::new(),
                "--default-model",
            ),
            (&["--model-alias", "nope"], HashMap::new(), "--model-alias"),
        ];
        for (args, env, setting) in cases {
            let err = Settings::resolve(cli(args), &env).unwrap_err();
            assert!(err.to_string().contains(setting), "{err}");
        }
    }

    #[test]
    fn the_config_file_fills_what_flags_and_env_leave_out() {
        let dir =
            std::env::temp_dir().join(format!("bedrock-gateway-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gateway.toml");
        std::fs::write(
            &path,
            r#"
listen = "0.0.0.0:4000"
max_concurrency = 7
max_attempts = 5
api_keys = ["file-key-0123456789"]
credential_sources = "server"
[aliases]
fast = "anthropic.claude-3-haiku-20240307-v1:0"
gpt-4o = "amazon.nova-pro-v1:0"
[models.fast]
max_tokens = 99
"#,
        )
        .unwrap();
        let args = |extra: &[&str]| {
            let mut args = vec![
                "bedrock-gateway".to_owned(),
                "--config".to_owned(),
                path.display().to_string(),
            ];
            args.extend(extra.iter().map(|s| (*s).to_owned()));
            Some(args)
        };
        let settings = Settings::load(
            args(&[
                "--max-attempts",
                "2",
                "--model-alias",
                "gpt-4o=anthropic.claude-3-sonnet-20240229-v1:0",
            ]),
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!(settings.listen, "0.0.0.0:4000".parse().unwrap());
        assert_eq!(settings.max_concurrency, Some(7));
        assert_eq!(
            settings.retry.max_attempts, 2,
            "the flag wins over the file"
        );
        assert_eq!(settings.credential_sources, CredentialSources::Server);
        assert_eq!(
            settings.aliases["gpt-4o"].as_str(),
            "anthropic.claude-3-sonnet-20240229-v1:0",
            "the flag's alias wins"
        );
        let haiku = ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
        assert_eq!(settings.model_defaults[&haiku].max_tokens, Some(99));
        assert!(!settings.gateway_keys.is_empty());
        std::fs::write(&path, "listen = \"127.0.0.1:1\"\nmax_concurency = 3\n").unwrap();
        let err = Settings::load(args(&[]), &HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("max_concurency"), "{err}");
    }

    #[test]
    fn guardrail_settings_from_flags_environment_and_file() {
        let settings = Settings::resolve(cli(&[]), &HashMap::new()).unwrap();
        assert_eq!(
            (
                settings.guardrail,
                settings.guardrail_trace,
                settings.guardrail_stream_mode
            ),
            (None, false, StreamProcessingMode::Sync)
        );
        let settings = Settings::resolve(
            cli(&[
                "--guardrail",
                "abc123:2",
                "--guardrail-trace",
                "--guardrail-stream-mode",
                "async",
            ]),
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!(settings.guardrail.unwrap().to_string(), "abc123:2");
        assert!(settings.guardrail_trace);
        assert_eq!(settings.guardrail_stream_mode, StreamProcessingMode::Async);
        for bad in ["abc123", "ABC:1", "abc:v1", "abc:0"] {
            let err = Settings::resolve(cli(&["--guardrail", bad]), &HashMap::new()).unwrap_err();
            assert!(err.to_string().contains("--guardrail"), "{err}");
        }
        let dir =
            std::env::temp_dir().join(format!("bedrock-gateway-guardrail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gateway.toml");
        std::fs::write(
            &path,
            "guardrail = \"arn:aws:bedrock:us-east-1:123456789012:guardrail/xyz:DRAFT\"\nguardrail_trace = true\nguardrail_stream_mode = \"async\"\n",
        )
        .unwrap();
        let args = vec![
            "bedrock-gateway".to_owned(),
            "--config".to_owned(),
            path.display().to_string(),
        ];
        let settings = Settings::load(Some(args), &HashMap::new()).unwrap();
        assert_eq!(
            settings.guardrail.unwrap().identifier(),
            "arn:aws:bedrock:us-east-1:123456789012:guardrail/xyz"
        );
        assert!(settings.guardrail_trace);
        assert_eq!(settings.guardrail_stream_mode, StreamProcessingMode::Async);
    }

    #[test]
    fn remote_media_is_off_unless_asked_for() {
        let settings = Settings::resolve(cli(&[]), &HashMap::new()).unwrap();
        assert!(settings.fetch_remote_media.is_none());
        let settings = Settings::resolve(
            cli(&[
                "--fetch-remote-media",
                "--fetch-remote-media-allow-http",
                "--fetch-remote-media-allow-cidr",
                "127.0.0.1/32",
            ]),
            &HashMap::new(),
        )
        .unwrap();
        let fetch = settings.fetch_remote_media.unwrap();
        assert!(fetch.allow_http);
        assert_eq!(fetch.allow, [Cidr::parse("127.0.0.1/32").unwrap()]);
        let env = HashMap::from([
            ("BEDROCK_GATEWAY_FETCH_REMOTE_MEDIA", "true"),
            (
                "BEDROCK_GATEWAY_FETCH_REMOTE_MEDIA_ALLOW_CIDRS",
                "10.0.0.0/8, ::1",
            ),
        ]);
        let err = Settings::resolve(
            cli(&[
                "--fetch-remote-media",
                "--fetch-remote-media-allow-cidr",
                "10.0.0.0/40",
            ]),
            &env,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("--fetch-remote-media-allow-cidr"),
            "{err}"
        );
        // The file's keys are the flags' names with underscores.
        let dir =
            std::env::temp_dir().join(format!("bedrock-gateway-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gateway.toml");
        std::fs::write(
            &path,
            "fetch_remote_media = true\nfetch_remote_media_allow_cidr = [\"127.0.0.1/32\", \"::1\"]\n",
        )
        .unwrap();
        let args = vec![
            "bedrock-gateway".to_owned(),
            "--config".to_owned(),
            path.display().to_string(),
        ];
        let fetch = Settings::load(Some(args), &HashMap::new())
            .unwrap()
            .fetch_remote_media
            .unwrap();
        assert!(!fetch.allow_http);
        assert_eq!(fetch.allow.len(), 2);
    }

    #[test]
    fn the_default_connection_limit_follows_the_open_file_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             95105                95105                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files_limit(limits), Some(1024));
        assert_eq!(
            parse_open_files_limit("Max open files  unlimited  unlimited  files"),
            None
        );
        assert_eq!(parse_open_files_limit(""), None);
        assert_eq!(default_max_connections(Some(1024)), 496);
        assert_eq!(default_max_connections(Some(256)), 112);
        assert_eq!(default_max_connections(Some(10)), 1);
        assert_eq!(default_max_connections(None), FALLBACK_MAX_CONNECTIONS);
        let settings =
            Settings::resolve(cli(&["--max-connections", "7"]), &HashMap::new()).unwrap();
        assert_eq!(settings.max_connections, 7);
        let settings = Settings::resolve(cli(&[]), &HashMap::new()).unwrap();
        assert!(settings.max_connections >= 1);
    }

    #[test]
    fn the_response_store_is_memory_unless_a_redis_url_is_given() {
        let settings = Settings::resolve(cli(&[]), &HashMap::new()).unwrap();
        assert_eq!(settings.response_store.backend, StoreBackend::Memory);
        assert_eq!(settings.response_store.limits, MemoryLimits::default());
        let settings = Settings::resolve(
            cli(&[
                "--response-store",
                "redis://:hunter2@10.0.0.5:6379/3",
                "--response-store-ttl-secs",
                "60",
                "--response-store-max-entries",
                "5",
                "--response-store-max-bytes",
                "1000",
            ]),
            &HashMap::new(),
        )
        .unwrap();
        let StoreBackend::Redis(url) = &settings.response_store.backend else {
            panic!("{settings:?}");
        };
        assert_eq!(url.to_string(), "redis://***@10.0.0.5:6379/3");
        assert_eq!(settings.response_store.limits.ttl, Duration::from_secs(60));
        assert_eq!(settings.response_store.limits.max_entries, 5);
        assert_eq!(settings.response_store.limits.max_bytes, 1000);
        let debug = format!(
            "{settings:?} {:?}",
            cli(&["--response-store", "redis://:hunter2@h"])
        );
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn a_bad_response_store_is_refused_without_its_password() {
        for bad in ["mysql://u:hunter2@h/db", "redis//:hunter2@h", "memcached"] {
            let err = Settings::resolve(cli(&["--response-store", bad]), &HashMap::new())
                .unwrap_err()
                .to_string();
            assert!(err.contains("--response-store"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        let err = Settings::resolve(cli(&["--response-store-ttl-secs", "0"]), &HashMap::new())
            .unwrap_err();
        assert!(
            err.to_string().contains("--response-store-ttl-secs"),
            "{err}"
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let env = HashMap::from([
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret"),
            ("AWS_SESSION_TOKEN", "tok-secret"),
            ("BEDROCK_GATEWAY_API_KEYS", "gateway-key-secret"),
        ]);
        let settings = Settings::resolve(cli(&[]), &env).unwrap();
        let debug = format!("{settings:?}");
        for secret in ["very-secret", "tok-secret", "gateway-key-secret"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
