//! Delayed delivery (Java's `ScheduleMessageService`): messages sent with a delay level, and
//! consumer retries, wait in `SCHEDULE_TOPIC_XXXX` until due, then are stored again in their
//! real topic and queue.
//!
//! A delayed message is stored in the schedule topic's queue `level - 1`, its real topic and
//! queue kept in its `REAL_TOPIC` / `REAL_QID` properties. One task per level walks that queue in
//! order: all messages of a level wait equally long, so they fall due in the order they were
//! stored, and the task only ever looks at the next one. A message is due at its store time plus
//! the level's delay (`messageDelayLevel`, read at delivery: after a change of the setting, waiting
//! messages follow the new delays, as they do in Java after a restart).
//!
//! How far each level has delivered is kept in `config/delayOffset.json` (Java's file and shape),
//! saved with the consumer offsets. A crash between a delivery and the next save delivers those
//! messages again: at least once, as in Java.

use crate::core::BrokerCore;
use crate::hops::HopError;
use crate::persist::{load_json, JsonFile, PersistError, TableWrite};
use crate::topics::SCHEDULE_TOPIC;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::message::properties::{self, Properties};
use ringmq_protocol::message::StoredMessage;
use ringmq_storage::shard::{MessageToStore, ReadStatus};
use ringmq_storage::{QueueOffset, StorageError};
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Weak;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Java's `messageDelayLevel` default.
pub const DEFAULT_DELAY_LEVELS: &str = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

/// The delay of each level (level 1 is the first), from `messageDelayLevel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayLevels {
    text: String,
    delays: Vec<Duration>,
}

impl Default for DelayLevels {
    fn default() -> Self {
        Self::parse(DEFAULT_DELAY_LEVELS).expect("the default levels parse")
    }
}

impl std::fmt::Display for DelayLevels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl DelayLevels {
    /// Space-separated delays, each a whole number with Java's units: `s`, `m`, `h` or `d`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let delays = text
            .split_whitespace()
            .map(|level| {
                let split = level.len() - level.chars().last().map_or(0, char::len_utf8);
                let (number, unit) = level.split_at(split);
                let unit_secs = match unit {
                    "s" => 1,
                    "m" => 60,
                    "h" => 3600,
                    "d" => 86_400,
                    _ => return Err(format!("`{level}` does not end in s, m, h or d")),
                };
                let n: u64 = number
                    .parse()
                    .map_err(|_| format!("`{level}` is not a whole number of {unit}"))?;
                Ok(Duration::from_secs(n * unit_secs))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() {
            return Err("no delay levels".into());
        }
        Ok(Self {
            text: text.trim().to_owned(),
            delays,
        })
    }

    pub fn max_level(&self) -> i32 {
        self.delays.len() as i32
    }

    /// The delay of `level` (1-based); levels past the last use the last, as Java clamps them.
    pub fn delay(&self, level: i32) -> Duration {
        let i = (level.clamp(1, self.max_level()) - 1) as usize;
        self.delays[i]
    }
}

/// Where a message sent with `level` waits: it is moved to the schedule topic, its real topic and
/// queue recorded in its properties and its level clamped to the last one (Java's commit log does
/// this for every put with a delay). Returns the schedule queue.
pub fn redirect_to_schedule(
    levels: &DelayLevels,
    level: i32,
    real_topic: &str,
    real_queue: i32,
    props: &mut Properties,
) -> (String, i32) {
    let level = level.clamp(1, levels.max_level());
    props.insert(properties::DELAY_TIME_LEVEL, level.to_string());
    props.insert(properties::REAL_TOPIC, real_topic);
    props.insert(properties::REAL_QUEUE_ID, real_queue.to_string());
    (SCHEDULE_TOPIC.to_owned(), level - 1)
}

/// The delay level a producer asked for: 0 when none.
pub fn requested_level(props: &Properties) -> Result<i32, String> {
    match props.get(properties::DELAY_TIME_LEVEL) {
        None => Ok(0),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("the delay level `{v}` (property DELAY) is not a number")),
    }
}

ringmq_protocol::json_bean! {
    /// The persisted form (Java's `delayOffset.json`): level -> next queue offset to deliver.
    pub struct DelayOffsetFile {
        pub offset_table: BTreeMap<i32, i64> => "offsetTable",
    }
}

/// Per level, the next schedule-queue offset to deliver.
#[derive(Debug, Default)]
pub struct DelayOffsets {
    file: JsonFile,
    table: BTreeMap<i32, i64>,
}

impl DelayOffsets {
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Loads `path`; missing is empty, torn falls back to the `.bak` copy.
    pub fn load_from(path: &Path) -> Result<Self, PersistError> {
        let table = load_json::<DelayOffsetFile>(path)?
            .map(|f| f.offset_table)
            .unwrap_or_default();
        Ok(Self {
            file: JsonFile::at(path.to_owned()),
            table,
        })
    }

    /// The levels `keep` accepts, as a table of its own that is never written (a core's part).
    pub fn owned_part(&self, keep: impl Fn(i32) -> bool) -> Self {
        Self {
            file: JsonFile::default(),
            table: self
                .table
                .iter()
                .filter(|(l, _)| keep(**l))
                .map(|(l, o)| (*l, *o))
                .collect(),
        }
    }

    pub fn table(&self) -> &BTreeMap<i32, i64> {
        &self.table
    }

    /// Takes in a core's part; marks the table dirty if anything differs.
    pub fn absorb(&mut self, part: BTreeMap<i32, i64>) {
        for (l, o) in part {
            if self.table.insert(l, o) != Some(o) {
                self.file.mark_dirty();
            }
        }
    }

    pub fn get(&self, level: i32) -> QueueOffset {
        QueueOffset(self.table.get(&level).copied().unwrap_or(0))
    }

    pub fn set(&mut self, level: i32, next: QueueOffset) {
        if self.table.insert(level, next.0) != Some(next.0) {
            self.file.mark_dirty();
        }
    }

    /// Writes the table if it changed since the last write.
    pub fn persist(&mut self) -> Result<(), PersistError> {
        let table = &self.table;
        self.file.write_if_dirty(|| encode(table)).map(|_| ())
    }

    /// The write [`persist`](Self::persist) would do, to run elsewhere (see
    /// [`JsonFile::take_write`]).
    pub fn take_write(&mut self) -> Option<TableWrite> {
        let table = &self.table;
        self.file.take_write(|| encode(table))
    }

    /// A write taken with [`take_write`](Self::take_write) failed: try again next time.
    pub fn mark_dirty(&mut self) {
        self.file.mark_dirty();
    }
}

/// `delayOffset.json` as Java writes it.
fn encode(table: &BTreeMap<i32, i64>) -> Vec<u8> {
    let file = DelayOffsetFile {
        offset_table: table.clone(),
    };
    json::to_vec(&file, JsonStyle::Fastjson)
}

/// A stored message, to be stored again under `topic` / `queue_id` (delivery when due, a
/// consumer's send-back): body, flags and birth kept, properties and retry count as given.
pub fn stored_again(
    msg: StoredMessage,
    topic: &str,
    queue_id: i32,
    props: &Properties,
    reconsume_times: i32,
) -> MessageToStore {
    MessageToStore {
        topic: topic.to_owned(),
        queue_id,
        body: msg.body,
        properties: props.encode(),
        flag: msg.flag,
        sys_flag: msg.sys_flag,
        born_timestamp: msg.born_timestamp,
        born_host: msg.born_host,
        reconsume_times,
        prepared_transaction_offset: 0,
    }
}

/// Whether this core delivers `level`: it owns the level's schedule queue.
pub fn delivers_here(core: &BrokerCore, level: i32) -> bool {
    core.owner_of_queue(SCHEDULE_TOPIC, level - 1) == core.id()
}

/// Starts one delivery task for each delay level whose schedule queue this core owns.
pub fn start(core: &std::rc::Rc<BrokerCore>) {
    for level in 1..=core.config().message_delay_level.max_level() {
        if delivers_here(core, level) {
            glommio::spawn_local(deliver_level(std::rc::Rc::downgrade(core), level)).detach();
        }
    }
}

/// How long a level's task sleeps when its queue is empty; an arrival wakes it sooner.
const IDLE_WAIT: Duration = Duration::from_secs(10);
/// Pause after a failed delivery before trying the same message again.
const RETRY_WAIT: Duration = Duration::from_secs(1);

async fn deliver_level(core: Weak<BrokerCore>, level: i32) {
    let queue = level - 1;
    loop {
        let Some(c) = core.upgrade() else { return };
        let next = c.delay_offsets.borrow().get(level);
        let Some(shard) = c.local_shard(SCHEDULE_TOPIC, queue).cloned() else {
            log::error!(
                "delay level {level}: its schedule queue is not on core {}",
                c.id()
            );
            return;
        };
        let read = shard.read(SCHEDULE_TOPIC, queue, next, 1, usize::MAX, |_| true);
        let wait = match read {
            Err(e) => {
                log::error!("delay level {level}: cannot read the schedule queue at {next}: {e}");
                Some(RETRY_WAIT)
            }
            Ok(r) => match r.status {
                ReadStatus::Found => match r.records[0].bytes().await {
                    Ok(bytes) => deliver_if_due(&c, level, next, &bytes).await,
                    Err(e) => {
                        log::error!("delay level {level}: cannot read message {next}: {e}");
                        Some(RETRY_WAIT)
                    }
                },
                // Retention removed what was not delivered yet, or the queue is behind us.
                ReadStatus::OffsetTooSmall | ReadStatus::OffsetOverflowBadly => {
                    log::warn!(
                        "delay level {level}: offset {next} outside the queue, moving to {}",
                        r.next_offset
                    );
                    c.delay_offsets.borrow_mut().set(level, r.next_offset);
                    None
                }
                _ => Some(IDLE_WAIT),
            },
        };
        let Some(wait) = wait else { continue };
        if c.is_closing() {
            return;
        }
        c.wait_for_arrival(SCHEDULE_TOPIC, queue, Instant::now() + wait)
            .await;
    }
}

/// Delivers the message at `offset` of `level`'s queue if due. Returns how long to wait before
/// looking again, or `None` to go on at once.
async fn deliver_if_due(
    core: &BrokerCore,
    level: i32,
    offset: QueueOffset,
    record: &bytes::Bytes,
) -> Option<Duration> {
    let msg = match StoredMessage::decode(record) {
        Ok((m, _)) => m,
        Err(e) => {
            log::error!("delay level {level}: message {offset} does not decode ({e}); skipped");
            core.delay_offsets
                .borrow_mut()
                .set(level, QueueOffset(offset.0 + 1));
            return None;
        }
    };
    let due_ms =
        msg.store_timestamp + core.config().message_delay_level.delay(level).as_millis() as i64;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    if now_ms < due_ms {
        return Some(Duration::from_millis((due_ms - now_ms) as u64));
    }
    let mut props = Properties::parse(&msg.properties);
    let real_topic = props.get(properties::REAL_TOPIC).map(str::to_owned);
    let real_queue = props
        .get(properties::REAL_QUEUE_ID)
        .and_then(|q| q.parse::<i32>().ok());
    let (Some(topic), Some(queue_id)) = (real_topic, real_queue) else {
        log::error!("delay level {level}: message {offset} has no real topic or queue; skipped");
        core.delay_offsets
            .borrow_mut()
            .set(level, QueueOffset(offset.0 + 1));
        return None;
    };
    props.remove(properties::DELAY_TIME_LEVEL);
    let reconsume_times = msg.reconsume_times;
    let again = stored_again(msg, &topic, queue_id, &props, reconsume_times);
    match core.store(vec![again], None).await {
        Ok(_) => {
            core.delay_offsets
                .borrow_mut()
                .set(level, QueueOffset(offset.0 + 1));
            None
        }
        Err(HopError::Storage(StorageError::Closed)) => Some(RETRY_WAIT),
        Err(e) => {
            log::error!("delay level {level}: cannot deliver message {offset} to {topic}: {e}");
            Some(RETRY_WAIT)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_default_levels() {
        let l = DelayLevels::default();
        assert_eq!(l.max_level(), 18);
        assert_eq!(l.delay(1), Duration::from_secs(1));
        assert_eq!(l.delay(3), Duration::from_secs(10));
        assert_eq!(l.delay(18), Duration::from_secs(7200));
        // Past the last level: the last (Java clamps).
        assert_eq!(l.delay(40), Duration::from_secs(7200));
    }

    #[test]
    fn units_and_errors() {
        let l = DelayLevels::parse(" 2s 3m 1h 1d ").unwrap();
        assert_eq!(l.max_level(), 4);
        assert_eq!(l.delay(4), Duration::from_secs(86_400));
        assert_eq!(l.to_string(), "2s 3m 1h 1d");
        assert!(DelayLevels::parse("1s 5x").unwrap_err().contains("5x"));
        assert!(DelayLevels::parse("1.5s").unwrap_err().contains("1.5s"));
        assert!(DelayLevels::parse("").is_err());
    }

    #[test]
    fn a_delayed_message_keeps_its_real_destination() {
        let l = DelayLevels::default();
        let mut props = Properties::parse("DELAY\u{1}99\u{2}TAGS\u{1}a\u{2}");
        let (topic, queue) = redirect_to_schedule(&l, 99, "Orders", 3, &mut props);
        assert_eq!((topic.as_str(), queue), (SCHEDULE_TOPIC, 17));
        assert_eq!(props.get(properties::DELAY_TIME_LEVEL), Some("18"));
        assert_eq!(props.get(properties::REAL_TOPIC), Some("Orders"));
        assert_eq!(props.get(properties::REAL_QUEUE_ID), Some("3"));
        assert_eq!(props.get(properties::TAGS), Some("a"));
    }

    #[test]
    fn levels_requested_by_producers() {
        assert_eq!(requested_level(&Properties::parse("")), Ok(0));
        assert_eq!(
            requested_level(&Properties::parse("DELAY\u{1}2\u{2}")),
            Ok(2)
        );
        assert!(requested_level(&Properties::parse("DELAY\u{1}soon\u{2}")).is_err());
    }

    #[test]
    fn offsets_persist_in_javas_shape() {
        let dir = std::env::temp_dir().join(format!("ringmq-delay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("delayOffset.json");
        let mut o = DelayOffsets::load_from(&path).unwrap();
        assert_eq!(o.get(2), QueueOffset(0));
        o.set(2, QueueOffset(7));
        o.persist().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"offsetTable\""), "{text}");
        assert_eq!(
            DelayOffsets::load_from(&path).unwrap().get(2),
            QueueOffset(7)
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
