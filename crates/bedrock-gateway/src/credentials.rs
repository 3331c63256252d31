//! The gateway's own AWS authentication, used when a request brings none: a Bedrock API key
//! (`AWS_BEARER_TOKEN_BEDROCK`), static keys from the environment, or the AWS default
//! credential chain (shared config and credentials files with `AWS_PROFILE`, SSO, web identity
//! as on EKS, ECS container credentials, EC2 instance metadata), through `aws-config`.
//!
//! Chain credentials are cached ([`CachedCredentials`]) and refreshed in the background ahead
//! of their expiry, one load at a time, never fetched per request; a failed refresh keeps the
//! valid ones in use until they expire. The chain is asked once at start-up, and the log says
//! whether the gateway has credentials of its own. Secrets live in types whose `Debug` redacts.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::imds::client::error::ImdsError;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use bedrock_translate::ApiError;
use bedrock_translate::endpoint::Region;
use http::{HeaderValue, StatusCode};
use tokio::sync::Mutex;

use crate::config::{Env, vars};

/// How long before expiry cached credentials are refreshed, at most: credentials that live
/// shorter are refreshed when half their lifetime is left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// After a refresh that failed or a load that found nothing, how long until the provider is
/// asked again (meanwhile valid credentials are still used, or the same answer is given).
pub const RETRY_INTERVAL: Duration = Duration::from_secs(10);

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

    /// The token itself (for a digest of it: never log it).
    pub fn secret(&self) -> &str {
        &self.0
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

/// The longest access key id, secret access key and session token accepted.
pub const MAX_ACCESS_KEY_ID: usize = 128;
/// See [`MAX_ACCESS_KEY_ID`].
pub const MAX_SECRET_ACCESS_KEY: usize = 256;
/// See [`MAX_ACCESS_KEY_ID`].
pub const MAX_SESSION_TOKEN: usize = 16 * 1024;

/// Checks a key pair (and session token) the same way whatever its source (request headers or
/// the environment), for what could corrupt a signature or a header only: the access key id
/// goes into the `Authorization` header's credential scope, so it must be 1 to 128 letters,
/// digits, `_`, `-` or `.` (real AWS ids are 16 or more capitals and digits; local emulators
/// and test set-ups use ids such as `test`, which are accepted); the secret only keys the
/// HMAC, so any text of at most 256 characters will do; the session token is sent as
/// `x-amz-security-token`, so it must be a valid header value of at most 16 KiB. Whether the
/// key is known is AWS's to say.
pub fn check_key_pair(
    access_key_id: &str,
    secret: &str,
    session_token: Option<&str>,
) -> Result<(), String> {
    let valid_id = (1..=MAX_ACCESS_KEY_ID).contains(&access_key_id.len())
        && access_key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !valid_id {
        return Err(format!(
            "the access key id must be 1 to {MAX_ACCESS_KEY_ID} letters, digits, '_', '-' or '.'"
        ));
    }
    if secret.is_empty() || secret.len() > MAX_SECRET_ACCESS_KEY {
        return Err(format!(
            "the secret access key must be 1 to {MAX_SECRET_ACCESS_KEY} characters"
        ));
    }
    if let Some(token) = session_token {
        let valid = !token.is_empty()
            && token.len() <= MAX_SESSION_TOKEN
            && HeaderValue::from_str(token).is_ok();
        if !valid {
            return Err(format!(
                "the session token must be a valid HTTP header value of 1 to {MAX_SESSION_TOKEN} bytes"
            ));
        }
    }
    Ok(())
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
                check_key_pair(&key, &secret, token.as_deref()).map_err(|e| {
                    format!(
                        "{} / {} / {}: {e}",
                        vars::AWS_ACCESS_KEY_ID,
                        vars::AWS_SECRET_ACCESS_KEY,
                        vars::AWS_SESSION_TOKEN
                    )
                })?;
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
        let chain = Arc::new(CachedCredentials::default_chain(region).await?);
        chain.probe();
        Ok(Self::Chain(chain))
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

/// Credentials from a provider, cached.
///
/// - Valid credentials (no expiry, or an expiry still ahead) are served from the cache. Ahead of
///   their expiry ([`REFRESH_MARGIN`], or half their lifetime when that is shorter) the first
///   request to notice starts one refresh in the background and is served the cached ones.
/// - A refresh that fails keeps the valid credentials in use and is tried again after
///   [`RETRY_INTERVAL`]; only once they have expired does a request fail.
/// - Without valid credentials a request loads them itself; concurrent ones wait for that one
///   load. A load that finds nothing (`Ok(None)`: the caller answers 401) or fails (502) is
///   answered as is for [`RETRY_INTERVAL`] before the provider is asked again.
///
/// An instance-metadata endpoint (IMDS) that refuses the IMDSv2 token (HTTP 403, as in
/// containers that block it) counts as no credentials, as botocore counts it, not as a failure.
pub struct CachedCredentials {
    provider: SharedCredentialsProvider,
    state: RwLock<State>,
    /// One load at a time: the first, one after expiry, or a background refresh.
    loading: Mutex<()>,
    /// A background refresh has been started and has not finished.
    refreshing: AtomicBool,
}

/// What the cache holds.
#[derive(Debug, Clone, Default)]
struct State {
    credentials: Option<Credentials>,
    /// When to ask the provider again; `None`: not before the credentials are gone.
    next_load: Option<SystemTime>,
    /// Why the last load gave nothing.
    failure: Option<Failure>,
}

/// Why a load gave no credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// No provider of the chain has any: requests must bring their own (401).
    NotFound,
    /// A provider failed (502).
    Failed,
}

impl Failure {
    /// The answer to a request that needs the gateway's credentials.
    fn answer(self) -> Result<Option<Credentials>, ApiError> {
        match self {
            Self::NotFound => Ok(None),
            Self::Failed => Err(ApiError::server(
                StatusCode::BAD_GATEWAY,
                "the gateway could not load its AWS credentials",
                "credentials_unavailable",
            )),
        }
    }
}

/// What a request gets from the cache as it is.
enum Lookup {
    /// Valid credentials; `true` when a refresh is due.
    Valid(Credentials, bool),
    /// The last load's answer, still standing.
    Failed(Failure),
    /// Nothing usable: load now.
    Load,
}

impl State {
    fn lookup(&self, now: SystemTime) -> Lookup {
        let due = self.next_load.is_some_and(|at| now >= at);
        match &self.credentials {
            Some(credentials) if credentials.expiry().is_none_or(|expiry| expiry > now) => {
                Lookup::Valid(credentials.clone(), due)
            }
            _ => match self.failure {
                Some(failure) if !due => Lookup::Failed(failure),
                _ => Lookup::Load,
            },
        }
    }
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
            state: RwLock::new(State::default()),
            loading: Mutex::new(()),
            refreshing: AtomicBool::new(false),
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

    /// Loads the credentials once in the background and logs whether the gateway has any of
    /// its own (at start-up, so that the first request does not wait for the chain).
    pub fn probe(self: &Arc<Self>) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            match this.get().await {
                Ok(Some(credentials)) => tracing::info!(
                    expiry = ?credentials.expiry(),
                    "the gateway has AWS credentials of its own"
                ),
                Ok(None) => tracing::warn!(
                    "the gateway has no AWS credentials of its own: every request must bring its own (x-aws-access-key-id and x-aws-secret-access-key, or x-aws-bearer-token-bedrock), or it is refused with 401 missing_aws_credentials"
                ),
                Err(_) => tracing::warn!(
                    "the gateway could not load AWS credentials of its own at start-up; it will try again"
                ),
            }
        });
    }

    /// Valid credentials: the cached ones, or freshly provided. `Ok(None)` when the chain found
    /// nothing at all.
    pub async fn get(self: &Arc<Self>) -> Result<Option<Credentials>, ApiError> {
        let lookup = self.read().lookup(SystemTime::now());
        match lookup {
            Lookup::Valid(credentials, refresh_due) => {
                if refresh_due {
                    self.refresh_in_background();
                }
                Ok(Some(credentials))
            }
            Lookup::Failed(failure) => failure.answer(),
            Lookup::Load => self.load().await,
        }
    }

    /// Loads credentials for a request that has none valid; one load at a time.
    async fn load(&self) -> Result<Option<Credentials>, ApiError> {
        let _single_flight = self.loading.lock().await;
        // Another request may have loaded them while this one waited.
        let lookup = self.read().lookup(SystemTime::now());
        match lookup {
            Lookup::Valid(credentials, _) => return Ok(Some(credentials)),
            Lookup::Failed(failure) => return failure.answer(),
            Lookup::Load => {}
        }
        let loaded = self.provider.provide_credentials().await;
        match self.store(loaded) {
            Some(failure) => failure.answer(),
            None => {
                let credentials = self.read().credentials.clone();
                Ok(credentials)
            }
        }
    }

    /// Starts one refresh in the background, unless one is running.
    fn refresh_in_background(self: &Arc<Self>) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            {
                let _single_flight = this.loading.lock().await;
                let next_load = this.read().next_load;
                let due = next_load.is_some_and(|at| SystemTime::now() >= at);
                if due {
                    let loaded = this.provider.provide_credentials().await;
                    if this.store(loaded).is_some() {
                        let expiry = this
                            .read()
                            .credentials
                            .as_ref()
                            .and_then(Credentials::expiry);
                        tracing::warn!(
                            ?expiry,
                            "could not refresh the gateway's AWS credentials: the cached ones are used until they expire"
                        );
                    }
                }
            }
            this.refreshing.store(false, Ordering::Release);
        });
    }

    /// Keeps what a load gave: new credentials, or why there are none (the valid credentials
    /// held stay in use). Returns the failure, if any.
    fn store(&self, loaded: Result<Credentials, CredentialsError>) -> Option<Failure> {
        let now = SystemTime::now();
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        match loaded {
            Ok(credentials) => {
                tracing::info!(expiry = ?credentials.expiry(), "loaded AWS credentials");
                state.next_load = refresh_time(&credentials, now);
                state.credentials = Some(credentials);
                state.failure = None;
                None
            }
            Err(err) => {
                let failure = classify(&err);
                if failure == Failure::Failed {
                    tracing::warn!(error = %error_chain(&err), "could not load AWS credentials");
                } else {
                    tracing::debug!(error = %error_chain(&err), "no AWS credentials found");
                }
                state.next_load = Some(now + RETRY_INTERVAL);
                state.failure = Some(failure);
                Some(failure)
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// When credentials loaded at `now` are refreshed: [`REFRESH_MARGIN`] before they expire, or
/// when half their lifetime is left if that is later; `None` for credentials without expiry.
fn refresh_time(credentials: &Credentials, now: SystemTime) -> Option<SystemTime> {
    let expiry = credentials.expiry()?;
    let lifetime = expiry.duration_since(now).unwrap_or_default();
    Some(expiry - REFRESH_MARGIN.min(lifetime / 2))
}

/// Whether a provider error means "no credentials here" or a failure. An IMDS that refuses the
/// IMDSv2 token (403 in containers that block it, or any other refusal) has no credentials for
/// the gateway, as botocore concludes too.
fn classify(err: &CredentialsError) -> Failure {
    if matches!(err, CredentialsError::CredentialsNotLoaded(_)) {
        return Failure::NotFound;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(ImdsError::FailedToLoadToken(_)) = current.downcast_ref::<ImdsError>() {
            return Failure::NotFound;
        }
        source = current.source();
    }
    Failure::Failed
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

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::atomic::AtomicUsize;

    use aws_credential_types::provider::future;

    use super::*;

    /// A provider giving scripted answers (then failures), counting the calls.
    #[derive(Debug)]
    struct Scripted {
        calls: Arc<AtomicUsize>,
        answers: std::sync::Mutex<VecDeque<Result<Credentials, CredentialsError>>>,
    }

    impl ProvideCredentials for Scripted {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let next = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| Err(CredentialsError::provider_error("the script ended")));
            future::ProvideCredentials::ready(next)
        }
    }

    fn cache(
        answers: impl IntoIterator<Item = Result<Credentials, CredentialsError>>,
    ) -> (Arc<CachedCredentials>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let provider = Scripted {
            calls: Arc::clone(&calls),
            answers: std::sync::Mutex::new(answers.into_iter().collect()),
        };
        let cache = CachedCredentials::new(SharedCredentialsProvider::new(provider));
        (Arc::new(cache), calls)
    }

    fn expiring_in(lifetime: Duration, key: &str) -> Credentials {
        Credentials::new(
            key,
            "secret",
            Some("token".to_owned()),
            Some(SystemTime::now() + lifetime),
            "test",
        )
    }

    #[tokio::test]
    async fn short_lived_credentials_are_not_fetched_per_request() {
        // Four minutes: less than the five-minute margin.
        let (cache, calls) = cache([Ok(expiring_in(Duration::from_secs(240), "ASIA1"))]);
        for _ in 0..100 {
            let credentials = cache.get().await.unwrap().unwrap();
            assert_eq!(credentials.access_key_id(), "ASIA1");
        }
        tokio::task::yield_now().await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_are_refreshed_ahead_of_expiry_in_the_background() {
        let (cache, calls) = cache([
            Ok(expiring_in(Duration::from_secs(2), "ASIA1")),
            Ok(expiring_in(Duration::from_secs(3600), "ASIA2")),
        ]);
        assert_eq!(cache.get().await.unwrap().unwrap().access_key_id(), "ASIA1");
        // Half the lifetime gone: a refresh is due, and the valid ones are served meanwhile.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(cache.get().await.unwrap().unwrap().access_key_id(), "ASIA1");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one refresh");
        assert_eq!(cache.get().await.unwrap().unwrap().access_key_id(), "ASIA2");
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_valid_credentials_until_they_expire() {
        let (cache, calls) = cache([Ok(expiring_in(Duration::from_secs(3), "ASIA1"))]);
        assert!(cache.get().await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(1600)).await;
        // The refresh is due and fails: the cached credentials are still valid, and served.
        for _ in 0..10 {
            let credentials = cache.get().await.unwrap().unwrap();
            assert_eq!(credentials.access_key_id(), "ASIA1");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "one failed refresh, not one per request"
        );
        // Expired, and the provider still failing: now requests fail.
        tokio::time::sleep(Duration::from_millis(1600)).await;
        let err = cache.get().await.unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_GATEWAY);
        assert_eq!(err.error.code.as_deref(), Some("credentials_unavailable"));
    }

    #[tokio::test]
    async fn no_credentials_anywhere_is_none_and_not_asked_per_request() {
        let (cache, calls) = cache([Err(CredentialsError::not_loaded("nothing here"))]);
        for _ in 0..10 {
            assert!(cache.get().await.unwrap().is_none());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn refresh_time_is_the_margin_or_half_the_lifetime() {
        let now = SystemTime::now();
        let hour = Credentials::new("A", "s", None, Some(now + Duration::from_secs(3600)), "t");
        assert_eq!(
            refresh_time(&hour, now),
            Some(now + Duration::from_secs(3600) - REFRESH_MARGIN)
        );
        let short = Credentials::new("A", "s", None, Some(now + Duration::from_secs(120)), "t");
        assert_eq!(
            refresh_time(&short, now),
            Some(now + Duration::from_secs(60))
        );
        let forever = Credentials::new("A", "s", None, None, "t");
        assert_eq!(refresh_time(&forever, now), None);
    }

    #[test]
    fn key_pairs_are_checked_for_characters_not_length() {
        assert!(check_key_pair("test", "test", None).is_ok());
        assert!(check_key_pair("AKIAIOSFODNN7EXAMPLE", "s/+=", Some("tok+/=")).is_ok());
        for (id, secret, token) in [
            ("", "s", None),
            ("AKIA/2024", "s", None),
            ("AKIA KEY", "s", None),
            ("AKIA,Signature=x", "s", None),
            ("test", "", None),
            ("test", "s", Some("line\nbreak")),
        ] {
            assert!(
                check_key_pair(id, secret, token).is_err(),
                "{id:?} {token:?}"
            );
        }
        assert!(check_key_pair(&"A".repeat(129), "s", None).is_err());
    }

    #[tokio::test]
    async fn environment_keys_are_checked_as_header_keys() {
        let region = Region::parse("us-east-1").unwrap();
        let env = std::collections::HashMap::from([
            (vars::AWS_ACCESS_KEY_ID, "test"),
            (vars::AWS_SECRET_ACCESS_KEY, "test"),
        ]);
        let auth = ServerAuth::from_env(&env, &region, false).await.unwrap();
        assert!(matches!(auth, ServerAuth::Static(c) if c.access_key_id() == "test"));
        let env = std::collections::HashMap::from([
            (vars::AWS_ACCESS_KEY_ID, "AKIA/bad"),
            (vars::AWS_SECRET_ACCESS_KEY, "test"),
        ]);
        let err = ServerAuth::from_env(&env, &region, false)
            .await
            .unwrap_err();
        assert!(err.contains("access key id"), "{err}");
    }
}
