//! The scenarios: what is sent to the floor, the bare proxy and the gateway, and in which order.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use serde_json::json;

use crate::Options;
use crate::load::{self, Load, Pace, Template};
use crate::procs::{self, Service};
use crate::report::{self, Percentiles, Report, Run, ScalingRow, StreamMemory, Target};

/// The chat model of every scenario (answered by the mock's Converse, or its InvokeModel for the
/// Messages door).
const CHAT_MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
/// [`CHAT_MODEL`] by its Anthropic name, as Anthropic's clients send it to the Messages door.
const CLAUDE_NAME: &str = "claude-3-haiku-20240307";
/// The embedding model (InvokeModel, Titan v2 shape).
const EMBEDDING_MODEL: &str = "amazon.titan-embed-text-v2:0";
/// Events per stream in the streaming scenario.
const STREAM_EVENTS: usize = 64;
/// Streams held open at once for the memory measurement.
const SIMULTANEOUS_STREAMS: usize = 1000;

/// The mock, and the gateway and the bare proxy in front of it.
struct Stack {
    mock: Service,
    gateway: Service,
    bare_proxy: Service,
    /// The unit of `/proc/PID/stat` CPU times, asked of `getconf` once.
    ticks_per_second: f64,
}

impl Stack {
    fn start(options: &Options) -> Result<Self> {
        let events = STREAM_EVENTS.to_string();
        let mock = Service::start(
            &options.mock,
            &[
                "--listen",
                "127.0.0.1:0",
                "--no-verify",
                "--no-record",
                "--no-split-frames",
                "--fixed-answers",
                "--stream-events",
                &events,
            ],
            &[("RUST_LOG", "warn")],
            &options.logs.join("bench-mock.log"),
        )?;
        let gateway = Service::start(
            &options.gateway,
            &["--listen", "127.0.0.1:0"],
            &[
                ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", mock.url.as_str()),
                ("AWS_ACCESS_KEY_ID", "AKIDBENCHMARK"),
                ("AWS_SECRET_ACCESS_KEY", "bench/secret/key"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
            &options.logs.join("bench-gateway.log"),
        )?;
        let bare_proxy = Service::start(
            &options.bare_proxy,
            &["--listen", "127.0.0.1:0", "--upstream", &mock.url],
            &[],
            &options.logs.join("bench-bare-proxy.log"),
        )?;
        Ok(Self {
            mock,
            gateway,
            bare_proxy,
            ticks_per_second: procs::clock_ticks_per_second(),
        })
    }
}

/// A text of about `bytes` bytes.
fn prompt(bytes: usize) -> String {
    const WORDS: &str =
        "the gateway translates every request and every answer without copying more than it must ";
    WORDS.repeat(bytes / WORDS.len() + 1)[..bytes]
        .trim_end()
        .to_owned()
}

/// One scenario's request for each target.
#[derive(Debug)]
struct Templates {
    /// The Bedrock request, straight to the mock.
    floor: Template,
    /// The same Bedrock request, through the bare proxy.
    bare_proxy: Template,
    /// The OpenAI request, through the gateway.
    gateway: Template,
}

impl Templates {
    /// `bedrock` (a path and body for the mock) and `openai` (for the gateway).
    fn new(
        stack: &Stack,
        bedrock: (&str, &serde_json::Value),
        openai: (&str, &serde_json::Value),
    ) -> Result<Self> {
        let (path, body) = (bedrock.0, json_body(bedrock.1)?);
        Ok(Self {
            floor: Template::json_post(stack.mock.addr()?, path, body.clone())?,
            bare_proxy: Template::json_post(stack.bare_proxy.addr()?, path, body)?,
            gateway: Template::json_post(stack.gateway.addr()?, openai.0, json_body(openai.1)?)?,
        })
    }

    fn get(&self, target: Target) -> &Template {
        match target {
            Target::Floor => &self.floor,
            Target::BareProxy => &self.bare_proxy,
            Target::Gateway => &self.gateway,
        }
    }
}

/// The Converse request of every conversation scenario but `messages`: `/converse` or
/// `/converse-stream` and its body.
fn converse(text: &str, stream: bool) -> (String, serde_json::Value) {
    let operation = if stream {
        "converse-stream"
    } else {
        "converse"
    };
    let model_path = CHAT_MODEL.replace(':', "%3A");
    let converse = json!({
        "messages": [{"role": "user", "content": [{"text": text}]}],
        "inferenceConfig": {"maxTokens": 256},
    });
    (format!("/model/{model_path}/{operation}"), converse)
}

/// The same conversation for Bedrock (`/converse` or `/converse-stream`) and for the gateway.
fn chat(stack: &Stack, text: &str, stream: bool) -> Result<Templates> {
    let mut openai = json!({
        "model": CHAT_MODEL,
        "max_tokens": 256,
        "messages": [{"role": "user", "content": text}],
    });
    if stream {
        openai["stream"] = json!(true);
    }
    let (path, converse) = converse(text, stream);
    Templates::new(stack, (&path, &converse), ("/v1/chat/completions", &openai))
}

/// The same conversation on the Responses door (`store: false`: nothing kept), which the gateway
/// turns into the same Converse request as [`chat`]'s.
fn responses(stack: &Stack, text: &str, stream: bool) -> Result<Templates> {
    let mut request = json!({
        "model": CHAT_MODEL,
        "max_output_tokens": 256,
        "input": text,
        "store": false,
    });
    if stream {
        request["stream"] = json!(true);
    }
    let (path, converse) = converse(text, stream);
    Templates::new(stack, (&path, &converse), ("/v1/responses", &request))
}

/// The same conversation on the Messages door for Claude: Anthropic's body, which the gateway
/// passes to InvokeModel (`/invoke` or `/invoke-with-response-stream`) without `model` and
/// `stream` and with Bedrock's `anthropic_version`, as the floor sends it.
fn messages(stack: &Stack, text: &str, stream: bool) -> Result<Templates> {
    let operation = if stream {
        "invoke-with-response-stream"
    } else {
        "invoke"
    };
    let model_path = CHAT_MODEL.replace(':', "%3A");
    let invoke = json!({
        "max_tokens": 256,
        "messages": [{"role": "user", "content": text}],
        "anthropic_version": "bedrock-2023-05-31",
    });
    let mut anthropic = json!({
        "model": CLAUDE_NAME,
        "max_tokens": 256,
        "messages": [{"role": "user", "content": text}],
    });
    if stream {
        anthropic["stream"] = json!(true);
    }
    Templates::new(
        stack,
        (&format!("/model/{model_path}/{operation}"), &invoke),
        ("/v1/messages", &anthropic),
    )
}

fn embeddings(stack: &Stack, text: &str) -> Result<Templates> {
    Templates::new(
        stack,
        (
            &format!("/model/{}/invoke", EMBEDDING_MODEL.replace(':', "%3A")),
            &json!({"inputText": text, "dimensions": 1024, "normalize": true}),
        ),
        (
            "/v1/embeddings",
            &json!({"model": EMBEDDING_MODEL, "input": text}),
        ),
    )
}

fn json_body(value: &serde_json::Value) -> Result<Bytes> {
    Ok(Bytes::from(serde_json::to_vec(value)?))
}

/// CPU ticks of the gateway, the bare proxy, the mock and this process at one moment.
#[derive(Debug, Clone, Copy, Default)]
struct Ticks {
    gateway: u64,
    bare_proxy: u64,
    mock: u64,
    me: u64,
}

impl Ticks {
    fn now(stack: &Stack) -> Self {
        Self {
            gateway: procs::cpu_ticks(stack.gateway.pid()).unwrap_or(0),
            bare_proxy: procs::cpu_ticks(stack.bare_proxy.pid()).unwrap_or(0),
            mock: procs::cpu_ticks(stack.mock.pid()).unwrap_or(0),
            me: procs::cpu_ticks(std::process::id()).unwrap_or(0),
        }
    }
}

/// Runs one template under one load and measures it.
async fn measure(
    stack: &Stack,
    scenario: &'static str,
    target: Target,
    template: &Template,
    load: Load,
) -> Result<Run> {
    procs::reset_peak_rss(stack.gateway.pid())?;
    let (mut before, mut after) = (Ticks::default(), Ticks::default());
    let (measured, elapsed) = load::run(
        template,
        load,
        || before = Ticks::now(stack),
        || after = Ticks::now(stack),
    )
    .await
    .with_context(|| format!("{scenario} against the {}", target.name()))?;
    let seconds =
        |f: fn(&Ticks) -> u64| f(&after).saturating_sub(f(&before)) as f64 / stack.ticks_per_second;
    let run = Run {
        scenario,
        target,
        pace: load.pace,
        connections: load.connections,
        requests: measured.ok,
        errors: measured.errors,
        late_starts: measured.late_starts,
        seconds: elapsed.as_secs_f64(),
        total: Percentiles::of(&measured.total),
        first_byte: Percentiles::of(&measured.first_byte),
        gateway_cpu_seconds: seconds(|t| t.gateway),
        bare_proxy_cpu_seconds: seconds(|t| t.bare_proxy),
        mock_cpu_seconds: seconds(|t| t.mock),
        loadgen_cpu_seconds: seconds(|t| t.me),
        gateway_peak_rss_kib: procs::status_kib(stack.gateway.pid(), "VmHWM")?,
        reused_from: None,
    };
    println!("  {}", run.summary());
    if run.requests == 0 {
        bail!(
            "{scenario} against the {}: no answer succeeded; see the logs in the logs directory",
            target.name()
        );
    }
    Ok(run)
}

/// Every measurement, in one run.
pub(crate) async fn run_all(options: &Options) -> Result<Report> {
    let stack = Stack::start(options)?;
    let idle_rss = procs::status_kib(stack.gateway.pid(), "VmRSS")?;
    let text = prompt(1024);
    // (name, `--only` part, templates, the scenario sending the same Bedrock request).
    let scenarios = [
        ("chat", "chat", chat(&stack, &text, false)?, None),
        ("stream", "stream", chat(&stack, &text, true)?, None),
        ("embeddings", "embeddings", embeddings(&stack, &text)?, None),
        (
            "responses",
            "responses",
            responses(&stack, &text, false)?,
            Some("chat"),
        ),
        (
            "resp-stream",
            "responses",
            responses(&stack, &text, true)?,
            Some("stream"),
        ),
        (
            "messages",
            "messages",
            messages(&stack, &text, false)?,
            None,
        ),
        (
            "msg-stream",
            "messages",
            messages(&stack, &text, true)?,
            None,
        ),
    ];
    let full_speed = Load {
        connections: options.concurrency,
        pace: Pace::ClosedLoop,
        warm_up: Duration::from_secs(1),
        duration: options.duration,
    };
    let fixed_rate = Load {
        pace: Pace::Rate(options.rate),
        duration: options.duration.mul_f64(0.6),
        ..full_speed
    };
    let mut runs: Vec<Run> = Vec::new();
    let chosen = scenarios.iter().filter(|(_, part, ..)| options.runs(part));
    for (name, _, templates, same_bedrock_as) in chosen {
        println!("{name}:");
        // A stream is 64 answers in one: its fixed rate is an eighth, to stay below saturation.
        let fixed_rate = match fixed_rate.pace {
            Pace::Rate(rate) if report::streams(name) => Load {
                pace: Pace::Rate(rate / 8.0),
                ..fixed_rate
            },
            _ => fixed_rate,
        };
        for (full, load) in [(true, full_speed), (false, fixed_rate)] {
            for target in Target::ALL {
                // The floor and the bare proxy of a door that sends the same Bedrock request as
                // a scenario measured earlier in this run are that scenario's runs, not measured
                // again (it keeps the whole benchmark shorter).
                let earlier = same_bedrock_as
                    .filter(|_| target != Target::Gateway)
                    .and_then(|same| {
                        runs.iter().find(|r| {
                            r.scenario == same
                                && r.target == target
                                && matches!(r.pace, Pace::ClosedLoop) == full
                        })
                    });
                let run = match earlier {
                    Some(earlier) => {
                        let run = Run {
                            scenario: name,
                            reused_from: Some(earlier.scenario),
                            ..earlier.clone()
                        };
                        println!("  {} (the {} run)", run.summary(), earlier.scenario);
                        run
                    }
                    None => measure(&stack, name, target, templates.get(target), load).await?,
                };
                runs.push(run);
            }
        }
    }
    let streams = if options.runs("streams") {
        println!("{SIMULTANEOUS_STREAMS} simultaneous streams:");
        Some(simultaneous_streams(&stack).await?)
    } else {
        None
    };
    let scaling = if options.runs("scaling") {
        println!("scaling:");
        scaling(&stack).await?
    } else {
        Vec::new()
    };
    Ok(Report::new(options, idle_rss, runs, streams, scaling))
}

/// Peak gateway memory with [`SIMULTANEOUS_STREAMS`] streams open at once.
async fn simultaneous_streams(stack: &Stack) -> Result<StreamMemory> {
    let pid = stack.gateway.pid();
    // Slow streams (64 events, 20 ms apart: 1.3 s each) so that all are open at the same time.
    let text = format!(
        "{} [mock:stream_events=64,stream_event_delay_ms=20]",
        prompt(1024)
    );
    let template = chat(stack, &text, true)?.gateway;
    let before = procs::status_kib(pid, "VmRSS")?;
    procs::reset_peak_rss(pid)?;
    let mut during = 0;
    let completed = load::simultaneous(&template, SIMULTANEOUS_STREAMS, || {
        during = procs::status_kib(pid, "VmRSS")?;
        Ok(())
    })
    .await?;
    let memory = StreamMemory {
        streams: SIMULTANEOUS_STREAMS,
        completed,
        rss_before_kib: before,
        rss_all_open_kib: during,
        peak_rss_kib: procs::status_kib(pid, "VmHWM")?,
    };
    println!("  {}", memory.summary());
    Ok(memory)
}

/// Added latency and gateway CPU against message size and stream length, one request at a time.
async fn scaling(stack: &Stack) -> Result<Vec<ScalingRow>> {
    let load = Load {
        connections: 1,
        pace: Pace::ClosedLoop,
        warm_up: Duration::from_millis(300),
        duration: Duration::from_millis(1500),
    };
    let mut rows = Vec::new();
    for kib in [1, 8, 64, 256, 1024] {
        let templates = chat(stack, &prompt(kib * 1024), false)?;
        let label = format!("{kib} KiB message");
        rows.push(scaling_row(stack, label, &templates, load).await?);
    }
    for events in [10, 100, 1000, 10_000] {
        let text = format!("{} [mock:stream_events={events}]", prompt(200));
        let templates = chat(stack, &text, true)?;
        let label = format!("{events} stream events");
        rows.push(scaling_row(stack, label, &templates, load).await?);
    }
    Ok(rows)
}

async fn scaling_row(
    stack: &Stack,
    label: String,
    templates: &Templates,
    load: Load,
) -> Result<ScalingRow> {
    let floor = measure(stack, "scaling", Target::Floor, &templates.floor, load).await?;
    let gateway = measure(stack, "scaling", Target::Gateway, &templates.gateway, load).await?;
    Ok(ScalingRow {
        label,
        floor_p50_us: floor.total.p50,
        gateway_p50_us: gateway.total.p50,
        gateway_cpu_us_per_request: gateway.gateway_cpu_seconds * 1e6 / gateway.requests as f64,
    })
}
