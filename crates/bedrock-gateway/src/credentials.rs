//! The gateway's own AWS authentication, used when a request brings none: a Bedrock API key
//! (`AWS_BEARER_TOKEN_BEDROCK`), static keys from the environment, or the AWS default
//! credential chain (shared config and credentials files with `AWS_PROFILE`, SSO, web identity
//! as on EKS, ECS container credentials, EC2 instance metadata), through `aws-config`.
//!
//! Chain credentials are cached and refreshed five minutes before they expire, one refresh at a
//! time, never fetched per request. Secrets live in types whose `Debug` redacts.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use bedrock_translate::ApiError;
use bedrock_translate::endpoint::Region;
use http::{HeaderValue, StatusCode};
use tokio::sync::{Mutex, RwLock};

use crate::config::{Env, vars};

/// How long before expiry cached credentials are refreshed.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A Bedrock API key, sent as `Authorization: Bearer` instead of a SigV4 signature.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(Arc<str>);

impl BearerToken {
    /// A token; `None` when it is empty or not a valid header value.
    pub fn new(token: &str) -> Option<Self> {
        let token = token.trim();
        let valid =
            !token.is_empty() && token.len() <= 8192 && HeaderValue::from_str(token).is_ok();
        valid.then(|| Self(Arc::from(token)))
    }

    /// The `Authorization` header value, marked sensitive.
    pub fn header_value(&self) -> HeaderValue {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", self.0)).expect("validated in new");
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(** redacted **)")
    }
}

/// How one request authenticates to Bedrock.
#[derive(Debug, Clone)]
pub enum AwsAuth {
    /// Sign with SigV4.
    SigV4(Credentials),
    /// Send a Bedrock API key.
    Bearer(BearerToken),
}

/// The gateway's own authentication.
#[derive(Debug, Clone)]
pub enum ServerAuth {
    /// None: every request must bring credentials.
    None,
    /// `AWS_BEARER_TOKEN_BEDROCK`.
    Bearer(BearerToken),
    /// Keys from the environment.
    Static(Credentials),
    /// The AWS default credential chain, cached.
    Chain(Arc<CachedCredentials>),
}

impl ServerAuth {
    /// Reads the environment: the bearer token first (as the AWS SDKs prefer it), then static
    /// keys, then the default chain. `use_chain: false` skips the chain (for a gateway where
    /// every caller brings credentials).
    pub async fn from_env(env: &dyn Env, region: &Region, use_chain: bool) -> Result<Self, String> {
        if let Some(token) = env.var(vars::AWS_BEARER_TOKEN_BEDROCK) {
            return BearerToken::new(&token).map(Self::Bearer).ok_or_else(|| {
                format!(
                    "{} is not a valid header value",
                    vars::AWS_BEARER_TOKEN_BEDROCK
                )
            });
        }
        match (
            env.var(vars::AWS_ACCESS_KEY_ID),
            env.var(vars::AWS_SECRET_ACCESS_KEY),
        ) {
            (Some(key), Some(secret)) => {
                let token = env.var(vars::AWS_SESSION_TOKEN);
                return Ok(Self::Static(Credentials::new(
                    key,
                    secret,
                    token,
                    None,
                    "environment",
                )));
            }
            (Some(_), None) => {
                return Err(format!(
                    "{} is unset while {} is set",
                    vars::AWS_SECRET_ACCESS_KEY,
                    vars::AWS_ACCESS_KEY_ID
                ));
            }
            (None, Some(_)) => {
                return Err(format!(
                    "{} is unset while {} is set",
                    vars::AWS_ACCESS_KEY_ID,
                    vars::AWS_SECRET_ACCESS_KEY
                ));
            }
            (None, None) => {}
        }
        if !use_chain {
            return Ok(Self::None);
        }
        Ok(Self::Chain(Arc::new(
            CachedCredentials::default_chain(region).await?,
        )))
    }

    /// Whether the gateway can spend its own AWS money.
    pub fn is_some(&self) -> bool {
        !matches!(self, Self::None)
    }

    /// The authentication for a request that brought none.
    pub async fn auth(&self) -> Result<Option<AwsAuth>, ApiError> {
        match self {
            Self::None => Ok(None),
            Self::Bearer(token) => Ok(Some(AwsAuth::Bearer(token.clone()))),
            Self::Static(credentials) => Ok(Some(AwsAuth::SigV4(credentials.clone()))),
            Self::Chain(cache) => cache.get().await.map(|c| c.map(AwsAuth::SigV4)),
        }
    }
}

/// Credentials from a provider, cached until five minutes before they expire.
pub struct CachedCredentials {
    provider: SharedCredentialsProvider,
    cached: RwLock<Option<Credentials>>,
    refresh: Mutex<()>,
}

impl fmt::Debug for CachedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedCredentials")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl CachedCredentials {
    /// Caches `provider`.
    pub fn new(provider: SharedCredentialsProvider) -> Self {
        Self {
            provider,
            cached: RwLock::new(None),
            refresh: Mutex::new(()),
        }
    }

    /// The AWS default chain, with a rustls (ring) HTTP client for the providers that call out
    /// (SSO, STS web identity, ECS, IMDS). `AWS_EC2_METADATA_DISABLED=true` turns IMDS off.
    pub async fn default_chain(region: &Region) -> Result<Self, String> {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .region(aws_config::Region::new(region.as_str().to_owned()))
            .load()
            .await;
        let provider = config
            .credentials_provider()
            .ok_or("aws-config built no credential provider")?;
        Ok(Self::new(provider))
    }

    /// Valid credentials: the cached ones, or freshly provided. `Ok(None)` when the chain found
    /// nothing at all.
    pub async fn get(&self) -> Result<Option<Credentials>, ApiError> {
        if let Some(credentials) = self.fresh().await {
            return Ok(Some(credentials));
        }
        let _single_flight = self.refresh.lock().await;
        if let Some(credentials) = self.fresh().await {
            return Ok(Some(credentials));
        }
        match self.provider.provide_credentials().await {
            Ok(credentials) => {
                tracing::info!(expiry = ?credentials.expiry(), "loaded AWS credentials");
                *self.cached.write().await = Some(credentials.clone());
                Ok(Some(credentials))
            }
            Err(aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(
                _,
            )) => Ok(None),
            Err(err) => {
                tracing::warn!(error = %error_chain(&err), "could not load AWS credentials");
                Err(ApiError::server(
                    StatusCode::BAD_GATEWAY,
                    "the gateway could not load its AWS credentials",
                    "credentials_unavailable",
                ))
            }
        }
    }

    async fn fresh(&self) -> Option<Credentials> {
        let cached = self.cached.read().await;
        cached
            .as_ref()
            .filter(|c| {
                c.expiry()
                    .is_none_or(|e| e > SystemTime::now() + REFRESH_MARGIN)
            })
            .cloned()
    }
}

/// An error and its sources on one line (the provider errors say little at the top level).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
