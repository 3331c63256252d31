"""botocore (AWS's own Python SDK) against the fake Bedrock.

Usage: python botocore_check.py MOCK_URL

Proves both directions: the mock accepts botocore's SigV4 signatures (with the model id
percent-encoded in the path as botocore does it), and botocore parses the mock's answers:
Converse JSON, ConverseStream event-stream frames, InvokeModel (Titan, Cohere and Anthropic bodies),
InvokeModelWithResponseStream chunks, CountTokens, and Bedrock's error shapes.
Exits non-zero on the first mismatch.
"""

import json
import sys
import urllib.request

import botocore.session
from botocore.exceptions import ClientError, EventStreamError

MOCK = sys.argv[1]
KEY, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"


def client(secret=SECRET, region="us-east-1", token=None, key=KEY):
    session = botocore.session.get_session()
    return session.create_client(
        "bedrock-runtime", region_name=region, endpoint_url=MOCK,
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
    )


def check(name, condition, detail=""):
    if not condition:
        raise SystemExit(f"FAIL {name}: {detail}")
    print(f"ok - {name}")


def fault(spec):
    request = urllib.request.Request(f"{MOCK}/__mock/faults", data=json.dumps(spec).encode(), method="POST")
    urllib.request.urlopen(request).read()


def recorded():
    return json.loads(urllib.request.urlopen(f"{MOCK}/__mock/requests").read())


bedrock = client()
messages = [{"role": "user", "content": [{"text": "hello from botocore"}]}]

answer = bedrock.converse(modelId=CLAUDE, messages=messages, inferenceConfig={"maxTokens": 50})
check("converse", "hello from botocore" in answer["output"]["message"]["content"][0]["text"], answer)
check("converse usage", answer["usage"]["totalTokens"] == answer["usage"]["inputTokens"] + answer["usage"]["outputTokens"])
check("the model id travelled percent-encoded", recorded()[-1]["path"] == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", recorded()[-1]["path"])

answer = bedrock.converse(modelId=PROFILE_ARN, messages=messages)
check("converse with an inference-profile ARN (':' and '/' encoded)", answer["stopReason"] == "end_turn", answer)

session_client = client(key="ASIAMOCKSESSIONEXAMPLE", secret="mockSessionSecretKeyEXAMPLE0123456789abcd",
                        token="mock-session-token-EXAMPLE", region="eu-west-3")
answer = session_client.converse(modelId=CLAUDE, messages=messages)
check("session token and another region", recorded()[-1]["credential_scope"]["region"] == "eu-west-3")

stream = bedrock.converse_stream(modelId=CLAUDE, messages=messages)
events = list(stream["stream"])
kinds = [next(iter(e)) for e in events]
text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
check("converse_stream frames", kinds[0] == "messageStart" and "messageStop" in kinds and kinds[-1] == "metadata", kinds)
check("converse_stream text", "hello from botocore" in text, text)

tools = {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}}]}
events = list(bedrock.converse_stream(modelId=CLAUDE, messages=messages, toolConfig=tools)["stream"])
starts = [e["contentBlockStart"]["start"]["toolUse"]["name"] for e in events if "contentBlockStart" in e]
check("converse_stream tool use", starts == ["get_weather"], events)

fault({"stream_exception": "throttlingException", "after_events": 2})
try:
    list(bedrock.converse_stream(modelId=CLAUDE, messages=messages)["stream"])
    raise SystemExit("FAIL: the exception frame was not raised")
except EventStreamError as error:
    check("an exception frame raises EventStreamError", error.response["Error"]["Code"] == "throttlingException", error.response)

body = json.dumps({"inputText": "embed me", "dimensions": 256, "normalize": True})
answer = bedrock.invoke_model(modelId="amazon.titan-embed-text-v2:0", body=body, contentType="application/json", accept="application/json")
embedding = json.loads(answer["body"].read())
check("invoke_model titan v2", len(embedding["embedding"]) == 256 and embedding["inputTextTokenCount"] == 2, embedding.keys())

fault({"error": "ThrottlingException", "status": 429, "message": "slow down", "count": 5})
try:
    client().converse(modelId=CLAUDE, messages=messages)
    raise SystemExit("FAIL: throttling not raised")
except ClientError as error:
    check("ThrottlingException parsed by botocore", error.response["Error"]["Code"] == "ThrottlingException", error.response)
urllib.request.urlopen(urllib.request.Request(f"{MOCK}/__mock/faults", method="DELETE")).read()

for name, kwargs, code in [
    ("wrong secret", {"secret": "wrong"}, "InvalidSignatureException"),
    ("unknown key", {"key": "AKIAUNKNOWNKEY000000"}, "UnrecognizedClientException"),
]:
    try:
        client(**kwargs).converse(modelId=CLAUDE, messages=messages)
        raise SystemExit(f"FAIL: {name} accepted")
    except ClientError as error:
        check(f"{name} -> {code}", error.response["Error"]["Code"] == code, error.response)

try:
    bedrock.converse(modelId="acme.no-such-model-v1:0", messages=messages)
    raise SystemExit("FAIL: unknown model accepted")
except ClientError as error:
    check("unknown model -> ValidationException", error.response["Error"]["Code"] == "ValidationException"
          and "model identifier is invalid" in error.response["Error"]["Message"], error.response)

# Tool calls: the schema-built input, fragments that join into JSON, and the result round trip.
tools = {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object", "properties": {
    "city": {"type": "string"}, "days": {"type": "integer"}, "metric": {"type": "boolean"}}}}}}]}
answer = bedrock.converse(modelId=CLAUDE, messages=messages, toolConfig=tools)
call = answer["output"]["message"]["content"][-1]["toolUse"]
check("converse tool call", answer["stopReason"] == "tool_use"
      and call["input"] == {"city": "mock", "days": 1, "metric": True}, answer)
history = messages + [answer["output"]["message"], {"role": "user", "content": [
    {"toolResult": {"toolUseId": call["toolUseId"], "content": [{"text": "18C and sunny"}]}}]}]
answer = bedrock.converse(modelId=CLAUDE, messages=history, toolConfig=tools)
check("converse tool result", "18C and sunny" in answer["output"]["message"]["content"][0]["text"], answer)
events = list(bedrock.converse_stream(modelId=CLAUDE, messages=messages, toolConfig=tools)["stream"])
fragments = [e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events
             if "toolUse" in e.get("contentBlockDelta", {}).get("delta", {})]
check("converse_stream tool input fragments", len(fragments) >= 2
      and json.loads("".join(fragments)) == call["input"], fragments)

# Reasoning deltas, then the signature; an image's bytes travel as base64 and are counted.
events = list(bedrock.converse_stream(modelId=CLAUDE, messages=messages,
                                      additionalModelRequestFields={"thinking": {"type": "enabled"}})["stream"])
reasoning = [e["contentBlockDelta"]["delta"]["reasoningContent"] for e in events
             if "reasoningContent" in e.get("contentBlockDelta", {}).get("delta", {})]
check("converse_stream reasoning", reasoning[0]["text"].startswith("Thinking about:")
      and reasoning[-1] == {"signature": "mock-signature"}, reasoning)
image = [{"role": "user", "content": [{"text": "look"}, {"image": {"format": "png", "source": {"bytes": b"\x89PNG\r\n"}}}]}]
answer = bedrock.converse(modelId=CLAUDE, messages=image)
check("converse image bytes", "image/png 6 bytes" in answer["output"]["message"]["content"][0]["text"], answer)

# Cohere embeddings, a per-request directive, and an expired session token.
answer = bedrock.invoke_model(modelId="cohere.embed-english-v3", contentType="application/json",
                              body=json.dumps({"texts": ["a", "b"], "input_type": "search_query"}))
vectors = json.loads(answer["body"].read())["embeddings"]
check("invoke_model cohere", len(vectors) == 2 and len(vectors[0]) == 1024)
for name, call_, code in [
    ("directive error", lambda: bedrock.converse(modelId=CLAUDE, messages=[{"role": "user", "content": [
        {"text": "x [mock:error=ModelErrorException]"}]}]), "ModelErrorException"),
    ("expired token", lambda: client(key="ASIAMOCKSESSIONEXAMPLE", secret="mockSessionSecretKeyEXAMPLE0123456789abcd",
                                     token="expired-token").converse(modelId=CLAUDE, messages=messages), "ExpiredTokenException"),
]:
    try:
        call_()
        raise SystemExit(f"FAIL: {name} accepted")
    except ClientError as error:
        check(f"{name} -> {code}", error.response["Error"]["Code"] == code, error.response)

# Anthropic bodies: InvokeModel, its stream's chunk frames, CountTokens agreeing with the usage.
claude_body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100,
               "messages": [{"role": "user", "content": "hello from botocore"}],
               "thinking": {"type": "enabled", "budget_tokens": 1024}}
answer = bedrock.invoke_model(modelId=CLAUDE, body=json.dumps(claude_body), contentType="application/json",
                              accept="application/json")
message = json.loads(answer["body"].read())
check("invoke_model anthropic", message["type"] == "message" and message["id"].startswith("msg_bdrk_")
      and message["content"][-1] == {"type": "text", "text": "You said: hello from botocore"}
      and message["content"][0]["type"] == "thinking", message)
check("invoke_model anthropic token headers", answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-input-token-count"]
      == str(message["usage"]["input_tokens"]), answer["ResponseMetadata"])
stream = bedrock.invoke_model_with_response_stream(modelId=CLAUDE, body=json.dumps(claude_body),
                                                   contentType="application/json", accept="application/json")
events = [json.loads(e["chunk"]["bytes"]) for e in stream["body"]]
types = [e["type"] for e in events]
text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta")
check("invoke_model_with_response_stream chunks", stream["contentType"] == "application/json"
      and types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"]
      and text == "You said: hello from botocore"
      and "amazon-bedrock-invocationMetrics" in events[-1], types)
counted = bedrock.count_tokens(modelId=CLAUDE, input={"invokeModel": {"body": json.dumps(claude_body).encode()}})
check("count_tokens invokeModel equals the usage", counted["inputTokens"] == message["usage"]["input_tokens"], counted)
counted = bedrock.count_tokens(modelId=CLAUDE, input={"converse": {"messages": messages}})
answer = bedrock.converse(modelId=CLAUDE, messages=messages)
check("count_tokens converse equals the usage", counted["inputTokens"] == answer["usage"]["inputTokens"], counted)
check("count_tokens travelled percent-encoded", recorded()[-2]["path"]
      == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/count-tokens", recorded()[-2]["path"])
try:
    bedrock.count_tokens(modelId="us." + CLAUDE, input={"converse": {"messages": messages}})
    raise SystemExit("FAIL: count_tokens took an inference profile")
except ClientError as error:
    check("count_tokens with a profile -> ValidationException", error.response["Error"]["Code"] == "ValidationException", error.response)
try:
    list(bedrock.invoke_model_with_response_stream(modelId=CLAUDE, body=json.dumps(dict(claude_body, messages=[
        {"role": "user", "content": "x [mock:stream_exception=modelStreamErrorException,after=2]"}])),
        contentType="application/json")["body"])
    raise SystemExit("FAIL: the exception frame was not raised")
except EventStreamError as error:
    check("an invoke stream exception frame raises EventStreamError",
          error.response["Error"]["Code"] == "modelStreamErrorException", error.response)

print("botocore: all checks passed")
