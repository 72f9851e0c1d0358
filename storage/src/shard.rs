//! A shard: one commit log and the consume queues of the (topic, queue) pairs it owns.
//!
//! One executor owns a shard and calls it directly; nothing here is shared across threads. A put
//! encodes the record, appends it and indexes it in the queue's consume queue in one synchronous
//! step, so queue offsets always follow commit-log order; under SYNC_FLUSH it then waits for the
//! group commit that covers it. Reads filter by tag code on the consume queue before touching
//! the log, and hand back records as shared memory (tail cache) or file ranges (cold data).

use crate::checkpoint::{Checkpoint, CheckpointFile};
use crate::commitlog::{
    CommitLog, CommitLogConfig, CommitLogSegment, FlushDiskType, RecoveryReport,
};
use crate::consume_queue::{ConsumeQueue, CqEntry};
use crate::error::{Result, StorageError};
use crate::index_file::MessageIndex;
use crate::io_turns::IoTurns;
use crate::offset::{CommitLogOffset, QueueOffset};
use bytes::Bytes;
use glommio::sync::Semaphore;
use lookup::index_keys;
use queue_table::{QueueKey, QueueTable};
use ringmq_protocol::message::{body_crc, Properties, StoredMessage};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub struct ShardConfig {
    pub commit_log: CommitLogConfig,
    /// Entries per consume-queue file (Java's `mappedFileSizeConsumeQueue` / 20: 300,000).
    pub cq_entries_per_file: u64,
    /// Recent consume-queue entries kept in memory per active queue (24 bytes each).
    pub cq_hot_window: usize,
    /// A queue with no appends for this long gives its in-memory entries back (checked at
    /// checkpoints, so it takes at least two of them).
    pub cq_idle_release: Duration,
    /// How often consume queues are written out and a checkpoint taken.
    pub checkpoint_interval: Duration,
    /// The broker's address, stored in every record (it becomes part of the message id).
    pub store_host: SocketAddr,
    pub retention: RetentionPolicy,
    /// Hash slots per index file.
    pub index_slots: u32,
    /// Keys per index file; the active file is held in memory (24 bytes a key).
    pub index_entries_per_file: u32,
}

impl Default for ShardConfig {
    fn default() -> Self {
        Self {
            commit_log: CommitLogConfig::default(),
            cq_entries_per_file: 300_000,
            cq_hot_window: 1024,
            cq_idle_release: Duration::from_secs(30),
            checkpoint_interval: Duration::from_secs(1),
            store_host: "127.0.0.1:10911".parse().expect("valid address"),
            retention: RetentionPolicy::default(),
            index_slots: 1 << 18,
            index_entries_per_file: 1 << 20,
        }
    }
}

/// A message as the broker hands it to the store.
#[derive(Debug, Clone)]
pub struct MessageToStore {
    pub topic: String,
    pub queue_id: i32,
    pub body: Bytes,
    /// The property string (`name\x01value\x02...`).
    pub properties: String,
    pub flag: i32,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutResult {
    pub offset: CommitLogOffset,
    pub size: u32,
    pub queue_offset: QueueOffset,
    pub store_timestamp: i64,
    /// SYNC_FLUSH only: the flush did not cover the record within `sync_flush_timeout`. The
    /// record is stored and will be flushed; the producer hears FLUSH_DISK_TIMEOUT (as from
    /// Java) and decides whether to resend.
    pub flush_timed_out: bool,
}

/// A stored record handed to a reader.
#[derive(Debug, Clone)]
pub enum RecordRef {
    /// Recent data, shared with the tail cache (send with writev, no copy).
    Memory(Bytes),
    /// Data only on disk: send this range of the segment with sendfile.
    File {
        segment: Rc<CommitLogSegment>,
        pos: u64,
        len: usize,
    },
}

impl RecordRef {
    pub fn len(&self) -> usize {
        match self {
            RecordRef::Memory(b) => b.len(),
            RecordRef::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, reading them from disk if needed (tests, small admin reads).
    pub async fn bytes(&self) -> Result<Bytes> {
        match self {
            RecordRef::Memory(b) => Ok(b.clone()),
            RecordRef::File { segment, pos, len } => segment.read(*pos, *len).await,
        }
    }
}

/// Why a read returned what it did (Java's `GetMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStatus {
    Found,
    /// The queue has no message at or after the offset yet (a long poll may wait).
    NoNewMessage,
    /// The offset equals the max offset of an empty queue, or is one past the end.
    OffsetOverflowOne,
    /// The offset is beyond the end.
    OffsetOverflowBadly,
    /// The offset is before the first retained message.
    OffsetTooSmall,
    /// Messages exist but none matched the filter.
    NoMatchedMessage,
    /// The queue does not exist on this shard.
    NoMatchedLogicQueue,
}

#[derive(Debug, Clone)]
pub struct ReadResult {
    pub status: ReadStatus,
    pub records: Vec<RecordRef>,
    /// Where the next read should start.
    pub next_offset: QueueOffset,
    pub min_offset: QueueOffset,
    pub max_offset: QueueOffset,
}

/// How many checkpoints `interval` apart fit in `span` (at least one).
fn checkpoints_within(span: Duration, interval: Duration) -> u32 {
    let n = span.as_nanos() / interval.as_nanos().max(1);
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}

pub struct Shard {
    id: u32,
    dir: PathBuf,
    config: ShardConfig,
    commit_log: Rc<CommitLog>,
    queues: RefCell<QueueTable>,
    index: RefCell<MessageIndex>,
    checkpoint: RefCell<CheckpointFile>,
    /// One checkpoint at a time: the periodic one and the one `close` writes take turns,
    /// so a clean-shutdown mark cannot be overwritten by an older one finishing later.
    checkpoint_turn: Semaphore,
    /// `close` began: no periodic checkpoint may start (it would mark the shard not cleanly
    /// closed again, and its blocking write could outlive the executor).
    closing: Cell<bool>,
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Shard {
    /// Opens shard `id` under `dir` (`<dir>/commitlog`, `<dir>/consumequeue`, `<dir>/checkpoint`),
    /// recovering it, and starts its checkpoint task on the current executor.
    pub async fn open(
        id: u32,
        dir: &Path,
        config: ShardConfig,
    ) -> Result<(Rc<Shard>, RecoveryReport)> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        let (checkpoint_file, checkpoint) = CheckpointFile::open(dir)?;
        let mut queues = load_queues(&dir.join("consumequeue"), &config)?;
        let mut index = MessageIndex::open(
            &dir.join("index"),
            config.index_slots,
            config.index_entries_per_file,
        )?;
        // Rescan from where both the queues and the index are known to be on disk. The queues
        // have every entry of the records before `queues_done`; those records are rescanned
        // for the index alone (a queue deleted since must not get them back).
        let queues_done = checkpoint.map(|c| c.dispatched.min(c.commit_log_durable));
        let scan_from = queues_done.map(|done| index.last_indexed().map_or(done, |i| i.min(done)));
        let cq_root = dir.join("consumequeue");
        let mut dispatch_error = None;
        let (commit_log, report) = CommitLog::open(
            id,
            &dir.join("commitlog"),
            config.commit_log.clone(),
            scan_from,
            |r| {
                if dispatch_error.is_some() {
                    return;
                }
                let props = r.message.properties();
                if index.last_indexed().is_none_or(|last| r.offset >= last) {
                    if let Err(e) = index_keys(
                        &mut index,
                        &r.message.topic,
                        &props,
                        r.offset,
                        r.message.store_timestamp,
                    ) {
                        dispatch_error = Some(e);
                        return;
                    }
                }
                if queues_done.is_some_and(|done| r.offset < done) {
                    return;
                }
                let (topic, queue_id) = (&r.message.topic, r.message.queue_id);
                let cq = match queues.get_or_try_insert(topic, queue_id, || {
                    ConsumeQueue::open(
                        &queue_dir(&cq_root, topic, queue_id),
                        config.cq_entries_per_file,
                        config.cq_hot_window,
                    )
                }) {
                    Ok(cq) => cq,
                    Err(e) => {
                        dispatch_error = Some(e);
                        return;
                    }
                };
                // Entries already persisted before the crash are kept; the rest are rebuilt.
                if cq.last_entry_end().is_some_and(|end| end > r.offset) {
                    return;
                }
                let expected = cq.max_offset().0;
                if r.message.queue_offset != expected {
                    log::warn!(
                        "shard {id}: record at {} has queue offset {} but {}/{} expects {expected}",
                        r.offset,
                        r.message.queue_offset,
                        r.message.topic,
                        r.message.queue_id
                    );
                }
                cq.append(CqEntry {
                    commit_log_offset: r.offset,
                    size: r.size,
                    tag_code: tag_code_of(&props),
                });
            },
        )
        .await?;
        if let Some(e) = dispatch_error {
            return Err(e);
        }
        // Entries pointing past the recovered end belong to records that did not survive, and
        // entries before the first segment to records retention already deleted.
        let log_start = commit_log.min_offset();
        for cq in queues.values_mut() {
            cq.truncate_after(report.end)?;
            cq.correct_min_offset(log_start)?;
        }
        index.truncate_after(report.end)?;
        let shard = Rc::new(Shard {
            id,
            dir: dir.to_owned(),
            config,
            commit_log,
            queues: RefCell::new(queues),
            index: RefCell::new(index),
            checkpoint: RefCell::new(checkpoint_file),
            checkpoint_turn: Semaphore::new(1),
            closing: Cell::new(false),
        });
        shard.write_checkpoint(false).await?;
        glommio::spawn_local(checkpoint_loop(Rc::downgrade(&shard))).detach();
        glommio::spawn_local(retention::retention_loop(Rc::downgrade(&shard))).detach();
        log::info!(
            "shard {id}: recovered to {} ({} records scanned in {:?}{})",
            report.end,
            report.records,
            report.elapsed,
            report
                .cut
                .as_ref()
                .map(|(o, why)| format!(", cut at {o}: {why}"))
                .unwrap_or_default()
        );
        Ok((shard, report))
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn commit_log(&self) -> &Rc<CommitLog> {
        &self.commit_log
    }

    /// When the oldest message still in the commit log was stored (ms); `None` when the log is
    /// empty or its first record cannot be read.
    pub async fn earliest_store_time(&self) -> Option<i64> {
        let log = &self.commit_log;
        let first = log.min_offset();
        if first >= log.write_pos() {
            return None;
        }
        let bytes = log.record_at(first).await.ok()?;
        StoredMessage::decode(&bytes)
            .ok()
            .map(|(m, _)| m.store_timestamp)
    }

    /// Stores one message; under SYNC_FLUSH returns once it is durable.
    pub async fn put(&self, msg: MessageToStore) -> Result<PutResult> {
        self.put_within(msg, None).await
    }

    /// Like [`Shard::put`], but refuses with [`StorageError::Busy`] (storing nothing) if the log
    /// has no room within `max_wait` (Java's `waitTimeMillsInSendQueue` flow control).
    pub async fn put_within(
        &self,
        msg: MessageToStore,
        max_wait: Option<Duration>,
    ) -> Result<PutResult> {
        let store_timestamp = now_millis();
        let mut record = StoredMessage {
            body_crc: body_crc(&msg.body),
            queue_id: msg.queue_id,
            flag: msg.flag,
            queue_offset: 0,
            commit_log_offset: 0,
            sys_flag: msg.sys_flag,
            born_timestamp: msg.born_timestamp,
            born_host: msg.born_host,
            store_timestamp,
            store_host: self.config.store_host,
            reconsume_times: msg.reconsume_times,
            prepared_transaction_offset: msg.prepared_transaction_offset,
            body: msg.body,
            topic: msg.topic,
            properties: msg.properties,
        };
        let len = record
            .encoded_len()
            .map_err(|e| StorageError::InvalidMessage(e.to_string()))?;
        // Parsed once: the consume queue needs the tag code, the index the keys.
        let props = Properties::parse(&record.properties);
        let tag_code = tag_code_of(&props);
        let (offset, queue_offset) = self
            .commit_log
            .append_within(len, max_wait, |offset, out| {
                let mut queues = self.queues.borrow_mut();
                // Made here, not before the append: the append may wait for room, and the
                // topic may be deleted meanwhile. A queue with no files has nothing to read.
                let (topic, queue_id) = (&record.topic, record.queue_id);
                let cq = queues.get_or_insert_with(topic, queue_id, || {
                    ConsumeQueue::create(
                        &queue_dir(&self.dir.join("consumequeue"), topic, queue_id),
                        self.config.cq_entries_per_file,
                        self.config.cq_hot_window,
                    )
                });
                record.commit_log_offset = offset.0;
                record.queue_offset = cq.max_offset().0;
                record.encode(out).expect("length checked by encoded_len");
                let q = cq.append(CqEntry {
                    commit_log_offset: offset,
                    size: len as u32,
                    tag_code,
                });
                // The message is stored either way; a key the index could not take is logged
                // (lookups by it will miss) rather than failing a durable put.
                let indexed = index_keys(
                    &mut self.index.borrow_mut(),
                    &record.topic,
                    &props,
                    offset,
                    store_timestamp,
                );
                if let Err(e) = indexed {
                    log::error!("shard {}: cannot index message at {offset}: {e}", self.id);
                }
                q
            })
            .await?;
        let mut flush_timed_out = false;
        if self.config.commit_log.flush_disk_type == FlushDiskType::SyncFlush {
            let limit = self.config.commit_log.sync_flush_timeout;
            flush_timed_out = !self
                .commit_log
                .wait_durable_within(offset + len as u64, limit)
                .await?;
        }
        Ok(PutResult {
            offset,
            size: len as u32,
            queue_offset,
            store_timestamp,
            flush_timed_out,
        })
    }

    /// Reads up to `max_msgs` messages (and about `max_bytes`) of a queue from `from`, keeping
    /// those whose tag code passes `filter`.
    pub fn read(
        &self,
        topic: &str,
        queue_id: i32,
        from: QueueOffset,
        max_msgs: usize,
        max_bytes: usize,
        filter: impl Fn(i64) -> bool,
    ) -> Result<ReadResult> {
        let queues = self.queues.borrow();
        let Some(cq) = queues.get(topic, queue_id) else {
            return Ok(ReadResult {
                status: ReadStatus::NoMatchedLogicQueue,
                records: Vec::new(),
                next_offset: QueueOffset(0),
                min_offset: QueueOffset(0),
                max_offset: QueueOffset(0),
            });
        };
        let (min, max) = (cq.min_offset(), cq.max_offset());
        let result = |status, records, next| ReadResult {
            status,
            records,
            next_offset: next,
            min_offset: min,
            max_offset: max,
        };
        if max.0 == 0 {
            return Ok(result(ReadStatus::NoNewMessage, Vec::new(), QueueOffset(0)));
        }
        if from < min {
            return Ok(result(ReadStatus::OffsetTooSmall, Vec::new(), min));
        }
        if from == max {
            return Ok(result(ReadStatus::OffsetOverflowOne, Vec::new(), from));
        }
        if from > max {
            return Ok(result(ReadStatus::OffsetOverflowBadly, Vec::new(), max));
        }
        let mut records = Vec::new();
        let mut bytes = 0;
        let mut next = from;
        // Scan a bounded number of entries so a filter matching nothing cannot make one pull
        // walk a whole queue.
        let scan = max_msgs.max(1) * 16;
        for (offset, entry) in cq.entries(from, scan)? {
            if records.len() >= max_msgs
                || (bytes + entry.size as usize > max_bytes && !records.is_empty())
            {
                break;
            }
            next = QueueOffset(offset.0 + 1);
            if !filter(entry.tag_code) {
                continue;
            }
            records.push(self.locate(entry)?);
            bytes += entry.size as usize;
        }
        let status = if records.is_empty() {
            ReadStatus::NoMatchedMessage
        } else {
            ReadStatus::Found
        };
        Ok(result(status, records, next))
    }

    /// Where a consume-queue entry's record is: in memory or on disk.
    fn locate(&self, entry: CqEntry) -> Result<RecordRef> {
        let size = entry.size as usize;
        if let Some(b) = self.commit_log.cached(entry.commit_log_offset, size) {
            return Ok(RecordRef::Memory(b));
        }
        let segment = self
            .commit_log
            .segment_of(entry.commit_log_offset)
            .ok_or(StorageError::NoRecordAt(entry.commit_log_offset))?;
        let pos = (entry.commit_log_offset.0 - segment.base().0) as u64;
        Ok(RecordRef::File {
            segment,
            pos,
            len: size,
        })
    }

    /// The message at a commit-log offset (VIEW_MESSAGE_BY_ID, consumer send-back).
    pub async fn read_at(&self, offset: CommitLogOffset) -> Result<StoredMessage> {
        let bytes = self.commit_log.record_at(offset).await?;
        let (msg, _) =
            StoredMessage::decode(&bytes).map_err(|_| StorageError::NoRecordAt(offset))?;
        Ok(msg)
    }

    pub fn min_offset(&self, topic: &str, queue_id: i32) -> QueueOffset {
        self.queues
            .borrow()
            .get(topic, queue_id)
            .map_or(QueueOffset(0), ConsumeQueue::min_offset)
    }

    pub fn max_offset(&self, topic: &str, queue_id: i32) -> QueueOffset {
        self.queues
            .borrow()
            .get(topic, queue_id)
            .map_or(QueueOffset(0), ConsumeQueue::max_offset)
    }

    /// Up to `max` consume-queue entries of a queue from `from` on, holes left out, or `None`
    /// when the shard has no such queue (QUERY_CONSUME_QUEUE, `mqadmin queryCq`).
    pub fn queue_entries(
        &self,
        topic: &str,
        queue_id: i32,
        from: QueueOffset,
        max: usize,
    ) -> Result<Option<Vec<(QueueOffset, CqEntry)>>> {
        let queues = self.queues.borrow();
        let Some(queue) = queues.get(topic, queue_id) else {
            return Ok(None);
        };
        queue.entries(from, max).map(Some)
    }

    /// Writes consume queues and the index out, makes them durable, and records a checkpoint.
    ///
    /// Every wait for the disk runs on a blocking thread, not on this core: under write load an
    /// fdatasync can take tens of milliseconds (it queues behind the commit log's writes and the
    /// zero-filling of the next segment), and on the core it would stall every request there.
    /// With thousands of active queues, one fdatasync per dirty file would take seconds; one
    /// `syncfs` of the store's file system writes them all back in one go, and also makes new
    /// queue directories durable (per-file syncs would not cover their parents).
    pub async fn write_checkpoint(&self, clean_shutdown: bool) -> Result<()> {
        // The semaphore is never closed, so the permit always comes; it is held to the end.
        let _turn = self.checkpoint_turn.acquire_permit(1).await;
        if self.closing.get() && !clean_shutdown {
            return Ok(());
        }
        let durable = self.commit_log.durable_pos();
        // Flushing writes through the page cache (and makes the directory of a queue's first
        // file); with many queues that adds up, so let requests in now and then.
        const QUEUES_PER_TURN: usize = 32;
        let mut turns = IoTurns::every(Duration::from_micros(200));
        let keys = self.queues.borrow().keys();
        let idle_after =
            checkpoints_within(self.config.cq_idle_release, self.config.checkpoint_interval);
        let mut dirty = false;
        for batch in keys.chunks(QUEUES_PER_TURN) {
            {
                let mut queues = self.queues.borrow_mut();
                for key in batch {
                    if let Some(cq) = queues.get_mut(&key.0, key.1) {
                        cq.flush()?;
                        dirty |= cq.has_unsynced();
                        cq.release_if_idle(idle_after);
                    }
                }
            }
            turns.take_if_due().await;
        }
        // A new index file is created only once the files before it are durable; make them so
        // here, so that the flush has nothing to wait for on this core.
        if self.index.borrow().must_sync_before_flush() {
            self.sync_off_core().await?;
            self.index.borrow_mut().mark_synced();
        }
        {
            let mut index = self.index.borrow_mut();
            index.flush()?;
            dirty |= index.has_unsynced();
        }
        if dirty {
            self.sync_off_core().await?;
            for cq in self.queues.borrow_mut().values_mut() {
                cq.mark_synced();
            }
            self.index.borrow_mut().mark_synced();
        }
        let cp = Checkpoint {
            commit_log_durable: durable,
            dispatched: durable,
            indexed: durable,
            clean_shutdown,
        };
        let slot = self.checkpoint.borrow().prepare(&cp);
        let sequence = glommio::executor()
            .spawn_blocking(move || slot.write())
            .await?;
        self.checkpoint.borrow_mut().written(sequence);
        Ok(())
    }

    /// One `syncfs` of the store's file system, on a blocking thread.
    async fn sync_off_core(&self) -> Result<()> {
        let dir = self.dir.clone();
        glommio::executor()
            .spawn_blocking(move || sync_file_system(&dir))
            .await
    }

    /// Flushes everything and records a clean checkpoint. Puts fail afterwards.
    pub async fn close(&self) -> Result<()> {
        self.closing.set(true);
        self.commit_log.close().await?;
        self.write_checkpoint(true).await
    }

    pub fn queue_count(&self) -> usize {
        self.queues.borrow().len()
    }

    /// Consume-queue entries of a queue held in memory.
    #[cfg(test)]
    fn resident_entries(&self, topic: &str, queue_id: i32) -> Option<usize> {
        let queues = self.queues.borrow();
        queues
            .get(topic, queue_id)
            .map(ConsumeQueue::resident_entries)
    }
}

async fn checkpoint_loop(shard: std::rc::Weak<Shard>) {
    loop {
        let Some(interval) = shard.upgrade().map(|s| s.config.checkpoint_interval) else {
            return;
        };
        glommio::timer::sleep(interval).await;
        let Some(shard) = shard.upgrade() else { return };
        if shard.closing.get() {
            return;
        }
        if let Err(e) = shard.write_checkpoint(false).await {
            log::error!("shard {}: checkpoint failed: {e}", shard.id);
        }
    }
}

/// `syncfs` on the file system holding `dir`.
fn sync_file_system(dir: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let d = std::fs::File::open(dir).map_err(|e| StorageError::io(dir, e))?;
    // SAFETY: `d` is an open descriptor for the duration of the call.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(StorageError::io(dir, std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Java stores the tag's `String.hashCode` as the consume-queue tag code.
fn tag_code_of(props: &Properties) -> i64 {
    props
        .tags()
        .map_or(0, ringmq_protocol::message::properties::tag_hash_code)
}

fn queue_dir(root: &Path, topic: &str, queue_id: i32) -> PathBuf {
    root.join(topic).join(queue_id.to_string())
}

/// Opens every consume queue found on disk (`<root>/<topic>/<queueId>`).
fn load_queues(root: &Path, config: &ShardConfig) -> Result<QueueTable> {
    let mut out = QueueTable::default();
    let Ok(topics) = std::fs::read_dir(root) else {
        return Ok(out);
    };
    for topic in topics.flatten() {
        let topic_name = topic.file_name().to_string_lossy().into_owned();
        let Ok(ids) = std::fs::read_dir(topic.path()) else {
            continue;
        };
        for id in ids.flatten() {
            let Ok(queue_id) = id.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cq =
                ConsumeQueue::open(&id.path(), config.cq_entries_per_file, config.cq_hot_window)?;
            out.insert(&topic_name, queue_id, cq);
        }
    }
    Ok(out)
}

mod lookup;
mod queue_deletion;
mod queue_table;
mod retention;

pub use retention::RetentionPolicy;

#[cfg(test)]
mod tests;
