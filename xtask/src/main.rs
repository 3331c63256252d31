//! `cargo xtask <task>`: project automation, in Rust so that it runs wherever cargo does.
//!
//! - `demo [--check]`: the fake Bedrock plus the gateway on 127.0.0.1:3000, with the README's
//!   curl examples to try; `--check` runs every curl example of the README against it and exits.
//! - `integration`: the end-to-end tests (real binaries on loopback), the official OpenAI Python
//!   SDK and botocore against them (in a venv under `target/`, created here), and the README
//!   curl examples.
//! - `ci`: format check, clippy with `-D warnings`, unit and doc tests, then `integration`.
//! - `bench [--json FILE] [--duration SECS] [--concurrency N] [--rate REQ_PER_SEC]`: builds the
//!   gateway, the fake Bedrock and the load generator (`xtask/bench`) in release and runs the
//!   benchmark: floor, bare proxy and gateway, memory of 1,000 streams, scaling. Not part of `ci`.

mod demo;
mod python;
mod util;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args
        .split_first()
        .map_or(("help", &[][..]), |(t, r)| (t.as_str(), r));
    match task {
        "demo" => demo::run(rest.iter().any(|a| a == "--check")),
        "integration" => integration(),
        "ci" => ci(),
        "bench" => bench(rest),
        "help" | "--help" | "-h" => {
            println!(
                "usage: cargo xtask <demo [--check] | integration | ci | bench [--json FILE] [--duration SECS] [--concurrency N] [--rate REQ_PER_SEC]>"
            );
            Ok(())
        }
        other => bail!("unknown task '{other}'; try `cargo xtask help`"),
    }
}

fn integration() -> Result<()> {
    util::build_binaries()?;
    util::cargo(&["test", "-p", "e2e-tests"])?;
    python::run_clients()?;
    demo::run(true)?;
    println!("xtask: integration passed");
    Ok(())
}

fn ci() -> Result<()> {
    util::cargo(&["fmt", "--all", "--", "--check"])?;
    util::cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    util::cargo(&["test", "--workspace", "--exclude", "e2e-tests"])?;
    integration()?;
    println!("xtask: ci passed");
    Ok(())
}

fn bench(options: &[String]) -> Result<()> {
    util::cargo(&[
        "build",
        "--release",
        "-p",
        "bedrock-gateway",
        "-p",
        "bedrock-mock",
        "-p",
        "xtask-bench",
        "--bins",
    ])?;
    let release = util::target_dir().join("release");
    let logs = util::target_dir().join("bench-logs");
    let status = std::process::Command::new(release.join("xtask-bench"))
        .arg("--gateway")
        .arg(release.join("bedrock-gateway"))
        .arg("--mock")
        .arg(release.join("bedrock-mock"))
        .arg("--bare-proxy")
        .arg(release.join("bare-proxy"))
        .arg("--logs")
        .arg(&logs)
        .args(options)
        .status()?;
    if !status.success() {
        bail!("the benchmark failed (service logs in {})", logs.display());
    }
    Ok(())
}
