//! The broker's topic table (Java's `TopicConfigManager`): system topics made at start, topics made
//! by admins, on a first send (inheriting from `TBW102`) or for a group's retries, and the data
//! version the name server uses to skip unchanged tables. Kept in `<storePathRootDir>/config/
//! topics.json` in the shape Java writes, so a Java broker's store carries over.

use crate::config::BrokerConfig;
use crate::persist::{fresh_version, load_json, next_version, JsonFile, PersistError, TableWrite};
use crate::replica::{self, Change, Changed};
use ringmq_protocol::body::{DataVersion, TopicConfig, TopicConfigSerializeWrapper};
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::ResponseCode;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Permission bits of a topic (and of the broker, `brokerPermission`): Java's `PermName`.
pub const PERM_PRIORITY: i32 = 8;
pub const PERM_READ: i32 = 4;
pub const PERM_WRITE: i32 = 2;
/// New topics may be created from this one on a first send.
pub const PERM_INHERIT: i32 = 1;

/// The topic producers name as `defaultTopic` when they send to a topic that does not exist yet.
pub const AUTO_CREATE_TOPIC: &str = "TBW102";
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";
/// Queues of [`SCHEDULE_TOPIC`]: one per delay level.
pub const SCHEDULE_TOPIC_QUEUE_NUMS: i32 = 18;
pub const BENCHMARK_TOPIC: &str = "BenchmarkTest";
pub const SELF_TEST_TOPIC: &str = "SELF_TEST_TOPIC";
pub const OFFSET_MOVED_EVENT: &str = "OFFSET_MOVED_EVENT";
pub const TRANS_HALF_TOPIC: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
pub const TRANS_OP_HALF_TOPIC: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
pub const TRANS_CHECK_MAX_TIME_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";
pub const TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";
/// Any topic starting with this is a system topic.
pub const SYSTEM_TOPIC_PREFIX: &str = "rmq_sys_";
pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
pub const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";
pub const TOPIC_MAX_LENGTH: usize = 127;
/// Most read or write queues a topic may have on one broker. Java sets no bound, but every answer
/// that lists a topic's queues grows with the count: GET_CONSUME_STATS spends up to ~250 bytes
/// per queue (with a topic name of the longest), so at this count it stays near 4 MiB, inside the
/// 16 MiB frame a client accepts, while a topic created with 2^31 queues would have the broker
/// build answers of hundreds of gigabytes. Real topics have tens to hundreds of queues per broker.
pub const MAX_QUEUE_NUMS: i32 = 16_384;

const SYSTEM_TOPICS: &[&str] = &[
    AUTO_CREATE_TOPIC,
    SCHEDULE_TOPIC,
    BENCHMARK_TOPIC,
    TRANS_HALF_TOPIC,
    TRACE_TOPIC,
    TRANS_OP_HALF_TOPIC,
    TRANS_CHECK_MAX_TIME_TOPIC,
    SELF_TEST_TOPIC,
    OFFSET_MOVED_EVENT,
];

/// Topics clients may not send to directly; the broker writes them itself.
const NOT_ALLOWED_SEND_TOPICS: &[&str] = &[
    SCHEDULE_TOPIC,
    TRANS_HALF_TOPIC,
    TRANS_OP_HALF_TOPIC,
    TRANS_CHECK_MAX_TIME_TOPIC,
    SELF_TEST_TOPIC,
    OFFSET_MOVED_EVENT,
];

/// Why a topic request is refused. The messages are Java's remarks, word for word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    #[error("The specified topic is blank.")]
    Blank,
    #[error("The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$")]
    IllegalCharacters(String),
    #[error("The specified topic is longer than topic max length.")]
    TooLong(String),
    #[error("The topic[{0}] is conflict with system topic.")]
    SystemTopic(String),
    #[error("Sending message to topic[{0}] is forbidden.")]
    SendForbidden(String),
    #[error("topic[{topic}] not exist, apply first please!")]
    DefaultTopicMissing {
        topic: String,
        default_topic: String,
    },
    #[error(
        "topic[{topic}] asks for {read} read and {write} write queues; each must be between 0 \
         and {MAX_QUEUE_NUMS}"
    )]
    QueueNums {
        topic: String,
        read: i32,
        write: i32,
    },
    #[error("topic[{topic}] not exist, apply first please!")]
    DefaultTopicNotInheritable {
        topic: String,
        default_topic: String,
        perm: i32,
    },
}

impl TopicError {
    /// The response code Java answers with for this refusal.
    pub fn response_code(&self) -> ResponseCode {
        match self {
            TopicError::SendForbidden(_) => ResponseCode::NO_PERMISSION,
            TopicError::DefaultTopicMissing { .. }
            | TopicError::DefaultTopicNotInheritable { .. } => ResponseCode::TOPIC_NOT_EXIST,
            _ => ResponseCode::SYSTEM_ERROR,
        }
    }
}

/// Java's `TopicValidator.validateTopic`: not blank, only `[%|a-zA-Z0-9_-]`, at most 127 bytes.
pub fn validate_topic(topic: &str) -> Result<(), TopicError> {
    if topic.trim().is_empty() {
        return Err(TopicError::Blank);
    }
    let legal = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'%' | b'|' | b'_' | b'-');
    if !topic.bytes().all(legal) {
        return Err(TopicError::IllegalCharacters(topic.to_owned()));
    }
    if topic.len() > TOPIC_MAX_LENGTH {
        return Err(TopicError::TooLong(topic.to_owned()));
    }
    Ok(())
}

/// Whether a topic may have `n` read (or write) queues: see [`MAX_QUEUE_NUMS`].
pub fn valid_queue_nums(n: i32) -> bool {
    (0..=MAX_QUEUE_NUMS).contains(&n)
}

/// The topic checks of Java's send path (`msgCheck`): a valid name the client may write to.
pub fn validate_send_topic(topic: &str) -> Result<(), TopicError> {
    validate_topic(topic)?;
    if NOT_ALLOWED_SEND_TOPICS.contains(&topic) {
        return Err(TopicError::SendForbidden(topic.to_owned()));
    }
    Ok(())
}

pub fn retry_topic(group: &str) -> String {
    format!("{RETRY_GROUP_TOPIC_PREFIX}{group}")
}

pub fn dlq_topic(group: &str) -> String {
    format!("{DLQ_GROUP_TOPIC_PREFIX}{group}")
}

/// A topic config with Java's `new TopicConfig(name)` defaults for the rest (`SINGLE_TAG`).
pub fn topic_config(name: &str, queue_nums: i32, perm: i32) -> TopicConfig {
    TopicConfig {
        topic_name: name.to_owned(),
        read_queue_nums: queue_nums,
        write_queue_nums: queue_nums,
        perm,
        topic_filter_type: "SINGLE_TAG".into(),
        ..TopicConfig::default()
    }
}

/// A topic that was there already, or that the call just made (the broker then re-registers with
/// the name servers, as Java's `registerBrokerAll` after a creation).
#[derive(Debug, Clone, PartialEq)]
pub enum Ensured {
    Existing(TopicConfig),
    Created(TopicConfig),
}

impl Ensured {
    pub fn config(&self) -> &TopicConfig {
        match self {
            Ensured::Existing(c) | Ensured::Created(c) => c,
        }
    }

    pub fn is_created(&self) -> bool {
        matches!(self, Ensured::Created(_))
    }
}

#[derive(Debug)]
pub struct TopicTable {
    file: JsonFile,
    table: BTreeMap<String, TopicConfig>,
    data_version: DataVersion,
    auto_create_topic_enable: bool,
    /// Topics named after this broker's cluster and name, reply and trace topics.
    own_system_topics: BTreeSet<String>,
    /// A change not yet on disk (its write failed).
    /// Topics changed since the last [`take_changes`](Self::take_changes).
    changes: Changed,
}

/// One change to the table, as the control core hands it to the other cores' copies.
pub type TopicChange = Change<TopicConfig>;

impl TopicTable {
    /// The system topics a fresh broker has, never written to disk (tests, tools).
    pub fn in_memory(config: &BrokerConfig) -> Self {
        let mut table = TopicTable {
            file: JsonFile::default(),
            table: BTreeMap::new(),
            data_version: fresh_version(),
            auto_create_topic_enable: config.auto_create_topic_enable,
            own_system_topics: BTreeSet::new(),
            changes: Changed::default(),
        };
        table.add_system_topics(config);
        table
    }

    /// The system topics, overlaid by `<storePathRootDir>/config/topics.json` if it exists (its
    /// entries win, as in Java). A torn file falls back to its `.bak` copy.
    pub fn load(config: &BrokerConfig) -> Result<Self, PersistError> {
        let path = config.config_dir().join("topics.json");
        let mut table = Self::in_memory(config);
        if let Some(saved) = load_json::<TopicConfigSerializeWrapper>(&path)? {
            for (name, mut topic) in saved.topic_config_table {
                if topic.topic_name.is_empty() {
                    topic.topic_name = name.clone();
                }
                if topic.topic_filter_type.is_empty() {
                    topic.topic_filter_type = "SINGLE_TAG".into();
                }
                table.table.insert(name, topic);
            }
            table.data_version = saved.data_version;
        }
        // Java strips TBW102's inherit bit on the first auto-create attempt when auto-creation is
        // off; doing it here means the name server never advertises it as inheritable either.
        if !config.auto_create_topic_enable {
            if let Some(tbw) = table.table.get_mut(AUTO_CREATE_TOPIC) {
                tbw.perm = PERM_READ | PERM_WRITE;
            }
        }
        table.file = JsonFile::at(path);
        Ok(table)
    }

    fn add_system_topics(&mut self, config: &BrokerConfig) {
        let rw = PERM_READ | PERM_WRITE;
        let enabled = |on: bool| PERM_INHERIT | if on { rw } else { 0 };
        let mut topics = vec![
            topic_config(SELF_TEST_TOPIC, 1, rw),
            topic_config(BENCHMARK_TOPIC, 1024, rw),
            // Java's `new TopicConfig(cluster)` keeps the class defaults: 16 queues.
            topic_config(
                &config.broker_cluster_name,
                16,
                enabled(config.cluster_topic_enable),
            ),
            topic_config(&config.broker_name, 1, enabled(config.broker_topic_enable)),
            topic_config(OFFSET_MOVED_EVENT, 1, rw),
            topic_config(SCHEDULE_TOPIC, SCHEDULE_TOPIC_QUEUE_NUMS, rw),
            topic_config(
                &format!("{}_REPLY_TOPIC", config.broker_cluster_name),
                1,
                rw,
            ),
        ];
        if config.auto_create_topic_enable {
            let n = config.default_topic_queue_nums;
            topics.push(topic_config(AUTO_CREATE_TOPIC, n, rw | PERM_INHERIT));
        }
        if config.trace_topic_enable {
            topics.push(topic_config(&config.msg_trace_topic_name, 1, rw));
        }
        for topic in topics {
            if !SYSTEM_TOPICS.contains(&topic.topic_name.as_str()) {
                self.own_system_topics.insert(topic.topic_name.clone());
            }
            self.table.insert(topic.topic_name.clone(), topic);
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.path()
    }

    pub fn get(&self, topic: &str) -> Option<&TopicConfig> {
        self.table.get(topic)
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &TopicConfig> {
        self.table.values()
    }

    pub fn data_version(&self) -> &DataVersion {
        &self.data_version
    }

    /// Java's `TopicValidator.isSystemTopic`: the fixed set, the `rmq_sys_` prefix, and the topics
    /// named after this broker's cluster and name.
    pub fn is_system_topic(&self, topic: &str) -> bool {
        SYSTEM_TOPICS.contains(&topic)
            || topic.starts_with(SYSTEM_TOPIC_PREFIX)
            || self.own_system_topics.contains(topic)
    }

    /// The system topics by name (Java's `TopicValidator.getSystemTopicSet`, with the topics
    /// named after this broker's cluster and name that Java adds to it at start).
    pub fn system_topics(&self) -> Vec<String> {
        let mut all: BTreeSet<String> = SYSTEM_TOPICS.iter().map(|t| (*t).to_owned()).collect();
        all.extend(self.own_system_topics.iter().cloned());
        all.into_iter().collect()
    }

    /// The checks of UPDATE_AND_CREATE_TOPIC and DELETE_TOPIC: a valid name, not a system topic.
    pub fn validate_admin_topic(&self, topic: &str) -> Result<(), TopicError> {
        validate_topic(topic)?;
        if self.is_system_topic(topic) {
            return Err(TopicError::SystemTopic(topic.to_owned()));
        }
        Ok(())
    }

    /// Adds or replaces a topic; returns the config it replaced.
    pub fn create_or_update(
        &mut self,
        config: TopicConfig,
    ) -> Result<Option<TopicConfig>, TopicError> {
        validate_topic(&config.topic_name)?;
        let (read, write) = (config.read_queue_nums, config.write_queue_nums);
        if !valid_queue_nums(read) || !valid_queue_nums(write) {
            return Err(TopicError::QueueNums {
                topic: config.topic_name,
                read,
                write,
            });
        }
        let name = config.topic_name.clone();
        let old = self.table.insert(name.clone(), config);
        self.changed(name);
        Ok(old)
    }

    /// Removes a topic; an absent topic changes nothing (no version bump).
    pub fn delete(&mut self, topic: &str) -> Option<TopicConfig> {
        let old = self.table.remove(topic)?;
        self.changed(topic.to_owned());
        Some(old)
    }

    /// Java's send-path topic handling (`msgCheck` + `createTopicInSendMessageMethod`): the topic
    /// if it exists, else a new one copied from `default_topic`, which must exist and carry
    /// [`PERM_INHERIT`]. The new topic gets `min(client_queue_nums, default's write queues)` queues
    /// and the default's permission without the inherit bit. Java's send handler then makes a
    /// `%RETRY%` topic with [`create_if_absent`](Self::create_if_absent) if this fails.
    pub fn auto_create_for_send(
        &mut self,
        topic: &str,
        default_topic: &str,
        client_queue_nums: i32,
        topic_sys_flag: i32,
    ) -> Result<Ensured, TopicError> {
        validate_send_topic(topic)?;
        if let Some(existing) = self.table.get(topic) {
            return Ok(Ensured::Existing(existing.clone()));
        }
        let Some(default) = self.table.get(default_topic) else {
            return Err(TopicError::DefaultTopicMissing {
                topic: topic.to_owned(),
                default_topic: default_topic.to_owned(),
            });
        };
        let mut perm = default.perm;
        if default_topic == AUTO_CREATE_TOPIC && !self.auto_create_topic_enable {
            perm = PERM_READ | PERM_WRITE;
        }
        if perm & PERM_INHERIT == 0 {
            return Err(TopicError::DefaultTopicNotInheritable {
                topic: topic.to_owned(),
                default_topic: default_topic.to_owned(),
                perm,
            });
        }
        let queue_nums = client_queue_nums.min(default.write_queue_nums).max(0);
        let config = TopicConfig {
            topic_sys_flag,
            topic_filter_type: default.topic_filter_type.clone(),
            ..topic_config(topic, queue_nums, perm & !PERM_INHERIT)
        };
        log::info!("topic {topic} created from default topic {default_topic}: {config:?}");
        self.table.insert(topic.to_owned(), config.clone());
        self.changed(topic.to_owned());
        Ok(Ensured::Created(config))
    }

    /// Java's `createTopicInSendMessageBackMethod`: the topic, made with these settings if absent.
    pub fn create_if_absent(
        &mut self,
        topic: &str,
        queue_nums: i32,
        perm: i32,
        topic_sys_flag: i32,
    ) -> Ensured {
        if let Some(existing) = self.table.get(topic) {
            return Ensured::Existing(existing.clone());
        }
        let config = TopicConfig {
            topic_sys_flag,
            ..topic_config(topic, queue_nums, perm)
        };
        log::info!("topic {topic} created: {config:?}");
        self.table.insert(topic.to_owned(), config.clone());
        self.changed(topic.to_owned());
        Ensured::Created(config)
    }

    /// `%RETRY%<group>`, readable and writable, with the group's `retryQueueNums` queues (1 by
    /// default): made on a consumer's heartbeat and on CONSUMER_SEND_MSG_BACK.
    pub fn create_retry_topic(
        &mut self,
        group: &str,
        retry_queue_nums: i32,
        topic_sys_flag: i32,
    ) -> Ensured {
        let topic = retry_topic(group);
        self.create_if_absent(
            &topic,
            retry_queue_nums,
            PERM_READ | PERM_WRITE,
            topic_sys_flag,
        )
    }

    /// `%DLQ%<group>`: one queue, readable and writable (Java's `DLQ_NUMS_PER_GROUP`).
    pub fn create_dlq_topic(&mut self, group: &str) -> Ensured {
        self.create_if_absent(&dlq_topic(group), 1, PERM_READ | PERM_WRITE, 0)
    }

    /// A topic the broker itself writes (Java's `createTopicInSendMessageBackMethod` with one
    /// queue): the transaction topics.
    pub fn create_internal_topic(&mut self, topic: &str) -> Ensured {
        self.create_if_absent(topic, 1, PERM_READ | PERM_WRITE, 0)
    }

    /// What changed since the last call, each topic once, as its copies must apply it.
    pub fn take_changes(&mut self) -> Vec<TopicChange> {
        self.changes.take(&self.table)
    }

    /// Every topic, as changes that turn a fresh copy into this table.
    pub fn snapshot(&self) -> Vec<TopicChange> {
        replica::snapshot(&self.table)
    }

    /// Applies a change made on the control core to this copy. A copy has no file and no
    /// version of its own: the control core's table is the one registered and written.
    pub fn apply(&mut self, change: TopicChange) {
        replica::apply(&mut self.table, change)
    }

    /// The table with its version: the REGISTER_BROKER and GET_ALL_TOPIC_CONFIG body.
    pub fn wrapper(&self) -> TopicConfigSerializeWrapper {
        TopicConfigSerializeWrapper {
            topic_config_table: self.table.clone(),
            data_version: self.data_version.clone(),
        }
    }

    /// Whether a change is not on disk yet because its write failed; [`persist`](Self::persist)
    /// retries it.
    pub fn is_dirty(&self) -> bool {
        self.file.is_dirty()
    }

    /// Writes the table now, blocking (start-up and shutdown; changes are written by
    /// [`take_write`](Self::take_write) off the core).
    pub fn persist(&mut self) -> Result<(), PersistError> {
        let contents = json::to_vec(&self.wrapper(), JsonStyle::Standard);
        self.file.write(&contents)
    }

    /// The write that brings the file up to memory, if a change is not on disk yet.
    pub fn take_write(&mut self) -> Option<TableWrite> {
        if !self.file.is_dirty() {
            return None;
        }
        let contents = json::to_vec(&self.wrapper(), JsonStyle::Standard);
        self.file.take_write(|| contents)
    }

    /// A write taken with [`take_write`](Self::take_write) failed: the next one tries again.
    pub fn mark_dirty(&mut self) {
        self.file.mark_dirty();
    }

    /// A new data version with no change to the table: Java's after a change of
    /// `brokerPermission`, which changes what [`registration`](Self::registration) sends, so the
    /// name servers take the next registration as news.
    pub fn new_version(&mut self) {
        self.data_version = next_version(&self.data_version);
    }

    /// What is registered with the name servers. A broker that is not both readable and
    /// writable (`brokerPermission`) registers every topic with its own permission instead, as
    /// Java does: clients then route sends, or pulls, around it.
    pub fn registration(&self, broker_permission: i32) -> TopicConfigSerializeWrapper {
        let mut wrapper = self.wrapper();
        if broker_permission & (PERM_READ | PERM_WRITE) != PERM_READ | PERM_WRITE {
            for topic in wrapper.topic_config_table.values_mut() {
                topic.perm = broker_permission;
            }
        }
        wrapper
    }

    /// Java's `nextVersion` and `persist` after every change: a new data version, the file due
    /// to be written (by the control core, see [`crate::core::Control::write_table`]), and the
    /// topic noted for [`take_changes`](Self::take_changes).
    fn changed(&mut self, topic: String) {
        self.changes.note(topic);
        self.data_version = next_version(&self.data_version);
        self.file.mark_dirty();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringmq_protocol::body::RegisterBrokerBody;
    use std::fs;
    use std::path::PathBuf;

    fn config(root: &Path) -> BrokerConfig {
        BrokerConfig {
            broker_name: "broker-a".into(),
            store_path_root_dir: root.to_owned(),
            ..BrokerConfig::default()
        }
    }

    fn temp_root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ringmq-topics-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn fresh_table_matches_what_a_java_broker_registers() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/wire-vectors/request-103-register_broker-json.bin");
        let frame = ringmq_protocol::RemotingCommand::decode(fs::read(path).unwrap().into());
        let body: RegisterBrokerBody = json::from_slice(&frame.unwrap().body).unwrap();
        let java = body.topic_config_serialize_wrapper.topic_config_table;
        let ours = TopicTable::in_memory(&config(Path::new("/unused")));
        assert_eq!(ours.wrapper().topic_config_table, java);
        assert_eq!(ours.data_version().counter, 0);
        assert!(ours.is_system_topic("broker-a") && ours.is_system_topic("DefaultCluster"));
        assert!(ours.is_system_topic("rmq_sys_anything") && !ours.is_system_topic("TopicTest"));
    }

    #[test]
    fn topic_names_are_validated_with_javas_remarks() {
        assert_eq!(validate_topic(" "), Err(TopicError::Blank));
        let err = validate_topic("a.b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
        );
        assert_eq!(err.response_code(), ResponseCode::SYSTEM_ERROR);
        assert!(validate_topic(&"t".repeat(127)).is_ok());
        assert!(matches!(
            validate_topic(&"t".repeat(128)),
            Err(TopicError::TooLong(_))
        ));
        assert!(validate_topic("%RETRY%group_1|x-y").is_ok());
        let err = validate_send_topic(SCHEDULE_TOPIC).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Sending message to topic[SCHEDULE_TOPIC_XXXX] is forbidden."
        );
        assert_eq!(err.response_code(), ResponseCode::NO_PERMISSION);
        let table = TopicTable::in_memory(&config(Path::new("/unused")));
        assert_eq!(
            table.validate_admin_topic("DefaultCluster"),
            Err(TopicError::SystemTopic("DefaultCluster".into()))
        );
        assert!(table.validate_admin_topic("TopicTest").is_ok());
    }

    #[test]
    fn a_topic_of_more_queues_than_any_answer_can_list_is_refused_and_nothing_changes() {
        let mut table = TopicTable::in_memory(&config(Path::new("/unused")));
        let v0 = table.data_version().counter;
        for (read, write) in [(1_000_000, 4), (4, i32::MAX), (-1, 4)] {
            let mut config = topic_config("Big", write, PERM_READ | PERM_WRITE);
            config.read_queue_nums = read;
            let err = table.create_or_update(config).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "topic[Big] asks for {read} read and {write} write queues; each must be \
                     between 0 and 16384"
                )
            );
        }
        assert!(table.get("Big").is_none());
        assert_eq!(table.data_version().counter, v0);
        let most = topic_config("Big", MAX_QUEUE_NUMS, PERM_READ | PERM_WRITE);
        assert!(table.create_or_update(most).is_ok());
    }

    #[test]
    fn auto_create_follows_tbw102() {
        let mut table = TopicTable::in_memory(&config(Path::new("/unused")));
        let v0 = table.data_version().counter;
        let made = table
            .auto_create_for_send("T1", AUTO_CREATE_TOPIC, 4, 0)
            .unwrap();
        assert!(made.is_created());
        let t1 = made.config();
        assert_eq!(
            (t1.read_queue_nums, t1.write_queue_nums, t1.perm),
            (4, 4, 6)
        );
        assert_eq!(t1.topic_filter_type, "SINGLE_TAG");
        assert_eq!(table.data_version().counter, v0 + 1);
        // Capped by the default topic's write queues (8).
        let t2 = table
            .auto_create_for_send("T2", AUTO_CREATE_TOPIC, 64, 0)
            .unwrap();
        assert_eq!(t2.config().write_queue_nums, 8);
        let again = table
            .auto_create_for_send("T1", AUTO_CREATE_TOPIC, 16, 0)
            .unwrap();
        assert_eq!(again, Ensured::Existing(t1.clone()));
        assert_eq!(table.data_version().counter, v0 + 2);

        // A default topic without the inherit bit, or none at all, refuses.
        let err = table.auto_create_for_send("T3", "T1", 4, 0).unwrap_err();
        assert!(matches!(
            err,
            TopicError::DefaultTopicNotInheritable { perm: 6, .. }
        ));
        assert_eq!(err.to_string(), "topic[T3] not exist, apply first please!");
        assert_eq!(err.response_code(), ResponseCode::TOPIC_NOT_EXIST);
        let err = table.auto_create_for_send("T3", "NOPE", 4, 0).unwrap_err();
        assert!(matches!(err, TopicError::DefaultTopicMissing { .. }));
        assert!(table.get("T3").is_none());

        let off = BrokerConfig {
            auto_create_topic_enable: false,
            ..config(Path::new("/unused"))
        };
        let mut table = TopicTable::in_memory(&off);
        assert!(table.get(AUTO_CREATE_TOPIC).is_none());
        assert!(table
            .auto_create_for_send("T1", AUTO_CREATE_TOPIC, 4, 0)
            .is_err());
    }

    #[test]
    fn retry_and_dlq_topics_are_made_once() {
        let mut table = TopicTable::in_memory(&config(Path::new("/unused")));
        let retry = table.create_retry_topic("G1", 1, 0);
        assert!(retry.is_created());
        assert_eq!(retry.config().topic_name, "%RETRY%G1");
        assert_eq!(
            (retry.config().write_queue_nums, retry.config().perm),
            (1, 6)
        );
        assert!(!table.create_retry_topic("G1", 1, 0).is_created());
        assert_eq!(table.create_dlq_topic("G1").config().topic_name, "%DLQ%G1");
        // A send to a retry topic is a plain lookup once it exists.
        let sent = table.auto_create_for_send("%RETRY%G1", AUTO_CREATE_TOPIC, 4, 0);
        assert!(!sent.unwrap().is_created());
    }

    #[test]
    fn persists_reloads_and_survives_a_torn_file() {
        let root = temp_root("persist");
        let cfg = config(&root);
        let mut table = TopicTable::load(&cfg).unwrap();
        // The control core writes the file after each change.
        let write = |t: &mut TopicTable| t.take_write().map(|w| w.run().unwrap());
        table
            .create_or_update(topic_config("TopicTest", 4, PERM_READ | PERM_WRITE))
            .unwrap();
        write(&mut table).expect("a change is due to be written");
        table.create_retry_topic("G1", 1, 0);
        write(&mut table);
        assert!(table.delete("TopicTest").is_some());
        write(&mut table);
        assert!(table.delete("TopicTest").is_none());
        assert!(write(&mut table).is_none(), "nothing changed");
        let version = table.data_version().clone();
        assert_eq!(version.counter, 3);

        let again = TopicTable::load(&cfg).unwrap();
        assert_eq!(again.wrapper(), table.wrapper());
        assert!(!again.is_dirty());

        // Cut short by a crash: the backup (the write before the last) is used.
        let path = root.join("config/topics.json");
        let full = fs::read(&path).unwrap();
        fs::write(&path, &full[..full.len() / 2]).unwrap();
        let recovered = TopicTable::load(&cfg).unwrap();
        assert_eq!(recovered.data_version().counter, 2);
        assert!(recovered.get("TopicTest").is_some());

        // Both unreadable: an error naming the file.
        fs::write(&path, b"{").unwrap();
        fs::write(root.join("config/topics.json.bak"), b"").unwrap();
        let err = TopicTable::load(&cfg).unwrap_err();
        assert!(err.to_string().contains("topics.json"), "{err}");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_java_topics_json_loads() {
        let root = temp_root("java");
        fs::create_dir_all(root.join("config")).unwrap();
        // What Java's ConfigManager.persist writes (fastjson, pretty).
        let java = "{\n\t\"dataVersion\":{\n\t\t\"counter\":41,\n\t\t\"timestamp\":1700000000000\n\t},\n\
            \t\"topicConfigTable\":{\n\t\t\"TBW102\":{\n\t\t\t\"order\":false,\n\t\t\t\"perm\":7,\n\
            \t\t\t\"readQueueNums\":8,\n\t\t\t\"topicFilterType\":\"SINGLE_TAG\",\n\
            \t\t\t\"topicName\":\"TBW102\",\n\t\t\t\"topicSysFlag\":0,\n\t\t\t\"writeQueueNums\":8\n\
            \t\t},\n\t\t\"TopicTest\":{\n\t\t\t\"order\":true,\n\t\t\t\"perm\":6,\n\
            \t\t\t\"readQueueNums\":2,\n\t\t\t\"topicFilterType\":\"SINGLE_TAG\",\n\
            \t\t\t\"topicName\":\"TopicTest\",\n\t\t\t\"topicSysFlag\":0,\n\t\t\t\"writeQueueNums\":4\n\
            \t\t}\n\t}\n}";
        fs::write(root.join("config/topics.json"), java).unwrap();
        let cfg = BrokerConfig {
            auto_create_topic_enable: false,
            ..config(&root)
        };
        let mut table = TopicTable::load(&cfg).unwrap();
        assert_eq!(table.data_version().counter, 41);
        assert_eq!(table.data_version().timestamp, 1_700_000_000_000);
        let t = table.get("TopicTest").unwrap();
        assert_eq!(
            (t.read_queue_nums, t.write_queue_nums, t.order),
            (2, 4, true)
        );
        assert!(
            table.get(SCHEDULE_TOPIC).is_some(),
            "system topics are kept"
        );
        // Auto-creation is off: the saved TBW102 no longer lends itself.
        assert_eq!(table.get(AUTO_CREATE_TOPIC).unwrap().perm, 6);
        let err = table.auto_create_for_send("New", AUTO_CREATE_TOPIC, 4, 0);
        assert!(matches!(
            err,
            Err(TopicError::DefaultTopicNotInheritable { .. })
        ));
        fs::remove_dir_all(&root).unwrap();
    }
}
