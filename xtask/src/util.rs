//! Process helpers: run cargo, start the binaries, find the workspace.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::children::Running;

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The target directory.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// Whether `name` is one of the variables cargo sets for a program it runs (`cargo run`, a
/// test) or a build script, as opposed to the user's own configuration (`CARGO_HOME`,
/// `CARGO_TARGET_DIR`, `CARGO_BUILD_*`, `CARGO_PROFILE_*`, ...), which is kept.
///
/// They must not reach a nested cargo: build scripts declare some of them with
/// `rerun-if-env-changed` (ring's declares `CARGO_MANIFEST_DIR` and `CARGO_PKG_*`), and cargo
/// compares those with its own environment, so a nested cargo that sees
/// `CARGO_MANIFEST_DIR=…/xtask` reruns ring's build script and rebuilds ring, rustls and the
/// gateway, and so does the next one from a shell or from the e2e tests. The e2e harness
/// (`tests/src/lib.rs`) clears the same list for its own nested cargo.
pub(crate) fn set_by_cargo(name: &OsStr) -> bool {
    const PREFIXES: [&str; 6] = [
        "CARGO_PKG_",
        "CARGO_BIN_",
        "CARGO_CFG_",
        "CARGO_FEATURE_",
        "CARGO_MANIFEST_",
        "__CARGO",
    ];
    const NAMES: [&str; 8] = [
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "CARGO_SBOM_PATH",
        "OUT_DIR",
    ];
    let name = name.to_string_lossy();
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name.as_ref())
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
