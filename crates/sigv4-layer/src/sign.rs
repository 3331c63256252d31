//! Signing as a plain function: [`sign_request`] and [`sign_parts`], no I/O, no clock.
//!
//! Everything that changes a signature is an input, in [`SigningParams`]: credentials, region,
//! service name, time and [`SigningSettings`]. The same inputs always give the same
//! `authorization` header, which is what makes the AWS test-suite vectors and the botocore
//! fixtures reproducible. The [`SigV4`](crate::SigV4) service is a thin adapter: it collects the
//! body, resolves the parameters from request extensions and layer defaults, and calls
//! [`sign_parts`].
//!
//! The canonical request, string to sign and signature are computed by the
//! [`aws-sigv4`](aws_sigv4) crate (`aws_sigv4::http_request::sign`), which AWS maintains. This
//! module only checks the inputs, maps [`SigningSettings`] onto aws-sigv4's settings, and sets
//! the headers aws-sigv4 returns. Nothing is cached between requests. The derived signing key
//! (about a tenth of the time of a signature) cannot be: aws-sigv4's `http_request` API derives
//! it for every request and takes no precomputed key. What the API does take could be kept per
//! layer (the credentials as an `Identity`, aws-sigv4's settings), but building them is about 2%
//! of a signature (`perf`, `benches/sign.rs`), so they are built for each request.
//!
//! What signing does to the request:
//! - removes any `authorization`, `x-amz-date` and `x-amz-security-token` headers already there
//!   (so signing again, for example on a retry, replaces the old signature);
//! - adds `host` from the URI authority when the request has none (default ports 80 and 443
//!   omitted, as HTTP clients do), so the header that is sent is the one that was signed;
//! - signs the method, the URI (path encoded once more: `%3A` is signed as `%253A`), the query,
//!   the SHA-256 of the body, and every header except those botocore leaves out too:
//!   `authorization`, `user-agent`, `x-amzn-trace-id` and the hop-by-hop headers
//!   (`connection`, `expect`, `keep-alive`, `proxy-authenticate`, `proxy-authorization`, `te`,
//!   `trailer`, `transfer-encoding`, `upgrade`);
//! - sets `x-amz-date`, `authorization` and, when the credentials carry a session token,
//!   `x-amz-security-token` (both marked sensitive), plus `x-amz-content-sha256` if the
//!   settings ask for it.
//!
//! Headers must not change after signing, except the unsigned ones listed above.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use sigv4_layer::{Credentials, SigningParams, sign_request};
//!
//! let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "example");
//! let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
//! let mut req = http::Request::get("https://example.amazonaws.com/").body(Vec::new())?;
//!
//! sign_request(&mut req, &SigningParams::new(&creds, "us-east-1", "service", time))?;
//!
//! assert_eq!(req.headers()["host"], "example.amazonaws.com");
//! assert_eq!(req.headers()["x-amz-date"], "20150830T123600Z");
//! assert_eq!(
//!     req.headers()["authorization"],
//!     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
//!      SignedHeaders=host;x-amz-date, \
//!      Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest};
use aws_smithy_runtime_api::client::identity::Identity;
use http::header::{AUTHORIZATION, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, request::Parts};

use crate::error::SigningError;
use crate::settings::{ContentSha256Header, SigningSettings};

const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");

/// 0000-01-01T00:00:00Z, as a distance before the Unix epoch.
const YEAR_0_BEFORE_EPOCH: Duration = Duration::from_secs(62_167_219_200);
/// 10000-01-01T00:00:00Z, as a distance after the Unix epoch.
const YEAR_10000_AFTER_EPOCH: Duration = Duration::from_secs(253_402_300_800);

/// The region to sign one request for, as a request extension.
///
/// Takes precedence over the layer's default region. It ends up in the credential scope
/// (`AKID/20240101/eu-west-1/bedrock/aws4_request`); it does not change where the request goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SigningRegion(Cow<'static, str>);

impl SigningRegion {
    /// A region such as `"us-east-1"`. It is validated when the request is signed.
    pub fn new(region: impl Into<Cow<'static, str>>) -> Self {
        Self(region.into())
    }

    /// The region as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SigningRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&'static str> for SigningRegion {
    fn from(region: &'static str) -> Self {
        Self::new(region)
    }
}

impl From<String> for SigningRegion {
    fn from(region: String) -> Self {
        Self::new(region)
    }
}

/// The time to sign one request at, as a request extension; without it the layer uses
/// [`SystemTime::now`].
///
/// For reproducible tests. Note that AWS rejects signatures more than 5 minutes off its clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SigningTime(pub SystemTime);

/// Everything besides the request that a signature depends on.
///
/// The `Debug` output shows the access key id but never the secret key or the session token.
#[derive(Debug, Clone)]
pub struct SigningParams<'a> {
    credentials: &'a Credentials,
    region: &'a str,
    service_name: &'a str,
    time: SystemTime,
    settings: SigningSettings,
}

impl<'a> SigningParams<'a> {
    /// Parameters with [`SigningSettings::default()`].
    pub fn new(
        credentials: &'a Credentials,
        region: &'a str,
        service_name: &'a str,
        time: SystemTime,
    ) -> Self {
        Self {
            credentials,
            region,
            service_name,
            time,
            settings: SigningSettings::default(),
        }
    }

    /// Returns these parameters with other settings.
    pub fn with_settings(mut self, settings: SigningSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The credentials to sign with.
    pub fn credentials(&self) -> &Credentials {
        self.credentials
    }

    /// The region to sign for.
    pub fn region(&self) -> &str {
        self.region
    }

    /// The service's signing name (for example `bedrock`, not `bedrock-runtime`).
    pub fn service_name(&self) -> &str {
        self.service_name
    }

    /// The signing time.
    pub fn time(&self) -> SystemTime {
        self.time
    }

    /// The signing settings.
    pub fn settings(&self) -> &SigningSettings {
        &self.settings
    }
}

/// Signs a request whose body is in memory; see the [module docs](self) for what changes.
///
/// On error the request is unchanged.
pub fn sign_request<B: AsRef<[u8]>>(
    request: &mut Request<B>,
    params: &SigningParams<'_>,
) -> Result<(), SigningError> {
    let headers = signature_headers(
        request.method(),
        request.uri(),
        request.headers(),
        request.body().as_ref(),
        params,
    )?;
    headers.apply(request.headers_mut());
    Ok(())
}

/// Signs a request given as its parts and its body; see the [module docs](self) for what
/// changes.
///
/// `body` must be exactly the bytes that will be sent. On error `parts` is unchanged.
pub fn sign_parts(
    parts: &mut Parts,
    body: &[u8],
    params: &SigningParams<'_>,
) -> Result<(), SigningError> {
    let headers = signature_headers(&parts.method, &parts.uri, &parts.headers, body, params)?;
    headers.apply(&mut parts.headers);
    Ok(())
}

/// Whether `region` can go into a credential scope: non-empty ASCII letters, digits and `-`.
pub(crate) fn is_valid_region(region: &str) -> bool {
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether SigV4 can write `time` (`YYYYMMDD'T'HHMMSS'Z'`): a year from 0 to 9999. aws-sigv4
/// formats it with the `time` crate, which panics after year 9999 and writes a negative year
/// before year 0.
fn is_valid_time(time: SystemTime) -> bool {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => after < YEAR_10000_AFTER_EPOCH,
        Err(before) => before.duration() <= YEAR_0_BEFORE_EPOCH,
    }
}

/// The headers signing sets on the request.
struct SignatureHeaders {
    /// When the request has none.
    host: Option<HeaderValue>,
    /// What aws-sigv4 returned, in its order: `x-amz-date`, `authorization`, then
    /// `x-amz-content-sha256` and `x-amz-security-token` when they are set.
    signed: Vec<(HeaderName, HeaderValue)>,
}

impl SignatureHeaders {
    fn apply(self, headers: &mut HeaderMap) {
        headers.remove(AUTHORIZATION);
        headers.remove(X_AMZ_DATE);
        headers.remove(X_AMZ_SECURITY_TOKEN);
        if let Some(host) = self.host {
            headers.insert(HOST, host);
        }
        for (name, value) in self.signed {
            headers.insert(name, value);
        }
    }
}

/// Checks the inputs, has aws-sigv4 sign the request, and returns the headers to set on it.
fn signature_headers(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    params: &SigningParams<'_>,
) -> Result<SignatureHeaders, SigningError> {
    if let Some(expiry) = params.credentials.expiry()
        && expiry <= params.time
    {
        return Err(SigningError::ExpiredCredentials {
            expiry,
            signing_time: params.time,
        });
    }
    if !is_valid_region(params.region) {
        return Err(SigningError::InvalidRegion {
            region: params.region.to_owned(),
        });
    }

    let host = if headers.contains_key(HOST) {
        None
    } else {
        Some(host_from_uri(uri)?)
    };

    // aws-sigv4 requires that x-amz-date, x-amz-security-token and (when it adds it)
    // x-amz-content-sha256 are absent; we own those and replace them after signing. Every other
    // header value must be UTF-8, signed or not.
    let send_sha256 = params.settings.content_sha256_header == ContentSha256Header::Send;
    let mut signable = Vec::with_capacity(headers.len() + 1);
    for (name, value) in headers {
        if is_replaced(name, send_sha256) {
            continue;
        }
        let value = std::str::from_utf8(value.as_bytes())
            .map_err(|_| SigningError::InvalidHeaderValue { name: name.clone() })?;
        signable.push((name.as_str(), value));
    }
    if let Some(host) = &host {
        // Built from a URI authority, so it is visible ASCII.
        let value = host
            .to_str()
            .map_err(|_| SigningError::InvalidHeaderValue { name: HOST })?;
        signable.push((HOST.as_str(), value));
    }

    // Checked before signing, whether or not it is signed, so that a bad token is always the
    // same error (aws-sigv4 fails on it only when it signs it).
    if let Some(token) = params.credentials.session_token() {
        HeaderValue::from_str(token).map_err(|source| SigningError::InvalidSignatureHeader {
            name: "x-amz-security-token",
            source,
        })?;
    }

    if !is_valid_time(params.time) {
        return Err(SigningError::InvalidSigningTime { time: params.time });
    }

    // The URI as it goes on the wire, never decoded: aws-sigv4 encodes the path once more.
    let request = SignableRequest::new(
        method.as_str(),
        uri.to_string(),
        signable.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(SigningError::Sign)?;
    let identity = Identity::from(params.credentials.clone());
    let aws_params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(params.region)
        .name(params.service_name)
        .time(params.time)
        .settings(params.settings.to_aws())
        .build()
        .expect("identity, region, name, time and settings are all set")
        .into();
    let (instructions, _signature) = aws_sigv4::http_request::sign(request, &aws_params)
        .map_err(SigningError::Sign)?
        .into_parts();
    let (aws_headers, _query_params) = instructions.into_parts();

    let mut signed = Vec::with_capacity(aws_headers.len());
    for header in aws_headers {
        let name = header.name();
        let mut value = HeaderValue::from_str(header.value())
            .map_err(|source| SigningError::InvalidSignatureHeader { name, source })?;
        // aws-sigv4 marks the session token sensitive. The signature is replayable for minutes:
        // keep it out of logs like the token.
        value.set_sensitive(
            header.sensitive()
                || name == AUTHORIZATION.as_str()
                || name == X_AMZ_SECURITY_TOKEN.as_str(),
        );
        signed.push((HeaderName::from_static(name), value));
    }
    tracing::trace!(
        region = params.region,
        service = params.service_name,
        method = %method,
        "signed request"
    );
    Ok(SignatureHeaders { host, signed })
}

/// Headers that signing removes from the request and sets anew.
fn is_replaced(name: &HeaderName, send_sha256: bool) -> bool {
    name == AUTHORIZATION
        || name == X_AMZ_DATE
        || name == X_AMZ_SECURITY_TOKEN
        || (send_sha256 && name == X_AMZ_CONTENT_SHA256)
}

/// The `host` header an HTTP client sends for `uri`: the host, plus the port unless it is the
/// scheme's default. User info in the authority is never part of it.
fn host_from_uri(uri: &Uri) -> Result<HeaderValue, SigningError> {
    let host = uri.host().ok_or(SigningError::MissingHost)?;
    let default_port = match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    let value = match uri.port_u16() {
        Some(port) if Some(port) != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    HeaderValue::try_from(value).map_err(|_| SigningError::MissingHost)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::settings::SessionTokenMode;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "SESSIONTOKENSESSIONTOKEN";

    fn time() -> SystemTime {
        // 2015-08-30T12:36:00Z, the AWS test suite's time.
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    /// Leaked so that `SigningParams` can borrow them in one expression.
    fn creds(token: Option<&str>) -> &'static Credentials {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            SECRET,
            token.map(str::to_owned),
            None,
            "test",
        );
        Box::leak(Box::new(creds))
    }

    fn auth(req: &Request<Vec<u8>>) -> &str {
        req.headers()[AUTHORIZATION].to_str().unwrap()
    }

    #[test]
    fn host_is_set_from_uri_without_default_port() {
        let cases = [
            ("https://example.com/", "example.com"),
            ("https://example.com:443/", "example.com"),
            ("https://example.com:8443/", "example.com:8443"),
            ("http://example.com:80/", "example.com"),
            ("http://127.0.0.1:4566/", "127.0.0.1:4566"),
            ("http://[::1]:8080/", "[::1]:8080"),
            ("https://user:pw@example.com:444/", "example.com:444"),
        ];
        for (uri, host) in cases {
            let mut req = Request::post(uri).body(Vec::new()).unwrap();
            sign_request(
                &mut req,
                &SigningParams::new(creds(None), "us-east-1", "svc", time()),
            )
            .unwrap();
            assert_eq!(req.headers()[HOST], host, "{uri}");
        }
    }

    #[test]
    fn existing_host_header_is_kept_and_signed() {
        let mut a = Request::get("https://example.com/")
            .header(HOST, "other.example")
            .body(Vec::new())
            .unwrap();
        let mut b = Request::get("https://other.example/")
            .body(Vec::new())
            .unwrap();
        let params = SigningParams::new(creds(None), "us-east-1", "svc", time());
        sign_request(&mut a, &params).unwrap();
        sign_request(&mut b, &params).unwrap();
        assert_eq!(a.headers()[HOST], "other.example");
        assert_eq!(auth(&a), auth(&b));
    }

    #[test]
    fn missing_host_is_an_error_and_leaves_request_unchanged() {
        let mut req = Request::get("/relative").body(Vec::new()).unwrap();
        let err = sign_request(
            &mut req,
            &SigningParams::new(creds(None), "us-east-1", "s", time()),
        )
        .unwrap_err();
        assert!(matches!(err, SigningError::MissingHost), "{err:?}");
        assert!(req.headers().is_empty());
    }

    #[test]
    fn signing_twice_replaces_the_old_signature() {
        let params = SigningParams::new(creds(Some(TOKEN)), "us-east-1", "svc", time());
        let mut once = Request::post("https://example.com/")
            .body(b"{}".to_vec())
            .unwrap();
        sign_request(&mut once, &params).unwrap();
        let mut twice = once.clone();
        let later = SigningParams::new(creds(None), "us-east-1", "svc", time());
        sign_request(&mut twice, &later).unwrap();
        sign_request(&mut twice, &params).unwrap();
        assert_eq!(once.headers(), twice.headers());
        assert_eq!(twice.headers().get_all(AUTHORIZATION).iter().count(), 1);
    }

    #[test]
    fn stale_session_token_is_removed_when_credentials_have_none() {
        let mut req = Request::post("https://example.com/")
            .header("x-amz-security-token", "stale")
            .body(Vec::new())
            .unwrap();
        sign_request(
            &mut req,
            &SigningParams::new(creds(None), "us-east-1", "svc", time()),
        )
        .unwrap();
        assert!(!req.headers().contains_key(X_AMZ_SECURITY_TOKEN));
        assert!(auth(&req).contains("SignedHeaders=host;x-amz-date,"));
    }

    #[test]
    fn session_token_is_sent_sensitive_and_signed_by_default() {
        let mut req = Request::post("https://example.com/")
            .body(Vec::new())
            .unwrap();
        sign_request(
            &mut req,
            &SigningParams::new(creds(Some(TOKEN)), "us-east-1", "s", time()),
        )
        .unwrap();
        let token = &req.headers()[X_AMZ_SECURITY_TOKEN];
        assert_eq!(token, TOKEN);
        assert!(token.is_sensitive());
        assert!(req.headers()[AUTHORIZATION].is_sensitive());
        assert!(auth(&req).contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"));

        let excluded =
            SigningSettings::default().with_session_token_mode(SessionTokenMode::Exclude);
        let mut req = Request::post("https://example.com/")
            .body(Vec::new())
            .unwrap();
        let params = SigningParams::new(creds(Some(TOKEN)), "us-east-1", "s", time())
            .with_settings(excluded);
        sign_request(&mut req, &params).unwrap();
        assert_eq!(req.headers()[X_AMZ_SECURITY_TOKEN], TOKEN);
        assert!(auth(&req).contains("SignedHeaders=host;x-amz-date,"));
    }

    #[test]
    fn content_sha256_header_is_opt_in() {
        let params = SigningParams::new(creds(None), "us-east-1", "svc", time());
        let mut req = Request::post("https://example.com/")
            .body(b"abc".to_vec())
            .unwrap();
        sign_request(&mut req, &params).unwrap();
        assert!(!req.headers().contains_key(X_AMZ_CONTENT_SHA256));

        let settings =
            SigningSettings::default().with_content_sha256_header(ContentSha256Header::Send);
        let mut req = Request::post("https://example.com/")
            .body(b"abc".to_vec())
            .unwrap();
        sign_request(&mut req, &params.clone().with_settings(settings)).unwrap();
        assert_eq!(
            req.headers()[X_AMZ_CONTENT_SHA256],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(auth(&req).contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"));
    }

    #[test]
    fn hop_by_hop_and_user_agent_headers_are_not_signed() {
        let params = SigningParams::new(creds(None), "us-east-1", "svc", time());
        let mut plain = Request::post("https://example.com/")
            .body(Vec::new())
            .unwrap();
        let mut extra = plain.clone();
        for (name, value) in [
            ("connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("expect", "100-continue"),
            ("upgrade", "h2c"),
            ("user-agent", "test/1.0"),
            ("x-amzn-trace-id", "Root=1-abc"),
            ("transfer-encoding", "chunked"),
        ] {
            extra
                .headers_mut()
                .insert(name, HeaderValue::from_static(value));
        }
        sign_request(&mut plain, &params).unwrap();
        sign_request(&mut extra, &params).unwrap();
        assert_eq!(auth(&plain), auth(&extra));
        assert!(auth(&plain).contains("SignedHeaders=host;x-amz-date,"));
    }

    #[test]
    fn body_changes_the_signature() {
        let params = SigningParams::new(creds(None), "us-east-1", "svc", time());
        let mut a = Request::post("https://example.com/")
            .body(b"a".to_vec())
            .unwrap();
        let mut b = Request::post("https://example.com/")
            .body(b"b".to_vec())
            .unwrap();
        sign_request(&mut a, &params).unwrap();
        sign_request(&mut b, &params).unwrap();
        assert_ne!(auth(&a), auth(&b));
    }

    #[test]
    fn encoded_path_is_signed_double_encoded() {
        // A raw `:` and its encoding `%3A` are different requests with different signatures;
        // the canonical form of `%3A` is `%253A`, which only matches if we did not decode.
        let params = SigningParams::new(creds(None), "us-east-1", "bedrock", time());
        let mut encoded = Request::post("https://h.example/model/a.b-v1%3A0/converse")
            .body(Vec::new())
            .unwrap();
        let mut raw = Request::post("https://h.example/model/a.b-v1:0/converse")
            .body(Vec::new())
            .unwrap();
        sign_request(&mut encoded, &params).unwrap();
        sign_request(&mut raw, &params).unwrap();
        assert_ne!(auth(&encoded), auth(&raw));
        assert_eq!(encoded.uri().path(), "/model/a.b-v1%3A0/converse");
    }

    #[test]
    fn expired_credentials_are_rejected_at_signing_time() {
        let expiry = time() - Duration::from_secs(1);
        let creds = Credentials::new("AKID", SECRET, None, Some(expiry), "test");
        let mut req = Request::get("https://example.com/")
            .body(Vec::new())
            .unwrap();
        let err = sign_request(
            &mut req,
            &SigningParams::new(&creds, "us-east-1", "s", time()),
        )
        .unwrap_err();
        assert!(
            matches!(err, SigningError::ExpiredCredentials { .. }),
            "{err:?}"
        );

        let fresh = Credentials::new(
            "AKID",
            SECRET,
            None,
            Some(time() + Duration::from_secs(1)),
            "t",
        );
        sign_request(
            &mut req,
            &SigningParams::new(&fresh, "us-east-1", "s", time()),
        )
        .unwrap();
    }

    #[test]
    fn invalid_region_is_rejected() {
        for region in ["", "us-east-1/x", "eu west", "us-east-1\n"] {
            let mut req = Request::get("https://example.com/")
                .body(Vec::new())
                .unwrap();
            let err = sign_request(
                &mut req,
                &SigningParams::new(creds(None), region, "s", time()),
            )
            .unwrap_err();
            assert!(
                matches!(err, SigningError::InvalidRegion { .. }),
                "{region:?}: {err:?}"
            );
        }
    }

    #[test]
    fn non_utf8_header_value_is_rejected_without_echoing_it() {
        let mut req = Request::get("https://example.com/")
            .header("x-secret", HeaderValue::from_bytes(b"\xffhidden").unwrap())
            .body(Vec::new())
            .unwrap();
        let err = sign_request(
            &mut req,
            &SigningParams::new(creds(None), "us-east-1", "s", time()),
        )
        .unwrap_err();
        assert!(
            matches!(err, SigningError::InvalidHeaderValue { .. }),
            "{err:?}"
        );
        assert!(!format!("{err} {err:?}").contains("hidden"));
    }

    #[test]
    fn utf8_header_values_are_signed() {
        // Same vector as aws-sigv4's `test_sign_headers_utf8`.
        let creds = Credentials::new(
            "ANOTREAL",
            "notrealrnrELgWzOk3IfjzDKtFBhDby",
            None,
            None,
            "t",
        );
        let mut req = Request::get("https://some-endpoint.some-region.amazonaws.com")
            .header("some-header", HeaderValue::from_str("テスト").unwrap())
            .body(Vec::new())
            .unwrap();
        sign_request(
            &mut req,
            &SigningParams::new(&creds, "us-east-1", "service", time()),
        )
        .unwrap();
        assert!(auth(&req).ends_with(
            "Signature=55e16b31f9bde5fd04f9d3b780dd2b5e5f11a5219001f91a8ca9ec83eaf1618f"
        ));
    }

    #[test]
    fn signing_time_is_written_in_utc_and_checked() {
        let at = |secs: i64, nanos: u32| {
            let whole = Duration::from_secs(secs.unsigned_abs());
            let base = if secs >= 0 {
                SystemTime::UNIX_EPOCH + whole
            } else {
                SystemTime::UNIX_EPOCH - whole
            };
            base + Duration::from_nanos(u64::from(nanos))
        };
        let sign_at = |time: SystemTime| {
            let mut req = Request::get("https://example.com/")
                .body(Vec::new())
                .unwrap();
            sign_request(
                &mut req,
                &SigningParams::new(creds(None), "us-east-1", "s", time),
            )
            .map(|()| req)
        };
        let dt = |secs, nanos| {
            let req = sign_at(at(secs, nanos)).unwrap();
            let date_time = req.headers()[X_AMZ_DATE].to_str().unwrap().to_owned();
            // The credential scope has the same date.
            assert!(
                auth(&req).contains(&format!("/{}/us-east-1/s/aws4_request", &date_time[..8])),
                "{}",
                auth(&req)
            );
            date_time
        };
        assert_eq!(dt(0, 0), "19700101T000000Z");
        assert_eq!(dt(1_440_938_160, 999_999_999), "20150830T123600Z");
        assert_eq!(dt(951_782_400, 0), "20000229T000000Z"); // leap day
        assert_eq!(dt(4_107_542_399, 0), "21000228T235959Z"); // 2100 is no leap year
        assert_eq!(dt(4_107_542_400, 0), "21000301T000000Z");
        assert_eq!(dt(-1, 500_000_000), "19691231T235959Z"); // 0.5 s before the epoch
        assert_eq!(dt(-1, 0), "19691231T235959Z");
        assert_eq!(dt(-2_208_988_800, 0), "19000101T000000Z");
        assert_eq!(dt(-62_167_219_200, 0), "00000101T000000Z");
        assert_eq!(dt(253_402_300_799, 999_999_999), "99991231T235959Z");
        // aws-sigv4 panics after year 9999 and writes a negative year before year 0: both are
        // errors, and the request is left alone.
        for time in [
            at(253_402_300_800, 0),
            at(400_000_000_000, 0),
            at(-62_167_219_201, 0),
            at(-62_167_219_200, 0) - Duration::from_nanos(1),
            at(-400_000_000_000, 0),
        ] {
            let err = sign_at(time).unwrap_err();
            assert!(
                matches!(err, SigningError::InvalidSigningTime { time: t } if t == time),
                "{err:?}"
            );
        }
    }

    #[test]
    fn sign_parts_equals_sign_request() {
        let params = SigningParams::new(creds(Some(TOKEN)), "eu-west-3", "bedrock", time());
        let mut req = Request::post("https://example.com/x?b=2&a=1")
            .header("content-type", "application/json")
            .body(b"{\"a\":1}".to_vec())
            .unwrap();
        let (mut parts, body) = req.clone().into_parts();
        sign_request(&mut req, &params).unwrap();
        sign_parts(&mut parts, &body, &params).unwrap();
        assert_eq!(req.headers(), &parts.headers);
    }
}
