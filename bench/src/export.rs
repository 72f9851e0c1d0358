//! What scripts read: one `RESULT_JSON {...}` line per run and the HdrHistogram V2 interval log
//! of every run's per-second histograms (load it into HdrHistogram's log processor or plotter).

use crate::floor::{Floors, LOOPBACK_SERVER};
use crate::report::{floor_ratios, rates, Percentiles};
use crate::run::RunResult;
use crate::workload::Pace;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use ringmq_protocol::json::{Json, JsonStyle};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

fn percentiles_json(p: &Percentiles) -> Json {
    obj(vec![
        ("count", Json::Int(p.count as i64)),
        ("mean_us", num(p.mean)),
        ("p50_us", int(p.p50)),
        ("p90_us", int(p.p90)),
        ("p99_us", int(p.p99)),
        ("p999_us", int(p.p999)),
        ("p9999_us", int(p.p9999)),
        ("max_us", int(p.max)),
    ])
}

fn obj(fields: Vec<(&str, Json)>) -> Json {
    Json::Object(
        fields
            .into_iter()
            .map(|(k, v)| (Json::Str(k.into()), v))
            .collect(),
    )
}

fn int(v: u64) -> Json {
    Json::Int(v as i64)
}

/// A float rounded to 3 decimals (null when not finite).
fn num(v: f64) -> Json {
    if v.is_finite() {
        Json::Float((v * 1000.0).round() / 1000.0)
    } else {
        Json::Null
    }
}

fn opt_num(v: Option<f64>) -> Json {
    v.map_or(Json::Null, num)
}

fn floor_json(f: &crate::floor::Floor) -> Json {
    match f {
        Ok(h) => Percentiles::of(h).map_or(Json::Null, |p| percentiles_json(&p)),
        Err(e) => obj(vec![("error", Json::Str(e.clone()))]),
    }
}

/// The run as one JSON object.
pub fn json(r: &RunResult, floors: Option<&Floors>) -> String {
    let s = &r.spec;
    let rates = rates(r);
    let m = &r.rec.measured;
    let errors = |e: &std::collections::BTreeMap<crate::metrics::Failure, u64>| {
        Json::Object(
            e.iter()
                .map(|(f, n)| (Json::Str(f.label()), int(*n)))
                .collect(),
        )
    };
    let usage = |u: &Option<crate::proc_stats::ProcUsage>| {
        u.map_or(Json::Null, |u| {
            obj(vec![
                ("pid", int(u.pid.into())),
                ("cpu_s", num(u.cpu_s)),
                ("wall_s", num(u.wall_s)),
                ("cpu_pct", num(u.cpu_pct())),
                ("rss_start_kib", int(u.rss_start_kib)),
                ("rss_kib", int(u.rss_kib)),
                ("peak_rss_kib", int(u.hwm_kib)),
            ])
        })
    };
    let lat = |h: &Histogram<u64>| Percentiles::of(h).map_or(Json::Null, |p| percentiles_json(&p));
    let (f50, f99) = floor_ratios(r, floors);
    let started = r
        .started_at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let mut fields = vec![
        ("name", Json::Str(s.name.clone())),
        ("mode", Json::Str(s.mode.name().into())),
        ("namesrv", Json::Str(s.namesrv.clone())),
        ("started_unix_s", num(started.as_secs_f64())),
        (
            "brokers",
            Json::Array(
                r.brokers
                    .iter()
                    .map(|b| Json::Str(format!("{}@{}", b.name, b.addr)))
                    .collect(),
            ),
        ),
        ("topics", int(s.topics.len() as u64)),
        ("write_queues", int(r.write_queues as u64)),
        ("read_queues", int(r.read_queues as u64)),
        ("size_bytes", int(s.load.size as u64)),
        ("connections", int(s.load.connections as u64)),
        ("inflight", int(s.load.inflight as u64)),
        (
            "pace",
            Json::Str(match s.load.pace {
                Pace::Closed => "closed".into(),
                Pace::Open { .. } => "open".into(),
            }),
        ),
        (
            "target_rate",
            match s.load.pace {
                Pace::Open { rate } => num(rate),
                Pace::Closed => Json::Null,
            },
        ),
        ("oneway", Json::Bool(s.load.oneway)),
        ("warmup_s", num(s.warmup.as_secs_f64())),
        ("window_s", num(r.window.as_secs_f64())),
        ("sent", int(m.sent)),
        ("ok", int(m.ok)),
        ("failed", int(m.failed)),
        ("msgs_per_s", num(rates.publish_msgs)),
        ("mb_per_s", num(rates.publish_mb)),
        ("publish", lat(&r.rec.publish)),
        ("send_lag", lat(&r.rec.lag)),
        ("errors", errors(&r.rec.errors)),
        (
            "first_error",
            r.rec
                .first_error
                .as_ref()
                .map_or(Json::Null, |(f, remark)| {
                    Json::Str(format!("{}: {remark}", f.label()))
                }),
        ),
        ("consumed", int(m.consumed)),
        ("consume_msgs_per_s", num(rates.consume_msgs)),
        ("consume_mb_per_s", num(rates.consume_mb)),
        ("e2e", lat(&r.rec.e2e)),
        ("pull_errors", errors(&r.rec.pull_errors)),
        ("offset_moved", int(r.rec.offset_moved)),
        ("broker", usage(&r.broker)),
        ("bench", usage(&r.bench)),
        ("publish_p50_over_loopback_p50", opt_num(f50)),
        ("publish_p99_over_loopback_p99", opt_num(f99)),
    ];
    if let Some(f) = floors {
        fields.push((
            "floor",
            obj(vec![
                ("loopback_rtt", floor_json(&f.loopback)),
                ("loopback_server", Json::Str(LOOPBACK_SERVER.into())),
                ("request_bytes", int(f.request_bytes as u64)),
                ("response_bytes", int(f.response_bytes as u64)),
                ("disk_sync_4k", floor_json(&f.disk)),
                ("disk_dir", Json::Str(f.disk_dir.display().to_string())),
            ]),
        ));
    }
    let mut json = obj(fields);
    if let Json::Object(entries) = &mut json {
        entries.extend(r.notes.iter().map(|(k, v)| (Json::Str(k.clone()), num(*v))));
    }
    json.write(JsonStyle::Standard)
}

/// Prints the run's `RESULT_JSON` line.
pub fn print_json(r: &RunResult, floors: Option<&Floors>) {
    println!("RESULT_JSON {}", json(r, floors));
}

/// Writes every run's per-second histograms (and the floors) as an HdrHistogram V2 interval log.
/// Tags are `<run>/publish` and `<run>/e2e`; interval times are seconds since the first run began.
pub fn write_hist_log(
    path: &Path,
    results: &[&RunResult],
    floors: Option<&Floors>,
) -> std::io::Result<()> {
    let base = results
        .iter()
        .map(|r| r.started_at)
        .min()
        .unwrap_or_else(SystemTime::now);
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut log = IntervalLogWriterBuilder::new()
        .add_comment("ringmq bench: latency in microseconds; tags are <run>/<publish|e2e|floor>")
        .with_start_time(base)
        .with_base_time(base)
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut out, &mut serializer)?;
    let bad = |e| std::io::Error::other(format!("histogram log: {e:?}"));
    for r in results {
        let offset = r.started_at.duration_since(base).unwrap_or(Duration::ZERO);
        for i in &r.rec.intervals {
            for (kind, h) in [("publish", &i.publish), ("e2e", &i.e2e)] {
                if h.is_empty() {
                    continue;
                }
                let tag = tag_text(&r.spec.name, kind);
                log.write_histogram(h, offset + i.start, i.length, Tag::new(&tag))
                    .map_err(bad)?;
            }
        }
    }
    if let Some(f) = floors {
        for (kind, h) in [("loopback", &f.loopback), ("disk_sync", &f.disk)] {
            if let Ok(h) = h {
                let tag = tag_text("floor", kind);
                log.write_histogram(h, Duration::ZERO, Duration::from_secs(1), Tag::new(&tag))
                    .map_err(bad)?;
            }
        }
    }
    drop(log);
    std::fs::File::create(path)?.write_all(&out)
}

/// A log tag: no spaces, commas or line breaks allowed.
fn tag_text(run: &str, kind: &str) -> String {
    let clean: String = run
        .chars()
        .map(|c| {
            if matches!(c, ' ' | ',' | '\r' | '\n') {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("{clean}/{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_have_no_separators() {
        assert_eq!(tag_text("a b,c", "e2e"), "a_b_c/e2e");
    }
}
