//! `bedrock-mock`: a fake AWS Bedrock Runtime on a local port.

use std::io::Write as _;
use std::net::SocketAddr;

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
    /// Another access key to accept (with --secret-key).
    #[arg(long, requires = "secret_key")]
    access_key: Option<String>,
    /// The secret of --access-key.
    #[arg(long, requires = "access_key")]
    secret_key: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut config = MockConfig {
        listen: cli.listen,
        verify: !cli.no_verify,
        record: !cli.no_record,
        stream_events: cli.stream_events,
        ..MockConfig::default()
    };
    if let (Some(access), Some(secret)) = (cli.access_key, cli.secret_key) {
        config.keys.keys.insert(
            access,
            Key {
                secret,
                session_token: None,
            },
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "bedrock-mock listening on http://{addr}")?;
    stdout.flush()?;
    serve(listener, config, shutdown()).await;
    Ok(())
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = interrupt => {},
        _ = terminate.recv() => {},
    }
}
