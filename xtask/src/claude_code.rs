//! Claude Code itself against the gateway: the `@anthropic-ai/claude-code` npm package, installed
//! here into `target/claude-code`, run non-interactively (`claude -p`) by
//! `tests/claude_code/claude_code_check.py` against a fresh mock and gateway.
//!
//! npm comes from the machine; where it is missing and the xtask runs as root (CI), Debian's
//! `npm` package is installed with apt-get. The package ships a native binary: Node.js is only
//! needed to install it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::children::Running;
use crate::util;

/// The Claude Code release checked: pinned, so that a new release cannot break CI unseen.
const PACKAGE: &str = "@anthropic-ai/claude-code@2.1.332";

/// Installs (once) Claude Code and returns its `claude` binary.
pub(crate) fn install() -> Result<PathBuf> {
    let dir = util::target_dir().join("claude-code");
    let claude = dir.join("node_modules").join(".bin").join("claude");
    let marker = dir.join(".installed");
    if claude.exists() && std::fs::read_to_string(&marker).unwrap_or_default() == PACKAGE {
        return Ok(claude);
    }
    ensure_npm()?;
    std::fs::create_dir_all(&dir)?;
    run(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&dir)
            .arg(PACKAGE),
        &format!("installing {PACKAGE} with npm"),
    )?;
    if !claude.exists() {
        bail!(
            "npm installed {PACKAGE} but {} is missing",
            claude.display()
        );
    }
    std::fs::write(&marker, PACKAGE)?;
    Ok(claude)
}

/// Makes sure `npm` runs: installs Debian's package as root when it is missing.
fn ensure_npm() -> Result<()> {
    if Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(());
    }
    if !is_root() {
        bail!("npm is missing: install Node.js and npm (Debian: `apt-get install npm`)");
    }
    run(
        Command::new("apt-get").arg("update").arg("-qq"),
        "apt-get update (for npm)",
    )?;
    run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", "npm"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        "installing npm with apt-get",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Installs Claude Code and runs its check against a fresh mock and gateway.
pub(crate) fn run_check() -> Result<()> {
    let python = crate::python::venv()?;
    let claude = install()?;
    let (mock, gateway) = crate::demo::start_pair("127.0.0.1:0")?;
    check(&python, &claude, &gateway.url, &mock.url)
}

/// Runs the Claude Code check with `python` against the gateway and the mock.
fn check(python: &Path, claude: &Path, gateway: &str, mock: &str) -> Result<()> {
    let script = util::root().join("tests/claude_code/claude_code_check.py");
    run(
        Command::new(python)
            .arg(script)
            .arg(claude)
            .arg(gateway)
            .arg(mock)
            .arg(util::target_dir().join("claude-code").join("home")),
        "Claude Code against the gateway",
    )
}

fn run(command: &mut Command, what: &str) -> Result<()> {
    println!("xtask: {what}");
    let status = Running::status(command).with_context(|| what.to_owned())?;
    if !status.success() {
        bail!("{what} failed");
    }
    Ok(())
}
