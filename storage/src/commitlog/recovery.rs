//! Finding the end of a shard's log after any kind of stop, without trusting file-system metadata.
//!
//! File sizes mean nothing (segments are created full size and zeroed), so the end is found by
//! reading records from a known-good point and verifying each: magic code, a size that stays inside
//! the segment, a full decode, the body CRC, and the record's own offset field matching where it
//! sits (which rejects stale bytes from an earlier life of the file). The first record that fails
//! is where the log ends. Bytes past that point are then zeroed up to the end of the dirty region,
//! so that a later append ending short of the old garbage can never make it look valid again.

use super::segment::{align_down, sync_dir, CommitLogSegment, PAGE, PREPARING_SUFFIX};
use crate::error::{Result, StorageError};
use crate::offset::CommitLogOffset;
use bytes::Bytes;
use ringmq_protocol::message::{
    StoredMessage, BLANK_MAGIC_CODE, MESSAGE_MAGIC_CODE, MESSAGE_MAGIC_CODE_V2,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Bytes read per step while scanning.
const SCAN_WINDOW: usize = 4 << 20;
/// A run of this many zero pages ends the dirty region past a cut: one flush writes at most
/// `write_batch_bytes` (8 MiB) beyond the last good record.
const CLEAN_RUN_PAGES: u64 = (16 << 20) / PAGE;
/// Smallest possible record: fixed fields with IPv4 hosts and empty body, topic and properties.
const MIN_RECORD: usize = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8 + 4 + 1 + 2;

/// A valid record found while scanning, for rebuilding indexes.
pub struct ScannedRecord {
    pub offset: CommitLogOffset,
    pub size: u32,
    pub message: StoredMessage,
}

/// What recovery found.
#[derive(Debug, Clone)]
pub struct RecoveryReport {
    pub shard: u32,
    /// Where the log ends: the next append goes here.
    pub end: CommitLogOffset,
    pub scanned_from: CommitLogOffset,
    pub records: u64,
    pub bytes_scanned: u64,
    /// Where and why the log was cut, if it ended in a torn or corrupt record.
    pub cut: Option<(CommitLogOffset, String)>,
    pub segments_removed: usize,
    pub elapsed: Duration,
}

pub(super) struct Recovered {
    pub segments: BTreeMap<CommitLogOffset, Rc<CommitLogSegment>>,
    pub active: Rc<CommitLogSegment>,
    pub next: Option<Rc<CommitLogSegment>>,
    pub partial_page: Vec<u8>,
    pub report: RecoveryReport,
}

pub(super) async fn recover(
    shard: u32,
    dir: &Path,
    segment_size: u64,
    scan_from: Option<CommitLogOffset>,
    mut on_record: impl FnMut(&ScannedRecord),
) -> Result<Recovered> {
    let started = Instant::now();
    let mut segments = open_segments(shard, dir, segment_size).await?;
    if segments.is_empty() {
        let first =
            CommitLogSegment::create(dir, CommitLogOffset::new(shard, 0), segment_size).await?;
        segments.insert(first.base(), Rc::new(first));
    }
    let first_base = *segments.keys().next().expect("at least one segment");
    let start = scan_from
        .filter(|s| {
            s.shard() == shard
                && segments
                    .range(..=*s)
                    .next_back()
                    .is_some_and(|(_, seg)| *s <= seg.end())
        })
        .unwrap_or(first_base);

    let mut report = RecoveryReport {
        shard,
        end: start,
        scanned_from: start,
        records: 0,
        bytes_scanned: 0,
        cut: None,
        segments_removed: 0,
        elapsed: Duration::ZERO,
    };
    let mut last_progress = Instant::now();
    let mut pos = start;
    'segments: loop {
        let Some(seg) = segments.range(..=pos).next_back().map(|(_, s)| s.clone()) else {
            break;
        };
        let mut window = Window::default();
        loop {
            if pos == seg.end() || seg.end().0 - pos.0 < 8 {
                // Segment exhausted; continue in the next one if it exists.
                match segments.get(&seg.end()) {
                    Some(_) => {
                        pos = seg.end();
                        continue 'segments;
                    }
                    None => break 'segments,
                }
            }
            let header = window.get(&seg, pos, 8).await?;
            let total = i32::from_be_bytes(header[0..4].try_into().unwrap_or_default());
            let magic = i32::from_be_bytes(header[4..8].try_into().unwrap_or_default());
            if total == 0 && magic == 0 {
                break 'segments; // never written: the end
            }
            let remaining = seg.end().0 - pos.0;
            if magic == BLANK_MAGIC_CODE {
                if i64::from(total) != remaining {
                    report.cut = Some((
                        pos,
                        format!("segment-end marker of {total} bytes, {remaining} remain"),
                    ));
                    break 'segments;
                }
                pos = seg.end();
                if segments.contains_key(&pos) {
                    continue 'segments;
                }
                break 'segments;
            }
            if magic != MESSAGE_MAGIC_CODE && magic != MESSAGE_MAGIC_CODE_V2 {
                report.cut = Some((pos, format!("bad magic code {magic:#010x}")));
                break 'segments;
            }
            if (total as usize) < MIN_RECORD || i64::from(total) > remaining {
                report.cut = Some((pos, format!("record size {total} out of range")));
                break 'segments;
            }
            let bytes = window.get(&seg, pos, total as usize).await?;
            match verify(&bytes, pos) {
                Ok(message) => {
                    on_record(&ScannedRecord {
                        offset: pos,
                        size: total as u32,
                        message,
                    });
                    report.records += 1;
                    report.bytes_scanned += total as u64;
                    pos = pos + total as u64;
                }
                Err(reason) => {
                    report.cut = Some((pos, reason));
                    break 'segments;
                }
            }
            if last_progress.elapsed() > Duration::from_secs(2) {
                log::info!(
                    "shard {shard}: recovery at {pos}, {} records, {} MiB",
                    report.records,
                    report.bytes_scanned >> 20
                );
                last_progress = Instant::now();
            }
        }
    }
    report.end = pos;

    // The segment holding the end (an end exactly at a segment's end stays in that segment).
    let active_base = *segments
        .range(..=pos)
        .next_back()
        .map(|(b, _)| b)
        .expect("end lies in a segment");
    let active = segments[&active_base].clone();
    if pos < active.end() {
        zero_dirty_tail(&active, pos).await?;
    }
    // Segments past the active one: a zeroed one is the prepared next; anything else is data
    // beyond the cut and goes.
    let later: Vec<CommitLogOffset> = segments.range(active.end()..).map(|(b, _)| *b).collect();
    let mut next = None;
    for base in later {
        let seg = segments.remove(&base).expect("listed");
        let untouched =
            base == active.end() && next.is_none() && is_zero(&seg.read(0, PAGE as usize).await?);
        if untouched {
            next = Some(seg);
        } else {
            report.segments_removed += 1;
            log::warn!(
                "shard {shard}: removing commit-log segment {} past the end of the log",
                seg.path().display()
            );
            seg.remove().await?;
        }
    }
    if report.segments_removed > 0 {
        sync_dir(dir)?;
    }
    let local = pos.0 - active.base().0;
    let page_start = align_down(local as u64);
    let partial_page = if pos == active.end() || local as u64 == page_start {
        Vec::new()
    } else {
        active
            .read(page_start, (local as u64 - page_start) as usize)
            .await?
            .to_vec()
    };
    report.elapsed = started.elapsed();
    if let Some((at, why)) = &report.cut {
        log::warn!("shard {shard}: commit log cut at {at}: {why}");
    }
    Ok(Recovered {
        segments,
        active,
        next,
        partial_page,
        report,
    })
}

/// Decodes and checks one record read from `pos`.
fn verify(bytes: &Bytes, pos: CommitLogOffset) -> std::result::Result<StoredMessage, String> {
    let (message, len) = StoredMessage::decode(bytes).map_err(|e| e.to_string())?;
    if len != bytes.len() {
        return Err("record size disagrees with its fields".into());
    }
    if !message.crc_matches() {
        return Err("body CRC mismatch".into());
    }
    if message.commit_log_offset != pos.0 {
        return Err(format!(
            "record claims offset {}, found at {}",
            message.commit_log_offset, pos.0
        ));
    }
    Ok(message)
}

/// Opens every segment of the shard in `dir`, discarding unfinished preparations.
async fn open_segments(
    shard: u32,
    dir: &Path,
    segment_size: u64,
) -> Result<BTreeMap<CommitLogOffset, Rc<CommitLogSegment>>> {
    let mut out = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(PREPARING_SUFFIX) {
            let _ = std::fs::remove_file(entry.path());
            continue;
        }
        let Some(base) = CommitLogSegment::parse_name(&name) else {
            continue;
        };
        if base.shard() != shard {
            return Err(StorageError::Corrupt {
                what: "commit-log directory",
                path: entry.path(),
                reason: format!("segment belongs to shard {}, not {shard}", base.shard()),
            });
        }
        let seg = CommitLogSegment::open(&entry.path(), base, segment_size).await?;
        out.insert(base, Rc::new(seg));
    }
    // Segments must be contiguous; a gap means a lost file and everything after it is suspect.
    let bases: Vec<CommitLogOffset> = out.keys().copied().collect();
    for pair in bases.windows(2) {
        if (pair[0] + segment_size) != pair[1] {
            return Err(StorageError::Corrupt {
                what: "commit log",
                path: dir.to_owned(),
                reason: format!(
                    "segments are not contiguous: {} is followed by {}",
                    pair[0], pair[1]
                ),
            });
        }
    }
    Ok(out)
}

/// Zeroes `[end, dirty end)` in `seg`, where the dirty end is the last non-zero page before a long
/// run of zero pages (or the segment end).
async fn zero_dirty_tail(seg: &CommitLogSegment, end: CommitLogOffset) -> Result<()> {
    let local = (end.0 - seg.base().0) as u64;
    let first_page = align_down(local);
    let mut page = first_page;
    let mut last_dirty = None;
    let mut zero_run = 0;
    while page < seg.size() && zero_run < CLEAN_RUN_PAGES {
        let len = (SCAN_WINDOW as u64).min(seg.size() - page) as usize;
        let data = seg.read(page, len).await?;
        for (i, chunk) in data.chunks(PAGE as usize).enumerate() {
            let at = page + i as u64 * PAGE;
            let dirty = if at == first_page {
                !is_zero(&chunk[(local - first_page) as usize..])
            } else {
                !is_zero(chunk)
            };
            if dirty {
                last_dirty = Some(at);
                zero_run = 0;
            } else {
                zero_run += 1;
            }
        }
        page += len as u64;
    }
    let Some(last_dirty) = last_dirty else {
        return Ok(());
    };
    let span = (last_dirty + PAGE - first_page) as usize;
    let mut buf = seg.alloc(span);
    let bytes = buf.as_bytes_mut();
    bytes.fill(0);
    let keep = (local - first_page) as usize;
    if keep > 0 {
        let head = seg.read(first_page, keep).await?;
        bytes[..keep].copy_from_slice(&head);
    }
    log::warn!(
        "zeroing {} bytes of unacknowledged data after {end} in {}",
        span - keep,
        seg.path().display()
    );
    seg.write_at(buf, first_page).await?;
    seg.sync().await
}

/// Whether every byte is zero, eight at a time (this scans up to 16 MiB at each start-up).
fn is_zero(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    words.all(|w| u64::from_ne_bytes(w.try_into().unwrap_or_default()) == 0)
        && words.remainder().iter().all(|&b| b == 0)
}

/// Buffered sequential reads over one segment.
#[derive(Default)]
struct Window {
    start: u64,
    data: Bytes,
}

impl Window {
    async fn get(
        &mut self,
        seg: &CommitLogSegment,
        pos: CommitLogOffset,
        len: usize,
    ) -> Result<Bytes> {
        let local = (pos.0 - seg.base().0) as u64;
        let have = local >= self.start && local + len as u64 <= self.start + self.data.len() as u64;
        if !have {
            let read_len = (SCAN_WINDOW.max(len) as u64).min(seg.size() - local) as usize;
            self.data = seg.read(local, read_len).await?;
            self.start = local;
        }
        let from = (local - self.start) as usize;
        Ok(self.data.slice(from..from + len))
    }
}
