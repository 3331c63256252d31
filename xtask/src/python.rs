//! Third-party clients: the official OpenAI Python SDK against the gateway, and botocore (AWS's
//! own Python SDK) against the fake Bedrock, in a venv under `target/` that this module creates.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::children::Running;
use crate::demo::start_pair_with;
use crate::util;

/// The variable naming the Python the tests' botocore checks run with (they fail without one).
pub(crate) const PYTHON_VAR: &str = "BEDROCK_TEST_PYTHON";

/// What the venv gets; lower bounds only, so that a fresh machine takes current releases.
/// `langchain-openai` for its `OpenAIEmbeddings`, which sends token arrays by default;
/// `openai-agents` (the OpenAI Agents SDK) for the Responses API as agents use it; `anthropic`
/// (the Anthropic SDK) for the Messages API.
const REQUIREMENTS: &[&str] = &[
    "openai>=1.40",
    "botocore>=1.34",
    "langchain-openai>=0.3",
    "openai-agents>=0.24",
    "anthropic>=0.40",
];

/// The model the OpenAI Agents SDK sends when an agent names none (`openai-agents` 0.24:
/// `agents.models.default_models.get_default_model()`), and the Bedrock model the client
/// scripts' gateway maps it to: Claude 3 Haiku, which the fake Bedrock knows and which takes
/// structured output through the `json_output` tool beside the agent's own tools.
const AGENTS_DEFAULT_MODEL_ALIAS: &str = "gpt-5.6-luna=anthropic.claude-3-haiku-20240307-v1:0";

/// Creates (once) the venv and returns its python. `ci` creates it before the tests, whose
/// botocore checks run with it ([`PYTHON_VAR`]).
pub(crate) fn venv() -> Result<PathBuf> {
    let dir = util::target_dir().join("xtask-venv");
    let python = dir.join("bin").join("python");
    let marker = dir.join(".installed");
    if !python.exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&dir),
            "creating the Python venv",
        )?;
    }
    // A venv made for another list of requirements installs the current one.
    let installed = std::fs::read_to_string(&marker).unwrap_or_default();
    if installed != REQUIREMENTS.join("\n") {
        run(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(REQUIREMENTS),
            "installing the OpenAI SDK, botocore, langchain-openai and the OpenAI Agents SDK",
        )?;
        std::fs::write(&marker, REQUIREMENTS.join("\n"))?;
    }
    Ok(python)
}

/// The client scripts in `dir`, in name order; none is an error (a CI that runs no client
/// check must not pass).
fn client_scripts(dir: &std::path::Path) -> Result<Vec<PathBuf>> {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.to_string_lossy().ends_with("_test.py"))
        .collect();
    scripts.sort();
    if scripts.is_empty() {
        bail!("no client scripts (*_test.py) in {}", dir.display());
    }
    Ok(scripts)
}

fn run(command: &mut Command, what: &str) -> Result<()> {
    println!("xtask: {what}");
    let status = Running::status(command).with_context(|| what.to_owned())?;
    if !status.success() {
        bail!("{what} failed");
    }
    Ok(())
}

/// Runs every client script `tests/python/*_test.py` (each takes `GATEWAY_URL MOCK_URL`) and
/// the botocore check against a fresh mock and gateway.
pub(crate) fn run_clients() -> Result<()> {
    let python = venv()?;
    // Remote media may be fetched from loopback only: the scripts serve it themselves.
    let (mock, gateway) = start_pair_with(
        "127.0.0.1:0",
        &[
            "--fetch-remote-media",
            "--fetch-remote-media-allow-http",
            "--fetch-remote-media-allow-cidr",
            "127.0.0.1/32",
            "--model-alias",
            AGENTS_DEFAULT_MODEL_ALIAS,
        ],
    )?;
    let root = util::root();
    for script in client_scripts(&root.join("tests/python"))? {
        let name = script
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        run(
            Command::new(&python)
                .arg(&script)
                .arg(&gateway.url)
                .arg(&mock.url),
            &format!("{name} against the gateway"),
        )?;
    }
    run(
        Command::new(&python)
            .arg(root.join("crates/bedrock-mock/tests/botocore_check.py"))
            .arg(&mock.url),
        "botocore against the fake Bedrock",
    )?;
    Ok(())
}
