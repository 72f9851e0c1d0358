//! Shard benchmark: the storage figures that need consume queues and retention.
//!
//! `cargo bench -p ringmq-storage --bench shard [-- --quick] [-- --dir DIR]`
//!
//! 1. Start-up with many consume queues (100,000; 10,000 with --quick): time to reopen a cleanly
//!    closed shard holding one message in each queue, next to the floor of merely listing the
//!    queue directories on the same file system (what any start-up has to do). Java brokers report
//!    minutes at this scale.
//! 2. Deletion stall: SYNC_FLUSH put latency (p50/p99/p99.9/max) while retention deletes an expired
//!    segment (1 GiB; 256 MiB with --quick), next to the same load with nothing being deleted. The
//!    target is no visible difference (ratio of p99.9 near 1).
//!
//! Like the commit-log benchmark it prints a table and a last line `RESULT_JSON {...}`, and never
//! fails on a missed target.

use bytes::Bytes;
use glommio::{LocalExecutorBuilder, Placement};
use hdrhistogram::Histogram;
use ringmq_storage::commitlog::{CommitLogConfig, FlushDiskType};
use ringmq_storage::shard::{MessageToStore, RetentionPolicy, Shard, ShardConfig};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

struct Options {
    /// Printed in the report header.
    quick: bool,
    dir: PathBuf,
    queues: u32,
    segment_size: u64,
    samples: usize,
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let (mut quick, mut parent) = (false, PathBuf::from("/var/tmp"));
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--dir" => parent = args.next().map(PathBuf::from).unwrap_or(parent),
            _ => {} // cargo passes --bench
        }
    }
    Options {
        quick,
        dir: parent.join(format!("ringmq-shard-bench-{}", std::process::id())),
        queues: if quick { 10_000 } else { 100_000 },
        segment_size: if quick { 256 << 20 } else { 1 << 30 },
        samples: if quick { 1_000 } else { 5_000 },
    }
}

fn config(segment_size: u64, flush: FlushDiskType) -> ShardConfig {
    ShardConfig {
        commit_log: CommitLogConfig {
            segment_size,
            flush_disk_type: flush,
            ..CommitLogConfig::default()
        },
        // Retention runs only when the benchmark calls it.
        retention: RetentionPolicy {
            check_interval: Duration::from_secs(24 * 3600),
            delete_when: (0..24).collect(),
            file_reserved_time: Duration::from_secs(3600),
            ..RetentionPolicy::default()
        },
        checkpoint_interval: Duration::from_secs(3600),
        ..ShardConfig::default()
    }
}

fn message(topic: String, queue_id: i32, body: &Bytes) -> MessageToStore {
    MessageToStore {
        topic,
        queue_id,
        body: body.clone(),
        properties: String::new(),
        flag: 0,
        sys_flag: 0,
        born_timestamp: 0,
        born_host: "127.0.0.1:1".parse().expect("address"),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
    }
}

struct Startup {
    queues: u32,
    open_secs: f64,
    floor_secs: f64,
}

struct Stall {
    segment_bytes: u64,
    without: [u64; 4],
    with: [u64; 4],
    delete_secs: f64,
}

/// The minimum any start-up does: list every topic and queue directory.
fn list_queue_dirs(root: &Path) -> usize {
    let mut n = 0;
    for topic in std::fs::read_dir(root).into_iter().flatten().flatten() {
        n += std::fs::read_dir(topic.path())
            .into_iter()
            .flatten()
            .count();
    }
    n
}

async fn measure_startup(o: &Options) -> Startup {
    let dir = o.dir.join("startup");
    let body = Bytes::from(vec![b'x'; 100]);
    {
        let (shard, _) = Shard::open(0, &dir, config(64 << 20, FlushDiskType::AsyncFlush))
            .await
            .expect("open");
        let started = Instant::now();
        for i in 0..o.queues {
            shard
                .put(message(format!("topic-{}", i / 8), (i % 8) as i32, &body))
                .await
                .expect("put");
            if i % 20_000 == 19_999 {
                eprintln!(
                    "start-up: {} queues written ({:.1} s)",
                    i + 1,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        shard.close().await.expect("close");
        eprintln!(
            "start-up: {} queues closed cleanly ({:.1} s)",
            o.queues,
            started.elapsed().as_secs_f64()
        );
    }
    // Drop what the page cache holds about these files? Not possible unprivileged; both the floor
    // and the open run warm, one after the other.
    let t = Instant::now();
    let listed = list_queue_dirs(&dir.join("consumequeue"));
    let floor_secs = t.elapsed().as_secs_f64();
    assert_eq!(listed as u32, o.queues, "every queue has a directory");
    let t = Instant::now();
    let (shard, _) = Shard::open(0, &dir, config(64 << 20, FlushDiskType::AsyncFlush))
        .await
        .expect("reopen");
    let open_secs = t.elapsed().as_secs_f64();
    assert_eq!(shard.queue_count() as u32, o.queues);
    shard.close().await.expect("close");
    std::fs::remove_dir_all(&dir).ok();
    Startup {
        queues: o.queues,
        open_secs,
        floor_secs,
    }
}

async fn put_latencies(shard: &Shard, samples: usize, body: &Bytes) -> [u64; 4] {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for i in 0..samples {
        let t = Instant::now();
        shard
            .put(message("Stall".into(), (i % 8) as i32, body))
            .await
            .expect("put");
        h.record(t.elapsed().as_micros().max(1) as u64)
            .expect("in range");
    }
    [
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max(),
    ]
}

async fn measure_stall(o: &Options) -> Stall {
    let dir = o.dir.join("stall");
    let body = Bytes::from(vec![b'y'; 1024]);
    // Fill a little more than one segment, so one is sealed and can expire.
    {
        let (shard, _) = Shard::open(0, &dir, config(o.segment_size, FlushDiskType::AsyncFlush))
            .await
            .expect("open");
        let mut written = 0;
        let started = Instant::now();
        while written < o.segment_size + (8 << 20) {
            written += u64::from(
                shard
                    .put(message("Fill".into(), 0, &body))
                    .await
                    .expect("put")
                    .size,
            );
        }
        shard.close().await.expect("close");
        eprintln!(
            "deletion stall: {} MiB written ({:.1} s)",
            written >> 20,
            started.elapsed().as_secs_f64()
        );
    }
    let (shard, _) = Shard::open(0, &dir, config(o.segment_size, FlushDiskType::SyncFlush))
        .await
        .expect("reopen");
    let sealed = shard.commit_log().sealed_segments();
    assert!(!sealed.is_empty(), "a sealed segment to delete");
    put_latencies(&shard, o.samples / 10, &body).await; // warm up
    let without = put_latencies(&shard, o.samples, &body).await;

    let old = SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(sealed[0].path())
        .and_then(|f| f.set_modified(old))
        .expect("age the segment");
    let deleter = {
        let shard = shard.clone();
        glommio::spawn_local(async move {
            let t = Instant::now();
            let n = shard
                .enforce_retention(SystemTime::now())
                .await
                .expect("retention");
            (n, t.elapsed().as_secs_f64())
        })
    };
    let with = put_latencies(&shard, o.samples, &body).await;
    let (deleted, delete_secs) = deleter.await;
    assert_eq!(deleted, 1, "the expired segment was deleted");
    shard.close().await.expect("close");
    std::fs::remove_dir_all(&dir).ok();
    Stall {
        segment_bytes: o.segment_size,
        without,
        with,
        delete_secs,
    }
}

fn main() {
    let o = options();
    std::fs::create_dir_all(&o.dir).expect("benchmark directory");
    let dir = o.dir.clone();
    let mode = if o.quick { "quick" } else { "full" };
    let (startup, stall) = LocalExecutorBuilder::new(Placement::Unbound)
        .name("shard-bench")
        .spawn(move || async move {
            let startup = measure_startup(&o).await;
            let stall = measure_stall(&o).await;
            (startup, stall)
        })
        .expect("executor")
        .join()
        .expect("benchmark");
    std::fs::remove_dir_all(&dir).ok();

    println!("\nRingMQ shard benchmark ({mode})");
    println!(
        "{:<44}{:>16}{:>16}{:>8}",
        "figure", "shard", "floor", "ratio"
    );
    println!(
        "{:<44}{:>16.3}{:>16.3}{:>8.1}",
        format!("1 start-up, {} queues (s)", startup.queues),
        startup.open_secs,
        startup.floor_secs,
        startup.open_secs / startup.floor_secs.max(1e-9)
    );
    println!(
        "{:<44}{:>16.1}",
        "  per queue (us)",
        startup.open_secs * 1e6 / f64::from(startup.queues)
    );
    let [a50, a99, a999, amax] = stall.with;
    let [b50, b99, b999, bmax] = stall.without;
    println!(
        "{:<44}{:>16}{:>16}{:>8.2}",
        format!(
            "2 SYNC put p99.9 us, deleting {} MiB",
            stall.segment_bytes >> 20
        ),
        a999,
        b999,
        a999 as f64 / b999.max(1) as f64
    );
    println!(
        "{:<44}{:>16}{:>16}",
        "  p50/p99/p99.9/max us (floor: no deletion)",
        format!("{a50}/{a99}/{a999}/{amax}"),
        format!("{b50}/{b99}/{b999}/{bmax}")
    );
    println!("{:<44}{:>16.3}", "  deletion took (s)", stall.delete_secs);
    println!(
        "RESULT_JSON {{\"mode\":\"{mode}\",\"startup\":{{\"queues\":{},\"open_s\":{:.4},\"floor_s\":{:.4}}},\"deletion_stall\":{{\"segment_bytes\":{},\"with_us\":{{\"p50\":{a50},\"p99\":{a99},\"p999\":{a999},\"max\":{amax}}},\"without_us\":{{\"p50\":{b50},\"p99\":{b99},\"p999\":{b999},\"max\":{bmax}}},\"ratio_p999\":{:.3},\"delete_s\":{:.4}}}}}",
        startup.queues,
        startup.open_secs,
        startup.floor_secs,
        stall.segment_bytes,
        a999 as f64 / b999.max(1) as f64,
        stall.delete_secs
    );
}
