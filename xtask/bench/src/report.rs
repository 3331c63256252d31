//! What a benchmark run measured: the rows, the ratios, the targets, printed and as JSON.

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::Options;
use crate::load::Pace;

/// Who answered: the mock directly (the floor), or the bare proxy or the gateway in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Straight to the mock with the equivalent Bedrock request.
    Floor,
    /// The same Bedrock request through the bare pass-through proxy (`bare-proxy`).
    BareProxy,
    /// The OpenAI request through the gateway.
    Gateway,
}

impl Target {
    /// Each target, in the order they run.
    pub(crate) const ALL: [Self; 3] = [Self::Floor, Self::BareProxy, Self::Gateway];

    /// `floor`, `bare-proxy` or `gateway`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Floor => "floor",
            Self::BareProxy => "bare-proxy",
            Self::Gateway => "gateway",
        }
    }
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Percentiles {
    pub(crate) p50: u64,
    pub(crate) p90: u64,
    pub(crate) p99: u64,
    pub(crate) max: u64,
}

impl Percentiles {
    /// The percentiles of a histogram (zeros when empty).
    pub(crate) fn of(histogram: &Histogram<u64>) -> Self {
        Self {
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            max: histogram.max(),
        }
    }

    fn to_json(self) -> Value {
        json!({"p50_us": self.p50, "p90_us": self.p90, "p99_us": self.p99, "max_us": self.max})
    }
}

/// One target's latency percentiles minus another's, in microseconds (negative when faster).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Added {
    pub(crate) p50: i64,
    pub(crate) p90: i64,
    pub(crate) p99: i64,
    pub(crate) max: i64,
}

impl Added {
    fn between(over: Percentiles, base: Percentiles) -> Self {
        let minus = |a: u64, b: u64| a as i64 - b as i64;
        Self {
            p50: minus(over.p50, base.p50),
            p90: minus(over.p90, base.p90),
            p99: minus(over.p99, base.p99),
            max: minus(over.max, base.max),
        }
    }

    fn to_json(self) -> Value {
        json!({"p50_us": self.p50, "p90_us": self.p90, "p99_us": self.p99, "max_us": self.max})
    }
}

/// One template under one load.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) scenario: &'static str,
    pub(crate) target: Target,
    pub(crate) pace: Pace,
    pub(crate) connections: usize,
    /// Complete 2xx answers while recording.
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) late_starts: u64,
    pub(crate) seconds: f64,
    /// Request start to last byte.
    pub(crate) total: Percentiles,
    /// Request start to first body byte (the first chunk of a stream).
    pub(crate) first_byte: Percentiles,
    pub(crate) gateway_cpu_seconds: f64,
    pub(crate) bare_proxy_cpu_seconds: f64,
    pub(crate) mock_cpu_seconds: f64,
    pub(crate) loadgen_cpu_seconds: f64,
    pub(crate) gateway_peak_rss_kib: u64,
    /// The scenario whose run this is (same target, same pace, same Bedrock request), when it
    /// was not measured again.
    pub(crate) reused_from: Option<&'static str>,
}

/// The scenarios, in the order of the ratio blocks.
const SCENARIOS: [&str; 7] = [
    "chat",
    "stream",
    "embeddings",
    "responses",
    "resp-stream",
    "messages",
    "msg-stream",
];

/// Whether the scenario's answers are streams (a time to first chunk, a lower fixed rate).
pub(crate) fn streams(scenario: &str) -> bool {
    matches!(scenario, "stream" | "resp-stream" | "msg-stream")
}

/// The other doors against the chat door, through the gateway: (door, chat scenario).
const DOORS_OVER_CHAT: [(&str, &str); 4] = [
    ("responses", "chat"),
    ("resp-stream", "stream"),
    ("messages", "chat"),
    ("msg-stream", "stream"),
];

impl Run {
    fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn gateway_cpu_per_1k(&self) -> f64 {
        self.gateway_cpu_seconds * 1000.0 / self.requests.max(1) as f64
    }

    /// CPU seconds per 1,000 answers of the proxy in the middle (none for the floor).
    fn proxy_cpu_per_1k(&self) -> Option<f64> {
        let seconds = match self.target {
            Target::Floor => return None,
            Target::BareProxy => self.bare_proxy_cpu_seconds,
            Target::Gateway => self.gateway_cpu_seconds,
        };
        Some(seconds * 1000.0 / self.requests.max(1) as f64)
    }

    fn pace_name(&self) -> String {
        match self.pace {
            Pace::ClosedLoop => "full speed".to_owned(),
            Pace::Rate(rate) => format!("{rate:.0}/s"),
        }
    }

    /// One line of the table.
    fn row(&self) -> String {
        let first = |v: u64| {
            if streams(self.scenario) {
                v.to_string()
            } else {
                "-".to_owned()
            }
        };
        format!(
            "{:<11} {:<10} {:<10} {:>9.0} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>7.1} {:>5.0}% {:>5.0}%",
            self.scenario,
            self.target.name(),
            self.pace_name(),
            self.requests_per_second(),
            self.total.p50,
            self.total.p90,
            self.total.p99,
            first(self.first_byte.p50),
            first(self.first_byte.p99),
            self.proxy_cpu_per_1k()
                .map_or_else(|| "-".to_owned(), |cpu| format!("{cpu:.4}")),
            mib(self.gateway_peak_rss_kib),
            100.0 * self.mock_cpu_seconds / self.seconds,
            100.0 * self.loadgen_cpu_seconds / self.seconds,
        )
    }

    /// One line for the progress output.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{:<10} {:<10} {:>9.0} req/s  p50 {:>6} µs  p99 {:>6} µs  errors {}",
            self.target.name(),
            self.pace_name(),
            self.requests_per_second(),
            self.total.p50,
            self.total.p99,
            self.errors
        )
    }

    fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "target": self.target.name(),
            "pace": self.pace_name(),
            "connections": self.connections,
            "requests": self.requests,
            "errors": self.errors,
            "late_starts": self.late_starts,
            "seconds": self.seconds,
            "requests_per_second": self.requests_per_second(),
            "latency": self.total.to_json(),
            "first_byte": self.first_byte.to_json(),
            "gateway_cpu_seconds_per_1000_requests": (self.target == Target::Gateway).then(|| self.gateway_cpu_per_1k()),
            "bare_proxy_cpu_seconds_per_1000_requests": self.proxy_cpu_per_1k().filter(|_| self.target == Target::BareProxy),
            "gateway_peak_rss_kib": self.gateway_peak_rss_kib,
            "mock_cpu_cores": self.mock_cpu_seconds / self.seconds,
            "loadgen_cpu_cores": self.loadgen_cpu_seconds / self.seconds,
            "reused_from": self.reused_from,
        })
    }
}

/// Gateway memory with many streams open at once.
#[derive(Debug, Clone)]
pub(crate) struct StreamMemory {
    pub(crate) streams: usize,
    pub(crate) completed: usize,
    pub(crate) rss_before_kib: u64,
    pub(crate) rss_all_open_kib: u64,
    pub(crate) peak_rss_kib: u64,
}

impl StreamMemory {
    /// One line for the progress output.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{} streams ({} completed): gateway RSS {:.1} MiB before, {:.1} MiB with all open, peak {:.1} MiB",
            self.streams,
            self.completed,
            mib(self.rss_before_kib),
            mib(self.rss_all_open_kib),
            mib(self.peak_rss_kib)
        )
    }
}

/// One line of the scaling table.
#[derive(Debug, Clone)]
pub(crate) struct ScalingRow {
    pub(crate) label: String,
    pub(crate) floor_p50_us: u64,
    pub(crate) gateway_p50_us: u64,
    pub(crate) gateway_cpu_us_per_request: f64,
}

impl ScalingRow {
    fn added_us(&self) -> i64 {
        self.gateway_p50_us as i64 - self.floor_p50_us as i64
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// One target of the issue and whether it was met.
#[derive(Debug, Clone)]
struct Check {
    what: &'static str,
    measured: f64,
    limit: f64,
    unit: &'static str,
    at_most: bool,
}

impl Check {
    fn met(&self) -> bool {
        if self.at_most {
            self.measured <= self.limit
        } else {
            self.measured >= self.limit
        }
    }

    /// `[met] what: measured unit (≤ limit unit)`.
    fn summary(&self) -> String {
        let relation = if self.at_most { "≤" } else { "≥" };
        format!(
            "[{}] {}: {:.1} {} ({relation} {} {})",
            if self.met() { "met" } else { "NOT MET" },
            self.what,
            self.measured,
            self.unit,
            self.limit,
            self.unit
        )
    }
}

/// Everything one run measured.
#[derive(Debug)]
pub(crate) struct Report {
    cores: usize,
    cpu: String,
    concurrency: usize,
    rate: f64,
    idle_rss_kib: u64,
    runs: Vec<Run>,
    streams: Option<StreamMemory>,
    scaling: Vec<ScalingRow>,
}

impl Report {
    /// Collects the results.
    pub(crate) fn new(
        options: &Options,
        idle_rss_kib: u64,
        runs: Vec<Run>,
        streams: Option<StreamMemory>,
        scaling: Vec<ScalingRow>,
    ) -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                    .map(|(_, name)| name.trim().to_owned())
            })
            .unwrap_or_default();
        Self {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            cpu,
            concurrency: options.concurrency,
            rate: options.rate,
            idle_rss_kib,
            runs,
            streams,
            scaling,
        }
    }

    fn find(&self, scenario: &str, target: Target, full_speed: bool) -> Option<&Run> {
        self.runs.iter().find(|r| {
            r.scenario == scenario
                && r.target == target
                && matches!(r.pace, Pace::ClosedLoop) == full_speed
        })
    }

    /// `over` against `base`, per scenario: throughput ratio at full speed and added latencies
    /// at the fixed rate.
    fn compare(&self, over: Target, base: Target) -> Vec<Comparison> {
        let mut out = Vec::new();
        for scenario in SCENARIOS {
            let (Some(base_full), Some(over_full), Some(base_rate), Some(over_rate)) = (
                self.find(scenario, base, true),
                self.find(scenario, over, true),
                self.find(scenario, base, false),
                self.find(scenario, over, false),
            ) else {
                continue;
            };
            out.push(Comparison {
                scenario,
                throughput: over_full.requests_per_second() / base_full.requests_per_second(),
                added: Added::between(over_rate.total, base_rate.total),
                added_first_byte: Added::between(over_rate.first_byte, base_rate.first_byte),
            });
        }
        out
    }

    fn checks(&self) -> Vec<Check> {
        let ratios = self.compare(Target::Gateway, Target::Floor);
        let get = |name: &str| ratios.iter().find(|r| r.scenario == name);
        let mut checks = Vec::new();
        if let Some(chat) = get("chat") {
            checks.push(Check {
                what: "non-streaming throughput, share of the floor's",
                measured: chat.throughput * 100.0,
                limit: 50.0,
                unit: "%",
                at_most: false,
            });
            checks.push(Check {
                what: "non-streaming added latency p50",
                measured: chat.added.p50 as f64,
                limit: 150.0,
                unit: "µs",
                at_most: true,
            });
            checks.push(Check {
                what: "non-streaming added latency p99",
                measured: chat.added.p99 as f64,
                limit: 1000.0,
                unit: "µs",
                at_most: true,
            });
        }
        if let Some(stream) = get("stream") {
            checks.push(Check {
                what: "streaming added time to first chunk p50",
                measured: stream.added_first_byte.p50 as f64,
                limit: 200.0,
                unit: "µs",
                at_most: true,
            });
        }
        checks.extend(self.bare_proxy_checks());
        if let Some(streams) = &self.streams {
            checks.push(Check {
                what: "peak RSS with 1,000 streams open",
                measured: mib(streams.peak_rss_kib),
                limit: 50.0,
                unit: "MiB",
                at_most: true,
            });
        }
        checks
    }

    /// The targets against the bare proxy: throughput at least 80% of its own for chat and
    /// streams, and non-streaming latency at the fixed rate within 50 µs (p50) of its own.
    fn bare_proxy_checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        for comparison in self.compare(Target::Gateway, Target::BareProxy) {
            let what = match comparison.scenario {
                "chat" => "non-streaming throughput, share of the bare proxy's",
                "stream" => "streaming throughput, share of the bare proxy's",
                _ => continue,
            };
            checks.push(Check {
                what,
                measured: comparison.throughput * 100.0,
                limit: 80.0,
                unit: "%",
                at_most: false,
            });
            if comparison.scenario == "chat" {
                checks.push(Check {
                    what: "non-streaming latency p50 over the bare proxy's",
                    measured: comparison.added.p50 as f64,
                    limit: 50.0,
                    unit: "µs",
                    at_most: true,
                });
            }
        }
        checks
    }

    /// Prints the tables.
    pub(crate) fn print(&self) {
        println!();
        println!(
            "bedrock-gateway benchmark: {} cores ({}), {} connections, fixed rate {:.0} req/s",
            self.cores, self.cpu, self.concurrency, self.rate
        );
        println!();
        self.print_runs();
        self.print_comparisons();
        print!("memory: gateway idle {:.1} MiB", mib(self.idle_rss_kib));
        match &self.streams {
            Some(streams) => println!("; {}", streams.summary()),
            None => println!(),
        }
        println!();
        if !self.scaling.is_empty() {
            self.print_scaling();
            println!();
        }
        println!("targets:");
        for check in self.checks() {
            println!("  {}", check.summary());
        }
    }

    fn print_runs(&self) {
        println!(
            "{:<11} {:<10} {:<10} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>7} {:>6} {:>6}",
            "scenario",
            "target",
            "pace",
            "req/s",
            "p50µs",
            "p90µs",
            "p99µs",
            "1st p50",
            "1st p99",
            "CPU s/1k",
            "gw MiB",
            "mock",
            "loadgen"
        );
        for run in self.runs.iter().filter(|run| run.scenario != "scaling") {
            println!("{}", run.row());
        }
        println!(
            "(CPU s/1k: CPU seconds of the gateway or the bare proxy per 1,000 answers; mock and \
             loadgen: CPU in % of one core; errors: {})",
            self.runs
                .iter()
                .filter(|r| r.reused_from.is_none())
                .map(|r| r.errors)
                .sum::<u64>()
        );
        let mut reused: Vec<(&str, &str)> = self
            .runs
            .iter()
            .filter_map(|r| Some((r.scenario, r.reused_from?)))
            .collect();
        reused.dedup();
        for (scenario, from) in reused {
            println!(
                "({scenario}: the floor and bare-proxy rows are {from}'s, the same Bedrock request)"
            );
        }
        println!();
    }

    /// The other doors against the chat door, gateway rows only: throughput at full speed as a
    /// share of chat's, gateway CPU per answer at full speed against chat's, and latency at the
    /// fixed rate minus chat's.
    fn doors(&self) -> Vec<Door> {
        DOORS_OVER_CHAT
            .iter()
            .filter_map(|&(door, chat)| {
                let full = |s| self.find(s, Target::Gateway, true);
                let rate = |s| self.find(s, Target::Gateway, false);
                let (door_full, chat_full) = (full(door)?, full(chat)?);
                let (door_rate, chat_rate) = (rate(door)?, rate(chat)?);
                Some(Door {
                    door,
                    chat,
                    throughput: door_full.requests_per_second() / chat_full.requests_per_second(),
                    cpu: door_full.gateway_cpu_per_1k() / chat_full.gateway_cpu_per_1k(),
                    added: Added::between(door_rate.total, chat_rate.total),
                })
            })
            .collect()
    }

    fn print_comparisons(&self) {
        for (over, base) in [
            (Target::Gateway, Target::Floor),
            (Target::BareProxy, Target::Floor),
            (Target::Gateway, Target::BareProxy),
        ] {
            let comparisons = self.compare(over, base);
            if comparisons.is_empty() {
                continue;
            }
            println!("{} / {}:", over.name(), base.name());
            for comparison in comparisons {
                println!("  {}", comparison.summary());
            }
        }
        let doors = self.doors();
        if !doors.is_empty() {
            println!("gateway, other doors / chat door:");
            for door in doors {
                println!("  {}", door.summary());
            }
        }
        println!();
    }

    fn print_scaling(&self) {
        println!("scaling (one request at a time):");
        println!(
            "  {:<20} {:>10} {:>10} {:>10} {:>14}",
            "work", "floor p50", "gw p50", "added", "gw CPU/req"
        );
        for row in &self.scaling {
            println!(
                "  {:<20} {:>8} µs {:>8} µs {:>8} µs {:>11.0} µs",
                row.label,
                row.floor_p50_us,
                row.gateway_p50_us,
                row.added_us(),
                row.gateway_cpu_us_per_request
            );
        }
    }

    /// The same as JSON.
    pub(crate) fn to_json(&self) -> Value {
        let comparisons = |over, base, share_key| {
            self.compare(over, base)
                .iter()
                .map(|c| c.to_json(share_key))
                .collect::<Vec<_>>()
        };
        json!({
            "machine": {"cores": self.cores, "cpu": self.cpu},
            "concurrency": self.concurrency,
            "fixed_rate_per_second": self.rate,
            "gateway_idle_rss_kib": self.idle_rss_kib,
            "runs": self.runs.iter().map(Run::to_json).collect::<Vec<_>>(),
            "ratios": comparisons(Target::Gateway, Target::Floor, "throughput_share_of_floor"),
            "bare_proxy_ratios": comparisons(Target::BareProxy, Target::Floor, "throughput_share_of_floor"),
            "gateway_over_bare_proxy": comparisons(Target::Gateway, Target::BareProxy, "throughput_share_of_bare_proxy"),
            "doors_over_chat": self.doors().iter().map(Door::to_json).collect::<Vec<_>>(),
            "simultaneous_streams": self.streams.as_ref().map(|s| json!({
                "streams": s.streams,
                "completed": s.completed,
                "rss_before_kib": s.rss_before_kib,
                "rss_all_open_kib": s.rss_all_open_kib,
                "peak_rss_kib": s.peak_rss_kib,
            })),
            "scaling": self.scaling.iter().map(|row| json!({
                "work": row.label,
                "floor_p50_us": row.floor_p50_us,
                "gateway_p50_us": row.gateway_p50_us,
                "added_p50_us": row.added_us(),
                "gateway_cpu_us_per_request": row.gateway_cpu_us_per_request,
            })).collect::<Vec<_>>(),
            "targets": self.checks().iter().map(|c| json!({
                "target": c.what, "measured": c.measured, "limit": c.limit, "unit": c.unit, "met": c.met(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// One target against another in one scenario.
#[derive(Debug, Clone)]
struct Comparison {
    scenario: &'static str,
    /// Requests per second at full speed, as a share of the base's.
    throughput: f64,
    /// Latency percentiles at the fixed rate minus the base's.
    added: Added,
    /// Time to first byte percentiles at the fixed rate minus the base's.
    added_first_byte: Added,
}

impl Comparison {
    fn summary(&self) -> String {
        format!(
            "{:<11} throughput {:>5.1}%   added latency p50 {:>5} µs  p99 {:>5} µs   added first chunk p50 {:>5} µs  p99 {:>5} µs",
            self.scenario,
            self.throughput * 100.0,
            self.added.p50,
            self.added.p99,
            self.added_first_byte.p50,
            self.added_first_byte.p99
        )
    }

    fn to_json(&self, share_key: &str) -> Value {
        let mut value = json!({
            "scenario": self.scenario,
            "added_latency": self.added.to_json(),
            "added_first_byte": self.added_first_byte.to_json(),
        });
        value[share_key] = json!(self.throughput);
        value
    }
}

/// Another door against the chat door, through the gateway.
#[derive(Debug, Clone)]
struct Door {
    door: &'static str,
    /// The chat scenario it is compared with (`chat` or `stream`).
    chat: &'static str,
    /// Requests per second at full speed, as a share of chat's.
    throughput: f64,
    /// Gateway CPU per answer at full speed, over chat's.
    cpu: f64,
    /// Latency percentiles at the fixed rate minus chat's.
    added: Added,
}

impl Door {
    fn summary(&self) -> String {
        format!(
            "{:<11} / {:<6} throughput {:>5.1}%   gateway CPU per answer {:>4.2}x   latency p50 {:>+5} µs  p99 {:>+5} µs",
            self.door,
            self.chat,
            self.throughput * 100.0,
            self.cpu,
            self.added.p50,
            self.added.p99
        )
    }

    fn to_json(&self) -> Value {
        json!({
            "scenario": self.door,
            "over": self.chat,
            "throughput_share_of_chat": self.throughput,
            "gateway_cpu_per_answer_over_chat": self.cpu,
            "added_latency": self.added.to_json(),
        })
    }
}
