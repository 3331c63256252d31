//! The signer this crate used before it had its own: `aws_sigv4::http_request::sign`, wrapped
//! exactly as `src/sign.rs` wrapped it up to and including sigv4-layer's commit 407ceb2 (our own
//! checks first, then aws-sigv4 with our settings mapped onto its own, then the headers set the
//! same way). It is the oracle of `tests/aws_sigv4_oracle.rs` and the reference of
//! `benches/sign.rs`, which include this file with `#[path]`.

#![allow(dead_code)] // each includer uses part of it

use std::borrow::Cow;

use aws_sigv4::http_request::{self as sigv4, SignableBody, SignableRequest};
use aws_smithy_runtime_api::client::identity::Identity;
use http::header::{AUTHORIZATION, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use sigv4_layer::{
    ContentSha256Header, SessionTokenMode, SigningParams, SigningSettings, UriPathNormalization,
};

const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");

/// Headers botocore never signs (`SIGNED_HEADERS_BLACKLIST`) that aws-sigv4 would sign.
const UNSIGNED_HOP_BY_HOP: &[&str] = &[
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

/// Why the old signer failed, one variant per `SigningError` variant it could return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OracleError {
    ExpiredCredentials,
    InvalidRegion,
    MissingHost,
    InvalidHeaderValue,
    /// aws-sigv4 rejected the request (`SigningError::Sign` before).
    Sign,
    /// aws-sigv4 rejected the parameters (`SigningError::Params` before).
    Params,
    InvalidSignatureHeader,
}

/// The equivalent `aws-sigv4` settings (`SigningSettings::to_aws` before).
pub(crate) fn to_aws(settings: &SigningSettings) -> sigv4::SigningSettings {
    let mut aws = sigv4::SigningSettings::default();
    aws.excluded_headers
        .get_or_insert_with(Vec::new)
        .extend(UNSIGNED_HOP_BY_HOP.iter().map(|h| Cow::Borrowed(*h)));
    aws.percent_encoding_mode = sigv4::PercentEncodingMode::Double;
    aws.signature_location = sigv4::SignatureLocation::Headers;
    aws.payload_checksum_kind = match settings.content_sha256_header {
        ContentSha256Header::Omit => sigv4::PayloadChecksumKind::NoHeader,
        ContentSha256Header::Send => sigv4::PayloadChecksumKind::XAmzSha256,
        _ => unreachable!("a new setting"),
    };
    aws.uri_path_normalization_mode = match settings.uri_path_normalization {
        UriPathNormalization::Enabled => sigv4::UriPathNormalizationMode::Enabled,
        UriPathNormalization::Disabled => sigv4::UriPathNormalizationMode::Disabled,
        _ => unreachable!("a new setting"),
    };
    aws.session_token_mode = match settings.session_token_mode {
        SessionTokenMode::Include => sigv4::SessionTokenMode::Include,
        SessionTokenMode::Exclude => sigv4::SessionTokenMode::Exclude,
        _ => unreachable!("a new setting"),
    };
    aws
}

fn is_valid_region(region: &str) -> bool {
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The headers to set on the request: `host` when missing, then the signature headers.
pub(crate) fn signature_headers(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    params: &SigningParams<'_>,
) -> Result<Vec<(HeaderName, HeaderValue)>, OracleError> {
    let credentials = params.credentials();
    if let Some(expiry) = credentials.expiry()
        && expiry <= params.time()
    {
        return Err(OracleError::ExpiredCredentials);
    }
    if !is_valid_region(params.region()) {
        return Err(OracleError::InvalidRegion);
    }

    let host = if headers.contains_key(HOST) {
        None
    } else {
        Some(host_from_uri(uri)?)
    };

    let send_sha256 = params.settings().content_sha256_header == ContentSha256Header::Send;
    let mut signable = Vec::with_capacity(headers.len() + 1);
    for (name, value) in headers {
        if is_replaced(name, send_sha256) {
            continue;
        }
        let value =
            std::str::from_utf8(value.as_bytes()).map_err(|_| OracleError::InvalidHeaderValue)?;
        signable.push((name.as_str(), value));
    }
    if let Some(host) = &host {
        let value = host.to_str().map_err(|_| OracleError::InvalidHeaderValue)?;
        signable.push((HOST.as_str(), value));
    }

    let uri = uri.to_string();
    let request = SignableRequest::new(
        method.as_str(),
        uri,
        signable.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|_| OracleError::Sign)?;

    let identity = Identity::from(credentials.clone());
    let aws_params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(params.region())
        .name(params.service_name())
        .time(params.time())
        .settings(to_aws(params.settings()))
        .build()
        .map_err(|_| OracleError::Params)?
        .into();
    let (instructions, _signature) = sigv4::sign(request, &aws_params)
        .map_err(|_| OracleError::Sign)?
        .into_parts();
    let (signed, _query) = instructions.into_parts();

    let mut out = Vec::with_capacity(signed.len() + 1);
    out.extend(host.map(|host| (HOST, host)));
    for header in signed {
        let name = header.name();
        let mut value = HeaderValue::from_str(header.value())
            .map_err(|_| OracleError::InvalidSignatureHeader)?;
        value.set_sensitive(header.sensitive() || name == AUTHORIZATION.as_str());
        out.push((HeaderName::from_static(name), value));
    }
    Ok(out)
}

fn is_replaced(name: &HeaderName, send_sha256: bool) -> bool {
    name == AUTHORIZATION
        || name == X_AMZ_DATE
        || name == X_AMZ_SECURITY_TOKEN
        || (send_sha256 && name == X_AMZ_CONTENT_SHA256)
}

pub(crate) fn apply(headers: &mut HeaderMap, signature_headers: Vec<(HeaderName, HeaderValue)>) {
    headers.remove(AUTHORIZATION);
    headers.remove(X_AMZ_DATE);
    headers.remove(X_AMZ_SECURITY_TOKEN);
    for (name, value) in signature_headers {
        headers.insert(name, value);
    }
}

fn host_from_uri(uri: &Uri) -> Result<HeaderValue, OracleError> {
    let host = uri.host().ok_or(OracleError::MissingHost)?;
    let default_port = match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    let value = match uri.port_u16() {
        Some(port) if Some(port) != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    HeaderValue::try_from(value).map_err(|_| OracleError::MissingHost)
}

/// `sign_request` as it was.
pub(crate) fn sign_request<B: AsRef<[u8]>>(
    request: &mut Request<B>,
    params: &SigningParams<'_>,
) -> Result<(), OracleError> {
    let headers = signature_headers(
        request.method(),
        request.uri(),
        request.headers(),
        request.body().as_ref(),
        params,
    )?;
    apply(request.headers_mut(), headers);
    Ok(())
}
