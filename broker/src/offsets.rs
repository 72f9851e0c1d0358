//! Committed consumer offsets (Java's `ConsumerOffsetManager`): `topic@group` -> queue -> offset.
//!
//! A commit only changes memory and marks the table dirty; the broker calls [`ConsumerOffsets::
//! persist`] every `flushConsumerOffsetInterval` and at shutdown. The file is
//! `<storePathRootDir>/config/consumerOffset.json` in the shape Java writes (queue ids as bare
//! numeric keys), written crash-safely, so offsets carry over from a Java broker and back.

use crate::config::BrokerConfig;
use crate::handlers::Refusal;
use crate::hops::{Answer, Ask};
use crate::persist::{load_json, JsonFile, PersistError, TableWrite};
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::ResponseCode;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type QueueOffsets = BTreeMap<i32, i64>;

ringmq_protocol::json_bean! {
    /// The persisted form.
    pub struct ConsumerOffsetFile {
        pub offset_table: BTreeMap<String, BTreeMap<i32, i64>> => "offsetTable",
    }
}

/// Offsets an admin request deleted: a group's (DELETE_SUBSCRIPTIONGROUP with `cleanOffset`) or
/// a topic's (DELETE_TOPIC_IN_BROKER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForgottenOffsets {
    OfGroup(String),
    OfTopic(String),
}

fn key(topic: &str, group: &str) -> String {
    format!("{topic}@{group}")
}

/// `topic@group` as (topic, group); Java ignores keys that do not split in exactly two.
fn split_key(key: &str) -> Option<(&str, &str)> {
    let (topic, group) = key.split_once('@')?;
    (!group.contains('@')).then_some((topic, group))
}

#[derive(Debug, Default)]
pub struct ConsumerOffsets {
    file: JsonFile,
    table: BTreeMap<String, QueueOffsets>,
}

impl ConsumerOffsets {
    /// A table never written to disk (tests, tools).
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Loads `<storePathRootDir>/config/consumerOffset.json`; a missing file is an empty table, a
    /// torn one falls back to its `.bak` copy.
    pub fn load(config: &BrokerConfig) -> Result<Self, PersistError> {
        Self::load_from(&config.config_dir().join("consumerOffset.json"))
    }

    pub fn load_from(path: &Path) -> Result<Self, PersistError> {
        let table = load_json::<ConsumerOffsetFile>(path)?
            .map(|f| f.offset_table)
            .unwrap_or_default();
        Ok(Self {
            file: JsonFile::at(path.to_owned()),
            table,
        })
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.path()
    }

    /// Records `offset` (the next message to consume) for a queue. Going backwards is allowed:
    /// clients do it after a reset; Java only logs it.
    pub fn commit(&mut self, group: &str, topic: &str, queue_id: i32, offset: i64) {
        let queues = self.table.entry(key(topic, group)).or_default();
        if let Some(old) = queues.insert(queue_id, offset) {
            if offset < old {
                log::debug!(
                    "offset of {topic}@{group} queue {queue_id} moved back: {old} -> {offset}"
                );
            }
        }
        self.file.mark_dirty();
    }

    /// The committed offset, or `None` (Java answers -1 and QUERY_NOT_FOUND).
    pub fn query(&self, group: &str, topic: &str, queue_id: i32) -> Option<i64> {
        self.table.get(&key(topic, group))?.get(&queue_id).copied()
    }

    /// Every queue's committed offset of one group on one topic.
    pub fn queue_offsets(&self, group: &str, topic: &str) -> Option<&BTreeMap<i32, i64>> {
        self.table.get(&key(topic, group))
    }

    /// The groups with offsets on `topic` (Java's `whichGroupByTopic`).
    pub fn groups_of_topic(&self, topic: &str) -> BTreeSet<String> {
        self.table
            .keys()
            .filter_map(|k| split_key(k))
            .filter(|(t, _)| *t == topic)
            .map(|(_, g)| g.to_owned())
            .collect()
    }

    /// The topics `group` has offsets on (Java's `whichTopicByConsumer`).
    pub fn topics_of_group(&self, group: &str) -> BTreeSet<String> {
        self.table
            .keys()
            .filter_map(|k| split_key(k))
            .filter(|(_, g)| *g == group)
            .map(|(t, _)| t.to_owned())
            .collect()
    }

    /// Forgets every offset of `group` (DELETE_SUBSCRIPTIONGROUP with cleanOffset). Returns how
    /// many topics it had offsets on.
    pub fn remove_group(&mut self, group: &str) -> usize {
        self.remove_where(|_, g| g == group)
    }

    /// Forgets every group's offsets on `topic` (after DELETE_TOPIC).
    pub fn remove_topic(&mut self, topic: &str) -> usize {
        self.remove_where(|t, _| t == topic)
    }

    /// Forgets what an admin request deleted.
    pub fn forget(&mut self, forgotten: &ForgottenOffsets) -> usize {
        match forgotten {
            ForgottenOffsets::OfGroup(group) => self.remove_group(group),
            ForgottenOffsets::OfTopic(topic) => self.remove_topic(topic),
        }
    }

    fn remove_where(&mut self, doomed: impl Fn(&str, &str) -> bool) -> usize {
        let before = self.table.len();
        self.table
            .retain(|k, _| !split_key(k).is_some_and(|(t, g)| doomed(t, g)));
        let removed = before - self.table.len();
        if removed > 0 {
            self.file.mark_dirty();
        }
        removed
    }

    /// Copies one topic's offsets from `src_group` to `dest_group` (CLONE_GROUP_OFFSET).
    pub fn clone_offsets(&mut self, src_group: &str, dest_group: &str, topic: &str) {
        if let Some(queues) = self.table.get(&key(topic, src_group)).cloned() {
            self.table.insert(key(topic, dest_group), queues);
            self.file.mark_dirty();
        }
    }

    /// The offsets of the queues `keep` accepts, as a table of its own that is never written
    /// (a core's part; the control core writes the whole).
    pub fn owned_part(&self, keep: impl Fn(&str, i32) -> bool) -> Self {
        let mut table = BTreeMap::new();
        for (k, queues) in &self.table {
            let Some((topic, _)) = split_key(k) else {
                continue;
            };
            let kept: QueueOffsets = queues
                .iter()
                .filter(|(q, _)| keep(topic, **q))
                .map(|(q, o)| (*q, *o))
                .collect();
            if !kept.is_empty() {
                table.insert(k.clone(), kept);
            }
        }
        Self {
            file: JsonFile::default(),
            table,
        }
    }

    /// The whole table (`topic@group` -> queue -> offset).
    pub fn table(&self) -> &BTreeMap<String, BTreeMap<i32, i64>> {
        &self.table
    }

    /// Takes in a core's part; marks the table dirty if anything differs.
    pub fn absorb(&mut self, part: BTreeMap<String, BTreeMap<i32, i64>>) {
        for (k, queues) in part {
            let mine = self.table.entry(k).or_default();
            for (q, o) in queues {
                if mine.insert(q, o) != Some(o) {
                    self.file.mark_dirty();
                }
            }
        }
    }

    /// Whether commits have happened since the last successful [`persist`](Self::persist).
    pub fn is_dirty(&self) -> bool {
        self.file.is_dirty()
    }

    /// Writes the table if it changed since the last write; returns whether it wrote. A failed
    /// write leaves the table dirty, so the next call tries again.
    pub fn persist(&mut self) -> Result<bool, PersistError> {
        let table = &self.table;
        self.file.write_if_dirty(|| encode(table))
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

/// `consumerOffset.json` as Java writes it.
fn encode(table: &BTreeMap<String, QueueOffsets>) -> Vec<u8> {
    let file = ConsumerOffsetFile {
        offset_table: table.clone(),
    };
    json::to_vec(&file, JsonStyle::Fastjson)
}

// Gathering offsets of every core: each core holds those of the queues it owns.
impl crate::core::BrokerCore {
    /// Forgets a group's or a topic's committed offsets on every core (control core only). The
    /// offsets file forgets them at its next write, even if a gather already under way still
    /// carries them.
    pub async fn forget_offsets(&self, what: ForgottenOffsets) -> Result<(), Refusal> {
        let control = self.control()?;
        self.offsets.borrow_mut().forget(&what);
        for (core, answer) in self.mesh.ask_all(|| Ask::ForgetOffsets(what.clone())).await {
            answer.map_err(|e| {
                Refusal::new(
                    ResponseCode::SYSTEM_ERROR,
                    format!("the offsets on core {core} were not removed: {e}"),
                )
            })?;
        }
        control.forgotten_offsets.borrow_mut().push(what);
        Ok(())
    }

    /// Topics `group` has committed offsets on, on any core.
    pub async fn topics_of_group(&self, group: &str) -> BTreeSet<String> {
        let here = self.offsets.borrow().topics_of_group(group);
        self.names_everywhere(here, || Ask::TopicsOfGroup(group.to_owned()))
            .await
    }

    /// Groups with committed offsets on `topic`, on any core.
    pub async fn groups_of_topic(&self, topic: &str) -> BTreeSet<String> {
        let here = self.offsets.borrow().groups_of_topic(topic);
        self.names_everywhere(here, || Ask::GroupsOfTopic(topic.to_owned()))
            .await
    }

    /// `here`, and the names every other core answers `ask` with (a core that cannot answer
    /// adds none).
    async fn names_everywhere(
        &self,
        mut here: BTreeSet<String>,
        ask: impl Fn() -> Ask,
    ) -> BTreeSet<String> {
        for (_, answer) in self.mesh.ask_all(ask).await {
            if let Ok(Answer::Names(more)) = answer {
                here.extend(more);
            }
        }
        here
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn temp_file(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ringmq-offsets-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir.join("config").join("consumerOffset.json")
    }

    #[test]
    fn commits_query_and_group_views() {
        let mut o = ConsumerOffsets::in_memory();
        assert_eq!(o.query("G1", "T", 0), None);
        o.commit("G1", "T", 0, 12);
        o.commit("G1", "T", 1, 7);
        o.commit("G1", "U", 0, 1);
        o.commit("G2", "T", 0, 3);
        o.commit("G1", "T", 0, 10);
        assert_eq!(o.query("G1", "T", 0), Some(10));
        assert_eq!(o.queue_offsets("G1", "T").map(|q| q.len()), Some(2));
        assert_eq!(
            o.groups_of_topic("T"),
            ["G1", "G2"].map(String::from).into()
        );
        assert_eq!(o.topics_of_group("G1"), ["T", "U"].map(String::from).into());
        o.clone_offsets("G1", "G3", "T");
        assert_eq!(o.query("G3", "T", 1), Some(7));
        assert_eq!(o.remove_group("G1"), 2);
        assert_eq!(o.query("G1", "T", 1), None);
        assert_eq!(o.remove_topic("T"), 2);
        assert!(o.groups_of_topic("T").is_empty());
        assert!(!o.persist().unwrap(), "in memory: nothing written");
    }

    #[test]
    fn round_trip_in_javas_shape() {
        let path = temp_file("roundtrip");
        let mut o = ConsumerOffsets::load_from(&path).unwrap();
        assert!(!o.is_dirty());
        o.commit("G1", "T", 0, 12);
        o.commit("G1", "T", 1, 7);
        assert!(o.persist().unwrap());
        assert!(!o.persist().unwrap(), "clean: not written again");
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text, r#"{"offsetTable":{"T@G1":{0:12,1:7}}}"#);
        let again = ConsumerOffsets::load_from(&path).unwrap();
        assert_eq!(again.query("G1", "T", 1), Some(7));
        assert!(!again.is_dirty());
        fs::remove_dir_all(path.parent().unwrap().parent().unwrap()).unwrap();
    }

    #[test]
    fn java_files_load_in_either_key_style() {
        let path = temp_file("java");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        // Java's pretty fastjson output, bare Integer keys.
        let java = "{\n\t\"offsetTable\":{\n\t\t\"%RETRY%please_rename_unique_group_name_4@\
                    please_rename_unique_group_name_4\":{0:0\n\t\t},\n\t\t\
                    \"TopicTest@please_rename_unique_group_name_4\":{0:250,1:249,2:250,3:251\n\t\t}\n\t}\n}";
        fs::write(&path, java).unwrap();
        let o = ConsumerOffsets::load_from(&path).unwrap();
        let group = "please_rename_unique_group_name_4";
        assert_eq!(o.query(group, "TopicTest", 3), Some(251));
        assert_eq!(
            o.query(group, "%RETRY%please_rename_unique_group_name_4", 0),
            Some(0)
        );
        assert_eq!(o.topics_of_group(group).len(), 2);
        // Standard JSON, quoted keys.
        fs::write(&path, r#"{"offsetTable":{"T@G":{"0":5,"1":6}}}"#).unwrap();
        assert_eq!(
            ConsumerOffsets::load_from(&path)
                .unwrap()
                .query("G", "T", 1),
            Some(6)
        );
        fs::remove_dir_all(path.parent().unwrap().parent().unwrap()).unwrap();
    }

    #[test]
    fn torn_file_falls_back_to_bak() {
        let path = temp_file("torn");
        let mut o = ConsumerOffsets::load_from(&path).unwrap();
        o.commit("G", "T", 0, 1);
        o.persist().unwrap();
        o.commit("G", "T", 0, 2);
        o.persist().unwrap();
        let full = fs::read(&path).unwrap();
        fs::write(&path, &full[..full.len() - 5]).unwrap();
        let recovered = ConsumerOffsets::load_from(&path).unwrap();
        assert_eq!(
            recovered.query("G", "T", 0),
            Some(1),
            "the write before the last"
        );

        // Java's writer deletes the file before renaming the new one in: only the .bak is left.
        fs::remove_file(&path).unwrap();
        let recovered = ConsumerOffsets::load_from(&path).unwrap();
        assert_eq!(recovered.query("G", "T", 0), Some(1));

        fs::write(&path, b"").unwrap();
        fs::write(
            path.with_file_name("consumerOffset.json.bak"),
            b"{\"offsetTable\":",
        )
        .unwrap();
        let err = ConsumerOffsets::load_from(&path).unwrap_err();
        assert!(matches!(err, PersistError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("consumerOffset.json"), "{err}");
        fs::remove_dir_all(path.parent().unwrap().parent().unwrap()).unwrap();
    }
}
