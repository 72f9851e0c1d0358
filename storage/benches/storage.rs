//! Storage benchmark: the commit log measured against the raw disk under it.
//!
//! `cargo bench -p ringmq-storage --bench storage [-- --quick] [-- --dir DIR] [-- --segment-mib N]`
//!
//! Everything runs on one glommio executor, in a fresh directory under DIR (default /var/tmp) that
//! is removed at the end. Every figure sits next to a floor this program measures on the same file
//! system in the same run, and is printed as a ratio to it:
//!
//! 1. ASYNC_FLUSH append throughput, 1 KiB bodies: commit-log MB/s (appends, then `flush()`) over
//!    the MB/s of raw O_DIRECT writes of the same volume, 8 MiB at a time (the log's write size),
//!    into a pre-zeroed file, plus one fdatasync. 1.0 means the log costs nothing over the disk;
//!    the target is >= 0.8. The timed appends follow an untimed warm-up as large as the tail
//!    cache plus the unwritten-bytes bound: a running broker's record arena has had its memory
//!    touched long ago, and the floor's buffer is likewise allocated and filled before its clock
//!    starts. Without it, the first pass pays a page fault per 4 KiB of fresh arena (about a
//!    third of the run's time on this VM).
//! 2. SYNC_FLUSH latency, one appender: p99 of `append` + `wait_durable` over the p99 of a raw
//!    4 KiB O_DIRECT write + fdatasync. Lower is better; the target is <= 1.5.
//! 3. SYNC_FLUSH group commit: records/s of 64 appenders over records/s of one (run 2). The target
//!    is >= 30; syncs per append shows how many appends each fdatasync carried.
//! 4. Recovery: reopening run 1's log (full scan) over a raw O_DIRECT read of the same bytes in
//!    4 MiB reads (recovery's scan window). Lower is better; no target yet.
//!
//! Run 1 fits in segments prepared before it starts (1 GiB; 256 MiB with --quick); `--segment-mib N`
//! makes it roll, to see appends waiting on segment preparation under load.
//!
//! The last line is `RESULT_JSON {...}` for scripts. A missed target is printed, never turned into
//! an exit status: this is a measurement, not a test.

use bytes::{BufMut, Bytes, BytesMut};
use glommio::io::{DmaBuffer, DmaFile, OpenOptions};
use glommio::{LocalExecutorBuilder, Placement};
use hdrhistogram::Histogram;
use ringmq_protocol::message::stored::offsets;
use ringmq_protocol::message::{body_crc, StoredMessage};
use ringmq_storage::commitlog::{CommitLog, CommitLogConfig, FlushDiskType, PAGE};
use ringmq_storage::CommitLogOffset;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

const SHARD: u32 = 0;
const BODY_LEN: usize = 1024;
const APPENDERS: usize = 64;
/// Latency samples thrown away before measuring, for the floor and the log alike.
const WARMUP: usize = 50;
/// Recovery's scan window, used by the raw read floor.
const READ_SIZE: usize = 4 << 20;
const MB: f64 = 1e6;
const GIB: f64 = (1u64 << 30) as f64;

struct Options {
    quick: bool,
    /// The fresh directory everything goes in.
    dir: PathBuf,
    /// Bytes appended in run 1, timed (and scanned by recovery).
    volume: u64,
    /// Bytes appended in run 1 before the clock starts.
    warmup: u64,
    throughput_segment: u64,
    sync_segment: u64,
    latency_samples: usize,
    records_per_appender: usize,
}

impl Options {
    fn from_args() -> Self {
        let (mut quick, mut parent, mut segment_mib) = (false, PathBuf::from("/var/tmp"), None);
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--dir" => parent = PathBuf::from(args.next().expect("--dir DIR")),
                "--segment-mib" => segment_mib = args.next().and_then(|s| s.parse::<u64>().ok()),
                _ => {} // `cargo bench` passes --bench
            }
        }
        // Run 1 (warm-up and timed volume) fits in its first segment unless --segment-mib.
        let segment = if quick { 256 << 20 } else { 2 << 30 };
        let defaults = CommitLogConfig::default();
        Options {
            quick,
            dir: parent.join(format!("ringmq-storage-bench-{}", std::process::id())),
            volume: if quick { 64 << 20 } else { 1 << 30 },
            warmup: if quick {
                32 << 20
            } else {
                (defaults.tail_cache_bytes + defaults.max_unwritten_bytes) as u64
            },
            throughput_segment: segment_mib.map_or(segment, |m| m << 20),
            sync_segment: if quick { 64 << 20 } else { 256 << 20 },
            latency_samples: if quick { 500 } else { 5_000 },
            records_per_appender: if quick { 100 } else { 1_000 },
        }
    }
}

/// Valid stored-message records of one size: an encoded template with the queue offset and the
/// commit-log offset patched in per record (recovery rejects a record whose offset field is off).
struct Records {
    template: Bytes,
}

impl Records {
    fn new() -> Self {
        let body = Bytes::from(vec![0x5a; BODY_LEN]);
        let msg = StoredMessage {
            body_crc: body_crc(&body),
            queue_id: 0,
            flag: 0,
            queue_offset: 0,
            commit_log_offset: 0,
            sys_flag: 0,
            born_timestamp: 1,
            born_host: "127.0.0.1:1".parse().expect("address"),
            store_timestamp: 2,
            store_host: "127.0.0.1:10911".parse().expect("address"),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body,
            topic: "BenchTopic".into(),
            properties: String::new(),
        };
        let mut out = BytesMut::new();
        msg.encode(&mut out).expect("encode the template record");
        let template = out.freeze();
        Records { template }
    }

    fn len(&self) -> usize {
        self.template.len()
    }

    /// Appends the record to `out` (the log's arena).
    fn encode(&self, offset: CommitLogOffset, queue_offset: u64, out: &mut BytesMut) {
        let start = out.len();
        out.put_slice(&self.template);
        let record = &mut out[start..];
        let at = offsets::QUEUE_OFFSET;
        record[at..at + 8].copy_from_slice(&queue_offset.to_be_bytes());
        let at = offsets::PHYSICAL_OFFSET;
        record[at..at + 8].copy_from_slice(&offset.0.to_be_bytes());
    }
}

/// Prints a phase's progress to stderr about once a second.
struct Progress {
    phase: &'static str,
    start: Instant,
    last: Instant,
}

impl Progress {
    fn new(phase: &'static str) -> Self {
        eprintln!("{phase}: started");
        let (start, last) = (Instant::now(), Instant::now());
        Progress { phase, start, last }
    }

    fn tick(&mut self, done: impl FnOnce() -> String) {
        if self.last.elapsed() >= Duration::from_secs(1) {
            self.last = Instant::now();
            let secs = self.start.elapsed().as_secs_f64();
            eprintln!("{}: {} after {secs:.1} s", self.phase, done());
        }
    }
}

/// Microsecond latency percentiles.
struct Percentiles {
    p50: u64,
    p99: u64,
    p999: u64,
    max: u64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Self {
        let q = |q| h.value_at_quantile(q);
        let (p50, p99, p999, max) = (q(0.5), q(0.99), q(0.999), h.max());
        Percentiles {
            p50,
            p99,
            p999,
            max,
        }
    }

    /// "p50/p99/p99.9/max"
    fn text(&self) -> String {
        format!("{}/{}/{}/{}", self.p50, self.p99, self.p999, self.max)
    }

    fn json(&self) -> String {
        let j = Json::default().int("p50", self.p50).int("p99", self.p99);
        j.int("p999", self.p999).int("max", self.max).done()
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

fn micros(since: Instant) -> u64 {
    since.elapsed().as_micros() as u64
}

/// Run 1 and its floor.
struct Throughput {
    bytes: u64,
    records: u64,
    warmup_bytes: u64,
    warmup_records: u64,
    secs: f64,
    mb_s: f64,
    records_s: f64,
    floor_mb_s: f64,
    ratio: f64,
    /// Seconds spent waiting for the first prepared segment after open, before the timed run.
    prepare_wait_s: f64,
    segment_rolls: u64,
    /// Rolls that found the next segment not yet prepared: those appends waited on preparation.
    rolls_waiting_on_prepare: u64,
    /// Seconds spent in the appends that rolled (waiting on preparation included).
    roll_wait_s: f64,
    writes: u64,
    syncs: u64,
}

/// Run 2 and its floor.
struct Latency {
    samples: usize,
    log: Percentiles,
    floor: Percentiles,
    ratio_p99: f64,
    records_s: f64,
}

/// Run 3; its floor is the single appender of run 2.
struct GroupCommit {
    records: u64,
    secs: f64,
    records_s: f64,
    single_records_s: f64,
    ratio: f64,
    syncs_per_append: f64,
    writes: u64,
    syncs: u64,
    latency: Percentiles,
}

/// Run 4 and its floor.
struct Recovery {
    bytes: u64,
    records: u64,
    expected_records: u64,
    /// Where and why recovery cut the log; none is expected after a clean close.
    cut: Option<String>,
    secs: f64,
    s_per_gib: f64,
    floor_s_per_gib: f64,
    records_s: f64,
    ratio: f64,
}

struct Report {
    mode: &'static str,
    record_len: usize,
    throughput: Throughput,
    latency: Latency,
    group: GroupCommit,
    recovery: Recovery,
    /// Wall seconds per phase, setup included, in run order.
    phases: Vec<(&'static str, f64)>,
}

fn main() {
    let options = Options::from_args();
    let dir = options.dir.clone();
    std::fs::create_dir_all(&dir).expect("create the benchmark directory");
    eprintln!("storage benchmark in {}", dir.display());
    // The broker registers as much I/O memory with io_uring as its logs' buffers need; so does
    // this program, with room for the raw floors' buffers too (both then write without pinning
    // pages per write).
    let defaults = CommitLogConfig::default();
    let io_memory = defaults.dma_memory() + defaults.write_batch_bytes + READ_SIZE;
    let report = LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(io_memory)
        .spawn(move || async move { run_all(&options).await })
        .expect("start the executor")
        .join()
        .expect("benchmark executor");
    std::fs::remove_dir_all(&dir).ok();
    print_table(&report);
    println!("RESULT_JSON {}", report.json());
}

// Each commit log is opened before any raw floor file: glommio probes a device's read path on the
// first DMA file opened there, and `CommitLog::open` makes sure that file has data.
async fn run_all(o: &Options) -> Report {
    let records = Rc::new(Records::new());
    let mut phases = Vec::new();
    let async_dir = o.dir.join("async");
    let t = Instant::now();
    let throughput = measure_throughput(o, &records, &async_dir).await;
    phases.push(("async append", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let recovery = measure_recovery(
        o,
        &async_dir,
        throughput.warmup_records + throughput.records,
    )
    .await;
    std::fs::remove_dir_all(&async_dir).ok();
    phases.push(("recovery", t.elapsed().as_secs_f64()));

    let t = Instant::now();
    let sync_dir = o.dir.join("sync");
    let log = open_log(&sync_dir, o.sync_segment, FlushDiskType::SyncFlush).await;
    wait_next_segment(&log).await;
    let latency = measure_latency(o, &records, &log).await;
    phases.push(("sync latency", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let group = measure_group_commit(o, &records, &log, latency.records_s).await;
    log.close().await.expect("close the SYNC_FLUSH log");
    phases.push(("group commit", t.elapsed().as_secs_f64()));
    let mode = if o.quick { "quick" } else { "full" };
    let record_len = records.len();
    Report {
        mode,
        record_len,
        throughput,
        latency,
        group,
        recovery,
        phases,
    }
}

fn config(segment_size: u64, flush_disk_type: FlushDiskType) -> CommitLogConfig {
    let defaults = CommitLogConfig::default();
    CommitLogConfig {
        segment_size,
        flush_disk_type,
        ..defaults
    }
}

async fn open_log(dir: &Path, segment_size: u64, flush: FlushDiskType) -> Rc<CommitLog> {
    let config = config(segment_size, flush);
    let opened = CommitLog::open(SHARD, dir, config, None, |_| {}).await;
    opened.expect("open the commit log").0
}

/// Waits until the segment after the one being appended to is prepared; returns how long it took.
async fn wait_next_segment(log: &CommitLog) -> Duration {
    let start = Instant::now();
    let size = log.config().segment_size;
    let next = CommitLogOffset::new(SHARD, (log.write_pos().local() / size + 1) * size);
    while log.segment_of(next).is_none() {
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

async fn append_durable(log: &CommitLog, records: &Records, i: u64) {
    let len = records.len();
    let appended = log.append(len, |o, out| records.encode(o, i, out)).await;
    let (offset, ()) = appended.expect("append");
    let durable = log.wait_durable(offset + len as u64).await;
    durable.expect("wait_durable");
}

fn filled_buffer(file: &DmaFile, len: usize, byte: u8) -> Rc<DmaBuffer> {
    let mut buf = file.alloc_dma_buffer(len);
    buf.as_bytes_mut().fill(byte);
    Rc::new(buf)
}

/// A file of at least `size` bytes, allocated and zero-filled the way a segment is prepared.
async fn zeroed_file(path: &Path, size: u64) -> DmaFile {
    let chunk = CommitLogConfig::default().write_batch_bytes;
    let size = size.div_ceil(chunk as u64) * chunk as u64;
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(true);
    let file = options.dma_open(path).await.expect("create a floor file");
    file.pre_allocate(size, false).await.expect("pre_allocate");
    let zeros = filled_buffer(&file, chunk, 0);
    for pos in (0..size).step_by(chunk) {
        file.write_rc_at(zeros.clone(), pos)
            .await
            .expect("zero-fill");
    }
    file.fdatasync().await.expect("fdatasync");
    file
}

async fn remove_file(file: DmaFile) {
    file.remove().await.expect("remove a floor file");
    file.close().await.ok();
}

/// Floor 1: `volume` bytes of sequential O_DIRECT writes of the log's write size, one at a time
/// (as the flusher issues them), into a pre-zeroed file, then one fdatasync. Returns seconds.
async fn raw_write_floor(path: &Path, volume: u64) -> f64 {
    let write_size = CommitLogConfig::default().write_batch_bytes;
    let file = zeroed_file(path, volume).await;
    let buf = filled_buffer(&file, write_size, 0xa5);
    let mut progress = Progress::new("raw write floor");
    let start = Instant::now();
    for pos in (0..volume).step_by(write_size) {
        file.write_rc_at(buf.clone(), pos).await.expect("raw write");
        progress.tick(|| format!("{} MB written", pos / 1_000_000));
    }
    file.fdatasync().await.expect("fdatasync");
    let secs = start.elapsed().as_secs_f64();
    remove_file(file).await;
    secs
}

/// Run 1: ASYNC_FLUSH appends of `o.volume` bytes, then `flush()`, timed whole.
async fn measure_throughput(o: &Options, records: &Records, dir: &Path) -> Throughput {
    let log = open_log(dir, o.throughput_segment, FlushDiskType::AsyncFlush).await;
    let prepare_wait_s = wait_next_segment(&log).await.as_secs_f64();
    let floor_secs = raw_write_floor(&o.dir.join("floor-write"), o.volume).await;

    let (len, segment) = (records.len() as u64, o.throughput_segment);
    let warmup_count = o.warmup / len;
    let mut progress = Progress::new("ASYNC_FLUSH warm-up");
    for i in 0..warmup_count {
        let appended = log.append(len as usize, |o, out| records.encode(o, i, out));
        appended.await.expect("append");
        if i % 1024 == 0 {
            progress.tick(|| format!("{} MB appended", i * len / 1_000_000));
        }
    }
    log.flush().await.expect("flush the warm-up");
    let before = log.stats();
    let count = o.volume / len;
    let (mut segment_rolls, mut rolls_waiting_on_prepare, mut roll_wait_s) = (0, 0, 0.0);
    let mut progress = Progress::new("ASYNC_FLUSH append");
    let start = Instant::now();
    for i in warmup_count..warmup_count + count {
        let pos = log.write_pos().local();
        let segment_end = (pos / segment + 1) * segment;
        let rolls = pos + len > segment_end;
        if rolls {
            segment_rolls += 1;
            let next = CommitLogOffset::new(SHARD, segment_end);
            rolls_waiting_on_prepare += u64::from(log.segment_of(next).is_none());
        }
        let roll_start = rolls.then(Instant::now);
        let appended = log.append(len as usize, |o, out| records.encode(o, i, out));
        appended.await.expect("append");
        if let Some(t) = roll_start {
            roll_wait_s += t.elapsed().as_secs_f64();
        }
        if i % 1024 == 0 {
            progress.tick(|| format!("{} MB appended", (i - warmup_count) * len / 1_000_000));
        }
    }
    log.flush().await.expect("flush");
    let secs = start.elapsed().as_secs_f64();
    let stats = log.stats();
    // A roll started preparing another segment: let it finish before anything else is measured.
    wait_next_segment(&log).await;
    log.close().await.expect("close the ASYNC_FLUSH log");
    let bytes = count * len;
    Throughput {
        bytes,
        records: count,
        warmup_bytes: warmup_count * len,
        warmup_records: warmup_count,
        secs,
        mb_s: bytes as f64 / MB / secs,
        records_s: count as f64 / secs,
        floor_mb_s: bytes as f64 / MB / floor_secs,
        ratio: floor_secs / secs,
        prepare_wait_s,
        segment_rolls,
        rolls_waiting_on_prepare,
        roll_wait_s,
        writes: stats.writes - before.writes,
        syncs: stats.syncs - before.syncs,
    }
}

/// Floor 4: reads `bytes` of the log's segment files in order, in 4 MiB O_DIRECT reads. Seconds.
async fn raw_read_floor(dir: &Path, bytes: u64) -> f64 {
    let listing = std::fs::read_dir(dir).expect("list the log directory");
    let mut files: Vec<PathBuf> = listing.filter_map(|e| Some(e.ok()?.path())).collect();
    files.retain(|p| p.file_name().is_some_and(|n| n.len() == 20)); // segment names
    files.sort();
    let start = Instant::now();
    let mut left = bytes;
    for path in files {
        let file = DmaFile::open(&path).await.expect("open a segment");
        let size = file.file_size().await.expect("segment size");
        let mut pos = 0;
        while pos < size && left > 0 {
            let read = file.read_at_aligned(pos, READ_SIZE).await;
            let len = read.expect("raw read").len() as u64;
            pos += len;
            left = left.saturating_sub(len);
        }
        file.close().await.ok();
    }
    start.elapsed().as_secs_f64()
}

/// Run 4: reopening run 1's log with a full scan.
async fn measure_recovery(o: &Options, dir: &Path, expected_records: u64) -> Recovery {
    let config = config(o.throughput_segment, FlushDiskType::AsyncFlush);
    eprintln!("recovery: reopening the log with a full scan");
    let start = Instant::now();
    let opened = CommitLog::open(SHARD, dir, config, None, |_| {}).await;
    let (log, report) = opened.expect("reopen the commit log");
    let secs = start.elapsed().as_secs_f64();
    log.close().await.expect("close the recovered log");
    drop(log);
    eprintln!("recovery: raw read floor");
    let floor_secs = raw_read_floor(dir, report.bytes_scanned).await;
    let gib = report.bytes_scanned as f64 / GIB;
    Recovery {
        bytes: report.bytes_scanned,
        records: report.records,
        expected_records,
        cut: report.cut.map(|(at, why)| format!("{at}: {why}")),
        secs,
        s_per_gib: secs / gib,
        floor_s_per_gib: floor_secs / gib,
        records_s: report.records as f64 / secs,
        ratio: secs / floor_secs,
    }
}

/// Floor 2: latency of a 4 KiB O_DIRECT write at the next page of a pre-zeroed file + fdatasync.
async fn raw_sync_floor(path: &Path, samples: usize) -> Percentiles {
    let file = zeroed_file(path, ((WARMUP + samples) as u64) * PAGE).await;
    let buf = filled_buffer(&file, PAGE as usize, 0xa5);
    let mut h = histogram();
    let mut progress = Progress::new("raw write+fdatasync floor");
    for i in 0..WARMUP + samples {
        let t = Instant::now();
        let written = file.write_rc_at(buf.clone(), i as u64 * PAGE).await;
        written.expect("raw write");
        file.fdatasync().await.expect("fdatasync");
        if i >= WARMUP {
            h.saturating_record(micros(t));
        }
        progress.tick(|| format!("{i} samples"));
    }
    remove_file(file).await;
    Percentiles::of(&h)
}

/// Run 2: one SYNC_FLUSH appender, one record at a time, append + wait_durable.
async fn measure_latency(o: &Options, records: &Records, log: &CommitLog) -> Latency {
    let floor = raw_sync_floor(&o.dir.join("floor-sync"), o.latency_samples).await;
    for i in 0..WARMUP {
        append_durable(log, records, i as u64).await;
    }
    let mut h = histogram();
    let mut progress = Progress::new("SYNC_FLUSH latency");
    let start = Instant::now();
    for i in 0..o.latency_samples {
        let t = Instant::now();
        append_durable(log, records, (WARMUP + i) as u64).await;
        h.saturating_record(micros(t));
        progress.tick(|| format!("{i} samples"));
    }
    let secs = start.elapsed().as_secs_f64();
    let log_percentiles = Percentiles::of(&h);
    Latency {
        samples: o.latency_samples,
        ratio_p99: log_percentiles.p99 as f64 / floor.p99 as f64,
        log: log_percentiles,
        floor,
        records_s: o.latency_samples as f64 / secs,
    }
}

/// Run 3: 64 SYNC_FLUSH appenders, each appending and waiting durable in a loop.
async fn measure_group_commit(
    o: &Options,
    records: &Rc<Records>,
    log: &Rc<CommitLog>,
    single_records_s: f64,
) -> GroupCommit {
    let before = log.stats();
    let per_task = o.records_per_appender;
    let start = Instant::now();
    let appender = |task: usize| {
        let (log, records) = (log.clone(), records.clone());
        async move {
            let mut h = histogram();
            let mut progress = (task == 0).then(|| Progress::new("SYNC_FLUSH 64 appenders"));
            for i in 0..per_task {
                let t = Instant::now();
                append_durable(&log, &records, (task * per_task + i) as u64).await;
                h.saturating_record(micros(t));
                if let Some(p) = progress.as_mut() {
                    p.tick(|| format!("{} records", log.stats().appends - before.appends));
                }
            }
            h
        }
    };
    let tasks: Vec<_> = (0..APPENDERS)
        .map(|task| glommio::spawn_local(appender(task)))
        .collect();
    let mut h = histogram();
    for task in tasks {
        h.add(task.await).expect("merge histograms");
    }
    let secs = start.elapsed().as_secs_f64();
    let after = log.stats();
    let records = after.appends - before.appends;
    let records_s = records as f64 / secs;
    GroupCommit {
        records,
        secs,
        records_s,
        single_records_s,
        ratio: records_s / single_records_s,
        syncs_per_append: (after.syncs - before.syncs) as f64 / records as f64,
        writes: after.writes - before.writes,
        syncs: after.syncs - before.syncs,
        latency: Percentiles::of(&h),
    }
}

fn verdict(pass: bool) -> &'static str {
    ["MISS", "PASS"][pass as usize]
}

fn fixed(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// One table line: figure, commit log, raw floor, ratio, target.
fn row(cells: [&str; 5]) {
    let [figure, log, floor, ratio, target] = cells;
    println!("{figure:<34} {log:>18} {floor:>18} {ratio:>6}  {target}");
}

fn print_table(r: &Report) {
    let (t, l, g, rec) = (&r.throughput, &r.latency, &r.group, &r.recovery);
    let (mode, len) = (r.mode, r.record_len);
    println!("\nRingMQ storage benchmark ({mode}): {BODY_LEN} B bodies, {len} B records");
    row(["figure", "commit log", "raw floor", "ratio", "target"]);

    let (log, floor, ratio) = (fixed(t.mb_s, 1), fixed(t.floor_mb_s, 1), fixed(t.ratio, 2));
    let target = format!(">= 0.8 {}", verdict(t.ratio >= 0.8));
    row(["1 ASYNC append MB/s", &log, &floor, &ratio, &target]);
    row(["  records/s", &fixed(t.records_s, 0), "", "", ""]);

    let (log, floor) = (l.log.p99.to_string(), l.floor.p99.to_string());
    let ratio = fixed(l.ratio_p99, 2);
    let target = format!("<= 1.5 {}", verdict(l.ratio_p99 <= 1.5));
    row(["2 SYNC 1 appender p99 us", &log, &floor, &ratio, &target]);
    let (log, floor) = (l.log.text(), l.floor.text());
    row(["  p50/p99/p99.9/max us", &log, &floor, "", ""]);

    let (log, floor) = (fixed(g.records_s, 0), fixed(g.single_records_s, 0));
    let ratio = fixed(g.ratio, 1);
    let target = format!(">= 30 {}", verdict(g.ratio >= 30.0));
    row(["3 SYNC 64 appenders rec/s", &log, &floor, &ratio, &target]);
    row(["  (floor: one appender)", "", "", "", ""]);
    let syncs = fixed(g.syncs_per_append, 4);
    row(["  syncs per append", &syncs, "", "", ""]);
    row(["  p50/p99/p99.9/max us", &g.latency.text(), "", "", ""]);

    let (log, floor) = (fixed(rec.s_per_gib, 2), fixed(rec.floor_s_per_gib, 2));
    row([
        "4 recovery s/GiB",
        &log,
        &floor,
        &fixed(rec.ratio, 2),
        "none yet",
    ]);
    row(["  records/s scanned", &fixed(rec.records_s, 0), "", "", ""]);
    // These need a whole shard (consume queues, retention): see benches/shard.rs.
    println!("5 start-up, 100,000 consume queues: cargo bench -p ringmq-storage --bench shard");
    println!("6 deletion stall:                   cargo bench -p ringmq-storage --bench shard");

    let mb = t.bytes as f64 / MB;
    println!(
        "\nrun 1: {mb:.1} MB in {:.2} s, {} writes, {} syncs, after an untimed warm-up of {:.1} MB",
        t.secs,
        t.writes,
        t.syncs,
        t.warmup_bytes as f64 / MB
    );
    let (rolls, unprepared) = (t.segment_rolls, t.rolls_waiting_on_prepare);
    println!(
        "run 1: waited {:.2} s for the first prepared segment before starting; {rolls} segment \
         roll(s) in the run, {unprepared} found the next segment unprepared, {:.3} s in rolling \
         appends",
        t.prepare_wait_s, t.roll_wait_s
    );
    let (records, writes, syncs, secs) = (g.records, g.writes, g.syncs, g.secs);
    println!("run 3: {records} records, {writes} writes, {syncs} syncs in {secs:.2} s");
    let (mb, cut) = (rec.bytes as f64 / MB, rec.cut.as_deref().unwrap_or("none"));
    let (records, expected, secs) = (rec.records, rec.expected_records, rec.secs);
    println!("run 4: {records} of {expected} records, {mb:.1} MB in {secs:.2} s, cut: {cut}");
    let phases: Vec<String> = r
        .phases
        .iter()
        .map(|(n, s)| format!("{n} {s:.1} s"))
        .collect();
    println!("phases: {}", phases.join(", "));
}

/// One JSON object, built field by field. Values are numbers, booleans, nested objects or strings
/// with nothing to escape.
#[derive(Default)]
struct Json(Vec<String>);

impl Json {
    fn raw(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        self.0.push(format!("\"{key}\":{value}"));
        self
    }

    fn int(self, key: &str, v: impl Into<u64>) -> Self {
        self.raw(key, v.into())
    }

    /// A number, or null where a ratio had nothing to divide by.
    fn num(self, key: &str, v: f64) -> Self {
        let v = if v.is_finite() {
            fixed(v, 4)
        } else {
            "null".into()
        };
        self.raw(key, v)
    }

    fn done(self) -> String {
        format!("{{{}}}", self.0.join(","))
    }
}

impl Report {
    fn json(&self) -> String {
        let (t, l, g, rec) = (&self.throughput, &self.latency, &self.group, &self.recovery);
        let async_append = Json::default()
            .int("bytes", t.bytes)
            .int("warmup_bytes", t.warmup_bytes)
            .int("records", t.records)
            .num("secs", t.secs)
            .num("mb_s", t.mb_s)
            .num("records_s", t.records_s)
            .num("floor_mb_s", t.floor_mb_s)
            .num("ratio", t.ratio)
            .raw("target", 0.8)
            .raw("pass", t.ratio >= 0.8)
            .num("prepare_wait_s", t.prepare_wait_s)
            .int("segment_rolls", t.segment_rolls)
            .int("rolls_waiting_on_prepare", t.rolls_waiting_on_prepare)
            .num("roll_wait_s", t.roll_wait_s)
            .int("writes", t.writes)
            .int("syncs", t.syncs);
        let sync_latency = Json::default()
            .raw("samples", l.samples)
            .raw("log_us", l.log.json())
            .raw("floor_us", l.floor.json())
            .num("ratio_p99", l.ratio_p99)
            .raw("target", 1.5)
            .raw("pass", l.ratio_p99 <= 1.5);
        let group_commit = Json::default()
            .raw("appenders", APPENDERS)
            .int("records", g.records)
            .num("secs", g.secs)
            .num("records_s", g.records_s)
            .num("single_records_s", g.single_records_s)
            .num("ratio", g.ratio)
            .raw("target", 30)
            .raw("pass", g.ratio >= 30.0)
            .num("syncs_per_append", g.syncs_per_append)
            .int("writes", g.writes)
            .int("syncs", g.syncs)
            .raw("latency_us", g.latency.json());
        let recovery = Json::default()
            .int("bytes", rec.bytes)
            .int("records", rec.records)
            .int("expected_records", rec.expected_records)
            .raw("cut", rec.cut.is_some())
            .num("secs", rec.secs)
            .num("s_per_gib", rec.s_per_gib)
            .num("floor_s_per_gib", rec.floor_s_per_gib)
            .num("records_s", rec.records_s)
            .num("ratio", rec.ratio);
        let phases = self
            .phases
            .iter()
            .fold(Json::default(), |j, (n, s)| j.num(n, *s));
        Json::default()
            .raw("mode", format!("\"{}\"", self.mode))
            .raw("body_bytes", BODY_LEN)
            .raw("record_bytes", self.record_len)
            .raw("async_append", async_append.done())
            .raw("sync_latency", sync_latency.done())
            .raw("group_commit", group_commit.done())
            .raw("recovery", recovery.done())
            .raw("phase_secs", phases.done())
            .done()
    }
}
