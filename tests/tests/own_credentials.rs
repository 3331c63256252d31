//! End to end: a gateway without credentials of its own, where the instance-metadata endpoint
//! refuses (as in containers that block it), answers the documented 401 and says so at start-up.

use std::time::{Duration, Instant};

use e2e_tests::{FakeHttp, Gateway, Mock};
use http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_imds_that_refuses_means_no_credentials_not_a_502() {
    let mock = Mock::start();
    let imds = FakeHttp::start(|_, _| (403, String::new())).await;
    let env = [
        ("AWS_EC2_METADATA_DISABLED", "false"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str()),
        ("AWS_CONFIG_FILE", "/nonexistent/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
    ];
    let gateway = Gateway::start(&mock, &env, &[]);
    let hello = json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "messages": [{"role": "user", "content": "hi"}]});
    let (status, _, body) = gateway.chat_with(hello, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "missing_aws_credentials", "{body}");
    assert!(imds.hits() >= 1, "the IMDS was asked");
    assert!(mock.requests().await.is_empty());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gateway
        .log()
        .contains("the gateway has no AWS credentials of its own")
    {
        assert!(Instant::now() < deadline, "log:\n{}", gateway.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
