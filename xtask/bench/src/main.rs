//! `xtask-bench`: the benchmark behind `cargo xtask bench`.
//!
//! Starts the release `bedrock-mock` (no signature check, no recording, fixed answers, 64-event
//! streams), the release gateway in front of it and the bare pass-through proxy
//! (`src/bin/bare-proxy.rs`) in front of it too, then drives them with its own load generator
//! ([`load`]): each scenario straight at the mock with the equivalent Bedrock request (the
//! floor), through the bare proxy with that same request, and through the gateway with the
//! OpenAI request, at full speed (closed loop) and at a fixed rate well below saturation (for
//! latency). It prints one table, the ratios and targets of the performance issue, the memory
//! of 1,000 simultaneous streams and how cost scales with message size and stream length, all
//! from one run; `--json FILE` writes the same.
//!
//! Usage: `xtask-bench --gateway BIN --mock BIN [--bare-proxy BIN] --logs DIR [--json FILE]
//! [--duration SECS] [--concurrency N] [--rate REQ_PER_SEC]
//! [--only chat,stream,embeddings,responses,messages,streams,scaling]`; `cargo xtask bench` builds and passes the
//! paths. `--bare-proxy` defaults to `bare-proxy` beside this program. SIGINT, SIGTERM and
//! SIGHUP stop the services it started.

mod load;
mod procs;
mod report;
mod scenarios;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Command-line options.
#[derive(Debug)]
pub(crate) struct Options {
    /// The gateway binary.
    pub(crate) gateway: PathBuf,
    /// The mock binary.
    pub(crate) mock: PathBuf,
    /// The bare pass-through proxy binary.
    pub(crate) bare_proxy: PathBuf,
    /// Where the services' logs go.
    pub(crate) logs: PathBuf,
    /// Where to write the JSON report, if anywhere.
    pub(crate) json: Option<PathBuf>,
    /// Recorded time of each full-speed and fixed-rate run.
    pub(crate) duration: Duration,
    /// Connections of the full-speed and fixed-rate runs.
    pub(crate) concurrency: usize,
    /// Requests per second of the fixed-rate runs.
    pub(crate) rate: f64,
    /// Parts to run (`chat`, `stream`, `embeddings`, `responses`, `messages`, `streams`,
    /// `scaling`); empty: all.
    pub(crate) only: Vec<String>,
}

impl Options {
    /// Whether the part `name` runs.
    pub(crate) fn runs(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == name)
    }
}

fn options() -> Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        gateway: PathBuf::new(),
        mock: PathBuf::new(),
        bare_proxy: std::env::current_exe()?.with_file_name("bare-proxy"),
        logs: std::env::temp_dir(),
        json: None,
        duration: Duration::from_secs(5),
        concurrency: 32,
        rate: 2000.0,
        only: Vec::new(),
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--gateway" => options.gateway = value()?.into(),
            "--mock" => options.mock = value()?.into(),
            "--bare-proxy" => options.bare_proxy = value()?.into(),
            "--logs" => options.logs = value()?.into(),
            "--json" => options.json = Some(value()?.into()),
            "--duration" => {
                let secs: f64 = value()?.parse().context("--duration takes seconds")?;
                if !(0.5..=600.0).contains(&secs) {
                    bail!("--duration must be between 0.5 and 600 seconds");
                }
                options.duration = Duration::from_secs_f64(secs);
            }
            "--concurrency" => {
                options.concurrency = value()?.parse().context("--concurrency takes a count")?;
                if !(1..=1000).contains(&options.concurrency) {
                    bail!("--concurrency must be between 1 and 1000");
                }
            }
            "--rate" => {
                options.rate = value()?
                    .parse()
                    .context("--rate takes requests per second")?;
                if !(1.0..=1_000_000.0).contains(&options.rate) {
                    bail!("--rate must be between 1 and 1000000");
                }
            }
            "--only" => {
                const PARTS: [&str; 7] = [
                    "chat",
                    "stream",
                    "embeddings",
                    "responses",
                    "messages",
                    "streams",
                    "scaling",
                ];
                for part in value()?.split(',') {
                    if !PARTS.contains(&part) {
                        bail!("--only takes some of {}", PARTS.join(","));
                    }
                    options.only.push(part.to_owned());
                }
            }
            other => bail!("unknown option {other}"),
        }
    }
    if options.gateway.as_os_str().is_empty() || options.mock.as_os_str().is_empty() {
        bail!("give --gateway and --mock (or run `cargo xtask bench`)");
    }
    Ok(options)
}

/// A future that completes with the signal's name on SIGINT, SIGTERM or SIGHUP (SIGTERM is what
/// `cargo xtask bench` passes on when it is told to stop).
fn termination() -> Result<impl Future<Output = &'static str>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
            _ = hangup.recv() => "SIGHUP",
        }
    })
}

fn main() -> Result<()> {
    let options = options()?;
    std::fs::create_dir_all(&options.logs)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // On a termination signal the scenario future is dropped, and with it the services (killed
    // on drop).
    let report = runtime.block_on(async {
        let stop = termination()?;
        tokio::select! {
            report = scenarios::run_all(&options) => report,
            signal = stop => bail!("interrupted by {signal}"),
        }
    })?;
    report.print();
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_string_pretty(&report.to_json())?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
