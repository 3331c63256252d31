//! Stored responses across real processes: gateways sharing one `redis-server`, and Redis
//! going away and coming back under a running gateway.

use std::time::{Duration, Instant};

use bytes::Bytes;
use e2e_tests::{
    ACCESS_KEY, Gateway, Mock, Redis, SECRET_KEY, SESSION_ACCESS_KEY, SESSION_SECRET_KEY,
    SESSION_TOKEN, credential_headers, send,
};
use http::{Method, StatusCode};
use response_store::{RedisStore, RedisUrl, ResponseId, ResponseStore, Tenant};
use serde_json::{Value, json};

fn with_redis(mock: &Mock, redis: &Redis, extra: &[&str]) -> Gateway {
    let url = redis.url();
    let mut args = vec!["--response-store", url.as_str()];
    args.extend_from_slice(extra);
    Gateway::start(mock, &[], &args)
}

async fn call(
    gateway: &Gateway,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}{path}", gateway.url());
    let (status, _, bytes) = send(method, &url, headers, body.map(|b| b.to_string())).await;
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, json)
}

async fn get(gateway: &Gateway, path: &str) -> (StatusCode, Value) {
    call(gateway, Method::GET, path, &credential_headers(), None).await
}

async fn post(gateway: &Gateway, body: Value) -> (StatusCode, Value) {
    call(
        gateway,
        Method::POST,
        "/v1/responses",
        &credential_headers(),
        Some(body),
    )
    .await
}

/// Another caller: the mock's temporary key pair.
fn someone_else() -> Vec<(&'static str, &'static str)> {
    vec![
        ("x-aws-access-key-id", SESSION_ACCESS_KEY),
        ("x-aws-secret-access-key", SESSION_SECRET_KEY),
        ("x-aws-session-token", SESSION_TOKEN),
    ]
}

fn not_found(id: &str) -> Value {
    json!({"error": {
        "message": format!("Response with id '{id}' not found."),
        "type": "invalid_request_error",
        "param": null,
        "code": null,
    }})
}

/// Two gateways, one Redis: a record kept by a replica (written here through the store crate,
/// as gateway A's translator would) is read, listed and deleted through either gateway, by its
/// owner only.
#[tokio::test]
async fn two_gateways_share_stored_responses_through_redis() {
    let redis = Redis::start();
    let mock = Mock::start();
    let (a, b) = (
        with_redis(&mock, &redis, &[]),
        with_redis(&mock, &redis, &[]),
    );
    let store = RedisStore::new(
        RedisUrl::parse(&redis.url()).unwrap(),
        Duration::from_secs(60),
    )
    .unwrap();
    let owner = Tenant::from_aws_keys(ACCESS_KEY, SECRET_KEY);
    let response = json!({"id": "resp_shared", "object": "response", "status": "completed"});
    let record = json!({
        "response": response,
        "input_items": [{"id": "msg_1", "type": "message", "role": "user", "content": []}],
        "context": [],
    });
    store
        .put(
            &owner,
            &ResponseId::parse("resp_shared").unwrap(),
            Bytes::from(record.to_string()),
        )
        .await
        .unwrap();
    for gateway in [&a, &b] {
        assert_eq!(
            get(gateway, "/v1/responses/resp_shared").await,
            (StatusCode::OK, response.clone())
        );
    }
    let (status, items) = get(&b, "/v1/responses/resp_shared/input_items").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(items["data"][0]["id"], "msg_1");
    assert_eq!(items["has_more"], false);
    let (status, error) = call(
        &a,
        Method::GET,
        "/v1/responses/resp_shared",
        &someone_else(),
        None,
    )
    .await;
    assert_eq!(
        (status, error),
        (StatusCode::NOT_FOUND, not_found("resp_shared"))
    );
    let owner_headers = credential_headers();
    let delete = |g| {
        call(
            g,
            Method::DELETE,
            "/v1/responses/resp_shared",
            &owner_headers,
            None,
        )
    };
    assert_eq!(
        delete(&b).await,
        (
            StatusCode::OK,
            json!({"id": "resp_shared", "object": "response", "deleted": true})
        )
    );
    assert_eq!(
        get(&a, "/v1/responses/resp_shared").await,
        (StatusCode::NOT_FOUND, not_found("resp_shared"))
    );
    assert_eq!(delete(&a).await.0, StatusCode::NOT_FOUND);
}

/// A response created through gateway A (`store` defaults to true) is read through gateway B,
/// continued through B, and gone after the time to live.
#[tokio::test]
async fn a_response_created_through_one_gateway_is_read_and_continued_through_another() {
    let redis = Redis::start();
    let mock = Mock::start();
    let ttl = ["--response-store-ttl-secs", "2"];
    let (a, b) = (
        with_redis(&mock, &redis, &ttl),
        with_redis(&mock, &redis, &ttl),
    );
    let (status, created) = post(&a, json!({"input": "Hello there"})).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    let (status, read) = get(&b, &format!("/v1/responses/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read, created, "the stored response is the one answered");
    let (status, items) = get(&b, &format!("/v1/responses/{id}/input_items")).await;
    assert_eq!(status, StatusCode::OK, "{items}");
    assert_eq!(items["data"].as_array().map(Vec::len), Some(1));
    let next = json!({"input": "And then?", "previous_response_id": id});
    let (status, continued) = post(&b, next).await;
    assert_eq!(status, StatusCode::OK, "{continued}");
    let streamed = streamed_id(&a, json!({"input": "Stream it", "stream": true})).await;
    let (status, read) = get(&b, &format!("/v1/responses/{streamed}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "kept before the stream's end: {read}"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        get(&a, &format!("/v1/responses/{id}")).await,
        (StatusCode::NOT_FOUND, not_found(&id))
    );
}

/// Streams a `POST /v1/responses` to its end; the id of its `response.completed` event.
async fn streamed_id(gateway: &Gateway, body: Value) -> String {
    let url = format!("{}/v1/responses", gateway.url());
    let (status, _, bytes) = send(
        Method::POST,
        &url,
        &credential_headers(),
        Some(body.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(bytes.to_vec()).expect("SSE is UTF-8");
    text.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .find(|event| event["type"] == "response.completed")
        .and_then(|event| event["response"]["id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no response.completed in {text}"))
}

async fn ready(gateway: &Gateway) -> (StatusCode, Value) {
    call(gateway, Method::GET, "/ready", &[], None).await
}

/// Redis stopped under a running gateway: not ready, 503 for whatever needs the store,
/// stateless requests still served; Redis restarted on the same port: recovered.
#[tokio::test]
async fn redis_down_then_back() {
    let mut redis = Redis::start();
    let mock = Mock::start();
    let gateway = with_redis(&mock, &redis, &[]);
    assert_eq!(ready(&gateway).await.0, StatusCode::OK);
    assert_eq!(
        get(&gateway, "/v1/responses/resp_1").await.0,
        StatusCode::NOT_FOUND
    );

    redis.stop();
    let (status, why) = ready(&gateway).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(why["reason"], "the response store is unreachable", "{why}");
    let (status, error) = get(&gateway, "/v1/responses/resp_1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        error["error"]["code"], "response_store_unavailable",
        "{error}"
    );
    assert_eq!(error["error"]["type"], "server_error");
    for body in [
        json!({"input": "hi", "previous_response_id": "resp_1", "store": false}),
        json!({"input": "hi"}),
        json!({"input": "hi", "store": true}),
    ] {
        let (status, error) = post(&gateway, body.clone()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}: {error}");
        assert_eq!(error["error"]["code"], "response_store_unavailable");
    }
    // Not the store's business: served as usual.
    let (status, answer) = post(&gateway, json!({"input": "hi", "store": false})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _, answer) = gateway
        .chat(json!({"messages": [{"role": "user", "content": "Hello there"}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    while ready(&gateway).await.0 != StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "the gateway never became ready again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        get(&gateway, "/v1/responses/resp_1").await.0,
        StatusCode::NOT_FOUND
    );
}

/// A Redis password is never logged, not even at debug level while Redis refuses it.
#[tokio::test]
async fn a_redis_password_never_shows() {
    let redis = Redis::start();
    let mock = Mock::start();
    let url = format!("redis://:hunter2-secret@127.0.0.1:{}/0", redis.port);
    let gateway = Gateway::start(&mock, &[("RUST_LOG", "debug")], &["--response-store", &url]);
    // This Redis has no password: AUTH fails, so the store is unusable.
    let (status, why) = ready(&gateway).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{why}");
    let (status, error) = get(&gateway, "/v1/responses/resp_1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error}");
    let log = gateway.log();
    assert!(
        log.contains("response store"),
        "the failure is logged: {log}"
    );
    for shown in [log, why.to_string(), error.to_string()] {
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

/// With gateway keys, the key is the tenant: whoever presents it sees the key's responses,
/// whatever AWS credentials they bring, and another key sees none.
#[tokio::test]
async fn with_gateway_keys_the_key_owns_the_responses() {
    let redis = Redis::start();
    let mock = Mock::start();
    let url = redis.url();
    let gateway = Gateway::start(
        &mock,
        &[(
            "BEDROCK_GATEWAY_API_KEYS",
            "key-a-0123456789,key-b-0123456789",
        )],
        &["--response-store", &url],
    );
    let store = RedisStore::new(RedisUrl::parse(&url).unwrap(), Duration::from_secs(60)).unwrap();
    let record = json!({"response": {"id": "resp_k"}, "input_items": [], "context": []});
    store
        .put(
            &Tenant::from_gateway_key("key-a-0123456789"),
            &ResponseId::parse("resp_k").unwrap(),
            Bytes::from(record.to_string()),
        )
        .await
        .unwrap();
    let as_key = |key: &str, who: Vec<(&'static str, &'static str)>| {
        let mut headers: Vec<(&str, String)> = vec![("authorization", format!("Bearer {key}"))];
        headers.extend(who.into_iter().map(|(n, v)| (n, v.to_owned())));
        headers
    };
    for (key, who, expected) in [
        ("key-a-0123456789", credential_headers(), StatusCode::OK),
        ("key-a-0123456789", someone_else(), StatusCode::OK),
        (
            "key-b-0123456789",
            credential_headers(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let headers = as_key(key, who);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (status, body) = call(
            &gateway,
            Method::GET,
            "/v1/responses/resp_k",
            &headers,
            None,
        )
        .await;
        assert_eq!(status, expected, "{key}: {body}");
    }
    // The same key as x-api-key (the Anthropic SDKs' header) is the same tenant.
    let mut headers = vec![("x-api-key", "key-a-0123456789")];
    headers.extend(someone_else());
    let (status, body) = call(
        &gateway,
        Method::GET,
        "/v1/responses/resp_k",
        &headers,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "x-api-key: {body}");
    let (status, _) = get(&gateway, "/v1/responses/resp_k").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no key");
}
