//! Where the gateway's own time goes, per request and per stream event: request translation
//! (OpenAI JSON in, Converse JSON out), response translation (Converse JSON in, OpenAI JSON
//! out), event-stream decoding, and the whole streaming body (decode, translate, SSE encode).
//!
//! `cargo bench -p bedrock-translate --bench translate`; figures in `docs/benchmarks.md`.
#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use std::collections::VecDeque;
use std::convert::Infallible;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bedrock_translate::body::OpenAiBody;
use bedrock_translate::converse::ConverseResponse;
use bedrock_translate::eventstream::EventStreamDecoder;
use bedrock_translate::model_id::ModelId;
use bedrock_translate::request::chat_to_converse;
use bedrock_translate::response::{ResponseContext, converse_to_chat};
use bedrock_translate::stream::StreamOptions;
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body::{Body, Frame};
use openai_types::chat::ChatCompletionRequest;
use serde_json::json;

const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// A chat request with a system prompt and a user message of `bytes` bytes.
fn chat_request(bytes: usize) -> Vec<u8> {
    let text = "the gateway translates every request ".repeat(bytes / 37 + 1);
    serde_json::to_vec(&json!({
        "model": MODEL,
        "max_tokens": 256,
        "temperature": 0.7,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": &text[..bytes]},
        ],
    }))
    .unwrap()
}

/// The golden fixture with tools, tool calls and tool results.
fn tools_request() -> Vec<u8> {
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../tests/golden/request/tools_round_trip.json"
    ))
    .unwrap();
    serde_json::to_vec(&fixture["openai"]).unwrap()
}

/// What the gateway does to a request body: parse, translate, serialise.
fn translate_request(body: &[u8], model: &ModelId) -> Vec<u8> {
    let request: ChatCompletionRequest = serde_json::from_slice(body).unwrap();
    serde_json::to_vec(&chat_to_converse(request, model).unwrap()).unwrap()
}

fn requests(c: &mut Criterion) {
    let model = ModelId::parse(MODEL).unwrap();
    let mut group = c.benchmark_group("request");
    for (name, body) in [
        ("chat 1 KiB", chat_request(1024)),
        ("chat 64 KiB", chat_request(64 * 1024)),
        ("tools round trip", tools_request()),
    ] {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| translate_request(black_box(&body), &model))
        });
    }
    group.finish();
}

fn responses(c: &mut Criterion) {
    let text = "Bedrock answers in words ".repeat(40);
    let body = serde_json::to_vec(&json!({
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 250, "outputTokens": 200, "totalTokens": 450},
        "metrics": {"latencyMs": 321},
    }))
    .unwrap();
    let ctx = ResponseContext::new(MODEL);
    let mut group = c.benchmark_group("response");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("converse 1 KiB", |b| {
        b.iter(|| {
            let response: ConverseResponse = serde_json::from_slice(black_box(&body)).unwrap();
            serde_json::to_vec(&converse_to_chat(response, &ctx)).unwrap()
        })
    });
    group.finish();
}

fn frame(event_type: &str, payload: serde_json::Value) -> Bytes {
    let message = Message::new(serde_json::to_vec(&payload).unwrap())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ))
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut out = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut out).unwrap();
    Bytes::from(out)
}

/// A ConverseStream answer of `deltas` text deltas, one frame each, as Bedrock sends them.
fn stream_frames(deltas: usize) -> Vec<Bytes> {
    let mut frames = vec![frame("messageStart", json!({"role": "assistant"}))];
    for i in 0..deltas {
        frames.push(frame(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": format!("word{i} ")}, "p": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"}),
        ));
    }
    frames.push(frame("contentBlockStop", json!({"contentBlockIndex": 0})));
    frames.push(frame("messageStop", json!({"stopReason": "end_turn"})));
    frames.push(frame(
        "metadata",
        json!({"usage": {"inputTokens": 10, "outputTokens": deltas, "totalTokens": deltas + 10}, "metrics": {"latencyMs": 100}}),
    ));
    frames
}

/// An upstream body that yields the given frames, each at once.
struct Frames(VecDeque<Bytes>);

impl Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().0.pop_front().map(|b| Ok(Frame::data(b))))
    }
}

/// Drains a streaming body that never waits, returning the SSE bytes produced.
fn drain(mut body: OpenAiBody<Frames>) -> usize {
    let mut cx = Context::from_waker(Waker::noop());
    let mut bytes = 0;
    while let Poll::Ready(Some(frame)) = Pin::new(&mut body).poll_frame(&mut cx) {
        bytes += frame.unwrap().into_data().map_or(0, |d| d.len());
    }
    bytes
}

fn streams(c: &mut Criterion) {
    let frames = stream_frames(64);
    let events = frames.len() as u64;
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Elements(events));
    group.bench_function("decode 64-event stream", |b| {
        b.iter(|| {
            let mut decoder = EventStreamDecoder::new();
            let mut n = 0;
            for frame in &frames {
                decoder.push(frame);
                while decoder.next_event().unwrap().is_some() {
                    n += 1;
                }
            }
            n
        })
    });
    group.bench_function("decode, translate, SSE 64-event stream", |b| {
        b.iter(|| {
            let upstream = Frames(frames.iter().cloned().collect());
            let options = StreamOptions {
                include_usage: true,
            };
            drain(OpenAiBody::events(
                upstream,
                ResponseContext::new(MODEL),
                options,
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, requests, responses, streams);
criterion_main!(benches);
