//! Turning runs into what people read: a table per run and a summary table on stdout
//! ([`crate::export`] writes what scripts read).
//!
//! Every publish figure is also shown as a ratio to the loopback floor measured in the same
//! process: "3.2x" means the broker path costs 3.2 loopback round trips of the same frame size.

use crate::floor::{Floors, LOOPBACK_SERVER};
use crate::run::{Mode, RunResult};
use crate::workload::{Limit, Pace};
use hdrhistogram::Histogram;

const MB: f64 = 1e6;

/// The percentiles every latency figure reports, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub p9999: u64,
    pub max: u64,
}

impl Percentiles {
    /// `None` for an empty histogram.
    pub fn of(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        let q = |q| h.value_at_quantile(q);
        Some(Percentiles {
            count: h.len(),
            mean: h.mean(),
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            p9999: q(0.9999),
            max: h.max(),
        })
    }
}

/// `850us`, `1.25ms`, `2.40s`.
pub fn fmt_us(us: u64) -> String {
    match us {
        0..=999 => format!("{us}us"),
        1_000..=999_999 => format!("{:.2}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.1}x"))
}

/// Measured throughput figures of a run.
pub struct Rates {
    pub publish_msgs: f64,
    pub publish_mb: f64,
    pub consume_msgs: f64,
    pub consume_mb: f64,
}

pub fn rates(r: &RunResult) -> Rates {
    let secs = r.window.as_secs_f64().max(1e-9);
    let m = &r.rec.measured;
    Rates {
        publish_msgs: m.ok as f64 / secs,
        publish_mb: m.ok_bytes as f64 / MB / secs,
        consume_msgs: m.consumed as f64 / secs,
        consume_mb: m.consumed_bytes as f64 / MB / secs,
    }
}

/// Publish p50 and p99 over the loopback floor's.
pub fn floor_ratios(r: &RunResult, floors: Option<&Floors>) -> (Option<f64>, Option<f64>) {
    let (Some(p), Some(Ok(f))) = (Percentiles::of(&r.rec.publish), floors.map(|f| &f.loopback))
    else {
        return (None, None);
    };
    let f = Percentiles::of(f);
    let ratio = |a: u64, b: Option<u64>| b.filter(|b| *b > 0).map(|b| a as f64 / b as f64);
    (
        ratio(p.p50, f.map(|f| f.p50)),
        ratio(p.p99, f.map(|f| f.p99)),
    )
}

/// One line describing the workload.
pub fn describe(r: &RunResult) -> String {
    let s = &r.spec;
    let l = &s.load;
    let limit = match s.limit {
        Limit::Duration(d) => format!("{:.1} s", d.as_secs_f64()),
        Limit::Messages(n) => format!("{n} msgs"),
    };
    let topics = format!(
        "{} topic(s), {} queues",
        s.topics.len(),
        r.write_queues.max(r.read_queues)
    );
    let load = match s.mode {
        Mode::Consume => "pull".to_owned(),
        _ => format!(
            "{} B, {} conn x {} in flight, {}{}",
            l.size,
            l.connections,
            l.inflight,
            crate::run::pace_label(l.pace),
            if l.oneway { ", oneway" } else { "" }
        ),
    };
    format!(
        "{} {load}, {topics}, {limit} (+{:.1} s warm-up), namesrv {}",
        s.mode.name(),
        s.warmup.as_secs_f64(),
        s.namesrv
    )
}

/// One table row; `rates` (msgs/s, MB/s) is `None` for rows that are not throughput (floors, lag).
fn latency_row(label: &str, count: u64, rates: Option<(f64, f64)>, p: Option<Percentiles>) {
    let cells: Vec<String> = match p {
        Some(p) => [p.p50, p.p90, p.p99, p.p999, p.p9999, p.max]
            .map(fmt_us)
            .to_vec(),
        None => vec!["-".into(); 6],
    };
    let (rate, mb) = rates.map_or(("-".into(), "-".into()), |(r, m)| {
        (format!("{r:.0}"), format!("{m:.2}"))
    });
    println!(
        "{label:<16} {count:>10} {rate:>10} {mb:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
    );
}

/// The readable report of one run.
pub fn print_run(r: &RunResult, floors: Option<&Floors>) {
    let rates = rates(r);
    let m = &r.rec.measured;
    println!("\n== {}: {}", r.spec.name, describe(r));
    println!(
        "{:<16} {:>10} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "", "count", "msgs/s", "MB/s", "p50", "p90", "p99", "p99.9", "p99.99", "max"
    );
    if r.spec.mode != Mode::Consume {
        let p = Percentiles::of(&r.rec.publish);
        latency_row(
            "publish",
            m.ok,
            Some((rates.publish_msgs, rates.publish_mb)),
            p,
        );
        if matches!(r.spec.load.pace, Pace::Open { .. }) {
            latency_row(
                "  send lag",
                r.rec.lag.len(),
                None,
                Percentiles::of(&r.rec.lag),
            );
        }
    }
    if r.spec.mode != Mode::Produce {
        let p = Percentiles::of(&r.rec.e2e);
        let throughput = Some((rates.consume_msgs, rates.consume_mb));
        latency_row("end-to-end", m.consumed, throughput, p);
    }
    if let Some(f) = floors {
        if let Ok(h) = &f.loopback {
            let label = "floor loopback";
            latency_row(label, h.len(), None, Percentiles::of(h));
        }
        if let Ok(h) = &f.disk {
            latency_row("floor disk sync", h.len(), None, Percentiles::of(h));
        }
    }
    if r.spec.mode != Mode::Consume {
        let (p50, p99) = floor_ratios(r, floors);
        println!(
            "publish / loopback floor: p50 {}  p99 {}",
            fmt_ratio(p50),
            fmt_ratio(p99)
        );
        let errors = error_text(&r.rec.errors);
        println!(
            "sends: {} measured, {} ok, {} failed{}",
            m.sent,
            m.ok,
            m.failed,
            if errors.is_empty() {
                String::new()
            } else {
                format!(" ({errors})")
            }
        );
        if let Some((f, remark)) = &r.rec.first_error {
            println!(
                "first failure: {}: {}",
                f.label(),
                remark.replace('\n', " ")
            );
        }
    }
    if r.spec.mode != Mode::Produce {
        let pulls = error_text(&r.rec.pull_errors);
        println!(
            "consumed: {} measured of {} ({} offset moves){}",
            m.consumed,
            r.rec.total.consumed,
            r.rec.offset_moved,
            if pulls.is_empty() {
                String::new()
            } else {
                format!(", pull failures: {pulls}")
            }
        );
    }
    if let Some(b) = &r.broker {
        println!("broker pid {}: {}", b.pid, usage_text(b));
    }
    if let Some(b) = &r.bench {
        println!("bench: cpu {:.0}% of one core", b.cpu_pct());
    }
}

/// The summary's value columns, right-aligned.
fn row(cells: &[String; 13]) -> String {
    const WIDTHS: [usize; 13] = [8, 7, 9, 9, 9, 9, 9, 9, 9, 5, 8, 8, 4];
    let padded: Vec<String> = cells
        .iter()
        .zip(WIDTHS)
        .map(|(c, w)| format!("{c:>w$}"))
        .collect();
    padded.join(" ")
}

fn usage_text(u: &crate::proc_stats::ProcUsage) -> String {
    format!(
        "cpu {:.2} s in {:.1} s ({:.0}% of one core), rss {:.0} MiB ({:+.0} MiB in the run, peak {:.0} MiB)",
        u.cpu_s,
        u.wall_s,
        u.cpu_pct(),
        u.rss_kib as f64 / 1024.0,
        u.rss_growth_kib() as f64 / 1024.0,
        u.hwm_kib as f64 / 1024.0
    )
}

fn error_text(errors: &std::collections::BTreeMap<crate::metrics::Failure, u64>) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|(f, n)| format!("{} {n}", f.label()))
        .collect();
    parts.join(", ")
}

/// One row per run, for suites, sweeps and comparisons.
pub fn print_summary(results: &[&RunResult], floors: Option<&Floors>) {
    let w = results
        .iter()
        .map(|r| r.spec.name.len())
        .max()
        .unwrap_or(0)
        .max(3);
    if !results.is_empty() {
        let head = [
            "msgs/s",
            "MB/s",
            "p50",
            "p99",
            "p99.9",
            "max",
            "e2e p50",
            "e2e p99",
            "e2e p99.9",
            "err",
            "p50/fl",
            "p99/fl",
            "cpu%",
        ];
        println!("\n{:<w$} {}", "run", row(&head.map(String::from)));
    }
    for r in results {
        let rates = rates(r);
        let p = Percentiles::of(&r.rec.publish);
        let e = Percentiles::of(&r.rec.e2e);
        let pick = |p: Option<Percentiles>, f: fn(&Percentiles) -> u64| {
            p.map_or("-".into(), |p| fmt_us(f(&p)))
        };
        let (f50, f99) = floor_ratios(r, floors);
        let (msgs, mb) = if r.spec.mode == Mode::Consume {
            (rates.consume_msgs, rates.consume_mb)
        } else {
            (rates.publish_msgs, rates.publish_mb)
        };
        let cells = [
            format!("{msgs:.0}"),
            format!("{mb:.2}"),
            pick(p, |p| p.p50),
            pick(p, |p| p.p99),
            pick(p, |p| p.p999),
            pick(p, |p| p.max),
            pick(e, |p| p.p50),
            pick(e, |p| p.p99),
            pick(e, |p| p.p999),
            r.rec.measured.failed.to_string(),
            fmt_ratio(f50),
            fmt_ratio(f99),
            r.broker
                .map_or("-".into(), |b| format!("{:.0}", b.cpu_pct())),
        ];
        println!("{:<w$} {}", r.spec.name, row(&cells));
    }
    if let Some(f) = floors {
        let show = |h: &crate::floor::Floor| match h {
            Ok(h) => Percentiles::of(h).map_or("-".into(), |p| {
                format!("p50 {} p99 {}", fmt_us(p.p50), fmt_us(p.p99))
            }),
            Err(e) => format!("not measured: {e}"),
        };
        println!(
            "floors: loopback RTT ({} B / {} B frames, {LOOPBACK_SERVER}) {}; 4 KiB O_DIRECT write + fdatasync in {}: {}",
            f.request_bytes,
            f.response_bytes,
            show(&f.loopback),
            f.disk_dir.display(),
            show(&f.disk)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_latencies() {
        assert_eq!(fmt_us(850), "850us");
        assert_eq!(fmt_us(1250), "1.25ms");
        assert_eq!(fmt_us(2_400_000), "2.40s");
    }

    #[test]
    fn percentiles_of_a_histogram() {
        let mut h = crate::metrics::histogram();
        for v in 1..=1000 {
            h.record(v).unwrap();
        }
        let p = Percentiles::of(&h).unwrap();
        assert_eq!((p.count, p.p50, p.max), (1000, 500, 1000));
        assert!(p.p99 >= 990 && p.p999 >= 999);
        assert!(Percentiles::of(&crate::metrics::histogram()).is_none());
    }
}
