//! What a benchmark run measured: the rows, the ratios, the targets, printed and as JSON.

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::Options;
use crate::load::Pace;

/// Who answered: the mock directly (the floor) or the gateway in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Straight to the mock with the equivalent Bedrock request.
    Floor,
    /// Through the gateway.
    Gateway,
}

impl Target {
    /// `floor` or `gateway`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Floor => "floor",
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
    pub(crate) mock_cpu_seconds: f64,
    pub(crate) loadgen_cpu_seconds: f64,
    pub(crate) gateway_peak_rss_kib: u64,
}

impl Run {
    fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn gateway_cpu_per_1k(&self) -> f64 {
        self.gateway_cpu_seconds * 1000.0 / self.requests.max(1) as f64
    }

    fn pace_name(&self) -> String {
        match self.pace {
            Pace::ClosedLoop => "full speed".to_owned(),
            Pace::Rate(rate) => format!("{rate:.0}/s"),
        }
    }

    /// One line for the progress output.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{:<8} {:<10} {:>9.0} req/s  p50 {:>6} µs  p99 {:>6} µs  errors {}",
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
            "gateway_peak_rss_kib": self.gateway_peak_rss_kib,
            "mock_cpu_cores": self.mock_cpu_seconds / self.seconds,
            "loadgen_cpu_cores": self.loadgen_cpu_seconds / self.seconds,
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

    /// Gateway over floor, per scenario: throughput ratio and added latencies at the fixed rate.
    fn ratios(&self) -> Vec<(&'static str, f64, Percentiles, Percentiles)> {
        let mut out = Vec::new();
        for scenario in ["chat", "stream", "embeddings"] {
            let (Some(floor), Some(gateway), Some(floor_rate), Some(gateway_rate)) = (
                self.find(scenario, Target::Floor, true),
                self.find(scenario, Target::Gateway, true),
                self.find(scenario, Target::Floor, false),
                self.find(scenario, Target::Gateway, false),
            ) else {
                continue;
            };
            let diff = |g: Percentiles, f: Percentiles| Percentiles {
                p50: g.p50.saturating_sub(f.p50),
                p90: g.p90.saturating_sub(f.p90),
                p99: g.p99.saturating_sub(f.p99),
                max: g.max.saturating_sub(f.max),
            };
            out.push((
                scenario,
                gateway.requests_per_second() / floor.requests_per_second(),
                diff(gateway_rate.total, floor_rate.total),
                diff(gateway_rate.first_byte, floor_rate.first_byte),
            ));
        }
        out
    }

    fn checks(&self) -> Vec<Check> {
        let ratios = self.ratios();
        let get = |name: &str| ratios.iter().find(|r| r.0 == name);
        let mut checks = Vec::new();
        if let Some((_, throughput, added, _)) = get("chat") {
            checks.push(Check {
                what: "non-streaming throughput, share of the floor's",
                measured: throughput * 100.0,
                limit: 50.0,
                unit: "%",
                at_most: false,
            });
            checks.push(Check {
                what: "non-streaming added latency p50",
                measured: added.p50 as f64,
                limit: 150.0,
                unit: "µs",
                at_most: true,
            });
            checks.push(Check {
                what: "non-streaming added latency p99",
                measured: added.p99 as f64,
                limit: 1000.0,
                unit: "µs",
                at_most: true,
            });
        }
        if let Some((_, _, _, first)) = get("stream") {
            checks.push(Check {
                what: "streaming added time to first chunk p50",
                measured: first.p50 as f64,
                limit: 200.0,
                unit: "µs",
                at_most: true,
            });
        }
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

    /// Prints the tables.
    pub(crate) fn print(&self) {
        println!();
        println!(
            "bedrock-gateway benchmark: {} cores ({}), {} connections, fixed rate {:.0} req/s",
            self.cores, self.cpu, self.concurrency, self.rate
        );
        println!();
        println!(
            "{:<10} {:<8} {:<10} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>10} {:>8} {:>6} {:>6}",
            "scenario",
            "target",
            "pace",
            "req/s",
            "p50µs",
            "p90µs",
            "p99µs",
            "1st p50",
            "1st p99",
            "gw CPU s/1k",
            "gw MiB",
            "mock",
            "loadgen"
        );
        for run in &self.runs {
            if run.scenario == "scaling" {
                continue;
            }
            let cpu = if run.target == Target::Gateway {
                format!("{:.4}", run.gateway_cpu_per_1k())
            } else {
                "-".to_owned()
            };
            let streaming = run.scenario == "stream";
            let first = |v: u64| {
                if streaming {
                    v.to_string()
                } else {
                    "-".to_owned()
                }
            };
            println!(
                "{:<10} {:<8} {:<10} {:>9.0} {:>7} {:>7} {:>7} {:>7} {:>7} {:>10} {:>8.1} {:>5.0}% {:>5.0}%",
                run.scenario,
                run.target.name(),
                run.pace_name(),
                run.requests_per_second(),
                run.total.p50,
                run.total.p90,
                run.total.p99,
                first(run.first_byte.p50),
                first(run.first_byte.p99),
                cpu,
                mib(run.gateway_peak_rss_kib),
                100.0 * run.mock_cpu_seconds / run.seconds,
                100.0 * run.loadgen_cpu_seconds / run.seconds,
            );
        }
        println!(
            "(mock and loadgen: CPU in % of one core; errors: {})",
            self.runs.iter().map(|r| r.errors).sum::<u64>()
        );
        println!();
        println!("gateway / floor:");
        for (scenario, throughput, added, first) in self.ratios() {
            println!(
                "  {scenario:<10} throughput {:>5.1}%   added latency p50 {:>5} µs  p99 {:>5} µs   added first chunk p50 {:>5} µs  p99 {:>5} µs",
                throughput * 100.0,
                added.p50,
                added.p99,
                first.p50,
                first.p99
            );
        }
        println!();
        print!("memory: gateway idle {:.1} MiB", mib(self.idle_rss_kib));
        match &self.streams {
            Some(streams) => println!("; {}", streams.summary()),
            None => println!(),
        }
        println!();
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
        println!();
        println!("targets:");
        for check in self.checks() {
            let relation = if check.at_most { "≤" } else { "≥" };
            println!(
                "  [{}] {}: {:.1} {} ({relation} {} {})",
                if check.met() { "met" } else { "NOT MET" },
                check.what,
                check.measured,
                check.unit,
                check.limit,
                check.unit
            );
        }
    }

    /// The same as JSON.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "machine": {"cores": self.cores, "cpu": self.cpu},
            "concurrency": self.concurrency,
            "fixed_rate_per_second": self.rate,
            "gateway_idle_rss_kib": self.idle_rss_kib,
            "runs": self.runs.iter().map(Run::to_json).collect::<Vec<_>>(),
            "ratios": self.ratios().iter().map(|(scenario, throughput, added, first)| json!({
                "scenario": scenario,
                "throughput_share_of_floor": throughput,
                "added_latency": added.to_json(),
                "added_first_byte": first.to_json(),
            })).collect::<Vec<_>>(),
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
