//! The message index of one shard: maps a message key (`topic#key`, from the `KEYS` and `UNIQ_KEY`
//! properties) to the commit-log offsets of the records carrying it, for QUERY_MESSAGE. Owns the
//! shard's index directory: a run of fixed-capacity hash files as in Java's `IndexFile`, the newest
//! of which (the active file) is held in memory.
//!
//! A file is a hash table with chaining laid out for appends: a slot table naming the newest entry
//! of each slot, then entries in put order, each linking back to the entry before it in its slot.
//! A put appends one entry and moves one slot head; a lookup walks one chain newest first and stops
//! at the first entry stored before the time range. Only a 32-bit hash of the key is stored: the
//! caller reads each candidate record and drops those whose key differs.
//!
//! Crash safety rests on one rule: `open` trusts the header of every file but the newest, and
//! reloads the newest entry by entry, keeping the longest prefix that links up and rebuilding the
//! slot table from it. So a file is created only once the files before it are synced, and what is
//! lost is an unsynced tail, which recovery indexes again after [`MessageIndex::last_indexed`].
//! Byte layout: `storage/FORMAT.md`, "Index files".

use crate::error::{Result, StorageError};
use crate::offset::CommitLogOffset;
use crate::pending_syncs::{read_full_at, PendingSyncs};
use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Default hash slots per file (a 4 MiB slot table).
pub const DEFAULT_SLOTS: u32 = 1 << 20;
/// Default entries per file (96 MiB, held in memory while the file is active).
pub const DEFAULT_ENTRIES_PER_FILE: u32 = 4 << 20;

const MAGIC: u32 = 0x524D_5149; // "RMQI"
const VERSION: u16 = 1;
const HEADER_SIZE: usize = 64;
const ENTRY_SIZE: usize = 24;
/// The slot table is written back in 4 KiB pages.
const SLOTS_PER_PAGE: usize = 1024;
/// Entries per read when a file is loaded whole (384 KiB).
const LOAD_CHUNK: usize = 16 * 1024;

/// FNV-1a 32 of the key's UTF-8 bytes. Part of the file format: another hash would hide every key
/// already indexed.
fn key_hash(key: &str) -> u32 {
    key.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Whether an entry for `next` may follow one for `prev`: a shard's records are indexed in log
/// order, and one record may be indexed under several keys.
fn follows(prev: Option<CommitLogOffset>, next: CommitLogOffset) -> bool {
    prev.is_none_or(|p| next >= p && next.shard() == p.shard())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    hash: u32,
    offset: CommitLogOffset,
    timestamp: i64,
    /// The entry put before this one in the same slot (1-based; 0 = none).
    prev: u32,
}

impl Entry {
    fn encode(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.hash.to_be_bytes());
        out[4..12].copy_from_slice(&self.offset.0.to_be_bytes());
        out[12..20].copy_from_slice(&self.timestamp.to_be_bytes());
        out[20..24].copy_from_slice(&self.prev.to_be_bytes());
    }

    fn decode(b: &[u8]) -> Entry {
        Entry {
            hash: be_u32(&b[..4]),
            offset: CommitLogOffset(be_i64(&b[4..12])),
            timestamp: be_i64(&b[12..20]),
            prev: be_u32(&b[20..24]),
        }
    }
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b.try_into().expect("4 bytes"))
}

fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes(b.try_into().expect("8 bytes"))
}

/// A file's geometry, and enough about its entries to skip the file or bound a walk unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    slots: u32,
    capacity: u32,
    count: u32,
    /// Lowest and highest store timestamps of the entries (0 when empty): store times normally
    /// only grow, but a clock stepped back must not hide a file.
    min_time: i64,
    max_time: i64,
    /// Offsets of the first and the last entry (0 when empty).
    first: CommitLogOffset,
    last: CommitLogOffset,
}

impl Header {
    fn empty(slots: u32, capacity: u32) -> Header {
        Header {
            slots,
            capacity,
            count: 0,
            min_time: 0,
            max_time: 0,
            first: CommitLogOffset(0),
            last: CommitLogOffset(0),
        }
    }

    fn add(&mut self, e: &Entry) {
        if self.count == 0 {
            (self.min_time, self.max_time, self.first) = (e.timestamp, e.timestamp, e.offset);
        }
        self.min_time = self.min_time.min(e.timestamp);
        self.max_time = self.max_time.max(e.timestamp);
        self.last = e.offset;
        self.count += 1;
    }

    fn slot_of(&self, hash: u32) -> usize {
        (hash % self.slots) as usize
    }

    fn slot_pos(&self, slot: usize) -> u64 {
        (HEADER_SIZE + 4 * slot) as u64
    }

    /// Where entry `n` (1-based) starts.
    fn entry_pos(&self, n: u32) -> u64 {
        self.len_with(n - 1)
    }

    /// The file's length with `count` entries.
    fn len(&self) -> u64 {
        self.len_with(self.count)
    }

    fn len_with(&self, entries: u32) -> u64 {
        self.slot_pos(self.slots as usize) + u64::from(entries) * ENTRY_SIZE as u64
    }

    fn overlaps(&self, begin: i64, end: i64) -> bool {
        self.count > 0 && self.min_time <= end && self.max_time >= begin
    }

    fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0; HEADER_SIZE];
        b[..4].copy_from_slice(&MAGIC.to_be_bytes());
        b[4..6].copy_from_slice(&VERSION.to_be_bytes());
        b[8..12].copy_from_slice(&self.slots.to_be_bytes());
        b[12..16].copy_from_slice(&self.capacity.to_be_bytes());
        b[16..20].copy_from_slice(&self.count.to_be_bytes());
        b[24..32].copy_from_slice(&self.min_time.to_be_bytes());
        b[32..40].copy_from_slice(&self.max_time.to_be_bytes());
        b[40..48].copy_from_slice(&self.first.0.to_be_bytes());
        b[48..56].copy_from_slice(&self.last.0.to_be_bytes());
        let crc = crc32fast::hash(&b[..60]);
        b[60..].copy_from_slice(&crc.to_be_bytes());
        b
    }

    /// `None` unless magic, version and CRC check out and the geometry is usable.
    fn decode(b: &[u8; HEADER_SIZE]) -> Option<Header> {
        if be_u32(&b[..4]) != MAGIC
            || b[4..6] != VERSION.to_be_bytes()
            || be_u32(&b[60..]) != crc32fast::hash(&b[..60])
        {
            return None;
        }
        let h = Header {
            slots: be_u32(&b[8..12]),
            capacity: be_u32(&b[12..16]),
            count: be_u32(&b[16..20]),
            min_time: be_i64(&b[24..32]),
            max_time: be_i64(&b[32..40]),
            first: CommitLogOffset(be_i64(&b[40..48])),
            last: CommitLogOffset(be_i64(&b[48..56])),
        };
        (h.slots > 0 && h.capacity > 0 && h.count <= h.capacity).then_some(h)
    }
}

/// Follows a chain from entry `head`, newest first, adding to `out` the offsets of entries with
/// `hash` stored in [begin, end]. Equal offsets in a row (two keys of one record with one hash, or
/// a record indexed again by recovery) are added once.
fn walk(
    head: u32,
    count: u32,
    hash: u32,
    (begin, end): (i64, i64),
    max: usize,
    out: &mut Vec<CommitLogOffset>,
    mut entry: impl FnMut(u32) -> Result<Entry>,
) -> Result<()> {
    let mut n = head;
    while n != 0 && n <= count && out.len() < max {
        let e = entry(n)?;
        if e.hash == hash && (begin..=end).contains(&e.timestamp) && out.last() != Some(&e.offset) {
            out.push(e.offset);
        }
        // Older entries of the chain were stored no later. A link that does not go back is
        // damage; stopping there keeps a walk from looping.
        if e.timestamp < begin || e.prev >= n {
            break;
        }
        n = e.prev;
    }
    Ok(())
}

/// A file before the active one: only its header is kept; lookups read it with positioned reads.
#[derive(Debug)]
struct Sealed {
    seq: u64,
    header: Header,
}

/// The newest file, in memory. Flushes write what changed since the last one.
struct Active {
    seq: u64,
    header: Header,
    /// Per slot, the 1-based number of its newest entry (0 = empty).
    heads: Vec<u32>,
    entries: Vec<Entry>,
    /// Entries before this index are in the file.
    written: usize,
    /// Pages of `heads` changed since the last flush.
    dirty_pages: BTreeSet<usize>,
    header_dirty: bool,
    /// Open once the file exists.
    file: Option<File>,
}

impl Active {
    fn new(seq: u64, slots: u32, capacity: u32) -> Active {
        Active {
            seq,
            header: Header::empty(slots, capacity),
            heads: vec![0; slots as usize],
            entries: Vec::new(),
            written: 0,
            dirty_pages: BTreeSet::new(),
            header_dirty: false,
            file: None,
        }
    }

    fn is_full(&self) -> bool {
        self.header.count >= self.header.capacity
    }

    fn push(&mut self, e: Entry) {
        let slot = self.header.slot_of(e.hash);
        self.entries.push(e);
        self.heads[slot] = self.entries.len() as u32;
        self.dirty_pages.insert(slot / SLOTS_PER_PAGE);
        self.header.add(&e);
        self.header_dirty = true;
    }

    /// Reads file `seq` whole and keeps its longest consistent prefix: each entry must link to the
    /// entry its slot held before it, and offsets must follow each other (and `floor`, the end of
    /// the file before). A header whose CRC holds bounds the prefix: it commits each flush. The
    /// slot table is rebuilt from the entries; pages that differ on disk and a header that differs
    /// are left dirty for `write_out`, bytes past the last entry are cut (returns whether).
    fn load(
        path: &Path,
        seq: u64,
        (slots, capacity): (u32, u32),
        floor: Option<CommitLogOffset>,
    ) -> Result<(Active, bool)> {
        let io_err = |e| StorageError::io(path, e);
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_err)?;
        let len = f.metadata().map_err(io_err)?.len();
        let mut b = [0; HEADER_SIZE];
        let stored = match read_full_at(&f, &mut b, 0).map_err(io_err)? {
            HEADER_SIZE => Header::decode(&b),
            _ => None,
        };
        let (slots, capacity) = stored.map_or((slots, capacity), |h| (h.slots, h.capacity));
        let mut a = Active::new(seq, slots, capacity);
        let mut on_disk = vec![0; slots as usize * 4];
        read_full_at(&f, &mut on_disk, a.header.slot_pos(0)).map_err(io_err)?;

        let fit = len.saturating_sub(a.header.entry_pos(1)) / ENTRY_SIZE as u64;
        let limit = fit.min(u64::from(stored.map_or(capacity, |h| h.count))) as usize;
        let mut buf = vec![0; LOAD_CHUNK * ENTRY_SIZE];
        let mut last = floor;
        'load: while a.entries.len() < limit {
            let want = (limit - a.entries.len()).min(LOAD_CHUNK) * ENTRY_SIZE;
            let pos = a.header.len();
            let got = read_full_at(&f, &mut buf[..want], pos).map_err(io_err)?;
            for chunk in buf[..got].chunks_exact(ENTRY_SIZE) {
                let e = Entry::decode(chunk);
                if e.prev != a.heads[a.header.slot_of(e.hash)] || !follows(last, e.offset) {
                    break 'load;
                }
                a.push(e);
                last = Some(e.offset);
            }
            if got < want {
                break;
            }
        }
        a.written = a.entries.len();
        a.header_dirty = stored != Some(a.header);
        a.dirty_pages.clear();
        for (page, disk) in on_disk.chunks(SLOTS_PER_PAGE * 4).enumerate() {
            let heads = &a.heads[page * SLOTS_PER_PAGE..];
            if disk
                .chunks_exact(4)
                .zip(heads)
                .any(|(d, &h)| be_u32(d) != h)
            {
                a.dirty_pages.insert(page);
            }
        }
        let cut = len > a.header.len();
        if cut {
            f.set_len(a.header.len()).map_err(io_err)?;
        }
        a.file = Some(f);
        Ok((a, cut))
    }

    /// Drops the newest entries while `doomed`, pointing each slot back at the entry before.
    fn cut(&mut self, path: &Path, doomed: impl Fn(CommitLogOffset) -> bool) -> Result<()> {
        let before = self.entries.len();
        while let Some(e) = self.entries.last().copied().filter(|e| doomed(e.offset)) {
            // The slot's newer entries are gone already, so this one heads it.
            let slot = self.header.slot_of(e.hash);
            self.heads[slot] = e.prev;
            self.dirty_pages.insert(slot / SLOTS_PER_PAGE);
            self.entries.pop();
        }
        if self.entries.len() == before {
            return Ok(());
        }
        let mut header = Header::empty(self.header.slots, self.header.capacity);
        self.entries.iter().for_each(|e| header.add(e));
        (self.header, self.header_dirty) = (header, true);
        if self.written > self.entries.len() {
            self.written = self.entries.len();
            if let Some(f) = &self.file {
                f.set_len(header.len())
                    .map_err(|e| StorageError::io(path, e))?;
            }
        }
        Ok(())
    }

    /// Writes what changed since the last write: new entries, runs of dirty slot pages, then the
    /// header that commits them. The file must be open. Returns whether it wrote anything.
    fn write_out(&mut self, path: &Path) -> Result<bool> {
        if self.written == self.entries.len() && self.dirty_pages.is_empty() && !self.header_dirty {
            return Ok(false);
        }
        let f = self.file.as_ref().expect("the active file is open");
        let io_err = |e| StorageError::io(path, e);
        if self.written < self.entries.len() {
            let mut buf = vec![0; (self.entries.len() - self.written) * ENTRY_SIZE];
            for (e, out) in self.entries[self.written..]
                .iter()
                .zip(buf.chunks_exact_mut(ENTRY_SIZE))
            {
                e.encode(out);
            }
            let pos = self.header.len_with(self.written as u32);
            f.write_all_at(&buf, pos).map_err(io_err)?;
        }
        let pages: Vec<usize> = std::mem::take(&mut self.dirty_pages).into_iter().collect();
        for run in pages.chunk_by(|a, b| a + 1 == *b) {
            let from = run[0] * SLOTS_PER_PAGE;
            let to = self
                .heads
                .len()
                .min((run[run.len() - 1] + 1) * SLOTS_PER_PAGE);
            let buf: Vec<u8> = self.heads[from..to]
                .iter()
                .flat_map(|h| h.to_be_bytes())
                .collect();
            f.write_all_at(&buf, self.header.slot_pos(from))
                .map_err(io_err)?;
        }
        f.write_all_at(&self.header.encode(), 0).map_err(io_err)?;
        (self.written, self.header_dirty) = (self.entries.len(), false);
        Ok(true)
    }
}

/// One shard's message index. Single-threaded: the shard's executor owns it.
pub struct MessageIndex {
    dir: PathBuf,
    slots: u32,
    entries_per_file: u32,
    /// Files before the active one, oldest first; each holds at least one entry.
    sealed: Vec<Sealed>,
    active: Active,
    /// Files (and the directory) with writes not yet made durable.
    pending: PendingSyncs,
}

impl MessageIndex {
    /// Opens or creates the index in `dir`. Older files are checked by header and length; the
    /// newest is read whole into memory, and whatever of it is torn is cut (durably, at once).
    pub fn open(dir: &Path, slots: u32, entries_per_file: u32) -> Result<MessageIndex> {
        assert!(slots > 0 && entries_per_file > 0, "index files need room");
        fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        let mut idx = MessageIndex {
            dir: dir.to_path_buf(),
            slots,
            entries_per_file,
            sealed: Vec::new(),
            active: Active::new(0, slots, entries_per_file),
            pending: PendingSyncs::default(),
        };
        let files = list_files(dir)?;
        let Some((&newest, older)) = files.split_last() else {
            return Ok(idx);
        };
        for &seq in older {
            if let Some(header) = idx.sealed_header(seq)? {
                idx.sealed.push(Sealed { seq, header });
                continue;
            }
            let a = idx.load(seq)?;
            if a.entries.is_empty() {
                idx.remove_file(seq)?;
            } else {
                idx.sealed.push(Sealed {
                    seq,
                    header: a.header,
                });
            }
        }
        let a = idx.load(newest)?;
        // Its successor must not reach the disk before it does.
        idx.pending.file_written(newest);
        let ours = (a.header.slots, a.header.capacity) == (slots, entries_per_file);
        if a.entries.is_empty() && !ours {
            idx.active = Active::new(newest, slots, entries_per_file);
        } else if a.is_full() || !ours {
            idx.sealed.push(Sealed {
                seq: newest,
                header: a.header,
            });
            idx.active = Active::new(newest + 1, slots, entries_per_file);
        } else {
            idx.active = a;
        }
        Ok(idx)
    }

    /// Indexes `key` for the record at `offset` stored at `store_timestamp` (ms). In memory; never
    /// does I/O unless the active file is full (then it seals it: writes it out fully first, which
    /// may first sync the file sealed before it, see `flush`). Offsets must not go back or change
    /// shard: a shard's records are indexed in log order.
    pub fn put(&mut self, key: &str, offset: CommitLogOffset, store_timestamp: i64) -> Result<()> {
        let last = self.last_indexed();
        if !follows(last, offset) {
            return Err(StorageError::Corrupt {
                what: "message index order",
                path: self.dir.clone(),
                reason: format!("put of {offset} after {last:?}: records are indexed in log order"),
            });
        }
        if self.active.is_full() {
            self.seal()?;
        }
        let hash = key_hash(key);
        let prev = self.active.heads[self.active.header.slot_of(hash)];
        self.active.push(Entry {
            hash,
            offset,
            timestamp: store_timestamp,
            prev,
        });
        Ok(())
    }

    /// Commit-log offsets of up to `max` records whose key hash matches `key` and whose store time
    /// is in [begin, end] (inclusive), newest first, across files (newest file first; files whose
    /// time range does not overlap are skipped). A chain walk stops at the first entry stored
    /// before `begin`, which assumes store times do not go back within a file.
    pub fn lookup(
        &self,
        key: &str,
        begin: i64,
        end: i64,
        max: usize,
    ) -> Result<Vec<CommitLogOffset>> {
        let hash = key_hash(key);
        let mut out = Vec::new();
        let a = &self.active;
        if a.header.overlaps(begin, end) {
            let head = a.heads[a.header.slot_of(hash)];
            walk(
                head,
                a.header.count,
                hash,
                (begin, end),
                max,
                &mut out,
                |n| Ok(a.entries[n as usize - 1]),
            )?;
        }
        for s in self.sealed.iter().rev() {
            if out.len() >= max {
                break;
            }
            if s.header.overlaps(begin, end) {
                self.lookup_sealed(s, hash, (begin, end), max, &mut out)?;
            }
        }
        Ok(out)
    }

    /// The largest offset indexed so far (recovery re-indexes records at or after it). None when
    /// empty.
    pub fn last_indexed(&self) -> Option<CommitLogOffset> {
        if self.active.header.count > 0 {
            return Some(self.active.header.last);
        }
        self.sealed.last().map(|s| s.header.last)
    }

    /// Recovery: forgets entries with offset >= `end` of `end`'s shard (the commit log was cut
    /// there). Files wholly after the cut are removed; the file holding it becomes the active one
    /// (read into memory if it was sealed) and is cut there, its slots following the removed
    /// entries' prev links back. Synced before returning: a stale entry past the cut would make
    /// `last_indexed` claim records that are gone.
    pub fn truncate_after(&mut self, end: CommitLogOffset) -> Result<()> {
        let doomed = |o: CommitLogOffset| o.shard() == end.shard() && o >= end;
        if !self.last_indexed().is_some_and(doomed) {
            return Ok(());
        }
        loop {
            let path = self.path(self.active.seq);
            self.active.cut(&path, doomed)?;
            match self.sealed.last() {
                Some(s) if self.active.header.count == 0 && doomed(s.header.last) => {
                    let s = self.sealed.pop().expect("matched above");
                    let loaded = self.load(s.seq)?;
                    let emptied = std::mem::replace(&mut self.active, loaded);
                    let seq = emptied.seq;
                    drop(emptied);
                    self.remove_file(seq)?;
                }
                _ => break,
            }
        }
        self.flush()?;
        self.sync()
    }

    /// Writes what changed to the active file (no fsync, except that a new file is created only
    /// after the files before it are synced: see the module comment).
    pub fn flush(&mut self) -> Result<()> {
        let path = self.path(self.active.seq);
        if self.active.file.is_none() {
            if self.active.entries.is_empty() {
                self.active.dirty_pages.clear();
                self.active.header_dirty = false;
                return Ok(());
            }
            self.sync()?;
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .map_err(|e| StorageError::io(&path, e))?;
            self.active.file = Some(f);
            self.pending.dir_changed();
        }
        if self.active.write_out(&path)? {
            self.pending.file_written(self.active.seq);
        }
        Ok(())
    }

    /// Whether the next [`flush`](Self::flush) creates a file and so must first sync the files
    /// before it: a caller that does not want to wait for the disk makes them durable its own
    /// way first (one `syncfs` on a blocking thread) and calls [`mark_synced`](Self::mark_synced).
    pub fn must_sync_before_flush(&self) -> bool {
        self.active.file.is_none() && !self.active.entries.is_empty() && self.has_unsynced()
    }

    /// Whether [`MessageIndex::sync`] has anything to do.
    pub fn has_unsynced(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Records that the caller made everything durable another way (one `syncfs`).
    pub fn mark_synced(&mut self) {
        self.pending.clear();
    }

    /// fdatasync of files written since the last sync, and of the directory if it changed.
    pub fn sync(&mut self) -> Result<()> {
        let dir = self.dir.clone();
        let open = self.active.file.as_ref().map(|f| (self.active.seq, f));
        self.pending
            .sync(&dir, |seq| dir.join(format!("{seq:020}")), open)
    }

    /// Retention: deletes whole sealed files, oldest first, whose last entry is of
    /// `min_commit_log`'s shard and before it. The file holding the last entry stays, so
    /// `last_indexed` survives a restart. Returns how many were deleted.
    pub fn delete_before(&mut self, min_commit_log: CommitLogOffset) -> Result<usize> {
        let keep_newest = usize::from(self.active.header.count == 0);
        let candidates = self.sealed.len().saturating_sub(keep_newest);
        let expired = self.sealed[..candidates]
            .iter()
            .take_while(|s| {
                s.header.last.shard() == min_commit_log.shard() && s.header.last < min_commit_log
            })
            .count();
        for _ in 0..expired {
            self.remove_file(self.sealed[0].seq)?;
            self.sealed.remove(0);
        }
        Ok(expired)
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}"))
    }

    fn seal(&mut self) -> Result<()> {
        self.flush()?;
        let next = Active::new(self.active.seq + 1, self.slots, self.entries_per_file);
        let full = std::mem::replace(&mut self.active, next);
        self.sealed.push(Sealed {
            seq: full.seq,
            header: full.header,
        });
        Ok(())
    }

    /// The header of an older file, if it is intact, non-empty, backed by the file's length and
    /// follows the file before it.
    fn sealed_header(&self, seq: u64) -> Result<Option<Header>> {
        let path = self.path(seq);
        let io_err = |e| StorageError::io(&path, e);
        let f = File::open(&path).map_err(io_err)?;
        let len = f.metadata().map_err(io_err)?.len();
        let mut b = [0; HEADER_SIZE];
        if read_full_at(&f, &mut b, 0).map_err(io_err)? < HEADER_SIZE {
            return Ok(None);
        }
        let floor = self.sealed.last().map(|s| s.header.last);
        Ok(Header::decode(&b).filter(|h| h.count > 0 && len >= h.len() && follows(floor, h.first)))
    }

    /// Loads file `seq` whole (see [`Active::load`]) and makes its repairs durable at once, so no
    /// later write can reach the disk before them.
    fn load(&mut self, seq: u64) -> Result<Active> {
        let path = self.path(seq);
        let floor = self.sealed.last().map(|s| s.header.last);
        let geometry = (self.slots, self.entries_per_file);
        let (mut a, cut) = Active::load(&path, seq, geometry, floor)?;
        if a.write_out(&path)? | cut {
            log::warn!(
                "index file {} was torn or damaged; kept its first {} entries",
                path.display(),
                a.entries.len()
            );
            let f = a.file.as_ref().expect("loaded");
            f.sync_data().map_err(|e| StorageError::io(&path, e))?;
        }
        Ok(a)
    }

    fn lookup_sealed(
        &self,
        s: &Sealed,
        hash: u32,
        range: (i64, i64),
        max: usize,
        out: &mut Vec<CommitLogOffset>,
    ) -> Result<()> {
        let path = self.path(s.seq);
        let io_err = |e| StorageError::io(&path, e);
        let f = File::open(&path).map_err(io_err)?;
        let h = &s.header;
        let mut b = [0; ENTRY_SIZE];
        f.read_exact_at(&mut b[..4], h.slot_pos(h.slot_of(hash)))
            .map_err(io_err)?;
        walk(be_u32(&b[..4]), h.count, hash, range, max, out, |n| {
            f.read_exact_at(&mut b, h.entry_pos(n)).map_err(io_err)?;
            Ok(Entry::decode(&b))
        })
    }

    fn remove_file(&mut self, seq: u64) -> Result<()> {
        let path = self.path(seq);
        match fs::remove_file(&path) {
            Ok(()) => self.pending.file_removed(seq),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StorageError::io(path, e)),
        }
        Ok(())
    }
}

/// Sequence numbers of the index files in `dir`, ascending.
fn list_files(dir: &Path) -> Result<Vec<u64>> {
    let mut files = Vec::new();
    for item in fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))? {
        let item = item.map_err(|e| StorageError::io(dir, e))?;
        let name = item.file_name();
        let seq = name
            .to_str()
            .filter(|n| n.len() == 20 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse().ok());
        match seq {
            Some(seq) => files.push(seq),
            None => log::warn!("ignoring {} in an index directory", item.path().display()),
        }
    }
    files.sort_unstable();
    Ok(files)
}

impl fmt::Debug for MessageIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageIndex")
            .field("dir", &self.dir)
            .field("slots", &self.slots)
            .field("entries_per_file", &self.entries_per_file)
            .field("sealed_files", &self.sealed.len())
            .field("active_file", &self.active.seq)
            .field("active_entries", &self.active.entries.len())
            .field(
                "unflushed",
                &(self.active.entries.len() - self.active.written),
            )
            .field("last_indexed", &self.last_indexed())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
