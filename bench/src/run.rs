//! One measured run: look the topics up, connect, warm up, measure, drain, and hand back what
//! was recorded together with the broker's CPU and memory over the measured window.

use crate::clock::{sleep_until, Clock};
use crate::consume::{self, PullSpec, Window};
use crate::error::BenchError;
use crate::metrics::Recorder;
use crate::proc_stats::{self, ProcUsage};
use crate::route::{self, BrokerTarget, Missing};
use crate::workload::{self, Limit, LoadSpec, Pace, Producer, Schedule};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Producers only: publish latency and throughput.
    Produce,
    /// Consumers only, of whatever arrives: throughput and end-to-end latency of stamped messages.
    Consume,
    /// Producers and consumers together: publish and end-to-end latency.
    E2e,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Produce => "produce",
            Mode::Consume => "consume",
            Mode::E2e => "e2e",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Label in tables, JSON, the histogram log and the plot.
    pub name: String,
    pub namesrv: String,
    pub topics: Vec<String>,
    pub mode: Mode,
    pub load: LoadSpec,
    pub pull: PullSpec,
    pub warmup: Duration,
    pub limit: Limit,
    /// E2e: how long to wait after the last send for the last messages to arrive. Consume with a
    /// message limit: how long without arrivals ends the run.
    pub drain: Duration,
    pub broker_pid: Option<u32>,
    /// A line per second on stderr.
    pub progress: bool,
}

/// What a run measured.
pub struct RunResult {
    pub spec: RunSpec,
    pub brokers: Vec<BrokerTarget>,
    pub write_queues: usize,
    pub read_queues: usize,
    /// The measured window: warm-up end to the last measured completion.
    pub window: Duration,
    pub rec: Recorder,
    pub broker: Option<ProcUsage>,
    /// The harness's own CPU use: near 100% means the harness, not the broker, was the limit.
    pub bench: Option<ProcUsage>,
    pub started_at: SystemTime,
    /// Extra annotations for the JSON line (e.g. a sweep's maximum rate).
    pub notes: Vec<(String, f64)>,
}

/// Runs `spec` on the current glommio executor.
pub async fn run(spec: RunSpec) -> Result<RunResult, BenchError> {
    let producing = spec.mode != Mode::Consume;
    let consuming = spec.mode != Mode::Produce;
    if producing {
        spec.load.check()?;
    }
    let timeout = spec.load.call_timeout;
    let missing = match spec.mode {
        Mode::Produce => Missing::AutoCreate {
            queues: spec.load.auto_create_queues,
        },
        _ => Missing::Fail,
    };
    let topology = route::resolve(&spec.namesrv, &spec.topics, missing, timeout).await?;
    if producing && topology.write_queues.is_empty() {
        return Err(no_queues(&spec, "writable"));
    }
    if consuming && topology.read_queues.is_empty() {
        return Err(no_queues(&spec, "readable"));
    }
    let clock = Clock::new();
    let producer = if producing {
        let conns = workload::connect(&topology.brokers, spec.load.connections, timeout).await?;
        Some(Rc::new(Producer::new(
            spec.load.clone(),
            topology.brokers.clone(),
            topology.write_queues.clone(),
            conns,
            clock,
        )))
    } else {
        None
    };
    let pulls = if consuming {
        Some(consume::prepare(&topology.brokers, &topology.read_queues, timeout).await?)
    } else {
        None
    };

    let started_at = SystemTime::now();
    let start = Instant::now() + Duration::from_millis(10);
    let schedule = Rc::new(Schedule::new(
        start,
        spec.warmup,
        spec.limit,
        spec.load.pace,
    ));
    let warm_end = schedule.warm_end;
    let rec = Rc::new(RefCell::new(Recorder::new(start)));
    let consumers = pulls.map(|(clients, starts)| {
        let window = match spec.mode {
            Mode::E2e => Window::ProducedSince {
                from_us: clock.wall_us(warm_end),
            },
            _ => Window::ArrivedBetween {
                from: warm_end,
                until: match spec.limit {
                    Limit::Duration(d) => warm_end + d,
                    Limit::Messages(_) => warm_end + Duration::from_secs(365 * 86_400),
                },
            },
        };
        consume::start(
            &topology.brokers,
            clients,
            starts,
            &spec.pull,
            window,
            rec.clone(),
            clock,
        )
    });
    let done = Rc::new(Cell::new(false));
    let ticker = glommio::spawn_local(tick(spec.clone(), rec.clone(), done.clone()));
    let pids: Vec<u32> = spec
        .broker_pid
        .into_iter()
        .chain([std::process::id()])
        .collect();
    let first_samples = glommio::spawn_local(async move {
        sleep_until(warm_end).await;
        pids.iter()
            .map(|p| (*p, proc_stats::sample(*p)))
            .collect::<Vec<_>>()
    });

    let produced = match &producer {
        Some(p) => workload::produce(p.clone(), schedule.clone(), rec.clone()).await,
        None => {
            wait_for_consumers(&spec, &rec, warm_end).await;
            Ok(())
        }
    };
    let measured_end = Instant::now();
    let ends: Vec<_> = spec
        .broker_pid
        .into_iter()
        .chain([std::process::id()])
        .map(|p| (p, proc_stats::sample(p)))
        .collect();
    if spec.mode == Mode::E2e && produced.is_ok() {
        drain(&spec, &rec).await;
    }
    if let Some(c) = consumers {
        c.stop().await;
    }
    if let Some(p) = &producer {
        p.close();
    }
    done.set(true);
    ticker.await;
    produced?;

    let starts = if measured_end >= warm_end {
        first_samples.await
    } else {
        Vec::new()
    };
    let mut usages = starts
        .iter()
        .zip(&ends)
        .map(|((pid, a), (_, b))| match (a, b) {
            (Some(a), Some(b)) => Some(proc_stats::usage(*pid, a, b)),
            _ => None,
        });
    let broker = if spec.broker_pid.is_some() {
        usages.next().flatten()
    } else {
        None
    };
    let bench = usages.next().flatten();
    let rec = Rc::try_unwrap(rec)
        .map_err(|_| BenchError::Executor("a task outlived its run".into()))?
        .into_inner();
    let last = match spec.mode {
        Mode::Consume => rec.last_consume,
        _ => rec.last_publish,
    };
    let window = match (spec.limit, last) {
        (Limit::Duration(d), None) => d,
        (_, last) => last
            .unwrap_or(measured_end)
            .saturating_duration_since(warm_end),
    };
    Ok(RunResult {
        brokers: topology.brokers,
        write_queues: topology.write_queues.len(),
        read_queues: topology.read_queues.len(),
        window,
        rec,
        broker,
        bench,
        started_at,
        notes: Vec::new(),
        spec,
    })
}

fn no_queues(spec: &RunSpec, what: &str) -> BenchError {
    BenchError::BadRoute {
        topic: spec.topics.join(","),
        namesrv: spec.namesrv.clone(),
        reason: format!("no {what} queue on any broker"),
    }
}

/// Consume-only: until the duration passes, or until the message count is reached (or nothing
/// arrived for `drain`).
async fn wait_for_consumers(spec: &RunSpec, rec: &Rc<RefCell<Recorder>>, warm_end: Instant) {
    match spec.limit {
        Limit::Duration(d) => sleep_until(warm_end + d).await,
        Limit::Messages(n) => {
            sleep_until(warm_end).await;
            let mut last_count = 0;
            let mut last_change = Instant::now();
            loop {
                let count = rec.borrow().measured.consumed;
                if count >= n {
                    return;
                }
                if count != last_count {
                    (last_count, last_change) = (count, Instant::now());
                } else if last_change.elapsed() > spec.drain {
                    eprintln!(
                        "{}: nothing arrived for {:?}; stopping at {count} of {n} messages",
                        spec.name, spec.drain
                    );
                    return;
                }
                glommio::timer::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// E2e: waits until every measured message sent successfully has arrived, or `drain` passes.
async fn drain(spec: &RunSpec, rec: &Rc<RefCell<Recorder>>) {
    let deadline = Instant::now() + spec.drain;
    loop {
        let m = rec.borrow().measured;
        let (arrived, expected) = (m.consumed, m.ok);
        if arrived >= expected {
            return;
        }
        if Instant::now() > deadline {
            eprintln!(
                "{}: {} of {expected} measured messages arrived within {:?} after the last send",
                spec.name, arrived, spec.drain
            );
            return;
        }
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
}

/// Once a second: close the interval histograms and, with `progress`, print a line to stderr.
async fn tick(spec: RunSpec, rec: Rc<RefCell<Recorder>>, done: Rc<Cell<bool>>) {
    let started = rec.borrow().started;
    sleep_until(started).await;
    let mut next = started + Duration::from_secs(1);
    let mut last = rec.borrow().total;
    loop {
        let stop = futures_lite::future::or(
            async {
                sleep_until(next).await;
                false
            },
            async {
                while !done.get() {
                    glommio::timer::sleep(Duration::from_millis(20)).await;
                }
                true
            },
        )
        .await;
        let now = Instant::now();
        let mut r = rec.borrow_mut();
        let total = r.total;
        let interval = r.rotate(now);
        // The phase of the second that just ended, not of the one starting.
        let phase = if interval.start < spec.warmup {
            "warm-up"
        } else {
            "measuring"
        };
        if spec.progress && !stop {
            let (p, e) = (&interval.publish, &interval.e2e);
            let mut line = format!(
                "{}: {:>5.1} s {phase:<9} sent {} (+{}/s) ok {} failed {}",
                spec.name,
                (now - started).as_secs_f64(),
                total.sent,
                total.sent - last.sent,
                total.ok,
                total.failed,
            );
            if spec.mode != Mode::Produce {
                line += &format!(
                    " consumed {} (+{}/s)",
                    total.consumed,
                    total.consumed - last.consumed
                );
            }
            if !p.is_empty() {
                line += &format!(
                    " | publish p50 {} p99 {} max {}",
                    crate::report::fmt_us(p.value_at_quantile(0.5)),
                    crate::report::fmt_us(p.value_at_quantile(0.99)),
                    crate::report::fmt_us(p.max())
                );
            }
            if !e.is_empty() {
                line += &format!(
                    " | e2e p99 {}",
                    crate::report::fmt_us(e.value_at_quantile(0.99))
                );
            }
            eprintln!("{line}");
        }
        last = total;
        if stop {
            return;
        }
        next += Duration::from_secs(1);
    }
}

/// The pace a spec's producers run at, for labels.
pub fn pace_label(pace: Pace) -> String {
    match pace {
        Pace::Closed => "closed".into(),
        Pace::Open { rate } => format!("open {rate:.0}/s"),
    }
}
