//! Harness for the end-to-end tests: builds and starts the real `bedrock-mock` and
//! `bedrock-gateway` binaries on free loopback ports, and talks to them over HTTP.
//!
//! Every process is killed when its handle drops. The gateway's environment is cleared of AWS
//! variables (so the developer's own credentials never leak into a test) and its upstream is
//! always the mock on 127.0.0.1.

use std::io::{BufRead, BufReader};

#[path = "../../xtask/src/cargo_env.rs"]
mod cargo_env;
use cargo_env::set_by_cargo;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// The AWS docs' example key pair, known to the mock.
pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
/// Secret of [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// A temporary key pair known to the mock, with [`SESSION_TOKEN`].
pub const SESSION_ACCESS_KEY: &str = "ASIAMOCKSESSIONEXAMPLE";
/// Secret of [`SESSION_ACCESS_KEY`].
pub const SESSION_SECRET_KEY: &str = "mockSessionSecretKeyEXAMPLE0123456789abcd";
/// Session token of [`SESSION_ACCESS_KEY`].
pub const SESSION_TOKEN: &str = "mock-session-token-EXAMPLE";

/// Builds both binaries once per test process and returns the directory holding them.
///
/// The nested cargo runs without the variables cargo set for this test process
/// ([`set_by_cargo`]), so that it shares the artifacts of `cargo xtask` and of a plain
/// `cargo build` instead of rebuilding ring, rustls and the gateway.
pub fn binaries() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut command = Command::new(cargo);
        for (name, _) in std::env::vars_os().filter(|(name, _)| set_by_cargo(name)) {
            command.env_remove(name);
        }
        let status = command
            .current_dir(&root)
            .args([
                "build",
                "--quiet",
                "-p",
                "bedrock-gateway",
                "-p",
                "bedrock-mock",
                "--bins",
            ])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the binaries failed");
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        target.join("debug")
    })
}

/// A running child process, killed on drop.
#[derive(Debug)]
pub struct Process {
    child: Child,
    /// The `http://127.0.0.1:PORT` it listens on.
    pub url: String,
}

impl Process {
    fn spawn(mut command: Command, banner: &str) -> Self {
        command.stdout(Stdio::piped()).stdin(Stdio::null());
        Self::spawn_configured(command, banner)
    }

    fn spawn_configured(mut command: Command, banner: &str) -> Self {
        let mut child = command.spawn().expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the binary prints its address");
        let url = line
            .trim()
            .strip_prefix(banner)
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, url }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fake Bedrock.
#[derive(Debug)]
pub struct Mock {
    /// The process.
    pub process: Process,
}

impl Mock {
    /// Starts `bedrock-mock` on a free port.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts `bedrock-mock` with extra arguments.
    pub fn start_with(args: &[&str]) -> Self {
        let mut command = Command::new(binaries().join("bedrock-mock"));
        command
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn");
        Self {
            process: Process::spawn(command, "bedrock-mock listening on "),
        }
    }

    /// The mock's base URL.
    pub fn url(&self) -> &str {
        &self.process.url
    }

    /// The requests the mock recorded.
    pub async fn requests(&self) -> Vec<Value> {
        let (status, _, body) = send(
            Method::GET,
            &format!("{}/__mock/requests", self.url()),
            &[],
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        serde_json::from_slice(&body).expect("requests are JSON")
    }

    /// The mock's counters.
    pub async fn stats(&self) -> Value {
        let (_, _, body) = send(
            Method::GET,
            &format!("{}/__mock/stats", self.url()),
            &[],
            None,
        )
        .await;
        serde_json::from_slice(&body).expect("stats are JSON")
    }

    /// Queues a fault for the next model requests.
    pub async fn fault(&self, fault: Value) {
        let (status, _, body) = send(
            Method::POST,
            &format!("{}/__mock/faults", self.url()),
            &[],
            Some(fault.to_string()),
        )
        .await;
        assert!(
            status.is_success(),
            "fault rejected: {}",
            String::from_utf8_lossy(&body)
        );
    }
}

/// The gateway under test.
#[derive(Debug)]
pub struct Gateway {
    /// The process.
    pub process: Process,
    /// Where its stderr (the logs) goes.
    pub log_path: PathBuf,
}

/// Environment variables that must never reach a test gateway from the developer's shell.
const SCRUBBED: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
];

/// The gateway binary under test: `$E2E_GATEWAY_BIN` when set (to show that a test fails
/// against another build, e.g. an older commit's), else the one [`binaries`] built.
pub fn gateway_binary() -> PathBuf {
    std::env::var_os("E2E_GATEWAY_BIN")
        .map_or_else(|| binaries().join("bedrock-gateway"), PathBuf::from)
}

impl Gateway {
    /// Starts the gateway in front of `mock`, with extra environment and arguments.
    pub fn start(mock: &Mock, env: &[(&str, &str)], args: &[&str]) -> Self {
        Self::start_command(Command::new(gateway_binary()), mock, env, args)
    }

    /// Like [`Gateway::start`], with the soft and hard limits of open files (`ulimit -n`) set
    /// to `open_files` (through `sh`, which then becomes the gateway: same process id).
    pub fn start_with_open_files(
        mock: &Mock,
        env: &[(&str, &str)],
        args: &[&str],
        open_files: u32,
    ) -> Self {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {open_files} && exec \"$0\" \"$@\""))
            .arg(gateway_binary());
        Self::start_command(command, mock, env, args)
    }

    fn start_command(
        mut command: Command,
        mock: &Mock,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Self {
        for name in SCRUBBED {
            command.env_remove(name);
        }
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("BEDROCK_GATEWAY_")) {
            command.env_remove(name);
        }
        if !args.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command
            .args(args)
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", mock.url())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env(
                "RUST_LOG",
                std::env::var("E2E_GATEWAY_LOG").unwrap_or_else(|_| "warn".to_owned()),
            )
            .envs(env.iter().copied());
        let log_path = log_file();
        let log = std::fs::File::create(&log_path).expect("the log file opens");
        command
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .stderr(log);
        let process = Process::spawn_configured(command, "bedrock-gateway listening on ");
        Self { process, log_path }
    }

    /// Everything the gateway has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The gateway's base URL.
    pub fn url(&self) -> &str {
        &self.process.url
    }

    /// `POST /v1/chat/completions` with header credentials of the mock's example key.
    pub async fn chat(&self, body: Value) -> (StatusCode, HeaderMap, Value) {
        self.chat_with(body, &credential_headers()).await
    }

    /// `POST /v1/chat/completions` with the given headers.
    pub async fn chat_with(
        &self,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Value) {
        let url = format!("{}/v1/chat/completions", self.url());
        let (status, response_headers, bytes) =
            send(Method::POST, &url, headers, Some(body.to_string())).await;
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, response_headers, json)
    }
}

/// A `redis-server` of its own on a free loopback port, without persistence; killed on drop.
///
/// Fails (never skips) when `redis-server` is not installed, saying how to install it.
#[derive(Debug)]
pub struct Redis {
    child: Option<Child>,
    /// The port it listens on (kept across [`Redis::stop`] and [`Redis::restart`]).
    pub port: u16,
}

impl Redis {
    /// Starts `redis-server` on a free port and waits until it answers `PING`.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self { child: None, port };
        redis.restart();
        redis
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (its data goes with it).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty) and waits until it answers.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start redis-server ({err}): the Redis tests need it on the PATH; \
                     install it with scripts/install-redis.sh (Debian: apt-get install -y redis-server)"
                )
            });
        self.child = Some(child);
        self.wait_until_ready();
    }

    /// Until the server answers `PING` (at most 10 s).
    fn wait_until_ready(&mut self) {
        use std::io::{Read, Write};
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "redis-server exited at start ({status}): is port {} taken?",
                    self.port
                );
            }
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let mut answer = [0u8; 7];
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read_exact(&mut answer).is_ok()
                    && &answer == b"+PONG\r\n"
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-server did not answer on port {} within 10 s",
            self.port
        );
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fresh log file under `target/e2e-logs/`.
fn log_file() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = binaries().join("..").join("e2e-logs");
    std::fs::create_dir_all(&dir).expect("the log directory exists");
    dir.join(format!(
        "gateway-{}-{}.log",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Header credentials of the mock's example key pair.
pub fn credential_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("x-aws-access-key-id", ACCESS_KEY),
        ("x-aws-secret-access-key", SECRET_KEY),
    ]
}

/// A plain HTTP/1.1 client.
pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    static CLIENT: OnceLock<Client<HttpConnector, Full<Bytes>>> = OnceLock::new();
    CLIENT
        .get_or_init(|| Client::builder(TokioExecutor::new()).build_http())
        .clone()
}

/// Sends a request and reads the whole answer.
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (StatusCode, HeaderMap, Bytes) {
    let mut builder = Request::builder().method(method).uri(url);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .expect("valid request");
    let response = tokio::time::timeout(Duration::from_secs(30), client().request(request))
        .await
        .expect("answer within 30 s")
        .expect("request succeeds");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body reads").to_bytes();
    (parts.status, parts.headers, bytes)
}

/// Parses a server-sent-events body into its `data:` payloads.
pub fn sse_data(body: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(body).expect("SSE is UTF-8");
    text.split("\n\n")
        .filter(|event| !event.trim().is_empty())
        .map(|event| {
            event
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data event: {event:?}"))
                .to_owned()
        })
        .collect()
}

/// A tiny HTTP/1.1 server for credential endpoints (ECS, IMDS) in tests: answers each request
/// with `answer(method, path)` (plus the IMDSv2 token TTL header) and counts the requests.
#[derive(Debug)]
pub struct FakeHttp {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeHttp {
    /// Starts the server on a free loopback port.
    pub async fn start(answer: fn(&str, &str) -> (u16, String)) -> Self {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&hits);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head);
                    let mut words = head.split_whitespace();
                    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                    let (status, body) = answer(method, path);
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        Self { url, hits, task }
    }

    /// Requests served so far.
    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Open file descriptors of a process (Linux: the entries of `/proc/PID/fd`); fails rather
/// than read 0 without `/proc`, so that a bound on it cannot pass by default.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/fd: {e}"))
        .count()
}

/// Resident memory of a process, in KiB (Linux: `VmRSS` of `/proc/PID/status`); fails rather
/// than read 0 without `/proc`, so that a bound on it cannot pass by default.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("/proc/PID/status has VmRSS")
}

/// The `host:port` of a base URL such as [`Gateway::url`].
pub fn authority(url: &str) -> &str {
    url.trim_start_matches("http://")
        .trim_start_matches("https://")
}
