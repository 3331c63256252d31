//! Per-request decisions taken from the request headers, before anything is translated:
//! the provider, the AWS credentials and the region (hence the Bedrock endpoint).
//!
//! Precedence: credentials from `x-aws-*` headers, else the gateway's own; region from
//! `x-aws-region`, else the configured one. Every header value is validated here, so nothing
//! a client sends reaches a host name or a signature unchecked.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use aws_credential_types::Credentials;
use bedrock_translate::ApiError;
use bedrock_translate::endpoint::{BedrockEndpoint, Region};
use bedrock_translate::guardrail::Guardrail;
use http::{HeaderMap, Request, StatusCode};
use tower::{Layer, Service};

use crate::config::{CredentialSources, Settings};
use crate::credentials::check_key_pair;
use crate::credentials::{AwsAuth, BearerToken, ServerAuth};
use crate::error::GatewayError;

/// Header naming the provider; absent means `bedrock`.
pub const PROVIDER: &str = "x-provider";
/// Header carrying an access key id.
pub const ACCESS_KEY_ID: &str = "x-aws-access-key-id";
/// Header carrying a secret access key.
pub const SECRET_ACCESS_KEY: &str = "x-aws-secret-access-key";
/// Header carrying a session token.
pub const SESSION_TOKEN: &str = "x-aws-session-token";
/// Header naming the region.
pub const REGION: &str = "x-aws-region";
/// Header naming the request's guardrail, `ID:VERSION` (replaces `--guardrail`).
pub const GUARDRAIL: &str = "x-bedrock-guardrail";
/// Header carrying a Bedrock API key (sent to Bedrock as `Authorization: Bearer`).
pub const BEARER_TOKEN: &str = "x-aws-bearer-token-bedrock";

/// What a request resolves to.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// How to authenticate to Bedrock.
    pub auth: AwsAuth,
    /// The signing region.
    pub region: Region,
    /// Where the request goes.
    pub endpoint: BedrockEndpoint,
    /// The request's own guardrail (`x-bedrock-guardrail`), replacing the configured one.
    pub guardrail: Option<Guardrail>,
}

impl RequestContext {
    /// Resolves provider, credentials, region and endpoint from the headers, the settings and
    /// the gateway's own authentication. Precedence: request headers, then the gateway's own
    /// (environment, then the default chain), as `credential_sources` allows.
    pub async fn resolve(
        headers: &HeaderMap,
        settings: &Settings,
        server: &ServerAuth,
    ) -> Result<Self, ApiError> {
        check_provider(headers)?;
        let region = match header(headers, REGION)? {
            Some(name) => Region::parse(name).map_err(|e| {
                ApiError::invalid_request(format!("{REGION} header: {e}"), Some(REGION))
            })?,
            None => settings.region.clone(),
        };
        let guardrail = header(headers, GUARDRAIL)?
            .map(|value| {
                Guardrail::parse(value).map_err(|e| {
                    ApiError::invalid_request(format!("{GUARDRAIL} header: {e}"), Some(GUARDRAIL))
                })
            })
            .transpose()?;
        let from_headers = header_auth(headers)?;
        let auth = match (from_headers, settings.credential_sources) {
            (Some(_), CredentialSources::Server) => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    openai_types::ErrorObject::new(
                        "this gateway does not accept AWS credentials in request headers: remove the x-aws-* credential headers",
                        "permission_error",
                    )
                    .with_code("header_credentials_forbidden"),
                ));
            }
            (Some(auth), _) => auth,
            (None, CredentialSources::Headers) => return Err(no_credentials(false)),
            (None, _) => server.auth().await?.ok_or_else(|| no_credentials(true))?,
        };
        let endpoint = match &settings.endpoint_override {
            Some(endpoint) => endpoint.clone(),
            None => BedrockEndpoint::for_region(&region),
        };
        Ok(Self {
            auth,
            region,
            endpoint,
            guardrail,
        })
    }

    /// Moves the decisions into request extensions for the translator and the signer. The
    /// [`Region`] is one value that both read (the signer through
    /// `SigV4LayerBuilder::region_from`), and the endpoint was derived from it, so the host and
    /// the signature's region cannot disagree.
    pub fn insert_into(self, extensions: &mut http::Extensions) {
        extensions.insert(self.region);
        match self.auth {
            AwsAuth::SigV4(credentials) => {
                extensions.insert(credentials);
            }
            AwsAuth::Bearer(token) => {
                extensions.insert(token);
            }
        }
        extensions.insert(self.endpoint);
        if let Some(guardrail) = self.guardrail {
            extensions.insert(guardrail);
        }
    }
}

/// Resolves each request's [`RequestContext`] and moves it into the request's extensions,
/// for the translator (endpoint) and the signer (credentials, region).
#[derive(Debug, Clone)]
pub struct ContextLayer {
    shared: Arc<(Settings, ServerAuth)>,
}

impl ContextLayer {
    /// Resolves against `settings` and the gateway's own authentication.
    pub fn new(settings: Settings, server: ServerAuth) -> Self {
        Self {
            shared: Arc::new((settings, server)),
        }
    }
}

impl<S> Layer<S> for ContextLayer {
    type Service = Contextualise<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Contextualise {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// See [`ContextLayer`].
#[derive(Debug, Clone)]
pub struct Contextualise<S> {
    inner: S,
    shared: Arc<(Settings, ServerAuth)>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<B>> for Contextualise<S>
where
    S: Service<Request<B>, Error = GatewayError> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = GatewayError;
    type Future = BoxFuture<Result<S::Response, GatewayError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), GatewayError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            let (settings, server) = &*shared;
            let (mut parts, body) = request.into_parts();
            RequestContext::resolve(&parts.headers, settings, server)
                .await?
                .insert_into(&mut parts.extensions);
            inner.call(Request::from_parts(parts, body)).await
        })
    }
}

fn check_provider(headers: &HeaderMap) -> Result<(), ApiError> {
    match header(headers, PROVIDER)? {
        None => Ok(()),
        Some(p) if p.eq_ignore_ascii_case("bedrock") => Ok(()),
        Some(other) => Err(ApiError::invalid_request(
            format!(
                "unsupported provider '{}': this gateway serves x-provider: bedrock",
                printable(other)
            ),
            Some(PROVIDER),
        )),
    }
}

/// A header as text; a value that is not visible ASCII is a 400.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|v| Some(v.trim()).filter(|v| !v.is_empty()))
            .map_err(|_| {
                ApiError::invalid_request(
                    format!("{name} header must be visible ASCII"),
                    Some(name),
                )
            }),
    }
}

fn header_auth(headers: &HeaderMap) -> Result<Option<AwsAuth>, ApiError> {
    if let Some(token) = header(headers, BEARER_TOKEN)? {
        let token = BearerToken::new(token).ok_or_else(|| {
            ApiError::authentication(
                format!("{BEARER_TOKEN} is not a valid key"),
                "invalid_aws_credentials",
            )
        })?;
        return Ok(Some(AwsAuth::Bearer(token)));
    }
    Ok(header_credentials(headers)?.map(AwsAuth::SigV4))
}

fn header_credentials(headers: &HeaderMap) -> Result<Option<Credentials>, ApiError> {
    let access_key = header(headers, ACCESS_KEY_ID)?;
    let secret = header(headers, SECRET_ACCESS_KEY)?;
    let token = header(headers, SESSION_TOKEN)?;
    match (access_key, secret) {
        (Some(access_key), Some(secret)) => {
            check_key_pair(access_key, secret, token).map_err(|e| {
                ApiError::authentication(
                    format!("invalid AWS credential headers: {e}"),
                    "invalid_aws_credentials",
                )
            })?;
            Ok(Some(Credentials::new(
                access_key,
                secret,
                token.map(str::to_owned),
                None,
                "request headers",
            )))
        }
        (None, None) if token.is_none() => Ok(None),
        _ => Err(ApiError::authentication(
            format!(
                "incomplete AWS credentials: send both {ACCESS_KEY_ID} and {SECRET_ACCESS_KEY} (and {SESSION_TOKEN} for temporary credentials)"
            ),
            "invalid_aws_credentials",
        )),
    }
}

fn no_credentials(server_allowed: bool) -> ApiError {
    let headers = format!(
        "send {ACCESS_KEY_ID} and {SECRET_ACCESS_KEY} headers (and {SESSION_TOKEN} for temporary credentials), or a Bedrock API key in {BEARER_TOKEN}"
    );
    let message = if server_allowed {
        format!(
            "no AWS credentials: {headers}, or give the gateway its own (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_BEARER_TOKEN_BEDROCK, a profile or a role)"
        )
    } else {
        format!("no AWS credentials: this gateway uses the caller's own; {headers}")
    };
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        openai_types::ErrorObject::new(message, "authentication_error")
            .with_code("missing_aws_credentials"),
    )
}

/// A client value quoted back in an error, cut short.
fn printable(value: &str) -> String {
    value.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_credential_types::Credentials;
    use clap::Parser;

    use super::*;
    use crate::config::Cli;

    fn settings(args: &[&str]) -> Settings {
        let cli =
            Cli::try_parse_from(std::iter::once("bedrock-gateway").chain(args.iter().copied()))
                .unwrap();
        Settings::resolve(cli, &HashMap::new()).unwrap()
    }

    fn env_server() -> ServerAuth {
        ServerAuth::Static(Credentials::new(
            "AKIAENVENVENVENV0000",
            "env",
            None,
            None,
            "test",
        ))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    fn key_of(ctx: &RequestContext) -> &str {
        match &ctx.auth {
            AwsAuth::SigV4(c) => c.access_key_id(),
            AwsAuth::Bearer(_) => "bearer",
        }
    }

    const KEYS: [(&str, &str); 2] = [
        (ACCESS_KEY_ID, "AKIAHEADERHEADER0000"),
        (SECRET_ACCESS_KEY, "hdr"),
    ];

    #[tokio::test]
    async fn header_credentials_win_over_the_servers() {
        let s = settings(&[]);
        let mut h = headers(&KEYS);
        h.insert(SESSION_TOKEN, "tok".parse().unwrap());
        let ctx = RequestContext::resolve(&h, &s, &env_server())
            .await
            .unwrap();
        assert_eq!(key_of(&ctx), "AKIAHEADERHEADER0000");
        let ctx = RequestContext::resolve(&HeaderMap::new(), &s, &env_server())
            .await
            .unwrap();
        assert_eq!(key_of(&ctx), "AKIAENVENVENVENV0000");
        let ctx =
            RequestContext::resolve(&headers(&[(BEARER_TOKEN, "api-key")]), &s, &env_server())
                .await
                .unwrap();
        assert_eq!(key_of(&ctx), "bearer");
    }

    #[tokio::test]
    async fn credential_sources_forbid_either_side() {
        let headers_only = settings(&["--credential-sources", "headers"]);
        let err = RequestContext::resolve(&HeaderMap::new(), &headers_only, &env_server())
            .await
            .unwrap_err();
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        let server_only = settings(&["--credential-sources", "server"]);
        let err = RequestContext::resolve(&headers(&KEYS), &server_only, &env_server())
            .await
            .unwrap_err();
        assert_eq!(err.status, StatusCode::FORBIDDEN);
        assert!(
            RequestContext::resolve(&HeaderMap::new(), &server_only, &env_server())
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn no_credentials_is_401_with_instructions() {
        let err = RequestContext::resolve(&HeaderMap::new(), &settings(&[]), &ServerAuth::None)
            .await
            .unwrap_err();
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        assert!(err.error.message.contains("x-aws-access-key-id"));
    }

    #[tokio::test]
    async fn region_header_selects_the_endpoint() {
        let mut h = headers(&KEYS);
        h.insert(REGION, "eu-west-3".parse().unwrap());
        let ctx = RequestContext::resolve(&h, &settings(&[]), &ServerAuth::None)
            .await
            .unwrap();
        assert_eq!(
            ctx.endpoint.to_string(),
            "https://bedrock-runtime.eu-west-3.amazonaws.com"
        );
        h.insert(REGION, "us-east-1.evil.example#".parse().unwrap());
        let err = RequestContext::resolve(&h, &settings(&[]), &ServerAuth::None)
            .await
            .unwrap_err();
        assert_eq!(
            (err.status, err.error.param.as_deref()),
            (StatusCode::BAD_REQUEST, Some(REGION))
        );
    }

    #[tokio::test]
    async fn the_guardrail_header_is_validated_and_carried() {
        let mut h = headers(&KEYS);
        let ctx = RequestContext::resolve(&h, &settings(&[]), &ServerAuth::None)
            .await
            .unwrap();
        assert_eq!(ctx.guardrail, None);
        h.insert(GUARDRAIL, "abc123:DRAFT".parse().unwrap());
        let ctx = RequestContext::resolve(&h, &settings(&[]), &ServerAuth::None)
            .await
            .unwrap();
        let mut extensions = http::Extensions::new();
        ctx.insert_into(&mut extensions);
        assert_eq!(
            extensions.get::<Guardrail>().map(ToString::to_string),
            Some("abc123:DRAFT".to_owned())
        );
        for bad in ["abc123", "abc 123:1", "Abc:1", "abc:1:2x", "abc:DRAFT2"] {
            h.insert(GUARDRAIL, bad.parse().unwrap());
            let err = RequestContext::resolve(&h, &settings(&[]), &ServerAuth::None)
                .await
                .unwrap_err();
            assert_eq!(
                (err.status, err.error.param.as_deref()),
                (StatusCode::BAD_REQUEST, Some(GUARDRAIL)),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn provider_must_be_bedrock() {
        let ok = RequestContext::resolve(
            &headers(&[(PROVIDER, "Bedrock")]),
            &settings(&[]),
            &env_server(),
        )
        .await;
        assert!(ok.is_ok());
        let err = RequestContext::resolve(
            &headers(&[(PROVIDER, "openai")]),
            &settings(&[]),
            &env_server(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn partial_or_malformed_header_credentials_are_401() {
        for h in [
            headers(&[(ACCESS_KEY_ID, "AKIAHEADERHEADER0000")]),
            headers(&[(SESSION_TOKEN, "t")]),
            headers(&[(ACCESS_KEY_ID, "AKIA/2024"), (SECRET_ACCESS_KEY, "s")]),
            headers(&[(ACCESS_KEY_ID, "AKIA,x=y"), (SECRET_ACCESS_KEY, "s")]),
            headers(&[(ACCESS_KEY_ID, &"A".repeat(129)), (SECRET_ACCESS_KEY, "s")]),
            headers(&[
                (ACCESS_KEY_ID, "test"),
                (SECRET_ACCESS_KEY, &"s".repeat(257)),
            ]),
        ] {
            let err = RequestContext::resolve(&h, &settings(&[]), &env_server())
                .await
                .unwrap_err();
            assert_eq!(err.status, StatusCode::UNAUTHORIZED, "{h:?}");
        }
    }

    #[tokio::test]
    async fn short_access_key_ids_are_accepted_from_headers_as_from_the_environment() {
        for id in ["test", "t", "key_1.local-x"] {
            let h = headers(&[(ACCESS_KEY_ID, id), (SECRET_ACCESS_KEY, "test")]);
            let ctx = RequestContext::resolve(&h, &settings(&[]), &ServerAuth::None)
                .await
                .unwrap();
            assert_eq!(key_of(&ctx), id);
        }
    }
}
