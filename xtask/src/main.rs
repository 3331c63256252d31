//! `cargo xtask <task>`: project automation, in Rust so that it runs wherever cargo does.
//!
//! - `demo [--check] [--listen ADDR]`: the fake Bedrock plus the gateway on 127.0.0.1:3000 (or
//!   `ADDR`), with the README's curl examples to try; `--check` starts them on free ports, runs
//!   every curl example of the README against them and exits.
//! - `integration`: the end-to-end tests (real binaries on loopback), the official OpenAI Python
//!   SDK and botocore against them (in a venv under `target/`, created here), Claude Code
//!   (`claude -p`, the npm package installed under `target/`), and the README curl examples
//!   (`demo --check`).
//! - `ci`: format check, clippy with `-D warnings`, the binaries, the Python venv, `redis-server`
//!   (`scripts/install-redis.sh`, when missing), every test of
//!   the workspace (unit, doc and end-to-end, in one cargo run; the botocore checks with the
//!   venv's Python), then the Python clients and `demo --check`.
//! - `bench [--json FILE] [--duration SECS] [--concurrency N] [--rate REQ_PER_SEC] [--only PARTS]`:
//!   builds the gateway, the fake Bedrock, the load generator and the bare proxy (`xtask/bench`)
//!   in release and runs the benchmark: floor, bare proxy and gateway, memory of 1,000 streams,
//!   scaling. Not part of `ci`.
//!
//! Every task uses free ports except plain `demo`, so `ci` passes while a demo runs. On SIGTERM,
//! SIGINT or SIGHUP the xtask stops the processes it started ([`children`]). Nested cargo runs
//! without the variables cargo set for the xtask ([`cargo_env::set_by_cargo`]), so one build serves
//! every step.

mod cargo_env;
mod children;
mod claude_code;
mod demo;
mod python;
mod util;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    children::stop_on_signals()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args
        .split_first()
        .map_or(("help", &[][..]), |(t, r)| (t.as_str(), r));
    match task {
        "demo" => demo::run(&demo::Options::parse(rest)?),
        "integration" => integration(),
        "ci" => ci(),
        "bench" => bench(rest),
        "help" | "--help" | "-h" => {
            println!(
                "usage: cargo xtask <demo [--check] [--listen ADDR] | integration | ci | bench [--json FILE] [--duration SECS] [--concurrency N] [--rate REQ_PER_SEC] [--only PARTS]>"
            );
            Ok(())
        }
        other => bail!("unknown task '{other}'; try `cargo xtask help`"),
    }
}

fn integration() -> Result<()> {
    util::build_binaries()?;
    util::install_redis()?;
    util::cargo(&["test", "-p", "e2e-tests"])?;
    clients()?;
    println!("xtask: integration passed");
    Ok(())
}

/// The Python clients against the binaries, Claude Code itself, then the README's curl
/// examples.
fn clients() -> Result<()> {
    python::run_clients()?;
    claude_code::run_check()?;
    demo::run(&demo::Options::check())
}

/// `integration` folded in: the end-to-end tests run with the others, in one `cargo test` whose
/// dependencies have the same features as the unit tests' (a separate `cargo test -p e2e-tests`
/// resolves tokio, hyper, serde and their dependents with other features and builds them again).
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
    // The fuzz targets are their own workspace: checked here so that they cannot rot.
    util::cargo(&["check", "--manifest-path", "fuzz/Cargo.toml", "--locked"])?;
    util::build_binaries()?;
    // The botocore checks among the tests fail without botocore: they get the venv's Python.
    let python = python::venv()?;
    // The Redis store's tests start their own redis-server.
    util::install_redis()?;
    util::cargo_with_env(
        &["test", "--workspace"],
        &[(python::PYTHON_VAR, python.as_os_str())],
    )?;
    clients()?;
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
    let status = children::Running::status(
        std::process::Command::new(release.join("xtask-bench"))
            .arg("--gateway")
            .arg(release.join("bedrock-gateway"))
            .arg("--mock")
            .arg(release.join("bedrock-mock"))
            .arg("--bare-proxy")
            .arg(release.join("bare-proxy"))
            .arg("--logs")
            .arg(&logs)
            .args(options),
    )?;
    if !status.success() {
        bail!("the benchmark failed (service logs in {})", logs.display());
    }
    Ok(())
}
