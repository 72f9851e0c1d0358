//! Header benchmark: what the remoting layer costs per request before any handler runs.
//!
//! `cargo bench -p ringmq-protocol --bench headers [-- --quick]`
//!
//! For every request frame a real Java client sent (`../shared/wire-vectors/request-*.bin`, or
//! `$RINGMQ_WIRE_VECTORS`), in both header encodings, it times:
//! - `decode`: the whole frame into a [`RemotingCommand`] (what the server does per request);
//! - `encode`: writing that command's head back out (what a server does per response).
//!
//! Next to them is the floor of copying the frame's bytes into a fresh buffer, which any decoder
//! that owns its result pays at least. Figures are nanoseconds per frame, medians of several runs
//! taken in the same process, and ratios to the floor. It prints and never fails.

use bytes::{Bytes, BytesMut};
use ringmq_protocol::RemotingCommand;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let dir = std::env::var_os("RINGMQ_WIRE_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/wire-vectors")
        });
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!(
            "no captured frames at {} (set RINGMQ_WIRE_VECTORS): nothing to measure",
            dir.display()
        );
        return;
    };
    let mut frames: Vec<(String, Bytes)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("request-") && name.ends_with(".bin")
        })
        .filter_map(|p| {
            let name = p
                .file_stem()?
                .to_str()?
                .trim_start_matches("request-")
                .to_owned();
            Some((name, Bytes::from(std::fs::read(&p).ok()?)))
        })
        .filter(|(_, frame)| RemotingCommand::decode(frame.clone()).is_ok())
        .collect();
    frames.sort();
    let iterations = if quick { 2_000 } else { 20_000 };
    println!(
        "header benchmark: {} captured request frames from {}, {iterations} iterations x 5 runs each",
        frames.len(),
        dir.display()
    );
    println!(
        "{:<52} {:>7} {:>7} {:>9} {:>9} {:>9} {:>7}",
        "frame", "header", "bytes", "copy ns", "decode ns", "encode ns", "dec/copy"
    );
    let (mut copy_total, mut decode_total, mut encode_total) = (0.0, 0.0, 0.0);
    for (name, frame) in &frames {
        let header_len =
            (u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]) & 0xFF_FFFF) as usize;
        let copy = median_ns(iterations, || {
            black_box(Bytes::copy_from_slice(black_box(frame)));
        });
        let decode = median_ns(iterations, || {
            black_box(RemotingCommand::decode(black_box(frame.clone())).ok());
        });
        let cmd = RemotingCommand::decode(frame.clone()).expect("filtered above");
        let (mut out, mut last) = (BytesMut::new(), Bytes::new());
        let encode = median_ns(iterations, || {
            black_box(&cmd).encode_head(cmd.body.len(), &mut out);
            // As a server does: the frame is split off to be written and is still held (queued
            // for the socket) while the next one is encoded into what is left of the buffer.
            last = black_box(out.split().freeze());
        });
        drop(last);
        copy_total += copy;
        decode_total += decode;
        encode_total += encode;
        println!(
            "{name:<52} {header_len:>7} {:>7} {copy:>9.0} {decode:>9.0} {encode:>9.0} {:>6.1}x",
            frame.len(),
            decode / copy
        );
    }
    let n = frames.len().max(1) as f64;
    println!(
        "{:<52} {:>7} {:>7} {:>9.0} {:>9.0} {:>9.0} {:>6.1}x",
        "mean",
        "",
        "",
        copy_total / n,
        decode_total / n,
        encode_total / n,
        decode_total / copy_total.max(1.0)
    );
    println!(
        "RESULT_JSON {{\"frames\":{},\"copy_ns\":{:.1},\"decode_ns\":{:.1},\"encode_ns\":{:.1}}}",
        frames.len(),
        copy_total / n,
        decode_total / n,
        encode_total / n
    );
}

/// Median over 5 runs of the mean time of one call of `f`, in nanoseconds.
fn median_ns(iterations: u32, mut f: impl FnMut()) -> f64 {
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(iterations)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[2]
}
