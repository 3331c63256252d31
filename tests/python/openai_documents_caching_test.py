"""Documents, guardrails and prompt caching through the official OpenAI Python SDK.

Usage: python openai_documents_caching_test.py GATEWAY_URL MOCK_URL

Run by `cargo xtask ci` in its venv, against the gateway in front of the fake Bedrock. Every
check raises on failure, so the script exits non-zero; it prints one line per passing check.
"""

import base64
import json
import sys
import urllib.request

import openai

GATEWAY, MOCK = sys.argv[1], sys.argv[2]
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
PDF = b"%PDF-1.4 a tiny mock document"

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


def last_converse_body():
    with urllib.request.urlopen(f"{MOCK}/__mock/requests") as r:
        requests = json.loads(r.read())
    return json.loads(requests[-1]["body"])


def file_part(data, media_type, filename):
    encoded = base64.b64encode(data).decode()
    return {"type": "file", "file": {"file_data": f"data:{media_type};base64,{encoded}", "filename": filename}}


def documents():
    r = client.chat.completions.create(
        model=CLAUDE,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "Summarise"},
            file_part(PDF, "application/pdf", "Q3 report_final.pdf"),
        ]}],
    )
    content = r.choices[0].message.content
    check("pdf file part answered", f"[document pdf 'Q3 report-final' {len(PDF)} bytes]" in content, content)
    sent = last_converse_body()["messages"][0]["content"][1]["document"]
    check("pdf sent as a document block", sent["format"] == "pdf" and base64.b64decode(sent["source"]["bytes"]) == PDF, sent)
    six = [{"type": "text", "text": "Read"}] + [file_part(PDF, "application/pdf", "a.pdf")] * 6
    try:
        client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": six}])
        raise AssertionError("six documents accepted")
    except openai.BadRequestError as e:
        check("six documents is BadRequestError", e.param == "messages[0].content[6]" and "at most 5 documents" in e.message, e)
    try:
        client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": [
            {"type": "text", "text": "Read"}, file_part(PDF, "application/pdf", "notes.docx")]}])
        raise AssertionError("mismatched type and extension accepted")
    except openai.BadRequestError as e:
        check("type/extension mismatch is BadRequestError", e.param == "messages[0].content[1].file.filename", e)


def guardrails():
    guarded = client.with_options(default_headers={"x-provider": "bedrock", "x-bedrock-guardrail": "sdk1:DRAFT"})
    r = guarded.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": "Hello"}])
    sent = last_converse_body().get("guardrailConfig")
    check("x-bedrock-guardrail sends guardrailConfig",
          sent == {"guardrailIdentifier": "sdk1", "guardrailVersion": "DRAFT", "trace": "disabled"}, sent)
    check("no intervention: stop", r.choices[0].finish_reason == "stop", r)
    r = guarded.chat.completions.create(
        model=CLAUDE, messages=[{"role": "user", "content": "Hello [mock:guardrail_intervened]"}])
    check("intervention is content_filter", r.choices[0].finish_reason == "content_filter", r)
    finishes = [c.choices[0].finish_reason for c in guarded.chat.completions.create(
        model=CLAUDE, messages=[{"role": "user", "content": "Hello [mock:guardrail_intervened]"}], stream=True)
        if c.choices and c.choices[0].finish_reason]
    check("streamed intervention is content_filter", finishes == ["content_filter"], finishes)
    check("streams send streamProcessingMode", last_converse_body()["guardrailConfig"].get("streamProcessingMode") == "sync")
    try:
        client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": "x"}],
                                       extra_headers={"x-bedrock-guardrail": "Not Valid:1"})
        raise AssertionError("invalid guardrail accepted")
    except openai.BadRequestError as e:
        check("invalid x-bedrock-guardrail is BadRequestError", e.param == "x-bedrock-guardrail", e)


def prompt_caching():
    sonnet = "anthropic.claude-3-7-sonnet-20250219-v1:0"
    messages = [
        {"role": "system", "content": [{"type": "text", "text": "Long shared instructions.", "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": "Hello"},
    ]
    r = client.chat.completions.create(model=sonnet, messages=messages)
    sent = last_converse_body()["system"]
    check("cache_control becomes a cachePoint", sent[1] == {"cachePoint": {"type": "default"}}, sent)
    details = r.usage.prompt_tokens_details
    check("cache writes in prompt_tokens_details.cache_write_tokens",
          details.cached_tokens == 0 and details.cache_write_tokens == 3, r.usage)
    messages[1]["content"] = "Hello [mock:cache_read]"
    r = client.chat.completions.create(model=sonnet, messages=messages)
    check("cache reads in prompt_tokens_details.cached_tokens", r.usage.prompt_tokens_details.cached_tokens == 3, r.usage)
    r = client.chat.completions.create(model=CLAUDE, messages=messages)
    check("markers dropped for models without caching", "cachePoint" not in json.dumps(last_converse_body()), r)


TESTS = [documents, guardrails, prompt_caching]

for test in TESTS:
    test()
print("openai documents, guardrails and caching: all checks passed")
