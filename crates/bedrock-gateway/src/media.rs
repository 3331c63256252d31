//! [`FetchMediaLayer`]: opt-in (`--fetch-remote-media`) download of the remote image and
//! document URLs of a chat request, rewritten to the `data:` URLs the translator takes.
//!
//! Off by default, and then not in the pipeline at all (`option_layer` in `stack.rs`): remote
//! URLs stay a 400 from the translator. When on, for each `http(s)` URL of a chat request
//! (`messages[i].content[j].image_url.url`, `messages[i].content[j].file.file_data`):
//!
//! - https only, plain http only with `--fetch-remote-media-allow-http`; no user info;
//! - the host is resolved once, and every address it resolves to is checked against the
//!   refused ranges ([`refusal`]: loopback, private, link-local, unique-local, CGNAT, cloud
//!   metadata, multicast, ...) before any connection; the connection is then made to those
//!   checked addresses only (a resolver that answers with them), the TLS name and `Host` still
//!   the URL's host. An address in `--fetch-remote-media-allow-cidr` is let through (tests,
//!   private deployments);
//! - redirects are not followed: a 3xx is a 400 saying where it pointed;
//! - the answer must be a 2xx, at most Bedrock's size for its kind (3.75 MB per image, 4.5 MB
//!   per document; checked against `Content-Length` and while reading), within
//!   [`FETCH_TIMEOUT`] for all the request's fetches together;
//! - images must be png, jpeg, gif or webp by their first bytes, and a declared `image/*`
//!   `Content-Type` must agree; a document declared (or found to be) PDF must be both, any
//!   other document keeps its declared type (the translator checks it against the formats
//!   Bedrock takes).
//!
//! At most [`MAX_IMAGES`] images and [`MAX_DOCUMENTS`] documents are fetched per request,
//! one after another. Every failure is a 400 naming the parameter. The layer sits after
//! `Admit`, so a request fetching media holds a concurrency permit: its memory and time count.
//!
//! Hand-written because no library piece does this; the client is hyper-util's, with rustls
//! and native roots, like the one to Bedrock (`upstream.rs`), but built per fetch around a
//! resolver that only answers with the checked addresses.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use bedrock_translate::request::{MAX_DOCUMENT_BYTES, MAX_DOCUMENTS, MAX_IMAGE_BYTES};
use bedrock_translate::{ApiError, FrontDoor};
use bytes::Bytes;
use http::{Request, Uri, header};
use http_body_util::{BodyExt, Empty, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::time::Instant;
use tower::{BoxError, Layer, Service};

use crate::error::GatewayError;

/// Time for all the remote media of one request: resolving, connecting, reading.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Bedrock's limit on images per request.
pub const MAX_IMAGES: usize = 20;

/// An IP network, `ADDRESS/PREFIX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `::1/128`, or a bare address (all its bits).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{text}' is not an IP address or ADDRESS/PREFIX"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{text}': the prefix must be 0 to {max}"))?,
        };
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` is in this network (an IPv4 network never holds an IPv6 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(net.to_bits()),
                u128::from(ip.to_bits()),
                self.prefix,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(net.to_bits(), ip.to_bits(), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of the `width` bits of `a` and `b` agree.
fn prefix_eq(a: u128, b: u128, prefix: u8, width: u32) -> bool {
    let shift = width - u32::from(prefix);
    shift >= width || (a >> shift) == (b >> shift)
}

/// The IPv4 ranges never fetched from, by name (the more specific first).
const REFUSED_V4: [([u8; 4], u8, &str); 13] = [
    ([0, 0, 0, 0], 8, "'this network' (0.0.0.0/8)"),
    ([10, 0, 0, 0], 8, "private (10.0.0.0/8)"),
    ([100, 64, 0, 0], 10, "carrier-grade NAT (100.64.0.0/10)"),
    ([127, 0, 0, 0], 8, "loopback (127.0.0.0/8)"),
    ([169, 254, 169, 254], 32, "cloud metadata (169.254.169.254)"),
    ([169, 254, 0, 0], 16, "link-local (169.254.0.0/16)"),
    ([172, 16, 0, 0], 12, "private (172.16.0.0/12)"),
    (
        [192, 0, 0, 0],
        24,
        "IETF protocol assignments (192.0.0.0/24)",
    ),
    ([192, 168, 0, 0], 16, "private (192.168.0.0/16)"),
    ([198, 18, 0, 0], 15, "benchmarking (198.18.0.0/15)"),
    ([224, 0, 0, 0], 4, "multicast (224.0.0.0/4)"),
    ([255, 255, 255, 255], 32, "broadcast (255.255.255.255)"),
    ([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)"),
];

/// The IPv6 ranges never fetched from, by name (the more specific first); IPv4-mapped
/// addresses (`::ffff:0:0/96`) are checked as the IPv4 address they hold.
const REFUSED_V6: [(Ipv6Addr, u8, &str); 12] = [
    (Ipv6Addr::UNSPECIFIED, 128, "unspecified (::)"),
    (Ipv6Addr::LOCALHOST, 128, "loopback (::1)"),
    (Ipv6Addr::UNSPECIFIED, 96, "IPv4-compatible (::/96)"),
    (
        Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
        96,
        "NAT64 (64:ff9b::/96)",
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "local NAT64 (64:ff9b:1::/48)",
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        32,
        "Teredo (2001::/32)",
    ),
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        "6to4 (2002::/16)",
    ),
    (
        Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
        128,
        "cloud metadata (fd00:ec2::254)",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "unique-local (fc00::/7)",
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        "link-local (fe80::/10)",
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "site-local (fec0::/10)",
    ),
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        "multicast (ff00::/8)",
    ),
];

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u128::from(ip.to_bits());
    REFUSED_V4
        .iter()
        .find(|(net, prefix, _)| {
            prefix_eq(
                u128::from(Ipv4Addr::from(*net).to_bits()),
                bits,
                *prefix,
                32,
            )
        })
        .map(|(_, _, name)| *name)
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return refused_v4(mapped);
    }
    let bits = ip.to_bits();
    REFUSED_V6
        .iter()
        .find(|(net, prefix, _)| prefix_eq(net.to_bits(), bits, *prefix, 128))
        .map(|(_, _, name)| *name)
}

/// Why `ip` may not be fetched from (the refused range's name), `None` when it may: every
/// refused range is refused unless `allow` holds the address.
pub fn refusal(ip: IpAddr, allow: &[Cidr]) -> Option<&'static str> {
    let canonical = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    if allow
        .iter()
        .any(|net| net.contains(ip) || net.contains(canonical))
    {
        return None;
    }
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

/// The settings of remote media fetching.
#[derive(Debug, Clone, Default)]
pub struct FetchSettings {
    /// Plain `http://` URLs are fetched too.
    pub allow_http: bool,
    /// Networks let through despite the refused ranges.
    pub allow: Vec<Cidr>,
}

/// Fetches the remote media of chat requests; see the module documentation.
#[derive(Debug, Clone)]
pub struct FetchMediaLayer {
    fetcher: Arc<Fetcher>,
}

impl FetchMediaLayer {
    /// A layer fetching under `settings`; fails only when the system's root certificates
    /// cannot be read.
    pub fn new(settings: FetchSettings) -> Result<Self, BoxError> {
        Ok(Self {
            fetcher: Arc::new(Fetcher::new(settings)?),
        })
    }
}

impl<S> Layer<S> for FetchMediaLayer {
    type Service = FetchMedia<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FetchMedia {
            inner,
            fetcher: Arc::clone(&self.fetcher),
        }
    }
}

/// See [`FetchMediaLayer`].
#[derive(Debug, Clone)]
pub struct FetchMedia<S> {
    inner: S,
    fetcher: Arc<Fetcher>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request<Full<Bytes>>> for FetchMedia<S>
where
    S: Service<Request<Full<Bytes>>, Error = GatewayError> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = S::Response;
    type Error = GatewayError;
    type Future = BoxFuture<Result<S::Response, GatewayError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), GatewayError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Full<Bytes>>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let fetcher = Arc::clone(&self.fetcher);
        Box::pin(async move {
            let request = fetcher.rewrite(request).await?;
            inner.call(request).await
        })
    }
}

/// What a URL is expected to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Image,
    Document,
}

#[derive(Debug)]
struct Fetcher {
    settings: FetchSettings,
    tls: rustls::ClientConfig,
}

/// A 400 on `param`.
fn refuse(param: &str, message: impl Into<String>) -> GatewayError {
    GatewayError::Rejected(ApiError::invalid_request(message, Some(param)))
}

/// Whether `url` is a remote URL this layer handles (else the translator judges it).
fn is_remote(url: &str) -> bool {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    matches!(scheme.as_deref(), Some("http" | "https"))
}

impl Fetcher {
    fn new(settings: FetchSettings) -> Result<Self, BoxError> {
        use hyper_rustls::ConfigBuilderExt as _;
        let tls = rustls::ClientConfig::builder()
            .with_native_roots()?
            .with_no_client_auth();
        Ok(Self { settings, tls })
    }

    /// The request with its remote media inlined; untouched when it has none.
    async fn rewrite(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<Request<Full<Bytes>>, GatewayError> {
        if request.extensions().get::<FrontDoor>() != Some(&FrontDoor::ChatCompletions) {
            return Ok(request);
        }
        let (mut parts, body) = request.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|never| -> GatewayError { match never {} })?
            .to_bytes();
        // Cheap test first: no `://` in the body, no remote URL.
        let has_scheme = bytes.windows(3).any(|w| w == b"://");
        let mut json: Value = match has_scheme.then(|| serde_json::from_slice(&bytes)) {
            Some(Ok(json)) => json,
            // Not JSON, or nothing to fetch: the translator answers as it always does.
            _ => return Ok(Request::from_parts(parts, Full::new(bytes))),
        };
        let targets = remote_targets(&json);
        if targets.is_empty() {
            return Ok(Request::from_parts(parts, Full::new(bytes)));
        }
        let images = targets.iter().filter(|t| t.1 == Kind::Image).count();
        let documents = targets.len() - images;
        if images > MAX_IMAGES || documents > MAX_DOCUMENTS {
            return Err(refuse(
                "messages",
                format!(
                    "too many remote media: at most {MAX_IMAGES} images and {MAX_DOCUMENTS} documents per request"
                ),
            ));
        }
        let deadline = Instant::now() + FETCH_TIMEOUT;
        for (pointer, kind, param) in targets {
            let url = json
                .pointer(&pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let fetched = tokio::time::timeout_at(deadline, self.fetch(&url, kind))
                .await
                .map_err(|_| {
                    refuse(
                        &param,
                        format!(
                            "cannot fetch {url}: the request's remote media took longer than {} s",
                            FETCH_TIMEOUT.as_secs()
                        ),
                    )
                })?
                .map_err(|reason| refuse(&param, format!("cannot fetch {url}: {reason}")))?;
            if let Some(slot) = json.pointer_mut(&pointer) {
                *slot = Value::String(fetched);
            }
        }
        let body = serde_json::to_vec(&json).map_err(|e| GatewayError::Internal(Box::new(e)))?;
        parts.headers.remove(header::CONTENT_LENGTH);
        Ok(Request::from_parts(parts, Full::new(Bytes::from(body))))
    }

    /// The `data:` URL of the media at `url`, or why not.
    async fn fetch(&self, url: &str, kind: Kind) -> Result<String, String> {
        let uri: Uri = url.parse().map_err(|_| "not a valid URL".to_owned())?;
        let https = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("https") => true,
            Some("http") if self.settings.allow_http => false,
            Some("http") => return Err("plain http URLs are not fetched: use https".to_owned()),
            _ => return Err("only https URLs are fetched".to_owned()),
        };
        let authority = uri.authority().ok_or("the URL has no host")?;
        if authority.as_str().contains('@') {
            return Err("URLs with user info are not fetched".to_owned());
        }
        let host = authority.host().to_owned();
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let addrs = self.resolve(&host, port).await?;
        let limit = match kind {
            Kind::Image => MAX_IMAGE_BYTES,
            Kind::Document => MAX_DOCUMENT_BYTES,
        };
        let mut http = HttpConnector::new_with_resolver(Checked(Arc::new(addrs)));
        http.enforce_http(false);
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(self.tls.clone())
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        // One fetch, one connection: nothing kept in a pool after it.
        let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        let request = Request::get(uri)
            .header(header::USER_AGENT, "bedrock-gateway")
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let response = client
            .request(request)
            .await
            .map_err(|e| format!("the request failed: {}", error_chain(&e)))?;
        let status = response.status();
        if status.is_redirection() {
            let to = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("nowhere");
            return Err(format!(
                "the server answered {status}, redirecting to {to}: redirects are not followed"
            ));
        }
        if !status.is_success() {
            return Err(format!("the server answered {status}"));
        }
        let too_large = || {
            let what = match kind {
                Kind::Image => "image",
                Kind::Document => "document",
            };
            format!("larger than Bedrock's limit of {limit} bytes per {what}")
        };
        let declared_len = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared_len.is_some_and(|len| len > limit as u64) {
            return Err(too_large());
        }
        let declared = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let bytes = Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    format!("the answer broke off: {e}")
                }
            })?
            .to_bytes();
        if bytes.is_empty() {
            return Err("the answer is empty".to_owned());
        }
        let media_type = media_type(kind, &declared, &bytes)?;
        let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
        Ok(format!("data:{media_type};base64,{data}"))
    }

    /// The host's addresses, resolved once, every one checked; an IP literal is checked as is.
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match literal.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("cannot resolve {host}: {e}"))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(format!("{host} resolves to no address"));
        }
        for addr in &addrs {
            if let Some(range) = refusal(addr.ip(), &self.settings.allow) {
                return Err(format!(
                    "refused address: {host} is {}, in the {range} range (nothing was sent)",
                    addr.ip()
                ));
            }
        }
        Ok(addrs)
    }
}

/// The error and its sources, `: `-separated.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}

/// The media type of fetched `bytes`, checked against their magic numbers and `declared`.
fn media_type(kind: Kind, declared: &str, bytes: &[u8]) -> Result<String, String> {
    let sniffed = sniff(bytes);
    match kind {
        Kind::Image => {
            let Some(found) = sniffed.filter(|t| t.starts_with("image/")) else {
                return Err("not a png, jpeg, gif or webp image (by its first bytes)".to_owned());
            };
            let agrees = declared.is_empty()
                || declared == "application/octet-stream"
                || declared == found
                || (declared == "image/jpg" && found == "image/jpeg");
            if !agrees {
                return Err(format!(
                    "the server says {declared} but the bytes are {found}"
                ));
            }
            Ok(found.to_owned())
        }
        Kind::Document => match (sniffed, declared) {
            (Some("application/pdf"), "" | "application/pdf" | "application/octet-stream") => {
                Ok("application/pdf".to_owned())
            }
            (Some(found), _) if found.starts_with("image/") => Err(format!(
                "the bytes are {found}, an image: send it as an image_url part"
            )),
            (Some(found), declared) => Err(format!(
                "the server says {} but the bytes are {found}",
                if declared.is_empty() {
                    "nothing"
                } else {
                    declared
                }
            )),
            (None, "application/pdf") => {
                Err("the server says application/pdf but the bytes are not a PDF".to_owned())
            }
            (None, "") => Err("the server gave no Content-Type for the document".to_owned()),
            (None, declared) => Ok(declared.to_owned()),
        },
    }
}

/// The media type of `bytes` by their magic numbers.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// The remote URLs of a chat request: JSON pointer, kind, and the parameter to name.
fn remote_targets(json: &Value) -> Vec<(String, Kind, String)> {
    let mut targets = Vec::new();
    let Some(messages) = json.get("messages").and_then(Value::as_array) else {
        return targets;
    };
    for (i, message) in messages.iter().enumerate() {
        let Some(parts) = message.get("content").and_then(Value::as_array) else {
            continue;
        };
        for (j, part) in parts.iter().enumerate() {
            let (pointer, kind, param) = match part.get("type").and_then(Value::as_str) {
                Some("image_url") => (
                    format!("/messages/{i}/content/{j}/image_url/url"),
                    Kind::Image,
                    format!("messages[{i}].content[{j}].image_url.url"),
                ),
                Some("file") => (
                    format!("/messages/{i}/content/{j}/file/file_data"),
                    Kind::Document,
                    format!("messages[{i}].content[{j}].file.file_data"),
                ),
                _ => continue,
            };
            if json
                .pointer(&pointer)
                .and_then(Value::as_str)
                .is_some_and(is_remote)
            {
                targets.push((pointer, kind, param));
            }
        }
    }
    targets
}

/// A resolver that answers every name with the addresses already resolved and checked, so the
/// connection goes to a checked address and the host is resolved once.
#[derive(Debug, Clone)]
struct Checked(Arc<Vec<SocketAddr>>);

impl Service<Name> for Checked {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, std::io::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), std::io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Name) -> Self::Future {
        std::future::ready(Ok(self.0.as_ref().clone().into_iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn every_refused_range_is_refused() {
        let refused = [
            ("0.0.0.0", "this network"),
            ("0.255.1.2", "this network"),
            ("10.0.0.1", "private (10."),
            ("10.255.255.255", "private (10."),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.254", "carrier-grade NAT"),
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.0.1", "link-local"),
            ("172.16.0.1", "private (172.16"),
            ("172.31.255.255", "private (172.16"),
            ("192.0.0.8", "IETF"),
            ("192.168.1.1", "private (192.168"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback (::1)"),
            ("::ffff:127.0.0.1", "loopback (127"),
            ("::ffff:169.254.169.254", "cloud metadata"),
            ("::ffff:10.1.2.3", "private (10."),
            ("::127.0.0.1", "IPv4-compatible"),
            ("64:ff9b::a9fe:a9fe", "NAT64"),
            ("64:ff9b:1::1", "local NAT64"),
            ("2001:0:4136:e378::1", "Teredo"),
            ("2002:a9fe:a9fe::1", "6to4"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fd00:ec2::254", "cloud metadata (fd00:ec2::254)"),
            ("fe80::1", "link-local (fe80"),
            ("febf::1", "link-local (fe80"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast (ff00"),
        ];
        for (addr, name) in refused {
            let why = refusal(ip(addr), &[]).unwrap_or_else(|| panic!("{addr} let through"));
            assert!(why.contains(name), "{addr}: {why}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "192.0.1.1",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(refusal(ip(addr), &[]), None, "{addr}");
        }
    }

    #[test]
    fn the_allow_list_lets_through_only_what_it_holds() {
        let allow = [Cidr::parse("127.0.0.1/32").unwrap()];
        assert_eq!(refusal(ip("127.0.0.1"), &allow), None);
        assert_eq!(refusal(ip("::ffff:127.0.0.1"), &allow), None);
        assert!(refusal(ip("127.0.0.2"), &allow).is_some());
        assert!(refusal(ip("::1"), &allow).is_some());
        assert!(refusal(ip("169.254.169.254"), &allow).is_some());
        let allow = [
            Cidr::parse("10.0.0.0/8").unwrap(),
            Cidr::parse("fd00::/8").unwrap(),
        ];
        assert_eq!(refusal(ip("10.9.8.7"), &allow), None);
        assert_eq!(refusal(ip("fd00:ec2::254"), &allow), None);
        assert!(refusal(ip("fc00::1"), &allow).is_some());
        assert_eq!(Cidr::parse("::1").unwrap().prefix, 128);
        let everything = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(everything.contains(ip("8.8.8.8")));
        assert!(!everything.contains(ip("::1")));
        for bad in [
            "localhost",
            "10.0.0.0/33",
            "::/129",
            "1.2.3/8",
            "10.0.0.0/x",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_bytes_decide_the_type() {
        let png = b"\x89PNG\r\n\x1a\nrest";
        assert_eq!(media_type(Kind::Image, "", png).unwrap(), "image/png");
        assert_eq!(
            media_type(Kind::Image, "image/png", png).unwrap(),
            "image/png"
        );
        assert!(
            media_type(Kind::Image, "image/jpeg", png)
                .unwrap_err()
                .contains("bytes are image/png")
        );
        assert!(media_type(Kind::Image, "image/png", b"<html>").is_err());
        assert_eq!(
            media_type(Kind::Image, "", b"RIFF\0\0\0\0WEBPVP8 ").unwrap(),
            "image/webp"
        );
        assert_eq!(
            media_type(Kind::Image, "image/jpg", &[0xff, 0xd8, 0xff, 0xe0]).unwrap(),
            "image/jpeg"
        );
        assert_eq!(
            media_type(Kind::Document, "", b"%PDF-1.4").unwrap(),
            "application/pdf"
        );
        assert!(media_type(Kind::Document, "application/pdf", b"a,b").is_err());
        assert!(media_type(Kind::Document, "text/csv", b"%PDF-1.4").is_err());
        assert_eq!(
            media_type(Kind::Document, "text/csv", b"a,b").unwrap(),
            "text/csv"
        );
        assert!(media_type(Kind::Document, "", b"a,b").is_err());
    }

    #[test]
    fn only_remote_urls_of_chat_parts_are_targets() {
        let json = serde_json::json!({"messages": [
            {"role": "system", "content": "see https://example.com"},
            {"role": "user", "content": [
                {"type": "text", "text": "https://example.com/a.png"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                {"type": "file", "file": {"file_data": "HTTP://example.com/a.pdf"}},
            ]},
        ]});
        let params: Vec<String> = remote_targets(&json).into_iter().map(|t| t.2).collect();
        assert_eq!(
            params,
            [
                "messages[1].content[1].image_url.url",
                "messages[1].content[3].file.file_data"
            ]
        );
    }

    #[tokio::test]
    async fn refused_hosts_are_refused_before_connecting() {
        let fetcher = Fetcher::new(FetchSettings::default()).unwrap();
        for (url, needle) in [
            ("https://10.0.0.1/a.png", "private (10."),
            ("https://[::1]:9/a.png", "loopback (::1)"),
            ("https://169.254.169.254/latest", "cloud metadata"),
            ("https://[fd00:ec2::254]/", "cloud metadata"),
            ("https://[::ffff:127.0.0.1]:9/", "loopback (127"),
            ("https://localhost:9/a.png", "refused address: localhost"),
            ("http://8.8.8.8/a.png", "plain http"),
            ("https://user@8.8.8.8/a.png", "user info"),
            ("ftp://8.8.8.8/a.png", "only https"),
        ] {
            let err = fetcher.fetch(url, Kind::Image).await.unwrap_err();
            assert!(err.contains(needle), "{url}: {err}");
        }
    }
}
