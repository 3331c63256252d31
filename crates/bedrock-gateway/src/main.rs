//! `bedrock-gateway`: an OpenAI-compatible HTTP gateway for AWS Bedrock.

use std::io::Write as _;
use std::process::ExitCode;

use bedrock_gateway::config::{ConfigError, CredentialSources, LogFormat, ProcessEnv, Settings};
use bedrock_gateway::credentials::ServerAuth;
use bedrock_gateway::metrics::Metrics;
use bedrock_gateway::{server, stack};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let settings = match Settings::load(None, &ProcessEnv) {
        Ok(settings) => settings,
        Err(ConfigError::CommandLine(err)) => err.exit(),
        Err(err) => {
            eprintln!("bedrock-gateway: {err}");
            return ExitCode::from(2);
        }
    };
    init_tracing(settings.log_format);
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = settings.worker_threads {
        runtime.worker_threads(threads);
    }
    let runtime = runtime
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    runtime.block_on(run(settings))
}

async fn run(settings: Settings) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(settings.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "bedrock-gateway: cannot listen on {}: {err}",
                settings.listen
            );
            return ExitCode::from(1);
        }
    };
    let tls = match &settings.tls {
        Some((cert, key)) => match bedrock_gateway::tls::acceptor(cert, key) {
            Ok(acceptor) => Some(acceptor),
            Err(err) => {
                eprintln!("bedrock-gateway: {err}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let use_chain = settings.credential_sources != CredentialSources::Headers;
    let server_auth = if use_chain {
        match ServerAuth::from_env(&ProcessEnv, &settings.region, true).await {
            Ok(auth) => auth,
            Err(err) => {
                eprintln!("bedrock-gateway: {err}");
                return ExitCode::from(2);
            }
        }
    } else {
        ServerAuth::None
    };
    let spends_openly = server_auth.is_some() && settings.gateway_keys.is_empty();
    let metrics = Metrics::new(settings.aliases.keys());
    let gateway = match stack::gateway(&settings, server_auth, &metrics) {
        Ok(gateway) => gateway,
        Err(err) => {
            eprintln!("bedrock-gateway: {err}");
            return ExitCode::from(1);
        }
    };
    tracing::info!(%addr, "listening");
    if !addr.ip().is_loopback() && spends_openly {
        tracing::warn!(
            %addr,
            "SECURITY: listening on a non-loopback address with server-side AWS credentials and no gateway API keys: anyone who can reach this port spends your AWS money; set BEDROCK_GATEWAY_API_KEYS"
        );
    }
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "bedrock-gateway listening on {scheme}://{addr}");
    let _ = stdout.flush();
    server::serve(
        listener,
        gateway,
        &metrics,
        server::shutdown_signal(),
        server::Limits::from(&settings),
        tls,
    )
    .await;
    ExitCode::SUCCESS
}

/// Logs go straight to stderr, one `write(2)` per line from the request's task. A writer thread
/// (tracing-appender's non-blocking writer) was measured and dropped: on two cores, waking it
/// for each line cost more CPU (the thread itself took 11% of the gateway's samples, plus futex
/// wake-ups) than the write it saved.
fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = std::io::stderr;
    // Colours only for a person at a terminal: log files and collectors get plain text (and
    // formatting the escape codes costs ~3% of the CPU of a request).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
