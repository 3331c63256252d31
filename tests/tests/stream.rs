//! End to end, streaming: ConverseStream event-stream frames in, OpenAI server-sent events out.

use std::time::{Duration, Instant};

use bytes::Bytes;
use e2e_tests::{Gateway, Mock, client, credential_headers, rss_kib, send, sse_data};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

fn stream_request(text: &str) -> Value {
    json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": text}]
    })
}

async fn post_stream(
    gateway: &Gateway,
    body: &Value,
) -> (StatusCode, http::HeaderMap, Vec<String>) {
    let url = format!("{}/v1/chat/completions", gateway.url());
    let (status, headers, bytes) = send(
        Method::POST,
        &url,
        &credential_headers(),
        Some(body.to_string()),
    )
    .await;
    let events = if status == StatusCode::OK {
        sse_data(&bytes)
    } else {
        vec![String::from_utf8_lossy(&bytes).into_owned()]
    };
    (status, headers, events)
}

fn chunks(events: &[String]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| *e != "[DONE]")
        .map(|e| serde_json::from_str(e).unwrap())
        .collect()
}

#[tokio::test]
async fn streams_text_with_usage() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, headers, events) =
        post_stream(&gateway, &stream_request("one two three four")).await;
    assert_eq!(status, StatusCode::OK, "{events:?}");
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks = chunks(&events);
    let first = &chunks[0];
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
    for chunk in &chunks {
        assert_eq!(chunk["id"], first["id"]);
        assert_eq!(chunk["created"], first["created"]);
        assert_eq!(chunk["model"], "anthropic.claude-3-haiku-20240307-v1:0");
        assert_eq!(chunk["object"], "chat.completion.chunk");
    }
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(text.contains("one two three four"), "{text:?}");
    let finish: Vec<&Value> = chunks
        .iter()
        .filter(|c| !c["choices"][0]["finish_reason"].is_null())
        .collect();
    assert_eq!(finish.len(), 1);
    assert_eq!(finish[0]["choices"][0]["finish_reason"], "stop");
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["usage"].is_null())
    );
    let requests = mock.requests().await;
    assert_eq!(
        requests[0]["path"],
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
    );
}

#[tokio::test]
async fn streams_tool_calls_interleaved_with_text() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let mut body = stream_request("Weather in Paris?");
    body["tools"] = json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}}]);
    let (status, _, events) = post_stream(&gateway, &body).await;
    assert_eq!(status, StatusCode::OK, "{events:?}");
    let chunks = chunks(&events);
    let mut id = None;
    let mut name = None;
    let mut arguments = String::new();
    let mut text = String::new();
    for chunk in &chunks {
        let delta = &chunk["choices"][0]["delta"];
        if let Some(t) = delta["content"].as_str() {
            text.push_str(t);
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            assert_eq!(call["index"], 0);
            if let Some(i) = call["id"].as_str() {
                id = Some(i.to_owned());
                name = call["function"]["name"].as_str().map(str::to_owned);
                assert_eq!(call["type"], "function");
            }
            arguments.push_str(call["function"]["arguments"].as_str().unwrap());
        }
    }
    assert!(id.is_some());
    assert_eq!(name.as_deref(), Some("get_weather"));
    let arguments: Value =
        serde_json::from_str(&arguments).expect("argument fragments join into JSON");
    assert!(
        arguments.is_object() && arguments.get("city").is_some(),
        "{arguments}"
    );
    assert!(!text.is_empty(), "the mock speaks before calling the tool");
    let finish = chunks
        .iter()
        .find_map(|c| c["choices"][0]["finish_reason"].as_str());
    assert_eq!(finish, Some("tool_calls"));
}

#[tokio::test]
async fn exception_mid_stream_becomes_an_error_event_without_done() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    mock.fault(json!({"stream_exception": "modelStreamErrorException", "after_events": 3}))
        .await;
    let (status, _, events) = post_stream(&gateway, &stream_request("a b c d e f g h")).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(events.last().unwrap(), "[DONE]", "{events:?}");
    assert!(!events.contains(&"[DONE]".to_owned()));
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["error"]["type"], "server_error", "{last}");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ModelStreamErrorException")
    );

    mock.fault(json!({"stream_exception": "throttlingException", "after_events": 2}))
        .await;
    let (_, _, events) = post_stream(&gateway, &stream_request("a b c d e f g h")).await;
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "rate_limit_exceeded", "{last}");
}

#[tokio::test]
async fn errors_before_the_first_byte_are_http_errors() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &["--max-attempts", "1"]);
    mock.fault(
        json!({"error": "ThrottlingException", "status": 429, "message": "slow down", "count": 1}),
    )
    .await;
    let (status, headers, events) = post_stream(&gateway, &stream_request("hi")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{events:?}");
    assert_eq!(headers["content-type"], "application/json");
    // An exception as the very first frame is also answered as a plain HTTP error.
    mock.fault(json!({"stream_exception": "validationException", "after_events": 0}))
        .await;
    let (status, _, events) = post_stream(&gateway, &stream_request("hi")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{events:?}");
}

#[tokio::test]
async fn a_cut_connection_ends_the_stream_with_an_error() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    mock.fault(json!({"stream_cut_after_events": 3})).await;
    let (status, _, events) = post_stream(&gateway, &stream_request("a b c d e f g h")).await;
    assert_eq!(status, StatusCode::OK);
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["error"]["type"], "server_error", "{events:?}");
}

#[tokio::test]
async fn first_chunk_arrives_before_upstream_finishes() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    mock.fault(json!({"stream_event_delay_ms": 150})).await;
    let started = Instant::now();
    let request = Request::post(format!("{}/v1/chat/completions", gateway.url()))
        .header("x-aws-access-key-id", e2e_tests::ACCESS_KEY)
        .header("x-aws-secret-access-key", e2e_tests::SECRET_KEY)
        .body(Full::new(Bytes::from(
            stream_request("one two three four five six").to_string(),
        )))
        .unwrap();
    let response = client().request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut first_content = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.unwrap();
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let text = std::str::from_utf8(&data).unwrap();
        if first_content.is_none() && text.contains("\"content\":\"one") {
            first_content = Some(started.elapsed());
        }
    }
    let total = started.elapsed();
    let first = first_content.expect("a content chunk arrived");
    // Six or more paced events: the first one must come well before the end.
    assert!(total >= Duration::from_millis(600), "{total:?}");
    assert!(
        first + Duration::from_millis(400) < total,
        "first {first:?}, total {total:?}"
    );
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_the_upstream_stream() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    mock.fault(json!({"stream_event_delay_ms": 100})).await;
    let request = Request::post(format!("{}/v1/chat/completions", gateway.url()))
        .header("x-aws-access-key-id", e2e_tests::ACCESS_KEY)
        .header("x-aws-secret-access-key", e2e_tests::SECRET_KEY)
        .body(Full::new(Bytes::from(
            stream_request(&"word ".repeat(100)).to_string(),
        )))
        .unwrap();
    let response = client().request(request).await.unwrap();
    let mut body = response.into_body();
    body.frame().await.unwrap().unwrap();
    drop(body);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stats = mock.stats().await;
        if stats["streams_cancelled"].as_u64() == Some(1) {
            assert_eq!(stats["streams_completed"], 0);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the mock never saw the stream cancelled: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_streams() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let gateway = std::sync::Arc::new(gateway);
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let gateway = std::sync::Arc::clone(&gateway);
            tokio::spawn(async move {
                let (status, _, events) =
                    post_stream(&gateway, &stream_request(&format!("stream number {i}"))).await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(events.last().unwrap(), "[DONE]");
                let text: String = chunks(&events)
                    .iter()
                    .filter_map(|c| {
                        c["choices"][0]["delta"]["content"]
                            .as_str()
                            .map(str::to_owned)
                    })
                    .collect();
                assert!(text.contains(&format!("number {i}")), "{text}");
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(mock.stats().await["streams_completed"], 100);
}

#[tokio::test]
async fn a_slow_client_slows_the_upstream_instead_of_growing_memory() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    // About 50 MB of event-stream frames (and more of SSE): more than every socket buffer on
    // the way can hold, so the mock can only finish if the gateway reads ahead of its client.
    mock.fault(json!({"stream_events": 300_000})).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = gateway.url().trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let body = stream_request("go").to_string();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\nx-aws-access-key-id: {}\r\nx-aws-secret-access-key: {}\r\ncontent-length: {}\r\n\r\n",
        e2e_tests::ACCESS_KEY,
        e2e_tests::SECRET_KEY,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut first = vec![0u8; 2048];
    let n = stream.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    // The client stops reading.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stats = mock.stats().await;
    assert_eq!(
        stats["streams_completed"], 0,
        "the upstream ran ahead of the client: {stats}"
    );
    assert_eq!(stats["streams_started"], 1);
    let rss = rss_kib(gateway.process.id());
    assert!(
        rss < 100 * 1024,
        "the gateway buffered the stream: {rss} KiB resident"
    );
    // The client goes away: the stalled upstream stream is cancelled, not finished.
    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(10);
    while mock.stats().await["streams_cancelled"] != 1 {
        assert!(Instant::now() < deadline, "{}", mock.stats().await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mock.stats().await["streams_completed"], 0);
}
