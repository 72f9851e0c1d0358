//! The commit log's writer task: appended bytes to page-aligned O_DIRECT writes, and fdatasync.
//!
//! Batches are byte ranges, not whole records: a batch that has more data behind it ends on a
//! page boundary (the record crossing it continues in the next batch), so steady-state writes all
//! have the same size and their DMA buffers are reused from a pool instead of freshly mapped and
//! faulted in for every write. Up to two writes are in flight when they share no page, so copying
//! the next batch overlaps the disk's work on the previous one; a batch that ends mid-page is
//! rewritten (with more data) by the next one, which therefore waits for it.

use super::segment::{align_down, align_up, CommitLogSegment, PAGE};
use super::{CommitLog, FlushDiskType, Tail};
use crate::error::Result;
use crate::offset::CommitLogOffset;
use glommio::io::DmaBuffer;
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};
use std::time::Instant;

pub(super) const MAX_IN_FLIGHT: usize = 2;
/// Spare buffers kept per size.
const POOL_PER_SIZE: usize = 3;

/// DMA buffers by length, for reuse.
#[derive(Default)]
struct BufferPool {
    free: HashMap<usize, Vec<DmaBuffer>>,
}

impl BufferPool {
    fn get(&mut self, seg: &CommitLogSegment, len: usize) -> DmaBuffer {
        self.free
            .get_mut(&len)
            .and_then(Vec::pop)
            .unwrap_or_else(|| seg.alloc(len))
    }

    fn put(&mut self, buf: DmaBuffer) {
        let list = self.free.entry(buf.len()).or_default();
        if list.len() < POOL_PER_SIZE {
            list.push(buf);
        }
    }
}

struct Batch {
    seg: Rc<CommitLogSegment>,
    /// Page-aligned position in the segment.
    pos: u64,
    buf: DmaBuffer,
    /// Log offset just past the batch's data.
    end: CommitLogOffset,
}

struct InFlight {
    end: CommitLogOffset,
    seg: Rc<CommitLogSegment>,
    task: glommio::Task<(Result<()>, Rc<DmaBuffer>)>,
}

pub(super) async fn run(log: Weak<CommitLog>) {
    let Some(log) = log.upgrade() else { return };
    let sync_mode = log.config.flush_disk_type == FlushDiskType::SyncFlush;
    let mut pool = BufferPool::default();
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    loop {
        // Issue writes while allowed.
        while in_flight.len() < MAX_IN_FLIGHT
            && write_due(&log, sync_mode)
            && (in_flight.is_empty() || issue_is_page_aligned(&log))
        {
            let Some(batch) = build_batch(&log, &mut pool) else {
                break;
            };
            let buf = Rc::new(batch.buf);
            let seg = batch.seg.clone();
            let pos = batch.pos;
            let task = glommio::spawn_local(async move {
                let r = seg.write_shared_at(buf.clone(), pos).await;
                (r, buf)
            });
            in_flight.push_back(InFlight {
                end: batch.end,
                seg: batch.seg,
                task,
            });
        }
        // Complete the oldest write.
        if let Some(w) = in_flight.pop_front() {
            let (result, buf) = w.task.await;
            if let Ok(buf) = Rc::try_unwrap(buf) {
                pool.put(buf);
            }
            if let Err(e) = result {
                fail(&log, &e.to_string());
                return;
            }
            written(&log, w.end, w.seg);
            if let Err(e) = sync_if_due(&log, sync_mode).await {
                fail(&log, &e.to_string());
                return;
            }
            log.from_flusher.notify();
            continue;
        }
        if let Err(e) = sync_if_due(&log, sync_mode).await {
            fail(&log, &e.to_string());
            return;
        }
        log.from_flusher.notify();
        if log.tail.borrow().closed && log.tail.borrow().unwritten.is_empty() {
            return;
        }
        // Nothing to do now: wait for appends (SYNC) or a full batch or the interval (ASYNC).
        let wait = log.to_flusher.wait_until(|| {
            let t = log.tail.borrow();
            t.closed
                || write_due_locked(&t, &log, sync_mode)
                || sync_due_locked(&t, &log, sync_mode)
        });
        if sync_mode {
            wait.await;
        } else {
            futures_lite::future::or(wait, glommio::timer::sleep(log.config.flush_interval / 4))
                .await;
        }
    }
}

fn fail(log: &CommitLog, reason: &str) {
    log::error!("commit log of shard {} failed: {reason}", log.shard);
    log.tail.borrow_mut().failed = Some(reason.to_owned());
    log.from_flusher.notify();
}

fn write_due(log: &CommitLog, sync_mode: bool) -> bool {
    write_due_locked(&log.tail.borrow(), log, sync_mode)
}

/// Whether unissued data should be written now.
fn write_due_locked(t: &Tail, log: &CommitLog, sync_mode: bool) -> bool {
    if t.unwritten.is_empty() {
        return false;
    }
    let unissued = (t.write_pos.0 - t.issued_pos.0) as usize;
    sync_mode
        || t.flush_requested
        || t.closed
        || unissued >= log.config.write_batch_bytes
        || t.last_sync.elapsed() >= log.config.flush_interval
}

/// Whether written data should be synced now.
fn sync_due_locked(t: &Tail, log: &CommitLog, sync_mode: bool) -> bool {
    t.durable_pos < t.written_pos
        && (sync_mode
            || t.flush_requested
            || t.closed
            || t.last_sync.elapsed() >= log.config.flush_interval)
}

/// A second write may start only where the previous one ended on a page boundary.
fn issue_is_page_aligned(log: &CommitLog) -> bool {
    let t = log.tail.borrow();
    (t.issued_pos.0 as u64).is_multiple_of(PAGE) && t.partial_page.is_empty()
}

/// Records a completed write.
fn written(log: &CommitLog, end: CommitLogOffset, seg: Rc<CommitLogSegment>) {
    let mut t = log.tail.borrow_mut();
    t.stats.writes += 1;
    t.stats.bytes_written += (end.0 - t.written_pos.0).max(0) as u64;
    t.written_pos = t.written_pos.max(end);
    if !t.unsynced.iter().any(|s| Rc::ptr_eq(s, &seg)) {
        t.unsynced.push(seg);
    }
    evict_cache(&mut t, log.config.tail_cache_bytes);
}

async fn sync_if_due(log: &CommitLog, sync_mode: bool) -> Result<()> {
    let (target, segs) = {
        let mut t = log.tail.borrow_mut();
        if !sync_due_locked(&t, log, sync_mode) {
            return Ok(());
        }
        (t.written_pos, std::mem::take(&mut t.unsynced))
    };
    for seg in &segs {
        seg.sync().await?;
    }
    let mut t = log.tail.borrow_mut();
    t.stats.syncs += segs.len() as u64;
    t.durable_pos = t.durable_pos.max(target);
    t.last_sync = Instant::now();
    if t.durable_pos >= t.write_pos {
        t.flush_requested = false;
    }
    Ok(())
}

/// Builds the next write from unissued data, within one segment, at most one batch long.
fn build_batch(log: &CommitLog, pool: &mut BufferPool) -> Option<Batch> {
    let mut t = log.tail.borrow_mut();
    let front = t.unwritten.front()?.offset;
    // Data continues in a new segment (after an end marker or a gap): no page to carry over.
    let start = front.max(t.issued_pos);
    if start != t.issued_pos {
        t.partial_page.clear();
    }
    let seg = t.segments.range(..=start).next_back()?.1.clone();
    let local = (start.0 - seg.base().0) as u64;
    let page_start = align_down(local);
    let batch_start = seg.base() + page_start;
    let data_end = t.write_pos.min(seg.end());
    let end = data_end.min(batch_start + log.config.write_batch_bytes as u64);
    if end <= start {
        return None;
    }
    let prefix = std::mem::take(&mut t.partial_page);
    debug_assert_eq!(prefix.len() as u64, local - page_start);
    let span = (end.0 - batch_start.0) as usize;
    let mut buf = pool.get(&seg, align_up(span as u64) as usize);
    let dst = buf.as_bytes_mut();
    dst[..prefix.len()].copy_from_slice(&prefix);
    // Copy [start, end) from the queued records, then drop the ones fully issued (only then:
    // a run points into them until it is copied). Records that follow each other in the log
    // usually follow each other in one arena chunk too: such a run is copied with one large
    // copy, which is markedly faster than a copy per record.
    let mut at = start;
    let mut run = CopyRun::default();
    let mut fully_issued = 0;
    for next in &t.unwritten {
        let (offset, bytes) = (next.offset, &next.bytes);
        let record_end = offset + bytes.len() as u64;
        if at >= end || offset >= end {
            break;
        }
        let from = (at.0 - offset.0) as usize;
        let to = (end.min(record_end).0 - offset.0) as usize;
        let d = (at.0 - batch_start.0) as usize;
        if !run.extend(d, &bytes[from..to], next.chunk) {
            run.copy_into(dst);
            run = CopyRun::start(d, &bytes[from..to], next.chunk);
        }
        at = offset + to as u64;
        fully_issued += usize::from(record_end <= end);
    }
    run.copy_into(dst);
    t.unwritten.drain(..fully_issued);
    dst[span..].fill(0);
    let end_local = (end.0 - seg.base().0) as u64;
    t.partial_page = if end_local.is_multiple_of(PAGE) || end == seg.end() {
        Vec::new()
    } else {
        dst[(align_down(end_local) - page_start) as usize..span].to_vec()
    };
    t.issued_pos = end;
    Some(Batch {
        seg,
        pos: page_start,
        buf,
        end,
    })
}

/// Drops the oldest written records beyond the cache budget. Unwritten records always stay.
fn evict_cache(t: &mut Tail, budget: usize) {
    while t.cache_bytes > budget {
        match t.cache.front() {
            Some((o, b)) if *o + b.len() as u64 <= t.written_pos => {
                t.cache_bytes -= b.len();
                t.cache.pop_front();
            }
            _ => break,
        }
    }
}

/// Source bytes adjacent in one arena chunk and in the batch, copied as one slice.
#[derive(Default)]
struct CopyRun {
    src: *const u8,
    len: usize,
    /// The arena chunk all of the run lies in; `None` for bytes copied on their own.
    chunk: Option<u64>,
    /// Where the run goes in the batch buffer.
    dst_at: usize,
}

impl CopyRun {
    fn start(dst_at: usize, bytes: &[u8], chunk: Option<u64>) -> Self {
        CopyRun {
            src: bytes.as_ptr(),
            len: bytes.len(),
            chunk,
            dst_at,
        }
    }

    /// Adds `bytes` if they continue the run in the same chunk and in the batch.
    fn extend(&mut self, dst_at: usize, bytes: &[u8], chunk: Option<u64>) -> bool {
        let adjacent = self.len > 0
            && chunk.is_some()
            && chunk == self.chunk
            && dst_at == self.dst_at + self.len
            && std::ptr::eq(self.src.wrapping_add(self.len), bytes.as_ptr());
        if adjacent {
            self.len += bytes.len();
        }
        adjacent
    }

    fn copy_into(&mut self, dst: &mut [u8]) {
        if self.len == 0 {
            return;
        }
        // SAFETY: the run is slices of one arena chunk (one allocation, same chunk id), each
        // directly following the previous one, so together they are one contiguous range of
        // that allocation. Every slice is alive (its record is still queued: `build_batch` drops
        // records only after the last copy), initialised, and frozen (records are never written
        // after they are appended).
        let src = unsafe { std::slice::from_raw_parts(self.src, self.len) };
        dst[self.dst_at..self.dst_at + self.len].copy_from_slice(src);
        self.len = 0;
    }
}
