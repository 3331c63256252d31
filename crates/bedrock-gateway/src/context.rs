//! Per-request decisions taken from the request headers, before anything is translated:
//! the provider, the AWS credentials and the region (hence the Bedrock endpoint).
//!
//! Precedence: credentials from `x-aws-*` headers, else the gateway's own; region from
//! `x-aws-region`, else the configured one. Every header value is validated here, so nothing
//! a client sends reaches a host name or a signature unchecked.

use aws_credential_types::Credentials;
use bedrock_translate::ApiError;
use bedrock_translate::endpoint::{BedrockEndpoint, Region};
use http::HeaderMap;
use http::StatusCode;
use sigv4_layer::SigningRegion;

use crate::config::Settings;

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

/// What a request resolves to.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Credentials to sign with.
    pub credentials: Credentials,
    /// The signing region.
    pub region: Region,
    /// Where the request goes.
    pub endpoint: BedrockEndpoint,
}

impl RequestContext {
    /// Resolves provider, credentials, region and endpoint from the headers and settings.
    pub fn resolve(headers: &HeaderMap, settings: &Settings) -> Result<Self, ApiError> {
        check_provider(headers)?;
        let region = match header(headers, REGION)? {
            Some(name) => Region::parse(name).map_err(|e| {
                ApiError::invalid_request(format!("{REGION} header: {e}"), Some(REGION))
            })?,
            None => settings.region.clone(),
        };
        let credentials = match header_credentials(headers)? {
            Some(credentials) => credentials,
            None => settings
                .server_credentials
                .clone()
                .ok_or_else(no_credentials)?,
        };
        let endpoint = match &settings.endpoint_override {
            Some(endpoint) => endpoint.clone(),
            None => BedrockEndpoint::for_region(&region),
        };
        Ok(Self {
            credentials,
            region,
            endpoint,
        })
    }

    /// Moves the decisions into request extensions for the translator and the signer.
    pub fn insert_into(self, extensions: &mut http::Extensions) {
        extensions.insert(SigningRegion::new(self.region.as_str().to_owned()));
        extensions.insert(self.credentials);
        extensions.insert(self.endpoint);
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

fn header_credentials(headers: &HeaderMap) -> Result<Option<Credentials>, ApiError> {
    let access_key = header(headers, ACCESS_KEY_ID)?;
    let secret = header(headers, SECRET_ACCESS_KEY)?;
    let token = header(headers, SESSION_TOKEN)?;
    match (access_key, secret) {
        (Some(access_key), Some(secret)) => {
            let valid_key = (16..=128).contains(&access_key.len())
                && access_key.bytes().all(|b| b.is_ascii_alphanumeric());
            if !valid_key {
                return Err(ApiError::authentication(
                    format!(
                        "{ACCESS_KEY_ID} is not an AWS access key id (16 to 128 letters and digits)"
                    ),
                    "invalid_aws_credentials",
                ));
            }
            if secret.len() > 256 || token.is_some_and(|t| t.len() > 16 * 1024) {
                return Err(ApiError::authentication(
                    "AWS credential headers are too long",
                    "invalid_aws_credentials",
                ));
            }
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

fn no_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        openai_types::ErrorObject::new(
            format!(
                "no AWS credentials: send {ACCESS_KEY_ID} and {SECRET_ACCESS_KEY} headers (and {SESSION_TOKEN} for temporary credentials), or start the gateway with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set"
            ),
            "authentication_error",
        )
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

    use clap::Parser;

    use super::*;
    use crate::config::Cli;

    fn settings(env: &[(&str, &str)]) -> Settings {
        let env: HashMap<&str, &str> = env.iter().copied().collect();
        Settings::resolve(Cli::try_parse_from(["bedrock-gateway"]).unwrap(), &env).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn header_credentials_win_over_the_environment() {
        let s = settings(&[
            ("AWS_ACCESS_KEY_ID", "AKIAENVENVENVENV0000"),
            ("AWS_SECRET_ACCESS_KEY", "env"),
        ]);
        let h = headers(&[
            (ACCESS_KEY_ID, "AKIAHEADERHEADER0000"),
            (SECRET_ACCESS_KEY, "hdr"),
            (SESSION_TOKEN, "tok"),
        ]);
        let ctx = RequestContext::resolve(&h, &s).unwrap();
        assert_eq!(ctx.credentials.access_key_id(), "AKIAHEADERHEADER0000");
        assert_eq!(ctx.credentials.session_token(), Some("tok"));
        let ctx = RequestContext::resolve(&HeaderMap::new(), &s).unwrap();
        assert_eq!(ctx.credentials.access_key_id(), "AKIAENVENVENVENV0000");
    }

    #[test]
    fn no_credentials_is_401_with_instructions() {
        let err = RequestContext::resolve(&HeaderMap::new(), &settings(&[])).unwrap_err();
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        assert!(err.error.message.contains("x-aws-access-key-id"));
    }

    #[test]
    fn region_header_selects_the_endpoint() {
        let h = headers(&[
            (ACCESS_KEY_ID, "AKIAHEADERHEADER0000"),
            (SECRET_ACCESS_KEY, "s"),
            (REGION, "eu-west-3"),
        ]);
        let ctx = RequestContext::resolve(&h, &settings(&[])).unwrap();
        assert_eq!(
            ctx.endpoint.to_string(),
            "https://bedrock-runtime.eu-west-3.amazonaws.com"
        );
        let h = headers(&[
            (ACCESS_KEY_ID, "AKIAHEADERHEADER0000"),
            (SECRET_ACCESS_KEY, "s"),
            (REGION, "us-east-1.evil.example#"),
        ]);
        let err = RequestContext::resolve(&h, &settings(&[])).unwrap_err();
        assert_eq!(
            (err.status, err.error.param.as_deref()),
            (StatusCode::BAD_REQUEST, Some(REGION))
        );
    }

    #[test]
    fn provider_must_be_bedrock() {
        assert!(
            RequestContext::resolve(
                &headers(&[(PROVIDER, "Bedrock")]),
                &settings(&[
                    ("AWS_ACCESS_KEY_ID", "AKIAENVENVENVENV0000"),
                    ("AWS_SECRET_ACCESS_KEY", "s")
                ])
            )
            .is_ok()
        );
        let err =
            RequestContext::resolve(&headers(&[(PROVIDER, "openai")]), &settings(&[])).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn partial_or_malformed_header_credentials_are_401() {
        for h in [
            headers(&[(ACCESS_KEY_ID, "AKIAHEADERHEADER0000")]),
            headers(&[(SESSION_TOKEN, "t")]),
            headers(&[(ACCESS_KEY_ID, "short"), (SECRET_ACCESS_KEY, "s")]),
        ] {
            let err = RequestContext::resolve(&h, &settings(&[])).unwrap_err();
            assert_eq!(err.status, StatusCode::UNAUTHORIZED, "{h:?}");
        }
    }
}
