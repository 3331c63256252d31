//! The crate's errors: [`SigningError`] when a request cannot be signed, [`BuildError`] when a
//! layer is misconfigured.
//!
//! The [`SigV4`](crate::SigV4) service fails with a [`tower::BoxError`], tower style: a
//! [`SigningError`] when signing failed (downcast it), or the inner service's error unchanged.
//! No error ever carries a secret key or session token, in `Display` or in `Debug`.
//!
//! # Example
//!
//! ```
//! use sigv4_layer::SigningError;
//!
//! let err: tower::BoxError = SigningError::MissingCredentials.into();
//! assert!(matches!(
//!     err.downcast_ref::<SigningError>(),
//!     Some(SigningError::MissingCredentials)
//! ));
//! ```

use std::time::SystemTime;

use http::HeaderName;
use tower::BoxError;

/// Why a request could not be signed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// Neither the request nor the layer carried credentials.
    #[error("no aws credentials to sign the request with")]
    MissingCredentials,

    /// The credentials' expiry is at or before the signing time.
    #[error("aws credentials expired")]
    ExpiredCredentials {
        /// When the credentials expired.
        expiry: SystemTime,
        /// The signing time they were checked against.
        signing_time: SystemTime,
    },

    /// Neither the request nor the layer named a region.
    #[error("no aws region to sign the request for")]
    MissingRegion,

    /// The region is empty or has characters other than ASCII letters, digits and `-`.
    #[error("invalid aws signing region {region:?}")]
    InvalidRegion {
        /// The rejected region.
        region: String,
    },

    /// The request has no `host` header and its URI has no authority to derive one from.
    #[error("request has no host header and its uri has no authority")]
    MissingHost,

    /// A header value is not UTF-8, so it cannot be part of a canonical request.
    ///
    /// The value itself is not kept: it could be a secret.
    #[error("value of header `{name}` is not utf-8")]
    InvalidHeaderValue {
        /// The header's name.
        name: HeaderName,
    },

    /// The signing time cannot be written as SigV4 requires (`YYYYMMDD'T'HHMMSS'Z'`): it is
    /// before year 0 or after year 9999.
    #[error("signing time is outside the years 0 to 9999")]
    InvalidSigningTime {
        /// The rejected time.
        time: SystemTime,
    },

    /// A header produced by signing is not a valid header value (for example a session token
    /// with a line break).
    #[error("signing produced an invalid `{name}` header value")]
    InvalidSignatureHeader {
        /// The header's name.
        name: &'static str,
        /// Why the value was rejected.
        #[source]
        source: http::header::InvalidHeaderValue,
    },

    /// aws-sigv4 rejected the request or the credentials.
    ///
    /// Not expected: the checks behind the other variants run first and cover what aws-sigv4
    /// rejects (a URI, header or session token it cannot put in a canonical request). Kept as an
    /// error rather than a panic should aws-sigv4 change.
    #[error("aws-sigv4 could not sign the request")]
    Sign(#[source] aws_sigv4::http_request::SigningError),

    /// The request body could not be read.
    #[error("failed to read the request body")]
    Body(#[source] BoxError),
}

/// Why a [`SigV4Layer`](crate::SigV4Layer) could not be built.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// [`service_name`](crate::SigV4LayerBuilder::service_name) was not called.
    #[error("a signing service name is required")]
    MissingServiceName,

    /// The service name is empty or has characters other than ASCII letters, digits, `-`, `_`
    /// and `.`.
    #[error("invalid signing service name {name:?}")]
    InvalidServiceName {
        /// The rejected name.
        name: String,
    },

    /// The default region is not a valid region name.
    #[error("invalid default region {region:?}")]
    InvalidRegion {
        /// The rejected region.
        region: String,
    },
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::time::{Duration, SystemTime};

    use aws_credential_types::Credentials;
    use bytes::Bytes;
    use http_body_util::Full;
    use tower::{Layer, ServiceExt, service_fn};

    use super::*;
    use crate::{SigV4Layer, SigningParams, SigningRegion, SigningTime, sign_request};

    const SECRET: &str = "sEcReTkEyNeVeRpRiNtEd/0123456789abcdef";
    const TOKEN: &str = "sEsSiOnToKeNnEvErPrInTeD+0123456789==";

    fn time() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn creds() -> Credentials {
        Credentials::new("AKIDVISIBLE", SECRET, Some(TOKEN.into()), None, "test")
    }

    /// `Display`, `Debug` and every `source()` of `err`.
    fn all_text(err: &(dyn std::error::Error + 'static)) -> String {
        let mut text = format!("{err} {err:?}");
        let mut source = err.source();
        while let Some(s) = source {
            text.push_str(&format!(" | {s} {s:?}"));
            source = s.source();
        }
        text
    }

    fn assert_no_secret(text: &str) {
        assert!(!text.contains(SECRET), "secret key leaked: {text}");
        assert!(!text.contains(TOKEN), "session token leaked: {text}");
        assert!(
            !text.contains("sEcReT") && !text.contains("sEsSiOn"),
            "{text}"
        );
    }

    /// One of each variant, made the way the crate makes them where possible.
    fn every_error() -> Vec<SigningError> {
        let creds = creds();
        let sign = |req: &mut http::Request<Vec<u8>>, creds: &Credentials, region: &str| {
            sign_request(req, &SigningParams::new(creds, region, "svc", time())).unwrap_err()
        };
        let ok = || {
            http::Request::get("https://example.com/")
                .body(Vec::new())
                .unwrap()
        };
        let expired = Credentials::new("AKID", SECRET, Some(TOKEN.into()), Some(time()), "t");
        let bad_token = Credentials::new("AKID", SECRET, Some(format!("{TOKEN}\n")), None, "t");
        let mut bad_header = ok();
        bad_header.headers_mut().insert(
            "x-api-key",
            http::HeaderValue::from_bytes(&[SECRET.as_bytes(), b"\xff"].concat()).unwrap(),
        );
        let far_future = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        let errors = vec![
            SigningError::MissingCredentials,
            sign(&mut ok(), &expired, "us-east-1"),
            SigningError::MissingRegion,
            sign(&mut ok(), &creds, "us-east-1/x"),
            sign(
                &mut http::Request::get("/").body(Vec::new()).unwrap(),
                &creds,
                "us-east-1",
            ),
            sign(&mut bad_header, &creds, "us-east-1"),
            sign_request(
                &mut ok(),
                &SigningParams::new(&creds, "us-east-1", "svc", far_future),
            )
            .unwrap_err(),
            sign(&mut ok(), &bad_token, "us-east-1"),
            // Made by aws-sigv4 itself: the crate checks its inputs so that it never fails.
            SigningError::Sign(
                aws_sigv4::http_request::SignableRequest::new(
                    "GET",
                    format!("https://{SECRET}@example.com/ x"),
                    std::iter::empty(),
                    aws_sigv4::http_request::SignableBody::empty(),
                )
                .unwrap_err(),
            ),
            SigningError::Body(format!("reset while sending {}", "body").into()),
        ];
        // Fails to compile when a variant is added, so this list stays complete.
        for err in &errors {
            match err {
                SigningError::MissingCredentials
                | SigningError::ExpiredCredentials { .. }
                | SigningError::MissingRegion
                | SigningError::InvalidRegion { .. }
                | SigningError::MissingHost
                | SigningError::InvalidHeaderValue { .. }
                | SigningError::InvalidSigningTime { .. }
                | SigningError::InvalidSignatureHeader { .. }
                | SigningError::Sign(_)
                | SigningError::Body(_) => {}
            }
        }
        errors
    }

    #[test]
    fn no_error_shows_a_secret() {
        let errors = every_error();
        let kinds: Vec<_> = errors.iter().map(std::mem::discriminant).collect();
        for (i, kind) in kinds.iter().enumerate() {
            assert!(
                !kinds[i + 1..].contains(kind),
                "variant listed twice: {:?}",
                errors[i]
            );
        }
        for err in &errors {
            let text = all_text(err);
            assert_no_secret(&text);
            // Lowercase messages, tower style.
            let display = err.to_string();
            assert!(display.starts_with(|c: char| c.is_lowercase()), "{display}");
        }
        for err in [
            BuildError::MissingServiceName,
            BuildError::InvalidServiceName { name: "a b".into() },
            BuildError::InvalidRegion {
                region: "a/b".into(),
            },
        ] {
            assert!(err.to_string().starts_with(|c: char| c.is_lowercase()));
        }
    }

    #[test]
    fn sources_are_kept() {
        for err in every_error() {
            let has_source = err.source().is_some();
            let expects_source = matches!(
                err,
                SigningError::InvalidSignatureHeader { .. }
                    | SigningError::Sign(_)
                    | SigningError::Body(_)
            );
            assert_eq!(has_source, expects_source, "{err:?}");
        }
    }

    #[tokio::test]
    async fn layer_service_and_params_debug_show_no_secret() {
        let layer = SigV4Layer::builder()
            .service_name("bedrock")
            .region("us-east-1")
            .credentials(creds())
            .build()
            .unwrap();
        let creds = creds();
        let params = SigningParams::new(&creds, "us-east-1", "bedrock", time());
        let svc = layer.layer(service_fn(|req: http::Request<Full<Bytes>>| async move {
            Ok::<_, std::convert::Infallible>(req)
        }));
        let text = format!("{layer:?} {params:?} {svc:?}");
        assert!(text.contains("AKIDVISIBLE"), "{text}");
        assert_no_secret(&text);

        // A signed request's sensitive headers are redacted in its Debug too.
        let mut req = http::Request::post("https://example.com/")
            .body(Full::new(Bytes::new()))
            .unwrap();
        req.extensions_mut().insert(SigningRegion::new("eu-west-1"));
        req.extensions_mut().insert(SigningTime(time()));
        let signed = svc.oneshot(req).await.unwrap();
        let text = format!("{signed:?} {:?}", signed.headers());
        assert_no_secret(&text);
        assert_eq!(signed.headers()["x-amz-security-token"], TOKEN);
    }
}
