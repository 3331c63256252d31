//! `bare-proxy`: the physical floor of any Rust HTTP gateway on this machine, for `xtask-bench`.
//!
//! A hyper 1 server (hyper-util's `auto` builder, as the gateway's) that sends every request,
//! untouched, to one upstream through hyper-util's pooled client (keep-alive, `TCP_NODELAY`, as
//! the gateway's), and returns the answer untouched: method, path, query, headers and body go
//! through as they are, bodies streamed both ways; nothing is parsed, signed or logged. Two TCP
//! legs and hyper on each side, nothing else.
//!
//! Usage: `bare-proxy --upstream http://HOST:PORT [--listen ADDR] [--worker-threads N]`. Prints
//! `bare-proxy listening on http://ADDR` on its first stdout line. Without `--worker-threads`
//! it takes `BEDROCK_GATEWAY_WORKER_THREADS` as the gateway does (0 or unset: one per core).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use http::uri::{Authority, Scheme, Uri};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

/// The pooled client, request bodies streamed as they arrive.
type Upstream = Client<HttpConnector, Incoming>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Command-line options.
#[derive(Debug)]
struct Options {
    listen: SocketAddr,
    upstream: Authority,
    worker_threads: usize,
}

fn options() -> Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut listen: SocketAddr = "127.0.0.1:0".parse()?;
    let mut upstream = None;
    let mut worker_threads = std::env::var("BEDROCK_GATEWAY_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => listen = value()?.parse().context("--listen takes HOST:PORT")?,
            "--upstream" => {
                let url: Uri = value()?.parse().context("--upstream takes a URL")?;
                if url.scheme_str() != Some("http") {
                    bail!("--upstream takes an http:// URL");
                }
                upstream = url.authority().cloned();
            }
            "--worker-threads" => worker_threads = value()?.parse().context("a thread count")?,
            other => bail!("unknown option {other}"),
        }
    }
    Ok(Options {
        listen,
        upstream: upstream.context("give --upstream http://HOST:PORT")?,
        worker_threads,
    })
}

fn main() -> Result<()> {
    let options = options()?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if options.worker_threads > 0 {
        runtime.worker_threads(options.worker_threads);
    }
    runtime.enable_all().build()?.block_on(serve(options))
}

async fn serve(options: Options) -> Result<()> {
    let listener = TcpListener::bind(options.listen).await?;
    println!("bare-proxy listening on http://{}", listener.local_addr()?);
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Upstream = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector);
    let server = auto::Builder::new(TokioExecutor::new());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, most likely: let connections end.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (client, server, upstream) = (client.clone(), server.clone(), options.upstream.clone());
        tokio::spawn(async move {
            let service =
                service_fn(move |request| forward(client.clone(), upstream.clone(), request));
            let _ = server.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Sends `request` to `upstream` as it is (only the URI gains the upstream's scheme and
/// authority, as the client needs) and returns the answer as it is.
async fn forward(
    client: Upstream,
    upstream: Authority,
    mut request: Request<Incoming>,
) -> Result<Response<Incoming>, BoxError> {
    let mut uri = std::mem::take(request.uri_mut()).into_parts();
    uri.scheme = Some(Scheme::HTTP);
    uri.authority = Some(upstream);
    *request.uri_mut() = Uri::from_parts(uri)?;
    Ok(client.request(request).await?)
}
