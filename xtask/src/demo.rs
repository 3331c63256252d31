//! `cargo xtask demo`: the fake Bedrock and the gateway, with the README's curl examples.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{self, Service};

/// The demo's credentials: the AWS documentation's example key pair, which the mock knows.
pub(crate) const DEMO_ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
/// Secret of [`DEMO_ACCESS_KEY`].
pub(crate) const DEMO_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// Where the README's examples expect the demo, and where plain `cargo xtask demo` listens.
pub(crate) const README_ADDR: &str = "127.0.0.1:3000";

/// What `cargo xtask demo` was asked to do.
#[derive(Debug)]
pub(crate) struct Options {
    /// Run the README's curl examples against the demo, then stop.
    pub(crate) check: bool,
    /// The gateway's address; a free port with `--check`, [`README_ADDR`] otherwise.
    pub(crate) listen: String,
}

impl Options {
    /// Parses `[--check] [--listen ADDR]`.
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let (mut check, mut listen) = (false, None);
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            match arg.as_str() {
                "--check" => check = true,
                "--listen" => listen = Some(rest.next().context("--listen needs an address")?),
                other => bail!("unknown demo option {other}"),
            }
        }
        let default = if check { "127.0.0.1:0" } else { README_ADDR };
        Ok(Self {
            check,
            listen: listen.map_or(default, String::as_str).to_owned(),
        })
    }

    /// `--check` on a free port: what `integration` runs, so that it passes while a demo runs.
    pub(crate) fn check() -> Self {
        Self {
            check: true,
            listen: "127.0.0.1:0".to_owned(),
        }
    }
}

/// Starts the mock and the gateway; with `check`, runs the README's curl examples and stops.
pub(crate) fn run(options: &Options) -> Result<()> {
    util::build_binaries()?;
    let (_mock, gateway) = start_pair(&options.listen)?;
    if options.check {
        return check_readme_examples(&gateway.url);
    }
    println!();
    println!(
        "The gateway listens on {} in front of a fake Bedrock.",
        gateway.url
    );
    println!("Try the README's examples, for instance:");
    println!();
    for example in readme_curl_examples()?.iter().take(2) {
        println!("{}\n", at(example, &gateway.url));
    }
    println!("Press Ctrl-C to stop.");
    gateway.wait()
}

/// `example` with the README's address replaced by `url`.
fn at(example: &str, url: &str) -> String {
    example.replace(&format!("http://{README_ADDR}"), url)
}

/// Starts the fake Bedrock on a free port and the gateway on `listen` in front of it, with the
/// demo credentials in the gateway's environment.
pub(crate) fn start_pair(listen: &str) -> Result<(Service, Service)> {
    start_pair_with(listen, &[])
}

/// [`start_pair`] with more gateway flags.
pub(crate) fn start_pair_with(listen: &str, flags: &[&str]) -> Result<(Service, Service)> {
    let mock = Service::start("bedrock-mock", &["--listen", "127.0.0.1:0"], &[])?;
    let mut args = vec!["--listen", listen];
    args.extend_from_slice(flags);
    let gateway = Service::start(
        "bedrock-gateway",
        &args,
        &[
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", mock.url.as_str()),
            ("AWS_ACCESS_KEY_ID", DEMO_ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", DEMO_SECRET_KEY),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    )
    .with_context(|| format!("starting the gateway (is {listen} free?)"))?;
    Ok((mock, gateway))
}

/// The `curl` commands of the README's fenced `sh` blocks, continuation lines joined.
pub(crate) fn readme_curl_examples() -> Result<Vec<String>> {
    let readme =
        std::fs::read_to_string(util::root().join("README.md")).context("reading README.md")?;
    let mut examples = Vec::new();
    let mut in_block = false;
    let mut current: Option<String> = None;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = line.trim() == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = current.as_mut() {
            cmd.push('\n');
            cmd.push_str(line);
        } else if line.starts_with("curl ") {
            current = Some(line.to_owned());
        }
        if current.is_some() && !line.ends_with('\\') {
            examples.extend(current.take());
        }
    }
    Ok(examples)
}

/// Runs every curl example of the README against the gateway at `url`.
fn check_readme_examples(url: &str) -> Result<()> {
    let examples = readme_curl_examples()?;
    if examples.len() < 3 {
        bail!(
            "README.md should hold at least three curl examples, found {}",
            examples.len()
        );
    }
    for example in examples.iter().map(|e| at(e, url)) {
        let output = Command::new("bash")
            .args([
                "-c",
                &format!("set -o pipefail; {example} --silent --show-error --fail-with-body"),
            ])
            .output()
            .context("running bash")?;
        let body = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "README example failed:\n{example}\n{body}{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        println!(
            "xtask: README example ok: {}",
            example.lines().next().unwrap_or_default()
        );
    }
    Ok(())
}
