//! Runs composed of runs: the standard suite, a rate sweep, and an A/B comparison, plus the
//! outputs shared by every command (per-run table and JSON line, summary, histogram log, plot).

use crate::error::BenchError;
use crate::floor::Floors;
use crate::metrics::histogram;
use crate::plot::{self, Series};
use crate::report::{self, Percentiles};
use crate::run::{self, Mode, RunResult, RunSpec};
use crate::workload::Pace;
use hdrhistogram::Histogram;
use std::path::PathBuf;
use std::time::Duration;

/// Where the files of a command go.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub hist_log: Option<PathBuf>,
    pub plot: Option<PathBuf>,
}

/// Runs `spec` and prints its table and JSON line.
pub async fn run_and_report(
    spec: RunSpec,
    floors: Option<&Floors>,
) -> Result<RunResult, BenchError> {
    let r = run::run(spec).await?;
    report::print_run(&r, floors);
    crate::export::print_json(&r, floors);
    Ok(r)
}

/// After the last run: the summary table (for more than one run), the histogram log, the plot.
pub fn finish(
    results: &[&RunResult],
    floors: Option<&Floors>,
    out: &Outputs,
    title: &str,
) -> Result<(), BenchError> {
    if results.len() > 1 {
        report::print_summary(results, floors);
    } else if let Some(f) = floors {
        report::print_summary(&[], Some(f));
    }
    if let Some(path) = &out.hist_log {
        crate::export::write_hist_log(path, results, floors)
            .map_err(|e| BenchError::io(format!("write {}", path.display()), e))?;
        eprintln!("histogram log: {}", path.display());
    }
    if let Some(path) = &out.plot {
        let mut series = Vec::new();
        for r in results {
            series.push(Series {
                label: format!("{} publish", r.spec.name),
                hist: &r.rec.publish,
                dashed: false,
            });
            series.push(Series {
                label: format!("{} e2e", r.spec.name),
                hist: &r.rec.e2e,
                dashed: true,
            });
        }
        if let Some(Ok(h)) = floors.map(|f| &f.loopback) {
            series.push(Series {
                label: "floor: loopback RTT".into(),
                hist: h,
                dashed: true,
            });
        }
        std::fs::write(path, plot::svg(title, &series))
            .map_err(|e| BenchError::io(format!("write {}", path.display()), e))?;
        eprintln!("plot: {}", path.display());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The standard suite

/// The standard suite against one name server (see the README for what each run shows).
#[derive(Debug, Clone)]
pub struct SuiteSpec {
    /// Template: name server, broker pid, pull settings, timeouts, durations, message size.
    pub base: RunSpec,
    /// Which of 1, 2, 3, 5 to run.
    pub runs: Vec<u32>,
    /// Run 3's 100%, instead of run 2's measured throughput.
    pub max_rate: Option<f64>,
    /// Prefix of every run name (e.g. `sync-` for the SYNC_FLUSH broker).
    pub label: String,
    /// Create the topics before running (UPDATE_AND_CREATE_TOPIC on every master).
    pub create_topics: bool,
    pub base_topic: String,
    pub queues: i32,
    /// Topics of run 5.
    pub many_topics: usize,
}

pub async fn standard_suite(
    s: &SuiteSpec,
    floors: Option<&Floors>,
) -> Result<Vec<RunResult>, BenchError> {
    let one_topic = vec![s.base_topic.clone()];
    let many = crate::route::topic_names(&s.base_topic, s.many_topics);
    if s.create_topics {
        let mut topics = one_topic.clone();
        if s.runs.contains(&5) {
            topics.extend(many.iter().cloned());
        }
        eprintln!(
            "creating {} topic(s) with {} queues",
            topics.len(),
            s.queues
        );
        crate::admin::create_topics(&s.base.namesrv, &topics, s.queues, s.base.load.call_timeout)
            .await?;
    }
    let spec = |name: &str, topics: &[String], mode, conns, inflight, pace| {
        let mut r = s.base.clone();
        r.name = format!("{}{name}", s.label);
        r.topics = topics.to_vec();
        r.mode = mode;
        r.load.connections = conns;
        r.load.inflight = inflight;
        r.load.pace = pace;
        r.load.oneway = false;
        r
    };
    let mut results = Vec::new();
    if s.runs.contains(&1) {
        let r = spec("1-unloaded", &one_topic, Mode::Produce, 1, 1, Pace::Closed);
        results.push(run_and_report(r, floors).await?);
    }
    let mut max_rate = s.max_rate;
    if s.runs.contains(&2) {
        let r = spec(
            "2-max-64inflight",
            &one_topic,
            Mode::Produce,
            4,
            16,
            Pace::Closed,
        );
        let r = run_and_report(r, floors).await?;
        max_rate = max_rate.or(Some(report::rates(&r).publish_msgs));
        results.push(r);
    }
    if s.runs.contains(&3) {
        let Some(max) = max_rate.filter(|m| *m >= 1.0) else {
            return Err(BenchError::Settings(
                "run 3 needs run 2's throughput: run 2 too, or pass --max-rate".into(),
            ));
        };
        for pct in [50u32, 80] {
            let rate = max * f64::from(pct) / 100.0;
            let name = format!("3-e2e-{pct}pct");
            let mut r = run_and_report(
                spec(&name, &one_topic, Mode::E2e, 4, 64, Pace::Open { rate }),
                floors,
            )
            .await?;
            r.notes.push(("max_rate".into(), max));
            results.push(r);
        }
    }
    if s.runs.contains(&5) {
        let r = spec(
            "5-64p-1topic",
            &one_topic,
            Mode::Produce,
            64,
            1,
            Pace::Closed,
        );
        results.push(run_and_report(r, floors).await?);
        let name = format!("5-64p-{}topics", s.many_topics);
        let r = spec(&name, &many, Mode::Produce, 64, 1, Pace::Closed);
        results.push(run_and_report(r, floors).await?);
    }
    Ok(results)
}

// ---------------------------------------------------------------------------------------------
// Sweep

/// Open-loop runs at increasing rates until latency or errors break a threshold.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    pub base: RunSpec,
    pub start_rate: f64,
    /// Each step's rate is the previous one times this.
    pub factor: f64,
    pub max_steps: usize,
    pub p99_limit: Duration,
    /// Failed sends over sent.
    pub max_error_ratio: f64,
}

pub struct SweepOutcome {
    pub steps: Vec<RunResult>,
    /// Highest throughput of a step that met every threshold.
    pub max_sustainable: Option<f64>,
    /// Runs at 50% and 80% of it.
    pub at_fractions: Vec<RunResult>,
}

/// Why a sweep step failed, or `None` if it passed.
fn verdict(r: &RunResult, target: f64, s: &SweepSpec) -> Option<String> {
    let limit = s.p99_limit.as_micros() as u64;
    let sent = r.rec.measured.sent.max(1);
    let error_ratio = r.rec.measured.failed as f64 / sent as f64;
    let achieved = report::rates(r).publish_msgs;
    let p99 = Percentiles::of(&r.rec.publish).map(|p| p.p99);
    let e2e99 = Percentiles::of(&r.rec.e2e).map(|p| p.p99);
    if p99.is_some_and(|p| p > limit) {
        return Some(format!(
            "publish p99 {} over {}",
            report::fmt_us(p99.unwrap_or(0)),
            report::fmt_us(limit)
        ));
    }
    if e2e99.is_some_and(|p| p > limit) {
        return Some(format!(
            "e2e p99 {} over {}",
            report::fmt_us(e2e99.unwrap_or(0)),
            report::fmt_us(limit)
        ));
    }
    if error_ratio > s.max_error_ratio {
        return Some(format!("{:.3}% of sends failed", 100.0 * error_ratio));
    }
    if achieved < 0.9 * target {
        return Some(format!(
            "only {achieved:.0} of {target:.0} msgs/s got through"
        ));
    }
    None
}

pub async fn sweep(s: &SweepSpec, floors: Option<&Floors>) -> Result<SweepOutcome, BenchError> {
    let mut steps = Vec::new();
    let mut best: Option<f64> = None;
    let mut rate = s.start_rate;
    for _ in 0..s.max_steps {
        let mut spec = s.base.clone();
        spec.name = format!("{}-{rate:.0}", s.base.name);
        spec.load.pace = Pace::Open { rate };
        let r = run_and_report(spec, floors).await?;
        let v = verdict(&r, rate, s);
        match &v {
            None => {
                best = Some(report::rates(&r).publish_msgs.max(best.unwrap_or(0.0)));
                eprintln!("sweep: {rate:.0} msgs/s sustained");
            }
            Some(why) => eprintln!("sweep: {rate:.0} msgs/s not sustained: {why}"),
        }
        steps.push(r);
        if v.is_some() {
            break;
        }
        rate *= s.factor;
    }
    let mut at_fractions = Vec::new();
    if let Some(max) = best {
        for pct in [50u32, 80] {
            let mut spec = s.base.clone();
            spec.name = format!("{}-{pct}pct", s.base.name);
            spec.load.pace = Pace::Open {
                rate: max * f64::from(pct) / 100.0,
            };
            let mut r = run_and_report(spec, floors).await?;
            r.notes.push(("sweep_max_msgs_per_s".into(), max));
            at_fractions.push(r);
        }
    }
    Ok(SweepOutcome {
        steps,
        max_sustainable: best,
        at_fractions,
    })
}

// ---------------------------------------------------------------------------------------------
// Compare

/// One side of a comparison.
#[derive(Debug, Clone)]
pub struct Side {
    pub namesrv: String,
    pub broker_pid: Option<u32>,
}

/// Runs `base` against each side in turn, `rounds` times (A B A B ...), so drift over time
/// (page cache, thermal, other load) hits every side alike. Prints per-side aggregates and ratios.
pub async fn compare(
    base: &RunSpec,
    sides: &[Side],
    rounds: usize,
    floors: Option<&Floors>,
) -> Result<Vec<RunResult>, BenchError> {
    let mut results = Vec::new();
    for round in 1..=rounds {
        for (i, side) in sides.iter().enumerate() {
            let mut spec = base.clone();
            spec.name = format!("{}{round}-{}", side_letter(i), base.name);
            spec.namesrv = side.namesrv.clone();
            spec.broker_pid = side.broker_pid;
            results.push(run_and_report(spec, floors).await?);
        }
    }
    print_comparison(&results, sides);
    Ok(results)
}

fn side_letter(i: usize) -> char {
    (b'A' + (i % 26) as u8) as char
}

fn print_comparison(results: &[RunResult], sides: &[Side]) {
    struct Agg {
        publish: Histogram<u64>,
        e2e: Histogram<u64>,
        ok: u64,
        failed: u64,
        secs: f64,
    }
    // Results alternate A B A B ...: side i owns every results[k] with k % sides == i (the same
    // address may be given twice, for an A/A check of the harness's own noise).
    let aggs: Vec<Agg> = (0..sides.len())
        .map(|i| {
            let mut a = Agg {
                publish: histogram(),
                e2e: histogram(),
                ok: 0,
                failed: 0,
                secs: 0.0,
            };
            for r in results.iter().skip(i).step_by(sides.len()) {
                let _ = a.publish.add(&r.rec.publish);
                let _ = a.e2e.add(&r.rec.e2e);
                a.ok += r.rec.measured.ok;
                a.failed += r.rec.measured.failed;
                a.secs += r.window.as_secs_f64();
            }
            a
        })
        .collect();
    println!(
        "\ncomparison ({} rounds, histograms merged per side; ratio = side / A)",
        results.len() / sides.len().max(1)
    );
    println!(
        "{:<4} {:<22} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "side", "namesrv", "msgs/s", "p50", "p99", "p99.9", "max", "e2e p99", "failed"
    );
    let figures = |a: &Agg| -> [f64; 6] {
        let p = Percentiles::of(&a.publish);
        let e = Percentiles::of(&a.e2e);
        let f = |p: Option<Percentiles>, g: fn(&Percentiles) -> u64| {
            p.map_or(f64::NAN, |p| g(&p) as f64)
        };
        [
            a.ok as f64 / a.secs.max(1e-9),
            f(p, |p| p.p50),
            f(p, |p| p.p99),
            f(p, |p| p.p999),
            f(p, |p| p.max),
            f(e, |p| p.p99),
        ]
    };
    let base = aggs.first().map(figures);
    for (i, (side, a)) in sides.iter().zip(&aggs).enumerate() {
        let v = figures(a);
        let lat = |x: f64| {
            if x.is_nan() {
                "-".to_owned()
            } else {
                report::fmt_us(x as u64)
            }
        };
        println!(
            "{:<4} {:<22} {:>10.0} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
            side_letter(i),
            side.namesrv,
            v[0],
            lat(v[1]),
            lat(v[2]),
            lat(v[3]),
            lat(v[4]),
            lat(v[5]),
            a.failed
        );
        if let (Some(b), true) = (base, i > 0) {
            let r = |k: usize| {
                let x = v[k] / b[k];
                if x.is_finite() {
                    format!("{x:.2}x")
                } else {
                    "-".into()
                }
            };
            println!(
                "{:<4} {:<22} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
                "",
                format!("ratio {}/A", side_letter(i)),
                r(0),
                r(1),
                r(2),
                r(3),
                r(4),
                r(5)
            );
        }
    }
}
