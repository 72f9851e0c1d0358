//! Transactional messages (Java's `TransactionalMessageService` and its check service).
//!
//! A producer's half message is stored in `RMQ_SYS_TRANS_HALF_TOPIC` queue 0, its real topic and
//! queue in its `REAL_TOPIC` / `REAL_QID` properties, where no consumer sees it. END_TRANSACTION
//! then stores it again in its real queue (commit) or not (rollback), and records the end in
//! `RMQ_SYS_TRANS_OP_HALF_TOPIC` queue 0: an op message whose body is the half's queue offset,
//! tagged `d`. Both topics are Java's, laid out as Java lays them out.
//!
//! A half left open longer than `transactionTimeOut` is checked: every `transactionCheckInterval`
//! the core that owns the half queue walks it from where its last round stopped, stores each
//! open half again (its `TRANSACTION_CHECK_TIMES` counted up) and asks one of the producer
//! group's connected clients for the outcome with CHECK_TRANSACTION_STATE, naming the new copy.
//! The client answers with END_TRANSACTION for that copy. A half checked `transactionCheckMax`
//! times, or older than `fileReservedTime`, is moved to `TRANS_CHECK_MAX_TIME_TOPIC` and no
//! longer checked.
//!
//! Ownership: the half queue's core owns the [`TransactionLedger`]. END_TRANSACTION is served
//! there ([`crate::service`] routes it), so the ledger knows every end as it happens, and Java's
//! re-reading of the op queue each round is not needed: the op queue is read once, when the
//! ledger loads. Where each round stopped, and the first op not yet behind it, are kept as
//! consumer offsets of the group `CID_RMQ_SYS_TRANS`, as Java keeps them.
//!
//! A crash between the stores of an end (the real message, then its op) leaves the half open:
//! it is checked, and a commit delivers it again. At least once, as in Java.

use crate::clients::ProducerWanted;
use crate::core::BrokerCore;
use crate::handlers::Refusal;
use crate::hops::{Answer, Ask, HopError, TopicWanted};
use crate::topics::{TRANS_CHECK_MAX_TIME_TOPIC, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC};
use bytes::{Bytes, BytesMut};
use glommio::sync::Semaphore;
use ringmq_protocol::header::transaction::CheckTransactionStateRequestHeader;
use ringmq_protocol::message::properties::{self, Properties};
use ringmq_protocol::message::{sys_flag, MessageId, StoredMessage};
use ringmq_protocol::{RemotingCommand, RequestCode};
use ringmq_storage::shard::{MessageToStore, PutResult, ReadStatus};
use ringmq_storage::QueueOffset;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The consumer group whose offsets in the half and op queues say how far checking has got.
pub const CHECK_GROUP: &str = "CID_RMQ_SYS_TRANS";
/// The one queue of each transaction topic.
pub const HALF_QUEUE: i32 = 0;
/// The tag of an op message that ends a half.
const REMOVE_TAG: &str = "d";
/// Op records read per ask while the ledger loads.
const OP_READ_BATCH: usize = 256;

/// The settings, under Java's names and with its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionConfig {
    /// `rejectTransactionMessage`: half messages are refused.
    pub reject: bool,
    /// `transactionTimeOut`: how old a half must be before it is checked.
    pub time_out: Duration,
    /// `transactionCheckMax`: checks before a half is given up.
    pub check_max: i32,
    /// `transactionCheckInterval`: time between check rounds.
    pub check_interval: Duration,
}

impl Default for TransactionConfig {
    fn default() -> Self {
        Self {
            reject: false,
            time_out: Duration::from_secs(6),
            check_max: 15,
            check_interval: Duration::from_secs(60),
        }
    }
}

/// Whether a send is the half of a transaction. Java goes by the `TRAN_MSG` property, not the
/// sysFlag bits, and (for clients before 4.6.1) not for a retry sent back with a delay.
pub fn is_half(props: &Properties, reconsume_times: i32, delay_level: i32) -> bool {
    props
        .get(properties::TRANSACTION_PREPARED)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        && !(reconsume_times > 0 && delay_level > 0)
}

/// Where a half message waits: its destination moves into its properties. Returns the half
/// queue and the sysFlag to store it with (not transactional: the half queue is an ordinary
/// queue to the store).
pub fn redirect_to_half(
    real_topic: &str,
    real_queue: i32,
    sys_flag: i32,
    props: &mut Properties,
) -> (String, i32, i32) {
    props.insert(properties::REAL_TOPIC, real_topic);
    props.insert(properties::REAL_QUEUE_ID, real_queue.to_string());
    let flag = sys_flag::with_transaction_type(sys_flag, sys_flag::TRANSACTION_NOT_TYPE);
    (TRANS_HALF_TOPIC.to_owned(), HALF_QUEUE, flag)
}

/// How a half's end stands in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// An END_TRANSACTION for it is being carried out.
    InFlight,
    /// Ended; its op message is at this op-queue offset.
    Done(i64),
}

/// What the half queue's core knows of the transactions it holds: which halves at or past
/// the check position have ended. Everything before that position has been checked, ended or
/// given up.
pub struct TransactionLedger {
    /// Half-queue offset -> its end.
    ends: RefCell<BTreeMap<i64, End>>,
    /// The op queue's next offset, as far as this ledger has written or read it.
    op_end: Cell<i64>,
    loaded: Cell<bool>,
    /// One load at a time.
    load_turn: Semaphore,
}

impl Default for TransactionLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl TransactionLedger {
    pub fn new() -> Self {
        Self {
            ends: RefCell::new(BTreeMap::new()),
            op_end: Cell::new(0),
            loaded: Cell::new(false),
            load_turn: Semaphore::new(1),
        }
    }

    /// Whether the half at `offset` has ended or is ending.
    fn end_of(&self, offset: i64) -> Option<End> {
        self.ends.borrow().get(&offset).copied()
    }

    /// Marks the half at `offset` as ending; `false` if it already ended or is ending (a second
    /// END_TRANSACTION for it changes nothing: Java would deliver a commit twice).
    pub fn begin_end(&self, offset: i64) -> bool {
        let mut ends = self.ends.borrow_mut();
        if ends.contains_key(&offset) {
            return false;
        }
        ends.insert(offset, End::InFlight);
        true
    }

    /// The end of the half at `offset` failed: it is open again, and will be checked.
    pub fn abandon_end(&self, offset: i64) {
        self.ends.borrow_mut().remove(&offset);
    }

    /// The half at `offset` ended; its op message was stored at `op`.
    pub fn finish_end(&self, offset: i64, op: &PutResult) {
        self.ends
            .borrow_mut()
            .insert(offset, End::Done(op.queue_offset.0));
        self.op_end
            .set(self.op_end.get().max(op.queue_offset.0 + 1));
    }

    /// Reads the ends recorded since the last check round into memory, once.
    pub async fn ensure_loaded(&self, core: &BrokerCore) -> Result<(), HopError> {
        if self.loaded.get() {
            return Ok(());
        }
        let _turn = self.load_turn.acquire_permit(1).await;
        if self.loaded.get() {
            return Ok(());
        }
        let check_from = check_position(core);
        let mut at = QueueOffset(op_position(core));
        let mut read = 0usize;
        loop {
            let batch =
                read_queue(core, TRANS_OP_HALF_TOPIC, HALF_QUEUE, at, OP_READ_BATCH).await?;
            for record in &batch.records {
                let Ok((op, _)) = StoredMessage::decode(record) else {
                    continue;
                };
                let half = std::str::from_utf8(&op.body)
                    .ok()
                    .and_then(|b| b.trim().parse::<i64>().ok());
                let tagged = Properties::parse(&op.properties).tags() == Some(REMOVE_TAG);
                match half {
                    Some(half) if tagged && half >= check_from => {
                        self.ends
                            .borrow_mut()
                            .insert(half, End::Done(op.queue_offset));
                    }
                    Some(_) if tagged => {}
                    _ => log::warn!(
                        "transactions: op message {} is not an end marker; ignored",
                        op.queue_offset
                    ),
                }
            }
            read += batch.records.len();
            at = batch.next;
            if batch.records.is_empty() {
                break;
            }
        }
        self.op_end.set(at.0);
        self.loaded.set(true);
        log::info!(
            "transactions: {read} end markers read; checking resumes at half offset {check_from}"
        );
        Ok(())
    }

    /// After a round stopped at `check_from`: forgets the ends behind it, and returns the first
    /// op offset still needed (the op queue's end when none is).
    fn settle(&self, check_from: i64) -> i64 {
        let mut ends = self.ends.borrow_mut();
        *ends = ends.split_off(&check_from);
        ends.values()
            .filter_map(|e| match e {
                End::Done(op) => Some(*op),
                End::InFlight => None,
            })
            .min()
            .unwrap_or(self.op_end.get())
            .min(self.op_end.get())
    }
}

/// Where the next check round starts.
fn check_position(core: &BrokerCore) -> i64 {
    core.offsets
        .borrow()
        .query(CHECK_GROUP, TRANS_HALF_TOPIC, HALF_QUEUE)
        .unwrap_or(0)
}

/// The first op message that may still matter.
fn op_position(core: &BrokerCore) -> i64 {
    core.offsets
        .borrow()
        .query(CHECK_GROUP, TRANS_OP_HALF_TOPIC, HALF_QUEUE)
        .unwrap_or(0)
}

/// The op message that ends the half at `half_offset`.
pub fn end_marker(core: &BrokerCore, half_offset: i64) -> MessageToStore {
    let mut props = Properties::new();
    props.insert(properties::TAGS, REMOVE_TAG);
    MessageToStore {
        topic: TRANS_OP_HALF_TOPIC.to_owned(),
        queue_id: HALF_QUEUE,
        body: Bytes::from(half_offset.to_string()),
        properties: props.encode(),
        flag: 0,
        sys_flag: 0,
        born_timestamp: now_ms(),
        born_host: core.config().store_host(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Makes one of the transaction topics on first use, as Java does, so it is registered and
/// admin tools can read it.
pub async fn ensure_topic(core: &BrokerCore, topic: &str) -> Result<(), Refusal> {
    core.ensure_topic(TopicWanted::Internal(topic.to_owned()))
        .await
        .map(|_| ())
}

/// Whether this core owns the half queue (and so the ledger and the checks).
pub fn checks_here(core: &BrokerCore) -> bool {
    core.owner_of_queue(TRANS_HALF_TOPIC, HALF_QUEUE) == core.id()
}

/// Starts the check rounds on the core that owns the half queue.
pub fn start(core: &Rc<BrokerCore>) {
    if checks_here(core) {
        glommio::spawn_local(keep_checking(Rc::downgrade(core))).detach();
    }
}

async fn keep_checking(core: Weak<BrokerCore>) {
    let interval = |config: &crate::config::BrokerConfig| config.transactions.check_interval;
    BrokerCore::every(core, interval, |c| async move {
        if let Err(e) = check_round(&c).await {
            log::warn!("transactions: check round stopped: {e}");
        }
    })
    .await;
}

/// What a round does with the half at the position it reached.
enum Step {
    /// Go on to the next half.
    Next,
    /// Stop here; later halves wait for the next round.
    Stop,
    /// The queue has moved on (retention): continue from there.
    Skip(QueueOffset),
}

/// One walk of the half queue: checks every half that has been open too long, gives up on
/// those checked too often, and stops at the first that is still young.
async fn check_round(core: &BrokerCore) -> Result<(), HopError> {
    let ledger = &core.transactions;
    ledger.ensure_loaded(core).await?;
    let started = now_ms();
    let Some(shard) = core.local_shard(TRANS_HALF_TOPIC, HALF_QUEUE).cloned() else {
        return Ok(());
    };
    let mut at = check_position(core);
    let mut checked = 0usize;
    while !core.is_closing() {
        let step = match ledger.end_of(at) {
            Some(End::Done(_)) => Step::Next,
            // Its end is still being stored: look again next round.
            Some(End::InFlight) => Step::Stop,
            None => {
                let read = shard.read(
                    TRANS_HALF_TOPIC,
                    HALF_QUEUE,
                    QueueOffset(at),
                    1,
                    usize::MAX,
                    |_| true,
                )?;
                match read.status {
                    ReadStatus::Found => {
                        let record = read.records[0].bytes().await?;
                        check_one(core, at, &record, started, &mut checked).await?
                    }
                    ReadStatus::OffsetTooSmall => Step::Skip(read.next_offset),
                    _ => Step::Stop,
                }
            }
        };
        match step {
            Step::Next => at += 1,
            Step::Skip(to) => at = to.0,
            Step::Stop => break,
        }
    }
    let op_from = ledger.settle(at);
    let mut offsets = core.offsets.borrow_mut();
    offsets.commit(CHECK_GROUP, TRANS_HALF_TOPIC, HALF_QUEUE, at);
    offsets.commit(CHECK_GROUP, TRANS_OP_HALF_TOPIC, HALF_QUEUE, op_from);
    if checked > 0 {
        log::debug!("transactions: {checked} open halves checked; next round starts at {at}");
    }
    Ok(())
}

/// Decides about the open half at `at` (`record`): check it, give it up, or stop the round.
async fn check_one(
    core: &BrokerCore,
    at: i64,
    record: &Bytes,
    round_started: i64,
    checked: &mut usize,
) -> Result<Step, HopError> {
    let config = &core.config().transactions;
    let Ok((half, _)) = StoredMessage::decode(record) else {
        log::error!("transactions: half message {at} does not decode; skipped");
        return Ok(Step::Next);
    };
    let mut props = Properties::parse(&half.properties);
    let checks: i32 = props
        .get(properties::TRANSACTION_CHECK_TIMES)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let now = now_ms();
    let reserved_ms = i64::from(core.config().file_reserved_time) * 3_600_000;
    if checks >= config.check_max || now - half.born_timestamp > reserved_ms {
        give_up(core, at, half, &props).await?;
        return Ok(Step::Next);
    }
    if half.store_timestamp >= round_started {
        return Ok(Step::Stop);
    }
    let age = now - half.born_timestamp;
    let immunity = props
        .get(properties::CHECK_IMMUNITY_TIME_IN_SECONDS)
        .map(|s| {
            s.trim()
                .parse::<i64>()
                .map_or(config.time_out.as_millis() as i64, |secs| secs * 1000)
        });
    let immune_for = immunity.unwrap_or(config.time_out.as_millis() as i64);
    if (0..immune_for).contains(&age) {
        if immunity.is_none() {
            // Halves are in store order: every later one is younger still.
            return Ok(Step::Stop);
        }
        // A producer asked for a longer wait for this one: move it behind the others (as Java
        // does), unless the half it was copied from has ended meanwhile (an end still being
        // stored may fail: the copy is kept until it is done).
        let origin = props
            .get(properties::TRANSACTION_PREPARED_QUEUE_OFFSET)
            .and_then(|o| o.parse::<i64>().ok());
        if origin.is_some_and(|o| matches!(core.transactions.end_of(o), Some(End::Done(_)))) {
            return Ok(Step::Next);
        }
        props.insert(
            properties::TRANSACTION_PREPARED_QUEUE_OFFSET,
            origin.unwrap_or(at).to_string(),
        );
        store_copy(core, half, &props, TRANS_HALF_TOPIC).await?;
        return Ok(Step::Next);
    }
    props.insert(
        properties::TRANSACTION_CHECK_TIMES,
        (checks + 1).to_string(),
    );
    let copy = store_copy(core, half.clone(), &props, TRANS_HALF_TOPIC).await?;
    ask_producer(core, half, &props, &copy).await;
    *checked += 1;
    Ok(Step::Next)
}

/// Stores `half` again in `topic`'s queue 0 with `props`; returns where it went.
async fn store_copy(
    core: &BrokerCore,
    half: StoredMessage,
    props: &Properties,
    topic: &str,
) -> Result<PutResult, HopError> {
    let reconsume_times = half.reconsume_times;
    let again = crate::schedule::stored_again(half, topic, 0, props, reconsume_times);
    let mut put = core.store(vec![again], None).await?;
    put.pop()
        .ok_or_else(|| HopError::NotHere(format!("queue {topic}:0"), core.id()))
}

/// A half checked too often, or too old: kept aside in `TRANS_CHECK_MAX_TIME_TOPIC`, where an
/// operator can find it, and never checked again.
async fn give_up(
    core: &BrokerCore,
    at: i64,
    half: StoredMessage,
    props: &Properties,
) -> Result<(), HopError> {
    log::warn!(
        "transactions: half message {at} (producer group {}) given up after {} checks",
        props.get(properties::PRODUCER_GROUP).unwrap_or("?"),
        props
            .get(properties::TRANSACTION_CHECK_TIMES)
            .unwrap_or("0"),
    );
    if let Err(e) = ensure_topic(core, TRANS_CHECK_MAX_TIME_TOPIC).await {
        log::warn!(
            "transactions: {TRANS_CHECK_MAX_TIME_TOPIC} not made: {}",
            e.remark
        );
    }
    store_copy(core, half, props, TRANS_CHECK_MAX_TIME_TOPIC).await?;
    Ok(())
}

/// Asks one connected producer of the half's group for the outcome of its transaction, naming
/// the copy just stored. Nobody to ask is not an error: the next round asks again.
async fn ask_producer(
    core: &BrokerCore,
    half: StoredMessage,
    props: &Properties,
    copy: &PutResult,
) {
    let Some(group) = props.get(properties::PRODUCER_GROUP) else {
        log::warn!("transactions: half message without a producer group; cannot check it");
        return;
    };
    let wanted = ProducerWanted::OfGroup(group.to_owned());
    let Some(producer) = core.find_producer(wanted).await else {
        log::debug!("transactions: no producer of group {group} is connected to check with");
        return;
    };
    let unique = props.unique_key().map(str::to_owned);
    let header = CheckTransactionStateRequestHeader {
        tran_state_table_offset: copy.queue_offset.0,
        commit_log_offset: copy.offset.0,
        msg_id: unique.clone(),
        transaction_id: unique,
        offset_msg_id: Some(
            MessageId {
                store_host: core.config().store_host(),
                commit_log_offset: copy.offset.0,
            }
            .to_string(),
        ),
        ..Default::default()
    };
    // The body is the copy as the producer knows the message: in its real topic and queue.
    let real_queue = props
        .get(properties::REAL_QUEUE_ID)
        .and_then(|q| q.parse().ok())
        .unwrap_or(0);
    let shown = StoredMessage {
        topic: props
            .get(properties::REAL_TOPIC)
            .unwrap_or_default()
            .to_owned(),
        queue_id: real_queue,
        queue_offset: copy.queue_offset.0,
        commit_log_offset: copy.offset.0,
        store_timestamp: copy.store_timestamp,
        properties: props.encode(),
        ..half
    };
    let mut body = BytesMut::new();
    if let Err(e) = shown.encode(&mut body) {
        log::error!("transactions: cannot encode a check of group {group}: {e}");
        return;
    }
    let check = RemotingCommand::request_with(RequestCode::CHECK_TRANSACTION_STATE, 0, &header)
        .with_body(body.freeze())
        .mark_oneway();
    core.tell_client(producer, check).await;
}

/// The records of a queue from `from`, at most `max`, read on the core that owns it.
pub struct QueueRecords {
    pub records: Vec<Bytes>,
    /// Where the next read starts.
    pub next: QueueOffset,
}

async fn read_queue(
    core: &BrokerCore,
    topic: &str,
    queue_id: i32,
    from: QueueOffset,
    max: usize,
) -> Result<QueueRecords, HopError> {
    let owner = core.owner_of_queue(topic, queue_id);
    if owner == core.id() {
        return read_queue_here(core, topic, queue_id, from, max).await;
    }
    let ask = Ask::ReadQueue {
        topic: topic.to_owned(),
        queue_id,
        from,
        max,
    };
    match core.mesh.ask(owner, ask).await? {
        Answer::Records(read) => read,
        _ => Err(crate::mesh::MeshError::WrongAnswer(owner).into()),
    }
}

/// `read_queue` where the queue lives. Offsets before the first retained one start at it.
pub async fn read_queue_here(
    core: &BrokerCore,
    topic: &str,
    queue_id: i32,
    from: QueueOffset,
    max: usize,
) -> Result<QueueRecords, HopError> {
    let Some(shard) = core.local_shard(topic, queue_id) else {
        return Err(HopError::NotHere(
            format!("queue {topic}:{queue_id}"),
            core.id(),
        ));
    };
    let mut read = shard.read(topic, queue_id, from, max, usize::MAX, |_| true)?;
    if read.status == ReadStatus::OffsetTooSmall {
        read = shard.read(topic, queue_id, read.next_offset, max, usize::MAX, |_| true)?;
    }
    let mut records = Vec::with_capacity(read.records.len());
    if read.status == ReadStatus::Found {
        for r in &read.records {
            records.push(r.bytes().await?);
        }
    }
    let next = if read.status == ReadStatus::Found {
        read.next_offset
    } else {
        from.max(read.min_offset)
    };
    Ok(QueueRecords { records, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_at(queue_offset: i64) -> PutResult {
        PutResult {
            offset: ringmq_storage::CommitLogOffset(0),
            size: 0,
            queue_offset: QueueOffset(queue_offset),
            store_timestamp: 0,
            flush_timed_out: false,
        }
    }

    #[test]
    fn halves_are_told_by_their_property() {
        let half = Properties::parse("TRAN_MSG\u{1}true\u{2}");
        assert!(is_half(&half, 0, 0));
        assert!(is_half(&Properties::parse("TRAN_MSG\u{1}TRUE\u{2}"), 0, 0));
        assert!(!is_half(
            &Properties::parse("TRAN_MSG\u{1}false\u{2}"),
            0,
            0
        ));
        assert!(!is_half(&Properties::parse(""), 0, 0));
        // A pre-4.6.1 client's delayed retry keeps the property; it is not a half.
        assert!(!is_half(&half, 1, 3));
        assert!(is_half(&half, 1, 0));

        let mut props = half;
        let flag = sys_flag::TRANSACTION_PREPARED_TYPE | sys_flag::MULTI_TAGS;
        let (topic, queue, stored) = redirect_to_half("Orders", 3, flag, &mut props);
        assert_eq!((topic.as_str(), queue), (TRANS_HALF_TOPIC, 0));
        assert_eq!(
            sys_flag::transaction_type(stored),
            sys_flag::TRANSACTION_NOT_TYPE
        );
        assert_eq!(stored & sys_flag::MULTI_TAGS, sys_flag::MULTI_TAGS);
        assert_eq!(props.get(properties::REAL_TOPIC), Some("Orders"));
        assert_eq!(props.get(properties::REAL_QUEUE_ID), Some("3"));
    }

    #[test]
    fn an_end_is_carried_out_once_and_a_failed_one_reopens_the_half() {
        let ledger = TransactionLedger::new();
        assert!(ledger.begin_end(5));
        assert!(!ledger.begin_end(5), "a second end while the first runs");
        ledger.abandon_end(5);
        assert_eq!(ledger.end_of(5), None);
        assert!(ledger.begin_end(5));
        ledger.finish_end(5, &put_at(9));
        assert_eq!(ledger.end_of(5), Some(End::Done(9)));
        assert!(!ledger.begin_end(5), "a second end after the first");
        assert_eq!(ledger.op_end.get(), 10);
    }

    #[test]
    fn settling_keeps_the_ends_ahead_and_the_first_op_they_need() {
        let ledger = TransactionLedger::new();
        for (half, op) in [(1, 4), (7, 2), (8, 6), (12, 5)] {
            assert!(ledger.begin_end(half));
            ledger.finish_end(half, &put_at(op));
        }
        // Still being stored.
        assert!(ledger.begin_end(10));
        // The round stopped at 8: ends before it are forgotten; the op of 7 (2) is no longer
        // needed, the earliest of the rest is 5 (for 12).
        assert_eq!(ledger.settle(8), 5);
        assert_eq!(ledger.end_of(7), None);
        assert_eq!(ledger.end_of(8), Some(End::Done(6)));
        assert_eq!(ledger.end_of(10), Some(End::InFlight));
        // Past everything: only the in-flight one remains, and its op will come after the end.
        ledger.abandon_end(10);
        assert_eq!(ledger.settle(13), ledger.op_end.get());
    }
}
