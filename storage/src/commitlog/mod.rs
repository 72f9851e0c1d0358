//! A shard's commit log: every message of the shard's queues, in arrival order, in the stored
//! message layout (the bytes a pull response carries, so reads never re-encode).
//!
//! Appends are synchronous memory operations: a record is encoded into the tail, stays readable
//! from the tail cache, and is queued for the flusher task. The flusher writes everything queued in
//! one page-aligned O_DIRECT write per segment (rewriting the partial last page as it fills) and,
//! depending on [`FlushDiskType`], fdatasyncs after every write (SYNC_FLUSH: all appends waiting
//! when a flush starts ride on it — group commit) or once per interval (ASYNC_FLUSH). Segments are
//! prepared ahead by a background task, so the append path never creates or grows a file.

mod arena;
mod flusher;
mod recovery;
mod segment;
mod stream_copy;

pub use recovery::{RecoveryReport, ScannedRecord};
pub use segment::{align_down, align_up, CommitLogSegment, PAGE};

use crate::error::{Result, StorageError};
use crate::offset::CommitLogOffset;
use crate::signal::Signal;
use arena::RecordArena;
use bytes::{BufMut, Bytes, BytesMut};
use ringmq_protocol::message::BLANK_MAGIC_CODE;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// When an append counts as stored (Java's `flushDiskType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushDiskType {
    /// Acknowledged once durable (written and fdatasync'd).
    SyncFlush,
    /// Acknowledged once in memory; written in the background within the flush interval.
    AsyncFlush,
}

#[derive(Debug, Clone)]
pub struct CommitLogConfig {
    /// Segment file size (Java's `mappedFileSizeCommitLog`, 1 GiB). A multiple of 4096.
    pub segment_size: u64,
    pub flush_disk_type: FlushDiskType,
    /// ASYNC_FLUSH: longest a record stays unwritten (Java's `flushIntervalCommitLog`, 500 ms).
    pub flush_interval: Duration,
    /// Recent records kept in memory for tailing readers.
    pub tail_cache_bytes: usize,
    /// Appends wait while this much is not yet written (memory bound when the disk falls behind).
    pub max_unwritten_bytes: usize,
    /// Largest single write.
    pub write_batch_bytes: usize,
    /// SYNC_FLUSH: how long an append waits for its flush before it is answered as stored but
    /// not yet durable (Java's `syncFlushTimeout`, 5 s). Zero waits not at all.
    pub sync_flush_timeout: Duration,
}

impl Default for CommitLogConfig {
    fn default() -> Self {
        Self {
            segment_size: 1 << 30,
            flush_disk_type: FlushDiskType::AsyncFlush,
            flush_interval: Duration::from_millis(500),
            tail_cache_bytes: 256 << 20,
            max_unwritten_bytes: 64 << 20,
            write_batch_bytes: 8 << 20,
            sync_flush_timeout: Duration::from_secs(5),
        }
    }
}

impl CommitLogConfig {
    /// Most DMA buffer memory one log uses at a time: the flusher's writes in flight plus the one
    /// it keeps for reuse, and the zero chunk of a segment being prepared.
    ///
    /// glommio serves DMA buffers from a pool registered with io_uring (the executor's
    /// `io_memory`, 10 MiB unless set) and from ordinary memory past it. A write from the pool
    /// skips pinning its pages in the kernel (`WriteFixed`); one from ordinary memory pins every
    /// page on every write. Sizing the pool to this number doubled ASYNC_FLUSH append throughput
    /// in the storage benchmark.
    pub fn dma_memory(&self) -> usize {
        (flusher::MAX_IN_FLIGHT + 1) * self.write_batch_bytes + segment::ZERO_CHUNK
    }
}

/// Counters for benchmarks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitLogStats {
    pub appends: u64,
    pub writes: u64,
    pub syncs: u64,
    pub bytes_written: u64,
}

/// The mutable state, touched only by tasks of the owning executor.
struct Tail {
    segments: BTreeMap<CommitLogOffset, Rc<CommitLogSegment>>,
    /// The segment appends go to.
    active: Rc<CommitLogSegment>,
    /// The next segment, prepared ahead.
    next: Option<Rc<CommitLogSegment>>,
    preparing: bool,
    /// End of appended data.
    write_pos: CommitLogOffset,
    /// End of data handed to a write (possibly still in flight).
    issued_pos: CommitLogOffset,
    /// End of data the disk has accepted.
    written_pos: CommitLogOffset,
    /// End of data covered by an fdatasync.
    durable_pos: CommitLogOffset,
    /// Appended, not yet issued to a write: records and segment-end markers, in log order. The
    /// front one may be partly issued (a write ends on a page boundary inside it).
    unwritten: VecDeque<Unwritten>,
    /// The bytes between the last page boundary and `issued_pos`, rewritten with the next write.
    partial_page: Vec<u8>,
    /// `flush()` asked for everything to be made durable now, whatever the flush type.
    flush_requested: bool,
    /// The flusher is copying a batch, and lets other work run between slices of the copy.
    filling: bool,
    /// Where appends encode their records.
    arena: RecordArena,
    /// Recent records by offset, for reads.
    cache: VecDeque<(CommitLogOffset, Bytes)>,
    cache_bytes: usize,
    /// Segments written since the last fdatasync.
    unsynced: Vec<Rc<CommitLogSegment>>,
    last_sync: Instant,
    /// A write or sync failed: nothing after `durable_pos` can be trusted, so appends stop.
    failed: Option<String>,
    /// Set while the disk is above its hard usage limit: appends are refused, nothing is lost.
    disk_full: Option<StorageError>,
    closed: bool,
    stats: CommitLogStats,
}

/// Appended bytes waiting for the flusher: a record or a segment-end marker.
struct Unwritten {
    offset: CommitLogOffset,
    bytes: Bytes,
    /// The arena chunk holding a record (markers have none): records of one chunk that follow
    /// each other in the log also follow each other in memory, and are copied in one go.
    chunk: Option<u64>,
}

pub struct CommitLog {
    /// Handed to background tasks, which must not keep the log alive.
    me: std::rc::Weak<CommitLog>,
    shard: u32,
    dir: PathBuf,
    config: CommitLogConfig,
    tail: RefCell<Tail>,
    /// Appends and flush requests wake the flusher.
    to_flusher: Signal,
    /// The flusher and the segment preparer wake appenders and durability waiters.
    from_flusher: Signal,
}

/// Segment-end marker: the rest of the segment is unused.
fn blank_marker(len: u64) -> Bytes {
    let mut b = BytesMut::with_capacity(8);
    b.put_i32(len as i32);
    b.put_i32(BLANK_MAGIC_CODE);
    b.freeze()
}

impl CommitLog {
    /// Opens the shard's log in `dir`, recovering it: scans from `scan_from` (or the first
    /// segment), calls `on_record` for every valid record, cuts at the first torn or corrupt one.
    /// Spawns the flusher on the current executor.
    pub async fn open(
        shard: u32,
        dir: &Path,
        config: CommitLogConfig,
        scan_from: Option<CommitLogOffset>,
        on_record: impl FnMut(&ScannedRecord),
    ) -> Result<(Rc<CommitLog>, RecoveryReport)> {
        assert!(
            config.segment_size.is_multiple_of(PAGE) && config.segment_size >= 2 * PAGE,
            "segment size must be whole pages"
        );
        std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        let recovered =
            recovery::recover(shard, dir, config.segment_size, scan_from, on_record).await?;
        let end = recovered.report.end;
        let active = recovered.active;
        let partial_page = recovered.partial_page;
        let mut segments = recovered.segments;
        let next = recovered.next;
        if let Some(n) = &next {
            segments.insert(n.base(), n.clone());
        }
        let arena = RecordArena::new(config.tail_cache_bytes);
        let log = Rc::new_cyclic(|me| CommitLog {
            me: me.clone(),
            shard,
            dir: dir.to_owned(),
            config,
            tail: RefCell::new(Tail {
                segments,
                active,
                next,
                preparing: false,
                write_pos: end,
                issued_pos: end,
                written_pos: end,
                durable_pos: end,
                unwritten: VecDeque::new(),
                partial_page,
                flush_requested: false,
                filling: false,
                arena,
                cache: VecDeque::new(),
                cache_bytes: 0,
                unsynced: Vec::new(),
                last_sync: Instant::now(),
                failed: None,
                disk_full: None,
                closed: false,
                stats: CommitLogStats::default(),
            }),
            to_flusher: Signal::default(),
            from_flusher: Signal::default(),
        });
        log.prepare_next_if_needed();
        glommio::spawn_local(flusher::run(Rc::downgrade(&log))).detach();
        Ok((log, recovered.report))
    }

    pub fn shard(&self) -> u32 {
        self.shard
    }

    pub fn config(&self) -> &CommitLogConfig {
        &self.config
    }

    /// End of appended data: the offset the next record gets.
    pub fn write_pos(&self) -> CommitLogOffset {
        self.tail.borrow().write_pos
    }

    pub fn durable_pos(&self) -> CommitLogOffset {
        self.tail.borrow().durable_pos
    }

    pub fn stats(&self) -> CommitLogStats {
        self.tail.borrow().stats
    }

    /// Appends one record of `len` bytes. `encode` receives the record's offset and writes exactly
    /// `len` bytes to the buffer it is given (the log's arena: records are encoded in place, with no
    /// allocation of their own); it runs synchronously with no other append in between, so
    /// whatever it assigns (queue offsets) follows log order. Waits only for room (memory bound,
    /// next segment not yet ready).
    pub async fn append<T>(
        &self,
        len: usize,
        encode: impl FnOnce(CommitLogOffset, &mut BytesMut) -> T,
    ) -> Result<(CommitLogOffset, T)> {
        self.append_within(len, None, encode).await
    }

    /// Like [`CommitLog::append`], but gives up with [`StorageError::Busy`] if no room appears
    /// within `max_wait`. Giving up happens before anything is appended, so a refused record is
    /// never stored (a client retrying it makes no duplicate).
    pub async fn append_within<T>(
        &self,
        len: usize,
        max_wait: Option<std::time::Duration>,
        encode: impl FnOnce(CommitLogOffset, &mut BytesMut) -> T,
    ) -> Result<(CommitLogOffset, T)> {
        if len as u64 > self.config.segment_size - 8 {
            return Err(StorageError::RecordTooLarge {
                size: len,
                segment_size: self.config.segment_size,
            });
        }
        // A producer that always finds room would otherwise never let the flusher or the segment
        // preparer run on this executor.
        glommio::yield_if_needed().await;
        let room = self.from_flusher.wait_until(|| self.has_room_for(len));
        match max_wait {
            None => room.await,
            Some(_) if self.has_room_for(len) => {}
            Some(limit) => {
                let started = Instant::now();
                let timed_out = async {
                    glommio::timer::sleep(limit).await;
                    true
                };
                if futures_lite::future::or(
                    async {
                        room.await;
                        false
                    },
                    timed_out,
                )
                .await
                {
                    return Err(StorageError::Busy {
                        waited: started.elapsed(),
                    });
                }
            }
        }
        let mut tail = self.tail.borrow_mut();
        if let Some(reason) = &tail.failed {
            return Err(StorageError::io(
                &self.dir,
                std::io::Error::other(reason.clone()),
            ));
        }
        if tail.closed {
            return Err(StorageError::Closed);
        }
        if let Some(StorageError::DiskFull {
            path,
            used_percent,
            limit_percent,
        }) = &tail.disk_full
        {
            return Err(StorageError::DiskFull {
                path: path.clone(),
                used_percent: *used_percent,
                limit_percent: *limit_percent,
            });
        }
        let rolled = (tail.write_pos + len as u64) > tail.active.end();
        if rolled {
            self.roll(&mut tail);
        }
        let offset = tail.write_pos;
        let (bytes, extra) = tail.arena.record(len, |buf| encode(offset, buf));
        let chunk = Some(tail.arena.chunk_id());
        tail.write_pos = offset + len as u64;
        tail.unwritten.push_back(Unwritten {
            offset,
            bytes: bytes.clone(),
            chunk,
        });
        tail.cache.push_back((offset, bytes));
        tail.cache_bytes += len;
        tail.stats.appends += 1;
        // Under ASYNC_FLUSH the flusher wakes on its own timer for the interval; an append wakes
        // it only once a whole batch waits. Waking it for every record cost each append a task
        // switch and a re-armed timer, which at light load was most of the append's cost.
        let wake_flusher = self.config.flush_disk_type == FlushDiskType::SyncFlush
            || (tail.write_pos.0 - tail.issued_pos.0) as usize >= self.config.write_batch_bytes;
        drop(tail);
        if rolled {
            self.prepare_next_if_needed();
        }
        if wake_flusher {
            self.to_flusher.notify();
        }
        Ok((offset, extra))
    }

    fn has_room_for(&self, len: usize) -> bool {
        let tail = self.tail.borrow();
        if tail.failed.is_some() || tail.closed || tail.disk_full.is_some() {
            return true; // let append report it
        }
        let fits = (tail.write_pos + len as u64) <= tail.active.end() || tail.next.is_some();
        // An appender that never waits (a tight loop, a huge batch) would otherwise fill the
        // whole unwritten allowance each time the flusher lets it run mid-copy, while the disk
        // sits idle waiting for that copy. A whole batch beyond the one being copied is enough.
        let unissued = (tail.write_pos.0 - tail.issued_pos.0) as usize;
        let lets_flusher_finish = tail.filling && unissued >= 2 * self.config.write_batch_bytes;
        fits && !lets_flusher_finish
            && ((tail.write_pos.0 - tail.written_pos.0) as usize) < self.config.max_unwritten_bytes
    }

    /// Closes the active segment with an end marker and moves to the prepared next one.
    fn roll(&self, tail: &mut Tail) {
        let remaining = tail.active.end().0 - tail.write_pos.0;
        if remaining >= 8 {
            tail.unwritten.push_back(Unwritten {
                offset: tail.write_pos,
                bytes: blank_marker(remaining as u64),
                chunk: None,
            });
        }
        let next = tail
            .next
            .take()
            .expect("has_room_for checked the next segment");
        tail.write_pos = next.base();
        tail.active = next;
    }

    /// Starts preparing the segment after the active one, in the background.
    fn prepare_next_if_needed(&self) {
        let base = {
            let mut tail = self.tail.borrow_mut();
            if tail.next.is_some() || tail.preparing || tail.closed {
                return;
            }
            tail.preparing = true;
            tail.active.end()
        };
        glommio::spawn_local(prepare_segment(
            self.dir.clone(),
            base,
            self.config.segment_size,
            self.me.clone(),
        ))
        .detach();
    }

    /// Waits until everything up to `end` is durable (SYNC_FLUSH acknowledgements).
    pub async fn wait_durable(&self, end: CommitLogOffset) -> Result<()> {
        self.to_flusher.notify();
        self.from_flusher
            .wait_until(|| {
                let t = self.tail.borrow();
                t.durable_pos >= end || t.failed.is_some()
            })
            .await;
        match &self.tail.borrow().failed {
            Some(reason) if self.tail.borrow().durable_pos < end => Err(StorageError::io(
                &self.dir,
                std::io::Error::other(reason.clone()),
            )),
            _ => Ok(()),
        }
    }

    /// Like [`wait_durable`](Self::wait_durable) for at most `limit`: `Ok(false)` if the flush
    /// had not covered `end` by then (the record stays queued for the flusher).
    pub async fn wait_durable_within(&self, end: CommitLogOffset, limit: Duration) -> Result<bool> {
        if self.tail.borrow().durable_pos >= end {
            return Ok(true);
        }
        if limit.is_zero() {
            self.to_flusher.notify();
            return Ok(false);
        }
        let waited =
            futures_lite::future::or(async { Some(self.wait_durable(end).await) }, async {
                glommio::timer::sleep(limit).await;
                None
            })
            .await;
        match waited {
            Some(result) => result.map(|()| true),
            None => Ok(false),
        }
    }

    /// Makes everything appended so far durable, whatever the flush type (shutdown, checkpoints).
    pub async fn flush(&self) -> Result<()> {
        let end = self.write_pos();
        self.tail.borrow_mut().flush_requested = true;
        self.wait_durable(end).await
    }

    /// The record at `offset` of `size` bytes from the tail cache, if still there.
    pub fn cached(&self, offset: CommitLogOffset, size: usize) -> Option<Bytes> {
        let tail = self.tail.borrow();
        let i = tail.cache.partition_point(|(o, _)| *o < offset);
        let (o, b) = tail.cache.get(i)?;
        (*o == offset && b.len() == size).then(|| b.clone())
    }

    /// The record at `offset`: from the tail cache, else read from its segment.
    pub async fn read(&self, offset: CommitLogOffset, size: usize) -> Result<Bytes> {
        if let Some(b) = self.cached(offset, size) {
            return Ok(b);
        }
        let seg = self
            .segment_of(offset)
            .ok_or(StorageError::NoRecordAt(offset))?;
        if (offset + size as u64) > self.tail.borrow().written_pos {
            return Err(StorageError::NoRecordAt(offset));
        }
        seg.read(offset.0 as u64 - seg.base().0 as u64, size).await
    }

    /// The whole record starting at `offset`, its size read from its first field. Fails unless a
    /// valid record starts exactly there (ids from clients are not trusted).
    pub async fn record_at(&self, offset: CommitLogOffset) -> Result<Bytes> {
        {
            let tail = self.tail.borrow();
            let i = tail.cache.partition_point(|(o, _)| *o < offset);
            if let Some((o, b)) = tail.cache.get(i) {
                if *o == offset {
                    return Ok(b.clone());
                }
            }
        }
        let seg = self
            .segment_of(offset)
            .ok_or(StorageError::NoRecordAt(offset))?;
        let pos = (offset.0 - seg.base().0) as u64;
        if offset + 8 > self.tail.borrow().written_pos {
            return Err(StorageError::NoRecordAt(offset));
        }
        let head = seg.read(pos, 8).await?;
        let size = i32::from_be_bytes(head[0..4].try_into().unwrap_or_default());
        let magic = i32::from_be_bytes(head[4..8].try_into().unwrap_or_default());
        let plausible = size > 8
            && pos + size as u64 <= seg.size()
            && offset + size as u64 <= self.tail.borrow().written_pos;
        if !plausible
            || (magic != ringmq_protocol::message::MESSAGE_MAGIC_CODE
                && magic != ringmq_protocol::message::MESSAGE_MAGIC_CODE_V2)
        {
            return Err(StorageError::NoRecordAt(offset));
        }
        let bytes = seg.read(pos, size as usize).await?;
        match ringmq_protocol::message::StoredMessage::decode(&bytes) {
            Ok((m, _)) if m.commit_log_offset == offset.0 => Ok(bytes),
            _ => Err(StorageError::NoRecordAt(offset)),
        }
    }

    /// Refuses appends (`Some`, a [`StorageError::DiskFull`]) or accepts them again (`None`).
    pub fn set_disk_full(&self, full: Option<StorageError>) {
        self.tail.borrow_mut().disk_full = full;
    }

    /// The first offset still stored.
    pub fn min_offset(&self) -> CommitLogOffset {
        *self
            .tail
            .borrow()
            .segments
            .keys()
            .next()
            .expect("a log always has a segment")
    }

    /// Segments no longer written to, oldest first.
    pub fn sealed_segments(&self) -> Vec<Rc<CommitLogSegment>> {
        let tail = self.tail.borrow();
        tail.segments
            .values()
            .filter(|s| s.end() <= tail.active.base())
            .cloned()
            .collect()
    }

    /// Deletes the oldest sealed segment: gone for readers at once, its space freed in steps.
    /// Returns the new first offset, or `None` when only the active segment is left.
    pub async fn delete_oldest_segment(&self) -> Result<Option<CommitLogOffset>> {
        let seg = {
            let mut tail = self.tail.borrow_mut();
            let Some((&base, seg)) = tail.segments.iter().next() else {
                return Ok(None);
            };
            if seg.end() > tail.active.base() || seg.end() > tail.written_pos {
                return Ok(None);
            }
            let seg = seg.clone();
            tail.segments.remove(&base);
            let end = seg.end();
            let before = tail.cache.partition_point(|(o, _)| *o < end);
            for _ in 0..before {
                if let Some((_, b)) = tail.cache.pop_front() {
                    tail.cache_bytes -= b.len();
                }
            }
            seg
        };
        log::info!("deleting commit-log segment {}", seg.path().display());
        seg.remove().await?;
        Ok(Some(self.min_offset()))
    }

    /// The segment holding `offset` (for serving a cold read with sendfile).
    pub fn segment_of(&self, offset: CommitLogOffset) -> Option<Rc<CommitLogSegment>> {
        let tail = self.tail.borrow();
        let (_, seg) = tail.segments.range(..=offset).next_back()?;
        seg.contains(offset).then(|| seg.clone())
    }

    /// Stops accepting appends after flushing what was appended.
    pub async fn close(&self) -> Result<()> {
        let result = self.flush().await;
        self.tail.borrow_mut().closed = true;
        self.to_flusher.notify();
        self.from_flusher.notify();
        // A segment still being prepared would otherwise finish after we are gone and race the
        // next open of this directory for the same file.
        self.from_flusher
            .wait_until(|| !self.tail.borrow().preparing)
            .await;
        result
    }
}

async fn prepare_segment(
    dir: PathBuf,
    base: CommitLogOffset,
    size: u64,
    log: std::rc::Weak<CommitLog>,
) {
    let result = CommitLogSegment::create(&dir, base, size).await;
    let Some(log) = log.upgrade() else { return };
    let mut t = log.tail.borrow_mut();
    t.preparing = false;
    match result {
        Ok(seg) => {
            let seg = Rc::new(seg);
            t.segments.insert(base, seg.clone());
            t.next = Some(seg);
        }
        Err(e) => {
            log::error!("cannot prepare commit-log segment {base}: {e}");
            t.failed = Some(format!("cannot prepare the next commit-log segment: {e}"));
        }
    }
    drop(t);
    log.from_flusher.notify();
    log.to_flusher.notify();
}

#[cfg(test)]
mod tests;
