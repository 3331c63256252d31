"""The official OpenAI Python SDK against the gateway (which fronts the fake Bedrock).

Usage: python openai_sdk_test.py GATEWAY_URL MOCK_URL

Run by `cargo xtask integration` in a venv it creates. Every check raises on failure, so the
script exits non-zero; it prints one line per passing check.
"""

import json
import struct
import sys
import urllib.request

import openai

GATEWAY, MOCK = sys.argv[1], sys.argv[2]
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
# 1x1 transparent PNG.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}

client = openai.OpenAI(
    base_url=f"{GATEWAY}/v1",
    api_key="unused-by-the-gateway",
    default_headers={"x-provider": "bedrock"},
    max_retries=0,
)


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


def text_completion():
    r = client.chat.completions.create(
        model=CLAUDE,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello SDK"}],
        max_tokens=50,
        temperature=0.3,
    )
    check("text completion", "Hello SDK" in r.choices[0].message.content, r)
    check("finish_reason stop", r.choices[0].finish_reason == "stop", r.choices[0].finish_reason)
    check("usage", r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, r.usage)
    check("model echoed", r.model == CLAUDE, r.model)


def default_model():
    r = client.chat.completions.create(model="", messages=[{"role": "user", "content": "hi"}])
    check("default model", r.model == "amazon.titan-text-premier-v1:0", r.model)


def streamed_text():
    stream = client.chat.completions.create(
        model=CLAUDE,
        messages=[{"role": "user", "content": "stream these words please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    check("streamed text", "stream these words please" in text, text)
    check("one id per stream", len({c.id for c in chunks}) == 1)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    check("streamed finish_reason", finishes == ["stop"], finishes)
    check("usage chunk last", chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0, chunks[-1])


def tool_calls():
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    r = client.chat.completions.create(model=CLAUDE, messages=messages, tools=[WEATHER_TOOL], tool_choice="auto")
    choice = r.choices[0]
    check("tool call finish_reason", choice.finish_reason == "tool_calls", choice)
    call = choice.message.tool_calls[0]
    arguments = json.loads(call.function.arguments)
    check("tool call", call.function.name == "get_weather" and "city" in arguments, call)
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"})
    r = client.chat.completions.create(model=CLAUDE, messages=messages, tools=[WEATHER_TOOL])
    check("tool result round trip", "18C and sunny" in (r.choices[0].message.content or ""), r)


def streamed_tool_calls():
    stream = client.chat.completions.create(
        model=CLAUDE,
        messages=[{"role": "user", "content": "Weather in Rome?"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        stream=True,
    )
    calls = {}
    finish = None
    for chunk in stream:
        delta = chunk.choices[0].delta
        for tc in delta.tool_calls or []:
            entry = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
            entry["id"] = tc.id or entry["id"]
            if tc.function and tc.function.name:
                entry["name"] = tc.function.name
            if tc.function and tc.function.arguments:
                entry["arguments"] += tc.function.arguments
        finish = chunk.choices[0].finish_reason or finish
    check("streamed tool call assembled", calls[0]["name"] == "get_weather" and calls[0]["id"], calls)
    check("streamed tool arguments are JSON", "city" in json.loads(calls[0]["arguments"]), calls)
    check("streamed tool finish_reason", finish == "tool_calls", finish)


def image_input():
    r = client.chat.completions.create(
        model=CLAUDE,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "Describe this"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        ]}],
    )
    check("image input", "png" in r.choices[0].message.content.lower(), r.choices[0].message.content)


def errors():
    try:
        client.chat.completions.create(model="acme.unknown-model-v1:0", messages=[{"role": "user", "content": "x"}])
        raise AssertionError("unknown model accepted")
    except openai.NotFoundError as e:
        check("unknown model is NotFoundError", e.status_code == 404 and e.code == "model_not_found", e)
    try:
        client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": "x"}], temperature=1.5)
        raise AssertionError("temperature 1.5 accepted")
    except openai.BadRequestError as e:
        check("out-of-range temperature is BadRequestError", e.param == "temperature", e)
    # More throttles than the gateway's three attempts.
    mock_fault({"error": "ThrottlingException", "status": 429, "message": "slow down", "count": 3})
    try:
        client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": "x"}])
        raise AssertionError("throttling not reported")
    except openai.RateLimitError as e:
        check("throttling is RateLimitError", e.status_code == 429, e)
    mock_fault({"stream_exception": "modelStreamErrorException", "after_events": 3})
    try:
        for _ in client.chat.completions.create(
            model=CLAUDE, messages=[{"role": "user", "content": "a b c d e f"}], stream=True
        ):
            pass
        raise AssertionError("mid-stream error not raised")
    except openai.APIError as e:
        check("mid-stream error raises APIError", "ModelStreamErrorException" in str(e), e)


def embeddings():
    r = client.embeddings.create(model="amazon.titan-embed-text-v2:0", input=["first text", "second text"], dimensions=512)
    check("embeddings (SDK default base64)", [d.index for d in r.data] == [0, 1] and len(r.data[0].embedding) == 512, r)
    floats = client.embeddings.create(model="amazon.titan-embed-text-v2:0", input="first text", dimensions=512, encoding_format="float")
    # JSON carries each f32 in its shortest form, base64 its exact bits: equal as f32.
    as_f32 = lambda xs: [struct.unpack("<f", struct.pack("<f", x))[0] for x in xs]
    check("base64 and float agree", as_f32(floats.data[0].embedding) == as_f32(r.data[0].embedding))
    check("embedding usage", r.usage.prompt_tokens > 0 and r.usage.total_tokens == r.usage.prompt_tokens, r.usage)
    r = client.embeddings.create(model="cohere.embed-english-v3", input=["a", "b", "c"])
    check("cohere embeddings", len(r.data) == 3 and len(r.data[2].embedding) == 1024, len(r.data))


def models():
    ids = [m.id for m in client.models.list()]
    check("models list", "anthropic.claude-3-sonnet-20240229-v1:0" in ids and "amazon.titan-embed-text-v1" in ids, ids)


for test in (text_completion, default_model, streamed_text, tool_calls, streamed_tool_calls, image_input, errors, embeddings, models):
    test()
print("openai sdk: all checks passed")
