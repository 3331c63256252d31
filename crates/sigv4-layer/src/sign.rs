//! Signing as a plain function: [`sign_request`] and [`sign_parts`], no I/O, no clock.
//!
//! Everything that changes a signature is an input, in [`SigningParams`]: credentials, region,
//! service name, time and [`SigningSettings`]. The same inputs always give the same
//! `authorization` header, which is what makes the AWS test-suite vectors and the botocore
//! fixtures reproducible. A [`SigningKeyCache`] passed with
//! [`SigningParams::with_key_cache`] saves deriving the signing key again; it never changes the
//! result. The [`SigV4`](crate::SigV4) service is a thin adapter: it collects the body, resolves
//! the parameters from request extensions and layer defaults, and calls [`sign_parts`] with its
//! layer's cache.
//!
//! The canonical request, string to sign and signature are computed here, not by the
//! `aws-sigv4` crate, but exactly as it computes them (path normalisation and double encoding,
//! canonical query, header trimming and joining); the crate's tests check that against
//! `aws-sigv4` on random requests, against the official AWS SigV4 test suite and against
//! botocore.
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
//! use aws_credential_types::Credentials;
//! use sigv4_layer::{sign_request, SigningParams};
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
use std::fmt::{self, Write as _};
use std::ops::Range;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use http::header::{AUTHORIZATION, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, request::Parts};
use sha2::{Digest, Sha256};

use crate::error::SigningError;
use crate::key_cache::{SigningKey, SigningKeyCache, derive_signing_key, hmac};
use crate::settings::{
    ContentSha256Header, SessionTokenMode, SigningSettings, UriPathNormalization,
};

const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Headers never signed: aws-sigv4's defaults (`authorization`, `user-agent`,
/// `x-amzn-trace-id`, `transfer-encoding`) plus the hop-by-hop headers botocore leaves out too
/// (`SIGNED_HEADERS_BLACKLIST`), which proxies may change or drop.
const UNSIGNED_HEADERS: &[&str] = &[
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "transfer-encoding",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

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

/// Everything besides the request that a signature depends on, plus an optional
/// [`SigningKeyCache`].
///
/// The `Debug` output shows the access key id but never the secret key, the session token or a
/// derived key.
#[derive(Debug, Clone)]
pub struct SigningParams<'a> {
    credentials: &'a Credentials,
    region: &'a str,
    service_name: &'a str,
    time: SystemTime,
    settings: SigningSettings,
    key_cache: Option<&'a SigningKeyCache>,
}

impl<'a> SigningParams<'a> {
    /// Parameters with [`SigningSettings::default()`] and no key cache.
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
            key_cache: None,
        }
    }

    /// Returns these parameters with other settings.
    pub fn with_settings(mut self, settings: SigningSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Returns these parameters with a cache for the derived signing key.
    ///
    /// Without one, the key is derived from the secret for every request (four HMAC-SHA256).
    /// The signature is the same either way.
    pub fn with_key_cache(mut self, cache: &'a SigningKeyCache) -> Self {
        self.key_cache = Some(cache);
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

    /// The signing-key cache, if any.
    pub fn key_cache(&self) -> Option<&'a SigningKeyCache> {
        self.key_cache
    }

    fn signing_key(&self, date: &[u8; 8]) -> SigningKey {
        match self.key_cache {
            Some(cache) => {
                cache.signing_key(self.credentials, date, self.region, self.service_name)
            }
            None => derive_signing_key(
                self.credentials.secret_access_key(),
                date,
                self.region,
                self.service_name,
            ),
        }
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

/// The headers signing sets on the request.
struct SignatureHeaders {
    /// When the request has none.
    host: Option<HeaderValue>,
    date: HeaderValue,
    authorization: HeaderValue,
    content_sha256: Option<HeaderValue>,
    security_token: Option<HeaderValue>,
}

impl SignatureHeaders {
    fn apply(self, headers: &mut HeaderMap) {
        headers.remove(AUTHORIZATION);
        headers.remove(X_AMZ_DATE);
        headers.remove(X_AMZ_SECURITY_TOKEN);
        if let Some(host) = self.host {
            headers.insert(HOST, host);
        }
        headers.insert(X_AMZ_DATE, self.date);
        headers.insert(AUTHORIZATION, self.authorization);
        if let Some(sha256) = self.content_sha256 {
            headers.insert(X_AMZ_CONTENT_SHA256, sha256);
        }
        if let Some(token) = self.security_token {
            headers.insert(X_AMZ_SECURITY_TOKEN, token);
        }
    }
}

/// Builds the canonical request, the string to sign and the signature; returns the headers to
/// set on the request.
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

    // We own x-amz-date, x-amz-security-token and (when we send it) x-amz-content-sha256: any
    // already on the request are replaced, not signed. Every other header value must be UTF-8,
    // signed or not.
    let send_sha256 = params.settings.content_sha256_header == ContentSha256Header::Send;
    let mut headers_len = 0;
    for (name, value) in headers {
        if is_replaced(name, send_sha256) {
            continue;
        }
        header_str(name, value)?;
        headers_len += name.as_str().len() + value.len() + 2;
    }

    let security_token = params
        .credentials
        .session_token()
        .map(|token| {
            let mut value = HeaderValue::from_str(token).map_err(|source| {
                SigningError::InvalidSignatureHeader {
                    name: "x-amz-security-token",
                    source,
                }
            })?;
            value.set_sensitive(true);
            Ok((token, value))
        })
        .transpose()?;

    let time = UtcTime::new(params.time)?;
    let payload_hash = sha256_hex(body);
    let payload_hash = hex_str(&payload_hash);

    // The canonical request, in one buffer sized for it.
    let path = uri.path();
    let query = uri.query().unwrap_or_default();
    let mut creq = String::with_capacity(
        method.as_str().len()
            + 3 * (path.len() + query.len())
            + 2 * headers_len
            + host.as_ref().map_or(0, HeaderValue::len)
            + security_token.as_ref().map_or(0, |(token, _)| token.len())
            + 256,
    );
    creq.push_str(method.as_str());
    creq.push('\n');
    let path = match params.settings.uri_path_normalization {
        UriPathNormalization::Enabled => normalize_uri_path(path),
        UriPathNormalization::Disabled => Cow::Borrowed(path),
    };
    // The path as it is on the wire, encoded once more: `%3A` becomes `%253A`.
    percent_encode(&mut creq, &path, true);
    creq.push('\n');
    write_canonical_query(&mut creq, query);
    creq.push('\n');

    // The headers signing adds, on the stack.
    let mut added = [("", ""); 4];
    let mut added_len = 0;
    let mut add = |name, value| {
        added[added_len] = (name, value);
        added_len += 1;
    };
    if let Some(host) = &host {
        // Built from a URI authority, so it is visible ASCII.
        let host = host
            .to_str()
            .map_err(|_| SigningError::InvalidHeaderValue { name: HOST })?;
        add("host", host);
    }
    add("x-amz-date", time.date_time());
    if let Some((token, _)) = &security_token
        && params.settings.session_token_mode == SessionTokenMode::Include
    {
        add("x-amz-security-token", token);
    }
    if send_sha256 {
        add("x-amz-content-sha256", payload_hash);
    }
    let signed_headers =
        write_canonical_headers(&mut creq, headers, send_sha256, &added[..added_len])?;
    creq.push('\n');
    creq.push_str(payload_hash);

    let signature = signature(params, &time, &creq);
    let authorization = authorization(params, &time, &creq[signed_headers], &signature)?;

    tracing::trace!(
        region = params.region,
        service = params.service_name,
        method = %method,
        "signed request"
    );
    Ok(SignatureHeaders {
        host,
        date: HeaderValue::from_str(time.date_time()).expect("digits and `T`, `Z`"),
        authorization,
        content_sha256: send_sha256
            .then(|| HeaderValue::from_str(payload_hash).expect("hex digits")),
        security_token: security_token.map(|(_, value)| value),
    })
}

/// Appends the canonical headers, a blank line and the signed-headers list (without a line
/// break) to `creq`; returns where that list is in `creq`.
///
/// Signed are the request's headers but the unsigned and the replaced ones, and the headers
/// signing adds (`added`, unique names none of which is on the request).
fn write_canonical_headers(
    creq: &mut String,
    headers: &HeaderMap,
    send_sha256: bool,
    added: &[(&'static str, &str)],
) -> Result<Range<usize>, SigningError> {
    /// Where a canonical header's value comes from.
    enum Value<'a> {
        /// Every value of this request header, trimmed, joined with `,`.
        Request(&'a HeaderName),
        /// A value signing adds, as it is.
        Added(&'a str),
    }

    let mut signed: Vec<(&str, Value<'_>)> = Vec::with_capacity(headers.keys_len() + added.len());
    for name in headers.keys() {
        if !is_replaced(name, send_sha256) && !UNSIGNED_HEADERS.contains(&name.as_str()) {
            signed.push((name.as_str(), Value::Request(name)));
        }
    }
    signed.extend(
        added
            .iter()
            .map(|&(name, value)| (name, Value::Added(value))),
    );
    signed.sort_unstable_by(|a, b| a.0.cmp(b.0));

    for (name, value) in &signed {
        creq.push_str(name);
        creq.push(':');
        match value {
            Value::Request(name) => {
                for (i, value) in headers.get_all(*name).iter().enumerate() {
                    if i > 0 {
                        creq.push(',');
                    }
                    push_trimmed(creq, header_str(name, value)?);
                }
            }
            Value::Added(value) => creq.push_str(value),
        }
        creq.push('\n');
    }
    creq.push('\n');
    let start = creq.len();
    for (i, (name, _)) in signed.iter().enumerate() {
        if i > 0 {
            creq.push(';');
        }
        creq.push_str(name);
    }
    Ok(start..creq.len())
}

/// The hex signature of the canonical request `creq`. The string to sign goes straight into the
/// HMAC, keyed with the cached or derived signing key.
fn signature(params: &SigningParams<'_>, time: &UtcTime, creq: &str) -> [u8; 64] {
    let creq_hash = sha256_hex(creq.as_bytes());
    let key = params.signing_key(&time.date);
    let signature = hmac(
        &key,
        &[
            ALGORITHM.as_bytes(),
            b"\n",
            time.date_time().as_bytes(),
            b"\n",
            &time.date,
            b"/",
            params.region.as_bytes(),
            b"/",
            params.service_name.as_bytes(),
            b"/aws4_request\n",
            &creq_hash,
        ],
    );
    let mut hex = [0_u8; 64];
    hex::encode_to_slice(signature, &mut hex).expect("64 bytes for 32");
    hex
}

/// `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
/// SignedHeaders=host;x-amz-date, Signature=...`, marked sensitive.
fn authorization(
    params: &SigningParams<'_>,
    time: &UtcTime,
    signed_headers: &str,
    signature: &[u8; 64],
) -> Result<HeaderValue, SigningError> {
    let access_key_id = params.credentials.access_key_id();
    let mut value = String::with_capacity(
        ALGORITHM.len()
            + access_key_id.len()
            + params.region.len()
            + params.service_name.len()
            + signed_headers.len()
            + 150,
    );
    // Writing to a String cannot fail.
    let _ = write!(
        value,
        "{ALGORITHM} Credential={access_key_id}/{date}/{region}/{service}/aws4_request, \
         SignedHeaders={signed_headers}, Signature={signature}",
        date = time.date(),
        region = params.region,
        service = params.service_name,
        signature = hex_str(signature),
    );
    let mut value =
        HeaderValue::try_from(value).map_err(|source| SigningError::InvalidSignatureHeader {
            name: "authorization",
            source,
        })?;
    // The signature is replayable for minutes: keep it out of logs like the token.
    value.set_sensitive(true);
    Ok(value)
}

/// Headers that signing removes from the request and sets anew.
fn is_replaced(name: &HeaderName, send_sha256: bool) -> bool {
    name == AUTHORIZATION
        || name == X_AMZ_DATE
        || name == X_AMZ_SECURITY_TOKEN
        || (send_sha256 && name == X_AMZ_CONTENT_SHA256)
}

fn header_str<'v>(name: &HeaderName, value: &'v HeaderValue) -> Result<&'v str, SigningError> {
    std::str::from_utf8(value.as_bytes())
        .map_err(|_| SigningError::InvalidHeaderValue { name: name.clone() })
}

/// Appends `value` without leading and trailing spaces and with each run of inner spaces made
/// one space. Only spaces: tabs and other whitespace stay, as aws-sigv4 and S3 do.
fn push_trimmed(out: &mut String, value: &str) {
    let mut rest = value.trim_matches(' ');
    while let Some(i) = rest.find("  ") {
        out.push_str(&rest[..=i]);
        rest = rest[i..].trim_start_matches(' ');
    }
    out.push_str(rest);
}

/// aws-sigv4's URI path normalisation: a leading `/`, no `.` or `..` segments, no empty
/// segments, and a trailing `/` kept.
fn normalize_uri_path(path: &str) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    let path = if path.starts_with('/') {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(format!("/{path}"))
    };
    // Fast path, and the common one even when the path has dots (a model id such as
    // `anthropic.claude-3-haiku-20240307-v1%3A0`): no `.`, `..` or empty segment, except for an
    // empty last one (a trailing slash), means there is nothing to normalise.
    let mut segments = path[1..].split('/').peekable();
    let mut unchanged = true;
    while let Some(segment) = segments.next() {
        if segment == "." || segment == ".." || (segment.is_empty() && segments.peek().is_some()) {
            unchanged = false;
            break;
        }
    }
    if unchanged {
        return path;
    }

    let mut kept: Vec<&str> = Vec::with_capacity(path.matches('/').count() + 1);
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            segment => kept.push(segment),
        }
    }
    let mut normalized = String::with_capacity(path.len() + 1);
    for segment in kept {
        normalized.push('/');
        normalized.push_str(segment);
    }
    let ends_with_slash = ["/", "/.", "/./", "/..", "/../"]
        .iter()
        .any(|s| path.ends_with(s));
    if normalized.is_empty() || (ends_with_slash && !normalized.ends_with('/')) {
        normalized.push('/');
    }
    Cow::Owned(normalized)
}

/// Appends the canonical query: every parameter decoded as `application/x-www-form-urlencoded`
/// (so `+` is a space), encoded again with [`percent_encode`], sorted by encoded name then
/// value, as `name=value` joined with `&`.
fn write_canonical_query(out: &mut String, query: &str) {
    if query.is_empty() {
        return;
    }
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let mut encoded = (String::new(), String::new());
            percent_encode(&mut encoded.0, &form_decode(name), false);
            percent_encode(&mut encoded.1, &form_decode(value), false);
            encoded
        })
        .collect();
    params.sort_unstable();
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
}

/// Decodes one name or value of a query string as `form_urlencoded::parse` does: `+` is a
/// space, `%XX` a byte (a `%` without two hex digits stays), invalid UTF-8 becomes U+FFFD.
fn form_decode(input: &str) -> Cow<'_, str> {
    if !input.contains(['+', '%']) {
        return Cow::Borrowed(input);
    }
    let bytes = input.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = match bytes[i] {
            b'+' => b' ',
            b'%' => match (hex_digit(bytes.get(i + 1)), hex_digit(bytes.get(i + 2))) {
                (Some(high), Some(low)) => {
                    i += 2;
                    (high << 4) | low
                }
                _ => b'%',
            },
            byte => byte,
        };
        decoded.push(byte);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&decoded).into_owned())
}

fn hex_digit(byte: Option<&u8>) -> Option<u8> {
    let byte = *byte?;
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// Appends `input` percent-encoded: every byte but the unreserved ASCII letters, digits, `-`,
/// `.`, `_` and `~` (and `/` when `keep_slash`) becomes `%XX`, upper-case hex.
fn percent_encode(out: &mut String, input: &str, keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut start = 0;
    for (i, &byte) in input.as_bytes().iter().enumerate() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/')
        {
            continue;
        }
        // A run of unreserved ASCII bytes starts and ends on character boundaries.
        if start < i {
            out.push_str(&input[start..i]);
        }
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
        start = i + 1;
    }
    if start < input.len() {
        out.push_str(&input[start..]);
    }
}

fn sha256_hex(data: &[u8]) -> [u8; 64] {
    let mut out = [0_u8; 64];
    hex::encode_to_slice(Sha256::digest(data), &mut out).expect("64 bytes for 32");
    out
}

fn hex_str(hex: &[u8; 64]) -> &str {
    std::str::from_utf8(hex).expect("hex digits are ASCII")
}

/// The signing time as SigV4 writes it: `YYYYMMDD` and `YYYYMMDD'T'HHMMSS'Z'`, UTC, seconds
/// truncated.
struct UtcTime {
    date: [u8; 8],
    date_time: [u8; 16],
}

impl UtcTime {
    fn new(time: SystemTime) -> Result<Self, SigningError> {
        let invalid = || SigningError::InvalidSigningTime { time };
        let secs = match time.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_secs()).map_err(|_| invalid())?,
            Err(before) => {
                let before = before.duration();
                let secs = i64::try_from(before.as_secs()).map_err(|_| invalid())?;
                // Floor, not towards zero: 0.5 s before the epoch is 23:59:59.
                -secs - i64::from(before.subsec_nanos() > 0)
            }
        };
        let (days, secs_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        if !(0..=9999).contains(&year) {
            return Err(invalid());
        }
        let mut date_time = [0_u8; 16];
        let digits = |out: &mut [u8], mut n: i64| {
            for slot in out.iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        digits(&mut date_time[0..4], year);
        digits(&mut date_time[4..6], month);
        digits(&mut date_time[6..8], day);
        date_time[8] = b'T';
        digits(&mut date_time[9..11], secs_of_day / 3600);
        digits(&mut date_time[11..13], secs_of_day / 60 % 60);
        digits(&mut date_time[13..15], secs_of_day % 60);
        date_time[15] = b'Z';
        let mut date = [0_u8; 8];
        date.copy_from_slice(&date_time[..8]);
        Ok(Self { date, date_time })
    }

    fn date(&self) -> &str {
        std::str::from_utf8(&self.date).expect("ASCII digits")
    }

    fn date_time(&self) -> &str {
        std::str::from_utf8(&self.date_time).expect("ASCII digits, `T` and `Z`")
    }
}

/// Year, month and day of the proleptic Gregorian calendar for days since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
    fn a_known_access_key_id_with_a_wrong_secret_does_not_get_the_cached_key() {
        let cache = SigningKeyCache::new();
        let right = Credentials::new("AKIDKNOWN", SECRET, Some(TOKEN.into()), None, "t");
        let wrong = Credentials::new("AKIDKNOWN", "not-the-secret", Some(TOKEN.into()), None, "t");
        let sign = |creds: &Credentials, cache: Option<&SigningKeyCache>| {
            let mut req =
                Request::post("https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse")
                    .header("content-type", "application/json")
                    .body(b"{}".to_vec())
                    .unwrap();
            let params = SigningParams::new(creds, "us-east-1", "bedrock", time());
            let params = match cache {
                Some(cache) => params.with_key_cache(cache),
                None => params,
            };
            sign_request(&mut req, &params).unwrap();
            auth(&req).to_owned()
        };
        // Warm the cache with the right secret.
        let right_auth = sign(&right, Some(&cache));
        assert_eq!(right_auth, sign(&right, None));
        assert_eq!(cache.len(), 1);
        // Same access key id, same day, region and service, wrong secret: signed with the wrong
        // secret (as without a cache), so AWS would reject it.
        let wrong_auth = sign(&wrong, Some(&cache));
        assert_eq!(wrong_auth, sign(&wrong, None));
        assert_ne!(wrong_auth, right_auth);
        // And the right secret still gets its own key.
        assert_eq!(sign(&right, Some(&cache)), right_auth);
    }

    #[test]
    fn the_key_cache_changes_no_signature() {
        let cache = SigningKeyCache::with_capacity(2);
        let mut day = time();
        for i in 0..6 {
            let creds = creds(if i % 2 == 0 { Some(TOKEN) } else { None });
            let region = ["us-east-1", "eu-west-3", "ap-south-1"][i % 3];
            let mut cached = Request::post("https://example.com/x")
                .body(vec![b'x'; i])
                .unwrap();
            let mut uncached = cached.clone();
            let params = SigningParams::new(creds, region, "svc", day);
            sign_request(&mut cached, &params.clone().with_key_cache(&cache)).unwrap();
            sign_request(&mut uncached, &params).unwrap();
            assert_eq!(cached.headers(), uncached.headers());
            day += Duration::from_secs(40_000); // crosses midnight every other request
        }
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn utc_time_is_formatted_like_aws() {
        let at = |secs: i64, nanos: u32| {
            let base = if secs >= 0 {
                SystemTime::UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
            } else {
                SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
            };
            let t = UtcTime::new(base + Duration::from_nanos(u64::from(nanos))).unwrap();
            (t.date().to_owned(), t.date_time().to_owned())
        };
        let dt = |secs, nanos| at(secs, nanos).1;
        assert_eq!(dt(0, 0), "19700101T000000Z");
        assert_eq!(dt(1_440_938_160, 999_999_999), "20150830T123600Z");
        assert_eq!(dt(951_782_400, 0), "20000229T000000Z"); // leap day
        assert_eq!(dt(4_107_542_399, 0), "21000228T235959Z"); // 2100 is no leap year
        assert_eq!(dt(4_107_542_400, 0), "21000301T000000Z");
        assert_eq!(dt(-1, 500_000_000), "19691231T235959Z"); // 0.5 s before the epoch
        assert_eq!(dt(-1, 0), "19691231T235959Z");
        assert_eq!(dt(-2_208_988_800, 0), "19000101T000000Z");
        assert_eq!(dt(253_402_300_799, 0), "99991231T235959Z");
        assert_eq!(at(1_440_938_160, 0).0, "20150830");
        let err = UtcTime::new(SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_800));
        assert!(matches!(err, Err(SigningError::InvalidSigningTime { .. })));
    }

    #[test]
    fn path_normalization_matches_aws_sigv4_examples() {
        // aws-sigv4's own `uri_path_normalization` unit tests.
        for (input, expected) in [
            ("", "/"),
            ("/", "/"),
            ("foo", "/foo"),
            ("/foo", "/foo"),
            ("/foo/bar/", "/foo/bar/"),
            ("./", "/"),
            ("./foo", "/foo"),
            ("../", "/"),
            ("../foo", "/foo"),
            ("/foo/./bar", "/foo/bar"),
            ("/foo/../bar", "/bar"),
            ("/foo/bar/..", "/foo/"),
            ("/foo/bar/../", "/foo/"),
            ("/foo//bar", "/foo/bar"),
            ("//foo//", "/foo/"),
            ("/.", "/"),
            ("/..", "/"),
            ("/a/b/../../..", "/"),
            ("/a.b/c.d", "/a.b/c.d"),
            ("/...", "/..."),
        ] {
            assert_eq!(normalize_uri_path(input), expected, "{input:?}");
        }
        assert!(matches!(
            normalize_uri_path("/model/a.b-v1%3A0/converse"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_bytes() {
        let encode = |s: &str, keep_slash| {
            let mut out = String::new();
            percent_encode(&mut out, s, keep_slash);
            out
        };
        assert_eq!(encode("aZ09-._~", false), "aZ09-._~");
        assert_eq!(encode("/a b/%3A", true), "/a%20b/%253A");
        assert_eq!(encode("/a", false), "%2Fa");
        assert_eq!(encode("テ", false), "%E3%83%86");
        assert_eq!(encode("aテb", true), "a%E3%83%86b");
        assert_eq!(
            encode("!*'();:@&=+$,?#[]", false),
            "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%3F%23%5B%5D"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_inner_spaces_collapsed() {
        for (input, expected) in [
            ("", ""),
            ("   ", ""),
            ("a", "a"),
            ("  a  ", "a"),
            ("a  b   c", "a b c"),
            ("\ta  b\t", "\ta b\t"),
            (" a \t  b ", "a \t b"),
        ] {
            let mut out = String::new();
            push_trimmed(&mut out, input);
            assert_eq!(out, expected, "{input:?}");
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
