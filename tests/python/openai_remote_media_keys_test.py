"""The official OpenAI Python SDK: remote media fetched by the gateway (opt-in, #12 item 8) and
short AWS access key ids in request headers (#12 item 9).

Usage: python openai_remote_media_keys_test.py GATEWAY_URL MOCK_URL

`cargo xtask ci` starts the gateway for the client scripts with `--fetch-remote-media`, plain
http allowed and 127.0.0.1/32 on the allow-list, so that media served here on loopback may be
fetched (nothing leaves the machine). Every check raises on failure.
"""

import base64
import http.server
import json
import sys
import threading
import urllib.request

import openai

GATEWAY, MOCK = sys.argv[1], sys.argv[2]
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
# 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"{name} failed: {detail}")
    print(f"ok - {name}")


def mock_requests():
    with urllib.request.urlopen(f"{MOCK}/__mock/requests") as r:
        return json.loads(r.read())


class Media(http.server.BaseHTTPRequestHandler):
    served = 0

    def do_GET(self):
        Media.served += 1
        if self.path == "/cat.png":
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.send_header("content-length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args):
        pass


def remote_media():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Media)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    client = openai.OpenAI(base_url=f"{GATEWAY}/v1", api_key="unused", max_retries=0)
    r = client.chat.completions.create(
        model=CLAUDE,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": f"{base}/cat.png"}},
        ]}],
    )
    check("a remote image is answered", r.choices[0].finish_reason == "stop", r)
    sent = json.loads(mock_requests()[-1]["body"])["messages"][0]["content"][1]["image"]
    check(
        "the image reached Bedrock inline",
        sent["format"] == "png" and base64.b64decode(sent["source"]["bytes"]) == PNG,
        sent,
    )
    check("the media server was asked once", Media.served == 1, Media.served)
    try:
        client.chat.completions.create(
            model=CLAUDE,
            messages=[{"role": "user", "content": [
                {"type": "text", "text": "And this one?"},
                {"type": "image_url", "image_url": {"url": f"{base}/missing.png"}},
            ]}],
        )
        raise AssertionError("a missing remote image was accepted")
    except openai.BadRequestError as err:
        check("a missing remote image is a BadRequestError naming the part", "image_url" in str(err.body), err.body)
    try:
        client.chat.completions.create(
            model=CLAUDE,
            messages=[{"role": "user", "content": [
                {"type": "text", "text": "And this?"},
                {"type": "image_url", "image_url": {"url": "http://169.254.169.254/latest/meta-data"}},
            ]}],
        )
        raise AssertionError("the metadata address was fetched")
    except openai.BadRequestError as err:
        check("the metadata address is refused before connecting", "nothing was sent" in str(err.body), err.body)
    server.shutdown()


def short_access_key():
    client = openai.OpenAI(
        base_url=f"{GATEWAY}/v1",
        api_key="unused",
        max_retries=0,
        default_headers={"x-aws-access-key-id": "test", "x-aws-secret-access-key": "test"},
    )
    try:
        client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("the mock does not know the key 'test'")
    except openai.APIStatusError as err:
        # The gateway accepted the short id and signed with it: the refusal is Bedrock's.
        message = (err.body or {}).get("message", "")
        check("a short access key id reaches Bedrock, which refuses the unknown key", "UnrecognizedClientException" in message, err.body)
    sent = mock_requests()[-1]
    check("the request was signed with the short key id", (sent.get("credential_scope") or {}).get("access_key") == "test", sent.get("credential_scope"))


remote_media()
short_access_key()
