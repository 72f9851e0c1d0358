//! `bench`: drives any RocketMQ-protocol broker through its name server and reports latency
//! percentiles, throughput, errors and broker CPU/RSS next to raw floors. See bench/README.md.

use clap::{Args, Parser, Subcommand};
use ringmq_bench::consume::PullSpec;
use ringmq_bench::floor::{self, FloorSpec, Floors};
use ringmq_bench::pipeline::{self, PipelineSpec};
use ringmq_bench::proc_stats;
use ringmq_bench::run::{Mode, RunResult, RunSpec};
use ringmq_bench::suite::{self, Outputs, Side, SuiteSpec, SweepSpec};
use ringmq_bench::workload::{sample_exchange, Limit, LoadSpec, Pace};
use ringmq_bench::{admin, route, BenchError};
use ringmq_protocol::SerializeType;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "bench",
    version,
    about = "Latency benchmark for RocketMQ-protocol brokers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Producers only: publish latency and throughput (closed loop, or open loop with --rate).
    Produce(RunArgs),
    /// Long-polling pull consumers from the current end of every queue: throughput and
    /// end-to-end latency of messages stamped by a bench producer.
    Consume(RunArgs),
    /// Producers (open loop with --rate) and consumers together: publish and end-to-end latency.
    E2e(RunArgs),
    /// Open-loop runs at increasing rates until p99 or errors break a threshold; then runs at 50%
    /// and 80% of the maximum sustainable throughput.
    Sweep(SweepArgs),
    /// The same workload against several name servers in alternation (A B A B ...), with ratios.
    Compare(CompareArgs),
    /// The standard suite (runs 1, 2, 3 and 5 of bench/README.md) against one name server.
    Suite(SuiteArgs),
    /// Pipelined rate of a trivial request (GET_MAX_OFFSET) at a broker, next to a plain
    /// blocking-socket server answering the same frames, in alternation, with the ratio.
    Pipeline(PipelineArgs),
}

#[derive(Args, Clone)]
struct Target {
    /// Name server address (repeat for `compare`).
    #[arg(short = 'n', long = "namesrv", default_value = "127.0.0.1:9876")]
    namesrv: Vec<String>,
    /// Pid of the broker on this machine, for its CPU time and RSS (repeat for `compare`, in
    /// --namesrv order).
    #[arg(long = "broker-pid")]
    broker_pid: Vec<u32>,
    /// Timeout of every request, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    timeout_ms: u64,
}

#[derive(Args, Clone)]
struct TopicArgs {
    #[arg(short = 't', long, default_value = "BenchTopic")]
    topic: String,
    /// Number of topics: more than 1 uses TOPIC_000, TOPIC_001, ...
    #[arg(long, default_value_t = 1)]
    topics: usize,
    /// Queues per topic when creating (or auto-creating) topics.
    #[arg(long, default_value_t = 8)]
    queues: i32,
    /// Create the topics first on every master broker (UPDATE_AND_CREATE_TOPIC).
    #[arg(long)]
    create_topic: bool,
}

#[derive(Args, Clone)]
struct LoadArgs {
    /// Message body size in bytes.
    #[arg(short = 's', long, default_value_t = 1024)]
    size: usize,
    /// Connections per broker.
    #[arg(short = 'c', long, default_value_t = 1)]
    connections: usize,
    /// Concurrent requests per connection.
    #[arg(short = 'i', long, default_value_t = 1)]
    inflight: usize,
    /// Open loop at this many messages per second in total; closed loop when absent.
    #[arg(short = 'r', long)]
    rate: Option<f64>,
    /// Send oneway (no answers; needs --rate).
    #[arg(long)]
    oneway: bool,
    #[arg(long, default_value = "ringmq_bench_producer")]
    producer_group: String,
}

#[derive(Args, Clone)]
struct TimeArgs {
    /// Measured seconds (after the warm-up).
    #[arg(short = 'd', long, default_value_t = 5.0)]
    duration: f64,
    /// Measured messages instead of a duration.
    #[arg(short = 'm', long)]
    messages: Option<u64>,
    /// Warm-up seconds, excluded from every figure.
    #[arg(short = 'w', long, default_value_t = 1.0)]
    warmup: f64,
}

#[derive(Args, Clone)]
struct PullArgs {
    /// How long the broker may hold a pull (suspendTimeoutMillis).
    #[arg(long, default_value_t = 5000)]
    suspend_ms: u64,
    #[arg(long, default_value_t = 32)]
    pull_batch: i32,
    #[arg(long, default_value = "ringmq_bench_consumer")]
    group: String,
    /// Seconds to wait for the last messages after the last send.
    #[arg(long, default_value_t = 5.0)]
    drain: f64,
}

#[derive(Args, Clone)]
struct OutputArgs {
    /// Write the HdrHistogram V2 interval log here.
    #[arg(long)]
    hist_log: Option<PathBuf>,
    /// Write an SVG latency-percentile plot of the runs here.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Directory on the store's file system for the disk floor.
    #[arg(long, default_value = "/var/tmp")]
    floor_dir: PathBuf,
    /// Skip the floors.
    #[arg(long)]
    no_floor: bool,
    /// Round trips in the loopback floor (disk floor: a tenth).
    #[arg(long, default_value_t = 2000)]
    floor_samples: usize,
    /// No progress lines on stderr.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Run name in tables, JSON, the log and the plot.
    #[arg(long)]
    name: Option<String>,
}

#[derive(Args, Clone)]
struct RunArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    topic: TopicArgs,
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    time: TimeArgs,
    #[command(flatten)]
    pull: PullArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args, Clone)]
struct SweepArgs {
    #[command(flatten)]
    run: RunArgs,
    #[arg(long, default_value_t = 1000.0)]
    start_rate: f64,
    /// Rate multiplier per step.
    #[arg(long, default_value_t = 1.5)]
    factor: f64,
    #[arg(long, default_value_t = 10)]
    max_steps: usize,
    /// A step fails when publish (or e2e) p99 exceeds this.
    #[arg(long, default_value_t = 10.0)]
    p99_limit_ms: f64,
    /// A step fails when more than this fraction of sends fails.
    #[arg(long, default_value_t = 0.001)]
    max_error_ratio: f64,
    /// Consume too, and hold end-to-end p99 to the limit as well.
    #[arg(long)]
    e2e: bool,
}

#[derive(Args, Clone)]
struct CompareArgs {
    #[command(flatten)]
    run: RunArgs,
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Consume too (end-to-end latency).
    #[arg(long)]
    e2e: bool,
}

#[derive(Args, Clone)]
struct SuiteArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    time: TimeArgs,
    #[command(flatten)]
    pull: PullArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[arg(short = 't', long, default_value = "BenchTopic")]
    topic: String,
    #[arg(long, default_value_t = 8)]
    queues: i32,
    /// Topics of run 5.
    #[arg(long, default_value_t = 100)]
    many_topics: usize,
    #[arg(short = 's', long, default_value_t = 1024)]
    size: usize,
    /// Which runs (comma-separated, of 1,2,3,5).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,5")]
    runs: Vec<u32>,
    /// Run 3's 100% in msgs/s (default: run 2's throughput).
    #[arg(long)]
    max_rate: Option<f64>,
    /// Prefix of the run names.
    #[arg(long, default_value = "")]
    label: String,
    /// Do not create the topics (they must exist).
    #[arg(long)]
    no_create: bool,
}

#[derive(Args, Clone)]
struct PipelineArgs {
    /// The broker's own address (not the name server's).
    #[arg(short = 'b', long, default_value = "127.0.0.1:10911")]
    broker: std::net::SocketAddr,
    /// Pid of the broker on this machine, for its CPU time.
    #[arg(long)]
    broker_pid: Option<u32>,
    #[arg(short = 'c', long, default_value_t = 8)]
    connections: usize,
    /// Requests in flight per connection.
    #[arg(short = 'i', long, default_value_t = 16)]
    depth: usize,
    /// Measured seconds of each run.
    #[arg(short = 'd', long, default_value_t = 5.0)]
    duration: f64,
    #[arg(short = 'w', long, default_value_t = 1.0)]
    warmup: f64,
    /// Runs of each server (echo, broker, echo, broker, ...).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Send the request with the ROCKETMQ binary header (what Java's own benchmark tool uses)
    /// instead of the Java client's default JSON header.
    #[arg(long)]
    rocketmq: bool,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    raise_memlock_limit();
    let cli = Cli::parse();
    match ringmq_bench::block_on(move || execute(cli.command)).and_then(|r| r) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// glommio's io_uring rings need locked memory; raise the soft limit to the hard one.
fn raise_memlock_limit() {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_MEMLOCK, &r);
        }
    }
}

async fn execute(command: Command) -> Result<(), BenchError> {
    match command {
        Command::Produce(a) => single(a, Mode::Produce).await,
        Command::Consume(a) => single(a, Mode::Consume).await,
        Command::E2e(a) => single(a, Mode::E2e).await,
        Command::Sweep(a) => sweep(a).await,
        Command::Compare(a) => compare(a).await,
        Command::Suite(a) => suite_cmd(a).await,
        // Blocking threads of its own; nothing else runs on the executor meanwhile.
        Command::Pipeline(a) => pipeline_cmd(a),
    }
}

fn secs(s: f64, what: &str) -> Result<Duration, BenchError> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| BenchError::Settings(format!("{what}: {s} is not a number of seconds")))
}

fn limit(t: &TimeArgs) -> Result<Limit, BenchError> {
    Ok(match t.messages {
        Some(n) => Limit::Messages(n),
        None => Limit::Duration(secs(t.duration, "--duration")?),
    })
}

fn pull_spec(p: &PullArgs, timeout: Duration) -> PullSpec {
    PullSpec {
        group: p.group.clone(),
        suspend: Duration::from_millis(p.suspend_ms),
        batch: p.pull_batch,
        call_timeout: timeout,
    }
}

fn outputs(o: &OutputArgs) -> Outputs {
    Outputs {
        hist_log: o.hist_log.clone(),
        plot: o.plot.clone(),
    }
}

fn spec_from(a: &RunArgs, mode: Mode, default_name: &str) -> Result<RunSpec, BenchError> {
    let timeout = Duration::from_millis(a.target.timeout_ms);
    Ok(RunSpec {
        name: a
            .output
            .name
            .clone()
            .unwrap_or_else(|| default_name.to_owned()),
        namesrv: a.target.namesrv.first().cloned().unwrap_or_default(),
        topics: route::topic_names(&a.topic.topic, a.topic.topics),
        mode,
        load: LoadSpec {
            connections: a.load.connections,
            inflight: a.load.inflight,
            size: a.load.size,
            pace: a.load.rate.map_or(Pace::Closed, |rate| Pace::Open { rate }),
            oneway: a.load.oneway,
            call_timeout: timeout,
            producer_group: a.load.producer_group.clone(),
            auto_create_queues: a.topic.queues,
        },
        pull: pull_spec(&a.pull, timeout),
        warmup: secs(a.time.warmup, "--warmup")?,
        limit: limit(&a.time)?,
        drain: secs(a.pull.drain, "--drain")?,
        broker_pid: a.target.broker_pid.first().copied(),
        progress: !a.output.quiet,
    })
}

/// Fails fast on an unreachable name server, before minutes go into floors and warm-ups.
async fn preflight(namesrvs: &[String], timeout: Duration) -> Result<(), BenchError> {
    for n in namesrvs {
        route::connect_namesrv(n, timeout).await?.close();
    }
    Ok(())
}

/// The floors, unless skipped.
async fn floors(o: &OutputArgs, load: &LoadSpec) -> Option<Floors> {
    if o.no_floor {
        return None;
    }
    let spec = FloorSpec {
        loopback_samples: o.floor_samples,
        disk_samples: (o.floor_samples / 10).max(10),
        disk_dir: o.floor_dir.clone(),
    };
    let (request, response_bytes) = sample_exchange(load);
    eprintln!(
        "measuring the floors (loopback RTT, 4 KiB O_DIRECT write + fdatasync in {})",
        o.floor_dir.display()
    );
    let f = floor::measure(&spec, request, response_bytes).await;
    for (what, r) in [("loopback", &f.loopback), ("disk", &f.disk)] {
        if let Err(e) = r {
            eprintln!("warning: {what} floor not measured: {e}");
        }
    }
    Some(f)
}

async fn create_if_asked(a: &RunArgs, spec: &RunSpec) -> Result<(), BenchError> {
    if a.topic.create_topic {
        admin::create_topics(
            &spec.namesrv,
            &spec.topics,
            a.topic.queues,
            spec.load.call_timeout,
        )
        .await?;
    }
    Ok(())
}

async fn single(a: RunArgs, mode: Mode) -> Result<(), BenchError> {
    let spec = spec_from(&a, mode, mode.name())?;
    if mode == Mode::E2e && a.load.rate.is_none() {
        eprintln!("note: e2e without --rate runs closed loop; latency then hides broker stalls");
    }
    preflight(&a.target.namesrv[..1], spec.load.call_timeout).await?;
    create_if_asked(&a, &spec).await?;
    let floors = floors(&a.output, &spec.load).await;
    let r = suite::run_and_report(spec, floors.as_ref()).await?;
    suite::finish(&[&r], floors.as_ref(), &outputs(&a.output), &r.spec.name)
}

async fn sweep(a: SweepArgs) -> Result<(), BenchError> {
    let mode = if a.e2e { Mode::E2e } else { Mode::Produce };
    let mut base = spec_from(&a.run, mode, "sweep")?;
    if base.load.inflight * base.load.connections < 16 {
        eprintln!("note: open-loop sweeps need room to queue; consider --connections/--inflight with 64+ in flight");
    }
    base.load.pace = Pace::Open { rate: a.start_rate };
    preflight(&a.run.target.namesrv[..1], base.load.call_timeout).await?;
    create_if_asked(&a.run, &base).await?;
    let floors = floors(&a.run.output, &base.load).await;
    let s = SweepSpec {
        base,
        start_rate: a.start_rate,
        factor: a.factor.max(1.01),
        max_steps: a.max_steps.max(1),
        p99_limit: secs(a.p99_limit_ms / 1000.0, "--p99-limit-ms")?,
        max_error_ratio: a.max_error_ratio,
    };
    let out = suite::sweep(&s, floors.as_ref()).await?;
    let all: Vec<&RunResult> = out.steps.iter().chain(&out.at_fractions).collect();
    suite::finish(&all, floors.as_ref(), &outputs(&a.run.output), "sweep")?;
    match out.max_sustainable {
        Some(m) => println!(
            "maximum sustainable throughput: {m:.0} msgs/s (p99 <= {} ms, errors <= {})",
            a.p99_limit_ms, a.max_error_ratio
        ),
        None => println!(
            "no rate met the thresholds, not even --start-rate {}",
            a.start_rate
        ),
    }
    Ok(())
}

async fn compare(a: CompareArgs) -> Result<(), BenchError> {
    if a.run.target.namesrv.len() < 2 {
        return Err(BenchError::Settings(
            "compare needs at least two --namesrv addresses".into(),
        ));
    }
    let mode = if a.e2e { Mode::E2e } else { Mode::Produce };
    let base = spec_from(&a.run, mode, mode.name())?;
    let sides: Vec<Side> = a
        .run
        .target
        .namesrv
        .iter()
        .enumerate()
        .map(|(i, n)| Side {
            namesrv: n.clone(),
            broker_pid: a.run.target.broker_pid.get(i).copied(),
        })
        .collect();
    preflight(&a.run.target.namesrv, base.load.call_timeout).await?;
    for side in &sides {
        let mut s = base.clone();
        s.namesrv = side.namesrv.clone();
        create_if_asked(&a.run, &s).await?;
    }
    let floors = floors(&a.run.output, &base.load).await;
    let results = suite::compare(&base, &sides, a.rounds.max(1), floors.as_ref()).await?;
    let all: Vec<&RunResult> = results.iter().collect();
    suite::finish(&all, floors.as_ref(), &outputs(&a.run.output), "compare")
}

async fn suite_cmd(a: SuiteArgs) -> Result<(), BenchError> {
    let timeout = Duration::from_millis(a.target.timeout_ms);
    let base = RunSpec {
        name: String::new(),
        namesrv: a.target.namesrv.first().cloned().unwrap_or_default(),
        topics: vec![a.topic.clone()],
        mode: Mode::Produce,
        load: LoadSpec {
            connections: 1,
            inflight: 1,
            size: a.size,
            pace: Pace::Closed,
            oneway: false,
            call_timeout: timeout,
            producer_group: "ringmq_bench_producer".into(),
            auto_create_queues: a.queues,
        },
        pull: pull_spec(&a.pull, timeout),
        warmup: secs(a.time.warmup, "--warmup")?,
        limit: limit(&a.time)?,
        drain: secs(a.pull.drain, "--drain")?,
        broker_pid: a.target.broker_pid.first().copied(),
        progress: !a.output.quiet,
    };
    if let Some(bad) = a.runs.iter().find(|r| ![1, 2, 3, 5].contains(*r)) {
        return Err(BenchError::Settings(format!(
            "--runs: no run {bad} (1, 2, 3 and 5; run 4 is run 3 against a SYNC_FLUSH broker)"
        )));
    }
    preflight(&a.target.namesrv[..1], timeout).await?;
    let floors = floors(&a.output, &base.load).await;
    let s = SuiteSpec {
        base,
        runs: a.runs.clone(),
        max_rate: a.max_rate,
        label: a.label.clone(),
        create_topics: !a.no_create,
        base_topic: a.topic.clone(),
        queues: a.queues,
        many_topics: a.many_topics,
    };
    let results = suite::standard_suite(&s, floors.as_ref()).await?;
    let all: Vec<&RunResult> = results.iter().collect();
    let title = format!("{}suite against {}", a.label, s.base.namesrv);
    suite::finish(&all, floors.as_ref(), &outputs(&a.output), &title)
}

fn pipeline_cmd(a: PipelineArgs) -> Result<(), BenchError> {
    let spec = PipelineSpec {
        connections: a.connections.max(1),
        depth: a.depth.max(1),
        warmup: secs(a.warmup, "--warmup")?,
        duration: secs(a.duration, "--duration")?,
    };
    let encoding = if a.rocketmq {
        SerializeType::RocketMq
    } else {
        SerializeType::Json
    };
    let request = pipeline::trivial_request(encoding);
    let answer = pipeline::sample_answer(a.broker, &request)?;
    let echo = pipeline::start_echo(answer.clone())?;
    println!(
        "pipelined GET_MAX_OFFSET ({} header, {} B request, {} B answer), {} connections x {} in \
         flight, {:.1} s per run",
        if a.rocketmq { "ROCKETMQ" } else { "JSON" },
        request.len(),
        answer.len(),
        spec.connections,
        spec.depth,
        spec.duration.as_secs_f64()
    );
    println!(
        "{:<6} {:<44} {:>12} {:>11}",
        "round", "server", "req/s", "server cpu"
    );
    let mut ratios = Vec::new();
    for round in 1..=a.rounds.max(1) {
        let floor = pipeline::drive(echo, request.clone(), &spec)?;
        let echo_name = format!("echo {echo} ({})", floor::LOOPBACK_SERVER);
        println!(
            "{round:<6} {echo_name:<44} {:>12.0} {:>11}",
            floor.rate(),
            "-"
        );
        let before = a.broker_pid.and_then(proc_stats::sample);
        let broker = pipeline::drive(a.broker, request.clone(), &spec)?;
        let cpu = match (a.broker_pid, before) {
            (Some(pid), Some(from)) => proc_stats::sample(pid)
                .map(|to| format!("{:.0}%", proc_stats::usage(pid, &from, &to).cpu_pct())),
            _ => None,
        };
        let broker_name = format!("broker {}", a.broker);
        println!(
            "{round:<6} {broker_name:<44} {:>12.0} {:>11}",
            broker.rate(),
            cpu.as_deref().unwrap_or("-")
        );
        ratios.push(broker.rate() / floor.rate().max(1e-9));
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!(
        "broker / echo: {median:.2}x (median of {} rounds; each round's: {})",
        ratios.len(),
        ratios
            .iter()
            .map(|r| format!("{r:.2}x"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}
