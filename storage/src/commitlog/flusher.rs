//! The commit log's writer task: appended bytes to page-aligned O_DIRECT writes, and fdatasync.
//!
//! Batches are byte ranges, not whole records: a batch that has more data behind it ends on a
//! page boundary (the record crossing it continues in the next batch), so steady-state writes all
//! have the same size and their DMA buffers are reused from a pool instead of freshly mapped and
//! faulted in for every write. Up to two writes are in flight when they share no page, so copying
//! the next batch overlaps the disk's work on the previous one; a batch that ends mid-page is
//! rewritten (with more data) by the next one, which therefore waits for it.

use super::segment::{align_down, align_up, CommitLogSegment, PAGE};
use super::stream_copy::stream_copy;
use super::{CommitLog, FlushDiskType, Tail};
use crate::error::Result;
use crate::io_turns::IoTurns;
use crate::offset::CommitLogOffset;
use glommio::io::DmaBuffer;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

pub(super) const MAX_IN_FLIGHT: usize = 2;
/// Spare buffers kept, whatever their sizes: one per write that can be in flight, and one for the
/// batch being built.
const POOL_CAPACITY: usize = MAX_IN_FLIGHT + 1;

/// Spare DMA buffers, for reuse by a write of the same length.
///
/// A buffer can only be reused at its own length (glommio cannot grow a trimmed buffer back), so
/// only steady-state full batches reuse one. Writes of other lengths (a flush on the interval, a
/// sync for a waiting appender) come in every length, so the pool keeps the few most recently
/// returned and drops older ones: keeping spares per length grew without bound, a few hundred
/// MiB within minutes of mixed load, and once the executor's registered I/O memory was held by
/// spares every new buffer came from the heap.
pub(super) struct BufferPool<B> {
    /// Oldest first.
    spare: VecDeque<B>,
}

/// What the pool needs of a buffer: its length.
pub(super) trait BufferLen {
    fn buffer_len(&self) -> usize;
}

impl BufferLen for DmaBuffer {
    fn buffer_len(&self) -> usize {
        self.len()
    }
}

impl<B> Default for BufferPool<B> {
    fn default() -> Self {
        Self {
            spare: VecDeque::with_capacity(POOL_CAPACITY + 1),
        }
    }
}

impl<B: BufferLen> BufferPool<B> {
    /// A spare buffer of exactly `len` bytes, or `alloc(len)`.
    fn get(&mut self, len: usize, alloc: impl FnOnce(usize) -> B) -> B {
        match self.spare.iter().rposition(|b| b.buffer_len() == len) {
            Some(i) => self.spare.remove(i).expect("position is in range"),
            None => alloc(len),
        }
    }

    fn put(&mut self, buf: B) {
        self.spare.push_back(buf);
        if self.spare.len() > POOL_CAPACITY {
            self.spare.pop_front();
        }
    }
}

pub(super) struct Batch {
    seg: Rc<CommitLogSegment>,
    /// Page-aligned position in the segment.
    pub(super) pos: u64,
    pub(super) buf: DmaBuffer,
    /// Log offset just past the batch's data.
    pub(super) end: CommitLogOffset,
}

struct InFlight {
    end: CommitLogOffset,
    seg: Rc<CommitLogSegment>,
    task: glommio::Task<(Result<()>, Rc<DmaBuffer>)>,
}

pub(super) async fn run(log: Weak<CommitLog>) {
    let Some(log) = log.upgrade() else { return };
    let sync_mode = log.config.flush_disk_type == FlushDiskType::SyncFlush;
    let mut pool = BufferPool::<DmaBuffer>::default();
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    loop {
        // Issue writes while allowed.
        while in_flight.len() < MAX_IN_FLIGHT
            && write_due(&log, sync_mode)
            && (in_flight.is_empty() || issue_is_page_aligned(&log))
        {
            let Some(batch) = build_batch(&log, &mut pool).await else {
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
///
/// A full 8 MiB batch takes a millisecond or more to copy. Done in one go, that held up every
/// request on the core a few times a second under load, so the copy lets the core's sockets in
/// between slices ([`IoTurns`]).
pub(super) async fn build_batch(
    log: &CommitLog,
    pool: &mut BufferPool<DmaBuffer>,
) -> Option<Batch> {
    let mut filling = plan_batch(log, pool)?;
    let dst = filling.batch.buf.as_bytes_mut();
    let mut turns = IoTurns::every(COPY_TURN);
    let mut gave_way = false;
    for run in &mut filling.runs {
        while !run.is_empty() {
            run.copy_front_into(dst, COPY_SLICE);
            gave_way |= turns.take_if_due().await;
        }
    }
    let batch = finish_batch(log, filling);
    if gave_way {
        // Appends that came in meanwhile may be waiting for this copy to end (`has_room_for`).
        log.from_flusher.notify();
    }
    Some(batch)
}

/// Bytes copied into a write buffer between two looks at the clock (~10 us of copying).
const COPY_SLICE: usize = 64 * 1024;
/// Longest stretch of copying before the core's sockets get a turn.
const COPY_TURN: Duration = Duration::from_micros(200);

/// A write being filled: its buffer, and the runs of queued records still to copy into it.
struct Filling {
    batch: Batch,
    /// Log offset the batch's new data starts at (after the carried-over partial page).
    start: CommitLogOffset,
    /// Bytes of data in the buffer, from its page-aligned start.
    span: usize,
    runs: Vec<CopyRun>,
    /// Queued records that lie wholly inside the batch, dropped from the queue once copied.
    fully_issued: usize,
}

/// Chooses the next batch's range and buffer, and the records to copy into it. The records stay
/// queued until [`finish_batch`]: the runs point into them, and only the flusher drains the queue
/// (appends only push to its back), so they stay alive while the copy yields.
fn plan_batch(log: &CommitLog, pool: &mut BufferPool<DmaBuffer>) -> Option<Filling> {
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
    let mut buf = pool.get(align_up(span as u64) as usize, |len| seg.alloc(len));
    buf.as_bytes_mut()[..prefix.len()].copy_from_slice(&prefix);
    // Records that follow each other in the log usually follow each other in one arena chunk
    // too: such a run is copied with one large copy, which is markedly faster than a copy per
    // record.
    let mut at = start;
    let mut runs = Vec::new();
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
            if !run.is_empty() {
                runs.push(run);
            }
            run = CopyRun::start(d, &bytes[from..to], next.chunk);
        }
        at = offset + to as u64;
        fully_issued += usize::from(record_end <= end);
    }
    if !run.is_empty() {
        runs.push(run);
    }
    t.filling = true;
    Some(Filling {
        batch: Batch {
            seg,
            pos: page_start,
            buf,
            end,
        },
        start,
        span,
        runs,
        fully_issued,
    })
}

/// Completes a filled batch: drops the records it took in full, pads its last page, and keeps
/// that page's data to rewrite with the next batch.
fn finish_batch(log: &CommitLog, filling: Filling) -> Batch {
    let Filling {
        mut batch,
        start,
        span,
        fully_issued,
        ..
    } = filling;
    let mut t = log.tail.borrow_mut();
    debug_assert!(t.unwritten.front().is_some_and(|u| u.offset <= start));
    t.unwritten.drain(..fully_issued);
    let dst = batch.buf.as_bytes_mut();
    dst[span..].fill(0);
    let seg = &batch.seg;
    let end_local = (batch.end.0 - seg.base().0) as u64;
    t.partial_page = if end_local.is_multiple_of(PAGE) || batch.end == seg.end() {
        Vec::new()
    } else {
        dst[(align_down(end_local) - batch.pos) as usize..span].to_vec()
    };
    t.issued_pos = batch.end;
    t.filling = false;
    batch
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

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies at most `max` bytes from the front of the run into their place in `dst`.
    fn copy_front_into(&mut self, dst: &mut [u8], max: usize) {
        let n = self.len.min(max);
        if n == 0 {
            return;
        }
        // SAFETY: the run is slices of one arena chunk (one allocation, same chunk id), each
        // directly following the previous one, so together they are one contiguous range of
        // that allocation. Every slice is alive (its record is still queued: only
        // `finish_batch` drops records, after the last copy), initialised, and frozen (records
        // are never written after they are appended).
        let src = unsafe { std::slice::from_raw_parts(self.src, n) };
        stream_copy(&mut dst[self.dst_at..self.dst_at + n], src);
        self.src = self.src.wrapping_add(n);
        self.dst_at += n;
        self.len -= n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl BufferLen for Vec<u8> {
        fn buffer_len(&self) -> usize {
            self.len()
        }
    }

    #[test]
    fn the_pool_keeps_a_few_spares_whatever_lengths_come_back() {
        let mut pool = BufferPool::<Vec<u8>>::default();
        let mut allocated = 0;
        // A sync-heavy load: every write a different length.
        for len in (1..=500).map(|n| n * PAGE as usize) {
            let buf = pool.get(len, |len| {
                allocated += 1;
                vec![0; len]
            });
            pool.put(buf);
        }
        assert_eq!(allocated, 500);
        assert_eq!(pool.spare.len(), POOL_CAPACITY);
        // The most recent lengths are the ones kept.
        assert!(pool.spare.iter().all(|b| b.len() > 490 * PAGE as usize));
    }

    #[test]
    fn full_batches_reuse_their_buffers() {
        let mut pool = BufferPool::<Vec<u8>>::default();
        let batch = 8 << 20;
        let mut allocated = 0;
        let mut in_flight = VecDeque::new();
        for i in 0..100 {
            // Now and then a short batch, as a flush on the interval makes.
            let len = if i % 10 == 9 {
                3 * PAGE as usize
            } else {
                batch
            };
            in_flight.push_back(pool.get(len, |len| {
                allocated += 1;
                vec![0; len]
            }));
            if in_flight.len() == MAX_IN_FLIGHT {
                pool.put(in_flight.pop_front().expect("in flight"));
            }
        }
        // Two full buffers in flight plus a spare, and the short one.
        assert!(
            allocated <= POOL_CAPACITY + 1,
            "{allocated} buffers allocated"
        );
    }
}
