//! The harness against a fake broker of its own (name server and broker on one port): stalls must
//! show in open-loop percentiles, counts must be exact, and unreachable servers and missing topics
//! must give clear errors.

mod fake;

use fake::Behaviour;
use ringmq_bench::consume::PullSpec;
use ringmq_bench::metrics::Failure;
use ringmq_bench::report::{self, Percentiles};
use ringmq_bench::run::{run, Mode, RunResult, RunSpec};
use ringmq_bench::workload::{Limit, LoadSpec, Pace};
use ringmq_bench::BenchError;
use std::time::Duration;

fn spec(namesrv: &str, topic: &str, pace: Pace, limit: Limit) -> RunSpec {
    RunSpec {
        name: "test".into(),
        namesrv: namesrv.to_owned(),
        topics: vec![topic.to_owned()],
        mode: Mode::Produce,
        load: LoadSpec {
            connections: 1,
            inflight: 1,
            size: 256,
            pace,
            oneway: false,
            call_timeout: Duration::from_secs(3),
            producer_group: "test_producer".into(),
            auto_create_queues: 4,
        },
        pull: PullSpec {
            group: "test_consumer".into(),
            suspend: Duration::from_millis(500),
            batch: 32,
            call_timeout: Duration::from_secs(2),
        },
        warmup: Duration::ZERO,
        limit,
        drain: Duration::from_secs(3),
        broker_pid: None,
        progress: false,
    }
}

fn run_blocking(spec: RunSpec) -> Result<RunResult, BenchError> {
    ringmq_bench::block_on(move || run(spec)).unwrap()
}

const MS: u64 = 1000;

#[test]
fn a_stall_shows_in_open_loop_percentiles_but_only_in_the_closed_loop_max() {
    // 1000 msg/s for 1 s; the 200th send stalls the broker for 100 ms.
    let stall = Some((200, Duration::from_millis(100)));
    let addr = fake::start(Behaviour {
        stall,
        ..Behaviour::topic("T")
    });
    let mut open = spec(
        &addr,
        "T",
        Pace::Open { rate: 1000.0 },
        Limit::Messages(1000),
    );
    open.load.inflight = 64;
    let r = run_blocking(open).unwrap();
    assert_eq!(r.rec.measured.ok, 1000);
    let p = Percentiles::of(&r.rec.publish).unwrap();
    // About 100 messages were due during the stall, waiting 100..0 ms: 10% of the run.
    assert!(
        p.p99 >= 50 * MS,
        "open-loop p99 {} us hides the stall",
        p.p99
    );
    assert!(p.max >= 90 * MS, "max {} us", p.max);

    // The same stall measured naively: one slow sample among many fast ones.
    let addr = fake::start(Behaviour {
        stall,
        ..Behaviour::topic("T")
    });
    let r = run_blocking(spec(&addr, "T", Pace::Closed, Limit::Messages(1000))).unwrap();
    let p = Percentiles::of(&r.rec.publish).unwrap();
    assert!(
        p.max >= 90 * MS,
        "closed-loop max {} us misses the stall",
        p.max
    );
    assert!(p.p99 < 50 * MS, "closed-loop p99 {} us", p.p99);
}

#[test]
fn counts_and_error_codes_are_exact() {
    let addr = fake::start(Behaviour {
        busy_every: 10,
        ..Behaviour::topic("T")
    });
    let mut s = spec(&addr, "T", Pace::Closed, Limit::Messages(1000));
    (s.load.connections, s.load.inflight) = (2, 4);
    let r = run_blocking(s).unwrap();
    let m = r.rec.measured;
    assert_eq!((m.sent, m.ok, m.failed), (1000, 900, 100));
    assert_eq!(r.rec.errors.len(), 1);
    assert_eq!(r.rec.errors.get(&Failure::Code(2)), Some(&100));
    assert_eq!(r.rec.publish.len(), 900);
    assert_eq!(m.ok_bytes, 900 * 256);
    let first = r.rec.first_error.as_ref().unwrap();
    assert_eq!(first.0, Failure::Code(2));
    assert!(first.1.contains("broker busy"));
    let json = ringmq_bench::export::json(&r, None);
    assert!(
        json.contains(r#""errors":{"SYSTEM_BUSY(2)":100}"#),
        "{json}"
    );
    assert!(json.contains(r#""ok":900"#), "{json}");
}

#[test]
fn warm_up_is_excluded_in_open_loop() {
    let addr = fake::start(Behaviour::topic("T"));
    let mut s = spec(
        &addr,
        "T",
        Pace::Open { rate: 2000.0 },
        Limit::Duration(Duration::from_millis(500)),
    );
    s.warmup = Duration::from_millis(200);
    s.load.inflight = 16;
    let r = run_blocking(s).unwrap();
    // 400 warm-up messages, then exactly 1000 measured ones.
    assert_eq!(r.rec.total.sent, 1400);
    assert_eq!(r.rec.measured.sent, 1000);
    assert_eq!(r.rec.publish.len(), 1000);
    let rate = report::rates(&r).publish_msgs;
    assert!((1500.0..2600.0).contains(&rate), "{rate} msgs/s");
}

#[test]
fn end_to_end_counts_only_this_runs_messages() {
    let addr = fake::start(Behaviour::topic("T"));
    // Old messages already in the queues must not be counted by the consumers.
    let old = run_blocking(spec(&addr, "T", Pace::Closed, Limit::Messages(50))).unwrap();
    assert_eq!(old.rec.measured.ok, 50);
    let mut s = spec(
        &addr,
        "T",
        Pace::Open { rate: 1000.0 },
        Limit::Messages(300),
    );
    s.mode = Mode::E2e;
    s.warmup = Duration::from_millis(100);
    s.load.inflight = 8;
    let r = run_blocking(s).unwrap();
    assert_eq!(r.rec.measured.ok, 300);
    assert_eq!(r.rec.measured.consumed, 300);
    assert_eq!(r.rec.e2e.len(), 300);
    // Warm-up messages arrive too, but are not measured.
    assert_eq!(r.rec.total.consumed, r.rec.total.ok);
    assert!(r.rec.pull_errors.is_empty(), "{:?}", r.rec.pull_errors);
    let e2e = Percentiles::of(&r.rec.e2e).unwrap();
    assert!(e2e.p50 < 1_000_000, "{e2e:?}");
}

#[test]
fn an_unreachable_name_server_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let err = run_blocking(spec(&addr, "T", Pace::Closed, Limit::Messages(10)))
        .err()
        .unwrap();
    assert!(
        matches!(err, BenchError::NamesrvUnreachable { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("cannot reach the name server at {addr}")),
        "{text}"
    );
}

#[test]
fn a_missing_topic_is_a_clear_error() {
    let addr = fake::start(Behaviour::topic("Known"));
    for mode in [Mode::Produce, Mode::E2e, Mode::Consume] {
        let mut s = spec(
            &addr,
            "Missing",
            Pace::Open { rate: 100.0 },
            Limit::Messages(10),
        );
        s.mode = mode;
        let err = run_blocking(s).err().unwrap();
        assert!(matches!(err, BenchError::TopicNotExist { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("topic \"Missing\" does not exist"), "{text}");
        assert!(text.contains("TOPIC_NOT_EXIST"), "{text}");
        assert!(text.contains("autoCreateTopicEnable"), "{text}");
    }
}

#[test]
fn a_broker_refusing_every_send_stops_the_run_early() {
    let addr = fake::start(Behaviour {
        busy_every: 1,
        ..Behaviour::topic("T")
    });
    let s = spec(
        &addr,
        "T",
        Pace::Closed,
        Limit::Duration(Duration::from_secs(30)),
    );
    let started = std::time::Instant::now();
    let err = run_blocking(s).err().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = err.to_string();
    assert!(matches!(err, BenchError::AllSendsFailed { .. }), "{err:?}");
    assert!(
        text.contains("SYSTEM_BUSY(2)") && text.contains("broker busy"),
        "{text}"
    );
}

#[test]
fn outputs_are_written() {
    let addr = fake::start(Behaviour::topic("T"));
    let r = run_blocking(spec(
        &addr,
        "T",
        Pace::Open { rate: 2000.0 },
        Limit::Messages(2500),
    ))
    .unwrap();
    let dir = std::env::temp_dir().join(format!("ringmq-bench-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = ringmq_bench::suite::Outputs {
        hist_log: Some(dir.join("runs.hlog")),
        plot: Some(dir.join("runs.svg")),
    };
    ringmq_bench::suite::finish(&[&r], None, &out, "test").unwrap();
    let log = std::fs::read(dir.join("runs.hlog")).unwrap();
    let intervals: Vec<_> =
        hdrhistogram::serialization::interval_log::IntervalLogIterator::new(&log)
            .filter_map(|e| match e.unwrap() {
                hdrhistogram::serialization::interval_log::LogEntry::Interval(i) => {
                    Some(i.tag().unwrap().as_str().to_owned())
                }
                _ => None,
            })
            .collect();
    // 1.25 s of sends: at least two one-second intervals.
    assert!(intervals.len() >= 2, "{intervals:?}");
    assert!(intervals.iter().all(|t| t == "test/publish"));
    let svg = std::fs::read_to_string(dir.join("runs.svg")).unwrap();
    assert_eq!(svg.matches("<polyline").count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn floors_are_measured_in_process() {
    let load = spec("127.0.0.1:1", "T", Pace::Closed, Limit::Messages(1)).load;
    let floors = ringmq_bench::block_on(move || async move {
        let (request, response_bytes) = ringmq_bench::workload::sample_exchange(&load);
        let spec = ringmq_bench::floor::FloorSpec {
            loopback_samples: 200,
            disk_samples: 20,
            disk_dir: std::env::temp_dir(),
        };
        ringmq_bench::floor::measure(&spec, request, response_bytes).await
    })
    .unwrap();
    let rtt = floors.loopback.as_ref().expect("loopback floor");
    assert_eq!(rtt.len(), 200);
    assert!(floors.request_bytes > 256 && floors.response_bytes > 100);
    match &floors.disk {
        Ok(h) => assert_eq!(h.len(), 20),
        // tmpfs has no O_DIRECT: the error must say where and why.
        Err(e) => assert!(e.contains("O_DIRECT"), "{e}"),
    }
}
