//! Process helpers: run cargo, start the binaries, find the workspace.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::cargo_env::set_by_cargo;
use crate::children::Running;

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The target directory.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// `cargo` (the one that runs the xtask) in the workspace, without the variables of
/// [`set_by_cargo`], so that every build of a CI run shares the same artifacts.
pub(crate) fn cargo_command() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root());
    for (name, _) in std::env::vars_os().filter(|(name, _)| set_by_cargo(name)) {
        command.env_remove(name);
    }
    command
}

/// `scripts/install-redis.sh`: Debian's `redis-server` installed when it is missing (the
/// Redis store's tests start their own on loopback and fail without it).
pub(crate) fn install_redis() -> Result<()> {
    let script = root().join("scripts").join("install-redis.sh");
    let status = Running::status(Command::new("bash").arg(&script))?;
    if !status.success() {
        bail!("{} failed: install redis-server by hand", script.display());
    }
    Ok(())
}

/// Runs `cargo <args>` in the workspace and fails if it fails.
pub(crate) fn cargo(args: &[&str]) -> Result<()> {
    cargo_with_env(args, &[])
}

/// [`cargo`] with extra environment variables.
pub(crate) fn cargo_with_env(args: &[&str], env: &[(&str, &OsStr)]) -> Result<()> {
    println!("xtask: cargo {}", args.join(" "));
    let mut command = cargo_command();
    command.args(args).envs(env.iter().copied());
    let status = Running::status(&mut command).context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed", args.join(" "));
    }
    Ok(())
}

/// Builds the gateway and the fake Bedrock (debug).
pub(crate) fn build_binaries() -> Result<()> {
    cargo(&[
        "build",
        "-p",
        "bedrock-gateway",
        "-p",
        "bedrock-mock",
        "--bins",
    ])
}

/// A service started from one of the workspace binaries; killed on drop.
#[derive(Debug)]
pub(crate) struct Service {
    child: Running,
    /// The URL it printed.
    pub(crate) url: String,
}

impl Service {
    /// Starts one of the workspace binaries and reads the URL from its first line.
    pub(crate) fn start(binary: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let path = target_dir().join("debug").join(binary);
        let child = Running::spawn(
            Command::new(&path)
                .args(args)
                .envs(env.iter().copied())
                .stdout(Stdio::piped())
                .stdin(Stdio::null()),
        )
        .with_context(|| format!("starting {}", path.display()))?;
        let mut line = String::new();
        BufReader::new(child.take_stdout().context("piped stdout")?).read_line(&mut line)?;
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://"))
            .with_context(|| format!("{binary} did not print its address (got {line:?})"))?
            .to_owned();
        Ok(Self { child, url })
    }

    /// Waits until the process exits.
    pub(crate) fn wait(&self) -> Result<()> {
        self.child.wait()?;
        Ok(())
    }
}
