//! Signing a typical Bedrock Converse request with aws-sigv4, two ways:
//!
//! - `sign_request`: the plain function, [`sign_request`], on a request whose body is in memory;
//! - `layer`: the whole [`SigV4`](sigv4_layer::SigV4) service as the gateway uses it, in front of
//!   an inner service that does nothing: resolving credentials and region from the layer, body
//!   collection, signing, and the boxed response future, driven by a current-thread tokio
//!   runtime.
//!
//! The request: `POST https://bedrock-runtime.us-east-1.amazonaws.com/model/
//! anthropic.claude-3-haiku-20240307-v1%3A0/converse` with `content-type`, `accept` and `host`
//! headers, session-token credentials, and a JSON body of 1 KiB, then 64 KiB. For
//! `sign_request` the same request is signed again and again: signing replaces the previous
//! signature headers.
//!
//! Run with `cargo bench -p sigv4-layer --bench sign`.

// `criterion_group!` makes an undocumented `pub fn`.
#![allow(missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::Request;
use http_body_util::Full;
use sigv4_layer::{Credentials, SigV4Layer, SigningParams, SigningTime, sign_request};
use tower::{Layer, ServiceExt, service_fn};

const URI: &str = "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";

/// A Converse request body of exactly `len` bytes.
fn body(len: usize) -> Vec<u8> {
    let head = r#"{"messages":[{"role":"user","content":[{"text":""#;
    let tail = r#""}]}],"inferenceConfig":{"maxTokens":512,"temperature":0.5}}"#;
    let filler = len - head.len() - tail.len();
    let text: String = "Summarise the following text in one sentence. "
        .chars()
        .cycle()
        .take(filler)
        .collect();
    let body = format!("{head}{text}{tail}").into_bytes();
    assert_eq!(body.len(), len);
    body
}

fn request<B>(body: B) -> Request<B> {
    Request::post(URI)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("host", "bedrock-runtime.us-east-1.amazonaws.com")
        .body(body)
        .expect("a valid request")
}

fn sign(c: &mut Criterion) {
    let credentials = Credentials::new(
        "ASIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampletokenexampletokenexampletokenexampletoken==".into()),
        None,
        "bench",
    );
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_566_896);
    let params = SigningParams::new(&credentials, "us-east-1", "bedrock", time);

    let layer = SigV4Layer::builder()
        .service_name("bedrock")
        .region("us-east-1")
        .credentials(credentials.clone())
        .build()
        .expect("a valid layer");
    let svc = layer.layer(service_fn(|req: Request<Full<Bytes>>| async move {
        Ok::<_, Infallible>(req)
    }));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let through_layer = |body: &Bytes| {
        let mut req = request(Full::new(body.clone()));
        req.extensions_mut().insert(SigningTime(time));
        runtime.block_on(svc.clone().oneshot(req))
    };

    // Both sign the same bytes the same way.
    let mut signed = request(body(1024));
    sign_request(&mut signed, &params).expect("signs");
    let seen = through_layer(&Bytes::from(body(1024))).expect("signs");
    assert_eq!(signed.headers(), seen.headers());

    for (label, len) in [("1KiB", 1024), ("64KiB", 64 * 1024)] {
        let mut group = c.benchmark_group(format!("sign/{label}"));
        group.throughput(Throughput::Bytes(len as u64));
        let mut req = request(body(len));
        group.bench_function("sign_request", |b| {
            b.iter(|| sign_request(black_box(&mut req), black_box(&params)))
        });
        let bytes = Bytes::from(body(len));
        group.bench_function("layer", |b| b.iter(|| through_layer(black_box(&bytes))));
        group.finish();
    }
}

criterion_group!(benches, sign);
criterion_main!(benches);
