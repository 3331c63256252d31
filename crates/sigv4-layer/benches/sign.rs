//! Signing a typical Bedrock Converse request, three ways:
//!
//! - `aws-sigv4`: the signer this crate used before it had its own, `aws_sigv4::http_request::sign`
//!   behind the old wrapper (`tests/support/aws_oracle.rs`), as the reference;
//! - `ours-no-cache`: [`sign_request`] deriving the signing key for every request;
//! - `ours-warm-cache`: [`sign_request`] with a [`SigningKeyCache`] that already holds the key,
//!   which is how the [`SigV4`](sigv4_layer::SigV4) service signs.
//!
//! The request: `POST https://bedrock-runtime.us-east-1.amazonaws.com/model/
//! anthropic.claude-3-haiku-20240307-v1%3A0/converse` with `content-type`, `accept` and `host`
//! headers, session-token credentials, and a JSON body of 1 KiB, then 64 KiB. The same request
//! is signed again and again: signing replaces the previous signature headers.
//!
//! Run with `cargo bench -p sigv4-layer --bench sign`.

// `criterion_group!` makes an undocumented `pub fn`.
#![allow(missing_docs)]

#[path = "../tests/support/aws_oracle.rs"]
mod aws_oracle;

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::Request;
use sigv4_layer::{SigningKeyCache, SigningParams, sign_request};

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

fn request(body_len: usize) -> Request<Vec<u8>> {
    Request::post(URI)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("host", "bedrock-runtime.us-east-1.amazonaws.com")
        .body(body(body_len))
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
    let cache = SigningKeyCache::new();
    let cached = params.clone().with_key_cache(&cache);

    // All three sign the same bytes the same way.
    let mut reference = request(1024);
    let mut ours = reference.clone();
    aws_oracle::sign_request(&mut reference, &params).expect("aws-sigv4 signs");
    sign_request(&mut ours, &cached).expect("we sign");
    assert_eq!(reference.headers(), ours.headers());
    assert_eq!(cache.len(), 1, "the cache is warm");

    for (label, len) in [("1KiB", 1024), ("64KiB", 64 * 1024)] {
        let mut group = c.benchmark_group(format!("sign/{label}"));
        group.throughput(Throughput::Bytes(len as u64));
        let mut req = request(len);
        group.bench_function("aws-sigv4", |b| {
            b.iter(|| aws_oracle::sign_request(black_box(&mut req), black_box(&params)))
        });
        group.bench_function("ours-no-cache", |b| {
            b.iter(|| sign_request(black_box(&mut req), black_box(&params)))
        });
        group.bench_function("ours-warm-cache", |b| {
            b.iter(|| sign_request(black_box(&mut req), black_box(&cached)))
        });
        group.finish();
    }
}

criterion_group!(benches, sign);
criterion_main!(benches);
