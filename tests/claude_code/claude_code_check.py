"""Claude Code (the real CLI, `claude -p`) against the gateway and the fake Bedrock.

Usage: claude_code_check.py CLAUDE_BIN GATEWAY_URL MOCK_URL HOME_DIR

Claude Code is pointed at the gateway as docs/claude-code.md says: ANTHROPIC_BASE_URL is the
gateway's root, ANTHROPIC_AUTH_TOKEN a gateway key (sent as `Authorization: Bearer`), and
non-essential traffic is off. Twice: without tools, its answer must be the fake Bedrock's echo
of the prompt; with the Read tool, the fake calls it and Claude Code must run it and send the
result back (with the signed thinking block before it). What the fake received must be
Anthropic's InvokeModel stream body for the Claude model's inference profile: the version
Bedrock wants, no `model` or `stream`.
"""

import json
import os
import shutil
import subprocess
import sys
import urllib.request

claude_path, gateway, mock, home = sys.argv[1:5]
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


def claude(tools):
    """`claude -p PROMPT` with only the built-in `tools` ("" for none); its answer."""
    run = subprocess.run(
        [claude_bin, "-p", PROMPT, "--model", "claude-sonnet-4-5-20250929", "--tools", tools],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        # An empty working directory: nothing of the repository in Claude Code's context.
        cwd=home,
    )
    print(f"claude --tools {tools!r}: exit status {run.returncode}; stdout: {run.stdout.strip()[:300]}")
    if run.stderr.strip():
        print("  stderr:", run.stderr.strip()[:1000])
    assert run.returncode == 0, "claude -p failed"
    return run.stdout


def recorded():
    """The Claude InvokeModel calls the fake Bedrock received since the last clear, decoded."""
    with urllib.request.urlopen(mock + "/__mock/requests") as response:
        calls = json.load(response)
    urllib.request.urlopen(urllib.request.Request(mock + "/__mock/requests", method="DELETE")).read()
    invokes = [r for r in calls if "/invoke" in r["path"] and "anthropic" in r["path"]]
    assert invokes, f"no InvokeModel call for a Claude model among {[r['path'] for r in calls]}"
    for request in invokes:
        # The profile of the region (us-east-1), as the model table says.
        assert "/model/us.anthropic.claude-sonnet-4-5-20250929-v1" in request["path"], request["path"]
        assert request["path"].endswith("/invoke-with-response-stream"), request["path"]
        body = json.loads(request["body"])
        assert body["anthropic_version"] == "bedrock-2023-05-31", body.get("anthropic_version")
        assert "model" not in body and "stream" not in body, sorted(body)
        assert "anthropic_beta" not in body or all(
            isinstance(beta, str) for beta in body["anthropic_beta"]
        ), body["anthropic_beta"]
        request["body"] = body
    return invokes


claude_bin = claude_path
urllib.request.urlopen(urllib.request.Request(mock + "/__mock/requests", method="DELETE")).read()

# No tools: the fake Bedrock echoes the prompt (after Claude Code's own reminders).
answer = claude("")
assert "You said:" in answer and "pelican" in answer, answer
calls = recorded()
assert all(not call["body"].get("tools") for call in calls), "tools were sent"

# One tool: the fake Bedrock thinks (a signed block), calls Read; Claude Code runs it and sends
# the result back with the thinking block, whose signature the fake checks (a changed one is a
# 400, and Claude Code would fail).
answer = claude("Read")
assert "Tool results:" in answer, answer
calls = recorded()
assert len(calls) >= 2, [call["path"] for call in calls]
first, last = calls[0]["body"], calls[-1]["body"]
assert [tool["name"] for tool in first["tools"]] == ["Read"], first["tools"]
assistant, user = last["messages"][-2], last["messages"][-1]
kinds = [block["type"] for block in assistant["content"]]
assert assistant["role"] == "assistant" and "tool_use" in kinds, kinds
if "thinking" in kinds:
    thinking = assistant["content"][kinds.index("thinking")]
    assert thinking["signature"], thinking
tool_use = assistant["content"][kinds.index("tool_use")]
results = [block for block in user["content"] if block.get("type") == "tool_result"]
assert results and results[0]["tool_use_id"] == tool_use["id"], user["content"]
print(f"claude code: ok (a text answer, then a Read tool round trip over {len(calls)} calls)")
