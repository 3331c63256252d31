"""The official OpenAI Python SDK against the gateway: legacy text completions
(`client.completions.create`), `client.models.retrieve`, and the error for a model Bedrock
does not know.

Usage: python openai_completions_test.py GATEWAY_URL MOCK_URL

Run by `cargo xtask ci` in its venv. Every check raises on failure, so the script exits
non-zero; it prints one line per passing check.
"""

import sys

import openai

GATEWAY, MOCK = sys.argv[1], sys.argv[2]
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"

client = openai.OpenAI(
    base_url=f"{GATEWAY}/v1",
    api_key="unused-by-the-gateway",
    max_retries=0,
)


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"{name} failed: {detail}")
    print(f"ok - {name}")


def completion():
    r = client.completions.create(
        model=CLAUDE, prompt="Once upon a time", max_tokens=50, temperature=0.3, top_p=0.9, stop=["\n\n"]
    )
    check("completion object", r.object == "text_completion" and r.id.startswith("cmpl-"), r)
    check("completion text", r.choices[0].text == "You said: Once upon a time", r.choices[0])
    check("completion finish_reason", r.choices[0].finish_reason == "stop", r.choices[0])
    check("completion usage", r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, r.usage)
    check("completion model", r.model == CLAUDE, r.model)
    r = client.completions.create(model=CLAUDE, prompt=["one two three four"], max_tokens=2)
    check("completion cut by max_tokens", r.choices[0].finish_reason == "length", r.choices[0])


def streamed_completion():
    stream = client.completions.create(
        model=CLAUDE, prompt="stream these words", stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    check("streamed chunks are text_completion", all(c.object == "text_completion" for c in chunks), chunks)
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    check("streamed text", text == "You said: stream these words", text)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    check("streamed finish_reason", finishes == ["stop"], finishes)
    check("streamed usage", chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0, chunks[-1])


def completion_errors():
    for kwargs, param in [
        ({"echo": True}, "echo"),
        ({"logprobs": 2}, "logprobs"),
        ({"best_of": 2}, "best_of"),
        ({"suffix": "!"}, "suffix"),
    ]:
        try:
            client.completions.create(model=CLAUDE, prompt="Hi", **kwargs)
            raise AssertionError(f"{param} accepted")
        except openai.BadRequestError as e:
            check(f"completion {param} is BadRequestError", e.param == param, e)
    try:
        client.completions.create(model=CLAUDE, prompt=["a", "b"])
        raise AssertionError("two prompts accepted")
    except openai.BadRequestError as e:
        check("two prompts is BadRequestError", e.param == "prompt", e)


def retrieve_models():
    listed = [m.id for m in client.models.list()]
    for model_id in [CLAUDE, listed[-1]]:
        m = client.models.retrieve(model_id)
        check(f"retrieve {model_id}", m.id == model_id and m.object == "model", m)
    for missing in ["gpt-4o", "us.acme/nope:v1"]:
        try:
            client.models.retrieve(missing)
            raise AssertionError(f"{missing} found")
        except openai.NotFoundError as e:
            check(
                f"retrieve {missing} is NotFoundError",
                e.code == "model_not_found"
                and e.param == "model"
                and e.body["message"] == f"The model '{missing}' does not exist",
                e,
            )


def unknown_model():
    for call in [
        lambda: client.chat.completions.create(model="acme.nope-v1:0", messages=[{"role": "user", "content": "hi"}]),
        lambda: client.completions.create(model="acme.nope-v1:0", prompt="hi"),
    ]:
        try:
            call()
            raise AssertionError("unknown model accepted")
        except openai.NotFoundError as e:
            message = e.body["message"]
            check(
                "unknown model names itself and what to do",
                e.code == "model_not_found"
                and e.param == "model"
                and "'acme.nope-v1:0'" in message
                and "/v1/models" in message
                and "--model-alias" in message,
                e,
            )


completion()
streamed_completion()
completion_errors()
retrieve_models()
unknown_model()
print("all completions, models and model-error checks passed")
