"""Claude Code (the real CLI, `claude -p`) against the gateway and the fake Bedrock.

Usage: claude_code_check.py CLAUDE_BIN GATEWAY_URL MOCK_URL HOME_DIR

Claude Code is pointed at the gateway as docs/claude-code.md says: ANTHROPIC_BASE_URL is the
gateway's root, ANTHROPIC_AUTH_TOKEN a gateway key (sent as `Authorization: Bearer`), and
non-essential traffic is off. Its answer must be the fake Bedrock's echo, and what the fake
received must be Anthropic's InvokeModel body for a Claude model: the version Bedrock wants,
Claude Code's betas in the body, no `model` or `stream`.
"""

import json
import os
import shutil
import subprocess
import sys
import urllib.request

claude, gateway, mock, home = sys.argv[1:5]
PROMPT = "Reply with the word pelican."

shutil.rmtree(home, ignore_errors=True)
os.makedirs(home)
env = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": home,
    "ANTHROPIC_BASE_URL": gateway,
    "ANTHROPIC_AUTH_TOKEN": "sk-gateway-claude-code",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
}
urllib.request.urlopen(urllib.request.Request(mock + "/__mock/requests", method="DELETE")).read()

run = subprocess.run(
    [claude, "-p", PROMPT, "--model", "claude-sonnet-4-5-20250929"],
    env=env,
    capture_output=True,
    text=True,
    timeout=180,
    stdin=subprocess.DEVNULL,
)
print("claude exit status:", run.returncode)
print("claude stdout:", run.stdout.strip()[:500])
if run.stderr.strip():
    print("claude stderr:", run.stderr.strip()[:1000])
assert run.returncode == 0, "claude -p failed"
assert "You said:" in run.stdout and "pelican" in run.stdout, run.stdout

with urllib.request.urlopen(mock + "/__mock/requests") as response:
    recorded = json.load(response)
invokes = [r for r in recorded if "/invoke" in r["path"] and "anthropic" in r["path"]]
assert invokes, f"no InvokeModel call for a Claude model among {[r['path'] for r in recorded]}"
for request in invokes:
    body = json.loads(request["body"])
    assert body["anthropic_version"] == "bedrock-2023-05-31", body.get("anthropic_version")
    assert "model" not in body and "stream" not in body, sorted(body)
    assert "claude-code-20250219" in body.get("anthropic_beta", []), body.get("anthropic_beta")
    assert body["messages"], body
assert any(r["path"].endswith("/invoke-with-response-stream") for r in invokes), [
    r["path"] for r in invokes
]
print(f"claude code: ok ({len(invokes)} InvokeModel calls through the gateway)")
