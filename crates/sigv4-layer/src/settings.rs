//! Signing settings: which optional headers are sent and how the canonical request is built.
//!
//! Every setting is an enum whose default matches what botocore and the AWS SDKs do for a
//! regular (non-S3) JSON or query service such as Bedrock, STS or DynamoDB, so
//! `SigningSettings::default()` is the right choice unless a service documents otherwise.
//!
//! Two things are deliberately *not* settings: the signature always goes into headers (no
//! presigned URLs), and the URI path is always percent-encoded a second time for the canonical
//! request (`%3A` is signed as `%253A`), which is what every AWS service except S3 expects.
//!
//! # Example
//!
//! ```
//! use sigv4_layer::{ContentSha256Header, SigningSettings};
//!
//! let settings = SigningSettings::default().with_content_sha256_header(ContentSha256Header::Send);
//! assert_eq!(settings.content_sha256_header, ContentSha256Header::Send);
//! ```

use std::borrow::Cow;

use aws_sigv4::http_request as aws;

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

/// Settings that change how a request is signed; see the [module docs](self).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigningSettings {
    /// Whether to send the payload hash as `x-amz-content-sha256`.
    ///
    /// Default: [`ContentSha256Header::Omit`]. The payload hash is always part of the signature;
    /// this only controls whether it is also sent (and signed) as a header, as S3 requires.
    pub content_sha256_header: ContentSha256Header,

    /// Whether `.` and `..` segments and repeated slashes are removed from the path before it is
    /// signed.
    ///
    /// Default: [`UriPathNormalization::Enabled`], as botocore does for every service but S3.
    pub uri_path_normalization: UriPathNormalization,

    /// Whether the session token header is part of the signed headers.
    ///
    /// Default: [`SessionTokenMode::Include`]. The header is sent either way.
    pub session_token_mode: SessionTokenMode,
}

impl SigningSettings {
    /// Returns these settings with [`content_sha256_header`](Self::content_sha256_header) set.
    pub fn with_content_sha256_header(mut self, value: ContentSha256Header) -> Self {
        self.content_sha256_header = value;
        self
    }

    /// Returns these settings with [`uri_path_normalization`](Self::uri_path_normalization) set.
    pub fn with_uri_path_normalization(mut self, value: UriPathNormalization) -> Self {
        self.uri_path_normalization = value;
        self
    }

    /// Returns these settings with [`session_token_mode`](Self::session_token_mode) set.
    pub fn with_session_token_mode(mut self, value: SessionTokenMode) -> Self {
        self.session_token_mode = value;
        self
    }

    /// The equivalent aws-sigv4 settings.
    pub(crate) fn to_aws(self) -> aws::SigningSettings {
        let mut settings = aws::SigningSettings::default();
        // aws-sigv4 leaves out authorization, user-agent, x-amzn-trace-id and
        // transfer-encoding; botocore also leaves out the hop-by-hop headers, which proxies may
        // change or drop. Do the same so that such a header never breaks a signature.
        settings
            .excluded_headers
            .get_or_insert_with(Vec::new)
            .extend(UNSIGNED_HOP_BY_HOP.iter().map(|h| Cow::Borrowed(*h)));
        // Spelled out although these are aws-sigv4's defaults: our contract depends on them.
        settings.percent_encoding_mode = aws::PercentEncodingMode::Double;
        settings.signature_location = aws::SignatureLocation::Headers;
        settings.payload_checksum_kind = match self.content_sha256_header {
            ContentSha256Header::Omit => aws::PayloadChecksumKind::NoHeader,
            ContentSha256Header::Send => aws::PayloadChecksumKind::XAmzSha256,
        };
        settings.uri_path_normalization_mode = match self.uri_path_normalization {
            UriPathNormalization::Enabled => aws::UriPathNormalizationMode::Enabled,
            UriPathNormalization::Disabled => aws::UriPathNormalizationMode::Disabled,
        };
        settings.session_token_mode = match self.session_token_mode {
            SessionTokenMode::Include => aws::SessionTokenMode::Include,
            SessionTokenMode::Exclude => aws::SessionTokenMode::Exclude,
        };
        settings
    }
}

/// Whether the payload's SHA-256 is also sent in an `x-amz-content-sha256` header.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ContentSha256Header {
    /// Do not send the header (the default, as botocore does for non-S3 services).
    #[default]
    Omit,
    /// Send the header and include it in the signed headers (required by S3).
    Send,
}

/// Whether the URI path is normalised (RFC 3986 dot segments, repeated slashes) before signing.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UriPathNormalization {
    /// Normalise the path (the default for every service but S3).
    #[default]
    Enabled,
    /// Sign the path exactly as it is sent.
    Disabled,
}

/// Whether `x-amz-security-token` is included in the signature when credentials carry a session
/// token.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionTokenMode {
    /// Sign the token header (the default; what botocore does).
    #[default]
    Include,
    /// Send the token header but leave it out of the signed headers, as a few services require.
    Exclude,
}
