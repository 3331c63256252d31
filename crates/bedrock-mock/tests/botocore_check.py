"""botocore (AWS's own Python SDK core) against bedrock-mock.

Usage: python3 botocore_check.py MOCK_URL

Proves both directions of wire compatibility: botocore accepts the mock's answers (Converse JSON,
ConverseStream event-stream frames, InvokeModel, error headers) and the mock accepts botocore's
SigV4 signatures (model ids with `%3A` in the path are double-encoded in the canonical request).
Exits non-zero on any mismatch. Needs only the standard library and botocore.
"""

import json
import sys
import urllib.request

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_ACCESS_KEY = "ASIAMOCKSESSIONEXAMPLE"
SESSION_SECRET_KEY = "mockSessionSecretKeyEXAMPLE0123456789abcd"
SESSION_TOKEN = "mock-session-token-EXAMPLE"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
PROFILE_ARN = (
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
    "us.anthropic.claude-3-haiku-20240307-v1:0"
)


def client(url, access_key=ACCESS_KEY, secret_key=SECRET_KEY, token=None):
    return botocore.session.get_session().create_client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"{name} failed: {detail}")
    print(f"ok - {name}")


def control(url, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}/__mock/{path}", data=data, method=method,
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def expect_client_error(name, code, call):
    try:
        call()
    except ClientError as error:
        got = error.response["Error"]["Code"]
        check(name, got == code, f"{got}: {error}")
        return error
    raise AssertionError(f"{name} failed: no error raised")


def converse(bedrock):
    r = bedrock.converse(
        modelId=CLAUDE,
        system=[{"text": "Be brief."}],
        messages=[{"role": "user", "content": [{"text": "Hello botocore"}]}],
        inferenceConfig={"maxTokens": 100, "temperature": 0.5},
    )
    text = r["output"]["message"]["content"][0]["text"]
    check("converse echo", text == "You said: Hello botocore", r)
    check("converse stopReason", r["stopReason"] == "end_turn", r["stopReason"])
    usage = r["usage"]
    check("converse usage", usage["inputTokens"] == 4 and usage["outputTokens"] == 4
          and usage["totalTokens"] == 8, usage)
    check("converse metrics", "latencyMs" in r["metrics"], r["metrics"])
    r = bedrock.converse(modelId=PROFILE_ARN, messages=[{"role": "user", "content": [
        {"text": "Look"}, {"image": {"format": "png", "source": {"bytes": b"\x89PNG\r\n"}}}]}])
    check("inference-profile ARN and image bytes",
          "image/png 6 bytes" in r["output"]["message"]["content"][0]["text"], r)


def converse_tools(bedrock):
    tools = {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {
        "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}}}]}
    messages = [{"role": "user", "content": [{"text": "Weather in Paris?"}]}]
    r = bedrock.converse(modelId=CLAUDE, messages=messages, toolConfig=tools)
    check("tool_use stopReason", r["stopReason"] == "tool_use", r)
    call = r["output"]["message"]["content"][-1]["toolUse"]
    check("tool call input", call["name"] == "get_weather"
          and call["input"] == {"city": "mock", "days": 1}, call)
    messages.append(r["output"]["message"])
    messages.append({"role": "user", "content": [{"toolResult": {
        "toolUseId": call["toolUseId"], "content": [{"text": "18C and sunny"}]}}]})
    r = bedrock.converse(modelId=CLAUDE, messages=messages, toolConfig=tools)
    check("tool result echoed", "18C and sunny" in r["output"]["message"]["content"][0]["text"], r)


def converse_stream(bedrock):
    r = bedrock.converse_stream(
        modelId=CLAUDE,
        messages=[{"role": "user", "content": [{"text": "one two three"}]}],
        additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )
    kinds, text, reasoning, signature, stop, usage = [], "", "", "", None, None
    for event in r["stream"]:
        (kind, payload), = event.items()
        kinds.append(kind)
        delta = payload.get("delta", {})
        text += delta.get("text", "")
        reasoning += delta.get("reasoningContent", {}).get("text", "")
        signature += delta.get("reasoningContent", {}).get("signature", "")
        if kind == "messageStop":
            stop = payload["stopReason"]
        if kind == "metadata":
            usage = payload["usage"]
    check("stream text", text == "You said: one two three", text)
    check("stream reasoning", reasoning == "Thinking about: one two three"
          and signature == "mock-signature", (reasoning, signature))
    check("stream event order", kinds[0] == "messageStart" and kinds[-2:] == ["messageStop", "metadata"], kinds)
    check("stream stop and usage", stop == "end_turn" and usage["totalTokens"] > 0, (stop, usage))


def converse_stream_tool(bedrock):
    tools = {"tools": [{"toolSpec": {"name": "lookup", "inputSchema": {"json": {
        "type": "object", "properties": {"q": {"type": "string"}, "exact": {"type": "boolean"}}}}}}]}
    r = bedrock.converse_stream(modelId=CLAUDE, toolConfig=tools,
                                messages=[{"role": "user", "content": [{"text": "find it"}]}])
    start, fragments, stop = None, [], None
    for event in r["stream"]:
        if "contentBlockStart" in event:
            start = event["contentBlockStart"]["start"]["toolUse"]
        delta = event.get("contentBlockDelta", {}).get("delta", {})
        if "toolUse" in delta:
            fragments.append(delta["toolUse"]["input"])
        if "messageStop" in event:
            stop = event["messageStop"]["stopReason"]
    check("stream tool start", start and start["name"] == "lookup" and start["toolUseId"], start)
    check("stream tool input fragments", len(fragments) >= 2
          and json.loads("".join(fragments)) == {"q": "mock", "exact": True}, fragments)
    check("stream tool stopReason", stop == "tool_use", stop)


def stream_exception(url, bedrock):
    control(url, "POST", "faults", {"stream_exception": "throttlingException", "after_events": 2})
    r = bedrock.converse_stream(modelId=CLAUDE, messages=[{"role": "user", "content": [{"text": "a b c d"}]}])
    seen = 0
    try:
        for _ in r["stream"]:
            seen += 1
        raise AssertionError("stream exception not raised")
    except EventStreamError as error:
        check("stream exception frame", error.response["Error"]["Code"] == "throttlingException"
              and seen == 2, (seen, error))


def invoke_embeddings(bedrock):
    r = bedrock.invoke_model(
        modelId="amazon.titan-embed-text-v2:0",
        body=json.dumps({"inputText": "hello embeddings", "dimensions": 256, "normalize": True}),
        contentType="application/json", accept="application/json",
    )
    body = json.loads(r["body"].read())
    vector = body["embedding"]
    check("titan v2 embedding", len(vector) == 256 and body["inputTextTokenCount"] == 2, len(vector))
    check("titan v2 normalised", abs(sum(v * v for v in vector) - 1) < 1e-3)
    headers = r["ResponseMetadata"]["HTTPHeaders"]
    check("token count header", headers.get("x-amzn-bedrock-input-token-count") == "2", headers)
    r = bedrock.invoke_model(modelId="cohere.embed-english-v3", body=json.dumps(
        {"texts": ["a", "b"], "input_type": "search_query"}))
    body = json.loads(r["body"].read())
    check("cohere embeddings", len(body["embeddings"]) == 2 and len(body["embeddings"][0]) == 1024, body.keys())


def errors(url, bedrock):
    control(url, "POST", "faults", {"error": "ThrottlingException", "status": 429,
                                    "message": "slow down", "count": 1})
    error = expect_client_error("queued ThrottlingException", "ThrottlingException", lambda: bedrock.converse(
        modelId=CLAUDE, messages=[{"role": "user", "content": [{"text": "x"}]}]))
    check("throttling status and message", error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
          and error.response["Error"]["Message"] == "slow down", error.response)
    expect_client_error("directive ModelErrorException", "ModelErrorException", lambda: bedrock.converse(
        modelId=CLAUDE, messages=[{"role": "user", "content": [{"text": "x [mock:error=ModelErrorException]"}]}]))
    expect_client_error("unknown model", "ValidationException", lambda: bedrock.converse(
        modelId="acme.unknown-v1:0", messages=[{"role": "user", "content": [{"text": "x"}]}]))
    expect_client_error("temperature out of range", "ValidationException", lambda: bedrock.converse(
        modelId=CLAUDE, messages=[{"role": "user", "content": [{"text": "x"}]}],
        inferenceConfig={"temperature": 1.5}))
    wrong = client(url, secret_key="not-the-secret")
    expect_client_error("wrong secret", "InvalidSignatureException", lambda: wrong.converse(
        modelId=CLAUDE, messages=[{"role": "user", "content": [{"text": "x"}]}]))
    unknown = client(url, access_key="AKIAUNKNOWNUNKNOWN00")
    expect_client_error("unknown access key", "UnrecognizedClientException", lambda: unknown.converse(
        modelId=CLAUDE, messages=[{"role": "user", "content": [{"text": "x"}]}]))


def session_credentials(url):
    bedrock = client(url, SESSION_ACCESS_KEY, SESSION_SECRET_KEY, SESSION_TOKEN)
    r = bedrock.converse(modelId=CLAUDE, messages=[{"role": "user", "content": [{"text": "temporary"}]}])
    check("session credentials", r["stopReason"] == "end_turn", r)
    expired = client(url, SESSION_ACCESS_KEY, SESSION_SECRET_KEY, "expired-token")
    expect_client_error("expired token", "ExpiredTokenException", lambda: expired.converse(
        modelId=CLAUDE, messages=[{"role": "user", "content": [{"text": "x"}]}]))


def recorded(url):
    requests = control(url, "GET", "requests")
    sigv4 = [r for r in requests if r["auth"] == "sigv4"]
    check("recorded requests", sigv4 and sigv4[0]["credential_scope"]["service"] == "bedrock"
          and sigv4[0]["path"].startswith("/model/anthropic.claude-3-haiku-20240307-v1%3A0/"), requests[:1])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    url = sys.argv[1].rstrip("/")
    control(url, "DELETE", "faults")
    bedrock = client(url)
    converse(bedrock)
    converse_tools(bedrock)
    converse_stream(bedrock)
    converse_stream_tool(bedrock)
    stream_exception(url, bedrock)
    invoke_embeddings(bedrock)
    errors(url, bedrock)
    session_credentials(url)
    recorded(url)
    print("botocore: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(f"not ok - {failure}", file=sys.stderr)
        sys.exit(1)
