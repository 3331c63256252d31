//! [`SigV4`], the service the layer makes, its [`ResponseFuture`], and the [`Layer`]
//! implementation of [`SigV4Layer`].
//!
//! For each request it resolves credentials, region and time (see the
//! [layer docs](crate::layer)), collects the body into one [`Bytes`] (without copying when the
//! body is a single chunk, as [`Full`] is), signs with [`sign_parts`] (that is, with aws-sigv4),
//! and calls the inner service with a `Request<Full<Bytes>>`. Body trailers are dropped: SigV4
//! does not sign them.
//!
//! It fails with a [`BoxError`]: a [`SigningError`] if the request could not be signed (the inner
//! service is then not called), or the inner service's error as it was.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use sigv4_layer::{Credentials, SigV4Layer, SigningRegion};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower::BoxError> {
//! let layer = SigV4Layer::builder().service_name("bedrock").region("us-east-1").build()?;
//! let svc = ServiceBuilder::new().layer(layer).service(service_fn(
//!     |req: http::Request<Full<Bytes>>| async move {
//!         Ok::<_, std::convert::Infallible>(req.headers()["authorization"].clone())
//!     },
//! ));
//!
//! let mut req = http::Request::post("https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse")
//!     .body(Full::new(Bytes::from_static(b"{}")))?;
//! req.extensions_mut().insert(Credentials::new("AKID", "SECRET", None, None, "header"));
//! req.extensions_mut().insert(SigningRegion::new("eu-west-1"));
//!
//! let authorization = svc.oneshot(req).await?;
//! assert!(authorization.to_str()?.contains("/eu-west-1/bedrock/aws4_request"));
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use bytes::Bytes;
use http::Request;
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::{BoxError, Layer, Service};

use crate::error::SigningError;
use crate::layer::{Config, SigV4Layer, SigV4LayerBuilder};
use crate::sign::{SigningParams, SigningRegion, SigningTime, sign_parts};

/// Signs each request with AWS SigV4, then calls the inner service; see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct SigV4<S> {
    inner: S,
    layer: SigV4Layer,
}

impl<S> SigV4<S> {
    /// Wraps `inner`, signing with `layer`'s configuration.
    pub fn new(inner: S, layer: SigV4Layer) -> Self {
        Self { inner, layer }
    }

    /// A builder for the [`SigV4Layer`] that makes this service (same as
    /// [`SigV4Layer::builder`]).
    pub fn layer() -> SigV4LayerBuilder {
        SigV4Layer::builder()
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S> Layer<S> for SigV4Layer {
    type Service = SigV4<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SigV4::new(inner, self.clone())
    }
}

impl<S, B> Service<Request<B>> for SigV4<S>
where
    S: Service<Request<Full<Bytes>>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The service that was polled ready goes into the future; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        ResponseFuture {
            inner: Box::pin(async move {
                let (mut parts, body) = req.into_parts();
                let config = &layer.config;
                let credentials = resolve_credentials(&parts.extensions, config)?;
                let region = resolve_region(&parts.extensions, config)?;
                let time = parts
                    .extensions
                    .get::<SigningTime>()
                    .map_or_else(SystemTime::now, |t| t.0);

                let body = body
                    .collect()
                    .await
                    .map_err(|e| SigningError::Body(e.into()))?
                    .to_bytes();
                let params = SigningParams::new(&credentials, &region, &config.service_name, time)
                    .with_settings(config.settings);
                sign_parts(&mut parts, &body, &params)?;

                inner
                    .call(Request::from_parts(parts, Full::new(body)))
                    .await
                    .map_err(Into::into)
            }),
        }
    }
}

fn resolve_credentials(
    extensions: &http::Extensions,
    config: &Config,
) -> Result<Credentials, SigningError> {
    extensions
        .get::<Credentials>()
        .or(config.credentials.as_ref())
        .cloned()
        .ok_or(SigningError::MissingCredentials)
}

pub(crate) fn resolve_region(
    extensions: &http::Extensions,
    config: &Config,
) -> Result<String, SigningError> {
    let from_extension = || config.region_from.and_then(|read| (read.0)(extensions));
    let region = extensions
        .get::<SigningRegion>()
        .map(|r| r.as_str())
        .or_else(from_extension)
        .or(config.region.as_deref())
        .ok_or(SigningError::MissingRegion)?;
    Ok(region.to_owned())
}

/// The response future of [`SigV4`]: collects the body, signs, then runs the inner service.
pub struct ResponseFuture<T> {
    inner: Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>,
}

impl<T> Future for ResponseFuture<T> {
    type Output = Result<T, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<T> fmt::Debug for ResponseFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use http::Response;
    use http_body::Frame;
    use tower::{ServiceBuilder, ServiceExt, service_fn};

    use super::*;

    const SECRET: &str = "DEFAULTSECRETdefaultsecret/abc";
    const REQ_SECRET: &str = "REQUESTSECRETrequestsecret/xyz";
    const TOKEN: &str = "REQUESTTOKENrequesttoken+xyz==";

    fn time() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    /// The inner service answers with the request it saw.
    async fn echo(req: Request<Full<Bytes>>) -> Result<Response<Request<Full<Bytes>>>, Infallible> {
        Ok(Response::new(req))
    }

    fn layer(region: Option<&str>, default_creds: bool) -> SigV4Layer {
        let mut b = SigV4Layer::builder().service_name("bedrock");
        if let Some(region) = region {
            b = b.region(region);
        }
        if default_creds {
            b = b.credentials(Credentials::new("DEFAULTAKID", SECRET, None, None, "test"));
        }
        b.build().unwrap()
    }

    fn request(body: &'static [u8]) -> Request<Full<Bytes>> {
        let mut req =
            Request::post("https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(body)))
                .unwrap();
        req.extensions_mut().insert(SigningTime(time()));
        req
    }

    async fn seen(
        layer: SigV4Layer,
        req: Request<Full<Bytes>>,
    ) -> Result<Request<Full<Bytes>>, BoxError> {
        let svc = ServiceBuilder::new().layer(layer).service(service_fn(echo));
        Ok(svc.oneshot(req).await?.into_body())
    }

    fn authorization(req: &Request<Full<Bytes>>) -> &str {
        req.headers()["authorization"].to_str().unwrap()
    }

    async fn body_bytes(req: Request<Full<Bytes>>) -> Bytes {
        req.into_body().collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn signs_with_layer_defaults() {
        let req = seen(layer(Some("us-east-1"), true), request(b"{}"))
            .await
            .unwrap();
        let auth = authorization(&req);
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=DEFAULTAKID/20150830/us-east-1/bedrock/aws4_request, "
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date, "),
            "{auth}"
        );
        assert_eq!(req.headers()["x-amz-date"], "20150830T123600Z");
        assert_eq!(
            req.headers()["host"],
            "bedrock-runtime.us-east-1.amazonaws.com"
        );
        assert!(!req.headers().contains_key("x-amz-security-token"));
        assert!(!req.headers().contains_key("x-amz-content-sha256"));
    }

    #[tokio::test]
    async fn the_service_signs_like_the_pure_function() {
        let creds = Credentials::new("DEFAULTAKID", SECRET, None, None, "test");
        let mut expected =
            Request::post("https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse")
                .header("content-type", "application/json")
                .body(b"{\"a\":1}".to_vec())
                .unwrap();
        crate::sign_request(
            &mut expected,
            &SigningParams::new(&creds, "us-east-1", "bedrock", time()),
        )
        .unwrap();
        let req = seen(layer(Some("us-east-1"), true), request(b"{\"a\":1}"))
            .await
            .unwrap();
        assert_eq!(req.headers(), expected.headers());
    }

    #[tokio::test]
    async fn request_credentials_override_defaults() {
        let mut req = request(b"{}");
        req.extensions_mut().insert(Credentials::new(
            "REQAKID",
            REQ_SECRET,
            Some(TOKEN.into()),
            None,
            "header",
        ));
        let req = seen(layer(Some("us-east-1"), true), req).await.unwrap();
        let auth = authorization(&req);
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=REQAKID/20150830/us-east-1/bedrock/aws4_request"
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "),
            "{auth}"
        );
        assert_eq!(req.headers()["x-amz-security-token"], TOKEN);

        // Same request signed with the defaults: a different signature.
        let default = seen(layer(Some("us-east-1"), true), request(b"{}"))
            .await
            .unwrap();
        assert_ne!(authorization(&default), auth);
    }

    #[tokio::test]
    async fn a_known_access_key_id_with_a_wrong_secret_is_signed_with_that_secret() {
        // One layer, first used with the right secret: nothing it keeps from that request
        // signs the next one.
        let layer = layer(Some("us-east-1"), false);
        let with = |creds: Credentials| {
            let mut req = request(b"{}");
            req.extensions_mut().insert(creds);
            req
        };
        let right = Credentials::new("AKIDKNOWN", REQ_SECRET, None, None, "header");
        let wrong = Credentials::new("AKIDKNOWN", "guessed-secret", None, None, "header");
        let right_seen = seen(layer.clone(), with(right)).await.unwrap();

        let wrong_seen = seen(layer.clone(), with(wrong.clone())).await.unwrap();
        let mut expected =
            Request::post("https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse")
                .header("content-type", "application/json")
                .body(b"{}".to_vec())
                .unwrap();
        crate::sign_request(
            &mut expected,
            &SigningParams::new(&wrong, "us-east-1", "bedrock", time()),
        )
        .unwrap();
        assert_eq!(
            wrong_seen.headers()["authorization"],
            expected.headers()["authorization"]
        );
        assert_ne!(authorization(&wrong_seen), authorization(&right_seen));
    }

    #[tokio::test]
    async fn request_region_changes_the_credential_scope() {
        let mut req = request(b"{}");
        req.extensions_mut().insert(SigningRegion::new("eu-west-3"));
        let req = seen(layer(Some("us-east-1"), true), req).await.unwrap();
        assert!(authorization(&req).contains("/20150830/eu-west-3/bedrock/aws4_request"));

        // A region only from the request works without a layer default.
        let mut req = request(b"{}");
        req.extensions_mut()
            .insert(SigningRegion::from("ap-south-1"));
        let req = seen(layer(None, true), req).await.unwrap();
        assert!(authorization(&req).contains("/ap-south-1/bedrock/aws4_request"));
    }

    #[tokio::test]
    async fn missing_credentials_is_a_typed_error() {
        let called = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = called.clone();
        let svc = ServiceBuilder::new()
            .layer(layer(Some("us-east-1"), false))
            .service(service_fn(move |req: Request<Full<Bytes>>| {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                echo(req)
            }));
        let err = svc.oneshot(request(b"{}")).await.unwrap_err();
        assert!(
            matches!(
                err.downcast_ref::<SigningError>(),
                Some(SigningError::MissingCredentials)
            ),
            "{err:?}"
        );
        assert!(
            !called.load(std::sync::atomic::Ordering::SeqCst),
            "inner service was called"
        );
    }

    #[tokio::test]
    async fn missing_region_is_a_typed_error() {
        let err = seen(layer(None, true), request(b"{}")).await.unwrap_err();
        assert!(
            matches!(
                err.downcast_ref::<SigningError>(),
                Some(SigningError::MissingRegion)
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn expired_request_credentials_are_a_typed_error() {
        let mut req = request(b"{}");
        let expiry = time() - Duration::from_secs(60);
        req.extensions_mut().insert(Credentials::new(
            "AKID",
            REQ_SECRET,
            None,
            Some(expiry),
            "header",
        ));
        let err = seen(layer(Some("us-east-1"), true), req).await.unwrap_err();
        assert!(
            matches!(
                err.downcast_ref::<SigningError>(),
                Some(SigningError::ExpiredCredentials { .. })
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn inner_sees_the_same_body_without_a_copy() {
        let original = Bytes::from_static(b"{\"messages\":[{\"role\":\"user\"}]}");
        let mut req = request(b"");
        *req.body_mut() = Full::new(original.clone());
        let req = seen(layer(Some("us-east-1"), true), req).await.unwrap();
        let got = body_bytes(req).await;
        assert_eq!(got, original);
        assert_eq!(
            got.as_ptr(),
            original.as_ptr(),
            "single-chunk body was copied"
        );
    }

    #[tokio::test]
    async fn multi_chunk_body_is_collected_and_signed_whole() {
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = vec![
            Ok(Frame::data(Bytes::from_static(b"{\"a\":"))),
            Ok(Frame::data(Bytes::from_static(b"1}"))),
        ];
        let body = chunks(frames);
        let mut req = Request::post("https://example.amazonaws.com/")
            .header("content-type", "application/json")
            .body(body)
            .unwrap();
        req.extensions_mut().insert(SigningTime(time()));
        let svc = ServiceBuilder::new()
            .layer(layer(Some("us-east-1"), true))
            .service(service_fn(echo));
        let seen = svc.oneshot(req).await.unwrap().into_body();

        let creds = Credentials::new("DEFAULTAKID", SECRET, None, None, "test");
        let mut expected = Request::post("https://example.amazonaws.com/")
            .header("content-type", "application/json")
            .body(b"{\"a\":1}".to_vec())
            .unwrap();
        crate::sign_request(
            &mut expected,
            &SigningParams::new(&creds, "us-east-1", "bedrock", time()),
        )
        .unwrap();
        assert_eq!(
            seen.headers()["authorization"],
            expected.headers()["authorization"]
        );
        assert_eq!(body_bytes(seen).await, Bytes::from_static(b"{\"a\":1}"));
    }

    #[tokio::test]
    async fn body_error_is_a_typed_error() {
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> =
            vec![Err(std::io::Error::other("connection reset"))];
        let mut req = Request::post("https://example.amazonaws.com/")
            .body(chunks(frames))
            .unwrap();
        req.extensions_mut().insert(SigningTime(time()));
        let svc = ServiceBuilder::new()
            .layer(layer(Some("us-east-1"), true))
            .service(service_fn(echo));
        let err = svc.oneshot(req).await.unwrap_err();
        let err = err.downcast_ref::<SigningError>().expect("a SigningError");
        assert!(matches!(err, SigningError::Body(_)), "{err:?}");
        let source = std::error::Error::source(err).expect("source kept");
        assert_eq!(source.to_string(), "connection reset");
    }

    #[tokio::test]
    async fn inner_errors_pass_through_unchanged() {
        #[derive(Debug, thiserror::Error)]
        #[error("upstream down")]
        struct Upstream;
        let svc = ServiceBuilder::new()
            .layer(layer(Some("us-east-1"), true))
            .service(service_fn(|_req: Request<Full<Bytes>>| async {
                Err::<(), _>(Upstream)
            }));
        let err = svc.oneshot(request(b"{}")).await.unwrap_err();
        assert!(err.downcast_ref::<Upstream>().is_some(), "{err:?}");
    }

    #[test]
    fn accessors_reach_the_inner_service() {
        let mut svc = SigV4::new(7_u8, layer(None, false));
        assert_eq!(*svc.get_ref(), 7);
        *svc.get_mut() = 8;
        assert_eq!(svc.into_inner(), 8);
        let layer = SigV4::<()>::layer().service_name("sts").build().unwrap();
        assert_eq!(layer.service_name(), "sts");
    }

    /// A body that yields `frames` one by one.
    struct Chunks<E>(std::collections::VecDeque<Result<Frame<Bytes>, E>>);

    fn chunks<E>(frames: Vec<Result<Frame<Bytes>, E>>) -> Chunks<E> {
        Chunks(frames.into())
    }

    impl<E: Unpin> Body for Chunks<E> {
        type Data = Bytes;
        type Error = E;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, E>>> {
            Poll::Ready(self.0.pop_front())
        }
    }
}
