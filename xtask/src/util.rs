//! Process helpers: run cargo, start the binaries, find the workspace.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The target directory.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// Runs `cargo <args>` in the workspace and fails if it fails.
pub(crate) fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    println!("xtask: cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .current_dir(root())
        .args(args)
        .status()
        .context("running cargo")?;
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

/// A child process killed on drop.
#[derive(Debug)]
pub(crate) struct Service {
    child: Child,
    /// The URL it printed.
    pub(crate) url: String,
}

impl Service {
    /// Starts one of the workspace binaries and reads the URL from its first line.
    pub(crate) fn start(binary: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let path = target_dir().join("debug").join(binary);
        let mut child = Command::new(&path)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", path.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
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
    pub(crate) fn wait(&mut self) -> Result<()> {
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
