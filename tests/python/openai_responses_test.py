"""The Responses API (`/v1/responses`) through the official OpenAI Python SDK and the OpenAI
Agents SDK, against the gateway (which fronts the fake Bedrock).

Usage: python openai_responses_test.py GATEWAY_URL MOCK_URL

Run by `cargo xtask integration` in a venv it creates; the gateway it starts maps the Agents
SDK's default model (`gpt-5.6-luna` in openai-agents 0.24) to Claude 3 Haiku with
`--model-alias`. The requests say `store=False` except those of `stored_conversation`, which
keeps responses in the gateway's (memory) store, reads them back and continues them. Every check
raises on failure, so the script exits non-zero; it prints one line per passing check.
"""

import asyncio
import base64
import json
import sys
import urllib.request

import openai
import pydantic

GATEWAY, MOCK = sys.argv[1], sys.argv[2]
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
# Native structured output and extended thinking.
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}

client = openai.OpenAI(base_url=f"{GATEWAY}/v1", api_key="unused-by-the-gateway", max_retries=0)


class Echo(pydantic.BaseModel):
    """What the fake Bedrock answers to a JSON schema: the user's words, or "mock"."""

    echo: str


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"{name} failed: {detail}")
    print(f"ok - {name}")


def last_sent():
    """The Converse body the fake Bedrock received last."""
    with urllib.request.urlopen(f"{MOCK}/__mock/requests") as answer:
        requests = json.load(answer)
    return json.loads(requests[-1]["body"])


def shape(response):
    """A response without what differs between two answers of the same content (ids, time) and
    without what the stream accumulator adds (its parsed copies of text and arguments)."""

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("id", "created_at", "parsed", "parsed_arguments")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(response.model_dump())


def text():
    r = client.responses.create(model=HAIKU, instructions="Be brief.", input="Hello responses", store=False)
    check("responses.create text", r.output_text == "You said: Hello responses", r)
    check("response status and ids", r.status == "completed" and r.id.startswith("resp_") and r.output[0].id.startswith("msg_"), r)
    check("response usage", r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
          and r.usage.input_tokens_details.cached_tokens == 0, r.usage)
    check("instructions echoed", r.instructions == "Be brief.", r.instructions)


def function_tool_round_trip():
    history = [{"role": "user", "content": "Weather in Paris?"}]
    r = client.responses.create(model=HAIKU, input=history, tools=[WEATHER_TOOL], tool_choice="required", store=False)
    calls = [item for item in r.output if item.type == "function_call"]
    check("function_call output item", len(calls) == 1 and calls[0].name == "get_weather", r.output)
    check("function_call arguments are JSON", json.loads(calls[0].arguments) == {"city": "mock"}, calls[0].arguments)
    history += r.output
    history.append({"type": "function_call_output", "call_id": calls[0].call_id, "output": "18C and sunny"})
    r = client.responses.create(model=HAIKU, input=history, tools=[WEATHER_TOOL], store=False)
    check("function_call_output answered", "18C and sunny" in r.output_text, r.output_text)


def parse():
    for model in (SONNET, HAIKU):
        r = client.responses.parse(model=model, input="parse me", text_format=Echo, store=False)
        check(f"responses.parse with a Pydantic model ({model})", isinstance(r.output_parsed, Echo), r)
    check("native structured output echoes", client.responses.parse(
        model=SONNET, input="parse me", text_format=Echo, store=False).output_parsed.echo == "parse me")


def reasoning_round_trip():
    history = [{"role": "user", "content": "Weather in Paris?"}]
    r = client.responses.create(model=SONNET, input=history, tools=[WEATHER_TOOL], reasoning={"effort": "low"},
                                include=["reasoning.encrypted_content"], store=False)
    reasoning = [item for item in r.output if item.type == "reasoning"]
    check("reasoning item with encrypted_content", len(reasoning) == 1 and reasoning[0].encrypted_content
          and reasoning[0].summary[0].text.startswith("Thinking about"), r.output)
    call = next(item for item in r.output if item.type == "function_call")
    history += r.output
    history.append({"type": "function_call_output", "call_id": call.call_id, "output": "18C"})
    r = client.responses.create(model=SONNET, input=history, tools=[WEATHER_TOOL], reasoning={"effort": "low"},
                                include=["reasoning.encrypted_content"], store=False)
    check("reasoning round trip answered", r.status == "completed", r)
    assistant = last_sent()["messages"][1]["content"]
    signed = assistant[0].get("reasoningContent", {}).get("reasoningText", {})
    check("reasoning sent back signed before the tool use", signed.get("signature") == reasoning[0].encrypted_content
          and any("toolUse" in block for block in assistant), assistant)


def streamed_text():
    whole = client.responses.create(model=HAIKU, input="Stream me", store=False)
    with client.responses.stream(model=HAIKU, input="Stream me", store=False) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    check("responses.stream text deltas", "".join(deltas) == "You said: Stream me", deltas)
    check("streamed final response equals the whole one", shape(final) == shape(whole), (shape(final), shape(whole)))


def streamed_tool_call():
    args = dict(model=HAIKU, input="Weather in Paris?", tools=[WEATHER_TOOL], tool_choice="required", store=False)
    whole = client.responses.create(**args)
    with client.responses.stream(**args) as stream:
        done = [e for e in stream if e.type == "response.function_call_arguments.done"]
        final = stream.get_final_response()
    check("responses.stream tool call arguments", len(done) == 1 and json.loads(done[0].arguments) == {"city": "mock"}, done)
    check("streamed tool call parsed", final.output[0].parsed_arguments == {"city": "mock"}, final.output)
    check("streamed tool-call response equals the whole one", shape(final) == shape(whole), (shape(final), shape(whole)))


def incomplete():
    args = dict(model=HAIKU, input="one two three four five six", max_output_tokens=3, store=False)
    whole = client.responses.create(**args)
    check("cut-short response incomplete with an incomplete message", whole.status == "incomplete"
          and whole.incomplete_details.reason == "max_output_tokens" and whole.output[0].status == "incomplete", whole)
    with client.responses.stream(**args) as stream:
        events = list(stream)
    done = [e.item for e in events if e.type == "response.output_item.done"]
    check("streamed cut-short item done incomplete", [item.status for item in done] == ["incomplete"], done)
    check("streamed cut-short response ends incomplete", events[-1].type == "response.incomplete"
          and events[-1].response.output[0].status == "incomplete", events[-1])


def error_params():
    cases = [
        ([{"role": "user", "content": "x"}, {"role": "user", "content": [{"type": "input_image", "image_url": "data:image/tiff;base64,AAAA"}]}],
         "input[1].content[0].image_url"),
        ([{"role": "user", "content": [{"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjQK"}]}],
         "input"),
    ]
    for items, param in cases:
        try:
            client.responses.create(model=HAIKU, instructions="Be brief.", input=items, store=False)
            raise AssertionError(f"no error for {items}")
        except openai.BadRequestError as err:
            check(f"error param {param}", err.param == param, err.body)


def agents_sdk():
    from agents import Agent, Runner, function_tool, set_default_openai_api, set_default_openai_client, set_tracing_disabled
    from agents.models.default_models import get_default_model

    set_tracing_disabled(True)
    set_default_openai_client(openai.AsyncOpenAI(base_url=f"{GATEWAY}/v1", api_key="unused-by-the-gateway", max_retries=0),
                              use_for_tracing=False)
    set_default_openai_api("responses")
    called = []

    @function_tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        called.append(city)
        return f"18C in {city}"

    agent = Agent(name="weather", instructions="Answer with the weather.", tools=[get_weather], output_type=Echo)
    result = asyncio.run(Runner.run(agent, "Weather in Paris?"))
    check(f"agents SDK default model ({get_default_model()}) calls the function tool", called == ["mock"], called)
    check("agents SDK typed final output", isinstance(result.final_output, Echo), result.final_output)


def input_tokens():
    request = dict(model=HAIKU, instructions="Be brief.", input="How many tokens is this?", tools=[WEATHER_TOOL])
    created = client.responses.create(store=False, **request)
    counted = client.responses.input_tokens.count(**request)
    check("responses.input_tokens.count equals the input tokens of the response",
          counted.object == "response.input_tokens" and counted.input_tokens == created.usage.input_tokens,
          (counted, created.usage))
    sent = last_sent()
    check("input_tokens.count goes to Bedrock's CountTokens with the Converse input",
          set(sent["input"]["converse"]) == {"messages", "system", "toolConfig"}, sent)


def citations():
    atlas = base64.b64encode(b"Paris is in France.").decode()
    content = [{"type": "input_text", "text": "Where is Paris? [mock:web_citation]"},
               {"type": "input_file", "filename": "atlas.txt", "file_data": f"data:text/plain;base64,{atlas}",
                "citations": {"enabled": True}}]
    request = dict(model=HAIKU, input=[{"role": "user", "content": content}], store=False)
    response = client.responses.create(**request)
    annotations = response.output[0].content[0].annotations
    check("a cited file's citations are file_citation and url_citation annotations",
          [a.type for a in annotations] == ["file_citation", "url_citation"]
          and annotations[0].filename == "atlas" and annotations[1].url == "https://example.com/mock", annotations)
    with client.responses.stream(**request) as stream:
        added = [e.annotation for e in stream if e.type == "response.output_text.annotation.added"]
        final = stream.get_final_response()
    check("streamed citations are annotation.added events, and in the final response",
          len(added) == 2 and final.output[0].content[0].annotations == annotations, (added, final))


def stored_conversation():
    first = client.responses.create(model=HAIKU, input="Remember me")
    check("responses.retrieve of a stored response", client.responses.retrieve(first.id).id == first.id)
    question = [{"role": "user", "content": "And now?"}, {"role": "user", "content": "Still there?"}]
    second = client.responses.create(model=HAIKU, input=question, previous_response_id=first.id)
    sent = last_sent()["messages"]
    check("previous_response_id continues the stored conversation",
          [m["role"] for m in sent][:2] == ["user", "assistant"] and "Remember me" in json.dumps(sent[0])
          and "Still there?" in json.dumps(sent[-1]), sent)
    third = client.responses.create(model=HAIKU, input="Third turn", previous_response_id=second.id)
    sent = last_sent()["messages"]
    check("a three-turn previous_response_id chain sends every turn, in order",
          [m["role"] for m in sent] == ["user", "assistant", "user", "assistant", "user"]
          and "Remember me" in json.dumps(sent[0]) and "Still there?" in json.dumps(sent[2])
          and "Third turn" in json.dumps(sent[4]), sent)
    check("the chain's answers are the stored outputs", second.output_text in json.dumps(sent[3]), sent)
    check("the third response names its predecessor", third.previous_response_id == second.id, third)
    items = list(client.responses.input_items.list(second.id, limit=1, order="asc"))
    check("input_items pages one by one with after", len(items) == 2 and items[0].id != items[1].id
          and "And now?" in json.dumps(items[0].model_dump(warnings=False)), items)
    with client.responses.stream(model=HAIKU, input="Stream and keep") as stream:
        streamed = stream.get_final_response()
    check("a streamed response is readable once its stream ended", client.responses.retrieve(streamed.id).id == streamed.id)
    counted = client.responses.input_tokens.count(model=HAIKU, input="Third turn", previous_response_id=second.id)
    check("input_tokens.count with previous_response_id counts the whole conversation, as create's usage",
          counted.object == "response.input_tokens" and counted.input_tokens == third.usage.input_tokens,
          (counted, third.usage))
    client.responses.delete(first.id)
    try:
        client.responses.retrieve(first.id)
        raise AssertionError("a deleted response was still found")
    except openai.NotFoundError:
        print("ok - responses.delete, then retrieve is a 404")


for test in (text, function_tool_round_trip, parse, reasoning_round_trip, streamed_text, streamed_tool_call, incomplete,
             error_params, input_tokens, citations, stored_conversation, agents_sdk):
    test()
print("openai responses: all checks passed")
