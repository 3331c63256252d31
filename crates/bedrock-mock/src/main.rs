//! `bedrock-mock`: a fake AWS Bedrock Runtime on a local port.
//!
//! Prints `bedrock-mock listening on http://ADDR` on stdout once bound, logs on stderr
//! (`RUST_LOG`), and exits on SIGINT or SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use bedrock_mock::sigv4::Key;
use bedrock_mock::{MockConfig, serve};
use clap::Parser;

/// A fake AWS Bedrock Runtime for tests, benchmarks and the demo.
#[derive(Debug, Parser)]
#[command(name = "bedrock-mock", version)]
struct Cli {
    /// Address to listen on (port 0: any free port; printed on stdout).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Accept any request without checking its signature (benchmarks).
    #[arg(long)]
    no_verify: bool,
    /// Do not record requests (benchmarks).
    #[arg(long)]
    no_record: bool,
    /// Answer every stream with exactly this many text events (0: the echo).
    #[arg(long, default_value_t = 0)]
    stream_events: usize,
    /// Pause between stream events, in milliseconds.
    #[arg(long, default_value_t = 0)]
    stream_event_delay_ms: u64,
    /// Answer Converse calls and Claude InvokeModel calls with one fixed answer and streams
    /// (ConverseStream, Claude InvokeModelWithResponseStream) with --stream-events events,
    /// without reading the conversation (benchmarks; `[mock:...]` directives still work).
    #[arg(long)]
    fixed_answers: bool,
    /// Write each stream frame whole instead of in two or three pieces.
    #[arg(long)]
    no_split_frames: bool,
    /// Another access key to accept; repeatable, each with its own --secret-key.
    #[arg(long)]
    access_key: Vec<String>,
    /// The secret of the --access-key at the same position.
    #[arg(long)]
    secret_key: Vec<String>,
    /// Another Bedrock API key (`Authorization: Bearer KEY`) to accept; repeatable.
    #[arg(long)]
    api_key: Vec<String>,
}

impl Cli {
    /// The configuration; an error when access keys and secrets do not pair up.
    fn config(self) -> Result<MockConfig, String> {
        if self.access_key.len() != self.secret_key.len() {
            return Err("give one --secret-key per --access-key".to_owned());
        }
        let mut config = MockConfig {
            listen: self.listen,
            verify: !self.no_verify,
            record: !self.no_record,
            stream_events: self.stream_events,
            split_frames: !self.no_split_frames,
            stream_event_delay: Duration::from_millis(self.stream_event_delay_ms),
            fixed_answers: self.fixed_answers,
            ..MockConfig::default()
        };
        for (access, secret) in self.access_key.into_iter().zip(self.secret_key) {
            let key = Key {
                secret,
                session_token: None,
            };
            config.keys.keys.insert(access, key);
        }
        config.keys.api_keys.extend(self.api_key);
        Ok(config)
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let config = match Cli::parse().config() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("bedrock-mock: {message}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "bedrock-mock listening on http://{addr}")?;
    stdout.flush()?;
    tracing::info!(%addr, verify = config.verify, record = config.record, "serving");
    serve(listener, config, shutdown()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        let _ = interrupt.await;
        return;
    };
    tokio::select! {
        _ = interrupt => {},
        _ = terminate.recv() => {},
    }
}
