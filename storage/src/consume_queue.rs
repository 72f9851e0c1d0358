//! A consume queue: the index of one (topic, queueId) that maps queue offset N to the commit-log
//! record of the queue's Nth message. Owns the queue's directory, its files and the in-memory tail.
//!
//! Files are named by the 20-digit zero-padded byte offset of their first slot (queue offset * 20)
//! and hold `entries_per_file` slots of 20 bytes, big-endian: commit-log offset (i64), record
//! size (i32), tag hash code (i64). An all-zero slot ends the queue. A slot with size 0 and offset
//! -1 is a hole: an entry recovery dropped while later entries of another shard stayed.

use crate::error::{Result, StorageError};
use crate::offset::{CommitLogOffset, QueueOffset};
use crate::pending_syncs::{read_full_at, PendingSyncs};
use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Bytes per entry in a consume-queue file.
pub const CQ_ENTRY_SIZE: usize = 20;
const SLOT: u64 = CQ_ENTRY_SIZE as u64;
/// Slots per read when walking a queue (20 KiB); walks start with one slot, as most stop there.
const SCAN_CHUNK: u64 = 1024;

/// Where one message of the queue lives in the commit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CqEntry {
    pub commit_log_offset: CommitLogOffset,
    pub size: u32,
    pub tag_code: i64,
}

/// Stands in for a dropped entry that has entries after it, so later offsets keep their place.
const HOLE: CqEntry = CqEntry {
    commit_log_offset: CommitLogOffset(-1),
    size: 0,
    tag_code: 0,
};

impl CqEntry {
    pub fn encode(&self, out: &mut [u8; CQ_ENTRY_SIZE]) {
        out[..8].copy_from_slice(&self.commit_log_offset.0.to_be_bytes());
        out[8..12].copy_from_slice(&self.size.to_be_bytes());
        out[12..].copy_from_slice(&self.tag_code.to_be_bytes());
    }

    /// `None` for a slot that holds no entry (size 0: never written, or a hole).
    pub fn decode(b: &[u8; CQ_ENTRY_SIZE]) -> Option<CqEntry> {
        Some(Self::decode_slot(b)).filter(CqEntry::is_entry)
    }

    /// Where the record ends in the commit log.
    pub fn end(&self) -> CommitLogOffset {
        self.commit_log_offset + u64::from(self.size)
    }

    fn decode_slot(b: &[u8]) -> CqEntry {
        let be8 = |i: usize| i64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        CqEntry {
            commit_log_offset: CommitLogOffset(be8(0)),
            size: u32::from_be_bytes(b[8..12].try_into().expect("4 bytes")),
            tag_code: be8(12),
        }
    }

    fn is_entry(&self) -> bool {
        self.size != 0
    }
}

/// What opening a queue learns from its last file, besides where the queue ends.
struct LastFileEntries {
    /// The offset of the file's first entry.
    first: Option<u64>,
    /// The file's newest entry, and its offset.
    newest: Option<(u64, CqEntry)>,
}

/// One queue's index. Offsets are u64 inside; the public API speaks [`QueueOffset`].
pub struct ConsumeQueue {
    dir: PathBuf,
    entries_per_file: u64,
    hot_window: usize,
    min: u64,
    max: u64,
    /// Slots [max - hot.len(), max): every unflushed one, and up to `hot_window` of the newest
    /// while the queue is active. Tailing pulls read here; older slots are read from the files.
    hot: VecDeque<CqEntry>,
    /// Checkpoints since the last append: see [`ConsumeQueue::release_if_idle`].
    idle_checkpoints: u32,
    /// Slots below this have been written to their files.
    flushed: u64,
    last_end: Option<CommitLogOffset>,
    /// The file flushes last went to, kept open; other files are opened per use, so 100,000
    /// idle queues hold no descriptors.
    writer: Option<(u64, File)>,
    /// Files (and the directory) with writes not yet made durable.
    pending: PendingSyncs,
    /// False for a queue made by [`ConsumeQueue::create`] until its first flush.
    dir_exists: bool,
}

impl ConsumeQueue {
    /// Opens the queue in `dir` (created if missing). Only the newest file is read in full; older
    /// ones are touched only to find the first entry.
    pub fn open(dir: &Path, entries_per_file: u64, hot_window: usize) -> Result<ConsumeQueue> {
        fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        let mut cq = Self::create(dir, entries_per_file, hot_window);
        cq.dir_exists = true;
        let files = cq.list_files()?;
        let Some(&last) = files.last() else {
            return Ok(cq);
        };
        cq.load_existing(files, last)
    }

    /// A queue known to be new (nothing of it on disk): no I/O at all, so the first message of
    /// a new queue does not stall the put path; the directory is made by the first flush.
    pub fn create(dir: &Path, entries_per_file: u64, hot_window: usize) -> ConsumeQueue {
        assert!(entries_per_file > 0, "entries_per_file must be positive");
        ConsumeQueue {
            dir: dir.to_path_buf(),
            entries_per_file,
            hot_window,
            min: 0,
            max: 0,
            hot: VecDeque::new(),
            idle_checkpoints: 0,
            flushed: 0,
            last_end: None,
            writer: None,
            pending: PendingSyncs::default(),
            dir_exists: false,
        }
    }

    fn load_existing(mut self, files: Vec<u64>, last: u64) -> Result<ConsumeQueue> {
        let cq = &mut self;
        let in_last = cq.load_last_file(last)?;
        cq.min = cq.max;
        for &file in &files {
            let first = if file == last {
                in_last.first
            } else {
                cq.first_entry_from(cq.base(file), cq.base(file + 1))?
                    .map(|(off, _)| off)
            };
            if let Some(off) = first {
                cq.min = off;
                break;
            }
        }
        // Holes at the end belong to a cut tail (they may reach back into earlier files). The
        // newest entry is usually in the last file, already read: no second read per queue.
        let newest = match in_last.newest {
            Some(found) => Some(found),
            None => cq.last_entry_before(cq.max, cq.min)?,
        };
        if let Some((newest, e)) = newest {
            cq.cut_tail(newest + 1)?;
            cq.last_end = Some(e.end());
        }
        Ok(self)
    }

    /// The first available entry.
    pub fn min_offset(&self) -> QueueOffset {
        QueueOffset(self.min as i64)
    }

    /// The offset the next append gets.
    pub fn max_offset(&self) -> QueueOffset {
        QueueOffset(self.max as i64)
    }

    /// Offsets below this are in the files (not necessarily synced).
    pub fn flushed_offset(&self) -> QueueOffset {
        QueueOffset(self.flushed as i64)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends in memory; `flush` writes it out. No I/O.
    pub fn append(&mut self, entry: CqEntry) -> QueueOffset {
        debug_assert!(entry.is_entry(), "a size-0 entry reads back as no entry");
        let offset = self.max;
        // Room is made before the push, not after: a full VecDeque would double its capacity
        // for the one extra slot, and keep that doubled size for good.
        self.trim_hot(self.hot_window.saturating_sub(1));
        self.hot.push_back(entry);
        self.idle_checkpoints = 0;
        self.max += 1;
        self.last_end = Some(entry.end());
        QueueOffset(offset as i64)
    }

    /// The entry at `offset`: from memory when hot, else one read of its file.
    pub fn get(&self, offset: QueueOffset) -> Result<Option<CqEntry>> {
        let off = match u64::try_from(offset.0) {
            Ok(off) if off >= self.min && off < self.max => off,
            _ => return Ok(None),
        };
        let e = match off.checked_sub(self.hot_start()) {
            Some(i) => self.hot[i as usize],
            None => self.slots(off, off + 1)?[0],
        };
        Ok(Some(e).filter(CqEntry::is_entry))
    }

    /// Up to `max` slots from `from`, holes left out (the offsets show the gap).
    pub fn entries(&self, from: QueueOffset, max: usize) -> Result<Vec<(QueueOffset, CqEntry)>> {
        let from = u64::try_from(from.0).unwrap_or(0).max(self.min);
        let to = self.max.min(from.saturating_add(max as u64));
        if from >= to {
            return Ok(Vec::new());
        }
        let slots = self.slots(from, to)?.into_iter().zip(from..);
        Ok(slots
            .filter(|(e, _)| e.is_entry())
            .map(|(e, off)| (QueueOffset(off as i64), e))
            .collect())
    }

    /// Where the last entry's record ends: dispatch resumes there after a restart.
    pub fn last_entry_end(&self) -> Option<CommitLogOffset> {
        self.last_end
    }

    /// Binary search over [min, max): the first offset where `pred` is false (`pred` must hold
    /// on a prefix). A hole takes the verdict of the next entry, which keeps the prefix intact.
    pub fn partition_point(&self, mut pred: impl FnMut(&CqEntry) -> bool) -> Result<QueueOffset> {
        let (mut lo, mut hi) = (self.min, self.max);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.first_entry_from(mid, hi)? {
                Some((probe, e)) if pred(&e) => lo = probe + 1,
                _ => hi = mid,
            }
        }
        Ok(QueueOffset(lo as i64))
    }

    /// Recovery after the commit log was cut at `end`: drops the entries of `end`'s shard whose
    /// record ends past it, in memory and on disk. Dropped entries with later entries of other
    /// shards after them become holes; a dropped tail is cut, and max moves back to it.
    pub fn truncate_after(&mut self, end: CommitLogOffset) -> Result<()> {
        let shard = end.shard();
        let mut dropped = Vec::new();
        let mut newest_kept = None;
        // A shard dispatches in commit-log order, so its first entry that stays ends the walk.
        self.scan_back(self.min, self.max, |off, e| {
            let ours = e.is_entry() && e.commit_log_offset.shard() == shard;
            if ours && e.end() > end {
                dropped.push(off);
                return true;
            }
            if e.is_entry() {
                newest_kept.get_or_insert(off);
            }
            !ours
        })?;
        if dropped.is_empty() {
            return Ok(());
        }
        let new_max = newest_kept.map_or(self.min, |off| off + 1);
        for off in dropped.into_iter().filter(|&off| off < new_max) {
            self.punch_hole(off)?;
        }
        self.cut_tail(new_max)?;
        self.skip_leading_holes()?;
        self.last_end = self
            .last_entry_before(self.max, self.min)?
            .map(|(_, e)| e.end());
        Ok(())
    }

    /// Writes the unflushed entries to their files (one write per file; no fsync).
    pub fn flush(&mut self) -> Result<()> {
        while self.flushed < self.max {
            let file = self.file_of(self.flushed);
            let end = self.max.min(self.base(file + 1));
            let hot_start = self.hot_start();
            let range = (self.flushed - hot_start) as usize..(end - hot_start) as usize;
            let mut buf = Vec::with_capacity(range.len() * CQ_ENTRY_SIZE);
            for e in self.hot.range(range) {
                let mut slot = [0; CQ_ENTRY_SIZE];
                e.encode(&mut slot);
                buf.extend_from_slice(&slot);
            }
            let (path, pos) = (self.path(file), (self.flushed - self.base(file)) * SLOT);
            self.writer(file)?
                .write_all_at(&buf, pos)
                .map_err(|e| StorageError::io(&path, e))?;
            self.pending.file_written(file);
            self.flushed = end;
        }
        // No descriptor is kept between flushes: a broker with 100,000 queues would otherwise
        // hold 100,000 open files. Flushes come once per checkpoint, so reopening is cheap.
        self.writer = None;
        self.trim_hot(self.hot_window);
        Ok(())
    }

    /// Called once per checkpoint, after [`ConsumeQueue::flush`]: a queue with no append for
    /// `idle_after` checkpoints gives its in-memory slots back. Every queue that ever had a burst
    /// would otherwise hold a full window (24 KiB at the default 1,024 slots) for good, so a
    /// broker with 100,000 queues could hold gigabytes for queues nobody writes to. Reads of an
    /// idle queue go to its files, which the page cache usually holds; the window fills again
    /// with the next appends. Returns whether memory was released.
    pub fn release_if_idle(&mut self, idle_after: u32) -> bool {
        self.idle_checkpoints = self.idle_checkpoints.saturating_add(1);
        if self.idle_checkpoints <= idle_after
            || self.flushed < self.max
            || self.hot.capacity() == 0
        {
            return false;
        }
        self.hot = VecDeque::new();
        true
    }

    /// Entries held in memory (the rest are read from the files).
    pub fn resident_entries(&self) -> usize {
        self.hot.len()
    }

    /// Whether [`ConsumeQueue::sync`] has anything to do.
    pub fn has_unsynced(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Records that the caller made everything durable another way (one `syncfs` of the file
    /// system instead of a sync per file, for shards with many queues).
    pub fn mark_synced(&mut self) {
        self.pending.clear();
    }

    /// fdatasyncs the files written since the last sync, and the directory if it changed.
    pub fn sync(&mut self) -> Result<()> {
        let (dir, span) = (self.dir.clone(), self.entries_per_file * SLOT);
        let open = self.writer.as_ref().map(|(n, f)| (*n, f));
        self.pending
            .sync(&dir, |file| dir.join(format!("{:020}", file * span)), open)
    }

    /// Drops whole files from the oldest while their newest entry is of `min_commit_log`'s shard
    /// and points before it (a shard's entries are in log order, so all of its older ones do too).
    /// The file holding the queue's last entry always stays, so `last_entry_end` survives.
    /// Returns the number of file spans dropped.
    pub fn delete_before(&mut self, min_commit_log: CommitLogOffset) -> Result<usize> {
        if self.min == self.max || self.file_of(self.min) == self.file_of(self.max - 1) {
            return Ok(0);
        }
        // With everything in the files, the file of the last entry is on disk to tell a restart
        // where the queue is, whatever is dropped before it.
        self.flush()?;
        let shard = min_commit_log.shard();
        let last_file = self.file_of(self.max - 1);
        let mut file = self.file_of(self.min);
        let mut removed = 0;
        while file < last_file {
            let newest =
                self.last_entry_before(self.base(file + 1), self.base(file).max(self.min))?;
            let expired = newest.is_none_or(|(_, e)| {
                e.commit_log_offset.shard() == shard && e.commit_log_offset < min_commit_log
            });
            if !expired {
                break;
            }
            self.remove_file(file)?;
            removed += 1;
            file += 1;
        }
        if removed > 0 {
            self.min = self.base(file);
            while self.hot_start() < self.min {
                self.hot.pop_front();
            }
            self.skip_leading_holes()?;
        }
        Ok(removed)
    }

    /// Moves the minimum to the first entry whose record starts at or after `min_commit_log`
    /// (Java's `correctMinOffset`): after old commit-log segments are deleted, entries in the
    /// first remaining file may still point at them, and readers must not be sent there.
    pub fn correct_min_offset(&mut self, min_commit_log: CommitLogOffset) -> Result<QueueOffset> {
        let shard = min_commit_log.shard();
        let first_kept = self.partition_point(|e| {
            e.commit_log_offset.shard() == shard && e.commit_log_offset < min_commit_log
        })?;
        let first_kept = first_kept.0 as u64;
        if first_kept > self.min {
            // Entries about to leave memory must be in their files first: the last one tells a
            // restart where the queue ends, and a flush expects every unflushed entry in `hot`.
            if first_kept > self.flushed {
                self.flush()?;
            }
            self.min = first_kept;
            while self.hot_start() < self.min && !self.hot.is_empty() {
                self.hot.pop_front();
            }
        }
        Ok(QueueOffset(self.min as i64))
    }

    fn file_of(&self, off: u64) -> u64 {
        off / self.entries_per_file
    }

    fn base(&self, file: u64) -> u64 {
        file * self.entries_per_file
    }

    fn path(&self, file: u64) -> PathBuf {
        self.dir.join(format!("{:020}", self.base(file) * SLOT))
    }

    fn hot_start(&self) -> u64 {
        self.max - self.hot.len() as u64
    }

    /// Drops the oldest in-memory slots down to `keep`, written ones only.
    fn trim_hot(&mut self, keep: usize) {
        while self.hot.len() > keep && self.hot_start() < self.flushed {
            self.hot.pop_front();
        }
    }

    fn list_files(&self) -> Result<Vec<u64>> {
        let span = self.entries_per_file * SLOT;
        let mut files = Vec::new();
        for item in fs::read_dir(&self.dir).map_err(|e| StorageError::io(&self.dir, e))? {
            let item = item.map_err(|e| StorageError::io(&self.dir, e))?;
            let name = item.file_name();
            let start = name
                .to_str()
                .filter(|n| n.len() == 20 && n.bytes().all(|b| b.is_ascii_digit()));
            let Some(start) = start.and_then(|n| n.parse::<u64>().ok()) else {
                log::warn!(
                    "ignoring {} in a consume queue directory",
                    item.path().display()
                );
                continue;
            };
            if start % span != 0 {
                return Err(StorageError::Corrupt {
                    what: "consume queue file name",
                    path: item.path(),
                    reason: format!("{start} is not a multiple of the {span}-byte file size"),
                });
            }
            files.push(start / span);
        }
        files.sort_unstable();
        Ok(files)
    }

    /// Reads the newest file up to its first empty slot: sets max and `flushed` there, and cuts
    /// off whatever follows (a torn slot, zeros, stale bytes) so later flushes leave nothing
    /// behind them that a restart could mistake for entries. Nothing is kept in memory: most
    /// queues of a large broker are idle after a restart.
    fn load_last_file(&mut self, file: u64) -> Result<LastFileEntries> {
        let path = self.path(file);
        let io_err = |e| StorageError::io(&path, e);
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err)?;
        let len = f.metadata().map_err(io_err)?.len();
        let mut buf = vec![0; len.min(self.entries_per_file * SLOT) as usize];
        read_full_at(&f, &mut buf, 0).map_err(io_err)?;
        let (mut first, mut newest, mut used) = (None, None, 0);
        for (i, slot) in (0u64..).zip(buf.chunks_exact(CQ_ENTRY_SIZE)) {
            let e = CqEntry::decode_slot(slot);
            if !e.is_entry() && e != HOLE {
                break;
            }
            if e.is_entry() {
                first.get_or_insert(self.base(file) + i);
                newest = Some((self.base(file) + i, e));
            }
            used = i + 1;
        }
        self.max = self.base(file) + used;
        self.flushed = self.max;
        if len != used * SLOT {
            f.set_len(used * SLOT).map_err(io_err)?;
            self.pending.file_written(file);
        }
        Ok(LastFileEntries { first, newest })
    }

    /// Slots [from, to) as stored, holes and empty slots included: one read per file touched.
    fn slots(&self, from: u64, to: u64) -> Result<Vec<CqEntry>> {
        let hot_start = self.hot_start();
        let mut out = Vec::with_capacity((to - from) as usize);
        let mut off = from;
        while off < to.min(hot_start) {
            let end = to.min(hot_start).min(self.base(self.file_of(off) + 1));
            self.read_file_slots(off, end, &mut out)?;
            off = end;
        }
        if off < to {
            out.extend(
                self.hot
                    .range((off - hot_start) as usize..(to - hot_start) as usize),
            );
        }
        Ok(out)
    }

    /// Slots [from, to) of one file; slots past the file's end read as empty.
    fn read_file_slots(&self, from: u64, to: u64, out: &mut Vec<CqEntry>) -> Result<()> {
        let file = self.file_of(from);
        let path = self.path(file);
        let opened;
        let f = match &self.writer {
            Some((i, f)) if *i == file => f,
            _ => {
                opened = File::open(&path).map_err(|e| StorageError::io(&path, e))?;
                &opened
            }
        };
        let mut buf = vec![0; ((to - from) * SLOT) as usize];
        let pos = (from - self.base(file)) * SLOT;
        let n = read_full_at(f, &mut buf, pos).map_err(|e| StorageError::io(&path, e))?;
        buf[n / CQ_ENTRY_SIZE * CQ_ENTRY_SIZE..].fill(0);
        out.extend(buf.chunks_exact(CQ_ENTRY_SIZE).map(CqEntry::decode_slot));
        Ok(())
    }

    /// Visits the slots of [floor, pos) newest first, until `visit` returns false.
    fn scan_back(
        &self,
        floor: u64,
        pos: u64,
        mut visit: impl FnMut(u64, CqEntry) -> bool,
    ) -> Result<()> {
        let (mut hi, mut chunk) = (pos, 1);
        while hi > floor {
            let lo = floor
                .max(hi.saturating_sub(chunk))
                .max(self.base(self.file_of(hi - 1)));
            for (i, e) in self.slots(lo, hi)?.into_iter().enumerate().rev() {
                if !visit(lo + i as u64, e) {
                    return Ok(());
                }
            }
            (hi, chunk) = (lo, SCAN_CHUNK);
        }
        Ok(())
    }

    fn last_entry_before(&self, pos: u64, floor: u64) -> Result<Option<(u64, CqEntry)>> {
        let mut found = None;
        self.scan_back(floor, pos, |off, e| {
            if e.is_entry() {
                found = Some((off, e));
            }
            found.is_none()
        })?;
        Ok(found)
    }

    /// The first slot holding an entry in [pos, limit).
    fn first_entry_from(&self, pos: u64, limit: u64) -> Result<Option<(u64, CqEntry)>> {
        let (mut lo, mut chunk) = (pos, 1);
        while lo < limit {
            let hi = limit.min(lo + chunk).min(self.base(self.file_of(lo) + 1));
            if let Some(found) = self
                .slots(lo, hi)?
                .into_iter()
                .zip(lo..)
                .find(|(e, _)| e.is_entry())
            {
                return Ok(Some((found.1, found.0)));
            }
            (lo, chunk) = (hi, SCAN_CHUNK);
        }
        Ok(None)
    }

    fn skip_leading_holes(&mut self) -> Result<()> {
        self.min = self
            .first_entry_from(self.min, self.max)?
            .map_or(self.max, |(off, _)| off);
        Ok(())
    }

    fn writer(&mut self, file: u64) -> Result<&File> {
        if !self.dir_exists {
            fs::create_dir_all(&self.dir).map_err(|e| StorageError::io(&self.dir, e))?;
            // The new directory's own entry is durable once its parent is synced; the store
            // syncs the whole file system at checkpoints, which covers it.
            self.dir_exists = true;
            self.pending.dir_changed();
        }
        let f = match self.writer.take() {
            Some((i, f)) if i == file => f,
            _ => {
                let path = self.path(file);
                let io_err = |e| StorageError::io(&path, e);
                let f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                    .map_err(io_err)?;
                // A new file's name is durable only once its directory is synced.
                if f.metadata().map_err(io_err)?.len() == 0 {
                    self.pending.dir_changed();
                }
                f
            }
        };
        Ok(&self.writer.insert((file, f)).1)
    }

    fn punch_hole(&mut self, off: u64) -> Result<()> {
        let hot_start = self.hot_start();
        if off >= hot_start {
            self.hot[(off - hot_start) as usize] = HOLE;
        }
        if off < self.flushed {
            let file = self.file_of(off);
            let (path, pos) = (self.path(file), (off - self.base(file)) * SLOT);
            let mut slot = [0; CQ_ENTRY_SIZE];
            HOLE.encode(&mut slot);
            self.writer(file)?
                .write_all_at(&slot, pos)
                .map_err(|e| StorageError::io(&path, e))?;
            self.pending.file_written(file);
        }
        Ok(())
    }

    /// Makes `new_max` the end of the queue, in memory and on disk.
    fn cut_tail(&mut self, new_max: u64) -> Result<()> {
        if new_max >= self.max {
            return Ok(());
        }
        let hot_start = self.hot_start();
        self.hot
            .truncate(new_max.saturating_sub(hot_start) as usize);
        if self.flushed > new_max {
            let keep = self.file_of(new_max);
            // Up to file_of(flushed): an earlier cut may have left an empty file there.
            for file in keep + 1..=self.file_of(self.flushed) {
                self.remove_file(file)?;
            }
            // The file holding slot new_max keeps the slots before it; even when left empty it
            // tells a restart where the queue goes on.
            let (path, len) = (self.path(keep), (new_max - self.base(keep)) * SLOT);
            self.writer(keep)?
                .set_len(len)
                .map_err(|e| StorageError::io(&path, e))?;
            self.pending.file_written(keep);
            self.flushed = new_max;
        }
        self.max = new_max;
        Ok(())
    }

    fn remove_file(&mut self, file: u64) -> Result<()> {
        if matches!(&self.writer, Some((i, _)) if *i == file) {
            self.writer = None;
        }
        let path = self.path(file);
        match fs::remove_file(&path) {
            Ok(()) => self.pending.file_removed(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StorageError::io(path, e)),
        }
        Ok(())
    }
}

impl fmt::Debug for ConsumeQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsumeQueue")
            .field("dir", &self.dir)
            .field("min", &self.min)
            .field("max", &self.max)
            .field("flushed", &self.flushed)
            .field("hot", &self.hot.len())
            .field("entries_per_file", &self.entries_per_file)
            .field("unsynced_files", &self.pending.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
