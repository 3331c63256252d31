"""Structured output with tools, and token-array embeddings, as real clients send them.

Usage: python openai_structured_embeddings_test.py GATEWAY_URL MOCK_URL

- The official OpenAI Python SDK: `response_format` (a pydantic model) together with strict
  tools on a model without native structured output (the agent frameworks' pattern), through
  `chat.completions.parse` and the `chat.completions.stream` helper: a tool call first, then,
  with the tool's result, the JSON answer parsed into the model.
- LangChain's `OpenAIEmbeddings` with its default settings, which tokenises with tiktoken's
  cl100k_base and sends token arrays: offline, from the encoding file vendored in
  fixtures/ (tiktoken would download it), with any HTTPS download made to fail.

Run by `cargo xtask integration` / `ci` in the venv it creates. Every check raises on failure,
so the script exits non-zero; it prints one line per passing check.
"""

import hashlib
import json
import math
import os
import shutil
import sys
import tempfile

# Offline: tiktoken reads its cache first; any download (HTTPS) goes to a closed port. The
# gateway is plain HTTP on loopback, which the proxy setting does not touch.
CACHE = tempfile.mkdtemp(prefix="tiktoken-cache-")
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
shutil.copy(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "cl100k_base.tiktoken"),
    os.path.join(CACHE, hashlib.sha1(CL100K_URL.encode()).hexdigest()),
)
os.environ["TIKTOKEN_CACHE_DIR"] = CACHE
os.environ["HTTPS_PROXY"] = os.environ["https_proxy"] = "http://127.0.0.1:9"
for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(name, None)

import httpx  # noqa: E402
import openai  # noqa: E402
import pydantic  # noqa: E402
from langchain_openai import OpenAIEmbeddings  # noqa: E402

GATEWAY, MOCK = sys.argv[1], sys.argv[2]
NOVA = "amazon.nova-pro-v1:0"
TITAN_V2 = "amazon.titan-embed-text-v2:0"
HEADERS = {"x-provider": "bedrock"}

client = openai.OpenAI(
    base_url=f"{GATEWAY}/v1", api_key="unused-by-the-gateway", default_headers=HEADERS, max_retries=0,
)


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"{name} failed: {detail}")
    print(f"ok - {name}")


class City(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str


class GetWeather(pydantic.BaseModel):
    """Current weather in a city."""

    model_config = pydantic.ConfigDict(extra="forbid")
    city: str


TOOLS = [openai.pydantic_function_tool(GetWeather)]
QUESTION = [{"role": "user", "content": "Which city is warmest?"}]


def with_result(call):
    return QUESTION + [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump(exclude={"function": {"parsed_arguments"}})]},
        {"role": "tool", "tool_call_id": call.id, "content": "Paris: 18C"},
    ]


def structured_output_with_tools():
    r = client.chat.completions.parse(model=NOVA, messages=QUESTION, tools=TOOLS, response_format=City)
    choice = r.choices[0]
    check("json_schema + tools: a tool call first", choice.finish_reason == "tool_calls", r)
    call = choice.message.tool_calls[0]
    check("the tool call parses into its model", isinstance(call.function.parsed_arguments, GetWeather)
          and call.function.parsed_arguments.city == "mock", call)
    check("no content beside the call", choice.message.content is None and choice.message.parsed is None, choice.message)
    r = client.chat.completions.parse(model=NOVA, messages=with_result(call), tools=TOOLS, response_format=City)
    choice = r.choices[0]
    check("json_schema + tools: then the JSON answer", choice.finish_reason == "stop" and not choice.message.tool_calls, r)
    check("the answer parses into the response_format model", choice.message.parsed == City(name="mock"), choice.message)
    return call


def streamed_structured_output_with_tools(call):
    with client.chat.completions.stream(model=NOVA, messages=QUESTION, tools=TOOLS, response_format=City) as stream:
        final = stream.get_final_completion()
    check("streamed: a tool call first", final.choices[0].finish_reason == "tool_calls"
          and final.choices[0].message.tool_calls[0].function.name == "GetWeather", final)
    with client.chat.completions.stream(model=NOVA, messages=with_result(call), tools=TOOLS, response_format=City) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_completion()
    check("streamed: then the JSON answer, as content deltas", "content.delta" in events and "tool_calls.function.arguments.delta" not in events, events)
    check("streamed answer parses", final.choices[0].message.parsed == City(name="mock")
          and final.choices[0].finish_reason == "stop", final)


def tool_choice_none_and_json_object():
    r = client.chat.completions.parse(model=NOVA, messages=QUESTION, tools=TOOLS, response_format=City, tool_choice="none")
    check("tool_choice none: the JSON answer at once", r.choices[0].message.parsed == City(name="mock"), r)
    r = client.chat.completions.create(model=NOVA, messages=QUESTION, tools=TOOLS, response_format={"type": "json_object"})
    check("json_object + tools: a tool call", r.choices[0].message.tool_calls[0].function.name == "GetWeather", r)


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def langchain_token_array_embeddings():
    sent = []

    def record(request):
        if request.url.path.endswith("/embeddings"):
            sent.append(json.loads(request.content))

    embeddings = OpenAIEmbeddings(
        model=TITAN_V2,
        base_url=f"{GATEWAY}/v1",
        api_key="unused-by-the-gateway",
        default_headers=HEADERS,
        max_retries=0,
        http_client=httpx.Client(event_hooks={"request": [record]}),
    )
    texts = ["Hello world", "Token arrays decode to the same text: café, 東京, 🦀."]
    vectors = embeddings.embed_documents(texts)
    check("langchain sent token arrays", sent and all(
        isinstance(item, list) and all(isinstance(t, int) for t in item) for item in sent[0]["input"]), sent[:1])
    check("langchain: one vector per text", len(vectors) == 2 and len(vectors[0]) == 1024, len(vectors))
    direct = client.embeddings.create(model=TITAN_V2, input=texts, encoding_format="float")
    for i, text in enumerate(texts):
        similarity = cosine(vectors[i], direct.data[i].embedding)
        check(f"token array {i} embeds as its text ({similarity:.6f})", similarity > 0.99999, text)
    query = embeddings.embed_query("Hello world")
    check("langchain embed_query", cosine(query, vectors[0]) > 0.99999)


def out_of_vocabulary_token():
    try:
        client.embeddings.create(model=TITAN_V2, input=[[9906], [1917, 100300]])
    except openai.BadRequestError as e:
        check("a token outside cl100k_base: 400 naming it", e.body.get("param") == "input[1][1]", e.body)
    else:
        raise AssertionError("an out-of-vocabulary token was accepted")


call = structured_output_with_tools()
streamed_structured_output_with_tools(call)
tool_choice_none_and_json_object()
langchain_token_array_embeddings()
out_of_vocabulary_token()
print("structured output with tools, token-array embeddings: all checks passed")
