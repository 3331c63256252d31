"""The official Anthropic Python SDK against the gateway's Messages API (which fronts the fake Bedrock).

Usage: python anthropic_messages_test.py GATEWAY_URL MOCK_URL

Run by `cargo xtask integration` in a venv it creates. Every check raises on failure, so the
script exits non-zero; it prints one line per passing check.

Two halves:
- a model other than Claude (Amazon Nova Lite) through Converse: create, stream, a tool round
  trip, errors (AuthenticationError, NotFoundError, RateLimitError);
- Claude through InvokeModel and CountTokens: create, stream, thinking with its signature sent
  back, cache_control and the cache usage fields, count_tokens. These need the fake Bedrock to
  answer InvokeModel with Anthropic bodies and CountTokens; set MESSAGES_TEST_CONVERSE_ONLY=1 to
  run the first half alone against a fake that does not.
"""

import json
import os
import sys
import urllib.request

import anthropic

GATEWAY, MOCK = sys.argv[1], sys.argv[2]
NOVA = "amazon.nova-lite-v1:0"
CLAUDE = "claude-sonnet-4-5"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}

# The gateway root: the SDK adds /v1/messages itself.
client = anthropic.Anthropic(base_url=GATEWAY, api_key="unused-by-the-gateway", max_retries=0)


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"{name} failed: {detail}")
    print(f"ok - {name}")


def mock_fault(fault):
    req = urllib.request.Request(
        f"{MOCK}/__mock/faults", data=json.dumps(fault).encode(), method="POST",
        headers={"content-type": "application/json"},
    )
    urllib.request.urlopen(req).read()


def clear_faults():
    req = urllib.request.Request(f"{MOCK}/__mock/faults", method="DELETE")
    urllib.request.urlopen(req).read()


def last_request_body():
    with urllib.request.urlopen(f"{MOCK}/__mock/requests") as r:
        requests = json.load(r)
    return requests[-1]["path"], json.loads(requests[-1]["body"])


def nova_create():
    m = client.messages.create(
        model=NOVA, max_tokens=100, system="Be brief.",
        messages=[{"role": "user", "content": "Hello SDK"}],
    )
    check("nova create: a Message", m.type == "message" and m.role == "assistant", m)
    check("nova create: the model named as sent", m.model == NOVA, m.model)
    check("nova create: text", m.content[0].type == "text" and "Hello SDK" in m.content[0].text, m.content)
    check("nova create: stop_reason", m.stop_reason == "end_turn", m.stop_reason)
    check("nova create: usage", m.usage.input_tokens > 0 and m.usage.output_tokens > 0, m.usage)
    path, sent = last_request_body()
    check("nova create: through Converse", path.endswith("/converse"), path)
    check("nova create: system prompt", sent.get("system") == [{"text": "Be brief."}], sent)


def nova_stream():
    with client.messages.stream(
        model=NOVA, max_tokens=100, messages=[{"role": "user", "content": "one two three"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check("nova stream: text_stream", text == "You said: one two three", text)
    check("nova stream: final message text", final.content[0].text == text, final.content)
    check("nova stream: final usage", final.usage.input_tokens > 0 and final.usage.output_tokens > 0, final.usage)
    check("nova stream: stop_reason", final.stop_reason == "end_turn", final.stop_reason)


def nova_tools():
    first = client.messages.create(
        model=NOVA, max_tokens=100, tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    calls = [b for b in first.content if b.type == "tool_use"]
    check("nova tools: a tool_use block", first.stop_reason == "tool_use" and len(calls) == 1, first.content)
    check("nova tools: input from the schema", "city" in calls[0].input, calls[0].input)
    second = client.messages.create(
        model=NOVA, max_tokens=100, tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": calls[0].id, "content": "18C and sunny"}]},
        ],
    )
    check("nova tools: the result reaches the model", "18C" in second.content[0].text, second.content)


def nova_stop_sequence():
    m = client.messages.create(
        model=NOVA, max_tokens=100, stop_sequences=["three"], metadata={"user_id": "sdk-user"},
        messages=[{"role": "user", "content": "one two three four"}],
    )
    check("nova stop: stop_reason", m.stop_reason == "stop_sequence", m.stop_reason)
    check("nova stop: the sequence named", m.stop_sequence == "three", m.stop_sequence)
    _, sent = last_request_body()
    check("nova stop: user_id as requestMetadata", sent.get("requestMetadata") == {"user_id": "sdk-user"}, sent)
    with client.messages.stream(
        model=NOVA, max_tokens=100, stop_sequences=["three"],
        messages=[{"role": "user", "content": "one two three four"}],
    ) as stream:
        final = stream.get_final_message()
    check("nova stop: streamed", final.stop_sequence == "three", final)


def errors():
    bad_keys = client.with_options(default_headers={
        "x-aws-access-key-id": "AKIAIOSFODNN7EXAMPLE",
        "x-aws-secret-access-key": "not-the-secret-key-0000000000000000000000",
    })
    try:
        bad_keys.messages.create(model=NOVA, max_tokens=10, messages=[{"role": "user", "content": "x"}])
        raise AssertionError("a bad secret key accepted")
    except anthropic.AuthenticationError as e:
        check("bad AWS credentials are AuthenticationError", e.status_code == 401
              and e.body["error"]["type"] == "authentication_error", e.body)
    try:
        client.messages.create(model="acme.unknown-model-v1:0", max_tokens=10, messages=[{"role": "user", "content": "x"}])
        raise AssertionError("unknown model accepted")
    except anthropic.NotFoundError as e:
        check("unknown model is NotFoundError", e.status_code == 404 and e.body["error"]["type"] == "not_found_error", e.body)
    # More throttles than the gateway's attempts.
    mock_fault({"error": "ThrottlingException", "status": 429, "message": "slow down", "count": 5})
    try:
        client.messages.create(model=NOVA, max_tokens=10, messages=[{"role": "user", "content": "x"}])
        raise AssertionError("throttling not reported")
    except anthropic.RateLimitError as e:
        check("throttling is RateLimitError", e.status_code == 429 and e.body["error"]["type"] == "rate_limit_error", e.body)
    finally:
        clear_faults()


def claude_create():
    m = client.messages.create(model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "Hello Claude"}])
    check("claude create: the model named as sent", m.model == CLAUDE, m.model)
    check("claude create: text", m.content and m.content[0].type == "text", m.content)
    check("claude create: stop_reason", m.stop_reason is not None, m)
    path, sent = last_request_body()
    check("claude create: through InvokeModel", path.endswith("/invoke"), path)
    check("claude create: Bedrock's anthropic_version", sent.get("anthropic_version") == "bedrock-2023-05-31", sent)
    check("claude create: no model or stream in the body", "model" not in sent and "stream" not in sent, sent)


def claude_stream():
    with client.messages.stream(
        model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "Stream please"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check("claude stream: text", len(text) > 0, text)
    check("claude stream: final message", final.content[-1].type == "text" and final.content[-1].text == text, final.content)
    check("claude stream: model named as sent", final.model == CLAUDE, final.model)
    path, _ = last_request_body()
    check("claude stream: through invoke-with-response-stream", path.endswith("/invoke-with-response-stream"), path)


def claude_thinking():
    first = client.messages.create(
        model=CLAUDE, max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024},
        tools=[WEATHER_TOOL], messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    thinking = [b for b in first.content if b.type == "thinking"]
    check("claude thinking: a signed thinking block", thinking and thinking[0].signature, first.content)
    calls = [b for b in first.content if b.type == "tool_use"]
    follow_up = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
    ]
    if calls:
        follow_up.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": calls[0].id, "content": "18C"}]})
    else:
        follow_up.append({"role": "user", "content": "And tomorrow?"})
    client.messages.create(
        model=CLAUDE, max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024},
        tools=[WEATHER_TOOL], messages=follow_up,
    )
    _, sent = last_request_body()
    sent_back = sent["messages"][1]["content"][0]
    check("claude thinking: the signature goes back unchanged",
          sent_back.get("type") == "thinking" and sent_back.get("signature") == thinking[0].signature, sent_back)


def claude_cache():
    system = [{"type": "text", "text": "You are a careful assistant. " * 200, "cache_control": {"type": "ephemeral"}}]
    m = client.messages.create(model=CLAUDE, max_tokens=50, system=system,
                               messages=[{"role": "user", "content": "Hi"}])
    u = m.usage
    check("claude cache: cache usage fields",
          u.cache_creation_input_tokens is not None and u.cache_read_input_tokens is not None, u)
    _, sent = last_request_body()
    check("claude cache: cache_control passed through", sent["system"][0].get("cache_control") == {"type": "ephemeral"}, sent)


def count_tokens(model, operation):
    r = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "Count these words please"}])
    check(f"{model} count_tokens", r.input_tokens > 0, r)
    path, sent = last_request_body()
    check(f"{model} count_tokens: CountTokens on a foundation model",
          path.endswith("/count-tokens") and "/model/us." not in path, path)
    check(f"{model} count_tokens: {operation} input", operation in sent.get("input", {}), sent)


if __name__ == "__main__":
    nova_create()
    nova_stream()
    nova_tools()
    nova_stop_sequence()
    errors()
    if os.environ.get("MESSAGES_TEST_CONVERSE_ONLY") != "1":
        count_tokens(NOVA, "converse")
        claude_create()
        claude_stream()
        claude_thinking()
        claude_cache()
        count_tokens(CLAUDE, "invokeModel")
    else:
        print("skipped - the Claude (InvokeModel) and CountTokens checks (MESSAGES_TEST_CONVERSE_ONLY=1)")
